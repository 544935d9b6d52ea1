/* status_json.c - the `status --json` document (schema in status.h):
 * write it with jansson, and read it back (a supervisor's reply). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "jsonw.h"
#include "status.h"

/* ------------------------------------------------------------- writer */

json_t *sysg_json_time_or_null(int64_t ms)
{
	char buf[40];

	if (ms <= 0)
		return json_null();
	sysg_format_iso8601(ms, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *int_or_null(int has, int64_t v)
{
	return has ? json_integer(v) : json_null();
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *last_exit_json(const struct sysg_unit_view *u)
{
	if (!u->has_exit_code && !u->has_signal && !u->oom)
		return json_null();
	return json_pack("{s:o, s:o, s:b}",
			 "code", int_or_null(u->has_exit_code, u->exit_code),
			 "signal", int_or_null(u->has_signal, u->signal),
			 "oom", u->oom);
}

static json_t *run_json(const struct sysg_cron_run *r)
{
	return json_pack("{s:o, s:o, s:s, s:o}",
			 "started_at", sysg_json_time_or_null(r->started_at_ms),
			 "completed_at",
			 sysg_json_time_or_null(r->completed_at_ms),
			 "status", r->status,
			 "exit_code", int_or_null(r->has_exit_code, r->exit_code));
}

static json_t *cron_json(const struct sysg_cron_view *c)
{
	json_t *runs = json_array();

	for (size_t i = 0; runs && i < c->nruns; i++)
		if (json_array_append_new(runs, run_json(&c->runs[i])) < 0) {
			json_decref(runs);
			return NULL;
		}
	return json_pack("{s:o, s:o, s:o, s:o, s:o}",
			 "expression", str_or_null(c->expression),
			 "timezone", str_or_null(c->timezone),
			 "next_run", sysg_json_time_or_null(c->next_run_ms),
			 "last_run", sysg_json_time_or_null(c->last_run_ms),
			 "recent_runs", runs);
}

/* CPU% rounded to two decimals, so the output stays short. */
static json_t *cpu_json(double pct)
{
	if (pct < 0)
		return json_null();
	return json_real((double)(int64_t)(pct * 100.0 + 0.5) / 100.0);
}

json_t *sysg_unit_view_to_json(const struct sysg_unit_view *u)
{
	json_t *children = json_array(), *o;

	for (size_t i = 0; children && i < u->nchildren; i++)
		if (json_array_append_new(children,
			sysg_unit_view_to_json(&u->children[i])) < 0) {
			json_decref(children);
			return NULL;
		}
	o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:i, s:s, s:o, s:o, "
		      "s:o, s:o, s:o}",
		      "name", u->name, "kind", sysg_unit_kind_name(u->kind),
		      "status", u->status,
		      "pid", int_or_null(u->pid > 0, u->pid),
		      "pgid", int_or_null(u->pgid > 0, u->pgid),
		      "uptime_s", int_or_null(u->uptime_s >= 0, u->uptime_s),
		      "restarts", u->restarts,
		      "health", sysg_health_name(u->health),
		      "last_exit", last_exit_json(u),
		      "command", str_or_null(u->command),
		      "cpu_percent", cpu_json(u->cpu_percent),
		      "rss_bytes", int_or_null(u->rss_bytes >= 0, u->rss_bytes),
		      "children", children);
	/* added in schema 1: why the unit is in its state (e.g. the last
	 * health check's cause), null when nothing to say */
	if (o && json_object_set_new(o, "reason", u->reason[0] ?
				     json_string(u->reason) : json_null())) {
		json_decref(o);
		return NULL;
	}
	/* only with projects (config/project.h): the unit's project id */
	if (o && u->project[0] && json_object_set_new(o, "project",
						      json_string(u->project))) {
		json_decref(o);
		return NULL;
	}
	if (o && u->cron && json_object_set_new(o, "cron", cron_json(u->cron))) {
		json_decref(o);
		return NULL;
	}
	if (o && ((u->status_text[0] && json_object_set_new(o, "status_text",
			json_string(u->status_text))) ||
		  (u->last_restart[0] && json_object_set_new(o, "last_restart",
			json_string(u->last_restart))))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *sysg_status_to_json(const struct sysg_status *s)
{
	json_t *units = json_array();
	char ts[40];

	for (size_t i = 0; units && i < s->nunits; i++)
		if (json_array_append_new(units,
			sysg_unit_view_to_json(&s->units[i])) < 0) {
			json_decref(units);
			return NULL;
		}
	sysg_format_iso8601(s->captured_at_ms, ts, sizeof(ts));
	return json_pack("{s:s, s:s, s:s, s:o}",
			 "schema_version", SYSG_STATUS_SCHEMA_VERSION,
			 "captured_at", ts,
			 "overall_health", sysg_overall_name(s->overall),
			 "units", units);
}

/* ------------------------------------------------ the text, directly */

/* The same document as sysg_status_to_json() + json_dumps(), written
 * straight to text (jsonw.h): key for key in the same order. */
static void time_w(struct jsonw *w, int64_t ms)
{
	char buf[40];

	if (ms <= 0) {
		jsonw_null(w);
		return;
	}
	sysg_format_iso8601(ms, buf, sizeof(buf));
	jsonw_str(w, buf);
}

static void int_or_null_w(struct jsonw *w, int has, int64_t v)
{
	if (has)
		jsonw_int(w, v);
	else
		jsonw_null(w);
}

static void last_exit_w(struct jsonw *w, const struct sysg_unit_view *u)
{
	if (!u->has_exit_code && !u->has_signal && !u->oom) {
		jsonw_null(w);
		return;
	}
	jsonw_open(w, '{');
	jsonw_key(w, "code");
	int_or_null_w(w, u->has_exit_code, u->exit_code);
	jsonw_key(w, "signal");
	int_or_null_w(w, u->has_signal, u->signal);
	jsonw_key(w, "oom");
	jsonw_bool(w, u->oom);
	jsonw_close(w, '}');
}

static void cron_w(struct jsonw *w, const struct sysg_cron_view *c)
{
	jsonw_open(w, '{');
	jsonw_key(w, "expression");
	jsonw_str(w, c->expression);
	jsonw_key(w, "timezone");
	jsonw_str(w, c->timezone);
	jsonw_key(w, "next_run");
	time_w(w, c->next_run_ms);
	jsonw_key(w, "last_run");
	time_w(w, c->last_run_ms);
	jsonw_key(w, "recent_runs");
	jsonw_open(w, '[');
	for (size_t i = 0; i < c->nruns; i++) {
		const struct sysg_cron_run *r = &c->runs[i];

		jsonw_item(w);
		jsonw_open(w, '{');
		jsonw_key(w, "started_at");
		time_w(w, r->started_at_ms);
		jsonw_key(w, "completed_at");
		time_w(w, r->completed_at_ms);
		jsonw_key(w, "status");
		jsonw_str(w, r->status);
		jsonw_key(w, "exit_code");
		int_or_null_w(w, r->has_exit_code, r->exit_code);
		jsonw_close(w, '}');
	}
	jsonw_close(w, ']');
	jsonw_close(w, '}');
}

static void unit_w(struct jsonw *w, const struct sysg_unit_view *u)
{
	jsonw_open(w, '{');
	jsonw_key(w, "name");
	jsonw_str(w, u->name);
	jsonw_key(w, "kind");
	jsonw_str(w, sysg_unit_kind_name(u->kind));
	jsonw_key(w, "status");
	jsonw_str(w, u->status);
	jsonw_key(w, "pid");
	int_or_null_w(w, u->pid > 0, u->pid);
	jsonw_key(w, "pgid");
	int_or_null_w(w, u->pgid > 0, u->pgid);
	jsonw_key(w, "uptime_s");
	int_or_null_w(w, u->uptime_s >= 0, u->uptime_s);
	jsonw_key(w, "restarts");
	jsonw_int(w, u->restarts);
	jsonw_key(w, "health");
	jsonw_str(w, sysg_health_name(u->health));
	jsonw_key(w, "last_exit");
	last_exit_w(w, u);
	jsonw_key(w, "command");
	jsonw_str(w, u->command);
	jsonw_key(w, "cpu_percent");
	if (u->cpu_percent < 0)
		jsonw_null(w);
	else
		jsonw_real(w, (double)(int64_t)(u->cpu_percent * 100.0 + 0.5) /
			   100.0);
	jsonw_key(w, "rss_bytes");
	int_or_null_w(w, u->rss_bytes >= 0, u->rss_bytes);
	jsonw_key(w, "children");
	jsonw_open(w, '[');
	for (size_t i = 0; i < u->nchildren; i++) {
		jsonw_item(w);
		unit_w(w, &u->children[i]);
	}
	jsonw_close(w, ']');
	jsonw_key(w, "reason");
	jsonw_str(w, u->reason[0] ? u->reason : NULL);
	if (u->project[0]) {
		jsonw_key(w, "project");
		jsonw_str(w, u->project);
	}
	if (u->cron) {
		jsonw_key(w, "cron");
		cron_w(w, u->cron);
	}
	if (u->status_text[0]) {
		jsonw_key(w, "status_text");
		jsonw_str(w, u->status_text);
	}
	if (u->last_restart[0]) {
		jsonw_key(w, "last_restart");
		jsonw_str(w, u->last_restart);
	}
	jsonw_close(w, '}');
}

static int write_status(const struct sysg_status *s, int compact,
			char **out)
{
	struct jsonw w;
	char ts[40];

	jsonw_init(&w, compact ? 0 : 2);
	sysg_format_iso8601(s->captured_at_ms, ts, sizeof(ts));
	jsonw_open(&w, '{');
	jsonw_key(&w, "schema_version");
	jsonw_str(&w, SYSG_STATUS_SCHEMA_VERSION);
	jsonw_key(&w, "captured_at");
	jsonw_str(&w, ts);
	jsonw_key(&w, "overall_health");
	jsonw_str(&w, sysg_overall_name(s->overall));
	jsonw_key(&w, "units");
	jsonw_open(&w, '[');
	for (size_t i = 0; i < s->nunits; i++) {
		jsonw_item(&w);
		unit_w(&w, &s->units[i]);
	}
	jsonw_close(&w, ']');
	jsonw_close(&w, '}');
	return jsonw_finish(&w, out);
}

static char *dump_status(const struct sysg_status *s, int compact)
{
	json_t *j;
	char *text;
	int rc = write_status(s, compact, &text);

	if (rc != JSONW_REFUSED)
		return rc == 0 ? text : NULL;
	/* what jansson refuses: let it say so, as it always did */
	j = sysg_status_to_json(s);
	if (!j)
		return NULL;
	text = json_dumps(j, SYSG_JSON_PRINT_FLAGS(compact));
	json_decref(j);
	return text;
}

char *sysg_status_to_json_string(const struct sysg_status *s)
{
	return dump_status(s, 1);
}

char *sysg_status_to_json_text(const struct sysg_status *s)
{
	return dump_status(s, 0);
}

/* ------------------------------------------------------------- reader */

/* A reader with the path of the field being read, for error messages. */
struct rd {
	char *err;
	size_t errlen;
	char path[128];
};

static int bad(struct rd *r, const char *key, const char *what)
{
	snprintf(r->err, r->errlen, "status JSON: %s%s%s: %s", r->path,
		 r->path[0] ? ": " : "", key, what);
	return -EINVAL;
}

static int get_string(struct rd *r, json_t *o, const char *key, int nullable,
		      const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v && json_is_null(v) && nullable)
		return 0;
	if (!json_is_string(v))
		return bad(r, key, nullable ? "expected a string or null" :
			   "expected a string");
	*out = json_string_value(v);
	return 0;
}

static int get_copy(struct rd *r, json_t *o, const char *key, char *buf,
		    size_t len)
{
	const char *s;
	int rc = get_string(r, o, key, 0, &s);

	if (rc == 0 && strlen(s) >= len)
		return bad(r, key, "too long");
	if (rc == 0)
		memcpy(buf, s, strlen(s) + 1);
	return rc;
}

static int get_dup(struct rd *r, json_t *o, const char *key, char **out)
{
	const char *s;
	int rc = get_string(r, o, key, 1, &s);

	*out = NULL;
	if (rc == 0 && s && !(*out = strdup(s)))
		return -ENOMEM;
	return rc;
}

/* An integer or null: *HAS is 0 for null. */
static int get_int(struct rd *r, json_t *o, const char *key, int *has,
		   int64_t *out)
{
	json_t *v = json_object_get(o, key);

	*has = 0;
	*out = 0;
	if (v && json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return bad(r, key, "expected an integer or null");
	*has = 1;
	*out = json_integer_value(v);
	return 0;
}

static int get_time(struct rd *r, json_t *o, const char *key, int64_t *ms)
{
	const char *s;
	int rc = get_string(r, o, key, 1, &s);

	*ms = 0;
	if (rc == 0 && s && sysg_parse_iso8601(s, ms) < 0)
		return bad(r, key, "expected an ISO-8601 UTC time");
	return rc;
}

static int get_enum(struct rd *r, json_t *o, const char *key,
		    const char *(*name)(int), int n, int *out)
{
	const char *s;
	int rc = get_string(r, o, key, 0, &s);

	for (int i = 0; rc == 0 && i < n; i++)
		if (!strcmp(s, name(i))) {
			*out = i;
			return 0;
		}
	return rc ? rc : bad(r, key, "unknown value");
}

static const char *kind_name(int k)
{
	return sysg_unit_kind_name((enum sysg_unit_kind)k);
}

static const char *health_name(int h)
{
	return sysg_health_name((enum sysg_unit_health)h);
}

static const char *overall_name(int o)
{
	return sysg_overall_name((enum sysg_overall)o);
}

static int read_run(struct rd *r, json_t *o, struct sysg_cron_run *run)
{
	int64_t code = 0;
	int rc;

	if (!json_is_object(o))
		return bad(r, "recent_runs", "expected objects");
	rc = get_time(r, o, "started_at", &run->started_at_ms);
	if (rc == 0)
		rc = get_time(r, o, "completed_at", &run->completed_at_ms);
	if (rc == 0)
		rc = get_copy(r, o, "status", run->status, sizeof(run->status));
	if (rc == 0)
		rc = get_int(r, o, "exit_code", &run->has_exit_code, &code);
	run->exit_code = (int)code;
	return rc;
}

static int read_cron(struct rd *r, json_t *o, struct sysg_cron_view *c)
{
	json_t *runs = json_object_get(o, "recent_runs"), *v;
	size_t i;
	int rc;

	if (!json_is_object(o))
		return bad(r, "cron", "expected an object");
	rc = get_dup(r, o, "expression", &c->expression);
	if (rc == 0)
		rc = get_dup(r, o, "timezone", &c->timezone);
	if (rc == 0)
		rc = get_time(r, o, "next_run", &c->next_run_ms);
	if (rc == 0)
		rc = get_time(r, o, "last_run", &c->last_run_ms);
	if (rc == 0 && !json_is_array(runs))
		rc = bad(r, "cron.recent_runs", "expected an array");
	if (rc < 0)
		return rc;
	c->runs = calloc(json_array_size(runs) + 1, sizeof(*c->runs));
	if (!c->runs)
		return -ENOMEM;
	json_array_foreach(runs, i, v) {
		rc = read_run(r, v, &c->runs[i]);
		if (rc < 0)
			return rc;
		c->nruns = i + 1;
	}
	return 0;
}

static int read_units(struct rd *r, json_t *arr, struct sysg_unit_view **out,
		      size_t *n);

static int read_last_exit(struct rd *r, json_t *o, struct sysg_unit_view *u)
{
	json_t *le = json_object_get(o, "last_exit");
	int64_t v = 0;
	int rc;

	if (le && json_is_null(le))
		return 0;
	if (!json_is_object(le))
		return bad(r, "last_exit", "expected an object or null");
	rc = get_int(r, le, "code", &u->has_exit_code, &v);
	u->exit_code = (int)v;
	if (rc == 0)
		rc = get_int(r, le, "signal", &u->has_signal, &v);
	u->signal = (int)v;
	u->oom = json_is_true(json_object_get(le, "oom"));
	return rc;
}

static int read_numbers(struct rd *r, json_t *o, struct sysg_unit_view *u)
{
	json_t *cpu = json_object_get(o, "cpu_percent");
	int64_t v = 0;
	int has, rc;

	rc = get_int(r, o, "pid", &has, &u->pid);
	if (rc == 0)
		rc = get_int(r, o, "pgid", &has, &u->pgid);
	if (rc == 0)
		rc = get_int(r, o, "uptime_s", &has, &u->uptime_s);
	if (rc == 0 && !has)
		u->uptime_s = -1;
	if (rc == 0)
		rc = get_int(r, o, "rss_bytes", &has, &u->rss_bytes);
	if (rc == 0 && !has)
		u->rss_bytes = -1;
	if (rc == 0)
		rc = get_int(r, o, "restarts", &has, &v);
	if (rc == 0 && !has)
		rc = bad(r, "restarts", "expected an integer");
	u->restarts = (int)v;
	if (rc == 0 && !(json_is_number(cpu) || json_is_null(cpu)))
		rc = bad(r, "cpu_percent", "expected a number or null");
	u->cpu_percent = json_is_number(cpu) ? json_number_value(cpu) : -1;
	return rc;
}

static int read_unit(struct rd *r, json_t *o, struct sysg_unit_view *u)
{
	json_t *cron = json_object_get(o, "cron");
	int kind = 0, health = 0, rc;

	u->uptime_s = -1;
	u->rss_bytes = -1;
	u->cpu_percent = -1;
	if (!json_is_object(o))
		return bad(r, "units", "expected objects");
	rc = get_copy(r, o, "name", u->name, sizeof(u->name));
	if (rc == 0)
		snprintf(r->path, sizeof(r->path), "unit '%.100s'", u->name);
	if (rc == 0)
		rc = get_enum(r, o, "kind", kind_name, 5, &kind);
	if (rc == 0)
		rc = get_copy(r, o, "status", u->status, sizeof(u->status));
	if (rc == 0)
		rc = get_enum(r, o, "health", health_name, 3, &health);
	u->kind = (enum sysg_unit_kind)kind;
	u->health = (enum sysg_unit_health)health;
	if (rc == 0)
		rc = read_numbers(r, o, u);
	if (rc == 0)
		rc = read_last_exit(r, o, u);
	if (rc == 0)
		rc = get_dup(r, o, "command", &u->command);
	if (rc == 0 && json_is_string(json_object_get(o, "project")))
		rc = get_copy(r, o, "project", u->project, sizeof(u->project));
	if (rc == 0 && json_object_get(o, "status_text"))
		rc = get_copy(r, o, "status_text", u->status_text,
			      sizeof(u->status_text));
	if (rc == 0 && json_object_get(o, "last_restart"))
		rc = get_copy(r, o, "last_restart", u->last_restart,
			      sizeof(u->last_restart));
	if (rc == 0 && json_is_string(json_object_get(o, "reason")))
		snprintf(u->reason, sizeof(u->reason), "%s",
			 json_string_value(json_object_get(o, "reason")));
	if (rc == 0)
		rc = read_units(r, json_object_get(o, "children"), &u->children,
				&u->nchildren);
	snprintf(r->path, sizeof(r->path), "unit '%.100s'", u->name);
	if (rc == 0 && cron) {
		u->cron = calloc(1, sizeof(*u->cron));
		rc = u->cron ? read_cron(r, cron, u->cron) : -ENOMEM;
	}
	return rc;
}

static int read_units(struct rd *r, json_t *arr, struct sysg_unit_view **out,
		      size_t *n)
{
	json_t *v;
	size_t i;
	int rc;

	if (!json_is_array(arr))
		return bad(r, "units", "expected an array");
	*out = calloc(json_array_size(arr) + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		rc = read_unit(r, v, &(*out)[i]);
		*n = i + 1;
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int read_doc(struct rd *r, json_t *doc, struct sysg_status *out)
{
	const char *ver;
	int overall = 0, rc;

	if (!json_is_object(doc))
		return bad(r, "(document)", "expected an object");
	rc = get_string(r, doc, "schema_version", 0, &ver);
	if (rc == 0 && strcmp(ver, SYSG_STATUS_SCHEMA_VERSION))
		rc = bad(r, "schema_version", "unsupported version");
	if (rc == 0)
		rc = get_time(r, doc, "captured_at", &out->captured_at_ms);
	if (rc == 0 && !out->captured_at_ms)
		rc = bad(r, "captured_at", "missing");
	if (rc == 0)
		rc = get_enum(r, doc, "overall_health", overall_name, 3, &overall);
	out->overall = (enum sysg_overall)overall;
	if (rc == 0)
		rc = read_units(r, json_object_get(doc, "units"), &out->units,
				&out->nunits);
	return rc;
}

int sysg_status_from_json(const char *text, struct sysg_status *out,
			  char *err, size_t errlen)
{
	struct rd r = { err, errlen, "" };
	json_error_t je;
	json_t *doc;
	int rc;

	memset(out, 0, sizeof(*out));
	doc = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!doc) {
		sysg_errf(err, errlen, "status JSON: line %d: %s", je.line,
			  je.text);
		return -EINVAL;
	}
	rc = read_doc(&r, doc, out);
	json_decref(doc);
	if (rc < 0)
		sysg_status_free(out);
	return rc;
}
