/* ctlserver.c - the control requests a supervisor serves (see
 * ctlserver.h): validation, dispatch, and the operations that reply once
 * they have finished. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "wire.h"
#include "ctlserver.h"
#include "registry.h"
#include "upgrade.h"

#include <sysg/version.h>
#include "base/base.h"
#include "views/views.h"
#include "proc/proc.h"

enum op_kind { OP_START, OP_STOP, OP_RESTART, OP_STOP_ALL };

#define MAX_DEFERRALS 8         /* finish_answered() */

/* One service an operation waits for. */
struct target {
	char *name;
	int was_up;             /* restart: it had a process when asked */
	int down_seen;          /* ... and that process has gone since */
	int answered;           /* its current state answers the request */
	int crashed;            /* start: its first attempt failed, and the
	                           policy restarts it (backoff was seen) */
	int handover;           /* restart: a new run beside the old one */
};

/* A start/stop/restart being carried out; answered once it is done.
 * It learns that from the engine's change notifications (supervisor.h):
 * each change of one of its services updates that target; a full stop
 * waits for the supervisor to become idle. */
struct op {
	struct op *next;
	enum op_kind kind;
	struct sysg_ctl_conn *conn;     /* NULL: internal, see DONE */
	sysg_ctlsrv_done done;
	void *arg;
	uint64_t since;                 /* changes up to this one predate it */
	struct target *t;               /* the services it waits for */
	size_t n;
	int idle;                       /* OP_STOP_ALL: the engine is idle */
	json_t *lines;                  /* messages to add to the reply */
	json_t *extra;                  /* more reply data (reload) */
	char *leave;                    /* a stop of this project: once it
	                                   is down, it leaves the config */
};

/* A `deploy --follow` waiting for news of a deploy. */
struct follower {
	struct follower *next;
	struct sysg_ctlsrv *c;
	struct sysg_ctl_conn *conn;
	char id[64];
	size_t from;
	struct sysg_timer timer;        /* answer anyway: the CLI has a deadline */
};

#define FOLLOW_ANSWER_MS 10000  /* a follow request waits at most this */

struct sysg_ctlsrv {
	struct sysg_ctlsrv_opts o;
	struct sysg_ctl_server *srv;
	struct op *ops;
	int stopping;                   /* a full stop is under way */
	struct sysg_deploys *deploys;
	struct follower *followers;
	int sub;                        /* change subscription, -1: none */
	uint64_t seen;                  /* the last change delivered to us */
	int deferred;                   /* finish rounds put off for it */
	struct sysg_timer finish;       /* answers the complete operations */
	char *upgrade_to;               /* an accepted upgrade's binary */
	char upgrade_error[SYSG_ERR_MAX];       /* the last one's failure */
	struct sysg_timer follow_timer; /* answers the followers */
};

/* ------------------------------------------------------------ helpers */

static const struct sysg_config *cfg_of(const struct sysg_ctlsrv *c)
{
	return sysg_supervisor_config(c->o.sup);
}

/* A full stop is under way: asked for here, or SIGINT/SIGTERM. */
static int stopping(const struct sysg_ctlsrv *c)
{
	return c->stopping || sysg_supervisor_shutting_down(c->o.sup);
}

/* The status of NAME (a service not configured counts as stopped). */
static enum sysg_unit_status status_of(const struct sysg_ctlsrv *c,
				       const char *name)
{
	enum sysg_unit_status st = SYSG_STATUS_STOPPED;
	int i = sysg_supervisor_index(c->o.sup, name);

	if (i >= 0)
		sysg_supervisor_phase(c->o.sup, (size_t)i, &st);
	return st;
}

static int has_process(const struct sysg_ctlsrv *c, const char *name)
{
	struct sysg_unit_record u;

	return sysg_supervisor_get(c->o.sup, name, &u) == 0 && u.pid > 0;
}

static void log_event(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
		      const char *what, const char *svc)
{
	sysg_log(c->o.log, SYSG_LOG_INFO, "Control: %s%s%s (client pid %d)",
		 what, svc ? " " : "", svc ? svc : "",
		 conn ? sysg_ctl_conn_pid(conn) : (int)getpid());
}

/* --------------------------------------------------------------- ops */

static void op_free(struct op *op)
{
	for (size_t i = 0; i < op->n; i++)
		free(op->t[i].name);
	free(op->t);
	json_decref(op->lines);
	json_decref(op->extra);
	free(op->leave);
	free(op);
}

/* A new operation; note where the engine's changes stand, so that only
 * the changes that follow (those the request causes) count for it. */
static struct op *op_new(struct sysg_ctlsrv *c, enum op_kind kind,
			 struct sysg_ctl_conn *conn)
{
	struct op *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	op->kind = kind;
	op->conn = conn;
	op->since = sysg_supervisor_change_seq(c->o.sup);
	op->lines = json_array();
	if (!op->lines) {
		free(op);
		return NULL;
	}
	return op;
}

/* Add NAME before the request is made (a restart notes whether it has a
 * process to replace). */
static int op_add_name(struct sysg_ctlsrv *c, struct op *op, const char *name)
{
	struct target *nt = realloc(op->t, (op->n + 1) * sizeof(*nt));

	if (!nt)
		return -ENOMEM;
	op->t = nt;
	memset(&nt[op->n], 0, sizeof(nt[op->n]));
	nt[op->n].was_up = has_process(c, name);
	nt[op->n].name = strdup(name);
	if (!nt[op->n].name)
		return -ENOMEM;
	op->n++;
	return 0;
}

/* Every service of the config, or just NAME (all its copies when it has
 * instances: N). */
static int op_add_names(struct sysg_ctlsrv *c, struct op *op, const char *name)
{
	const struct sysg_config *cfg = cfg_of(c);
	int rc = 0;

	if (name && sysg_config_find_service(cfg, name) >= 0)
		return op_add_name(c, op, name);
	for (size_t i = 0; rc == 0 && i < cfg->nservices; i++)
		if (!name || (cfg->services[i].instance_of &&
			      !strcmp(cfg->services[i].instance_of, name)))
			rc = op_add_name(c, op, cfg->services[i].name);
	return rc;
}

/* A start has its answer: up, down, failed, or crashed with an
 * automatic restart pending (backoff is activating, but for whoever
 * asked for a start the answer is "it crashed"). */
static int start_answered(enum sysg_phase ph, enum sysg_unit_status st)
{
	return (ph != SYSG_PHASE_ACTIVATING && ph != SYSG_PHASE_DEACTIVATING) ||
	       st == SYSG_STATUS_BACKOFF;
}

/* A stop has its answer: down for good (an armed cron unit that was
 * started again meanwhile has nothing left to stop either). */
static int stop_answered(enum sysg_phase ph, enum sysg_unit_status st)
{
	return SYSG_PHASE_IS_INACTIVE_OR_FAILED(ph) ||
	       st == SYSG_STATUS_SCHEDULED;
}

/* Target T of OP is now in status ST. */
static void target_update(const struct op *op, struct target *t,
			  enum sysg_unit_status st)
{
	enum sysg_phase ph = sysg_status_phase(st);

	if (!SYSG_PHASE_IS_ACTIVE_OR_ACTIVATING(ph) || st == SYSG_STATUS_BACKOFF)
		t->down_seen = 1;       /* the process it had is gone */
	if (op->kind != OP_STOP && st == SYSG_STATUS_BACKOFF)
		t->crashed = 1;
	switch (op->kind) {
	case OP_STOP:
		t->answered = stop_answered(ph, st);
		break;
	/* a first attempt that failed answers a start for good, even when
	 * the policy restarts it at once (a crash loop never settles) */
	case OP_RESTART:
		t->answered = (t->crashed || start_answered(ph, st)) &&
			      (!t->was_up || t->down_seen);
		break;
	default:
		t->answered = t->crashed || start_answered(ph, st);
	}
}

static int op_answered(const struct op *op)
{
	if (op->kind == OP_STOP_ALL)
		return op->idle;
	for (size_t i = 0; i < op->n; i++)
		if (!op->t[i].answered)
			return 0;
	return 1;
}

static void finish_answered(struct sysg_timer *tm);

/* OP may be complete now: answer it from the loop (never from inside the
 * request that created it, nor from inside the engine's callback). */
static void op_check(struct sysg_ctlsrv *c, const struct op *op)
{
	if (op_answered(op))
		sysg_timer_start(sysg_supervisor_loop(c->o.sup), &c->finish, 0,
				 finish_answered, c);
}

/* The request of OP has been made: take the state it left as the
 * starting point, and queue OP. */
