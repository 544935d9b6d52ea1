/* hooks.c - fire-and-forget lifecycle hooks (see hooks.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <sysg/plugin.h>

#include "base/base.h"
#include "config/config.h"
#include "hooks.h"

struct hook_run {
	struct sysg_job job;
	struct sysg_log *lg;
	char name[32];
	char svc[SYSG_NAME_MAX];
};

const char *sysg_hook_name(enum sysg_hook_stage stage, int success)
{
	static const char *const names[3][2] = {
		{ "on_start.error", "on_start.success" },
		{ "on_stop.error", "on_stop.success" },
		{ "on_restart.error", "on_restart.success" },
	};

	return names[stage][success ? 1 : 0];
}

const struct sysg_hook *sysg_hook_get(const struct sysg_service *svc,
				      enum sysg_hook_stage stage, int success)
{
	const struct sysg_hook_pair *p =
		stage == SYSG_HOOK_ON_START ? &svc->hooks.on_start :
		stage == SYSG_HOOK_ON_STOP ? &svc->hooks.on_stop :
		&svc->hooks.on_restart;
	const struct sysg_hook *h = success ? &p->success : &p->error;

	return h->command && *h->command ? h : NULL;
}

static void hook_done(struct sysg_job *j, int status, int timed_out)
{
	struct hook_run *r = j->arg;

	if (timed_out)
		sysg_log(r->lg, SYSG_LOG_WARN, "Hook %s of %s timed out and was "
			 "killed", r->name, r->svc);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		sysg_log(r->lg, SYSG_LOG_INFO, "Hook %s of %s succeeded",
			 r->name, r->svc);
	else if (WIFEXITED(status))
		sysg_log(r->lg, SYSG_LOG_WARN, "Hook %s of %s failed with "
			 "exit code %d", r->name, r->svc, WEXITSTATUS(status));
	else
		sysg_log(r->lg, SYSG_LOG_WARN, "Hook %s of %s killed by "
			 "signal %d", r->name, r->svc, WTERMSIG(status));
	free(r);
}

int sysg_hook_fire(struct sysg_jobs *js, struct sysg_log *lg,
		   const struct sysg_service *svc, enum sysg_hook_stage stage,
		   int success, char *const *envp, const char *cwd,
		   int out_fd, int err_fd, struct sysg_privs *privs)
{
	const struct sysg_hook *h = sysg_hook_get(svc, stage, success);
	struct sysg_spawn_req req = {
		.force_shell = 1, .envp = envp, .cwd = cwd, .out_fd = out_fd,
		.err_fd = err_fd, .cgroup_fd = -1,
	};
	struct hook_run *r;
	char err[SYSG_ERR_MAX];
	char *cmd, **env = NULL;
	int rc;

	if (!h)
		return 0;
	r = calloc(1, sizeof(*r));
	/* $VAR references were left for the shell at load time (config.h):
	 * it expands them from ENVP, as data */
	cmd = strdup(h->command);
	if (!r || !cmd || sysg_privs_helper_req(privs, &req, &env) < 0) {
		free(r);
		free(cmd);
		sysg_env_free(env);
		return -ENOMEM;
	}
	r->lg = lg;
	snprintf(r->name, sizeof(r->name), "%s", sysg_hook_name(stage, success));
	snprintf(r->svc, sizeof(r->svc), "%s", svc->name);
	r->job.done = hook_done;
	r->job.arg = r;
	req.command = cmd;
	sysg_log(lg, SYSG_LOG_INFO, "Running hook %s of %s", r->name, r->svc);
	rc = sysg_job_spawn(js, &r->job, &req, h->timeout_ms > 0 ?
			    h->timeout_ms : SYSG_HOOK_TIMEOUT_MS, err,
			    sizeof(err));
	free(cmd);
	sysg_env_free(env);
	if (rc < 0) {
		sysg_log(lg, SYSG_LOG_WARN, "Hook %s of %s could not start: %s",
			 r->name, r->svc, err);
		free(r);
		return rc;
	}
	return 1;
}
