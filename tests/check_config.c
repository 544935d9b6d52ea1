/* check_config.c - the YAML config loader: every field of a full config,
 * environment merging, paths, default file discovery, dependency waves,
 * and the exact GCC-style message for each kind of invalid config. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "plugin/plugin.h"
#include "testutil.h"

static char *tmp;

static void setup(void)
{
	tmp = tu_mkdtemp("config");
	ck_assert_ptr_nonnull(tmp);
}

static void teardown(void)
{
	ck_assert_int_eq(tu_rm_rf(tmp), 0);
	free(tmp);
	tmp = NULL;
}

/* Load TEXT as "t.yaml" with the temp dir as its directory. */
static int load_text(const char *text, struct sysg_config **cfg,
		     struct sysg_diag *d)
{
	sysg_diag_init(d);
	return sysg_config_load_buffer("t.yaml", tmp, text, strlen(text), cfg,
				       d);
}

static struct sysg_config *load_ok(const char *text)
{
	struct sysg_config *cfg = NULL;
	struct sysg_diag d;
	int rc = load_text(text, &cfg, &d);
	char *all = sysg_diag_join(&d);

	ck_assert_msg(rc == 0, "load failed (%d):\n%s", rc, all);
	ck_assert_ptr_nonnull(cfg);
	free(all);
	sysg_diag_free(&d);
	return cfg;
}

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Load TEXT, then (as `sysg validate` does) let each strategy plugin
 * check its own deployment settings. */
static int load_and_check(const char *text, struct sysg_config **cfg,
			  struct sysg_diag *d)
{
	struct sysg_plugin_path pp;
	int rc = load_text(text, cfg, d);

	if (rc < 0)
		return rc;
	ck_assert_int_eq(sysg_plugin_path_init(&pp, NULL), 0);
	rc = sysg_config_check_plugins(*cfg, &pp, NULL, d);
	sysg_plugin_path_free(&pp);
	sysg_config_free(*cfg);
	*cfg = NULL;
	return rc;
}

/* TEXT must fail with exactly NERRORS diagnostics (0: any number), one of
 * which starts with PREFIX: when loading, or when the strategy plugins
 * check their settings. */
static void expect_error(const char *what, const char *text,
			 const char *prefix, size_t nerrors)
{
	struct sysg_config *cfg = (struct sysg_config *)&cfg;
	struct sysg_diag d;
	int rc = load_and_check(text, &cfg, &d), found = 0;
	char *all = sysg_diag_join(&d);

	ck_assert_msg(rc < 0, "%s: loaded but should fail", what);
	ck_assert_msg(cfg == NULL, "%s: *out not NULL on failure", what);
	for (size_t i = 0; i < d.n; i++)
		found |= starts_with(d.lines[i], prefix);
	ck_assert_msg(found, "%s: no line starts with\n  %s\ngot:\n%s", what,
		      prefix, all);
	if (nerrors)
		ck_assert_msg(sysg_diag_count(&d) == nerrors,
			      "%s: expected %zu error(s), got:\n%s", what,
			      nerrors, all);
	free(all);
	sysg_diag_free(&d);
}

#define HEAD "version: \"1\"\nservices:\n"

/* ---------------------------------------------------------- full config */

static void write_env_files(const char *dir)
{
	free(tu_write_file(dir, "common.env",
			   "# shared\nexport APP_ENV=development\nSHARED=\"from file\"\n"));
	free(tu_write_file(dir, "api.env", "DB_URL='postgres://db/app'\n"));
}

static const char *full_yaml =
	"version: \"1\"\n"
	"project_dir: \".\"\n"
	"env:\n"
	"  file: \"common.env\"\n"
	"  vars: { APP_ENV: \"production\", WORKERS: 4 }\n"
	"state: { backend: \"sqlite\", path: \"state/sysg.db\" }\n"
	"services:\n"
	"  postgres:\n"
	"    command: \"sleep 100\"\n"
	"  redis:\n"
	"    command: \"sleep 100\"\n"
	"  api:\n"
	"    command: \"gunicorn app:application --bind 0.0.0.0:${PORT}\"\n"
	"    env: { file: \"api.env\", vars: { PORT: \"8000\" } }\n"
	"    depends_on: [postgres, redis]\n"
	"    restart_policy: \"always\"\n"
	"    backoff: \"5s\"\n"
	"    max_restarts: 10\n"
	"    stop_timeout: \"10s\"\n"
	"    ready_after: \"100ms\"\n"
	"    health_check:\n"
	"      command: \"curl --fail http://localhost:${PORT}/health\"\n"
	"      interval: \"1s\"\n"
	"      timeout: \"5s\"\n"
	"      retries: 3\n"
	"    skip: false\n"
	"    hooks:\n"
	"      on_start:   { success: { command: \"echo up ${APP_ENV}\", timeout: \"10s\" }, error: { command: \"echo fail\" } }\n"
	"      on_stop:    { success: { command: \"echo stop\" }, error: \"echo crash\" }\n"
	"      on_restart: { success: { command: \"echo re\" }, error: { command: \"echo reerr\" } }\n"
	"    deployment:\n"
	"      strategy: \"blue_green\"\n"
	"      pre_start: \"python manage.py migrate\"\n"
	"      health_check: { url: \"http://localhost:8000/health\", timeout: \"30s\", retries: 3 }\n"
	"      grace_period: \"5s\"\n"
	"      blue_green:\n"
	"        env_var: \"PORT\"\n"
	"        slots: [\"8000\", 8001]\n"
	"        candidate_health_check_url: \"http://127.0.0.1:{slot}/health\"\n"
	"        switch_command: \"/usr/local/bin/switch-upstream {candidate_slot}\"\n"
	"        switch_verify_url: \"http://localhost/health\"\n"
	"        state_path: \".state/api-slot.xml\"\n"
	"    spawn: { mode: dynamic, limits: { children: 10, depth: 3, descendants: 50,\n"
	"             total_memory: \"1G\", termination_policy: orphan } }\n"
	"    user: \"www-data\"\n"
	"    group: \"www-data\"\n"
	"    supplementary_groups: [\"www-logs\"]\n"
	"    limits: { nofile: 65536, nproc: unlimited, memlock: \"512M\", nice: -5,\n"
	"              cpu_affinity: [0, 1], cgroup: { root: sysg, memory_max: \"512M\",\n"
	"              cpu_max: \"200000 100000\", cpu_weight: 200 } }\n"
	"    capabilities: [CAP_NET_BIND_SERVICE, sys_nice]\n"
	"    isolation: { network: true, pid: yes, mount: on, user: false }\n"
	"    listen: [ \"tcp://127.0.0.1:8000\", { address: \"unix:/run/api.sock\", name: adm, backlog: 16, mode: \"0660\", owner: \"www-data\" } ]\n"
	"  nightly:\n"
	"    command: \"echo nightly\"\n"
	"    cron: { expression: \"0 0 2 * * *\", timezone: \"UTC\" }\n";

static char *in_tmp(const char *rel)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/%s", tmp, rel), 0);
	return p;
}

static void assert_path(const char *got, const char *rel)
{
	char *want = in_tmp(rel);

	ck_assert_str_eq(got, want);
	free(want);
}

static void check_api_basics(const struct sysg_service *s)
{
	ck_assert_str_eq(s->name, "api");
	ck_assert_int_eq(s->mark.line, 12);
	ck_assert_int_eq(s->mark.col, 3);
	ck_assert_str_eq(s->command_raw,
			 "gunicorn app:application --bind 0.0.0.0:${PORT}");
	ck_assert_str_eq(s->command,
			 "gunicorn app:application --bind 0.0.0.0:8000");
	ck_assert_uint_eq(s->ndepends_on, 2);
	ck_assert_str_eq(s->depends_on[0], "postgres");
	ck_assert_str_eq(s->depends_on[1], "redis");
	ck_assert_int_eq(s->depends_on_marks[1].line, 15);
	ck_assert_int_eq(s->depends_on_marks[1].col, 28);
	ck_assert_int_eq(s->restart_policy, SYSG_RESTART_ALWAYS);
	ck_assert_int_eq(s->backoff_ms, 5000);
	ck_assert_int_eq(s->max_restarts, 10);
	ck_assert_int_eq(s->stop_timeout_ms, 10000);
	ck_assert_int_eq(s->ready_after_ms, 100);
	ck_assert(s->health.present);
	/* run by a shell: the reference is left for it (SPEC 11) */
	ck_assert_str_eq(s->health.command,
			 "curl --fail http://localhost:${PORT}/health");
	ck_assert_ptr_null(s->health.url);
	ck_assert_int_eq(s->health.interval_ms, 1000);
	ck_assert_int_eq(s->health.timeout_ms, 5000);
	ck_assert_int_eq(s->health.retries, 3);
	ck_assert_int_eq(s->skip, 0);
	ck_assert_ptr_null(s->skip_command);
	ck_assert(!sysg_service_is_cron(s));
}

static void check_api_env(const struct sysg_service *s)
{
	ck_assert_str_eq(s->env.file + strlen(tmp), "/api.env");
	ck_assert_int_eq(s->env.file_mark.line, 14);
	ck_assert_int_eq(s->env.file_mark.col, 12);
	ck_assert_uint_eq(s->env.nvars, 1);
	ck_assert_str_eq(s->env.vars[0].key, "PORT");
	ck_assert_str_eq(s->env.vars[0].value, "8000");
	ck_assert_str_eq(sysg_env_get(s->envp, "PORT"), "8000");
	ck_assert_str_eq(sysg_env_get(s->envp, "DB_URL"), "postgres://db/app");
	ck_assert_str_eq(sysg_env_get(s->envp, "APP_ENV"), "production");
	ck_assert_str_eq(sysg_env_get(s->envp, "SHARED"), "from file");
	ck_assert_str_eq(sysg_env_get(s->envp, "WORKERS"), "4");
}

static void check_api_hooks(const struct sysg_hooks *h)
{
	ck_assert_str_eq(h->on_start.success.command, "echo up ${APP_ENV}");
	ck_assert_int_eq(h->on_start.success.timeout_ms, 10000);
	ck_assert_str_eq(h->on_start.error.command, "echo fail");
	ck_assert_int_eq(h->on_start.error.timeout_ms, SYSG_HOOK_TIMEOUT_MS);
	ck_assert_str_eq(h->on_stop.success.command, "echo stop");
	ck_assert_str_eq(h->on_stop.error.command, "echo crash");
	ck_assert_str_eq(h->on_restart.success.command, "echo re");
	ck_assert_str_eq(h->on_restart.error.command, "echo reerr");
}

static void check_api_deployment(const struct sysg_deployment *d)
{
	const struct sysg_strategy_section *bg;

	ck_assert_str_eq(d->strategy, "blue_green");
	ck_assert_int_eq(d->strategy_mark.line, 32);
	ck_assert_str_eq(d->pre_start, "python manage.py migrate");
	ck_assert(d->health.present);
	ck_assert_str_eq(d->health.url, "http://localhost:8000/health");
	ck_assert_int_eq(d->health.timeout_ms, 30000);
	ck_assert_int_eq(d->health.retries, 3);
	ck_assert_int_eq(d->health.interval_ms, SYSG_HEALTH_INTERVAL_MS);
	ck_assert_int_eq(d->grace_period_ms, 5000);
	/* the core keeps blue_green's settings as written, with positions;
	 * the blue_green plugin owns and checks them */
	ck_assert_uint_eq(d->nsections, 1);
	bg = sysg_deployment_section(d, "blue_green");
	ck_assert_ptr_nonnull(bg);
	ck_assert_int_eq(bg->mark.line, 36);
	ck_assert_uint_eq(bg->noptions, 6);
	ck_assert_str_eq(bg->options[0].key, "env_var");
	ck_assert_str_eq(bg->options[0].value, "PORT");
	ck_assert_str_eq(bg->options[1].key, "slots");
	ck_assert_str_eq(bg->options[1].value, "8000,8001");
	ck_assert_int_eq(bg->options[1].mark.line, 38);
	ck_assert_int_eq(bg->options[1].mark.col, 16);
	ck_assert_str_eq(bg->options[2].value, "http://127.0.0.1:{slot}/health");
	ck_assert_str_eq(bg->options[3].value,
			 "/usr/local/bin/switch-upstream {candidate_slot}");
	ck_assert_str_eq(bg->options[5].key, "state_path");
	ck_assert_str_eq(bg->options[5].value, ".state/api-slot.xml");
	/* the strategy is blue_green: its section is also its options */
	ck_assert_ptr_eq(d->options, bg->options);
	ck_assert_uint_eq(d->noptions, 6);
	ck_assert_int_eq(d->options_mark.line, 36);
	ck_assert_ptr_null(sysg_deployment_section(d, "canary"));
}

