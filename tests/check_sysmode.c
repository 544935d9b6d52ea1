/* check_sysmode.c - system mode (`--sys`, SPEC 3/5/10, issue 12), black
 * box: state in /var/lib/systemg, logs in /var/log/systemg, sysg.pid and
 * control.sock in /run/sysg, the default config found in /etc/systemg,
 * every command reaching the same supervisor, READY=1 to $NOTIFY_SOCKET
 * (systemd's Type=notify), and --sys refused when not root.
 *
 * The real /var, /run and /etc are never touched: every system path is
 * prefixed with $SYSG_SYS_ROOT, a directory of the fixture (SYSG_STATE_DIR
 * is not set here, it would override them all). Tests that need root skip
 * saying why when not root. Needs $SYSG_BIN. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "daemontest.h"
#include "proc/proc.h"
#include "testutil.h"

static const char *yaml =
	"version: \"1\"\nservices:\n"
	"  db: { command: \"sleep 1000\", ready_after: \"200ms\" }\n"
	"  web:\n"
	"    command: \"sh -c 'echo hello-sys; exec sleep 1000'\"\n"
	"    depends_on: [db]\n";

struct sys {
	struct dt t;
	char *root;             /* $SYSG_SYS_ROOT */
	char *env[4];           /* SYSG_SYS_ROOT, HOME, NOTIFY_SOCKET, NULL */
};

static int skip(const char *test, const char *why)
{
	fprintf(stderr, "SKIP %s: %s\n", test, why);
	return 1;
}

/* A fixture whose system root is DIR/root, the config in its
 * etc/systemg/NAME (none in the working directory). The fixture's env[0]
 * becomes SYSG_SYS_ROOT=..., so that its teardown kills whatever carries
 * it. */
static void sys_setup(struct sys *s, const char *name)
{
	char *p = NULL;

	memset(s, 0, sizeof(*s));
	dt_setup(&s->t, NULL, "%s", "");
	ck_assert_int_eq(chmod(s->t.dir, 0755), 0);
	ck_assert_int_ne(asprintf(&p, "%s/sysg.yaml", s->t.dir), -1);
	ck_assert_int_eq(unlink(p), 0);
	free(p);
	ck_assert_int_ne(asprintf(&s->root, "%s/root", s->t.dir), -1);
	free(s->t.env[0]);
	ck_assert_int_ne(asprintf(&s->t.env[0], "SYSG_SYS_ROOT=%s", s->root),
			 -1);
	ck_assert_int_ne(asprintf(&p, "root/etc/systemg/%s", name), -1);
	dt_write(&s->t, p, yaml);
	free(p);
	s->env[0] = s->t.env[0];
	s->env[1] = s->t.env[1];
}

static void sys_teardown(struct sys *s)
{
	free(s->env[2]);
	free(s->root);
	dt_teardown(&s->t);
}

/* Run `sysg --sys ARGS...` in the fixture (without SYSG_STATE_DIR). */
#define SYS(s, r, ...) run_sysg((s)->t.dir, (s)->env, (r), "--sys", \
				__VA_ARGS__, (char *)NULL)

static int sys_ok(struct run_result *r, int rc)
{
	ck_assert_int_eq(rc, 0);
	if (r->status)
		fprintf(stderr, "sysg: %d %s%s", r->status, r->out, r->err);
	return r->status;
}

/* ROOT/REL exists as a file of type TYPE (S_IFREG...), 0 when absent. */
static int has(struct sys *s, const char *rel, mode_t type)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", s->root, rel);
	return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == type;
}

static mode_t mode_of(struct sys *s, const char *rel)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", s->root, rel);
	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static char *root_read(struct sys *s, const char *rel)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", s->root, rel);
	return tu_read_file(path, NULL);
}

static pid_t supervisor_pid(struct sys *s)
{
	char *text = root_read(s, "run/sysg/sysg.pid");
	pid_t pid = text ? (pid_t)atol(text) : 0;

	free(text);
	return pid;
}

/* NAME's status word and pid from `sysg --sys status --json`. */
static pid_t unit_pid(struct sys *s, const char *name, char *word,
		      size_t len)
{
	struct run_result r;
	json_t *doc, *u;
	pid_t pid = 0;

	snprintf(word, len, "%s", "");
	if (sys_ok(&r, SYS(s, &r, "status", "--json")) == 0 &&
	    (doc = json_loads(r.out, 0, NULL))) {
		u = dt_unit(doc, name);
		if (u) {
			snprintf(word, len, "%s", json_string_value(
					 json_object_get(u, "status")) ?: "");
			pid = (pid_t)json_integer_value(json_object_get(u,
									"pid"));
		}
		json_decref(doc);
	}
	run_result_free(&r);
	return pid;
}

