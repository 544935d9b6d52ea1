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
/* Comparing definitions                                               */
/* ------------------------------------------------------------------ */

static int str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static int strv_eq(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (!str_eq(a[i], b[i]))
			return 0;
	return 1;
}

/* NULL-terminated string arrays (environments). */
static int envp_eq(char *const *a, char *const *b)
{
	size_t i = 0;

	if (!a || !b)
		return a == b;
	for (; a[i] && b[i]; i++)
		if (strcmp(a[i], b[i]))
			return 0;
	return !a[i] && !b[i];
}

static int kv_eq(const struct sysg_kv *a, size_t na, const struct sysg_kv *b,
		 size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (!str_eq(a[i].key, b[i].key) || !str_eq(a[i].value, b[i].value))
			return 0;
	return 1;
}

static int env_spec_eq(const struct sysg_env_spec *a,
		       const struct sysg_env_spec *b)
{
	return str_eq(a->file, b->file) &&
	       kv_eq(a->vars, a->nvars, b->vars, b->nvars);
}

static int hook_eq(const struct sysg_hook *a, const struct sysg_hook *b)
{
	return str_eq(a->command, b->command) && a->timeout_ms == b->timeout_ms;
}

static int hooks_eq(const struct sysg_hooks *a, const struct sysg_hooks *b)
{
	const struct sysg_hook_pair *pa[] = {
		&a->on_start, &a->on_stop, &a->on_restart,
	};
	const struct sysg_hook_pair *pb[] = {
		&b->on_start, &b->on_stop, &b->on_restart,
	};

	for (int i = 0; i < 3; i++)
		if (!hook_eq(&pa[i]->success, &pb[i]->success) ||
		    !hook_eq(&pa[i]->error, &pb[i]->error))
			return 0;
	return 1;
}

static int health_eq(const struct sysg_health *a, const struct sysg_health *b)
{
	return a->present == b->present && str_eq(a->command, b->command) &&
	       str_eq(a->url, b->url) && a->interval_ms == b->interval_ms &&
	       a->timeout_ms == b->timeout_ms && a->retries == b->retries;
}

static int blue_green_eq(const struct sysg_blue_green *a,
			 const struct sysg_blue_green *b)
{
	return a->present == b->present && str_eq(a->env_var, b->env_var) &&
	       strv_eq(a->slots, 2, b->slots, 2) &&
	       str_eq(a->candidate_health_check_url,
		      b->candidate_health_check_url) &&
	       str_eq(a->switch_command, b->switch_command) &&
	       str_eq(a->switch_verify_url, b->switch_verify_url) &&
	       str_eq(a->state_path, b->state_path);
}

static int deployment_eq(const struct sysg_deployment *a,
			 const struct sysg_deployment *b)
{
	return str_eq(a->strategy, b->strategy) &&
	       str_eq(a->pre_start, b->pre_start) &&
	       health_eq(&a->health, &b->health) &&
	       a->grace_period_ms == b->grace_period_ms &&
	       blue_green_eq(&a->blue_green, &b->blue_green) &&
	       kv_eq(a->options, a->noptions, b->options, b->noptions);
}

static int cron_eq(const struct sysg_cron *a, const struct sysg_cron *b)
{
	return a->present == b->present && str_eq(a->expression, b->expression) &&
	       str_eq(a->timezone, b->timezone);
}

static int spawn_eq(const struct sysg_spawn *a, const struct sysg_spawn *b)
{
	return a->present == b->present && a->dynamic == b->dynamic &&
	       a->children == b->children && a->depth == b->depth &&
	       a->descendants == b->descendants &&
	       a->total_memory == b->total_memory &&
	       a->termination_policy == b->termination_policy;
}

static int ints_eq(const int *a, size_t na, const int *b, size_t nb)
{
	return na == nb && (!na || !memcmp(a, b, na * sizeof(*a)));
}

