/* oldabi.c - a strategy exactly as a third party wrote it against the
 * ABI-1 headers (tests/plugins/abi1, compiled with that directory alone on
 * the include path): the descriptor spelled out by hand, an ops struct
 * without the ABI-2 abi_version slot. The current host must still load
 * it, run its check_config and deploy with it.
 *
 * It deploys like rolling (start beside, wait ready, promote, stop the
 * old one) and gives the new instance OLDABI_GREETING=<greeting> so a test
 * can see that this plugin, not another, started it.
 *
 *     deployment: { strategy: oldabi, oldabi: { greeting: hello } }
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sysg/plugin.h>

#if SYSG_PLUGIN_ABI_VERSION != 1
#error "oldabi must be built against the frozen ABI-1 header"
#endif

static const char *greeting(const struct sysg_strategy_settings *s)
{
	for (size_t i = 0; i < s->noptions; i++)
		if (!strcmp(s->options[i].key, "greeting"))
			return s->options[i].value;
	return NULL;
}

static int old_check(const struct sysg_strategy_settings *s, char *err,
		     size_t errlen, const char **bad_key)
{
	for (size_t i = 0; i < s->noptions; i++) {
		if (strcmp(s->options[i].key, "greeting") ||
		    !s->options[i].value[0]) {
			*bad_key = s->options[i].key;
			snprintf(err, errlen, "oldabi takes one non-empty "
				 "setting, greeting");
			return -EINVAL;
		}
	}
	return 0;
}

static int old_deploy(const struct sysg_host_api *h, struct sysg_deploy_ctx *c,
		      const struct sysg_strategy_settings *s, char *err,
		      size_t errlen)
{
	sysg_instance_t old = h->current(c), neu = 0;
	char env0[256];
	const char *env[] = { env0, NULL };
	int rc;

	snprintf(env0, sizeof(env0), "OLDABI_GREETING=%s",
		 greeting(s) ? greeting(s) : "none");
	h->log(c, SYSG_LOG_INFO, "oldabi (ABI 1) deploying %s", s->service);
	h->step(c, "start the new instance (ABI-1 strategy)");
	if (h->dry_run(c)) {
		h->step(c, "wait for it to be ready");
		h->step(c, "promote it and stop the old instance");
		return 0;
	}
	rc = h->start(c, env, &neu, err, errlen);
	if (rc < 0)
		return rc;
	h->step(c, "wait for it to be ready");
	rc = h->wait_ready(c, neu, s->health_url, s->health_timeout_ms,
			   s->health_retries, err, errlen);
	if (rc < 0) {
		h->stop(c, neu);
		return rc;
	}
	h->step(c, "promote it and stop the old instance");
	rc = h->promote(c, neu);
	if (rc == 0 && old)
		rc = h->stop(c, old);
	return rc;
}

static const struct sysg_strategy_ops ops = {
	.check_config = old_check,
	.deploy = old_deploy,
	.start_env = NULL,
};

static const struct sysg_plugin plugin = {
	.abi_version = SYSG_PLUGIN_ABI_VERSION,
	.name = "oldabi",
	.kind = SYSG_PLUGIN_STRATEGY,
	.description = "test fixture built against the ABI-1 header",
	.strategy = &ops,
};

const struct sysg_plugin *sysg_plugin_entry(void)
{
	return &plugin;
}
