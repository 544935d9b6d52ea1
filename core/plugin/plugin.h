/* plugin/plugin.h - the door of the plugin wing: finding and loading plugins, the state backend handle, the core's view of strategies.
 *
 * Other wings include this header, never the wing's other headers
 * (docs/architecture.md; tests/check_layers.sh checks it). */
#ifndef SYSG_PLUGIN_WING_H
#define SYSG_PLUGIN_WING_H

#include "plugin_loader.h"
#include "state.h"
#include "strategy.h"

#endif
