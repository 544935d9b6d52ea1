/* base/base.h - the door of the base wing: the event loop, the state-directory layout and paths, durations and timestamps, string sets, diagnostics, trimming an idle process.
 *
 * Other wings include this header, never the wing's other headers
 * (docs/architecture.md; tests/check_layers.sh checks it). */
#ifndef SYSG_BASE_WING_H
#define SYSG_BASE_WING_H

#include "limits.h"
#include "diag.h"
#include "strset.h"
#include "suggest.h"
#include "duration.h"
#include "loop.h"
#include "paths.h"
#include "memtrim.h"

#endif
