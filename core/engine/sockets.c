/* sockets.c - the listening sockets a service's runs share (`listen:`).
 *
 * Bound once, before the first start that needs them, and kept across
 * restarts, and across reloads and deploys that leave a socket's
 * definition unchanged: every run gets the very same sockets, so the
 * kernel's accept queue never closes while one generation replaces
 * another. The supervisor keeps them in one pool, by definition: the
 * copies of a service (instances: N) share its sockets. A socket no
 * service uses any more is closed.
 *
 * A supervisor that adopts the runs a dead one left (adopt.c), or that
 * was just re-executed by `sysg upgrade`, has none of those sockets: it
 * takes each back from an adopted run (pidfd_getfd(2), at fd 3 + its
 * index where sd_listen_fds(3) put it, else wherever the run keeps it,
 * checked by its address), so that the next restart or deploy hands the
 * very same socket to the new run and no connection is refused. */
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

/* The pool's socket for L (one more user), bound now if needed, or
 * taken back from process FROM (> 0: a run a supervisor that is gone
 * passed it to, as fd HINT). */
static struct sup_socket *use(struct sysg_supervisor *s,
			      const struct sysg_listen *l, pid_t from,
			      int hint, char *err, size_t errlen, int *rc,
			      int *taken)
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
	k->fd = from > 0 ? sysg_socket_take(from, hint, l, err, errlen) :
		sysg_socket_bind(l, err, errlen);
	if (k->fd < 0) {
		*rc = k->fd;
		sysg_listen_free(k->def, 1);
		free(k);
		return NULL;
	}
	*taken += from > 0;
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

/* V's sockets: the pool's, else bound now, or taken from FROM (> 0;
 * how many were goes to *TAKEN). */
static int sockets_get(struct svc *v, pid_t from, int *taken, char *err,
		       size_t errlen)
{
	const struct sysg_service *c = v->cfg;
	struct sup_socket **next = calloc(c->nlisten + 1, sizeof(*next));
	int rc = next ? 0 : -ENOMEM;

	/* take the new set first: what is held stays bound meanwhile */
	for (size_t i = 0; rc == 0 && i < c->nlisten; i++)
		next[i] = use(v->sup, &c->listen[i], from,
			      SYSG_LISTEN_FD_FIRST + (int)i, err, errlen, &rc,
			      taken);
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

int svc_sockets_sync(struct svc *v, char *err, size_t errlen)
{
	int taken = 0;

	return sockets_get(v, 0, &taken, err, errlen);
}

int svc_sockets_recover(struct svc *v, char *err, size_t errlen)
{
	int taken = 0, rc;

	if (!v->cfg->nlisten || v->nsockets || v->pid <= 0)
		return 0;
	rc = sockets_get(v, v->pid, &taken, err, errlen);
	return rc < 0 ? rc : taken;
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
