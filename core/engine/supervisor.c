/* supervisor.c - the engine's public API, signals, reaping, records. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "svc.h"

/* ------------------------------------------------------------------ */
/* Records                                                             */
/* ------------------------------------------------------------------ */

/* SRC into DST of LEN bytes, truncated; DST is zeroed (a status of
 * 1,000 units fills 6,000 of these: no snprintf). */
static void put_str(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	memcpy(dst, src, n < len ? n : len - 1);
}

void sup_fill_record(const struct svc *v, struct sysg_unit_record *u)
{
	memset(u, 0, sizeof(*u));
	put_str(u->name, sizeof(u->name), v->cfg->name);
	put_str(u->kind, sizeof(u->kind), v->cron ? "cron" :
		v->cfg->unit ? "unit" :
		v->sup->opts.kind ? v->sup->opts.kind : "service");
	put_str(u->status, sizeof(u->status), svc_state_name(v->state));
	if (v->pid > 0 && svc_is_up(v)) {
		u->pid = v->pid;
		u->pgid = v->sid;
		u->start_ticks = v->ticks;
	}
	u->started_at_ms = v->started_wall;
	u->updated_at_ms = sysg_wall_ms();
	u->has_exit_code = v->has_exit;
	u->exit_code = v->exit_code;
	u->has_signal = v->has_signal;
	u->signal = v->signo;
	u->restarts = v->restarts;
	put_str(u->reason, sizeof(u->reason), v->reason);
	put_str(u->command, sizeof(u->command), v->run_cmd ?
		v->run_cmd : v->cfg->command);
}

/* Records are written once the current burst of events has settled, so
 * that spawning independent services is not serialised behind the state
 * backend's atomic writes. */
void sup_record(struct svc *v)
{
	v->sup->generation++;
	if (v->state == ST_STOPPING)
		return;
	v->record_dirty = 1;
	v->sup->dirty = 1;
}

static void write_record(struct svc *v)
{
	struct sysg_supervisor *s = v->sup;
	struct sysg_unit_record u;
	int rc;

	v->record_dirty = 0;
	if (!s->st)
		return;
	sup_fill_record(v, &u);
	if ((rc = sysg_state_put_unit(s->st, &u)) < 0)
		sysg_log(&s->log, SYSG_LOG_WARN, "cannot record the state of %s "
			 "in %s: %s", v->cfg->name, s->state_dir, strerror(-rc));
	if (u.pid != v->recorded_pid &&
	    sysg_state_set_pid(s->st, v->cfg->name, u.pid) == 0)
		v->recorded_pid = u.pid;
}

/* The records changed since the last flush, as one batch: one rewrite
 * of the state file per loop turn, not one per record. */
static void flush_records(struct sysg_supervisor *s)
{
	int batch = 0, rc;

	for (size_t i = 0; i < s->nsvcs; i++) {
		if (!s->svcs[i]->record_dirty)
			continue;
		if (!batch && s->st)
			batch = sysg_state_batch_begin(s->st) == 0;
		write_record(s->svcs[i]);
	}
	if (batch && (rc = sysg_state_batch_commit(s->st)) < 0)
		sysg_log(&s->log, SYSG_LOG_WARN, "cannot record the state of "
			 "the services in %s: %s", s->state_dir, strerror(-rc));
}

static struct sysg_supervisor *sort_ctx;        /* for by_name_cmp */

static int by_name_cmp(const void *a, const void *b)
{
	const struct sysg_supervisor *s = sort_ctx;

	return strcmp(s->svcs[*(const size_t *)a]->cfg->name,
		      s->svcs[*(const size_t *)b]->cfg->name);
}

/* Index of the configured service NAME, or -1: a binary search in the
 * name index (a request or a dependency names a service; with thousands
 * of them a linear walk per lookup made status and waves quadratic). */
