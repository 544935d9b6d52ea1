/* cli.c - sysg's command line: argument parsing, help, dispatch.
 *
 * Every command of SPEC section 3 is declared in the table below. The
 * `start`/`stop` handlers live in cmd_engine.c; commands whose handler is
 * NULL are not built yet and say so (exit 1), never pretending success. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sysg/version.h>

#include "cli.h"
#include "clitab.h"
#include "config/config.h"
#include "base/base.h"
#include "proc/proc.h"
#include "control/control.h"
#include "plugin/plugin.h"
#include "proc/proc.h"

/* Command-specific options, as bits: each command lists what it takes. */
enum {
	O_SERVICE = 1 << 0, O_DAEMONIZE = 1 << 1, O_STDERR = 1 << 2,
	O_NAME = 1 << 3, O_PARENT_PID = 1 << 4, O_CHILD = 1 << 5,
	O_TTL = 1 << 6, O_STRATEGY = 1 << 7, O_DRY_RUN = 1 << 8,
	O_HISTORY = 1 << 9, O_ROLLBACK = 1 << 10, O_ALL = 1 << 11,
	O_JSON = 1 << 12, O_NO_COLOR = 1 << 13, O_FULL_CMD = 1 << 14,
	O_STREAM = 1 << 15, O_LINES = 1 << 16, O_KIND = 1 << 17,
	O_CLEAR = 1 << 18, O_FORCE = 1 << 19, O_ARGV = 1 << 20,
	O_REOPEN = 1 << 21, O_FORMAT = 1 << 22, O_FOLLOW = 1 << 23,
	O_STRICT = 1 << 24,
	O_DETACH = 1 << 25, O_MESSAGE = 1 << 26, O_TO = 1 << 27,
	O_OPERATOR = 1 << 28,   /* deploy --abort|--pause|--resume|--promote */
	O_MUX = 1 << 29,
	O_GLOBAL = 1 << 30,
};
/* Beyond what an enumerator (an int) holds: option bits are 64-bit. */
#define O_BINARY ((uint64_t)1 << 31)
#define O_PROJECT ((uint64_t)1 << 40)   /* -p/--project ID */
#define O_SUPERVISOR ((uint64_t)1 << 41)        /* stop --supervisor */

struct command {
	const char *name;
	int (*run)(struct sysg_cli *c);
	uint64_t opts;
	const char *usage;
	const char *summary;
	const char *examples;   /* shown by sysg CMD --help */
};

static int cmd_validate(struct sysg_cli *c);
static int cmd_plugins(struct sysg_cli *c);
static int cmd_help(struct sysg_cli *c);
static int cmd_completion(struct sysg_cli *c);

