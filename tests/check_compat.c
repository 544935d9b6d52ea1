/* check_compat.c - systemg 0.32 compatibility (SPEC 11, issue 11 items
 * 1-6) and values that never become code (issue 8 defect 6):
 *  - every config of tests/compat/ (together they use every key of
 *    systemg 0.32's config) is validated, started, checked in
 *    `status --json` and stopped;
 *  - hostile values in env files run nothing, in direct, shell, nested
 *    shell and hook commands;
 *  - sysg.pid holds the bare pid: `kill $(cat sysg.pid)` stops sysg;
 *  - unknown keys warn, --strict refuses them at validate and start;
 *  - `metrics:` drives the sampler (interval, retention, memory cap) and
 *    evicted samples spill to bounded segment files;
 *  - inspect --no-color.
 * Needs $SYSG_BIN and $SYSG_SRCDIR (set by make check). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemontest.h"
#include "views/views.h"
#include "testutil.h"

static int contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

/* ------------------------------------------------ tests/compat configs */

struct expect {
	const char *unit, *status;
};

struct compat_case {
	const char *file;
	int sys;                        /* needs --sys (and root) */
	int start_fails;                /* start exits 1 */
	const char *output;             /* in the first unit's stdout log */
	struct expect units[5];
};

static const struct compat_case cases[] = {
	{ "01-minimal.yaml", 0, 0, NULL, { { "web", "running" } } },
	{ "02-env.yaml", 0, 0, "hello from-vars root on 18081 x2",
	  { { "api", "running" }, { "worker", "running" } } },
	{ "03-dependencies.yaml", 0, 0, NULL,
	  { { "db", "running" }, { "cache", "running" }, { "api", "running" },
	    { "migrate", "exited" } } },
	{ "04-hooks.yaml", 0, 0, NULL, { { "web", "running" } } },
	{ "05-cron.yaml", 0, 0, NULL,
	  { { "report", "scheduled" }, { "web", "running" } } },
	{ "06-skip.yaml", 0, 0, NULL,
	  { { "always_skipped", "skipped" }, { "skipped_by_command", "skipped" },
	    { "not_skipped", "running" }, { "kept_by_command", "running" } } },
	{ "07-deployment.yaml", 0, 0, NULL,
	  { { "api", "running" }, { "batch", "running" } } },
	{ "08-blue-green.yaml", 0, 0, NULL, { { "app", "running" } } },
	{ "09-spawn.yaml", 0, 0, NULL,
	  { { "orchestrator", "running" }, { "static_one", "running" } } },
	{ "10-metrics.yaml", 0, 0, NULL, { { "web", "running" } } },
	{ "11-privileged.yaml", 1, 0, NULL, { { "daemon", "running" } } },
	{ "12-unknown-keys.yaml", 0, 0, NULL, { { "web", "running" } } },
	{ "13-confinement.yaml", 1, 0, NULL, { { "sandboxed", "running" } } },
};

#define NCASES ((int)(sizeof(cases) / sizeof(cases[0])))

static char *compat_path(const char *name)
{
	const char *src = getenv("SYSG_SRCDIR");
	char *p = NULL;

	ck_assert_msg(src != NULL, "SYSG_SRCDIR is not set");
	ck_assert_int_ge(asprintf(&p, "%s/tests/compat/%s", src, name), 0);
	return p;
}

/* Copy the helper files of tests/compat (env files) into the fixture. */
static void copy_aux_files(struct dt *t)
{
	char *dir = compat_path("");
	DIR *d = opendir(dir);
	struct dirent *e;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		char *p, *text;

		if (e->d_name[0] == '.' || (len > 5 &&
		    !strcmp(e->d_name + len - 5, ".yaml")))
			continue;
		p = compat_path(e->d_name);
		text = tu_read_file(p, NULL);
		ck_assert_ptr_nonnull(text);
		dt_write(t, e->d_name, text);
		free(text);
		free(p);
	}
	closedir(d);
	free(dir);
}

