/* check_children.c - managed children (child mode): attachment to the
 * service owning the parent pid, spawn limits, TTL, cascade, and
 * teardown with the service. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enginetest.h"
#include "testutil.h"

static char *const sleeper[] = { "sleep", "30", NULL };

static pid_t main_pid(struct et *t, const char *name)
{
	return (pid_t)et_unit(t, name).pid;
}

START_TEST(test_child_attached_and_listed)
{
	struct et t;
	struct sysg_child_info info[4];
	char err[256];
	pid_t child = 0;

	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  web: { command: \"sleep 30\", ready_after: \"20ms\" }\n"
		 "  db: { command: \"sleep 30\", ready_after: \"20ms\" }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "web", "running", 3000), 0);
	ck_assert_int_eq(et_wait_status(&t, "db", "running", 3000), 0);
	ck_assert_int_eq(sysg_supervisor_spawn_child(t.sup, main_pid(&t, "web"),
						     "worker", 0, sleeper, &child,
						     err, sizeof(err)), 0);
	ck_assert_int_gt(child, 0);
	ck_assert(et_alive(child));
	ck_assert_uint_eq(sysg_supervisor_children(t.sup, "web", info, 4), 1);
	ck_assert_str_eq(info[0].name, "worker");
	ck_assert_str_eq(info[0].service, "web");
	ck_assert_int_eq(info[0].depth, 1);
	ck_assert_uint_eq(sysg_supervisor_children(t.sup, "db", info, 4), 0);
	/* The name is taken now; a pid nobody owns is refused. */
	ck_assert_int_eq(sysg_supervisor_spawn_child(t.sup, main_pid(&t, "web"),
						     "worker", 0, sleeper, &child,
						     err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(sysg_supervisor_spawn_child(t.sup, 1, "x", 0, sleeper,
						     &child, err, sizeof(err)),
			 -ESRCH);
	ck_assert_ptr_nonnull(strstr(err, "contains pid 1"));
	/* Stopping the service takes the child along. */
	sysg_supervisor_stop_service(t.sup, "web");
	ck_assert_int_eq(et_wait_status(&t, "web", "stopped", 5000), 0);
	ck_assert_int_eq(et_wait_dead(&t, child, 3000), 1);
	et_run_for(&t, 50);
	ck_assert_uint_eq(sysg_supervisor_children(t.sup, NULL, info, 4), 0);
	et_teardown(&t);
}
END_TEST

START_TEST(test_spawn_limits)
{
	struct et t;
	char err[256];
	pid_t a = 0, b = 0, gc = 0, web;

	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  web:\n"
		 "    command: \"sleep 30\"\n"
		 "    ready_after: \"20ms\"\n"
		 "    spawn: { mode: dynamic, limits: { children: 1, depth: 2,\n"
		 "             descendants: 2 } }\n"
		 "  fixed:\n"
		 "    command: \"sleep 30\"\n"
		 "    ready_after: \"20ms\"\n"
		 "    spawn: { mode: static }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "web", "running", 3000), 0);
	ck_assert_int_eq(et_wait_status(&t, "fixed", "running", 3000), 0);
	web = main_pid(&t, "web");
	ck_assert_int_eq(sysg_supervisor_spawn_child(t.sup, web, "a", 0, sleeper,
						     &a, err, sizeof(err)), 0);
	/* children: 1 per parent */
	ck_assert_int_eq(sysg_supervisor_spawn_child(t.sup, web, "b", 0, sleeper,
						     &b, err, sizeof(err)), -EDQUOT);
	ck_assert_ptr_nonnull(strstr(err, "spawn.limits.children"));
	/* a grandchild (depth 2) is fine ... */
	ck_assert_int_eq(sysg_supervisor_spawn_child(t.sup, a, "gc", 0, sleeper,
						     &gc, err, sizeof(err)), 0);
	/* ... a third descendant is not (depth 3 would not be either) */
	ck_assert_int_eq(sysg_supervisor_spawn_child(t.sup, gc, "ggc", 0, sleeper,
						     &b, err, sizeof(err)), -EDQUOT);
	ck_assert_int_eq(sysg_supervisor_spawn_child(t.sup, main_pid(&t, "fixed"),
						     "x", 0, sleeper, &b, err,
						     sizeof(err)), -EPERM);
	ck_assert_ptr_nonnull(strstr(err, "static"));
	/* cascade: killing the middle child takes the grandchild with it */
	kill(a, SIGKILL);
	ck_assert_int_eq(et_wait_dead(&t, gc, 3000), 1);
	et_teardown(&t);
}
END_TEST

START_TEST(test_ttl)
{
	struct et t;
	struct sysg_unit_record u;
	char err[256];
	pid_t child = 0;

	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  web: { command: \"sleep 30\", ready_after: \"20ms\" }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "web", "running", 3000), 0);
	ck_assert_int_eq(sysg_supervisor_spawn_child(t.sup, main_pid(&t, "web"),
						     "short", 200, sleeper,
						     &child, err, sizeof(err)), 0);
	ck_assert_int_eq(et_wait_dead(&t, child, 3000), 1);
	et_run_for(&t, 50);
	ck_assert_int_eq(sysg_state_get_unit(t.st, "web/short", &u), 0);
	ck_assert_str_eq(u.kind, "child");
	ck_assert_str_eq(u.status, "stopped");
	ck_assert_str_eq(u.reason, "ttl expired");
	/* the service itself is untouched */
	ck_assert_str_eq(sysg_supervisor_status(t.sup, "web"), "running");
	et_teardown(&t);
}
END_TEST

static Suite *make_children_suite(void)
{
	Suite *s = suite_create("children");
	TCase *tc = tcase_create("children");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_child_attached_and_listed);
	tcase_add_test(tc, test_spawn_limits);
	tcase_add_test(tc, test_ttl);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_children_suite());
}
