/* daemontest.c - see daemontest.h */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemontest.h"
#include "proc/proc.h"
#include "testutil.h"

/* Where the fixtures of this run live (dt_suite_setup), so that the
 * suite's teardown finds what a failed test left: a failed ck_assert
 * ends a CK_FORK test process with _exit(), skipping dt_teardown. */
static char *base_dir;

static void kill_leftovers(const char *dir, const char *const env[]);

void dt_suite_setup(void)
{
	char tmpl[] = "/tmp/sysg-test-daemon-XXXXXX";

	base_dir = mkdtemp(tmpl) ? strdup(tmpl) : NULL;
}

void dt_suite_teardown(void)
{
	DIR *d = base_dir ? opendir(base_dir) : NULL;
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char *dir = NULL, *env[3] = { NULL, NULL, NULL };

		if (e->d_name[0] == '.' ||
		    asprintf(&dir, "%s/%s", base_dir, e->d_name) < 0)
			continue;
		if (asprintf(&env[0], "SYSG_STATE_DIR=%s/state", dir) >= 0 &&
		    asprintf(&env[1], "HOME=%s", dir) >= 0)
			kill_leftovers(dir, (const char *const *)env);
		free(env[0]);
		free(env[1]);
		free(dir);
	}
	if (d)
		closedir(d);
	if (base_dir)
		tu_rm_rf(base_dir);
	free(base_dir);
	base_dir = NULL;
}

static char *fixture_dir(void)
{
	char *dir = NULL;

	if (!base_dir)
		return tu_mkdtemp("daemon");
	if (asprintf(&dir, "%s/t-XXXXXX", base_dir) < 0)
		return NULL;
	if (!mkdtemp(dir)) {
		free(dir);
		return NULL;
	}
	return dir;
}

void dt_setup(struct dt *t, const char *backend, const char *yaml_fmt, ...)
{
	char *yaml = NULL;
	va_list ap;

	memset(t, 0, sizeof(*t));
	t->backend = backend;
	t->dir = fixture_dir();
	ck_assert_ptr_nonnull(t->dir);
	ck_assert_int_ne(asprintf(&t->state, "%s/state", t->dir), -1);
	ck_assert_int_ne(asprintf(&t->env[0], "SYSG_STATE_DIR=%s", t->state), -1);
	ck_assert_int_ne(asprintf(&t->env[1], "HOME=%s", t->dir), -1);
	va_start(ap, yaml_fmt);
	ck_assert_int_ne(vasprintf(&yaml, yaml_fmt, ap), -1);
	va_end(ap);
	dt_write(t, "sysg.yaml", yaml);
	free(yaml);
}

void dt_write(struct dt *t, const char *name, const char *text)
{
	char *f = tu_write_file(t->dir, name, text);

	ck_assert_ptr_nonnull(f);
	free(f);
}

char *dt_read(struct dt *t, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	return tu_read_file(path, NULL);
}

int dt_exists(struct dt *t, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	return lstat(path, &st) == 0;
}

static int vrun(struct dt *t, int timeout_ms, struct run_result *r,
		const char *first, va_list ap)
{
	const char *argv[64];
	const char *bin = getenv("SYSG_BIN");
	struct run_result tmp;
	int n = 0, rc;

	ck_assert_msg(bin != NULL, "SYSG_BIN is not set");
	argv[n++] = bin;
	if (t->backend) {
		argv[n++] = "--state-backend";
		argv[n++] = t->backend;
	}
	for (const char *a = first; a && n < 63; a = va_arg(ap, const char *))
		argv[n++] = a;
	argv[n] = NULL;
	rc = run_capture((char *const *)argv, t->dir, t->env, timeout_ms,
			 r ? r : &tmp);
	ck_assert_int_eq(rc, 0);
	rc = (r ? r : &tmp)->status;
	if (!r)
		run_result_free(&tmp);
	return rc;
}

int dt_sysg(struct dt *t, struct run_result *r, const char *first, ...)
{
	va_list ap;
	int rc;

	va_start(ap, first);
	rc = vrun(t, 60000, r, first, ap);
	va_end(ap);
	return rc;
}

int dt_sysg_within(struct dt *t, int timeout_ms, struct run_result *r,
		   const char *first, ...)
{
	va_list ap;
	int rc;

	va_start(ap, first);
	rc = vrun(t, timeout_ms, r, first, ap);
	va_end(ap);
	return rc;
}

int dt_connect(struct dt *t)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s/control.sock", t->state);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

