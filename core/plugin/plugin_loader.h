/* plugin_loader.h - find, check and load sysg plugins by name.
 *
 * Search order (SPEC 1): the --plugin-dir directories, then
 * $SYSG_PLUGIN_PATH (colon-separated), then the build tree's plugin
 * directories when this binary runs from its build tree, then the
 * installed plugin directory. A plugin file or directory that is
 * world-writable or owned by another non-root user is refused.
 *
 * Loading first probes the file in a forked child (so a plugin that
 * crashes in its constructor or entry function cannot take the core down),
 * then dlopen(RTLD_NOW|RTLD_LOCAL)s it, calls sysg_plugin_entry and checks
 * abi_version before any other field: plugins of ABI SYSG_PLUGIN_ABI_MIN
 * to SYSG_PLUGIN_ABI_VERSION load. */
#ifndef SYSG_PLUGIN_LOADER_H
#define SYSG_PLUGIN_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include <sysg/plugin.h>

struct sysg_plugin_path {
	char **dirs;
	size_t n;
};

/* Build the search path. CLI_DIRS: the --plugin-dir value(s), colon
 * separated, or NULL. 0 or -ENOMEM. */
int sysg_plugin_path_init(struct sysg_plugin_path *p, const char *cli_dirs);
void sysg_plugin_path_free(struct sysg_plugin_path *p);

struct sysg_loaded_plugin {
	void *dl;
	const struct sysg_plugin *desc;
	char *path;
	uint32_t ops_version;   /* the ABI its ops struct was built for */
};

/* 1 when LP's ops struct has the slot added in ABI N (SQLite's iVersion
 * rule, sysg/plugin.h rule 3). Call a slot only when this says so AND its
 * pointer is non-NULL: an older plugin's struct ends before it. */
static inline int sysg_plugin_has_slot(const struct sysg_loaded_plugin *lp,
				       uint32_t n)
{
	return lp->ops_version >= n;
}

/* Load NAME.so of KIND (enum sysg_plugin_kind, 0 for any) from the search
 * path. On failure returns a negative code and a message in ERR naming the
 * file and what went wrong (no file on the path: -ENOENT and the dirs
 * searched; bad ABI: "FILE: ABI version 7, expected 1"; ...). */
int sysg_plugin_load(const struct sysg_plugin_path *p, const char *name,
		     uint32_t kind, struct sysg_loaded_plugin **out,
		     char *err, size_t errlen);

/* Load one file (same checks). */
int sysg_plugin_load_file(const char *file, uint32_t kind,
			  struct sysg_loaded_plugin **out, char *err,
			  size_t errlen);

/* Load FILE again after it was loaded (and probed) once: the same checks
 * but no probe child, for callers that unload a plugin while idle. */
int sysg_plugin_reload(const char *file, uint32_t kind,
		       struct sysg_loaded_plugin **out, char *err,
		       size_t errlen);

void sysg_plugin_unload(struct sysg_loaded_plugin *lp);

/* One plugin file found on the path, for `sysg plugins`. */
struct sysg_plugin_info {
	const char *path;
	const char *name;               /* from the file name */
	uint32_t kind;                  /* 0 when it did not load */
	uint32_t abi_version;           /* 0 when unknown */
	const char *description;        /* may be NULL */
	const char *error;              /* NULL when it loads */
};

typedef void (*sysg_plugin_info_cb)(void *arg,
				    const struct sysg_plugin_info *info);

/* Probe every *.so on the path (first occurrence of a name wins; later
 * ones are reported as shadowed) and call CB for each. Returns the number
 * of files seen. */
int sysg_plugin_scan(const struct sysg_plugin_path *p, sysg_plugin_info_cb cb,
		     void *arg);

/* Check that a file or directory is safe to load from: not world-writable,
 * owned by root or the current user. 0 or -EPERM with a message. */
int sysg_plugin_check_owner(const char *path, char *err, size_t errlen);

#endif
