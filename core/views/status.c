/* status.c - collect the offline status view (see status.h for the rules). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "base/base.h"
#include "proc/proc.h"
#include "engine/engine.h"
#include "status.h"

const char *sysg_unit_kind_name(enum sysg_unit_kind k)
{
	switch (k) {
	case SYSG_UNIT_SERVICE: return "service";
	case SYSG_UNIT_CRON: return "cron";
	case SYSG_UNIT_ADHOC: return "unit";
	case SYSG_UNIT_CHILD: return "child";
	case SYSG_UNIT_ORPHANED: return "orphaned";
	}
	return "service";
}

const char *sysg_health_name(enum sysg_unit_health h)
{
	return h == SYSG_HEALTH_HEALTHY ? "healthy" :
	       h == SYSG_HEALTH_UNHEALTHY ? "unhealthy" : "unknown";
}

const char *sysg_overall_name(enum sysg_overall o)
{
	return o == SYSG_OVERALL_DEGRADED ? "degraded" :
	       o == SYSG_OVERALL_FAILING ? "failing" : "healthy";
}

static void view_free(struct sysg_unit_view *u)
{
	free(u->command);
	if (u->cron) {
		free(u->cron->expression);
		free(u->cron->timezone);
		free(u->cron->runs);
		free(u->cron);
	}
	for (size_t i = 0; i < u->nchildren; i++)
		view_free(&u->children[i]);
	free(u->children);
}

void sysg_status_free(struct sysg_status *s)
{
	for (size_t i = 0; i < s->nunits; i++)
		view_free(&s->units[i]);
	free(s->units);
	memset(s, 0, sizeof(*s));
}

void sysg_cpu_history_free(struct sysg_cpu_history *h)
{
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

/* -------------------------------------------------------- supervisor */

/* Read the runtime file NAME of STATE_DIR's supervisor (small) into
 * BUF; 0 or -1. */
static int read_small(const char *state_dir, const char *name, char *buf,
		      size_t len)
{
	char path[SYSG_PATH_MAX];
	ssize_t n = -1;
	int fd = -1;

	if (sysg_run_file(state_dir, name, path, sizeof(path)) == 0)
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd >= 0) {
		n = read(fd, buf, len - 1);
		close(fd);
	}
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

int sysg_supervisor_alive(const char *state_dir, int64_t *pid)
{
	char buf[64];
	long long v = 0, v2 = 0;
	unsigned long long ticks = 0, t2 = 0;

	if (pid)
		*pid = 0;
	if (read_small(state_dir, SYSG_FILE_PID, buf, sizeof(buf)))
		return 0;
	/* "PID" (or an older sysg's "PID START_TICKS") */
	if (sscanf(buf, "%lld %llu", &v, &ticks) < 1 || v <= 0 || v == getpid())
		return 0;
	if (!ticks && !read_small(state_dir, SYSG_FILE_PID_START, buf,
				  sizeof(buf)) &&
	    sscanf(buf, "%lld %llu", &v2, &t2) == 2 && v2 == v)
		ticks = t2;
	if (!sysg_proc_alive(v, ticks))
		return 0;
	if (pid)
		*pid = v;
	return 1;
}

/* ----------------------------------------------------------- records */

/* The records of the state, each copied once into its own block (a
 * record is ~4.7 KiB, mostly the command's room: one array of them moved
 * megabytes per status at 1,000 units), in listing order; sorted by name
 * (ORDER, indices into V) only when a lookup or the listing of records
 * outside the config needs it. */
struct records {
	struct sysg_unit_record **v;
	size_t *order;
	size_t n, cap;
	int err;
};

/* DST = SRC, of the command only what is used (strings are all that is
 * read of a copy). */
_Static_assert(sizeof(struct sysg_unit_record) -
	       (offsetof(struct sysg_unit_record, command) +
		sizeof(((struct sysg_unit_record *)0)->command)) <
	       _Alignof(struct sysg_unit_record),
	       "copy_record copies up to command: it must stay the last field");

