/* sockets.c - listening sockets bound by the supervisor (sockets.h). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pidfd.h"
#include "procstat.h"
#include "sockets.h"

#define TCP_LISTEN_STATE 0x0A   /* /proc/net/tcp "st" of a listener */
#define MAX_INODES 16

/* ------------------------------------------------------------------ */
/* Who holds it (/proc/net and /proc/PID/fd)                           */
/* ------------------------------------------------------------------ */

struct inodes {
	unsigned long v[MAX_INODES];
	size_t n;
};

/* Listening inodes of PORT in /proc/net/tcp or tcp6 (FILE). */
static void tcp_inodes(const char *file, int port, struct inodes *in)
{
	FILE *f = fopen(file, "re");
	char line[512];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && in->n < MAX_INODES) {
		char local[64];
		unsigned lport, st;
		unsigned long inode;
		char *colon;

		if (sscanf(line, " %*u: %63s %*s %x %*s %*s %*s %*s %*s %lu",
			   local, &st, &inode) != 3)
			continue;
		colon = strrchr(local, ':');
		if (colon && sscanf(colon + 1, "%x", &lport) == 1 &&
		    (int)lport == port && st == TCP_LISTEN_STATE && inode)
			in->v[in->n++] = inode;
	}
	fclose(f);
}

static void unix_inodes(const char *path, struct inodes *in)
{
	FILE *f = fopen("/proc/net/unix", "re");
	char line[512];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && in->n < MAX_INODES) {
		unsigned long inode;
		int off = 0;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %lu %n", &inode,
			   &off) == 1 && off && !strcmp(line + off, path))
			in->v[in->n++] = inode;
	}
	fclose(f);
}

static int pid_has_inode(const char *pid, const struct inodes *in)
{
	char dir[64], link[128], target[64];
	struct dirent *e;
	DIR *d;
	int found = 0;

	snprintf(dir, sizeof(dir), "/proc/%.20s/fd", pid);
	if (!(d = opendir(dir)))
		return 0;
	while (!found && (e = readdir(d))) {
		ssize_t n;
		unsigned long ino;

		snprintf(link, sizeof(link), "%s/%.20s", dir, e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (sscanf(target, "socket:[%lu]", &ino) != 1)
			continue;
		for (size_t i = 0; i < in->n; i++)
			found |= in->v[i] == ino;
	}
	closedir(d);
	return found;
}

int sysg_socket_holder(const struct sysg_listen *l, char *buf, size_t len)
{
	struct inodes in = { .n = 0 };
	struct dirent *e;
	DIR *d;
	int rc = -ENOENT;

	if (l->kind == SYSG_LISTEN_UNIX) {
		unix_inodes(l->path, &in);
	} else {
		tcp_inodes("/proc/net/tcp", l->port, &in);
		tcp_inodes("/proc/net/tcp6", l->port, &in);
	}
	if (!in.n || !(d = opendir("/proc")))
		return -ENOENT;
	while (rc && (e = readdir(d))) {
		struct sysg_procstat ps;

		if (e->d_name[0] < '1' || e->d_name[0] > '9' ||
		    !pid_has_inode(e->d_name, &in))
			continue;
		if (sysg_procstat_read(atoll(e->d_name), &ps) == 0)
			snprintf(buf, len, "pid %s (%s)", e->d_name, ps.comm);
		else
			snprintf(buf, len, "pid %s", e->d_name);
		rc = 0;
	}
	closedir(d);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Binding                                                             */
/* ------------------------------------------------------------------ */

static int in_use(const struct sysg_listen *l, char *err, size_t errlen)
{
	char who[128];

	if (sysg_socket_holder(l, who, sizeof(who)) == 0)
		sysg_errf(err, errlen, "cannot listen on %s: the address is in "
			  "use by %s", l->address, who);
	else
		sysg_errf(err, errlen, "cannot listen on %s: the address is in "
			  "use", l->address);
	return -EADDRINUSE;
}

static int fail(int fd, const struct sysg_listen *l, const char *what,
		char *err, size_t errlen)
{
	int e = errno;

	if (fd >= 0)
		close(fd);
	if (e == EADDRINUSE)
		return in_use(l, err, errlen);
	sysg_errf(err, errlen, "cannot listen on %s: %s: %s", l->address, what,
		  strerror(e));
	return -e;
}

static int bind_inet(const struct sysg_listen *l, char *err, size_t errlen)
{
	int six = l->kind == SYSG_LISTEN_TCP6, one = 1, fd;
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr *sa = six ? (struct sockaddr *)&a6 :
				    (struct sockaddr *)&a4;
	socklen_t salen = six ? sizeof(a6) : sizeof(a4);

	a4.sin_port = a6.sin6_port = htons((uint16_t)l->port);
	if (inet_pton(six ? AF_INET6 : AF_INET, l->host,
		      six ? (void *)&a6.sin6_addr : (void *)&a4.sin_addr) != 1) {
		errno = EINVAL;
		return fail(-1, l, "address", err, errlen);
	}
	fd = socket(six ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(fd, l, "socket", err, errlen);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, sa, salen) < 0)
		return fail(fd, l, "bind", err, errlen);
	return fd;
}

/* 1 when something accepts connections on the unix socket PATH. */
static int unix_alive(const struct sockaddr_un *a)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	if (fd < 0)
		return 0;
	ok = connect(fd, (const struct sockaddr *)a, sizeof(*a)) == 0 ||
	     errno == EAGAIN;
	close(fd);
	return ok;
}

