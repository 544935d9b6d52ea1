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
 *     sysg_supervisor_run_until(s, done, arg, timeout_ms);
 *     sysg_supervisor_free(s);
 *
 * The resident supervisor (`start --daemonize`) sets opts.direct_logs,
 * calls sysg_supervisor_adopt() before starting anything (so the services
 * of a supervisor that died keep their processes), and runs the loop with
 * sysg_supervisor_run_until() and a predicate of its own: nothing here
 * ends the loop because every service is down. Control requests use the
 * query functions at the end of this header, sysg_supervisor_reload(),
 * and learn that a request is done from the change notifications
 * (sysg_supervisor_subscribe): a unit's typed status and phase
 * (inactive, activating, active, deactivating, failed), never a status
 * word compared as a string.
 */
#ifndef SYSG_SUPERVISOR_H
#define SYSG_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <sysg/plugin.h>

#include "config/config.h"
#include "base/base.h"
#include "plugin/plugin.h"
#include "proc/proc.h"

struct sysg_supervisor;

struct sysg_supervisor_opts {
	const char *state_dir;  /* required: the state directory */
	const char *log_dir;    /* NULL: sysg_log_dir(sys, state_dir) */
	int sys;                /* system mode (--sys) */
	int drop_privileges;    /* --drop-privileges: no `user` => nobody */
	int log_level;          /* supervisor.log threshold; 0: INFO */
	FILE *echo;             /* also print supervisor lines here, or NULL */
	int echo_level;         /* threshold for ECHO */
	FILE *echo_stderr;      /* --stderr: service stderr lines go here as
	                           "[svc:stderr] line"; NULL: off */
	/* Every line of every service's stdout (STREAM 1) and stderr (2),
	 * from the loop (the multiplexed foreground output); NULL: off.
	 * Like ECHO_STDERR, only without DIRECT_LOGS. */
	sysg_line_fn on_output;
	void *output_arg;
	int no_cgroups;         /* don't use cgroup v2 even when writable */
	const char *kind;       /* unit record kind; NULL: "service" */
	/* Called when a service fails to start or is blocked (from inside
	 * a state transition: it must not call back into the supervisor;
	 * use on_change for that). */
	void (*on_failure)(void *arg, const char *service, const char *reason);
	void *arg;
	/* Services' stdout/stderr are their log files themselves (opened
	 * O_WRONLY|O_APPEND|O_CREAT, 0640), not pipes the supervisor drains:
	 * their output survives the supervisor's death (no SIGPIPE/EPIPE)
	 * and a full disk gives them ENOSPC, never a block. ECHO_STDERR is
	 * then ignored. For the resident supervisor. */
	int direct_logs;
	/* Called (with ARG) from the loop on SIGHUP instead of ignoring it
	 * (it may call any function here, e.g. reload); may be NULL. */
	void (*on_sighup)(void *arg);
	/* Called (with ARG) after the log files were reopened (SIGUSR1,
	 * sysg_supervisor_reopen_logs), for the caller's own log handles;
	 * may be NULL. */
	void (*on_reopen)(void *arg);
};

/* Create a supervisor for CFG (borrowed: must outlive the supervisor,
 * even after a reload replaced it) writing state through ST (borrowed,
 * may be NULL: then nothing is recorded). Opens
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
 * Services already up (e.g. adopted) are left as they are: nothing is
 * started twice. Returns 0; progress happens in run(). */
int sysg_supervisor_start_all(struct sysg_supervisor *s);

/* Start NAME and the services it depends on. -ENOENT when unknown. */
int sysg_supervisor_start_service(struct sysg_supervisor *s, const char *name);

/* Stop NAME (its dependents keep running); a manual stop never restarts
 * by policy. -ENOENT when unknown. */
int sysg_supervisor_stop_service(struct sysg_supervisor *s, const char *name);

/* Stop NAME (whole tree, on_stop.success) and start it again once it is
 * down; a service that is not running is just started. A running
 * service that holds listening sockets is not stopped first: its new run
 * starts beside the old one and replaces it once ready (handover.c);
 * then 1 is returned (its status is "starting" until that is done).
 * 0, 1, or -ENOENT when unknown. */
int sysg_supervisor_restart_service(struct sysg_supervisor *s,
				    const char *name);

