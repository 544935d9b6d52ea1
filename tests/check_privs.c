/* check_privs.c - privileged mode (SPEC 10, issue 12), black box: the
 * sysg binary started with --sys as root, each effect read back from
 * /proc (ids, groups, environment, capability sets, rlimits, nice,
 * affinity, cgroup files, namespaces). Every test skips, saying why on
 * stderr, when not root or when the kernel refuses what it needs.
 * Needs $SYSG_BIN (set by make check). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemontest.h"
#include "testutil.h"

static int skip(const char *test, const char *why)
{
	fprintf(stderr, "SKIP %s: %s\n", test, why);
	return 1;
}

static int not_root(const char *test)
{
	return geteuid() != 0 && skip(test, "needs root");
}

/* A fixture whose directory services running as nobody can enter. */
static void setup(struct dt *t, const char *yaml)
{
	dt_setup(t, NULL, "%s", yaml);
	ck_assert_int_eq(chmod(t->dir, 0755), 0);
}

static void start_sys(struct dt *t, const char *extra)
{
	struct run_result r;
	int rc = extra ? dt_sysg(t, &r, "--sys", extra, "start", "--daemonize",
				 NULL) :
		 dt_sysg(t, &r, "--sys", "start", "--daemonize", NULL);

	ck_assert_msg(rc == 0, "start: %d %s%s", rc, r.out, r.err);
	run_result_free(&r);
	dt_track(t, dt_daemon_pid(t));
}

/* The running pid of NAME (asserts it comes up). */
static pid_t running_pid(struct dt *t, const char *name)
{
	pid_t pid;

	ck_assert_msg(dt_wait_status(t, name, "running", 5000), "%s is not "
		      "running", name);
	pid = dt_pid(t, name);
	ck_assert_int_gt(pid, 0);
	dt_track(t, pid);
	return pid;
}

static char *proc_file(pid_t pid, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	return tu_read_file(path, NULL);
}

/* The value after "FIELD:\t" in /proc/PID/status, in BUF. */
static const char *status_field(pid_t pid, const char *field, char *buf,
				size_t len)
{
	char *st = proc_file(pid, "status"), *p, key[64];

	ck_assert_ptr_nonnull(st);
	snprintf(key, sizeof(key), "\n%s:\t", field);
	p = strstr(st, key);
	ck_assert_msg(p != NULL, "no %s in /proc/%d/status", field, (int)pid);
	p += strlen(key);
	snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
	free(st);
	return buf;
}

/* 1 when /proc/PID/environ holds VAR (as "K=V"). */
static int has_env(pid_t pid, const char *var)
{
	char path[64];
	size_t n;
	char *env;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	env = tu_read_file(path, &n);
	for (size_t i = 0; env && i < n; i += strlen(env + i) + 1)
		found |= !strcmp(env + i, var);
	free(env);
	return found;
}

static void assert_owner(struct dt *t, const char *name, uid_t uid)
{
	char *p = NULL;
	struct stat st;

	ck_assert_int_ne(asprintf(&p, "%s/%s", t->dir, name), -1);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_msg(st.st_uid == uid, "%s is owned by %u", name,
		      (unsigned)st.st_uid);
	free(p);
}

/* T's directory out/, writable by the service's unprivileged helpers
 * (they report what they saw there). */
static void writable_out(struct dt *t)
{
	char *out = NULL;

	dt_write(t, "out/.keep", "");
	ck_assert_int_ne(asprintf(&out, "%s/out", t->dir), -1);
	ck_assert_int_eq(chmod(out, 0777), 0);
	free(out);
}

/* ---------------------------------------------------------------- */
/* 1. identity                                                        */
/* ---------------------------------------------------------------- */

START_TEST(test_user_group_supplementary)
{
	struct dt t;
	char buf[256];
	pid_t pid;
	char *out;

	if (not_root("user_group_supplementary"))
		return;
	setup(&t, "version: \"1\"\nservices:\n"
		  "  app:\n"
		  "    command: \"sh -c 'python3 -c \\\"import os; os.setuid(0)\\\" "
		  "|| echo cannot-regain-root; exec sleep 30'\"\n"
		  "    user: nobody\n"
		  "    group: daemon\n"
		  "    supplementary_groups: [bin]\n");
	start_sys(&t, NULL);
	pid = running_pid(&t, "app");
	ck_assert_str_eq(status_field(pid, "Uid", buf, sizeof(buf)),
			 "65534\t65534\t65534\t65534");
	ck_assert_str_eq(status_field(pid, "Gid", buf, sizeof(buf)),
			 "1\t1\t1\t1");                 /* daemon */
	ck_assert_str_eq(status_field(pid, "Groups", buf, sizeof(buf)),
			 "1 2 ");                       /* daemon bin */
	ck_assert_str_eq(status_field(pid, "CapPrm", buf, sizeof(buf)),
			 "0000000000000000");
	ck_assert_str_eq(status_field(pid, "CapEff", buf, sizeof(buf)),
			 "0000000000000000");
	ck_assert(has_env(pid, "HOME=/nonexistent"));
	ck_assert(has_env(pid, "USER=nobody"));
	ck_assert(has_env(pid, "LOGNAME=nobody"));
	ck_assert(has_env(pid, "SHELL=/usr/sbin/nologin"));
	ck_assert(dt_wait_file(&t, "state/logs/app_stdout.log",
			       "cannot-regain-root", 5000));
	out = dt_read(&t, "state/logs/app_stderr.log");
	ck_assert_msg(out && strstr(out, "PermissionError"), "%s", out);
	free(out);
	assert_owner(&t, "state/logs/app_stdout.log", 65534);
	assert_owner(&t, "state/logs/app_stderr.log", 65534);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_drop_privileges)
{
	struct dt t;
	char buf[256];
	pid_t pid, rootpid;

	if (not_root("drop_privileges"))
		return;
	setup(&t, "version: \"1\"\nservices:\n"
		  "  plain: { command: \"sleep 30\" }\n"
		  "  daemon: { command: \"sleep 30\", user: daemon }\n");
	start_sys(&t, "--drop-privileges");
	pid = running_pid(&t, "plain");
	rootpid = running_pid(&t, "daemon");
	ck_assert_str_eq(status_field(pid, "Uid", buf, sizeof(buf)),
			 "65534\t65534\t65534\t65534");
	ck_assert(has_env(pid, "USER=nobody"));
	ck_assert_str_eq(status_field(rootpid, "Uid", buf, sizeof(buf)),
			 "1\t1\t1\t1");
	dt_teardown(&t);
}
END_TEST

