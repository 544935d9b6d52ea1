/* cmd_engine.c - `sysg start`, `stop` and `restart`: thin CLI over the
 * supervisor process (daemon.h), its control socket (ctlclient.h) and the
 * supervisor-less stop (stopper.h).
 *
 * With a supervisor answering on control.sock every command is forwarded
 * to it (a second `start` never starts a second supervisor). Without one,
 * `start` becomes the supervisor (foreground) or detaches one
 * (--daemonize), `stop` works from the state backend, and `restart`
 * needs --daemonize to start one first (else exit 3).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config/config.h"
#include "control/control.h"
#include "base/base.h"
#include "plugin/plugin.h"
#include "proc/proc.h"
#include "views/views.h"
#include "engine/engine.h"

/* How long a CLI waits for a supervisor that is starting up (another
 * `start` holds the state directory) to answer on its socket. */
#define STARTUP_WAIT_MS 30000
/* How long `stop` waits for the supervisor to remove its files. */
#define EXIT_WAIT_MS 30000

struct engine {
	struct sysg_cli *c;
	char state_dir[SYSG_PATH_MAX];
	char log_dir[SYSG_PATH_MAX];
	struct sysg_plugin_path pp;
	struct sysg_config *cfg;
	struct sysg_state *st;
	char *cfg_path;         /* the absolute path of the config a start
	                           loaded (kept once a supervisor took CFG) */
};

static void engine_free(struct engine *e)
{
	free(e->cfg_path);
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
	sysg_config_free(e->cfg);
	/* quiet: what runs (the files that joined too); else a start's */
	rc = sysg_cli_load_config(path, sysg_cli_config_flags(e->c),
				  quiet ? e->state_dir : NULL, &e->cfg, &d);
	if (!quiet) {
		sysg_cli_print_diag(&d);        /* errors, or warnings */
		if (rc < 0 && !d.n)
			sysg_cli_error("%s: %s", path, strerror(-rc));
	}
	sysg_diag_free(&d);
	return rc;
}

/* Strategy settings are checked by their plugins, not the config loader:
 * nothing starts when they are bad. */
static int check_strategies(struct engine *e)
{
	struct sysg_diag d;
	int rc;

	sysg_diag_init(&d);
	rc = sysg_config_check_strategies(e->cfg, &e->pp, &d);
	sysg_cli_print_diag(&d);
	sysg_diag_free(&d);
	return rc;
}

/* The privileged keys of every service (SPEC 10), before anything starts:
 * the number of services in error, printed as FILE:LINE:COL lines. */
static int check_privileged(struct engine *e)
{
	struct sysg_diag d;
	int bad;

	sysg_diag_init(&d);
	bad = sysg_cli_check_privileged(e->c, e->cfg, &d);
	sysg_cli_print_diag(&d);
	sysg_diag_free(&d);
	return bad;
}

static int open_state(struct engine *e)
{
	return sysg_cli_open_state(e->c, e->cfg, &e->pp, e->state_dir, &e->st);
}

/* ------------------------------------------------------------------ */
/* Talking to a running supervisor                                     */
/* ------------------------------------------------------------------ */

static json_t *service_args(const char *service)
{
	return service ? json_pack("{s:s}", "service", service) : json_object();
}

/* Send CMD to the supervisor if one runs. Returns 1 with *CODE set (the
 * reply's exit status, after printing it), or 0 when there is none. */
/* How long an operation may take the supervisor: a minute, plus for
 * each service of the config everything a start or stop may wait for
 * (settle, health checks, backoff, stop timeout and the SIGKILL grace,
 * a deploy's grace period); ten minutes without a config. */
static int op_timeout_ms(const struct engine *e)
{
	int64_t t = 60000;

	if (!e->cfg)
		return 600000;
	for (size_t i = 0; i < e->cfg->nservices; i++) {
		const struct sysg_service *v = &e->cfg->services[i];
		const struct sysg_health *h = &v->health;

		t += 15000 + v->stop_timeout_ms + v->ready_after_ms +
		     v->backoff_ms + v->deployment.grace_period_ms;
		if (h->present)
			t += (int64_t)(h->retries + 1) *
			     (h->timeout_ms + h->interval_ms);
		if (t > 24LL * 3600 * 1000)
			return 24 * 3600 * 1000;
	}
	return (int)t;
}

/* What an operation waits for, for the message when it times out. */
static const char *op_waits_for(const char *cmd)
{
	return !strcmp(cmd, "stop") ? "the services to stop" :
	       !strcmp(cmd, "start") || !strcmp(cmd, "unit") ?
	       "the services to start" :
	       "the services to restart";
}

