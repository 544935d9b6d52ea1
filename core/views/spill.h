/* spill.h - samples that leave the in-memory rings (samples.h), kept on
 * disk in segment files: systemg 0.32's `metrics.spillover_*` (SPEC 11).
 *
 * Layout: DIR/UNIT@FIRST_AT_MS.seg, one per unit and segment ('@' is not
 * in unit names, so the name parses back), each line a sample
 *     AT_MS CPU_PERCENT RSS_BYTES PROCESSES
 * (CPU_PERCENT -1: unknown). A unit appends to its newest segment until
 * it reaches SEGMENT_BYTES, then starts another. All segments of DIR
 * together stay within MAX_BYTES: before a write that would pass it, the
 * oldest segments (of any unit) are deleted. Existing segments are
 * counted when the spill opens, so the bound holds across restarts.
 * Files are opened with O_NOFOLLOW and O_CLOEXEC, mode 0600.
 */
#ifndef SYSG_SPILL_H
#define SYSG_SPILL_H

#include <stddef.h>
#include <stdint.h>

#include "samples.h"

struct sysg_spill;

/* Open (creating DIR 0700 if needed). 0, or a negative errno with a
 * message in ERR. */
int sysg_spill_open(struct sysg_spill **out, const char *dir,
		    int64_t max_bytes, int64_t segment_bytes, char *err,
		    size_t errlen);

/* Append SMP of UNIT. 0, or a negative errno (the sample is lost; the
 * spill stays usable). */
int sysg_spill_write(struct sysg_spill *sp, const char *unit,
		     const struct sysg_sample *smp);

/* Bytes held by all segments. */
int64_t sysg_spill_bytes(const struct sysg_spill *sp);

/* Read UNIT's spilled samples back, oldest first, into a malloc'd *OUT.
 * 0 or a negative errno. */
int sysg_spill_read(const char *dir, const char *unit,
		    struct sysg_sample **out, size_t *n);

void sysg_spill_close(struct sysg_spill *sp);

/* A samples.h evict hook writing to the spill ARG. */
void sysg_spill_evict(void *arg, const char *name,
		      const struct sysg_sample *smp);

#endif
