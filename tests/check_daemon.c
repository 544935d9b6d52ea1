/* check_daemon.c - the resident supervisor, black box: `sysg start
 * --daemonize` and every command against it (stop, restart, reload,
 * status, inspect, logs), re-adoption after SIGKILL, the control socket
 * against malformed requests and other users, with both state backends.
 * Needs $SYSG_BIN (set by make check). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemontest.h"
#include "proc/proc.h"
#include "views/views.h"
#include "testutil.h"

static const char *const backends[] = { NULL, "sqlite" };

static const char *three =
	"version: \"1\"\nservices:\n"
	"  a: { command: \"sleep 1000\", ready_after: \"20ms\" }\n"
	"  b: { command: \"sleep 1000\", ready_after: \"20ms\" }\n"
	"  c: { command: \"sleep 1000\", ready_after: \"20ms\" }\n";

static int contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

/* /proc/PID/LINK as a string. */
static void proc_link(pid_t pid, const char *link, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, link);
	n = readlink(path, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
}

/* The "Umask:" of /proc/PID/status, or -1. */
static int proc_umask(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	int mask = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Umask:", 6))
			mask = (int)strtol(line + 6, NULL, 8);
	if (f)
		fclose(f);
	return mask;
}

static void assert_mode(struct dt *t, const char *name, mode_t type,
			mode_t mode)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & S_IFMT, type);
	ck_assert_int_eq(st.st_mode & 07777, mode);
}

/* ------------------------------------------------------- round trip */

START_TEST(test_daemonize_stop_roundtrip)
{
	struct dt t;
	struct run_result r;
	struct sysg_proc_stat ps;
	pid_t sup, pa, pb, pc;
	char buf[256], *hint, *cfg;

	dt_setup(&t, backends[_i], "%s", three);
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "--daemonize", NULL), 0);
	ck_assert_msg(contains(r.out, "supervisor running (pid "), "%s", r.out);
	run_result_free(&r);
	sup = dt_daemon_pid(&t);
	dt_track(&t, sup);
	ck_assert(sysg_proc_is_alive(sup, 0));
	/* properly detached */
	ck_assert_int_eq(sysg_proc_stat_read(sup, &ps), 0);
	ck_assert_int_ne(ps.ppid, getpid());
	ck_assert_int_ne(ps.sid, getsid(0));
	ck_assert_int_ne(ps.sid, sup);          /* not a session leader */
	proc_link(sup, "cwd", buf, sizeof(buf));
	ck_assert_str_eq(buf, "/");
	proc_link(sup, "fd/0", buf, sizeof(buf));
	ck_assert_str_eq(buf, "/dev/null");
	proc_link(sup, "fd/2", buf, sizeof(buf));
	ck_assert_str_eq(buf, "/dev/null");
	ck_assert_int_eq(proc_umask(sup), 022);
	assert_mode(&t, "state", S_IFDIR, 0700);
	assert_mode(&t, "state/control.sock", S_IFSOCK, 0600);
	ck_assert_int_eq(dt_count_supervisors(&t), 1);
	/* the backend asked for, and the config remembered */
	ck_assert(dt_exists(&t, _i ? "state/state.db" : "state/state.xml"));
	ck_assert(!dt_exists(&t, _i ? "state/state.xml" : "state/state.db"));
	hint = dt_read(&t, "state/config_hint");
	ck_assert_int_ne(asprintf(&cfg, "%s/sysg.yaml", t.dir), -1);
	ck_assert_str_eq(hint, cfg);
	free(hint);
	free(cfg);
	pa = dt_pid(&t, "a");
	pb = dt_pid(&t, "b");
	pc = dt_pid(&t, "c");
	ck_assert(pa > 0 && pb > 0 && pc > 0);
	/* the full stop ends the supervisor and its files */
	ck_assert_int_eq(dt_sysg(&t, &r, "stop", NULL), 0);
	run_result_free(&r);
	ck_assert(!dt_exists(&t, "state/sysg.pid"));
	ck_assert(!dt_exists(&t, "state/control.sock"));
	ck_assert(dt_wait_gone(sup, 5000));
	ck_assert(dt_wait_gone(pa, 2000) && dt_wait_gone(pb, 2000) &&
		  dt_wait_gone(pc, 2000));
	ck_assert_int_eq(dt_count_supervisors(&t), 0);
	/* the state is still readable without a supervisor */
	ck_assert_str_eq(dt_status_of(&t, "a", buf, sizeof(buf)), "stopped");
	dt_teardown(&t);
}
END_TEST

START_TEST(test_second_start_talks_to_running)
{
	struct dt t;
	struct run_result r;
	pid_t sup, pa;

	dt_setup(&t, NULL, "%s", three);
	sup = dt_start_daemon(&t);
	pa = dt_pid(&t, "a");
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "--daemonize", NULL), 0);
	ck_assert_msg(contains(r.out, "a: running"), "%s", r.out);
	run_result_free(&r);
	/* the foreground start forwards too, and returns */
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "--service", "b", NULL), 0);
	ck_assert_msg(contains(r.out, "b: running"), "%s", r.out);
	run_result_free(&r);
	ck_assert_int_eq(dt_daemon_pid(&t), sup);
	ck_assert_int_eq(dt_count_supervisors(&t), 1);
	ck_assert_int_eq(dt_pid(&t, "a"), pa);
	/* unit mode cannot share the state directory */
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "--", "true", NULL), 1);
	ck_assert(contains(r.err, "already running"));
	run_result_free(&r);
	dt_teardown(&t);
}
END_TEST

/* ------------------------------------------------ one service at a time */

