/* handover.c - replace a service's run without a gap: the zero-downtime
 * restart of a service that holds listening sockets (`listen:`).
 *
 * The new run (the candidate) starts beside the current one on the very
 * same sockets. Once it is ready (READY=1 with `readiness: notify`, else
 * once it has stayed up for `ready_after`), it becomes the service's run
 * and the old run retires: SIGTERM to its tree, SIGKILL to what is left
 * after `deployment.drain`. The kernel's accept queue belongs to the
 * sockets sysg holds, so it never closes: a connection is accepted by
 * the old run or by the new one, never refused. A candidate that exits
 * or is not ready in time is stopped and the old run keeps serving.
 *
 * The service stays in ST_RUNNING throughout (its table is not
 * involved); its public status is "starting" while a candidate runs and
 * until the old main process is gone (so nothing of the old generation
 * accepts any more), so that whoever asked for the restart is answered
 * when it is done. A
 * health_check cannot tell two runs on one socket apart, so it is not
 * what decides here. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "svc.h"

/* An old run being drained. */
struct sup_retiring {
	struct sup_retiring *next;
	struct sysg_supervisor *sup;
	struct svc *v;          /* NULL once its main process is gone */
	pid_t main;
	struct sysg_pidset pids;
	char cgroup[SYSG_CGROUP_PATH_MAX];
	struct sysg_timer timer;
	struct sysg_io exit_io;         /* an adopted run: its pidfd */
	int pidfd;                      /* -1: none */
};

int svc_can_hand_over(const struct svc *v)
{
	/* an adopted run: once its sockets were taken back (adopt.c) */
	return v->state == ST_RUNNING && !v->cron && v->cfg->nlisten > 0 &&
	       !svc_cand_on(v) && v->pid > 0 &&
	       (!v->adopted || v->nsockets == v->cfg->nlisten);
}

enum sysg_unit_status svc_pub_status(const struct svc *v)
{
	return (svc_cand_on(v) || v->draining || v->roll_pending) &&
	       v->state == ST_RUNNING ?
	       SYSG_STATUS_STARTING : svc_status(v->state);
}

/* ------------------------------------------------------------------ */
/* Rolling: the copies of a service, max_parallel at a time            */
/* ------------------------------------------------------------------ */

/* deployment.rolling.max_parallel (strategy options), default 1. */
static int max_parallel(const struct sysg_service *c)
{
	const struct sysg_deployment *d = &c->deployment;

	for (size_t i = 0; i < d->noptions; i++)
		if (!strcmp(d->options[i].key, "max_parallel") &&
		    atoi(d->options[i].value) > 0)
			return atoi(d->options[i].value);
	return 1;
}

static int rolling_now(const struct sysg_supervisor *s, const char *group)
{
	int n = 0;

	for (size_t i = 0; i < s->nactive; i++) {
		const struct svc *w = s->svcs[i];

		n += w->cfg->instance_of && !strcmp(w->cfg->instance_of, group)
		     && (svc_cand_on(w) || w->draining);
	}
	return n;
}

/* A copy of V's service finished being replaced: start the next ones. */
static void roll_next(struct svc *v)
{
	struct sysg_supervisor *s = v->sup;
	const char *group = v->cfg->instance_of;
	char err[SYSG_ERR_MAX];

	for (size_t i = 0; group && i < s->nactive; i++) {
		struct svc *w = s->svcs[i];

		if (!w->roll_pending || !w->cfg->instance_of ||
		    strcmp(w->cfg->instance_of, group))
			continue;
		if (rolling_now(s, group) >= max_parallel(w->cfg))
			return;
		w->roll_pending = 0;
		if (!svc_can_hand_over(w) || svc_hand_over(w, err,
							   sizeof(err)) < 0)
			sup_note_status(w);     /* not now: done with it */
	}
}

