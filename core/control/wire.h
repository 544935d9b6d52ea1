/* control.h - the control socket between the CLI and the resident
 * supervisor.
 *
 * Wire format: each message is a frame = 4-byte big-endian length, then
 * that many bytes of UTF-8 JSON (jansson). A request is
 *     {"v": 1, "cmd": "status", "args": {...}}
 * and its reply
 *     {"v": 1, "ok": true|false, "exit": N, "error": "...", "data": {...}}
 * A reply may carry an attachment: N bytes of text after the JSON in the
 * same frame, announced by "attachment": N in the envelope (only sent to
 * requests that ask for one, e.g. status's "json_text"); the client hands
 * it over as the reply's "attachment" string.
 * Requests are at most SYSG_CTL_MAX_REQUEST bytes, replies at most
 * SYSG_CTL_MAX_REPLY. A request that is oversized, not JSON, not an
 * object, of another version, or without "cmd" gets an error reply (or,
 * when the frame itself is unusable, a closed connection); a client that
 * does not finish its request within SYSG_CTL_REQUEST_TIMEOUT_MS is
 * disconnected. None of this can block or stop the supervisor: the server
 * runs inside the supervisor's event loop with non-blocking sockets.
 *
 * Access: the socket is created 0600 in the (0700) state directory and
 * every connection's SO_PEERCRED uid must be the supervisor's uid or root.
 */
#ifndef SYSG_CONTROL_H
#define SYSG_CONTROL_H

#include <stddef.h>
#include <jansson.h>

#include "base/base.h"

#define SYSG_CTL_VERSION             1
#define SYSG_CTL_MAX_REQUEST         (64 * 1024)
#define SYSG_CTL_MAX_REPLY           (16 * 1024 * 1024)
#define SYSG_CTL_REQUEST_TIMEOUT_MS  5000
#define SYSG_CTL_MAX_CLIENTS         64
/* A connection that has sent nothing after this is closed (CLIs send
 * their request right after connecting). */
#define SYSG_CTL_FIRST_BYTE_MS       1500
/* Connections of one peer process still sending their request: more are
 * refused, so one process cannot fill the table. */
#define SYSG_CTL_MAX_PER_PID         4

struct sysg_ctl_server;
struct sysg_ctl_conn;

/* Called once per valid request. ARGS is an object (never NULL; borrowed,
 * valid until the reply). The handler answers now or later with
 * sysg_ctl_reply(); until then the connection stays open. */
typedef void (*sysg_ctl_handler)(void *arg, struct sysg_ctl_conn *conn,
				 const char *cmd, json_t *args);

/* Listen on PATH (an existing socket file there is replaced when no
 * server answers on it; a live one gives -EADDRINUSE). 0 or -errno with a
 * message in ERR. */
int sysg_ctl_server_new(struct sysg_ctl_server **out, struct sysg_loop *loop,
			const char *path, sysg_ctl_handler handler, void *arg,
			char *err, size_t errlen);

/* Same, serving LISTEN_FD (already bound to PATH and listening: handed
 * over by a live upgrade; taken) when it is >= 0. */
int sysg_ctl_server_new_fd(struct sysg_ctl_server **out,
			   struct sysg_loop *loop, const char *path,
			   int listen_fd, sysg_ctl_handler handler, void *arg,
			   char *err, size_t errlen);

/* The listening socket (for a live upgrade's handoff), or -1. */
int sysg_ctl_server_fd(const struct sysg_ctl_server *s);

/* Close the listener and every connection (pending ones are dropped) and
 * unlink the socket file. */
void sysg_ctl_server_free(struct sysg_ctl_server *s);

/* Reply to CONN and release it. DATA (may be NULL) is stolen. EXIT is the
 * CLI exit status the client should end with; ERROR (may be NULL) its
 * one-line reason. Safe when the client has already gone. */
void sysg_ctl_reply(struct sysg_ctl_conn *conn, int exit_code,
		    const char *error, json_t *data);

/* The same with an attachment: ATT (ALEN bytes, copied) follows the
 * reply's JSON in its frame (see the wire format above). */
void sysg_ctl_reply_att(struct sysg_ctl_conn *conn, int exit_code,
			const char *error, json_t *data, const char *att,
			size_t alen);

/* The peer's pid and uid (from SO_PEERCRED). */
int sysg_ctl_conn_pid(const struct sysg_ctl_conn *conn);
int sysg_ctl_conn_uid(const struct sysg_ctl_conn *conn);

/* Client: send CMD with ARGS (stolen; NULL for {}) to the supervisor at
 * PATH and wait up to TIMEOUT_MS (-1: forever) for the reply. On success
 * returns 0 and sets *reply (caller json_decref's) with the fields above.
 * -ENOENT / -ECONNREFUSED: no supervisor listening. Other negative codes
 * with a message in ERR. */
int sysg_ctl_call(const char *path, const char *cmd, json_t *args,
		  int timeout_ms, json_t **reply, char *err, size_t errlen);

/* Encode/decode one frame; exposed for the fuzzer and tests. decode
 * returns 0 and the parsed request (caller decrefs), or -EINVAL / -E2BIG
 * with a message. */
int sysg_ctl_decode_request(const char *buf, size_t len, json_t **req,
			    const char **cmd, json_t **args, char *err,
			    size_t errlen);

#endif
