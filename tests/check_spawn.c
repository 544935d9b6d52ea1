/* check_spawn.c - command classification, argv splitting and quoting,
 * spawning with pipes, sessions and exec-failure reporting; the event
 * loop's timers. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "proc/proc.h"
#include "testutil.h"

START_TEST(test_classify)
{
	ck_assert_int_eq(sysg_cmd_classify("sleep 10"), SYSG_CMD_DIRECT);
	ck_assert_int_eq(sysg_cmd_classify("  python3 -m http.server  "),
			 SYSG_CMD_DIRECT);
	ck_assert_int_eq(sysg_cmd_classify("sh -c 'echo $HOME; exit 1'"),
			 SYSG_CMD_DIRECT);
	ck_assert_int_eq(sysg_cmd_classify("echo \"a b\""), SYSG_CMD_DIRECT);
	ck_assert_int_eq(sysg_cmd_classify("echo $HOME"), SYSG_CMD_SHELL_EXEC);
	ck_assert_int_eq(sysg_cmd_classify("server > out.log 2>&1"),
			 SYSG_CMD_SHELL_EXEC);
	ck_assert_int_eq(sysg_cmd_classify("run \"$(pwd)/x\""),
			 SYSG_CMD_SHELL_EXEC);
	ck_assert_int_eq(sysg_cmd_classify("a && b"), SYSG_CMD_SHELL);
	ck_assert_int_eq(sysg_cmd_classify("a; b"), SYSG_CMD_SHELL);
	ck_assert_int_eq(sysg_cmd_classify("a | b"), SYSG_CMD_SHELL);
	ck_assert_int_eq(sysg_cmd_classify("sleep 1 &"), SYSG_CMD_SHELL);
	ck_assert_int_eq(sysg_cmd_classify("FOO=1 server"), SYSG_CMD_SHELL);
	ck_assert_int_eq(sysg_cmd_classify("exec server"), SYSG_CMD_SHELL);
	ck_assert_int_eq(sysg_cmd_classify("cd /tmp"), SYSG_CMD_SHELL);
	ck_assert_int_eq(sysg_cmd_classify("for i in 1; do x; done"),
			 SYSG_CMD_SHELL);
	ck_assert_int_eq(sysg_cmd_classify("echo 'a;b' > f"),
			 SYSG_CMD_SHELL_EXEC);
}
END_TEST

START_TEST(test_split_and_join)
{
	char *argv_in[] = { (char *)"prog", (char *)"two words",
			    (char *)"it's", (char *)"$HOME", (char *)"", NULL };
	char **a = sysg_cmd_split("echo  'a b'  \"c d\" e'f'g");
	char *joined;

	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a[0], "echo");
	ck_assert_str_eq(a[1], "a b");
	ck_assert_str_eq(a[2], "c d");
	ck_assert_str_eq(a[3], "efg");
	ck_assert_ptr_null(a[4]);
	sysg_argv_free(a);
	ck_assert_ptr_null(sysg_cmd_split("echo $HOME"));
	ck_assert_ptr_null(sysg_cmd_split("echo 'unterminated"));
	joined = sysg_cmd_join(argv_in);
	ck_assert_str_eq(joined, "prog 'two words' 'it'\\''s' '$HOME' ''");
	free(joined);
}
END_TEST

static char *read_all(int fd)
{
	char *buf = calloc(1, 65536);
	size_t len = 0;
	ssize_t n;
	int64_t end = tu_now_ms() + TU_DEADLINE_MS;

	while (len < 65535 && tu_now_ms() < end) {
		n = read(fd, buf + len, 65535 - len);
		if (n == 0)
			break;
		if (n > 0)
			len += (size_t)n;
		else
			usleep(2000);
	}
	return buf;
}

START_TEST(test_spawn_pipes_env_cwd)
{
	char *envp[] = { (char *)"GREETING=hi", (char *)"PATH=/usr/bin:/bin",
			 NULL };
	struct sysg_spawn_req req = {
		.command = "sh -c 'echo $GREETING $(pwd); echo err >&2; "
			   "cut -d\" \" -f6 /proc/$$/stat'",
		.envp = envp, .cwd = "/tmp", .out_fd = SYSG_SPAWN_PIPE,
		.err_fd = SYSG_SPAWN_PIPE, .cgroup_fd = -1,
	};
	struct sysg_child c;
	char err[256], *out, *errs, expect[64];
	int status;

	ck_assert_int_eq(sysg_spawn(&req, &c, err, sizeof(err)), 0);
	ck_assert_int_gt(c.pid, 0);
	ck_assert_int_gt(c.start_ticks, 0);
	out = read_all(c.out_fd);
	errs = read_all(c.err_fd);
	waitpid(c.pid, &status, 0);
	snprintf(expect, sizeof(expect), "hi /tmp\n%d", (int)c.pid);
	ck_assert_msg(!strncmp(out, expect, 8), "%s", out);
	/* its own session: sid == its pid */
	ck_assert_int_eq(atoi(strchr(out, '\n') + 1), c.pid);
	ck_assert_str_eq(errs, "err\n");
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(out);
	free(errs);
	close(c.out_fd);
	close(c.err_fd);
}
END_TEST

