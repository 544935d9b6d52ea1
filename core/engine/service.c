/* service.c - one service's life as a table of small actions.
 *
 * table[state][event] names the action to run. Every cell is filled: an
 * action, NOP (the event does not matter in that state) or BUG (the
 * event cannot reach a service in that state; logged if it ever does).
 * Every change of a service's state happens in an action of this table
 * (set_state is its only writer): requests, process exits, timers,
 * reloads (EV_RECONFIGURE, EV_RETIRE), adoption (EV_ADOPT,
 * EV_LEFTOVERS) and the end of a teardown (EV_GONE) are all events.
 * The table is the state diagram:
 *
 *   IDLE/STOPPED/EXITED/FAILED/SKIPPED/BLOCKED --start--> WAITING
 *   WAITING --deps ready--> SKIPCHECK? --> PRESTART? --> STARTING
 *   WAITING --a dependency failed--> BLOCKED
 *   STARTING --ready--> RUNNING          STARTING --not ready--> STOPPING
 *   STARTING/RUNNING --exit--> STOPPING (leftovers) --gone--> policy:
 *       BACKOFF --tick--> WAITING,  or EXITED / FAILED
 *   STARTING/RUNNING --stop--> STOPPING --gone--> STOPPED
 *   STARTING/RUNNING --dependency crashed--> STOPPING --gone--> WAITING
 *   cron units: --start--> SCHEDULED --due--> RUNNING --exit--> STOPPING
 *       --gone--> SCHEDULED  (cronjob.c)
 *   any --reconfigure--> (up: STOPPING, then the new definition; else
 *       the new definition now)      any --retire--> STOPPING/STOPPED
 *   IDLE --adopt--> RUNNING          IDLE --leftovers--> STOPPING
 *
 * What actions do to the world (spawning in launch.c, readiness in
 * readiness.c, taking a tree down in teardown.c, hooks, the skip and
 * pre_start commands) goes through struct svc_effects, so that the
 * table test (fsm.c) can drive the table without fork or exec.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "config/config.h"
#include "proc/proc.h"
#include "svc.h"

#define STABLE_RUN_MS     10000 /* a run this long resets max_restarts */
#define FORK_RETRY_MS     100
#define CRASH_LOOP_MIN_MS 10    /* restart_delay() */
#define CRASH_LOOP_MAX_MS 1000

typedef void (*action_fn)(struct svc *v);

static int real_run_helper(struct svc *v, const char *cmd);
static void real_fire(struct svc *v, enum sysg_hook_stage stage, int ok);

static const struct svc_effects real_fx = {
	.launch = svc_launch, .run_helper = real_run_helper,
	.fire_hook = real_fire, .open_logs = svc_open_logs,
	.readiness_start = svc_readiness_start,
	.readiness_stop = svc_readiness_stop,
	.teardown_begin = svc_teardown_begin,
	.teardown_tick = svc_teardown_tick,
};

static const struct svc_effects *svc_fx = &real_fx;

void svc_set_effects(const struct svc_effects *fx)
{
	svc_fx = fx ? fx : &real_fx;
}


static void begin_run(struct svc *v);
static void a_schedule(struct svc *v);

