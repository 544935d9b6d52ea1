/* check_hardening.c - attacks and faults, black box (issue 8): planted
 * symlinks and unsafe directories, services a crashed supervisor left
 * behind under an older config, FIFOs and secrets named as configs, crash
 * loops under `start --daemonize`, idle connections and a stopped
 * supervisor, control characters in names, small state-file faults, and
 * SIGKILLs of the supervisor at random points of start/reload/restart.
 * Needs $SYSG_BIN (set by make check). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemontest.h"
#include "engine/engine.h"
#include "proc/proc.h"
#include "testutil.h"

static int contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

static char *path_of(struct dt *t, const char *name)
{
	char *p = NULL;

	ck_assert_int_ne(asprintf(&p, "%s/%s", t->dir, name), -1);
	return p;
}

static void mkdir_mode(struct dt *t, const char *name, mode_t mode)
{
	char *p = path_of(t, name);

	ck_assert_int_eq(mkdir(p, 0700) == 0 || errno == EEXIST, 1);
	ck_assert_int_eq(chmod(p, mode), 0);
	free(p);
}

static void plant_symlink(struct dt *t, const char *target, const char *name)
{
	char *tp = path_of(t, target), *np = path_of(t, name);

	ck_assert_int_eq(symlink(tp, np), 0);
	free(tp);
	free(np);
}

/* Live processes carrying a marker of T's state directory. */
static int marked_alive(struct dt *t)
{
	char prefix[160];
	struct sysg_tree_match m = { .marker = prefix, .marker_prefix = 1 };
	struct sysg_pidset all = { 0 };
	int n;

	sysg_instance_prefix(t->state, "", prefix, sizeof(prefix));
	prefix[strlen(prefix) - 1] = '\0';
	ck_assert_int_eq(sysg_proctree_collect(&m, &all), 0);
	n = (int)all.n;
	sysg_pidset_free(&all);
	return n;
}

static int no_marked(void *arg)
{
	return marked_alive(arg) == 0;
}

/* ------------------------------------------- 1. symlinks, unsafe dirs */

static const char *echoing =
	"version: \"1\"\nservices:\n"
	"  a: { command: \"sh -c 'echo leaked; exec sleep 1000'\", "
	"ready_after: \"20ms\" }\n";

START_TEST(test_unsafe_dirs_and_symlinks)
{
	struct run_result r;
	struct dt t;
	char *s;

	dt_setup(&t, NULL, "%s", echoing);
	mkdir_mode(&t, "state", 0700);
	/* a logs/ others may write to is refused, saying how to fix it */
	mkdir_mode(&t, "state/logs", 0777);
	ck_assert_int_ne(dt_sysg(&t, &r, "start", "--daemonize", NULL), 0);
	ck_assert_msg(contains(r.err, "log directory") &&
		      contains(r.err, "chmod go-w"), "%s", r.err);
	run_result_free(&r);
	ck_assert(!dt_daemon_pid(&t) || dt_wait_gone(dt_daemon_pid(&t), 5000));
	mkdir_mode(&t, "state/logs", 0700);
	/* symlinks planted where sysg writes are never followed */
	dt_write(&t, "target", "secret\n");
	plant_symlink(&t, "target", "state/logs/a_stdout.log");
	plant_symlink(&t, "created", "state/logs/supervisor.log");
	ck_assert_int_ne(dt_sysg(&t, &r, "start", "--daemonize", NULL), 0);
	ck_assert_msg(contains(r.err, "symbolic link"), "%s", r.err);
	run_result_free(&r);
	ck_assert(!dt_exists(&t, "created"));
	s = path_of(&t, "state/logs/supervisor.log");
	ck_assert_int_eq(unlink(s), 0);
	free(s);
	dt_start_daemon(&t);
	ck_assert(dt_wait_status(&t, "a", "running", 5000));
	ck_assert(dt_wait_file(&t, "state/logs/supervisor.log",
			       "a symbolic link is in the way", 5000));
	s = dt_read(&t, "target");
	ck_assert_str_eq(s, "secret\n");
	free(s);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	/* the state directory itself */
	s = path_of(&t, "state");
	ck_assert_int_eq(chmod(s, 0777), 0);
	ck_assert_int_ne(dt_sysg(&t, &r, "status", NULL), 0);
	ck_assert_msg(contains(r.err, "state directory") &&
		      contains(r.err, "chmod go-w"), "%s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(chmod(s, 0700), 0);
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(s, 65534, 65534), 0);
		ck_assert_int_ne(dt_sysg(&t, &r, "start", "--daemonize", NULL),
				 0);
		ck_assert_msg(contains(r.err, "owned by uid 65534") &&
			      contains(r.err, "chown"), "%s", r.err);
		run_result_free(&r);
		ck_assert_int_eq(chown(s, 0, 0), 0);
	}
	free(s);
	dt_teardown(&t);
}
END_TEST

