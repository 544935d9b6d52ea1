/* stateremote.c - see stateremote.h */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "state.h"
#include "stateremote.h"

#define WRITE_GAP_MS     50     /* between two write requests */
#define HELPER_IDLE_MS   1000   /* a helper in a storm ends this long after
				   its last request */
#define STORM_WRITES     4      /* this many writes sent on their own */
#define STORM_MS         1000   /* this long: a storm */
#define RETRY_MS         1000   /* after a helper died or could not start */
#define MAX_GONE         8

/* Operations: writes (queued), then reads (one per request). */
enum {
	W_SET_PID = 1, W_PUT_UNIT, W_REMOVE_UNIT, W_ADD_CRON, W_ADD_DEPLOY,
	W_KV_SET,
	R_NONE = 0x100, R_GET_PID, R_LIST_PIDS, R_GET_UNIT,
	R_LIST_UNITS, R_LIST_CRON, R_LIST_DEPLOYS, R_KV_GET,
};

/* An end frame's results: the writes' (0 or the first error), the
 * read's, and the index of the write that failed first. */
#define NRC 3

/* Frames: a header, then LEN bytes. */
enum { F_REQ = 1, F_REC, F_LOG, F_END };

struct frame {
	uint32_t type;
	uint32_t len;
};

/* A queued write: KEY says which record it replaces ("u" + unit name,
 * "p" + pid name, "k" + kv key, "c" + cron run, "d" + deploy id). */
struct wop {
	uint32_t op;
	uint32_t len;
	char *key;
	char *data;
};

struct sysg_state_remote {
	struct sysg_loop *loop;
	struct sysg_timer flush_timer, idle_timer;
	struct sysg_io io;              /* the socket, while a write is out */
	int fd;                         /* to the helper; -1: none */
	pid_t pid;
	pid_t gone[MAX_GONE];           /* helpers told to end, not reaped */
	size_t ngone;
	int busy;                       /* a write request is in flight */
	struct wop *pending, *inflight;
	size_t npending, cap, ninflight;
	int64_t next_send_ms;
	int64_t sent_ms[STORM_WRITES];  /* when the last write requests went */
	size_t nsent;
	unsigned long helpers, requests;
};

/* ------------------------------------------------------- buffers */

/* Growable bytes on their own mapping: a large listing never grows the
 * heap of the resident process. */
struct rbuf {
	char *p;
	size_t len, cap;
};

