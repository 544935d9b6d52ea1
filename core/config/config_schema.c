/* config_schema.c - the keys of a sysg config and how each is read; see
 * config_schema.h. One handler per key, one table of keys per map; the
 * generic walking (merge keys, duplicates, unknown and missing keys, typed
 * scalars, messages) is yamlwalk's. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_schema.h"
#include "cron.h"
#include "env.h"
#include "expand.h"

#define MAX_NAME_LEN 127                /* service names */
#define MAX_PLUGIN_NAME_LEN 64
#define MAX_CPU 1023

static struct sysg_mark mark_of(const yaml_node_t *n)
{
	return (struct sysg_mark){ sysg_yw_line(n), sysg_yw_col(n) };
}

/* ---------------------------------------------------- generic handlers */

static int non_blank(const char *s)
{
	return s && s[strspn(s, " \t\r\n")] != '\0';
}

/* A string that is not blank; WHAT names it in the message. */
static void nonblank_string(struct sysg_yw *w, yaml_node_t *v, char **out,
			    const char *what)
{
	if (sysg_yw_string(w, v, out) == 0 && !non_blank(*out))
		sysg_yw_error(w, v, "expected a non-empty %s", what);
}

static void h_nonempty(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		       void *p)
{
	(void)k;
	nonblank_string(w, v, p, "string");
}

/* A command run by `sh -c` (hooks, probes, pre_start, skip...): its
 * $VAR references are left for that shell (expand.h). */
static void h_command(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		      void *p)
{
	int mode = sysg_yw_set_mode(w, SYSG_YW_SHELL);

	(void)k;
	nonblank_string(w, v, p, "command");
	sysg_yw_set_mode(w, mode);
}

static void h_url(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v, void *p)
{
	char **out = p, q[80];

	(void)k;
	if (sysg_yw_string(w, v, out))
		return;
	if (strncmp(*out, "http://", 7) && strncmp(*out, "https://", 8))
		sysg_yw_error(w, v, "expected an http:// or https:// URL, found '%s'",
			      sysg_yw_quote(*out, q, sizeof(q)));
}

static void h_dur(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v, void *p)
{
	(void)k;
	sysg_yw_duration(w, v, p);
}

static void h_bool(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v, void *p)
{
	(void)k;
	sysg_yw_bool(w, v, p);
}

static void h_size(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v, void *p)
{
	(void)k;
	sysg_yw_size(w, v, p);
}

static void int_in(struct sysg_yw *w, yaml_node_t *v, long long min,
		   long long max, int *out)
{
	long long x;

	if (sysg_yw_int(w, v, min, max, &x) == 0)
		*out = (int)x;
}

/* A count >= 0 into an int. */
static void h_count(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		    void *p)
{
	(void)k;
	int_in(w, v, 0, INT_MAX, p);
}

static void h_retries(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		      void *p)
{
	(void)k;
	int_in(w, v, 1, INT_MAX, p);
}

/* One of NAMES (NULL-terminated): stores its index into *OUT. */
static void one_of(struct sysg_yw *w, yaml_node_t *v, const char *const *names,
		   const char *expected, int *out)
{
	char *s = NULL, q[80];

	if (sysg_yw_string(w, v, &s))
		return;
	for (int i = 0; names[i]; i++) {
		if (!strcmp(s, names[i])) {
			*out = i;
			free(s);
			return;
		}
	}
	sysg_yw_error(w, v, "expected %s, found '%s'", expected,
		      sysg_yw_quote(s, q, sizeof(q)));
	free(s);
}

static int valid_name_chars(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && !strchr(extra, *s))
			return 0;
	return 1;
}

/* A strategy or state backend name: it becomes a file name NAME.so. */
static void h_plugin_name(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			  void *p)
{
	char **out = p, q[80];

	(void)k;
	if (sysg_yw_string(w, v, out))
		return;
	if (!**out || strlen(*out) > MAX_PLUGIN_NAME_LEN ||
	    !valid_name_chars(*out, "_-"))
		sysg_yw_error(w, v, "expected a plugin name (letters, digits, '_', '-'), found '%s'",
			      sysg_yw_quote(*out, q, sizeof(q)));
}

/* Validates (and may rewrite) one list item; 0 keeps it. */
typedef int (*item_check_fn)(struct sysg_yw *w, yaml_node_t *item, char **s);

/* A list of non-empty strings (a lone string counts as a list of one when
 * SCALAR_OK), NULL-terminated, with optional item marks; items CHECK (may
 * be NULL) rejects are left out. 0 or -1. */
static int string_list(struct sysg_yw *w, yaml_node_t *v, int scalar_ok,
		       item_check_fn check, char ***out,
		       struct sysg_mark **marks, size_t *n)
{
	yaml_node_t **items;
	size_t cnt;

	if (sysg_yw_list(w, v, scalar_ok, &items, &cnt))
		return -1;
	*out = calloc(cnt + 1, sizeof(**out));
	if (marks)
		*marks = calloc(cnt + 1, sizeof(**marks));
	if (!*out || (marks && !*marks)) {
		free(items);
		sysg_yw_nomem(w);
		return -1;
	}
	for (size_t i = 0; i < cnt && !w->aborted; i++) {
		size_t old = v == items[i] ? w->pathlen :
			     sysg_yw_push_index(w, i);
		char **slot = &(*out)[*n];

		if (marks)
			(*marks)[*n] = mark_of(items[i]);
		if (sysg_yw_string(w, items[i], slot) == 0) {
			if (!non_blank(*slot))
				sysg_yw_error(w, items[i], "expected a non-empty string");
			else if (!check || check(w, items[i], slot) == 0)
				slot = &(*out)[++(*n)];
		}
		free(*slot);    /* a rejected item */
		*slot = NULL;
		sysg_yw_pop(w, old);
	}
	free(items);
	return 0;
}

/* ---------------------------------------------------------------- env */

static int kv_append(struct sysg_yw *w, struct sysg_kv **v, size_t *n,
		     const char *key, const char *value, struct sysg_mark m)
{
	struct sysg_kv *grown = realloc(*v, (*n + 1) * sizeof(**v));
	char *k = strdup(key), *val = strdup(value);

	if (grown)
		*v = grown;
	if (!grown || !k || !val) {
		free(k);
		free(val);
		sysg_yw_nomem(w);
		return -1;
	}
	(*v)[(*n)++] = (struct sysg_kv){ .key = k, .value = val, .mark = m };
	return 0;
}

/* The text of a scalar value for an env var or a strategy option
 * (YAML null is ""). NULL after reporting. */
static const char *value_text(struct sysg_yw *w, yaml_node_t *v)
{
	char d[96];
	const char *s = sysg_yw_scalar(v);

	if (sysg_yw_is_null(v))
		return "";
	if (!s) {
		sysg_yw_error(w, v, "expected a value (text or a number), found %s",
			      sysg_yw_describe(v, d, sizeof(d)));
		return NULL;
	}
	if (strlen(s) != v->data.scalar.length) {
		sysg_yw_error(w, v, "expected text without NUL characters");
		return NULL;
	}
	return sysg_yw_value(w, v);     /* NULL after reporting */
}

static void h_vars(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v, void *p)
{
	struct sysg_env_spec *e = p;
	struct sysg_yw_pair *pairs;
	size_t n;
	char q[80];

	(void)k;
	if (sysg_yw_map_pairs(w, v, &pairs, &n))
		return;
	for (size_t i = 0; i < n && !w->aborted; i++) {
		size_t old = sysg_yw_push_key(w, pairs[i].name);
		const char *val = value_text(w, pairs[i].val);

		if (!sysg_env_valid_name(pairs[i].name))
			sysg_yw_error(w, pairs[i].key,
				      "invalid variable name '%s' (letters, digits and '_', not starting with a digit)",
				      sysg_yw_quote(pairs[i].name, q, sizeof(q)));
		else if (val)
			kv_append(w, &e->vars, &e->nvars, pairs[i].name, val,
				  mark_of(pairs[i].val));
		sysg_yw_pop(w, old);
	}
	free(pairs);
}

static void h_env_file(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		       void *p)
{
	struct sysg_env_spec *e = p;

	h_nonempty(w, k, v, &e->file);
	e->file_mark = mark_of(k);
}

static const struct sysg_yw_field env_fields[] = {
	{ "file", h_env_file, 0, 0 },
	{ "vars", h_vars, 0, 0 },
	{ NULL, NULL, 0, 0 },
};

