/* proctree.h - find every process that belongs to a service, and kill it.
 *
 * A service's tree is found by scanning /proc once per call. A process
 * belongs to the tree when any of these holds:
 *   - it is the main pid, or is in the service's session or process group
 *     (each service is spawned with setsid);
 *   - it was seen in the tree before (pid and start time both match);
 *   - it is listed in the service's cgroup (cgroup v2, when writable);
 *   - its environment carries the service's instance marker
 *     (SYSG_INSTANCE=...): this catches a double-forked child that called
 *     setsid and was re-parented to the supervisor (a child subreaper);
 *   - its parent belongs to the tree (closure over ppid).
 * Zombies are not members: they are dead and only need reaping.
 */
#ifndef SYSG_PROCTREE_H
#define SYSG_PROCTREE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The fields of /proc/PID/stat that tree scans use: a compact view of
 * struct sysg_procstat (procstat.h, which parses the file). */
struct sysg_proc_stat {
	pid_t pid;
	pid_t ppid;
	pid_t pgrp;
	pid_t sid;
	char state;             /* R S D Z T ... */
	uint64_t start_ticks;   /* field 22: start time in clock ticks */
	uint64_t cpu_ticks;     /* utime + stime */
	uint64_t rss_pages;     /* resident pages */
};

/* Read /proc/PID/stat (sysg_procstat_read). 0, -ESRCH (no such process)
 * or -errno. */
int sysg_proc_stat_read(pid_t pid, struct sysg_proc_stat *st);

/* Start time of PID in clock ticks (sysg_proc_start_ticks). 0 or -ESRCH. */
int sysg_proc_start_ticks_of(pid_t pid, uint64_t *ticks);

/* 1 when PID exists, is not a zombie and (TICKS non-zero) started at
 * TICKS (sysg_procstat_is_live); else 0. Unlike sysg_proc_alive(), a
 * process whose /proc/PID/stat cannot be read counts as gone: what the
 * tree code cannot identify, it must not signal or wait for. */
int sysg_proc_is_alive(pid_t pid, uint64_t ticks);

/* Copy the first entry of PID's initial environment (/proc/PID/environ)
 * that starts with PREFIX into BUF. 0, -ENOENT (no such entry), -ESRCH
 * (unreadable: gone, or another user's), -ENAMETOOLONG. */
int sysg_proc_environ_find(pid_t pid, const char *prefix, char *buf,
			   size_t len);

/* A set of processes identified by pid and start time. */
struct sysg_pident {
	pid_t pid;
	uint64_t ticks;
};

struct sysg_pidset {
	struct sysg_pident *v;
	size_t n, cap;
};

/* Add (if not present). 0 or -ENOMEM. */
int sysg_pidset_add(struct sysg_pidset *s, pid_t pid, uint64_t ticks);
int sysg_pidset_has(const struct sysg_pidset *s, pid_t pid);
void sysg_pidset_clear(struct sysg_pidset *s);
void sysg_pidset_free(struct sysg_pidset *s);

/* Send SIG to every member still alive with the same start time.
 * Returns the number of processes signalled. */
int sysg_pidset_kill(const struct sysg_pidset *s, int sig);

/* What identifies one service's processes (unused fields 0 / NULL). */
struct sysg_tree_match {
	pid_t main_pid;
	pid_t sid;
	pid_t pgid;
	const char *marker;     /* "SYSG_INSTANCE=..." environment entry */
	int marker_prefix;      /* match MARKER as a prefix of the entry */
	pid_t marker_ppid;      /* only check the environment of processes
	                           whose parent is this pid (0: of all) */
	const char *cgroup;     /* cgroup directory, or NULL */
	const struct sysg_pidset *known;        /* members seen before */
};

/* Collect the live members of the tree described by M into OUT (which is
 * cleared first). The calling process is never a member. 0 or -errno.
 * This is THE rule of what a service's processes are: stopping, sampling
 * (CPU, memory) and inspect all use it. */
int sysg_proctree_collect(const struct sysg_tree_match *m,
			  struct sysg_pidset *out);

/* One scan of /proc, to collect several trees from (the sampler does
 * one per round for every service). Zero-initialise; buffers are reused
 * from take to take; free with sysg_proc_snapshot_free. */
