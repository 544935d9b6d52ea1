/* host.c - see host.h */
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

#include "config/config.h"
#include "proc/proc.h"
#include "host.h"
#include "link.h"
#include "record.h"
#include "worker.h"

#define DONE_KEEP       16      /* finished deploys kept for --follow */
#define ABORT_GRACE_MS  5000    /* after --abort, before the worker is killed */
#define MAX_CANDS       64

struct deploy {
	struct deploy *next;
	struct sysg_deploys *ds;
	char id[64];
	char service[SYSG_NAME_MAX];
	char strategy[SYSG_NAME_MAX];
	char revision[16];
	char message[SYSG_REASON_MAX];
	uid_t uid;
	int dry_run;
	int record;             /* write a deploy record (deploy, not restart) */
	int64_t started_wall, started_mono, timeout_ms;
	struct sysg_config *cfg;        /* what is rolled out (ours until a
	                                   promote hands it over) */
	const struct sysg_service *def; /* the service in CFG (or running) */
	char *definition;       /* for the record */

	/* the worker */
	struct sysg_job job;
	int fd;
	struct sysg_io io;
	int io_on;
	struct sysg_link_buf in;
	int got_done, done_rc;
	char done_err[SYSG_REASON_MAX];

	/* the request being served */
	json_t *req;
	const char *op;
	struct sysg_job aux;            /* pre_start, run, probe */
	struct sysg_timer timer;        /* sleep, waits */
	struct sysg_timer killer;       /* abort: the worker's last chance */
	int64_t wait_inst, wait_deadline, wait_interval, wait_next;
	char *wait_url, *wait_cmd;
	char **wait_env;
	char run_from[64], run_to[64];  /* the run's SYSG_*_SLOT values */
	int run_is_switch;

	/* instances */
	int64_t cands[MAX_CANDS];
	json_t *cand_env[MAX_CANDS];
	size_t ncands;
	int64_t promoted;
	json_t *journal_pids;
	json_t *journal_promote;        /* {pid, ticks} of the promoted one */

	/* operator */
	int aborting, paused, pending_cmd, shutdown;
	uid_t abort_uid;

	/* traffic switches (commands run with SYSG_CANDIDATE_SLOT) */
	int switched_ok, switch_back_failed;
	char traffic_slot[64];

	/* progress and outcome */
	int planned, steps;
	char **lines;
	size_t nlines;
	int finished, exit_code;
	/* deployment.min_healthy_time: watching the promoted instance */
	int watching, watch_failed, watch_sub;
	struct sysg_timer watch_timer;  /* the end of min_healthy_time */
	pid_t watch_pid;
	int64_t watch_until;
	char watch_why[SYSG_REASON_MAX];
	char rollback_id[64];
	char outcome[SYSG_STATUS_MAX];
	char reason[SYSG_REASON_MAX];
	char slot_before[64], slot_after[64];
	int pre_code;
};

struct sysg_deploys {
	struct sysg_deploys_opts o;
	int sub;                /* change subscription (shutdown), -1: none */
	struct deploy *live;
	struct deploy *done;    /* newest first */
	size_t ndone;
	unsigned serial;
};

static void news(struct sysg_deploys *ds)
{
	if (ds->o.on_news)
		ds->o.on_news(ds->o.news_arg);
}

static struct sysg_log *log_of(struct deploy *dp)
{
	return sysg_supervisor_log(dp->ds->o.sup);
}

static struct sysg_loop *loop_of(struct deploy *dp)
{
	return sysg_supervisor_loop(dp->ds->o.sup);
}

__attribute__((format(printf, 2, 3)))
static void add_line(struct deploy *dp, const char *fmt, ...)
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
	sysg_log(log_of(dp), SYSG_LOG_INFO, "Deploy %s: %s", dp->id, buf);
	news(dp->ds);
}

static double elapsed_s(const struct deploy *dp)
{
	return (double)(sysg_now_ms() - dp->started_mono) / 1000.0;
}

/* ------------------------------------------------------------------ */
/* Journal (kv "deploy:<service>")                                     */
/* ------------------------------------------------------------------ */

static void journal(struct deploy *dp, const char *step)
{
	struct sysg_state *st = dp->ds->o.st;
	char key[SYSG_NAME_MAX + 16];
	json_t *j;
	char *s;

	if (!st || dp->dry_run)
		return;
	j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:O, s:O*}",
		      "id", dp->id, "service", dp->service,
		      "strategy", dp->strategy, "revision", dp->revision,
		      "started_at_ms", (json_int_t)dp->started_wall,
		      "uid", (json_int_t)dp->uid, "message", dp->message,
		      "step", step, "pids", dp->journal_pids,
		      "promote", dp->journal_promote);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	snprintf(key, sizeof(key), "deploy:%s", dp->service);
	if (s && sysg_state_kv_set(st, key, s) < 0)
		sysg_log(log_of(dp), SYSG_LOG_WARN, "Deploy %s: cannot journal "
			 "step '%s'", dp->id, step);
	free(s);
	json_decref(j);
}

static void journal_clear(struct deploy *dp)
{
	char key[SYSG_NAME_MAX + 16];

	if (!dp->ds->o.st || dp->dry_run)
		return;
	snprintf(key, sizeof(key), "deploy:%s", dp->service);
	sysg_state_kv_set(dp->ds->o.st, key, NULL);
}

