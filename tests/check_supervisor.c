/* check_supervisor.c - the engine driven in-process: dependency waves,
 * blocked dependents, cascades, restart policies, skip, pre_start, hooks,
 * logs, readiness probes. Short timeouts and backoffs keep it quick. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enginetest.h"
#include "base/base.h"
#include "testutil.h"

/* ---------------------------------------------------------------- */
/* dependency waves                                                   */
/* ---------------------------------------------------------------- */

START_TEST(test_parallel_waves)
{
	struct et t;
	struct sysg_unit_record a, b, c, d;

	/* a and b start together; c needs a only; d needs c. b is slow:
	 * c and d must not wait for it, and b must not wait for a. */
	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  a: { command: \"sleep 30\", ready_after: \"300ms\" }\n"
		 "  b: { command: \"sleep 30\", ready_after: \"2s\" }\n"
		 "  c: { command: \"sleep 30\", ready_after: \"100ms\", depends_on: [a] }\n"
		 "  d: { command: \"sleep 30\", ready_after: \"100ms\", depends_on: [c] }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "d", "running", 5000), 0);
	a = et_unit(&t, "a");
	b = et_unit(&t, "b");
	c = et_unit(&t, "c");
	d = et_unit(&t, "d");
	/* d is up while b is still settling: branches are independent */
	ck_assert_str_eq(b.status, "starting");
	ck_assert_int_gt(b.started_at_ms, 0);
	ck_assert_int_lt(b.started_at_ms, c.started_at_ms);
	ck_assert_int_ge(c.started_at_ms, a.started_at_ms + 300);
	ck_assert_int_ge(d.started_at_ms, c.started_at_ms + 100);
	ck_assert_int_eq(et_wait_status(&t, "b", "running", 5000), 0);
	et_teardown(&t);
}
END_TEST

static int idle(struct sysg_supervisor *s, void *arg)
{
	(void)arg;
	return sysg_supervisor_idle(s);
}

START_TEST(test_stop_in_reverse_order)
{
	struct et t;
	char *s;

	/* c needs b needs a: stopping all stops c, then b, then a. Each is
	 * ready once its TERM trap is set (a timed readiness could stop a
	 * shell that has not set it yet, which then dies silently). The
	 * deadline is a safety net: a loaded machine takes its time, and a
	 * SIGTERM that hits the background sleep before it exec'd is lost
	 * (stop_timeout, 10 s, then kills it). */
#define STOPPER(n, dep)                                                  \
	"  " n ": { command: \"sh -c 'trap \\\"echo " n " >> stops.txt; "      \
	"exit 0\\\" TERM; sleep 30 & touch " n ".up; wait'\",\n"               \
	"       health_check: { command: \"test -f " n ".up\", "              \
	"interval: \"20ms\", timeout: \"10s\", retries: 3 }"              \
	dep " }\n"
	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 STOPPER("a", "")
		 STOPPER("b", ", depends_on: [a]")
		 STOPPER("c", ", depends_on: [b]"));
#undef STOPPER
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "c", "running", 30000), 0);
	sysg_supervisor_stop_all(t.sup);
	ck_assert_int_eq(sysg_supervisor_run_until(t.sup, idle, NULL, 60000),
			 0);
	ck_assert_str_eq(sysg_supervisor_status(t.sup, "a"), "stopped");
	s = et_read(&t, "stops.txt");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "c\nb\na\n");
	free(s);
	et_teardown(&t);
}
END_TEST

