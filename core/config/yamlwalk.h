/* yamlwalk.h - schema-first walking of a libyaml document, with positions.
 *
 * The config loader (config.c) describes each YAML map it understands as a
 * table of known keys (struct sysg_yw_field) and lets this module do the
 * generic part: load exactly one document and report syntax errors, resolve
 * `<<` merge keys, detect duplicate keys, report unknown keys (a warning,
 * or an error with a "did you mean" hint for a misspelling), check that required keys are present, read typed scalars,
 * and format every problem GCC style into a struct sysg_diag:
 *   FILE:LINE:COL: error: KEY.PATH: message
 * The walker keeps the current key path ("services.api.depends_on[1]") in a
 * buffer that handlers extend with push/pop while they descend.
 *
 * Hostile input: every map and list may hold at most SYSG_YW_MAX_ENTRIES
 * entries, and the walk gives up with one error after visiting
 * SYSG_YW_MAX_NODES nodes in total (aliases and merge keys can make a small
 * document expand enormously; libyaml itself shares aliased nodes). Merge
 * keys nest at most SYSG_YW_MAX_MERGE_DEPTH deep (self-referencing anchors).
 * Before libyaml builds the document, a pass over its events refuses
 * documents nested deeper than SYSG_YW_MAX_DEPTH or with more than
 * SYSG_YW_MAX_ANCHORS anchors / SYSG_YW_MAX_ALIASES aliases: libyaml's
 * scanner is quadratic in the nesting depth and its loader in anchors
 * times aliases, so such files would otherwise take minutes.
 */
#ifndef SYSG_YAMLWALK_H
#define SYSG_YAMLWALK_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "base/base.h"

#define SYSG_YW_PATH_MAX        512
#define SYSG_YW_MAX_ENTRIES     10000
#define SYSG_YW_MAX_NODES       1000000
#define SYSG_YW_MAX_MERGE_DEPTH 32
#define SYSG_YW_MAX_DEPTH       64      /* nested lists and maps */
#define SYSG_YW_MAX_ANCHORS     1000
#define SYSG_YW_MAX_ALIASES     100000

struct sysg_yw {
	struct sysg_diag *diag;
	const char *file;               /* name used in messages */
	yaml_document_t *doc;
	char path[SYSG_YW_PATH_MAX];    /* current key path */
	size_t pathlen;
	size_t base;                    /* the path never gets shorter (a
	                                   project's walk: "projects.ID") */
	size_t budget;                  /* nodes left to visit */
	unsigned errors;                /* problems reported so far */
	int nomem;                      /* an allocation failed */
	int aborted;                    /* budget exhausted: stop walking */
	int strict;                     /* unknown keys are errors */
	/* Expansion of scalar values (config's $VAR rule): when set, every
	 * value a typed reader or sysg_yw_value reads (never a key) goes
	 * through it, with MODE saying how the value will be used. It
	 * returns the text to use (kept alive until the walk ends) or NULL
	 * after reporting a problem. */
	const char *(*expand)(struct sysg_yw *w, const yaml_node_t *n,
			      const char *s);
	void *expand_arg;
	int mode;                       /* enum sysg_yw_mode */
	const char *src;                /* the document's text, for positions */
	size_t srclen;
	int include_ok;                 /* reading an `!include FILE` where
	                                   one may be (else it is an error) */
};

enum sysg_yw_mode {
	SYSG_YW_TEXT = 0,               /* read by sysg: values substituted */
	SYSG_YW_SHELL,                  /* run by `sh -c`: left to the shell */
	SYSG_YW_COMMAND,                /* a service command: exec'd directly
	                                   when it can be, else as SHELL */
	SYSG_YW_RAW,                    /* as written */
};

/* Set W's mode, returning the previous one (give it back when done). */
int sysg_yw_set_mode(struct sysg_yw *w, int mode);

/* The 1-based line and column of byte OFF of scalar N's value, found in
 * W's source text (N's start when it cannot be located). */
void sysg_yw_value_pos(const struct sysg_yw *w, const yaml_node_t *n,
		       size_t off, const char *needle, int *line, int *col);

/* A handler for one known key. KEY is the key node, VAL the value (never a
 * YAML null unless the field is SYSG_YW_REQUIRED), P is the walked object
 * plus the field's offset. The key path already ends with the key. */
typedef void (*sysg_yw_fn)(struct sysg_yw *w, yaml_node_t *key,
			   yaml_node_t *val, void *p);

#define SYSG_YW_REQUIRED 1u     /* report "required key is missing" */

struct sysg_yw_field {
	const char *key;
	sysg_yw_fn fn;
	size_t off;                     /* added to the object pointer */
	unsigned flags;
};

/* Called for a key that is not in the table; returns 1 when it handled
 * the key, 0 to have it reported as unknown. */
typedef int (*sysg_yw_unknown_fn)(struct sysg_yw *w, yaml_node_t *key,
				  yaml_node_t *val, void *obj);

/* One entry of a map after `<<` merges are applied: explicit keys first in
 * file order, then merged keys that were not overridden. */
struct sysg_yw_pair {
	yaml_node_t *key;
	yaml_node_t *val;
	const char *name;               /* the key's text */
	size_t ord;
	int merged;
};

/* Load exactly one YAML document from BUF into DOC. Reports syntax errors
 * (with libyaml's position and problem), an empty file, a second document.
 * Returns 0 (DOC must then be freed with yaml_document_delete), -EINVAL
 * (reported in DIAG) or -ENOMEM. */
int sysg_yw_load(const char *file, const char *buf, size_t len,
		 yaml_document_t *doc, struct sysg_diag *diag);

