/* check_projects.c - several projects in one supervisor (issue 16):
 * a second `sysg start -c FILE` registers FILE's services (and its
 * `projects:`) with the running supervisor, a service name repeats across
 * projects (web, web@shop, web@blog: own pids, own log files), `-p ID`
 * targets one project in status, logs, inspect, restart, deploy and
 * stop, `stop -p ID` stops and unregisters that project only, and
 * `stop --supervisor` stops everything. A single file stays as it was:
 * no "project" in status --json. Black-box: runs $SYSG_BIN. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemontest.h"
#include "proc/proc.h"
#include "testutil.h"

#define HOME_YAML "version: \"1\"\nservices:\n" \
	"  web: { command: \"sh -c 'echo home-web; exec sleep 300'\" }\n"

#define SHOP_YAML "version: \"1\"\nservices:\n" \
	"  db: { command: \"sleep 300\" }\n" \
	"  web: { command: \"sh -c 'echo shop-web; exec sleep 300'\",\n" \
	"         depends_on: [db] }\n"

#define MULTI_YAML "version: \"1\"\nprojects:\n" \
	"  blog:\n    name: The blog\n    services:\n" \
	"      web: { command: \"sh -c 'echo blog-web; exec sleep 300'\" }\n"

static const char *str_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* sysg ARGS... must exit with CODE; the output is kept in R. */
#define SYSG_EXPECT(t, r, code, ...) do {				\
		int rc_ = dt_sysg((t), (r), __VA_ARGS__, NULL);		\
		ck_assert_msg(rc_ == (code), "exit %d (want %d)\n%s%s",	\
			      rc_, (code), (r)->out, (r)->err);		\
	} while (0)

/* The home file (web), shop.yaml (db, web) and multi.yaml (projects:
 * blog: web) in one supervisor; every pid tracked. */
static void three_projects(struct dt *t)
{
	struct run_result r;

	dt_setup(t, NULL, HOME_YAML);
	dt_write(t, "shop.yaml", SHOP_YAML);
	dt_write(t, "multi.yaml", MULTI_YAML);
	dt_start_daemon(t);
	SYSG_EXPECT(t, &r, 0, "start", "-c", "shop.yaml", "--daemonize");
	ck_assert_msg(strstr(r.out, "project shop registered"), "%s", r.out);
	run_result_free(&r);
	/* without --daemonize too: it registers and returns */
	SYSG_EXPECT(t, &r, 0, "start", "-c", "multi.yaml");
	ck_assert_msg(strstr(r.out, "project blog registered"), "%s", r.out);
	run_result_free(&r);
	ck_assert(dt_wait_status(t, "web", "running", 10000));
	ck_assert(dt_wait_status(t, "web@shop", "running", 10000));
	ck_assert(dt_wait_status(t, "db@shop", "running", 10000));
	ck_assert(dt_wait_status(t, "web@blog", "running", 10000));
	dt_track(t, dt_pid(t, "web"));
	dt_track(t, dt_pid(t, "web@shop"));
	dt_track(t, dt_pid(t, "db@shop"));
	dt_track(t, dt_pid(t, "web@blog"));
}

START_TEST(test_same_name_in_two_projects)
{
	struct dt t;
	json_t *st;
	pid_t home, shop, blog;

	three_projects(&t);
	home = dt_pid(&t, "web");
	shop = dt_pid(&t, "web@shop");
	blog = dt_pid(&t, "web@blog");
	ck_assert_int_gt(home, 0);
	ck_assert_int_gt(shop, 0);
	ck_assert_int_gt(blog, 0);
	ck_assert_int_ne(home, shop);
	ck_assert_int_ne(shop, blog);
	ck_assert_int_eq(dt_count_supervisors(&t), 1);
	/* each unit says its project */
	st = dt_status(&t, 0);
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(str_of(dt_unit(st, "web@shop"), "project"), "shop");
	ck_assert_str_eq(str_of(dt_unit(st, "db@shop"), "project"), "shop");
	ck_assert_str_eq(str_of(dt_unit(st, "web@blog"), "project"), "blog");
	ck_assert_str_ne(str_of(dt_unit(st, "web"), "project"), "");
	json_decref(st);
	/* logs are kept per project */
	ck_assert(dt_wait_file(&t, "state/logs/web@shop_stdout.log",
			       "shop-web", 5000));
	ck_assert(dt_wait_file(&t, "state/logs/web@blog_stdout.log",
			       "blog-web", 5000));
	ck_assert(dt_wait_file(&t, "state/logs/web_stdout.log", "home-web",
			       5000));
	dt_teardown(&t);
}
END_TEST

