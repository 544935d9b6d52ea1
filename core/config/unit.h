/* unit.h - ad-hoc units: `sysg start [--name N] -- CMD ARGS...` (SPEC 3,
 * unit mode) as a service of its own, alone in a supervisor or added to
 * a running one.
 *
 * A unit is an ordinary service of the config (so it is recorded, shown,
 * stopped and restarted like one) marked `unit` and run in the directory
 * it was started from. A config that has units keeps them when it is
 * copied (sysg_config_add_unit) or replaced by a reload
 * (sysg_config_keep_units): they live until stopped, whatever the file
 * says. */
#ifndef SYSG_UNIT_H
#define SYSG_UNIT_H

#include <stddef.h>

struct sysg_config;
struct sysg_diag;

/* The one-service config of unit NAME (NULL: the program's base name;
 * characters other than letters, digits, '_', '-', '.' become '_')
 * running COMMAND (a command line as sysg_cmd_join makes it: its words
 * are used as they are, never expanded again) in CWD. 0, or a negative
 * code with DIAG filled. */
int sysg_config_unit(const char *name, const char *command, const char *cwd,
		     struct sysg_config **out, struct sysg_diag *diag);

/* A new config: CFG (read again from the text it was loaded from), its
 * units, and the unit of the one-service config UNIT. 0; -EEXIST when
 * CFG has a service of that name; -EINVAL when CFG cannot be read again
 * (ERR says why); -ENOMEM. */
int sysg_config_add_unit(const struct sysg_config *cfg,
			 const struct sysg_config *unit,
			 struct sysg_config **out, char *err, size_t errlen);

/* Add the units of OLD to NC (a reload: they stay). A unit whose name NC
 * now uses is dropped. 0 or -ENOMEM. */
int sysg_config_keep_units(struct sysg_config *nc,
			   const struct sysg_config *old);

#endif
