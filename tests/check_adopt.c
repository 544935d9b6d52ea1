/* check_adopt.c - a resident supervisor dies (SIGKILL), its services keep
 * running and writing their logs, and a new supervisor re-adopts them
 * (SPEC 5): same pids, nothing started twice, still stopped cleanly and
 * restarted by policy; stale records, reused pids and processes without
 * our marker are never adopted; leftovers of a dead run are cleaned up;
 * a cron run in progress is adopted without an overlapping one.
 *
 * Supervisor A runs in a forked child that the test SIGKILLs; supervisor
 * B runs in the test process. The test process is made a non-subreaper
 * first, so the orphaned services are not its children: B then learns of
 * their exits through pidfds, as a re-started daemon does (under valgrind,
 * which lacks pidfd_open, through the polling fallback). The adoption
 * tests run against both state backends. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc/proc.h"
#include "plugin/plugin.h"
#include "engine/engine.h"
#include "testutil.h"

struct fx {
	char *dir;
	char state_dir[4096];
	char log_dir[4096];
	struct sysg_plugin_path pp;
	struct sysg_config *cfg;
	struct sysg_state *st;
	struct sysg_supervisor *b;      /* the adopting supervisor */
	pid_t a;                        /* the process of supervisor A */
};

/* Every test runs against each state backend (loop index _i). */
static const char *const backends[] = { "xml", "sqlite" };

static void fx_setup(struct fx *f, const char *yaml, int backend)
{
	struct sysg_diag d;
	char err[512], *path, *all;
	int rc;

	memset(f, 0, sizeof(*f));
	/* orphans must not become our children (see the top) */
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	f->dir = tu_mkdtemp("adopt");
	ck_assert_ptr_nonnull(f->dir);
	snprintf(f->state_dir, sizeof(f->state_dir), "%s/state", f->dir);
	snprintf(f->log_dir, sizeof(f->log_dir), "%s/logs", f->dir);
	setenv("SYSG_STATE_DIR", f->state_dir, 1);
	setenv("HOME", f->dir, 1);
	path = tu_write_file(f->dir, "sysg.yaml", yaml);
	ck_assert_ptr_nonnull(path);
	sysg_diag_init(&d);
	rc = sysg_config_load(path, &f->cfg, &d);
	all = sysg_diag_join(&d);
	ck_assert_msg(rc == 0, "config: %s", all);
	free(all);
	sysg_diag_free(&d);
	free(path);
	ck_assert_int_eq(sysg_plugin_path_init(&f->pp, NULL), 0);
	rc = sysg_state_open(&f->st, &f->pp, backends[backend], f->state_dir,
			     NULL, err, sizeof(err));
	ck_assert_msg(rc == 0, "state: %s", err);
}

static void script(struct fx *f, const char *name, const char *text)
{
	free(tu_write_file(f->dir, name, text));
}

static struct sysg_supervisor *new_sup(struct fx *f, int direct)
{
	struct sysg_supervisor_opts o = {
		.state_dir = f->state_dir, .log_dir = f->log_dir,
		.log_level = SYSG_LOG_DEBUG, .direct_logs = direct,
	};
	struct sysg_supervisor *s = NULL;
	char err[512];
	int rc = sysg_supervisor_new(&s, f->cfg, f->st, &o, err, sizeof(err));

	ck_assert_msg(rc == 0, "supervisor: %s", err);
	return s;
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

/* Supervisor A, in its own process, until it is killed. */
static void start_a(struct fx *f, int direct)
{
	f->a = fork();
	ck_assert_int_ge(f->a, 0);
	if (f->a == 0) {
		struct sysg_supervisor_opts o = {
			.state_dir = f->state_dir, .log_dir = f->log_dir,
			.log_level = SYSG_LOG_DEBUG, .direct_logs = direct,
		};
		struct sysg_supervisor *s;
		char err[512];

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (sysg_supervisor_new(&s, f->cfg, f->st, &o, err,
					sizeof(err)) < 0)
			_exit(1);
		sysg_supervisor_start_all(s);
		sysg_supervisor_run_until(s, never, NULL, 60000);
		_exit(0);
	}
}

static void kill_a(struct fx *f)
{
	ck_assert_int_eq(kill(f->a, SIGKILL), 0);
	ck_assert_int_eq(waitpid(f->a, NULL, 0), f->a);
	f->a = 0;
}

static void fx_teardown(struct fx *f)
{
	if (f->a > 0) {
		kill(f->a, SIGKILL);
		waitpid(f->a, NULL, 0);
	}
	if (f->b) {
		sysg_supervisor_stop_all(f->b);
		sysg_supervisor_run_until(f->b, idle, NULL, 15000);
		sysg_supervisor_free(f->b);
	}
	sysg_state_close(f->st);
	sysg_config_free(f->cfg);
	sysg_plugin_path_free(&f->pp);
	tu_rm_rf(f->dir);
	free(f->dir);
}

/* ---------------------------------------------------------------- */
/* Looking at processes and records from outside                     */
/* ---------------------------------------------------------------- */

static struct sysg_unit_record rec(struct fx *f, const char *name)
{
	struct sysg_unit_record u;