static const struct command commands[] = {
	{ "start", sysg_cmd_start,
	  O_SERVICE | O_DAEMONIZE | O_STDERR | O_NAME | O_PARENT_PID |
	  O_CHILD | O_TTL | O_ARGV | O_STRICT | O_MUX | O_NO_COLOR,
	  "start [--service S] [--daemonize] [--stderr] [--strict] [--mux] "
	  "[--no-color]\n"
	  "       sysg start [--name N] -- CMD ARGS...\n"
	  "       sysg start --parent-pid P [--child] --name N [--ttl SECS] -- CMD...",
	  "start all services (or one) in dependency order",
	  "sysg start --daemonize                 # resident supervisor, returns once up\n"
	  "sysg start --daemonize --strict        # unknown config keys are errors\n"
	  "sysg start -s api --stderr             # one service (and its dependencies), in the foreground\n"
	  "sysg start --mux | tee boot.log        # 'name | line' off a terminal too\n"
	  "sysg start --no-color                  # the same, without colours\n"
	  "sysg start --name tick -- sleep 60     # supervise one ad-hoc command\n"
	  "sysg start --parent-pid 4242 --child --name job --ttl 30 -- ./job.sh" },
	{ "init", sysg_cmd_init, 0, "init --config F",
	  "run as a container's PID 1: supervise, reap, stop in order",
	  "sysg init --config /etc/sysg/sysg.yaml  # a Dockerfile's ENTRYPOINT" },
	{ "stop", sysg_cmd_stop, O_SERVICE | O_PROJECT | O_SUPERVISOR,
	  "stop [--service S] [--project ID] [--supervisor]",
	  "stop one service, or all services and the supervisor",
	  "sysg stop -s worker                    # its dependents keep running\n"
	  "sysg stop -p shop                      # one project; the others keep running\n"
	  "sysg stop --supervisor                 # every project, then the supervisor\n"
	  "sysg stop                              # everything, then the supervisor" },
	{ "restart", sysg_cmd_restart,
	  O_SERVICE | O_DAEMONIZE | O_STRICT | O_PROJECT,
	  "restart [--service S] [--project ID] [--config F] [--daemonize] [--strict]",
	  "restart all or one service with its deployment strategy",
	  "sysg restart -s api\n"
	  "sysg restart -p shop                   # every service of project shop\n"
	  "sysg restart --config sysg.yaml --strict  # reload the file first\n"
	  "sysg restart --daemonize               # start a supervisor if none runs" },
	{ "deploy", sysg_cmd_deploy,
	  O_SERVICE | O_STRATEGY | O_DRY_RUN | O_HISTORY | O_ROLLBACK |
	  O_STRICT | O_JSON | O_DETACH | O_MESSAGE | O_FOLLOW | O_TO |
	  O_OPERATOR | O_PROJECT,
	  "deploy --service S [--project ID] [--strategy X] [--dry-run] [--detach] [--message M]\n"
	  "       [--strict]\n"
	  "       sysg deploy --follow [ID]\n"
	  "       sysg deploy --history [--service S] [--json]\n"
	  "       sysg deploy --rollback --service S [--to ID]\n"
	  "       sysg deploy --abort|--pause|--resume|--promote --service S",
	  "roll out a service with its strategy; history; rollback",
	  "sysg deploy -s api --dry-run\n"
	  "sysg deploy -p shop -s web             # service web of project shop\n"
	  "sysg deploy -s api --strategy rolling --strict\n"
	  "sysg deploy -s api -m \"v2\" --detach   # prints the deploy id\n"
	  "sysg deploy --follow                   # re-attach to the newest deploy\n"
	  "sysg deploy --history -s api --json\n"
	  "sysg deploy --rollback -s api [--to ID]\n"
	  "sysg deploy --abort -s api\n"
	  "sysg deploy --pause -s api      # a canary holds its current step\n"
	  "sysg deploy --resume -s api\n"
	  "sysg deploy --promote -s api    # skip the remaining steps" },
	{ "status", sysg_cmd_status,
	  O_SERVICE | O_ALL | O_JSON | O_NO_COLOR | O_FULL_CMD | O_STREAM |
	  O_FORMAT | O_PROJECT,
	  "status [--service S] [--project ID] [--all] [--json] [--no-color] [--full-cmd] [--stream D]\n"
	  "       sysg status --format table|json|prometheus",
	  "show the state of every unit",
	  "sysg status --json                     # stable schema for scripts\n"
	  "sysg status -p shop                    # one project (default: all, grouped)\n"
	  "sysg status -s api --full-cmd --no-color\n"
	  "sysg status --all --stream 2s          # include orphans, refresh every 2 s\n"
	  "sysg status --format prometheus > /var/lib/node_exporter/sysg.prom" },
	{ "inspect", sysg_cmd_inspect,
	  O_SERVICE | O_JSON | O_NO_COLOR | O_STREAM | O_PROJECT,
	  "inspect -s S [--project ID] [--json] [--no-color] [--stream D]",
	  "show one unit in detail",
	  "sysg inspect -s api --no-color\n"
	  "sysg inspect -p shop -s web\n"
	  "sysg inspect -s api --json --stream 5s" },
	{ "logs", sysg_cmd_logs,
	  O_SERVICE | O_LINES | O_KIND | O_CLEAR | O_STREAM | O_REOPEN |
	  O_FOLLOW | O_MUX | O_NO_COLOR | O_PROJECT,
	  "logs [--service S] [--project ID] [-n|--lines N] [--kind stdout|stderr|supervisor] [--clear] [-f|--stream [D]] [--mux] [--no-color]\n"
	  "       sysg logs --reopen",
	  "print, follow or clear service and supervisor logs",
	  "sysg logs -s api -n 100                # last 100 lines of api's logs\n"
	  "sysg logs -p shop -n 20                # the logs of project shop's services\n"
	  "sysg logs -f --kind stderr             # follow every stderr log\n"
	  "sysg logs -f --kind stdout --mux --no-color  # 'name | line', plain\n"
	  "sysg logs --kind supervisor --lines 20 --stream 500ms\n"
	  "sysg logs -s api --clear\n"
	  "sysg logs --reopen                     # after an external logrotate" },
	{ "purge", sysg_cmd_purge, O_FORCE, "purge [--force]",
	  "delete all sysg state, logs, socket and pid files",
	  "sysg purge\n"
	  "sysg purge --force                     # stop the supervisor first" },
	{ "plugins", cmd_plugins, 0, "plugins",
	  "list strategy and state plugins on the search path",
	  "sysg plugins --plugin-dir ./build/plugins" },
	{ "validate", cmd_validate, O_STRICT, "validate [--config F] [--strict]",
	  "check a config file (and the plugins it names)",
	  "sysg validate --config sysg.yaml --strict  # unknown keys are errors too\n"
	  "sudo sysg validate                     # as root: privileged keys too" },
	{ "spawn", sysg_cmd_start,
	  O_NAME | O_PARENT_PID | O_CHILD | O_TTL | O_ARGV,
	  "spawn --parent-pid P --name N [--ttl SECS] -- CMD...",
	  "deprecated alias of start --parent-pid",
	  "sysg spawn --parent-pid 4242 --child --name job --ttl 30 -- ./job.sh" },
	{ "upgrade", sysg_cmd_upgrade, O_BINARY, "upgrade [--binary PATH]",
	  "exec a new binary in the resident supervisor, services kept",
	  "sysg upgrade                           # this binary, same pid\n"
	  "sysg upgrade --binary /opt/sysg/bin/sysg" },
	{ "completion", cmd_completion, 0, "completion bash|zsh|fish",
	  "print the shell completion script for bash, zsh or fish",
	  "source <(sysg completion bash)         # try it in this shell\n"
	  "sysg completion zsh > ~/.zfunc/_sysg   # a directory in $fpath" },
	{ "help", cmd_help, 0, "help [CMD]", "show help for sysg or a command",
	  "sysg help logs" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

struct option_def {
	const char *lng;
	char shrt;
	uint64_t bit;
	int has_arg;            /* 0 flag, 1 value, 2 optional value */
	const char *arg;        /* the value's name in help */
	const char *help;
};

static const struct option_def options[] = {
	{ "config", 'c', O_GLOBAL, 1, "FILE", "config file (default: systemg.yaml, then sysg.yaml)" },
	{ "log-level", 0, O_GLOBAL, 1, "LEVEL", "trace|debug|info|warn|error|off or 5..0" },
	{ "sys", 0, O_GLOBAL, 0, NULL, "system mode (root only): /var/lib/systemg, /var/log/systemg, /run/sysg, /etc/systemg" },
	{ "plugin-dir", 0, O_GLOBAL, 1, "DIR", "search DIR for plugins first (repeatable)" },
	{ "state-backend", 0, O_GLOBAL, 1, "B", "state backend plugin (xml, sqlite, ...)" },
	{ "drop-privileges", 0, O_GLOBAL, 0, NULL, "run services without `user` as nobody (--sys)" },
	{ "help", 'h', O_GLOBAL, 0, NULL, "help; sysg help COMMAND for one command" },
	{ "version", 'V', O_GLOBAL, 0, NULL, "print the version" },
	{ "service", 's', O_SERVICE, 1, "S", "only the service S" },
	{ "daemonize", 'd', O_DAEMONIZE, 0, NULL, "run a resident supervisor in the background" },
	{ "stderr", 0, O_STDERR, 0, NULL, "also echo services' stderr lines as [svc:stderr] line" },
	{ "name", 'n', O_NAME, 1, "N", "name of the ad-hoc unit or managed child" },
	{ "parent-pid", 0, O_PARENT_PID, 1, "P", "attach the child to the service owning pid P" },
	{ "child", 0, O_CHILD, 0, NULL, "child mode (with --parent-pid)" },
	{ "ttl", 0, O_TTL, 1, "SECS", "kill the child after SECS seconds" },
	{ "strategy", 0, O_STRATEGY, 1, "X", "deploy with strategy X instead of the configured one" },
	{ "dry-run", 0, O_DRY_RUN, 0, NULL, "print the plan, change nothing" },
	{ "history", 0, O_HISTORY, 0, NULL, "list deploy records" },
	{ "rollback", 0, O_ROLLBACK, 0, NULL, "redeploy the previous successful revision (or --to ID)" },
	{ "all", 'a', O_ALL, 0, NULL, "also services no longer in the config" },
	{ "json", 0, O_JSON, 0, NULL, "JSON output (documented schema)" },
	{ "no-color", 0, O_NO_COLOR, 0, NULL, "no ANSI colours" },
	{ "full-cmd", 0, O_FULL_CMD, 0, NULL, "never truncate commands" },
	{ "stream", 0, O_STREAM, 2, "D", "refresh / follow every D (default 1s)" },
	{ "lines", 'l', O_LINES, 1, "N", "print the last N lines (default 50); -n N too" },
	{ "lines", 'n', O_LINES, 1, "N", NULL },        /* -n N, as tail */
	{ "follow", 'f', O_FOLLOW, 2, "ID", "logs: keep printing new lines (as --stream 1s); deploy: follow deploy ID (default: the newest)" },
	{ "kind", 'k', O_KIND, 1, "KIND", "stdout, stderr or supervisor" },
	{ "clear", 0, O_CLEAR, 0, NULL, "truncate the log files in place" },
	{ "force", 'f', O_FORCE, 0, NULL, "also when a supervisor runs (it is stopped first)" },
	{ "reopen", 0, O_REOPEN, 0, NULL, "make the supervisor reopen its log files (logrotate)" },
	{ "format", 0, O_FORMAT, 1, "FMT", "table, json or prometheus (text exposition format)" },
	{ "strict", 0, O_STRICT, 0, NULL, "unknown config keys are errors, not warnings" },
	{ "detach", 0, O_DETACH, 0, NULL, "print the deploy id and return; the deploy goes on" },
	{ "message", 'm', O_MESSAGE, 1, "M", "a message kept in the deploy record" },
	{ "to", 0, O_TO, 1, "ID", "roll back to the deploy record ID" },
	{ "abort", 0, O_OPERATOR, 0, NULL, "abort the running deploy (switch back, stop the candidate)" },
	{ "pause", 0, O_OPERATOR, 0, NULL, "pause the running deploy at its next operator wait" },
	{ "resume", 0, O_OPERATOR, 0, NULL, "resume a paused deploy" },
	{ "promote", 0, O_OPERATOR, 0, NULL, "promote the candidate of a deploy waiting for it" },
	{ "mux", 0, O_MUX, 0, NULL, "'name | line' output off a terminal too (start, logs -f)" },
	{ "binary", 0, O_BINARY, 1, "PATH", "upgrade: the binary to exec (default: this one)" },
	{ "project", 'p', O_PROJECT, 1, "ID", "only project ID (its id or its file); -s S is its service S" },
	{ "supervisor", 0, O_SUPERVISOR, 0, NULL, "stop every project, then the supervisor" },
};

#define STREAM_DEFAULT_MS 1000  /* bare --stream, logs -f */

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

/* ------------------------------------------- the tables, for clitab.h */

const char *sysg_cli_command_at(size_t i, const char **summary)
{
	if (i >= NCOMMANDS)
		return NULL;
	if (summary)
		*summary = commands[i].summary;
	return commands[i].name;
}

static const struct command *find_command(const char *name);

size_t sysg_cli_options_of(const char *command, struct sysg_cli_opt *out,
			   size_t max)
{
	const struct command *cmd = command ? find_command(command) : NULL;
	unsigned want = command ? (cmd ? cmd->opts : 0) : O_GLOBAL;
	size_t n = 0;

	for (size_t i = 0; i < NOPTIONS; i++) {
		const char *help = options[i].help;

		if (!(options[i].bit & want))
			continue;
		/* a second spelling (-n for --lines) shares the first's help */
		for (size_t k = 0; !help && k < NOPTIONS; k++)
			if (!strcmp(options[k].lng, options[i].lng))
				help = options[k].help;
		if (n < max)
			out[n] = (struct sysg_cli_opt){ options[i].lng,
							options[i].shrt,
							options[i].has_arg,
							help };
		n++;
	}
	return n;
}

int sysg_cli_takes_argv(const char *command)
{
	const struct command *cmd = find_command(command);

	return cmd && (cmd->opts & O_ARGV);
}

const char *sysg_cli_operand_words(const char *command)
{
	if (!strcmp(command, "help"))
		return "@commands";
	if (!strcmp(command, "completion"))
		return "bash zsh fish";
	return NULL;
}

void sysg_cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("sysg: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void unknown_command(const char *name)
{
	const char *names[NCOMMANDS + 1], *hint;

	for (size_t i = 0; i < NCOMMANDS; i++)
		names[i] = commands[i].name;
	names[NCOMMANDS] = NULL;
	hint = sysg_suggest(name, names);
	if (hint)
		sysg_cli_error("unknown command '%s' (did you mean '%s'?)", name,
			       hint);
	else
		sysg_cli_error("unknown command '%s' (see sysg help)", name);
}

/* "  -s, --service S" padded, then the help text. */
static void print_option(FILE *f, const struct option_def *o)
{
	char left[64], flag[8] = "    ";

	if (o->shrt)
		snprintf(flag, sizeof(flag), "-%c, ", o->shrt);
	snprintf(left, sizeof(left), "%s--%s%s%s%s", flag, o->lng,
		 o->arg ? (o->has_arg == 2 ? " [" : " ") : "",
		 o->arg ? o->arg : "", o->arg && o->has_arg == 2 ? "]" : "");
	fprintf(f, "  %-24s%s\n", left, o->help);
}

static void print_globals(FILE *f)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (options[i].bit == O_GLOBAL)
			print_option(f, &options[i]);
}

static void print_usage(FILE *f)
{
	fprintf(f, "sysg %s - process manager and deployment orchestrator\n\n"
		"usage: sysg [GLOBAL OPTIONS] COMMAND [OPTIONS]\n\ncommands:\n",
		SYSG_VERSION_STRING);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fputs("\nglobal options (before or after the command):\n", f);
	print_globals(f);
	fputs("\nsysg COMMAND --help describes a command's options, with examples.\n",
	      f);
}

/* Every option of CMD with what it does, then examples. */
static void print_command_help(const struct command *cmd)
{
	printf("usage: sysg %s\n\n%s.\n", cmd->usage, cmd->summary);
	if (!cmd->run)
		printf("\n(not implemented yet in this build)\n");
	if (cmd->opts & ~(uint64_t)O_ARGV) {
		printf("\noptions:\n");
		for (size_t i = 0; i < NOPTIONS; i++)
			if ((options[i].bit & cmd->opts) && options[i].help &&
			    options[i].bit != O_GLOBAL)
				print_option(stdout, &options[i]);
	}
	if (cmd->opts & O_ARGV)
		printf("  %-24s%s\n", "-- CMD ARGS...",
		       "the command to run, after --");
	printf("\nglobal options:\n");
	print_globals(stdout);
	if (cmd->examples) {
		printf("\nexamples:\n");
		for (const char *e = cmd->examples; *e;) {
			size_t n = strcspn(e, "\n");

			printf("  %.*s\n", (int)n, e);
			e += n + (e[n] == '\n');
		}
	}
}

static int cmd_completion(struct sysg_cli *c)
{
	if (!c->help_topic) {
		sysg_cli_error("completion: name a shell: bash, zsh or fish");
		return SYSG_EXIT_USAGE;
	}
	if (sysg_cli_print_completion(c->help_topic) < 0) {
		sysg_cli_error("completion: unknown shell '%s' (expected bash, zsh or fish)",
			       c->help_topic);
		return SYSG_EXIT_USAGE;
	}
	return SYSG_EXIT_OK;
}

static int cmd_help(struct sysg_cli *c)
{
	const struct command *cmd;

	if (!c->help_topic) {
		print_usage(stdout);
		return SYSG_EXIT_OK;
	}
	cmd = find_command(c->help_topic);
	if (!cmd) {
		unknown_command(c->help_topic);
		return SYSG_EXIT_USAGE;
	}
	print_command_help(cmd);
	return SYSG_EXIT_OK;
}

/* ------------------------------------------------------ option values */

static int parse_long(const char *opt, const char *v, long min, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < min) {
		sysg_cli_error("--%s: expected a whole number >= %ld, found '%s'",
			       opt, min, v);
		return -EINVAL;
	}
	*out = n;
	return 0;
}

static int parse_log_level(const char *v, int *out)
{
	static const char *const names[] = { "off", "error", "warn", "info",
					     "debug", "trace" };

	for (int i = 0; i < 6; i++) {
		if (!strcasecmp(v, names[i]) ||
		    (v[0] == '0' + i && v[1] == '\0')) {
			*out = i;
			return 0;
		}
	}
	/* systemg 0.32's aliases */
	if (!strcasecmp(v, "warning") || !strcasecmp(v, "err") ||
	    !strcasecmp(v, "information")) {
		*out = !strcasecmp(v, "err") ? 1 : v[0] == 'w' || v[0] == 'W' ?
		       2 : 3;
		return 0;
	}
	sysg_cli_error("--log-level: expected trace|debug|info|warn|error|off or 5..0, found '%s'",
		       v);
	return -EINVAL;
}

int sysg_cli_add_plugin_dir(struct sysg_cli *c, const char *dir)
{
	char *joined = NULL;

	if (asprintf(&joined, "%s%s%s", c->plugin_dirs ? c->plugin_dirs : "",
		     c->plugin_dirs ? ":" : "", dir) < 0)
		return -ENOMEM;
	free(c->plugin_dirs);
	c->plugin_dirs = joined;
	return 0;
}

static int set_global(struct sysg_cli *c, const char *name, const char *v)
{
	if (!strcmp(name, "config"))
		c->config = v;
	else if (!strcmp(name, "log-level"))
		return parse_log_level(v, &c->log_level);
	else if (!strcmp(name, "plugin-dir"))
		return sysg_cli_add_plugin_dir(c, v);
	else if (!strcmp(name, "state-backend"))
		c->state_backend = v;
	else if (!strcmp(name, "sys"))
		c->sys = 1;
	else if (!strcmp(name, "drop-privileges"))
		c->drop_privileges = 1;
	return 0;
}

static int set_kind(struct sysg_cli *c, const char *v)
{
	if (strcmp(v, "stdout") && strcmp(v, "stderr") &&
	    strcmp(v, "supervisor")) {
		sysg_cli_error("--kind: expected stdout, stderr or supervisor, found '%s'",
			       v);
		return -EINVAL;
	}
	c->kind = v;
	return 0;
}

static int set_stream(struct sysg_cli *c, const char *v)
{
	if (!v) {
		c->stream_ms = STREAM_DEFAULT_MS;
		return 0;
	}
	if (sysg_duration_parse(v, &c->stream_ms) < 0 || c->stream_ms <= 0) {
		sysg_cli_error("--stream: expected a duration like 2s or 500ms, found '%s'",
			       v);
		return -EINVAL;
	}
	return 0;
}

static int set_format(struct sysg_cli *c, const char *v)
{
	if (!strcmp(v, "json"))
		c->json = 1;
	else if (!strcmp(v, "prometheus"))
		c->prometheus = 1;
	else if (strcmp(v, "table")) {
		sysg_cli_error("--format: expected table, json or prometheus, found '%s'",
			       v);
		return -EINVAL;
	}
	return 0;
}

/* Store option DEF's value V (NULL for flags) into C. */
static int set_option(struct sysg_cli *c, const struct option_def *def,
		      const char *v)
{
	switch (def->bit) {
	case O_GLOBAL: return set_global(c, def->lng, v);
	case O_SERVICE: c->service = v; return 0;
	case O_NAME: c->name = v; return 0;
	case O_STRATEGY: c->strategy = v; return 0;
	case O_KIND: return set_kind(c, v);
	case O_STREAM: return set_stream(c, v);
	case O_LINES: return parse_long("lines", v, 0, &c->lines);
	case O_PARENT_PID: return parse_long("parent-pid", v, 1, &c->parent_pid);
	case O_TTL: return parse_long("ttl", v, 1, &c->ttl);
	case O_DAEMONIZE: c->daemonize = 1; return 0;
	case O_STDERR: c->echo_stderr = 1; return 0;
	case O_CHILD: c->child = 1; return 0;
	case O_DRY_RUN: c->dry_run = 1; return 0;
	case O_HISTORY: c->history = 1; return 0;
	case O_ROLLBACK: c->rollback = 1; return 0;
	case O_ALL: c->all = 1; return 0;
	case O_JSON: c->json = 1; return 0;
	case O_NO_COLOR: c->no_color = 1; return 0;
	case O_FULL_CMD: c->full_cmd = 1; return 0;
	case O_CLEAR: c->clear = 1; return 0;
	case O_FORCE: c->force = 1; return 0;
	case O_REOPEN: c->reopen = 1; return 0;
	case O_FORMAT: return set_format(c, v);
	case O_FOLLOW:
		if (c->stream_ms <= 0)
			c->stream_ms = STREAM_DEFAULT_MS;
		c->follow = 1;
		c->follow_id = v;
		return 0;
	case O_STRICT: c->strict = 1; return 0;
	case O_DETACH: c->detach = 1; return 0;
	case O_MESSAGE: c->message = v; return 0;
	case O_TO: c->to = v; return 0;
	case O_OPERATOR:
		c->abort |= !strcmp(def->lng, "abort");
		c->pause |= !strcmp(def->lng, "pause");
		c->resume |= !strcmp(def->lng, "resume");
		c->promote |= !strcmp(def->lng, "promote");
		return 0;
	case O_MUX: c->mux = 1; return 0;
	case O_BINARY: c->binary = v; return 0;
	case O_PROJECT: c->project = v; return 0;
	case O_SUPERVISOR: c->supervisor = 1; return 0;
	}
	return 0;
}

/* ------------------------------------------------------------ parsing */

/* The option ARG (LEN characters, a short letter when IS_SHORT) means:
 * the one CMD (may be NULL) takes when several share a letter (-f is
 * --follow for logs, --force for purge; -n --lines for logs, --name for
 * start). */
static const struct option_def *lookup_option(const char *arg, size_t len,
					      int is_short,
					      const struct command *cmd)
{
	const struct option_def *first = NULL;

	for (size_t i = 0; i < NOPTIONS; i++) {
		if (!(is_short ? options[i].shrt == arg[0] :
		      (strlen(options[i].lng) == len &&
		       !strncmp(options[i].lng, arg, len))))
			continue;
		if (!cmd || (options[i].bit & (cmd->opts | O_GLOBAL)))
			return &options[i];
		if (!first)
			first = &options[i];
	}
	return first;
}

static void unknown_option(const char *arg, size_t len)
{
	const char *names[NOPTIONS + 1], *hint;
	char name[64];

	for (size_t i = 0; i < NOPTIONS; i++)
		names[i] = options[i].lng;
	names[NOPTIONS] = NULL;
	snprintf(name, sizeof(name), "%.*s", (int)len, arg + 2);
	hint = arg[1] == '-' ? sysg_suggest(name, names) : NULL;
	if (hint)
		sysg_cli_error("unknown option '%s' (did you mean '--%s'?)", arg,
			       hint);
	else
		sysg_cli_error("unknown option '%s' (see sysg help)", arg);
}

/* 1 when V reads as a duration (the optional value of --stream). */
static int is_duration(const char *v)
{
	int64_t ms;

	return v && v[0] != '-' && sysg_duration_parse(v, &ms) == 0;
}

/* Parse one option at argv[*i]; advances *i past a separate value.
 * Returns its bit, or -EINVAL after printing why. */
static int64_t parse_option(struct sysg_cli *c, int argc, char **argv,
			    int *i, const struct command *cmd, int *want_help,
			    int *want_version)
{
	const char *arg = argv[*i];
	int is_short = arg[1] != '-';
	const char *name = arg + (is_short ? 1 : 2);
	const char *eq = is_short ? NULL : strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct option_def *def;
	const char *value = NULL;

	if (is_short && len != 1)
		def = NULL;
	else
		def = lookup_option(name, len, is_short, cmd);
	if (!def) {
		unknown_option(arg, len);
		return -EINVAL;
	}
	if (!strcmp(def->lng, "help")) {
		*want_help = 1;
		return 0;
	}
	if (!strcmp(def->lng, "version")) {
		*want_version = 1;
		return 0;
	}
	if (def->has_arg == 2) {
		/* bare --stream: the default interval; bare --follow: the
		 * newest deploy (its value is an id, never an option) */
		if (eq)
			value = eq + 1;
		else if (*i + 1 < argc && (def->bit == O_FOLLOW ?
					   argv[*i + 1][0] != '-' :
					   is_duration(argv[*i + 1])))
			value = argv[++*i];
	} else if (def->has_arg) {
		if (eq)
			value = eq + 1;
		else if (*i + 1 < argc)
			value = argv[++*i];
		else {
			sysg_cli_error("option '--%s' needs a value", def->lng);
			return -EINVAL;
		}
	} else if (eq) {
		sysg_cli_error("option '--%s' takes no value", def->lng);
		return -EINVAL;
	}
	return set_option(c, def, value) < 0 ? -EINVAL : (int64_t)def->bit;
}

/* Parse argv into C. Returns 0, 1 when help/version was printed, or
 * -EINVAL after printing a usage error. */
static int parse_args(struct sysg_cli *c, int argc, char **argv)
{
	uint64_t seen = 0;
	int want_help = 0, want_version = 0;
	const struct command *cmd = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			c->argv_cmd = argv + i + 1;
			c->nargv_cmd = argc - i - 1;
			seen |= O_ARGV;
			break;
		}
		if (a[0] == '-' && a[1] != '\0') {
			int64_t bit = parse_option(c, argc, argv, &i, cmd,
						   &want_help, &want_version);

			if (bit < 0)
				return -EINVAL;
			seen |= (uint64_t)bit;
		} else if (!c->command) {
			c->command = a;
			cmd = find_command(a);
			if (!cmd) {
				unknown_command(a);
				return -EINVAL;
			}
		} else if (cmd && (cmd->run == cmd_help ||
				   cmd->run == cmd_completion) && !c->help_topic) {
			c->help_topic = a;
		} else if (cmd && (cmd->opts & O_ARGV)) {
			/* systemg 0.32: `sysg start --daemonize sleep 5`, the
			 * command without "--" (everything from here on) */
			c->argv_cmd = argv + i;
			c->nargv_cmd = argc - i;
			seen |= O_ARGV;
			break;
		} else {
			sysg_cli_error("unexpected argument '%s' for '%s'", a,
				       c->command);
			return -EINVAL;
		}
	}
	if (want_version) {
		sysg_print_version(c);
		return 1;
	}
	if (want_help) {
		if (cmd)
			print_command_help(cmd);
		else
			print_usage(stdout);
		return 1;
	}
	if (!cmd) {
		print_usage(stderr);
		return -EINVAL;
	}
	seen &= ~(uint64_t)O_GLOBAL;
	if (!(seen & ~cmd->opts))
		return 0;
	/* O_ARGV has no entry in options[]: it is the message below the loop */
	for (size_t k = 0; k < NOPTIONS; k++)
		if (options[k].bit & seen & ~cmd->opts) {
			sysg_cli_error("'%s' does not take --%s", c->command,
				       options[k].lng);
			return -EINVAL;
		}
	sysg_cli_error("'%s' does not take a command after --", c->command);
	return -EINVAL;
}