static void op_queue(struct sysg_ctlsrv *c, struct op *op)
{
	struct op **pp = &c->ops;

	for (size_t i = 0; i < op->n; i++)
		target_update(op, &op->t[i], status_of(c, op->t[i].name));
	if (op->kind == OP_STOP_ALL)
		op->idle = sysg_supervisor_idle(c->o.sup);
	while (*pp)
		pp = &(*pp)->next;
	*pp = op;
	op_check(c, op);
}

/* The engine's change notification. */
static void on_change(void *arg, const struct sysg_unit_change *ch)
{
	struct sysg_ctlsrv *c = arg;

	c->seen = ch->seq;
	for (struct op *op = c->ops; op; op = op->next) {
		if (ch->seq <= op->since)
			continue;
		if (ch->kind == SYSG_CHANGE_IDLE) {
			if (op->kind == OP_STOP_ALL)
				op->idle = 1;
		} else {
			for (size_t i = 0; i < op->n; i++)
				if (!strcmp(op->t[i].name, ch->name))
					target_update(op, &op->t[i],
						      ch->new_status);
		}
		op_check(c, op);
	}
}

/* The failed first attempt of a service its policy restarts, for
 * whoever asked for the start (exit 1 like any failed start). */
static void crashed_line(const struct sysg_ctlsrv *c, const char *name,
			 const char *st, const struct sysg_unit_record *u,
			 char *line, size_t len)
{
	char why[64];

	if (u->has_signal)
		snprintf(why, sizeof(why), "killed by signal %d", u->signal);
	else if (u->has_exit_code)
		snprintf(why, sizeof(why), "exited with code %d", u->exit_code);
	else
		snprintf(why, sizeof(why), "its first run exited");
	snprintf(line, len, "service %s failed to start: %s; restarting it per "
		 "its restart_policy (now %s, %d restart(s)) (logs: "
		 "%s/%s_stderr.log)", name, why, st, u->restarts, c->o.log_dir,
		 name);
}

/* One line for the user about target T after OP; failures go to ERRS. */
static void op_outcome(struct sysg_ctlsrv *c, struct op *op,
		       const struct target *t, json_t *errs)
{
	struct sysg_unit_record u;
	struct sysg_notify_info ni;
	const char *name = t->name;
	enum sysg_unit_status status = status_of(c, name);
	const char *st = sysg_status_word(status);
	char line[SYSG_REASON_MAX + 2 * SYSG_NAME_MAX + 4200];

	if (sysg_supervisor_get(c->o.sup, name, &u) < 0)
		memset(&u, 0, sizeof(u));
	/* a first run that exited 0 was a clean one-shot run (section 4:
	 * exited 0 counts as ready), not a failed start */
	if (t->crashed && sysg_status_phase(status) != SYSG_PHASE_FAILED &&
	    (u.has_signal || !u.has_exit_code || u.exit_code != 0)) {
		crashed_line(c, name, st, &u, line, sizeof(line));
		json_array_append_new(errs, json_string(line));
		return;
	}
	if (op->kind != OP_STOP &&
	    sysg_status_phase(status) == SYSG_PHASE_FAILED) {
		snprintf(line, sizeof(line), "service %s failed to start: %s "
			 "(logs: %s/%s_stderr.log)", name,
			 u.reason[0] ? u.reason : st, c->o.log_dir, name);
		json_array_append_new(errs, json_string(line));
		return;
	}
	if (t->handover && sysg_supervisor_notify_info(c->o.sup, name, &ni) ==
	    0 && !strncmp(ni.last_restart, "restart failed", 14)) {
		snprintf(line, sizeof(line), "service %s: %s (logs: %s/%s_stderr"
			 ".log)", name, ni.last_restart, c->o.log_dir, name);
		json_array_append_new(errs, json_string(line));
		return;
	}
	if (op->kind != OP_STOP && status == SYSG_STATUS_STOPPED) {
		snprintf(line, sizeof(line), "service %s was stopped before it "
			 "was up", name);
		json_array_append_new(errs, json_string(line));
		return;
	}
	if (u.pid > 0)
		snprintf(line, sizeof(line), "%s: %s (pid %lld)", name, st,
			 (long long)u.pid);
	else
		snprintf(line, sizeof(line), "%s: %s%s%s", name, st,
			 u.reason[0] ? " - " : "", u.reason);
	json_array_append_new(op->lines, json_string(line));
}

static char *join_lines(const json_t *a)
{
	char *buf = NULL;
	size_t len = 0, i;
	json_t *v;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	json_array_foreach(a, i, v)
		fprintf(f, "%s\n", json_string_value(v));
	fclose(f);
	return buf;
}

static json_t *reply_data(const struct sysg_ctlsrv *c, const struct op *op,
			  json_t *errs)
{
	json_t *d = json_pack("{s:O, s:O, s:s?}", "lines", op->lines,
			      "errors", errs, "config", cfg_of(c)->abs_path);

	if (d && op->extra)
		json_object_update(d, op->extra);
	return d;
}

static void leave_project(struct sysg_ctlsrv *c, struct op *op, json_t *errs);

static void op_finish(struct sysg_ctlsrv *c, struct op *op)
{
	json_t *errs = json_array();
	int code;

	for (size_t i = 0; errs && i < op->n; i++)
		op_outcome(c, op, &op->t[i], errs);
	if (errs && op->leave && !json_array_size(errs))
		leave_project(c, op, errs);
	if (op->kind == OP_STOP_ALL)
		json_array_append_new(op->lines,
				      json_string("all services stopped"));
	code = json_array_size(errs) ? 1 : 0;
	if (op->done) {
		char *text = join_lines(errs);

		op->done(op->arg, code, text ? text : "");
		free(text);
	}
	/* what the operation changed is stored, and the state helper gone,
	 * before the client hears of it */
	sysg_state_release(c->o.st);
	if (op->conn)
		sysg_ctl_reply(op->conn, code, code ?
			       json_string_value(json_array_get(errs, 0)) : NULL,
			       reply_data(c, op, errs));
	json_decref(errs);
	op_free(op);
}

static int follow_reply(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
			const char *id, size_t from, int wait);


/* The follow timer: answer the followers of deploys that have news. */
static void answer_followers(struct sysg_timer *tm)
{
	struct sysg_ctlsrv *c = tm->arg;
	struct follower **fp = &c->followers;

	while (*fp) {
		struct follower *f = *fp;

		if (!follow_reply(c, f->conn, f->id, f->from, 1)) {
			fp = &f->next;
			continue;
		}
		*fp = f->next;
		sysg_timer_stop(sysg_supervisor_loop(c->o.sup), &f->timer);
		free(f);
	}
}

/* A follower waited FOLLOW_ANSWER_MS without news: answer (no lines). */
static void follower_due(struct sysg_timer *t)
{
	struct follower *f = t->arg;
	struct sysg_ctlsrv *c = f->c;
	struct follower **fp = &c->followers;

	while (*fp && *fp != f)
		fp = &(*fp)->next;
	if (*fp)
		*fp = f->next;
	follow_reply(c, f->conn, f->id, f->from, 0);
	free(f);
}

/* A deploy has new lines or ended (called from the deploy host). */
static void deploy_news(void *arg)
{
	struct sysg_ctlsrv *c = arg;

	if (c->followers)
		sysg_timer_start(sysg_supervisor_loop(c->o.sup), &c->follow_timer,
				 0, answer_followers, c);
}

/* The finish timer: answer every operation that is complete. */
static void finish_answered(struct sysg_timer *tm)
{
	struct sysg_ctlsrv *c = tm->arg;
	struct op **pp = &c->ops;

	/* changes made since the last delivery (in this round of the loop)
	 * are told first: answer on the newest state (a change the engine
	 * could not queue, out of memory, never comes: not forever) */
	if (sysg_supervisor_change_seq(c->o.sup) != c->seen &&
	    c->deferred++ < MAX_DEFERRALS) {
		sysg_timer_start(sysg_supervisor_loop(c->o.sup), &c->finish, 0,
				 finish_answered, c);
		return;
	}
	c->deferred = 0;
	while (*pp) {
		struct op *op = *pp;

		if (!op_answered(op)) {
			pp = &op->next;
			continue;
		}
		*pp = op->next;
		op_finish(c, op);
	}
}

int sysg_ctlsrv_poll(const struct sysg_ctlsrv *c)
{
	if (c->upgrade_to)
		return 1;
	/* the resident supervisor's usual answer needs no walk over the
	 * services */
	if (c->ops || !(stopping(c) || c->o.foreground))
		return 0;
	return sysg_supervisor_idle(c->o.sup);
}

/* ------------------------------------------------------- operations */

