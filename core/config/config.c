/* config.c - the sysg config loader; see config.h.
 *
 * Loading is three steps:
 *  1. yamlwalk loads exactly one YAML document (syntax errors end here);
 *  2. the schema walk (config_schema.c) reads each known key into struct
 *     sysg_config, one small handler per key, reporting every problem;
 *  3. finish(): resolve paths against project_dir, merge environments and
 *     expand ${VAR}, resolve depends_on and compute the start waves.
 * Any problem makes the load fail; all of them are reported (DIAG caps how
 * many lines it keeps).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_schema.h"
#include "env.h"
#include "expand.h"
#include "graph.h"
#include "base/base.h"

extern char **environ;

#define MAX_FILE_BYTES (32L << 20)      /* larger files are refused */
#define MAX_INCLUDE_DEPTH 16

/* The files being loaded, innermost first: include cycles are found on
 * it. REAL is the canonical path (NULL for a buffer). */
struct include_chain {
	const struct include_chain *up;
	const char *real;
	const char *name;
	int depth;
};

/* State of one load call. */
struct load {
	struct sysg_config_walk cw;
	struct sysg_strset bad_env_files;       /* reported once, not re-read */
	struct sysg_expand x;                   /* $VAR scopes */
	const struct include_chain *chain;
	unsigned flags;
	int included;           /* an included file: its services are taken
	                           by the includer, which checks depends_on */
	const char *project;    /* walking projects.PROJECT's map */
	yaml_document_t *doc;
	const char *src;        /* the document's text */
	size_t srclen;
};

static int load_document(struct sysg_config *cfg, const char *buf,
			 size_t len, unsigned flags,
			 const struct include_chain *chain, int included,
			 struct sysg_diag *diag);
static int load_tree(struct sysg_config *cfg, yaml_document_t *doc,
		     yaml_node_t *root, const char *buf, size_t len,
		     unsigned flags, const struct include_chain *chain,
		     int included, const char *project, struct sysg_diag *diag);
static struct sysg_config *config_new(const char *name, const char *abs_path,
				      const char *dir);

/* Set the key path to the given components (NULL ends the list early). */
static void path_set(struct sysg_yw *w, const char *a, const char *b,
		     const char *c, const char *d)
{
	const char *parts[] = { a, b, c, d };

	sysg_yw_pop(w, 0);
	for (size_t i = 0; i < 4 && parts[i]; i++)
		sysg_yw_push_key(w, parts[i]);
}

/* -------------------------------------------------------------- paths */

/* Replace *P (relative to BASE) by its absolute form. */
static int make_abs(struct sysg_yw *w, const char *base, char **p)
{
	char *abs;

	if (!*p)
		return 0;
	abs = sysg_path_abs(base, *p);
	if (!abs) {
		sysg_yw_nomem(w);
		return -1;
	}
	free(*p);
	*p = abs;
	return 0;
}

static void resolve_project_dir(struct load *ld)
{
	struct sysg_config *cfg = ld->cw.cfg;
	struct stat st;

	if (!cfg->project_dir) {
		cfg->project_dir = strdup(cfg->dir);
		if (!cfg->project_dir)
			sysg_yw_nomem(&ld->cw.w);
		return;
	}
	if (make_abs(&ld->cw.w, cfg->dir, &cfg->project_dir))
		return;
	if (stat(cfg->project_dir, &st) == 0 && S_ISDIR(st.st_mode))
		return;
	path_set(&ld->cw.w, "project_dir", NULL, NULL, NULL);
	sysg_yw_error(&ld->cw.w, ld->cw.project_dir_node,
		      "'%s' is not a directory", cfg->project_dir);
}

static void resolve_paths(struct load *ld)
{
	struct sysg_config *cfg = ld->cw.cfg;
	const char *pd;

	resolve_project_dir(ld);
	pd = cfg->project_dir;
	if (!pd)
		return;
	make_abs(&ld->cw.w, pd, &cfg->state_path);
	make_abs(&ld->cw.w, pd, &cfg->metrics.spillover_path);
	make_abs(&ld->cw.w, pd, &cfg->metrics.textfile);
	make_abs(&ld->cw.w, pd, &cfg->env.file);
	for (size_t i = 0; i < cfg->nservices; i++) {
		struct sysg_service *s = &cfg->services[i];

		make_abs(&ld->cw.w, pd, &s->env.file);
	}
}

/* -------------------------------------------------------- environment */

static void remember_bad_env_file(struct load *ld, const char *file)
{
	if (sysg_strset_add(&ld->bad_env_files, file) < 0)
		sysg_yw_nomem(&ld->cw.w);
}