static void copy_record(struct sysg_unit_record *dst,
			const struct sysg_unit_record *src)
{
	size_t n = strnlen(src->command, sizeof(src->command) - 1);

	memcpy(dst, src, offsetof(struct sysg_unit_record, command));
	memcpy(dst->command, src->command, n);
	dst->command[n] = '\0';
}

static int add_record(void *arg, const struct sysg_unit_record *u)
{
	struct records *r = arg;
	struct sysg_unit_record *c;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct sysg_unit_record **v = realloc(r->v, cap * sizeof(*v));

		if (!v) {
			r->err = -ENOMEM;
			return 1;
		}
		r->v = v;
		r->cap = cap;
	}
	c = malloc(sizeof(*c));
	if (!c) {
		r->err = -ENOMEM;
		return 1;
	}
	copy_record(c, u);
	r->v[r->n++] = c;
	return 0;
}

static void free_records(struct records *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i]);
	free(r->v);
	free(r->order);
	memset(r, 0, sizeof(*r));
}

static int cmp_order(const void *a, const void *b, void *arg)
{
	struct sysg_unit_record *const *v = arg;

	return strcmp(v[*(const size_t *)a]->name, v[*(const size_t *)b]->name);
}

/* R->order, sorted by name on first use. 0 or -ENOMEM. */
static int sort_records(struct records *r)
{
	if (r->order || !r->n)
		return 0;
	r->order = malloc(r->n * sizeof(*r->order));
	if (!r->order)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++)
		r->order[i] = i;
	qsort_r(r->order, r->n, sizeof(*r->order), cmp_order, r->v);
	return 0;
}

/* The index of the record NAME, or -1. HINT is where it likely is (the
 * supervisor lists its services in config order): no search then. */
