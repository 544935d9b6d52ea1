/* proctree.c - /proc scanning, process trees and cgroup v2 helpers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "procstat.h"
#include "instance.h"
#include "proctree.h"

/* ------------------------------------------------------------------ */
/* /proc/PID/stat (parsed by procstat.c)                               */
/* ------------------------------------------------------------------ */

static void stat_from_procstat(const struct sysg_procstat *ps,
			       struct sysg_proc_stat *st)
{
	st->pid = (pid_t)ps->pid;
	st->ppid = (pid_t)ps->ppid;
	st->pgrp = (pid_t)ps->pgrp;
	st->sid = (pid_t)ps->sid;
	st->state = ps->state;
	st->start_ticks = ps->start_ticks;
	st->cpu_ticks = ps->utime + ps->stime;
	st->rss_pages = ps->rss_pages;
}

int sysg_proc_stat_read(pid_t pid, struct sysg_proc_stat *st)
{
	struct sysg_procstat ps;
	int rc = sysg_procstat_read(pid, &ps);

	if (rc == 0)
		stat_from_procstat(&ps, st);
	return rc;
}

int sysg_proc_start_ticks_of(pid_t pid, uint64_t *ticks)
{
	return sysg_proc_start_ticks(pid, ticks);
}

int sysg_proc_is_alive(pid_t pid, uint64_t ticks)
{
	struct sysg_procstat ps;

	return sysg_procstat_read(pid, &ps) == 0 &&
	       sysg_procstat_is_live(&ps, ticks);
}

/* ------------------------------------------------------------------ */
/* pid sets                                                            */
/* ------------------------------------------------------------------ */

int sysg_pidset_has(const struct sysg_pidset *s, pid_t pid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].pid == pid)
			return 1;
	return 0;
}

int sysg_pidset_add(struct sysg_pidset *s, pid_t pid, uint64_t ticks)
{
	if (sysg_pidset_has(s, pid))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct sysg_pident *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n].pid = pid;
	s->v[s->n].ticks = ticks;
	s->n++;
	return 0;
}

void sysg_pidset_clear(struct sysg_pidset *s)
{
	s->n = 0;
}

void sysg_pidset_free(struct sysg_pidset *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

int sysg_pidset_kill(const struct sysg_pidset *s, int sig)
{
	int n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (sysg_proc_is_alive(s->v[i].pid, s->v[i].ticks) &&
		    kill(s->v[i].pid, sig) == 0)
			n++;
	return n;
}

/* ------------------------------------------------------------------ */
/* Scanning                                                            */
/* ------------------------------------------------------------------ */

static int table_push(struct sysg_proc_snapshot *t, const struct sysg_proc_stat *st)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct sysg_proc_stat *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = *st;
	return 0;
}

struct table_scan {
	struct sysg_proc_snapshot *t;
	int rc;
};

static int table_scan_one(void *arg, const struct sysg_procstat *ps)
{
	struct table_scan *ts = arg;
	struct sysg_proc_stat st;

	if (!sysg_procstat_is_live(ps, 0))
		return 0;
	stat_from_procstat(ps, &st);
	ts->rc = table_push(ts->t, &st);
	return ts->rc != 0;
}

