/* yamlwalk.c - see yamlwalk.h */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"
#include "yamlwalk.h"

/* ------------------------------------------------------------ loading */

/* 1-based line and column of byte OFFSET in BUF (for reader errors, which
 * libyaml reports as an offset only). */
static void offset_position(const char *buf, size_t len, size_t offset,
			    int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	if (offset > len)
		offset = len;
	for (i = 0; i < offset; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)buf[i] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

/* The byte at 0-based LINE / character COLUMN of BUF, or -1. */
static int byte_at(const char *buf, size_t len, size_t line, size_t column)
{
	size_t i = 0, l = 0, c = 0;

	while (i < len && l < line)
		if (buf[i++] == '\n')
			l++;
	for (; i < len && buf[i] != '\n'; i++) {
		if (((unsigned char)buf[i] & 0xC0) == 0x80)
			continue;
		if (c++ == column)
			return (unsigned char)buf[i];
	}
	return -1;
}

static int report_parser_error(const yaml_parser_t *p, const char *file,
			       const char *buf, size_t len,
			       struct sysg_diag *diag)
{
	const char *problem = p->problem ? p->problem : "invalid YAML";
	const yaml_mark_t *pm = &p->problem_mark, *cm = &p->context_mark;
	const char *hint = "";
	int line, col;

	if (p->error == YAML_MEMORY_ERROR) {
		sysg_diag_error(diag, file, 0, 0, NULL, "out of memory");
		return -ENOMEM;
	}
	if (p->error == YAML_READER_ERROR) {
		offset_position(buf, len, p->problem_offset, &line, &col);
		sysg_diag_error(diag, file, line, col, NULL,
				"%s (byte 0x%02X at offset %zu); a config must be UTF-8 text",
				problem, (unsigned)p->problem_value & 0xFFu,
				p->problem_offset);
		return -EINVAL;
	}
	if (byte_at(buf, len, pm->line, pm->column) == '\t' &&
	    !strstr(problem, "tab"))
		hint = "; tabs cannot be used for indentation, use spaces";
	if (p->context && (cm->line != pm->line || cm->column != pm->column))
		sysg_diag_error(diag, file, (int)pm->line + 1,
				(int)pm->column + 1, NULL,
				"%s (%s that started at line %zu, column %zu)%s",
				problem, p->context, cm->line + 1,
				cm->column + 1, hint);
	else if (p->context)
		sysg_diag_error(diag, file, (int)pm->line + 1,
				(int)pm->column + 1, NULL, "%s (%s)%s", problem,
				p->context, hint);
	else
		sysg_diag_error(diag, file, (int)pm->line + 1,
				(int)pm->column + 1, NULL, "%s%s", problem,
				hint);
	return -EINVAL;
}

/* After the first document: anything but the end of the stream is an
 * error. */
static int check_single_document(yaml_parser_t *p, const char *file,
				 const char *buf, size_t len,
				 struct sysg_diag *diag)
{
	yaml_document_t extra;
	int rc = 0;

	if (!yaml_parser_load(p, &extra))
		return report_parser_error(p, file, buf, len, diag);
	if (yaml_document_get_root_node(&extra)) {
		sysg_diag_error(diag, file, (int)extra.start_mark.line + 1,
				(int)extra.start_mark.column + 1, NULL,
				"a second YAML document ('---'); a config holds exactly one");
		rc = -EINVAL;
	}
	yaml_document_delete(&extra);
	return rc;
}

/* Limits checked on the event stream before libyaml builds the document:
 * its scanner is quadratic in the nesting depth and its loader in the
 * number of anchors times aliases. */
struct shape {
	int depth;
	size_t anchors, aliases;
};

/* Account for event EV; returns 0, or -1 with a message in MSG when a
 * limit is exceeded. */
static int shape_event(struct shape *s, const yaml_event_t *ev, char *msg,
		       size_t len)
{
	const yaml_char_t *anchor = NULL;

	switch (ev->type) {
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		s->depth++;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		s->depth++;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		s->depth--;
		break;
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		break;
	case YAML_ALIAS_EVENT:
		s->aliases++;
		break;
	default:
		break;
	}
	s->anchors += anchor != NULL;
	if (s->depth > SYSG_YW_MAX_DEPTH)
		snprintf(msg, len, "lists and maps nested more than %d levels deep",
			 SYSG_YW_MAX_DEPTH);
	else if (s->anchors > SYSG_YW_MAX_ANCHORS)
		snprintf(msg, len, "more than %d anchors ('&name')",
			 SYSG_YW_MAX_ANCHORS);
	else if (s->aliases > SYSG_YW_MAX_ALIASES)
		snprintf(msg, len, "more than %d aliases ('*name')",
			 SYSG_YW_MAX_ALIASES);
	else
		return 0;
	return -1;
}

/* A first pass over the events: reports syntax errors and documents
 * whose shape would make loading them very slow. */
static int check_shape(const char *file, const char *buf, size_t len,
		       struct sysg_diag *diag)
{
	struct shape s = { 0, 0, 0 };
	yaml_parser_t p;
	yaml_event_t ev;
	int rc = 0, done = 0;

	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!done && rc == 0) {
		char msg[SYSG_ERR_MAX];

		if (!yaml_parser_parse(&p, &ev)) {
			rc = report_parser_error(&p, file, buf, len, diag);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		if (shape_event(&s, &ev, msg, sizeof(msg))) {
			sysg_diag_error(diag, file, (int)ev.start_mark.line + 1,
					(int)ev.start_mark.column + 1, NULL,
					"%s", msg);
			rc = -EINVAL;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

int sysg_yw_load(const char *file, const char *buf, size_t len,
		 yaml_document_t *doc, struct sysg_diag *diag)
{
	yaml_parser_t p;
	int rc = check_shape(file, buf, len, diag);

	if (rc)
		return rc;
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&p, doc)) {
		rc = report_parser_error(&p, file, buf, len, diag);
		yaml_parser_delete(&p);
		return rc;
	}
	if (!yaml_document_get_root_node(doc)) {
		sysg_diag_error(diag, file, 1, 1, NULL,
				"the file is empty; expected a map with 'version' and 'services'");
		rc = -EINVAL;
	} else {
		rc = check_single_document(&p, file, buf, len, diag);
	}
	yaml_parser_delete(&p);
	if (rc)
		yaml_document_delete(doc);
	return rc;
}

/* ----------------------------------------------------- context, errors */

void sysg_yw_init(struct sysg_yw *w, struct sysg_diag *diag,
		  const char *file, yaml_document_t *doc)
{
	memset(w, 0, sizeof(*w));
	w->diag = diag;
	w->file = file;
	w->doc = doc;
	w->budget = SYSG_YW_MAX_NODES;
}

static void verror(struct sysg_yw *w, int line, int col, const char *fmt,
		   va_list ap)
{
	char msg[2 * SYSG_ERR_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	w->errors++;
	sysg_diag_error(w->diag, w->file, line, col, w->path, "%s", msg);
}

void sysg_yw_error(struct sysg_yw *w, const yaml_node_t *at,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(w, at ? sysg_yw_line(at) : 0, at ? sysg_yw_col(at) : 0, fmt,
	       ap);
	va_end(ap);
}

void sysg_yw_error_at(struct sysg_yw *w, int line, int col,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(w, line, col, fmt, ap);
	va_end(ap);
}

void sysg_yw_nomem(struct sysg_yw *w)
{
	if (!w->nomem)
		sysg_diag_error(w->diag, w->file, 0, 0, NULL, "out of memory");
	w->nomem = 1;
	w->aborted = 1;
	w->errors++;
}

/* Take one node from the budget; on exhaustion report once and stop. */
static int spend(struct sysg_yw *w, const yaml_node_t *at, size_t n)
{
	if (w->aborted)
		return -1;
	if (n <= w->budget) {
		w->budget -= n;
		return 0;
	}
	sysg_yw_error(w, at,
		      "the document has more than %d entries (counting every use of an alias or merge key)",
		      SYSG_YW_MAX_NODES);
	w->aborted = 1;
	return -1;
}

/* ---------------------------------------------------------- key paths */

static void path_append(struct sysg_yw *w, const char *s)
{
	size_t cap = sizeof(w->path) - 1;

	for (; *s && w->pathlen < cap; s++)
		w->path[w->pathlen++] = (unsigned char)*s < 0x20 ? '?' : *s;
	w->path[w->pathlen] = '\0';
}

size_t sysg_yw_push_key(struct sysg_yw *w, const char *key)
{
	size_t old = w->pathlen;

	if (old)
		path_append(w, ".");
	path_append(w, key);
	return old;
}

size_t sysg_yw_push_index(struct sysg_yw *w, size_t i)
{
	size_t old = w->pathlen;
	char idx[32];

	snprintf(idx, sizeof(idx), "[%zu]", i);
	path_append(w, idx);
	return old;
}

void sysg_yw_pop(struct sysg_yw *w, size_t old)
{
	if (old < w->base)
		old = w->base;
	w->pathlen = old;
	w->path[old] = '\0';
}

/* --------------------------------------------------------------- nodes */

int sysg_yw_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

int sysg_yw_col(const yaml_node_t *n)
{
	return (int)n->start_mark.column + 1;
}

/* The node with index I of the walked document (NULL if out of range). */
static yaml_node_t *node_at(struct sysg_yw *w, int i)
{
	return yaml_document_get_node(w->doc, i);
}

const char *sysg_yw_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ?
	       (const char *)n->data.scalar.value : NULL;
}

int sysg_yw_is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	const char *s = sysg_yw_scalar(n);

	if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (!strcmp(s, nulls[i]))
			return 1;
	return 0;
}

const char *sysg_yw_quote(const char *s, char *buf, size_t len)
{
	size_t i, max = 60;

	if (len < 8)
		return "";
	if (max > len - 4)
		max = len - 4;
	for (i = 0; s[i] && i < max; i++)
		buf[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
	if (s[i]) {
		/* do not cut a UTF-8 sequence in half */
		while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
			i--;
		buf[i++] = '.';
		buf[i++] = '.';
		buf[i++] = '.';
	}
	buf[i] = '\0';
	return buf;
}

const char *sysg_yw_describe(const yaml_node_t *n, char *buf, size_t len)
{
	char q[80];

	if (!n)
		return "nothing";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (n->type == YAML_MAPPING_NODE)
		return "a map";
	if (sysg_yw_is_null(n))
		return "null";
	snprintf(buf, len, "'%s'", sysg_yw_quote(sysg_yw_scalar(n), q,
						  sizeof(q)));
	return buf;
}

/* ------------------------------------------------- maps and merge keys */

struct pairs {
	struct sysg_yw_pair *v;
	size_t n, cap;
};

static int is_merge_key(const yaml_node_t *k)
{
	return k && k->type == YAML_SCALAR_NODE &&
	       k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       !strcmp((const char *)k->data.scalar.value, "<<");
}

static int pairs_add(struct sysg_yw *w, struct pairs *ps, yaml_node_t *k,
		     yaml_node_t *v, int merged)
{
	struct sysg_yw_pair *grown;

	if (spend(w, k, 1))
		return -1;
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 8;

		grown = realloc(ps->v, cap * sizeof(*grown));
		if (!grown) {
			sysg_yw_nomem(w);
			return -1;
		}
		ps->v = grown;
		ps->cap = cap;
	}
	ps->v[ps->n] = (struct sysg_yw_pair){ k, v,
		(const char *)k->data.scalar.value, ps->n, merged };
	ps->n++;
	return 0;
}

static void collect_map(struct sysg_yw *w, yaml_node_t *map,
			struct pairs *ps, int merged, int depth);

static void collect_merge(struct sysg_yw *w, yaml_node_t *v,
			  struct pairs *ps, int depth)
{
	char d[96];

	if (depth > SYSG_YW_MAX_MERGE_DEPTH) {
		sysg_yw_error(w, v, "merge keys ('<<') nested more than %d deep (an anchor that includes itself?)",
			      SYSG_YW_MAX_MERGE_DEPTH);
		w->aborted = 1;
		return;
	}
	if (v->type == YAML_MAPPING_NODE) {
		collect_map(w, v, ps, 1, depth);
		return;
	}
	if (v->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top && !w->aborted; it++) {
			yaml_node_t *m = node_at(w, *it);

			if (m && m->type == YAML_MAPPING_NODE)
				collect_map(w, m, ps, 1, depth);
			else if (m)
				sysg_yw_error(w, m, "'<<' expects a map or a list of maps, found %s in the list",
					      sysg_yw_describe(m, d, sizeof(d)));
		}
		return;
	}
	sysg_yw_error(w, v, "'<<' expects a map or a list of maps, found %s",
		      sysg_yw_describe(v, d, sizeof(d)));
}

