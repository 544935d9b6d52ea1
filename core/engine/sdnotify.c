/* sdnotify.c - sysg as the sd_notify(3) server of its services
 * (`readiness: notify`, `watchdog: D`).
 *
 * One datagram socket per supervisor, in the abstract namespace (so a
 * service running as another user can reach it; nothing on disk), with
 * SO_PASSCRED: the kernel tells the sender's pid, and a message counts
 * only when that pid is the main process of a service that asked for the
 * protocol or a member of its process tree (proctree.h). Anybody else,
 * even a process that learnt the address, is refused and logged.
 *
 * READY=1 makes a starting `readiness: notify` service ready; STATUS=
 * is its status text (status, inspect); STOPPING=1 is logged and shown;
 * WATCHDOG=1 re-arms the watchdog, WATCHDOG=trigger fires it; a watchdog
 * that fires is EV_WATCHDOG (a failure: restart by policy). With
 * readiness: notify the watchdog starts at READY=1 (or at an earlier
 * WATCHDOG=1), as systemd's for Type=notify. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "svc.h"

#define NOTIFY_MSG_MAX 4096     /* systemd's NOTIFY_BUFFER_MAX */
#define NOTIFY_FDS_MAX 16       /* fds a message may carry (closed) */

int svc_wants_notify(const struct svc *v)
{
	return v->cfg->readiness_notify || v->cfg->watchdog_ms > 0;
}

/* ------------------------------------------------------------------ */
/* Who sent it                                                         */
/* ------------------------------------------------------------------ */

static int in_tree(const struct svc *v, pid_t pid)
{
	struct sysg_tree_match m;
	struct sysg_pidset tree = { 0 };
	int has;

	svc_tree_match(v, &m);
	has = sysg_proctree_collect(&m, &tree) == 0 &&
	      sysg_pidset_has(&tree, pid);
	sysg_pidset_free(&tree);
	return has;
}

static struct svc *sender(struct sysg_supervisor *s, pid_t pid, int *cand)
{
	*cand = 0;
	for (size_t i = 0; i < s->nactive; i++) {
		struct svc *v = s->svcs[i];

		if (svc_wants_notify(v) && v->pid > 0 && v->pid == pid)
			return v;
		if (svc_wants_notify(v) && svc_cand_on(v) &&
		    v->cand->pid == pid) {
			*cand = 1;      /* a new run beside it (handover.c) */
			return v;
		}
	}
	for (size_t i = 0; i < s->nactive; i++) {
		struct svc *v = s->svcs[i];

		if (svc_wants_notify(v) && v->pid > 0 && svc_is_up(v) &&
		    in_tree(v, pid))
			return v;
	}
	if (sup_inst_service_of(s, pid)) {     /* a deploy's candidate: its
						  strategy decides readiness */
		struct svc *v = sup_find(s, sup_inst_service_of(s, pid));

		*cand = 2;
		return v && svc_wants_notify(v) ? v : NULL;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* What it says                                                        */
/* ------------------------------------------------------------------ */

static void watchdog_fired(struct sysg_timer *t)
{
	struct svc *v = t->arg;

	if (v->state == ST_STARTING || v->state == ST_RUNNING)
		svc_event(v, EV_WATCHDOG);
}

void svc_watchdog_arm(struct svc *v)
{
	if (v->cfg->watchdog_ms > 0)
		sysg_timer_start(v->sup->loop, &v->watchdog, v->cfg->watchdog_ms,
				 watchdog_fired, v);
}

void svc_watchdog_stop(struct svc *v)
{
	sysg_timer_stop(v->sup->loop, &v->watchdog);
}

/* Printable text of VALUE (control characters as '?'). */
static void set_text(char *dst, size_t len, const char *value, size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < len; i++)
		dst[i] = (unsigned char)value[i] < ' ' ? '?' : value[i];
	dst[i] = '\0';
}

static void one_line(struct svc *v, int cand, pid_t pid, const char *line,
		     size_t n)
{
	if (cand) {     /* the candidate only says when it is ready */
		if (cand == 1 && n == 7 && !memcmp(line, "READY=1", 7))
			svc_cand_ready(v);
		else if (cand == 2 && n == 7 && !memcmp(line, "READY=1", 7))
			sup_inst_ready(v->sup, pid);
		return;
	}
	if (n == 7 && !memcmp(line, "READY=1", 7)) {
		if (v->state == ST_STARTING && v->cfg->readiness_notify) {
			svc_event(v, EV_READY);
			svc_watchdog_arm(v);    /* start-up over (launch.c) */
		}
	} else if (n > 7 && !memcmp(line, "STATUS=", 7)) {
		set_text(v->status_text, sizeof(v->status_text), line + 7,
			 n - 7);
		sup_record(v);
	} else if (n == 10 && !memcmp(line, "STOPPING=1", 10)) {
		if (!v->stopping_said)
			svc_log(v, SYSG_LOG_INFO, "Service %s is stopping "
				"(STOPPING=1)", v->cfg->name);
		v->stopping_said = 1;
	} else if (n == 10 && !memcmp(line, "WATCHDOG=1", 10)) {
		svc_watchdog_arm(v);
	} else if (n == 16 && !memcmp(line, "WATCHDOG=trigger", 16)) {
		if (v->cfg->watchdog_ms > 0)
			sysg_timer_start(v->sup->loop, &v->watchdog, 0,
					 watchdog_fired, v);
	}
	/* anything else (MAINPID=, FDSTORE=, ERRNO=...) is not supported
	 * and ignored, as sd_notify(3) allows */
}

static void handle(struct sysg_supervisor *s, pid_t pid, const char *msg,
		   size_t len)
{
	int cand;
	struct svc *v = sender(s, pid, &cand);

	if (!v) {
		sysg_log(&s->log, SYSG_LOG_WARN, "Notification from pid %d "
			 "refused: not in the process tree of a service with "
			 "readiness: notify or a watchdog", (int)pid);
		return;
	}
	while (len > 0) {
		const char *nl = memchr(msg, '\n', len);
		size_t n = nl ? (size_t)(nl - msg) : len;

		one_line(v, cand, pid, msg, n);
		if (!nl)
			break;
		len -= n + 1;
		msg = nl + 1;
	}
}

/* ------------------------------------------------------------------ */
/* The socket                                                          */
/* ------------------------------------------------------------------ */

static void close_fds(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int fds[NOTIFY_FDS_MAX];

			memcpy(fds, CMSG_DATA(c), n * sizeof(int));
			for (size_t i = 0; i < n; i++)
				close(fds[i]);
		}
}