void sysg_yw_init(struct sysg_yw *w, struct sysg_diag *diag,
		  const char *file, yaml_document_t *doc);

/* Report a problem at AT's start position (1-based) under the current key
 * path. AT may be NULL (position omitted). */
void sysg_yw_error(struct sysg_yw *w, const yaml_node_t *at,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Same, at an explicit 1-based LINE and COL. */
void sysg_yw_error_at(struct sysg_yw *w, int line, int col,
		      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Record an allocation failure (reported once). */
void sysg_yw_nomem(struct sysg_yw *w);

/* Extend the key path with ".KEY" (or "KEY" at the top) or "[I]"; both
 * return the previous length to give back to sysg_yw_pop. */
size_t sysg_yw_push_key(struct sysg_yw *w, const char *key);
size_t sysg_yw_push_index(struct sysg_yw *w, size_t i);
void sysg_yw_pop(struct sysg_yw *w, size_t old);

/* 1-based line / column of N's start. */
int sysg_yw_line(const yaml_node_t *n);
int sysg_yw_col(const yaml_node_t *n);

/* 1 if N is a plain null scalar: "", "~", "null", "Null", "NULL". */
int sysg_yw_is_null(const yaml_node_t *n);

/* 1 when N is a scalar tagged `!include`. */
int sysg_yw_is_include(const yaml_node_t *n);

/* The text of scalar N, or NULL for other node kinds. */
const char *sysg_yw_scalar(const yaml_node_t *n);

/* The text of scalar value N after expansion (see struct sysg_yw), or
 * NULL for other node kinds and after a reported expansion problem. */
const char *sysg_yw_value(struct sysg_yw *w, const yaml_node_t *n);

/* What N is, for "expected X, found Y" messages: "a list", "a map",
 * "null", or the scalar quoted and shortened ('abc'). Writes into BUF. */
const char *sysg_yw_describe(const yaml_node_t *n, char *buf, size_t len);

/* S made safe for a one-line message: control characters as '?', at most
 * 60 characters, "..." when shortened. Writes into BUF. */
const char *sysg_yw_quote(const char *s, char *buf, size_t len);

/* The entries of map node MAP with merges applied and duplicates reported.
 * Reports "expected a map" when MAP is not one. Returns 0 and a malloc'd
 * array (free it) or -1 (reported; *pairs NULL, *n 0). */
int sysg_yw_map_pairs(struct sysg_yw *w, yaml_node_t *map,
		      struct sysg_yw_pair **pairs, size_t *n);

/* Dispatch PAIRS to FIELDS (OBJ is the walked struct); unknown keys go to
 * UNKNOWN (may be NULL) and are otherwise reported; missing required keys
 * are reported at OWNER (the key whose value MAP is; NULL: at MAP).
 * Returns a bitmask of the fields seen (field i -> bit i, at most 64). */
uint64_t sysg_yw_walk_pairs(struct sysg_yw *w, yaml_node_t *owner,
			    yaml_node_t *map, const struct sysg_yw_pair *pairs,
			    size_t n, const struct sysg_yw_field *fields,
			    void *obj, sysg_yw_unknown_fn unknown);

/* sysg_yw_map_pairs + sysg_yw_walk_pairs. Returns the seen mask (0 when
 * MAP was not a map). */
uint64_t sysg_yw_walk_map(struct sysg_yw *w, yaml_node_t *owner,
			  yaml_node_t *map, const struct sysg_yw_field *fields,
			  void *obj, sysg_yw_unknown_fn unknown);

/* The closest of the NULL-terminated CANDIDATES to S, or NULL when none
 * is close enough to be a likely typo. */
const char *sysg_yw_suggest(const char *s, const char *const *candidates);

/* The candidate S is a misspelling of (at most two edits away), or NULL. */
const char *sysg_yw_misspelt(const char *s, const char *const *candidates);

/* Report KEY, which is none of NAMES (NULL-terminated): an error with
 * "did you mean" when it is a misspelling of one, else an error in strict
 * mode, else "FILE:LINE:COL: warning: KEY.PATH: unknown key, ignored". */
void sysg_yw_unknown_key(struct sysg_yw *w, const yaml_node_t *key,
			 const char *const *names);

/* The items of list N, in a malloc'd array (free it). With SCALAR_OK a
 * lone scalar is accepted as a one-item list. Reports "expected a list"
 * and too many items. 0, or -1 when reported. */
int sysg_yw_list(struct sysg_yw *w, yaml_node_t *n, int scalar_ok,
		 yaml_node_t ***items, size_t *count);

/* Typed scalar readers. Each reports its own error under the current key
 * path ("expected a whole number, found 'abc'") and returns 0 or -1.
 * sysg_yw_string replaces *OUT (freeing the old value). */
int sysg_yw_string(struct sysg_yw *w, yaml_node_t *n, char **out);
int sysg_yw_bool(struct sysg_yw *w, yaml_node_t *n, int *out);
int sysg_yw_int(struct sysg_yw *w, yaml_node_t *n, long long min,
		long long max, long long *out);
int sysg_yw_duration(struct sysg_yw *w, yaml_node_t *n, int64_t *ms);
int sysg_yw_size(struct sysg_yw *w, yaml_node_t *n, int64_t *bytes);

/* Parse text S as a boolean (true/false/yes/no/on/off, any case).
 * 0 and *OUT, or -1. */
int sysg_yw_parse_bool(const char *s, int *out);

/* Parse S as a whole decimal number. 0 and *OUT, or -1. */
int sysg_yw_parse_ll(const char *s, long long *out);

#endif