START_TEST(test_bad_identity_is_refused)
{
	struct dt t;
	struct run_result r;

	if (not_root("bad_identity_is_refused"))
		return;
	setup(&t, "version: \"1\"\nservices:\n"
		  "  ok: { command: \"touch started\" }\n"
		  "  app:\n"
		  "    command: \"sleep 30\"\n"
		  "    user: no-such-user-here\n");
	ck_assert_int_eq(dt_sysg(&t, &r, "--sys", "validate", NULL), 2);
	ck_assert_msg(strstr(r.err, "sysg.yaml:6:5: error: services.app.user: "
			     "no such user"), "%s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, &r, "--sys", "start", "--daemonize",
				 NULL), 2);
	ck_assert_msg(strstr(r.err, "sysg.yaml:6:5: error: services.app.user: "
			     "no such user"), "%s", r.err);
	run_result_free(&r);
	/* nothing started, not even the good service */
	ck_assert_int_eq(dt_daemon_pid(&t), 0);
	ck_assert(!dt_exists(&t, "started"));
	dt_write(&t, "sysg.yaml", "version: \"1\"\nservices:\n"
		 "  app:\n"
		 "    command: \"sleep 30\"\n"
		 "    user: nobody\n"
		 "    group: no-such-group-here\n");
	ck_assert_int_eq(dt_sysg(&t, &r, "--sys", "validate", NULL), 2);
	ck_assert_msg(strstr(r.err, "sysg.yaml:6:5: error: services.app.group: "
			     "no such group"), "%s", r.err);
	run_result_free(&r);
	/* privileged keys need root, not --sys (SPEC 10): without root
	 * refused at start, not ignored; as root, valid without --sys */
	dt_write(&t, "sysg.yaml", "version: \"1\"\nservices:\n"
		 "  app: { command: \"sleep 30\", isolation: { network: true } }\n");
	if (geteuid() != 0) {
		ck_assert_int_eq(dt_sysg(&t, &r, "start", "--daemonize", NULL),
				 2);
		ck_assert_msg(strstr(r.err, "sysg.yaml:3:31: error: services.app."
				     "isolation: requires root"), "%s", r.err);
	} else {
		ck_assert_int_eq(dt_sysg(&t, &r, "validate", NULL), 0);
	}
	run_result_free(&r);
	dt_teardown(&t);
}
END_TEST

/* What a helper of the service saw of itself: probe.sh writes its
 * /proc/self/status, cgroup and limits, HOME and USER to OUT/NAME. */
static const char *probe_sh =
	"{ cat /proc/self/status /proc/self/cgroup /proc/self/limits\n"
	"  echo \"HOME=$HOME\"; echo \"USER=$USER\"; } > \"$1.tmp\" &&\n"
	"mv \"$1.tmp\" \"$1\"\n";

