/* check_stop.c - the sysg binary: foreground start, unit mode, exit codes,
 * --stderr, and `sysg stop` without a supervisor, including a stale pid
 * entry and a hand-edited wrong pid. Needs $SYSG_BIN (set by make check). */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc/proc.h"
#include "runutil.h"
#include "testutil.h"

struct proj {
	char *dir;
	char *env[3];
};

static void proj_setup(struct proj *p, const char *yaml)
{
	char *f;

	p->dir = tu_mkdtemp("stop");
	ck_assert_ptr_nonnull(p->dir);
	ck_assert_int_ne(asprintf(&p->env[0], "SYSG_STATE_DIR=%s/state",
				  p->dir), -1);
	ck_assert_int_ne(asprintf(&p->env[1], "HOME=%s", p->dir), -1);
	p->env[2] = NULL;
	f = tu_write_file(p->dir, "sysg.yaml", yaml);
	ck_assert_ptr_nonnull(f);
	free(f);
}

static void proj_teardown(struct proj *p)
{
	tu_rm_rf(p->dir);
	free(p->dir);
	free(p->env[0]);
	free(p->env[1]);
}

static char *proj_read(struct proj *p, const char *name)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", p->dir, name);
	return tu_read_file(path, NULL);
}

static long proj_long(struct proj *p, const char *name)
{
	char *s = proj_read(p, name);
	long v = s ? atol(s) : 0;

	free(s);
	return v;
}

static void proj_write(struct proj *p, const char *name, const char *text)
{
	char *f = tu_write_file(p->dir, name, text);

	ck_assert_ptr_nonnull(f);
	free(f);
}

/* Start `sysg start ARGS` in the background (the foreground supervisor). */
static pid_t start_bg(struct proj *p, const char *arg)
{
	const char *bin = getenv("SYSG_BIN");
	pid_t pid;

	ck_assert_msg(bin != NULL, "SYSG_BIN is not set");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (chdir(p->dir) < 0)
			_exit(126);
		putenv(p->env[0]);
		putenv(p->env[1]);
		execl(bin, bin, "start", arg, (char *)NULL);
		_exit(127);
	}
	return pid;
}

struct file_cond {
	struct proj *p;
	const char *name, *needle;
};

static int file_has(void *arg)
{
	struct file_cond *c = arg;
	char *s = proj_read(c->p, c->name);
	int ok = s && (!c->needle || strstr(s, c->needle));

	free(s);
	return ok;
}

static int wait_file(struct proj *p, const char *name, const char *needle,
		     int ms)
{
	struct file_cond c = { p, name, needle };

	return tu_wait_for(file_has, &c, ms, 10);
}

static int pid_gone(void *arg)
{
	return !sysg_proc_is_alive(*(pid_t *)arg, 0);
}

static int wait_gone(pid_t pid, int ms)
{
	return tu_wait_for(pid_gone, &pid, ms, 10);
}

