/* logfiles.c - the services' log files as the engine keeps them: size
 * rotation (`logs: { max_size, keep, compress }`) and reopening after an
 * external logrotate (SIGUSR1, `sysg logs --reopen`). How each mode
 * rotates without losing a line is in proc/logrotate.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "proc/proc.h"
#include "svc.h"

#define CHECK_MS 1000   /* direct mode: how often file sizes are checked */

static const char *const kinds[2] = { "stdout", "stderr" };

static int log_path(const struct svc *v, int i, char *buf, size_t len)
{
	return sysg_log_service_path(v->sup->log.dir, v->cfg->name, kinds[i],
				     buf, len);
}

static int *log_fd(struct svc *v, int i)
{
	return i ? &v->log_err : &v->log_out;
}

static void gzip_done(struct sysg_job *j, int status, int timed_out)
{
	struct svc *v = j->arg;

	if (timed_out || status != 0)
		svc_log(v, SYSG_LOG_WARN, "Compressing a rotated log of %s "
			"failed (status %d)", v->cfg->name, status);
}

static void rotated(struct svc *v, int i, const char *path)
{
	char cmd[4400], err[256];
	struct sysg_spawn_req req = {
		.command = cmd, .force_shell = 1, .out_fd = SYSG_SPAWN_DEVNULL,
		.err_fd = SYSG_SPAWN_DEVNULL, .cgroup_fd = -1,
	};

	svc_log(v, SYSG_LOG_INFO, "Rotated log file %s", path);
	if (!v->cfg->logs.compress)
		return;
	sysg_log_gzip_command(path, cmd, sizeof(cmd));
	v->logjob[i].done = gzip_done;
	v->logjob[i].arg = v;
	if (sysg_job_spawn(&v->sup->jobs, &v->logjob[i], &req, 600000, err,
			   sizeof(err)) < 0)
		svc_log(v, SYSG_LOG_WARN, "Cannot compress %s.1: %s", path, err);
}

/* The previous rotated file is still being compressed: rotating now
 * would rename it under gzip's feet, so the file waits (and may pass
 * max_size by what is written meanwhile). */
static int compressing(const struct svc *v, int i)
{
	return v->logjob[i].pid > 0;
}

/* Pipe mode: the drain found the file full at a line boundary. */
static void drain_rotate(struct sysg_drain *d)
{
	struct svc *v = d->arg;
	char path[4096], err[512];
	int i = v->drains[1] == d;

	if (compressing(v, i) || log_path(v, i, path, sizeof(path)) < 0)
		return;
	if (sysg_log_rotate_rename(path, v->cfg->logs.keep, log_fd(v, i), err,
				   sizeof(err)) < 0) {
		svc_log(v, SYSG_LOG_WARN, "%s", err);
		d->size = 0;    /* try again after another MAX_SIZE */
		return;
	}
	d->log_fd = *log_fd(v, i);
	d->size = 0;
	rotated(v, i, path);
}

void svc_drain_rotation(struct svc *v, struct sysg_drain *d)
{
	struct stat st;

	d->max_size = v->cfg->logs.max_size;
	d->rotate = drain_rotate;
	d->size = d->log_fd >= 0 && fstat(d->log_fd, &st) == 0 ?
		  (int64_t)st.st_size : 0;
}

/* Direct mode: the service writes the file itself; copy and truncate
 * it with its writers stopped. */
static void check_size(struct svc *v, int i)
{
	char path[4096], err[512];
	struct stat st;
	int fd = *log_fd(v, i), rc;

	if (fd < 0 || compressing(v, i) || fstat(fd, &st) < 0 ||
	    st.st_size < v->cfg->logs.max_size ||
	    log_path(v, i, path, sizeof(path)) < 0)
		return;
	rc = sysg_log_rotate_copy(path, fd, v->cfg->logs.keep, err, sizeof(err));
	if (rc == 0)
		rotated(v, i, path);
	else
		svc_log(v, rc == -EAGAIN ? SYSG_LOG_DEBUG : SYSG_LOG_WARN, "%s",
			err);
}

static int wants_checks(const struct sysg_supervisor *s)
{
	if (!s->opts.direct_logs)
		return 0;       /* the drains rotate as they write */
	for (size_t i = 0; i < s->nsvcs; i++)
		if (s->svcs[i]->cfg->logs.max_size > 0)
			return 1;
	return 0;
}

static void on_check(struct sysg_timer *t)
{
	struct sysg_supervisor *s = t->arg;

	for (size_t i = 0; i < s->nsvcs; i++)
		if (s->svcs[i]->cfg->logs.max_size > 0)
			for (int k = 0; k < 2; k++)
				check_size(s->svcs[i], k);
	sup_logs_arm(s);
}

void sup_logs_arm(struct sysg_supervisor *s)
{
	if (!s->logs_timer.armed && wants_checks(s))
		sysg_timer_start(s->loop, &s->logs_timer, CHECK_MS, on_check, s);
}

/* Pipe mode: open PATH anew; the drain switches at a line start. 1
 * reopened, 0 nothing to do, -errno. */
static int reopen_piped(struct svc *v, int k, const char *path)
{
	int old = *log_fd(v, k), rc;

	if (v->drains[k] && v->drains[k]->log_fd == old) {
		/* keep the old fd for the drain until it switches */
		int dup_old = fcntl(old, F_DUPFD_CLOEXEC, 0);

		if (dup_old < 0)
			return -errno;
		rc = sysg_log_reopen(path, log_fd(v, k));
		if (rc > 0)
			sysg_drain_switch(v->drains[k], *log_fd(v, k), dup_old);
		else
			close(dup_old);
		return rc;
	}
	return sysg_log_reopen(path, log_fd(v, k));
}

int sysg_supervisor_reopen_logs(struct sysg_supervisor *s, char *err,
				size_t errlen)
{
	int failed = 0, rc = sysg_log_reopen_main(&s->log);

	if (rc < 0) {
		snprintf(err, errlen, "cannot reopen supervisor.log: %s",
			 strerror(-rc));
		failed = rc;
	}
	for (size_t i = 0; i < s->nsvcs; i++) {
		struct svc *v = s->svcs[i];

		for (int k = 0; k < 2; k++) {
			char path[4096], why[4400];

			if (*log_fd(v, k) < 0 ||
			    log_path(v, k, path, sizeof(path)) < 0)
				continue;
			if (s->opts.direct_logs) {
				rc = sysg_log_reclaim(path, log_fd(v, k), why,
						      sizeof(why));
			} else {
				rc = reopen_piped(v, k, path);
				snprintf(why, sizeof(why), "cannot reopen %s: %s",
					 path, strerror(rc < 0 ? -rc : 0));
			}
			if (rc < 0) {
				svc_log(v, SYSG_LOG_WARN, "%s", why);
				snprintf(err, errlen, "%s", why);
				failed = rc;
			} else if (rc > 0) {
				svc_log(v, SYSG_LOG_INFO, "Reopened log file %s",
					path);
			}
		}
	}
	if (s->opts.on_reopen)
		s->opts.on_reopen(s->opts.arg);
	return failed;
}
