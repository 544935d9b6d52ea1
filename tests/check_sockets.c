/* check_sockets.c - `listen:` (SPEC 11): sockets bound by the supervisor,
 * passed the sd_listen_fds(3) way, kept across restarts, and a clear
 * error for a port someone else holds. Black-box: runs $SYSG_BIN. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemontest.h"
#include "proc/proc.h"
#include "testutil.h"

/* Checks the environment the way sd_listen_fds(3) does (LISTEN_PID is
 * our pid, LISTEN_FDS a count, fds 3.. open), then describes each fd
 * into the file argv[1] and waits to be stopped. */
static const char validator[] =
	"import os, socket, stat, sys, time\n"
	"out = []\n"
	"pid = os.environ.get('LISTEN_PID', '')\n"
	"fds = os.environ.get('LISTEN_FDS', '')\n"
	"ok = pid.isdigit() and int(pid) == os.getpid() and fds.isdigit()\n"
	"n = int(fds) if ok else 0\n"
	"out.append('valid=%d n=%d' % (ok, n))\n"
	"out.append('names=%s' % os.environ.get('LISTEN_FDNAMES'))\n"
	"try:\n"
	"    os.fstat(3 + n)\n"
	"    out.append('fd %d open' % (3 + n))\n"
	"except OSError:\n"
	"    out.append('nothing past')\n"
	"for fd in range(3, 3 + n):\n"
	"    st = os.fstat(fd)\n"
	"    s = socket.socket(fileno=os.dup(fd))\n"
	"    out.append('fd%d sock=%d listening=%d inherit=%d addr=%s %s' % (\n"
	"        fd, stat.S_ISSOCK(st.st_mode),\n"
	"        s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN),\n"
	"        os.get_inheritable(fd), s.getsockname(),\n"
	"        os.readlink('/proc/self/fd/%d' % fd)))\n"
	"out.append('args=' + ' '.join(sys.argv[2:]))\n"
	"out.append('pid=%d' % os.getpid())\n"
	"open(sys.argv[1] + '.tmp', 'w').write('\\n'.join(out) + '\\nend\\n')\n"
	"os.rename(sys.argv[1] + '.tmp', sys.argv[1])\n"
	"time.sleep(600)\n";

/* A TCP port nobody listens on now. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static char *line_of(const char *text, const char *prefix)
{
	static char buf[512];
	const char *p = strstr(text, prefix);

	if (!p)
		return NULL;
	snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(p, "\n"), p);
	return buf;
}

/* Wait for NAME's report (the validator's output) and return it. */
static char *report(struct dt *t, const char *name)
{
	ck_assert_msg(dt_wait_file(t, name, "\nend\n", 15000),
		      "no report %s", name);
	return dt_read(t, name);
}

static void expect_line(const char *text, const char *line)
{
	char *l = line_of(text, line);

	ck_assert_msg(l && !strcmp(l, line), "expected '%s' in:\n%s", line,
		      text);
}

/* Several sockets of each kind, through `sh -c 'exec ...'`: numbered 3..
 * in config order, named, inheritable, nothing else open, LISTEN_PID the
 * program's own pid; `{listen_fd:NAME}` expanded; the unix socket's
 * mode applied. */
