/* check_cli.c - the sysg binary's command line, run as a user would. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sysg/plugin.h>

#include "runutil.h"
#include "testutil.h"

static char tmpdir[64];
static char env_state[128], env_home[128];
static char *env[] = { env_state, env_home, NULL };
static struct run_result r;

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sysg-cli-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(env_state, sizeof(env_state), "SYSG_STATE_DIR=%s/state", tmpdir);
	snprintf(env_home, sizeof(env_home), "HOME=%s", tmpdir);
	memset(&r, 0, sizeof(r));
}

static void teardown(void)
{
	char cmd[128];

	run_result_free(&r);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

#define SYSG(...) ck_assert_int_eq(run_sysg(tmpdir, env, &r, __VA_ARGS__, NULL), 0)

START_TEST(version)
{
	SYSG("--version");
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(!strncmp(r.out, "sysg ", 5), "out: %s", r.out);
}
END_TEST

START_TEST(help_lists_every_command)
{
	static const char *const cmds[] = { "start", "stop", "restart", "deploy",
		"status", "inspect", "logs", "purge", "plugins", "validate", NULL };

	SYSG("help");
	ck_assert_int_eq(r.status, 0);
	for (int i = 0; cmds[i]; i++)
		ck_assert_msg(strstr(r.out, cmds[i]), "missing %s", cmds[i]);
}
END_TEST

START_TEST(command_help)
{
	SYSG("start", "--help");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "usage: sysg start"));
	run_result_free(&r);
	SYSG("help", "status");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "--json"));
	run_result_free(&r);
	SYSG("help", "nosuch");
	ck_assert_int_eq(r.status, 2);
}
END_TEST

START_TEST(usage_errors_exit_2)
{
	SYSG(NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "usage: sysg"));
	run_result_free(&r);
	SYSG("frobnicate");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "unknown command 'frobnicate'"));
	run_result_free(&r);
	SYSG("status", "--bogus");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "unknown option '--bogus'"));
	run_result_free(&r);
	SYSG("validate", "--json");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "'validate' does not take --json"));
	run_result_free(&r);
	SYSG("logs", "--lines", "many");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--lines: expected a whole number"));
	run_result_free(&r);
	SYSG("--log-level", "loud", "status");
	ck_assert_int_eq(r.status, 2);
	run_result_free(&r);
	SYSG("logs", "--kind", "both");
	ck_assert_int_eq(r.status, 2);
	run_result_free(&r);
	SYSG("status", "--stream", "soon");
	ck_assert_int_eq(r.status, 2);
	run_result_free(&r);
	SYSG("stop", "--service");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "needs a value"));
}
END_TEST

static const char *good =
	"version: \"1\"\n"
	"services:\n"
	"  db:\n"
	"    command: \"sleep 60\"\n"
	"  web:\n"
	"    command: \"sleep 60\"\n"
	"    depends_on: [db]\n";

START_TEST(validate_good_file_any_option_order)
{
	write_file("app.yaml", good);
	SYSG("validate", "--config", "app.yaml");
	ck_assert_msg(r.status == 0, "err: %s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "valid (2 services)"));
	run_result_free(&r);
	SYSG("--config=app.yaml", "validate");
	ck_assert_int_eq(r.status, 0);
	run_result_free(&r);
	SYSG("-c", "app.yaml", "--log-level", "5", "validate");
	ck_assert_int_eq(r.status, 0);
}
END_TEST

START_TEST(validate_default_file)
{
	SYSG("validate");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "no config file"));
	run_result_free(&r);
	write_file("sysg.yaml", good);
	SYSG("validate");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "sysg.yaml"));
	run_result_free(&r);
	write_file("systemg.yaml", "version: \"1\"\n");
	SYSG("validate");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "systemg.yaml"));
}
END_TEST

START_TEST(validate_reports_position_and_key_path)
{
	write_file("bad.yaml",
		   "version: \"1\"\n"
		   "services:\n"
		   "  web:\n"
		   "    command: \"sleep 60\"\n"
		   "    depends_on: [db, redis]\n"
		   "  db:\n"
		   "    command: \"sleep 60\"\n");
	SYSG("validate", "--config", "bad.yaml");
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "bad.yaml:5:22: error: services.web.depends_on[1]: unknown service 'redis'"),
		      "err: %s", r.err);
	ck_assert_str_eq(r.out, "");
}
END_TEST

START_TEST(validate_loads_named_strategy)
{
	write_file("s.yaml",
		   "version: \"1\"\n"
		   "services:\n"
		   "  web:\n"
		   "    command: \"sleep 60\"\n"
		   "    deployment:\n"
		   "      strategy: canary\n");
	SYSG("validate", "--config", "s.yaml");
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "s.yaml:6:17: error: services.web.deployment.strategy: strategy 'canary': no plugin 'canary'"),
		      "err: %s", r.err);
	run_result_free(&r);
	write_file("s.yaml",
		   "version: \"1\"\n"
		   "services:\n"
		   "  web:\n"
		   "    command: \"sleep 60\"\n"
		   "    deployment:\n"
		   "      strategy: rolling\n");
	SYSG("validate", "--config", "s.yaml");
	ck_assert_msg(r.status == 0, "err: %s", r.err);
	run_result_free(&r);
	SYSG("validate", "--config", "s.yaml", "--state-backend", "nosuch");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--state-backend: no plugin 'nosuch'"));
}
END_TEST

START_TEST(validate_every_example)
{
	const char *src = getenv("SYSG_SRCDIR");
	char cmd[1024];

	ck_assert_ptr_nonnull(src);
	/* Each example config is valid (full.yaml but for its privileged
	 * keys, which need root, or a later build: validate says
	 * so as start would); each one under examples/bad is not and says
	 * where. */
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd '%s'; for f in '%s'/examples/*.yaml; do "
		 "\"$SYSG_BIN\" validate --config \"$f\" >/dev/null 2>err || "
		 "if grep -v -e 'requires root' "
		 "-e 'not supported by this build' err | grep -q .; then "
		 "exit 1; fi; done; "
		 "for f in '%s'/examples/bad/*.yaml; do "
		 "if \"$SYSG_BIN\" validate --config \"$f\" 2>err; then exit 1; fi; "
		 "grep -q \"^$f:[0-9]*:[0-9]*: error: \" err; done",
		 tmpdir, src, src);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(deploy_needs_a_supervisor)
{
	SYSG("deploy", "--service", "web");
	ck_assert_int_eq(r.status, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "no supervisor running"));
}
END_TEST

START_TEST(plugins_lists_bundled)
{
	char abi[32];

	snprintf(abi, sizeof(abi), "abi %d", SYSG_PLUGIN_ABI_VERSION);
	SYSG("plugins");
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.out, "immediate") && strstr(r.out, "rolling") &&
		      strstr(r.out, "blue_green") && strstr(r.out, abi),
		      "out: %s", r.out);
}
END_TEST


START_TEST(third_party_strategy_out_of_tree)
{
	const char *src = getenv("SYSG_SRCDIR"), *bld = getenv("SYSG_BUILDDIR");
	char cmd[2048], dir[128];

	ck_assert_ptr_nonnull(src);
	ck_assert_ptr_nonnull(bld);
	/* Built with only the public headers, in a directory of its own. */
	snprintf(dir, sizeof(dir), "%s/plug", tmpdir);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p '%s' && cp '%s'/plugins/canary/* '%s' && chmod -R u+w '%s' && "
		 "make -s -C '%s' SYSG_CFLAGS='-I%s/include -I%s/include' >/dev/null",
		 dir, src, dir, dir, dir, src, bld);
	ck_assert_int_eq(system(cmd), 0);
	write_file("c.yaml",
		   "version: \"1\"\n"
		   "services:\n"
		   "  web:\n"
		   "    command: \"sleep 60\"\n"
		   "    deployment:\n"
		   "      strategy: canary\n"
		   "      canary: { slots: [8000, 8001], steps: [25, 100], interval: \"250ms\",\n"
		   "                switch_command: \"echo {weight}\" }\n");
	SYSG("--plugin-dir", dir, "validate", "--config", "c.yaml");
	ck_assert_msg(r.status == 0, "err: %s", r.err);
	run_result_free(&r);
	write_file("c.yaml",
		   "version: \"1\"\n"
		   "services:\n"
		   "  web:\n"
		   "    command: \"sleep 60\"\n"
		   "    deployment:\n"
		   "      strategy: canary\n"
		   "      canary:\n"
		   "        slots: [8000, 8001]\n"
		   "        switch_command: \"echo {weight}\"\n"
		   "        interval: \"soon\"\n");
	SYSG("validate", "--config", "c.yaml", "--plugin-dir", dir);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "c.yaml:10:19: error: services.web.deployment.canary.interval: expected a duration like 30s, found 'soon'"),
		      "err: %s", r.err);
	run_result_free(&r);
	SYSG("plugins", "--plugin-dir", dir);
	ck_assert_ptr_nonnull(strstr(r.out, "canary"));
}
END_TEST

static Suite *make_cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, version);
	tcase_add_test(tc, help_lists_every_command);
	tcase_add_test(tc, command_help);
	tcase_add_test(tc, usage_errors_exit_2);
	tcase_add_test(tc, validate_good_file_any_option_order);
	tcase_add_test(tc, validate_default_file);
	tcase_add_test(tc, validate_reports_position_and_key_path);
	tcase_add_test(tc, validate_loads_named_strategy);
	tcase_add_test(tc, validate_every_example);
	tcase_add_test(tc, deploy_needs_a_supervisor);
	tcase_add_test(tc, plugins_lists_bundled);
	tcase_add_test(tc, third_party_strategy_out_of_tree);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_cli_suite());
}