static void journal_pid(struct deploy *dp, pid_t pid)
{
	uint64_t ticks = 0;

	if (pid <= 0 || sysg_proc_start_ticks_of(pid, &ticks) < 0)
		return;
	json_array_append_new(dp->journal_pids, json_pack(
		"{s:i, s:I}", "pid", (int)pid, "ticks", (json_int_t)ticks));
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

static void write_record(struct deploy *dp)
{
	struct sysg_deploy_record *r;

	if (!dp->record || dp->dry_run || !dp->ds->o.st)
		return;
	r = malloc(sizeof(*r));
	if (!r)
		return;
	fill_record(dp, r);
	if (sysg_state_add_deploy(dp->ds->o.st, r) < 0)
		sysg_log(log_of(dp), SYSG_LOG_WARN, "Deploy %s: cannot write "
			 "its record", dp->id);
	free(r);
}

/* ------------------------------------------------------------------ */
/* Replies                                                             */
/* ------------------------------------------------------------------ */

static void kill_worker(struct deploy *dp, const char *why)
{
	if (dp->job.pid > 0) {
		sysg_log(log_of(dp), SYSG_LOG_WARN, "Deploy %s: killing its "
			 "worker (%s)", dp->id, why);
		sysg_job_kill(&dp->job);
	}
}

/* Answer the request being served with REP (stolen). */
static void reply(struct deploy *dp, json_t *rep)
{
	json_decref(dp->req);
	dp->req = NULL;
	dp->op = NULL;
	sysg_timer_stop(loop_of(dp), &dp->timer);
	if (!rep || dp->fd < 0 || sysg_link_send(dp->fd, rep) < 0)
		kill_worker(dp, "its socket failed");
	json_decref(rep);
}

static void reply_rc(struct deploy *dp, int rc, const char *err)
{
	reply(dp, json_pack("{s:i, s:s}", "rc", rc, "err", err ? err : ""));
}

/* ------------------------------------------------------------------ */
/* Instances                                                           */
/* ------------------------------------------------------------------ */

static int is_cand(const struct deploy *dp, int64_t id)
{
	for (size_t i = 0; i < dp->ncands; i++)
		if (dp->cands[i] == id)
			return (int)i;
	return -1;
}

static void wait_check(struct deploy *dp);

static void on_inst(void *arg, int64_t id)
{
	struct deploy *dp = arg;

	if (dp->op && !strcmp(dp->op, "wait_ready") && dp->wait_inst == id)
		wait_check(dp);
	else if (dp->op && !strcmp(dp->op, "stop") && dp->wait_inst == id)
		reply_rc(dp, 0, NULL);
}

static void on_orphan_gone(void *arg, int64_t id)
{
	struct sysg_deploys *ds = arg;

	sysg_inst_release(ds->o.sup, id);
}

/* The environment of a command the deploy runs for its service. */
static char **env_with(const struct deploy *dp, const json_t *over)
{
	extern char **environ;
	char **env = sysg_env_dup(dp->def->envp ? dp->def->envp : environ);
	size_t i;
	json_t *e;

	json_array_foreach((json_t *)over, i, e) {
		const char *kv = json_string_value(e), *eq;
		char key[256];

		if (!env || !kv || !(eq = strchr(kv, '=')) || eq == kv ||
		    (size_t)(eq - kv) >= sizeof(key))
			continue;
		memcpy(key, kv, (size_t)(eq - kv));
		key[eq - kv] = '\0';
		if (sysg_env_set(&env, key, eq + 1) < 0) {
			sysg_env_free(env);
			env = NULL;
		}
	}
	return env;
}

static const char *project_dir(const struct deploy *dp)
{
	return dp->cfg ? dp->cfg->project_dir :
	       sysg_supervisor_config(dp->ds->o.sup)->project_dir;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

static void op_step(struct deploy *dp, json_t *req)
{
	const char *text = json_string_value(json_object_get(req, "text"));
	int total;

	dp->steps++;
	total = dp->planned > dp->steps ? dp->planned : dp->steps;
	if (dp->dry_run)
		add_line(dp, "[%d] %s", dp->steps, text ? text : "");
	else
		add_line(dp, "[%d/%d] %s (%.1f s)", dp->steps, total,
			 text ? text : "", elapsed_s(dp));
	journal(dp, text ? text : "");
	reply_rc(dp, 0, NULL);
}

static void op_log(struct deploy *dp, json_t *req)
{
	const char *msg = json_string_value(json_object_get(req, "msg"));
	int level = (int)json_integer_value(json_object_get(req, "level"));

	if (level <= SYSG_LOG_WARN)
		add_line(dp, "%s: %s", level <= SYSG_LOG_ERROR ? "error" :
			 "warning", msg ? msg : "");
	else
		sysg_log(log_of(dp), level, "Deploy %s: %s", dp->id,
			 msg ? msg : "");
	reply_rc(dp, 0, NULL);
}

static void op_current(struct deploy *dp)
{
	struct sysg_inst_info in;
	int64_t id = 0;
	int rc = sysg_inst_current(dp->ds->o.sup, dp->service, &id);

	if (rc == 0 && id && sysg_inst_info(dp->ds->o.sup, id, &in) == 0 &&
	    in.pid > 0 && json_array_size(dp->journal_pids) == 0) {
		journal_pid(dp, in.pid);
		journal(dp, "current");
	}
	reply(dp, json_pack("{s:i, s:I}", "rc", rc, "inst", (json_int_t)id));
}

static void aux_done(struct sysg_job *j, int status, int timed_out);
static void watch_probe_done(struct deploy *dp, int passed);

static void op_pre_start(struct deploy *dp)
{
	const char *pre = dp->def->deployment.pre_start;
	struct sysg_jobs *jobs = sysg_supervisor_jobs(dp->ds->o.sup);
	const struct sysg_log *logdir = sysg_supervisor_log(dp->ds->o.sup);
	char **env, *cmd, err[512];
	int out, errfd, rc;

	if (!pre || !*pre) {
		reply(dp, json_pack("{s:i, s:i}", "rc", 0, "code", 0));
		return;
	}
	env = env_with(dp, NULL);
	cmd = env ? sysg_env_expand(pre, env) : NULL;
	out = sysg_log_open_service(logdir, dp->service, "stdout");
	errfd = sysg_log_open_service(logdir, dp->service, "stderr");
	{
		struct sysg_spawn_req r = {
			.command = cmd, .force_shell = 1, .envp = env,
			.cwd = project_dir(dp), .cgroup_fd = -1,
			.out_fd = out >= 0 ? out : SYSG_SPAWN_DEVNULL,
			.err_fd = errfd >= 0 ? errfd : SYSG_SPAWN_DEVNULL,
		};

		dp->aux.done = aux_done;
		dp->aux.arg = dp;
		rc = cmd ? sysg_job_spawn(jobs, &dp->aux, &r, dp->timeout_ms, err,
					  sizeof(err)) : -ENOMEM;
	}
	if (out >= 0)
		close(out);
	if (errfd >= 0)
		close(errfd);
	free(cmd);
	sysg_env_free(env);
	if (rc < 0) {
		dp->pre_code = 127;
		reply(dp, json_pack("{s:i, s:i}", "rc", 0, "code", 127));
	}
}

static void op_start(struct deploy *dp, json_t *req)
{
	json_t *envj = json_object_get(req, "env");
	size_t n = json_array_size(envj), i;
	const char **env = calloc(n + 1, sizeof(*env));
	struct sysg_inst_info in;
	char err[512] = "";
	int64_t id = 0;
	int rc;

	if (!env || dp->ncands >= MAX_CANDS) {
		free(env);
		reply_rc(dp, -ENOMEM, "too many instances");
		return;
	}
	for (i = 0; i < n; i++)
		env[i] = json_string_value(json_array_get(envj, i));
	rc = sysg_inst_start(dp->ds->o.sup, dp->service, dp->def,
			     project_dir(dp), env, on_inst, dp, &id, err,
			     sizeof(err));
	free(env);
	if (rc == 0) {
		dp->cand_env[dp->ncands] = json_incref(envj);
		dp->cands[dp->ncands++] = id;
		if (sysg_inst_info(dp->ds->o.sup, id, &in) == 0)
			journal_pid(dp, in.pid);
		journal(dp, "candidate started");
	}
	reply(dp, json_pack("{s:i, s:I, s:s}", "rc", rc, "inst", (json_int_t)id,
			    "err", err));
}

/* --- wait_ready --- */

static void probe_next(struct sysg_timer *t);

static void wait_fail(struct deploy *dp, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void wait_fail(struct deploy *dp, int rc, const char *fmt, ...)
{
	char err[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, sizeof(err), fmt, ap);
	va_end(ap);
	sysg_job_cancel(&dp->aux);
	reply_rc(dp, rc, err);
}

static void wait_cleanup(struct deploy *dp)
{
	free(dp->wait_url);
	free(dp->wait_cmd);
	sysg_env_free(dp->wait_env);
	dp->wait_url = dp->wait_cmd = NULL;
	dp->wait_env = NULL;
}

/* The candidate's state decides, or the wait goes on. */
static void wait_check(struct deploy *dp)
{
	struct sysg_inst_info in;

	if (sysg_inst_info(dp->ds->o.sup, dp->wait_inst, &in) < 0) {
		wait_cleanup(dp);
		wait_fail(dp, -ENOENT, "no such instance");
		return;
	}
	if (in.exited || in.gone || (!in.running && !in.current)) {
		wait_cleanup(dp);
		if (in.addr_in_use)
			wait_fail(dp, -EADDRINUSE, "the new instance could not "
				  "bind its address (Address already in use)");
		else if (in.has_signal)
			wait_fail(dp, -ECHILD, "the new instance was killed by "
				  "signal %d before it was ready", in.signo);
		else if (in.has_code)
			wait_fail(dp, -ECHILD, "the new instance exited with "
				  "code %d before it was ready", in.code);
		else
			wait_fail(dp, -ECHILD, "the new instance is gone");
	}
}

static void probe_start(struct deploy *dp)
{
	struct sysg_jobs *jobs = sysg_supervisor_jobs(dp->ds->o.sup);
	int64_t left = dp->wait_deadline - sysg_now_ms();
	int64_t t = dp->def->deployment.health.timeout_ms;
	char err[512];

	if (t <= 0 || t > left)
		t = left > 0 ? left : 1;
	dp->aux.done = aux_done;
	dp->aux.arg = dp;
	if (sysg_health_attempt(jobs, &dp->aux, dp->wait_cmd, dp->wait_url, t,
				dp->wait_env, project_dir(dp), err,
				sizeof(err)) < 0)
		aux_done(&dp->aux, 1 << 8, 0);
}

static void probe_next(struct sysg_timer *t)
{
	struct deploy *dp = t->arg;

	if (dp->op && !strcmp(dp->op, "wait_ready"))
		probe_start(dp);
}

static void settle_done(struct sysg_timer *t)
{
	struct deploy *dp = t->arg;
	struct sysg_inst_info in;

	wait_check(dp);
	if (!dp->op)
		return;
	if (sysg_inst_info(dp->ds->o.sup, dp->wait_inst, &in) == 0 &&
	    (in.running || in.current)) {
		wait_cleanup(dp);
		reply_rc(dp, 0, NULL);
	}
}

static void wait_probe_result(struct deploy *dp, int passed)
{
	int64_t now = sysg_now_ms();

	wait_check(dp);
	if (!dp->op)
		return;
	if (passed) {
		wait_cleanup(dp);
		reply_rc(dp, 0, NULL);
		return;
	}
	if (now >= dp->wait_deadline) {
		wait_cleanup(dp);
		wait_fail(dp, -ETIMEDOUT, "the new instance did not become "
			  "healthy in time");
		return;
	}
	/* soon at first (a fresh process binds within milliseconds), then
	 * every interval */
	dp->wait_next = dp->wait_next ? dp->wait_next * 2 : 50;
	if (dp->wait_next > dp->wait_interval)
		dp->wait_next = dp->wait_interval;
	sysg_timer_start(loop_of(dp), &dp->timer, dp->wait_next, probe_next, dp);
}

static void op_wait_ready(struct deploy *dp, json_t *req)
{
	const struct sysg_service *def = dp->def;
	const char *url = json_string_value(json_object_get(req, "url"));
	int64_t timeout = json_integer_value(json_object_get(req, "timeout_ms"));
	int retries = (int)json_integer_value(json_object_get(req, "retries"));
	int k;

	dp->wait_inst = json_integer_value(json_object_get(req, "inst"));
	dp->wait_next = 0;
	k = is_cand(dp, dp->wait_inst);
	dp->wait_env = env_with(dp, k >= 0 ? dp->cand_env[k] : NULL);
	if (timeout <= 0)
		timeout = SYSG_HEALTH_TIMEOUT_MS;
	dp->wait_deadline = sysg_now_ms() + timeout * (retries > 0 ? retries : 1);
	dp->wait_interval = def->deployment.health.interval_ms > 0 ?
			    def->deployment.health.interval_ms : 1000;
	if (url && *url) {
		dp->wait_url = sysg_env_expand(url, dp->wait_env);
	} else if (def->health.present && (def->health.url || def->health.command)) {
		const char *raw = def->health.command ? def->health.command :
				  def->health.url;
		char *e = sysg_env_expand(raw, dp->wait_env);

		if (def->health.command)
			dp->wait_cmd = e;
		else
			dp->wait_url = e;
		dp->wait_interval = def->health.interval_ms > 0 ?
				    def->health.interval_ms : 1000;
		dp->wait_deadline = sysg_now_ms() + def->health.timeout_ms *
				    (def->health.retries > 0 ? def->health.retries : 1);
	} else {
		sysg_timer_start(loop_of(dp), &dp->timer, def->ready_after_ms,
				 settle_done, dp);
		wait_check(dp);
		return;
	}
	wait_check(dp);
	if (dp->op)
		probe_start(dp);
}

/* --- http_check, run, pre_start completion --- */

static void op_http_check(struct deploy *dp, json_t *req)
{
	const char *url = json_string_value(json_object_get(req, "url"));
	int64_t t = json_integer_value(json_object_get(req, "timeout_ms"));
	struct sysg_jobs *jobs = sysg_supervisor_jobs(dp->ds->o.sup);
	char err[512];

	dp->wait_url = strdup(url ? url : "");
	dp->aux.done = aux_done;
	dp->aux.arg = dp;
	if (!dp->wait_url ||
	    sysg_health_attempt(jobs, &dp->aux, NULL, dp->wait_url,
				t > 0 ? t : SYSG_HEALTH_TIMEOUT_MS, NULL,
				project_dir(dp), err, sizeof(err)) < 0) {
		wait_cleanup(dp);
		reply_rc(dp, -EIO, "cannot run the HTTP check");
	}
}

static const char *env_value(const json_t *env, const char *key)
{
	size_t i, kl = strlen(key);
	json_t *e;

	json_array_foreach((json_t *)env, i, e) {
		const char *s = json_string_value(e);

		if (s && !strncmp(s, key, kl) && s[kl] == '=')
			return s + kl + 1;
	}
	return NULL;
}

static void op_run(struct deploy *dp, json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "command"));
	const json_t *envj = json_object_get(req, "env");
	int64_t t = json_integer_value(json_object_get(req, "timeout_ms"));
	struct sysg_jobs *jobs = sysg_supervisor_jobs(dp->ds->o.sup);
	const struct sysg_log *logdir = sysg_supervisor_log(dp->ds->o.sup);
	const char *to = env_value(envj, "SYSG_CANDIDATE_SLOT");
	const char *from = env_value(envj, "SYSG_ACTIVE_SLOT");
	char **env = env_with(dp, envj), err[512];
	int out = sysg_log_open_service(logdir, dp->service, "stdout");
	int errfd = sysg_log_open_service(logdir, dp->service, "stderr");
	struct sysg_spawn_req r = {
		.command = cmd, .force_shell = 1, .envp = env,
		.cwd = project_dir(dp), .cgroup_fd = -1,
		.out_fd = out >= 0 ? out : SYSG_SPAWN_DEVNULL,
		.err_fd = errfd >= 0 ? errfd : SYSG_SPAWN_DEVNULL,
	};
	int rc;

	dp->run_is_switch = to != NULL;
	snprintf(dp->run_to, sizeof(dp->run_to), "%s", to ? to : "");
	snprintf(dp->run_from, sizeof(dp->run_from), "%s", from ? from : "");
	dp->aux.done = aux_done;
	dp->aux.arg = dp;
	rc = env && cmd ? sysg_job_spawn(jobs, &dp->aux, &r, t, err, sizeof(err)) :
	     -ENOMEM;
	if (out >= 0)
		close(out);
	if (errfd >= 0)
		close(errfd);
	sysg_env_free(env);
	if (rc < 0)
		reply_rc(dp, rc, rc == -ENOMEM ? "out of memory" : err);
}

static void run_done(struct deploy *dp, int status, int timed_out)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) :
		   128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	int ok = !timed_out && code == 0;

	if (dp->run_is_switch) {
		if (ok) {
			dp->switched_ok++;
			snprintf(dp->traffic_slot, sizeof(dp->traffic_slot),
				 "%s", dp->run_to);
		} else if (dp->switched_ok) {
			/* switching back from the slot traffic went to */
			dp->switch_back_failed = 1;
			snprintf(dp->traffic_slot, sizeof(dp->traffic_slot),
				 "%s", dp->run_from);
		}
	}
	if (timed_out)
		reply(dp, json_pack("{s:i, s:i, s:s}", "rc", -ETIMEDOUT,
				    "code", code, "err",
				    "the command timed out"));
	else
		reply(dp, json_pack("{s:i, s:i}", "rc", 0, "code", code));
}

