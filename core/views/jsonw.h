/* jsonw.h - a JSON text writer that prints exactly what jansson's
 * json_dumps() prints for the same document with flags
 * SYSG_JSON_PRINT_FLAGS (status.h): insertion order, reals with 12
 * significant digits, either compact or indented by 2.
 *
 * Why: `status --json` of 1,000 units as jansson objects is ~40,000
 * allocations built, dumped and freed per call; writing the text straight
 * into one growing buffer costs a fraction of that. What jansson would
 * refuse (a string that is not valid UTF-8, a real that is not finite)
 * makes the writer fail with JSONW_REFUSED, so that the caller can fall
 * back to jansson and behave exactly as before.
 *
 * Use: jsonw_open(w, '{'), then jsonw_key() before each member's value
 * (or jsonw_item() before each array element), values with jsonw_str,
 * jsonw_int, ..., and jsonw_close(w, '}'). Errors stick: check
 * jsonw_finish() once at the end.
 */
#ifndef SYSG_JSONW_H
#define SYSG_JSONW_H

#include <stddef.h>
#include <stdint.h>

#define JSONW_REFUSED 1         /* jsonw_finish: jansson would refuse it */
#define JSONW_MAX_DEPTH 32

struct jsonw {
	char *buf;
	size_t len, cap;
	int indent;                     /* 0: compact, else spaces per level */
	int depth;
	int err;                        /* 0, -ENOMEM or JSONW_REFUSED */
	unsigned char used[JSONW_MAX_DEPTH];    /* per level: has members */
};

/* A writer; INDENT 0 prints compact JSON (JSON_COMPACT). */
void jsonw_init(struct jsonw *w, int indent);
void jsonw_open(struct jsonw *w, char brace);           /* '{' or '[' */
void jsonw_close(struct jsonw *w, char brace);          /* '}' or ']' */
void jsonw_key(struct jsonw *w, const char *key);
void jsonw_item(struct jsonw *w);
void jsonw_str(struct jsonw *w, const char *s);        /* NULL: null */
void jsonw_null(struct jsonw *w);
void jsonw_bool(struct jsonw *w, int v);
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_real(struct jsonw *w, double v);

/* The text (NUL-terminated, the caller frees it) in *OUT and 0; or the
 * sticky error (-ENOMEM, JSONW_REFUSED) with nothing to free. */
int jsonw_finish(struct jsonw *w, char **out);

#endif