START_TEST(test_compat_config)
{
	const struct compat_case *c = &cases[_i];
	char *path = compat_path(c->file), *yaml = tu_read_file(path, NULL);
	struct run_result r;
	struct dt t;
	int rc;

	ck_assert_ptr_nonnull(yaml);
	dt_setup(&t, NULL, "%s", yaml);
	copy_aux_files(&t);
	rc = c->sys ? dt_sysg(&t, &r, "validate", "--sys", NULL) :
		      dt_sysg(&t, &r, "validate", NULL);
	if (c->start_fails || (c->sys && geteuid() != 0))
		/* validate refuses what start would, with start's message */
		ck_assert_msg(rc == 2 && (contains(r.err, "not supported by this "
			      "build yet") || contains(r.err, "requires root")), "%s: validate: %d %s%s", c->file, rc,
			      r.out, r.err);
	else
		ck_assert_msg(rc == 0, "%s: validate: %s%s", c->file, r.out,
			      r.err);
	run_result_free(&r);
	if (c->sys && geteuid() != 0) {
		/* privileged keys need root: a clear refusal */
		ck_assert_int_eq(dt_sysg(&t, &r, "start", "--daemonize", NULL), 2);
		ck_assert_msg(contains(r.err, "requires root"), "%s",
			      r.err);
		run_result_free(&r);
		goto out;
	}
	rc = c->sys ? dt_sysg(&t, &r, "start", "--daemonize", "--sys", NULL) :
		      dt_sysg(&t, &r, "start", "--daemonize", NULL);
	ck_assert_msg(rc == (c->start_fails ? 1 : 0), "%s: start: %d\n%s%s",
		      c->file, rc, r.out, r.err);
	run_result_free(&r);
	for (int i = 0; i < 5 && c->units[i].unit; i++) {
		char buf[32];

		ck_assert_msg(dt_wait_status(&t, c->units[i].unit,
					     c->units[i].status, 5000),
			      "%s: %s is %s, want %s", c->file, c->units[i].unit,
			      dt_status_of(&t, c->units[i].unit, buf, sizeof(buf)),
			      c->units[i].status);
	}
	if (c->output) {
		char log[128];

		snprintf(log, sizeof(log), "state/logs/%s_stdout.log",
			 c->units[0].unit);
		ck_assert_msg(dt_wait_file(&t, log, c->output, 3000),
			      "%s: no '%s' in %s", c->file, c->output, log);
	}
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	if (c->sys) {   /* 13-confinement's limits.cgroup.root, now empty */
		static const char *const roots[] = {
			"/sys/fs/cgroup/memory/systemg",
			"/sys/fs/cgroup/cpu/systemg",
		};

		for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
			rmdir(roots[i]);
	}
out:
	dt_teardown(&t);
	free(yaml);
	free(path);
}
END_TEST

/* ----------------------------------------------- values are never code */

static const char *hostile_yaml =
	"version: \"1\"\n"
	"services:\n"
	"  direct:\n"
	"    env: { file: hostile.env }\n"
	"    command: \"printf '%s|%s|%s|%s|%s\\\\n' \\\"$SUBST\\\" \\\"${SEMI}\\\" \\\"$QUOTE\\\" \\\"$BACKTICK\\\" $EMPTY $TWO\"\n"
	"    ready_after: \"20ms\"\n"
	"  nested:\n"
	"    env: { file: hostile.env }\n"
	"    command: \"sh -c 'echo \\\"[$SUBST][$SEMI][$QUOTE]\\\"; exec sleep 30'\"\n"
	"    ready_after: \"20ms\"\n"
	"    hooks:\n"
	"      on_start:\n"
	"        success: \"echo '$SUBST' \\\"$SEMI\\\" $QUOTE > hook.out\"\n"
	"    health_check: { command: \"test -n \\\"$SEMI\\\" && test -n \\\"$BACKTICK\\\"\", interval: 50ms }\n"
	"  shell:\n"
	"    env: { file: hostile.env }\n"
	"    command: \"echo $SUBST $SEMI && exec sleep 30\"\n"
	"    ready_after: \"20ms\"\n"
	"    skip: \"test \\\"$SEMI\\\" = skip\"\n";

