/* check_plugin_abi.c - the public plugin header stands alone: this test
 * includes nothing of sysg but <sysg/plugin.h> and links no sysg code. */
#include <check.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sysg/plugin.h>

#include "testutil.h"

static int demo_check(const struct sysg_strategy_settings *s, char *err,
		      size_t errlen, const char **bad_key)
{
	(void)err;
	(void)errlen;
	*bad_key = NULL;
	return s->noptions == 0 ? 0 : -1;
}

static int demo_deploy(const struct sysg_host_api *h, struct sysg_deploy_ctx *c,
		       const struct sysg_strategy_settings *s, char *err,
		       size_t errlen)
{
	(void)h; (void)c; (void)s; (void)err; (void)errlen;
	return 0;
}

static const struct sysg_strategy_ops demo_ops = {
	.check_config = demo_check,
	.deploy = demo_deploy,
};

static const struct sysg_plugin demo = {
	.abi_version = SYSG_PLUGIN_ABI_VERSION,
	.name = "demo",
	.kind = SYSG_PLUGIN_STRATEGY,
	.strategy = &demo_ops,
};

START_TEST(version_comes_first)
{
	ck_assert_uint_eq(offsetof(struct sysg_plugin, abi_version), 0);
	ck_assert_uint_eq(offsetof(struct sysg_host_api, abi_version), 0);
	ck_assert_uint_eq(offsetof(struct sysg_state_host, abi_version), 0);
}
END_TEST

START_TEST(generated_version_matches)
{
	ck_assert_int_eq(SYSG_PLUGIN_ABI_VERSION, SYSG_PLUGIN_ABI_GENERATED);
	ck_assert_str_eq(SYSG_PLUGIN_ENTRY_SYMBOL, "sysg_plugin_entry");
	ck_assert_ptr_nonnull(SYSG_VERSION_STRING);
	ck_assert_int_gt((int)strlen(SYSG_VERSION_STRING), 0);
}
END_TEST

START_TEST(descriptor_is_usable)
{
	struct sysg_strategy_settings s;
	const char *bad = "x";

	memset(&s, 0, sizeof(s));
	ck_assert_uint_eq(demo.abi_version, SYSG_PLUGIN_ABI_VERSION);
	ck_assert_int_eq(demo.strategy->check_config(&s, NULL, 0, &bad), 0);
	ck_assert_ptr_null(bad);
	ck_assert_ptr_null(demo.state);
}
END_TEST

START_TEST(record_sizes_are_bounded)
{
	/* Records cross the ABI by value: their arrays are fixed. */
	ck_assert_uint_ge(sizeof(((struct sysg_unit_record *)0)->name),
			  SYSG_NAME_MAX);
	ck_assert_uint_ge(sizeof(((struct sysg_unit_record *)0)->command),
			  SYSG_COMMAND_MAX);
	ck_assert_uint_lt(sizeof(struct sysg_unit_record), 8192);
}
END_TEST

static Suite *make_plugin_abi_suite(void)
{
	Suite *s = suite_create("plugin_abi");
	TCase *tc = tcase_create("abi");

	tcase_add_test(tc, version_comes_first);
	tcase_add_test(tc, generated_version_matches);
	tcase_add_test(tc, descriptor_is_usable);
	tcase_add_test(tc, record_sizes_are_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_plugin_abi_suite());
}
