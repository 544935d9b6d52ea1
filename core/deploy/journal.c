/* journal.c - each step journaled in the state backend before it is taken,
 * and the recovery of a deploy a killed supervisor left (see host.h) */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "link.h"
#include "record.h"
#include "worker.h"
#include "dep.h"

/* ------------------------------------------------------------------ */
/* Journal (kv "deploy:<service>")                                     */
/* ------------------------------------------------------------------ */

/* The pids of copy K noted so far (all of them without copies). */
static json_t *pids_of(const struct deploy *dp, int k)
{
	json_t *out = json_array(), *p;
	size_t i;

	json_array_foreach(dp->journal_pids, i, p)
		if (!dp->ncopies || sysg_jint(p, "copy") == k)
			json_array_append(out, p);
	return out;
}

/* A deploy of copies journals under each copy's own key (the unit a
 * recovery looks at), with "group" naming the service deployed. */
void dp_journal(struct deploy *dp, const char *step)
{
	struct sysg_state *st = dp->ds->o.st;
	char key[SYSG_NAME_MAX + 32], name[SYSG_NAME_MAX + 16], num[16];

	if (!st || dp->dry_run)
		return;
	for (int k = 0; k < (dp->ncopies ? dp->ncopies : 1); k++) {
		json_t *promote = dp->journal_promote, *j;
		char *s;

		if (dp->ncopies) {
			snprintf(num, sizeof(num), "%d", k);
			promote = json_object_get(dp->journal_promote, num);
		}
		j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:o, "
			      "s:O*, s:s?}",
			      "id", dp->id, "service", dp->service,
			      "strategy", dp->strategy, "revision", dp->revision,
			      "started_at_ms", (json_int_t)dp->started_wall,
			      "uid", (json_int_t)dp->uid, "message", dp->message,
			      "step", step, "pids", pids_of(dp, k),
			      "promote", promote,
			      "group", dp->ncopies ? dp->service : NULL);
		s = j ? json_dumps(j, JSON_COMPACT) : NULL;
		snprintf(key, sizeof(key), "deploy:%s",
			 dp_copy_name(dp, k, name, sizeof(name)));
		if (!s || sysg_state_kv_set(st, key, s) < 0)
			sysg_log(dp_log_of(dp), SYSG_LOG_WARN,
				 "Deploy %s: cannot journal step '%s'", dp->id,
				 step);
		free(s);
		json_decref(j);
	}
	/* on disk before the step is taken */
	if (sysg_state_sync(st) < 0)
		sysg_log(dp_log_of(dp), SYSG_LOG_WARN,
			 "Deploy %s: cannot journal step '%s'", dp->id, step);
}

void dp_journal_clear(struct deploy *dp)
{
	char key[SYSG_NAME_MAX + 32], name[SYSG_NAME_MAX + 16];

	if (!dp->ds->o.st || dp->dry_run)
		return;
	for (int k = 0; k < (dp->ncopies ? dp->ncopies : 1); k++) {
		snprintf(key, sizeof(key), "deploy:%s",
			 dp_copy_name(dp, k, name, sizeof(name)));
		sysg_state_kv_set(dp->ds->o.st, key, NULL);
	}
	sysg_state_sync(dp->ds->o.st);
}

void dp_journal_pid(struct deploy *dp, pid_t pid, int copy)
{
	uint64_t ticks = 0;

	if (pid <= 0 || sysg_proc_start_ticks_of(pid, &ticks) < 0)
		return;
	json_array_append_new(dp->journal_pids, json_pack(
		"{s:i, s:I, s:i}", "pid", (int)pid, "ticks", (json_int_t)ticks,
		"copy", copy));
}

struct find_rec {
	const char *id;
	struct sysg_deploy_record *out;
	int found;
};

static int find_rec_cb(void *arg, const struct sysg_deploy_record *d)
{
	struct find_rec *f = arg;

	if (strcmp(d->id, f->id))
		return 0;
	*f->out = *d;
	f->found = 1;
	return 1;
}

