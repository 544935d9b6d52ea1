/* config/config.h - the door of the config wing: the sysg configuration
 * model and its loader, plus env files and expansion (env.h), cron
 * expressions (cron.h) and the dependency graph (graph.h). yamlwalk.h and
 * config_schema.h stay inside the wing.
 *
 *
 * sysg_config_load() reads a systemg-compatible YAML file (SPEC section 2)
 * with libyaml into the plain structs below. Every later layer (engine,
 * control plane, strategies) reads these structs directly; nothing else
 * parses YAML.
 *
 * Ownership: everything reachable from a struct sysg_config is owned by it
 * and released by sysg_config_free(). Strings are NUL-terminated, heap
 * allocated, and NULL when the key was absent.
 *
 * Durations are milliseconds (int64_t). A value of -1 means "not set"
 * where the field's comment says so.
 */
#ifndef SYSG_CONFIG_H
#define SYSG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "cron.h"
#include "env.h"
#include "graph.h"
#include "listen.h"
#include "project.h"
#include "unit.h"

/* Position of a node in the YAML file, 1-based; 0 when unknown. */
struct sysg_mark {
	int line;
	int col;
};

/* One KEY=VALUE pair; MARK is where the value was written. */
struct sysg_kv {
	char *key;
	char *value;
	struct sysg_mark mark;
	/* a strategy option written as a list: where each item is (the
	 * value holds them joined with ','); NULL otherwise */
	struct sysg_mark *item_marks;
	size_t nitems;
};

/* An `env:` block: an optional env file and inline vars. */
struct sysg_env_spec {
	char *file;             /* absolute path (resolved against project_dir) */
	struct sysg_mark file_mark;   /* of the `file:` key */
	struct sysg_kv *vars;   /* in file order */
	size_t nvars;
};

/* A hook command: `{ command: "...", timeout: "10s" }`. */
struct sysg_hook {
	char *command;          /* NULL: no hook for this outcome */
	int64_t timeout_ms;     /* default SYSG_HOOK_TIMEOUT_MS */
};

struct sysg_hook_pair {
	struct sysg_hook success;
	struct sysg_hook error;
};

struct sysg_hooks {
	struct sysg_hook_pair on_start;
	struct sysg_hook_pair on_stop;
	struct sysg_hook_pair on_restart;
};

/* A readiness probe: exactly one of command / url is set when present. */
struct sysg_health {
	int present;            /* the key was in the file */
	char *command;
	char *url;
	int64_t interval_ms;    /* default SYSG_HEALTH_INTERVAL_MS */
	int64_t timeout_ms;     /* default SYSG_HEALTH_TIMEOUT_MS */
	int retries;            /* default SYSG_HEALTH_RETRIES */
	struct sysg_mark mark;
};

/* The settings of one strategy: the map under `deployment.<name>`
 * (scalars, lists joined with ','), as written, with positions. The core
 * knows no strategy's keys: the strategy plugin checks them (its
 * check_config, through sysg_config_check_plugins). */
struct sysg_strategy_section {
	char *name;                     /* the key: a strategy (plugin) name */
	struct sysg_mark mark;          /* of the key */
	struct sysg_kv *options;
	size_t noptions;
};

struct sysg_deployment {
	char *strategy;         /* default "immediate" */
	struct sysg_mark strategy_mark;
	char *pre_start;
	struct sysg_health health;      /* deployment.health_check */
	int64_t grace_period_ms;        /* default 0 */
	int64_t drain_ms;               /* deployment.drain: an old run's time
	                                   between SIGTERM and SIGKILL when a
	                                   new one replaced it; default
	                                   SYSG_DRAIN_MS */
	/* every deployment.<name>: {...} map, in file order (owned) */
	struct sysg_strategy_section *sections;
	size_t nsections;
	int64_t timeout_ms;             /* deployment.timeout, default 10m */
	int64_t min_healthy_time_ms;    /* deployment.min_healthy_time, 0 */
	/* the section of `strategy` (borrowed from sections; empty if none) */
	struct sysg_kv *options;
	size_t noptions;
	struct sysg_mark options_mark;
};

/* The deployment.NAME section of D, or NULL. */
const struct sysg_strategy_section *
sysg_deployment_section(const struct sysg_deployment *d, const char *name);
/* The value of option KEY of deployment.NAME as written (lists joined
 * with ','), or NULL. */
const char *sysg_deployment_option(const struct sysg_deployment *d,
				   const char *name, const char *key);

