/* stopper.c - supervisor-less stop (see stopper.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "proc/proc.h"
#include "stopper.h"
#include "supervisor.h"

static int add_pid_name(void *arg, const char *name, int64_t pid)
{
	(void)pid;
	sysg_strset_add(arg, name);
	return 0;
}

static int add_unit_name(void *arg, const struct sysg_unit_record *u)
{
	if (strcmp(u->kind, "cron"))
		sysg_strset_add(arg, u->name);
	return 0;
}

/* The services named by the marker of any live process of this state
 * directory: even one whose record was lost is stopped. */
static void add_marked_names(const struct sysg_stop_req *r,
			     struct sysg_strset *ns)
{
	char prefix[SYSG_INSTANCE_MAX], name[SYSG_NAME_MAX];
	struct sysg_tree_match m = { .marker = prefix, .marker_prefix = 1 };
	struct sysg_pidset all = { 0 };

	sysg_instance_dir_prefix(r->state_dir, prefix, sizeof(prefix));
	if (sysg_proctree_collect(&m, &all) < 0) {
		sysg_pidset_free(&all);
		return;
	}
	for (size_t i = 0; i < all.n; i++)
		if (sysg_instance_service(r->state_dir, all.v[i].pid, name,
					  sizeof(name)) == 0)
			sysg_strset_add(ns, name);
	sysg_pidset_free(&all);
}

/* Configured services in reverse dependency order (the config's start
 * waves, last first), then recorded ones. */
static int collect_names(const struct sysg_stop_req *r,
			 struct sysg_strset *ns)
{
	const struct sysg_config *cfg = r->cfg;
	int rc = 0;

	if (r->leftovers_only) {
		add_marked_names(r, ns);
		return 0;
	}
	for (size_t k = cfg ? cfg->nwaves : 0; rc == 0 && k-- > 0;)
		for (size_t i = 0; rc == 0 && i < cfg->wave_sizes[k]; i++)
			rc = sysg_strset_add(ns,
					     cfg->services[cfg->waves[k][i]].name);
	if (rc == 0) {
		sysg_state_list_pids(r->st, add_pid_name, ns);
		sysg_state_list_units(r->st, add_unit_name, ns);
		add_marked_names(r, ns);
	}
	return rc;
}

static int64_t stop_timeout(const struct sysg_stop_req *r, const char *name)
{
	int i = r->cfg ? sysg_config_find_service(r->cfg, name) : -1;

	return i >= 0 ? r->cfg->services[i].stop_timeout_ms :
	       SYSG_STOP_TIMEOUT_MS;
}

/* 1 when live PID runs NAME's configured command, as itself or under
 * `sh -c` (an instance systemg or a user recorded in pid.xml: it has no
 * marker of ours). */
static int runs_command(const struct sysg_stop_req *r, const char *name,
			pid_t pid)
{
	int i = r->cfg ? sysg_config_find_service(r->cfg, name) : -1;

	return i >= 0 && sysg_proc_runs_command(pid, r->cfg->services[i].command);
}

/* The recorded main pid, if it is still that process. */
static pid_t verified_main(const struct sysg_stop_req *r, const char *name,
			   const char *prefix, struct sysg_unit_record *u,
			   int have_u)
{
	int64_t mapped = 0;
	struct sysg_pidset s = { 0 };
	struct sysg_tree_match m = { .marker = prefix, .marker_prefix = 1 };
	pid_t main = 0;

	if (have_u && u->pid > 0 && sysg_proc_is_alive((pid_t)u->pid,
						       u->start_ticks))
		main = (pid_t)u->pid;
	if (sysg_state_get_pid(r->st, name, &mapped) < 0 || mapped <= 0 ||
	    mapped == main || !sysg_proc_is_alive((pid_t)mapped, 0))
		return main;
	/* pid.xml names another live process: only trust it if it is ours,
	 * or runs the service's command and is not a pid the record shows
	 * reused */
	m.main_pid = 0;
	m.marker_ppid = 0;
	if (sysg_proctree_collect(&m, &s) == 0 &&
	    sysg_pidset_has(&s, (pid_t)mapped) && !main)
		main = (pid_t)mapped;
	else if (!main && !(have_u && u->pid == mapped && u->start_ticks) &&
		 runs_command(r, name, (pid_t)mapped))
		main = (pid_t)mapped;
	else if (!sysg_pidset_has(&s, (pid_t)mapped) && r->out)
		fprintf(r->out, "%s: pid %lld in the pid file is not %s's "
			"process; leaving it alone\n", name, (long long)mapped,
			name);
	sysg_pidset_free(&s);
	return main;
}