static int unix_owner(const struct sysg_listen *l, char *err, size_t errlen)
{
	char user[128], *group;
	struct passwd *pw;
	struct group *gr = NULL;

	snprintf(user, sizeof(user), "%s", l->owner);
	group = strchr(user, ':');
	if (group)
		*group++ = '\0';
	pw = getpwnam(user);
	if (!pw || (group && !(gr = getgrnam(group)))) {
		sysg_errf(err, errlen, "cannot listen on %s: unknown %s '%s'",
			  l->address, pw ? "group" : "user", pw ? group : user);
		return -ENOENT;
	}
	if (chown(l->path, pw->pw_uid, gr ? gr->gr_gid : pw->pw_gid) < 0)
		return fail(-1, l, "chown", err, errlen);
	return 0;
}

static int bind_unix(const struct sysg_listen *l, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", l->path);
	if (lstat(l->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			sysg_errf(err, errlen, "cannot listen on %s: the path "
				  "exists and is not a socket", l->address);
			return -EEXIST;
		}
		if (unix_alive(&a))
			return in_use(l, err, errlen);
		unlink(l->path);        /* stale: nobody accepts on it */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(fd, l, "socket", err, errlen);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return fail(fd, l, "bind", err, errlen);
	if (l->mode >= 0 && chmod(l->path, (mode_t)l->mode) < 0)
		return fail(fd, l, "chmod", err, errlen);
	if (l->owner && (rc = unix_owner(l, err, errlen)) < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int sysg_socket_bind(const struct sysg_listen *l, char *err, size_t errlen)
{
	int fd = l->kind == SYSG_LISTEN_UNIX ? bind_unix(l, err, errlen) :
		 bind_inet(l, err, errlen);

	if (fd >= 0 && listen(fd, l->backlog) < 0)
		return fail(fd, l, "listen", err, errlen);
	return fd;
}

/* ------------------------------------------------------------------ */
/* Taking a socket back from a process                                 */
/* ------------------------------------------------------------------ */

static int inet_is(const struct sockaddr_storage *ss, const struct sysg_listen *l)
{
	if (l->kind == SYSG_LISTEN_TCP && ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		struct in_addr want;

		return inet_pton(AF_INET, l->host, &want) == 1 &&
		       a->sin_addr.s_addr == want.s_addr &&
		       ntohs(a->sin_port) == l->port;
	}
	if (l->kind == SYSG_LISTEN_TCP6 && ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		struct in6_addr want;

		return inet_pton(AF_INET6, l->host, &want) == 1 &&
		       !memcmp(&a->sin6_addr, &want, sizeof(want)) &&
		       ntohs(a->sin6_port) == l->port;
	}
	return 0;
}

int sysg_socket_is(int fd, const struct sysg_listen *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss), ol = sizeof(int);
	int type = 0, acc = 0;

	memset(&ss, 0, sizeof(ss));
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ol) < 0 ||
	    type != SOCK_STREAM ||
	    (ol = sizeof(int), getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc,
					  &ol)) < 0 || !acc ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (l->kind == SYSG_LISTEN_UNIX) {
		const struct sockaddr_un *a = (const struct sockaddr_un *)&ss;

		return ss.ss_family == AF_UNIX &&
		       len > offsetof(struct sockaddr_un, sun_path) &&
		       !strncmp(a->sun_path, l->path, sizeof(a->sun_path));
	}
	return inet_is(&ss, l);
}

/* PID's fd FD copied here when it is L's socket, else -1 (*PERM set
 * when the copy was not allowed). */
static int take_one(int pidfd, int fd, const struct sysg_listen *l,
		    int *perm)
{
	int mine = sysg_pidfd_getfd(pidfd, fd);

	if (mine < 0) {
		*perm |= errno == EPERM || errno == EACCES;
		return -1;
	}
	if (sysg_socket_is(mine, l))
		return mine;
	close(mine);
	return -1;
}

int sysg_socket_take(pid_t pid, int hint, const struct sysg_listen *l,
		     char *err, size_t errlen)
{
	int pidfd = sysg_pidfd_open(pid), fd = -1, e, perm = 0;
	char dir[64];
	struct dirent *de;
	DIR *d;

	if (pidfd < 0) {
		e = errno;
		sysg_errf(err, errlen, "cannot take %s back from pid %d: "
			  "pidfd_open: %s", l->address, (int)pid, strerror(e));
		return -e;
	}
	if (hint >= 0)
		fd = take_one(pidfd, hint, l, &perm);
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = fd < 0 ? opendir(dir) : NULL;
	while (d && fd < 0 && (de = readdir(d))) {
		char link[sizeof(dir) + 260], target[64];
		ssize_t n;
		int num = atoi(de->d_name);

		snprintf(link, sizeof(link), "%s/%.250s", dir, de->d_name);
		if (de->d_name[0] < '0' || de->d_name[0] > '9' || num == hint ||
		    (n = readlink(link, target, sizeof(target) - 1)) <= 0)
			continue;
		target[n] = '\0';
		if (!strncmp(target, "socket:", 7))
			fd = take_one(pidfd, num, l, &perm);
	}
	if (d)
		closedir(d);
	close(pidfd);
	if (fd < 0) {
		sysg_errf(err, errlen, "cannot take %s back from pid %d: %s",
			  l->address, (int)pid, perm ? "not allowed "
			  "(ptrace rules: pidfd_getfd)" : "it holds no such "
			  "listening socket");
		return perm ? -EPERM : -ENOENT;
	}
	listen(fd, l->backlog);         /* the configured backlog */
	return fd;
}