static int forward(struct engine *e, const char *cmd, json_t *args, int *code)
{
	json_t *reply;
	int rc = sysg_ctlc_call(e->state_dir, cmd, args, op_timeout_ms(e),
				&reply, stderr);

	if (rc == -ENOTCONN)
		return 0;
	if (rc == -ETIMEDOUT)
		sysg_cli_error("gave up waiting for %s; the supervisor may be "
			       "stuck: see %s/supervisor.log", op_waits_for(cmd),
			       e->log_dir);
	*code = rc < 0 ? SYSG_EXIT_FAILED : sysg_ctlc_print(reply, stdout,
							      stderr);
	json_decref(reply);
	return 1;
}

static void sleep_ms(long ms)
{
	poll(NULL, 0, (int)ms);
}

/* Another supervisor is starting up: wait until it answers, then ask it
 * for CMD. */
static int forward_when_up(struct engine *e, const char *cmd, json_t *args)
{
	int code = SYSG_EXIT_FAILED;

	for (int waited = 0; waited < STARTUP_WAIT_MS; waited += 20) {
		if (sysg_ctlc_ping(e->state_dir, NULL)) {
			if (forward(e, cmd, args, &code))
				return code;
			break;
		}
		sleep_ms(20);
	}
	json_decref(args);
	sysg_cli_error("another supervisor holds %s but does not answer on "
		       "its control socket", e->state_dir);
	return SYSG_EXIT_FAILED;
}

/* ------------------------------------------------------------------ */
/* start                                                               */
/* ------------------------------------------------------------------ */

/* A start for the running supervisor: the services of its file, or
 * (another file) its projects join it. */
static json_t *start_args(const struct engine *e, const char *service)
{
	json_t *a = service_args(service);

	if (a && e->cfg_path)
		json_object_set_new(a, "config", json_string(e->cfg_path));
	return a;
}

/* Unit mode: a one-service config for `sysg start -- CMD ARGS...`. */
static int unit_config(struct engine *e)
{
	char cwd[SYSG_PATH_MAX], *cmd;
	struct sysg_diag d;
	int rc;

	/* the words are the user's shell's result: no $VAR expansion again */
	cmd = sysg_cmd_join(e->c->argv_cmd);
	if (!cmd || !getcwd(cwd, sizeof(cwd))) {
		free(cmd);
		sysg_cli_error("cannot build the unit: %s", strerror(errno));
		return -ENOMEM;
	}
	sysg_diag_init(&d);
	rc = sysg_config_unit(e->c->name, cmd, cwd, &e->cfg, &d);
	if (rc < 0)
		sysg_cli_print_diag(&d);
	sysg_diag_free(&d);
	free(cmd);
	return rc;
}

/* start --daemonize -- CMD with a supervisor running: it adds the unit. */
static int unit_to_supervisor(struct engine *e, int *code)
{
	json_t *argv = json_array(), *args;
	char cwd[SYSG_PATH_MAX];

	for (int i = 0; argv && i < e->c->nargv_cmd; i++)
		json_array_append_new(argv, json_string(e->c->argv_cmd[i]));
	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = '\0';
	args = json_pack("{s:s, s:o}", "cwd", cwd, "argv", argv);
	if (args && e->c->name)
		json_object_set_new(args, "name", json_string(e->c->name));
	return forward(e, "unit", args, code);
}

/* The options shared by the foreground and the resident supervisor. */
static void daemon_opts(struct engine *e, struct sysg_daemon_opts *o,
			const char *service)
{
	memset(o, 0, sizeof(*o));
	o->state_dir = e->state_dir;
	o->log_dir = e->log_dir;
	o->pp = &e->pp;
	o->state_backend = e->c->state_backend;
	o->cfg = e->cfg;
	o->service = service;
	o->sys = e->c->sys;
	o->drop_privileges = e->c->drop_privileges;
	o->kind = e->c->argv_cmd ? "unit" : "service";
	o->result_fd = -1;
	e->cfg = NULL;          /* taken by sysg_daemon_run */
}

/* The multiplexed output of a foreground start: on a terminal (in
 * colour unless --no-color or NO_COLOR), or with --mux; never with
 * --stderr, which asks for its own format. Supervisor lines go through
 * it too (warnings and errors only, unless --log-level debug or more).
 * NULL: output to the log files only. */
static struct sysg_mux *foreground_mux(const struct sysg_cli *c,
				       struct sysg_daemon_opts *o)
{
	int tty = isatty(STDOUT_FILENO);
	const char *nc = getenv("NO_COLOR");
	struct sysg_mux *m;
	FILE *own;