/* systemg 0.32's flattened form: any other key of `env` is a variable
 * (`env: { file: x.env, PORT: "8000" }`), unless it looks like a
 * misspelt `file` or `vars`. */
static int env_entry(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		     void *obj)
{
	static const char *const keys[] = { "file", "vars", NULL };
	struct sysg_env_spec *e = obj;
	const char *name = sysg_yw_scalar(k), *val;
	char q[80];

	if (strspn(name, "abcdefghijklmnopqrstuvwxyz") == strlen(name) &&
	    sysg_yw_misspelt(name, keys))
		return 0;
	val = value_text(w, v);
	if (!sysg_env_valid_name(name))
		sysg_yw_error(w, k, "invalid variable name '%s' (letters, digits and '_', not starting with a digit)",
			      sysg_yw_quote(name, q, sizeof(q)));
	else if (val)
		kv_append(w, &e->vars, &e->nvars, name, val, mark_of(v));
	return 1;
}

/* The env block is read as written: its values are expanded by the
 * pre-pass (expand.h), whose results the loader puts in its place. */
static void h_env(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v, void *p)
{
	int mode = sysg_yw_set_mode(w, SYSG_YW_RAW);

	sysg_yw_walk_map(w, k, v, env_fields, p, env_entry);
	sysg_yw_set_mode(w, mode);
}

/* ------------------------------------------------------- health check */

static const struct sysg_yw_field health_fields[] = {
	{ "command", h_command, offsetof(struct sysg_health, command), 0 },
	{ "url", h_url, offsetof(struct sysg_health, url), 0 },
	{ "interval", h_dur, offsetof(struct sysg_health, interval_ms), 0 },
	{ "timeout", h_dur, offsetof(struct sysg_health, timeout_ms), 0 },
	{ "retries", h_retries, offsetof(struct sysg_health, retries), 0 },
	{ NULL, NULL, 0, 0 },
};

static void h_health(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		     void *p)
{
	struct sysg_health *h = p;
	uint64_t seen;

	h->present = 1;
	h->mark = mark_of(k);
	seen = sysg_yw_walk_map(w, k, v, health_fields, h, NULL);
	if (v->type != YAML_MAPPING_NODE || w->aborted)
		return;
	if ((seen & 3) == 3)
		sysg_yw_error(w, k, "set either 'command' or 'url', not both");
	else if (!(seen & 3))
		sysg_yw_error(w, k, "needs a 'command' or a 'url'");
}

static void health_defaults(struct sysg_health *h)
{
	h->interval_ms = SYSG_HEALTH_INTERVAL_MS;
	h->timeout_ms = SYSG_HEALTH_TIMEOUT_MS;
	h->retries = SYSG_HEALTH_RETRIES;
}

/* -------------------------------------------------------------- hooks */

static const struct sysg_yw_field hook_fields[] = {
	{ "command", h_command, offsetof(struct sysg_hook, command),
	  SYSG_YW_REQUIRED },
	{ "timeout", h_dur, offsetof(struct sysg_hook, timeout_ms), 0 },
	{ NULL, NULL, 0, 0 },
};

static void h_hook(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v, void *p)
{
	struct sysg_hook *h = p;
	char d[96];

	if (v->type == YAML_SCALAR_NODE)
		h_command(w, k, v, &h->command);
	else if (v->type == YAML_MAPPING_NODE)
		sysg_yw_walk_map(w, k, v, hook_fields, h, NULL);
	else
		sysg_yw_error(w, v, "expected a command or a map with 'command', found %s",
			      sysg_yw_describe(v, d, sizeof(d)));
}

static const struct sysg_yw_field hook_pair_fields[] = {
	{ "success", h_hook, offsetof(struct sysg_hook_pair, success), 0 },
	{ "error", h_hook, offsetof(struct sysg_hook_pair, error), 0 },
	{ NULL, NULL, 0, 0 },
};

static void h_hook_pair(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			void *p)
{
	sysg_yw_walk_map(w, k, v, hook_pair_fields, p, NULL);
}

static const struct sysg_yw_field hooks_fields[] = {
	{ "on_start", h_hook_pair, offsetof(struct sysg_hooks, on_start), 0 },
	{ "on_stop", h_hook_pair, offsetof(struct sysg_hooks, on_stop), 0 },
	{ "on_restart", h_hook_pair, offsetof(struct sysg_hooks, on_restart), 0 },
	{ NULL, NULL, 0, 0 },
};

static void h_hooks(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		    void *p)
{
	sysg_yw_walk_map(w, k, v, hooks_fields, p, NULL);
}

/* --------------------------------------------------------- deployment */

static void h_strategy(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		       void *p)
{
	struct sysg_deployment *d = p;

	h_plugin_name(w, k, v, &d->strategy);
	d->strategy_mark = mark_of(v);
}

/* The values of list V joined with ','; NULL when reported. */
static char *join_list(struct sysg_yw *w, yaml_node_t *v)
{
	yaml_node_t **items;
	size_t n;
	char *joined = NULL;

	if (sysg_yw_list(w, v, 0, &items, &n))
		return NULL;
	joined = strdup("");
	for (size_t i = 0; joined && i < n; i++) {
		size_t old = sysg_yw_push_index(w, i);
		const char *s = value_text(w, items[i]);
		char *grown = NULL;

		sysg_yw_pop(w, old);
		if (s && asprintf(&grown, "%s%s%s", joined, i ? "," : "",
				  s) < 0)
			grown = NULL;
		free(joined);
		joined = grown;
		if (!s)
			goto out;
		if (!joined)
			sysg_yw_nomem(w);
	}
	if (!joined)
		sysg_yw_nomem(w);
out:
	free(items);
	return joined;
}

/* Where each item of list V is, so that a strategy can blame one. */
static void item_marks(struct sysg_yw *w, struct sysg_kv *kv, yaml_node_t *v)
{
	yaml_node_item_t *it = v->data.sequence.items.start;
	size_t n = (size_t)(v->data.sequence.items.top - it);

	kv->item_marks = n ? calloc(n, sizeof(*kv->item_marks)) : NULL;
	if (n && !kv->item_marks) {
		sysg_yw_nomem(w);
		return;
	}
	kv->nitems = n;
	for (size_t i = 0; i < n; i++)
		kv->item_marks[i] = mark_of(yaml_document_get_node(w->doc,
								   it[i]));
}

/* One strategy option: a scalar, or a list of scalars joined with ','.
 * An option named *command is run by a shell: its references stay the
 * shell's (expand.h). */
static void option_value(struct sysg_yw *w, struct sysg_kv **kv, size_t *n,
			 const struct sysg_yw_pair *pr)
{
	size_t len = strlen(pr->name);
	int shell = len >= 7 && !strcmp(pr->name + len - 7, "command");
	int mode = sysg_yw_set_mode(w, shell ? SYSG_YW_SHELL : w->mode);
	const char *s;
	char *joined;

	if (pr->val->type != YAML_SEQUENCE_NODE) {
		s = value_text(w, pr->val);
		if (s)
			kv_append(w, kv, n, pr->name, s, mark_of(pr->val));
		sysg_yw_set_mode(w, mode);
		return;
	}
	joined = join_list(w, pr->val);
	if (joined && kv_append(w, kv, n, pr->name, joined,
				mark_of(pr->val)) == 0)
		item_marks(w, &(*kv)[*n - 1], pr->val);
	free(joined);
	sysg_yw_set_mode(w, mode);
}

static void options_from_pairs(struct sysg_yw *w,
			       struct sysg_strategy_section *sec,
			       const struct sysg_yw_pair *pairs, size_t n)
{
	for (size_t i = 0; i < n && !w->aborted; i++) {
		size_t old = sysg_yw_push_key(w, pairs[i].name);

		option_value(w, &sec->options, &sec->noptions, &pairs[i]);
		sysg_yw_pop(w, old);
	}
}

static const struct sysg_yw_field deployment_fields[] = {
	{ "strategy", h_strategy, 0, 0 },
	{ "pre_start", h_command, offsetof(struct sysg_deployment, pre_start), 0 },
	{ "health_check", h_health, offsetof(struct sysg_deployment, health), 0 },
	{ "grace_period", h_dur,
	  offsetof(struct sysg_deployment, grace_period_ms), 0 },
	{ "drain", h_dur, offsetof(struct sysg_deployment, drain_ms), 0 },
	{ "timeout", h_dur, offsetof(struct sysg_deployment, timeout_ms), 0 },
	{ "min_healthy_time", h_dur,
	  offsetof(struct sysg_deployment, min_healthy_time_ms), 0 },
	{ NULL, NULL, 0, 0 },
};

