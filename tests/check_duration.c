/* check_duration.c - durations and sizes. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "testutil.h"

static void expect_ms(const char *s, int64_t want)
{
	int64_t ms = -1;
	int r = sysg_duration_parse(s, &ms);

	ck_assert_msg(r == 0, "'%s': returned %d", s, r);
	ck_assert_msg(ms == want, "'%s': got %lld ms, want %lld", s,
		      (long long)ms, (long long)want);
}

static void expect_dur_err(const char *s, int err)
{
	int64_t ms = 12345;
	int r = sysg_duration_parse(s, &ms);

	ck_assert_msg(r == err, "'%s': returned %d, want %d", s, r, err);
	ck_assert_msg(ms == 12345, "'%s': output written on error", s);
}

START_TEST(test_duration_units)
{
	expect_ms("250ms", 250);
	expect_ms("5s", 5000);
	expect_ms("2m", 120000);
	expect_ms("1h", 3600000);
	expect_ms("0ms", 0);
	expect_ms("0", 0);
	expect_ms("1ms", 1);
}
END_TEST

START_TEST(test_duration_fractions)
{
	expect_ms("1.5s", 1500);
	expect_ms("0.25", 250);
	expect_ms("0.1s", 100);
	expect_ms("0.001s", 1);
	expect_ms("1.25m", 75000);
	expect_ms("0.5h", 1800000);
	expect_ms("1.0005s", 1001);     /* rounded to the nearest ms */
	expect_ms("1.0004s", 1000);
	expect_ms("2.5ms", 3);
	expect_ms("0.1234567890123s", 123);
}
END_TEST

START_TEST(test_duration_bare_seconds)
{
	expect_ms("10", 10000);
	expect_ms("  7s\t", 7000);
	expect_ms(" 3 ", 3000);
	expect_ms("007", 7000);
}
END_TEST

START_TEST(test_duration_invalid)
{
	expect_dur_err("", -EINVAL);
	expect_dur_err("   ", -EINVAL);
	expect_dur_err(NULL, -EINVAL);
	expect_dur_err("5x", -EINVAL);
	expect_dur_err("-1s", -EINVAL);
	expect_dur_err("ms", -EINVAL);
	expect_dur_err("s", -EINVAL);
	expect_dur_err("1.2.3", -EINVAL);
	expect_dur_err("1.", -EINVAL);
	expect_dur_err(".5s", -EINVAL);
	expect_dur_err("5 s", -EINVAL);
	expect_dur_err("5S", -EINVAL);
	expect_dur_err("5sec", -EINVAL);
	expect_dur_err("1e3", -EINVAL);
	expect_dur_err("+5s", -EINVAL);
	expect_dur_err("5s5", -EINVAL);
}
END_TEST

START_TEST(test_duration_overflow)
{
	int64_t ms;

	expect_dur_err("99999999999999999999", -ERANGE);
	expect_dur_err("9223372036854775807s", -ERANGE);
	expect_dur_err("2562047788016h", -ERANGE);
	expect_dur_err("99999999999999999999x", -EINVAL);
	ck_assert_int_eq(sysg_duration_parse("9223372036854775807ms", &ms), 0);
	ck_assert(ms == INT64_MAX);
	ck_assert_int_eq(sysg_duration_parse("9223372036854775.807s", &ms), 0);
	ck_assert(ms == INT64_MAX);
	expect_dur_err("9223372036854775.808s", -ERANGE);
	ck_assert_int_eq(sysg_duration_parse("2562047788015h", &ms), 0);
}
END_TEST

static void expect_format(int64_t ms, const char *want)
{
	char buf[64];

	sysg_duration_format(ms, buf, sizeof(buf));
	ck_assert_msg(strcmp(buf, want) == 0, "%lld: got '%s', want '%s'",
		      (long long)ms, buf, want);
}

START_TEST(test_duration_format)
{
	expect_format(250, "250ms");
	expect_format(5000, "5s");
	expect_format(1500, "1.5s");
	expect_format(1250, "1.25s");
	expect_format(120000, "2m");
	expect_format(3600000, "1h");
	expect_format(5400000, "90m");
	expect_format(90000, "90s");
	expect_format(0, "0s");
	expect_format(1, "1ms");
	expect_format(1005, "1005ms");
	expect_format(61500, "61.5s");
}
END_TEST

