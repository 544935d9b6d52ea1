/* sysg/plugin.h - the whole sysg plugin contract.
 *
 * A sysg plugin is a shared object (libtool -module -avoid-version) that
 * exports exactly one symbol:
 *
 *     const struct sysg_plugin *sysg_plugin_entry(void);
 *
 * returning a const descriptor (SYSG_STRATEGY_PLUGIN / SYSG_STATE_PLUGIN
 * below write it for you). The host reads descriptor->abi_version before
 * any other field and refuses the plugin unless SYSG_PLUGIN_ABI_MIN <=
 * abi_version <= SYSG_PLUGIN_ABI_VERSION, naming the file, the version
 * found and the ones it loads. Plugins are found by name:
 * `deployment.strategy: canary` loads canary.so; `state: {backend: sqlite}`
 * loads sqlite.so. Search order: --plugin-dir / SYSG_PLUGIN_PATH
 * (colon-separated), then the installed plugin directory
 * (pkg-config --variable=plugindir sysg-plugin).
 *
 * Plugins never include sysg's core headers and never fork or signal
 * processes: they act through the host API handed to them.
 *
 * How this ABI grows (append-only; docs/plugins.md says more):
 *  1. SYSG_PLUGIN_ABI_VERSION goes up by one with every release that
 *     changes this header. Each slot added since ABI 1 is marked with the
 *     ABI that added it ("ABI 2:").
 *  2. A slot is only ever appended at the end of its struct. No slot is
 *     removed, reordered, retyped or given a new meaning; an obsolete one
 *     stays (the host may stop calling it, documented here).
 *  3. Plugin-side structs (struct sysg_plugin, struct sysg_strategy_ops,
 *     struct sysg_state_ops) carry the ABI version they were built
 *     against: the descriptor's abi_version, and since ABI 2 an
 *     abi_version slot in each ops struct. The host calls a slot added in
 *     ABI N only when that struct's version is >= N and the pointer is
 *     non-NULL (SQLite's iVersion rule). Slots marked optional may be
 *     NULL in any version. Authors never write a version by hand: start
 *     each of these structs with its SYSG_..._INIT macro.
 *  4. Host-side structs (struct sysg_host_api, struct sysg_state_host,
 *     struct sysg_strategy_settings) are filled by the host in its own,
 *     newest layout, a superset of every older one. The host refuses
 *     plugins newer than itself, so every host slot a plugin's header
 *     declares exists when the plugin runs; abi_version says which host
 *     it is.
 *  5. Records that cross the ABI by pointer (struct sysg_unit_record,
 *     struct sysg_cron_run, struct sysg_deploy_record) also only grow at
 *     the end: the host hands a backend records it reads only the prefix
 *     of, and copies what an older backend returns into a zeroed current
 *     record. Structs handed over as ARRAYS (struct sysg_setting) never
 *     change size: a new field means a new struct.
 *  6. SYSG_PLUGIN_ABI_MIN rises only when a release deliberately drops
 *     old plugins; the host then refuses them with a clear message.
 *
 * Build a third-party plugin:
 *     cc -shared -fPIC $(pkg-config --cflags sysg-plugin) -o canary.so canary.c
 */
#ifndef SYSG_PLUGIN_H
#define SYSG_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <sysg/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI this header describes (what a plugin built against it speaks),
 * and the oldest ABI this sysg still loads. */
#define SYSG_PLUGIN_ABI_VERSION 3
#define SYSG_PLUGIN_ABI_MIN 1
#define SYSG_PLUGIN_ENTRY_SYMBOL "sysg_plugin_entry"

enum sysg_plugin_kind {
	SYSG_PLUGIN_STRATEGY = 1,       /* deployment strategy */
	SYSG_PLUGIN_STATE = 2,          /* state backend */
};

enum sysg_log_level {
	SYSG_LOG_ERROR = 1,
	SYSG_LOG_WARN = 2,
	SYSG_LOG_INFO = 3,
	SYSG_LOG_DEBUG = 4,
	SYSG_LOG_TRACE = 5,
};

/* ------------------------------------------------------------------ */
/* State backends                                                      */
/* ------------------------------------------------------------------ */

#define SYSG_NAME_MAX    128
#define SYSG_STATUS_MAX  16
#define SYSG_REASON_MAX  256
#define SYSG_COMMAND_MAX 4096
#define SYSG_DEFINITION_MAX 16384

