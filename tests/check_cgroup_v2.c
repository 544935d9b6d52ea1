/* check_cgroup_v2.c - the cgroup v2 side of limits.cgroup against the
 * host's real unified hierarchy (never a fake cgroupfs).
 *
 * What this host's kernel allows is what runs: on a hybrid host (memory,
 * cpu and pids bound to v1 hierarchies, so no cgroup2 mount can offer
 * them) the memory/cpu/pids writers cannot run; the machinery that hands
 * a controller down to the runs' cgroups runs with a controller the
 * unified hierarchy does offer (hugetlb here), and a controller it does
 * not offer is refused so that the plan falls back to v1. Each test skips,
 * saying why, when not root or when no cgroup2 hierarchy is writable. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemontest.h"
#include "proc/proc.h"
#include "testutil.h"

static int skip(const char *test, const char *why)
{
	fprintf(stderr, "SKIP %s: %s\n", test, why);
	return 1;
}

/* The cgroup2 mount point ("/sys/fs/cgroup" or ".../unified") into MNT
 * and this process's cgroup directory into OWN; 0, or -1 after saying
 * why the test skips. */
static int v2_here(const char *test, char *mnt, size_t mlen, char *own,
		   size_t olen)
{
	const char *m[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup", NULL };

	if (geteuid() != 0)
		return -skip(test, "needs root");
	if (sysg_cgroup_of_pid(getpid(), own, olen) < 0)
		return -skip(test, "no cgroup2 hierarchy");
	for (int i = 0; m[i]; i++)
		if (!strncmp(own, m[i], strlen(m[i]))) {
			snprintf(mnt, mlen, "%s", m[i]);
			return 0;
		}
	return -skip(test, "cannot tell the cgroup2 mount point");
}

static int file_has(const char *dir, const char *name, const char *word)
{
	char path[1024], *text;
	int found;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	text = tu_read_file(path, NULL);
	found = text && strstr(text, word);
	free(text);
	return found;
}

static int put(const char *dir, const char *name, const char *value)
{
	char path[1024];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	rc = fputs(value, f) < 0 ? -EIO : 0;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

static int put_pid(const char *dir, pid_t pid)
{
	char v[32];

	snprintf(v, sizeof(v), "%d", (int)pid);
	return put(dir, "cgroup.procs", v);
}

/* In a forked child (it moves itself between cgroups): a supervisor alone
 * in its own cgroup O hands hugetlb down to the runs' parent B: it moves
 * itself into O/sysg-supervisor, enables hugetlb in O's then B's
 * subtree_control, and a run's cgroup below B then has the hugetlb limit
 * files, written for real. Returns the number of the failed step. */
static int leaf_steps(const char *mnt, const char *orig, const char *o)
{
	char b[1024], run[1200], leaf[1100], cg[1024];
	int rc;

	snprintf(b, sizeof(b), "%s/sysg.base", o);
	snprintf(run, sizeof(run), "%s/run.1", b);
	snprintf(leaf, sizeof(leaf), "%s/" SYSG_CGROUP_LEAF, o);
	if (mkdir(o, 0755) < 0 || put_pid(o, getpid()) < 0 ||
	    mkdir(b, 0755) < 0)
		return 1;
	/* a dry run changes nothing */
	if (sysg_cglimit_enable_v2(b, "hugetlb", SYSG_CG_DRY) != 0 ||
	    file_has(o, "cgroup.subtree_control", "hugetlb") ||
	    access(leaf, F_OK) == 0)
		return 2;
	rc = sysg_cglimit_enable_v2(b, "hugetlb", 0);
	if (rc != 0) {
		fprintf(stderr, "enable: %s\n", strerror(-rc));
		return 3;
	}
	if (sysg_cgroup_of_pid(getpid(), cg, sizeof(cg)) < 0 ||
	    strcmp(cg, leaf))
		return 4;       /* the supervisor left for the leaf */
	if (!file_has(o, "cgroup.subtree_control", "hugetlb") ||
	    !file_has(b, "cgroup.subtree_control", "hugetlb"))
		return 5;
	if (mkdir(run, 0755) < 0 || !file_has(run, "cgroup.controllers",
					      "hugetlb") ||
	    put(run, "hugetlb.2MB.max", "4194304") < 0 ||
	    !file_has(run, "hugetlb.2MB.max", "4194304"))
		return 6;
	/* the base of a supervisor in the leaf (or its upgraded image) is
	 * still its own cgroup */
	if (sysg_cgroup_base(cg, sizeof(cg)) < 0 || strcmp(cg, o))
		return 9;
	/* enabled already: nothing more to do, nothing moves */
	if (sysg_cglimit_enable_v2(b, "hugetlb", 0) != 0)
		return 7;
	/* a controller no cgroup up the tree offers (memory here, bound to
	 * its v1 hierarchy) is refused: the plan then takes v1 */
	if (!file_has(mnt, "cgroup.controllers", "memory") &&
	    sysg_cglimit_enable_v2(b, "memory", 0) != -ENOTSUP)
		return 8;
	put_pid(orig, getpid());
	rmdir(run);
	rmdir(b);
	rmdir(leaf);
	rmdir(o);
	return 0;
}

START_TEST(test_v2_controller_handed_down)
{
	char mnt[512], own[1024], o[700];
	int root_had, status;
	pid_t pid;

	if (v2_here("v2_controller_handed_down", mnt, sizeof(mnt), own,
		    sizeof(own)) < 0)
		return;
	if (!file_has(mnt, "cgroup.controllers", "hugetlb")) {
		skip("v2_controller_handed_down", "the unified hierarchy offers "
		     "no controller to try it with (hugetlb)");
		return;
	}
	root_had = file_has(mnt, "cgroup.subtree_control", "hugetlb");
	snprintf(o, sizeof(o), "%s/sysg-check-v2-%d", mnt, (int)getpid());
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(leaf_steps(mnt, own, o));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	{       /* whatever happened, leave the tree as it was */
		char p[800];

		snprintf(p, sizeof(p), "%s/sysg.base/run.1", o);
		rmdir(p);
		snprintf(p, sizeof(p), "%s/sysg.base", o);
		rmdir(p);
		snprintf(p, sizeof(p), "%s/" SYSG_CGROUP_LEAF, o);
		rmdir(p);
		rmdir(o);
		if (!root_had)  /* refused (EBUSY) while someone else uses it */
			put(mnt, "cgroup.subtree_control", "-hugetlb");
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "step %d failed", WEXITSTATUS(status));
}
END_TEST

/* A cgroup holding another process cannot hand a controller down, and
 * that process is never moved: -EBUSY, the supervisor stays. */
START_TEST(test_v2_busy_cgroup_left_alone)
{
	char mnt[512], own[1024], o[700], b[800], cg[1024], leaf[800];
	int root_had, rc;
	pid_t other;

	if (v2_here("v2_busy_cgroup_left_alone", mnt, sizeof(mnt), own,
		    sizeof(own)) < 0)
		return;
	if (!file_has(mnt, "cgroup.controllers", "hugetlb")) {
		skip("v2_busy_cgroup_left_alone", "no controller offered to "
		     "try it with (hugetlb)");
		return;
	}
	root_had = file_has(mnt, "cgroup.subtree_control", "hugetlb");
	snprintf(o, sizeof(o), "%s/sysg-check-busy-%d", mnt, (int)getpid());
	snprintf(b, sizeof(b), "%s/sysg.base", o);
	snprintf(leaf, sizeof(leaf), "%s/" SYSG_CGROUP_LEAF, o);
	ck_assert_int_eq(mkdir(o, 0755), 0);
	ck_assert_int_eq(mkdir(b, 0755), 0);
	other = fork();
	ck_assert_int_ge(other, 0);
	if (other == 0) {
		pause();
		_exit(0);
	}
	ck_assert_int_eq(put_pid(o, other), 0);
	rc = sysg_cglimit_enable_v2(b, "hugetlb", 0);
	ck_assert_int_eq(sysg_cgroup_of_pid(other, cg, sizeof(cg)), 0);
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);
	rmdir(b);
	rmdir(leaf);
	rmdir(o);
	if (!root_had)
		put(mnt, "cgroup.subtree_control", "-hugetlb");
	ck_assert_int_eq(rc, -EBUSY);
	ck_assert_str_eq(cg, o);        /* not moved */
	ck_assert(access(leaf, F_OK) != 0);
}
END_TEST

/* The plan against the real hierarchy: memory_max/pids_max take v2 only
 * when the unified hierarchy offers the controller; here (hybrid) they
 * take the v1 one, and the run's cgroups exist once created. */
START_TEST(test_v2_plan_on_this_host)
{
	char mnt[512], own[1024], base[800];
	struct sysg_cgroup_limits cg = {
		.memory_max = 64 << 20, .cpu_weight = -1, .pids_max = 20,
	};
	struct sysg_cglimit plan;
	char err[512];
	int rc;

	if (v2_here("v2_plan_on_this_host", mnt, sizeof(mnt), own,
		    sizeof(own)) < 0)
		return;
	snprintf(base, sizeof(base), "%s/sysg-check-plan-%d", mnt,
		 (int)getpid());
	ck_assert_int_eq(mkdir(base, 0755), 0);
	rc = sysg_cglimit_plan(&cg, base, 0, &plan, err, sizeof(err));
	for (int i = 0; rc == 0 && i < SYSG_CG_NCTRL; i++) {
		const char *name = i == SYSG_CG_MEMORY ? "memory" :
				   i == SYSG_CG_CPU ? "cpu" : "pids";

		if (!plan.need[i])
			continue;
		/* v2 exactly when the hierarchy offers it */
		ck_assert_int_eq(plan.v2[i],
				 file_has(mnt, "cgroup.controllers", name));
	}
	rmdir(base);
	if (rc < 0)     /* neither v2 nor a writable v1 hierarchy */
		ck_assert_msg(strstr(err, "no writable cgroup hierarchy"), "%s",
			      err);
	sysg_cglimit_remove(&plan);
}
END_TEST

/* The sysg binary on the real unified hierarchy: each run gets its own
 * cgroup below the supervisor's, holding the whole tree, even a child
 * that was orphaned, left the session, dropped the environment (so that
 * /proc tracking cannot tell it is the service's) and ignores SIGTERM; stop
 * ends it through the cgroup (cgroup.kill) and removes the cgroup. */
START_TEST(test_v2_run_cgroup_contains_and_kills)
{
	char mnt[512], own[1024], svc_cg[1024], esc_cg[1024], *text;
	struct dt t;
	struct run_result r;
	pid_t pid, esc;

	if (v2_here("v2_run_cgroup_contains_and_kills", mnt, sizeof(mnt), own,
		    sizeof(own)) < 0)
		return;
	dt_setup(&t, NULL, "%s", "version: \"1\"\nservices:\n"
		 "  app: { command: \"sh esc.sh\", stop_timeout: \"300ms\" }\n");
	/* double-forked (orphaned), its own session, no environment */
	dt_write(&t, "esc.sh", "setsid env -i /bin/sh esc2.sh &\n"
		 "exec sleep 1000\n");
	dt_write(&t, "esc2.sh", "/bin/sh -c 'trap \"\" TERM; echo $$ > "
		 "esc.tmp; mv esc.tmp esc.pid; exec sleep 1000' &\nexit 0\n");
	dt_track(&t, dt_start_daemon(&t));
	ck_assert(dt_wait_status(&t, "app", "running", 5000));
	pid = dt_pid(&t, "app");
	ck_assert_int_gt(pid, 0);
	dt_track(&t, pid);
	ck_assert(dt_wait_file(&t, "esc.pid", "\n", 5000));
	text = dt_read(&t, "esc.pid");
	esc = text ? (pid_t)atol(text) : 0;
	free(text);
	ck_assert_int_gt(esc, 0);
	dt_track(&t, esc);
	ck_assert_int_eq(sysg_cgroup_of_pid(pid, svc_cg, sizeof(svc_cg)), 0);
	ck_assert_int_eq(sysg_cgroup_of_pid(esc, esc_cg, sizeof(esc_cg)), 0);
	/* <own cgroup>/sysg.<state dir>/app.<...>, shared by the escapee */
	ck_assert_msg(!strncmp(svc_cg, own, strlen(own)) &&
		      strstr(svc_cg, "/sysg.") && strstr(svc_cg, "/app."),
		      "%s (own %s)", svc_cg, own);
	ck_assert_str_eq(esc_cg, svc_cg);
	{
		char p1[32], p2[32];

		snprintf(p1, sizeof(p1), "%d\n", (int)pid);
		snprintf(p2, sizeof(p2), "%d\n", (int)esc);
		ck_assert(file_has(svc_cg, "cgroup.procs", p1));
		ck_assert(file_has(svc_cg, "cgroup.procs", p2));
	}
	if (access(svc_cg, F_OK) == 0) {
		char kill_file[1100];

		snprintf(kill_file, sizeof(kill_file), "%s/cgroup.kill", svc_cg);
		if (access(kill_file, W_OK) != 0)
			skip("v2_run_cgroup_contains_and_kills (cgroup.kill)",
			     "this kernel has no cgroup.kill: SIGKILL per pid");
	}
	ck_assert_int_eq(dt_sysg(&t, &r, "stop", "-s", "app", NULL), 0);
	run_result_free(&r);
	ck_assert(dt_wait_gone(pid, 5000));
	ck_assert_msg(dt_wait_gone(esc, 5000), "the escapee %d survived",
		      (int)esc);
	for (int64_t end = tu_now_ms() + TU_DEADLINE_MS;
	     access(svc_cg, F_OK) == 0 && tu_now_ms() < end;)
		usleep(20 * 1000);
	ck_assert_msg(access(svc_cg, F_OK) != 0, "%s is still there", svc_cg);
	/* another supervisor prunes this one's base while it holds no run
	 * (sysg_cgroup_prune): the next start makes it again */
	*strrchr(svc_cg, '/') = '\0';
	ck_assert_int_eq(rmdir(svc_cg), 0);
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "-s", "app", NULL), 0);
	run_result_free(&r);
	ck_assert(dt_wait_status(&t, "app", "running", 5000));
	pid = dt_pid(&t, "app");
	dt_track(&t, pid);
	ck_assert_int_eq(sysg_cgroup_of_pid(pid, esc_cg, sizeof(esc_cg)), 0);
	ck_assert_msg(!strncmp(esc_cg, svc_cg, strlen(svc_cg)) &&
		      esc_cg[strlen(svc_cg)] == '/', "%s is not below %s",
		      esc_cg, svc_cg);
	dt_teardown(&t);
}
END_TEST