START_TEST(test_duration_format_roundtrip)
{
	static const int64_t values[] = { 1, 999, 1000, 1001, 1500, 59999,
		60000, 60001, 3599999, 3600000, 86400000, 123456789 };
	char buf[64];
	int64_t back;

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		sysg_duration_format(values[i], buf, sizeof(buf));
		ck_assert_int_eq(sysg_duration_parse(buf, &back), 0);
		ck_assert_msg(back == values[i], "%s", buf);
	}
}
END_TEST

START_TEST(test_duration_format_truncates)
{
	char buf[3];

	sysg_duration_format(250, buf, sizeof(buf));
	ck_assert_str_eq(buf, "25");
}
END_TEST

static void expect_bytes(const char *s, int64_t want)
{
	int64_t b = -1;
	int r = sysg_size_parse(s, &b);

	ck_assert_msg(r == 0, "'%s': returned %d", s, r);
	ck_assert_msg(b == want, "'%s': got %lld, want %lld", s,
		      (long long)b, (long long)want);
}

static void expect_size_err(const char *s, int err)
{
	int64_t b = 777;
	int r = sysg_size_parse(s, &b);

	ck_assert_msg(r == err, "'%s': returned %d, want %d", s, r, err);
	ck_assert(b == 777);
}

START_TEST(test_size_valid)
{
	expect_bytes("512", 512);
	expect_bytes("0", 0);
	expect_bytes("64K", 64 * 1024);
	expect_bytes("512M", 512LL * 1024 * 1024);
	expect_bytes("1G", 1024LL * 1024 * 1024);
	expect_bytes("2T", 2LL << 40);
	expect_bytes("64k", 64 * 1024);
	expect_bytes("64KB", 64 * 1024);
	expect_bytes("64KiB", 64 * 1024);
	expect_bytes("3gib", 3LL << 30);
	expect_bytes("100B", 100);
	expect_bytes(" 1M ", 1 << 20);
}
END_TEST

START_TEST(test_size_invalid)
{
	expect_size_err("", -EINVAL);
	expect_size_err(NULL, -EINVAL);
	expect_size_err("K", -EINVAL);
	expect_size_err("5X", -EINVAL);
	expect_size_err("-1K", -EINVAL);
	expect_size_err("1.5G", -EINVAL);
	expect_size_err("5 K", -EINVAL);
	expect_size_err("5KiBB", -EINVAL);
	expect_size_err("5Ki", -EINVAL);
	expect_size_err("5P", -EINVAL);
}
END_TEST

START_TEST(test_size_overflow)
{
	int64_t b;

	expect_size_err("8388608T", -ERANGE);
	expect_size_err("99999999999999999999", -ERANGE);
	ck_assert_int_eq(sysg_size_parse("8388607T", &b), 0);
	ck_assert(b == 8388607LL << 40);
	ck_assert_int_eq(sysg_size_parse("9223372036854775807", &b), 0);
	ck_assert(b == INT64_MAX);
}
END_TEST

START_TEST(test_iso8601_roundtrip)
{
	char buf[64];
	int64_t ms;

	sysg_format_iso8601(1795689015123LL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2026-11-26T10:30:15.123Z");
	ck_assert_int_eq(sysg_parse_iso8601(buf, &ms), 0);
	ck_assert_int_eq(ms, 1795689015123LL);
	sysg_format_iso8601(7, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.007Z");
	ck_assert_int_eq(sysg_parse_iso8601("2026-11-26 10:30", &ms), -EINVAL);
	ck_assert_int_eq(sysg_parse_iso8601("2026-11-26T10:30:15.123Zx", &ms),
			 -EINVAL);
}
END_TEST

static Suite *make_duration_suite(void)
{
	Suite *s = suite_create("duration");
	TCase *tc = tcase_create("duration");
	TCase *tz = tcase_create("size");

	tcase_add_test(tc, test_duration_units);
	tcase_add_test(tc, test_duration_fractions);
	tcase_add_test(tc, test_duration_bare_seconds);
	tcase_add_test(tc, test_duration_invalid);
	tcase_add_test(tc, test_duration_overflow);
	tcase_add_test(tc, test_duration_format);
	tcase_add_test(tc, test_duration_format_roundtrip);
	tcase_add_test(tc, test_duration_format_truncates);
	tcase_add_test(tz, test_size_valid);
	tcase_add_test(tz, test_size_invalid);
	tcase_add_test(tz, test_size_overflow);
	tcase_add_test(tc, test_iso8601_roundtrip);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tz);
	return s;
}

int main(void)
{
	return tu_run_suite(make_duration_suite());
}
