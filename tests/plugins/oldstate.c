/* oldstate.c - a state backend exactly as a third party wrote it against
 * the ABI-1 headers (tests/plugins/abi1 only): an ops struct without the
 * ABI-2 abi_version slot, logging through the context-less ABI-1 `log`.
 * It keeps one deploy record and small key/values in memory. The current
 * host must load it, route its log lines to the opener's sink and hand
 * its records back whole. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sysg/plugin.h>

#if SYSG_PLUGIN_ABI_VERSION != 1
#error "oldstate must be built against the frozen ABI-1 header"
#endif

struct store {
	const struct sysg_state_host *host;
	struct sysg_deploy_record dep;
	int has_dep;
	char kv_key[64], kv_val[256];
};

static int o_open(const struct sysg_state_host *host, const char *state_dir,
		  const char *path, void **handle, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof(*s));

	(void)path;
	if (!s) {
		snprintf(err, errlen, "oldstate: out of memory");
		return -ENOMEM;
	}
	s->host = host;
	host->log(SYSG_LOG_WARN, "oldstate: opened %s (ABI 1 backend)",
		  state_dir);
	*handle = s;
	return 0;
}

static void o_close(void *h)
{
	free(h);
}

static int o_set_pid(void *h, const char *name, int64_t pid)
{
	(void)h; (void)name; (void)pid;
	return 0;
}

static int o_get_pid(void *h, const char *name, int64_t *pid)
{
	(void)h; (void)name; (void)pid;
	return -ENOENT;
}

static int o_list_pids(void *h, sysg_pid_cb cb, void *arg)
{
	(void)h; (void)cb; (void)arg;
	return 0;
}

static int o_put_unit(void *h, const struct sysg_unit_record *u)
{
	(void)h; (void)u;
	return 0;
}

static int o_get_unit(void *h, const char *name, struct sysg_unit_record *out)
{
	(void)h; (void)name; (void)out;
	return -ENOENT;
}

static int o_remove_unit(void *h, const char *name)
{
	(void)h; (void)name;
	return 0;
}

static int o_list_units(void *h, sysg_unit_cb cb, void *arg)
{
	(void)h; (void)cb; (void)arg;
	return 0;
}

static int o_add_cron_run(void *h, const struct sysg_cron_run *r, int keep)
{
	(void)h; (void)r; (void)keep;
	return 0;
}

static int o_list_cron_runs(void *h, const char *name, sysg_cron_run_cb cb,
			    void *arg)
{
	(void)h; (void)name; (void)cb; (void)arg;
	return 0;
}

/* Keeps the ABI-1 prefix of the record: all this backend knows of. */
static int o_add_deploy(void *h, const struct sysg_deploy_record *d)
{
	struct store *s = h;

	memcpy(&s->dep, d, sizeof(s->dep));
	s->has_dep = 1;
	return 0;
}

/* Hands back a record of the ABI-1 size, from its own storage. */
static int o_list_deploys(void *h, const char *service, sysg_deploy_cb cb,
			  void *arg)
{
	struct store *s = h;

	if (s->has_dep && (!service || !strcmp(service, s->dep.service)))
		cb(arg, &s->dep);
	return 0;
}

static int o_kv_get(void *h, const char *key, char *buf, size_t len)
{
	struct store *s = h;

	if (strcmp(key, s->kv_key) || !s->kv_key[0])
		return -ENOENT;
	if (strlen(s->kv_val) >= len)
		return -ENOSPC;
	strcpy(buf, s->kv_val);
	return 0;
}

static int o_kv_set(void *h, const char *key, const char *value)
{
	struct store *s = h;

	if (!value)
		s->host->log(SYSG_LOG_WARN, "oldstate: deleted %s", key);
	snprintf(s->kv_key, sizeof(s->kv_key), "%s", value ? key : "");
	snprintf(s->kv_val, sizeof(s->kv_val), "%s", value ? value : "");
	return 0;
}

static const struct sysg_state_ops ops = {
	.open = o_open, .close = o_close, .set_pid = o_set_pid,
	.get_pid = o_get_pid, .list_pids = o_list_pids,
	.put_unit = o_put_unit, .get_unit = o_get_unit,
	.remove_unit = o_remove_unit, .list_units = o_list_units,
	.add_cron_run = o_add_cron_run, .list_cron_runs = o_list_cron_runs,
	.add_deploy = o_add_deploy, .list_deploys = o_list_deploys,
	.kv_get = o_kv_get, .kv_set = o_kv_set,
};

static const struct sysg_plugin plugin = {
	.abi_version = SYSG_PLUGIN_ABI_VERSION,
	.name = "oldstate",
	.kind = SYSG_PLUGIN_STATE,
	.description = "test fixture: an ABI-1 state backend",
	.state = &ops,
};

const struct sysg_plugin *sysg_plugin_entry(void)
{
	return &plugin;
}
