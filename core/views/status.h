/* status.h - the status model behind `sysg status` and `sysg inspect`.
 *
 * A struct sysg_status is a snapshot: one struct sysg_unit_view per unit,
 * plus when it was taken and an overall health. It is the single exchange
 * format between whoever knows the state and whoever shows it:
 *   - without a supervisor, sysg_status_collect() builds it from the config
 *     (services in file order), the state backend's unit records and /proc;
 *   - a resident supervisor builds the same structs from its own memory and
 *     sends them as JSON (sysg_status_to_json), which the CLI reads back with
 *     sysg_status_from_json and renders exactly like the offline view.
 *
 * Offline rules (what `status` reports from the state files alone):
 *   - A config service with no record yet is `stopped` (never started), a
 *     cron unit with no record is `scheduled` while a supervisor runs and
 *     `stopped` otherwise.
 *   - `running` and `starting` are claims about a process: they hold only
 *     when the recorded pid is alive and, when a start time was recorded,
 *     started at that time (a reused pid is someone else). Otherwise the
 *     unit is reported `exited` when its record holds exit code 0, else
 *     `failed` (reason: the process is gone / its pid was reused).
 *   - `backoff` and `scheduled` are the supervisor's plans: with no
 *     supervisor alive (sysg.pid) nothing will restart or run the unit, so
 *     they read `failed` and `stopped` respectively.
 *   - Every other status word (stopped, exited, failed, skipped, blocked) is
 *     reported as recorded; pid, pgid, uptime, CPU and memory are shown only
 *     for a live process.
 *   - Health: `healthy` for a live running unit, `unhealthy` for failed,
 *     blocked and backoff, `unknown` otherwise (starting, stopped, exited,
 *     skipped, scheduled).
 *   - Records of kind `unit` (ad-hoc `start -- CMD`) are always listed;
 *     records of kind `service`/`cron` whose name is not in the config are
 *     `orphaned` and listed only with --all (or when asked for by name).
 *     Without any config every record is listed under its own kind.
 *   - Records of kind `child` named "PARENT/NAME" are listed in PARENT's
 *     `children`; other child records are listed as top-level units.
 *
 * Overall health over the top-level, non-orphaned units: `healthy` when at
 * least one is running, exited, skipped or scheduled ("working") and none
 * is failed, blocked or in backoff (stopped and starting units spoil
 * nothing); `failing` when none is working or starting (every unit
 * stopped, failed or blocked); `degraded` otherwise. No units: `healthy`.
 */
#ifndef SYSG_STATUS_H
#define SYSG_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <sysg/plugin.h>

#include "config/config.h"
#include "plugin/plugin.h"

#define SYSG_STATUS_SCHEMA_VERSION "1"
#define SYSG_STATUS_RECENT_RUNS 10     /* cron runs shown by status */

enum sysg_unit_kind {
	SYSG_UNIT_SERVICE = 0,
	SYSG_UNIT_CRON,
	SYSG_UNIT_ADHOC,                /* "unit": sysg start -- CMD */
	SYSG_UNIT_CHILD,
	SYSG_UNIT_ORPHANED,
};

enum sysg_unit_health {
	SYSG_HEALTH_UNKNOWN = 0,
	SYSG_HEALTH_HEALTHY,
	SYSG_HEALTH_UNHEALTHY,
};

enum sysg_overall {
	SYSG_OVERALL_HEALTHY = 0,
	SYSG_OVERALL_DEGRADED,
	SYSG_OVERALL_FAILING,
};

/* Schema words for the enums ("service", "healthy", "degraded", ...). */
const char *sysg_unit_kind_name(enum sysg_unit_kind k);
const char *sysg_health_name(enum sysg_unit_health h);
const char *sysg_overall_name(enum sysg_overall o);

/* The schedule and history of a cron unit. */
struct sysg_cron_view {
	char *expression;               /* NULL when unknown (orphaned) */
	char *timezone;                 /* NULL: local time */
	int64_t next_run_ms;            /* wall clock ms; 0: none */
	int64_t last_run_ms;            /* 0: never ran */
	struct sysg_cron_run *runs;     /* newest first */
	size_t nruns;
};

