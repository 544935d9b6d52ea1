/* record.c - see record.h */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "config/config.h"
#include "plugin/plugin.h"
#include "link.h"
#include "record.h"

#define CONFIG_MAX_BYTES (32L << 20)   /* as the config loader's */

static void fnv(uint64_t *h, const char *s)
{
	for (const char *p = s ? s : "\x01"; *p; p++)
		*h = (*h ^ (unsigned char)*p) * 1099511628211ULL;
	*h = (*h ^ 0xff) * 1099511628211ULL;    /* field separator */
}

static void fnv_num(uint64_t *h, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	fnv(h, buf);
}

void sysg_deploy_revision(const struct sysg_service *svc, char out[16])
{
	const struct sysg_deployment *d = &svc->deployment;
	uint64_t h = 1469598103934665603ULL;

	fnv(&h, svc->command_raw ? svc->command_raw : svc->command);
	fnv(&h, svc->env.file);
	for (size_t i = 0; i < svc->env.nvars; i++) {
		fnv(&h, svc->env.vars[i].key);
		fnv(&h, svc->env.vars[i].value);
	}
	fnv(&h, d->strategy);
	fnv(&h, d->pre_start);
	fnv(&h, d->health.url);
	fnv(&h, d->health.command);
	fnv_num(&h, d->health.timeout_ms);
	fnv_num(&h, d->health.retries);
	fnv_num(&h, d->grace_period_ms);
	fnv_num(&h, d->timeout_ms);
	fnv_num(&h, d->min_healthy_time_ms);
	for (size_t i = 0; i < d->noptions; i++) {
		fnv(&h, d->options[i].key);
		fnv(&h, d->options[i].value);
	}
	snprintf(out, 16, "%012llx", (unsigned long long)(h >> 16));
}

static json_t *deployment_json(const struct sysg_deployment *d)
{
	json_t *opts = json_object();

	for (size_t i = 0; opts && i < d->noptions; i++)
		json_object_set_new(opts, d->options[i].key,
				    json_string(d->options[i].value));
	return json_pack("{s:s, s:s?, s:s?, s:s?, s:I, s:i, s:I, s:I, s:I, "
			 "s:o*}",
			 "strategy", d->strategy ? d->strategy : "immediate",
			 "pre_start", d->pre_start,
			 "health_url", d->health.url,
			 "health_command", d->health.command,
			 "health_timeout_ms", (json_int_t)d->health.timeout_ms,
			 "health_retries", d->health.retries,
			 "grace_period_ms", (json_int_t)d->grace_period_ms,
			 "timeout_ms", (json_int_t)d->timeout_ms,
			 "min_healthy_time_ms",
				(json_int_t)d->min_healthy_time_ms,
			 "options", opts);
}

static json_t *service_json(const struct sysg_service *svc,
			    const struct sysg_config *cfg)
{
	json_t *env = json_object();

	for (size_t i = 0; env && i < svc->env.nvars; i++)
		json_object_set_new(env, svc->env.vars[i].key,
				    json_string(svc->env.vars[i].value));
	return json_pack("{s:s, s:s?, s:o*, s:s?, s:s?, s:o*}",
			 "service", svc->name,
			 "command", svc->command_raw ? svc->command_raw :
				    svc->command,
			 "env", env, "env_file", svc->env.file,
			 "working_dir", cfg->project_dir,
			 "deployment", deployment_json(&svc->deployment));
}

int sysg_deploy_definition(const struct sysg_service *svc,
			   const struct sysg_config *cfg, const char *cfg_text,
			   char *out, size_t len)
{
	json_t *j = service_json(svc, cfg);
	char *s;

	out[0] = '\0';
	if (!j)
		return -ENOMEM;
	json_object_set_new(j, "config_path", json_string(cfg->abs_path ?
			    cfg->abs_path : cfg->path));
	if (cfg_text)
		json_object_set_new(j, "config", json_string(cfg_text));
	if (svc->project && cfg->nprojects && !cfg->projects[0].plain)
		/* a file that joined a supervisor (config/project.h): its
		 * own services are named after it when it is read again */
		json_object_set_new(j, "joined", json_true());
	s = json_dumps(j, JSON_COMPACT);
	if (s && strlen(s) >= len) {    /* too large: keep the summary */
		free(s);
		json_object_del(j, "config");
		s = json_dumps(j, JSON_COMPACT);
	}
	json_decref(j);
	if (!s)
		return -ENOMEM;
	snprintf(out, len, "%s", s);
	free(s);
	return 0;
}