	memset(&u, 0, sizeof(u));
	sysg_state_get_unit(f->st, name, &u);
	return u;
}

struct want_running {
	struct fx *f;
	const char *const *names;
};

static int records_running(void *arg)
{
	struct want_running *w = arg;

	for (int i = 0; w->names[i]; i++) {
		struct sysg_unit_record u = rec(w->f, w->names[i]);

		if (strcmp(u.status, "running") || u.pid <= 0)
			return 0;
	}
	return 1;
}

static void wait_records_running(struct fx *f, const char *const *names)
{
	struct want_running w = { f, names };

	ck_assert_msg(tu_wait_for(records_running, &w, 8000, 20),
		      "supervisor A did not get everything running");
}

/* Runs of SVC alive: session leaders carrying its marker. */
static int instances(struct fx *f, const char *svc)
{
	char prefix[160], buf[200];
	struct sysg_tree_match m = { .marker = prefix, .marker_prefix = 1 };
	struct sysg_pidset all = { 0 };
	int n = 0;

	sysg_instance_prefix(f->state_dir, svc, prefix, sizeof(prefix));
	ck_assert_int_eq(sysg_proctree_collect(&m, &all), 0);
	for (size_t i = 0; i < all.n; i++) {
		struct sysg_proc_stat st;

		if (sysg_proc_stat_read(all.v[i].pid, &st) == 0 &&
		    st.sid == st.pid &&
		    sysg_proc_environ_find(st.pid, prefix, buf, sizeof(buf)) == 0)
			n++;
	}
	sysg_pidset_free(&all);
	return n;
}

static long file_size(struct fx *f, const char *name)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", f->log_dir, name);
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

struct growth {
	struct fx *f;
	const char *name;
	long from;
};

static int grew(void *arg)
{
	struct growth *g = arg;

	return file_size(g->f, g->name) >= g->from + 40;
}

static int log_has(struct fx *f, const char *needle)
{
	char path[4200], *s;
	int found;

	snprintf(path, sizeof(path), "%s/supervisor.log", f->log_dir);
	s = tu_read_file(path, NULL);
	found = s && strstr(s, needle);
	free(s);
	return found;
}

struct status_wait {
	const char *name, *status;
	pid_t not_pid;
};

static int has_status(struct sysg_supervisor *s, void *arg)
{
	struct status_wait *w = arg;
	struct sysg_unit_record u;

	return sysg_supervisor_get(s, w->name, &u) == 0 &&
	       !strcmp(u.status, w->status) && u.pid != w->not_pid;
}

static int wait_status(struct fx *f, const char *name, const char *status,
		       pid_t not_pid, int ms)
{
	struct status_wait w = { name, status, not_pid };

	return sysg_supervisor_run_until(f->b, has_status, &w,
					 tu_deadline_ms(ms));
}

static int pid_dead(struct sysg_supervisor *s, void *arg)
{
	(void)s;
	return !sysg_proc_is_alive(*(pid_t *)arg, 0);
}

static int wait_dead(struct fx *f, pid_t pid, int ms)
{
	return sysg_supervisor_run_until(f->b, pid_dead, &pid,
					 tu_deadline_ms(ms)) == 0;
}

/* ---------------------------------------------------------------- */
/* Output survives the supervisor                                    */
/* ---------------------------------------------------------------- */

static const char talk_sh[] =
	"i=0\n"
	"while [ $i -lt 600 ]; do echo tick $i; echo tock $i >&2; "
	"sleep 0.05; i=$((i+1)); done\n";

static const char *const talk_only[] = { "talk", NULL };

START_TEST(test_direct_logs_survive_supervisor_kill)
{
	struct fx f;
	struct sysg_unit_record u;
	struct growth g = { &f, "talk_stdout.log", 0 };
	struct growth ge = { &f, "talk_stderr.log", 0 };

	fx_setup(&f, "version: \"1\"\nservices:\n"
		 "  talk: { command: \"sh talk.sh\", ready_after: \"100ms\" }\n", _i);
	script(&f, "talk.sh", talk_sh);
	start_a(&f, 1);
	wait_records_running(&f, talk_only);
	u = rec(&f, "talk");
	kill_a(&f);
	g.from = file_size(&f, "talk_stdout.log");
	ge.from = file_size(&f, "talk_stderr.log");
	/* still printing every 50 ms with nobody draining anything */
	ck_assert(tu_wait_for(grew, &g, 3000, 20));
	ck_assert(tu_wait_for(grew, &ge, 3000, 20));
	ck_assert(sysg_proc_is_alive((pid_t)u.pid, u.start_ticks));
	ck_assert_int_eq(instances(&f, "talk"), 1);
	/* clean up through adoption */
	f.b = new_sup(&f, 1);
	ck_assert_int_eq(sysg_supervisor_adopt(f.b), 1);
	fx_teardown(&f);
	ck_assert(!sysg_proc_is_alive((pid_t)u.pid, u.start_ticks));
}
END_TEST

static int talk_dead(void *arg)
{
	struct sysg_unit_record *u = arg;

	return !sysg_proc_is_alive((pid_t)u->pid, u->start_ticks);
}

/* The reason for direct_logs: with pipes the service dies of SIGPIPE. */
START_TEST(test_piped_output_dies_with_supervisor)
{
	struct fx f;
	struct sysg_unit_record u;

	fx_setup(&f, "version: \"1\"\nservices:\n"
		 "  talk: { command: \"sh talk.sh\", ready_after: \"100ms\" }\n", _i);
	script(&f, "talk.sh", talk_sh);
	start_a(&f, 0);
	wait_records_running(&f, talk_only);
	u = rec(&f, "talk");
	kill_a(&f);
	ck_assert(tu_wait_for(talk_dead, &u, 3000, 10));
	f.b = new_sup(&f, 1);           /* sweeps its empty cgroup */
	ck_assert_int_eq(sysg_supervisor_adopt(f.b), 0);
	fx_teardown(&f);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Re-adoption                                                       */
/* ---------------------------------------------------------------- */

static const char *const three[] = { "talk", "web", "worker", NULL };

static pid_t child_of(pid_t parent)
{
	struct sysg_tree_match m = { .main_pid = parent };
	struct sysg_pidset s = { 0 };
	pid_t kid = 0;

	sysg_proctree_collect(&m, &s);
	for (size_t i = 0; i < s.n; i++)
		if (s.v[i].pid != parent)
			kid = s.v[i].pid;
	sysg_pidset_free(&s);
	return kid;
}

START_TEST(test_adopt_after_supervisor_kill)
{
	struct fx f;
	struct sysg_unit_record a[3], u;
	struct sysg_exit_info ex[4];
	pid_t web_kid, tree[8];
	char line[128], path[4200];
	char *started;

	fx_setup(&f, "version: \"1\"\nservices:\n"
		 "  talk: { command: \"sh talk.sh\", ready_after: \"100ms\",\n"
		 "          restart_policy: always, backoff: \"50ms\" }\n"
		 "  web: { command: \"sh web.sh\", ready_after: \"100ms\",\n"
		 "         stop_timeout: \"2s\",\n"
		 "         hooks: { on_start: { success: { command: \"echo s >> started.txt\" } } } }\n"
		 "  worker: { command: \"sleep 30\", ready_after: \"100ms\",\n"
		 "            restart_policy: on-failure, backoff: \"50ms\" }\n", _i);
	script(&f, "talk.sh", talk_sh);
	script(&f, "web.sh", "sleep 30 &\nexec sleep 31\n");
	start_a(&f, 1);
	wait_records_running(&f, three);
	for (int i = 0; i < 3; i++)
		a[i] = rec(&f, three[i]);
	web_kid = child_of((pid_t)a[1].pid);
	ck_assert_int_gt(web_kid, 0);
	kill_a(&f);

	/* B takes over: same processes, nothing new */
	f.b = new_sup(&f, 1);
	ck_assert_int_eq(sysg_supervisor_adopt(f.b), 3);
	sysg_supervisor_start_all(f.b);
	sysg_supervisor_run_until(f.b, never, NULL, 400);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(sysg_supervisor_get(f.b, three[i], &u), 0);
		ck_assert_str_eq(u.status, "running");
		ck_assert_int_eq(u.pid, a[i].pid);
		ck_assert_int_eq(u.pgid, a[i].pgid);
		ck_assert_int_eq(u.start_ticks, a[i].start_ticks);
		ck_assert_int_eq(u.started_at_ms, a[i].started_at_ms);
		ck_assert_int_eq(instances(&f, three[i]), 1);
		snprintf(line, sizeof(line), "Adopted service: %s (pid %lld)",
			 three[i], (long long)a[i].pid);
		ck_assert_msg(log_has(&f, line), "no '%s' in the log", line);
	}
	/* no hook fired again */
	snprintf(path, sizeof(path), "%s/started.txt", f.dir);
	started = tu_read_file(path, NULL);
	ck_assert_ptr_nonnull(started);
	ck_assert_str_eq(started, "s\n");
	free(started);
	/* the tree is known */
	ck_assert_int_eq(sysg_supervisor_pids(f.b, "web", tree, 8), 2);
	ck_assert_int_eq(tree[0], a[1].pid);
	ck_assert_int_eq(tree[1], web_kid);

	/* a clean stop takes the whole adopted tree down */
	ck_assert_int_eq(sysg_supervisor_stop_service(f.b, "web"), 0);
	ck_assert_int_eq(wait_status(&f, "web", "stopped", -1, 3000), 0);
	ck_assert(!sysg_proc_is_alive((pid_t)a[1].pid, 0));
	ck_assert(wait_dead(&f, web_kid, 1000));
	ck_assert_str_eq(rec(&f, "web").status, "stopped");
	ck_assert(sysg_proc_is_alive((pid_t)a[0].pid, a[0].start_ticks));

	/* an external kill is noticed (pidfd) and the policy restarts it */
	kill((pid_t)a[2].pid, SIGKILL);
	ck_assert_int_eq(wait_status(&f, "worker", "running",
				     (pid_t)a[2].pid, 3000), 0);
	u = rec(&f, "worker");
	ck_assert_int_ne(u.pid, a[2].pid);
	ck_assert_int_eq(u.restarts, a[2].restarts + 1);
	ck_assert_int_eq(sysg_supervisor_exits(f.b, "worker", ex, 4), 1);
	ck_assert_int_eq(ex[0].has_code, 0);   /* not our child: unknown */
	ck_assert_int_eq(ex[0].has_signal, 0);
	ck_assert_int_eq(instances(&f, "worker"), 1);
	fx_teardown(&f);
	ck_assert(!sysg_proc_is_alive((pid_t)a[0].pid, a[0].start_ticks));
	ck_assert_int_eq(instances(&f, "talk"), 0);
}
END_TEST

/* A dead pid, a reused pid and a live process without our marker are
 * not ours: those services start afresh and the stranger is untouched. */
START_TEST(test_stale_and_reused_not_adopted)
{
	struct fx f;
	struct sysg_unit_record u;
	uint64_t ticks;
	pid_t dead, stranger;
	const char *names[] = { "gone", "reused", "stranger" };

	fx_setup(&f, "version: \"1\"\nservices:\n"
		 "  gone: { command: \"sleep 30\", ready_after: \"50ms\" }\n"
		 "  reused: { command: \"sleep 30\", ready_after: \"50ms\" }\n"
		 "  stranger: { command: \"sleep 30\", ready_after: \"50ms\" }\n", _i);
	dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	stranger = fork();
	if (stranger == 0) {
		execlp("sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	ck_assert(tu_wait_for(talk_dead, &(struct sysg_unit_record){
		.pid = dead }, 100, 10));
	ck_assert_int_eq(sysg_proc_start_ticks_of(stranger, &ticks), 0);
	for (int i = 0; i < 3; i++) {
		memset(&u, 0, sizeof(u));
		snprintf(u.name, sizeof(u.name), "%s", names[i]);
		snprintf(u.kind, sizeof(u.kind), "service");
		snprintf(u.status, sizeof(u.status), "running");
		u.pid = i == 0 ? dead : stranger;
		u.pgid = u.pid;
		u.start_ticks = i == 1 ? ticks + 1 : ticks;
		u.restarts = 4;
		ck_assert_int_eq(sysg_state_put_unit(f.st, &u), 0);
	}
	f.b = new_sup(&f, 1);
	ck_assert_int_eq(sysg_supervisor_adopt(f.b), 0);
	sysg_supervisor_start_all(f.b);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(wait_status(&f, names[i], "running", -1, 3000),
				 0);
		ck_assert_int_eq(sysg_supervisor_get(f.b, names[i], &u), 0);
		ck_assert_int_ne(u.pid, dead);
		ck_assert_int_ne(u.pid, stranger);
		ck_assert_int_eq(u.restarts, 0);
		ck_assert_int_eq(instances(&f, names[i]), 1);
	}
	ck_assert(sysg_proc_is_alive(stranger, ticks));
	fx_teardown(&f);
	ck_assert(sysg_proc_is_alive(stranger, ticks));
	kill(stranger, SIGKILL);
	waitpid(stranger, NULL, 0);
}
END_TEST

