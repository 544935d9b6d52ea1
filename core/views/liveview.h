/* liveview.h - the status and inspect views of a running supervisor.
 *
 * The same model (status.h, inspect.h) and the same rules as the offline
 * view, so that `sysg status` renders identically with or without a
 * supervisor; only the source differs: the records of the supervisor's
 * services come from its memory (always current, even between two writes
 * to the state backend), everything else (orphaned records, ad-hoc units,
 * cron and deploy history) from the state backend. This works by handing
 * sysg_status_collect() a read-only state whose vtable overlays the
 * supervisor's records on the real backend. CPU% is the newest sample
 * (samples.h) when there is one, instead of the lifetime average.
 */
#ifndef SYSG_LIVEVIEW_H
#define SYSG_LIVEVIEW_H

#include <stddef.h>

#include "config/config.h"
#include "inspect.h"
#include "samples.h"
#include "plugin/plugin.h"
#include "status.h"
#include "engine/engine.h"

struct sysg_live {
	struct sysg_supervisor *sup;
	const struct sysg_config *cfg;  /* the supervisor's config */
	struct sysg_state *st;          /* the real backend (may be NULL) */
	const struct sysg_samples *samples;     /* may be NULL */
	const char *state_dir;
};

/* Status of the units (O->supervisor_alive is taken as 1). Same returns
 * as sysg_status_collect. */
int sysg_live_status(const struct sysg_live *l, const struct sysg_status_opts *o,
		     struct sysg_status *out, char *err, size_t errlen);

/* Inspect view of NAME, with its samples. Same returns as
 * sysg_inspect_collect. */
int sysg_live_inspect(const struct sysg_live *l, const char *name,
		      struct sysg_inspect *out, char *err, size_t errlen);

#endif
