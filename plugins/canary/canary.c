/* canary.c - a weighted canary rollout, written as a third party would:
 * built out of tree against the installed header only,
 *
 *     cc -shared -fPIC $(pkg-config --cflags sysg-plugin) \
 *        -Wl,--version-script=exports.map -o canary.so canary.c
 *
 * and installed into $(pkg-config --variable=plugindir sysg-plugin) (or
 * any directory on --plugin-dir / SYSG_PLUGIN_PATH). docs/plugins.md walks
 * through it.
 *
 * What it does, like blue_green with two slots (e.g. ports 8000/8001):
 *  1. starts the candidate beside the stable instance with env_var = the
 *     idle slot, and waits until it is ready;
 *  2. for each weight in `steps` (e.g. 10, 50, 100) runs `switch_command`
 *     with {weight} (the candidate's share, percent), {stable_weight}
 *     (100 - weight), {active_slot}, {candidate_slot}, {service_name}
 *     (and the same as SYSG_CANARY_WEIGHT, SYSG_ACTIVE_SLOT,
 *     SYSG_CANDIDATE_SLOT, SYSG_SERVICE_NAME in its environment), then
 *     holds that weight for `interval`, running `check` (an http(s):// URL
 *     or a shell command) every `check_every` while it holds;
 *  3. promotes the candidate, stops the old instance and remembers the
 *     new active slot (host kv "canary.active_slot").
 * A failed switch, a failed check or `sysg deploy --abort` switches the
 * weight back to 0, stops the candidate and leaves the stable instance
 * serving. During a hold, `sysg deploy --pause` holds the current weight
 * until --resume, and `--promote` skips the remaining steps (straight to
 * 100, then promote): the hold is the host's operator_wait.
 *
 *     deployment:
 *       strategy: canary
 *       health_check: { url: "http://127.0.0.1:8001/health" }
 *       canary:
 *         slots: ["8000", "8001"]
 *         env_var: PORT                       # default PORT
 *         steps: [10, 50, 100]                # default; must end at 100
 *         interval: 30s                       # hold per step, default 30s
 *         check: "http://127.0.0.1/health"    # or a command; optional
 *         check_every: 1s                     # default 1s
 *         switch_command: "./set-weight {candidate_slot} {weight}"
 *         candidate_health_check_url: "http://127.0.0.1:{slot}/health"
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sysg/plugin.h>

#define MAX_STEPS 32
#define CMD_MAX 4096
#define ACTIVE_KEY "canary.active_slot"

struct canary {
	const char *env_var;
	char slot[2][64];
	int steps[MAX_STEPS];
	int nsteps;
	long long interval_ms;
	long long check_every_ms;
	const char *check;              /* URL or command, NULL: none */
	const char *switch_command;
	const char *candidate_url;      /* may hold {slot} */
};

/* ------------------------------------------------------- settings */

static const char *opt(const struct sysg_strategy_settings *s, const char *k)
{
	for (size_t i = 0; i < s->noptions; i++)
		if (!strcmp(s->options[i].key, k))
			return s->options[i].value;
	return NULL;
}

__attribute__((format(printf, 5, 6)))
static int bad(const char **bad_key, const char *key, char *err,
	       size_t errlen, const char *fmt, ...)
{
	va_list ap;

	*bad_key = key;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* "250ms", "5s", "2m", "1h" or bare seconds -> ms; -1 when invalid. */
static long long duration_ms(const char *v)
{
	static const struct { const char *unit; long long ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "", 1000 }, { "m", 60000 },
		{ "h", 3600000 },
	};
	char *end;
	double n = strtod(v, &end);

	if (end == v || n < 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit))
			return (long long)(n * (double)units[i].ms);
	return -1;
}

/* steps: "10,50,100" (the host joins a YAML list with ','). */
static int parse_steps(const char *v, int *out, int *n)
{
	*n = 0;
	while (*v) {
		char *end;
		long w = strtol(v, &end, 10);

		if (end == v || w < 1 || w > 100 || *n == MAX_STEPS ||
		    (*n && w <= out[*n - 1]) || (*end && *end != ','))
			return -1;
		out[(*n)++] = (int)w;
		v = *end ? end + 1 : end;
	}
	return *n && out[*n - 1] == 100 ? 0 : -1;
}

/* Slots go into switch_command's shell text: ports, host:port, paths or
 * names only, never shell syntax. */
static int safe_slot(const char *v)
{
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		      (*v >= '0' && *v <= '9') || strchr("._-:/@[]", *v)))
			return 0;
	return 1;
}

