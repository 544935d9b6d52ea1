/* main.c - the sysg binary: everything lives in the core library. */
#include "cli.h"

int main(int argc, char **argv)
{
	return sysg_cli_main(argc, argv);
}
