/* adopt.c - take over the services of a supervisor that died (SPEC 5).
 *
 * The unit records say which process each service ran. One is taken over
 * only when all of these hold: its pid is alive, it started at the
 * recorded time (so a reused pid is never mistaken for it), and its
 * initial environment carries this state directory's SYSG_INSTANCE marker
 * for that service. It is not our child, so no SIGCHLD will tell us it
 * exited: a pidfd (pidfd_open(2)) watched by the loop does, and its exit
 * status stays unknown. Its descendants are found as for any run
 * (session, cgroup, marker, ppid closure), except that the marker is
 * looked for in every process: those that escaped were re-parented to
 * whoever reaped for the dead supervisor, not to us.
 *
 * Processes that still carry a service's marker while its main process is
 * gone are leftovers of a run nobody supervises: they are stopped before
 * the service is started again, so nothing runs twice.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "svc.h"

#define EXIT_POLL_MS 250        /* without pidfd_open (Linux < 5.3) */

/* ------------------------------------------------------------------ */
/* Exit notification for processes that are not our children          */
/* ------------------------------------------------------------------ */

/* An adopted process may be our child after all (a live upgrade kept
 * the supervisor's pid): then its status is there to reap. */
static void on_exit_fd(struct sysg_io *io, uint32_t events)
{
	struct svc *v = io->arg;
	int status;

	(void)events;
	if (v->pid > 0 && waitpid(v->pid, &status, WNOHANG) == v->pid)
		svc_main_exited(v, status);
	else
		svc_main_exited(v, -1);
}

static void on_exit_poll(struct sysg_timer *t)
{
	struct svc *v = t->arg;

	if (sysg_proc_is_alive(v->pid, v->ticks)) {
		sysg_timer_start(v->sup->loop, t, EXIT_POLL_MS, on_exit_poll, v);
		return;
	}
	svc_main_exited(v, -1);
}

int svc_watch_exit(struct svc *v)
{
	int fd;

	svc_unwatch_exit(v);
	fd = sysg_pidfd_open(v->pid);
	if (fd < 0 && errno == ESRCH)
		return -ESRCH;
	if (fd >= 0) {
		v->exit_io.fd = fd;
		v->exit_io.cb = on_exit_fd;
		v->exit_io.arg = v;
		if (sysg_loop_io_add(v->sup->loop, &v->exit_io, EPOLLIN) == 0) {
			v->pidfd = fd;
			return 0;
		}
		close(fd);
	}
	sysg_timer_start(v->sup->loop, &v->exit_poll, EXIT_POLL_MS,
			 on_exit_poll, v);
	return 0;
}

void svc_unwatch_exit(struct svc *v)
{
	if (v->pidfd >= 0) {
		sysg_loop_io_del(v->sup->loop, &v->exit_io);
		close(v->pidfd);
		v->pidfd = -1;
	}
	sysg_timer_stop(v->sup->loop, &v->exit_poll);
}

/* ------------------------------------------------------------------ */
/* Recognising our processes                                           */
/* ------------------------------------------------------------------ */

static void adopt_cgroup(struct svc *v, pid_t pid)
{
	char cg[sizeof(v->cgroup)];

	v->cgroup[0] = '\0';
	if (sysg_cgroup_of_pid(pid, cg, sizeof(cg)) == 0 &&
	    sysg_instance_owns_cgroup(v->sup->state_dir, cg))
		snprintf(v->cgroup, sizeof(v->cgroup), "%s", cg);
}

/* 1 when the record says the previous supervisor had a process up. */
static int claims_process(const struct sysg_unit_record *u)
{
	switch (sysg_status_parse(u->status)) {
	case SYSG_STATUS_RUNNING: case SYSG_STATUS_STARTING:
	case SYSG_STATUS_BACKOFF: case SYSG_STATUS_STOPPING:
		return u->pid > 0;
	default:
		return 0;
	}
}

