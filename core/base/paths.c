/* paths.c - see paths.h */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "limits.h"
#include "diag.h"
#include "paths.h"

static int put(char *buf, size_t len, const char *a, const char *b)
{
	int n = snprintf(buf, len, "%s%s", a, b ? b : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The prefix of every system-mode path: $SYSG_SYS_ROOT when set (tests),
 * else "" (the real /var, /run and /etc). */
static const char *sys_root(void)
{
	const char *r = getenv("SYSG_SYS_ROOT");

	return r && *r ? r : "";
}

static int state_dir_overridden(void)
{
	const char *env = getenv("SYSG_STATE_DIR");

	return env && *env;
}

int sysg_state_dir(int sys, char *buf, size_t len)
{
	const char *home;

	if (state_dir_overridden())
		return put(buf, len, getenv("SYSG_STATE_DIR"), NULL);
	if (sys)
		return put(buf, len, sys_root(), SYSG_SYS_STATE_DIR);
	home = getenv("HOME");
	if (!home || !*home)
		return -ENOENT;
	return put(buf, len, home, "/.local/share/systemg");
}

int sysg_log_dir(int sys, const char *state_dir, char *buf, size_t len)
{
	if (sys && !state_dir_overridden())
		return put(buf, len, sys_root(), SYSG_SYS_LOG_DIR);
	return put(buf, len, state_dir, "/logs");
}

int sysg_run_dir(const char *state_dir, char *buf, size_t len)
{
	char sys_state[SYSG_PATH_MAX];

	if (!state_dir_overridden() &&
	    put(sys_state, sizeof(sys_state), sys_root(),
		SYSG_SYS_STATE_DIR) == 0 && !strcmp(state_dir, sys_state))
		return put(buf, len, sys_root(), SYSG_SYS_RUN_DIR);
	return put(buf, len, state_dir, NULL);
}

int sysg_run_file(const char *state_dir, const char *name, char *buf,
		  size_t len)
{
	char dir[SYSG_PATH_MAX];
	int n, rc = sysg_run_dir(state_dir, dir, sizeof(dir));

	if (rc < 0)
		return rc;
	n = snprintf(buf, len, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int sysg_config_dir(int sys, char *buf, size_t len)
{
	const char *home;

	if (sys)
		return put(buf, len, sys_root(), SYSG_SYS_CONFIG_DIR);
	home = getenv("HOME");
	if (!home || !*home)
		return -ENOENT;
	return put(buf, len, home, "/.config/systemg");
}

int sysg_mkdir_p(const char *path, mode_t mode, int fix_mode)
{
	char *tmp = strdup(path);
	int rc = 0;

	if (!tmp)
		return -ENOMEM;
	for (char *p = tmp + 1; rc == 0; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			rc = -errno;
		*p = c;
		if (c == '\0')
			break;
	}
	if (rc == 0 && fix_mode && chmod(path, mode) < 0)
		rc = -errno;
	free(tmp);
	return rc;
}

char *sysg_path_join(const char *a, const char *b)
{
	char *out = NULL;
	size_t la;

	if (b[0] == '/' || !a || !*a)
		return strdup(b);
	la = strlen(a);
	if (asprintf(&out, "%s%s%s", a, a[la - 1] == '/' ? "" : "/", b) < 0)
		return NULL;
	return out;
}

/* Fold "." and ".." components of an absolute path in place. */
static void normalise(char *p)
{
	char *out = p, *in = p;

	while (*in) {
		while (*in == '/')
			in++;
		char *seg = in;
		while (*in && *in != '/')
			in++;
		size_t n = (size_t)(in - seg);
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			while (out > p && *--out != '/')
				;
			continue;
		}
		*out++ = '/';
		memmove(out, seg, n);
		out += n;
	}
	if (out == p)
		*out++ = '/';
	*out = '\0';
}

char *sysg_path_abs(const char *base, const char *p)
{
	char cwd[SYSG_PATH_MAX];
	char *joined;

	if (p[0] == '/') {
		joined = strdup(p);
	} else {
		if (!base) {
			if (!getcwd(cwd, sizeof(cwd)))
				return NULL;
			base = cwd;
		}
		if (base[0] != '/') {
			char *abs_base = sysg_path_abs(NULL, base);

			if (!abs_base)
				return NULL;
			joined = sysg_path_join(abs_base, p);
			free(abs_base);
		} else {
			joined = sysg_path_join(base, p);
		}
	}
	if (joined)
		normalise(joined);
	return joined;
}

char *sysg_path_dirname(const char *p)
{
	const char *slash = strrchr(p, '/');

	if (!slash || slash == p)
		return strdup(slash ? "/" : ".");
	return strndup(p, (size_t)(slash - p));
}

/* ------------------------------------------------- the state directory */

int sysg_write_file_atomic(const char *dir, const char *name,
			   const char *text)
{
	char path[SYSG_STATE_FILE_MAX], tmp[SYSG_STATE_FILE_MAX + 32];
	size_t len = strlen(text);
	ssize_t n;
	int fd, rc = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n < 0 || fsync(fd) < 0)
		rc = -errno;
	else if ((size_t)n != len)
		rc = -EIO;
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int sysg_control_path(const char *state_dir, char *buf, size_t len)
{
	return sysg_run_file(state_dir, SYSG_FILE_CONTROL, buf, len);
}

int sysg_path_trusted(const char *path, int fd, int no_group_write,
		      char *err, size_t errlen)
{
	mode_t bad = no_group_write ? (S_IWGRP | S_IWOTH) : S_IWOTH;
	uid_t me = geteuid();
	struct stat st;

	if ((fd >= 0 ? fstat(fd, &st) : stat(path, &st)) < 0) {
		int e = errno;

		sysg_errf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (st.st_uid != 0 && st.st_uid != me) {
		sysg_errf(err, errlen, "%s: refused: owned by uid %u, not by "
			  "you (uid %u) or root; fix with 'chown %u %s' or use "
			  "another directory", path, (unsigned)st.st_uid,
			  (unsigned)me, (unsigned)me, path);
		return -EPERM;
	}
	if ((st.st_mode & bad) &&
	    (no_group_write || !S_ISDIR(st.st_mode) ||
	     !(st.st_mode & S_ISVTX))) {
		sysg_errf(err, errlen, "%s: refused: writable by %s (mode %04o); "
			  "fix with 'chmod %s %s'", path,
			  (st.st_mode & S_IWOTH) ? "others (world-writable)" :
			  "its group",
			  (unsigned)(st.st_mode & 07777),
			  no_group_write ? "go-w" : "o-w", path);
		return -EPERM;
	}
	return 0;
}

int sysg_dir_open_trusted(const char *path, const char *what, char *err,
			  size_t errlen)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;
	char why[2 * SYSG_ERR_MAX];

	if (fd < 0) {
		rc = -errno;
		sysg_errf(err, errlen, "cannot open the %s %s: %s", what, path,
			  strerror(-rc));
		return rc;
	}
	rc = sysg_path_trusted(path, fd, 1, why, sizeof(why));
	if (rc < 0) {
		close(fd);
		sysg_errf(err, errlen, "unsafe %s: %s", what, why);
		return rc;
	}
	return fd;
}

int sysg_open_regular(const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	else if ((uint64_t)st.st_size > (uint64_t)max)
		rc = -EFBIG;
	else if (fcntl(fd, F_SETFL, O_RDONLY) < 0)
		rc = -errno;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int sysg_read_regular(const char *path, size_t max, char **buf,
		      size_t *len)
{
	int fd = sysg_open_regular(path, max);
	size_t n = 0, cap = 4096;
	char *b;
	ssize_t k;

	*buf = NULL;
	if (fd < 0)
		return fd;
	if (!(b = malloc(cap + 1))) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (n == cap) {
			char *g = cap >= max ? NULL : realloc(b, cap * 2 + 1);

			if (!g) {
				free(b);
				close(fd);
				return cap >= max ? -EFBIG : -ENOMEM;
			}
			b = g;
			cap *= 2;
		}
		k = read(fd, b + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	if (k < 0) {
		int e = errno;

		free(b);
		return -e;
	}
	b[n] = '\0';
	*buf = b;
	if (len)
		*len = n;
	return 0;
}

static char exe_noted[SYSG_PATH_MAX];
static struct stat exe_st;

void sysg_exe_init(void)
{
	const char *fn = (const char *)getauxval(AT_EXECFN);

	if (!fn || !realpath(fn, exe_noted) || stat(exe_noted, &exe_st) < 0)
		exe_noted[0] = '\0';
}

const char *sysg_exe_path(void)
{
	struct stat st;

	if (!exe_noted[0] || (stat("/proc/self/exe", &st) == 0 &&
			      st.st_dev == exe_st.st_dev &&
			      st.st_ino == exe_st.st_ino))
		return "/proc/self/exe";
	return exe_noted;
}
