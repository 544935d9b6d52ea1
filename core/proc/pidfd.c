/* pidfd.c - see pidfd.h */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pidfd.h"

int sysg_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	static int unsupported;         /* ENOSYS once: don't ask again */
	int fd;

	if (unsupported) {
		errno = ENOSYS;
		return -1;
	}
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0 && errno == ENOSYS)
		unsupported = 1;
	return fd;
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

int sysg_pidfd_getfd(int pidfd, int fd)
{
#ifdef SYS_pidfd_getfd
	/* the new fd is close-on-exec (pidfd_getfd(2)) */
	return (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
#else
	(void)pidfd;
	(void)fd;
	errno = ENOSYS;
	return -1;
#endif
}
