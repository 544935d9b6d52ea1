/* check_health_cause.c - "say why" (issue 11 item 8): a failed health
 * check shows its last cause in `start`, `status` (table and JSON),
 * `inspect` and supervisor.log; a crash restart keeps `last_exit`; and
 * (item 11) every service stopped is not `healthy`. Black-box: runs
 * $SYSG_BIN against a resident supervisor. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemontest.h"
#include "testutil.h"

/* A TCP port on 127.0.0.1 that nobody listens on (right now). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	ck_assert_int_ge(fd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

/* The cause shows in start's error, the status table and JSON, inspect
 * and supervisor.log. */
static void check_everywhere(struct dt *t, const char *svc, const char *cause,
			     const char *start_err)
{
	struct run_result r;
	json_t *j, *u;
	char *log;

	ck_assert_msg(contains(start_err, cause), "start said: %s", start_err);
	ck_assert_int_eq(dt_sysg(t, &r, "status", NULL), 0);
	ck_assert_msg(contains(r.out, cause), "status said: %s", r.out);
	run_result_free(&r);
	j = dt_status(t, 0);
	ck_assert_ptr_nonnull(j);
	u = dt_unit(j, svc);
	ck_assert_ptr_nonnull(u);
	ck_assert_str_eq(json_string_value(json_object_get(u, "status")),
			 "failed");
	ck_assert_msg(contains(json_string_value(json_object_get(u, "reason")),
			       cause), "json reason: %s",
		      json_string_value(json_object_get(u, "reason")));
	json_decref(j);
	ck_assert_int_eq(dt_sysg(t, &r, "inspect", "-s", svc, NULL), 0);
	ck_assert_msg(contains(r.out, cause), "inspect said: %s", r.out);
	run_result_free(&r);
	log = dt_read(t, "state/logs/supervisor.log");
	ck_assert_msg(contains(log, cause), "supervisor.log: %s", log);
	free(log);
}

START_TEST(test_connection_refused)
{
	struct dt t;
	struct run_result r;
	int port = free_port();
	char cause[64];

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  web:\n    command: \"sleep 1000\"\n"
		 "    health_check: { url: \"http://127.0.0.1:%d/health\", "
		 "interval: 50ms, timeout: 300ms, retries: 2 }\n", port);
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "--daemonize", NULL), 1);
	dt_track(&t, dt_daemon_pid(&t));
	snprintf(cause, sizeof(cause), "connection refused on 127.0.0.1:%d",
		 port);
	check_everywhere(&t, "web", cause, r.err);
	run_result_free(&r);
	dt_teardown(&t);
}
END_TEST

/* A server that answers 503 to everything on PORT. */
static const char http503_py[] =
	"import http.server, sys\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def do_GET(self):\n"
	"        self.send_response(503); self.end_headers()\n"
	"    def log_message(self, *a): pass\n"
	"http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H)"
	".serve_forever()\n";

START_TEST(test_http_503)
{
	struct dt t;
	struct run_result r;
	int port = free_port();

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  web:\n    command: \"python3 srv.py %d\"\n"
		 "    health_check: { url: \"http://127.0.0.1:%d/\", "
		 "interval: 100ms, timeout: 1s, retries: 2 }\n", port, port);
	dt_write(&t, "srv.py", http503_py);
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "--daemonize", NULL), 1);
	dt_track(&t, dt_daemon_pid(&t));
	check_everywhere(&t, "web", "HTTP 503", r.err);
	run_result_free(&r);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_command_stderr)
{
	struct dt t;
	struct run_result r;

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  web:\n    command: \"sleep 1000\"\n"
		 "    health_check: { command: \"echo; echo db is down >&2; "
		 "echo more >&2; exit 4\", interval: 50ms, timeout: 300ms, "
		 "retries: 2 }\n");
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "--daemonize", NULL), 1);
	dt_track(&t, dt_daemon_pid(&t));
	check_everywhere(&t, "web", "command exited 4: db is down", r.err);
	ck_assert(!contains(r.err, "more"));
	run_result_free(&r);
	dt_teardown(&t);
}
END_TEST

static int restarted(void *arg)
{
	struct dt *t = arg;
	json_t *j = dt_status(t, 0), *u = j ? dt_unit(j, "a") : NULL;
	int ok = u && json_integer_value(json_object_get(u, "restarts")) == 1 &&
		 !strcmp(json_string_value(json_object_get(u, "status")),
			 "running");

	json_decref(j);
	return ok;
}

/* kill -9 of a service: after the automatic restart, LAST EXIT still
 * says SIGKILL (it used to read "-"). */
START_TEST(test_crash_restart_keeps_last_exit)
{
	struct dt t;
	struct run_result r;
	json_t *j, *le;
	pid_t pid;

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  a: { command: \"sleep 1000\", restart_policy: always, "
		 "backoff: 50ms, ready_after: 50ms }\n");
	dt_start_daemon(&t);
	pid = dt_pid(&t, "a");
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert(tu_wait_for(restarted, &t, 5000, 20));
	j = dt_status(&t, 0);
	le = json_object_get(dt_unit(j, "a"), "last_exit");
	ck_assert(json_is_object(le));
	ck_assert_int_eq(json_integer_value(json_object_get(le, "signal")), 9);
	ck_assert(json_is_null(json_object_get(le, "code")));
	ck_assert_int_ne(dt_pid(&t, "a"), pid);
	json_decref(j);
	ck_assert_int_eq(dt_sysg(&t, &r, "status", NULL), 0);
	ck_assert_msg(contains(r.out, "SIGKILL"), "%s", r.out);
	run_result_free(&r);
	/* item 11: once everything is stopped, overall is not healthy */
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	j = dt_status(&t, 0);
	ck_assert_str_eq(json_string_value(json_object_get(j, "overall_health")),
			 "failing");
	json_decref(j);
	dt_teardown(&t);
}
END_TEST

static Suite *make_health_cause_suite(void)
{
	Suite *s = suite_create("health_cause");
	TCase *tc = tcase_create("why");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_test(tc, test_connection_refused);
	tcase_add_test(tc, test_http_503);
	tcase_add_test(tc, test_command_stderr);
	tcase_add_test(tc, test_crash_restart_keeps_last_exit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_health_cause_suite());
}
