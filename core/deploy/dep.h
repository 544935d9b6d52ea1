/* dep.h - inside the deploy wing's host (not public): one deploy as the
 * supervisor runs it, and what host.c (lifecycle, outcome, records),
 * serve.c (the worker's requests), journal.c (journal, recovery) and
 * watch.c (min_healthy_time, rollback) share. */
#ifndef SYSG_DEPLOY_DEP_H
#define SYSG_DEPLOY_DEP_H

#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "config/config.h"
#include "proc/proc.h"
#include "host.h"
#include "link.h"

#define DONE_KEEP       16      /* finished deploys kept for --follow */
#define ABORT_GRACE_MS  5000    /* after --abort, before the worker is killed */
#define MAX_CANDS       64

struct deploy {
	struct deploy *next;
	struct sysg_deploys *ds;
	char id[64];
	char service[SYSG_NAME_MAX];
	char strategy[SYSG_NAME_MAX];
	char revision[16];
	char message[SYSG_REASON_MAX];
	uid_t uid;
	int dry_run;
	int record;             /* write a record (deploy, not restart) */
	int64_t started_wall, started_mono, timeout_ms;
	struct sysg_config *cfg;        /* what is rolled out (ours until a
	                                   promote hands it over) */
	const struct sysg_service *def; /* the service in CFG (or running) */
	char *definition;       /* for the record */

	/* the worker */
	struct sysg_job job;
	int fd;
	struct sysg_io io;
	int io_on;
	struct sysg_link_buf in;
	int got_done, done_rc;
	char done_err[SYSG_REASON_MAX];

	/* the request being served */
	json_t *req;
	const char *op;
	struct sysg_job aux;            /* pre_start, run, probe */
	struct sysg_timer timer;        /* sleep, waits */
	struct sysg_timer killer;       /* abort: the worker's last chance */
	int64_t wait_inst, wait_deadline, wait_interval, wait_next;
	int wait_notify;        /* waiting for the candidate's READY=1 */
	char *wait_url, *wait_cmd;
	char **wait_env;
	char run_from[64], run_to[64];  /* the run's SYSG_*_SLOT values */
	int run_is_switch;

	/* instances */
	int64_t cands[MAX_CANDS];
	json_t *cand_env[MAX_CANDS];
	int cand_copy[MAX_CANDS];       /* the copy it is for (0: none) */
	int cand_prev[MAX_CANDS];       /* runs the copy's previous def */
	int cand_promoted[MAX_CANDS];
	size_t ncands;
	int64_t promoted;
	json_t *journal_pids;           /* [{pid, ticks, copy}] */
	json_t *journal_promote;        /* {pid, ticks} of the promoted one;
	                                   with copies {"K": {pid, ticks}} */

	/* copies (instances: N > 1): the service is the group NAME, its
	 * copies NAME.0 .. NAME.N-1 (0: a plain service) */
	int ncopies;
	const struct sysg_service **copy_new;   /* in CFG */
	const struct sysg_service **copy_prev;  /* what each ran before */
	int *copy_is_new;               /* promoted on the new definition */
	int started_any;                /* a candidate was started */

	/* operator */
	int aborting, paused, pending_cmd, shutdown;
	uid_t abort_uid;

	/* traffic switches (commands run with SYSG_CANDIDATE_SLOT) */
	int switched_ok, switch_back_failed;
	char traffic_slot[64];

	/* progress and outcome */
	int planned, steps;
	char **lines;
	size_t nlines;
	int finished, exit_code;
	/* deployment.min_healthy_time: watching the promoted instance */
	int watching, watch_failed, watch_sub;
	struct sysg_timer watch_timer;  /* the end of min_healthy_time */
	pid_t watch_pid;
	int64_t watch_until;
	char watch_why[SYSG_REASON_MAX];
	char rollback_id[64];
	char outcome[SYSG_STATUS_MAX];
	char reason[SYSG_REASON_MAX];
	char slot_before[64], slot_after[64];
	int pre_code;
};

struct sysg_deploys {
	struct sysg_deploys_opts o;
	int sub;                /* change subscription (shutdown), -1: none */
	struct deploy *live;
	struct deploy *done;    /* newest first */
	size_t ndone;
	unsigned serial;
};

/* host.c */
void dp_news(struct sysg_deploys *ds);          /* tell the followers */
struct sysg_log *dp_log_of(struct deploy *dp);  /* supervisor.log */
struct sysg_loop *dp_loop_of(struct deploy *dp);
/* One progress line (also to supervisor.log); followers are told. */
void dp_add_line(struct deploy *dp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
double dp_elapsed_s(const struct deploy *dp);   /* since its start */
void dp_write_record(struct deploy *dp);        /* deploy, not restart */
void dp_kill_worker(struct deploy *dp, const char *why);
/* Answer the request being served with REP (stolen) / with RC, ERR. */
void dp_reply(struct deploy *dp, json_t *rep);
void dp_reply_rc(struct deploy *dp, int rc, const char *err);
/* The worker is gone (wait STATUS, TIMED_OUT): decide the outcome, stop
 * the candidates left, write the record, release the lock. */
void dp_finish(struct deploy *dp, int status, int timed_out);
/* The running deploy of SERVICE (NULL: any), or NULL. A deploy of the
 * copies of NAME is one of NAME.K too, and the other way round. */
struct deploy *dp_live_of(struct sysg_deploys *ds, const char *service);
/* 1 when unit NAME is DP's service or one of its copies. */
int dp_is_unit(const struct deploy *dp, const char *name);
/* The unit name copy K of DP's service runs as ("web.1", or the service
 * itself when it has no copies) into BUF. */
const char *dp_copy_name(const struct deploy *dp, int k, char *buf,
			 size_t len);

/* journal.c: kv "deploy:<service>" */
void dp_journal(struct deploy *dp, const char *step);
void dp_journal_clear(struct deploy *dp);
/* Note PID (of copy COPY, 0 without copies) for a recovery. */
void dp_journal_pid(struct deploy *dp, pid_t pid, int copy);

/* serve.c */
void dp_on_inst(void *arg, int64_t id);         /* instance callbacks */
void dp_on_orphan_gone(void *arg, int64_t id);
const char *dp_project_dir(const struct deploy *dp);
void dp_wait_cleanup(struct deploy *dp);
void dp_aux_done(struct sysg_job *j, int status, int timed_out);
/* 1 when request OP is refused (-ECANCELED) once an abort was asked. */
int dp_cancelled_op(const char *op);
void dp_serve(struct deploy *dp, json_t *req);  /* one request (stolen) */
void dp_on_io(struct sysg_io *io, uint32_t events);     /* the socket */

/* watch.c: deployment.min_healthy_time */
/* 1 when the deploy now watches its promoted instance (it ends later). */
int dp_watch_begin(struct deploy *dp);
/* End the watch: WHY NULL: it held; else it failed and is rolled back. */
void dp_watch_end(struct deploy *dp, const char *why);
void dp_watch_probe_done(struct deploy *dp, int passed);

#endif
