/* check_containment.c - stopping or restarting a service leaves nothing of
 * its process tree alive: nohup'd detached children, a double-forked
 * child in its own session that ignores SIGTERM, leftovers of a crash.
 * Each engine test runs twice: with cgroup v2 (when writable) and with
 * /proc tracking only. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enginetest.h"
#include "base/base.h"
#include "proc/proc.h"
#include "testutil.h"

static void script(struct et *t, const char *name, const char *text)
{
	char *p = tu_write_file(t->dir, name, text);

	ck_assert_ptr_nonnull(p);
	free(p);
}

/* Read up to N pids, one per line, from DIR/NAME. */
static int read_pids(struct et *t, const char *name, pid_t *pids, int n)
{
	char *s = et_read(t, name), *p = s;
	int k = 0;

	while (p && *p && k < n) {
		pids[k++] = (pid_t)strtol(p, &p, 10);
		while (*p == '\n')
			p++;
	}
	free(s);
	return k;
}

/* With cgroups on (and usable here), PID lives in the service's cgroup. */
static void check_cgroup(struct et *t, pid_t pid, int expect)
{
	char base[512], cg[512];

	(void)t;
	if (sysg_cgroup_base(base, sizeof(base)) < 0)
		return;
	ck_assert_int_eq(sysg_cgroup_of_pid(pid, cg, sizeof(cg)), 0);
	if (expect)
		ck_assert_msg(strstr(cg, "/sysg.") && strstr(cg, "/svc."),
			      "%d is in %s", (int)pid, cg);
	else
		ck_assert_ptr_null(strstr(cg, "/sysg."));
}

