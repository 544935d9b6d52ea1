/* sockets.h - bind the listening sockets of a service (config listen.h)
 * and find who holds a port that is already taken.
 *
 * The supervisor binds each socket once, before the service's first
 * start (so a port below 1024 works for a service that runs as another
 * user), and hands the same socket to every run (spawn.h). */
#ifndef SYSG_SOCKETS_H
#define SYSG_SOCKETS_H

#include <stddef.h>
#include <sys/types.h>

#include "config/config.h"

/* Create, bind and listen on L: a close-on-exec listening socket, or
 * -errno with a message in ERR. A port in use is -EADDRINUSE with the
 * holder named when /proc tells it ("... is in use by pid 12 (nginx)").
 * A unix socket's stale file is replaced (one nobody accepts on); MODE and
 * OWNER are applied to the file. */
int sysg_socket_bind(const struct sysg_listen *l, char *err, size_t errlen);

/* Take back L's listening socket from process PID, which got it from a
 * supervisor that is gone (a new supervisor adopting its services, or
 * a live upgrade): fd HINT first (where sd_listen_fds(3) put it), then
 * every other socket PID holds, each copied with pidfd_getfd(2) and kept
 * only when it is a listening stream socket bound to L's address. The
 * socket (close-on-exec; listen(2) again with L's backlog), or -errno
 * with ERR: -ENOENT when PID holds none. */
int sysg_socket_take(pid_t pid, int hint, const struct sysg_listen *l,
		     char *err, size_t errlen);

/* 1 when FD is a listening stream socket bound to L's address. */
int sysg_socket_is(int fd, const struct sysg_listen *l);

/* Describe the process listening on L's port or path into BUF ("pid 12
 * (nginx)"). 0, or -ENOENT when /proc cannot tell. */
int sysg_socket_holder(const struct sysg_listen *l, char *buf, size_t len);

#endif
