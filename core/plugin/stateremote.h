/* stateremote.h - a state store whose backend runs in a helper process
 * (the plugin wing's inside; others use the sysg_state_* calls of
 * state.h, which forward here for a store opened remote).
 *
 * The resident supervisor must not map what a backend pulls in (libxml2
 * with ICU and libstdc++, or sqlite). Its store is "remote": the backend
 * runs in a helper, a fork of the supervisor on a socketpair, that loads
 * the plugin and serves one request at a time. A request carries the
 * writes queued since the previous one (applied as one batch) and at
 * most one read, whose records come back as frames; then an end frame
 * with both results. Backend log lines come back as frames too and go to
 * the store's log in the parent.
 *
 * Writes return at once: they are queued, coalesced (the newest write of
 * one record, pid, key or cron run replaces the queued one) and sent at
 * most once per loop turn and no more often than every WRITE_GAP_MS, one
 * request in flight at a time. Reads wait for the writes before them, so
 * they see them. The helper ends on the loop turn after its request, so
 * none outlives its use (an idle supervisor has none); in a storm of
 * writes it stays while they come: a restart storm forks two helpers,
 * not one per event. */
#ifndef SYSG_STATEREMOTE_H
#define SYSG_STATEREMOTE_H

#include <stddef.h>
#include <stdint.h>

#include <sysg/plugin.h>

struct sysg_state;
struct sysg_state_remote;

/* Writes (queued): 0 or -ENOMEM. */
int sysg_remote_set_pid(struct sysg_state *st, const char *name, int64_t pid);
int sysg_remote_put_unit(struct sysg_state *st,
			 const struct sysg_unit_record *u);
int sysg_remote_remove_unit(struct sysg_state *st, const char *name);
int sysg_remote_add_cron_run(struct sysg_state *st,
			     const struct sysg_cron_run *r, int keep);
int sysg_remote_add_deploy(struct sysg_state *st,
			   const struct sysg_deploy_record *d);
int sysg_remote_kv_set(struct sysg_state *st, const char *key,
		       const char *value);

/* Reads (a round trip to the helper): the backend's result. */
int sysg_remote_get_pid(struct sysg_state *st, const char *name,
			int64_t *pid);
int sysg_remote_list_pids(struct sysg_state *st, sysg_pid_cb cb, void *arg);
int sysg_remote_get_unit(struct sysg_state *st, const char *name,
			 struct sysg_unit_record *out);
int sysg_remote_list_units(struct sysg_state *st, sysg_unit_cb cb,
			   void *arg);
int sysg_remote_list_cron_runs(struct sysg_state *st, const char *name,
			       sysg_cron_run_cb cb, void *arg);
int sysg_remote_list_deploys(struct sysg_state *st, const char *service,
			     sysg_deploy_cb cb, void *arg);
int sysg_remote_kv_get(struct sysg_state *st, const char *key, char *buf,
		       size_t len);

/* Store the queued writes, end the helper and wait for it
 * (sysg_state_release). */
void sysg_remote_end(struct sysg_state *st);

/* Flush and end the helper, free the remote part (sysg_state_close). */
void sysg_remote_free(struct sysg_state *st);

#endif
