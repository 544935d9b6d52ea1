/* cronjob.c - cron units: due times and run history (SPEC 4).
 *
 * A cron unit is not started by a bulk start: it waits in the "scheduled"
 * state for its next due time, then runs its command once (state
 * "running"); when that run and its process tree are gone it is scheduled
 * again. A due time that comes while the previous run is still going is
 * skipped and recorded as "overlapped". Every run is recorded through the
 * state backend (start, end, exit code, outcome; the newest
 * SYSG_CRON_KEEP are kept). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "svc.h"

/* A parse error, with room for "services.<name>.cron: " in a reason. */
#define CRON_ERR_MAX 200

int svc_cron_init(struct svc *v)
{
	char err[CRON_ERR_MAX];
	int rc;

	v->cron = sysg_service_is_cron(v->cfg);
	if (!v->cron)
		return 0;
	rc = sysg_cron_parse(v->cfg->cron.expression, &v->cron_expr, err,
			     sizeof(err));
	if (rc < 0)
		snprintf(v->reason, sizeof(v->reason), "services.%s.cron: %s",
			 v->cfg->name, err);
	return rc;
}

static void record(struct svc *v, const char *status, int64_t start,
		   int64_t end, int with_exit)
{
	struct sysg_cron_run r;

	if (!v->sup->st)
		return;
	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", v->cfg->name);
	snprintf(r.status, sizeof(r.status), "%s", status);
	r.started_at_ms = start;
	r.completed_at_ms = end;
	r.has_exit_code = with_exit && v->has_exit;
	r.exit_code = v->exit_code;
	if (sysg_state_add_cron_run(v->sup->st, &r, SYSG_CRON_KEEP) < 0)
		sysg_log(&v->sup->log, SYSG_LOG_WARN, "cannot record a run of %s",
			 v->cfg->name);
}

static void on_due(struct sysg_timer *t)
{
	struct svc *v = t->arg;
	int64_t now = sysg_wall_ms();

	if (now < v->cron_due_ms) {     /* the wall clock moved: wait more */
		sysg_timer_start(v->sup->loop, t, v->cron_due_ms - now, on_due, v);
		return;
	}
	if (v->state == ST_SCHEDULED) {
		svc_event(v, EV_DUE);
		return;
	}
	if (!v->want_up)
		return;
	sysg_log(&v->sup->log, SYSG_LOG_WARN, "Cron job %s is still running: "
		 "skipping this run", v->cfg->name);
	record(v, "overlapped", now, now, 0);
	svc_cron_arm(v);
}

int svc_cron_arm(struct svc *v)
{
	time_t now = (time_t)(sysg_wall_ms() / 1000), next;
	int rc = sysg_cron_next(&v->cron_expr, v->cfg->cron.timezone, now,
				&next);

	if (rc < 0) {
		snprintf(v->reason, sizeof(v->reason), "services.%s.cron: %s",
			 v->cfg->name, rc == -EINVAL ? "unknown time zone" :
			 "no due time within five years");
		return rc;
	}
	v->cron_due_ms = (int64_t)next * 1000;
	sysg_timer_start(v->sup->loop, &v->cron_timer,
			 v->cron_due_ms - sysg_wall_ms(), on_due, v);
	return 0;
}

void svc_cron_run_started(struct svc *v)
{
	record(v, "running", v->started_wall, 0, 0);
}

void svc_cron_run_ended(struct svc *v)
{
	int ok = v->has_exit && v->exit_code == 0;

	record(v, ok ? "success" : "failed", v->started_wall, sysg_wall_ms(), 1);
}
