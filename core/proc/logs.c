/* logs.c - supervisor.log lines and service output drains. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sysg/plugin.h>

#include "base/base.h"
#include "logs.h"

static const char *level_name(int level)
{
	switch (level) {
	case SYSG_LOG_ERROR: return "ERROR";
	case SYSG_LOG_WARN: return "WARN";
	case SYSG_LOG_INFO: return "INFO";
	case SYSG_LOG_DEBUG: return "DEBUG";
	default: return "TRACE";
	}
}

/* Open NAME in the directory DIRFD for appending: never through a
 * symlink, never a FIFO or device (a planted one must not redirect or
 * block the supervisor). The fd or -errno. */
static int open_append(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
			O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0640);
	struct stat st;

	if (fd < 0)
		return errno == ELOOP ? -ELOOP : -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int sysg_log_open(struct sysg_log *lg, const char *dir, int level)
{
	int rc;

	memset(lg, 0, sizeof(*lg));
	lg->fd = lg->dirfd = -1;
	lg->level = level;
	rc = sysg_mkdir_p(dir, 0700, 0);
	if (rc < 0) {
		sysg_errf(lg->why, sizeof(lg->why), "cannot create the log "
			  "directory %s: %s", dir, strerror(-rc));
		return rc;
	}
	if (!(lg->dir = strdup(dir)))
		return -ENOMEM;
	lg->dirfd = sysg_dir_open_trusted(dir, "log directory", lg->why,
					  sizeof(lg->why));
	if (lg->dirfd < 0)
		return lg->dirfd;
	lg->fd = open_append(lg->dirfd, "supervisor.log");
	rc = lg->fd < 0 ? lg->fd : 0;
	if (rc < 0)
		sysg_errf(lg->why, sizeof(lg->why), "cannot open %s/supervisor.log: "
			  "%s", dir, rc == -ELOOP ? "it is a symbolic link" :
			  rc == -EINVAL ? "not a regular file" : strerror(-rc));
	return rc;
}

void sysg_log_close(struct sysg_log *lg)
{
	if (lg->fd >= 0)
		close(lg->fd);
	if (lg->dirfd >= 0)
		close(lg->dirfd);
	lg->fd = lg->dirfd = -1;
	free(lg->dir);
	lg->dir = NULL;
}

void sysg_log(struct sysg_log *lg, int level, const char *fmt, ...)
{
	char line[2 * SYSG_ERR_MAX], ts[40];
	va_list ap;
	int n;

	if (!lg || ((level > lg->level || lg->fd < 0) &&
		    (!lg->echo || level > lg->echo_level)))
		return;
	sysg_format_iso8601(sysg_wall_ms(), ts, sizeof(ts));
	n = snprintf(line, sizeof(line), "%s %-5s ", ts, level_name(level));
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	if (lg->fd >= 0 && level <= lg->level &&
	    write(lg->fd, line, (size_t)n) != n)
		lg->dropped++;
	if (lg->echo && level <= lg->echo_level) {
		fwrite(line, 1, (size_t)n, lg->echo);
		fflush(lg->echo);
	}
}

int sysg_log_open_service(const struct sysg_log *lg, const char *svc,
			  const char *kind)
{
	char name[SYSG_NAME_MAX + 16];  /* "<svc>_<kind>.log" */

	if ((size_t)snprintf(name, sizeof(name), "%s_%s.log", svc, kind) >=
	    sizeof(name))
		return -ENAMETOOLONG;
	return lg->dirfd >= 0 ? open_append(lg->dirfd, name) : -EBADF;
}

/* ------------------------------------------------------------------ */
/* Drains                                                              */
/* ------------------------------------------------------------------ */

static void echo_flush(struct sysg_drain *d)
{
	if (!d->linelen)
		return;
	fprintf(d->echo, "[%s:stderr] %.*s\n", d->svc, (int)d->linelen,
		d->line);
	d->linelen = 0;
}

static void echo_feed(struct sysg_drain *d, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			if (!d->linelen)
				fprintf(d->echo, "[%s:stderr] \n", d->svc);
			echo_flush(d);
			continue;
		}
		if (d->linelen == SYSG_DRAIN_LINE_MAX)
			echo_flush(d);
		d->line[d->linelen++] = buf[i];
	}
	fflush(d->echo);
}

int sysg_drain_pump(struct sysg_drain *d)
{
	char buf[4 * SYSG_IO_CHUNK];
	ssize_t n;

	for (;;) {
		n = read(d->io.fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 || errno != EAGAIN;
		if (d->log_fd >= 0 && write(d->log_fd, buf, (size_t)n) != n &&
		    d->dropped)
			(*d->dropped)++;
		if (d->echo)
			echo_feed(d, buf, (size_t)n);
	}
}

static void on_drain(struct sysg_io *io, uint32_t events)
{
	struct sysg_drain *d = io->arg;

	(void)events;
	if (!sysg_drain_pump(d))
		return;
	if (d->on_eof)
		d->on_eof(d);
	else
		sysg_drain_free(d);
}

struct sysg_drain *sysg_drain_new(struct sysg_loop *l, int pipe_fd,
				  int log_fd, const char *svc, FILE *echo,
				  uint64_t *dropped)
{
	struct sysg_drain *d = calloc(1, sizeof(*d));

	if (d && echo && !(d->line = malloc(SYSG_DRAIN_LINE_MAX))) {
		free(d);
		d = NULL;
	}
	if (!d) {
		close(pipe_fd);
		return NULL;
	}
	d->io.fd = pipe_fd;
	d->io.cb = on_drain;
	d->io.arg = d;
	d->log_fd = log_fd;
	d->echo = echo;
	d->svc = svc;
	d->dropped = dropped;
	d->loop = l;
	if (sysg_loop_io_add(l, &d->io, EPOLLIN) < 0) {
		close(pipe_fd);
		free(d->line);
		free(d);
		return NULL;
	}
	return d;
}

void sysg_drain_free(struct sysg_drain *d)
{
	if (!d)
		return;
	sysg_loop_io_del(d->loop, &d->io);
	if (d->echo) {
		echo_flush(d);
		fflush(d->echo);
	}
	close(d->io.fd);
	free(d->line);
	free(d);
}
