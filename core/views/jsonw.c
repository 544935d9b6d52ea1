/* jsonw.c - see jsonw.h. The formats follow jansson 2.x's dump.c:
 * members and elements on their own indented lines ("key": value) or,
 * compact, "key":value separated by a bare comma; empty containers as {}
 * and []; strings escape \" \\ \b \f \n \r \t and the other control
 * characters as \u00XX (upper-case hex), everything else (UTF-8
 * included) is copied as is. */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonw.h"

void jsonw_init(struct jsonw *w, int indent)
{
	memset(w, 0, sizeof(*w));
	w->indent = indent;
}

static int grow(struct jsonw *w, size_t n)
{
	size_t cap;
	char *nb;

	if (w->err)
		return -1;
	if (w->len + n + 1 <= w->cap)
		return 0;
	cap = w->cap ? w->cap : 4096;
	while (cap < w->len + n + 1)
		cap *= 2;
	nb = realloc(w->buf, cap);
	if (!nb) {
		w->err = -ENOMEM;
		return -1;
	}
	w->buf = nb;
	w->cap = cap;
	return 0;
}

static void put(struct jsonw *w, const char *s, size_t n)
{
	/* the room is there but every few thousand bytes: no call then */
	if ((w->len + n + 1 <= w->cap && !w->err) || grow(w, n) == 0) {
		memcpy(w->buf + w->len, s, n);
		w->len += n;
	}
}

/* A new line and the indentation of the current depth (indented mode). */
static void newline(struct jsonw *w)
{
	size_t n = (size_t)w->indent * (size_t)w->depth;

	if (!w->indent || grow(w, n + 1))
		return;
	w->buf[w->len++] = '\n';
	memset(w->buf + w->len, ' ', n);
	w->len += n;
}

void jsonw_item(struct jsonw *w)
{
	if (w->used[w->depth])
		put(w, ",", 1);
	w->used[w->depth] = 1;
	newline(w);
}

void jsonw_open(struct jsonw *w, char brace)
{
	put(w, &brace, 1);
	if (w->depth + 1 >= JSONW_MAX_DEPTH) {
		w->err = w->err ? w->err : JSONW_REFUSED;
		return;
	}
	w->used[++w->depth] = 0;
}

void jsonw_close(struct jsonw *w, char brace)
{
	int used = w->used[w->depth];

	if (w->depth > 0)
		w->depth--;
	if (used)
		newline(w);
	put(w, &brace, 1);
}

/* jansson refuses strings that are not valid UTF-8: ask it (rare: only
 * strings with a byte >= 0x80 get here). */
static int valid_utf8(const char *s)
{
	json_t *j = json_string(s);

	json_decref(j);
	return j != NULL;
}

void jsonw_str(struct jsonw *w, const char *s)
{
	const char *run = s;
	int high = 0;

	if (!s) {
		jsonw_null(w);
		return;
	}
	put(w, "\"", 1);
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		char esc[8];
		const char *e = esc;
		size_t n = 2;

		high |= c >= 0x80;
		if (c != '"' && c != '\\' && c >= 0x20)
			continue;
		put(w, run, (size_t)(p - run));
		run = p + 1;
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			n = (size_t)snprintf(esc, sizeof(esc), "\\u%04X", c);
		}
		put(w, e, n);
	}
	put(w, run, strlen(run));
	put(w, "\"", 1);
	if (high && !w->err && !valid_utf8(s))
		w->err = JSONW_REFUSED;
}

void jsonw_key(struct jsonw *w, const char *key)
{
	jsonw_item(w);
	jsonw_str(w, key);
	put(w, w->indent ? ": " : ":", w->indent ? 2 : 1);
}

void jsonw_null(struct jsonw *w)
{
	put(w, "null", 4);
}

void jsonw_bool(struct jsonw *w, int v)
{
	put(w, v ? "true" : "false", v ? 4 : 5);
}

/* Digits by hand: a status of 1,000 units prints ~5,000 integers. */
void jsonw_int(struct jsonw *w, int64_t v)
{
	char b[24], *p = b + sizeof(b);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10));
	if (v < 0)
		*--p = '-';
	put(w, p, (size_t)(b + sizeof(b) - p));
}

/* V when it is K / 100 for a whole K in [0, 1e11) (a CPU% rounded to
 * two decimals: status prints one per unit): its "%.12g" is K's digits
 * with the point two places from the right and trailing zeros dropped
 * (11 digits at most, and V is the double nearest to that decimal, so
 * rounding to 12 digits gives it back). 1 when written, 0 when V is not
 * such a number. */
static int real_cents(struct jsonw *w, double v)
{
	char b[24], *p = b + sizeof(b);
	uint64_t k;

	if (!(v >= 0 && v < 1e9) || signbit(v))
		return 0;
	k = (uint64_t)(v * 100.0 + 0.5);
	if ((double)k / 100.0 != v)
		return 0;
	if (k % 10)
		*--p = (char)('0' + k % 10);
	if (k % 100)
		*--p = (char)('0' + k / 10 % 10);
	else
		*--p = '0';
	*--p = '.';
	k /= 100;
	do
		*--p = (char)('0' + k % 10);
	while ((k /= 10));
	put(w, p, (size_t)(b + sizeof(b) - p));
	return 1;
}

/* As jansson's jsonp_dtostr with JSON_REAL_PRECISION(12): "%.12g", the
 * locale's decimal point as '.', ".0" when it would read as an integer,
 * no '+' nor leading zeros in the exponent. */
void jsonw_real(struct jsonw *w, double v)
{
	const char *point;
	char b[64], *e, *x;
	int n;

	if (!isfinite(v)) {
		w->err = w->err ? w->err : JSONW_REFUSED;
		return;
	}
	if (real_cents(w, v))
		return;
	point = localeconv()->decimal_point;
	n = snprintf(b, sizeof(b), "%.12g", v);
	if (n < 0 || (size_t)n >= sizeof(b) - 3)
		return;
	if (point && point[0] && point[0] != '.' && !point[1] &&
	    (x = strchr(b, point[0])))
		*x = '.';
	if (!strchr(b, '.') && !strchr(b, 'e')) {
		memcpy(b + n, ".0", 3);
		n += 2;
	}
	if ((e = strchr(b, 'e'))) {
		char *start = e + 1, *end = e + 2;

		if (*start == '-')
			start++;
		while (*end == '0')
			end++;
		if (end != start) {
			memmove(start, end, (size_t)(b + n - end) + 1);
			n -= (int)(end - start);
		}
	}
	put(w, b, (size_t)n);
}

int jsonw_finish(struct jsonw *w, char **out)
{
	*out = NULL;
	if (!w->err && grow(w, 0) == 0) {
		w->buf[w->len] = '\0';
		*out = w->buf;
		return 0;
	}
	free(w->buf);
	w->buf = NULL;
	return w->err;
}
