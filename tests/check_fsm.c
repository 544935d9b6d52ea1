/* check_fsm.c - the service state machine driven cell by cell with fake
 * events and fake effects (engine/fsm.h): no fork, no exec, no signal.
 *
 * Every cell of the table that is not marked impossible is fired at
 * least once: an action cell must have a row in EXPECT below (the state
 * it leads to), an ignored cell must leave the state alone. Impossible
 * cells are fired too: they change nothing either. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "enginetest.h"
#include "testutil.h"

/* web: plain; child: needs web; sk: has a skip command; pre: has a
 * pre_start command; job: a cron unit. */
static const char yaml[] =
	"version: \"1\"\nservices:\n"
	"  web: { command: \"sleep 30\", restart_policy: on-failure,\n"
	"         backoff: \"1s\" }\n"
	"  child: { command: \"sleep 30\", depends_on: [web] }\n"
	"  sk: { command: \"sleep 30\", skip: \"test -e nothing\" }\n"
	"  pre: { command: \"sleep 30\",\n"
	"         deployment: { pre_start: \"true\" } }\n"
	"  job: { command: \"true\", cron: \"0 0 2 * * *\" }\n";

struct row {
	const char *svc, *state, *event, *to;
	const char *web;        /* web's state first (NULL: idle) */
};

static const struct row expect[] = {
	{ "web", "idle", "start", "starting", NULL },
	{ "job", "idle", "start", "scheduled", NULL },
	{ "sk", "idle", "start", "skipcheck", NULL },
	{ "pre", "idle", "start", "prestart", NULL },
	{ "child", "idle", "start", "waiting", "starting" },
	{ "child", "idle", "start", "blocked", "failed" },
	{ "web", "idle", "reconfigure", "idle", NULL },
	{ "web", "idle", "retire", "stopped", NULL },
	{ "web", "idle", "adopt", "running", NULL },
	{ "web", "idle", "leftovers", "stopping", NULL },

	{ "web", "waiting", "start", "starting", NULL },
	{ "child", "waiting", "start", "waiting", "starting" },
	{ "web", "waiting", "deps", "starting", NULL },
	{ "child", "waiting", "deps", "starting", "running" },
	{ "child", "waiting", "deps", "blocked", "failed" },
	{ "web", "waiting", "stop", "stopped", NULL },
	{ "web", "waiting", "reconfigure", "waiting", NULL },
	{ "web", "waiting", "retire", "stopped", NULL },

	{ "sk", "skipcheck", "job_ok", "skipped", NULL },
	{ "sk", "skipcheck", "job_fail", "starting", NULL },
	{ "pre", "skipcheck", "job_fail", "prestart", NULL },
	{ "sk", "skipcheck", "stop", "stopped", NULL },
	{ "sk", "skipcheck", "dep_down", "waiting", NULL },
	{ "sk", "skipcheck", "reconfigure", "waiting", NULL },
	{ "sk", "skipcheck", "retire", "stopped", NULL },

	{ "pre", "prestart", "job_ok", "starting", NULL },
	{ "pre", "prestart", "job_fail", "failed", NULL },
	{ "pre", "prestart", "stop", "stopped", NULL },
	{ "pre", "prestart", "dep_down", "waiting", NULL },
	{ "pre", "prestart", "reconfigure", "waiting", NULL },
	{ "pre", "prestart", "retire", "stopped", NULL },

	{ "web", "starting", "ready", "running", NULL },
	{ "web", "starting", "not_ready", "stopping", NULL },
	{ "web", "starting", "exit", "stopping", NULL },
	{ "web", "starting", "stop", "stopping", NULL },
	{ "web", "starting", "dep_down", "stopping", NULL },
	{ "web", "starting", "reconfigure", "stopping", NULL },
	{ "web", "starting", "retire", "stopping", NULL },
	{ "web", "starting", "watchdog", "stopping", NULL },

	{ "web", "running", "exit", "stopping", NULL },
	{ "web", "running", "watchdog", "stopping", NULL },
	{ "job", "running", "exit", "stopping", NULL },
	{ "web", "running", "stop", "stopping", NULL },
	{ "web", "running", "dep_down", "stopping", NULL },
	{ "web", "running", "reconfigure", "stopping", NULL },
	{ "job", "running", "reconfigure", "running", NULL },
	{ "web", "running", "retire", "stopping", NULL },

	{ "web", "stopping", "exit", "stopping", NULL },
	{ "web", "stopping", "tick", "stopping", NULL },
	{ "web", "stopping", "stop", "stopping", NULL },
	{ "web", "stopping", "gone", "stopped", NULL },
	{ "job", "stopping", "gone", "scheduled", NULL },
	{ "web", "stopping", "retire", "stopping", NULL },

	{ "web", "backoff", "tick", "starting", NULL },
	{ "web", "backoff", "stop", "stopped", NULL },
	{ "web", "backoff", "dep_down", "waiting", NULL },
	{ "web", "backoff", "reconfigure", "backoff", NULL },
	{ "web", "backoff", "retire", "stopped", NULL },

	{ "web", "stopped", "start", "starting", NULL },
	{ "web", "stopped", "reconfigure", "stopped", NULL },
	{ "web", "stopped", "retire", "stopped", NULL },
	{ "web", "exited", "start", "starting", NULL },
	{ "web", "exited", "reconfigure", "starting", NULL },
	{ "web", "exited", "retire", "stopped", NULL },
	{ "web", "failed", "start", "starting", NULL },
	{ "web", "failed", "reconfigure", "starting", NULL },
	{ "web", "failed", "retire", "stopped", NULL },
	{ "sk", "skipped", "start", "skipcheck", NULL },
	{ "sk", "skipped", "reconfigure", "skipcheck", NULL },
	{ "sk", "skipped", "retire", "stopped", NULL },
	{ "child", "blocked", "start", "starting", "running" },
	{ "child", "blocked", "deps", "starting", "running" },
	{ "child", "blocked", "deps", "blocked", "failed" },
	{ "child", "blocked", "reconfigure", "blocked", "failed" },
	{ "child", "blocked", "retire", "stopped", NULL },

	{ "job", "scheduled", "stop", "stopped", NULL },
	{ "job", "scheduled", "due", "running", NULL },
	{ "job", "scheduled", "reconfigure", "scheduled", NULL },
	{ "job", "scheduled", "retire", "stopped", NULL },
};

