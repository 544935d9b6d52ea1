/* check_cron.c - cron parsing and next-run computation. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "testutil.h"

/* "2024-03-10T01:59:59-05:00" or "...Z" to time_t, independently of the
 * code under test (timegm, no time zone database). */
static time_t iso(const char *s)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	char sign = 'Z';
	struct tm tm = { 0 };
	int n = sscanf(s, "%d-%d-%dT%d:%d:%d%c%d:%d", &y, &mo, &d, &h, &mi,
		       &sec, &sign, &oh, &om);
	long off;

	ck_assert_msg(n == 7 || n == 9, "bad test time '%s'", s);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	off = (oh * 3600L + om * 60L) * (sign == '-' ? -1 : 1);
	return timegm(&tm) - (sign == 'Z' ? 0 : off);
}

static void fmt_utc(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static struct sysg_cron_expr parse_ok(const char *expr)
{
	struct sysg_cron_expr e;
	char err[200];
	int r = sysg_cron_parse(expr, &e, err, sizeof(err));

	ck_assert_msg(r == 0, "'%s': %d %s", expr, r, err);
	return e;
}

/* The next run of EXPR in TZ after AFTER is WANT (all ISO strings). */
static void expect_next(const char *expr, const char *tz, const char *after,
			const char *want)
{
	struct sysg_cron_expr e = parse_ok(expr);
	time_t next = 0;
	char got[40], exp[40];
	int r = sysg_cron_next(&e, tz, iso(after), &next);

	ck_assert_msg(r == 0, "'%s' in %s after %s: returned %d", expr, tz,
		      after, r);
	fmt_utc(next, got, sizeof(got));
	fmt_utc(iso(want), exp, sizeof(exp));
	ck_assert_msg(next == iso(want), "'%s' in %s after %s: got %s, want %s"
		      " (%s)", expr, tz, after, got, exp, want);
}

/* Consecutive runs of EXPR in TZ starting after FROM: each of the COUNT
 * strings that follow, in order. */
static void expect_runs(const char *expr, const char *tz, const char *from,
			const char *const *want, size_t count)
{
	struct sysg_cron_expr e = parse_ok(expr);
	time_t t = iso(from);
	char got[40], exp[40];

	for (size_t i = 0; i < count; i++) {
		time_t next;

		ck_assert_int_eq(sysg_cron_next(&e, tz, t, &next), 0);
		fmt_utc(next, got, sizeof(got));
		fmt_utc(iso(want[i]), exp, sizeof(exp));
		ck_assert_msg(next == iso(want[i]), "'%s' run %zu: got %s, "
			      "want %s (%s)", expr, i, got, exp, want[i]);
		t = next;
	}
}

#define RUNS(expr, tz, from, ...) do { \
		static const char *const w_[] = { __VA_ARGS__ }; \
		expect_runs(expr, tz, from, w_, sizeof(w_) / sizeof(w_[0])); \
	} while (0)

/* ------------------------------------------------------------ parsing */

START_TEST(test_parse_fields)
{
	struct sysg_cron_expr e;

	e = parse_ok("*/15 * * * *");           /* 5 fields: second 0 */
	ck_assert(e.sec == 1);
	ck_assert(e.min == (1ULL << 0 | 1ULL << 15 | 1ULL << 30 | 1ULL << 45));
	ck_assert(e.hour == 0xFFFFFF);
	ck_assert(e.dom == 0xFFFFFFFEu);
	ck_assert(e.month == 0x1FFE);
	ck_assert(e.dow == 0x7F);
	ck_assert(e.dom_star && e.dow_star);

	e = parse_ok("* * * * * *");
	ck_assert(e.sec == (1ULL << 60) - 1);
	ck_assert(e.min == (1ULL << 60) - 1);

	e = parse_ok("0 0 2 * * *");
	ck_assert(e.sec == 1 && e.min == 1 && e.hour == 1u << 2);

	e = parse_ok("0 9 * * MON-FRI");
	ck_assert(e.hour == 1u << 9);
	ck_assert(e.dow == 0x3E);
	ck_assert(e.dom_star && !e.dow_star);

	e = parse_ok("0 0 12 ? JAN,jul sun");
	ck_assert(e.month == (1u << 1 | 1u << 7));
	ck_assert(e.dow == 1);
	ck_assert(e.dom_star && !e.dow_star);

	e = parse_ok("1-10/3 5/20 0,12 1-31 * ?");
	ck_assert(e.sec == (1ULL << 1 | 1ULL << 4 | 1ULL << 7 | 1ULL << 10));
	ck_assert(e.min == (1ULL << 5 | 1ULL << 25 | 1ULL << 45));
	ck_assert(e.hour == (1u << 0 | 1u << 12));
	ck_assert(e.dom == 0xFFFFFFFEu);
	ck_assert(!e.dom_star);                 /* restricted, even if full */
	ck_assert(e.dow_star);

	e = parse_ok(" \t30  2\t* * *  ");      /* blanks anywhere */
	ck_assert(e.min == 1ULL << 30 && e.hour == 1u << 2 && e.sec == 1);
}
END_TEST

