/* cli/cli.h - the door of the cli wing: the sysg command line: options, dispatch, fixed exit codes.
 *
 * cli.c parses argv into struct sysg_cli (global options may come before
 * or after the command) and calls one handler per command. Handlers are
 * thin: they call the core library and map its results to exit codes. */
#ifndef SYSG_CLI_H
#define SYSG_CLI_H

#include <stdint.h>

struct sysg_config;
struct sysg_diag;
struct sysg_plugin_path;
struct sysg_state;

/* Fixed exit codes (SPEC 8). */
#define SYSG_EXIT_OK            0
#define SYSG_EXIT_FAILED        1   /* an operation failed */
#define SYSG_EXIT_USAGE         2   /* usage or config error */
#define SYSG_EXIT_NO_SUPERVISOR 3   /* no supervisor where one is required */
/* `sysg init` (PID 1) ends with a mask: 0 when every service stopped
 * cleanly, else SYSG_EXIT_FAILED if a service failed (to start, blocked,
 * gave up restarting), plus SYSG_INIT_KILLED if a stop needed SIGKILL;
 * SYSG_EXIT_USAGE for a bad config or when not PID 1. */
#define SYSG_INIT_KILLED        4

struct sysg_cli {
	const char *command;            /* "start", "stop", ... */
	/* global options */
	const char *config;             /* --config / -c */
	int log_level;                  /* 0 off .. 5 trace; default 3 (info) */
	int sys;                        /* --sys */
	int drop_privileges;            /* --drop-privileges */
	char *plugin_dirs;              /* --plugin-dir, ':'-joined, or NULL */
	const char *state_backend;      /* --state-backend */
	/* command options */
	const char *service;            /* --service / -s */
	const char *name;               /* --name */
	const char *strategy;           /* --strategy */
	const char *kind;               /* --kind stdout|stderr|supervisor */
	int64_t stream_ms;              /* --stream D; -1 when absent */
	long lines;                     /* --lines N; default 50 */
	long parent_pid;                /* --parent-pid P; 0 when absent */
	long ttl;                       /* --ttl SECS; 0 when absent */
	int daemonize, echo_stderr, child, dry_run, history, rollback;
	int all, json, no_color, full_cmd, clear, force, reopen;
	int prometheus;                 /* status --format prometheus */
	int strict;                     /* --strict: unknown config keys fail */
	int mux;                        /* --mux: "name | line" off a tty */
	const char *binary;             /* upgrade --binary */
	/* deploy */
	int detach, follow, abort, pause, resume, promote;
	const char *message;            /* --message */
	const char *follow_id;          /* --follow ID (may be NULL) */
	const char *to;                 /* --rollback --to ID */
	char **argv_cmd;                /* after "--"; NULL-terminated or NULL */
	int nargv_cmd;
	const char *help_topic;         /* sysg help CMD, sysg completion SHELL */
	/* -p/--project ID (projects.c): after sysg_cli_project_resolve,
	 * PROJECT is the project's id and SERVICE is named within it */
	const char *project;
	int project_plain;              /* the first file's own services */
	char project_id[64];
	char project_service[128];      /* SERVICE qualified ("web@shop") */
	int supervisor;                 /* stop --supervisor */
};

/* -p/--project: find project C->project (the running supervisor's, else
 * the config's and the files that joined it), note its id and name
 * C->service within it. 0, or the exit status after printing why. */
int sysg_cli_project_resolve(struct sysg_cli *c);

/* 1 when service NAME is in the -p project (always without -p). */
int sysg_cli_in_project(const struct sysg_cli *c, const char *name);

/* The config of the state directory as the supervisor runs it: PATH
 * loaded, plus the files that joined it (control/registry.h). 0 or the
 * loader's code, with DIAG filled. */
int sysg_cli_load_config(const char *path, unsigned flags,
			 const char *state_dir, struct sysg_config **out,
			 struct sysg_diag *diag);