#define SYSG_CRON_FIELDS 6      /* sec min hour dom month dow */

struct sysg_cron {
	int present;
	char *expression;
	char *timezone;         /* NULL: local time */
	struct sysg_mark mark;
};

enum sysg_termination_policy {
	SYSG_TERM_CASCADE = 0,
	SYSG_TERM_ORPHAN,
	SYSG_TERM_REPARENT,
};

struct sysg_spawn {
	int present;
	int dynamic;            /* mode: dynamic (1) | static (0) */
	int children;           /* -1: unlimited */
	int depth;              /* -1: unlimited */
	int descendants;        /* -1: unlimited */
	int64_t total_memory;   /* bytes, -1: unlimited */
	enum sysg_termination_policy termination_policy;
};

struct sysg_cgroup_limits {
	char *root;             /* limits.cgroup.root */
	int64_t memory_max;     /* bytes, -1 unset */
	char *cpu_max;          /* "QUOTA PERIOD" or "max PERIOD" */
	int cpu_weight;         /* -1 unset */
	int64_t pids_max;       /* -1 unset, SYSG_LIMIT_UNLIMITED */
	struct sysg_mark mark;  /* of `limits.cgroup`, 0 when absent */
};

/* A limit written as "unlimited" / "infinity" (rlimits) or "max"
 * (cgroup memory_max). */
#define SYSG_LIMIT_UNLIMITED INT64_MAX

struct sysg_limits {
	int present;
	int64_t nofile;         /* -1 unset, SYSG_LIMIT_UNLIMITED */
	int64_t nproc;
	int64_t memlock;        /* bytes */
	int64_t core;           /* bytes (RLIMIT_CORE) */
	int has_nice;
	int nice;
	int *cpu_affinity;
	size_t ncpu_affinity;
	struct sysg_cgroup_limits cgroup;
};

struct sysg_isolation {
	int present;
	int network, pid, mount, user;
	/* confinement (systemg 0.32); NULL / 0 when unset */
	char *seccomp;                  /* a profile name or path */
	char *apparmor_profile;
	char *selinux_context;
	int private_devices, private_tmp;
};

/* The privileged keys of a service (SPEC 10), for their marks. */
enum sysg_priv_key {
	SYSG_PRIV_USER, SYSG_PRIV_GROUP, SYSG_PRIV_SUPP_GROUPS,
	SYSG_PRIV_LIMITS, SYSG_PRIV_CAPS, SYSG_PRIV_ISOLATION, SYSG_PRIV_NKEYS
};

/* The kernel's number of capability NAME ("CAP_NET_BIND_SERVICE", any
 * case, prefix optional), or -1 when it is not a capability. */
int sysg_cap_number(const char *name);

/* `logs: { max_size: 10M, keep: 5, compress: false }`, at the top level
 * and per service: size-based rotation of the service's log files
 * (<svc>_stdout.log becomes <svc>_stdout.log.1, ...). After loading,
 * each service's struct holds its effective settings: its own keys,
 * else the top level's, else the defaults. */
struct sysg_logs {
	int64_t max_size;       /* bytes; 0: never rotate (default) */
	int keep;               /* rotated files kept (default 5) */
	int compress;           /* gzip rotated files (default no) */
	int has_max_size, has_keep, has_compress;   /* written in the file */
};

#define SYSG_LOGS_KEEP 5

enum sysg_restart_policy {
	SYSG_RESTART_NEVER = 0,
	SYSG_RESTART_ON_FAILURE,
	SYSG_RESTART_ALWAYS,
};

struct sysg_service {
	char *name;
	struct sysg_mark mark;          /* of the service's key */
	char *file;                     /* the included file that defines it
	                                   (its marks are there), or NULL:
	                                   the config's own; see
	                                   sysg_service_file() */

	/* $VAR / ${VAR} (SPEC 11, expand.h) are expanded at load time in
	 * every value of the file, from the service's environment (envp,
	 * below; the root's for keys outside services), EXCEPT in commands
	 * that run under `sh -c` (hooks, health_check.command, pre_start,
	 * skip, switch_command, strategy options named *command): there
	 * each reference is left for that shell as "${NAME}", which it
	 * expands from the environment it runs with, so a value is never
	 * shell code. `command` is exec'd directly with its words expanded
	 * by sysg when it has no shell syntax, else handled like a hook.
	 * A strategy that overrides variables (blue_green's env_var) runs
	 * sysg_env_command(command_raw, ...) again with its environment;
	 * it must never paste values into shell text itself. */
	char *command;                  /* ready to spawn */
	char *command_raw;              /* as written */
	struct sysg_env_spec env;
	char **envp;                    /* merged environment, NULL-terminated:
	                                   process env, root env, service env */