/* ------------------------------------------------------------ config */

int sysg_cli_open_state(const struct sysg_cli *c, const struct sysg_config *cfg,
			const struct sysg_plugin_path *pp,
			const char *state_dir, struct sysg_state **st)
{
	const char *backend = c->state_backend;
	char err[SYSG_ERR_MAX];
	int rc;

	if (!backend && cfg)
		backend = cfg->state_backend;
	rc = sysg_state_open(st, pp, backend, state_dir,
			     cfg ? cfg->state_path : NULL, err, sizeof(err));
	if (rc < 0)
		sysg_cli_error("%s", err);
	return rc;
}

char *sysg_cli_config_hint(int sys)
{
	char dir[SYSG_PATH_MAX], line[SYSG_PATH_MAX], *path, *found = NULL;
	FILE *f;

	if (sysg_state_dir(sys, dir, sizeof(dir)) < 0)
		return NULL;
	path = sysg_path_join(dir, SYSG_FILE_CONFIG_HINT);
	f = path ? fopen(path, "re") : NULL;
	free(path);
	if (!f)
		return NULL;
	if (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] && access(line, R_OK) == 0)
			found = strdup(line);
	}
	fclose(f);
	return found;
}

char *sysg_cli_config_default(const struct sysg_cli *c)
{
	char dir[SYSG_PATH_MAX];
	char *found = sysg_config_find_default(NULL);

	if (!found && sysg_config_dir(c->sys, dir, sizeof(dir)) == 0)
		found = sysg_config_find_default(dir);
	return found;
}