static int start_op(struct sysg_ctlsrv *c, struct op *op, const char *svc)
{
	size_t first = op->n;
	int rc = op_add_names(c, op, svc);

	if (rc == 0 && !svc)
		return sysg_supervisor_start_all(c->o.sup);
	for (size_t i = first; rc == 0 && i < op->n; i++)
		rc = sysg_supervisor_start_service(c->o.sup, op->t[i].name);
	return rc;
}

void sysg_ctlsrv_recover_prepare(struct sysg_ctlsrv *c)
{
	sysg_deploys_recover_prepare(c->deploys);
}

int sysg_ctlsrv_start(struct sysg_ctlsrv *c, const char *service,
		      sysg_ctlsrv_done done, void *arg)
{
	struct op *op = op_new(c, OP_START, NULL);
	int rc;

	if (!op)
		return -ENOMEM;
	sysg_deploys_recover(c->deploys);
	op->done = done;
	op->arg = arg;
	rc = start_op(c, op, service);
	if (rc < 0) {
		op_free(op);
		return rc;
	}
	op_queue(c, op);
	return 0;
}

void sysg_ctlsrv_stop_all(struct sysg_ctlsrv *c, const char *why)
{
	if (!c->stopping)
		sysg_log(c->o.log, SYSG_LOG_INFO, "Stopping the supervisor (%s)",
			 why);
	c->stopping = 1;
	sysg_supervisor_stop_all(c->o.sup);
}

/* Restart SVC (NULL: every service) and wait for the new processes. */
static int restart_op(struct sysg_ctlsrv *c, struct op *op, const char *svc)
{
	size_t first = op->n;
	int rc = op_add_names(c, op, svc);

	for (size_t i = first; rc == 0 && i < op->n; i++) {
		const char *name = op->t[i].name;

		/* waiting to restart by policy: now, not after the backoff */
		if (status_of(c, name) == SYSG_STATUS_BACKOFF)
			sysg_supervisor_stop_service(c->o.sup, name);
		rc = sysg_supervisor_restart_service(c->o.sup, name);
		if (rc > 0) {   /* a new run beside the old: never down */
			op->t[i].was_up = 0;
			op->t[i].handover = 1;
			rc = 0;
		}
	}
	return rc;
}

/* ------------------------------------------------------------ reload */

static int op_has(const struct op *op, const char *name)
{
	for (size_t i = 0; i < op->n; i++)
		if (!strcmp(op->t[i].name, name))
			return 1;
	return 0;
}

/* Load PATH, a file a client named. Its diagnostics quote its text, and
 * the file may be one the client could not read itself (/etc/shadow):
 * the reply and supervisor.log get where the first error is, never what
 * it says (`sysg validate` shows that, with the reader's own rights). */
static int load_new(const char *path, unsigned flags,
		    struct sysg_config **out, char *err, size_t errlen)
{
	struct sysg_diag d;
	const char *first, *end;
	int rc;

	sysg_diag_init(&d);
	rc = sysg_config_load_flags(path, flags, out, &d);
	if (rc < 0) {
		first = d.n ? d.lines[0] : NULL;
		end = first ? strstr(first, ": error: ") : NULL;
		if (end && (size_t)(end - first) == strlen(path))
			/* no position: a message of sysg's own (unreadable) */
			sysg_errf(err, errlen, "%s", first);
		else if (end && !strncmp(first, path, strlen(path)))
			sysg_errf(err, errlen, "%s: not a valid configuration "
				  "(%zu error(s), the first at %.*s); see them "
				  "with 'sysg validate --config %s'", path,
				  sysg_diag_count(&d), (int)(end - first),
				  first, path);
		else
			sysg_errf(err, errlen, "%s: not a valid configuration; "
				  "see why with 'sysg validate --config %s'",
				  path, path);
		rc = -EINVAL;
	}
	sysg_diag_free(&d);
	return rc;
}

/* What a reload changes, by service name. */
struct diff {
	json_t *added, *removed, *changed, *unchanged;
};

static void diff_free(struct diff *d)
{
	json_decref(d->added);
	json_decref(d->removed);
	json_decref(d->changed);
	json_decref(d->unchanged);
}

