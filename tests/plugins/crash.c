/* crash.c - a plugin whose entry function crashes: the loader's probe
 * must report it without taking the host down. */
#include <signal.h>
#include <stddef.h>

#include <sysg/plugin.h>

const struct sysg_plugin *sysg_plugin_entry(void)
{
	raise(SIGSEGV);
	return NULL;
}