/* The line of TEXT that starts with PREFIX, in BUF ("" when none). */
static const char *line_of(const char *text, const char *prefix, char *buf,
			   size_t len)
{
	const char *p = text;

	buf[0] = '\0';
	while (p && *p) {
		if (!strncmp(p, prefix, strlen(prefix))) {
			snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
			break;
		}
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return buf;
}

/* OUT/NAME, written by probe.sh as the service's user nobody/daemon
 * with its nofile limit (and, when PIDS_CG, in that pids cgroup). */
static void assert_helper(struct dt *t, const char *name,
			  const char *pids_cg)
{
	char path[64], buf[512], *text;
	const char *p;

	snprintf(path, sizeof(path), "out/%s", name);
	ck_assert_msg(dt_wait_file(t, path, "USER=", 5000), "no %s", path);
	text = dt_read(t, path);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(!strcmp(line_of(text, "Uid:", buf, sizeof(buf)),
			      "Uid:\t65534\t65534\t65534\t65534"),
		      "%s: %s", name, buf);
	ck_assert_msg(!strcmp(line_of(text, "Gid:", buf, sizeof(buf)),
			      "Gid:\t1\t1\t1\t1"), "%s: %s", name, buf);
	ck_assert_msg(!strcmp(line_of(text, "Groups:", buf, sizeof(buf)),
			      "Groups:\t1 2 "), "%s: %s", name, buf);
	ck_assert_msg(!strcmp(line_of(text, "CapEff:", buf, sizeof(buf)),
			      "CapEff:\t0000000000000000"), "%s: %s", name,
		      buf);
	ck_assert_msg(!strcmp(line_of(text, "HOME=", buf, sizeof(buf)),
			      "HOME=/nonexistent"), "%s: %s", name, buf);
	ck_assert_msg(!strcmp(line_of(text, "USER=", buf, sizeof(buf)),
			      "USER=nobody"), "%s: %s", name, buf);
	line_of(text, "Max open files", buf, sizeof(buf));
	p = buf + strlen("Max open files");
	ck_assert_msg(sscanf(p, "%s", path) == 1 && !strcmp(path, "777"),
		      "%s: %s", name, buf);
	if (pids_cg) {
		ck_assert_msg(strstr(text, pids_cg), "%s: not in %s:\n%s",
			      name, pids_cg, text);
	}
	free(text);
}

static void out_remove(struct dt *t, const char *name)
{
	char *p = NULL;

	ck_assert_int_ne(asprintf(&p, "%s/out/%s", t->dir, name), -1);
	ck_assert_msg(unlink(p) == 0, "%s: %s", p, strerror(errno));
	free(p);
}

/* Hooks, command health probes, skip and pre_start commands (also a
 * deploy's) run as the service does:
 * its user, groups, environment, rlimits and (while its run exists) its
 * limit cgroups; what each one saw is read back from its own /proc. */
START_TEST(test_helpers_run_as_the_service)
{
	struct dt t;
	struct run_result r;
	char *yaml = NULL, *cg = NULL, *line, *end;
	int has_pids = access("/sys/fs/cgroup/pids/cgroup.procs", W_OK) == 0;
	pid_t pid;

	if (not_root("helpers_run_as_the_service"))
		return;
	ck_assert_int_ne(asprintf(&yaml,
		"version: \"1\"\nservices:\n"
		"  app:\n"
		"    command: \"sleep 30\"\n"
		"    user: nobody\n"
		"    group: daemon\n"
		"    supplementary_groups: [bin]\n"
		"    limits: { nofile: 777%s }\n"
		"    skip: \"sh probe.sh out/skip; false\"\n"
		"    deployment: { pre_start: \"sh probe.sh out/pre\" }\n"
		"    health_check: { command: \"sh probe.sh out/probe\",\n"
		"                    interval: \"50ms\", timeout: \"3s\", retries: 3 }\n"
		"    hooks:\n"
		"      on_start: { success: { command: \"sh probe.sh out/hook\" } }\n"
		"      on_stop: { success: { command: \"sh probe.sh out/stop\" } }\n",
		has_pids ? ", cgroup: { pids_max: 50 }" : ""), -1);
	setup(&t, yaml);
	free(yaml);
	dt_write(&t, "probe.sh", probe_sh);
	writable_out(&t);
	start_sys(&t, NULL);
	pid = running_pid(&t, "app");
	if (has_pids) {         /* the service's own pids cgroup line */
		char *own = proc_file(pid, "cgroup");

		ck_assert_ptr_nonnull(own);
		line = strstr(own, ":pids:");
		ck_assert_ptr_nonnull(line);
		while (line > own && line[-1] != '\n')
			line--;
		end = strchr(line, '\n');
		ck_assert_int_ne(asprintf(&cg, "%.*s\n", (int)(end - line),
					  line), -1);
		ck_assert_msg(strstr(cg, "/app."), "%s", cg);
		free(own);
	} else {
		skip("helpers_run_as_the_service (cgroup part)",
		     "no writable v1 pids hierarchy");
	}
	assert_helper(&t, "skip", NULL);        /* before the run exists */
	assert_helper(&t, "pre", NULL);
	assert_helper(&t, "probe", cg);
	assert_helper(&t, "hook", cg);
	/* a deploy's pre_start and health command too */
	ck_assert_int_eq(dt_sysg(&t, &r, "--sys", "stop", "-s", "app", NULL),
			 0);
	run_result_free(&r);
	assert_helper(&t, "stop", NULL);        /* after the run: none */
	out_remove(&t, "pre");
	out_remove(&t, "probe");
	ck_assert_int_eq(dt_sysg(&t, &r, "--sys", "start", "-s", "app", NULL),
			 0);
	run_result_free(&r);
	running_pid(&t, "app");
	assert_helper(&t, "pre", NULL);
	assert_helper(&t, "probe", NULL);
	out_remove(&t, "pre");
	out_remove(&t, "probe");
	ck_assert_msg(dt_sysg(&t, &r, "--sys", "deploy", "-s", "app", NULL) ==
		      0, "deploy: %s%s", r.out, r.err);
	run_result_free(&r);
	assert_helper(&t, "pre", NULL);
	assert_helper(&t, "probe", NULL);
	ck_assert_int_eq(dt_sysg(&t, &r, "--sys", "stop", "-s", "app", NULL),
			 0);
	run_result_free(&r);
	free(cg);
	dt_teardown(&t);
}
END_TEST

/* ---------------------------------------------------------------- */
/* 2. capabilities                                                    */
/* ---------------------------------------------------------------- */

/* A privileged port nobody listens on (80 unless taken). */
static int free_low_port(void)
{
	static const int ports[] = { 80, 81, 987, 1023 };

	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_port = htons(ports[i]),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

		ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
		if (fd >= 0)
			close(fd);
		if (ok)
			return ports[i];
	}
	return -1;
}

START_TEST(test_capability_net_bind_service)
{
	static const char *const fmt = "version: \"1\"\nservices:\n"
		"  web:\n"
		"    command: \"python3 -c 'import socket,time; s=socket.socket(); "
		"s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
		"s.bind((\\\"127.0.0.1\\\", %d)); s.listen(); print(\\\"bound\\\", "
		"flush=True); time.sleep(30)'\"\n"
		"    user: nobody\n"
		"%s";
	struct dt t;
	char yaml[1024], buf[64];
	int port = free_low_port();
	pid_t pid;
	char *err;

	if (not_root("capability_net_bind_service") ||
	    (port < 0 && skip("capability_net_bind_service",
			      "no free port below 1024")))
		return;
	snprintf(yaml, sizeof(yaml), fmt, port,
		 "    capabilities: [CAP_NET_BIND_SERVICE]\n");
	setup(&t, yaml);
	start_sys(&t, NULL);
	pid = running_pid(&t, "web");
	ck_assert(dt_wait_file(&t, "state/logs/web_stdout.log", "bound", 5000));
	/* kept through the ambient set, nothing else, bounding set reduced */
	ck_assert_str_eq(status_field(pid, "Uid", buf, sizeof(buf)),
			 "65534\t65534\t65534\t65534");
	ck_assert_str_eq(status_field(pid, "CapEff", buf, sizeof(buf)),
			 "0000000000000400");
	ck_assert_str_eq(status_field(pid, "CapPrm", buf, sizeof(buf)),
			 "0000000000000400");
	ck_assert_str_eq(status_field(pid, "CapAmb", buf, sizeof(buf)),
			 "0000000000000400");
	ck_assert_str_eq(status_field(pid, "CapBnd", buf, sizeof(buf)),
			 "0000000000000400");
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);

	/* the same service without the capability cannot bind */
	snprintf(yaml, sizeof(yaml), fmt, port, "");
	setup(&t, yaml);
	ck_assert_int_eq(dt_sysg(&t, NULL, "--sys", "start", "--daemonize",
				 NULL), 1);    /* web failed to start */
	dt_track(&t, dt_daemon_pid(&t));
	ck_assert(dt_wait_file(&t, "state/logs/web_stderr.log",
			       "Permission denied", 5000));
	err = dt_read(&t, "state/logs/web_stdout.log");
	ck_assert_msg(!err || !strstr(err, "bound"), "%s", err);
	free(err);
	dt_teardown(&t);
}
END_TEST

