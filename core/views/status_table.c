/* status_table.c - the human view of a struct sysg_status: one row per
 * unit (children indented under their parent), a summary line, notes for
 * unhealthy units, and a table of cron schedules. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "status.h"

#define NCOLS 9
#define CELL (SYSG_NAME_MAX + 8)

static const char *const headers[NCOLS] = {
	"SERVICE", "STATUS", "PID", "UPTIME", "CPU%", "MEM%", "RESTARTS",
	"LAST EXIT", "COMMAND",
};

#define C_RESET  SYSG_COLOR_RESET
#define C_BOLD   "\033[1m"
#define C_RED    "\033[31m"
#define C_GREEN  "\033[32m"
#define C_YELLOW "\033[33m"
#define C_CYAN   "\033[36m"

struct row {
	char cell[NCOLS - 1][CELL];
	const char *command;            /* not owned */
	const char *color;              /* of the STATUS cell, or "" */
	const char *project;            /* its unit's project, or "" */
};

void sysg_format_uptime(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		snprintf(buf, len, "-");
	else if (s >= 86400)
		snprintf(buf, len, "%" PRId64 "d %" PRId64 "h", s / 86400,
			 s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%" PRId64 "h %" PRId64 "m", s / 3600,
			 s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, len, "%" PRId64 "m %" PRId64 "s", s / 60, s % 60);
	else
		snprintf(buf, len, "%" PRId64 "s", s);
}

void sysg_format_local_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || !localtime_r(&t, &tm) ||
	    !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "-");
}

void sysg_format_last_exit(const struct sysg_unit_view *u, char *buf,
			   size_t len)
{
	const char *abbrev = u->has_signal ? sigabbrev_np(u->signal) : NULL;

	if (u->oom)
		snprintf(buf, len, "OOM");
	else if (u->has_signal && abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else if (u->has_signal)
		snprintf(buf, len, "signal %d", u->signal);
	else if (u->has_exit_code)
		snprintf(buf, len, "exit %d", u->exit_code);
	else
		snprintf(buf, len, "-");
}

const char *sysg_status_color(const char *status)
{
	if (!strcmp(status, "running"))
		return C_GREEN;
	if (!strcmp(status, "failed") || !strcmp(status, "blocked"))
		return C_RED;
	if (!strcmp(status, "starting") || !strcmp(status, "backoff"))
		return C_YELLOW;
	if (!strcmp(status, "scheduled"))
		return C_CYAN;
	return "";
}

static void fill_row(struct row *r, const struct sysg_unit_view *u,
		     int depth, const struct sysg_render_opts *o)
{
	snprintf(r->cell[0], CELL, "%s%s", depth ? "  - " : "", u->name);
	snprintf(r->cell[1], CELL, "%s", u->status);
	if (u->pid > 0)
		snprintf(r->cell[2], CELL, "%" PRId64, u->pid);
	else
		snprintf(r->cell[2], CELL, "-");
	sysg_format_uptime(u->uptime_s, r->cell[3], CELL);
	if (u->cpu_percent >= 0)
		snprintf(r->cell[4], CELL, "%.1f", u->cpu_percent);
	else
		snprintf(r->cell[4], CELL, "-");
	if (u->rss_bytes >= 0 && o->mem_total > 0)
		snprintf(r->cell[5], CELL, "%.1f",
			 (double)u->rss_bytes * 100.0 / (double)o->mem_total);
	else
		snprintf(r->cell[5], CELL, "-");
	snprintf(r->cell[6], CELL, "%d", u->restarts);
	sysg_format_last_exit(u, r->cell[7], CELL);
	r->command = u->command ? u->command : "-";
	r->project = u->project;
	r->color = o->color ? sysg_status_color(u->status) : "";
}

/* Flatten units and their children into rows. */
static struct row *make_rows(const struct sysg_status *s,
			     const struct sysg_render_opts *o, size_t *n)
{
	size_t total = 0, k = 0;
	struct row *rows;

	for (size_t i = 0; i < s->nunits; i++)
		total += 1 + s->units[i].nchildren;
	rows = calloc(total + 1, sizeof(*rows));
	if (!rows)
		return NULL;
	/* grouped by project, in the order the projects first appear */
	for (size_t g = 0; g < s->nunits; g++) {
		const char *p = s->units[g].project;
		size_t f;

		for (f = 0; f < g && strcmp(s->units[f].project, p); f++)
			;
		if (f < g)
			continue;       /* its group is done */
		for (size_t i = g; i < s->nunits; i++) {
			if (strcmp(s->units[i].project, p))
				continue;
			fill_row(&rows[k++], &s->units[i], 0, o);
			for (size_t c = 0; c < s->units[i].nchildren; c++) {
				fill_row(&rows[k], &s->units[i].children[c], 1,
					 o);
				rows[k++].project = p;
			}
		}
	}
	*n = k;
	return rows;
}

/* Print at most MAX bytes of CMD, ending in "..." when cut, never in the
 * middle of a UTF-8 sequence. */
static void put_command(FILE *out, const char *cmd, size_t max, int full)
{
	size_t len = strlen(cmd);

	if (full || len <= max) {
		fputs(cmd, out);
		return;
	}
	len = max > 3 ? max - 3 : 0;
	while (len > 0 && ((unsigned char)cmd[len] & 0xC0) == 0x80)
		len--;
	fprintf(out, "%.*s...", (int)len, cmd);
}

static void print_rows(const struct row *rows, size_t n,
		       const struct sysg_render_opts *o, FILE *out)
{
	size_t w[NCOLS - 1], used = 0, room;
	int width = o->width > 0 ? o->width : 120;

	for (int c = 0; c < NCOLS - 1; c++) {
		w[c] = strlen(headers[c]);
		for (size_t i = 0; i < n; i++)
			if (strlen(rows[i].cell[c]) > w[c])
				w[c] = strlen(rows[i].cell[c]);
		used += w[c] + 2;
	}
	room = (size_t)width > used + 20 ? (size_t)width - used : 20;
	fputs(o->color ? C_BOLD : "", out);
	for (int c = 0; c < NCOLS - 1; c++)
		fprintf(out, "%-*s  ", (int)w[c], headers[c]);
	fprintf(out, "%s%s\n", headers[NCOLS - 1], o->color ? C_RESET : "");
	for (size_t i = 0; i < n; i++) {
		if (rows[i].project[0] && (i == 0 || strcmp(rows[i].project,
							     rows[i - 1].project)))
			fprintf(out, "%sproject %s%s\n", o->color ? C_BOLD : "",
				rows[i].project, o->color ? C_RESET : "");
		for (int c = 0; c < NCOLS - 1; c++) {
			int colored = c == 1 && rows[i].color[0];

			fprintf(out, "%s%-*s%s  ", colored ? rows[i].color : "",
				(int)w[c], rows[i].cell[c],
				colored ? C_RESET : "");
		}
		put_command(out, rows[i].command, room, o->full_cmd);
		fputc('\n', out);
	}
}

/* "overall: degraded (2 running, 1 failed)" */
static void print_summary(const struct sysg_status *s,
			  const struct sysg_render_opts *o, FILE *out)
{
	static const char *const words[] = { "running", "starting", "backoff",
		"scheduled", "exited", "skipped", "stopped", "failed",
		"blocked" };
	const char *color = s->overall == SYSG_OVERALL_HEALTHY ? C_GREEN :
			    s->overall == SYSG_OVERALL_DEGRADED ? C_YELLOW : C_RED;
	const char *sep = " (";

	fprintf(out, "\noverall: %s%s%s", o->color ? color : "",
		sysg_overall_name(s->overall), o->color ? C_RESET : "");
	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		size_t n = 0;

		for (size_t i = 0; i < s->nunits; i++)
			n += !strcmp(s->units[i].status, words[w]);
		if (n) {
			fprintf(out, "%s%zu %s", sep, n, words[w]);
			sep = ", ";
		}
	}
	fputs(sep[0] == ',' ? ")\n" : "\n", out);
}