/* A base left behind by a supervisor that died with no run is pruned;
 * so is one whose run cgroups outlived their supervisor; one that still
 * holds a run cgroup of a live supervisor, and a directory of another name,
 * are left alone (the kernel refuses to remove a cgroup in use). */
START_TEST(test_v2_stale_bases_pruned)
{
	char mnt[512], own[1024], o[700], stale[800], busy[800], run[900],
	     other[800], orphan[800], orun[900];
	pid_t dead = fork();

	ck_assert_int_ge(dead, 0);
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);         /* a supervisor pid that is gone */

	if (v2_here("v2_stale_bases_pruned", mnt, sizeof(mnt), own,
		    sizeof(own)) < 0)
		return;
	snprintf(o, sizeof(o), "%s/sysg-check-prune-%d", mnt, (int)getpid());
	snprintf(stale, sizeof(stale), "%s/sysg.00000000000000aa", o);
	snprintf(busy, sizeof(busy), "%s/sysg.00000000000000bb", o);
	snprintf(run, sizeof(run), "%s/web.1.1", busy);
	snprintf(other, sizeof(other), "%s/sysg.notahash", o);
	snprintf(orphan, sizeof(orphan), "%s/sysg.00000000000000cc", o);
	snprintf(orun, sizeof(orun), "%s/web.x.%d.3", orphan, (int)dead);
	ck_assert_int_eq(mkdir(o, 0755), 0);
	ck_assert_int_eq(mkdir(stale, 0755), 0);
	ck_assert_int_eq(mkdir(busy, 0755), 0);
	ck_assert_int_eq(mkdir(run, 0755), 0);
	ck_assert_int_eq(mkdir(other, 0755), 0);
	ck_assert_int_eq(mkdir(orphan, 0755), 0);
	ck_assert_int_eq(mkdir(orun, 0755), 0);
	ck_assert_int_eq(sysg_cgroup_prune(o, sysg_instance_is_cgroup_dir,
					    sysg_instance_cgroup_run_orphaned),
			  2);
	ck_assert(access(stale, F_OK) != 0);
	ck_assert(access(orphan, F_OK) != 0);
	ck_assert(access(run, F_OK) == 0);   /* its supervisor (pid 1) lives */
	ck_assert(access(other, F_OK) == 0);
	rmdir(run);
	rmdir(busy);
	rmdir(other);
	ck_assert_int_eq(rmdir(o), 0);
}
END_TEST

static Suite *make_cgroup_v2_suite(void)
{
	Suite *s = suite_create("cgroup_v2");
	TCase *tc = tcase_create("cgroup_v2");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_test(tc, test_v2_controller_handed_down);
	tcase_add_test(tc, test_v2_busy_cgroup_left_alone);
	tcase_add_test(tc, test_v2_plan_on_this_host);
	tcase_add_test(tc, test_v2_run_cgroup_contains_and_kills);
	tcase_add_test(tc, test_v2_stale_bases_pruned);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_cgroup_v2_suite());
}
