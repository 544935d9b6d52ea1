/* teardown.c - take a service's whole process tree down.
 *
 * SIGTERM to the process group and every member of the tree
 * (proctree.h), re-scanning on a short, growing tick so late forks are
 * caught; SIGKILL (and cgroup.kill) once stop_timeout has passed; then
 * EV_GONE tells the state machine (service.c), which decides what comes
 * next. The state is the table's business: nothing here changes it. */
#include <signal.h>

#include "svc.h"

#define KILL_GRACE_MS     5000  /* after SIGKILL, before giving up */
#define TEARDOWN_TICK_MAX 100

static void on_tick(struct sysg_timer *t)
{
	svc_event(t->arg, EV_TICK);
}

static void teardown_signal(struct svc *v, const struct sysg_pidset *tree)
{
	int sig = v->killed ? SIGKILL : SIGTERM;

	for (size_t i = 0; i < tree->n; i++) {
		if (sysg_pidset_has(&v->signalled, tree->v[i].pid))
			continue;
		kill(tree->v[i].pid, sig);
		sysg_pidset_add(&v->signalled, tree->v[i].pid, tree->v[i].ticks);
		sysg_pidset_add(&v->known, tree->v[i].pid, tree->v[i].ticks);
	}
}

static void escalate(struct svc *v, const struct sysg_pidset *tree)
{
	svc_log(v, SYSG_LOG_WARN, "Service %s did not stop within %lld ms: "
		"sending SIGKILL to %zu process(es)", v->cfg->name,
		(long long)v->cfg->stop_timeout_ms, tree->n);
	v->killed = 1;
	v->sup->killed_stops++;
	sysg_pidset_clear(&v->signalled);
	if (v->sid > 1)
		kill(-v->sid, SIGKILL);
	if (v->cgroup[0])
		sysg_cgroup_kill(v->cgroup);
	v->stop_deadline = sysg_now_ms() + KILL_GRACE_MS;
}

static void gone(struct svc *v)
{
	struct sysg_supervisor *s = v->sup;

	sysg_timer_stop(s->loop, &v->timer);
	if (v->cgroup[0])
		sup_remove_cgroup(v->sup, v->cgroup);
	v->cgroup[0] = '\0';
	v->sid = 0;
	sysg_pidset_clear(&v->known);
	sysg_pidset_clear(&v->signalled);
	sup_record(v);
	svc_event(v, EV_GONE);
}

void svc_teardown_tick(struct svc *v)
{
	struct sysg_pidset tree = { 0 };
	int64_t now = sysg_now_ms();

	svc_collect_tree(v, &tree);
	if (tree.n == 0 && v->pid <= 0) {
		sysg_pidset_free(&tree);
		gone(v);
		return;
	}
	if (!v->killed && now >= v->stop_deadline)
		escalate(v, &tree);
	else if (v->killed && now >= v->stop_deadline) {
		svc_log(v, SYSG_LOG_ERROR, "Service %s: %zu process(es) survive "
			"SIGKILL; giving up on them", v->cfg->name, tree.n);
		sysg_pidset_free(&tree);
		v->pid = 0;
		gone(v);
		return;
	}
	teardown_signal(v, &tree);
	/* isolation.pid: once the namespace's init is all that is left, a
	 * SIGTERM it has no handler for is dropped by the kernel; its
	 * default action (terminate) is what SIGKILL does */
	if (!v->killed && v->cfg->isolation.pid && v->pid > 0 &&
	    tree.n == 1 && tree.v[0].pid == v->pid &&
	    sysg_proc_ns_init_drops(v->pid, SIGTERM)) {
		svc_log(v, SYSG_LOG_INFO, "Service %s: pid namespace init "
			"without a SIGTERM handler: SIGKILL", v->cfg->name);
		kill(v->pid, SIGKILL);
	}
	sysg_pidset_free(&tree);
	v->tick_ms = v->tick_ms * 2 > TEARDOWN_TICK_MAX ? TEARDOWN_TICK_MAX :
		     v->tick_ms * 2;
	sysg_timer_start(v->sup->loop, &v->timer, v->tick_ms, on_tick, v);
}

/* SIGTERM the whole process group at once, and remember its members as
 * signalled so the first tick does not send them a second SIGTERM (a
 * shell would run its TERM trap twice). */
static void term_group(struct svc *v)
{
	struct sysg_pidset tree = { 0 };
	struct sysg_proc_stat ps;

	svc_collect_tree(v, &tree);
	kill(-v->sid, SIGTERM);
	for (size_t i = 0; i < tree.n; i++)
		if (sysg_proc_stat_read(tree.v[i].pid, &ps) == 0 &&
		    ps.pgrp == v->sid)
			sysg_pidset_add(&v->signalled, tree.v[i].pid,
					tree.v[i].ticks);
	sysg_pidset_free(&tree);
}

void svc_teardown_begin(struct svc *v, enum stop_reason why)
{
	svc_readiness_stop(v);
	v->stop_reason = why;
	v->killed = 0;
	v->tick_ms = 5;
	v->stop_deadline = sysg_now_ms() +
			   (v->sup->kill_now ? 0 : v->cfg->stop_timeout_ms);
	sysg_pidset_clear(&v->signalled);
	if (v->sid > 1)
		term_group(v);
	svc_teardown_tick(v);
}
