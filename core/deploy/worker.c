/* worker.c - see worker.h */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sysg/plugin.h>

#include "plugin/plugin.h"
#include "link.h"
#include "record.h"
#include "worker.h"

struct sysg_deploy_ctx {
	int fd;
	int dry_run;            /* --dry-run: the plan only */
	int planning;           /* counting the steps of the plan */
	int steps;
	int copies;             /* instances: N of the service (1: none) */
	const char *state_dir;
	const char *project_dir;
};

/* One request, its reply (caller decrefs). The supervisor gone: exit. */
static json_t *call(struct sysg_deploy_ctx *c, json_t *req)
{
	json_t *rep = NULL;

	if (!req || sysg_link_send(c->fd, req) < 0 ||
	    sysg_link_recv(c->fd, &rep) < 0)
		_exit(3);
	json_decref(req);
	return rep;
}

static int rc_of(const json_t *rep)
{
	return (int)sysg_jint(rep, "rc");
}

/* rc of REP, with its "err" copied to ERR. */
static int rc_err(json_t *rep, char *err, size_t errlen)
{
	const char *e = sysg_jstr(rep, "err");
	int rc = rc_of(rep);

	if (e && err && errlen)
		snprintf(err, errlen, "%s", e);
	json_decref(rep);
	return rc;
}

/* Calls that change something are refused while planning or dry. */
static int dry(struct sysg_deploy_ctx *c, char *err, size_t errlen)
{
	if (!c->dry_run && !c->planning)
		return 0;
	if (err && errlen)
		snprintf(err, errlen, "not available in a dry run");
	return 1;
}

static json_t *env_array(const char *const *env)
{
	json_t *a = json_array();

	for (size_t i = 0; a && env && env[i]; i++)
		json_array_append_new(a, json_string(env[i]));
	return a;
}

/* ------------------------------------------------------- the host API */

__attribute__((format(printf, 3, 4)))
static void h_log(struct sysg_deploy_ctx *c, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (c->planning)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(call(c, json_pack("{s:s, s:i, s:s}", "op", "log",
				      "level", level, "msg", msg)));
}

__attribute__((format(printf, 2, 3)))
static void h_step(struct sysg_deploy_ctx *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	c->steps++;
	if (c->planning)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(call(c, json_pack("{s:s, s:s}", "op", "step", "text",
				      msg)));
}

static sysg_instance_t h_current_copy(struct sysg_deploy_ctx *c, int index)
{
	json_t *rep = call(c, json_pack("{s:s, s:i}", "op", "current", "copy",
					index));
	sysg_instance_t id = sysg_jint(rep, "inst");

	json_decref(rep);
	return id;
}

static sysg_instance_t h_current(struct sysg_deploy_ctx *c)
{
	return h_current_copy(c, 0);
}

static int h_copies(struct sysg_deploy_ctx *c)
{
	return c->copies;
}

static int h_pre_start(struct sysg_deploy_ctx *c, int *exit_code, char *err,
		       size_t errlen)
{
	json_t *rep;

	*exit_code = 0;
	if (dry(c, err, errlen))
		return 0;
	rep = call(c, json_pack("{s:s}", "op", "pre_start"));
	*exit_code = (int)sysg_jint(rep, "code");
	return rc_err(rep, err, errlen);
}

static int h_start_copy(struct sysg_deploy_ctx *c, int index, int previous,
			const char *const *env, sysg_instance_t *out,
			char *err, size_t errlen)
{
	json_t *rep;

	*out = 0;
	if (dry(c, err, errlen))
		return -EPERM;
	if (index < 0 || index >= c->copies) {
		snprintf(err, errlen, "no copy %d (the service has %d)", index,
			 c->copies);
		return -EINVAL;
	}
	rep = call(c, json_pack("{s:s, s:o, s:i, s:b}", "op", "start", "env",
				env_array(env), "copy", index, "previous",
				previous));
	*out = sysg_jint(rep, "inst");
	return rc_err(rep, err, errlen);
}

static int h_start(struct sysg_deploy_ctx *c, const char *const *env,
		   sysg_instance_t *out, char *err, size_t errlen)
{
	return h_start_copy(c, 0, 0, env, out, err, errlen);
}

static int h_wait_ready(struct sysg_deploy_ctx *c, sysg_instance_t inst,
			const char *url, int64_t timeout_ms, int retries,
			char *err, size_t errlen)
{
	if (dry(c, err, errlen))
		return 0;
	return rc_err(call(c, json_pack("{s:s, s:I, s:s?, s:I, s:i}", "op",
					"wait_ready", "inst", (json_int_t)inst,
					"url", url, "timeout_ms",
					(json_int_t)timeout_ms, "retries",
					retries)), err, errlen);
}

