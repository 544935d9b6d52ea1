/* abi_layout.h - the offset of every slot of the plugin ABI's structs, as
 * one header version lays them out. tests/abi1_layout.c computes the table
 * against the frozen ABI-1 header, check_plugin_abi.c against the current
 * one: every ABI-1 slot must sit where it did (append-only rule). */
#ifndef SYSG_TEST_ABI_LAYOUT_H
#define SYSG_TEST_ABI_LAYOUT_H

#include <stddef.h>

struct abi_slot {
	const char *name;       /* "struct.field" */
	size_t offset;
	size_t size;
};

/* Every slot ABI 1 defined, in order. F(struct tag, field). */
#define ABI1_SLOTS(F) \
	F(sysg_plugin, abi_version) F(sysg_plugin, name) F(sysg_plugin, kind) \
	F(sysg_plugin, description) F(sysg_plugin, strategy) \
	F(sysg_plugin, state) \
	F(sysg_state_host, abi_version) F(sysg_state_host, log) \
	F(sysg_state_ops, open) F(sysg_state_ops, close) \
	F(sysg_state_ops, set_pid) F(sysg_state_ops, get_pid) \
	F(sysg_state_ops, list_pids) F(sysg_state_ops, put_unit) \
	F(sysg_state_ops, get_unit) F(sysg_state_ops, remove_unit) \
	F(sysg_state_ops, list_units) F(sysg_state_ops, add_cron_run) \
	F(sysg_state_ops, list_cron_runs) F(sysg_state_ops, add_deploy) \
	F(sysg_state_ops, list_deploys) F(sysg_state_ops, kv_get) \
	F(sysg_state_ops, kv_set) \
	F(sysg_strategy_ops, check_config) F(sysg_strategy_ops, deploy) \
	F(sysg_strategy_ops, start_env) \
	F(sysg_host_api, abi_version) F(sysg_host_api, log) \
	F(sysg_host_api, step) F(sysg_host_api, current) \
	F(sysg_host_api, pre_start) F(sysg_host_api, start) \
	F(sysg_host_api, wait_ready) F(sysg_host_api, http_check) \
	F(sysg_host_api, promote) F(sysg_host_api, stop) \
	F(sysg_host_api, run) F(sysg_host_api, sleep_ms) \
	F(sysg_host_api, kv_get) F(sysg_host_api, kv_set) \
	F(sysg_host_api, set_slots) F(sysg_host_api, dry_run) \
	F(sysg_host_api, state_dir) F(sysg_host_api, project_dir) \
	F(sysg_setting, key) F(sysg_setting, value) F(sysg_setting, line) \
	F(sysg_setting, col) \
	F(sysg_strategy_settings, service) F(sysg_strategy_settings, strategy) \
	F(sysg_strategy_settings, pre_start) \
	F(sysg_strategy_settings, health_url) \
	F(sysg_strategy_settings, health_command) \
	F(sysg_strategy_settings, health_timeout_ms) \
	F(sysg_strategy_settings, health_retries) \
	F(sysg_strategy_settings, grace_period_ms) \
	F(sysg_strategy_settings, options) F(sysg_strategy_settings, noptions) \
	F(sysg_unit_record, name) F(sysg_unit_record, kind) \
	F(sysg_unit_record, status) F(sysg_unit_record, pid) \
	F(sysg_unit_record, pgid) F(sysg_unit_record, start_ticks) \
	F(sysg_unit_record, started_at_ms) F(sysg_unit_record, updated_at_ms) \
	F(sysg_unit_record, has_exit_code) F(sysg_unit_record, exit_code) \
	F(sysg_unit_record, has_signal) F(sysg_unit_record, signal) \
	F(sysg_unit_record, restarts) F(sysg_unit_record, reason) \
	F(sysg_unit_record, command) \
	F(sysg_cron_run, name) F(sysg_cron_run, started_at_ms) \
	F(sysg_cron_run, completed_at_ms) F(sysg_cron_run, status) \
	F(sysg_cron_run, has_exit_code) F(sysg_cron_run, exit_code) \
	F(sysg_deploy_record, id) F(sysg_deploy_record, service) \
	F(sysg_deploy_record, strategy) F(sysg_deploy_record, started_at_ms) \
	F(sysg_deploy_record, duration_ms) F(sysg_deploy_record, slot_before) \
	F(sysg_deploy_record, slot_after) F(sysg_deploy_record, outcome) \
	F(sysg_deploy_record, reason)

#define ABI_SLOT(tag, field) \
	{ #tag "." #field, offsetof(struct tag, field), \
	  sizeof(((struct tag *)0)->field) },

/* The table as the frozen ABI-1 header lays it out (abi1_layout.c). */
extern const struct abi_slot abi1_slots[];
extern const size_t abi1_nslots;
/* sizeof(struct sysg_setting) there: arrays of it never change stride. */
extern const size_t abi1_setting_size;

#endif
