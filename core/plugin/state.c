/* state.c - see state.h */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "state.h"
#include "stateremote.h"

static FILE *log_file;

void sysg_state_log_to(FILE *f)
{
	log_file = f;
}

/* The store whose log gets the lines of ABI-1 backends (their log has no
 * context): the one opened or given a sink last. */
static struct sysg_state *log_owner;

static void state_vlog(struct sysg_state *st, int level, const char *fmt,
		       va_list ap)
{
	static const char *const names[] = {
		"", "error", "warning", "info", "debug", "trace",
	};
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (st && st->log_sink) {
		st->log_sink(st->log_arg, level, msg);
		return;
	}
	if (level > SYSG_LOG_INFO || !log_file)
		return;
	/* no sink: the stream the caller chose (the CLI: stderr) */
	fprintf(log_file, "state: %s: %s\n",
		names[level < 1 ? 1 : level > 5 ? 5 : level], msg);
}

static void state_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void state_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	state_vlog(log_owner, level, fmt, ap);
	va_end(ap);
}

static void state_log_ctx(const struct sysg_state_host *host, int level,
			  const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* HOST is the one embedded in a struct sysg_state (container_of). */
static void state_log_ctx(const struct sysg_state_host *host, int level,
			  const char *fmt, ...)
{
	struct sysg_state *st = host ? (struct sysg_state *)(void *)
		((char *)(uintptr_t)host - offsetof(struct sysg_state, host)) :
		NULL;
	va_list ap;

	va_start(ap, fmt);
	state_vlog(st, level, fmt, ap);
	va_end(ap);
}

void sysg_state_set_log(struct sysg_state *st,
			void (*sink)(void *arg, int level, const char *line),
			void *arg)
{
	st->log_sink = sink;
	st->log_arg = arg;
	log_owner = st;
}

void sysg_state_init_host(struct sysg_state *st)
{
	st->host.abi_version = SYSG_PLUGIN_ABI_VERSION;
	st->host.log = state_log;
	st->host.log_ctx = state_log_ctx;
	log_owner = st;
}

int sysg_state_open(struct sysg_state **out, const struct sysg_plugin_path *pp,
		    const char *name, const char *state_dir, const char *path,
		    char *err, size_t errlen)
{
	struct sysg_state *st;
	int r;

	*out = NULL;
	if (!state_dir || !*state_dir) {
		sysg_errf(err, errlen, "state: no state directory");
		return -EINVAL;
	}
	if (!(st = calloc(1, sizeof(*st))) || !(st->dir = strdup(state_dir))) {
		free(st);
		sysg_errf(err, errlen, "state: out of memory");
		return -ENOMEM;
	}
	sysg_state_init_host(st);
	/* the loader checks that a state plugin has every operation */
	r = sysg_plugin_load(pp, name ? name : "xml", SYSG_PLUGIN_STATE,
			     &st->plugin, err, errlen);
	if (!r) {
		st->ops = st->plugin->desc->state;
		r = sysg_mkdir_p(state_dir, 0700, 0);
		if (r)
			sysg_errf(err, errlen, "cannot create state directory "
				  "%s: %s", state_dir, strerror(-r));
	}
	if (!r) {
		/* files in it are created as root: nobody else may plant a
		 * symlink or swap a file there */
		int fd = sysg_dir_open_trusted(state_dir, "state directory",
					       err, errlen);

		r = fd < 0 ? fd : close(fd);
	}
	if (!r && ((path && !(st->path = strdup(path))) ||
		   !(st->file = strdup(st->plugin->path)))) {
		sysg_errf(err, errlen, "state: out of memory");
		r = -ENOMEM;
	}
	if (!r)
		r = st->ops->open(&st->host, state_dir, path, &st->handle,
				  err, errlen);
	if (r) {
		sysg_state_close(st);
		return r < 0 ? r : -EIO;
	}
	*out = st;
	return 0;
}

void sysg_state_release(struct sysg_state *st)
{
	if (!st)
		return;
	if (st->remote) {
		sysg_remote_end(st);
		return;
	}
	if (st->handle)
		st->ops->close(st->handle);
	st->handle = NULL;
	sysg_plugin_unload(st->plugin);
	st->plugin = NULL;
	st->ops = NULL;
}

void sysg_state_close(struct sysg_state *st)
{
	if (!st)
		return;
	if (st->remote)
		sysg_remote_free(st);
	else
		sysg_state_release(st);
	free(st->mirror);
	if (log_owner == st)
		log_owner = NULL;
	free(st->dir);
	free(st->path);
	free(st->file);
	free(st);
}

void sysg_state_on_use(struct sysg_state *st, void (*hook)(void *arg),
		       void *arg)
{
	st->on_use = hook;
	st->use_arg = arg;
}

/* The backend's operations, reloading and reopening it after a release;
 * NULL (after logging why) when that fails. */
static const struct sysg_state_ops *ops_of(struct sysg_state *st)
{
	char err[SYSG_ERR_MAX];

	if (!st)
		return NULL;
	if (st->on_use)
		st->on_use(st->use_arg);
	if (st->handle)
		return st->ops;
	if (!st->plugin && sysg_plugin_reload(st->file, SYSG_PLUGIN_STATE,
					      &st->plugin, err, sizeof(err)) < 0) {
		state_log_ctx(&st->host, SYSG_LOG_ERROR, "cannot reload %s: %s",
			      st->file, err);
		return NULL;
	}
	st->ops = st->plugin->desc->state;
	if (st->ops->open(&st->host, st->dir, st->path, &st->handle, err,
			  sizeof(err)) < 0) {
		state_log_ctx(&st->host, SYSG_LOG_ERROR,
			      "cannot reopen the state: %s", err);
		st->handle = NULL;
		return NULL;
	}
	return st->ops;
}

/* Forward to the backend's slot F (to the helper of a remote store):
 * -ENOSYS when it has none, -EIO when it cannot be reloaded. */
#define FORWARD(st, f, ...) ((st) && (st)->remote ? \
	sysg_remote_##f((st), __VA_ARGS__) : LOCAL(st, f, __VA_ARGS__))
#define LOCAL(st, f, ...) ({ \
	const struct sysg_state_ops *o_ = ops_of(st); \
	!o_ ? -EIO : o_->f ? o_->f((st)->handle, __VA_ARGS__) : -ENOSYS; })