struct sysg_unit_view {
	char name[SYSG_NAME_MAX];
	char project[SYSG_NAME_MAX];    /* its project's id when the config
	                                   has projects (config/project.h),
	                                   else "" (no "project" in JSON) */
	enum sysg_unit_kind kind;
	char status[SYSG_STATUS_MAX];
	int64_t pid;                    /* 0: none (null) */
	int64_t pgid;                   /* 0: none (null) */
	int64_t uptime_s;               /* -1: not running (null) */
	int restarts;
	enum sysg_unit_health health;
	int has_exit_code, exit_code;   /* last_exit is null when neither */
	int has_signal, signal;
	int oom;                        /* last_exit.oom: the kernel OOM-killed
	                                   it in its memory limit */
	char *command;                  /* NULL: unknown (null) */
	double cpu_percent;             /* < 0: unknown (null) */
	int64_t rss_bytes;              /* < 0: unknown (null) */
	char reason[SYSG_REASON_MAX];   /* why it is in this state, or "" */
	char status_text[SYSG_REASON_MAX];      /* sd_notify STATUS=, or "" */
	char last_restart[SYSG_REASON_MAX];     /* why sysg last restarted
						   it (watchdog...), or "" */
	int64_t started_at_ms;          /* 0: unknown */
	struct sysg_cron_view *cron;    /* cron units only, else NULL */
	struct sysg_unit_view *children;
	size_t nchildren;
};

struct sysg_status {
	int64_t captured_at_ms;         /* wall clock */
	enum sysg_overall overall;
	struct sysg_unit_view *units;
	size_t nunits;
};

/* Release everything S owns (S itself is not freed) and zero it. */
void sysg_status_free(struct sysg_status *s);

/* One CPU-time sample per process, kept between two collections so that
 * --stream shows current CPU use instead of the lifetime average. */
struct sysg_cpu_sample {
	int64_t pid;
	uint64_t start_ticks;
	uint64_t cpu_ticks;             /* utime + stime */
	int64_t uptime_ms;              /* system uptime when sampled */
};

struct sysg_cpu_history {
	struct sysg_cpu_sample *v;
	size_t n;
};

void sysg_cpu_history_free(struct sysg_cpu_history *h);

struct sysg_status_opts {
	const char *service;            /* only this unit (NULL: all) */
	int all;                        /* also orphaned records */
	int supervisor_alive;           /* a supervisor runs (see the rules) */
	int recent_runs;                /* cron runs per unit; 0: default */
	struct sysg_cpu_history *cpu;   /* NULL: lifetime CPU% */
};

/* Build the offline view. CFG (may be NULL: no config) gives the services
 * in file order; ST (may be NULL: no state yet) the records. Fills OUT
 * (free with sysg_status_free). Returns 0, -ENOENT when O->service names
 * no known unit, or another negative code, with a message in ERR. */
int sysg_status_collect(const struct sysg_config *cfg, struct sysg_state *st,
			const struct sysg_status_opts *o,
			struct sysg_status *out, char *err, size_t errlen);

/* The overall health of S's units (the rule above). */
enum sysg_overall sysg_status_overall(const struct sysg_status *s);


/* 1 when the supervisor recorded in STATE_DIR/sysg.pid is alive, with
 * its pid in *PID (may be NULL); 0 when there is none or it is stale.
 * sysg.pid holds "PID\n" (older sysg wrote "PID TICKS\n": read too);
 * the process's start time in clock ticks, which guards against pid
 * reuse, is in sysg.pid.start as "PID TICKS\n" (used when its pid
 * matches). */
int sysg_supervisor_alive(const char *state_dir, int64_t *pid);

/* ------------------------------------------------------------ render */

/* The ANSI colour of a status word ("" for none), and the reset. */
const char *sysg_status_color(const char *status);
#define SYSG_COLOR_RESET "\033[0m"

struct sysg_render_opts {
	int color;                      /* ANSI colours (a tty, no --no-color) */
	int full_cmd;                   /* never truncate commands */
	int width;                      /* terminal columns; <= 0: 120 */
	int64_t mem_total;              /* bytes, for MEM%; <= 0: unknown */
};

/* Print S as a table (SERVICE STATUS PID UPTIME CPU% MEM% RESTARTS
 * LAST EXIT COMMAND), a summary line, and a table of cron units. */
