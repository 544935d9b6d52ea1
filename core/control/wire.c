/* control.c - see control.h. One request per connection: read a frame,
 * hand it to the handler, write the reply frame, close. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "wire.h"
#include "base/base.h"

enum conn_phase { READING, HANDLING, WRITING };

struct sysg_ctl_conn {
	struct sysg_ctl_server *srv;
	struct sysg_ctl_conn *next;
	struct sysg_io io;
	struct sysg_timer deadline;
	enum conn_phase phase;
	int gone;                       /* client hung up while handling */
	int refused;                    /* peer is another user */
	struct ucred cred;
	unsigned char hdr[4];
	size_t hdr_got;
	char *body;
	size_t body_len, body_got;
	char *out;                      /* reply frame */
	size_t out_len, out_sent;
	json_t *req;
};

struct sysg_ctl_server {
	struct sysg_loop *loop;
	struct sysg_io io;
	char *path;
	sysg_ctl_handler handler;
	void *arg;
	struct sysg_ctl_conn *conns;
	int nconns;
};

static int fill_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -ENAMETOOLONG;
	memcpy(a->sun_path, path, strlen(path) + 1);
	return 0;
}

/* --------------------------------------------------------- framing */

/* A frame of JSON (LEN bytes) followed by ATT (ALEN bytes, may be 0). */
static char *frame_with(const char *json, size_t len, const char *att,
			size_t alen)
{
	size_t n = len + alen;
	char *f = malloc(n + 4);

	if (!f)
		return NULL;
	f[0] = (char)(n >> 24);
	f[1] = (char)(n >> 16);
	f[2] = (char)(n >> 8);
	f[3] = (char)n;
	memcpy(f + 4, json, len);
	if (alen)
		memcpy(f + 4 + len, att, alen);
	return f;
}

static char *frame(const char *json, size_t len)
{
	return frame_with(json, len, NULL, 0);
}

static size_t frame_len(const unsigned char h[4])
{
	return ((size_t)h[0] << 24) | ((size_t)h[1] << 16) |
	       ((size_t)h[2] << 8) | h[3];
}

int sysg_ctl_decode_request(const char *buf, size_t len, json_t **req,
			    const char **cmd, json_t **args, char *err,
			    size_t errlen)
{
	json_error_t je;
	json_t *r, *v, *c, *a;

	*req = NULL;
	if (len > SYSG_CTL_MAX_REQUEST) {
		sysg_errf(err, errlen,
		          "request too large (%zu bytes, limit %d)", len,
		          SYSG_CTL_MAX_REQUEST);
		return -E2BIG;
	}
	r = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!r) {
		sysg_errf(err, errlen, "malformed request: %s", je.text);
		return -EINVAL;
	}
	v = json_object_get(r, "v");
	c = json_object_get(r, "cmd");
	a = json_object_get(r, "args");
	if (!json_is_object(r) || !json_is_integer(v) ||
	    json_integer_value(v) != SYSG_CTL_VERSION || !json_is_string(c) ||
	    (a && !json_is_object(a))) {
		sysg_errf(err, errlen,
		          "bad request: expected {\"v\": %d, \"cmd\": string, \"args\": object}",
		          SYSG_CTL_VERSION);
		json_decref(r);
		return -EINVAL;
	}
	if (!a) {
		a = json_object();
		if (!a || json_object_set_new(r, "args", a) < 0) {
			json_decref(r);
			return -ENOMEM;
		}
	}
	*req = r;
	*cmd = json_string_value(c);
	*args = a;
	return 0;
}

/* ------------------------------------------------------ connections */

static void conn_timeout(struct sysg_timer *t);

static void conn_free(struct sysg_ctl_conn *c)
{
	struct sysg_ctl_server *s = c->srv;
	struct sysg_ctl_conn **pp;

	if (s) {
		for (pp = &s->conns; *pp; pp = &(*pp)->next)
			if (*pp == c) {
				*pp = c->next;
				s->nconns--;
				break;
			}
		sysg_loop_io_del(s->loop, &c->io);
		sysg_timer_stop(s->loop, &c->deadline);
	}
	if (c->io.fd >= 0)
		close(c->io.fd);
	json_decref(c->req);
	free(c->body);
	free(c->out);
	free(c);
}

/* Drop the socket of a connection whose handler has not replied yet; the
 * struct lives on until sysg_ctl_reply. */