/* Lifecycle state of one unit (service, cron job, ad-hoc unit, child). */
struct sysg_unit_record {
	char name[SYSG_NAME_MAX];
	char kind[SYSG_STATUS_MAX];     /* service | cron | unit | child */
	char status[SYSG_STATUS_MAX];   /* running, stopped, exited, failed,
	                                   skipped, blocked, scheduled,
	                                   starting, backoff */
	int64_t pid;                    /* 0: none */
	int64_t pgid;
	uint64_t start_ticks;           /* /proc/PID/stat starttime: detects pid reuse */
	int64_t started_at_ms;          /* wall clock, ms since the epoch */
	int64_t updated_at_ms;
	int has_exit_code;
	int exit_code;
	int has_signal;
	int signal;
	int restarts;
	char reason[SYSG_REASON_MAX];   /* e.g. "exited with error" */
	char command[SYSG_COMMAND_MAX];
};

/* One run of a cron unit. */
struct sysg_cron_run {
	char name[SYSG_NAME_MAX];
	int64_t started_at_ms;
	int64_t completed_at_ms;        /* 0 while running */
	char status[SYSG_STATUS_MAX];   /* success | failed | overlapped | running */
	int has_exit_code;
	int exit_code;
};

/* One deployment. */
struct sysg_deploy_record {
	char id[64];
	char service[SYSG_NAME_MAX];
	char strategy[SYSG_NAME_MAX];
	int64_t started_at_ms;
	int64_t duration_ms;
	char slot_before[64];           /* "" when not blue/green */
	char slot_after[64];
	char outcome[SYSG_STATUS_MAX];  /* success | failed | rolled_back |
	                                   aborted | running */
	char reason[SYSG_REASON_MAX];
	/* appended (ABI 2) */
	char revision[16];              /* short hash of the definition */
	char message[SYSG_REASON_MAX];  /* sysg deploy --message */
	int64_t uid;                    /* who started it */
	char definition[SYSG_DEFINITION_MAX];   /* what was rolled out (JSON) */
};

/* Callbacks for iteration; return non-zero to stop early. */
typedef int (*sysg_pid_cb)(void *arg, const char *name, int64_t pid);
typedef int (*sysg_unit_cb)(void *arg, const struct sysg_unit_record *u);
typedef int (*sysg_cron_run_cb)(void *arg, const struct sysg_cron_run *r);
typedef int (*sysg_deploy_cb)(void *arg, const struct sysg_deploy_record *d);

