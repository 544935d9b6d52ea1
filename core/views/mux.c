/* mux.c - the multiplexed foreground output; see mux.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mux.h"
#include "engine/engine.h"

#define PROGRESS_MAX 1024
#define SYSG_NAME "sysg"

struct sysg_mux {
	FILE *out;
	int color, live;
	int width;                      /* of the name column */
	char progress[PROGRESS_MAX];    /* current progress text, or "" */
	int shown;                      /* live: progress is on screen */
	int done;                       /* boot over: progress no more */
	struct sysg_supervisor *sup;
	int sub;                        /* subscription id, or -1 */
	FILE *sysg;                     /* sysg_mux_sysg_stream */
};

/* The colours of the names (red is for stderr lines). */
static const int colours[] = { 32, 33, 34, 35, 36, 92, 93, 94, 95, 96 };

static int colour_of(const char *name)
{
	unsigned h = 5381;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = h * 33 + *p;
	return colours[h % (sizeof(colours) / sizeof(colours[0]))];
}

struct sysg_mux *sysg_mux_new(FILE *out, int color, int live)
{
	struct sysg_mux *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->out = out;
	m->color = color;
	m->live = live;
	m->width = 0;           /* widened by every name shown */
	m->sub = -1;
	return m;
}

static void erase_progress(struct sysg_mux *m)
{
	if (m->live && m->shown) {
		fputs("\r\033[K", m->out);
		m->shown = 0;
	}
}

static void draw_progress(struct sysg_mux *m)
{
	if (!m->live || m->done || !m->progress[0])
		return;
	fputs("\r\033[K", m->out);
	if (m->color)
		fprintf(m->out, "\033[1m%s\033[0m", m->progress);
	else
		fputs(m->progress, m->out);
	m->shown = 1;
}

static void put_line(struct sysg_mux *m, const char *svc, int stream,
		     const char *line, size_t len)
{
	int w = (int)strlen(svc);

	if (w > m->width)
		m->width = w;
	erase_progress(m);
	if (m->color)
		fprintf(m->out, "\033[%dm%-*s |\033[0m %s%.*s%s\n",
			colour_of(svc), m->width, svc,
			stream == 2 ? "\033[31m" : "", (int)len, line,
			stream == 2 ? "\033[0m" : "");
	else
		fprintf(m->out, "%-*s | %.*s\n", m->width, svc, (int)len, line);
	draw_progress(m);
	fflush(m->out);
}

void sysg_mux_output(void *arg, const char *svc, int stream,
		     const char *line, size_t len)
{
	put_line(arg, svc, stream, line, len);
}

/* ------------------------------------------------------------ progress */

void sysg_mux_progress_text(char *buf, size_t len, size_t ready,
			    size_t total, const char *ready_names,
			    const char *failed_names)
{
	snprintf(buf, len, "%zu/%zu ready%s%s%s%s", ready, total,
		 ready_names[0] ? ": " : "", ready_names,
		 failed_names[0] ? "; failed: " : "", failed_names);
}

static void add_name(char *list, size_t len, const char *name)
{
	size_t n = strlen(list);

	if (n + strlen(name) + 3 >= len)
		return;         /* the line shows what fits */
	snprintf(list + n, len - n, "%s%s", n ? ", " : "", name);
}

/* Count the units asked to start: ready (active, exited, skipped) and
 * failed. Returns 1 when every one of them has settled. */
static int progress_now(struct sysg_mux *m, char *text, size_t len)
{
	const struct sysg_config *cfg = sysg_supervisor_config(m->sup);
	size_t n = sysg_supervisor_count(m->sup), total = 0, ready = 0;
	size_t failed = 0;
	char rn[PROGRESS_MAX] = "", fn[PROGRESS_MAX / 2] = "";

	for (size_t i = 0; i < n && i < cfg->nservices; i++) {
		enum sysg_unit_status st;
		int ph = sysg_supervisor_phase(m->sup, i, &st);

		if (ph < 0 || st == SYSG_STATUS_STOPPED)
			continue;       /* not asked to start */
		total++;
		if (ph == SYSG_PHASE_ACTIVE || st == SYSG_STATUS_EXITED ||
		    st == SYSG_STATUS_SKIPPED) {
			ready++;
			add_name(rn, sizeof(rn), cfg->services[i].name);
		} else if (ph == SYSG_PHASE_FAILED) {
			failed++;
			add_name(fn, sizeof(fn), cfg->services[i].name);
		}
	}
	sysg_mux_progress_text(text, len, ready, total, rn, fn);
	return total > 0 && ready + failed == total;
}

