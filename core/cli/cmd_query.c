/* cmd_query.c - the read-side commands: `sysg status`, `inspect`, `logs`
 * and `purge`. Thin CLI over status.h, inspect.h, logview.h and purge.h.
 *
 * They work without a supervisor, from the state backend, the config file
 * (when there is one: --config, ./systemg.yaml or ./sysg.yaml, else the
 * remembered config_hint) and /proc. Without any config they show what the
 * state records. A config that was found but does not load is reported as
 * a warning (the state is still shown) unless it was named with --config,
 * which makes it a usage error (exit 2). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config/config.h"
#include "control/control.h"
#include "base/base.h"
#include "views/views.h"
#include "plugin/plugin.h"
#include "proc/proc.h"
#include "engine/engine.h"

/* What every query command needs: directories, config, state. */
struct query {
	struct sysg_cli *c;
	char state_dir[SYSG_PATH_MAX];
	char log_dir[SYSG_PATH_MAX];
	struct sysg_plugin_path pp;
	struct sysg_config *cfg;        /* NULL: no (usable) config */
	struct sysg_state *st;          /* NULL: no state directory yet */
	int loaded;                     /* config and state were looked for */
};

/* ------------------------------------------------------------ SIGINT */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* --stream runs until SIGINT/SIGTERM; no SA_RESTART, so a sleeping
 * poll() returns at once. */
static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int stop_requested(void *arg)
{
	(void)arg;
	return interrupted;
}

static void pause_ms(int64_t ms)
{
	if (!interrupted)
		poll(NULL, 0, ms > 3600000 ? 3600000 : (int)ms);
}

/* ------------------------------------------------------------- setup */

/* The config: --config, ./systemg.yaml, ./sysg.yaml or a readable
 * config_hint; none is not an error here. */
static int load_config(struct query *q)
{
	struct sysg_diag d;
	char *path = sysg_cli_config_find(q->c, 1);
	int rc;

	if (!path)
		return q->c->config ? -ENOENT : 0;
	sysg_diag_init(&d);
	rc = sysg_cli_load_config(path, 0, q->state_dir, &q->cfg, &d);
	if (rc < 0 && q->c->config) {
		sysg_cli_print_diag(&d);
		if (!d.n)
			sysg_cli_error("%s: %s", path, strerror(-rc));
	} else if (rc < 0) {
		sysg_cli_error("warning: %s does not load (see sysg validate); "
			       "showing the recorded state only", path);
		rc = 0;
	}
	sysg_diag_free(&d);
	free(path);
	return rc;
}