/* Apply SPEC's env file; WHO is NULL for the root env or a service name. */
static void apply_env_file(struct load *ld, char ***env,
			   const struct sysg_env_spec *spec, const char *who)
{
	struct sysg_yw *w = &ld->cw.w;
	const char *problem;
	char buf[96];
	int rc;

	if (!spec->file || sysg_strset_has(&ld->bad_env_files, spec->file))
		return;
	if (who)
		path_set(w, "services", who, "env", "file");
	else
		path_set(w, "env", "file", NULL, NULL);
	problem = sysg_env_file_problem(spec->file, buf, sizeof(buf));
	if (problem) {
		sysg_yw_error_at(w, spec->file_mark.line, spec->file_mark.col,
				 "cannot read env file '%s': %s", spec->file,
				 problem);
		remember_bad_env_file(ld, spec->file);
		return;
	}
	rc = sysg_env_file_apply(spec->file, w->path, env, w->diag);
	if (rc == -ENOMEM)
		sysg_yw_nomem(w);
	else if (rc) {
		w->errors++;
		remember_bad_env_file(ld, spec->file);
	}
}

static void apply_env(struct load *ld, char ***env,
		      const struct sysg_env_spec *spec, const char *who)
{
	apply_env_file(ld, env, spec, who);
	for (size_t i = 0; i < spec->nvars && !ld->cw.w.nomem; i++)
		if (sysg_env_set(env, spec->vars[i].key, spec->vars[i].value))
			sysg_yw_nomem(&ld->cw.w);
}

/* Every service gets its own copy of the root environment: refuse sizes
 * whose copies would take gigabytes. */
static int envs_too_large(struct load *ld, char *const *base)
{
	size_t n = 0;

	while (base[n])
		n++;
	if (ld->cw.cfg->nservices <= SYSG_MAX_ENV_COPIES / (n ? n : 1))
		return 0;
	path_set(&ld->cw.w, "env", NULL, NULL, NULL);
	sysg_yw_error(&ld->cw.w, NULL,
		      "%zu services times %zu variables is too large (at most %d in all)",
		      ld->cw.cfg->nservices, n, SYSG_MAX_ENV_COPIES);
	return 1;
}

/* SYSG_INSTANCE=K for the copy NAME.K of a service (SPEC 11). */
static int instance_env(struct sysg_service *s)
{
	return sysg_env_set(&s->envp, "SYSG_INSTANCE",
			    s->name + strlen(s->instance_of) + 1);
}

/* S's environment becomes read-only, its entries equal to BASE's shared
 * with every other service of the file. */
static void freeze_env(struct load *ld, struct sysg_service *s,
		       char *const *base, struct sysg_env_shared **shared)
{
	char **frozen = sysg_env_freeze(s->envp, base, shared);

	sysg_env_free(s->envp);
	s->envp = frozen;       /* sysg_service_free frees only frozen ones */
	if (!frozen)
		sysg_yw_nomem(&ld->cw.w);
}

static void build_envs(struct load *ld)
{
	struct sysg_config *cfg = ld->cw.cfg;
	char **base = sysg_env_dup(environ);
	struct sysg_env_shared *shared = NULL;

	if (!base) {
		sysg_yw_nomem(&ld->cw.w);
		return;
	}
	apply_env(ld, &base, &cfg->env, NULL);
	if (envs_too_large(ld, base)) {
		sysg_env_free(base);
		return;
	}
	for (size_t i = 0; i < cfg->nservices && !ld->cw.w.nomem; i++) {
		struct sysg_service *s = &cfg->services[i];

		s->envp = sysg_env_dup(base);
		if (!s->envp) {
			sysg_yw_nomem(&ld->cw.w);
			break;
		}
		apply_env(ld, &s->envp, &s->env, s->name);
		if (s->instance_of && instance_env(s) < 0)
			sysg_yw_nomem(&ld->cw.w);
		freeze_env(ld, s, base, &shared);
	}
	sysg_env_free(base);
}

/* ------------------------------------------------------- dependencies */

struct deps {
	size_t **v;
	size_t *n;
};

static void report_unknown_dep(struct load *ld, const struct sysg_service *s,
			       size_t j)
{
	struct sysg_config *cfg = ld->cw.cfg;
	const char **names = calloc(cfg->nservices + 1, sizeof(*names));
	const char *hint = NULL;
	char q[80];

	for (size_t i = 0; names && i < cfg->nservices; i++)
		names[i] = cfg->services[i].name;
	if (names)
		hint = sysg_yw_suggest(s->depends_on[j], names);
	sysg_yw_error_at(&ld->cw.w, s->depends_on_marks[j].line,
			 s->depends_on_marks[j].col,
			 "unknown service '%s'%s%s%s",
			 sysg_yw_quote(s->depends_on[j], q, sizeof(q)),
			 hint ? " (did you mean '" : "", hint ? hint : "",
			 hint ? "'?)" : "");
	free(names);
}

/* Point W at S's depends_on[J], in the file S was written in. */
static void dep_path(struct sysg_yw *w, const struct sysg_service *s,
		     size_t j)
{
	if (s->file)
		w->file = s->file;
	path_set(w, "services", s->name, "depends_on", NULL);
	sysg_yw_push_index(w, j);
}

