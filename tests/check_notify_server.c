/* check_notify_server.c - `readiness: notify` and `watchdog:` (SPEC 11): sysg
 * as the sd_notify(3) server of its services. READY=1 makes a service
 * running, STATUS= is shown by status and inspect, a process outside the
 * service's tree is not heard, a missed watchdog restarts the service
 * and says why. Black-box: runs $SYSG_BIN. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemontest.h"
#include "testutil.h"

/* notify.py MSG...: send each MSG (\n for newlines) to NOTIFY_SOCKET.
 * svc.py: write the protocol variables to env.txt; send STATUS=; wait for
 * the file `go` (with $HOLD: writes the file `held` once it has waited
 * HOLD seconds); then run `python3 notify.py READY=1` as a child (a
 * member of the service's tree, not its main process); ping the
 * watchdog (from the main process) while the file `stop-pinging` does not exist. A sender must
 * still exist when sysg reads its message (as with systemd's
 * NotifyAccess=all), so notify.py lingers a little. */
static const char notify_py[] =
	"import os, socket, sys, time\n"
	"addr = os.environ['NOTIFY_SOCKET']\n"
	"if addr[0] == '@':\n"
	"    addr = '\\0' + addr[1:]\n"
	"s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
	"for m in sys.argv[1:]:\n"
	"    s.sendto(m.replace('\\\\n', '\\n').encode(), addr)\n"
	"time.sleep(0.5)   # still there when sysg checks who sent it\n";

static const char svc_py[] =
	"import os, subprocess, time\n"
	"e = os.environ\n"
	"open('env.tmp', 'w').write('%s\\n%s\\n%s\\n%d\\nend\\n' % (\n"
	"    e.get('NOTIFY_SOCKET'), e.get('WATCHDOG_USEC'),\n"
	"    e.get('WATCHDOG_PID'), os.getpid()))\n"
	"os.rename('env.tmp', 'env.txt')\n"
	"subprocess.run(['python3', 'notify.py', 'STATUS=warming up'])\n"
	"t0 = time.monotonic()\n"
	"while not os.path.exists('go'):\n"
	"    if 'HOLD' in e and time.monotonic() - t0 > float(e['HOLD']):\n"
	"        open('held', 'w').write('held\\n')\n"
	"    time.sleep(0.05)\n"
	"subprocess.run(['python3', 'notify.py',\n"
	"                'READY=1\\\\nSTATUS=serving'])\n"
	"import socket\n"
	"addr = '\\0' + e['NOTIFY_SOCKET'][1:]\n"
	"s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
	"n = 0\n"
	"while True:\n"
	"    if not os.path.exists('stop-pinging'):\n"
	"        s.sendto(b'WATCHDOG=1', addr)\n"
	"        n += 1\n"
	"        open('pings', 'w').write('%d pings\\n' % n)\n"
	"    time.sleep(0.2)\n";

static void setup(struct dt *t, const char *watchdog)
{
	dt_setup(t, NULL,
		 "version: \"1\"\n"
		 "services:\n"
		 "  web:\n"
		 "    command: \"python3 svc.py\"\n"
		 "    readiness: notify\n"
		 "%s"
		 "    restart_policy: always\n"
		 "    backoff: 100ms\n", watchdog);
	dt_write(t, "notify.py", notify_py);
	dt_write(t, "svc.py", svc_py);
}

/* `sysg start --daemonize` in the background (it returns once web is
 * ready, and web waits for the file `go`). Returns the CLI's pid. */
static pid_t start_in_background(struct dt *t)
{
	const char *bin = getenv("SYSG_BIN");
	pid_t pid;

	ck_assert_ptr_nonnull(bin);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 1);
		dup2(null, 2);
		if (chdir(t->dir) < 0)
			_exit(126);
		putenv(t->env[0]);
		putenv(t->env[1]);
		execl(bin, bin, "start", "--daemonize", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* The background CLI's exit code. */
static int cli_exit(pid_t pid)
{
	int status = 0;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Send MSG to the address ADDR ("@name") from this process (which is in
 * no service's tree). */
static void send_from_outside(const char *addr, const char *msg)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	socklen_t len;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(addr[0], '@');
	memcpy(a.sun_path + 1, addr + 1, strlen(addr) - 1);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(addr));
	ck_assert_int_eq(sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&a,
				len), (ssize_t)strlen(msg));
	close(fd);
}

static char *first_line(char *text)
{
	text[strcspn(text, "\n")] = '\0';
	return text;
}