START_TEST(test_stop_start_one_service)
{
	struct dt t;
	struct run_result r;
	pid_t pa, pb, pc, nb;
	char buf[64];

	dt_setup(&t, NULL, "%s", three);
	dt_start_daemon(&t);
	pa = dt_pid(&t, "a");
	pb = dt_pid(&t, "b");
	pc = dt_pid(&t, "c");
	ck_assert_int_eq(dt_sysg(&t, &r, "stop", "--service", "b", NULL), 0);
	ck_assert_msg(contains(r.out, "b: stopped"), "%s", r.out);
	run_result_free(&r);
	ck_assert(dt_wait_gone(pb, 2000));
	ck_assert_str_eq(dt_status_of(&t, "b", buf, sizeof(buf)), "stopped");
	ck_assert_int_eq(dt_pid(&t, "a"), pa);
	ck_assert_int_eq(dt_pid(&t, "c"), pc);
	ck_assert(sysg_proc_is_alive(pa, 0) && sysg_proc_is_alive(pc, 0));
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "-s", "b", NULL), 0);
	run_result_free(&r);
	ck_assert_str_eq(dt_status_of(&t, "b", buf, sizeof(buf)), "running");
	nb = dt_pid(&t, "b");
	ck_assert(nb > 0 && nb != pb);
	/* unknown names are usage errors */
	ck_assert_int_eq(dt_sysg(&t, &r, "stop", "-s", "nope", NULL), 2);
	ck_assert(contains(r.err, "unknown service 'nope'"));
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, NULL, "start", "-s", "nope", NULL), 2);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_restart_records_new_pid)
{
	struct dt t;
	struct run_result r;
	pid_t pa, pb, pc, na;

	dt_setup(&t, NULL, "%s", three);
	dt_start_daemon(&t);
	pa = dt_pid(&t, "a");
	pb = dt_pid(&t, "b");
	pc = dt_pid(&t, "c");
	ck_assert_int_eq(dt_sysg(&t, &r, "restart", "--service", "a", NULL), 0);
	ck_assert_msg(contains(r.out, "a: running (pid "), "%s", r.out);
	run_result_free(&r);
	na = dt_pid(&t, "a");
	ck_assert(na > 0 && na != pa);
	ck_assert(dt_wait_gone(pa, 2000));
	ck_assert_int_eq(dt_pid(&t, "b"), pb);
	ck_assert_int_eq(dt_pid(&t, "c"), pc);
	/* all of them */
	ck_assert_int_eq(dt_sysg(&t, NULL, "restart", NULL), 0);
	ck_assert(dt_pid(&t, "a") != na && dt_pid(&t, "b") != pb &&
		  dt_pid(&t, "c") != pc);
	/* without a supervisor restart needs --daemonize */
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	ck_assert_int_eq(dt_sysg(&t, &r, "restart", "-s", "a", NULL), 3);
	ck_assert(contains(r.err, "no supervisor running"));
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, &r, "restart", "-s", "a", "--daemonize",
				 NULL), 0);
	run_result_free(&r);
	dt_track(&t, dt_daemon_pid(&t));
	ck_assert(sysg_proc_is_alive(dt_daemon_pid(&t), 0));
	ck_assert(dt_pid(&t, "a") > 0 && dt_pid(&t, "c") > 0);
	dt_teardown(&t);
}
END_TEST

/* ------------------------------------------------------------ reload */

static const char *reload_v2 =
	"version: \"1\"\nservices:\n"
	"  a: { command: \"sleep 1000\", ready_after: \"20ms\" }\n"
	"  b: { command: \"sleep 1001\", ready_after: \"20ms\" }\n"
	"  d: { command: \"sleep 1002\", ready_after: \"20ms\" }\n";