static const char *hostile_env =
	"SUBST='$(touch pwned-subst)'\n"
	"SEMI='a; rm -rf ~/keep; touch pwned-semi'\n"
	"QUOTE=\"x' ; touch pwned-quote; '\"\n"
	"BACKTICK='`touch pwned-tick`'\n"
	"EMPTY=\n"
	"TWO='two words'\n";

static int no_pwned(struct dt *t)
{
	static const char *const files[] = { "pwned-subst", "pwned-semi",
		"pwned-quote", "pwned-tick", NULL };

	for (int i = 0; files[i]; i++)
		if (dt_exists(t, files[i]))
			return 0;
	return dt_exists(t, "keep/precious");
}

START_TEST(test_hostile_values_run_nothing)
{
	struct dt t;

	dt_setup(&t, NULL, "%s", hostile_yaml);
	dt_write(&t, "hostile.env", hostile_env);
	{
		char *keep = NULL;

		ck_assert_int_ge(asprintf(&keep, "%s/keep", t.dir), 0);
		ck_assert_int_eq(mkdir(keep, 0700), 0);
		free(keep);
		dt_write(&t, "keep/precious", "x");
	}
	dt_start_daemon(&t);
	ck_assert(dt_wait_status(&t, "direct", "exited", 5000));
	ck_assert(dt_wait_status(&t, "nested", "running", 5000));
	ck_assert(dt_wait_status(&t, "shell", "running", 5000));
	/* each value arrived whole, as data */
	{
		char *log = NULL;
		int ok = dt_wait_file(&t, "state/logs/direct_stdout.log",
			"$(touch pwned-subst)|a; rm -rf ~/keep; touch pwned-semi|x' ; touch pwned-quote; '|`touch pwned-tick`|two\nwords|",
			3000);

		log = dt_read(&t, "state/logs/direct_stdout.log");
		ck_assert_msg(ok, "direct: %s", log ? log : "(none)");
		free(log);
	}
	ck_assert(dt_wait_file(&t, "state/logs/nested_stdout.log",
			       "[$(touch pwned-subst)][a; rm -rf ~/keep; touch pwned-semi][x' ; touch pwned-quote; ']",
			       3000));
	ck_assert(dt_wait_file(&t, "state/logs/shell_stdout.log",
			       "$(touch pwned-subst) a; rm -rf ~/keep; touch pwned-semi",
			       3000));
	ck_assert(dt_wait_file(&t, "hook.out",
			       "${SUBST} a; rm -rf ~/keep; touch pwned-semi x' ; touch pwned-quote; '",
			       3000));
	ck_assert_msg(no_pwned(&t), "a value ran as code");
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	ck_assert(no_pwned(&t));
	dt_teardown(&t);
}
END_TEST

/* An unset variable stops the start with its position. */
START_TEST(test_unset_variable_refused)
{
	struct run_result r;
	struct dt t;

	unsetenv("COMPAT_UNSET_VAR");
	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  web: { command: \"sleep ${COMPAT_UNSET_VAR}\" }\n");
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "--daemonize", NULL), 2);
	ck_assert_msg(contains(r.err, "sysg.yaml:3:26: error: services.web.command: unset variable 'COMPAT_UNSET_VAR'"),
		      "%s", r.err);
	run_result_free(&r);
	ck_assert(!dt_exists(&t, "state/sysg.pid"));
	dt_teardown(&t);
}
END_TEST

/* ----------------------------------------------------------- sysg.pid */