static int rb_put(struct rbuf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		void *p;

		while (cap < b->len + n)
			cap *= 2;
		p = b->p ? mremap(b->p, b->cap, cap, MREMAP_MAYMOVE) :
		    mmap(NULL, cap, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	if (n && data)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

static int rb_u32(struct rbuf *b, uint32_t v)
{
	return rb_put(b, &v, sizeof(v));
}

static void rb_free(struct rbuf *b)
{
	if (b->p)
		munmap(b->p, b->cap);
	memset(b, 0, sizeof(*b));
}

/* A cursor over received bytes. */
struct rd {
	const char *p;
	size_t left;
	int bad;
};

static const void *rd_take(struct rd *r, size_t n)
{
	const char *p = r->p;

	if (r->bad || n > r->left) {
		r->bad = 1;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

static uint32_t rd_u32(struct rd *r)
{
	const void *p = rd_take(r, sizeof(uint32_t));
	uint32_t v = 0;

	if (p)
		memcpy(&v, p, sizeof(v));
	return v;
}

/* A NUL-terminated string, or NULL. */
static const char *rd_str(struct rd *r)
{
	const char *s = r->p;
	size_t n = r->bad ? 0 : strnlen(r->p, r->left);

	if (r->bad || n == r->left) {
		r->bad = 1;
		return NULL;
	}
	rd_take(r, n + 1);
	return s;
}

/* ------------------------------------------------------------ I/O */

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_frame(int fd, uint32_t type, const void *a, size_t alen,
		      const void *b, size_t blen)
{
	struct frame f = { type, (uint32_t)(alen + blen) };
	int rc = write_all(fd, &f, sizeof(f));

	if (!rc && alen)
		rc = write_all(fd, a, alen);
	if (!rc && blen)
		rc = write_all(fd, b, blen);
	return rc;
}

/* Read one frame into B (replacing its contents). 0 or -EPIPE. */
static int recv_frame(int fd, struct frame *f, struct rbuf *b)
{
	int rc = read_all(fd, f, sizeof(*f));

	b->len = 0;
	if (!rc && (rc = rb_put(b, NULL, f->len)) == 0)
		rc = read_all(fd, b->p, f->len);
	return rc < 0 ? -EPIPE : 0;
}

/* ------------------------------------------- records on the wire */

/* A record whose last field is a string goes without the unused tail of
 * that field; the reader zero-fills the rest (as for an older backend). */
static size_t unit_len(const struct sysg_unit_record *u)
{
	return offsetof(struct sysg_unit_record, command) +
	       strnlen(u->command, sizeof(u->command) - 1) + 1;
}

static size_t deploy_len(const struct sysg_deploy_record *d)
{
	return offsetof(struct sysg_deploy_record, definition) +
	       strnlen(d->definition, sizeof(d->definition) - 1) + 1;
}

/* Copy LEN bytes of a record into the zeroed OUT of SIZE bytes. */
static void unpack(void *out, size_t size, const void *p, size_t len)
{
	memset(out, 0, size);
	memcpy(out, p, len < size ? len : size);
}

/* ============================================================ helper */

static int helper_fd = -1;

static void remote_free(struct sysg_state_remote *r);

/* The backend's log lines go back to the parent's log. */
static void helper_log(void *arg, int level, const char *line)
{
	uint32_t lv = (uint32_t)level;

	(void)arg;
	send_frame(helper_fd, F_LOG, &lv, sizeof(lv), line, strlen(line) + 1);
}

static int apply_write(struct sysg_state *st, uint32_t op, struct rd *r)
{
	union {
		struct sysg_unit_record u;
		struct sysg_cron_run c;
	} rec;
	const void *p;
	const char *s, *v;
	int64_t pid;
	uint32_t keep;
	size_t len = r->left;

	switch (op) {
	case W_SET_PID:
		if (!(p = rd_take(r, sizeof(pid))) || !(s = rd_str(r)))
			return -EINVAL;
		memcpy(&pid, p, sizeof(pid));
		return sysg_state_set_pid(st, s, pid);
	case W_PUT_UNIT:
		unpack(&rec.u, sizeof(rec.u), rd_take(r, len), len);
		return sysg_state_put_unit(st, &rec.u);
	case W_REMOVE_UNIT: {
		int rc;

		if (!(s = rd_str(r)))
			return -EINVAL;
		rc = sysg_state_remove_unit(st, s);
		return rc == -ENOENT ? 0 : rc;
	}
	case W_ADD_CRON:
		keep = rd_u32(r);
		len = r->left;
		unpack(&rec.c, sizeof(rec.c), rd_take(r, len), len);
		return sysg_state_add_cron_run(st, &rec.c, (int)keep);
	case W_ADD_DEPLOY: {
		struct sysg_deploy_record *d = malloc(sizeof(*d));
		int rc;

		if (!d)
			return -ENOMEM;
		unpack(d, sizeof(*d), rd_take(r, len), len);
		rc = sysg_state_add_deploy(st, d);
		free(d);
		return rc;
	}
	case W_KV_SET:
		if (!(s = rd_str(r)))
			return -EINVAL;
		v = r->left ? rd_str(r) : NULL;
		return sysg_state_kv_set(st, s, v);
	}
	return -EINVAL;
}

static int rec_pid(void *arg, const char *name, int64_t pid)
{
	(void)arg;
	return send_frame(helper_fd, F_REC, &pid, sizeof(pid), name,
			  strlen(name) + 1) < 0;
}

static int rec_unit(void *arg, const struct sysg_unit_record *u)
{
	(void)arg;
	return send_frame(helper_fd, F_REC, u, unit_len(u), NULL, 0) < 0;
}

static int rec_cron(void *arg, const struct sysg_cron_run *c)
{
	(void)arg;
	return send_frame(helper_fd, F_REC, c, sizeof(*c), NULL, 0) < 0;
}

static int rec_deploy(void *arg, const struct sysg_deploy_record *d)
{
	(void)arg;
	return send_frame(helper_fd, F_REC, d, deploy_len(d), NULL, 0) < 0;
}

/* The read OP with argument S (NULL: none) and N; its records as F_REC
 * frames. The backend's result. */
static int do_read(struct sysg_state *st, uint32_t op, const char *s,
		   uint64_t n)
{
	int rc = 0;

	switch (op) {
	case R_NONE:
		return 0;
	case R_GET_PID: {
		int64_t pid = 0;

		if ((rc = sysg_state_get_pid(st, s, &pid)) == 0)
			rc = rec_pid(NULL, "", pid) ? -EPIPE : 0;
		return rc;
	}
	case R_LIST_PIDS:
		return sysg_state_list_pids(st, rec_pid, NULL);
	case R_GET_UNIT: {
		struct sysg_unit_record u;

		if ((rc = sysg_state_get_unit(st, s, &u)) == 0)
			rc = rec_unit(NULL, &u) ? -EPIPE : 0;
		return rc;
	}
	case R_LIST_UNITS:
		return sysg_state_list_units(st, rec_unit, NULL);
	case R_LIST_CRON:
		return sysg_state_list_cron_runs(st, s, rec_cron, NULL);
	case R_LIST_DEPLOYS:
		return sysg_state_list_deploys(st, s, rec_deploy, NULL);
	case R_KV_GET: {
		char *buf = n ? malloc(n) : NULL;

		if (!n)
			return -ENOSPC;
		if (!buf)
			return -ENOMEM;
		rc = sysg_state_kv_get(st, s, buf, n);
		if (rc == 0)
			rc = send_frame(helper_fd, F_REC, buf,
					strnlen(buf, n - 1) + 1, NULL, 0);
		free(buf);
		return rc;
	}
	}
	return -EINVAL;
}

/* One request: [nops] {op, len, bytes}... [read op] [has s] [s] [n] */
static void serve(struct sysg_state *st, struct rd *r)
{
	uint32_t nops = rd_u32(r), op, has;
	int32_t rc[NRC] = { 0, 0, 0 };
	const char *s = NULL;
	const void *p;
	uint64_t n = 0;
	int batch = nops > 1 && sysg_state_batch_begin(st) == 0, c;

	for (uint32_t i = 0; i < nops && !r->bad; i++) {
		uint32_t len;
		struct rd one;
		int w;

		op = rd_u32(r);
		len = rd_u32(r);
		one.p = rd_take(r, len);
		one.left = len;
		one.bad = !one.p;
		w = one.bad ? -EINVAL : apply_write(st, op, &one);
		if (w < 0 && !rc[0]) {
			rc[0] = w;
			rc[2] = (int32_t)i;
		}
	}
	if (batch && (c = sysg_state_batch_commit(st)) < 0 && !rc[0]) {
		rc[0] = c;
		rc[2] = 0;
	}
	op = rd_u32(r);
	has = rd_u32(r);
	if (has)
		s = rd_str(r);
	if ((p = rd_take(r, sizeof(n))))
		memcpy(&n, p, sizeof(n));
	rc[1] = r->bad ? -EINVAL : do_read(st, op, s, n);
	if (send_frame(helper_fd, F_END, rc, sizeof(rc), NULL, 0) < 0)
		_exit(1);
}

/* The helper's life: open (OPEN) or reuse the store copied from the
 * parent, serve requests until the parent closes its end. */
static void helper_main(struct sysg_state *st, int fd,
			const struct sysg_plugin_path *pp, const char *name)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };
	struct sysg_state_remote *copy = st->remote;    /* the parent's */
	struct sysg_state *loc = st;
	struct rbuf b = { 0 };
	struct frame f;
	sigset_t none;

	helper_fd = fd;
	/* Ctrl+C on a foreground supervisor must not cut a write short:
	 * out of the terminal's process group, SIGINT and SIGHUP ignored */
	setpgid(0, 0);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_NAME, "sysg-state");
	/* nothing of the supervisor's: its sockets, pipes and lock */
	if (fd > 3)
		close_range(3, (unsigned)fd - 1, 0);
	close_range((unsigned)fd + 1, ~0U, 0);
	st->remote = NULL;
	if (pp) {
		char err[SYSG_ERR_MAX] = "";
		int32_t rc[NRC] = { 0, 0, 0 };

		rc[1] = sysg_state_open(&loc, pp, name, st->dir, st->path, err,
					sizeof(err));
		if (send_frame(fd, F_END, rc, sizeof(rc), rc[1] ? err :
			       loc->file, strlen(rc[1] ? err : loc->file) + 1)
		    < 0 || rc[1])
			_exit(1);
	}
	loc->remote = NULL;
	loc->want = NULL;       /* the parent keeps the mirror */
	loc->on_use = NULL;
	sysg_state_set_log(loc, helper_log, NULL);
	while (recv_frame(fd, &f, &b) == 0) {
		struct rd r = { b.p, b.len, 0 };

		if (f.type != F_REQ)
			_exit(1);
		serve(loc, &r);
	}
	rb_free(&b);
	sysg_state_close(loc);          /* the backend's own cleanup */
	if (loc != st)
		sysg_state_close(st);
	remote_free(copy);
	_exit(0);
}

/* ============================================================ parent */

static void log_line(struct sysg_state *st, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void log_line(struct sysg_state *st, int level, const char *fmt, ...)
{
	char line[SYSG_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	st->host.log_ctx(&st->host, level, "%s", line);
}

static int spawn(struct sysg_state *st, const struct sysg_plugin_path *pp,
		 const char *name)
{
	struct sysg_state_remote *r = st->remote;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	if (pid == 0) {
		close(sv[0]);
		helper_main(st, sv[1], pp, name);
		_exit(1);
	}
	close(sv[1]);
	r->fd = sv[0];
	r->pid = pid;
	r->helpers++;
	log_line(st, SYSG_LOG_DEBUG, "state helper %d started", (int)pid);
	return 0;
}

/* Wait up to a second for PID, which was told to end: 1 when reaped
 * (or already reaped by the owner of waitpid(-1)). */
static int reap_soon(pid_t pid)
{
	struct timespec ms = { 0, 1000000 };

	for (int i = 0; i < 1000; i++) {
		pid_t got = waitpid(pid, NULL, WNOHANG);

		if (got == pid || (got < 0 && errno == ECHILD))
			return 1;
		if (got < 0 && errno != EINTR)
			return 0;
		nanosleep(&ms, NULL);
	}
	return 0;
}

/* Tell the helper to end (it finishes what it read first). WAIT: reap
 * it (up to a second) before returning; else, and for one that does not
 * end in time, the owner of waitpid(-1) does (sysg_state_reaped). */
static void drop_helper(struct sysg_state *st, int wait)
{
	struct sysg_state_remote *r = st->remote;

	if (r->fd < 0)
		return;
	if (r->loop) {
		sysg_loop_io_del(r->loop, &r->io);
		sysg_timer_stop(r->loop, &r->idle_timer);
	}
	close(r->fd);
	r->fd = -1;
	if (r->pid > 0 && !(wait ? reap_soon(r->pid) :
			     waitpid(r->pid, NULL, WNOHANG) == r->pid)) {
		if (r->ngone == MAX_GONE) {     /* nobody reaps: do it now */
			waitpid(r->gone[0], NULL, 0);
			memmove(r->gone, r->gone + 1,
				(MAX_GONE - 1) * sizeof(*r->gone));
			r->ngone--;
		}
		r->gone[r->ngone++] = r->pid;
	}
	r->pid = 0;
}

static void on_idle(struct sysg_timer *t)
{
	drop_helper(t->arg, 0);         /* the loop must not wait for it */
}

/* The helper ends when idle, on the next loop turn after its request
 * (the reads and writes of one turn share it) so that no helper outlives
 * its use; but in a storm (STORM_WRITES writes sent on their own, not
 * for a reader, within STORM_MS) it stays until HELPER_IDLE_MS without a
 * request: a restart storm costs a few forks, then one helper for as
 * long as it lasts. */
static void arm_idle(struct sysg_state *st)
{
	struct sysg_state_remote *r = st->remote;
	size_t oldest = r->nsent % STORM_WRITES;
	int storm = r->nsent >= STORM_WRITES &&
		    sysg_now_ms() - r->sent_ms[oldest] < STORM_MS;

	if (r->loop && r->fd >= 0)
		sysg_timer_start(r->loop, &r->idle_timer,
				 storm ? HELPER_IDLE_MS : 0, on_idle, st);
}

static void wop_free(struct wop *w)
{
	free(w->key);
	free(w->data);
}

static void free_ops(struct wop *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		wop_free(&v[i]);
	free(v);
}

static long find_pending(struct sysg_state_remote *r, const char *key)
{
	for (size_t i = 0; key && i < r->npending; i++)
		if (!strcmp(r->pending[i].key, key))
			return (long)i;
	return -1;
}

/* Queue W (taking its memory), replacing a queued write of its key. */
static int queue(struct sysg_state_remote *r, struct wop *w)
{
	long i = find_pending(r, w->key);

	if (i >= 0) {
		wop_free(&r->pending[i]);
		r->pending[i] = *w;
		return 0;
	}
	if (r->npending == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct wop *p = realloc(r->pending, cap * sizeof(*p));

		if (!p) {
			wop_free(w);
			return -ENOMEM;
		}
		r->pending = p;
		r->cap = cap;
	}
	r->pending[r->npending++] = *w;
	return 0;
}

/* The writes of a request that got no answer go back in the queue,
 * behind anything newer of the same key. */
static void requeue(struct sysg_state_remote *r)
{
	for (size_t i = 0; i < r->ninflight; i++) {
		struct wop *w = &r->inflight[i];

		if (find_pending(r, w->key) >= 0)
			wop_free(w);
		else
			queue(r, w);
	}
	free(r->inflight);
	r->inflight = NULL;
	r->ninflight = 0;
}

/* Read the answer to the request in flight. Records go to RECS (NULL:
 * none expected), log lines to the store's log. 0 with RC filled, or
 * -EPIPE when the helper went away. */
static int read_reply(struct sysg_state *st, struct rbuf *recs, int32_t rc[NRC],
		      struct rbuf *tail)
{
	struct sysg_state_remote *r = st->remote;
	struct rbuf b = { 0 };
	struct frame f;
	int e = 0;

	while ((e = recv_frame(r->fd, &f, &b)) == 0) {
		if (f.type == F_LOG && b.len > sizeof(uint32_t)) {
			uint32_t lv;

			memcpy(&lv, b.p, sizeof(lv));
			b.p[b.len - 1] = '\0';
			st->host.log_ctx(&st->host, (int)lv, "%s",
					 b.p + sizeof(lv));
		} else if (f.type == F_REC && recs) {
			if (rb_u32(recs, (uint32_t)b.len) < 0 ||
			    rb_put(recs, b.p, b.len) < 0)
				e = -ENOMEM;
		} else if (f.type == F_END && b.len >= NRC * sizeof(int32_t)) {
			memcpy(rc, b.p, NRC * sizeof(int32_t));
			if (tail)
				rb_put(tail, b.p + NRC * sizeof(int32_t),
				       b.len - NRC * sizeof(int32_t));
			break;
		}
	}
	rb_free(&b);
	if (e == -ENOMEM && !rc[1])
		rc[1] = -ENOMEM;
	return e == -EPIPE ? -EPIPE : 0;
}

/* The request in flight is answered (or its helper is gone). */
static void finish(struct sysg_state *st, int rc_io, const int32_t rc[NRC])
{
	struct sysg_state_remote *r = st->remote;

	r->busy = 0;
	if (r->loop)
		sysg_loop_io_del(r->loop, &r->io);
	if (rc_io < 0) {
		log_line(st, SYSG_LOG_WARN, "the state helper (pid %d) ended "
			 "before answering; %zu write%s will be retried",
			 (int)r->pid, r->ninflight,
			 r->ninflight == 1 ? "" : "s");
		drop_helper(st, 0);
		requeue(r);
		r->next_send_ms = sysg_now_ms() + RETRY_MS;
		return;
	}
	if (rc[0] < 0)          /* e.g. "of web", "of deploy:web" */
		log_line(st, SYSG_LOG_WARN, "cannot record the state of %s in "
			 "%s: %s", rc[2] >= 0 && (size_t)rc[2] < r->ninflight ?
			 r->inflight[rc[2]].key + 1 : "the services", st->dir,
			 strerror(-rc[0]));
	arm_idle(st);
	free_ops(r->inflight, r->ninflight);
	r->inflight = NULL;
	r->ninflight = 0;
}

/* Send the queued writes and read OP (R_NONE: none) with S and N. */
static int send_request(struct sysg_state *st, uint32_t op, const char *s,
			uint64_t n)
{
	struct sysg_state_remote *r = st->remote;
	struct rbuf b = { 0 };
	int rc = 0;

	if (r->fd < 0 && (rc = spawn(st, NULL, NULL)) < 0)
		return rc;
	rc = rb_u32(&b, (uint32_t)r->npending);
	for (size_t i = 0; !rc && i < r->npending; i++)
		if ((rc = rb_u32(&b, r->pending[i].op)) == 0 &&
		    (rc = rb_u32(&b, r->pending[i].len)) == 0)
			rc = rb_put(&b, r->pending[i].data, r->pending[i].len);
	if (!rc && (rc = rb_u32(&b, op)) == 0 && (rc = rb_u32(&b, !!s)) == 0 &&
	    s)
		rc = rb_put(&b, s, strlen(s) + 1);
	if (!rc)
		rc = rb_put(&b, &n, sizeof(n));
	if (!rc)
		rc = send_frame(r->fd, F_REQ, b.p, b.len, NULL, 0);
	rb_free(&b);
	if (rc == -ENOMEM)
		return rc;
	/* sent, or the helper is gone: either way the writes wait for the
	 * answer now */
	r->inflight = r->pending;
	r->ninflight = r->npending;
	r->pending = NULL;
	r->npending = r->cap = 0;
	r->busy = 1;
	r->requests++;
	if (r->loop)
		sysg_timer_stop(r->loop, &r->idle_timer);
	return 0;
}

/* Wait for the request in flight, if any. */
static void wait_busy(struct sysg_state *st)
{
	int32_t rc[NRC] = { 0, 0, 0 };

	if (st->remote->busy)
		finish(st, read_reply(st, NULL, rc, NULL), rc);
}

static void schedule(struct sysg_state *st);

static void on_reply(struct sysg_io *io, uint32_t events)
{
	struct sysg_state *st = io->arg;

	(void)events;
	wait_busy(st);
	schedule(st);
}

/* Send the queued writes now, without waiting for the answer. */
static void flush_async(struct sysg_state *st)
{
	struct sysg_state_remote *r = st->remote;
	int rc;

	if (r->busy || !r->npending)
		return;
	rc = send_request(st, R_NONE, NULL, 0);
	if (rc < 0) {
		log_line(st, SYSG_LOG_WARN, "cannot start the state helper: %s",
			 strerror(-rc));
		r->next_send_ms = sysg_now_ms() + RETRY_MS;
		schedule(st);
		return;
	}
	r->next_send_ms = sysg_now_ms() + WRITE_GAP_MS;
	r->sent_ms[r->nsent++ % STORM_WRITES] = sysg_now_ms();
	r->io.fd = r->fd;
	r->io.cb = on_reply;
	r->io.arg = st;
	if (r->fd < 0 || sysg_loop_io_add(r->loop, &r->io, EPOLLIN) < 0)
		wait_busy(st);
}

static void on_flush(struct sysg_timer *t)
{
	flush_async(t->arg);
}

/* Queued writes go out on the next loop turn, WRITE_GAP_MS after the
 * previous request at the earliest; without a loop, now. */
static void schedule(struct sysg_state *st)
{
	struct sysg_state_remote *r = st->remote;
	int64_t wait;

	if (r->busy || !r->npending || r->flush_timer.armed)
		return;
	if (!r->loop) {
		sysg_state_sync(st);
		return;
	}
	wait = r->next_send_ms - sysg_now_ms();
	sysg_timer_start(r->loop, &r->flush_timer, wait > 0 ? wait : 0,
			 on_flush, st);
}

int sysg_state_sync(struct sysg_state *st)
{
	struct sysg_state_remote *r = st ? st->remote : NULL;
	int32_t rc[NRC] = { 0, 0, 0 };
	int io;

	if (!r)
		return 0;
	wait_busy(st);
	if (r->loop)
		sysg_timer_stop(r->loop, &r->flush_timer);
	for (int tries = 0; r->npending && tries < 2; tries++) {
		if ((io = send_request(st, R_NONE, NULL, 0)) == 0)
			io = read_reply(st, NULL, rc, NULL);
		finish(st, io, rc);
		if (io == 0)
			return rc[0];
	}
	return r->npending ? -EIO : 0;
}

/* One read: the queued writes first, then OP; its records in RECS. */
static int call(struct sysg_state *st, uint32_t op, const char *s, uint64_t n,
		struct rbuf *recs)
{
	struct sysg_state_remote *r = st->remote;
	int32_t rc[NRC] = { 0, 0, 0 };
	int io = 0;

	wait_busy(st);
	if (r->loop)
		sysg_timer_stop(r->loop, &r->flush_timer);
	for (int tries = 0; tries < 2; tries++) {
		recs->len = 0;
		if ((io = send_request(st, op, s, n)) == 0)
			io = read_reply(st, recs, rc, NULL);
		finish(st, io, rc);
		if (io == 0)
			break;
	}
	r->next_send_ms = sysg_now_ms() + WRITE_GAP_MS;
	schedule(st);
	return io < 0 ? -EIO : rc[1];
}

/* ---------------------------------------------------- public calls */

static void remote_free(struct sysg_state_remote *r)
{
	free_ops(r->pending, r->npending);
	free_ops(r->inflight, r->ninflight);
	free(r);
}

int sysg_state_open_remote(struct sysg_state **out,
			   const struct sysg_plugin_path *pp, const char *name,
			   const char *state_dir, const char *path,
			   char *err, size_t errlen)
{
	struct sysg_state *st;
	struct sysg_state_remote *r;
	struct rbuf tail = { 0 };
	int32_t rc[NRC] = { 0, -EIO, 0 };
	int io;

	*out = NULL;
	if (!state_dir || !*state_dir) {
		sysg_errf(err, errlen, "state: no state directory");
		return -EINVAL;
	}
	st = calloc(1, sizeof(*st));
	r = calloc(1, sizeof(*r));
	if (!st || !r || !(st->dir = strdup(state_dir)) ||
	    (path && !(st->path = strdup(path)))) {
		sysg_errf(err, errlen, "state: out of memory");
		free(r);
		sysg_state_close(st);
		return -ENOMEM;
	}
	r->fd = -1;
	st->remote = r;
	sysg_state_init_host(st);
	io = spawn(st, pp, name ? name : "xml");
	if (io == 0)
		io = read_reply(st, NULL, rc, &tail);
	if (io == 0 && rc[1] == 0 && tail.len &&
	    !(st->file = strndup(tail.p, tail.len)))
		rc[1] = -ENOMEM;
	if (io < 0 || rc[1] < 0) {
		if (io < 0)
			sysg_errf(err, errlen, "state: the backend helper "
				  "failed: %s", strerror(-io));
		else if (tail.len)
			sysg_errf(err, errlen, "%.*s", (int)tail.len, tail.p);
		else
			sysg_errf(err, errlen, "state: %s", strerror(-rc[1]));
		rb_free(&tail);
		sysg_state_close(st);
		return io < 0 ? io : rc[1];
	}
	rb_free(&tail);
	*out = st;
	return 0;
}

void sysg_state_use_loop(struct sysg_state *st, struct sysg_loop *loop)
{
	struct sysg_state_remote *r = st ? st->remote : NULL;

	if (!r || r->loop == loop)
		return;
	if (r->loop) {
		sysg_state_sync(st);
		sysg_loop_io_del(r->loop, &r->io);
		sysg_timer_stop(r->loop, &r->flush_timer);
		sysg_timer_stop(r->loop, &r->idle_timer);
	}
	r->loop = loop;
	arm_idle(st);
}

int sysg_state_reaped(struct sysg_state *st, pid_t pid, int status)
{
	struct sysg_state_remote *r = st ? st->remote : NULL;

	(void)status;
	if (!r || pid <= 0)
		return 0;
	if (pid == r->pid) {
		r->pid = 0;     /* its socket says EOF: seen at the next read */
		return 1;
	}
	for (size_t i = 0; i < r->ngone; i++)
		if (r->gone[i] == pid) {
			r->gone[i] = r->gone[--r->ngone];
			return 1;
		}
	return 0;
}

void sysg_state_remote_stats(const struct sysg_state *st,
			     unsigned long *helpers, unsigned long *requests)
{
	const struct sysg_state_remote *r = st ? st->remote : NULL;

	*helpers = r ? r->helpers : 0;
	*requests = r ? r->requests : 0;
}

pid_t sysg_state_helper_pid(const struct sysg_state *st)
{
	return st && st->remote && st->remote->fd >= 0 ? st->remote->pid : 0;
}

void sysg_remote_end(struct sysg_state *st)
{
	struct sysg_state_remote *r = st->remote;

	sysg_state_sync(st);
	drop_helper(st, 1);
	for (size_t i = 0; i < r->ngone; i++)
		waitpid(r->gone[i], NULL, 0);
	r->ngone = 0;
	r->nsent = 0;   /* what follows an answered request is no storm yet */
}

void sysg_remote_free(struct sysg_state *st)
{
	sysg_state_use_loop(st, NULL);
	sysg_remote_end(st);
	remote_free(st->remote);
	st->remote = NULL;
}

/* ---------------------------------------------------------- writes */

static int put(struct sysg_state *st, uint32_t op, char kind, const char *key,
	       const void *a, size_t alen, const void *b, size_t blen)
{
	struct wop w = { op, (uint32_t)(alen + blen), NULL, NULL };
	size_t klen = key ? strlen(key) : 0;
	int rc;

	w.data = malloc(w.len ? w.len : 1);
	w.key = malloc(klen + 2);
	if (!w.data || !w.key) {
		wop_free(&w);
		return -ENOMEM;
	}
	memcpy(w.data, a, alen);
	if (blen)
		memcpy(w.data + alen, b, blen);
	w.key[0] = kind;
	memcpy(w.key + 1, key ? key : "", klen + 1);
	if ((rc = queue(st->remote, &w)) < 0)
		return rc;
	if (!st->remote->loop)          /* nothing to wait on: store it now */
		return sysg_state_sync(st);
	schedule(st);
	return 0;
}

int sysg_remote_set_pid(struct sysg_state *st, const char *name, int64_t pid)
{
	return put(st, W_SET_PID, 'p', name, &pid, sizeof(pid), name,
		   strlen(name) + 1);
}

int sysg_remote_put_unit(struct sysg_state *st,
			 const struct sysg_unit_record *u)
{
	return put(st, W_PUT_UNIT, 'u', u->name, u, unit_len(u), NULL, 0);
}

int sysg_remote_remove_unit(struct sysg_state *st, const char *name)
{
	return put(st, W_REMOVE_UNIT, 'u', name, name, strlen(name) + 1,
		   NULL, 0);
}

int sysg_remote_add_cron_run(struct sysg_state *st,
			     const struct sysg_cron_run *c, int keep)
{
	char key[SYSG_NAME_MAX + 32];
	uint32_t k = (uint32_t)keep;

	/* a run is updated in place by (name, started_at_ms) */
	snprintf(key, sizeof(key), "%s\n%lld", c->name,
		 (long long)c->started_at_ms);
	return put(st, W_ADD_CRON, 'c', key, &k, sizeof(k), c, sizeof(*c));
}

int sysg_remote_add_deploy(struct sysg_state *st,
			   const struct sysg_deploy_record *d)
{
	/* a deploy is updated in place by id */
	return put(st, W_ADD_DEPLOY, 'd', d->id, d, deploy_len(d), NULL, 0);
}

int sysg_remote_kv_set(struct sysg_state *st, const char *key,
		       const char *value)
{
	return put(st, W_KV_SET, 'k', key, key, strlen(key) + 1, value,
		   value ? strlen(value) + 1 : 0);
}

/* ----------------------------------------------------------- reads */

/* The next record of RECS at *OFF ([len] bytes, one after the other):
 * 1 with P and LEN, or 0 at the end. */
static int next_rec(const struct rbuf *recs, size_t *off, const char **p,
		    uint32_t *len)
{
	if (*off + sizeof(*len) > recs->len)
		return 0;
	memcpy(len, recs->p + *off, sizeof(*len));
	*p = recs->p + *off + sizeof(*len);
	*off += sizeof(*len) + *len;
	return *off <= recs->len;
}

int sysg_remote_get_pid(struct sysg_state *st, const char *name, int64_t *pid)
{
	struct rbuf recs = { 0 };
	const char *p;
	uint32_t len;
	size_t off = 0;
	int rc = call(st, R_GET_PID, name, 0, &recs);

	if (rc == 0) {
		rc = -EIO;
		while (next_rec(&recs, &off, &p, &len))
			if (len >= sizeof(*pid)) {
				memcpy(pid, p, sizeof(*pid));
				rc = 0;
			}
	}
	rb_free(&recs);
	return rc;
}

int sysg_remote_list_pids(struct sysg_state *st, sysg_pid_cb cb, void *arg)
{
	struct rbuf recs = { 0 };
	const char *p;
	uint32_t len;
	size_t off = 0;
	int rc = call(st, R_LIST_PIDS, NULL, 0, &recs);

	while (next_rec(&recs, &off, &p, &len)) {
		int64_t pid;

		if (len <= sizeof(pid) || p[len - 1])
			continue;
		memcpy(&pid, p, sizeof(pid));
		if (cb(arg, p + sizeof(pid), pid))
			break;
	}
	rb_free(&recs);
	return rc;
}

int sysg_remote_get_unit(struct sysg_state *st, const char *name,
			 struct sysg_unit_record *out)
{
	struct rbuf recs = { 0 };
	const char *p;
	uint32_t len;
	size_t off = 0;
	int rc = call(st, R_GET_UNIT, name, 0, &recs);

	if (rc == 0) {
		rc = -EIO;
		while (next_rec(&recs, &off, &p, &len)) {
			unpack(out, sizeof(*out), p, len);
			rc = 0;
		}
	}
	rb_free(&recs);
	return rc;
}

/* Hand each record of RECS, as a zero-filled TYPE, to CB. */
#define RELAY_RECS(recs, type, cb, arg) do { \
	const char *p_; \
	uint32_t len_; \
	size_t off_ = 0; \
	type *full_ = malloc(sizeof(type)); \
	while (next_rec(recs, &off_, &p_, &len_)) { \
		if (!full_) \
			break; \
		unpack(full_, sizeof(type), p_, len_); \
		if ((cb)(arg, full_)) \
			break; \
	} \
	free(full_); \
} while (0)

int sysg_remote_list_units(struct sysg_state *st, sysg_unit_cb cb, void *arg)
{
	struct rbuf recs = { 0 };
	int rc = call(st, R_LIST_UNITS, NULL, 0, &recs);

	RELAY_RECS(&recs, struct sysg_unit_record, cb, arg);
	rb_free(&recs);
	return rc;
}

int sysg_remote_list_cron_runs(struct sysg_state *st, const char *name,
			       sysg_cron_run_cb cb, void *arg)
{
	struct rbuf recs = { 0 };
	int rc = call(st, R_LIST_CRON, name, 0, &recs);

	RELAY_RECS(&recs, struct sysg_cron_run, cb, arg);
	rb_free(&recs);
	return rc;
}

int sysg_remote_list_deploys(struct sysg_state *st, const char *service,
			     sysg_deploy_cb cb, void *arg)
{
	struct rbuf recs = { 0 };
	int rc = call(st, R_LIST_DEPLOYS, service, 0, &recs);

	RELAY_RECS(&recs, struct sysg_deploy_record, cb, arg);
	rb_free(&recs);
	return rc;
}

int sysg_remote_kv_get(struct sysg_state *st, const char *key, char *buf,
		       size_t len)
{
	struct rbuf recs = { 0 };
	const char *p;
	uint32_t n;
	size_t off = 0;
	int rc = call(st, R_KV_GET, key, len, &recs);

	if (rc == 0) {
		rc = -EIO;
		while (next_rec(&recs, &off, &p, &n))
			if (n && n <= len && !p[n - 1]) {
				memcpy(buf, p, n);
				rc = 0;
			}
	}
	rb_free(&recs);
	return rc;
}
