/* check_plugin_abi.c - the public plugin header stands alone: this test
 * includes nothing of sysg but <sysg/plugin.h> and links no sysg code. */
#include <check.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sysg/plugin.h>

#include "abi_layout.h"
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
	SYSG_STRATEGY_OPS_INIT,
	.check_config = demo_check,
	.deploy = demo_deploy,
};

/* The author's whole descriptor: one macro, no version written by hand. */
SYSG_STRATEGY_PLUGIN("demo", "a demo", &demo_ops)

static const struct sysg_state_ops demo_state_ops = {
	SYSG_STATE_OPS_INIT,
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
	const struct sysg_plugin *demo = sysg_plugin_entry();
	struct sysg_strategy_settings s;
	const char *bad = "x";

	memset(&s, 0, sizeof(s));
	ck_assert_uint_eq(demo->abi_version, SYSG_PLUGIN_ABI_VERSION);
	ck_assert_str_eq(demo->name, "demo");
	ck_assert_uint_eq(demo->kind, SYSG_PLUGIN_STRATEGY);
	ck_assert_uint_eq(demo->strategy->abi_version, SYSG_PLUGIN_ABI_VERSION);
	ck_assert_uint_eq(demo_state_ops.abi_version, SYSG_PLUGIN_ABI_VERSION);
	ck_assert_ptr_null(demo_state_ops.open);
	ck_assert_int_eq(demo->strategy->check_config(&s, NULL, 0, &bad), 0);
	ck_assert_ptr_null(bad);
	ck_assert_ptr_null(demo->state);
	ck_assert_ptr_null(demo->strategy->start_env);
}
END_TEST

/* Append-only: every slot ABI 1 had is where, and as big as, it was. */
static const struct abi_slot current_slots[] = { ABI1_SLOTS(ABI_SLOT) };

START_TEST(abi1_slots_never_move)
{
	ck_assert_uint_eq(abi1_nslots,
			  sizeof(current_slots) / sizeof(current_slots[0]));
	for (size_t i = 0; i < abi1_nslots; i++) {
		ck_assert_str_eq(abi1_slots[i].name, current_slots[i].name);
		ck_assert_msg(abi1_slots[i].offset == current_slots[i].offset &&
			      abi1_slots[i].size == current_slots[i].size,
			      "%s moved: ABI 1 at %zu (%zu bytes), now at %zu (%zu bytes)",
			      abi1_slots[i].name, abi1_slots[i].offset,
			      abi1_slots[i].size, current_slots[i].offset,
			      current_slots[i].size);
	}
	/* handed over as an array: its stride is frozen */
	ck_assert_uint_eq(abi1_setting_size, sizeof(struct sysg_setting));
}
END_TEST

/* Slots added since ABI 1 come after every ABI-1 slot of their struct. */
START_TEST(new_slots_are_appended)
{
	ck_assert_int_le(SYSG_PLUGIN_ABI_MIN, SYSG_PLUGIN_ABI_VERSION);
	ck_assert_int_eq(SYSG_PLUGIN_ABI_MIN, 1);
	ck_assert_uint_gt(offsetof(struct sysg_host_api, operator_wait),
			  offsetof(struct sysg_host_api, project_dir));
	ck_assert_uint_gt(offsetof(struct sysg_state_host, log_ctx),
			  offsetof(struct sysg_state_host, log));
	ck_assert_uint_gt(offsetof(struct sysg_strategy_ops, abi_version),
			  offsetof(struct sysg_strategy_ops, start_env));
	ck_assert_uint_gt(offsetof(struct sysg_state_ops, abi_version),
			  offsetof(struct sysg_state_ops, kv_set));
	ck_assert_uint_gt(offsetof(struct sysg_state_ops, batch_commit),
			  offsetof(struct sysg_state_ops, batch_begin));
	ck_assert_uint_gt(offsetof(struct sysg_state_ops, batch_begin),
			  offsetof(struct sysg_state_ops, abi_version));
	/* ABI 3: copies */
	ck_assert_uint_gt(offsetof(struct sysg_host_api, copies),
			  offsetof(struct sysg_host_api, operator_wait));
	ck_assert_uint_gt(offsetof(struct sysg_host_api, current_copy),
			  offsetof(struct sysg_host_api, copies));
	ck_assert_uint_gt(offsetof(struct sysg_host_api, start_copy),
			  offsetof(struct sysg_host_api, current_copy));
	ck_assert_uint_gt(offsetof(struct sysg_strategy_ops, flags),
			  offsetof(struct sysg_strategy_ops, abi_version));
	ck_assert_int_eq(SYSG_OPERATOR_NONE, 0);
	ck_assert_int_eq(SYSG_OPERATOR_PROMOTE, 1);
	ck_assert_int_eq(SYSG_OPERATOR_ABORT, 2);
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
	tcase_add_test(tc, abi1_slots_never_move);
	tcase_add_test(tc, new_slots_are_appended);
	tcase_add_test(tc, record_sizes_are_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_plugin_abi_suite());
}
