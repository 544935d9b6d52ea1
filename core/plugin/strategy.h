/* strategy.h - the core's view of deployment strategy plugins.
 *
 * Builds the plugin-facing struct sysg_strategy_settings from a service's
 * config and checks every service's strategy (the plugin loads, is a
 * strategy, and accepts its settings). The core never knows a strategy by
 * name or its settings: `deployment.strategy: X` loads X.so, which checks
 * its own `deployment.X` keys. */
#ifndef SYSG_STRATEGY_H
#define SYSG_STRATEGY_H

#include <sysg/plugin.h>

#include "config/config.h"
#include "base/base.h"
#include "plugin_loader.h"

/* Settings of one service as a strategy sees them. The struct points into
 * SVC (valid while SVC lives) and into its own options array; free with
 * sysg_strategy_settings_free. 0 or -ENOMEM. */
struct sysg_strategy_view {
	struct sysg_strategy_settings s;
	struct sysg_setting *options;
};

int sysg_strategy_view_init(struct sysg_strategy_view *v,
			    const struct sysg_service *svc);
/* The same for strategy STRATEGY (NULL: the configured one), with the
 * options of its deployment.<STRATEGY> section (none when absent); for
 * `deploy --strategy X`. */
int sysg_strategy_view_init_for(struct sysg_strategy_view *v,
				const struct sysg_service *svc,
				const char *strategy);
void sysg_strategy_view_free(struct sysg_strategy_view *v);

/* For every service: load its strategy plugin from PP and run its
 * check_config on its settings, and the same for every other
 * deployment.<name> section (checked by plugin <name>); then load the
 * state backend named by the config. A complaint about an option is
 * reported at that option's value with its key path
 * (services.S.deployment.NAME.KEY), a missing option at its section.
 * STATE_OVERRIDE (--state-backend) replaces cfg->state_backend when
 * non-NULL. Problems are appended to DIAG at the position of the key
 * that caused them. Returns 0 or -EINVAL. */
int sysg_config_check_plugins(const struct sysg_config *cfg,
			      const struct sysg_plugin_path *pp,
			      const char *state_override,
			      struct sysg_diag *diag);

/* The strategy half of sysg_config_check_plugins, for the services that
 * name a strategy or have a deployment.<name> section: what `start` checks
 * before anything starts. Returns 0 or -EINVAL. */
int sysg_config_check_strategies(const struct sysg_config *cfg,
				 const struct sysg_plugin_path *pp,
				 struct sysg_diag *diag);

#endif