/* 1 + the first control character (NUL included) of the key K, or 0:
 * names key tables and files, so "a\u0000b" must never become "a". */
static int has_control(const yaml_node_t *k)
{
	const unsigned char *s = k->data.scalar.value;

	for (size_t i = 0; i < k->data.scalar.length; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return s[i] + 1;
	return 0;
}

/* Explicit keys first (file order), then each merge source in order:
 * ordinals then encode precedence (lower wins). */
static void collect_map(struct sysg_yw *w, yaml_node_t *map,
			struct pairs *ps, int merged, int depth)
{
	yaml_node_pair_t *p;
	char d[96];

	for (p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top && !w->aborted; p++) {
		yaml_node_t *k = node_at(w, p->key);
		yaml_node_t *v = node_at(w, p->value);

		if (!k || !v || is_merge_key(k))
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			if (!merged)
				sysg_yw_error(w, k, "expected a name as key, found %s",
					      sysg_yw_describe(k, d, sizeof(d)));
			continue;
		}
		if (has_control(k)) {
			if (!merged)
				sysg_yw_error(w, k, "a name may not contain control characters (found byte 0x%02x)",
					      has_control(k) - 1);
			continue;
		}
		pairs_add(w, ps, k, v, merged);
	}
	for (p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top && !w->aborted; p++) {
		yaml_node_t *k = node_at(w, p->key);
		yaml_node_t *v = node_at(w, p->value);

		if (k && v && is_merge_key(k))
			collect_merge(w, v, ps, depth + 1);
	}
}