static int cmp_pid(const void *a, const void *b)
{
	const struct sysg_proc_stat *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Index of PID in T, or -1. */
static ssize_t table_find(const struct sysg_proc_snapshot *t, pid_t pid)
{
	struct sysg_proc_stat key = { .pid = pid };
	const struct sysg_proc_stat *hit = bsearch(&key, t->v, t->n,
						  sizeof(key), cmp_pid);

	return hit ? hit - t->v : -1;
}

/* Read, not found (unreadable, or no marker) */
static char no_inst[2];

static void inst_forget(struct sysg_proc_snapshot *t)
{
	for (size_t i = 0; i < t->icap; i++) {
		if (t->inst[i] != no_inst)
			free(t->inst[i]);
		t->inst[i] = NULL;
	}
}

const struct sysg_proc_stat *sysg_proc_snapshot_find(
	const struct sysg_proc_snapshot *t, pid_t pid)
{
	ssize_t i = table_find(t, pid);

	return i < 0 ? NULL : &t->v[i];
}

/* A marker read in an earlier take, kept for the same process. */
struct kept {
	pid_t pid;
	uint64_t ticks;
	char *inst;
	size_t len;
};

/* Take the markers read so far out of T (pid order), for keep_markers. */
static struct kept *take_markers(struct sysg_proc_snapshot *t, size_t *n)
{
	struct kept *k;

	*n = 0;
	for (size_t i = 0; i < t->n && i < t->icap; i++)
		*n += t->inst[i] && t->inst[i] != no_inst;
	if (!*n || !(k = malloc(*n * sizeof(*k)))) {
		*n = 0;
		return NULL;
	}
	*n = 0;
	for (size_t i = 0; i < t->n && i < t->icap; i++)
		if (t->inst[i] && t->inst[i] != no_inst) {
			k[(*n)++] = (struct kept){ t->v[i].pid,
				t->v[i].start_ticks, t->inst[i], t->ilen[i] };
			t->inst[i] = NULL;
		}
	return k;
}

/* Give each process of the new scan the marker read for it before (the
 * same pid and start time: the same process, whose SYSG_INSTANCE was set
 * at its exec), so a round does not re-read every environment. */
static void keep_markers(struct sysg_proc_snapshot *t, struct kept *k,
			 size_t n)
{
	size_t j = 0;

	for (size_t i = 0; i < t->n && j < n; i++) {
		while (j < n && k[j].pid < t->v[i].pid)
			j++;
		if (j < n && k[j].pid == t->v[i].pid &&
		    k[j].ticks == t->v[i].start_ticks) {
			t->inst[i] = k[j].inst;
			t->ilen[i] = k[j].len;
			k[j++].inst = NULL;
		}
	}
	for (j = 0; j < n; j++)
		free(k[j].inst);
	free(k);
}

int sysg_proc_snapshot_take(struct sysg_proc_snapshot *t)
{
	struct table_scan ts = { t, 0 };
	size_t nkept;
	struct kept *kept = take_markers(t, &nkept);
	int rc;

	inst_forget(t);
	t->kids_ok = 0;
	t->n = 0;
	rc = sysg_proc_scan(table_scan_one, &ts);
	if (rc == 0)
		rc = ts.rc;
	if (rc == 0 && t->mcap < t->cap) {
		unsigned char *m = realloc(t->member, t->cap);

		if (m) {
			t->member = m;
			t->mcap = t->cap;
		} else {
			rc = -ENOMEM;
		}
	}
	if (rc == 0 && t->icap < t->cap) {
		char **m = realloc(t->inst, t->cap * sizeof(*m));
		size_t *l = NULL;

		if (m) {
			memset(m + t->icap, 0, (t->cap - t->icap) * sizeof(*m));
			t->inst = m;
			l = realloc(t->ilen, t->cap * sizeof(*l));
		}
		if (l) {
			t->ilen = l;
			t->icap = t->cap;
		} else {
			rc = -ENOMEM;
		}
	}
	if (rc == 0)
		qsort(t->v, t->n, sizeof(*t->v), cmp_pid);
	else
		t->n = 0;       /* unusable: the kept markers are freed */
	keep_markers(t, kept, nkept);
	return rc;
}

void sysg_proc_snapshot_free(struct sysg_proc_snapshot *t)
{
	inst_forget(t);
	free(t->inst);
	free(t->ilen);
	free(t->kid_start);
	free(t->kids);
	free(t->stack);
	free(t->by_sid);
	free(t->by_pgrp);
	free(t->found);
	free(t->v);
	free(t->member);
	memset(t, 0, sizeof(*t));
}

/* Read all of PATH (at most 1 MiB) into a malloc'd, NUL-terminated
 * buffer; *LEN gets its length. NULL when unreadable. */
static char *read_whole(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 8192;
	char *buf = fd < 0 ? NULL : malloc(cap);
	ssize_t n = 1;

	*len = 0;
	while (buf && n > 0) {
		if (*len + 1 == cap) {
			char *nb = cap < (1u << 20) ? realloc(buf, cap * 2) : NULL;

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + *len, cap - *len - 1);
		if (n > 0)
			*len += (size_t)n;
	}
	if (buf)
		buf[*len] = '\0';
	if (fd >= 0)
		close(fd);
	return buf;
}

/* 1 when /proc/PID/environ holds MARKER (whole entry, or as a prefix). */
static int environ_has(pid_t pid, const char *marker, int prefix)
{
	char path[64], *buf;
	size_t len, mlen = strlen(marker);
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	buf = read_whole(path, &len);
	for (size_t i = 0; buf && i < len && !found; i += strlen(buf + i) + 1)
		found = !strncmp(buf + i, marker, mlen) &&
			(prefix || buf[i + mlen] == '\0');
	free(buf);
	return found;
}

int sysg_proc_environ_find(pid_t pid, const char *prefix, char *buf,
			   size_t len)
{
	char path[64], *env;
	size_t n, plen = strlen(prefix);
	int rc = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	env = read_whole(path, &n);
	if (!env)
		return -ESRCH;
	for (size_t i = 0; i < n; i += strlen(env + i) + 1)
		if (!strncmp(env + i, prefix, plen)) {
			rc = (size_t)snprintf(buf, len, "%s", env + i) >= len ?
			     -ENAMETOOLONG : 0;
			break;
		}
	free(env);
	return rc;
}

/* An environment entry of either marker variable (the current one, or
 * the older one a previous sysg set): what a snapshot caches. */
static int is_marker_entry(const char *e)
{
	static const char var[] = SYSG_INSTANCE_VAR "=",
			  old[] = SYSG_INSTANCE_VAR_OLD "=";

	return !strncmp(e, var, sizeof(var) - 1) ||
	       !strncmp(e, old, sizeof(old) - 1);
}

/* The SYSG_INSTANCE entries of process I of T (NUL-separated, ending
 * with an empty one), read from its environment the first time. */
static const char *inst_of(struct sysg_proc_snapshot *t, size_t i)
{
	char path[64], *env, *out;
	size_t len, o = 0;

	if (t->inst[i])
		return t->inst[i];
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)t->v[i].pid);
	env = read_whole(path, &len);
	out = env ? malloc(len + 2) : NULL;
	for (size_t k = 0; out && k < len; k += strlen(env + k) + 1)
		if (is_marker_entry(env + k)) {
			strcpy(out + o, env + k);
			o += strlen(env + k) + 1;
		}
	free(env);
	if (out && o) {
		/* kept from round to round: the markers, not the whole
		 * environment the buffer was sized for */
		char *fit = realloc(out, o + 1);

		t->inst[i] = fit ? fit : out;
		t->inst[i][o] = '\0';
	} else {
		free(out);
		t->inst[i] = no_inst;
	}
	t->ilen[i] = strlen(t->inst[i]);
	return t->inst[i];
}

