/* reload.c - switch a running supervisor to a new config (`restart
 * --config`).
 *
 * Services are matched by name. An unchanged one keeps its process and
 * only points at the new definition; a changed one is restarted with the
 * new definition (svc_reconfigure); a new one starts; a removed one is
 * stopped, stays at the end of the service array (past nactive) until it
 * is down and its "stopped" record is written, then is freed. A replaced
 * config is kept until no service points into it any more.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc.h"

/* ------------------------------------------------------------------ */
/* Collecting what a reload left behind                                */
/* ------------------------------------------------------------------ */

static int points_into(const struct sysg_config *c,
		       const struct sysg_service *p)
{
	return p && p >= c->services && p < c->services + c->nservices;
}

static int config_in_use(const struct sysg_supervisor *s,
			 const struct sysg_config *c)
{
	for (size_t i = 0; i < s->nsvcs; i++)
		if (points_into(c, s->svcs[i]->cfg) ||
		    points_into(c, s->svcs[i]->next_cfg))
			return 1;
	return 0;
}

static void collect_configs(struct sysg_supervisor *s)
{
	size_t k = 0;

	for (size_t i = 0; i < s->nold_cfgs; i++) {
		struct sysg_config *c = s->old_cfgs[i];

		if (config_in_use(s, c))
			s->old_cfgs[k++] = c;
		else if (c != s->borrowed_cfg)
			sysg_config_free(c);
	}
	s->nold_cfgs = k;
}

void sup_reload_collect(struct sysg_supervisor *s)
{
	size_t k = s->nactive;

	for (size_t i = s->nactive; i < s->nsvcs; i++) {
		struct svc *v = s->svcs[i];

		if ((v->state == ST_STOPPED || v->state == ST_IDLE) &&
		    !v->record_dirty) {
			sysg_job_cancel(&v->probe);
			sysg_job_cancel(&v->helper);
			svc_release(v);
			free(v);
		} else {
			s->svcs[k++] = v;
		}
	}
	if (s->nsvcs != k)
		sup_reindex(s);
	s->nsvcs = k;
	collect_configs(s);
}

/* ------------------------------------------------------------------ */
/* Reload                                                              */
/* ------------------------------------------------------------------ */

struct plan {
	struct svc **next;      /* the new array */
	unsigned char *fresh;   /* next[j] was allocated for this reload */
	unsigned char *kept;    /* old svcs[i] appears in next[0..n) */
	size_t n, total;
	int added, removed, changed;
};

/* An existing service (configured or still being removed) named NAME. */
static struct svc *find_any(struct sysg_supervisor *s, const char *name,
			    size_t *at)
{
	for (size_t i = 0; i < s->nsvcs; i++)
		if (!strcmp(s->svcs[i]->cfg->name, name)) {
			*at = i;
			return s->svcs[i];
		}
	return NULL;
}

static void plan_free(struct plan *p, int with_fresh)
{
	for (size_t j = 0; with_fresh && p->next && p->fresh && j < p->n; j++)
		if (p->fresh[j])
			free(p->next[j]);
	free(p->next);
	free(p->fresh);
	free(p->kept);
}

/* Allocate everything up front: after this nothing can fail. */
static int plan_make(struct sysg_supervisor *s, struct sysg_config *nc,
		     struct plan *p)
{
	struct sysg_config **olds;
	size_t at;

	memset(p, 0, sizeof(*p));
	p->n = nc->nservices;
	p->next = calloc(p->n + s->nsvcs + 1, sizeof(*p->next));
	p->fresh = calloc(p->n + 1, 1);
	p->kept = calloc(s->nsvcs + 1, 1);
	olds = realloc(s->old_cfgs, (s->nold_cfgs + 1) * sizeof(*olds));
	if (olds)
		s->old_cfgs = olds;
	if (!p->next || !p->fresh || !p->kept || !olds)
		return -ENOMEM;
	for (size_t j = 0; j < p->n; j++) {
		p->next[j] = find_any(s, nc->services[j].name, &at);
		if (p->next[j]) {
			p->kept[at] = 1;
			continue;
		}
		p->next[j] = calloc(1, sizeof(**p->next));
		if (!p->next[j])
			return -ENOMEM;
		p->fresh[j] = 1;
	}
	p->total = p->n;
	for (size_t i = 0; i < s->nsvcs; i++)
		if (!p->kept[i])
			p->next[p->total++] = s->svcs[i];
	return 0;
}

