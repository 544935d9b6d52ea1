/* upgrade.h - live upgrade of the resident supervisor: `sysg upgrade`
 * makes it exec a new binary in the same pid, handing its state over.
 *
 * The handoff is a JSON document in a memfd whose number the new image
 * gets on its command line (`sysg __resume FD`); it starts with
 * "handoff_version". The fds it names stay open across the exec: the
 * state directory's lock (so no other supervisor can slip in), the
 * control socket's listener (clients queue in its backlog meanwhile) and
 * an fd of the old binary (to go back to it if the new one cannot
 * resume). The services' processes need nothing: they stay the children
 * of the same pid, so the new image adopts them (adopt.c) and reaps their
 * exits, including one that happened during the exec.
 *
 * Before anything changes, the new binary is run once as
 * `BINARY __handoff-versions`: it must start, and list the handoff
 * version this supervisor writes; otherwise the upgrade is refused. A
 * failed exec returns here with every fd as it was.
 */
#ifndef SYSG_UPGRADE_H
#define SYSG_UPGRADE_H

#include <stddef.h>

#include <jansson.h>

/* The handoff version this build writes; it reads versions
 * SYSG_HANDOFF_MIN..SYSG_HANDOFF_VERSION. */
#define SYSG_HANDOFF_VERSION 1
#define SYSG_HANDOFF_MIN     1

/* How long the new binary has to answer `__handoff-versions`. */
#define SYSG_UPGRADE_PREFLIGHT_MS 5000

struct sysg_handoff {
	int version;
	int generation;         /* live upgrades of this supervisor so far */
	int lock_fd;            /* sysg.lock, locked */
	int ctl_fd;             /* control.sock listener, or -1 */
	int prev_exe_fd;        /* the binary that wrote it, or -1 */
	int fallback;           /* written for a return to PREV_EXE */
	const char *state_dir, *log_dir, *config;      /* borrowed, or */
	const char *state_backend, *plugin_dirs;        /* DOC's; may be NULL */
	int sys;
	json_t *services;       /* [{name, pid, start_ticks, status}] */
	json_t *doc;            /* the whole document (owns the strings) */
};

/* Print the handoff versions this build reads (`__handoff-versions`). */
void sysg_handoff_print_versions(void);

/* Run BINARY __handoff-versions: 0 when it answered in time and lists
 * SYSG_HANDOFF_VERSION; else -errno / -EPROTO with ERR saying why. */
int sysg_upgrade_preflight(const char *binary, char *err, size_t errlen);

/* Write H into a memfd and exec BINARY (`__resume FD`) with H's fds kept
 * open. Returns only on failure: -errno, ERR filled, every fd close-on-
 * exec again. */
int sysg_upgrade_exec(const char *binary, const struct sysg_handoff *h,
		      char *err, size_t errlen);

/* Read the handoff from FD (closed): 0, or -EPROTO for a version this
 * build does not read, -EINVAL for a malformed one, with ERR. Its fds
 * are made close-on-exec. */
int sysg_handoff_read(int fd, struct sysg_handoff *h, char *err,
		      size_t errlen);

/* Go back to the binary that wrote H (its PREV_EXE_FD), with H marked as
 * a fallback. Returns only on failure (-errno). */
int sysg_handoff_fall_back(struct sysg_handoff *h, char *err, size_t errlen);

void sysg_handoff_free(struct sysg_handoff *h);

#endif
