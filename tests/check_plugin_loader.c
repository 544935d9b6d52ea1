/* check_plugin_loader.c - finding, refusing and loading plugins. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin/plugin.h"
#include "testutil.h"

static char builddir[4096];
static char tmpdir[64];

static void path_of(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", builddir, rel);
}

static void setup(void)
{
	const char *b = getenv("SYSG_BUILDDIR");

	snprintf(builddir, sizeof(builddir), "%s", b ? b : ".");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sysg-plug-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Copy a built test plugin into the temp dir as NAME.so. */
static void install(const char *rel, const char *name, mode_t mode)
{
	char src[4200], cmd[8600];

	path_of(src, sizeof(src), rel);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/%s.so' && chmod %o '%s/%s.so'",
		 src, tmpdir, name, (unsigned)mode, tmpdir, name);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(loads_bundled_strategy)
{
	struct sysg_plugin_path pp;
	struct sysg_loaded_plugin *lp = NULL;
	char dir[4200], err[512] = "";

	path_of(dir, sizeof(dir), "strategies/.libs");
	ck_assert_int_eq(sysg_plugin_path_init(&pp, dir), 0);
	ck_assert_str_eq(pp.dirs[0], dir);
	ck_assert_int_eq(sysg_plugin_load(&pp, "rolling", SYSG_PLUGIN_STRATEGY,
					  &lp, err, sizeof(err)), 0);
	ck_assert_str_eq(lp->desc->name, "rolling");
	ck_assert_uint_eq(lp->desc->abi_version, SYSG_PLUGIN_ABI_VERSION);
	ck_assert_ptr_nonnull(lp->desc->strategy->deploy);
	sysg_plugin_unload(lp);
	sysg_plugin_path_free(&pp);
}
END_TEST

START_TEST(refuses_wrong_abi_naming_file_and_versions)
{
	struct sysg_plugin_path pp;
	struct sysg_loaded_plugin *lp = NULL;
	char err[512] = "", expect[256];

	install("tests/plugins/.libs/badabi.so", "future", 0755);
	ck_assert_int_eq(sysg_plugin_path_init(&pp, tmpdir), 0);
	ck_assert_int_lt(sysg_plugin_load(&pp, "future", 0, &lp, err,
					  sizeof(err)), 0);
	ck_assert_ptr_null(lp);
	snprintf(expect, sizeof(expect), "%s/future.so: plugin ABI version 99, "
		 "expected %d (this sysg loads ABI %d to %d", tmpdir,
		 SYSG_PLUGIN_ABI_VERSION, SYSG_PLUGIN_ABI_MIN,
		 SYSG_PLUGIN_ABI_VERSION);
	ck_assert_msg(strstr(err, expect), "got: %s", err);
	sysg_plugin_path_free(&pp);
}
END_TEST

/* A strategy built against the frozen ABI-1 header still loads and works;
 * its ops struct counts as version 1, so no ABI-2 slot is read from it. */
START_TEST(loads_abi1_plugin)
{
	struct sysg_loaded_plugin *lp = NULL;
	struct sysg_setting opt = { "greeting", "hello", 3, 5 };
	struct sysg_strategy_settings s = { .service = "web",
					    .strategy = "oldabi" };
	const char *bad = NULL;
	char file[128], err[512] = "";

	install("tests/plugins/.libs/oldabi.so", "oldabi", 0755);
	snprintf(file, sizeof(file), "%s/oldabi.so", tmpdir);
	ck_assert_msg(sysg_plugin_load_file(file, SYSG_PLUGIN_STRATEGY, &lp, err,
					    sizeof(err)) == 0, "err: %s", err);
	ck_assert_uint_eq(lp->desc->abi_version, 1);
	ck_assert_uint_eq(lp->ops_version, 1);
	ck_assert(sysg_plugin_has_slot(lp, 1));
	ck_assert(!sysg_plugin_has_slot(lp, 2));
	ck_assert_int_eq(lp->desc->strategy->check_config(&s, err, sizeof(err),
							  &bad), 0);
	s.options = &opt;
	s.noptions = 1;
	ck_assert_int_eq(lp->desc->strategy->check_config(&s, err, sizeof(err),
							  &bad), 0);
	opt.key = "colour";
	ck_assert_int_eq(lp->desc->strategy->check_config(&s, err, sizeof(err),
							  &bad), -EINVAL);
	ck_assert_str_eq(bad, "colour");
	sysg_plugin_unload(lp);
}
END_TEST

