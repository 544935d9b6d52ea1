/* projects.c - -p/--project ID: the project a command is about (cli.h,
 * config/project.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "config/config.h"
#include "control/control.h"
#include "base/base.h"

int sysg_cli_load_config(const char *path, unsigned flags,
			 const char *state_dir, struct sysg_config **out,
			 struct sysg_diag *diag)
{
	int rc = sysg_config_load_flags(path, flags, out, diag);

	if (rc == 0 && state_dir)
		sysg_registry_rejoin(state_dir, out, NULL);
	return rc;
}

/* Without a supervisor: the projects of the config (and of the files
 * that joined the last one). */
static json_t *offline_projects(const struct sysg_cli *c, const char *state_dir)
{
	char *path = sysg_cli_config_find(c, 1);
	struct sysg_config *cfg = NULL;
	struct sysg_diag d;
	json_t *a = NULL;

	sysg_diag_init(&d);
	if (path && sysg_cli_load_config(path, 0, state_dir, &cfg, &d) == 0)
		a = sysg_projects_json(cfg);
	sysg_diag_free(&d);
	sysg_config_free(cfg);
	free(path);
	return a ? a : json_array();
}

static int path_like(const char *s)
{
	size_t n = strlen(s);

	return strchr(s, '/') || (n > 5 && !strcmp(s + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(s + n - 4, ".yml"));
}

/* The entry of LIST that ARG names: its id, or the file of a file's own
 * services. */
static json_t *find(json_t *list, const char *arg)
{
	char own[SYSG_PROJECT_ID_MAX + 1];
	json_t *p, *found = NULL;
	char *abs;
	size_t i;

	json_array_foreach(list, i, p)
		if (!strcmp(json_string_value(json_object_get(p, "id")) ?: "",
			    arg))
			return p;
	if (!path_like(arg) || !(abs = sysg_path_abs(NULL, arg)))
		return NULL;
	sysg_project_id_of_file(abs, own, sizeof(own));
	json_array_foreach(list, i, p) {
		const char *id = json_string_value(json_object_get(p, "id"));
		const char *file = json_string_value(json_object_get(p, "file"));

		if (!found && id && file && !strcmp(id, own) &&
		    !strcmp(file, abs))
			found = p;
	}
	free(abs);
	return found;
}

static void unknown(const char *arg, json_t *list)
{
	char names[512] = "";
	size_t used = 0, i;
	json_t *p;

	json_array_foreach(list, i, p)
		if (used < sizeof(names))
			used += (size_t)snprintf(names + used, sizeof(names) - used,
						 "%s%s", i ? ", " : "",
						 json_string_value(json_object_get(
							 p, "id")));
	sysg_cli_error("unknown project '%s' (projects: %s)", arg,
		       used ? names : "none");
}

int sysg_cli_project_resolve(struct sysg_cli *c)
{
	char state_dir[SYSG_PATH_MAX];
	json_t *reply = NULL, *d, *list, *p;
	int rc = sysg_state_dir(c->sys, state_dir, sizeof(state_dir));

	if (rc < 0) {
		sysg_cli_error("cannot determine the state directory: %s",
			       strerror(-rc));
		return SYSG_EXIT_FAILED;
	}
	d = sysg_cli_ping_data(state_dir, &reply);
	list = d ? json_incref(json_object_get(d, "projects")) : NULL;
	if (!list)
		list = offline_projects(c, state_dir);
	json_decref(reply);
	p = find(list, c->project);
	if (!p) {
		unknown(c->project, list);
		json_decref(list);
		return SYSG_EXIT_USAGE;
	}
	snprintf(c->project_id, sizeof(c->project_id), "%s",
		 json_string_value(json_object_get(p, "id")));
	c->project_plain = json_is_true(json_object_get(p, "plain"));
	json_decref(list);
	c->project = c->project_id;
	if (!c->service)
		return 0;
	if (c->project_plain || strchr(c->service, SYSG_PROJECT_SEP))
		rc = snprintf(c->project_service, sizeof(c->project_service),
			      "%s", c->service);
	else
		rc = snprintf(c->project_service, sizeof(c->project_service),
			      "%s%c%s", c->service, SYSG_PROJECT_SEP,
			      c->project_id);
	if (rc < 0 || (size_t)rc >= sizeof(c->project_service)) {
		sysg_cli_error("service name too long: %s", c->service);
		return SYSG_EXIT_USAGE;
	}
	c->service = c->project_service;
	return 0;
}

int sysg_cli_in_project(const struct sysg_cli *c, const char *name)
{
	struct sysg_project p = { .id = (char *)c->project_id,
				  .plain = c->project_plain };

	return !c->project || sysg_project_has(&p, name);
}