/* Finish one journaled deploy of NAME (JOURNAL: its JSON). */
static void recover_one(struct sysg_deploys *ds, const char *name, json_t *j)
{
	const char *id = sysg_jstr(j, "id"), *group = sysg_jstr(j, "group");
	struct sysg_deploy_record *r = calloc(1, sizeof(*r));
	struct sysg_unit_record u;
	struct find_rec f = { id, r, 0 };
	pid_t cur = 0;
	size_t i;
	json_t *p;

	if (!id || !r) {
		free(r);
		return;
	}
	if (sysg_supervisor_get(ds->o.sup, name, &u) == 0)
		cur = (pid_t)u.pid;
	json_array_foreach(json_object_get(j, "pids"), i, p) {
		pid_t pid = (pid_t)sysg_jint(p, "pid");
		uint64_t ticks = (uint64_t)json_integer_value(
			json_object_get(p, "ticks"));
		int64_t iid;

		if (pid > 0 && pid != cur &&
		    sysg_inst_adopt_stop(ds->o.sup, name, pid, ticks,
					 dp_on_orphan_gone, ds, &iid) == 0)
			sysg_log(sysg_supervisor_log(ds->o.sup), SYSG_LOG_WARN,
				 "Deploy %s of %s was interrupted: stopping "
				 "pid %d", id, name, (int)pid);
	}
	/* the record is the deployed service's: the group of a copy */
	sysg_state_list_deploys(ds->o.st, group ? group : name, find_rec_cb,
				&f);
	if (!f.found) {
		snprintf(r->id, sizeof(r->id), "%s", id);
		snprintf(r->service, sizeof(r->service), "%s",
			 group ? group : name);
		snprintf(r->strategy, sizeof(r->strategy), "%s",
			 sysg_jstr(j, "strategy") ?: "");
		r->started_at_ms = json_integer_value(
			json_object_get(j, "started_at_ms"));
	}
	if (group && !strcmp(r->outcome, "aborted")) {  /* another copy's */
		size_t l = strlen(r->reason);

		snprintf(r->reason + l, sizeof(r->reason) - l, ", %s: pid %d",
			 name, (int)cur);
	} else if (group) {
		snprintf(r->reason, sizeof(r->reason), "the supervisor stopped "
			 "during the deploy (at: %s); kept %s: pid %d",
			 sysg_jstr(j, "step") ?: "?", name, (int)cur);
	} else {
		snprintf(r->reason, sizeof(r->reason), "the supervisor stopped "
			 "during the deploy (at: %s); kept pid %d",
			 sysg_jstr(j, "step") ?: "?", (int)cur);
	}
	snprintf(r->outcome, sizeof(r->outcome), "aborted");
	r->duration_ms = sysg_wall_ms() - r->started_at_ms;
	sysg_state_add_deploy(ds->o.st, r);
	sysg_log(sysg_supervisor_log(ds->o.sup), SYSG_LOG_WARN, "Deploy %s of "
		 "%s marked aborted: %s", id, name, r->reason);
	free(r);
}

/* The journal of NAME's interrupted deploy (JSON, caller decrefs) or
 * NULL. */
static json_t *journal_of(struct sysg_deploys *ds, const char *name)
{
	char key[SYSG_NAME_MAX + 16], *buf = malloc(4096);
	json_t *j = NULL;

	snprintf(key, sizeof(key), "deploy:%s", name);
	if (buf && sysg_state_kv_get(ds->o.st, key, buf, 4096) == 0)
		j = json_loads(buf, 0, NULL);
	free(buf);
	return j;
}

int sysg_deploys_recover_prepare(struct sysg_deploys *ds)
{
	const struct sysg_config *cfg = sysg_supervisor_config(ds->o.sup);
	int n = 0;

	for (size_t i = 0; ds->o.st && i < cfg->nservices; i++) {
		const char *name = cfg->services[i].name;
		json_t *j = journal_of(ds, name);
		json_t *p = json_object_get(j, "promote");
		pid_t pid = (pid_t)sysg_jint(p, "pid");
		uint64_t ticks = (uint64_t)json_integer_value(
			json_object_get(p, "ticks"));
		struct sysg_unit_record u;

		/* the promote was journaled before it was taken: it counts
		 * as done, whatever the unit record had time to say */
		if (pid > 0 && sysg_proc_is_alive(pid, ticks) &&
		    sysg_state_get_unit(ds->o.st, name, &u) == 0 &&
		    u.pid != pid) {
			u.pid = u.pgid = pid;
			u.start_ticks = ticks;
			snprintf(u.status, sizeof(u.status), "running");
			if (sysg_state_put_unit(ds->o.st, &u) == 0)
				n++;
			sysg_log(sysg_supervisor_log(ds->o.sup), SYSG_LOG_WARN,
				 "Deploy of %s was interrupted after its "
				 "promote: "
				 "pid %d is the service's", name, (int)pid);
		}
		json_decref(j);
	}
	return n;
}

int sysg_deploys_recover(struct sysg_deploys *ds)
{
	const struct sysg_config *cfg = sysg_supervisor_config(ds->o.sup);
	char key[SYSG_NAME_MAX + 16];
	int n = 0;

	for (size_t i = 0; ds->o.st && i < cfg->nservices; i++) {
		const char *name = cfg->services[i].name;
		json_t *j = journal_of(ds, name);

		if (!j)
			continue;
		recover_one(ds, name, j);
		json_decref(j);
		snprintf(key, sizeof(key), "deploy:%s", name);
		sysg_state_kv_set(ds->o.st, key, NULL);
		n++;
	}
	return n;
}
