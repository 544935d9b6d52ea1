/* loop.h - the supervisor's event loop: fd watchers, timers, signals.
 *
 * One epoll set, a sorted list of monotonic timers and a signalfd. The
 * loop blocks SIGCHLD, SIGTERM, SIGINT, SIGHUP and SIGPIPE for the whole
 * process while it exists and delivers the first four through the
 * signalfd to one callback, in the loop, never in signal context. It
 * sleeps in epoll_wait until an fd is ready, a signal arrives or the
 * earliest timer is due: no polling.
 *
 * Watchers and timers are structs owned by the caller (embed them in your
 * own object); the loop only links them. Callbacks may add and remove any
 * watcher or timer, including their own. Single-threaded by design.
 */
#ifndef SYSG_LOOP_H
#define SYSG_LOOP_H

#include <stdint.h>
#include <sys/signalfd.h>

struct sysg_loop;

struct sysg_io;
typedef void (*sysg_io_cb)(struct sysg_io *io, uint32_t events);

/* An fd watcher: set fd, cb and arg, then sysg_loop_io_add(). */
struct sysg_io {
	int fd;
	sysg_io_cb cb;
	void *arg;
	int active;
};

struct sysg_timer;
typedef void (*sysg_timer_cb)(struct sysg_timer *t);

/* A one-shot timer on the monotonic clock (milliseconds). */
struct sysg_timer {
	int64_t due_ms;
	sysg_timer_cb cb;
	void *arg;
	struct sysg_timer *next, *prev;
	int armed;
};

typedef void (*sysg_signal_cb)(void *arg, const struct signalfd_siginfo *si);

/* Monotonic clock in milliseconds. */
int64_t sysg_now_ms(void);

/* Wall clock in milliseconds since the epoch. */
int64_t sysg_wall_ms(void);

/* Create a loop, block the signals above (the previous mask is restored
 * by sysg_loop_free) and open the signalfd. 0 or -errno. */
int sysg_loop_new(struct sysg_loop **out);
void sysg_loop_free(struct sysg_loop *l);

/* Signals (SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1) go to CB; one
 * callback. */
void sysg_loop_on_signal(struct sysg_loop *l, sysg_signal_cb cb, void *arg);

/* Watch IO->fd for EVENTS (EPOLLIN...). 0 or -errno. */
int sysg_loop_io_add(struct sysg_loop *l, struct sysg_io *io, uint32_t events);
/* Stop watching (safe when not watched; does not close the fd). */
void sysg_loop_io_del(struct sysg_loop *l, struct sysg_io *io);

/* Arm T to fire after DELAY_MS (re-arming moves it). */
void sysg_timer_start(struct sysg_loop *l, struct sysg_timer *t,
		      int64_t delay_ms, sysg_timer_cb cb, void *arg);
/* Disarm T (safe when not armed). */
void sysg_timer_stop(struct sysg_loop *l, struct sysg_timer *t);

/* Run one iteration: wait at most MAX_WAIT_MS (-1: until something
 * happens) and dispatch. The number of fd events dispatched (0 when
 * only timers ran), or -errno (EINTR is not an error). */
int sysg_loop_once(struct sysg_loop *l, int64_t max_wait_ms);
/* How many iterations have started: what one iteration computed (a /proc
 * scan, say) may be shared by everything else it dispatches. */
uint64_t sysg_loop_turn(const struct sysg_loop *l);

#endif
