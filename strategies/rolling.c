/* rolling.c - start the new instance beside the old one, wait until it is
 * healthy, wait grace_period, then stop the old one; the old instance is
 * untouched when the new one fails; a port conflict falls back to
 * stop-then-start (SPEC 6). A service with copies (instances: N) has
 * them replaced deployment.rolling.max_parallel at a time (default 1),
 * each new one ready before its old one is stopped; when one fails, the
 * copies already replaced go back to their previous definition, so the
 * whole service is on the old one again (SPEC 11). */
#include <stdlib.h>

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

/* ------------------------------------------------------------------ */
/* A service with copies (instances: N)                                */
/* ------------------------------------------------------------------ */

#define MAX_COPIES 256

/* deployment.rolling.max_parallel: a whole number from 1 (default 1). */
static int max_parallel(const struct sysg_strategy_settings *s, int *out)
{
	const char *v = strat_opt(s, "max_parallel");
	char *end;
	long n;

	*out = 1;
	if (!v)
		return 0;
	n = strtol(v, &end, 10);
	if (end == v || *end || n < 1 || n > MAX_COPIES)
		return -EINVAL;
	*out = (int)n;
	return 0;
}

static int rolling_check(const struct sysg_strategy_settings *s, char *err,
			 size_t errlen, const char **bad_key)
{
	static const char *const known[] = { "max_parallel", NULL };
	int n, rc = strat_known_options(s, known, err, errlen, bad_key);

	if (rc == 0 && max_parallel(s, &n) < 0)
		return strat_bad(bad_key, "max_parallel", err, errlen,
				 "expected a whole number from 1 to %d, found "
				 "'%s'", MAX_COPIES,
				 strat_opt(s, "max_parallel"));
	return rc;
}

/* The copies whose new instance was promoted (REPLACED, N of them) go
 * back to their previous definition, newest first; 0 when all did. */
static int roll_back(const struct sysg_host_api *h, struct sysg_deploy_ctx *c,
		     const struct sysg_strategy_settings *s,
		     const int *replaced, int n)
{
	int rc = 0;

	for (int i = n - 1; i >= 0; i--) {
		int k = replaced[i];
		sysg_instance_t neu = h->current_copy(c, k), back = 0;
		char why[512] = "";
		int r;

		h->step(c, "%s.%d: roll back to the previous definition",
			s->service, k);
		r = h->start_copy(c, k, 1, NULL, &back, why, sizeof(why));
		if (r == 0)
			r = h->wait_ready(c, back, s->health_url,
					  s->health_timeout_ms,
					  s->health_retries, why, sizeof(why));
		if (r == 0)
			r = h->promote(c, back);
		if (r == 0 && neu)
			h->stop(c, neu);
		if (r < 0) {
			if (back)
				h->stop(c, back);
			h->log(c, SYSG_LOG_ERROR, "%s.%d could not be rolled "
			       "back: %s", s->service, k, why);
			rc = r;
		}
	}
	return rc;
}

/* Replace copies FIRST..LAST-1 at once; their index goes to REPLACED
 * (*NREP more) once promoted. */
static int roll_batch(const struct sysg_host_api *h, struct sysg_deploy_ctx *c,
		      const struct sysg_strategy_settings *s, int first,
		      int last, int *replaced, int *nrep, char *err,
		      size_t errlen)
{
	sysg_instance_t old[MAX_COPIES] = { 0 }, neu[MAX_COPIES] = { 0 };
	int rc = 0, k;

	for (k = first; k < last && rc == 0; k++) {
		old[k] = h->current_copy(c, k);
		h->step(c, "%s.%d: start the new instance beside the old one",
			s->service, k);
		if (!h->dry_run(c))
			rc = h->start_copy(c, k, 0, NULL, &neu[k], err, errlen);
	}
	for (k = first; k < last && rc == 0; k++) {
		h->step(c, "%s.%d: wait for the new instance to be ready%s%s",
			s->service, k, s->health_url ? ": " : "",
			s->health_url ? s->health_url : "");
		if (!h->dry_run(c))
			rc = h->wait_ready(c, neu[k], s->health_url,
					   s->health_timeout_ms,
					   s->health_retries, err, errlen);
		if (rc == -EADDRINUSE) {
			/* the copy binds its port itself (no `listen:`):
			 * stop, then start (SPEC 6); rolled back as a copy
			 * replaced if it fails */
			h->step(c, "%s.%d: port conflict: stop the old instance, "
				"then start the new one", s->service, k);
			h->stop(c, neu[k]);
			neu[k] = 0;
			if (old[k])
				h->stop(c, old[k]);
			old[k] = 0;
			replaced[(*nrep)++] = k;
			rc = h->start_copy(c, k, 0, NULL, &neu[k], err, errlen);
			if (rc == 0)
				rc = h->wait_ready(c, neu[k], s->health_url,
						   s->health_timeout_ms,
						   s->health_retries, err,
						   errlen);
		}
	}
	if (rc < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s.%d: %s", s->service, k - 1,
			 err);
		snprintf(err, errlen, "%s", why);
		for (k = first; k < last; k++)
			if (neu[k])
				h->stop(c, neu[k]);
		return rc;
	}
	strat_grace(h, c, s);
	for (k = first; k < last && rc == 0; k++) {
		h->step(c, "%s.%d: serve from the new instance, stop the old "
			"one (SIGTERM, SIGKILL after deployment.drain)",
			s->service, k);
		if (h->dry_run(c))
			continue;
		rc = h->promote(c, neu[k]);
		if (rc < 0) {
			snprintf(err, errlen, "%s.%d: the new instance could not "
				 "take over", s->service, k);
			for (int j = k; j < last; j++)
				h->stop(c, neu[j]);
			return rc;
		}
		if (old[k])     /* (else noted at its port conflict) */
			replaced[(*nrep)++] = k;
		if (old[k])
			h->stop(c, old[k]);
	}
	return rc;
}

static int rolling_copies(const struct sysg_host_api *h,
			  struct sysg_deploy_ctx *c,
			  const struct sysg_strategy_settings *s,
			  char *err, size_t errlen)
{
	int n = h->copies(c), par = 1, nrep = 0, rc;
	int replaced[MAX_COPIES];

	if (n > MAX_COPIES) {
		strat_err(err, errlen, "more than %d copies", MAX_COPIES);
		return -E2BIG;
	}
	max_parallel(s, &par);
	rc = strat_pre_start(h, c, s, err, errlen);
	for (int first = 0; rc == 0 && first < n; first += par)
		rc = roll_batch(h, c, s, first, first + par < n ? first + par :
				n, replaced, &nrep, err, errlen);
	if (rc < 0 && nrep && roll_back(h, c, s, replaced, nrep) < 0) {
		size_t l = strlen(err);

		snprintf(err + l, errlen - l, "; some copies could not be "
			 "rolled back (see sysg logs --kind supervisor)");
	}
	return rc;
}

static int rolling_any(const struct sysg_host_api *h, struct sysg_deploy_ctx *c,
		       const struct sysg_strategy_settings *s, char *err,
		       size_t errlen)
{
	return h->copies(c) > 1 ? rolling_copies(h, c, s, err, errlen) :
	       rolling_deploy(h, c, s, err, errlen);
}

static const struct sysg_strategy_ops ops = {
	SYSG_STRATEGY_OPS_INIT,
	.check_config = rolling_check,
	.deploy = rolling_any,
	.flags = SYSG_STRATEGY_COPIES,
};

SYSG_STRATEGY_PLUGIN("rolling",
	"start the new instance beside the old, switch when healthy",
	&ops)
