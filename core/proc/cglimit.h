/* cglimit.h - the cgroup resource limits of a service (limits.cgroup:
 * memory_max, cpu_max, cpu_weight, pids_max).
 *
 * Each controller is taken from cgroup v2 when the unified hierarchy
 * offers it (listed in the supervisor's cgroup.controllers and enabled in
 * its cgroup.subtree_control), else from the cgroup v1 hierarchy mounted
 * for it (hybrid hosts: memory, cpu and pids as v1 hierarchies, an empty
 * unified one). A key whose controller neither offers writably is an
 * error, never ignored.
 *
 * v2: the limits are written into the run's own cgroup (the one the
 *     supervisor already creates per run to track its processes):
 *     memory.max, cpu.max, cpu.weight, pids.max. The controller is
 *     enabled down the tree to the runs' parent first
 *     (sysg_cglimit_enable_v2); a supervisor alone in its own cgroup moves
 *     itself into a leaf for that (cgroup v2 lets no cgroup with
 *     processes hand controllers down).
 *     limits.cgroup.root does not apply: the run's cgroup is where the
 *     supervisor tracks its runs (under its own cgroup).
 * v1: a cgroup NAME is created per run under limits.cgroup.root (a path
 *     inside each hierarchy, "/sys/fs/cgroup/" and "unified/" prefixes
 *     dropped; default: the supervisor's own cgroup there)
 *     with memory.limit_in_bytes (and memory.memsw.limit_in_bytes, so
 *     swap cannot stretch it), cpu.cfs_quota_us/cpu.cfs_period_us,
 *     cpu.shares (weight * 1024 / 100), pids.max; the parent moves the
 *     child into them before it execs.
 */
#ifndef SYSG_CGLIMIT_H
#define SYSG_CGLIMIT_H

#include <stddef.h>
#include <sys/types.h>

#include "config/config.h"

enum sysg_cg_ctrl { SYSG_CG_MEMORY, SYSG_CG_CPU, SYSG_CG_PIDS, SYSG_CG_NCTRL };

struct sysg_cglimit {
	const struct sysg_cgroup_limits *cfg;   /* borrowed */
	int need[SYSG_CG_NCTRL];        /* the keys use this controller */
	int v2[SYSG_CG_NCTRL];          /* served by cgroup v2 */
	char v1_base[SYSG_CG_NCTRL][512];       /* v1: parent directory */
	char v1_dir[SYSG_CG_NCTRL][640];        /* v1: this run's, or "" */
	char v2_dir[640];               /* v2: this run's, or "" */
};

/* Flags of sysg_cglimit_plan. */
#define SYSG_CG_DRY       1u    /* change nothing (no controller enabled) */

/* Decide where each controller CFG needs comes from, V2_BASE being the
 * supervisor's cgroup v2 directory ("" or NULL when none). 0 (nothing
 * needed is fine too), or -ENOTSUP with "limits.cgroup.KEY: ..." in ERR. */
int sysg_cglimit_plan(const struct sysg_cgroup_limits *cfg,
		      const char *v2_base, unsigned flags,
		      struct sysg_cglimit *out, char *err, size_t errlen);

/* Create this run's cgroups and write the limits: v1 ones as NAME under
 * each base, v2 ones into V2_DIR (the run's cgroup, may be NULL when no
 * controller is v2). 0 or -errno with a message in ERR. */
int sysg_cglimit_create(struct sysg_cglimit *c, const char *name,
			const char *v2_dir, char *err, size_t errlen);

/* Move PID into this run's v1 cgroups. 0 or -errno. */
int sysg_cglimit_join(const struct sysg_cglimit *c, pid_t pid);

/* OOM kills counted in this run's memory cgroup (0 when none or not
 * limited). */
long sysg_cglimit_oom_kills(const struct sysg_cglimit *c);

/* Make the v2 controller CTRL available to the children of the cgroup
 * DIR: enabled in DIR's cgroup.subtree_control, after its parents' when
 * DIR is not offered it (up to the hierarchy's root). A cgroup that holds
 * only the calling process (its own) is first left for
 * DIR/SYSG_CGROUP_LEAF (proctree.h); one holding other processes is refused by the
 * kernel (-EBUSY). With SYSG_CG_DRY nothing is written: 0 when it could
 * be done. 0 or -ENOTSUP (no cgroup up the tree offers CTRL), -EBUSY,
 * -EACCES, -errno. */
int sysg_cglimit_enable_v2(const char *dir, const char *ctrl, unsigned flags);

/* rmdir this run's v1 cgroups (best effort: they must be empty). */
void sysg_cglimit_remove(struct sysg_cglimit *c);

#endif