/* A plugin directory whose parent anyone may rename things in. */
START_TEST(test_plugin_dir_parent_checked)
{
	const char *build = getenv("SYSG_BUILDDIR");
	char *src = NULL, *dst, *buf;
	struct run_result r;
	size_t len = 0;
	struct dt t;

	ck_assert_ptr_nonnull(build);
	dt_setup(&t, NULL, "%s", echoing);
	mkdir_mode(&t, "ww", 0777);
	mkdir_mode(&t, "ww/p", 0755);
	ck_assert_int_ne(asprintf(&src, "%s/plugins/.libs/xml.so", build), -1);
	buf = tu_read_file(src, &len);
	ck_assert_ptr_nonnull(buf);
	dst = path_of(&t, "ww/p");
	free(tu_write_bytes(dst, "xml.so", buf, len));
	free(buf);
	ck_assert_int_ne(dt_sysg(&t, &r, "--plugin-dir", dst, "plugins", NULL),
			 -1);
	ck_assert_msg(contains(r.out, "world-writable") ||
		      contains(r.err, "world-writable"), "%s%s", r.out, r.err);
	run_result_free(&r);
	free(dst);
	free(src);
	dt_teardown(&t);
}
END_TEST

/* ----------------------------------- 2. services of an older config */

static const char *config_b =
	"version: \"1\"\nservices:\n"
	"  a: { command: \"sleep 3001\", ready_after: \"20ms\" }\n"
	"  extra: { command: \"sleep 3002\", ready_after: \"20ms\" }\n";
static const char *config_a =
	"version: \"1\"\nservices:\n"
	"  a: { command: \"sleep 3003\", ready_after: \"20ms\" }\n";

static void kill_supervisor(struct dt *t)
{
	pid_t sup = dt_daemon_pid(t);

	ck_assert_int_gt(sup, 0);
	ck_assert_int_eq(kill(sup, SIGKILL), 0);
	ck_assert(dt_wait_gone(sup, 5000));
}

START_TEST(test_older_config_never_leaks)
{
	struct dt t;
	pid_t a, extra;
	json_t *j, *u;

	dt_setup(&t, NULL, "%s", config_a);
	dt_write(&t, "b.yaml", config_b);
	ck_assert_int_eq(dt_sysg(&t, NULL, "start", "--daemonize", "--config",
				 "b.yaml", NULL), 0);
	a = dt_pid(&t, "a");
	extra = dt_pid(&t, "extra");
	ck_assert(a > 0 && extra > 0);
	dt_track(&t, a);
	dt_track(&t, extra);
	kill_supervisor(&t);
	/* the new config has no `extra`: it is stopped, never forgotten */
	ck_assert_int_eq(dt_sysg(&t, NULL, "start", "--daemonize", "--config",
				 "sysg.yaml", NULL), 0);
	ck_assert_msg(dt_wait_gone(extra, 15000), "extra still runs");
	j = dt_status(&t, 1);
	ck_assert_ptr_nonnull(j);
	u = dt_unit(j, "extra");
	ck_assert_ptr_nonnull(u);
	ck_assert_str_eq(json_string_value(json_object_get(u, "status")),
			 "stopped");
	/* a was adopted: status shows what really runs */
	u = dt_unit(j, "a");
	ck_assert_int_eq(json_integer_value(json_object_get(u, "pid")), a);
	ck_assert_str_eq(json_string_value(json_object_get(u, "command")),
			 "sleep 3001");
	json_decref(j);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	ck_assert(dt_wait_gone(a, 5000));
	ck_assert_int_eq(marked_alive(&t), 0);
	dt_teardown(&t);
}
END_TEST

