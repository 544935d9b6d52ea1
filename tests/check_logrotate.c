/* check_logrotate.c - log rotation (issue 11 item 7): the `logs:` keys,
 * shifting rotated files, lossless rotation in both modes with a writer
 * going at full speed (pipe mode through the engine, direct mode with a
 * process writing the file itself, and the resident supervisor
 * black-box), and reopening after an external logrotate (`sysg logs
 * --reopen`, SIGUSR1). "Lossless" is checked line by line: the rotated
 * files, oldest first, then the live file hold 1, 2, 3, ... with no
 * gap, no duplicate and no line split across files. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "daemontest.h"
#include "enginetest.h"
#include "proc/proc.h"
#include "testutil.h"

/* ------------------------------------------------------------ checks */

/* Check that PATH.N .. PATH.1, PATH hold "line 1" .. "line K" in order,
 * each file ending at a line end; lines starting with "last" are
 * skipped. Returns K (the number of lines), or -1 with a message. */
static long check_sequence(const char *path, char *msg, size_t len)
{
	char name[4200];
	long expect = 1;
	int top = 0;
	struct stat st;

	while (snprintf(name, sizeof(name), "%s.%d", path, top + 1),
	       stat(name, &st) == 0)
		top++;
	for (int n = top; n >= 0; n--) {
		size_t size;
		char *text, *p;

		if (n)
			snprintf(name, sizeof(name), "%s.%d", path, n);
		else
			snprintf(name, sizeof(name), "%s", path);
		text = tu_read_file(name, &size);
		if (!text) {
			snprintf(msg, len, "cannot read %.200s", name);
			return -1;
		}
		if (size && text[size - 1] != '\n') {
			snprintf(msg, len, "%.200s ends inside a line", name);
			free(text);
			return -1;
		}
		for (p = text; *p; p = strchr(p, '\n') + 1) {
			long got;

			if (!strncmp(p, "last", 4))
				continue;
			/* not sscanf: it runs strlen over the whole rest */
			got = strncmp(p, "line ", 5) ? -1 : strtol(p + 5, NULL, 10);
			if (got != expect) {
				snprintf(msg, len, "%.150s: expected line %ld, found "
					 "'%.20s'", name, expect, p);
				free(text);
				return -1;
			}
			expect++;
		}
		free(text);
	}
	return expect - 1;
}

static int rotated_count(const char *path)
{
	char name[4200];
	struct stat st;
	int n = 0;

	while (snprintf(name, sizeof(name), "%s.%d", path, n + 1),
	       stat(name, &st) == 0)
		n++;
	return n;
}

/* ------------------------------------------------------------ config */

static struct sysg_config *load(const char *yaml, struct sysg_diag *d)
{
	struct sysg_config *cfg = NULL;

	sysg_diag_init(d);
	sysg_config_load_buffer("t.yaml", "/tmp", yaml, strlen(yaml), &cfg, d);
	return cfg;
}

START_TEST(test_logs_keys)
{
	struct sysg_diag d;
	struct sysg_config *cfg = load(
		"version: \"1\"\n"
		"logs: { max_size: 10M, keep: 3 }\n"
		"services:\n"
		"  a: { command: \"true\" }\n"
		"  b: { command: \"true\", logs: { max_size: 64K, compress: true } }\n"
		"  c: { command: \"true\", logs: { keep: 9 } }\n", &d);

	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(cfg->services[0].logs.max_size, 10 << 20);
	ck_assert_int_eq(cfg->services[0].logs.keep, 3);
	ck_assert_int_eq(cfg->services[0].logs.compress, 0);
	ck_assert_int_eq(cfg->services[1].logs.max_size, 64 << 10);
	ck_assert_int_eq(cfg->services[1].logs.keep, 3);
	ck_assert_int_eq(cfg->services[1].logs.compress, 1);
	ck_assert_int_eq(cfg->services[2].logs.max_size, 10 << 20);
	ck_assert_int_eq(cfg->services[2].logs.keep, 9);
	sysg_config_free(cfg);
	sysg_diag_free(&d);

	cfg = load("version: \"1\"\nservices:\n  a: { command: \"true\" }\n", &d);
	ck_assert_int_eq(cfg->services[0].logs.max_size, 0);
	ck_assert_int_eq(cfg->services[0].logs.keep, SYSG_LOGS_KEEP);
	sysg_config_free(cfg);
	sysg_diag_free(&d);

	cfg = load("version: \"1\"\nservices:\n"
		   "  a: { command: \"true\", logs: { max_size: 1x, keep: 0, "
		   "compres: true } }\n", &d);
	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(d.n, 3);
	ck_assert_ptr_nonnull(strstr(d.lines[0], "services.a.logs.max_size"));
	ck_assert_ptr_nonnull(strstr(d.lines[1], "services.a.logs.keep"));
	ck_assert_ptr_nonnull(strstr(d.lines[2], "did you mean 'compress'"));
	sysg_diag_free(&d);
}
END_TEST