static int wait_root_file(struct sys *s, const char *rel, const char *needle)
{
	for (int64_t end = tu_now_ms() + TU_DEADLINE_MS; tu_now_ms() < end;) {
		char *text = root_read(s, rel);
		int found = text && strstr(text, needle);

		free(text);
		if (found)
			return 1;
		usleep(20 * 1000);
	}
	return 0;
}

/* The arguments of examples/sysg.service's ExecStart after /usr/bin/sysg,
 * into ARGV (NULL-terminated; the words point into *TEXT, to free);
 * asserts that the unit is Type=notify with NotifyAccess=all. */
static void unit_exec_start(char **text, char **argv, int max)
{
	const char *src = getenv("SYSG_SRCDIR");
	char path[4200], *line, *save = NULL, *w;
	int n = 0;

	ck_assert_ptr_nonnull(src);
	snprintf(path, sizeof(path), "%s/examples/sysg.service", src);
	*text = tu_read_file(path, NULL);
	ck_assert_ptr_nonnull(*text);
	ck_assert(strstr(*text, "\nType=notify\n"));
	ck_assert(strstr(*text, "\nNotifyAccess=all\n"));
	line = strstr(*text, "\nExecStart=");
	ck_assert_ptr_nonnull(line);
	line += strlen("\nExecStart=");
	line[strcspn(line, "\n")] = '\0';
	w = strtok_r(line, " ", &save);
	ck_assert_str_eq(w, "/usr/bin/sysg");
	argv[n++] = getenv("SYSG_BIN");
	while ((w = strtok_r(NULL, " ", &save)) && n < max - 1)
		argv[n++] = w;
	argv[n] = NULL;
	ck_assert_str_eq(argv[1], "--sys");
}

/* The whole life of a system-mode supervisor, as systemd would run it
 * (examples/sysg.service): every command with --sys reaches it. */
