/* check_notify.c - the engine's typed phases and change notifications
 * (supervisor.h): every status change is delivered, in order, from the
 * loop and never from inside a call into the engine; subscriptions
 * start from "now"; the supervisor announces when it becomes idle. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enginetest.h"
#include "base/base.h"
#include "testutil.h"

#define MAX_SEEN 64

/* What a subscriber saw. */
struct seen {
	struct sysg_supervisor *sup;
	int in_call;            /* the test is inside a call into the engine */
	int bad_context;        /* a change came during such a call */
	int unordered;          /* seq did not grow */
	int mismatched;         /* phase/word do not match the status */
	uint64_t last_seq;
	int idles;
	size_t n;
	char name[MAX_SEEN][16];
	enum sysg_unit_status old_st[MAX_SEEN], new_st[MAX_SEEN];
};

static void on_change(void *arg, const struct sysg_unit_change *ch)
{
	struct seen *w = arg;

	if (w->in_call)
		w->bad_context = 1;
	if (ch->seq <= w->last_seq && ch->kind == SYSG_CHANGE_UNIT)
		w->unordered = 1;
	w->last_seq = ch->seq;
	if (ch->kind == SYSG_CHANGE_IDLE) {
		w->idles++;
		return;
	}
	if (ch->old_phase != sysg_status_phase(ch->old_status) ||
	    ch->new_phase != sysg_status_phase(ch->new_status) ||
	    strcmp(ch->status, sysg_status_word(ch->new_status)) ||
	    ch->old_status == ch->new_status ||
	    (ch->index != SYSG_UNIT_GONE &&
	     (int)ch->index != sysg_supervisor_index(w->sup, ch->name)))
		w->mismatched = 1;
	if (w->n < MAX_SEEN) {
		snprintf(w->name[w->n], sizeof(w->name[0]), "%s", ch->name);
		w->old_st[w->n] = ch->old_status;
		w->new_st[w->n] = ch->new_status;
		w->n++;
	}
}

/* The statuses NAME went through, as "a>b>c" (the first old status,
 * then every new one). */
static void path_of(const struct seen *w, const char *name, char *buf,
		    size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < w->n && used < len; i++) {
		if (strcmp(w->name[i], name))
			continue;
		if (!used)
			used += (size_t)snprintf(buf, len, "%s",
						 sysg_status_word(w->old_st[i]));
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, ">%s",
						 sysg_status_word(w->new_st[i]));
	}
}

static int is_running(struct sysg_supervisor *s, void *arg)
{
	enum sysg_unit_status st;

	(void)arg;
	return sysg_supervisor_phase(s, 0, &st) == SYSG_PHASE_ACTIVE &&
	       st == SYSG_STATUS_RUNNING;
}

static int restarted(struct sysg_supervisor *s, void *arg)
{
	const struct seen *w = arg;

	(void)s;
	return w->n >= 2 && w->new_st[w->n - 1] == SYSG_STATUS_RUNNING;
}

static int got_idle(struct sysg_supervisor *s, void *arg)
{
	const struct seen *w = arg;

	(void)s;
	return w->idles > 0;
}

START_TEST(test_words_and_phases)
{
	static const struct {
		enum sysg_unit_status st;
		const char *word;
		enum sysg_phase ph;
	} rows[] = {
		{ SYSG_STATUS_STOPPED, "stopped", SYSG_PHASE_INACTIVE },
		{ SYSG_STATUS_STARTING, "starting", SYSG_PHASE_ACTIVATING },
		{ SYSG_STATUS_RUNNING, "running", SYSG_PHASE_ACTIVE },
		{ SYSG_STATUS_STOPPING, "stopping", SYSG_PHASE_DEACTIVATING },
		{ SYSG_STATUS_BACKOFF, "backoff", SYSG_PHASE_ACTIVATING },
		{ SYSG_STATUS_EXITED, "exited", SYSG_PHASE_INACTIVE },
		{ SYSG_STATUS_FAILED, "failed", SYSG_PHASE_FAILED },
		{ SYSG_STATUS_SKIPPED, "skipped", SYSG_PHASE_INACTIVE },
		{ SYSG_STATUS_BLOCKED, "blocked", SYSG_PHASE_FAILED },
		{ SYSG_STATUS_SCHEDULED, "scheduled", SYSG_PHASE_ACTIVE },
	};

	ck_assert_int_eq(sizeof(rows) / sizeof(rows[0]), SYSG_NSTATUS);
	for (size_t i = 0; i < SYSG_NSTATUS; i++) {
		ck_assert_str_eq(sysg_status_word(rows[i].st), rows[i].word);
		ck_assert_int_eq(sysg_status_phase(rows[i].st), rows[i].ph);
		ck_assert_int_eq(sysg_status_parse(rows[i].word), rows[i].st);
	}
	ck_assert_int_eq(sysg_status_parse("sleeping"), -EINVAL);
	ck_assert_str_eq(sysg_phase_name(SYSG_PHASE_INACTIVE), "inactive");
	ck_assert_str_eq(sysg_phase_name(SYSG_PHASE_ACTIVATING), "activating");
	ck_assert_str_eq(sysg_phase_name(SYSG_PHASE_ACTIVE), "active");
	ck_assert_str_eq(sysg_phase_name(SYSG_PHASE_DEACTIVATING),
			 "deactivating");
	ck_assert_str_eq(sysg_phase_name(SYSG_PHASE_FAILED), "failed");
	ck_assert(SYSG_PHASE_IS_ACTIVE_OR_ACTIVATING(SYSG_PHASE_ACTIVATING));
	ck_assert(!SYSG_PHASE_IS_ACTIVE_OR_ACTIVATING(SYSG_PHASE_FAILED));
	ck_assert(SYSG_PHASE_IS_INACTIVE_OR_FAILED(SYSG_PHASE_FAILED));
	ck_assert(!SYSG_PHASE_IS_INACTIVE_OR_FAILED(SYSG_PHASE_DEACTIVATING));
}
END_TEST

