/* memtrim.c - give back the pages an idle process holds but does not use
 * (memtrim.h says which and why it is safe). */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memtrim.h"

#define TRIM_MAX_MAPPINGS 256
#define STACK_MARGIN (16 * 1024)   /* kept below the trimming frame */

struct mapping {
	uintptr_t lo, hi;
	unsigned long inode;
	size_t rss_kib, anon_kib;
	int readonly_private, stack, locked;
};

struct mapping_list {
	struct mapping v[TRIM_MAX_MAPPINGS];
	int n;
	struct mapping stack;
};

static int parse_header(const char *line, struct mapping *m)
{
	char perms[8] = "";
	unsigned long lo, hi, off, inode;
	unsigned maj, mn;
	int used = 0;

	if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu%n", &lo, &hi, perms, &off,
		   &maj, &mn, &inode, &used) != 7)
		return 0;
	memset(m, 0, sizeof(*m));
	m->lo = lo;
	m->hi = hi;
	m->inode = inode;
	m->readonly_private = perms[0] == 'r' && perms[1] == '-' &&
			      perms[3] == 'p';
	m->stack = strstr(line + used, "[stack]") != NULL;
	return 1;
}

static void parse_field(const char *line, struct mapping *m)
{
	size_t kib;

	if (sscanf(line, "Rss: %zu kB", &kib) == 1)
		m->rss_kib = kib;
	else if (sscanf(line, "Anonymous: %zu kB", &kib) == 1)
		m->anon_kib = kib;
	else if (!strncmp(line, "VmFlags:", 8) && strstr(line, " lo"))
		m->locked = 1;
}

/* Keep M if its pages can be dropped without losing anything. */
static void keep(struct mapping_list *l, const struct mapping *m)
{
	if (m->stack)
		l->stack = *m;
	else if (m->readonly_private && m->inode && !m->anon_kib &&
		 !m->locked && m->rss_kib && l->n < TRIM_MAX_MAPPINGS)
		l->v[l->n++] = *m;
}

static int read_mappings(struct mapping_list *l)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	struct mapping cur;
	char *line = NULL;
	size_t cap = 0;
	int have = 0;

	if (!f)
		return -errno;
	setvbuf(f, NULL, _IOFBF, 32 * 1024);    /* smaps: ~1 KiB per mapping */
	while (getline(&line, &cap, f) > 0) {
		struct mapping next;

		if (parse_header(line, &next)) {
			if (have)
				keep(l, &cur);
			cur = next;
			have = 1;
		} else if (have) {
			parse_field(line, &cur);
		}
	}
	if (have)
		keep(l, &cur);
	free(line);
	fclose(f);
	return 0;
}

/* The stack below this frame (less a margin for the calls it makes) holds
 * nothing live: give its pages back. Not inlined, so the caller's frame
 * (with the mapping list) is above it. */
__attribute__((noinline)) static size_t trim_stack(uintptr_t lo, uintptr_t hi)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	uintptr_t top;

	if (here <= lo || here >= hi || page <= 0 ||
	    here - lo <= STACK_MARGIN + (uintptr_t)page)
		return 0;       /* not on the main stack (sanitizer, thread) */
	top = (here - STACK_MARGIN) & ~((uintptr_t)page - 1);
	if (madvise((void *)lo, top - lo, MADV_DONTNEED) < 0)
		return 0;
	return (top - lo) / 1024;
}

int sysg_memtrim(struct sysg_memtrim *out)
{
	struct mapping_list *l = calloc(1, sizeof(*l));
	struct sysg_memtrim t = { 0 };
	int rc;

	if (!l)
		return -ENOMEM;
	malloc_trim(0);
	rc = read_mappings(l);
	for (int i = 0; rc == 0 && i < l->n; i++) {
		struct mapping *m = &l->v[i];

		if (madvise((void *)m->lo, m->hi - m->lo, MADV_DONTNEED) == 0) {
			t.file_kib += m->rss_kib;
			t.mappings++;
		}
	}
	if (rc == 0 && l->stack.hi)
		t.stack_kib = trim_stack(l->stack.lo, l->stack.hi);
	free(l);
	if (out)
		*out = t;
	return rc;
}