static int key_cmp(const struct sysg_yw_pair *a, const struct sysg_yw_pair *b)
{
	size_t la = a->key->data.scalar.length, lb = b->key->data.scalar.length;
	int c = memcmp(a->name, b->name, la < lb ? la : lb);

	if (c)
		return c;
	return la < lb ? -1 : la > lb;
}

static int by_key_then_ord(const void *x, const void *y)
{
	const struct sysg_yw_pair *a = x, *b = y;
	int c = key_cmp(a, b);

	if (c)
		return c;
	return a->ord < b->ord ? -1 : a->ord > b->ord;
}

static int by_ord(const void *x, const void *y)
{
	const struct sysg_yw_pair *a = x, *b = y;

	return a->ord < b->ord ? -1 : a->ord > b->ord;
}

/* Keep the first (lowest ordinal) of each key; an explicit key written
 * twice is an error. */
static void dedupe(struct sysg_yw *w, struct pairs *ps)
{
	size_t i, o = 1;
	char q[80];

	if (ps->n < 2)
		return;
	qsort(ps->v, ps->n, sizeof(*ps->v), by_key_then_ord);
	for (i = 1; i < ps->n; i++) {
		struct sysg_yw_pair *cur = &ps->v[i], *keep = &ps->v[o - 1];

		if (key_cmp(cur, keep)) {
			ps->v[o++] = *cur;
			continue;
		}
		if (!cur->merged && !keep->merged) {
			size_t old = sysg_yw_push_key(w, cur->name);

			sysg_yw_error(w, cur->key,
				      "duplicate key '%s' (first defined at line %d)",
				      sysg_yw_quote(cur->name, q, sizeof(q)),
				      sysg_yw_line(keep->key));
			sysg_yw_pop(w, old);
		}
	}
	ps->n = o;
	qsort(ps->v, ps->n, sizeof(*ps->v), by_ord);
}