static void conn_detach(struct sysg_ctl_conn *c)
{
	sysg_loop_io_del(c->srv->loop, &c->io);
	close(c->io.fd);
	c->io.fd = -1;
	c->gone = 1;
}

static void conn_close(struct sysg_ctl_conn *c)
{
	if (c->phase == HANDLING)
		conn_detach(c);
	else
		conn_free(c);
}

static void conn_write(struct sysg_ctl_conn *c)
{
	while (c->out_sent < c->out_len) {
		ssize_t n = send(c->io.fd, c->out + c->out_sent,
				 c->out_len - c->out_sent, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_free(c);
			return;
		}
		c->out_sent += (size_t)n;
	}
	conn_free(c);
}

static void conn_send(struct sysg_ctl_conn *c, json_t *reply,
		      const char *att, size_t alen)
{
	char *s = json_dumps(reply, JSON_COMPACT);
	size_t len = s ? strlen(s) : 0;

	json_decref(reply);
	if (!s || len + alen > SYSG_CTL_MAX_REPLY) {
		free(s);
		conn_free(c);
		return;
	}
	c->out = frame_with(s, len, att, alen);
	free(s);
	if (!c->out) {
		conn_free(c);
		return;
	}
	c->out_len = len + alen + 4;
	c->phase = WRITING;
	sysg_timer_start(c->srv->loop, &c->deadline, SYSG_CTL_REQUEST_TIMEOUT_MS,
			 conn_timeout, c);
	sysg_loop_io_del(c->srv->loop, &c->io);
	if (sysg_loop_io_add(c->srv->loop, &c->io, EPOLLOUT) < 0) {
		conn_free(c);
		return;
	}
	/* A client that never reads its reply is dropped at the deadline. */
	conn_write(c);
}

static json_t *reply_obj(int exit_code, const char *error, json_t *data)
{
	json_t *r = json_pack("{s:i, s:b, s:i}", "v", SYSG_CTL_VERSION,
			      "ok", exit_code == 0, "exit", exit_code);

	if (r && error)
		json_object_set_new(r, "error", json_string(error));
	if (r && data)
		json_object_set(r, "data", data);
	json_decref(data);
	return r;
}

void sysg_ctl_reply_att(struct sysg_ctl_conn *c, int exit_code,
			const char *error, json_t *data, const char *att,
			size_t alen)
{
	json_t *r;

	if (!c) {
		json_decref(data);
		return;
	}
	if (c->gone) {
		json_decref(data);
		conn_free(c);
		return;
	}
	r = reply_obj(exit_code, error, data);
	if (r && att && json_object_set_new(r, "attachment",
					    json_integer((json_int_t)alen)) < 0) {
		json_decref(r);
		r = NULL;
	}
	if (!r) {
		conn_free(c);
		return;
	}
	conn_send(c, r, att, att ? alen : 0);
}

void sysg_ctl_reply(struct sysg_ctl_conn *c, int exit_code, const char *error,
		    json_t *data)
{
	sysg_ctl_reply_att(c, exit_code, error, data, NULL, 0);
}

int sysg_ctl_conn_pid(const struct sysg_ctl_conn *c)
{
	return (int)c->cred.pid;
}

int sysg_ctl_conn_uid(const struct sysg_ctl_conn *c)
{
	return (int)c->cred.uid;
}

/* The whole request is in: decode and dispatch. */
static void conn_dispatch(struct sysg_ctl_conn *c)
{
	const char *cmd = NULL;
	json_t *args = NULL;
	char err[SYSG_ERR_MAX];

	if (c->refused) {
		sysg_ctl_reply(c, 1, "permission denied: the supervisor serves only its own user and root",
			       NULL);
		return;
	}
	if (sysg_ctl_decode_request(c->body, c->body_len, &c->req, &cmd, &args,
				    err, sizeof(err)) < 0) {
		sysg_ctl_reply(c, 2, err, NULL);
		return;
	}
	c->phase = HANDLING;
	sysg_timer_stop(c->srv->loop, &c->deadline);
	/* Only hang-ups matter while the handler works. */
	sysg_loop_io_del(c->srv->loop, &c->io);
	sysg_loop_io_add(c->srv->loop, &c->io, EPOLLRDHUP);
	c->srv->handler(c->srv->arg, c, cmd, args);
}