void svc_log(struct svc *v, int level, const char *fmt, ...)
{
	char msg[SYSG_LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sysg_log(&v->sup->log, level, "%s", msg);
}

enum sysg_unit_status svc_status(enum svc_state st)
{
	static const enum sysg_unit_status status[NSTATES] = {
		[ST_IDLE] = SYSG_STATUS_STOPPED,
		[ST_WAITING] = SYSG_STATUS_STARTING,
		[ST_SKIPCHECK] = SYSG_STATUS_STARTING,
		[ST_PRESTART] = SYSG_STATUS_STARTING,
		[ST_STARTING] = SYSG_STATUS_STARTING,
		[ST_RUNNING] = SYSG_STATUS_RUNNING,
		[ST_STOPPING] = SYSG_STATUS_STOPPING,
		[ST_BACKOFF] = SYSG_STATUS_BACKOFF,
		[ST_STOPPED] = SYSG_STATUS_STOPPED,
		[ST_EXITED] = SYSG_STATUS_EXITED,
		[ST_FAILED] = SYSG_STATUS_FAILED,
		[ST_SKIPPED] = SYSG_STATUS_SKIPPED,
		[ST_BLOCKED] = SYSG_STATUS_BLOCKED,
		[ST_SCHEDULED] = SYSG_STATUS_SCHEDULED,
	};

	return status[st];
}

const char *svc_state_name(enum svc_state st)
{
	return sysg_status_word(svc_status(st));
}

const char *sysg_status_word(enum sysg_unit_status st)
{
	static const char *const words[SYSG_NSTATUS] = {
		[SYSG_STATUS_STOPPED] = "stopped",
		[SYSG_STATUS_STARTING] = "starting",
		[SYSG_STATUS_RUNNING] = "running",
		[SYSG_STATUS_STOPPING] = "stopping",
		[SYSG_STATUS_BACKOFF] = "backoff",
		[SYSG_STATUS_EXITED] = "exited",
		[SYSG_STATUS_FAILED] = "failed",
		[SYSG_STATUS_SKIPPED] = "skipped",
		[SYSG_STATUS_BLOCKED] = "blocked",
		[SYSG_STATUS_SCHEDULED] = "scheduled",
	};

	return (unsigned)st < SYSG_NSTATUS ? words[st] : "unknown";
}

int sysg_status_parse(const char *word)
{
	for (int st = 0; st < SYSG_NSTATUS; st++)
		if (!strcmp(word, sysg_status_word((enum sysg_unit_status)st)))
			return st;
	return -EINVAL;
}

enum sysg_phase sysg_status_phase(enum sysg_unit_status st)
{
	static const enum sysg_phase phase[SYSG_NSTATUS] = {
		[SYSG_STATUS_STOPPED] = SYSG_PHASE_INACTIVE,
		[SYSG_STATUS_STARTING] = SYSG_PHASE_ACTIVATING,
		[SYSG_STATUS_RUNNING] = SYSG_PHASE_ACTIVE,
		[SYSG_STATUS_STOPPING] = SYSG_PHASE_DEACTIVATING,
		[SYSG_STATUS_BACKOFF] = SYSG_PHASE_ACTIVATING,
		[SYSG_STATUS_EXITED] = SYSG_PHASE_INACTIVE,
		[SYSG_STATUS_FAILED] = SYSG_PHASE_FAILED,
		[SYSG_STATUS_SKIPPED] = SYSG_PHASE_INACTIVE,
		[SYSG_STATUS_BLOCKED] = SYSG_PHASE_FAILED,
		[SYSG_STATUS_SCHEDULED] = SYSG_PHASE_ACTIVE,
	};

	return (unsigned)st < SYSG_NSTATUS ? phase[st] : SYSG_PHASE_INACTIVE;
}

const char *sysg_phase_name(enum sysg_phase p)
{
	static const char *const names[SYSG_NPHASES] = {
		[SYSG_PHASE_INACTIVE] = "inactive",
		[SYSG_PHASE_ACTIVATING] = "activating",
		[SYSG_PHASE_ACTIVE] = "active",
		[SYSG_PHASE_DEACTIVATING] = "deactivating",
		[SYSG_PHASE_FAILED] = "failed",
	};

	return (unsigned)p < SYSG_NPHASES ? names[p] : "unknown";
}

int svc_is_up(const struct svc *v)
{
	return v->state == ST_STARTING || v->state == ST_RUNNING ||
	       v->state == ST_STOPPING;
}

int svc_is_settled(const struct svc *v)
{
	switch (v->state) {
	case ST_SKIPCHECK: case ST_PRESTART: case ST_STARTING:
	case ST_RUNNING: case ST_STOPPING: case ST_BACKOFF:
	case ST_SCHEDULED:
		return 0;
	default:
		return 1;
	}
}

/* The only place a service's state is assigned; only actions of the
 * table call it. A tree being torn down is recorded once it is gone. */
static void set_state(struct svc *v, enum svc_state st)
{
	v->state = st;
	sup_note_status(v);
	if (st == ST_STOPPING)
		return;
	sup_record(v);
	sup_changed(v->sup);
}

/* Take V's process tree down for WHY; EV_GONE follows. */
static void stop_tree(struct svc *v, enum stop_reason why)
{
	set_state(v, ST_STOPPING);
	svc_fx->teardown_begin(v, why);
}

void svc_deploy_state(struct svc *v, enum svc_state st)
{
	set_state(v, st);
}

void svc_exit_status(struct svc *v, int status)
{
	v->has_exit = WIFEXITED(status);
	v->exit_code = v->has_exit ? WEXITSTATUS(status) : 0;
	v->has_signal = WIFSIGNALED(status);
	v->signo = v->has_signal ? WTERMSIG(status) : 0;
}

/* Remember the exit just recorded in V (newest first). */
static void note_exit(struct svc *v)
{
	struct sysg_exit_info *e = &v->exits[0];

	if (v->nexits < SYSG_EXITS_KEEP)
		v->nexits++;
	memmove(&v->exits[1], &v->exits[0],
		(v->nexits - 1) * sizeof(v->exits[0]));
	memset(e, 0, sizeof(*e));
	e->at_ms = sysg_wall_ms();
	e->has_code = v->has_exit;
	e->code = v->exit_code;
	e->has_signal = v->has_signal;
	e->signo = v->signo;
}

void svc_main_exited(struct svc *v, int status)
{
	svc_unwatch_exit(v);
	svc_exec_check(v, 1);   /* a failed exec reports itself first */
	if (v->exec_err) {
		if (v->privs)
			sysg_privs_end_run(v->privs);
		svc_event(v, EV_EXIT);
		free(v->exec_err);
		v->exec_err = NULL;
		return;
	}
	if (status >= 0) {
		svc_exit_status(v, status);
	} else {
		v->has_exit = v->has_signal = 0;
		v->exit_code = v->signo = 0;
	}
	if (v->privs)
		v->privs->ns_pid = 0;
	v->oom = v->privs ? sysg_privs_end_run(v->privs) : 0;
	if (v->oom)
		svc_log(v, SYSG_LOG_WARN, "Service %s: killed by the kernel's "
			"OOM killer in its cgroup (limits.cgroup.memory_max)",
			v->cfg->name);
	note_exit(v);
	svc_event(v, EV_EXIT);
}

static int crashed(const struct svc *v)
{
	return !(v->has_exit && v->exit_code == 0);
}

char *const *svc_env(const struct svc *v)
{
	extern char **environ;

	return v->cfg->envp ? v->cfg->envp : environ;
}

const char *svc_cwd(const struct svc *v)
{
	return v->cfg->workdir ? v->cfg->workdir : v->sup->cfg->project_dir;
}

static void real_fire(struct svc *v, enum sysg_hook_stage stage, int ok)
{
	sysg_hook_fire(&v->sup->jobs, &v->sup->log, v->cfg, stage, ok,
		       svc_env(v), svc_cwd(v),
		       v->log_out >= 0 ? v->log_out : SYSG_SPAWN_DEVNULL,
		       v->log_err >= 0 ? v->log_err : SYSG_SPAWN_DEVNULL,
		       v->privs);
}

static void fire(struct svc *v, enum sysg_hook_stage stage, int ok)
{
	svc_fx->fire_hook(v, stage, ok);
}

void svc_fire(struct svc *v, enum sysg_hook_stage stage, int ok)
{
	fire(v, stage, ok);
}

/* on_start.*, or on_restart.* for an automatic restart. */
static void fire_start(struct svc *v, int ok)
{
	fire(v, v->auto_restart ? SYSG_HOOK_ON_RESTART : SYSG_HOOK_ON_START, ok);
}

/* ------------------------------------------------------------------ */
/* Failure, policy                                                     */
/* ------------------------------------------------------------------ */

static void fail(struct svc *v, enum svc_state st, const char *reason)
{
	struct sysg_supervisor *s = v->sup;

	snprintf(v->reason, sizeof(v->reason), "%s", reason);
	svc_log(v, SYSG_LOG_ERROR, "Service %s %s: %s", v->cfg->name,
		st == ST_BLOCKED ? "blocked" : "failed", reason);
	if (!v->failed_to_start) {
		v->failed_to_start = 1;
		s->failures++;
		if (s->opts.on_failure)
			s->opts.on_failure(s->opts.arg, v->cfg->name, reason);
	}
	set_state(v, st);
}

static void on_timer(struct sysg_timer *t)
{
	svc_event(t->arg, EV_TICK);
}

/* The wait before the next automatic restart: the configured backoff,
 * but, after a run shorter than CRASH_LOOP_MAX_MS, at least
 * CRASH_LOOP_MIN_MS doubled for each restart of the current streak of
 * unstable runs after the first (0, 10 ms, 20 ms, 40 ms ... up to
 * CRASH_LOOP_MAX_MS), so that `backoff: 0` cannot make a crash loop burn
 * a core and fill supervisor.log. A stable run ends the streak; a run
 * that lasted CRASH_LOOP_MAX_MS is restarted at once (SPEC 9: within
 * 10 ms), as it can cost at most one spawn a second. */
static int64_t restart_delay(const struct svc *v)
{
	int64_t floor = 0;

	if (v->consecutive > 0 &&
	    sysg_now_ms() - v->started_mono < CRASH_LOOP_MAX_MS)
		floor = v->consecutive > 7 ? CRASH_LOOP_MAX_MS :
			CRASH_LOOP_MIN_MS << (v->consecutive - 1);
	if (floor > CRASH_LOOP_MAX_MS)
		floor = CRASH_LOOP_MAX_MS;
	return v->cfg->backoff_ms > floor ? v->cfg->backoff_ms : floor;
}

static void apply_policy(struct svc *v, int bad, const char *why)
{
	enum sysg_restart_policy p = v->cfg->restart_policy;
	int64_t delay = restart_delay(v);
	char msg[SYSG_REASON_MAX];

	if (!v->want_up) {
		set_state(v, ST_STOPPED);
		return;
	}
	if (!(p == SYSG_RESTART_ALWAYS || (p == SYSG_RESTART_ON_FAILURE && bad))) {
		if (bad)
			fail(v, ST_FAILED, why);
		else
			set_state(v, ST_EXITED);
		return;
	}
	if (v->cfg->max_restarts >= 0 && v->consecutive >= v->cfg->max_restarts) {
		snprintf(msg, sizeof(msg), "%s; gave up after %d restarts", why,
			 v->consecutive);
		fail(v, ST_FAILED, msg);
		return;
	}
	svc_log(v, SYSG_LOG_INFO, "Restarting service %s in %lld ms (%s)",
		v->cfg->name, (long long)delay, why);
	sysg_timer_start(v->sup->loop, &v->timer, delay, on_timer, v);
	set_state(v, ST_BACKOFF);
}

static void exit_reason(const struct svc *v, char *buf, size_t len)
{
	if (v->oom)
		snprintf(buf, len, SYSG_OOM_REASON);
	else if (v->has_signal)
		snprintf(buf, len, "killed by signal %d", v->signo);
	else if (v->has_exit)
		snprintf(buf, len, "exited with code %d", v->exit_code);
	else
		snprintf(buf, len, "exited (status unknown: adopted process)");
}

/* ------------------------------------------------------------------ */
/* Dependencies                                                        */
/* ------------------------------------------------------------------ */

/* 1: all dependencies ready; 0: wait; -1: one failed (named in BAD). */
static int deps_verdict(struct svc *v, const char **bad)
{
	int verdict = 1;

	for (size_t i = 0; i < v->cfg->ndepends_on; i++) {
		struct svc *d = sup_find(v->sup, v->cfg->depends_on[i]);

		if (!d || sysg_service_is_cron(d->cfg))
			continue;
		if (d->state == ST_FAILED || d->state == ST_BLOCKED) {
			*bad = d->cfg->name;
			return -1;
		}
		if (d->state != ST_RUNNING && d->state != ST_SKIPPED &&
		    d->state != ST_EXITED)
			verdict = 0;
	}
	return verdict;
}

static void a_check_deps(struct svc *v)
{
	const char *bad = NULL;
	char msg[SYSG_REASON_MAX];
	int verdict;

	if (!v->want_up)
		return;
	verdict = deps_verdict(v, &bad);
	if (verdict < 0) {
		if (v->state == ST_BLOCKED)
			return;
		snprintf(msg, sizeof(msg), "dependency %s failed", bad);
		fail(v, ST_BLOCKED, msg);
	} else if (verdict > 0) {
		begin_run(v);
	}
}

static void a_start(struct svc *v)
{
	v->degraded = 0;
	v->want_up = 1;
	v->auto_restart = 0;
	v->consecutive = 0;
	v->failed_to_start = 0;
	v->reason[0] = '\0';
	if (v->cron) {
		a_schedule(v);
		return;
	}
	svc_log(v, SYSG_LOG_INFO, "Starting service: %s", v->cfg->name);
	set_state(v, ST_WAITING);
	a_check_deps(v);
}

/* ------------------------------------------------------------------ */
/* skip and pre_start commands                                         */
/* ------------------------------------------------------------------ */

static void helper_done(struct sysg_job *j, int status, int timed_out)
{
	struct svc *v = j->arg;

	(void)timed_out;
	if (v->state != ST_SKIPCHECK && v->state != ST_PRESTART)
		return;         /* stopped meanwhile */
	svc_exit_status(v, status);
	svc_event(v, crashed(v) ? EV_JOB_FAIL : EV_JOB_OK);
}

static int real_run_helper(struct svc *v, const char *cmd)
{
	char *expanded = strdup(cmd);   /* its shell expands $VAR (config.h) */
	struct sysg_spawn_req req = {
		.command = expanded, .force_shell = 1, .envp = svc_env(v),
		.cwd = svc_cwd(v), .cgroup_fd = -1,
		.out_fd = v->log_out >= 0 ? v->log_out : SYSG_SPAWN_DEVNULL,
		.err_fd = v->log_err >= 0 ? v->log_err : SYSG_SPAWN_DEVNULL,
	};
	char err[SYSG_ERR_MAX], **env = NULL;
	int rc;

	/* as the service: its user, limits... (privs.h) */
	if (!expanded || sysg_privs_helper_req(v->privs, &req, &env) < 0) {
		free(expanded);
		return -ENOMEM;
	}
	v->helper.done = helper_done;
	v->helper.arg = v;
	rc = sysg_job_spawn(&v->sup->jobs, &v->helper, &req, 0, err,
			    sizeof(err));
	if (rc < 0)
		svc_log(v, SYSG_LOG_ERROR, "Service %s: %s", v->cfg->name, err);
	sysg_env_free(env);
	free(expanded);
	return rc;
}

static int check_privileged(struct svc *v)
{
	char err[SYSG_REASON_MAX];
	int rc;

	struct sysg_privs_opts o = {
		.sys = v->sup->opts.sys,
		.drop_privileges = v->sup->opts.drop_privileges,
		.cgroup_v2_base = v->sup->cgroup_base,
	};
	struct sysg_mark at;
	struct sysg_privs *p;

	if (v->privs)
		sysg_privs_end_run(v->privs);
	svc_privs_drop(v);
	sup_cgroup_base_ensure(v->sup);     /* its limits go below it */
	if (!(p = malloc(sizeof(*p)))) {
		fail(v, ST_FAILED, "out of memory");
		return -ENOMEM;
	}
	rc = sysg_privs_prepare(v->cfg, &o, p, &at, err, sizeof(err));
	if (rc == 0 && p->needed) {
		v->privs = p;
	} else {
		sysg_privs_free(p);
		free(p);
	}
	if (rc < 0) {
		svc_log(v, SYSG_LOG_ERROR, "%s:%d:%d: error: %s",
			v->sup->cfg->path, at.line, at.col, err);
		fail(v, ST_FAILED, err);
	}
	return rc;
}

static void a_prestart(struct svc *v);

static void begin_run(struct svc *v)
{
	if (v->cfg->skip) {
		svc_log(v, SYSG_LOG_INFO, "Skipping service: %s", v->cfg->name);
		set_state(v, ST_SKIPPED);
		return;
	}
	svc_fx->open_logs(v);
	/* before the skip command, which runs as the service does */
	if (check_privileged(v) < 0)
		return;
	if (v->cfg->skip_command && *v->cfg->skip_command &&
	    svc_fx->run_helper(v, v->cfg->skip_command) == 0) {
		set_state(v, ST_SKIPCHECK);
		return;
	}
	a_prestart(v);
}

static void a_skipped(struct svc *v)
{
	svc_log(v, SYSG_LOG_INFO, "Skipping service %s: its skip command "
		"succeeded", v->cfg->name);
	set_state(v, ST_SKIPPED);
}

static void a_spawn(struct svc *v);

static void a_prestart(struct svc *v)
{
	const char *pre = v->cfg->deployment.pre_start;

	if (!pre || !*pre) {
		a_spawn(v);
		return;
	}
	svc_log(v, SYSG_LOG_INFO, "Running pre_start of %s", v->cfg->name);
	if (svc_fx->run_helper(v, pre) < 0) {
		v->has_exit = 1;
		v->exit_code = 127;
		fail(v, ST_FAILED, "exited with error");
		return;
	}
	set_state(v, ST_PRESTART);
}

static void a_prestart_failed(struct svc *v)
{
	char msg[SYSG_REASON_MAX];

	exit_reason(v, msg, sizeof(msg));
	svc_log(v, SYSG_LOG_ERROR, "pre_start of %s %s", v->cfg->name, msg);
	fire_start(v, 0);
	fail(v, ST_FAILED, "exited with error");
}

static void a_abort_job(struct svc *v)
{
	sysg_job_cancel(&v->helper);
	set_state(v, ST_WAITING);
}

static void a_stop_job(struct svc *v)
{
	v->want_up = 0;
	sysg_job_cancel(&v->helper);
	svc_log(v, SYSG_LOG_INFO, "Service %s stopped before it started",
		v->cfg->name);
	set_state(v, ST_STOPPED);
}

/* ------------------------------------------------------------------ */
/* Spawning and readiness                                              */
/* ------------------------------------------------------------------ */

/* fork() itself failed (EAGAIN: process limit, memory): not the
 * service's fault, so try again shortly whatever its policy says. */
static void fork_failed(struct svc *v, const char *err)
{
	int64_t delay = v->cfg->backoff_ms > FORK_RETRY_MS ?
			v->cfg->backoff_ms : FORK_RETRY_MS;

	svc_log(v, SYSG_LOG_WARN, "Service %s: %s; retrying in %lld ms",
		v->cfg->name, err, (long long)delay);
	sysg_timer_start(v->sup->loop, &v->timer, delay, on_timer, v);
	set_state(v, ST_BACKOFF);
}

static void spawn_failed(struct svc *v, int rc, const char *err)
{
	if (v->cgroup[0])
		sup_remove_cgroup(v->sup, v->cgroup);
	v->cgroup[0] = '\0';
	v->pid = 0;
	if (rc == -EAGAIN && v->want_up) {
		fork_failed(v, err);
		return;
	}
	svc_log(v, SYSG_LOG_ERROR, "Service %s could not start: %s",
		v->cfg->name, err);
	v->has_exit = 1;
	v->exit_code = 127;
	v->has_signal = 0;
	fire_start(v, 0);
	apply_policy(v, 1, err);
}

/* The new run exec'd: it is starting. */
static void exec_confirmed(struct svc *v)
{
	if (!v->cfg->health.present)
		fire_start(v, 1);
	svc_fx->readiness_start(v);
}

void svc_exec_ok(struct svc *v)
{
	if (v->state == ST_STARTING)
		exec_confirmed(v);
}

static void a_spawn(struct svc *v)
{
	char err[SYSG_ERR_MAX];
	int rc = svc_fx->launch(v, err, sizeof(err));

	if (rc < 0) {
		spawn_failed(v, rc, err);
		return;
	}
	set_state(v, ST_STARTING);
	/* else svc_exec_check() confirms it, or its exit reports why not */
	if (!v->exec_cmd && !v->exec_err)
		exec_confirmed(v);
}

static void a_ready(struct svc *v)
{
	v->ready_mono = sysg_now_ms();
	svc_log(v, SYSG_LOG_INFO, "Service %s is running (pid %d)",
		v->cfg->name, (int)v->pid);
	if (v->cfg->health.present)
		fire_start(v, 1);
	set_state(v, ST_RUNNING);
	svc_remember_soon(v);
}

static void a_not_ready(struct svc *v)
{
	if (v->cfg->readiness_notify)
		snprintf(v->reason, sizeof(v->reason), "no READY=1 within "
			 "%lld ms", (long long)SYSG_NOTIFY_READY_MS);
	else
		snprintf(v->reason, sizeof(v->reason), "health check did not "
			 "pass within %lld ms%s%s", (long long)(
			 v->cfg->health.timeout_ms * (v->cfg->health.retries >
			 0 ? v->cfg->health.retries : 1)),
			 v->probe_cause[0] ? ": " : "", v->probe_cause);
	svc_log(v, SYSG_LOG_ERROR, "Service %s: %s", v->cfg->name, v->reason);
	fire_start(v, 0);
	stop_tree(v, STOP_NOT_READY);
}

/* ------------------------------------------------------------------ */
/* Exits and teardown                                                  */
/* ------------------------------------------------------------------ */

/* EV_WATCHDOG: no WATCHDOG=1 in time: a failure, handled like a crash. */
static void a_watchdog(struct svc *v)
{
	snprintf(v->reason, sizeof(v->reason), "watchdog timeout (no "
		 "WATCHDOG=1 within %lld ms)", (long long)v->cfg->watchdog_ms);
	svc_log(v, SYSG_LOG_ERROR, "Service %s: %s", v->cfg->name, v->reason);
	svc_fx->readiness_stop(v);
	if (v->state == ST_STARTING)
		fire_start(v, 0);
	else
		fire(v, SYSG_HOOK_ON_STOP, 0);
	sup_dependents(v, EV_DEP_DOWN);
	stop_tree(v, STOP_WATCHDOG);
}

static void a_exited(struct svc *v)
{
	char msg[SYSG_REASON_MAX];
	int bad = crashed(v);
	int before_ready = v->state == ST_STARTING && v->cfg->health.present;

	if (v->exec_err) {      /* it never ran: as if the spawn had failed */
		char err[SYSG_ERR_MAX];

		snprintf(err, sizeof(err), "%s", v->exec_err);
		free(v->exec_err);
		v->exec_err = NULL;
		spawn_failed(v, v->exec_rc, err);
		return;
	}
	v->pid = 0;
	exit_reason(v, msg, sizeof(msg));
	svc_log(v, bad ? SYSG_LOG_WARN : SYSG_LOG_INFO, "%s %s %s",
		v->cron ? "Cron job" : "Service", v->cfg->name, msg);
	if (v->cron) {
		stop_tree(v, STOP_EXIT);
		return;
	}
	if (v->ready_mono && sysg_now_ms() - v->ready_mono >= STABLE_RUN_MS)
		v->consecutive = 0;
	svc_fx->readiness_stop(v);
	if (before_ready && bad)
		fire_start(v, 0);
	else
		fire(v, SYSG_HOOK_ON_STOP, !bad);
	if (bad)
		sup_dependents(v, EV_DEP_DOWN);
	stop_tree(v, STOP_EXIT);
}

/* Switch V to its pending definition (reload). Returns 1 when that
 * decided what comes next: it became or stopped being a cron unit. */
static int switch_cfg(struct svc *v)
{
	int was_cron = v->cron;

	svc_log(v, SYSG_LOG_DEBUG, "Service %s: switching to its new "
		"definition", v->next_cfg->name);
	v->cfg = v->next_cfg;
	v->next_cfg = NULL;
	sup_reindex(v->sup);    /* its dependencies may differ */
	svc_drains_rename(v);
	sysg_timer_stop(v->sup->loop, &v->cron_timer);
	svc_privs_drop(v);
	svc_cron_init(v);
	if (v->cron == was_cron)
		return 0;
	v->restart_requested = 0;
	set_state(v, ST_IDLE);
	if (v->want_up)
		svc_event(v, EV_START);
	return 1;
}

static void cron_run_gone(struct svc *v)
{
	svc_cron_run_ended(v);
	if (v->next_cfg && switch_cfg(v))
		return;
	if (v->want_up) {
		a_schedule(v);
		return;
	}
	sysg_timer_stop(v->sup->loop, &v->cron_timer);
	set_state(v, ST_STOPPED);
}

/* The leftovers of a run that died with the previous supervisor are
 * gone: start afresh if wanted. */
static void leftovers_gone(struct svc *v)
{
	v->adopted = v->marker_prefix = 0;
	svc_log(v, SYSG_LOG_INFO, "Leftover processes of %s removed",
		v->cfg->name);
	set_state(v, ST_IDLE);
	if (v->want_up)
		svc_event(v, EV_START);
}

/* EV_GONE: the tree is gone; what comes next depends on why it was
 * taken down. */
static void a_gone(struct svc *v)
{
	char msg[SYSG_REASON_MAX];

	if (v->stop_reason == STOP_LEFTOVER) {
		leftovers_gone(v);
		return;
	}
	if (v->cron) {
		cron_run_gone(v);
		return;
	}
	if (v->next_cfg && switch_cfg(v))
		return;
	switch (v->stop_reason) {
	case STOP_MANUAL:
		svc_log(v, SYSG_LOG_INFO, "Service %s stopped", v->cfg->name);
		fire(v, SYSG_HOOK_ON_STOP, 1);
		set_state(v, ST_STOPPED);
		if (v->restart_requested) {
			v->restart_requested = 0;
			svc_event(v, EV_START);
		}
		break;
	case STOP_CASCADE:
		v->auto_restart = 1;
		snprintf(v->reason, sizeof(v->reason), "waiting for its "
			 "dependencies");
		set_state(v, ST_WAITING);
		break;
	case STOP_NOT_READY:
	case STOP_WATCHDOG:
		snprintf(msg, sizeof(msg), "%s", v->reason);
		snprintf(v->last_restart, sizeof(v->last_restart), "%s", msg);
		apply_policy(v, 1, msg);
		break;
	case STOP_EXIT:
		exit_reason(v, msg, sizeof(msg));
		apply_policy(v, crashed(v), msg);
		break;
	case STOP_LEFTOVER:
		break;
	}
}

static void a_reaped(struct svc *v)
{
	v->pid = 0;
	svc_fx->teardown_tick(v);
}

static void a_tick(struct svc *v)
{
	svc_fx->teardown_tick(v);
}

static void a_stop(struct svc *v)
{
	v->want_up = 0;
	svc_log(v, SYSG_LOG_INFO, "Stopping service: %s", v->cfg->name);
	stop_tree(v, STOP_MANUAL);
}

static void a_stop_teardown(struct svc *v)
{
	v->want_up = 0;
	v->stop_reason = STOP_MANUAL;
}

static void a_stop_idle(struct svc *v)
{
	v->want_up = 0;
	sysg_timer_stop(v->sup->loop, &v->timer);
	sysg_timer_stop(v->sup->loop, &v->cron_timer);
	set_state(v, ST_STOPPED);
}

static void a_cascade(struct svc *v)
{
	svc_log(v, SYSG_LOG_WARN, "Stopping service %s: a dependency crashed",
		v->cfg->name);
	stop_tree(v, STOP_CASCADE);
}

static void a_wait_deps(struct svc *v)
{
	sysg_timer_stop(v->sup->loop, &v->timer);
	set_state(v, ST_WAITING);
}

static void a_restart(struct svc *v)
{
	v->restarts++;
	v->consecutive++;
	v->auto_restart = 1;
	svc_log(v, SYSG_LOG_INFO, "Restarting service: %s (restart %d)",
		v->cfg->name, v->restarts);
	set_state(v, ST_WAITING);
	a_check_deps(v);
}

static void a_schedule(struct svc *v)
{
	if (svc_cron_arm(v) < 0) {
		fail(v, ST_FAILED, v->reason);
		return;
	}
	set_state(v, ST_SCHEDULED);
}

static void a_cron_due(struct svc *v)
{
	char err[SYSG_ERR_MAX];

	svc_fx->open_logs(v);
	if (svc_fx->launch(v, err, sizeof(err)) < 0) {
		svc_log(v, SYSG_LOG_ERROR, "Cron job %s could not start: %s",
			v->cfg->name, err);
		v->has_exit = 1;
		v->exit_code = 127;
		v->started_wall = sysg_wall_ms();
		svc_cron_run_started(v);
		svc_cron_run_ended(v);
		a_schedule(v);
		return;
	}
	svc_cron_run_started(v);
	svc_cron_arm(v);        /* a due time during this run is an overlap */
	set_state(v, ST_RUNNING);
}

/* ------------------------------------------------------------------ */
/* Reload and adoption                                                 */
/* ------------------------------------------------------------------ */

/* EV_RECONFIGURE while up: restart with the new definition (a cron
 * unit's run finishes first). */
static void a_reconf_up(struct svc *v)
{
	if (v->cron)
		return;
	v->restart_requested = v->want_up;
	svc_log(v, SYSG_LOG_INFO, "Service %s changed: restarting it",
		v->next_cfg->name);
	a_stop(v);
}

/* EV_RECONFIGURE while the skip or pre_start command runs: it was for
 * the old definition. */
static void a_reconf_job(struct svc *v)
{
	sysg_job_cancel(&v->helper);
	if (!switch_cfg(v))
		set_state(v, ST_WAITING);
}

/* EV_RECONFIGURE while settled (or waiting): the new definition now. */
static void a_reconf_idle(struct svc *v)
{
	enum svc_state state = v->state;

	sup_changed(v->sup);
	if (switch_cfg(v))
		return;
	if (state == ST_SCHEDULED) {
		a_schedule(v);          /* the new schedule */
		return;
	}
	/* waiting: re-evaluated; backoff: restarts with the new one */
	if (state != ST_WAITING && state != ST_BACKOFF && v->want_up)
		svc_event(v, EV_START);
}

void svc_reconfigure(struct svc *v, struct sysg_service *nc)
{
	v->next_cfg = nc;
	svc_event(v, EV_RECONFIGURE);
}

/* EV_RETIRE: no longer configured; freed once stopped (reload.c). */
static void a_retire(struct svc *v)
{
	v->removed = 1;
	v->restart_requested = 0;
	v->next_cfg = NULL;
	svc_log(v, SYSG_LOG_INFO, "Service %s was removed from the config",
		v->cfg->name);
	v->want_up = 0;
	svc_event(v, EV_STOP);
	snprintf(v->reason, sizeof(v->reason), "removed from the config");
	if (v->state != ST_STOPPING && v->state != ST_STOPPED)
		set_state(v, ST_STOPPED);
	else
		sup_record(v);
}

/* EV_ADOPT: V runs the process adopt.c took over. */
static void a_adopt(struct svc *v)
{
	v->auto_restart = 0;
	v->consecutive = 0;
	v->failed_to_start = 0;
	set_state(v, ST_RUNNING);
	if (v->cron)
		svc_cron_arm(v);        /* a due time during this run overlaps */
}

/* EV_LEFTOVERS: remove the processes of a run whose main is gone. */
static void a_leftovers(struct svc *v)
{
	svc_log(v, SYSG_LOG_WARN, "Service %s: %zu leftover process(es) of a "
		"run whose main process is gone: stopping them", v->cfg->name,
		v->known.n);
	stop_tree(v, STOP_LEFTOVER);
}

/* ------------------------------------------------------------------ */
/* The table                                                           */
/* ------------------------------------------------------------------ */

/* An event that does not matter in a state. */
static void a_ignore(struct svc *v)
{
	(void)v;
}

/* An event that cannot reach a service in that state (its source checks
 * the state first, or only exists in other states): a bug if it does. */
static void x_impossible(struct svc *v)
{
	svc_log(v, SYSG_LOG_ERROR, "Service %s: unexpected event in state "
		"%s (ignored)", v->cfg->name, svc_state_name(v->state));
}

#define NOP a_ignore
#define BUG x_impossible

/* Columns, in enum svc_event order:
 *  start        deps          job_ok     job_fail           ready
 *  not_ready    exit          tick       stop               dep_down
 *  due          gone          reconfigure retire            adopt
 *  leftovers    watchdog */
static const action_fn table[NSTATES][NEVENTS] = {
	[ST_IDLE] = {
		a_start, BUG, BUG, BUG, BUG,
		BUG, BUG, NOP, NOP, NOP,
		NOP, BUG, a_reconf_idle, a_retire, a_adopt,
		a_leftovers, NOP },
	[ST_WAITING] = {
		a_check_deps, a_check_deps, BUG, BUG, BUG,
		BUG, BUG, NOP, a_stop_idle, NOP,
		NOP, BUG, a_reconf_idle, a_retire, BUG,
		BUG, NOP },
	[ST_SKIPCHECK] = {
		NOP, BUG, a_skipped, a_prestart, BUG,
		BUG, BUG, NOP, a_stop_job, a_abort_job,
		NOP, BUG, a_reconf_job, a_retire, BUG,
		BUG, NOP },
	[ST_PRESTART] = {
		NOP, BUG, a_spawn, a_prestart_failed, BUG,
		BUG, BUG, NOP, a_stop_job, a_abort_job,
		NOP, BUG, a_reconf_job, a_retire, BUG,
		BUG, NOP },
	[ST_STARTING] = {
		NOP, BUG, BUG, BUG, a_ready,
		a_not_ready, a_exited, NOP, a_stop, a_cascade,
		NOP, BUG, a_reconf_up, a_retire, BUG,
		BUG, a_watchdog },
	[ST_RUNNING] = {
		NOP, BUG, BUG, BUG, BUG,
		BUG, a_exited, NOP, a_stop, a_cascade,
		NOP, BUG, a_reconf_up, a_retire, BUG,
		BUG, a_watchdog },
	[ST_STOPPING] = {
		NOP, BUG, BUG, BUG, BUG,
		BUG, a_reaped, a_tick, a_stop_teardown, NOP,
		NOP, a_gone, NOP, a_retire, BUG,
		BUG, NOP },
	[ST_BACKOFF] = {
		NOP, BUG, BUG, BUG, BUG,
		BUG, BUG, a_restart, a_stop_idle, a_wait_deps,
		NOP, BUG, a_reconf_idle, a_retire, BUG,
		BUG, NOP },
	[ST_STOPPED] = {
		a_start, BUG, BUG, BUG, BUG,
		BUG, BUG, NOP, NOP, NOP,
		NOP, BUG, a_reconf_idle, a_retire, BUG,
		BUG, NOP },
	[ST_EXITED] = {
		a_start, BUG, BUG, BUG, BUG,
		BUG, BUG, NOP, NOP, NOP,
		NOP, BUG, a_reconf_idle, a_retire, BUG,
		BUG, NOP },
	[ST_FAILED] = {
		a_start, BUG, BUG, BUG, BUG,
		BUG, BUG, NOP, NOP, NOP,
		NOP, BUG, a_reconf_idle, a_retire, BUG,
		BUG, NOP },
	[ST_SKIPPED] = {
		a_start, BUG, BUG, BUG, BUG,
		BUG, BUG, NOP, NOP, NOP,
		NOP, BUG, a_reconf_idle, a_retire, BUG,
		BUG, NOP },
	[ST_BLOCKED] = {
		a_start, a_check_deps, BUG, BUG, BUG,
		BUG, BUG, NOP, NOP, NOP,
		NOP, BUG, a_reconf_idle, a_retire, BUG,
		BUG, NOP },
	[ST_SCHEDULED] = {
		NOP, BUG, BUG, BUG, BUG,
		BUG, BUG, NOP, a_stop_idle, NOP,
		a_cron_due, BUG, a_reconf_idle, a_retire, BUG,
		BUG, NOP },
};

void svc_event(struct svc *v, enum svc_event ev)
{
	table[v->state][ev](v);
}

int svc_cell_kind(enum svc_state st, enum svc_event ev)
{
	action_fn fn = table[st][ev];

	return fn == BUG ? 2 : fn == NOP ? 1 : 0;
}

void svc_privs_drop(struct svc *v)
{
	if (!v->privs)
		return;
	sysg_privs_free(v->privs);
	free(v->privs);
	v->privs = NULL;
}

void svc_release(struct svc *v)
{
	struct sysg_loop *l = v->sup->loop;

	svc_unwatch_exit(v);
	svc_exec_forget(v);
	free(v->exec_err);
	v->exec_err = NULL;
	free(v->run_cmd);
	v->run_cmd = NULL;
	sysg_timer_stop(l, &v->timer);
	sysg_timer_stop(l, &v->probe_timer);
	sysg_timer_stop(l, &v->cron_timer);
	svc_free_drains(v);
	if (v->log_out >= 0)
		close(v->log_out);
	if (v->log_err >= 0)
		close(v->log_err);
	free(v->probe_url);
	free(v->probe_cmd);
	sysg_pidset_free(&v->known);
	sysg_pidset_free(&v->signalled);
	svc_privs_drop(v);
	svc_sockets_close(v);
	sysg_timer_stop(l, &v->watchdog);
	svc_cand_abort(v, "was stopped with the supervisor");
	svc_cand_drains_free(v);
	free(v->cand);
	v->cand = NULL;
	svc_retiring_forget(v);
}
