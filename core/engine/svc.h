/* svc.h - the engine's private header (only core/engine/ includes it;
 * tests/check_layers.sh checks that).
 *
 * struct svc is one configured service as the engine runs it; its life is
 * the [state][event] table of service.c, driven by svc_event(): every
 * change of v->state happens in an action of that table. What actions do
 * to the world goes through struct svc_effects. struct sysg_supervisor
 * holds the services, the loop, and the change notifications (notify.c).
 * The public view of all this is supervisor.h. */
#ifndef SYSG_SVC_H
#define SYSG_SVC_H

#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"
#include "proc/proc.h"
#include "base/base.h"
#include "plugin/plugin.h"
#include "supervisor.h"

enum svc_state {
	ST_IDLE,        /* never asked to start */
	ST_WAITING,     /* waiting for dependencies */
	ST_SKIPCHECK,   /* skip command running */
	ST_PRESTART,    /* pre_start running */
	ST_STARTING,    /* spawned, not ready yet */
	ST_RUNNING,     /* ready */
	ST_STOPPING,    /* tearing the process tree down */
	ST_BACKOFF,     /* waiting to restart */
	ST_STOPPED,     /* manual stop */
	ST_EXITED,      /* clean exit 0, not restarted */
	ST_FAILED,
	ST_SKIPPED,
	ST_BLOCKED,     /* a dependency failed */
	ST_SCHEDULED,   /* cron unit between runs */
	NSTATES
};

enum svc_event {
	EV_START,       /* start requested */
	EV_DEPS,        /* a dependency changed: re-evaluate */
	EV_JOB_OK,      /* skip / pre_start command exited 0 */
	EV_JOB_FAIL,    /* ... exited non-zero */
	EV_READY,       /* probe passed or settle time elapsed */
	EV_NOT_READY,   /* readiness window elapsed */
	EV_EXIT,        /* main process reaped */
	EV_TICK,        /* the service timer fired */
	EV_STOP,        /* manual stop */
	EV_DEP_DOWN,    /* a dependency crashed */
	EV_DUE,         /* a cron unit's time has come */
	EV_GONE,        /* the process tree is gone (teardown.c) */
	EV_RECONFIGURE, /* a reload changed the definition: v->next_cfg */
	EV_RETIRE,      /* a reload removed the service */
	EV_ADOPT,       /* adoption: v->pid etc. describe a live process */
	EV_LEFTOVERS,   /* adoption: v->known are leftovers to remove */
	EV_WATCHDOG,    /* no WATCHDOG=1 in time (sdnotify.c) */
	NEVENTS
};

/* Why a tree is being torn down, i.e. what to do once it is gone. */
enum stop_reason {
	STOP_MANUAL,
	STOP_EXIT,      /* main exited: clean leftovers, then apply policy */
	STOP_NOT_READY,
	STOP_CASCADE,   /* a dependency crashed: come back when it is ready */
	STOP_LEFTOVER,  /* adoption: processes of a run whose main is gone */
	STOP_WATCHDOG,  /* the watchdog fired: v->reason says so */
};

struct svc {
	struct sysg_supervisor *sup;
	struct sysg_service *cfg;
	size_t idx;
	enum svc_state state;
	int want_up;            /* started and not manually stopped */
	int restart_requested;  /* start again once the manual stop is done */

	/* the current process */
	pid_t pid;              /* main pid, 0 when reaped */
	pid_t sid;              /* its session/process group (stays set while
	                           the tree is torn down) */
	uint64_t ticks;
	int64_t started_wall, started_mono, ready_mono;
	char instance[SYSG_INSTANCE_MAX];       /* marker of this run */
	char cgroup[SYSG_CGROUP_PATH_MAX];      /* "" when not in a cgroup */
	struct sysg_pidset known;