static void aux_done(struct sysg_job *j, int status, int timed_out)
{
	struct deploy *dp = j->arg;
	int passed = !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;

	if (!dp->op)
		return;
	if (!strcmp(dp->op, "watch")) {
		watch_probe_done(dp, passed);
	} else if (!strcmp(dp->op, "wait_ready")) {
		wait_probe_result(dp, passed);
	} else if (!strcmp(dp->op, "http_check")) {
		char err[600];

		snprintf(err, sizeof(err), "%s did not answer 2xx",
			 dp->wait_url ? dp->wait_url : "the URL");
		wait_cleanup(dp);
		reply_rc(dp, passed ? 0 : -EIO, passed ? NULL : err);
	} else if (!strcmp(dp->op, "run")) {
		run_done(dp, status, timed_out);
	} else if (!strcmp(dp->op, "pre_start")) {
		int code = WIFEXITED(status) ? WEXITSTATUS(status) :
			   128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);

		dp->pre_code = code;
		reply(dp, json_pack("{s:i, s:i}", "rc", 0, "code", code));
	}
}

/* --- promote, stop --- */

static void op_promote(struct deploy *dp, json_t *req)
{
	int64_t id = json_integer_value(json_object_get(req, "inst"));
	char err[512] = "";
	int64_t retired = 0;
	int rc;

	if (is_cand(dp, id) < 0) {
		reply_rc(dp, -EINVAL, "not a candidate of this deploy");
		return;
	}
	{
		struct sysg_inst_info in;
		uint64_t ticks = 0;

		if (sysg_inst_info(dp->ds->o.sup, id, &in) == 0 && in.pid > 0 &&
		    sysg_proc_start_ticks_of(in.pid, &ticks) == 0) {
			json_decref(dp->journal_promote);
			dp->journal_promote = json_pack("{s:i, s:I}", "pid",
				(int)in.pid, "ticks", (json_int_t)ticks);
		}
	}
	journal(dp, "promote");
	rc = sysg_inst_promote(dp->ds->o.sup, id, dp->def, dp->cfg, &retired,
			       err, sizeof(err));
	if (rc == 0) {
		dp->cfg = NULL;         /* the supervisor's now */
		dp->promoted = id;
		journal(dp, "promoted");
	}
	reply_rc(dp, rc, err);
}

