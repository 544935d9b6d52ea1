/* engine/engine.h - the door of the engine wing: the supervisor (its private svc.h stays inside this wing) and stopping services without one.
 *
 * Other wings include this header, never the wing's other headers
 * (docs/architecture.md; tests/check_layers.sh checks it). */
#ifndef SYSG_ENGINE_WING_H
#define SYSG_ENGINE_WING_H

#include "supervisor.h"
#include "stopper.h"
/* Test seam (tests/check_fsm.c only): the service state machine's table
 * cell by cell, fake effects, firing one event at one service. */
#include "fsm.h"

#endif