static void check_api_privileged(const struct sysg_service *s)
{
	const struct sysg_limits *l = &s->limits;

	ck_assert(s->spawn.present);
	ck_assert_int_eq(s->spawn.dynamic, 1);
	ck_assert_int_eq(s->spawn.children, 10);
	ck_assert_int_eq(s->spawn.depth, 3);
	ck_assert_int_eq(s->spawn.descendants, 50);
	ck_assert_int_eq(s->spawn.total_memory, 1LL << 30);
	ck_assert_int_eq(s->spawn.termination_policy, SYSG_TERM_ORPHAN);
	ck_assert_str_eq(s->user, "www-data");
	ck_assert_str_eq(s->group, "www-data");
	ck_assert_uint_eq(s->nsupplementary_groups, 1);
	ck_assert_str_eq(s->supplementary_groups[0], "www-logs");
	ck_assert_int_eq(s->privileged_mark.line, 45);
	ck_assert_int_eq(s->privileged_mark.col, 5);
	ck_assert(l->present);
	ck_assert_int_eq(l->nofile, 65536);
	ck_assert(l->nproc == SYSG_LIMIT_UNLIMITED);
	ck_assert_int_eq(l->memlock, 512LL << 20);
	ck_assert(l->has_nice);
	ck_assert_int_eq(l->nice, -5);
	ck_assert_uint_eq(l->ncpu_affinity, 2);
	ck_assert_int_eq(l->cpu_affinity[1], 1);
	ck_assert_str_eq(l->cgroup.root, "sysg");
	ck_assert_int_eq(l->cgroup.memory_max, 512LL << 20);
	ck_assert_str_eq(l->cgroup.cpu_max, "200000 100000");
	ck_assert_int_eq(l->cgroup.cpu_weight, 200);
	ck_assert_uint_eq(s->ncapabilities, 2);
	ck_assert_str_eq(s->capabilities[0], "CAP_NET_BIND_SERVICE");
	ck_assert_str_eq(s->capabilities[1], "CAP_SYS_NICE");
	ck_assert(s->isolation.present);
	ck_assert(s->isolation.network && s->isolation.pid &&
		  s->isolation.mount && !s->isolation.user);
}

static void check_defaults(const struct sysg_service *s)
{
	ck_assert_int_eq(s->restart_policy, SYSG_RESTART_NEVER);
	ck_assert_int_eq(s->max_restarts, -1);
	ck_assert_int_eq(s->backoff_ms, SYSG_BACKOFF_MS);
	ck_assert_int_eq(s->stop_timeout_ms, SYSG_STOP_TIMEOUT_MS);
	ck_assert_int_eq(s->ready_after_ms, SYSG_READY_AFTER_MS);
	ck_assert(!s->health.present);
	ck_assert_str_eq(s->deployment.strategy, "immediate");
	ck_assert_uint_eq(s->deployment.nsections, 0);
	ck_assert_uint_eq(s->deployment.noptions, 0);
	ck_assert_ptr_null(s->hooks.on_start.success.command);
	ck_assert(!s->cron.present && !s->spawn.present);
	ck_assert_int_eq(s->spawn.children, -1);
	ck_assert(!s->limits.present && !s->isolation.present);
	ck_assert_int_eq(s->limits.nofile, -1);
	ck_assert_int_eq(s->privileged_mark.line, 0);
	ck_assert_uint_eq(s->ndepends_on, 0);
}

static void check_api_listen(const struct sysg_service *s)
{
	const struct sysg_listen *l = s->listen;

	ck_assert_uint_eq(s->nlisten, 2);
	ck_assert_int_eq(l[0].kind, SYSG_LISTEN_TCP);
	ck_assert_str_eq(l[0].host, "127.0.0.1");
	ck_assert_int_eq(l[0].port, 8000);
	ck_assert_str_eq(l[0].name, "api");     /* default: the service */
	ck_assert_int_eq(l[0].backlog, SYSG_LISTEN_BACKLOG);
	ck_assert_int_eq(l[0].mode, -1);
	ck_assert_int_eq(l[1].kind, SYSG_LISTEN_UNIX);
	ck_assert_str_eq(l[1].path, "/run/api.sock");
	ck_assert_str_eq(l[1].name, "adm");
	ck_assert_int_eq(l[1].backlog, 16);
	ck_assert_int_eq(l[1].mode, 0660);
	ck_assert_str_eq(l[1].owner, "www-data");
}

/* instances: N - the copies NAME.0..N-1, each with SYSG_INSTANCE, the
 * same sockets, and depended on together. */
START_TEST(instances_expand)
{
	struct sysg_config *cfg = load_ok(HEAD
		"  web:\n    command: x\n    instances: 3\n"
		"    listen: \"tcp://127.0.0.1:8080\"\n"
		"  api: { command: y, depends_on: [web] }\n");
	const struct sysg_service *s;

	ck_assert_uint_eq(cfg->nservices, 4);
	for (int k = 0; k < 3; k++) {
		char name[16], env[32];
		int found = 0;

		snprintf(name, sizeof(name), "web.%d", k);
		snprintf(env, sizeof(env), "SYSG_INSTANCE=%d", k);
		s = &cfg->services[k];
		ck_assert_str_eq(s->name, name);
		ck_assert_str_eq(s->instance_of, "web");
		ck_assert_int_eq(s->instances, 3);
		ck_assert_uint_eq(s->nlisten, 1);
		for (char **e = s->envp; *e; e++)
			found |= !strcmp(*e, env);
		ck_assert_msg(found, "%s has no %s", name, env);
	}
	ck_assert_ptr_null(cfg->services[3].instance_of);
	ck_assert_uint_eq(sysg_config_instances(cfg, "web"), 3);
	ck_assert(sysg_config_knows(cfg, "web"));
	ck_assert(!sysg_config_knows(cfg, "nope"));
	ck_assert_int_eq(sysg_config_find_service(cfg, "web"), -1);
	/* api waits for all three */
	ck_assert_uint_eq(cfg->nwaves, 2);
	ck_assert_uint_eq(cfg->wave_sizes[0], 3);
	ck_assert_uint_eq(cfg->waves[1][0], 3);
	sysg_config_free(cfg);
}
END_TEST

START_TEST(full_config)
{
	struct sysg_config *cfg;
	const struct sysg_service *nightly;

	write_env_files(tmp);
	cfg = load_ok(full_yaml);
	ck_assert_str_eq(cfg->path, "t.yaml");
	assert_path(cfg->abs_path, "t.yaml");
	ck_assert_str_eq(cfg->dir, tmp);
	ck_assert_str_eq(cfg->project_dir, tmp);
	ck_assert_str_eq(cfg->version, "1");
	assert_path(cfg->env.file, "common.env");
	ck_assert_uint_eq(cfg->env.nvars, 2);
	ck_assert_str_eq(cfg->env.vars[1].key, "WORKERS");
	ck_assert_str_eq(cfg->env.vars[1].value, "4");
	ck_assert_str_eq(cfg->state_backend, "sqlite");
	assert_path(cfg->state_path, "state/sysg.db");
	ck_assert_uint_eq(cfg->nservices, 4);
	ck_assert_int_eq(sysg_config_find_service(cfg, "api"), 2);
	ck_assert_int_eq(sysg_config_find_service(cfg, "nope"), -1);
	check_defaults(&cfg->services[0]);
	check_api_basics(&cfg->services[2]);
	check_api_env(&cfg->services[2]);
	check_api_hooks(&cfg->services[2].hooks);
	check_api_deployment(&cfg->services[2].deployment);
	check_api_privileged(&cfg->services[2]);
	check_api_listen(&cfg->services[2]);
	nightly = &cfg->services[3];
	ck_assert(sysg_service_is_cron(nightly));
	ck_assert_str_eq(nightly->cron.expression, "0 0 2 * * *");
	ck_assert_str_eq(nightly->cron.timezone, "UTC");
	ck_assert_int_eq(nightly->cron.mark.line, 56);
	ck_assert_uint_eq(cfg->nwaves, 2);
	ck_assert_uint_eq(cfg->wave_sizes[0], 3);
	ck_assert_uint_eq(cfg->wave_sizes[1], 1);
	ck_assert_uint_eq(cfg->waves[1][0], 2);
	sysg_config_free(cfg);
}
END_TEST

START_TEST(minimal_defaults)
{
	struct sysg_config *cfg = load_ok("version: 1\nservices:\n  a:\n    command: \"true\"\n");

	ck_assert_str_eq(cfg->version, "1");
	ck_assert_str_eq(cfg->state_backend, "xml");
	ck_assert_ptr_null(cfg->state_path);
	ck_assert_ptr_null(cfg->env.file);
	ck_assert_str_eq(cfg->project_dir, tmp);
	check_defaults(&cfg->services[0]);
	ck_assert_str_eq(cfg->services[0].command, "true");
	ck_assert_uint_eq(cfg->nwaves, 1);
	sysg_config_free(cfg);
}
END_TEST

START_TEST(shorthands)
{
	struct sysg_config *cfg = load_ok(HEAD
		"  a:\n    command: x\n"
		"  b:\n    command: x\n    depends_on: a\n"
		"    restart_policy: on_failure\n"
		"    skip: \"test -f /nonexistent\"\n"
		"    cron: \"@daily\"\n"
		"    hooks: { on_stop: { success: \"echo bye\" } }\n"
		"    max_restarts: \"3\"\n"
		"    backoff: 2\n"
		"    ready_after: 0.25\n"
		"    capabilities: CAP_KILL\n"
		"    limits: { cgroup: { memory_max: max, cpu_max: \"max 100000\" } }\n"
		"  c:\n    command: x\n    skip: yes\n");
	const struct sysg_service *b = &cfg->services[1];

	ck_assert_uint_eq(b->ndepends_on, 1);
	ck_assert_str_eq(b->depends_on[0], "a");
	ck_assert_int_eq(b->restart_policy, SYSG_RESTART_ON_FAILURE);
	ck_assert_str_eq(b->skip_command, "test -f /nonexistent");
	ck_assert(b->cron.present);
	ck_assert_str_eq(b->cron.expression, "@daily");
	ck_assert_ptr_null(b->cron.timezone);
	ck_assert_str_eq(b->hooks.on_stop.success.command, "echo bye");
	ck_assert_int_eq(b->max_restarts, 3);
	ck_assert_int_eq(b->backoff_ms, 2000);
	ck_assert_int_eq(b->ready_after_ms, 250);
	ck_assert_str_eq(b->capabilities[0], "CAP_KILL");
	ck_assert(b->limits.cgroup.memory_max == SYSG_LIMIT_UNLIMITED);
	ck_assert_int_eq(b->privileged_mark.line, 15);
	ck_assert_int_eq(cfg->services[2].skip, 1);
	sysg_config_free(cfg);
}
END_TEST

START_TEST(anchors_and_merge_keys)
{
	struct sysg_config *cfg = load_ok(HEAD
		"  base: &base\n"
		"    command: \"sleep 1\"\n"
		"    restart_policy: on-failure\n"
		"    backoff: 3s\n"
		"    env: { vars: &vars { A: \"1\", B: \"2\" } }\n"
		"  web:\n"
		"    <<: *base\n"
		"    backoff: 1s\n"
		"    env:\n"
		"      vars:\n"
		"        <<: [*vars, { C: \"3\", A: \"ignored\" }]\n"
		"        B: \"two\"\n"
		"  copy: *base\n");
	const struct sysg_service *web = &cfg->services[1];

	ck_assert_uint_eq(cfg->nservices, 3);
	ck_assert_str_eq(web->command, "sleep 1");
	ck_assert_int_eq(web->restart_policy, SYSG_RESTART_ON_FAILURE);
	ck_assert_int_eq(web->backoff_ms, 1000);
	ck_assert_str_eq(sysg_env_get(web->envp, "A"), "1");
	ck_assert_str_eq(sysg_env_get(web->envp, "B"), "two");
	ck_assert_str_eq(sysg_env_get(web->envp, "C"), "3");
	ck_assert_str_eq(cfg->services[2].command, "sleep 1");
	ck_assert_int_eq(cfg->services[2].backoff_ms, 3000);
	sysg_config_free(cfg);
}
END_TEST