/* A marker to look for, measured once per collect. */
struct marker {
	const char *s;
	size_t len;
	int prefix;
	int cached;     /* a SYSG_INSTANCE entry: looked up in the cache */
};

/* environ_has() for process I of T, from its cached markers. */
static int snap_environ_has(struct sysg_proc_snapshot *t, size_t i,
			    const struct marker *mk)
{
	const char *e;
	size_t first;

	if (!mk->cached)
		return environ_has(t->v[i].pid, mk->s, mk->prefix);
	e = inst_of(t, i);
	first = t->ilen[i];
	/* the usual case, one entry and a whole marker: lengths, then the
	 * end where markers differ (service, pid, serial), then all */
	if (!mk->prefix && e[first + 1] == '\0')
		return first == mk->len && e[first - 1] == mk->s[first - 1] &&
		       !memcmp(e, mk->s, first);
	for (; *e; e += strlen(e) + 1)
		if (!strncmp(e, mk->s, mk->len) &&
		    (mk->prefix || e[mk->len] == '\0'))
			return 1;
	return 0;
}

static int is_seed(const struct sysg_tree_match *m, const struct marker *mk,
		   struct sysg_proc_snapshot *t, size_t i,
		   const struct sysg_pidset *cg)
{
	const struct sysg_proc_stat *p = &t->v[i];

	if (m->main_pid > 0 && p->pid == m->main_pid)
		return 1;
	if ((m->sid > 0 && p->sid == m->sid) ||
	    (m->pgid > 0 && p->pgrp == m->pgid))
		return 1;
	if (cg && sysg_pidset_has(cg, p->pid))
		return 1;
	if (m->known)
		for (size_t k = 0; k < m->known->n; k++)
			if (m->known->v[k].pid == p->pid &&
			    m->known->v[k].ticks == p->start_ticks)
				return 1;
	if (m->marker && (!m->marker_ppid || p->ppid == m->marker_ppid))
		return snap_environ_has(t, i, mk);
	return 0;
}

