/* cmd_engine.c - `sysg start` (foreground) and `sysg stop`: thin CLI over
 * the supervisor (supervisor.h) and the supervisor-less stop (stopper.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "diag.h"
#include "paths.h"
#include "plugin_loader.h"
#include "proctree.h"
#include "spawn.h"
#include "state.h"
#include "stopper.h"
#include "supervisor.h"

struct engine {
	struct sysg_cli *c;
	char state_dir[4096];
	char log_dir[4096];
	struct sysg_plugin_path pp;
	struct sysg_config *cfg;
	struct sysg_state *st;
};

static void engine_free(struct engine *e)
{
	sysg_state_close(e->st);
	sysg_config_free(e->cfg);
	sysg_plugin_path_free(&e->pp);
}

static int engine_dirs(struct engine *e)
{
	int rc = sysg_state_dir(e->c->sys, e->state_dir, sizeof(e->state_dir));

	if (rc == 0)
		rc = sysg_log_dir(e->c->sys, e->state_dir, e->log_dir,
				  sizeof(e->log_dir));
	if (rc < 0)
		sysg_cli_error("cannot determine the state directory: %s",
			       strerror(-rc));
	if (rc == 0 && (rc = sysg_plugin_path_init(&e->pp, e->c->plugin_dirs)) < 0)
		sysg_cli_error("out of memory");
	return rc;
}

static int load_config(struct engine *e, const char *path, int quiet)
{
	struct sysg_diag d;
	int rc;

	sysg_diag_init(&d);
	rc = sysg_config_load(path, &e->cfg, &d);
	if (rc < 0 && !quiet)
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.lines[i]);
	sysg_diag_free(&d);
	return rc;
}

static int open_state(struct engine *e)
{
	char err[512];
	const char *backend = e->c->state_backend;
	int rc;

	if (!backend && e->cfg)
		backend = e->cfg->state_backend;
	rc = sysg_state_open(&e->st, &e->pp, backend, e->state_dir,
			     e->cfg ? e->cfg->state_path : NULL, err, sizeof(err));
	if (rc < 0)
		sysg_cli_error("%s", err);
	return rc;
}

/* ------------------------------------------------------------------ */
/* sysg.pid and config_hint                                            */
/* ------------------------------------------------------------------ */

static int write_file_atomic(const char *dir, const char *name,
			     const char *text)
{
	char path[4200], tmp[4300];
	int fd, rc = 0;
	size_t len = strlen(text);

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* The pid in STATE_DIR/sysg.pid when that process is alive, else 0. */
static pid_t live_supervisor(const char *state_dir)
{
	char path[4200];
	FILE *f;
	int pid = 0;

	snprintf(path, sizeof(path), "%s/sysg.pid", state_dir);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid > 0 && pid != getpid() && sysg_proc_is_alive(pid, 0) ?
	       pid : 0;
}

static void remove_pidfile(const char *state_dir)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/sysg.pid", state_dir);
	unlink(path);
}

/* ------------------------------------------------------------------ */
/* start                                                               */
/* ------------------------------------------------------------------ */

