/* waiter.c - a strategy that holds a ready candidate until an operator
 * says --promote (or --abort), through the host's operator_wait: the
 * fixture for `sysg deploy --pause/--resume/--promote`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	sysg_instance_t old = h->current(c), neu = 0;
	int rc, op = SYSG_OPERATOR_NONE;

	h->step(c, "start the candidate");
	if (h->dry_run(c))
		return 0;
	rc = h->start(c, NULL, &neu, err, errlen);
	if (rc == 0)
		rc = h->wait_ready(c, neu, s->health_url, s->health_timeout_ms,
				   s->health_retries, err, errlen);
	if (rc < 0)
		return rc;
	h->step(c, "wait for the operator (sysg deploy --promote)");
	/* a --resume ends a wait like its time running out: wait again */
	for (int i = 0; i < 10 &&
	     (op = h->operator_wait(c, 10000)) == SYSG_OPERATOR_NONE; i++)
		;
	if (op != SYSG_OPERATOR_PROMOTE) {
		h->stop(c, neu);
		snprintf(err, errlen, "%s", op == SYSG_OPERATOR_ABORT ?
			 "aborted by the operator" : "nobody promoted it");
		return -ECANCELED;
	}
	h->step(c, "promote the candidate");
	rc = h->promote(c, neu);
	/* deployment.waiter.hold_ms: keep the old instance that long */
	for (size_t i = 0; rc == 0 && i < s->noptions; i++)
		if (!strcmp(s->options[i].key, "hold_ms")) {
			h->step(c, "hold the old instance");
			h->sleep_ms(c, atoll(s->options[i].value));
		}
	if (rc == 0 && old)
		h->stop(c, old);
	return rc;
}

static const struct sysg_strategy_ops ops = {
	.check_config = check,
	.deploy = deploy,
};

static const struct sysg_plugin plugin = {
	.abi_version = SYSG_PLUGIN_ABI_VERSION,
	.name = "waiter",
	.kind = SYSG_PLUGIN_STRATEGY,
	.description = "test fixture: waits for sysg deploy --promote",
	.strategy = &ops,
};

const struct sysg_plugin *sysg_plugin_entry(void)
{
	return &plugin;
}