static int parse_slots(const char *v, char slot[2][64])
{
	const char *comma = strchr(v, ',');

	if (!comma || strchr(comma + 1, ',') || comma == v || !comma[1] ||
	    comma - v >= 64 || strlen(comma + 1) >= 64)
		return -1;
	snprintf(slot[0], 64, "%.*s", (int)(comma - v), v);
	snprintf(slot[1], 64, "%s", comma + 1);
	return strcmp(slot[0], slot[1]) && safe_slot(slot[0]) &&
	       safe_slot(slot[1]) ? 0 : -1;
}

/* Read the settings into C; on a problem name the key and say why. */
static int load(const struct sysg_strategy_settings *s, struct canary *c,
		char *err, size_t errlen, const char **bad_key)
{
	static const char *const known[] = {
		"slots", "env_var", "steps", "interval", "check", "check_every",
		"switch_command", "candidate_health_check_url",
	};
	const char *v;

	for (size_t i = 0; i < s->noptions; i++) {
		size_t k = 0;

		while (k < sizeof(known) / sizeof(known[0]) &&
		       strcmp(known[k], s->options[i].key))
			k++;
		if (k == sizeof(known) / sizeof(known[0]))
			return bad(bad_key, s->options[i].key, err, errlen,
				   "unknown key '%s' (canary takes: slots, "
				   "env_var, steps, interval, check, "
				   "check_every, switch_command, "
				   "candidate_health_check_url)",
				   s->options[i].key);
	}
	memset(c, 0, sizeof(*c));
	c->env_var = opt(s, "env_var") ? opt(s, "env_var") : "PORT";
	if (!(v = opt(s, "slots")))
		return bad(bad_key, "slots", err, errlen, "required key is missing");
	if (parse_slots(v, c->slot) < 0)
		return bad(bad_key, "slots", err, errlen,
			   "expected two different slots (ports, host:port, "
			   "paths or names), like [\"8000\", \"8001\"]");
	v = opt(s, "steps") ? opt(s, "steps") : "10,50,100";
	if (parse_steps(v, c->steps, &c->nsteps) < 0)
		return bad(bad_key, "steps", err, errlen,
			   "expected increasing weights from 1 to 100 ending "
			   "at 100, like [10, 50, 100], found '%.60s'", v);
	v = opt(s, "interval") ? opt(s, "interval") : "30s";
	if ((c->interval_ms = duration_ms(v)) < 0)
		return bad(bad_key, "interval", err, errlen,
			   "expected a duration like 30s, found '%.60s'", v);
	v = opt(s, "check_every") ? opt(s, "check_every") : "1s";
	if ((c->check_every_ms = duration_ms(v)) <= 0)
		return bad(bad_key, "check_every", err, errlen,
			   "expected a duration like 1s, found '%.60s'", v);
	c->check = opt(s, "check");
	if (c->check && !*c->check)
		return bad(bad_key, "check", err, errlen,
			   "expected a URL or a command");
	if (!(c->switch_command = opt(s, "switch_command")))
		return bad(bad_key, "switch_command", err, errlen,
			   "required key is missing");
	c->candidate_url = opt(s, "candidate_health_check_url");
	return 0;
}

static int canary_check_config(const struct sysg_strategy_settings *s,
			       char *err, size_t errlen, const char **bad_key)
{
	struct canary c;

	*bad_key = NULL;
	if (s->noptions == 0) {
		snprintf(err, errlen, "strategy 'canary' needs a 'canary' "
			 "section (slots, switch_command, steps)");
		return -EINVAL;
	}
	return load(s, &c, err, errlen, bad_key);
}

/* ------------------------------------------------------- the rollout */

/* Everything one deploy needs. */
struct run {
	const struct sysg_host_api *h;
	struct sysg_deploy_ctx *ctx;
	const struct sysg_strategy_settings *s;
	struct canary c;
	int active;                     /* index of the stable slot */
	int weight;                     /* candidate's current share */
	sysg_instance_t cand;
};

static const char *active_slot(const struct run *r)
{
	return r->c.slot[r->active];
}

static const char *cand_slot(const struct run *r)
{
	return r->c.slot[1 - r->active];
}

