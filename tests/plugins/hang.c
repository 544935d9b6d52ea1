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
	SYSG_STRATEGY_OPS_INIT,
	.check_config = check,
	.deploy = deploy,
};

SYSG_STRATEGY_PLUGIN("hang",
	"test fixture: never returns from deploy", &ops)