START_TEST(test_reload_adds_removes_restarts)
{
	struct dt t;
	struct run_result r;
	pid_t sup, pa, pb, pc, nb;
	char *hint, *path;
	json_t *j, *c;

	dt_setup(&t, NULL, "%s", three);
	sup = dt_start_daemon(&t);
	pa = dt_pid(&t, "a");
	pb = dt_pid(&t, "b");
	pc = dt_pid(&t, "c");
	dt_write(&t, "v2.yaml", reload_v2);
	ck_assert_int_eq(dt_sysg(&t, &r, "restart", "--config", "v2.yaml", NULL), 0);
	ck_assert_msg(contains(r.out, "added: d") && contains(r.out, "removed: c") &&
		      contains(r.out, "restarted: b") &&
		      contains(r.out, "unchanged: a"), "%s", r.out);
	run_result_free(&r);
	/* restart --config restarts every service (SPEC 3), the unchanged
	 * one too */
	ck_assert(dt_pid(&t, "a") > 0 && dt_pid(&t, "a") != pa);
	pa = dt_pid(&t, "a");
	nb = dt_pid(&t, "b");
	ck_assert(nb > 0 && nb != pb);
	ck_assert(dt_wait_gone(pc, 2000));
	ck_assert(dt_pid(&t, "d") > 0);
	ck_assert_int_eq(dt_daemon_pid(&t), sup);
	/* c is gone from the config: only --all shows it */
	j = dt_status(&t, 0);
	ck_assert_ptr_null(dt_unit(j, "c"));
	json_decref(j);
	j = dt_status(&t, 1);
	c = dt_unit(j, "c");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(json_string_value(json_object_get(c, "kind")), "orphaned");
	ck_assert_str_eq(json_string_value(json_object_get(c, "status")), "stopped");
	json_decref(j);
	hint = dt_read(&t, "state/config_hint");
	ck_assert_int_ne(asprintf(&path, "%s/v2.yaml", t.dir), -1);
	ck_assert_str_eq(hint, path);
	free(hint);
	free(path);
	/* a bad config changes nothing */
	dt_write(&t, "bad.yaml", "version: \"1\"\nservices:\n"
		 "  a: { command: \"x\", depends_on: [zz] }\n");
	ck_assert_int_eq(dt_sysg(&t, &r, "restart", "--config", "bad.yaml", NULL), 2);
	ck_assert_msg(contains(r.err, "bad.yaml:3:") &&
		      contains(r.err, "unknown service 'zz'"), "%s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(dt_pid(&t, "a"), pa);
	ck_assert_int_eq(dt_pid(&t, "b"), nb);
	ck_assert_int_eq(dt_sysg(&t, &r, "restart", "--config", "v2.yaml", "-s",
				 "zz", NULL), 2);
	ck_assert(contains(r.err, "unknown service 'zz'"));
	run_result_free(&r);
	ck_assert_int_eq(dt_pid(&t, "b"), nb);
	/* SIGHUP re-reads the file the supervisor runs */
	dt_write(&t, "v2.yaml", "version: \"1\"\nservices:\n"
		 "  a: { command: \"sleep 1000\", ready_after: \"20ms\" }\n"
		 "  e: { command: \"sleep 1003\", ready_after: \"20ms\" }\n");
	ck_assert_int_eq(kill(sup, SIGHUP), 0);
	ck_assert(dt_wait_status(&t, "e", "running", 5000));
	ck_assert_int_eq(dt_pid(&t, "a"), pa);
	ck_assert(dt_wait_gone(nb, 2000));
	dt_teardown(&t);
}
END_TEST

/* ------------------------------------------------------ status schema */

static const char *schema_yaml =
	"version: \"1\"\nservices:\n"
	"  run: { command: \"sleep 1000\", ready_after: \"20ms\" }\n"
	"  halt: { command: \"sleep 1000\", ready_after: \"20ms\" }\n"
	"  once: { command: \"true\", ready_after: \"20ms\" }\n"
	"  bad: { command: \"sh -c 'exit 3'\", ready_after: \"500ms\" }\n"
	"  skipme: { command: \"sleep 1000\", skip: true }\n"
	"  job: { command: \"true\", cron: { expression: \"0 0 2 * * *\", "
	"timezone: \"UTC\" } }\n";

static void assert_unit_shape(json_t *u)
{
	static const char *const keys[] = { "name", "kind", "status", "pid",
		"pgid", "uptime_s", "restarts", "health", "last_exit", "command",
		"cpu_percent", "rss_bytes", "children" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(json_object_get(u, keys[i]) != NULL, "no %s",
			      keys[i]);
	ck_assert(json_is_string(json_object_get(u, "name")));
	ck_assert(json_is_integer(json_object_get(u, "restarts")));
	ck_assert(json_is_array(json_object_get(u, "children")));
}

static json_t *unit_of(json_t *j, const char *name, const char *kind,
		       const char *status)
{
	json_t *u = dt_unit(j, name);

	ck_assert_msg(u != NULL, "no unit %s", name);
	assert_unit_shape(u);
	ck_assert_str_eq(json_string_value(json_object_get(u, "kind")), kind);
	ck_assert_msg(!strcmp(json_string_value(json_object_get(u, "status")),
			      status), "%s is %s, not %s", name,
		      json_string_value(json_object_get(u, "status")), status);
	return u;
}

static int exit_code_of(json_t *u)
{
	json_t *le = json_object_get(u, "last_exit");

	ck_assert(json_is_object(le));
	return (int)json_integer_value(json_object_get(le, "code"));
}

START_TEST(test_status_schema_through_supervisor)
{
	struct dt t;
	struct run_result r;
	json_t *j, *u, *cron;

	dt_setup(&t, backends[_i], "%s", schema_yaml);
	/* one service fails: exit 1, saying which, why and where the log is */
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "--daemonize", NULL), 1);
	ck_assert_msg(contains(r.err, "service bad failed to start: exited with "
			       "code 3") && contains(r.err, "bad_stderr.log"),
		      "%s", r.err);
	run_result_free(&r);
	dt_track(&t, dt_daemon_pid(&t));
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", "-s", "halt", NULL), 0);
	ck_assert(dt_wait_status(&t, "once", "exited", 3000));
	j = dt_status(&t, 0);
	ck_assert_str_eq(json_string_value(json_object_get(j, "schema_version")),
			 "1");
	ck_assert(json_is_string(json_object_get(j, "captured_at")));
	ck_assert_str_eq(json_string_value(json_object_get(j, "overall_health")),
			 "degraded");
	u = unit_of(j, "run", "service", "running");
	ck_assert(json_is_integer(json_object_get(u, "pid")));
	ck_assert(json_is_integer(json_object_get(u, "uptime_s")));
	ck_assert(json_is_number(json_object_get(u, "cpu_percent")));
	ck_assert(json_is_integer(json_object_get(u, "rss_bytes")));
	ck_assert_str_eq(json_string_value(json_object_get(u, "health")),
			 "healthy");
	ck_assert_str_eq(json_string_value(json_object_get(u, "command")),
			 "sleep 1000");
	u = unit_of(j, "halt", "service", "stopped");
	ck_assert(json_is_null(json_object_get(u, "pid")));
	u = unit_of(j, "once", "service", "exited");
	ck_assert_int_eq(exit_code_of(u), 0);
	u = unit_of(j, "bad", "service", "failed");
	ck_assert_int_eq(exit_code_of(u), 3);
	ck_assert_str_eq(json_string_value(json_object_get(u, "health")),
			 "unhealthy");
	unit_of(j, "skipme", "service", "skipped");
	u = unit_of(j, "job", "cron", "scheduled");
	cron = json_object_get(u, "cron");
	ck_assert(json_is_object(cron));
	ck_assert_str_eq(json_string_value(json_object_get(cron, "expression")),
			 "0 0 2 * * *");
	ck_assert_str_eq(json_string_value(json_object_get(cron, "timezone")),
			 "UTC");
	ck_assert(json_is_string(json_object_get(cron, "next_run")));
	ck_assert(json_is_array(json_object_get(cron, "recent_runs")));
	json_decref(j);
	/* the table renders the same model */
	ck_assert_int_eq(dt_sysg(&t, &r, "status", "--no-color", NULL), 0);
	ck_assert(contains(r.out, "SERVICE") && contains(r.out, "skipped") &&
		  contains(r.out, "scheduled"));
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, &r, "status", "-s", "nope", NULL), 2);
	run_result_free(&r);
	dt_teardown(&t);
}
END_TEST

