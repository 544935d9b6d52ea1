/* daemon.h - the supervisor process: the foreground `sysg start` and the
 * resident one of `sysg start --daemonize`.
 *
 * Both run sysg_daemon_run(): it takes the state directory's lock
 * (sysg.lock, so two supervisors never share one state directory),
 * writes sysg.pid, opens the state backend, creates the engine
 * (supervisor.h), serves the control socket (ctlserver.h), re-adopts the
 * live processes a previous supervisor left behind, starts the services,
 * samples their CPU and memory (samples.h) and runs the event loop.
 *   - foreground: service output may echo to the terminal; the run ends
 *     when nothing is left running or pending (Ctrl+C/SIGTERM stop all);
 *   - resident: the run ends only after a full `stop` (or SIGTERM);
 *     SIGHUP reloads the config file.
 * At the end sysg.pid and control.sock are removed.
 *
 * sysg_daemonize() detaches the calling process; the detached process
 * reports the outcome of the initial start through a pipe that the CLI
 * reads with sysg_daemon_wait(), so `start --daemonize` returns only once
 * the services are started (or have failed), with the same messages and
 * exit status as a foreground start.
 */
#ifndef SYSG_DAEMON_H
#define SYSG_DAEMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "config/config.h"
#include "plugin/plugin.h"

struct sysg_mux;
struct sysg_handoff;

/* sysg_daemon_wait(): another supervisor owns the state directory. */
#define SYSG_DAEMON_BUSY 256

struct sysg_daemon_opts {
	const char *state_dir;          /* required */
	const char *log_dir;            /* required */
	const struct sysg_plugin_path *pp;      /* state backend search path */
	const char *state_backend;      /* --state-backend, or NULL: config */
	struct sysg_config *cfg;        /* taken: freed by sysg_daemon_run */
	const char *service;            /* start only this one; NULL: all */
	int sys;                        /* --sys */
	int drop_privileges;            /* --drop-privileges */
	int foreground;                 /* see above */
	int log_level;                  /* echo threshold; above INFO: log too */
	FILE *echo;                     /* supervisor lines here, or NULL */
	FILE *echo_stderr;              /* --stderr target, or NULL */
	FILE *err;                      /* foreground: "service S failed to
	                                   start" at once here (the CLI's
	                                   stderr), or NULL */
	const char *kind;               /* unit record kind; NULL: "service" */
	int result_fd;                  /* resident: the outcome pipe; -1 */
	struct sysg_mux *mux;           /* foreground: service output and
	                                   boot progress here (mux.h), or
	                                   NULL */
	const struct sysg_handoff *resume;      /* resident: carry on after
	                                   a live upgrade (upgrade.h): its
	                                   lock and socket, services adopted,
	                                   nothing started; or NULL */
	int *killed_stops;              /* foreground, or NULL: set at the
	                                   end to the number of stops that
	                                   needed SIGKILL */
};

/* Run a supervisor as described above. Returns 0 when it ended normally,
 * with *FAILED set to the number of services that failed to start in the
 * initial start (foreground: during the whole run); -EADDRINUSE when
 * another supervisor holds the state directory (ERR names its pid);
 * another negative code with ERR filled when it could not be set up.
 * With RESULT_FD, the outcome (or the error) is also reported there. */
int sysg_daemon_run(const struct sysg_daemon_opts *o, int *failed,
		    char *err, size_t errlen);

/* Detach: pipe, fork, setsid, fork, umask(022), chdir("/"), stdio to
 * /dev/null, every other fd closed. Returns 1 in the calling process
 * with the read end of the outcome pipe in *FD (the intermediate child
 * has been reaped), 0 in the detached grandchild with the write end in
 * *FD, or -errno (in the caller) when it could not fork. */
int sysg_daemonize(int *fd);

/* Report the outcome of the initial start on FD: LINES (may be NULL),
 * one message per line for stderr, then EXIT_CODE, or SYSG_DAEMON_BUSY.
 * Closes FD. */
void sysg_daemon_report(int fd, int exit_code, const char *lines);

/* Read the outcome from FD (closed afterwards) for up to TIMEOUT_MS:
 * print each message on ERR as "sysg: MESSAGE" and return the exit code
 * the daemon reported, SYSG_DAEMON_BUSY, -EPIPE when the daemon ended
 * without reporting, or -ETIMEDOUT. */
int sysg_daemon_wait(int fd, int timeout_ms, FILE *err);

/* sysg.pid: the bare "PID\n" of the calling process (as systemg writes
 * it: `kill $(cat sysg.pid)`, systemd's PIDFile=), and sysg.pid.start:
 * "PID START_TICKS\n", the start time that guards against pid reuse;
 * both written atomically (temporary file, fsync, rename) in the
 * runtime directory of STATE_DIR (sysg_run_dir: STATE_DIR, or /run/sysg
 * in system mode, which then also gets a copy of sysg.pid in STATE_DIR,
 * where systemg keeps it). Read back by sysg_supervisor_alive()
 * (status.h), from the runtime directory. 0 or -errno. */
int sysg_pidfile_write(const char *state_dir);

/* Remove those sysg.pid (and sysg.pid.start) that name the calling
 * process. */
void sysg_pidfile_remove(const char *state_dir);

#endif