START_TEST(current_plugins_say_their_ops_version)
{
	struct sysg_plugin_path pp;
	struct sysg_loaded_plugin *lp = NULL;
	char dir[4200], err[512] = "";

	path_of(dir, sizeof(dir), "plugins/.libs");
	ck_assert_int_eq(sysg_plugin_path_init(&pp, dir), 0);
	ck_assert_int_eq(sysg_plugin_load(&pp, "xml", SYSG_PLUGIN_STATE, &lp,
					  err, sizeof(err)), 0);
	ck_assert_uint_eq(lp->ops_version, SYSG_PLUGIN_ABI_VERSION);
	ck_assert(sysg_plugin_has_slot(lp, 2));
	sysg_plugin_unload(lp);
	sysg_plugin_path_free(&pp);
}
END_TEST

/* ABI 2 with an ops struct that does not say its version: refused. */
START_TEST(refuses_ops_without_version)
{
	struct sysg_loaded_plugin *lp = NULL;
	char file[128], err[512] = "";

	install("tests/plugins/.libs/badops.so", "badops", 0755);
	snprintf(file, sizeof(file), "%s/badops.so", tmpdir);
	ck_assert_int_eq(sysg_plugin_load_file(file, 0, &lp, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_null(lp);
	ck_assert_msg(strstr(err, "badops.so: its strategy ops say ABI version 0, "
			     "expected 2 to 3 (start the struct with "
			     "SYSG_STRATEGY_OPS_INIT)"), "got: %s", err);
}
END_TEST

START_TEST(refuses_non_plugin)
{
	struct sysg_loaded_plugin *lp = NULL;
	char file[128], err[512] = "";

	install("tests/plugins/.libs/nosym.so", "nosym", 0755);
	snprintf(file, sizeof(file), "%s/nosym.so", tmpdir);
	ck_assert_int_lt(sysg_plugin_load_file(file, 0, &lp, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "not a sysg plugin"), "got: %s", err);
}
END_TEST

START_TEST(survives_crashing_plugin)
{
	struct sysg_loaded_plugin *lp = NULL;
	char file[128], err[512] = "";

	install("tests/plugins/.libs/crash.so", "crash", 0755);
	snprintf(file, sizeof(file), "%s/crash.so", tmpdir);
	ck_assert_int_lt(sysg_plugin_load_file(file, 0, &lp, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "crashed while loading"), "got: %s", err);
}
END_TEST

START_TEST(refuses_world_writable)
{
	struct sysg_loaded_plugin *lp = NULL;
	char file[128], err[512] = "";

	install("strategies/.libs/immediate.so", "ww", 0757);
	ck_assert_int_eq(chmod(tmpdir, 0700), 0);
	snprintf(file, sizeof(file), "%s/ww.so", tmpdir);
	ck_assert_int_eq(chmod(file, 0666), 0);
	ck_assert_int_eq(sysg_plugin_load_file(file, 0, &lp, err, sizeof(err)),
			 -EPERM);
	ck_assert_msg(strstr(err, "world-writable"), "got: %s", err);
	/* A world-writable directory is refused too. */
	ck_assert_int_eq(chmod(file, 0755), 0);
	ck_assert_int_eq(chmod(tmpdir, 0777), 0);
	ck_assert_int_eq(sysg_plugin_load_file(file, 0, &lp, err, sizeof(err)),
			 -EPERM);
	ck_assert_int_eq(chmod(tmpdir, 0700), 0);
}
END_TEST

START_TEST(refuses_foreign_owner)
{
	struct sysg_loaded_plugin *lp = NULL;
	char file[128], err[512] = "";

	if (geteuid() != 0)
		return; /* only root can chown to another user */
	install("strategies/.libs/immediate.so", "foreign", 0755);
	snprintf(file, sizeof(file), "%s/foreign.so", tmpdir);
	ck_assert_int_eq(chown(file, 65534, 65534), 0);
	ck_assert_int_eq(sysg_plugin_load_file(file, 0, &lp, err, sizeof(err)),
			 -EPERM);
	ck_assert_msg(strstr(err, "owned by uid 65534"), "got: %s", err);
}
END_TEST

START_TEST(wrong_kind_and_missing_name)
{
	struct sysg_plugin_path pp;
	struct sysg_loaded_plugin *lp = NULL;
	char dir[4200], err[1024] = "";

	path_of(dir, sizeof(dir), "strategies/.libs");
	ck_assert_int_eq(sysg_plugin_path_init(&pp, dir), 0);
	ck_assert_int_lt(sysg_plugin_load(&pp, "immediate", SYSG_PLUGIN_STATE,
					  &lp, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "expected a state backend plugin"), "got: %s", err);
	ck_assert_int_eq(sysg_plugin_load(&pp, "nope", 0, &lp, err, sizeof(err)),
			 -ENOENT);
	ck_assert_msg(strstr(err, "no plugin 'nope' (nope.so) in"), "got: %s", err);
	ck_assert_int_eq(sysg_plugin_load(&pp, "../etc/x", 0, &lp, err, sizeof(err)),
			 -EINVAL);
	sysg_plugin_path_free(&pp);
}
END_TEST

static void count_cb(void *arg, const struct sysg_plugin_info *in)
{
	int *counts = arg;

	if (in->error)
		counts[1]++;
	else
		counts[0]++;
}

START_TEST(scan_reports_good_and_bad)
{
	struct sysg_plugin_path pp;
	int counts[2] = { 0, 0 };

	install("strategies/.libs/immediate.so", "immediate", 0755);
	install("tests/plugins/.libs/badabi.so", "badabi", 0755);
	ck_assert_int_eq(sysg_plugin_path_init(&pp, tmpdir), 0);
	/* Search only the temp dir. */
	for (size_t i = 1; i < pp.n; i++)
		free(pp.dirs[i]);
	pp.n = 1;
	ck_assert_int_eq(sysg_plugin_scan(&pp, count_cb, counts), 2);
	ck_assert_int_eq(counts[0], 1);
	ck_assert_int_eq(counts[1], 1);
	sysg_plugin_path_free(&pp);
}
END_TEST

START_TEST(search_order)
{
	struct sysg_plugin_path pp;

	setenv("SYSG_PLUGIN_PATH", "/env/a:/env/b", 1);
	ck_assert_int_eq(sysg_plugin_path_init(&pp, "/cli/1:/cli/2"), 0);
	ck_assert_uint_ge(pp.n, 5);
	ck_assert_str_eq(pp.dirs[0], "/cli/1");
	ck_assert_str_eq(pp.dirs[1], "/cli/2");
	ck_assert_str_eq(pp.dirs[2], "/env/a");
	ck_assert_str_eq(pp.dirs[3], "/env/b");
	ck_assert_str_eq(pp.dirs[pp.n - 1], SYSG_PLUGIN_DIR);
	sysg_plugin_path_free(&pp);
	unsetenv("SYSG_PLUGIN_PATH");
}
END_TEST

static Suite *make_plugin_loader_suite(void)
{
	Suite *s = suite_create("plugin_loader");
	TCase *tc = tcase_create("loader");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, loads_bundled_strategy);
	tcase_add_test(tc, refuses_wrong_abi_naming_file_and_versions);
	tcase_add_test(tc, loads_abi1_plugin);
	tcase_add_test(tc, current_plugins_say_their_ops_version);
	tcase_add_test(tc, refuses_ops_without_version);
	tcase_add_test(tc, refuses_non_plugin);
	tcase_add_test(tc, survives_crashing_plugin);
	tcase_add_test(tc, refuses_world_writable);
	tcase_add_test(tc, refuses_foreign_owner);
	tcase_add_test(tc, wrong_kind_and_missing_name);
	tcase_add_test(tc, scan_reports_good_and_bad);
	tcase_add_test(tc, search_order);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_plugin_loader_suite());
}