/* KEY is (a likely typo of) one of the deployment section's own keys. */
static int near_deployment_field(const char *key)
{
	const char *names[sizeof(deployment_fields) /
			  sizeof(deployment_fields[0])];
	size_t n = 0;

	for (const struct sysg_yw_field *f = deployment_fields; f->key; f++)
		names[n++] = f->key;
	names[n] = NULL;
	return sysg_yw_suggest(key, names) != NULL;
}

/* deployment.<name>: {...} holds the settings of strategy <name>, whether
 * or not it is the configured one (`deploy --strategy X` uses X's): kept
 * as key/values with positions, checked by the strategy plugin itself
 * (its check_config, run by `sysg validate` and before deploys). The core
 * knows no strategy's keys. Returns 0 to have KEY reported as unknown: a
 * value that is not a map, a likely typo of a deployment key, or a name
 * that cannot be a plugin's. */
static int deployment_section(struct sysg_yw *w, yaml_node_t *k,
			      yaml_node_t *v, void *obj)
{
	struct sysg_deployment *d = obj;
	const char *name = sysg_yw_scalar(k);
	struct sysg_strategy_section *grown, *sec;
	struct sysg_yw_pair *pairs;
	size_t n;

	if (!name || !*name || strlen(name) > MAX_PLUGIN_NAME_LEN ||
	    !valid_name_chars(name, "_-") || near_deployment_field(name) ||
	    (v->type != YAML_MAPPING_NODE && !sysg_yw_is_null(v)))
		return 0;
	grown = realloc(d->sections, (d->nsections + 1) * sizeof(*grown));
	if (!grown) {
		sysg_yw_nomem(w);
		return 1;
	}
	d->sections = grown;
	sec = &d->sections[d->nsections];
	memset(sec, 0, sizeof(*sec));
	sec->mark = mark_of(k);
	if (!(sec->name = strdup(name))) {
		sysg_yw_nomem(w);
		return 1;
	}
	d->nsections++;
	if (sysg_yw_is_null(v) || sysg_yw_map_pairs(w, v, &pairs, &n))
		return 1;
	options_from_pairs(w, sec, pairs, n);
	free(pairs);
	return 1;
}

/* The strategy must be known before its options map is met, wherever the
 * two keys are written. */
static void prescan_strategy(struct sysg_yw *w, struct sysg_deployment *d,
			     const struct sysg_yw_pair *pairs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *s = sysg_yw_scalar(pairs[i].val);
		char *copy;

		if (strcmp(pairs[i].name, "strategy") || !s)
			continue;
		copy = strdup(s);
		if (!copy) {
			sysg_yw_nomem(w);
			return;
		}
		free(d->strategy);
		d->strategy = copy;
	}
}

const struct sysg_strategy_section *
sysg_deployment_section(const struct sysg_deployment *d, const char *name)
{
	for (size_t i = 0; name && i < d->nsections; i++)
		if (!strcmp(d->sections[i].name, name))
			return &d->sections[i];
	return NULL;
}

const char *sysg_deployment_option(const struct sysg_deployment *d,
				   const char *name, const char *key)
{
	const struct sysg_strategy_section *sec =
		sysg_deployment_section(d, name);

	for (size_t i = 0; sec && i < sec->noptions; i++)
		if (!strcmp(sec->options[i].key, key))
			return sec->options[i].value;
	return NULL;
}

static void h_deployment(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			 void *p)
{
	struct sysg_deployment *d = p;
	const struct sysg_strategy_section *sec;
	struct sysg_yw_pair *pairs;
	size_t n;

	if (sysg_yw_map_pairs(w, v, &pairs, &n))
		return;
	prescan_strategy(w, d, pairs, n);
	sysg_yw_walk_pairs(w, k, v, pairs, n, deployment_fields, d,
			   deployment_section);
	free(pairs);
	sec = sysg_deployment_section(d, d->strategy);
	if (sec) {
		d->options = sec->options;
		d->noptions = sec->noptions;
		d->options_mark = sec->mark;
	}
}

/* --------------------------------------------------------------- cron */

static void h_cron_expr(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			void *p)
{
	char **out = p, err[SYSG_ERR_MAX], q[80];
	struct sysg_cron_expr e;

	(void)k;
	if (sysg_yw_string(w, v, out))
		return;
	if (sysg_cron_parse(*out, &e, err, sizeof(err)) == 0)
		return;
	sysg_yw_error(w, v, "invalid cron expression '%s': %s",
		      sysg_yw_quote(*out, q, sizeof(q)), err);
}

static void h_timezone(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		       void *p)
{
	char **out = p, q[80];

	(void)k;
	if (sysg_yw_string(w, v, out) == 0 && !sysg_cron_valid_timezone(*out))
		sysg_yw_error(w, v, "unknown time zone '%s' (expected an IANA name like Europe/Paris, or UTC)",
			      sysg_yw_quote(*out, q, sizeof(q)));
}

static const struct sysg_yw_field cron_fields[] = {
	{ "expression", h_cron_expr, offsetof(struct sysg_cron, expression),
	  SYSG_YW_REQUIRED },
	{ "timezone", h_timezone, offsetof(struct sysg_cron, timezone), 0 },
	{ NULL, NULL, 0, 0 },
};

static void h_cron(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v, void *p)
{
	struct sysg_cron *c = p;
	char d[96];

	c->present = 1;
	c->mark = mark_of(k);
	if (v->type == YAML_SCALAR_NODE)
		h_cron_expr(w, k, v, &c->expression);
	else if (v->type == YAML_MAPPING_NODE)
		sysg_yw_walk_map(w, k, v, cron_fields, c, NULL);
	else
		sysg_yw_error(w, v, "expected a cron expression or a map with 'expression', found %s",
			      sysg_yw_describe(v, d, sizeof(d)));
}

/* -------------------------------------------------------------- spawn */

static void h_spawn_mode(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			 void *p)
{
	static const char *const modes[] = { "static", "dynamic", NULL };

	(void)k;
	one_of(w, v, modes, "static or dynamic", p);
}

static void h_termination(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			  void *p)
{
	static const char *const names[] = { "cascade", "orphan", "reparent",
					     NULL };
	int i = -1;

	(void)k;
	one_of(w, v, names, "cascade, orphan or reparent", &i);
	if (i >= 0)
		*(enum sysg_termination_policy *)p = (enum sysg_termination_policy)i;
}

static const struct sysg_yw_field spawn_limit_fields[] = {
	{ "children", h_count, offsetof(struct sysg_spawn, children), 0 },
	{ "depth", h_count, offsetof(struct sysg_spawn, depth), 0 },
	{ "descendants", h_count, offsetof(struct sysg_spawn, descendants), 0 },
	{ "total_memory", h_size, offsetof(struct sysg_spawn, total_memory), 0 },
	{ "termination_policy", h_termination,
	  offsetof(struct sysg_spawn, termination_policy), 0 },
	{ NULL, NULL, 0, 0 },
};

static void h_spawn_limits(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			   void *p)
{
	sysg_yw_walk_map(w, k, v, spawn_limit_fields, p, NULL);
}

static const struct sysg_yw_field spawn_fields[] = {
	{ "mode", h_spawn_mode, offsetof(struct sysg_spawn, dynamic), 0 },
	{ "limits", h_spawn_limits, 0, 0 },
	{ NULL, NULL, 0, 0 },
};

static void h_spawn(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		    void *p)
{
	struct sysg_spawn *s = p;

	s->present = 1;
	sysg_yw_walk_map(w, k, v, spawn_fields, s, NULL);
}

/* ------------------------------------------------ privileged settings */

static int is_unlimited(const yaml_node_t *v)
{
	const char *s = sysg_yw_scalar(v);

	return s && (!strcasecmp(s, "unlimited") || !strcasecmp(s, "infinity"));
}

static void h_rlimit(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		     void *p)
{
	long long x;

	(void)k;
	if (is_unlimited(v))
		*(int64_t *)p = SYSG_LIMIT_UNLIMITED;
	else if (sysg_yw_int(w, v, 0, INT64_MAX - 1, &x) == 0)
		*(int64_t *)p = x;
}

static void h_memlock(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		      void *p)
{
	(void)k;
	if (is_unlimited(v))
		*(int64_t *)p = SYSG_LIMIT_UNLIMITED;
	else
		sysg_yw_size(w, v, p);
}