int sysg_yw_map_pairs(struct sysg_yw *w, yaml_node_t *map,
		      struct sysg_yw_pair **pairs, size_t *n)
{
	struct pairs ps = { NULL, 0, 0 };
	char d[96];

	*pairs = NULL;
	*n = 0;
	if (map->type != YAML_MAPPING_NODE) {
		sysg_yw_error(w, map, "expected a map, found %s",
			      sysg_yw_describe(map, d, sizeof(d)));
		return -1;
	}
	collect_map(w, map, &ps, 0, 0);
	dedupe(w, &ps);
	if (ps.n > SYSG_YW_MAX_ENTRIES && !w->aborted) {
		sysg_yw_error(w, map, "too many entries (%zu, at most %d)",
			      ps.n, SYSG_YW_MAX_ENTRIES);
		w->aborted = 1;
	}
	if (w->aborted) {
		free(ps.v);
		return -1;
	}
	*pairs = ps.v;
	*n = ps.n;
	return 0;
}

/* ------------------------------------------------------ schema dispatch */

const char *sysg_yw_suggest(const char *s, const char *const *candidates)
{
	return sysg_suggest(s, candidates);
}

/* A key is taken for a misspelling of a known one when it is at most this
 * many edits away (SPEC 2); other unknown keys are ignored with a warning,
 * as systemg ignores them (SPEC 11), or refused in strict mode. */