static long find_record(struct records *r, const char *name, size_t hint)
{
	size_t lo = 0, hi = r->n;

	if (hint < r->n && !strcmp(r->v[hint]->name, name))
		return (long)hint;
	if (sort_records(r) < 0) {              /* no memory: linear */
		for (size_t i = 0; i < r->n; i++)
			if (!strcmp(r->v[i]->name, name))
				return (long)i;
		return -1;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, r->v[r->order[mid]]->name);

		if (c == 0)
			return (long)r->order[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static int load_records(struct sysg_state *st, struct records *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	if (!st)
		return 0;
	rc = sysg_state_list_units(st, add_record, r);
	if (rc == 0)
		rc = r->err;
	return rc;
}

/* ------------------------------------------------------------ resolve */

/* SRC into DST of LEN bytes, truncated (snprintf "%s" without the
 * formatting: status copies a few strings per unit). */
static void set_str(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	n = n < len ? n : len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int is_status(const char *s, const char *word)
{
	return !strcmp(s, word);
}

/* Decide the reported status of a unit from its record (see status.h). */
static void resolve_status(struct sysg_unit_view *u,
			   const struct sysg_unit_record *r, int alive,
			   int supervisor_alive)
{
	const char *s = r->status;

	set_str(u->reason, sizeof(u->reason), r->reason);
	if (is_status(s, "running") || is_status(s, "starting")) {
		/* with a live supervisor, starting without a pid is a unit
		 * waiting for its dependencies to be ready */
		if (alive > 0 || (supervisor_alive && r->pid <= 0 &&
				  is_status(s, "starting"))) {
			set_str(u->status, sizeof(u->status), s);
			return;
		}
		set_str(u->status, sizeof(u->status),
			 r->has_exit_code && r->exit_code == 0 &&
			 !r->has_signal ? "exited" : "failed");
		if (r->pid <= 0)
			snprintf(u->reason, sizeof(u->reason),
				 "recorded %s without a pid", s);
		else
			snprintf(u->reason, sizeof(u->reason), alive < 0 ?
				 "pid %" PRId64 " now belongs to another process" :
				 "process %" PRId64 " is gone", r->pid);
	} else if (!supervisor_alive && is_status(s, "backoff")) {
		snprintf(u->status, sizeof(u->status), "failed");
		snprintf(u->reason, sizeof(u->reason),
			 "no supervisor running to restart it");
	} else if (!supervisor_alive && is_status(s, "scheduled")) {
		snprintf(u->status, sizeof(u->status), "stopped");
		snprintf(u->reason, sizeof(u->reason),
			 "no supervisor running to schedule it");
	} else {
		set_str(u->status, sizeof(u->status), s[0] ? s : "stopped");
	}
}

/* What the views of one listing share: /proc opened once (-1: not
 * open, read by full paths) and the system uptime (0: not read yet). */
struct probe {
	int procfd;
	int64_t up_ms;
};

/* 1 alive, 0 gone, -1 the pid now belongs to a different process. *PS
 * gets the process's /proc/PID/stat when it could be read (*HAVE_PS 1):
 * one read per unit serves liveness, uptime, CPU and memory. */
static int record_alive(const struct sysg_unit_record *r, struct probe *pr,
			struct sysg_procstat *ps, int *have_ps)
{
	int rc;

	*have_ps = 0;
	if (r->pid <= 0)
		return 0;
	rc = sysg_procstat_read_at(pr->procfd, r->pid, ps);
	if (rc == -EACCES || rc == -EPERM)      /* hidepid: no identity */
		return sysg_proc_alive(r->pid, r->start_ticks);
	if (rc < 0)
		return 0;
	*have_ps = 1;
	if (sysg_procstat_is_live(ps, r->start_ticks))
		return 1;
	return r->start_ticks && sysg_procstat_is_live(ps, 0) ? -1 : 0;
}

static enum sysg_unit_health health_of(const char *status)
{
	if (is_status(status, "running"))
		return SYSG_HEALTH_HEALTHY;
	if (is_status(status, "failed") || is_status(status, "blocked") ||
	    is_status(status, "backoff"))
		return SYSG_HEALTH_UNHEALTHY;
	return SYSG_HEALTH_UNKNOWN;
}

/* CPU% of PS: against the previous sample of the same process when there
 * is one (streaming), else over its lifetime. Records the new sample. */
static double cpu_percent(const struct sysg_procstat *ps, int64_t uptime_ms,
			  struct sysg_cpu_history *h)
{
	uint64_t ticks = ps->utime + ps->stime;
	struct sysg_cpu_sample *v;

	if (!h)
		return sysg_procstat_cpu_lifetime(ps, uptime_ms);
	for (size_t i = 0; i < h->n; i++) {
		struct sysg_cpu_sample *p = &h->v[i];
		int64_t dt = uptime_ms - p->uptime_ms;
		double pct;

		if (p->pid != ps->pid || p->start_ticks != ps->start_ticks)
			continue;
		if (dt <= 0 || ticks < p->cpu_ticks)
			return sysg_procstat_cpu_lifetime(ps, uptime_ms);
		pct = (double)(ticks - p->cpu_ticks) * 1000.0 /
		      (double)sysg_proc_clk_tck() * 100.0 / (double)dt;
		p->cpu_ticks = ticks;
		p->uptime_ms = uptime_ms;
		return pct;
	}
	if (h->n >= 1024)       /* a long stream over many restarts */
		h->n = 0;
	v = realloc(h->v, (h->n + 1) * sizeof(*v));
	if (v) {
		h->v = v;
		h->v[h->n++] = (struct sysg_cpu_sample){ ps->pid, ps->start_ticks,
							 ticks, uptime_ms };
	}
	return sysg_procstat_cpu_lifetime(ps, uptime_ms);
}

/* Uptime, CPU and memory of a live unit from its /proc/PID/stat PS (read
 * here when HAVE_PS is 0); PR caches the system uptime. */
static void probe_process(struct sysg_unit_view *u, struct sysg_cpu_history *h,
			  struct sysg_procstat *ps, int have_ps,
			  struct probe *pr)
{
	if (u->pid <= 0 ||
	    (!have_ps && sysg_procstat_read_at(pr->procfd, u->pid, ps) < 0) ||
	    (!pr->up_ms && sysg_proc_uptime_ms(&pr->up_ms) < 0))
		return;
	u->uptime_s = sysg_procstat_age_ms(ps, pr->up_ms) / 1000;
	u->cpu_percent = cpu_percent(ps, pr->up_ms, h);
	u->rss_bytes = (int64_t)ps->rss_pages * (int64_t)sysconf(_SC_PAGESIZE);
	if (!u->pgid)
		u->pgid = ps->pgrp;
}

static int set_command(struct sysg_unit_view *u, const char *cfg_cmd,
		       const struct sysg_unit_record *r, int alive)
{
	const char *cmd = cfg_cmd;

	if (r && r->command[0] && (alive > 0 || !cmd))
		cmd = r->command;
	if (!cmd || !cmd[0])
		return 0;
	u->command = strdup(cmd);
	return u->command ? 0 : -ENOMEM;
}

/* The view of one unit from its record R (may be NULL) and config entry
 * SVC (may be NULL). PR: see struct probe. */
static int make_view(struct sysg_unit_view *u, const char *name,
		     enum sysg_unit_kind kind, const struct sysg_service *svc,
		     const struct sysg_unit_record *r,
		     const struct sysg_status_opts *o, struct probe *pr)
{
	struct sysg_procstat ps;
	int have_ps = 0;
	int alive = r ? record_alive(r, pr, &ps, &have_ps) : 0;

	memset(u, 0, sizeof(*u));
	set_str(u->name, sizeof(u->name), name);
	u->kind = kind;
	u->uptime_s = -1;
	u->cpu_percent = -1;
	u->rss_bytes = -1;
	if (!r) {
		set_str(u->status, sizeof(u->status),
			 kind == SYSG_UNIT_CRON && o->supervisor_alive ?
			 "scheduled" : "stopped");
		set_str(u->reason, sizeof(u->reason),
			 kind == SYSG_UNIT_CRON ? "not run yet" : "never started");
	} else {
		resolve_status(u, r, alive, o->supervisor_alive);
		u->restarts = r->restarts;
		u->has_exit_code = r->has_exit_code;
		u->exit_code = r->exit_code;
		u->has_signal = r->has_signal;
		u->signal = r->signal;
		u->oom = !strncmp(r->reason, SYSG_OOM_PREFIX,
				  strlen(SYSG_OOM_PREFIX)) ||
			 !strncmp(r->reason, SYSG_OOM_LAST,
				  strlen(SYSG_OOM_LAST));
		u->started_at_ms = r->started_at_ms;
		if (alive > 0) {
			u->pid = r->pid;
			u->pgid = r->pgid;
			probe_process(u, o->cpu, &ps, have_ps, pr);
		}
	}
	u->health = health_of(u->status);
	/* a deploy whose switch-back failed: traffic may be wrong */
	if (r && u->health == SYSG_HEALTH_HEALTHY &&
	    !strncmp(r->reason, SYSG_DEGRADED_PREFIX,
		     strlen(SYSG_DEGRADED_PREFIX))) {
		u->health = SYSG_HEALTH_UNHEALTHY;
		set_str(u->reason, sizeof(u->reason), r->reason);
	}
	return set_command(u, svc ? svc->command : NULL, r, alive);
}

/* --------------------------------------------------------------- cron */

struct run_list {
	struct sysg_cron_run *v;
	size_t n, max;
	int err;
};

static int add_run(void *arg, const struct sysg_cron_run *run)
{
	struct run_list *l = arg;
	struct sysg_cron_run *v;

	if (l->n >= l->max)
		return 1;
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v) {
		l->err = -ENOMEM;
		return 1;
	}
	l->v = v;
	l->v[l->n++] = *run;
	return 0;
}

static time_t next_due(const struct sysg_cron *c, int64_t now_ms)
{
	struct sysg_cron_expr e;
	char err[SYSG_ERR_MAX];
	time_t next;

	if (!c || !c->expression ||
	    sysg_cron_parse(c->expression, &e, err, sizeof(err)) < 0 ||
	    sysg_cron_next(&e, c->timezone, (time_t)(now_ms / 1000), &next) < 0)
		return 0;
	return next;
}

/* Attach the cron view of U: schedule from C (NULL for an orphan),
 * history from the state backend. */
static int add_cron_view(struct sysg_unit_view *u, const struct sysg_cron *c,
			 struct sysg_state *st, const struct sysg_status_opts *o,
			 int64_t now_ms)
{
	struct sysg_cron_view *cv = calloc(1, sizeof(*cv));
	struct run_list l = { NULL, 0, 0, 0 };
	int rc = 0;

	if (!cv)
		return -ENOMEM;
	u->cron = cv;
	if (c && c->expression && !(cv->expression = strdup(c->expression)))
		return -ENOMEM;
	if (c && c->timezone && !(cv->timezone = strdup(c->timezone)))
		return -ENOMEM;
	if (c && o->supervisor_alive)
		cv->next_run_ms = (int64_t)next_due(c, now_ms) * 1000;
	l.max = o->recent_runs > 0 ? (size_t)o->recent_runs :
		SYSG_STATUS_RECENT_RUNS;
	if (st)
		rc = sysg_state_list_cron_runs(st, u->name, add_run, &l);
	cv->runs = l.v;
	cv->nruns = l.n;
	if (l.n)
		cv->last_run_ms = l.v[0].started_at_ms;
	return rc < 0 ? rc : l.err;
}

/* -------------------------------------------------------- the listing */

struct builder {
	const struct sysg_config *cfg;
	struct sysg_state *st;
	const struct sysg_status_opts *o;
	struct records rec;
	unsigned char *used;            /* per record: already listed */
	size_t nchild;                  /* records of kind "child" */
	int64_t now_ms;
	struct probe pr;                /* /proc and the uptime, once */
	struct sysg_status *out;
	size_t cap;
};

static struct sysg_unit_view *append(struct sysg_unit_view **v, size_t *n,
				     size_t *cap)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		struct sysg_unit_view *nv = realloc(*v, c * sizeof(*nv));

		if (!nv)
			return NULL;
		*v = nv;
		*cap = c;
	}
	memset(&(*v)[*n], 0, sizeof(**v));
	return &(*v)[(*n)++];
}