static void h_nice(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v, void *p)
{
	struct sysg_limits *l = p;

	(void)k;
	int_in(w, v, -20, 19, &l->nice);
	l->has_nice = 1;
}

static void h_cpus(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v, void *p)
{
	struct sysg_limits *l = p;
	yaml_node_t **items;
	size_t n;

	(void)k;
	if (sysg_yw_list(w, v, 1, &items, &n))
		return;
	free(l->cpu_affinity);
	l->ncpu_affinity = 0;
	l->cpu_affinity = calloc(n ? n : 1, sizeof(int));
	if (!l->cpu_affinity)
		sysg_yw_nomem(w);
	for (size_t i = 0; l->cpu_affinity && i < n; i++) {
		size_t old = v == items[i] ? w->pathlen :
			     sysg_yw_push_index(w, i);
		long long c;

		if (sysg_yw_int(w, items[i], 0, MAX_CPU, &c) == 0)
			l->cpu_affinity[l->ncpu_affinity++] = (int)c;
		sysg_yw_pop(w, old);
	}
	free(items);
}

static void h_memory_max(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			 void *p)
{
	(void)k;
	if (sysg_yw_scalar(v) && !strcmp(sysg_yw_scalar(v), "max"))
		*(int64_t *)p = SYSG_LIMIT_UNLIMITED;
	else
		sysg_yw_size(w, v, p);
}

static void h_pids_max(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		       void *p)
{
	if (sysg_yw_scalar(v) && !strcmp(sysg_yw_scalar(v), "max"))
		*(int64_t *)p = SYSG_LIMIT_UNLIMITED;
	else
		h_rlimit(w, k, v, p);
}

/* cgroup v2 cpu.max: "QUOTA PERIOD" or "max PERIOD" (microseconds); the
 * period may be left out (the kernel keeps 100000). */
static int valid_cpu_max(const char *s)
{
	char quota[32], period[32], extra[2];
	long long q, per = 100000;
	int n = sscanf(s, " %31s %31s %1s", quota, period, extra);

	if (n < 1 || n > 2)
		return 0;
	if (strcmp(quota, "max") &&
	    (sysg_yw_parse_ll(quota, &q) || q < 1000))
		return 0;
	if (n == 2 && (sysg_yw_parse_ll(period, &per) || per < 1000 ||
		       per > 1000000))
		return 0;
	return 1;
}

static void h_cpu_max(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		      void *p)
{
	char **out = p, q[80];

	(void)k;
	if (sysg_yw_string(w, v, out) == 0 && !valid_cpu_max(*out))
		sysg_yw_error(w, v, "expected \"QUOTA PERIOD\" or \"max PERIOD\" in microseconds (quota >= 1000, period 1000..1000000), found '%s'",
			      sysg_yw_quote(*out, q, sizeof(q)));
}

static void h_cpu_weight(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			 void *p)
{
	(void)k;
	int_in(w, v, 1, 10000, p);
}

static const struct sysg_yw_field cgroup_fields[] = {
	{ "root", h_nonempty, offsetof(struct sysg_cgroup_limits, root), 0 },
	{ "memory_max", h_memory_max,
	  offsetof(struct sysg_cgroup_limits, memory_max), 0 },
	{ "cpu_max", h_cpu_max, offsetof(struct sysg_cgroup_limits, cpu_max), 0 },
	{ "cpu_weight", h_cpu_weight,
	  offsetof(struct sysg_cgroup_limits, cpu_weight), 0 },
	{ "pids_max", h_pids_max, offsetof(struct sysg_cgroup_limits, pids_max),
	  0 },
	{ NULL, NULL, 0, 0 },
};

static void h_cgroup(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		     void *p)
{
	((struct sysg_cgroup_limits *)p)->mark = mark_of(k);
	sysg_yw_walk_map(w, k, v, cgroup_fields, p, NULL);
}

static const struct sysg_yw_field limits_fields[] = {
	{ "nofile", h_rlimit, offsetof(struct sysg_limits, nofile), 0 },
	{ "nproc", h_rlimit, offsetof(struct sysg_limits, nproc), 0 },
	{ "memlock", h_memlock, offsetof(struct sysg_limits, memlock), 0 },
	{ "core", h_memlock, offsetof(struct sysg_limits, core), 0 },
	{ "nice", h_nice, 0, 0 },
	{ "cpu_affinity", h_cpus, 0, 0 },
	{ "cgroup", h_cgroup, offsetof(struct sysg_limits, cgroup), 0 },
	{ NULL, NULL, 0, 0 },
};

/* Linux capability names, in the kernel's numbering (0..40). */
static const char *const cap_names[] = {
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID",
	"KILL", "SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE",
	"NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT",
	"SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
	"SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE",
	"AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE",
	"MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ",
	"PERFMON", "BPF", "CHECKPOINT_RESTORE", NULL,
};

/* Rewrite a capability name as "CAP_NAME" (any case, prefix optional);
 * 0, or -1 when it is not a known capability. */
static int normalize_cap(char **name)
{
	const char *s = *name;
	char *out;

	if (!strncasecmp(s, "CAP_", 4))
		s += 4;
	for (size_t i = 0; cap_names[i]; i++) {
		if (strcasecmp(s, cap_names[i]))
			continue;
		if (asprintf(&out, "CAP_%s", cap_names[i]) < 0)
			return -2;
		free(*name);
		*name = out;
		return 0;
	}
	return -1;
}

#define NCAPS (sizeof(cap_names) / sizeof(cap_names[0]) - 1)

int sysg_cap_number(const char *name)
{
	if (!strncasecmp(name, "CAP_", 4))
		name += 4;
	for (size_t i = 0; i < NCAPS; i++)
		if (!strcasecmp(name, cap_names[i]))
			return (int)i;
	return -1;
}

/* The CAP_ name closest to S, in BUF, or NULL. */
static const char *cap_suggest(const char *s, char *buf, size_t len)
{
	char full[NCAPS][32];
	const char *names[NCAPS + 1];
	const char *best;

	for (size_t i = 0; i < NCAPS; i++) {
		snprintf(full[i], sizeof(full[i]), "CAP_%s", cap_names[i]);
		names[i] = full[i];
	}
	names[NCAPS] = NULL;
	best = sysg_yw_suggest(s, names);
	if (!best)
		return NULL;
	snprintf(buf, len, "%s", best);
	return buf;
}

static int check_cap(struct sysg_yw *w, yaml_node_t *item, char **name)
{
	const char *hint;
	char q[80], buf[32];
	int rc = normalize_cap(name);

	if (rc == -2)
		sysg_yw_nomem(w);
	if (rc != -1)
		return rc;
	hint = cap_suggest(*name, buf, sizeof(buf));
	sysg_yw_error(w, item, "unknown capability '%s'%s%s%s",
		      sysg_yw_quote(*name, q, sizeof(q)),
		      hint ? " (did you mean '" : "", hint ? hint : "",
		      hint ? "'?)" : "");
	return -1;
}

static void mark_privileged(struct sysg_service *s, const yaml_node_t *k,
			    enum sysg_priv_key key)
{
	if (!s->privileged_mark.line)
		s->privileged_mark = mark_of(k);
	s->priv_marks[key] = mark_of(k);
}

static void h_user(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v, void *p)
{
	mark_privileged(p, k, SYSG_PRIV_USER);
	h_nonempty(w, k, v, &((struct sysg_service *)p)->user);
}

static void h_group(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		    void *p)
{
	mark_privileged(p, k, SYSG_PRIV_GROUP);
	h_nonempty(w, k, v, &((struct sysg_service *)p)->group);
}

static void h_groups(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		     void *p)
{
	struct sysg_service *s = p;

	mark_privileged(s, k, SYSG_PRIV_SUPP_GROUPS);
	string_list(w, v, 1, NULL, &s->supplementary_groups, NULL,
		    &s->nsupplementary_groups);
}

static void h_limits(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		     void *p)
{
	struct sysg_service *s = p;

	mark_privileged(s, k, SYSG_PRIV_LIMITS);
	s->limits.present = 1;
	sysg_yw_walk_map(w, k, v, limits_fields, &s->limits, NULL);
}

static void h_caps(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v, void *p)
{
	struct sysg_service *s = p;

	mark_privileged(s, k, SYSG_PRIV_CAPS);
	string_list(w, v, 1, check_cap, &s->capabilities, NULL,
		    &s->ncapabilities);
}