/* Stop everything in reverse dependency order; run() returns once all is
 * down and no hook is running. */
int sysg_supervisor_stop_all(struct sysg_supervisor *s);

/* Run the loop until PRED(s, ARG) returns non-zero (0) or TIMEOUT_MS
 * passes (-ETIMEDOUT). For tests and control loops: PRED alone decides
 * when to stop (a supervisor with every service stopped keeps running).
 * Each round: what changed is re-evaluated and recorded, the changes
 * are delivered to the subscribers (sysg_supervisor_subscribe), then
 * PRED is asked. PRED only answers: it must have no side effects (work
 * that follows a round belongs in a subscriber or a timer).
 * SIGINT/SIGTERM trigger stop_all (a second one kills at once). */
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

/* How many stops (of any service, during the whole run) did not end
 * within the service's stop_timeout and needed SIGKILL. */
int sysg_supervisor_killed_stops(const struct sysg_supervisor *s);

/* The loop, for callers that add their own watchers (control socket). */
struct sysg_loop *sysg_supervisor_loop(struct sysg_supervisor *s);

/* The supervisor's jobs (hooks, probes...: reaped by its loop) and its
 * log (supervisor.log), for work done on its behalf (deploys). */
struct sysg_jobs *sysg_supervisor_jobs(struct sysg_supervisor *s);
struct sysg_log *sysg_supervisor_log(struct sysg_supervisor *s);

/* The privileged settings of SERVICE as last prepared (privs.h), for
 * its helpers run on its behalf (a deploy's pre_start and health
 * command: sysg_privs_helper_req); NULL for an unknown service or
 * one without privileged settings. */
struct sysg_privs *sysg_supervisor_privs(struct sysg_supervisor *s,
					 const char *service);

/* 1 after stop_all (or SIGINT/SIGTERM) until the next start request. */
int sysg_supervisor_shutting_down(const struct sysg_supervisor *s);

/* The configuration in use: the one given to new(), or the last one
 * handed to reload() (owned by the supervisor). */
const struct sysg_config *sysg_supervisor_config(const struct sysg_supervisor *s);

/* Reopen the log files after an external rotation (logrotate renamed
 * them away), as on SIGUSR1: supervisor.log and, for each service, its
 * stdout/stderr files (pipe mode: open the path anew; direct mode: give
 * the file the services write their name back, see proc/logrotate.h).
 * 0, or the last error (-errno) with ERR filled; every file is tried. */
int sysg_supervisor_reopen_logs(struct sysg_supervisor *s, char *err,
				size_t errlen);

/* ------------------------------------------------------------------ */
/* Re-adoption (SPEC 5)                                                */
/* ------------------------------------------------------------------ */

/* Take over the live processes of a previous supervisor of the same
 * state directory. Call once, after new() and before start_all(), and
 * only when no other supervisor of that directory is alive (sysg.pid):
 * it would take that one's services (and stop its "leftovers"). For
 * each configured service whose unit record says running, starting or
 * backoff with a pid that is alive, started at the recorded time (no pid
 * reuse) and carries this state directory's SYSG_INSTANCE marker for
 * that service: the service becomes "running" with that pid, pgid,
 * start time, started_at and restart count, without spawning anything or
 * firing hooks ("Adopted service: api (pid N)" in supervisor.log). Its
 * exit is watched through a pidfd (the status of a process that is not
 * our child is unknown: it counts as a crash, last exit code and signal
 * unknown); it is stopped (whole tree) and restarted by policy like any
 * other. A cron unit's run in progress is adopted the same way, and cron
 * units the previous supervisor had scheduled are scheduled again.
 * Processes still carrying a service's marker whose main process is gone
 * are stopped (leftovers) before that service is started again. Records
 * with a dead or reused pid are left for start_all(), which starts those
 * services afresh. Returns the number of processes adopted (>= 0). */
int sysg_supervisor_adopt(struct sysg_supervisor *s);

/* ------------------------------------------------------------------ */
/* Reload (`restart --config`)                                         */
/* ------------------------------------------------------------------ */

