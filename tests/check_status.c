/* check_status.c - the read-side commands without a supervisor: the status
 * model and its JSON/table renderers (status.h), inspect, the log viewer
 * (logview.h) and purge, through the library and through the sysg binary.
 *
 * Unit records are written through the real state backends (each
 * state-touching test runs once per backend: loop index = backend) into a
 * temporary state directory; "running" units are real `sleep` children
 * killed in teardown. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "base/base.h"
#include "views/views.h"
#include "proc/proc.h"
#include "runutil.h"
#include "plugin/plugin.h"
#include "testutil.h"

static const char *const backends[] = { "xml", "sqlite" };
#define NBACKENDS 2

static char *tmpdir;
static char state_dir[512], log_dir[600];
static char env_state[600], env_home[600];
static char *env[] = { env_state, env_home, NULL };
static struct sysg_plugin_path pp;
static struct sysg_state *st;
static struct sysg_config *cfg;
static pid_t kids[8];
static int nkids;
static struct run_result r;

static const char *const config_yaml =
	"version: \"1\"\n"
	"services:\n"
	"  run:\n    command: \"sleep 30\"\n"
	"  stop:\n    command: \"sleep 31\"\n"
	"  done:\n    command: \"true\"\n"
	"  bad:\n    command: \"sh -c 'exit 3'\"\n"
	"  skipme:\n    command: \"true\"\n    skip: true\n"
	"  dep:\n    command: \"true\"\n    depends_on: [bad]\n"
	"  job:\n    command: \"echo hi\"\n    cron: \"0 0 2 * * *\"\n";

static void setup(void)
{
	tmpdir = tu_mkdtemp("status");
	ck_assert_ptr_nonnull(tmpdir);
	snprintf(state_dir, sizeof(state_dir), "%s/state", tmpdir);
	snprintf(log_dir, sizeof(log_dir), "%s/logs", state_dir);
	ck_assert_int_eq(mkdir(state_dir, 0700), 0);
	snprintf(env_state, sizeof(env_state), "SYSG_STATE_DIR=%s", state_dir);
	snprintf(env_home, sizeof(env_home), "HOME=%s", tmpdir);
	setenv("SYSG_STATE_DIR", state_dir, 1);
	ck_assert_int_eq(sysg_plugin_path_init(&pp, NULL), 0);
	memset(&r, 0, sizeof(r));
	nkids = 0;
}

static void teardown(void)
{
	for (int i = 0; i < nkids; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	run_result_free(&r);
	sysg_state_close(st);
	st = NULL;
	sysg_config_free(cfg);
	cfg = NULL;
	sysg_plugin_path_free(&pp);
	ck_assert_int_eq(tu_rm_rf(tmpdir), 0);
	free(tmpdir);
}

/* ------------------------------------------------------------ helpers */

static void open_backend(int b)
{
	char err[512] = "";
	int rc = sysg_state_open(&st, &pp, backends[b], state_dir, NULL, err,
				 sizeof(err));

	ck_assert_msg(rc == 0, "%s: %s", backends[b], err);
}

static void load_config(const char *yaml)
{
	char *path = tu_write_file(tmpdir, "sysg.yaml", yaml);
	struct sysg_diag d;
	char *msg;
	int rc;

	ck_assert_ptr_nonnull(path);
	sysg_diag_init(&d);
	rc = sysg_config_load(path, &cfg, &d);
	msg = sysg_diag_join(&d);
	ck_assert_msg(rc == 0, "config: %s", msg);
	free(msg);
	sysg_diag_free(&d);
	free(path);
}

static int is_sleeping(void *arg)
{
	char path[64], *comm;
	int ok;

	snprintf(path, sizeof(path), "/proc/%d/comm", *(pid_t *)arg);
	comm = tu_read_file(path, NULL);
	ok = comm && !strncmp(comm, "sleep", 5);
	free(comm);
	return ok;
}