void dt_send_all(int fd, const void *buf, size_t len)
{
	ck_assert_int_eq(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

void dt_send_frame(int fd, const char *body, size_t len)
{
	unsigned char h[4] = { (unsigned char)(len >> 24),
			       (unsigned char)(len >> 16),
			       (unsigned char)(len >> 8), (unsigned char)len };

	dt_send_all(fd, h, 4);
	if (len)
		dt_send_all(fd, body, len);
}

json_t *dt_read_reply(int fd)
{
	static char buf[65536];
	size_t got = 0, want = 4;
	json_error_t je;

	while (got < want) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		ck_assert_int_eq(poll(&p, 1, TU_DEADLINE_MS), 1);
		n = recv(fd, buf + got, want - got, 0);
		if (n <= 0)
			return NULL;
		got += (size_t)n;
		if (got == 4 && want == 4) {
			const unsigned char *h = (const unsigned char *)buf;

			want = 4 + (((size_t)h[0] << 24) | ((size_t)h[1] << 16) |
				    ((size_t)h[2] << 8) | h[3]);
			ck_assert_int_lt(want, sizeof(buf));
		}
	}
	return json_loadb(buf + 4, want - 4, 0, &je);
}

pid_t dt_daemon_pid(struct dt *t)
{
	char *s = dt_read(t, "state/sysg.pid");
	pid_t pid = s ? (pid_t)atol(s) : 0;

	free(s);
	return pid;
}

pid_t dt_start_daemon(struct dt *t)
{
	struct run_result r;
	pid_t pid;
	int rc = dt_sysg(t, &r, "start", "--daemonize", NULL);

	ck_assert_msg(rc == 0, "start --daemonize: %d\n%s%s", rc, r.out, r.err);
	run_result_free(&r);
	pid = dt_daemon_pid(t);
	ck_assert_int_gt(pid, 0);
	ck_assert(sysg_proc_is_alive(pid, 0));
	dt_track(t, pid);
	return pid;
}

void dt_track(struct dt *t, pid_t pid)
{
	for (int i = 0; i < t->nseen; i++)
		if (t->seen[i] == pid)
			return;
	if (pid > 0 && t->nseen < DT_MAX_PIDS)
		t->seen[t->nseen++] = pid;
}

json_t *dt_status(struct dt *t, int all)
{
	struct run_result r;
	json_error_t je;
	json_t *j;
	int rc = all ? dt_sysg(t, &r, "status", "--json", "--all", NULL) :
		 dt_sysg(t, &r, "status", "--json", NULL);

	j = rc == 0 ? json_loads(r.out, 0, &je) : NULL;
	ck_assert_msg(j != NULL, "status --json: %d %s %s", rc, r.out, r.err);
	run_result_free(&r);
	for (size_t i = 0; i < json_array_size(json_object_get(j, "units")); i++) {
		json_t *pid = json_object_get(json_array_get(
			json_object_get(j, "units"), i), "pid");

		if (json_is_integer(pid))
			dt_track(t, (pid_t)json_integer_value(pid));
	}
	return j;
}

json_t *dt_unit(json_t *status, const char *name)
{
	json_t *units = json_object_get(status, "units");

	for (size_t i = 0; i < json_array_size(units); i++) {
		json_t *u = json_array_get(units, i);

		if (!strcmp(json_string_value(json_object_get(u, "name")), name))
			return u;
	}
	return NULL;
}

const char *dt_status_of(struct dt *t, const char *name, char *buf,
			 size_t len)
{
	json_t *j = dt_status(t, 1);
	json_t *u = dt_unit(j, name);

	snprintf(buf, len, "%s", u ? json_string_value(json_object_get(u,
			   "status")) : "");
	json_decref(j);
	return buf;
}

pid_t dt_pid(struct dt *t, const char *name)
{
	json_t *j = dt_status(t, 1);
	json_t *u = dt_unit(j, name);
	pid_t pid = u ? (pid_t)json_integer_value(json_object_get(u, "pid")) : 0;

	json_decref(j);
	return pid;
}

int dt_wait_status(struct dt *t, const char *name, const char *status,
		   int timeout_ms)
{
	int64_t end = tu_now_ms() + tu_deadline_ms(timeout_ms);
	char buf[64];

	do {
		if (!strcmp(dt_status_of(t, name, buf, sizeof(buf)), status))
			return 1;
		usleep(20000);
	} while (tu_now_ms() < end);
	return 0;
}

static int gone(void *arg)
{
	return !sysg_proc_is_alive(*(pid_t *)arg, 0);
}

int dt_wait_gone(pid_t pid, int timeout_ms)
{
	return tu_wait_for(gone, &pid, timeout_ms, 10);
}

struct file_cond {
	struct dt *t;
	const char *name, *needle;
};

static int file_has(void *arg)
{
	struct file_cond *c = arg;
	char *s = dt_read(c->t, c->name);
	int ok = s && strstr(s, c->needle);

	free(s);
	return ok;
}

int dt_wait_file(struct dt *t, const char *name, const char *needle,
		 int timeout_ms)
{
	struct file_cond c = { t, name, needle };

	return tu_wait_for(file_has, &c, timeout_ms, 10);
}

/* 1 when /proc/PID/environ holds ENTRY. */
static int environ_has(const char *pid, const char *entry)
{
	char path[300], buf[16384];
	size_t len = strlen(entry);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/environ", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t)strlen(buf + i) + 1) {
		buf[n] = '\0';
		if (!strncmp(buf + i, entry, len) && buf[i + (ssize_t)len] == '\0')
			return 1;
	}
	return 0;
}