char *sysg_cli_config_find(const struct sysg_cli *c, int use_hint)
{
	char *found;

	if (c->config)
		return strdup(c->config);
	found = sysg_cli_config_default(c);
	if (!found && use_hint)
		found = sysg_cli_config_hint(c->sys);
	return found;
}

char *sysg_cli_config_path(const struct sysg_cli *c, int use_hint)
{
	char dir[SYSG_PATH_MAX] = "";
	char *found = sysg_cli_config_find(c, use_hint);

	if (found)
		return found;
	sysg_config_dir(c->sys, dir, sizeof(dir));
	sysg_cli_error("no config file: systemg.yaml or sysg.yaml not found in "
		       "the current directory%s%s (use --config FILE)",
		       dir[0] ? " nor in " : "", dir);
	return NULL;
}

/* --config F, F relative and not in the current directory: F in the
 * config directory (/etc/systemg with --sys) when it is there, as
 * systemg 0.32 resolves it. A malloc'd path to use instead, or NULL. */
static char *config_in_config_dir(const struct sysg_cli *c)
{
	char dir[SYSG_PATH_MAX];
	char *p;

	if (!c->config || c->config[0] == '/' || access(c->config, F_OK) == 0 ||
	    sysg_config_dir(c->sys, dir, sizeof(dir)) < 0)
		return NULL;
	p = sysg_path_join(dir, c->config);
	if (p && access(p, F_OK) == 0)
		return p;
	free(p);
	return NULL;
}

