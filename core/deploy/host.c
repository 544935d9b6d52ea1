/* host.c - see host.h: the life of a deploy, its outcome and record, the
 * lock, operator commands */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "base/base.h"
#include "link.h"
#include "record.h"
#include "worker.h"
#include "dep.h"

void dp_news(struct sysg_deploys *ds)
{
	if (ds->o.on_news)
		ds->o.on_news(ds->o.news_arg);
}

struct sysg_log *dp_log_of(struct deploy *dp)
{
	return sysg_supervisor_log(dp->ds->o.sup);
}

struct sysg_loop *dp_loop_of(struct deploy *dp)
{
	return sysg_supervisor_loop(dp->ds->o.sup);
}

__attribute__((format(printf, 2, 3)))
void dp_add_line(struct deploy *dp, const char *fmt, ...)
{
	char buf[1200], **nv;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	nv = realloc(dp->lines, (dp->nlines + 2) * sizeof(*nv));
	if (!nv)
		return;
	dp->lines = nv;
	nv[dp->nlines] = strdup(buf);
	if (nv[dp->nlines])
		dp->nlines++;
	nv[dp->nlines] = NULL;
	sysg_log(dp_log_of(dp), SYSG_LOG_INFO, "Deploy %s: %s", dp->id, buf);
	dp_news(dp->ds);
}

double dp_elapsed_s(const struct deploy *dp)
{
	return (double)(sysg_now_ms() - dp->started_mono) / 1000.0;
}

/* ------------------------------------------------------------------ */
/* Records                                                             */
/* ------------------------------------------------------------------ */

static void fill_record(const struct deploy *dp, struct sysg_deploy_record *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", dp->id);
	snprintf(r->service, sizeof(r->service), "%s", dp->service);
	snprintf(r->strategy, sizeof(r->strategy), "%s", dp->strategy);
	r->started_at_ms = dp->started_wall;
	r->duration_ms = dp->finished ? sysg_now_ms() - dp->started_mono : 0;
	snprintf(r->slot_before, sizeof(r->slot_before), "%s", dp->slot_before);
	snprintf(r->slot_after, sizeof(r->slot_after), "%s", dp->slot_after);
	snprintf(r->outcome, sizeof(r->outcome), "%s",
		 dp->finished ? dp->outcome : "running");
	snprintf(r->reason, sizeof(r->reason), "%s", dp->reason);
	snprintf(r->revision, sizeof(r->revision), "%s", dp->revision);
	snprintf(r->message, sizeof(r->message), "%s", dp->message);
	r->uid = dp->uid;
	snprintf(r->definition, sizeof(r->definition), "%s",
		 dp->definition ? dp->definition : "");
}

void dp_write_record(struct deploy *dp)
{
	struct sysg_deploy_record *r;

	if (!dp->record || dp->dry_run || !dp->ds->o.st)
		return;
	r = malloc(sizeof(*r));
	if (!r)
		return;
	fill_record(dp, r);
	/* stored before anyone is told (deploy --history reads the file) */
	if (sysg_state_add_deploy(dp->ds->o.st, r) < 0 ||
	    sysg_state_sync(dp->ds->o.st) < 0)
		sysg_log(dp_log_of(dp), SYSG_LOG_WARN,
			 "Deploy %s: cannot write "
			 "its record", dp->id);
	free(r);
}

/* ------------------------------------------------------------------ */
/* Replies                                                             */
/* ------------------------------------------------------------------ */

void dp_kill_worker(struct deploy *dp, const char *why)
{
	if (dp->job.pid > 0) {
		sysg_log(dp_log_of(dp), SYSG_LOG_WARN, "Deploy %s: killing its "
			 "worker (%s)", dp->id, why);
		sysg_job_kill(&dp->job);
	}
}

/* Answer the request being served with REP (stolen). */
void dp_reply(struct deploy *dp, json_t *rep)
{
	json_decref(dp->req);
	dp->req = NULL;
	dp->op = NULL;
	sysg_timer_stop(dp_loop_of(dp), &dp->timer);
	if (!rep || dp->fd < 0 || sysg_link_send(dp->fd, rep) < 0)
		dp_kill_worker(dp, "its socket failed");
	json_decref(rep);
}

void dp_reply_rc(struct deploy *dp, int rc, const char *err)
{
	dp_reply(dp, json_pack("{s:i, s:s}", "rc", rc, "err", err ? err : ""));
}

