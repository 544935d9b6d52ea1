/* canary.c - an example third-party strategy, built out of tree against
 * the installed headers only:
 *
 *     cc -shared -fPIC $(pkg-config --cflags sysg-plugin) -o canary.so canary.c
 *
 * It starts the new instance beside the old one, waits until it is ready,
 * then watches it for `observe` (checking `url` every `interval`) before
 * promoting it and stopping the old instance. Any failed check stops the
 * canary and leaves the old instance serving.
 *
 *     deployment:
 *       strategy: canary
 *       canary: { observe: "10s", interval: "1s", url: "http://127.0.0.1:8000/health" }
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sysg/plugin.h>

static const char *opt(const struct sysg_strategy_settings *s, const char *k)
{
	for (size_t i = 0; i < s->noptions; i++)
		if (!strcmp(s->options[i].key, k))
			return s->options[i].value;
	return NULL;
}

/* "250ms", "5s", "2m" or bare seconds -> ms; -1 when invalid. */
static long long parse_ms(const char *v, long long dflt)
{
	char *end;
	double n;

	if (!v)
		return dflt;
	n = strtod(v, &end);
	if (end == v || n < 0)
		return -1;
	if (!strcmp(end, "ms"))
		return (long long)n;
	if (!*end || !strcmp(end, "s"))
		return (long long)(n * 1000);
	if (!strcmp(end, "m"))
		return (long long)(n * 60000);
	return -1;
}

static int canary_check(const struct sysg_strategy_settings *s, char *err,
			size_t errlen, const char **bad_key)
{
	static const char *const keys[] = { "observe", "interval", "url" };

	for (size_t i = 0; i < s->noptions; i++) {
		int known = 0;

		for (size_t k = 0; k < 3; k++)
			known |= !strcmp(s->options[i].key, keys[k]);
		if (!known) {
			*bad_key = s->options[i].key;
			snprintf(err, errlen, "unknown setting '%s'", *bad_key);
			return -EINVAL;
		}
	}
	for (size_t k = 0; k < 2; k++) {
		if (parse_ms(opt(s, keys[k]), 0) < 0) {
			*bad_key = keys[k];
			snprintf(err, errlen, "expected a duration like 10s, found '%s'",
				 opt(s, keys[k]));
			return -EINVAL;
		}
	}
	return 0;
}

static int observe(const struct sysg_host_api *h, struct sysg_deploy_ctx *c,
		   const struct sysg_strategy_settings *s, char *err,
		   size_t errlen)
{
	long long total = parse_ms(opt(s, "observe"), 10000);
	long long every = parse_ms(opt(s, "interval"), 1000);
	const char *url = opt(s, "url") ? opt(s, "url") : s->health_url;

	h->step(c, "observe the canary for %lld ms", total);
	if (h->dry_run(c))
		return 0;
	for (long long t = 0; t < total; t += every) {
		h->sleep_ms(c, every);
		if (url && h->http_check(c, url, s->health_timeout_ms, err,
					 errlen) < 0)
			return -EIO;
	}
	return 0;
}

static int canary_deploy(const struct sysg_host_api *h,
			 struct sysg_deploy_ctx *c,
			 const struct sysg_strategy_settings *s, char *err,
			 size_t errlen)
{
	sysg_instance_t old = h->current(c), neu = 0;
	int rc;

	h->step(c, "start the canary beside the current instance");
	if (!h->dry_run(c) && (rc = h->start(c, NULL, &neu, err, errlen)) < 0)
		return rc;
	h->step(c, "wait for the canary to be ready");
	rc = h->dry_run(c) ? 0 : h->wait_ready(c, neu, s->health_url,
					       s->health_timeout_ms,
					       s->health_retries, err, errlen);
	if (rc == 0)
		rc = observe(h, c, s, err, errlen);
	if (rc < 0) {
		h->stop(c, neu);
		return rc;
	}
	h->step(c, "promote the canary and stop the old instance");
	if (h->dry_run(c))
		return 0;
	rc = h->promote(c, neu);
	if (rc == 0 && old)
		rc = h->stop(c, old);
	return rc;
}

static const struct sysg_strategy_ops ops = {
	.check_config = canary_check,
	.deploy = canary_deploy,
};

static const struct sysg_plugin plugin = {
	.abi_version = SYSG_PLUGIN_ABI_VERSION,
	.name = "canary",
	.kind = SYSG_PLUGIN_STRATEGY,
	.description = "example third-party strategy: observe a canary, then promote",
	.strategy = &ops,
};

const struct sysg_plugin *sysg_plugin_entry(void)
{
	return &plugin;
}