/* --------------------------------------------------------------- logs */

static void h_logs_max_size(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			    void *p)
{
	struct sysg_logs *l = p;

	(void)k;
	if (sysg_yw_size(w, v, &l->max_size) == 0)
		l->has_max_size = 1;
}

static void h_logs_keep(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			void *p)
{
	struct sysg_logs *l = p;

	int_in(w, v, 1, 1000, &l->keep);
	l->has_keep = 1;
	(void)k;
}

static void h_logs_compress(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			    void *p)
{
	struct sysg_logs *l = p;

	h_bool(w, k, v, &l->compress);
	l->has_compress = 1;
}

static const struct sysg_yw_field logs_fields[] = {
	{ "max_size", h_logs_max_size, 0, 0 },
	{ "keep", h_logs_keep, 0, 0 },
	{ "compress", h_logs_compress, 0, 0 },
	{ NULL, NULL, 0, 0 },
};

static void h_logs(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v, void *p)
{
	sysg_yw_walk_map(w, k, v, logs_fields, p, NULL);
}

static const struct sysg_yw_field isolation_fields[] = {
	{ "network", h_bool, offsetof(struct sysg_isolation, network), 0 },
	{ "pid", h_bool, offsetof(struct sysg_isolation, pid), 0 },
	{ "mount", h_bool, offsetof(struct sysg_isolation, mount), 0 },
	{ "user", h_bool, offsetof(struct sysg_isolation, user), 0 },
	{ "seccomp", h_nonempty, offsetof(struct sysg_isolation, seccomp), 0 },
	{ "apparmor_profile", h_nonempty,
	  offsetof(struct sysg_isolation, apparmor_profile), 0 },
	{ "selinux_context", h_nonempty,
	  offsetof(struct sysg_isolation, selinux_context), 0 },
	{ "private_devices", h_bool,
	  offsetof(struct sysg_isolation, private_devices), 0 },
	{ "private_tmp", h_bool, offsetof(struct sysg_isolation, private_tmp), 0 },
	{ NULL, NULL, 0, 0 },
};

static void h_isolation(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			void *p)
{
	struct sysg_service *s = p;

	mark_privileged(s, k, SYSG_PRIV_ISOLATION);
	s->isolation.present = 1;
	sysg_yw_walk_map(w, k, v, isolation_fields, &s->isolation, NULL);
}

/* ------------------------------------------------------------- listen */

static void h_listen_address(struct sysg_yw *w, yaml_node_t *k,
			     yaml_node_t *v, void *p)
{
	struct sysg_listen *l = p;
	char err[SYSG_ERR_MAX];

	(void)k;
	if (sysg_yw_string(w, v, &l->address))
		return;
	if (sysg_listen_parse(l, err, sizeof(err)) < 0)
		sysg_yw_error(w, v, "%s", err);
}

static void h_listen_name(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			  void *p)
{
	char **name = p, q[80];

	(void)k;
	if (sysg_yw_string(w, v, name) == 0 && !sysg_listen_name_ok(*name))
		sysg_yw_error(w, v, "invalid socket name '%s' (1-%d printable "
			      "characters, no ':' or blanks)",
			      sysg_yw_quote(*name, q, sizeof(q)),
			      SYSG_LISTEN_NAME_MAX);
}

static void h_backlog(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		      void *p)
{
	(void)k;
	int_in(w, v, 1, INT_MAX, p);
}

static void h_listen_mode(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			  void *p)
{
	const char *s = sysg_yw_value(w, v);
	char *end, d[96];
	long m;

	(void)k;
	if (!s)
		return;
	errno = 0;
	m = strtol(s, &end, 8);
	if (!*s || *end || errno || m < 0 || m > 07777)
		sysg_yw_error(w, v, "expected an octal mode such as 0660, "
			      "found %s", sysg_yw_describe(v, d, sizeof(d)));
	else
		*(int *)p = (int)m;
}

static const struct sysg_yw_field listen_fields[] = {
	{ "address", h_listen_address, 0, SYSG_YW_REQUIRED },
	{ "name", h_listen_name, offsetof(struct sysg_listen, name), 0 },
	{ "backlog", h_backlog, offsetof(struct sysg_listen, backlog), 0 },
	{ "mode", h_listen_mode, offsetof(struct sysg_listen, mode), 0 },
	{ "owner", h_nonempty, offsetof(struct sysg_listen, owner), 0 },
	{ NULL, NULL, 0, 0 },
};

static void listen_item(struct sysg_yw *w, yaml_node_t *item,
			struct sysg_listen *l, const char *svc)
{
	l->backlog = SYSG_LISTEN_BACKLOG;
	l->mode = -1;
	l->line = sysg_yw_line(item);
	l->col = sysg_yw_col(item);
	if (item->type == YAML_MAPPING_NODE)
		sysg_yw_walk_map(w, NULL, item, listen_fields, l, NULL);
	else
		h_listen_address(w, NULL, item, l);
	if (!l->name && !(l->name = strdup(svc)))
		sysg_yw_nomem(w);
	if (l->address && l->kind != SYSG_LISTEN_UNIX &&
	    (l->mode >= 0 || l->owner))
		sysg_yw_error(w, item, "'mode' and 'owner' are for unix sockets");
}

static void h_listen(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		     void *p)
{
	struct sysg_service *s = p;
	yaml_node_t **items;
	size_t cnt;

	(void)k;
	if (sysg_yw_list(w, v, 1, &items, &cnt))
		return;
	if (cnt > SYSG_LISTEN_MAX) {
		sysg_yw_error(w, v, "at most %d sockets per service",
			      SYSG_LISTEN_MAX);
		free(items);
		return;
	}
	s->listen = calloc(cnt + 1, sizeof(*s->listen));
	if (!s->listen) {
		free(items);
		sysg_yw_nomem(w);
		return;
	}
	for (size_t i = 0; i < cnt && !w->aborted; i++) {
		size_t old = v == items[i] ? w->pathlen :
			     sysg_yw_push_index(w, i);

		listen_item(w, items[i], &s->listen[s->nlisten++], s->name);
		sysg_yw_pop(w, old);
	}
	free(items);
}

static void h_instances(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			void *p)
{
	(void)k;
	int_in(w, v, 1, SYSG_INSTANCES_MAX, p);
}

/* `readiness: notify` (the only mode so far; the default is the
 * health_check / ready_after rule). */
static void h_readiness(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			void *p)
{
	static const char *const names[] = { "notify", NULL };
	int i = -1;

	(void)k;
	one_of(w, v, names, "notify", &i);
	*(int *)p = i == 0;
}

/* ------------------------------------------------------------ service */

static void h_depends_on(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			 void *p)
{
	struct sysg_service *s = p;

	(void)k;
	string_list(w, v, 1, NULL, &s->depends_on, &s->depends_on_marks,
		    &s->ndepends_on);
}

static void h_restart_policy(struct sysg_yw *w, yaml_node_t *k,
			     yaml_node_t *v, void *p)
{
	static const char *const names[] = { "never", "on-failure", "always",
					     "on_failure", NULL };
	int i = -1;

	(void)k;
	one_of(w, v, names, "always, on-failure or never", &i);
	if (i >= 0)
		*(enum sysg_restart_policy *)p = i == 3 ?
			SYSG_RESTART_ON_FAILURE : (enum sysg_restart_policy)i;
}

static void h_skip(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v, void *p)
{
	struct sysg_service *s = p;
	const char *text = sysg_yw_scalar(v);
	char d[96];

	if (!text) {
		sysg_yw_error(w, v, "expected true, false or a command, found %s",
			      sysg_yw_describe(v, d, sizeof(d)));
		return;
	}
	if (sysg_yw_parse_bool(text, &s->skip) == 0)
		return;
	h_command(w, k, v, &s->skip_command);
}

/* The service's command: as written (command_raw) and ready to spawn
 * (command: exec'd directly with sysg's expansion when it has no shell
 * syntax, else with its references left for the shell). */
static void h_service_command(struct sysg_yw *w, yaml_node_t *k,
			      yaml_node_t *v, void *p)
{
	struct sysg_service *s = p;
	int mode = sysg_yw_set_mode(w, SYSG_YW_RAW);

	nonblank_string(w, v, &s->command_raw, "command");
	sysg_yw_set_mode(w, SYSG_YW_COMMAND);
	if (non_blank(s->command_raw))
		sysg_yw_string(w, v, &s->command);
	sysg_yw_set_mode(w, mode);
	(void)k;
}