static int limits_eq(const struct sysg_limits *a, const struct sysg_limits *b)
{
	return a->present == b->present && a->nofile == b->nofile &&
	       a->nproc == b->nproc && a->memlock == b->memlock &&
	       a->has_nice == b->has_nice && a->nice == b->nice &&
	       ints_eq(a->cpu_affinity, a->ncpu_affinity, b->cpu_affinity,
		       b->ncpu_affinity) &&
	       str_eq(a->cgroup.root, b->cgroup.root) &&
	       a->cgroup.memory_max == b->cgroup.memory_max &&
	       str_eq(a->cgroup.cpu_max, b->cgroup.cpu_max) &&
	       a->cgroup.cpu_weight == b->cgroup.cpu_weight;
}

static int isolation_eq(const struct sysg_isolation *a,
			const struct sysg_isolation *b)
{
	return a->present == b->present && a->network == b->network &&
	       a->pid == b->pid && a->mount == b->mount && a->user == b->user;
}

static int process_eq(const struct sysg_service *a,
		      const struct sysg_service *b)
{
	return str_eq(a->command, b->command) &&
	       str_eq(a->command_raw, b->command_raw) &&
	       env_spec_eq(&a->env, &b->env) && envp_eq(a->envp, b->envp) &&
	       str_eq(a->user, b->user) && str_eq(a->group, b->group) &&
	       strv_eq(a->supplementary_groups, a->nsupplementary_groups,
		       b->supplementary_groups, b->nsupplementary_groups) &&
	       limits_eq(&a->limits, &b->limits) &&
	       strv_eq(a->capabilities, a->ncapabilities, b->capabilities,
		       b->ncapabilities) &&
	       isolation_eq(&a->isolation, &b->isolation);
}

static int policy_eq(const struct sysg_service *a,
		     const struct sysg_service *b)
{
	return strv_eq(a->depends_on, a->ndepends_on, b->depends_on,
		       b->ndepends_on) &&
	       a->restart_policy == b->restart_policy &&
	       a->backoff_ms == b->backoff_ms &&
	       a->max_restarts == b->max_restarts &&
	       a->stop_timeout_ms == b->stop_timeout_ms &&
	       a->ready_after_ms == b->ready_after_ms &&
	       health_eq(&a->health, &b->health) && a->skip == b->skip &&
	       str_eq(a->skip_command, b->skip_command);
}

/* Every field of struct sysg_service (config.h) but the YAML positions:
 * extend it when the struct grows. */
int svc_same_definition(const struct sysg_service *a,
			const struct sysg_service *b)
{
	return str_eq(a->name, b->name) && process_eq(a, b) &&
	       policy_eq(a, b) && hooks_eq(&a->hooks, &b->hooks) &&
	       deployment_eq(&a->deployment, &b->deployment) &&
	       cron_eq(&a->cron, &b->cron) && spawn_eq(&a->spawn, &b->spawn);
}

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
	if (v->privs.limits)
		v->privs.limits = &nc->limits;
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
	} else if (!all_changed && svc_same_definition(cur, nc)) {
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
	for (size_t j = 0; j < p->n; j++)
		if (!p->fresh[j])
			apply_existing(s->svcs[j], &nc->services[j], all_changed,
				       p);
	for (size_t i = 0; i < nold_active; i++)
		if (!p->kept[i]) {
			svc_retire(old[i]);
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
		snprintf(err, errlen, "no new configuration to load");
		return -EINVAL;
	}
	if (plan_make(s, newcfg, &p) < 0) {
		plan_free(&p, 1);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* every service runs in the project directory */
	all_changed = !str_eq(s->cfg->project_dir, newcfg->project_dir);
	s->old_cfgs[s->nold_cfgs++] = s->cfg;
	s->cfg_owned = 1;
	apply(s, newcfg, &p, all_changed);
	p.next = NULL;                  /* now the supervisor's */
	plan_free(&p, 0);
	sysg_log(&s->log, SYSG_LOG_INFO, "Reloaded config: +%d -%d ~%d",
		 p.added, p.removed, p.changed);
	sup_changed(s);
	sup_settle(s);
	return 0;
}
