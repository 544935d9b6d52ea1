/* cron.c - cron expressions: parse, and compute the next due time.
 *
 * Next-time search walks local wall-clock fields (month, day, hour, minute,
 * second), jumping straight to the next allowed value of each, and only
 * then asks the C library (mktime/localtime_r under TZ) which instants
 * carry that wall time: none in a DST gap (the time is skipped), two in a
 * DST overlap. In an overlap a job runs once per wall time, except jobs
 * that run every hour, which keep their cadence through the repeated hour.
 *
 * Switching TZ changes process-global state: these functions are not
 * thread-safe (the supervisor is single-threaded). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cron.h"
#include "base/base.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define SEARCH_YEARS 5
#define LOOKAHEAD_S (48 * 3600)  /* a clock never goes back further */

/* ------------------------------------------------------------ parsing */

struct field {
	const char *name;
	int min, max;
	const char *const *names;       /* NULL, or names for min..max */
};

static const char *const month_names[] = { "JAN", "FEB", "MAR", "APR",
	"MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", NULL };
static const char *const dow_names[] = { "SUN", "MON", "TUE", "WED", "THU",
	"FRI", "SAT", NULL };

enum { F_SEC, F_MIN, F_HOUR, F_DOM, F_MONTH, F_DOW, NFIELDS };

static const struct field fields[NFIELDS] = {
	{ "second", 0, 59, NULL },
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day-of-month", 1, 31, NULL },
	{ "month", 1, 12, month_names },
	{ "day-of-week", 0, 7, dow_names },
};

/* Where parse errors go: the field being parsed and its position as
 * written (1-based). */
struct perr {
	char *buf;
	size_t len;
	int pos;
	const struct field *f;
};

