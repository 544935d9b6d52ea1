/* samples.c - per-unit rings of CPU/memory samples (see samples.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "proc/proc.h"
#include "samples.h"
#include "status.h"

/* CPU time of one process at the previous sample. */
struct prev_proc {
	int64_t pid;
	uint64_t start_ticks;
	uint64_t cpu_ticks;
};

/* A sample as kept: 16 bytes instead of 32 (the ring of every unit is
 * part of the resident supervisor's memory, SPEC 9). */
struct slot {
	uint32_t at_s;                  /* wall clock: seconds ... */
	uint16_t at_msec;               /* ... and milliseconds */
	uint16_t nprocs;
	float cpu_percent;              /* < 0: unknown */
	uint32_t rss_kib;
};

struct ring {
	char *name;
	struct slot *v;                 /* ALLOC slots, grown as needed */
	size_t alloc;
	size_t first, count;            /* oldest slot; samples held */
	struct prev_proc *prev;
	size_t nprev, prev_cap;
	int64_t prev_uptime_ms;         /* 0: no previous sample */
};

struct sysg_samples {
	size_t cap;                     /* samples per unit (retention) */
	int64_t retention_ms;           /* 0: only CAP limits */
	size_t budget;                  /* slots of all rings together */
	sysg_samples_evict_fn evict;
	void *evict_arg;
	struct ring *rings;
	size_t n;
	size_t hint;                    /* where find_ring looks first */
	struct prev_proc *cur;          /* scratch of sysg_samples_take */
	size_t cur_cap;
};

int sysg_samples_new(struct sysg_samples **out, size_t capacity)
{
	struct sysg_samples *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->cap = capacity ? capacity : SYSG_SAMPLES_CAP;
	s->budget = SIZE_MAX;
	*out = s;
	return 0;
}

void sysg_samples_limit(struct sysg_samples *s, size_t per_unit,
			int64_t retention_ms, size_t max_bytes)
{
	s->cap = per_unit ? per_unit : SYSG_SAMPLES_CAP;
	s->retention_ms = retention_ms > 0 ? retention_ms : 0;
	s->budget = max_bytes ? max_bytes / sizeof(struct slot) : SIZE_MAX;
	if (!s->budget)
		s->budget = 1;
}

void sysg_samples_on_evict(struct sysg_samples *s, sysg_samples_evict_fn fn,
			   void *arg)
{
	s->evict = fn;
	s->evict_arg = arg;
}

size_t sysg_samples_bytes(const struct sysg_samples *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->rings[i].alloc * sizeof(struct slot);
	return n;
}

static void ring_free(struct ring *r)
{
	free(r->name);
	free(r->v);
	free(r->prev);
}

void sysg_samples_free(struct sysg_samples *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		ring_free(&s->rings[i]);
	free(s->rings);
	free(s->cur);
	free(s);
}

/* Units are looked up in the order of the rings (every round, every
 * status): the one after the last found is tried first, so a round is
 * linear in the units, not quadratic. */
static struct ring *find_ring(const struct sysg_samples *s, const char *name)
{
	size_t *hint = &((struct sysg_samples *)s)->hint;

	for (size_t k = 0; k < s->n; k++) {
		size_t i = (*hint + k) % s->n;

		if (!strcmp(s->rings[i].name, name)) {
			*hint = i + 1 < s->n ? i + 1 : 0;
			return &s->rings[i];
		}
	}
	return NULL;
}

static struct ring *get_ring(struct sysg_samples *s, const char *name)
{
	struct ring *r = find_ring(s, name), *nv;