static const struct sysg_yw_field service_fields[] = {
	{ "command", h_service_command, 0, SYSG_YW_REQUIRED },
	{ "env", h_env, offsetof(struct sysg_service, env), 0 },
	{ "depends_on", h_depends_on, 0, 0 },
	{ "restart_policy", h_restart_policy,
	  offsetof(struct sysg_service, restart_policy), 0 },
	{ "backoff", h_dur, offsetof(struct sysg_service, backoff_ms), 0 },
	{ "max_restarts", h_count,
	  offsetof(struct sysg_service, max_restarts), 0 },
	{ "stop_timeout", h_dur, offsetof(struct sysg_service, stop_timeout_ms), 0 },
	{ "ready_after", h_dur, offsetof(struct sysg_service, ready_after_ms), 0 },
	{ "health_check", h_health, offsetof(struct sysg_service, health), 0 },
	{ "skip", h_skip, 0, 0 },
	{ "hooks", h_hooks, offsetof(struct sysg_service, hooks), 0 },
	{ "deployment", h_deployment, offsetof(struct sysg_service, deployment), 0 },
	{ "cron", h_cron, offsetof(struct sysg_service, cron), 0 },
	{ "spawn", h_spawn, offsetof(struct sysg_service, spawn), 0 },
	{ "user", h_user, 0, 0 },
	{ "group", h_group, 0, 0 },
	{ "supplementary_groups", h_groups, 0, 0 },
	{ "limits", h_limits, 0, 0 },
	{ "capabilities", h_caps, 0, 0 },
	{ "isolation", h_isolation, 0, 0 },
	{ "listen", h_listen, 0, 0 },
	{ "readiness", h_readiness,
	  offsetof(struct sysg_service, readiness_notify), 0 },
	{ "watchdog", h_dur, offsetof(struct sysg_service, watchdog_ms), 0 },
	{ "instances", h_instances, offsetof(struct sysg_service, instances),
	  0 },
	{ "logs", h_logs, offsetof(struct sysg_service, logs), 0 },
	{ NULL, NULL, 0, 0 },
};

static void hook_defaults(struct sysg_hook_pair *p)
{
	p->success.timeout_ms = SYSG_HOOK_TIMEOUT_MS;
	p->error.timeout_ms = SYSG_HOOK_TIMEOUT_MS;
}

static int service_defaults(struct sysg_service *s)
{
	s->restart_policy = SYSG_RESTART_NEVER;
	s->backoff_ms = SYSG_BACKOFF_MS;
	s->max_restarts = -1;
	s->stop_timeout_ms = SYSG_STOP_TIMEOUT_MS;
	s->deployment.timeout_ms = SYSG_DEPLOY_TIMEOUT_MS;
	s->ready_after_ms = SYSG_READY_AFTER_MS;
	health_defaults(&s->health);
	health_defaults(&s->deployment.health);
	hook_defaults(&s->hooks.on_start);
	hook_defaults(&s->hooks.on_stop);
	hook_defaults(&s->hooks.on_restart);
	s->spawn.children = s->spawn.depth = s->spawn.descendants = -1;
	s->spawn.total_memory = -1;
	s->limits.nofile = s->limits.nproc = s->limits.memlock = -1;
	s->limits.core = -1;
	s->limits.cgroup.memory_max = s->limits.cgroup.pids_max = -1;
	s->limits.cgroup.cpu_weight = -1;
	s->deployment.drain_ms = SYSG_DRAIN_MS;
	s->instances = 1;
	s->deployment.strategy = strdup("immediate");
	return s->deployment.strategy ? 0 : -ENOMEM;
}

/* L clashes with an earlier socket of S (up to index UPTO) or of an
 * earlier service: report it at L. */
static void listen_clash(struct sysg_yw *w, const struct sysg_listen *l,
			 const struct sysg_service *other, size_t upto)
{
	for (size_t j = 0; j < upto; j++)
		if (other->listen[j].address &&
		    sysg_listen_clash(l, &other->listen[j])) {
			sysg_yw_error_at(w, l->line, l->col, "'%s' is also "
					 "bound by service '%s' ('%s')",
					 l->address, other->name,
					 other->listen[j].address);
			return;
		}
}

static void check_listen(struct sysg_yw *w, struct sysg_service *s)
{
	char err[SYSG_ERR_MAX];
	size_t old = sysg_yw_push_key(w, "listen");
	int rc;

	for (size_t i = 0; i < s->nlisten; i++)
		if (s->listen[i].address)
			listen_clash(w, &s->listen[i], s, i);
	sysg_yw_pop(w, old);
	if (!s->command || !strstr(s->command, "{listen_fd:"))
		return;
	old = sysg_yw_push_key(w, "command");
	rc = sysg_listen_expand(&s->command, s->listen, s->nlisten, err,
				sizeof(err));
	if (rc == -ENOMEM)
		sysg_yw_nomem(w);
	else if (rc < 0)
		sysg_yw_error_at(w, s->mark.line, s->mark.col, "%s", err);
	sysg_yw_pop(w, old);
}

/* A and B are copies of one service (instances: N): they share its
 * sockets. */
static int same_service(const struct sysg_service *a,
			const struct sysg_service *b)
{
	return a->instance_of && b->instance_of &&
	       !strcmp(a->instance_of, b->instance_of);
}

/* No two services bind the same port or path. */
static void check_listen_across(struct sysg_yw *w, struct sysg_config *cfg)
{
	for (size_t i = 1; i < cfg->nservices; i++) {
		struct sysg_service *s = &cfg->services[i];
		size_t old = sysg_yw_push_key(w, s->name);
		size_t o2 = sysg_yw_push_key(w, "listen");

		for (size_t k = 0; k < s->nlisten; k++)
			for (size_t j = 0; s->listen[k].address && j < i; j++)
				if (!same_service(s, &cfg->services[j]))
					listen_clash(w, &s->listen[k],
						     &cfg->services[j],
						     cfg->services[j].nlisten);
		sysg_yw_pop(w, o2);
		sysg_yw_pop(w, old);
	}
}

static void check_service(struct sysg_yw *w, struct sysg_service *s)
{
	check_listen(w, s);
	if (s->cron.present && s->restart_policy == SYSG_RESTART_ALWAYS) {
		size_t old = sysg_yw_push_key(w, "cron");

		sysg_yw_error_at(w, s->cron.mark.line, s->cron.mark.col,
				 "a cron job cannot use restart_policy 'always' (it runs on its schedule)");
		sysg_yw_pop(w, old);
	}
}

static int valid_service_name(const char *s)
{
	return *s && strlen(s) <= MAX_NAME_LEN && valid_name_chars(s, "_.-");
}

static void walk_service(struct sysg_yw *w, struct sysg_service *s,
			 const struct sysg_yw_pair *pr)
{
	char q[80];

	if (service_defaults(s) || !(s->name = strdup(pr->name))) {
		sysg_yw_nomem(w);
		return;
	}
	s->mark = mark_of(pr->key);
	if (!valid_service_name(s->name))
		sysg_yw_error(w, pr->key, "invalid service name '%s' (use letters, digits, '_', '.', '-'; at most %d characters)",
			      sysg_yw_quote(s->name, q, sizeof(q)), MAX_NAME_LEN);
	sysg_yw_walk_map(w, pr->key, pr->val, service_fields, s, NULL);
	check_service(w, s);
}

/* The `instances:` a service's map says, when it is a plain number in
 * range (the walk reports anything else); 1 otherwise. */
static int prescan_instances(struct sysg_yw *w, yaml_node_t *map)
{
	if (map->type != YAML_MAPPING_NODE)
		return 1;
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
	     pr < map->data.mapping.pairs.top; pr++) {
		const char *key = sysg_yw_scalar(yaml_document_get_node(
			w->doc, pr->key));
		const char *val = sysg_yw_scalar(yaml_document_get_node(
			w->doc, pr->value));
		long long n;

		if (key && val && !strcmp(key, "instances") &&
		    sysg_yw_parse_ll(val, &n) == 0 && n >= 1 &&
		    n <= SYSG_INSTANCES_MAX)
			return (int)n;
	}
	return 1;
}

/* Copy K (0..) of a service with instances: N > 1 is the service
 * "NAME.K"; K -1: the service itself. Problems are reported once, for
 * the first copy. */
