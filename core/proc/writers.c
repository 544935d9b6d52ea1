/* writers.c - stop every process that writes a file (see writers.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "procstat.h"
#include "writers.h"

#define STOP_MS 2000            /* writers must stop within this */

/* 1 when fd FD of process PID is open for writing (fdinfo "flags:"). */
static int writable(const char *pid, const char *fd)
{
	char path[600], buf[512], *f;
	unsigned long flags;

	snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", pid, fd);
	if (sysg_proc_read_file(path, buf, sizeof(buf)) < 0 ||
	    !(f = strstr(buf, "flags:")))
		return 1;       /* cannot tell: count it */
	flags = strtoul(f + 6, NULL, 8);
	return (flags & O_ACCMODE) != O_RDONLY;
}

/* 1 when process PID has a file descriptor open for writing on (DEV,
 * INO); readers (tail -f, sysg logs -f) are left alone. */
static int has_open(const char *pid, dev_t dev, ino_t ino)
{
	char dir[300], fdp[600];
	struct dirent *e;
	struct stat st;
	DIR *d;
	int found = 0;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	d = opendir(dir);
	while (d && !found && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(fdp, sizeof(fdp), "%s/%s", dir, e->d_name);
			found = stat(fdp, &st) == 0 && st.st_dev == dev &&
				st.st_ino == ino && writable(pid, e->d_name);
		}
	if (d)
		closedir(d);
	return found;
}

/* SIGSTOP every process but us with the file open that is not in
 * STOPPED yet (and not stopped already by someone else); they join
 * STOPPED. Returns how many were added, or -errno. */
static int stop_new_writers(dev_t dev, ino_t ino, struct sysg_pidset *stopped)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t self = getpid();
	int added = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		struct sysg_procstat ps;
		pid_t pid = (pid_t)atoi(e->d_name);

		if (pid <= 0 || pid == self || sysg_pidset_has(stopped, pid) ||
		    !has_open(e->d_name, dev, ino) ||
		    sysg_procstat_read(pid, &ps) < 0 || ps.state == 'T' ||
		    ps.state == 't' || ps.state == 'Z')
			continue;
		if (kill(pid, SIGSTOP) < 0) {
			if (errno == ESRCH)
				continue;
			closedir(d);
			return -errno;
		}
		if (sysg_pidset_add(stopped, pid, ps.start_ticks) < 0) {
			kill(pid, SIGCONT);
			closedir(d);
			return -ENOMEM;
		}
		added++;
	}
	closedir(d);
	return added;
}

/* 1 when every member of S has stopped (or is gone). */
static int all_stopped(const struct sysg_pidset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct sysg_procstat ps;

		if (sysg_procstat_read(s->v[i].pid, &ps) < 0)
			continue;       /* gone */
		if (ps.state != 'T' && ps.state != 't' && ps.state != 'Z' &&
		    ps.state != 'X')
			return 0;
	}
	return 1;
}

void sysg_writers_continue(struct sysg_pidset *s)
{
	sysg_pidset_kill(s, SIGCONT);
	sysg_pidset_free(s);
}

int sysg_writers_stop(int fd, struct sysg_pidset *stopped)
{
	struct stat st;
	int64_t deadline = sysg_now_ms() + STOP_MS;
	const struct timespec ms = { 0, 1000000 };
	int rc;

	memset(stopped, 0, sizeof(*stopped));
	if (fstat(fd, &st) < 0)
		return -errno;
	/* until a scan finds no new writer: one forked between our scan and
	 * its parent's stop would otherwise be missed */
	do {
		int spins = 0;

		rc = stop_new_writers(st.st_dev, st.st_ino, stopped);
		while (rc >= 0 && !all_stopped(stopped)) {
			if (sysg_now_ms() > deadline) {
				rc = -EAGAIN;
				break;
			}
			/* a stop takes microseconds: yield first, then sleep */
			if (spins++ < 50)
				sched_yield();
			else
				nanosleep(&ms, NULL);
		}
	} while (rc > 0);
	if (rc < 0)
		sysg_writers_continue(stopped);
	return rc;
}