static long find_index(struct sysg_supervisor *s, const char *name)
{
	size_t lo = 0, hi, next = s->last_found + 1;

	/* a walk over the services in order (a status listing asks for
	 * each one's notify info) asks for the one after the last: no
	 * search then */
	if (next < s->nactive && !strcmp(s->svcs[next]->cfg->name, name))
		return (long)(s->last_found = next);
	if (!s->by_name_ok) {
		size_t *ix = realloc(s->by_name, (s->nactive + 1) *
				     sizeof(*ix));

		if (!ix) {      /* out of memory: walk */
			for (size_t i = 0; i < s->nactive; i++)
				if (!strcmp(s->svcs[i]->cfg->name, name))
					return (long)i;
			return -1;
		}
		for (size_t i = 0; i < s->nactive; i++)
			ix[i] = i;
		sort_ctx = s;
		qsort(ix, s->nactive, sizeof(*ix), by_name_cmp);
		s->by_name = ix;
		s->by_name_ok = 1;
	}
	hi = s->nactive;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, s->svcs[s->by_name[mid]]->cfg->name);

		if (!c)
			return (long)(s->last_found = s->by_name[mid]);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

int sup_index(const struct sysg_supervisor *s, const char *name)
{
	long i = find_index((struct sysg_supervisor *)s, name);

	return i < 0 ? -ENOENT : (int)i;
}

struct svc *sup_find(struct sysg_supervisor *s, const char *name)
{
	long i = find_index(s, name);

	return i < 0 ? NULL : s->svcs[i];
}

/* ------------------------------------------------------------------ */
/* Re-evaluation: dependencies and reverse-order shutdown              */
/* ------------------------------------------------------------------ */

void sup_changed(struct sysg_supervisor *s)
{
	s->dirty = 1;
}

static int depends_on(const struct svc *v, const char *name)
{
	for (size_t i = 0; i < v->cfg->ndepends_on; i++)
		if (!strcmp(v->cfg->depends_on[i], name))
			return 1;
	return 0;
}

void sup_reindex(struct sysg_supervisor *s)
{
	s->by_name_ok = 0;
	free(s->dep_start);
	free(s->dep_list);
	s->dep_start = NULL;
	s->dep_list = NULL;
}

/* Resolve every service's depends_on once: who depends on whom. 0, or
 * -ENOMEM (then callers walk every service). */
static int index_dependents(struct sysg_supervisor *s)
{
	size_t *start, total = 0;
	struct svc **list;

	if (s->dep_start && s->by_name_ok)
		return 0;
	sup_reindex(s);
	if (!(start = calloc(s->nactive + 2, sizeof(*start))))
		return -ENOMEM;
	for (size_t i = 0; i < s->nsvcs; i++)
		for (size_t k = 0; k < s->svcs[i]->cfg->ndepends_on; k++) {
			long j = find_index(s, s->svcs[i]->cfg->depends_on[k]);

			if (j >= 0) {
				start[j + 2]++;
				total++;
			}
		}
	if (!(list = calloc(total + 1, sizeof(*list)))) {
		free(start);
		return -ENOMEM;
	}
	for (size_t j = 0; j < s->nactive; j++)
		start[j + 2] += start[j + 1];
	/* start[j + 1] is now where j's dependents go: fill, moving it on
	 * to start[j + 2]'s old value, so start[j] .. start[j + 1] */
	for (size_t i = 0; i < s->nsvcs; i++)
		for (size_t k = 0; k < s->svcs[i]->cfg->ndepends_on; k++) {
			long j = find_index(s, s->svcs[i]->cfg->depends_on[k]);

			if (j >= 0)
				list[start[j + 1]++] = s->svcs[i];
		}
	s->dep_start = start;
	s->dep_list = list;
	return 0;
}

/* The dependents of V in *D (count returned), or -1 when they are not
 * indexed (V was removed by a reload, or no memory): walk them all. */
static long dependents_of(struct sysg_supervisor *s, const struct svc *v,
			  struct svc ***d)
{
	if (v->idx >= s->nactive || s->svcs[v->idx] != v ||
	    index_dependents(s) < 0)
		return -1;
	*d = s->dep_list + s->dep_start[v->idx];
	return (long)(s->dep_start[v->idx + 1] - s->dep_start[v->idx]);
}