/* Records lost too: `stop` still stops every process sysg started. */
START_TEST(test_stop_finds_unrecorded)
{
	struct dt t;
	pid_t extra;
	char *p;

	dt_setup(&t, NULL, "%s", config_a);
	dt_write(&t, "b.yaml", config_b);
	ck_assert_int_eq(dt_sysg(&t, NULL, "start", "--daemonize", "--config",
				 "b.yaml", NULL), 0);
	extra = dt_pid(&t, "extra");
	ck_assert_int_gt(extra, 0);
	dt_track(&t, extra);
	kill_supervisor(&t);
	p = path_of(&t, "state/state.xml");
	unlink(p);
	free(p);
	p = path_of(&t, "state/pid.xml");
	unlink(p);
	free(p);
	ck_assert_int_eq(dt_sysg(&t, NULL, "start", "--daemonize", "--config",
				 "sysg.yaml", NULL), 0);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	ck_assert(dt_wait_gone(extra, 15000));
	ck_assert_int_eq(marked_alive(&t), 0);
	/* and without any supervisor */
	ck_assert_int_eq(dt_sysg(&t, NULL, "start", "--daemonize", "--config",
				 "b.yaml", NULL), 0);
	extra = dt_pid(&t, "extra");
	dt_track(&t, extra);
	kill_supervisor(&t);
	p = path_of(&t, "state/state.xml");
	unlink(p);
	free(p);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", "--config", "sysg.yaml",
				 NULL), 0);
	ck_assert(dt_wait_gone(extra, 15000));
	ck_assert_int_eq(marked_alive(&t), 0);
	dt_teardown(&t);
}
END_TEST

/* ------------------------------------- 3. user-named paths, secrets */

static const char *one =
	"version: \"1\"\nservices:\n"
	"  a: { command: \"sleep 1000\", ready_after: \"20ms\" }\n";

static json_t *raw_restart(struct dt *t, const char *file)
{
	char *path = path_of(t, file), *body = NULL;
	int fd = dt_connect(t);
	json_t *j;

	ck_assert_int_ne(asprintf(&body, "{\"v\":1,\"cmd\":\"restart\",\"args\":"
				  "{\"config\":\"%s\"}}", path), -1);
	dt_send_frame(fd, body, strlen(body));
	j = dt_read_reply(fd);          /* within 5 s */
	close(fd);
	free(body);
	free(path);
	ck_assert_ptr_nonnull(j);
	return j;
}

