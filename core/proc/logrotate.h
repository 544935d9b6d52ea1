/* logrotate.h - size-based rotation of service log files, and reopening
 * them after an external logrotate, without losing or duplicating a line.
 *
 * Rotated files are PATH.1 (newest) .. PATH.KEEP, or PATH.N.gz with
 * compress (gzip runs as a job of the caller, sysg_log_gzip_command).
 *
 * Two ways a service's output reaches PATH, so two ways to rotate:
 *
 * - Pipe mode (foreground supervisor): the supervisor itself writes PATH
 *   from the service's pipe, so it renames PATH to PATH.1 and opens a new
 *   PATH between two writes (sysg_log_rotate_rename). Nothing is in
 *   flight; the cut falls at a line boundary (logs.c).
 *
 * - Direct mode (resident supervisor): the service's stdout/stderr *are*
 *   PATH (O_APPEND), so that its output survives the supervisor's death.
 *   Nobody can change another process's fd, so rename + reopen is
 *   impossible here; and a pipe switch would give services SIGPIPE when
 *   the supervisor dies, which is why direct mode exists. So this is
 *   copytruncate, made lossless: the bulk of PATH is copied to PATH.1
 *   while the service runs, then every process that has PATH open
 *   (found in /proc/PID/fd: the service tree, escaped daemons, managed
 *   children, hooks) is stopped with SIGSTOP, the rest (what was written
 *   meanwhile) is copied, PATH is truncated (a partial last line moves
 *   back into PATH) and the processes are continued. Plain copytruncate
 *   loses what is written between the copy and the truncation; the stop
 *   closes that window. The pause lasts a rescan of /proc and the copy
 *   of what was written during the bulk copy: milliseconds. */
#ifndef SYSG_LOGROTATE_H
#define SYSG_LOGROTATE_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* Make room for a new PATH.1: delete PATH.KEEP (and .gz), move PATH.N
 * to PATH.N+1 (either form). 0 or -errno. */
int sysg_log_shift(const char *path, int keep);

/* Pipe mode: shift, rename PATH to PATH.1 and open a new PATH (0640,
 * O_APPEND, close-on-exec) into *FD (the old fd is closed). 0 or -errno
 * with ERR filled; on error *FD is still usable. */
int sysg_log_rotate_rename(const char *path, int keep, int *fd, char *err,
			   size_t errlen);

/* Direct mode: move the content of FD (the file written in place by
 * other processes with O_APPEND, normally named PATH) to a new PATH.1,
 * losslessly (see the top of this file), leaving FD's file empty but for
 * a partial last line. 0, -EAGAIN when the writers could not all be
 * stopped (nothing changed: try later), or -errno with ERR filled. */
int sysg_log_rotate_copy(const char *path, int fd, int keep, char *err,
			 size_t errlen);

/* Reopen after an external rotation (logrotate renamed PATH away):
 * pipe mode: when PATH is no longer FD's file, open PATH anew into *FD.
 * Returns 1 when reopened, 0 when PATH is still FD's file, or -errno. */
int sysg_log_reopen(const char *path, int *fd);

/* Direct mode: when PATH is no longer FD's file (renamed to, say,
 * PATH.1), give FD's file its name PATH back (empty) and put a copy of
 * its content where it was renamed to, with the writers stopped as in
 * sysg_log_rotate_copy: the renamed file holds everything written up to
 * now, PATH everything after. Returns 1 when done, 0 when nothing to do,
 * or -errno with ERR filled (-EAGAIN: try again). *FD is replaced by a
 * new fd on the same file (opened by the name PATH). */
int sysg_log_reclaim(const char *path, int *fd, char *err, size_t errlen);

/* The shell command that compresses PATH.1 (gzip), written to BUF. */
void sysg_log_gzip_command(const char *path, char *buf, size_t len);

#endif