/* ------------------------------------------------------ inspect, logs */

static const char *talk_yaml =
	"version: \"1\"\nservices:\n"
	"  talk: { command: \"sh -c 'for i in 1 2 3 4 5; do echo out$$i; "
	"echo err$$i >&2; done; exec sleep 1000'\", ready_after: \"20ms\" }\n";

static int has_samples(void *arg)
{
	struct dt *t = arg;
	struct run_result r;
	json_error_t je;
	json_t *j;
	int n = 0;

	if (dt_sysg(t, &r, "inspect", "-s", "talk", "--json", NULL) == 0 &&
	    (j = json_loads(r.out, 0, &je))) {
		n = (int)json_array_size(json_object_get(j, "samples"));
		json_decref(j);
	}
	run_result_free(&r);
	return n > 0;
}

START_TEST(test_inspect_samples)
{
	struct dt t;
	struct run_result r;

	dt_setup(&t, NULL, "%s", talk_yaml);
	dt_start_daemon(&t);
	ck_assert(tu_wait_for(has_samples, &t, 5000, 100));
	ck_assert_int_eq(dt_sysg(&t, &r, "inspect", "-s", "talk", NULL), 0);
	ck_assert_msg(contains(r.out, "process tree:") &&
		      contains(r.out, "sampled by the resident supervisor") &&
		      contains(r.out, "  mem  ") &&
		      contains(r.out, "\u2588"), "%s", r.out);
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, &r, "inspect", "-s", "nope", NULL), 2);
	run_result_free(&r);
	dt_teardown(&t);
}
END_TEST

/* Without `metrics:` the sampler is lazy: nothing is sampled until an
 * inspect asks for a unit, which then gets a sample taken for it. */
START_TEST(test_inspect_samples_lazy)
{
	struct dt t;
	struct run_result r;
	json_error_t je;
	json_t *j, *a;
	int64_t before, at = 0;

	dt_setup(&t, NULL, "%s", talk_yaml);
	dt_start_daemon(&t);
	before = sysg_wall_ms();
	ck_assert_int_eq(dt_sysg(&t, &r, "inspect", "-s", "talk", "--json",
				 NULL), 0);
	j = json_loads(r.out, 0, &je);
	ck_assert_ptr_nonnull(j);
	a = json_object_get(j, "samples");
	ck_assert_msg(json_array_size(a) == 1, "%s", r.out);
	ck_assert_int_eq(sysg_parse_iso8601(json_string_value(json_object_get(
		json_array_get(a, 0), "at")), &at), 0);
	ck_assert_msg(at >= before, "sampled before the request: %s", r.out);
	json_decref(j);
	run_result_free(&r);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_logs_against_daemon)
{
	struct dt t;
	struct run_result r;
	char *log;

	dt_setup(&t, NULL, "%s", talk_yaml);
	dt_start_daemon(&t);
	ck_assert(dt_wait_file(&t, "state/logs/talk_stderr.log", "err5", 3000));
	ck_assert_int_eq(dt_sysg(&t, &r, "logs", "-s", "talk", "--lines", "2",
				 "--kind", "stdout", NULL), 0);
	ck_assert_msg(contains(r.out, "out4") && contains(r.out, "out5") &&
		      !contains(r.out, "out3") && !contains(r.out, "err"),
		      "%s", r.out);
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, &r, "logs", "-s", "talk", "--kind",
				 "stderr", NULL), 0);
	ck_assert(contains(r.out, "err1") && !contains(r.out, "out1"));
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, &r, "logs", "--kind", "supervisor", NULL), 0);
	ck_assert(contains(r.out, "Starting service: talk"));
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, &r, "logs", "-s", "talk", "--clear", NULL), 0);
	run_result_free(&r);
	log = dt_read(&t, "state/logs/talk_stdout.log");
	ck_assert_str_eq(log, "");
	free(log);
	ck_assert_str_eq(dt_status_of(&t, "talk", (char[16]){ 0 }, 16), "running");
	dt_teardown(&t);
}
END_TEST

START_TEST(test_supervisor_log_events)
{
	struct dt t;
	char *log;

	dt_setup(&t, NULL, "%s", three);
	dt_start_daemon(&t);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", "-s", "a", NULL), 0);
	ck_assert_int_eq(dt_sysg(&t, NULL, "start", "-s", "a", NULL), 0);
	ck_assert_int_eq(dt_sysg(&t, NULL, "restart", "-s", "b", NULL), 0);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	log = dt_read(&t, "state/logs/supervisor.log");
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(contains(log, "INFO  Starting service: c") &&
		      contains(log, "Control: stop a") &&
		      contains(log, "Stopping service: a") &&
		      contains(log, "Control: start a") &&
		      contains(log, "Control: restart b") &&
		      contains(log, "Stopping the supervisor"), "%s", log);
	free(log);
	dt_teardown(&t);
}
END_TEST

