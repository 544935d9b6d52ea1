/* duration.h - durations and sizes as written in sysg configs, and the
 * ISO-8601 timestamps of logs, status and inspect. */
#ifndef SYSG_DURATION_H
#define SYSG_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Parse "250ms", "5s", "2m", "1h", "1.5s", or a bare number of seconds
 * ("10", "0.25") into milliseconds. Surrounding blanks are allowed; the
 * result must be >= 0 and fit in an int64_t. Returns 0 and sets *ms, or
 * -EINVAL / -ERANGE. */
int sysg_duration_parse(const char *s, int64_t *ms);

/* Format MS as the shortest of "250ms", "5s", "1.5s", "2m", "1h" into BUF. */
void sysg_duration_format(int64_t ms, char *buf, size_t len);

/* Parse a byte size: "512", "64K", "512M", "1G", "2T" (powers of 1024;
 * "KB"/"KiB" spellings accepted too). Returns 0, -EINVAL or -ERANGE. */
int sysg_size_parse(const char *s, int64_t *bytes);

/* ISO-8601 UTC with milliseconds: the wall-clock time MS (since the epoch)
 * as 2026-11-26T10:30:15.123Z into BUF (at least 32 bytes). */
void sysg_format_iso8601(int64_t ms, char *buf, size_t len);

/* Parse the above back into *MS; 0 or -EINVAL. */
int sysg_parse_iso8601(const char *s, int64_t *ms);

#endif