START_TEST(test_pidfile_is_bare)
{
	struct run_result r;
	char *text, *end;
	pid_t sup, web;
	struct dt t;

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  web: { command: \"sleep 30\", ready_after: \"20ms\" }\n");
	sup = dt_start_daemon(&t);
	text = dt_read(&t, "state/sysg.pid");
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(strtol(text, &end, 10), sup);
	ck_assert_str_eq(end, "\n");            /* the pid alone */
	free(text);
	text = dt_read(&t, "state/sysg.pid.start");
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(strtol(text, &end, 10), sup);
	ck_assert(*end == ' ' && strtoull(end, NULL, 10) > 0);
	free(text);
	ck_assert(dt_wait_status(&t, "web", "running", 3000));
	web = dt_pid(&t, "web");
	/* the shell idiom and systemd's PIDFile= */
	{
		char *argv[] = { "/bin/sh", "-c", "kill $(cat state/sysg.pid)",
				 NULL };

		ck_assert_int_eq(run_capture(argv, t.dir, t.env, 30000, &r), 0);
		ck_assert_int_eq(r.status, 0);
		run_result_free(&r);
	}
	ck_assert(dt_wait_gone(sup, 10000));
	/* a supervisor stopped that way stops its services too */
	ck_assert(dt_wait_gone(web, 10000));
	ck_assert(!dt_exists(&t, "state/sysg.pid"));
	ck_assert(!dt_exists(&t, "state/sysg.pid.start"));
	dt_teardown(&t);
}
END_TEST

/* The start time in sysg.pid.start still catches a reused pid. */
START_TEST(test_pidfile_stale_start_time)
{
	char text[64], *p = NULL;
	pid_t live = fork();
	struct dt t;

	if (live == 0) {
		pause();
		_exit(0);
	}
	ck_assert_int_gt(live, 0);
	dt_setup(&t, NULL, "version: \"1\"\nservices:\n  web: { command: x }\n");
	ck_assert_int_eq(mkdir(t.state, 0700), 0);
	/* a live process, but it did not start at tick 1: not sysg */
	snprintf(text, sizeof(text), "%d\n", (int)live);
	dt_write(&t, "state/sysg.pid", text);
	snprintf(text, sizeof(text), "%d 1\n", (int)live);
	dt_write(&t, "state/sysg.pid.start", text);
	ck_assert_int_eq(sysg_supervisor_alive(t.state, NULL), 0);
	/* without the start file, a live pid counts */
	ck_assert_int_ge(asprintf(&p, "%s/sysg.pid.start", t.state), 0);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(sysg_supervisor_alive(t.state, NULL), 1);
	free(p);
	ck_assert_int_ge(asprintf(&p, "%s/sysg.pid", t.state), 0);
	ck_assert_int_eq(unlink(p), 0);
	free(p);
	kill(live, SIGKILL);
	waitpid(live, NULL, 0);
	dt_teardown(&t);
}
END_TEST

/* ------------------------------------------------ unknown keys, strict */

START_TEST(test_unknown_keys_strict)
{
	struct run_result r;
	struct dt t;

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  web:\n    command: \"sleep 30\"\n    work_dir: /srv\n"
		 "    ready_after: \"20ms\"\n");
	ck_assert_int_eq(dt_sysg(&t, &r, "validate", "--strict", NULL), 2);
	ck_assert_msg(contains(r.err, "sysg.yaml:5:5: error: services.web.work_dir: unknown key 'work_dir'"),
		      "%s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "--daemonize", "--strict",
				 NULL), 2);
	run_result_free(&r);
	ck_assert(!dt_exists(&t, "state/sysg.pid"));
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "--daemonize", NULL), 0);
	ck_assert_msg(contains(r.err, "sysg.yaml:5:5: warning: services.web.work_dir: unknown key, ignored"),
		      "%s", r.err);
	run_result_free(&r);
	ck_assert(dt_wait_status(&t, "web", "running", 3000));
	ck_assert_int_eq(dt_sysg(&t, &r, "restart", "--strict", NULL), 2);
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

/* --------------------------------------------------------- metrics */

