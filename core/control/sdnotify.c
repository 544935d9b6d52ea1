/* sdnotify.c - see sdnotify.h */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdnotify.h"

/* ADDR ("/path" or "@abstract") into N's address. 0 or -EINVAL. */
static int set_address(struct sysg_notify *n, const char *addr)
{
	size_t len = strlen(addr);

	if ((addr[0] != '/' && addr[0] != '@') || len < 2 ||
	    len >= sizeof(n->addr.sun_path))
		return -EINVAL;
	memset(&n->addr, 0, sizeof(n->addr));
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, addr, len);
	memcpy(n->text, addr, len + 1);
	/* abstract: a leading NUL, and no terminating one */
	if (addr[0] == '@')
		n->addr.sun_path[0] = '\0';
	n->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
				 (addr[0] == '@' ? 0 : 1));
	return 0;
}

int sysg_notify_init(struct sysg_notify *n)
{
	const char *env = getenv("NOTIFY_SOCKET");
	char *addr = env && *env ? strdup(env) : NULL;
	int rc;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	unsetenv("NOTIFY_SOCKET");
	if (!env || !*env)
		return 0;
	if (!addr)
		return -ENOMEM;
	rc = set_address(n, addr);
	free(addr);
	if (rc < 0)
		return rc;
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	return n->fd < 0 ? -errno : 1;
}

int sysg_notify_send(struct sysg_notify *n, const char *state)
{
	if (n->fd < 0)
		return 0;
	if (sendto(n->fd, state, strlen(state), MSG_NOSIGNAL,
		   (const struct sockaddr *)&n->addr, n->addrlen) < 0)
		return -errno;
	return 0;
}

void sysg_notify_close(struct sysg_notify *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}
