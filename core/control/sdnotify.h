/* sdnotify.h - tell the service manager that started sysg how the
 * supervisor is doing: systemd's Type=notify protocol (sd_notify(3))
 * without libsystemd.
 *
 * The manager passes an AF_UNIX datagram socket in $NOTIFY_SOCKET: a
 * path, or an abstract name written with a leading '@'. Each message is
 * one datagram of newline-separated VAR=VALUE assignments ("READY=1",
 * "STOPPING=1", "STATUS=...", "MAINPID=..."). sysg_notify_init() takes
 * the variable out of the environment, so that the services sysg starts
 * never talk to the manager in sysg's name. */
#ifndef SYSG_SDNOTIFY_H
#define SYSG_SDNOTIFY_H

#include <sys/socket.h>
#include <sys/un.h>

struct sysg_notify {
	int fd;                         /* -1: no manager to notify */
	char text[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* as given */
	struct sockaddr_un addr;
	socklen_t addrlen;
};

/* Read and unset $NOTIFY_SOCKET; open a close-on-exec datagram socket
 * for it. Returns 1 when there is a manager to notify, 0 when the
 * variable is unset or empty, or a negative code (a malformed address:
 * -EINVAL; no socket: -errno); N is usable (a no-op) in every case.
 * N->text keeps the address as written when it is usable. */
int sysg_notify_init(struct sysg_notify *n);

/* Send STATE ("READY=1\nSTATUS=...") in one datagram. 0 when sent or
 * when there is no manager, -errno when sending failed (never blocks). */
int sysg_notify_send(struct sysg_notify *n, const char *state);

void sysg_notify_close(struct sysg_notify *n);

#endif