void sup_dependents(struct svc *v, enum svc_event ev)
{
	struct sysg_supervisor *s = v->sup;
	struct svc **d;
	long n = dependents_of(s, v, &d);

	if (n >= 0) {
		/* copied: an event may trigger a re-index (a reload's switch) */
		struct svc **copy = n ? malloc((size_t)n * sizeof(*copy)) : NULL;

		if (n && copy) {
			memcpy(copy, d, (size_t)n * sizeof(*copy));
			for (long i = 0; i < n; i++)
				if (copy[i]->idx < s->nactive &&
				    s->svcs[copy[i]->idx] == copy[i] &&
				    !copy[i]->cron)
					svc_event(copy[i], ev);
			free(copy);
			sup_changed(s);
			return;
		}
		if (!n) {
			sup_changed(s);
			return;
		}
	}
	for (size_t i = 0; i < s->nactive; i++)
		if (!s->svcs[i]->cron && depends_on(s->svcs[i], v->cfg->name))
			svc_event(s->svcs[i], ev);
	sup_changed(s);
}

static int blocks_stop(const struct svc *d)
{
	return !svc_is_settled(d) && d->state != ST_BACKOFF;
}

/* A service may stop in a shutdown once no dependent is still up. */
static int dependents_down(struct sysg_supervisor *s, const struct svc *v)
{
	struct svc **d;
	long n = dependents_of(s, v, &d);

	for (long i = 0; i < n; i++)
		if (blocks_stop(d[i]))
			return 0;
	if (n >= 0)
		return 1;
	for (size_t i = 0; i < s->nsvcs; i++)
		if (depends_on(s->svcs[i], v->cfg->name) &&
		    blocks_stop(s->svcs[i]))
			return 0;
	return 1;
}

static void settle_one(struct sysg_supervisor *s, struct svc *v)
{
	if (s->shutting_down) {
		if (!svc_is_settled(v) || v->state == ST_WAITING) {
			if (v->state == ST_STOPPING && !v->want_up)
				return;
			if (dependents_down(s, v))
				svc_event(v, EV_STOP);
		}
		return;
	}
	if (v->state == ST_WAITING || v->state == ST_BLOCKED)
		svc_event(v, EV_DEPS);
}

/* Tell the on_change callback; changes it makes are told again. */
static void notify(struct sysg_supervisor *s)
{
	for (int rounds = 0; rounds < 8 && s->on_change && !s->notifying &&
	     s->notified != s->generation; rounds++) {
		s->notified = s->generation;
		s->notifying = 1;
		s->on_change(s->change_arg);
		s->notifying = 0;
	}
}

void sup_settle(struct sysg_supervisor *s)
{
	while (s->dirty) {
		s->dirty = 0;
		for (size_t i = 0; i < s->nsvcs; i++)
			settle_one(s, s->svcs[i]);
	}
	flush_records(s);
	if (s->nsvcs > s->nactive || s->nold_cfgs)
		sup_reload_collect(s);
	notify(s);
}

/* ------------------------------------------------------------------ */
/* Signals and reaping                                                 */
/* ------------------------------------------------------------------ */

static struct svc *find_by_pid(struct sysg_supervisor *s, pid_t pid)
{
	for (size_t i = 0; i < s->nsvcs; i++)
		if (s->svcs[i]->pid == pid)
			return s->svcs[i];
	return NULL;
}

void sup_remove_cgroup(struct sysg_supervisor *s, const char *dir)
{
	char **nv;

	if (sysg_cgroup_remove(dir) != -EBUSY)
		return;
	nv = realloc(s->dead_cgroups, (s->ndead_cgroups + 1) * sizeof(*nv));
	if (!nv)
		return;
	s->dead_cgroups = nv;
	nv[s->ndead_cgroups] = strdup(dir);
	if (nv[s->ndead_cgroups])
		s->ndead_cgroups++;
}

void sup_cgroup_base_ensure(struct sysg_supervisor *s)
{
	if (s->cgroup_base[0])
		mkdir(s->cgroup_base, 0755);    /* EEXIST: the usual case */
}

