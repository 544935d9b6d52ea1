/* expand.c - whole-file $VAR expansion for the config loader; see
 * expand.h. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "expand.h"

extern char **environ;

/* ----------------------------------------------------------- reporting */

struct allow {
	const struct sysg_scope *sc;
	int mode;
};

/* Variables sysg itself puts in a command's environment when it runs it
 * (instances, deploys, socket activation, readiness notification). */
static const char *const run_time_names[] = {
	"SYSG_INSTANCE", "SYSG_SERVICE_NAME", "SYSG_ACTIVE_SLOT",
	"SYSG_CANDIDATE_SLOT", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
	"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", NULL,
};

/* Names a scan accepts unset: none when an env file of the scope failed
 * (that failure is the error), and in commands the ones sysg sets when it
 * runs them. */
static int allowed(const char *name, size_t len, void *arg)
{
	const struct allow *a = arg;

	if (a->sc->incomplete)
		return 1;
	if (a->mode != SYSG_YW_SHELL && a->mode != SYSG_YW_COMMAND)
		return 0;
	for (size_t i = 0; run_time_names[i]; i++)
		if (strlen(run_time_names[i]) == len &&
		    !strncmp(run_time_names[i], name, len))
			return 1;
	return a->sc->late && strlen(a->sc->late) == len &&
	       !strncmp(a->sc->late, name, len);
}

static void report_unset(struct sysg_yw *w, const yaml_node_t *n,
			 const char *s, const struct sysg_env_scan *scan)
{
	char ref[SYSG_YW_PATH_MAX], q[80];
	size_t len = scan->bad_len < sizeof(ref) ? scan->bad_len :
		     sizeof(ref) - 1;
	const char *name;
	int line, col;

	memcpy(ref, s + scan->bad_off, len);
	ref[len] = '\0';
	line = sysg_yw_line(n);
	col = sysg_yw_col(n);
	/* finding the column reads the source: only for a line kept */
	if (w->diag->n < SYSG_DIAG_MAX)
		sysg_yw_value_pos(w, n, scan->bad_off, ref, &line, &col);
	name = ref + (ref[1] == '{' ? 2 : 1);
	if (ref[1] == '{' && len > 2)
		ref[len - 1] = '\0';
	sysg_yw_error_at(w, line, col,
			 "unset variable '%s' (set it in the environment, an env file or env vars; write '$$' for a literal '$')",
			 sysg_yw_quote(name, q, sizeof(q)));
}

/* Expand S (the text of N) for MODE in scope SC. Returns a malloc'd
 * string, or NULL (reported through W). */
static char *expand_in(struct sysg_yw *w, const struct sysg_scope *sc,
		       const yaml_node_t *n, const char *s, int mode)
{
	struct allow a = { sc, mode };
	struct sysg_env_scan scan = { .env = sc->env, .allowed = allowed,
				      .arg = &a };
	char *out = NULL;
	int rc;

	if (mode == SYSG_YW_SHELL)
		rc = sysg_env_shell(s, &scan, &out);
	else if (mode == SYSG_YW_COMMAND)
		rc = sysg_env_command(s, &scan, &out);
	else
		rc = sysg_env_subst(s, &scan, &out);
	if (rc == -ENOENT)
		report_unset(w, n, s, &scan);
	else if (rc)
		sysg_yw_nomem(w);
	return out;
}

const char *sysg_expand_hook(struct sysg_yw *w, const yaml_node_t *n,
			     const char *s)
{
	struct sysg_expand *x = w->expand_arg;
	char **grown, *out;

	if (!x || !x->cur || !strchr(s, '$'))
		return s;
	out = expand_in(w, x->cur, n, s, w->mode);
	if (!out)
		return NULL;
	grown = realloc(x->arena, (x->narena + 1) * sizeof(*grown));
	if (!grown) {
		free(out);
		sysg_yw_nomem(w);
		return NULL;
	}
	x->arena = grown;
	x->arena[x->narena++] = out;
	return out;
}

void sysg_expand_enter(struct sysg_expand *x, size_t i)
{
	x->cur = i == SIZE_MAX ? &x->root : i < x->nsvc ? &x->svc[i] : NULL;
}

/* ------------------------------------------------------------- scopes */

/* The pre-pass reads the document with its own walker whose structural
 * complaints are dropped (the schema walk reports them); only unset names
 * go to the loader's walker W. */
struct prep {
	struct sysg_yw *w;              /* reports */
	struct sysg_yw quiet;           /* reads */
	struct sysg_diag dropped;
	const char *dir;                /* the config's directory */
	char *project_dir;              /* absolute */
};

