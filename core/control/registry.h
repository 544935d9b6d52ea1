/* registry.h - the files that joined a resident supervisor (a second
 * `sysg start -c FILE`, config/project.h), kept in STATE_DIR/projects:
 * one absolute path per line, rewritten atomically at each change and
 * removed when the supervisor ends after a full stop. A supervisor that
 * starts while the file exists (it died, or a live upgrade execs the new
 * binary) joins those files again, so their services are adopted like
 * the first file's. */
#ifndef SYSG_REGISTRY_H
#define SYSG_REGISTRY_H

#include <stddef.h>

#include <jansson.h>

#include "config/config.h"

#define SYSG_FILE_PROJECTS "projects"

/* Write the joined files of CFG (none: remove the file). 0 or -errno. */
int sysg_registry_save(const char *state_dir, const struct sysg_config *cfg);

/* Remove STATE_DIR/projects. */
void sysg_registry_remove(const char *state_dir);

/* Join the files listed in STATE_DIR/projects to *CFG (replaced by the
 * new config). A file that does not load or join any more is left out,
 * with one line in NOTES (may be NULL). Returns how many joined. */
int sysg_registry_rejoin(const char *state_dir, struct sysg_config **cfg,
			 struct sysg_diag *notes);

/* The projects of CFG as the control socket's ping shows them:
 * [{"id", "name", "file", "plain"}...]. NULL: out of memory. */
json_t *sysg_projects_json(const struct sysg_config *cfg);

#endif
