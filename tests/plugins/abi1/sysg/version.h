/* sysg/version.h as sysg 0.1.0 generated it for plugin ABI 1: a frozen
 * copy, so the old-ABI fixture plugin builds exactly as a third party
 * did against that release (see tests/plugins/abi1/README). */
#ifndef SYSG_VERSION_H
#define SYSG_VERSION_H

#define SYSG_VERSION_STRING "0.1.0"
/* The plugin ABI this build of sysg speaks (see sysg/plugin.h). */
#define SYSG_PLUGIN_ABI_GENERATED 1

#endif