START_TEST(test_dependent_blocked)
{
	struct et t;
	struct sysg_unit_record b;

	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  a: { command: \"sh -c 'exit 3'\" }\n"
		 "  b: { command: \"touch b_ran\", depends_on: [a] }\n"
		 "  c: { command: \"touch c_ran\", depends_on: [b] }\n"
		 "  free: { command: \"sleep 30\", ready_after: \"50ms\" }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "c", "blocked", 5000), 0);
	ck_assert_str_eq(sysg_supervisor_status(t.sup, "a"), "failed");
	ck_assert_str_eq(sysg_supervisor_status(t.sup, "b"), "blocked");
	b = et_unit(&t, "b");
	ck_assert_ptr_nonnull(strstr(b.reason, "dependency a failed"));
	ck_assert_int_eq(et_wait_status(&t, "free", "running", 5000), 0);
	ck_assert_ptr_null(et_read(&t, "b_ran"));
	ck_assert_ptr_null(et_read(&t, "c_ran"));
	ck_assert_int_eq(sysg_supervisor_failures(t.sup), 3);
	/* the state backend has the same story */
	ck_assert_int_eq(sysg_state_get_unit(t.st, "b", &b), 0);
	ck_assert_str_eq(b.status, "blocked");
	et_teardown(&t);
}
END_TEST

START_TEST(test_cascade_on_dependency_crash)
{
	struct et t;
	pid_t first, second;

	/* a crashes 400 ms after each start, is restarted once, then gives
	 * up; b (depends on a) is stopped at each crash, brought back when
	 * a is ready again, and finally blocked. */
	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  a: { command: \"sh -c 'sleep 0.4; exit 1'\", ready_after: \"50ms\",\n"
		 "       restart_policy: on-failure, backoff: \"50ms\", max_restarts: 1 }\n"
		 "  b: { command: \"sleep 30\", ready_after: \"50ms\", depends_on: [a] }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "b", "running", 3000), 0);
	first = (pid_t)et_unit(&t, "b").pid;
	ck_assert_int_eq(et_wait_dead(&t, first, 3000), 1);
	ck_assert_int_eq(et_wait_status(&t, "b", "running", 3000), 0);
	second = (pid_t)et_unit(&t, "b").pid;
	ck_assert_int_ne(second, first);
	ck_assert_int_eq(et_wait_status(&t, "b", "blocked", 3000), 0);
	ck_assert_int_eq(et_alive(second), 0);
	ck_assert_str_eq(sysg_supervisor_status(t.sup, "a"), "failed");
	ck_assert_int_eq(et_unit(&t, "a").restarts, 1);
	et_teardown(&t);
}
END_TEST

/* ---------------------------------------------------------------- */
/* restart policies                                                   */
/* ---------------------------------------------------------------- */

START_TEST(test_max_restarts_gives_up)
{
	struct et t;
	struct sysg_unit_record u;

	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  crash: { command: \"sh -c 'echo run >> runs.txt; exit 4'\",\n"
		 "           restart_policy: always, backoff: \"20ms\", max_restarts: 2 }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "crash", "failed", 5000), 0);
	u = et_unit(&t, "crash");
	ck_assert_int_eq(u.restarts, 2);
	ck_assert_int_eq(u.has_exit_code, 1);
	ck_assert_int_eq(u.exit_code, 4);
	ck_assert_int_eq(et_count_lines(&t, "runs.txt"), 3);
	et_run_for(&t, 200);
	ck_assert_int_eq(et_count_lines(&t, "runs.txt"), 3);
	et_teardown(&t);
}
END_TEST

START_TEST(test_on_failure_and_never)
{
	struct et t;

	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  ok: { command: \"sh -c 'echo x >> ok.txt'\", restart_policy: on-failure,\n"
		 "        backoff: \"20ms\" }\n"
		 "  bad: { command: \"sh -c 'echo x >> bad.txt; exit 1'\", restart_policy: never }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "ok", "exited", 3000), 0);
	ck_assert_int_eq(et_wait_status(&t, "bad", "failed", 3000), 0);
	et_run_for(&t, 150);
	ck_assert_int_eq(et_count_lines(&t, "ok.txt"), 1);
	ck_assert_int_eq(et_count_lines(&t, "bad.txt"), 1);
	ck_assert_str_eq(sysg_supervisor_status(t.sup, "ok"), "exited");
	et_teardown(&t);
}
END_TEST

START_TEST(test_manual_stop_prevents_restart)
{
	struct et t;
	int runs;

	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  crasher: { command: \"sh -c 'echo run >> runs.txt; sleep 0.15; exit 1'\",\n"
		 "             restart_policy: always, backoff: \"30ms\", ready_after: \"20ms\" }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "crasher", "backoff", 3000), 0);
	ck_assert_int_eq(et_wait_status(&t, "crasher", "running", 3000), 0);
	ck_assert_int_eq(sysg_supervisor_stop_service(t.sup, "crasher"), 0);
	ck_assert_int_eq(et_wait_status(&t, "crasher", "stopped", 3000), 0);
	runs = et_count_lines(&t, "runs.txt");
	et_run_for(&t, 400);
	ck_assert_str_eq(sysg_supervisor_status(t.sup, "crasher"), "stopped");
	ck_assert_int_eq(et_count_lines(&t, "runs.txt"), runs);
	ck_assert_int_eq(et_unit(&t, "crasher").pid, 0);
	et_teardown(&t);
}
END_TEST

START_TEST(test_restart_replaces_worker)
{
	struct et t;
	long old_worker, new_worker;

	/* the service starts a worker in the background; restarting the
	 * service must leave only the new worker */
	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  svc: { command: \"sh -c 'sleep 1000 & echo $! > worker.pid; wait'\",\n"
		 "         ready_after: \"50ms\" }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "svc", "running", 3000), 0);
	ck_assert_int_eq(et_wait_file(&t, "worker.pid", 2000), 1);
	old_worker = et_read_long(&t, "worker.pid");
	ck_assert_int_gt(old_worker, 0);
	et_unlink(&t, "worker.pid");
	ck_assert_int_eq(sysg_supervisor_restart_service(t.sup, "svc"), 0);
	ck_assert_int_eq(et_wait_file(&t, "worker.pid", 3000), 1);
	ck_assert_int_eq(et_wait_status(&t, "svc", "running", 3000), 0);
	ck_assert_int_eq(et_wait_file(&t, "worker.pid", 2000), 1);
	new_worker = et_read_long(&t, "worker.pid");
	ck_assert_int_ne(new_worker, old_worker);
	ck_assert_int_eq(et_alive((pid_t)old_worker), 0);
	ck_assert_int_eq(et_alive((pid_t)new_worker), 1);
	et_teardown(&t);
	ck_assert_int_eq(et_alive((pid_t)new_worker), 0);
}
END_TEST

/* ---------------------------------------------------------------- */
/* skip, pre_start                                                    */
/* ---------------------------------------------------------------- */

START_TEST(test_skip)
{
	struct et t;

	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  a: { command: \"touch a_ran\", skip: true }\n"
		 "  b: { command: \"sleep 30\", ready_after: \"20ms\", depends_on: [a] }\n"
		 "  c: { command: \"touch c_ran\", skip: \"true\" }\n"
		 "  d: { command: \"sleep 30\", ready_after: \"20ms\", skip: \"exit 1\" }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "b", "running", 3000), 0);
	ck_assert_int_eq(et_wait_status(&t, "d", "running", 3000), 0);
	ck_assert_int_eq(et_wait_status(&t, "c", "skipped", 3000), 0);
	ck_assert_str_eq(sysg_supervisor_status(t.sup, "a"), "skipped");
	ck_assert_ptr_null(et_read(&t, "a_ran"));
	ck_assert_ptr_null(et_read(&t, "c_ran"));
	et_teardown(&t);
}
END_TEST

START_TEST(test_pre_start_failure)
{
	struct et t;
	struct sysg_unit_record u;

	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  api: { command: \"touch api_ran\",\n"
		 "         deployment: { pre_start: \"echo migrating; exit 7\" } }\n"
		 "  web: { command: \"touch web_ran\", depends_on: [api] }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "web", "blocked", 3000), 0);
	ck_assert_int_eq(sysg_state_get_unit(t.st, "api", &u), 0);
	ck_assert_str_eq(u.status, "failed");
	ck_assert_str_eq(u.reason, "exited with error");
	ck_assert_int_eq(u.has_exit_code, 1);
	ck_assert_int_eq(u.exit_code, 7);
	ck_assert_int_eq(u.pid, 0);
	ck_assert_ptr_null(et_read(&t, "api_ran"));
	ck_assert_ptr_null(et_read(&t, "web_ran"));
	et_teardown(&t);
}
END_TEST

START_TEST(test_pre_start_runs_before_start)
{
	struct et t;
	char *s;

	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  api: { command: \"sh -c 'echo start >> order.txt; sleep 30'\",\n"
		 "         ready_after: \"20ms\",\n"
		 "         deployment: { pre_start: \"echo pre >> order.txt\" } }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "api", "running", 3000), 0);
	s = et_read(&t, "order.txt");
	ck_assert_str_eq(s, "pre\nstart\n");
	free(s);
	et_teardown(&t);
}
END_TEST

/* ---------------------------------------------------------------- */
/* hooks                                                              */
/* ---------------------------------------------------------------- */

#define HOOK(stage, outcome) \
	"        " #outcome ": { command: \"echo " #stage "." #outcome " >> hooks.log\" }\n"

START_TEST(test_hooks_order)
{
	struct et t;
	char *s;

	/* first run crashes after 200 ms, the automatic restart stays up,
	 * then a manual stop */
	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  svc:\n"
		 "    command: \"sh -c 'if [ -f crashed ]; then exec sleep 30; fi; touch crashed; sleep 0.2; exit 3'\"\n"
		 "    restart_policy: on-failure\n    backoff: \"50ms\"\n"
		 "    ready_after: \"20ms\"\n"
		 "    hooks:\n"
		 "      on_start:\n" HOOK(on_start, success) HOOK(on_start, error)
		 "      on_stop:\n" HOOK(on_stop, success) HOOK(on_stop, error)
		 "      on_restart:\n" HOOK(on_restart, success) HOOK(on_restart, error));
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_file(&t, "crashed", 3000), 1);
	ck_assert_int_eq(et_wait_status(&t, "svc", "backoff", 3000), 0);
	ck_assert_int_eq(et_wait_status(&t, "svc", "running", 3000), 0);
	et_run_for(&t, 200);
	sysg_supervisor_stop_service(t.sup, "svc");
	ck_assert_int_eq(et_wait_status(&t, "svc", "stopped", 3000), 0);
	et_run_for(&t, 200);
	s = et_read(&t, "hooks.log");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "on_start.success\non_stop.error\n"
			 "on_restart.success\non_stop.success\n");
	free(s);
	et_teardown(&t);
}
END_TEST

START_TEST(test_hook_failure_and_timeout_do_not_matter)
{
	struct et t;
	char *log;

	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  svc:\n    command: \"sleep 30\"\n    ready_after: \"20ms\"\n"
		 "    hooks:\n      on_start:\n"
		 "        success: { command: \"sleep 10\", timeout: \"100ms\" }\n"
		 "      on_stop:\n        success: { command: \"exit 9\" }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "svc", "running", 3000), 0);
	et_run_for(&t, 300);
	ck_assert_str_eq(sysg_supervisor_status(t.sup, "svc"), "running");
	sysg_supervisor_stop_service(t.sup, "svc");
	ck_assert_int_eq(et_wait_status(&t, "svc", "stopped", 3000), 0);
	et_run_for(&t, 200);
	log = et_read(&t, "state/logs/supervisor.log");
	ck_assert_ptr_nonnull(strstr(log, "Hook on_start.success of svc timed out"));
	ck_assert_ptr_nonnull(strstr(log, "Hook on_stop.success of svc failed with exit code 9"));
	free(log);
	et_teardown(&t);
}
END_TEST

/* ---------------------------------------------------------------- */
/* logs and fds                                                       */
/* ---------------------------------------------------------------- */

START_TEST(test_logs_land_in_right_files)
{
	struct et t;
	char *out, *err, *sup, path[4200];
	struct stat st;

	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  talk: { command: \"sh -c 'echo to-out; echo to-err >&2'\" }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "talk", "exited", 3000), 0);
	et_run_for(&t, 50);
	out = et_read(&t, "state/logs/talk_stdout.log");
	err = et_read(&t, "state/logs/talk_stderr.log");
	sup = et_read(&t, "state/logs/supervisor.log");
	ck_assert_str_eq(out, "to-out\n");
	ck_assert_str_eq(err, "to-err\n");
	ck_assert_ptr_nonnull(strstr(sup, " INFO  Starting service: talk\n"));
	/* 2026-11-26T10:30:15.123Z INFO  ... */
	ck_assert_int_eq(sup[4], '-');
	ck_assert_int_eq(sup[10], 'T');
	ck_assert_int_eq(sup[19], '.');
	ck_assert_int_eq(sup[23], 'Z');
	snprintf(path, sizeof(path), "%s/state/logs/talk_stdout.log", t.dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	free(out);
	free(err);
	free(sup);
	et_teardown(&t);
}
END_TEST

START_TEST(test_no_fd_leaks_into_services)
{
	struct et t;
	char *fds;

	/* ls lists its own fds: 0-2 and the directory it is reading */
	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  fds: { command: \"ls /proc/self/fd\" }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "fds", "exited", 3000), 0);
	et_run_for(&t, 50);
	fds = et_read(&t, "state/logs/fds_stdout.log");
	ck_assert_ptr_nonnull(fds);
	ck_assert_str_eq(fds, "0\n1\n2\n3\n");
	free(fds);
	et_teardown(&t);
}
END_TEST

START_TEST(test_environment_and_workdir)
{
	struct et t;
	char *s;

	et_setup(&t, 0,
		 "version: \"1\"\nenv: { vars: { ROOTV: r } }\nservices:\n"
		 "  e: { command: \"sh -c 'echo $ROOTV-$SVCV-$(pwd) > env.txt'\",\n"
		 "       env: { vars: { SVCV: s } } }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "e", "exited", 3000), 0);
	s = et_read(&t, "env.txt");
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(strstr(s, "r-s-"));
	ck_assert_ptr_nonnull(strstr(s, t.dir));
	free(s);
	et_teardown(&t);
}
END_TEST

START_TEST(test_command_not_found)
{
	struct et t;
	struct sysg_unit_record u;

	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  nope: { command: \"/nonexistent/program --flag\" }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "nope", "failed", 3000), 0);
	u = et_unit(&t, "nope");
	ck_assert_ptr_nonnull(strstr(u.reason, "command not found"));
	et_teardown(&t);
}
END_TEST

/* Services spawned in one turn are not waited for one by one (their
 * execs are confirmed through the loop): each still gets its own
 * outcome, a missing program a failed start naming its own command, the
 * others running; on_start fires only for those that really started. */
START_TEST(test_spawn_many_own_results)
{
	enum { N = 24 };
	char yaml[8192], name[16], want[64];
	size_t len;
	struct et t;

	len = (size_t)snprintf(yaml, sizeof(yaml), "version: \"1\"\nservices:\n");
	for (int i = 0; i < N; i++)
		len += (size_t)snprintf(yaml + len, sizeof(yaml) - len,
			i % 4 ? "  s%d: { command: \"sleep 30\", hooks: { "
				"on_start: { success: { command: \"touch "
				"started-%d\" }, error: { command: \"touch "
				"failed-%d\" } } } }\n" :
				"  s%d: { command: \"/nonexistent/prog-%d --x\", "
				"hooks: { on_start: { success: { command: "
				"\"touch started-%d\" }, error: { command: "
				"\"touch failed-%d\" } } } }\n",
			i, i, i, i);
	et_setup(&t, 0, "%s", yaml);
	sysg_supervisor_start_all(t.sup);
	for (int i = 0; i < N; i++) {
		struct sysg_unit_record u;

		snprintf(name, sizeof(name), "s%d", i);
		ck_assert_int_eq(et_wait_status(&t, name, i % 4 ? "running" :
						"failed", 10000), 0);
		u = et_unit(&t, name);
		snprintf(want, sizeof(want), "prog-%d --x': command not found",
			 i);
		if (i % 4 == 0)
			ck_assert_msg(strstr(u.reason, want), "%s: %s", name,
				      u.reason);
		snprintf(name, sizeof(name), "%s-%d", i % 4 ? "started" :
			 "failed", i);
		ck_assert_msg(et_wait_file(&t, name, 10000), "no %s", name);
	}
	for (int i = 0; i < N; i += 4) {
		snprintf(name, sizeof(name), "started-%d", i);
		ck_assert_ptr_null(et_read(&t, name));
	}
	et_teardown(&t);
}
END_TEST

/* ---------------------------------------------------------------- */
/* readiness                                                          */
/* ---------------------------------------------------------------- */

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* A tiny HTTP server in a child process that starts listening after
 * DELAY_MS: 200 for any path but /bad, which gets 500. */
static pid_t http_server(int port, int delay_ms)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	pid_t pid = fork();
	int fd, one = 1;

	if (pid != 0)
		return pid;
	usleep((useconds_t)delay_ms * 1000);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0)
		_exit(1);
	for (;;) {
		char req[2048] = "";
		int c = accept(fd, NULL, NULL);
		ssize_t n = c < 0 ? -1 : read(c, req, sizeof(req) - 1);
		const char *ans = n > 0 && strstr(req, "GET /bad") ?
			"HTTP/1.0 500 Oops\r\nContent-Length: 0\r\n\r\n" :
			"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";

		if (c >= 0 && write(c, ans, strlen(ans)) < 0)
			_exit(1);
		if (c >= 0)
			close(c);
	}
}

START_TEST(test_http_health_check)
{
	struct et t;
	int port = free_port();
	pid_t server;

	/* web is ready once the server answers 2xx (after 300 ms); dep
	 * waits for it; down's URL answers 500 and never becomes ready */
	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  web:\n    command: \"sleep 30\"\n"
		 "    health_check: { url: \"http://127.0.0.1:%d/health\", interval: \"50ms\",\n"
		 "                    timeout: \"3s\", retries: 8 }\n"
		 "  dep: { command: \"sleep 30\", ready_after: \"10ms\", depends_on: [web] }\n"
		 "  down:\n    command: \"sleep 30\"\n"
		 "    health_check: { url: \"http://127.0.0.1:%d/bad\", interval: \"50ms\",\n"
		 "                    timeout: \"300ms\", retries: 2 }\n",
		 port, port);
	server = http_server(port, 300);
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "web", "starting", 1000), 0);
	ck_assert_int_eq(et_wait_status(&t, "dep", "running", 25000), 0);
	ck_assert_str_eq(sysg_supervisor_status(t.sup, "web"), "running");
	ck_assert_int_eq(et_wait_status(&t, "down", "failed", 10000), 0);
	ck_assert_ptr_nonnull(strstr(et_unit(&t, "down").reason,
				     "health check did not pass"));
	kill(server, SIGKILL);
	et_teardown(&t);
}
END_TEST

START_TEST(test_command_health_check)
{
	struct et t;

	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  slow: { command: \"sh -c 'sleep 0.3; touch up; sleep 30'\",\n"
		 "          health_check: { command: \"test -f up\", interval: \"50ms\",\n"
		 "                          timeout: \"1s\", retries: 3 } }\n"
		 "  after: { command: \"sleep 30\", ready_after: \"10ms\", depends_on: [slow] }\n");
	sysg_supervisor_start_all(t.sup);
	ck_assert_int_eq(et_wait_status(&t, "slow", "starting", 1000), 0);
	ck_assert_int_eq(et_wait_status(&t, "after", "running", 5000), 0);
	ck_assert_int_eq(et_wait_file(&t, "up", 10), 1);
	et_teardown(&t);
}
END_TEST

/* ---------------------------------------------------------------- */
/* privileged settings                                                */
/* ---------------------------------------------------------------- */

/* SPEC 10: privileged keys need root (euid 0), not --sys */
START_TEST(test_privileged_keys_need_root)
{
	struct et t;
	char *out;

	et_sys_mode = 0;
	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  api: { command: \"id -u\", user: nobody }\n");
	if (geteuid() != 0) {
		sysg_supervisor_start_all(t.sup);
		ck_assert_int_eq(et_wait_status(&t, "api", "failed", 3000), 0);
		ck_assert_str_eq(et_unit(&t, "api").reason,
				 "services.api.user: requires root");
		et_teardown(&t);
		return;
	}
	ck_assert_int_eq(chmod(t.dir, 0755), 0);
	sysg_supervisor_start_all(t.sup);
	ck_assert_msg(et_wait_status(&t, "api", "exited", 3000) == 0,
		      "api is %s: %s", sysg_supervisor_status(t.sup, "api"),
		      et_unit(&t, "api").reason);
	et_run_for(&t, 50);
	out = et_read(&t, "state/logs/api_stdout.log");
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "65534\n");
	free(out);
	et_teardown(&t);
}
END_TEST

/* valgrind virtualises RLIMIT_NOFILE: setting it fails under it */
static int under_valgrind(void)
{
	char *maps = tu_read_file("/proc/self/maps", NULL);
	int yes = maps && strstr(maps, "vgpreload");

	free(maps);
	return yes;
}

START_TEST(test_privileged_user_and_limits)
{
	struct et t;
	char *out;

	if (geteuid() != 0 || under_valgrind())
		return;         /* needs root, and a real setrlimit */
	et_sys_mode = 1;
	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  api: { command: \"sh -c 'id -u; ulimit -n'\", user: nobody,\n"
		 "         limits: { nofile: 1234, nice: 5 } }\n"
		 "  caps: { command: \"true\", capabilities: [CAP_NET_BIND_SERVICE] }\n");
	et_sys_mode = 0;
	ck_assert_int_eq(chmod(t.dir, 0755), 0);
	sysg_supervisor_start_all(t.sup);
	ck_assert_msg(et_wait_status(&t, "api", "exited", 3000) == 0,
		      "api is %s: %s", sysg_supervisor_status(t.sup, "api"),
		      et_unit(&t, "api").reason);
	ck_assert_int_eq(et_wait_status(&t, "caps", "exited", 3000), 0);
	et_run_for(&t, 50);
	out = et_read(&t, "state/logs/api_stdout.log");
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "65534\n1234\n");
	free(out);
	et_teardown(&t);
}
END_TEST

/* ---------------------------------------------------------------- */
/* cron units                                                         */
/* ---------------------------------------------------------------- */

struct runs {
	int success, failed, overlapped, running;
};

static int count_run(void *arg, const struct sysg_cron_run *r)
{
	struct runs *n = arg;

	n->success += !strcmp(r->status, "success");
	n->failed += !strcmp(r->status, "failed");
	n->overlapped += !strcmp(r->status, "overlapped");
	n->running += !strcmp(r->status, "running");
	return 0;
}

START_TEST(test_cron_runs_on_schedule)
{
	struct et t;
	struct runs n = { 0 };

	et_setup(&t, 0,
		 "version: \"1\"\nservices:\n"
		 "  tick: { command: \"sh -c 'echo run >> cron.txt'\",\n"
		 "          cron: { expression: \"* * * * * *\" } }\n"
		 "  slow: { command: \"sleep 1.5\", cron: \"* * * * * *\" }\n");
	sysg_supervisor_start_all(t.sup);
	/* not run by the bulk start: only scheduled */
	ck_assert_str_eq(sysg_supervisor_status(t.sup, "tick"), "scheduled");
	ck_assert_ptr_null(et_read(&t, "cron.txt"));
	ck_assert_str_eq(et_unit(&t, "tick").kind, "cron");
	et_run_for(&t, 3300);
	ck_assert_int_ge(et_count_lines(&t, "cron.txt"), 2);
	ck_assert_int_eq(sysg_state_list_cron_runs(t.st, "tick", count_run, &n),
			 0);
	ck_assert_int_ge(n.success, 2);
	ck_assert_int_eq(n.failed, 0);
	memset(&n, 0, sizeof(n));
	ck_assert_int_eq(sysg_state_list_cron_runs(t.st, "slow", count_run, &n),
			 0);
	ck_assert_int_ge(n.overlapped, 1);
	et_teardown(&t);
}
END_TEST

static Suite *make_supervisor_suite(void)
{
	Suite *s = suite_create("supervisor");
	TCase *deps = tcase_create("dependencies");
	TCase *policy = tcase_create("policies");
	TCase *misc = tcase_create("misc");

	tcase_set_timeout(deps, 120);
	tcase_set_timeout(policy, 120);
	tcase_set_timeout(misc, 120);
	tcase_add_test(deps, test_parallel_waves);
	tcase_add_test(deps, test_dependent_blocked);
	tcase_add_test(deps, test_stop_in_reverse_order);
	tcase_add_test(deps, test_cascade_on_dependency_crash);
	tcase_add_test(deps, test_skip);
	tcase_add_test(deps, test_pre_start_failure);
	tcase_add_test(deps, test_pre_start_runs_before_start);
	tcase_add_test(policy, test_max_restarts_gives_up);
	tcase_add_test(policy, test_on_failure_and_never);
	tcase_add_test(policy, test_manual_stop_prevents_restart);
	tcase_add_test(policy, test_restart_replaces_worker);
	tcase_add_test(policy, test_hooks_order);
	tcase_add_test(policy, test_hook_failure_and_timeout_do_not_matter);
	tcase_add_test(misc, test_logs_land_in_right_files);
	tcase_add_test(misc, test_no_fd_leaks_into_services);
	tcase_add_test(misc, test_environment_and_workdir);
	tcase_add_test(misc, test_command_not_found);
	tcase_add_test(misc, test_spawn_many_own_results);
	tcase_add_test(misc, test_http_health_check);
	tcase_add_test(misc, test_command_health_check);
	tcase_add_test(misc, test_privileged_keys_need_root);
	tcase_add_test(misc, test_cron_runs_on_schedule);
	tcase_add_test(misc, test_privileged_user_and_limits);
	suite_add_tcase(s, deps);
	suite_add_tcase(s, policy);
	suite_add_tcase(s, misc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_supervisor_suite());
}
