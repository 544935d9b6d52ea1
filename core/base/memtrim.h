/* base/memtrim.h - an idle process gives back the pages it holds but does
 * not use: free heap, the stack below the current frame, and the pages of
 * its read-only file mappings (program text and constants of the binary
 * and of its libraries) that the kernel mapped while it was busy.
 *
 * A page fault maps a whole window of a file mapping around the page
 * touched (fault-around: 64-128 KiB), so a supervisor that once parsed a
 * config, adopted services and answered a status keeps nearly all of its
 * binary and of libc mapped, though its idle loop needs a few pages.
 * Dropping the mapping of a page that was never written (no anonymous
 * copy: smaps says Anonymous: 0 kB for the whole mapping) loses nothing:
 * the next use maps it again from the page cache (a minor fault). Writable
 * mappings, and read-only ones with copied pages (RELRO after relocation),
 * are never touched. */
#ifndef SYSG_MEMTRIM_H
#define SYSG_MEMTRIM_H

#include <stddef.h>

struct sysg_memtrim {
	size_t file_kib;        /* resident KiB of file mappings given back */
	size_t stack_kib;       /* KiB of stack below the caller given back */
	int mappings;           /* file mappings trimmed */
};

/* Trim the calling process (single-threaded callers: another thread's
 * stack is not this one's). OUT may be NULL. 0 or -errno (/proc/self/smaps
 * unreadable); a mapping the kernel refuses to trim is skipped. */
int sysg_memtrim(struct sysg_memtrim *out);

#endif
