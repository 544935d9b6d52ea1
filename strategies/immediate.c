/* immediate.c - the default strategy: stop the old instance, run
 * pre_start, start the new one, verify it comes up (SPEC 6). */
#include "common.h"

static int immediate_deploy(const struct sysg_host_api *h,
			    struct sysg_deploy_ctx *c,
			    const struct sysg_strategy_settings *s,
			    char *err, size_t errlen)
{
	sysg_instance_t old = h->current(c), neu = 0;
	int rc;

	h->step(c, "stop the current instance");
	if (old && !h->dry_run(c) && (rc = h->stop(c, old)) < 0) {
		strat_err(err, errlen, "could not stop the old instance");
		return rc;
	}
	rc = strat_pre_start(h, c, s, err, errlen);
	if (rc < 0)
		return rc;
	h->step(c, "start the new instance");
	rc = strat_start_ready(h, c, s, NULL, NULL, &neu, err, errlen);
	if (rc < 0)
		return rc;
	return h->dry_run(c) ? 0 : h->promote(c, neu);
}

static const struct sysg_strategy_ops ops = {
	SYSG_STRATEGY_OPS_INIT,
	.check_config = strat_no_options,
	.deploy = immediate_deploy,
};

SYSG_STRATEGY_PLUGIN("immediate",
	"stop the old instance, then start the new one",
	&ops)