/* --log-level debug reaches the detached supervisor's log (a failing
 * health check is a DEBUG line); the default keeps INFO and up */
START_TEST(test_supervisor_log_level)
{
	struct dt t;
	char *log;

	/* the first probe fails (and arms the second, which passes) */
	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  hc: { command: \"sleep 1000\", health_check: { command: "
		 "\"test -f ok || { touch ok; exit 1; }\", interval: 50ms,"
		 " retries: 20 } }\n");
	ck_assert_int_eq(dt_sysg_within(&t, 30000, NULL, "--log-level",
					"debug", "start", "--daemonize", NULL),
			 0);
	dt_track(&t, dt_daemon_pid(&t));
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	log = dt_read(&t, "state/logs/supervisor.log");
	ck_assert_msg(contains(log, "DEBUG Health check of hc failed") &&
		      contains(log, "INFO  Starting service: hc"), "%s", log);
	free(log);
	dt_teardown(&t);
}
END_TEST

/* A blue/green service's plain start runs on the active slot: env_var
 * is slot 0 without state, the slot the state file names otherwise. */
START_TEST(test_blue_green_plain_start_slot)
{
	struct dt t;

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  bg:\n    command: \"sh -c 'echo slot=$$SLOTV; "
		 "exec sleep 1000'\"\n    deployment:\n"
		 "      strategy: blue_green\n      blue_green:\n"
		 "        env_var: SLOTV\n        slots: [\"8100\", \"8101\"]\n"
		 "        switch_command: \"true\"\n");
	dt_start_daemon(&t);
	ck_assert(dt_wait_file(&t, "state/logs/bg_stdout.log", "slot=8100\n",
			       5000));
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_write(&t, "state/blue_green_bg.xml", "<?xml version=\"1.0\"?>\n"
		 "<active_slot_index>1</active_slot_index>\n");
	dt_start_daemon(&t);
	ck_assert(dt_wait_file(&t, "state/logs/bg_stdout.log", "slot=8101\n",
			       5000));
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

/* --------------------------------------------------------- re-adoption */

static const char *adopt_yaml =
	"version: \"1\"\nservices:\n"
	"  a: { command: \"sh -c 'echo $$ >> starts_a; exec sleep 1000'\", "
	"ready_after: \"20ms\", restart_policy: always, backoff: \"50ms\" }\n"
	"  b: { command: \"sh -c 'echo $$ >> starts_b; exec sleep 1000'\", "
	"ready_after: \"20ms\" }\n";

static int lines_of(struct dt *t, const char *name)
{
	char *s = dt_read(t, name);
	int n = 0;

	for (char *p = s; p && *p; p++)
		n += *p == '\n';
	free(s);
	return n;
}

/* ------------------------------------------------ what it maps */

/* The resident supervisor records, reads back and answers through its
 * state backend (xml, sqlite) without ever mapping it: the backend runs
 * in a short-lived helper process (SPEC 9: the resident process links
 * only what it always needs). */
START_TEST(test_supervisor_maps_no_backend)
{
	static const char *const cmds[][4] = {
		{ "restart", "--service", "a" }, { "stop", "--service", "b" },
		{ "start", "--service", "b" }, { "status", "--json" },
		{ "inspect", "--service", "a" }, { "status" },
	};
	struct run_result r;
	struct dt t;
	const char *hit;
	pid_t sup;

	dt_setup(&t, backends[_i], "%s", three);
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "--daemonize", NULL), 0);
	run_result_free(&r);
	sup = dt_daemon_pid(&t);
	dt_track(&t, sup);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		ck_assert_int_eq(dt_sysg(&t, &r, cmds[i][0], cmds[i][1],
					 cmds[i][2], NULL), 0);
		run_result_free(&r);
		hit = tu_backend_mapped(sup);
		ck_assert_msg(!hit, "%s: after %s the supervisor maps %s",
			      backends[_i] ? backends[_i] : "xml", cmds[i][0],
			      hit);
	}
	/* what it recorded is in the store */
	ck_assert(dt_exists(&t, _i ? "state/state.db" : "state/state.xml"));
	ck_assert_int_eq(dt_sysg(&t, &r, "stop", NULL), 0);
	run_result_free(&r);
	ck_assert(dt_wait_gone(sup, 5000));
	ck_assert_int_eq(dt_sysg(&t, &r, "status", "--json", NULL), 0);
	ck_assert_msg(contains(r.out, "\"stopped\""), "%s", r.out);
	run_result_free(&r);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_readopt_after_sigkill)
{
	struct dt t;
	struct run_result r;
	pid_t sup, sup2, pa, pb, na;
	char buf[64];

	dt_setup(&t, NULL, "%s", adopt_yaml);
	sup = dt_start_daemon(&t);
	pa = dt_pid(&t, "a");
	pb = dt_pid(&t, "b");
	ck_assert_int_eq(kill(sup, SIGKILL), 0);
	ck_assert(dt_wait_gone(sup, 3000));
	/* the services live on and status stays truthful */
	ck_assert(sysg_proc_is_alive(pa, 0) && sysg_proc_is_alive(pb, 0));
	ck_assert_str_eq(dt_status_of(&t, "a", buf, sizeof(buf)), "running");
	ck_assert_int_eq(dt_pid(&t, "a"), pa);
	/* a new supervisor adopts them: same pids, nothing started twice */
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "--daemonize", NULL), 0);
	run_result_free(&r);
	sup2 = dt_daemon_pid(&t);
	dt_track(&t, sup2);
	ck_assert(sup2 != sup && sysg_proc_is_alive(sup2, 0));
	ck_assert_int_eq(dt_count_supervisors(&t), 1);
	ck_assert_int_eq(dt_pid(&t, "a"), pa);
	ck_assert_int_eq(dt_pid(&t, "b"), pb);
	ck_assert_int_eq(lines_of(&t, "starts_a"), 1);
	ck_assert_int_eq(lines_of(&t, "starts_b"), 1);
	ck_assert(dt_wait_file(&t, "state/logs/supervisor.log", "Adopted", 1000));
	/* an adopted service is restarted by policy when it dies */
	kill(pa, SIGKILL);
	ck_assert(dt_wait_gone(pa, 2000));
	ck_assert(dt_wait_file(&t, "starts_a", "\n", 10));
	for (int64_t end = tu_now_ms() + TU_DEADLINE_MS;
	     lines_of(&t, "starts_a") < 2 && tu_now_ms() < end;)
		usleep(20000);
	ck_assert_int_eq(lines_of(&t, "starts_a"), 2);
	ck_assert(dt_wait_status(&t, "a", "running", 3000));
	na = dt_pid(&t, "a");
	ck_assert(na > 0 && na != pa);
	/* inspect lists that exit: not our child, so its status is unknown */
	ck_assert_int_eq(dt_sysg(&t, &r, "inspect", "-s", "a", NULL), 0);
	ck_assert_msg(contains(r.out, "last exits:") &&
		      contains(r.out, "unknown (not our child)"), "%s", r.out);
	run_result_free(&r);
	/* and stopped cleanly */
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	ck_assert(dt_wait_gone(na, 2000) && dt_wait_gone(pb, 2000));
	ck_assert(!dt_exists(&t, "state/sysg.pid"));
	dt_teardown(&t);
}
END_TEST

