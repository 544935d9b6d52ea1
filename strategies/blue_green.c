/* blue_green.c - two slots (e.g. ports 8000/8001): start the candidate on
 * the idle slot, check it, run switch_command, verify, wait grace_period,
 * stop the old instance, persist the active slot index (SPEC 6).
 *
 * Settings (deployment.blue_green, owned and checked here: the core knows
 * none of them): env_var (default PORT), slots (exactly two, different),
 * candidate_health_check_url ({slot}), switch_command (required;
 * {active_slot} {candidate_slot} {service_name}), switch_verify_url,
 * state_path (relative: to the project directory). The active index lives in an XML file
 * <active_slot_index>0|1</active_slot_index>, default
 * <state dir>/blue_green_<svc>.xml. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "common.h"

#define CMD_MAX 4096

struct bg {
	const char *env_var;
	char slots[2][64];
	const char *candidate_url;
	const char *switch_command;
	const char *verify_url;
	char state_path[4096];
};

/* Split "A,B" (the config joins a list with ','); the number of slots
 * found, or -1 when there are exactly two but one is empty or too long. */
static int split_slots(const char *v, char slots[2][64])
{
	const char *comma = v ? strchr(v, ',') : NULL;
	size_t a;
	int n = 1;

	if (!v || !*v)
		return 0;
	for (const char *c = v; (c = strchr(c, ',')) != NULL; c++)
		n++;
	if (n != 2)
		return n;
	a = (size_t)(comma - v);
	if (a == 0 || a >= 64 || !comma[1] || strlen(comma + 1) >= 64)
		return -1;
	memcpy(slots[0], v, a);
	slots[0][a] = '\0';
	snprintf(slots[1], 64, "%s", comma + 1);
	return 2;
}

static int valid_env_name(const char *v)
{
	if (!*v || (*v >= '0' && *v <= '9'))
		return 0;
	for (; *v; v++)
		if (!(*v == '_' || (*v >= 'a' && *v <= 'z') ||
		      (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9')))
			return 0;
	return 1;
}

/* A slot is put into switch_command's shell text ({active_slot}...): a
 * port, a host:port, a path or a name, never shell syntax. */
static int valid_slot(const char *v)
{
	if (!*v || strlen(v) > 63)
		return 0;
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		      (*v >= '0' && *v <= '9') || strchr("._-:/@[]", *v)))
			return 0;
	return 1;
}

/* The slots: present, exactly two, distinct, safe in shell text. */
static int bg_check_slots(const struct sysg_strategy_settings *s, char *err,
			  size_t errlen, const char **bad_key)
{
	static const char *const item[] = { "slots[0]", "slots[1]" };
	const char *v = strat_opt(s, "slots");
	char slots[2][64];
	int n;

	if (!v)
		return strat_bad(bad_key, "slots", err, errlen,
				 "required key is missing");
	n = split_slots(v, slots);
	if (n >= 0 && n != 2)
		return strat_bad(bad_key, "slots", err, errlen,
				 "expected exactly two slots, found %d", n);
	if (n < 0)
		return strat_bad(bad_key, "slots", err, errlen,
				 "each slot must be 1 to 63 characters");
	for (int i = 0; i < 2; i++)
		if (!valid_slot(slots[i]))
			return strat_bad(bad_key, item[i], err, errlen,
					 "invalid slot '%.60s' (a port, host:port, "
					 "path or name: letters, digits and . _ - "
					 ": / @ [ ], at most 63)", slots[i]);
	if (!strcmp(slots[0], slots[1]))
		return strat_bad(bad_key, "slots", err, errlen,
				 "the two slots must differ, both are '%s'",
				 slots[0]);
	return 0;
}

/* check_config: blue_green owns and checks deployment.blue_green. */
static int bg_check(const struct sysg_strategy_settings *s, char *err,
		    size_t errlen, const char **bad_key)
{
	static const char *const known[] = {
		"env_var", "slots", "candidate_health_check_url",
		"switch_command", "switch_verify_url", "state_path", NULL
	};
	static const char *const urls[] = {
		"candidate_health_check_url", "switch_verify_url",
	};
	const char *v;
	int rc;

	*bad_key = NULL;
	if (s->noptions == 0) {
		strat_err(err, errlen, "strategy 'blue_green' needs a "
			  "'blue_green' section (slots, switch_command)");
		return -EINVAL;
	}
	rc = strat_known_options(s, known, err, errlen, bad_key);
	if (rc < 0)
		return rc;
	v = strat_opt(s, "env_var");
	if (v && !valid_env_name(v))
		return strat_bad(bad_key, "env_var", err, errlen,
				 "expected a variable name like PORT, found '%.60s'",
				 v);
	if ((rc = bg_check_slots(s, err, errlen, bad_key)) < 0)
		return rc;
	v = strat_opt(s, "switch_command");
	if (!v)
		return strat_bad(bad_key, "switch_command", err, errlen,
				 "required key is missing");
	if (strat_blank(v))
		return strat_bad(bad_key, "switch_command", err, errlen,
				 "expected a non-empty command");
	for (size_t i = 0; i < 2; i++)
		if ((v = strat_opt(s, urls[i])) && !strat_is_url(v))
			return strat_bad(bad_key, urls[i], err, errlen,
					 "expected an http:// or https:// URL, "
					 "found '%.60s'", v);
	v = strat_opt(s, "state_path");
	if (v && strat_blank(v))
		return strat_bad(bad_key, "state_path", err, errlen,
				 "expected a non-empty string");
	return 0;
}

static void bg_state_path(const struct sysg_host_api *h,
			  struct sysg_deploy_ctx *c,
			  const struct sysg_strategy_settings *s, char *out,
			  size_t len)
{
	const char *p = strat_opt(s, "state_path");

	if (!p)
		snprintf(out, len, "%s/blue_green_%s.xml", h->state_dir(c),
			 s->service);
	else if (p[0] == '/')
		snprintf(out, len, "%s", p);
	else
		snprintf(out, len, "%s/%s", h->project_dir(c), p);
}

static int bg_load(const struct sysg_host_api *h, struct sysg_deploy_ctx *c,
		   const struct sysg_strategy_settings *s, struct bg *b)
{
	memset(b, 0, sizeof(*b));
	b->env_var = strat_opt(s, "env_var");
	if (!b->env_var)
		b->env_var = "PORT";
	b->candidate_url = strat_opt(s, "candidate_health_check_url");
	b->switch_command = strat_opt(s, "switch_command");
	b->verify_url = strat_opt(s, "switch_verify_url");
	bg_state_path(h, c, s, b->state_path, sizeof(b->state_path));
	if (!b->switch_command ||
	    split_slots(strat_opt(s, "slots"), b->slots) != 2)
		return -EINVAL;
	return 0;
}

/* Active slot index from the state file: 0 when absent or unreadable.
 * Only a small regular file is read: a FIFO or device planted there (or
 * named by state_path) must never block the caller. */
static int bg_read_active(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW |
		      O_NOCTTY);
	struct stat st;
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	int idx = 0;

	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size < 4096)
		doc = xmlReadFd(fd, path, NULL, XML_PARSE_NONET |
				XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (fd >= 0)
		close(fd);
	root = doc ? xmlDocGetRootElement(doc) : NULL;

	if (root && !xmlStrcmp(root->name, BAD_CAST "active_slot_index")) {
		xmlChar *v = xmlNodeGetContent(root);

		idx = v && !xmlStrcmp(v, BAD_CAST "1") ? 1 : 0;
		xmlFree(v);
	}
	if (doc)
		xmlFreeDoc(doc);
	return idx;
}

