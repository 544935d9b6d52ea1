/* strategy.c - see strategy.h */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "strategy.h"

int sysg_strategy_view_init(struct sysg_strategy_view *v,
			    const struct sysg_service *svc)
{
	return sysg_strategy_view_init_for(v, svc, NULL);
}

int sysg_strategy_view_init_for(struct sysg_strategy_view *v,
				const struct sysg_service *svc,
				const char *strategy)
{
	const struct sysg_deployment *d = &svc->deployment;
	const char *name = strategy ? strategy :
			   d->strategy ? d->strategy : "immediate";
	const struct sysg_strategy_section *sec =
		sysg_deployment_section(d, name);

	memset(v, 0, sizeof(*v));
	v->s.service = svc->name;
	v->s.strategy = name;
	v->s.pre_start = d->pre_start;
	v->s.health_url = d->health.url;
	v->s.health_command = d->health.command;
	v->s.health_timeout_ms = d->health.timeout_ms;
	v->s.health_retries = d->health.retries;
	v->s.grace_period_ms = d->grace_period_ms;
	if (sec && sec->noptions) {
		v->options = calloc(sec->noptions, sizeof(*v->options));
		if (!v->options)
			return -ENOMEM;
		for (size_t i = 0; i < sec->noptions; i++) {
			v->options[i].key = sec->options[i].key;
			v->options[i].value = sec->options[i].value;
			v->options[i].line = sec->options[i].mark.line;
			v->options[i].col = sec->options[i].mark.col;
		}
		v->s.noptions = sec->noptions;
	}
	v->s.options = v->options;
	return 0;
}

void sysg_strategy_view_free(struct sysg_strategy_view *v)
{
	free(v->options);
	memset(v, 0, sizeof(*v));
}

/* When BAD_KEY names option O ("slots"), or one item of it ("slots[1]"),
 * point M there. */
static void option_mark(const struct sysg_kv *o, const char *bad_key,
			struct sysg_mark *m)
{
	size_t klen = strlen(o->key);
	char *end;
	unsigned long i;

	if (strncmp(o->key, bad_key, klen))
		return;
	if (!bad_key[klen]) {
		*m = o->mark;
		return;
	}
	if (bad_key[klen] != '[' || bad_key[klen + 1] < '0' ||
	    bad_key[klen + 1] > '9')
		return;
	i = strtoul(bad_key + klen + 1, &end, 10);
	if (!strcmp(end, "]"))
		*m = i < o->nitems ? o->item_marks[i] : o->mark;
}

/* Where a complaint of strategy NAME about BAD_KEY (NULL: its settings as
 * a whole) points: the option's value, else its section's key (a missing
 * option is reported there), else `strategy:`. */
static void blame(const struct sysg_service *svc, const char *name,
		  const char *bad_key, struct sysg_mark *m, char *path,
		  size_t len)
{
	const struct sysg_deployment *d = &svc->deployment;
	const struct sysg_strategy_section *sec =
		sysg_deployment_section(d, name);

	if (sec) {
		*m = sec->mark;
		for (size_t i = 0; bad_key && i < sec->noptions; i++)
			option_mark(&sec->options[i], bad_key, m);
		snprintf(path, len, "services.%s.deployment.%s%s%s", svc->name,
			 name, bad_key ? "." : "", bad_key ? bad_key : "");
		return;
	}
	*m = d->strategy_mark.line ? d->strategy_mark : svc->mark;
	if (bad_key)
		snprintf(path, len, "services.%s.deployment.%s.%s", svc->name,
			 name, bad_key);
	else
		snprintf(path, len, "services.%s.deployment%s", svc->name,
			 d->strategy_mark.line ? ".strategy" : "");
}

/* Where "plugin NAME does not load" points: `strategy:` when NAME is the
 * configured strategy written there, else its section. */
static void blame_load(const struct sysg_service *svc, const char *name,
		       struct sysg_mark *m, char *path, size_t len)
{
	const struct sysg_deployment *d = &svc->deployment;

	if (d->strategy_mark.line && d->strategy && !strcmp(d->strategy, name)) {
		*m = d->strategy_mark;
		snprintf(path, len, "services.%s.deployment.strategy",
			 svc->name);
		return;
	}
	blame(svc, name, NULL, m, path, len);
}

/* Strategy plugins loaded once per check, by name. */
struct loaded {
	char *name;
	struct sysg_loaded_plugin *lp;  /* NULL when it did not load */
	char err[1024];
};

struct plugin_cache {
	const struct sysg_plugin_path *pp;
	struct loaded *v;
	size_t n;
};