/* A real `sleep 30` in its own session, killed in teardown. */
static pid_t spawn_sleep(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		setsid();
		execlp("sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	kids[nkids++] = pid;
	ck_assert(tu_wait_for(is_sleeping, &pid, 5000, 2));
	return pid;
}

/* A pid that existed and is gone (reaped). */
static pid_t dead_pid(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	return pid;
}

static uint64_t ticks_of(pid_t pid)
{
	uint64_t t = 0;

	ck_assert_int_eq(sysg_proc_start_ticks(pid, &t), 0);
	return t;
}

#define REC(...) ((struct sysg_unit_record){ __VA_ARGS__ })

static void put(struct sysg_unit_record u)
{
	ck_assert_int_eq(sysg_state_put_unit(st, &u), 0);
}

static void fake_supervisor(pid_t pid)
{
	char text[32];
	char *p;

	snprintf(text, sizeof(text), "%d\n", (int)pid);
	p = tu_write_file(state_dir, "sysg.pid", text);
	ck_assert_ptr_nonnull(p);
	free(p);
}

static void add_run(const char *name, int64_t start, const char *status,
		    int has_code, int code)
{
	struct sysg_cron_run run;

	memset(&run, 0, sizeof(run));
	snprintf(run.name, sizeof(run.name), "%s", name);
	run.started_at_ms = start;
	run.completed_at_ms = start + 150;
	snprintf(run.status, sizeof(run.status), "%s", status);
	run.has_exit_code = has_code;
	run.exit_code = code;
	ck_assert_int_eq(sysg_state_add_cron_run(st, &run, 10), 0);
}

/* Records for every status of config_yaml; returns the running pid. */
static pid_t record_everything(void)
{
	pid_t pid = spawn_sleep();
	int64_t now = (int64_t)time(NULL) * 1000;

	put(REC(.name = "run", .kind = "service", .status = "running",
		.pid = pid, .pgid = pid, .start_ticks = ticks_of(pid),
		.started_at_ms = now, .command = "sleep 30"));
	put(REC(.name = "stop", .kind = "service", .status = "stopped",
		.has_signal = 1, .signal = SIGTERM));
	put(REC(.name = "done", .kind = "service", .status = "exited",
		.has_exit_code = 1, .exit_code = 0));
	put(REC(.name = "bad", .kind = "service", .status = "failed",
		.has_exit_code = 1, .exit_code = 3, .restarts = 2,
		.reason = "exited with code 3"));
	put(REC(.name = "skipme", .kind = "service", .status = "skipped"));
	put(REC(.name = "dep", .kind = "service", .status = "blocked",
		.reason = "dependency bad failed"));
	put(REC(.name = "job", .kind = "cron", .status = "scheduled"));
	add_run("job", now - 30000, "success", 1, 0);
	add_run("job", now - 20000, "failed", 1, 2);
	add_run("job", now - 10000, "overlapped", 0, 0);
	return pid;
}

static void collect(struct sysg_status *s, const char *service, int all,
		    int supervisor)
{
	struct sysg_status_opts o = { .service = service, .all = all,
				      .supervisor_alive = supervisor };
	char err[256] = "";

	ck_assert_msg(sysg_status_collect(cfg, st, &o, s, err,
					  sizeof(err)) == 0, "%s", err);
}

static const struct sysg_unit_view *find(const struct sysg_status *s,
					 const char *name)
{
	for (size_t i = 0; i < s->nunits; i++)
		if (!strcmp(s->units[i].name, name))
			return &s->units[i];
	return NULL;
}

static json_t *json_unit(json_t *doc, const char *name)
{
	json_t *u;
	size_t i;

	json_array_foreach(json_object_get(doc, "units"), i, u)
		if (!strcmp(json_string_value(json_object_get(u, "name")), name))
			return u;
	return NULL;
}

static int int_or_null(json_t *v)
{
	return v && (json_is_integer(v) || json_is_null(v));
}

static int str_or_null(json_t *v)
{
	return v && (json_is_string(v) || json_is_null(v));
}

static int one_of(json_t *v, const char *const *words)
{
	for (int i = 0; json_is_string(v) && words[i]; i++)
		if (!strcmp(json_string_value(v), words[i]))
			return 1;
	return 0;
}

static void check_time(json_t *v, int nullable)
{
	int64_t ms;

	if (nullable && json_is_null(v))
		return;
	ck_assert_msg(json_is_string(v), "time is not a string");
	ck_assert_int_eq(sysg_parse_iso8601(json_string_value(v), &ms), 0);
}

static void check_cron_shape(json_t *c)
{
	static const char *const run_status[] = { "success", "failed",
		"overlapped", "running", NULL };
	json_t *run;
	size_t i;

	ck_assert(json_is_object(c));
	ck_assert(str_or_null(json_object_get(c, "expression")));
	ck_assert(str_or_null(json_object_get(c, "timezone")));
	check_time(json_object_get(c, "next_run"), 1);
	check_time(json_object_get(c, "last_run"), 1);
	ck_assert(json_is_array(json_object_get(c, "recent_runs")));
	json_array_foreach(json_object_get(c, "recent_runs"), i, run) {
		check_time(json_object_get(run, "started_at"), 0);
		check_time(json_object_get(run, "completed_at"), 1);
		ck_assert(one_of(json_object_get(run, "status"), run_status));
		ck_assert(int_or_null(json_object_get(run, "exit_code")));
	}
}

/* Every field of SPEC 8, with its type. */
static void check_unit_shape(json_t *u)
{
	static const char *const kinds[] = { "service", "cron", "unit",
		"child", "orphaned", NULL };
	static const char *const statuses[] = { "starting", "running",
		"stopped", "exited", "failed", "skipped", "blocked",
		"scheduled", "backoff", NULL };
	static const char *const healths[] = { "healthy", "unhealthy",
		"unknown", NULL };
	json_t *le = json_object_get(u, "last_exit"), *c;
	json_t *cpu = json_object_get(u, "cpu_percent");
	size_t i;

	ck_assert(json_is_string(json_object_get(u, "name")));
	ck_assert(one_of(json_object_get(u, "kind"), kinds));
	ck_assert(one_of(json_object_get(u, "status"), statuses));
	ck_assert(int_or_null(json_object_get(u, "pid")));
	ck_assert(int_or_null(json_object_get(u, "pgid")));
	ck_assert(int_or_null(json_object_get(u, "uptime_s")));
	ck_assert(json_is_integer(json_object_get(u, "restarts")));
	ck_assert(one_of(json_object_get(u, "health"), healths));
	ck_assert(le && (json_is_null(le) || json_is_object(le)));
	if (json_is_object(le)) {
		ck_assert(int_or_null(json_object_get(le, "code")));
		ck_assert(int_or_null(json_object_get(le, "signal")));
	}
	ck_assert(str_or_null(json_object_get(u, "command")));
	ck_assert(cpu && (json_is_number(cpu) || json_is_null(cpu)));
	ck_assert(int_or_null(json_object_get(u, "rss_bytes")));
	ck_assert(json_is_array(json_object_get(u, "children")));
	json_array_foreach(json_object_get(u, "children"), i, c)
		check_unit_shape(c);
	if (json_object_get(u, "cron"))
		check_cron_shape(json_object_get(u, "cron"));
}

static json_t *parse_json(const char *text)
{
	json_error_t je;
	json_t *doc = json_loads(text, 0, &je);

	ck_assert_msg(doc != NULL, "bad JSON (%s): %s", je.text, text);
	return doc;
}

static void check_doc_shape(json_t *doc)
{
	static const char *const overall[] = { "healthy", "degraded",
		"failing", NULL };
	json_t *u;
	size_t i;

	ck_assert_str_eq(json_string_value(json_object_get(doc,
				"schema_version")), "1");
	check_time(json_object_get(doc, "captured_at"), 0);
	ck_assert(one_of(json_object_get(doc, "overall_health"), overall));
	ck_assert(json_is_array(json_object_get(doc, "units")));
	json_array_foreach(json_object_get(doc, "units"), i, u)
		check_unit_shape(u);
}

static json_int_t jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_integer(v), "%s is not an integer", key);
	return json_integer_value(v);
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_string(v), "%s is not a string", key);
	return json_string_value(v);
}

/* ------------------------------------------------------ status model */

