/* privs.h - privileged service settings (SPEC 10), applied in the child
 * between fork and exec.
 *
 * Supported: user, group, supplementary_groups (the child drops to them
 * after everything else), limits.nofile/nproc/memlock (rlimits),
 * limits.nice, limits.cpu_affinity. Not supported yet, and refused with a
 * clear message rather than ignored: capabilities, isolation, and the
 * cgroup limits (limits.cgroup.*). Every privileged key needs --sys and
 * root.
 */
#ifndef SYSG_PRIVS_H
#define SYSG_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

#include "config/config.h"
#include "spawn.h"

struct sysg_privs {
	int needed;             /* the service has privileged keys */
	struct sysg_spawn_creds creds;
	const struct sysg_limits *limits;       /* borrowed from the config */
};

/* Resolve SVC's privileged settings for a supervisor in system mode SYS.
 * Returns 0 (OUT->needed 0 when there are none), or -EPERM / -ENOTSUP /
 * -ENOENT (unknown user or group) with "services.NAME.KEY: ..." in ERR.
 * Free with sysg_privs_free. */
int sysg_privs_prepare(const struct sysg_service *svc, int sys,
		       struct sysg_privs *out, char *err, size_t errlen);
void sysg_privs_free(struct sysg_privs *p);

/* child_setup callback for struct sysg_spawn_req (ARG: struct
 * sysg_privs *): rlimits, nice, CPU affinity. 0 or an errno value. */
int sysg_privs_child_setup(void *arg);

#endif
