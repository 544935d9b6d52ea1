/* ctlclient.h - the CLI's side of the control socket: reach the
 * supervisor of a state directory, send it one request (control.h),
 * print what it answers. */
#ifndef SYSG_CTLCLIENT_H
#define SYSG_CTLCLIENT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* Requests that only read (status, inspect, ping) give up after this;
 * operations (start, stop, restart) wait as long as they take. */
#define SYSG_CTLC_QUERY_TIMEOUT_MS 15000
/* `status` gives up sooner and shows the offline view instead. */
#define SYSG_CTLC_STATUS_TIMEOUT_MS 4000

/* Send CMD with ARGS (stolen; NULL for {}) to the supervisor of
 * STATE_DIR and wait up to TIMEOUT_MS (-1: no limit) for its reply.
 * Returns 0 with *REPLY set (caller json_decref's), -ENOTCONN when no
 * supervisor listens there (nothing printed: callers fall back to the
 * offline path), or another negative code after printing why on ERR as
 * "sysg: ..." (-EACCES: the socket is another user's). */
int sysg_ctlc_call(const char *state_dir, const char *cmd, json_t *args,
		   int timeout_ms, json_t **reply, FILE *err);

/* Print the reply of an operation: data.lines on OUT, then data.errors
 * (or the one-line error) on ERR as "sysg: ...". Returns the reply's
 * exit status. */
int sysg_ctlc_print(const json_t *reply, FILE *out, FILE *err);

/* The reply's exit status (1 when it has none). */
int sysg_ctlc_exit(const json_t *reply);

/* 1 when a supervisor answers on STATE_DIR's socket (its pid in *PID,
 * may be NULL), else 0. Prints nothing. */
int sysg_ctlc_ping(const char *state_dir, int64_t *pid);

#endif