/* 1 when U's pid is alive, is the recorded process and carries V's
 * marker (copied to MARKER). */
static int is_ours(const struct svc *v, const struct sysg_unit_record *u,
		   char *marker, size_t len)
{
	char prefix[SYSG_INSTANCE_MAX];

	if (!claims_process(u) ||
	    !sysg_proc_is_alive((pid_t)u->pid, u->start_ticks))
		return 0;
	sysg_instance_prefix(v->sup->state_dir, v->cfg->name, prefix,
			     sizeof(prefix));
	if (sysg_proc_environ_find((pid_t)u->pid, prefix, marker, len) == 0)
		return 1;
	sysg_instance_prefix_old(v->sup->state_dir, v->cfg->name, prefix,
				 sizeof(prefix));
	return sysg_proc_environ_find((pid_t)u->pid, prefix, marker, len) == 0;
}

/* ------------------------------------------------------------------ */
/* Taking over                                                         */

/* What PID really runs when that is not CMD (its command line, which an
 * `exec` inside a shell command also yields), else NULL. */
static char *real_command(pid_t pid, const char *cmd)
{
	char line[SYSG_COMMAND_MAX];

	if (sysg_proc_cmdline(pid, line, sizeof(line)) < 0 || !line[0] ||
	    sysg_proc_runs_command(pid, cmd) || strstr(cmd, line))
		return NULL;
	return strdup(line);
}

/* ------------------------------------------------------------------ */

static void restore_history(struct svc *v, const struct sysg_unit_record *u)
{
	int64_t age;

	v->started_wall = u->started_at_ms > 0 ? u->started_at_ms :
			  sysg_wall_ms();
	age = sysg_wall_ms() - v->started_wall;
	v->started_mono = sysg_now_ms() - (age > 0 ? age : 0);
	v->ready_mono = sysg_now_ms();
	v->restarts = u->restarts;
	v->has_exit = u->has_exit_code;
	v->exit_code = u->exit_code;
	v->has_signal = u->has_signal;
	v->signo = u->signal;
	v->reason[0] = '\0';
}

/* The listening sockets (`listen:`) the dead supervisor held are still
 * held by the run: take them back, so that the next restart or deploy
 * hands the same socket over and no connection is refused. */
static void take_sockets(struct svc *v)
{
	char err[SYSG_ERR_MAX];
	int n;

	if (!v->cfg->nlisten || v->nsockets)
		return;
	n = svc_sockets_recover(v, err, sizeof(err));
	if (n < 0)
		svc_log(v, SYSG_LOG_WARN, "Service %s: %s; its next restart "
			"binds its sockets again", v->cfg->name, err);
	else if (n > 0)
		svc_log(v, SYSG_LOG_INFO, "Service %s: took %d listening "
			"socket(s) back from pid %d", v->cfg->name, n,
			(int)v->pid);
}

/* A marker names the supervisor pid and a serial ("...:web:PID.N"):
 * after a live upgrade (same pid) the serials go on past the adopted
 * ones, so that a new run never carries an adopted run's marker (its
 * tree would be taken for the old one's). */
static void serial_past(struct sysg_supervisor *s, const char *marker)
{
	const char *colon = strrchr(marker, ':'), *dot;
	char *end;
	unsigned long n;

	if (!colon || !(dot = strchr(colon, '.')) ||
	    strtol(colon + 1, NULL, 10) != (long)getpid())
		return;
	n = strtoul(dot + 1, &end, 10);
	if (end != dot + 1 && n >= s->serial)
		s->serial = (unsigned)n + 1;
}