	/* last exit */
	int has_exit, exit_code, has_signal, signo;
	int oom;                /* the kernel OOM-killed it (memory_max) */
	int restarts;           /* automatic restarts so far */
	int consecutive;        /* ... since the last stable run */
	int auto_restart;       /* this run is an automatic restart */
	int failed_to_start;
	char reason[SYSG_REASON_MAX];

	/* teardown */
	enum stop_reason stop_reason;
	int64_t stop_deadline;
	int killed;
	struct sysg_pidset signalled;
	int64_t tick_ms;

	/* readiness */
	int64_t ready_deadline;
	char *probe_url;        /* expanded health url (or NULL) */
	char *probe_cmd;        /* expanded health command (or NULL) */
	struct sysg_job probe;
	struct sysg_timer probe_timer;
	int probe_cause_fd;     /* the attempt's memfd, -1 when none */
	int64_t probe_timeout;  /* the current attempt's timeout */
	char probe_cause[200];  /* why the last attempt failed, or "" */

	/* user, limits... (privs.h), allocated only for a service that has
	 * privileged settings (NULL otherwise: 4 KiB per service saved) */
	struct sysg_privs *privs;
	struct sysg_job helper; /* skip / pre_start command */
	struct sysg_timer timer;

	int record_dirty;       /* the record must be written */
	int64_t recorded_pid;   /* pid last written to the pid map */
	int64_t probe_started;  /* monotonic ms of the current attempt */

	/* cron units (cronjob.c) */
	int cron;               /* this is a cron unit */
	struct sysg_cron_expr cron_expr;
	struct sysg_timer cron_timer;
	int64_t cron_due_ms;    /* wall clock of the next due time */

	int log_out, log_err;   /* service log files, -1 until opened */
	struct sysg_drain *drains[2];
	struct sysg_job logjob[2];      /* gzip of a rotated log (logfiles.c) */

	/* adoption (adopt.c): the current process was started by an earlier
	 * supervisor, so it is not our child and its exit comes through a
	 * pidfd; its descendants are found by marker anywhere in /proc */
	int adopted;
	int marker_prefix;      /* INSTANCE is a prefix (leftovers) */
	int pidfd;              /* -1 when not watching */
	struct sysg_io exit_io;
	struct sysg_timer exit_poll;    /* fallback without pidfd_open */

	/* the last exits of the main process, newest first */
	struct sysg_exit_info exits[SYSG_EXITS_KEEP];
	size_t nexits;

	/* change notifications (notify.c) */
	enum sysg_unit_status pub_status;       /* last status recorded */

	/* reload (reload.c) */
	struct sysg_service *next_cfg;  /* switch to this once the run is gone */
	int removed;            /* no longer configured: freed once stopped */

	/* deploys (instance.c) */
	int degraded;           /* a deploy's switch-back failed: traffic
	                           may point at the wrong instance */
	/* the command the current (adopted) run really executes, when an
	 * earlier config gave it another one (NULL otherwise) */
	char *run_cmd;

	/* listening sockets shared by every run (sockets.c) */
	struct sup_socket **sockets;    /* in the supervisor's pool */
	size_t nsockets;
	char *socket_names;     /* LISTEN_FDNAMES */

	/* sd_notify (sdnotify.c) */
	char status_text[SYSG_REASON_MAX];      /* last STATUS= */
	int stopping_said;      /* STOPPING=1 received from this run */
	struct sysg_timer watchdog;
	char last_restart[SYSG_REASON_MAX];     /* why it was last restarted */

	/* a new run started beside the current one (handover.c); only a
	 * service with listen: ever has one, so it is allocated on demand */
	struct svc_cand {
		int active;
		pid_t pid;
		uint64_t ticks;
		int64_t started_wall, started_mono;
		char instance[SYSG_INSTANCE_MAX];
		char cgroup[SYSG_CGROUP_PATH_MAX];
		struct sysg_drain *drains[2];
		struct sysg_timer timer;
	} *cand;                /* allocated by the first handover */
	int draining;           /* old runs whose main is not gone yet */
	int roll_pending;       /* a rolling restart will hand it over */