#define NROWS (sizeof(expect) / sizeof(expect[0]))

static int state_of(const char *name)
{
	int st = sysg_fsm_state(name);

	ck_assert_msg(st >= 0, "unknown state %s", name);
	return st;
}

/* Fire ROW; returns the state reached. */
static int fire_row(struct et *t, const struct row *r)
{
	int ev = sysg_fsm_event(r->event), got;

	ck_assert_msg(ev >= 0, "unknown event %s", r->event);
	/* web in the wanted state (tick changes nothing there) */
	ck_assert_int_eq(sysg_fsm_fire(t->sup, "web",
				       state_of(r->web ? r->web : "idle"),
				       sysg_fsm_event("tick")),
			 state_of(r->web ? r->web : "idle"));
	got = sysg_fsm_fire(t->sup, r->svc, state_of(r->state), ev);
	ck_assert_int_ge(got, 0);
	return got;
}

START_TEST(test_names)
{
	ck_assert_int_eq(sysg_fsm_nstates(), 14);
	ck_assert_int_eq(sysg_fsm_nevents(), 17);
	for (int i = 0; i < sysg_fsm_nstates(); i++)
		ck_assert_int_eq(sysg_fsm_state(sysg_fsm_state_name(i)), i);
	for (int i = 0; i < sysg_fsm_nevents(); i++)
		ck_assert_int_eq(sysg_fsm_event(sysg_fsm_event_name(i)), i);
	ck_assert_ptr_null(sysg_fsm_state_name(-1));
	ck_assert_ptr_null(sysg_fsm_event_name(sysg_fsm_nevents()));
	ck_assert_int_eq(sysg_fsm_state("nope"), -ENOENT);
	ck_assert_int_eq(sysg_fsm_cell(0, 99), SYSG_FSM_IMPOSSIBLE);
}
END_TEST

