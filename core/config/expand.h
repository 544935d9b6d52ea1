/* expand.h - whole-file $NAME / ${NAME} expansion for the config loader
 * (SPEC 11; internal to the config wing).
 *
 * systemg 0.32 applies the env files and vars to its own environment, then
 * substitutes every reference in the file's text and parses it again. sysg
 * keeps the outcome and drops the hazards:
 *  - a pre-pass over the document builds the environment each part of the
 *    file sees (the root: the process environment, then env.file, then the
 *    env variables; a service: the root's, then its own env file and
 *    variables); a variable's value may refer to the ones before it;
 *  - the schema walk then reads every scalar value through
 *    sysg_expand_hook(), in the scope of the service it belongs to, so
 *    numbers, durations, paths, URLs, names... all see the values, while
 *    positions stay those of the file as written;
 *  - values are substituted into data only: a command run by a shell keeps
 *    its references for that shell (env.h: sysg_env_shell), and YAML never
 *    re-parses a value;
 *  - an unset name is "FILE:LINE:COL: error: KEY.PATH: unset variable"
 *    pointing at the reference (systemg panics).
 */
#ifndef SYSG_EXPAND_H
#define SYSG_EXPAND_H

#include <yaml.h>

#include "config.h"
#include "yamlwalk.h"

/* Every service gets its own copy of the root environment: at most this
 * many variables in all (services x root variables), else the loader
 * refuses the file and no service scope is built. */
#define SYSG_MAX_ENV_COPIES 4000000

/* What the references of one part of the file see. */
struct sysg_scope {
	char **env;
	int incomplete;         /* an env file did not load: that is reported
	                           by the loader, unset names are not */
	char *late;             /* set at run time: blue_green's env_var */
	char *file;             /* env.file after expansion, as written */
	struct sysg_kv *vars;   /* flattened entries then vars, expanded */
	size_t nvars;
};

struct sysg_expand {
	struct sysg_scope root;
	struct sysg_scope *svc; /* in the order of the services map */
	size_t nsvc;
	struct sysg_scope *cur;
	char **arena;           /* expanded texts handed to the walk */
	size_t narena;
};

/* Build the scopes from document ROOT; unset names in env blocks are
 * reported through W (the loader's walker, whose diagnostics count).
 * DIR is the config's directory. 0 or -ENOMEM. */
int sysg_expand_prepare(struct sysg_expand *x, struct sysg_yw *w,
			yaml_node_t *root, const char *dir);

/* Make service I's scope current (SIZE_MAX: the root's). */
void sysg_expand_enter(struct sysg_expand *x, size_t i);

/* The walker's expansion hook (struct sysg_yw's expand, with expand_arg
 * pointing at a prepared struct sysg_expand). */
const char *sysg_expand_hook(struct sysg_yw *w, const yaml_node_t *n,
			     const char *s);

void sysg_expand_free(struct sysg_expand *x);

#endif