/* ---------------------------------------------------------------- */
/* 3. rlimits, nice, affinity                                         */
/* ---------------------------------------------------------------- */

static void assert_limit(const char *limits, const char *name,
			 const char *soft_hard)
{
	const char *p = strstr(limits, name);
	char want[128];

	ck_assert_msg(p != NULL, "no %s", name);
	p += strlen(name);
	while (*p == ' ')
		p++;
	snprintf(want, sizeof(want), "%s", soft_hard);
	ck_assert_msg(!strncmp(p, want, strlen(want)), "%s: '%.40s', want '%s'",
		      name, p, want);
}

START_TEST(test_rlimits_nice_affinity)
{
	struct dt t;
	cpu_set_t set;
	pid_t pid;
	char *limits, *stat, *p;
	int field = 1;

	if (not_root("rlimits_nice_affinity"))
		return;
	setup(&t, "version: \"1\"\nservices:\n"
		  "  app:\n"
		  "    command: \"sleep 30\"\n"
		  "    user: nobody\n"
		  "    limits: { nofile: 1234, nproc: 77, memlock: 2M, core: 0,\n"
		  "              nice: 7, cpu_affinity: [0] }\n");
	start_sys(&t, NULL);
	pid = running_pid(&t, "app");
	limits = proc_file(pid, "limits");
	ck_assert_ptr_nonnull(limits);
	assert_limit(limits, "Max open files", "1234                 1234");
	assert_limit(limits, "Max processes", "77                   77");
	assert_limit(limits, "Max locked memory", "2097152              2097152");
	assert_limit(limits, "Max core file size", "0                    0");
	free(limits);
	stat = proc_file(pid, "stat");
	ck_assert_ptr_nonnull(stat);
	p = strrchr(stat, ')') + 2;     /* field 3 */
	for (field = 3; field < 19; field++)
		p = strchr(p, ' ') + 1;
	ck_assert_int_eq(atoi(p), 7);   /* field 19: nice */
	free(stat);
	ck_assert_int_eq(sched_getaffinity(pid, sizeof(set), &set), 0);
	ck_assert_int_eq(CPU_COUNT(&set), 1);
	ck_assert(CPU_ISSET(0, &set));
	dt_teardown(&t);
}
END_TEST

/* A setting the kernel refuses when the run is set up: the process is
 * killed before it execs, start says why (exit 1), nothing runs. */
START_TEST(test_refused_at_spawn_nothing_runs)
{
	struct dt t;
	struct run_result r;

	if (not_root("refused_at_spawn_nothing_runs"))
		return;
	if (sysconf(_SC_NPROCESSORS_CONF) > 1000) {
		skip("refused_at_spawn_nothing_runs", "CPU 1023 exists here");
		return;
	}
	setup(&t, "version: \"1\"\nservices:\n"
		  "  app:\n"
		  "    command: \"sleep 30\"\n"
		  "    user: nobody\n"
		  "    limits: { cpu_affinity: [1023] }\n");
	ck_assert_int_eq(dt_sysg(&t, &r, "--sys", "start", "--daemonize",
				 NULL), 1);
	ck_assert_msg(strstr(r.err, "limits.cpu_affinity: Invalid argument"),
		      "%s", r.err);
	run_result_free(&r);
	dt_track(&t, dt_daemon_pid(&t));
	ck_assert(dt_wait_status(&t, "app", "failed", 3000));
	ck_assert_int_eq(dt_pid(&t, "app"), 0);
	dt_teardown(&t);
}
END_TEST

/* ---------------------------------------------------------------- */
/* 4. cgroup limits                                                   */
/* ---------------------------------------------------------------- */

/* The directory of PID's cgroup for CTRL (v1 "N:ctrl:/path" or v2
 * "0::/path" when V2), or NULL. */
static char *cgroup_dir(pid_t pid, const char *ctrl)
{
	char *cg = proc_file(pid, "cgroup"), *line, *save = NULL, *out = NULL;

	for (line = cg ? strtok_r(cg, "\n", &save) : NULL; line && !out;
	     line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : 0;

		if (!c2)
			continue;
		*c2 = '\0';
		if (!strcmp(c1 + 1, ctrl) &&
		    asprintf(&out, "/sys/fs/cgroup/%s%s", ctrl, c2 + 1) < 0)
			out = NULL;
	}
	free(cg);
	return out;
}

static char *cg_read(const char *dir, const char *name)
{
	char path[1024];
	char *s;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	s = tu_read_file(path, NULL);
	if (s)
		s[strcspn(s, "\n")] = '\0';
	return s;
}

static int v1_writable(const char *ctrl)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/cgroup.procs", ctrl);
	return access(path, W_OK) == 0;
}

