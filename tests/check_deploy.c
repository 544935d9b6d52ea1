/* check_deploy.c - `sysg deploy` black box: real supervisors, real HTTP
 * services (a small python3 server on free loopback ports), every failure
 * path of SPEC 6 and 11, bad plugins, on both state backends where it
 * matters. Needs $SYSG_BIN (set by make check). */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "daemontest.h"
#include "proc/proc.h"
#include "testutil.h"

static const char *const backends[] = { NULL, "sqlite" };

/* A tiny HTTP server: answers "ver=$VER port=$PORT" to anything; a port
 * that is taken makes it fail with "Address already in use". */
static const char *server_py =
	"import os, socket, threading\n"
	"port = int(os.environ['PORT']); ver = os.environ.get('VER', '1')\n"
	"if os.environ.get('DIE_AFTER'):\n"
	"    threading.Timer(float(os.environ['DIE_AFTER']),"
	" lambda: os._exit(1)).start()\n"
	"s = socket.socket()\n"
	"s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
	"s.bind(('127.0.0.1', port)); s.listen(64)\n"
	"while True:\n"
	"    c, _ = s.accept()\n"
	"    try:\n"
	"        c.recv(4096)\n"
	"        b = ('ver=%s port=%d\\n' % (ver, port)).encode()\n"
	"        c.sendall(b'HTTP/1.0 200 OK\\r\\nContent-Length: %d\\r\\n"
	"Connection: close\\r\\n\\r\\n' % len(b) + b)\n"
	"    except OSError:\n"
	"        pass\n"
	"    c.close()\n";

static const char *python(void)
{
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" :
	       "python3";
}

/* Poll until PORT answers with a body containing NEEDLE. */
struct http_wait {
	int port;
	const char *needle;
};

static int http_has(void *arg)
{
	struct http_wait *w = arg;
	char *b = tu_http_get(w->port);
	int ok = b && strstr(b, w->needle);

	free(b);
	return ok;
}

static int wait_http(int port, const char *needle, int timeout_ms)
{
	struct http_wait w = { port, needle };

	return tu_wait_for(http_has, &w, timeout_ms, 50);
}

static int contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

struct pid_wait {
	struct dt *t;
	pid_t old;
};

/* web runs, with another pid than OLD. */
static int web_pid_changed(void *arg)
{
	struct pid_wait *w = arg;
	pid_t now = dt_pid(w->t, "web");

	return now > 0 && now != w->old;
}

/* PORT no longer answers. */
static int http_down(void *arg)
{
	char *b = tu_http_get(*(int *)arg);

	free(b);
	return b == NULL;
}

/* The hooks file tells of a restart: started, then the new one started
 * and the old one stopped, in either order. */
static int restart_hooks(void *arg)
{
	char *s = dt_read(arg, "hooks");
	int ok = s && (strstr(s, "start\nstart\nstop\n") ||
		       strstr(s, "start\nstop\nstart\n"));

	free(s);
	return ok;
}

/* `deploy` with ARGS; R keeps the output. */
#define DEPLOY(t, r, ...) dt_sysg(t, r, "deploy", "--service", "web", \
				  __VA_ARGS__, NULL)

/* The deploy history as JSON (borrowed records in *OUT's "deploys"). */
static json_t *history(struct dt *t)
{
	struct run_result r;
	json_t *j;

	ck_assert_int_eq(dt_sysg(t, &r, "deploy", "--history", "--json", NULL), 0);
	j = json_loads(r.out, 0, NULL);
	ck_assert_msg(j != NULL, "history --json: %s", r.out);
	run_result_free(&r);
	return j;
}

static const char *newest(json_t *h, const char *key)
{
	return json_string_value(json_object_get(
		json_array_get(json_object_get(h, "deploys"), 0), key));
}

/* The history after a deploy rolled back by min_healthy_time and the
 * follow-up deploy: newest a success, the one before rolled_back. */
static void rolled_back_then_followed(struct dt *t)
{
	json_t *h = history(t);

	ck_assert_str_eq(newest(h, "outcome"), "success");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
		json_object_get(h, "deploys"), 1), "outcome")), "rolled_back");
	json_decref(h);
}

/* ------------------------------------------------------------ success */

static const char *ready_after = "100ms";

/* A service definition with PORT and VER in its env. */
static void web(struct dt *t, const char *backend, int port, const char *ver,
		const char *deployment, int setup)
{
	char *yaml;

	ck_assert(asprintf(&yaml,
		"version: \"1\"\nservices:\n"
		"  web:\n"
		"    command: \"%s srv.py\"\n"
		"    ready_after: \"%s\"\n"
		"    stop_timeout: \"2s\"\n"
		"    env:\n      vars:\n        VER: \"%s\"\n        PORT: \"%d\"\n"
		"%s", python(), ready_after, ver, port, deployment) > 0);
	if (setup) {
		dt_setup(t, backend, "%s", yaml);
		dt_write(t, "srv.py", server_py);
	} else {
		dt_write(t, "sysg.yaml", yaml);
	}
	free(yaml);
}

