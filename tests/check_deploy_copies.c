/* check_deploy_copies.c - `sysg deploy` of a service with `instances: N`
 * (SPEC 11, issue 10) through the deploy worker, black box: three copies
 * of bench/zdt_server.py on one socket sysg holds (`listen:`), a new
 * definition in the config (its GEN), and then: rolling with
 * max_parallel, a copy that fails (the copies already replaced go back),
 * blue_green (refused, saying so), immediate (all at once), and a
 * supervisor SIGKILLed in the middle (the next one keeps what was
 * promoted, stops the candidate, records the deploy aborted). Needs
 * $SYSG_BIN and $SYSG_SRCDIR (set by make check). */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "daemontest.h"
#include "testutil.h"

#define COPIES 3

/* The project: COPIES copies of the zdt server on PORT, running GEN
 * (GEN "bad": copy 1 exits with code 3 at once; "die": copy 2 is killed
 * once the file die.now exists), with DEPLOYMENT (lines
 * under `deployment:`, may be NULL). */
static void write_web(struct dt *t, int port, const char *gen,
		      const char *deployment)
{
	char yaml[4096];

	snprintf(yaml, sizeof(yaml),
		 "version: \"1\"\n"
		 "services:\n"
		 "  web:\n"
		 "    command: \"sh -c 'if [ $GEN = bad ] && "
		 "[ $SYSG_INSTANCE = 1 ]; then exit 3; fi; "
		 "if [ $GEN = die ] && [ $SYSG_INSTANCE = 2 ]; then "
		 "(while [ ! -e die.now ]; do sleep 0.1; done; kill $$) & "
		 "fi; "
		 "exec python3 %s/bench/zdt_server.py $GEN'\"\n"
		 "    env: { vars: { GEN: \"%s\" } }\n"
		 "    listen: [ \"tcp://127.0.0.1:%d\" ]\n"
		 "    instances: %d\n"
		 "    readiness: notify\n"
		 "    deployment:\n"
		 "      drain: 5s\n%s",
		 getenv("SYSG_SRCDIR"), gen, port, COPIES,
		 deployment ? deployment : "");
	dt_write(t, "sysg.yaml", yaml);
}

static void setup(struct dt *t, int port, const char *deployment)
{
	dt_setup(t, NULL, "version: \"1\"\n");
	write_web(t, port, "g0", deployment);
	dt_start_daemon(t);
	for (int i = 0; i < COPIES; i++) {
		char name[16];

		snprintf(name, sizeof(name), "web.%d", i);
		ck_assert(dt_wait_status(t, name, "running", 10000));
	}
}

static void pids_of(struct dt *t, pid_t *pids)
{
	for (int i = 0; i < COPIES; i++) {
		char name[16];

		snprintf(name, sizeof(name), "web.%d", i);
		pids[i] = dt_pid(t, name);
		ck_assert_int_gt(pids[i], 0);
		dt_track(t, pids[i]);
	}
}

/* 1 when the port at ARG answers. */
static int answers(void *arg)
{
	char *b = tu_http_get(*(int *)arg);
	int ok = b != NULL;

	free(b);
	return ok;
}

/* N answers of the port all say GEN (the zdt server answers "GEN PID"). */
static void all_answer(int port, const char *gen, int n)
{
	char want[32];

	snprintf(want, sizeof(want), "%s ", gen);
	for (int i = 0; i < n; i++) {
		char *b = tu_http_get(port);

		ck_assert_msg(b && !strncmp(b, want, strlen(want)),
			      "expected '%s...', got '%s'", want, b ? b : "");
		free(b);
	}
}

static json_t *newest_deploy(struct dt *t)
{
	struct run_result r;
	json_t *h, *d;

	ck_assert_int_eq(dt_sysg(t, &r, "deploy", "--history", "-s", "web",
				 "--json", NULL), 0);
	h = json_loads(r.out, 0, NULL);
	ck_assert_msg(h != NULL, "%s", r.out);
	run_result_free(&r);
	d = json_is_array(h) ? json_array_get(h, 0) :
	    json_array_get(json_object_get(h, "deploys"), 0);
	ck_assert_msg(d != NULL, "no deploy in the history");
	json_incref(d);
	json_decref(h);
	return d;
}

