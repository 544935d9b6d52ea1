/* config_equal.c - when two service definitions are the same (config.h).
 *
 * The one owner of this fact: a reload keeps an unchanged service's
 * process, the control plane reports which services a reload changes.
 * tests/check_config.c fails when struct sysg_service gains a field that
 * is not compared here. */
#include <string.h>

#include "config.h"

static int str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static int strv_eq(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (!str_eq(a[i], b[i]))
			return 0;
	return 1;
}

/* NULL-terminated string arrays (environments). */
static int envp_eq(char *const *a, char *const *b)
{
	size_t i = 0;

	if (!a || !b)
		return a == b;
	for (; a[i] && b[i]; i++)
		if (strcmp(a[i], b[i]))
			return 0;
	return !a[i] && !b[i];
}

static int kv_eq(const struct sysg_kv *a, size_t na, const struct sysg_kv *b,
		 size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (!str_eq(a[i].key, b[i].key) || !str_eq(a[i].value, b[i].value))
			return 0;
	return 1;
}

static int env_spec_eq(const struct sysg_env_spec *a,
		       const struct sysg_env_spec *b)
{
	return str_eq(a->file, b->file) &&
	       kv_eq(a->vars, a->nvars, b->vars, b->nvars);
}

static int hook_eq(const struct sysg_hook *a, const struct sysg_hook *b)
{
	return str_eq(a->command, b->command) && a->timeout_ms == b->timeout_ms;
}

static int hooks_eq(const struct sysg_hooks *a, const struct sysg_hooks *b)
{
	const struct sysg_hook_pair *pa[] = {
		&a->on_start, &a->on_stop, &a->on_restart,
	};
	const struct sysg_hook_pair *pb[] = {
		&b->on_start, &b->on_stop, &b->on_restart,
	};

	for (int i = 0; i < 3; i++)
		if (!hook_eq(&pa[i]->success, &pb[i]->success) ||
		    !hook_eq(&pa[i]->error, &pb[i]->error))
			return 0;
	return 1;
}

static int health_eq(const struct sysg_health *a, const struct sysg_health *b)
{
	return a->present == b->present && str_eq(a->command, b->command) &&
	       str_eq(a->url, b->url) && a->interval_ms == b->interval_ms &&
	       a->timeout_ms == b->timeout_ms && a->retries == b->retries;
}

static int sections_eq(const struct sysg_deployment *a,
		       const struct sysg_deployment *b)
{
	if (a->nsections != b->nsections)
		return 0;
	for (size_t i = 0; i < a->nsections; i++)
		if (!str_eq(a->sections[i].name, b->sections[i].name) ||
		    !kv_eq(a->sections[i].options, a->sections[i].noptions,
			   b->sections[i].options, b->sections[i].noptions))
			return 0;
	return 1;
}

static int deployment_eq(const struct sysg_deployment *a,
			 const struct sysg_deployment *b)
{
	return str_eq(a->strategy, b->strategy) &&
	       str_eq(a->pre_start, b->pre_start) &&
	       health_eq(&a->health, &b->health) &&
	       a->grace_period_ms == b->grace_period_ms &&
	       a->drain_ms == b->drain_ms &&
	       a->timeout_ms == b->timeout_ms &&
	       a->min_healthy_time_ms == b->min_healthy_time_ms &&
	       sections_eq(a, b);
}

static int cron_eq(const struct sysg_cron *a, const struct sysg_cron *b)
{
	return a->present == b->present && str_eq(a->expression, b->expression) &&
	       str_eq(a->timezone, b->timezone);
}

static int spawn_eq(const struct sysg_spawn *a, const struct sysg_spawn *b)
{
	return a->present == b->present && a->dynamic == b->dynamic &&
	       a->children == b->children && a->depth == b->depth &&
	       a->descendants == b->descendants &&
	       a->total_memory == b->total_memory &&
	       a->termination_policy == b->termination_policy;
}

static int ints_eq(const int *a, size_t na, const int *b, size_t nb)
{
	return na == nb && (!na || !memcmp(a, b, na * sizeof(*a)));
}