/* Switch to NEWCFG, which the supervisor takes ownership of (on success
 * only). Services only in NEWCFG start (with what they depend on);
 * services no longer in it stop (whole tree) and their unit records stay,
 * status "stopped"; services whose definition changed in any way
 * (command, environment, working directory, dependencies, policy,
 * probes, hooks, deployment, cron...) are restarted with the new one
 * (a cron unit's run in progress finishes first, then the new schedule
 * is armed); unchanged ones keep running untouched. Writes "Reloaded
 * config: +N -M ~K" to supervisor.log. Configs replaced by a reload are
 * freed once nothing uses them; the one given to new() stays the
 * caller's. 0, or -EINVAL/-ENOMEM with ERR filled (nothing changed). */
int sysg_supervisor_reload(struct sysg_supervisor *s,
			   struct sysg_config *newcfg, char *err,
			   size_t errlen);

/* ------------------------------------------------------------------ */
/* Queries for the control plane                                       */
/* ------------------------------------------------------------------ */

/* Number of configured services (cron units included), in config order
 * (index 0 .. count-1). */
size_t sysg_supervisor_count(const struct sysg_supervisor *s);

/* Index of the configured service NAME, or -ENOENT. */
int sysg_supervisor_index(const struct sysg_supervisor *s, const char *name);

/* The record of the service at index I (as sysg_supervisor_get).
 * 0 or -ENOENT. */
int sysg_supervisor_get_index(const struct sysg_supervisor *s, size_t i,
			      struct sysg_unit_record *out);

/* Health words, same values as enum sysg_unit_health (status.h). */
#define SYSG_SUP_HEALTH_UNKNOWN   0     /* starting, stopped, exited... */
#define SYSG_SUP_HEALTH_HEALTHY   1     /* running (probe passed) */
#define SYSG_SUP_HEALTH_UNHEALTHY 2     /* failed, blocked, backoff */

/* One service as the supervisor sees it. */
struct sysg_service_info {
	struct sysg_unit_record rec;    /* as sysg_supervisor_get() */
	const struct sysg_service *cfg; /* its definition (valid until the
	                                   next reload) */
	int cron;                       /* a cron unit */
	int64_t next_run_ms;            /* cron: next due time (wall ms), 0 */
	int health;                     /* SYSG_SUP_HEALTH_* */
	int64_t uptime_ms;              /* -1 when no process is up */
	int adopted;                    /* its process was adopted */
};

/* Fill OUT for the service at index I. 0 or -ENOENT. */
int sysg_supervisor_info(const struct sysg_supervisor *s, size_t i,
			 struct sysg_service_info *out);

/* The live processes of the unit at index I, by the rule its stop uses
 * (proctree.h: session, process group, cgroup, instance marker, members
 * seen before, and their descendants), found in SNAP (one /proc scan
 * for many units: the sampler's). OUT is cleared first and stays empty
 * when the unit has no process. 0, -ENOENT or -errno. */
int sysg_supervisor_tree(const struct sysg_supervisor *s, size_t i,
			 struct sysg_proc_snapshot *snap,
			 struct sysg_pidset *out);

/* The live processes of NAME's current tree, main pid first: up to MAX
 * go to OUT. Returns how many there are (may exceed MAX; 0 when not
 * running) or -ENOENT. Scans /proc (sysg_supervisor_tree's rule). */
int sysg_supervisor_pids(struct sysg_supervisor *s, const char *name,
			 pid_t *out, size_t max);

#define SYSG_EXITS_KEEP 8       /* exits remembered per service */

/* One exit of a service's main process. */
struct sysg_exit_info {
	int64_t at_ms;                  /* wall clock */
	int has_code, code;             /* it exited with CODE */
	int has_signal, signo;          /* it was killed by SIGNO */
	/* neither: unknown (an adopted process is not our child) */
};

/* The last exits of NAME, newest first, up to MAX into OUT. Returns the
 * number written or -ENOENT. */
/* What a service said through sd_notify (`readiness: notify`). */
struct sysg_notify_info {
	char status_text[SYSG_REASON_MAX];      /* last STATUS=, or "" */
	int stopping;                           /* STOPPING=1 received */
	char last_restart[SYSG_REASON_MAX];     /* why the supervisor last
						   restarted it (watchdog,
						   readiness), or "" */
};

/* Fill OUT for the configured service NAME. 0 or -ENOENT. */
int sysg_supervisor_notify_info(const struct sysg_supervisor *s,
				const char *name,
				struct sysg_notify_info *out);