	if ((!tty && !c->mux) || c->echo_stderr)
		return NULL;
	m = sysg_mux_new(stdout, tty && !c->no_color && !(nc && nc[0]), tty);
	own = m ? sysg_mux_sysg_stream(m) : NULL;
	if (!own) {
		sysg_mux_free(m);
		return NULL;
	}
	o->mux = m;
	o->echo = c->log_level > 0 ? own : NULL;
	if (o->log_level > SYSG_LOG_WARN && o->log_level < SYSG_LOG_DEBUG)
		o->log_level = SYSG_LOG_WARN;
	o->err = own;
	return m;
}

static int run_foreground(struct engine *e)
{
	struct sysg_daemon_opts o;
	struct sysg_mux *mux;
	char err[2 * SYSG_ERR_MAX];
	int failed = 0, rc;

	daemon_opts(e, &o, e->c->service);
	o.foreground = 1;
	o.log_level = e->c->log_level;
	o.echo = e->c->log_level > 0 ? stderr : NULL;
	o.echo_stderr = e->c->echo_stderr ? stdout : NULL;
	o.err = stderr;
	mux = foreground_mux(e->c, &o);
	rc = sysg_daemon_run(&o, &failed, err, sizeof(err));
	sysg_mux_free(mux);
	if (rc == -EADDRINUSE && !e->c->argv_cmd)
		return forward_when_up(e, "start", start_args(e, e->c->service));
	if (rc < 0) {
		sysg_cli_error("%s", err);
		return SYSG_EXIT_FAILED;
	}
	return failed ? SYSG_EXIT_FAILED : SYSG_EXIT_OK;
}

/* The detached supervisor: runs until stopped, then returns (and the
 * process exits through main). */
static int be_daemon(struct engine *e, int fd, const char *service)
{
	struct sysg_daemon_opts o;
	char err[2 * SYSG_ERR_MAX];
	int failed = 0, rc;

	daemon_opts(e, &o, service);
	o.log_level = e->c->log_level;  /* supervisor.log only: no echo */
	o.result_fd = fd;
	rc = sysg_daemon_run(&o, &failed, err, sizeof(err));
	return rc < 0 ? SYSG_EXIT_FAILED : SYSG_EXIT_OK;
}

/* start --daemonize with no supervisor running: start SERVICE (NULL:
 * all). *IS_DAEMON is set in the detached process, which must return the
 * code at once. */
static int start_daemon(struct engine *e, const char *service, int *is_daemon)
{
	int64_t pid = 0;
	int fd, code, rc = sysg_daemonize(&fd);

	*is_daemon = rc == 0;
	if (rc == 0)
		return be_daemon(e, fd, service);
	if (rc < 0) {
		sysg_cli_error("cannot start the supervisor: %s", strerror(-rc));
		return SYSG_EXIT_FAILED;
	}
	code = sysg_daemon_wait(fd, op_timeout_ms(e), stderr);
	if (code == -ETIMEDOUT) {
		sysg_cli_error("gave up waiting for the services to start after "
			       "%d s; the supervisor keeps running (see %s/"
			       "supervisor.log, 'sysg status')",
			       op_timeout_ms(e) / 1000, e->log_dir);
		return SYSG_EXIT_FAILED;
	}
	if (code == SYSG_DAEMON_BUSY)
		return forward_when_up(e, "start", start_args(e, service));
	if (code < 0) {
		sysg_cli_error("the supervisor exited while starting (see %s/"
			       "supervisor.log)", e->log_dir);
		return SYSG_EXIT_FAILED;
	}
	if (sysg_ctlc_ping(e->state_dir, &pid))
		printf("supervisor running (pid %lld), logs in %s\n",
		       (long long)pid, e->log_dir);
	return code;
}

/* Load the config of a manifest-mode start; 0 or the exit status. */
static int start_config(struct engine *e, int use_hint)
{
	char *path = sysg_cli_config_path(e->c, use_hint);
	int rc;

	if (!path)
		return SYSG_EXIT_USAGE;
	rc = load_config(e, path, 0) < 0 ? SYSG_EXIT_USAGE : 0;
	free(path);
	free(e->cfg_path);
	e->cfg_path = rc == 0 && e->cfg->abs_path ? strdup(e->cfg->abs_path) :
		      NULL;
	if (rc == 0 && check_privileged(e) > 0)
		rc = SYSG_EXIT_USAGE;
	if (rc == 0 && check_strategies(e) < 0)
		rc = SYSG_EXIT_USAGE;
	if (rc == 0 && e->c->service &&
	    !sysg_config_knows(e->cfg, e->c->service)) {
		char msg[2 * 256 + 64];

		sysg_config_unknown_service(e->cfg, e->c->service, msg,
					    sizeof(msg));
		sysg_cli_error("%s in %s", msg, e->cfg->path);
		rc = SYSG_EXIT_USAGE;
	}
	return rc;
}