START_TEST(test_deploy_blue_green_history_rollback)
{
	struct dt t;
	struct run_result r;
	int p0 = tu_free_port(), p1 = tu_free_port();
	char dep[1024], rolled[64];
	pid_t first, second;
	json_t *h;
	char *up;

	snprintf(dep, sizeof(dep),
		 "    deployment:\n      strategy: blue_green\n"
		 "      blue_green:\n        env_var: PORT\n"
		 "        slots: [\"%d\", \"%d\"]\n"
		 "        candidate_health_check_url: \"http://127.0.0.1:{slot}/\"\n"
		 "        switch_command: \"echo {candidate_slot} > upstream\"\n",
		 p0, p1);
	web(&t, backends[_i], p0, "1", dep, 1);
	dt_start_daemon(&t);
	ck_assert(wait_http(p0, "ver=1", 5000));
	first = dt_pid(&t, "web");

	/* dry run: the plan, placeholders expanded, nothing changes */
	ck_assert_int_eq(DEPLOY(&t, &r, "--dry-run"), 0);
	ck_assert_msg(contains(r.out, "switch traffic") &&
		      contains(r.out, "> upstream"), "%s", r.out);
	ck_assert(!contains(r.out, "{candidate_slot}"));
	ck_assert_msg(contains(r.out, "slots: "), "%s", r.out);
	run_result_free(&r);
	ck_assert_int_eq(dt_pid(&t, "web"), first);
	ck_assert(!dt_exists(&t, "upstream"));

	/* version 2 goes to the other slot */
	web(&t, NULL, p0, "2", dep, 0);
	ck_assert_int_eq(DEPLOY(&t, &r, "--message", "v2"), 0);
	ck_assert_msg(contains(r.out, "[1/") && contains(r.out, " s)"), "%s",
		      r.out);
	run_result_free(&r);
	ck_assert(wait_http(p1, "ver=2", 3000));
	ck_assert(dt_wait_gone(first, 5000));
	second = dt_pid(&t, "web");
	ck_assert(second > 0 && second != first);
	up = dt_read(&t, "upstream");
	ck_assert_int_eq(atoi(up), p1);
	free(up);

	h = history(&t);
	ck_assert_str_eq(newest(h, "outcome"), "success");
	ck_assert_str_eq(newest(h, "message"), "v2");
	ck_assert_str_eq(newest(h, "strategy"), "blue_green");
	ck_assert_int_eq(strlen(newest(h, "revision")), 12);
	ck_assert_int_eq(atoi(newest(h, "slot_after")), p1);
	json_decref(h);

	/* version 3, then roll back to version 2's revision */
	web(&t, NULL, p0, "3", dep, 0);
	ck_assert_int_eq(DEPLOY(&t, NULL, "--message", "v3"), 0);
	ck_assert(wait_http(p0, "ver=3", 3000));
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "--rollback", "-s", "web",
				 NULL), 0);
	ck_assert_msg(contains(r.out, "rolling back to"), "%s", r.out);
	run_result_free(&r);
	ck_assert(wait_http(p1, "ver=2", 3000));
	h = history(&t);
	ck_assert_str_eq(newest(h, "outcome"), "success");
	snprintf(rolled, sizeof(rolled), "%s", newest(h, "revision"));
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
		json_object_get(h, "deploys"), 2), "revision")), rolled);
	ck_assert_int_eq(json_array_size(json_object_get(h, "deploys")), 3);
	/* --to: version 3's record */
	snprintf(rolled, sizeof(rolled), "%s", json_string_value(json_object_get(
		json_array_get(json_object_get(h, "deploys"), 1), "id")));
	json_decref(h);
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "--rollback", "-s", "web",
				 "--to", rolled, NULL), 0);
	run_result_free(&r);
	ck_assert(wait_http(p0, "ver=3", 3000));
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "--rollback", "-s", "web",
				 "--to", "no-such-id", NULL), 2);
	ck_assert_msg(contains(r.err, "no deploy no-such-id"), "%s", r.err);
	run_result_free(&r);
	/* the supervisor never mapped a strategy plugin */
	{
		char path[64], *maps;

		snprintf(path, sizeof(path), "/proc/%d/maps",
			 (int)dt_daemon_pid(&t));
		maps = tu_read_file(path, NULL);
		ck_assert_ptr_nonnull(maps);
		ck_assert(contains(maps, "/sysg"));     /* its own binary */
		ck_assert_msg(!contains(maps, "blue_green.so") &&
			      !contains(maps, "rolling.so") &&
			      !contains(maps, "immediate.so"), "%s", maps);
		free(maps);
	}
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_rolling_restart_and_detach_follow)
{
	struct dt t;
	struct run_result r;
	int port = tu_free_port(), port2 = tu_free_port();
	char dep[512], id[128];
	pid_t first, second;

	snprintf(dep, sizeof(dep), "    deployment:\n      strategy: rolling\n"
		 "      grace_period: \"300ms\"\n"
		 "    hooks:\n"
		 "      on_start: { success: { command: \"echo start >> hooks\" } }\n"
		 "      on_stop: { success: { command: \"echo stop >> hooks\" } }\n");
	web(&t, NULL, port, "1", dep, 1);
	dt_start_daemon(&t);
	ck_assert(wait_http(port, "ver=1", 5000));
	first = dt_pid(&t, "web");
	/* a new port (rolling: the new one starts beside the old one) */
	web(&t, NULL, port2, "2", dep, 0);
	ck_assert_int_eq(DEPLOY(&t, &r, "--detach"), 0);
	snprintf(id, sizeof(id), "%s", r.out);
	id[strcspn(id, "\n")] = '\0';
	run_result_free(&r);
	ck_assert(strlen(id) > 5);
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "--follow", id, NULL), 0);
	ck_assert_msg(contains(r.out, "success"), "%s", r.out);
	run_result_free(&r);
	ck_assert(wait_http(port2, "ver=2", 3000));
	ck_assert(dt_wait_gone(first, 5000));
	second = dt_pid(&t, "web");
	/* the hooks fire as for a restart: the new one started, the old
	 * one stopped */
	ck_assert(tu_wait_for(restart_hooks, &t, 3000, 10));
	/* restart -s goes through the strategy too */
	ck_assert_int_eq(dt_sysg(&t, &r, "restart", "-s", "web", NULL), 0);
	ck_assert_msg(contains(r.out, "stop the old instance") &&
		      contains(r.out, "web: running (pid"), "%s", r.out);
	run_result_free(&r);
	ck_assert(dt_wait_gone(second, 5000));
	ck_assert(dt_pid(&t, "web") > 0);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_min_healthy_time_rolls_back)
{
	struct dt t;
	struct run_result r;
	int pa = tu_free_port(), pb = tu_free_port(), pc = tu_free_port();
	const char *dep = "    deployment:\n      strategy: rolling\n"
			  "      min_healthy_time: \"2s\"\n";
	char *y, *p;

	web(&t, backends[_i], pa, "1", dep, 1);
	dt_start_daemon(&t);
	ck_assert(wait_http(pa, "ver=1", 5000));
	web(&t, NULL, pb, "2", dep, 0);
	ck_assert_int_eq(DEPLOY(&t, &r, "--message", "v2"), 0);
	ck_assert_msg(contains(r.out, "stayed healthy"), "%s", r.out);
	run_result_free(&r);
	/* version 3 dies a moment after it was promoted */
	web(&t, NULL, pc, "3", dep, 0);
	y = dt_read(&t, "sysg.yaml");
	p = strstr(y, "        PORT:");
	ck_assert_ptr_nonnull(p);
	{
		char *nv;

		ck_assert(asprintf(&nv, "%.*s        DIE_AFTER: \"0.8\"\n%s",
				   (int)(p - y), y, p) > 0);
		dt_write(&t, "sysg.yaml", nv);
		free(nv);
	}
	free(y);
	ck_assert_int_eq(DEPLOY(&t, &r, "--message", "v3"), 1);
	ck_assert_msg(contains(r.out, "failed within min_healthy_time") &&
		      contains(r.err, "rolled_back"), "%s%s", r.out, r.err);
	run_result_free(&r);
	/* the automatic rollback brings version 2 back */
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "--follow", "-s", "web", NULL),
			 0);
	run_result_free(&r);
	ck_assert(wait_http(pb, "ver=2", 5000));
	rolled_back_then_followed(&t);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