/* What the host offers a state backend (filled by the host; see rule 4). */
struct sysg_state_host {
	uint32_t abi_version;           /* the host's SYSG_PLUGIN_ABI_VERSION */
	/* ABI 1: log without a context; the host routes the line to the log
	 * of the store it opened last. Use log_ctx. */
	void (*log)(int level, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
	/* ABI 2: log one line (no trailing newline) at LEVEL (enum
	 * sysg_log_level). HOST is the pointer open() received: it carries
	 * the host's context, so the line lands in the log of the process
	 * that opened this store (the supervisor's supervisor.log, or the
	 * CLI's stderr), tagged with the backend's name. */
	void (*log_ctx)(const struct sysg_state_host *host, int level,
			const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
};

/* A state backend. Every call is atomic with respect to other processes
 * using the same state (each takes an advisory lock, reads, writes a
 * temporary file or transaction, and commits). All calls return 0 or a
 * negative errno-style code; on failure ERR-returning calls fill err.
 * A corrupt store is logged, kept aside and treated as empty. */
struct sysg_state_ops {
	/* Open the store in STATE_DIR (mode 0700, exists). PATH: the
	 * configured `state.path` or NULL for the backend's default. */
	int (*open)(const struct sysg_state_host *host, const char *state_dir,
		    const char *path, void **handle, char *err, size_t errlen);
	void (*close)(void *handle);

	/* service -> pid map (pid.xml for the xml backend). pid 0 removes. */
	int (*set_pid)(void *handle, const char *name, int64_t pid);
	int (*get_pid)(void *handle, const char *name, int64_t *pid);
	int (*list_pids)(void *handle, sysg_pid_cb cb, void *arg);

	/* Lifecycle records. get_unit returns -ENOENT when absent. */
	int (*put_unit)(void *handle, const struct sysg_unit_record *u);
	int (*get_unit)(void *handle, const char *name,
			struct sysg_unit_record *out);
	int (*remove_unit)(void *handle, const char *name);
	int (*list_units)(void *handle, sysg_unit_cb cb, void *arg);

	/* Cron history: keep the newest KEEP runs of each unit. A run is
	 * updated in place when (name, started_at_ms) already exists.
	 * list_cron_runs goes newest first. */
	int (*add_cron_run)(void *handle, const struct sysg_cron_run *r,
			    int keep);
	int (*list_cron_runs)(void *handle, const char *name,
			      sysg_cron_run_cb cb, void *arg);

	/* Deploy history, newest first; SERVICE NULL lists all. */
	int (*add_deploy)(void *handle, const struct sysg_deploy_record *d);
	int (*list_deploys)(void *handle, const char *service,
			    sysg_deploy_cb cb, void *arg);

	/* Small key/values. kv_get: -ENOENT when absent, -ENOSPC when
	 * LEN is too small. kv_set with VALUE NULL deletes. */
	int (*kv_get)(void *handle, const char *key, char *buf, size_t len);
	int (*kv_set)(void *handle, const char *key, const char *value);

	/* ABI 2: the ABI this struct was built against. Set by
	 * SYSG_STATE_OPS_INIT; an ABI-1 backend has no such slot and counts
	 * as version 1. New slots go below it. */
	uint32_t abi_version;
	/* ABI 2, optional (NULL: none): batch_begin holds the writes
	 * that follow (set_pid, put_unit, remove_unit) until batch_commit,
	 * which stores them together: one rewrite of each file, or one
	 * transaction, for the lot. The supervisor brackets the records of
	 * one loop turn with them, so N changes do not cost N rewrites of N
	 * records. Reads in between may not see the held writes.
	 * batch_commit returns 0 or the first error. */
	int (*batch_begin)(void *handle);
	int (*batch_commit)(void *handle);
};

/* ------------------------------------------------------------------ */
/* Deployment strategies                                               */
/* ------------------------------------------------------------------ */

/* One setting from the `deployment.<strategy>` map of a service. */
struct sysg_setting {
	const char *key;
	const char *value;              /* lists are joined with ',' */
	int line, col;                  /* where it was written, 1-based */
};

/* The deployment section of one service, as a strategy sees it. */
struct sysg_strategy_settings {
	const char *service;
	const char *strategy;
	const char *pre_start;          /* NULL: none */
	const char *health_url;         /* deployment.health_check.url */
	const char *health_command;     /* deployment.health_check.command */
	int64_t health_timeout_ms;
	int health_retries;
	int64_t grace_period_ms;
	const struct sysg_setting *options;     /* deployment.<strategy>: */
	size_t noptions;
};

/* A running instance of the service, as the host knows it. */
typedef int64_t sysg_instance_t;        /* 0: none */

struct sysg_deploy_ctx;                 /* opaque, owned by the host */

/* Operator commands on a running deploy (host API operator_wait). */
enum sysg_operator {
	SYSG_OPERATOR_NONE = 0,         /* the wait elapsed */
	SYSG_OPERATOR_PROMOTE = 1,      /* sysg deploy --promote */
	SYSG_OPERATOR_ABORT = 2,        /* sysg deploy --abort */
};

/* What the host offers a strategy during a deploy. Every call returns 0
 * or a negative errno-style code and, where it has ERR, a message. */
struct sysg_host_api {
	uint32_t abi_version;
	void (*log)(struct sysg_deploy_ctx *c, int level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	/* One progress line, printed as it happens ("[3/6] switch traffic"). */
	void (*step)(struct sysg_deploy_ctx *c, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
	/* The instance currently serving (0 if none). */
	sysg_instance_t (*current)(struct sysg_deploy_ctx *c);
	/* Run the service's pre_start; *exit_code gets its status. */
	int (*pre_start)(struct sysg_deploy_ctx *c, int *exit_code,
			 char *err, size_t errlen);
	/* Start a new instance beside the current one, with ENV_OVERRIDES
	 * ("KEY=VALUE", NULL-terminated, may be NULL). It is not yet the
	 * current instance. */
	int (*start)(struct sysg_deploy_ctx *c, const char *const *env_overrides,
		     sysg_instance_t *out, char *err, size_t errlen);
	/* Wait until INST is ready: with URL, an HTTP 2xx probe retried
	 * RETRIES times within TIMEOUT_MS each; without, the service's
	 * own readiness rule. -ETIMEDOUT, -ECHILD (it exited), -EADDRINUSE
	 * (it failed on a port conflict). */
	int (*wait_ready)(struct sysg_deploy_ctx *c, sysg_instance_t inst,
			  const char *url, int64_t timeout_ms, int retries,
			  char *err, size_t errlen);
	/* One HTTP GET; 0 on 2xx. */
	int (*http_check)(struct sysg_deploy_ctx *c, const char *url,
			  int64_t timeout_ms, char *err, size_t errlen);
	/* Make INST the service's current instance (restarts, status and
	 * stop now follow it). */
	int (*promote)(struct sysg_deploy_ctx *c, sysg_instance_t inst);
	/* Stop INST and its whole process tree (SIGTERM, SIGKILL after the
	 * service's stop_timeout). */
	int (*stop)(struct sysg_deploy_ctx *c, sysg_instance_t inst);
	/* Run a shell command with ENV_OVERRIDES added to the service's
	 * environment, killed after TIMEOUT_MS. */
	int (*run)(struct sysg_deploy_ctx *c, const char *command,
		   const char *const *env_overrides, int64_t timeout_ms,
		   int *exit_code, char *err, size_t errlen);
	/* Sleep without blocking the supervisor's other work. */
	void (*sleep_ms)(struct sysg_deploy_ctx *c, int64_t ms);
	/* Persistent small key/values, scoped to the service. */
	int (*kv_get)(struct sysg_deploy_ctx *c, const char *key, char *buf,
		      size_t len);
	int (*kv_set)(struct sysg_deploy_ctx *c, const char *key,
		      const char *value);
	/* Report the slots a deploy moved between (for the deploy record). */
	void (*set_slots)(struct sysg_deploy_ctx *c, const char *before,
			  const char *after);
	/* 1 when the host only wants the plan: print steps, change nothing. */
	int (*dry_run)(struct sysg_deploy_ctx *c);
	/* The state directory, and the project directory relative paths in
	 * settings resolve against. */
	const char *(*state_dir)(struct sysg_deploy_ctx *c);
	const char *(*project_dir)(struct sysg_deploy_ctx *c);
	/* ABI 2: wait up to MS for an operator command on this deploy
	 * (`sysg deploy --promote|--abort|--pause|--resume -s S`). A pause
	 * is handled inside the call: it returns only after --resume,
	 * --promote, --abort or the deploy timeout. Returns enum
	 * sysg_operator. */
	int (*operator_wait)(struct sysg_deploy_ctx *c, int64_t ms);
	/* ABI 3: the copies of the service (`instances: N`): N, or 1 for a
	 * service without copies. Copy K runs with SYSG_INSTANCE=K and is
	 * shown as SERVICE.K. A strategy that deploys copies (flag
	 * SYSG_STRATEGY_COPIES) replaces every one of them through the two
	 * calls below; current() and start() then mean copy 0. */
	int (*copies)(struct sysg_deploy_ctx *c);
	/* ABI 3: the instance serving copy INDEX (0..copies-1), 0 if none. */
	sysg_instance_t (*current_copy)(struct sysg_deploy_ctx *c, int index);
	/* ABI 3: start(), for copy INDEX: the new instance runs the copy's
	 * new definition (PREVIOUS 1: the one the copy ran before this
	 * deploy, to roll a replaced copy back) beside the copy's current
	 * instance, on the same sockets (`listen:`); promote() makes it
	 * copy INDEX. */
	int (*start_copy)(struct sysg_deploy_ctx *c, int index, int previous,
			  const char *const *env_overrides,
			  sysg_instance_t *out, char *err, size_t errlen);
};

/* struct sysg_strategy_ops flags (ABI 3). */
/* deploy() replaces every copy of a service with `instances: N` (through
 * copies/current_copy/start_copy). Without it, sysg refuses to deploy
 * such a service with this strategy, saying so. */
#define SYSG_STRATEGY_COPIES 0x1u

struct sysg_strategy_ops {
	/* Check the service's deployment settings; on error fill ERR and set
	 * *BAD_KEY to the offending option key (or NULL for the section).
	 * Returns 0 or -EINVAL. Called by `sysg validate` and before deploys. */
	int (*check_config)(const struct sysg_strategy_settings *s,
			    char *err, size_t errlen, const char **bad_key);
	/* Roll out a new instance. Returns 0, or a negative code with a
	 * reason in ERR. */
	int (*deploy)(const struct sysg_host_api *host, struct sysg_deploy_ctx *c,
		      const struct sysg_strategy_settings *s,
		      char *err, size_t errlen);
	/* Optional: environment overrides for a plain start (e.g. blue/green
	 * puts env_var = the active slot). Writes up to MAX "KEY=VALUE"
	 * strings into OUT (each at most 256 bytes) and returns the count. */
	int (*start_env)(const struct sysg_host_api *host,
			 struct sysg_deploy_ctx *c,
			 const struct sysg_strategy_settings *s,
			 char (*out)[256], int max);

	/* ABI 2: the ABI this struct was built against. Set by
	 * SYSG_STRATEGY_OPS_INIT; an ABI-1 strategy has no such slot and
	 * counts as version 1. New slots go below it. */
	uint32_t abi_version;
	/* ABI 3: SYSG_STRATEGY_* flags (0: none). */
	uint32_t flags;
};

/* ------------------------------------------------------------------ */
/* The descriptor                                                      */
/* ------------------------------------------------------------------ */

struct sysg_plugin {
	uint32_t abi_version;           /* SYSG_PLUGIN_INIT sets it: read first */
	const char *name;               /* matches the file name without .so */
	uint32_t kind;                  /* enum sysg_plugin_kind */
	const char *description;
	const struct sysg_strategy_ops *strategy;       /* kind STRATEGY */
	const struct sysg_state_ops *state;             /* kind STATE */
};

typedef const struct sysg_plugin *(*sysg_plugin_entry_fn)(void);

/* Every plugin defines this, and only this, as an exported symbol. */
const struct sysg_plugin *sysg_plugin_entry(void);

/* ------------------------------------------------------------------ */
/* Initializers: the version is the header's, never written by hand     */
/* ------------------------------------------------------------------ */

/* Start each plugin-side struct with its initializer (nginx's
 * NGX_MODULE_V1 idea), then name the slots you implement:
 *
 *     static const struct sysg_strategy_ops ops = {
 *             SYSG_STRATEGY_OPS_INIT,
 *             .check_config = my_check,
 *             .deploy = my_deploy,
 *     };
 *     SYSG_STRATEGY_PLUGIN("canary", "weighted rollout", &ops)
 *
 * Rebuilding against a newer header records the newer ABI; slots you do
 * not name stay NULL, which the host reads as "not implemented". */
#define SYSG_PLUGIN_INIT        .abi_version = SYSG_PLUGIN_ABI_VERSION
#define SYSG_STRATEGY_OPS_INIT  .abi_version = SYSG_PLUGIN_ABI_VERSION
#define SYSG_STATE_OPS_INIT     .abi_version = SYSG_PLUGIN_ABI_VERSION

/* Define the descriptor and sysg_plugin_entry of a strategy or state
 * backend plugin named NAME (a string literal, the file name without
 * .so) with OPS (a pointer to its ops struct). Use once per plugin, at
 * file scope. */
#define SYSG_STRATEGY_PLUGIN(NAME, DESCRIPTION, OPS)                     \
	static const struct sysg_plugin sysg_plugin_descriptor_ = {     \
		SYSG_PLUGIN_INIT,                                       \
		.name = (NAME),                                         \
		.kind = SYSG_PLUGIN_STRATEGY,                           \
		.description = (DESCRIPTION),                           \
		.strategy = (OPS),                                      \
	};                                                              \
	const struct sysg_plugin *sysg_plugin_entry(void)               \
	{                                                               \
		return &sysg_plugin_descriptor_;                        \
	}

#define SYSG_STATE_PLUGIN(NAME, DESCRIPTION, OPS)                        \
	static const struct sysg_plugin sysg_plugin_descriptor_ = {     \
		SYSG_PLUGIN_INIT,                                       \
		.name = (NAME),                                         \
		.kind = SYSG_PLUGIN_STATE,                              \
		.description = (DESCRIPTION),                           \
		.state = (OPS),                                         \
	};                                                              \
	const struct sysg_plugin *sysg_plugin_entry(void)               \
	{                                                               \
		return &sysg_plugin_descriptor_;                        \
	}

#ifdef __cplusplus
}
#endif

#endif
