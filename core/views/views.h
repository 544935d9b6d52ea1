/* views/views.h - the door of the views wing: what status, inspect and logs show (offline and live), samples, purge.
 *
 * Other wings include this header, never the wing's other headers
 * (docs/architecture.md; tests/check_layers.sh checks it). */
#ifndef SYSG_VIEWS_WING_H
#define SYSG_VIEWS_WING_H

#include "status.h"
#include "inspect.h"
#include "samples.h"
#include "spill.h"
#include "logview.h"
#include "purge.h"
#include "liveview.h"
#include "mux.h"
#include "prometheus.h"

#endif