void sysg_status_render_table(const struct sysg_status *s,
			      const struct sysg_render_opts *o, FILE *out);

/* "3d 4h", "2h 5m", "4m 7s", "12s"; "-" when S < 0. BUF >= 16 bytes. */
void sysg_format_uptime(int64_t s, char *buf, size_t len);

/* The wall-clock time MS in local time, "2026-11-26 10:30:15"; "-" when
 * MS <= 0. BUF >= 20 bytes. */
void sysg_format_local_time(int64_t ms, char *buf, size_t len);

/* "exit 0", "exit 3", "SIGKILL" (or "signal 64"), "-" when unknown. */
void sysg_format_last_exit(const struct sysg_unit_view *u, char *buf,
			   size_t len);

/* ------------------------------------------------------------- JSON */
/*
 * `sysg status --json` schema, version "1" (also in README.md):
 *
 * {
 *   "schema_version": "1",
 *   "captured_at": "2026-11-26T10:30:15.123Z",     UTC, milliseconds
 *   "overall_health": "healthy" | "degraded" | "failing",
 *   "units": [ UNIT, ... ]                         config order, then
 * }                                                 other records by name
 *
 * UNIT:
 * {
 *   "name": "api",
 *   "kind": "service" | "cron" | "unit" | "child" | "orphaned",
 *   "status": "starting" | "running" | "stopped" | "exited" | "failed" |
 *             "skipped" | "blocked" | "scheduled" | "backoff",
 *   "pid": 1234 | null,                            null unless alive
 *   "pgid": 1234 | null,
 *   "uptime_s": 42 | null,                         null unless alive
 *   "restarts": 0,                                 automatic restarts
 *   "health": "healthy" | "unhealthy" | "unknown",
 *   "last_exit": {"code": 1 | null, "signal": 9 | null} | null,
 *   "command": "gunicorn app" | null,
 *   "cpu_percent": 0.5 | null,                     % of one core
 *   "rss_bytes": 1048576 | null,
 *   "children": [ UNIT, ... ],                     spawned children
 *   "reason": "health check did not pass ...",   why (null: nothing)
 *   "cron": {                                      cron units only
 *     "expression": "0 0 2 * * *" | null,
 *     "timezone": "UTC" | null,                    null: local time
 *     "next_run": ISO-8601 | null,
 *     "last_run": ISO-8601 | null,
 *     "recent_runs": [                             newest first
 *       {"started_at": ISO-8601, "completed_at": ISO-8601 | null,
 *        "status": "success" | "failed" | "overlapped" | "running",
 *        "exit_code": 0 | null}, ...
 *     ]
 *   }
 * }
 *
 * Additions keep "1"; renaming, removing or retyping a field bumps it.
 */

/* The JSON object for S / one unit (new references; NULL on ENOMEM). */
json_t *sysg_status_to_json(const struct sysg_status *s);
json_t *sysg_unit_view_to_json(const struct sysg_unit_view *u);

/* The wall-clock time MS as an ISO-8601 JSON string, or JSON null when
 * MS <= 0 (unknown). A new reference; NULL on ENOMEM. */
json_t *sysg_json_time_or_null(int64_t ms);

/* How `--json` prints a document (status, inspect, ...); COMPACT: one
 * line (--stream), else indented by 2. */
#define SYSG_JSON_PRINT_FLAGS(compact) (JSON_PRESERVE_ORDER | \
	JSON_REAL_PRECISION(12) | ((compact) ? JSON_COMPACT : JSON_INDENT(2)))

/* S as one line of compact JSON, malloc'd (NULL on ENOMEM). */
char *sysg_status_to_json_string(const struct sysg_status *s);
/* S exactly as `sysg status --json` prints it (without the final
 * newline), malloc'd (NULL on ENOMEM): the supervisor renders it so that
 * the CLI need not decode and encode it again. */
char *sysg_status_to_json_text(const struct sysg_status *s);

/* Read a status document back (as produced by sysg_status_to_json).
 * Unknown fields are ignored; a missing or mistyped field, or another
 * schema_version, is -EINVAL with the field named in ERR. */
int sysg_status_from_json(const char *text, struct sysg_status *out,
			  char *err, size_t errlen);

#endif