static const struct loaded *cache_get(struct plugin_cache *pc,
				      const char *name)
{
	struct loaded *grown, *l;

	for (size_t i = 0; i < pc->n; i++)
		if (!strcmp(pc->v[i].name, name))
			return &pc->v[i];
	grown = realloc(pc->v, (pc->n + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	pc->v = grown;
	l = &pc->v[pc->n];
	memset(l, 0, sizeof(*l));
	if (!(l->name = strdup(name)))
		return NULL;
	pc->n++;
	sysg_plugin_load(pc->pp, name, SYSG_PLUGIN_STRATEGY, &l->lp, l->err,
			 sizeof(l->err));
	return l;
}

static void cache_free(struct plugin_cache *pc)
{
	for (size_t i = 0; i < pc->n; i++) {
		sysg_plugin_unload(pc->v[i].lp);
		free(pc->v[i].name);
	}
	free(pc->v);
}

/* Run strategy NAME's check_config on its settings for SVC. */
static int check_strategy(const struct sysg_config *cfg,
			  const struct sysg_service *svc, const char *name,
			  struct plugin_cache *pc, struct sysg_diag *diag)
{
	const struct loaded *l = cache_get(pc, name);
	struct sysg_strategy_view v;
	const char *bad_key = NULL;
	struct sysg_mark m;
	char err[2 * SYSG_ERR_MAX] = "", path[SYSG_ERR_MAX];
	int rc;

	if (!l)
		return -ENOMEM;
	if (!l->lp) {
		blame_load(svc, name, &m, path, sizeof(path));
		sysg_diag_error(diag, sysg_service_file(cfg, svc), m.line,
				m.col, path, "strategy '%s': %s", name, l->err);
		return -EINVAL;
	}
	rc = sysg_strategy_view_init_for(&v, svc, name);
	if (rc < 0)
		return rc;
	rc = l->lp->desc->strategy->check_config(&v.s, err, sizeof(err),
						 &bad_key);
	if (rc < 0) {
		/* BAD_KEY points into V (or the plugin): use it before freeing */
		blame(svc, name, bad_key, &m, path, sizeof(path));
		sysg_diag_error(diag, sysg_service_file(cfg, svc), m.line,
				m.col, path, "%s", err[0] ? err : strerror(-rc));
	}
	sysg_strategy_view_free(&v);
	return rc < 0 ? -EINVAL : 0;
}

/* The configured strategy, then every other deployment.<name> section:
 * each is checked by its own plugin. */
static int check_service(const struct sysg_config *cfg,
			 const struct sysg_service *svc,
			 struct plugin_cache *pc, struct sysg_diag *diag)
{
	const struct sysg_deployment *d = &svc->deployment;
	const char *name = d->strategy ? d->strategy : "immediate";
	int failed = check_strategy(cfg, svc, name, pc, diag) < 0;

	for (size_t i = 0; i < d->nsections; i++)
		if (strcmp(d->sections[i].name, name) &&
		    check_strategy(cfg, svc, d->sections[i].name, pc, diag) < 0)
			failed = 1;
	return failed ? -EINVAL : 0;
}

int sysg_config_check_strategies(const struct sysg_config *cfg,
				 const struct sysg_plugin_path *pp,
				 struct sysg_diag *diag)
{
	struct plugin_cache pc = { pp, NULL, 0 };
	int failed = 0;

	for (size_t i = 0; i < cfg->nservices; i++) {
		const struct sysg_service *svc = &cfg->services[i];

		if ((svc->deployment.strategy_mark.line ||
		     svc->deployment.nsections) &&
		    check_service(cfg, svc, &pc, diag) < 0)
			failed = 1;
	}
	cache_free(&pc);
	return failed ? -EINVAL : 0;
}

int sysg_config_check_plugins(const struct sysg_config *cfg,
			      const struct sysg_plugin_path *pp,
			      const char *state_override,
			      struct sysg_diag *diag)
{
	const char *backend = state_override ? state_override :
			      cfg->state_backend ? cfg->state_backend : "xml";
	struct plugin_cache pc = { pp, NULL, 0 };
	struct sysg_loaded_plugin *lp = NULL;
	char err[2 * SYSG_ERR_MAX] = "";
	int failed = 0;

	for (size_t i = 0; i < cfg->nservices; i++)
		if (check_service(cfg, &cfg->services[i], &pc, diag) < 0)
			failed = 1;
	cache_free(&pc);
	if (sysg_plugin_load(pp, backend, SYSG_PLUGIN_STATE, &lp, err,
			     sizeof(err)) < 0) {
		sysg_diag_error(diag, cfg->path, 0, 0,
				state_override ? "--state-backend" : "state.backend",
				"%s", err);
		failed = 1;
	}
	sysg_plugin_unload(lp);
	return failed ? -EINVAL : 0;
}
