/* daemontest.h - fixtures for the black-box tests of the resident
 * supervisor: a temp project whose SYSG_STATE_DIR and HOME point inside
 * it, the sysg binary ($SYSG_BIN) run against it, status --json parsed,
 * conditions polled with deadlines, and a teardown that leaves no
 * process behind (a full `stop`, then SIGKILL of the pid in sysg.pid and
 * of every service pid seen, as a fallback). */
#ifndef SYSG_TEST_DAEMONTEST_H
#define SYSG_TEST_DAEMONTEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "runutil.h"

#define DT_MAX_PIDS 256

struct dt {
	char *dir;              /* the project (config) directory */
	char *state;            /* DIR/state */
	char *env[3];           /* SYSG_STATE_DIR=..., HOME=..., NULL */
	const char *backend;    /* NULL, or passed as --state-backend */
	pid_t seen[DT_MAX_PIDS];        /* pids to kill at teardown */
	int nseen;
};

/* Unchecked fixture of the suite (runs in the runner process): fixtures
 * are created under one directory, and whatever a failed test left
 * running there is stopped at the end. */
void dt_suite_setup(void);
void dt_suite_teardown(void);

/* Create the project with YAML (printf-style) as DIR/sysg.yaml. BACKEND
 * may be NULL (xml) or "sqlite". */
void dt_setup(struct dt *t, const char *backend, const char *yaml_fmt, ...)
	__attribute__((format(printf, 3, 4)));
void dt_teardown(struct dt *t);

/* Write TEXT to DIR/NAME. */
void dt_write(struct dt *t, const char *name, const char *text);

/* Content of DIR/NAME (malloc'd) or NULL. */
char *dt_read(struct dt *t, const char *name);

/* Run sysg (with --state-backend when set) in DIR; ARGS NULL-terminated.
 * Returns the exit status; R (may be NULL) keeps the output. */
int dt_sysg(struct dt *t, struct run_result *r, const char *first, ...)
	__attribute__((sentinel));

/* `sysg start --daemonize` must succeed; returns the daemon's pid. */
pid_t dt_start_daemon(struct dt *t);

/* The pid in sysg.pid (0 when absent). */
pid_t dt_daemon_pid(struct dt *t);

/* `status --json [--all]` parsed (NULL when it fails). */
json_t *dt_status(struct dt *t, int all);

/* The unit NAME of a status document (borrowed) or NULL. */
json_t *dt_unit(json_t *status, const char *name);

/* Status word and pid of NAME from a fresh status ("" / 0 if absent). */
const char *dt_status_of(struct dt *t, const char *name, char *buf,
			 size_t len);
pid_t dt_pid(struct dt *t, const char *name);

/* Poll until NAME has STATUS (1) or TIMEOUT_MS passed (0). */
int dt_wait_status(struct dt *t, const char *name, const char *status,
		   int timeout_ms);

/* Poll until PID is gone (1) or TIMEOUT_MS passed (0). */
int dt_wait_gone(pid_t pid, int timeout_ms);

/* Remember PID for the teardown's SIGKILL. */
void dt_track(struct dt *t, pid_t pid);

/* 1 when DIR/NAME exists. */
int dt_exists(struct dt *t, const char *name);

/* Number of live sysg processes whose environment names this fixture's
 * state directory (supervisors and CLIs). */
int dt_count_supervisors(struct dt *t);

/* Poll until FILE (relative to DIR) contains NEEDLE (1) or timeout (0). */
int dt_wait_file(struct dt *t, const char *name, const char *needle,
		 int timeout_ms);

/* Run sysg like dt_sysg, killing it after TIMEOUT_MS. */
int dt_sysg_within(struct dt *t, int timeout_ms, struct run_result *r,
		   const char *first, ...) __attribute__((sentinel));

/* The control socket, raw: connect (asserts), send bytes or one frame
 * (asserts all went), read one reply frame within 5 s (the parsed
 * object, or NULL when the server closed the connection instead). */
int dt_connect(struct dt *t);
void dt_send_all(int fd, const void *buf, size_t len);
void dt_send_frame(int fd, const char *body, size_t len);
json_t *dt_read_reply(int fd);

/* A service manager's notify socket, as systemd's: an AF_UNIX datagram
 * socket bound to ADDR ("/path" or "@abstract"), close-on-exec
 * (asserts). */
int dt_listen_dgram(const char *addr);

/* The next datagram within tu_deadline_ms(TIMEOUT_MS), into BUF ("" when
 * none came). */
const char *dt_next_message(int fd, char *buf, size_t size,
			    int timeout_ms);

#endif