START_TEST(test_fds_numbered_and_named)
{
	struct dt t;
	char line[4400], path[4300], *r;
	struct stat st;
	int p1 = free_port(), p2 = free_port();

	dt_setup(&t, NULL,
		 "version: \"1\"\n"
		 "services:\n"
		 "  web:\n"
		 "    command: \"X=1 exec python3 v.py out.txt "
		 "--fd {listen_fd:admin} {listen_fd:web}\"\n"
		 "    listen:\n"
		 "      - \"tcp://127.0.0.1:%d\"\n"
		 "      - { address: \"unix:web.sock\", name: admin }\n"
		 "      - \"tcp6://[::1]:%d\"\n", p1, p2);
	/* the unix path must be absolute: write it with the fixture dir */
	snprintf(path, sizeof(path), "%s/web.sock", t.dir);
	r = dt_read(&t, "sysg.yaml");
	{
		char *yaml = NULL;
		const char *at = strstr(r, "unix:web.sock");

		ck_assert_ptr_nonnull(at);
		ck_assert_int_ne(asprintf(&yaml, "%.*sunix:%s\", mode: \"0640\""
					  "%s", (int)(at - r), r, path,
					  at + strlen("unix:web.sock\"")), -1);
		dt_write(&t, "sysg.yaml", yaml);
		free(yaml);
	}
	free(r);
	dt_write(&t, "v.py", validator);
	dt_start_daemon(&t);
	r = report(&t, "out.txt");
	expect_line(r, "valid=1 n=3");
	expect_line(r, "names=web:admin:web");
	expect_line(r, "nothing past");
	snprintf(line, sizeof(line),
		 "fd3 sock=1 listening=1 inherit=1 addr=('127.0.0.1', %d)", p1);
	ck_assert_msg(strstr(r, line), "%s", r);
	snprintf(line, sizeof(line),
		 "fd4 sock=1 listening=1 inherit=1 addr=%s", path);
	ck_assert_msg(strstr(r, line), "%s", r);
	snprintf(line, sizeof(line),
		 "fd5 sock=1 listening=1 inherit=1 addr=('::1', %d, 0, 0)", p2);
	ck_assert_msg(strstr(r, line), "%s", r);
	expect_line(r, "args=--fd 4 3");
	ck_assert_int_eq(atoi(line_of(r, "pid=") + 4), dt_pid(&t, "web"));
	free(r);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0640);
	dt_teardown(&t);
}
END_TEST

/* The sockets outlive a run: a restart hands the new process the very
 * same sockets (same inodes). */
START_TEST(test_kept_across_restart)
{
	struct dt t;
	char *r1, *r2, a[512], b[512];
	int port = free_port();
	pid_t old;

	dt_setup(&t, NULL,
		 "version: \"1\"\n"
		 "services:\n"
		 "  web:\n"
		 "    command: \"python3 v.py out.txt\"\n"
		 "    listen: [ \"tcp://127.0.0.1:%d\" ]\n", port);
	dt_write(&t, "v.py", validator);
	dt_start_daemon(&t);
	r1 = report(&t, "out.txt");
	old = dt_pid(&t, "web");
	ck_assert_int_eq(dt_sysg(&t, NULL, "restart", "-s", "web", NULL), 0);
	ck_assert(dt_wait_gone(old, 10000));
	ck_assert_msg(dt_wait_file(&t, "out.txt", "pid=", 15000), "no run");
	r2 = report(&t, "out.txt");
	while (atoi(line_of(r2, "pid=") + 4) == old) {
		free(r2);
		usleep(50000);
		r2 = report(&t, "out.txt");
	}
	snprintf(a, sizeof(a), "%s", line_of(r1, "fd3"));
	snprintf(b, sizeof(b), "%s", line_of(r2, "fd3"));
	ck_assert_msg(strstr(a, "socket:[") && !strcmp(a, b),
		      "not the same socket:\n%s\n%s", a, b);
	free(r1);
	free(r2);
	dt_teardown(&t);
}
END_TEST

/* A port someone else listens on: the start fails and says who. */
START_TEST(test_port_in_use_names_holder)
{
	struct dt t;
	struct run_result r;
	struct sockaddr_in a = { .sin_family = AF_INET };
	int port = free_port(), fd = socket(AF_INET, SOCK_STREAM, 0);
	char want[128];

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	dt_setup(&t, NULL,
		 "version: \"1\"\n"
		 "services:\n"
		 "  web:\n"
		 "    command: \"sleep 60\"\n"
		 "    listen: [ \"tcp://127.0.0.1:%d\" ]\n", port);
	ck_assert_int_ne(dt_sysg(&t, &r, "start", "--daemonize", NULL), 0);
	dt_track(&t, dt_daemon_pid(&t));
	snprintf(want, sizeof(want), "cannot listen on tcp://127.0.0.1:%d: "
		 "the address is in use by pid %d (", port, (int)getpid());
	ck_assert_msg(strstr(r.err, want), "%s", r.err);
	run_result_free(&r);
	close(fd);
	dt_teardown(&t);
}
END_TEST