struct sysg_proc_snapshot {
	struct sysg_proc_stat *v;       /* live processes, sorted by pid */
	size_t n, cap;
	unsigned char *member;          /* scratch: one mark per process */
	size_t mcap;
	/* the SYSG_INSTANCE entries of each process's environment, read
	 * once per take when a marker is first looked for (NULL: not yet) */
	char **inst;
	size_t *ilen;                   /* length of each one's first entry */
	size_t icap;
	/* each process's children (indexes), built once per take when a
	 * tree is first closed over: kids[kid_start[i] .. kid_start[i+1]) */
	size_t *kid_start, *kids, *stack;
	size_t *by_sid, *by_pgrp;       /* indexes sorted by sid, pgrp */
	size_t *found;                  /* scratch: the members found */
	size_t kcap;
	int kids_ok;
};

/* Scan /proc into SNAP (replacing what it held). 0 or -errno. */
int sysg_proc_snapshot_take(struct sysg_proc_snapshot *snap);
/* PID's entry in SNAP, or NULL (not there, or not alive then). */
const struct sysg_proc_stat *sysg_proc_snapshot_find(
	const struct sysg_proc_snapshot *snap, pid_t pid);
void sysg_proc_snapshot_free(struct sysg_proc_snapshot *snap);

/* sysg_proctree_collect() on SNAP instead of a fresh scan (the cgroup is
 * still read live; environment markers once per process and take). SNAP's scratch marks
 * change: one caller at a time. 0 or -errno. */
int sysg_proctree_collect_in(struct sysg_proc_snapshot *snap,
			     const struct sysg_tree_match *m,
			     struct sysg_pidset *out);

/* Stop a tree without an event loop (the CLI's supervisor-less stop):
 * SIGTERM to every member (and their process groups), wait up to
 * TIMEOUT_MS for all to be gone, re-scanning every few ms so late forks
 * are caught, then SIGKILL what is left (and the cgroup) and wait a little
 * longer. Returns 0 when nothing is left, -ETIMEDOUT otherwise. *KILLED
 * (may be NULL) gets 1 when SIGKILL was needed. */
int sysg_proctree_stop_sync(const struct sysg_tree_match *m,
			    int64_t timeout_ms, int *killed);

/* ---------------------------------------------------------------- */
/* cgroup v2                                                          */
/* ---------------------------------------------------------------- */

#define SYSG_CGROUP_PATH_MAX 512       /* a cgroup directory's path */

/* The leaf cgroup a supervisor moves itself into when its own cgroup
 * must hand a controller to the runs' cgroups below it (cgroup v2 lets
 * no cgroup holding processes do that): sysg_cglimit_enable_v2. */
#define SYSG_CGROUP_LEAF "sysg-supervisor"

/* The directory under which sysg may create per-service cgroups: the
 * calling process's own cgroup in a writable cgroup2 hierarchy
 * (/sys/fs/cgroup or /sys/fs/cgroup/unified), or its parent when that is
 * a SYSG_CGROUP_LEAF (a supervisor that moved there, or its upgraded
 * image, keeps the same base). 0, or -ENOTSUP when there is no usable
 * cgroup2 hierarchy. */
int sysg_cgroup_base(char *buf, size_t len);

/* mkdir BASE/NAME (parents too). Writes the path to BUF. 0 or -errno
 * (-EACCES/-EROFS: not writable here). */
int sysg_cgroup_create(const char *base, const char *name, char *buf,
		       size_t len);

/* An O_DIRECTORY|O_CLOEXEC fd on the cgroup DIR (for
 * sysg_spawn_req.cgroup_fd), or -errno. */
int sysg_cgroup_open_dir(const char *dir);

/* Add every process listed in DIR/cgroup.procs to S. 0 or -errno. */
int sysg_cgroup_read_procs(const char *dir, struct sysg_pidset *s);

/* The same without their start times (ticks 0): one read of the file,
 * for a caller that takes them from a snapshot. 0 or -errno. */
int sysg_cgroup_read_pids(const char *dir, struct sysg_pidset *s);

/* Kill everything in DIR: cgroup.kill when the kernel has it, else
 * SIGKILL to each listed process. 0 or -errno. */
int sysg_cgroup_kill(const char *dir);

/* rmdir DIR (it must be empty of processes). 0 or -errno. */
int sysg_cgroup_remove(const char *dir);

/* rmdir every subdirectory of BASE whose name MATCH accepts, after the
 * empty cgroups inside it that STALE accepts, when it then holds no
 * process and no cgroup (the kernel refuses a cgroup in use with
 * EBUSY/ENOTEMPTY, so one is never removed). Returns how many
 * subdirectories of BASE were removed. */
int sysg_cgroup_prune(const char *base, int (*match)(const char *name),
		      int (*stale)(const char *name));

/* The cgroup directory (absolute, under the cgroup2 mount) of PID.
 * 0 or -errno. */
int sysg_cgroup_of_pid(pid_t pid, char *buf, size_t len);

#endif