START_TEST(json_schema_every_status)
{
	struct sysg_status s;
	json_t *doc, *u, *runs;
	char *text;
	pid_t pid, sup;

	open_backend(_i);
	load_config(config_yaml);
	pid = record_everything();
	sup = spawn_sleep();
	fake_supervisor(sup);
	collect(&s, NULL, 0, sysg_supervisor_alive(state_dir, NULL));
	text = sysg_status_to_json_string(&s);
	ck_assert_ptr_nonnull(text);
	doc = parse_json(text);
	check_doc_shape(doc);
	ck_assert_str_eq(jstr(doc, "overall_health"), "degraded");
	ck_assert_int_eq(json_array_size(json_object_get(doc, "units")), 7);
	/* config order */
	ck_assert_str_eq(jstr(json_array_get(json_object_get(doc, "units"), 0),
			      "name"), "run");
	ck_assert_str_eq(jstr(json_array_get(json_object_get(doc, "units"), 6),
			      "name"), "job");

	u = json_unit(doc, "run");
	ck_assert_str_eq(jstr(u, "status"), "running");
	ck_assert_str_eq(jstr(u, "kind"), "service");
	ck_assert_str_eq(jstr(u, "health"), "healthy");
	ck_assert_int_eq(jint(u, "pid"), pid);
	ck_assert_int_eq(jint(u, "pgid"), pid);
	ck_assert_int_ge(jint(u, "uptime_s"), 0);
	ck_assert_int_gt(jint(u, "rss_bytes"), 0);
	ck_assert(json_is_number(json_object_get(u, "cpu_percent")));
	ck_assert(json_is_null(json_object_get(u, "last_exit")));
	ck_assert_str_eq(jstr(u, "command"), "sleep 30");

	u = json_unit(doc, "stop");
	ck_assert_str_eq(jstr(u, "status"), "stopped");
	ck_assert(json_is_null(json_object_get(u, "pid")));
	ck_assert(json_is_null(json_object_get(u, "uptime_s")));
	ck_assert_int_eq(jint(json_object_get(u, "last_exit"), "signal"),
			 SIGTERM);

	u = json_unit(doc, "done");
	ck_assert_str_eq(jstr(u, "status"), "exited");
	ck_assert_int_eq(jint(json_object_get(u, "last_exit"), "code"), 0);
	ck_assert(json_is_null(json_object_get(json_object_get(u, "last_exit"),
					       "signal")));

	u = json_unit(doc, "bad");
	ck_assert_str_eq(jstr(u, "status"), "failed");
	ck_assert_str_eq(jstr(u, "health"), "unhealthy");
	ck_assert_int_eq(jint(json_object_get(u, "last_exit"), "code"), 3);
	ck_assert_int_eq(jint(u, "restarts"), 2);
	ck_assert(json_is_null(json_object_get(u, "pid")));
	ck_assert(json_is_null(json_object_get(u, "cpu_percent")));
	ck_assert(json_is_null(json_object_get(u, "rss_bytes")));

	ck_assert_str_eq(jstr(json_unit(doc, "skipme"), "status"), "skipped");
	ck_assert_str_eq(jstr(json_unit(doc, "dep"), "status"), "blocked");

	u = json_unit(doc, "job");
	ck_assert_str_eq(jstr(u, "kind"), "cron");
	ck_assert_str_eq(jstr(u, "status"), "scheduled");
	ck_assert_str_eq(jstr(json_object_get(u, "cron"), "expression"),
			 "0 0 2 * * *");
	check_time(json_object_get(json_object_get(u, "cron"), "next_run"), 0);
	check_time(json_object_get(json_object_get(u, "cron"), "last_run"), 0);
	runs = json_object_get(json_object_get(u, "cron"), "recent_runs");
	ck_assert_int_eq(json_array_size(runs), 3);
	ck_assert_str_eq(jstr(json_array_get(runs, 0), "status"), "overlapped");
	ck_assert(json_is_null(json_object_get(json_array_get(runs, 0),
					       "exit_code")));
	ck_assert_str_eq(jstr(json_array_get(runs, 1), "status"), "failed");
	ck_assert_int_eq(jint(json_array_get(runs, 1), "exit_code"), 2);
	ck_assert_str_eq(jstr(json_array_get(runs, 2), "status"), "success");
	/* no other unit has a cron object */
	ck_assert_ptr_null(json_object_get(json_unit(doc, "run"), "cron"));
	json_decref(doc);
	free(text);
	sysg_status_free(&s);
}
END_TEST

START_TEST(no_record_is_stopped_and_cron_needs_a_supervisor)
{
	struct sysg_status s;

	open_backend(_i);
	load_config(config_yaml);
	collect(&s, NULL, 0, 0);
	ck_assert_uint_eq(s.nunits, 7);
	for (size_t i = 0; i < s.nunits; i++) {
		ck_assert_str_eq(s.units[i].status, "stopped");
		ck_assert_int_eq(s.units[i].pid, 0);
	}
	ck_assert_ptr_nonnull(find(&s, "job")->cron);
	ck_assert_int_eq(find(&s, "job")->cron->next_run_ms, 0);
	/* nothing runs: not healthy */
	ck_assert_int_eq(s.overall, SYSG_OVERALL_FAILING);
	sysg_status_free(&s);
	collect(&s, NULL, 0, 1);
	ck_assert_str_eq(find(&s, "job")->status, "scheduled");
	ck_assert_int_gt(find(&s, "job")->cron->next_run_ms,
			 s.captured_at_ms);
	sysg_status_free(&s);
}
END_TEST

START_TEST(dead_pid_is_not_running)
{
	struct sysg_status s;
	pid_t gone = dead_pid();

	open_backend(_i);
	load_config(config_yaml);
	put(REC(.name = "run", .kind = "service", .status = "running",
		.pid = gone, .pgid = gone));
	put(REC(.name = "done", .kind = "service", .status = "running",
		.pid = gone, .has_exit_code = 1, .exit_code = 0));
	collect(&s, NULL, 0, 0);
	ck_assert_str_eq(find(&s, "run")->status, "failed");
	ck_assert_int_eq(find(&s, "run")->pid, 0);
	ck_assert_int_eq(find(&s, "run")->uptime_s, -1);
	ck_assert_ptr_nonnull(strstr(find(&s, "run")->reason, "gone"));
	ck_assert_str_eq(find(&s, "done")->status, "exited");
	ck_assert_int_eq(s.overall, SYSG_OVERALL_DEGRADED);
	sysg_status_free(&s);
}
END_TEST

START_TEST(reused_pid_is_not_running)
{
	struct sysg_status s;
	pid_t other = spawn_sleep();

	open_backend(_i);
	load_config(config_yaml);
	/* the pid is alive, but it is not the process that was recorded */
	put(REC(.name = "run", .kind = "service", .status = "running",
		.pid = other, .pgid = other,
		.start_ticks = ticks_of(other) + 12345));
	put(REC(.name = "stop", .kind = "service", .status = "starting",
		.pid = other, .start_ticks = ticks_of(other)));
	collect(&s, NULL, 0, 0);
	ck_assert_str_eq(find(&s, "run")->status, "failed");
	ck_assert_int_eq(find(&s, "run")->pid, 0);
	ck_assert_ptr_nonnull(strstr(find(&s, "run")->reason,
				     "another process"));
	ck_assert_str_eq(find(&s, "stop")->status, "starting");
	ck_assert_int_eq(find(&s, "stop")->pid, other);
	sysg_status_free(&s);
}
END_TEST

START_TEST(plans_need_a_supervisor)
{
	struct sysg_status s;

	open_backend(_i);
	load_config(config_yaml);
	put(REC(.name = "bad", .kind = "service", .status = "backoff",
		.has_exit_code = 1, .exit_code = 1));
	put(REC(.name = "job", .kind = "cron", .status = "scheduled"));
	/* starting without a pid: waiting for its dependencies */
	put(REC(.name = "dep", .kind = "service", .status = "starting"));
	collect(&s, NULL, 0, 0);
	ck_assert_str_eq(find(&s, "bad")->status, "failed");
	ck_assert_str_eq(find(&s, "job")->status, "stopped");
	ck_assert_str_eq(find(&s, "dep")->status, "failed");
	sysg_status_free(&s);
	collect(&s, NULL, 0, 1);
	ck_assert_str_eq(find(&s, "bad")->status, "backoff");
	ck_assert_str_eq(find(&s, "job")->status, "scheduled");
	ck_assert_str_eq(find(&s, "dep")->status, "starting");
	sysg_status_free(&s);
}
END_TEST

/* unit mode: the supervisor's one-service config is recorded as kind
 * "unit", and status reports that kind (section 8) */
START_TEST(unit_mode_kind)
{
	struct sysg_status s;

	open_backend(_i);
	load_config(config_yaml);
	put(REC(.name = "stop", .kind = "unit", .status = "stopped"));
	collect(&s, NULL, 0, 1);
	ck_assert_int_eq(find(&s, "stop")->kind, SYSG_UNIT_ADHOC);
	ck_assert_int_eq(find(&s, "run")->kind, SYSG_UNIT_SERVICE);
	sysg_status_free(&s);
}
END_TEST