static const char *pos(const char *text, const char *needle)
{
	const char *p = strstr(text, needle);

	ck_assert_msg(p != NULL, "no '%s' in:\n%s", needle, text);
	return p;
}

/* max_parallel 2: web.0 and web.1 together, then web.2; each new copy
 * ready before its old one is stopped; the new definition answers. */
START_TEST(test_rolling_max_parallel)
{
	const char *dep = "      strategy: rolling\n"
			  "      rolling: { max_parallel: 2 }\n";
	int port = tu_free_port();
	struct run_result r;
	pid_t before[COPIES], after[COPIES];
	json_t *d;
	struct dt t;

	setup(&t, port, dep);
	pids_of(&t, before);
	all_answer(port, "g0", 6);
	write_web(&t, port, "g1", dep);
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "--service", "web", NULL),
			 0);
	/* the progress, per copy, in batches of two */
	ck_assert(pos(r.out, "web.1: start the new instance") <
		  pos(r.out, "web.0: serve from the new instance"));
	ck_assert(pos(r.out, "web.1: serve from the new instance") <
		  pos(r.out, "web.2: start the new instance"));
	ck_assert(pos(r.out, "web.2: wait for the new instance to be "
		      "ready") < pos(r.out, "web.2: serve from the new"));
	ck_assert(pos(r.out, "success") != NULL);
	run_result_free(&r);
	pids_of(&t, after);
	for (int i = 0; i < COPIES; i++) {
		ck_assert_int_ne(after[i], before[i]);
		ck_assert(dt_wait_gone(before[i], 10000));
	}
	all_answer(port, "g1", 12);
	d = newest_deploy(&t);
	ck_assert_str_eq(json_string_value(json_object_get(d, "outcome")),
			 "success");
	ck_assert_str_eq(json_string_value(json_object_get(d, "service")),
			 "web");
	json_decref(d);
	/* deploy g2, then roll back: g1 again on every copy */
	write_web(&t, port, "g2", dep);
	ck_assert_int_eq(dt_sysg(&t, NULL, "deploy", "--service", "web", NULL),
			 0);
	all_answer(port, "g2", 6);
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "--rollback", "-s", "web",
				 NULL), 0);
	pos(r.out, "web.2: serve from the new instance");
	run_result_free(&r);
	all_answer(port, "g1", 6);
	/* and validate takes the option */
	ck_assert_int_eq(dt_sysg(&t, NULL, "validate", NULL), 0);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

/* web.1's new instance exits: web.0 (already replaced) goes back to the
 * old definition, web.1 and web.2 were never touched; rolled_back. */
START_TEST(test_rolling_failure_rolls_back)
{
	const char *dep = "      strategy: rolling\n";
	int port = tu_free_port();
	struct run_result r;
	pid_t before[COPIES], after[COPIES];
	json_t *d;
	struct dt t;

	setup(&t, port, dep);
	pids_of(&t, before);
	write_web(&t, port, "bad", dep);
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "--service", "web", NULL),
			 1);
	ck_assert_msg(strstr(r.err, "rolled_back: web.1: the new instance "
			     "exited with code 3 before it was ready"), "%s",
		      r.err);
	pos(r.out, "web.0: roll back to the previous definition");
	run_result_free(&r);
	pids_of(&t, after);
	ck_assert_int_ne(after[0], before[0]);
	ck_assert_int_eq(after[1], before[1]);
	ck_assert_int_eq(after[2], before[2]);
	all_answer(port, "g0", 12);
	d = newest_deploy(&t);
	ck_assert_str_eq(json_string_value(json_object_get(d, "outcome")),
			 "rolled_back");
	ck_assert(strstr(json_string_value(json_object_get(d, "reason")),
			 "web.1: the new instance exited with code 3"));
	json_decref(d);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

/* blue_green does not deploy copies: refused, nothing touched;
 * immediate replaces them all at once. */