#define TYPO_EDITS 2

const char *sysg_yw_misspelt(const char *s, const char *const *candidates)
{
	size_t d;
	const char *best = sysg_closest(s, candidates, &d);

	return d <= TYPO_EDITS ? best : NULL;
}

void sysg_yw_unknown_key(struct sysg_yw *w, const yaml_node_t *key,
			 const char *const *names)
{
	const char *name = sysg_yw_scalar(key);
	const char *hint = sysg_yw_misspelt(name, names);
	char q[80];

	if (hint)
		sysg_yw_error(w, key, "unknown key '%s' (did you mean '%s'?)",
			      sysg_yw_quote(name, q, sizeof(q)), hint);
	else if (w->strict)
		sysg_yw_error(w, key, "unknown key '%s' (--strict)",
			      sysg_yw_quote(name, q, sizeof(q)));
	else
		sysg_diag_warning(w->diag, w->file, sysg_yw_line(key),
				  sysg_yw_col(key), w->path,
				  "unknown key, ignored");
}

/* Report KEY as unknown against the names in FIELDS. */
static void unknown_key(struct sysg_yw *w, yaml_node_t *key,
			const struct sysg_yw_field *fields)
{
	const char *names[65];
	size_t n = 0;

	for (; fields && fields->key && n < 64; fields++)
		names[n++] = fields->key;
	names[n] = NULL;
	sysg_yw_unknown_key(w, key, names);
}

static const struct sysg_yw_field *find_field(const struct sysg_yw_field *f,
					      const char *name, size_t *idx)
{
	for (*idx = 0; f[*idx].key; (*idx)++)
		if (!strcmp(f[*idx].key, name))
			return &f[*idx];
	return NULL;
}

static void report_missing(struct sysg_yw *w, yaml_node_t *at,
			   const struct sysg_yw_field *fields, uint64_t seen)
{
	for (size_t i = 0; fields[i].key && i < 64; i++) {
		size_t old;

		if (!(fields[i].flags & SYSG_YW_REQUIRED) ||
		    (seen & ((uint64_t)1 << i)))
			continue;
		old = sysg_yw_push_key(w, fields[i].key);
		sysg_yw_error(w, at, "required key is missing");
		sysg_yw_pop(w, old);
	}
}

uint64_t sysg_yw_walk_pairs(struct sysg_yw *w, yaml_node_t *owner,
			    yaml_node_t *map, const struct sysg_yw_pair *pairs,
			    size_t n, const struct sysg_yw_field *fields,
			    void *obj, sysg_yw_unknown_fn unknown)
{
	uint64_t seen = 0;

	for (size_t i = 0; i < n && !w->aborted; i++) {
		const struct sysg_yw_pair *p = &pairs[i];
		size_t idx, old = sysg_yw_push_key(w, p->name);
		const struct sysg_yw_field *f = find_field(fields, p->name, &idx);

		if (!f) {
			if (!unknown || !unknown(w, p->key, p->val, obj))
				unknown_key(w, p->key, fields);
		} else {
			if (idx < 64)
				seen |= (uint64_t)1 << idx;
			if (!sysg_yw_is_null(p->val) ||
			    (f->flags & SYSG_YW_REQUIRED))
				f->fn(w, p->key, p->val, (char *)obj + f->off);
		}
		sysg_yw_pop(w, old);
	}
	if (!w->aborted)
		report_missing(w, owner ? owner : map, fields, seen);
	return seen;
}

uint64_t sysg_yw_walk_map(struct sysg_yw *w, yaml_node_t *owner,
			  yaml_node_t *map, const struct sysg_yw_field *fields,
			  void *obj, sysg_yw_unknown_fn unknown)
{
	struct sysg_yw_pair *pairs;
	size_t n;
	uint64_t seen;

	if (sysg_yw_map_pairs(w, map, &pairs, &n))
		return 0;
	seen = sysg_yw_walk_pairs(w, owner, map, pairs, n, fields, obj,
				  unknown);
	free(pairs);
	return seen;
}

/* --------------------------------------------------------------- lists */

