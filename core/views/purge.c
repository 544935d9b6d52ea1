/* purge.c - see purge.h */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "proc/proc.h"
#include "purge.h"

/* Poll until PID (started at TICKS) is gone or DEADLINE passes. */
static int wait_gone(int64_t pid, uint64_t ticks, int64_t deadline)
{
	struct timespec tick = { 0, 10 * 1000000L };

	while (sysg_proc_alive(pid, ticks)) {
		if (sysg_now_ms() >= deadline)
			return -ETIMEDOUT;
		nanosleep(&tick, NULL);
	}
	return 0;
}

int sysg_purge_stop_supervisor(int64_t pid, int64_t timeout_ms)
{
	uint64_t ticks = 0;

	if (pid <= 1 || sysg_proc_start_ticks(pid, &ticks) < 0)
		return 0;
	if (kill((pid_t)pid, SIGTERM) < 0)
		return errno == ESRCH ? 0 : -errno;
	if (wait_gone(pid, ticks, sysg_now_ms() + timeout_ms) == 0)
		return 0;
	if (kill((pid_t)pid, SIGKILL) < 0 && errno != ESRCH)
		return -errno;
	return wait_gone(pid, ticks, sysg_now_ms() + 2000);
}

/* --------------------------------------------------------------- delete */

struct purge {
	size_t removed;
	int rc;
	char *err;
	size_t errlen;
};

static void fail(struct purge *p, const char *path, const char *name, int rc)
{
	if (p->rc == 0) {
		p->rc = rc;
		sysg_errf(p->err, p->errlen, "cannot remove %s/%s: %s", path,
			  name, strerror(-rc));
	}
}

static void remove_tree(struct purge *p, int dfd, const char *path);

/* Remove entry NAME of directory DFD (shown as PATH in messages). */
static void remove_entry(struct purge *p, int dfd, const char *path,
			 const char *name)
{
	struct stat st;
	char sub[PATH_MAX];
	int fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			fail(p, path, name, -errno);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
		if (fd < 0) {
			fail(p, path, name, -errno);
			return;
		}
		snprintf(sub, sizeof(sub), "%s/%s", path, name);
		remove_tree(p, fd, sub);        /* closes fd */
	}
	if (unlinkat(dfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0) {
		if (errno != ENOENT)
			fail(p, path, name, -errno);
		return;
	}
	p->removed++;
}

/* Remove everything inside the directory open as DFD; closes DFD. */
static void remove_tree(struct purge *p, int dfd, const char *path)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		close(dfd);
		fail(p, path, ".", -errno);
		return;
	}
	/* Deleting while reading can make readdir skip entries: repeat
	 * until a pass finds nothing. */
	for (int again = 1; again;) {
		again = 0;
		rewinddir(d);
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			size_t before = p->removed;

			remove_entry(p, dirfd(d), path, de->d_name);
			again |= p->removed != before;
		}
	}
	closedir(d);
}

/* 1 when DIR is "/" or the home directory: never purge those. */
static int forbidden(const char *dir)
{
	char real[PATH_MAX], home[PATH_MAX];
	const char *h = getenv("HOME");

	if (!realpath(dir, real))
		return 0;
	if (!strcmp(real, "/"))
		return 1;
	return h && realpath(h, home) && !strcmp(real, home);
}

int sysg_purge_dir(const char *dir, size_t *removed, char *err,
		   size_t errlen)
{
	struct purge p = { 0, 0, err, errlen };
	int fd;

	if (forbidden(dir)) {
		sysg_errf(err, errlen, "refusing to purge %s", dir);
		return -EPERM;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		p.rc = -errno;
		sysg_errf(err, errlen, "cannot open %s: %s", dir, strerror(-p.rc));
		return p.rc;
	}
	remove_tree(&p, fd, dir);
	if (p.rc == 0 && rmdir(dir) < 0 && errno != ENOENT) {
		p.rc = -errno;
		sysg_errf(err, errlen, "cannot remove %s: %s", dir, strerror(-p.rc));
	}
	if (removed)
		*removed += p.removed;
	return p.rc;
}
