/* host.h - the supervisor's side of deploys (SPEC 6 and 11).
 *
 * The resident supervisor runs every deploy. For each one it forks a
 * deploy worker (`sysg __deploy-worker`, worker.h) connected by a
 * socketpair; the worker loads the strategy plugin and each host-API call
 * it makes is a request the supervisor carries out in its event loop
 * (start a candidate, wait until it is ready, promote, stop, run a
 * command, kv...) while it keeps supervising everything else. The
 * supervisor never maps a plugin.
 *
 * One deploy per service at a time: the lock is the live deploy in
 * memory, never a file. A worker that crashes, passes the service's
 * deployment.timeout or returns an error cannot harm the supervisor:
 * every candidate it started and did not promote is stopped and the old
 * instance keeps serving. Every step is journaled in the state backend
 * (kv "deploy:<service>") before it is taken, so a supervisor killed
 * mid-deploy recovers at its next start (sysg_deploys_recover).
 *
 * Progress is kept as lines ("[2/6] start the candidate (0.4 s)"); the
 * control server hands them to `sysg deploy` / `deploy --follow`.
 */
#ifndef SYSG_DEPLOY_HOST_H
#define SYSG_DEPLOY_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"
#include "engine/engine.h"
#include "plugin/plugin.h"

struct sysg_deploys;

struct sysg_deploys_opts {
	struct sysg_supervisor *sup;            /* borrowed */
	struct sysg_state *st;                  /* borrowed, may be NULL */
	const struct sysg_plugin_path *pp;      /* borrowed, may be NULL */
	const char *state_dir;
	const char *worker_exe;  /* NULL: sysg_exe_path() (base/paths.h) */
	/* Called (from the loop) when a deploy has new lines or ended. */
	void (*on_news)(void *arg);
	void *news_arg;
};

int sysg_deploys_new(struct sysg_deploys **out,
		     const struct sysg_deploys_opts *o);

/* Kill the workers, stop every candidate not promoted, record the
 * deploys still running as aborted. NULL is fine. */
void sysg_deploys_free(struct sysg_deploys *d);

/* What to roll out. */
struct sysg_deploy_req {
	const char *service;
	const char *strategy;           /* NULL: the configured one */
	const char *message;            /* NULL: none */
	int dry_run;
	uid_t uid;                      /* who asked */
	struct sysg_config *cfg;        /* taken (freed or kept) */
	const char *cfg_text;           /* the file's text, for the record */
	const char *rollback_of;        /* the record this redeploys, or NULL */
};

/* Start a deploy; its id goes to ID. -EBUSY (a deploy of that service
 * runs; ERR names it: id, started, uid), -ENOENT (no such service), or
 * another negative code, with ERR. REQ->cfg is taken in every case. */
int sysg_deploy_begin(struct sysg_deploys *d, const struct sysg_deploy_req *r,
		      char *id, size_t idlen, char *err, size_t errlen);

/* A deploy as the CLI follows it. */
struct sysg_deploy_view {
	const char *id;
	const char *service;
	const char *const *lines;       /* progress, in order */
	size_t nlines;
	int done;
	int exit_code;                  /* 0 success, 1 otherwise (done) */
	const char *outcome;            /* "" while running */
	const char *reason;
};

/* The deploy ID (NULL: the newest of SERVICE, or the newest of all when
 * SERVICE is NULL too), running or recently finished. 0 or -ENOENT. */
int sysg_deploy_view(struct sysg_deploys *d, const char *id,
		     const char *service, struct sysg_deploy_view *out);

/* Operator commands (SYSG_OPERATOR_* of plugin.h, or these). */
#define SYSG_DEPLOY_PAUSE  10
#define SYSG_DEPLOY_RESUME 11
int sysg_deploy_operator(struct sysg_deploys *d, const char *service, int cmd,
			 char *err, size_t errlen);

/* 1 when SERVICE (NULL: any) is being deployed, with a line saying by
 * which deploy in MSG. */
int sysg_deploy_busy(struct sysg_deploys *d, const char *service, char *msg,
		     size_t len);

/* Before a supervisor adopts what a killed one left: when a journaled
 * deploy had promoted its candidate, the unit record is made to name it,
 * so that adoption takes the promoted instance. Returns how many. */
int sysg_deploys_recover_prepare(struct sysg_deploys *d);

/* After a supervisor start (adoption done): finish what a killed
 * supervisor's deploys journaled (keep the promoted instance, stop the
 * other, record the deploy as aborted). Returns how many it found. */
int sysg_deploys_recover(struct sysg_deploys *d);

/* The config a rollback of SVC deploys again: that of the record TO, or
 * of the newest successful deploy whose revision is not the running one;
 * the record's id goes to RID (64 bytes). 0, or -ENOENT / -EINVAL with
 * ERR. */
int sysg_deploy_rollback_config(struct sysg_deploys *d, const char *svc,
				const char *to, struct sysg_config **cfg,
				char *rid, char *err, size_t errlen);

/* The revision NAME runs (deployed by a deploy), or "" when unknown. */
const char *sysg_deploy_running_revision(struct sysg_deploys *d,
					 const char *name);

#endif