/* No record of SVC, no supervisor: pid.xml alone (either shape, as
 * systemg leaves it) may name a live process running SVC's command.
 * Fills *OUT as a "running" record and returns 1 when it does. */
static int pidmap_record(const struct builder *b,
			 const struct sysg_service *svc,
			 struct sysg_unit_record *out)
{
	int64_t pid = 0;

	if (b->o->supervisor_alive || !b->st ||
	    sysg_state_get_pid(b->st, svc->name, &pid) < 0 || pid <= 0 ||
	    !sysg_proc_runs_command(pid, svc->command))
		return 0;
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", svc->name);
	snprintf(out->kind, sizeof(out->kind), "service");
	snprintf(out->status, sizeof(out->status), "running");
	out->pid = pid;
	out->pgid = getpgid((pid_t)pid) > 0 ? getpgid((pid_t)pid) : 0;
	sysg_proc_start_ticks((pid_t)pid, &out->start_ticks);
	return 1;
}

/* Attach the child records named "NAME/..." to U, in name order. */
static int add_children(struct builder *b, struct sysg_unit_view *u)
{
	size_t len = strlen(u->name), cap = 0;
	int rc = b->nchild ? sort_records(&b->rec) : 0;

	for (size_t k = 0; rc == 0 && b->nchild && k < b->rec.n; k++) {
		size_t i = b->rec.order[k];
		const struct sysg_unit_record *r = b->rec.v[i];
		struct sysg_unit_view *c;

		if (b->used[i] || strcmp(r->kind, "child") ||
		    strncmp(r->name, u->name, len) || r->name[len] != '/')
			continue;
		c = append(&u->children, &u->nchildren, &cap);
		if (!c)
			return -ENOMEM;
		b->used[i] = 1;
		rc = make_view(c, r->name, SYSG_UNIT_CHILD, NULL, r, b->o,
			       &b->pr);
	}
	return rc;
}