START_TEST(test_cgroup_limits_v1)
{
	struct dt t;
	pid_t pid;
	char *dir, *v;

	if (not_root("cgroup_limits_v1"))
		return;
	if (!v1_writable("memory") || !v1_writable("cpu") ||
	    !v1_writable("pids")) {
		skip("cgroup_limits_v1", "no writable v1 memory/cpu/pids "
		     "hierarchy (a cgroup v2 host: see cgroup_limits_v2)");
		return;
	}
	char yaml[512], root[64], *prefix = NULL;
	pid_t rooted;

	snprintf(root, sizeof(root), "sysg-check-%d", (int)getpid());
	snprintf(yaml, sizeof(yaml), "version: \"1\"\nservices:\n"
		 "  app:\n"
		 "    command: \"sleep 30\"\n"
		 "    limits: { cgroup: { memory_max: 64M, cpu_max: \"50000 100000\",\n"
		 "                        cpu_weight: 50, pids_max: 20 } }\n"
		 "  rooted:\n"
		 "    command: \"sleep 30\"\n"
		 "    limits: { cgroup: { root: %s, pids_max: max } }\n", root);
	setup(&t, yaml);
	start_sys(&t, NULL);
	pid = running_pid(&t, "app");
	/* limits.cgroup.root: a cgroup below /ROOT in the hierarchy */
	rooted = running_pid(&t, "rooted");
	dir = cgroup_dir(rooted, "pids");
	ck_assert_int_ne(asprintf(&prefix, "/sys/fs/cgroup/pids/%s/rooted.",
				  root), -1);
	ck_assert_msg(dir && !strncmp(dir, prefix, strlen(prefix)), "%s", dir);
	ck_assert_str_eq(v = cg_read(dir, "pids.max"), "max");
	free(v);
	free(dir);
	free(prefix);
	dir = cgroup_dir(pid, "memory");
	ck_assert_ptr_nonnull(dir);
	ck_assert_str_eq(v = cg_read(dir, "memory.limit_in_bytes"), "67108864");
	free(v);
	free(dir);
	dir = cgroup_dir(pid, "cpu");
	ck_assert_ptr_nonnull(dir);
	ck_assert_str_eq(v = cg_read(dir, "cpu.cfs_quota_us"), "50000");
	free(v);
	ck_assert_str_eq(v = cg_read(dir, "cpu.cfs_period_us"), "100000");
	free(v);
	ck_assert_str_eq(v = cg_read(dir, "cpu.shares"), "512");
	free(v);
	free(dir);
	dir = cgroup_dir(pid, "pids");
	ck_assert_ptr_nonnull(dir);
	ck_assert_str_eq(v = cg_read(dir, "pids.max"), "20");
	free(v);
	free(dir);
	dt_teardown(&t);
	/* the run's cgroups are removed once it is gone */
	snprintf(yaml, sizeof(yaml), "/sys/fs/cgroup/pids/%s", root);
	ck_assert_msg(rmdir(yaml) == 0, "%s: %s", yaml, strerror(errno));
}
END_TEST

/* With no memory hierarchy (unmounted in a private mount namespace of the
 * check), memory_max is an error at validate and start, not ignored. */
START_TEST(test_cgroup_key_without_hierarchy)
{
	struct dt t;
	struct run_result r;
	char *script = NULL;
	const char *bin = getenv("SYSG_BIN");

	if (not_root("cgroup_key_without_hierarchy"))
		return;
	if (access("/usr/bin/unshare", X_OK) != 0) {
		skip("cgroup_key_without_hierarchy", "no unshare(1)");
		return;
	}
	setup(&t, "version: \"1\"\nservices:\n"
		  "  app:\n"
		  "    command: \"touch started\"\n"
		  "    limits: { cgroup: { memory_max: 64M } }\n");
	ck_assert_int_ne(asprintf(&script, "for m in /sys/fs/cgroup/memory "
				  "/sys/fs/cgroup /sys/fs/cgroup/unified; do "
				  "umount -l $m 2>/dev/null; done; "
				  "'%s' --sys validate; echo validate=$?; "
				  "exec '%s' --sys start", bin, bin), -1);
	{
		char *argv[] = { "/usr/bin/unshare", "-m", "--propagation",
				 "private", "sh", "-c", script, NULL };

		ck_assert_int_eq(run_capture(argv, t.dir, t.env, 20000, &r), 0);
	}
	free(script);
	if (strstr(r.err, "unshare failed")) {
		skip("cgroup_key_without_hierarchy", "the kernel refuses a "
		     "mount namespace");
		run_result_free(&r);
		dt_teardown(&t);
		return;
	}
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.out, "validate=2"), "%s", r.out);
	ck_assert_msg(strstr(r.err, "sysg.yaml:5:15: error: services.app.limits."
			     "cgroup.memory_max: no writable cgroup hierarchy "
			     "has the memory controller"), "%s", r.err);
	ck_assert(!dt_exists(&t, "started"));
	run_result_free(&r);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_memory_max_oom_restart)
{
	struct dt t;
	json_t *st, *u, *le;
	pid_t sup, first, pid = 0;
	int64_t deadline;

	if (not_root("memory_max_oom_restart"))
		return;
	if (!v1_writable("memory") &&
	    access("/sys/fs/cgroup/cgroup.controllers", R_OK) != 0) {
		skip("memory_max_oom_restart", "no writable memory cgroup");
		return;
	}
	setup(&t, "version: \"1\"\nservices:\n"
		  "  hog:\n"
		  "    command: \"python3 -c 'import time; time.sleep(0.3); "
		  "b = bytearray(256 << 20); time.sleep(30)'\"\n"
		  "    restart_policy: always\n"
		  "    backoff: 100ms\n"
		  "    limits: { cgroup: { memory_max: 48M } }\n");
	start_sys(&t, NULL);
	sup = dt_daemon_pid(&t);
	first = running_pid(&t, "hog");
	/* killed by the OOM killer inside its cgroup, restarted */
	deadline = tu_now_ms() + 15000;
	while (tu_now_ms() < deadline) {
		pid = dt_pid(&t, "hog");
		if (pid > 0 && pid != first)
			break;
		usleep(20000);
	}
	ck_assert_msg(pid > 0 && pid != first, "hog was not restarted");
	dt_track(&t, pid);
	st = dt_status(&t, 0);
	ck_assert_ptr_nonnull(st);
	u = dt_unit(st, "hog");
	ck_assert_int_ge(json_integer_value(json_object_get(u, "restarts")), 1);
	le = json_object_get(u, "last_exit");
	ck_assert_msg(json_is_true(json_object_get(le, "oom")), "last_exit: "
		      "%s", json_dumps(le, 0));
	json_decref(st);
	{
		struct run_result r;

		ck_assert_int_eq(dt_sysg(&t, &r, "status", "--no-color", NULL),
				 0);
		ck_assert_msg(strstr(r.out, " OOM "), "%s", r.out);
		run_result_free(&r);
	}
	ck_assert_int_eq(kill(sup, 0), 0);      /* the supervisor survived */
	ck_assert_int_eq(dt_daemon_pid(&t), sup);
	ck_assert(dt_wait_file(&t, "state/logs/supervisor.log", "OOM killer",
			       1000));
	dt_teardown(&t);
}
END_TEST