int sysg_yw_list(struct sysg_yw *w, yaml_node_t *n, int scalar_ok,
		 yaml_node_t ***items, size_t *count)
{
	size_t i, cnt;
	char d[96];

	*items = NULL;
	*count = 0;
	if (scalar_ok && n->type == YAML_SCALAR_NODE) {
		*items = malloc(sizeof(**items));
		if (!*items) {
			sysg_yw_nomem(w);
			return -1;
		}
		(*items)[0] = n;
		*count = 1;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		sysg_yw_error(w, n, "expected a list, found %s",
			      sysg_yw_describe(n, d, sizeof(d)));
		return -1;
	}
	cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (cnt > SYSG_YW_MAX_ENTRIES) {
		sysg_yw_error(w, n, "too many entries (%zu, at most %d)", cnt,
			      SYSG_YW_MAX_ENTRIES);
		return -1;
	}
	if (spend(w, n, cnt))
		return -1;
	*items = calloc(cnt ? cnt : 1, sizeof(**items));
	if (!*items) {
		sysg_yw_nomem(w);
		return -1;
	}
	for (i = 0; i < cnt; i++)
		(*items)[i] = node_at(w, n->data.sequence.items.start[i]);
	*count = cnt;
	return 0;
}

/* ------------------------------------------------------------- scalars */

/* The scalar text of N, or NULL after reporting "expected WHAT". */
int sysg_yw_is_include(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE && n->tag &&
	       !strcmp((const char *)n->tag, "!include");
}

static const char *scalar_or_report(struct sysg_yw *w, yaml_node_t *n,
				    const char *what)
{
	char d[96];

	if (sysg_yw_is_include(n) && !w->include_ok) {
		sysg_yw_error(w, n, "!include FILE goes where services go: "
			      "'services: !include F', a project ('ID: "
			      "!include F' under 'projects') or an 'include' "
			      "item");
		return NULL;
	}
	if (n->type != YAML_SCALAR_NODE || sysg_yw_is_null(n)) {
		sysg_yw_error(w, n, "expected %s, found %s", what,
			      sysg_yw_describe(n, d, sizeof(d)));
		return NULL;
	}
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		sysg_yw_error(w, n, "expected %s, found text with a NUL character",
			      what);
		return NULL;
	}
	if (w->expand && w->mode != SYSG_YW_RAW)
		return w->expand(w, n, (const char *)n->data.scalar.value);
	return (const char *)n->data.scalar.value;
}

const char *sysg_yw_value(struct sysg_yw *w, const yaml_node_t *n)
{
	const char *s = sysg_yw_scalar(n);

	if (!s || !w->expand || w->mode == SYSG_YW_RAW ||
	    strlen(s) != n->data.scalar.length)
		return s;
	return w->expand(w, n, s);
}

int sysg_yw_set_mode(struct sysg_yw *w, int mode)
{
	int old = w->mode;

	w->mode = mode;
	return old;
}

/* Byte offset in W->src of the start of 0-based LINE, or SIZE_MAX. */
static size_t line_start(const struct sysg_yw *w, size_t line)
{
	size_t off = 0;

	for (; line > 0; line--) {
		const char *nl = memchr(w->src + off, '\n', w->srclen - off);

		if (!nl)
			return SIZE_MAX;
		off = (size_t)(nl - w->src) + 1;
	}
	return off;
}

/* Skip COLS characters (UTF-8) from OFF on one line. */
static size_t skip_cols(const struct sysg_yw *w, size_t off, size_t cols)
{
	while (cols > 0 && off < w->srclen && w->src[off] != '\n') {
		off++;
		while (off < w->srclen && (w->src[off] & 0xC0) == 0x80)
			off++;
		cols--;
	}
	return off;
}

static void pos_of(const struct sysg_yw *w, size_t at, int *line, int *col)
{
	size_t ls = at;

	while (ls > 0 && w->src[ls - 1] != '\n')
		ls--;
	*line = 1;
	for (size_t i = 0; i < ls; i++)
		*line += w->src[i] == '\n';
	*col = 1;
	for (size_t i = ls; i < at; i++)
		*col += (w->src[i] & 0xC0) != 0x80;
}