/* instances: 2 - two copies web.0 and web.1, SYSG_INSTANCE 0 and 1, each
 * its own pid and log, both on the one socket; `-s web` is both. */
START_TEST(test_instances_share_sockets)
{
	struct dt t;
	struct run_result r;
	char *r0, *r1, a[512], b[512];
	int port = free_port();
	pid_t p0, p1;

	dt_setup(&t, NULL,
		 "version: \"1\"\n"
		 "services:\n"
		 "  web:\n"
		 "    command: \"sh -c 'exec python3 v.py out.$SYSG_INSTANCE'\"\n"
		 "    instances: 2\n"
		 "    listen: [ \"tcp://127.0.0.1:%d\" ]\n", port);
	dt_write(&t, "v.py", validator);
	dt_start_daemon(&t);
	r0 = report(&t, "out.0");
	r1 = report(&t, "out.1");
	p0 = dt_pid(&t, "web.0");
	p1 = dt_pid(&t, "web.1");
	ck_assert_int_gt(p0, 0);
	ck_assert_int_gt(p1, 0);
	ck_assert_int_ne(p0, p1);
	ck_assert_int_eq(atoi(line_of(r0, "pid=") + 4), p0);
	ck_assert_int_eq(atoi(line_of(r1, "pid=") + 4), p1);
	snprintf(a, sizeof(a), "%s", line_of(r0, "fd3"));
	snprintf(b, sizeof(b), "%s", line_of(r1, "fd3"));
	ck_assert_msg(strstr(a, "socket:[") && !strcmp(a, b),
		      "not the same socket:\n%s\n%s", a, b);
	ck_assert(dt_exists(&t, "state/logs/web.0_stdout.log"));
	ck_assert(dt_exists(&t, "state/logs/web.1_stdout.log"));
	/* `logs -s web` shows every copy's, `-s web.1` one */
	ck_assert_int_eq(dt_sysg(&t, &r, "logs", "-s", "web", "--kind",
				 "stdout", NULL), 0);
	ck_assert_msg(strstr(r.out, "==> web.0 (stdout)") &&
		      strstr(r.out, "==> web.1 (stdout)"), "%s", r.out);
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, &r, "logs", "-s", "web.1", "--kind",
				 "stdout", NULL), 0);
	ck_assert_msg(!strstr(r.out, "web.0"), "%s", r.out);
	run_result_free(&r);
	/* a deploy replaces every copy; the new ones get the same socket */
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "--service", "web", NULL),
			 0);
	ck_assert_msg(strstr(r.out, "web.1: start the new instance"), "%s%s",
		      r.out, r.err);
	run_result_free(&r);
	ck_assert(dt_wait_gone(p0, 10000));
	ck_assert(dt_wait_gone(p1, 10000));
	p0 = dt_pid(&t, "web.0");
	p1 = dt_pid(&t, "web.1");
	for (int i = 0; i < 2; i++) {
		char link[64], target[128];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/%d/fd/3", (int)(i ? p1 : p0));
		n = readlink(link, target, sizeof(target) - 1);
		ck_assert_int_gt(n, 0);
		target[n] = '\0';
		ck_assert_msg(strstr(a, target), "%s is not %s", target, a);
	}
	ck_assert_int_eq(dt_sysg(&t, &r, "stop", "-s", "web", NULL), 0);
	run_result_free(&r);
	ck_assert(dt_wait_gone(p0, 10000));
	ck_assert(dt_wait_gone(p1, 10000));
	free(r0);
	free(r1);
	dt_teardown(&t);
}
END_TEST

