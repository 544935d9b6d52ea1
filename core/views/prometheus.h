/* prometheus.h - the status model in the Prometheus text exposition
 * format (version 0.0.4): `sysg status --format prometheus`, and the
 * file `metrics.textfile` that the resident supervisor rewrites every
 * sample interval for node_exporter's textfile collector. No HTTP server:
 * the supervisor only writes a file.
 *
 * Metrics, one sample per top-level unit (label `unit`, plus `kind`):
 *   sysg_up                  gauge    1 while the unit has a live process
 *   sysg_unit_status         gauge    1, labelled with the status word
 *   sysg_restarts_total      counter  automatic restarts
 *   sysg_last_exit_code      gauge    when the last exit had a code
 *   sysg_last_exit_signal    gauge    when it was killed by a signal
 *   sysg_cpu_seconds_total   counter  CPU time of the main process (live)
 *   sysg_rss_bytes           gauge    resident memory (live)
 *   sysg_health              gauge    state set: health="healthy" |
 *                                     "unhealthy" | "unknown", 1 on the
 *                                     current one
 *   sysg_deploys_total       counter  deploys by outcome (success, failed,
 *                                     rolled_back, aborted)
 * and sysg_overall_health (state set over healthy/degraded/failing) and
 * sysg_status_captured_timestamp_seconds. Label values are escaped as
 * the format says (\\ \" \n).
 */
#ifndef SYSG_PROMETHEUS_H
#define SYSG_PROMETHEUS_H

#include <stddef.h>
#include <stdio.h>

#include "plugin/plugin.h"
#include "status.h"

/* Print S in the text format on OUT; deploy counts come from ST (may be
 * NULL: all zero). 0 or -errno. */
int sysg_status_render_prometheus(const struct sysg_status *s,
				  struct sysg_state *st, FILE *out);

/* Write the same atomically to PATH (PATH.tmp, then rename), mode
 * 0644 so that node_exporter can read it. 0 or -errno with ERR filled. */
int sysg_prometheus_write_file(const struct sysg_status *s,
			       struct sysg_state *st, const char *path,
			       char *err, size_t errlen);

/* Print V as a label value (escaped, without the quotes) on OUT. */
void sysg_prometheus_label(FILE *out, const char *v);

#endif
