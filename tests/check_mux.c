/* check_mux.c - the multiplexed foreground output: the mux itself (name
 * column, colours, progress text), then `sysg start --mux` off a
 * terminal (plain "name | line" and a progress line per change) and
 * `sysg start` on a pseudo-terminal (a colour per service, the progress
 * redrawn in place). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemontest.h"
#include "views/views.h"
#include "testutil.h"

static const char *three =
	"version: \"1\"\nservices:\n"
	"  db:\n    command: \"sh -c 'echo db up; echo db err >&2; "
	"sleep 1000'\"\n    ready_after: \"50ms\"\n"
	"  cache:\n    command: \"sh -c 'echo cache up; sleep 1000'\"\n"
	"    ready_after: \"50ms\"\n"
	"  api:\n    command: \"sh -c 'echo api listening; sleep 1000'\"\n"
	"    depends_on: [db, cache]\n    ready_after: \"50ms\"\n";

START_TEST(test_mux_plain_and_colour)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct sysg_mux *m;

	ck_assert_ptr_nonnull(f);
	m = sysg_mux_new(f, 0, 0);
	ck_assert_ptr_nonnull(m);
	sysg_mux_output(m, "db", 1, "hello", 5);
	sysg_mux_output(m, "frontend", 2, "oops", 4);
	sysg_mux_output(m, "db", 1, "", 0);
	fprintf(sysg_mux_sysg_stream(m), "a warning\n");
	sysg_mux_free(m);
	fclose(f);
	/* the column widens to the longest name seen */
	ck_assert_str_eq(buf, "db | hello\nfrontend | oops\n"
			 "db       | \nsysg     | a warning\n");
	free(buf);

	f = open_memstream(&buf, &len);
	m = sysg_mux_new(f, 1, 0);
	sysg_mux_output(m, "db", 1, "x", 1);
	sysg_mux_output(m, "db", 2, "y", 1);
	sysg_mux_free(m);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "db |\033[0m x\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\033[31my\033[0m\n"));
	ck_assert_int_eq(buf[0], '\033');
	free(buf);
}
END_TEST

START_TEST(test_progress_text)
{
	char b[128];

	sysg_mux_progress_text(b, sizeof(b), 3, 6, "db, cache, api", "");
	ck_assert_str_eq(b, "3/6 ready: db, cache, api");
	sysg_mux_progress_text(b, sizeof(b), 0, 2, "", "");
	ck_assert_str_eq(b, "0/2 ready");
	sysg_mux_progress_text(b, sizeof(b), 1, 2, "db", "web");
	ck_assert_str_eq(b, "1/2 ready: db; failed: web");
}
END_TEST

/* Start `sysg start ARGS` in T's directory with stdout (and stderr) on
 * FD; returns its pid. */
