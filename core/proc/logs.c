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
#include "logrotate.h"
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

/* 1 when the file of FD is NAME in DIRFD (not following a symlink). */
static int is_named(int dirfd, const char *name, int fd)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 &&
	       fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int sysg_log_reopen_main(struct sysg_log *lg)
{
	int fd;

	if (lg->dirfd < 0 || (lg->fd >= 0 &&
			      is_named(lg->dirfd, "supervisor.log", lg->fd)))
		return 0;
	fd = open_append(lg->dirfd, "supervisor.log");
	if (fd < 0)
		return fd;
	if (lg->fd >= 0)
		close(lg->fd);
	lg->fd = fd;
	return 1;
}

int sysg_log_service_path(const char *dir, const char *svc, const char *kind,
			  char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/%s_%s.log", dir, svc, kind) >= len)
		return -ENAMETOOLONG;
	return 0;
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

static void line_emit(struct sysg_drain *d)
{
	d->on_line(d->line_arg, d->svc, d->stream, d->line, d->linelen);
	d->linelen = 0;
}

static void line_feed(struct sysg_drain *d, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			line_emit(d);
			continue;
		}
		if (d->linelen == SYSG_DRAIN_LINE_MAX)
			line_emit(d);
		d->line[d->linelen++] = buf[i];
	}
}

static void put(struct sysg_drain *d, const char *buf, size_t n)
{
	if (!n || d->log_fd < 0)
		return;
	d->mid_line = buf[n - 1] != '\n';
	if (write(d->log_fd, buf, n) != (ssize_t)n) {
		if (d->dropped)
			(*d->dropped)++;
		return;
	}
	d->size += (int64_t)n;
}

static void switch_now(struct sysg_drain *d)
{
	struct stat st;

	if (d->close_fd >= 0)
		close(d->close_fd);
	d->close_fd = -1;
	d->log_fd = d->next_fd;
	d->next_fd = -1;
	d->mid_line = 0;
	d->size = fstat(d->log_fd, &st) == 0 ? (int64_t)st.st_size : 0;
}

void sysg_drain_switch(struct sysg_drain *d, int fd, int old_fd)
{
	if (d->next_fd >= 0)
		switch_now(d);  /* an earlier switch still pending */
	d->next_fd = fd;
	d->close_fd = old_fd;
	if (!d->mid_line)
		switch_now(d);
}

/* Write BUF to the file, rotating it at a line boundary once it is
 * full: at the first line end that makes it max_size or more (a chunk
 * read from the pipe may end inside a line, so its last line end can be
 * short of max_size); or anywhere once it is twice full of one endless
 * line. */
static void drain_write(struct sysg_drain *d, const char *buf, size_t n)
{
	if (d->next_fd >= 0) {
		/* finish the line in the old file, then switch */
		const char *nl = memchr(buf, '\n', n);
		size_t k = nl ? (size_t)(nl - buf) + 1 : n;

		put(d, buf, k);
		if (!nl)
			return;
		switch_now(d);
		buf += k;
		n -= k;
	}
	if (d->max_size > 0 && d->rotate && d->size + (int64_t)n >= d->max_size) {
		int64_t full = d->max_size - d->size;   /* bytes until full */
		size_t from = full > 1 ? (size_t)(full - 1) : 0;
		const char *nl = memchr(buf + from, '\n', n - from);
		size_t k = nl ? (size_t)(nl - buf) + 1 : n;

		if (nl || d->size + (int64_t)n >= 2 * d->max_size) {
			put(d, buf, k);
			d->rotate(d);
			buf += k;
			n -= k;
		}
	}
	put(d, buf, n);
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
		drain_write(d, buf, (size_t)n);
		if (d->on_line)
			line_feed(d, buf, (size_t)n);
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
				  int log_fd, const char *svc, int stream,
				  sysg_line_fn on_line, void *line_arg,
				  uint64_t *dropped)
{
	struct sysg_drain *d = calloc(1, sizeof(*d));

	if (d && on_line && !(d->line = malloc(SYSG_DRAIN_LINE_MAX))) {
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
	d->next_fd = d->close_fd = -1;
	d->on_line = on_line;
	d->line_arg = line_arg;
	d->stream = stream;
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
	if (d->on_line && d->linelen)
		line_emit(d);
	close(d->io.fd);
	if (d->close_fd >= 0)
		close(d->close_fd);
	free(d->line);
	free(d);
}
