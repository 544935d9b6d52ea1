/* privs.h - privileged service settings (SPEC 10), applied around the
 * fork of each run. Every privileged key needs root (euid 0), with or
 * without --sys.
 *
 * In the parent, once the child exists and before it may go on:
 *   - it is moved into its cgroup v1 limit groups (cglimit.h; v2 limits
 *     are written into the cgroup it is born in);
 *   - rlimits (nofile, nproc, memlock, core) with prlimit(2), nice with
 *     setpriority(2), cpu_affinity with sched_setaffinity(2): from the
 *     outside, so they hold even inside a user namespace;
 *   - isolation.user: its uid_map/gid_map map the service's uid and gids
 *     (inside = outside, nothing else: root is not mapped).
 * In the child, before exec:
 *   - mount namespace (isolation.mount, and always with pid, private_tmp
 *     or private_devices): mounts made private to it; with isolation.pid a
 *     fresh /proc; then private_tmp, private_devices (confine.h);
 *     isolation.network: a new network namespace whose only interface,
 *     lo, is brought up;
 *   - apparmor_profile / selinux_context: the exec label (confine.h);
 *   - capabilities: the bounding set reduced to the listed ones, then
 *     PR_SET_KEEPCAPS, setgroups, setgid, setuid (in that order), then
 *     capset(2) permitted = effective = inheritable = the list and each
 *     one raised in the ambient set so it survives exec as a non-root
 *     user. Done with prctl(2)/capset(2) directly, not libcap: it is six
 *     calls, and the child between fork and exec must not allocate;
 *   - verification: real, effective and saved ids are the target ones and
 *     setuid(0) fails (unless CAP_SETUID was asked for): a child that
 *     could regain root is not started;
 *   - isolation.seccomp last (confine.h).
 */
#ifndef SYSG_PRIVS_H
#define SYSG_PRIVS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/base.h"
#include "config/config.h"
#include "cglimit.h"
#include "confine.h"
#include "spawn.h"

/* The reason of a run the kernel OOM-killed in its memory limit, kept
 * (after "last exit: ") while its restart runs; status shows
 * last_exit.oom from it. */
#define SYSG_OOM_REASON "oom: killed by the kernel OOM killer in its " \
	"cgroup (limits.cgroup.memory_max)"
#define SYSG_OOM_PREFIX "oom: "
#define SYSG_OOM_LAST "last exit: oom: "

struct sysg_privs_opts {
	int sys;                /* --sys (not needed for privileged keys) */
	int drop_privileges;    /* --drop-privileges: no `user` => nobody */
	const char *cgroup_v2_base;     /* the supervisor's v2 cgroup, or "" */
	int dry;                /* a check only: change nothing */
};

struct sysg_privs {
	int needed;             /* privileged settings apply */
	struct sysg_spawn_creds creds;
	const struct sysg_limits *limits;       /* borrowed from the config */
	uint64_t caps;          /* bit N: capability N kept */
	int has_caps;           /* `capabilities` given */
	unsigned long long clone_flags; /* CLONE_NEW* */
	int mount_proc;         /* pid namespace: a fresh /proc */
	char *user_name, *home, *shell; /* for the environment, or NULL */
	struct sysg_cglimit *cg;        /* NULL unless has_cg */
	int has_cg;
	int private_tmp, private_devices;
	char tmpfs_owner[48];   /* "" or ",uid=U,gid=G" (user namespace) */
	struct sysg_seccomp_prog seccomp;       /* filter == NULL: none */
	const char *lsm;        /* "apparmor" / "selinux" or NULL */
	const char *lsm_label;  /* borrowed from the config */
	/* the running service's main pid (the engine sets it while a run
	 * lives): its helpers join its network namespace */
	pid_t ns_pid;
	char helper_netns[48];  /* "/proc/PID/ns/net" for the next helper */
};

/* Resolve SVC's privileged settings. Returns 0 (OUT->needed 0 when there
 * are none), or -EPERM / -ENOTSUP / -ENOENT (unknown user or group) with
 * "services.NAME.KEY: ..." in ERR and the key's position in *WHERE (may
 * be NULL). The one check of these keys: `validate` and `start` both use
 * it. Free with sysg_privs_free. */
int sysg_privs_prepare(const struct sysg_service *svc,
		       const struct sysg_privs_opts *o, struct sysg_privs *out,
		       struct sysg_mark *where, char *err, size_t errlen);
/* Also removes the last run's v1 cgroups when they are empty. */
void sysg_privs_free(struct sysg_privs *p);

/* sysg_privs_prepare for every service of CFG (cgroup_v2_base: the
 * caller's own v2 cgroup when O leaves it NULL), each problem appended
 * to DIAG as "FILE:LINE:COL: error: services.S.KEY: ...". A dry run:
 * nothing is changed (no cgroup controller enabled). Returns the number
 * of services in error. */
int sysg_privs_check_config(const struct sysg_config *cfg,
			    const struct sysg_privs_opts *o,
			    struct sysg_diag *diag);

/* Before each run: create the run's limit cgroups (NAME; V2_DIR the
 * run's v2 cgroup or NULL). 0 or -errno with "services.S.KEY: ..." */
int sysg_privs_begin_run(struct sysg_privs *p, const char *svc,
			 const char *name, const char *v2_dir, char *err,
			 size_t errlen);
/* After a run: 1 when the kernel OOM-killed something in its memory
 * limit; the run's v1 cgroups are removed. */
int sysg_privs_end_run(struct sysg_privs *p);

/* Fill REQ's child_setup, parent_setup, child_arg and clone_flags. */
void sysg_privs_spawn_req(struct sysg_privs *p, struct sysg_spawn_req *req);

/* Set up REQ for a helper of the service (its hooks, command health
 * probes, pre_start and skip commands), which runs as the service would,
 * minus its namespaces: the same user, group and supplementary groups,
 * with HOME, USER, LOGNAME and SHELL of that user in its environment (a
 * copy of REQ->envp, or of environ, in *ENV: free it with sysg_env_free
 * once the spawn returned), capabilities (bounding and ambient sets),
 * AppArmor/SELinux label and seccomp filter, the same rlimits, nice and
 * cpu_affinity, and the service's current run's limit cgroups (v1:
 * joined, so its memory, cpu and pids count against the service's
 * limits) when a run exists. No namespace of its own; with
 * isolation.network, the network namespace of the running service
 * (P->ns_pid), so that a probe of localhost reaches it (while no run
 * lives, e.g. an on_stop hook: the host's). Nothing
 * is changed (and *ENV is NULL) when P is NULL or P->needed is 0. P must
 * stay valid until the spawn returns. 0 or -ENOMEM. */
int sysg_privs_helper_req(struct sysg_privs *p, struct sysg_spawn_req *req,
			  char ***env);

/* Set HOME, USER, LOGNAME and SHELL of the service's user in *ENVP
 * (sysg_env_set) when P names one. 0 or -ENOMEM. */
int sysg_privs_env(const struct sysg_privs *p, char ***envp);

#endif