static int start_unit(struct engine *e, int *is_daemon)
{
	int64_t pid;
	int code;

	if (unit_config(e) < 0)
		return SYSG_EXIT_USAGE;
	if (e->c->daemonize) {
		if (unit_to_supervisor(e, &code))
			return code;
		return start_daemon(e, NULL, is_daemon);
	}
	if (sysg_ctlc_ping(e->state_dir, &pid)) {
		sysg_cli_error("a supervisor is already running (pid %lld); unit "
			       "mode needs a state directory of its own "
			       "(SYSG_STATE_DIR)", (long long)pid);
		return SYSG_EXIT_FAILED;
	}
	return run_foreground(e);
}

/* Child mode: ask the supervisor to start a managed child; print its
 * pid alone on stdout (SPEC 8). */
static int start_child(struct engine *e)
{
	const struct sysg_cli *c = e->c;
	json_t *args, *argv, *reply = NULL;
	int rc;

	if (!c->parent_pid || !c->name || !c->argv_cmd || c->nargv_cmd < 1) {
		sysg_cli_error("child mode needs --parent-pid P --name N -- CMD ...");
		return SYSG_EXIT_USAGE;
	}
	argv = json_array();
	for (int i = 0; argv && i < c->nargv_cmd; i++)
		json_array_append_new(argv, json_string(c->argv_cmd[i]));
	args = json_pack("{s:I, s:s, s:o}", "parent_pid",
			 (json_int_t)c->parent_pid, "name", c->name, "argv", argv);
	if (args && c->ttl > 0)
		json_object_set_new(args, "ttl_s", json_integer(c->ttl));
	rc = sysg_ctlc_call(e->state_dir, "spawn", args,
			    SYSG_CTLC_QUERY_TIMEOUT_MS, &reply, stderr);
	if (rc == -ENOTCONN) {
		sysg_cli_error("no supervisor running: child mode needs one "
			       "(sysg start --daemonize)");
		return SYSG_EXIT_NO_SUPERVISOR;
	}
	if (rc < 0)
		return SYSG_EXIT_FAILED;
	rc = sysg_ctlc_exit(reply);
	if (rc == 0)
		printf("%lld\n", (long long)json_integer_value(json_object_get(
			json_object_get(reply, "data"), "pid")));
	else
		sysg_ctlc_print(reply, stdout, stderr);
	json_decref(reply);
	return rc;
}

int sysg_cmd_start(struct sysg_cli *c)
{
	struct engine e = { .c = c };
	int rc, is_daemon = 0;

	if (engine_dirs(&e) < 0)
		return SYSG_EXIT_FAILED;
	if (!strcmp(c->command, "spawn"))
		fprintf(stderr, "sysg: 'spawn' is deprecated; use 'sysg start "
			"--parent-pid P --name N -- CMD'\n");
	if (c->parent_pid || c->child || !strcmp(c->command, "spawn")) {
		rc = start_child(&e);
	} else if (c->argv_cmd) {
		rc = start_unit(&e, &is_daemon);
	} else if ((rc = start_config(&e, 0)) == 0 &&
		   !forward(&e, "start", start_args(&e, c->service), &rc)) {
		rc = c->daemonize ? start_daemon(&e, c->service, &is_daemon) :
		     run_foreground(&e);
	}
	engine_free(&e);
	return rc;
}

/* `sysg init`: the foreground supervisor as a container's PID 1. Every
 * orphan of the namespace is re-parented to it and reaped by the loop
 * (an unknown pid is never taken for a service's exit); SIGTERM/SIGINT
 * stop every service in reverse dependency order; the exit status says
 * how they stopped (SYSG_INIT_KILLED in cli.h). */
