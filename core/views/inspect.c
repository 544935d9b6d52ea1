/* inspect.c - one unit in detail (see inspect.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "inspect.h"
#include "proc/proc.h"
#include "engine/engine.h"

/* ------------------------------------------------------ process tree */

static void proc_view(struct sysg_proc_view *p, const struct sysg_procstat *ps,
		      int64_t uptime_ms)
{
	memset(p, 0, sizeof(*p));
	p->pid = ps->pid;
	p->ppid = ps->ppid;
	p->pgid = ps->pgrp;
	p->state = ps->state;
	p->cpu_percent = sysg_procstat_cpu_lifetime(ps, uptime_ms);
	if (sysg_proc_rss_bytes(ps->pid, &p->rss_bytes) < 0)
		p->rss_bytes = -1;
	if (sysg_proc_cmdline(ps->pid, p->command, sizeof(p->command)) < 0 ||
	    !p->command[0])
		snprintf(p->command, sizeof(p->command), "[%s]", ps->comm);
}

static int has_pid(const struct sysg_proc_view *v, size_t n, int64_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].pid == pid)
			return 1;
	return 0;
}

/* Append to OUT, in depth-first order, the processes of IN whose parent
 * is PPID. */
static void order_tree(const struct sysg_proc_view *in, size_t n,
		       int64_t ppid, int depth, struct sysg_proc_view *out,
		       size_t *k, unsigned char *done)
{
	for (size_t i = 0; i < n; i++) {
		if (done[i] || in[i].ppid != ppid)
			continue;
		done[i] = 1;
		out[*k] = in[i];
		out[(*k)++].depth = depth;
		order_tree(in, n, in[i].pid, depth + 1, out, k, done);
	}
}

static int sort_tree(struct sysg_inspect *in)
{
	struct sysg_proc_view *out = calloc(in->nprocs + 1, sizeof(*out));
	unsigned char *done = calloc(in->nprocs + 1, 1);
	size_t k = 0;

	if (!out || !done) {
		free(out);
		free(done);
		return -ENOMEM;
	}
	for (size_t i = 0; i < in->nprocs; i++)
		if (!done[i] && !has_pid(in->procs, in->nprocs, in->procs[i].ppid))
			order_tree(in->procs, in->nprocs, in->procs[i].ppid, 0,
				   out, &k, done);
	free(in->procs);
	free(done);
	in->procs = out;
	in->nprocs = k;
	return 0;
}

/* The live processes of unit U: its session and process group, what
 * carries its instance marker, and their descendants. */
static int collect_tree(struct sysg_inspect *in, const char *state_dir,
			const struct sysg_unit_view *u)
{
	struct sysg_tree_match m = { .marker_prefix = 1 };
	struct sysg_pidset set = { 0 };
	struct sysg_procstat ps;
	char prefix[SYSG_NAME_MAX + 64];
	int64_t up = 0;
	int rc;

	sysg_instance_prefix(state_dir, u->name, prefix, sizeof(prefix));
	m.marker = prefix;
	if (u->pid > 0 && sysg_procstat_read(u->pid, &ps) == 0) {
		m.main_pid = (pid_t)u->pid;
		m.sid = ps.sid == u->pid ? (pid_t)u->pid : 0;
		m.pgid = ps.pgrp == u->pgid ? (pid_t)u->pgid : 0;
	}
	rc = sysg_proctree_collect(&m, &set);
	if (rc == 0 && set.n)
		in->procs = calloc(set.n, sizeof(*in->procs));
	if (rc == 0 && set.n && !in->procs)
		rc = -ENOMEM;
	sysg_proc_uptime_ms(&up);
	for (size_t i = 0; rc == 0 && i < set.n; i++)
		if (sysg_procstat_read(set.v[i].pid, &ps) == 0)
			proc_view(&in->procs[in->nprocs++], &ps, up);
	sysg_pidset_free(&set);
	return rc == 0 ? sort_tree(in) : rc;
}

/* ----------------------------------------------------------- deploys */

static int add_deploy(void *arg, const struct sysg_deploy_record *d)
{
	struct sysg_inspect *in = arg;
	struct sysg_deploy_record *v;

	v = realloc(in->deploys, (in->ndeploys + 1) * sizeof(*v));
	if (!v)
		return 1;
	in->deploys = v;
	in->deploys[in->ndeploys++] = *d;
	return 0;
}

int sysg_inspect_collect(const struct sysg_config *cfg, struct sysg_state *st,
			 const char *state_dir, const char *name,
			 int supervisor_alive, struct sysg_inspect *out,
			 char *err, size_t errlen)
{
	struct sysg_status_opts o = { .service = name, .all = 1,
				      .supervisor_alive = supervisor_alive,
				      .recent_runs = SYSG_INSPECT_MAX_RUNS };
	int rc;

	memset(out, 0, sizeof(*out));
	out->supervisor_alive = supervisor_alive;
	rc = sysg_status_collect(cfg, st, &o, &out->status, err, errlen);
	if (rc < 0)
		return rc;
	rc = collect_tree(out, state_dir, &out->status.units[0]);
	if (rc == 0 && st)
		rc = sysg_state_list_deploys(st, name, add_deploy, out);
	if (rc < 0) {
		sysg_errf(err, errlen, "cannot inspect %s: %s", name,
			  strerror(-rc));
		sysg_inspect_free(out);
	}
	return rc;
}