void sysg_yw_value_pos(const struct sysg_yw *w, const yaml_node_t *n,
		       size_t off, const char *needle, int *line, int *col)
{
	const char *s = sysg_yw_scalar(n), *p;
	size_t start, end, nlen = strlen(needle), k = 0;

	*line = sysg_yw_line(n);
	*col = sysg_yw_col(n);
	if (!w->src || !s || !nlen)
		return;
	/* the same text may come earlier in the value: find its K-th
	 * occurrence in the source between N's start and end */
	for (p = strstr(s, needle); p && (size_t)(p - s) < off;
	     p = strstr(p + 1, needle))
		k++;
	start = line_start(w, n->start_mark.line);
	end = line_start(w, n->end_mark.line);
	if (start == SIZE_MAX || end == SIZE_MAX)
		return;
	start = skip_cols(w, start, n->start_mark.column);
	end = skip_cols(w, end, n->end_mark.column);
	for (size_t i = start; i + nlen <= end; i++) {
		if (memcmp(w->src + i, needle, nlen))
			continue;
		if (k-- == 0) {
			pos_of(w, i, line, col);
			return;
		}
	}
}

int sysg_yw_string(struct sysg_yw *w, yaml_node_t *n, char **out)
{
	const char *s = scalar_or_report(w, n, "a string");
	char *copy;

	if (!s)
		return -1;
	copy = strdup(s);
	if (!copy) {
		sysg_yw_nomem(w);
		return -1;
	}
	free(*out);
	*out = copy;
	return 0;
}

int sysg_yw_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };

	for (size_t i = 0; i < 3; i++) {
		if (!strcasecmp(s, yes[i]))
			return *out = 1, 0;
		if (!strcasecmp(s, no[i]))
			return *out = 0, 0;
	}
	return -1;
}

int sysg_yw_bool(struct sysg_yw *w, yaml_node_t *n, int *out)
{
	const char *s = scalar_or_report(w, n, "true or false");
	char q[80];

	if (!s)
		return -1;
	if (sysg_yw_parse_bool(s, out) == 0)
		return 0;
	sysg_yw_error(w, n, "expected true or false, found '%s'",
		      sysg_yw_quote(s, q, sizeof(q)));
	return -1;
}

int sysg_yw_parse_ll(const char *s, long long *out)
{
	char *end;
	long long v;

	while (*s == ' ')
		s++;
	if (!*s || !strchr("+-0123456789", *s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s)
		return -1;
	while (*end == ' ')
		end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static void report_range(struct sysg_yw *w, yaml_node_t *n, const char *s,
			 long long min, long long max)
{
	char q[80];

	sysg_yw_quote(s, q, sizeof(q));
	if (max >= INT_MAX)     /* the type's limit, not the setting's */
		sysg_yw_error(w, n, "expected a whole number >= %lld, found '%s'",
			      min, q);
	else
		sysg_yw_error(w, n, "expected a whole number from %lld to %lld, found '%s'",
			      min, max, q);
}

int sysg_yw_int(struct sysg_yw *w, yaml_node_t *n, long long min,
		long long max, long long *out)
{
	const char *s = scalar_or_report(w, n, "a whole number");
	char q[80];
	long long v;

	if (!s)
		return -1;
	if (sysg_yw_parse_ll(s, &v)) {
		if (strspn(s, " +-0123456789") == strlen(s) && *s)
			report_range(w, n, s, min, max);    /* overflow */
		else
			sysg_yw_error(w, n, "expected a whole number, found '%s'",
				      sysg_yw_quote(s, q, sizeof(q)));
		return -1;
	}
	if (v < min || v > max) {
		report_range(w, n, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int sysg_yw_duration(struct sysg_yw *w, yaml_node_t *n, int64_t *ms)
{
	const char *s = scalar_or_report(w, n, "a duration");
	char q[80];

	if (!s)
		return -1;
	if (sysg_duration_parse(s, ms) == 0)
		return 0;
	sysg_yw_error(w, n, "expected a duration like 250ms, 5s, 2m, 1h, found '%s'",
		      sysg_yw_quote(s, q, sizeof(q)));
	return -1;
}

int sysg_yw_size(struct sysg_yw *w, yaml_node_t *n, int64_t *bytes)
{
	const char *s = scalar_or_report(w, n, "a size");
	char q[80];

	if (!s)
		return -1;
	if (sysg_size_parse(s, bytes) == 0)
		return 0;
	sysg_yw_error(w, n, "expected a size like 512, 64K, 512M, 1G, found '%s'",
		      sysg_yw_quote(s, q, sizeof(q)));
	return -1;
}