static void finish_boot(struct sysg_mux *m)
{
	if (m->live && m->shown)
		fputc('\n', m->out);
	m->shown = 0;
	m->done = 1;
	fflush(m->out);
}

static void on_change(void *arg, const struct sysg_unit_change *ch)
{
	struct sysg_mux *m = arg;
	char text[PROGRESS_MAX];
	int settled;

	if (m->done)
		return;
	if (sysg_supervisor_shutting_down(m->sup)) {
		finish_boot(m);
		return;
	}
	settled = progress_now(m, text, sizeof(text));
	if (strcmp(text, m->progress)) {
		snprintf(m->progress, sizeof(m->progress), "%s", text);
		if (m->live)
			draw_progress(m);
		else
			put_line(m, SYSG_NAME, 1, text, strlen(text));
		fflush(m->out);
	}
	if (settled || ch->kind == SYSG_CHANGE_IDLE)
		finish_boot(m);
}

int sysg_mux_attach(struct sysg_mux *m, struct sysg_supervisor *s)
{
	const struct sysg_config *cfg = sysg_supervisor_config(s);

	for (size_t i = 0; i < cfg->nservices; i++) {
		int w = (int)strlen(cfg->services[i].name);

		if (w > m->width)
			m->width = w;
	}
	m->sup = s;
	m->sub = sysg_supervisor_subscribe(s, on_change, m);
	return m->sub < 0 ? m->sub : 0;
}

void sysg_mux_detach(struct sysg_mux *m)
{
	if (m && m->sup && m->sub >= 0)
		sysg_supervisor_unsubscribe(m->sup, m->sub);
	if (m) {
		m->sub = -1;
		m->sup = NULL;
	}
}

/* ----------------------------------------------------- line streams */

/* A stream whose bytes become lines of one name (mux_stream). */
struct line_cookie {
	struct sysg_mux *m;
	char *name;
	int stream;
	char *pending;
	size_t n, cap;
};

static ssize_t cookie_write(void *arg, const char *buf, size_t size)
{
	struct line_cookie *k = arg;

	for (size_t i = 0; i < size; i++) {
		char *p;

		if (buf[i] == '\n') {
			put_line(k->m, k->name, k->stream,
				 k->pending ? k->pending : "", k->n);
			k->n = 0;
			continue;
		}
		if (k->n == k->cap) {
			p = realloc(k->pending, k->cap ? 2 * k->cap : 256);
			if (!p)
				return -1;
			k->pending = p;
			k->cap = k->cap ? 2 * k->cap : 256;
		}
		k->pending[k->n++] = buf[i];
	}
	return (ssize_t)size;
}

static int cookie_close(void *arg)
{
	struct line_cookie *k = arg;

	if (k->n)
		put_line(k->m, k->name, k->stream, k->pending, k->n);
	free(k->pending);
	free(k->name);
	free(k);
	return 0;
}

FILE *sysg_mux_stream(struct sysg_mux *m, const char *name, int stream)
{
	cookie_io_functions_t io = { .write = cookie_write,
				     .close = cookie_close };
	struct line_cookie *k = calloc(1, sizeof(*k));
	FILE *f;

	if (k)
		k->name = strdup(name);
	if (!k || !k->name) {
		free(k);
		return NULL;
	}
	k->m = m;
	k->stream = stream;
	if ((int)strlen(name) > m->width)
		m->width = (int)strlen(name);
	f = fopencookie(k, "w", io);
	if (!f) {
		free(k->name);
		free(k);
	}
	return f;
}

FILE *sysg_mux_sysg_stream(struct sysg_mux *m)
{
	if (!m->sysg)
		m->sysg = sysg_mux_stream(m, SYSG_NAME, 1);
	if (m->sysg)
		setvbuf(m->sysg, NULL, _IOLBF, 0);
	return m->sysg;
}

void sysg_mux_free(struct sysg_mux *m)
{
	if (!m)
		return;
	sysg_mux_detach(m);
	if (m->sysg)
		fclose(m->sysg);
	if (m->shown)
		finish_boot(m);
	free(m);
}
