/* children.c - managed children: `sysg start --parent-pid P --name N
 * [--ttl SECS] -- CMD` (SPEC 3, child mode).
 *
 * A child is attached to the service whose process tree contains P and
 * is subject to that service's `spawn` limits. It runs as a job of the
 * supervisor (its own session; reaped by the loop; killed when its TTL
 * expires) and carries the service's instance marker, so stopping or
 * restarting the service takes it down with the rest of the tree. When a
 * managed child exits, its own managed children follow it if the
 * service's termination_policy is cascade. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "config/config.h"
#include "proc/proc.h"
#include "svc.h"

struct sup_child {
	struct sup_child *next;
	struct sysg_supervisor *sup;
	struct svc *owner;
	struct sysg_job job;
	char name[SYSG_NAME_MAX];
	pid_t pid;
	pid_t parent_pid;
	int depth;
	int64_t started_wall;
	int64_t ttl_ms;
	int killed;             /* stopped on purpose (cascade) */
	char *command;
};

static struct sup_child *find_child(struct sysg_supervisor *s, pid_t pid)
{
	for (struct sup_child *c = s->children; c; c = c->next)
		if (c->pid == pid)
			return c;
	return NULL;
}

/* The service whose current tree contains PID, or NULL. */
static struct svc *owner_of(struct sysg_supervisor *s, pid_t pid)
{
	struct sup_child *c = find_child(s, pid);

	if (c)
		return c->owner;
	for (size_t i = 0; i < s->nactive; i++) {
		struct svc *v = s->svcs[i];
		struct sysg_tree_match m;
		struct sysg_pidset tree = { 0 };
		int has;

		if (!svc_is_up(v) || v->pid <= 0)
			continue;
		svc_tree_match(v, &m);
		has = sysg_proctree_collect(&m, &tree) == 0 &&
		      sysg_pidset_has(&tree, pid);
		sysg_pidset_free(&tree);
		if (has)
			return v;
	}
	return NULL;
}

static void child_record(struct sup_child *c, const char *status,
			 int wstatus, const char *reason)
{
	struct sysg_unit_record u;

	if (!c->sup->st)
		return;
	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%.63s/%.63s", c->owner->cfg->name,
		 c->name);
	snprintf(u.kind, sizeof(u.kind), "child");
	snprintf(u.status, sizeof(u.status), "%s", status);
	u.pid = wstatus < 0 ? c->pid : 0;
	u.pgid = u.pid;
	u.started_at_ms = c->started_wall;
	u.updated_at_ms = sysg_wall_ms();
	if (wstatus >= 0 && WIFEXITED(wstatus)) {
		u.has_exit_code = 1;
		u.exit_code = WEXITSTATUS(wstatus);
	} else if (wstatus >= 0 && WIFSIGNALED(wstatus)) {
		u.has_signal = 1;
		u.signal = WTERMSIG(wstatus);
	}
	snprintf(u.reason, sizeof(u.reason), "%s", reason ? reason : "");
	snprintf(u.command, sizeof(u.command), "%s", c->command);
	sysg_state_put_unit(c->sup->st, &u);
}

static void child_free(struct sup_child *c)
{
	struct sup_child **pp;

	for (pp = &c->sup->children; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c->command);
	free(c);
}

/* C exited: its managed children follow it when the policy cascades. */
static void cascade(struct sup_child *c)
{
	for (struct sup_child *k = c->sup->children; k; k = k->next)
		if (k->parent_pid == c->pid && k->job.pid > 0 &&
		    k->owner->cfg->spawn.termination_policy == SYSG_TERM_CASCADE) {
			sysg_log(&c->sup->log, SYSG_LOG_INFO, "Stopping child %s of "
				 "%s: its parent %d exited", k->name,
				 k->owner->cfg->name, (int)c->pid);
			k->killed = 1;
			sysg_job_kill(&k->job);
		}
}