/* -p on status, logs, inspect, restart, deploy; an unknown one. */
START_TEST(test_project_option_on_each_command)
{
	struct dt t;
	struct run_result r;
	json_t *st, *doc;
	pid_t home, shop, db, blog;
	size_t i;
	json_t *u;

	three_projects(&t);
	home = dt_pid(&t, "web");
	shop = dt_pid(&t, "web@shop");
	db = dt_pid(&t, "db@shop");
	blog = dt_pid(&t, "web@blog");
	/* status -p: that project's units only (by id, or by file) */
	SYSG_EXPECT(&t, &r, 0, "status", "-p", "shop", "--json");
	st = json_loads(r.out, 0, NULL);
	ck_assert_ptr_nonnull(st);
	ck_assert_uint_eq(json_array_size(json_object_get(st, "units")), 2);
	json_array_foreach(json_object_get(st, "units"), i, u)
		ck_assert_str_eq(str_of(u, "project"), "shop");
	json_decref(st);
	run_result_free(&r);
	SYSG_EXPECT(&t, &r, 0, "status", "-p", "shop.yaml");
	ck_assert_msg(strstr(r.out, "web@shop") && !strstr(r.out, "blog"),
		      "%s", r.out);
	run_result_free(&r);
	SYSG_EXPECT(&t, &r, 0, "status", "-p", "sysg.yaml", "--json");
	st = json_loads(r.out, 0, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(st, "units")), 1);
	ck_assert_ptr_nonnull(dt_unit(st, "web"));
	json_decref(st);
	run_result_free(&r);
	/* status without -p: every project, grouped */
	SYSG_EXPECT(&t, &r, 0, "status", "--no-color");
	ck_assert_msg(strstr(r.out, "project shop\n") &&
		      strstr(r.out, "project blog\n"), "%s", r.out);
	run_result_free(&r);
	SYSG_EXPECT(&t, &r, 2, "status", "-p", "nope");
	ck_assert_msg(strstr(r.err, "unknown project 'nope'"), "%s", r.err);
	run_result_free(&r);
	/* logs -p: shop's web, not the home one's nor the blog's */
	SYSG_EXPECT(&t, &r, 0, "logs", "-p", "shop", "-s", "web", "-n", "5");
	ck_assert_msg(strstr(r.out, "shop-web") && !strstr(r.out, "home-web") &&
		      !strstr(r.out, "blog-web"), "%s", r.out);
	run_result_free(&r);
	SYSG_EXPECT(&t, &r, 0, "logs", "-p", "blog", "-n", "5");
	ck_assert_msg(strstr(r.out, "blog-web") && !strstr(r.out, "shop-web"),
		      "%s", r.out);
	run_result_free(&r);
	/* inspect -p */
	SYSG_EXPECT(&t, &r, 0, "inspect", "-p", "shop", "-s", "web", "--json");
	doc = json_loads(r.out, 0, NULL);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(str_of(json_object_get(doc, "unit"), "name"),
			 "web@shop");
	json_decref(doc);
	run_result_free(&r);
	/* restart -p -s: that one only */
	SYSG_EXPECT(&t, &r, 0, "restart", "-p", "shop", "-s", "web");
	run_result_free(&r);
	ck_assert(dt_wait_gone(shop, 10000));
	ck_assert(dt_wait_status(&t, "web@shop", "running", 10000));
	ck_assert_int_ne(dt_pid(&t, "web@shop"), shop);
	shop = dt_pid(&t, "web@shop");
	dt_track(&t, shop);
	ck_assert_int_eq(dt_pid(&t, "web"), home);
	ck_assert_int_eq(dt_pid(&t, "web@blog"), blog);
	ck_assert_int_eq(dt_pid(&t, "db@shop"), db);
	/* restart -p: every service of the project, no other */
	SYSG_EXPECT(&t, &r, 0, "restart", "-p", "blog");
	run_result_free(&r);
	ck_assert(dt_wait_gone(blog, 10000));
	ck_assert(dt_wait_status(&t, "web@blog", "running", 10000));
	dt_track(&t, dt_pid(&t, "web@blog"));
	ck_assert_int_eq(dt_pid(&t, "web"), home);
	ck_assert_int_eq(dt_pid(&t, "web@shop"), shop);
	/* deploy -p -s: from shop.yaml's current definition */
	dt_write(&t, "shop.yaml", "version: \"1\"\nservices:\n"
		 "  db: { command: \"sleep 300\" }\n"
		 "  web: { command: \"sh -c 'echo shop-v2; exec sleep 300'\",\n"
		 "         depends_on: [db] }\n");
	SYSG_EXPECT(&t, &r, 0, "deploy", "-p", "shop", "-s", "web");
	ck_assert_msg(strstr(r.out, "success"), "%s", r.out);
	run_result_free(&r);
	ck_assert(dt_wait_gone(shop, 10000));
	ck_assert(dt_wait_file(&t, "state/logs/web@shop_stdout.log",
			       "shop-v2", 5000));
	dt_track(&t, dt_pid(&t, "web@shop"));
	ck_assert_int_eq(dt_pid(&t, "web"), home);
	SYSG_EXPECT(&t, &r, 0, "deploy", "--history", "-p", "shop", "-s",
		    "web");
	ck_assert_msg(strstr(r.out, "web@shop"), "%s", r.out);
	run_result_free(&r);
	dt_teardown(&t);
}
END_TEST