/* Append one unit to the output, with its cron view and children. R is
 * the record at index I of the records (or I is -1). */
static int add_unit(struct builder *b, const char *name,
		    enum sysg_unit_kind kind, const struct sysg_service *svc,
		    const struct sysg_unit_record *r, long i)
{
	struct sysg_unit_view *u;
	int rc, cron;

	u = append(&b->out->units, &b->out->nunits, &b->cap);
	if (!u)
		return -ENOMEM;
	if (i >= 0)
		b->used[i] = 1;
	rc = make_view(u, name, kind, svc, r, b->o, &b->pr);
	cron = kind == SYSG_UNIT_CRON ||
	       (kind == SYSG_UNIT_ORPHANED && r && !strcmp(r->kind, "cron"));
	if (rc == 0 && cron)
		rc = add_cron_view(u, svc ? &svc->cron : NULL, b->st, b->o,
				   b->now_ms);
	if (rc == 0)
		rc = add_children(b, u);
	return rc;
}

/* The kind a record is listed under when its name is not in the config. */
static enum sysg_unit_kind record_kind(const struct builder *b,
				       const struct sysg_unit_record *r)
{
	if (!strcmp(r->kind, "unit"))
		return SYSG_UNIT_ADHOC;
	if (!strcmp(r->kind, "child"))
		return SYSG_UNIT_CHILD;
	if (b->cfg)
		return SYSG_UNIT_ORPHANED;
	return !strcmp(r->kind, "cron") ? SYSG_UNIT_CRON : SYSG_UNIT_SERVICE;
}

