/* segv.c - a strategy that loads fine and crashes in deploy: the deploy
 * worker dies of SIGSEGV, the supervisor and the running service live. */
#include <signal.h>
#include <stddef.h>

#include <sysg/plugin.h>

static int check(const struct sysg_strategy_settings *s, char *err,
		 size_t errlen, const char **bad_key)
{
	(void)s; (void)err; (void)errlen; (void)bad_key;
	return 0;
}

static int deploy(const struct sysg_host_api *h, struct sysg_deploy_ctx *c,
		  const struct sysg_strategy_settings *s, char *err,
		  size_t errlen)
{
	(void)s; (void)err; (void)errlen;
	if (h->dry_run(c))
		return 0;
	h->step(c, "about to crash");
	raise(SIGSEGV);
	return 0;
}

static const struct sysg_strategy_ops ops = {
	SYSG_STRATEGY_OPS_INIT,
	.check_config = check,
	.deploy = deploy,
};

SYSG_STRATEGY_PLUGIN("segv",
	"test fixture: crashes in deploy", &ops)