START_TEST(test_parse_dow_sunday)
{
	ck_assert(parse_ok("* * * * 7").dow == 1);
	ck_assert(parse_ok("* * * * 0").dow == 1);
	ck_assert(parse_ok("* * * * 5-7").dow == (1 << 5 | 1 << 6 | 1));
	ck_assert(parse_ok("* * * * SAT-SUN").dow == (1 << 6 | 1));
	ck_assert(parse_ok("* * * * MON-SUN").dow == 0x7F);
	ck_assert(parse_ok("* * * * */2").dow == (1 | 1 << 2 | 1 << 4 | 1 << 6));
	ck_assert(parse_ok("* * * * Tue,thu").dow == (1 << 2 | 1 << 4));
	ck_assert(parse_ok("* * * dec *").month == 1 << 12);
	ck_assert(parse_ok("* * * JAN-MAR/2 *").month == (1 << 1 | 1 << 3));
}
END_TEST

START_TEST(test_parse_macros)
{
	struct sysg_cron_expr m, x;
	static const char *const pairs[][2] = {
		{ "@yearly", "0 0 0 1 1 *" },
		{ "@annually", "0 0 0 1 1 *" },
		{ "@monthly", "0 0 0 1 * *" },
		{ "@weekly", "0 0 0 * * 0" },
		{ "@daily", "0 0 0 * * *" },
		{ "@midnight", "0 0 0 * * *" },
		{ "@hourly", "0 0 * * * *" },
		{ "  @DAILY ", "0 0 0 * * *" },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		m = parse_ok(pairs[i][0]);
		x = parse_ok(pairs[i][1]);
		ck_assert_msg(memcmp(&m, &x, sizeof(m)) == 0, "%s", pairs[i][0]);
	}
}
END_TEST