int sysg_cmd_init(struct sysg_cli *c)
{
	struct engine e = { .c = c };
	struct sysg_daemon_opts o;
	char err[2 * SYSG_ERR_MAX];
	int failed = 0, killed = 0, rc;

	sigset_t early;

	if (getpid() != 1) {
		sysg_cli_error("init runs only as PID 1 (a container's "
			       "entrypoint), this is pid %d: use 'sysg start'",
			       (int)getpid());
		return SYSG_EXIT_USAGE;
	}
	/* PID 1 ignores a signal it has no handler for: block them now, so
	 * that a SIGTERM sent while the config loads stays pending for the
	 * loop's signalfd instead of being lost */
	sigemptyset(&early);
	sigaddset(&early, SIGTERM);
	sigaddset(&early, SIGINT);
	sigaddset(&early, SIGCHLD);
	sigprocmask(SIG_BLOCK, &early, NULL);
	if (engine_dirs(&e) < 0)
		return SYSG_EXIT_FAILED;
	rc = start_config(&e, 0);
	if (rc) {
		engine_free(&e);
		return rc;
	}
	daemon_opts(&e, &o, NULL);
	o.foreground = 1;
	o.log_level = c->log_level;
	o.echo = c->log_level > 0 ? stderr : NULL;
	o.err = stderr;
	o.killed_stops = &killed;
	rc = sysg_daemon_run(&o, &failed, err, sizeof(err));
	engine_free(&e);
	if (rc < 0) {
		sysg_cli_error("%s", err);
		return SYSG_EXIT_FAILED;
	}
	return (failed ? SYSG_EXIT_FAILED : 0) | (killed ? SYSG_INIT_KILLED : 0);
}

/* Quietly load the config the supervisor was started with (the hint),
 * else the default file, if any: what runs, wherever we are. */
static void load_hint(struct engine *e)
{
	char *path = sysg_cli_config_hint(e->c->sys);

	if (!path)
		path = sysg_cli_config_default(e->c);
	if (path)
		load_config(e, path, 1);
	free(path);
}

/* ------------------------------------------------------------------ */
/* restart                                                             */
/* ------------------------------------------------------------------ */

static json_t *restart_args(struct engine *e)
{
	json_t *args = service_args(e->c->service);
	char *abs;

	if (!args || !e->c->config)
		return args;
	abs = sysg_path_abs(NULL, e->c->config);
	if (!abs || json_object_set_new(args, "config", json_string(abs)) < 0) {
		json_decref(args);
		args = NULL;
	}
	free(abs);
	return args;
}

/* Restart every service of the supervisor at STATE_DIR, one after the
 * other in config order, each through its strategy. */
static int restart_each(struct sysg_cli *c, const char *state_dir)
{
	json_t *reply, *u;
	size_t i;
	int rc = sysg_ctlc_call(state_dir, "status", NULL,
				SYSG_CTLC_QUERY_TIMEOUT_MS, &reply, stderr), worst = 0;

	if (rc < 0)
		return rc == -ENOTCONN ? SYSG_EXIT_NO_SUPERVISOR : SYSG_EXIT_FAILED;
	json_array_foreach(json_object_get(json_object_get(reply, "data"),
					   "units"), i, u) {
		const char *name = json_string_value(json_object_get(u, "name"));
		const char *kind = json_string_value(json_object_get(u, "kind"));

		if (!name || !kind || (strcmp(kind, "service") &&
				       strcmp(kind, "cron")) ||
		    !sysg_cli_in_project(c, name))
			continue;       /* -p: that project's only */
		c->service = name;
		rc = sysg_cli_deploy(c, state_dir, 1);
		if (rc > worst)
			worst = rc;
	}
	c->service = NULL;
	json_decref(reply);
	return worst;
}

/* restart --strict: the file the restart would use must load strictly
 * (the supervisor reads it without the flag). */
static int restart_check(struct engine *e)
{
	char *path = e->c->config ? strdup(e->c->config) :
		     sysg_cli_config_find(e->c, 1);
	int rc = path ? load_config(e, path, 0) : 0;

	free(path);
	sysg_config_free(e->cfg);
	e->cfg = NULL;
	return rc;
}

