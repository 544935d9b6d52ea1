/* registry.c - the files that joined a resident supervisor (registry.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry.h"
#include "base/base.h"

#define REGISTRY_MAX (1L << 20)

int sysg_registry_save(const char *state_dir, const struct sysg_config *cfg)
{
	const char **files = calloc(cfg->njoined + 1, sizeof(*files));
	char *text = NULL;
	size_t len = 0, n;
	FILE *f;
	int rc;

	if (!files)
		return -ENOMEM;
	n = sysg_config_joined_files(cfg, files, cfg->njoined);
	if (n == 0) {
		free(files);
		sysg_registry_remove(state_dir);
		return 0;
	}
	f = open_memstream(&text, &len);
	for (size_t i = 0; f && i < n; i++)
		fprintf(f, "%s\n", files[i]);
	if (f)
		fclose(f);
	free(files);
	rc = f && text ? sysg_write_file_atomic(state_dir, SYSG_FILE_PROJECTS,
						text) : -ENOMEM;
	free(text);
	return rc;
}

void sysg_registry_remove(const char *state_dir)
{
	char *p = sysg_path_join(state_dir, SYSG_FILE_PROJECTS);

	if (p)
		unlink(p);
	free(p);
}

/* Join PATH to *CFG. 0, or -1 with a line in NOTES. */
static int rejoin_one(const char *path, struct sysg_config **cfg,
		      struct sysg_diag *notes)
{
	struct sysg_config *j = NULL, *nc = NULL;
	struct sysg_diag d;
	char err[SYSG_ERR_MAX] = "";
	int rc;

	if ((*cfg)->abs_path && !strcmp((*cfg)->abs_path, path))
		return 0;       /* the supervisor's own file now */
	sysg_diag_init(&d);
	rc = sysg_config_load_flags(path, SYSG_CONFIG_JOINED, &j, &d);
	if (rc < 0)
		snprintf(err, sizeof(err), "%s", d.n ? d.lines[0] :
			 strerror(-rc));
	sysg_diag_free(&d);
	if (rc == 0)
		rc = sysg_config_join(*cfg, j, &nc, err, sizeof(err));
	sysg_config_free(j);
	if (rc < 0) {
		if (notes)
			sysg_diag_error(notes, path, 0, 0, NULL, "not joined "
					"again: %s", err);
		return -1;
	}
	sysg_config_free(*cfg);
	*cfg = nc;
	return 0;
}

int sysg_registry_rejoin(const char *state_dir, struct sysg_config **cfg,
			 struct sysg_diag *notes)
{
	char *p = sysg_path_join(state_dir, SYSG_FILE_PROJECTS);
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	int n = 0;

	if (!p || sysg_read_regular(p, (size_t)REGISTRY_MAX, &text, &len) < 0) {
		free(p);
		return 0;
	}
	free(p);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (line[0] == '/' && rejoin_one(line, cfg, notes) == 0)
			n++;
	free(text);
	return n;
}

json_t *sysg_projects_json(const struct sysg_config *cfg)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < cfg->nprojects; i++) {
		const struct sysg_project *p = &cfg->projects[i];

		if (json_array_append_new(a, json_pack("{s:s, s:s?, s:s?, s:b}",
						       "id", p->id, "name",
						       p->name, "file", p->file,
						       "plain", p->plain)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}
