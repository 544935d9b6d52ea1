/* config.c - the sysg config schema and loader; see config.h.
 *
 * Loading is three steps:
 *  1. yamlwalk loads exactly one YAML document (syntax errors end here);
 *  2. the schema walk below reads each known key into struct sysg_config,
 *     one small handler per key, reporting every problem it finds;
 *  3. finish(): resolve paths against project_dir, merge environments and
 *     expand ${VAR}, resolve depends_on and compute the start waves.
 * Any problem makes the load fail; all of them are reported (DIAG caps how
 * many lines it keeps).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "cron.h"
#include "env.h"
#include "graph.h"
#include "paths.h"
#include "yamlwalk.h"

extern char **environ;

#define MAX_FILE_BYTES (32L << 20)      /* larger files are refused */
#define MAX_NAME_LEN 127                /* service names */
#define MAX_PLUGIN_NAME_LEN 64
#define MAX_CPU 1023

/* State of one load call. */
struct load {
	struct sysg_yw w;
	struct sysg_config *cfg;
	yaml_node_t *project_dir_node;
	char **bad_env_files;           /* reported once, not re-read */
	size_t nbad_env_files;
};

static struct sysg_mark mark_of(const yaml_node_t *n)
{
	return (struct sysg_mark){ sysg_yw_line(n), sysg_yw_col(n) };
}

/* Set the key path to the given components (NULL ends the list early). */
static void path_set(struct sysg_yw *w, const char *a, const char *b,
		     const char *c, const char *d)
{
	const char *parts[] = { a, b, c, d };

	sysg_yw_pop(w, 0);
	for (size_t i = 0; i < 4 && parts[i]; i++)
		sysg_yw_push_key(w, parts[i]);
}