START_TEST(strategy_options)
{
	struct sysg_config *cfg = load_ok(HEAD
		"  a:\n"
		"    command: x\n"
		"    deployment:\n"
		"      canary: { percent: 10, steps: [10, 50, 100], note: ~ }\n"
		"      strategy: canary\n");
	const struct sysg_deployment *d = &cfg->services[0].deployment;

	ck_assert_str_eq(d->strategy, "canary");
	ck_assert_uint_eq(d->noptions, 3);
	ck_assert_str_eq(d->options[0].key, "percent");
	ck_assert_str_eq(d->options[0].value, "10");
	ck_assert_str_eq(d->options[1].value, "10,50,100");
	ck_assert_str_eq(d->options[2].value, "");
	ck_assert_int_eq(d->options_mark.line, 6);
	ck_assert_int_eq(d->options_mark.col, 7);
	ck_assert_int_eq(d->options[0].mark.col, 26);   /* the value's */
	ck_assert_int_eq(d->options[1].mark.col, 37);
	sysg_config_free(cfg);
}
END_TEST

/* ---------------------------------------------------------- environment */

START_TEST(env_merge_order)
{
	struct sysg_config *cfg;
	const struct sysg_service *s;

	setenv("K1", "process", 1);
	setenv("K2", "process", 1);
	free(tu_write_file(tmp, "root.env", "K2=rootfile\nK3=rootfile\n"));
	free(tu_write_file(tmp, "svc.env", "K4=svcfile\nK5=svcfile\n"));
	cfg = load_ok("version: \"1\"\n"
		      "env: { file: root.env, vars: { K3: rootvars, K4: rootvars } }\n"
		      "services:\n"
		      "  s:\n"
		      "    env: { file: svc.env, vars: { K5: svcvars } }\n"
		      "    command: \"echo ${K1} ${K2} ${K3} ${K4} $K5 $${K1}\"\n"
		      "    hooks: { on_start: { success: \"echo ${K5}\" } }\n"
		      "    health_check: { url: \"http://localhost:${K4}/\" }\n"
		      "    deployment: { pre_start: \"echo ${K3}\" }\n"
		      "  plain:\n"
		      "    command: \"echo ${K4}\"\n");
	s = &cfg->services[0];
	/* exec'd directly: sysg expands, "$${K1}" is the text "${K1}" */
	ck_assert_str_eq(s->command,
			 "echo process rootfile rootvars svcfile svcvars '${K1}'");
	/* run by a shell, which expands these from envp */
	ck_assert_str_eq(s->hooks.on_start.success.command, "echo ${K5}");
	ck_assert_str_eq(s->deployment.pre_start, "echo ${K3}");
	ck_assert_str_eq(sysg_env_get(s->envp, "K5"), "svcvars");
	ck_assert_str_eq(sysg_env_get(s->envp, "K3"), "rootvars");
	ck_assert_str_eq(s->health.url, "http://localhost:svcfile/");
	ck_assert_str_eq(cfg->services[1].command, "echo rootvars");
	ck_assert_ptr_null(sysg_env_get(cfg->services[1].envp, "K5"));
	ck_assert_str_eq(sysg_env_get(cfg->services[1].envp, "K1"), "process");
	sysg_config_free(cfg);
	unsetenv("K1");
	unsetenv("K2");
}
END_TEST

/* ---------------------------------------------------------------- paths */

START_TEST(project_dir_resolution)
{
	struct sysg_config *cfg = NULL;
	struct sysg_diag d;
	char *conf_dir = in_tmp("etc"), *path;
	const char *text =
		"version: \"1\"\n"
		"project_dir: ../proj/./app\n"
		"state: { path: run/state }\n"
		"services:\n"
		"  a:\n"
		"    command: x\n"
		"    env: { file: a.env }\n"
		"    deployment: { strategy: blue_green, blue_green: { slots: [1, 2],\n"
		"                  switch_command: s, state_path: /abs/slot.xml } }\n"
		"  b:\n"
		"    command: x\n"
		"    deployment: { blue_green: { slots: [1, 2], switch_command: s, state_path: bg.xml } }\n";

	free(tu_write_file(tmp, "proj/app/a.env", "A=1\n"));
	path = tu_write_file(tmp, "etc/sysg.yaml", text);
	sysg_diag_init(&d);
	ck_assert_int_eq(sysg_config_load(path, &cfg, &d), 0);
	ck_assert_str_eq(cfg->path, path);
	ck_assert_str_eq(cfg->dir, conf_dir);
	assert_path(cfg->project_dir, "proj/app");
	assert_path(cfg->state_path, "proj/app/run/state");
	assert_path(cfg->services[0].env.file, "proj/app/a.env");
	/* strategy settings stay as written: blue_green resolves its
	 * state_path against the project directory the host gives it */
	ck_assert_str_eq(cfg->services[0].deployment.options[2].value,
			 "/abs/slot.xml");
	ck_assert_str_eq(cfg->services[1].deployment.sections[0].options[2].value,
			 "bg.xml");
	ck_assert_str_eq(sysg_env_get(cfg->services[0].envp, "A"), "1");
	sysg_config_free(cfg);
	sysg_diag_free(&d);
	free(conf_dir);
	free(path);
}
END_TEST

START_TEST(relative_path_in_messages)
{
	struct sysg_config *cfg = NULL;
	struct sysg_diag d;
	char *old = getcwd(NULL, 0);

	free(tu_write_file(tmp, "sub/bad.yaml", "version: \"1\"\nservices: []\n"));
	ck_assert_int_eq(chdir(tmp), 0);
	sysg_diag_init(&d);
	ck_assert_int_lt(sysg_config_load("sub/bad.yaml", &cfg, &d), 0);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.lines[0],
			 "sub/bad.yaml:2:11: error: services: expected a map, found a list");
	sysg_diag_free(&d);
	sysg_diag_init(&d);
	ck_assert_int_eq(sysg_config_load("sub/missing.yaml", &cfg, &d), -ENOENT);
	ck_assert_str_eq(d.lines[0],
			 "sub/missing.yaml: error: cannot read the config: No such file or directory");
	sysg_diag_free(&d);
	sysg_diag_init(&d);
	ck_assert_int_lt(sysg_config_load("sub", &cfg, &d), 0);
	ck_assert_uint_eq(d.n, 1);
	sysg_diag_free(&d);
	ck_assert_int_eq(chdir(old), 0);
	free(old);
}
END_TEST

START_TEST(default_file_discovery)
{
	char *p, *old = getcwd(NULL, 0), *want;

	ck_assert_ptr_null(sysg_config_find_default(tmp));
	free(tu_write_file(tmp, "sysg.yaml", "x"));
	p = sysg_config_find_default(tmp);
	want = in_tmp("sysg.yaml");
	ck_assert_str_eq(p, want);
	free(p);
	free(want);
	free(tu_write_file(tmp, "systemg.yaml", "x"));
	p = sysg_config_find_default(tmp);
	want = in_tmp("systemg.yaml");
	ck_assert_str_eq(p, want);
	free(p);
	free(want);
	ck_assert_int_eq(chdir(tmp), 0);
	p = sysg_config_find_default(NULL);
	ck_assert_str_eq(p, "systemg.yaml");
	free(p);
	ck_assert_int_eq(chdir(old), 0);
	free(old);
}
END_TEST

/* ---------------------------------------------------------------- waves */

START_TEST(waves_for_dag)
{
	struct sysg_config *cfg = load_ok(HEAD
		"  web:    { command: x, depends_on: [api] }\n"
		"  api:    { command: x, depends_on: [db, cache, db] }\n"
		"  db:     { command: x }\n"
		"  worker: { command: x, depends_on: [db] }\n"
		"  cache:  { command: x }\n");

	ck_assert_uint_eq(cfg->nwaves, 3);
	ck_assert_uint_eq(cfg->wave_sizes[0], 2);
	ck_assert_uint_eq(cfg->waves[0][0], 2);     /* db */
	ck_assert_uint_eq(cfg->waves[0][1], 4);     /* cache */
	ck_assert_uint_eq(cfg->wave_sizes[1], 2);
	ck_assert_uint_eq(cfg->waves[1][0], 1);     /* api */
	ck_assert_uint_eq(cfg->waves[1][1], 3);     /* worker */
	ck_assert_uint_eq(cfg->wave_sizes[2], 1);
	ck_assert_uint_eq(cfg->waves[2][0], 0);     /* web */
	sysg_config_free(cfg);
}
END_TEST

/* ------------------------------------------------------- invalid configs */

struct bad_case {
	const char *what;
	const char *yaml;
	const char *prefix;     /* "t.yaml:L:C: error: key.path: message" */
	size_t nerrors;         /* 0: do not check the count */
};