void sysg_cli_print_diag(const struct sysg_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "%s\n", d->lines[i]);
	if (d->dropped)
		fprintf(stderr, "sysg: ... and %zu more errors\n", d->dropped);
}

int sysg_cli_check_privileged(const struct sysg_cli *c,
			      const struct sysg_config *cfg,
			      struct sysg_diag *d)
{
	struct sysg_privs_opts o = {
		.sys = c->sys, .drop_privileges = c->drop_privileges,
	};

	return sysg_privs_check_config(cfg, &o, d);
}

unsigned sysg_cli_config_flags(const struct sysg_cli *c)
{
	return c->strict ? SYSG_CONFIG_STRICT : 0;
}

static int cmd_validate(struct sysg_cli *c)
{
	struct sysg_plugin_path pp;
	struct sysg_config *cfg = NULL;
	struct sysg_diag d;
	char *path = sysg_cli_config_path(c, 0);
	int rc;

	if (!path)
		return SYSG_EXIT_USAGE;
	sysg_diag_init(&d);
	rc = sysg_config_load_flags(path, sysg_cli_config_flags(c), &cfg, &d);
	if (rc == 0) {
		if (sysg_plugin_path_init(&pp, c->plugin_dirs) < 0)
			rc = -ENOMEM;
		else {
			rc = sysg_config_check_plugins(cfg, &pp,
						       c->state_backend, &d);
			sysg_plugin_path_free(&pp);
		}
		/* what start would refuse, with start's messages (the one
		 * check of the privileged keys, privs.h) */
		if (sysg_cli_check_privileged(c, cfg, &d) > 0 && rc == 0)
			rc = -EINVAL;
	}
	if (rc == 0)
		printf("%s: valid (%zu service%s)\n", path, cfg->nservices,
		       cfg->nservices == 1 ? "" : "s");
	else if (d.n == 0)
		sysg_cli_error("%s: %s", path, strerror(-rc));
	sysg_cli_print_diag(&d);
	sysg_diag_free(&d);
	sysg_config_free(cfg);
	free(path);
	return rc == 0 ? SYSG_EXIT_OK : SYSG_EXIT_USAGE;
}