START_TEST(test_config_fifo_and_secret)
{
	struct run_result r;
	struct dt t;
	char *p, *log;
	json_t *j;

	dt_setup(&t, NULL, "%s", one);
	dt_start_daemon(&t);
	p = path_of(&t, "fifo");
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	free(p);
	/* the CLI and the supervisor itself: refused, nothing blocks */
	ck_assert_int_eq(dt_sysg_within(&t, 10000, &r, "restart", "--config",
					"fifo", NULL), 2);
	ck_assert_msg(contains(r.err, "not a regular file"), "%s", r.err);
	run_result_free(&r);
	j = raw_restart(&t, "fifo");
	ck_assert_msg(contains(json_string_value(json_object_get(j, "error")),
			       "not a regular file"), "%s",
		      json_string_value(json_object_get(j, "error")));
	json_decref(j);
	ck_assert_int_eq(dt_sysg_within(&t, 10000, NULL, "status", NULL), 0);
	/* an env file that is a FIFO: refused, not read */
	dt_write(&t, "envfifo.yaml", "version: \"1\"\nservices:\n"
		 "  a: { command: \"sleep 1\", env: { file: fifo } }\n");
	ck_assert_int_eq(dt_sysg_within(&t, 10000, &r, "validate", "--config",
					"envfifo.yaml", NULL), 2);
	ck_assert_msg(contains(r.err, "not a regular file"), "%s", r.err);
	run_result_free(&r);
	/* a file that is not a config: its lines are never echoed back */
	dt_write(&t, "shadow", "root:$6$SECRETHASH:19000:0:99999:7:::\n"
		 "daemon:*:19000:0:99999:7:::\n");
	j = raw_restart(&t, "shadow");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "exit")), 2);
	p = json_dumps(j, 0);
	ck_assert_msg(!contains(p, "SECRETHASH") &&
		      contains(p, "sysg validate"), "%s", p);
	free(p);
	json_decref(j);
	log = dt_read(&t, "state/logs/supervisor.log");
	ck_assert_msg(!contains(log, "SECRETHASH"), "%s", log);
	free(log);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

/* ------------------------------------------ 4. crash loops and start */

static const char *const policies[] = {
	"restart_policy: always, backoff: 0",
	"restart_policy: on-failure, max_restarts: 3, backoff: 0",
	"restart_policy: never",
};