/* T with every placeholder replaced, into OUT. */
static void expand(const struct run *r, const char *t, int weight, char *out,
		   size_t len)
{
	char w[16], sw[16];
	const char *keys[] = { "{weight}", "{stable_weight}", "{active_slot}",
			       "{candidate_slot}", "{slot}", "{service_name}" };
	const char *vals[] = { w, sw, active_slot(r), cand_slot(r),
			       cand_slot(r), r->s->service };
	size_t o = 0;

	snprintf(w, sizeof(w), "%d", weight);
	snprintf(sw, sizeof(sw), "%d", 100 - weight);
	while (*t && o + 1 < len) {
		size_t k = 0;

		while (k < 6 && strncmp(t, keys[k], strlen(keys[k])))
			k++;
		if (k == 6) {
			out[o++] = *t++;
			continue;
		}
		o += (size_t)snprintf(out + o, len - o, "%s", vals[k]);
		if (o >= len)
			o = len - 1;
		t += strlen(keys[k]);
	}
	out[o] = '\0';
}

/* Send WEIGHT percent of the traffic to the candidate. */
static int set_weight(struct run *r, int weight, char *err, size_t errlen)
{
	char cmd[CMD_MAX], e[4][256];
	const char *env[] = { e[0], e[1], e[2], e[3], NULL };
	int code = 0, rc;

	expand(r, r->c.switch_command, weight, cmd, sizeof(cmd));
	snprintf(e[0], sizeof(e[0]), "SYSG_CANARY_WEIGHT=%d", weight);
	snprintf(e[1], sizeof(e[1]), "SYSG_ACTIVE_SLOT=%s", active_slot(r));
	snprintf(e[2], sizeof(e[2]), "SYSG_CANDIDATE_SLOT=%s", cand_slot(r));
	snprintf(e[3], sizeof(e[3]), "SYSG_SERVICE_NAME=%s", r->s->service);
	r->h->step(r->ctx, "weight %d%% to the canary on %s: %s", weight,
		   cand_slot(r), cmd);
	if (r->h->dry_run(r->ctx))
		return 0;
	rc = r->h->run(r->ctx, cmd, env, 60000, &code, err, errlen);
	if (rc == 0 && code != 0) {
		snprintf(err, errlen, "switch_command exited with code %d "
			 "(weight %d%%)", code, weight);
		rc = -EIO;
	}
	if (rc == 0)
		r->weight = weight;
	return rc;
}

/* One run of `check`: 0 when it passes. */
static int check_once(struct run *r, char *err, size_t errlen)
{
	const char *chk = r->c.check;
	int code = 0, rc;

	if (!chk)
		return 0;
	if (!strncmp(chk, "http://", 7) || !strncmp(chk, "https://", 8))
		return r->h->http_check(r->ctx, chk, r->s->health_timeout_ms,
					err, errlen);
	rc = r->h->run(r->ctx, chk, NULL, r->s->health_timeout_ms, &code, err,
		       errlen);
	if (rc == 0 && code != 0) {
		snprintf(err, errlen, "check '%.200s' exited with code %d", chk,
			 code);
		rc = -EIO;
	}
	return rc;
}

/* Hold the current weight for `interval`, checking every `check_every`.
 * Returns 0 (held), 1 (the operator promoted) or a negative code. */
static int hold(struct run *r, char *err, size_t errlen)
{
	long long left = r->c.interval_ms;
	int rc = check_once(r, err, errlen);

	r->h->step(r->ctx, "hold %d%% for %lld ms%s%s", r->weight, left,
		   r->c.check ? " while passing: " : "",
		   r->c.check ? r->c.check : "");
	while (rc == 0 && left > 0) {
		long long wait = left < r->c.check_every_ms ? left :
				 r->c.check_every_ms;
		int op = r->h->operator_wait(r->ctx, wait);

		if (op == SYSG_OPERATOR_PROMOTE) {
			r->h->log(r->ctx, SYSG_LOG_INFO, "promoted by the operator "
				  "at %d%%", r->weight);
			return 1;
		}
		if (op == SYSG_OPERATOR_ABORT || op < 0) {
			snprintf(err, errlen, "aborted by the operator at %d%%",
				 r->weight);
			return -ECANCELED;
		}
		left -= wait;
		rc = check_once(r, err, errlen);
	}
	if (rc < 0)
		r->h->log(r->ctx, SYSG_LOG_WARN, "canary check failed at %d%%: %s",
			  r->weight, err);
	return rc;
}

