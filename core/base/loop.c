/* loop.c - epoll + signalfd + a sorted timer list (see loop.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

#define LOOP_MAX_EVENTS 32

struct sysg_loop {
	int epfd;
	int sigfd;
	sigset_t saved_mask;
	struct sysg_io sigio;
	sysg_signal_cb sigcb;
	void *sigarg;
	struct sysg_timer *timers;      /* sorted by due_ms (then by start) */
	struct sysg_timer *timers_tail; /* the last one: most timers go there */
	/* Events of the batch being dispatched: io_del clears entries so a
	 * callback may remove (and free) another watcher safely. */
	struct epoll_event pending[LOOP_MAX_EVENTS];
	int npending;
	uint64_t turn;                  /* iterations so far */
};

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sysg_now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int64_t sysg_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

static void loop_signal_mask(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
}

static void on_sigfd(struct sysg_io *io, uint32_t events)
{
	struct sysg_loop *l = io->arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (l->sigcb)
			l->sigcb(l->sigarg, &si);
}

static int loop_open_signals(struct sysg_loop *l)
{
	sigset_t set;

	loop_signal_mask(&set);
	l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sigfd < 0)
		return -errno;
	/* SIGPIPE: a closed stdout must give EPIPE, not kill us. */
	sigaddset(&set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &set, &l->saved_mask) < 0)
		return -errno;
	l->sigio.fd = l->sigfd;
	l->sigio.cb = on_sigfd;
	l->sigio.arg = l;
	return sysg_loop_io_add(l, &l->sigio, EPOLLIN);
}

int sysg_loop_new(struct sysg_loop **out)
{
	struct sysg_loop *l = calloc(1, sizeof(*l));
	int rc;

	*out = NULL;
	if (!l)
		return -ENOMEM;
	l->sigfd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		rc = -errno;
		free(l);
		return rc;
	}
	sigprocmask(SIG_BLOCK, NULL, &l->saved_mask);
	rc = loop_open_signals(l);
	if (rc < 0) {
		sysg_loop_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

void sysg_loop_free(struct sysg_loop *l)
{
	if (!l)
		return;
	if (l->sigfd >= 0)
		close(l->sigfd);
	close(l->epfd);
	sigprocmask(SIG_SETMASK, &l->saved_mask, NULL);
	free(l);
}

void sysg_loop_on_signal(struct sysg_loop *l, sysg_signal_cb cb, void *arg)
{
	l->sigcb = cb;
	l->sigarg = arg;
}

int sysg_loop_io_add(struct sysg_loop *l, struct sysg_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };
	int op = io->active ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	if (epoll_ctl(l->epfd, op, io->fd, &ev) < 0)
		return -errno;
	io->active = 1;
	return 0;
}

void sysg_loop_io_del(struct sysg_loop *l, struct sysg_io *io)
{
	if (!io->active)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->active = 0;
	for (int i = 0; i < l->npending; i++)
		if (l->pending[i].data.ptr == io)
			l->pending[i].data.ptr = NULL;
}

/* The timers are a doubly linked list: stopping one is O(1), and
 * starting one walks back from the tail, where a timer of the same delay
 * as those before it goes at once (thousands of services each arming a
 * timer in one turn stay linear). */
void sysg_timer_stop(struct sysg_loop *l, struct sysg_timer *t)
{
	if (!t->armed)
		return;
	if (t->prev)
		t->prev->next = t->next;
	else
		l->timers = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		l->timers_tail = t->prev;
	t->armed = 0;
	t->next = t->prev = NULL;
}

void sysg_timer_start(struct sysg_loop *l, struct sysg_timer *t,
		      int64_t delay_ms, sysg_timer_cb cb, void *arg)
{
	struct sysg_timer *p;

	sysg_timer_stop(l, t);
	t->due_ms = sysg_now_ms() + (delay_ms > 0 ? delay_ms : 0);
	t->cb = cb;
	t->arg = arg;
	for (p = l->timers_tail; p && p->due_ms > t->due_ms; p = p->prev)
		;
	/* after P (the last one due no later), or first */
	t->prev = p;
	t->next = p ? p->next : l->timers;
	if (t->next)
		t->next->prev = t;
	else
		l->timers_tail = t;
	if (p)
		p->next = t;
	else
		l->timers = t;
	t->armed = 1;
}

/* Fire every timer due now; a callback may re-arm or stop any timer. */
static void run_timers(struct sysg_loop *l)
{
	int64_t now = sysg_now_ms();

	while (l->timers && l->timers->due_ms <= now) {
		struct sysg_timer *t = l->timers;

		sysg_timer_stop(l, t);
		t->cb(t);
	}
}

static int wait_ms(struct sysg_loop *l, int64_t max_wait_ms)
{
	int64_t w = max_wait_ms;

	if (l->timers) {
		int64_t d = l->timers->due_ms - sysg_now_ms();

		if (d < 0)
			d = 0;
		if (w < 0 || d < w)
			w = d;
	}
	if (w > 1000000)
		w = 1000000;
	return (int)w;
}

uint64_t sysg_loop_turn(const struct sysg_loop *l)
{
	return l->turn;
}

int sysg_loop_once(struct sysg_loop *l, int64_t max_wait_ms)
{
	int n = epoll_wait(l->epfd, l->pending, LOOP_MAX_EVENTS,
			   wait_ms(l, max_wait_ms));

	if (n < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
	l->npending = n;
	l->turn++;
	for (int i = 0; i < n; i++) {
		struct sysg_io *io = l->pending[i].data.ptr;

		if (io)
			io->cb(io, l->pending[i].events);
	}
	l->npending = 0;
	run_timers(l);
	return n;
}