static int h_http_check(struct sysg_deploy_ctx *c, const char *url,
			int64_t timeout_ms, char *err, size_t errlen)
{
	if (dry(c, err, errlen))
		return 0;
	return rc_err(call(c, json_pack("{s:s, s:s, s:I}", "op", "http_check",
					"url", url ? url : "", "timeout_ms",
					(json_int_t)timeout_ms)), err, errlen);
}

static int h_inst_op(struct sysg_deploy_ctx *c, const char *op,
		     sysg_instance_t inst)
{
	if (dry(c, NULL, 0))
		return 0;
	return rc_err(call(c, json_pack("{s:s, s:I}", "op", op, "inst",
					(json_int_t)inst)), NULL, 0);
}

static int h_promote(struct sysg_deploy_ctx *c, sysg_instance_t inst)
{
	return h_inst_op(c, "promote", inst);
}

static int h_stop(struct sysg_deploy_ctx *c, sysg_instance_t inst)
{
	return h_inst_op(c, "stop", inst);
}

static int h_run(struct sysg_deploy_ctx *c, const char *command,
		 const char *const *env, int64_t timeout_ms, int *exit_code,
		 char *err, size_t errlen)
{
	json_t *rep;

	*exit_code = 0;
	if (dry(c, err, errlen))
		return 0;
	rep = call(c, json_pack("{s:s, s:s, s:o, s:I}", "op", "run",
				"command", command ? command : "", "env",
				env_array(env), "timeout_ms",
				(json_int_t)timeout_ms));
	*exit_code = (int)sysg_jint(rep, "code");
	return rc_err(rep, err, errlen);
}

static void h_sleep_ms(struct sysg_deploy_ctx *c, int64_t ms)
{
	if (dry(c, NULL, 0))
		return;
	json_decref(call(c, json_pack("{s:s, s:I}", "op", "sleep", "ms",
				      (json_int_t)ms)));
}

static int h_kv_get(struct sysg_deploy_ctx *c, const char *key, char *buf,
		    size_t len)
{
	json_t *rep = call(c, json_pack("{s:s, s:s}", "op", "kv_get", "key",
					key ? key : ""));
	const char *v = sysg_jstr(rep, "value");
	int rc = rc_of(rep);

	if (rc == 0 && v) {
		if (strlen(v) >= len)
			rc = -ENOSPC;
		else
			memcpy(buf, v, strlen(v) + 1);
	}
	json_decref(rep);
	return rc;
}

static int h_kv_set(struct sysg_deploy_ctx *c, const char *key,
		    const char *value)
{
	if (dry(c, NULL, 0))
		return 0;
	return rc_err(call(c, json_pack("{s:s, s:s, s:s?}", "op", "kv_set",
					"key", key ? key : "", "value", value)),
		      NULL, 0);
}

static void h_set_slots(struct sysg_deploy_ctx *c, const char *before,
			const char *after)
{
	if (c->planning)
		return;
	json_decref(call(c, json_pack("{s:s, s:s?, s:s?}", "op", "set_slots",
				      "before", before, "after", after)));
}

static int h_dry_run(struct sysg_deploy_ctx *c)
{
	return c->dry_run || c->planning;
}

static const char *h_state_dir(struct sysg_deploy_ctx *c)
{
	return c->state_dir;
}

static const char *h_project_dir(struct sysg_deploy_ctx *c)
{
	return c->project_dir;
}

static int h_operator_wait(struct sysg_deploy_ctx *c, int64_t ms)
{
	json_t *rep;
	int op;

	if (dry(c, NULL, 0))
		return SYSG_OPERATOR_NONE;
	rep = call(c, json_pack("{s:s, s:I}", "op", "operator_wait", "ms",
				(json_int_t)ms));
	op = (int)sysg_jint(rep, "operator");
	json_decref(rep);
	return op;
}

static const struct sysg_host_api host_api = {
	.abi_version = SYSG_PLUGIN_ABI_VERSION,
	.log = h_log,
	.step = h_step,
	.current = h_current,
	.pre_start = h_pre_start,
	.start = h_start,
	.wait_ready = h_wait_ready,
	.http_check = h_http_check,
	.promote = h_promote,
	.stop = h_stop,
	.run = h_run,
	.sleep_ms = h_sleep_ms,
	.kv_get = h_kv_get,
	.kv_set = h_kv_set,
	.set_slots = h_set_slots,
	.dry_run = h_dry_run,
	.state_dir = h_state_dir,
	.project_dir = h_project_dir,
	.operator_wait = h_operator_wait,
	.copies = h_copies,
	.current_copy = h_current_copy,
	.start_copy = h_start_copy,
};