	/* launch.c: the exec of the current run, not known yet while
	 * EXEC_CMD is set (its status pipe is EXEC_IO); EXEC_ERR: it failed
	 * (-EXEC_RC), for the exit that follows */
	struct sysg_io exec_io;
	char *exec_cmd;
	char *exec_err;
	int exec_rc;
	int remember_due;       /* svc_remember_soon() was called */
};

/* The supervisor's sd_notify socket (sdnotify.c); fd 0: not open. */
struct sup_sdnotify {
	struct sysg_io io;
	char address[64];       /* NOTIFY_SOCKET value ("@...") */
};

/* One recorded change not yet delivered (notify.c). */
struct sup_change {
	uint64_t seq;
	enum sysg_unit_status old_status, new_status;
	char name[SYSG_NAME_MAX];
};

struct sup_subscriber {
	sysg_change_fn fn;      /* NULL: unsubscribed */
	void *arg;
	uint64_t since;         /* changes up to this one predate it */
};

struct sup_notify {
	struct sup_change *pending;
	size_t npending, cap;
	uint64_t seq;           /* last change recorded */
	struct sup_subscriber *subs;
	size_t nsubs;
	int delivering;
	int idle_check;         /* something happened: is it idle now? */
};

struct sysg_supervisor {
	struct sysg_config *cfg;
	struct sysg_state *st;
	struct sysg_supervisor_opts opts;
	char *state_dir;
	struct sysg_loop *loop;
	struct sysg_jobs jobs;
	struct sysg_log log;
	struct svc **svcs;      /* the configured services (config order),
	                           then removed ones still stopping */
	size_t nsvcs;           /* all of them */
	size_t nactive;         /* the configured ones */
	struct sysg_config **old_cfgs;  /* replaced configs still referenced */
	size_t nold_cfgs;
	int cfg_owned;          /* CFG came from a reload: ours to free */
	struct sysg_config *borrowed_cfg;       /* the caller's (from new()) */
	uint64_t generation;    /* bumped on every recorded change */
	uint64_t notified;      /* generation the on_change callback saw */
	int notifying;
	void (*on_change)(void *arg);
	void *change_arg;
	uint64_t dropped;       /* service log writes dropped */
	unsigned serial;        /* instance counter */
	char cgroup_base[SYSG_CGROUP_PATH_MAX];  /* "" when cgroups are not used */
	char **dead_cgroups;    /* emptied cgroups still holding zombies */
	size_t ndead_cgroups;
	int shutting_down;
	int dirty;              /* something changed: re-evaluate all */
	int signals_seen;
	int kill_now;           /* second interrupt: no grace any more */
	int failures;
	int killed_stops;     /* stops that needed SIGKILL */
	char *const *base_env;  /* cfg env when the service has none */
	struct sup_child *children;     /* managed children (children.c) */
	struct sysg_timer state_idle;   /* unload the state backend */
	struct sysg_timer trim;         /* give an idle loop's pages back */
	struct sup_inst *insts;         /* deploy instances (instance.c) */
	int64_t inst_serial;
	struct sysg_timer logs_timer;   /* log size checks (logfiles.c) */
	struct sysg_timer remember_timer;       /* launch.c: svc_remember_soon */
	struct sup_notify notify;       /* subscribers, pending changes */
	/* adopt.c: processes of services no longer configured, being
	 * stopped (SIGTERM sent; SIGKILL when STRAY_TIMER fires) */
	struct sysg_pidset strays;
	struct sysg_timer stray_timer;
	struct sup_sdnotify sdnotify;
	struct sup_retiring *retiring;  /* old runs draining (handover.c) */
	struct sup_socket *sockets;     /* listening sockets (sockets.c) */
	/* launch.c: the /proc scan of loop turn PROCS_TURN, shared by every
	 * tree collected in that turn (PROCS_OK 0: take a new one) */
	struct sysg_proc_snapshot procs;
	uint64_t procs_turn;
	int procs_ok;
	/* supervisor.c: svcs[0..nactive) sorted by name, for sup_find;
	 * rebuilt on first use after a reload cleared BY_NAME_OK */
	size_t *by_name;
	int by_name_ok;
	size_t last_found;              /* find_index's last answer */
	/* supervisor.c: who depends on svcs[j] (j < nactive): dep_list
	 * [dep_start[j] .. dep_start[j + 1]), every service's depends_on
	 * resolved once; rebuilt with by_name */
	size_t *dep_start;
	struct svc **dep_list;
};

