/* check_reload.c - a running supervisor switches to a new config (new
 * services start, removed ones stop and keep a "stopped" record, changed
 * ones restart, unchanged ones keep their pids, cron jobs get their new
 * schedule), the query API the control plane uses, and the resident
 * mode (the loop never ends just because everything is down). */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "enginetest.h"
#include "base/base.h"
#include "proc/proc.h"
#include "testutil.h"

/* Load YAML as the next config (the caller hands it to reload). */
static struct sysg_config *load_next(struct et *t, const char *yaml)
{
	struct sysg_config *c = NULL;
	struct sysg_diag d;
	char *path = tu_write_file(t->dir, "next.yaml", yaml), *all;
	int rc;

	ck_assert_ptr_nonnull(path);
	sysg_diag_init(&d);
	rc = sysg_config_load(path, &c, &d);
	all = sysg_diag_join(&d);
	ck_assert_msg(rc == 0, "config: %s", all);
	free(all);
	sysg_diag_free(&d);
	free(path);
	return c;
}

static void reload(struct et *t, const char *yaml)
{
	struct sysg_config *c = load_next(t, yaml);
	char err[256];

	ck_assert_int_eq(sysg_supervisor_reload(t->sup, c, err, sizeof(err)),
			 0);
	ck_assert_ptr_eq(sysg_supervisor_config(t->sup), c);
}

static int never(struct sysg_supervisor *s, void *arg)
{
	(void)s;
	(void)arg;
	return 0;
}

static int idle(struct sysg_supervisor *s, void *arg)
{
	(void)arg;
	return sysg_supervisor_idle(s);
}

struct new_pid {
	const char *name;
	int64_t old;
};

static int restarted(struct sysg_supervisor *s, void *arg)
{
	struct new_pid *w = arg;
	struct sysg_unit_record u;

	return sysg_supervisor_get(s, w->name, &u) == 0 &&
	       !strcmp(u.status, "running") && u.pid != w->old;
}

static int wait_new_pid(struct et *t, const char *name, int64_t old, int ms)
{
	struct new_pid w = { name, old };

	return sysg_supervisor_run_until(t->sup, restarted, &w,
					 tu_deadline_ms(ms));
}

static int log_has(struct et *t, const char *needle)
{
	char *s = et_read(t, "state/logs/supervisor.log");
	int found = s && strstr(s, needle);

	free(s);
	return found;
}

/* ---------------------------------------------------------------- */
/* reload                                                            */
/* ---------------------------------------------------------------- */

#define RELOAD_BASE \
	"version: \"1\"\nservices:\n" \
	"  keep: { command: \"sleep 30\", ready_after: \"50ms\" }\n" \
	"  dep: { command: \"sleep 30\", ready_after: \"50ms\", depends_on: [keep] }\n"