static const yaml_node_t *map_get(struct prep *p, yaml_node_t *map,
				  const char *key)
{
	struct sysg_yw_pair *pairs;
	const yaml_node_t *v = NULL;
	size_t n;

	if (!map || sysg_yw_map_pairs(&p->quiet, map, &pairs, &n))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(pairs[i].name, key))
			v = pairs[i].val;
	free(pairs);
	return v;
}

/* The text of scalar N expanded in SC, or NULL (reported) / not a
 * string. */
static char *prep_text(struct prep *p, struct sysg_scope *sc,
		       const yaml_node_t *n)
{
	const char *s = sysg_yw_scalar(n);

	if (!s || sysg_yw_is_null(n) || strlen(s) != n->data.scalar.length)
		return NULL;
	return expand_in(p->w, sc, n, s, SYSG_YW_TEXT);
}

static int scope_set(struct sysg_scope *sc, const char *key, char *value,
		     const yaml_node_t *at)
{
	struct sysg_kv *grown = realloc(sc->vars, (sc->nvars + 1) *
					sizeof(*grown));
	char *k = strdup(key);

	if (grown)
		sc->vars = grown;
	if (!grown || !k || sysg_env_set(&sc->env, key, value)) {
		free(k);
		free(value);
		return -ENOMEM;
	}
	sc->vars[sc->nvars++] = (struct sysg_kv){ .key = k, .value = value,
		.mark = { sysg_yw_line(at), sysg_yw_col(at) } };
	return 0;
}

/* One variable KEY: VALUE of an env block, under key path PATH. */
static int prep_var(struct prep *p, struct sysg_scope *sc, const char *key,
		    const yaml_node_t *v)
{
	size_t old = sysg_yw_push_key(p->w, key);
	char *value = sysg_yw_is_null(v) ? strdup("") : prep_text(p, sc, v);

	sysg_yw_pop(p->w, old);
	if (!value || !sysg_env_valid_name(key))
		return free(value), 0;
	return scope_set(sc, key, value, v);
}

static int prep_vars_map(struct prep *p, struct sysg_scope *sc,
			 yaml_node_t *map)
{
	struct sysg_yw_pair *pairs;
	size_t n, old = sysg_yw_push_key(p->w, "vars");
	int rc = 0;

	if (map && map->type == YAML_MAPPING_NODE &&
	    sysg_yw_map_pairs(&p->quiet, map, &pairs, &n) == 0) {
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = prep_var(p, sc, pairs[i].name, pairs[i].val);
		free(pairs);
	}
	sysg_yw_pop(p->w, old);
	return rc;
}

static void prep_file(struct prep *p, struct sysg_scope *sc,
		      const yaml_node_t *v)
{
	size_t old = sysg_yw_push_key(p->w, "file");
	char *file = v ? prep_text(p, sc, v) : NULL, *abs;
	char buf[96];

	sysg_yw_pop(p->w, old);
	if (!file)
		return;
	abs = sysg_path_abs(p->project_dir ? p->project_dir : p->dir, file);
	if (!abs || sysg_env_file_problem(abs, buf, sizeof(buf)) ||
	    sysg_env_file_apply(abs, NULL, &sc->env, &p->dropped))
		sc->incomplete = 1;
	free(sc->file);
	sc->file = file;
	free(abs);
}

/* An env block: the file, then the entries written directly in it, then
 * vars (which win), each value seeing the ones before. */
static int prep_env(struct prep *p, struct sysg_scope *sc, yaml_node_t *env)
{
	struct sysg_yw_pair *pairs;
	size_t n, old;
	int rc = 0;

	if (!env || env->type != YAML_MAPPING_NODE)
		return 0;
	old = sysg_yw_push_key(p->w, "env");
	if (sysg_yw_map_pairs(&p->quiet, env, &pairs, &n) == 0) {
		prep_file(p, sc, map_get(p, env, "file"));
		for (size_t i = 0; i < n && rc == 0; i++)
			if (strcmp(pairs[i].name, "file") &&
			    strcmp(pairs[i].name, "vars") &&
			    pairs[i].val->type == YAML_SCALAR_NODE)
				rc = prep_var(p, sc, pairs[i].name,
					      pairs[i].val);
		if (rc == 0)
			rc = prep_vars_map(p, sc, (yaml_node_t *)map_get(p, env, "vars"));
		free(pairs);
	}
	sysg_yw_pop(p->w, old);
	return rc;
}