static void print_notes(const struct sysg_status *s, FILE *out)
{
	for (size_t i = 0; i < s->nunits; i++) {
		const struct sysg_unit_view *u = &s->units[i];

		if (u->health == SYSG_HEALTH_UNHEALTHY && u->reason[0])
			fprintf(out, "  %s: %s\n", u->name, u->reason);
		else if (u->status_text[0])
			fprintf(out, "  %s: %s\n", u->name, u->status_text);
	}
}

static void last_result(const struct sysg_cron_view *c, char *buf, size_t len)
{
	const struct sysg_cron_run *r = c->nruns ? &c->runs[0] : NULL;

	if (!r)
		snprintf(buf, len, "-");
	else if (r->has_exit_code)
		snprintf(buf, len, "%s (exit %d)", r->status, r->exit_code);
	else
		snprintf(buf, len, "%s", r->status);
}

static void print_cron(const struct sysg_status *s, FILE *out)
{
	int header = 0;

	for (size_t i = 0; i < s->nunits; i++) {
		const struct sysg_cron_view *c = s->units[i].cron;
		char sched[160], next[32], last[32], res[64];

		if (!c)
			continue;
		if (!header++)
			fprintf(out, "\n%-16s  %-24s  %-19s  %-19s  %s\n", "CRON",
				"SCHEDULE", "NEXT RUN", "LAST RUN", "LAST RESULT");
		snprintf(sched, sizeof(sched), "%s%s%s%s",
			 c->expression ? c->expression : "-",
			 c->timezone ? " (" : "", c->timezone ? c->timezone : "",
			 c->timezone ? ")" : "");
		sysg_format_local_time(c->next_run_ms, next, sizeof(next));
		sysg_format_local_time(c->last_run_ms, last, sizeof(last));
		last_result(c, res, sizeof(res));
		fprintf(out, "%-16s  %-24s  %-19s  %-19s  %s\n", s->units[i].name,
			sched, next, last, res);
	}
}

void sysg_status_render_table(const struct sysg_status *s,
			      const struct sysg_render_opts *o, FILE *out)
{
	struct row *rows;
	size_t n = 0;

	if (s->nunits == 0) {
		fputs("no services: no config found and nothing recorded in the state\n",
		      out);
		return;
	}
	rows = make_rows(s, o, &n);
	if (!rows) {
		fputs("sysg: out of memory\n", out);
		return;
	}
	print_rows(rows, n, o, out);
	free(rows);
	print_summary(s, o, out);
	print_notes(s, out);
	print_cron(s, out);
}