/* stop -p: that project only, and it is gone from the supervisor;
 * stop --supervisor: everything. */
START_TEST(test_stop_one_project)
{
	struct dt t;
	struct run_result r;
	pid_t home, shop, db, blog, sup;
	json_t *st;
	char *reg;

	three_projects(&t);
	sup = dt_daemon_pid(&t);
	home = dt_pid(&t, "web");
	shop = dt_pid(&t, "web@shop");
	db = dt_pid(&t, "db@shop");
	blog = dt_pid(&t, "web@blog");
	reg = dt_read(&t, "state/projects");
	ck_assert_msg(reg && strstr(reg, "/shop.yaml\n") &&
		      strstr(reg, "/multi.yaml\n"), "%s", reg ? reg : "(none)");
	free(reg);
	SYSG_EXPECT(&t, &r, 0, "stop", "-p", "shop");
	ck_assert_msg(strstr(r.out, "project shop stopped and unregistered"),
		      "%s", r.out);
	run_result_free(&r);
	ck_assert(dt_wait_gone(shop, 10000));
	ck_assert(dt_wait_gone(db, 10000));
	ck_assert(sysg_proc_is_alive(home, 0));
	ck_assert(sysg_proc_is_alive(blog, 0));
	ck_assert(sysg_proc_is_alive(sup, 0));
	st = dt_status(&t, 0);
	ck_assert_ptr_nonnull(st);
	ck_assert_ptr_null(dt_unit(st, "web@shop"));
	ck_assert_str_eq(str_of(dt_unit(st, "web@blog"), "status"), "running");
	ck_assert_str_eq(str_of(dt_unit(st, "web"), "status"), "running");
	json_decref(st);
	reg = dt_read(&t, "state/projects");
	ck_assert_msg(reg && !strstr(reg, "shop.yaml") &&
		      strstr(reg, "multi.yaml"), "%s", reg ? reg : "(none)");
	free(reg);
	SYSG_EXPECT(&t, &r, 2, "stop", "-p", "shop");
	run_result_free(&r);
	/* registered again: it comes back */
	SYSG_EXPECT(&t, &r, 0, "start", "-c", "shop.yaml", "-d");
	run_result_free(&r);
	ck_assert(dt_wait_status(&t, "web@shop", "running", 10000));
	dt_track(&t, dt_pid(&t, "web@shop"));
	dt_track(&t, dt_pid(&t, "db@shop"));
	/* every project and the supervisor */
	SYSG_EXPECT(&t, &r, 0, "stop", "--supervisor");
	run_result_free(&r);
	ck_assert(dt_wait_gone(sup, 10000));
	ck_assert(dt_wait_gone(home, 10000));
	ck_assert(dt_wait_gone(blog, 10000));
	ck_assert(!dt_exists(&t, "state/projects"));
	dt_teardown(&t);
}
END_TEST

