/* readiness.c - when a started service counts as ready (SPEC 4).
 *
 * With a health_check, a probe attempt (health.h) runs right after the
 * spawn, then each an `interval` after the previous one ended, until one
 * passes (EV_READY) or `timeout` x `retries` has elapsed since
 * the spawn (EV_NOT_READY). Without one, the service is ready once it has
 * stayed up for `ready_after`. With `readiness: notify` it is ready when
 * it says READY=1 (sdnotify.c), not ready after SYSG_NOTIFY_READY_MS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "base/base.h"
#include "config/config.h"
#include "proc/proc.h"
#include "svc.h"

static void probe_done(struct sysg_job *j, int status, int timed_out);

static void close_cause(struct svc *v)
{
	if (v->probe_cause_fd >= 0)
		close(v->probe_cause_fd);
	v->probe_cause_fd = -1;
}

/* Remember why the attempt that just ended failed (status, inspect and
 * supervisor.log show it with the readiness failure). */
static void note_cause(struct svc *v, int status, int timed_out)
{
	char cause[sizeof(v->probe_cause)];

	if (v->probe_cause_fd < 0)
		return;         /* it could not even start: cause already set */

	sysg_probe_cause(v->probe_cause_fd, v->probe_cmd, status, timed_out,
			 v->probe_timeout, cause, sizeof(cause));
	close_cause(v);
	/* an attempt cut short by the readiness deadline that timed out
	 * says less than the full attempt before it */
	if (v->probe_cause[0] && v->probe_timeout < v->cfg->health.timeout_ms &&
	    (timed_out || !strncmp(cause, "no answer", 9)))
		return;
	memcpy(v->probe_cause, cause, sizeof(cause));
	svc_log(v, SYSG_LOG_DEBUG, "Health check of %s failed: %s",
		v->cfg->name, v->probe_cause);
}

static void start_probe(struct sysg_timer *t)
{
	struct svc *v = t->arg;
	const struct sysg_health *h = &v->cfg->health;
	int64_t left = v->ready_deadline - sysg_now_ms();
	char err[SYSG_ERR_MAX];

	if (v->state != ST_STARTING)
		return;
	v->probe.done = probe_done;
	v->probe.arg = v;
	v->probe_started = sysg_now_ms();
	if (left > h->timeout_ms)
		left = h->timeout_ms;
	v->probe_timeout = left > 0 ? left : 1;
	close_cause(v);
	v->probe_cause_fd = sysg_probe_cause_open();
	if (sysg_health_attempt(&v->sup->jobs, &v->probe, v->probe_cmd,
				v->probe_url, v->probe_timeout, svc_env(v),
				svc_cwd(v), v->probe_cause_fd,
				v->privs, err, sizeof(err)) < 0) {
		svc_log(v, SYSG_LOG_WARN, "Health check of %s: %s",
			v->cfg->name, err);
		snprintf(v->probe_cause, sizeof(v->probe_cause), "%.*s",
			 (int)sizeof(v->probe_cause) - 1, err);
		close_cause(v);
		probe_done(&v->probe, 1 << 8, 0);
	}
}

static void probe_done(struct sysg_job *j, int status, int timed_out)
{
	struct svc *v = j->arg;
	int64_t now = sysg_now_ms(), next;

	if (v->state != ST_STARTING) {
		close_cause(v);
		return;
	}
	if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		close_cause(v);
		v->probe_cause[0] = '\0';
		svc_event(v, EV_READY);
		return;
	}
	note_cause(v, status, timed_out);
	if (now >= v->ready_deadline) {
		svc_event(v, EV_NOT_READY);
		return;
	}
	/* the next attempt starts an interval after this one ended (as
	 * Docker's HEALTHCHECK): probes of a service that becomes ready a
	 * whole number of intervals after its spawn do not race it (the
	 * first attempt runs right after the spawn) */
	next = v->cfg->health.interval_ms;
	sysg_timer_start(v->sup->loop, &v->probe_timer, next, start_probe, v);
}

static void settle_done(struct sysg_timer *t)
{
	svc_event(t->arg, EV_READY);
}

static void notify_timeout(struct sysg_timer *t)
{
	struct svc *v = t->arg;

	if (v->state == ST_STARTING)
		svc_event(v, EV_NOT_READY);
}

void svc_readiness_start(struct svc *v)
{
	const struct sysg_health *h = &v->cfg->health;
	int retries = h->retries > 0 ? h->retries : 1;

	if (v->cfg->readiness_notify) {         /* READY=1: sdnotify.c */
		sysg_timer_start(v->sup->loop, &v->probe_timer,
				 SYSG_NOTIFY_READY_MS, notify_timeout, v);
		return;
	}
	if (!h->present || (!h->command && !h->url)) {
		sysg_timer_start(v->sup->loop, &v->probe_timer,
				 v->cfg->ready_after_ms, settle_done, v);
		return;
	}
	free(v->probe_cmd);
	free(v->probe_url);
	/* expanded at load time; the command's shell expands its $VAR */
	v->probe_cmd = h->command ? strdup(h->command) : NULL;
	v->probe_url = h->url && !h->command ? strdup(h->url) : NULL;
	v->ready_deadline = sysg_now_ms() + h->timeout_ms * retries;
	v->probe_cause[0] = '\0';
	sysg_timer_start(v->sup->loop, &v->probe_timer, 0, start_probe, v);
}

void svc_readiness_stop(struct svc *v)
{
	sysg_timer_stop(v->sup->loop, &v->probe_timer);
	sysg_job_cancel(&v->probe);
	close_cause(v);
}
