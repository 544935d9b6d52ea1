/* badops.c - an ABI-2 descriptor whose ops struct forgot
 * SYSG_STRATEGY_OPS_INIT (its abi_version slot is 0): the loader must
 * refuse it, naming the macro, instead of guessing its layout. */
#include <errno.h>

#include <sysg/plugin.h>

static int bad_check(const struct sysg_strategy_settings *s, char *err,
		     size_t errlen, const char **bad_key)
{
	(void)s; (void)err; (void)errlen; (void)bad_key;
	return 0;
}

static int bad_deploy(const struct sysg_host_api *h, struct sysg_deploy_ctx *c,
		      const struct sysg_strategy_settings *s, char *err,
		      size_t errlen)
{
	(void)h; (void)c; (void)s; (void)err; (void)errlen;
	return -ENOSYS;
}

static const struct sysg_strategy_ops ops = {
	.check_config = bad_check,
	.deploy = bad_deploy,
};

SYSG_STRATEGY_PLUGIN("badops", "ops without SYSG_STRATEGY_OPS_INIT", &ops)
