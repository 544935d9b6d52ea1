/* logrotate.c - log rotation and reopening (see logrotate.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "logrotate.h"
#include "proctree.h"
#include "writers.h"

#define TAIL_MAX 65536          /* a partial last line moved back, at most */

static int numbered(const char *path, int n, int gz, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s.%d%s", path, n, gz ? ".gz" : "") >=
	    len)
		return -ENAMETOOLONG;
	return 0;
}

int sysg_log_shift(const char *path, int keep)
{
	char from[4200], to[4200];

	if (keep < 1)
		keep = 1;
	/* PATH.KEEP goes, and any older one left by a larger `keep` */
	for (int n = keep, gone = 0; gone < 2 && n < 100000; n++) {
		gone++;
		for (int gz = 0; gz < 2; gz++) {
			if (numbered(path, n, gz, to, sizeof(to)) < 0)
				return -ENAMETOOLONG;
			if (unlink(to) == 0)
				gone = 0;
			else if (errno != ENOENT)
				return -errno;
		}
	}
	for (int n = keep - 1; n >= 1; n--)
		for (int gz = 0; gz < 2; gz++) {
			if (numbered(path, n, gz, from, sizeof(from)) < 0 ||
			    numbered(path, n + 1, gz, to, sizeof(to)) < 0)
				return -ENAMETOOLONG;
			if (rename(from, to) < 0 && errno != ENOENT)
				return -errno;
		}
	return 0;
}

/* As the log files are opened (logs.c): never through a symlink, never
 * a FIFO or device. */
static int open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
		      O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0640);
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int sysg_log_rotate_rename(const char *path, int keep, int *fd, char *err,
			   size_t errlen)
{
	char one[4200];
	int rc = sysg_log_shift(path, keep), nfd = -1;

	if (rc == 0)
		rc = numbered(path, 1, 0, one, sizeof(one));
	if (rc == 0 && rename(path, one) < 0)
		rc = -errno;
	if (rc == 0)
		rc = nfd = open_log(path);
	if (rc < 0) {
		snprintf(err, errlen, "cannot rotate %s: %s", path, strerror(-rc));
		return rc;
	}
	if (*fd >= 0)
		close(*fd);
	*fd = nfd;
	return 0;
}

static int same_file(const char *path, int fd)
{
	struct stat a, b;

	if (fstat(fd, &a) < 0)
		return -errno;
	if (stat(path, &b) < 0)
		return errno == ENOENT ? 0 : -errno;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int sysg_log_reopen(const char *path, int *fd)
{
	int same = *fd >= 0 ? same_file(path, *fd) : 0, nfd;

	if (same != 0)
		return same < 0 ? same : 0;
	nfd = open_log(path);
	if (nfd < 0)
		return nfd;
	if (*fd >= 0)
		close(*fd);
	*fd = nfd;
	return 1;
}

void sysg_log_gzip_command(const char *path, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "exec gzip -f -- '");

	for (const char *p = path; *p && n + 6 < len; p++)
		n += (size_t)snprintf(buf + n, len - n, *p == '\'' ? "'\\''" :
				      "%c", *p);
	snprintf(buf + n, len - n, ".1'");
}

/* ------------------------------------------------------------------ */
/* Moving a file's content away                                        */
/* ------------------------------------------------------------------ */

/* Copy RD from *OFF to its current end into OUT (appending). */
static int copy_rest(int rd, int out, off_t *off)
{
	char buf[65536];

	for (;;) {
		ssize_t n = pread(rd, buf, sizeof(buf), *off), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		while (w < n) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));

			if (k < 0 && errno != EINTR)
				return -errno;
			w += k > 0 ? k : 0;
		}
		*off += n;
	}
}

/* Where to cut RD (SIZE bytes) so that a partial last line stays:
 * after its last newline, unless the partial line is too long. The
 * partial line goes to TAIL (*TLEN bytes). */
static off_t line_cut(int rd, off_t size, char *tail, size_t *tlen)
{
	off_t from = size > TAIL_MAX ? size - TAIL_MAX : 0;
	ssize_t n = size > from ? pread(rd, tail, (size_t)(size - from), from) : 0;

	*tlen = 0;
	for (ssize_t i = n - 1; i >= 0; i--)
		if (tail[i] == '\n') {
			*tlen = (size_t)(n - 1 - i);
			memmove(tail, tail + i + 1, *tlen);
			return size - (off_t)*tlen;
		}
	return size;
}

/* Open FD's file for reading (FD itself is write-only). */
static int reopen_ro(int fd)
{
	char p[64];
	int rd;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	rd = open(p, O_RDONLY | O_CLOEXEC);
	return rd < 0 ? -errno : rd;
}

/* Called with the writers stopped, after FD's file was emptied. */
typedef int (*frozen_fn)(int fd, void *arg);

/* Move the content of FD's file into the new file TMP (created here),
 * leaving only a partial last line in FD's file; FN (may be NULL) runs
 * before the writers continue. 0 or -errno. */
