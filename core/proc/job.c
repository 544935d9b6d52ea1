/* job.c - helper processes with a timeout (see job.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "job.h"

static void job_unlink(struct sysg_jobs *js, struct sysg_job *j)
{
	for (struct sysg_job **pp = &js->head; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	j->next = NULL;
	sysg_timer_stop(js->loop, &j->timer);
}

/* Synchronously finish a job that is still linked (no callback). */
static void job_flush(struct sysg_jobs *js, struct sysg_job *j)
{
	if (j->pid <= 0)
		return;
	sysg_job_kill(j);
	waitpid(j->pid, NULL, 0);
	job_unlink(js, j);
	j->pid = 0;
}

static void job_link(struct sysg_jobs *js, struct sysg_job *j)
{
	j->owner = js;
	j->timed_out = 0;
	j->cancelled = 0;
	j->next = js->head;
	js->head = j;
}

static void on_job_timeout(struct sysg_timer *t)
{
	struct sysg_job *j = t->arg;

	j->timed_out = 1;
	sysg_job_kill(j);
}

static void job_arm(struct sysg_jobs *js, struct sysg_job *j, int64_t ms)
{
	if (ms > 0)
		sysg_timer_start(js->loop, &j->timer, ms, on_job_timeout, j);
}

int sysg_job_spawn(struct sysg_jobs *js, struct sysg_job *j,
		   const struct sysg_spawn_req *req, int64_t timeout_ms,
		   char *err, size_t errlen)
{
	struct sysg_child c;
	int rc;

	job_flush(js, j);
	rc = sysg_spawn(req, &c, err, errlen);
	if (rc < 0)
		return rc;
	j->pid = c.pid;
	job_link(js, j);
	job_arm(js, j, timeout_ms);
	return 0;
}

static void job_child(int (*fn)(void *), void *arg, int err_fd)
{
	sigset_t empty;
	int null;

	setsid();
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0)
		for (int fd = 0; fd < 3; fd++)
			dup2(fd == 2 && err_fd >= 0 ? err_fd : null, fd);
	syscall(SYS_close_range, 3U, ~0U, 0U);
	_exit(fn(arg));
}

int sysg_job_fork(struct sysg_jobs *js, struct sysg_job *j,
		  int (*fn)(void *), void *arg, int64_t timeout_ms)
{
	return sysg_job_fork_err(js, j, fn, arg, timeout_ms, -1);
}

int sysg_job_fork_err(struct sysg_jobs *js, struct sysg_job *j,
		      int (*fn)(void *), void *arg, int64_t timeout_ms,
		      int err_fd)
{
	pid_t pid;

	job_flush(js, j);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		job_child(fn, arg, err_fd);
	j->pid = pid;
	job_link(js, j);
	job_arm(js, j, timeout_ms);
	return 0;
}

int sysg_jobs_reaped(struct sysg_jobs *js, pid_t pid, int status)
{
	for (struct sysg_job *j = js->head; j; j = j->next) {
		if (j->pid != pid)
			continue;
		job_unlink(js, j);
		j->pid = 0;
		if (!j->cancelled)
			j->done(j, status, j->timed_out);
		return 1;
	}
	return 0;
}

void sysg_job_kill(struct sysg_job *j)
{
	if (j->pid > 0) {
		kill(-j->pid, SIGKILL);
		kill(j->pid, SIGKILL);
	}
}

void sysg_job_cancel(struct sysg_job *j)
{
	if (j->pid > 0) {
		j->cancelled = 1;
		sysg_job_kill(j);
	}
}

void sysg_jobs_kill_all(struct sysg_jobs *js)
{
	while (js->head) {
		struct sysg_job *j = js->head;
		int status = 0;

		sysg_job_kill(j);
		waitpid(j->pid, &status, 0);
		job_unlink(js, j);
		j->pid = 0;
		if (!j->cancelled)
			j->done(j, status, 1);
	}
}

size_t sysg_jobs_count(const struct sysg_jobs *js)
{
	size_t n = 0;

	for (const struct sysg_job *j = js->head; j; j = j->next)
		n++;
	return n;
}