START_TEST(test_every_action_cell)
{
	struct et t;
	struct sysg_fsm_fakes f = { 0 };
	int covered[32][32] = { { 0 } };
	int got;

	et_setup(&t, 1, "%s", yaml);
	ck_assert_int_eq(sysg_fsm_fire(t.sup, "web", 0, 0), -EINVAL);
	sysg_fsm_fake(&f);
	ck_assert_int_eq(sysg_fsm_fire(t.sup, "nope", 0, 0), -ENOENT);
	for (size_t i = 0; i < NROWS; i++) {
		const struct row *r = &expect[i];
		int st = state_of(r->state), ev = sysg_fsm_event(r->event);

		ck_assert_msg(sysg_fsm_cell(st, ev) == SYSG_FSM_ACTION,
			      "row %zu: %s/%s is not an action cell", i,
			      r->state, r->event);
		got = fire_row(&t, r);
		ck_assert_msg(got == state_of(r->to), "%s: %s --%s--> %s, "
			      "expected %s", r->svc, r->state, r->event,
			      sysg_fsm_state_name(got), r->to);
		covered[st][ev] = 1;
	}
	/* every action cell has a row */
	for (int st = 0; st < sysg_fsm_nstates(); st++)
		for (int ev = 0; ev < sysg_fsm_nevents(); ev++)
			ck_assert_msg(sysg_fsm_cell(st, ev) != SYSG_FSM_ACTION ||
				      covered[st][ev], "action cell %s/%s has "
				      "no test row", sysg_fsm_state_name(st),
				      sysg_fsm_event_name(ev));
	/* nothing forked: a launch or a helper was only counted */
	ck_assert_uint_gt(f.launches, 0);
	ck_assert_uint_gt(f.helpers, 0);
	ck_assert_uint_gt(f.teardowns, 0);
	ck_assert_uint_gt(f.readiness, 0);
	ck_assert_uint_gt(f.hooks, 0);
	sysg_fsm_fake(NULL);
	et_teardown(&t);
}
END_TEST

START_TEST(test_ignored_and_impossible_cells_change_nothing)
{
	struct et t;
	struct sysg_fsm_fakes f = { 0 };
	int ignored = 0, impossible = 0;
	const char *const svcs[] = { "web", "job" };

	et_setup(&t, 1, "%s", yaml);
	sysg_fsm_fake(&f);
	for (int st = 0; st < sysg_fsm_nstates(); st++) {
		for (int ev = 0; ev < sysg_fsm_nevents(); ev++) {
			enum sysg_fsm_cell k = sysg_fsm_cell(st, ev);

			if (k == SYSG_FSM_ACTION)
				continue;
			ignored += k == SYSG_FSM_IGNORED;
			impossible += k == SYSG_FSM_IMPOSSIBLE;
			for (size_t i = 0; i < 2; i++)
				ck_assert_msg(sysg_fsm_fire(t.sup, svcs[i], st,
							    ev) == st,
					      "%s: %s/%s changed the state",
					      svcs[i], sysg_fsm_state_name(st),
					      sysg_fsm_event_name(ev));
		}
	}
	ck_assert_int_gt(ignored, 0);
	ck_assert_int_gt(impossible, 0);
	ck_assert_uint_eq(f.launches + f.helpers + f.teardowns, 0);
	sysg_fsm_fake(NULL);
	et_teardown(&t);
}
END_TEST

START_TEST(test_launch_failure_follows_the_policy)
{
	struct et t;
	struct sysg_fsm_fakes f = { .launch_rc = -ENOENT };

	et_setup(&t, 1, "%s", yaml);
	sysg_fsm_fake(&f);
	/* web restarts on failure: backoff; sk has the default (never) */
	ck_assert_int_eq(sysg_fsm_fire(t.sup, "web", state_of("idle"),
				       sysg_fsm_event("start")),
			 state_of("backoff"));
	ck_assert_int_eq(sysg_fsm_fire(t.sup, "sk", state_of("skipcheck"),
				       sysg_fsm_event("job_fail")),
			 state_of("failed"));
	f.launch_rc = -EAGAIN;  /* fork failed: retried whatever the policy */
	ck_assert_int_eq(sysg_fsm_fire(t.sup, "sk", state_of("skipcheck"),
				       sysg_fsm_event("job_fail")),
			 state_of("backoff"));
	sysg_fsm_fake(NULL);
	et_teardown(&t);
}
END_TEST

static Suite *make_fsm_suite(void)
{
	Suite *s = suite_create("fsm");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_every_action_cell);
	tcase_add_test(tc, test_ignored_and_impossible_cells_change_nothing);
	tcase_add_test(tc, test_launch_failure_follows_the_policy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_fsm_suite());
}
