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
			   const char *keypath, const char *level)
{
	char *p = NULL;
	const char *kp = keypath && *keypath ? keypath : NULL;
	int r;

	if (file && line > 0 && col > 0)
		r = asprintf(&p, "%s:%d:%d: %s: %s%s", file, line, col, level,
			     kp ? kp : "", kp ? ": " : "");
	else if (file)
		r = asprintf(&p, "%s: %s: %s%s", file, level, kp ? kp : "",
			     kp ? ": " : "");
	else
		r = asprintf(&p, "%s: %s%s", level, kp ? kp : "",
			     kp ? ": " : "");
	return r < 0 ? NULL : p;
}

static void diag_add(struct sysg_diag *d, const char *file, int line,
		     int col, const char *keypath, const char *level,
		     const char *fmt, va_list ap)
{
	char *prefix, *msg = NULL, *full = NULL, **grown;

	if (d->n >= SYSG_DIAG_MAX) {
		d->dropped++;
		return;
	}
	prefix = format_prefix(file, line, col, keypath, level);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
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

void sysg_diag_error(struct sysg_diag *d, const char *file, int line, int col,
		     const char *keypath, const char *fmt, ...)
{
	va_list ap;

	d->errors++;
	va_start(ap, fmt);
	diag_add(d, file, line, col, keypath, "error", fmt, ap);
	va_end(ap);
}

void sysg_diag_warning(struct sysg_diag *d, const char *file, int line,
		       int col, const char *keypath, const char *fmt, ...)
{
	va_list ap;

	d->warnings++;
	va_start(ap, fmt);
	diag_add(d, file, line, col, keypath, "warning", fmt, ap);
	va_end(ap);
}

size_t sysg_diag_count(const struct sysg_diag *d)
{
	return d->errors;
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