static const struct bad_case bad_cases[] = {
	{ "unknown root key, suggestion", "version: \"1\"\nservics:\n  a:\n    command: x\n",
	  "t.yaml:2:1: error: servics: unknown key 'servics' (did you mean 'services'?)", 2 },
	{ "misspelt command", HEAD "  api:\n    comand: x\n",
	  "t.yaml:4:5: error: services.api.comand: unknown key 'comand' (did you mean 'command'?)", 2 },
	{ "unknown hooks key", HEAD "  api:\n    command: x\n    hooks:\n      on_start:\n        sucess: \"echo hi\"\n",
	  "t.yaml:7:9: error: services.api.hooks.on_start.sucess: unknown key 'sucess' (did you mean 'success'?)", 1 },
	{ "command is a list", HEAD "  api:\n    command: [sleep, 1]\n",
	  "t.yaml:4:14: error: services.api.command: expected a string, found a list", 1 },
	{ "command is a map", HEAD "  api:\n    command: {a: 1}\n",
	  "t.yaml:4:14: error: services.api.command: expected a string, found a map", 1 },
	{ "command is empty", HEAD "  api:\n    command: \"  \"\n",
	  "t.yaml:4:14: error: services.api.command: expected a non-empty command", 1 },
	{ "missing command", HEAD "  api:\n    restart_policy: always\n",
	  "t.yaml:3:3: error: services.api.command: required key is missing", 1 },
	{ "service is a string", HEAD "  api: \"sleep 1\"\n",
	  "t.yaml:3:8: error: services.api: expected a map, found 'sleep 1'", 1 },
	{ "missing services", "version: \"1\"\nenv: { vars: { A: b } }\n",
	  "t.yaml:1:1: error: services: required key is missing", 1 },
	{ "empty services", "version: \"1\"\nservices: {}\n",
	  "t.yaml:2:11: error: services: expected at least one service", 1 },
	{ "services is a list", "version: \"1\"\nservices:\n  - a\n  - b\n",
	  "t.yaml:3:3: error: services: expected a map, found a list", 1 },
	{ "missing version", "services:\n  a:\n    command: x\n",
	  "t.yaml:1:1: error: version: required key is missing", 1 },
	{ "bad version", "version: \"2\"\nservices:\n  a:\n    command: x\n",
	  "t.yaml:1:10: error: version: unsupported version '2' (this sysg reads version \"1\")", 1 },
	{ "float version", "version: 1.0\nservices:\n  a:\n    command: x\n",
	  "t.yaml:1:10: error: version: unsupported version '1.0'", 1 },
	{ "unknown dependency (SPEC example)",
	  "version: \"1\"\nservices:\n  postgres:\n    command: \"sleep 100\"\n"
	  "  api:\n    command: \"sleep 100\"\n    depends_on:\n    - postgres\n    - redis\n",
	  "t.yaml:9:7: error: services.api.depends_on[1]: unknown service 'redis'", 1 },
	{ "unknown dependency, suggestion", HEAD "  postgres:\n    command: x\n  api:\n    command: x\n    depends_on: postgress\n",
	  "t.yaml:7:17: error: services.api.depends_on[0]: unknown service 'postgress' (did you mean 'postgres'?)", 1 },
	{ "self dependency", HEAD "  a:\n    command: x\n    depends_on: [a]\n",
	  "t.yaml:5:18: error: services.a.depends_on[0]: service 'a' depends on itself", 1 },
	{ "3-cycle",
	  HEAD "  a:\n    command: x\n    depends_on: [c]\n  b:\n    command: x\n    depends_on: [a]\n"
	  "  c:\n    command: x\n    depends_on: [b]\n  d:\n    command: x\n",
	  "t.yaml:5:18: error: services.a.depends_on[0]: dependency cycle: a -> c -> b -> a", 1 },
	{ "three slots", HEAD "  api:\n    command: x\n    deployment:\n      strategy: blue_green\n"
	  "      blue_green:\n        slots: [\"8000\", \"8001\", \"8002\"]\n        switch_command: echo\n",
	  "t.yaml:8:16: error: services.api.deployment.blue_green.slots: expected exactly two slots, found 3", 1 },
	{ "one slot", HEAD "  api:\n    command: x\n    deployment:\n      blue_green:\n        slots:\n        - \"8000\"\n        switch_command: echo\n",
	  "t.yaml:8:9: error: services.api.deployment.blue_green.slots: expected exactly two slots, found 1", 1 },
	{ "same slot twice", HEAD "  api:\n    command: x\n    deployment:\n      blue_green: { slots: [80, 80], switch_command: echo }\n",
	  "t.yaml:6:28: error: services.api.deployment.blue_green.slots: the two slots must differ", 1 },
	{ "blue_green without switch_command", HEAD "  api:\n    command: x\n    deployment:\n      blue_green:\n        slots: [\"8000\", \"8001\"]\n",
	  "t.yaml:6:7: error: services.api.deployment.blue_green.switch_command: required key is missing", 1 },
	{ "blue_green strategy without section", HEAD "  api:\n    command: x\n    deployment: { strategy: blue_green }\n",
	  "t.yaml:5:29: error: services.api.deployment.strategy: strategy 'blue_green' needs a 'blue_green' section", 1 },
	{ "blue_green typo, its own did-you-mean", HEAD "  api:\n    command: x\n    deployment:\n      blue_green: { slot: [1, 2], switch_command: s }\n",
	  "t.yaml:6:27: error: services.api.deployment.blue_green.slot: unknown key 'slot' (did you mean 'slots'?)", 1 },
	{ "blue_green bad verify url", HEAD "  api:\n    command: x\n    deployment:\n      blue_green: { slots: [1, 2], switch_command: s, switch_verify_url: ftp://x }\n",
	  "t.yaml:6:74: error: services.api.deployment.blue_green.switch_verify_url: expected an http:// or https:// URL, found 'ftp://x'", 1 },
	{ "section of a strategy nobody ships", HEAD "  api:\n    command: x\n    deployment: { nosuch: { a: 1 } }\n",
	  "t.yaml:5:19: error: services.api.deployment.nosuch: strategy 'nosuch': no plugin 'nosuch'", 1 },
	{ "typo of a deployment key holding a map", HEAD "  api:\n    command: x\n    deployment: { helth_check: { url: \"http://x\" } }\n",
	  "t.yaml:5:19: error: services.api.deployment.helth_check: unknown key 'helth_check' (did you mean 'health_check'?)", 1 },
	{ "rolling takes no settings", HEAD "  api:\n    command: x\n    deployment: { strategy: rolling, rolling: { surge: 2 } }\n",
	  "t.yaml:5:56: error: services.api.deployment.rolling.surge: unknown key 'surge'", 1 },
	{ "bad strategy name", HEAD "  api:\n    command: x\n    deployment: { strategy: ../evil }\n",
	  "t.yaml:5:29: error: services.api.deployment.strategy: expected a plugin name (letters, digits, '_', '-'), found '../evil'", 1 },
	{ "bad cron", HEAD "  job:\n    command: x\n    cron: \"61 * * * *\"\n",
	  "t.yaml:5:11: error: services.job.cron: invalid cron expression '61 * * * *': ", 1 },
	{ "bad cron in map", HEAD "  job:\n    command: x\n    cron: { expression: \"* * *\" }\n",
	  "t.yaml:5:25: error: services.job.cron.expression: invalid cron expression '* * *': ", 1 },
	{ "cron map without expression", HEAD "  job:\n    command: x\n    cron: { timezone: UTC }\n",
	  "t.yaml:5:5: error: services.job.cron.expression: required key is missing", 1 },
	{ "bad timezone", HEAD "  job:\n    command: x\n    cron: { expression: \"0 * * * * *\", timezone: \"Mars/Olympus\" }\n",
	  "t.yaml:5:50: error: services.job.cron.timezone: unknown time zone 'Mars/Olympus'", 1 },
	{ "cron with restart always", HEAD "  job:\n    command: x\n    restart_policy: always\n    cron: \"@hourly\"\n",
	  "t.yaml:6:5: error: services.job.cron: a cron job cannot use restart_policy 'always'", 1 },
	{ "bad duration", HEAD "  api:\n    command: x\n    backoff: soon\n",
	  "t.yaml:5:14: error: services.api.backoff: expected a duration like 250ms, 5s, 2m, 1h, found 'soon'", 1 },
	{ "duration is a list", HEAD "  api:\n    command: x\n    stop_timeout: [1s]\n",
	  "t.yaml:5:19: error: services.api.stop_timeout: expected a duration, found a list", 1 },
	{ "negative max_restarts", HEAD "  api:\n    command: x\n    max_restarts: -1\n",
	  "t.yaml:5:19: error: services.api.max_restarts: expected a whole number >= 0, found '-1'", 1 },
	{ "float max_restarts", HEAD "  api:\n    command: x\n    max_restarts: 1.5\n",
	  "t.yaml:5:19: error: services.api.max_restarts: expected a whole number, found '1.5'", 1 },
	{ "junk max_restarts", HEAD "  api:\n    command: x\n    max_restarts: abc\n",
	  "t.yaml:5:19: error: services.api.max_restarts: expected a whole number, found 'abc'", 1 },
	{ "bad restart_policy", HEAD "  api:\n    command: x\n    restart_policy: sometimes\n",
	  "t.yaml:5:21: error: services.api.restart_policy: expected always, on-failure or never, found 'sometimes'", 1 },
	{ "tab indentation", HEAD "  api:\n\tcommand: x\n",
	  "t.yaml:4:1: error: found character that cannot start any token (while scanning for the next token); tabs cannot be used for indentation, use spaces", 1 },
	{ "unclosed quote", HEAD "  api:\n    command: \"sleep 1\n  web:\n    command: x\n",
	  "t.yaml:7:1: error: found unexpected end of stream (while scanning a quoted scalar that started at line 4, column 14)", 1 },
	{ "bad indentation", HEAD "  api:\n    command: x\n   env: {}\n",
	  "t.yaml:5:4: error: did not find expected key (while parsing a block mapping that started at line 3, column 3)", 1 },
	{ "list where map belongs", HEAD "  api:\n    command: x\n    env:\n      - A=1\n",
	  "t.yaml:6:7: error: services.api.env: expected a map, found a list", 1 },
	{ "map where list belongs", HEAD "  api:\n    command: x\n    depends_on: { db: true }\n",
	  "t.yaml:5:17: error: services.api.depends_on: expected a list, found a map", 1 },
	{ "top level is a list", "- version: 1\n",
	  "t.yaml:1:1: error: expected a map with 'version' and 'services' at the top level, found a list", 1 },
	{ "top level is a scalar", "hello\n",
	  "t.yaml:1:1: error: expected a map with 'version' and 'services' at the top level, found 'hello'", 1 },
	{ "binary garbage", "\x80\x81\x82\x83 binary \x01\x02",
	  "t.yaml:1:1: error: invalid leading UTF-8 octet (byte 0x80 at offset 0)", 1 },
	{ "invalid UTF-8 later", HEAD "  api:\n    command: \"caf\xc3\x28\"\n",
	  "t.yaml:4:19: error: invalid trailing UTF-8 octet (byte 0x28 at offset 48); a config must be UTF-8 text", 1 },
	{ "control character", HEAD "  api:\n    command: \"a\x01b\"\n",
	  "t.yaml:4:16: error: control characters are not allowed", 1 },
	{ "empty file", "",
	  "t.yaml:1:1: error: the file is empty; expected a map with 'version' and 'services'", 1 },
	{ "only comments", "# nothing here\n\n   # really\n",
	  "t.yaml:1:1: error: the file is empty", 1 },
	{ "duplicate key", HEAD "  api:\n    command: a\n    command: b\n",
	  "t.yaml:5:5: error: services.api.command: duplicate key 'command' (first defined at line 4)", 1 },
	{ "duplicate service", HEAD "  api:\n    command: a\n  api:\n    command: b\n",
	  "t.yaml:5:3: error: services.api: duplicate key 'api' (first defined at line 3)", 1 },
	{ "missing env file", HEAD "  api:\n    command: x\n    env:\n      file: nope.env\n",
	  "t.yaml:6:7: error: services.api.env.file: cannot read env file '", 1 },
	{ "env file is a device", HEAD "  api:\n    command: x\n    env: { file: /dev/zero }\n",
	  "t.yaml:5:12: error: services.api.env.file: cannot read env file '/dev/zero': not a regular file", 1 },
	{ "env file is a directory", HEAD "  api:\n    command: x\n    env: { file: / }\n",
	  "t.yaml:5:12: error: services.api.env.file: cannot read env file '/': not a regular file", 1 },
	{ "missing root env file", "version: \"1\"\nenv: { file: nope.env }\nservices:\n  a: { command: x }\n  b: { command: x }\n",
	  "t.yaml:2:8: error: env.file: cannot read env file '", 1 },
	{ "health_check with url and command", HEAD "  api:\n    command: x\n    health_check:\n      url: http://localhost/\n      command: \"true\"\n",
	  "t.yaml:5:5: error: services.api.health_check: set either 'command' or 'url', not both", 1 },
	{ "health_check with neither", HEAD "  api:\n    command: x\n    health_check: { interval: 1s }\n",
	  "t.yaml:5:5: error: services.api.health_check: needs a 'command' or a 'url'", 1 },
	{ "health_check bad url", HEAD "  api:\n    command: x\n    health_check: { url: \"localhost:80\" }\n",
	  "t.yaml:5:26: error: services.api.health_check.url: expected an http:// or https:// URL, found 'localhost:80'", 1 },
	{ "health_check zero retries", HEAD "  api:\n    command: x\n    health_check: { url: \"http://x/\", retries: 0 }\n",
	  "t.yaml:5:48: error: services.api.health_check.retries: expected a whole number >= 1, found '0'", 1 },
	{ "bad capability", HEAD "  api:\n    command: x\n    capabilities: [CAP_NET_BIND_SERVIC]\n",
	  "t.yaml:5:20: error: services.api.capabilities[0]: unknown capability 'CAP_NET_BIND_SERVIC' (did you mean 'CAP_NET_BIND_SERVICE'?)", 1 },
	{ "bad nice", HEAD "  api:\n    command: x\n    limits: { nice: 25 }\n",
	  "t.yaml:5:21: error: services.api.limits.nice: expected a whole number from -20 to 19, found '25'", 1 },
	{ "bad cpu", HEAD "  api:\n    command: x\n    limits: { cpu_affinity: [0, -1] }\n",
	  "t.yaml:5:33: error: services.api.limits.cpu_affinity[1]: expected a whole number from 0 to 1023, found '-1'", 1 },
	{ "bad cpu_max", HEAD "  api:\n    command: x\n    limits: { cgroup: { cpu_max: \"lots\" } }\n",
	  "t.yaml:5:34: error: services.api.limits.cgroup.cpu_max: expected \"QUOTA PERIOD\" or \"max PERIOD\"", 1 },
	{ "bad cpu_weight", HEAD "  api:\n    command: x\n    limits: { cgroup: { cpu_weight: 0 } }\n",
	  "t.yaml:5:37: error: services.api.limits.cgroup.cpu_weight: expected a whole number from 1 to 10000, found '0'", 1 },
	{ "bad memlock", HEAD "  api:\n    command: x\n    limits: { memlock: 12Q }\n",
	  "t.yaml:5:24: error: services.api.limits.memlock: expected a size like 512, 64K, 512M, 1G, found '12Q'", 1 },
	{ "bad bool", HEAD "  api:\n    command: x\n    isolation: { network: maybe }\n",
	  "t.yaml:5:27: error: services.api.isolation.network: expected true or false, found 'maybe'", 1 },
	{ "bad skip", HEAD "  api:\n    command: x\n    skip: [true]\n",
	  "t.yaml:5:11: error: services.api.skip: expected true, false or a command, found a list", 1 },
	{ "bad spawn mode", HEAD "  api:\n    command: x\n    spawn: { mode: elastic }\n",
	  "t.yaml:5:20: error: services.api.spawn.mode: expected static or dynamic, found 'elastic'", 1 },
	{ "bad termination policy", HEAD "  api:\n    command: x\n    spawn: { limits: { termination_policy: kill } }\n",
	  "t.yaml:5:44: error: services.api.spawn.limits.termination_policy: expected cascade, orphan or reparent, found 'kill'", 1 },
	{ "multiple documents", HEAD "  a:\n    command: x\n---\nfoo: 1\n",
	  "t.yaml:5:1: error: a second YAML document ('---'); a config holds exactly one", 1 },
	{ "bad service name", HEAD "  \"my api\":\n    command: x\n",
	  "t.yaml:3:3: error: services.my api: invalid service name 'my api'", 1 },
	{ "bad env var name", HEAD "  api:\n    command: x\n    env: { vars: { \"BAD-NAME\": x } }\n",
	  "t.yaml:5:20: error: services.api.env.vars.BAD-NAME: invalid variable name 'BAD-NAME'", 1 },
	{ "env var value is a list", HEAD "  api:\n    command: x\n    env: { vars: { A: [1, 2] } }\n",
	  "t.yaml:5:23: error: services.api.env.vars.A: expected a value (text or a number), found a list", 1 },
	{ "strategy option is a map", HEAD "  api:\n    command: x\n    deployment: { strategy: canary, canary: { steps: { a: 1 } } }\n",
	  "t.yaml:5:54: error: services.api.deployment.canary.steps: expected a value (text or a number), found a map", 1 },
	{ "strategy option list holds a list", HEAD "  api:\n    command: x\n    deployment: { strategy: canary, canary: { steps: [1, [2]] } }\n",
	  "t.yaml:5:58: error: services.api.deployment.canary.steps[1]: expected a value (text or a number), found a list", 1 },
	{ "undefined alias", HEAD "  api:\n    command: *nope\n",
	  "t.yaml:4:14: error: found undefined alias", 1 },
	{ "merge of a scalar", HEAD "  api:\n    <<: 5\n    command: x\n",
	  "t.yaml:4:9: error: services.api: '<<' expects a map or a list of maps, found '5'", 1 },
	{ "key is a list", HEAD "  api:\n    command: x\n    [a, b]: c\n",
	  "t.yaml:5:5: error: services.api: expected a name as key, found a list", 1 },
	{ "bad state backend", "version: \"1\"\nstate: { backend: \"a/b\" }\nservices:\n  a: { command: x }\n",
	  "t.yaml:2:19: error: state.backend: expected a plugin name", 1 },
	{ "project_dir missing", "version: \"1\"\nproject_dir: nowhere\nservices:\n  a: { command: x }\n",
	  "t.yaml:2:14: error: project_dir: '", 1 },
	{ "NUL in a string", HEAD "  api:\n    command: \"a\\0b\"\n",
	  "t.yaml:4:14: error: services.api.command: expected a string, found text with a NUL character", 1 },
	{ "bad env var name in blue_green", HEAD "  api:\n    command: x\n    deployment:\n      blue_green: { env_var: \"1PORT\", slots: [1, 2], switch_command: s }\n",
	  "t.yaml:6:30: error: services.api.deployment.blue_green.env_var: expected a variable name like PORT, found '1PORT'", 1 },
	{ "listen: unknown scheme", HEAD "  api:\n    command: x\n    listen: [ \"udp://1.2.3.4:5\" ]\n",
	  "t.yaml:5:15: error: services.api.listen[0]: 'udp://1.2.3.4:5': expected tcp://HOST:PORT, tcp6://[ADDR]:PORT or unix:/PATH", 1 },
	{ "listen: bad port", HEAD "  api:\n    command: x\n    listen: \"tcp://127.0.0.1:70000\"\n",
	  "t.yaml:5:13: error: services.api.listen: 'tcp://127.0.0.1:70000': expected tcp://HOST:PORT", 1 },
	{ "listen: bad host", HEAD "  api:\n    command: x\n    listen: [ \"tcp://example:80\" ]\n",
	  "t.yaml:5:15: error: services.api.listen[0]: 'tcp://example:80': HOST must be an IPv4 address, '*' or 'localhost'", 1 },
	{ "listen: bad v6", HEAD "  api:\n    command: x\n    listen: [ \"tcp6://[::g]:80\" ]\n",
	  "t.yaml:5:15: error: services.api.listen[0]: 'tcp6://[::g]:80': '::g' is not an IPv6 address", 1 },
	{ "listen: relative unix path", HEAD "  api:\n    command: x\n    listen: [ \"unix:run/x.sock\" ]\n",
	  "t.yaml:5:15: error: services.api.listen[0]: 'unix:run/x.sock': a unix socket needs an absolute path", 1 },
	{ "listen: name with a colon", HEAD "  api:\n    command: x\n    listen: [ { address: \"tcp://*:80\", name: \"a:b\" } ]\n",
	  "t.yaml:5:46: error: services.api.listen[0].name: invalid socket name 'a:b'", 1 },
	{ "listen: mode on tcp", HEAD "  api:\n    command: x\n    listen: [ { address: \"tcp://*:80\", mode: \"0600\" } ]\n",
	  "t.yaml:5:15: error: services.api.listen[0]: 'mode' and 'owner' are for unix sockets", 1 },
	{ "listen: bad mode", HEAD "  api:\n    command: x\n    listen: [ { address: \"unix:/x\", mode: \"rw\" } ]\n",
	  "t.yaml:5:43: error: services.api.listen[0].mode: expected an octal mode such as 0660, found 'rw'", 1 },
	{ "listen: same port twice", HEAD "  api:\n    command: x\n    listen: [ \"tcp://*:80\", \"tcp6://[::]:80\" ]\n",
	  "t.yaml:5:29: error: services.api.listen: 'tcp6://[::]:80' is also bound by service 'api' ('tcp://*:80')", 1 },
	{ "listen: port of another service", HEAD "  api:\n    command: x\n    listen: \"tcp://127.0.0.1:8080\"\n  web:\n    command: y\n    listen: [ \"unix:/a\", \"tcp://*:8080\" ]\n",
	  "t.yaml:8:26: error: services.web.listen: 'tcp://*:8080' is also bound by service 'api' ('tcp://127.0.0.1:8080')", 1 },
	{ "instances: zero", HEAD "  api:\n    command: x\n    instances: 0\n",
	  "t.yaml:5:16: error: services.api.instances:", 1 },
	{ "listen: unknown fd name", HEAD "  api:\n    command: \"x --fd {listen_fd:admin}\"\n    listen: \"tcp://*:80\"\n",
	  "t.yaml:3:3: error: services.api.command: {listen_fd:admin}: no listen socket named 'admin'", 1 },
};