static const struct sysg_proc_snapshot *sort_snap;     /* for the cmps */

static int cmp_sid(const void *a, const void *b)
{
	pid_t x = sort_snap->v[*(const size_t *)a].sid;
	pid_t y = sort_snap->v[*(const size_t *)b].sid;

	return (x > y) - (x < y);
}

static int cmp_pgrp(const void *a, const void *b)
{
	pid_t x = sort_snap->v[*(const size_t *)a].pgrp;
	pid_t y = sort_snap->v[*(const size_t *)b].pgrp;

	return (x > y) - (x < y);
}

static int grow_index(size_t **p, size_t n)
{
	size_t *a = realloc(*p, n * sizeof(*a));

	if (!a)
		return -ENOMEM;
	*p = a;
	return 0;
}

/* Index T once per take: each process's children (counting sort by
 * parent), and the processes sorted by session and by process group. */
static int index_kids(struct sysg_proc_snapshot *t)
{
	if (t->kids_ok)
		return 0;
	if (t->kcap < t->n + 1) {
		size_t cap = t->n + 1;

		if (grow_index(&t->kid_start, cap + 1) ||
		    grow_index(&t->kids, cap) || grow_index(&t->stack, cap) ||
		    grow_index(&t->by_sid, cap) ||
		    grow_index(&t->by_pgrp, cap) || grow_index(&t->found, cap))
			return -ENOMEM;
		t->kcap = cap;
	}
	for (size_t i = 0; i < t->n; i++)
		t->by_sid[i] = t->by_pgrp[i] = i;
	sort_snap = t;
	qsort(t->by_sid, t->n, sizeof(size_t), cmp_sid);
	qsort(t->by_pgrp, t->n, sizeof(size_t), cmp_pgrp);
	memset(t->kid_start, 0, (t->n + 2) * sizeof(*t->kid_start));
	for (size_t i = 0; i < t->n; i++) {
		ssize_t p = table_find(t, t->v[i].ppid);

		t->stack[i] = p >= 0 ? (size_t)p : SIZE_MAX;   /* parent */
		if (p >= 0)
			t->kid_start[p + 2]++;
	}
	for (size_t i = 0; i < t->n; i++)
		t->kid_start[i + 2] += t->kid_start[i + 1];
	for (size_t i = 0; i < t->n; i++)
		if (t->stack[i] != SIZE_MAX)
			t->kids[t->kid_start[t->stack[i] + 1]++] = i;
	t->kids_ok = 1;
	return 0;
}

/* Mark the descendants of members: a walk down from each member
 * through the children index, linear in what it marks. */
static void close_over_ppid(struct sysg_proc_snapshot *t)
{
	int changed = 1;
	size_t top = 0;

	if (index_kids(t) == 0) {
		for (size_t i = 0; i < t->n; i++)
			if (t->member[i])
				t->stack[top++] = i;
		while (top) {
			size_t p = t->stack[--top];

			for (size_t k = t->kid_start[p]; k < t->kid_start[p + 1];
			     k++)
				if (!t->member[t->kids[k]]) {
					t->member[t->kids[k]] = 1;
					t->stack[top++] = t->kids[k];
				}
		}
		return;
	}
	while (changed) {       /* no memory for the index: the slow way */
		changed = 0;
		for (size_t i = 0; i < t->n; i++) {
			ssize_t parent;

			if (t->member[i])
				continue;
			parent = table_find(t, t->v[i].ppid);
			if (parent >= 0 && t->member[parent])
				t->member[i] = changed = 1;
		}
	}
}