/* blue_green without a deployment health check: the promoted instance is
 * watched through candidate_health_check_url on its slot; alive but no
 * longer answering is a failure, rolled back. */
static void deaf_web(struct dt *t, int p0, int p1, const char *ver, int setup)
{
	char *yaml;

	ck_assert(asprintf(&yaml,
		"version: \"1\"\nservices:\n  web:\n"
		"    command: \"sh -c 'test $$VER = 2 && { timeout 1 %s srv.py; "
		"exec sleep 100; }; exec %s srv.py'\"\n"
		"    ready_after: \"100ms\"\n    stop_timeout: \"2s\"\n"
		"    env: { vars: { VER: \"%s\", PORT: \"%d\" } }\n"
		"    deployment:\n      strategy: blue_green\n"
		"      min_healthy_time: \"2s\"\n      blue_green:\n"
		"        slots: [\"%d\", \"%d\"]\n"
		"        candidate_health_check_url: \"http://127.0.0.1:{slot}/\"\n"
		"        switch_command: \"true\"\n",
		python(), python(), ver, p0, p0, p1) > 0);
	if (setup) {
		dt_setup(t, NULL, "%s", yaml);
		dt_write(t, "srv.py", server_py);
	} else {
		dt_write(t, "sysg.yaml", yaml);
	}
	free(yaml);
}

