/* unit.c - ad-hoc units (unit.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static void yaml_quote(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* The program name of COMMAND's first word. */
static void unit_name(const char *name, const char *command, char *buf,
		      size_t len)
{
	size_t n = strcspn(command, " \t");
	const char *w = command, *slash;

	if (!name) {
		if (*w == '\'' && n > 1) {      /* a quoted first word */
			w++;
			n = strcspn(w, "'");
		}
		slash = memrchr(w, '/', n);
		if (slash) {
			n -= (size_t)(slash + 1 - w);
			w = slash + 1;
		}
	}
	snprintf(buf, len, "%.*s", name ? (int)strlen(name) : (int)n,
		 name ? name : w);
	if (!buf[0])
		snprintf(buf, len, "unit");
	for (char *p = buf; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_-.", *p))
			*p = '_';
}

int sysg_config_unit(const char *name, const char *command, const char *cwd,
		     struct sysg_config **out, struct sysg_diag *diag)
{
	char uname[128], *buf = NULL, *cmd = sysg_env_escape(command);
	size_t len = 0;
	FILE *f = cmd ? open_memstream(&buf, &len) : NULL;
	int rc;

	*out = NULL;
	if (!f) {
		free(cmd);
		sysg_diag_error(diag, "<command line>", 0, 0, NULL,
				"out of memory");
		return -ENOMEM;
	}
	unit_name(name, command, uname, sizeof(uname));
	fprintf(f, "version: \"1\"\nservices:\n  ");
	yaml_quote(f, uname);
	fprintf(f, ":\n    command: ");
	yaml_quote(f, cmd);
	fputc('\n', f);
	fclose(f);
	free(cmd);
	rc = sysg_config_load_buffer("<command line>", cwd, buf, len, out,
				     diag);
	free(buf);
	if (rc == 0 && !((*out)->services[0].workdir = strdup(cwd))) {
		sysg_config_free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	if (rc == 0)
		(*out)->services[0].unit = 1;
	return rc;
}

/* A fresh copy of the one-service config UNIT. */
static int copy_unit(const struct sysg_config *unit, struct sysg_config **out)
{
	const struct sysg_service *s = &unit->services[0];
	struct sysg_diag d;
	int rc;

	sysg_diag_init(&d);
	rc = sysg_config_load_buffer(unit->path, unit->dir, unit->text,
				     unit->textlen, out, &d);
	sysg_diag_free(&d);
	if (rc == 0 && !((*out)->services[0].workdir = strdup(s->workdir))) {
		sysg_config_free(*out);
		*out = NULL;
		rc = -ENOMEM;
	}
	if (rc == 0)
		(*out)->services[0].unit = 1;
	return rc;
}

/* Move the service of a copy of UNIT into CFG (no dependencies: it joins
 * the first wave) and keep UNIT's text for the next copy. */
static int append_unit(struct sysg_config *cfg, const struct sysg_config *unit)
{
	struct sysg_config *svc_src = NULL, *keep = NULL, **units;
	struct sysg_service *grown;
	size_t *wave0;
	int rc = copy_unit(unit, &svc_src);

	if (rc == 0)
		rc = copy_unit(unit, &keep);
	grown = rc ? NULL : realloc(cfg->services, (cfg->nservices + 1) *
				    sizeof(*grown));
	if (grown)
		cfg->services = grown;
	units = grown ? realloc(cfg->units, (cfg->nunits + 1) *
				sizeof(*units)) : NULL;
	if (units)
		cfg->units = units;
	wave0 = units && cfg->nwaves ? realloc(cfg->waves[0],
		(cfg->wave_sizes[0] + 1) * sizeof(*wave0)) : NULL;
	if (!wave0) {
		sysg_config_free(svc_src);
		sysg_config_free(keep);
		return rc ? rc : -ENOMEM;
	}
	cfg->waves[0] = wave0;
	wave0[cfg->wave_sizes[0]++] = cfg->nservices;
	cfg->services[cfg->nservices++] = svc_src->services[0];
	svc_src->nservices = 0;         /* moved */
	sysg_config_free(svc_src);
	cfg->units[cfg->nunits++] = keep;
	return 0;
}

/* A unit config read again from its text is not marked: mark the
 * services of COPY that are units in CFG. */
static int mark_units(struct sysg_config *copy, const struct sysg_config *cfg)
{
	for (size_t i = 0; i < copy->nservices && i < cfg->nservices; i++) {
		struct sysg_service *s = &copy->services[i];

		if (!cfg->services[i].unit || strcmp(s->name,
						     cfg->services[i].name))
			continue;
		s->unit = 1;
		free(s->workdir);
		s->workdir = cfg->services[i].workdir ?
			     strdup(cfg->services[i].workdir) : NULL;
		if (cfg->services[i].workdir && !s->workdir)
			return -ENOMEM;
	}
	return 0;
}

int sysg_config_add_unit(const struct sysg_config *cfg,
			 const struct sysg_config *unit,
			 struct sysg_config **out, char *err, size_t errlen)
{
	struct sysg_diag d;
	char *all;
	int rc;

	*out = NULL;
	if (sysg_config_find_service(cfg, unit->services[0].name) >= 0) {
		sysg_errf(err, errlen, "a service named '%s' already exists",
			  unit->services[0].name);
		return -EEXIST;
	}
	sysg_diag_init(&d);
	rc = cfg->text ? sysg_config_load_buffer(cfg->path, cfg->dir,
						 cfg->text, cfg->textlen, out,
						 &d) : -EINVAL;
	if (rc < 0) {
		all = sysg_diag_join(&d);
		sysg_errf(err, errlen, "cannot read %s again: %s", cfg->path,
			  all && *all ? all : "its text is not kept");
		free(all);
	}
	sysg_diag_free(&d);
	if (rc == 0)
		rc = mark_units(*out, cfg);
	if (rc == 0)
		rc = sysg_config_keep_units(*out, cfg);
	if (rc == 0)
		rc = append_unit(*out, unit);
	if (rc < 0 && *out) {
		sysg_config_free(*out);
		*out = NULL;
	}
	if (rc == -ENOMEM)
		sysg_errf(err, errlen, "out of memory");
	return rc;
}

int sysg_config_keep_units(struct sysg_config *nc,
			   const struct sysg_config *old)
{
	for (size_t i = 0; i < old->nunits; i++) {
		int rc;

		if (sysg_config_find_service(nc, old->units[i]->services[0].name)
		    >= 0)
			continue;
		if ((rc = append_unit(nc, old->units[i])) < 0)
			return rc;
	}
	return 0;
}
