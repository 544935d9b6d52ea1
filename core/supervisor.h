/* supervisor.h - the supervision engine (SPEC 4 and 5).
 *
 * A supervisor owns an event loop (loop.h) and one record per configured
 * service. Each service's life is a state machine (see the table in
 * supervisor.c): it waits for its dependencies to be ready, runs its skip
 * and pre_start commands, is spawned (spawn.h) with its output drained to
 * log files (logs.h), becomes ready by probe or settle time (health.h),
 * is restarted by policy with backoff, is stopped with its whole process
 * tree (proctree.h), and fires hooks (hooks.h). Every transition is
 * written to the state backend (state.h) and to supervisor.log.
 *
 * The process that creates a supervisor becomes a child subreaper and
 * gets SIGCHLD/SIGTERM/SIGINT/SIGHUP through the loop's signalfd while the
 * supervisor exists. It reaps every child (waitpid(-1)). Single-threaded.
 *
 * Typical use (the foreground `sysg start`):
 *     sysg_supervisor_new(&s, cfg, st, &opts, err, sizeof(err));
 *     sysg_supervisor_start_all(s);
 *     sysg_supervisor_run(s);          // until Ctrl+C or nothing is left
 *     sysg_supervisor_free(s);
 */
#ifndef SYSG_SUPERVISOR_H
#define SYSG_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <sysg/plugin.h>

#include "config.h"
#include "loop.h"
#include "state.h"

struct sysg_supervisor;

struct sysg_supervisor_opts {
	const char *state_dir;  /* required: the state directory */
	const char *log_dir;    /* NULL: sysg_log_dir(sys, state_dir) */
	int sys;                /* system mode (--sys) */
	int log_level;          /* supervisor.log threshold; 0: INFO */
	FILE *echo;             /* also print supervisor lines here, or NULL */
	int echo_level;         /* threshold for ECHO */
	FILE *echo_stderr;      /* --stderr: service stderr lines go here as
	                           "[svc:stderr] line"; NULL: off */
	int no_cgroups;         /* don't use cgroup v2 even when writable */
	const char *kind;       /* unit record kind; NULL: "service" */
	/* Called when a service fails to start or is blocked. */
	void (*on_failure)(void *arg, const char *service, const char *reason);
	void *arg;
};

/* Create a supervisor for CFG (borrowed: must outlive it) writing state
 * through ST (borrowed, may be NULL: then nothing is recorded). Opens
 * supervisor.log, sets PR_SET_CHILD_SUBREAPER, installs the loop. 0 or a
 * negative errno with ERR filled. */
int sysg_supervisor_new(struct sysg_supervisor **out, struct sysg_config *cfg,
			struct sysg_state *st,
			const struct sysg_supervisor_opts *opts,
			char *err, size_t errlen);

/* Stop nothing; release everything (services still running are left
 * alone: call stop_all and run first). */
void sysg_supervisor_free(struct sysg_supervisor *s);

/* Request a start of every service (dependency order, parallel
 * branches); cron units are scheduled for their next due time instead.
 * Returns 0; progress happens in run(). */
int sysg_supervisor_start_all(struct sysg_supervisor *s);

/* Start NAME and the services it depends on. -ENOENT when unknown. */
int sysg_supervisor_start_service(struct sysg_supervisor *s, const char *name);

/* Stop NAME (its dependents keep running); a manual stop never restarts
 * by policy. -ENOENT when unknown. */
int sysg_supervisor_stop_service(struct sysg_supervisor *s, const char *name);

/* Stop NAME (whole tree, on_stop.success) and start it again once it is
 * down; a service that is not running is just started. -ENOENT when
 * unknown. */
int sysg_supervisor_restart_service(struct sysg_supervisor *s,
				    const char *name);

/* Stop everything in reverse dependency order; run() returns once all is
 * down and no hook is running. */
int sysg_supervisor_stop_all(struct sysg_supervisor *s);

/* Run the loop until stop_all has completed, or until nothing is running
 * or pending (every service stopped, exited, failed, skipped or blocked).
 * SIGINT/SIGTERM trigger stop_all (a second one kills at once). 0 or
 * -errno. */
int sysg_supervisor_run(struct sysg_supervisor *s);

/* Run the loop until PRED(s, ARG) returns non-zero (0) or TIMEOUT_MS
 * passes (-ETIMEDOUT). For tests and control loops. */
int sysg_supervisor_run_until(struct sysg_supervisor *s,
			      int (*pred)(struct sysg_supervisor *, void *),
			      void *arg, int64_t timeout_ms);

/* 1 when run() would return now. */
int sysg_supervisor_idle(const struct sysg_supervisor *s);

/* Status word of NAME ("running", "failed"...; "starting" while waiting
 * for dependencies), or NULL when unknown. */
const char *sysg_supervisor_status(const struct sysg_supervisor *s,
				   const char *name);

/* The current record of NAME (as written to the state backend).
 * 0 or -ENOENT. */
int sysg_supervisor_get(const struct sysg_supervisor *s, const char *name,
			struct sysg_unit_record *out);

/* Number of services that failed to start or were blocked. */
int sysg_supervisor_failures(const struct sysg_supervisor *s);

/* The loop, for callers that add their own watchers (control socket). */
struct sysg_loop *sysg_supervisor_loop(struct sysg_supervisor *s);

/* The environment marker of the services of STATE_DIR named SVC:
 * "SYSG_INSTANCE=<hash of STATE_DIR>:<SVC>:" (instances append an id).
 * Processes carrying it belong to that service. */
void sysg_instance_prefix(const char *state_dir, const char *svc, char *buf,
			  size_t len);

#endif
