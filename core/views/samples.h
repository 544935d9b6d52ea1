/* samples.h - CPU and memory samples of each unit, kept by the resident
 * supervisor in a bounded ring, and the small terminal chart that
 * `sysg inspect` draws from them.
 *
 * The supervisor calls sysg_samples_take() on a loop timer
 * (SYSG_SAMPLE_INTERVAL_MS) with the pids of the unit's process tree, for
 * every unit when the config has `metrics:`, else (lazy) for the units
 * `inspect` asked for in the last 10 minutes (daemon.c). A
 * sample is the tree's CPU use since the previous sample (percent of one
 * core, from utime+stime in /proc/PID/stat) and its resident memory (sum
 * of /proc/PID/statm). Each unit keeps its newest samples, at most the
 * capacity (the retention over the interval), none older than the
 * retention, and all units together within a memory cap (an equal share
 * each); a sample that leaves a ring goes to the evict hook (the spill
 * to disk, spill.h) first. Rings grow by doubling up to their share, so
 * a short-lived supervisor holds little; the per-process bookkeeping only
 * grows when a tree does. The limits come from the config's `metrics:`
 * (SPEC 11), see sysg_samples_limit().
 */
#ifndef SYSG_SAMPLES_H
#define SYSG_SAMPLES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "proc/proc.h"

#define SYSG_SAMPLES_CAP        120     /* 10 minutes at 5 s */
#define SYSG_SAMPLE_INTERVAL_MS 5000

struct sysg_sample {
	int64_t at_ms;          /* wall clock, ms since the epoch */
	double cpu_percent;     /* since the previous sample; < 0: unknown */
	int64_t rss_bytes;      /* sum over the tree; 0 when nothing runs */
	int nprocs;             /* processes seen */
};

struct sysg_samples;

/* An empty set of rings of CAPACITY samples each (0: SYSG_SAMPLES_CAP).
 * 0 or -ENOMEM. */
int sysg_samples_new(struct sysg_samples **out, size_t capacity);

/* Limit the rings: PER_UNIT samples each (0: SYSG_SAMPLES_CAP), none
 * older than RETENTION_MS (0: no age limit), MAX_BYTES of samples in all
 * (0: no cap). Rings over a new limit shrink at their next sample. */
void sysg_samples_limit(struct sysg_samples *s, size_t per_unit,
			int64_t retention_ms, size_t max_bytes);

/* Called with each sample that leaves a ring (oldest first per unit). */
typedef void (*sysg_samples_evict_fn)(void *arg, const char *name,
				      const struct sysg_sample *smp);
void sysg_samples_on_evict(struct sysg_samples *s, sysg_samples_evict_fn fn,
			   void *arg);

/* Bytes of sample storage held by all rings. */
size_t sysg_samples_bytes(const struct sysg_samples *s);

/* Release everything (NULL is fine). */
void sysg_samples_free(struct sysg_samples *s);

/* Record one sample of unit NAME whose processes are PIDS (NPIDS may be
 * 0: nothing runs). UPTIME_MS is the system uptime (/proc/uptime) and
 * WALL_MS the wall clock of this round, shared by all units. Processes
 * that vanish meanwhile are skipped. 0 or -ENOMEM. */
/* The same from processes already read (a round's /proc scan). */
int sysg_samples_take_stats(struct sysg_samples *s, const char *name,
			    const struct sysg_proc_stat *procs, size_t n,
			    int64_t uptime_ms, int64_t wall_ms);
int sysg_samples_take(struct sysg_samples *s, const char *name,
		      const pid_t *pids, size_t npids, int64_t uptime_ms,
		      int64_t wall_ms);

/* Append V[0..N) (oldest first, as sysg_samples_get gave them) to
 * NAME's ring: the samples a live upgrade handed over. The CPU of the
 * next sample taken is unknown (no previous CPU times). 0 or -ENOMEM. */
int sysg_samples_restore(struct sysg_samples *s, const char *name,
			 const struct sysg_sample *v, size_t n);

/* Copy NAME's samples, oldest first, into a malloc'd *OUT (NULL with
 * *N = 0 when there are none). The caller frees *OUT. 0 or -ENOMEM. */
int sysg_samples_get(const struct sysg_samples *s, const char *name,
		     struct sysg_sample **out, size_t *n);

/* NAME's newest sample into *OUT. 0, or -ENOENT when it has none. */
int sysg_samples_latest(const struct sysg_samples *s, const char *name,
			struct sysg_sample *out);

/* Drop NAME's ring (a service removed by a reload). */
void sysg_samples_forget(struct sysg_samples *s, const char *name);

/* [{"at": ISO-8601, "cpu_percent": 0.5|null, "rss_bytes": N,
 *   "processes": N}, ...] oldest first; a new reference or NULL. */
json_t *sysg_samples_to_json(const struct sysg_sample *v, size_t n);

/* Read the above back (for clients); unknown fields are ignored.
 * 0 or -EINVAL / -ENOMEM; *OUT is malloc'd. */
int sysg_samples_from_json(const json_t *a, struct sysg_sample **out,
			   size_t *n);

/* A sparkline of V[0..N) scaled to [0, MAX] (MAX <= 0: the largest
 * value), one block character (U+2581..U+2588) per value, the newest
 * WIDTH values at most; negative values print as a space. BUF gets the
 * UTF-8 text (NUL-terminated, truncated to LEN). */
void sysg_sparkline(const double *v, size_t n, double max, size_t width,
		    char *buf, size_t len);

/* Print the CPU and memory chart of V[0..N) (oldest first) in at most
 * WIDTH columns, with INTERVAL_MS between samples, e.g.
 *     cpu  ▁▁▂▅█▃▁  now 0.3%  max 12.5%
 *     mem  ▅▅▅▆▆▇█  now 11.9 MiB  max 12.1 MiB */
void sysg_samples_chart(const struct sysg_sample *v, size_t n, int width,
			int64_t interval_ms, FILE *out);

#endif