static void expect_bad(const char *expr, const char *msg)
{
	struct sysg_cron_expr e;
	char err[200] = "untouched";

	memset(&e, 0xAB, sizeof(e));
	ck_assert_int_eq(sysg_cron_parse(expr, &e, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strcmp(err, msg) == 0, "'%s': got '%s', want '%s'",
		      expr, err, msg);
	ck_assert(e.sec == 0xABABABABABABABABULL);      /* untouched */
}

START_TEST(test_parse_errors)
{
	expect_bad("", "empty expression");
	expect_bad("   ", "empty expression");
	expect_bad(NULL, "empty expression");
	expect_bad("* * * *", "expected 5 or 6 fields, found 4");
	expect_bad("* * * * * * *", "expected 5 or 6 fields, found 7");
	expect_bad("* * * * * * * * *", "expected 5 or 6 fields, found 8");
	expect_bad("60 * * * * *", "field 1 (second): 60 is out of range 0-59");
	expect_bad("0 0 25 * * *", "field 3 (hour): 25 is out of range 0-23");
	expect_bad("0 25 * * *", "field 2 (hour): 25 is out of range 0-23");
	expect_bad("60 0 * * *", "field 1 (minute): 60 is out of range 0-59");
	expect_bad("* * 0 * *",
		   "field 3 (day-of-month): 0 is out of range 1-31");
	expect_bad("* * 32 * *",
		   "field 3 (day-of-month): 32 is out of range 1-31");
	expect_bad("* * * 13 *", "field 4 (month): 13 is out of range 1-12");
	expect_bad("* * * 0 *", "field 4 (month): 0 is out of range 1-12");
	expect_bad("* * * * 8", "field 5 (day-of-week): 8 is out of range 0-7");
	expect_bad("99999999999 * * * *",
		   "field 1 (minute): 99999999999 is out of range 0-59");
	expect_bad("* * * FOO *", "field 4 (month): unknown name 'FOO'");
	expect_bad("* * * * MONDAY",
		   "field 5 (day-of-week): unknown name 'MONDAY'");
	expect_bad("0 0 MON * * *", "field 3 (hour): invalid value 'MON'");
	expect_bad("a * * * *", "field 1 (minute): invalid value 'a'");
	expect_bad("-1 * * * *", "field 1 (minute): invalid value ''");
	expect_bad("1-2-3 * * * *", "field 1 (minute): invalid value '2-3'");
	expect_bad("*/0 * * * *", "field 1 (minute): step 0 is out of range 1-60");
	expect_bad("* */25 * * *", "field 2 (hour): step 25 is out of range 1-24");
	expect_bad("*/ * * * *", "field 1 (minute): invalid step ''");
	expect_bad("*/x * * * *", "field 1 (minute): invalid step 'x'");
	expect_bad("1/2/3 * * * *", "field 1 (minute): invalid step '2/3'");
	expect_bad("5-3 * * * *", "field 1 (minute): range 5-3 goes backwards");
	expect_bad("* * * * FRI-MON",
		   "field 5 (day-of-week): range FRI-MON goes backwards");
	expect_bad("1,,2 * * * *", "field 1 (minute): empty item in list");
	expect_bad("1, * * * *", "field 1 (minute): empty item in list");
	expect_bad("? * * * *", "field 1 (minute): '?' is only allowed in "
		   "day-of-month and day-of-week");
	expect_bad("* * * ? *", "field 4 (month): '?' is only allowed in "
		   "day-of-month and day-of-week");
	expect_bad("** * * * *", "field 1 (minute): invalid value '**'");
	expect_bad("@reboot", "unknown macro '@reboot'");
	expect_bad("@daily extra", "unexpected text after '@daily'");
	expect_bad("@", "unknown macro '@'");
	expect_bad("@averyveryverylongmacroname",
		   "unknown macro '@averyveryverylongmacroname'");
}
END_TEST

START_TEST(test_parse_error_buffer)
{
	struct sysg_cron_expr e;
	char small[8];

	ck_assert_int_eq(sysg_cron_parse("0 25 * * *", &e, NULL, 0), -EINVAL);
	ck_assert_int_eq(sysg_cron_parse("0 25 * * *", &e, small,
					 sizeof(small)), -EINVAL);
	ck_assert_str_eq(small, "field 2");
}
END_TEST

/* ------------------------------------------------------- time zones */

START_TEST(test_valid_timezone)
{
	ck_assert(sysg_cron_valid_timezone("UTC"));
	ck_assert(sysg_cron_valid_timezone("Local"));
	ck_assert(sysg_cron_valid_timezone("America/New_York"));
	ck_assert(sysg_cron_valid_timezone("Europe/Berlin"));
	ck_assert(sysg_cron_valid_timezone("Etc/GMT+5"));
	ck_assert(!sysg_cron_valid_timezone(NULL));
	ck_assert(!sysg_cron_valid_timezone(""));
	ck_assert(!sysg_cron_valid_timezone("Mars/Olympus_Mons"));
	ck_assert(!sysg_cron_valid_timezone("America"));        /* a dir */
	ck_assert(!sysg_cron_valid_timezone("America/"));
	ck_assert(!sysg_cron_valid_timezone("/usr/share/zoneinfo/UTC"));
	ck_assert(!sysg_cron_valid_timezone("../zoneinfo/UTC"));
	ck_assert(!sysg_cron_valid_timezone("America/../UTC"));
	ck_assert(!sysg_cron_valid_timezone("America/New York"));
	ck_assert(!sysg_cron_valid_timezone(" UTC"));
	ck_assert(!sysg_cron_valid_timezone("zone.tab"));       /* not TZif */
	ck_assert(!sysg_cron_valid_timezone("EST5EDT,M3.2.0,M11.1.0"));
}
END_TEST

START_TEST(test_tz_restored)
{
	struct sysg_cron_expr e = parse_ok("0 0 * * * *");
	time_t next;

	ck_assert_int_eq(setenv("TZ", "Asia/Tokyo", 1), 0);
	ck_assert_int_eq(sysg_cron_next(&e, "Europe/Berlin", 0, &next), 0);
	ck_assert_str_eq(getenv("TZ"), "Asia/Tokyo");
	ck_assert_int_eq(unsetenv("TZ"), 0);
	ck_assert_int_eq(sysg_cron_next(&e, "UTC", 0, &next), 0);
	ck_assert_ptr_null(getenv("TZ"));
	ck_assert_int_eq(sysg_cron_next(&e, "No/Such_Zone", 0, &next),
			 -EINVAL);
	ck_assert_ptr_null(getenv("TZ"));
}
END_TEST

/* tz NULL (or "Local") uses the process's local time. */
START_TEST(test_local_time)
{
	ck_assert_int_eq(setenv("TZ", "Asia/Kolkata", 1), 0);
	tzset();
	expect_next("0 0 2 * * *", NULL, "2024-01-01T00:00:00Z",
		    "2024-01-02T02:00:00+05:30");
	expect_next("0 0 2 * * *", "Local", "2024-01-01T20:00:00Z",
		    "2024-01-02T02:00:00+05:30");
	ck_assert_int_eq(unsetenv("TZ"), 0);
	tzset();
}
END_TEST

/* ------------------------------------------------------- next in UTC */

START_TEST(test_next_every_second)
{
	expect_next("* * * * * *", "UTC", "2024-01-01T00:00:00Z",
		    "2024-01-01T00:00:01Z");
	expect_next("* * * * * *", "UTC", "2024-12-31T23:59:59Z",
		    "2025-01-01T00:00:00Z");
	expect_next("* * * * *", "UTC", "2024-01-01T00:00:00Z",
		    "2024-01-01T00:01:00Z");
}
END_TEST

START_TEST(test_next_daily_2am)
{
	RUNS("0 0 2 * * *", "UTC", "2024-01-01T00:00:00Z",
	     "2024-01-01T02:00:00Z", "2024-01-02T02:00:00Z",
	     "2024-01-03T02:00:00Z");
	expect_next("0 0 2 * * *", "UTC", "2024-01-31T02:00:00Z",
		    "2024-02-01T02:00:00Z");
	expect_next("0 0 2 * * *", "UTC", "2024-01-01T01:59:59Z",
		    "2024-01-01T02:00:00Z");
	expect_next("@daily", "UTC", "2024-02-28T12:00:00Z",
		    "2024-02-29T00:00:00Z");
}
END_TEST

START_TEST(test_next_every_15_minutes)
{
	RUNS("*/15 * * * *", "UTC", "2024-01-01T00:07:30Z",
	     "2024-01-01T00:15:00Z", "2024-01-01T00:30:00Z",
	     "2024-01-01T00:45:00Z", "2024-01-01T01:00:00Z");
	expect_next("*/15 * * * *", "UTC", "2024-12-31T23:45:00Z",
		    "2025-01-01T00:00:00Z");
}
END_TEST

/* 2024-01-05 is a Friday. */
START_TEST(test_next_weekdays)
{
	RUNS("0 9 * * MON-FRI", "UTC", "2024-01-04T09:00:00Z",
	     "2024-01-05T09:00:00Z", "2024-01-08T09:00:00Z",
	     "2024-01-09T09:00:00Z");
	expect_next("0 9 * * MON-FRI", "UTC", "2024-01-06T08:00:00Z",
		    "2024-01-08T09:00:00Z");
	expect_next("@weekly", "UTC", "2024-01-01T00:00:00Z",
		    "2024-01-07T00:00:00Z");
	expect_next("0 0 * * 7", "UTC", "2024-01-01T00:00:00Z",
		    "2024-01-07T00:00:00Z");
}
END_TEST

/* Both restricted: either matches (Fridays and the 13th). One '*' or
 * '?': both must match. */
START_TEST(test_next_dom_dow_or)
{
	RUNS("0 0 0 13 * FRI", "UTC", "2024-01-01T00:00:00Z",
	     "2024-01-05T00:00:00Z", "2024-01-12T00:00:00Z",
	     "2024-01-13T00:00:00Z", "2024-01-19T00:00:00Z");
	RUNS("0 0 0 13 * *", "UTC", "2024-01-01T00:00:00Z",
	     "2024-01-13T00:00:00Z", "2024-02-13T00:00:00Z");
	RUNS("0 0 0 ? * FRI", "UTC", "2024-01-01T00:00:00Z",
	     "2024-01-05T00:00:00Z", "2024-01-12T00:00:00Z",
	     "2024-01-19T00:00:00Z");
	/* Vixie: a stepped '*' counts as '*', so this is AND: odd days that
	 * are Mondays. 2024-01-01 (Mon) is odd, 01-15, 01-29. */
	RUNS("0 0 0 */2 * MON", "UTC", "2023-12-31T00:00:00Z",
	     "2024-01-01T00:00:00Z", "2024-01-15T00:00:00Z",
	     "2024-01-29T00:00:00Z");
}
END_TEST

START_TEST(test_next_feb29)
{
	expect_next("0 0 0 29 2 *", "UTC", "2023-01-01T00:00:00Z",
		    "2024-02-29T00:00:00Z");
	expect_next("0 0 0 29 2 *", "UTC", "2024-02-29T00:00:00Z",
		    "2028-02-29T00:00:00Z");
	expect_next("0 0 12 29 FEB *", "UTC", "2095-03-01T00:00:00Z",
		    "2096-02-29T12:00:00Z");
}
END_TEST

START_TEST(test_next_month_ends)
{
	RUNS("0 0 0 31 * *", "UTC", "2024-04-01T00:00:00Z",
	     "2024-05-31T00:00:00Z", "2024-07-31T00:00:00Z",
	     "2024-08-31T00:00:00Z", "2024-10-31T00:00:00Z");
	expect_next("59 59 23 31 12 *", "UTC", "2024-06-01T00:00:00Z",
		    "2024-12-31T23:59:59Z");
	expect_next("@yearly", "UTC", "2024-06-01T00:00:00Z",
		    "2025-01-01T00:00:00Z");
	expect_next("@monthly", "UTC", "2024-01-31T00:00:00Z",
		    "2024-02-01T00:00:00Z");
	expect_next("@hourly", "UTC", "2024-01-31T23:00:00Z",
		    "2024-02-01T00:00:00Z");
}
END_TEST

START_TEST(test_next_never)
{
	struct sysg_cron_expr e = parse_ok("0 0 0 30 2 *");
	time_t next = 42;

	ck_assert_int_eq(sysg_cron_next(&e, "UTC", iso("2024-01-01T00:00:00Z"),
					&next), -ERANGE);
	ck_assert(next == 42);
	e = parse_ok("0 0 0 31 4,6,9,11 *");
	ck_assert_int_eq(sysg_cron_next(&e, "Europe/Berlin",
					iso("2024-01-01T00:00:00Z"), &next),
			 -ERANGE);
	/* 2100 is no leap year: 2104 is beyond the 5-year window... */
	e = parse_ok("0 0 0 29 2 *");
	ck_assert_int_eq(sysg_cron_next(&e, "UTC", iso("2096-03-01T00:00:00Z"),
					&next), -ERANGE);
	/* ...while 3 years ahead is within it. */
	ck_assert_int_eq(sysg_cron_next(&e, "UTC", iso("2029-03-01T00:00:00Z"),
					&next), 0);
	ck_assert(next == iso("2032-02-29T00:00:00Z"));
}
END_TEST

/* ------------------------------------------------------------- DST */

/* New York 2024: 2024-03-10 02:00 EST -> 03:00 EDT;
 * 2024-11-03 02:00 EDT -> 01:00 EST. */
START_TEST(test_new_york_spring_forward)
{
	/* 02:30 does not exist on 03-10: that day is skipped. */
	RUNS("0 30 2 * * *", "America/New_York", "2024-03-09T02:30:00-05:00",
	     "2024-03-11T02:30:00-04:00", "2024-03-12T02:30:00-04:00");
	expect_next("0 0 2 * * *", "America/New_York",
		    "2024-03-09T03:00:00-05:00", "2024-03-11T02:00:00-04:00");
	/* 09:00 keeps its wall time across the change (23 h later). */
	RUNS("0 9 * * MON-FRI", "America/New_York",
	     "2024-03-08T09:00:00-05:00",
	     "2024-03-11T09:00:00-04:00", "2024-03-12T09:00:00-04:00");
	RUNS("0 0 9 * * *", "America/New_York", "2024-03-09T09:00:00-05:00",
	     "2024-03-10T09:00:00-04:00");
	/* Every second runs straight through the gap. */
	expect_next("* * * * * *", "America/New_York",
		    "2024-03-10T01:59:59-05:00", "2024-03-10T03:00:00-04:00");
	RUNS("*/15 * * * *", "America/New_York", "2024-03-10T01:45:00-05:00",
	     "2024-03-10T03:00:00-04:00", "2024-03-10T03:15:00-04:00");
}
END_TEST

START_TEST(test_new_york_fall_back)
{
	/* A fixed-time job runs once, at the first 01:30. */
	RUNS("0 30 1 * * *", "America/New_York", "2024-11-02T01:30:00-04:00",
	     "2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00");
	expect_next("0 30 1 * * *", "America/New_York",
		    "2024-11-03T01:10:00-05:00", "2024-11-04T01:30:00-05:00");
	/* A job that runs every hour keeps its cadence through the repeat. */
	RUNS("*/15 * * * *", "America/New_York", "2024-11-03T01:30:00-04:00",
	     "2024-11-03T01:45:00-04:00", "2024-11-03T01:00:00-05:00",
	     "2024-11-03T01:15:00-05:00", "2024-11-03T01:30:00-05:00",
	     "2024-11-03T01:45:00-05:00", "2024-11-03T02:00:00-05:00");
	expect_next("* * * * * *", "America/New_York",
		    "2024-11-03T01:59:59-04:00", "2024-11-03T01:00:00-05:00");
	RUNS("0 0 * * * *", "America/New_York", "2024-11-03T00:00:00-04:00",
	     "2024-11-03T01:00:00-04:00", "2024-11-03T01:00:00-05:00",
	     "2024-11-03T02:00:00-05:00");
	/* Daily midnight: a 25-hour day. */
	RUNS("0 0 0 * * *", "America/New_York", "2024-11-02T00:00:00-04:00",
	     "2024-11-03T00:00:00-04:00", "2024-11-04T00:00:00-05:00");
}
END_TEST

/* Berlin 2024: 03-31 02:00 CET -> 03:00 CEST; 10-27 03:00 CEST -> 02:00
 * CET. */
START_TEST(test_berlin_dst)
{
	RUNS("0 30 2 * * *", "Europe/Berlin", "2024-03-30T02:30:00+01:00",
	     "2024-04-01T02:30:00+02:00");
	RUNS("0 0 12 * * *", "Europe/Berlin", "2024-03-30T12:00:00+01:00",
	     "2024-03-31T12:00:00+02:00", "2024-04-01T12:00:00+02:00");
	RUNS("0 30 2 * * *", "Europe/Berlin", "2024-10-26T02:30:00+02:00",
	     "2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00");
	RUNS("0 0 * * * *", "Europe/Berlin", "2024-10-27T01:00:00+02:00",
	     "2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00",
	     "2024-10-27T03:00:00+01:00");
	expect_next("0 0 2 * * *", "Europe/Berlin", "2024-01-01T00:00:00Z",
		    "2024-01-01T02:00:00+01:00");
	expect_next("0 0 2 * * *", "Europe/Berlin", "2024-06-30T23:00:00Z",
		    "2024-07-01T02:00:00+02:00");
}
END_TEST

/* Southern hemisphere and a half-hour zone. */
START_TEST(test_other_zones)
{
	/* Sydney 2024-04-07 03:00 AEDT -> 02:00 AEST. */
	RUNS("0 30 2 * * *", "Australia/Sydney", "2024-04-06T02:30:00+11:00",
	     "2024-04-07T02:30:00+11:00", "2024-04-08T02:30:00+10:00");
	expect_next("0 0 9 * * *", "Asia/Kolkata", "2024-01-01T00:00:00Z",
		    "2024-01-01T09:00:00+05:30");
	expect_next("0 0 9 * * *", "Asia/Kolkata", "2024-01-01T04:00:00Z",
		    "2024-01-02T09:00:00+05:30");
}
END_TEST

/* The search skips by field: an expression that matches once a year (or
 * never) is answered without walking seconds, across many calls. */
START_TEST(test_next_search_is_by_field)
{
	struct sysg_cron_expr never = parse_ok("59 59 23 31 2 *");
	struct sysg_cron_expr yearly = parse_ok("59 59 23 31 12 *");
	time_t t = iso("2024-01-01T00:00:00Z"), next;

	for (int i = 0; i < 200; i++) {
		ck_assert_int_eq(sysg_cron_next(&never, "America/New_York", t,
						&next), -ERANGE);
		ck_assert_int_eq(sysg_cron_next(&yearly, "Europe/Berlin", t,
						&next), 0);
	}
	ck_assert(next == iso("2024-12-31T23:59:59+01:00"));
}
END_TEST

START_TEST(test_next_bad_args)
{
	struct sysg_cron_expr e = parse_ok("* * * * *");
	time_t next;

	ck_assert_int_eq(sysg_cron_next(NULL, "UTC", 0, &next), -EINVAL);
	ck_assert_int_eq(sysg_cron_next(&e, "../etc/passwd", 0, &next),
			 -EINVAL);
}
END_TEST

static Suite *make_cron_suite(void)
{
	Suite *s = suite_create("cron");
	TCase *parse = tcase_create("parse");
	TCase *tz = tcase_create("timezone");
	TCase *utc = tcase_create("next-utc");
	TCase *dst = tcase_create("next-dst");

	tcase_add_test(parse, test_parse_fields);
	tcase_add_test(parse, test_parse_dow_sunday);
	tcase_add_test(parse, test_parse_macros);
	tcase_add_test(parse, test_parse_errors);
	tcase_add_test(parse, test_parse_error_buffer);
	tcase_add_test(tz, test_valid_timezone);
	tcase_add_test(tz, test_tz_restored);
	tcase_add_test(tz, test_local_time);
	tcase_add_test(utc, test_next_every_second);
	tcase_add_test(utc, test_next_daily_2am);
	tcase_add_test(utc, test_next_every_15_minutes);
	tcase_add_test(utc, test_next_weekdays);
	tcase_add_test(utc, test_next_dom_dow_or);
	tcase_add_test(utc, test_next_feb29);
	tcase_add_test(utc, test_next_month_ends);
	tcase_add_test(utc, test_next_never);
	tcase_add_test(utc, test_next_search_is_by_field);
	tcase_add_test(utc, test_next_bad_args);
	tcase_add_test(dst, test_new_york_spring_forward);
	tcase_add_test(dst, test_new_york_fall_back);
	tcase_add_test(dst, test_berlin_dst);
	tcase_add_test(dst, test_other_zones);
	suite_add_tcase(s, parse);
	suite_add_tcase(s, tz);
	suite_add_tcase(s, utc);
	suite_add_tcase(s, dst);
	return s;
}

int main(void)
{
	return tu_run_suite(make_cron_suite());
}
