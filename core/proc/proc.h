/* proc/proc.h - the door of the proc wing: processes: spawning, process trees and /proc facts, privileges, helper jobs, log files, hooks and health probes.
 *
 * Other wings include this header, never the wing's other headers
 * (docs/architecture.md; tests/check_layers.sh checks it). */
#ifndef SYSG_PROC_WING_H
#define SYSG_PROC_WING_H

#include "procstat.h"
#include "proctree.h"
#include "instance.h"
#include "spawn.h"
#include "pidfd.h"
#include "sockets.h"
#include "job.h"
#include "privs.h"
#include "logs.h"
#include "logrotate.h"
#include "writers.h"
#include "hooks.h"
#include "health.h"

#endif