	char **depends_on;
	struct sysg_mark *depends_on_marks;
	size_t ndepends_on;

	enum sysg_restart_policy restart_policy;
	int64_t backoff_ms;             /* default SYSG_BACKOFF_MS */
	int max_restarts;               /* -1: unlimited (default) */
	int64_t stop_timeout_ms;        /* default SYSG_STOP_TIMEOUT_MS */
	int64_t ready_after_ms;         /* default SYSG_READY_AFTER_MS */
	struct sysg_health health;

	int skip;                       /* skip: true */
	char *skip_command;             /* skip: "cmd" (exit 0 => skip) */

	struct sysg_hooks hooks;
	struct sysg_deployment deployment;
	struct sysg_cron cron;
	struct sysg_spawn spawn;

	char *user;
	char *group;
	char **supplementary_groups;
	size_t nsupplementary_groups;
	struct sysg_limits limits;
	char **capabilities;
	size_t ncapabilities;
	struct sysg_isolation isolation;
	struct sysg_listen *listen;     /* listen: sockets (listen.h) */
	size_t nlisten;
	int readiness_notify;           /* readiness: notify */
	int64_t watchdog_ms;            /* watchdog: D; 0 off */
	int unit;                       /* an ad-hoc unit (unit.h) */
	int instances;                  /* instances: N as written (1) */
	char *instance_of;              /* "web" for the copy "web.1" of a
	                                   service with instances: N > 1 (it
	                                   runs with SYSG_INSTANCE=1); NULL */
	char *workdir;                  /* runs there (units); NULL: the
	                                   project directory */
	struct sysg_mark privileged_mark; /* first privileged-only key seen */
	struct sysg_mark priv_marks[SYSG_PRIV_NKEYS];   /* per key, 0 unset */
	struct sysg_logs logs;          /* effective (see struct sysg_logs) */
	char *project;                  /* the id of its project (project.h)
	                                   when its name is "NAME@ID"; NULL:
	                                   the config file's own service */
};

/* Top-level `metrics:` (SPEC 11; systemg 0.32's sampler settings, with its
 * defaults and clamps) plus sysg's `textfile`. */
struct sysg_metrics_cfg {
	int present;                    /* the file has `metrics:` */
	int64_t retention_minutes;      /* default 720, at least 1 */
	int64_t sample_interval_secs;   /* default 1, clamped to 1..60 */
	int64_t max_memory_bytes;       /* default 10 MiB, at least 128 KiB */
	char *spillover_path;           /* absolute; NULL: no spill */
	int64_t spillover_max_bytes;    /* default 6 MiB; 0: no spill */
	int64_t spillover_segment_bytes;        /* default 256 KiB */
	char *textfile;                 /* absolute; NULL: none */
};

#define SYSG_METRICS_RETENTION_MIN      720
#define SYSG_METRICS_INTERVAL_S         1
#define SYSG_METRICS_MAX_MEMORY         (10LL << 20)
#define SYSG_METRICS_MIN_MEMORY         (128LL << 10)
#define SYSG_METRICS_SPILL_MAX          (6LL << 20)
#define SYSG_METRICS_SPILL_SEGMENT      (256LL << 10)

struct sysg_config {
	char *path;             /* as given (used in messages) */
	char *abs_path;         /* absolute */
	char *dir;              /* directory of abs_path */
	char *project_dir;      /* absolute */
	char *version;
	struct sysg_env_spec env;
	char *state_backend;    /* default "xml" */
	char *state_path;       /* absolute or NULL */
	struct sysg_logs logs;  /* top-level `logs:` as written */
	struct sysg_metrics_cfg metrics;
	struct sysg_service *services;  /* in file order */
	size_t nservices;
	/* Dependency waves: wave[i] lists service indexes whose dependencies
	 * all lie in earlier waves. Computed by the loader. */
	size_t **waves;
	size_t *wave_sizes;
	size_t nwaves;
	char *text;             /* the YAML it was loaded from (unit.h) */
	size_t textlen;
	struct sysg_config **units;     /* its units' own configs (unit.h) */
	size_t nunits;
	struct sysg_project *projects;  /* its projects (project.h): the
	                                   file's own first, when it has
	                                   services */
	size_t nprojects;
	struct sysg_config **joined;    /* the files that joined it, as
	                                   loaded (project.h) */
	size_t njoined;
	char **left;                    /* ids of projects left out */
	size_t nleft;
};

