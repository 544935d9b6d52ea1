/* logs.h - the supervisor log and the per-service output logs.
 *
 * supervisor.log gets one line per lifecycle event:
 *     2026-11-26T10:30:15.123Z INFO  Starting service: api
 * (UTC, millisecond precision, level padded to five characters).
 * Service output is read from the pipes of the running process by the
 * event loop (non-blocking) and appended to logs/<svc>_stdout.log and
 * logs/<svc>_stderr.log (created 0640). A failed write is dropped and
 * counted: a full disk never blocks a service or the supervisor.
 */
#ifndef SYSG_LOGS_H
#define SYSG_LOGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/base.h"

struct sysg_log {
	int fd;                 /* supervisor.log, O_APPEND */
	int level;              /* enum sysg_log_level threshold; 0: off */
	FILE *echo;             /* also print lines here (NULL: don't) */
	int echo_level;
	uint64_t dropped;
	char *dir;              /* the log directory */
	int dirfd;              /* ... opened once it was found safe */
	char why[1100];         /* why sysg_log_open failed ("" if unknown) */
};

/* Open DIR/supervisor.log (DIR is created 0700). DIR must be the
 * running user's (or root's) and not writable by group or others, and no
 * log file is opened through a symlink. 0 or -errno, LG->why saying why
 * (and how to fix it). */
int sysg_log_open(struct sysg_log *lg, const char *dir, int level);
void sysg_log_close(struct sysg_log *lg);

/* Log one line at LEVEL (enum sysg_log_level) if LEVEL <= threshold. */
void sysg_log(struct sysg_log *lg, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reopen supervisor.log when it was renamed away (external logrotate),
 * the same way as sysg_log_open (never through a symlink). 1 reopened,
 * 0 nothing to do, or -errno. */
int sysg_log_reopen_main(struct sysg_log *lg);

/* Open (create 0640, append, close-on-exec, never through a symlink)
 * <SVC>_<KIND>.log in LG's directory, where KIND is "stdout" or
 * "stderr". Returns the fd or -errno (-ELOOP: a symlink is there). */
int sysg_log_open_service(const struct sysg_log *lg, const char *svc,
			  const char *kind);

/* DIR/<SVC>_<KIND>.log into BUF. 0 or -ENAMETOOLONG. */
int sysg_log_service_path(const char *dir, const char *svc, const char *kind,
			  char *buf, size_t len);

#define SYSG_DRAIN_LINE_MAX 4096        /* longer echoed lines are split */

/* Where a drain's lines go besides its log file: SVC, STREAM (1 stdout,
 * 2 stderr) and one line without its newline (longer lines than
 * SYSG_DRAIN_LINE_MAX come in pieces; a last line without a newline when
 * the drain ends). */
typedef void (*sysg_line_fn)(void *arg, const char *svc, int stream,
			     const char *line, size_t len);

/* A pipe being drained into a log file. */
struct sysg_drain {
	struct sysg_io io;
	int log_fd;             /* not owned */
	sysg_line_fn on_line;   /* or NULL */
	void *line_arg;
	int stream;             /* 1 or 2 */
	const char *svc;        /* not owned; outlives the drain */
	uint64_t *dropped;      /* counter to bump on a failed write */
	void (*on_eof)(struct sysg_drain *d);   /* called once, then free */
	void *arg;
	char *line;             /* partial line (only with ON_LINE) */
	size_t linelen;
	struct sysg_loop *loop;
	struct sysg_drain *next;
	/* size-based rotation (logrotate.h, pipe mode): once the file
	 * reaches MAX_SIZE (0: never), ROTATE is called at the next line
	 * boundary; it sets a new LOG_FD and SIZE */
	int64_t max_size;
	int64_t size;           /* bytes in the file */
	void (*rotate)(struct sysg_drain *d);
	int mid_line;           /* the file ends inside a line */
	/* reopen: write to NEXT_FD from the next line start on; then
	 * close CLOSE_FD (the old file's fd, owned; -1: none) */
	int next_fd, close_fd;
};

/* Switch D to FD (not owned) at the next line start, so that no line is
 * split between the old file and the new one; OLD_FD (owned, may be -1)
 * is closed then. */
void sysg_drain_switch(struct sysg_drain *d, int fd, int old_fd);

/* Start draining PIPE_FD (takes ownership), stream STREAM of SVC, into
 * LOG_FD, each line also to ON_LINE(LINE_ARG, ...) when it is set;
 * returns the drain or NULL (then PIPE_FD is closed). The drain frees
 * itself after EOF, or by sysg_drain_free. */
struct sysg_drain *sysg_drain_new(struct sysg_loop *l, int pipe_fd,
				  int log_fd, const char *svc, int stream,
				  sysg_line_fn on_line, void *line_arg,
				  uint64_t *dropped);

/* Read what is available now (also used at EOF). 1 at EOF, else 0. */
int sysg_drain_pump(struct sysg_drain *d);

/* Stop watching, hand on the partial line, close the pipe, free. */
void sysg_drain_free(struct sysg_drain *d);

#endif