/* Atomically write the active index: temp file, fsync, rename. */
static int bg_write_active(const char *path, int idx)
{
	char tmp[4200], buf[128];
	int fd, n, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	n = snprintf(buf, sizeof(buf),
		     "<?xml version=\"1.0\"?>\n<active_slot_index>%d</active_slot_index>\n",
		     idx);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t)n) != n || fsync(fd) < 0)
		rc = -EIO;
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* Copy T into OUT replacing {key} placeholders. */
static void expand(const char *t, const char *active, const char *cand,
		   const char *svc, char *out, size_t len)
{
	static const char *const keys[] = { "{active_slot}", "{candidate_slot}",
					    "{service_name}", "{slot}" };
	const char *vals[] = { active, cand, svc, cand };
	size_t o = 0;

	while (*t && o + 1 < len) {
		size_t k;

		for (k = 0; k < 4; k++)
			if (!strncmp(t, keys[k], strlen(keys[k])))
				break;
		if (k < 4) {
			o += (size_t)snprintf(out + o, len - o, "%s", vals[k]);
			if (o >= len)
				o = len - 1;
			t += strlen(keys[k]);
		} else {
			out[o++] = *t++;
		}
	}
	out[o] = '\0';
}

/* Run the switch command pointing traffic from slot FROM to slot TO. */
static int bg_switch(const struct sysg_host_api *h, struct sysg_deploy_ctx *c,
		     const struct sysg_strategy_settings *s, const struct bg *b,
		     const char *from, const char *to, char *err, size_t errlen)
{
	char cmd[CMD_MAX], e1[128], e2[128], e3[256];
	const char *env[] = { e1, e2, e3, NULL };
	int code = 0, rc;

	expand(b->switch_command, from, to, s->service, cmd, sizeof(cmd));
	snprintf(e1, sizeof(e1), "SYSG_ACTIVE_SLOT=%s", from);
	snprintf(e2, sizeof(e2), "SYSG_CANDIDATE_SLOT=%s", to);
	snprintf(e3, sizeof(e3), "SYSG_SERVICE_NAME=%s", s->service);
	h->step(c, "switch traffic %s -> %s: %s", from, to, cmd);
	if (h->dry_run(c))
		return 0;
	rc = h->run(c, cmd, env, 60000, &code, err, errlen);
	if (rc == 0 && code != 0) {
		strat_err(err, errlen, "switch_command exited with code %d", code);
		rc = -ECANCELED;
	}
	return rc;
}

