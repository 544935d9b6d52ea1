/* paths.c - see paths.h */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "limits.h"
#include "paths.h"

static int put(char *buf, size_t len, const char *a, const char *b)
{
	int n = snprintf(buf, len, "%s%s", a, b ? b : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int sysg_state_dir(int sys, char *buf, size_t len)
{
	const char *env = getenv("SYSG_STATE_DIR");
	const char *home;

	if (env && *env)
		return put(buf, len, env, NULL);
	if (sys)
		return put(buf, len, "/var/lib/systemg", NULL);
	home = getenv("HOME");
	if (!home || !*home)
		return -ENOENT;
	return put(buf, len, home, "/.local/share/systemg");
}

int sysg_log_dir(int sys, const char *state_dir, char *buf, size_t len)
{
	const char *env = getenv("SYSG_STATE_DIR");

	if (sys && !(env && *env))
		return put(buf, len, "/var/log/systemg", NULL);
	return put(buf, len, state_dir, "/logs");
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
	if ((size_t)snprintf(buf, len, "%s/" SYSG_FILE_CONTROL, state_dir) >= len)
		return -ENAMETOOLONG;
	return 0;
}