static int fail(struct perr *pe, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct perr *pe, const char *fmt, ...)
{
	char msg[SYSG_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (pe->f)
		sysg_errf(pe->buf, pe->len, "field %d (%s): %s", pe->pos,
			  pe->f->name, msg);
	else
		sysg_errf(pe->buf, pe->len, "%s", msg);
	return -EINVAL;
}

static int all_digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Decimal S (N digits), capped at 100000 so it cannot overflow. */
static int small_number(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n && v < 100000; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* One value (number or name) of field F. */
static int parse_value(struct perr *pe, const char *s, size_t n, int *out)
{
	const struct field *f = pe->f;

	if (all_digits(s, n)) {
		*out = small_number(s, n);
		if (*out < f->min || *out > f->max)
			return fail(pe, "%.*s is out of range %d-%d", (int)n,
				    s, f->min, f->max);
		return 0;
	}
	for (int i = 0; f->names && f->names[i]; i++)
		if (n == 3 && strncasecmp(s, f->names[i], 3) == 0) {
			*out = f->min == 0 ? i : i + 1;
			return 0;
		}
	if (f->names && n > 0 && ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z'))
		return fail(pe, "unknown name '%.*s'", (int)n, s);
	return fail(pe, "invalid value '%.*s'", (int)n, s);
}

static int parse_step(struct perr *pe, const char *s, size_t n, int *step)
{
	int most = pe->f->max - pe->f->min + (pe->f == &fields[F_DOW] ? 0 : 1);

	if (!all_digits(s, n))
		return fail(pe, "invalid step '%.*s'", (int)n, s);
	*step = small_number(s, n);
	if (*step < 1 || *step > most)
		return fail(pe, "step %.*s is out of range 1-%d", (int)n, s,
			    most);
	return 0;
}

/* The range part of an item ("*", "?", "a", "a-b"); HAS_STEP: "a" alone
 * means "a to the maximum". */
static int parse_range(struct perr *pe, const char *s, size_t n,
		       int has_step, int *lo, int *hi)
{
	const struct field *f = pe->f;
	const char *dash = memchr(s, '-', n);
	int r;

	if (n == 1 && (*s == '*' || *s == '?')) {
		if (*s == '?' && f != &fields[F_DOM] && f != &fields[F_DOW])
			return fail(pe, "'?' is only allowed in day-of-month "
				    "and day-of-week");
		*lo = f->min;
		*hi = f == &fields[F_DOW] ? 6 : f->max;
		return 0;
	}
	if (!dash) {
		r = parse_value(pe, s, n, lo);
		*hi = has_step ? (f == &fields[F_DOW] ? 6 : f->max) : *lo;
		return r;
	}
	r = parse_value(pe, s, (size_t)(dash - s), lo);
	if (r == 0)
		r = parse_value(pe, dash + 1, n - (size_t)(dash - s) - 1, hi);
	if (r == 0 && f == &fields[F_DOW] && *hi == 0 && *lo > 0)
		*hi = 7;        /* MON-SUN */
	if (r == 0 && *lo > *hi)
		return fail(pe, "range %.*s goes backwards", (int)n, s);
	return r;
}

/* One list item into MASK. */
static int parse_item(struct perr *pe, const char *s, size_t n,
		      uint64_t *mask)
{
	const char *slash = memchr(s, '/', n);
	size_t rn = slash ? (size_t)(slash - s) : n;
	int lo, hi, step = 1, r;

	if (n == 0)
		return fail(pe, "empty item in list");
	r = parse_range(pe, s, rn, slash != NULL, &lo, &hi);
	if (r == 0 && slash)
		r = parse_step(pe, slash + 1, n - rn - 1, &step);
	if (r < 0)
		return r;
	for (int v = lo; v <= hi; v += step)
		*mask |= 1ULL << v;
	return 0;
}

/* A whole field (comma-separated list) into *MASK. */
static int parse_field(struct perr *pe, const char *s, size_t n,
		       uint64_t *mask)
{
	const char *end = s + n;

	*mask = 0;
	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *item_end = comma ? comma : end;
		int r = parse_item(pe, s, (size_t)(item_end - s), mask);

		if (r < 0)
			return r;
		if (!comma)
			break;
		s = comma + 1;
	}
	if (pe->f == &fields[F_DOW] && (*mask & (1ULL << 7)))
		*mask = (*mask | 1ULL) & 0x7F;  /* 7 is Sunday too */
	return 0;
}

/* Split EXPR on blanks into at most 7 tokens. Returns the token count. */
static int split_fields(const char *expr, const char **tok, size_t *len)
{
	int n = 0;

	for (const char *p = expr; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n == 7)
			return n + 1;
		tok[n] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		len[n] = (size_t)(p - tok[n]);
		n++;
	}
	return n;
}

static const char *macro_expansion(const char *name)
{
	static const struct { const char *name, *expr; } macros[] = {
		{ "@yearly", "0 0 0 1 1 *" },
		{ "@annually", "0 0 0 1 1 *" },
		{ "@monthly", "0 0 0 1 * *" },
		{ "@weekly", "0 0 0 * * 0" },
		{ "@daily", "0 0 0 * * *" },
		{ "@midnight", "0 0 0 * * *" },
		{ "@hourly", "0 0 * * * *" },
	};

	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
		if (strcasecmp(name, macros[i].name) == 0)
			return macros[i].expr;
	return NULL;
}

/* TOK[i] is the text of field FIRST + i. */
static void store_masks(struct sysg_cron_expr *out, const uint64_t *m,
			const char *const *tok, int first)
{
	char dom0 = *tok[F_DOM - first], dow0 = *tok[F_DOW - first];

	out->sec = m[F_SEC];
	out->min = m[F_MIN];
	out->hour = (uint32_t)m[F_HOUR];
	out->dom = (uint32_t)m[F_DOM];
	out->month = (uint16_t)m[F_MONTH];
	out->dow = (uint8_t)m[F_DOW];
	/* Like Vixie cron, a field that starts with an asterisk (stepped or
	 * not) or '?' counts as unrestricted for the dom/dow OR rule. */
	out->dom_star = dom0 == '*' || dom0 == '?';
	out->dow_star = dow0 == '*' || dow0 == '?';
}

static int parse_fields(const char *expr, struct sysg_cron_expr *out,
			struct perr *pe)
{
	const char *tok[8];
	size_t len[8];
	uint64_t masks[NFIELDS] = { 1 };        /* 5 fields: second 0 */
	int n = split_fields(expr, tok, len), first;

	if (n == 0)
		return fail(pe, "empty expression");
	if (n != 5 && n != 6)
		return fail(pe, "expected 5 or 6 fields, found %d", n);
	first = n == 6 ? F_SEC : F_MIN;
	for (int i = 0; i < n; i++) {
		int r;

		pe->pos = i + 1;
		pe->f = &fields[first + i];
		r = parse_field(pe, tok[i], len[i], &masks[first + i]);
		if (r < 0)
			return r;
	}
	store_masks(out, masks, tok, first);
	return 0;
}

int sysg_cron_parse(const char *expr, struct sysg_cron_expr *out,
		    char *err, size_t errlen)
{
	struct perr pe = { .buf = err, .len = errlen };
	struct sysg_cron_expr e;
	const char *p = expr;
	int r;

	if (err && errlen)
		err[0] = '\0';
	if (!expr)
		return fail(&pe, "empty expression");
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '@') {
		char name[16];
		size_t n = strcspn(p, " \t");
		const char *rest = p + n + strspn(p + n, " \t");

		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		if (n >= sizeof(name) || !macro_expansion(name))
			return fail(&pe, "unknown macro '%.*s'", (int)n, p);
		if (*rest)
			return fail(&pe, "unexpected text after '%s'", name);
		p = macro_expansion(name);
	}
	memset(&e, 0, sizeof(e));
	r = parse_fields(p, &e, &pe);
	if (r == 0)
		*out = e;
	return r;
}