START_TEST(test_blue_green_refused_immediate_all)
{
	int port = tu_free_port();
	struct run_result r;
	pid_t before[COPIES], after[COPIES];
	struct dt t;

	setup(&t, port, NULL);
	pids_of(&t, before);
	write_web(&t, port, "g1", "      blue_green: { slots: [a, b], "
		  "switch_command: \"true\" }\n");
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "--service", "web",
				 "--strategy", "blue_green", NULL), 1);
	ck_assert_msg(strstr(r.err, "strategy blue_green does not deploy a "
			     "service with instances: 3"), "%s", r.err);
	run_result_free(&r);
	pids_of(&t, after);
	ck_assert(!memcmp(before, after, sizeof(before)));
	all_answer(port, "g0", 3);
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "--service", "web",
				 "--strategy", "immediate", NULL), 0);
	pos(r.out, "stop the 3 copies of web");
	run_result_free(&r);
	pids_of(&t, after);
	for (int i = 0; i < COPIES; i++)
		ck_assert_int_ne(after[i], before[i]);
	all_answer(port, "g1", 6);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

/* deployment.min_healthy_time: a copy of the new definition dies soon
 * after the deploy: the previous successful deploy is rolled out again
 * to every copy. */
START_TEST(test_min_healthy_time_copies)
{
	const char *dep = "      strategy: rolling\n"
			  "      min_healthy_time: 2s\n";
	int port = tu_free_port();
	struct run_result r;
	char needle[200];
	json_t *d;
	struct dt t;

	setup(&t, port, dep);
	write_web(&t, port, "g1", dep);
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "--service", "web", NULL),
			 0);
	pos(r.out, "stayed healthy for min_healthy_time");
	run_result_free(&r);
	write_web(&t, port, "die", "      strategy: rolling\n"
		  "      min_healthy_time: 60s\n");
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "--service", "web",
				 "--detach", NULL), 0);
	snprintf(needle, sizeof(needle), "Deploy %.*s: [10/10] watch the new "
		 "instance", (int)strcspn(r.out, " \n"), r.out);
	run_result_free(&r);
	ck_assert_msg(dt_wait_file(&t, "state/logs/supervisor.log", needle,
				   30000), "no '%s'", needle);
	dt_write(&t, "die.now", "");    /* now web.2 dies */
	ck_assert(dt_wait_file(&t, "state/logs/supervisor.log", "the new "
			       "instance failed within min_healthy_time: it "
			       "stopped running", 30000));
	for (int i = 0; i < 200; i++) {         /* the rollback deploy */
		d = newest_deploy(&t);
		if (!strcmp(json_string_value(json_object_get(d, "outcome")),
			    "success"))
			break;
		json_decref(d);
		d = NULL;
		usleep(100000);
	}
	ck_assert_msg(d != NULL, "the rollback did not succeed");
	json_decref(d);
	all_answer(port, "g1", 9);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

/* Copies without `listen:` that bind a port each (SYSG_INSTANCE picks
 * it): a new copy cannot start beside its old one, so each copy falls
 * back to stop-then-start (SPEC 6), and the deploy succeeds. */
START_TEST(test_port_conflict_falls_back_per_copy)
{
	int ports[COPIES];
	struct run_result r;
	char yaml[4096];
	struct dt t;

	for (int i = 0; i < COPIES; i++)
		ports[i] = tu_free_port();
	for (int g = 0; g < 2; g++) {
		snprintf(yaml, sizeof(yaml),
			 "version: \"1\"\n"
			 "services:\n"
			 "  web:\n"
			 "    command: \"sh -c 'set -- $PORTS; shift "
			 "$SYSG_INSTANCE; exec python3 %s/bench/zdt_server.py "
			 "$GEN 0 $1'\"\n"
			 "    env: { vars: { GEN: \"g%d\", PORTS: \"%d %d %d\" } }\n"
			 "    instances: %d\n"
			 "    ready_after: 1s\n"
			 "    deployment: { strategy: rolling }\n",
			 getenv("SYSG_SRCDIR"), g, ports[0], ports[1], ports[2],
			 COPIES);
		if (g == 0) {
			dt_setup(&t, NULL, "%s", yaml);
			dt_start_daemon(&t);
			for (int i = 0; i < COPIES; i++)
				ck_assert(tu_wait_for(answers, &ports[i], 10000,
						      50));
		} else {
			dt_write(&t, "sysg.yaml", yaml);
		}
	}
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "--service", "web", NULL),
			 0);
	pos(r.out, "web.0: port conflict: stop the old instance, then start "
	    "the new one");
	pos(r.out, "web.2: port conflict");
	run_result_free(&r);
	for (int i = 0; i < COPIES; i++)
		all_answer(ports[i], "g1", 2);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

