/* spill.c - sample segments on disk (see spill.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "spill.h"

struct seg {
	char *unit;
	int64_t first_at;
	int64_t size;
};

struct sysg_spill {
	int dirfd;
	int64_t max, segment, total;
	struct seg *v;
	size_t n;
};

/* "UNIT@FIRST_AT.seg" -> UNIT (malloc'd) and FIRST_AT; -1 if not one. */
static int parse_name(const char *name, char **unit, int64_t *first_at)
{
	const char *at = strrchr(name, '@');
	size_t len = strlen(name);
	char *end;
	long long v;

	if (!at || at == name || len < 5 || strcmp(name + len - 4, ".seg"))
		return -1;
	v = strtoll(at + 1, &end, 10);
	if (end != name + len - 4 || v < 0)
		return -1;
	*unit = strndup(name, (size_t)(at - name));
	*first_at = v;
	return *unit ? 0 : -1;
}

static void seg_name(const struct seg *g, char *buf, size_t len)
{
	snprintf(buf, len, "%s@%lld.seg", g->unit, (long long)g->first_at);
}

static int add_seg(struct sysg_spill *sp, char *unit, int64_t first_at,
		   int64_t size)
{
	struct seg *v = realloc(sp->v, (sp->n + 1) * sizeof(*v));

	if (!v) {
		free(unit);
		return -ENOMEM;
	}
	sp->v = v;
	v[sp->n++] = (struct seg){ unit, first_at, size };
	sp->total += size;
	return 0;
}

static int scan(struct sysg_spill *sp)
{
	int fd = dup(sp->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	int rc = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		struct stat st;
		char *unit;
		int64_t first;

		if (parse_name(e->d_name, &unit, &first) < 0)
			continue;
		if (fstatat(sp->dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode)) {
			free(unit);
			continue;
		}
		rc = add_seg(sp, unit, first, st.st_size);
	}
	closedir(d);
	return rc;
}

int sysg_spill_open(struct sysg_spill **out, const char *dir,
		    int64_t max_bytes, int64_t segment_bytes, char *err,
		    size_t errlen)
{
	struct sysg_spill *sp = calloc(1, sizeof(*sp));
	int rc;

	*out = NULL;
	if (!sp)
		return -ENOMEM;
	sp->max = max_bytes;
	sp->segment = segment_bytes > 0 ? segment_bytes : max_bytes;
	rc = sysg_mkdir_p(dir, 0700, 0);
	sp->dirfd = rc < 0 ? -1 : open(dir, O_RDONLY | O_DIRECTORY |
				       O_CLOEXEC | O_NOFOLLOW);
	if (rc == 0 && sp->dirfd < 0)
		rc = -errno;
	if (rc == 0)
		rc = scan(sp);
	if (rc < 0) {
		sysg_errf(err, errlen, "metrics.spillover_path %s: %s", dir,
			  strerror(-rc));
		sysg_spill_close(sp);
		return rc;
	}
	*out = sp;
	return 0;
}

void sysg_spill_close(struct sysg_spill *sp)
{
	if (!sp)
		return;
	if (sp->dirfd >= 0)
		close(sp->dirfd);
	for (size_t i = 0; i < sp->n; i++)
		free(sp->v[i].unit);
	free(sp->v);
	free(sp);
}

int64_t sysg_spill_bytes(const struct sysg_spill *sp)
{
	return sp ? sp->total : 0;
}

/* Delete segment I. */
static void drop_seg(struct sysg_spill *sp, size_t i)
{
	char name[512];

	seg_name(&sp->v[i], name, sizeof(name));
	unlinkat(sp->dirfd, name, 0);
	sp->total -= sp->v[i].size;
	free(sp->v[i].unit);
	sp->v[i] = sp->v[--sp->n];
}

static long oldest_seg(const struct sysg_spill *sp)
{
	long best = -1;

	for (size_t i = 0; i < sp->n; i++)
		if (best < 0 || sp->v[i].first_at < sp->v[best].first_at)
			best = (long)i;
	return best;
}

