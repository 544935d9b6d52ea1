/* config_schema.h - the schema walk of a sysg config (internal to the
 * config loader, config.c).
 *
 * sysg_config_walk_root() reads every key of a loaded YAML document into
 * a struct sysg_config, filling defaults and reporting each problem under
 * its key path. It resolves nothing outside the document: paths stay as
 * written, environments are not merged, depends_on names are not checked
 * against the services; config.c does that afterwards. */
#ifndef SYSG_CONFIG_SCHEMA_H
#define SYSG_CONFIG_SCHEMA_H

#include <yaml.h>

#include "config.h"
#include "yamlwalk.h"

struct sysg_expand;

struct sysg_config_walk {
	struct sysg_yw w;               /* walker, key path, error count */
	struct sysg_config *cfg;        /* filled in */
	yaml_node_t *project_dir_node;  /* for errors found later */
	struct sysg_expand *x;          /* $VAR scopes, or NULL */
	struct sysg_include *includes;  /* `include:` entries and `!include`
	                                   tags, in file order */
	size_t nincludes;
	struct sysg_walk_project *projects;     /* `projects:` maps */
	size_t nprojects;
	int project;                    /* walking a project's map: its keys
	                                   (name, env, project_dir, services) */
	char *project_name;             /* projects.ID.name */
};

/* A file to load and take the services of: an `include:` entry, or a
 * `!include FILE` tag (as the value of `services` or of a project). */
struct sysg_include {
	char *file;                     /* as written */
	struct sysg_mark mark;
	char *keypath;                  /* for messages: "include[0]" */
	char *project;                  /* a project's: its id; else NULL */
};

/* One entry of `projects:` written in place (not `!include`). */
struct sysg_walk_project {
	char *id;
	yaml_node_t *node;              /* its map */
	struct sysg_mark mark;          /* of its key */
};


/* Walk ROOT (the document's root node) into CW->cfg. Problems are
 * counted in CW->w.errors; allocation failure sets CW->w.nomem. */
void sysg_config_walk_root(struct sysg_config_walk *cw, yaml_node_t *root);

#endif
