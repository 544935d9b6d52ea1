/* serve.c - the worker's requests, carried out in the supervisor's loop (see
 * host.h) */
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
#include "link.h"
#include "record.h"
#include "worker.h"
#include "dep.h"

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

void dp_on_inst(void *arg, int64_t id)
{
	struct deploy *dp = arg;

	if (dp->op && !strcmp(dp->op, "wait_ready") && dp->wait_inst == id)
		wait_check(dp);
	else if (dp->op && !strcmp(dp->op, "stop") && dp->wait_inst == id)
		dp_reply_rc(dp, 0, NULL);
}

void dp_on_orphan_gone(void *arg, int64_t id)
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

const char *dp_project_dir(const struct deploy *dp)
{
	return dp->cfg ? dp->cfg->project_dir :
	       sysg_supervisor_config(dp->ds->o.sup)->project_dir;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

static void op_step(struct deploy *dp, json_t *req)
{
	const char *text = sysg_jstr(req, "text");
	int total;

	dp->steps++;
	total = dp->planned > dp->steps ? dp->planned : dp->steps;
	if (dp->dry_run)
		dp_add_line(dp, "[%d] %s", dp->steps, text ? text : "");
	else
		dp_add_line(dp, "[%d/%d] %s (%.1f s)", dp->steps, total,
			 text ? text : "", dp_elapsed_s(dp));
	dp_journal(dp, text ? text : "");
	dp_reply_rc(dp, 0, NULL);
}

static void op_log(struct deploy *dp, json_t *req)
{
	const char *msg = sysg_jstr(req, "msg");
	int level = (int)sysg_jint(req, "level");

	if (level <= SYSG_LOG_WARN)
		dp_add_line(dp, "%s: %s", level <= SYSG_LOG_ERROR ? "error" :
			 "warning", msg ? msg : "");
	else
		sysg_log(dp_log_of(dp), level, "Deploy %s: %s", dp->id,
			 msg ? msg : "");
	dp_reply_rc(dp, 0, NULL);
}

/* 1 when the journal notes no pid of copy K yet. */
static int journal_lacks(const struct deploy *dp, int k)
{
	size_t i;
	json_t *p;

	json_array_foreach(dp->journal_pids, i, p)
		if (sysg_jint(p, "copy") == k)
			return 0;
	return 1;
}

/* The copy a request names ("copy"), checked: -1 when there is none. */
static int copy_arg(const struct deploy *dp, json_t *req)
{
	int k = (int)sysg_jint(req, "copy");

	return k >= 0 && k < (dp->ncopies ? dp->ncopies : 1) ? k : -1;
}

static void op_current(struct deploy *dp, json_t *req)
{
	struct sysg_inst_info in;
	char name[SYSG_NAME_MAX + 16];
	int64_t id = 0;
	int k = copy_arg(dp, req), rc;

	if (k < 0) {
		dp_reply(dp, json_pack("{s:i, s:I}", "rc", -EINVAL, "inst", 0));
		return;
	}
	rc = sysg_inst_current(dp->ds->o.sup, dp_copy_name(dp, k, name,
							   sizeof(name)), &id);
	if (rc == 0 && id && sysg_inst_info(dp->ds->o.sup, id, &in) == 0 &&
	    in.pid > 0 && journal_lacks(dp, k)) {
		dp_journal_pid(dp, in.pid, k);
		dp_journal(dp, "current");
	}
	dp_reply(dp, json_pack("{s:i, s:I}", "rc", rc, "inst", (json_int_t)id));
}


static void op_pre_start(struct deploy *dp)
{
	const char *pre = dp->def->deployment.pre_start;
	struct sysg_jobs *jobs = sysg_supervisor_jobs(dp->ds->o.sup);
	const struct sysg_log *logdir = sysg_supervisor_log(dp->ds->o.sup);
	char **env, *cmd, err[512];
	int out, errfd, rc;

	if (!pre || !*pre) {
		dp_reply(dp, json_pack("{s:i, s:i}", "rc", 0, "code", 0));
		return;
	}
	env = env_with(dp, NULL);
	/* loaded in shell form: its shell expands it from ENV (as data) */
	cmd = env ? strdup(pre) : NULL;
	out = sysg_log_open_service(logdir, dp->service, "stdout");
	errfd = sysg_log_open_service(logdir, dp->service, "stderr");
	{
		struct sysg_spawn_req r = {
			.command = cmd, .force_shell = 1, .envp = env,
			.cwd = dp_project_dir(dp), .cgroup_fd = -1,
			.out_fd = out >= 0 ? out : SYSG_SPAWN_DEVNULL,
			.err_fd = errfd >= 0 ? errfd : SYSG_SPAWN_DEVNULL,
		};
		char **own = NULL;      /* as the service runs (privs.h) */

		dp->aux.done = dp_aux_done;
		dp->aux.arg = dp;
		rc = cmd && sysg_privs_helper_req(sysg_supervisor_privs(
				    dp->ds->o.sup, dp->service), &r, &own) == 0 ?
		     sysg_job_spawn(jobs, &dp->aux, &r, dp->timeout_ms, err,
				    sizeof(err)) : -ENOMEM;
		sysg_env_free(own);
	}
	if (out >= 0)
		close(out);
	if (errfd >= 0)
		close(errfd);
	free(cmd);
	sysg_env_free(env);
	if (rc < 0) {
		dp->pre_code = 127;
		dp_reply(dp, json_pack("{s:i, s:i}", "rc", 0, "code", 127));
	}
}

static void op_start(struct deploy *dp, json_t *req)
{
	json_t *envj = json_object_get(req, "env");
	size_t n = json_array_size(envj), i;
	const char **env = calloc(n + 1, sizeof(*env));
	const struct sysg_service *def;
	struct sysg_inst_info in;
	char err[512] = "", name[SYSG_NAME_MAX + 16];
	int64_t id = 0;
	int rc, k, prev;

	if (!env || dp->ncands >= MAX_CANDS) {
		free(env);
		dp_reply_rc(dp, -ENOMEM, "too many instances");
		return;
	}
	for (i = 0; i < n; i++)
		env[i] = json_string_value(json_array_get(envj, i));
	k = copy_arg(dp, req);
	prev = json_is_true(json_object_get(req, "previous"));
	def = k < 0 ? NULL : !dp->ncopies ? dp->def : prev ?
	      dp->copy_prev[k] : dp->copy_new[k];
	rc = def ? sysg_inst_start(dp->ds->o.sup, dp_copy_name(dp, k, name,
							       sizeof(name)),
				   def, dp_project_dir(dp), env, dp_on_inst,
				   dp, &id, err, sizeof(err)) : -EINVAL;
	if (!def)
		snprintf(err, sizeof(err), "no such copy");
	free(env);
	if (rc == 0) {
		dp->cand_env[dp->ncands] = json_incref(envj);
		dp->cand_copy[dp->ncands] = k;
		dp->cand_prev[dp->ncands] = prev;
		dp->cand_promoted[dp->ncands] = 0;
		dp->cands[dp->ncands++] = id;
		dp->started_any = 1;
		if (sysg_inst_info(dp->ds->o.sup, id, &in) == 0)
			dp_journal_pid(dp, in.pid, k);
		dp_journal(dp, "candidate started");
	}
	dp_reply(dp, json_pack("{s:i, s:I, s:s}", "rc", rc, "inst",
			       (json_int_t)id, "err", err));
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
	dp_reply_rc(dp, rc, err);
}

void dp_wait_cleanup(struct deploy *dp)
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
		dp_wait_cleanup(dp);
		wait_fail(dp, -ENOENT, "no such instance");
		return;
	}
	if (dp->wait_notify && in.ready && in.running) {
		dp->wait_notify = 0;
		dp_wait_cleanup(dp);
		dp_reply_rc(dp, 0, NULL);
		return;
	}
	if (in.exited || in.gone || (!in.running && !in.current)) {
		dp->wait_notify = 0;
		dp_wait_cleanup(dp);
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
	dp->aux.done = dp_aux_done;
	dp->aux.arg = dp;
	/* a health command runs as the service does (privs.h) */
	if (sysg_health_attempt(jobs, &dp->aux, dp->wait_cmd, dp->wait_url, t,
				dp->wait_env, dp_project_dir(dp), -1,
				sysg_supervisor_privs(dp->ds->o.sup, dp->service),
				err, sizeof(err)) < 0)
		dp_aux_done(&dp->aux, 1 << 8, 0);
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
		dp_wait_cleanup(dp);
		dp_reply_rc(dp, 0, NULL);
	}
}