static int dir_exists(const char *dir)
{
	struct stat st;

	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Open the state backend, unless there is no state directory at all (a
 * read-only command does not create one). */
static int open_state(struct query *q)
{
	if (!dir_exists(q->state_dir))
		return 0;
	return sysg_cli_open_state(q->c, q->cfg, &q->pp, q->state_dir, &q->st);
}

static void query_close(struct query *q)
{
	sysg_state_close(q->st);
	q->st = NULL;
	sysg_config_free(q->cfg);
	q->cfg = NULL;
	sysg_plugin_path_free(&q->pp);
}

/* Directories and the plugin path. Returns 0 or the exit status. */
static int query_dirs(struct query *q, struct sysg_cli *c)
{
	int rc;

	memset(q, 0, sizeof(*q));
	q->c = c;
	rc = sysg_state_dir(c->sys, q->state_dir, sizeof(q->state_dir));
	if (rc == 0)
		rc = sysg_log_dir(c->sys, q->state_dir, q->log_dir,
				  sizeof(q->log_dir));
	if (rc < 0) {
		sysg_cli_error("cannot determine the state directory: %s",
			       strerror(-rc));
		return SYSG_EXIT_FAILED;
	}
	if (sysg_plugin_path_init(&q->pp, c->plugin_dirs) < 0) {
		sysg_cli_error("out of memory");
		return SYSG_EXIT_FAILED;
	}
	return 0;
}

/* The config and (when WITH_STATE) the state, once. Returns 0 or the
 * exit status to return. */
static int query_load(struct query *q, int with_state)
{
	if (q->loaded)
		return 0;
	q->loaded = 1;
	if (load_config(q) < 0)
		return SYSG_EXIT_USAGE;
	if (with_state && open_state(q) < 0)
		return SYSG_EXIT_FAILED;
	return 0;
}

/* Directories, then (WITH_STATE >= 0) the config and (WITH_STATE > 0)
 * the state. Returns 0 or the exit status to return. */
static int query_open(struct query *q, struct sysg_cli *c, int with_state)
{
	int rc = query_dirs(q, c);

	if (rc == 0 && with_state >= 0)
		rc = query_load(q, with_state);
	if (rc)
		query_close(q);
	return rc;
}

static void render_opts(const struct sysg_cli *c, struct sysg_render_opts *o)
{
	const char *term = getenv("TERM");
	struct winsize ws;
	int tty = isatty(STDOUT_FILENO);

	memset(o, 0, sizeof(*o));
	o->color = tty && !c->no_color && !getenv("NO_COLOR") &&
		   !(term && !strcmp(term, "dumb"));
	o->full_cmd = c->full_cmd;
	o->width = tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
		   ws.ws_col ? ws.ws_col : 120;
	if (sysg_proc_mem_total(&o->mem_total) < 0)
		o->mem_total = 0;
}

/* Start a new frame of a --stream display. */
static void new_frame(int json)
{
	if (json)
		return;
	if (isatty(STDOUT_FILENO))
		fputs("\033[H\033[2J", stdout);
	else
		fputs("\n", stdout);
}

static void print_json(json_t *j, int compact)
{
	if (!j) {
		sysg_cli_error("out of memory");
		return;
	}
	json_dumpf(j, stdout, SYSG_JSON_PRINT_FLAGS(compact));
	fputc('\n', stdout);
	json_decref(j);
}

/* ------------------------------------------------------------ status */

/* -p: only the project's units (the others move past NUNITS, where
 * sysg_status_free still finds them). */
static size_t project_units(const struct sysg_cli *c, struct sysg_status *s)
{
	size_t all = s->nunits, k = 0;

	for (size_t i = 0; c->project && i < all; i++)
		if (sysg_cli_in_project(c, s->units[i].name)) {
			struct sysg_unit_view t = s->units[k];

			s->units[k++] = s->units[i];
			s->units[i] = t;
		}
	if (c->project) {
		s->nunits = k;
		s->overall = sysg_status_overall(s);
	}
	return all;
}

static void render_status(struct query *q, struct sysg_status *s)
{
	const struct sysg_cli *c = q->c;
	struct sysg_render_opts ro;
	size_t all = project_units(c, s);

	if (c->stream_ms > 0)
		new_frame(c->json || c->prometheus);
	if (c->prometheus) {
		/* deploy counts come from the state backend */
		if (!q->st)
			open_state(q);
		if (sysg_status_render_prometheus(s, q->st, stdout) < 0)
			sysg_cli_error("out of memory");
		if (c->stream_ms > 0)
			fputc('\n', stdout);
	} else if (c->json) {
		/* the text the supervisor sends for --json, written the same
		 * way (compact per frame when streaming) */
		char *text = c->stream_ms > 0 ? sysg_status_to_json_string(s) :
			     sysg_status_to_json_text(s);

		if (text)
			printf("%s\n", text);
		else
			sysg_cli_error("out of memory");
		free(text);
	} else {
		render_opts(c, &ro);
		sysg_status_render_table(s, &ro, stdout);
	}
	s->nunits = all;
	fflush(stdout);
}

/* A supervisor older than this CLI refuses an argument it does not know:
 * 1 when REPLY is that refusal of ARGS' optional key OPT. */
static int refused_arg(const json_t *reply, const json_t *args, const char *opt)
{
	const char *e = json_string_value(json_object_get(reply, "error"));
	char want[64];

	if (!opt || !e || !json_object_get(args, opt))
		return 0;
	snprintf(want, sizeof(want), "unknown argument '%s'", opt);
	return !strcmp(e, want);
}

/* Ask the supervisor of STATE_DIR for CMD with ARGS. 1 when it answered
 * (*REPLY set, or *CODE set after printing its error), 0 when none runs.
 * OPT (may be NULL) is a key of ARGS the request can do without: an
 * older supervisor that refuses it is asked again without it. */
static int ask_supervisor_opt(const char *state_dir, const char *cmd,
			      json_t *args, const char *opt, json_t **reply,
			      int *code)
{
	int status = !strcmp(cmd, "status");
	int tmo = status ? SYSG_CTLC_STATUS_TIMEOUT_MS :
		  SYSG_CTLC_QUERY_TIMEOUT_MS;
	int rc = sysg_ctlc_call(state_dir, cmd, json_incref(args), tmo, reply,
				stderr);

	if (rc == 0 && refused_arg(*reply, args, opt)) {
		json_decref(*reply);
		json_object_del(args, opt);
		rc = sysg_ctlc_call(state_dir, cmd, json_incref(args), tmo,
				    reply, stderr);
	}
	json_decref(args);

	if (rc == -ENOTCONN)
		return 0;
	if (rc == -ETIMEDOUT && status) {
		/* a stuck or stopped supervisor: the files still tell */
		fprintf(stderr, "sysg: showing the offline view from the state "
			"files instead\n");
		return 0;
	}
	if (rc == 0 && sysg_ctlc_exit(*reply) != 0) {
		*code = sysg_ctlc_print(*reply, stdout, stderr);
		json_decref(*reply);
		rc = -EINVAL;
	} else if (rc < 0) {
		*code = SYSG_EXIT_FAILED;
	}
	if (rc < 0)
		*reply = NULL;
	return 1;
}

static int ask_supervisor(const char *state_dir, const char *cmd, json_t *args,
			  json_t **reply, int *code)
{
	return ask_supervisor_opt(state_dir, cmd, args, NULL, reply, code);
}

/* The supervisor's view: 1 when one answered (*CODE set), else 0. */
static int status_remote(struct query *q, int *code)
{
	struct sysg_cli *c = q->c;
	json_t *reply, *args = json_object();
	struct sysg_status s;
	char err[SYSG_ERR_MAX], *text;
	int rc;

	if (args && c->service)
		json_object_set_new(args, "service", json_string(c->service));
	if (args && c->all)
		json_object_set_new(args, "all", json_true());
	/* --json: the supervisor renders what is printed (-p filters here) */
	if (args && c->json && !c->prometheus && c->stream_ms <= 0 &&
	    !c->project)
		json_object_set_new(args, "json_text", json_true());
	if (!ask_supervisor_opt(q->state_dir, "status", args, "json_text",
				&reply, code))
		return 0;
	if (!reply)
		return 1;
	if (json_is_string(json_object_get(reply, "attachment"))) {
		const json_t *t = json_object_get(reply, "attachment");

		fwrite(json_string_value(t), 1, json_string_length(t), stdout);
		fputc('\n', stdout);
		fflush(stdout);
		json_decref(reply);
		*code = SYSG_EXIT_OK;
		return 1;
	}
	text = json_dumps(json_object_get(reply, "data"), JSON_COMPACT);
	json_decref(reply);
	rc = text ? sysg_status_from_json(text, &s, err, sizeof(err)) : -ENOMEM;
	free(text);
	if (rc < 0) {
		sysg_cli_error("bad status from the supervisor: %s",
			       rc == -ENOMEM ? "out of memory" : err);
		*code = SYSG_EXIT_FAILED;
		return 1;
	}
	render_status(q, &s);
	sysg_status_free(&s);
	*code = SYSG_EXIT_OK;
	return 1;
}

static int status_once(struct query *q, struct sysg_cpu_history *cpu)
{
	struct sysg_cli *c = q->c;
	struct sysg_status_opts o = { .service = c->service, .all = c->all,
				      .cpu = cpu };
	struct sysg_status s;
	char err[SYSG_ERR_MAX];
	int rc;

	if (status_remote(q, &rc))
		return rc;
	if ((rc = query_load(q, 1)) != 0)
		return rc;
	o.supervisor_alive = sysg_supervisor_alive(q->state_dir, NULL);
	rc = sysg_status_collect(q->cfg, q->st, &o, &s, err, sizeof(err));
	if (rc < 0) {
		sysg_cli_error("%s", err);
		return rc == -ENOENT ? SYSG_EXIT_USAGE : SYSG_EXIT_FAILED;
	}
	render_status(q, &s);
	sysg_status_free(&s);
	return SYSG_EXIT_OK;
}

int sysg_cmd_status(struct sysg_cli *c)
{
	struct sysg_cpu_history cpu = { NULL, 0 };
	struct query q;
	int rc = query_open(&q, c, -1);

	if (rc)
		return rc;
	if (c->stream_ms > 0)
		catch_signals();
	do {
		rc = status_once(&q, c->stream_ms > 0 ? &cpu : NULL);
		if (rc || c->stream_ms <= 0)
			break;
		pause_ms(c->stream_ms);
	} while (!interrupted);
	sysg_cpu_history_free(&cpu);
	query_close(&q);
	return rc;
}

/* ----------------------------------------------------------- inspect */

static json_t *inspect_args(const struct sysg_cli *c)
{
	struct sysg_render_opts ro;

	render_opts(c, &ro);
	return json_pack("{s:s, s:b, s:b, s:b, s:i}", "service", c->service,
			 "text", !c->json, "color", ro.color,
			 "full_cmd", ro.full_cmd, "width", ro.width);
}

/* The supervisor's view: 1 when one answered (*CODE set), else 0. */
static int inspect_remote(struct query *q, int *code)
{
	struct sysg_cli *c = q->c;
	json_t *reply, *data;

	if (!ask_supervisor(q->state_dir, "inspect", inspect_args(c), &reply,
			    code))
		return 0;
	if (!reply)
		return 1;
	data = json_object_get(reply, "data");
	if (c->stream_ms > 0)
		new_frame(c->json);
	if (c->json) {
		json_object_del(data, "text");
		print_json(json_incref(data), c->stream_ms > 0);
	} else {
		const char *text = json_string_value(json_object_get(data,
								     "text"));

		fputs(text ? text : "", stdout);
	}
	fflush(stdout);
	json_decref(reply);
	*code = SYSG_EXIT_OK;
	return 1;
}

static int inspect_once(struct query *q)
{
	struct sysg_cli *c = q->c;
	struct sysg_render_opts ro;
	struct sysg_inspect in;
	char err[SYSG_ERR_MAX];
	int rc, alive;

	if (inspect_remote(q, &rc))
		return rc;
	if ((rc = query_load(q, 1)) != 0)
		return rc;
	alive = sysg_supervisor_alive(q->state_dir, NULL);
	rc = sysg_inspect_collect(q->cfg, q->st, q->state_dir, c->service,
				  alive, &in, err, sizeof(err));
	if (rc < 0) {
		sysg_cli_error("%s", err);
		return rc == -ENOENT ? SYSG_EXIT_USAGE : SYSG_EXIT_FAILED;
	}
	if (c->stream_ms > 0)
		new_frame(c->json);
	if (c->json) {
		print_json(sysg_inspect_to_json(&in), c->stream_ms > 0);
	} else {
		render_opts(c, &ro);
		sysg_inspect_render(&in, &ro, stdout);
	}
	fflush(stdout);
	sysg_inspect_free(&in);
	return SYSG_EXIT_OK;
}

int sysg_cmd_inspect(struct sysg_cli *c)
{
	struct query q;
	int rc;

	if (!c->service) {
		sysg_cli_error("inspect needs a unit: sysg inspect -s SERVICE");
		return SYSG_EXIT_USAGE;
	}
	rc = query_open(&q, c, -1);
	if (rc)
		return rc;
	if (c->stream_ms > 0)
		catch_signals();
	do {
		rc = inspect_once(&q);
		if (rc || c->stream_ms <= 0)
			break;
		pause_ms(c->stream_ms);
	} while (!interrupted);
	query_close(&q);
	return rc;
}

/* -------------------------------------------------------------- logs */

/* Services whose logs `logs` shows: configured ones in file order, then
 * the others that have log files, by name. */
static int log_services(const struct query *q, struct sysg_strset *ns)
{
	char **found = NULL;
	int n, rc = 0;

	for (size_t i = 0; q->cfg && rc == 0 && i < q->cfg->nservices; i++)
		if (sysg_cli_in_project(q->c, q->cfg->services[i].name))
			rc = sysg_strset_add(ns, q->cfg->services[i].name);
	n = sysg_log_services(q->log_dir, &found);
	for (int i = 0; i < n; i++) {
		if (rc == 0 && sysg_cli_in_project(q->c, found[i]))
			rc = sysg_strset_add(ns, found[i]);
		free(found[i]);
	}
	free(found);
	return rc < 0 ? rc : n < 0 ? n : 0;
}

/* 1 when S is a unit the state knows (configured or recorded). */
static int recorded_unit(struct query *q, const char *s)
{
	struct sysg_unit_record u;

	if (!q->st && open_state(q) < 0)
		return 0;
	return q->st && sysg_state_get_unit(q->st, s, &u) == 0;
}

static int logs_clear(const struct sysg_logset *set)
{
	int cleared = 0, rc = SYSG_EXIT_OK;

	for (size_t i = 0; i < set->n; i++) {
		int r = sysg_log_clear(set->v[i].path);

		if (r == 0) {
			printf("cleared %s\n", set->v[i].path);
			cleared++;
		} else if (r != -ENOENT) {
			sysg_cli_error("cannot clear %s: %s", set->v[i].path,
				       strerror(-r));
			rc = SYSG_EXIT_FAILED;
		}
	}
	if (!cleared && rc == SYSG_EXIT_OK)
		printf("no logs to clear\n");
	return rc;
}

static int logs_print(const struct query *q, const struct sysg_logset *set)
{
	const struct sysg_cli *c = q->c;
	int n;

	if (c->stream_ms > 0) {
		struct sysg_follow_opts fo = { c->stream_ms, c->lines, stdout,
					       stderr, stop_requested, NULL,
					       NULL };
		int tty = isatty(STDOUT_FILENO);
		const char *nc = getenv("NO_COLOR");

		/* several files on a terminal (or --mux): "name | line" */
		if (set->n > 1 && (tty || c->mux))
			fo.mux = sysg_mux_new(stdout, tty && !c->no_color &&
					      !(nc && nc[0]), 0);
		catch_signals();
		n = sysg_logs_follow(set, &fo);
		sysg_mux_free(fo.mux);
		return n < 0 ? SYSG_EXIT_FAILED : SYSG_EXIT_OK;
	}
	n = sysg_logs_show(set, c->lines, stdout);
	if (n < 0) {
		sysg_cli_error("cannot read the logs: %s", strerror(-n));
		return SYSG_EXIT_FAILED;
	}
	if (n == 0)
		printf("no %s logs yet%s%s (in %s)\n",
		       c->kind ? c->kind : "service", c->service ? " for " : "",
		       c->service ? c->service : "", q->log_dir);
	return SYSG_EXIT_OK;
}

/* The copies NAME.0, NAME.1 ... (instances: N) among the names NS,
 * into COPIES (borrowed strings); their count. */
static size_t log_copies(const struct sysg_strset *ns, const char *name,
			 const char **copies)
{
	size_t n = 0, len = strlen(name);

	for (size_t i = 0; i < ns->n; i++) {
		const char *s = ns->v[i];

		if (!strncmp(s, name, len) && s[len] == '.' && s[len + 1] &&
		    strspn(s + len + 1, "0123456789") == strlen(s + len + 1))
			copies[n++] = s;
	}
	return n;
}

static int logs_run(struct query *q)
{
	struct sysg_cli *c = q->c;
	struct sysg_strset ns = { NULL, 0 };
	struct sysg_logset set;
	const char *one[1] = { c->service }, **copies = NULL;
	size_t ncopies = 0;
	/* without --kind: both outputs of each service (systemg 0.32 shows
	 * stderr, its primary stream; its help says stdout: both covers
	 * either habit, docs/compat.md); --clear clears every file */
	const char *kind = c->kind;
	int rc;

	if (log_services(q, &ns) < 0) {
		sysg_strset_free(&ns);
		sysg_cli_error("cannot list the logs in %s", q->log_dir);
		return SYSG_EXIT_FAILED;
	}
	if (c->service && !sysg_strset_has(&ns, c->service) &&
	    (copies = calloc(ns.n + 1, sizeof(*copies))) != NULL)
		ncopies = log_copies(&ns, c->service, copies);
	if (c->service && !sysg_strset_has(&ns, c->service) && !ncopies &&
	    !recorded_unit(q, c->service)) {
		char msg[2 * 256 + 64];
		const char **names = calloc(ns.n + 1, sizeof(*names));

		for (size_t i = 0; names && i < ns.n; i++)
			names[i] = ns.v[i];
		snprintf(msg, sizeof(msg), "unknown service '%s'", c->service);
		if (names && sysg_suggest(c->service, names))
			snprintf(msg, sizeof(msg), "unknown service '%s' (did you "
				 "mean '%s'?)", c->service,
				 sysg_suggest(c->service, names));
		free(names);
		free(copies);
		sysg_strset_free(&ns);
		sysg_cli_error("%s", msg);
		return SYSG_EXIT_USAGE;
	}
	rc = ncopies ?  /* `-s web`: every copy of it */
	     sysg_logset_build(&set, q->log_dir, copies, ncopies, kind, 0) :
	     c->service ?
	     sysg_logset_build(&set, q->log_dir, one, 1, kind, 0) :
	     sysg_logset_build(&set, q->log_dir, (const char *const *)ns.v,
			       ns.n, kind, !c->project);
	free(copies);
	sysg_strset_free(&ns);
	if (rc < 0) {
		sysg_cli_error("out of memory");
		return SYSG_EXIT_FAILED;
	}
	rc = c->clear ? logs_clear(&set) : logs_print(q, &set);
	sysg_logset_free(&set);
	return rc;
}

/* --reopen: the supervisor reopens its log files (external logrotate). */
static int logs_reopen(struct sysg_cli *c)
{
	char dir[4096];
	json_t *reply = NULL;
	int rc;

	if (sysg_state_dir(c->sys, dir, sizeof(dir)) < 0) {
		sysg_cli_error("cannot find the state directory");
		return SYSG_EXIT_FAILED;
	}
	rc = sysg_ctlc_call(dir, "reopen", NULL, SYSG_CTLC_QUERY_TIMEOUT_MS,
			    &reply, stderr);
	if (rc == -ENOTCONN) {
		sysg_cli_error("no supervisor is running (nothing holds a log "
			       "file open)");
		return SYSG_EXIT_NO_SUPERVISOR;
	}
	if (rc < 0)
		return SYSG_EXIT_FAILED;
	rc = sysg_ctlc_print(reply, stdout, stderr);
	json_decref(reply);
	return rc;
}

int sysg_cmd_logs(struct sysg_cli *c)
{
	struct query q;
	int rc;

	if (c->reopen)
		return logs_reopen(c);
	rc = query_open(&q, c, 0);

	if (rc)
		return rc;
	rc = logs_run(&q);
	query_close(&q);
	return rc;
}

/* ------------------------------------------------------------- purge */

/* --force: stop the supervisor, then whatever the state still records
 * as running (the engine's supervisor-less stop). */
static int purge_stop(struct query *q, int64_t sup_pid)
{
	struct sysg_stop_req req = { .state_dir = q->state_dir, .out = stdout };
	char err[SYSG_ERR_MAX];
	int rc;

	if (sup_pid > 0) {
		printf("stopping the supervisor (pid %lld)\n", (long long)sup_pid);
		rc = sysg_purge_stop_supervisor(sup_pid, 3 * SYSG_STOP_TIMEOUT_MS);
		if (rc < 0) {
			sysg_cli_error("cannot stop the supervisor (pid %lld): %s",
				       (long long)sup_pid, strerror(-rc));
			return SYSG_EXIT_FAILED;
		}
	}
	if (open_state(q) < 0)
		return SYSG_EXIT_FAILED;
	if (!q->st)
		return SYSG_EXIT_OK;
	req.st = q->st;
	req.cfg = q->cfg;
	rc = sysg_stop_offline(&req, err, sizeof(err));
	sysg_state_close(q->st);
	q->st = NULL;
	if (rc < 0 && rc != -ENOENT) {
		sysg_cli_error("purge: %s; nothing deleted", err);
		return SYSG_EXIT_FAILED;
	}
	return SYSG_EXIT_OK;
}

static int purge_delete(const struct query *q)
{
	char err[SYSG_ERR_MAX], run_dir[SYSG_PATH_MAX];
	size_t removed = 0;
	size_t slen = strlen(q->state_dir);
	int rc = 0;

	/* a separate log directory (system mode) goes too */
	if (strncmp(q->log_dir, q->state_dir, slen) ||
	    q->log_dir[slen] != '/')
		rc = sysg_purge_dir(q->log_dir, &removed, err, sizeof(err));
	/* and the runtime directory of system mode (/run/sysg) */
	if (rc == 0 && sysg_run_dir(q->state_dir, run_dir, sizeof(run_dir)) == 0 &&
	    strcmp(run_dir, q->state_dir))
		rc = sysg_purge_dir(run_dir, &removed, err, sizeof(err));
	if (rc == 0)
		rc = sysg_purge_dir(q->state_dir, &removed, err, sizeof(err));
	if (rc < 0) {
		sysg_cli_error("purge: %s", err);
		return SYSG_EXIT_FAILED;
	}
	printf("purged %s (%zu entr%s removed)\n", q->state_dir, removed,
	       removed == 1 ? "y" : "ies");
	return SYSG_EXIT_OK;
}

int sysg_cmd_purge(struct sysg_cli *c)
{
	struct query q;
	int64_t pid = 0;
	int rc = query_open(&q, c, 0);

	if (rc)
		return rc;
	if (!dir_exists(q.state_dir) && !dir_exists(q.log_dir)) {
		printf("nothing to purge: %s does not exist\n", q.state_dir);
		query_close(&q);
		return SYSG_EXIT_OK;
	}
	if (sysg_supervisor_alive(q.state_dir, &pid) && !c->force) {
		sysg_cli_error("a supervisor is running (pid %lld): stop it with "
			       "'sysg stop' first, or use 'sysg purge --force'",
			       (long long)pid);
		query_close(&q);
		return SYSG_EXIT_FAILED;
	}
	rc = c->force ? purge_stop(&q, pid) : SYSG_EXIT_OK;
	if (rc == SYSG_EXIT_OK)
		rc = purge_delete(&q);
	query_close(&q);
	return rc;
}

/* ---------------------------------------------------- deploy history */

struct history {
	json_t *a;              /* --json: the records */
	int n;
};

static json_t *definition_json(const char *text)
{
	json_t *j = text[0] ? json_loads(text, 0, NULL) : NULL;

	if (j && json_object_get(j, "config")) {
		json_object_del(j, "config");
		json_object_set_new(j, "config_kept", json_true());
	}
	return j ? j : json_null();
}

static int history_row(void *arg, const struct sysg_deploy_record *d)
{
	struct history *h = arg;
	char when[40], dur[32];

	sysg_format_iso8601(d->started_at_ms, when, sizeof(when));
	if (h->a) {
		json_array_append_new(h->a, json_pack(
			"{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:s, "
			"s:s, s:s, s:o}",
			"id", d->id, "service", d->service, "strategy",
			d->strategy, "revision", d->revision, "message",
			d->message, "uid", (json_int_t)d->uid, "started_at",
			when, "duration_ms", (json_int_t)d->duration_ms,
			"slot_before", d->slot_before, "slot_after",
			d->slot_after, "outcome", d->outcome, "reason",
			d->reason, "definition", definition_json(d->definition)));
		return 0;
	}
	if (!h->n++)
		printf("%-34s %-12s %-11s %-12s %-24s %8s %-11s %s\n", "ID",
		       "SERVICE", "STRATEGY", "REVISION", "STARTED", "DURATION",
		       "OUTCOME", "SLOTS / REASON / MESSAGE");
	snprintf(dur, sizeof(dur), "%.1fs", (double)d->duration_ms / 1000.0);
	printf("%-34s %-12s %-11s %-12s %-24s %8s %-11s", d->id, d->service,
	       d->strategy, d->revision[0] ? d->revision : "-", when, dur,
	       d->outcome);
	if (d->slot_before[0] || d->slot_after[0])
		printf(" %s -> %s", d->slot_before, d->slot_after);
	if (d->reason[0])
		printf(" %s", d->reason);
	if (d->message[0])
		printf(" \"%s\"", d->message);
	printf("\n");
	return 0;
}

int sysg_cmd_deploy_history(struct sysg_cli *c)
{
	struct history h = { c->json ? json_array() : NULL, 0 };
	struct query q;
	char now[40];
	int rc = query_open(&q, c, 1);

	if (rc)
		return rc;
	if (q.st && (rc = sysg_state_list_deploys(q.st, c->service, history_row,
						   &h)) < 0)
		sysg_cli_error("cannot read the deploy history: %s",
			       strerror(-rc));
	if (rc == 0 && h.a) {
		json_t *doc;
		char *s;

		sysg_format_iso8601(sysg_wall_ms(), now, sizeof(now));
		doc = json_pack("{s:s, s:s, s:o}", "schema_version", "1",
				"captured_at", now, "deploys", h.a);
		h.a = NULL;
		s = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(doc);
	} else if (rc == 0 && !h.n) {
		printf("no deploys%s%s\n", c->service ? " of " : "",
		       c->service ? c->service : "");
	}
	json_decref(h.a);
	query_close(&q);
	return rc < 0 ? SYSG_EXIT_FAILED : SYSG_EXIT_OK;
}