static int kept_port;

/* 1 when 20 answers in a row come from the pids KEPT (COPIES of them). */
static int only_kept(void *arg)
{
	const pid_t *kept = arg;

	for (int i = 0; i < 20; i++) {
		char *b = tu_http_get(kept_port), *sp = b ? strchr(b, ' ') : NULL;
		pid_t pid = sp ? (pid_t)atoi(sp + 1) : 0;
		int ok = 0;

		free(b);
		for (int k = 0; k < COPIES; k++)
			ok |= pid == kept[k];
		if (!ok)
			return 0;
	}
	return 1;
}

/* The supervisor is SIGKILLed while web.1's new instance starts (web.0
 * was promoted already): the next one keeps web.0's new instance and
 * web.1's and web.2's old ones, stops web.1's candidate, and records the
 * deploy aborted, naming what it kept. */
START_TEST(test_killed_mid_deploy)
{
	const char *dep = "      strategy: rolling\n"
			  "      grace_period: 2s\n";
	int port = tu_free_port();
	struct run_result r;
	pid_t before[COPIES], after[COPIES], daemon, new0 = 0;
	char want[64];
	json_t *d;
	struct dt t;

	kept_port = port;
	setup(&t, port, dep);
	daemon = dt_daemon_pid(&t);
	pids_of(&t, before);
	write_web(&t, port, "g1", dep);
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "--service", "web",
				 "--detach", NULL), 0);
	run_result_free(&r);
	ck_assert(dt_wait_file(&t, "state/logs/supervisor.log",
			       "web.1: wait for the new instance", 20000));
	new0 = dt_pid(&t, "web.0");
	ck_assert_int_ne(new0, before[0]);
	dt_track(&t, new0);
	ck_assert_int_eq(kill(daemon, SIGKILL), 0);
	ck_assert(dt_wait_gone(daemon, 3000));
	dt_start_daemon(&t);
	pids_of(&t, after);
	ck_assert_int_eq(after[0], new0);
	ck_assert_int_eq(after[1], before[1]);
	ck_assert_int_eq(after[2], before[2]);
	ck_assert(dt_wait_gone(before[0], 10000));
	d = newest_deploy(&t);
	ck_assert_str_eq(json_string_value(json_object_get(d, "outcome")),
			 "aborted");
	snprintf(want, sizeof(want), "web.0: pid %d", (int)new0);
	ck_assert_msg(strstr(json_string_value(json_object_get(d, "reason")),
			     want), "%s", json_string_value(json_object_get(d,
								     "reason")));
	json_decref(d);
	/* web.1's candidate is stopped: soon only the kept pids answer */
	ck_assert(tu_wait_for(only_kept, after, 10000, 50));
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

static Suite *make_deploy_copies_suite(void)
{
	Suite *s = suite_create("deploy_copies");
	TCase *tc = tcase_create("deploy_copies");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_test(tc, test_rolling_max_parallel);
	tcase_add_test(tc, test_rolling_failure_rolls_back);
	tcase_add_test(tc, test_blue_green_refused_immediate_all);
	tcase_add_test(tc, test_killed_mid_deploy);
	tcase_add_test(tc, test_min_healthy_time_copies);
	tcase_add_test(tc, test_port_conflict_falls_back_per_copy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_deploy_copies_suite());
}
