/* hooks.h - lifecycle hooks (SPEC 4).
 *
 * A hook runs as `/bin/sh -c CMD` (CMD after ${VAR} expansion) with the
 * service's environment and working directory, its output appended to the
 * service's log files. It is fire-and-forget: the service never waits for
 * it, a failure is only logged, and it is killed at its timeout (default
 * 30 s). When each fires:
 *   on_start.success   after spawn (after readiness with a health check)
 *   on_start.error     spawn or readiness failed
 *   on_stop.success    manual stop, or a clean exit 0 of a one-shot
 *   on_stop.error      crash: non-zero exit or a signal
 *   on_restart.*       an automatic restart succeeded / failed
 */
#ifndef SYSG_HOOKS_H
#define SYSG_HOOKS_H

#include "config/config.h"
#include "job.h"
#include "logs.h"
#include "privs.h"

enum sysg_hook_stage {
	SYSG_HOOK_ON_START,
	SYSG_HOOK_ON_STOP,
	SYSG_HOOK_ON_RESTART,
};

/* Name of a hook, e.g. "on_start.success". */
const char *sysg_hook_name(enum sysg_hook_stage stage, int success);

/* The hook of SVC for STAGE/SUCCESS, or NULL when none is configured. */
const struct sysg_hook *sysg_hook_get(const struct sysg_service *svc,
				      enum sysg_hook_stage stage, int success);

/* Run the hook if configured. ENVP/CWD: the service's; OUT_FD/ERR_FD:
 * where its output goes (SYSG_SPAWN_DEVNULL allowed); PRIVS: the
 * service's privileged settings (NULL: none), which the hook runs under
 * (sysg_privs_helper_req: its user, limits, cgroups...; HOME, USER,
 * LOGNAME, SHELL of its user). Results are logged to LG when the hook
 * ends. Returns 1 when a hook was started, 0 when none is configured,
 * negative errno when it could not be started. */
int sysg_hook_fire(struct sysg_jobs *js, struct sysg_log *lg,
		   const struct sysg_service *svc, enum sysg_hook_stage stage,
		   int success, char *const *envp, const char *cwd,
		   int out_fd, int err_fd, struct sysg_privs *privs);

#endif