START_TEST(test_min_healthy_time_blue_green_candidate_url)
{
	struct dt t;
	struct run_result r;
	int p0 = tu_free_port(), p1 = tu_free_port();

	deaf_web(&t, p0, p1, "1", 1);
	dt_start_daemon(&t);
	ck_assert(wait_http(p0, "ver=1", 5000));
	ck_assert_int_eq(DEPLOY(&t, &r, "--message", "v1"), 0);
	run_result_free(&r);
	ck_assert(wait_http(p1, "ver=1", 5000));
	deaf_web(&t, p0, p1, "2", 0);
	ck_assert_int_eq(DEPLOY(&t, &r, "--message", "v2"), 1);
	ck_assert_msg(contains(r.out, "failed within min_healthy_time: its "
			       "health check failed"), "%s%s", r.out, r.err);
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "--follow", "-s", "web", NULL),
			 0);
	run_result_free(&r);
	/* v2 went to p0; the rollback brings v1 back to the other slot */
	ck_assert(wait_http(p1, "ver=1", 5000));
	rolled_back_then_followed(&t);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

/* ---------------------------------------------------- failure paths */

/* Deploy must fail (exit 1) and leave web's process PID serving PORT. */
static void fails_untouched(struct dt *t, int port, pid_t pid,
			    const char *needle)
{
	struct run_result r;

	ck_assert_int_eq(DEPLOY(t, &r, "--message", "bad"), 1);
	ck_assert_msg(contains(r.out, needle) || contains(r.err, needle),
		      "wanted '%s' in:\n%s%s", needle, r.out, r.err);
	run_result_free(&r);
	ck_assert_int_eq(dt_pid(t, "web"), pid);
	ck_assert(wait_http(port, "ver=1", 2000));
}