int sysg_supervisor_exits(const struct sysg_supervisor *s, const char *name,
			  struct sysg_exit_info *out, size_t max);

/* 1 when NAME (NULL: every configured service) has an outcome for its
 * last start request: running, exited, failed, skipped, blocked,
 * scheduled, stopped, or backoff (crashed, an automatic restart is
 * pending); services never asked to start count as settled. 0 while
 * something is still waiting, starting or stopping; -ENOENT when NAME is
 * unknown. For `start --daemonize`, which returns once this holds. */
int sysg_supervisor_settled(const struct sysg_supervisor *s,
			    const char *name);

/* ------------------------------------------------------------------ */
/* Phases and change notifications                                     */
/* ------------------------------------------------------------------ */

/* The status word of a unit, typed: the words of `sysg status` and of
 * the unit records ("stopped", "starting", ...). Internally the engine
 * has finer states (waiting for dependencies, running the skip or
 * pre_start command...); they all show as one of these. */
enum sysg_unit_status {
	SYSG_STATUS_STOPPED,    /* never started, or stopped on request */
	SYSG_STATUS_STARTING,   /* waiting, skip/pre_start, spawned */
	SYSG_STATUS_RUNNING,    /* ready (a cron unit: a run in progress) */
	SYSG_STATUS_STOPPING,   /* its process tree is being taken down */
	SYSG_STATUS_BACKOFF,    /* crashed, an automatic restart is due */
	SYSG_STATUS_EXITED,     /* exited 0, not restarted by its policy */
	SYSG_STATUS_FAILED,
	SYSG_STATUS_SKIPPED,
	SYSG_STATUS_BLOCKED,    /* a dependency failed */
	SYSG_STATUS_SCHEDULED,  /* cron unit armed, between runs */
	SYSG_NSTATUS
};

/* The boiled-down phase of a unit (systemd's active_state). Decide on
 * phases, never on status words compared as strings. */
enum sysg_phase {
	SYSG_PHASE_INACTIVE,     /* stopped, exited, skipped */
	SYSG_PHASE_ACTIVATING,   /* starting, backoff */
	SYSG_PHASE_ACTIVE,       /* running, scheduled (an armed cron unit) */
	SYSG_PHASE_DEACTIVATING, /* stopping */
	SYSG_PHASE_FAILED,       /* failed, blocked */
	SYSG_NPHASES
};

#define SYSG_PHASE_IS_ACTIVE_OR_ACTIVATING(p) \
	((p) == SYSG_PHASE_ACTIVE || (p) == SYSG_PHASE_ACTIVATING)
#define SYSG_PHASE_IS_INACTIVE_OR_FAILED(p) \
	((p) == SYSG_PHASE_INACTIVE || (p) == SYSG_PHASE_FAILED)

/* The word of ST ("running"...), the phase ST belongs to, the word of
 * phase P ("inactive", "activating"...). Static strings. */
const char *sysg_status_word(enum sysg_unit_status st);
/* The status whose word is WORD (a unit record's status), or -EINVAL. */
int sysg_status_parse(const char *word);
enum sysg_phase sysg_status_phase(enum sysg_unit_status st);
const char *sysg_phase_name(enum sysg_phase p);

/* The phase of the configured unit at index I, and its status in
 * *STATUS (may be NULL). Returns the phase (>= 0) or -ENOENT. */
int sysg_supervisor_phase(const struct sysg_supervisor *s, size_t i,
			  enum sysg_unit_status *status);

/* What a change notification is about. */
enum sysg_change_kind {
	SYSG_CHANGE_UNIT,       /* a unit's status (and maybe phase) changed */
	SYSG_CHANGE_IDLE,       /* the supervisor became idle: every unit is
	                           settled and no hook or helper is running
	                           (sysg_supervisor_idle() turned 1) */
};

/* One change, as handed to a subscriber. For SYSG_CHANGE_IDLE only KIND
 * and SEQ are set (INDEX is SYSG_UNIT_GONE, NAME ""). */