static void walk_copy(struct sysg_yw *w, struct sysg_service *s,
		      const struct sysg_yw_pair *pr, int k)
{
	struct sysg_diag quiet, *loud = w->diag;
	unsigned errors = w->errors;
	char *name;

	if (k > 0) {
		sysg_diag_init(&quiet);
		w->diag = &quiet;
	}
	walk_service(w, s, pr);
	if (k > 0) {
		w->diag = loud;
		w->errors = errors;
		sysg_diag_free(&quiet);
	}
	if (k < 0 && s->instances > 1) {
		size_t old = sysg_yw_push_key(w, "instances");

		sysg_yw_error_at(w, s->mark.line, s->mark.col, "write "
				 "'instances' in the service's own map (not "
				 "through '<<')");
		sysg_yw_pop(w, old);
	}
	if (k < 0 || !s->name)
		return;
	if (asprintf(&name, "%s.%d", s->name, k) < 0) {
		sysg_yw_nomem(w);
		return;
	}
	s->instance_of = s->name;
	s->name = name;
}

static void include_tag(struct sysg_yw *w, struct sysg_config_walk *cw,
			yaml_node_t *v, const char *project);

static void h_services(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		       void *p)
{
	struct sysg_config *cfg = ((struct sysg_config_walk *)p)->cfg;
	struct sysg_yw_pair *pairs;
	size_t n;

	(void)k;
	size_t total = 0;

	if (sysg_yw_is_include(v)) {
		include_tag(w, p, v, NULL);
		return;
	}
	if (sysg_yw_map_pairs(w, v, &pairs, &n))
		return;
	if (n == 0)
		sysg_yw_error(w, v, "expected at least one service");
	for (size_t i = 0; i < n; i++)
		total += (size_t)prescan_instances(w, pairs[i].val);
	cfg->services = calloc(total ? total : 1, sizeof(*cfg->services));
	if (!cfg->services)
		sysg_yw_nomem(w);
	for (size_t i = 0; cfg->services && i < n && !w->aborted; i++) {
		size_t old = sysg_yw_push_key(w, pairs[i].name);
		int copies = prescan_instances(w, pairs[i].val);

		for (int c = 0; c < copies && !w->aborted; c++) {
			if (((struct sysg_config_walk *)p)->x)
				sysg_expand_enter(((struct sysg_config_walk *)
						   p)->x, i);
			walk_copy(w, &cfg->services[cfg->nservices++],
				  &pairs[i], copies > 1 ? c : -1);
		}
		sysg_yw_pop(w, old);
	}
	if (((struct sysg_config_walk *)p)->x)
		sysg_expand_enter(((struct sysg_config_walk *)p)->x, SIZE_MAX);
	free(pairs);
	if (cfg->services && !w->aborted)
		check_listen_across(w, cfg);
}

/* --------------------------------------------------------------- root */

static void h_version(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		      void *p)
{
	struct sysg_config *cfg = ((struct sysg_config_walk *)p)->cfg;
	char q[80];

	(void)k;
	if (sysg_yw_string(w, v, &cfg->version))
		return;
	if (strcmp(cfg->version, "1"))
		sysg_yw_error(w, v, "unsupported version '%s' (this sysg reads version \"1\")",
			      sysg_yw_quote(cfg->version, q, sizeof(q)));
}

static void h_project_dir(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			  void *p)
{
	struct sysg_config_walk *cw = p;

	cw->project_dir_node = v;
	h_nonempty(w, k, v, &cw->cfg->project_dir);
}

static void h_root_env(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		       void *p)
{
	h_env(w, k, v, &((struct sysg_config_walk *)p)->cfg->env);
}

static const struct sysg_yw_field state_fields[] = {
	{ "backend", h_plugin_name, offsetof(struct sysg_config, state_backend), 0 },
	{ "path", h_nonempty, offsetof(struct sysg_config, state_path), 0 },
	{ NULL, NULL, 0, 0 },
};

static void h_state(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		    void *p)
{
	sysg_yw_walk_map(w, k, v, state_fields, ((struct sysg_config_walk *)p)->cfg, NULL);
}

static void h_root_logs(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			void *p)
{
	h_logs(w, k, v, &((struct sysg_config_walk *)p)->cfg->logs);
}

/* A whole number >= 0 into an int64_t. */
static void h_u64(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v, void *p)
{
	long long x;

	(void)k;
	if (sysg_yw_int(w, v, 0, INT64_MAX, &x) == 0)
		*(int64_t *)p = x;
}

/* A byte count: a whole number (systemg) or a size like 64K (sysg). */
static void h_bytes(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		    void *p)
{
	(void)k;
	sysg_yw_size(w, v, p);
}

static const struct sysg_yw_field metrics_fields[] = {
	{ "retention_minutes", h_u64,
	  offsetof(struct sysg_metrics_cfg, retention_minutes), 0 },
	{ "sample_interval_secs", h_u64,
	  offsetof(struct sysg_metrics_cfg, sample_interval_secs), 0 },
	{ "max_memory_bytes", h_bytes,
	  offsetof(struct sysg_metrics_cfg, max_memory_bytes), 0 },
	{ "spillover_path", h_nonempty,
	  offsetof(struct sysg_metrics_cfg, spillover_path), 0 },
	{ "spillover_max_bytes", h_bytes,
	  offsetof(struct sysg_metrics_cfg, spillover_max_bytes), 0 },
	{ "spillover_segment_bytes", h_bytes,
	  offsetof(struct sysg_metrics_cfg, spillover_segment_bytes), 0 },
	{ "textfile", h_nonempty, offsetof(struct sysg_metrics_cfg, textfile), 0 },
	{ NULL, NULL, 0, 0 },
};

/* systemg's clamps: retention at least a minute, an interval of 1..60 s,
 * at least 128 KiB of samples; a segment no larger than the spill cap. */
static void metrics_clamp(struct sysg_metrics_cfg *m)
{
	if (m->retention_minutes < 1)
		m->retention_minutes = 1;
	if (m->sample_interval_secs < 1)
		m->sample_interval_secs = 1;
	if (m->sample_interval_secs > 60)
		m->sample_interval_secs = 60;
	if (m->max_memory_bytes < SYSG_METRICS_MIN_MEMORY)
		m->max_memory_bytes = SYSG_METRICS_MIN_MEMORY;
	if (m->spillover_segment_bytes < 1)
		m->spillover_segment_bytes = SYSG_METRICS_SPILL_SEGMENT;
	if (m->spillover_segment_bytes > m->spillover_max_bytes &&
	    m->spillover_max_bytes > 0)
		m->spillover_segment_bytes = m->spillover_max_bytes;
}

static void h_metrics(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		      void *p)
{
	struct sysg_metrics_cfg *m = &((struct sysg_config_walk *)p)->cfg->metrics;

	m->present = 1;
	sysg_yw_walk_map(w, k, v, metrics_fields, m, NULL);
	metrics_clamp(m);
}

/* Remember FILE (at node AT, key path KEYPATH) for config.c to load into
 * PROJECT (NULL: this file's own services). Takes FILE. */
static void add_include(struct sysg_yw *w, struct sysg_config_walk *cw,
			char *file, const yaml_node_t *at, const char *project)
{
	struct sysg_include *v = realloc(cw->includes, (cw->nincludes + 1) *
					 sizeof(*v));
	struct sysg_include *e;

	if (!v) {
		free(file);
		sysg_yw_nomem(w);
		return;
	}
	cw->includes = v;
	e = &v[cw->nincludes];
	memset(e, 0, sizeof(*e));
	e->file = file;
	e->mark.line = sysg_yw_line(at);
	e->mark.col = sysg_yw_col(at);
	e->keypath = strdup(w->path);
	e->project = project ? strdup(project) : NULL;
	cw->nincludes++;
	if (!e->keypath || (project && !e->project))
		sysg_yw_nomem(w);
}

/* `KEY: !include FILE`: FILE's services join (PROJECT's, or this
 * file's). */
static void include_tag(struct sysg_yw *w, struct sysg_config_walk *cw,
			yaml_node_t *v, const char *project)
{
	char *f = NULL;
	int rc;

	w->include_ok = 1;
	rc = sysg_yw_string(w, v, &f);
	w->include_ok = 0;
	if (rc == 0 && !f[0])
		sysg_yw_error(w, v, "!include needs a file name");
	else if (f) {
		add_include(w, cw, f, v, project);
		return;
	}
	free(f);
}