static void op_stop(struct deploy *dp, json_t *req)
{
	int64_t id = json_integer_value(json_object_get(req, "inst"));
	int rc;

	if (id == dp->promoted) {
		reply_rc(dp, -EBUSY, "that instance is the service's now");
		return;
	}
	dp->wait_inst = id;
	journal(dp, "stop");
	rc = sysg_inst_stop(dp->ds->o.sup, id, on_inst, dp);
	/* done at once (maybe answered by on_inst already) */
	if (rc != 0 && dp->req == req)
		reply_rc(dp, rc < 0 ? rc : 0, rc < 0 ? "no such instance" : NULL);
}

/* --- small ones --- */

static void timer_reply(struct sysg_timer *t)
{
	struct deploy *dp = t->arg;

	if (dp->op && !strcmp(dp->op, "operator_wait"))
		reply(dp, json_pack("{s:i, s:i}", "rc", 0, "operator",
				    SYSG_OPERATOR_NONE));
	else if (dp->op)
		reply_rc(dp, 0, NULL);
}

static void op_kv(struct deploy *dp, json_t *req, int set)
{
	const char *key = json_string_value(json_object_get(req, "key"));
	const char *val = json_string_value(json_object_get(req, "value"));
	char k[512], buf[4096];
	int rc;

	if (!dp->ds->o.st) {
		reply_rc(dp, -ENOSYS, "no state backend");
		return;
	}
	snprintf(k, sizeof(k), "strategy:%s:%s", dp->service, key ? key : "");
	if (set) {
		reply_rc(dp, sysg_state_kv_set(dp->ds->o.st, k, val), NULL);
		return;
	}
	rc = sysg_state_kv_get(dp->ds->o.st, k, buf, sizeof(buf));
	reply(dp, json_pack("{s:i, s:s?}", "rc", rc, "value",
			    rc == 0 ? buf : NULL));
}