struct sysg_unit_change {
	enum sysg_change_kind kind;
	uint64_t seq;                   /* 1, 2, ...: the order of changes,
	                                   idle announcements included (see
	                                   sysg_supervisor_change_seq) */
	size_t index;                   /* config index at delivery time, or
	                                   SYSG_UNIT_GONE: no longer
	                                   configured (removed by a reload) */
	const char *name;               /* valid during the callback */
	enum sysg_phase old_phase, new_phase;   /* may be equal: e.g.
	                                   starting -> backoff */
	enum sysg_unit_status old_status, new_status;   /* always differ */
	const char *status;             /* sysg_status_word(new_status) */
};

#define SYSG_UNIT_GONE ((size_t)-1)

/* A subscriber's callback. */
typedef void (*sysg_change_fn)(void *arg, const struct sysg_unit_change *ch);

/* Subscribe FN(ARG) to the changes of every unit's status (and so of its
 * phase), and to the supervisor becoming idle.
 *
 * Every change is delivered, in the order it happened, none coalesced:
 * a restart shows running -> stopping -> stopped -> starting -> running
 * even when it all happened within one loop round. Changes are recorded
 * when they happen and delivered later, from the loop (at the top of
 * each round of sysg_supervisor_run_until(), before its predicate),
 * never from inside a state transition and never from inside a call into
 * this header: a subscriber that asks for a start sees the changes it
 * caused once control is back in the loop. FN may call any function of
 * this header (what it changes is delivered in the same round, after the
 * changes already pending). Subscribers are called in the order they
 * subscribed. Changes that happened before a subscription are not
 * delivered to it; use sysg_supervisor_phase() for the current state.
 *
 * Returns a subscription id (>= 0) for sysg_supervisor_unsubscribe(), or
 * -ENOMEM. */
int sysg_supervisor_subscribe(struct sysg_supervisor *s, sysg_change_fn fn,
			      void *arg);

/* End subscription ID (from inside its own callback too). */
void sysg_supervisor_unsubscribe(struct sysg_supervisor *s, int id);

/* The sequence number of the latest change recorded (delivered or not);
 * 0 before the first. A subscriber that issues a request can note this
 * first and ignore the changes with a SEQ up to it. */
uint64_t sysg_supervisor_change_seq(const struct sysg_supervisor *s);

/* Call CB(ARG) from the loop after changes of service states have been
 * recorded (at most once per loop iteration; never from inside a state
 * transition). CB may call any function of this header. NULL: none. */
void sysg_supervisor_on_change(struct sysg_supervisor *s,
			       void (*cb)(void *arg), void *arg);

/* ------------------------------------------------------------------ */
/* Deploy instances (instance.c)                                       */
/* ------------------------------------------------------------------ */

/* A deploy (core/deploy) works with instances of a service, named by
 * ids (> 0): the service's current run, and candidates started beside
 * it. A candidate's exit does not touch the service; promoting it makes
 * it the service's current process and the replaced process a retiring
 * instance that the deploy stops. CB(ARG, ID) is called when an
 * instance's main process exits and when a stop of it is complete. */
typedef void (*sysg_inst_cb)(void *arg, int64_t id);

/* A run with readiness: notify says READY=1 within this (systemd's
 * default start timeout). */
#define SYSG_NOTIFY_READY_MS 90000

struct sysg_inst_info {
	pid_t pid;              /* main pid, 0 when none */
	int running;            /* its main process is alive */
	int current;            /* it is the service's current run */
	int exited;             /* its main process ended: */
	int has_code, code, has_signal, signo;
	int addr_in_use;        /* ... saying "Address already in use" */
	int gone;               /* stopped: nothing of its tree is left */
	const char *env_marker; /* its SYSG_INSTANCE=... entry, or NULL */
	int ready;              /* it sent READY=1 (readiness: notify) */
};

/* An id for NAME's current run in *ID (0 when it has no process). 0,
 * -ENOENT or -ENOMEM. */
int sysg_inst_current(struct sysg_supervisor *s, const char *name,
		      int64_t *id);

/* Start a candidate of NAME running DEF (NULL: its definition; DEF
 * must outlive the instance's start) in PROJECT_DIR (NULL: the
 * config's) with ENV_OVER ("K=V", NULL-terminated, may be NULL) added
 * to its environment; the command is expanded again with that
 * environment. 0 or -errno with ERR. */
int sysg_inst_start(struct sysg_supervisor *s, const char *name,
		    const struct sysg_service *def, const char *project_dir,
		    const char *const *env_over, sysg_inst_cb cb, void *arg,
		    int64_t *id, char *err, size_t errlen);