static void child_done(struct sysg_job *j, int status, int timed_out)
{
	struct sup_child *c = j->arg;
	int failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	int with_owner = c->owner->state == ST_STOPPING ||
			 c->owner->state == ST_STOPPED;
	const char *why = timed_out ? "ttl expired" :
			  c->killed ? "its parent exited" :
			  with_owner ? "stopped with its service" : NULL;

	sysg_log(&c->sup->log, SYSG_LOG_INFO, "Child %s of %s (pid %d) %s",
		 c->name, c->owner->cfg->name, (int)c->pid,
		 why ? why : failed ? "failed" : "exited");
	child_record(c, why ? "stopped" : failed ? "failed" : "exited",
		     status, why);
	cascade(c);
	child_free(c);
}

/* Check the owner's spawn limits for a new child of PARENT at DEPTH. */
static int check_limits(struct sysg_supervisor *s, struct svc *v,
			pid_t parent, int depth, char *err, size_t errlen)
{
	const struct sysg_spawn *sp = &v->cfg->spawn;
	int direct = 0, all = 0;

	if (sp->present && !sp->dynamic) {
		sysg_errf(err, errlen, "service %s does not allow children "
			  "(spawn.mode is static)", v->cfg->name);
		return -EPERM;
	}
	for (struct sup_child *c = s->children; c; c = c->next) {
		all += c->owner == v;
		direct += c->parent_pid == parent;
	}
	if (sp->children >= 0 && direct >= sp->children) {
		sysg_errf(err, errlen, "spawn limit reached: pid %d already "
			  "has %d children (spawn.limits.children)",
			  (int)parent, direct);
		return -EDQUOT;
	}
	if (sp->depth >= 0 && depth > sp->depth) {
		sysg_errf(err, errlen, "spawn limit reached: depth %d exceeds "
			  "spawn.limits.depth %d", depth, sp->depth);
		return -EDQUOT;
	}
	if (sp->descendants >= 0 && all >= sp->descendants) {
		sysg_errf(err, errlen, "spawn limit reached: %s already has %d "
			  "managed descendants (spawn.limits.descendants)",
			  v->cfg->name, all);
		return -EDQUOT;
	}
	return 0;
}

/* Total RSS of V's tree against spawn.limits.total_memory. */
static int check_memory(struct sysg_supervisor *s, struct svc *v, char *err,
			size_t errlen)
{
	pid_t pids[512];
	int64_t total = 0, rss;
	int n;

	if (v->cfg->spawn.total_memory < 0)
		return 0;
	n = sysg_supervisor_pids(s, v->cfg->name, pids, 512);
	for (int i = 0; i < n && i < 512; i++)
		if (sysg_proc_rss_bytes(pids[i], &rss) == 0)
			total += rss;
	if (total < v->cfg->spawn.total_memory)
		return 0;
	sysg_errf(err, errlen, "spawn limit reached: %s uses %lld bytes "
		  "(spawn.limits.total_memory %lld)", v->cfg->name,
		  (long long)total, (long long)v->cfg->spawn.total_memory);
	return -EDQUOT;
}

static int launch_child(struct sup_child *c, char *err, size_t errlen)
{
	struct svc *v = c->owner;
	struct sysg_spawn_req req = {
		.command = c->command, .cwd = c->sup->cfg->project_dir,
		.out_fd = v->log_out >= 0 ? v->log_out : SYSG_SPAWN_DEVNULL,
		.err_fd = v->log_err >= 0 ? v->log_err : SYSG_SPAWN_DEVNULL,
		.cgroup_fd = -1,
	};
	char **env = sysg_env_dup(svc_env(v));
	int rc = -ENOMEM;

	/* the service's marker: its teardown takes the child along */
	if (env && v->instance[0] &&
	    sysg_env_set(&env, SYSG_INSTANCE_VAR,
			 sysg_instance_value(v->instance)) == 0 &&
	    sysg_env_set(&env, "SYSG_CHILD_NAME", c->name) == 0) {
		req.envp = env;
		c->job.done = child_done;
		c->job.arg = c;
		rc = sysg_job_spawn(&c->sup->jobs, &c->job, &req, c->ttl_ms,
				    err, errlen);
	} else {
		sysg_errf(err, errlen, "out of memory");
	}
	sysg_env_free(env);
	return rc;
}