START_TEST(invalid_config)
{
	const struct bad_case *c = &bad_cases[_i];

	expect_error(c->what, c->yaml, c->prefix, c->nerrors);
}
END_TEST

START_TEST(bad_env_file_line)
{
	free(tu_write_file(tmp, "bad.env", "GOOD=1\nTHIS IS BAD\n"));
	/* two services share the bad file: reported once */
	expect_error("bad env file line",
		     HEAD "  a:\n    command: x\n    env: { file: bad.env }\n"
		     "  b:\n    command: x\n    env: { file: bad.env }\n",
		     tmp, 1);
}
END_TEST

START_TEST(bad_env_file_message)
{
	char *prefix;

	free(tu_write_file(tmp, "bad.env", "GOOD=1\nTHIS IS BAD\n"));
	ck_assert_int_ge(asprintf(&prefix, "%s/bad.env:2:", tmp), 0);
	expect_error("bad env file message",
		     HEAD "  a:\n    command: x\n    env: { file: bad.env }\n",
		     prefix, 1);
	free(prefix);
	ck_assert_int_ge(asprintf(&prefix, "%s/bad.env:2:1: error: services.a.env.file: ", tmp), 0);
	expect_error("bad env file message",
		     HEAD "  a:\n    command: x\n    env: { file: bad.env }\n",
		     prefix, 1);
	free(prefix);
}
END_TEST

START_TEST(all_problems_reported)
{
	struct sysg_config *cfg = NULL;
	struct sysg_diag d;
	int rc = load_text("version: \"1\"\n"
			   "services:\n"
			   "  a:\n"
			   "    command: x\n"
			   "    backoff: never\n"
			   "    max_restarts: many\n"
			   "    depends_on: [ghost]\n"
			   "  b:\n"
			   "    restart_policy: sometimes\n"
			   "  c:\n"
			   "    command: x\n"
			   "    colour: blue\n", &cfg, &d);
	char *all = sysg_diag_join(&d);

	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(d.n == 6, "got:\n%s", all);
	ck_assert_str_eq(d.lines[0], "t.yaml:5:14: error: services.a.backoff: expected a duration like 250ms, 5s, 2m, 1h, found 'never'");
	ck_assert_str_eq(d.lines[1], "t.yaml:6:19: error: services.a.max_restarts: expected a whole number, found 'many'");
	ck_assert_str_eq(d.lines[2], "t.yaml:9:21: error: services.b.restart_policy: expected always, on-failure or never, found 'sometimes'");
	ck_assert_str_eq(d.lines[3], "t.yaml:8:3: error: services.b.command: required key is missing");
	ck_assert_str_eq(d.lines[4], "t.yaml:12:5: warning: services.c.colour: unknown key, ignored");
	ck_assert_uint_eq(sysg_diag_count(&d), 5);
	ck_assert_str_eq(d.lines[5], "t.yaml:7:18: error: services.a.depends_on[0]: unknown service 'ghost'");
	free(all);
	sysg_diag_free(&d);
}
END_TEST

START_TEST(diag_cap)
{
	size_t len = 0, cap = 200 * 40 + 64;
	char *text = malloc(cap);
	struct sysg_config *cfg = NULL;
	struct sysg_diag d;

	len += (size_t)sprintf(text, HEAD);
	for (int i = 0; i < 200; i++)
		len += (size_t)sprintf(text + len, "  s%d: { command: x, backoff: z }\n", i);
	ck_assert_int_eq(load_text(text, &cfg, &d), -EINVAL);
	ck_assert_uint_eq(sysg_diag_count(&d), 200);
	ck_assert_uint_eq(d.n, SYSG_DIAG_MAX);
	sysg_diag_free(&d);
	free(text);
}
END_TEST

/* ------------------------------------------------------ hostile input */

/* About 10 MB: N services whose commands are PAD bytes long. */
static char *big_config(size_t nservices, size_t pad, size_t *len)
{
	size_t cap = nservices * (pad + 64) + 64, n;
	char *text = malloc(cap);

	ck_assert_ptr_nonnull(text);
	n = (size_t)sprintf(text, HEAD);
	for (size_t i = 0; i < nservices; i++) {
		n += (size_t)sprintf(text + n, "  s%zu:\n    command: \"echo ", i);
		memset(text + n, 'x', pad);
		n += pad;
		n += (size_t)sprintf(text + n, "\"\n");
	}
	text[n] = '\0';
	*len = n;
	return text;
}

START_TEST(ten_megabytes_valid)
{
	size_t len;
	char *text = big_config(2100, 5000, &len);
	struct sysg_config *cfg = NULL;
	struct sysg_diag d;

	ck_assert_uint_ge(len, 10u << 20);
	sysg_diag_init(&d);
	ck_assert_int_eq(sysg_config_load_buffer("big.yaml", tmp, text, len, &cfg, &d), 0);
	ck_assert_uint_eq(cfg->nservices, 2100);
	ck_assert_uint_eq(strlen(cfg->services[2099].command), 5005);
	sysg_config_free(cfg);
	sysg_diag_free(&d);
	free(text);
}
END_TEST

START_TEST(ten_megabytes_too_many_services)
{
	size_t len;
	char *text = big_config(300000, 5, &len);
	struct sysg_config *cfg = NULL;
	struct sysg_diag d;

	ck_assert_uint_ge(len, 10u << 20);
	sysg_diag_init(&d);
	ck_assert_int_eq(sysg_config_load_buffer("big.yaml", tmp, text, len, &cfg, &d), -EINVAL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.lines[0], "big.yaml:3:3: error: services: too many entries (300000, at most 10000)");
	sysg_diag_free(&d);
	free(text);
}
END_TEST

START_TEST(too_large_file)
{
	size_t len = (32u << 20) + 2;
	char *text = malloc(len), *path;
	struct sysg_config *cfg = NULL;
	struct sysg_diag d;

	memset(text, '#', len);
	path = tu_write_bytes(tmp, "huge.yaml", text, len);
	sysg_diag_init(&d);
	ck_assert_int_eq(sysg_config_load(path, &cfg, &d), -EFBIG);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.lines[0], "the file is too large"));
	sysg_diag_free(&d);
	free(path);
	free(text);
}
END_TEST

/* Nine levels of ten aliases each: a billion entries if expanded naively. */
static char *alias_bomb(const char *use)
{
	size_t cap = 8192, n;
	char *text = malloc(cap);

	n = (size_t)sprintf(text, HEAD "  s0:\n    command: x\n"
			    "    env: { vars: &l0 { A: a, B: b, C: c, D: d, E: e, F: f, G: g, H: h, I: i, J: j } }\n");
	for (int i = 1; i <= 9; i++)
		n += (size_t)sprintf(text + n,
			"  s%d:\n    command: x\n    env: { vars: &l%d { <<: [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d] } }\n",
			i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
			i - 1, i - 1, i - 1);
	n += (size_t)sprintf(text + n, "%s", use);
	return text;
}

START_TEST(alias_bomb_merge)
{
	char *text = alias_bomb("");
	struct sysg_config *cfg = NULL;
	struct sysg_diag d;

	ck_assert_int_eq(load_text(text, &cfg, &d), -EINVAL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.lines[0], "the document has more than 1000000 entries"));
	sysg_diag_free(&d);
	free(text);
}
END_TEST