/* ------------------------------------------------- the control socket */

/* Send BODY; the reply must be an error with exit status 2. */
static void expect_error(struct dt *t, const char *body, const char *msg)
{
	int fd = dt_connect(t);
	json_t *j;

	dt_send_frame(fd, body, strlen(body));
	j = dt_read_reply(fd);
	ck_assert_msg(j != NULL, "no reply to %s", body);
	ck_assert(json_is_false(json_object_get(j, "ok")));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "exit")), 2);
	ck_assert_msg(contains(json_string_value(json_object_get(j, "error")),
			       msg), "%s: %s", body,
		      json_string_value(json_object_get(j, "error")));
	json_decref(j);
	close(fd);
}

START_TEST(test_malformed_requests)
{
	static const char nul_name[] =
		"{\"v\":1,\"cmd\":\"start\",\"args\":{\"service\":\"a\\u0000b\"}}";
	struct dt t;
	int fds[70], slow, fd;
	char junk[4096];
	pid_t sup;
	json_t *j;

	dt_setup(&t, NULL, "%s", three);
	sup = dt_start_daemon(&t);
	expect_error(&t, "{{{", "malformed request");
	expect_error(&t, "[1]", "bad request");
	expect_error(&t, "{\"v\":2,\"cmd\":\"status\"}", "bad request");
	expect_error(&t, "{\"v\":1,\"cmd\":\"frobnicate\"}", "unknown request");
	expect_error(&t, "{\"v\":1,\"cmd\":\"status\",\"args\":{\"service\":5}}",
		     "must be a string");
	expect_error(&t, "{\"v\":1,\"cmd\":\"status\",\"args\":{\"bogus\":1}}",
		     "unknown argument 'bogus'");
	expect_error(&t, "{\"v\":1,\"cmd\":\"stop\",\"args\":{\"service\":\"zz\"}}",
		     "unknown service 'zz'");
	expect_error(&t, "{\"v\":1,\"cmd\":\"restart\",\"args\":{\"config\":"
		     "\"rel.yaml\"}}", "absolute path");
	expect_error(&t, "{\"v\":1,\"cmd\":\"inspect\"}", "'service' is required");
	expect_error(&t, nul_name, "malformed request");
	/* oversized: an error reply or a closed connection */
	fd = dt_connect(&t);
	dt_send_all(fd, "\x7f\xff\xff\xff", 4);
	j = dt_read_reply(fd);
	ck_assert(j == NULL || json_is_false(json_object_get(j, "ok")));
	json_decref(j);
	close(fd);
	/* truncated, then gone */
	fd = dt_connect(&t);
	dt_send_all(fd, "\0\0\0\x64{\"v\":1", 10);
	close(fd);
	/* random bytes */
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(rand() & 0xff);
	fd = dt_connect(&t);
	send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
	json_decref(dt_read_reply(fd));
	close(fd);
	/* a slow client and a crowd do not block anyone */
	slow = dt_connect(&t);
	dt_send_all(slow, "\0\0", 2);
	for (int i = 0; i < 70; i++)
		fds[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	for (int i = 0; i < 70; i++) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };

		snprintf(a.sun_path, sizeof(a.sun_path), "%s/control.sock",
			 t.state);
		connect(fds[i], (struct sockaddr *)&a, sizeof(a));
	}
	/* one process gets a few connections, the idle ones make room:
	 * a new client always gets in */
	ck_assert_int_eq(dt_sysg(&t, NULL, "status", NULL), 0);
	for (int i = 0; i < 70; i++)
		close(fds[i]);
	ck_assert_int_eq(dt_sysg(&t, NULL, "status", NULL), 0);
	close(slow);
	ck_assert(sysg_proc_is_alive(sup, 0));
	ck_assert_int_eq(dt_daemon_pid(&t), sup);
	ck_assert(dt_pid(&t, "a") > 0);
	dt_teardown(&t);
}
END_TEST