static int diff_configs(const struct sysg_config *old,
			const struct sysg_config *nc, struct diff *d)
{
	d->added = json_array();
	d->removed = json_array();
	d->changed = json_array();
	d->unchanged = json_array();
	if (!d->added || !d->removed || !d->changed || !d->unchanged)
		return -ENOMEM;
	for (size_t i = 0; i < nc->nservices; i++) {
		const struct sysg_service *ns = &nc->services[i];
		int k = sysg_config_find_service(old, ns->name);
		json_t *to = k < 0 ? d->added :
			     sysg_config_same_context(old, nc) &&
			     sysg_service_equal(&old->services[k], ns) ?
			     d->unchanged : d->changed;

		if (json_array_append_new(to, json_string(ns->name)) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < old->nservices; i++)
		if (sysg_config_find_service(nc, old->services[i].name) < 0 &&
		    json_array_append_new(d->removed,
					  json_string(old->services[i].name)) < 0)
			return -ENOMEM;
	return 0;
}

static void diff_line(json_t *lines, const char *label, const json_t *names)
{
	char buf[SYSG_IO_CHUNK];
	size_t used = 0, i;
	json_t *v;

	if (!json_array_size(names))
		return;
	used = (size_t)snprintf(buf, sizeof(buf), "%s:", label);
	json_array_foreach(names, i, v)
		if (used < sizeof(buf))
			used += (size_t)snprintf(buf + used, sizeof(buf) - used,
						 " %s", json_string_value(v));
	json_array_append_new(lines, json_string(buf));
}

/* OP waits for the services the reload starts: the added ones and the
 * changed ones that were up (their old process is noted). */
static int diff_wait(struct sysg_ctlsrv *c, struct op *op,
		     const struct diff *d)
{
	size_t i;
	json_t *v;
	int rc = 0;

	json_array_foreach(d->changed, i, v)
		if (rc == 0 && has_process(c, json_string_value(v)))
			rc = op_add_name(c, op, json_string_value(v));
	json_array_foreach(d->added, i, v)
		if (rc == 0)
			rc = op_add_name(c, op, json_string_value(v));
	return rc;
}

/* Save the files that joined (registry.h); a failure is only logged. */
static void save_registry(struct sysg_ctlsrv *c)
{
	int rc = sysg_registry_save(c->o.state_dir, cfg_of(c));

	if (rc < 0)
		sysg_log(c->o.log, SYSG_LOG_WARN, "cannot write %s/%s: %s",
			 c->o.state_dir, SYSG_FILE_PROJECTS, strerror(-rc));
}

/* Switch the supervisor to NC (taken on success only); OP gets the
 * summary and the services to wait for. 0 or a negative code with ERR
 * (nothing changed). */
static int reload_to(struct sysg_ctlsrv *c, struct sysg_config *nc,
		     struct op *op, char *err, size_t errlen)
{
	struct diff d = { 0 };
	int rc = diff_configs(sysg_supervisor_config(c->o.sup), nc, &d);

	if (rc == 0)
		rc = diff_wait(c, op, &d);
	if (rc == 0)
		rc = sysg_supervisor_reload(c->o.sup, nc, err, errlen);
	else if (rc == -ENOMEM)
		sysg_errf(err, errlen, "out of memory");
	if (rc < 0) {
		diff_free(&d);
		return rc;
	}
	if (c->o.sampler)       /* its metrics: section may differ */
		c->o.sampler(c->o.sampler_arg, NULL);
	diff_line(op->lines, "added", d.added);
	diff_line(op->lines, "removed", d.removed);
	diff_line(op->lines, "restarted", d.changed);
	diff_line(op->lines, "unchanged", d.unchanged);
	for (size_t i = 0; c->o.samples && i < json_array_size(d.removed); i++)
		sysg_samples_forget(c->o.samples,
				    json_string_value(json_array_get(d.removed, i)));
	json_decref(op->extra);
	op->extra = json_pack("{s:O, s:O, s:O, s:O}", "added", d.added,
			      "removed", d.removed, "changed", d.changed,
			      "unchanged", d.unchanged);
	diff_free(&d);
	return 0;
}

/* Load PATH and switch the supervisor to it; OP gets the summary and
 * the services to wait for. 0, -EINVAL (bad config, or SVC (may be NULL)
 * not in it: ERR has the validation lines; nothing changed) or another
 * negative code. */
static int reload_file(struct sysg_ctlsrv *c, const char *path,
		       const char *svc, struct op *op, char *err, size_t errlen)
{
	struct sysg_config *nc = NULL;
	int rc = load_new(path, 0, &nc, err, errlen);

	if (rc == 0 && sysg_config_keep_units(nc, cfg_of(c)) < 0)
		rc = -ENOMEM;   /* ad-hoc units stay across reloads */
	if (rc == 0)            /* and so do the files that joined */
		rc = sysg_config_keep_joined(nc, cfg_of(c), err, errlen);
	if (rc == 0 && svc && sysg_config_find_service(nc, svc) < 0) {
		sysg_config_unknown_service(nc, svc, err, errlen);
		snprintf(err + strlen(err), errlen - strlen(err), " in %s", path);
		rc = -EINVAL;
	}
	if (rc == 0)
		json_array_append_new(op->lines, json_pack("s+", "reloaded ",
							   path));
	if (rc == 0)
		rc = reload_to(c, nc, op, err, errlen);
	if (rc < 0) {
		sysg_config_free(nc);
		sysg_log(c->o.log, SYSG_LOG_ERROR, "Reload of %s failed: %s",
			 path, err);
		return rc == -ENOMEM ? rc : -EINVAL;
	}
	sysg_write_file_atomic(c->o.state_dir, SYSG_FILE_CONFIG_HINT, path);
	save_registry(c);       /* the joined files, as they are now */
	return 0;
}

/* ---------------------------------------------------------- projects */

/* OP (a stop of every service of project OP->leave) is done: the project
 * leaves the config (its services, all down, are removed). */
static void leave_project(struct sysg_ctlsrv *c, struct op *op, json_t *errs)
{
	struct sysg_config *nc = NULL;
	char err[SYSG_MSG_MAX];
	int rc = sysg_config_leave(cfg_of(c), op->leave, &nc, err,
				   sizeof(err));

	if (rc == 0 && (rc = reload_to(c, nc, op, err, sizeof(err))) < 0)
		sysg_config_free(nc);
	if (rc < 0) {
		json_array_append_new(errs, json_sprintf("project %s: %s",
							 op->leave, err));
		return;
	}
	save_registry(c);
	sysg_log(c->o.log, SYSG_LOG_INFO, "Project %s stopped and "
		 "unregistered", op->leave);
	json_array_append_new(op->lines, json_sprintf("project %s stopped "
						      "and unregistered",
						      op->leave));
}

/* The services of project ID into OP, or -ENOENT. */
static int op_add_project(struct sysg_ctlsrv *c, struct op *op, const char *id)
{
	const struct sysg_config *cfg = cfg_of(c);
	const struct sysg_project *p = sysg_config_project(cfg, id);
	int rc = 0;

	if (!p)
		return -ENOENT;
	for (size_t i = 0; rc == 0 && i < cfg->nservices; i++)
		if (!cfg->services[i].unit &&
		    sysg_project_has(p, cfg->services[i].name))
			rc = op_add_name(c, op, cfg->services[i].name);
	return rc;
}

/* "unknown project 'X' (projects: a, b)" into ERR. */
static void unknown_project(const struct sysg_ctlsrv *c, const char *id,
			    char *err, size_t errlen)
{
	const struct sysg_config *cfg = cfg_of(c);
	size_t used;

	used = (size_t)snprintf(err, errlen, "unknown project '%.100s' "
				"(projects:", id);
	for (size_t i = 0; used < errlen && i < cfg->nprojects; i++)
		used += (size_t)snprintf(err + used, errlen - used, "%s %s",
					 i ? "," : "", cfg->projects[i].id);
	if (used < errlen)
		snprintf(err + used, errlen - used, "%s)",
			 cfg->nprojects ? "" : " none");
}

/* start {"config": PATH} of a file other than the supervisor's: it joins
 * (or, joined before, is read again), and its services start. */
static void start_join(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
		       const char *path)
{
	struct sysg_config *j = NULL, *nc = NULL;
	char err[SYSG_MSG_MAX];
	struct op *op = NULL;
	int rc = load_new(path, SYSG_CONFIG_JOINED, &j, err, sizeof(err));

	if (rc == 0 && j->nprojects == 0) {
		sysg_errf(err, sizeof(err), "%s has no services to register",
			  path);
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = sysg_config_join(cfg_of(c), j, &nc, err, sizeof(err));
	if (rc == 0 && !(op = op_new(c, OP_START, conn)))
		rc = -ENOMEM;
	if (rc == 0 && (rc = reload_to(c, nc, op, err, sizeof(err))) == 0)
		nc = NULL;      /* the supervisor's */
	/* what the reload did not start (joined before) starts now */
	for (size_t i = 0; rc == 0 && i < j->nservices; i++) {
		const char *name = j->services[i].name;

		if (op_has(op, name))
			continue;
		rc = op_add_name(c, op, name);
		if (rc == 0)
			rc = sysg_supervisor_start_service(c->o.sup, name);
	}
	if (rc == 0) {
		save_registry(c);
		for (size_t i = 0; i < j->nprojects; i++) {
			json_array_append_new(op->lines, json_sprintf(
				"project %s registered (%s)", j->projects[i].id,
				path));
			sysg_log(c->o.log, SYSG_LOG_INFO, "Project %s "
				 "registered from %s", j->projects[i].id, path);
		}
		log_event(c, conn, "start (project)", path);
		op_queue(c, op);
	} else {
		if (op)
			op_free(op);
		sysg_ctl_reply(conn, rc == -ENOMEM ? 1 : 2,
			       rc == -ENOMEM ? "out of memory" : err, NULL);
	}
	sysg_config_free(nc);
	sysg_config_free(j);
}

/* ------------------------------------------------------- validation */

enum arg_type { ARG_STRING, ARG_BOOL, ARG_INT, ARG_PID, ARG_ARGV };

struct argspec {
	const char *key;
	enum arg_type type;
	size_t maxlen;                  /* strings */
	int required;
};

/* A command line: 1..256 non-empty strings without NUL bytes. */
static int argv_ok(const json_t *v, const struct argspec *a, char *err,
		   size_t errlen)
{
	size_t i, n = json_array_size(v);
	json_t *e;

	if (!json_is_array(v) || n == 0 || n > 256)
		goto bad;
	json_array_foreach(v, i, e)
		if (!json_is_string(e) || json_string_length(e) > a->maxlen ||
		    strlen(json_string_value(e)) != json_string_length(e))
			goto bad;
	return 1;
bad:
	sysg_errf(err, errlen, "argument '%s' must be a list of 1 to 256 "
		  "strings", a->key);
	return 0;
}

static int arg_ok(const json_t *v, const struct argspec *a, char *err,
		  size_t errlen)
{
	size_t len;

	switch (a->type) {
	case ARG_STRING:
		len = json_string_length(v);
		if (json_is_string(v) && len && len <= a->maxlen &&
		    strlen(json_string_value(v)) == len)
			return 1;
		sysg_errf(err, errlen, "argument '%s' must be a string of 1 to %zu "
			  "bytes", a->key, a->maxlen);
		return 0;
	case ARG_BOOL:
		if (json_is_boolean(v))
			return 1;
		sysg_errf(err, errlen, "argument '%s' must be a boolean", a->key);
		return 0;
	case ARG_INT:
		if (json_is_integer(v) && json_integer_value(v) >= 0 &&
		    json_integer_value(v) <= 100000)
			return 1;
		sysg_errf(err, errlen, "argument '%s' must be an integer in "
			  "0..100000", a->key);
		return 0;
	case ARG_PID:
		if (json_is_integer(v) && json_integer_value(v) > 0 &&
		    json_integer_value(v) <= INT32_MAX)
			return 1;
		sysg_errf(err, errlen, "argument '%s' must be a process id", a->key);
		return 0;
	case ARG_ARGV:
		return argv_ok(v, a, err, errlen);
	}
	return 0;
}

/* Every key of ARGS is in SPEC with the right type; required ones are
 * there. 0 or -EINVAL with ERR. */
static int validate(const json_t *args, const struct argspec *spec,
		    char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)args, key, v) {
		const struct argspec *a = spec;

		while (a->key && strcmp(a->key, key))
			a++;
		if (!a->key) {
			sysg_errf(err, errlen, "unknown argument '%.64s'", key);
			return -EINVAL;
		}
		if (!arg_ok(v, a, err, errlen))
			return -EINVAL;
	}
	for (const struct argspec *a = spec; a->key; a++)
		if (a->required && !json_object_get(args, a->key)) {
			sysg_errf(err, errlen, "argument '%s' is required", a->key);
			return -EINVAL;
		}
	return 0;
}

static const char *sarg(const json_t *args, const char *key)
{
	return json_string_value(json_object_get(args, key));
}

static int barg(const json_t *args, const char *key)
{
	return json_is_true(json_object_get(args, key));
}

