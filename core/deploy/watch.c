/* watch.c - deployment.min_healthy_time: watch the promoted instance, roll
 * back when it fails; picking the record a rollback deploys (see host.h) */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "link.h"
#include "record.h"
#include "worker.h"
#include "dep.h"

/* ------------------------------------------------------------------ */
/* deployment.min_healthy_time                                         */
/* ------------------------------------------------------------------ */

struct pick {
	const char *to;                 /* an id, or NULL */
	const char *skip_rev;           /* the running revision */
	struct sysg_deploy_record *out;
	int found;
};

static int pick_cb(void *arg, const struct sysg_deploy_record *d)
{
	struct pick *p = arg;

	if (p->to ? strcmp(d->id, p->to) :
	    (strcmp(d->outcome, "success") || !strcmp(d->revision,
						      p->skip_rev)))
		return 0;
	memcpy(p->out, d, sizeof(*d));
	p->found = 1;
	return 1;
}

int sysg_deploy_rollback_config(struct sysg_deploys *ds, const char *svc,
				const char *to, struct sysg_config **cfg,
				char *rid, char *err, size_t errlen)
{
	struct sysg_deploy_record *r = malloc(sizeof(*r));
	char running[16];
	struct pick p = { to, running, r, 0 };
	int rc;

	*cfg = NULL;
	if (!r)
		return -ENOMEM;
	snprintf(running, sizeof(running), "%s",
		 sysg_deploy_running_revision(ds, svc));
	if (ds->o.st)
		sysg_state_list_deploys(ds->o.st, svc, pick_cb, &p);
	if (!p.found) {
		if (to)
			snprintf(err, errlen,
				 "no deploy %s of %s in the history",
				 to, svc);
		else
			snprintf(err, errlen,
				 "no earlier successful deploy of %s "
				 "to roll back to", svc);
		free(r);
		return -ENOENT;
	}
	snprintf(rid, 64, "%s", r->id);
	rc = sysg_deploy_definition_config(r->definition, cfg, err, errlen);
	free(r);
	return rc;
}

/* DP's new instance failed within min_healthy_time: redeploy the
 * previous successful revision through the strategy. */
static void rollback_after(struct deploy *dp)
{
	struct sysg_deploy_req r = {
		.service = dp->service, .uid = dp->uid,
	};
	char rid[64], msg[128], id[64], err[1024];
	int rc;

	snprintf(msg, sizeof(msg), "automatic rollback of %s", dp->id);
	r.message = msg;
	rc = sysg_deploy_rollback_config(dp->ds, dp->service, NULL, &r.cfg, rid,
					 err, sizeof(err));
	r.rollback_of = rid;
	if (rc == 0)
		rc = sysg_deploy_begin(dp->ds, &r, id, sizeof(id), err,
				       sizeof(err));
	if (rc < 0) {
		snprintf(dp->outcome, sizeof(dp->outcome), "failed");
		snprintf(dp->reason, sizeof(dp->reason), "%.100s; cannot roll "
			 "back: %.120s", dp->watch_why, err);
		dp_add_line(dp, "cannot roll back: %s", err);
	} else {
		snprintf(dp->reason, sizeof(dp->reason), "%.100s; rolled back "
			 "by deploy %.63s", dp->watch_why, id);
		dp_add_line(dp, "rolling back to %s: deploy %s", rid, id);
	}
	dp_write_record(dp);
}

void dp_watch_end(struct deploy *dp, const char *why)
{
	dp->watching = 0;
	sysg_supervisor_unsubscribe(dp->ds->o.sup, dp->watch_sub);
	sysg_timer_stop(dp_loop_of(dp), &dp->timer);
	sysg_timer_stop(dp_loop_of(dp), &dp->watch_timer);
	sysg_job_cancel(&dp->aux);
	if (why) {
		dp->watch_failed = 1;
		snprintf(dp->watch_why, sizeof(dp->watch_why), "%s", why);
		dp_add_line(dp,
			    "the new instance failed within min_healthy_time: "
			 "%s", why);
	}
	dp_finish(dp, 0, 0);
	if (why)
		rollback_after(dp);
}

/* The service changed while watched: it must stay running. */
static void watch_change(void *arg, const struct sysg_unit_change *ch)
{
	struct deploy *dp = arg;

	if (dp->watching && ch->kind == SYSG_CHANGE_UNIT &&
	    dp_is_unit(dp, ch->name) &&
	    ch->new_status != SYSG_STATUS_RUNNING)
		dp_watch_end(dp, "it stopped running");
}

