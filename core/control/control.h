/* control/control.h - the door of the control wing: the control socket's wire format, its server and client, and the supervisor process (daemon).
 *
 * Other wings include this header, never the wing's other headers
 * (docs/architecture.md; tests/check_layers.sh checks it). */
#ifndef SYSG_CONTROL_WING_H
#define SYSG_CONTROL_WING_H

#include "wire.h"
#include "ctlclient.h"
#include "ctlserver.h"
#include "daemon.h"
#include "registry.h"
#include "upgrade.h"

#endif
