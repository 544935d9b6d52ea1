/* check_memtrim.c - an idle process gives back pages it does not use
 * (core/base/memtrim.h): read-only file mappings lose their resident pages
 * and read back the same bytes; mappings holding written copies keep them;
 * the stack below the caller is given back. */
#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/base.h"
#include "testutil.h"

#define FILE_BYTES (1024 * 1024)

static long page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/* How many pages of [P, P+LEN) this process has mapped (pagemap's present
 * bit: readable without privileges). */
static size_t present_pages(const void *p, size_t len)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	size_t n = 0, first = (uintptr_t)p / page_size();

	ck_assert_int_ge(fd, 0);
	for (size_t i = 0; i < len / page_size(); i++) {
		uint64_t e = 0;

		if (pread(fd, &e, sizeof(e), (off_t)((first + i) * sizeof(e)))
		    != sizeof(e))
			ck_abort_msg("cannot read /proc/self/pagemap");
		n += e >> 63;
	}
	close(fd);
	return n;
}

/* A FILE_BYTES file of a known pattern, mapped private with PROT. */
static unsigned char *map_pattern(char **dir, int prot)
{
	unsigned char *buf = malloc(FILE_BYTES), *p;
	char *path;
	int fd;

	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < FILE_BYTES; i++)
		buf[i] = (unsigned char)(i * 7 + i / 4096);
	*dir = tu_mkdtemp("memtrim");
	path = tu_write_bytes(*dir, "blob", buf, FILE_BYTES);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	p = mmap(NULL, FILE_BYTES, prot, MAP_PRIVATE, fd, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	close(fd);
	free(path);
	free(buf);
	return p;
}

static void assert_pattern(const unsigned char *p, size_t skip)
{
	size_t bad = SIZE_MAX;

	for (size_t i = 0; i < FILE_BYTES && bad == SIZE_MAX; i++)
		if (i != skip && p[i] != (unsigned char)(i * 7 + i / 4096))
			bad = i;
	ck_assert_msg(bad == SIZE_MAX, "byte %zu differs", bad);
}

static void unmap_pattern(unsigned char *p, char *dir)
{
	munmap(p, FILE_BYTES);
	tu_rm_rf(dir);
	free(dir);
}

START_TEST(test_read_only_file_pages_are_given_back)
{
	char *dir;
	unsigned char *p = map_pattern(&dir, PROT_READ);
	struct sysg_memtrim t;

	assert_pattern(p, SIZE_MAX);    /* every page touched: all mapped */
	ck_assert_uint_eq(present_pages(p, FILE_BYTES),
			  FILE_BYTES / page_size());
	ck_assert_int_eq(sysg_memtrim(&t), 0);
	ck_assert_uint_eq(present_pages(p, FILE_BYTES), 0);
	ck_assert_uint_ge(t.file_kib, FILE_BYTES / 1024);
	ck_assert_int_ge(t.mappings, 1);
	assert_pattern(p, SIZE_MAX);    /* and the same bytes come back */
	unmap_pattern(p, dir);
}
END_TEST

/* A read-only mapping whose page was written before it was made read-only
 * (what the loader does to RELRO) holds a private copy: not trimmed. */
START_TEST(test_written_copies_are_kept)
{
	char *dir, *dir2;
	unsigned char *ro = map_pattern(&dir, PROT_READ | PROT_WRITE);
	unsigned char *rw = map_pattern(&dir2, PROT_READ | PROT_WRITE);

	ro[5000] = 0xAB;
	rw[9000] = 0xCD;
	ck_assert_int_eq(mprotect(ro, FILE_BYTES, PROT_READ), 0);
	assert_pattern(ro, 5000);
	assert_pattern(rw, 9000);
	ck_assert_int_eq(sysg_memtrim(NULL), 0);
	ck_assert_uint_eq(ro[5000], 0xAB);
	ck_assert_uint_eq(rw[9000], 0xCD);
	ck_assert_uint_eq(present_pages(ro, FILE_BYTES),
			  FILE_BYTES / page_size());
	assert_pattern(ro, 5000);
	assert_pattern(rw, 9000);
	unmap_pattern(ro, dir);
	unmap_pattern(rw, dir2);
}
END_TEST

/* Touch about 256 KiB of stack in a frame that then returns. */
__attribute__((noinline)) static int deep(int n)
{
	volatile char pad[4096];

	pad[0] = (char)n;
	pad[4095] = (char)n;
	return n ? deep(n - 1) + pad[0] - pad[4095] : 0;
}

/* Is this frame on the kernel's main-thread stack ("[stack]" in maps)?
 * Not under valgrind, whose client stack is its own mapping. */
static int on_main_stack(void)
{
	char *maps = tu_read_file("/proc/self/maps", NULL), *line;
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	int on = 0;

	ck_assert_ptr_nonnull(maps);
	for (line = strtok(maps, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long lo, hi;

		if (strstr(line, "[stack]") &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			on = here > lo && here < hi;
	}
	free(maps);
	return on;
}

START_TEST(test_stack_below_the_caller_is_given_back)
{
	struct sysg_memtrim t;

	ck_assert_int_eq(deep(64), 0);
	ck_assert_int_eq(sysg_memtrim(&t), 0);
	if (on_main_stack())    /* most of the 256 KiB touched comes back */
		ck_assert_uint_ge(t.stack_kib, 128);
	else
		ck_assert_uint_eq(t.stack_kib, 0);
	ck_assert_int_eq(deep(64), 0);  /* and the stack still works */
}
END_TEST

static Suite *make_memtrim_suite(void)
{
	Suite *s = suite_create("memtrim");
	TCase *tc = tcase_create("memtrim");

	tcase_add_test(tc, test_read_only_file_pages_are_given_back);
	tcase_add_test(tc, test_written_copies_are_kept);
	tcase_add_test(tc, test_stack_below_the_caller_is_given_back);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_memtrim_suite());
}
