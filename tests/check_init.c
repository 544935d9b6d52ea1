/* check_init.c - `sysg init` as a container's PID 1, black box: run in a
 * new pid namespace (`unshare --pid --fork --mount-proc`), it reaps a
 * double-forked orphan without taking it for a service's exit, stops the
 * services in reverse dependency order on SIGTERM and exits with the
 * documented status (0 clean, 4 a stop needed SIGKILL); outside a pid
 * namespace it refuses. Needs root and a kernel that allows new pid
 * namespaces: otherwise the namespace tests say why and pass as skipped. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemontest.h"
#include "testutil.h"

/* The orphan's distinctive command line: `sleep 1000.25`. */
#define ORPHAN_ARG "1000.25"

static const char *config =
	"version: \"1\"\nservices:\n"
	"  db:\n"
	"    command: \"sh -c 'trap \\\"echo db >> order; exit 0\\\" TERM; "
	"while :; do sleep 0.05; done'\"\n"
	"    ready_after: \"50ms\"\n"
	"  api:\n"
	"    command: \"sh -c '(setsid sleep " ORPHAN_ARG " &); "
	"trap \\\"echo api >> order; exit 0\\\" TERM; "
	"while :; do sleep 0.05; done'\"\n"
	"    depends_on: [db]\n"
	"    ready_after: \"50ms\"\n";

/* 1 when this machine can make a pid namespace (root, kernel allows). */
static int can_unshare(void)
{
	char *argv[] = { "/bin/sh", "-c",
			 "unshare --pid --fork --mount-proc true", NULL };
	struct run_result r;
	int ok;

	if (geteuid() != 0)
		return 0;
	ok = run_capture(argv, NULL, NULL, 10000, &r) == 0 && r.status == 0;
	run_result_free(&r);
	return ok;
}

#define SKIP_UNLESS_NAMESPACES()                                          \
	do {                                                              \
		if (!can_unshare()) {                                     \
			fprintf(stderr, "check_init: skipped: cannot create " \
				"a pid namespace here (needs root and "   \
				"unshare --pid)\n");                       \
			return;                                           \
		}                                                         \
	} while (0)

/* Start `unshare --pid --fork --mount-proc sysg init -c sysg.yaml` in
 * T's directory; returns unshare's pid. */
static pid_t start_init(struct dt *t)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		const char *bin = getenv("SYSG_BIN");

		if (chdir(t->dir) < 0)
			_exit(126);
		putenv(t->env[0]);
		putenv(t->env[1]);
		execlp("unshare", "unshare", "--pid", "--fork", "--mount-proc",
		       "--kill-child", bin, "--log-level", "warn", "init",
		       "--config", "sysg.yaml", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Field 4 (ppid) and field 3 (state) of /proc/PID/stat. */
static int proc_stat(pid_t pid, pid_t *ppid, char *state)
{
	char path[64], buf[512], *p;
	FILE *f;
	int ok = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		ok = sscanf(p + 2, "%c %d", state, ppid) == 2;
	fclose(f);
	return ok;
}

/* The first process whose parent is PARENT and whose command line is
 * ARGV0 ARG1 (ARG1 NULL: any), or 0. */
static pid_t find_child(pid_t parent, const char *argv0, const char *arg1)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	while (d && !found && (e = readdir(d))) {
		pid_t pid = atoi(e->d_name), ppid;
		char path[64], cmd[256] = "", state;
		FILE *f;
		size_t n;

		if (pid <= 0 || !proc_stat(pid, &ppid, &state) ||
		    ppid != parent)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		f = fopen(path, "re");
		n = f ? fread(cmd, 1, sizeof(cmd) - 1, f) : 0;
		if (f)
			fclose(f);
		cmd[n] = '\0';
		if (strcmp(cmd, argv0) && !strstr(cmd, argv0))
			continue;
		if (!arg1 || (strlen(cmd) + 1 < n &&
			      !strcmp(cmd + strlen(cmd) + 1, arg1)))
			found = pid;
	}
	if (d)
		closedir(d);
	return found;
}

struct waitfor {
	pid_t parent;
	const char *argv0, *arg1;
	pid_t found;
};

static int child_there(void *arg)
{
	struct waitfor *w = arg;

	w->found = find_child(w->parent, w->argv0, w->arg1);
	return w->found > 0;
}