void sysg_inspect_free(struct sysg_inspect *in)
{
	sysg_status_free(&in->status);
	free(in->procs);
	free(in->deploys);
	free(in->samples);
	memset(in, 0, sizeof(*in));
}

/* ------------------------------------------------------------ render */

static const char *samples_note(const struct sysg_inspect *in)
{
	if (in->nsamples)
		return "sampled by the resident supervisor";
	return in->supervisor_alive ?
	       "no samples (kept by the resident supervisor; not available from the state files)" :
	       "no samples (no supervisor running)";
}

static void render_unit(const struct sysg_unit_view *u,
			const struct sysg_render_opts *o, FILE *out)
{
	const char *color = o->color ? sysg_status_color(u->status) : "";
	char up[32], ex[64], started[32];

	sysg_format_uptime(u->uptime_s, up, sizeof(up));
	sysg_format_last_exit(u, ex, sizeof(ex));
	sysg_format_local_time(u->started_at_ms, started, sizeof(started));

	fprintf(out, "%s (%s)\n", u->name, sysg_unit_kind_name(u->kind));
	fprintf(out, "  status:     %s%s%s (health: %s)\n", color, u->status,
		color[0] ? SYSG_COLOR_RESET : "", sysg_health_name(u->health));
	if (u->reason[0])
		fprintf(out, "  reason:     %s\n", u->reason);
	if (u->status_text[0])
		fprintf(out, "  status text: %s\n", u->status_text);
	if (u->last_restart[0])
		fprintf(out, "  last restart: %s\n", u->last_restart);
	fprintf(out, "  command:    %s\n", u->command ? u->command : "-");
	if (u->pid > 0)
		fprintf(out, "  pid:        %" PRId64 " (pgid %" PRId64 ")\n",
			u->pid, u->pgid);
	fprintf(out, "  started:    %s\n  uptime:     %s\n", started, up);
	fprintf(out, "  restarts:   %d\n  last exit:  %s\n", u->restarts, ex);
	if (u->cpu_percent >= 0)
		fprintf(out, "  cpu:        %.1f%%\n", u->cpu_percent);
	if (u->rss_bytes >= 0 && o->mem_total > 0)
		fprintf(out, "  memory:     %.1f MiB (%.1f%%)\n",
			(double)u->rss_bytes / 1048576.0,
			(double)u->rss_bytes * 100.0 / (double)o->mem_total);
	else if (u->rss_bytes >= 0)
		fprintf(out, "  memory:     %.1f MiB\n",
			(double)u->rss_bytes / 1048576.0);
}

static void render_procs(const struct sysg_inspect *in, FILE *out)
{
	fprintf(out, "\nprocess tree:\n");
	if (!in->nprocs)
		fprintf(out, "  (no live process)\n");
	for (size_t i = 0; i < in->nprocs; i++) {
		const struct sysg_proc_view *p = &in->procs[i];

		fprintf(out, "  %*s%-7" PRId64 " %c %7.1f MiB  %s\n",
			p->depth * 2, "", p->pid, p->state,
			p->rss_bytes >= 0 ? (double)p->rss_bytes / 1048576.0 : 0.0,
			p->command);
	}
}

static void render_runs(const struct sysg_cron_view *c, FILE *out)
{
	char next[32];

	sysg_format_local_time(c->next_run_ms, next, sizeof(next));
	fprintf(out, "\ncron: %s%s%s%s, next run %s\n",
		c->expression ? c->expression : "-", c->timezone ? " (" : "",
		c->timezone ? c->timezone : "", c->timezone ? ")" : "", next);
	if (!c->nruns)
		fprintf(out, "  no runs recorded\n");
	for (size_t i = 0; i < c->nruns; i++) {
		const struct sysg_cron_run *r = &c->runs[i];
		char start[32], end[32];

		sysg_format_local_time(r->started_at_ms, start, sizeof(start));
		sysg_format_local_time(r->completed_at_ms, end, sizeof(end));
		fprintf(out, "  %s -> %s  %-10s", start, end, r->status);
		if (r->has_exit_code)
			fprintf(out, " exit %d", r->exit_code);
		fputc('\n', out);
	}
}