/* Service I depends on every copy of NAME (instances: N); 0 when NAME
 * has no copies. */
static int add_instances(const struct sysg_config *cfg, const char *name,
			 size_t i, struct deps *d)
{
	int found = 0;

	for (size_t c = 0; c < cfg->nservices; c++) {
		const char *of = cfg->services[c].instance_of;
		size_t k;

		if (!of || strcmp(of, name) || c == i)
			continue;
		found = 1;
		for (k = 0; k < d->n[i] && d->v[i][k] != c; k++)
			;
		if (k == d->n[i])
			d->v[i][d->n[i]++] = c;
	}
	return found;
}

/* Fill D->v[I] with the known, distinct dependencies of service I. */
static int collect_deps(struct load *ld, size_t i, struct deps *d)
{
	const struct sysg_service *s = &ld->cw.cfg->services[i];

	d->v[i] = calloc(ld->cw.cfg->nservices + 1, sizeof(size_t));
	if (!d->v[i])
		return -ENOMEM;
	for (size_t j = 0; j < s->ndepends_on; j++) {
		int idx = sysg_config_find_service(ld->cw.cfg, s->depends_on[j]);
		size_t k;

		dep_path(&ld->cw.w, s, j);
		if (idx < 0 && add_instances(ld->cw.cfg, s->depends_on[j], i, d))
			continue;       /* all copies of a service */
		if (idx < 0) {
			report_unknown_dep(ld, s, j);
			continue;
		}
		if ((size_t)idx == i) {
			sysg_yw_error_at(&ld->cw.w, s->depends_on_marks[j].line,
					 s->depends_on_marks[j].col,
					 "service '%s' depends on itself", s->name);
			continue;
		}
		for (k = 0; k < d->n[i] && d->v[i][k] != (size_t)idx; k++)
			;
		if (k == d->n[i])
			d->v[i][d->n[i]++] = (size_t)idx;
	}
	return 0;
}

static void report_cycle(struct load *ld, const size_t *cycle, size_t len)
{
	struct sysg_config *cfg = ld->cw.cfg;
	const struct sysg_service *first = &cfg->services[cycle[0]];
	size_t cap = 64, j;
	char *msg;

	for (size_t i = 0; i < len; i++)
		cap += strlen(cfg->services[cycle[i]].name) + 4;
	msg = malloc(cap);
	if (!msg) {
		sysg_yw_nomem(&ld->cw.w);
		return;
	}
	strcpy(msg, "dependency cycle: ");
	for (size_t i = 0; i < len; i++) {
		strcat(msg, cfg->services[cycle[i]].name);
		if (i + 1 < len)
			strcat(msg, " -> ");
	}
	for (j = 0; j < first->ndepends_on &&
	     strcmp(first->depends_on[j], cfg->services[cycle[1]].name); j++)
		;
	if (j == first->ndepends_on)
		j = 0;          /* cannot happen: the cycle uses an edge of ours */
	dep_path(&ld->cw.w, first, j);
	sysg_yw_error_at(&ld->cw.w, first->depends_on_marks[j].line,
			 first->depends_on_marks[j].col, "%s", msg);
	free(msg);
}

static void compute_waves(struct load *ld, struct deps *d)
{
	struct sysg_config *cfg = ld->cw.cfg;
	size_t *cycle = NULL, cycle_len = 0;
	int rc;

	rc = sysg_graph_waves(cfg->nservices, d->v, d->n, &cfg->waves,
			      &cfg->wave_sizes, &cfg->nwaves, &cycle,
			      &cycle_len);
	if (rc == -ELOOP && cycle && cycle_len > 1)
		report_cycle(ld, cycle, cycle_len);
	else if (rc == -ENOMEM)
		sysg_yw_nomem(&ld->cw.w);
	else if (rc)
		sysg_yw_error(&ld->cw.w, NULL, "cannot order services (%s)",
			      strerror(-rc));
	free(cycle);
}

static void resolve_deps(struct load *ld)
{
	struct sysg_config *cfg = ld->cw.cfg;
	struct deps d;
	size_t n = cfg->nservices;

	d.v = calloc(n + 1, sizeof(*d.v));
	d.n = calloc(n + 1, sizeof(*d.n));
	for (size_t i = 0; d.v && d.n && i < n; i++)
		if (collect_deps(ld, i, &d))
			sysg_yw_nomem(&ld->cw.w);
	if (d.v && d.n && n > 0 && !ld->cw.w.nomem)
		compute_waves(ld, &d);
	else if (!d.v || !d.n)
		sysg_yw_nomem(&ld->cw.w);
	for (size_t i = 0; d.v && i < n; i++)
		free(d.v[i]);
	free(d.v);
	free(d.n);
	ld->cw.w.file = cfg->path;
}

