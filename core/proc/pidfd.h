/* pidfd.h - process file descriptors (pidfd_open(2), pidfd_getfd(2)):
 * watching the exit of a process that is not our child, and taking a
 * copy of one of its fds (the listening sockets a new supervisor gets
 * back from the services it adopts, sockets.h). */
#ifndef SYSG_PIDFD_H
#define SYSG_PIDFD_H

#include <sys/types.h>

/* A pidfd of PID (always close-on-exec), or -1 with errno (ENOSYS on a
 * kernel without pidfd_open, asked only once). */
int sysg_pidfd_open(pid_t pid);

/* A copy, in this process, of fd FD of the process PIDFD refers to
 * (close-on-exec), or -1 with errno (EPERM when ptrace rules forbid it,
 * EBADF when it has no such fd, ENOSYS before Linux 5.6). */
int sysg_pidfd_getfd(int pidfd, int fd);

#endif
