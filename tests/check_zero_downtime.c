/* check_zero_downtime.c - zero downtime without a proxy (issue 10): a
 * Python HTTP service (one instance, or three) on a port sysg holds, a load loop of 3,000 requests
 * against that port, and `sysg restart -s web` during it: no request
 * fails, no connection is refused, every request sent after the restart
 * returned is answered by the new run (bench/zero_downtime.py does the
 * run and the counting). And a new run that fails leaves the old one
 * serving. Black-box: runs $SYSG_BIN. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "daemontest.h"
#include "testutil.h"

static json_t *run_bench_before(const char *instances, const char *readiness,
				const char *op, const char *strategy,
				const char *before)
{
	/* three copies are replaced one by one: a longer load outlasts it */
	const char *requests = strcmp(instances, "1") ? "2500" : "1000";
	const char *src = getenv("SYSG_SRCDIR"), *bin = getenv("SYSG_BIN");
	char script[4200];
	struct run_result r;
	json_error_t e;
	json_t *doc;
	char *argv[] = { "/usr/bin/env", "python3", script, (char *)bin,
			 "--instances", (char *)instances, "--requests", (char *)requests,
			 "--clients", "3", "--readiness", (char *)readiness,
			 "--op", (char *)op, "--strategy",
			 (char *)(strategy ? strategy : "immediate"),
			 before ? "--before" : NULL, (char *)before, NULL };

	ck_assert_ptr_nonnull(src);
	ck_assert_ptr_nonnull(bin);
	snprintf(script, sizeof(script), "%s/bench/zero_downtime.py", src);
	ck_assert_int_eq(run_capture(argv, NULL, NULL, 120000, &r), 0);
	doc = json_loads(r.out, 0, &e);
	ck_assert_msg(doc != NULL, "no JSON: %s\n%s", r.out, r.err);
	ck_assert_msg(r.status == 0, "%s\n%s", r.out, r.err);
	run_result_free(&r);
	return doc;
}

static json_t *run_bench_full(const char *instances, const char *readiness,
			      const char *op, const char *strategy)
{
	return run_bench_before(instances, readiness, op, strategy, NULL);
}

static json_t *run_bench_op(const char *instances, const char *readiness,
			    const char *op)
{
	return run_bench_full(instances, readiness, op, NULL);
}

static json_t *run_bench(const char *instances, const char *readiness)
{
	return run_bench_op(instances, readiness, "restart");
}

static long num(json_t *doc, const char *key)
{
	json_t *v = json_object_get(doc, key);

	ck_assert_msg(json_is_integer(v), "no %s", key);
	return (long)json_integer_value(v);
}

static void expect_zero_downtime(json_t *doc)
{
	char *text = json_dumps(doc, 0);

	ck_assert_msg(num(doc, "requests") >= 3000, "%s", text);
	ck_assert_msg(num(doc, "failed") == 0, "%s", text);
	ck_assert_msg(num(doc, "refused") == 0, "%s", text);
	ck_assert_msg(num(doc, "stale_after_restart") == 0, "%s", text);
	/* after a deploy, the new definition answers (its GEN) */
	ck_assert_msg(num(doc, "old_generation_after") == 0, "%s", text);
	ck_assert_msg(num(doc, "after_last_restart") > 0, "%s", text);
	ck_assert_msg(json_is_true(json_object_get(doc, "pids_changed")), "%s",
		      text);
	/* --before kill|upgrade: the new supervisor holds the socket */
	ck_assert_msg(!json_object_get(doc, "supervisor_holds_socket") ||
		      json_is_true(json_object_get(doc,
						   "supervisor_holds_socket")),
		      "%s", text);
	free(text);
}

START_TEST(test_restart_one_instance_notify)
{
	json_t *doc = run_bench("1", "notify");

	expect_zero_downtime(doc);
	json_decref(doc);
}
END_TEST

/* `sysg deploy` (the deploy worker, immediate strategy) of a service
 * whose socket sysg holds: the port never closes either. */
START_TEST(test_deploy_one_instance)
{
	json_t *doc = run_bench_op("1", "notify", "deploy");

	expect_zero_downtime(doc);
	json_decref(doc);
}
END_TEST

