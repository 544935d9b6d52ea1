/* duration.c - durations and sizes as written in sysg configs.
 *
 * Numbers are parsed with integer arithmetic only (no strtod), so "0.1s"
 * is exactly 100 ms and overflow is detected precisely. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "duration.h"

#define FRAC_DIGITS_MAX 9       /* further fraction digits are ignored */

/* A non-negative decimal number "123" or "1.25" split into parts. */
struct decimal {
	int64_t whole;
	int64_t frac;           /* fraction digits as an integer (25) */
	int64_t frac_scale;     /* 10^(digits kept) (100) */
};

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Trim blanks: START and END delimit the token. -EINVAL when empty. */
static int trim(const char *s, const char **start, const char **end)
{
	const char *e;

	if (!s)
		return -EINVAL;
	while (is_blank(*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_blank(e[-1]))
		e--;
	if (e == s)
		return -EINVAL;
	*start = s;
	*end = e;
	return 0;
}

static int parse_fraction(const char **pp, const char *end, struct decimal *d)
{
	const char *p = *pp;
	int kept = 0;

	if (p >= end || !is_digit(*p))
		return -EINVAL;
	for (; p < end && is_digit(*p); p++) {
		if (kept == FRAC_DIGITS_MAX)
			continue;
		d->frac = d->frac * 10 + (*p - '0');
		d->frac_scale *= 10;
		kept++;
	}
	*pp = p;
	return 0;
}

/* Parse digits [. digits] at *PP (before END); *PP moves past them. */
static int parse_decimal(const char **pp, const char *end, int allow_frac,
			 struct decimal *d)
{
	const char *p = *pp;
	int overflow = 0;

	d->whole = 0;
	d->frac = 0;
	d->frac_scale = 1;
	if (p >= end || !is_digit(*p))
		return -EINVAL;
	for (; p < end && is_digit(*p); p++) {
		if (d->whole > (INT64_MAX - (*p - '0')) / 10)
			overflow = 1;
		else
			d->whole = d->whole * 10 + (*p - '0');
	}
	if (p < end && *p == '.') {
		if (!allow_frac)
			return -EINVAL;
		p++;
		if (parse_fraction(&p, end, d) < 0)
			return -EINVAL;
	}
	*pp = p;
	return overflow ? -ERANGE : 0;
}

/* D * UNIT, the fraction rounded to the nearest integer. */
static int scale_decimal(const struct decimal *d, int64_t unit, int64_t *out)
{
	int64_t frac_part;

	if (d->whole > INT64_MAX / unit)
		return -ERANGE;
	/* Sizes have no fraction; durations have frac < 1e9 and unit <= 3.6e6,
	 * so 2 * frac * unit stays far below INT64_MAX. */
	frac_part = (2 * d->frac * unit + d->frac_scale) / (2 * d->frac_scale);
	if (d->whole * unit > INT64_MAX - frac_part)
		return -ERANGE;
	*out = d->whole * unit + frac_part;
	return 0;
}

/* "NUMBER UNIT" with blanks around: the number (a fraction only when
 * ALLOW_FRAC) times what UNIT_OF says the unit is worth. A syntax error
 * (-EINVAL) wins over an overflow (-ERANGE). */
static int parse_quantity(const char *s, int allow_frac,
			  int64_t (*unit_of)(const char *u, size_t len),
			  int64_t *out)
{
	const char *p, *end;
	struct decimal d;
	int64_t unit;
	int r;

	if (trim(s, &p, &end) < 0)
		return -EINVAL;
	r = parse_decimal(&p, end, allow_frac, &d);
	if (r == -EINVAL)
		return r;
	unit = unit_of(p, (size_t)(end - p));
	if (unit < 0)
		return -EINVAL;
	if (r < 0)
		return r;
	return scale_decimal(&d, unit, out);
}

static int64_t duration_unit(const char *u, size_t len)
{
	static const struct { const char *name; int64_t ms; } units[] = {
		{ "", 1000 }, { "ms", 1 }, { "s", 1000 },
		{ "m", 60 * 1000 }, { "h", 60 * 60 * 1000 },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == len &&
		    memcmp(units[i].name, u, len) == 0)
			return units[i].ms;
	return -1;
}

int sysg_duration_parse(const char *s, int64_t *ms)
{
	return parse_quantity(s, 1, duration_unit, ms);
}

/* "1.5s", "1.25s", "1.005s" for MS not a whole number of seconds. */
static void format_fractional_seconds(int64_t ms, char *buf, size_t len)
{
	int64_t frac = ms % 1000;
	int digits = 3;

	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(buf, len, "%" PRId64 ".%0*" PRId64 "s", ms / 1000, digits,
		 frac);
}

void sysg_duration_format(int64_t ms, char *buf, size_t len)
{
	char secs[48];

	if (!buf || len == 0)
		return;
	if (ms > 0 && ms % 3600000 == 0)
		snprintf(buf, len, "%" PRId64 "h", ms / 3600000);
	else if (ms > 0 && ms % 60000 == 0)
		snprintf(buf, len, "%" PRId64 "m", ms / 60000);
	else if (ms >= 0 && ms % 1000 == 0)
		snprintf(buf, len, "%" PRId64 "s", ms / 1000);
	else if (ms < 1000)
		snprintf(buf, len, "%" PRId64 "ms", ms);
	else {
		format_fractional_seconds(ms, secs, sizeof(secs));
		if (strlen(secs) < (size_t)snprintf(NULL, 0, "%" PRId64 "ms", ms))
			snprintf(buf, len, "%s", secs);
		else
			snprintf(buf, len, "%" PRId64 "ms", ms);
	}
}

/* Multiplier for a size suffix: "", "B", "K", "KB", "KiB" (any case). */
static int64_t size_unit(const char *u, size_t len)
{
	static const char letters[] = "KMGT";
	const char *l;
	int64_t mult = 1;

	if (len == 0 || (len == 1 && (*u == 'B' || *u == 'b')))
		return 1;
	l = strchr(letters, *u & ~0x20);
	if (!l || *l == '\0')
		return -1;
	for (const char *q = letters; q <= l; q++)
		mult *= 1024;
	if (len == 1 || (len == 2 && (u[1] == 'B' || u[1] == 'b')))
		return mult;
	if (len == 3 && (u[1] == 'i' || u[1] == 'I') &&
	    (u[2] == 'B' || u[2] == 'b'))
		return mult;
	return -1;
}

int sysg_size_parse(const char *s, int64_t *bytes)
{
	return parse_quantity(s, 0, size_unit, bytes);
}

void sysg_format_iso8601(int64_t ms, char *buf, size_t len)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

int sysg_parse_iso8601(const char *s, int64_t *ms)
{
	struct tm tm;
	int frac = 0, n = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &frac,
		   &n) != 7 || s[n] != '\0')
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*ms = (int64_t)timegm(&tm) * 1000 + frac;
	return 0;
}
