/* check_confine.c - seccomp profiles compile (the built-in `default` and
 * profile files) or are refused with FILE:LINE; LSM checks; cgroup limit
 * plans refuse a key no hierarchy offers. No root needed: nothing here is
 * installed. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proc/proc.h"
#include "testutil.h"

static char *dir;

static void setup(void)
{
	dir = tu_mkdtemp("confine");
	ck_assert_ptr_nonnull(dir);
}

static void teardown(void)
{
	tu_rm_rf(dir);
	free(dir);
}

/* Compile a profile file holding TEXT; the return code, message in ERR. */
static int compile_text(const char *text, char *err, size_t len)
{
	struct sysg_seccomp_prog p;
	char *path = tu_write_file(dir, "profile", text);
	int rc;

	ck_assert_ptr_nonnull(path);
	err[0] = '\0';
	rc = sysg_seccomp_compile(path, &p, err, len);
	if (rc == 0)
		ck_assert(p.filter != NULL && p.len > 0);
	sysg_seccomp_free(&p);
	free(path);
	return rc;
}

START_TEST(default_profile_compiles)
{
	struct sysg_seccomp_prog p, q;
	char err[256];

	ck_assert_int_eq(sysg_seccomp_compile("default", &p, err, sizeof(err)),
			 0);
	ck_assert(p.filter != NULL && p.len > 30);  /* ~40 denied calls */
	ck_assert_int_eq(compile_text("default allow\ndeny ptrace\n", err,
				      sizeof(err)), 0);
	ck_assert_int_eq(sysg_seccomp_compile("default", &q, err, sizeof(err)),
			 0);
	ck_assert_int_eq(p.len, q.len);
	sysg_seccomp_free(&p);
	sysg_seccomp_free(&q);
}
END_TEST

START_TEST(profile_files)
{
	char err[512];

	ck_assert_int_eq(compile_text("# only comments\n\n", err,
				      sizeof(err)), 0);
	ck_assert_int_eq(compile_text("default deny\nallow read openat mmap "
				      "brk   # and more\nkill ptrace\n", err,
				      sizeof(err)), 0);
	ck_assert_int_eq(compile_text("default kill\nallow read\n", err,
				      sizeof(err)), 0);
	ck_assert_int_eq(compile_text("deny chdir\nforbid mount\n", err,
				      sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "profile:2: expected default, allow, deny or "
			     "kill, found 'forbid'"), "%s", err);
	ck_assert_int_eq(compile_text("deny chdir\n\ndeny mount no_such_call\n",
				      err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "profile:3: unknown system call "
			     "'no_such_call'"), "%s", err);
	ck_assert_int_eq(compile_text("default maybe\n", err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strstr(err, "the default action must be allow, deny or "
			     "kill"), "%s", err);
}
END_TEST

START_TEST(profile_paths)
{
	struct sysg_seccomp_prog p;
	char err[256];

	ck_assert_int_eq(sysg_seccomp_compile("relative/profile", &p, err,
					      sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "expected 'default' or an absolute path"),
		      "%s", err);
	ck_assert_int_eq(sysg_seccomp_compile("/nonexistent/sysg/profile", &p,
					      err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "/nonexistent/sysg/profile: No such file"),
		      "%s", err);
}
END_TEST

START_TEST(lsm_check_names_the_reason)
{
	char err[512] = "";
	int rc = sysg_lsm_check("apparmor", err, sizeof(err));

	ck_assert(rc == 0 || rc == -ENOTSUP);
	if (rc < 0)
		ck_assert_msg(strstr(err, "AppArmor is not enabled on this host"),
			      "%s", err);
	rc = sysg_lsm_check("selinux", err, sizeof(err));
	ck_assert(rc == 0 || rc == -ENOTSUP);
	if (rc < 0)
		ck_assert_msg(strstr(err, "SELinux is not enabled on this host"),
			      "%s", err);
}
END_TEST

START_TEST(cgroup_plan_without_hierarchy)
{
	struct sysg_cgroup_limits cg = {
		.memory_max = -1, .cpu_weight = -1, .pids_max = -1,
	};
	struct sysg_cglimit plan;
	char err[512];

	/* nothing asked: nothing needed, whatever the host */
	ck_assert_int_eq(sysg_cglimit_plan(&cg, NULL, SYSG_CG_DRY, &plan, err,
					   sizeof(err)), 0);
	ck_assert(!plan.need[SYSG_CG_MEMORY] && !plan.need[SYSG_CG_CPU]);
	/* a root inside a hierarchy that cannot exist */
	cg.root = (char *)"sysg-check";
	cg.memory_max = 1 << 20;
	if (sysg_cglimit_plan(&cg, NULL, SYSG_CG_DRY, &plan, err,
			      sizeof(err)) == 0) {
		ck_assert(plan.need[SYSG_CG_MEMORY]);
		if (!plan.v2[SYSG_CG_MEMORY])   /* v1: under the root */
			ck_assert_ptr_nonnull(strstr(plan.v1_base[SYSG_CG_MEMORY],
						     "/sysg-check"));
	} else {
		ck_assert_msg(strstr(err, "limits.cgroup.memory_max: no "
				     "writable cgroup hierarchy has the memory "
				     "controller"), "%s", err);
	}
}
END_TEST

static Suite *make_confine_suite(void)
{
	Suite *s = suite_create("confine");
	TCase *tc = tcase_create("confine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, default_profile_compiles);
	tcase_add_test(tc, profile_files);
	tcase_add_test(tc, profile_paths);
	tcase_add_test(tc, lsm_check_names_the_reason);
	tcase_add_test(tc, cgroup_plan_without_hierarchy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_confine_suite());
}
