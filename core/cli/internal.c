/* internal.c - sysg's hidden commands, for its own tooling.
 *
 *   sysg __list-options   every command and the options it takes, from
 *                         cli.c's tables (tests/manpages.sh checks each one
 *                         is described in sysg(1))
 *   sysg __list-keys      every config key, from the schema's tables (and
 *                         sysg.yaml(5))
 *   sysg __complete services|strategies|backends [--config F]
 *                   [--plugin-dir D]...
 *                         the names the shell completions offer
 *
 * They are not listed by `sysg help` and their output is not a stable
 * interface. Completion must never print an error in the middle of a
 * command line, so __complete prints nothing when it finds nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clitab.h"
#include "config/config.h"
#include "base/base.h"
#include "plugin/plugin.h"

#define MAX_OPTS 128

static void print_opts(const char *what, const char *cmd)
{
	struct sysg_cli_opt o[MAX_OPTS];
	size_t n = sysg_cli_options_of(cmd, o, MAX_OPTS);

	for (size_t i = 0; i < n && i < MAX_OPTS; i++) {
		printf("%s %s --%s\n", what, cmd ? cmd : "*", o[i].lng);
		if (o[i].shrt)
			printf("%s %s -%c\n", what, cmd ? cmd : "*", o[i].shrt);
	}
}

static int list_options(void)
{
	const char *name;

	print_opts("global", NULL);
	for (size_t i = 0; (name = sysg_cli_command_at(i, NULL)); i++) {
		printf("command %s\n", name);
		print_opts("option", name);
	}
	return SYSG_EXIT_OK;
}

static void print_key(void *arg, const char *path, const char *table)
{
	(void)arg;
	printf("%s\t%s\n", path, table);
}

static int list_keys(void)
{
	sysg_config_schema_keys(print_key, NULL);
	return SYSG_EXIT_OK;
}

static int complete_services(const struct sysg_cli *c)
{
	struct sysg_config *cfg = NULL;
	struct sysg_diag d;
	char *path = sysg_cli_config_find(c, 1);

	if (!path)
		return SYSG_EXIT_OK;
	sysg_diag_init(&d);
	if (sysg_config_load(path, &cfg, &d) == 0) {
		for (size_t i = 0; i < cfg->nservices; i++)
			printf("%s\n", cfg->services[i].name);
		sysg_config_free(cfg);
	}
	sysg_diag_free(&d);
	free(path);
	return SYSG_EXIT_OK;
}

static void print_plugin_name(void *arg, const struct sysg_plugin_info *in)
{
	if (!in->error && in->kind == *(const uint32_t *)arg)
		printf("%s\n", in->name);
}

static int complete_plugins(const struct sysg_cli *c, uint32_t kind)
{
	struct sysg_plugin_path pp;

	if (sysg_plugin_path_init(&pp, c->plugin_dirs) < 0)
		return SYSG_EXIT_FAILED;
	sysg_plugin_scan(&pp, print_plugin_name, &kind);
	sysg_plugin_path_free(&pp);
	return SYSG_EXIT_OK;
}

/* The --config, --plugin-dir and --sys of ARGV (the words the user typed
 * so far, passed on by the completion script) into C. */
static int complete_args(struct sysg_cli *c, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--sys")) {
			c->sys = 1;
		} else if ((!strcmp(a, "--config") || !strcmp(a, "-c")) && v) {
			c->config = v;
			i++;
		} else if (!strcmp(a, "--plugin-dir") && v) {
			if (sysg_cli_add_plugin_dir(c, v) < 0)
				return -ENOMEM;
			i++;
		}
	}
	return 0;
}

static int complete(int argc, char **argv)
{
	struct sysg_cli c;
	int rc = SYSG_EXIT_USAGE;

	memset(&c, 0, sizeof(c));
	if (argc < 2) {
		sysg_cli_error("__complete: services, strategies or backends?");
		return SYSG_EXIT_USAGE;
	}
	if (complete_args(&c, argc - 2, argv + 2) < 0)
		rc = SYSG_EXIT_FAILED;
	else if (!strcmp(argv[1], "services"))
		rc = complete_services(&c);
	else if (!strcmp(argv[1], "strategies"))
		rc = complete_plugins(&c, SYSG_PLUGIN_STRATEGY);
	else if (!strcmp(argv[1], "backends"))
		rc = complete_plugins(&c, SYSG_PLUGIN_STATE);
	else
		sysg_cli_error("__complete: unknown list '%s'", argv[1]);
	free(c.plugin_dirs);
	return rc;
}

int sysg_cli_internal(int argc, char **argv)
{
	int rc;

	if (!strcmp(argv[0], "__list-options"))
		rc = list_options();
	else if (!strcmp(argv[0], "__list-keys"))
		rc = list_keys();
	else if (!strcmp(argv[0], "__complete"))
		rc = complete(argc, argv);
	else {
		sysg_cli_error("unknown command '%s' (see sysg help)", argv[0]);
		rc = SYSG_EXIT_USAGE;
	}
	fflush(stdout);
	return rc;
}