static int limits_eq(const struct sysg_limits *a, const struct sysg_limits *b)
{
	return a->present == b->present && a->nofile == b->nofile &&
	       a->nproc == b->nproc && a->memlock == b->memlock &&
	       a->core == b->core && a->cgroup.pids_max == b->cgroup.pids_max &&
	       a->has_nice == b->has_nice && a->nice == b->nice &&
	       ints_eq(a->cpu_affinity, a->ncpu_affinity, b->cpu_affinity,
		       b->ncpu_affinity) &&
	       str_eq(a->cgroup.root, b->cgroup.root) &&
	       a->cgroup.memory_max == b->cgroup.memory_max &&
	       str_eq(a->cgroup.cpu_max, b->cgroup.cpu_max) &&
	       a->cgroup.cpu_weight == b->cgroup.cpu_weight;
}

static int isolation_eq(const struct sysg_isolation *a,
			const struct sysg_isolation *b)
{
	return a->present == b->present && a->network == b->network &&
	       a->pid == b->pid && a->mount == b->mount && a->user == b->user &&
	       str_eq(a->seccomp, b->seccomp) &&
	       str_eq(a->apparmor_profile, b->apparmor_profile) &&
	       str_eq(a->selinux_context, b->selinux_context) &&
	       a->private_devices == b->private_devices &&
	       a->private_tmp == b->private_tmp;
}

static int listen_eq(const struct sysg_service *a,
		     const struct sysg_service *b)
{
	if (a->nlisten != b->nlisten)
		return 0;
	for (size_t i = 0; i < a->nlisten; i++)
		if (!sysg_listen_same(&a->listen[i], &b->listen[i]) ||
		    !str_eq(a->listen[i].name, b->listen[i].name))
			return 0;
	return 1;
}

static int process_eq(const struct sysg_service *a,
		      const struct sysg_service *b)
{
	return str_eq(a->command, b->command) &&
	       str_eq(a->command_raw, b->command_raw) &&
	       env_spec_eq(&a->env, &b->env) && envp_eq(a->envp, b->envp) &&
	       str_eq(a->user, b->user) && str_eq(a->group, b->group) &&
	       strv_eq(a->supplementary_groups, a->nsupplementary_groups,
		       b->supplementary_groups, b->nsupplementary_groups) &&
	       limits_eq(&a->limits, &b->limits) &&
	       strv_eq(a->capabilities, a->ncapabilities, b->capabilities,
		       b->ncapabilities) &&
	       isolation_eq(&a->isolation, &b->isolation) && listen_eq(a, b);
}

static int policy_eq(const struct sysg_service *a,
		     const struct sysg_service *b)
{
	return strv_eq(a->depends_on, a->ndepends_on, b->depends_on,
		       b->ndepends_on) &&
	       a->restart_policy == b->restart_policy &&
	       a->backoff_ms == b->backoff_ms &&
	       a->max_restarts == b->max_restarts &&
	       a->stop_timeout_ms == b->stop_timeout_ms &&
	       a->ready_after_ms == b->ready_after_ms &&
	       a->logs.max_size == b->logs.max_size &&
	       a->logs.keep == b->logs.keep &&
	       a->logs.compress == b->logs.compress &&
	       health_eq(&a->health, &b->health) && a->skip == b->skip &&
	       a->readiness_notify == b->readiness_notify &&
	       a->watchdog_ms == b->watchdog_ms && a->unit == b->unit &&
	       a->instances == b->instances &&
	       str_eq(a->instance_of, b->instance_of) &&
	       str_eq(a->workdir, b->workdir) &&
	       str_eq(a->project, b->project) &&
	       str_eq(a->skip_command, b->skip_command);
}

int sysg_service_equal(const struct sysg_service *a,
			const struct sysg_service *b)
{
	return str_eq(a->name, b->name) && process_eq(a, b) &&
	       policy_eq(a, b) && hooks_eq(&a->hooks, &b->hooks) &&
	       deployment_eq(&a->deployment, &b->deployment) &&
	       cron_eq(&a->cron, &b->cron) && spawn_eq(&a->spawn, &b->spawn);
}

int sysg_config_same_context(const struct sysg_config *a,
			     const struct sysg_config *b)
{
	return str_eq(a->project_dir, b->project_dir);
}