/* As uid 65534: connect to the socket, and run `sysg status`. */
static int as_nobody(struct dt *t, int peer_check)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct run_result r;
		const char *argv[] = { getenv("SYSG_BIN"), "status", NULL };
		json_t *j;
		int fd;

		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(10);
		if (peer_check) {       /* the socket is reachable: SO_PEERCRED */
			fd = dt_connect(t);
			dt_send_frame(fd, "{\"v\":1,\"cmd\":\"ping\"}", 20);
			j = dt_read_reply(fd);
			_exit(j && json_is_false(json_object_get(j, "ok")) &&
			      contains(json_string_value(json_object_get(j, "error")),
				       "permission denied") ? 0 : 11);
		}
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		{
			struct sockaddr_un a = { .sun_family = AF_UNIX };

			snprintf(a.sun_path, sizeof(a.sun_path),
				 "%s/control.sock", t->state);
			if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 ||
			    errno != EACCES)
				_exit(12);
		}
		if (run_capture((char *const *)argv, "/", t->env, 10000, &r) < 0 ||
		    r.status == 0 || !contains(r.err, "permission denied") ||
		    !contains(r.err, "0600"))
			_exit(13);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

START_TEST(test_other_uid_refused)
{
	struct dt t;
	char path[4200];

	if (geteuid() != 0) {
		fprintf(stderr, "test_other_uid_refused: needs root, skipped\n");
		return;
	}
	dt_setup(&t, NULL, "%s", three);
	dt_start_daemon(&t);
	/* 0600 socket in a 0700 directory: cannot even connect */
	ck_assert_int_eq(as_nobody(&t, 0), 0);
	/* opened up by hand: the supervisor itself refuses */
	snprintf(path, sizeof(path), "%s", t.dir);
	*strrchr(path, '/') = '\0';
	ck_assert_int_eq(chmod(path, 0711), 0);         /* the suite's base */
	ck_assert_int_eq(chmod(t.dir, 0711), 0);
	ck_assert_int_eq(chmod(t.state, 0711), 0);
	snprintf(path, sizeof(path), "%s/control.sock", t.state);
	ck_assert_int_eq(chmod(path, 0666), 0);
	ck_assert_int_eq(as_nobody(&t, 1), 0);
	chmod(path, 0600);
	chmod(t.state, 0700);
	ck_assert_int_eq(dt_sysg(&t, NULL, "status", NULL), 0);
	dt_teardown(&t);
}
END_TEST

/* ------------------------------------------------- samples (library) */

