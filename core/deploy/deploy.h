/* deploy/deploy.h - the door of the deploy wing: deploys run by the
 * supervisor through a worker process that loads the strategy plugin
 * (host.h, worker.h), the framing between the two (link.h), revisions
 * and records (record.h).
 *
 * Layering: above engine, below views, control and cli. Other wings
 * include this header, never the wing's other headers. */
#ifndef SYSG_DEPLOY_WING_H
#define SYSG_DEPLOY_WING_H

#include "host.h"
#include "link.h"
#include "record.h"
#include "worker.h"

#endif
