/* cmd_engine.c - `sysg start` and `sysg stop`: thin CLI over the
 * supervisor (core/supervisor.h). Being written by the engine work. */
#include "cli.h"

int sysg_cmd_start(struct sysg_cli *c)
{
	sysg_cli_error("'%s' is not implemented yet in this build", c->command);
	return SYSG_EXIT_FAILED;
}

int sysg_cmd_stop(struct sysg_cli *c)
{
	sysg_cli_error("'%s' is not implemented yet in this build", c->command);
	return SYSG_EXIT_FAILED;
}
