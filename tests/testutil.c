/* testutil.c - see testutil.h */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

char *tu_mkdtemp(const char *prefix)
{
	char *tmpl = NULL;

	if (asprintf(&tmpl, "/tmp/sysg-test-%s%sXXXXXX", prefix ? prefix : "",
		     prefix ? "-" : "") < 0)
		return NULL;
	if (!mkdtemp(tmpl)) {
		int e = errno;

		free(tmpl);
		errno = e;
		return NULL;
	}
	return tmpl;
}

/* mkdir -p of the directory part of PATH. */
static int make_parents(const char *path)
{
	char *copy = strdup(path), *p;

	if (!copy)
		return -1;
	for (p = strchr(copy + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(copy, 0755) != 0 && errno != EEXIST) {
			free(copy);
			return -1;
		}
		*p = '/';
	}
	free(copy);
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

char *tu_write_bytes(const char *dir, const char *name, const void *buf,
		     size_t len)
{
	char *path = NULL;
	int fd, e;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return NULL;
	if (make_parents(path) != 0)
		goto fail;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail;
	if (write_all(fd, buf, len) != 0) {
		e = errno;
		close(fd);
		errno = e;
		goto fail;
	}
	if (close(fd) != 0)
		goto fail;
	return path;
fail:
	e = errno;
	free(path);
	errno = e;
	return NULL;
}

char *tu_write_file(const char *dir, const char *name, const char *text)
{
	return tu_write_bytes(dir, name, text, strlen(text));
}

char *tu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (cap - n < 4096) {
			char *grown = realloc(buf, cap + 65536);

			if (!grown) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = grown;
			cap += 65536;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static int rm_entries(int dirfd);

/* Remove NAME in DIRFD (a directory's contents first). */
static int rm_at(int dirfd, const char *name)
{
	struct stat st;
	int fd, rc;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) == 0 ? 0 : -errno;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = rm_entries(fd);    /* closes fd */
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) != 0)
		rc = -errno;
	return rc;
}

/* Remove everything inside the directory DIRFD; closes DIRFD. */
static int rm_entries(int dirfd)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		rc = -errno;
		close(dirfd);
		return rc;
	}
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (rc == 0)
			rc = rm_at(dirfd, e->d_name);
	}
	closedir(d);
	return rc;
}

int tu_rm_rf(const char *path)
{
	return rm_at(AT_FDCWD, path);
}

int64_t tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tu_deadline_ms(int timeout_ms)
{
	return timeout_ms < 1000 || timeout_ms > TU_DEADLINE_MS ? timeout_ms :
	       TU_DEADLINE_MS;
}

int tu_wait_for(int (*cond)(void *arg), void *arg, int timeout_ms,
		int interval_ms)
{
	int64_t deadline = tu_now_ms() + tu_deadline_ms(timeout_ms);
	struct timespec nap = { interval_ms / 1000,
				(long)(interval_ms % 1000) * 1000000L };

	while (tu_now_ms() < deadline) {
		if (cond(arg))
			return 1;
		nanosleep(&nap, NULL);
	}
	return cond(arg) ? 1 : 0;
}

/* A test case without tcase_set_timeout gets Check's default, 4 s: too
 * short a safety net for a loaded CI machine. Check reads
 * CK_DEFAULT_TIMEOUT when a test case is created, before main's
 * tu_run_suite runs, hence a constructor. A value in the environment
 * wins. */
__attribute__((constructor)) static void tu_default_timeout(void)
{
	setenv("CK_DEFAULT_TIMEOUT", "60", 0);
}

int tu_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int tu_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

char *tu_http_get(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	char buf[4096], *body;
	size_t got = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    write(fd, "GET / HTTP/1.0\r\n\r\n", 18) != 18) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (got < sizeof(buf) - 1 &&
	       (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	body = strstr(buf, "\r\n\r\n");
	return body ? strdup(body + 4) : NULL;
}

const char *tu_backend_mapped(pid_t pid)
{
	static const char *const libs[] = {
		"libxml2", "libicu", "libstdc++", "libsqlite3", "/xml.so",
		"/sqlite.so",
	};
	static char line[600];
	const char *hit = NULL;
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	while (!hit && fgets(line, sizeof(line), f))
		for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
			if (strstr(line, libs[i]))
				hit = line;
	fclose(f);
	return hit;
}