static void error_mark(struct sysg_yw *w, struct sysg_mark m,
		       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void error_mark(struct sysg_yw *w, struct sysg_mark m,
		       const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sysg_yw_error_at(w, m.line, m.col, "%s", msg);
}

/* ---------------------------------------------------- generic handlers */

static int non_blank(const char *s)
{
	return s && s[strspn(s, " \t\r\n")] != '\0';
}

static void h_nonempty(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		       void *p)
{
	char **out = p;

	(void)k;
	if (sysg_yw_string(w, v, out) == 0 && !non_blank(*out))
		sysg_yw_error(w, v, "expected a non-empty string");
}

static void h_command(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		      void *p)
{
	char **out = p;

	(void)k;
	if (sysg_yw_string(w, v, out) == 0 && !non_blank(*out))
		sysg_yw_error(w, v, "expected a non-empty command");
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

/* One of NAMES (NULL-terminated); stores the index into *out (an int or
 * enum). ALIASES maps extra spellings to the same index (may be NULL). */
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

static void h_env_name(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		       void *p)
{
	char **out = p, q[80];

	(void)k;
	if (sysg_yw_string(w, v, out) == 0 && !sysg_env_valid_name(*out))
		sysg_yw_error(w, v, "expected a variable name like PORT, found '%s'",
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
	(*v)[(*n)++] = (struct sysg_kv){ k, val, m };
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
	return s;
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
				  mark_of(pairs[i].key));
		sysg_yw_pop(w, old);
	}
	free(pairs);
}

static void h_env_file(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		       void *p)
{
	struct sysg_env_spec *e = p;

	(void)k;
	h_nonempty(w, k, v, &e->file);
	e->file_mark = mark_of(v);
}

static const struct sysg_yw_field env_fields[] = {
	{ "file", h_env_file, 0, 0 },
	{ "vars", h_vars, 0, 0 },
	{ NULL, NULL, 0, 0 },
};

static void h_env(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v, void *p)
{
	sysg_yw_walk_map(w, k, v, env_fields, p, NULL);
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

static void h_slots(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		    void *p)
{
	struct sysg_blue_green *bg = p;
	char **slots = NULL;
	size_t n = 0;

	(void)k;
	if (string_list(w, v, 0, NULL, &slots, NULL, &n))
		return;
	if (v->data.sequence.items.top - v->data.sequence.items.start != 2)
		sysg_yw_error(w, v, "expected exactly two slots, found %zu",
			      (size_t)(v->data.sequence.items.top -
				       v->data.sequence.items.start));
	else if (n == 2 && !strcmp(slots[0], slots[1]))
		sysg_yw_error(w, v, "the two slots must differ, both are '%s'",
			      slots[0]);
	if (n == 2) {
		for (int i = 0; i < 2; i++) {
			free(bg->slots[i]);
			bg->slots[i] = slots[i];
		}
		n = 0;
	}
	for (size_t i = 0; i < n; i++)
		free(slots[i]);
	free(slots);
}

static const struct sysg_yw_field blue_green_fields[] = {
	{ "env_var", h_env_name, offsetof(struct sysg_blue_green, env_var), 0 },
	{ "slots", h_slots, 0, SYSG_YW_REQUIRED },
	{ "candidate_health_check_url", h_url,
	  offsetof(struct sysg_blue_green, candidate_health_check_url), 0 },
	{ "switch_command", h_command,
	  offsetof(struct sysg_blue_green, switch_command), SYSG_YW_REQUIRED },
	{ "switch_verify_url", h_url,
	  offsetof(struct sysg_blue_green, switch_verify_url), 0 },
	{ "state_path", h_nonempty,
	  offsetof(struct sysg_blue_green, state_path), 0 },
	{ NULL, NULL, 0, 0 },
};

static void h_blue_green(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			 void *p)
{
	struct sysg_blue_green *bg = p;

	bg->present = 1;
	bg->mark = mark_of(k);
	sysg_yw_walk_map(w, k, v, blue_green_fields, bg, NULL);
}

static void h_strategy(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		       void *p)
{
	struct sysg_deployment *d = p;

	h_plugin_name(w, k, v, &d->strategy);
	d->strategy_mark = mark_of(v);
}

/* One strategy option: a scalar, or a list of scalars joined with ','. */
static void option_value(struct sysg_yw *w, struct sysg_deployment *d,
			 const struct sysg_yw_pair *pr)
{
	yaml_node_t **items = NULL;
	size_t n = 0, len = 0;
	char *joined;

	if (pr->val->type != YAML_SEQUENCE_NODE) {
		const char *s = value_text(w, pr->val);

		if (s)
			kv_append(w, &d->options, &d->noptions, pr->name, s,
				  mark_of(pr->key));
		return;
	}
	if (sysg_yw_list(w, pr->val, 0, &items, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		const char *s = value_text(w, items[i]);

		if (!s) {
			free(items);
			return;
		}
		len += strlen(s) + 1;
	}
	joined = calloc(1, len + 1);
	for (size_t i = 0; joined && i < n; i++) {
		if (i)
			strcat(joined, ",");
		strcat(joined, value_text(w, items[i]));
	}
	if (joined)
		kv_append(w, &d->options, &d->noptions, pr->name, joined,
			  mark_of(pr->key));
	else
		sysg_yw_nomem(w);
	free(joined);
	free(items);
}

/* deployment.<strategy>: {...} holds a strategy's own settings. */
static int deployment_options(struct sysg_yw *w, yaml_node_t *k,
			      yaml_node_t *v, void *obj)
{
	struct sysg_deployment *d = obj;
	struct sysg_yw_pair *pairs;
	size_t n;

	if (!d->strategy || strcmp(sysg_yw_scalar(k), d->strategy))
		return 0;
	d->options_mark = mark_of(k);
	if (sysg_yw_is_null(v) || sysg_yw_map_pairs(w, v, &pairs, &n))
		return 1;
	for (size_t i = 0; i < n && !w->aborted; i++) {
		size_t old = sysg_yw_push_key(w, pairs[i].name);

		option_value(w, d, &pairs[i]);
		sysg_yw_pop(w, old);
	}
	free(pairs);
	return 1;
}

static const struct sysg_yw_field deployment_fields[] = {
	{ "strategy", h_strategy, 0, 0 },
	{ "pre_start", h_command, offsetof(struct sysg_deployment, pre_start), 0 },
	{ "health_check", h_health, offsetof(struct sysg_deployment, health), 0 },
	{ "grace_period", h_dur,
	  offsetof(struct sysg_deployment, grace_period_ms), 0 },
	{ "blue_green", h_blue_green,
	  offsetof(struct sysg_deployment, blue_green), 0 },
	{ NULL, NULL, 0, 0 },
};

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

static void h_deployment(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			 void *p)
{
	struct sysg_deployment *d = p;
	struct sysg_yw_pair *pairs;
	size_t n, old;

	if (sysg_yw_map_pairs(w, v, &pairs, &n))
		return;
	prescan_strategy(w, d, pairs, n);
	sysg_yw_walk_pairs(w, k, v, pairs, n, deployment_fields, d,
			   deployment_options);
	free(pairs);
	if (d->strategy && !strcmp(d->strategy, "blue_green") &&
	    !d->blue_green.present && !w->aborted) {
		old = sysg_yw_push_key(w, "strategy");
		error_mark(w, d->strategy_mark,
			   "strategy '%s' needs a 'blue_green' section (slots, switch_command)",
			   d->strategy);
		sysg_yw_pop(w, old);
	}
}

/* --------------------------------------------------------------- cron */

static void h_cron_expr(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			void *p)
{
	char **out = p, err[160], q[80];
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

static int is_unlimited(const yaml_node_t *v, const char *word)
{
	const char *s = sysg_yw_scalar(v);

	return s && (!strcasecmp(s, word) || !strcasecmp(s, "infinity"));
}

static void h_rlimit(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		     void *p)
{
	long long x;

	(void)k;
	if (is_unlimited(v, "unlimited"))
		*(int64_t *)p = SYSG_LIMIT_UNLIMITED;
	else if (sysg_yw_int(w, v, 0, INT64_MAX - 1, &x) == 0)
		*(int64_t *)p = x;
}

static void h_memlock(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		      void *p)
{
	(void)k;
	if (is_unlimited(v, "unlimited"))
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
	{ NULL, NULL, 0, 0 },
};

static void h_cgroup(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		     void *p)
{
	sysg_yw_walk_map(w, k, v, cgroup_fields, p, NULL);
}

static const struct sysg_yw_field limits_fields[] = {
	{ "nofile", h_rlimit, offsetof(struct sysg_limits, nofile), 0 },
	{ "nproc", h_rlimit, offsetof(struct sysg_limits, nproc), 0 },
	{ "memlock", h_memlock, offsetof(struct sysg_limits, memlock), 0 },
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

static const char *cap_suggest(const char *s)
{
	static const char *full[sizeof(cap_names) / sizeof(cap_names[0])];
	static char bufs[sizeof(cap_names) / sizeof(cap_names[0])][32];

	if (!full[0])
		for (size_t i = 0; cap_names[i]; i++) {
			snprintf(bufs[i], sizeof(bufs[i]), "CAP_%s", cap_names[i]);
			full[i] = bufs[i];
		}
	return sysg_yw_suggest(s, full);
}

static int check_cap(struct sysg_yw *w, yaml_node_t *item, char **name)
{
	const char *hint;
	char q[80];
	int rc = normalize_cap(name);

	if (rc == -2)
		sysg_yw_nomem(w);
	if (rc != -1)
		return rc;
	hint = cap_suggest(*name);
	sysg_yw_error(w, item, "unknown capability '%s'%s%s%s",
		      sysg_yw_quote(*name, q, sizeof(q)),
		      hint ? " (did you mean '" : "", hint ? hint : "",
		      hint ? "'?)" : "");
	return -1;
}

static void mark_privileged(struct sysg_service *s, const yaml_node_t *k)
{
	if (!s->privileged_mark.line)
		s->privileged_mark = mark_of(k);
}

static void h_user(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v, void *p)
{
	mark_privileged(p, k);
	h_nonempty(w, k, v, &((struct sysg_service *)p)->user);
}

static void h_group(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		    void *p)
{
	mark_privileged(p, k);
	h_nonempty(w, k, v, &((struct sysg_service *)p)->group);
}

static void h_groups(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		     void *p)
{
	struct sysg_service *s = p;

	mark_privileged(s, k);
	string_list(w, v, 1, NULL, &s->supplementary_groups, NULL,
		    &s->nsupplementary_groups);
}

static void h_limits(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		     void *p)
{
	struct sysg_service *s = p;

	mark_privileged(s, k);
	s->limits.present = 1;
	sysg_yw_walk_map(w, k, v, limits_fields, &s->limits, NULL);
}

static void h_caps(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v, void *p)
{
	struct sysg_service *s = p;

	mark_privileged(s, k);
	string_list(w, v, 1, check_cap, &s->capabilities, NULL,
		    &s->ncapabilities);
}

static const struct sysg_yw_field isolation_fields[] = {
	{ "network", h_bool, offsetof(struct sysg_isolation, network), 0 },
	{ "pid", h_bool, offsetof(struct sysg_isolation, pid), 0 },
	{ "mount", h_bool, offsetof(struct sysg_isolation, mount), 0 },
	{ "user", h_bool, offsetof(struct sysg_isolation, user), 0 },
	{ NULL, NULL, 0, 0 },
};

static void h_isolation(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
			void *p)
{
	struct sysg_service *s = p;

	mark_privileged(s, k);
	s->isolation.present = 1;
	sysg_yw_walk_map(w, k, v, isolation_fields, &s->isolation, NULL);
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

static const struct sysg_yw_field service_fields[] = {
	{ "command", h_command, offsetof(struct sysg_service, command_raw),
	  SYSG_YW_REQUIRED },
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
	s->ready_after_ms = SYSG_READY_AFTER_MS;
	health_defaults(&s->health);
	health_defaults(&s->deployment.health);
	hook_defaults(&s->hooks.on_start);
	hook_defaults(&s->hooks.on_stop);
	hook_defaults(&s->hooks.on_restart);
	s->spawn.children = s->spawn.depth = s->spawn.descendants = -1;
	s->spawn.total_memory = -1;
	s->limits.nofile = s->limits.nproc = s->limits.memlock = -1;
	s->limits.cgroup.memory_max = -1;
	s->limits.cgroup.cpu_weight = -1;
	s->deployment.strategy = strdup("immediate");
	s->deployment.blue_green.env_var = strdup("PORT");
	return s->deployment.strategy && s->deployment.blue_green.env_var ?
	       0 : -ENOMEM;
}

static void check_service(struct sysg_yw *w, struct sysg_service *s)
{
	if (s->cron.present && s->restart_policy == SYSG_RESTART_ALWAYS) {
		size_t old = sysg_yw_push_key(w, "cron");

		error_mark(w, s->cron.mark,
			   "a cron job cannot use restart_policy '%s' (it runs on its schedule)",
			   "always");
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

static void h_services(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		       void *p)
{
	struct sysg_config *cfg = ((struct load *)p)->cfg;
	struct sysg_yw_pair *pairs;
	size_t n;

	(void)k;
	if (sysg_yw_map_pairs(w, v, &pairs, &n))
		return;
	if (n == 0)
		sysg_yw_error(w, v, "expected at least one service");
	cfg->services = calloc(n ? n : 1, sizeof(*cfg->services));
	if (!cfg->services)
		sysg_yw_nomem(w);
	for (size_t i = 0; cfg->services && i < n && !w->aborted; i++) {
		size_t old = sysg_yw_push_key(w, pairs[i].name);

		walk_service(w, &cfg->services[cfg->nservices++], &pairs[i]);
		sysg_yw_pop(w, old);
	}
	free(pairs);
}

/* --------------------------------------------------------------- root */

static void h_version(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		      void *p)
{
	struct sysg_config *cfg = ((struct load *)p)->cfg;
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
	struct load *ld = p;

	ld->project_dir_node = v;
	h_nonempty(w, k, v, &ld->cfg->project_dir);
}

static void h_root_env(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		       void *p)
{
	h_env(w, k, v, &((struct load *)p)->cfg->env);
}

static const struct sysg_yw_field state_fields[] = {
	{ "backend", h_plugin_name, offsetof(struct sysg_config, state_backend), 0 },
	{ "path", h_nonempty, offsetof(struct sysg_config, state_path), 0 },
	{ NULL, NULL, 0, 0 },
};

static void h_state(struct sysg_yw *w, yaml_node_t *k, yaml_node_t *v,
		    void *p)
{
	sysg_yw_walk_map(w, k, v, state_fields, ((struct load *)p)->cfg, NULL);
}

static const struct sysg_yw_field root_fields[] = {
	{ "version", h_version, 0, SYSG_YW_REQUIRED },
	{ "project_dir", h_project_dir, 0, 0 },
	{ "env", h_root_env, 0, 0 },
	{ "state", h_state, 0, 0 },
	{ "services", h_services, 0, SYSG_YW_REQUIRED },
	{ NULL, NULL, 0, 0 },
};

static void walk_root(struct load *ld, yaml_node_t *root)
{
	char d[96];

	if (root->type != YAML_MAPPING_NODE) {
		sysg_yw_error(&ld->w, root,
			      "expected a map with 'version' and 'services' at the top level, found %s",
			      sysg_yw_describe(root, d, sizeof(d)));
		return;
	}
	sysg_yw_walk_map(&ld->w, NULL, root, root_fields, ld, NULL);
}

/* -------------------------------------------------------------- paths */

/* Replace *P (relative to BASE) by its absolute form. */
static int make_abs(struct sysg_yw *w, const char *base, char **p)
{
	char *abs;

	if (!*p)
		return 0;
	abs = sysg_path_abs(base, *p);
	if (!abs) {
		sysg_yw_nomem(w);
		return -1;
	}
	free(*p);
	*p = abs;
	return 0;
}

static void resolve_project_dir(struct load *ld)
{
	struct sysg_config *cfg = ld->cfg;
	struct stat st;

	if (!cfg->project_dir) {
		cfg->project_dir = strdup(cfg->dir);
		if (!cfg->project_dir)
			sysg_yw_nomem(&ld->w);
		return;
	}
	if (make_abs(&ld->w, cfg->dir, &cfg->project_dir))
		return;
	if (stat(cfg->project_dir, &st) == 0 && S_ISDIR(st.st_mode))
		return;
	path_set(&ld->w, "project_dir", NULL, NULL, NULL);
	sysg_yw_error(&ld->w, ld->project_dir_node,
		      "'%s' is not a directory", cfg->project_dir);
}

static void resolve_paths(struct load *ld)
{
	struct sysg_config *cfg = ld->cfg;
	const char *pd;

	resolve_project_dir(ld);
	pd = cfg->project_dir;
	if (!pd)
		return;
	make_abs(&ld->w, pd, &cfg->state_path);
	make_abs(&ld->w, pd, &cfg->env.file);
	for (size_t i = 0; i < cfg->nservices; i++) {
		struct sysg_service *s = &cfg->services[i];

		make_abs(&ld->w, pd, &s->env.file);
		make_abs(&ld->w, pd, &s->deployment.blue_green.state_path);
	}
}

/* -------------------------------------------------------- environment */

static int env_file_known_bad(struct load *ld, const char *file)
{
	for (size_t i = 0; i < ld->nbad_env_files; i++)
		if (!strcmp(ld->bad_env_files[i], file))
			return 1;
	return 0;
}

static void remember_bad_env_file(struct load *ld, const char *file)
{
	char **grown = realloc(ld->bad_env_files,
			       (ld->nbad_env_files + 1) * sizeof(*grown));
	char *copy = strdup(file);

	if (grown)
		ld->bad_env_files = grown;
	if (!grown || !copy) {
		free(copy);
		sysg_yw_nomem(&ld->w);
		return;
	}
	ld->bad_env_files[ld->nbad_env_files++] = copy;
}

/* Apply SPEC's env file; WHO is NULL for the root env or a service name. */
static void apply_env_file(struct load *ld, char ***env,
			   const struct sysg_env_spec *spec, const char *who)
{
	struct sysg_yw *w = &ld->w;
	int rc;

	if (!spec->file || env_file_known_bad(ld, spec->file))
		return;
	if (who)
		path_set(w, "services", who, "env", "file");
	else
		path_set(w, "env", "file", NULL, NULL);
	if (access(spec->file, R_OK) != 0) {
		sysg_yw_error_at(w, spec->file_mark.line, spec->file_mark.col,
				 "cannot read env file '%s': %s", spec->file,
				 strerror(errno));
		remember_bad_env_file(ld, spec->file);
		return;
	}
	rc = sysg_env_file_apply(spec->file, w->path, env, w->diag);
	if (rc == -ENOMEM)
		sysg_yw_nomem(w);
	else if (rc) {
		w->errors++;
		remember_bad_env_file(ld, spec->file);
	}
}

static void apply_env(struct load *ld, char ***env,
		      const struct sysg_env_spec *spec, const char *who)
{
	apply_env_file(ld, env, spec, who);
	for (size_t i = 0; i < spec->nvars && !ld->w.nomem; i++)
		if (sysg_env_set(env, spec->vars[i].key, spec->vars[i].value))
			sysg_yw_nomem(&ld->w);
}

static void expand(struct sysg_yw *w, char **s, char *const *env)
{
	char *x;

	if (!*s || w->nomem)
		return;
	x = sysg_env_expand(*s, env);
	if (!x) {
		sysg_yw_nomem(w);
		return;
	}
	free(*s);
	*s = x;
}

static void expand_hooks(struct sysg_yw *w, struct sysg_hooks *h,
			 char *const *env)
{
	struct sysg_hook_pair *pairs[] = { &h->on_start, &h->on_stop,
					   &h->on_restart };

	for (size_t i = 0; i < 3; i++) {
		expand(w, &pairs[i]->success.command, env);
		expand(w, &pairs[i]->error.command, env);
	}
}

/* See config.h for which strings get ${VAR} expansion. */
static void expand_service(struct sysg_yw *w, struct sysg_service *s)
{
	char *const *env = s->envp;

	if (s->command_raw) {
		s->command = strdup(s->command_raw);
		if (!s->command)
			sysg_yw_nomem(w);
		expand(w, &s->command, env);
	}
	expand_hooks(w, &s->hooks, env);
	expand(w, &s->skip_command, env);
	expand(w, &s->health.command, env);
	expand(w, &s->health.url, env);
	expand(w, &s->deployment.pre_start, env);
	expand(w, &s->deployment.health.command, env);
	expand(w, &s->deployment.health.url, env);
	expand(w, &s->deployment.blue_green.candidate_health_check_url, env);
	expand(w, &s->deployment.blue_green.switch_verify_url, env);
}

static void build_envs(struct load *ld)
{
	struct sysg_config *cfg = ld->cfg;
	char **base = sysg_env_dup(environ);

	if (!base) {
		sysg_yw_nomem(&ld->w);
		return;
	}
	apply_env(ld, &base, &cfg->env, NULL);
	for (size_t i = 0; i < cfg->nservices && !ld->w.nomem; i++) {
		struct sysg_service *s = &cfg->services[i];

		s->envp = sysg_env_dup(base);
		if (!s->envp) {
			sysg_yw_nomem(&ld->w);
			break;
		}
		apply_env(ld, &s->envp, &s->env, s->name);
		expand_service(&ld->w, s);
	}
	sysg_env_free(base);
}

/* ------------------------------------------------------- dependencies */

struct deps {
	size_t **v;
	size_t *n;
};

static void report_unknown_dep(struct load *ld, const struct sysg_service *s,
			       size_t j)
{
	struct sysg_config *cfg = ld->cfg;
	const char **names = calloc(cfg->nservices + 1, sizeof(*names));
	const char *hint = NULL;
	char q[80];

	for (size_t i = 0; names && i < cfg->nservices; i++)
		names[i] = cfg->services[i].name;
	if (names)
		hint = sysg_yw_suggest(s->depends_on[j], names);
	sysg_yw_error_at(&ld->w, s->depends_on_marks[j].line,
			 s->depends_on_marks[j].col,
			 "unknown service '%s'%s%s%s",
			 sysg_yw_quote(s->depends_on[j], q, sizeof(q)),
			 hint ? " (did you mean '" : "", hint ? hint : "",
			 hint ? "'?)" : "");
	free(names);
}

static void dep_path(struct sysg_yw *w, const struct sysg_service *s,
		     size_t j)
{
	path_set(w, "services", s->name, "depends_on", NULL);
	sysg_yw_push_index(w, j);
}

/* Fill D->v[I] with the known, distinct dependencies of service I. */
static int collect_deps(struct load *ld, size_t i, struct deps *d)
{
	const struct sysg_service *s = &ld->cfg->services[i];

	d->v[i] = calloc(s->ndepends_on + 1, sizeof(size_t));
	if (!d->v[i])
		return -ENOMEM;
	for (size_t j = 0; j < s->ndepends_on; j++) {
		int idx = sysg_config_find_service(ld->cfg, s->depends_on[j]);
		size_t k;

		dep_path(&ld->w, s, j);
		if (idx < 0) {
			report_unknown_dep(ld, s, j);
			continue;
		}
		if ((size_t)idx == i) {
			sysg_yw_error_at(&ld->w, s->depends_on_marks[j].line,
					 s->depends_on_marks[j].col,
					 "service '%s' depends on itself", s->name);
			continue;
		}
		for (k = 0; k < d->n[i] && d->v[i][k] != (size_t)idx; k++)
			;
		if (k == d->n[i])
			d->v[i][d->n[i]++] = (size_t)idx;
	}
	return 0;
}

static void report_cycle(struct load *ld, const size_t *cycle, size_t len)
{
	struct sysg_config *cfg = ld->cfg;
	const struct sysg_service *first = &cfg->services[cycle[0]];
	size_t cap = 64, j;
	char *msg;

	for (size_t i = 0; i < len; i++)
		cap += strlen(cfg->services[cycle[i]].name) + 4;
	msg = malloc(cap);
	if (!msg) {
		sysg_yw_nomem(&ld->w);
		return;
	}
	strcpy(msg, "dependency cycle: ");
	for (size_t i = 0; i < len; i++) {
		strcat(msg, cfg->services[cycle[i]].name);
		if (i + 1 < len)
			strcat(msg, " -> ");
	}
	for (j = 0; j < first->ndepends_on &&
	     strcmp(first->depends_on[j], cfg->services[cycle[1]].name); j++)
		;
	if (j == first->ndepends_on)
		j = 0;          /* cannot happen: the cycle uses an edge of ours */
	dep_path(&ld->w, first, j);
	sysg_yw_error_at(&ld->w, first->depends_on_marks[j].line,
			 first->depends_on_marks[j].col, "%s", msg);
	free(msg);
}

static void compute_waves(struct load *ld, struct deps *d)
{
	struct sysg_config *cfg = ld->cfg;
	size_t *cycle = NULL, cycle_len = 0;
	int rc;

	rc = sysg_graph_waves(cfg->nservices, d->v, d->n, &cfg->waves,
			      &cfg->wave_sizes, &cfg->nwaves, &cycle,
			      &cycle_len);
	if (rc == -ELOOP && cycle && cycle_len > 1)
		report_cycle(ld, cycle, cycle_len);
	else if (rc == -ENOMEM)
		sysg_yw_nomem(&ld->w);
	else if (rc)
		sysg_yw_error(&ld->w, NULL, "cannot order services (%s)",
			      strerror(-rc));
	free(cycle);
}

static void resolve_deps(struct load *ld)
{
	struct sysg_config *cfg = ld->cfg;
	struct deps d;
	size_t n = cfg->nservices;

	d.v = calloc(n + 1, sizeof(*d.v));
	d.n = calloc(n + 1, sizeof(*d.n));
	for (size_t i = 0; d.v && d.n && i < n; i++)
		if (collect_deps(ld, i, &d))
			sysg_yw_nomem(&ld->w);
	if (d.v && d.n && n > 0 && !ld->w.nomem)
		compute_waves(ld, &d);
	else if (!d.v || !d.n)
		sysg_yw_nomem(&ld->w);
	for (size_t i = 0; d.v && i < n; i++)
		free(d.v[i]);
	free(d.v);
	free(d.n);
}

/* ------------------------------------------------------------ loading */

static void finish(struct load *ld)
{
	if (ld->w.aborted)
		return;
	resolve_paths(ld);
	if (!ld->w.nomem)
		build_envs(ld);
	if (!ld->w.nomem)
		resolve_deps(ld);
	sysg_yw_pop(&ld->w, 0);
}

static int load_document(struct sysg_config *cfg, const char *buf, size_t len,
			 struct sysg_diag *diag)
{
	yaml_document_t doc;
	struct load ld;
	int rc;

	if (len > (size_t)MAX_FILE_BYTES) {
		sysg_diag_error(diag, cfg->path, 0, 0, NULL,
				"the file is too large (%zu bytes, at most %ld)",
				len, MAX_FILE_BYTES);
		return -EFBIG;
	}
	rc = sysg_yw_load(cfg->path, buf, len, &doc, diag);
	if (rc)
		return rc;
	memset(&ld, 0, sizeof(ld));
	sysg_yw_init(&ld.w, diag, cfg->path, &doc);
	ld.cfg = cfg;
	walk_root(&ld, yaml_document_get_root_node(&doc));
	finish(&ld);
	yaml_document_delete(&doc);
	for (size_t i = 0; i < ld.nbad_env_files; i++)
		free(ld.bad_env_files[i]);
	free(ld.bad_env_files);
	if (ld.w.nomem)
		return -ENOMEM;
	return ld.w.errors ? -EINVAL : 0;
}

static int fill_defaults(struct sysg_config *cfg)
{
	if (!cfg->state_backend)
		cfg->state_backend = strdup("xml");
	return cfg->state_backend ? 0 : -ENOMEM;
}

/* Allocate a config named NAME in directory DIR (absolute). */
static struct sysg_config *config_new(const char *name, const char *abs_path,
				      const char *dir)
{
	struct sysg_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->path = strdup(name);
	cfg->abs_path = abs_path ? strdup(abs_path) : NULL;
	cfg->dir = dir ? strdup(dir) : NULL;
	if (!cfg->path || !cfg->abs_path || !cfg->dir) {
		sysg_config_free(cfg);
		return NULL;
	}
	return cfg;
}

static int load_into(struct sysg_config *cfg, const char *buf, size_t len,
		     struct sysg_config **out, struct sysg_diag *diag)
{
	int rc = load_document(cfg, buf, len, diag);

	if (rc == 0)
		rc = fill_defaults(cfg);
	if (rc) {
		if (rc == -ENOMEM && !sysg_diag_count(diag))
			sysg_diag_error(diag, cfg->path, 0, 0, NULL, "out of memory");
		sysg_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

int sysg_config_load_buffer(const char *name, const char *base_dir,
			    const char *buf, size_t len,
			    struct sysg_config **out, struct sysg_diag *diag)
{
	const char *slash = strrchr(name, '/');
	char *dir = sysg_path_abs(NULL, base_dir ? base_dir : ".");
	char *abs = dir ? sysg_path_abs(dir, slash ? slash + 1 : name) : NULL;
	struct sysg_config *cfg = abs ? config_new(name, abs, dir) : NULL;

	*out = NULL;
	free(dir);
	free(abs);
	if (!cfg) {
		sysg_diag_error(diag, name, 0, 0, NULL, "out of memory");
		return -ENOMEM;
	}
	return load_into(cfg, buf, len, out, diag);
}

/* Read all of FD, stopping once more than MAX_FILE_BYTES were read (the
 * caller refuses that much). */
static int read_all(int fd, char **buf, size_t *len)
{
	size_t cap = 0, n = 0;
	char *b = NULL, *grown;
	ssize_t r;

	while (n <= (size_t)MAX_FILE_BYTES) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			grown = realloc(b, cap);
			if (!grown) {
				free(b);
				return -ENOMEM;
			}
			b = grown;
		}
		r = read(fd, b + n, cap - n);
		if (r == 0)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int rc = -errno;

			free(b);
			return rc;
		}
		n += (size_t)r;
	}
	*buf = b;
	*len = n;
	return 0;
}

static int read_file(const char *path, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	rc = read_all(fd, buf, len);
	close(fd);
	return rc;
}

int sysg_config_load(const char *path, struct sysg_config **out,
		     struct sysg_diag *diag)
{
	char *abs = sysg_path_abs(NULL, path), *dir, *buf = NULL;
	struct sysg_config *cfg;
	size_t len = 0;
	int rc;

	*out = NULL;
	dir = abs ? sysg_path_dirname(abs) : NULL;
	cfg = dir ? config_new(path, abs, dir) : NULL;
	free(abs);
	free(dir);
	if (!cfg) {
		sysg_diag_error(diag, path, 0, 0, NULL, "out of memory");
		return -ENOMEM;
	}
	rc = read_file(path, &buf, &len);
	if (rc) {
		sysg_diag_error(diag, path, 0, 0, NULL, "cannot read the config: %s",
				strerror(-rc));
		sysg_config_free(cfg);
		return rc;
	}
	rc = load_into(cfg, buf, len, out, diag);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------ queries */

char *sysg_config_find_default(const char *dir)
{
	static const char *const names[] = { "systemg.yaml", "sysg.yaml" };

	for (size_t i = 0; i < 2; i++) {
		char *p = dir ? sysg_path_join(dir, names[i]) : strdup(names[i]);

		if (p && access(p, F_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

int sysg_config_find_service(const struct sysg_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nservices; i++)
		if (cfg->services[i].name && !strcmp(cfg->services[i].name, name))
			return (int)i;
	return -1;
}

int sysg_service_is_cron(const struct sysg_service *svc)
{
	return svc->cron.present;
}

/* --------------------------------------------------------------- free */

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void free_kv(struct sysg_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static void free_env_spec(struct sysg_env_spec *e)
{
	free(e->file);
	free_kv(e->vars, e->nvars);
}

static void free_health(struct sysg_health *h)
{
	free(h->command);
	free(h->url);
}

static void free_hooks(struct sysg_hooks *h)
{
	struct sysg_hook_pair *pairs[] = { &h->on_start, &h->on_stop,
					   &h->on_restart };

	for (size_t i = 0; i < 3; i++) {
		free(pairs[i]->success.command);
		free(pairs[i]->error.command);
	}
}

static void free_deployment(struct sysg_deployment *d)
{
	struct sysg_blue_green *bg = &d->blue_green;

	free(d->strategy);
	free(d->pre_start);
	free_health(&d->health);
	free(bg->env_var);
	free(bg->slots[0]);
	free(bg->slots[1]);
	free(bg->candidate_health_check_url);
	free(bg->switch_command);
	free(bg->switch_verify_url);
	free(bg->state_path);
	free_kv(d->options, d->noptions);
}

static void free_service(struct sysg_service *s)
{
	free(s->name);
	free(s->command);
	free(s->command_raw);
	free_env_spec(&s->env);
	sysg_env_free(s->envp);
	free_strv(s->depends_on, s->ndepends_on);
	free(s->depends_on_marks);
	free_health(&s->health);
	free(s->skip_command);
	free_hooks(&s->hooks);
	free_deployment(&s->deployment);
	free(s->cron.expression);
	free(s->cron.timezone);
	free(s->user);
	free(s->group);
	free_strv(s->supplementary_groups, s->nsupplementary_groups);
	free(s->limits.cpu_affinity);
	free(s->limits.cgroup.root);
	free(s->limits.cgroup.cpu_max);
	free_strv(s->capabilities, s->ncapabilities);
}

void sysg_config_free(struct sysg_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nservices; i++)
		free_service(&cfg->services[i]);
	free(cfg->services);
	sysg_graph_free_waves(cfg->waves, cfg->wave_sizes, cfg->nwaves);
	free(cfg->path);
	free(cfg->abs_path);
	free(cfg->dir);
	free(cfg->project_dir);
	free(cfg->version);
	free_env_spec(&cfg->env);
	free(cfg->state_backend);
	free(cfg->state_path);
	free(cfg);
}