int sysg_state_set_pid(struct sysg_state *st, const char *name, int64_t pid)
{
	return FORWARD(st, set_pid, name, pid);
}

int sysg_state_get_pid(struct sysg_state *st, const char *name, int64_t *pid)
{
	return FORWARD(st, get_pid, name, pid);
}

int sysg_state_list_pids(struct sysg_state *st, sysg_pid_cb cb, void *arg)
{
	return FORWARD(st, list_pids, cb, arg);
}

/* ------------------------------------------------------------ mirror */

static long mirror_find(const struct sysg_state *st, const char *name)
{
	for (size_t i = 0; i < st->nmirror; i++)
		if (!strcmp(st->mirror[i].name, name))
			return (long)i;
	return -1;
}

static void mirror_drop(struct sysg_state *st, const char *name)
{
	long i = mirror_find(st, name);

	if (i < 0)
		return;
	memmove(&st->mirror[i], &st->mirror[i + 1],
		(st->nmirror - (size_t)i - 1) * sizeof(*st->mirror));
	st->nmirror--;
}

/* Keep U when wanted, forget it otherwise. -ENOMEM drops the mirror:
 * readers then go to the backend, which stays right. */
static int mirror_note(struct sysg_state *st, const struct sysg_unit_record *u)
{
	long i;

	if (!st->want)
		return 0;
	if (!st->want(st->want_arg, u->name)) {
		mirror_drop(st, u->name);
		return 0;
	}
	if ((i = mirror_find(st, u->name)) >= 0) {
		st->mirror[i] = *u;
		return 0;
	}
	if (st->nmirror == st->mirror_cap) {
		size_t cap = st->mirror_cap ? st->mirror_cap * 2 : 8;
		void *p = realloc(st->mirror, cap * sizeof(*st->mirror));

		if (!p) {
			sysg_state_mirror(st, NULL, NULL);
			return -ENOMEM;
		}
		st->mirror = p;
		st->mirror_cap = cap;
	}
	st->mirror[st->nmirror++] = *u;
	return 0;
}

static int mirror_fill(void *arg, const struct sysg_unit_record *u)
{
	return mirror_note(arg, u) < 0;
}

int sysg_state_mirror(struct sysg_state *st,
		      int (*want)(void *arg, const char *name), void *arg)
{
	int rc;

	st->nmirror = 0;
	st->want = want;
	st->want_arg = arg;
	if (!want) {
		free(st->mirror);
		st->mirror = NULL;
		st->mirror_cap = 0;
		return 0;
	}
	rc = sysg_state_list_units(st, mirror_fill, st);
	if (rc < 0 || !st->want) {
		sysg_state_mirror(st, NULL, NULL);
		return rc < 0 ? rc : -ENOMEM;
	}
	return 0;
}

int sysg_state_mirrored(const struct sysg_state *st)
{
	return st && st->want;
}

int sysg_state_mirror_get(const struct sysg_state *st, const char *name,
			  struct sysg_unit_record *out)
{
	long i = st ? mirror_find(st, name) : -1;

	if (i < 0)
		return -ENOENT;
	*out = st->mirror[i];
	return 0;
}

void sysg_state_mirror_list(const struct sysg_state *st, sysg_unit_cb cb,
			    void *arg)
{
	for (size_t i = 0; st && i < st->nmirror; i++)
		if (cb(arg, &st->mirror[i]))
			return;
}

/* ------------------------------------------------------------------ */

