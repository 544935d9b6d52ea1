/* check_upgrade.c - live upgrade of the resident supervisor, black box:
 * `sysg upgrade --binary COPY` under a crash-looping service and a
 * service holding a listening socket keeps the supervisor's pid and the
 * service's pid, the socket keeps answering, the crash loop carries on
 * and a crash right after is restarted; `--version` then names the new
 * binary. Refused, changing nothing, for a binary that fails to start,
 * one that does not read this handoff version, and while a start or a
 * deploy is in progress. Needs $SYSG_BIN (set by make check). */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemontest.h"
#include "testutil.h"

/* Listens on a port of its own, writes it to ./port, answers "ok". */
static const char *listener =
	"import socket\n"
	"s = socket.socket()\n"
	"s.bind(('127.0.0.1', 0))\n"
	"s.listen(8)\n"
	"open('port.tmp', 'w').write(str(s.getsockname()[1]))\n"
	"import os\nos.rename('port.tmp', 'port')\n"
	"while True:\n"
	"    c, _ = s.accept()\n"
	"    c.sendall(b'ok\\n')\n"
	"    c.close()\n";

static const char *config =
	"version: \"1\"\nservices:\n"
	"  web:\n    command: \"python3 listener.py\"\n"
	"    restart_policy: on-failure\n    backoff: \"50ms\"\n"
	"    ready_after: \"100ms\"\n"
	"  flappy:\n    command: \"sh -c 'sleep 0.2; exit 3'\"\n"
	"    restart_policy: always\n    backoff: \"50ms\"\n"
	"    ready_after: \"50ms\"\n";

/* Connect to 127.0.0.1:PORT and read "ok". */
static int answers(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };
	char buf[8] = "";
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	     read(fd, buf, sizeof(buf) - 1) > 0 && !strncmp(buf, "ok", 2);
	if (fd >= 0)
		close(fd);
	return ok;
}

static json_int_t restarts_of(struct dt *t, const char *name)
{
	json_t *st = dt_status(t, 0);
	json_int_t n = json_integer_value(json_object_get(dt_unit(st, name),
							  "restarts"));

	json_decref(st);
	return n;
}

/* The number of samples `inspect -s web --json` shows. */
static size_t web_samples(struct dt *t)
{
	struct run_result r;
	json_error_t je;
	json_t *j;
	size_t n = 0;

	if (dt_sysg(t, &r, "inspect", "-s", "web", "--json", NULL) == 0 &&
	    (j = json_loads(r.out, 0, &je))) {
		n = json_array_size(json_object_get(j, "samples"));
		json_decref(j);
	}
	run_result_free(&r);
	return n;
}

static int sampled(void *arg)
{
	return web_samples(arg) > 0;
}

/* Copy $SYSG_BIN to DIR/NAME (mode 0755); returns the path. */
static char *copy_binary(struct dt *t, const char *name)
{
	size_t len;
	char *data = tu_read_file(getenv("SYSG_BIN"), &len), *path;

	ck_assert_ptr_nonnull(data);
	path = tu_write_bytes(t->dir, name, data, len);
	ck_assert_ptr_nonnull(path);
	ck_assert_int_eq(chmod(path, 0755), 0);
	free(data);
	return path;
}

static char *script(struct dt *t, const char *name, const char *text)
{
	char *path = tu_write_file(t->dir, name, text);

	ck_assert_ptr_nonnull(path);
	ck_assert_int_eq(chmod(path, 0755), 0);
	return path;
}

/* `sysg --version` must say "N live upgrade(s)" of supervisor PID. */
static void check_version(struct dt *t, pid_t pid, int n, const char *bin)
{
	struct run_result r;
	char want[64];

	ck_assert_int_eq(dt_sysg(t, &r, "--version", NULL), 0);
	snprintf(want, sizeof(want), "pid %d,", (int)pid);
	ck_assert_msg(strstr(r.out, want), "%s", r.out);
	snprintf(want, sizeof(want), "%d live upgrade(s)", n);
	ck_assert_msg(strstr(r.out, want), "%s", r.out);
	ck_assert_msg(strstr(r.out, "\nbinary: "), "%s", r.out);
	if (bin)
		ck_assert_msg(strstr(r.out, bin), "%s", r.out);
	run_result_free(&r);
}