struct walk {
	struct sysg_proc_snapshot *t;
	pid_t self;
	size_t nfound, top;
};

/* Process I (-1: none) is a member: mark it, and walk down from it. */
static void seed(struct walk *w, ssize_t i)
{
	struct sysg_proc_snapshot *t = w->t;

	if (i < 0 || t->member[i] || t->v[i].pid == w->self)
		return;
	t->member[i] = 1;
	t->found[w->nfound++] = (size_t)i;
	t->stack[w->top++] = (size_t)i;
}

/* Seed every process whose session (PGRP 0) or group (1) is KEY. */
static void seed_range(struct walk *w, const size_t *ix, int pgrp, pid_t key)
{
	const struct sysg_proc_snapshot *t = w->t;
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		pid_t v = pgrp ? t->v[ix[mid]].pgrp : t->v[ix[mid]].sid;

		if (v < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < t->n && (pgrp ? t->v[ix[lo]].pgrp : t->v[ix[lo]].sid) ==
	     key; lo++)
		seed(w, (ssize_t)ix[lo]);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

/* collect_in through the indexes: linear in the tree found (and in the
 * marker's candidates), not in every process of the system. */
static int collect_indexed(struct sysg_proc_snapshot *t,
			   const struct sysg_tree_match *m,
			   const struct marker *mk,
			   const struct sysg_pidset *cg,
			   struct sysg_pidset *out)
{
	struct walk w = { t, getpid(), 0, 0 };
	int rc = 0;

	memset(t->member, 0, t->n);
	if (m->main_pid > 0)
		seed(&w, table_find(t, m->main_pid));
	if (m->sid > 0)
		seed_range(&w, t->by_sid, 0, m->sid);
	if (m->pgid > 0)
		seed_range(&w, t->by_pgrp, 1, m->pgid);
	for (size_t k = 0; k < cg->n; k++)
		seed(&w, table_find(t, cg->v[k].pid));
	for (size_t k = 0; m->known && k < m->known->n; k++) {
		ssize_t i = table_find(t, m->known->v[k].pid);

		if (i >= 0 && t->v[i].start_ticks == m->known->v[k].ticks)
			seed(&w, i);
	}
	if (m->marker && m->marker_ppid > 0) {
		ssize_t p = table_find(t, m->marker_ppid);

		for (size_t k = p < 0 ? 0 : t->kid_start[p];
		     p >= 0 && k < t->kid_start[p + 1]; k++)
			if (!t->member[t->kids[k]] &&
			    snap_environ_has(t, t->kids[k], mk))
				seed(&w, (ssize_t)t->kids[k]);
	} else if (m->marker) {
		for (size_t i = 0; i < t->n; i++)
			if (!t->member[i] && snap_environ_has(t, i, mk))
				seed(&w, (ssize_t)i);
	}
	while (w.top) {
		size_t p = t->stack[--w.top];

		for (size_t k = t->kid_start[p]; k < t->kid_start[p + 1]; k++)
			seed(&w, (ssize_t)t->kids[k]);
	}
	qsort(t->found, w.nfound, sizeof(size_t), cmp_size);    /* pid order */
	for (size_t k = 0; rc == 0 && k < w.nfound; k++)
		rc = sysg_pidset_add(out, t->v[t->found[k]].pid,
				     t->v[t->found[k]].start_ticks);
	return rc;
}

int sysg_proctree_collect_in(struct sysg_proc_snapshot *t,
			     const struct sysg_tree_match *m,
			     struct sysg_pidset *out)
{
	struct sysg_pidset cg = { 0 };
	struct marker mk = { 0 };
	pid_t self = getpid();
	int rc = 0;

	sysg_pidset_clear(out);
	if (m->marker) {
		mk.s = m->marker;
		mk.len = strlen(m->marker);
		mk.prefix = m->marker_prefix;
		mk.cached = is_marker_entry(m->marker);
	}
	/* the pids seed the walk, whose entries take their start times
	 * from the snapshot: no /proc read per listed pid */
	if (m->cgroup)
		sysg_cgroup_read_pids(m->cgroup, &cg);
	if (index_kids(t) == 0) {
		rc = collect_indexed(t, m, &mk, &cg, out);
		sysg_pidset_free(&cg);
		return rc;
	}
	for (size_t i = 0; i < t->n; i++)
		t->member[i] = t->v[i].pid != self &&
			       is_seed(m, &mk, t, i, &cg);
	close_over_ppid(t);
	for (size_t i = 0; rc == 0 && i < t->n; i++)
		if (t->member[i] && t->v[i].pid != self)
			rc = sysg_pidset_add(out, t->v[i].pid,
					     t->v[i].start_ticks);
	sysg_pidset_free(&cg);
	return rc;
}

int sysg_proctree_collect(const struct sysg_tree_match *m,
			  struct sysg_pidset *out)
{
	struct sysg_proc_snapshot t = { 0 };
	int rc = sysg_proc_snapshot_take(&t);

	if (rc == 0)
		rc = sysg_proctree_collect_in(&t, m, out);
	else
		sysg_pidset_clear(out);
	sysg_proc_snapshot_free(&t);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Synchronous stop                                                    */
/* ------------------------------------------------------------------ */

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void signal_tree(const struct sysg_tree_match *m,
			const struct sysg_pidset *s, int sig)
{
	if (m->pgid > 1)
		kill(-m->pgid, sig);
	sysg_pidset_kill(s, sig);
	if (sig == SIGKILL && m->cgroup)
		sysg_cgroup_kill(m->cgroup);
}

/* Signal the tree with SIG until it is empty or DEADLINE passes. */
static int stop_phase(const struct sysg_tree_match *m, struct sysg_pidset *s,
		      int sig, int64_t deadline)
{
	struct sysg_pidset signalled = { 0 };
	int rc = -ETIMEDOUT;

	for (;;) {
		if (sysg_proctree_collect(m, s) < 0 || s->n == 0) {
			rc = s->n == 0 ? 0 : -ETIMEDOUT;
			break;
		}
		for (size_t i = 0; i < s->n; i++)
			if (!sysg_pidset_has(&signalled, s->v[i].pid) &&
			    kill(s->v[i].pid, sig) == 0)
				sysg_pidset_add(&signalled, s->v[i].pid, 0);
		if (sig == SIGKILL && m->cgroup)
			sysg_cgroup_kill(m->cgroup);
		if (mono_ms() >= deadline)
			break;
		sleep_ms(10);
	}
	sysg_pidset_free(&signalled);
	return rc;
}

int sysg_proctree_stop_sync(const struct sysg_tree_match *m,
			    int64_t timeout_ms, int *killed)
{
	struct sysg_pidset s = { 0 };
	int rc;

	if (killed)
		*killed = 0;
	if (m->pgid > 1)
		kill(-m->pgid, SIGTERM);
	rc = stop_phase(m, &s, SIGTERM, mono_ms() + timeout_ms);
	if (rc < 0) {
		if (killed)
			*killed = 1;
		signal_tree(m, &s, SIGKILL);
		rc = stop_phase(m, &s, SIGKILL, mono_ms() + 2000);
	}
	sysg_pidset_free(&s);
	return rc;
}

/* ------------------------------------------------------------------ */
/* cgroup v2                                                           */
/* ------------------------------------------------------------------ */

static const char *const cgroup2_mounts[] = {
	"/sys/fs/cgroup", "/sys/fs/cgroup/unified", NULL,
};

static int is_cgroup2(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (stat(path, &st) < 0)
		return 0;
	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	return stat(path, &st) == 0;
}

/* "0::/path" from /proc/PID/cgroup. */
static int own_cgroup_path(pid_t pid, char *buf, size_t len)
{
	char path[64], data[SYSG_IO_CHUNK], *line;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	n = sysg_proc_read_file(path, data, sizeof(data));
	if (n < 0)
		return (int)n;
	for (line = strtok(data, "\n"); line; line = strtok(NULL, "\n"))
		if (!strncmp(line, "0::", 3)) {
			snprintf(buf, len, "%s", line + 3);
			return 0;
		}
	return -ENOTSUP;
}

static const char *cgroup2_mount(void)
{
	for (int i = 0; cgroup2_mounts[i]; i++)
		if (is_cgroup2(cgroup2_mounts[i]))
			return cgroup2_mounts[i];
	return NULL;
}

int sysg_cgroup_base(char *buf, size_t len)
{
	const char *mnt = cgroup2_mount();
	char rel[PATH_MAX], *slash;

	if (!mnt || own_cgroup_path(getpid(), rel, sizeof(rel)) < 0)
		return -ENOTSUP;
	slash = strrchr(rel, '/');
	if (slash && !strcmp(slash + 1, SYSG_CGROUP_LEAF))
		*(slash == rel ? slash + 1 : slash) = '\0';
	if ((size_t)snprintf(buf, len, "%s%s", mnt,
			     strcmp(rel, "/") ? rel : "") >= len)
		return -ENAMETOOLONG;
	if (access(buf, W_OK) < 0)
		return -ENOTSUP;
	return 0;
}

int sysg_cgroup_create(const char *base, const char *name, char *buf,
		       size_t len)
{
	char *slash;

	if ((size_t)snprintf(buf, len, "%s/%s", base, name) >= len)
		return -ENAMETOOLONG;
	for (slash = buf + strlen(base) + 1; (slash = strchr(slash, '/'));
	     slash++) {
		*slash = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
			*slash = '/';
			return -errno;
		}
		*slash = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int sysg_cgroup_open_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int sysg_cgroup_read_pids(const char *dir, struct sysg_pidset *s)
{
	char path[PATH_MAX], *buf, *p, *end;
	size_t len;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	buf = read_whole(path, &len);
	if (!buf)
		return errno ? -errno : -EIO;
	for (p = buf; rc == 0; p = end) {
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid > 0 && pid <= INT_MAX)
			rc = sysg_pidset_add(s, (pid_t)pid, 0);
	}
	free(buf);
	return rc;
}

int sysg_cgroup_read_procs(const char *dir, struct sysg_pidset *s)
{
	size_t from = s->n;
	int rc = sysg_cgroup_read_pids(dir, s);

	for (size_t i = from; i < s->n; i++)
		sysg_proc_start_ticks_of(s->v[i].pid, &s->v[i].ticks);
	return rc;
}

int sysg_cgroup_kill(const char *dir)
{
	char path[PATH_MAX];
	struct sysg_pidset s = { 0 };
	int fd, rc;

	snprintf(path, sizeof(path), "%s/cgroup.kill", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		rc = write(fd, "1", 1) == 1 ? 0 : -errno;
		close(fd);
		if (rc == 0)
			return 0;
	}
	rc = sysg_cgroup_read_procs(dir, &s);
	if (rc == 0)
		sysg_pidset_kill(&s, SIGKILL);
	sysg_pidset_free(&s);
	return rc;
}

int sysg_cgroup_remove(const char *dir)
{
	return rmdir(dir) < 0 ? -errno : 0;
}

int sysg_cgroup_prune(const char *base, int (*match)(const char *name),
		      int (*stale)(const char *name))
{
	DIR *d = opendir(base);
	struct dirent *e;
	char path[PATH_MAX];
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_type == DT_DIR && match(e->d_name) &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", base,
				     e->d_name) < sizeof(path)) {
			if (stale)
				sysg_cgroup_prune(path, stale, NULL);
			n += rmdir(path) == 0;
		}
	closedir(d);
	return n;
}

int sysg_cgroup_of_pid(pid_t pid, char *buf, size_t len)
{
	const char *mnt = cgroup2_mount();
	char rel[PATH_MAX];
	int rc;

	if (!mnt)
		return -ENOTSUP;
	rc = own_cgroup_path(pid, rel, sizeof(rel));
	if (rc < 0)
		return rc;
	if ((size_t)snprintf(buf, len, "%s%s", mnt, rel) >= len)
		return -ENAMETOOLONG;
	return 0;
}
