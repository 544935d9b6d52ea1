/* enginetest.c - see enginetest.h */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "enginetest.h"
#include "proc/proc.h"
#include "testutil.h"

int et_sys_mode;

static void load(struct et *t, const char *yaml)
{
	struct sysg_diag d;
	char *path = tu_write_file(t->dir, "sysg.yaml", yaml);
	char *all;
	int rc;

	ck_assert_ptr_nonnull(path);
	sysg_diag_init(&d);
	rc = sysg_config_load(path, &t->cfg, &d);
	all = sysg_diag_join(&d);
	ck_assert_msg(rc == 0, "config: %s", all);
	free(all);
	sysg_diag_free(&d);
	free(path);
}

void et_setup(struct et *t, int no_cgroups, const char *yaml_fmt, ...)
{
	struct sysg_supervisor_opts o = { 0 };
	char err[512], *yaml = NULL;
	const char *backend;
	va_list ap;
	int rc;

	memset(t, 0, sizeof(*t));
	t->dir = tu_mkdtemp("engine");
	ck_assert_ptr_nonnull(t->dir);
	ck_assert_int_ne(asprintf(&t->state_dir, "%s/state", t->dir), -1);
	setenv("SYSG_STATE_DIR", t->state_dir, 1);
	setenv("HOME", t->dir, 1);
	va_start(ap, yaml_fmt);
	ck_assert_int_ne(vasprintf(&yaml, yaml_fmt, ap), -1);
	va_end(ap);
	load(t, yaml);
	free(yaml);
	ck_assert_int_eq(sysg_plugin_path_init(&t->pp, NULL), 0);
	/* SYSG_TEST_BACKEND=sqlite reruns the engine tests on sqlite */
	backend = getenv("SYSG_TEST_BACKEND");
	rc = sysg_state_open(&t->st, &t->pp, backend && *backend ? backend : "xml",
			     t->state_dir, NULL, err,
			     sizeof(err));
	ck_assert_msg(rc == 0, "state: %s", err);
	o.state_dir = t->state_dir;
	o.no_cgroups = no_cgroups;
	o.sys = et_sys_mode;
	o.log_level = SYSG_LOG_DEBUG;
	rc = sysg_supervisor_new(&t->sup, t->cfg, t->st, &o, err, sizeof(err));
	ck_assert_msg(rc == 0, "supervisor: %s", err);
}

static int idle(struct sysg_supervisor *s, void *arg)
{
	(void)arg;
	return sysg_supervisor_idle(s);
}

void et_teardown(struct et *t)
{
	if (t->sup) {
		sysg_supervisor_stop_all(t->sup);
		sysg_supervisor_run_until(t->sup, idle, NULL, 15000);
		sysg_supervisor_free(t->sup);
	}
	sysg_state_close(t->st);
	sysg_config_free(t->cfg);
	sysg_plugin_path_free(&t->pp);
	tu_rm_rf(t->dir);
	free(t->dir);
	free(t->state_dir);
}

struct status_wait {
	const char *name, *status;
};

static int has_status(struct sysg_supervisor *s, void *arg)
{
	struct status_wait *w = arg;
	const char *st = sysg_supervisor_status(s, w->name);

	return st && !strcmp(st, w->status);
}

int et_wait_status(struct et *t, const char *name, const char *status,
		   int timeout_ms)
{
	struct status_wait w = { name, status };

	return sysg_supervisor_run_until(t->sup, has_status, &w,
					 tu_deadline_ms(timeout_ms));
}

static int never(struct sysg_supervisor *s, void *arg)
{
	(void)s;
	(void)arg;
	return 0;
}

void et_run_for(struct et *t, int ms)
{
	sysg_supervisor_run_until(t->sup, never, NULL, ms);
}

struct file_wait {
	struct et *t;
	const char *name;
};

static int file_exists(struct sysg_supervisor *s, void *arg)
{
	struct file_wait *w = arg;
	char path[4096];

	(void)s;
	snprintf(path, sizeof(path), "%s/%s", w->t->dir, w->name);
	return access(path, F_OK) == 0;
}

int et_wait_file(struct et *t, const char *name, int timeout_ms)
{
	struct file_wait w = { t, name };

	return sysg_supervisor_run_until(t->sup, file_exists, &w,
					 tu_deadline_ms(timeout_ms)) == 0;
}

char *et_read(struct et *t, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	return tu_read_file(path, NULL);
}

void et_unlink(struct et *t, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	unlink(path);
}

long et_read_long(struct et *t, const char *name)
{
	char *s = et_read(t, name);
	long v = s ? strtol(s, NULL, 10) : -1;

	free(s);
	return v;
}

int et_count_lines(struct et *t, const char *name)
{
	char *s = et_read(t, name);
	int n = 0;

	for (char *p = s; p && *p; p++)
		n += *p == '\n';
	free(s);
	return n;
}

struct sysg_unit_record et_unit(struct et *t, const char *name)
{
	struct sysg_unit_record u;

	ck_assert_int_eq(sysg_supervisor_get(t->sup, name, &u), 0);
	return u;
}

int et_alive(pid_t pid)
{
	return sysg_proc_is_alive(pid, 0);
}

struct dead_wait {
	pid_t pid;
};

static int is_dead(struct sysg_supervisor *s, void *arg)
{
	(void)s;
	return !et_alive(((struct dead_wait *)arg)->pid);
}

int et_wait_dead(struct et *t, pid_t pid, int timeout_ms)
{
	struct dead_wait w = { pid };

	return sysg_supervisor_run_until(t->sup, is_dead, &w,
					 tu_deadline_ms(timeout_ms)) == 0;
}