/* UNIT's newest segment, or -1. */
static long newest_of(const struct sysg_spill *sp, const char *unit)
{
	long best = -1;

	for (size_t i = 0; i < sp->n; i++)
		if (!strcmp(sp->v[i].unit, unit) &&
		    (best < 0 || sp->v[i].first_at > sp->v[best].first_at))
			best = (long)i;
	return best;
}

/* The segment UNIT's next LEN bytes go to, making room under the cap
 * first. -1 when LEN alone is over the cap or memory ran out. */
static long target_seg(struct sysg_spill *sp, const char *unit, int64_t at,
		       int64_t len)
{
	long t;

	if (len > sp->max)
		return -1;
	while (sp->n && sp->total + len > sp->max)
		drop_seg(sp, (size_t)oldest_seg(sp));
	t = newest_of(sp, unit);
	if (t >= 0 && sp->v[t].size + len <= sp->segment)
		return t;
	if (t >= 0 && at <= sp->v[t].first_at)
		at = sp->v[t].first_at + 1;     /* a fresh, later name */
	{
		char *u = strdup(unit);

		if (!u || add_seg(sp, u, at, 0) < 0)
			return -1;
	}
	return (long)sp->n - 1;
}

int sysg_spill_write(struct sysg_spill *sp, const char *unit,
		     const struct sysg_sample *smp)
{
	char line[128], name[512];
	int len = snprintf(line, sizeof(line), "%lld %.3f %lld %d\n",
			   (long long)smp->at_ms,
			   smp->cpu_percent < 0 ? -1.0 : smp->cpu_percent,
			   (long long)smp->rss_bytes, smp->nprocs);
	long t = target_seg(sp, unit, smp->at_ms, len);
	ssize_t w;
	int fd;

	if (t < 0)
		return -ENOSPC;
	seg_name(&sp->v[t], name, sizeof(name));
	fd = openat(sp->dirfd, name, O_WRONLY | O_APPEND | O_CREAT |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	w = write(fd, line, (size_t)len);
	close(fd);
	if (w != len)
		return w < 0 ? -errno : -EIO;
	sp->v[t].size += len;
	sp->total += len;
	return 0;
}

void sysg_spill_evict(void *arg, const char *name,
		      const struct sysg_sample *smp)
{
	if (arg)
		sysg_spill_write(arg, name, smp);
}

/* ------------------------------------------------------------ reading */

static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return (x->first_at > y->first_at) - (x->first_at < y->first_at);
}

static int read_seg(int dirfd, const struct seg *g, struct sysg_sample **v,
		    size_t *n, size_t *cap)
{
	char name[512], line[160];
	FILE *f;
	int fd;

	seg_name(g, name, sizeof(name));
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return 0;       /* deleted meanwhile */
	}
	while (fgets(line, sizeof(line), f)) {
		struct sysg_sample s;
		long long at, rss;

		if (sscanf(line, "%lld %lf %lld %d", &at, &s.cpu_percent, &rss,
			   &s.nprocs) != 4)
			continue;
		s.at_ms = at;
		s.rss_bytes = rss;
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 64;
			struct sysg_sample *nv = realloc(*v, c * sizeof(*nv));

			if (!nv) {
				fclose(f);
				return -ENOMEM;
			}
			*v = nv;
			*cap = c;
		}
		(*v)[(*n)++] = s;
	}
	fclose(f);
	return 0;
}

int sysg_spill_read(const char *dir, const char *unit,
		    struct sysg_sample **out, size_t *n)
{
	struct sysg_spill *sp;
	size_t cap = 0;
	char err[256];
	int rc = sysg_spill_open(&sp, dir, INT64_MAX, INT64_MAX, err,
				 sizeof(err));

	*out = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	qsort(sp->v, sp->n, sizeof(*sp->v), cmp_seg);
	for (size_t i = 0; rc == 0 && i < sp->n; i++)
		if (!strcmp(sp->v[i].unit, unit))
			rc = read_seg(sp->dirfd, &sp->v[i], out, n, &cap);
	sysg_spill_close(sp);
	return rc;
}