static void forget(const struct sysg_stop_req *r, const char *name,
		   struct sysg_unit_record *u, int have_u)
{
	sysg_state_set_pid(r->st, name, 0);
	if (!have_u)
		return;
	snprintf(u->status, sizeof(u->status), "stopped");
	u->pid = 0;
	u->pgid = 0;
	u->start_ticks = 0;
	u->updated_at_ms = sysg_wall_ms();
	sysg_state_put_unit(r->st, u);
}

static int stop_one(const struct sysg_stop_req *r, const char *name,
		    char *err, size_t errlen)
{
	struct sysg_unit_record u;
	int have_u = sysg_state_get_unit(r->st, name, &u) == 0;
	char prefix[SYSG_INSTANCE_MAX], cg[SYSG_CGROUP_PATH_MAX];
	struct sysg_tree_match m = { .marker = prefix, .marker_prefix = 1 };
	struct sysg_proc_stat ps;
	struct sysg_pidset found = { 0 };
	int rc, killed = 0;

	sysg_instance_prefix(r->state_dir, name, prefix, sizeof(prefix));
	m.main_pid = verified_main(r, name, prefix, &u, have_u);
	if (m.main_pid > 0 && sysg_proc_stat_read(m.main_pid, &ps) == 0 &&
	    ps.sid == m.main_pid)
		m.sid = m.pgid = m.main_pid;
	if (m.main_pid > 0 && sysg_cgroup_of_pid(m.main_pid, cg, sizeof(cg)) == 0 &&
	    sysg_instance_owns_cgroup(r->state_dir, cg))
		m.cgroup = cg;
	sysg_proctree_collect(&m, &found);
	rc = sysg_proctree_stop_sync(&m, stop_timeout(r, name), &killed);
	if (r->out)
		fprintf(r->out, found.n ? "%s: stopped%s\n" :
			"%s: not running%s\n", name, killed ?
			" (SIGKILL after the stop timeout)" : "");
	sysg_pidset_free(&found);
	if (rc < 0)
		sysg_errf(err, errlen, "%s: processes survive SIGKILL", name);
	forget(r, name, &u, have_u);
	if (m.cgroup && sysg_cgroup_remove(cg) == 0) {
		/* and the supervisor's sysg.<hash> group, once empty */
		char *slash = strrchr(cg, '/');

		*slash = '\0';
		sysg_cgroup_remove(cg);
	}
	return rc;
}

static int known_service(const struct sysg_stop_req *r, const char *name)
{
	struct sysg_unit_record u;
	int64_t pid;

	return (r->cfg && sysg_config_find_service(r->cfg, name) >= 0) ||
	       sysg_state_get_unit(r->st, name, &u) == 0 ||
	       sysg_state_get_pid(r->st, name, &pid) == 0;
}

int sysg_stop_offline(const struct sysg_stop_req *r, char *err,
		      size_t errlen)
{
	struct sysg_strset ns = { 0 };
	int rc = 0, first = 0;

	err[0] = '\0';
	if (r->service) {
		if (!known_service(r, r->service)) {
			sysg_config_unknown_service(r->cfg, r->service, err,
						    errlen);
			return -ENOENT;
		}
		return stop_one(r, r->service, err, errlen);
	}
	if (collect_names(r, &ns) < 0) {
		sysg_strset_free(&ns);
		sysg_errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < ns.n; i++) {
		rc = stop_one(r, ns.v[i], err, errlen);
		if (rc < 0 && !first)
			first = rc;
	}
	sysg_strset_free(&ns);
	return first;
}