START_TEST(test_restart_kills_nohup_children)
{
	struct et t;
	pid_t kids[3], fresh[3];

	et_setup(&t, _i,
		 "version: \"1\"\nservices:\n"
		 "  svc: { command: \"sh kids.sh\", ready_after: \"20ms\" }\n");
	script(&t, "kids.sh",
	       "for i in 1 2 3; do\n"
	       "  setsid nohup sleep 1000 > /dev/null 2>&1 &\n"
	       "  echo $! >> kids.pid\n"
	       "done\n"
	       "exec sleep 1000\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "svc", "running", 3000), 0);
	ck_assert_int_eq(et_wait_file(&t, "kids.pid", 2000), 1);
	et_run_for(&t, 50);
	ck_assert_int_eq(read_pids(&t, "kids.pid", kids, 3), 3);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(et_alive(kids[i]), 1);
	check_cgroup(&t, kids[0], _i == 0);
	et_unlink(&t, "kids.pid");
	sysg_supervisor_stop_service(t.sup, "svc");
	ck_assert_int_eq(et_wait_status(&t, "svc", "stopped", 5000), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(et_alive(kids[i]), 0);
	sysg_supervisor_start_service(t.sup, "svc");
	ck_assert_int_eq(et_wait_status(&t, "svc", "running", 3000), 0);
	ck_assert_int_eq(et_wait_file(&t, "kids.pid", 2000), 1);
	et_run_for(&t, 50);
	ck_assert_int_eq(read_pids(&t, "kids.pid", fresh, 3), 3);
	et_teardown(&t);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(et_alive(fresh[i]), 0);
}
END_TEST

START_TEST(test_setsid_child_ignoring_sigterm)
{
	struct et t;
	pid_t esc;
	int64_t t0;
	char *log;

	et_setup(&t, _i,
		 "version: \"1\"\nservices:\n"
		 "  svc: { command: \"sh escape.sh\", ready_after: \"20ms\",\n"
		 "         stop_timeout: \"300ms\" }\n");
	script(&t, "escape.sh",
	       "( setsid sh -c 'trap \"\" TERM; echo $$ > esc.tmp; "
	       "mv esc.tmp esc.pid; while :; do sleep 0.05; done' & )\n"
	       "exec sleep 1000\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "svc", "running", 3000), 0);
	ck_assert_int_eq(et_wait_file(&t, "esc.pid", 2000), 1);
	esc = (pid_t)et_read_long(&t, "esc.pid");
	ck_assert_int_gt(esc, 0);
	ck_assert_int_eq(et_alive(esc), 1);
	/* it escaped: its own session, re-parented to us (the subreaper);
	 * the sampler's view of the tree (one /proc scan, the stop rule)
	 * counts it like the stop does */
	{
		struct sysg_proc_snapshot snap = { 0 };
		struct sysg_pidset tree = { 0 };

		ck_assert_int_eq(sysg_proc_snapshot_take(&snap), 0);
		ck_assert_int_eq(sysg_supervisor_tree(t.sup, 0, &snap, &tree),
				 0);
		ck_assert(sysg_pidset_has(&tree, esc));
		ck_assert(sysg_pidset_has(&tree, et_unit(&t, "svc").pid));
		ck_assert_int_eq(sysg_supervisor_tree(t.sup, 1, &snap, &tree),
				 -ENOENT);
		sysg_pidset_free(&tree);
		sysg_proc_snapshot_free(&snap);
	}
	t0 = sysg_now_ms();
	sysg_supervisor_stop_service(t.sup, "svc");
	ck_assert_int_eq(et_wait_status(&t, "svc", "stopped", 5000), 0);
	ck_assert_int_ge(sysg_now_ms() - t0, 300);
	ck_assert_int_eq(et_alive(esc), 0);
	log = et_read(&t, "state/logs/supervisor.log");
	ck_assert_ptr_nonnull(strstr(log, "sending SIGKILL"));
	free(log);
	et_teardown(&t);
}
END_TEST

START_TEST(test_crash_leftovers_killed_before_restart)
{
	struct et t;
	pid_t left;

	et_setup(&t, _i,
		 "version: \"1\"\nservices:\n"
		 "  svc: { command: \"sh crash.sh\", ready_after: \"20ms\",\n"
		 "         restart_policy: on-failure, backoff: \"50ms\", max_restarts: 1 }\n");
	script(&t, "crash.sh",
	       "if [ -f left.pid ]; then exec sleep 1000; fi\n"
	       "sleep 1000 &\necho $! > left.tmp; mv left.tmp left.pid\n"
	       "sleep 0.2\nexit 1\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_file(&t, "left.pid", 3000), 1);
	left = (pid_t)et_read_long(&t, "left.pid");
	ck_assert_int_eq(et_wait_status(&t, "svc", "backoff", 3000), 0);
	ck_assert_int_eq(et_alive(left), 0);
	ck_assert_int_eq(et_wait_status(&t, "svc", "running", 3000), 0);
	et_teardown(&t);
}
END_TEST

/* ---------------------------------------------------------------- */
/* proctree without the engine                                        */
/* ---------------------------------------------------------------- */

START_TEST(test_collect_by_marker_and_stop_sync)
{
	char *envp[] = { (char *)"SYSG_INSTANCE=test:unit:1",
			 (char *)"PATH=/usr/bin:/bin", NULL };
	struct sysg_spawn_req req = {
		.command = "sh -c 'sleep 1000 & sleep 1000 & wait'",
		.envp = envp, .out_fd = SYSG_SPAWN_DEVNULL,
		.err_fd = SYSG_SPAWN_DEVNULL, .cgroup_fd = -1,
	};
	struct sysg_tree_match m = {
		.marker = "SYSG_INSTANCE=test:unit:", .marker_prefix = 1,
	};
	struct sysg_pidset s = { 0 };
	struct sysg_child c;
	char err[256];
	int killed = 1;

	ck_assert_int_eq(sysg_spawn(&req, &c, err, sizeof(err)), 0);
	for (int64_t end = tu_now_ms() + TU_DEADLINE_MS;
	     s.n < 3 && tu_now_ms() < end;) {
		ck_assert_int_eq(sysg_proctree_collect(&m, &s), 0);
		usleep(10000);
	}
	ck_assert_uint_eq(s.n, 3);
	ck_assert(sysg_pidset_has(&s, c.pid));
	ck_assert_int_eq(sysg_proctree_stop_sync(&m, TU_DEADLINE_MS, &killed),
			 0);
	ck_assert_int_eq(killed, 0);
	waitpid(c.pid, NULL, 0);
	ck_assert_int_eq(sysg_proctree_collect(&m, &s), 0);
	ck_assert_uint_eq(s.n, 0);
	sysg_pidset_free(&s);
}
END_TEST

/* cgroup.procs as the kernel lists it (a pid a line): read_pids takes
 * the pids alone, read_procs also their start times; both add each pid
 * once. */
START_TEST(test_cgroup_read_pids)
{
	char *dir = tu_mkdtemp("cgprocs");
	char path[512];
	struct sysg_pidset s = { 0 };
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "12\n%d\n345\n12\n", (int)getpid());
	fclose(f);
	ck_assert_int_eq(sysg_cgroup_read_pids(dir, &s), 0);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_int_eq(s.v[0].pid, 12);
	ck_assert_int_eq(s.v[1].pid, getpid());
	ck_assert_int_eq(s.v[2].pid, 345);
	for (size_t i = 0; i < s.n; i++)
		ck_assert_uint_eq(s.v[i].ticks, 0);
	sysg_pidset_clear(&s);
	ck_assert_int_eq(sysg_cgroup_read_procs(dir, &s), 0);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_uint_ne(s.v[1].ticks, 0);     /* this process's */
	sysg_pidset_clear(&s);
	f = fopen(path, "w");                   /* an empty cgroup */
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(sysg_cgroup_read_pids(dir, &s), 0);
	ck_assert_uint_eq(s.n, 0);
	unlink(path);
	ck_assert_int_lt(sysg_cgroup_read_pids(dir, &s), 0);
	rmdir(dir);
	free(dir);
	sysg_pidset_free(&s);
}
END_TEST

START_TEST(test_instance_encoding)
{
	char pre[SYSG_INSTANCE_MAX], dir[SYSG_INSTANCE_MAX];
	char run[SYSG_INSTANCE_MAX], cg[64], leaf[SYSG_NAME_MAX + 32];
	char path[SYSG_CGROUP_PATH_MAX];

	sysg_instance_prefix("/srv/state", "api", pre, sizeof(pre));
	sysg_instance_dir_prefix("/srv/state", dir, sizeof(dir));
	sysg_instance_marker("/srv/state", "api", 42, 7, run, sizeof(run));
	/* SYSG_MARKER=<16 hex>:api: (SYSG_INSTANCE is the users' number) */
	ck_assert_uint_eq(strlen(pre), strlen("SYSG_MARKER=") + 16 + 5);
	ck_assert(!strncmp(pre, dir, strlen(dir)));
	ck_assert(!strncmp(run, pre, strlen(pre)));
	ck_assert_str_eq(run + strlen(pre), "42.7");
	ck_assert_str_eq(sysg_instance_value(run), run + strlen("SYSG_MARKER="));
	ck_assert_str_eq(sysg_instance_value("PATH=/bin"), "");
	/* another state directory: another hash */
	sysg_instance_prefix("/srv/other", "api", run, sizeof(run));
	ck_assert_str_ne(run, pre);
	sysg_instance_cgroup_dir("/srv/state", cg, sizeof(cg));
	ck_assert(!strncmp(cg, "sysg.", 5));
	ck_assert(!strncmp(cg + 5, dir + strlen("SYSG_MARKER="), 16));
	/* the older variable, still recognised: same hash and service */
	sysg_instance_prefix_old("/srv/state", "api", run, sizeof(run));
	ck_assert(!strncmp(run, "SYSG_INSTANCE=", 14));
	ck_assert_str_eq(run + 14, pre + strlen("SYSG_MARKER="));
	sysg_instance_dir_prefix_old("/srv/state", run, sizeof(run));
	ck_assert_str_eq(run + 14, dir + strlen("SYSG_MARKER="));
	sysg_instance_cgroup_run("api", 42, 7, leaf, sizeof(leaf));
	ck_assert_str_eq(leaf, "api.42.7");
	snprintf(path, sizeof(path), "/sys/fs/cgroup/user/%s/%s", cg, leaf);
	ck_assert(sysg_instance_owns_cgroup("/srv/state", path));
	ck_assert(!sysg_instance_owns_cgroup("/srv/other", path));
}
END_TEST

/* A process started by an older sysg (marker variable SYSG_INSTANCE) is
 * still known as its service's. */
START_TEST(test_old_marker_recognised)
{
	char old[SYSG_INSTANCE_MAX], entry[SYSG_INSTANCE_MAX + 8], name[64];
	char *envp[] = { entry, (char *)"PATH=/usr/bin:/bin", NULL };
	struct sysg_spawn_req req = {
		.command = "sleep 1000", .envp = envp,
		.out_fd = SYSG_SPAWN_DEVNULL, .err_fd = SYSG_SPAWN_DEVNULL,
		.cgroup_fd = -1,
	};
	struct sysg_child c;
	char err[256];

	sysg_instance_prefix_old("/srv/state", "api", old, sizeof(old));
	snprintf(entry, sizeof(entry), "%s123.4", old);
	ck_assert_int_eq(sysg_spawn(&req, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(sysg_instance_service("/srv/state", c.pid, name,
					       sizeof(name)), 0);
	ck_assert_str_eq(name, "api");
	ck_assert_int_eq(sysg_instance_service("/srv/other", c.pid, name,
					       sizeof(name)), -1);
	kill(c.pid, SIGKILL);
	waitpid(c.pid, NULL, 0);
}
END_TEST

START_TEST(test_proc_stat)
{
	struct sysg_proc_stat st;
	uint64_t ticks;

	ck_assert_int_eq(sysg_proc_stat_read(getpid(), &st), 0);
	ck_assert_int_eq(st.ppid, getppid());
	ck_assert_int_eq(st.sid, getsid(0));
	ck_assert_int_eq(sysg_proc_start_ticks_of(getpid(), &ticks), 0);
	ck_assert_uint_eq(ticks, st.start_ticks);
	ck_assert_int_eq(sysg_proc_is_alive(getpid(), ticks), 1);
	ck_assert_int_eq(sysg_proc_is_alive(getpid(), ticks + 1), 0);
	ck_assert_int_eq(sysg_proc_stat_read(999999999, &st), -ESRCH);
}
END_TEST

static Suite *make_containment_suite(void)
{
	Suite *s = suite_create("containment");
	TCase *engine = tcase_create("engine");
	TCase *tree = tcase_create("proctree");

	tcase_set_timeout(engine, 120);
	/* _i: 0 with cgroups when available, 1 without */
	tcase_add_loop_test(engine, test_restart_kills_nohup_children, 0, 2);
	tcase_add_loop_test(engine, test_setsid_child_ignoring_sigterm, 0, 2);
	tcase_add_loop_test(engine, test_crash_leftovers_killed_before_restart,
			    0, 2);
	tcase_add_test(tree, test_collect_by_marker_and_stop_sync);
	tcase_add_test(tree, test_proc_stat);
	tcase_add_test(tree, test_instance_encoding);
	tcase_add_test(tree, test_cgroup_read_pids);
	tcase_add_test(tree, test_old_marker_recognised);
	suite_add_tcase(s, engine);
	suite_add_tcase(s, tree);
	return s;
}

int main(void)
{
	return tu_run_suite(make_containment_suite());
}