/* ------------------------------------------------------------- shift */

START_TEST(test_shift)
{
	char *dir = tu_mkdtemp("logshift"), path[4096], *t;

	snprintf(path, sizeof(path), "%s/a.log", dir);
	free(tu_write_file(dir, "a.log.1", "one"));
	free(tu_write_file(dir, "a.log.2.gz", "two"));
	free(tu_write_file(dir, "a.log.3", "three"));
	free(tu_write_file(dir, "a.log.4.gz", "from a larger keep"));
	free(tu_write_file(dir, "a.log.5", "from a larger keep"));
	ck_assert_int_eq(sysg_log_shift(path, 3), 0);
	snprintf(path, sizeof(path), "%s/a.log.2", dir);
	ck_assert_str_eq(t = tu_read_file(path, NULL), "one");
	free(t);
	snprintf(path, sizeof(path), "%s/a.log.3.gz", dir);
	ck_assert_str_eq(t = tu_read_file(path, NULL), "two");
	free(t);
	snprintf(path, sizeof(path), "%s/a.log.1", dir);
	ck_assert_int_eq(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/a.log.4", dir);
	ck_assert_int_eq(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/a.log.4.gz", dir);
	ck_assert_int_eq(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/a.log.5", dir);
	ck_assert_int_eq(access(path, F_OK), -1);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* --------------------------------------------------- direct (library) */

/* A process writing "line N" to FD (O_APPEND) as fast as it can until
 * STOP exists, then "last N". */
static pid_t full_speed_writer(int fd, const char *stop)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char buf[64];
		long i = 0;

		while (access(stop, F_OK) < 0) {
			int n = snprintf(buf, sizeof(buf), "line %ld\n", ++i);

			if (write(fd, buf, (size_t)n) != n)
				_exit(3);
		}
		dprintf(fd, "last %ld\n", i);
		_exit(0);
	}
	return pid;
}

START_TEST(test_copy_rotation_loses_nothing)
{
	char *dir = tu_mkdtemp("logcopy"), path[4096], stop[4096], msg[256];
	char err[512], c;
	int fd, status, ready[2];
	pid_t w, reader;
	long lines;

	snprintf(path, sizeof(path), "%s/w_stdout.log", dir);
	snprintf(stop, sizeof(stop), "%s/stop", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	ck_assert_int_ge(fd, 0);
	w = full_speed_writer(fd, stop);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	reader = fork();        /* tail -f: holds the file, only reads */
	ck_assert_int_ge(reader, 0);
	if (reader == 0) {
		int rfd;

		close(fd);      /* inherited: it would be a writer */
		rfd = open(path, O_RDONLY | O_CLOEXEC);
		(void)rfd;
		close(ready[1]);        /* says it only reads now */
		pause();
		_exit(0);
	}
	/* until the reader closed its copy of FD it is a writer, which a
	 * rotation rightly stops: rotate once it only reads */
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 0);
	close(ready[0]);
	for (int i = 0; i < 6; i++) {
		struct stat st;
		int64_t until = tu_now_ms() + 5000;

		/* let it write something between rotations */
		do
			ck_assert_int_eq(fstat(fd, &st), 0);
		while (st.st_size < 50000 && tu_now_ms() < until);
		ck_assert_msg(sysg_log_rotate_copy(path, fd, 20, err,
						   sizeof(err)) == 0, "%s", err);
	}
	/* the writer was stopped and continued, the reader never */
	ck_assert_int_eq(waitpid(w, &status, WNOHANG | WCONTINUED), w);
	ck_assert(WIFCONTINUED(status));
	ck_assert_int_eq(waitpid(reader, &status, WNOHANG | WCONTINUED |
				 WUNTRACED), 0);
	kill(reader, SIGKILL);
	waitpid(reader, NULL, 0);
	free(tu_write_file(dir, "stop", ""));
	ck_assert_int_eq(waitpid(w, &status, 0), w);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(rotated_count(path), 6);
	lines = check_sequence(path, msg, sizeof(msg));
	ck_assert_msg(lines > 0, "%s", msg);
	close(fd);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* --------------------------------------------------- pipe (library) */

static int64_t cut_at[4];
static int ncuts;

static void note_cut(struct sysg_drain *d)
{
	if (ncuts < 4)
		cut_at[ncuts++] = d->size;
	d->size = 0;
}

/* A chunk read from the pipe that ends inside the line crossing
 * max_size is not cut at its last line end (short of max_size): the
 * cut is at the first line end past max_size, in the next chunk. */
START_TEST(test_drain_cuts_past_max_size)
{
	static const char lines[] = "abcdefghi\nabcdefghi\nabcdefghi\n"
		"abcdefghi\nabcdefghi\nabcdefghi\nabcdefghi\nabcdefghi\n"
		"abcdefghi\nabcdefghijklmno";         /* 90 + 15 bytes */
	char *dir = tu_mkdtemp("drain"), path[4096];
	struct sysg_loop *l;
	struct sysg_drain *d;
	int p[2], log;

	ck_assert_int_eq(sysg_loop_new(&l), 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	snprintf(path, sizeof(path), "%s/w_stdout.log", dir);
	log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	ck_assert_int_ge(log, 0);
	d = sysg_drain_new(l, p[0], log, "w", 1, NULL, NULL, NULL);
	ck_assert_ptr_nonnull(d);
	d->max_size = 100;
	d->rotate = note_cut;
	ncuts = 0;
	ck_assert_int_eq(write(p[1], lines, 105), 105);
	ck_assert_int_eq(sysg_drain_pump(d), 0);
	ck_assert_int_eq(ncuts, 0);             /* no line end past 100 yet */
	ck_assert_int_eq(write(p[1], "pq\nxyz\n", 7), 7);
	ck_assert_int_eq(sysg_drain_pump(d), 0);
	ck_assert_int_eq(ncuts, 1);
	ck_assert_int_eq(cut_at[0], 108);
	ck_assert_int_eq(d->size, 4);           /* "xyz\n" after the cut */
	sysg_drain_free(d);
	close(p[1]);
	close(log);
	sysg_loop_free(l);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* logrotate's way: rename the file away, then reopen. */
START_TEST(test_reclaim_after_rename)
{
	char *dir = tu_mkdtemp("logreclaim"), path[4096], one[4200];
	char stop[4096], msg[256], err[512];
	int fd, status, keep;
	pid_t w;
	struct stat a, b;

	snprintf(path, sizeof(path), "%s/w_stdout.log", dir);
	snprintf(one, sizeof(one), "%s.1", path);
	snprintf(stop, sizeof(stop), "%s/stop", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	ck_assert_int_ge(fd, 0);
	keep = fd;
	w = full_speed_writer(fd, stop);
	/* nothing to do while the name is right */
	ck_assert_int_eq(sysg_log_reclaim(path, &fd, err, sizeof(err)), 0);
	do
		ck_assert_int_eq(fstat(fd, &a), 0);
	while (a.st_size < 50000);
	ck_assert_int_eq(rename(path, one), 0);
	do
		ck_assert_int_eq(stat(one, &b), 0);
	while (b.st_size < a.st_size + 50000);
	ck_assert_msg(sysg_log_reclaim(path, &fd, err, sizeof(err)) == 1, "%s",
		      err);
	ck_assert_int_ne(fd, keep);     /* reopened by its name */
	/* the writer's file is PATH again; PATH.1 is a copy */
	ck_assert_int_eq(fstat(fd, &a), 0);
	ck_assert_int_eq(stat(path, &b), 0);
	ck_assert(a.st_ino == b.st_ino);
	ck_assert_int_eq(stat(one, &b), 0);
	ck_assert(a.st_ino != b.st_ino);
	/* and again, as after a second logrotate */
	while (stat(path, &b) == 0 && b.st_size < 50000)
		;
	ck_assert_int_eq(sysg_log_shift(path, 5), 0);
	ck_assert_int_eq(rename(path, one), 0);
	ck_assert_msg(sysg_log_reclaim(path, &fd, err, sizeof(err)) == 1, "%s",
		      err);
	free(tu_write_file(dir, "stop", ""));
	ck_assert_int_eq(waitpid(w, &status, 0), w);
	ck_assert_msg(check_sequence(path, msg, sizeof(msg)) > 0, "%s", msg);
	close(fd);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* ------------------------------------------------- pipe mode (engine) */

static const char writer_sh[] =
	"i=0\n"
	"while [ ! -e stop ]; do i=$((i+1)); echo \"line $i\"; done\n"
	"echo \"last $i\"\n";

START_TEST(test_pipe_mode_rotation)
{
	struct et t;
	char path[4096], msg[256];
	int64_t until;

	et_setup(&t, 1, "version: \"1\"\n"
		 "logs: { max_size: 64K, keep: 100 }\n"
		 "services:\n  w: { command: \"sh w.sh\" }\n");
	free(tu_write_file(t.dir, "w.sh", writer_sh));
	snprintf(path, sizeof(path), "%s/logs/w_stdout.log", t.state_dir);
	ck_assert_int_eq(sysg_supervisor_start_all(t.sup), 0);
	until = tu_now_ms() + 20000;
	while (rotated_count(path) < 4 && tu_now_ms() < until)
		et_run_for(&t, 20);
	ck_assert_int_ge(rotated_count(path), 4);
	free(tu_write_file(t.dir, "stop", ""));
	ck_assert_int_eq(et_wait_status(&t, "w", "exited", 10000), 0);
	ck_assert_msg(check_sequence(path, msg, sizeof(msg)) > 0, "%s", msg);
	/* no rotated file is much larger than max_size: the cut is at the
	 * first line end past it */
	for (int n = 1; n <= 4; n++) {
		char name[4200];
		struct stat st;

		snprintf(name, sizeof(name), "%s.%d", path, n);
		ck_assert_int_eq(stat(name, &st), 0);
		ck_assert_int_le(st.st_size, 64 * 1024 + 16384);
		ck_assert_int_ge(st.st_size, 64 * 1024);
	}
	et_teardown(&t);
}
END_TEST

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* compress: rotated files are gzipped, and keep bounds their number */
START_TEST(test_compress_and_keep)
{
	struct et t;
	char path[4096], gz[4200], cmd[8500], plain1[4200], plain2[4200];
	int64_t until;

	et_setup(&t, 1, "version: \"1\"\n"
		 "services:\n  w:\n    command: \"sh w.sh\"\n"
		 "    logs: { max_size: 32K, keep: 2, compress: true }\n");
	free(tu_write_file(t.dir, "w.sh", writer_sh));
	snprintf(path, sizeof(path), "%s/logs/w_stdout.log", t.state_dir);
	snprintf(gz, sizeof(gz), "%s.2.gz", path);
	ck_assert_int_eq(sysg_supervisor_start_all(t.sup), 0);
	until = tu_now_ms() + 20000;
	while (!exists(gz) && tu_now_ms() < until)
		et_run_for(&t, 20);
	free(tu_write_file(t.dir, "stop", ""));
	ck_assert_int_eq(et_wait_status(&t, "w", "exited", 10000), 0);
	/* every rotated file ends up compressed: a rotation never renames
	 * a file gzip is still working on */
	snprintf(plain1, sizeof(plain1), "%s.1", path);
	snprintf(plain2, sizeof(plain2), "%s.2", path);
	until = tu_now_ms() + TU_DEADLINE_MS;
	while ((exists(plain1) || exists(plain2)) && tu_now_ms() < until)
		et_run_for(&t, 20);
	ck_assert(!exists(plain1) && !exists(plain2));
	ck_assert(exists(gz));
	snprintf(gz, sizeof(gz), "%s.3.gz", path);
	ck_assert(!exists(gz));
	snprintf(gz, sizeof(gz), "%s.3", path);
	ck_assert(!exists(gz));
	snprintf(cmd, sizeof(cmd), "gzip -t '%s.2.gz' && gzip -dc '%s.2.gz' | "
		 "grep -q '^line '", path, path);
	ck_assert_int_eq(system(cmd), 0);
	et_teardown(&t);
}
END_TEST

/* pipe mode: SIGUSR1 / reopen opens the path anew after a rename */
START_TEST(test_pipe_mode_reopen)
{
	struct et t;
	char path[4096], moved[4200], err[512], msg[256];
	struct stat st;
	int64_t until;

	et_setup(&t, 1, "version: \"1\"\nservices:\n  w: { command: \"sh w.sh\" }\n");
	free(tu_write_file(t.dir, "w.sh", writer_sh));
	snprintf(path, sizeof(path), "%s/logs/w_stdout.log", t.state_dir);
	snprintf(moved, sizeof(moved), "%s.1", path);
	ck_assert_int_eq(sysg_supervisor_start_all(t.sup), 0);
	until = tu_now_ms() + 10000;
	while ((stat(path, &st) < 0 || st.st_size < 20000) &&
	       tu_now_ms() < until)
		et_run_for(&t, 20);
	ck_assert_int_eq(rename(path, moved), 0);
	et_run_for(&t, 50);     /* still written to the moved file */
	ck_assert_msg(sysg_supervisor_reopen_logs(t.sup, err, sizeof(err)) == 0,
		      "%s", err);
	until = tu_now_ms() + 10000;
	while ((stat(path, &st) < 0 || st.st_size < 20000) &&
	       tu_now_ms() < until)
		et_run_for(&t, 20);
	free(tu_write_file(t.dir, "stop", ""));
	ck_assert_int_eq(et_wait_status(&t, "w", "exited", 10000), 0);
	ck_assert_msg(check_sequence(path, msg, sizeof(msg)) > 0, "%s", msg);
	et_teardown(&t);
}
END_TEST

/* ---------------------------------------- resident supervisor (black-box) */

static int rotations_at_least(void *arg)
{
	struct dt *t = arg;
	char path[4096];

	snprintf(path, sizeof(path), "%s/logs/w_stdout.log", t->state);
	return rotated_count(path) >= 3;
}

START_TEST(test_resident_rotation_and_reopen)
{
	struct dt t;
	struct run_result r;
	char path[4096], xpath[4096], one[4200], msg[256], sup[4096];
	pid_t pid;
	long lines;

	/* w rotates by size; x's file is rotated by "logrotate" */
	dt_setup(&t, NULL, "version: \"1\"\n"
		 "services:\n"
		 "  w:\n    command: \"sh w.sh\"\n"
		 "    logs: { max_size: 100K, keep: 100 }\n"
		 "  x:\n    command: \"sh w.sh\"\n");
	dt_write(&t, "w.sh", writer_sh);
	pid = dt_start_daemon(&t);
	snprintf(xpath, sizeof(xpath), "%s/logs/x_stdout.log", t.state);
	ck_assert(tu_wait_for(rotations_at_least, &t, 20000, 50));
	/* an external logrotate: rename, then `sysg logs --reopen` */
	snprintf(one, sizeof(one), "%s.1", xpath);
	ck_assert_int_eq(rename(xpath, one), 0);
	ck_assert_int_eq(dt_sysg(&t, &r, "logs", "--reopen", NULL), 0);
	run_result_free(&r);
	ck_assert_int_eq(access(xpath, F_OK), 0);
	/* supervisor.log renamed away; SIGUSR1 makes a new one */
	snprintf(sup, sizeof(sup), "%s/logs/supervisor.log", t.state);
	snprintf(one, sizeof(one), "%s.1", sup);
	ck_assert_int_eq(rename(sup, one), 0);
	ck_assert_int_eq(kill(pid, SIGUSR1), 0);
	ck_assert(dt_wait_file(&t, "state/logs/supervisor.log",
			       "Received SIGUSR1", 5000));
	dt_write(&t, "stop", "");
	ck_assert(dt_wait_status(&t, "w", "exited", 10000));
	ck_assert(dt_wait_status(&t, "x", "exited", 10000));
	snprintf(path, sizeof(path), "%s/logs/w_stdout.log", t.state);
	lines = check_sequence(path, msg, sizeof(msg));
	ck_assert_msg(lines > 0, "%s", msg);
	ck_assert_int_ge(rotated_count(path), 3);
	lines = check_sequence(xpath, msg, sizeof(msg));
	ck_assert_msg(lines > 0, "%s", msg);
	ck_assert_int_eq(rotated_count(xpath), 1);
	ck_assert(dt_wait_file(&t, "state/logs/supervisor.log.1",
			       "Rotated log file", 10));
	dt_teardown(&t);
}
END_TEST

START_TEST(test_reopen_needs_a_supervisor)
{
	struct dt t;
	struct run_result r;

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n  a: { command: \"true\" }\n");
	ck_assert_int_eq(dt_sysg(&t, &r, "logs", "--reopen", NULL), 3);
	run_result_free(&r);
	dt_teardown(&t);
}
END_TEST

static Suite *make_logrotate_suite(void)
{
	Suite *s = suite_create("logrotate");
	TCase *unit = tcase_create("unit"), *live = tcase_create("live");

	tcase_add_test(unit, test_logs_keys);
	tcase_add_test(unit, test_shift);
	tcase_set_timeout(live, 90);
	tcase_add_unchecked_fixture(live, dt_suite_setup, dt_suite_teardown);
	tcase_add_test(live, test_copy_rotation_loses_nothing);
	tcase_add_test(live, test_drain_cuts_past_max_size);
	tcase_add_test(live, test_reclaim_after_rename);
	tcase_add_test(live, test_pipe_mode_rotation);
	tcase_add_test(live, test_compress_and_keep);
	tcase_add_test(live, test_pipe_mode_reopen);
	tcase_add_test(live, test_resident_rotation_and_reopen);
	tcase_add_test(live, test_reopen_needs_a_supervisor);
	suite_add_tcase(s, unit);
	suite_add_tcase(s, live);
	return s;
}

int main(void)
{
	return tu_run_suite(make_logrotate_suite());
}