/* ---------------------------------------------------------------- */
/* 5. namespaces                                                      */
/* ---------------------------------------------------------------- */

static int same_ns(pid_t pid, const char *ns)
{
	char a[64], b[64], pa[64], pb[64];
	ssize_t na, nb;

	snprintf(pa, sizeof(pa), "/proc/%d/ns/%s", (int)pid, ns);
	snprintf(pb, sizeof(pb), "/proc/self/ns/%s", ns);
	na = readlink(pa, a, sizeof(a) - 1);
	nb = readlink(pb, b, sizeof(b) - 1);
	ck_assert(na > 0 && nb > 0);
	return na == nb && !memcmp(a, b, (size_t)na);
}

static int kernel_has_userns(void)
{
	char *max = tu_read_file("/proc/sys/user/max_user_namespaces", NULL);
	int ok = max && atoi(max) > 0;

	free(max);
	return ok;
}

START_TEST(test_namespaces)
{
	struct dt t;
	char buf[128];
	pid_t pid, kids[2] = { 0, 0 };
	char *dev, *map, *kid;

	if (not_root("namespaces"))
		return;
	if (!kernel_has_userns()) {
		skip("namespaces", "the kernel refuses user namespaces");
		return;
	}
	setup(&t, "version: \"1\"\nservices:\n"
		  "  iso:\n"
		  "    command: \"sh -c 'echo pid=$$; sleep 100 & sleep 100'\"\n"
		  "    user: nobody\n"
		  "    isolation: { network: true, pid: true, mount: true, "
		  "user: true }\n"
		  "    health_check: { command: \"sh netprobe.sh\", "
		  "interval: \"50ms\" }\n"
		  "  init:\n"
		  "    command: \"sleep 100\"\n"
		  "    isolation: { pid: true }\n");
	/* its probe: which network namespace it is in, what it sees */
	dt_write(&t, "netprobe.sh", "{ readlink /proc/self/ns/net; "
		 "cat /proc/net/dev; } > out/net.tmp && mv out/net.tmp out/net\n");
	writable_out(&t);
	start_sys(&t, NULL);
	pid = running_pid(&t, "iso");
	/* the probe ran in the service's network namespace (only lo), not
	 * the host's: a probe of localhost reaches the service */
	{
		char link[128], path[64], *seen;
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
		n = readlink(path, link, sizeof(link) - 1);
		ck_assert_int_gt(n, 0);
		link[n] = '\0';
		ck_assert(dt_wait_file(&t, "out/net", "lo:", 5000));
		seen = dt_read(&t, "out/net");
		ck_assert_msg(seen && !strncmp(seen, link, strlen(link)),
			      "probe in %s, service in %s", seen, link);
		ck_assert_msg(!strstr(seen, "eth") && !strstr(seen, "ens"),
			      "%s", seen);
		free(seen);
	}
	ck_assert(dt_wait_file(&t, "state/logs/iso_stdout.log", "pid=1\n",
			       5000));
	status_field(pid, "NSpid", buf, sizeof(buf));
	ck_assert_str_eq(buf + strcspn(buf, "\t"), "\t1");
	ck_assert(!same_ns(pid, "net"));
	ck_assert(!same_ns(pid, "pid"));
	ck_assert(!same_ns(pid, "mnt"));
	ck_assert(!same_ns(pid, "user"));
	/* only lo in its network namespace, and it is up */
	dev = proc_file(pid, "net/dev");
	ck_assert_ptr_nonnull(dev);
	{
		int lines = 0;

		for (char *c = dev; *c; c++)
			lines += *c == '\n';
		/* two header lines, then one per interface */
		ck_assert_msg(lines == 3 && strstr(dev, " lo:"), "%s", dev);
	}
	free(dev);
	/* its uid and gid mapped to themselves, nothing else (no root) */
	map = proc_file(pid, "uid_map");
	ck_assert_msg(!strcmp(map, "     65534      65534          1\n"),
		      "%s", map);
	free(map);
	/* the tree dies on stop */
	snprintf(buf, sizeof(buf), "task/%d/children", (int)pid);
	kid = proc_file(pid, buf);
	ck_assert_ptr_nonnull(kid);
	ck_assert_int_ge(sscanf(kid, "%d %d", &kids[0], &kids[1]), 1);
	free(kid);
	dt_track(&t, kids[0]);
	dt_track(&t, running_pid(&t, "init"));
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	ck_assert(dt_wait_gone(pid, 5000));
	ck_assert(dt_wait_gone(kids[0], 5000));
	/* sleep as a namespace's init never sees SIGTERM (no handler): it
	 * gets SIGKILL at once instead of after stop_timeout */
	{
		char *log = dt_read(&t, "state/logs/supervisor.log");

		ck_assert_msg(log && strstr(log, "Service init: pid namespace "
					    "init without a SIGTERM handler: "
					    "SIGKILL"), "%s", log);
		ck_assert_msg(!strstr(log, "did not stop within"), "%s", log);
		free(log);
	}
	dt_teardown(&t);
}
END_TEST