/* Records an older backend hands back end where its ABI's struct ended
 * (sysg/plugin.h rule 5): copy that prefix into a zeroed current record.
 * END_V1: the end of the last field ABI 1 defined. */
#define FIELD_END(type, field) \
	(offsetof(type, field) + sizeof(((type *)0)->field))
#define UNIT_END_V1   FIELD_END(struct sysg_unit_record, command)
#define CRON_END_V1   FIELD_END(struct sysg_cron_run, exit_code)
#define DEPLOY_END_V1 FIELD_END(struct sysg_deploy_record, reason)

/* The callback and argument a listing was asked for, and how much of each
 * record the backend filled. */
struct relay {
	void *cb;
	void *arg;
	size_t end;
};

#define RELAY(name, type) \
static int relay_##name(void *arg, const type *rec) \
{ \
	struct relay *r = arg; \
	type full; \
\
	memset(&full, 0, sizeof(full)); \
	memcpy(&full, rec, r->end < sizeof(full) ? r->end : sizeof(full)); \
	return ((int (*)(void *, const type *))r->cb)(r->arg, &full); \
}
RELAY(unit, struct sysg_unit_record)
RELAY(cron, struct sysg_cron_run)
RELAY(deploy, struct sysg_deploy_record)

/* A backend plugin built for an older ABI than this host's records (an
 * in-process store, e.g. the live view's overlay, has no plugin). */
static int old_records(struct sysg_state *st)
{
	return st && !st->remote && ops_of(st) && st->plugin &&
	       st->plugin->ops_version < SYSG_PLUGIN_ABI_VERSION;
}

int sysg_state_put_unit(struct sysg_state *st, const struct sysg_unit_record *u)
{
	int rc = FORWARD(st, put_unit, u);

	if (rc == 0)
		mirror_note(st, u);
	return rc;
}

int sysg_state_get_unit(struct sysg_state *st, const char *name,
			struct sysg_unit_record *out)
{
	memset(out, 0, sizeof(*out));   /* an older backend fills a prefix */
	return FORWARD(st, get_unit, name, out);
}

int sysg_state_remove_unit(struct sysg_state *st, const char *name)
{
	int rc = FORWARD(st, remove_unit, name);

	if (rc == 0)
		mirror_drop(st, name);
	return rc;
}

int sysg_state_list_units(struct sysg_state *st, sysg_unit_cb cb, void *arg)
{
	struct relay r = { (void *)cb, arg, UNIT_END_V1 };

	if (old_records(st))
		return LOCAL(st, list_units, relay_unit, &r);
	return FORWARD(st, list_units, cb, arg);
}

int sysg_state_add_cron_run(struct sysg_state *st, const struct sysg_cron_run *r,
			    int keep)
{
	return FORWARD(st, add_cron_run, r, keep);
}

int sysg_state_list_cron_runs(struct sysg_state *st, const char *name,
			      sysg_cron_run_cb cb, void *arg)
{
	struct relay r = { (void *)cb, arg, CRON_END_V1 };

	if (old_records(st))
		return LOCAL(st, list_cron_runs, name, relay_cron, &r);
	return FORWARD(st, list_cron_runs, name, cb, arg);
}

int sysg_state_add_deploy(struct sysg_state *st,
			  const struct sysg_deploy_record *d)
{
	return FORWARD(st, add_deploy, d);
}

int sysg_state_list_deploys(struct sysg_state *st, const char *service,
			    sysg_deploy_cb cb, void *arg)
{
	struct relay r = { (void *)cb, arg, DEPLOY_END_V1 };

	if (old_records(st))
		return LOCAL(st, list_deploys, service, relay_deploy, &r);
	return FORWARD(st, list_deploys, service, cb, arg);
}

int sysg_state_kv_get(struct sysg_state *st, const char *key, char *buf,
		      size_t len)
{
	return FORWARD(st, kv_get, key, buf, len);
}

int sysg_state_kv_set(struct sysg_state *st, const char *key,
		      const char *value)
{
	return FORWARD(st, kv_set, key, value);
}

/* The batch slots exist from ABI 2 on (the ops struct's own version);
 * an older backend writes at once. */
static int has_batch(struct sysg_state *st, const struct sysg_state_ops *o)
{
	return st->plugin && sysg_plugin_has_slot(st->plugin, 2) &&
	       o->batch_begin && o->batch_commit;
}

int sysg_state_batch_begin(struct sysg_state *st)
{
	const struct sysg_state_ops *o;

	if (st && st->remote)
		return 0;       /* its queue is the batch */
	o = ops_of(st);

	if (!o)
		return -EIO;
	return has_batch(st, o) ? o->batch_begin(st->handle) : 0;
}

int sysg_state_batch_commit(struct sysg_state *st)
{
	const struct sysg_state_ops *o;

	if (st && st->remote)
		return 0;
	o = ops_of(st);

	if (!o)
		return -EIO;
	return has_batch(st, o) ? o->batch_commit(st->handle) : 0;
}
