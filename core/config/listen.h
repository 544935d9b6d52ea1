/* listen.h - the listening sockets of a service (`listen:`, SPEC 11):
 * what is written in the config and what it means. Binding them is the
 * proc wing's (proc/sockets.h); holding them across runs the engine's.
 *
 * An address is `tcp://HOST:PORT` (HOST an IPv4 address, `*` or
 * `localhost`), `tcp6://[ADDR]:PORT` or `unix:/absolute/path`. A socket
 * is passed to the service as fd 3 + its index in the list, named NAME in
 * LISTEN_FDNAMES (sd_listen_fds(3)); `{listen_fd:NAME}` in the command
 * becomes that number. */
#ifndef SYSG_LISTEN_H
#define SYSG_LISTEN_H

#include <stddef.h>
#include <sys/types.h>

enum sysg_listen_kind {
	SYSG_LISTEN_TCP = 0,
	SYSG_LISTEN_TCP6,
	SYSG_LISTEN_UNIX,
};

#define SYSG_LISTEN_BACKLOG     4096    /* default backlog */
#define SYSG_LISTEN_NAME_MAX    255     /* sd_listen_fds(3)'s limit */
#define SYSG_LISTEN_FD_FIRST    3       /* SD_LISTEN_FDS_START */
#define SYSG_LISTEN_MAX         64      /* sockets per service */

struct sysg_listen {
	char *address;          /* as written (canonical form for messages) */
	char *name;             /* the fd's name; default: the service name */
	int backlog;            /* default SYSG_LISTEN_BACKLOG */
	int mode;               /* unix: permission bits, -1 unset */
	char *owner;            /* unix: "USER" or "USER:GROUP", NULL unset */
	/* parsed from ADDRESS */
	enum sysg_listen_kind kind;
	char host[64];          /* tcp: numeric address ("" for any) */
	int port;               /* tcp */
	char *path;             /* unix: points into ADDRESS */
	int line, col;          /* where it was written (0: unknown) */
};

/* Parse ADDRESS into L's kind/host/port/path (L->address is set to a copy
 * by the caller; PATH points into it). 0, or -EINVAL with a message in
 * ERR ("expected tcp://HOST:PORT ..."). */
int sysg_listen_parse(struct sysg_listen *l, char *err, size_t errlen);

/* 1 when NAME is a valid fd name: 1..255 printable ASCII, no ':'. */
int sysg_listen_name_ok(const char *name);

/* 1 when A and B bind the same thing with the same settings (a socket
 * held for A can serve B unchanged). */
int sysg_listen_same(const struct sysg_listen *a, const struct sysg_listen *b);

/* 1 when A and B would bind the same port / path (a conflict). */
int sysg_listen_clash(const struct sysg_listen *a, const struct sysg_listen *b);

/* Replace each `{listen_fd:NAME}` in *COMMAND with the fd number of the
 * first socket of L named NAME. 0; -ENOENT (ERR names the unknown name);
 * -ENOMEM. *COMMAND is reallocated when it changes. */
int sysg_listen_expand(char **command, const struct sysg_listen *l, size_t n,
		       char *err, size_t errlen);

void sysg_listen_free(struct sysg_listen *l, size_t n);

#endif