/* The number of entries of DIR (as the process sees it). */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_msg(d != NULL, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

START_TEST(test_private_tmp_and_devices)
{
	struct dt t;
	char path[128];
	pid_t pid;

	if (not_root("private_tmp_and_devices"))
		return;
	setup(&t, "version: \"1\"\nservices:\n"
		  "  app:\n"
		  "    command: \"sh -c 'ls -A /tmp > /dev/null && exec sleep 30'\"\n"
		  "    user: nobody\n"
		  "    isolation: { private_tmp: true, private_devices: true }\n"
		  "  userns:\n"
		  "    command: \"sleep 30\"\n"
		  "    user: nobody\n"
		  "    isolation: { private_tmp: true, private_devices: true,\n"
		  "                 user: true, pid: true, seccomp: default }\n");
	start_sys(&t, NULL);
	pid = running_pid(&t, "app");
	ck_assert(!same_ns(pid, "mnt"));
	snprintf(path, sizeof(path), "/proc/%d/root/tmp", (int)pid);
	ck_assert_int_eq(count_entries(path), 0);
	if (kernel_has_userns()) {
		/* the same inside a user namespace (its root is not mapped) */
		pid_t u = running_pid(&t, "userns");

		snprintf(path, sizeof(path), "/proc/%d/root/tmp", (int)u);
		ck_assert_int_eq(count_entries(path), 0);
		snprintf(path, sizeof(path), "/proc/%d/root/dev", (int)u);
		ck_assert_int_eq(count_entries(path), 13);
	}
	ck_assert_int_gt(count_entries("/tmp"), 0);   /* ours is not empty */
	snprintf(path, sizeof(path), "/proc/%d/root/dev", (int)pid);
	/* null zero full random urandom tty pts shm fd stdin stdout stderr
	 * ptmx, nothing else */
	ck_assert_int_eq(count_entries(path), 13);
	snprintf(path, sizeof(path), "/proc/%d/root/dev/sda", (int)pid);
	ck_assert_int_ne(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "/proc/%d/root/dev/null", (int)pid);
	ck_assert_int_eq(access(path, W_OK), 0);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_seccomp_default_and_file)
{
	struct dt t;
	char buf[64], *out, *prof;
	pid_t pid;

	if (not_root("seccomp_default_and_file"))
		return;
	/* the built-in profile: ptrace(PTRACE_TRACEME) is refused (EPERM) */
	setup(&t, "version: \"1\"\nservices:\n"
		  "  app:\n"
		  "    command: \"python3 -c 'import ctypes,os,time; "
		  "l = ctypes.CDLL(None, use_errno=True); "
		  "r = l.ptrace(0, 0, 0, 0); "
		  "print(\\\"ptrace\\\", r, os.strerror(ctypes.get_errno()), "
		  "flush=True); time.sleep(30)'\"\n"
		  "    user: nobody\n"
		  "    isolation: { seccomp: default }\n");
	start_sys(&t, NULL);
	pid = running_pid(&t, "app");
	ck_assert_str_eq(status_field(pid, "Seccomp", buf, sizeof(buf)), "2");
	ck_assert_str_eq(status_field(pid, "NoNewPrivs", buf, sizeof(buf)),
			 "1");
	ck_assert(dt_wait_file(&t, "state/logs/app_stdout.log",
			       "ptrace -1 Operation not permitted", 5000));
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	dt_teardown(&t);

	/* a profile file: chdir denied */
	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  app:\n"
		 "    command: \"sh -c 'cd / || echo refused; exec sleep 30'\"\n"
		 "    isolation: { seccomp: PROFILE }\n");
	ck_assert_int_eq(chmod(t.dir, 0755), 0);
	dt_write(&t, "profile", "# refuse chdir\ndefault allow\n"
		 "deny chdir fchdir   # EPERM\n");
	ck_assert_int_ne(asprintf(&prof, "%s/profile", t.dir), -1);
	out = dt_read(&t, "sysg.yaml");
	{
		char *yaml = NULL, *at = strstr(out, "PROFILE");

		ck_assert_int_ne(asprintf(&yaml, "%.*s%s%s", (int)(at - out),
					  out, prof, at + 7), -1);
		dt_write(&t, "sysg.yaml", yaml);
		free(yaml);
	}
	free(out);
	start_sys(&t, NULL);
	running_pid(&t, "app");
	ck_assert(dt_wait_file(&t, "state/logs/app_stdout.log", "refused",
			       5000));
	out = dt_read(&t, "state/logs/app_stderr.log");
	ck_assert_msg(out && strstr(out, "can't cd"), "%s", out);
	free(out);
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", NULL), 0);
	/* a bad profile is refused at validate */
	dt_write(&t, "profile", "deny chdir no_such_syscall\n");
	{
		struct run_result r;

		ck_assert_int_eq(dt_sysg(&t, &r, "--sys", "validate", NULL), 2);
		ck_assert_msg(strstr(r.err, "sysg.yaml:5:5: error: services.app."
				     "isolation.seccomp: ") &&
			      strstr(r.err, "profile:1: unknown system call "
				     "'no_such_syscall'"), "%s", r.err);
		run_result_free(&r);
	}
	free(prof);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_lsm_not_enabled_is_an_error)
{
	struct dt t;
	struct run_result r;
	char *lsm = tu_read_file("/sys/kernel/security/lsm", NULL);
	char *aa = tu_read_file("/sys/module/apparmor/parameters/enabled",
				NULL);
	int has_aa = lsm ? strstr(lsm, "apparmor") != NULL :
		     aa && aa[0] == 'Y';
	int has_se = lsm ? strstr(lsm, "selinux") != NULL :
		     access("/sys/fs/selinux/enforce", F_OK) == 0;

	free(lsm);
	free(aa);
	if (has_aa && has_se) {
		skip("lsm_not_enabled_is_an_error", "AppArmor and SELinux are "
		     "both enabled here");
		return;
	}
	setup(&t, has_aa ?
	      "version: \"1\"\nservices:\n"
	      "  app:\n    command: \"sleep 30\"\n"
	      "    isolation: { selinux_context: \"system_u:system_r:x_t:s0\" }\n" :
	      "version: \"1\"\nservices:\n"
	      "  app:\n    command: \"sleep 30\"\n"
	      "    isolation: { apparmor_profile: sysg-test }\n");
	/* validate says what start would: without root, that it needs it */
	if (geteuid() != 0) {
		ck_assert_int_eq(dt_sysg(&t, &r, "validate", NULL), 2);
		ck_assert_msg(strstr(r.err, "sysg.yaml:5:5: error: services.app."
				     "isolation: requires root"), "%s", r.err);
		run_result_free(&r);
	}
	if (geteuid() == 0) {   /* root is enough: no --sys */
		ck_assert_int_eq(dt_sysg(&t, &r, "validate", NULL), 2);
		ck_assert_msg(strstr(r.err, "sysg.yaml:5:5: error: services.app."
				     "isolation.") &&
			      strstr(r.err, "is not enabled on this host"),
			      "%s", r.err);
		run_result_free(&r);
		ck_assert_int_eq(dt_sysg(&t, &r, "--sys", "start",
					 "--daemonize", NULL), 2);
		ck_assert_msg(strstr(r.err, "is not enabled on this host"),
			      "%s", r.err);
		run_result_free(&r);
		ck_assert_int_eq(dt_daemon_pid(&t), 0);
	}
	dt_teardown(&t);
}
END_TEST

