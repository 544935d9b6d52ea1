/* check_sdnotify.c - sysg honours $NOTIFY_SOCKET (systemd's Type=notify):
 * the resident supervisor sends READY=1 (with its MAINPID) once the
 * services are up and STOPPING=1 when a full stop begins, to a path or an
 * abstract AF_UNIX datagram socket; the services never see the variable;
 * a malformed address changes nothing but a warning. Black box: a
 * datagram socket stands in for systemd. Needs $SYSG_BIN. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemontest.h"
#include "testutil.h"

static const char *yaml =
	"version: \"1\"\nservices:\n"
	"  db: { command: \"sleep 1000\", ready_after: \"300ms\" }\n"
	"  web:\n"
	"    command: \"sh show-notify.sh\"\n"
	"    depends_on: [db]\n"
	"    ready_after: \"20ms\"\n";

/* The web service: what it sees of NOTIFY_SOCKET (a script, so that the
 * config's own ${VAR} expansion stays out of it). */
static const char *show_notify =
	"echo \"notify=${NOTIFY_SOCKET:-unset}\"\nexec sleep 1000\n";

/* Run `sysg ARGS...` in T's project with NOTIFY_SOCKET=ADDR added. */
static int sysg_notified(struct dt *t, const char *addr, const char *a1,
			 const char *a2)
{
	char var[200];
	char *env[] = { t->env[0], t->env[1], var, NULL };
	struct run_result r;
	int rc;

	snprintf(var, sizeof(var), "NOTIFY_SOCKET=%s", addr);
	rc = run_sysg(t->dir, env, &r, a1, a2, (char *)NULL);
	ck_assert_int_eq(rc, 0);
	rc = r.status;
	if (rc)
		fprintf(stderr, "sysg %s %s: %s", a1, a2 ? a2 : "", r.err);
	run_result_free(&r);
	return rc;
}

static void ready_then_stopping(const char *addr, struct dt *t, int fd)
{
	char buf[512], want[64];
	pid_t pid;

	ck_assert_int_eq(sysg_notified(t, addr, "start", "--daemonize"), 0);
	pid = dt_daemon_pid(t);
	ck_assert_int_gt(pid, 0);
	dt_track(t, pid);
	/* start --daemonize returns once the services are up, after the
	 * supervisor told the manager */
	ck_assert_str_eq(dt_status_of(t, "web", buf, sizeof(buf)), "running");
	dt_next_message(fd, buf, sizeof(buf), 5000);
	ck_assert_msg(strstr(buf, "READY=1") != NULL, "got '%s'", buf);
	snprintf(want, sizeof(want), "MAINPID=%d", (int)pid);
	ck_assert_msg(strstr(buf, want) != NULL, "got '%s', want %s", buf,
		      want);
	ck_assert(strstr(buf, "STATUS=all services started") != NULL);
	/* the services do not inherit the manager's socket */
	ck_assert(dt_wait_file(t, "state/logs/web_stdout.log", "notify=unset",
			       5000));
	ck_assert_int_eq(dt_sysg(t, NULL, "stop", (char *)NULL), 0);
	dt_next_message(fd, buf, sizeof(buf), 5000);
	ck_assert_msg(strstr(buf, "STOPPING=1") != NULL, "got '%s'", buf);
	ck_assert(dt_wait_gone(pid, 10000));
}

START_TEST(test_ready_and_stopping_path)
{
	struct dt t;
	char addr[4200];
	int fd;

	dt_setup(&t, NULL, "%s", yaml);
	dt_write(&t, "show-notify.sh", show_notify);
	snprintf(addr, sizeof(addr), "%s/notify.sock", t.dir);
	if (strlen(addr) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		dt_teardown(&t);
		ck_abort_msg("temp directory path too long for a socket");
	}
	fd = dt_listen_dgram(addr);
	ready_then_stopping(addr, &t, fd);
	close(fd);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_ready_abstract_socket)
{
	struct dt t;
	char addr[100];
	int fd;

	dt_setup(&t, NULL, "%s", yaml);
	dt_write(&t, "show-notify.sh", show_notify);
	snprintf(addr, sizeof(addr), "@sysg-check-notify-%d", (int)getpid());
	fd = dt_listen_dgram(addr);
	ready_then_stopping(addr, &t, fd);
	close(fd);
	dt_teardown(&t);
}
END_TEST

/* A malformed NOTIFY_SOCKET: the services start all the same, and the
 * supervisor log says why the manager is not told. */
START_TEST(test_bad_address_is_a_warning)
{
	struct dt t;

	dt_setup(&t, NULL, "%s", yaml);
	dt_write(&t, "show-notify.sh", show_notify);
	ck_assert_int_eq(sysg_notified(&t, "relative/path", "start",
				       "--daemonize"), 0);
	dt_track(&t, dt_daemon_pid(&t));
	ck_assert(dt_wait_file(&t, "state/logs/supervisor.log",
			       "NOTIFY_SOCKET is not usable", 5000));
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", (char *)NULL), 0);
	dt_teardown(&t);
}
END_TEST

static Suite *make_sdnotify_suite(void)
{
	Suite *s = suite_create("sdnotify");
	TCase *tc = tcase_create("sdnotify");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_test(tc, test_ready_and_stopping_path);
	tcase_add_test(tc, test_ready_abstract_socket);
	tcase_add_test(tc, test_bad_address_is_a_warning);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_sdnotify_suite());
}