static int name_in_use(struct sysg_supervisor *s, struct svc *v,
		       const char *name)
{
	for (struct sup_child *c = s->children; c; c = c->next)
		if (c->owner == v && !strcmp(c->name, name))
			return 1;
	return 0;
}

int sysg_supervisor_spawn_child(struct sysg_supervisor *s, pid_t parent_pid,
				const char *name, int64_t ttl_ms,
				char *const *argv, pid_t *out, char *err,
				size_t errlen)
{
	struct svc *v = owner_of(s, parent_pid);
	struct sup_child *pc = find_child(s, parent_pid), *c;
	int depth = pc ? pc->depth + 1 : 1, rc;

	if (!v) {
		sysg_errf(err, errlen, "no running service's process tree "
			  "contains pid %d", (int)parent_pid);
		return -ESRCH;
	}
	if (!name || !*name || strlen(name) > 63 ||
	    strchr(name, '/') || name_in_use(s, v, name)) {
		sysg_errf(err, errlen, "invalid or duplicate child name '%s'",
			  name ? name : "");
		return -EINVAL;
	}
	rc = check_limits(s, v, parent_pid, depth, err, errlen);
	if (rc == 0)
		rc = check_memory(s, v, err, errlen);
	c = rc == 0 ? calloc(1, sizeof(*c)) : NULL;
	if (c)
		c->command = sysg_cmd_join(argv);
	if (rc == 0 && (!c || !c->command)) {
		sysg_errf(err, errlen, "out of memory");
		rc = -ENOMEM;
	}
	if (rc < 0) {
		if (c)
			free(c->command);
		free(c);
		return rc;
	}
	c->sup = s;
	c->owner = v;
	c->parent_pid = parent_pid;
	c->depth = depth;
	c->ttl_ms = ttl_ms;
	snprintf(c->name, sizeof(c->name), "%s", name);
	rc = launch_child(c, err, errlen);
	if (rc < 0) {
		free(c->command);
		free(c);
		return rc;
	}
	c->pid = c->job.pid;
	c->started_wall = sysg_wall_ms();
	c->next = s->children;
	s->children = c;
	sysg_log(&s->log, SYSG_LOG_INFO, "Started child %s of %s (pid %d, "
		 "parent %d%s)", name, v->cfg->name, (int)c->pid,
		 (int)parent_pid, ttl_ms > 0 ? ", with a TTL" : "");
	child_record(c, "running", -1, NULL);
	*out = c->pid;
	return 0;
}

size_t sysg_supervisor_children(const struct sysg_supervisor *s,
				const char *service,
				struct sysg_child_info *out, size_t max)
{
	size_t n = 0;

	for (struct sup_child *c = s->children; c; c = c->next) {
		if (service && strcmp(c->owner->cfg->name, service))
			continue;
		if (n < max) {
			struct sysg_child_info *i = &out[n];

			memset(i, 0, sizeof(*i));
			snprintf(i->name, sizeof(i->name), "%s", c->name);
			snprintf(i->service, sizeof(i->service), "%s",
				 c->owner->cfg->name);
			i->pid = c->pid;
			i->parent_pid = c->parent_pid;
			i->depth = c->depth;
			i->started_wall_ms = c->started_wall;
			i->ttl_ms = c->ttl_ms;
			snprintf(i->command, sizeof(i->command), "%s", c->command);
		}
		n++;
	}
	return n;
}

void sup_children_free(struct sysg_supervisor *s)
{
	while (s->children) {
		struct sup_child *c = s->children;

		sysg_job_cancel(&c->job);
		child_free(c);
	}
}