/* include: FILE, or a list of files (config.c loads them). */
static void h_include(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		      void *p)
{
	struct sysg_config_walk *cw = p;
	yaml_node_t **items;
	size_t n;

	(void)k;
	if (sysg_yw_list(w, v, 1, &items, &n))
		return;
	for (size_t i = 0; i < n && !w->nomem; i++) {
		size_t old = sysg_yw_push_index(w, i);

		include_tag(w, cw, items[i], NULL);
		sysg_yw_pop(w, old);
	}
	free(items);
}

static int valid_project_id(const char *s)
{
	return *s && strlen(s) <= SYSG_PROJECT_ID_MAX &&
	       valid_name_chars(s, "_.-");
}

/* projects: { ID: { name, env, project_dir, services } | !include FILE }:
 * config.c loads each project's map like a file of its own. */
static void h_projects(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		       void *p)
{
	struct sysg_config_walk *cw = p;
	struct sysg_yw_pair *pairs;
	size_t n;
	char q[80];

	(void)k;
	if (cw->project) {
		sysg_yw_error(w, k, "projects do not nest");
		return;
	}
	if (sysg_yw_map_pairs(w, v, &pairs, &n))
		return;
	cw->projects = calloc(n + 1, sizeof(*cw->projects));
	if (!cw->projects)
		sysg_yw_nomem(w);
	for (size_t i = 0; cw->projects && i < n && !w->nomem; i++) {
		size_t old = sysg_yw_push_key(w, pairs[i].name);
		struct sysg_walk_project *pr = &cw->projects[cw->nprojects];

		if (!valid_project_id(pairs[i].name))
			sysg_yw_error(w, pairs[i].key, "invalid project id '%s' "
				      "(use letters, digits, '_', '.', '-'; at "
				      "most %d characters)",
				      sysg_yw_quote(pairs[i].name, q, sizeof(q)),
				      SYSG_PROJECT_ID_MAX);
		else if (sysg_yw_is_include(pairs[i].val))
			include_tag(w, cw, pairs[i].val, pairs[i].name);
		else if (pairs[i].val->type != YAML_MAPPING_NODE)
			sysg_yw_error(w, pairs[i].val, "expected a map with "
				      "'services' (or !include FILE), found %s",
				      sysg_yw_describe(pairs[i].val, q,
						       sizeof(q)));
		else if (!(pr->id = strdup(pairs[i].name)))
			sysg_yw_nomem(w);
		else {
			pr->node = pairs[i].val;
			pr->mark = mark_of(pairs[i].key);
			cw->nprojects++;
		}
		sysg_yw_pop(w, old);
	}
	free(pairs);
}

static void h_project_name(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			   void *p)
{
	h_nonempty(w, k, v, &((struct sysg_config_walk *)p)->project_name);
}

static const struct sysg_yw_field root_fields[] = {
	{ "metrics", h_metrics, 0, 0 },
	{ "version", h_version, 0, SYSG_YW_REQUIRED },
	{ "project_dir", h_project_dir, 0, 0 },
	{ "env", h_root_env, 0, 0 },
	{ "state", h_state, 0, 0 },
	{ "logs", h_root_logs, 0, 0 },
	{ "services", h_services, 0, 0 },
	{ "include", h_include, 0, 0 },
	{ "projects", h_projects, 0, 0 },
	{ NULL, NULL, 0, 0 },
};

/* The map of one project (projects.ID). */
static const struct sysg_yw_field project_fields[] = {
	{ "name", h_project_name, 0, 0 },
	{ "project_dir", h_project_dir, 0, 0 },
	{ "env", h_root_env, 0, 0 },
	{ "logs", h_root_logs, 0, 0 },
	{ "services", h_services, 0, SYSG_YW_REQUIRED },
	{ NULL, NULL, 0, 0 },
};

static void metrics_defaults(struct sysg_metrics_cfg *m)
{
	m->retention_minutes = SYSG_METRICS_RETENTION_MIN;
	m->sample_interval_secs = SYSG_METRICS_INTERVAL_S;
	m->max_memory_bytes = SYSG_METRICS_MAX_MEMORY;
	m->spillover_max_bytes = SYSG_METRICS_SPILL_MAX;
	m->spillover_segment_bytes = SYSG_METRICS_SPILL_SEGMENT;
}

/* The seen-mask bit of root key KEY. */
static uint64_t root_bit(const char *key)
{
	for (size_t i = 0; root_fields[i].key; i++)
		if (!strcmp(root_fields[i].key, key))
			return (uint64_t)1 << i;
	return 0;
}

/* ------------------------------------------------- the schema as a tree */

/* Every map of the schema under its key path ("*": any service name), for
 * sysg_config_schema_keys. The walk reaches sub-maps through handlers, so
 * a new table is listed here too; tests/manpages.sh fails when a table of
 * this file is missing from this list. */
struct schema_map {
	const char *path;
	const struct sysg_yw_field *fields;
	const char *table;
};

#define SCHEMA_MAP(path, table) { path, table, #table }

static const struct schema_map schema_maps[] = {
	SCHEMA_MAP("", root_fields),
	SCHEMA_MAP("projects.*", project_fields),
	SCHEMA_MAP("env", env_fields),
	SCHEMA_MAP("state", state_fields),
	SCHEMA_MAP("metrics", metrics_fields),
	SCHEMA_MAP("logs", logs_fields),
	SCHEMA_MAP("services.*", service_fields),
	SCHEMA_MAP("services.*.env", env_fields),
	SCHEMA_MAP("services.*.health_check", health_fields),
	SCHEMA_MAP("services.*.hooks", hooks_fields),
	SCHEMA_MAP("services.*.hooks.on_start", hook_pair_fields),
	SCHEMA_MAP("services.*.hooks.on_start.success", hook_fields),
	SCHEMA_MAP("services.*.hooks.on_start.error", hook_fields),
	SCHEMA_MAP("services.*.hooks.on_stop", hook_pair_fields),
	SCHEMA_MAP("services.*.hooks.on_stop.success", hook_fields),
	SCHEMA_MAP("services.*.hooks.on_stop.error", hook_fields),
	SCHEMA_MAP("services.*.hooks.on_restart", hook_pair_fields),
	SCHEMA_MAP("services.*.hooks.on_restart.success", hook_fields),
	SCHEMA_MAP("services.*.hooks.on_restart.error", hook_fields),
	SCHEMA_MAP("services.*.deployment", deployment_fields),
	SCHEMA_MAP("services.*.deployment.health_check", health_fields),
	SCHEMA_MAP("services.*.cron", cron_fields),
	SCHEMA_MAP("services.*.spawn", spawn_fields),
	SCHEMA_MAP("services.*.spawn.limits", spawn_limit_fields),
	SCHEMA_MAP("services.*.limits", limits_fields),
	SCHEMA_MAP("services.*.limits.cgroup", cgroup_fields),
	SCHEMA_MAP("services.*.isolation", isolation_fields),
	SCHEMA_MAP("services.*.logs", logs_fields),
	SCHEMA_MAP("services.*.listen", listen_fields),
};

void sysg_config_schema_keys(sysg_config_key_fn fn, void *arg)
{
	char path[256];

	for (size_t i = 0; i < sizeof(schema_maps) / sizeof(schema_maps[0]);
	     i++) {
		const struct schema_map *m = &schema_maps[i];

		for (const struct sysg_yw_field *f = m->fields; f->key; f++) {
			snprintf(path, sizeof(path), "%s%s%s", m->path,
				 m->path[0] ? "." : "", f->key);
			fn(arg, path, m->table);
		}
	}
}

void sysg_config_walk_root(struct sysg_config_walk *cw, yaml_node_t *root)
{
	uint64_t seen;
	char d[96];

	metrics_defaults(&cw->cfg->metrics);
	if (root->type != YAML_MAPPING_NODE) {
		sysg_yw_error(&cw->w, root,
			      "expected a map with 'version' and 'services' at the top level, found %s",
			      sysg_yw_describe(root, d, sizeof(d)));
		return;
	}
	if (cw->project) {
		sysg_yw_walk_map(&cw->w, NULL, root, project_fields, cw, NULL);
		return;
	}
	seen = sysg_yw_walk_map(&cw->w, NULL, root, root_fields, cw, NULL);
	/* `services` is required unless the file includes others */
	if (!(seen & (root_bit("services") | root_bit("include") |
		      root_bit("projects")))) {
		size_t old = sysg_yw_push_key(&cw->w, "services");

		sysg_yw_error(&cw->w, root, "required key is missing");
		sysg_yw_pop(&cw->w, old);
	}
}
