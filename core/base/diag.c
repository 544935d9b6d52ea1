/* diag.c - see diag.h */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

void sysg_diag_init(struct sysg_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void sysg_diag_free(struct sysg_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->lines[i]);
	free(d->lines);
	memset(d, 0, sizeof(*d));
}

static char *format_prefix(const char *file, int line, int col,
			   const char *keypath)
{
	char *p = NULL;
	const char *kp = keypath && *keypath ? keypath : NULL;
	int r;

	if (file && line > 0 && col > 0)
		r = asprintf(&p, "%s:%d:%d: error: %s%s", file, line, col,
			     kp ? kp : "", kp ? ": " : "");
	else if (file)
		r = asprintf(&p, "%s: error: %s%s", file, kp ? kp : "",
			     kp ? ": " : "");
	else
		r = asprintf(&p, "error: %s%s", kp ? kp : "", kp ? ": " : "");
	return r < 0 ? NULL : p;
}

void sysg_diag_error(struct sysg_diag *d, const char *file, int line, int col,
		     const char *keypath, const char *fmt, ...)
{
	char *prefix, *msg = NULL, *full = NULL, **grown;
	va_list ap;

	if (d->n >= SYSG_DIAG_MAX) {
		d->dropped++;
		return;
	}
	prefix = format_prefix(file, line, col, keypath);
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (prefix && msg && asprintf(&full, "%s%s", prefix, msg) < 0)
		full = NULL;
	free(prefix);
	free(msg);
	grown = full ? realloc(d->lines, (d->n + 1) * sizeof(*grown)) : NULL;
	if (!grown) {
		free(full);
		d->dropped++;
		return;
	}
	d->lines = grown;
	d->lines[d->n++] = full;
}

size_t sysg_diag_count(const struct sysg_diag *d)
{
	return d->n + d->dropped;
}

int sysg_diag_contains(const struct sysg_diag *d, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->lines[i], needle))
			return 1;
	return 0;
}

char *sysg_diag_join(const struct sysg_diag *d)
{
	size_t len = 1;
	char *out, *p;

	for (size_t i = 0; i < d->n; i++)
		len += strlen(d->lines[i]) + 1;
	out = malloc(len);
	if (!out)
		return NULL;
	p = out;
	for (size_t i = 0; i < d->n; i++) {
		size_t l = strlen(d->lines[i]);
		memcpy(p, d->lines[i], l);
		p += l;
		*p++ = '\n';
	}
	*p = '\0';
	return out;
}

void sysg_errf(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}
