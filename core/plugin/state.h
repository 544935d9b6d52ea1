/* state.h - the core's handle on the selected state backend plugin.
 *
 * sysg_state_open() loads the backend named by the config (`state.backend`,
 * default "xml") or --state-backend through the plugin loader, opens it in
 * the state directory, and forwards every call to the plugin's
 * struct sysg_state_ops (include/sysg/plugin.h). The core never touches
 * pid.xml/state.xml directly: it goes through here. */
#ifndef SYSG_STATE_H
#define SYSG_STATE_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include <sysg/plugin.h>

#include "plugin_loader.h"

struct sysg_state {
	struct sysg_loaded_plugin *plugin;      /* NULL while released */
	const struct sysg_state_ops *ops;
	void *handle;
	char *dir;
	char *path;             /* state.path, or NULL */
	char *file;             /* the backend's .so, to reload it */
	void (*on_use)(void *arg);      /* after every call (idle timers) */
	void *use_arg;
	/* the mirror: in-memory copies of the unit records WANT keeps */
	int (*want)(void *arg, const char *name);
	void *want_arg;
	struct sysg_unit_record *mirror;
	size_t nmirror, mirror_cap;
};

/* Load backend NAME (NULL: "xml") from the plugin search path PP, create
 * STATE_DIR (0700) if needed and open the store (PATH: state.path or NULL).
 * On failure returns a negative code with a message in ERR. */
int sysg_state_open(struct sysg_state **out, const struct sysg_plugin_path *pp,
		    const char *name, const char *state_dir, const char *path,
		    char *err, size_t errlen);
void sysg_state_close(struct sysg_state *st);

/* Where the backends' log lines ("state: warning: ...") go: a stream the
 * caller owns (the CLI passes stderr), or NULL (the default): nowhere.
 * The library never prints on its own. */
void sysg_state_log_to(FILE *f);

/* Close the store and unload the backend plugin (and the libraries it
 * pulled in, e.g. libxml2) until the next call, which reloads and
 * reopens it transparently. The resident supervisor calls this when the
 * state has been idle for a while, to keep its memory small. */
void sysg_state_release(struct sysg_state *st);

/* Call HOOK(ARG) after every call into the backend (NULL: none). */
void sysg_state_on_use(struct sysg_state *st, void (*hook)(void *arg),
		       void *arg);

/* Thin forwards to the backend (same contracts as struct sysg_state_ops). */
int sysg_state_set_pid(struct sysg_state *st, const char *name, int64_t pid);
int sysg_state_get_pid(struct sysg_state *st, const char *name, int64_t *pid);
int sysg_state_list_pids(struct sysg_state *st, sysg_pid_cb cb, void *arg);
int sysg_state_put_unit(struct sysg_state *st, const struct sysg_unit_record *u);
int sysg_state_get_unit(struct sysg_state *st, const char *name,
			struct sysg_unit_record *out);
int sysg_state_remove_unit(struct sysg_state *st, const char *name);
int sysg_state_list_units(struct sysg_state *st, sysg_unit_cb cb, void *arg);
int sysg_state_add_cron_run(struct sysg_state *st, const struct sysg_cron_run *r,
			    int keep);
int sysg_state_list_cron_runs(struct sysg_state *st, const char *name,
			      sysg_cron_run_cb cb, void *arg);
int sysg_state_add_deploy(struct sysg_state *st,
			  const struct sysg_deploy_record *d);
int sysg_state_list_deploys(struct sysg_state *st, const char *service,
			    sysg_deploy_cb cb, void *arg);
int sysg_state_kv_get(struct sysg_state *st, const char *key, char *buf,
		      size_t len);
int sysg_state_kv_set(struct sysg_state *st, const char *key,
		      const char *value);

/* Hold the writes that follow until sysg_state_batch_commit(), which
 * stores them together (one file rewrite or one transaction); a backend
 * without batches (ABI 1) writes each at once. 0 or -errno. */
/* Keep in memory a copy of every unit record whose name WANT (ARG, name)
 * accepts: filled now from one listing of the backend, then maintained
 * by every put_unit and remove_unit through ST, so that readers of those
 * records (sysg_state_mirror_get, sysg_state_mirror_list) never load the
 * backend. Call again when WANT's answers change; WANT NULL drops the
 * mirror. 0, or the listing's negative errno (then no mirror). */
int sysg_state_mirror(struct sysg_state *st,
		      int (*want)(void *arg, const char *name), void *arg);
/* 1 while ST mirrors records. */
int sysg_state_mirrored(const struct sysg_state *st);
/* NAME's mirrored record: 0, or -ENOENT. */
int sysg_state_mirror_get(const struct sysg_state *st, const char *name,
			  struct sysg_unit_record *out);
/* Every mirrored record, in the order first seen, until CB returns
 * non-zero. */
void sysg_state_mirror_list(const struct sysg_state *st, sysg_unit_cb cb,
			    void *arg);

int sysg_state_batch_begin(struct sysg_state *st);
int sysg_state_batch_commit(struct sysg_state *st);

#endif