int svc_roll(struct svc *v, char *err, size_t errlen)
{
	if (!v->cfg->instance_of ||
	    rolling_now(v->sup, v->cfg->instance_of) < max_parallel(v->cfg))
		return svc_hand_over(v, err, errlen);
	v->roll_pending = 1;            /* its turn comes (roll_next) */
	sup_note_status(v);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Retiring runs                                                       */
/* ------------------------------------------------------------------ */

/* The old run's main process is gone (or killed): the restart is done,
 * nothing of the old generation accepts any more. */
static void retiring_done(struct sup_retiring *r)
{
	struct svc *v = r->v;

	r->v = NULL;
	if (!v || v->draining <= 0)
		return;
	v->draining--;
	sup_note_status(v);
	sup_note_activity(v->sup);
	roll_next(v);
}

int sup_retiring_reaped(struct sysg_supervisor *s, pid_t pid)
{
	for (struct sup_retiring *r = s->retiring; r; r = r->next)
		if (r->v && r->main == pid) {
			retiring_done(r);
			return 1;
		}
	return 0;
}

void svc_retiring_forget(struct svc *v)
{
	for (struct sup_retiring *r = v->sup->retiring; r; r = r->next)
		if (r->v == v)
			r->v = NULL;
	v->draining = 0;
}

static void retiring_free(struct sup_retiring *r)
{
	struct sup_retiring **pp = &r->sup->retiring;

	while (*pp && *pp != r)
		pp = &(*pp)->next;
	if (*pp)
		*pp = r->next;
	sysg_timer_stop(r->sup->loop, &r->timer);
	if (r->pidfd >= 0) {
		sysg_loop_io_del(r->sup->loop, &r->exit_io);
		close(r->pidfd);
	}
	if (r->cgroup[0])
		sup_remove_cgroup(r->sup, r->cgroup);
	sysg_pidset_free(&r->pids);
	free(r);
}

/* An adopted old run is not our child (no SIGCHLD tells its exit): its
 * pidfd does. After a live upgrade it is our child: reap it here. */
static void retiring_exit(struct sysg_io *io, uint32_t events)
{
	struct sup_retiring *r = io->arg;
	int status;

	(void)events;
	waitpid(r->main, &status, WNOHANG);
	sysg_loop_io_del(r->sup->loop, &r->exit_io);
	close(r->pidfd);
	r->pidfd = -1;
	retiring_done(r);
}

static void watch_adopted(struct sup_retiring *r)
{
	r->pidfd = sysg_pidfd_open(r->main);
	if (r->pidfd < 0)
		return;         /* the drain timer ends it */
	r->exit_io.fd = r->pidfd;
	r->exit_io.cb = retiring_exit;
	r->exit_io.arg = r;
	if (sysg_loop_io_add(r->sup->loop, &r->exit_io, EPOLLIN) < 0) {
		close(r->pidfd);
		r->pidfd = -1;
	}
}

static void retiring_kill(struct sysg_timer *t)
{
	struct sup_retiring *r = t->arg;
	int n = sysg_pidset_kill(&r->pids, SIGKILL);

	if (n > 0)
		sysg_log(&r->sup->log, SYSG_LOG_WARN, "Old run: SIGKILL to %d "
			 "process(es) still there after the drain time", n);
	if (r->cgroup[0])
		sysg_cgroup_kill(r->cgroup);
	retiring_done(r);
	retiring_free(r);
}

void sup_retiring_kill_all(struct sysg_supervisor *s)
{
	while (s->retiring)
		retiring_kill(&s->retiring->timer);
}

/* SIGTERM to V's current tree, SIGKILL after the drain time. */
static void retire_current(struct svc *v)
{
	struct sysg_supervisor *s = v->sup;
	struct sup_retiring *r = calloc(1, sizeof(*r));
	struct sysg_tree_match m;

	svc_tree_match(v, &m);
	if (!r || sysg_proctree_collect(&m, &r->pids) < 0 || !r->pids.n) {
		if (v->pid > 0)
			kill(v->pid, SIGTERM);
		free(r);
		return;
	}
	r->sup = s;
	r->v = v;
	r->main = v->pid;
	r->pidfd = -1;
	if (v->adopted)
		watch_adopted(r);
	v->draining++;
	snprintf(r->cgroup, sizeof(r->cgroup), "%s", v->cgroup);
	sysg_pidset_kill(&r->pids, SIGTERM);
	r->next = s->retiring;
	s->retiring = r;
	sysg_timer_start(s->loop, &r->timer, v->cfg->deployment.drain_ms,
			 retiring_kill, r);
}

/* ------------------------------------------------------------------ */
/* The candidate                                                       */
/* ------------------------------------------------------------------ */

static void cand_end(struct svc *v)
{
	sysg_timer_stop(v->sup->loop, &v->cand->timer);
	v->cand->active = 0;
	sup_note_status(v);
	sup_note_activity(v->sup);
}

/* Stop the candidate (not ready, or the service is being stopped). */
static void cand_kill(struct svc *v)
{
	if (v->cand->pid > 1)
		kill(-v->cand->pid, SIGKILL);    /* its own session */
	if (v->cand->cgroup[0]) {
		sysg_cgroup_kill(v->cand->cgroup);
		sup_remove_cgroup(v->sup, v->cand->cgroup);
	}
	svc_cand_drains_free(v);
}

void svc_cand_abort(struct svc *v, const char *why)
{
	if (!svc_cand_on(v))
		return;
	svc_log(v, SYSG_LOG_ERROR, "Service %s: the new run (pid %d) %s; the "
		"old one (pid %d) keeps serving", v->cfg->name,
		(int)v->cand->pid, why, (int)v->pid);
	snprintf(v->last_restart, sizeof(v->last_restart), "restart failed: "
		 "the new run %s", why);
	cand_kill(v);
	v->cand->pid = 0;
	cand_end(v);
	roll_next(v);
}

/* The candidate is ready: it becomes the run, the old one retires. */
void svc_cand_ready(struct svc *v)
{
	pid_t old = v->pid;

	if (!svc_cand_on(v))
		return;
	retire_current(v);
	svc_take_candidate(v);
	svc_log(v, SYSG_LOG_INFO, "Service %s: the new run (pid %d) is ready "
		"and serving; the old one (pid %d) got SIGTERM (SIGKILL after "
		"%lld ms)", v->cfg->name, (int)v->pid, (int)old,
		(long long)v->cfg->deployment.drain_ms);
	v->last_restart[0] = '\0';
	sup_record(v);
	cand_end(v);
	svc_remember_tree(v);
}

static void cand_timer(struct sysg_timer *t)
{
	struct svc *v = t->arg;

	if (v->cfg->readiness_notify)
		svc_cand_abort(v, "sent no READY=1 in time");
	else
		svc_cand_ready(v);      /* stayed up for ready_after */
}

int svc_cand_reaped(struct sysg_supervisor *s, pid_t pid, int status)
{
	char why[SYSG_REASON_MAX];

	for (size_t i = 0; i < s->nsvcs; i++) {
		struct svc *v = s->svcs[i];

		if (!svc_cand_on(v) || v->cand->pid != pid)
			continue;
		snprintf(why, sizeof(why), "exited before it was ready (%s "
			 "%d)", WIFSIGNALED(status) ? "signal" : "code",
			 WIFSIGNALED(status) ? WTERMSIG(status) :
			 WEXITSTATUS(status));
		svc_cand_abort(v, why);
		return 1;
	}
	return 0;
}

int svc_hand_over(struct svc *v, char *err, size_t errlen)
{
	int rc;

	if (!svc_can_hand_over(v)) {
		sysg_errf(err, errlen, "service %s cannot be handed over",
			  v->cfg->name);
		return -EINVAL;
	}
	rc = svc_launch_candidate(v, err, errlen);
	if (rc < 0) {
		svc_log(v, SYSG_LOG_ERROR, "Service %s: cannot start a new run "
			"beside the old one: %s", v->cfg->name, err);
		return rc;
	}
	v->cand->active = 1;
	svc_log(v, SYSG_LOG_INFO, "Service %s: new run (pid %d) started beside "
		"the old one (pid %d) on the same sockets", v->cfg->name,
		(int)v->cand->pid, (int)v->pid);
	sysg_timer_start(v->sup->loop, &v->cand->timer,
			 v->cfg->readiness_notify ? SYSG_NOTIFY_READY_MS :
			 v->cfg->ready_after_ms, cand_timer, v);
	sup_note_status(v);
	return 0;
}