/* Read what is available; returns 1 when the request is complete. */
static int conn_read_some(struct sysg_ctl_conn *c)
{
	for (;;) {
		int in_hdr = c->hdr_got < 4;
		char *dst = in_hdr ? (char *)c->hdr + c->hdr_got :
			    c->body + c->body_got;
		size_t want = in_hdr ? 4 - c->hdr_got : c->body_len - c->body_got;
		ssize_t n;

		if (want == 0)
			return 1;
		n = recv(c->io.fd, dst, want, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		if (!c->hdr_got)        /* a first byte: the full request window */
			sysg_timer_start(c->srv->loop, &c->deadline,
					 SYSG_CTL_REQUEST_TIMEOUT_MS -
					 SYSG_CTL_FIRST_BYTE_MS, conn_timeout, c);
		if (!in_hdr) {
			c->body_got += (size_t)n;
			continue;
		}
		c->hdr_got += (size_t)n;
		if (c->hdr_got < 4)
			continue;
		c->body_len = frame_len(c->hdr);
		if (c->body_len > SYSG_CTL_MAX_REQUEST)
			return -2;
		c->body = malloc(c->body_len + 1);
		if (!c->body)
			return -1;
	}
}

static void conn_io(struct sysg_io *io, uint32_t events)
{
	struct sysg_ctl_conn *c = io->arg;
	int rc;

	if (c->phase == WRITING) {
		if (events & (EPOLLERR | EPOLLHUP))
			conn_free(c);
		else
			conn_write(c);
		return;
	}
	if (c->phase == HANDLING) {
		if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			conn_detach(c);
		return;
	}
	rc = conn_read_some(c);
	if (rc == 1)
		conn_dispatch(c);
	else if (rc == -2)
		sysg_ctl_reply(c, 2, "request too large", NULL);
	else if (rc < 0)
		conn_close(c);
}

static void conn_timeout(struct sysg_timer *t)
{
	conn_close(t->arg);
}

static int peer_allowed(int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) < 0)
		return 0;
	return cred->uid == 0 || cred->uid == geteuid();
}

static void conn_new(struct sysg_ctl_server *s, int fd)
{
	struct sysg_ctl_conn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return;
	}
	c->srv = s;
	c->io.fd = fd;
	c->io.cb = conn_io;
	c->io.arg = c;
	c->next = s->conns;
	s->conns = c;
	s->nconns++;
	/* A refused peer's request is still read, so that the error reply
	 * is not lost to a reset from unread data. */
	c->refused = !peer_allowed(fd, &c->cred);
	if (sysg_loop_io_add(s->loop, &c->io, EPOLLIN | EPOLLRDHUP) < 0) {
		conn_free(c);
		return;
	}
	sysg_timer_start(s->loop, &c->deadline, SYSG_CTL_FIRST_BYTE_MS,
			 conn_timeout, c);
}

/* Connections of process PID still sending their request. */
static int reading_of(const struct sysg_ctl_server *s, pid_t pid)
{
	int n = 0;

	for (const struct sysg_ctl_conn *c = s->conns; c; c = c->next)
		n += c->phase == READING && c->cred.pid == pid;
	return n;
}

/* Make room for one more client: close the connection that has waited
 * longest without completing its request, preferring one that sent
 * nothing at all (the list is newest first). 0, or -1 when every
 * connection is a request being served. */
static int evict_one(struct sysg_ctl_server *s)
{
	struct sysg_ctl_conn *idle = NULL, *partial = NULL;

	for (struct sysg_ctl_conn *c = s->conns; c; c = c->next) {
		if (c->phase != READING)
			continue;
		if (!c->hdr_got)
			idle = c;
		else
			partial = c;
	}
	if (!idle)
		idle = partial;
	if (!idle)
		return -1;
	conn_close(idle);
	return 0;
}

/* Who gets a connection: a new client always, while connections that
 * have not completed a request fill the table (the oldest goes); never
 * a process with SYSG_CTL_MAX_PER_PID requests still being sent. */
static int admit(struct sysg_ctl_server *s, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
	    reading_of(s, cred.pid) >= SYSG_CTL_MAX_PER_PID)
		return 0;
	return s->nconns < SYSG_CTL_MAX_CLIENTS || evict_one(s) == 0;
}