START_TEST(test_ready_status_and_outsiders)
{
	struct dt t;
	struct run_result r;
	char *env, buf[64], want[128];
	json_t *st;
	pid_t pid, cli;

	setup(&t, "");
	cli = start_in_background(&t);
	ck_assert(dt_wait_file(&t, "env.txt", "end\n", 15000));
	dt_track(&t, dt_daemon_pid(&t));
	env = dt_read(&t, "env.txt");
	ck_assert_msg(!strncmp(env, "@sysg-notify/", 13), "%s", env);
	ck_assert_msg(strstr(env, "\nNone\nNone\n"), "no watchdog: %s", env);
	pid = dt_pid(&t, "web");
	ck_assert_int_gt(pid, 0);
	ck_assert_str_eq(dt_status_of(&t, "web", buf, sizeof(buf)), "starting");
	/* a process outside the service's tree is not heard */
	send_from_outside(first_line(env), "READY=1");
	snprintf(want, sizeof(want), "Notification from pid %d refused",
		 (int)getpid());
	ck_assert(dt_wait_file(&t, "state/logs/supervisor.log", want, 10000));
	ck_assert_str_eq(dt_status_of(&t, "web", buf, sizeof(buf)), "starting");
	dt_write(&t, "go", "");
	ck_assert(dt_wait_status(&t, "web", "running", 15000));
	ck_assert_int_eq(cli_exit(cli), 0);     /* start waited for READY=1 */
	ck_assert_int_eq(dt_pid(&t, "web"), pid);
	st = dt_status(&t, 0);
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(json_string_value(json_object_get(
		dt_unit(st, "web"), "status_text")), "serving");
	json_decref(st);
	ck_assert_int_eq(dt_sysg(&t, &r, "status", NULL), 0);
	ck_assert_msg(strstr(r.out, "  web: serving\n"), "%s", r.out);
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, &r, "inspect", "-s", "web", NULL), 0);
	ck_assert_msg(strstr(r.out, "status text: serving"), "%s", r.out);
	run_result_free(&r);
	free(env);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_watchdog_restarts)
{
	struct dt t;
	char *env, *log, buf[64];
	json_t *st;
	pid_t pid, now, cli;

	/* web holds its start-up (no READY=1, no ping) for 4 s: longer
	 * than its watchdog, which starts only at READY=1 (as systemd's) */
	setup(&t, "    watchdog: 3s\n    env: { HOLD: \"4\" }\n");
	cli = start_in_background(&t);
	ck_assert(dt_wait_file(&t, "env.txt", "end\n", 30000));
	dt_track(&t, dt_daemon_pid(&t));
	pid = dt_pid(&t, "web");
	ck_assert_int_gt(pid, 0);
	ck_assert(dt_wait_file(&t, "held", "held\n", 30000));
	ck_assert_int_eq(dt_pid(&t, "web"), pid);
	ck_assert_str_eq(dt_status_of(&t, "web", buf, sizeof(buf)), "starting");
	dt_write(&t, "go", "");
	ck_assert(dt_wait_status(&t, "web", "running", 30000));
	ck_assert_int_eq(cli_exit(cli), 0);
	env = dt_read(&t, "env.txt");
	{       /* WATCHDOG_USEC, and WATCHDOG_PID is the service's pid */
		char want[64];

		snprintf(want, sizeof(want), "\n3000000\n%d\n%d\n", (int)pid,
			 (int)pid);
		ck_assert_msg(strstr(env, want), "%s", env);
	}
	free(env);
	/* pinging keeps it alive past its watchdog (20 pings: 4 s) */
	ck_assert(dt_wait_file(&t, "pings", "20 pings", 60000));
	ck_assert_int_eq(dt_pid(&t, "web"), pid);
	dt_write(&t, "stop-pinging", "");
	ck_assert(dt_wait_gone(pid, 30000));
	ck_assert(dt_wait_file(&t, "state/logs/supervisor.log",
			       "Service web: watchdog timeout (no WATCHDOG=1 "
			       "within 3000 ms)", 30000));
	ck_assert(dt_wait_file(&t, "state/logs/supervisor.log",
			       "Restarting service web in ", 30000));
	log = dt_read(&t, "state/logs/supervisor.log");
	ck_assert_msg(strstr(log, "(watchdog timeout (no WATCHDOG=1 within "
			     "3000 ms))"), "%s", log);
	free(log);
	st = dt_status(&t, 0);
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(json_string_value(json_object_get(
		dt_unit(st, "web"), "last_restart")),
		"watchdog timeout (no WATCHDOG=1 within 3000 ms)");
	json_decref(st);
	now = dt_pid(&t, "web");
	ck_assert_int_ne(now, pid);
	dt_teardown(&t);
}
END_TEST

static Suite *make_notify_server_suite(void)
{
	Suite *s = suite_create("notify_server");
	TCase *tc = tcase_create("notify");

	tcase_set_timeout(tc, 180);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_test(tc, test_ready_status_and_outsiders);
	tcase_add_test(tc, test_watchdog_restarts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_notify_server_suite());
}
