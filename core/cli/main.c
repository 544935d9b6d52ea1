/* main.c - the sysg binary: everything lives in the core library. */
#include <string.h>

#include "cli.h"
#include "base/base.h"
#include "deploy/deploy.h"

int main(int argc, char **argv)
{
	sysg_exe_init();
	/* the supervisor's deploy worker: its socket is fd 0 */
	if (argc == 2 && !strcmp(argv[1], SYSG_DEPLOY_WORKER_CMD))
		return sysg_deploy_worker_main(0);
	return sysg_cli_main(argc, argv);
}