START_TEST(all_shows_orphans)
{
	struct sysg_status s;

	open_backend(_i);
	load_config(config_yaml);
	put(REC(.name = "old", .kind = "service", .status = "failed",
		.has_exit_code = 1, .exit_code = 1));
	put(REC(.name = "adhoc", .kind = "unit", .status = "stopped",
		.command = "sleep 5"));
	/* one config service did its job, so the config is healthy */
	put(REC(.name = "done", .kind = "service", .status = "exited",
		.has_exit_code = 1, .exit_code = 0));
	collect(&s, NULL, 0, 0);
	ck_assert_ptr_null(find(&s, "old"));
	ck_assert_ptr_nonnull(find(&s, "adhoc"));
	ck_assert_int_eq(find(&s, "adhoc")->kind, SYSG_UNIT_ADHOC);
	ck_assert_str_eq(find(&s, "adhoc")->command, "sleep 5");
	sysg_status_free(&s);
	collect(&s, NULL, 1, 0);
	ck_assert_ptr_nonnull(find(&s, "old"));
	ck_assert_int_eq(find(&s, "old")->kind, SYSG_UNIT_ORPHANED);
	/* an orphan does not make the config's services unhealthy */
	ck_assert_int_eq(s.overall, SYSG_OVERALL_HEALTHY);
	sysg_status_free(&s);
	/* without a config, every record is listed under its own kind */
	sysg_config_free(cfg);
	cfg = NULL;
	collect(&s, NULL, 0, 0);
	ck_assert_uint_eq(s.nunits, 3);
	ck_assert_int_eq(find(&s, "old")->kind, SYSG_UNIT_SERVICE);
	sysg_status_free(&s);
}
END_TEST

START_TEST(service_filter_and_children)
{
	struct sysg_status_opts o = { .service = "nosuch" };
	struct sysg_status s;
	char err[256] = "";
	pid_t kid = spawn_sleep();

	open_backend(_i);
	load_config(config_yaml);
	put(REC(.name = "run/worker", .kind = "child", .status = "running",
		.pid = kid, .start_ticks = ticks_of(kid)));
	collect(&s, "bad", 0, 0);
	ck_assert_uint_eq(s.nunits, 1);
	ck_assert_str_eq(s.units[0].name, "bad");
	sysg_status_free(&s);
	ck_assert_int_eq(sysg_status_collect(cfg, st, &o, &s, err, sizeof(err)),
			 -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "nosuch"));
	collect(&s, "run", 0, 0);
	ck_assert_uint_eq(s.nunits, 1);
	ck_assert_uint_eq(s.units[0].nchildren, 1);
	ck_assert_str_eq(s.units[0].children[0].name, "run/worker");
	ck_assert_int_eq(s.units[0].children[0].kind, SYSG_UNIT_CHILD);
	ck_assert_int_eq(s.units[0].children[0].pid, kid);
	sysg_status_free(&s);
	collect(&s, "run/worker", 0, 0);
	ck_assert_uint_eq(s.nunits, 1);
	ck_assert_str_eq(s.units[0].name, "run/worker");
	sysg_status_free(&s);
}
END_TEST

START_TEST(json_round_trip)
{
	struct sysg_status s, back;
	char *text, *again, err[256];

	open_backend(_i);
	load_config(config_yaml);
	record_everything();
	collect(&s, NULL, 0, 1);
	text = sysg_status_to_json_string(&s);
	ck_assert_int_eq(sysg_status_from_json(text, &back, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.nunits, s.nunits);
	ck_assert_int_eq(back.overall, s.overall);
	ck_assert_int_eq(back.captured_at_ms, s.captured_at_ms);
	again = sysg_status_to_json_string(&back);
	ck_assert_str_eq(again, text);
	ck_assert_uint_eq(find(&back, "job")->cron->nruns, 3);
	free(again);
	sysg_status_free(&back);
	sysg_status_free(&s);
	free(text);
	ck_assert_int_eq(sysg_status_from_json("{\"schema_version\": \"2\"}",
					       &back, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "schema_version"));
	ck_assert_int_eq(sysg_status_from_json(
		"{\"schema_version\":\"1\",\"captured_at\":\"2026-01-01T00:00:00.000Z\","
		"\"overall_health\":\"healthy\",\"units\":[{\"name\":\"a\","
		"\"kind\":\"service\",\"status\":\"running\",\"health\":\"healthy\","
		"\"pid\":\"12\"}]}", &back, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "pid"));
	ck_assert_int_eq(sysg_status_from_json("[1,", &back, err, sizeof(err)),
			 -EINVAL);
}
END_TEST

/* What jansson prints for S, the reference the direct writer must match
 * byte for byte. */
static char *jansson_text(const struct sysg_status *s, int compact)
{
	json_t *j = sysg_status_to_json(s);
	char *text = j ? json_dumps(j, SYSG_JSON_PRINT_FLAGS(compact)) : NULL;

	json_decref(j);
	return text;
}

static void same_as_jansson(const struct sysg_status *s)
{
	for (int compact = 0; compact <= 1; compact++) {
		char *want = jansson_text(s, compact);
		char *got = compact ? sysg_status_to_json_string(s) :
			    sysg_status_to_json_text(s);

		if (!want) {
			ck_assert_ptr_null(got);
			continue;
		}
		ck_assert_ptr_nonnull(got);
		for (size_t k = 0; got[k] || want[k]; k++)
			ck_assert_msg(got[k] == want[k], "differs at %zu: "
				      "\"%.40s\" instead of \"%.40s\"", k,
				      got + k, want + k);
		free(want);
		free(got);
	}
}

/* Every shape and awkward value the document has: nulls and numbers,
 * children, cron runs, optional keys, escapes, UTF-8, reals that print
 * with an exponent. */
START_TEST(json_text_is_jansson_text)
{
	static const double cpus[] = { -1, 0, 0.004, 0.005, 0.1, 0.3, 1, 12.34,
		99.999, 250.5, 1e6, 123456789.12, 1e15, 3e20 };
	static const char *const odd[] = { "plain", "quote \" back \\ slash /",
		"ctl \b\f\n\r\t \x01\x02\x1f\x7f end", "utf8 h\xc3\xa9 \xe2\x82\xac "
		"\xf0\x9f\x98\x80", "", "tab\tonly" };
	struct sysg_unit_view v[3], kid[2];
	struct sysg_cron_run runs[2];
	struct sysg_cron_view cron;
	struct sysg_status s = { 0 };

	memset(v, 0, sizeof(v));
	memset(kid, 0, sizeof(kid));
	memset(runs, 0, sizeof(runs));
	memset(&cron, 0, sizeof(cron));
	s.captured_at_ms = 1764670000123;
	s.units = v;
	s.nunits = 3;
	snprintf(v[0].name, sizeof(v[0].name), "web");
	snprintf(v[0].status, sizeof(v[0].status), "running");
	v[0].pid = 4242;
	v[0].pgid = 4242;
	v[0].uptime_s = 0;
	v[0].rss_bytes = INT64_MAX;
	v[0].children = kid;
	v[0].nchildren = 2;
	snprintf(kid[0].name, sizeof(kid[0].name), "web/a");
	kid[0].kind = SYSG_UNIT_CHILD;
	snprintf(kid[0].status, sizeof(kid[0].status), "failed");
	kid[0].has_exit_code = 1;
	kid[0].exit_code = INT32_MIN;
	kid[0].uptime_s = -1;
	kid[0].rss_bytes = -1;
	kid[0].cpu_percent = -1;
	snprintf(kid[1].name, sizeof(kid[1].name), "web/b");
	kid[1].has_signal = 1;
	kid[1].signal = 9;
	kid[1].oom = 1;
	kid[1].uptime_s = 7;
	kid[1].rss_bytes = 0;
	snprintf(v[1].name, sizeof(v[1].name), "job");
	v[1].kind = SYSG_UNIT_CRON;
	v[1].uptime_s = -1;
	v[1].rss_bytes = -1;
	v[1].cpu_percent = -1;
	v[1].cron = &cron;
	v[1].restarts = 2147483647;
	cron.expression = "0 0 2 * * *";
	cron.next_run_ms = 1764670000000;
	cron.runs = runs;
	cron.nruns = 2;
	runs[0].started_at_ms = 1764660000000;
	runs[0].completed_at_ms = 1764660001000;
	snprintf(runs[0].status, sizeof(runs[0].status), "success");
	runs[0].has_exit_code = 1;
	snprintf(runs[1].status, sizeof(runs[1].status), "running");
	snprintf(v[2].name, sizeof(v[2].name), "x");
	v[2].kind = SYSG_UNIT_ORPHANED;
	v[2].uptime_s = -1;
	v[2].rss_bytes = -1;
	snprintf(v[2].project, sizeof(v[2].project), "other");
	snprintf(v[2].last_restart, sizeof(v[2].last_restart), "health check");
	same_as_jansson(&s);
	for (size_t i = 0; i < sizeof(cpus) / sizeof(cpus[0]); i++) {
		v[0].cpu_percent = cpus[i];
		v[2].cpu_percent = cpus[i] / 3;
		same_as_jansson(&s);
	}
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		v[0].command = (char *)odd[i];
		cron.timezone = (char *)odd[i];
		snprintf(v[0].reason, sizeof(v[0].reason), "%s", odd[i]);
		snprintf(v[2].status_text, sizeof(v[2].status_text), "%s",
			 odd[i]);
		snprintf(kid[1].name, sizeof(kid[1].name), "web/%s", odd[i]);
		same_as_jansson(&s);
	}
	/* more elements than a byte counts */
	{
		struct sysg_unit_view *many = calloc(300, sizeof(*many));

		ck_assert_ptr_nonnull(many);
		for (int i = 0; i < 300; i++)
			snprintf(many[i].name, sizeof(many[i].name), "s%d", i);
		s.units = many;
		s.nunits = 300;
		same_as_jansson(&s);
		free(many);
		s.units = v;
		s.nunits = 3;
	}
	/* what jansson refuses (not UTF-8), the text refuses too */
	v[0].command = "bad \xc3\x28 utf8";
	same_as_jansson(&s);
	v[0].command = NULL;
	s.nunits = 0;           /* an empty units array */
	same_as_jansson(&s);
}
END_TEST