/* Retry the cgroups that still held zombies; FORCE: last chance. */
static void retry_dead_cgroups(struct sysg_supervisor *s, int force)
{
	size_t k = 0;

	for (size_t i = 0; i < s->ndead_cgroups; i++) {
		if (sysg_cgroup_remove(s->dead_cgroups[i]) == -EBUSY && !force)
			s->dead_cgroups[k++] = s->dead_cgroups[i];
		else
			free(s->dead_cgroups[i]);
	}
	s->ndead_cgroups = k;
}

static void reap_all(struct sysg_supervisor *s)
{
	int status, orphans = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct svc *v = find_by_pid(s, pid);

		sup_note_activity(s);   /* a hook or helper may have ended */

		if (v)
			svc_main_exited(v, status);
		else if (!svc_cand_reaped(s, pid, status) &&
			 !sup_retiring_reaped(s, pid) &&
			 !sup_inst_reaped(s, pid, status) &&
			 !sysg_jobs_reaped(&s->jobs, pid, status) &&
			 !sysg_state_reaped(s->st, pid, status))
			orphans++;
	}
	if (orphans)
		sup_inst_orphans(s);
	/* a re-parented descendant died: a teardown may be complete */
	for (size_t i = 0; orphans && i < s->nsvcs; i++)
		if (s->svcs[i]->state == ST_STOPPING)
			svc_event(s->svcs[i], EV_TICK);
	if (s->ndead_cgroups)
		retry_dead_cgroups(s, 0);
}

static void kill_now(struct sysg_supervisor *s)
{
	sysg_log(&s->log, SYSG_LOG_WARN, "Second interrupt: killing all "
		 "services now");
	s->kill_now = 1;
	for (size_t i = 0; i < s->nsvcs; i++) {
		struct svc *v = s->svcs[i];

		if (v->state == ST_STOPPING) {
			v->stop_deadline = 0;
			svc_event(v, EV_TICK);
		}
	}
}