START_TEST(test_sys_mode_files_and_commands)
{
	struct sys s;
	struct run_result r;
	char addr[4200], buf[1024], want[64], word[32];
	char *hint, *expect = NULL, *unit, *argv[16];
	pid_t sup, web, web2;
	int fd;

	if (geteuid() != 0 && skip("sys_mode_files_and_commands", "needs root"))
		return;
	sys_setup(&s, "sysg.yaml");
	snprintf(addr, sizeof(addr), "%s/notify.sock", s.t.dir);
	if (strlen(addr) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		snprintf(addr, sizeof(addr), "@sysg-check-sys-%d", (int)getpid());
	fd = dt_listen_dgram(addr);
	ck_assert_int_ne(asprintf(&s.env[2], "NOTIFY_SOCKET=%s", addr), -1);

	/* the unit's own command line; the config comes from
	 * ROOT/etc/systemg: none in the cwd */
	unit_exec_start(&unit, argv, 16);
	ck_assert_int_eq(sys_ok(&r, run_capture(argv, s.t.dir, s.env, 30000,
						&r)), 0);
	run_result_free(&r);
	free(unit);
	sup = supervisor_pid(&s);
	ck_assert_int_gt(sup, 0);
	dt_track(&s.t, sup);
	ck_assert(sysg_proc_is_alive(sup, 0));
	/* READY=1 once every service is up, naming the supervisor */
	dt_next_message(fd, buf, sizeof(buf), 5000);
	ck_assert_msg(strstr(buf, "READY=1"), "got '%s'", buf);
	snprintf(want, sizeof(want), "MAINPID=%d", (int)sup);
	ck_assert_msg(strstr(buf, want), "got '%s', want %s", buf, want);
	free(s.env[2]);         /* the later commands are not systemd's */
	s.env[2] = NULL;

	/* /run/sysg: pid file and control socket; /var/lib/systemg: the
	 * state, not the pid file; /var/log/systemg: the logs */
	ck_assert(has(&s, "run/sysg/control.sock", S_IFSOCK));
	ck_assert(has(&s, "run/sysg/sysg.pid", S_IFREG));
	ck_assert_int_eq(mode_of(&s, "run/sysg"), 0700);
	ck_assert_int_eq(mode_of(&s, "var/lib/systemg"), 0700);
	ck_assert(has(&s, "var/lib/systemg/pid.xml", S_IFREG));
	/* a copy of sysg.pid where systemg keeps it, for scripts */
	hint = root_read(&s, "var/lib/systemg/sysg.pid");
	ck_assert_msg(hint && atol(hint) == sup, "%s", hint);
	free(hint);
	ck_assert(!has(&s, "var/lib/systemg/sysg.lock", S_IFREG));
	ck_assert(!has(&s, "var/lib/systemg/control.sock", S_IFSOCK));
	ck_assert(!has(&s, "var/lib/systemg/logs", S_IFDIR));
	hint = root_read(&s, "var/lib/systemg/config_hint");
	ck_assert_int_ne(asprintf(&expect, "%s/etc/systemg/sysg.yaml", s.root),
			 -1);
	ck_assert_msg(hint && strstr(hint, expect), "hint: %s", hint);
	free(hint);
	free(expect);
	ck_assert(wait_root_file(&s, "var/log/systemg/web_stdout.log",
				 "hello-sys"));
	ck_assert(wait_root_file(&s, "var/log/systemg/supervisor.log",
				 "Starting service: web"));

	/* status, logs, inspect, restart, deploy: the same supervisor */
	web = unit_pid(&s, "web", word, sizeof(word));
	ck_assert_str_eq(word, "running");
	ck_assert_int_gt(web, 0);
	dt_track(&s.t, web);
	ck_assert_int_eq(sys_ok(&r, SYS(&s, &r, "logs", "-s", "web")), 0);
	ck_assert_msg(strstr(r.out, "hello-sys"), "%s", r.out);
	run_result_free(&r);
	ck_assert_int_eq(sys_ok(&r, SYS(&s, &r, "inspect", "-s", "web",
					    "--json")), 0);
	snprintf(want, sizeof(want), "%d", (int)web);
	ck_assert_msg(strstr(r.out, want), "%s", r.out);
	run_result_free(&r);
	ck_assert_int_eq(sys_ok(&r, SYS(&s, &r, "restart", "-s", "web")),
			 0);
	run_result_free(&r);
	ck_assert(dt_wait_gone(web, 5000));
	web2 = unit_pid(&s, "web", word, sizeof(word));
	ck_assert_str_eq(word, "running");
	ck_assert(web2 > 0 && web2 != web);
	dt_track(&s.t, web2);
	ck_assert_int_eq(sys_ok(&r, SYS(&s, &r, "deploy", "-s", "web")), 0);
	run_result_free(&r);
	ck_assert(dt_wait_gone(web2, 5000));
	ck_assert_int_eq(sys_ok(&r, SYS(&s, &r, "deploy", "--history",
					    "-s", "web", "--json")), 0);
	ck_assert_msg(strstr(r.out, "\"success\""), "%s", r.out);
	run_result_free(&r);
	ck_assert_int_eq(supervisor_pid(&s), sup);   /* still the one */

	/* a user-mode command does not reach it (another state dir) */
	ck_assert_int_eq(run_sysg(s.t.dir, s.env, &r, "logs", "--reopen",
				  (char *)NULL), 0);
	ck_assert_int_eq(r.status, 3);
	run_result_free(&r);
	ck_assert_int_eq(sys_ok(&r, SYS(&s, &r, "logs", "--reopen")), 0);
	run_result_free(&r);

	/* purge refuses while it runs; stop ends it and its files */
	ck_assert_int_eq(SYS(&s, &r, "purge"), 0);
	ck_assert_int_eq(r.status, 1);
	run_result_free(&r);
	ck_assert_int_eq(sys_ok(&r, SYS(&s, &r, "stop")), 0);
	run_result_free(&r);
	ck_assert(dt_wait_gone(sup, 10000));
	ck_assert(!has(&s, "run/sysg/sysg.pid", S_IFREG));
	ck_assert(!has(&s, "run/sysg/control.sock", S_IFSOCK));
	ck_assert(!has(&s, "var/lib/systemg/sysg.pid", S_IFREG));
	ck_assert_int_eq(sys_ok(&r, SYS(&s, &r, "purge")), 0);
	run_result_free(&r);
	ck_assert(!has(&s, "var/lib/systemg", S_IFDIR));
	ck_assert(!has(&s, "var/log/systemg", S_IFDIR));
	ck_assert(!has(&s, "run/sysg", S_IFDIR));
	ck_assert(has(&s, "etc/systemg/sysg.yaml", S_IFREG));
	close(fd);
	sys_teardown(&s);
}
END_TEST

/* Config discovery: the working directory first, then /etc/systemg
 * (systemg.yaml, then sysg.yaml); a relative --config not in the working
 * directory is looked for there too, as systemg 0.32 does. */
START_TEST(test_sys_config_discovery)
{
	struct sys s;
	struct run_result r;
	char *want = NULL;

	if (geteuid() != 0 && skip("sys_config_discovery", "needs root"))
		return;
	sys_setup(&s, "systemg.yaml");
	dt_write(&s.t, "root/etc/systemg/other.yaml", yaml);
	ck_assert_int_eq(sys_ok(&r, SYS(&s, &r, "validate")), 0);
	ck_assert_int_ne(asprintf(&want, "%s/etc/systemg/systemg.yaml: valid "
				  "(2 services)", s.root), -1);
	ck_assert_msg(strstr(r.out, want), "%s", r.out);
	free(want);
	run_result_free(&r);
	ck_assert_int_eq(sys_ok(&r, SYS(&s, &r, "validate", "--config",
					    "other.yaml")), 0);
	ck_assert_int_ne(asprintf(&want, "%s/etc/systemg/other.yaml: valid",
				  s.root), -1);
	ck_assert_msg(strstr(r.out, want), "%s", r.out);
	free(want);
	run_result_free(&r);
	/* the working directory wins */
	dt_write(&s.t, "sysg.yaml", "version: \"1\"\nservices:\n"
		 "  one: { command: \"true\" }\n");
	ck_assert_int_eq(sys_ok(&r, SYS(&s, &r, "validate")), 0);
	ck_assert_msg(strstr(r.out, "sysg.yaml: valid (1 service)"), "%s",
		      r.out);
	run_result_free(&r);
	/* user mode looks in ~/.config/systemg, not in /etc/systemg */
	ck_assert_int_eq(run_sysg(s.t.dir, s.env, &r, "validate", "--config",
				  "other.yaml", (char *)NULL), 0);
	ck_assert_int_eq(r.status, 2);
	run_result_free(&r);
	dt_write(&s.t, ".config/systemg/other.yaml", yaml);
	ck_assert_int_eq(run_sysg(s.t.dir, s.env, &r, "validate", "--config",
				  "other.yaml", (char *)NULL), 0);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.out, "/.config/systemg/other.yaml: valid"),
		      "%s", r.out);
	run_result_free(&r);
	/* nothing anywhere: the message names both places */
	ck_assert_int_ne(asprintf(&want, "rm %s/sysg.yaml %s/etc/systemg/*",
				  s.t.dir, s.root), -1);
	ck_assert_int_eq(system(want), 0);
	free(want);
	ck_assert_int_eq(SYS(&s, &r, "validate"), 0);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "not found in the current directory nor "
			     "in ") && strstr(r.err, "/etc/systemg"), "%s",
		      r.err);
	run_result_free(&r);
	sys_teardown(&s);
}
END_TEST