static pid_t start_with_stdout(struct dt *t, int fd, const char *extra)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (chdir(t->dir) < 0)
			_exit(126);
		putenv(t->env[0]);
		putenv(t->env[1]);
		unsetenv("NO_COLOR");
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(getenv("SYSG_BIN"), "sysg", "start", extra, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int stop_and_wait(pid_t pid)
{
	int status = -1;

	kill(pid, SIGTERM);
	for (int i = 0; i < 1000 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(10000);
	if (!WIFEXITED(status)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	return status;
}

START_TEST(test_start_mux_plain)
{
	struct dt t;
	char *path, *out;
	int fd, status;
	pid_t pid;

	dt_setup(&t, NULL, "%s", three);
	ck_assert_int_ne(asprintf(&path, "%s/out.txt", t.dir), -1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	pid = start_with_stdout(&t, fd, "--mux");
	close(fd);
	ck_assert_msg(dt_wait_file(&t, "out.txt", "3/3 ready", 10000),
		      "no progress line");
	ck_assert(dt_wait_file(&t, "out.txt", "db err", 5000));
	status = stop_and_wait(pid);
	ck_assert(WIFEXITED(status));
	out = tu_read_file(path, NULL);
	ck_assert_ptr_nonnull(out);
	ck_assert_msg(strstr(out, "db    | db up\n"), "%s", out);
	ck_assert_msg(strstr(out, "db    | db err\n"), "%s", out);
	ck_assert_msg(strstr(out, "cache | cache up\n"), "%s", out);
	ck_assert_msg(strstr(out, "api   | api listening\n"), "%s", out);
	ck_assert_msg(strstr(out, "sysg  | 3/3 ready: "), "%s", out);
	/* api starts after both: its line comes after db's and cache's */
	ck_assert(strstr(out, "api listening") > strstr(out, "db up"));
	ck_assert(strstr(out, "api listening") > strstr(out, "cache up"));
	ck_assert_ptr_null(strstr(out, "\033["));
	/* the log files still get everything */
	ck_assert(dt_wait_file(&t, "state/logs/db_stderr.log", "db err", 1));
	free(out);
	free(path);
	dt_teardown(&t);
}
END_TEST

struct pty_read {
	int fd;
	char buf[65536];
	size_t n;
};

static int pty_has_ready(void *arg)
{
	struct pty_read *r = arg;
	struct pollfd p = { .fd = r->fd, .events = POLLIN };

	while (r->n < sizeof(r->buf) - 1 && poll(&p, 1, 0) > 0) {
		ssize_t k = read(r->fd, r->buf + r->n, sizeof(r->buf) - 1 -
				 r->n);

		if (k <= 0)
			break;
		r->n += (size_t)k;
	}
	r->buf[r->n] = '\0';
	return strstr(r->buf, "3/3 ready") && strstr(r->buf, "api listening");
}

START_TEST(test_start_on_a_terminal)
{
	struct dt t;
	struct pty_read *r = calloc(1, sizeof(*r));
	int master;
	pid_t pid;

	ck_assert_ptr_nonnull(r);
	dt_setup(&t, NULL, "%s", three);
	pid = forkpty(&master, NULL, NULL, NULL);
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "cd \"$1\" && export \"$3\" "
		      "\"$4\" && exec \"$2\" start", "sh", t.dir,
		      getenv("SYSG_BIN"), t.env[0], t.env[1], (char *)NULL);
		_exit(127);
	}
	r->fd = master;
	ck_assert_msg(tu_wait_for(pty_has_ready, r, 10000, 10),
		      "no multiplexed output on the terminal:\n%s", r->buf);
	/* a colour per name, the progress redrawn in place */
	ck_assert_ptr_nonnull(strstr(r->buf, "db    |\033[0m db up"));
	ck_assert_ptr_nonnull(strstr(r->buf, "\r\033[K"));
	ck_assert_ptr_nonnull(strstr(r->buf, "\033[1m3/3 ready: "));
	ck_assert_ptr_nonnull(strstr(r->buf, "\033[31mdb err"));
	stop_and_wait(pid);
	close(master);
	free(r);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_logs_follow_mux)
{
	struct dt t;
	char *path, *out;
	int fd;
	pid_t pid;

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  a:\n    command: \"sh -c 'echo a-old; sleep 0.5; "
		 "while :; do echo a-new; sleep 0.1; done'\"\n"
		 "    ready_after: \"20ms\"\n"
		 "  bb:\n    command: \"sh -c 'echo bb-old; sleep 0.5; "
		 "while :; do echo bb-new; sleep 0.1; done'\"\n"
		 "    ready_after: \"20ms\"\n");
	dt_start_daemon(&t);
	dt_track(&t, dt_pid(&t, "a"));
	dt_track(&t, dt_pid(&t, "bb"));
	ck_assert(dt_wait_file(&t, "state/logs/bb_stdout.log", "bb-old", 5000));
	ck_assert_int_ne(asprintf(&path, "%s/follow.txt", t.dir), -1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (chdir(t.dir) < 0)
			_exit(126);
		putenv(t.env[0]);
		putenv(t.env[1]);
		dup2(fd, 1);
		execl(getenv("SYSG_BIN"), "sysg", "logs", "-f", "--mux",
		      "--kind", "stdout", "-n", "1", (char *)NULL);
		_exit(127);
	}
	close(fd);
	/* history first, then new lines of both, "name | line" */
	ck_assert(dt_wait_file(&t, "follow.txt", " | a-new\n", 10000));
	ck_assert(dt_wait_file(&t, "follow.txt", " | bb-new\n", 10000));
	stop_and_wait(pid);
	out = tu_read_file(path, NULL);
	ck_assert_ptr_nonnull(out);
	/* every line is "NAME<padding> | text", the names aligned */
	ck_assert_msg(!strncmp(out, "a ", 2) && strstr(out, " | a-old\nbb ") &&
		      strstr(out, " | bb-old\n"), "%s", out);
	{
		const char *bb = strstr(out, "\nbb ") + 1;

		ck_assert_msg(strchr(out, '|') - out == strchr(bb, '|') - bb,
			      "names not aligned:\n%s", out);
	}
	ck_assert_ptr_null(strstr(out, "==>"));
	free(out);
	free(path);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);
}
END_TEST

static void env_for_pty(void)
{
	unsetenv("NO_COLOR");
}

static Suite *make_mux_suite(void)
{
	Suite *s = suite_create("mux");
	TCase *tc = tcase_create("mux");

	tcase_add_test(tc, test_mux_plain_and_colour);
	tcase_add_test(tc, test_progress_text);
	suite_add_tcase(s, tc);
	tc = tcase_create("start");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_checked_fixture(tc, env_for_pty, NULL);
	tcase_add_test(tc, test_start_mux_plain);
	tcase_add_test(tc, test_start_on_a_terminal);
	tcase_add_test(tc, test_logs_follow_mux);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_mux_suite());
}