static void on_signal(void *arg, const struct signalfd_siginfo *si)
{
	struct sysg_supervisor *s = arg;

	switch (si->ssi_signo) {
	case SIGCHLD:
		reap_all(s);
		break;
	case SIGINT:
	case SIGTERM:
		sysg_log(&s->log, SYSG_LOG_INFO, "Received %s: stopping all "
			 "services", si->ssi_signo == SIGINT ? "SIGINT" :
			 "SIGTERM");
		if (s->signals_seen++ && s->shutting_down)
			kill_now(s);
		else
			sysg_supervisor_stop_all(s);
		break;
	case SIGUSR1: {
		char err[512];

		/* reopen first, so that the line lands in the new file */
		if (sysg_supervisor_reopen_logs(s, err, sizeof(err)) < 0)
			sysg_log(&s->log, SYSG_LOG_WARN, "%s", err);
		sysg_log(&s->log, SYSG_LOG_INFO, "Received SIGUSR1: log files "
			 "reopened");
		break;
	}
	case SIGHUP:
		if (s->opts.on_sighup) {
			sysg_log(&s->log, SYSG_LOG_INFO, "Received SIGHUP");
			s->opts.on_sighup(s->opts.arg);
		} else {
			sysg_log(&s->log, SYSG_LOG_INFO, "Received SIGHUP: "
				 "ignored");
		}
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Creation                                                            */
/* ------------------------------------------------------------------ */

static void init_cgroups(struct sysg_supervisor *s)
{
	char base[sizeof(s->cgroup_base)], name[64];

	if (s->opts.no_cgroups || sysg_cgroup_base(base, sizeof(base)) < 0)
		return;
	/* the bases of supervisors that died with no run left (a state
	 * directory since deleted leaves one behind forever otherwise) */
	sysg_cgroup_prune(base, sysg_instance_is_cgroup_dir,
			  sysg_instance_cgroup_run_orphaned);
	sysg_instance_cgroup_dir(s->state_dir, name, sizeof(name));
	if (sysg_cgroup_create(base, name, s->cgroup_base,
			       sizeof(s->cgroup_base)) < 0)
		s->cgroup_base[0] = '\0';
}

void sup_svc_init(struct sysg_supervisor *s, struct svc *v,
		  struct sysg_service *cfg, size_t idx)
{
	v->sup = s;
	v->cfg = cfg;
	v->idx = idx;
	v->log_out = v->log_err = -1;
	v->pidfd = -1;
	v->probe_cause_fd = -1;
	v->pub_status = svc_status(v->state);
	svc_cron_init(v);
}

static int init_services(struct sysg_supervisor *s)
{
	size_t n = s->cfg->nservices;

	s->svcs = calloc(n ? n : 1, sizeof(*s->svcs));
	if (!s->svcs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct svc *v = calloc(1, sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->svcs[s->nsvcs++] = v;
		sup_svc_init(s, v, &s->cfg->services[i], i);
	}
	s->nactive = n;
	return 0;
}

/* A state backend's warnings go to supervisor.log. */
static void state_log_line(void *arg, int level, const char *line)
{
	struct sysg_supervisor *s = arg;

	sysg_log(&s->log, level, "state: %s", line);
}

static int open_log(struct sysg_supervisor *s, char *err, size_t errlen)
{
	char dir[SYSG_PATH_MAX];
	int rc = 0;

	if (s->opts.log_dir)
		snprintf(dir, sizeof(dir), "%s", s->opts.log_dir);
	else
		rc = sysg_log_dir(s->opts.sys, s->state_dir, dir, sizeof(dir));
	if (rc == 0)
		rc = sysg_log_open(&s->log, dir, s->opts.log_level ?
				   s->opts.log_level : SYSG_LOG_INFO);
	if (rc < 0) {
		if (s->log.why[0])
			sysg_errf(err, errlen, "%s", s->log.why);
		else
			sysg_errf(err, errlen, "cannot open the log directory "
				  "%s: %s", dir, strerror(-rc));
		return rc;
	}
	s->log.echo = s->opts.echo;
	s->log.echo_level = s->opts.echo_level;
	return 0;
}

/* The state backend (with libxml2 or sqlite behind it) is most of a
 * resident supervisor's memory: unload it after STATE_IDLE_MS without a
 * call; the next call reloads it. */
#define STATE_IDLE_MS 2000

static void state_idle(struct sysg_timer *t)
{
	struct sysg_supervisor *s = t->arg;

	sysg_state_release(s->st);
	sysg_memtrim(NULL);     /* give the backend's pages back */
}

/* A loop that had nothing to do for TRIM_IDLE_MS gives back the pages it
 * touched while busy (base/memtrim.h): its idle footprint is what it uses
 * idle, not what a config parse, an adoption or a status reply mapped. */
#define TRIM_IDLE_MS 1000

static void trim_idle(struct sysg_timer *t)
{
	struct sysg_supervisor *s = t->arg;

	/* the last /proc snapshot (one entry per process of the host) is
	 * only reused within a loop turn */
	sysg_proc_snapshot_free(&s->procs);
	s->procs_ok = 0;
	sysg_memtrim(NULL);
}

/* The records a live view shows besides the configured services
 * (orphans, children, ad-hoc units): kept in memory, so that status
 * never loads the backend. */
static int unconfigured(void *arg, const char *name)
{
	return sup_index(arg, name) < 0;
}

void sup_mirror_others(struct sysg_supervisor *s)
{
	if (s->st)
		sysg_state_mirror(s->st, unconfigured, s);
}

static void state_used(void *arg)
{
	struct sysg_supervisor *s = arg;

	sysg_timer_start(s->loop, &s->state_idle, STATE_IDLE_MS, state_idle, s);
}

int sysg_supervisor_new(struct sysg_supervisor **out, struct sysg_config *cfg,
			struct sysg_state *st,
			const struct sysg_supervisor_opts *opts,
			char *err, size_t errlen)
{
	struct sysg_supervisor *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s || !opts->state_dir || !(s->state_dir = strdup(opts->state_dir))) {
		free(s);
		sysg_errf(err, errlen, "out of memory or no state directory");
		return -ENOMEM;
	}
	s->cfg = s->borrowed_cfg = cfg;
	s->st = st;
	s->opts = *opts;
	s->log.fd = -1;
	rc = open_log(s, err, errlen);
	if (rc == 0 && (rc = sysg_loop_new(&s->loop)) < 0)
		sysg_errf(err, errlen, "cannot create the event loop: %s",
			  strerror(-rc));
	if (rc == 0 && (rc = init_services(s)) < 0)
		sysg_errf(err, errlen, "out of memory");
	if (rc < 0) {
		sysg_supervisor_free(s);
		return rc;
	}
	s->jobs.loop = s->loop;
	sysg_loop_on_signal(s->loop, on_signal, s);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	init_cgroups(s);
	sup_logs_arm(s);
	if (s->st) {
		sysg_state_use_loop(s->st, s->loop);
		sup_mirror_others(s);
		sysg_state_on_use(s->st, state_used, s);
		sysg_state_set_log(s->st, state_log_line, s);
	}
	*out = s;
	return 0;
}

void sysg_supervisor_free(struct sysg_supervisor *s)
{
	if (!s)
		return;
	sysg_state_sync(s->st);         /* before the reaping below */
	for (size_t i = 0; i < s->nsvcs; i++) {
		sysg_job_cancel(&s->svcs[i]->probe);
		sysg_job_cancel(&s->svcs[i]->helper);
		sysg_job_cancel(&s->svcs[i]->logjob[0]);
		sysg_job_cancel(&s->svcs[i]->logjob[1]);
	}
	sup_children_free(s);
	sup_inst_free_all(s);
	sup_strays_kill(s);
	if (s->loop)
		sysg_jobs_kill_all(&s->jobs);
	for (size_t i = 0; i < s->nsvcs; i++) {
		svc_release(s->svcs[i]);
		free(s->svcs[i]);
	}
	if (s->loop)
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;       /* zombies keep their cgroup busy */
	retry_dead_cgroups(s, 1);
	free(s->dead_cgroups);
	if (s->cgroup_base[0])
		sysg_cgroup_remove(s->cgroup_base);
	free(s->svcs);
	for (size_t i = 0; i < s->nold_cfgs; i++)
		if (s->old_cfgs[i] != s->borrowed_cfg)
			sysg_config_free(s->old_cfgs[i]);
	free(s->old_cfgs);
	if (s->cfg_owned)
		sysg_config_free(s->cfg);
	if (s->st) {
		sysg_state_use_loop(s->st, NULL);
		sysg_state_on_use(s->st, NULL, NULL);
		sysg_state_mirror(s->st, NULL, NULL);
		sysg_state_set_log(s->st, NULL, NULL);
	}
	if (s->loop) {
		sysg_timer_stop(s->loop, &s->state_idle);
		sysg_timer_stop(s->loop, &s->trim);
	}
	sup_sdnotify_close(s);
	sup_retiring_kill_all(s);
	sysg_loop_free(s->loop);
	sysg_proc_snapshot_free(&s->procs);
	sup_reindex(s);
	free(s->by_name);
	sysg_log_close(&s->log);
	sup_notify_free(s);
	free(s->state_dir);
	free(s);
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

/* A start request ends a shutdown (a resident supervisor lives on). */
static void resume(struct sysg_supervisor *s)
{
	s->shutting_down = 0;
	s->signals_seen = 0;
	s->kill_now = 0;
}

int sysg_supervisor_start_all(struct sysg_supervisor *s)
{
	resume(s);
	/* cron units are scheduled, not run */
	for (size_t i = 0; i < s->nactive; i++)
		s->svcs[i]->want_up = 1;
	for (size_t i = 0; i < s->nactive; i++)
		svc_event(s->svcs[i], EV_START);
	sup_settle(s);
	return 0;
}

void sup_start_closure(struct sysg_supervisor *s, struct svc *v, int depth)
{
	if (depth > (int)s->nactive)
		return;
	for (size_t i = 0; i < v->cfg->ndepends_on; i++) {
		struct svc *d = sup_find(s, v->cfg->depends_on[i]);

		if (d && !d->want_up && !sysg_service_is_cron(d->cfg))
			sup_start_closure(s, d, depth + 1);
	}
	v->want_up = 1;
	svc_event(v, EV_START);
}

int sysg_supervisor_start_service(struct sysg_supervisor *s, const char *name)
{
	struct svc *v = sup_find(s, name);

	if (!v)
		return -ENOENT;
	resume(s);
	sup_start_closure(s, v, 0);
	sup_settle(s);
	return 0;
}

int sysg_supervisor_stop_service(struct sysg_supervisor *s, const char *name)
{
	struct svc *v = sup_find(s, name);

	if (!v)
		return -ENOENT;
	v->want_up = 0;
	svc_event(v, EV_STOP);
	sup_settle(s);
	return 0;
}

int sysg_supervisor_restart_service(struct sysg_supervisor *s,
				    const char *name)
{
	struct svc *v = sup_find(s, name);

	if (!v)
		return -ENOENT;
	if (!svc_is_up(v))
		return sysg_supervisor_start_service(s, name);
	if (svc_can_hand_over(v)) {     /* zero downtime: handover.c */
		char err[SYSG_ERR_MAX];

		if (svc_roll(v, err, sizeof(err)) == 0) {
			sup_settle(s);
			return 1;
		}
	}
	v->restart_requested = 1;
	v->want_up = 0;
	svc_event(v, EV_STOP);
	sup_settle(s);
	return 0;
}

int sysg_supervisor_stop_all(struct sysg_supervisor *s)
{
	s->shutting_down = 1;
	for (size_t i = 0; i < s->nsvcs; i++) {
		s->svcs[i]->want_up = 0;
		s->svcs[i]->restart_requested = 0;
	}
	sup_changed(s);
	sup_settle(s);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Running                                                             */
/* ------------------------------------------------------------------ */

int sysg_supervisor_idle(const struct sysg_supervisor *s)
{
	for (size_t i = 0; i < s->nsvcs; i++)
		if (!svc_is_settled(s->svcs[i]))
			return 0;
	return sysg_jobs_count(&s->jobs) == 0;
}

int sysg_supervisor_run_until(struct sysg_supervisor *s,
			      int (*pred)(struct sysg_supervisor *, void *),
			      void *arg, int64_t timeout_ms)
{
	int64_t deadline = sysg_now_ms() + timeout_ms;

	for (;;) {
		int64_t left = deadline - sysg_now_ms();
		int rc;

		sup_settle(s);
		sup_deliver(s);
		if (pred(s, arg))
			return 0;
		if (left <= 0)
			return -ETIMEDOUT;
		rc = sysg_loop_once(s->loop, left);
		if (rc < 0)
			return rc;
		if (rc > 0)     /* busy: trim once idle again */
			sysg_timer_start(s->loop, &s->trim, TRIM_IDLE_MS,
					 trim_idle, s);
	}
}

/* ------------------------------------------------------------------ */
/* Queries                                                             */
/* ------------------------------------------------------------------ */

const char *sysg_supervisor_status(const struct sysg_supervisor *s,
				   const char *name)
{
	struct svc *v = sup_find((struct sysg_supervisor *)s, name);

	return v ? svc_state_name(v->state) : NULL;
}

int sysg_supervisor_get(const struct sysg_supervisor *s, const char *name,
			struct sysg_unit_record *out)
{
	struct svc *v = sup_find((struct sysg_supervisor *)s, name);

	if (!v)
		return -ENOENT;
	sup_fill_record(v, out);
	return 0;
}

int sysg_supervisor_failures(const struct sysg_supervisor *s)
{
	return s->failures;
}

int sysg_supervisor_killed_stops(const struct sysg_supervisor *s)
{
	return s->killed_stops;
}

struct sysg_jobs *sysg_supervisor_jobs(struct sysg_supervisor *s)
{
	return &s->jobs;
}

struct sysg_log *sysg_supervisor_log(struct sysg_supervisor *s)
{
	return &s->log;
}

struct sysg_privs *sysg_supervisor_privs(struct sysg_supervisor *s,
					 const char *service)
{
	struct svc *v = sup_find(s, service);

	return v ? v->privs : NULL;
}

struct sysg_loop *sysg_supervisor_loop(struct sysg_supervisor *s)
{
	return s->loop;
}

int sysg_supervisor_shutting_down(const struct sysg_supervisor *s)
{
	return s->shutting_down;
}

const struct sysg_config *sysg_supervisor_config(const struct sysg_supervisor *s)
{
	return s->cfg;
}