static void yaml_quote(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void unit_name(const struct sysg_cli *c, char *buf, size_t len)
{
	const char *base = c->name ? c->name : strrchr(c->argv_cmd[0], '/');

	base = c->name ? c->name : base ? base + 1 : c->argv_cmd[0];
	snprintf(buf, len, "%s", *base ? base : "unit");
	for (char *p = buf; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_-.", *p))
			*p = '_';
}

/* Unit mode: a one-service config for `sysg start -- CMD ARGS...`. */
static int unit_config(struct engine *e)
{
	char name[128], cwd[4096], *buf = NULL, *cmd;
	size_t len = 0;
	struct sysg_diag d;
	FILE *f;
	int rc;

	cmd = sysg_cmd_join(e->c->argv_cmd);
	f = open_memstream(&buf, &len);
	if (!cmd || !f || !getcwd(cwd, sizeof(cwd))) {
		if (f)
			fclose(f);
		free(buf);
		free(cmd);
		sysg_cli_error("cannot build the unit: %s", strerror(errno));
		return -ENOMEM;
	}
	unit_name(e->c, name, sizeof(name));
	fprintf(f, "version: \"1\"\nservices:\n  ");
	yaml_quote(f, name);
	fprintf(f, ":\n    command: ");
	yaml_quote(f, cmd);
	fputc('\n', f);
	fclose(f);
	sysg_diag_init(&d);
	rc = sysg_config_load_buffer("<command line>", cwd, buf, len, &e->cfg, &d);
	for (size_t i = 0; rc < 0 && i < d.n; i++)
		fprintf(stderr, "%s\n", d.lines[i]);
	sysg_diag_free(&d);
	free(buf);
	free(cmd);
	return rc;
}

static void on_failure(void *arg, const char *svc, const char *reason)
{
	struct engine *e = arg;

	sysg_cli_error("service %s failed to start: %s (logs: %s/%s_stderr.log)",
		       svc, reason, e->log_dir, svc);
}

static int run_supervisor(struct engine *e)
{
	struct sysg_supervisor_opts o = {
		.state_dir = e->state_dir, .log_dir = e->log_dir,
		.sys = e->c->sys, .log_level = SYSG_LOG_INFO,
		.echo = e->c->log_level > 0 ? stderr : NULL,
		.echo_level = e->c->log_level,
		.echo_stderr = e->c->echo_stderr ? stdout : NULL,
		.kind = e->c->argv_cmd ? "unit" : "service",
		.on_failure = on_failure, .arg = e,
	};
	struct sysg_supervisor *s;
	char err[512];
	int rc = sysg_supervisor_new(&s, e->cfg, e->st, &o, err, sizeof(err));

	if (rc < 0) {
		sysg_cli_error("%s", err);
		return SYSG_EXIT_FAILED;
	}
	rc = e->c->service ? sysg_supervisor_start_service(s, e->c->service) :
	     sysg_supervisor_start_all(s);
	if (rc == 0 && e->cfg->abs_path && !e->c->argv_cmd)
		write_file_atomic(e->state_dir, "config_hint", e->cfg->abs_path);
	if (rc == 0)
		rc = sysg_supervisor_run(s);
	rc = rc < 0 || sysg_supervisor_failures(s) ? SYSG_EXIT_FAILED :
	     SYSG_EXIT_OK;
	sysg_supervisor_free(s);
	return rc;
}

static int start_checks(struct engine *e)
{
	pid_t other;

	if (e->c->parent_pid || e->c->child || e->c->daemonize) {
		sysg_cli_error("'%s' is not implemented yet in this build",
			       e->c->daemonize ? "start --daemonize" :
			       "start --parent-pid (child mode)");
		return SYSG_EXIT_FAILED;
	}
	if (e->c->service && sysg_config_find_service(e->cfg, e->c->service) < 0) {
		sysg_cli_error("unknown service '%s' in %s", e->c->service,
			       e->cfg->path);
		return SYSG_EXIT_USAGE;
	}
	other = live_supervisor(e->state_dir);
	if (other) {
		sysg_cli_error("a supervisor is already running (pid %d)",
			       (int)other);
		return SYSG_EXIT_FAILED;
	}
	return SYSG_EXIT_OK;
}

int sysg_cmd_start(struct sysg_cli *c)
{
	struct engine e = { .c = c };
	char pid[32];
	char *path = NULL;
	int rc;

	if (engine_dirs(&e) < 0)
		return SYSG_EXIT_FAILED;
	if (c->argv_cmd)
		rc = unit_config(&e) < 0 ? SYSG_EXIT_USAGE : 0;
	else if (!(path = sysg_cli_config_path(c, 0)))
		rc = SYSG_EXIT_USAGE;
	else
		rc = load_config(&e, path, 0) < 0 ? SYSG_EXIT_USAGE : 0;
	free(path);
	if (rc == 0)
		rc = start_checks(&e);
	if (rc == 0 && open_state(&e) < 0)
		rc = SYSG_EXIT_FAILED;
	if (rc == 0) {
		snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
		write_file_atomic(e.state_dir, "sysg.pid", pid);
		rc = run_supervisor(&e);
		remove_pidfile(e.state_dir);
	}
	engine_free(&e);
	return rc;
}

/* ------------------------------------------------------------------ */
/* stop                                                                */
/* ------------------------------------------------------------------ */

/* Optional config for stop: --config, the hint, or the default file. */
static void stop_config(struct engine *e)
{
	char hint[4200], buf[4096];
	char *path = NULL;
	FILE *f;

	if (e->c->config) {
		load_config(e, e->c->config, 0);
		return;
	}
	snprintf(hint, sizeof(hint), "%s/config_hint", e->state_dir);
	f = fopen(hint, "re");
	if (f && fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		path = access(buf, R_OK) == 0 ? strdup(buf) : NULL;
	}
	if (f)
		fclose(f);
	if (!path)
		path = sysg_config_find_default(NULL);
	if (path)
		load_config(e, path, 1);
	free(path);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Ask a running foreground supervisor to stop everything. */
static int stop_supervisor(pid_t pid)
{
	if (kill(pid, SIGTERM) < 0)
		return 0;
	for (int i = 0; i < 120 * 50; i++) {
		if (!sysg_proc_is_alive(pid, 0))
			return 0;
		sleep_ms(20);
	}
	sysg_cli_error("the supervisor (pid %d) did not stop", (int)pid);
	return -ETIMEDOUT;
}

int sysg_cmd_stop(struct sysg_cli *c)
{
	struct engine e = { .c = c };
	struct sysg_stop_req r = { 0 };
	char err[512];
	pid_t sup;
	int rc;

	if (engine_dirs(&e) < 0)
		return SYSG_EXIT_FAILED;
	stop_config(&e);
	if (open_state(&e) < 0) {
		engine_free(&e);
		return SYSG_EXIT_FAILED;
	}
	sup = live_supervisor(e.state_dir);
	if (sup && c->service) {
		sysg_cli_error("a supervisor is running (pid %d): it would restart "
			       "%s; stop it with 'sysg stop'", (int)sup, c->service);
		engine_free(&e);
		return SYSG_EXIT_FAILED;
	}
	if (sup && stop_supervisor(sup) < 0) {
		engine_free(&e);
		return SYSG_EXIT_FAILED;
	}
	r.state_dir = e.state_dir;
	r.st = e.st;
	r.cfg = e.cfg;
	r.service = c->service;
	r.out = stdout;
	rc = sysg_stop_offline(&r, err, sizeof(err));
	if (rc < 0)
		sysg_cli_error("%s", err);
	if (!c->service && rc == 0)
		remove_pidfile(e.state_dir);
	engine_free(&e);
	return rc == -ENOENT ? SYSG_EXIT_USAGE : rc < 0 ? SYSG_EXIT_FAILED :
	       SYSG_EXIT_OK;
}