int dt_count_supervisors(struct dt *t)
{
	char bin[PATH_MAX], exe[PATH_MAX], path[300];
	DIR *d = opendir("/proc");
	struct dirent *e;
	int count = 0;

	ck_assert_ptr_nonnull(realpath(getenv("SYSG_BIN"), bin));
	while (d && (e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/exe", e->d_name);
		n = readlink(path, exe, sizeof(exe) - 1);
		if (n <= 0)
			continue;
		exe[n] = '\0';
		if (!strcmp(exe, bin) && environ_has(e->d_name, t->env[0]))
			count++;
	}
	if (d)
		closedir(d);
	return count;
}

static pid_t pid_in(const char *dir)
{
	char path[PATH_MAX], *s;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/state/sysg.pid", dir);
	s = tu_read_file(path, NULL);
	pid = s ? (pid_t)atol(s) : 0;
	free(s);
	return pid;
}

/* No assertions here (it also runs in the suite's teardown): SIGTERM to
 * the supervisor of DIR is a full stop, SIGKILL after 5 s; then the
 * supervisor-less stop, which finds services by their marker. */
static void kill_leftovers(const char *dir, const char *const env[])
{
	const char *argv[] = { getenv("SYSG_BIN"), "stop", NULL };
	struct run_result r;
	pid_t sup = pid_in(dir);

	if (sup <= 0)
		return;
	if (sysg_proc_is_alive(sup, 0)) {
		kill(sup, SIGTERM);
		if (!dt_wait_gone(sup, 5000))
			kill(sup, SIGKILL);
	}
	if (argv[0] && run_capture((char *const *)argv, dir, (char *const *)env,
				   20000, &r) == 0)
		run_result_free(&r);
}

void dt_teardown(struct dt *t)
{
	pid_t sup = dt_daemon_pid(t);

	if (sup > 0 && sysg_proc_is_alive(sup, 0)) {
		dt_sysg(t, NULL, "stop", NULL);
		if (!dt_wait_gone(sup, 5000))
			kill(sup, SIGKILL);
	}
	kill_leftovers(t->dir, (const char *const *)t->env);
	/* what only this fixture saw: only pids that still carry its
	 * environment (a pid seen earlier may be someone else's by now) */
	for (int i = 0; i < t->nseen; i++) {
		char pid[32];

		snprintf(pid, sizeof(pid), "%d", (int)t->seen[i]);
		if (sysg_proc_is_alive(t->seen[i], 0) && environ_has(pid, t->env[0]))
			kill(t->seen[i], SIGKILL);
	}
	tu_rm_rf(t->dir);
	free(t->dir);
	free(t->state);
	free(t->env[0]);
	free(t->env[1]);
}

/* ------------------------------------------------- a notify listener */

/* A datagram socket bound to ADDR ("/path" or "@abstract"). */
int dt_listen_dgram(const char *addr)
{
	struct sockaddr_un sa;
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				    strlen(addr));
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(addr), sizeof(sa.sun_path));
	memcpy(sa.sun_path, addr, strlen(addr));
	if (addr[0] == '@')
		sa.sun_path[0] = '\0';
	else
		len++;
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, len), 0);
	return fd;
}

/* The next datagram within TIMEOUT_MS, into BUF ("" when none came). */
const char *dt_next_message(int fd, char *buf, size_t size,
			    int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n = 0;

	buf[0] = '\0';
	if (poll(&p, 1, tu_deadline_ms(timeout_ms)) == 1)
		n = recv(fd, buf, size - 1, MSG_DONTWAIT);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}
