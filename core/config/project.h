/* project.h - projects: several sets of services in one supervisor.
 *
 * A config file's own `services:` are its own project; `projects: { ID:
 * { name, env, project_dir, services } }` (or `ID: !include FILE`) adds
 * others. A file that joins a running supervisor (a second `sysg start
 * -c FILE`) brings its projects along, its own services becoming the
 * project named after the file (sysg_project_id_of_file).
 *
 * In the supervisor every service of a project other than the first
 * file's own is named "NAME@ID" (SYSG_PROJECT_SEP; '@' is not allowed in
 * a service name, so the names never clash): its unit record, log files
 * (logs/NAME@ID_stdout.log) and status line carry that name, and its
 * depends_on names are those of its project. The first file's own
 * services keep their plain names, so a single-file setup looks exactly
 * as it did before projects existed.
 *
 * The config of a supervisor keeps the files that joined it (like its
 * units, unit.h) so that a reload of the first file keeps them, and the
 * ids of the projects stopped with `sysg stop -p ID` (left out until
 * registered again). */
#ifndef SYSG_PROJECT_H
#define SYSG_PROJECT_H

#include <stddef.h>

struct sysg_config;

#define SYSG_PROJECT_SEP '@'
#define SYSG_PROJECT_ID_MAX 48  /* characters of a project id */

/* One project of a config. */
struct sysg_project {
	char *id;               /* "shop" */
	char *name;             /* projects.ID.name, or NULL */
	char *file;             /* the file it is defined in (absolute) */
	int plain;              /* the first file's own services: plain
	                           names */
};

/* The id a file's own services get as a project: the file's base name
 * without .yaml/.yml, or its directory's name for systemg.yaml and
 * sysg.yaml; other characters than letters, digits, '_', '-', '.' become
 * '_'. Into BUF. */
void sysg_project_id_of_file(const char *path, char *buf, size_t len);

/* The project id of service name NAME (what follows its '@'), or NULL
 * for a plain name. */
const char *sysg_project_of_name(const char *name);

/* "NAME@ID" (ID NULL or a plain project: NAME) into BUF. 0 or
 * -ENAMETOOLONG. */
int sysg_project_qualify(const struct sysg_config *cfg, const char *id,
			 const char *name, char *buf, size_t len);

/* The project ID of CFG: by id, or by the absolute path of the file its
 * own services come from (ID may be a path then). NULL when none. */
const struct sysg_project *sysg_config_project(const struct sysg_config *cfg,
					       const char *id);

/* 1 when service NAME of CFG belongs to project P. */
int sysg_project_has(const struct sysg_project *p, const char *name);

/* A new config: CFG read again (with its units and joined files) plus
 * the services and projects of JOIN (a config loaded with
 * SYSG_CONFIG_JOINED). Its projects leave the left-out list. 0; -EEXIST
 * when a project id of JOIN is taken (ERR names the file); -EINVAL when
 * CFG cannot be read again; -ENOMEM. */
int sysg_config_join(const struct sysg_config *cfg,
		     const struct sysg_config *join, struct sysg_config **out,
		     char *err, size_t errlen);

/* A new config: CFG read again without project ID (left out until it
 * joins again). 0; -ENOENT (unknown project); -EINVAL; -ENOMEM. */
int sysg_config_leave(const struct sysg_config *cfg, const char *id,
		      struct sysg_config **out, char *err, size_t errlen);

/* A reload: give NC (the first file loaded again) the joined files and
 * the left-out projects of OLD (but NC's own: reading the file again
 * brings them back). 0, -EEXIST (ERR says why) or -ENOMEM. */
int sysg_config_keep_joined(struct sysg_config *nc,
			    const struct sysg_config *old, char *err,
			    size_t errlen);

/* The absolute paths of the files that joined CFG, in order. */
size_t sysg_config_joined_files(const struct sysg_config *cfg,
				const char **out, size_t max);

/* For the loader (config.c) only. */
/* Name every service of CFG that has no project yet "NAME@ID" (and its
 * depends_on, instance_of), and add project ID (NAME may be NULL) for
 * them. 0, -EEXIST (CFG has project ID), -ENAMETOOLONG, -ENOMEM. */
int sysg_project_qualify_all(struct sysg_config *cfg, const char *id,
			     const char *name);
/* After loading the top file CFG: its own services (not units) are the
 * project named after the file, a plain one unless JOINED (then they are
 * qualified). 0, -EEXIST or -ENOMEM. */
int sysg_project_own(struct sysg_config *cfg, int joined);
/* Add CHILD's projects to CFG's. 0, -EEXIST or -ENOMEM. */
int sysg_project_take(struct sysg_config *cfg, const struct sysg_config *child);
/* Free CFG's projects, joined files and left-out ids. */
void sysg_project_free_all(struct sysg_config *cfg);

#endif
