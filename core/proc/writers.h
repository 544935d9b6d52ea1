/* writers.h - stop, for a moment, every process that writes a file.
 *
 * The lossless copytruncate of logrotate.h needs the file to stay still
 * between its last copy and its truncation. The processes writing it are
 * found in /proc/PID/fd (file descriptors on the same inode, open for
 * writing: readers such as `tail -f` are left alone), stopped with
 * SIGSTOP, and waited for until /proc says they are stopped (a process
 * inside write() stops when the call returns, so no write is half done).
 * Processes forked meanwhile are caught by scanning again until a scan
 * finds nobody new. Processes stopped already by someone else are left
 * as they are (they cannot write). The caller's own process is never
 * stopped.
 */
#ifndef SYSG_WRITERS_H
#define SYSG_WRITERS_H

#include "proctree.h"

/* Stop every other process writing FD's file; they go to STOPPED. 0,
 * -EAGAIN when they did not all stop within 2 s (then none is left
 * stopped), or -errno. */
int sysg_writers_stop(int fd, struct sysg_pidset *stopped);

/* Continue (SIGCONT) the processes of STOPPED and free it. */
void sysg_writers_continue(struct sysg_pidset *stopped);

#endif