/* The pid of the sysg running as PID 1 under unshare UNSHARE_PID. */
static pid_t init_pid(pid_t unshare_pid)
{
	struct waitfor w = { unshare_pid, "sysg", NULL, 0 };

	ck_assert_msg(tu_wait_for(child_there, &w, 10000, 10),
		      "sysg init did not start under unshare");
	return w.found;
}

/* Wait for unshare (which exits with init's status) for up to 20 s. */
static int wait_exit(pid_t pid)
{
	int64_t end = tu_now_ms() + 20000;
	int status;

	while (tu_now_ms() < end) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) :
			       128 + WTERMSIG(status);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ck_abort_msg("sysg init did not exit within 20 s");
	return -1;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}

START_TEST(test_refuses_when_not_pid1)
{
	struct dt t;
	struct run_result r;

	dt_setup(&t, NULL, "%s", config);
	ck_assert_int_eq(dt_sysg(&t, &r, "init", "--config", "sysg.yaml",
				 NULL), 2);
	ck_assert_ptr_nonnull(strstr(r.err, "PID 1"));
	ck_assert(!dt_exists(&t, "order"));
	run_result_free(&r);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_reaps_orphan_and_stops_in_order)
{
	struct dt t;
	struct waitfor w = { 0, "sleep", ORPHAN_ARG, 0 };
	pid_t un, init, orphan;
	char *log, *order, *path;

	SKIP_UNLESS_NAMESPACES();
	dt_setup(&t, NULL, "%s", config);
	un = start_init(&t);
	init = init_pid(un);
	dt_track(&t, init);
	/* the orphan left api's tree and was re-parented to PID 1 */
	w.parent = init;
	ck_assert_msg(tu_wait_for(child_there, &w, 10000, 10),
		      "the double-forked orphan never became init's child");
	orphan = w.found;
	ck_assert(dt_wait_file(&t, "state/logs/supervisor.log",
			       "Service api is running", 10000));
	/* it dies: reaped (no zombie left), not taken for api's exit */
	ck_assert_int_eq(kill(orphan, SIGKILL), 0);
	ck_assert_msg(dt_wait_gone(orphan, 5000), "orphan %d not reaped",
		      (int)orphan);
	ck_assert_int_eq(kill(init, SIGTERM), 0);
	ck_assert_int_eq(wait_exit(un), 0);
	order = dt_read(&t, "order");
	ck_assert_ptr_nonnull(order);
	ck_assert_str_eq(order, "api\ndb\n");
	ck_assert_int_ne(asprintf(&path, "%s/logs/supervisor.log", t.state),
			 -1);
	log = tu_read_file(path, NULL);
	ck_assert_ptr_nonnull(log);
	ck_assert_uint_eq(count(log, "Started service api"), 1);
	ck_assert_ptr_null(strstr(log, "Service api exited"));
	ck_assert_ptr_null(strstr(log, "Service api killed"));
	ck_assert_ptr_nonnull(strstr(log, "Received SIGTERM"));
	free(log);
	free(path);
	free(order);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_killed_stop_in_exit_status)
{
	struct dt t;
	pid_t un, init;

	SKIP_UNLESS_NAMESPACES();
	dt_setup(&t, NULL,
		 "version: \"1\"\nservices:\n"
		 "  stubborn:\n"
		 "    command: \"sh -c 'trap \\\"\\\" TERM; echo up > up; "
		 "while :; do sleep 0.05; done'\"\n"
		 "    ready_after: \"50ms\"\n"
		 "    stop_timeout: \"200ms\"\n");
	un = start_init(&t);
	init = init_pid(un);
	dt_track(&t, init);
	ck_assert(dt_wait_file(&t, "state/logs/supervisor.log",
			       "Service stubborn is running", 10000));
	ck_assert(dt_wait_file(&t, "up", "up", 10000));
	ck_assert_int_eq(kill(init, SIGTERM), 0);
	ck_assert_int_eq(wait_exit(un), 4);
	dt_teardown(&t);
}
END_TEST

static Suite *make_init_suite(void)
{
	Suite *s = suite_create("init");
	TCase *tc = tcase_create("init");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_test(tc, test_refuses_when_not_pid1);
	tcase_add_test(tc, test_reaps_orphan_and_stops_in_order);
	tcase_add_test(tc, test_killed_stop_in_exit_status);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_init_suite());
}
