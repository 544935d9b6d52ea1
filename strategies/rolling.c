/* rolling.c - start the new instance beside the old one, wait until it is
 * healthy, wait grace_period, then stop the old one; the old instance is
 * untouched when the new one fails; a port conflict falls back to
 * stop-then-start (SPEC 6). */
#include "common.h"

/* The new instance could not bind: stop the old one, start again. */
static int fallback_immediate(const struct sysg_host_api *h,
			      struct sysg_deploy_ctx *c,
			      const struct sysg_strategy_settings *s,
			      sysg_instance_t old, char *err, size_t errlen)
{
	sysg_instance_t neu = 0;
	int rc;

	h->step(c, "port conflict: fall back to immediate (stop, then start)");
	if (old)
		h->stop(c, old);
	rc = strat_start_ready(h, c, s, NULL, NULL, &neu, err, errlen);
	return rc < 0 ? rc : h->promote(c, neu);
}

static int rolling_deploy(const struct sysg_host_api *h,
			  struct sysg_deploy_ctx *c,
			  const struct sysg_strategy_settings *s,
			  char *err, size_t errlen)
{
	sysg_instance_t old = h->current(c), neu = 0;
	int rc = strat_pre_start(h, c, s, err, errlen);

	if (rc < 0)
		return rc;
	h->step(c, "start the new instance beside the old one");
	rc = strat_start_ready(h, c, s, NULL, NULL, &neu, err, errlen);
	if (rc < 0)
		return rc == -EADDRINUSE ?
		       fallback_immediate(h, c, s, old, err, errlen) : rc;
	strat_grace(h, c, s);
	h->step(c, "stop the old instance");
	if (h->dry_run(c))
		return 0;
	rc = h->promote(c, neu);
	if (rc == 0 && old)
		rc = h->stop(c, old);
	return rc;
}

static const struct sysg_strategy_ops ops = {
	SYSG_STRATEGY_OPS_INIT,
	.check_config = strat_no_options,
	.deploy = rolling_deploy,
};

SYSG_STRATEGY_PLUGIN("rolling",
	"start the new instance beside the old, switch when healthy",
	&ops)
