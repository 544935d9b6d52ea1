/* common.h - small helpers shared by the bundled strategies.
 *
 * Header-only (static functions) so each strategy .so stays
 * self-contained: of the core it includes only <sysg/plugin.h> and the
 * pure "did you mean" of base/suggest.c, compiled into each .so so that
 * strategies word a typo the way the config loader does. */
#ifndef SYSG_STRATEGIES_COMMON_H
#define SYSG_STRATEGIES_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sysg/plugin.h>

#include "base/base.h"      /* for sysg_suggest (base/suggest.c, linked in) */

__attribute__((format(printf, 3, 4), unused))
static void strat_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* Value of option KEY, or NULL. */
__attribute__((unused))
static const char *strat_opt(const struct sysg_strategy_settings *s,
			     const char *key)
{
	for (size_t i = 0; i < s->noptions; i++)
		if (!strcmp(s->options[i].key, key))
			return s->options[i].value;
	return NULL;
}

/* Reject options not in KNOWN (NULL-terminated), with the config's
 * wording: "unknown key 'slot' (did you mean 'slots'?)". */
__attribute__((unused))
static int strat_known_options(const struct sysg_strategy_settings *s,
			       const char *const *known, char *err,
			       size_t errlen, const char **bad_key)
{
	for (size_t i = 0; i < s->noptions; i++) {
		const char *key = s->options[i].key, *hint;
		int ok = 0;

		for (const char *const *k = known; *k && !ok; k++)
			ok = !strcmp(key, *k);
		if (ok)
			continue;
		*bad_key = key;
		hint = sysg_suggest(key, known);
		if (hint)
			strat_err(err, errlen, "unknown key '%s' (did you mean '%s'?)",
				  key, hint);
		else
			strat_err(err, errlen, "unknown key '%s'", key);
		return -EINVAL;
	}
	return 0;
}

/* Fail a check on KEY with a message (for check_config). */
__attribute__((format(printf, 5, 6), unused))
static int strat_bad(const char **bad_key, const char *key, char *err,
		     size_t errlen, const char *fmt, ...)
{
	va_list ap;

	*bad_key = key;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* 1 when V is a whole word of blanks (or empty). */
__attribute__((unused))
static int strat_blank(const char *v)
{
	for (; *v; v++)
		if (*v != ' ' && *v != '\t' && *v != '\n' && *v != '\r')
			return 0;
	return 1;
}

/* 1 when V looks like an http:// or https:// URL. */
__attribute__((unused))
static int strat_is_url(const char *v)
{
	return !strncmp(v, "http://", 7) || !strncmp(v, "https://", 8);
}

/* check_config of a strategy that takes no options. */
__attribute__((unused))
static int strat_no_options(const struct sysg_strategy_settings *s, char *err,
			    size_t errlen, const char **bad_key)
{
	static const char *const known[] = { NULL };

	return strat_known_options(s, known, err, errlen, bad_key);
}

/* Run pre_start through the host; fills ERR the way SPEC 8 words it. */
__attribute__((unused))
static int strat_pre_start(const struct sysg_host_api *h,
			   struct sysg_deploy_ctx *c,
			   const struct sysg_strategy_settings *s,
			   char *err, size_t errlen)
{
	int code = 0, rc;

	if (!s->pre_start)
		return 0;
	h->step(c, "run pre_start: %s", s->pre_start);
	if (h->dry_run(c))
		return 0;
	rc = h->pre_start(c, &code, err, errlen);
	if (rc == 0 && code != 0) {
		strat_err(err, errlen, "pre_start exited with error (exit code %d)",
			  code);
		return -ECANCELED;
	}
	return rc;
}

/* Wait for INST with the deployment health check (URL or the service's
 * own readiness when none). */
__attribute__((unused))
static int strat_wait_ready(const struct sysg_host_api *h,
			    struct sysg_deploy_ctx *c,
			    const struct sysg_strategy_settings *s,
			    sysg_instance_t inst, const char *url,
			    char *err, size_t errlen)
{
	const char *u = url ? url : s->health_url;

	h->step(c, "wait for the new instance to be ready%s%s",
		u ? ": " : "", u ? u : "");
	if (h->dry_run(c))
		return 0;
	return h->wait_ready(c, inst, u, s->health_timeout_ms,
			     s->health_retries, err, errlen);
}

/* Start a new instance into *NEU with ENV, wait until it is ready (see
 * strat_wait_ready) and stop it again when it is not. */
__attribute__((unused))
static int strat_start_ready(const struct sysg_host_api *h,
			     struct sysg_deploy_ctx *c,
			     const struct sysg_strategy_settings *s,
			     const char *const *env, const char *url,
			     sysg_instance_t *neu, char *err, size_t errlen)
{
	int rc;

	if (!h->dry_run(c) && (rc = h->start(c, env, neu, err, errlen)) < 0)
		return rc;
	rc = strat_wait_ready(h, c, s, *neu, url, err, errlen);
	if (rc < 0 && *neu)
		h->stop(c, *neu);
	return rc;
}

/* Wait the deployment's grace_period, if any. */
__attribute__((unused))
static void strat_grace(const struct sysg_host_api *h,
			struct sysg_deploy_ctx *c,
			const struct sysg_strategy_settings *s)
{
	if (s->grace_period_ms <= 0)
		return;
	h->step(c, "wait grace_period (%lld ms)", (long long)s->grace_period_ms);
	if (!h->dry_run(c))
		h->sleep_ms(c, s->grace_period_ms);
}

#endif