static int move_content(int fd, const char *tmp, frozen_fn fn, void *arg)
{
	struct sysg_pidset stopped;
	off_t off = 0, cut;
	size_t tlen;
	char *tail = malloc(TAIL_MAX);
	int rd = reopen_ro(fd), out = -1, rc, moved = 0;

	unlink(tmp);            /* a leftover, or something planted */
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		   0640);
	rc = !tail ? -ENOMEM : rd < 0 ? rd : out < 0 ? -errno : 0;
	/* the bulk, writers running; catch up a few times so that little
	 * is left to copy while they are stopped */
	for (int i = 0; rc == 0 && i < 4; i++) {
		off_t before = off;

		rc = copy_rest(rd, out, &off);
		if (i && off - before < TAIL_MAX)
			break;
	}
	if (rc == 0)
		rc = sysg_writers_stop(fd, &stopped);
	if (rc == 0) {
		rc = copy_rest(rd, out, &off);
		cut = line_cut(rd, off, tail, &tlen);
		if (rc == 0 && ftruncate(out, cut) < 0)
			rc = -errno;
		if (rc == 0 && ftruncate(fd, 0) < 0)
			rc = -errno;
		moved = rc == 0;
		if (rc == 0 && tlen && write(fd, tail, tlen) != (ssize_t)tlen)
			rc = -EIO;
		if (rc == 0 && fn)
			rc = fn(fd, arg);
		sysg_writers_continue(&stopped);
	}
	/* once the file was emptied, TMP holds its lines: keep it whatever
	 * failed next (the caller's message names it) */
	if (rc < 0 && !moved)
		unlink(tmp);
	if (rd >= 0)
		close(rd);
	if (out >= 0)
		close(out);
	free(tail);
	return rc;
}

/* "cannot WHAT PATH: why", and where the lines are when TMP kept them. */
static void failed(char *err, size_t errlen, const char *what,
		   const char *path, int rc, const char *tmp)
{
	int kept = access(tmp, F_OK) == 0;

	snprintf(err, errlen, "cannot %s %s: %s%s%s", what, path,
		 rc == -EAGAIN ? "its writers did not stop in time" :
		 strerror(-rc), kept ? "; its lines are in " : "",
		 kept ? tmp : "");
}

int sysg_log_rotate_copy(const char *path, int fd, int keep, char *err,
			 size_t errlen)
{
	char tmp[4200], one[4200];
	int rc = numbered(path, 1, 0, one, sizeof(one));

	if (rc == 0 && (size_t)snprintf(tmp, sizeof(tmp), "%s.rotating", path) >=
	    sizeof(tmp))
		rc = -ENAMETOOLONG;
	if (rc == 0)
		rc = move_content(fd, tmp, NULL, NULL);
	if (rc == 0)
		rc = sysg_log_shift(path, keep);
	if (rc == 0 && rename(tmp, one) < 0)
		rc = -errno;
	if (rc < 0)
		failed(err, errlen, "rotate", path, rc, tmp);
	return rc;
}

struct reclaim {
	const char *path;
	char link[4200];
	char cur[4096];         /* where FD's file was renamed to */
	char tmp[4200];         /* the copy of its content, to go there */
};

/* With the writers stopped: whatever was written to a new PATH goes
 * after the (emptied) file of FD, which then takes the name PATH. */
static int take_name(int fd, void *arg)
{
	struct reclaim *r = arg;
	char self[64];
	int other = open(r->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
			 O_NONBLOCK);
	struct stat st;

	if (other >= 0 && (fstat(other, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(other);
		other = -1;
	}
	off_t off = 0;
	int rc = 0;

	if (other >= 0) {
		rc = copy_rest(other, fd, &off);
		close(other);
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	unlink(r->link);
	if (rc == 0 && linkat(AT_FDCWD, self, AT_FDCWD, r->link,
			      AT_SYMLINK_FOLLOW) < 0)
		rc = -errno;
	if (rc == 0 && rename(r->link, r->path) < 0)
		rc = -errno;
	if (rc == 0 && rename(r->tmp, r->cur) < 0)
		rc = -errno;
	return rc;
}

int sysg_log_reclaim(const char *path, int *fdp, char *err, size_t errlen)
{
	struct reclaim r = { .path = path };
	char self[64];
	struct stat st;
	ssize_t n;
	int fd = *fdp, rc = same_file(path, fd), nfd;

	if (rc != 0)
		return rc < 0 ? rc : 0;
	/* our fd's link names the path it was opened by, or where that
	 * was renamed to: that is where logrotate put it */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	n = readlink(self, r.cur, sizeof(r.cur) - 1);
	if (n < 0 || fstat(fd, &st) < 0)
		return -errno;
	r.cur[n] = '\0';
	if (st.st_nlink == 0 || access(r.cur, F_OK) < 0) {
		snprintf(err, errlen, "%s was deleted while in use; its writers "
			 "keep writing to the deleted file until they restart",
			 path);
		return -ENOENT;
	}
	if ((size_t)snprintf(r.tmp, sizeof(r.tmp), "%s.sysg-copy", r.cur) >=
	    sizeof(r.tmp) ||
	    (size_t)snprintf(r.link, sizeof(r.link), "%s.sysg-link", path) >=
	    sizeof(r.link))
		return -ENAMETOOLONG;
	rc = move_content(fd, r.tmp, take_name, &r);
	/* open it again by its name, so that our fd's link names PATH
	 * for the next time (the old one names a removed entry) */
	if (rc == 0 && (nfd = open_log(path)) >= 0) {
		close(fd);
		*fdp = nfd;
	}
	if (rc < 0) {
		failed(err, errlen, "reopen", path, rc, r.tmp);
		return rc;
	}
	return 1;
}
