/* cron.h - cron expressions: parse, and compute the next due time.
 *
 * 6 fields (sec min hour dom month dow) or 5 (min hour dom month dow, sec=0).
 * Each field: '*', '?', numbers, ranges a-b, lists a,b,c, steps (STAR/n, a-b/n),
 * names for months (JAN..DEC) and weekdays (SUN..SAT, 0 or 7 = Sunday),
 * case-insensitive. Like Vixie cron, when both dom and dow are restricted a
 * time matches when either matches. Also the macros @yearly @annually
 * @monthly @weekly @daily @midnight @hourly. */
#ifndef SYSG_CRON_H
#define SYSG_CRON_H

#include <stdint.h>
#include <time.h>

struct sysg_cron_expr {
	uint64_t sec;           /* bit i set: second i matches */
	uint64_t min;
	uint32_t hour;
	uint32_t dom;           /* bits 1..31 */
	uint16_t month;         /* bits 1..12 */
	uint8_t dow;            /* bits 0..6, 0 = Sunday */
	int dom_star, dow_star; /* the field was '*' or '?' */
};

/* Parse EXPR. Returns 0, or -EINVAL with a reason in ERR (e.g.
 * "field 3 (hour): 25 is out of range 0-23"). */
int sysg_cron_parse(const char *expr, struct sysg_cron_expr *out,
		    char *err, size_t errlen);

/* 1 if TZ names a time zone the system knows (an IANA name with a file
 * under /usr/share/zoneinfo, or "UTC"/"Local"). */
int sysg_cron_valid_timezone(const char *tz);

/* The first due time strictly after AFTER, in time zone TZ (NULL: local
 * time). Returns 0 and sets *next, -ERANGE if none within 5 years, or
 * -EINVAL for an unknown zone. Sets and restores the process-wide TZ, so
 * it is not thread-safe (sysg is single-threaded). */
int sysg_cron_next(const struct sysg_cron_expr *e, const char *tz,
		   time_t after, time_t *next);

#endif