/* The supervisor dies (SIGKILL): the registered files are in the state
 * directory, the offline status shows their services, and the next
 * start --daemonize adopts them (same pids). */
START_TEST(test_projects_survive_supervisor_death)
{
	struct dt t;
	struct run_result r;
	pid_t sup, shop, blog;
	json_t *st;

	three_projects(&t);
	sup = dt_daemon_pid(&t);
	shop = dt_pid(&t, "web@shop");
	blog = dt_pid(&t, "web@blog");
	ck_assert_int_eq(kill(sup, SIGKILL), 0);
	ck_assert(dt_wait_gone(sup, 10000));
	st = dt_status(&t, 0);
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(str_of(dt_unit(st, "web@shop"), "status"), "running");
	json_decref(st);
	dt_start_daemon(&t);
	ck_assert(dt_wait_status(&t, "web@shop", "running", 10000));
	ck_assert_int_eq(dt_pid(&t, "web@shop"), shop);
	ck_assert_int_eq(dt_pid(&t, "web@blog"), blog);
	SYSG_EXPECT(&t, &r, 0, "stop", "-p", "blog");
	run_result_free(&r);
	ck_assert(dt_wait_gone(blog, 10000));
	ck_assert(sysg_proc_is_alive(shop, 0));
	dt_teardown(&t);
}
END_TEST

/* One file: status --json exactly as before projects (no "project"). */
START_TEST(test_single_file_unchanged)
{
	struct dt t;
	struct run_result r;
	json_t *st;

	dt_setup(&t, NULL, HOME_YAML);
	dt_start_daemon(&t);
	ck_assert(dt_wait_status(&t, "web", "running", 10000));
	dt_track(&t, dt_pid(&t, "web"));
	st = dt_status(&t, 0);
	ck_assert_ptr_nonnull(st);
	ck_assert_ptr_null(json_object_get(dt_unit(st, "web"), "project"));
	json_decref(st);
	SYSG_EXPECT(&t, &r, 0, "status", "--no-color");
	ck_assert_msg(!strstr(r.out, "project "), "%s", r.out);
	run_result_free(&r);
	ck_assert(!dt_exists(&t, "state/projects"));
	dt_teardown(&t);
}
END_TEST

static Suite *make_projects_suite(void)
{
	Suite *s = suite_create("projects");
	TCase *tc = tcase_create("projects");

	tcase_set_timeout(tc, 90);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_test(tc, test_same_name_in_two_projects);
	tcase_add_test(tc, test_project_option_on_each_command);
	tcase_add_test(tc, test_stop_one_project);
	tcase_add_test(tc, test_projects_survive_supervisor_death);
	tcase_add_test(tc, test_single_file_unchanged);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_projects_suite());
}