START_TEST(test_exec_failure_reported)
{
	struct sysg_spawn_req req = {
		.command = "no-such-program-sysg --x", .out_fd = SYSG_SPAWN_DEVNULL,
		.err_fd = SYSG_SPAWN_DEVNULL, .cgroup_fd = -1,
	};
	struct sysg_child c;
	char err[256];

	ck_assert_int_eq(sysg_spawn(&req, &c, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "command not found"));
	ck_assert_int_eq(c.pid, -1);
	req.command = "/etc/passwd";
	ck_assert_int_eq(sysg_spawn(&req, &c, err, sizeof(err)), -EACCES);
	req.command = "true";
	req.cwd = "/nonexistent-dir-sysg";
	ck_assert_int_eq(sysg_spawn(&req, &c, err, sizeof(err)), -ENOENT);
}
END_TEST

/* async_exec: many children spawned in a row, none waited for; each
 * one's exec-status pipe gives its own outcome: the ones that do not
 * exist fail with ENOENT and the command in the message, the others
 * exec. Outcomes are read as the pipes become readable (poll), in
 * whatever order the children get there. */
#define NASYNC 24

START_TEST(test_exec_result_async)
{
	struct sysg_child c[NASYNC];
	char cmd[NASYNC][64], err[256];
	int left = NASYNC, got[NASYNC];

	for (int i = 0; i < NASYNC; i++) {
		struct sysg_spawn_req req = {
			.command = cmd[i], .out_fd = SYSG_SPAWN_DEVNULL,
			.err_fd = SYSG_SPAWN_DEVNULL, .cgroup_fd = -1,
			.async_exec = 1,
		};

		snprintf(cmd[i], sizeof(cmd[i]), i % 3 ? "sleep 30" :
			 "/nonexistent/sysg-test-%d --flag", i);
		ck_assert_int_eq(sysg_spawn(&req, &c[i], err, sizeof(err)), 0);
		ck_assert_int_ge(c[i].exec_fd, 0);
		got[i] = 1;
	}
	while (left > 0) {
		struct pollfd p[NASYNC];
		int idx[NASYNC], n = 0;

		for (int i = 0; i < NASYNC; i++)
			if (got[i] == 1) {
				p[n].fd = c[i].exec_fd;
				p[n].events = POLLIN;
				idx[n++] = i;
			}
		ck_assert_int_gt(poll(p, (nfds_t)n, 10000), 0);
		for (int k = 0; k < n; k++) {
			int i = idx[k];

			if (!p[k].revents)
				continue;
			err[0] = '\0';
			got[i] = sysg_spawn_exec_result(c[i].exec_fd, cmd[i], err,
						       sizeof(err));
			ck_assert_int_ne(got[i], 1);    /* readable: known */
			if (i % 3) {
				ck_assert_int_eq(got[i], 0);
			} else {
				ck_assert_int_eq(got[i], -ENOENT);
				ck_assert_msg(strstr(err, cmd[i]) &&
					      strstr(err, "command not found"),
					      "%s", err);
			}
			close(c[i].exec_fd);
			left--;
		}
	}
	for (int i = 0; i < NASYNC; i++) {
		int st;

		if (i % 3)
			kill(c[i].pid, SIGKILL);
		ck_assert_int_eq(waitpid(c[i].pid, &st, 0), c[i].pid);
		if (!(i % 3))   /* it reported, then exited 127 */
			ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 127);
	}
}
END_TEST