START_TEST(test_failures_before_the_switch)
{
	struct dt t;
	struct run_result r;
	int port = tu_free_port(), port2 = tu_free_port(), dead = tu_free_port();
	char dep[1024];
	pid_t pid;
	json_t *h;

	web(&t, backends[_i], port, "1", "", 1);
	dt_start_daemon(&t);
	ck_assert(wait_http(port, "ver=1", 5000));
	pid = dt_pid(&t, "web");

	/* pre_start fails: its exit code is kept; rolling leaves the old */
	snprintf(dep, sizeof(dep), "    deployment:\n      strategy: rolling\n"
		 "      pre_start: \"exit 7\"\n");
	web(&t, NULL, port2, "2", dep, 0);
	fails_untouched(&t, port, pid, "exit code 7");
	h = history(&t);
	ck_assert_str_eq(newest(h, "outcome"), "failed");
	ck_assert(contains(newest(h, "reason"), "exit code 7"));
	json_decref(h);

	/* the new instance cannot start */
	{
		char *y;

		ck_assert(asprintf(&y, "version: \"1\"\nservices:\n  web:\n"
			"    command: \"./no-such-program\"\n"
			"    env:\n      vars:\n        VER: \"2\"\n"
			"    deployment:\n      strategy: rolling\n") > 0);
		dt_write(&t, "sysg.yaml", y);
		free(y);
	}
	fails_untouched(&t, port, pid, "failed");

	/* never healthy */
	snprintf(dep, sizeof(dep), "    deployment:\n      strategy: rolling\n"
		 "      health_check: { url: \"http://127.0.0.1:%d/\", "
		 "timeout: \"300ms\", retries: 2 }\n", dead);
	web(&t, NULL, port2, "2", dep, 0);
	fails_untouched(&t, port, pid, "did not become healthy");
	ck_assert(tu_http_get(port2) == NULL);     /* the candidate is gone */

	/* --strict: an unknown key (ignored with a warning otherwise) is an
	 * error; nothing changes */
	web(&t, NULL, port2, "2", "    work_dir: \".\"\n", 0);
	ck_assert_int_eq(DEPLOY(&t, &r, "--strict"), 2);
	ck_assert_msg(contains(r.err, "work_dir"), "%s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(dt_pid(&t, "web"), pid);

	/* a bad config: refused, nothing changes */
	dt_write(&t, "sysg.yaml", "version: \"1\"\nservices:\n  web: { bogus: 1 }\n");
	ck_assert_int_eq(DEPLOY(&t, &r, "--message", "x"), 2);
	ck_assert_msg(contains(r.err, "sysg.yaml"), "%s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(dt_pid(&t, "web"), pid);

	/* immediate: pre_start failure after the old one was stopped */
	web(&t, NULL, port, "2", "    deployment:\n      strategy: immediate\n"
	    "      pre_start: \"exit 9\"\n", 0);
	ck_assert_int_eq(DEPLOY(&t, &r, "--message", "x"), 1);
	run_result_free(&r);
	ck_assert(dt_wait_gone(pid, 3000));
	{
		json_t *st = dt_status(&t, 0), *u = dt_unit(st, "web");

		ck_assert_str_eq(json_string_value(json_object_get(u, "status")),
				 "failed");
		ck_assert_int_eq(json_integer_value(json_object_get(
			json_object_get(u, "last_exit"), "code")), 9);
		json_decref(st);
	}
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

/* SPEC 6, 8: a blue/green service's plain start runs on the active slot
 * its state file names (state_path here), index 0 without one; the
 * slot's value goes into env_var whatever the service's vars say. */
START_TEST(test_blue_green_plain_start_on_active_slot)
{
	struct dt t;
	int p0 = tu_free_port(), p1 = tu_free_port();
	char dep[1024];

	snprintf(dep, sizeof(dep),
		 "    deployment:\n      strategy: blue_green\n"
		 "      blue_green:\n        slots: [\"%d\", \"%d\"]\n"
		 "        switch_command: \"true\"\n"
		 "        state_path: \"slot.xml\"\n", p0, p1);
	web(&t, NULL, p0, "1", dep, 1);
	dt_write(&t, "slot.xml", "<?xml version=\"1.0\"?>\n"
		 "<active_slot_index>1</active_slot_index>\n");
	dt_start_daemon(&t);
	ck_assert(wait_http(p1, "ver=1", 5000));
	dt_sysg(&t, NULL, "stop", NULL);
	dt_write(&t, "slot.xml", "<?xml version=\"1.0\"?>\n"
		 "<active_slot_index>0</active_slot_index>\n");
	dt_start_daemon(&t);
	ck_assert(wait_http(p0, "ver=1", 5000));
	dt_sysg(&t, NULL, "stop", NULL);
	dt_teardown(&t);
}
END_TEST

/* ... and a command sysg execs itself, whose $PORT the vars set when the
 * file was loaded, is expanded again with the slot. */
START_TEST(test_blue_green_plain_start_expands_slot)
{
	struct dt t;

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  bg:\n    command: \"echo port=$PORT\"\n"
		 "    restart_policy: never\n"
		 "    env: { vars: { PORT: \"8100\" } }\n"
		 "    deployment:\n      strategy: blue_green\n"
		 "      blue_green:\n        slots: [\"8100\", \"8101\"]\n"
		 "        switch_command: \"true\"\n");
	dt_write(&t, "state/blue_green_bg.xml", "<?xml version=\"1.0\"?>\n"
		 "<active_slot_index>1</active_slot_index>\n");
	dt_start_daemon(&t);
	ck_assert(dt_wait_file(&t, "state/logs/bg_stdout.log", "port=8101\n",
			       5000));
	dt_sysg(&t, NULL, "stop", NULL);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_port_conflict_falls_back)
{
	struct dt t;
	struct run_result r;
	int port = tu_free_port();
	pid_t pid;

	/* the same port: the new instance cannot bind it; readiness by
	 * ready_after, long enough to see it exit */
	ready_after = "2s";
	web(&t, NULL, port, "1", "", 1);
	dt_start_daemon(&t);
	ck_assert(wait_http(port, "ver=1", 5000));
	pid = dt_pid(&t, "web");
	web(&t, NULL, port, "2", "    deployment:\n      strategy: rolling\n", 0);
	ready_after = "100ms";
	ck_assert_msg(DEPLOY(&t, &r, "--message", "same port") == 0, "%s%s",
		      r.out, r.err);
	ck_assert_msg(contains(r.out, "port conflict: fall back to immediate"),
		      "%s", r.out);
	run_result_free(&r);
	ck_assert(dt_wait_gone(pid, 3000));
	ck_assert(wait_http(port, "ver=2", 5000));
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

/* The deployment section of a blue/green web with SWITCH and VERIFY
 * (may be NULL). */
static void bg_dep(char *dep, size_t len, int p0, int p1, const char *sw,
		   const char *verify)
{
	snprintf(dep, len,
		 "    deployment:\n      strategy: blue_green\n"
		 "      blue_green:\n        env_var: PORT\n"
		 "        slots: [\"%d\", \"%d\"]\n"
		 "        candidate_health_check_url: \"http://127.0.0.1:{slot}/\"\n"
		 "        switch_command: '%s'\n%s%s%s",
		 p0, p1, sw, verify ? "        switch_verify_url: \"" : "",
		 verify ? verify : "", verify ? "\"\n" : "");
}

START_TEST(test_blue_green_switch_failures)
{
	struct dt t;
	struct run_result r;
	int p0 = tu_free_port(), p1 = tu_free_port(), dead = tu_free_port();
	char verify[128];
	pid_t pid;
	json_t *h, *st;
	char *up;

	char dep[2048];

	bg_dep(dep, sizeof(dep), p0, p1, "echo {candidate_slot} > upstream",
	       NULL);
	web(&t, NULL, p0, "1", dep, 1);
	dt_start_daemon(&t);
	ck_assert(wait_http(p0, "ver=1", 5000));
	pid = dt_pid(&t, "web");

	/* the switch command fails: the old slot keeps serving */
	bg_dep(dep, sizeof(dep), p0, p1, "exit 3", NULL);
	web(&t, NULL, p0, "2", dep, 0);
	fails_untouched(&t, p0, pid, "switch_command exited with code 3");
	ck_assert(tu_http_get(p1) == NULL);

	/* verify fails after the switch: switched back, rolled_back */
	snprintf(verify, sizeof(verify), "http://127.0.0.1:%d/", dead);
	bg_dep(dep, sizeof(dep), p0, p1, "echo {candidate_slot} > upstream",
	       verify);
	web(&t, NULL, p0, "2", dep, 0);
	fails_untouched(&t, p0, pid, "rolled_back");
	up = dt_read(&t, "upstream");
	ck_assert_int_eq(atoi(up), p0);
	free(up);
	h = history(&t);
	ck_assert_str_eq(newest(h, "outcome"), "rolled_back");
	json_decref(h);

	/* the switch back fails too: failed, degraded, the line says where
	 * traffic may be */
	bg_dep(dep, sizeof(dep), p0, p1, "test ! -e switched && touch switched "
	       "&& echo {candidate_slot} > upstream", verify);
	web(&t, NULL, p0, "2", dep, 0);
	ck_assert_int_eq(DEPLOY(&t, &r, "--message", "x"), 1);
	{
		char want[128];

		snprintf(want, sizeof(want), "failed: switch-back failed, "
			 "traffic may point at %d", p1);
		ck_assert_msg(contains(r.err, want), "%s", r.err);
	}
	run_result_free(&r);
	st = dt_status(&t, 0);
	ck_assert_str_eq(json_string_value(json_object_get(dt_unit(st, "web"),
							   "health")),
			 "unhealthy");
	ck_assert_str_ne(json_string_value(json_object_get(st, "overall_health")),
			 "healthy");
	json_decref(st);
	ck_assert_int_eq(dt_pid(&t, "web"), pid);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

/* ------------------------------------------------- lock and operator */

START_TEST(test_lock_abort)
{
	struct dt t;
	struct run_result r;
	int port = tu_free_port(), port2 = tu_free_port();
	char id[128];
	pid_t pid;
	json_t *h;

	web(&t, NULL, port, "1", "", 1);
	dt_start_daemon(&t);
	ck_assert(wait_http(port, "ver=1", 5000));
	pid = dt_pid(&t, "web");
	web(&t, NULL, port2, "2", "    deployment:\n      strategy: rolling\n"
	    "      grace_period: \"30s\"\n", 0);
	ck_assert_int_eq(DEPLOY(&t, &r, "--detach"), 0);
	snprintf(id, sizeof(id), "%s", r.out);
	id[strcspn(id, "\n")] = '\0';
	run_result_free(&r);
	/* a second deploy, a stop, a restart: refused, naming the deploy */
	ck_assert_int_eq(DEPLOY(&t, &r, "--message", "second"), 1);
	ck_assert_msg(contains(r.err, id) && contains(r.err, "by uid"), "%s",
		      r.err);
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, &r, "stop", "-s", "web", NULL), 1);
	ck_assert_msg(contains(r.err, "being deployed"), "%s", r.err);
	run_result_free(&r);
	/* status answers meanwhile */
	ck_assert(wait_http(port2, "ver=2", 5000));
	ck_assert_int_eq(dt_pid(&t, "web"), pid);
	/* abort: the candidate stops, the old one serves */
	ck_assert_int_eq(dt_sysg(&t, NULL, "deploy", "--abort", "-s", "web",
				 NULL), 0);
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "--follow", id, NULL), 1);
	ck_assert_msg(contains(r.err, "aborted"), "%s", r.err);
	run_result_free(&r);
	h = history(&t);
	ck_assert_str_eq(newest(h, "outcome"), "aborted");
	json_decref(h);
	ck_assert_int_eq(dt_pid(&t, "web"), pid);
	ck_assert(tu_wait_for(http_down, &port2, 3000, 50));
	ck_assert(wait_http(port, "ver=1", 2000));
	/* the lock went with the deploy */
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", "-s", "web", NULL), 0);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_supervisor_killed_mid_deploy)
{
	struct dt t;
	struct run_result r;
	int port = tu_free_port(), port2 = tu_free_port();
	pid_t pid, daemon;
	json_t *h;

	web(&t, backends[_i], port, "1", "", 1);
	daemon = dt_start_daemon(&t);
	ck_assert(wait_http(port, "ver=1", 5000));
	pid = dt_pid(&t, "web");
	web(&t, NULL, port2, "2", "    deployment:\n      strategy: rolling\n"
	    "      grace_period: \"30s\"\n", 0);
	ck_assert_int_eq(DEPLOY(&t, &r, "--detach"), 0);
	run_result_free(&r);
	ck_assert(wait_http(port2, "ver=2", 5000));
	ck_assert_int_eq(kill(daemon, SIGKILL), 0);
	ck_assert(dt_wait_gone(daemon, 3000));
	/* the next supervisor keeps the instance that was current, stops
	 * the candidate and records the deploy as aborted */
	dt_start_daemon(&t);
	ck_assert_int_eq(dt_pid(&t, "web"), pid);
	ck_assert(tu_wait_for(http_down, &port2, 5000, 50));
	h = history(&t);
	ck_assert_str_eq(newest(h, "outcome"), "aborted");
	json_decref(h);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

/* ------------------------------------------------------ bad plugins */

static char *fixture_plugins(void)
{
	const char *bin = getenv("SYSG_BIN");
	char *dir, *slash;

	ck_assert_ptr_nonnull(bin);
	ck_assert(asprintf(&dir, "%s", bin) > 0);
	slash = strrchr(dir, '/');
	*slash = '\0';
	ck_assert(asprintf(&slash, "%s/tests/plugins/.libs", dir) > 0);
	free(dir);
	return slash;
}

START_TEST(test_bad_plugins_and_input)
{
	struct dt t;
	struct run_result r;
	int port = tu_free_port();
	char *dir = fixture_plugins(), wdir[4200], cmd[20000];
	pid_t pid;

	web(&t, NULL, port, "1", "    deployment:\n      timeout: \"1s\"\n", 1);
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "-s", "web", NULL), 3);
	ck_assert(contains(r.err, "no supervisor running"));
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, &r, "--plugin-dir", dir, "start",
				 "--daemonize", NULL), 0);
	run_result_free(&r);
	dt_track(&t, dt_daemon_pid(&t));
	ck_assert(wait_http(port, "ver=1", 5000));
	pid = dt_pid(&t, "web");

	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "-s", "nope", NULL), 2);
	ck_assert(contains(r.err, "unknown service 'nope'"));
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", NULL), 2);
	run_result_free(&r);

	ck_assert_int_eq(DEPLOY(&t, &r, "--strategy", "segv"), 1);
	ck_assert_msg(contains(r.err, "strategy crashed (signal 11)"), "%s",
		      r.err);
	run_result_free(&r);
	ck_assert_int_eq(DEPLOY(&t, &r, "--strategy", "hang"), 1);
	ck_assert_msg(contains(r.err, "timed out after 1s"), "%s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(DEPLOY(&t, &r, "--strategy", "no_such_strategy"), 1);
	ck_assert_msg(contains(r.err, "no_such_strategy"), "%s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(DEPLOY(&t, &r, "--strategy", "badabi"), 1);
	ck_assert_msg(contains(r.err, "badabi.so") && contains(r.err, "ABI"),
		      "%s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(DEPLOY(&t, &r, "--strategy", "nosym"), 1);
	ck_assert_msg(contains(r.err, "nosym.so"), "%s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(dt_pid(&t, "web"), pid);
	ck_assert(wait_http(port, "ver=1", 1000));
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);

	/* a world-writable plugin file */
	snprintf(wdir, sizeof(wdir), "%s/plugins", t.dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp %s/segv.so %s/ww.so && "
		 "chmod 0666 %s/ww.so", wdir, dir, wdir, wdir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(dt_sysg(&t, &r, "--plugin-dir", wdir, "start",
				 "--daemonize", NULL), 0);
	run_result_free(&r);
	dt_track(&t, dt_daemon_pid(&t));
	ck_assert(wait_http(port, "ver=1", 5000));
	pid = dt_pid(&t, "web");
	ck_assert_int_eq(DEPLOY(&t, &r, "--strategy", "ww"), 1);
	ck_assert_msg(contains(r.err, "writable"), "%s", r.err);
	run_result_free(&r);
	/* a plugin owned by another user (needs root to make one) */
	if (geteuid() == 0) {
		snprintf(cmd, sizeof(cmd), "cp %s/segv.so %s/fo.so && "
			 "chown 65534 %s/fo.so", dir, wdir, wdir);
		ck_assert_int_eq(system(cmd), 0);
		ck_assert_int_eq(DEPLOY(&t, &r, "--strategy", "fo"), 1);
		ck_assert_msg(contains(r.err, "fo.so") &&
			      contains(r.err, "owned"), "%s", r.err);
		run_result_free(&r);
	}
	ck_assert_int_eq(dt_pid(&t, "web"), pid);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	free(dir);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_operator_pause_resume_promote)
{
	struct dt t;
	struct run_result r;
	int port = tu_free_port(), port2 = tu_free_port();
	char *dir = fixture_plugins(), id[128];
	pid_t pid;
	json_t *j;

	web(&t, NULL, port, "1", "", 1);
	ck_assert_int_eq(dt_sysg(&t, &r, "--plugin-dir", dir, "start",
				 "--daemonize", NULL), 0);
	run_result_free(&r);
	dt_track(&t, dt_daemon_pid(&t));
	ck_assert(wait_http(port, "ver=1", 5000));
	pid = dt_pid(&t, "web");
	web(&t, NULL, port2, "2", "", 0);
	ck_assert_int_eq(DEPLOY(&t, &r, "--strategy", "waiter", "--detach"), 0);
	snprintf(id, sizeof(id), "%s", r.out);
	id[strcspn(id, "\n")] = '\0';
	run_result_free(&r);
	ck_assert(wait_http(port2, "ver=2", 5000));
	ck_assert_int_eq(dt_sysg(&t, NULL, "deploy", "--pause", "-s", "web",
				 NULL), 0);
	ck_assert_int_eq(dt_sysg(&t, NULL, "deploy", "--resume", "-s", "web",
				 NULL), 0);
	ck_assert_int_eq(dt_pid(&t, "web"), pid);
	ck_assert_int_eq(dt_sysg(&t, NULL, "deploy", "--promote", "-s", "web",
				 NULL), 0);
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "--follow", id, NULL), 0);
	ck_assert_msg(contains(r.out, "paused") && contains(r.out, "resumed") &&
		      contains(r.out, "promote requested"), "%s", r.out);
	run_result_free(&r);
	ck_assert(dt_wait_gone(pid, 5000));
	ck_assert(wait_http(port2, "ver=2", 2000));
	/* no deploy runs now */
	ck_assert_int_eq(dt_sysg(&t, &r, "deploy", "--promote", "-s", "web",
				 NULL), 1);
	ck_assert(contains(r.err, "no deploy of web is running"));
	run_result_free(&r);
	/* inspect: the running revision, and the config file's when it
	 * differs */
	web(&t, NULL, port, "3", "", 0);
	ck_assert_int_eq(dt_sysg(&t, &r, "inspect", "-s", "web", "--json", NULL),
			 0);
	j = json_loads(r.out, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(strlen(json_string_value(json_object_get(j,
		"revision"))), 12);
	ck_assert_str_ne(json_string_value(json_object_get(j, "revision")),
			 json_string_value(json_object_get(j, "config_revision")));
	json_decref(j);
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, &r, "inspect", "-s", "web", NULL), 0);
	ck_assert_msg(contains(r.out, "the config file has"), "%s", r.out);
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	free(dir);
	dt_teardown(&t);
}
END_TEST

