/* logview.h - read the log files that the supervisor writes (logs.h):
 * show the last lines, follow new output, clear in place.
 *
 * Files live in the log directory (sysg_log_dir): <svc>_stdout.log,
 * <svc>_stderr.log and supervisor.log. Reading never loads a whole file:
 * the last N lines are found by reading backwards from the end in
 * blocks, then copied out. Clearing truncates the file in place
 * (ftruncate), so a supervisor writing with O_APPEND keeps writing to it
 * from offset 0. Following polls each file's size every interval and
 * copes with truncation (starts again from 0) and rotation (a new file
 * at the path: the old one is drained, then the new one is followed). */
#ifndef SYSG_LOGVIEW_H
#define SYSG_LOGVIEW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct sysg_mux;

struct sysg_logfile {
	char *service;          /* NULL for supervisor.log */
	char *kind;             /* "stdout", "stderr" or "supervisor" */
	char *path;
};

struct sysg_logset {
	struct sysg_logfile *v;
	size_t n;
};

/* Select the files to show. SERVICES (NSERVICES names) are the services
 * to show, in order; KIND is "stdout", "stderr", "supervisor" or NULL for
 * both outputs of each service plus, when WITH_SUPERVISOR, supervisor.log
 * last. 0 or -ENOMEM. Free with sysg_logset_free. */
int sysg_logset_build(struct sysg_logset *set, const char *log_dir,
		      const char *const *services, size_t nservices,
		      const char *kind, int with_supervisor);
void sysg_logset_free(struct sysg_logset *set);

/* The services that have a log file in LOG_DIR (names taken from
 * <svc>_stdout.log / <svc>_stderr.log), sorted, without duplicates.
 * *OUT is a malloc'd array of malloc'd names (free each, then it).
 * Returns the count, or -errno (0 and *OUT NULL when LOG_DIR is absent). */
int sysg_log_services(const char *log_dir, char ***out);

/* Write the last LINES lines of PATH to OUT (a final line without a
 * newline counts as a line). *END (may be NULL) gets the offset up to
 * which the file was printed. 0, -ENOENT when PATH does not exist, or
 * -errno. */
int sysg_log_tail(const char *path, long lines, FILE *out, off_t *end);

/* Print the last LINES lines of every existing file of SET; with more
 * than one file, each is preceded by "==> api (stdout): PATH <==".
 * Returns the number of files that existed, or -errno. */
int sysg_logs_show(const struct sysg_logset *set, long lines, FILE *out);

/* Truncate PATH to zero length in place, without following a symlink.
 * 0, -ENOENT, or -errno. */
int sysg_log_clear(const char *path);

struct sysg_follow_opts {
	int64_t interval_ms;            /* poll period */
	long lines;                     /* lines of history printed first */
	FILE *out;                      /* the log text */
	FILE *notes;                    /* "truncated"/"rotated" notices; may be NULL */
	/* Called before each poll; non-zero ends the follow (e.g. SIGINT
	 * seen). ARG is passed through. */
	int (*stop)(void *arg);
	void *arg;
	struct sysg_mux *mux;           /* NULL, or each line to OUT through
	                                   it as "name | line" (mux.h), no
	                                   headers */
};

/* Print the last lines of SET's files, then follow them until STOP says
 * so. Files that do not exist yet are picked up when they appear. When
 * output switches between files (more than one in SET) a header line
 * names the file. 0 or -errno. */
int sysg_logs_follow(const struct sysg_logset *set,
		     const struct sysg_follow_opts *o);

#endif
