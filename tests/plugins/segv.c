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
	.check_config = check,
	.deploy = deploy,
};

static const struct sysg_plugin plugin = {
	.abi_version = SYSG_PLUGIN_ABI_VERSION,
	.name = "segv",
	.kind = SYSG_PLUGIN_STRATEGY,
	.description = "test fixture: crashes in deploy",
	.strategy = &ops,
};

const struct sysg_plugin *sysg_plugin_entry(void)
{
	return &plugin;
}
