/* job.h - short-lived helper processes watched by the event loop.
 *
 * Hooks, readiness probes, pre_start and skip commands are jobs: a child
 * in its own session, killed (whole process group, SIGKILL) when its
 * timeout expires, reaped by the loop's SIGCHLD handling, and reported
 * once through a callback. The owner of the loop calls sysg_jobs_reaped()
 * for every pid it reaps.
 */
#ifndef SYSG_JOB_H
#define SYSG_JOB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/base.h"
#include "spawn.h"

struct sysg_job;
/* STATUS is the wait status; TIMED_OUT is 1 when the job was killed at
 * its timeout. The callback may free the job. */
typedef void (*sysg_job_done_cb)(struct sysg_job *j, int status,
				 int timed_out);

struct sysg_job {
	pid_t pid;              /* 0 when not running */
	sysg_job_done_cb done;
	void *arg;
	int timed_out;
	int cancelled;          /* killed on purpose: done is not called */
	struct sysg_timer timer;
	struct sysg_jobs *owner;
	struct sysg_job *next;
};

struct sysg_jobs {
	struct sysg_loop *loop;
	struct sysg_job *head;  /* running jobs */
};

/* A job struct may be reused once done; reusing one that is still running
 * kills and reaps the old process first (without calling done).
 *
 * Spawn REQ as job J (J->done and J->arg set by the caller); kill it after
 * TIMEOUT_MS (<= 0: never). 0 or a negative errno with ERR filled. */
int sysg_job_spawn(struct sysg_jobs *js, struct sysg_job *j,
		   const struct sysg_spawn_req *req, int64_t timeout_ms,
		   char *err, size_t errlen);

/* Fork a child that runs FN(ARG) and exits with its return value (no
 * exec), as job J. Used for probes that need a library the resident
 * supervisor should not map (libcurl). 0 or -errno. */
int sysg_job_fork(struct sysg_jobs *js, struct sysg_job *j,
		  int (*fn)(void *), void *arg, int64_t timeout_ms);

/* As sysg_job_fork, with the child's stderr on ERR_FD (< 0: /dev/null)
 * so that FN can say why it failed. */
int sysg_job_fork_err(struct sysg_jobs *js, struct sysg_job *j,
		      int (*fn)(void *), void *arg, int64_t timeout_ms,
		      int err_fd);

/* If PID is a running job, finish it (calls done) and return 1; else 0. */
int sysg_jobs_reaped(struct sysg_jobs *js, pid_t pid, int status);

/* Kill J's process group now (it is still reported when reaped). */
void sysg_job_kill(struct sysg_job *j);

/* Kill J and forget it: its done callback will not be called. */
void sysg_job_cancel(struct sysg_job *j);

/* Kill and reap every running job now (blocking; for teardown). */
void sysg_jobs_kill_all(struct sysg_jobs *js);

/* Number of running jobs. */
size_t sysg_jobs_count(const struct sysg_jobs *js);

#endif