/* --sys is root's: a user that is not root is refused, with nothing
 * created (run as nobody through setpriv when the suite runs as root). */
START_TEST(test_sys_requires_root)
{
	struct sys s;
	struct run_result r;
	char *argv[12], *bin = getenv("SYSG_BIN");

	sys_setup(&s, "sysg.yaml");
	if (geteuid() == 0) {
		if (access("/usr/bin/setpriv", X_OK) != 0 &&
		    skip("sys_requires_root", "no setpriv(1) to drop root")) {
			sys_teardown(&s);
			return;
		}
		argv[0] = "/usr/bin/setpriv";
		argv[1] = "--reuid=65534";
		argv[2] = "--regid=65534";
		argv[3] = "--clear-groups";
		argv[4] = bin;
		argv[5] = "--sys";
		argv[6] = "start";
		argv[7] = "--daemonize";
		argv[8] = NULL;
	} else {
		argv[0] = bin;
		argv[1] = "--sys";
		argv[2] = "start";
		argv[3] = "--daemonize";
		argv[4] = NULL;
	}
	ck_assert_ptr_nonnull(bin);
	ck_assert_int_eq(run_capture(argv, s.t.dir, s.env, 20000, &r), 0);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "sysg: --sys requires root"), "%s", r.err);
	ck_assert(!has(&s, "var", S_IFDIR));
	ck_assert(!has(&s, "run", S_IFDIR));
	run_result_free(&r);
	sys_teardown(&s);
}
END_TEST

static Suite *make_sysmode_suite(void)
{
	Suite *s = suite_create("sysmode");
	TCase *tc = tcase_create("sysmode");

	tcase_set_timeout(tc, 90);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_test(tc, test_sys_mode_files_and_commands);
	tcase_add_test(tc, test_sys_config_discovery);
	tcase_add_test(tc, test_sys_requires_root);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_sysmode_suite());
}