/* CPU% (two decimals, the writer's shortcut for K / 100) prints as
 * jansson prints it: every cent up to 20%, then steps up to the largest
 * the shortcut takes, and its edges. */
START_TEST(cpu_percent_text_is_jansson_text)
{
	static const double edge[] = { 999999999.99, 999999999.994, 1e9,
		1e9 + 0.01, 0.001, 0.015, 1.005, 2.675, 1e-7, -0.0, 5e-324 };
	struct sysg_unit_view v;
	struct sysg_status s = { 0 };

	memset(&v, 0, sizeof(v));
	snprintf(v.name, sizeof(v.name), "web");
	s.units = &v;
	s.nunits = 1;
	for (int64_t k = 0; k <= 2000; k++) {
		v.cpu_percent = (double)k / 100.0;
		same_as_jansson(&s);
	}
	for (int64_t k = 2001; k < 100000000000; k = k * 7 + 3) {
		v.cpu_percent = (double)k / 100.0;
		same_as_jansson(&s);
	}
	for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
		v.cpu_percent = edge[i];
		same_as_jansson(&s);
	}
}
END_TEST

static enum sysg_overall overall_of(const char *const *statuses)
{
	struct sysg_unit_view v[8];
	struct sysg_status s = { 0, 0, v, 0 };

	memset(v, 0, sizeof(v));
	for (; statuses[s.nunits]; s.nunits++)
		snprintf(v[s.nunits].status, sizeof(v[0].status), "%s",
			 statuses[s.nunits]);
	return sysg_status_overall(&s);
}

START_TEST(overall_health_rule)
{
	static const char *const none[] = { NULL };
	static const char *const fine[] = { "running", "exited", "skipped",
		"scheduled", "stopped", NULL };
	static const char *const some[] = { "running", "blocked", NULL };
	static const char *const bad[] = { "failed", "backoff", "stopped", NULL };
	/* issue 11 item 11: everything stopped is not healthy */
	static const char *const stopped[] = { "stopped", "stopped", NULL };
	static const char *const coming[] = { "starting", "stopped", NULL };
	static const char *const half[] = { "starting", "running", NULL };

	ck_assert_int_eq(overall_of(none), SYSG_OVERALL_HEALTHY);
	ck_assert_int_eq(overall_of(fine), SYSG_OVERALL_HEALTHY);
	ck_assert_int_eq(overall_of(some), SYSG_OVERALL_DEGRADED);
	ck_assert_int_eq(overall_of(bad), SYSG_OVERALL_FAILING);
	ck_assert_int_eq(overall_of(stopped), SYSG_OVERALL_FAILING);
	ck_assert_int_eq(overall_of(coming), SYSG_OVERALL_DEGRADED);
	ck_assert_int_eq(overall_of(half), SYSG_OVERALL_HEALTHY);
}
END_TEST