/* --------------------------------------------------------- time zones */

/* A relative name of plain characters with no "." or ".." component. */
static int tz_name_ok(const char *tz)
{
	size_t n = strlen(tz);

	if (n == 0 || n > 255 || tz[0] == '/' || tz[0] == '.' ||
	    strstr(tz, "/.") || tz[n - 1] == '/')
		return 0;
	for (const char *p = tz; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("/_-+.", *p)))
			return 0;
	return 1;
}

int sysg_cron_valid_timezone(const char *tz)
{
	char path[sizeof(ZONEINFO_DIR) + 256], magic[4];
	struct stat st;
	int fd, ok;

	if (!tz)
		return 0;
	if (strcmp(tz, "UTC") == 0 || strcmp(tz, "Local") == 0)
		return 1;
	if (!tz_name_ok(tz))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", ZONEINFO_DIR, tz);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return 0;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	     read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
	     memcmp(magic, "TZif", 4) == 0;
	close(fd);
	return ok;
}

/* TZ is switched for the computation and restored afterwards. */
struct tzswitch {
	int active;
	char *old;              /* previous TZ, NULL when it was unset */
};

static int tz_enter(const char *tz, struct tzswitch *sw)
{
	char val[300];
	const char *old;

	memset(sw, 0, sizeof(*sw));
	if (!tz || strcmp(tz, "Local") == 0) {
		tzset();
		return 0;
	}
	if (!sysg_cron_valid_timezone(tz))
		return -EINVAL;
	old = getenv("TZ");
	if (old && !(sw->old = strdup(old)))
		return -ENOMEM;
	if (strcmp(tz, "UTC") == 0)
		snprintf(val, sizeof(val), "UTC0");
	else
		snprintf(val, sizeof(val), ":%s", tz);
	if (setenv("TZ", val, 1) < 0) {
		free(sw->old);
		return -ENOMEM;
	}
	sw->active = 1;
	tzset();
	return 0;
}

static void tz_leave(struct tzswitch *sw)
{
	if (!sw->active)
		return;
	if (sw->old)
		setenv("TZ", sw->old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(sw->old);
}

/* ------------------------------------------------- wall-clock search */

struct wall {
	int y, mo, d, h, mi, s;         /* month 1-12, day 1-31 */
};

static int days_in_month(int y, int mo)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[mo - 1] + (mo == 2 && leap);
}