/* An unknown capability name: FILE:LINE:COL at validate and at start,
 * exit 2, nothing started (a config error: root or not). */
START_TEST(test_unknown_capability_is_refused)
{
	struct dt t;
	struct run_result r;

	setup(&t, "version: \"1\"\nservices:\n"
		  "  ok: { command: \"touch started\" }\n"
		  "  app:\n"
		  "    command: \"sleep 30\"\n"
		  "    capabilities: [CAP_NET_BIND_SERVICE, CAP_NOT_A_CAP]\n");
	ck_assert_int_eq(dt_sysg(&t, &r, "validate", NULL), 2);
	ck_assert_msg(strstr(r.err, "sysg.yaml:6:42: error: services.app."
			     "capabilities[1]: unknown capability "
			     "'CAP_NOT_A_CAP'"), "%s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, &r, "start", "--daemonize", NULL), 2);
	ck_assert_msg(strstr(r.err, "sysg.yaml:6:42: error: services.app."
			     "capabilities[1]: unknown capability"), "%s",
		      r.err);
	run_result_free(&r);
	ck_assert_int_eq(dt_daemon_pid(&t), 0);
	ck_assert(!dt_exists(&t, "started"));
	dt_teardown(&t);
}
END_TEST

/* SPEC 10: root is what privileged keys need (--sys or not); a user
 * that is not root gets "requires root" (user, isolation), from validate
 * as from start, exit 2, nothing started (run as nobody through setpriv
 * when the suite runs as root). */
START_TEST(test_not_root_requires_root)
{
	char dir[] = "/tmp/sysg-privs-XXXXXX", cmd[2048];
	const char *bin = getenv("SYSG_BIN");

	if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) != 0)
		return;         /* the rest of this file runs as the user */
	ck_assert_ptr_nonnull(bin);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 0777), 0);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && printf 'version: \"1\"\\nservices:\\n"
		 "  a: { command: \"sleep 30\", user: nobody }\\n' > s.yaml && "
		 "chmod 644 s.yaml && N='/usr/bin/setpriv --reuid=65534 "
		 "--regid=65534 --clear-groups env HOME=%s SYSG_STATE_DIR=%s/st'"
		 " && ! $N '%s' validate --config s.yaml 2>err && "
		 "grep -q '^s.yaml:3:29: error: services.a.user: requires root$' "
		 "err && ! $N '%s' start --daemonize --config s.yaml 2>err && "
		 "grep -q 'services.a.user: requires root' err && "
		 "! test -e st/sysg.pid", dir, dir, dir, bin, bin);
	ck_assert_int_eq(system(cmd), 0);
	/* isolation too, next to a good service that must not start */
	snprintf(cmd, sizeof(cmd),
		 "cd %s && printf 'version: \"1\"\nservices:\n"
		 "  b: { command: \"touch started\" }\n"
		 "  a: { command: \"sleep 30\", isolation: { network: true } }\n'"
		 " > i.yaml && chmod 644 i.yaml && N='/usr/bin/setpriv "
		 "--reuid=65534 --regid=65534 --clear-groups env HOME=%s "
		 "SYSG_STATE_DIR=%s/st' && "
		 "{ $N '%s' validate --config i.yaml 2>err; test $? = 2; } && "
		 "grep -q '^i.yaml:4:29: error: services.a.isolation: requires "
		 "root$' err && "
		 "{ $N '%s' start --daemonize --config i.yaml 2>err; test $? = 2; }"
		 " && grep -q '^i.yaml:4:29: error: services.a.isolation: "
		 "requires root$' err && ! test -e st/sysg.pid && "
		 "! test -e started", dir, dir, dir, bin, bin);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *make_privs_suite(void)
{
	Suite *s = suite_create("privs");
	TCase *tc = tcase_create("privs");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_test(tc, test_user_group_supplementary);
	tcase_add_test(tc, test_drop_privileges);
	tcase_add_test(tc, test_helpers_run_as_the_service);
	tcase_add_test(tc, test_not_root_requires_root);
	tcase_add_test(tc, test_bad_identity_is_refused);
	tcase_add_test(tc, test_unknown_capability_is_refused);
	tcase_add_test(tc, test_capability_net_bind_service);
	tcase_add_test(tc, test_rlimits_nice_affinity);
	tcase_add_test(tc, test_refused_at_spawn_nothing_runs);
	tcase_add_test(tc, test_cgroup_limits_v1);
	tcase_add_test(tc, test_memory_max_oom_restart);
	tcase_add_test(tc, test_cgroup_key_without_hierarchy);
	tcase_add_test(tc, test_namespaces);
	tcase_add_test(tc, test_private_tmp_and_devices);
	tcase_add_test(tc, test_seccomp_default_and_file);
	tcase_add_test(tc, test_lsm_not_enabled_is_an_error);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_privs_suite());
}