static char *render(const struct sysg_status *s, int color, int full)
{
	struct sysg_render_opts o = { color, full, 80, 1 << 30 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	sysg_status_render_table(s, &o, f);
	fclose(f);
	return buf;
}

START_TEST(table_rendering)
{
	static const char *const cols[] = { "SERVICE", "STATUS", "PID",
		"UPTIME", "CPU%", "MEM%", "RESTARTS", "LAST EXIT", NULL };
	struct sysg_status s;
	char *out;

	open_backend(0);
	load_config(config_yaml);
	record_everything();
	put(REC(.name = "stop", .kind = "service", .status = "stopped",
		.has_signal = 1, .signal = SIGTERM,
		.command = "a-very-long-command --with many --arguments that "
			   "go on and on --until-the-line-is-far-too-long-for-a-terminal"));
	collect(&s, NULL, 0, 0);
	out = render(&s, 0, 0);
	for (int i = 0; cols[i]; i++)
		ck_assert_msg(strstr(out, cols[i]), "no %s in\n%s", cols[i], out);
	for (size_t i = 0; i < s.nunits; i++)
		ck_assert_ptr_nonnull(strstr(out, s.units[i].name));
	ck_assert_ptr_null(strchr(out, '\033'));
	ck_assert_ptr_nonnull(strstr(out, "exit 3"));
	ck_assert_ptr_nonnull(strstr(out, "SIGTERM"));
	ck_assert_ptr_nonnull(strstr(out, "overall: degraded"));
	ck_assert_ptr_nonnull(strstr(out, "CRON"));
	free(out);
	out = render(&s, 1, 0);
	ck_assert_ptr_nonnull(strstr(out, "\033["));
	free(out);
	sysg_status_free(&s);
	/* a stopped unit shows the config's command: make it long */
	sysg_config_free(cfg);
	cfg = NULL;
	collect(&s, "stop", 0, 0);
	out = render(&s, 0, 0);
	ck_assert_ptr_nonnull(strstr(out, "..."));
	ck_assert_ptr_null(strstr(out, "for-a-terminal"));
	free(out);
	out = render(&s, 0, 1);
	ck_assert_ptr_nonnull(strstr(out, "too-long-for-a-terminal"));
	free(out);
	sysg_status_free(&s);
}
END_TEST

START_TEST(formatting)
{
	char buf[64];

	sysg_format_uptime(-1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "-");
	sysg_format_uptime(42, buf, sizeof(buf));
	ck_assert_str_eq(buf, "42s");
	sysg_format_uptime(3 * 3600 + 5 * 60, buf, sizeof(buf));
	ck_assert_str_eq(buf, "3h 5m");
	sysg_format_uptime(2 * 86400 + 3600, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2d 1h");
	sysg_format_local_time(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "-");
	sysg_format_local_time(1795689015123LL, buf, sizeof(buf));
	ck_assert_uint_eq(strlen(buf), 19);     /* "2026-11-26 10:30:15" */
	ck_assert(buf[4] == '-' && buf[10] == ' ' && buf[13] == ':');
}
END_TEST

START_TEST(inspect_offline)
{
	struct sysg_inspect in;
	char err[256] = "";
	json_t *j;
	pid_t pid;

	open_backend(_i);
	load_config(config_yaml);
	pid = record_everything();
	ck_assert_int_eq(sysg_inspect_collect(cfg, st, state_dir, "run", 0, &in,
					      err, sizeof(err)), 0);
	ck_assert_uint_ge(in.nprocs, 1);
	ck_assert_int_eq(in.procs[0].pid, pid);
	j = sysg_inspect_to_json(&in);
	ck_assert_ptr_nonnull(j);
	check_unit_shape(json_object_get(j, "unit"));
	ck_assert_str_eq(jstr(j, "samples_note"),
			 "no samples (no supervisor running)");
	json_decref(j);
	sysg_inspect_free(&in);
	ck_assert_int_eq(sysg_inspect_collect(cfg, st, state_dir, "nosuch", 0,
					      &in, err, sizeof(err)), -ENOENT);
}
END_TEST

/* --------------------------------------------------------------- logs */

static char *write_lines(const char *name, int from, int to, int final_nl)
{
	char *path;
	FILE *f;

	ck_assert_int_eq(sysg_mkdir_p(log_dir, 0700, 0), 0);
	path = sysg_path_join(log_dir, name);
	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	for (int i = from; i <= to; i++)
		fprintf(f, "line %d%s", i, i < to || final_nl ? "\n" : "");
	fclose(f);
	return path;
}

static char *tail_of(const char *path, long n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_int_eq(sysg_log_tail(path, n, f, NULL), 0);
	fclose(f);
	return buf;
}

START_TEST(tail_last_lines)
{
	char *p = write_lines("a_stdout.log", 1, 100, 1), *out;

	out = tail_of(p, 3);
	ck_assert_str_eq(out, "line 98\nline 99\nline 100\n");
	free(out);
	out = tail_of(p, 0);
	ck_assert_str_eq(out, "");
	free(out);
	out = tail_of(p, 1000);
	ck_assert_int_eq(strncmp(out, "line 1\nline 2\n", 14), 0);
	free(out);
	free(p);
	p = write_lines("b_stdout.log", 1, 5, 0);       /* no final newline */
	out = tail_of(p, 2);
	ck_assert_str_eq(out, "line 4\nline 5");
	free(out);
	free(p);
	ck_assert_int_eq(sysg_log_tail("/nonexistent/x.log", 5, stdout, NULL),
			 -ENOENT);
}
END_TEST

START_TEST(tail_large_file_across_blocks)
{
	char *p = write_lines("big_stdout.log", 1, 300000, 1), *out;

	out = tail_of(p, 2);
	ck_assert_str_eq(out, "line 299999\nline 300000\n");
	free(out);
	out = tail_of(p, 20000);        /* spans several 64 KiB blocks */
	ck_assert_int_eq(strncmp(out, "line 280001\n", 12), 0);
	free(out);
	free(p);
}
END_TEST

START_TEST(clear_in_place_keeps_appending_writer)
{
	char *p = write_lines("w_stdout.log", 1, 3, 1), *text, *link;
	int fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "abc\n", 4), 4);
	ck_assert_int_eq(sysg_log_clear(p), 0);
	ck_assert_int_eq(write(fd, "def\n", 4), 4);
	close(fd);
	text = tu_read_file(p, NULL);
	ck_assert_str_eq(text, "def\n");
	free(text);
	/* a symlink is not followed */
	link = sysg_path_join(log_dir, "l_stdout.log");
	ck_assert_int_eq(symlink(p, link), 0);
	ck_assert_int_eq(sysg_log_clear(link), -ELOOP);
	text = tu_read_file(p, NULL);
	ck_assert_str_eq(text, "def\n");
	free(text);
	ck_assert_int_eq(sysg_log_clear("/nonexistent/x.log"), -ENOENT);
	free(link);
	free(p);
}
END_TEST

START_TEST(log_services_and_sets)
{
	const char *const svcs[] = { "api" };
	struct sysg_logset set;
	char **names = NULL;
	int n;

	free(write_lines("api_stdout.log", 1, 1, 1));
	free(write_lines("api_stderr.log", 1, 1, 1));
	free(write_lines("my_svc_stderr.log", 1, 1, 1));
	free(write_lines("supervisor.log", 1, 1, 1));
	n = sysg_log_services(log_dir, &names);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(names[0], "api");
	ck_assert_str_eq(names[1], "my_svc");
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	ck_assert_int_eq(sysg_logset_build(&set, log_dir, svcs, 1, NULL, 1), 0);
	ck_assert_uint_eq(set.n, 3);
	ck_assert_str_eq(set.v[2].kind, "supervisor");
	sysg_logset_free(&set);
	ck_assert_int_eq(sysg_logset_build(&set, log_dir, svcs, 1, "stderr", 1),
			 0);
	ck_assert_uint_eq(set.n, 1);
	ck_assert_ptr_nonnull(strstr(set.v[0].path, "api_stderr.log"));
	sysg_logset_free(&set);
}
END_TEST