/* blue_green's env_var is set when the strategy runs the command. */
static int prep_late(struct prep *p, struct sysg_scope *sc,
		     yaml_node_t *svc)
{
	const yaml_node_t *bg = map_get(p, (yaml_node_t *)map_get(p, svc,
						"deployment"), "blue_green");
	const yaml_node_t *var = bg && bg->type == YAML_MAPPING_NODE ?
				 map_get(p, (yaml_node_t *)bg, "env_var") : NULL;
	const char *name = var ? sysg_yw_scalar(var) : NULL;

	if (!bg)
		return 0;
	sc->late = strdup(name ? name : "PORT");
	return sc->late ? 0 : -ENOMEM;
}

static int scope_from(struct sysg_scope *sc, char *const *env)
{
	sc->env = sysg_env_dup(env);
	return sc->env ? 0 : -ENOMEM;
}

static int prep_services(struct prep *p, struct sysg_expand *x,
			 yaml_node_t *services)
{
	struct sysg_yw_pair *pairs;
	size_t n, old, nroot = 0;
	int rc = 0;

	while (x->root.env[nroot])
		nroot++;
	if (!services || sysg_yw_map_pairs(&p->quiet, services, &pairs, &n))
		return 0;
	if (n > SYSG_MAX_ENV_COPIES / (nroot ? nroot : 1)) {
		free(pairs);    /* refused by the loader: no scopes */
		return 0;
	}
	x->svc = calloc(n ? n : 1, sizeof(*x->svc));
	if (!x->svc) {
		free(pairs);
		return -ENOMEM;
	}
	old = sysg_yw_push_key(p->w, "services");
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct sysg_scope *sc = &x->svc[x->nsvc++];
		size_t o = sysg_yw_push_key(p->w, pairs[i].name);
		yaml_node_t *svc = pairs[i].val;

		sc->incomplete = x->root.incomplete;
		rc = scope_from(sc, x->root.env);
		if (rc == 0 && svc->type == YAML_MAPPING_NODE)
			rc = prep_env(p, sc, (yaml_node_t *)map_get(p, svc, "env"));
		if (rc == 0 && svc->type == YAML_MAPPING_NODE)
			rc = prep_late(p, sc, svc);
		sysg_yw_pop(p->w, o);
	}
	sysg_yw_pop(p->w, old);
	free(pairs);
	return rc;
}

static void prep_project_dir(struct prep *p, struct sysg_scope *sc,
			     yaml_node_t *root)
{
	const yaml_node_t *v = map_get(p, root, "project_dir");
	struct sysg_env_scan scan = { .env = sc->env };
	const char *s = v ? sysg_yw_scalar(v) : NULL;
	char *pd = NULL;

	/* unset names are reported by the schema walk */
	if (s && sysg_env_subst(s, &scan, &pd) == 0)
		p->project_dir = sysg_path_abs(p->dir, pd);
	free(pd);
}

int sysg_expand_prepare(struct sysg_expand *x, struct sysg_yw *w,
			yaml_node_t *root, const char *dir)
{
	struct prep p = { .w = w, .dir = dir };
	int rc;

	memset(x, 0, sizeof(*x));
	sysg_diag_init(&p.dropped);
	sysg_yw_init(&p.quiet, &p.dropped, w->file, w->doc);
	rc = scope_from(&x->root, environ);
	if (rc == 0 && root && root->type == YAML_MAPPING_NODE) {
		prep_project_dir(&p, &x->root, root);
		rc = prep_env(&p, &x->root, (yaml_node_t *)map_get(&p, root, "env"));
		if (rc == 0)
			rc = prep_services(&p, x, (yaml_node_t *)map_get(&p, root, "services"));
	}
	sysg_yw_pop(w, 0);
	sysg_diag_free(&p.dropped);
	free(p.project_dir);
	x->cur = &x->root;
	return rc;
}

static void scope_free(struct sysg_scope *sc)
{
	sysg_env_free(sc->env);
	free(sc->late);
	free(sc->file);
	for (size_t i = 0; i < sc->nvars; i++) {
		free(sc->vars[i].key);
		free(sc->vars[i].value);
	}
	free(sc->vars);
}

void sysg_expand_free(struct sysg_expand *x)
{
	scope_free(&x->root);
	for (size_t i = 0; i < x->nsvc; i++)
		scope_free(&x->svc[i]);
	free(x->svc);
	for (size_t i = 0; i < x->narena; i++)
		free(x->arena[i]);
	free(x->arena);
	memset(x, 0, sizeof(*x));
}