static void watch_done(struct sysg_timer *t)
{
	struct deploy *dp = t->arg;

	dp_add_line(dp, "the new instance stayed healthy for min_healthy_time "
		 "(%.1f s)", dp_elapsed_s(dp));
	dp_watch_end(dp, NULL);
}

/* The URL that says the promoted instance is healthy: the deployment
 * health check's, else for blue_green its candidate_health_check_url
 * with {slot} = the slot now active. 0 and "" when there is none. */
static int watch_url(const struct deploy *dp, char *out, size_t len)
{
	const struct sysg_deployment *d = &dp->def->deployment;
	const char *u = sysg_deployment_option(d, "blue_green",
					       "candidate_health_check_url");

	out[0] = '\0';
	if (d->health.url) {
		snprintf(out, len, "%s", d->health.url);
		return 1;
	}
	if (strcmp(dp->strategy, "blue_green") || !u || !dp->slot_after[0])
		return 0;
	for (size_t n = 0; *u && n + 1 < len; ) {
		if (!strncmp(u, "{slot}", 6)) {
			n += (size_t)snprintf(out + n, len - n, "%s",
					      dp->slot_after);
			u += 6;
		} else {
			out[n++] = *u++;
			out[n] = '\0';
		}
		if (n >= len)
			return 0;
	}
	return 1;
}

static void watch_probe(struct sysg_timer *t)
{
	struct deploy *dp = t->arg;
	struct sysg_jobs *jobs = sysg_supervisor_jobs(dp->ds->o.sup);
	const struct sysg_health *h = &dp->def->deployment.health;
	char err[256], url[2048];

	dp->aux.done = dp_aux_done;
	dp->aux.arg = dp;
	watch_url(dp, url, sizeof(url));
	if (sysg_health_attempt(jobs, &dp->aux, NULL, url, h->timeout_ms,
				NULL, dp_project_dir(dp), -1, NULL, err,
				sizeof(err)) < 0)
		dp_watch_end(dp, "its health check cannot run");
}

/* A probe of the deployment health check while watching. */
void dp_watch_probe_done(struct deploy *dp, int passed)
{
	const struct sysg_health *h = &dp->def->deployment.health;

	if (!dp->watching)
		return;
	if (!passed) {
		dp_watch_end(dp, "its health check failed");
		return;
	}
	sysg_timer_start(dp_loop_of(dp), &dp->timer, h->interval_ms > 0 ?
			 h->interval_ms : 1000, watch_probe, dp);
}

/* The worker ended well after a promote: watch the new instance for
 * deployment.min_healthy_time (its process stays the service's and
 * running, and the deployment health check, if any, passes) before the
 * deploy counts as done. */
int dp_watch_begin(struct deploy *dp)
{
	struct sysg_unit_record u;
	int64_t ms = dp->def->deployment.min_healthy_time_ms;
	char url[2048];

	if (ms <= 0 || !dp->promoted || dp->dry_run || dp->done_rc != 0 ||
	    dp->switch_back_failed || dp->aborting)
		return 0;
	/* every copy of a service with copies must be running */
	for (int k = 0; k < (dp->ncopies ? dp->ncopies : 1); k++) {
		char name[SYSG_NAME_MAX + 16];

		if (sysg_supervisor_get(dp->ds->o.sup, dp_copy_name(dp, k, name,
				sizeof(name)), &u) < 0 ||
		    strcmp(u.status, "running"))
			return 0;
	}
	dp->watch_sub = sysg_supervisor_subscribe(dp->ds->o.sup, watch_change,
						  dp);
	if (dp->watch_sub < 0)
		return 0;
	dp->watching = 1;
	dp->watch_pid = (pid_t)u.pid;
	dp->op = "watch";
	dp_add_line(dp, "[%d/%d] watch the new instance for min_healthy_time "
		 "(%.1f s)", dp->steps + 1, dp->steps + 1, dp_elapsed_s(dp));
	sysg_timer_start(dp_loop_of(dp), &dp->watch_timer, ms, watch_done, dp);
	if (watch_url(dp, url, sizeof(url)))
		sysg_timer_start(dp_loop_of(dp), &dp->timer, 0, watch_probe,
				 dp);
	return 1;
}