/* 0 = Sunday (Sakamoto's method). */
static int weekday(int y, int mo, int d)
{
	static const int t[] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };

	if (mo < 3)
		y--;
	return (y + y / 4 - y / 100 + y / 400 + t[mo - 1] + d) % 7;
}

static void wall_next_day(struct wall *w)
{
	w->h = w->mi = w->s = 0;
	if (++w->d <= days_in_month(w->y, w->mo))
		return;
	w->d = 1;
	if (++w->mo > 12) {
		w->mo = 1;
		w->y++;
	}
}

static void wall_next_hour(struct wall *w)
{
	w->mi = w->s = 0;
	if (++w->h > 23)
		wall_next_day(w);
}

static void wall_next_minute(struct wall *w)
{
	w->s = 0;
	if (++w->mi > 59)
		wall_next_hour(w);
}

static void wall_next_second(struct wall *w)
{
	if (++w->s > 59)
		wall_next_minute(w);
}

/* Smallest bit >= FROM and <= MAX set in MASK, or -1. */
static int next_bit(uint64_t mask, int from, int max)
{
	for (int i = from; i <= max; i++)
		if ((mask >> i) & 1)
			return i;
	return -1;
}

static int day_matches(const struct sysg_cron_expr *e, const struct wall *w)
{
	int dom = (e->dom >> w->d) & 1;
	int dow = (e->dow >> weekday(w->y, w->mo, w->d)) & 1;

	if (e->dom_star || e->dow_star)
		return dom && dow;
	return dom || dow;      /* both restricted: either matches */
}

/* Move W's time of day to the next allowed one on the same day. Returns 0
 * when W now matches, 1 when W moved to a later hour/day to recheck. */
static int fit_time_of_day(const struct sysg_cron_expr *e, struct wall *w)
{
	int h = next_bit(e->hour, w->h, 23), mi, s;

	if (h < 0) {
		wall_next_day(w);
		return 1;
	}
	if (h != w->h)
		*w = (struct wall){ w->y, w->mo, w->d, h, 0, 0 };
	mi = next_bit(e->min, w->mi, 59);
	if (mi < 0) {
		wall_next_hour(w);
		return 1;
	}
	if (mi != w->mi)
		*w = (struct wall){ w->y, w->mo, w->d, w->h, mi, 0 };
	s = next_bit(e->sec, w->s, 59);
	if (s < 0) {
		wall_next_minute(w);
		return 1;
	}
	w->s = s;
	return 0;
}

/* Advance W to the first wall time >= W that E matches, skipping whole
 * months, days, hours and minutes at once. -ERANGE after LIMIT_YEAR. */
static int wall_search(const struct sysg_cron_expr *e, struct wall *w,
		       int limit_year)
{
	while (w->y <= limit_year) {
		int mo = next_bit(e->month, w->mo, 12);

		if (mo < 0)
			*w = (struct wall){ w->y + 1, 1, 1, 0, 0, 0 };
		else if (mo != w->mo)
			*w = (struct wall){ w->y, mo, 1, 0, 0, 0 };
		else if (!day_matches(e, w))
			wall_next_day(w);
		else if (fit_time_of_day(e, w) == 0)
			return 0;
	}
	return -ERANGE;
}

/* ---------------------------------------------- wall time to instants */

static int wall_is(const struct wall *w, const struct tm *tm)
{
	return tm->tm_year + 1900 == w->y && tm->tm_mon + 1 == w->mo &&
	       tm->tm_mday == w->d && tm->tm_hour == w->h &&
	       tm->tm_min == w->mi && tm->tm_sec == w->s;
}

static struct wall wall_of(const struct tm *tm)
{
	return (struct wall){ tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday,
			      tm->tm_hour, tm->tm_min, tm->tm_sec };
}

/* The instants whose local time is W, ascending: none in a DST gap, two
 * in an overlap. Returns how many (0-2). */