START_TEST(alias_bomb_lists)
{
	char text[4096];
	struct sysg_config *cfg = NULL;
	struct sysg_diag d;
	size_t n;

	n = (size_t)sprintf(text, "version: \"1\"\nservices:\n  a:\n    command: x\n"
			    "    supplementary_groups: &g0 [a, b, c, d, e, f, g, h, i, j]\n");
	for (int i = 1; i <= 9; i++)
		n += (size_t)sprintf(text + n,
			"  s%d:\n    command: x\n    depends_on: &g%d [*g%d, *g%d, *g%d, *g%d, *g%d, *g%d, *g%d, *g%d, *g%d, *g%d]\n",
			i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
			i - 1, i - 1, i - 1);
	ck_assert_int_eq(load_text(text, &cfg, &d), -EINVAL);
	ck_assert_uint_eq(sysg_diag_count(&d), 90);
	ck_assert_ptr_nonnull(strstr(d.lines[0], "expected a string, found a list"));
	sysg_diag_free(&d);
}
END_TEST

START_TEST(self_merging_anchor)
{
	struct sysg_config *cfg = NULL;
	struct sysg_diag d;

	ck_assert_int_eq(load_text(HEAD "  a: &a\n    command: x\n    <<: *a\n", &cfg, &d), -EINVAL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.lines[0], "merge keys ('<<') nested more than"));
	sysg_diag_free(&d);
}
END_TEST

START_TEST(deep_nesting)
{
	size_t depth = 100000;
	char *text = malloc(2 * depth + 64);
	struct sysg_config *cfg = NULL;
	struct sysg_diag d;
	size_t n;

	ck_assert_ptr_nonnull(text);
	n = (size_t)sprintf(text, HEAD "  a:\n    command: ");
	memset(text + n, '[', depth);
	memset(text + n + depth, ']', depth);
	text[n + 2 * depth] = '\0';
	ck_assert_int_eq(load_text(text, &cfg, &d), -EINVAL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.lines[0], "t.yaml:4:75: error: lists and maps nested more than 64 levels deep");
	sysg_diag_free(&d);
	free(text);
}
END_TEST

/* 100000 anchors used 100000 times: libyaml alone would take minutes. */
START_TEST(many_anchors)
{
	size_t n = 100000, len = 0;
	char *text = malloc(n * 24 + 128);
	struct sysg_config *cfg = NULL;
	struct sysg_diag d;

	len += (size_t)sprintf(text, HEAD "  a:\n    command: x\n    depends_on: [");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "&a%zu x, ", i);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "*a%zu, ", i);
	sprintf(text + len, "]\n");
	ck_assert_int_eq(load_text(text, &cfg, &d), -EINVAL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.lines[0], "error: more than 1000 anchors ('&name')"));
	sysg_diag_free(&d);
	free(text);
}
END_TEST

/* Each service copies the root environment: 5000 x 1000 is refused. */
START_TEST(environment_too_large)
{
	size_t len = 0;
	char *text = malloc(5000 * 40 + 1000 * 20 + 128);
	struct sysg_config *cfg = NULL;
	struct sysg_diag d;

	len += (size_t)sprintf(text, "version: \"1\"\nenv:\n  vars:\n");
	for (int i = 0; i < 1000; i++)
		len += (size_t)sprintf(text + len, "    V%d: x\n", i);
	len += (size_t)sprintf(text + len, "services:\n");
	for (int i = 0; i < 5000; i++)
		len += (size_t)sprintf(text + len, "  s%d: { command: x }\n", i);
	ck_assert_int_eq(load_text(text, &cfg, &d), -EINVAL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.lines[0], "t.yaml: error: env: 5000 services times "));
	sysg_diag_free(&d);
	free(text);
}
END_TEST

/* ------------------------------------------------------------ examples */

static int yaml_name(const struct dirent *e)
{
	size_t l = strlen(e->d_name);

	return l > 5 && !strcmp(e->d_name + l - 5, ".yaml");
}

/* Load and check (as `sysg validate` does) every .yaml file in DIR; each
 * must pass (WANT_OK) or fail. Returns the number of files checked. */
static int check_examples(const char *dir, int want_ok)
{
	struct dirent **list;
	int n = scandir(dir, &list, yaml_name, alphasort);

	ck_assert_msg(n >= 0, "cannot list %s", dir);
	for (int i = 0; i < n; i++) {
		struct sysg_config *cfg = NULL;
		struct sysg_diag d;
		char *path, *all;
		int rc;

		ck_assert_int_ge(asprintf(&path, "%s/%s", dir, list[i]->d_name), 0);
		sysg_diag_init(&d);
		rc = sysg_config_load(path, &cfg, &d);
		if (rc == 0) {  /* then the strategies check their settings */
			struct sysg_plugin_path pp;

			ck_assert_int_eq(sysg_plugin_path_init(&pp, NULL), 0);
			rc = sysg_config_check_plugins(cfg, &pp, NULL, &d);
			sysg_plugin_path_free(&pp);
		}
		all = sysg_diag_join(&d);
		if (want_ok)
			ck_assert_msg(rc == 0, "%s should load:\n%s", path, all);
		else
			ck_assert_msg(rc < 0 && d.n > 0, "%s should fail", path);
		sysg_config_free(cfg);
		sysg_diag_free(&d);
		free(all);
		free(path);
		free(list[i]);
	}
	free(list);
	return n;
}

START_TEST(examples_load)
{
	const char *src = getenv("SYSG_SRCDIR");
	char *good, *bad;

	ck_assert_msg(src != NULL, "SYSG_SRCDIR is not set (make check sets it)");
	ck_assert_int_ge(asprintf(&good, "%s/examples", src), 0);
	ck_assert_int_ge(asprintf(&bad, "%s/examples/bad", src), 0);
	ck_assert_int_ge(check_examples(good, 1), 2);
	ck_assert_int_ge(check_examples(bad, 0), 3);
	free(good);
	free(bad);
}
END_TEST

START_TEST(errf_fills_caller_buffer)
{
	char err[8] = "unset";

	sysg_errf(err, sizeof(err), "%s %d", "port", 8080);
	ck_assert_str_eq(err, "port 80");       /* truncated to fit */
	sysg_errf(err, 0, "%s", "ignored");
	ck_assert_str_eq(err, "port 80");
	sysg_errf(NULL, 64, "%s", "ignored");
}
END_TEST


/* ---------------------------------------------- systemg 0.32 (SPEC 11) */

/* Load TEXT with FLAGS; the diagnostics are left in D. */
static int load_flags(const char *text, unsigned flags,
		      struct sysg_config **cfg, struct sysg_diag *d)
{
	sysg_diag_init(d);
	return sysg_config_load_buffer_flags("t.yaml", tmp, text, strlen(text),
					     flags, cfg, d);
}

static const char *unknown_keys_yaml =
	HEAD
	"  web:\n"
	"    command: \"sleep 1\"\n"
	"    work_dir: /srv\n"
	"    deployment_strategy: rolling\n"
	"    hooks: { on_crash: { success: x } }\n"
	"x-common: { a: 1 }\n";

/* systemg ignores unknown keys: a warning each, the file loads. */
START_TEST(unknown_keys_warn)
{
	struct sysg_config *cfg = NULL;
	struct sysg_diag d;
	char *all;

	ck_assert_int_eq(load_flags(unknown_keys_yaml, 0, &cfg, &d), 0);
	all = sysg_diag_join(&d);
	ck_assert_msg(d.n == 4, "got:\n%s", all);
	ck_assert_str_eq(d.lines[0], "t.yaml:5:5: warning: services.web.work_dir: unknown key, ignored");
	ck_assert_str_eq(d.lines[1], "t.yaml:6:5: warning: services.web.deployment_strategy: unknown key, ignored");
	ck_assert_str_eq(d.lines[2], "t.yaml:7:14: warning: services.web.hooks.on_crash: unknown key, ignored");
	ck_assert_str_eq(d.lines[3], "t.yaml:8:1: warning: x-common: unknown key, ignored");
	ck_assert_uint_eq(sysg_diag_count(&d), 0);
	ck_assert_str_eq(cfg->services[0].command, "sleep 1");
	free(all);
	sysg_diag_free(&d);
	sysg_config_free(cfg);
}
END_TEST

START_TEST(unknown_keys_strict)
{
	struct sysg_config *cfg = (struct sysg_config *)&cfg;
	struct sysg_diag d;
	char *all;

	ck_assert_int_eq(load_flags(unknown_keys_yaml, SYSG_CONFIG_STRICT,
				    &cfg, &d), -EINVAL);
	ck_assert_ptr_null(cfg);
	all = sysg_diag_join(&d);
	ck_assert_msg(sysg_diag_count(&d) == 4, "got:\n%s", all);
	ck_assert_str_eq(d.lines[0], "t.yaml:5:5: error: services.web.work_dir: unknown key 'work_dir' (--strict)");
	free(all);
	sysg_diag_free(&d);
}
END_TEST