/* The same with the rolling strategy: the new instance starts beside
 * the old one on the same socket, ready (READY=1) before the old one
 * gets SIGTERM. */
START_TEST(test_rolling_deploy_one_instance)
{
	json_t *doc = run_bench_full("1", "notify", "deploy", "rolling");

	expect_zero_downtime(doc);
	json_decref(doc);
}
END_TEST

/* Three copies under load: a rolling restart, then a rolling deploy of
 * a new definition through the deploy worker (one copy at a time), then
 * every answer comes from the new generation. */
START_TEST(test_rolling_deploy_three_instances)
{
	json_t *doc = run_bench_full("3", "notify", "restart,deploy",
				     "rolling");

	expect_zero_downtime(doc);
	json_decref(doc);
}
END_TEST

/* The supervisor is SIGKILLed and a new one adopts the three copies: it
 * takes the listening socket back from them (pidfd_getfd), so the next
 * restart and deploy still hand the same socket over. */
START_TEST(test_sockets_survive_supervisor_kill)
{
	json_t *doc = run_bench_before("3", "notify", "restart,deploy",
				       "rolling", "kill");

	ck_assert(json_is_true(json_object_get(doc, "supervisor_pid_changed")));
	expect_zero_downtime(doc);
	json_decref(doc);
}
END_TEST

/* The same across `sysg upgrade` (the supervisor re-executes itself). */
START_TEST(test_sockets_survive_upgrade)
{
	json_t *doc = run_bench_before("1", "notify", "restart,deploy",
				       "rolling", "upgrade");

	expect_zero_downtime(doc);
	json_decref(doc);
}
END_TEST

/* Three copies on one socket, replaced one at a time (max_parallel 1). */
START_TEST(test_rolling_restart_three_instances)
{
	json_t *doc = run_bench("3", "notify");

	expect_zero_downtime(doc);
	json_decref(doc);
}
END_TEST

START_TEST(test_restart_one_instance_settle)
{
	json_t *doc = run_bench("1", "settle");

	expect_zero_downtime(doc);
	json_decref(doc);
}
END_TEST

/* The new run exits before it is ready: the restart fails, the old run
 * was never stopped. */
START_TEST(test_failed_new_run_keeps_old)
{
	struct dt t;
	struct run_result r;
	char cmd[4400];
	json_t *st;
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "%s/bench/zdt_server.py",
		 getenv("SYSG_SRCDIR"));
	dt_setup(&t, NULL,
		 "version: \"1\"\n"
		 "services:\n"
		 "  web:\n"
		 "    command: \"sh -c 'if [ -e second ]; then exit 3; fi; "
		 "touch second; exec python3 %s g0'\"\n"
		 "    readiness: notify\n"
		 "    listen: [ \"tcp://127.0.0.1:%d\" ]\n", cmd, tu_free_port());
	dt_start_daemon(&t);
	pid = dt_pid(&t, "web");
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(dt_sysg(&t, &r, "restart", "-s", "web", NULL), 1);
	ck_assert_msg(strstr(r.err, "service web: restart failed: the new run "
			     "exited before it was ready (code 3)"), "%s",
		      r.err);
	run_result_free(&r);
	ck_assert_int_eq(dt_pid(&t, "web"), pid);
	st = dt_status(&t, 0);
	ck_assert_str_eq(json_string_value(json_object_get(dt_unit(st, "web"),
							   "status")),
			 "running");
	json_decref(st);
	dt_teardown(&t);
}
END_TEST

static Suite *make_zero_downtime_suite(void)
{
	Suite *s = suite_create("zero_downtime");
	TCase *tc = tcase_create("restart");

	tcase_set_timeout(tc, 150);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_test(tc, test_restart_one_instance_notify);
	tcase_add_test(tc, test_restart_one_instance_settle);
	tcase_add_test(tc, test_rolling_restart_three_instances);
	tcase_add_test(tc, test_deploy_one_instance);
	tcase_add_test(tc, test_rolling_deploy_one_instance);
	tcase_add_test(tc, test_rolling_deploy_three_instances);
	tcase_add_test(tc, test_sockets_survive_supervisor_kill);
	tcase_add_test(tc, test_sockets_survive_upgrade);
	tcase_add_test(tc, test_failed_new_run_keeps_old);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_zero_downtime_suite());
}