int sysg_deploy_definition_config(const char *definition,
				  struct sysg_config **out, char *err,
				  size_t errlen)
{
	json_t *j = json_loads(definition, 0, NULL);
	const char *text = json_string_value(json_object_get(j, "config"));
	const char *path = json_string_value(json_object_get(j, "config_path"));
	struct sysg_diag d;
	char *dir = NULL;
	int rc;

	*out = NULL;
	if (!text || !path || path[0] != '/') {
		json_decref(j);
		snprintf(err, errlen, "the record keeps no config to deploy "
			 "again (it was larger than %d bytes)",
			 SYSG_DEFINITION_MAX);
		return -ENOENT;
	}
	dir = sysg_path_dirname(path);
	if (!dir) {
		json_decref(j);
		return -ENOMEM;
	}
	sysg_diag_init(&d);
	rc = sysg_config_load_buffer_flags(path, dir, text, strlen(text),
					   json_is_true(json_object_get(j,
						   "joined")) ?
					   SYSG_CONFIG_JOINED : 0, out, &d);
	if (rc < 0)
		snprintf(err, errlen, "the config kept in the record no longer "
			 "loads: %s", d.n ? d.lines[0] : strerror(-rc));
	sysg_diag_free(&d);
	free(dir);
	json_decref(j);
	return rc < 0 ? -EINVAL : 0;
}

int sysg_deploy_read_config(const char *path, unsigned flags,
			    struct sysg_config **cfg, char **text,
			    struct sysg_diag *diag)
{
	char *buf = NULL, *dir = sysg_path_dirname(path);
	size_t len = 0;
	int rc;

	*cfg = NULL;
	*text = NULL;
	if (!dir)
		return -ENOMEM;
	/* a FIFO or device named here must never block the supervisor */
	rc = sysg_read_regular(path, (size_t)CONFIG_MAX_BYTES, &buf, &len);
	if (rc == 0)
		rc = sysg_config_load_buffer_flags(path, dir, buf, len, flags,
						   cfg, diag);
	else
		sysg_diag_error(diag, path, 0, 0, NULL, "cannot read the "
				"config: %s", rc == -EINVAL ?
				"not a regular file" : rc == -EFBIG ?
				"too large" : strerror(-rc));
	free(dir);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*text = buf;
	return 0;
}

json_t *sysg_deploy_settings_json(const struct sysg_service *svc,
				  const char *strategy)
{
	struct sysg_strategy_view v;
	json_t *opts, *j;

	/* STRATEGY's own deployment.<strategy> settings (--strategy X) */
	if (sysg_strategy_view_init_for(&v, svc, strategy) < 0)
		return NULL;
	opts = json_array();
	for (size_t i = 0; opts && i < v.s.noptions; i++)
		json_array_append_new(opts, json_pack("{s:s, s:s, s:i, s:i}",
			"key", v.s.options[i].key, "value",
			v.s.options[i].value ? v.s.options[i].value : "",
			"line", v.s.options[i].line, "col",
				v.s.options[i].col));
	j = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:I, s:i, s:I, s:o*}",
		      "service", v.s.service,
		      "strategy", strategy ? strategy : v.s.strategy,
		      "pre_start", v.s.pre_start,
		      "health_url", v.s.health_url,
		      "health_command", v.s.health_command,
		      "health_timeout_ms", (json_int_t)v.s.health_timeout_ms,
		      "health_retries", v.s.health_retries,
		      "grace_period_ms", (json_int_t)v.s.grace_period_ms,
		      "options", opts);
	sysg_strategy_view_free(&v);
	return j;
}

int sysg_deploy_settings_from(const json_t *j,
			      struct sysg_strategy_settings *out,
			      struct sysg_setting **options)
{
	const json_t *opts = json_object_get(j, "options");
	size_t n = json_array_size(opts);

	memset(out, 0, sizeof(*out));
	*options = NULL;
	out->service = sysg_jstr(j, "service");
	out->strategy = sysg_jstr(j, "strategy");
	if (!out->service || !out->strategy)
		return -EINVAL;
	out->pre_start = sysg_jstr(j, "pre_start");
	out->health_url = sysg_jstr(j, "health_url");
	out->health_command = sysg_jstr(j, "health_command");
	out->health_timeout_ms = json_integer_value(
		json_object_get(j, "health_timeout_ms"));
	out->health_retries = (int)json_integer_value(
		json_object_get(j, "health_retries"));
	out->grace_period_ms = json_integer_value(
		json_object_get(j, "grace_period_ms"));
	if (n) {
		*options = calloc(n, sizeof(**options));
		if (!*options)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			const json_t *o = json_array_get(opts, i);

			(*options)[i].key = sysg_jstr(o, "key");
			(*options)[i].value = sysg_jstr(o, "value");
			(*options)[i].line = (int)json_integer_value(
				json_object_get(o, "line"));
			(*options)[i].col = (int)json_integer_value(
				json_object_get(o, "col"));
		}
	}
	out->options = *options;
	out->noptions = n;
	return 0;
}

void sysg_deploy_fmt_ms(int64_t ms, char *buf, size_t len)
{
	if (ms >= 60000 && ms % 60000 == 0)
		snprintf(buf, len, "%lldm", (long long)(ms / 60000));
	else if (ms >= 1000 && ms % 1000 == 0)
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	else if (ms >= 1000)
		snprintf(buf, len, "%.1fs", (double)ms / 1000.0);
	else
		snprintf(buf, len, "%lldms", (long long)ms);
}
