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
	const struct sysg_deployment *d = &svc->deployment;

	memset(v, 0, sizeof(*v));
	v->s.service = svc->name;
	v->s.strategy = d->strategy ? d->strategy : "immediate";
	v->s.pre_start = d->pre_start;
	v->s.health_url = d->health.url;
	v->s.health_command = d->health.command;
	v->s.health_timeout_ms = d->health.timeout_ms;
	v->s.health_retries = d->health.retries;
	v->s.grace_period_ms = d->grace_period_ms;
	if (d->noptions) {
		v->options = calloc(d->noptions, sizeof(*v->options));
		if (!v->options)
			return -ENOMEM;
		for (size_t i = 0; i < d->noptions; i++) {
			v->options[i].key = d->options[i].key;
			v->options[i].value = d->options[i].value;
			v->options[i].line = d->options[i].mark.line;
			v->options[i].col = d->options[i].mark.col;
		}
	}
	v->s.options = v->options;
	v->s.noptions = d->noptions;
	return 0;
}

void sysg_strategy_view_free(struct sysg_strategy_view *v)
{
	free(v->options);
	memset(v, 0, sizeof(*v));
}

/* Where to blame a strategy's complaint about BAD_KEY. */
static void blame(const struct sysg_service *svc, const char *bad_key,
		  struct sysg_mark *m, char *path, size_t len)
{
	const struct sysg_deployment *d = &svc->deployment;

	*m = d->strategy_mark.line ? d->strategy_mark : svc->mark;
	snprintf(path, len, "services.%s.deployment%s", svc->name,
		 d->strategy_mark.line ? ".strategy" : "");
	if (!bad_key)
		return;
	for (size_t i = 0; i < d->noptions; i++) {
		if (strcmp(d->options[i].key, bad_key))
			continue;
		*m = d->options[i].mark;
		snprintf(path, len, "services.%s.deployment.%s.%s", svc->name,
			 d->strategy ? d->strategy : "immediate", bad_key);
		return;
	}
}

static int check_service(const struct sysg_config *cfg,
			 const struct sysg_service *svc,
			 const struct sysg_plugin_path *pp,
			 struct sysg_diag *diag)
{
	const struct sysg_deployment *d = &svc->deployment;
	const char *name = d->strategy ? d->strategy : "immediate";
	struct sysg_loaded_plugin *lp = NULL;
	struct sysg_strategy_view v;
	const char *bad_key = NULL;
	struct sysg_mark m;
	char err[2 * SYSG_ERR_MAX] = "", path[SYSG_ERR_MAX];
	int rc;

	rc = sysg_plugin_load(pp, name, SYSG_PLUGIN_STRATEGY, &lp, err,
			      sizeof(err));
	if (rc == 0) {
		rc = sysg_strategy_view_init(&v, svc);
		if (rc == 0) {
			rc = lp->desc->strategy->check_config(&v.s, err,
							      sizeof(err),
							      &bad_key);
			sysg_strategy_view_free(&v);
		}
	}
	if (rc < 0) {
		blame(svc, rc == -EINVAL || rc == -ENOENT ? bad_key : NULL, &m,
		      path, sizeof(path));
		sysg_diag_error(diag, sysg_service_file(cfg, svc), m.line,
				m.col, path,
				"strategy '%s': %s", name,
				err[0] ? err : strerror(-rc));
	}
	sysg_plugin_unload(lp);
	return rc;
}

int sysg_config_check_plugins(const struct sysg_config *cfg,
			      const struct sysg_plugin_path *pp,
			      const char *state_override,
			      struct sysg_diag *diag)
{
	const char *backend = state_override ? state_override :
			      cfg->state_backend ? cfg->state_backend : "xml";
	struct sysg_loaded_plugin *lp = NULL;
	char err[2 * SYSG_ERR_MAX] = "";
	int failed = 0;

	for (size_t i = 0; i < cfg->nservices; i++)
		if (check_service(cfg, &cfg->services[i], pp, diag) < 0)
			failed = 1;
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