/* ----------------------------------------------------------- plugins */

static void print_plugin(void *arg, const struct sysg_plugin_info *in)
{
	const char *kind = in->kind == SYSG_PLUGIN_STRATEGY ? "strategy" :
			   in->kind == SYSG_PLUGIN_STATE ? "state" : "-";

	(void)arg;
	printf("%-16s %-9s abi %-3u %s\n", in->name, kind,
	       (unsigned)in->abi_version, in->path);
	if (in->error)
		printf("  error: %s\n", in->error);
	else if (in->description && in->description[0])
		printf("  %s\n", in->description);
}

static int cmd_plugins(struct sysg_cli *c)
{
	struct sysg_plugin_path pp;

	if (sysg_plugin_path_init(&pp, c->plugin_dirs) < 0)
		return SYSG_EXIT_FAILED;
	printf("search path:");
	for (size_t i = 0; i < pp.n; i++)
		printf("%s%s", i ? ":" : " ", pp.dirs[i]);
	printf("\n");
	if (sysg_plugin_scan(&pp, print_plugin, NULL) == 0)
		printf("no plugins found\n");
	sysg_plugin_path_free(&pp);
	return SYSG_EXIT_OK;
}

/* -------------------------------------------------------------- main */

static int not_built(struct sysg_cli *c)
{
	sysg_cli_error("'%s' is not implemented yet in this build (sysg %s)",
		       c->command, SYSG_VERSION_STRING);
	return SYSG_EXIT_FAILED;
}

