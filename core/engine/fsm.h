/* fsm.h - a test seam on the service state machine (service.c).
 *
 * The engine's table is private (svc.h); this header lets a test walk
 * it cell by cell and fire one event at one service, with what actions
 * do to the world (fork, exec, signals, hooks, probes, teardown)
 * replaced by fakes that only count. Nothing in the engine calls these;
 * tests/check_fsm.c does, through the engine's door (engine.h).
 * Not for production use: sysg_fsm_fire() forces a state.
 */
#ifndef SYSG_FSM_H
#define SYSG_FSM_H

#include "supervisor.h"

/* What a cell of the table does. */
enum sysg_fsm_cell {
	SYSG_FSM_ACTION,        /* runs an action */
	SYSG_FSM_IGNORED,       /* the event does not matter in that state */
	SYSG_FSM_IMPOSSIBLE,    /* the event cannot reach that state (its
	                           source checks the state first) */
};

/* The table's size and the names of its rows and columns: internal
 * states ("idle", "waiting", "skipcheck", "prestart", "starting",
 * "running", "stopping", "backoff", "stopped", "exited", "failed",
 * "skipped", "blocked", "scheduled") and events ("start", "deps",
 * "job_ok", "job_fail", "ready", "not_ready", "exit", "tick", "stop",
 * "dep_down", "due", "gone", "reconfigure", "retire", "adopt",
 * "leftovers"). Names are NULL out of range; lookups return -ENOENT. */
int sysg_fsm_nstates(void);
int sysg_fsm_nevents(void);
const char *sysg_fsm_state_name(int st);
const char *sysg_fsm_event_name(int ev);
int sysg_fsm_state(const char *name);
int sysg_fsm_event(const char *name);
enum sysg_fsm_cell sysg_fsm_cell(int st, int ev);

/* Fakes for the actions' effects, and what they were asked to do. */
struct sysg_fsm_fakes {
	int launch_rc;          /* spawning the service returns this; 0: it
	                           "runs" as a pid that cannot exist */
	int helper_rc;          /* starting a skip/pre_start command */
	unsigned launches, helpers, hooks, readiness, teardowns, ticks;
};

/* Install fakes that count into F (borrowed until the next call); NULL
 * restores the real effects. */
void sysg_fsm_fake(struct sysg_fsm_fakes *f);

/* With fakes installed: put the configured service NAME of S in state ST
 * as if it had got there (wanted up except in "idle" and "stopped"; a
 * fake process in "starting", "running" and "stopping", being stopped on
 * request; a crash recorded as its last exit; no timer armed), fire EV at
 * it and return the state it is in afterwards (>= 0). -ENOENT: no such
 * service; -EINVAL: bad ST or EV, or no fakes installed. */
int sysg_fsm_fire(struct sysg_supervisor *s, const char *name, int st,
		  int ev);

#endif
