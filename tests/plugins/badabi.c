/* badabi.c - a plugin built for a future ABI: the loader must refuse it. */
#include <sysg/plugin.h>

static const struct sysg_plugin plugin = {
	.abi_version = 99,
	.name = "badabi",
	.kind = SYSG_PLUGIN_STRATEGY,
};

const struct sysg_plugin *sysg_plugin_entry(void)
{
	return &plugin;
}
