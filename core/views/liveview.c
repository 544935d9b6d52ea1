/* liveview.c - status and inspect from a running supervisor (see
 * liveview.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "liveview.h"

/* ------------------------------------------------ the overlay state */

static int is_live(const struct sysg_live *l, const char *name)
{
	if (!l->cfg)
		return 0;
	/* the supervisor's own config: its name index (no linear walk per
	 * record, which made status quadratic in the services) */
	if (l->sup && l->cfg == sysg_supervisor_config(l->sup))
		return sysg_supervisor_index(l->sup, name) >= 0;
	return sysg_config_find_service(l->cfg, name) >= 0;
}

static int ov_get_unit(void *h, const char *name, struct sysg_unit_record *out)
{
	const struct sysg_live *l = h;

	if (is_live(l, name))
		return sysg_supervisor_get(l->sup, name, out);
	if (sysg_state_mirrored(l->st))         /* no backend load */
		return sysg_state_mirror_get(l->st, name, out);
	return l->st ? sysg_state_get_unit(l->st, name, out) : -ENOENT;
}

struct ov_list {
	const struct sysg_live *l;
	sysg_unit_cb cb;
	void *arg;
	int stopped;
};

/* Records of the backend that are not the supervisor's services. */
static int ov_other(void *arg, const struct sysg_unit_record *u)
{
	struct ov_list *ol = arg;

	if (is_live(ol->l, u->name))
		return 0;
	ol->stopped = ol->cb(ol->arg, u);
	return ol->stopped;
}

static int ov_list_units(void *h, sysg_unit_cb cb, void *arg)
{
	const struct sysg_live *l = h;
	struct ov_list ol = { l, cb, arg, 0 };
	/* the supervisor's own config: its services by index, in the same
	 * order (no name lookup per service) */
	int own = l->sup && l->cfg == sysg_supervisor_config(l->sup);

	for (size_t i = 0; l->cfg && i < l->cfg->nservices; i++) {
		struct sysg_unit_record u;

		if ((own ? sysg_supervisor_get_index(l->sup, i, &u) :
		     sysg_supervisor_get(l->sup, l->cfg->services[i].name,
					 &u)) < 0)
			continue;
		if (cb(arg, &u))
			return 0;
	}
	if (sysg_state_mirrored(l->st)) {      /* no backend load */
		sysg_state_mirror_list(l->st, ov_other, &ol);
		return 0;
	}
	return l->st ? sysg_state_list_units(l->st, ov_other, &ol) : 0;
}

static int ov_list_cron_runs(void *h, const char *name, sysg_cron_run_cb cb,
			     void *arg)
{
	const struct sysg_live *l = h;

	return l->st ? sysg_state_list_cron_runs(l->st, name, cb, arg) : 0;
}

static int ov_list_deploys(void *h, const char *service, sysg_deploy_cb cb,
			   void *arg)
{
	const struct sysg_live *l = h;

	return l->st ? sysg_state_list_deploys(l->st, service, cb, arg) : 0;
}

/* Read-only: every write slot is NULL (-ENOSYS through state.c). */
static const struct sysg_state_ops overlay_ops = {
	.get_unit = ov_get_unit,
	.list_units = ov_list_units,
	.list_cron_runs = ov_list_cron_runs,
	.list_deploys = ov_list_deploys,
};

static void overlay(const struct sysg_live *l, struct sysg_state *ov)
{
	memset(ov, 0, sizeof(*ov));
	ov->ops = &overlay_ops;
	ov->handle = (void *)l;
	ov->dir = l->st ? l->st->dir : NULL;
}

/* ------------------------------------------------------------ CPU% */

/* The newest sample's CPU% of U, when it was taken of U's process. */
static void sampled_cpu(const struct sysg_live *l, struct sysg_unit_view *u)
{
	struct sysg_sample v;

	if (!l->samples || u->pid <= 0 ||
	    sysg_samples_latest(l->samples, u->name, &v) < 0)
		return;
	if (v.cpu_percent >= 0 && v.nprocs > 0 && u->started_at_ms &&
	    v.at_ms >= u->started_at_ms)
		u->cpu_percent = v.cpu_percent;
}

/* What the service said through sd_notify, and why sysg restarted it. */
static void notify_info(const struct sysg_live *l, struct sysg_unit_view *u)
{
	struct sysg_notify_info n;

	if (sysg_supervisor_notify_info(l->sup, u->name, &n) < 0)
		return;
	if (n.status_text[0])           /* else U's is "" already */
		memcpy(u->status_text, n.status_text, sizeof(u->status_text));
	if (n.last_restart[0])
		memcpy(u->last_restart, n.last_restart, sizeof(u->last_restart));
}

int sysg_live_status(const struct sysg_live *l, const struct sysg_status_opts *o,
		     struct sysg_status *out, char *err, size_t errlen)
{
	struct sysg_status_opts lo = *o;
	struct sysg_state ov;
	int rc;

	overlay(l, &ov);
	lo.supervisor_alive = 1;
	rc = sysg_status_collect(l->cfg, &ov, &lo, out, err, errlen);
	for (size_t i = 0; rc == 0 && i < out->nunits; i++) {
		sampled_cpu(l, &out->units[i]);
		notify_info(l, &out->units[i]);
	}
	return rc;
}

/* The supervisor's memory of NAME's last exits. */
static void live_exits(const struct sysg_live *l, const char *name,
		       struct sysg_inspect *in)
{
	struct sysg_exit_info v[SYSG_EXITS_KEEP];
	size_t max = sizeof(in->exits) / sizeof(in->exits[0]);
	int n = sysg_supervisor_exits(l->sup, name, v,
				      max < SYSG_EXITS_KEEP ? max :
				      SYSG_EXITS_KEEP);

	for (int i = 0; i < n; i++)
		in->exits[i] = (struct sysg_exit_view){ v[i].at_ms,
			v[i].has_code, v[i].code, v[i].has_signal, v[i].signo };
	in->nexits = n > 0 ? (size_t)n : 0;
}

int sysg_live_inspect(const struct sysg_live *l, const char *name,
		      struct sysg_inspect *out, char *err, size_t errlen)
{
	struct sysg_state ov;
	int rc;

	overlay(l, &ov);
	rc = sysg_inspect_collect(l->cfg, &ov, l->state_dir, name, 1, out, err,
				  errlen);
	if (rc < 0)
		return rc;
	sampled_cpu(l, &out->status.units[0]);
	notify_info(l, &out->status.units[0]);
	if (l->samples &&
	    sysg_samples_get(l->samples, name, &out->samples, &out->nsamples) < 0) {
		sysg_errf(err, errlen, "out of memory");
		sysg_inspect_free(out);
		return -ENOMEM;
	}
	out->sample_interval_ms = l->cfg && l->cfg->metrics.present ?
		l->cfg->metrics.sample_interval_secs * 1000 :
		SYSG_SAMPLE_INTERVAL_MS;
	live_exits(l, name, out);
	return 0;
}