/* SVC (may be NULL) names a service of the config; else replies. */
static int known_service(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
			 const char *svc)
{
	char err[2 * SYSG_NAME_MAX + 64];

	if (!svc || sysg_config_knows(cfg_of(c), svc))
		return 1;
	sysg_config_unknown_service(cfg_of(c), svc, err, sizeof(err));
	sysg_ctl_reply(conn, 2, err, NULL);
	return 0;
}

static int refuse_if_stopping(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn)
{
	if (!stopping(c))
		return 0;
	sysg_ctl_reply(conn, 1, "the supervisor is shutting down", NULL);
	return 1;
}

/* SVC (NULL: any service) is being deployed: reply so. */
static int deploy_refused(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
			  const char *svc)
{
	char msg[512];

	if (!sysg_deploy_busy(c->deploys, svc, msg, sizeof(msg)))
		return 0;
	sysg_ctl_reply(conn, 1, msg, NULL);
	return 1;
}

/* ---------------------------------------------------------- handlers */

static void reply_oom(struct sysg_ctl_conn *conn)
{
	sysg_ctl_reply(conn, 1, "out of memory", NULL);
}

static void h_ping(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
		   json_t *args)
{
	(void)args;
	char exe[SYSG_PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n > 0 ? n : 0] = '\0';
	sysg_ctl_reply(conn, 0, NULL, json_pack(
		"{s:i, s:I, s:s?, s:b, s:s, s:s, s:i, s:s?, s:o}", "pid",
		(int)getpid(), "services", (json_int_t)cfg_of(c)->nservices,
		"config", cfg_of(c)->abs_path, "stopping", stopping(c),
		"version", SYSG_VERSION_STRING, "binary", exe,
		"generation", c->o.generation, "upgrade_error",
		c->upgrade_error[0] ? c->upgrade_error : NULL,
		"projects", sysg_projects_json(cfg_of(c))));
}

/* Why an upgrade must wait now (a static string or BUF), or NULL. */
static const char *upgrade_busy(const struct sysg_ctlsrv *c, char *buf,
				size_t len)
{
	if (c->o.foreground)
		return "a foreground supervisor is not upgraded in place "
		       "(run it with --daemonize)";
	if (stopping(c))
		return "the supervisor is shutting down";
	if (c->upgrade_to)
		return "an upgrade is already under way";
	if (c->ops)
		return "a start, stop, restart or deploy is in progress";
	if (sysg_deploy_busy(c->deploys, NULL, buf, len))
		return buf;     /* "a deploy of S is in progress..." */
	return NULL;            /* automatic restarts carry on afterwards */
}

static void h_upgrade(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
		      json_t *args)
{
	char err[SYSG_ERR_MAX], msg[SYSG_ERR_MAX + 32], why[512];
	const char *bin = sarg(args, "binary");
	const char *busy = upgrade_busy(c, why, sizeof(why));

	if (busy) {
		snprintf(msg, sizeof(msg), "upgrade refused: %s", busy);
		sysg_log(c->o.log, SYSG_LOG_WARN, "%s", msg);
		sysg_ctl_reply(conn, 1, msg, NULL);
		return;
	}
	if (bin[0] != '/') {
		sysg_ctl_reply(conn, 2, "binary: an absolute path is required",
			       NULL);
		return;
	}
	if (sysg_upgrade_preflight(bin, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "upgrade refused: %s", err);
		sysg_log(c->o.log, SYSG_LOG_WARN, "%s", msg);
		sysg_ctl_reply(conn, 1, msg, NULL);
		return;
	}
	c->upgrade_to = strdup(bin);
	if (!c->upgrade_to) {
		reply_oom(conn);
		return;
	}
	c->upgrade_error[0] = '\0';
	log_event(c, conn, "upgrade", bin);
	sysg_ctl_reply(conn, 0, NULL, json_pack("{s:i, s:i}", "pid",
		(int)getpid(), "generation", c->o.generation));
}

const char *sysg_ctlsrv_upgrade_pending(const struct sysg_ctlsrv *c)
{
	return c ? c->upgrade_to : NULL;
}

void sysg_ctlsrv_upgrade_failed(struct sysg_ctlsrv *c, const char *why)
{
	snprintf(c->upgrade_error, sizeof(c->upgrade_error), "%s", why);
	free(c->upgrade_to);
	c->upgrade_to = NULL;
}

int sysg_ctlsrv_listen_fd(const struct sysg_ctlsrv *c)
{
	return c ? sysg_ctl_server_fd(c->srv) : -1;
}

/* `sysg logs --reopen` (as SIGUSR1): reopen the log files after an
 * external logrotate; answers once done, so a postrotate script can
 * compress what was rotated right after. */
static void h_reopen(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
		     json_t *args)
{
	char err[512];

	(void)args;
	if (sysg_supervisor_reopen_logs(c->o.sup, err, sizeof(err)) < 0)
		sysg_ctl_reply(conn, 1, err, NULL);
	else
		sysg_ctl_reply(conn, 0, NULL, json_pack("{s:[s]}", "lines",
				"log files reopened"));
}

/* 1 when A (may be NULL) and B name one file (the same path, or a link
 * to it). */
static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (!a)
		return 0;
	if (!strcmp(a, b))
		return 1;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void h_start(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
		    json_t *args)
{
	const char *svc = sarg(args, "service"), *path = sarg(args, "config");
	const char *own = cfg_of(c)->abs_path;
	struct op *op;

	if (path && path[0] != '/') {
		sysg_ctl_reply(conn, 2, "argument 'config' must be an absolute "
			       "path", NULL);
		return;
	}
	if (refuse_if_stopping(c, conn))
		return;
	/* another file than the supervisor's: its projects join */
	if (path && !same_file(own, path)) {
		start_join(c, conn, path);
		return;
	}
	if (!known_service(c, conn, svc))
		return;
	op = op_new(c, OP_START, conn);
	if (!op || start_op(c, op, svc) < 0) {
		if (op)
			op_free(op);
		reply_oom(conn);
		return;
	}
	log_event(c, conn, "start", svc);
	op_queue(c, op);
}

/* stop {"project": ID}: stop its services, then it leaves. */
static void stop_project(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
			 const char *id)
{
	char err[SYSG_MSG_MAX];
	struct op *op;
	int rc;

	if (!sysg_config_project(cfg_of(c), id)) {
		unknown_project(c, id, err, sizeof(err));
		sysg_ctl_reply(conn, 2, err, NULL);
		return;
	}
	op = op_new(c, OP_STOP, conn);
	rc = op ? op_add_project(c, op, id) : -ENOMEM;
	if (rc == 0 && !(op->leave = strdup(sysg_config_project(cfg_of(c),
								 id)->id)))
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < op->n; i++)
		if (deploy_refused(c, conn, op->t[i].name)) {
			op_free(op);
			return;
		}
	if (rc < 0) {
		if (op)
			op_free(op);
		reply_oom(conn);
		return;
	}
	log_event(c, conn, "stop (project)", id);
	for (size_t i = 0; i < op->n; i++)
		sysg_supervisor_stop_service(c->o.sup, op->t[i].name);
	op_queue(c, op);
}

static void h_stop(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
		   json_t *args)
{
	const char *svc = sarg(args, "service");
	struct op *op;

	if (sarg(args, "project") && !svc) {
		stop_project(c, conn, sarg(args, "project"));
		return;
	}
	if (!known_service(c, conn, svc))
		return;
	if (deploy_refused(c, conn, svc))
		return;
	op = op_new(c, svc ? OP_STOP : OP_STOP_ALL, conn);
	if (!op || (svc && op_add_names(c, op, svc) < 0)) {
		if (op)
			op_free(op);
		reply_oom(conn);
		return;
	}
	log_event(c, conn, "stop", svc);
	for (size_t i = 0; svc && i < op->n; i++)
		sysg_supervisor_stop_service(c->o.sup, op->t[i].name);
	if (!svc)
		sysg_ctlsrv_stop_all(c, "stop requested");
	op_queue(c, op);
}

