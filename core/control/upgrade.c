/* upgrade.c - live upgrade: the handoff and the exec; see upgrade.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "upgrade.h"
#include "base/base.h"

#define HANDOFF_MAX (16 << 20)

void sysg_handoff_print_versions(void)
{
	for (int v = SYSG_HANDOFF_MIN; v <= SYSG_HANDOFF_VERSION; v++)
		printf("%d%s", v, v == SYSG_HANDOFF_VERSION ? "\n" : " ");
}

/* ---------------------------------------------------------- preflight */

/* Read what the child writes on FD until EOF or the deadline. */
static void read_until(int fd, char *buf, size_t len, int64_t deadline)
{
	size_t n = 0;

	while (n + 1 < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - sysg_now_ms();
		ssize_t k;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		k = read(fd, buf + n, len - 1 - n);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
}

/* 1 when the space-separated list S names version V. */
static int lists(const char *s, int v)
{
	char *end;

	while (*s) {
		long x = strtol(s, &end, 10);

		if (end == s)
			return 0;
		if (x == v)
			return 1;
		s = end;
		while (*s == ' ' || *s == '\n')
			s++;
	}
	return 0;
}

int sysg_upgrade_preflight(const char *binary, char *err, size_t errlen)
{
	int64_t deadline = sysg_now_ms() + SYSG_UPGRADE_PREFLIGHT_MS;
	char out[256];
	int p[2], status = 0;
	pid_t pid;

	if (access(binary, X_OK) < 0) {
		sysg_errf(err, errlen, "%s: %s", binary, strerror(errno));
		return -errno;
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		dup2(p[1], 1);
		execl(binary, "sysg", "__handoff-versions", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	read_until(p[0], out, sizeof(out), deadline);
	close(p[0]);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (sysg_now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			sysg_errf(err, errlen, "the new binary %s did not answer "
				  "within %d ms", binary,
				  SYSG_UPGRADE_PREFLIGHT_MS);
			return -ETIMEDOUT;
		}
		usleep(10000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		sysg_errf(err, errlen, "the new binary %s fails to start (%s "
			  "%d)", binary, WIFEXITED(status) ? "exit status" :
			  "signal", WIFEXITED(status) ? WEXITSTATUS(status) :
			  WTERMSIG(status));
		return -ENOEXEC;
	}
	if (!lists(out, SYSG_HANDOFF_VERSION)) {
		out[strcspn(out, "\n")] = '\0';
		sysg_errf(err, errlen, "the new binary %s does not understand "
			  "handoff version %d (it reads: %s)", binary,
			  SYSG_HANDOFF_VERSION, out[0] ? out : "none");
		return -EPROTO;
	}
	return 0;
}

/* --------------------------------------------------------------- exec */

static void set_cloexec(int fd, int on)
{
	int fl = fd >= 0 ? fcntl(fd, F_GETFD) : -1;

	if (fl >= 0)
		fcntl(fd, F_SETFD, on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC);
}

static json_t *handoff_doc(const struct sysg_handoff *h, int prev_fd)
{
	return json_pack("{s:i, s:i, s:i, s:i, s:i, s:b, s:s, s:s, s:s?, "
			 "s:s?, s:s?, s:b, s:o}",
			 "handoff_version", SYSG_HANDOFF_VERSION,
			 "generation", h->generation, "lock_fd", h->lock_fd,
			 "ctl_fd", h->ctl_fd, "prev_exe_fd", prev_fd,
			 "fallback", h->fallback, "state_dir", h->state_dir,
			 "log_dir", h->log_dir, "config", h->config,
			 "state_backend", h->state_backend,
			 "plugin_dirs", h->plugin_dirs, "sys", h->sys,
			 "services", h->services ? json_incref(h->services) :
			 json_array());
}

/* Exec PATH with H (PREV_FD: the binary to fall back to, kept open). */
static int exec_with(const char *path, const struct sysg_handoff *h,
		     int prev_fd, char *err, size_t errlen)
{
	json_t *doc = handoff_doc(h, prev_fd);
	int fd = memfd_create("sysg-handoff", 0), keep[3], rc;
	char num[16];

	keep[0] = h->lock_fd;
	keep[1] = h->ctl_fd;
	keep[2] = prev_fd;
	if (!doc || fd < 0 || json_dumpfd(doc, fd, JSON_COMPACT) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		rc = fd < 0 ? -errno : -ENOMEM;
		sysg_errf(err, errlen, "cannot write the handoff: %s",
			  strerror(-rc));
		json_decref(doc);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	json_decref(doc);
	snprintf(num, sizeof(num), "%d", fd);
	for (int i = 0; i < 3; i++)
		set_cloexec(keep[i], 0);
	fflush(NULL);
	execl(path, "sysg", "__resume", num, (char *)NULL);
	rc = -errno;
	for (int i = 0; i < 3; i++)
		set_cloexec(keep[i], 1);
	close(fd);
	sysg_errf(err, errlen, "cannot execute %s: %s", path, strerror(-rc));
	return rc;
}

int sysg_upgrade_exec(const char *binary, const struct sysg_handoff *h,
		      char *err, size_t errlen)
{
	int prev = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int rc = exec_with(binary, h, prev, err, errlen);

	if (prev >= 0)
		close(prev);
	return rc;
}

int sysg_handoff_fall_back(struct sysg_handoff *h, char *err, size_t errlen)
{
	char path[64];

	if (h->prev_exe_fd < 0) {
		sysg_errf(err, errlen, "no previous binary to go back to");
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", h->prev_exe_fd);
	h->fallback = 1;
	return exec_with(path, h, -1, err, errlen);
}

/* --------------------------------------------------------------- read */

static const char *str(const json_t *doc, const char *key)
{
	return json_string_value(json_object_get(doc, key));
}

static int fd_of(const json_t *doc, const char *key)
{
	json_t *v = json_object_get(doc, key);
	int fd = json_is_integer(v) ? (int)json_integer_value(v) : -1;

	if (fd >= 0 && fcntl(fd, F_GETFD) < 0)
		return -1;      /* not open: not ours */
	set_cloexec(fd, 1);
	return fd;
}

int sysg_handoff_read(int fd, struct sysg_handoff *h, char *err,
		      size_t errlen)
{
	json_error_t je;
	json_t *doc, *v;

	memset(h, 0, sizeof(*h));
	h->lock_fd = h->ctl_fd = h->prev_exe_fd = -1;
	doc = json_loadfd(fd, 0, &je);
	close(fd);
	if (!json_is_object(doc)) {
		sysg_errf(err, errlen, "malformed handoff: %s", je.text);
		json_decref(doc);
		return -EINVAL;
	}
	h->doc = doc;
	h->prev_exe_fd = fd_of(doc, "prev_exe_fd");
	h->fallback = json_is_true(json_object_get(doc, "fallback"));
	v = json_object_get(doc, "handoff_version");
	h->version = json_is_integer(v) ? (int)json_integer_value(v) : 0;
	if (h->version < SYSG_HANDOFF_MIN || h->version > SYSG_HANDOFF_VERSION) {
		sysg_errf(err, errlen, "handoff version %d is not understood "
			  "(this build reads %d..%d)", h->version,
			  SYSG_HANDOFF_MIN, SYSG_HANDOFF_VERSION);
		return -EPROTO;
	}
	h->generation = (int)json_integer_value(json_object_get(doc,
								"generation"));
	h->lock_fd = fd_of(doc, "lock_fd");
	h->ctl_fd = fd_of(doc, "ctl_fd");
	h->state_dir = str(doc, "state_dir");
	h->log_dir = str(doc, "log_dir");
	h->config = str(doc, "config");
	h->state_backend = str(doc, "state_backend");
	h->plugin_dirs = str(doc, "plugin_dirs");
	h->sys = json_is_true(json_object_get(doc, "sys"));
	h->services = json_object_get(doc, "services");
	if (!h->state_dir || !h->log_dir || !h->config || h->lock_fd < 0 ||
	    !json_is_array(h->services)) {
		sysg_errf(err, errlen, "malformed handoff: a required field is "
			  "missing");
		return -EINVAL;
	}
	return 0;
}

void sysg_handoff_free(struct sysg_handoff *h)
{
	if (h->prev_exe_fd >= 0)
		close(h->prev_exe_fd);
	h->prev_exe_fd = -1;
	json_decref(h->doc);
	h->doc = NULL;
}