static void op_operator_wait(struct deploy *dp, json_t *req)
{
	int64_t ms = json_integer_value(json_object_get(req, "ms"));

	if (dp->pending_cmd) {
		int c = dp->pending_cmd;

		dp->pending_cmd = 0;
		reply(dp, json_pack("{s:i, s:i}", "rc", 0, "operator", c));
		return;
	}
	if (!dp->paused)
		sysg_timer_start(loop_of(dp), &dp->timer, ms > 0 ? ms : 0,
				 timer_reply, dp);
}

/* Requests that make progress are refused once an abort was asked. */
static int cancelled_op(const char *op)
{
	static const char *const ops[] = { "pre_start", "start", "wait_ready",
					   "http_check", "promote", "sleep",
					   NULL };

	for (size_t i = 0; ops[i]; i++)
		if (!strcmp(op, ops[i]))
			return 1;
	return 0;
}

static void serve(struct deploy *dp, json_t *req)
{
	const char *op = json_string_value(json_object_get(req, "op"));

	if (!op) {
		json_decref(req);
		kill_worker(dp, "malformed request");
		return;
	}
	if (!strcmp(op, "done")) {
		const char *e = json_string_value(json_object_get(req, "err"));

		dp->got_done = 1;
		dp->done_rc = (int)json_integer_value(json_object_get(req, "rc"));
		snprintf(dp->done_err, sizeof(dp->done_err), "%s", e ? e : "");
		json_decref(req);
		return;
	}
	if (dp->req) {          /* one request at a time */
		json_decref(req);
		kill_worker(dp, "a request while one is pending");
		return;
	}
	dp->req = req;
	dp->op = op;
	if (dp->aborting && !strcmp(op, "operator_wait")) {
		reply(dp, json_pack("{s:i, s:i}", "rc", 0, "operator",
				    SYSG_OPERATOR_ABORT));
		return;
	}
	if (dp->aborting && cancelled_op(op)) {
		reply_rc(dp, -ECANCELED, "the deploy was aborted");
		return;
	}
	if (!strcmp(op, "step"))
		op_step(dp, req);
	else if (!strcmp(op, "log"))
		op_log(dp, req);
	else if (!strcmp(op, "plan")) {
		dp->planned = (int)json_integer_value(json_object_get(req, "steps"));
		reply_rc(dp, 0, NULL);
	} else if (!strcmp(op, "current"))
		op_current(dp);
	else if (!strcmp(op, "pre_start"))
		op_pre_start(dp);
	else if (!strcmp(op, "start"))
		op_start(dp, req);
	else if (!strcmp(op, "wait_ready"))
		op_wait_ready(dp, req);
	else if (!strcmp(op, "http_check"))
		op_http_check(dp, req);
	else if (!strcmp(op, "promote"))
		op_promote(dp, req);
	else if (!strcmp(op, "stop"))
		op_stop(dp, req);
	else if (!strcmp(op, "run"))
		op_run(dp, req);
	else if (!strcmp(op, "sleep"))
		sysg_timer_start(loop_of(dp), &dp->timer, json_integer_value(
			json_object_get(req, "ms")), timer_reply, dp);
	else if (!strcmp(op, "kv_get"))
		op_kv(dp, req, 0);
	else if (!strcmp(op, "kv_set"))
		op_kv(dp, req, 1);
	else if (!strcmp(op, "set_slots")) {
		const char *b = json_string_value(json_object_get(req, "before"));
		const char *a = json_string_value(json_object_get(req, "after"));

		snprintf(dp->slot_before, sizeof(dp->slot_before), "%s", b ? b : "");
		snprintf(dp->slot_after, sizeof(dp->slot_after), "%s", a ? a : "");
		if (dp->dry_run)
			add_line(dp, "slots: %s -> %s", dp->slot_before,
				 dp->slot_after);
		reply_rc(dp, 0, NULL);
	} else if (!strcmp(op, "operator_wait"))
		op_operator_wait(dp, req);
	else
		reply_rc(dp, -ENOSYS, "unknown request");
}

static void on_io(struct sysg_io *io, uint32_t events)
{
	struct deploy *dp = io->arg;
	json_t *msg;
	int rc;

	(void)events;
	rc = sysg_link_fill(&dp->in, dp->fd);
	while (sysg_link_take(&dp->in, &msg) == 1)
		serve(dp, msg);
	if (rc < 0 && dp->io_on) {      /* the worker closed its end */
		sysg_loop_io_del(loop_of(dp), &dp->io);
		dp->io_on = 0;
	}
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
		outcome(dp, "aborted", "the supervisor stopped during the deploy");
	} else if (timed_out) {
		sysg_deploy_fmt_ms(dp->timeout_ms, d, sizeof(d));
		outcome(dp, "failed", "timed out after %s", d);
	} else if (!dp->got_done && WIFSIGNALED(status)) {
		outcome(dp, dp->aborting ? "aborted" : "failed",
			"strategy crashed (signal %d)", WTERMSIG(status));
	} else if (!dp->got_done) {
		outcome(dp, dp->aborting ? "aborted" : "failed",
			"the deploy worker exited with code %d without an answer",
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	} else if (dp->done_rc == 0 && dp->watch_failed) {
		outcome(dp, "rolled_back", "%s", dp->watch_why);
	} else if (dp->done_rc == 0 && !dp->switch_back_failed) {
		outcome(dp, "success", "%s", "");
	} else if (dp->switch_back_failed) {
		outcome(dp, "failed", "switch-back failed, traffic may point at %s",
			dp->traffic_slot);
	} else if (dp->aborting) {
		outcome(dp, "aborted", "aborted by uid %d%s%s", (int)dp->abort_uid,
			dp->done_err[0] ? ": " : "", dp->done_err);
	} else if (dp->switched_ok >= 2) {
		outcome(dp, "rolled_back", "%s", dp->done_err);
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
		if (id == dp->promoted) {
			sysg_inst_release(sup, id);
			continue;
		}
		if (sysg_inst_stop(sup, id, on_orphan_gone, dp->ds) != 0)
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
			serve(dp, msg);
		else
			json_decref(msg);
	}
}

