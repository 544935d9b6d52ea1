/* clitab.h - the command line as data (inside the cli wing).
 *
 * cli.c owns the tables of commands and options that its parser uses.
 * The same tables are read here by the shell completion generator
 * (completion.c) and by the internal commands that list them for the man
 * page check (internal.c), so a new option is parsed, completed and
 * checked for documentation from one line of cli.c. */
#ifndef SYSG_CLITAB_H
#define SYSG_CLITAB_H

#include <stddef.h>

struct sysg_cli_opt {
	const char *lng;                /* without the leading "--" */
	char shrt;                      /* 0 when none */
	int has_arg;                    /* 0: a flag; 1: takes a value;
	                                   2: an optional value (--stream [D]) */
	const char *help;               /* one line, or NULL */
};

/* The I-th public command (0-based) and its one-line summary, or NULL
 * past the end. Internal commands (named "__...") are not listed. */
const char *sysg_cli_command_at(size_t i, const char **summary);

/* Copy into OUT (room for MAX) the options COMMAND takes besides the
 * global ones; COMMAND NULL copies the global options. Returns how many
 * there are (may exceed MAX; only MAX are copied). */
size_t sysg_cli_options_of(const char *command, struct sysg_cli_opt *out,
			   size_t max);

/* 1 when COMMAND takes a command line after "--". */
int sysg_cli_takes_argv(const char *command);

/* The words an operand of COMMAND can be ("help" takes a command name,
 * "completion" a shell), space-separated; NULL when it takes none. The
 * commands' names are returned as the string "@commands". */
const char *sysg_cli_operand_words(const char *command);

struct sysg_cli;

/* Append DIR to C's --plugin-dir list. 0 or -ENOMEM. */
int sysg_cli_add_plugin_dir(struct sysg_cli *c, const char *dir);

/* Print the completion script for SHELL ("bash", "zsh" or "fish") on
 * stdout (completion.c). 0, or -EINVAL for another shell. */
int sysg_cli_print_completion(const char *shell);

/* The hidden commands of internal.c: `sysg __list-options`,
 * `sysg __list-keys`, `sysg __complete WHAT [--config F] [--plugin-dir D]`.
 * ARGV[0] is the internal command's name. Returns an exit status. */
int sysg_cli_internal(int argc, char **argv);

#endif