/* What the state machine's actions do to the world: spawn, run the skip
 * and pre_start commands, fire hooks, probe readiness, tear trees down.
 * The engine uses the real ones; the table test (fsm.c, fsm.h) installs
 * fakes that neither fork nor signal. */
struct svc_effects {
	int (*launch)(struct svc *v, char *err, size_t errlen);
	int (*run_helper)(struct svc *v, const char *cmd);   /* 0 or -errno */
	void (*fire_hook)(struct svc *v, enum sysg_hook_stage stage, int ok);
	void (*open_logs)(struct svc *v);
	void (*readiness_start)(struct svc *v);
	void (*readiness_stop)(struct svc *v);
	void (*teardown_begin)(struct svc *v, enum stop_reason why);
	void (*teardown_tick)(struct svc *v);
};

/* service.c */
/* The one way a service changes state: the action of
 * table[v->state][ev] runs. */
void svc_event(struct svc *v, enum svc_event ev);
/* Use FX for the actions' effects (NULL: the real ones). Tests only. */
void svc_set_effects(const struct svc_effects *fx);
/* The table's cells, for the table test: 0 an action, 1 ignored,
 * 2 impossible (the event cannot reach a service in that state). */
int svc_cell_kind(enum svc_state st, enum svc_event ev);
const char *svc_state_name(enum svc_state st);
int svc_is_up(const struct svc *v);             /* has a live tree */
int svc_is_settled(const struct svc *v);        /* nothing pending */
void svc_release(struct svc *v);
void svc_privs_drop(struct svc *v);     /* free V->privs */
/* The exec of V's run happened (svc_exec_check): it is starting. */
void svc_exec_ok(struct svc *v);
void svc_exit_status(struct svc *v, int status);
/* The main process is gone: STATUS is its wait status, or -1 when
 * unknown (not our child). Records the exit, then EV_EXIT. */
void svc_main_exited(struct svc *v, int status);
/* Switch V to the definition NC (reload): now, or once its run is gone
 * (EV_RECONFIGURE). */
void svc_reconfigure(struct svc *v, struct sysg_service *nc);
/* Shutdown: SIGKILL what remains of the processes of services that are
 * no longer configured (adopt.c). */
void sup_strays_kill(struct sysg_supervisor *s);