START_TEST(test_samples_ring)
{
	struct sysg_samples *s;
	struct sysg_sample *v;
	pid_t self = getpid();
	size_t n;

	ck_assert_int_eq(sysg_samples_new(&s, 3), 0);
	for (int i = 1; i <= 5; i++)
		ck_assert_int_eq(sysg_samples_take(s, "x", &self, 1, i * 1000,
						   1700000000000LL + i * 1000), 0);
	ck_assert_int_eq(sysg_samples_take(s, "idle", NULL, 0, 1000,
					   1700000000000LL), 0);
	ck_assert_int_eq(sysg_samples_get(s, "x", &v, &n), 0);
	ck_assert_uint_eq(n, 3);                /* the newest three */
	ck_assert_int_eq(v[0].at_ms, 1700000003000LL);
	ck_assert_int_eq(v[2].at_ms, 1700000005000LL);
	ck_assert_int_eq(v[2].nprocs, 1);
	ck_assert_int_gt(v[2].rss_bytes, 0);
	free(v);
	ck_assert_int_eq(sysg_samples_get(s, "idle", &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].rss_bytes, 0);
	ck_assert(v[0].cpu_percent < 0);        /* nothing to compare with */
	free(v);
	sysg_samples_forget(s, "x");
	ck_assert_int_eq(sysg_samples_get(s, "x", &v, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(v);
	sysg_samples_free(s);
}
END_TEST

/* CPU time this process has used, in ms. */
static int64_t cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(test_samples_cpu)
{
	struct sysg_samples *s;
	struct sysg_sample *v;
	pid_t self = getpid();
	int64_t up0, up1, end, cpu0, cpu1;
	volatile uint64_t spin = 0;
	double want;
	size_t n;

	ck_assert_int_eq(sysg_samples_new(&s, 0), 0);
	ck_assert_int_eq(sysg_proc_uptime_ms(&up0), 0);
	ck_assert_int_eq(sysg_samples_take(s, "me", &self, 1, up0, 1), 0);
	cpu0 = cpu_ms();
	for (end = tu_now_ms() + 300; tu_now_ms() < end;)
		spin++;                 /* busy: up to 100% of a core */
	cpu1 = cpu_ms();
	ck_assert_int_eq(sysg_proc_uptime_ms(&up1), 0);
	ck_assert_int_eq(sysg_samples_take(s, "me", &self, 1, up1, 2), 0);
	ck_assert_int_eq(sysg_samples_get(s, "me", &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert(v[0].cpu_percent < 0);
	/* what the process really got (a loaded machine gives it less
	 * than a core), within the 10 ms tick granularity of /proc */
	want = 100.0 * (double)(cpu1 - cpu0) / (double)(up1 - up0);
	ck_assert_msg(v[1].cpu_percent > want - 15 &&
		      v[1].cpu_percent < want + 15,
		      "cpu %.1f%%, the process used %.1f%%", v[1].cpu_percent,
		      want);
	free(v);
	sysg_samples_free(s);
}
END_TEST

START_TEST(test_sparkline_and_json)
{
	const double vals[] = { 0, 1, 2, 3, 4, 5, 6, 7, -1 };
	struct sysg_sample in[2] = { { 1700000000123LL, 12.5, 4096, 2 },
				     { 1700000005123LL, -1, 8192, 1 } };
	struct sysg_sample *out;
	char buf[128];
	json_t *j;
	size_t n;

	sysg_sparkline(vals, 9, 7, 100, buf, sizeof(buf));
	ck_assert_str_eq(buf, "\u2581\u2582\u2583\u2584\u2585\u2586\u2587"
			 "\u2588 ");
	sysg_sparkline(vals, 8, 0, 2, buf, sizeof(buf));  /* newest 2, auto max */
	ck_assert_str_eq(buf, "\u2587\u2588");
	sysg_sparkline(vals, 8, 7, 100, buf, 7);        /* room for 2 cells */
	ck_assert_str_eq(buf, "\u2581\u2582");
	j = sysg_samples_to_json(in, 2);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(sysg_samples_from_json(j, &out, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(out[0].at_ms, in[0].at_ms);
	ck_assert(out[0].cpu_percent > 12.4 && out[0].cpu_percent < 12.6);
	ck_assert(out[1].cpu_percent < 0);
	ck_assert_int_eq(out[1].rss_bytes, 8192);
	ck_assert_int_eq(out[0].nprocs, 2);
	free(out);
	json_array_append_new(j, json_string("junk"));
	ck_assert_int_eq(sysg_samples_from_json(j, &out, &n), -EINVAL);
	json_decref(j);
}
END_TEST

/* Child mode through the CLI: pid alone on stdout, listed under its
 * service, killed at its TTL, refused without a supervisor (exit 3). */
START_TEST(test_child_mode_cli)
{
	struct dt t;
	struct run_result r;
	char ppid[32], *end;
	pid_t web, child, child2;
	json_t *st, *kids;

	dt_setup(&t, NULL,
		 "version: \"1\"\nservices:\n"
		 "  web: { command: \"sleep 60\", ready_after: \"20ms\",\n"
		 "         spawn: { mode: dynamic, limits: { children: 1 } } }\n");
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "--parent-pid", "1", "--name",
				 "x", "--", "sleep", "30", NULL), 3);
	run_result_free(&r);
	dt_start_daemon(&t);
	web = dt_pid(&t, "web");
	snprintf(ppid, sizeof(ppid), "%d", (int)web);
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "--parent-pid", ppid, "--name",
				 "job", "--", "sleep", "30", NULL), 0);
	child = (pid_t)strtol(r.out, &end, 10);
	ck_assert_msg(child > 0 && !strcmp(end, "\n"), "out: '%s'", r.out);
	dt_track(&t, child);
	run_result_free(&r);
	st = dt_status(&t, 0);
	kids = json_object_get(dt_unit(st, "web"), "children");
	ck_assert_int_eq(json_array_size(kids), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(
		json_array_get(kids, 0), "pid")), child);
	json_decref(st);
	/* spawn.limits.children: 1 */
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "--parent-pid", ppid, "--name",
				 "job2", "--", "sleep", "30", NULL), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "spawn.limits.children"));
	run_result_free(&r);
	/* a TTL; the deprecated alias still works */
	ck_assert_int_eq(dt_sysg(&t, &r, "spawn", "--parent-pid", (snprintf(
		ppid, sizeof(ppid), "%d", (int)child), ppid), "--name", "short",
		"--ttl", "1", "--", "sleep", "30", NULL), 0);
	child2 = (pid_t)strtol(r.out, NULL, 10);
	ck_assert_int_gt(child2, 0);
	dt_track(&t, child2);
	run_result_free(&r);
	ck_assert(dt_wait_gone(child2, 4000));
	ck_assert_int_eq(kill(child, 0), 0);
	/* stopping the service takes its child along */
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", "--service", "web", NULL), 0);
	ck_assert(dt_wait_gone(child, 3000));
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST


static Suite *make_daemon_suite(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc = tcase_create("daemon");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_loop_test(tc, test_daemonize_stop_roundtrip, 0, 2);
	tcase_add_test(tc, test_second_start_talks_to_running);
	tcase_add_test(tc, test_stop_start_one_service);
	tcase_add_test(tc, test_restart_records_new_pid);
	tcase_add_test(tc, test_reload_adds_removes_restarts);
	tcase_add_loop_test(tc, test_status_schema_through_supervisor, 0, 2);
	tcase_add_test(tc, test_inspect_samples);
	tcase_add_test(tc, test_inspect_samples_lazy);
	tcase_add_test(tc, test_logs_against_daemon);
	tcase_add_test(tc, test_supervisor_log_events);
	tcase_add_test(tc, test_supervisor_log_level);
	tcase_add_test(tc, test_blue_green_plain_start_slot);
	tcase_add_test(tc, test_readopt_after_sigkill);
	tcase_add_loop_test(tc, test_supervisor_maps_no_backend, 0, 2);
	tcase_add_test(tc, test_malformed_requests);
	tcase_add_test(tc, test_other_uid_refused);
	tcase_add_test(tc, test_child_mode_cli);
	suite_add_tcase(s, tc);
	tc = tcase_create("samples");
	tcase_add_test(tc, test_samples_ring);
	tcase_add_test(tc, test_samples_cpu);
	tcase_add_test(tc, test_sparkline_and_json);
	suite_add_tcase(s, tc);
	return s;
}


int main(void)
{
	return tu_run_suite(make_daemon_suite());
}