/* Killed after the promote, before the old instance was stopped: the
 * next supervisor keeps the promoted one. */
START_TEST(test_killed_after_promote_keeps_promoted)
{
	struct dt t;
	struct run_result r;
	int port = tu_free_port(), port2 = tu_free_port();
	char *dir = fixture_plugins();
	pid_t old, cand = 0, daemon;
	json_t *h;

	web(&t, backends[_i], port, "1", "", 1);
	ck_assert_int_eq(dt_sysg(&t, &r, "--plugin-dir", dir, "start",
				 "--daemonize", NULL), 0);
	run_result_free(&r);
	daemon = dt_daemon_pid(&t);
	dt_track(&t, daemon);
	ck_assert(wait_http(port, "ver=1", 5000));
	old = dt_pid(&t, "web");
	web(&t, NULL, port2, "2", "    deployment:\n      strategy: waiter\n"
	    "      waiter: { hold_ms: \"60000\" }\n", 0);
	ck_assert_int_eq(DEPLOY(&t, &r, "--detach"), 0);
	run_result_free(&r);
	ck_assert(wait_http(port2, "ver=2", 5000));
	ck_assert_int_eq(dt_sysg(&t, NULL, "deploy", "--promote", "-s", "web",
				 NULL), 0);
	ck_assert(tu_wait_for(web_pid_changed, &(struct pid_wait){ &t, old },
			      5000, 50));
	cand = dt_pid(&t, "web");
	ck_assert(cand > 0 && cand != old);
	dt_track(&t, old);
	dt_track(&t, cand);
	ck_assert_int_eq(kill(daemon, SIGKILL), 0);
	ck_assert(dt_wait_gone(daemon, 3000));
	ck_assert_int_eq(dt_sysg(&t, &r, "--plugin-dir", dir, "start",
				 "--daemonize", NULL), 0);
	run_result_free(&r);
	dt_track(&t, dt_daemon_pid(&t));
	ck_assert_int_eq(dt_pid(&t, "web"), cand);
	ck_assert(dt_wait_gone(old, 5000));
	ck_assert(wait_http(port2, "ver=2", 2000));
	h = history(&t);
	ck_assert_str_eq(newest(h, "outcome"), "aborted");
	json_decref(h);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	free(dir);
	dt_teardown(&t);
}
END_TEST

static Suite *make_deploy_suite(void)
{
	Suite *s = suite_create("deploy");
	TCase *tc = tcase_create("deploy");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_loop_test(tc, test_deploy_blue_green_history_rollback, 0, 2);
	tcase_add_test(tc, test_rolling_restart_and_detach_follow);
	tcase_add_loop_test(tc, test_failures_before_the_switch, 0, 2);
	tcase_add_loop_test(tc, test_min_healthy_time_rolls_back, 0, 2);
	tcase_add_test(tc, test_port_conflict_falls_back);
	tcase_add_test(tc, test_blue_green_plain_start_on_active_slot);
	tcase_add_test(tc, test_blue_green_plain_start_expands_slot);
	tcase_add_test(tc, test_min_healthy_time_blue_green_candidate_url);
	tcase_add_test(tc, test_blue_green_switch_failures);
	tcase_add_test(tc, test_lock_abort);
	tcase_add_loop_test(tc, test_supervisor_killed_mid_deploy, 0, 2);
	tcase_add_test(tc, test_bad_plugins_and_input);
	tcase_add_test(tc, test_operator_pause_resume_promote);
	tcase_add_loop_test(tc, test_killed_after_promote_keeps_promoted, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_deploy_suite());
}