START_TEST(test_crash_loop_start_returns)
{
	struct run_result r;
	struct dt t;

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  ok: { command: \"sleep 1000\", ready_after: \"20ms\" }\n"
		 "  crash: { command: \"sh -c 'exit 3'\", ready_after: \"50ms\","
		 " %s }\n", policies[_i]);
	/* one rule for every policy: returns once each service is up or
	 * failed its first attempt; exit 1 naming the one that failed */
	ck_assert_int_eq(dt_sysg_within(&t, 30000, &r, "start", "--daemonize",
					NULL), 1);
	ck_assert_msg(contains(r.err, "service crash failed to start") &&
		      !contains(r.err, "service ok"), "%s", r.err);
	run_result_free(&r);
	dt_track(&t, dt_daemon_pid(&t));
	ck_assert(dt_wait_status(&t, "ok", "running", 5000));
	if (_i == 0)    /* backoff 0 still backs off, more each time */
		ck_assert(dt_wait_file(&t, "state/logs/supervisor.log",
				       "Restarting service crash in 20 ms",
				       10000));
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

/* `always` on a one-shot that exits 0 at once: each run is a clean run
 * (exited 0 counts as ready), so the start succeeds and it keeps being
 * restarted until max_restarts (3 => up to 4 runs) */
START_TEST(test_always_clean_exit_start_succeeds)
{
	struct run_result r;
	struct dt t;
	char *runs;
	int n = 0;

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  tick: { command: \"sh -c 'echo r >> runs'\","
		 " restart_policy: always, backoff: 50ms, max_restarts: 3 }\n");
	ck_assert_int_eq(dt_sysg_within(&t, 30000, &r, "start", "--daemonize",
					NULL), 0);
	ck_assert_msg(!contains(r.err, "failed to start"), "%s", r.err);
	run_result_free(&r);
	dt_track(&t, dt_daemon_pid(&t));
	ck_assert(dt_wait_status(&t, "tick", "failed", 10000));
	runs = dt_read(&t, "runs");
	for (const char *p = runs; p && *p; p++)
		n += *p == '\n';
	free(runs);
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

/* ---------------------------------- 5. idle clients, a stopped daemon */

START_TEST(test_idle_connections_and_stopped_supervisor)
{
	pid_t hogs[24], sup;
	struct run_result r;
	int fds[8];
	struct dt t;

	dt_setup(&t, NULL, "%s", one);
	sup = dt_start_daemon(&t);
	/* many processes fill the table with connections that send nothing
	 * (or two bytes of a header) */
	for (int i = 0; i < 24; i++) {
		hogs[i] = fork();
		ck_assert_int_ge(hogs[i], 0);
		if (hogs[i] == 0) {
			/* unchecked: the server may refuse some */
			for (int k = 0; k < 6; k++) {
				struct sockaddr_un a = { .sun_family = AF_UNIX };
				int fd = socket(AF_UNIX, SOCK_STREAM, 0);

				snprintf(a.sun_path, sizeof(a.sun_path),
					 "%s/control.sock", t.state);
				if (connect(fd, (struct sockaddr *)&a,
					    sizeof(a)) == 0 && (k & 1))
					send(fd, "\0\0", 2, MSG_NOSIGNAL);
			}
			pause();
			_exit(0);
		}
	}
	for (int i = 0; i < 8; i++)
		fds[i] = dt_connect(&t);
	ck_assert_int_eq(dt_sysg_within(&t, 10000, &r, "status", NULL), 0);
	ck_assert_msg(!contains(r.err, "offline") && contains(r.out, "running"),
		      "%s%s", r.out, r.err);
	run_result_free(&r);
	for (int i = 0; i < 24; i++) {
		kill(hogs[i], SIGKILL);
		waitpid(hogs[i], NULL, 0);
	}
	for (int i = 0; i < 8; i++)
		close(fds[i]);
	/* a stopped supervisor: status falls back to the files, saying so */
	ck_assert_int_eq(kill(sup, SIGSTOP), 0);
	ck_assert_int_eq(dt_sysg_within(&t, 20000, &r, "status", NULL), 0);
	kill(sup, SIGCONT);
	ck_assert_msg(contains(r.err, "offline view") && contains(r.out, "a "),
		      "%s%s", r.out, r.err);
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

/* ----------------------------------------- 7. control chars in names */

START_TEST(test_control_characters_in_names)
{
	struct run_result r;
	struct dt t;

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  \"a\\u0000b\": { command: \"sleep 1\" }\n"
		 "  a: { command: \"sleep 2\" }\n"
		 "  web:\n    command: \"sleep 3\"\n    hooks:\n"
		 "      \"on_\\tstart\": { success: \"true\" }\n"
		 "    env: { vars: { \"X\\u001bY\": \"1\" } }\n");
	ck_assert_int_eq(dt_sysg(&t, &r, "validate", NULL), 2);
	ck_assert_msg(contains(r.err, "sysg.yaml:3:3: error: services: a name "
			       "may not contain control characters (found "
			       "byte 0x00)") &&
		      contains(r.err, "sysg.yaml:8:7: error: services.web.hooks:"),
		      "%s", r.err);
	ck_assert_msg(contains(r.err, "0x1b"), "%s", r.err);
	run_result_free(&r);
	dt_teardown(&t);
}
END_TEST

/* ----------------------------------------------------- 8. small ones */

START_TEST(test_state_file_is_a_directory)
{
	struct run_result r;
	struct dt t;

	dt_setup(&t, NULL, "%s", one);
	mkdir_mode(&t, "state", 0700);
	mkdir_mode(&t, "state/state.xml", 0700);
	ck_assert_int_ne(dt_sysg(&t, &r, "status", NULL), 0);
	ck_assert_msg(contains(r.err, "state.xml: it is a directory"), "%s",
		      r.err);
	run_result_free(&r);
	/* the supervisor says why it cannot record */
	dt_start_daemon(&t);
	ck_assert(dt_wait_file(&t, "state/logs/supervisor.log",
			       "cannot record the state of a in ", 5000));
	ck_assert(dt_wait_file(&t, "state/logs/supervisor.log",
			       "Is a directory", 5000));
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

/* ------------------------------------------------------- fault test */

static const char *fault_b =
	"version: \"1\"\nservices:\n"
	"  db: { command: \"sleep 4001\", ready_after: \"30ms\" }\n"
	"  api: { command: \"sh -c 'sleep 4002 & exec sleep 4003'\", "
	"depends_on: [db], ready_after: \"30ms\" }\n"
	"  extra: { command: \"sleep 4004\", ready_after: \"30ms\" }\n";
static const char *fault_a =
	"version: \"1\"\nservices:\n"
	"  db: { command: \"sleep 4001\", ready_after: \"30ms\" }\n"
	"  api: { command: \"sh -c 'sleep 4005 & exec sleep 4006'\", "
	"depends_on: [db], ready_after: \"30ms\" }\n";

/* Run sysg ARGV... in the background; SIGKILL the supervisor after
 * DELAY_MS; reap the CLI. */
static void kill_during(struct dt *t, int delay_ms, const char *const *args)
{
	const char *argv[16];
	int n = 0;
	pid_t cli, sup;

	argv[n++] = getenv("SYSG_BIN");
	for (; *args; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	cli = fork();
	ck_assert_int_ge(cli, 0);
	if (cli == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		if (chdir(t->dir) < 0)
			_exit(127);
		for (int i = 0; t->env[i]; i++)
			putenv(t->env[i]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	poll(NULL, 0, delay_ms);
	sup = dt_daemon_pid(t);
	if (sup > 0 && kill(sup, SIGKILL) == 0)
		dt_wait_gone(sup, 5000);
	waitpid(cli, NULL, 0);
}

/* Every marked process is one its service's status describes: no
 * duplicate (two trees of one service), no process of a service whose
 * main pid is something else or that is not running, and the command
 * shown is the one the process runs. */
static void check_truthful(struct dt *t)
{
	char prefix[160], name[SYSG_NAME_MAX], cmd[4096];
	struct sysg_tree_match m = { .marker = prefix, .marker_prefix = 1 };
	struct sysg_pidset all = { 0 };
	json_t *j = dt_status(t, 1), *units, *u;
	size_t i;

	ck_assert_ptr_nonnull(j);
	units = json_object_get(j, "units");
	json_array_foreach(units, i, u) {
		json_int_t pid = json_integer_value(json_object_get(u, "pid"));
		const char *st = json_string_value(json_object_get(u, "status"));

		if (pid <= 0)
			continue;
		ck_assert_msg(sysg_proc_is_alive((pid_t)pid, 0),
			      "%s: pid %lld shown but gone", json_string_value(
				      json_object_get(u, "name")), (long long)pid);
		ck_assert_msg(!strcmp(st, "running") || !strcmp(st, "starting"),
			      "status %s with a pid", st);
		ck_assert_int_eq(sysg_proc_cmdline((pid_t)pid, cmd, sizeof(cmd)),
				 0);
		ck_assert_msg(contains(json_string_value(json_object_get(
				u, "command")), strrchr(cmd, ' ') + 1),
			      "%s runs '%s', status says '%s'",
			      json_string_value(json_object_get(u, "name")), cmd,
			      json_string_value(json_object_get(u, "command")));
		dt_track(t, (pid_t)pid);
	}
	sysg_instance_prefix(t->state, "", prefix, sizeof(prefix));
	prefix[strlen(prefix) - 1] = '\0';
	ck_assert_int_eq(sysg_proctree_collect(&m, &all), 0);
	for (size_t k = 0; k < all.n; k++) {
		pid_t p = all.v[k].pid;
		json_t *owner;
		struct sysg_proc_stat ps;

		if (sysg_instance_service(t->state, p, name, sizeof(name)) < 0)
			continue;
		dt_track(t, p);
		owner = dt_unit(j, name);
		if (!owner || json_integer_value(json_object_get(owner, "pid"))
		    <= 0) {
			/* being stopped (a service no longer configured) */
			ck_assert_msg(dt_wait_gone(p, 12000), "pid %d of %s "
				      "runs, status says %s", (int)p, name,
				      owner ? json_string_value(json_object_get(
					      owner, "status")) : "nothing");
			continue;
		}
		/* one tree per service: its session is the main pid's */
		ck_assert_int_eq(sysg_proc_stat_read(p, &ps), 0);
		ck_assert_msg(ps.sid == (pid_t)json_integer_value(
				      json_object_get(owner, "pid")),
			      "pid %d of %s is in session %d, main is %lld "
			      "(duplicate?)", (int)p, name, (int)ps.sid,
			      (long long)json_integer_value(json_object_get(
				      owner, "pid")));
	}
	sysg_pidset_free(&all);
	json_decref(j);
}

START_TEST(test_sigkill_fault_injection)
{
	static const char *const start_b[] = { "start", "--daemonize",
		"--config", "b.yaml", NULL };
	static const char *const start_a[] = { "start", "--daemonize",
		"--config", "sysg.yaml", NULL };
	static const char *const reload_a[] = { "restart", "--config",
		"sysg.yaml", NULL };
	static const char *const reload_b[] = { "restart", "--config",
		"b.yaml", NULL };
	static const char *const restart[] = { "restart", NULL };
	static const char *const *const ops[] = {
		start_b, start_a, reload_a, reload_b, restart,
	};
	unsigned seed = (unsigned)getpid();
	struct dt t;

	dt_setup(&t, NULL, "%s", fault_a);
	dt_write(&t, "b.yaml", fault_b);
	fprintf(stderr, "fault injection: seed %u\n", seed);
	for (int round = 0; round < 20; round++) {
		const char *const *op = ops[rand_r(&seed) % 5];
		int delay = (int)(rand_r(&seed) % 150);
		const char *next = rand_r(&seed) % 2 ? "b.yaml" : "sysg.yaml";
		pid_t sup = dt_daemon_pid(&t);

		if (op == start_a || op == start_b) {
			/* a start after a crash: it adopts what runs */
			if (sup > 0 && kill(sup, SIGKILL) == 0)
				dt_wait_gone(sup, 5000);
		} else if (!sup || !sysg_proc_is_alive(sup, 0)) {
			/* reloads and restarts need a supervisor */
			dt_sysg(&t, NULL, "start", "--daemonize", NULL);
		}
		kill_during(&t, delay, op);
		/* the next supervisor (either config) re-adopts; then the
		 * truth is told */
		ck_assert_int_le(dt_sysg(&t, NULL, "start", "--daemonize",
					 "--config", next, NULL), 1);
		ck_assert(dt_wait_status(&t, "api", "running", 10000));
		check_truthful(&t);
	}
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	ck_assert_msg(tu_wait_for(no_marked, &t, 10000, 20),
		      "processes left after stop");
	dt_teardown(&t);
}
END_TEST

static Suite *make_hardening_suite(void)
{
	Suite *s = suite_create("hardening");
	TCase *tc = tcase_create("attacks");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_test(tc, test_unsafe_dirs_and_symlinks);
	tcase_add_test(tc, test_plugin_dir_parent_checked);
	tcase_add_test(tc, test_older_config_never_leaks);
	tcase_add_test(tc, test_stop_finds_unrecorded);
	tcase_add_test(tc, test_config_fifo_and_secret);
	tcase_add_test(tc, test_always_clean_exit_start_succeeds);
	tcase_add_loop_test(tc, test_crash_loop_start_returns, 0, 3);
	tcase_add_test(tc, test_idle_connections_and_stopped_supervisor);
	tcase_add_test(tc, test_control_characters_in_names);
	tcase_add_test(tc, test_state_file_is_a_directory);
	tcase_add_test(tc, test_sigkill_fault_injection);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_hardening_suite());
}