void svc_log(struct svc *v, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
char *const *svc_env(const struct svc *v);     /* the service's envp */
/* Where the service and its hooks, probes and helpers run: its own
 * directory (a unit's, a project's), else the config's project_dir. */
const char *svc_cwd(const struct svc *v);

/* launch.c */
void svc_open_logs(struct svc *v);
/* Spawn the service's process (no state change): 0 or -errno + ERR. */
int svc_launch(struct svc *v, char *err, size_t errlen);
void svc_free_drains(struct svc *v);
void svc_drains_rename(struct svc *v);  /* V->cfg changed */
void svc_remember_tree(struct svc *v);  /* add live members to known */
/* The same a little later, with every other service that asks meanwhile:
 * one /proc scan for all the services that became ready in a burst, not
 * one per loop turn. */
void svc_remember_soon(struct svc *v);
/* V's current process tree into OUT, from the /proc scan of this loop
 * turn (taken by the first caller of the turn). 0 or -errno. */
int svc_collect_tree(struct svc *v, struct sysg_pidset *out);
/* What identifies V's current process tree (proctree.h). */
void svc_tree_match(const struct svc *v, struct sysg_tree_match *m);
/* The exec of V's new run (svc_launch does not wait for it): once its
 * outcome is known, svc_exec_ok() or, when it failed, V->exec_err for
 * the child's exit. WAIT: the child is gone, read it now. */
void svc_exec_check(struct svc *v, int wait);
void svc_exec_forget(struct svc *v);    /* V is released */

/* handover.c */
/* 1 when a restart of V can start the new run beside the old one. */
int svc_can_hand_over(const struct svc *v);
/* Start a new run beside the current one; it replaces it once ready.
 * 0 or -errno + ERR. */
int svc_hand_over(struct svc *v, char *err, size_t errlen);
void svc_cand_ready(struct svc *v);     /* READY=1 from the candidate */
/* svc_hand_over, or later when max_parallel other copies of V's service
 * are being replaced now. */
int svc_roll(struct svc *v, char *err, size_t errlen);
void svc_cand_abort(struct svc *v, const char *why);
/* PID was reaped: 1 when it was a candidate (then handled). */
int svc_cand_reaped(struct sysg_supervisor *s, pid_t pid, int status);
/* V's public status (a running service with a candidate is starting). */
enum sysg_unit_status svc_pub_status(const struct svc *v);
void sup_retiring_kill_all(struct sysg_supervisor *s);
/* PID was reaped: 1 when it was the main process of a retiring run. */
int sup_retiring_reaped(struct sysg_supervisor *s, pid_t pid);
void svc_retiring_forget(struct svc *v);        /* V is going away */

/* V has a new run started beside its current one. */
static inline int svc_cand_on(const struct svc *v)
{
	return v->cand && v->cand->active;
}

/* launch.c, for handover.c: spawn into V->cand without touching the
 * current run; make the candidate the current run; free its drains. */
int svc_launch_candidate(struct svc *v, char *err, size_t errlen);
void svc_take_candidate(struct svc *v);
void svc_cand_drains_free(struct svc *v);

/* sockets.c */
/* Hold the sockets V->cfg lists (from the supervisor's pool, where the
 * copies of a service share them): keep the held ones it still lists
 * unchanged, bind the new ones, let go of the rest. 0, or -errno + ERR
 * (what was held stays held). */
int svc_sockets_sync(struct svc *v, char *err, size_t errlen);
void svc_sockets_close(struct svc *v);
int svc_socket_fd(const struct svc *v, size_t i);       /* the Ith's fd */
/* An adopted V: take its sockets back from its run (V->pid) unless the
 * pool holds them already. How many were taken from the run, or -errno
 * with ERR (a restart binds them again). */
int svc_sockets_recover(struct svc *v, char *err, size_t errlen);

/* sdnotify.c */
int svc_wants_notify(const struct svc *v);      /* readiness notify or
						   a watchdog */
/* NOTIFY_SOCKET of S (opened on first use), or NULL when it cannot be. */
const char *sup_sdnotify_address(struct sysg_supervisor *s);
void sup_sdnotify_close(struct sysg_supervisor *s);
void svc_watchdog_arm(struct svc *v);   /* (re)start the watchdog */
void svc_watchdog_stop(struct svc *v);

/* logfiles.c */
/* Pipe mode: let drain D (of V) rotate V's log file by size. */
void svc_drain_rotation(struct svc *v, struct sysg_drain *d);
/* Direct mode: check log sizes every second while a service has
 * logs.max_size (idempotent; call after new() and reload()). */
void sup_logs_arm(struct sysg_supervisor *s);

/* readiness.c: EV_READY or EV_NOT_READY follow */
void svc_readiness_start(struct svc *v);
void svc_readiness_stop(struct svc *v);

/* teardown.c: EV_GONE follows (the caller sets ST_STOPPING first) */
void svc_teardown_begin(struct svc *v, enum stop_reason why);
void svc_teardown_tick(struct svc *v);

/* cronjob.c */
#define SYSG_CRON_KEEP 20       /* runs kept per cron unit */
int svc_cron_init(struct svc *v);       /* parse the expression */
int svc_cron_arm(struct svc *v);        /* next due time; -errno + reason */
void svc_cron_run_started(struct svc *v);
void svc_cron_run_ended(struct svc *v);

/* Fire V's hook STAGE (success OK) as its runs do (for instance.c). */
void svc_fire(struct svc *v, enum sysg_hook_stage stage, int ok);

/* Set V's state from a deploy (instance.c): recorded, re-evaluated. */
void svc_deploy_state(struct svc *v, enum svc_state st);

/* instance.c */
/* PID was reaped: 1 when it was a deploy instance's. */
int sup_inst_reaped(struct sysg_supervisor *s, pid_t pid, int status);
/* The service whose deploy instance PID is, or NULL. */
const char *sup_inst_service_of(const struct sysg_supervisor *s, pid_t pid);
/* A deploy's candidate PID sent READY=1: note it, tell its deploy. */
void sup_inst_ready(struct sysg_supervisor *s, pid_t pid);
/* A re-parented descendant died: re-check the stopping instances. */
void sup_inst_orphans(struct sysg_supervisor *s);
void sup_inst_free_all(struct sysg_supervisor *s);

/* adopt.c */
/* Watch V->pid (not our child) for its exit: svc_main_exited(v, -1). */
int svc_watch_exit(struct svc *v);
void svc_unwatch_exit(struct svc *v);

/* notify.c */
/* V's state changed: record a change of its status, if any. */
void sup_note_status(struct svc *v);
/* Something that may end a busy period happened (a child was reaped). */
void sup_note_activity(struct sysg_supervisor *s);
/* Deliver the recorded changes to the subscribers (from the loop). */
void sup_deliver(struct sysg_supervisor *s);
void sup_notify_free(struct sysg_supervisor *s);

/* service.c: the public status of an internal state */
enum sysg_unit_status svc_status(enum svc_state st);

/* reload.c */
/* Free the removed services that are stopped, and the configs nothing
 * points into any more. */
void sup_reload_collect(struct sysg_supervisor *s);

/* children.c */
void sup_children_free(struct sysg_supervisor *s);

/* supervisor.c */
void sup_record(struct svc *v);         /* mark: written after settling */
void sup_fill_record(const struct svc *v, struct sysg_unit_record *u);
/* Re-evaluate what changed, write records, collect removed services and
 * tell the on_change callback. Never called from inside svc_event(). */
void sup_settle(struct sysg_supervisor *s);
void sup_changed(struct sysg_supervisor *s);    /* re-evaluate everyone */
void sup_dependents(struct svc *v, enum svc_event ev);
/* The configured service NAME (removed ones are not found). */
struct svc *sup_find(struct sysg_supervisor *s, const char *name);
/* Its index in S->svcs, or -ENOENT. */
int sup_index(const struct sysg_supervisor *s, const char *name);
/* The services and dependencies changed (reload): rebuild the name and
 * dependents indexes on next use. */
void sup_reindex(struct sysg_supervisor *s);
/* (Re)fill the state's mirror of the records of unconfigured units. */
void sup_mirror_others(struct sysg_supervisor *s);
/* Initialise V as service CFG (index IDX) of S. */
void sup_svc_init(struct sysg_supervisor *s, struct svc *v,
		  struct sysg_service *cfg, size_t idx);
/* Mark V and what it depends on as wanted; start them. */
void sup_start_closure(struct sysg_supervisor *s, struct svc *v, int depth);
/* rmdir the cgroup DIR now, or once its last zombie has been reaped. */
void sup_remove_cgroup(struct sysg_supervisor *s, const char *dir);
/* Make S's cgroup base again if another supervisor pruned it while it
 * held no run (sysg_cgroup_prune); before each run's cgroup and limits. */
void sup_cgroup_base_ensure(struct sysg_supervisor *s);

#endif