static int reap_within(pid_t pid, int ms)
{
	int64_t end = tu_now_ms() + tu_deadline_ms(ms);
	int status;

	while (tu_now_ms() < end) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		usleep(5000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static const char *web_yaml =
	"version: \"1\"\nservices:\n"
	"  web: { command: \"bash web.sh\", ready_after: \"20ms\" }\n";

/* The script's own output goes to /dev/null: in the corrupted-pid test
 * the supervisor is SIGKILLed first, which closes the log pipes, and
 * bash reporting its killed child on a broken stderr would die of
 * SIGPIPE before its EXIT trap. */
static const char *web_sh =
	"exec > /dev/null 2>&1\n"
	"trap 'echo trapped > trap.txt' EXIT\n"
	"trap 'exit 143' TERM\n"
	"echo $$ > web.tmp; mv web.tmp web.pid\n"
	"sleep 1000 & wait\n";

START_TEST(test_foreground_start_then_stop)
{
	struct proj p;
	struct run_result r;
	pid_t sup, web;

	proj_setup(&p, web_yaml);
	proj_write(&p, "web.sh", web_sh);
	sup = start_bg(&p, NULL);
	ck_assert_int_eq(wait_file(&p, "web.pid", NULL, 5000), 1);
	ck_assert_int_eq(wait_file(&p, "state/state.xml", "running", 5000), 1);
	web = (pid_t)proj_long(&p, "web.pid");
	ck_assert_int_eq(run_sysg(p.dir, p.env, &r, "stop", NULL), 0);
	ck_assert_msg(r.status == 0, "stop: %s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(reap_within(sup, 5000), 0);
	ck_assert_int_eq(wait_gone(web, 2000), 1);
	ck_assert_int_eq(wait_file(&p, "trap.txt", "trapped", 2000), 1);
	proj_teardown(&p);
}
END_TEST

START_TEST(test_stop_with_stale_pid_entry)
{
	struct proj p;
	struct run_result r;
	char xml[256];
	pid_t dead = fork();

	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	proj_setup(&p, web_yaml);
	snprintf(xml, sizeof(xml), "<PidFile><services><web>%d</web>"
		 "</services></PidFile>\n", (int)dead);
	proj_write(&p, "state/pid.xml", xml);
	ck_assert_int_eq(run_sysg(p.dir, p.env, &r, "stop", "--service", "web",
				  NULL), 0);
	ck_assert_msg(r.status == 0, "stop: %s %s", r.out, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "web: not running"));
	run_result_free(&r);
	ck_assert_int_eq(wait_file(&p, "state/pid.xml", "<web>", 10), 0);
	ck_assert_int_eq(run_sysg(p.dir, p.env, &r, "stop", NULL), 0);
	ck_assert_int_eq(r.status, 0);
	run_result_free(&r);
	ck_assert_int_eq(run_sysg(p.dir, p.env, &r, "stop", "--service", "nope",
				  NULL), 0);
	ck_assert_int_eq(r.status, 2);
	run_result_free(&r);
	proj_teardown(&p);
}
END_TEST

START_TEST(test_stop_with_corrupted_pid)
{
	struct proj p;
	struct run_result r;
	char xml[256];
	pid_t sup, web, bystander;

	proj_setup(&p, web_yaml);
	proj_write(&p, "web.sh", web_sh);
	sup = start_bg(&p, NULL);
	ck_assert_int_eq(wait_file(&p, "web.pid", NULL, 5000), 1);
	ck_assert_int_eq(wait_file(&p, "state/state.xml", "running", 5000), 1);
	web = (pid_t)proj_long(&p, "web.pid");
	/* the supervisor dies hard: the service keeps running */
	kill(sup, SIGKILL);
	waitpid(sup, NULL, 0);
	ck_assert_int_eq(sysg_proc_is_alive(web, 0), 1);
	/* hand-edit pid.xml to name an unrelated process */
	bystander = fork();
	if (bystander == 0) {
		execlp("sleep", "sleep", "1000", (char *)NULL);
		_exit(127);
	}
	snprintf(xml, sizeof(xml), "<PidFile><services><name>web</name><pid>%d"
		 "</pid></services></PidFile>\n", (int)bystander);
	proj_write(&p, "state/pid.xml", xml);
	ck_assert_int_eq(run_sysg(p.dir, p.env, &r, "stop", NULL), 0);
	ck_assert_msg(r.status == 0, "stop: %s %s", r.out, r.err);
	ck_assert_int_eq(wait_gone(web, 2000), 1);
	/* SIGTERM, not SIGKILL: its EXIT trap ran (stop's output says
	 * which signal ended it) */
	ck_assert_msg(wait_file(&p, "trap.txt", "trapped", 2000) == 1,
		      "no EXIT trap; stop said: %s %s", r.out, r.err);
	run_result_free(&r);
	ck_assert_int_eq(sysg_proc_is_alive(bystander, 0), 1);
	kill(bystander, SIGKILL);
	waitpid(bystander, NULL, 0);
	proj_teardown(&p);
}
END_TEST

/* pid.xml (either shape) naming a live process that runs the service's
 * command but carries no sysg marker (a systemg-started instance, or a
 * pid a user wrote in): stop without a supervisor stops it. */
START_TEST(test_stop_pidxml_instance)
{
	static const char *const shapes[] = {
		"<PidFile><services><web>%d</web></services></PidFile>\n",
		"<PidFile><services><name>web</name><pid>%d</pid></services>"
		"</PidFile>\n",
	};
	struct proj p;
	struct run_result r;
	char xml[256], want[64];
	pid_t inst;

	proj_setup(&p, "version: \"1\"\nservices:\n"
		   "  web: { command: \"sleep 1007\" }\n");
	for (int i = 0; i < 2; i++) {
		inst = fork();
		if (inst == 0) {
			setsid();
			execlp("sleep", "sleep", "1007", (char *)NULL);
			_exit(127);
		}
		ck_assert_int_gt(inst, 0);
		/* exec'd: its command line is the service's */
		for (int64_t end = tu_now_ms() + TU_DEADLINE_MS;
		     tu_now_ms() < end;) {
			char line[64] = "";

			if (sysg_proc_cmdline(inst, line, sizeof(line)) == 0 &&
			    !strcmp(line, "sleep 1007"))
				break;
			usleep(10000);
		}
		snprintf(xml, sizeof(xml), shapes[i], (int)inst);
		proj_write(&p, "state/pid.xml", xml);
		/* status reads pid.xml too (no record, no supervisor) */
		ck_assert_int_eq(run_sysg(p.dir, p.env, &r, "status", "--json",
					  NULL), 0);
		snprintf(want, sizeof(want), "\"pid\": %d", (int)inst);
		ck_assert_msg(strstr(r.out, "\"status\": \"running\"") &&
			      strstr(r.out, want), "status: %s", r.out);
		run_result_free(&r);
		ck_assert_int_eq(run_sysg(p.dir, p.env, &r, "stop", NULL), 0);
		ck_assert_msg(r.status == 0, "stop: %s %s", r.out, r.err);
		run_result_free(&r);
		ck_assert_int_eq(reap_within(inst, 5000), 128);
	}
	proj_teardown(&p);
}
END_TEST

START_TEST(test_unit_mode)
{
	struct proj p;
	struct run_result r;
	char *log;

	proj_setup(&p, "");
	ck_assert_int_eq(run_sysg(p.dir, p.env, &r, "start", "--name", "u", "--",
				  "sh", "-c", "echo unit says hi; echo oops >&2",
				  NULL), 0);
	ck_assert_msg(r.status == 0, "start: %s", r.err);
	run_result_free(&r);
	log = proj_read(&p, "state/logs/u_stdout.log");
	ck_assert_str_eq(log, "unit says hi\n");
	free(log);
	proj_teardown(&p);
}
END_TEST

START_TEST(test_start_failure_exit_code)
{
	struct proj p;
	struct run_result r;

	proj_setup(&p, "version: \"1\"\nservices:\n"
		   "  bad: { command: \"/nonexistent/prog\" }\n"
		   "  talk: { command: \"sh -c 'echo to-stderr >&2'\" }\n");
	ck_assert_int_eq(run_sysg(p.dir, p.env, &r, "--log-level", "off",
				  "start", "--stderr", NULL), 0);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "service bad failed to start"));
	ck_assert_ptr_nonnull(strstr(r.err, "command not found"));
	ck_assert_ptr_nonnull(strstr(r.err, "bad_stderr.log"));
	ck_assert_ptr_nonnull(strstr(r.out, "[talk:stderr] to-stderr\n"));
	run_result_free(&r);
	proj_teardown(&p);
}
END_TEST

START_TEST(test_config_error_exit_code)
{
	struct proj p;
	struct run_result r;

	proj_setup(&p, "version: \"1\"\nservices:\n  a: { depends_on: [b] }\n");
	ck_assert_int_eq(run_sysg(p.dir, p.env, &r, "start", NULL), 0);
	ck_assert_msg(r.status == 2, "status %d: %s", r.status, r.err);
	run_result_free(&r);
	proj_teardown(&p);
}
END_TEST

static Suite *make_stop_suite(void)
{
	Suite *s = suite_create("stop");
	TCase *tc = tcase_create("binary");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_foreground_start_then_stop);
	tcase_add_test(tc, test_stop_with_stale_pid_entry);
	tcase_add_test(tc, test_stop_with_corrupted_pid);
	tcase_add_test(tc, test_stop_pidxml_instance);
	tcase_add_test(tc, test_unit_mode);
	tcase_add_test(tc, test_start_failure_exit_code);
	tcase_add_test(tc, test_config_error_exit_code);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_stop_suite());
}
