/* fsm.c - the test seam of fsm.h: names for the table's rows and
 * columns, fake effects, and firing one event at one service. */
#include <errno.h>
#include <string.h>

#include "fsm.h"
#include "svc.h"

/* A pid above any pid_max: no process has it. */
#define FAKE_PID ((pid_t)0x7ffffff0)

static const char *const state_names[NSTATES] = {
	[ST_IDLE] = "idle", [ST_WAITING] = "waiting",
	[ST_SKIPCHECK] = "skipcheck", [ST_PRESTART] = "prestart",
	[ST_STARTING] = "starting", [ST_RUNNING] = "running",
	[ST_STOPPING] = "stopping", [ST_BACKOFF] = "backoff",
	[ST_STOPPED] = "stopped", [ST_EXITED] = "exited",
	[ST_FAILED] = "failed", [ST_SKIPPED] = "skipped",
	[ST_BLOCKED] = "blocked", [ST_SCHEDULED] = "scheduled",
};

static const char *const event_names[NEVENTS] = {
	[EV_START] = "start", [EV_DEPS] = "deps", [EV_JOB_OK] = "job_ok",
	[EV_JOB_FAIL] = "job_fail", [EV_READY] = "ready",
	[EV_NOT_READY] = "not_ready", [EV_EXIT] = "exit", [EV_TICK] = "tick",
	[EV_STOP] = "stop", [EV_DEP_DOWN] = "dep_down", [EV_DUE] = "due",
	[EV_GONE] = "gone", [EV_RECONFIGURE] = "reconfigure",
	[EV_RETIRE] = "retire", [EV_ADOPT] = "adopt",
	[EV_LEFTOVERS] = "leftovers", [EV_WATCHDOG] = "watchdog",
};

int sysg_fsm_nstates(void)
{
	return NSTATES;
}

int sysg_fsm_nevents(void)
{
	return NEVENTS;
}

const char *sysg_fsm_state_name(int st)
{
	return st >= 0 && st < NSTATES ? state_names[st] : NULL;
}

const char *sysg_fsm_event_name(int ev)
{
	return ev >= 0 && ev < NEVENTS ? event_names[ev] : NULL;
}

static int lookup(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return i;
	return -ENOENT;
}

int sysg_fsm_state(const char *name)
{
	return lookup(state_names, NSTATES, name);
}

int sysg_fsm_event(const char *name)
{
	return lookup(event_names, NEVENTS, name);
}

enum sysg_fsm_cell sysg_fsm_cell(int st, int ev)
{
	static const enum sysg_fsm_cell kinds[] = {
		SYSG_FSM_ACTION, SYSG_FSM_IGNORED, SYSG_FSM_IMPOSSIBLE,
	};

	if (st < 0 || st >= NSTATES || ev < 0 || ev >= NEVENTS)
		return SYSG_FSM_IMPOSSIBLE;
	return kinds[svc_cell_kind((enum svc_state)st, (enum svc_event)ev)];
}

/* ------------------------------------------------------------ fakes */

static struct sysg_fsm_fakes *fakes;

static int fake_launch(struct svc *v, char *err, size_t errlen)
{
	fakes->launches++;
	if (fakes->launch_rc < 0) {
		sysg_errf(err, errlen, "fake launch failure");
		return fakes->launch_rc;
	}
	v->pid = FAKE_PID;
	v->started_wall = sysg_wall_ms();
	v->started_mono = sysg_now_ms();
	return 0;
}

static int fake_helper(struct svc *v, const char *cmd)
{
	(void)v;
	(void)cmd;
	fakes->helpers++;
	return fakes->helper_rc;
}

static void fake_hook(struct svc *v, enum sysg_hook_stage stage, int ok)
{
	(void)v;
	(void)stage;
	(void)ok;
	fakes->hooks++;
}

static void fake_nothing(struct svc *v)
{
	(void)v;
}

static void fake_readiness(struct svc *v)
{
	(void)v;
	fakes->readiness++;
}

static void fake_teardown(struct svc *v, enum stop_reason why)
{
	v->stop_reason = why;
	fakes->teardowns++;
}

static void fake_tick(struct svc *v)
{
	(void)v;
	fakes->ticks++;
}

static const struct svc_effects fake_fx = {
	.launch = fake_launch, .run_helper = fake_helper,
	.fire_hook = fake_hook, .open_logs = fake_nothing,
	.readiness_start = fake_readiness, .readiness_stop = fake_nothing,
	.teardown_begin = fake_teardown, .teardown_tick = fake_tick,
};

void sysg_fsm_fake(struct sysg_fsm_fakes *f)
{
	fakes = f;
	svc_set_effects(f ? &fake_fx : NULL);
}

/* ------------------------------------------------------------- fire */

static int has_process(enum svc_state st)
{
	return st == ST_STARTING || st == ST_RUNNING || st == ST_STOPPING;
}

/* V as if it had reached ST by itself. */
static void force(struct svc *v, enum svc_state st)
{
	struct sysg_loop *l = v->sup->loop;

	sysg_timer_stop(l, &v->timer);
	sysg_timer_stop(l, &v->cron_timer);
	sysg_timer_stop(l, &v->probe_timer);
	v->state = st;
	v->pub_status = svc_status(st);
	v->want_up = st != ST_IDLE && st != ST_STOPPED;
	v->restart_requested = 0;
	v->removed = 0;
	v->next_cfg = NULL;
	v->pid = has_process(st) ? FAKE_PID : 0;
	v->sid = 0;
	v->instance[0] = '\0';
	v->adopted = v->marker_prefix = 0;
	v->stop_reason = STOP_MANUAL;
	v->has_exit = 1;
	v->exit_code = 1;
	v->has_signal = 0;
	v->signo = 0;
	sysg_pidset_clear(&v->known);
}

int sysg_fsm_fire(struct sysg_supervisor *s, const char *name, int st,
		  int ev)
{
	struct svc *v = sup_find(s, name);

	if (!v)
		return -ENOENT;
	if (!fakes || st < 0 || st >= NSTATES || ev < 0 || ev >= NEVENTS)
		return -EINVAL;
	force(v, (enum svc_state)st);
	if (ev == EV_RECONFIGURE)
		v->next_cfg = v->cfg;   /* "changed" into the same definition */
	svc_event(v, (enum svc_event)ev);
	return (int)v->state;
}