static void server_accept(struct sysg_io *io, uint32_t events)
{
	struct sysg_ctl_server *s = io->arg;

	(void)events;
	for (;;) {
		int fd = accept4(s->io.fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (!admit(s, fd)) {
			close(fd);
			continue;
		}
		conn_new(s, fd);
	}
}

/* ----------------------------------------------------------- server */

/* Is something answering on PATH? */
static int socket_live(const char *path)
{
	struct sockaddr_un a;
	int fd, live;

	if (fill_addr(&a, path) < 0)
		return 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	live = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return live;
}

static int server_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un a;
	mode_t old;
	int fd, rc;

	if (fill_addr(&a, path) < 0) {
		sysg_errf(err, errlen, "%s: socket path too long", path);
		return -ENAMETOOLONG;
	}
	if (socket_live(path)) {
		sysg_errf(err, errlen, "%s: a supervisor is already listening",
		          path);
		return -EADDRINUSE;
	}
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ? -errno : 0;
	umask(old);
	if (rc == 0 && chmod(path, 0600) < 0)
		rc = -errno;
	if (rc == 0 && listen(fd, 64) < 0)
		rc = -errno;
	if (rc < 0) {
		sysg_errf(err, errlen, "%s: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	return fd;
}

int sysg_ctl_server_new(struct sysg_ctl_server **out, struct sysg_loop *loop,
			const char *path, sysg_ctl_handler handler, void *arg,
			char *err, size_t errlen)
{
	return sysg_ctl_server_new_fd(out, loop, path, -1, handler, arg, err,
				      errlen);
}

int sysg_ctl_server_fd(const struct sysg_ctl_server *s)
{
	return s ? s->io.fd : -1;
}

int sysg_ctl_server_new_fd(struct sysg_ctl_server **out,
			   struct sysg_loop *loop, const char *path,
			   int listen_fd, sysg_ctl_handler handler, void *arg,
			   char *err, size_t errlen)
{
	struct sysg_ctl_server *s;
	int fd = listen_fd >= 0 ? listen_fd : server_listen(path, err, errlen);

	*out = NULL;
	if (fd < 0)
		return fd;
	s = calloc(1, sizeof(*s));
	if (s)
		s->path = strdup(path);
	if (!s || !s->path) {
		free(s);
		close(fd);
		unlink(path);
		return -ENOMEM;
	}
	s->loop = loop;
	s->handler = handler;
	s->arg = arg;
	s->io.fd = fd;
	s->io.cb = server_accept;
	s->io.arg = s;
	if (sysg_loop_io_add(loop, &s->io, EPOLLIN) < 0) {
		sysg_ctl_server_free(s);
		return -EIO;
	}
	*out = s;
	return 0;
}

void sysg_ctl_server_free(struct sysg_ctl_server *s)
{
	if (!s)
		return;
	while (s->conns) {
		struct sysg_ctl_conn *c = s->conns;

		s->conns = c->next;
		c->srv->nconns--;
		sysg_loop_io_del(s->loop, &c->io);
		sysg_timer_stop(s->loop, &c->deadline);
		/* A handler still holding C will call sysg_ctl_reply: keep the
		 * struct, detached from the server. */
		c->srv = NULL;
		if (c->io.fd >= 0)
			close(c->io.fd);
		c->io.fd = -1;
		if (c->phase == HANDLING)
			c->gone = 1;
		else
			conn_free(c);
	}
	sysg_loop_io_del(s->loop, &s->io);
	close(s->io.fd);
	unlink(s->path);
	free(s->path);
	free(s);
}

/* ----------------------------------------------------------- client */

static int64_t left_ms(int64_t deadline)
{
	int64_t l;

	if (deadline < 0)
		return -1;
	l = deadline - sysg_now_ms();
	return l < 0 ? 0 : l;
}

/* Move LEN bytes in direction WRITE over non-blocking FD before DEADLINE. */
static int xfer(int fd, char *buf, size_t len, int write_dir, int64_t deadline)
{
	size_t done = 0;

	while (done < len) {
		struct pollfd p = { fd, write_dir ? POLLOUT : POLLIN, 0 };
		int64_t l = left_ms(deadline);
		ssize_t n;

		if (l == 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)(l > INT32_MAX ? INT32_MAX : l)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		n = write_dir ? send(fd, buf + done, len - done, MSG_NOSIGNAL) :
			recv(fd, buf + done, len - done, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		done += (size_t)n;
	}
	return 0;
}

/* Connect before DEADLINE: a supervisor that does not accept (stopped,
 * or its backlog full) makes a non-blocking connect fail with EAGAIN,
 * which is retried on a short tick. */
static int client_connect(const char *path, int64_t deadline, char *err,
			  size_t errlen)
{
	struct sockaddr_un a;
	int fd, rc;

	if (fill_addr(&a, path) < 0) {
		sysg_errf(err, errlen, "%s: socket path too long", path);
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	while (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		rc = -errno;
		if (rc == -EINTR)
			continue;
		if (rc == -EAGAIN && left_ms(deadline) != 0) {
			poll(NULL, 0, 10);
			continue;
		}
		if (rc == -EAGAIN) {
			sysg_errf(err, errlen, "the supervisor on %s accepts no "
				  "connection", path);
			rc = -ETIMEDOUT;
		} else {
			sysg_errf(err, errlen, "no supervisor listening on %s",
				  path);
		}
		close(fd);
		return rc;
	}
	return fd;
}

static int client_send(int fd, const char *cmd, json_t *args,
		       int64_t deadline)
{
	json_t *req = json_pack("{s:i, s:s, s:o}", "v", SYSG_CTL_VERSION,
				"cmd", cmd, "args", args ? args : json_object());
	char *s = req ? json_dumps(req, JSON_COMPACT) : NULL;
	char *f = s ? frame(s, strlen(s)) : NULL;
	int rc = f ? xfer(fd, f, strlen(s) + 4, 1, deadline) : -ENOMEM;

	json_decref(req);
	free(f);
	free(s);
	return rc;
}

/* The bytes of BODY (LEN) after its JSON envelope REPLY (USED bytes):
 * its "attachment" (their count) says they are there; they become its
 * "attachment" string. 0, or -EPROTO when they do not match. */
static int take_attachment(json_t *reply, const char *body, size_t len,
			   size_t used)
{
	const json_t *a = json_object_get(reply, "attachment");
	json_t *s;

	while (used < len && (body[used] == ' ' || body[used] == '\n'))
		used++;
	if (!a)
		return used == len ? 0 : -EPROTO;
	if (!json_is_integer(a) || json_integer_value(a) < 0 ||
	    (size_t)json_integer_value(a) != len - used)
		return -EPROTO;
	/* the supervisor's own text: no second UTF-8 pass over it */
	s = json_stringn_nocheck(body + used, len - used);
	return s && json_object_set_new(reply, "attachment", s) == 0 ? 0 :
	       -EPROTO;
}

static int client_recv(int fd, json_t **reply, int64_t deadline, char *err,
		       size_t errlen)
{
	unsigned char h[4];
	json_error_t je;
	size_t len;
	char *body;
	int rc = xfer(fd, (char *)h, 4, 0, deadline);

	if (rc < 0)
		return rc;
	len = frame_len(h);
	if (len > SYSG_CTL_MAX_REPLY)
		return -E2BIG;
	body = malloc(len + 1);
	if (!body)
		return -ENOMEM;
	rc = xfer(fd, body, len, 0, deadline);
	if (rc == 0) {
		*reply = json_loadb(body, len, JSON_DISABLE_EOF_CHECK, &je);
		if (!*reply || !json_is_object(*reply) ||
		    take_attachment(*reply, body, len, (size_t)je.position) < 0) {
			sysg_errf(err, errlen,
			          "malformed reply from the supervisor: %s",
			          *reply ? "bad attachment" : je.text);
			json_decref(*reply);
			*reply = NULL;
			rc = -EPROTO;
		}
	}
	free(body);
	return rc;
}

int sysg_ctl_call(const char *path, const char *cmd, json_t *args,
		  int timeout_ms, json_t **reply, char *err, size_t errlen)
{
	int64_t deadline = timeout_ms < 0 ? -1 : sysg_now_ms() + timeout_ms;
	int fd, rc;

	*reply = NULL;
	fd = client_connect(path, deadline, err, errlen);
	if (fd < 0) {
		json_decref(args);
		return fd;
	}
	rc = client_send(fd, cmd, args, deadline);
	if (rc == 0)
		rc = client_recv(fd, reply, deadline, err, errlen);
	if (rc == -ETIMEDOUT)
		sysg_errf(err, errlen, "the supervisor did not answer '%s' within "
			  "%d.%d s", cmd, timeout_ms / 1000,
			  timeout_ms % 1000 / 100);
	else if (rc < 0 && rc != -EPROTO)
		sysg_errf(err, errlen, "talking to the supervisor on %s: %s",
		          path, strerror(-rc));
	close(fd);
	return rc;
}
