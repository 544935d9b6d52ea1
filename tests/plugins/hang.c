/* hang.c - a strategy whose deploy starts a candidate and never returns:
 * deployment.timeout ends it; the candidate is stopped, the running
 * service untouched. */
#include <stddef.h>
#include <unistd.h>

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
	sysg_instance_t neu = 0;

	(void)s;
	if (h->dry_run(c))
		return 0;
	h->step(c, "start a candidate, then hang");
	h->start(c, NULL, &neu, err, errlen);
	for (;;)
		pause();
	return 0;
}

static const struct sysg_strategy_ops ops = {
	.check_config = check,
	.deploy = deploy,
};

static const struct sysg_plugin plugin = {
	.abi_version = SYSG_PLUGIN_ABI_VERSION,
	.name = "hang",
	.kind = SYSG_PLUGIN_STRATEGY,
	.description = "test fixture: never returns from deploy",
	.strategy = &ops,
};

const struct sysg_plugin *sysg_plugin_entry(void)
{
	return &plugin;
}