/* Each poll of the follow loop does the next step to the files. */
struct follow_script {
	char *out_path, *err_path;
	int step;
};

static void append_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int follow_step(void *arg)
{
	struct follow_script *fs = arg;
	char rotated[700];

	switch (fs->step++) {
	case 0:
		append_text(fs->out_path, "new1\n");
		return 0;
	case 1:
		ck_assert_int_eq(truncate(fs->out_path, 0), 0);
		append_text(fs->out_path, "t\n");
		return 0;
	case 2:
		snprintf(rotated, sizeof(rotated), "%s.1", fs->out_path);
		ck_assert_int_eq(rename(fs->out_path, rotated), 0);
		append_text(fs->out_path, "rotated\n");
		return 0;
	case 3:
		append_text(fs->err_path, "err1\n");
		return 0;
	case 4:         /* copy-truncate, a line after the last poll: */
		snprintf(rotated, sizeof(rotated), "%s.1", fs->out_path);
		ck_assert_int_eq(unlink(rotated), 0);
		append_text(rotated, "rotated\ncopied\n");
		ck_assert_int_eq(truncate(fs->out_path, 0), 0);
		return 0;
	case 5:         /* ... it is printed from PATH.1 */
		append_text(fs->out_path, "after copy\n");
		return 0;
	}
	return 1;
}

START_TEST(follow_appends_truncation_rotation)
{
	const char *const svcs[] = { "api" };
	struct follow_script fs = { NULL, NULL, 0 };
	struct sysg_logset set;
	char *out = NULL, *notes = NULL;
	size_t olen = 0, nlen = 0;
	FILE *of = open_memstream(&out, &olen), *nf = open_memstream(&notes, &nlen);
	struct sysg_follow_opts o = { 5, 10, of, nf, follow_step, &fs, NULL };
	const char *p;

	fs.out_path = write_lines("api_stdout.log", 1, 2, 1);
	fs.err_path = sysg_path_join(log_dir, "api_stderr.log");
	ck_assert_int_eq(sysg_logset_build(&set, log_dir, svcs, 1, NULL, 0), 0);
	ck_assert_int_eq(sysg_logs_follow(&set, &o), 0);
	fclose(of);
	fclose(nf);
	p = strstr(out, "line 1\nline 2\n");
	ck_assert_msg(p != NULL, "out: %s", out);
	ck_assert_msg((p = strstr(p, "new1\n")) != NULL, "out: %s", out);
	ck_assert_msg((p = strstr(p, "t\n")) != NULL, "out: %s", out);
	ck_assert_msg((p = strstr(p, "rotated\n")) != NULL, "out: %s", out);
	ck_assert_msg((p = strstr(p, "(stderr)")) != NULL, "out: %s", out);
	ck_assert_msg((p = strstr(p, "err1\n")) != NULL, "out: %s", out);
	ck_assert_msg((p = strstr(p, "(stdout)")) != NULL, "out: %s", out);
	ck_assert_msg((p = strstr(p, "\ncopied\nafter copy\n")) != NULL,
		      "out: %s", out);
	ck_assert_ptr_nonnull(strstr(notes, "truncated"));
	ck_assert_ptr_nonnull(strstr(notes, "rotated"));
	sysg_logset_free(&set);
	free(fs.out_path);
	free(fs.err_path);
	free(out);
	free(notes);
}
END_TEST

/* ---------------------------------------------------------------- CLI */

#define SYSG(...) ck_assert_int_eq(run_sysg(tmpdir, env, &r, __VA_ARGS__, \
					    (char *)NULL), 0)

static void rerun(void)
{
	run_result_free(&r);
	memset(&r, 0, sizeof(r));
}

START_TEST(cli_status)
{
	json_t *doc;
	pid_t pid;

	open_backend(_i);
	load_config(config_yaml);
	pid = record_everything();
	put(REC(.name = "old", .kind = "service", .status = "stopped"));
	SYSG("status", "--json", "--state-backend", backends[_i]);
	ck_assert_msg(r.status == 0, "err: %s", r.err);
	doc = parse_json(r.out);
	check_doc_shape(doc);
	ck_assert_int_eq(json_array_size(json_object_get(doc, "units")), 7);
	ck_assert_int_eq(jint(json_unit(doc, "run"), "pid"), pid);
	ck_assert_ptr_null(json_unit(doc, "old"));
	json_decref(doc);

	rerun();
	SYSG("status", "--all", "--json", "--state-backend", backends[_i]);
	doc = parse_json(r.out);
	ck_assert_str_eq(jstr(json_unit(doc, "old"), "kind"), "orphaned");
	json_decref(doc);

	rerun();
	SYSG("status", "--service", "bad", "--json", "--state-backend",
	     backends[_i]);
	doc = parse_json(r.out);
	ck_assert_int_eq(json_array_size(json_object_get(doc, "units")), 1);
	json_decref(doc);

	rerun();
	SYSG("status", "--no-color", "--state-backend", backends[_i]);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "SERVICE"));
	ck_assert_ptr_nonnull(strstr(r.out, "LAST EXIT"));
	for (const char *const *n = (const char *const[]){ "run", "stop",
	     "done", "bad", "skipme", "dep", "job", NULL }; *n; n++)
		ck_assert_ptr_nonnull(strstr(r.out, *n));
	ck_assert_ptr_null(strchr(r.out, '\033'));

	rerun();
	SYSG("status", "--service", "nosuch", "--state-backend", backends[_i]);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "unknown service 'nosuch'"));
}
END_TEST

START_TEST(cli_status_without_config_or_state)
{
	json_t *doc;

	ck_assert_int_eq(rmdir(state_dir), 0);
	SYSG("status", "--json");
	ck_assert_msg(r.status == 0, "err: %s", r.err);
	ck_assert_str_eq(r.err, "");
	doc = parse_json(r.out);
	check_doc_shape(doc);
	ck_assert_int_eq(json_array_size(json_object_get(doc, "units")), 0);
	json_decref(doc);
	/* a read-only command creates nothing */
	ck_assert_int_ne(access(state_dir, F_OK), 0);
}
END_TEST

START_TEST(cli_inspect)
{
	json_t *doc;
	pid_t pid;

	open_backend(0);
	load_config(config_yaml);
	pid = record_everything();
	SYSG("inspect", "-s", "run", "--json");
	ck_assert_msg(r.status == 0, "err: %s", r.err);
	doc = parse_json(r.out);
	ck_assert_str_eq(jstr(json_object_get(doc, "unit"), "name"), "run");
	ck_assert_int_eq(jint(json_array_get(json_object_get(doc, "processes"),
					     0), "pid"), pid);
	json_decref(doc);
	rerun();
	SYSG("inspect", "-s", "job");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "overlapped"));
	ck_assert_ptr_nonnull(strstr(r.out, "no samples"));
	rerun();
	SYSG("inspect");
	ck_assert_int_eq(r.status, 2);
	rerun();
	SYSG("inspect", "-s", "nosuch");
	ck_assert_int_eq(r.status, 2);
}
END_TEST