static void finish(struct deploy *dp, int status, int timed_out)
{
	struct sysg_supervisor *sup = dp->ds->o.sup;

	if (dp->req || dp->op) {
		sysg_job_cancel(&dp->aux);
		json_decref(dp->req);
		dp->req = NULL;
		dp->op = NULL;
	}
	wait_cleanup(dp);
	sysg_timer_stop(loop_of(dp), &dp->timer);
	sysg_timer_stop(loop_of(dp), &dp->killer);
	if (dp->io_on)
		sysg_loop_io_del(loop_of(dp), &dp->io);
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
		sysg_inst_deploy_failed(sup, dp->service, why,
					dp->pre_code && !dp->promoted,
					dp->pre_code, dp->switch_back_failed);
	}
	dp->finished = 1;
	dp->exit_code = !strcmp(dp->outcome, "success") ? 0 : 1;
	if (dp->dry_run) {
		add_line(dp, "dry run: nothing was changed");
	} else if (dp->exit_code == 0 && !dp->record) {   /* a restart */
		struct sysg_unit_record u;

		if (sysg_supervisor_get(sup, dp->service, &u) == 0)
			add_line(dp, "%s: %s (pid %lld)", dp->service, u.status,
				 (long long)u.pid);
	} else if (dp->exit_code == 0)
		add_line(dp, "deploy %s of %s: success (%.1f s)", dp->id,
			 dp->service, elapsed_s(dp));
	else
		add_line(dp, "deploy %s of %s: %s%s%s", dp->id, dp->service,
			 dp->outcome, dp->reason[0] ? ": " : "", dp->reason);
	write_record(dp);
	journal_clear(dp);
	unlink_live(dp);
	keep_done(dp);
	news(dp->ds);
}

/* ------------------------------------------------------------------ */
/* deployment.min_healthy_time                                         */
/* ------------------------------------------------------------------ */

struct pick {
	const char *to;                 /* an id, or NULL */
	const char *skip_rev;           /* the running revision */
	struct sysg_deploy_record *out;
	int found;
};

static int pick_cb(void *arg, const struct sysg_deploy_record *d)
{
	struct pick *p = arg;

	if (p->to ? strcmp(d->id, p->to) :
	    (strcmp(d->outcome, "success") || !strcmp(d->revision, p->skip_rev)))
		return 0;
	memcpy(p->out, d, sizeof(*d));
	p->found = 1;
	return 1;
}

int sysg_deploy_rollback_config(struct sysg_deploys *ds, const char *svc,
				const char *to, struct sysg_config **cfg,
				char *rid, char *err, size_t errlen)
{
	struct sysg_deploy_record *r = malloc(sizeof(*r));
	char running[16];
	struct pick p = { to, running, r, 0 };
	int rc;

	*cfg = NULL;
	if (!r)
		return -ENOMEM;
	snprintf(running, sizeof(running), "%s",
		 sysg_deploy_running_revision(ds, svc));
	if (ds->o.st)
		sysg_state_list_deploys(ds->o.st, svc, pick_cb, &p);
	if (!p.found) {
		if (to)
			snprintf(err, errlen, "no deploy %s of %s in the history",
				 to, svc);
		else
			snprintf(err, errlen, "no earlier successful deploy of %s "
				 "to roll back to", svc);
		free(r);
		return -ENOENT;
	}
	snprintf(rid, 64, "%s", r->id);
	rc = sysg_deploy_definition_config(r->definition, cfg, err, errlen);
	free(r);
	return rc;
}

/* DP's new instance failed within min_healthy_time: redeploy the
 * previous successful revision through the strategy. */
static void rollback_after(struct deploy *dp)
{
	struct sysg_deploy_req r = {
		.service = dp->service, .uid = dp->uid,
	};
	char rid[64], msg[128], id[64], err[1024];
	int rc;

	snprintf(msg, sizeof(msg), "automatic rollback of %s", dp->id);
	r.message = msg;
	rc = sysg_deploy_rollback_config(dp->ds, dp->service, NULL, &r.cfg, rid,
					 err, sizeof(err));
	r.rollback_of = rid;
	if (rc == 0)
		rc = sysg_deploy_begin(dp->ds, &r, id, sizeof(id), err,
				       sizeof(err));
	if (rc < 0) {
		snprintf(dp->outcome, sizeof(dp->outcome), "failed");
		snprintf(dp->reason, sizeof(dp->reason), "%.100s; cannot roll "
			 "back: %.120s", dp->watch_why, err);
		add_line(dp, "cannot roll back: %s", err);
	} else {
		snprintf(dp->reason, sizeof(dp->reason), "%.100s; rolled back "
			 "by deploy %.63s", dp->watch_why, id);
		add_line(dp, "rolling back to %s: deploy %s", rid, id);
	}
	write_record(dp);
}

static void watch_end(struct deploy *dp, const char *why)
{
	dp->watching = 0;
	sysg_supervisor_unsubscribe(dp->ds->o.sup, dp->watch_sub);
	sysg_timer_stop(loop_of(dp), &dp->timer);
	sysg_timer_stop(loop_of(dp), &dp->watch_timer);
	sysg_job_cancel(&dp->aux);
	if (why) {
		dp->watch_failed = 1;
		snprintf(dp->watch_why, sizeof(dp->watch_why), "%s", why);
		add_line(dp, "the new instance failed within min_healthy_time: "
			 "%s", why);
	}
	finish(dp, 0, 0);
	if (why)
		rollback_after(dp);
}

/* The service changed while watched: it must stay running. */
static void watch_change(void *arg, const struct sysg_unit_change *ch)
{
	struct deploy *dp = arg;

	if (dp->watching && ch->kind == SYSG_CHANGE_UNIT &&
	    !strcmp(ch->name, dp->service) &&
	    ch->new_status != SYSG_STATUS_RUNNING)
		watch_end(dp, "it stopped running");
}

static void watch_done(struct sysg_timer *t)
{
	struct deploy *dp = t->arg;

	add_line(dp, "the new instance stayed healthy for min_healthy_time "
		 "(%.1f s)", elapsed_s(dp));
	watch_end(dp, NULL);
}

static void watch_probe(struct sysg_timer *t)
{
	struct deploy *dp = t->arg;
	struct sysg_jobs *jobs = sysg_supervisor_jobs(dp->ds->o.sup);
	const struct sysg_health *h = &dp->def->deployment.health;
	char err[256];

	dp->aux.done = aux_done;
	dp->aux.arg = dp;
	if (sysg_health_attempt(jobs, &dp->aux, NULL, h->url, h->timeout_ms,
				NULL, project_dir(dp), err, sizeof(err)) < 0)
		watch_end(dp, "its health check cannot run");
}

/* A probe of the deployment health check while watching. */
static void watch_probe_done(struct deploy *dp, int passed)
{
	const struct sysg_health *h = &dp->def->deployment.health;

	if (!dp->watching)
		return;
	if (!passed) {
		watch_end(dp, "its health check failed");
		return;
	}
	sysg_timer_start(loop_of(dp), &dp->timer, h->interval_ms > 0 ?
			 h->interval_ms : 1000, watch_probe, dp);
}

/* The worker ended well after a promote: watch the new instance for
 * deployment.min_healthy_time (its process stays the service's and
 * running, and the deployment health check, if any, passes) before the
 * deploy counts as done. */