	if (r)
		return r;
	nv = realloc(s->rings, (s->n + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	s->rings = nv;
	r = &nv[s->n];
	memset(r, 0, sizeof(*r));
	r->name = strdup(name);
	if (!r->name) {
		ring_free(r);
		return NULL;
	}
	s->n++;
	return r;
}

void sysg_samples_forget(struct sysg_samples *s, const char *name)
{
	struct ring *r = find_ring(s, name);
	size_t i;

	if (!r)
		return;
	i = (size_t)(r - s->rings);
	ring_free(r);
	memmove(&s->rings[i], &s->rings[i + 1],
		(s->n - i - 1) * sizeof(*s->rings));
	s->n--;
}

/* ------------------------------------------------------------ sample */

static void pack(struct slot *d, const struct sysg_sample *smp)
{
	int64_t rss_kib = smp->rss_bytes / 1024;

	d->at_s = (uint32_t)(smp->at_ms / 1000);
	d->at_msec = (uint16_t)(smp->at_ms % 1000);
	d->nprocs = (uint16_t)(smp->nprocs > UINT16_MAX ? UINT16_MAX :
			       smp->nprocs);
	d->cpu_percent = (float)smp->cpu_percent;
	d->rss_kib = (uint32_t)(rss_kib > UINT32_MAX ? UINT32_MAX : rss_kib);
}

static void unpack(struct sysg_sample *d, const struct slot *v)
{
	d->at_ms = (int64_t)v->at_s * 1000 + v->at_msec;
	d->nprocs = v->nprocs;
	d->cpu_percent = v->cpu_percent < 0 ? -1 : (double)v->cpu_percent;
	d->rss_bytes = (int64_t)v->rss_kib * 1024;
}

/* ----------------------------------------------------------- rings */

static struct slot *ring_at(const struct ring *r, size_t i)
{
	return &r->v[(r->first + i) % r->alloc];
}

/* How many samples one ring may hold now: the retention, and an equal
 * share of the memory cap. */
static size_t ring_limit(const struct sysg_samples *s)
{
	size_t share = s->budget / (s->n ? s->n : 1);

	if (share < 1)
		share = 1;
	return share < s->cap ? share : s->cap;
}

/* The oldest sample leaves R: to the evict hook (spill), then gone. */
static void ring_drop_oldest(const struct sysg_samples *s, struct ring *r)
{
	struct sysg_sample smp;

	if (!r->count)
		return;
	if (s->evict) {
		unpack(&smp, ring_at(r, 0));
		s->evict(s->evict_arg, r->name, &smp);
	}
	r->first = (r->first + 1) % r->alloc;
	r->count--;
}

/* Re-lay R's samples oldest first into ALLOC slots (>= count). */
static int ring_realloc(struct ring *r, size_t alloc)
{
	struct slot *v = malloc(alloc * sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < r->count; i++)
		v[i] = *ring_at(r, i);
	free(r->v);
	r->v = v;
	r->alloc = alloc;
	r->first = 0;
	return 0;
}

/* Append SLOT (taken at NOW_MS) to R under the retention and memory
 * limits; storage grows by doubling and shrinks when the limit does. */
static int ring_push(struct sysg_samples *s, struct ring *r,
		     const struct slot *slot, int64_t now_ms)
{
	size_t limit = ring_limit(s);
	struct sysg_sample oldest;

	while (r->count && r->count >= limit)
		ring_drop_oldest(s, r);
	while (r->count && s->retention_ms) {
		unpack(&oldest, ring_at(r, 0));
		if (oldest.at_ms >= now_ms - s->retention_ms)
			break;
		ring_drop_oldest(s, r);
	}
	if (r->alloc > limit && ring_realloc(r, limit) < 0)
		return -ENOMEM;
	if (r->count == r->alloc) {
		size_t alloc = r->alloc ? r->alloc * 2 : 8;

		if (ring_realloc(r, alloc < limit ? alloc : limit) < 0)
			return -ENOMEM;
	}
	*ring_at(r, r->count) = *slot;
	r->count++;
	return 0;
}

static const struct prev_proc *find_prev(const struct ring *r, int64_t pid,
					 uint64_t start_ticks)
{
	for (size_t i = 0; i < r->nprev; i++)
		if (r->prev[i].pid == pid && r->prev[i].start_ticks == start_ticks)
			return &r->prev[i];
	return NULL;
}

/* Grow *V (capacity *CAP) to hold N entries. 0 or -ENOMEM. */
static int ensure_procs(struct prev_proc **v, size_t *cap, size_t n)
{
	struct prev_proc *nv;

	if (n <= *cap)
		return 0;
	nv = realloc(*v, n * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = n;
	return 0;
}

/* CPU ticks PS used since the previous sample of R: the difference for a
 * process seen then, everything for one started since, nothing for one
 * whose earlier use is unknown. */
static uint64_t ticks_since(const struct ring *r, const struct sysg_proc_stat *ps)
{
	uint64_t now = ps->cpu_ticks;
	const struct prev_proc *p = find_prev(r, ps->pid, ps->start_ticks);
	int64_t started_ms = (int64_t)(ps->start_ticks * 1000 /
				       (uint64_t)sysg_proc_clk_tck());

	if (p)
		return now >= p->cpu_ticks ? now - p->cpu_ticks : 0;
	return started_ms >= r->prev_uptime_ms ? now : 0;
}

int sysg_samples_take_stats(struct sysg_samples *s, const char *name,
			    const struct sysg_proc_stat *procs, size_t n,
			    int64_t uptime_ms, int64_t wall_ms)
{
	static long page;
	struct ring *r = get_ring(s, name);
	struct prev_proc *cur;
	struct sysg_sample smp = { .at_ms = wall_ms, .cpu_percent = -1 };
	struct slot slot;
	uint64_t ticks = 0;
	size_t k = 0;

	if (!page)
		page = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
	if (!r || ensure_procs(&s->cur, &s->cur_cap, n) < 0)
		return -ENOMEM;
	cur = s->cur;
	for (size_t i = 0; i < n; i++) {
		const struct sysg_proc_stat *ps = &procs[i];

		if (ps->state == 'Z')
			continue;
		smp.rss_bytes += (int64_t)ps->rss_pages * page;
		if (r->prev_uptime_ms)
			ticks += ticks_since(r, ps);
		cur[k++] = (struct prev_proc){ ps->pid, ps->start_ticks,
					       ps->cpu_ticks };
	}
	smp.nprocs = (int)k;
	if (r->prev_uptime_ms && uptime_ms > r->prev_uptime_ms)
		smp.cpu_percent = (double)ticks * 1000.0 /
				  (double)sysg_proc_clk_tck() * 100.0 /
				  (double)(uptime_ms - r->prev_uptime_ms);
	pack(&slot, &smp);
	if (ring_push(s, r, &slot, wall_ms) < 0)
		return -ENOMEM;
	if (ensure_procs(&r->prev, &r->prev_cap, k) == 0) {
		if (k)
			memcpy(r->prev, cur, k * sizeof(*cur));
		r->nprev = k;
		r->prev_uptime_ms = uptime_ms > 0 ? uptime_ms : 1;
	}
	return 0;
}

int sysg_samples_take(struct sysg_samples *s, const char *name,
		      const pid_t *pids, size_t npids, int64_t uptime_ms,
		      int64_t wall_ms)
{
	struct sysg_proc_stat *v = npids ? calloc(npids, sizeof(*v)) : NULL;
	size_t k = 0;
	int rc;

	if (npids && !v)
		return -ENOMEM;
	for (size_t i = 0; i < npids; i++)
		if (sysg_proc_stat_read(pids[i], &v[k]) == 0)
			k++;
	rc = sysg_samples_take_stats(s, name, v, k, uptime_ms, wall_ms);
	free(v);
	return rc;
}

int sysg_samples_restore(struct sysg_samples *s, const char *name,
			 const struct sysg_sample *v, size_t n)
{
	struct ring *r = get_ring(s, name);

	for (size_t i = 0; r && i < n; i++) {
		struct slot slot;

		pack(&slot, &v[i]);
		if (ring_push(s, r, &slot, v[i].at_ms) < 0)
			return -ENOMEM;
	}
	return r ? 0 : -ENOMEM;
}

int sysg_samples_latest(const struct sysg_samples *s, const char *name,
			struct sysg_sample *out)
{
	const struct ring *r = find_ring(s, name);

	if (!r || !r->count)
		return -ENOENT;
	(void)s;
	unpack(out, ring_at(r, r->count - 1));
	return 0;
}

int sysg_samples_get(const struct sysg_samples *s, const char *name,
		     struct sysg_sample **out, size_t *n)
{
	const struct ring *r = find_ring(s, name);

	*out = NULL;
	*n = 0;
	if (!r || !r->count)
		return 0;
	*out = malloc(r->count * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < r->count; i++)
		unpack(&(*out)[i], ring_at(r, i));
	*n = r->count;
	return 0;
}

/* -------------------------------------------------------------- JSON */

json_t *sysg_samples_to_json(const struct sysg_sample *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		char at[40];
		json_t *o;

		sysg_format_iso8601(v[i].at_ms, at, sizeof(at));
		o = json_pack("{s:s, s:o, s:I, s:i}", "at", at, "cpu_percent",
			      v[i].cpu_percent >= 0 ? json_real(v[i].cpu_percent) :
			      json_null(), "rss_bytes", (json_int_t)v[i].rss_bytes,
			      "processes", v[i].nprocs);
		if (!o || json_array_append_new(a, o) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static int sample_from_json(const json_t *o, struct sysg_sample *smp)
{
	const json_t *at = json_object_get(o, "at");
	const json_t *cpu = json_object_get(o, "cpu_percent");
	const json_t *rss = json_object_get(o, "rss_bytes");
	const json_t *np = json_object_get(o, "processes");

	memset(smp, 0, sizeof(*smp));
	if (!json_is_string(at) ||
	    sysg_parse_iso8601(json_string_value(at), &smp->at_ms) < 0 ||
	    !(json_is_number(cpu) || json_is_null(cpu)) ||
	    !json_is_integer(rss) || (np && !json_is_integer(np)))
		return -EINVAL;
	smp->cpu_percent = json_is_null(cpu) ? -1 : json_number_value(cpu);
	smp->rss_bytes = json_integer_value(rss);
	smp->nprocs = np ? (int)json_integer_value(np) : 0;
	return 0;
}

int sysg_samples_from_json(const json_t *a, struct sysg_sample **out,
			   size_t *n)
{
	size_t len = json_array_size(a);

	*out = NULL;
	*n = 0;
	if (!json_is_array(a))
		return -EINVAL;
	if (!len)
		return 0;
	*out = calloc(len, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		if (sample_from_json(json_array_get(a, i), &(*out)[i]) < 0) {
			free(*out);
			*out = NULL;
			return -EINVAL;
		}
	}
	*n = len;
	return 0;
}

/* ------------------------------------------------------------- chart */

void sysg_sparkline(const double *v, size_t n, double max, size_t width,
		    char *buf, size_t len)
{
	static const char *const blocks[8] = { "\u2581", "\u2582", "\u2583",
					       "\u2584", "\u2585", "\u2586",
					       "\u2587", "\u2588" };
	size_t first = n > width ? n - width : 0, used = 0;

	if (!len)
		return;
	buf[0] = '\0';
	if (max <= 0)
		for (size_t i = first; i < n; i++)
			if (v[i] > max)
				max = v[i];
	for (size_t i = first; i < n; i++) {
		const char *cell = " ";
		size_t cl;

		if (v[i] >= 0) {
			int level = max > 0 ? (int)(v[i] / max * 7.0 + 0.5) : 0;

			cell = blocks[level < 0 ? 0 : level > 7 ? 7 : level];
		}
		cl = strlen(cell);
		if (used + cl + 1 > len)
			break;
		memcpy(buf + used, cell, cl + 1);
		used += cl;
	}
}

static void mib(int64_t bytes, char *buf, size_t len)
{
	snprintf(buf, len, "%.1f MiB", (double)bytes / 1048576.0);
}

static void chart_row(const char *label, const double *v, size_t n,
		      size_t width, const char *now, const char *max, FILE *out)
{
	char line[8 * 512 + 1];

	sysg_sparkline(v, n, 0, width, line, sizeof(line));
	fprintf(out, "  %s  %s  now %s  max %s\n", label, line, now, max);
}

void sysg_samples_chart(const struct sysg_sample *v, size_t n, int width,
			int64_t interval_ms, FILE *out)
{
	size_t cols = width > 60 ? (size_t)width - 40 : 20;
	double *cpu, *mem, cmax = 0, mmax = 0;
	char now[32], max[32];

	if (!n)
		return;
	cols = cols > 512 ? 512 : cols;
	cpu = calloc(n, sizeof(*cpu));
	mem = calloc(n, sizeof(*mem));
	if (!cpu || !mem)
		goto out;
	for (size_t i = 0; i < n; i++) {
		cpu[i] = v[i].cpu_percent;
		mem[i] = (double)v[i].rss_bytes;
		cmax = cpu[i] > cmax ? cpu[i] : cmax;
		mmax = mem[i] > mmax ? mem[i] : mmax;
	}
	fprintf(out, "  (%zu sample%s, one every %llds, newest right)\n", n,
		n == 1 ? "" : "s", (long long)(interval_ms / 1000));
	if (v[n - 1].cpu_percent >= 0)
		snprintf(now, sizeof(now), "%.1f%%", v[n - 1].cpu_percent);
	else
		snprintf(now, sizeof(now), "-");
	snprintf(max, sizeof(max), "%.1f%%", cmax);
	chart_row("cpu", cpu, n, cols, now, max, out);
	mib(v[n - 1].rss_bytes, now, sizeof(now));
	mib((int64_t)mmax, max, sizeof(max));
	chart_row("mem", mem, n, cols, now, max, out);
out:
	free(cpu);
	free(mem);
}