/* Same definition: keep the process, point at the new struct. */
static void rebind_same(struct svc *v, struct sysg_service *nc)
{
	if (v->next_cfg) {
		v->next_cfg = nc;
		return;
	}
	v->cfg = nc;
	if (v->privs && v->privs->limits)
		v->privs->limits = &nc->limits;
	if (v->privs && v->privs->cg)
		v->privs->cg->cfg = &nc->limits.cgroup;
	svc_drains_rename(v);
}

/* One service of the new config that existed before. */
static void apply_existing(struct svc *v, struct sysg_service *nc,
			   int all_changed, struct plan *p)
{
	const struct sysg_service *cur = v->next_cfg ? v->next_cfg : v->cfg;

	if (v->removed) {               /* back before it was gone */
		v->removed = 0;
		svc_reconfigure(v, nc);
		if (v->state == ST_STOPPING)
			v->restart_requested = 1;
		else if (!v->sup->shutting_down)
			sup_start_closure(v->sup, v, 0);
		p->added++;
	} else if (!all_changed && sysg_service_equal(cur, nc)) {
		rebind_same(v, nc);
	} else {
		svc_reconfigure(v, nc);
		p->changed++;
	}
}

static void apply(struct sysg_supervisor *s, struct sysg_config *nc,
		  struct plan *p, int all_changed)
{
	size_t nold_active = s->nactive;
	struct svc **old = s->svcs;

	for (size_t j = 0; j < p->n; j++) {
		if (p->fresh[j])
			sup_svc_init(s, p->next[j], &nc->services[j], j);
		p->next[j]->idx = j;
	}
	s->svcs = p->next;
	s->nsvcs = p->total;
	s->nactive = p->n;
	s->cfg = nc;
	sup_reindex(s);         /* services renamed, added, removed */
	sup_mirror_others(s);
	for (size_t j = 0; j < p->n; j++)
		if (!p->fresh[j])
			apply_existing(s->svcs[j], &nc->services[j], all_changed,
				       p);
	for (size_t i = 0; i < nold_active; i++)
		if (!p->kept[i]) {
			svc_event(old[i], EV_RETIRE);
			p->removed++;
		}
	for (size_t j = 0; j < p->n; j++)
		if (p->fresh[j]) {
			p->added++;
			if (!s->shutting_down)
				sup_start_closure(s, s->svcs[j], 0);
		}
	free(old);
}

int sysg_supervisor_reload(struct sysg_supervisor *s,
			   struct sysg_config *newcfg, char *err,
			   size_t errlen)
{
	struct plan p;
	int all_changed, known = !newcfg || newcfg == s->cfg ||
				 newcfg == s->borrowed_cfg;

	for (size_t i = 0; i < s->nold_cfgs; i++)
		known |= newcfg == s->old_cfgs[i];
	if (known) {
		sysg_errf(err, errlen, "no new configuration to load");
		return -EINVAL;
	}
	if (plan_make(s, newcfg, &p) < 0) {
		plan_free(&p, 1);
		sysg_errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* every service runs in the project directory */
	all_changed = !sysg_config_same_context(s->cfg, newcfg);
	s->old_cfgs[s->nold_cfgs++] = s->cfg;
	s->cfg_owned = 1;
	apply(s, newcfg, &p, all_changed);
	p.next = NULL;                  /* now the supervisor's */
	plan_free(&p, 0);
	sysg_log(&s->log, SYSG_LOG_INFO, "Reloaded config: +%d -%d ~%d",
		 p.added, p.removed, p.changed);
	sup_changed(s);
	sup_logs_arm(s);
	sup_settle(s);
	return 0;
}
