/* check_units.c - unit mode, finished (SPEC 3, issue 10): `sysg start
 * [--name N] --daemonize -- CMD...` is a real unit: recorded, shown
 * running with its pid, stoppable, listed with kind "unit", and added to
 * a running supervisor when there is one (run in the directory it was
 * started from, kept across a reload). Black-box: runs $SYSG_BIN. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemontest.h"
#include "proc/proc.h"
#include "testutil.h"

static const char *str_of(json_t *unit, const char *key)
{
	const char *s = json_string_value(json_object_get(unit, key));

	return s ? s : "";
}

static void expect_unit(struct dt *t, const char *name, const char *status)
{
	json_t *st = dt_status(t, 0), *u;

	ck_assert_ptr_nonnull(st);
	u = dt_unit(st, name);
	ck_assert_msg(u != NULL, "no unit %s", name);
	ck_assert_str_eq(str_of(u, "kind"), "unit");
	ck_assert_str_eq(str_of(u, "status"), status);
	json_decref(st);
}

START_TEST(test_unit_alone)
{
	struct dt t;
	struct run_result r;
	pid_t pid;

	dt_setup(&t, NULL, "# unused\n");
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "--name", "sl", "--daemonize",
				 "--", "sleep", "300", NULL), 0);
	run_result_free(&r);
	dt_track(&t, dt_daemon_pid(&t));
	expect_unit(&t, "sl", "running");
	pid = dt_pid(&t, "sl");
	ck_assert_int_gt(pid, 0);
	dt_track(&t, pid);
	ck_assert(sysg_proc_is_alive(pid, 0));
	ck_assert_int_eq(dt_sysg(&t, &r, "stop", "-s", "sl", NULL), 0);
	run_result_free(&r);
	ck_assert(dt_wait_gone(pid, 10000));
	expect_unit(&t, "sl", "stopped");
	dt_teardown(&t);
}
END_TEST

START_TEST(test_unit_added_to_running_supervisor)
{
	struct dt t;
	struct run_result r;
	char sub[4200], *where;
	pid_t web, u;

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  web: { command: \"sleep 300\" }\n");
	dt_start_daemon(&t);
	web = dt_pid(&t, "web");
	ck_assert_int_gt(web, 0);
	snprintf(sub, sizeof(sub), "%s/sub", t.dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	ck_assert_int_eq(run_sysg(sub, t.env, &r, "start", "--daemonize",
				  "--name", "u", "--", "sh", "-c",
				  "pwd > where.txt; exec sleep 300", NULL), 0);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	expect_unit(&t, "u", "running");
	u = dt_pid(&t, "u");
	dt_track(&t, u);
	ck_assert_int_eq(dt_pid(&t, "web"), web);       /* untouched */
	ck_assert(dt_wait_file(&t, "sub/where.txt", "/sub\n", 5000));
	where = dt_read(&t, "sub/where.txt");
	ck_assert_msg(strstr(where, sub) == where, "%s", where);
	free(where);
	/* the name is taken */
	ck_assert_int_eq(run_sysg(sub, t.env, &r, "start", "--daemonize",
				  "--name", "web", "--", "true", NULL), 0);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "a service named 'web' already exists"),
		      "%s", r.err);
	run_result_free(&r);
	/* a reload of the file keeps the unit (restarted like the rest) */
	ck_assert_int_eq(dt_sysg(&t, &r, "restart", "--config", "sysg.yaml",
				 NULL), 0);
	run_result_free(&r);
	expect_unit(&t, "u", "running");
	u = dt_pid(&t, "u");
	dt_track(&t, u);
	ck_assert_int_eq(dt_sysg(&t, &r, "stop", "-s", "u", NULL), 0);
	run_result_free(&r);
	ck_assert(dt_wait_gone(u, 10000));
	expect_unit(&t, "u", "stopped");
	dt_teardown(&t);
}
END_TEST

static Suite *make_units_suite(void)
{
	Suite *s = suite_create("units");
	TCase *tc = tcase_create("unit mode");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_test(tc, test_unit_alone);
	tcase_add_test(tc, test_unit_added_to_running_supervisor);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_units_suite());
}
