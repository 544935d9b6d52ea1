/* diag.h - a list of diagnostics (errors and warnings) with positions.
 *
 * Library functions that can find several problems at once (the config
 * loader) append GCC-style lines here instead of printing:
 *   FILE:LINE:COL: error: KEY.PATH: message
 * The CLI prints them one per line on stderr. */
#ifndef SYSG_DIAG_H
#define SYSG_DIAG_H

#include <stddef.h>

#define SYSG_DIAG_MAX 64        /* further diagnostics are counted, not kept */

struct sysg_diag {
	char **lines;           /* errors and warnings, in the order found */
	size_t n;
	size_t dropped;
	size_t errors;          /* errors recorded (kept + dropped) */
	size_t warnings;        /* warnings recorded (kept + dropped) */
};

void sysg_diag_init(struct sysg_diag *d);
void sysg_diag_free(struct sysg_diag *d);

/* Append one error. FILE may be NULL (then "LINE:COL" is omitted too);
 * LINE/COL of 0 are omitted; KEYPATH may be NULL or "". */
void sysg_diag_error(struct sysg_diag *d, const char *file, int line, int col,
		     const char *keypath, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Append one warning: the same shape with "warning:" for "error:". */
void sysg_diag_warning(struct sysg_diag *d, const char *file, int line,
		       int col, const char *keypath, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Number of errors recorded (kept + dropped); warnings do not count. */
size_t sysg_diag_count(const struct sysg_diag *d);

/* 1 if any kept line contains NEEDLE (tests use this). */
int sysg_diag_contains(const struct sysg_diag *d, const char *needle);

/* Join all lines with '\n' (malloc'd; "" when empty). */
char *sysg_diag_join(const struct sysg_diag *d);

/* Format one message into the caller's error buffer ERR of LEN bytes
 * (truncated to fit), the convention of functions that take
 * `char *err, size_t errlen`. Does nothing when ERR is NULL or LEN is 0. */
void sysg_errf(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
