/* inspect.h - `sysg inspect -s S`: one unit in detail.
 *
 * Built on the status model (status.h): the unit's view, plus its live
 * process tree (from /proc, found like the engine finds it: session,
 * process group, instance marker, descendants), its full cron history,
 * its deploy history, and CPU/memory samples. Samples are kept by the
 * resident supervisor in a ring; offline there are none and the views say
 * so. */
#ifndef SYSG_INSPECT_H
#define SYSG_INSPECT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "samples.h"
#include "status.h"

#define SYSG_INSPECT_MAX_RUNS 1000

/* One process of the unit's tree, in tree order (parents first). */
struct sysg_proc_view {
	int64_t pid, ppid, pgid;
	char state;
	int depth;                      /* 0 for a root of the tree */
	int64_t rss_bytes;              /* -1: unknown */
	double cpu_percent;             /* lifetime; -1: unknown */
	char command[256];
};

/* One exit of the unit's main process (kept by the supervisor). */
struct sysg_exit_view {
	int64_t at_ms;                  /* wall clock */
	int has_code, code;
	int has_signal, signo;          /* neither: unknown (adopted) */
};

struct sysg_inspect {
	struct sysg_status status;      /* exactly one unit */
	struct sysg_proc_view *procs;
	size_t nprocs;
	struct sysg_deploy_record *deploys;     /* newest first */
	size_t ndeploys;
	int supervisor_alive;
	/* CPU/memory samples, oldest first (malloc'd, freed by
	 * sysg_inspect_free); set by the resident supervisor, none offline */
	struct sysg_sample *samples;
	size_t nsamples;
	int64_t sample_interval_ms;
	/* the last exits, newest first (set by the resident supervisor) */
	struct sysg_exit_view exits[8];
	size_t nexits;
};

/* Collect the detail of unit NAME. CFG and ST may be NULL; STATE_DIR
 * names the services' instance marker. 0, -ENOENT (unknown unit) or
 * another negative code, with a message in ERR. */
int sysg_inspect_collect(const struct sysg_config *cfg, struct sysg_state *st,
			 const char *state_dir, const char *name,
			 int supervisor_alive, struct sysg_inspect *out,
			 char *err, size_t errlen);
void sysg_inspect_free(struct sysg_inspect *in);

/* Human view. */
void sysg_inspect_render(const struct sysg_inspect *in,
			 const struct sysg_render_opts *o, FILE *out);

/* JSON view: {"schema_version": "1", "captured_at", "unit": UNIT (as in
 * status --json, with every cron run), "reason", "started_at",
 * "processes": [{"pid", "ppid", "pgid", "state", "command", "rss_bytes",
 * "cpu_percent", "depth"}], "samples": [{"at", "cpu_percent",
 * "rss_bytes", "processes"}] (oldest first, see samples.h),
 * "sample_interval_ms" (null without samples), "samples_note",
 * "exits": [{"at", "code", "signal"}] (newest first; none offline),
 * "deploys": [{"id", "strategy", "started_at", "duration_ms",
 * "slot_before", "slot_after", "outcome", "reason"}]}. */
json_t *sysg_inspect_to_json(const struct sysg_inspect *in);

#endif
