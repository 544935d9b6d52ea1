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
#include <sys/types.h>

#include <sysg/plugin.h>

#include "plugin_loader.h"

struct sysg_state {
	struct sysg_state_host host;    /* handed to the backend: its context */
	void (*log_sink)(void *arg, int level, const char *line);
	void *log_arg;
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
	struct sysg_state_remote *remote;       /* NULL: the backend is here */
};

struct sysg_loop;

/* Load backend NAME (NULL: "xml") from the plugin search path PP, create
 * STATE_DIR (0700) if needed and open the store (PATH: state.path or NULL).
 * On failure returns a negative code with a message in ERR. */
int sysg_state_open(struct sysg_state **out, const struct sysg_plugin_path *pp,
		    const char *name, const char *state_dir, const char *path,
		    char *err, size_t errlen);
void sysg_state_close(struct sysg_state *st);

/* As sysg_state_open, but the backend never enters this process: it is
 * opened, and then used, in a helper process (stateremote.h), so that
 * the resident supervisor maps neither libxml2/ICU/libstdc++ nor sqlite.
 * Writes through the store return at once and are stored by the helper
 * shortly after (coalesced, at most one request per loop turn); reads
 * wait for the writes before them. The same calls work on it. */
int sysg_state_open_remote(struct sysg_state **out,
			   const struct sysg_plugin_path *pp, const char *name,
			   const char *state_dir, const char *path,
			   char *err, size_t errlen);

/* Let a remote store time its writes and its helper's idle end on LOOP
 * (NULL: detach, after storing what is queued; do it before freeing the
 * loop). Without a loop each write is stored before the call returns.
 * No-op for a store opened with sysg_state_open. */
void sysg_state_use_loop(struct sysg_state *st, struct sysg_loop *loop);

/* The owner of waitpid(-1) calls this for each pid it reaps: 1 when PID
 * was ST's helper (nothing else to do), else 0. */
int sysg_state_reaped(struct sysg_state *st, pid_t pid, int status);

/* Block until every write made through ST so far is stored: 0, or the
 * first error the backend returned for them. 0 at once for a store
 * opened with sysg_state_open (its writes are never held). */
int sysg_state_sync(struct sysg_state *st);

/* A remote store's helper pid while it runs (0: none), and how many
 * helpers it started and requests it sent so far (for benchmarks). */
pid_t sysg_state_helper_pid(const struct sysg_state *st);
void sysg_state_remote_stats(const struct sysg_state *st,
			     unsigned long *helpers, unsigned long *requests);

/* Fill ST's host API (for the openers in this wing). */
void sysg_state_init_host(struct sysg_state *st);

/* Where the backends' log lines ("state: warning: ...") go: a stream the
 * caller owns (the CLI passes stderr), or NULL (the default): nowhere.
 * The library never prints on its own. */
void sysg_state_log_to(FILE *f);

/* Close the store and unload the backend plugin (and the libraries it
 * pulled in, e.g. libxml2) until the next call, which reloads and
 * reopens it transparently. For a remote store: store the queued
 * writes, end the helper and wait for it (the next call starts
 * another). */
void sysg_state_release(struct sysg_state *st);

/* Send the backend's log lines (one line, no newline, already tagged by
 * the backend, e.g. "xml: state.xml is corrupt ...") to SINK(ARG, LEVEL,
 * LINE), e.g. supervisor.log. Without a sink, lines at INFO and above go
 * to the stream of sysg_state_log_to, prefixed "state: LEVEL: " (the
 * CLI's case). ABI-1 backends,
 * whose log has no context, reach the sink of the store opened last. */
void sysg_state_set_log(struct sysg_state *st,
			void (*sink)(void *arg, int level, const char *line),
			void *arg);

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
