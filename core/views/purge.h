/* purge.h - `sysg purge`: delete every file sysg keeps.
 *
 * Purging removes the state directory (pid.xml, state.xml and the other
 * backend files, config_hint, sysg.pid, control.sock, blue/green slot
 * files, logs/) and, in system mode, the separate log directory. It never
 * follows a symbolic link found inside them: a link is removed, not what
 * it points to. Without `force` it stops nothing and refuses while a
 * supervisor is alive; with `force` the caller first stops the supervisor
 * (sysg_purge_stop_supervisor) and the recorded services (the engine's
 * sysg_stop_offline), then deletes. */
#ifndef SYSG_PURGE_H
#define SYSG_PURGE_H

#include <stddef.h>
#include <stdint.h>

/* SIGTERM the supervisor PID (it stops its services and exits), wait up
 * to TIMEOUT_MS for it to be gone, then SIGKILL it. 0 when it is gone,
 * -ETIMEDOUT when it survived SIGKILL, -EPERM when it may not be
 * signalled. */
int sysg_purge_stop_supervisor(int64_t pid, int64_t timeout_ms);

/* Delete DIR and everything under it, without following symlinks below
 * DIR. REMOVED (may be NULL) is increased by the number of entries
 * deleted (DIR itself not counted). Refuses "/" and $HOME (-EPERM).
 * A missing DIR is 0. Otherwise 0 or the first -errno met, with the
 * path in ERR (the rest is still attempted). */
int sysg_purge_dir(const char *dir, size_t *removed, char *err,
		   size_t errlen);

#endif
