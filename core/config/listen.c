/* listen.c - listening socket addresses (listen.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "listen.h"

#define UNIX_PATH_MAX 108       /* sizeof(sockaddr_un.sun_path) */
#define EXPECTED "expected tcp://HOST:PORT, tcp6://[ADDR]:PORT or unix:/PATH"

static int parse_port(const char *s, int *port)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

static int parse_tcp(struct sysg_listen *l, const char *rest, char *err,
		     size_t errlen)
{
	const char *colon = strrchr(rest, ':');
	size_t hl = colon ? (size_t)(colon - rest) : 0;
	struct in_addr a;

	if (!colon || hl >= sizeof(l->host) || parse_port(colon + 1, &l->port))
		goto bad;
	memcpy(l->host, rest, hl);
	l->host[hl] = '\0';
	if (!strcmp(l->host, "*") || !strcmp(l->host, "0.0.0.0"))
		strcpy(l->host, "0.0.0.0");
	else if (!strcmp(l->host, "localhost"))
		strcpy(l->host, "127.0.0.1");
	else if (inet_pton(AF_INET, l->host, &a) != 1) {
		sysg_errf(err, errlen, "'%s': HOST must be an IPv4 address, "
			  "'*' or 'localhost'", l->address);
		return -EINVAL;
	}
	return 0;
bad:
	sysg_errf(err, errlen, "'%s': %s (PORT 1-65535)", l->address, EXPECTED);
	return -EINVAL;
}

static int parse_tcp6(struct sysg_listen *l, const char *rest, char *err,
		      size_t errlen)
{
	const char *close = strchr(rest, ']');
	size_t hl = close ? (size_t)(close - rest - 1) : 0;
	struct in6_addr a;

	if (*rest != '[' || !close || close[1] != ':' ||
	    hl >= sizeof(l->host) || parse_port(close + 2, &l->port)) {
		sysg_errf(err, errlen, "'%s': %s (PORT 1-65535)", l->address,
			  EXPECTED);
		return -EINVAL;
	}
	memcpy(l->host, rest + 1, hl);
	l->host[hl] = '\0';
	if (inet_pton(AF_INET6, l->host, &a) != 1) {
		sysg_errf(err, errlen, "'%s': '%s' is not an IPv6 address",
			  l->address, l->host);
		return -EINVAL;
	}
	return 0;
}

int sysg_listen_parse(struct sysg_listen *l, char *err, size_t errlen)
{
	const char *a = l->address;

	l->path = NULL;
	l->host[0] = '\0';
	l->port = 0;
	if (!strncmp(a, "tcp://", 6)) {
		l->kind = SYSG_LISTEN_TCP;
		return parse_tcp(l, a + 6, err, errlen);
	}
	if (!strncmp(a, "tcp6://", 7)) {
		l->kind = SYSG_LISTEN_TCP6;
		return parse_tcp6(l, a + 7, err, errlen);
	}
	if (!strncmp(a, "unix:", 5)) {
		l->kind = SYSG_LISTEN_UNIX;
		l->path = l->address + 5;
		if (*l->path == '/' && strlen(l->path) < UNIX_PATH_MAX)
			return 0;
		sysg_errf(err, errlen, "'%s': a unix socket needs an absolute "
			  "path of at most %d bytes", a, UNIX_PATH_MAX - 1);
		return -EINVAL;
	}
	sysg_errf(err, errlen, "'%s': %s", a, EXPECTED);
	return -EINVAL;
}

int sysg_listen_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > SYSG_LISTEN_NAME_MAX)
		return 0;
	for (const char *c = name; *c; c++)
		if (*c == ':' || *c <= ' ' || *c > '~')
			return 0;
	return 1;
}

static int str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int sysg_listen_clash(const struct sysg_listen *a, const struct sysg_listen *b)
{
	if ((!a->port && !a->path) || (!b->port && !b->path))
		return 0;               /* not parsed: reported already */
	if (a->kind == SYSG_LISTEN_UNIX || b->kind == SYSG_LISTEN_UNIX)
		return a->kind == b->kind && !strcmp(a->path, b->path);
	/* the same port on both families may clash (v6 sockets also take
	 * v4 unless IPV6_V6ONLY): call every reuse of a port a clash */
	return a->port == b->port;
}

int sysg_listen_same(const struct sysg_listen *a, const struct sysg_listen *b)
{
	return !strcmp(a->address, b->address) && a->backlog == b->backlog &&
	       a->mode == b->mode && str_eq(a->owner, b->owner);
}

static const char *find_ref(const char *s)
{
	return strstr(s, "{listen_fd:");
}

int sysg_listen_expand(char **command, const struct sysg_listen *l, size_t n,
		       char *err, size_t errlen)
{
	const char *p;

	while ((p = find_ref(*command)) != NULL) {
		const char *name = p + 11, *end = strchr(name, '}');
		size_t nl = end ? (size_t)(end - name) : 0, i;
		char num[24], *out;

		for (i = 0; end && i < n; i++)
			if (strlen(l[i].name) == nl &&
			    !strncmp(l[i].name, name, nl))
				break;
		if (!end || i == n) {
			sysg_errf(err, errlen, "{listen_fd:%.*s}: no listen "
				  "socket named '%.*s'", end ? (int)nl : 0,
				  name, end ? (int)nl : 0, name);
			return -ENOENT;
		}
		snprintf(num, sizeof(num), "%zu", SYSG_LISTEN_FD_FIRST + i);
		out = malloc(strlen(*command) + sizeof(num));
		if (!out)
			return -ENOMEM;
		sprintf(out, "%.*s%s%s", (int)(p - *command), *command, num,
			end + 1);
		free(*command);
		*command = out;
	}
	return 0;
}

void sysg_listen_free(struct sysg_listen *l, size_t n)
{
	for (size_t i = 0; l && i < n; i++) {
		free(l[i].address);
		free(l[i].name);
		free(l[i].owner);
	}
	free(l);
}
