/* link.h - the socket between the supervisor and a deploy worker.
 *
 * Each message is a frame: a 4-byte big-endian length, then that many
 * bytes of JSON (jansson), like the control socket's (control.h). The
 * worker sends one request at a time ({"op": NAME, ...}) and blocks for
 * its reply ({"rc": N, ...}); the supervisor reads without blocking in
 * its event loop. */
#ifndef SYSG_DEPLOY_LINK_H
#define SYSG_DEPLOY_LINK_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define SYSG_LINK_MAX (1024 * 1024)     /* largest frame */

/* Write MSG (borrowed) as one frame on blocking FD. 0 or -errno. */
int sysg_link_send(int fd, const json_t *msg);

/* Read one frame from blocking FD into *MSG (caller decrefs). 0,
 * -EPIPE (the peer closed), -EPROTO (not a JSON object) or -errno. */
int sysg_link_recv(int fd, json_t **msg);

/* A non-blocking reader: feed what arrives, take whole frames. */
struct sysg_link_buf {
	char *buf;
	size_t len, cap;
};

/* Read what FD has. 0 (more may come), -EPIPE at end of file, -errno. */
int sysg_link_fill(struct sysg_link_buf *b, int fd);

/* Take the next whole frame: 1 with *MSG set, 0 when none is complete,
 * -EPROTO when the stream is unusable. */
int sysg_link_take(struct sysg_link_buf *b, json_t **msg);

void sysg_link_buf_free(struct sysg_link_buf *b);

/* Member KEY of object J as an integer / a string (0 / NULL when it is
 * absent or of another type): how both ends read a message. */
int64_t sysg_jint(const json_t *j, const char *key);
const char *sysg_jstr(const json_t *j, const char *key);

#endif