START_TEST(cli_logs)
{
	char *p, *q;
	struct stat sb;

	free(tu_write_file(tmpdir, "sysg.yaml",
			   "version: \"1\"\nservices:\n  api:\n"
			   "    command: \"true\"\n"
			   "  web:\n    command: \"true\"\n"));
	free(write_lines("api_stdout.log", 1, 10, 1));
	free(write_lines("api_stderr.log", 1, 2, 1));
	free(write_lines("supervisor.log", 7, 7, 1));
	SYSG("logs", "--service", "api", "--lines", "3", "--kind", "stdout");
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "line 8\nline 9\nline 10\n");
	rerun();
	SYSG("logs", "-s", "api", "--kind", "stderr");
	ck_assert_str_eq(r.out, "line 1\nline 2\n");
	rerun();
	SYSG("logs", "--kind", "supervisor");
	ck_assert_str_eq(r.out, "line 7\n");
	rerun();
	/* no --kind: both outputs, a header each (docs/compat.md) */
	SYSG("logs", "-s", "api", "--lines", "1");
	ck_assert_ptr_nonnull(strstr(r.out, "==> api (stdout)"));
	ck_assert_ptr_nonnull(strstr(r.out, "line 10\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "==> api (stderr)"));
	ck_assert_ptr_nonnull(strstr(r.out, "line 2\n"));
	ck_assert_ptr_null(strstr(r.out, "line 9\n"));
	rerun();
	free(write_lines("web_stderr.log", 4, 4, 1));
	SYSG("logs");
	ck_assert_ptr_nonnull(strstr(r.out, "==> api (stdout)"));
	ck_assert_ptr_nonnull(strstr(r.out, "==> api (stderr)"));
	ck_assert_ptr_nonnull(strstr(r.out, "==> web (stderr)"));
	rerun();
	p = sysg_path_join(log_dir, "web_stderr.log");
	unlink(p);
	free(p);
	SYSG("logs", "-s", "web");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "no service logs yet for web"));
	rerun();
	SYSG("logs", "-s", "nosuch");
	ck_assert_int_eq(r.status, 2);
	rerun();
	SYSG("logs", "-s", "api", "--clear");
	ck_assert_int_eq(r.status, 0);
	p = sysg_path_join(log_dir, "api_stdout.log");
	q = sysg_path_join(log_dir, "supervisor.log");
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_size, 0);
	ck_assert_int_eq(stat(q, &sb), 0);
	ck_assert_int_gt(sb.st_size, 0);
	free(p);
	free(q);
}
END_TEST

static int reaped(void *arg)
{
	int status;

	return waitpid(*(pid_t *)arg, &status, WNOHANG) == *(pid_t *)arg;
}

static void forget_kid(pid_t pid)
{
	for (int i = 0; i < nkids; i++)
		if (kids[i] == pid)
			kids[i] = kids[--nkids];
}

START_TEST(cli_purge)
{
	char *outside, *link;
	pid_t sup, svc;

	open_backend(_i);
	load_config(config_yaml);
	svc = record_everything();
	sysg_state_close(st);
	st = NULL;
	free(write_lines("run_stdout.log", 1, 3, 1));
	free(tu_write_file(state_dir, "config_hint", "/nowhere/sysg.yaml\n"));
	free(tu_write_file(state_dir, "control.sock", ""));
	outside = tu_write_file(tmpdir, "outside/keep.txt", "precious\n");
	link = sysg_path_join(state_dir, "link");
	ck_assert_int_eq(symlink(outside, link), 0);
	free(link);
	link = sysg_path_join(log_dir, "linkdir");
	ck_assert_int_eq(symlink(tmpdir, link), 0);
	free(link);
	sup = spawn_sleep();
	fake_supervisor(sup);

	SYSG("purge", "--state-backend", backends[_i]);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "supervisor is running"));
	ck_assert_int_eq(access(state_dir, F_OK), 0);

	rerun();
	SYSG("purge", "--force", "--state-backend", backends[_i]);
	ck_assert_msg(r.status == 0, "out: %s err: %s", r.out, r.err);
	ck_assert_int_ne(access(state_dir, F_OK), 0);
	/* the fake supervisor and the recorded service were stopped */
	ck_assert(tu_wait_for(reaped, &sup, 5000, 5));
	forget_kid(sup);
	ck_assert(tu_wait_for(reaped, &svc, 5000, 5));
	forget_kid(svc);
	/* nothing outside the state dir was touched */
	ck_assert_int_eq(access(outside, F_OK), 0);
	ck_assert_int_eq(access(tmpdir, F_OK), 0);
	free(outside);

	rerun();
	SYSG("purge");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "nothing to purge"));
}
END_TEST

START_TEST(purge_dir_refuses_home_and_root)
{
	char err[256];

	ck_assert_int_eq(sysg_purge_dir("/", NULL, err, sizeof(err)), -EPERM);
	setenv("HOME", state_dir, 1);
	ck_assert_int_eq(sysg_purge_dir(state_dir, NULL, err, sizeof(err)),
			 -EPERM);
	ck_assert_int_eq(access(state_dir, F_OK), 0);
}
END_TEST

static Suite *make_status_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("model");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, json_schema_every_status, 0, NBACKENDS);
	tcase_add_loop_test(tc, no_record_is_stopped_and_cron_needs_a_supervisor,
			    0, NBACKENDS);
	tcase_add_loop_test(tc, dead_pid_is_not_running, 0, NBACKENDS);
	tcase_add_loop_test(tc, reused_pid_is_not_running, 0, NBACKENDS);
	tcase_add_loop_test(tc, plans_need_a_supervisor, 0, NBACKENDS);
	tcase_add_loop_test(tc, unit_mode_kind, 0, NBACKENDS);
	tcase_add_loop_test(tc, all_shows_orphans, 0, NBACKENDS);
	tcase_add_loop_test(tc, service_filter_and_children, 0, NBACKENDS);
	tcase_add_loop_test(tc, json_round_trip, 0, NBACKENDS);
	tcase_add_test(tc, overall_health_rule);
	tcase_add_test(tc, json_text_is_jansson_text);
	tcase_add_test(tc, cpu_percent_text_is_jansson_text);
	tcase_add_test(tc, table_rendering);
	tcase_add_test(tc, formatting);
	tcase_add_loop_test(tc, inspect_offline, 0, NBACKENDS);
	suite_add_tcase(s, tc);

	tc = tcase_create("logs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, tail_last_lines);
	tcase_add_test(tc, tail_large_file_across_blocks);
	tcase_add_test(tc, clear_in_place_keeps_appending_writer);
	tcase_add_test(tc, log_services_and_sets);
	tcase_add_test(tc, follow_appends_truncation_rotation);
	suite_add_tcase(s, tc);

	tc = tcase_create("cli");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, cli_status, 0, NBACKENDS);
	tcase_add_test(tc, cli_status_without_config_or_state);
	tcase_add_test(tc, cli_inspect);
	tcase_add_test(tc, cli_logs);
	tcase_add_loop_test(tc, cli_purge, 0, NBACKENDS);
	tcase_add_test(tc, purge_dir_refuses_home_and_root);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_status_suite());
}
