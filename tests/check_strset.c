/* check_strset.c - the small ordered string set (core/strset.h). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "testutil.h"

START_TEST(test_strset_order_and_dups)
{
	struct sysg_strset s = { 0 };

	ck_assert_int_eq(sysg_strset_has(&s, "a"), 0);
	ck_assert_int_eq(sysg_strset_add(&s, "web"), 0);
	ck_assert_int_eq(sysg_strset_add(&s, "db"), 0);
	ck_assert_int_eq(sysg_strset_add(&s, "web"), 0);
	ck_assert_int_eq(sysg_strset_add(&s, ""), 0);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_str_eq(s.v[0], "web");
	ck_assert_str_eq(s.v[1], "db");
	ck_assert_str_eq(s.v[2], "");
	ck_assert_int_eq(sysg_strset_has(&s, "db"), 1);
	ck_assert_int_eq(sysg_strset_has(&s, "d"), 0);
	ck_assert_int_eq(sysg_strset_has(&s, ""), 1);
	sysg_strset_free(&s);
	ck_assert_ptr_null(s.v);
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

START_TEST(test_strset_owns_copies)
{
	struct sysg_strset s = { 0 };
	char name[] = "api";

	ck_assert_int_eq(sysg_strset_add(&s, name), 0);
	name[0] = 'x';
	ck_assert_str_eq(s.v[0], "api");
	ck_assert_int_eq(sysg_strset_has(&s, "xpi"), 0);
	sysg_strset_free(&s);
	/* freed sets are empty and reusable */
	ck_assert_int_eq(sysg_strset_add(&s, "again"), 0);
	ck_assert_uint_eq(s.n, 1);
	sysg_strset_free(&s);
	sysg_strset_free(&s);
}
END_TEST

static Suite *make_strset_suite(void)
{
	Suite *s = suite_create("strset");
	TCase *tc = tcase_create("strset");

	tcase_add_test(tc, test_strset_order_and_dups);
	tcase_add_test(tc, test_strset_owns_copies);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_strset_suite());
}
