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

/* A service with copies (instances: N): all at once, stop every copy,
 * pre_start, start every copy, wait until each is ready. */
static int immediate_copies(const struct sysg_host_api *h,
			    struct sysg_deploy_ctx *c,
			    const struct sysg_strategy_settings *s,
			    char *err, size_t errlen)
{
	int n = h->copies(c), rc = 0, k;
	sysg_instance_t neu[256] = { 0 };

	if (n > 256) {
		strat_err(err, errlen, "more than 256 copies");
		return -E2BIG;
	}
	h->step(c, "stop the %d copies of %s", n, s->service);
	for (k = 0; k < n && !h->dry_run(c); k++) {
		sysg_instance_t old = h->current_copy(c, k);

		if (old && (rc = h->stop(c, old)) < 0) {
			strat_err(err, errlen, "could not stop %s.%d",
				  s->service, k);
			return rc;
		}
	}
	rc = strat_pre_start(h, c, s, err, errlen);
	for (k = 0; k < n && rc == 0; k++) {
		h->step(c, "%s.%d: start the new instance", s->service, k);
		if (!h->dry_run(c))
			rc = h->start_copy(c, k, 0, NULL, &neu[k], err, errlen);
	}
	for (k = 0; k < n && rc == 0; k++) {
		h->step(c, "%s.%d: wait for the new instance to be ready",
			s->service, k);
		if (!h->dry_run(c))
			rc = h->wait_ready(c, neu[k], s->health_url,
					   s->health_timeout_ms,
					   s->health_retries, err, errlen);
	}
	for (k = 0; k < n && rc == 0 && !h->dry_run(c); k++)
		rc = h->promote(c, neu[k]);
	if (rc < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s.%d: %s", s->service, k - 1, err);
		strat_err(err, errlen, "%s", why);
		for (k = 0; k < n; k++)
			if (neu[k])
				h->stop(c, neu[k]);
	}
	return rc;
}

static int immediate_any(const struct sysg_host_api *h,
			 struct sysg_deploy_ctx *c,
			 const struct sysg_strategy_settings *s,
			 char *err, size_t errlen)
{
	return h->copies(c) > 1 ? immediate_copies(h, c, s, err, errlen) :
	       immediate_deploy(h, c, s, err, errlen);
}

static const struct sysg_strategy_ops ops = {
	SYSG_STRATEGY_OPS_INIT,
	.check_config = strat_no_options,
	.deploy = immediate_any,
	.flags = SYSG_STRATEGY_COPIES,
};

SYSG_STRATEGY_PLUGIN("immediate",
	"stop the old instance, then start the new one",
	&ops)