static void notify_late(struct sysg_timer *t)
{
	struct deploy *dp = t->arg;

	wait_check(dp);
	if (dp->op && !strcmp(dp->op, "wait_ready")) {
		dp->wait_notify = 0;
		dp_wait_cleanup(dp);
		wait_fail(dp, -ETIMEDOUT, "the new instance sent no READY=1 "
			  "in time");
	}
}

static void wait_probe_result(struct deploy *dp, int passed)
{
	int64_t now = sysg_now_ms();

	wait_check(dp);
	if (!dp->op)
		return;
	if (passed) {
		dp_wait_cleanup(dp);
		dp_reply_rc(dp, 0, NULL);
		return;
	}
	if (now >= dp->wait_deadline) {
		dp_wait_cleanup(dp);
		wait_fail(dp, -ETIMEDOUT, "the new instance did not become "
			  "healthy in time");
		return;
	}
	/* soon at first (a fresh process binds within milliseconds), then
	 * every interval */
	dp->wait_next = dp->wait_next ? dp->wait_next * 2 : 50;
	if (dp->wait_next > dp->wait_interval)
		dp->wait_next = dp->wait_interval;
	sysg_timer_start(dp_loop_of(dp), &dp->timer, dp->wait_next, probe_next,
			 dp);
}

static void op_wait_ready(struct deploy *dp, json_t *req)
{
	const struct sysg_service *def = dp->def;
	const char *url = sysg_jstr(req, "url");
	int64_t timeout = sysg_jint(req, "timeout_ms");
	int retries = (int)sysg_jint(req, "retries");
	int k;

	dp->wait_inst = sysg_jint(req, "inst");
	dp->wait_next = 0;
	dp->wait_notify = 0;
	k = is_cand(dp, dp->wait_inst);
	dp->wait_env = env_with(dp, k >= 0 ? dp->cand_env[k] : NULL);
	if (timeout <= 0)
		timeout = SYSG_HEALTH_TIMEOUT_MS;
	if (retries < 1)
		retries = 1;
	dp->wait_deadline = sysg_now_ms() + timeout * retries;
	dp->wait_interval = def->deployment.health.interval_ms > 0 ?
			    def->deployment.health.interval_ms : 1000;
	if (url && *url) {
		dp->wait_url = sysg_env_expand(url, dp->wait_env);
	} else if (def->health.present &&
		   (def->health.url || def->health.command)) {
		const char *raw = def->health.command ? def->health.command :
				  def->health.url;
		/* a command is in shell form already (its shell expands it
		 * from the candidate's environment); a URL is plain text */
		char *e = def->health.command ? strdup(raw) :
			  sysg_env_expand(raw, dp->wait_env);

		if (def->health.command)
			dp->wait_cmd = e;
		else
			dp->wait_url = e;
		dp->wait_interval = def->health.interval_ms > 0 ?
				    def->health.interval_ms : 1000;
		dp->wait_deadline = sysg_now_ms() + def->health.timeout_ms *
				    (def->health.retries > 0 ?
				     def->health.retries : 1);
	} else if (def->readiness_notify) {     /* READY=1 (sd_notify) */
		dp->wait_notify = 1;
		sysg_timer_start(dp_loop_of(dp), &dp->timer,
				 SYSG_NOTIFY_READY_MS, notify_late, dp);
		wait_check(dp);
		return;
	} else {
		sysg_timer_start(dp_loop_of(dp), &dp->timer,
				 def->ready_after_ms,
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
	const char *url = sysg_jstr(req, "url");
	int64_t t = sysg_jint(req, "timeout_ms");
	struct sysg_jobs *jobs = sysg_supervisor_jobs(dp->ds->o.sup);
	char err[512];

	dp->wait_url = strdup(url ? url : "");
	dp->aux.done = dp_aux_done;
	dp->aux.arg = dp;
	if (!dp->wait_url ||
	    sysg_health_attempt(jobs, &dp->aux, NULL, dp->wait_url,
				t > 0 ? t : SYSG_HEALTH_TIMEOUT_MS, NULL,
				dp_project_dir(dp), -1, NULL, err,
				sizeof(err)) < 0) {
		dp_wait_cleanup(dp);
		dp_reply_rc(dp, -EIO, "cannot run the HTTP check");
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
	const char *cmd = sysg_jstr(req, "command");
	const json_t *envj = json_object_get(req, "env");
	int64_t t = sysg_jint(req, "timeout_ms");
	struct sysg_jobs *jobs = sysg_supervisor_jobs(dp->ds->o.sup);
	const struct sysg_log *logdir = sysg_supervisor_log(dp->ds->o.sup);
	const char *to = env_value(envj, "SYSG_CANDIDATE_SLOT");
	const char *from = env_value(envj, "SYSG_ACTIVE_SLOT");
	char **env = env_with(dp, envj), err[512];
	int out = sysg_log_open_service(logdir, dp->service, "stdout");
	int errfd = sysg_log_open_service(logdir, dp->service, "stderr");
	struct sysg_spawn_req r = {
		.command = cmd, .force_shell = 1, .envp = env,
		.cwd = dp_project_dir(dp), .cgroup_fd = -1,
		.out_fd = out >= 0 ? out : SYSG_SPAWN_DEVNULL,
		.err_fd = errfd >= 0 ? errfd : SYSG_SPAWN_DEVNULL,
	};
	int rc;

	dp->run_is_switch = to != NULL;
	snprintf(dp->run_to, sizeof(dp->run_to), "%s", to ? to : "");
	snprintf(dp->run_from, sizeof(dp->run_from), "%s", from ? from : "");
	dp->aux.done = dp_aux_done;
	dp->aux.arg = dp;
	rc = env && cmd ? sysg_job_spawn(jobs, &dp->aux, &r, t, err,
					 sizeof(err)) :
	     -ENOMEM;
	if (out >= 0)
		close(out);
	if (errfd >= 0)
		close(errfd);
	sysg_env_free(env);
	if (rc < 0)
		dp_reply_rc(dp, rc, rc == -ENOMEM ? "out of memory" : err);
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
		dp_reply(dp, json_pack("{s:i, s:i, s:s}", "rc", -ETIMEDOUT,
				    "code", code, "err",
				    "the command timed out"));
	else
		dp_reply(dp, json_pack("{s:i, s:i}", "rc", 0, "code", code));
}

void dp_aux_done(struct sysg_job *j, int status, int timed_out)
{
	struct deploy *dp = j->arg;
	int passed = !timed_out && WIFEXITED(status) &&
		     WEXITSTATUS(status) == 0;

	if (!dp->op)
		return;
	if (!strcmp(dp->op, "watch")) {
		dp_watch_probe_done(dp, passed);
	} else if (!strcmp(dp->op, "wait_ready")) {
		wait_probe_result(dp, passed);
	} else if (!strcmp(dp->op, "http_check")) {
		char err[600];

		snprintf(err, sizeof(err), "%s did not answer 2xx",
			 dp->wait_url ? dp->wait_url : "the URL");
		dp_wait_cleanup(dp);
		dp_reply_rc(dp, passed ? 0 : -EIO, passed ? NULL : err);
	} else if (!strcmp(dp->op, "run")) {
		run_done(dp, status, timed_out);
	} else if (!strcmp(dp->op, "pre_start")) {
		int code = WIFEXITED(status) ? WEXITSTATUS(status) :
			   128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);

		dp->pre_code = code;
		dp_reply(dp, json_pack("{s:i, s:i}", "rc", 0, "code", code));
	}
}

/* --- promote, stop --- */

static void op_promote(struct deploy *dp, json_t *req)
{
	int64_t id = sysg_jint(req, "inst");
	const struct sysg_service *def = dp->def;
	struct sysg_config *owned = dp->cfg;
	char err[512] = "";
	int64_t retired = 0;
	int rc, c = is_cand(dp, id), k;

	if (c < 0) {
		dp_reply_rc(dp, -EINVAL, "not a candidate of this deploy");
		return;
	}
	k = dp->cand_copy[c];
	if (dp->ncopies) {
		def = dp->cand_prev[c] ? dp->copy_prev[k] : dp->copy_new[k];
		if (dp->cand_prev[c])
			owned = NULL;   /* the running config's */
	}
	{
		struct sysg_inst_info in;
		uint64_t ticks = 0;
		json_t *p;

		if (sysg_inst_info(dp->ds->o.sup, id, &in) == 0 && in.pid > 0 &&
		    sysg_proc_start_ticks_of(in.pid, &ticks) == 0 &&
		    (p = json_pack("{s:i, s:I}", "pid", (int)in.pid, "ticks",
				   (json_int_t)ticks))) {
			char key[16];

			snprintf(key, sizeof(key), "%d", k);
			if (!dp->ncopies) {
				json_decref(dp->journal_promote);
				dp->journal_promote = p;
			} else {
				if (!dp->journal_promote)
					dp->journal_promote = json_object();
				json_object_set_new(dp->journal_promote, key,
						    p);
			}
		}
	}
	dp_journal(dp, "promote");
	rc = sysg_inst_promote(dp->ds->o.sup, id, def, owned, &retired,
			       err, sizeof(err));
	if (rc == 0) {
		if (owned)
			dp->cfg = NULL;         /* the supervisor's now */
		dp->promoted = id;
		dp->cand_promoted[c] = 1;
		if (dp->ncopies)
			dp->copy_is_new[k] = !dp->cand_prev[c];
		dp_journal(dp, "promoted");
	}
	dp_reply_rc(dp, rc, err);
}

static void op_stop(struct deploy *dp, json_t *req)
{
	int64_t id = sysg_jint(req, "inst");
	int rc;

	if (id == dp->promoted ||
	    (is_cand(dp, id) >= 0 && dp->cand_promoted[is_cand(dp, id)])) {
		dp_reply_rc(dp, -EBUSY, "that instance is the service's now");
		return;
	}
	dp->wait_inst = id;
	dp_journal(dp, "stop");
	rc = sysg_inst_stop(dp->ds->o.sup, id, dp_on_inst, dp);
	/* done at once (maybe answered by on_inst already) */
	if (rc != 0 && dp->req == req)
		dp_reply_rc(dp, rc < 0 ? rc : 0,
			    rc < 0 ? "no such instance" : NULL);
}

/* --- small ones --- */

static void timer_reply(struct sysg_timer *t)
{
	struct deploy *dp = t->arg;

	if (dp->op && !strcmp(dp->op, "operator_wait"))
		dp_reply(dp, json_pack("{s:i, s:i}", "rc", 0, "operator",
				    SYSG_OPERATOR_NONE));
	else if (dp->op)
		dp_reply_rc(dp, 0, NULL);
}

static void op_kv(struct deploy *dp, json_t *req, int set)
{
	const char *key = sysg_jstr(req, "key");
	const char *val = sysg_jstr(req, "value");
	char k[512], buf[4096];
	int rc;

	if (!dp->ds->o.st) {
		dp_reply_rc(dp, -ENOSYS, "no state backend");
		return;
	}
	snprintf(k, sizeof(k), "strategy:%s:%s", dp->service, key ? key : "");
	if (set) {
		dp_reply_rc(dp, sysg_state_kv_set(dp->ds->o.st, k, val), NULL);
		return;
	}
	rc = sysg_state_kv_get(dp->ds->o.st, k, buf, sizeof(buf));
	dp_reply(dp, json_pack("{s:i, s:s?}", "rc", rc, "value",
			    rc == 0 ? buf : NULL));
}

static void op_operator_wait(struct deploy *dp, json_t *req)
{
	int64_t ms = sysg_jint(req, "ms");

	if (dp->pending_cmd) {
		int c = dp->pending_cmd;

		dp->pending_cmd = 0;
		dp_reply(dp, json_pack("{s:i, s:i}", "rc", 0, "operator", c));
		return;
	}
	if (!dp->paused)
		sysg_timer_start(dp_loop_of(dp), &dp->timer, ms > 0 ? ms : 0,
				 timer_reply, dp);
}

/* Requests that make progress are refused once an abort was asked. */
int dp_cancelled_op(const char *op)
{
	static const char *const ops[] = { "pre_start", "start", "wait_ready",
					   "http_check", "promote", "sleep",
					   NULL };

	for (size_t i = 0; ops[i]; i++)
		if (!strcmp(op, ops[i]))
			return 1;
	return 0;
}

void dp_serve(struct deploy *dp, json_t *req)
{
	const char *op = sysg_jstr(req, "op");

	if (!op) {
		json_decref(req);
		dp_kill_worker(dp, "malformed request");
		return;
	}
	if (!strcmp(op, "done")) {
		const char *e = sysg_jstr(req, "err");

		dp->got_done = 1;
		dp->done_rc = (int)sysg_jint(req, "rc");
		snprintf(dp->done_err, sizeof(dp->done_err), "%s", e ? e : "");
		json_decref(req);
		return;
	}
	if (dp->req) {          /* one request at a time */
		json_decref(req);
		dp_kill_worker(dp, "a request while one is pending");
		return;
	}
	dp->req = req;
	dp->op = op;
	if (dp->aborting && !strcmp(op, "operator_wait")) {
		dp_reply(dp, json_pack("{s:i, s:i}", "rc", 0, "operator",
				    SYSG_OPERATOR_ABORT));
		return;
	}
	if (dp->aborting && dp_cancelled_op(op)) {
		dp_reply_rc(dp, -ECANCELED, "the deploy was aborted");
		return;
	}
	if (!strcmp(op, "step"))
		op_step(dp, req);
	else if (!strcmp(op, "log"))
		op_log(dp, req);
	else if (!strcmp(op, "plan")) {
		dp->planned = (int)sysg_jint(req, "steps");
		dp_reply_rc(dp, 0, NULL);
	} else if (!strcmp(op, "current"))
		op_current(dp, req);
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
		sysg_timer_start(dp_loop_of(dp), &dp->timer, json_integer_value(
			json_object_get(req, "ms")), timer_reply, dp);
	else if (!strcmp(op, "kv_get"))
		op_kv(dp, req, 0);
	else if (!strcmp(op, "kv_set"))
		op_kv(dp, req, 1);
	else if (!strcmp(op, "set_slots")) {
		const char *b = sysg_jstr(req, "before");
		const char *a = sysg_jstr(req, "after");

		snprintf(dp->slot_before, sizeof(dp->slot_before), "%s",
			 b ? b : "");
		snprintf(dp->slot_after, sizeof(dp->slot_after), "%s",
			 a ? a : "");
		if (dp->dry_run)
			dp_add_line(dp, "slots: %s -> %s", dp->slot_before,
				 dp->slot_after);
		dp_reply_rc(dp, 0, NULL);
	} else if (!strcmp(op, "operator_wait"))
		op_operator_wait(dp, req);
	else
		dp_reply_rc(dp, -ENOSYS, "unknown request");
}

void dp_on_io(struct sysg_io *io, uint32_t events)
{
	struct deploy *dp = io->arg;
	json_t *msg;
	int rc;

	(void)events;
	rc = sysg_link_fill(&dp->in, dp->fd);
	while (sysg_link_take(&dp->in, &msg) == 1)
		dp_serve(dp, msg);
	if (rc < 0 && dp->io_on) {      /* the worker closed its end */
		sysg_loop_io_del(dp_loop_of(dp), &dp->io);
		dp->io_on = 0;
	}
}