/* A key within two edits of a valid one stays an error either way. */
START_TEST(misspelt_keys_fail)
{
	static const char *const cases[][2] = {
		{ HEAD "  web:\n    command: x\n    restart_polcy: always\n",
		  "t.yaml:5:5: error: services.web.restart_polcy: unknown key 'restart_polcy' (did you mean 'restart_policy'?)" },
		{ HEAD "  web:\n    command: x\n    isolation: { privte_tmp: true }\n",
		  "t.yaml:5:18: error: services.web.isolation.privte_tmp: unknown key 'privte_tmp' (did you mean 'private_tmp'?)" },
		{ HEAD "  web:\n    command: x\n    env: { fiel: a.env }\n",
		  "t.yaml:5:12: error: services.web.env.fiel: unknown key 'fiel' (did you mean 'file'?)" },
		{ HEAD "  web:\n    command: x\nmetrics: { retention_minute: 5 }\n",
		  "t.yaml:5:12: error: metrics.retention_minute: unknown key 'retention_minute' (did you mean 'retention_minutes'?)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error("misspelt", cases[i][0], cases[i][1], 1);
}
END_TEST

/* env: { FOO: bar, file: x.env } is env: { vars: { FOO: bar }, file: ... };
 * vars wins on a clash, at the top level and per service. */
START_TEST(flattened_env)
{
	struct sysg_config *cfg;
	const struct sysg_service *s;

	free(tu_write_file(tmp, "x.env", "FROM_FILE=file\nCLASH=file\n"));
	cfg = load_ok("version: \"1\"\n"
		      "env: { ROOT_FLAT: rf, CLASH: flat, vars: { CLASH: vars }, file: x.env }\n"
		      "services:\n"
		      "  a:\n"
		      "    command: \"sleep 1\"\n"
		      "    env:\n"
		      "      vars: { SVC: vars }\n"
		      "      SVC: flat\n"
		      "      PORT: 8000\n"
		      "  b:\n"
		      "    command: \"sleep 1\"\n"
		      "    env: { file: x.env, vars: { V: 1 } }\n");
	s = &cfg->services[0];
	ck_assert_str_eq(sysg_env_get(s->envp, "ROOT_FLAT"), "rf");
	ck_assert_str_eq(sysg_env_get(s->envp, "CLASH"), "vars");
	ck_assert_str_eq(sysg_env_get(s->envp, "FROM_FILE"), "file");
	ck_assert_str_eq(sysg_env_get(s->envp, "SVC"), "vars");
	ck_assert_str_eq(sysg_env_get(s->envp, "PORT"), "8000");
	ck_assert_str_eq(cfg->env.file + strlen(tmp), "/x.env");
	/* the nested form means the same */
	s = &cfg->services[1];
	ck_assert_str_eq(sysg_env_get(s->envp, "CLASH"), "file");
	ck_assert_str_eq(sysg_env_get(s->envp, "V"), "1");
	sysg_config_free(cfg);
}
END_TEST

/* Every value expands, from the service's scope (after env files and
 * vars), keeping its type: numbers, durations, paths, URLs, names. */
START_TEST(expansion_everywhere)
{
	struct sysg_config *cfg;
	const struct sysg_service *s;
	char *sub;

	{ char *pd = in_tmp("proj"); ck_assert_int_eq(mkdir(pd, 0700), 0); free(pd); }
	setenv("SYSG_T_DIR", "proj", 1);
	setenv("SYSG_T_ENV", "e", 1);
	free(tu_write_file(tmp, "proj/e.env", "FILE_PORT=9001\nTRIES=4\n"));
	cfg = load_ok("version: \"1\"\n"
		      "project_dir: \"$SYSG_T_DIR\"\n"
		      "env: { file: \"${SYSG_T_ENV}.env\", vars: { ENVNAME: e, BASE: \"/srv/$ENVNAME\" } }\n"
		      "state: { path: \"${BASE}/state.db\" }\n"
		      "metrics: { retention_minutes: \"$TRIES\", spillover_path: \"$BASE/spill\" }\n"
		      "services:\n"
		      "  web:\n"
		      "    env: { vars: { PORT: \"$FILE_PORT\", WAIT: 3s, WHO: nobody, DEP: db } }\n"
		      "    command: \"serve --port ${PORT}\"\n"
		      "    max_restarts: \"$TRIES\"\n"
		      "    backoff: \"${WAIT}\"\n"
		      "    user: \"$WHO\"\n"
		      "    depends_on: [\"${DEP}\"]\n"
		      "    health_check: { url: \"http://127.0.0.1:${PORT}/health\", retries: $TRIES }\n"
		      "    deployment:\n"
		      "      strategy: blue_green\n"
		      "      blue_green:\n"
		      "        slots: [\"$FILE_PORT\", \"9002\"]\n"
		      "        switch_command: \"switch $PORT to {candidate_slot}\"\n"
		      "        candidate_health_check_url: \"http://127.0.0.1:{slot}/$ENVNAME\"\n"
		      "    cron: { expression: \"0 */$TRIES * * * *\" }\n"
		      "  db:\n"
		      "    command: \"sleep 1\"\n");
	s = &cfg->services[0];
	sub = in_tmp("proj");
	ck_assert_str_eq(cfg->project_dir, sub);
	free(sub);
	ck_assert_str_eq(cfg->state_path, "/srv/e/state.db");
	ck_assert_int_eq(cfg->metrics.retention_minutes, 4);
	ck_assert_str_eq(cfg->metrics.spillover_path, "/srv/e/spill");
	ck_assert_str_eq(s->command, "serve --port 9001");
	ck_assert_int_eq(s->max_restarts, 4);
	ck_assert_int_eq(s->backoff_ms, 3000);
	ck_assert_str_eq(s->user, "nobody");
	ck_assert_int_eq(s->health.retries, 4);
	ck_assert_str_eq(s->health.url, "http://127.0.0.1:9001/health");
	/* blue_green's settings, as the strategy will read them */
	ck_assert_str_eq(s->deployment.options[0].key, "slots");
	ck_assert_str_eq(s->deployment.options[0].value, "9001,9002");
	ck_assert_str_eq(s->deployment.options[1].value,
			 "switch ${PORT} to {candidate_slot}");
	ck_assert_str_eq(s->deployment.options[2].value,
			 "http://127.0.0.1:{slot}/e");
	ck_assert_str_eq(s->cron.expression, "0 */4 * * * *");
	ck_assert_str_eq(s->depends_on[0], "db");
	sysg_config_free(cfg);
	unsetenv("SYSG_T_DIR");
	unsetenv("SYSG_T_ENV");
}
END_TEST

/* An unset variable is an error at the reference, naming it. */
START_TEST(unset_variable_positions)
{
	unsetenv("NOPE");
	expect_error("in a command",
		     HEAD "  web:\n    command: \"serve --port ${NOPE}\"\n",
		     "t.yaml:4:28: error: services.web.command: unset variable 'NOPE'", 1);
	expect_error("second of two",
		     HEAD "  web:\n    command: \"echo $HOME $NOPE\"\n",
		     "t.yaml:4:26: error: services.web.command: unset variable 'NOPE'", 1);
	expect_error("plain scalar, in a hook run by a shell",
		     HEAD "  web:\n    command: x\n    hooks: { on_stop: { error: echo '$NOPE' } }\n",
		     "t.yaml:5:38: error: services.web.hooks.on_stop.error: unset variable 'NOPE'", 1);
	expect_error("block scalar, second line",
		     HEAD "  web:\n    command: x\n    health_check:\n      url: >-\n        http://h/\n        ${NOPE}\n",
		     "t.yaml:8:9: error: services.web.health_check.url: unset variable 'NOPE'", 1);
	expect_error("root key",
		     HEAD "  web:\n    command: x\nproject_dir: \"/x/$NOPE\"\n",
		     "t.yaml:5:18: error: project_dir: unset variable 'NOPE'", 1);
	expect_error("env file path",
		     HEAD "  web:\n    command: x\n    env: { file: \"$NOPE.env\" }\n",
		     "t.yaml:5:19: error: services.web.env.file: unset variable 'NOPE'", 1);
	expect_error("var value",
		     HEAD "  web:\n    command: x\n    env: { vars: { A: \"${NOPE}x\" } }\n",
		     "t.yaml:5:24: error: services.web.env.vars.A: unset variable 'NOPE'", 1);
	expect_error("a number",
		     HEAD "  web:\n    command: x\n    max_restarts: $NOPE\n",
		     "t.yaml:5:19: error: services.web.max_restarts: unset variable 'NOPE'", 1);
	/* another service's variable is not in scope */
	expect_error("other service's var",
		     HEAD "  a:\n    command: \"echo $ONLY_B\"\n  b:\n    command: x\n    env: { ONLY_B: 1 }\n",
		     "t.yaml:4:20: error: services.a.command: unset variable 'ONLY_B'", 1);
}
END_TEST

/* How to write a literal '$': "$$NAME" is the text "$NAME"; other '$'s
 * ($1, $$, $?, a lone $) are text; shells keep "\$X". Values sysg sets at
 * run time (SYSG_*, blue_green's env_var) may be used in commands. */
START_TEST(literal_dollar)
{
	struct sysg_config *cfg;
	const struct sysg_service *s;

	unsetenv("NOPE");
	cfg = load_ok(HEAD
		      "  a:\n"
		      "    command: \"echo $$NOPE costs $5\"\n"
		      "    hooks: { on_stop: { success: \"for f in 1 2; do echo $$f $$ \\\\$NOPE $SYSG_SERVICE_NAME; done\" } }\n"
		      "    health_check: { url: \"http://h/$$NOPE\" }\n"
		      "  b:\n"
		      "    command: \"serve --port $PORT\"\n"
		      "    deployment: { strategy: blue_green, blue_green: { slots: [\"1\", \"2\"], switch_command: \"echo $PORT\" } }\n");
	s = &cfg->services[0];
	ck_assert_str_eq(s->command, "echo $NOPE costs $5");
	ck_assert_str_eq(s->hooks.on_stop.success.command,
			 "for f in 1 2; do echo $f $$ \\$NOPE ${SYSG_SERVICE_NAME}; done");
	ck_assert_str_eq(s->health.url, "http://h/$NOPE");
	/* PORT comes from the strategy: left for the shell */
	ck_assert_str_eq(cfg->services[1].command, "serve --port ${PORT}");
	sysg_config_free(cfg);
}
END_TEST

/* A value is data: never shell code, never YAML. */
START_TEST(hostile_values_stay_data)
{
	struct sysg_config *cfg;
	const struct sysg_service *s;

	free(tu_write_file(tmp, "h.env",
			   "SUBST=$(touch pwned)\nSEMI=a; rm -rf ~\nQUOTE=x' ; touch q; '\nYAML=a\\nb: c\n"));
	cfg = load_ok(HEAD
		      "  a:\n"
		      "    env: { file: h.env }\n"
		      "    command: \"echo ${SUBST} $SEMI \\\"$QUOTE\\\"\"\n"
		      "    hooks: { on_start: { success: \"sh -c 'echo $SUBST' \\\"$SEMI\\\" $QUOTE\" } }\n"
		      "    health_check: { url: \"http://h/$YAML\" }\n");
	s = &cfg->services[0];
	/* sysg expanded for a direct exec: quoted words (split at blanks
	 * outside quotes, as a shell would), never shell syntax */
	ck_assert_str_eq(s->command,
			 "echo '$(touch' 'pwned)' 'a;' rm -rf '~' \"x' ; touch q; '\"");
	/* left for the shell, which expands values as data */
	ck_assert_str_eq(s->hooks.on_start.success.command,
			 "sh -c 'echo ${SUBST}' \"${SEMI}\" ${QUOTE}");
	ck_assert_str_eq(s->health.url, "http://h/a\\nb: c");
	sysg_config_free(cfg);
}
END_TEST

/* isolation's confinement keys (systemg 0.32). */
START_TEST(isolation_keys)
{
	struct sysg_config *cfg = load_ok(HEAD
		"  a:\n"
		"    command: x\n"
		"    isolation: { network: true, seccomp: strict, apparmor_profile: sysg-a,\n"
		"                 selinux_context: \"system_u:system_r:a_t:s0\", private_devices: true, private_tmp: yes }\n");
	const struct sysg_isolation *i = &cfg->services[0].isolation;

	ck_assert(i->present);
	ck_assert_int_eq(i->network, 1);
	ck_assert_str_eq(i->seccomp, "strict");
	ck_assert_str_eq(i->apparmor_profile, "sysg-a");
	ck_assert_str_eq(i->selinux_context, "system_u:system_r:a_t:s0");
	ck_assert_int_eq(i->private_devices, 1);
	ck_assert_int_eq(i->private_tmp, 1);
	sysg_config_free(cfg);
	expect_error("bad private_tmp",
		     HEAD "  a:\n    command: x\n    isolation: { private_tmp: maybe }\n",
		     "t.yaml:5:31: error: services.a.isolation.private_tmp: expected true or false, found 'maybe'", 1);
	expect_error("a slot that would be shell code in switch_command",
		     HEAD "  a:\n    command: x\n    deployment: { strategy: blue_green, blue_green: { switch_command: \"sw {candidate_slot}\", slots: [\"8000\", \"1;reboot\"] } }\n",
		     "t.yaml:5:110: error: services.a.deployment.blue_green.slots[1]: invalid slot '1;reboot'", 0);
	expect_error("empty seccomp",
		     HEAD "  a:\n    command: x\n    isolation: { seccomp: \"\" }\n",
		     "t.yaml:5:27: error: services.a.isolation.seccomp: expected a non-empty string", 1);
}
END_TEST

/* metrics: systemg's defaults and clamps, and sysg's textfile. */
START_TEST(metrics_keys)
{
	struct sysg_config *cfg = load_ok(HEAD "  a:\n    command: x\n");
	const struct sysg_metrics_cfg *m = &cfg->metrics;

	ck_assert_int_eq(m->retention_minutes, 720);
	ck_assert_int_eq(m->sample_interval_secs, 1);
	ck_assert_int_eq(m->max_memory_bytes, 10 << 20);
	ck_assert_ptr_null(m->spillover_path);
	ck_assert_ptr_null(m->textfile);
	sysg_config_free(cfg);
	cfg = load_ok(HEAD "  a:\n    command: x\n"
		      "metrics:\n"
		      "  retention_minutes: 0\n"
		      "  sample_interval_secs: 600\n"
		      "  max_memory_bytes: 1000\n"
		      "  spillover_path: spill\n"
		      "  spillover_max_bytes: 65536\n"
		      "  spillover_segment_bytes: 4096\n"
		      "  textfile: /var/lib/node_exporter/sysg.prom\n");
	m = &cfg->metrics;
	ck_assert_int_eq(m->retention_minutes, 1);      /* at least 1 */
	ck_assert_int_eq(m->sample_interval_secs, 60);  /* 1..60 */
	ck_assert_int_eq(m->max_memory_bytes, 128 << 10);       /* at least */
	ck_assert_str_eq(m->spillover_path + strlen(tmp), "/spill");
	ck_assert_int_eq(m->spillover_max_bytes, 65536);
	ck_assert_int_eq(m->spillover_segment_bytes, 4096);
	ck_assert_str_eq(m->textfile, "/var/lib/node_exporter/sysg.prom");
	sysg_config_free(cfg);
	expect_error("negative",
		     HEAD "  a:\n    command: x\nmetrics: { sample_interval_secs: -1 }\n",
		     "t.yaml:5:34: error: metrics.sample_interval_secs: expected a whole number >= 0, found '-1'", 1);
}
END_TEST

/* ------------------------------------------------------------ equality */

/* Every field of struct sysg_service, in declaration order, and how to
 * change it. When this test fails because the list does not tile the
 * struct any more, a field was added: compare it in sysg_service_equal
 * (config_equal.c), then list it here. (A field of 4 bytes or less that
 * lands in an existing padding hole escapes the tiling check; its
 * mutation row is still needed for the equality to be tested.) */
enum leaf_kind {
	K_NUM,          /* any integer or enum: a bit is flipped */
	K_STR,          /* char *: another string */
	K_STRV,         /* char **, COUNT elements */
	K_KV,           /* struct sysg_kv *, COUNT elements */
	K_INTS,         /* int *, COUNT elements */
	K_SECTIONS,     /* struct sysg_strategy_section *, COUNT elements */
	K_ENVP,         /* NULL-terminated char ** */
	K_SKIP,         /* not compared on purpose (source positions) */
	K_LISTEN,       /* struct sysg_listen *, COUNT elements */
};

struct leaf {
	const char *name;
	size_t off, size, align;
	enum leaf_kind kind;
	size_t count_off;       /* K_STRV, K_KV, K_INTS: the size_t count */
};

#define SVC_M(path) (((struct sysg_service *)0)->path)
#define LEAF(path, kind) \
	{ #path, offsetof(struct sysg_service, path), sizeof(SVC_M(path)), \
	  __alignof__(SVC_M(path)), kind, 0 }
#define ARR(path, kind, count) \
	{ #path, offsetof(struct sysg_service, path), sizeof(SVC_M(path)), \
	  __alignof__(SVC_M(path)), kind, offsetof(struct sysg_service, count) }
#define HEALTH(h) \
	LEAF(h.present, K_NUM), LEAF(h.command, K_STR), LEAF(h.url, K_STR), \
	LEAF(h.interval_ms, K_NUM), LEAF(h.timeout_ms, K_NUM), \
	LEAF(h.retries, K_NUM), LEAF(h.mark, K_SKIP)
#define HOOK(h) LEAF(h.command, K_STR), LEAF(h.timeout_ms, K_NUM)

static const struct leaf service_leaves[] = {
	LEAF(name, K_STR), LEAF(mark, K_SKIP),
	LEAF(file, K_SKIP),
	LEAF(command, K_STR), LEAF(command_raw, K_STR),
	LEAF(env.file, K_STR), LEAF(env.file_mark, K_SKIP),
	ARR(env.vars, K_KV, env.nvars), LEAF(env.nvars, K_NUM),
	LEAF(envp, K_ENVP),
	ARR(depends_on, K_STRV, ndepends_on), LEAF(depends_on_marks, K_SKIP),
	LEAF(ndepends_on, K_NUM),
	LEAF(restart_policy, K_NUM), LEAF(backoff_ms, K_NUM),
	LEAF(max_restarts, K_NUM), LEAF(stop_timeout_ms, K_NUM),
	LEAF(ready_after_ms, K_NUM),
	HEALTH(health),
	LEAF(skip, K_NUM), LEAF(skip_command, K_STR),
	HOOK(hooks.on_start.success), HOOK(hooks.on_start.error),
	HOOK(hooks.on_stop.success), HOOK(hooks.on_stop.error),
	HOOK(hooks.on_restart.success), HOOK(hooks.on_restart.error),
	LEAF(deployment.strategy, K_STR), LEAF(deployment.strategy_mark, K_SKIP),
	LEAF(deployment.pre_start, K_STR),
	HEALTH(deployment.health),
	LEAF(deployment.grace_period_ms, K_NUM),
	LEAF(deployment.drain_ms, K_NUM),
	ARR(deployment.sections, K_SECTIONS, deployment.nsections),
	LEAF(deployment.nsections, K_NUM),
	LEAF(deployment.timeout_ms, K_NUM),
	LEAF(deployment.min_healthy_time_ms, K_NUM),
	/* the configured strategy's section, borrowed from sections */
	LEAF(deployment.options, K_SKIP), LEAF(deployment.noptions, K_SKIP),
	LEAF(deployment.options_mark, K_SKIP),
	LEAF(cron.present, K_NUM), LEAF(cron.expression, K_STR),
	LEAF(cron.timezone, K_STR), LEAF(cron.mark, K_SKIP),
	LEAF(spawn.present, K_NUM), LEAF(spawn.dynamic, K_NUM),
	LEAF(spawn.children, K_NUM), LEAF(spawn.depth, K_NUM),
	LEAF(spawn.descendants, K_NUM), LEAF(spawn.total_memory, K_NUM),
	LEAF(spawn.termination_policy, K_NUM),
	LEAF(user, K_STR), LEAF(group, K_STR),
	ARR(supplementary_groups, K_STRV, nsupplementary_groups),
	LEAF(nsupplementary_groups, K_NUM),
	LEAF(limits.present, K_NUM), LEAF(limits.nofile, K_NUM),
	LEAF(limits.nproc, K_NUM), LEAF(limits.memlock, K_NUM),
	LEAF(limits.core, K_NUM),
	LEAF(limits.has_nice, K_NUM), LEAF(limits.nice, K_NUM),
	ARR(limits.cpu_affinity, K_INTS, limits.ncpu_affinity),
	LEAF(limits.ncpu_affinity, K_NUM),
	LEAF(limits.cgroup.root, K_STR), LEAF(limits.cgroup.memory_max, K_NUM),
	LEAF(limits.cgroup.cpu_max, K_STR), LEAF(limits.cgroup.cpu_weight, K_NUM),
	LEAF(limits.cgroup.pids_max, K_NUM), LEAF(limits.cgroup.mark, K_SKIP),
	ARR(capabilities, K_STRV, ncapabilities), LEAF(ncapabilities, K_NUM),
	LEAF(isolation.present, K_NUM), LEAF(isolation.network, K_NUM),
	LEAF(isolation.pid, K_NUM), LEAF(isolation.mount, K_NUM),
	LEAF(isolation.user, K_NUM),
	LEAF(isolation.seccomp, K_STR), LEAF(isolation.apparmor_profile, K_STR),
	LEAF(isolation.selinux_context, K_STR),
	LEAF(isolation.private_devices, K_NUM),
	LEAF(isolation.private_tmp, K_NUM),
	ARR(listen, K_LISTEN, nlisten), LEAF(nlisten, K_NUM),
	LEAF(readiness_notify, K_NUM), LEAF(watchdog_ms, K_NUM),
	LEAF(unit, K_NUM), LEAF(instances, K_NUM), LEAF(instance_of, K_STR),
	LEAF(workdir, K_STR),
	LEAF(privileged_mark, K_SKIP), LEAF(priv_marks, K_SKIP),
	LEAF(logs.max_size, K_NUM), LEAF(logs.keep, K_NUM),
	LEAF(logs.compress, K_NUM),
	/* where the effective values came from: not part of the definition */
	LEAF(logs.has_max_size, K_SKIP), LEAF(logs.has_keep, K_SKIP),
	LEAF(logs.has_compress, K_SKIP),
	LEAF(project, K_STR),
};

#define NLEAVES (sizeof(service_leaves) / sizeof(service_leaves[0]))
#define MAX_ALIGN 8

START_TEST(service_equal_knows_every_field)
{
	size_t end = 0;

	for (size_t i = 0; i < NLEAVES; i++) {
		const struct leaf *l = &service_leaves[i];

		ck_assert_msg(l->off >= end && l->off - end < MAX_ALIGN &&
			      l->off % l->align == 0,
			      "struct sysg_service: %zu unlisted byte(s) before "
			      "%s: a new field? compare it in sysg_service_equal "
			      "and list it in this test", l->off - end, l->name);
		end = l->off + l->size;
	}
	ck_assert_msg(sizeof(struct sysg_service) >= end &&
		      sizeof(struct sysg_service) - end < MAX_ALIGN,
		      "struct sysg_service: %zu unlisted byte(s) at the end: "
		      "a new field? compare it in sysg_service_equal and list "
		      "it in this test", sizeof(struct sysg_service) - end);
}
END_TEST

/* Change the leaf L of M (a shallow copy: only pointers are replaced). */
static void mutate(struct sysg_service *m, const struct leaf *l)
{
	static char *strv[8] = { "\001a", "\001b", "\001c", "\001d", "\001e",
				 "\001f", "\001g", "\001h" };
	static struct sysg_kv kv[8];
	static int ints[8] = { 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008 };
	static struct sysg_strategy_section sec[8];
	static char *envp[] = { "\001MUTATED=1", NULL };
	static struct sysg_listen lst[8];
	unsigned char *p = (unsigned char *)m + l->off;
	size_t count = l->count_off ?
		       *(size_t *)((unsigned char *)m + l->count_off) : 0;
	void *ptr = NULL;

	ck_assert_uint_le(count, 8);
	for (size_t i = 0; i < 8; i++)
		kv[i] = (struct sysg_kv){ .key = "\001k", .value = "\001v" };
	for (size_t i = 0; i < 8; i++)
		sec[i] = (struct sysg_strategy_section){ .name = "\001s",
			.options = kv, .noptions = 1 };
	switch (l->kind) {
	case K_NUM:
	case K_SKIP:
		p[0] ^= 1;
		return;
	case K_STR:
		ptr = "\001mutated";
		break;
	case K_STRV:
		ptr = strv;
		break;
	case K_KV:
		ptr = kv;
		break;
	case K_INTS:
		ptr = ints;
		break;
	case K_SECTIONS:
		ptr = sec;
		break;
	case K_ENVP:
		ptr = envp;
		break;
	case K_LISTEN:
		for (size_t i = 0; i < count && i < 8; i++) {
			lst[i] = ((struct sysg_listen **)p)[0][i];
			lst[i].address = "\001mutated";
		}
		ptr = lst;
		break;
	}
	memcpy(p, &ptr, sizeof(ptr));
}

START_TEST(service_equal_compares_every_field)
{
	struct sysg_config *cfg;
	struct sysg_service base, m;

	write_env_files(tmp);
	cfg = load_ok(full_yaml);
	base = cfg->services[2];                /* api: nearly every key */
	for (size_t i = 0; i < NLEAVES; i++) {
		const struct leaf *l = &service_leaves[i];

		if (l->count_off)
			ck_assert_msg(*(size_t *)((unsigned char *)&base +
						  l->count_off) > 0,
				      "%s: the base has none to change", l->name);
		m = base;
		ck_assert(sysg_service_equal(&base, &m));
		mutate(&m, l);
		if (l->kind == K_SKIP)
			ck_assert_msg(sysg_service_equal(&base, &m),
				      "%s is compared (a source position)",
				      l->name);
		else
			ck_assert_msg(!sysg_service_equal(&base, &m) &&
				      !sysg_service_equal(&m, &base),
				      "sysg_service_equal ignores %s", l->name);
	}
	sysg_config_free(cfg);
}
END_TEST

static Suite *make_config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *t = tcase_create("load");
	TCase *bad = tcase_create("invalid");
	TCase *hostile = tcase_create("hostile");
	TCase *compat = tcase_create("compat");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, full_config);
	tcase_add_test(t, instances_expand);
	tcase_add_test(t, minimal_defaults);
	tcase_add_test(t, shorthands);
	tcase_add_test(t, anchors_and_merge_keys);
	tcase_add_test(t, strategy_options);
	tcase_add_test(t, env_merge_order);
	tcase_add_test(t, project_dir_resolution);
	tcase_add_test(t, relative_path_in_messages);
	tcase_add_test(t, default_file_discovery);
	tcase_add_test(t, waves_for_dag);
	tcase_add_test(t, examples_load);
	tcase_add_test(t, errf_fills_caller_buffer);
	tcase_add_test(t, service_equal_knows_every_field);
	tcase_add_test(t, service_equal_compares_every_field);
	suite_add_tcase(s, t);

	tcase_add_checked_fixture(bad, setup, teardown);
	tcase_add_loop_test(bad, invalid_config, 0,
			    (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(bad, bad_env_file_line);
	tcase_add_test(bad, bad_env_file_message);
	tcase_add_test(bad, all_problems_reported);
	tcase_add_test(bad, diag_cap);
	suite_add_tcase(s, bad);

	/* Generous: valgrind runs are ~50x slower; a blow-up is far slower. */
	tcase_add_checked_fixture(hostile, setup, teardown);
	tcase_set_timeout(hostile, 120);
	tcase_add_test(hostile, ten_megabytes_valid);
	tcase_add_test(hostile, ten_megabytes_too_many_services);
	tcase_add_test(hostile, too_large_file);
	tcase_add_test(hostile, alias_bomb_merge);
	tcase_add_test(hostile, alias_bomb_lists);
	tcase_add_test(hostile, self_merging_anchor);
	tcase_add_test(hostile, deep_nesting);
	tcase_add_test(hostile, many_anchors);
	tcase_add_test(hostile, environment_too_large);
	suite_add_tcase(s, hostile);

	tcase_add_checked_fixture(compat, setup, teardown);
	tcase_add_test(compat, unknown_keys_warn);
	tcase_add_test(compat, unknown_keys_strict);
	tcase_add_test(compat, misspelt_keys_fail);
	tcase_add_test(compat, flattened_env);
	tcase_add_test(compat, expansion_everywhere);
	tcase_add_test(compat, unset_variable_positions);
	tcase_add_test(compat, literal_dollar);
	tcase_add_test(compat, hostile_values_stay_data);
	tcase_add_test(compat, isolation_keys);
	tcase_add_test(compat, metrics_keys);
	suite_add_tcase(s, compat);
	return s;
}

int main(void)
{
	return tu_run_suite(make_config_suite());
}