/* What instance ID is doing. 0 or -ENOENT. */
int sysg_inst_info(struct sysg_supervisor *s, int64_t id,
		   struct sysg_inst_info *out);

/* Stop ID's whole tree (SIGTERM, SIGKILL after stop_timeout, or after
 * deployment.drain for a former run of a service that holds its sockets
 * (`listen:`) or has copies); for the service's current run the service
 * is left stopped. CB (replacing the
 * one given before) is called once it is gone. Returns 1 when it already
 * is (CB not called), 0 when the stop is under way, or -ENOENT. */
int sysg_inst_stop(struct sysg_supervisor *s, int64_t id, sysg_inst_cb cb,
		   void *arg);

/* Make candidate ID the service's current process, following DEF (NULL:
 * keep its definition). OWNED (may be NULL), the config DEF lives in,
 * is taken over by the supervisor. The process it replaces becomes a
 * retiring instance: its id goes to *RETIRED (0: none); stop it with
 * sysg_inst_stop. 0 or -errno with ERR (nothing changed). */
int sysg_inst_promote(struct sysg_supervisor *s, int64_t id,
		      const struct sysg_service *def, struct sysg_config *owned,
		      int64_t *retired, char *err, size_t errlen);

/* Stop a process of NAME started by an earlier supervisor (not its
 * current run), e.g. a candidate a killed supervisor left behind. 0
 * with *ID set, -ESRCH (it is gone), -EBUSY (it is the current run). */
int sysg_inst_adopt_stop(struct sysg_supervisor *s, const char *name,
			 pid_t pid, uint64_t ticks, sysg_inst_cb cb, void *arg,
			 int64_t *id);

/* A deploy of NAME failed with REASON: when it left the service without
 * a process (it stopped the old one), the service is "failed" with that
 * reason (and exit CODE when HAS_CODE: a pre_start). DEGRADED: traffic
 * may point at the wrong instance; the unit's reason then starts with
 * SYSG_DEGRADED_PREFIX and status shows it unhealthy until its next
 * start. 0 or -ENOENT. */
#define SYSG_DEGRADED_PREFIX "degraded: "      /* of the unit's reason */
int sysg_inst_deploy_failed(struct sysg_supervisor *s, const char *name,
			    const char *reason, int has_code, int code,
			    int degraded);

/* Forget ID (its callback is not called any more). */
void sysg_inst_release(struct sysg_supervisor *s, int64_t id);
/* The service whose marker of STATE_DIR process PID carries, into NAME
 * (LEN bytes). 0, or -1 when it carries none. */
int sysg_instance_service(const char *state_dir, pid_t pid, char *name,
			  size_t len);

/* A managed child (`sysg start --parent-pid P --name N -- CMD`). */
struct sysg_child_info {
	char name[SYSG_NAME_MAX];
	char service[SYSG_NAME_MAX];    /* the service it is attached to */
	pid_t pid;
	pid_t parent_pid;
	int depth;                      /* 1: a child of the service itself */
	int64_t started_wall_ms;
	int64_t ttl_ms;                 /* 0: none */
	char command[SYSG_COMMAND_MAX];
};

/* Start ARGV as a managed child named NAME of the service whose process
 * tree contains PARENT_PID, subject to that service's `spawn` limits; it
 * is killed after TTL_MS (<= 0: never), with the service, and (policy
 * cascade) when a managed parent exits. Output goes to the service's log
 * files. On success sets *OUT to its pid. Errors: -ESRCH (no service
 * owns PARENT_PID), -EPERM (spawn.mode static), -EDQUOT (a limit is
 * reached; ERR names it), -EINVAL (bad or duplicate name), or a spawn
 * error; ERR says why. */
int sysg_supervisor_spawn_child(struct sysg_supervisor *s, pid_t parent_pid,
				const char *name, int64_t ttl_ms,
				char *const *argv, pid_t *out, char *err,
				size_t errlen);

/* Fill OUT (up to MAX) with the live managed children of SERVICE (NULL:
 * all); returns how many there are (may exceed MAX). */
size_t sysg_supervisor_children(const struct sysg_supervisor *s,
				const char *service,
				struct sysg_child_info *out, size_t max);

#endif