/* Stale LISTEN_* never reach a service without sockets. */
START_TEST(test_stale_listen_vars_removed)
{
	struct dt t;
	char *r;

	dt_setup(&t, NULL,
		 "version: \"1\"\n"
		 "services:\n"
		 "  plain:\n"
		 "    command: \"sh -c 'env > env.txt; echo end >> env.txt; "
		 "exec sleep 60'\"\n"
		 "    env:\n"
		 "      vars: { LISTEN_FDS: \"2\", LISTEN_PID: \"1\", "
		 "LISTEN_FDNAMES: \"x\", KEEP: \"yes\" }\n");
	dt_start_daemon(&t);
	ck_assert(dt_wait_file(&t, "env.txt", "end\n", 10000));
	r = dt_read(&t, "env.txt");
	ck_assert_msg(strstr(r, "KEEP=yes") && !strstr(r, "LISTEN_"), "%s", r);
	free(r);
	dt_teardown(&t);
}
END_TEST

/* sysg_socket_take (proc wing): a process holds the socket at fd 40 (not
 * the hint, fd 3 is another, unbound socket): it is found by address,
 * copied with pidfd_getfd and is the very same socket; an address the
 * process does not hold is -ENOENT. */
START_TEST(test_take_back_from_a_process)
{
	struct sysg_listen l = { .backlog = 16, .mode = -1 }, other;
	char addr[64], addr2[64], err[256], c;
	int port = tu_free_port(), fd, ready[2], hold[2], got;
	struct stat st;
	char link[64], target[64], want[64];
	ssize_t n;
	pid_t pid;

	snprintf(addr, sizeof(addr), "tcp://127.0.0.1:%d", port);
	l.address = addr;
	ck_assert_int_eq(sysg_listen_parse(&l, err, sizeof(err)), 0);
	fd = sysg_socket_bind(&l, err, sizeof(err));
	ck_assert_msg(fd >= 0, "%s", err);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(hold), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int o;

		dup2(fd, 40);
		if (fd != 40)
			close(fd);
		o = socket(AF_INET, SOCK_STREAM, 0);
		if (o != 3) {
			dup2(o, 3);
			close(o);
		}
		close(ready[0]);
		close(hold[1]);
		if (write(ready[1], "x", 1) != 1 || read(hold[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(fd);
	close(ready[1]);
	close(hold[0]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	got = sysg_socket_take(pid, 3, &l, err, sizeof(err));
	ck_assert_msg(got >= 0, "%s", err);
	ck_assert(sysg_socket_is(got, &l));
	ck_assert(fcntl(got, F_GETFD) & FD_CLOEXEC);
	snprintf(link, sizeof(link), "/proc/%d/fd/40", (int)pid);
	n = readlink(link, target, sizeof(target) - 1);
	ck_assert_int_gt(n, 0);
	target[n] = '\0';
	ck_assert_int_eq(fstat(got, &st), 0);
	snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)st.st_ino);
	ck_assert_str_eq(target, want);
	other = l;
	snprintf(addr2, sizeof(addr2), "tcp://127.0.0.1:%d", port == 65535 ?
		 port - 1 : port + 1);
	other.address = addr2;
	ck_assert_int_eq(sysg_listen_parse(&other, err, sizeof(err)), 0);
	ck_assert_int_eq(sysg_socket_take(pid, 40, &other, err, sizeof(err)),
			 -ENOENT);
	ck_assert_msg(strstr(err, "holds no such listening socket"), "%s", err);
	close(hold[1]);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	close(ready[0]);
	close(got);
}
END_TEST

static Suite *make_sockets_suite(void)
{
	Suite *s = suite_create("sockets");
	TCase *tc = tcase_create("listen");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_test(tc, test_fds_numbered_and_named);
	tcase_add_test(tc, test_kept_across_restart);
	tcase_add_test(tc, test_port_in_use_names_holder);
	tcase_add_test(tc, test_stale_listen_vars_removed);
	tcase_add_test(tc, test_instances_share_sockets);
	tcase_add_test(tc, test_take_back_from_a_process);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_sockets_suite());
}