static int watch_begin(struct deploy *dp)
{
	struct sysg_unit_record u;
	int64_t ms = dp->def->deployment.min_healthy_time_ms;

	if (ms <= 0 || !dp->promoted || dp->dry_run || dp->done_rc != 0 ||
	    dp->switch_back_failed || dp->aborting ||
	    sysg_supervisor_get(dp->ds->o.sup, dp->service, &u) < 0)
		return 0;
	if (strcmp(u.status, "running"))
		return 0;
	dp->watch_sub = sysg_supervisor_subscribe(dp->ds->o.sup, watch_change,
						  dp);
	if (dp->watch_sub < 0)
		return 0;
	dp->watching = 1;
	dp->watch_pid = (pid_t)u.pid;
	dp->op = "watch";
	add_line(dp, "[%d/%d] watch the new instance for min_healthy_time "
		 "(%.1f s)", dp->steps + 1, dp->steps + 1, elapsed_s(dp));
	sysg_timer_start(loop_of(dp), &dp->watch_timer, ms, watch_done, dp);
	if (dp->def->deployment.health.url)
		sysg_timer_start(loop_of(dp), &dp->timer, 0, watch_probe, dp);
	return 1;
}

static void worker_done(struct sysg_job *j, int status, int timed_out)
{
	struct deploy *dp = j->arg;

	drain(dp);
	if (!timed_out && dp->got_done && watch_begin(dp))
		return;
	finish(dp, status, timed_out);
}

/* ------------------------------------------------------------------ */
/* Starting a deploy                                                   */
/* ------------------------------------------------------------------ */

static int setup_fd(void *arg)
{
	int fd = *(int *)arg;

	return dup2(fd, 0) < 0 ? errno : 0;
}

static json_t *setup_msg(struct deploy *dp)
{
	json_t *dirs = json_array();
	const struct sysg_plugin_path *pp = dp->ds->o.pp;

	for (size_t i = 0; dirs && pp && i < pp->n; i++)
		json_array_append_new(dirs, json_string(pp->dirs[i]));
	return json_pack("{s:s, s:b, s:s, s:s, s:o*, s:o*}",
			 "op", "setup", "dry_run", dp->dry_run,
			 "state_dir", dp->ds->o.state_dir,
			 "project_dir", project_dir(dp),
			 "plugin_dirs", dirs,
			 "settings", sysg_deploy_settings_json(dp->def,
							       dp->strategy));
}

static int spawn_worker(struct deploy *dp, char *err, size_t errlen)
{
	struct sysg_jobs *jobs = sysg_supervisor_jobs(dp->ds->o.sup);
	char cmd[4200];
	int sv[2], rc;
	json_t *m;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -errno;
	}
	snprintf(cmd, sizeof(cmd), "%s %s", dp->ds->o.worker_exe ?
		 dp->ds->o.worker_exe : "/proc/self/exe",
		 SYSG_DEPLOY_WORKER_CMD);
	{
		struct sysg_spawn_req r = {
			.command = cmd, .cgroup_fd = -1,
			.out_fd = SYSG_SPAWN_DEVNULL, .err_fd = SYSG_SPAWN_DEVNULL,
			.child_setup = setup_fd, .child_arg = &sv[1],
		};

		dp->job.done = worker_done;
		dp->job.arg = dp;
		rc = sysg_job_spawn(jobs, &dp->job, &r, dp->timeout_ms, err,
				    errlen);
	}
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
	dp->io.cb = on_io;
	dp->io.arg = dp;
	if (rc == 0 && (rc = sysg_loop_io_add(loop_of(dp), &dp->io, EPOLLIN)) == 0)
		dp->io_on = 1;
	if (rc < 0) {
		snprintf(err, errlen, "cannot talk to the deploy worker: %s",
			 strerror(-rc));
		sysg_job_kill(&dp->job);        /* worker_done follows */
	}
	return 0;
}

static struct deploy *live_of(struct sysg_deploys *ds, const char *service)
{
	for (struct deploy *dp = ds->live; dp; dp = dp->next)
		if (!service || !strcmp(dp->service, service))
			return dp;
	return NULL;
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
	struct deploy *dp = ds ? live_of(ds, service) : NULL;

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
	int k, rc;

