/* check_concurrency.c - many CLI invocations at once against one
 * resident supervisor: all succeed or fail cleanly, the final state is
 * consistent and no unit record is lost (both state backends); several
 * `start --daemonize` at once start exactly one supervisor. Needs
 * $SYSG_BIN (set by make check). */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemontest.h"
#include "plugin/plugin.h"
#include "proc/proc.h"
#include "testutil.h"

#define NSVC 10
#define NCLI 20

static const char *const backends[] = { NULL, "sqlite" };

static void ten_services(struct dt *t, const char *backend)
{
	char yaml[2048];
	size_t used = (size_t)snprintf(yaml, sizeof(yaml),
				       "version: \"1\"\nservices:\n");

	for (int i = 0; i < NSVC; i++)
		used += (size_t)snprintf(yaml + used, sizeof(yaml) - used,
					 "  s%d: { command: \"sleep 1000\", "
					 "ready_after: \"20ms\" }\n", i);
	dt_setup(t, backend, "%s", yaml);
}

/* Run ARGV (sysg arguments) in a child; returns its pid. The child exits
 * with sysg's status and prints its stderr when that is not 0. */
static pid_t spawn_cli(struct dt *t, const char *const *args)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		const char *argv[16];
		struct run_result r;
		int n = 0;

		argv[n++] = getenv("SYSG_BIN");
		if (t->backend) {
			argv[n++] = "--state-backend";
			argv[n++] = t->backend;
		}
		for (int i = 0; args[i] && n < 15; i++)
			argv[n++] = args[i];
		argv[n] = NULL;
		if (run_capture((char *const *)argv, t->dir, t->env, 30000, &r) < 0)
			_exit(120);
		if (r.status)
			fprintf(stderr, "%s: exit %d: %s\n", args[0], r.status,
				r.err);
		_exit(r.status);
	}
	return pid;
}

/* The unit records in the state backend, as name -> record. */
struct records {
	struct sysg_unit_record v[64];
	int n;
};

static int add_rec(void *arg, const struct sysg_unit_record *u)
{
	struct records *r = arg;

	if (r->n < 64)
		r->v[r->n++] = *u;
	return 0;
}

static const struct sysg_unit_record *rec_of(const struct records *r,
					     const char *name)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].name, name))
			return &r->v[i];
	return NULL;
}

static void read_records(struct dt *t, struct records *out)
{
	struct sysg_plugin_path pp;
	struct sysg_state *st;
	char err[512];

	memset(out, 0, sizeof(*out));
	ck_assert_int_eq(sysg_plugin_path_init(&pp, NULL), 0);
	ck_assert_msg(sysg_state_open(&st, &pp, t->backend, t->state, NULL, err,
				      sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(sysg_state_list_units(st, add_rec, out), 0);
	sysg_state_close(st);
	sysg_plugin_path_free(&pp);
}

START_TEST(test_twenty_clients)
{
	static const char *const ops[NCLI][5] = {
		{ "stop", "-s", "s0" }, { "stop", "-s", "s1" },
		{ "stop", "-s", "s2" }, { "stop", "-s", "s3" },
		{ "restart", "-s", "s4" }, { "restart", "-s", "s5" },
		{ "restart", "-s", "s6" }, { "restart", "-s", "s7" },
		{ "start", "-s", "s8" }, { "start", "-s", "s9" },
		{ "status", "--json" }, { "status" }, { "status", "-s", "s4" },
		{ "status", "--all" }, { "status", "--json", "-s", "s0" },
		{ "inspect", "-s", "s8" }, { "inspect", "-s", "s9", "--json" },
		{ "logs", "--kind", "supervisor" }, { "status" },
		{ "logs", "-s", "s1" },
	};
	pid_t before[NSVC], kids[NCLI];
	struct records rec;
	struct dt t;
	char name[8];

	ten_services(&t, backends[_i]);
	dt_start_daemon(&t);
	for (int i = 0; i < NSVC; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		before[i] = dt_pid(&t, name);
		ck_assert_int_gt(before[i], 0);
	}
	for (int i = 0; i < NCLI; i++)
		kids[i] = spawn_cli(&t, ops[i]);
	for (int i = 0; i < NCLI; i++) {
		int status;

		ck_assert_int_eq(waitpid(kids[i], &status, 0), kids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "%s %s failed: %d", ops[i][0],
			      ops[i][1] ? ops[i][1] : "", status);
	}
	/* the supervisor's view */
	for (int i = 0; i < NSVC; i++) {
		char st[32];
		pid_t now;

		snprintf(name, sizeof(name), "s%d", i);
		now = dt_pid(&t, name);
		dt_status_of(&t, name, st, sizeof(st));
		if (i < 4) {
			ck_assert_str_eq(st, "stopped");
			ck_assert(dt_wait_gone(before[i], 2000));
		} else {
			ck_assert_str_eq(st, "running");
			ck_assert(i < 8 ? now != before[i] : now == before[i]);
		}
	}
	/* the state backend lost nothing */
	read_records(&t, &rec);
	ck_assert_int_eq(rec.n, NSVC);
	for (int i = 0; i < NSVC; i++) {
		const struct sysg_unit_record *u;

		snprintf(name, sizeof(name), "s%d", i);
		u = rec_of(&rec, name);
		ck_assert_msg(u != NULL, "no record of %s", name);
		ck_assert_str_eq(u->status, i < 4 ? "stopped" : "running");
		if (i >= 4)
			ck_assert_int_eq(u->pid, dt_pid(&t, name));
	}
	ck_assert_int_eq(dt_count_supervisors(&t), 1);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_concurrent_daemonize)
{
	static const char *const start[] = { "start", "--daemonize", NULL };
	pid_t kids[5], sup;
	struct dt t;

	ten_services(&t, NULL);
	for (int i = 0; i < 5; i++)
		kids[i] = spawn_cli(&t, start);
	for (int i = 0; i < 5; i++) {
		int status;

		ck_assert_int_eq(waitpid(kids[i], &status, 0), kids[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	sup = dt_daemon_pid(&t);
	dt_track(&t, sup);
	ck_assert(sysg_proc_is_alive(sup, 0));
	ck_assert_int_eq(dt_count_supervisors(&t), 1);
	for (int i = 0; i < NSVC; i++) {
		char name[8], st[32];

		snprintf(name, sizeof(name), "s%d", i);
		ck_assert_str_eq(dt_status_of(&t, name, st, sizeof(st)), "running");
	}
	dt_teardown(&t);
}
END_TEST

static Suite *make_concurrency_suite(void)
{
	Suite *s = suite_create("concurrency");
	TCase *tc = tcase_create("clients");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_loop_test(tc, test_twenty_clients, 0, 2);
	tcase_add_test(tc, test_concurrent_daemonize);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_concurrency_suite());
}