static void render_exits(const struct sysg_inspect *in, FILE *out)
{
	if (!in->nexits)
		return;
	fprintf(out, "\nlast exits:\n");
	for (size_t i = 0; i < in->nexits; i++) {
		const struct sysg_exit_view *e = &in->exits[i];
		char when[32];

		sysg_format_local_time(e->at_ms, when, sizeof(when));
		if (e->has_code)
			fprintf(out, "  %s  exit %d\n", when, e->code);
		else if (e->has_signal)
			fprintf(out, "  %s  signal %d\n", when, e->signo);
		else
			fprintf(out, "  %s  unknown (not our child)\n", when);
	}
}

static void render_deploys(const struct sysg_inspect *in, FILE *out)
{
	fprintf(out, "\ndeploys:\n");
	if (!in->ndeploys)
		fprintf(out, "  none recorded\n");
	for (size_t i = 0; i < in->ndeploys; i++) {
		const struct sysg_deploy_record *d = &in->deploys[i];
		char when[32];

		sysg_format_local_time(d->started_at_ms, when, sizeof(when));
		fprintf(out, "  %s  %-12s %-10s %6" PRId64 " ms", when, d->strategy,
			d->outcome, d->duration_ms);
		if (d->slot_before[0] || d->slot_after[0])
			fprintf(out, "  slot %s -> %s", d->slot_before,
				d->slot_after);
		if (d->reason[0])
			fprintf(out, "  (%s)", d->reason);
		fprintf(out, "  [%s]\n", d->id);
	}
}

void sysg_inspect_render(const struct sysg_inspect *in,
			 const struct sysg_render_opts *o, FILE *out)
{
	const struct sysg_unit_view *u = &in->status.units[0];

	render_unit(u, o, out);
	for (size_t i = 0; i < u->nchildren; i++)
		fprintf(out, "  child:      %s (%s)\n", u->children[i].name,
			u->children[i].status);
	render_procs(in, out);
	render_exits(in, out);
	fprintf(out, "\ncpu/memory samples: %s\n", samples_note(in));
	sysg_samples_chart(in->samples, in->nsamples, o->width,
			   in->sample_interval_ms, out);
	if (u->cron)
		render_runs(u->cron, out);
	render_deploys(in, out);
}

/* -------------------------------------------------------------- JSON */

static json_t *procs_json(const struct sysg_inspect *in)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < in->nprocs; i++) {
		const struct sysg_proc_view *p = &in->procs[i];
		char state[2] = { p->state, '\0' };

		json_array_append_new(a, json_pack(
			"{s:I, s:I, s:I, s:s, s:s, s:o, s:o, s:i}",
			"pid", (json_int_t)p->pid, "ppid", (json_int_t)p->ppid,
			"pgid", (json_int_t)p->pgid, "state", state,
			"command", p->command,
			"rss_bytes", p->rss_bytes >= 0 ?
				json_integer(p->rss_bytes) : json_null(),
			"cpu_percent", p->cpu_percent >= 0 ?
				json_real(p->cpu_percent) : json_null(),
			"depth", p->depth));
	}
	return a;
}

static json_t *exits_json(const struct sysg_inspect *in)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < in->nexits; i++) {
		const struct sysg_exit_view *e = &in->exits[i];

		json_array_append_new(a, json_pack("{s:o, s:o, s:o}",
			"at", sysg_json_time_or_null(e->at_ms),
			"code", e->has_code ? json_integer(e->code) : json_null(),
			"signal", e->has_signal ? json_integer(e->signo) :
				  json_null()));
	}
	return a;
}

static json_t *deploys_json(const struct sysg_inspect *in)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < in->ndeploys; i++) {
		const struct sysg_deploy_record *d = &in->deploys[i];

		json_array_append_new(a, json_pack(
			"{s:s, s:s, s:o, s:I, s:s, s:s, s:s, s:s}",
			"id", d->id, "strategy", d->strategy,
			"started_at", sysg_json_time_or_null(d->started_at_ms),
			"duration_ms", (json_int_t)d->duration_ms,
			"slot_before", d->slot_before, "slot_after", d->slot_after,
			"outcome", d->outcome, "reason", d->reason));
	}
	return a;
}

json_t *sysg_inspect_to_json(const struct sysg_inspect *in)
{
	const struct sysg_unit_view *u = &in->status.units[0];
	char ts[40];

	sysg_format_iso8601(in->status.captured_at_ms, ts, sizeof(ts));
	return json_pack("{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:s, s:o, s:o}",
			 "schema_version", SYSG_STATUS_SCHEMA_VERSION,
			 "captured_at", ts,
			 "unit", sysg_unit_view_to_json(u),
			 "reason", u->reason,
			 "started_at", sysg_json_time_or_null(u->started_at_ms),
			 "processes", procs_json(in),
			 "samples", sysg_samples_to_json(in->samples,
							  in->nsamples),
			 "sample_interval_ms", in->nsamples ?
				json_integer(in->sample_interval_ms) :
				json_null(),
			 "samples_note", samples_note(in),
			 "exits", exits_json(in),
			 "deploys", deploys_json(in));
}