/* ----------------------------------------------------------- includes */

/* Report a problem with include[I] of the file being loaded. */
static void include_error(struct load *ld, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void include_error(struct load *ld, size_t i, const char *fmt, ...)
{
	struct sysg_yw *w = &ld->cw.w;
	char msg[SYSG_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sysg_yw_pop(w, 0);
	/* the key path as it was when the entry was read */
	snprintf(w->path, sizeof(w->path), "%s", ld->cw.includes[i].keypath);
	w->pathlen = strlen(w->path);
	sysg_yw_error_at(w, ld->cw.includes[i].mark.line,
			 ld->cw.includes[i].mark.col, "%s", msg);
	sysg_yw_pop(w, 0);
}

/* "a.yaml -> b.yaml -> a.yaml" when REAL is on the chain, else NULL. */
static char *include_cycle(const struct include_chain *c, const char *real,
			   const char *name)
{
	const struct include_chain *at = c;
	size_t cap = strlen(name) + 1;
	char *msg;

	for (; at && (!at->real || strcmp(at->real, real)); at = at->up)
		;
	if (!at)
		return NULL;
	for (const struct include_chain *p = c; p != at->up; p = p->up)
		cap += strlen(p->name) + 4;
	msg = malloc(cap);
	if (!msg)
		return NULL;
	msg[0] = '\0';
	/* the chain is innermost first: write it outermost first */
	for (const struct include_chain *p = at; ; ) {
		const struct include_chain *q = c;

		strcat(msg, p->name);
		strcat(msg, " -> ");
		if (p == c)
			break;
		while (q->up != p)
			q = q->up;
		p = q;
	}
	strcat(msg, name);
	return msg;
}

/* The included file's name in messages: relative to the includer's. */
static char *include_name(const char *parent, const char *inc)
{
	char *dir, *name;

	if (inc[0] == '/' || !strchr(parent, '/'))
		return strdup(inc);
	dir = sysg_path_dirname(parent);
	name = dir ? sysg_path_join(dir, inc) : NULL;
	free(dir);
	return name;
}

/* Checks before reading include[I] (NAME, at ABS): exists, not writable
 * by others, no cycle, not too deep. Its canonical path in *REAL. */
static int include_check(struct load *ld, size_t i, const char *name,
			 const char *abs, char **real)
{
	struct stat st;
	char *cycle;

	*real = NULL;
	if (stat(abs, &st) < 0) {
		include_error(ld, i, "cannot read included file '%s': %s",
			      name, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		include_error(ld, i, "included file '%s' is not a regular "
			      "file", name);
		return -1;
	}
	if (st.st_mode & S_IWOTH) {
		include_error(ld, i, "included file '%s' is writable by others "
			      "(chmod o-w %s)", name, name);
		return -1;
	}
	*real = realpath(abs, NULL);
	if (!*real) {
		include_error(ld, i, "cannot read included file '%s': %s",
			      name, strerror(errno));
		return -1;
	}
	cycle = include_cycle(ld->chain, *real, name);
	if (cycle) {
		include_error(ld, i, "include cycle: %s", cycle);
		free(cycle);
		return -1;
	}
	if (ld->chain && ld->chain->depth >= MAX_INCLUDE_DEPTH) {
		include_error(ld, i, "includes nested more than %d deep",
			      MAX_INCLUDE_DEPTH);
		return -1;
	}
	return 0;
}

/* Move the services and projects of CHILD into the config (an
 * include[I], or a project's map when I is SIZE_MAX). */
static void include_take(struct load *ld, size_t i, struct sysg_config *child)
{
	struct sysg_config *cfg = ld->cw.cfg;
	struct sysg_service *v;
	int at_line = i == SIZE_MAX ? 0 : ld->cw.includes[i].mark.line;
	int at_col = i == SIZE_MAX ? 0 : ld->cw.includes[i].mark.col;

	v = realloc(cfg->services, (cfg->nservices + child->nservices + 1) *
		    sizeof(*v));
	if (!v) {
		sysg_yw_nomem(&ld->cw.w);
		return;
	}
	cfg->services = v;
	switch (sysg_project_take(cfg, child)) {
	case 0:
		break;
	case -EEXIST:
		if (i == SIZE_MAX)
			sysg_yw_error(&ld->cw.w, NULL, "a project of that id "
				      "is already defined");
		else
			include_error(ld, i, "a project of %s is already "
				      "defined", child->path);
		return;
	default:
		sysg_yw_nomem(&ld->cw.w);
		return;
	}
	if (i != SIZE_MAX && (child->metrics.present || child->state_backend ||
			      child->state_path))
		sysg_diag_warning(ld->cw.w.diag, cfg->path, at_line, at_col,
				  ld->cw.includes[i].keypath,
				  "'state' and 'metrics' of %s are ignored "
				  "(those of %s apply)", child->path,
				  cfg->path);
	for (size_t k = 0; k < child->nservices; k++) {
		struct sysg_service *s = &child->services[k];

		if (sysg_config_find_service(cfg, s->name) >= 0) {
			if (i == SIZE_MAX)
				sysg_yw_error_at(&ld->cw.w, s->mark.line,
						 s->mark.col, "service '%s' is "
						 "already defined", s->name);
			else
				include_error(ld, i, "service '%s' of %s is "
					      "already defined", s->name,
					      sysg_service_file(child, s));
			continue;
		}
		if (i != SIZE_MAX && !s->file &&
		    !(s->file = strdup(child->path))) {
			sysg_yw_nomem(&ld->cw.w);
			continue;
		}
		cfg->services[cfg->nservices++] = *s;
		memset(s, 0, sizeof(*s));
	}
}

/* Load include[I] and take its services. */
static void include_one(struct load *ld, size_t i)
{
	struct sysg_config *cfg = ld->cw.cfg, *child = NULL;
	const struct sysg_include *ie = &ld->cw.includes[i];
	const char *inc = ie->file;
	char *name = include_name(cfg->path, inc);
	char *abs = sysg_path_abs(cfg->dir, inc);
	char *dir = abs ? sysg_path_dirname(abs) : NULL;
	char *real = NULL, *buf = NULL;
	size_t len = 0;
	int rc;

	if (!name || !dir) {
		sysg_yw_nomem(&ld->cw.w);
		goto out;
	}
	if (include_check(ld, i, name, abs, &real))
		goto out;
	rc = sysg_read_regular(abs, (size_t)MAX_FILE_BYTES, &buf, &len);
	if (rc) {
		include_error(ld, i, "cannot read included file '%s': %s", name,
			      rc == -EFBIG ? "too large" : strerror(-rc));
		goto out;
	}
	child = config_new(name, abs, dir);
	if (!child) {
		sysg_yw_nomem(&ld->cw.w);
		goto out;
	}
	{
		struct include_chain link = { ld->chain, real, name,
					      ld->chain ? ld->chain->depth + 1 :
					      1 };

		/* a project's file checks its own depends_on */
		rc = load_document(child, buf, len, ld->flags &
				   ~SYSG_CONFIG_JOINED, &link, !ie->project,
				   ld->cw.w.diag);
	}
	if (rc == 0 && ie->project)
		rc = sysg_project_qualify_all(child, ie->project, NULL);
	if (rc == -EEXIST)
		include_error(ld, i, "project '%s' is defined twice",
			      ie->project);
	else if (rc == -ENAMETOOLONG)
		include_error(ld, i, "a service name of %s is too long with "
			      "'@%s'", name, ie->project);
	else if (rc == -ENOMEM)
		sysg_yw_nomem(&ld->cw.w);
	else if (rc)
		ld->cw.w.errors++;      /* reported in the included file */
	else
		include_take(ld, i, child);
out:
	sysg_config_free(child);
	free(buf);
	free(real);
	free(dir);
	free(abs);
	free(name);
}

static void load_includes(struct load *ld)
{
	for (size_t i = 0; i < ld->cw.nincludes && !ld->cw.w.nomem; i++)
		include_one(ld, i);
}

static void includes_free(struct load *ld)
{
	for (size_t i = 0; i < ld->cw.nincludes; i++) {
		free(ld->cw.includes[i].file);
		free(ld->cw.includes[i].keypath);
		free(ld->cw.includes[i].project);
	}
	free(ld->cw.includes);
	for (size_t i = 0; i < ld->cw.nprojects; i++)
		free(ld->cw.projects[i].id);
	free(ld->cw.projects);
	free(ld->cw.project_name);
}

/* ----------------------------------------------------------- projects */

/* Load projects[I], a map of this document, as a config of its own (its
 * env, project_dir, services and their depends_on), then take its
 * services under their qualified names. */
static void project_one(struct load *ld, size_t i)
{
	const struct sysg_walk_project *wp = &ld->cw.projects[i];
	struct sysg_config *cfg = ld->cw.cfg;
	struct sysg_config *child = config_new(cfg->path, cfg->abs_path,
					       cfg->dir);
	int rc;

	if (!child) {
		sysg_yw_nomem(&ld->cw.w);
		return;
	}
	rc = load_tree(child, ld->doc, wp->node, ld->src, ld->srclen,
		       ld->flags & ~SYSG_CONFIG_JOINED, ld->chain, 0, wp->id,
		       ld->cw.w.diag);
	path_set(&ld->cw.w, "projects", wp->id, NULL, NULL);
	if (rc == -ENOMEM)
		sysg_yw_nomem(&ld->cw.w);
	else if (rc)
		ld->cw.w.errors++;      /* reported under projects.ID */
	else
		include_take(ld, SIZE_MAX, child);
	sysg_config_free(child);
}

static void load_projects(struct load *ld)
{
	for (size_t i = 0; i < ld->cw.nprojects && !ld->cw.w.nomem; i++)
		project_one(ld, i);
}

/* ------------------------------------------------------------ loading */

/* Each service's effective `logs:`: its keys, else the top level's,
 * else the defaults. */
static void resolve_logs(struct sysg_config *cfg)
{
	const struct sysg_logs *g = &cfg->logs;

	for (size_t i = 0; i < cfg->nservices; i++) {
		struct sysg_logs *l = &cfg->services[i].logs;

		if (!l->has_max_size)
			l->max_size = g->has_max_size ? g->max_size : 0;
		if (!l->has_keep)
			l->keep = g->has_keep ? g->keep : SYSG_LOGS_KEEP;
		if (!l->has_compress)
			l->compress = g->has_compress ? g->compress : 0;
	}
}

/* The env block as the pre-pass expanded it replaces the one the schema
 * walk read as written (same entries, values expanded, flattened ones
 * first so that vars win). */
static void take_scope(struct sysg_env_spec *e, struct sysg_scope *sc)
{
	for (size_t i = 0; i < e->nvars; i++) {
		free(e->vars[i].key);
		free(e->vars[i].value);
	}
	free(e->vars);
	e->vars = sc->vars;
	e->nvars = sc->nvars;
	sc->vars = NULL;
	sc->nvars = 0;
	if (e->file) {          /* NULL: its expansion failed, reported */
		free(e->file);
		e->file = sc->file;
		sc->file = NULL;
	}
}

static void take_scopes(struct load *ld)
{
	struct sysg_config *cfg = ld->cw.cfg;

	take_scope(&cfg->env, &ld->x.root);
	for (size_t i = 0; i < cfg->nservices && i < ld->x.nsvc; i++)
		take_scope(&cfg->services[i].env, &ld->x.svc[i]);
}

static void finish(struct load *ld)
{
	if (ld->cw.w.aborted)
		return;
	take_scopes(ld);
	resolve_logs(ld->cw.cfg);
	resolve_paths(ld);
	if (!ld->cw.w.nomem)
		build_envs(ld);
	if (!ld->cw.w.nomem)
		load_includes(ld);
	if (!ld->cw.w.nomem)
		load_projects(ld);
	if (!ld->cw.w.nomem && !ld->included)
		resolve_deps(ld);
	sysg_yw_pop(&ld->cw.w, 0);
}

/* Walk ROOT of DOC (the text BUF) into CFG: the whole file, or the map of
 * project PROJECT (its keys under "projects.PROJECT"). */
static int load_tree(struct sysg_config *cfg, yaml_document_t *doc,
		     yaml_node_t *root, const char *buf, size_t len,
		     unsigned flags, const struct include_chain *chain,
		     int included, const char *project, struct sysg_diag *diag)
{
	struct load ld;

	memset(&ld, 0, sizeof(ld));
	sysg_yw_init(&ld.cw.w, diag, cfg->path, doc);
	ld.cw.w.strict = !!(flags & SYSG_CONFIG_STRICT);
	ld.cw.w.src = buf;
	ld.cw.w.srclen = len;
	ld.cw.cfg = cfg;
	ld.cw.project = !!project;
	ld.chain = chain;
	ld.flags = flags;
	ld.included = included;
	ld.project = project;
	ld.doc = doc;
	ld.src = buf;
	ld.srclen = len;
	if (project) {
		sysg_yw_push_key(&ld.cw.w, "projects");
		sysg_yw_push_key(&ld.cw.w, project);
		ld.cw.w.base = ld.cw.w.pathlen;
	}
	if (sysg_expand_prepare(&ld.x, &ld.cw.w, root, cfg->dir))
		sysg_yw_nomem(&ld.cw.w);
	ld.cw.x = &ld.x;
	ld.cw.w.expand = sysg_expand_hook;
	ld.cw.w.expand_arg = &ld.x;
	if (!ld.cw.w.nomem)
		sysg_config_walk_root(&ld.cw, root);
	finish(&ld);
	if (project && !ld.cw.w.errors && !ld.cw.w.nomem) {
		int rc = sysg_project_qualify_all(cfg, project,
						  ld.cw.project_name);

		if (rc == -ENAMETOOLONG)
			sysg_yw_error(&ld.cw.w, NULL, "a service name is too "
				      "long with '@%s'", project);
		else if (rc < 0)
			sysg_yw_nomem(&ld.cw.w);
	}
	includes_free(&ld);
	sysg_expand_free(&ld.x);
	sysg_strset_free(&ld.bad_env_files);
	if (ld.cw.w.nomem)
		return -ENOMEM;
	return ld.cw.w.errors ? -EINVAL : 0;
}

static int load_document(struct sysg_config *cfg, const char *buf,
			 size_t len, unsigned flags,
			 const struct include_chain *chain, int included,
			 struct sysg_diag *diag)
{
	yaml_document_t doc;
	int rc;

	if (len > (size_t)MAX_FILE_BYTES) {
		sysg_diag_error(diag, cfg->path, 0, 0, NULL,
				"the file is too large (%zu bytes, at most %ld)",
				len, MAX_FILE_BYTES);
		return -EFBIG;
	}
	rc = sysg_yw_load(cfg->path, buf, len, &doc, diag);
	if (rc)
		return rc;
	rc = load_tree(cfg, &doc, yaml_document_get_root_node(&doc), buf, len,
		       flags, chain, included, NULL, diag);
	yaml_document_delete(&doc);
	return rc;
}

static int fill_defaults(struct sysg_config *cfg)
{
	if (!cfg->state_backend)
		cfg->state_backend = strdup("xml");
	return cfg->state_backend ? 0 : -ENOMEM;
}

/* Allocate a config named NAME in directory DIR (absolute). */
static struct sysg_config *config_new(const char *name, const char *abs_path,
				      const char *dir)
{
	struct sysg_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->path = strdup(name);
	cfg->abs_path = abs_path ? strdup(abs_path) : NULL;
	cfg->dir = dir ? strdup(dir) : NULL;
	if (!cfg->path || !cfg->abs_path || !cfg->dir) {
		sysg_config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* Load the top file of a config (REAL: its canonical path, or NULL). */
static int load_into(struct sysg_config *cfg, const char *buf, size_t len,
		     unsigned flags, const char *real,
		     struct sysg_config **out, struct sysg_diag *diag)
{
	struct include_chain top = { NULL, real, cfg->path, 0 };
	int rc = load_document(cfg, buf, len, flags, &top, 0, diag);

	if (rc == 0)
		rc = fill_defaults(cfg);
	if (rc == 0)
		rc = sysg_project_own(cfg, !!(flags & SYSG_CONFIG_JOINED));
	if (rc == -EEXIST) {
		sysg_diag_error(diag, cfg->path, 0, 0, "projects", "a project "
				"has the id this file's own services get when "
				"it joins a supervisor");
		rc = -EINVAL;
	}
	if (rc == 0 && !(cfg->text = malloc(len + 1)))
		rc = -ENOMEM;
	if (rc == 0) {
		memcpy(cfg->text, buf, len);
		cfg->text[len] = '\0';
		cfg->textlen = len;
	}
	if (rc) {
		if (rc == -ENOMEM && !sysg_diag_count(diag))
			sysg_diag_error(diag, cfg->path, 0, 0, NULL, "out of memory");
		sysg_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

int sysg_config_load_buffer(const char *name, const char *base_dir,
			    const char *buf, size_t len,
			    struct sysg_config **out, struct sysg_diag *diag)
{
	return sysg_config_load_buffer_flags(name, base_dir, buf, len, 0, out,
					     diag);
}

int sysg_config_load_buffer_flags(const char *name, const char *base_dir,
				  const char *buf, size_t len, unsigned flags,
				  struct sysg_config **out,
				  struct sysg_diag *diag)
{
	const char *slash = strrchr(name, '/');
	char *dir = sysg_path_abs(NULL, base_dir ? base_dir : ".");
	char *abs = dir ? sysg_path_abs(dir, slash ? slash + 1 : name) : NULL;
	struct sysg_config *cfg = abs ? config_new(name, abs, dir) : NULL;

	*out = NULL;
	free(dir);
	free(abs);
	if (!cfg) {
		sysg_diag_error(diag, name, 0, 0, NULL, "out of memory");
		return -ENOMEM;
	}
	return load_into(cfg, buf, len, flags, NULL, out, diag);
}

int sysg_config_load(const char *path, struct sysg_config **out,
		     struct sysg_diag *diag)
{
	return sysg_config_load_flags(path, 0, out, diag);
}

int sysg_config_load_flags(const char *path, unsigned flags,
			   struct sysg_config **out, struct sysg_diag *diag)
{
	char *abs = sysg_path_abs(NULL, path), *dir, *buf = NULL, *real;
	struct sysg_config *cfg;
	size_t len = 0;
	int rc;

	*out = NULL;
	dir = abs ? sysg_path_dirname(abs) : NULL;
	cfg = dir ? config_new(path, abs, dir) : NULL;
	free(abs);
	free(dir);
	if (!cfg) {
		sysg_diag_error(diag, path, 0, 0, NULL, "out of memory");
		return -ENOMEM;
	}
	/* a FIFO or device named here must never block the supervisor */
	rc = sysg_read_regular(path, (size_t)MAX_FILE_BYTES, &buf, &len);
	if (rc) {
		if (rc == -EFBIG)
			sysg_diag_error(diag, path, 0, 0, NULL, "the file is too "
					"large (at most %ld bytes)", MAX_FILE_BYTES);
		else
			sysg_diag_error(diag, path, 0, 0, NULL, "cannot read the "
					"config: %s", rc == -EINVAL ?
					"not a regular file" : strerror(-rc));
		sysg_config_free(cfg);
		return rc;
	}
	real = realpath(path, NULL);
	rc = load_into(cfg, buf, len, flags, real, out, diag);
	free(real);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------ queries */

char *sysg_config_find_default(const char *dir)
{
	static const char *const names[] = { "systemg.yaml", "sysg.yaml" };

	for (size_t i = 0; i < 2; i++) {
		char *p = dir ? sysg_path_join(dir, names[i]) : strdup(names[i]);

		if (p && access(p, F_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

const char *sysg_service_file(const struct sysg_config *cfg,
			      const struct sysg_service *svc)
{
	return svc->file ? svc->file : cfg->path;
}

int sysg_config_find_service(const struct sysg_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nservices; i++)
		if (cfg->services[i].name && !strcmp(cfg->services[i].name, name))
			return (int)i;
	return -1;
}

void sysg_config_unknown_service(const struct sysg_config *cfg,
				 const char *name, char *buf, size_t len)
{
	const char *names[257], *hint = NULL;
	size_t n = 0;

	for (size_t i = 0; cfg && i < cfg->nservices && n < 256; i++)
		names[n++] = cfg->services[i].name;
	names[n] = NULL;
	hint = sysg_suggest(name, names);
	snprintf(buf, len, "unknown service '%s'%s%s%s", name,
		 hint ? " (did you mean '" : "", hint ? hint : "",
		 hint ? "'?)" : "");
}

size_t sysg_config_instances(const struct sysg_config *cfg, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->nservices; i++)
		n += cfg->services[i].instance_of &&
		     !strcmp(cfg->services[i].instance_of, name);
	return n;
}

int sysg_config_knows(const struct sysg_config *cfg, const char *name)
{
	return sysg_config_find_service(cfg, name) >= 0 ||
	       sysg_config_instances(cfg, name) > 0;
}

int sysg_service_is_cron(const struct sysg_service *svc)
{
	return svc->cron.present;
}

/* --------------------------------------------------------------- free */

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void free_kv(struct sysg_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
		free(kv[i].item_marks);
	}
	free(kv);
}

static void free_env_spec(struct sysg_env_spec *e)
{
	free(e->file);
	free_kv(e->vars, e->nvars);
}

static void free_health(struct sysg_health *h)
{
	free(h->command);
	free(h->url);
}

static void free_hooks(struct sysg_hooks *h)
{
	struct sysg_hook_pair *pairs[] = { &h->on_start, &h->on_stop,
					   &h->on_restart };

	for (size_t i = 0; i < 3; i++) {
		free(pairs[i]->success.command);
		free(pairs[i]->error.command);
	}
}

static void free_deployment(struct sysg_deployment *d)
{
	free(d->strategy);
	free(d->pre_start);
	free_health(&d->health);
	for (size_t i = 0; i < d->nsections; i++) {
		free(d->sections[i].name);
		free_kv(d->sections[i].options, d->sections[i].noptions);
	}
	free(d->sections);
}

void sysg_service_free(struct sysg_service *s)
{
	free(s->name);
	free(s->file);
	free(s->command);
	free(s->command_raw);
	free_env_spec(&s->env);
	sysg_env_frozen_free(s->envp);
	free_strv(s->depends_on, s->ndepends_on);
	free(s->depends_on_marks);
	free_health(&s->health);
	free(s->skip_command);
	free_hooks(&s->hooks);
	free_deployment(&s->deployment);
	free(s->cron.expression);
	free(s->cron.timezone);
	free(s->user);
	free(s->group);
	free_strv(s->supplementary_groups, s->nsupplementary_groups);
	free(s->limits.cpu_affinity);
	free(s->limits.cgroup.root);
	free(s->limits.cgroup.cpu_max);
	free_strv(s->capabilities, s->ncapabilities);
	free(s->isolation.seccomp);
	free(s->isolation.apparmor_profile);
	free(s->isolation.selinux_context);
	sysg_listen_free(s->listen, s->nlisten);
	free(s->workdir);
	free(s->instance_of);
	free(s->project);
}

void sysg_config_free(struct sysg_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nservices; i++)
		sysg_service_free(&cfg->services[i]);
	free(cfg->services);
	sysg_graph_free_waves(cfg->waves, cfg->wave_sizes, cfg->nwaves);
	for (size_t i = 0; i < cfg->nunits; i++)
		sysg_config_free(cfg->units[i]);
	free(cfg->units);
	sysg_project_free_all(cfg);
	free(cfg->text);
	free(cfg->path);
	free(cfg->abs_path);
	free(cfg->dir);
	free(cfg->project_dir);
	free(cfg->version);
	free_env_spec(&cfg->env);
	free(cfg->state_backend);
	free(cfg->state_path);
	free(cfg->metrics.spillover_path);
	free(cfg->metrics.textfile);
	free(cfg);
}