#define SYSG_HOOK_TIMEOUT_MS      30000
#define SYSG_HEALTH_INTERVAL_MS   1000
#define SYSG_HEALTH_TIMEOUT_MS    5000
#define SYSG_HEALTH_RETRIES       3
#define SYSG_BACKOFF_MS           1000
#define SYSG_STOP_TIMEOUT_MS      10000
#define SYSG_READY_AFTER_MS       200
#define SYSG_DRAIN_MS             5000
#define SYSG_INSTANCES_MAX        64
#define SYSG_DEPLOY_TIMEOUT_MS    600000

/* Find the default config in DIR (NULL: the current directory):
 * systemg.yaml, else sysg.yaml. Returns a malloc'd path or NULL. */
char *sysg_config_find_default(const char *dir);

/* Load and validate PATH. On success returns 0 and sets *out (free with
 * sysg_config_free). On failure returns a negative code and appends one
 * GCC-style message per problem to DIAG ("FILE:LINE:COL: error: KEY.PATH:
 * message"); *out is left NULL. Never aborts on bad input. */
int sysg_config_load(const char *path, struct sysg_config **out,
		     struct sysg_diag *diag);

/* Same, from an in-memory buffer; NAME is used in messages and BASE_DIR
 * as the config's directory. Used by tests and the fuzzer. */
int sysg_config_load_buffer(const char *name, const char *base_dir,
			    const char *buf, size_t len,
			    struct sysg_config **out, struct sysg_diag *diag);

/* Flags of the _flags variants. */
#define SYSG_CONFIG_STRICT 1u   /* unknown keys are errors, not warnings */
#define SYSG_CONFIG_JOINED 2u   /* a file joining a supervisor: its own
                                   services are a project named after it
                                   (project.h) */

/* The loaders above take no flags. Either way, warnings (unknown keys,
 * SPEC 11) are appended to DIAG as "FILE:LINE:COL: warning: ..." lines
 * and do not fail the load; sysg_diag_count() counts errors only. */
int sysg_config_load_flags(const char *path, unsigned flags,
			   struct sysg_config **out, struct sysg_diag *diag);
int sysg_config_load_buffer_flags(const char *name, const char *base_dir,
				  const char *buf, size_t len, unsigned flags,
				  struct sysg_config **out,
				  struct sysg_diag *diag);

void sysg_config_free(struct sysg_config *cfg);

/* Free what service S owns (not S itself). */
void sysg_service_free(struct sysg_service *s);

/* The file SVC of CFG was written in (for FILE:LINE:COL messages). */
const char *sysg_service_file(const struct sysg_config *cfg,
			      const struct sysg_service *svc);
/* Call FN once per key the schema accepts, with its key path ("*" stands
 * for a name the user chooses: "services.*.health_check.url") and the
 * name of the config_schema.c table that declares it. The schema's own
 * tables are read, so the list is never out of date (the man page check
 * and documentation use it). */
typedef void (*sysg_config_key_fn)(void *arg, const char *path,
				   const char *table);
void sysg_config_schema_keys(sysg_config_key_fn fn, void *arg);

/* Index of the service called NAME, or -1. */
int sysg_config_find_service(const struct sysg_config *cfg, const char *name);

/* How many copies (instances: N > 1, named NAME.0 ...) service NAME
 * has; 0 when none. */
size_t sysg_config_instances(const struct sysg_config *cfg, const char *name);

/* 1 when NAME is a service of CFG or a service with copies. */
int sysg_config_knows(const struct sysg_config *cfg, const char *name);

/* "unknown service 'NAME'", with " (did you mean 'X'?)" when a service
 * of CFG (may be NULL) is a likely typo of it, into BUF. */
void sysg_config_unknown_service(const struct sysg_config *cfg,
				 const char *name, char *buf, size_t len);

/* 1 when the service runs only on its cron schedule. */
int sysg_service_is_cron(const struct sysg_service *svc);

/* 1 when A and B define the same service: every field of struct
 * sysg_service but the YAML positions (config_equal.c). */
int sysg_service_equal(const struct sysg_service *a,
		       const struct sysg_service *b);

/* 1 when every service of A and B runs in the same context (the project
 * directory): when not, every service counts as changed. */
int sysg_config_same_context(const struct sysg_config *a,
			     const struct sysg_config *b);

#endif