START_TEST(test_reload_add_remove_change)
{
	struct et t;
	struct sysg_unit_record keep, dep, change, gone, u;
	pid_t gone_kid;
	char err[256];
	struct sysg_pidset kids = { 0 };
	struct sysg_tree_match m = { 0 };

	et_setup(&t, 0, RELOAD_BASE
		 "  change: { command: \"sleep 30\", ready_after: \"50ms\",\n"
		 "            env: { vars: { X: \"1\" } } }\n"
		 "  gone: { command: \"sh -c 'sleep 30 & exec sleep 31'\",\n"
		 "          ready_after: \"50ms\" }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "gone", "running", 3000), 0);
	ck_assert_int_eq(et_wait_status(&t, "dep", "running", 3000), 0);
	ck_assert_int_eq(et_wait_status(&t, "change", "running", 3000), 0);
	keep = et_unit(&t, "keep");
	dep = et_unit(&t, "dep");
	change = et_unit(&t, "change");
	gone = et_unit(&t, "gone");
	m.main_pid = (pid_t)gone.pid;
	sysg_proctree_collect(&m, &kids);
	ck_assert_int_eq(kids.n, 2);
	gone_kid = kids.v[0].pid == gone.pid ? kids.v[1].pid : kids.v[0].pid;
	sysg_pidset_free(&kids);

	/* the environment changed, gone is gone, fresh is new (it needs
	 * keep, already up), the order changed */
	reload(&t, "version: \"1\"\nservices:\n"
	       "  fresh: { command: \"sleep 30\", ready_after: \"50ms\",\n"
	       "           depends_on: [keep] }\n"
	       "  change: { command: \"sleep 30\", ready_after: \"50ms\",\n"
	       "            env: { vars: { X: \"2\" } } }\n"
	       "  keep: { command: \"sleep 30\", ready_after: \"50ms\" }\n"
	       "  dep: { command: \"sleep 30\", ready_after: \"50ms\", depends_on: [keep] }\n");
	ck_assert(log_has(&t, "Reloaded config: +1 -1 ~1"));
	ck_assert_int_eq(wait_new_pid(&t, "change", change.pid, 3000), 0);
	ck_assert_int_eq(et_wait_status(&t, "fresh", "running", 3000), 0);
	ck_assert(et_wait_dead(&t, (pid_t)gone.pid, 3000));
	ck_assert(et_wait_dead(&t, gone_kid, 3000));
	sysg_supervisor_run_until(t.sup, never, NULL, 100);
	ck_assert_int_eq(et_unit(&t, "keep").pid, keep.pid);
	ck_assert_int_eq(et_unit(&t, "dep").pid, dep.pid);
	ck_assert(sysg_proc_is_alive((pid_t)keep.pid, keep.start_ticks));
	ck_assert(!sysg_proc_is_alive((pid_t)change.pid, change.start_ticks));

	/* the new order; the removed one is no longer configured but its
	 * record stays, stopped */
	ck_assert_int_eq(sysg_supervisor_count(t.sup), 4);
	ck_assert_int_eq(sysg_supervisor_index(t.sup, "fresh"), 0);
	ck_assert_int_eq(sysg_supervisor_index(t.sup, "dep"), 3);
	ck_assert_int_eq(sysg_supervisor_index(t.sup, "gone"), -ENOENT);
	ck_assert_int_eq(sysg_supervisor_get(t.sup, "gone", &u), -ENOENT);
	ck_assert_int_eq(sysg_state_get_unit(t.st, "gone", &u), 0);
	ck_assert_str_eq(u.status, "stopped");
	ck_assert_int_eq(u.pid, 0);
	/* configs it already has are refused, never owned twice */
	ck_assert_int_eq(sysg_supervisor_reload(t.sup, t.cfg, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(sysg_supervisor_reload(t.sup,
			 (struct sysg_config *)sysg_supervisor_config(t.sup), err,
			 sizeof(err)), -EINVAL);
	et_teardown(&t);
}
END_TEST

/* Each variant of service s is compared as a whole: positions in the
 * file do not count, every setting does. */
START_TEST(test_reload_detects_any_change)
{
	static const struct {
		const char *def;
		int changed;
	} steps[] = {
		{ "\n# moved down by a comment\n  s: { command: \"sleep 30\", "
		  "ready_after: \"50ms\" }\n", 0 },
		{ "  s: { command: \"sleep 30\", ready_after: \"60ms\" }\n", 1 },
		{ "  s: { command: \"sleep 30\", ready_after: \"60ms\",\n"
		  "       restart_policy: always }\n", 1 },
		{ "  s: { command: \"sleep 30\", ready_after: \"60ms\",\n"
		  "       restart_policy: always, stop_timeout: \"3s\" }\n", 1 },
		{ "  s: { command: \"sleep 30\", ready_after: \"60ms\",\n"
		  "       restart_policy: always, stop_timeout: \"3s\",\n"
		  "       hooks: { on_stop: { success: { command: \"true\" } } } }\n", 1 },
		{ "  s: { command: \"sleep 30\", ready_after: \"60ms\",\n"
		  "       restart_policy: always, stop_timeout: \"3s\",\n"
		  "       hooks: { on_stop: { success: { command: \"true\" } } },\n"
		  "       deployment: { pre_start: \"true\" } }\n", 1 },
		{ "  s: { command: \"sleep 30\", ready_after: \"60ms\",\n"
		  "       restart_policy: always, stop_timeout: \"3s\",\n"
		  "       hooks: { on_stop: { success: { command: \"true\" } } },\n"
		  "       deployment: { pre_start: \"true\" }, depends_on: [t] }\n", 1 },
		{ "  s: { command: \"sleep 30\", ready_after: \"60ms\",\n"
		  "       restart_policy: always, stop_timeout: \"3s\",\n"
		  "       hooks: { on_stop: { success: { command: \"true\" } } },\n"
		  "       deployment: { pre_start: \"true\" }, depends_on: [t],\n"
		  "       health_check: { command: \"true\", interval: \"50ms\" } }\n", 1 },
	};
	struct et t;
	char yaml[2048];
	int64_t pid;

	et_setup(&t, 1, "version: \"1\"\nservices:\n"
		 "  t: { command: \"sleep 30\", ready_after: \"50ms\" }\n"
		 "  s: { command: \"sleep 30\", ready_after: \"50ms\" }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "s", "running", 3000), 0);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		pid = et_unit(&t, "s").pid;
		snprintf(yaml, sizeof(yaml), "version: \"1\"\nservices:\n"
			 "  t: { command: \"sleep 30\", ready_after: \"50ms\" }\n"
			 "%s", steps[i].def);
		reload(&t, yaml);
		if (steps[i].changed) {
			ck_assert_msg(wait_new_pid(&t, "s", pid, 3000) == 0,
				      "step %zu: not restarted", i);
		} else {
			sysg_supervisor_run_until(t.sup, never, NULL, 200);
			ck_assert_msg(et_unit(&t, "s").pid == pid,
				      "step %zu: restarted", i);
		}
		ck_assert_str_eq(sysg_supervisor_status(t.sup, "t"), "running");
	}
	et_teardown(&t);
}
END_TEST

/* A manually stopped service stays stopped when it changes; one that
 * failed gets another chance with its new definition. */
START_TEST(test_reload_respects_stopped_and_retries_failed)
{
	struct et t;

	et_setup(&t, 1, "version: \"1\"\nservices:\n"
		 "  off: { command: \"sleep 30\", ready_after: \"50ms\" }\n"
		 "  bad: { command: \"sh -c 'exit 3'\", ready_after: \"50ms\" }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "off", "running", 3000), 0);
	ck_assert_int_eq(et_wait_status(&t, "bad", "failed", 3000), 0);
	sysg_supervisor_stop_service(t.sup, "off");
	ck_assert_int_eq(et_wait_status(&t, "off", "stopped", 3000), 0);
	reload(&t, "version: \"1\"\nservices:\n"
	       "  off: { command: \"sleep 31\", ready_after: \"50ms\" }\n"
	       "  bad: { command: \"sleep 30\", ready_after: \"50ms\" }\n");
	ck_assert_int_eq(et_wait_status(&t, "bad", "running", 3000), 0);
	ck_assert_str_eq(sysg_supervisor_status(t.sup, "off"), "stopped");
	et_teardown(&t);
}
END_TEST

/* Removed while it stops slowly, then added back: it comes back once
 * its old tree is gone, never twice. */
START_TEST(test_reload_readded_while_stopping)
{
	struct et t;
	struct sysg_unit_record old;

	et_setup(&t, 1, "version: \"1\"\nservices:\n"
		 "  slow: { command: \"sh -c 'trap \\\"\\\" TERM; sleep 30 & wait; wait'\",\n"
		 "          ready_after: \"50ms\", stop_timeout: \"500ms\" }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "slow", "running", 3000), 0);
	old = et_unit(&t, "slow");
	reload(&t, "version: \"1\"\nservices: { other: { command: \"sleep 30\" } }\n");
	ck_assert_int_eq(sysg_supervisor_index(t.sup, "slow"), -ENOENT);
	reload(&t, "version: \"1\"\nservices:\n"
	       "  slow: { command: \"sleep 30\", ready_after: \"50ms\" }\n");
	ck_assert(log_has(&t, "Reloaded config: +1 -1 ~0"));
	ck_assert_int_eq(wait_new_pid(&t, "slow", old.pid, 4000), 0);
	ck_assert(!sysg_proc_is_alive((pid_t)old.pid, old.start_ticks));
	ck_assert_int_eq(sysg_supervisor_count(t.sup), 1);
	et_teardown(&t);
}
END_TEST

static int cron_runs(void *arg, const struct sysg_cron_run *r)
{
	(void)r;
	(*(int *)arg)++;
	return 0;
}

START_TEST(test_reload_cron_reregistered)
{
	struct et t;
	struct sysg_service_info info;
	struct sysg_unit_record u;
	int64_t before;
	int n = 0;

	et_setup(&t, 1, "version: \"1\"\nservices:\n"
		 "  job: { command: \"sh -c 'echo run >> cron.txt'\",\n"
		 "         cron: \"0 0 2 1 1 *\" }\n"
		 "  old: { command: \"true\", cron: \"0 0 3 * * *\" }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "job", "scheduled", 1000), 0);
	ck_assert_int_eq(sysg_supervisor_info(t.sup, 0, &info), 0);
	ck_assert_int_eq(info.cron, 1);
	before = info.next_run_ms;
	ck_assert_int_gt(before, sysg_wall_ms() + 3600 * 1000);
	reload(&t, "version: \"1\"\nservices:\n"
	       "  job: { command: \"sh -c 'echo run >> cron.txt'\",\n"
	       "         cron: \"* * * * * *\" }\n");
	ck_assert(log_has(&t, "Reloaded config: +0 -1 ~1"));
	ck_assert_str_eq(sysg_supervisor_status(t.sup, "job"), "scheduled");
	ck_assert_int_eq(sysg_supervisor_info(t.sup, 0, &info), 0);
	ck_assert_int_le(info.next_run_ms, sysg_wall_ms() + 1100);
	ck_assert(et_wait_file(&t, "cron.txt", 3000));
	ck_assert_int_eq(sysg_state_list_cron_runs(t.st, "job", cron_runs, &n),
			 0);
	ck_assert_int_ge(n, 1);
	ck_assert_int_eq(sysg_state_get_unit(t.st, "old", &u), 0);
	ck_assert_str_eq(u.status, "stopped");
	et_teardown(&t);
}
END_TEST

/* ---------------------------------------------------------------- */
/* query API                                                         */
/* ---------------------------------------------------------------- */

static int changes;

static void on_change(void *arg)
{
	(void)arg;
	changes++;
}

static int settled_all(struct sysg_supervisor *s, void *arg)
{
	(void)arg;
	return sysg_supervisor_settled(s, NULL) == 1;
}

START_TEST(test_query_api)
{
	struct et t;
	struct sysg_service_info info;
	struct sysg_unit_record u;
	struct sysg_exit_info ex[SYSG_EXITS_KEEP + 2];
	pid_t pids[4];
	int n;

	et_setup(&t, 1, "version: \"1\"\nservices:\n"
		 "  tree: { command: \"sh -c 'sleep 30 & exec sleep 31'\",\n"
		 "          ready_after: \"100ms\" }\n"
		 "  crash: { command: \"sh -c 'sleep 0.05; exit 3'\",\n"
		 "           ready_after: \"20ms\", restart_policy: on-failure,\n"
		 "           backoff: \"10ms\", max_restarts: 9 }\n"
		 "  needs: { command: \"sleep 30\", depends_on: [tree],\n"
		 "           ready_after: \"50ms\" }\n"
		 "  later: { command: \"true\", cron: \"0 0 2 * * *\" }\n");
	changes = 0;
	sysg_supervisor_on_change(t.sup, on_change, NULL);
	ck_assert_int_eq(sysg_supervisor_count(t.sup), 4);
	ck_assert_int_eq(sysg_supervisor_settled(t.sup, NULL), 1);
	ck_assert_int_eq(sysg_supervisor_settled(t.sup, "nope"), -ENOENT);
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(sysg_supervisor_settled(t.sup, NULL), 0);
	ck_assert_int_eq(sysg_supervisor_settled(t.sup, "needs"), 0);
	ck_assert_int_eq(sysg_supervisor_run_until(t.sup, settled_all, NULL,
						   5000), 0);
	ck_assert_int_gt(changes, 0);
	ck_assert_str_eq(sysg_supervisor_status(t.sup, "needs"), "running");
	ck_assert_str_eq(sysg_supervisor_status(t.sup, "later"), "scheduled");

	ck_assert_int_eq(sysg_supervisor_get_index(t.sup, 0, &u), 0);
	ck_assert_str_eq(u.name, "tree");
	ck_assert_int_eq(sysg_supervisor_get_index(t.sup, 4, &u), -ENOENT);
	ck_assert_int_eq(sysg_supervisor_info(t.sup, 0, &info), 0);
	ck_assert_int_eq(info.health, SYSG_SUP_HEALTH_HEALTHY);
	ck_assert_int_ge(info.uptime_ms, 100);
	ck_assert_int_eq(info.cron, 0);
	ck_assert_int_eq(info.adopted, 0);
	ck_assert_str_eq(info.cfg->name, "tree");
	ck_assert_int_eq(sysg_supervisor_info(t.sup, 3, &info), 0);
	ck_assert_int_eq(info.cron, 1);
	ck_assert_int_gt(info.next_run_ms, sysg_wall_ms());
	ck_assert_int_eq(info.uptime_ms, -1);

	n = sysg_supervisor_pids(t.sup, "tree", pids, 4);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(pids[0], et_unit(&t, "tree").pid);
	ck_assert_int_ne(pids[1], pids[0]);
	ck_assert_int_eq(sysg_supervisor_pids(t.sup, "tree", pids, 1), 2);
	ck_assert_int_eq(sysg_supervisor_pids(t.sup, "later", pids, 4), 0);
	ck_assert_int_eq(sysg_supervisor_pids(t.sup, "nope", pids, 4), -ENOENT);

	/* crash gave up after 9 restarts: the newest exits are kept */
	ck_assert_int_eq(et_wait_status(&t, "crash", "failed", 5000), 0);
	ck_assert_int_eq(sysg_supervisor_info(t.sup, 1, &info), 0);
	ck_assert_int_eq(info.health, SYSG_SUP_HEALTH_UNHEALTHY);
	ck_assert_int_eq(info.rec.restarts, 9);
	n = sysg_supervisor_exits(t.sup, "crash", ex, SYSG_EXITS_KEEP + 2);
	ck_assert_int_eq(n, SYSG_EXITS_KEEP);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(ex[i].has_code, 1);
		ck_assert_int_eq(ex[i].code, 3);
		ck_assert(i == 0 || ex[i].at_ms <= ex[i - 1].at_ms);
	}
	ck_assert_int_eq(sysg_supervisor_exits(t.sup, "crash", ex, 2), 2);
	ck_assert_int_eq(sysg_supervisor_exits(t.sup, "tree", ex, 2), 0);
	ck_assert_int_eq(sysg_supervisor_settled(t.sup, "crash"), 1);
	et_teardown(&t);
}
END_TEST

/* The resident supervisor: nothing ends the loop when all is down, and
 * it starts services again afterwards. */
START_TEST(test_resident_survives_idle)
{
	struct et t;

	et_setup(&t, 1, "version: \"1\"\nservices:\n"
		 "  a: { command: \"sleep 30\", ready_after: \"50ms\" }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "a", "running", 3000), 0);
	sysg_supervisor_stop_all(t.sup);
	ck_assert_int_eq(sysg_supervisor_shutting_down(t.sup), 1);
	ck_assert_int_eq(sysg_supervisor_run_until(t.sup, idle, NULL, 3000), 0);
	ck_assert_int_eq(sysg_supervisor_run_until(t.sup, never, NULL, 150),
			 -ETIMEDOUT);
	ck_assert_int_eq(sysg_supervisor_start_service(t.sup, "a"), 0);
	ck_assert_int_eq(sysg_supervisor_shutting_down(t.sup), 0);
	ck_assert_int_eq(et_wait_status(&t, "a", "running", 3000), 0);
	et_teardown(&t);
}
END_TEST

static int hups;

static void on_hup(void *arg)
{
	(void)arg;
	hups++;
}

static int got_hup(struct sysg_supervisor *s, void *arg)
{
	(void)s;
	(void)arg;
	return hups > 0;
}

START_TEST(test_sighup_callback)
{
	struct et t;
	struct sysg_supervisor_opts o = { 0 };
	char err[256];

	et_setup(&t, 1, "version: \"1\"\nservices:\n"
		 "  a: { command: \"sleep 30\" }\n");
	sysg_supervisor_free(t.sup);
	o.state_dir = t.state_dir;
	o.no_cgroups = 1;
	o.on_sighup = on_hup;
	hups = 0;
	ck_assert_int_eq(sysg_supervisor_new(&t.sup, t.cfg, t.st, &o, err,
					     sizeof(err)), 0);
	raise(SIGHUP);
	ck_assert_int_eq(sysg_supervisor_run_until(t.sup, got_hup, NULL, 2000),
			 0);
	et_teardown(&t);
}
END_TEST

static Suite *make_reload_suite(void)
{
	Suite *s = suite_create("reload");
	TCase *rl = tcase_create("reload");
	TCase *q = tcase_create("query");

	tcase_set_timeout(rl, 60);
	tcase_set_timeout(q, 60);
	tcase_add_test(rl, test_reload_add_remove_change);
	tcase_add_test(rl, test_reload_detects_any_change);
	tcase_add_test(rl, test_reload_respects_stopped_and_retries_failed);
	tcase_add_test(rl, test_reload_readded_while_stopping);
	tcase_add_test(rl, test_reload_cron_reregistered);
	tcase_add_test(q, test_query_api);
	tcase_add_test(q, test_resident_survives_idle);
	tcase_add_test(q, test_sighup_callback);
	suite_add_tcase(s, rl);
	suite_add_tcase(s, q);
	return s;
}

int main(void)
{
	return tu_run_suite(make_reload_suite());
}