static int take_over(struct svc *v, const struct sysg_unit_record *u,
		     const char *marker)
{
	struct sysg_proc_stat ps;

	if (sysg_proc_stat_read((pid_t)u->pid, &ps) < 0)
		return -ESRCH;
	v->pid = (pid_t)u->pid;
	v->ticks = ps.start_ticks;
	v->sid = ps.sid > 1 ? ps.sid : (pid_t)u->pgid;
	snprintf(v->instance, sizeof(v->instance), "%s", marker);
	v->adopted = 1;
	v->marker_prefix = 0;
	serial_past(v->sup, marker);
	/* watch first, then check again: no exit can fall in between */
	if (svc_watch_exit(v) < 0 || !sysg_proc_is_alive(v->pid, v->ticks)) {
		svc_unwatch_exit(v);
		v->pid = v->sid = 0;
		v->adopted = 0;
		return -ESRCH;
	}
	restore_history(v, u);
	/* status tells what really runs, not what the new config says */
	free(v->run_cmd);
	v->run_cmd = NULL;
	/* /proc is the truth: the record may lag behind (a supervisor
	 * killed mid-reload); it only gives a nicer spelling of it */
	v->run_cmd = real_command(v->pid, v->cfg->command);
	if (v->run_cmd && u->command[0] &&
	    (strstr(u->command, v->run_cmd) ||
	     sysg_proc_runs_command(v->pid, u->command))) {
		free(v->run_cmd);
		v->run_cmd = strdup(u->command);
	}
	if (v->run_cmd) {
		svc_log(v, SYSG_LOG_WARN, "Service %s runs '%s', not the config's "
			"'%s': restart it to apply the config", v->cfg->name,
			v->run_cmd, v->cfg->command);
	}
	adopt_cgroup(v, v->pid);
	sysg_pidset_clear(&v->known);
	svc_remember_tree(v);
	svc_open_logs(v);
	take_sockets(v);
	v->want_up = 1;
	svc_event(v, EV_ADOPT);
	svc_log(v, SYSG_LOG_INFO, "Adopted %s: %s (pid %d)", v->cron ?
		"cron job run" : "service", v->cfg->name, (int)v->pid);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Leftovers                                                           */
/* ------------------------------------------------------------------ */

/* Every process carrying a marker of this state directory (one scan of
 * /proc for both marker variables: a host may run thousands). */
static int marked_processes(struct sysg_supervisor *s, struct sysg_pidset *out)
{
	char prefix[SYSG_INSTANCE_MAX];
	struct sysg_tree_match m = { .marker = prefix, .marker_prefix = 1 };
	struct sysg_proc_snapshot snap = { 0 };
	struct sysg_pidset old = { 0 };
	int rc = sysg_proc_snapshot_take(&snap);

	sysg_instance_dir_prefix(s->state_dir, prefix, sizeof(prefix));
	if (rc == 0)
		rc = sysg_proctree_collect_in(&snap, &m, out);
	sysg_instance_dir_prefix_old(s->state_dir, prefix, sizeof(prefix));
	if (rc == 0 && sysg_proctree_collect_in(&snap, &m, &old) == 0)
		for (size_t i = 0; i < old.n; i++)      /* the older marker */
			sysg_pidset_add(out, old.v[i].pid, old.v[i].ticks);
	sysg_pidset_free(&old);
	sysg_proc_snapshot_free(&snap);
	return rc;
}

/* Collect into V->known the processes of ALL that carry V's marker. */
static void find_leftovers(struct svc *v, const struct sysg_pidset *all)
{
	char prefix[SYSG_INSTANCE_MAX], old[SYSG_INSTANCE_MAX];
	char marker[SYSG_INSTANCE_MAX];
	int with_old = 0;

	sysg_instance_prefix(v->sup->state_dir, v->cfg->name, prefix,
			     sizeof(prefix));
	sysg_instance_prefix_old(v->sup->state_dir, v->cfg->name, old,
				 sizeof(old));
	sysg_pidset_clear(&v->known);
	for (size_t i = 0; i < all->n; i++) {
		int mine = sysg_proc_environ_find(all->v[i].pid, prefix,
						  marker, sizeof(marker)) == 0;

		if (!mine && sysg_proc_environ_find(all->v[i].pid, old, marker,
						    sizeof(marker)) == 0)
			mine = with_old = 1;
		if (mine)
			sysg_pidset_add(&v->known, all->v[i].pid,
					all->v[i].ticks);
	}
	if (!v->known.n)
		return;
	/* a tree is found by one marker prefix: leftovers of a run started
	 * with the older variable are found by it */
	snprintf(v->instance, sizeof(v->instance), "%s", with_old ? old :
		 prefix);
	v->marker_prefix = 1;
	v->adopted = 1;
	v->pid = v->sid = 0;
	adopt_cgroup(v, v->known.v[0].pid);
	svc_event(v, EV_LEFTOVERS);
}

/* ------------------------------------------------------------------ */
/* Services no longer configured                                       */
/* ------------------------------------------------------------------ */

static void sweep_cgroups(struct sysg_supervisor *s);

static int configured(struct sysg_supervisor *s, const char *name)
{
	return sup_find(s, name) != NULL;
}

/* NAME's record: stopped, because it is no longer configured. */
static void record_stray(struct sysg_supervisor *s, const char *name)
{
	struct sysg_unit_record u;

	if (!s->st || sysg_state_get_unit(s->st, name, &u) < 0)
		return;
	snprintf(u.status, sizeof(u.status), "stopped");
	snprintf(u.reason, sizeof(u.reason), "no longer in the config: "
		 "stopped when a new supervisor adopted the services");
	u.pid = u.pgid = 0;
	u.start_ticks = 0;
	u.updated_at_ms = sysg_wall_ms();
	sysg_state_put_unit(s->st, &u);
	sysg_state_set_pid(s->st, name, 0);
}

void sup_strays_kill(struct sysg_supervisor *s)
{
	if (s->loop)
		sysg_timer_stop(s->loop, &s->stray_timer);
	if (s->strays.n && sysg_pidset_kill(&s->strays, SIGKILL))
		sysg_log(&s->log, SYSG_LOG_WARN, "Processes of services no "
			 "longer configured survived SIGTERM: sent SIGKILL");
	sysg_pidset_free(&s->strays);
}

static void on_stray_timer(struct sysg_timer *t)
{
	struct sysg_supervisor *s = t->arg;

	sup_strays_kill(s);
	sweep_cgroups(s);
}

/* A supervisor killed while running config B, then started with config
 * A, finds B's extra services still running. The rule (README, "Re-
 * adoption"): a service that is no longer configured is stopped, its
 * whole tree (SIGTERM, SIGKILL after the default stop timeout), and its
 * record kept as stopped with the reason; nothing sysg started is ever
 * left running untracked. */
static void stop_strays(struct sysg_supervisor *s, const struct sysg_pidset *all)
{
	char name[SYSG_NAME_MAX];
	struct sysg_strset names = { 0 };

	for (size_t i = 0; i < all->n; i++) {
		pid_t pid = all->v[i].pid;

		if (pid == getpid() ||
		    sysg_instance_service(s->state_dir, pid, name,
					  sizeof(name)) < 0 ||
		    configured(s, name))
			continue;
		sysg_pidset_add(&s->strays, pid, all->v[i].ticks);
		sysg_strset_add(&names, name);
	}
	if (!s->strays.n) {
		sysg_strset_free(&names);
		return;
	}
	for (size_t i = 0; i < names.n; i++) {
		sysg_log(&s->log, SYSG_LOG_WARN, "Service %s is no longer in "
			 "the config: stopping what a previous supervisor left "
			 "of it running", names.v[i]);
		record_stray(s, names.v[i]);
	}
	sysg_strset_free(&names);
	sysg_pidset_kill(&s->strays, SIGTERM);
	sysg_timer_start(s->loop, &s->stray_timer, SYSG_STOP_TIMEOUT_MS,
			 on_stray_timer, s);
}

/* ------------------------------------------------------------------ */
/* The pass                                                            */
/* ------------------------------------------------------------------ */

/* A cron unit the previous supervisor had scheduled is scheduled again. */
static void reschedule(struct svc *v, const struct sysg_unit_record *u)
{
	int st = sysg_status_parse(u->status);

	if (!v->cron || v->state != ST_IDLE ||
	    (st != SYSG_STATUS_SCHEDULED && st != SYSG_STATUS_RUNNING))
		return;
	svc_log(v, SYSG_LOG_INFO, "Scheduling cron job %s again",
		v->cfg->name);
	v->want_up = 1;
	svc_event(v, EV_START);
}

static int adopt_one(struct svc *v, const struct sysg_unit_record *u)
{
	char marker[sizeof(v->instance)];

	if (v->state != ST_IDLE)
		return 0;
	if (is_ours(v, u, marker, sizeof(marker)) &&
	    take_over(v, u, marker) == 0)
		return 1;
	reschedule(v, u);
	return 0;
}

/* The records adoption acts on: those of configured services that claim
 * a live process or belong to a cron unit (the others are left alone). */
struct adopt_list {
	struct sysg_supervisor *s;
	struct sysg_unit_record *v;
	size_t n, cap;
	int err;
};

static int adopt_keep(void *arg, const struct sysg_unit_record *u)
{
	struct adopt_list *l = arg;
	struct svc *v = sup_find(l->s, u->name);

	if (!v || (!claims_process(u) && !v->cron))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct sysg_unit_record *nv = realloc(l->v, cap * sizeof(*nv));

		if (!nv) {
			l->err = -ENOMEM;
			return 1;
		}
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = *u;
	return 0;
}

/* One listing of the records (not one read of the store per service:
 * the xml backend parses the whole file for each), then the take-overs
 * in config order, outside the listing since they write records. */
static int adopt_all(struct sysg_supervisor *s)
{
	struct adopt_list l = { .s = s };
	const struct sysg_unit_record **of;
	int n = 0, rc;

	if (!s->st || !s->nactive)
		return 0;
	rc = sysg_state_list_units(s->st, adopt_keep, &l);
	if (rc < 0 || l.err)
		sysg_log(&s->log, SYSG_LOG_WARN, "Cannot list the unit records "
			 "to adopt running services: %s",
			 strerror(l.err ? -l.err : -rc));
	of = calloc(s->nactive, sizeof(*of));
	for (size_t i = 0; of && i < l.n; i++) {
		int k = sup_index(s, l.v[i].name);

		if (k >= 0)
			of[k] = &l.v[i];
	}
	for (size_t i = 0; of && i < s->nactive; i++)
		if (of[i])
			n += adopt_one(s->svcs[i], of[i]);
	free(of);
	free(l.v);
	return n;
}

/* Remove the empty cgroups of runs that died with the previous
 * supervisor (rmdir refuses a cgroup that still has processes). */
static void sweep_cgroups(struct sysg_supervisor *s)
{
	char path[sizeof(s->cgroup_base) + 300];
	DIR *d = s->cgroup_base[0] ? opendir(s->cgroup_base) : NULL;
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (de->d_type == DT_DIR && de->d_name[0] != '.' &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", s->cgroup_base,
				     de->d_name) < sizeof(path))
			sysg_cgroup_remove(path);
	if (d)
		closedir(d);
}

int sysg_supervisor_adopt(struct sysg_supervisor *s)
{
	struct sysg_pidset all = { 0 };
	int n = adopt_all(s);

	if (marked_processes(s, &all) == 0 && all.n) {
		for (size_t i = 0; i < s->nactive; i++)
			if (!s->svcs[i]->adopted && !svc_is_up(s->svcs[i]))
				find_leftovers(s->svcs[i], &all);
		stop_strays(s, &all);
	}
	sysg_pidset_free(&all);
	sweep_cgroups(s);
	if (n)
		sysg_log(&s->log, SYSG_LOG_INFO, "Adopted %d running "
			 "process(es) of a previous supervisor", n);
	sup_settle(s);
	return n;
}