/* Start the candidate on slot CAND and check it. */
static int bg_candidate(const struct sysg_host_api *h,
			struct sysg_deploy_ctx *c,
			const struct sysg_strategy_settings *s,
			const struct bg *b, const char *cand,
			sysg_instance_t *neu, char *err, size_t errlen)
{
	char envv[256], url[CMD_MAX];
	const char *env[] = { envv, NULL };

	snprintf(envv, sizeof(envv), "%s=%s", b->env_var, cand);
	h->step(c, "start the candidate with %s", envv);
	if (b->candidate_url)
		expand(b->candidate_url, "", cand, s->service, url, sizeof(url));
	return strat_start_ready(h, c, s, env, b->candidate_url ? url : NULL,
				 neu, err, errlen);
}

/* After the switch: verify, or switch back. */
static int bg_verify(const struct sysg_host_api *h, struct sysg_deploy_ctx *c,
		     const struct sysg_strategy_settings *s, const struct bg *b,
		     const char *act, const char *cand, char *err,
		     size_t errlen)
{
	int rc;

	if (!b->verify_url)
		return 0;
	h->step(c, "verify the switch: %s", b->verify_url);
	if (h->dry_run(c))
		return 0;
	rc = h->http_check(c, b->verify_url, s->health_timeout_ms, err, errlen);
	if (rc < 0) {
		char e2[256];

		h->step(c, "verification failed: switch back to %s", act);
		bg_switch(h, c, s, b, cand, act, e2, sizeof(e2));
	}
	return rc;
}

static int bg_deploy(const struct sysg_host_api *h, struct sysg_deploy_ctx *c,
		     const struct sysg_strategy_settings *s, char *err,
		     size_t errlen)
{
	sysg_instance_t old = h->current(c), neu = 0;
	struct bg b;
	int active, rc;

	if (bg_load(h, c, s, &b) < 0) {
		strat_err(err, errlen, "blue_green needs two slots and a switch_command");
		return -EINVAL;
	}
	active = bg_read_active(b.state_path);
	h->set_slots(c, b.slots[active], b.slots[1 - active]);
	rc = strat_pre_start(h, c, s, err, errlen);
	if (rc == 0)
		rc = bg_candidate(h, c, s, &b, b.slots[1 - active], &neu, err,
				  errlen);
	if (rc < 0)
		return rc;
	rc = bg_switch(h, c, s, &b, b.slots[active], b.slots[1 - active], err,
		       errlen);
	if (rc < 0) {
		char e2[256];

		bg_switch(h, c, s, &b, b.slots[1 - active], b.slots[active],
			  e2, sizeof(e2));
	} else {
		rc = bg_verify(h, c, s, &b, b.slots[active], b.slots[1 - active],
			       err, errlen);
	}
	if (rc < 0) {
		h->stop(c, neu);
		return rc;
	}
	strat_grace(h, c, s);
	h->step(c, "stop the old instance; active slot is now %s",
		b.slots[1 - active]);
	if (h->dry_run(c))
		return 0;
	rc = h->promote(c, neu);
	if (rc == 0 && old)
		h->stop(c, old);
	return rc == 0 ? bg_write_active(b.state_path, 1 - active) : rc;
}

/* A plain start runs on the active slot. */
static int bg_start_env(const struct sysg_host_api *h, struct sysg_deploy_ctx *c,
			const struct sysg_strategy_settings *s,
			char (*out)[256], int max)
{
	struct bg b;

	if (max < 1 || bg_load(h, c, s, &b) < 0)
		return 0;
	snprintf(out[0], 256, "%s=%s", b.env_var,
		 b.slots[bg_read_active(b.state_path)]);
	return 1;
}

static const struct sysg_strategy_ops ops = {
	SYSG_STRATEGY_OPS_INIT,
	.check_config = bg_check,
	.deploy = bg_deploy,
	.start_env = bg_start_env,
};

SYSG_STRATEGY_PLUGIN("blue_green",
	"two slots; switch traffic to a checked candidate",
	&ops)