START_TEST(test_every_change_in_order_from_the_loop)
{
	struct et t;
	struct seen w = { 0 };
	enum sysg_unit_status st;
	char path[512];
	int id;

	et_setup(&t, 1, "version: \"1\"\nservices:\n"
		 "  web: { command: \"sleep 30\", ready_after: \"50ms\" }\n"
		 "  bad: { command: \"sh -c 'exit 3'\", ready_after: \"1s\" }\n");
	w.sup = t.sup;
	ck_assert_int_eq(sysg_supervisor_phase(t.sup, 0, &st),
			 SYSG_PHASE_INACTIVE);
	ck_assert_int_eq(st, SYSG_STATUS_STOPPED);
	ck_assert_int_eq(sysg_supervisor_phase(t.sup, 2, NULL), -ENOENT);
	id = sysg_supervisor_subscribe(t.sup, on_change, &w);
	ck_assert_int_ge(id, 0);

	w.in_call = 1;
	sysg_supervisor_start_all(t.sup);
	w.in_call = 0;
	ck_assert_int_eq(w.n, 0);       /* recorded, not yet delivered */
	ck_assert_uint_gt(sysg_supervisor_change_seq(t.sup), 0);
	ck_assert_int_eq(sysg_supervisor_run_until(t.sup, is_running, NULL,
						   3000), 0);
	ck_assert_int_eq(et_wait_status(&t, "bad", "failed", 3000), 0);
	path_of(&w, "web", path, sizeof(path));
	ck_assert_str_eq(path, "stopped>starting>running");
	path_of(&w, "bad", path, sizeof(path));
	ck_assert_str_eq(path, "stopped>starting>stopping>failed");

	/* a restart shows every step, none coalesced */
	w.n = 0;
	w.in_call = 1;
	ck_assert_int_eq(sysg_supervisor_restart_service(t.sup, "web"), 0);
	w.in_call = 0;
	ck_assert_int_eq(sysg_supervisor_run_until(t.sup, restarted, &w, 3000),
			 0);
	path_of(&w, "web", path, sizeof(path));
	ck_assert_str_eq(path, "running>stopping>stopped>starting>running");

	/* the end of a full stop is announced */
	w.n = 0;
	w.idles = 0;
	w.in_call = 1;
	sysg_supervisor_stop_all(t.sup);
	w.in_call = 0;
	ck_assert_int_eq(sysg_supervisor_run_until(t.sup, got_idle, &w, 3000),
			 0);
	ck_assert_int_eq(sysg_supervisor_idle(t.sup), 1);
	path_of(&w, "web", path, sizeof(path));
	ck_assert_str_eq(path, "running>stopping>stopped");
	ck_assert_int_eq(w.bad_context, 0);
	ck_assert_int_eq(w.unordered, 0);
	ck_assert_int_eq(w.mismatched, 0);

	/* unsubscribed: nothing more */
	sysg_supervisor_unsubscribe(t.sup, id);
	w.n = 0;
	sysg_supervisor_start_service(t.sup, "web");
	ck_assert_int_eq(et_wait_status(&t, "web", "running", 3000), 0);
	ck_assert_int_eq(w.n, 0);
	et_teardown(&t);
}
END_TEST

/* A subscriber that reacts to a change by making a request: its own
 * changes come after, in the same round, and a late subscriber does not
 * see what happened before it subscribed. */
