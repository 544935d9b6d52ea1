/* sockets.c - the listening sockets a service's runs share (`listen:`).
 *
 * Bound once, before the first start that needs them, and kept by the
 * service (not by its run) across restarts, and across reloads and
 * deploys that leave a socket's definition unchanged: every run gets the
 * very same sockets, so the kernel's accept queue never closes while one
 * generation replaces another. A socket whose definition changed or went
 * away is closed at the next start; the rest stay open until the service
 * is freed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "svc.h"

static void held_free(struct svc_socket *h)
{
	if (h->fd >= 0)
		close(h->fd);
	sysg_listen_free(h->def, 1);
	h->def = NULL;
	h->fd = -1;
}

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

/* The index in OLD of a socket that serves L as it is, or -1. */
static long find_held(const struct svc_socket *old, size_t nold,
		      const unsigned char *used, const struct sysg_listen *l)
{
	for (size_t i = 0; i < nold; i++)
		if (!used[i] && sysg_listen_same(old[i].def, l))
			return (long)i;
	return -1;
}

static int names_join(struct svc *v)
{
	size_t len = 1;
	char *p;

	for (size_t i = 0; i < v->nsockets; i++)
		len += strlen(v->sockets[i].def->name) + 1;
	free(v->socket_names);
	v->socket_names = p = malloc(len);
	if (!p)
		return -ENOMEM;
	*p = '\0';
	for (size_t i = 0; i < v->nsockets; i++)
		p += sprintf(p, "%s%s", i ? ":" : "",
			     v->sockets[i].def->name);
	return 0;
}

/* Fill NEXT for the config's sockets: held ones (marked in USED) or
 * newly bound ones. On failure the new ones are closed and OLD is left
 * as it was. */
static int plan(struct svc *v, struct svc_socket *next, long *from,
		unsigned char *used, char *err, size_t errlen)
{
	const struct sysg_service *c = v->cfg;
	int rc = 0;

	for (size_t i = 0; i < c->nlisten && rc == 0; i++) {
		from[i] = find_held(v->sockets, v->nsockets, used,
				    &c->listen[i]);
		if (from[i] >= 0) {
			used[from[i]] = 1;
			next[i] = v->sockets[from[i]];
			continue;
		}
		next[i].fd = -1;
		if ((rc = copy_def(&c->listen[i], &next[i].def)) < 0)
			sysg_errf(err, errlen, "out of memory");
		else if ((next[i].fd = sysg_socket_bind(&c->listen[i], err,
							errlen)) < 0)
			rc = next[i].fd;
	}
	for (size_t i = 0; rc < 0 && i < c->nlisten; i++)
		if (from[i] < 0 && next[i].def)
			held_free(&next[i]);
	return rc;
}

int svc_sockets_sync(struct svc *v, char *err, size_t errlen)
{
	const struct sysg_service *c = v->cfg;
	struct svc_socket *next = calloc(c->nlisten + 1, sizeof(*next));
	long *from = calloc(c->nlisten + 1, sizeof(*from));
	unsigned char *used = calloc(v->nsockets + 1, 1);
	int rc = next && from && used ? 0 : -ENOMEM;

	if (rc == 0 && (rc = plan(v, next, from, used, err, errlen)) == 0) {
		for (size_t i = 0; i < v->nsockets; i++)
			if (!used[i])
				held_free(&v->sockets[i]);
		free(v->sockets);
		v->sockets = next;
		v->nsockets = c->nlisten;
		next = NULL;
		for (size_t i = 0; i < v->nsockets && rc == 0; i++) {
			free(v->sockets[i].def->name);  /* names may change */
			v->sockets[i].def->name = strdup(c->listen[i].name);
			rc = v->sockets[i].def->name ? 0 : -ENOMEM;
		}
		if (rc == 0)
			rc = names_join(v);
	}
	if (rc == -ENOMEM)
		sysg_errf(err, errlen, "out of memory");
	free(next);
	free(from);
	free(used);
	return rc;
}

void svc_sockets_close(struct svc *v)
{
	for (size_t i = 0; i < v->nsockets; i++)
		held_free(&v->sockets[i]);
	free(v->sockets);
	free(v->socket_names);
	v->sockets = NULL;
	v->socket_names = NULL;
	v->nsockets = 0;
}