/* The main process died with the supervisor, its children did not:
 * they are stopped before the service runs again, never duplicated. */
START_TEST(test_leftovers_cleaned_before_restart)
{
	struct fx f;
	struct sysg_unit_record u, n;
	pid_t kid;
	const char *const names[] = { "left", NULL };

	fx_setup(&f, "version: \"1\"\nservices:\n"
		 "  left: { command: \"sh left.sh\", ready_after: \"100ms\",\n"
		 "          stop_timeout: \"1s\" }\n", _i);
	script(&f, "left.sh", "sleep 30 &\nsleep 31\n");
	start_a(&f, 1);
	wait_records_running(&f, names);
	u = rec(&f, "left");
	kid = child_of((pid_t)u.pid);
	ck_assert_int_gt(kid, 0);
	kill_a(&f);
	kill((pid_t)u.pid, SIGKILL);
	ck_assert(tu_wait_for(talk_dead, &u, 2000, 10));
	ck_assert(sysg_proc_is_alive(kid, 0));
	f.b = new_sup(&f, 1);
	ck_assert_int_eq(sysg_supervisor_adopt(f.b), 0);
	sysg_supervisor_start_all(f.b);
	ck_assert_int_eq(wait_status(&f, "left", "running", -1, 5000), 0);
	ck_assert(!sysg_proc_is_alive(kid, 0));
	ck_assert_int_eq(sysg_supervisor_get(f.b, "left", &n), 0);
	ck_assert_int_ne(n.pid, u.pid);
	ck_assert_int_eq(instances(&f, "left"), 1);
	ck_assert(log_has(&f, "leftover process"));
	fx_teardown(&f);
}
END_TEST