int sysg_cmd_restart(struct sysg_cli *c)
{
	struct engine e = { .c = c };
	int rc, is_daemon = 0;

	if (engine_dirs(&e) < 0)
		return SYSG_EXIT_FAILED;
	/* checked here, with the caller's rights and full diagnostics, so
	 * that the supervisor only ever gets a regular, valid file */
	if (c->config && (load_config(&e, c->config, 0) < 0 ||
			  check_privileged(&e) > 0)) {
		rc = SYSG_EXIT_USAGE;
	} else if (c->strict && !c->config && restart_check(&e) < 0) {
		rc = SYSG_EXIT_USAGE;   /* --strict: unknown keys refused here */
	} else if (!c->config && sysg_ctlc_ping(e.state_dir, NULL)) {
		/* each service with its deployment strategy, like a deploy */
		rc = c->service ? sysg_cli_deploy(c, e.state_dir, 1) :
		     restart_each(c, e.state_dir);
	} else if ((c->config || (load_hint(&e), 1)) &&
		   forward(&e, "restart", restart_args(&e), &rc)) {
		/* done by the supervisor */
	} else if (!c->daemonize) {
		sysg_cli_error("no supervisor running (use --daemonize to start "
			       "one)");
		rc = SYSG_EXIT_NO_SUPERVISOR;
	} else if ((rc = start_config(&e, 1)) == 0) {
		/* a new supervisor adopts what runs, starts the rest; then the
		 * restart proper */
		rc = start_daemon(&e, NULL, &is_daemon);
		if (rc == SYSG_EXIT_OK && !is_daemon &&
		    !forward(&e, "restart", service_args(c->service), &rc))
			rc = SYSG_EXIT_NO_SUPERVISOR;
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
	if (e->c->config)
		load_config(e, e->c->config, 0);
	else
		load_hint(e);
}

/* The runtime file NAME of STATE_DIR's supervisor exists. */
static int exists(const char *state_dir, const char *name)
{
	char path[SYSG_PATH_MAX];
	struct stat st;

	return sysg_run_file(state_dir, name, path, sizeof(path)) == 0 &&
	       lstat(path, &st) == 0;
}

/* After a full stop: wait until the supervisor has removed sysg.pid and
 * control.sock (or is gone). */
static int wait_supervisor_exit(const char *state_dir, int64_t pid)
{
	for (int waited = 0; waited < EXIT_WAIT_MS; waited += 10) {
		int files = exists(state_dir, SYSG_FILE_PID) ||
			    exists(state_dir, SYSG_FILE_CONTROL);

		if (!files)
			return 0;
		if (pid > 0 && !sysg_proc_is_alive((pid_t)pid, 0))
			return 0;
		sleep_ms(10);
	}
	sysg_cli_error("the supervisor (pid %lld) did not exit", (long long)pid);
	return -ETIMEDOUT;
}

/* Ask a supervisor that does not answer on the socket to stop
 * everything. */
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

/* No supervisor answers: what it left behind goes. */
static void remove_stale(const char *state_dir)
{
	static const char *const names[] = {
		SYSG_FILE_PID, SYSG_FILE_PID_START, SYSG_FILE_CONTROL,
	};
	char path[SYSG_PATH_MAX + 16];

	if (sysg_supervisor_alive(state_dir, NULL))
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (sysg_run_file(state_dir, names[i], path, sizeof(path)) == 0)
			unlink(path);
	/* system mode's copy of sysg.pid in the state directory */
	snprintf(path, sizeof(path), "%s/" SYSG_FILE_PID, state_dir);
	unlink(path);
}

static int stop_offline(struct engine *e)
{
	struct sysg_stop_req r = { 0 };
	struct sysg_cli *c = e->c;
	char err[SYSG_ERR_MAX];
	int64_t sup = 0;
	int rc;

	if (open_state(e) < 0)
		return SYSG_EXIT_FAILED;
	if (sysg_supervisor_alive(e->state_dir, &sup) &&
	    (c->service || c->project)) {
		sysg_cli_error("a supervisor is running (pid %lld) but does not "
			       "answer; stop it with 'sysg stop'", (long long)sup);
		return SYSG_EXIT_FAILED;
	}
	if (sup && stop_supervisor((pid_t)sup) < 0)
		return SYSG_EXIT_FAILED;
	r.state_dir = e->state_dir;
	r.st = e->st;
	r.cfg = e->cfg;
	r.service = c->service;
	r.out = stdout;
	if (c->project && !c->service) {
		/* the project's services, one by one */
		rc = 0;
		for (size_t i = 0; e->cfg && rc == 0 && i < e->cfg->nservices;
		     i++) {
			r.service = e->cfg->services[i].name;
			if (sysg_cli_in_project(c, r.service))
				rc = sysg_stop_offline(&r, err, sizeof(err));
		}
	} else {
		rc = sysg_stop_offline(&r, err, sizeof(err));
	}
	if (rc < 0)
		sysg_cli_error("%s", err);
	if (rc == 0 && !c->service && !c->project)
		remove_stale(e->state_dir);
	return rc == -ENOENT ? SYSG_EXIT_USAGE : rc < 0 ? SYSG_EXIT_FAILED :
	       SYSG_EXIT_OK;
}

/* After the supervisor's full stop: anything still carrying a marker of
 * this state directory (a service of an older config that a crashed
 * supervisor left, whatever its record says) goes too, so that `stop`
 * leaves nothing sysg started. */
static int stop_leftovers(struct engine *e)
{
	struct sysg_stop_req r = { .state_dir = e->state_dir,
				   .leftovers_only = 1, .out = stdout };
	char err[SYSG_ERR_MAX];
	int rc;

	if (open_state(e) < 0)
		return SYSG_EXIT_FAILED;
	r.st = e->st;
	r.cfg = e->cfg;
	rc = sysg_stop_offline(&r, err, sizeof(err));
	if (rc < 0)
		sysg_cli_error("%s", err);
	return rc < 0 ? SYSG_EXIT_FAILED : SYSG_EXIT_OK;
}

int sysg_cmd_stop(struct sysg_cli *c)
{
	struct engine e = { .c = c };
	int64_t pid = 0;
	int rc;

	if (engine_dirs(&e) < 0)
		return SYSG_EXIT_FAILED;
	sysg_supervisor_alive(e.state_dir, &pid);
	stop_config(&e);        /* for the deadline */
	if (c->project && !c->service && c->supervisor) {
		sysg_cli_error("--project and --supervisor: choose one (a "
			       "project, or every project and the supervisor)");
		rc = SYSG_EXIT_USAGE;
	} else if (c->project && !c->service) {
		if (!forward(&e, "stop", json_pack("{s:s}", "project",
						   c->project), &rc))
			rc = stop_offline(&e);
	} else if (forward(&e, "stop", service_args(c->service), &rc)) {
		if (rc == SYSG_EXIT_OK && !c->service &&
		    wait_supervisor_exit(e.state_dir, pid) < 0)
			rc = SYSG_EXIT_FAILED;
		if (rc == SYSG_EXIT_OK && !c->service)
			rc = stop_leftovers(&e);
	} else {
		rc = stop_offline(&e);
	}
	engine_free(&e);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Live upgrade                                                        */
/* ------------------------------------------------------------------ */

/* How long `upgrade` waits for the new image to answer. */
#define UPGRADE_WAIT_MS 30000

json_t *sysg_cli_ping_data(const char *state_dir, json_t **reply)
{
	FILE *quiet = fopen("/dev/null", "we");
	int rc;

	*reply = NULL;
	if (!quiet)
		return NULL;
	rc = sysg_ctlc_call(state_dir, "ping", NULL,
			    SYSG_CTLC_QUERY_TIMEOUT_MS, reply, quiet);
	fclose(quiet);
	if (rc < 0 || sysg_ctlc_exit(*reply) != 0)
		return NULL;
	return json_object_get(*reply, "data");
}

static int self_exe(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	buf[n > 0 ? n : 0] = '\0';
	return n > 0 ? 0 : -errno;
}

void sysg_print_version(const struct sysg_cli *c)
{
	char state_dir[SYSG_PATH_MAX], exe[SYSG_PATH_MAX];
	json_t *reply = NULL, *d = NULL;

	self_exe(exe, sizeof(exe));
	printf("sysg %s\nbinary: %s\n", SYSG_VERSION_STRING, exe);
	if (sysg_state_dir(c->sys, state_dir, sizeof(state_dir)) == 0)
		d = sysg_cli_ping_data(state_dir, &reply);
	if (d)
		printf("supervisor: sysg %s, pid %lld, binary %s, %lld live "
		       "upgrade(s)\n",
		       json_string_value(json_object_get(d, "version")) ?
		       json_string_value(json_object_get(d, "version")) :
		       "(older than 0.1.0)",
		       (long long)json_integer_value(json_object_get(d, "pid")),
		       json_string_value(json_object_get(d, "binary")) ?
		       json_string_value(json_object_get(d, "binary")) : "?",
		       (long long)json_integer_value(json_object_get(
			       d, "generation")));
	else
		printf("supervisor: none running\n");
	json_decref(reply);
}

/* Wait for the supervisor PID to answer with a generation above GEN (0)
 * or to report why the exec failed (1, printed); -ETIMEDOUT. */
static int upgrade_wait(const char *state_dir, json_int_t pid, json_int_t gen)
{
	int64_t end = sysg_now_ms() + UPGRADE_WAIT_MS;

	while (sysg_now_ms() < end) {
		json_t *reply, *d = sysg_cli_ping_data(state_dir, &reply);
		const char *why = d ? json_string_value(json_object_get(
			d, "upgrade_error")) : NULL;
		json_int_t g = json_integer_value(json_object_get(d,
								  "generation"));
		json_int_t p = json_integer_value(json_object_get(d, "pid"));

		if (d && p == pid && g > gen) {
			printf("supervisor (pid %lld) upgraded: sysg %s, binary "
			       "%s\n", (long long)p, json_string_value(
				       json_object_get(d, "version")),
			       json_string_value(json_object_get(d, "binary")));
			json_decref(reply);
			return 0;
		}
		if (d && p == pid && g == gen && why) {
			sysg_cli_error("upgrade failed, the supervisor keeps "
				       "running the old binary: %s", why);
			json_decref(reply);
			return 1;
		}
		json_decref(reply);
		sleep_ms(50);
	}
	return -ETIMEDOUT;
}

int sysg_cmd_upgrade(struct sysg_cli *c)
{
	struct engine e = { .c = c };
	char exe[SYSG_PATH_MAX], *bin;
	json_t *reply = NULL, *d;
	json_int_t pid, gen;
	int rc;

	if (engine_dirs(&e) < 0)
		return SYSG_EXIT_FAILED;
	if (c->binary)
		bin = sysg_path_abs(NULL, c->binary);
	else
		bin = self_exe(exe, sizeof(exe)) == 0 ? strdup(exe) : NULL;
	if (!bin) {
		sysg_cli_error("cannot tell which binary to run");
		engine_free(&e);
		return SYSG_EXIT_FAILED;
	}
	rc = sysg_ctlc_call(e.state_dir, "upgrade",
			    json_pack("{s:s}", "binary", bin),
			    SYSG_UPGRADE_PREFLIGHT_MS + 10000, &reply, stderr);
	free(bin);
	engine_free(&e);
	if (rc == -ENOTCONN) {
		sysg_cli_error("no supervisor running: nothing to upgrade");
		return SYSG_EXIT_NO_SUPERVISOR;
	}
	if (rc < 0)
		return SYSG_EXIT_FAILED;
	if ((rc = sysg_ctlc_exit(reply)) != 0) {
		sysg_ctlc_print(reply, stdout, stderr);
		json_decref(reply);
		return rc;
	}
	d = json_object_get(reply, "data");
	pid = json_integer_value(json_object_get(d, "pid"));
	gen = json_integer_value(json_object_get(d, "generation"));
	json_decref(reply);
	rc = upgrade_wait(e.state_dir, pid, gen);
	if (rc == -ETIMEDOUT)
		sysg_cli_error("the supervisor did not answer within %d s after "
			       "the upgrade (see %s/supervisor.log)",
			       UPGRADE_WAIT_MS / 1000, e.log_dir);
	return rc == 0 ? SYSG_EXIT_OK : SYSG_EXIT_FAILED;
}

/* The new image could not carry on: back to the previous binary with the
 * same handoff (once), else give up (the services keep running and the
 * next `start --daemonize` adopts them). */
static int resume_failed(struct sysg_handoff *h, const char *why)
{
	char err[SYSG_ERR_MAX];

	sysg_cli_error("cannot resume after the upgrade: %s", why);
	if (h->doc && !h->fallback && h->lock_fd >= 0)
		sysg_handoff_fall_back(h, err, sizeof(err));
	sysg_handoff_free(h);
	return SYSG_EXIT_FAILED;
}

int sysg_cmd_resume(const char *fdarg)
{
	struct sysg_cli c = { .command = "__resume", .log_level = 3 };
	struct engine e = { .c = &c };
	struct sysg_daemon_opts o;
	struct sysg_handoff h;
	char err[2 * SYSG_ERR_MAX];
	int failed = 0, rc;

	rc = sysg_handoff_read(atoi(fdarg), &h, err, sizeof(err));
	if (rc < 0)
		return resume_failed(&h, err);
	c.sys = h.sys;
	c.state_backend = h.state_backend;
	c.plugin_dirs = h.plugin_dirs ? strdup(h.plugin_dirs) : NULL;
	snprintf(e.state_dir, sizeof(e.state_dir), "%s", h.state_dir);
	snprintf(e.log_dir, sizeof(e.log_dir), "%s", h.log_dir);
	if (sysg_plugin_path_init(&e.pp, c.plugin_dirs) < 0 ||
	    load_config(&e, h.config, 1) < 0) {
		free(c.plugin_dirs);
		engine_free(&e);
		snprintf(err, sizeof(err), "cannot load %s", h.config);
		return resume_failed(&h, err);
	}
	if (open_state(&e) < 0) {       /* what setup will need: try it now,
					   while going back is possible */
		free(c.plugin_dirs);
		engine_free(&e);
		return resume_failed(&h, "cannot open the state backend");
	}
	sysg_state_close(e.st);
	e.st = NULL;
	daemon_opts(&e, &o, NULL);
	o.resume = &h;
	rc = sysg_daemon_run(&o, &failed, err, sizeof(err));
	free(c.plugin_dirs);
	engine_free(&e);
	sysg_handoff_free(&h);
	if (rc < 0) {           /* its lock and socket are gone: no way back */
		sysg_cli_error("cannot resume after the upgrade: %s", err);
		return SYSG_EXIT_FAILED;
	}
	return SYSG_EXIT_OK;
}
