/* sockets.c - the listening sockets a service's runs share (`listen:`).
 *
 * Bound once, before the first start that needs them, and kept across
 * restarts, and across reloads and deploys that leave a socket's
 * definition unchanged: every run gets the very same sockets, so the
 * kernel's accept queue never closes while one generation replaces
 * another. The supervisor keeps them in one pool, by definition: the
 * copies of a service (instances: N) share its sockets. A socket no
 * service uses any more is closed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "svc.h"

struct sup_socket {
	struct sup_socket *next;
	int fd;
	int users;
	struct sysg_listen *def;        /* a copy of its definition */
};

static int copy_def(const struct sysg_listen *l, struct sysg_listen **out)
{
	struct sysg_listen *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	*c = *l;
	c->address = strdup(l->address);
	c->name = strdup(l->name);
	c->owner = l->owner ? strdup(l->owner) : NULL;
	*out = c;
	if (!c->address || !c->name || (l->owner && !c->owner))
		return -ENOMEM;
	if (l->path)
		c->path = c->address + (l->path - l->address);
	return 0;
}

static void unuse(struct sysg_supervisor *s, struct sup_socket *k)
{
	struct sup_socket **pp = &s->sockets;

	if (--k->users > 0)
		return;
	while (*pp && *pp != k)
		pp = &(*pp)->next;
	if (*pp)
		*pp = k->next;
	close(k->fd);
	sysg_listen_free(k->def, 1);
	free(k);
}

/* The pool's socket for L (one more user), bound now if needed. */
static struct sup_socket *use(struct sysg_supervisor *s,
			      const struct sysg_listen *l, char *err,
			      size_t errlen, int *rc)
{
	struct sup_socket *k;

	for (k = s->sockets; k; k = k->next)
		if (sysg_listen_same(k->def, l)) {
			k->users++;
			return k;
		}
	k = calloc(1, sizeof(*k));
	if (!k || (*rc = copy_def(l, &k->def)) < 0) {
		if (k)
			sysg_listen_free(k->def, 1);
		free(k);
		*rc = -ENOMEM;
		sysg_errf(err, errlen, "out of memory");
		return NULL;
	}
	k->fd = sysg_socket_bind(l, err, errlen);
	if (k->fd < 0) {
		*rc = k->fd;
		sysg_listen_free(k->def, 1);
		free(k);
		return NULL;
	}
	k->users = 1;
	k->next = s->sockets;
	s->sockets = k;
	return k;
}

static int names_join(struct svc *v)
{
	const struct sysg_service *c = v->cfg;
	size_t len = 1;
	char *p;

	for (size_t i = 0; i < c->nlisten; i++)
		len += strlen(c->listen[i].name) + 1;
	free(v->socket_names);
	v->socket_names = p = malloc(len);
	if (!p)
		return -ENOMEM;
	*p = '\0';
	for (size_t i = 0; i < c->nlisten; i++)
		p += sprintf(p, "%s%s", i ? ":" : "", c->listen[i].name);
	return 0;
}

int svc_sockets_sync(struct svc *v, char *err, size_t errlen)
{
	const struct sysg_service *c = v->cfg;
	struct sup_socket **next = calloc(c->nlisten + 1, sizeof(*next));
	int rc = next ? 0 : -ENOMEM;

	/* take the new set first: what is held stays bound meanwhile */
	for (size_t i = 0; rc == 0 && i < c->nlisten; i++)
		next[i] = use(v->sup, &c->listen[i], err, errlen, &rc);
	if (rc < 0) {
		for (size_t i = 0; next && i < c->nlisten; i++)
			if (next[i])
				unuse(v->sup, next[i]);
		free(next);
		if (rc == -ENOMEM)
			sysg_errf(err, errlen, "out of memory");
		return rc;
	}
	svc_sockets_close(v);
	v->sockets = next;
	v->nsockets = c->nlisten;
	if (names_join(v) < 0) {
		sysg_errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int svc_socket_fd(const struct svc *v, size_t i)
{
	return v->sockets[i]->fd;
}

void svc_sockets_close(struct svc *v)
{
	for (size_t i = 0; i < v->nsockets; i++)
		unuse(v->sup, v->sockets[i]);
	free(v->sockets);
	free(v->socket_names);
	v->sockets = NULL;
	v->socket_names = NULL;
	v->nsockets = 0;
}