/* The data of a quiet ping of STATE_DIR's supervisor (inside *REPLY,
 * which the caller frees); NULL when none answers. */
struct json_t *sysg_cli_ping_data(const char *state_dir,
				  struct json_t **reply);

/* Run the CLI; returns the process exit status. */
int sysg_cli_main(int argc, char **argv);

/* Print "sysg: MESSAGE" on stderr (one line). */
void sysg_cli_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* The readable config named by the state directory's config_hint (the
 * last one started), as a malloc'd path, or NULL. */
char *sysg_cli_config_hint(int sys);

/* The default config file: systemg.yaml, then sysg.yaml, in the current
 * directory, else in the config directory (/etc/systemg with --sys,
 * ~/.config/systemg otherwise: sysg_config_dir). Malloc'd, or NULL. */
char *sysg_cli_config_default(const struct sysg_cli *c);

/* Find the config path without printing anything: --config, else
 * sysg_cli_config_default, else (when USE_HINT) the readable file named
 * by config_hint in the state dir. Returns a malloc'd path or NULL (none
 * found, or out of memory). */
char *sysg_cli_config_find(const struct sysg_cli *c, int use_hint);

/* sysg_cli_config_find, printing why when it finds nothing. */
char *sysg_cli_config_path(const struct sysg_cli *c, int use_hint);

/* Print D's kept lines on stderr, then how many were dropped. */
void sysg_cli_print_diag(const struct sysg_diag *d);

/* What `start` would refuse in CFG's privileged keys (SPEC 10): without
 * root, unknown users, groups and capabilities, a seccomp
 * profile that does not compile, an LSM that is off, a cgroup key no
 * hierarchy offers. One FILE:LINE:COL error per service into D (the
 * check of privs.h, which start also makes); returns their number. */
int sysg_cli_check_privileged(const struct sysg_cli *c,
			      const struct sysg_config *cfg,
			      struct sysg_diag *d);

/* The config loader flags C asks for (--strict). */
unsigned sysg_cli_config_flags(const struct sysg_cli *c);

/* Open the state backend in STATE_DIR into *ST: --state-backend, else
 * the config's state.backend (CFG may be NULL), else the default; the
 * config's state.path when set. 0, or a negative code after printing the
 * reason (sysg_cli_error). */
int sysg_cli_open_state(const struct sysg_cli *c, const struct sysg_config *cfg,
			const struct sysg_plugin_path *pp,
			const char *state_dir, struct sysg_state **st);

/* Command handlers. Engine commands live in cmd_engine.c. */
int sysg_cmd_start(struct sysg_cli *c);
int sysg_cmd_stop(struct sysg_cli *c);
int sysg_cmd_restart(struct sysg_cli *c);
int sysg_cmd_init(struct sysg_cli *c);
int sysg_cmd_upgrade(struct sysg_cli *c);
/* `sysg __resume FD`: the new image of a live upgrade (upgrade.h). */
int sysg_cmd_resume(const char *fd);
/* --version: this binary, and the resident supervisor when one runs. */
void sysg_print_version(const struct sysg_cli *c);

/* Deploys (cmd_deploy.c): `deploy` and its operator commands; and the
 * deploy of C->service through the supervisor at STATE_DIR, followed to
 * its end (RESTART: the running definition, as `restart -s S`). */
int sysg_cmd_deploy(struct sysg_cli *c);
int sysg_cli_deploy(struct sysg_cli *c, const char *state_dir, int restart);

/* Read-side commands (cmd_query.c): they work without a supervisor, from
 * the state backend, the config file and /proc. */
int sysg_cmd_status(struct sysg_cli *c);
int sysg_cmd_inspect(struct sysg_cli *c);
int sysg_cmd_logs(struct sysg_cli *c);
int sysg_cmd_purge(struct sysg_cli *c);
int sysg_cmd_deploy_history(struct sysg_cli *c);

#endif