	if (sysg_deploy_busy(ds, r->service, err, errlen)) {
		sysg_config_free(cfg);
		return -EBUSY;
	}
	k = sysg_config_find_service(cfg ? cfg : running, r->service);
	if (k < 0 || sysg_config_find_service(running, r->service) < 0) {
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
			 dp->def->deployment.timeout_ms : SYSG_DEPLOY_TIMEOUT_MS;
	sysg_deploy_revision(dp->def, dp->revision);
	make_id(ds, dp);
	dp->definition = malloc(SYSG_DEFINITION_MAX);
	if (dp->definition)
		sysg_deploy_definition(dp->def, cfg ? cfg : running, r->cfg_text,
				       dp->definition, SYSG_DEFINITION_MAX);
	dp->next = ds->live;
	ds->live = dp;
	add_line(dp, "%sdeploy %s: %s with %s, revision %s%s%s", dp->dry_run ?
		 "dry run of " : "", dp->id, dp->service, dp->strategy,
		 dp->revision, r->rollback_of ? ", rolling back to " : "",
		 r->rollback_of ? r->rollback_of : "");
	write_record(dp);
	journal(dp, "begin");
	rc = spawn_worker(dp, err, errlen);
	if (rc < 0) {
		unlink_live(dp);
		journal_clear(dp);
		snprintf(dp->outcome, sizeof(dp->outcome), "failed");
		snprintf(dp->reason, sizeof(dp->reason), "%s", err);
		dp->finished = 1;
		write_record(dp);
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
	kill_worker(t->arg, "it did not end after --abort");
}

int sysg_deploy_operator(struct sysg_deploys *ds, const char *service, int cmd,
			 char *err, size_t errlen)
{
	struct deploy *dp = live_of(ds, service);

	if (!dp) {
		snprintf(err, errlen, "no deploy of %s is running", service);
		return -ENOENT;
	}
	switch (cmd) {
	case SYSG_OPERATOR_ABORT:
		if (dp->aborting)
			return 0;
		dp->aborting = 1;
		add_line(dp, "abort requested");
		sysg_timer_start(loop_of(dp), &dp->killer, ABORT_GRACE_MS,
				 abort_kill, dp);
		if (dp->op && !strcmp(dp->op, "operator_wait"))
			reply(dp, json_pack("{s:i, s:i}", "rc", 0, "operator",
					    SYSG_OPERATOR_ABORT));
		else if (dp->op && cancelled_op(dp->op)) {
			sysg_job_cancel(&dp->aux);
			wait_cleanup(dp);
			reply_rc(dp, -ECANCELED, "the deploy was aborted");
		}
		return 0;
	case SYSG_OPERATOR_PROMOTE:
		add_line(dp, "promote requested");
		dp->paused = 0;
		if (dp->op && !strcmp(dp->op, "operator_wait"))
			reply(dp, json_pack("{s:i, s:i}", "rc", 0, "operator",
					    SYSG_OPERATOR_PROMOTE));
		else
			dp->pending_cmd = SYSG_OPERATOR_PROMOTE;
		return 0;
	case SYSG_DEPLOY_PAUSE:
		add_line(dp, "paused");
		dp->paused = 1;
		if (dp->op && !strcmp(dp->op, "operator_wait"))
			sysg_timer_stop(loop_of(dp), &dp->timer);
		return 0;
	case SYSG_DEPLOY_RESUME:
		if (!dp->paused)
			return 0;
		add_line(dp, "resumed");
		dp->paused = 0;
		if (dp->op && !strcmp(dp->op, "operator_wait"))
			reply(dp, json_pack("{s:i, s:i}", "rc", 0, "operator",
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
			add_line(dp, "the supervisor is stopping: abort");
			kill_worker(dp, "the supervisor is stopping");
			if (dp->watching)
				watch_end(dp, NULL);
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
		finish(dp, SIGKILL, 0);
	}
	while (ds->done) {
		struct deploy *dp = ds->done;

		ds->done = dp->next;
		deploy_free(dp);
	}
	sysg_supervisor_unsubscribe(ds->o.sup, ds->sub);
	free(ds);
}

struct find_rec {
	const char *id;
	struct sysg_deploy_record *out;
	int found;
};

static int find_rec_cb(void *arg, const struct sysg_deploy_record *d)
{
	struct find_rec *f = arg;

	if (strcmp(d->id, f->id))
		return 0;
	*f->out = *d;
	f->found = 1;
	return 1;
}

/* Finish one journaled deploy of NAME (JOURNAL: its JSON). */
static void recover_one(struct sysg_deploys *ds, const char *name, json_t *j)
{
	const char *id = json_string_value(json_object_get(j, "id"));
	struct sysg_deploy_record *r = calloc(1, sizeof(*r));
	struct sysg_unit_record u;
	struct find_rec f = { id, r, 0 };
	pid_t cur = 0;
	size_t i;
	json_t *p;

	if (!id || !r) {
		free(r);
		return;
	}
	if (sysg_supervisor_get(ds->o.sup, name, &u) == 0)
		cur = (pid_t)u.pid;
	json_array_foreach(json_object_get(j, "pids"), i, p) {
		pid_t pid = (pid_t)json_integer_value(json_object_get(p, "pid"));
		uint64_t ticks = (uint64_t)json_integer_value(
			json_object_get(p, "ticks"));
		int64_t iid;

		if (pid > 0 && pid != cur &&
		    sysg_inst_adopt_stop(ds->o.sup, name, pid, ticks,
					 on_orphan_gone, ds, &iid) == 0)
			sysg_log(sysg_supervisor_log(ds->o.sup), SYSG_LOG_WARN,
				 "Deploy %s of %s was interrupted: stopping "
				 "pid %d", id, name, (int)pid);
	}
	sysg_state_list_deploys(ds->o.st, name, find_rec_cb, &f);
	if (!f.found) {
		snprintf(r->id, sizeof(r->id), "%s", id);
		snprintf(r->service, sizeof(r->service), "%s", name);
		snprintf(r->strategy, sizeof(r->strategy), "%s",
			 json_string_value(json_object_get(j, "strategy")) ?: "");
		r->started_at_ms = json_integer_value(
			json_object_get(j, "started_at_ms"));
	}
	snprintf(r->outcome, sizeof(r->outcome), "aborted");
	snprintf(r->reason, sizeof(r->reason), "the supervisor stopped "
		 "during the deploy (at: %s); kept pid %d",
		 json_string_value(json_object_get(j, "step")) ?: "?", (int)cur);
	r->duration_ms = sysg_wall_ms() - r->started_at_ms;
	sysg_state_add_deploy(ds->o.st, r);
	sysg_log(sysg_supervisor_log(ds->o.sup), SYSG_LOG_WARN, "Deploy %s of "
		 "%s marked aborted: %s", id, name, r->reason);
	free(r);
}

/* The journal of NAME's interrupted deploy (JSON, caller decrefs) or
 * NULL. */
static json_t *journal_of(struct sysg_deploys *ds, const char *name)
{
	char key[SYSG_NAME_MAX + 16], *buf = malloc(4096);
	json_t *j = NULL;

	snprintf(key, sizeof(key), "deploy:%s", name);
	if (buf && sysg_state_kv_get(ds->o.st, key, buf, 4096) == 0)
		j = json_loads(buf, 0, NULL);
	free(buf);
	return j;
}

int sysg_deploys_recover_prepare(struct sysg_deploys *ds)
{
	const struct sysg_config *cfg = sysg_supervisor_config(ds->o.sup);
	int n = 0;

	for (size_t i = 0; ds->o.st && i < cfg->nservices; i++) {
		const char *name = cfg->services[i].name;
		json_t *j = journal_of(ds, name);
		json_t *p = json_object_get(j, "promote");
		pid_t pid = (pid_t)json_integer_value(json_object_get(p, "pid"));
		uint64_t ticks = (uint64_t)json_integer_value(
			json_object_get(p, "ticks"));
		struct sysg_unit_record u;

		/* the promote was journaled before it was taken: it counts
		 * as done, whatever the unit record had time to say */
		if (pid > 0 && sysg_proc_is_alive(pid, ticks) &&
		    sysg_state_get_unit(ds->o.st, name, &u) == 0 &&
		    u.pid != pid) {
			u.pid = u.pgid = pid;
			u.start_ticks = ticks;
			snprintf(u.status, sizeof(u.status), "running");
			if (sysg_state_put_unit(ds->o.st, &u) == 0)
				n++;
			sysg_log(sysg_supervisor_log(ds->o.sup), SYSG_LOG_WARN,
				 "Deploy of %s was interrupted after its promote: "
				 "pid %d is the service's", name, (int)pid);
		}
		json_decref(j);
	}
	return n;
}

int sysg_deploys_recover(struct sysg_deploys *ds)
{
	const struct sysg_config *cfg = sysg_supervisor_config(ds->o.sup);
	char key[SYSG_NAME_MAX + 16];
	int n = 0;

	for (size_t i = 0; ds->o.st && i < cfg->nservices; i++) {
		const char *name = cfg->services[i].name;
		json_t *j = journal_of(ds, name);

		if (!j)
			continue;
		recover_one(ds, name, j);
		json_decref(j);
		snprintf(key, sizeof(key), "deploy:%s", name);
		sysg_state_kv_set(ds->o.st, key, NULL);
		n++;
	}
	return n;
}

const char *sysg_deploy_running_revision(struct sysg_deploys *ds,
					 const char *name)
{
	static char rev[16];
	struct sysg_service_info in;
	int k = sysg_supervisor_index(ds->o.sup, name);

	rev[0] = '\0';
	if (k >= 0 && sysg_supervisor_info(ds->o.sup, (size_t)k, &in) == 0 &&
	    in.cfg)
		sysg_deploy_revision(in.cfg, rev);
	return rev;
}
