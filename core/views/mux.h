/* mux.h - the multiplexed output of a foreground `sysg start`: every line
 * of every service as "name | line", the name padded to the longest one
 * and, on a terminal, in a colour of its own; and the boot progress
 * ("3/6 ready: db, cache, api") redrawn in place on a terminal, printed
 * as a line per change otherwise, until every service has settled.
 *
 * The CLI creates the mux; the supervisor process (daemon.c) feeds it the
 * services' lines (sysg_mux_output, a sysg_line_fn) and attaches it to
 * the engine's change notifications for the progress. */
#ifndef SYSG_MUX_H
#define SYSG_MUX_H

#include <stddef.h>
#include <stdio.h>

struct sysg_mux;
struct sysg_supervisor;

/* A mux writing to OUT (borrowed): COLOR for ANSI colours, LIVE to keep
 * the progress line in place (both: OUT is a terminal). NULL: no memory. */
struct sysg_mux *sysg_mux_new(FILE *out, int color, int live);

/* Finish the progress line, unsubscribe, free. NULL is a no-op. */
void sysg_mux_free(struct sysg_mux *m);

/* One line of SVC's STREAM (1 stdout, 2 stderr), without its newline.
 * ARG is the mux (the shape of sysg_line_fn). */
void sysg_mux_output(void *arg, const char *svc, int stream,
		     const char *line, size_t len);

/* Follow S's changes for the progress line (the names of its services
 * also set the name column's width). 0 or -ENOMEM. */
int sysg_mux_attach(struct sysg_mux *m, struct sysg_supervisor *s);

/* Stop following (before S is freed). */
void sysg_mux_detach(struct sysg_mux *m);

/* A stream whose lines are shown as "NAME | line", STREAM 2 as stderr
 * (`logs -f` of several files); fclose it (a last partial line is then
 * shown). The name column widens to NAME. NULL: no memory. */
FILE *sysg_mux_stream(struct sysg_mux *m, const char *name, int stream);

/* A stream whose lines are shown as "sysg | line" (the supervisor's own
 * messages, so they never break the progress line). Owned by the mux;
 * NULL when it cannot be made. */
FILE *sysg_mux_sysg_stream(struct sysg_mux *m);

/* The progress text for READY of TOTAL services, READY_NAMES and
 * FAILED_NAMES comma-separated (may be ""), into BUF:
 * "3/6 ready: db, cache, api" (+ "; failed: web"). */
void sysg_mux_progress_text(char *buf, size_t len, size_t ready,
			    size_t total, const char *ready_names,
			    const char *failed_names);

#endif
