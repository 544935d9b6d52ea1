/* supquery.c - what the control plane asks a running supervisor (see the
 * "Queries" part of supervisor.h). Read-only, except for registering the
 * change callback. */
#include <errno.h>
#include <string.h>

#include "svc.h"

size_t sysg_supervisor_count(const struct sysg_supervisor *s)
{
	return s->nactive;
}

int sysg_supervisor_index(const struct sysg_supervisor *s, const char *name)
{
	return sup_index(s, name);
}

int sysg_supervisor_get_index(const struct sysg_supervisor *s, size_t i,
			      struct sysg_unit_record *out)
{
	if (i >= s->nactive)
		return -ENOENT;
	sup_fill_record(s->svcs[i], out);
	return 0;
}

static int health_of(const struct svc *v)
{
	if (v->degraded)
		return SYSG_SUP_HEALTH_UNHEALTHY;
	switch (v->state) {
	case ST_RUNNING:
		return SYSG_SUP_HEALTH_HEALTHY;
	case ST_FAILED: case ST_BLOCKED: case ST_BACKOFF:
		return SYSG_SUP_HEALTH_UNHEALTHY;
	default:
		return SYSG_SUP_HEALTH_UNKNOWN;
	}
}

int sysg_supervisor_info(const struct sysg_supervisor *s, size_t i,
			 struct sysg_service_info *out)
{
	const struct svc *v;

	if (i >= s->nactive)
		return -ENOENT;
	v = s->svcs[i];
	memset(out, 0, sizeof(*out));
	sup_fill_record(v, &out->rec);
	out->cfg = v->cfg;
	out->cron = v->cron;
	out->next_run_ms = v->cron && v->cron_timer.armed ? v->cron_due_ms : 0;
	out->health = health_of(v);
	out->uptime_ms = v->pid > 0 && svc_is_up(v) ?
			 sysg_now_ms() - v->started_mono : -1;
	out->adopted = v->adopted && v->pid > 0;
	return 0;
}

int sysg_supervisor_tree(const struct sysg_supervisor *s, size_t i,
			 struct sysg_proc_snapshot *snap,
			 struct sysg_pidset *out)
{
	const struct svc *v;
	struct sysg_tree_match m;

	sysg_pidset_clear(out);
	if (i >= s->nactive)
		return -ENOENT;
	v = s->svcs[i];
	if (!svc_is_up(v) || v->pid <= 0)
		return 0;
	svc_tree_match(v, &m);
	return sysg_proctree_collect_in(snap, &m, out);
}

int sysg_supervisor_pids(struct sysg_supervisor *s, const char *name,
			 pid_t *out, size_t max)
{
	struct sysg_proc_snapshot snap = { 0 };
	struct sysg_pidset tree = { 0 };
	int i = sysg_supervisor_index(s, name), rc;
	pid_t main_pid;
	size_t k = 0;

	if (i < 0)
		return i;
	main_pid = s->svcs[i]->pid;
	rc = sysg_proc_snapshot_take(&snap);
	if (rc == 0)
		rc = sysg_supervisor_tree(s, (size_t)i, &snap, &tree);
	if (rc == 0 && max > 0 && main_pid > 0 &&
	    sysg_pidset_has(&tree, main_pid))
		out[k++] = main_pid;            /* main first */
	for (size_t j = 0; rc == 0 && j < tree.n; j++)
		if (tree.v[j].pid != main_pid && k < max)
			out[k++] = tree.v[j].pid;
	if (rc == 0)
		rc = (int)tree.n;
	sysg_pidset_free(&tree);
	sysg_proc_snapshot_free(&snap);
	return rc;
}

int sysg_supervisor_notify_info(const struct sysg_supervisor *s,
				const char *name, struct sysg_notify_info *out)
{
	struct svc *v = sup_find((struct sysg_supervisor *)s, name);

	memset(out, 0, sizeof(*out));
	if (!v)
		return -ENOENT;
	/* the texts, not their whole room (usually empty): a status of
	 * 1,000 units asks for each */
	if (svc_is_up(v))
		memcpy(out->status_text, v->status_text,
		       strnlen(v->status_text, sizeof(out->status_text) - 1));
	out->stopping = svc_is_up(v) && v->stopping_said;
	memcpy(out->last_restart, v->last_restart,
	       strnlen(v->last_restart, sizeof(out->last_restart) - 1));
	return 0;
}

int sysg_supervisor_exits(const struct sysg_supervisor *s, const char *name,
			  struct sysg_exit_info *out, size_t max)
{
	struct svc *v = sup_find((struct sysg_supervisor *)s, name);
	size_t n;

	if (!v)
		return -ENOENT;
	n = v->nexits < max ? v->nexits : max;
	memcpy(out, v->exits, n * sizeof(*out));
	return (int)n;
}

/* The last start request of V has an outcome. */
static int has_outcome(const struct svc *v)
{
	switch (v->state) {
	case ST_IDLE:
		return !v->want_up;
	case ST_RUNNING: case ST_EXITED: case ST_FAILED: case ST_SKIPPED:
	case ST_BLOCKED: case ST_SCHEDULED: case ST_BACKOFF:
		return 1;
	case ST_STOPPED:
		return !v->restart_requested;
	default:                /* waiting, skip check, pre_start, starting,
	                           stopping */
		return 0;
	}
}

int sysg_supervisor_settled(const struct sysg_supervisor *s,
			    const char *name)
{
	int i;

	if (name) {
		i = sysg_supervisor_index(s, name);
		return i < 0 ? i : has_outcome(s->svcs[i]);
	}
	for (size_t k = 0; k < s->nactive; k++)
		if (!has_outcome(s->svcs[k]))
			return 0;
	return 1;
}

void sysg_supervisor_on_change(struct sysg_supervisor *s,
			       void (*cb)(void *arg), void *arg)
{
	s->on_change = cb;
	s->change_arg = arg;
	s->notified = s->generation;
}