/* ------------------------------------------------------------------ */
/* The end of a deploy                                                 */
/* ------------------------------------------------------------------ */

static void outcome(struct deploy *dp, const char *o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void outcome(struct deploy *dp, const char *o, const char *fmt, ...)
{
	va_list ap;

	snprintf(dp->outcome, sizeof(dp->outcome), "%s", o);
	va_start(ap, fmt);
	vsnprintf(dp->reason, sizeof(dp->reason), fmt, ap);
	va_end(ap);
}

static void decide(struct deploy *dp, int status, int timed_out)
{
	char d[32];

	if (dp->shutdown) {
		outcome(dp, "aborted",
			"the supervisor stopped during the deploy");
	} else if (timed_out) {
		sysg_deploy_fmt_ms(dp->timeout_ms, d, sizeof(d));
		outcome(dp, "failed", "timed out after %s", d);
	} else if (!dp->got_done && WIFSIGNALED(status)) {
		outcome(dp, dp->aborting ? "aborted" : "failed",
			"strategy crashed (signal %d)", WTERMSIG(status));
	} else if (!dp->got_done) {
		outcome(dp, dp->aborting ? "aborted" : "failed",
			"the deploy worker exited with code %d without an "
			"answer",
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	} else if (dp->done_rc == 0 && dp->watch_failed) {
		outcome(dp, "rolled_back", "%s", dp->watch_why);
	} else if (dp->done_rc == 0 && !dp->switch_back_failed) {
		outcome(dp, "success", "%s", "");
	} else if (dp->switch_back_failed) {
		outcome(dp, "failed",
			"switch-back failed, traffic may point at %s",
			dp->traffic_slot);
	} else if (dp->aborting) {
		outcome(dp, "aborted", "aborted by uid %d%s%s",
			(int)dp->abort_uid,
			dp->done_err[0] ? ": " : "", dp->done_err);
	} else if (dp->switched_ok >= 2) {
		outcome(dp, "rolled_back", "%s", dp->done_err);
	} else if (dp->ncopies && dp->started_any) {
		/* rolled back when every copy is on its old definition */
		char newer[256] = "";
		size_t l = 0;

		for (int k = 0; k < dp->ncopies; k++)
			if (dp->copy_is_new[k] && l + 16 < sizeof(newer))
				l += (size_t)snprintf(newer + l, sizeof(newer)
						      - l, "%s%s.%d", l ? ", " :
						      "", dp->service, k);
		if (l)
			outcome(dp, "failed", "%s (%s run%s the new "
				"definition)", dp->done_err[0] ? dp->done_err :
				strerror(-dp->done_rc), newer,
				strchr(newer, ',') ? "" : "s");
		else
			outcome(dp, "rolled_back", "%s", dp->done_err[0] ?
				dp->done_err : strerror(-dp->done_rc));
	} else {
		outcome(dp, "failed", "%s", dp->done_err[0] ? dp->done_err :
			strerror(-dp->done_rc));
	}
	if (dp->aborting && !strcmp(dp->outcome, "failed") && !timed_out)
		snprintf(dp->outcome, sizeof(dp->outcome), "aborted");
}

static void stop_leftovers(struct deploy *dp)
{
	struct sysg_supervisor *sup = dp->ds->o.sup;

	for (size_t i = 0; i < dp->ncands; i++) {
		int64_t id = dp->cands[i];

		json_decref(dp->cand_env[i]);
		dp->cand_env[i] = NULL;
		if (id == dp->promoted || dp->cand_promoted[i]) {
			sysg_inst_release(sup, id);
			continue;
		}
		if (sysg_inst_stop(sup, id, dp_on_orphan_gone, dp->ds) != 0)
			sysg_inst_release(sup, id);
	}
	dp->ncands = 0;
}

static void unlink_live(struct deploy *dp)
{
	struct deploy **pp = &dp->ds->live;

	while (*pp && *pp != dp)
		pp = &(*pp)->next;
	if (*pp)
		*pp = dp->next;
}

static void deploy_free(struct deploy *dp)
{
	for (size_t i = 0; i < dp->nlines; i++)
		free(dp->lines[i]);
	free(dp->lines);
	free(dp->definition);
	free(dp->copy_new);
	free(dp->copy_prev);
	free(dp->copy_is_new);
	sysg_config_free(dp->cfg);
	json_decref(dp->journal_pids);
	json_decref(dp->journal_promote);
	free(dp);
}

static void keep_done(struct deploy *dp)
{
	struct sysg_deploys *ds = dp->ds;
	struct deploy **pp;
	size_t n = 0;

	dp->next = ds->done;
	ds->done = dp;
	for (pp = &ds->done; *pp; n++) {
		if (n >= DONE_KEEP) {
			struct deploy *old = *pp;

			*pp = old->next;
			deploy_free(old);
			continue;
		}
		pp = &(*pp)->next;
	}
}

/* The worker is gone: take its last message (done) from the socket. */
static void drain(struct deploy *dp)
{
	json_t *msg;

	if (dp->fd < 0)
		return;
	sysg_link_fill(&dp->in, dp->fd);
	while (sysg_link_take(&dp->in, &msg) == 1) {
		const char *op = json_string_value(json_object_get(msg, "op"));

		if (op && !strcmp(op, "done"))
			dp_serve(dp, msg);
		else
			json_decref(msg);
	}
}

void dp_finish(struct deploy *dp, int status, int timed_out)
{
	struct sysg_supervisor *sup = dp->ds->o.sup;

	if (dp->req || dp->op) {
		sysg_job_cancel(&dp->aux);
		json_decref(dp->req);
		dp->req = NULL;
		dp->op = NULL;
	}
	dp_wait_cleanup(dp);
	sysg_timer_stop(dp_loop_of(dp), &dp->timer);
	sysg_timer_stop(dp_loop_of(dp), &dp->killer);
	if (dp->io_on)
		sysg_loop_io_del(dp_loop_of(dp), &dp->io);
	dp->io_on = 0;
	drain(dp);
	if (dp->fd >= 0) {
		close(dp->fd);
		dp->fd = -1;
	}
	sysg_link_buf_free(&dp->in);
	decide(dp, status, timed_out);
	stop_leftovers(dp);
	if (strcmp(dp->outcome, "success")) {
		char why[SYSG_REASON_MAX + 32];

		snprintf(why, sizeof(why), "%s%s%s", dp->outcome,
			 dp->reason[0] ? ": " : "", dp->reason);
		if (dp->pre_code && !dp->promoted)
			snprintf(why, sizeof(why), "exited with error");
		for (int k = 0; k < (dp->ncopies ? dp->ncopies : 1); k++) {
			char name[SYSG_NAME_MAX + 16];

			sysg_inst_deploy_failed(sup, dp_copy_name(dp, k, name,
								  sizeof(name)),
						why, dp->pre_code &&
						!dp->promoted, dp->pre_code,
						dp->switch_back_failed);
		}
	}
	dp->finished = 1;
	dp->exit_code = !strcmp(dp->outcome, "success") ? 0 : 1;
	if (dp->dry_run) {
		dp_add_line(dp, "dry run: nothing was changed");
	} else if (dp->exit_code == 0 && !dp->record) {   /* a restart */
		struct sysg_unit_record u;

		if (sysg_supervisor_get(sup, dp->service, &u) == 0)
			dp_add_line(dp, "%s: %s (pid %lld)", dp->service,
				    u.status,
				 (long long)u.pid);
	} else if (dp->exit_code == 0)
		dp_add_line(dp, "deploy %s of %s: success (%.1f s)", dp->id,
			 dp->service, dp_elapsed_s(dp));
	else
		dp_add_line(dp, "deploy %s of %s: %s%s%s", dp->id, dp->service,
			 dp->outcome, dp->reason[0] ? ": " : "", dp->reason);
	dp_write_record(dp);
	dp_journal_clear(dp);
	unlink_live(dp);
	keep_done(dp);
	dp_news(dp->ds);
}

static void worker_done(struct sysg_job *j, int status, int timed_out)
{
	struct deploy *dp = j->arg;

	drain(dp);
	if (!timed_out && dp->got_done && dp_watch_begin(dp))
		return;
	dp_finish(dp, status, timed_out);
}

/* ------------------------------------------------------------------ */
/* Starting a deploy                                                   */
/* ------------------------------------------------------------------ */

static int setup_fd(void *arg, const char **stage)
{
	int fd = *(int *)arg;

	*stage = "dup2 of the deploy link";
	return dup2(fd, 0) < 0 ? errno : 0;
}

static json_t *setup_msg(struct deploy *dp)
{
	json_t *dirs = json_array();
	const struct sysg_plugin_path *pp = dp->ds->o.pp;

	for (size_t i = 0; dirs && pp && i < pp->n; i++)
		json_array_append_new(dirs, json_string(pp->dirs[i]));
	json_t *settings = sysg_deploy_settings_json(dp->def, dp->strategy);

	/* the copies' settings are the service's: named by it */
	if (settings && dp->ncopies)
		json_object_set_new(settings, "service",
				    json_string(dp->service));
	return json_pack("{s:s, s:b, s:i, s:s, s:s, s:o*, s:o*}",
			 "op", "setup", "dry_run", dp->dry_run,
			 "copies", dp->ncopies ? dp->ncopies : 1,
			 "state_dir", dp->ds->o.state_dir,
			 "project_dir", dp_project_dir(dp),
			 "plugin_dirs", dirs, "settings", settings);
}

static int spawn_worker(struct deploy *dp, char *err, size_t errlen)
{
	struct sysg_jobs *jobs = sysg_supervisor_jobs(dp->ds->o.sup);
	char *const argv[] = {
		(char *)(dp->ds->o.worker_exe ? dp->ds->o.worker_exe :
			 sysg_exe_path()),
		(char *)SYSG_DEPLOY_WORKER_CMD, NULL,
	};
	char *cmd = sysg_cmd_join(argv);   /* quoted: any path */
	int sv[2], rc;
	json_t *m;

	if (!cmd) {
		sysg_errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		rc = -errno;
		sysg_errf(err, errlen, "socketpair: %s", strerror(-rc));
		free(cmd);
		return rc;
	}
	{
		struct sysg_spawn_req r = {
			.command = cmd, .cgroup_fd = -1,
			.out_fd = SYSG_SPAWN_DEVNULL,
			.err_fd = SYSG_SPAWN_DEVNULL,
			.child_setup = setup_fd, .child_arg = &sv[1],
		};

		dp->job.done = worker_done;
		dp->job.arg = dp;
		rc = sysg_job_spawn(jobs, &dp->job, &r, dp->timeout_ms, err,
				    errlen);
	}
	free(cmd);
	close(sv[1]);
	if (rc < 0) {
		close(sv[0]);
		return rc;
	}
	dp->fd = sv[0];
	m = setup_msg(dp);
	rc = m ? sysg_link_send(dp->fd, m) : -ENOMEM;
	json_decref(m);
	fcntl(dp->fd, F_SETFL, fcntl(dp->fd, F_GETFL) | O_NONBLOCK);
	dp->io.fd = dp->fd;
	dp->io.cb = dp_on_io;
	dp->io.arg = dp;
	if (rc == 0 && (rc = sysg_loop_io_add(dp_loop_of(dp), &dp->io,
					      EPOLLIN)) == 0)
		dp->io_on = 1;
	if (rc < 0) {
		snprintf(err, errlen, "cannot talk to the deploy worker: %s",
			 strerror(-rc));
		sysg_job_kill(&dp->job);        /* worker_done follows */
	}
	return 0;
}

/* 1 when COPY is GROUP.K (K a number). */
static int copy_of(const char *copy, const char *group)
{
	size_t n = strlen(group);

	if (strncmp(copy, group, n) || copy[n] != '.' || !copy[n + 1])
		return 0;
	return strspn(copy + n + 1, "0123456789") == strlen(copy + n + 1);
}

struct deploy *dp_live_of(struct sysg_deploys *ds, const char *service)
{
	for (struct deploy *dp = ds->live; dp; dp = dp->next)
		if (!service || !strcmp(dp->service, service) ||
		    copy_of(service, dp->service) ||
		    copy_of(dp->service, service))
			return dp;
	return NULL;
}

int dp_is_unit(const struct deploy *dp, const char *name)
{
	return !strcmp(name, dp->service) ||
	       (dp->ncopies && copy_of(name, dp->service));
}

const char *dp_copy_name(const struct deploy *dp, int k, char *buf,
			 size_t len)
{
	if (dp->ncopies)
		snprintf(buf, len, "%s.%d", dp->service, k);
	else
		snprintf(buf, len, "%s", dp->service);
	return buf;
}

/* A deploy of the copies of DP's service (instances: N): what each copy
 * runs now, and its new definition in SRC. 0, or -errno with ERR. */
static int copies_setup(struct deploy *dp, const struct sysg_config *src,
			size_t n, char *err, size_t errlen)
{
	struct sysg_supervisor *sup = dp->ds->o.sup;
	size_t m = sysg_config_instances(src, dp->service);
	char name[SYSG_NAME_MAX + 16];

	if (m != n) {
		snprintf(err, errlen, "service %s runs %zu copies and the "
			 "config says instances: %zu: a deploy keeps the number "
			 "of copies (sysg restart --config applies a new one)",
			 dp->service, n, m ? m : 1);
		return -EINVAL;
	}
	dp->ncopies = (int)n;
	dp->copy_new = calloc(n, sizeof(*dp->copy_new));
	dp->copy_prev = calloc(n, sizeof(*dp->copy_prev));
	dp->copy_is_new = calloc(n, sizeof(*dp->copy_is_new));
	if (!dp->copy_new || !dp->copy_prev || !dp->copy_is_new) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t k = 0; k < n; k++) {
		struct sysg_service_info in;
		int i, j;

		dp_copy_name(dp, (int)k, name, sizeof(name));
		i = sysg_config_find_service(src, name);
		j = sysg_supervisor_index(sup, name);
		if (i < 0 || j < 0 ||
		    sysg_supervisor_info(sup, (size_t)j, &in) < 0 || !in.cfg) {
			snprintf(err, errlen, "copy %s is not running", name);
			return -ENOENT;
		}
		dp->copy_new[k] = &src->services[i];
		dp->copy_prev[k] = in.cfg;
	}
	return 0;
}

static void busy_line(const struct deploy *dp, char *msg, size_t len)
{
	char when[64];
	time_t t = (time_t)(dp->started_wall / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(msg, len, "service %s is being deployed: deploy %s, started "
		 "%s by uid %d (wait for it, or sysg deploy --abort -s %s)",
		 dp->service, dp->id, when, (int)dp->uid, dp->service);
}

int sysg_deploy_busy(struct sysg_deploys *ds, const char *service, char *msg,
		     size_t len)
{
	struct deploy *dp = ds ? dp_live_of(ds, service) : NULL;

	if (!dp)
		return 0;
	if (msg && len)
		busy_line(dp, msg, len);
	return 1;
}

static void make_id(struct sysg_deploys *ds, struct deploy *dp)
{
	time_t t = (time_t)(dp->started_wall / 1000);
	struct tm tm;
	char when[32];

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y%m%d-%H%M%S", &tm);
	snprintf(dp->id, sizeof(dp->id), "%s-%.20s-%u%03u", when, dp->service,
		 ++ds->serial % 100, (unsigned)(dp->started_wall % 1000));
}

int sysg_deploy_begin(struct sysg_deploys *ds, const struct sysg_deploy_req *r,
		      char *id, size_t idlen, char *err, size_t errlen)
{
	struct sysg_config *cfg = r->cfg;
	const struct sysg_config *running = sysg_supervisor_config(ds->o.sup);
	struct deploy *dp;
	size_t copies;
	int k, rc;

	if (sysg_deploy_busy(ds, r->service, err, errlen)) {
		sysg_config_free(cfg);
		return -EBUSY;
	}
	k = sysg_config_find_service(cfg ? cfg : running, r->service);
	copies = sysg_config_find_service(running, r->service) < 0 ?
		 sysg_config_instances(running, r->service) : 0;
	if (copies) {           /* instances: N, its copies NAME.K */
		char first[SYSG_NAME_MAX + 16];

		snprintf(first, sizeof(first), "%s.0", r->service);
		k = sysg_config_find_service(cfg ? cfg : running, first);
		if (k < 0)      /* the config says instances: 1 */
			k = sysg_config_find_service(cfg ? cfg : running,
						     r->service);
	}
	if (k < 0 || (sysg_config_find_service(running, r->service) < 0 &&
		      !copies)) {
		snprintf(err, errlen, "unknown service '%s'", r->service);
		sysg_config_free(cfg);
		return -ENOENT;
	}
	dp = calloc(1, sizeof(*dp));
	if (!dp) {
		sysg_config_free(cfg);
		return -ENOMEM;
	}
	dp->ds = ds;
	dp->fd = -1;
	dp->cfg = cfg;
	snprintf(dp->service, sizeof(dp->service), "%s", r->service);
	if (copies && (rc = copies_setup(dp, cfg ? cfg : running, copies, err,
					 errlen)) < 0) {
		deploy_free(dp);
		return rc;
	}
	dp->def = &(cfg ? cfg : running)->services[k];
	dp->journal_pids = json_array();
	snprintf(dp->service, sizeof(dp->service), "%s", r->service);
	snprintf(dp->strategy, sizeof(dp->strategy), "%s", r->strategy ?
		 r->strategy : dp->def->deployment.strategy ?
		 dp->def->deployment.strategy : "immediate");
	snprintf(dp->message, sizeof(dp->message), "%s", r->message ?
		 r->message : "");
	dp->uid = r->uid;
	dp->dry_run = r->dry_run;
	dp->record = cfg != NULL;
	dp->started_wall = sysg_wall_ms();
	dp->started_mono = sysg_now_ms();
	dp->timeout_ms = dp->def->deployment.timeout_ms > 0 ?
			 dp->def->deployment.timeout_ms :
			 SYSG_DEPLOY_TIMEOUT_MS;
	sysg_deploy_revision(dp->def, dp->revision);
	make_id(ds, dp);
	dp->definition = malloc(SYSG_DEFINITION_MAX);
	if (dp->definition)
		sysg_deploy_definition(dp->def, cfg ? cfg : running,
				       r->cfg_text,
				       dp->definition, SYSG_DEFINITION_MAX);
	dp->next = ds->live;
	ds->live = dp;
	dp_add_line(dp, "%sdeploy %s: %s with %s, revision %s%s%s",
		    dp->dry_run ?
		 "dry run of " : "", dp->id, dp->service, dp->strategy,
		 dp->revision, r->rollback_of ? ", rolling back to " : "",
		 r->rollback_of ? r->rollback_of : "");
	dp_write_record(dp);
	dp_journal(dp, "begin");
	rc = spawn_worker(dp, err, errlen);
	if (rc < 0) {
		unlink_live(dp);
		dp_journal_clear(dp);
		snprintf(dp->outcome, sizeof(dp->outcome), "failed");
		snprintf(dp->reason, sizeof(dp->reason), "%s", err);
		dp->finished = 1;
		dp_write_record(dp);
		deploy_free(dp);
		return rc;
	}
	snprintf(id, idlen, "%s", dp->id);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Queries and operator commands                                       */
/* ------------------------------------------------------------------ */

static struct deploy *find_any(struct sysg_deploys *ds, const char *id,
			       const char *service)
{
	struct deploy *lists[2] = { ds->live, ds->done };

	for (int l = 0; l < 2; l++)
		for (struct deploy *dp = lists[l]; dp; dp = dp->next)
			if ((!id || !strcmp(dp->id, id)) &&
			    (!service || !strcmp(dp->service, service)))
				return dp;
	return NULL;
}

int sysg_deploy_view(struct sysg_deploys *ds, const char *id,
		     const char *service, struct sysg_deploy_view *out)
{
	struct deploy *dp = find_any(ds, id, service);

	memset(out, 0, sizeof(*out));
	if (!dp)
		return -ENOENT;
	out->id = dp->id;
	out->service = dp->service;
	out->lines = (const char *const *)dp->lines;
	out->nlines = dp->nlines;
	out->done = dp->finished;
	out->exit_code = dp->exit_code;
	out->outcome = dp->finished ? dp->outcome : "";
	out->reason = dp->reason;
	return 0;
}

static void abort_kill(struct sysg_timer *t)
{
	dp_kill_worker(t->arg, "it did not end after --abort");
}

int sysg_deploy_operator(struct sysg_deploys *ds, const char *service, int cmd,
			 char *err, size_t errlen)
{
	struct deploy *dp = dp_live_of(ds, service);

	if (!dp) {
		snprintf(err, errlen, "no deploy of %s is running", service);
		return -ENOENT;
	}
	switch (cmd) {
	case SYSG_OPERATOR_ABORT:
		if (dp->aborting)
			return 0;
		dp->aborting = 1;
		dp_add_line(dp, "abort requested");
		sysg_timer_start(dp_loop_of(dp), &dp->killer, ABORT_GRACE_MS,
				 abort_kill, dp);
		if (dp->op && !strcmp(dp->op, "operator_wait"))
			dp_reply(dp, json_pack("{s:i, s:i}", "rc", 0,
					       "operator",
					    SYSG_OPERATOR_ABORT));
		else if (dp->op && dp_cancelled_op(dp->op)) {
			sysg_job_cancel(&dp->aux);
			dp_wait_cleanup(dp);
			dp_reply_rc(dp, -ECANCELED, "the deploy was aborted");
		}
		return 0;
	case SYSG_OPERATOR_PROMOTE:
		dp_add_line(dp, "promote requested");
		dp->paused = 0;
		if (dp->op && !strcmp(dp->op, "operator_wait"))
			dp_reply(dp, json_pack("{s:i, s:i}", "rc", 0,
					       "operator",
					    SYSG_OPERATOR_PROMOTE));
		else
			dp->pending_cmd = SYSG_OPERATOR_PROMOTE;
		return 0;
	case SYSG_DEPLOY_PAUSE:
		dp_add_line(dp, "paused");
		dp->paused = 1;
		if (dp->op && !strcmp(dp->op, "operator_wait"))
			sysg_timer_stop(dp_loop_of(dp), &dp->timer);
		return 0;
	case SYSG_DEPLOY_RESUME:
		if (!dp->paused)
			return 0;
		dp_add_line(dp, "resumed");
		dp->paused = 0;
		if (dp->op && !strcmp(dp->op, "operator_wait"))
			dp_reply(dp, json_pack("{s:i, s:i}", "rc", 0,
					       "operator",
					    SYSG_OPERATOR_NONE));
		return 0;
	}
	snprintf(err, errlen, "unknown operator command");
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Lifecycle and recovery                                              */
/* ------------------------------------------------------------------ */

/* The supervisor is stopping (stop_all, SIGTERM): end the deploys now,
 * their candidates are stopped, the records say aborted. */
static void on_sup_change(void *arg, const struct sysg_unit_change *ch)
{
	struct sysg_deploys *ds = arg;

	(void)ch;
	if (!sysg_supervisor_shutting_down(ds->o.sup))
		return;
	for (struct deploy *dp = ds->live; dp; dp = dp->next)
		if (!dp->shutdown) {
			dp->shutdown = 1;
			dp_add_line(dp, "the supervisor is stopping: abort");
			dp_kill_worker(dp, "the supervisor is stopping");
			if (dp->watching)
				dp_watch_end(dp, NULL);
		}
}

int sysg_deploys_new(struct sysg_deploys **out,
		     const struct sysg_deploys_opts *o)
{
	struct sysg_deploys *ds = calloc(1, sizeof(*ds));

	*out = NULL;
	if (!ds)
		return -ENOMEM;
	ds->o = *o;
	ds->sub = sysg_supervisor_subscribe(o->sup, on_sup_change, ds);
	if (ds->sub < 0) {
		free(ds);
		return -ENOMEM;
	}
	*out = ds;
	return 0;
}

void sysg_deploys_free(struct sysg_deploys *ds)
{
	if (!ds)
		return;
	while (ds->live) {
		struct deploy *dp = ds->live;

		dp->shutdown = 1;
		sysg_job_cancel(&dp->job);
		dp_finish(dp, SIGKILL, 0);
	}
	while (ds->done) {
		struct deploy *dp = ds->done;

		ds->done = dp->next;
		deploy_free(dp);
	}
	sysg_supervisor_unsubscribe(ds->o.sup, ds->sub);
	free(ds);
}

const char *sysg_deploy_running_revision(struct sysg_deploys *ds,
					 const char *name)
{
	static char rev[16];
	struct sysg_service_info in;
	int k = sysg_supervisor_index(ds->o.sup, name);
	char first[SYSG_NAME_MAX + 16];

	rev[0] = '\0';
	if (k < 0) {    /* a service with copies: what its first one runs */
		snprintf(first, sizeof(first), "%s.0", name);
		k = sysg_supervisor_index(ds->o.sup, first);
	}
	if (k >= 0 && sysg_supervisor_info(ds->o.sup, (size_t)k, &in) == 0 &&
	    in.cfg)
		sysg_deploy_revision(in.cfg, rev);
	return rev;
}
