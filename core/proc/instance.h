/* instance.h - how sysg recognises the processes of one state
 * directory's services: the instance marker and the cgroup names. This
 * is the one place that encodes them.
 *
 * Every service process gets the environment entry
 *     SYSG_MARKER=<hash>:<service>:<supervisor pid>.<run serial>
 * where <hash> is 16 hex digits of FNV-1a over the state directory's
 * path. A process carrying "SYSG_MARKER=<hash>:<service>:" belongs to
 * that service (proctree.h finds escapees by it; a new supervisor adopts
 * or cleans up by it). With cgroup v2, a service run lives in
 *     <base>/sysg.<hash>/<service>.<supervisor pid>.<run serial>
 *
 * Before December 2026 the variable was SYSG_INSTANCE (now the instance
 * number users see, SPEC 11): processes started with that older marker
 * are still recognised (the *_old functions), so a new sysg adopts them.
 */
#ifndef SYSG_INSTANCE_H
#define SYSG_INSTANCE_H

#include <stddef.h>
#include <sys/types.h>

#define SYSG_INSTANCE_VAR "SYSG_MARKER"
#define SYSG_INSTANCE_VAR_OLD "SYSG_INSTANCE"
#define SYSG_INSTANCE_MAX 192   /* a whole marker entry, with its NUL */

/* "SYSG_MARKER=<hash>:<SVC>:": every run of service SVC of STATE_DIR.
 * SVC "" gives "SYSG_MARKER=<hash>::" (see sysg_instance_dir_prefix
 * for "any service"). */
void sysg_instance_prefix(const char *state_dir, const char *svc, char *buf,
			  size_t len);

/* "SYSG_MARKER=<hash>:": any service of STATE_DIR. */
void sysg_instance_dir_prefix(const char *state_dir, char *buf, size_t len);

/* The same two with the older variable name (SYSG_INSTANCE=). */
void sysg_instance_prefix_old(const char *state_dir, const char *svc,
			      char *buf, size_t len);
void sysg_instance_dir_prefix_old(const char *state_dir, char *buf,
				  size_t len);

/* The marker entry of one run of SVC: the prefix, then "<PID>.<SERIAL>". */
void sysg_instance_marker(const char *state_dir, const char *svc, pid_t pid,
			  unsigned serial, char *buf, size_t len);

/* The service whose marker of STATE_DIR process PID carries, into NAME
 * (LEN bytes). 0, or -1 when it carries none (or it cannot be read). */
int sysg_instance_service(const char *state_dir, pid_t pid, char *name,
			  size_t len);

/* The value part of a marker entry (after "SYSG_MARKER="), for
 * setting the variable; "" when ENTRY is not a marker. */
const char *sysg_instance_value(const char *entry);

/* "sysg.<hash>": the cgroup holding STATE_DIR's service runs. */
void sysg_instance_cgroup_dir(const char *state_dir, char *buf, size_t len);
/* 1 when NAME has the form of a sysg_instance_cgroup_dir() name. */
int sysg_instance_is_cgroup_dir(const char *name);
/* 1 when NAME is a sysg_instance_cgroup_run() name whose supervisor pid
 * is gone (its cgroup can only be a leftover). */
int sysg_instance_cgroup_run_orphaned(const char *name);

/* 1 when the cgroup path CG (sysg_cgroup_of_pid) is one of STATE_DIR's
 * service runs (it lies under ".../sysg.<hash>/"). */
int sysg_instance_owns_cgroup(const char *state_dir, const char *cg);

/* "<SVC>.<PID>.<SERIAL>": the cgroup of one run, under the one above. */
void sysg_instance_cgroup_run(const char *svc, pid_t pid, unsigned serial,
			      char *buf, size_t len);

#endif