int sysg_cli_main(int argc, char **argv)
{
	struct sysg_cli c;
	const struct command *cmd;
	char *config = NULL;
	int rc;

	if (argc == 2 && !strcmp(argv[1], "__handoff-versions")) {
		sysg_handoff_print_versions();
		return SYSG_EXIT_OK;
	}
	if (argc == 3 && !strcmp(argv[1], "__resume"))
		return sysg_cmd_resume(argv[2]);
	if (argc > 1 && !strncmp(argv[1], "__", 2))
		return sysg_cli_internal(argc - 1, argv + 1);
	memset(&c, 0, sizeof(c));
	c.log_level = 3;
	c.lines = 50;
	c.stream_ms = -1;
	rc = parse_args(&c, argc, argv);
	if (rc != 0) {
		free(c.plugin_dirs);
		return rc > 0 ? SYSG_EXIT_OK : SYSG_EXIT_USAGE;
	}
	/* system mode is root's (as systemg 0.32): its files are root's */
	if (c.sys && geteuid() != 0) {
		sysg_cli_error("--sys requires root: system mode keeps its files "
			       "in " SYSG_SYS_STATE_DIR ", " SYSG_SYS_LOG_DIR
			       " and " SYSG_SYS_RUN_DIR " (run it with sudo, or "
			       "drop --sys for user mode)");
		free(c.plugin_dirs);
		return SYSG_EXIT_USAGE;
	}
	if ((config = config_in_config_dir(&c)))
		c.config = config;
	cmd = find_command(c.command);
	sysg_state_log_to(stderr);      /* the library prints nothing itself */
	rc = c.project ? sysg_cli_project_resolve(&c) : 0;
	if (rc == 0)
		rc = cmd->run ? cmd->run(&c) : not_built(&c);
	free(config);
	free(c.plugin_dirs);
	fflush(stdout);
	return rc;
}