static int enough_samples(struct dt *t, int want, json_t **doc)
{
	struct run_result r;
	json_error_t je;
	int n = 0;

	*doc = NULL;
	if (dt_sysg(t, &r, "inspect", "-s", "web", "--json", NULL) == 0)
		*doc = json_loads(r.out, 0, &je);
	run_result_free(&r);
	if (*doc)
		n = (int)json_array_size(json_object_get(*doc, "samples"));
	return n >= want;
}

START_TEST(test_metrics_interval_honoured)
{
	json_t *doc = NULL;
	struct dt t;
	int ok = 0;

	dt_setup(&t, NULL, "version: \"1\"\n"
		 "metrics: { sample_interval_secs: 1, retention_minutes: 1 }\n"
		 "services:\n  web: { command: \"sleep 30\", ready_after: \"20ms\" }\n");
	dt_start_daemon(&t);
	/* sysg's default is one sample per 5 s: three within 9 s are the
	 * configured interval's (the default takes 10 s for three) */
	for (int64_t end = tu_now_ms() + 9000; !ok && tu_now_ms() < end;) {
		json_decref(doc);
		ok = enough_samples(&t, 3, &doc);
		if (!ok)
			usleep(100000);
	}
	ck_assert_msg(ok, "fewer than 3 samples in 9 s");
	ck_assert_int_eq(json_integer_value(json_object_get(doc,
				"sample_interval_ms")), 1000);
	json_decref(doc);
	/* a reload's new settings reach the sampler: here, a spill */
	ck_assert(!dt_exists(&t, "spill"));
	dt_write(&t, "sysg.yaml", "version: \"1\"\n"
		 "metrics: { sample_interval_secs: 1, retention_minutes: 1,\n"
		 "           spillover_path: spill, spillover_max_bytes: 4096 }\n"
		 "services:\n  web: { command: \"sleep 30\", ready_after: \"20ms\" }\n");
	ck_assert_int_eq(dt_sysg(&t, NULL, "restart", "--config", "sysg.yaml",
				 NULL), 0);
	for (int64_t end = tu_now_ms() + TU_DEADLINE_MS;
	     !dt_exists(&t, "spill") && tu_now_ms() < end;)
		usleep(100000);
	ck_assert(dt_exists(&t, "spill"));
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

struct evicted {
	int64_t at[64];
	int n;
};

static void on_evict(void *arg, const char *name,
		     const struct sysg_sample *smp)
{
	struct evicted *e = arg;

	ck_assert_str_eq(name, "x");
	if (e->n < 64)
		e->at[e->n++] = smp->at_ms;
}

START_TEST(test_samples_limits)
{
	struct sysg_samples *s;
	struct sysg_sample *v;
	struct evicted ev = { .n = 0 };
	size_t n;

	/* retention in samples: the oldest leave, to the hook, in order */
	ck_assert_int_eq(sysg_samples_new(&s, 0), 0);
	sysg_samples_limit(s, 5, 0, 0);
	sysg_samples_on_evict(s, on_evict, &ev);
	for (int i = 1; i <= 8; i++)
		ck_assert_int_eq(sysg_samples_take(s, "x", NULL, 0, i * 1000,
						   i * 1000), 0);
	ck_assert_int_eq(sysg_samples_get(s, "x", &v, &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(v[0].at_ms, 4000);
	ck_assert_int_eq(v[4].at_ms, 8000);
	free(v);
	ck_assert_int_eq(ev.n, 3);
	ck_assert_int_eq(ev.at[0], 1000);
	ck_assert_int_eq(ev.at[2], 3000);
	sysg_samples_free(s);

	/* retention in time */
	ck_assert_int_eq(sysg_samples_new(&s, 0), 0);
	sysg_samples_limit(s, 1000, 3000, 0);
	for (int i = 0; i <= 10; i++)
		sysg_samples_take(s, "x", NULL, 0, 1 + i * 1000, i * 1000);
	ck_assert_int_eq(sysg_samples_get(s, "x", &v, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(v[0].at_ms, 7000);
	free(v);
	sysg_samples_free(s);

	/* the memory cap, shared by the units */
	ck_assert_int_eq(sysg_samples_new(&s, 0), 0);
	sysg_samples_limit(s, 1000, 0, 10 * 16);
	for (int i = 1; i <= 50; i++) {
		sysg_samples_take(s, "a", NULL, 0, i, i);
		sysg_samples_take(s, "b", NULL, 0, i, i);
	}
	ck_assert_uint_le(sysg_samples_bytes(s), 10 * 16);
	ck_assert_int_eq(sysg_samples_get(s, "a", &v, &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(v[4].at_ms, 50);
	free(v);
	sysg_samples_free(s);
}
END_TEST

START_TEST(test_spill_bounded)
{
	char *dir = tu_mkdtemp("spill"), err[256];
	struct sysg_spill *sp;
	struct sysg_sample smp = { 0, 1.5, 4096, 2 }, *v;
	size_t n;
	int files = 0;
	DIR *d;
	struct dirent *e;

	ck_assert_int_eq(sysg_spill_open(&sp, dir, 1000, 200, err,
					 sizeof(err)), 0);
	for (int i = 1; i <= 200; i++) {
		smp.at_ms = 1764650000000LL + i;
		ck_assert_int_eq(sysg_spill_write(sp, i % 2 ? "web" : "db.0",
						  &smp), 0);
		ck_assert_int_le(sysg_spill_bytes(sp), 1000);
	}
	sysg_spill_close(sp);
	d = opendir(dir);
	while ((e = readdir(d)) != NULL)
		files += strstr(e->d_name, ".seg") != NULL;
	closedir(d);
	ck_assert_int_ge(files, 4);             /* segments of <= 200 bytes */
	/* the newest samples are kept, in order */
	ck_assert_int_eq(sysg_spill_read(dir, "web", &v, &n), 0);
	ck_assert_uint_gt(n, 3);
	ck_assert_int_eq(v[n - 1].at_ms, 1764650000000LL + 199);
	for (size_t i = 1; i < n; i++)
		ck_assert_int_lt(v[i - 1].at_ms, v[i].at_ms);
	ck_assert_int_eq(v[0].nprocs, 2);
	ck_assert_int_eq(v[0].rss_bytes, 4096);
	free(v);
	/* reopened, the bound counts what is on disk */
	ck_assert_int_eq(sysg_spill_open(&sp, dir, 1000, 200, err,
					 sizeof(err)), 0);
	ck_assert_int_gt(sysg_spill_bytes(sp), 500);
	ck_assert_int_le(sysg_spill_bytes(sp), 1000);
	sysg_spill_close(sp);
	ck_assert_int_eq(tu_rm_rf(dir), 0);
	free(dir);
}
END_TEST

/* ------------------------------------------------- inspect --no-color */

START_TEST(test_inspect_no_color)
{
	const char *bin = getenv("SYSG_BIN");
	struct run_result r;
	char cmd[4096];
	struct dt t;

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  web: { command: \"sleep 30\", ready_after: \"20ms\" }\n");
	dt_start_daemon(&t);
	ck_assert(dt_wait_status(&t, "web", "running", 3000));
	/* on a terminal (script(1) gives one) the status word is coloured */
	for (int nc = 0; nc < 2; nc++) {
		char *argv[] = { "/usr/bin/script", "-qec", cmd, "/dev/null",
				 NULL };

		snprintf(cmd, sizeof(cmd), "'%s' inspect -s web%s", bin,
			 nc ? " --no-color" : "");
		if (access(argv[0], X_OK) != 0)
			break;
		ck_assert_int_eq(run_capture(argv, t.dir, t.env, 10000, &r), 0);
		ck_assert_msg(contains(r.out, "status:"), "%s", r.out);
		ck_assert_msg(contains(r.out, "\033[") == !nc, "%d: %s", nc, r.out);
		run_result_free(&r);
	}
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

/* isolation's confinement keys (systemg 0.32 only warns): refused by
 * name without --sys, from validate as from start; validated and applied
 * with --sys as root (tests/check_privs.c reads each effect back). */
START_TEST(test_isolation_not_supported)
{
	struct run_result r;
	struct dt t;

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  s:\n    command: \"sleep 30\"\n"
		 "    isolation: { private_tmp: true, seccomp: default }\n");
	if (geteuid() != 0) {   /* SPEC 10: without root, a clear error */
		ck_assert_int_eq(dt_sysg(&t, &r, "validate", NULL), 2);
		ck_assert_msg(contains(r.err, "services.s.isolation: requires "
				       "root"), "%s", r.err);
		run_result_free(&r);
		ck_assert_int_eq(dt_sysg(&t, &r, "start", "--daemonize", NULL),
				 2);
		ck_assert_msg(contains(r.err, "sysg.yaml:5:5: error: services.s."
				       "isolation: requires root"), "%s",
			      r.err);
		run_result_free(&r);
	} else {                /* root is enough, --sys or not */
		ck_assert_int_eq(dt_sysg(&t, &r, "validate", NULL), 0);
		run_result_free(&r);
	}
	if (geteuid() == 0) {   /* privileged mode needs root */
		char buf[32];

		ck_assert_int_eq(dt_sysg(&t, &r, "validate", "--sys", NULL), 0);
		run_result_free(&r);
		ck_assert_int_eq(dt_sysg(&t, &r, "start", "--daemonize", "--sys",
					 NULL), 0);
		run_result_free(&r);
		ck_assert_msg(dt_wait_status(&t, "s", "running", 3000), "%s",
			      dt_status_of(&t, "s", buf, sizeof(buf)));
	}
	dt_sysg(&t, NULL, "stop", NULL);
	dt_teardown(&t);
}
END_TEST

/* systemg's command line: `start` takes the command without "--", and
 * --log-level its aliases. A unit's words are not expanded again: they
 * are what the user's shell made of the command line. */
START_TEST(test_systemg_command_line)
{
	struct run_result r;
	struct dt t;

	unsetenv("COMPAT_UNSET_VAR");
	dt_setup(&t, NULL, "version: \"1\"\nservices:\n  web: { command: x }\n");
	ck_assert_int_eq(dt_sysg(&t, &r, "--log-level", "information", "start",
				 "--name", "adhoc", "echo", "cost: $5",
				 "$COMPAT_UNSET_VAR", "${HOME}", "$$x", NULL), 0);
	run_result_free(&r);
	ck_assert(dt_wait_file(&t, "state/logs/adhoc_stdout.log",
			       "cost: $5 $COMPAT_UNSET_VAR ${HOME} $$x\n", 3000));
	ck_assert_int_eq(dt_sysg(&t, &r, "status", "--json", "--log-level",
				 "err", NULL), 0);
	ck_assert_msg(contains(r.out, "\"name\": \"adhoc\""), "%s", r.out);
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, &r, "status", "--log-level", "loud", NULL),
			 2);
	run_result_free(&r);
	dt_teardown(&t);
}
END_TEST

static Suite *make_compat_suite(void)
{
	Suite *s = suite_create("compat");
	TCase *tc = tcase_create("configs");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_loop_test(tc, test_compat_config, 0, NCASES);
	suite_add_tcase(s, tc);
	tc = tcase_create("black-box");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_test(tc, test_hostile_values_run_nothing);
	tcase_add_test(tc, test_unset_variable_refused);
	tcase_add_test(tc, test_pidfile_is_bare);
	tcase_add_test(tc, test_pidfile_stale_start_time);
	tcase_add_test(tc, test_unknown_keys_strict);
	tcase_add_test(tc, test_metrics_interval_honoured);
	tcase_add_test(tc, test_inspect_no_color);
	tcase_add_test(tc, test_systemg_command_line);
	tcase_add_test(tc, test_isolation_not_supported);
	suite_add_tcase(s, tc);
	tc = tcase_create("sampler");
	tcase_add_test(tc, test_samples_limits);
	tcase_add_test(tc, test_spill_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_compat_suite());
}