static int want(const struct builder *b, const char *name,
		enum sysg_unit_kind kind)
{
	if (b->o->service)
		return !strcmp(b->o->service, name);
	return kind != SYSG_UNIT_ORPHANED || b->o->all;
}

static int add_config_units(struct builder *b)
{
	for (size_t i = 0; b->cfg && i < b->cfg->nservices; i++) {
		const struct sysg_service *svc = &b->cfg->services[i];
		long k = find_record(&b->rec, svc->name, i);
		const struct sysg_unit_record *r = k >= 0 ? b->rec.v[k] : NULL;
		enum sysg_unit_kind kind = sysg_service_is_cron(svc) ?
					   SYSG_UNIT_CRON : svc->unit ?
					   SYSG_UNIT_ADHOC : SYSG_UNIT_SERVICE;
		struct sysg_unit_record pm;
		int rc;

		/* unit mode (sysg start -- CMD): the supervisor's one-service
		 * config, recorded as kind "unit" */
		if (kind == SYSG_UNIT_SERVICE && r && !strcmp(r->kind, "unit"))
			kind = SYSG_UNIT_ADHOC;
		if (!want(b, svc->name, kind) && !(b->o->service &&
		    svc->instance_of && !strcmp(svc->instance_of,
						b->o->service)))
			continue;
		if (!r && kind == SYSG_UNIT_SERVICE &&
		    pidmap_record(b, svc, &pm))
			r = &pm;
		rc = add_unit(b, svc->name, kind, svc, r, k);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* 1 when a record is not listed yet. */
static int records_left(const struct builder *b)
{
	for (size_t i = 0; i < b->rec.n; i++)
		if (!b->used[i])
			return 1;
	return 0;
}

/* Records not in the config, in name order: parents before children, so
 * that a child whose parent is listed lands in its parent's children. */
static int add_other_units(struct builder *b, int children)
{
	int rc = records_left(b) ? sort_records(&b->rec) : 0;

	for (size_t k = 0; rc == 0 && b->rec.order && k < b->rec.n; k++) {
		size_t i = b->rec.order[k];
		const struct sysg_unit_record *r = b->rec.v[i];
		enum sysg_unit_kind kind = record_kind(b, r);

		if (b->used[i] || (kind == SYSG_UNIT_CHILD) != children ||
		    (b->cfg && sysg_config_find_service(b->cfg, r->name) >= 0) ||
		    !want(b, r->name, kind))
			continue;
		rc = add_unit(b, r->name, kind, NULL, r, (long)i);
	}
	return rc;
}

static int build(struct builder *b)
{
	int rc;

	b->used = calloc(b->rec.n + 1, 1);
	if (!b->used)
		return -ENOMEM;
	/* one /proc lookup for the listing, not one per unit (without it,
	 * each read goes by the full path) */
	b->pr.procfd = b->rec.n ? sysg_proc_dir_open() : -1;
	if (b->pr.procfd < 0)
		b->pr.procfd = -1;
	for (size_t i = 0; i < b->rec.n; i++)
		b->nchild += !strcmp(b->rec.v[i]->kind, "child");
	rc = add_config_units(b);
	if (rc == 0)
		rc = add_other_units(b, 0);
	if (rc == 0)
		rc = add_other_units(b, 1);
	if (b->pr.procfd >= 0)
		close(b->pr.procfd);
	free(b->used);
	return rc;
}

/* With projects (more than the file's own services), each unit says
 * which one it belongs to. */
static void mark_projects(const struct sysg_config *cfg,
			  struct sysg_status *out)
{
	const char *plain = NULL;
	int others = 0;

	for (size_t i = 0; cfg && i < cfg->nprojects; i++) {
		if (cfg->projects[i].plain)
			plain = cfg->projects[i].id;
		else
			others = 1;
	}
	if (!others)
		return;
	for (size_t i = 0; i < out->nunits; i++) {
		struct sysg_unit_view *u = &out->units[i];
		const char *p = sysg_project_of_name(u->name);

		snprintf(u->project, sizeof(u->project), "%s",
			 p ? p : plain ? plain : "");
	}
}

int sysg_status_collect(const struct sysg_config *cfg, struct sysg_state *st,
			const struct sysg_status_opts *o,
			struct sysg_status *out, char *err, size_t errlen)
{
	struct builder b;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&b, 0, sizeof(b));
	b.cfg = cfg;
	b.st = st;
	b.o = o;
	b.out = out;
	b.now_ms = sysg_wall_ms();
	out->captured_at_ms = b.now_ms;
	rc = load_records(st, &b.rec);
	if (rc < 0) {
		sysg_errf(err, errlen, "cannot read the state: %s",
			  strerror(-rc));
		free_records(&b.rec);
		return rc;
	}
	rc = build(&b);
	free_records(&b.rec);
	if (rc == 0 && o->service && out->nunits == 0) {
		char msg[SYSG_NAME_MAX + 200];

		sysg_config_unknown_service(cfg, o->service, msg, sizeof(msg));
		sysg_errf(err, errlen, "%s", msg);
		rc = -ENOENT;
	} else if (rc < 0) {
		sysg_errf(err, errlen, "cannot build the status: %s",
			  strerror(-rc));
	}
	if (rc < 0)
		sysg_status_free(out);
	else
		out->overall = sysg_status_overall(out);
	if (rc == 0)
		mark_projects(cfg, out);
	return rc;
}

/* ------------------------------------------------------------ overall */

enum sysg_overall sysg_status_overall(const struct sysg_status *s)
{
	size_t good = 0, bad = 0, starting = 0, n = 0;

	for (size_t i = 0; i < s->nunits; i++) {
		const char *st = s->units[i].status;

		if (s->units[i].kind == SYSG_UNIT_ORPHANED)
			continue;
		n++;
		if (health_of(st) == SYSG_HEALTH_UNHEALTHY ||
		    s->units[i].health == SYSG_HEALTH_UNHEALTHY)
			bad++;
		else if (is_status(st, "running") || is_status(st, "exited") ||
			 is_status(st, "skipped") || is_status(st, "scheduled"))
			good++;
		else if (is_status(st, "starting"))
			starting++;
	}
	if (n == 0 || (bad == 0 && good > 0))
		return SYSG_OVERALL_HEALTHY;
	/* nothing does its job: every unit stopped, failed or blocked */
	if (good == 0 && starting == 0)
		return SYSG_OVERALL_FAILING;
	return SYSG_OVERALL_DEGRADED;
}
