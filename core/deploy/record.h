/* record.h - what a deploy rolls out and what it leaves behind: the
 * revision of a service's definition, the definition kept in the deploy
 * record (with the config text it came from, so a rollback can deploy it
 * again), and the strategy settings sent to the worker. */
#ifndef SYSG_DEPLOY_RECORD_H
#define SYSG_DEPLOY_RECORD_H

#include <stddef.h>

#include <jansson.h>
#include <sysg/plugin.h>

#include "config/config.h"

/* The revision of SVC: 12 hex digits of a hash of its command,
 * environment, working directory and deployment settings. */
void sysg_deploy_revision(const struct sysg_service *svc, char out[16]);

/* The definition JSON kept in a record: {"command", "env", "working_dir",
 * "deployment", "config_path", "config"} where "config" is CFG_TEXT (the
 * file it was read from) when it fits in SYSG_DEFINITION_MAX. OUT gets
 * the text (NUL-terminated). 0, or -ENOMEM. */
int sysg_deploy_definition(const struct sysg_service *svc,
			   const struct sysg_config *cfg, const char *cfg_text,
			   char *out, size_t len);

/* The config a record's DEFINITION was read from, parsed again. 0, or
 * -ENOENT (the record has none: it was too large to keep) / -EINVAL
 * with ERR filled. */
int sysg_deploy_definition_config(const char *definition,
				  struct sysg_config **out, char *err,
				  size_t errlen);

/* Read PATH (at most SYSG_DEFINITION_MAX bytes are kept for the record,
 * the whole file is parsed) and load it as a config with FLAGS
 * (SYSG_CONFIG_STRICT...). 0 with *CFG and
 * *TEXT (malloc'd), or a negative code with DIAG filled. */
int sysg_deploy_read_config(const char *path, unsigned flags,
			    struct sysg_config **cfg, char **text,
			    struct sysg_diag *diag);

/* The strategy settings of SVC as JSON for the worker, and back (the
 * strings of OUT point into J, which must outlive it; OPTIONS is
 * malloc'd). An overriding STRATEGY (not the configured one) gets no
 * options: they are the configured strategy's deployment.<name> map. */
json_t *sysg_deploy_settings_json(const struct sysg_service *svc,
				  const char *strategy);
int sysg_deploy_settings_from(const json_t *j,
			      struct sysg_strategy_settings *out,
			      struct sysg_setting **options);

/* "10m", "1.5s", "250ms": a short human form of MS. */
void sysg_deploy_fmt_ms(int64_t ms, char *buf, size_t len);

#endif