static int wall_instants(const struct wall *w, time_t t[2])
{
	static const int isdst[] = { 0, 1, -1 };
	int n = 0;

	for (size_t i = 0; i < sizeof(isdst) / sizeof(isdst[0]); i++) {
		struct tm tm = { .tm_year = w->y - 1900, .tm_mon = w->mo - 1,
			.tm_mday = w->d, .tm_hour = w->h, .tm_min = w->mi,
			.tm_sec = w->s, .tm_isdst = isdst[i] };
		struct tm check;
		time_t x = mktime(&tm);

		if (!localtime_r(&x, &check) || !wall_is(w, &check))
			continue;
		if ((n > 0 && t[0] == x) || (n > 1 && t[1] == x) || n == 2)
			continue;
		t[n++] = x;
	}
	if (n == 2 && t[1] < t[0]) {
		time_t tmp = t[0];

		t[0] = t[1];
		t[1] = tmp;
	}
	return n;
}

/* When wall time W is due at or after S: its first instant, or for a job
 * that runs every hour also the repeat in a DST overlap. */
static int wall_due(const struct sysg_cron_expr *e, const struct wall *w,
		    time_t s, time_t *due)
{
	int every_hour = (e->hour & 0xFFFFFFu) == 0xFFFFFFu;
	time_t t[2];
	int n = wall_instants(w, t);

	if (n > 0 && t[0] >= s)
		*due = t[0];
	else if (n > 1 && every_hour && t[1] >= s)
		*due = t[1];
	else
		return 0;
	return 1;
}

/* The first due instant >= S found by walking wall time forward from S's
 * local time. */
static int due_from(const struct sysg_cron_expr *e, time_t s, int limit_year,
		    time_t *due)
{
	struct tm tm;
	struct wall w;

	if (!localtime_r(&s, &tm))
		return -ERANGE;
	w = wall_of(&tm);
	for (;;) {
		int r = wall_search(e, &w, limit_year);

		if (r < 0)
			return r;
		if (wall_due(e, &w, s, due))
			return 0;
		wall_next_second(&w);   /* in a gap, or already past */
	}
}

static long gmtoff_at(time_t t)
{
	struct tm tm;

	return localtime_r(&t, &tm) ? tm.tm_gmtoff : 0;
}

/* If the clock goes back within (S, END], set *AT to the first instant
 * with the smaller UTC offset. At most one change fits in the window. */
static int clock_goes_back(time_t s, time_t end, time_t *at)
{
	long off = gmtoff_at(s);
	time_t lo = s, hi = end;

	if (end <= s || gmtoff_at(end) >= off)
		return 0;
	while (hi - lo > 1) {
		time_t mid = lo + (hi - lo) / 2;

		if (gmtoff_at(mid) < off)
			hi = mid;
		else
			lo = mid;
	}
	*at = hi;
	return 1;
}

/* Walking wall time forward misses the repeated wall times after a clock
 * goes back; when that happens before the found time, search again from
 * the moment it goes back. */
static int next_due(const struct sysg_cron_expr *e, time_t after,
		    time_t *next)
{
	time_t s = after + 1, due, back;
	struct tm tm;
	int limit;

	if (!localtime_r(&after, &tm))
		return -ERANGE;
	limit = tm.tm_year + 1900 + SEARCH_YEARS;
	for (int tries = 0; tries < 8; tries++) {
		time_t end;
		int r = due_from(e, s, limit, &due);

		if (r < 0)
			return r;
		end = due < s + LOOKAHEAD_S ? due : s + LOOKAHEAD_S;
		if (!clock_goes_back(s, end, &back) || back >= due) {
			*next = due;
			return 0;
		}
		s = back;
	}
	return -ERANGE;
}

int sysg_cron_next(const struct sysg_cron_expr *e, const char *tz,
		   time_t after, time_t *next)
{
	struct tzswitch sw;
	int r;

	if (!e || !next)
		return -EINVAL;
	r = tz_enter(tz, &sw);
	if (r < 0)
		return r;
	r = next_due(e, after, next);
	tz_leave(&sw);
	return r;
}