static int sender_pid(struct msghdr *mh, pid_t *pid)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			*pid = uc.pid;
			return 0;
		}
	return -1;
}

static void on_message(struct sysg_io *io, uint32_t events)
{
	struct sysg_supervisor *s = io->arg;
	char buf[NOTIFY_MSG_MAX + 1];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred)) +
		       CMSG_SPACE(NOTIFY_FDS_MAX * sizeof(int))];
	} ctl;

	(void)events;
	for (;;) {
		struct iovec iov = { buf, sizeof(buf) - 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = &ctl,
				     .msg_controllen = sizeof(ctl) };
		ssize_t n = recvmsg(io->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		pid_t pid = 0;

		if (n < 0)
			return;         /* EAGAIN: drained */
		close_fds(&mh);
		if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
		    sender_pid(&mh, &pid) < 0 || pid <= 0)
			continue;       /* too long, or no credentials */
		handle(s, pid, buf, (size_t)n);
	}
}

const char *sup_sdnotify_address(struct sysg_supervisor *s)
{
	struct sup_sdnotify *n = &s->sdnotify;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int one = 1;
	socklen_t len;

	if (n->io.fd > 0)
		return n->address;
	snprintf(n->address, sizeof(n->address), "@sysg-notify/%d/%llx",
		 (int)getpid(), (unsigned long long)sysg_wall_ms());
	/* abstract: sun_path[0] is NUL, the rest of the name follows */
	memcpy(a.sun_path + 1, n->address + 1, strlen(n->address) - 1);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
			  strlen(n->address));
	n->io.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			  0);
	if (n->io.fd < 0 ||
	    setsockopt(n->io.fd, SOL_SOCKET, SO_PASSCRED, &one,
		       sizeof(one)) < 0 ||
	    bind(n->io.fd, (struct sockaddr *)&a, len) < 0) {
		sysg_log(&s->log, SYSG_LOG_WARN, "No notification socket: %s",
			 strerror(errno));
		sup_sdnotify_close(s);
		return NULL;
	}
	n->io.cb = on_message;
	n->io.arg = s;
	sysg_loop_io_add(s->loop, &n->io, EPOLLIN);
	return n->address;
}

void sup_sdnotify_close(struct sysg_supervisor *s)
{
	struct sup_sdnotify *n = &s->sdnotify;

	if (n->io.fd > 0) {
		sysg_loop_io_del(s->loop, &n->io);
		close(n->io.fd);
	}
	n->io.fd = 0;
}