/* The stray has exec'd (its environment is the marker's). */
static int has_marker_env(void *arg)
{
	char path[64], *env;
	size_t len;
	int ok;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)*(pid_t *)arg);
	env = tu_read_file(path, &len);
	ok = env && len > 0 && !strncmp(env, SYSG_INSTANCE_VAR_OLD "=", 14);
	free(env);
	return ok;
}

/* A process left by an older sysg carries the older marker variable
 * (SYSG_INSTANCE=): the one /proc scan at adoption finds it by that too,
 * and it is stopped before the service runs. */
START_TEST(test_leftover_with_older_marker_stopped)
{
	struct fx f;
	char old[SYSG_INSTANCE_MAX], env[SYSG_INSTANCE_MAX + 16];
	const char *const names[] = { "left", NULL };
	pid_t stray;

	fx_setup(&f, "version: \"1\"\nservices:\n"
		 "  left: { command: \"sleep 31\", ready_after: \"100ms\",\n"
		 "          stop_timeout: \"1s\" }\n", _i);
	sysg_instance_prefix_old(f.state_dir, "left", old, sizeof(old));
	snprintf(env, sizeof(env), "%s4242.1", old);
	stray = fork();
	ck_assert_int_ge(stray, 0);
	if (stray == 0) {
		char *argv[] = { (char *)"sleep", (char *)"30", NULL };
		char *envp[] = { env, NULL };

		execve("/bin/sleep", argv, envp);
		_exit(127);
	}
	ck_assert(tu_wait_for(has_marker_env, &stray, 2000, 5));
	f.b = new_sup(&f, 1);
	ck_assert_int_eq(sysg_supervisor_adopt(f.b), 0);
	sysg_supervisor_start_all(f.b);
	ck_assert_int_eq(wait_status(&f, "left", "running", -1, 5000), 0);
	wait_records_running(&f, names);
	ck_assert(log_has(&f, "leftover process"));
	/* stopped (and reaped by the supervisor: this process) */
	ck_assert(!sysg_proc_is_alive(stray, 0));
	fx_teardown(&f);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Cron                                                              */
/* ---------------------------------------------------------------- */

struct runs {
	int running, overlapped, failed, total;
};

static int count_run(void *arg, const struct sysg_cron_run *r)
{
	struct runs *c = arg;

	c->total++;
	c->running += !strcmp(r->status, "running");
	c->overlapped += !strcmp(r->status, "overlapped");
	c->failed += !strcmp(r->status, "failed");
	return 0;
}

START_TEST(test_cron_run_adopted_without_overlap)
{
	struct fx f;
	struct sysg_unit_record u, b;
	struct runs r = { 0 };
	const char *const names[] = { "job", NULL };

	fx_setup(&f, "version: \"1\"\nservices:\n"
		 "  job: { command: \"sleep 30\", cron: \"* * * * * *\" }\n", _i);
	start_a(&f, 1);
	wait_records_running(&f, names);
	u = rec(&f, "job");
	kill_a(&f);
	f.b = new_sup(&f, 1);
	ck_assert_int_eq(sysg_supervisor_adopt(f.b), 1);
	sysg_supervisor_start_all(f.b);
	ck_assert_int_eq(sysg_supervisor_get(f.b, "job", &b), 0);
	ck_assert_str_eq(b.status, "running");
	ck_assert_int_eq(b.pid, u.pid);
	/* due times come while the adopted run goes on: skipped */
	sysg_supervisor_run_until(f.b, never, NULL, 1500);
	ck_assert_int_eq(instances(&f, "job"), 1);
	ck_assert_int_eq(sysg_state_list_cron_runs(f.st, "job", count_run, &r),
			 0);
	ck_assert_int_ge(r.overlapped, 1);
	ck_assert_int_eq(r.running, 1);
	/* its end is noticed; the schedule goes on */
	kill((pid_t)u.pid, SIGKILL);
	ck_assert_int_eq(wait_status(&f, "job", "running", (pid_t)u.pid, 3000),
			 0);
	ck_assert_int_eq(instances(&f, "job"), 1);
	memset(&r, 0, sizeof(r));
	sysg_state_list_cron_runs(f.st, "job", count_run, &r);
	ck_assert_int_ge(r.failed, 1);  /* the adopted run: status unknown */
	fx_teardown(&f);
}
END_TEST

static Suite *make_adopt_suite(void)
{
	Suite *s = suite_create("adopt");
	TCase *logs = tcase_create("logs");
	TCase *adopt = tcase_create("adopt");

	tcase_set_timeout(logs, 60);
	tcase_set_timeout(adopt, 60);
	tcase_add_test(logs, test_direct_logs_survive_supervisor_kill);
	tcase_add_test(logs, test_piped_output_dies_with_supervisor);
	tcase_add_loop_test(adopt, test_adopt_after_supervisor_kill, 0, 2);
	tcase_add_loop_test(adopt, test_stale_and_reused_not_adopted, 0, 2);
	tcase_add_loop_test(adopt, test_leftovers_cleaned_before_restart, 0, 2);
	tcase_add_loop_test(adopt, test_leftover_with_older_marker_stopped, 0,
			    2);
	tcase_add_loop_test(adopt, test_cron_run_adopted_without_overlap, 0, 2);
	suite_add_tcase(s, logs);
	suite_add_tcase(s, adopt);
	return s;
}

int main(void)
{
	return tu_run_suite(make_adopt_suite());
}