/* restart --config: reload, then wait for the changed services. */
/* Restart every configured service that OP does not hold yet. */
static int restart_rest(struct sysg_ctlsrv *c, struct op *op)
{
	const struct sysg_config *cfg = cfg_of(c);

	for (size_t i = 0; i < cfg->nservices; i++) {
		const struct sysg_service *sv = &cfg->services[i];

		if (!sysg_service_is_cron(sv) && !op_has(op, sv->name) &&
		    restart_op(c, op, sv->name) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void restart_reload(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
			   struct op *op, const char *path, const char *svc)
{
	char err[SYSG_MSG_MAX];
	int rc = reload_file(c, path, svc, op, err, sizeof(err));

	if (rc < 0) {
		op_free(op);
		sysg_ctl_reply(conn, rc == -EINVAL ? 2 : 1, err, NULL);
		return;
	}
	/* a service the reload did not restart is restarted as asked:
	 * `restart --config F` restarts them all (SPEC 3), cron units are
	 * re-registered by the reload itself */
	if (svc ? !op_has(op, svc) && restart_op(c, op, svc) < 0 :
	    restart_rest(c, op) < 0) {
		op_free(op);
		reply_oom(conn);
		return;
	}
	op_queue(c, op);
}

static void h_restart(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
		      json_t *args)
{
	const char *svc = sarg(args, "service"), *path = sarg(args, "config");
	struct op *op;

	if (refuse_if_stopping(c, conn))
		return;
	if (path && path[0] != '/') {
		sysg_ctl_reply(conn, 2, "argument 'config' must be an absolute path",
			       NULL);
		return;
	}
	if (!path && !known_service(c, conn, svc))
		return;
	if (deploy_refused(c, conn, svc))
		return;
	op = op_new(c, OP_RESTART, conn);
	if (!op) {
		reply_oom(conn);
		return;
	}
	log_event(c, conn, path ? "restart (reload)" : "restart", svc);
	if (path) {
		restart_reload(c, conn, op, path, svc);
		return;
	}
	if (restart_op(c, op, svc) < 0) {
		op_free(op);
		reply_oom(conn);
		return;
	}
	op_queue(c, op);
}

static struct sysg_live live_of(const struct sysg_ctlsrv *c)
{
	struct sysg_live l = { c->o.sup, cfg_of(c), c->o.st, c->o.samples,
			       c->o.state_dir };

	return l;
}

static void h_status(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
		     json_t *args)
{
	struct sysg_status_opts o = { .service = sarg(args, "service"),
				      .all = barg(args, "all") };
	struct sysg_live l = live_of(c);
	struct sysg_status s;
	char err[SYSG_ERR_MAX], *text;
	json_t *doc;
	int rc = sysg_live_status(&l, &o, &s, err, sizeof(err));

	if (rc < 0) {
		sysg_ctl_reply(conn, rc == -ENOENT ? 2 : 1, err, NULL);
		return;
	}
	if (barg(args, "json_text")) {  /* what `status --json` prints */
		text = sysg_status_to_json_text(&s);
		sysg_status_free(&s);
		if (!text)
			reply_oom(conn);
		else
			sysg_ctl_reply_att(conn, 0, NULL, NULL, text,
					   strlen(text));
		free(text);
		return;
	}
	doc = sysg_status_to_json(&s);
	sysg_status_free(&s);
	if (doc) {              /* the revision each service runs */
		json_t *u;
		size_t i;

		json_array_foreach(json_object_get(doc, "units"), i, u) {
			const char *n = json_string_value(json_object_get(u, "name"));
			const char *rev = n ?
				sysg_deploy_running_revision(c->deploys, n) : "";

			if (rev[0])
				json_object_set_new(u, "revision", json_string(rev));
		}
	}
	if (!doc)
		reply_oom(conn);
	else
		sysg_ctl_reply(conn, 0, NULL, doc);
}

/* The revision NAME runs, and the config file's when it differs, into
 * an inspect DOC (and its "text"). */
static void add_revisions(struct sysg_ctlsrv *c, const char *name, json_t *doc)
{
	const char *path = cfg_of(c)->abs_path, *text;
	struct sysg_config *cfg = NULL;
	char running[16], filerev[16] = "", *nt = NULL;
	struct sysg_diag d;
	int k;

	snprintf(running, sizeof(running), "%s",
		 sysg_deploy_running_revision(c->deploys, name));
	if (!running[0])
		return;
	sysg_diag_init(&d);
	if (path && sysg_config_load(path, &cfg, &d) == 0 &&
	    (k = sysg_config_find_service(cfg, name)) >= 0)
		sysg_deploy_revision(&cfg->services[k], filerev);
	sysg_diag_free(&d);
	sysg_config_free(cfg);
	json_object_set_new(doc, "revision", json_string(running));
	json_object_set_new(doc, "config_revision", filerev[0] ?
			    json_string(filerev) : json_null());
	text = json_string_value(json_object_get(doc, "text"));
	if (!text)
		return;
	if (filerev[0] && strcmp(filerev, running))
		k = asprintf(&nt, "%s\nrevision: %s (the config file has %s: "
			     "sysg deploy -s %s)\n", text, running, filerev, name);
	else
		k = asprintf(&nt, "%s\nrevision: %s%s\n", text, running,
			     filerev[0] ? " (as in the config file)" : "");
	if (k > 0)
		json_object_set_new(doc, "text", json_string(nt));
	free(nt);
}

/* The human view, rendered here with the client's terminal settings. */
static json_t *inspect_text(const struct sysg_inspect *in, const json_t *args)
{
	struct sysg_render_opts ro = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_t *s;

	if (!f)
		return NULL;
	ro.color = barg(args, "color");
	ro.full_cmd = barg(args, "full_cmd");
	ro.width = (int)json_integer_value(json_object_get(args, "width"));
	if (sysg_proc_mem_total(&ro.mem_total) < 0)
		ro.mem_total = 0;
	sysg_inspect_render(in, &ro, f);
	fclose(f);
	s = buf ? json_stringn(buf, len) : NULL;
	free(buf);
	return s;
}

static void h_inspect(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
		      json_t *args)
{
	struct sysg_live l = live_of(c);
	struct sysg_inspect in;
	char err[SYSG_ERR_MAX];
	json_t *doc;
	int rc;

	if (c->o.sampler)
		c->o.sampler(c->o.sampler_arg, sarg(args, "service"));
	rc = sysg_live_inspect(&l, sarg(args, "service"), &in, err,
			       sizeof(err));
	if (rc < 0) {
		sysg_ctl_reply(conn, rc == -ENOENT ? 2 : 1, err, NULL);
		return;
	}
	doc = sysg_inspect_to_json(&in);
	if (doc && barg(args, "text") &&
	    json_object_set_new(doc, "text", inspect_text(&in, args)) < 0) {
		json_decref(doc);
		doc = NULL;
	}
	sysg_inspect_free(&in);
	if (doc)
		add_revisions(c, sarg(args, "service"), doc);
	if (!doc)
		reply_oom(conn);
	else
		sysg_ctl_reply(conn, 0, NULL, doc);
}

/* Child mode: start a managed child of the service owning parent_pid. */
static void h_spawn(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
		    json_t *args)
{
	json_t *jargv = json_object_get(args, "argv");
	size_t n = json_array_size(jargv);
	char **argv = calloc(n + 1, sizeof(*argv));
	char err[SYSG_ERR_MAX];
	pid_t pid = 0;
	int rc;

	if (!argv) {
		reply_oom(conn);
		return;
	}
	for (size_t i = 0; i < n; i++)
		argv[i] = (char *)json_string_value(json_array_get(jargv, i));
	rc = sysg_supervisor_spawn_child(
		c->o.sup, (pid_t)json_integer_value(json_object_get(args, "parent_pid")),
		sarg(args, "name"),
		json_integer_value(json_object_get(args, "ttl_s")) * 1000,
		argv, &pid, err, sizeof(err));
	free(argv);
	if (rc < 0)
		sysg_ctl_reply(conn, rc == -EINVAL || rc == -ESRCH ? 2 : 1, err,
			       NULL);
	else
		sysg_ctl_reply(conn, 0, NULL, json_pack("{s:i}", "pid", (int)pid));
}

/* Unit mode with a supervisor running: add the unit to its config (a
 * reload that changes nothing else) and answer once it has started. */
static void h_unit(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
		   json_t *args)
{
	json_t *jargv = json_object_get(args, "argv");
	size_t n = json_array_size(jargv);
	char **argv = calloc(n + 1, sizeof(*argv)), *cmd = NULL;
	struct sysg_config *u = NULL, *nc = NULL;
	char err[SYSG_MSG_MAX];
	struct sysg_diag d;
	struct op *op = NULL;
	int rc = argv ? 0 : -ENOMEM;

	for (size_t i = 0; argv && i < n; i++)
		argv[i] = (char *)json_string_value(json_array_get(jargv, i));
	if (rc == 0 && !(cmd = sysg_cmd_join(argv)))
		rc = -ENOMEM;
	free(argv);
	sysg_diag_init(&d);
	if (rc == 0 && (rc = sysg_config_unit(sarg(args, "name"), cmd,
					      sarg(args, "cwd"), &u, &d)) < 0) {
		char *all = sysg_diag_join(&d);

		sysg_errf(err, sizeof(err), "%s", all ? all : "out of memory");
		free(all);
	}
	sysg_diag_free(&d);
	free(cmd);
	if (rc == 0)
		rc = sysg_config_add_unit(cfg_of(c), u, &nc, err, sizeof(err));
	if (rc == 0 && !(op = op_new(c, OP_START, conn)))
		rc = -ENOMEM;
	if (rc == 0 && (rc = op_add_name(c, op, u->services[0].name)) == 0 &&
	    (rc = sysg_supervisor_reload(c->o.sup, nc, err, sizeof(err))) == 0)
		nc = NULL;      /* the supervisor's */
	if (rc == 0) {
		log_event(c, conn, "start (unit)", u->services[0].name);
		op_queue(c, op);
	} else {
		if (op)
			op_free(op);
		sysg_ctl_reply(conn, rc == -EEXIST || rc == -EINVAL ? 2 : 1,
			       rc == -ENOMEM ? "out of memory" : err, NULL);
	}
	sysg_config_free(nc);
	sysg_config_free(u);
}

/* ------------------------------------------------------------ deploys */

/* A restart of SVC goes through its strategy when it runs (a service
 * that is down, or a cron unit, is simply started again; a service that
 * holds its sockets (`listen:`) is replaced without a gap by the engine,
 * handover.c, and so are the copies of one with instances: N). */
static int restart_deploys(struct sysg_ctlsrv *c, const char *svc)
{
	const struct sysg_config *cfg = cfg_of(c);
	int k = sysg_config_find_service(cfg, svc);
	enum sysg_unit_status st = status_of(c, svc);

	return k >= 0 && !sysg_service_is_cron(&cfg->services[k]) &&
	       cfg->services[k].nlisten == 0 &&
	       (st == SYSG_STATUS_RUNNING || st == SYSG_STATUS_STARTING);
}

/* The file the current definition of SVC is read from for a deploy:
 * the supervisor's, or the file that joined it with SVC (read as it was
 * read when it joined: *FLAGS gets SYSG_CONFIG_JOINED). */
static const char *deploy_file(const struct sysg_ctlsrv *c, const char *svc,
			       unsigned *flags)
{
	const struct sysg_config *cfg = cfg_of(c);

	for (size_t i = 0; svc && i < cfg->njoined; i++)
		if (sysg_config_find_service(cfg->joined[i], svc) >= 0) {
			*flags |= SYSG_CONFIG_JOINED;
			return cfg->joined[i]->abs_path;
		}
	return cfg->abs_path;
}

static void h_deploy(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
		     json_t *args)
{
	unsigned flags = barg(args, "strict") ? SYSG_CONFIG_STRICT : 0;
	const char *svc = sarg(args, "service");
	const char *path = deploy_file(c, svc, &flags);
	struct sysg_deploy_req r = {
		.service = svc, .strategy = sarg(args, "strategy"),
		.message = sarg(args, "message"),
		.dry_run = barg(args, "dry_run"),
		.uid = (uid_t)sysg_ctl_conn_uid(conn),
	};
	char id[64], rid[64], err[8192] = "";
	char *text = NULL;
	int rc = 0;

	if (!known_service(c, conn, svc) || refuse_if_stopping(c, conn) ||
	    deploy_refused(c, conn, svc))
		return;
	if (barg(args, "restart") && !r.dry_run && !restart_deploys(c, svc)) {
		struct op *op = op_new(c, OP_RESTART, conn);

		if (!op || restart_op(c, op, svc) < 0) {
			if (op)
				op_free(op);
			reply_oom(conn);
			return;
		}
		log_event(c, conn, "restart", svc);
		op_queue(c, op);
		return;
	}
	if (!barg(args, "restart") &&
	    sysg_config_find_service(cfg_of(c), svc) >= 0 &&
	    sysg_service_is_cron(&cfg_of(c)->services[
		    sysg_config_find_service(cfg_of(c), svc)])) {
		sysg_ctl_reply(conn, 2, "a cron unit is not deployed: it runs "
			       "its current definition at its next run (sysg "
			       "restart --config reloads it)", NULL);
		return;
	}
	if (barg(args, "rollback")) {
		rc = sysg_deploy_rollback_config(c->deploys, svc, sarg(args, "to"),
						 &r.cfg, rid, err, sizeof(err));
		r.rollback_of = rid;
	} else if (!barg(args, "restart")) {
		struct sysg_diag d;

		sysg_diag_init(&d);
		if (!path) {
			snprintf(err, sizeof(err), "the supervisor runs no config "
				 "file to deploy from");
			rc = -EINVAL;
		} else if ((rc = sysg_deploy_read_config(path, flags, &r.cfg,
							 &text, &d)) < 0) {
			char *all = sysg_diag_join(&d);

			snprintf(err, sizeof(err), "%s: invalid config, nothing "
				 "deployed\n%s", path, all ? all : "");
			free(all);
			rc = -EINVAL;
		}
		sysg_diag_free(&d);
		r.cfg_text = text;
	}
	if (rc == 0)
		rc = sysg_deploy_begin(c->deploys, &r, id, sizeof(id), err,
				       sizeof(err));
	else
		sysg_config_free(r.cfg);
	free(text);
	if (rc < 0) {
		sysg_ctl_reply(conn, rc == -EINVAL || rc == -ENOENT ? 2 : 1,
			       err, NULL);
		return;
	}
	log_event(c, conn, barg(args, "restart") ? "restart" : "deploy", svc);
	sysg_ctl_reply(conn, 0, NULL, json_pack("{s:s}", "id", id));
}

/* Reply to CONN about deploy ID (NULL: the newest) from line FROM on,
 * unless WAIT and there is nothing new. 1 when it replied. */
static int follow_reply(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
			const char *id, size_t from, int wait)
{
	struct sysg_deploy_view v;
	json_t *lines;

	if (sysg_deploy_view(c->deploys, id, NULL, &v) < 0) {
		sysg_ctl_reply(conn, 2, "no such deploy (only the last ones are "
			       "kept: see sysg deploy --history)", NULL);
		return 1;
	}
	if (wait && from >= v.nlines && !v.done)
		return 0;
	lines = json_array();
	for (size_t i = from; lines && i < v.nlines; i++)
		json_array_append_new(lines, json_string(v.lines[i]));
	sysg_ctl_reply(conn, 0, NULL, json_pack(
		"{s:s, s:s, s:o*, s:I, s:b, s:i, s:s, s:s}", "id", v.id,
		"service", v.service, "lines", lines,
		"next", (json_int_t)v.nlines, "done", v.done,
		"exit", v.exit_code, "outcome", v.outcome, "reason", v.reason));
	return 1;
}

static void h_deploy_follow(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
			    json_t *args)
{
	const char *id = sarg(args, "id"), *svc = sarg(args, "service");
	size_t from = (size_t)json_integer_value(json_object_get(args, "from"));
	struct sysg_deploy_view v;
	struct follower *f;

	if (!id && svc) {
		if (sysg_deploy_view(c->deploys, NULL, svc, &v) < 0) {
			sysg_ctl_reply(conn, 2, "no recent deploy of that service",
				       NULL);
			return;
		}
		id = v.id;
	}
	if (follow_reply(c, conn, id, from, 1))
		return;
	f = calloc(1, sizeof(*f));
	if (!f) {
		reply_oom(conn);
		return;
	}
	sysg_deploy_view(c->deploys, id, NULL, &v);
	snprintf(f->id, sizeof(f->id), "%s", v.id);
	f->c = c;
	f->conn = conn;
	f->from = from;
	f->next = c->followers;
	c->followers = f;
	sysg_timer_start(sysg_supervisor_loop(c->o.sup), &f->timer,
			 FOLLOW_ANSWER_MS, follower_due, f);
}

static void h_deploy_op(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
			json_t *args)
{
	static const struct { const char *name; int cmd; } cmds[] = {
		{ "abort", SYSG_OPERATOR_ABORT }, { "promote", SYSG_OPERATOR_PROMOTE },
		{ "pause", SYSG_DEPLOY_PAUSE }, { "resume", SYSG_DEPLOY_RESUME },
	};
	const char *svc = sarg(args, "service"), *cmd = sarg(args, "cmd");
	char err[256];

	if (!known_service(c, conn, svc))
		return;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(cmds[i].name, cmd))
			continue;
		if (sysg_deploy_operator(c->deploys, svc, cmds[i].cmd, err,
					 sizeof(err)) < 0) {
			sysg_ctl_reply(conn, 1, err, NULL);
			return;
		}
		log_event(c, conn, cmd, svc);
		sysg_ctl_reply(conn, 0, NULL, NULL);
		return;
	}
	sysg_ctl_reply(conn, 2, "argument 'cmd' must be abort, pause, resume or "
		       "promote", NULL);
}

/* --------------------------------------------------------- dispatch */

#define SVC_ARG(req) { "service", ARG_STRING, SYSG_NAME_MAX - 1, req }

static const struct argspec no_args[] = { { NULL, 0, 0, 0 } };
static const struct argspec upgrade_args[] = {
	{ "binary", ARG_STRING, 4095, 1 }, { NULL, 0, 0, 0 } };
static const struct argspec start_args[] = {
	SVC_ARG(0), { "config", ARG_STRING, 4095, 0 }, { NULL, 0, 0, 0 } };
static const struct argspec stop_args[] = {
	SVC_ARG(0), { "project", ARG_STRING, 4095, 0 }, { NULL, 0, 0, 0 } };
static const struct argspec restart_args[] = {
	SVC_ARG(0), { "config", ARG_STRING, 4095, 0 }, { NULL, 0, 0, 0 } };
static const struct argspec status_args[] = {
	SVC_ARG(0), { "all", ARG_BOOL, 0, 0 }, { "json_text", ARG_BOOL, 0, 0 },
	{ NULL, 0, 0, 0 } };
static const struct argspec inspect_args[] = {
	SVC_ARG(1), { "text", ARG_BOOL, 0, 0 }, { "color", ARG_BOOL, 0, 0 },
	{ "full_cmd", ARG_BOOL, 0, 0 }, { "width", ARG_INT, 0, 0 },
	{ NULL, 0, 0, 0 } };

static const struct argspec spawn_args[] = {
	{ "parent_pid", ARG_PID, 0, 1 }, { "name", ARG_STRING, 63, 1 },
	{ "ttl_s", ARG_PID, 0, 0 }, { "argv", ARG_ARGV, 4095, 1 },
	{ NULL, 0, 0, 0 } };
static const struct argspec unit_args[] = {
	{ "name", ARG_STRING, 63, 0 }, { "cwd", ARG_STRING, 4095, 1 },
	{ "argv", ARG_ARGV, 4095, 1 }, { NULL, 0, 0, 0 } };

static const struct argspec deploy_args[] = {
	SVC_ARG(1), { "strategy", ARG_STRING, SYSG_NAME_MAX - 1, 0 },
	{ "dry_run", ARG_BOOL, 0, 0 }, { "message", ARG_STRING, 255, 0 },
	{ "restart", ARG_BOOL, 0, 0 }, { "rollback", ARG_BOOL, 0, 0 },
	{ "to", ARG_STRING, 63, 0 }, { "strict", ARG_BOOL, 0, 0 },
	{ NULL, 0, 0, 0 } };
static const struct argspec follow_args[] = {
	SVC_ARG(0), { "id", ARG_STRING, 63, 0 }, { "from", ARG_INT, 0, 0 },
	{ NULL, 0, 0, 0 } };
static const struct argspec deploy_op_args[] = {
	SVC_ARG(1), { "cmd", ARG_STRING, 16, 1 }, { NULL, 0, 0, 0 } };

struct request {
	const char *cmd;
	void (*fn)(struct sysg_ctlsrv *c, struct sysg_ctl_conn *conn,
		   json_t *args);
	const struct argspec *spec;
};

static const struct request requests[] = {
	{ "ping", h_ping, no_args },
	{ "start", h_start, start_args },
	{ "stop", h_stop, stop_args },
	{ "restart", h_restart, restart_args },
	{ "status", h_status, status_args },
	{ "inspect", h_inspect, inspect_args },
	{ "spawn", h_spawn, spawn_args },
	{ "unit", h_unit, unit_args },
	{ "upgrade", h_upgrade, upgrade_args },
	{ "deploy", h_deploy, deploy_args },
	{ "deploy_follow", h_deploy_follow, follow_args },
	{ "deploy_op", h_deploy_op, deploy_op_args },
	{ "reopen", h_reopen, no_args },
};

static void handle(void *arg, struct sysg_ctl_conn *conn, const char *cmd,
		   json_t *args)
{
	struct sysg_ctlsrv *c = arg;
	char err[SYSG_ERR_MAX];

	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		if (strcmp(requests[i].cmd, cmd))
			continue;
		if (validate(args, requests[i].spec, err, sizeof(err)) < 0) {
			sysg_ctl_reply(conn, 2, err, NULL);
			return;
		}
		requests[i].fn(c, conn, args);
		return;
	}
	snprintf(err, sizeof(err), "unknown request '%.64s'", cmd);
	sysg_ctl_reply(conn, 2, err, NULL);
}

