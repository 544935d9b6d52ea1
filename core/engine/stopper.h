/* stopper.h - stop services without a supervisor (`sysg stop`).
 *
 * Finds each service's processes from what the state backend recorded
 * and from /proc, trusting nothing blindly: the unit record's pid counts
 * only when its start time still matches (pid reuse), a pid from pid.xml
 * only when the process carries the service's instance marker
 * (SYSG_INSTANCE=..., see supervisor.h); every process carrying the
 * marker is found even when pid.xml names a wrong or dead pid. Each tree
 * gets SIGTERM (so EXIT traps run), SIGKILL after the stop timeout; the
 * pid entry and the unit record are then updated.
 */
#ifndef SYSG_STOPPER_H
#define SYSG_STOPPER_H

#include <stddef.h>
#include <stdio.h>

#include "config/config.h"
#include "plugin/plugin.h"

struct sysg_stop_req {
	const char *state_dir;          /* required */
	struct sysg_state *st;          /* required */
	const struct sysg_config *cfg;  /* NULL: only what the state knows */
	const char *service;            /* NULL: all, reverse dependency order */
	FILE *out;                      /* one line per service, or NULL */
	int leftovers_only;             /* all: only services that still have
	                                   a live process carrying their
	                                   marker (after a supervisor's stop) */
};

/* Stop as requested. 0 when everything is down; -ENOENT when SERVICE is
 * neither configured nor recorded; -ETIMEDOUT when a process survived
 * SIGKILL (ERR names it). */
int sysg_stop_offline(const struct sysg_stop_req *r, char *err,
		      size_t errlen);

#endif
