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
	char **includes;                /* `include:` entries, as written */
	struct sysg_mark *include_marks;
	size_t nincludes;
};

/* Walk ROOT (the document's root node) into CW->cfg. Problems are
 * counted in CW->w.errors; allocation failure sets CW->w.nomem. */
void sysg_config_walk_root(struct sysg_config_walk *cw, yaml_node_t *root);

#endif