/* ---------------------------------------------------------- lifecycle */

int sysg_ctlsrv_new(struct sysg_ctlsrv **out, const struct sysg_ctlsrv_opts *o,
		    char *err, size_t errlen)
{
	struct sysg_ctlsrv *c = calloc(1, sizeof(*c));
	char path[SYSG_STATE_FILE_MAX];
	int rc;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->o = *o;
	{
		struct sysg_deploys_opts dopt = {
			.sup = o->sup, .st = o->st, .pp = o->pp,
			.state_dir = o->state_dir, .on_news = deploy_news,
			.news_arg = c,
		};

		if (sysg_deploys_new(&c->deploys, &dopt) < 0) {
			free(c);
			return -ENOMEM;
		}
	}
	rc = sysg_control_path(o->state_dir, path, sizeof(path));
	if (rc == 0)
		rc = sysg_ctl_server_new_fd(&c->srv,
					    sysg_supervisor_loop(o->sup), path,
					    o->adopt_listener ? o->listen_fd :
					    -1, handle, c, err, errlen);
	else
		sysg_errf(err, errlen, "%s/" SYSG_FILE_CONTROL ": path too long",
			  o->state_dir);
	/* the foreground supervisor can do without (stop finds it by
	 * sysg.pid); not when a live one answers there */
	if (rc < 0 && o->foreground && rc != -EADDRINUSE) {
		sysg_log(o->log, SYSG_LOG_WARN, "No control socket: %s", err);
		rc = 0;
	}
	c->seen = sysg_supervisor_change_seq(o->sup);
	if (rc == 0 && (c->sub = sysg_supervisor_subscribe(o->sup, on_change,
							   c)) < 0) {
		sysg_errf(err, errlen, "out of memory");
		sysg_ctl_server_free(c->srv);
		rc = c->sub;
	}
	if (rc < 0) {
		sysg_deploys_free(c->deploys);
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void sysg_ctlsrv_free(struct sysg_ctlsrv *c)
{
	if (!c)
		return;
	while (c->ops) {
		struct op *op = c->ops;

		c->ops = op->next;
		if (op->done)
			op->done(op->arg, 1, "the supervisor is shutting down\n");
		if (op->conn)
			sysg_ctl_reply(op->conn, op->kind == OP_STOP_ALL ? 0 : 1,
				       op->kind == OP_STOP_ALL ? NULL :
				       "the supervisor is shutting down", NULL);
		op_free(op);
	}
	while (c->followers) {
		struct follower *f = c->followers;

		c->followers = f->next;
		sysg_timer_stop(sysg_supervisor_loop(c->o.sup), &f->timer);
		sysg_ctl_reply(f->conn, 1, "the supervisor is shutting down; the "
			       "deploy was aborted", NULL);
		free(f);
	}
	sysg_deploys_free(c->deploys);
	sysg_supervisor_unsubscribe(c->o.sup, c->sub);
	sysg_timer_stop(sysg_supervisor_loop(c->o.sup), &c->finish);
	sysg_timer_stop(sysg_supervisor_loop(c->o.sup), &c->follow_timer);
	sysg_ctl_server_free(c->srv);
	free(c->upgrade_to);
	free(c);
}

void sysg_ctlsrv_reload_file(struct sysg_ctlsrv *c)
{
	const struct sysg_config *cfg = sysg_supervisor_config(c->o.sup);
	char *path = cfg->abs_path ? strdup(cfg->abs_path) : NULL;
	struct op *op = op_new(c, OP_RESTART, NULL);
	char err[SYSG_MSG_MAX];

	if (sysg_deploy_busy(c->deploys, NULL, err, sizeof(err))) {
		sysg_log(c->o.log, SYSG_LOG_WARN, "SIGHUP: not reloading: %s",
			 err);
	} else if (!path || !op) {
		sysg_log(c->o.log, SYSG_LOG_WARN, "SIGHUP: no config file to "
			 "reload");
	} else {
		sysg_log(c->o.log, SYSG_LOG_INFO, "SIGHUP: reloading %s", path);
		reload_file(c, path, NULL, op, err, sizeof(err));
	}
	if (op)
		op_free(op);
	free(path);
}