/* A child held before its exec: its outcome is not known (1) until it
 * goes on. */
static int hold_child(void *arg, const char **stage)
{
	char go;

	(void)stage;
	return read(*(int *)arg, &go, 1) == 1 ? 0 : EIO;
}

START_TEST(test_exec_result_pending)
{
	int gate[2];
	struct sysg_child c;
	char err[256];
	struct pollfd p;
	struct sysg_spawn_req req = {
		.command = "sleep 30", .out_fd = SYSG_SPAWN_DEVNULL,
		.err_fd = SYSG_SPAWN_DEVNULL, .cgroup_fd = -1, .async_exec = 1,
		.child_setup = hold_child, .child_arg = &gate[0],
	};

	ck_assert_int_eq(pipe(gate), 0);
	ck_assert_int_eq(sysg_spawn(&req, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(sysg_spawn_exec_result(c.exec_fd, req.command, err,
						sizeof(err)), 1);
	ck_assert_int_eq(write(gate[1], "g", 1), 1);
	p.fd = c.exec_fd;
	p.events = POLLIN;
	ck_assert_int_eq(poll(&p, 1, 10000), 1);
	ck_assert_int_eq(sysg_spawn_exec_result(c.exec_fd, req.command, err,
						sizeof(err)), 0);
	close(c.exec_fd);
	close(gate[0]);
	close(gate[1]);
	kill(c.pid, SIGKILL);
	waitpid(c.pid, NULL, 0);
}
END_TEST

START_TEST(test_shell_exec_keeps_pid)
{
	/* `exec` makes the tracked pid the program, not a wrapper shell */
	struct sysg_spawn_req req = {
		.command = "sleep 5 > /dev/null", .out_fd = SYSG_SPAWN_DEVNULL,
		.err_fd = SYSG_SPAWN_DEVNULL, .cgroup_fd = -1,
	};
	struct sysg_child c;
	char err[256], path[64], *comm;
	int64_t end = tu_now_ms() + 4000;      /* sleep 5 is still there */

	ck_assert_int_eq(sysg_spawn(&req, &c, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)c.pid);
	for (;;) {
		comm = tu_read_file(path, NULL);
		if ((comm && !strcmp(comm, "sleep\n")) || tu_now_ms() > end)
			break;
		free(comm);
		usleep(2000);
	}
	ck_assert_str_eq(comm, "sleep\n");
	free(comm);
	kill(c.pid, SIGKILL);
	waitpid(c.pid, NULL, 0);
}
END_TEST

/* ---------------------------------------------------------------- */
/* loop                                                               */
/* ---------------------------------------------------------------- */

static int fired[4];

static void on_fire(struct sysg_timer *t)
{
	fired[(intptr_t)t->arg]++;
}

/* Many timers: equal delays fire in the order they were started, a
 * shorter one goes before them, and stopping or re-starting any of them
 * (first, middle, last) keeps the list whole. */
static int order[64], norder;

static void on_order(struct sysg_timer *t)
{
	order[norder++] = (int)(intptr_t)t->arg;
}

START_TEST(test_timers_many)
{
	struct sysg_loop *l;
	struct sysg_timer t[10];
	int want[] = { 9, 1, 2, 4, 5, 6, 7, 8, 0 };

	memset(t, 0, sizeof(t));
	norder = 0;
	ck_assert_int_eq(sysg_loop_new(&l), 0);
	for (int i = 0; i < 9; i++)
		sysg_timer_start(l, &t[i], 50, on_order, (void *)(intptr_t)i);
	sysg_timer_start(l, &t[9], 0, on_order, (void *)(intptr_t)9);
	sysg_timer_stop(l, &t[3]);              /* a middle one */
	sysg_timer_stop(l, &t[3]);              /* twice is fine */
	sysg_timer_start(l, &t[0], 60, on_order, (void *)(intptr_t)0);
	ck_assert(t[8].armed && t[0].armed && !t[3].armed);
	while (norder < 9)
		ck_assert_int_eq(sysg_loop_once(l, 1000), 0);
	for (int i = 0; i < 9; i++)
		ck_assert_int_eq(order[i], want[i]);
	for (int i = 0; i < 10; i++)
		ck_assert(!t[i].armed);
	/* the list is empty again: a new timer is first and last */
	sysg_timer_start(l, &t[3], 0, on_order, (void *)(intptr_t)3);
	while (norder < 10)
		ck_assert_int_eq(sysg_loop_once(l, 1000), 0);
	ck_assert_int_eq(order[9], 3);
	sysg_loop_free(l);
}
END_TEST

START_TEST(test_timers_in_order)
{
	struct sysg_loop *l;
	struct sysg_timer a = { 0 }, b = { 0 }, c = { 0 };
	int64_t t0 = sysg_now_ms();

	memset(fired, 0, sizeof(fired));
	ck_assert_int_eq(sysg_loop_new(&l), 0);
	sysg_timer_start(l, &a, 30, on_fire, (void *)(intptr_t)0);
	sysg_timer_start(l, &b, 10, on_fire, (void *)(intptr_t)1);
	sysg_timer_start(l, &c, 20, on_fire, (void *)(intptr_t)2);
	sysg_timer_stop(l, &c);
	while (!fired[0])
		ck_assert_int_eq(sysg_loop_once(l, 1000), 0);
	ck_assert_int_ge(sysg_now_ms() - t0, 30);
	ck_assert_int_eq(fired[1], 1);
	ck_assert_int_eq(fired[2], 0);
	sysg_loop_free(l);
}
END_TEST

static int got_signal;

static void on_sig(void *arg, const struct signalfd_siginfo *si)
{
	(void)arg;
	got_signal = (int)si->ssi_signo;
}

START_TEST(test_signals_through_loop)
{
	struct sysg_loop *l;

	got_signal = 0;
	ck_assert_int_eq(sysg_loop_new(&l), 0);
	sysg_loop_on_signal(l, on_sig, NULL);
	kill(getpid(), SIGHUP);
	/* one fd event (the signalfd); turns with only timers return 0 */
	ck_assert_int_eq(sysg_loop_once(l, 1000), 1);
	ck_assert_int_eq(got_signal, SIGHUP);
	sysg_loop_free(l);
}
END_TEST

static Suite *make_spawn_suite(void)
{
	Suite *s = suite_create("spawn");
	TCase *tc = tcase_create("spawn");

	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_split_and_join);
	tcase_add_test(tc, test_spawn_pipes_env_cwd);
	tcase_add_test(tc, test_exec_failure_reported);
	tcase_add_test(tc, test_exec_result_async);
	tcase_add_test(tc, test_exec_result_pending);
	tcase_add_test(tc, test_shell_exec_keeps_pid);
	tcase_add_test(tc, test_timers_in_order);
	tcase_add_test(tc, test_timers_many);
	tcase_add_test(tc, test_signals_through_loop);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_spawn_suite());
}
