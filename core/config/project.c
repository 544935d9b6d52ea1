/* project.c - projects: several sets of services in one supervisor
 * (project.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "base/base.h"

#define NAME_LEN_MAX 127        /* a service name (SYSG_NAME_MAX - 1) */

static int ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n > k && !strncmp(s + n - k, suffix, k);
}

void sysg_project_id_of_file(const char *path, char *buf, size_t len)
{
	const char *base = strrchr(path, '/'), *w;
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (ends_with(base, n, ".yaml"))
		n -= 5;
	else if (ends_with(base, n, ".yml"))
		n -= 4;
	w = base;
	if ((n == 4 && !strncmp(base, "sysg", 4)) ||
	    (n == 7 && !strncmp(base, "systemg", 7))) {
		/* the directory's name: /srv/shop/sysg.yaml is "shop" */
		const char *end = base > path ? base - 1 : path, *start = end;

		while (start > path && start[-1] != '/')
			start--;
		if (end > start) {
			w = start;
			n = (size_t)(end - start);
		}
	}
	if (n > SYSG_PROJECT_ID_MAX)
		n = SYSG_PROJECT_ID_MAX;
	snprintf(buf, len, "%.*s", (int)n, w);
	if (!buf[0])
		snprintf(buf, len, "project");
	for (char *p = buf; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_-.", *p))
			*p = '_';
}

const char *sysg_project_of_name(const char *name)
{
	const char *at = strrchr(name, SYSG_PROJECT_SEP);

	return at ? at + 1 : NULL;
}

const struct sysg_project *sysg_config_project(const struct sysg_config *cfg,
					       const char *id)
{
	char own[SYSG_PROJECT_ID_MAX + 1];
	const struct sysg_project *found = NULL;
	char *abs;

	for (size_t i = 0; i < cfg->nprojects; i++)
		if (!strcmp(cfg->projects[i].id, id))
			return &cfg->projects[i];
	/* a file's path: the project of its own services */
	if (!strchr(id, '/') && !ends_with(id, strlen(id), ".yaml") &&
	    !ends_with(id, strlen(id), ".yml"))
		return NULL;
	abs = sysg_path_abs(NULL, id);
	if (!abs)
		return NULL;
	sysg_project_id_of_file(abs, own, sizeof(own));
	for (size_t i = 0; !found && i < cfg->nprojects; i++)
		if (cfg->projects[i].file && !strcmp(cfg->projects[i].file, abs) &&
		    !strcmp(cfg->projects[i].id, own))
			found = &cfg->projects[i];
	free(abs);
	return found;
}

int sysg_project_qualify(const struct sysg_config *cfg, const char *id,
			 const char *name, char *buf, size_t len)
{
	const struct sysg_project *p = id ? sysg_config_project(cfg, id) : NULL;
	int n;

	if (!id || (p && p->plain) || strchr(name, SYSG_PROJECT_SEP))
		n = snprintf(buf, len, "%s", name);
	else
		n = snprintf(buf, len, "%s%c%s", name, SYSG_PROJECT_SEP,
			     p ? p->id : id);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int sysg_project_has(const struct sysg_project *p, const char *name)
{
	const char *of = sysg_project_of_name(name);

	return p->plain ? !of : of && !strcmp(of, p->id);
}

/* ------------------------------------------------------------ loading */

static int add_project(struct sysg_config *cfg, const char *id,
		       const char *name, const char *file, int plain)
{
	struct sysg_project *v, *p;

	for (size_t i = 0; i < cfg->nprojects; i++)
		if (!strcmp(cfg->projects[i].id, id))
			return -EEXIST;
	v = realloc(cfg->projects, (cfg->nprojects + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	cfg->projects = v;
	p = &v[cfg->nprojects];
	memset(p, 0, sizeof(*p));
	p->id = strdup(id);
	p->name = name ? strdup(name) : NULL;
	p->file = file ? strdup(file) : NULL;
	p->plain = plain;
	cfg->nprojects++;
	if (!p->id || (name && !p->name) || (file && !p->file))
		return -ENOMEM;
	return 0;
}

/* *S becomes "*S@ID". */
static int qualify_str(char **s, const char *id)
{
	char *q;

	if (!*s)
		return 0;
	if (asprintf(&q, "%s%c%s", *s, SYSG_PROJECT_SEP, id) < 0)
		return -ENOMEM;
	if (strlen(q) > NAME_LEN_MAX) {
		free(q);
		return -ENAMETOOLONG;
	}
	free(*s);
	*s = q;
	return 0;
}

int sysg_project_qualify_all(struct sysg_config *cfg, const char *id,
			     const char *name)
{
	int rc = 0, any = 0;

	for (size_t i = 0; rc == 0 && i < cfg->nservices; i++) {
		struct sysg_service *s = &cfg->services[i];

		if (s->project || s->unit)
			continue;
		any = 1;
		rc = qualify_str(&s->name, id);
		if (rc == 0)
			rc = qualify_str(&s->instance_of, id);
		for (size_t k = 0; rc == 0 && k < s->ndepends_on; k++)
			rc = qualify_str(&s->depends_on[k], id);
		if (rc == 0 && !(s->project = strdup(id)))
			rc = -ENOMEM;
		/* it runs in its own project's directory */
		if (rc == 0 && !s->workdir && cfg->project_dir &&
		    !(s->workdir = strdup(cfg->project_dir)))
			rc = -ENOMEM;
	}
	if (rc == 0 && any)
		rc = add_project(cfg, id, name, cfg->abs_path, 0);
	return rc;
}

int sysg_project_own(struct sysg_config *cfg, int joined)
{
	char id[SYSG_PROJECT_ID_MAX + 1];
	struct sysg_project *v;
	size_t i;

	for (i = 0; i < cfg->nservices; i++)
		if (!cfg->services[i].project && !cfg->services[i].unit)
			break;
	if (i == cfg->nservices || !cfg->abs_path)
		return 0;
	sysg_project_id_of_file(cfg->abs_path, id, sizeof(id));
	if (joined)
		return sysg_project_qualify_all(cfg, id, NULL);
	if (add_project(cfg, id, NULL, cfg->abs_path, 1) < 0)
		return sysg_config_project(cfg, id) ? -EEXIST : -ENOMEM;
	/* the file's own project comes first */
	v = cfg->projects;
	if (cfg->nprojects > 1) {
		struct sysg_project own = v[cfg->nprojects - 1];

		memmove(v + 1, v, (cfg->nprojects - 1) * sizeof(*v));
		v[0] = own;
	}
	return 0;
}

int sysg_project_take(struct sysg_config *cfg, const struct sysg_config *child)
{
	for (size_t i = 0; i < child->nprojects; i++) {
		const struct sysg_project *p = &child->projects[i];
		int rc;

		if (p->plain)
			continue;
		rc = add_project(cfg, p->id, p->name, p->file, 0);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void free_strs(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void sysg_project_free_all(struct sysg_config *cfg)
{
	for (size_t i = 0; i < cfg->nprojects; i++) {
		free(cfg->projects[i].id);
		free(cfg->projects[i].name);
		free(cfg->projects[i].file);
	}
	free(cfg->projects);
	for (size_t i = 0; i < cfg->njoined; i++)
		sysg_config_free(cfg->joined[i]);
	free(cfg->joined);
	free_strs(cfg->left, cfg->nleft);
}

/* ------------------------------------------------ joining and leaving */

static int is_left(const struct sysg_config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->nleft; i++)
		if (!strcmp(cfg->left[i], id))
			return 1;
	return 0;
}

static int add_left(struct sysg_config *cfg, const char *id)
{
	char **v;

	if (is_left(cfg, id))
		return 0;
	v = realloc(cfg->left, (cfg->nleft + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	cfg->left = v;
	if (!(v[cfg->nleft] = strdup(id)))
		return -ENOMEM;
	cfg->nleft++;
	return 0;
}

static void drop_left_id(struct sysg_config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->nleft; i++)
		if (!strcmp(cfg->left[i], id)) {
			free(cfg->left[i]);
			cfg->left[i] = cfg->left[--cfg->nleft];
			return;
		}
}

/* CFG read again from the text it was loaded from. */
static int reread(const struct sysg_config *cfg, unsigned flags,
		  struct sysg_config **out, char *err, size_t errlen)
{
	struct sysg_diag d;
	char *all;
	int rc;

	*out = NULL;
	if (!cfg->text) {
		sysg_errf(err, errlen, "cannot read %s again: its text is not "
			  "kept", cfg->path);
		return -EINVAL;
	}
	sysg_diag_init(&d);
	rc = sysg_config_load_buffer_flags(cfg->path, cfg->dir, cfg->text,
					   cfg->textlen, flags, out, &d);
	if (rc < 0) {
		all = sysg_diag_join(&d);
		sysg_errf(err, errlen, "cannot read %s again: %s", cfg->path,
			  all && *all ? all : strerror(-rc));
		free(all);
	}
	sysg_diag_free(&d);
	return rc == -ENOMEM ? rc : rc < 0 ? -EINVAL : 0;
}

/* Append the services of J (moved out) to CFG, and J's dependency waves
 * to CFG's (J's services depend on J's only). */
static int append_services(struct sysg_config *cfg, struct sysg_config *j)
{
	size_t off = cfg->nservices, nw = cfg->nwaves > j->nwaves ?
		     cfg->nwaves : j->nwaves;
	struct sysg_service *sv;
	size_t **waves, *sizes;

	sv = realloc(cfg->services, (cfg->nservices + j->nservices + 1) *
		     sizeof(*sv));
	if (!sv)
		return -ENOMEM;
	cfg->services = sv;
	waves = realloc(cfg->waves, (nw + 1) * sizeof(*waves));
	if (!waves)
		return -ENOMEM;
	cfg->waves = waves;
	sizes = realloc(cfg->wave_sizes, (nw + 1) * sizeof(*sizes));
	if (!sizes)
		return -ENOMEM;
	cfg->wave_sizes = sizes;
	for (size_t w = cfg->nwaves; w < nw; w++) {
		waves[w] = NULL;
		sizes[w] = 0;
	}
	cfg->nwaves = nw;
	for (size_t w = 0; w < j->nwaves; w++) {
		size_t *v = realloc(waves[w], (sizes[w] + j->wave_sizes[w] + 1) *
				    sizeof(*v));

		if (!v)
			return -ENOMEM;
		waves[w] = v;
		for (size_t k = 0; k < j->wave_sizes[w]; k++)
			v[sizes[w]++] = j->waves[w][k] + off;
	}
	memcpy(cfg->services + off, j->services,
	       j->nservices * sizeof(*j->services));
	cfg->nservices += j->nservices;
	j->nservices = 0;               /* moved */
	return 0;
}

/* Remove the services of the projects left out from CFG (and from its
 * waves, and the projects themselves). */
static int drop_left(struct sysg_config *cfg)
{
	size_t *map = calloc(cfg->nservices + 1, sizeof(*map)), n = 0, nw = 0;

	if (!map)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->nservices; i++) {
		struct sysg_service *s = &cfg->services[i];
		int gone = 0;

		for (size_t p = 0; !gone && p < cfg->nprojects; p++)
			gone = is_left(cfg, cfg->projects[p].id) && !s->unit &&
			       sysg_project_has(&cfg->projects[p], s->name);
		if (gone) {
			map[i] = SIZE_MAX;
			sysg_service_free(s);
			continue;
		}
		map[i] = n;
		cfg->services[n++] = *s;
	}
	cfg->nservices = n;
	for (size_t w = 0; w < cfg->nwaves; w++) {
		size_t k = 0;

		for (size_t i = 0; i < cfg->wave_sizes[w]; i++)
			if (map[cfg->waves[w][i]] != SIZE_MAX)
				cfg->waves[w][k++] = map[cfg->waves[w][i]];
		if (!k) {
			free(cfg->waves[w]);
			continue;
		}
		/* nw <= w: that slot is this wave's or an emptied one's */
		cfg->waves[nw] = cfg->waves[w];
		cfg->wave_sizes[nw++] = k;
	}
	cfg->nwaves = nw;
	free(map);
	for (size_t p = 0; p < cfg->nprojects; ) {
		struct sysg_project *pr = &cfg->projects[p];

		if (!is_left(cfg, pr->id)) {
			p++;
			continue;
		}
		free(pr->id);
		free(pr->name);
		free(pr->file);
		memmove(pr, pr + 1, (cfg->nprojects - p - 1) * sizeof(*pr));
		cfg->nprojects--;
	}
	return 0;
}

/* Add joined file J to CFG: its services (from a fresh copy) and J
 * itself, kept for the next copy. */
static int append_joined(struct sysg_config *cfg, const struct sysg_config *j,
			 char *err, size_t errlen)
{
	struct sysg_config *svc = NULL, *keep = NULL, **v;
	int rc = reread(j, SYSG_CONFIG_JOINED, &svc, err, errlen);

	if (rc == 0)
		rc = reread(j, SYSG_CONFIG_JOINED, &keep, err, errlen);
	if (rc == 0 && (rc = sysg_project_take(cfg, svc)) == -EEXIST)
		sysg_errf(err, errlen, "%s: a project of that id is already "
			  "registered with the supervisor (see 'sysg status')",
			  j->path);
	if (rc == 0)
		rc = append_services(cfg, svc);
	v = rc ? NULL : realloc(cfg->joined, (cfg->njoined + 1) * sizeof(*v));
	if (!rc && !v)
		rc = -ENOMEM;
	if (rc == 0) {
		cfg->joined = v;
		v[cfg->njoined++] = keep;
		keep = NULL;
	}
	sysg_config_free(svc);
	sysg_config_free(keep);
	return rc;
}

int sysg_config_keep_joined(struct sysg_config *nc,
			    const struct sysg_config *old, char *err,
			    size_t errlen)
{
	int rc = 0;

	/* the file read again brings its own projects back */
	for (size_t i = 0; rc == 0 && i < old->nleft; i++)
		if (!sysg_config_project(nc, old->left[i]))
			rc = add_left(nc, old->left[i]);
	for (size_t i = 0; rc == 0 && i < old->njoined; i++)
		/* a joined file that is now the supervisor's own is not
		 * joined twice */
		if (!nc->abs_path || strcmp(old->joined[i]->abs_path,
					    nc->abs_path))
			rc = append_joined(nc, old->joined[i], err, errlen);
	if (rc == 0)
		rc = drop_left(nc);
	if (rc == -ENOMEM)
		sysg_errf(err, errlen, "out of memory");
	return rc;
}

/* CFG read again with its units, joined files but SKIP (an absolute
 * path, may be NULL) and left-out projects. */
static int copy_config(const struct sysg_config *cfg, const char *skip,
		       struct sysg_config **out, char *err, size_t errlen)
{
	struct sysg_config *nc = NULL;
	int rc = reread(cfg, 0, &nc, err, errlen);

	if (rc == 0 && (rc = sysg_config_keep_units(nc, cfg)) == -ENOMEM)
		sysg_errf(err, errlen, "out of memory");
	for (size_t i = 0; rc == 0 && i < cfg->nleft; i++)
		rc = add_left(nc, cfg->left[i]);
	for (size_t i = 0; rc == 0 && i < cfg->njoined; i++)
		if (!skip || strcmp(cfg->joined[i]->abs_path, skip))
			rc = append_joined(nc, cfg->joined[i], err, errlen);
	if (rc < 0) {
		sysg_config_free(nc);
		nc = NULL;
	}
	*out = nc;
	return rc;
}

/* The end of a join or a leave: NC with its left-out services dropped
 * into *OUT, or on error (RC < 0) nothing. Returns RC. */
static int finish_copy(struct sysg_config *nc, int rc,
		       struct sysg_config **out, char *err, size_t errlen)
{
	if (rc == 0)
		rc = drop_left(nc);
	if (rc < 0) {
		if (rc == -ENOMEM)
			sysg_errf(err, errlen, "out of memory");
		sysg_config_free(nc);
		nc = NULL;
	}
	*out = nc;
	return rc;
}

int sysg_config_join(const struct sysg_config *cfg,
		     const struct sysg_config *join, struct sysg_config **out,
		     char *err, size_t errlen)
{
	struct sysg_config *nc = NULL;
	int rc = copy_config(cfg, join->abs_path, &nc, err, errlen);

	for (size_t i = 0; rc == 0 && i < join->nprojects; i++)
		drop_left_id(nc, join->projects[i].id);
	if (rc == 0)
		rc = append_joined(nc, join, err, errlen);
	return finish_copy(nc, rc, out, err, errlen);
}

/* The joined file of CFG that defines project ID, or -1. */
static int joined_of(const struct sysg_config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->njoined; i++)
		if (sysg_config_project(cfg->joined[i], id))
			return (int)i;
	return -1;
}

/* 1 when every project of joined file J but ID is left out of CFG. */
static int others_left(const struct sysg_config *cfg,
		       const struct sysg_config *j, const char *id)
{
	for (size_t i = 0; i < j->nprojects; i++)
		if (strcmp(j->projects[i].id, id) &&
		    !is_left(cfg, j->projects[i].id))
			return 0;
	return 1;
}

int sysg_config_leave(const struct sysg_config *cfg, const char *id,
		      struct sysg_config **out, char *err, size_t errlen)
{
	const struct sysg_project *p = sysg_config_project(cfg, id);
	const struct sysg_config *j = NULL;
	struct sysg_config *nc = NULL;
	int rc, k;

	*out = NULL;
	if (!p) {
		sysg_errf(err, errlen, "unknown project '%s'", id);
		return -ENOENT;
	}
	k = joined_of(cfg, p->id);
	if (k >= 0 && others_left(cfg, cfg->joined[k], p->id))
		j = cfg->joined[k];     /* the whole file leaves */
	rc = copy_config(cfg, j ? j->abs_path : NULL, &nc, err, errlen);
	if (rc == 0 && !j)
		rc = add_left(nc, p->id);
	for (size_t i = 0; rc == 0 && j && i < j->nprojects; i++)
		drop_left_id(nc, j->projects[i].id);
	return finish_copy(nc, rc, out, err, errlen);
}

size_t sysg_config_joined_files(const struct sysg_config *cfg,
				const char **out, size_t max)
{
	for (size_t i = 0; i < cfg->njoined && i < max; i++)
		out[i] = cfg->joined[i]->abs_path;
	return cfg->njoined;
}