struct chain {
	struct seen seen;
	int started_b;
};

static void start_b_when_a_runs(void *arg, const struct sysg_unit_change *ch)
{
	struct chain *c = arg;

	on_change(&c->seen, ch);
	if (ch->kind == SYSG_CHANGE_UNIT && !strcmp(ch->name, "a") &&
	    ch->new_status == SYSG_STATUS_RUNNING && !c->started_b) {
		c->started_b = 1;
		c->seen.in_call = 1;
		sysg_supervisor_start_service(c->seen.sup, "b");
		c->seen.in_call = 0;
	}
}

static int b_running(struct sysg_supervisor *s, void *arg)
{
	enum sysg_unit_status st;

	(void)arg;
	sysg_supervisor_phase(s, 1, &st);
	return st == SYSG_STATUS_RUNNING;
}

START_TEST(test_request_from_a_callback)
{
	struct et t;
	struct chain c = { 0 };
	struct seen late = { 0 };
	char path[512];

	et_setup(&t, 1, "version: \"1\"\nservices:\n"
		 "  a: { command: \"sleep 30\", ready_after: \"30ms\" }\n"
		 "  b: { command: \"sleep 30\", ready_after: \"30ms\" }\n");
	c.seen.sup = late.sup = t.sup;
	ck_assert_int_ge(sysg_supervisor_subscribe(t.sup, start_b_when_a_runs,
						   &c), 0);
	sysg_supervisor_start_service(t.sup, "a");
	ck_assert_int_eq(sysg_supervisor_run_until(t.sup, is_running, NULL,
						   3000), 0);
	ck_assert_int_ge(sysg_supervisor_subscribe(t.sup, on_change, &late), 0);
	ck_assert_int_eq(sysg_supervisor_run_until(t.sup, b_running, NULL,
						   3000), 0);
	ck_assert_int_eq(c.started_b, 1);
	path_of(&c.seen, "b", path, sizeof(path));
	ck_assert_str_eq(path, "stopped>starting>running");
	path_of(&late, "a", path, sizeof(path));
	ck_assert_str_eq(path, "");     /* a was up before it subscribed */
	ck_assert_int_eq(c.seen.bad_context, 0);
	ck_assert_int_eq(c.seen.unordered, 0);
	et_teardown(&t);
}
END_TEST

/* The supervisor becomes idle without a unit changing (a hook ends):
 * the announcement still counts as a change after everything before. */
struct idle_watch {
	uint64_t seq;           /* of the last idle announcement */
	uint64_t before;        /* wait for one after this */
};

static void on_idle(void *arg, const struct sysg_unit_change *ch)
{
	struct idle_watch *w = arg;

	if (ch->kind == SYSG_CHANGE_IDLE)
		w->seq = ch->seq;
}

static int idle_announced(struct sysg_supervisor *s, void *arg)
{
	const struct idle_watch *w = arg;

	(void)s;
	return w->seq > w->before;
}

static int stopped(struct sysg_supervisor *s, void *arg)
{
	enum sysg_unit_status st;

	(void)arg;
	sysg_supervisor_phase(s, 0, &st);
	return st == SYSG_STATUS_STOPPED;
}

START_TEST(test_idle_after_the_last_hook)
{
	struct et t;
	struct idle_watch w = { 0 };

	et_setup(&t, 1, "version: \"1\"\nservices:\n"
		 "  a: { command: \"sleep 30\", ready_after: \"20ms\",\n"
		 "       hooks: { on_stop: { success: \"sleep 0.3\" } } }\n");
	ck_assert_int_ge(sysg_supervisor_subscribe(t.sup, on_idle, &w), 0);
	sysg_supervisor_start_service(t.sup, "a");
	ck_assert_int_eq(et_wait_status(&t, "a", "running", 3000), 0);
	sysg_supervisor_stop_service(t.sup, "a");
	ck_assert_int_eq(sysg_supervisor_run_until(t.sup, stopped, NULL, 3000),
			 0);
	ck_assert_int_eq(sysg_supervisor_idle(t.sup), 0);    /* the hook */
	w.before = sysg_supervisor_change_seq(t.sup);
	ck_assert_int_eq(sysg_supervisor_run_until(t.sup, idle_announced, &w,
						   3000), 0);
	ck_assert_int_eq(sysg_supervisor_idle(t.sup), 1);
	et_teardown(&t);
}
END_TEST

static Suite *make_notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("notify");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_words_and_phases);
	tcase_add_test(tc, test_every_change_in_order_from_the_loop);
	tcase_add_test(tc, test_request_from_a_callback);
	tcase_add_test(tc, test_idle_after_the_last_hook);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_notify_suite());
}