/* ------------------------------------------------------------ main */

static void done(int fd, int rc, const char *err)
{
	json_t *m = json_pack("{s:s, s:i, s:s}", "op", "done", "rc", rc,
			      "err", err ? err : "");

	if (m)
		sysg_link_send(fd, m);
	json_decref(m);
}

static int load(const json_t *setup, struct sysg_loaded_plugin **lp,
		const char *strategy, char *err, size_t errlen)
{
	const json_t *dirs = json_object_get(setup, "plugin_dirs");
	struct sysg_plugin_path pp = { 0 };
	int rc;

	pp.n = json_array_size(dirs);
	pp.dirs = calloc(pp.n + 1, sizeof(*pp.dirs));
	if (!pp.dirs)
		return -ENOMEM;
	for (size_t i = 0; i < pp.n; i++)
		pp.dirs[i] = (char *)json_string_value(json_array_get(dirs, i));
	rc = sysg_plugin_load(&pp, strategy, SYSG_PLUGIN_STRATEGY, lp, err,
			      errlen);
	free(pp.dirs);
	return rc;
}

static int check(const struct sysg_strategy_ops *ops,
		 const struct sysg_strategy_settings *s, char *err,
		 size_t errlen)
{
	const char *bad = NULL;
	char msg[512] = "";
	int rc = ops->check_config(s, msg, sizeof(msg), &bad);

	if (rc < 0)      /* the key path `sysg validate` gives too */
		snprintf(err, errlen, "services.%s.deployment%s%s%s%s: %s",
			 s->service, bad ? "." : "", bad ? s->strategy : "",
			 bad ? "." : "", bad ? bad : "",
			 msg[0] ? msg : "invalid settings");
	return rc;
}

int sysg_deploy_worker_main(int fd)
{
	struct sysg_deploy_ctx c = { .fd = fd };
	struct sysg_loaded_plugin *lp = NULL;
	struct sysg_strategy_settings s;
	struct sysg_setting *opts = NULL;
	const struct sysg_strategy_ops *ops;
	json_t *setup = NULL;
	char err[1024] = "";
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if (sysg_link_recv(fd, &setup) < 0)
		return 3;
	c.dry_run = json_is_true(json_object_get(setup, "dry_run"));
	c.state_dir = sysg_jstr(setup, "state_dir");
	c.project_dir = sysg_jstr(setup, "project_dir");
	c.copies = (int)sysg_jint(setup, "copies");
	if (c.copies < 1)
		c.copies = 1;
	rc = sysg_deploy_settings_from(json_object_get(setup, "settings"), &s,
				       &opts);
	if (rc < 0) {
		done(fd, rc, "malformed deploy setup");
		goto out;
	}
	rc = load(setup, &lp, s.strategy, err, sizeof(err));
	if (rc < 0) {
		done(fd, rc, err);
		goto out;
	}
	ops = lp->desc->strategy;
	rc = 0;
	if (c.copies > 1 && !(sysg_plugin_has_slot(lp, 3) &&
			      (ops->flags & SYSG_STRATEGY_COPIES))) {
		snprintf(err, sizeof(err), "strategy %s does not deploy a "
			 "service with instances: %d (%s.0 .. %s.%d): deploy "
			 "it with --strategy rolling (or immediate)",
			 s.strategy, c.copies, s.service, s.service,
			 c.copies - 1);
		rc = -ENOTSUP;
	}
	if (rc == 0)
		rc = check(ops, &s, err, sizeof(err));
	if (rc < 0) {
		done(fd, rc, err);
		goto out;
	}
	if (!c.dry_run) {
		c.planning = 1;
		ops->deploy(&host_api, &c, &s, err, sizeof(err));
		c.planning = 0;
		json_decref(call(&c, json_pack("{s:s, s:i}", "op", "plan",
					       "steps", c.steps)));
		c.steps = 0;
		err[0] = '\0';
	}
	rc = ops->deploy(&host_api, &c, &s, err, sizeof(err));
	done(fd, rc, rc < 0 && !err[0] ? strerror(-rc) : err);
out:
	sysg_plugin_unload(lp);
	free(opts);
	json_decref(setup);
	return 0;
}
