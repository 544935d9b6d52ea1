/* ctlserver.h - the control requests a supervisor serves on control.sock.
 *
 * Wire format and access control are control.h's; this is what each
 * request does. Every request's "args" are validated (known keys only,
 * types, lengths, known service names) and anything else gets an error
 * reply with exit status 2 (SPEC 8), never a crash.
 *
 *   ping    {}                          -> {"pid": N, "services": N,
 *                                          "version", "binary",
 *                                          "generation", "upgrade_error",
 *                                          "projects": [{"id", "name",
 *                                          "file", "plain"}]}
 *   start   {"service"?: S, "config"?: ABSPATH}
 *                                       start all (or S and what it needs);
 *                                       config, another file than the
 *                                       supervisor's: its projects join
 *                                       (config/project.h, registry.h)
 *                                       and start
 *   stop    {"service"?: S, "project"?: ID}
 *                                       stop S, project ID (which then
 *                                       leaves), or everything: the last
 *                                       full stop also ends the supervisor
 *                                       (after its reply)
 *   restart {"service"?: S, "config"?: ABSPATH}
 *                                       with config: reload it first (new
 *                                       services start, removed ones stop,
 *                                       changed ones restart); a bad file
 *                                       changes nothing and the reply
 *                                       carries its validation lines
 *   status  {"service"?: S, "all"?: bool}
 *                                       -> the status --json document
 *                                          (status.h), from live memory
 *   upgrade {"binary": ABSPATH}         live upgrade (upgrade.h): refused
 *                                       while anything is starting,
 *                                       stopping or being deployed, or
 *                                       when the binary fails its
 *                                       preflight; else answered at once,
 *                                       then the loop ends for the exec
 *                                       (sysg_ctlsrv_upgrade_pending)
 *   inspect {"service": S, "text"?: bool, "color"?: bool, "width"?: int,
 *            "full_cmd"?: bool}         -> the inspect --json document
 *                                          (inspect.h) with the samples;
 *                                          with text, also "text": the
 *                                          rendered view
 *
 *   deploy  {"service": S, "strategy"?: X, "dry_run"?: bool,
 *            "message"?: M, "restart"?: bool, "rollback"?: bool,
 *            "to"?: ID}                 start a deploy (deploy/host.h):
 *                                       re-reads the config file (a bad
 *                                       one: exit 2, nothing changed);
 *                                       restart: the running definition,
 *                                       no record; rollback: the previous
 *                                       successful record's (or TO's)
 *                                       -> {"id": ID}
 *   deploy_follow {"id"?: ID, "service"?: S, "from"?: N}
 *                                       waits until the deploy has lines
 *                                       past N or has ended -> {"id",
 *                                       "lines", "next", "done", "exit",
 *                                       "outcome", "reason"}
 *   deploy_op {"service": S, "cmd": abort|pause|resume|promote}
 *
 * A stop or restart of a service being deployed is refused (exit 1,
 * naming the deploy), never interleaved.
 *
 * start, stop and restart reply once the operation has finished: the
 * services involved are up (or failed, or down for a stop). Replies:
 * exit 0, 1 (an operation failed: data.errors lists one line per failed
 * service), 2 (bad request or config) as control.h describes; data.lines
 * are messages for the user's stdout.
 *
 * Everything happens in the supervisor's event loop. A request is
 * complete when the engine's change notifications (supervisor.h) say so:
 * the server subscribes to them, updates the operations waiting for the
 * services concerned, and answers the complete ones from a timer of the
 * loop. sysg_ctlsrv_poll() is only the predicate that ends the loop.
 */
#ifndef SYSG_CTLSERVER_H
#define SYSG_CTLSERVER_H

#include <stddef.h>

#include <jansson.h>

#include "config/config.h"
#include "proc/proc.h"
#include "views/views.h"
#include "plugin/plugin.h"
#include "engine/engine.h"
#include "deploy/deploy.h"

struct sysg_ctlsrv;

struct sysg_ctlsrv_opts {
	struct sysg_supervisor *sup;    /* borrowed */
	struct sysg_state *st;          /* borrowed */
	struct sysg_samples *samples;   /* borrowed, may be NULL */
	struct sysg_log *log;           /* control events go here; borrowed */
	const char *state_dir;
	const char *log_dir;
	int foreground;                 /* the CLI is the supervisor */
	int adopt_listener;             /* serve LISTEN_FD, handed over by
	                                   a live upgrade (upgrade.h) */
	int listen_fd;
	int generation;                 /* live upgrades so far */
	const struct sysg_plugin_path *pp;      /* for deploy workers */
	/* For the sampler behind inspect (may be NULL): called with the
	 * unit an `inspect` asks for before its view is collected (it may
	 * take a sample), and with NULL after a reload changed the config. */
	void (*sampler)(void *arg, const char *name);
	void *sampler_arg;
};

/* Called when an operation started with sysg_ctlsrv_start() finishes:
 * its exit status, and one line per failed service ("" when none). */
typedef void (*sysg_ctlsrv_done)(void *arg, int exit_code, const char *lines);

/* Listen on STATE_DIR/control.sock. 0, -EADDRINUSE when another
 * supervisor answers there, or another negative code, with ERR. In the
 * foreground a socket that cannot be created otherwise is only logged
 * (requests then cannot reach this supervisor; `stop` still can, by
 * sysg.pid). */
int sysg_ctlsrv_new(struct sysg_ctlsrv **out, const struct sysg_ctlsrv_opts *o,
		    char *err, size_t errlen);

/* Close the socket (and remove it); requests still pending are answered
 * "the supervisor is shutting down". NULL is fine. */
void sysg_ctlsrv_free(struct sysg_ctlsrv *c);

/* Start all services (SERVICE NULL) or one and call DONE once they are
 * up or have failed (the initial start of a supervisor). 0 or -ENOENT. */
int sysg_ctlsrv_start(struct sysg_ctlsrv *c, const char *service,
		      sysg_ctlsrv_done done, void *arg);

/* Before adoption: let interrupted deploys say which instance is the
 * service's (sysg_deploys_recover_prepare). */
void sysg_ctlsrv_recover_prepare(struct sysg_ctlsrv *c);

/* Stop everything (SIGTERM, SIGINT); the supervisor ends afterwards. */
void sysg_ctlsrv_stop_all(struct sysg_ctlsrv *c, const char *why);

/* Re-read the config file the supervisor runs (SIGHUP) and apply it as
 * `restart --config` does; the outcome goes to supervisor.log. */
void sysg_ctlsrv_reload_file(struct sysg_ctlsrv *c);

/* 1 when the supervisor should end now: no request is pending, and a
 * full stop has finished (resident) or nothing is left running or
 * pending (foreground). No side effects: for the predicate of
 * sysg_supervisor_run_until(). */
int sysg_ctlsrv_poll(const struct sysg_ctlsrv *c);

/* The binary an accepted `upgrade` asks for, or NULL. The loop ends
 * (sysg_ctlsrv_poll) while one is pending: exec it, or report the
 * failure with sysg_ctlsrv_upgrade_failed (which clears it). */
const char *sysg_ctlsrv_upgrade_pending(const struct sysg_ctlsrv *c);
void sysg_ctlsrv_upgrade_failed(struct sysg_ctlsrv *c, const char *why);

/* The control socket's listener, or -1. */
int sysg_ctlsrv_listen_fd(const struct sysg_ctlsrv *c);

#endif