struct crash {
	struct dt *t;
	json_int_t above;
};

static int flapped(void *arg)
{
	struct crash *c = arg;

	return restarts_of(c->t, "flappy") > c->above;
}

struct respawn {
	struct dt *t;
	pid_t old;
};

static int web_respawned(void *arg)
{
	struct respawn *r = arg;
	pid_t now = dt_pid(r->t, "web");
	char st[32];

	dt_status_of(r->t, "web", st, sizeof(st));
	return now > 0 && now != r->old && !strcmp(st, "running");
}

START_TEST(test_upgrade_keeps_everything)
{
	struct dt t;
	struct run_result r;
	struct crash cr;
	struct respawn rs;
	pid_t sup, web;
	size_t nsamples;
	char *bin, *port;

	dt_setup(&t, NULL, "%s", config);
	dt_write(&t, "listener.py", listener);
	sup = dt_start_daemon(&t);
	ck_assert(dt_wait_file(&t, "port", "", 10000));
	port = dt_read(&t, "port");
	ck_assert(answers(atoi(port)));
	ck_assert(dt_wait_status(&t, "web", "running", 5000));
	web = dt_pid(&t, "web");
	dt_track(&t, web);
	cr.t = &t;
	cr.above = restarts_of(&t, "flappy") + 1;
	ck_assert(tu_wait_for(flapped, &cr, 10000, 20));
	check_version(&t, sup, 0, NULL);
	ck_assert(tu_wait_for(sampled, &t, 10000, 50));
	nsamples = web_samples(&t);

	bin = copy_binary(&t, "sysg-new");
	ck_assert_int_eq(dt_sysg(&t, &r, "upgrade", "--binary", bin, NULL), 0);
	ck_assert_msg(strstr(r.out, "upgraded"), "%s%s", r.out, r.err);
	run_result_free(&r);
	/* same supervisor, same service process, the socket answers */
	ck_assert_int_eq(dt_daemon_pid(&t), sup);
	ck_assert_int_eq(dt_pid(&t, "web"), web);
	ck_assert(answers(atoi(port)));
	check_version(&t, sup, 1, "sysg-new");
	/* inspect's samples were handed over */
	ck_assert_uint_ge(web_samples(&t), nsamples);
	/* the crash loop goes on: no exit was lost */
	cr.above = restarts_of(&t, "flappy") + 2;
	ck_assert_msg(tu_wait_for(flapped, &cr, 10000, 20),
		      "flappy is no longer restarted after the upgrade");
	/* a crash right after the upgrade is restarted */
	ck_assert_int_eq(kill(web, SIGKILL), 0);
	rs.t = &t;
	rs.old = web;
	ck_assert_msg(tu_wait_for(web_respawned, &rs, 10000, 20),
		      "web was not restarted after a crash");
	dt_track(&t, dt_pid(&t, "web"));
	/* and a second upgrade works too */
	ck_assert_int_eq(dt_sysg(&t, NULL, "upgrade", "--binary", bin, NULL),
			 0);
	check_version(&t, sup, 2, "sysg-new");
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	ck_assert(dt_wait_gone(sup, 10000));
	free(port);
	free(bin);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_upgrade_refused_bad_binaries)
{
	struct dt t;
	struct run_result r;
	pid_t sup, a;
	char *bad, *v7;

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  a: { command: \"sleep 1000\", ready_after: \"20ms\" }\n");
	sup = dt_start_daemon(&t);
	a = dt_pid(&t, "a");
	dt_track(&t, a);
	bad = script(&t, "bad.sh", "#!/bin/sh\nexit 1\n");
	ck_assert_int_eq(dt_sysg(&t, &r, "upgrade", "--binary", bad, NULL), 1);
	ck_assert_msg(strstr(r.err, "fails to start"), "%s", r.err);
	run_result_free(&r);
	v7 = script(&t, "v7.sh", "#!/bin/sh\n[ \"$1\" = __handoff-versions ] "
		    "&& { echo 7; exit 0; }\nexit 1\n");
	ck_assert_int_eq(dt_sysg(&t, &r, "upgrade", "--binary", v7, NULL), 1);
	ck_assert_msg(strstr(r.err, "does not understand handoff version"),
		      "%s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, &r, "upgrade", "--binary", "nope", NULL),
			 1);
	run_result_free(&r);
	/* nothing changed */
	ck_assert_int_eq(dt_daemon_pid(&t), sup);
	ck_assert_int_eq(dt_pid(&t, "a"), a);
	check_version(&t, sup, 0, NULL);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	free(bad);
	free(v7);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_upgrade_refused_during_start)
{
	struct dt t;
	struct run_result r;
	pid_t sup, starter;
	char *bin;
	int status;

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  slow: { command: \"sleep 1000\", ready_after: \"3s\" }\n"
		 "  a: { command: \"sleep 1000\", ready_after: \"20ms\" }\n");
	sup = dt_start_daemon(&t);
	dt_track(&t, dt_pid(&t, "slow"));
	bin = copy_binary(&t, "sysg-new");
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", "--service", "slow", NULL),
			 0);
	starter = fork();
	ck_assert_int_ge(starter, 0);
	if (starter == 0)
		_exit(dt_sysg(&t, NULL, "start", "--service", "slow", NULL));
	ck_assert(dt_wait_status(&t, "slow", "starting", 5000));
	ck_assert_int_eq(dt_sysg(&t, &r, "upgrade", "--binary", bin, NULL), 1);
	ck_assert_msg(strstr(r.err, "in progress"), "%s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(waitpid(starter, &status, 0), starter);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	dt_track(&t, dt_pid(&t, "slow"));
	check_version(&t, sup, 0, NULL);
	/* once it is over, the upgrade goes through */
	ck_assert_int_eq(dt_sysg(&t, NULL, "upgrade", "--binary", bin, NULL),
			 0);
	check_version(&t, sup, 1, "sysg-new");
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	free(bin);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_upgrade_refused_mid_deploy)
{
	struct dt t;
	struct run_result r;
	pid_t sup;
	char *bin;

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  slow: { command: \"sleep 1000\", ready_after: \"3s\" }\n");
	sup = dt_start_daemon(&t);
	dt_track(&t, dt_pid(&t, "slow"));
	bin = copy_binary(&t, "sysg-new");
	ck_assert_int_eq(dt_sysg(&t, NULL, "deploy", "-s", "slow", "--detach",
				 NULL), 0);
	ck_assert_int_eq(dt_sysg(&t, &r, "upgrade", "--binary", bin, NULL), 1);
	ck_assert_msg(strstr(r.err, "upgrade refused") &&
		      strstr(r.err, "deploy"), "%s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(dt_daemon_pid(&t), sup);
	check_version(&t, sup, 0, NULL);
	/* follow the deploy to its end */
	ck_assert_int_eq(dt_sysg_within(&t, 30000, NULL, "deploy", "--follow",
					NULL), 0);
	ck_assert(dt_wait_status(&t, "slow", "running", 10000));
	dt_track(&t, dt_pid(&t, "slow"));
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	free(bin);
	dt_teardown(&t);
}
END_TEST

static Suite *make_upgrade_suite(void)
{
	Suite *s = suite_create("upgrade");
	TCase *tc = tcase_create("upgrade");

	tcase_set_timeout(tc, 90);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_test(tc, test_upgrade_keeps_everything);
	tcase_add_test(tc, test_upgrade_refused_bad_binaries);
	tcase_add_test(tc, test_upgrade_refused_during_start);
	tcase_add_test(tc, test_upgrade_refused_mid_deploy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_upgrade_suite());
}