/* Walk the steps; 0 when the candidate got 100% and passed its holds. */
static int walk_steps(struct run *r, char *err, size_t errlen)
{
	for (int i = 0; i < r->c.nsteps; i++) {
		int rc = set_weight(r, r->c.steps[i], err, errlen);

		if (rc == 0 && !r->h->dry_run(r->ctx))
			rc = hold(r, err, errlen);
		else if (rc == 0)
			r->h->step(r->ctx, "hold %d%% for %lld ms", r->weight,
				   r->c.interval_ms);
		if (rc == 1)    /* promoted: straight to 100 */
			return r->weight == 100 ? 0 :
			       set_weight(r, 100, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Start the candidate on the idle slot and wait until it is ready. */
static int start_candidate(struct run *r, char *err, size_t errlen)
{
	char envv[256], url[CMD_MAX];
	const char *env[] = { envv, NULL };
	const char *u = r->s->health_url;
	int rc;

	snprintf(envv, sizeof(envv), "%s=%s", r->c.env_var, cand_slot(r));
	if (r->c.candidate_url) {
		expand(r, r->c.candidate_url, 0, url, sizeof(url));
		u = url;
	}
	r->h->step(r->ctx, "start the canary beside the stable instance "
		   "with %s", envv);
	rc = r->h->dry_run(r->ctx) ? 0 :
	     r->h->start(r->ctx, env, &r->cand, err, errlen);
	if (rc < 0)
		return rc;
	r->h->step(r->ctx, "wait for the canary to be ready%s%s",
		   u ? ": " : "", u ? u : "");
	if (r->h->dry_run(r->ctx))
		return 0;
	return r->h->wait_ready(r->ctx, r->cand, u, r->s->health_timeout_ms,
				r->s->health_retries, err, errlen);
}

/* Traffic back to the stable instance, candidate stopped. */
static void roll_back(struct run *r)
{
	char e2[256];

	r->h->step(r->ctx, "roll back: weight 0%%, stop the canary");
	if (r->weight > 0 && set_weight(r, 0, e2, sizeof(e2)) < 0)
		r->h->log(r->ctx, SYSG_LOG_ERROR, "switching back to %s failed: "
			  "%s; traffic may still reach %s", active_slot(r), e2,
			  cand_slot(r));
	if (r->cand)
		r->h->stop(r->ctx, r->cand);
}

static int canary_deploy(const struct sysg_host_api *h,
			 struct sysg_deploy_ctx *ctx,
			 const struct sysg_strategy_settings *s, char *err,
			 size_t errlen)
{
	struct run r = { .h = h, .ctx = ctx, .s = s };
	sysg_instance_t old = h->current(ctx);
	const char *bad_key = NULL;
	char idx[8] = "0";
	int rc, code = 0;

	if (load(s, &r.c, err, errlen, &bad_key) < 0)
		return -EINVAL;
	if (h->kv_get(ctx, ACTIVE_KEY, idx, sizeof(idx)) == 0 &&
	    !strcmp(idx, "1"))
		r.active = 1;
	h->set_slots(ctx, active_slot(&r), cand_slot(&r));
	if (s->pre_start) {
		h->step(ctx, "run pre_start: %s", s->pre_start);
		rc = h->dry_run(ctx) ? 0 : h->pre_start(ctx, &code, err, errlen);
		if (rc == 0 && code != 0) {
			snprintf(err, errlen, "pre_start exited with error "
				 "(exit code %d)", code);
			return -ECANCELED;
		}
		if (rc < 0)
			return rc;
	}
	rc = start_candidate(&r, err, errlen);
	if (rc == 0)
		rc = walk_steps(&r, err, errlen);
	if (rc < 0) {
		roll_back(&r);
		return rc;
	}
	h->step(ctx, "promote the canary on %s and stop the old instance",
		cand_slot(&r));
	if (h->dry_run(ctx))
		return 0;
	rc = h->promote(ctx, r.cand);
	if (rc < 0) {
		snprintf(err, errlen, "could not promote the canary: %s",
			 strerror(-rc));
		roll_back(&r);
		return rc;
	}
	if (old)
		h->stop(ctx, old);
	return h->kv_set(ctx, ACTIVE_KEY, r.active ? "0" : "1");
}

/* A plain start runs on the active slot. */
static int canary_start_env(const struct sysg_host_api *h,
			    struct sysg_deploy_ctx *ctx,
			    const struct sysg_strategy_settings *s,
			    char (*out)[256], int max)
{
	struct canary c;
	const char *bad_key = NULL;
	char err[256], idx[8] = "0";

	if (max < 1 || load(s, &c, err, sizeof(err), &bad_key) < 0)
		return 0;
	h->kv_get(ctx, ACTIVE_KEY, idx, sizeof(idx));
	snprintf(out[0], 256, "%s=%s", c.env_var, c.slot[!strcmp(idx, "1")]);
	return 1;
}

static const struct sysg_strategy_ops ops = {
	SYSG_STRATEGY_OPS_INIT,
	.check_config = canary_check_config,
	.deploy = canary_deploy,
	.start_env = canary_start_env,
};

SYSG_STRATEGY_PLUGIN("canary",
	"weighted canary: shift traffic in steps, checked, pausable",
	&ops)
