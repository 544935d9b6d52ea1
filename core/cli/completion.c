/* completion.c - `sysg completion bash|zsh|fish`: shell completion scripts
 * generated from cli.c's command and option tables (clitab.h).
 *
 * The scripts complete commands, options (per command, plus the global
 * ones), option values of a fixed list (--log-level, --kind), files and
 * directories, and ask the sysg being completed for the rest:
 * `sysg __complete services` (the services of the config the command line
 * names, else the default or remembered one) and `sysg __complete
 * strategies|backends` (plugins on the plugin path). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sysg/version.h>

#include "clitab.h"

#define MAX_OPTS 128

/* What an option's value completes to. */
enum value_kind {
	V_NONE,                 /* a flag */
	V_ANY,                  /* free text or a number */
	V_FILE, V_DIR,
	V_SERVICE,              /* a service of the current config */
	V_STRATEGY,             /* a strategy plugin on the plugin path */
	V_BACKEND,              /* a state backend plugin */
	V_WORDS,                /* one of a fixed list */
};

/* Options whose values are more than free text; every other option that
 * takes a value completes nothing. */
static const struct {
	const char *lng;
	enum value_kind kind;
	const char *words;      /* V_WORDS */
} value_kinds[] = {
	{ "config", V_FILE, NULL },
	{ "plugin-dir", V_DIR, NULL },
	{ "state-backend", V_BACKEND, NULL },
	{ "service", V_SERVICE, NULL },
	{ "strategy", V_STRATEGY, NULL },
	{ "log-level", V_WORDS, "trace debug info warn error off" },
	{ "kind", V_WORDS, "stdout stderr supervisor" },
	{ "format", V_WORDS, "table json prometheus" },
};

/* O's one-line description (zsh and fish show it; bash does not). */
static const char *help_of(const struct sysg_cli_opt *o)
{
	return o->help ? o->help : "";
}

/* The kind of O's value; WORDS gets the fixed list of V_WORDS. */
static enum value_kind kind_of(const struct sysg_cli_opt *o,
			       const char **words)
{
	*words = NULL;
	if (o->has_arg != 1)
		return V_NONE;
	for (size_t i = 0; i < sizeof(value_kinds) / sizeof(value_kinds[0]);
	     i++) {
		if (strcmp(value_kinds[i].lng, o->lng))
			continue;
		*words = value_kinds[i].words;
		return value_kinds[i].kind;
	}
	return V_ANY;
}

/* S as one single-quoted word: a quote as '\'' (read alike by sh, zsh
 * and fish); in fish's single quotes a backslash escapes, so FISH doubles
 * it. */
static void put_quoted(const char *s, int fish)
{
	putchar('\'');
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", stdout);
		else if (*s == '\\' && fish)
			fputs("\\\\", stdout);
		else
			putchar(*s);
	}
	putchar('\'');
}

/* What the value of option O completes to, in the word the bash script
 * uses: file, dir, services, strategies, backends, 'words:...', or value
 * (anything). */
static void put_value_kind(const struct sysg_cli_opt *o)
{
	const char *words;

	switch (kind_of(o, &words)) {
	case V_FILE: fputs("file", stdout); return;
	case V_DIR: fputs("dir", stdout); return;
	case V_SERVICE: fputs("services", stdout); return;
	case V_STRATEGY: fputs("strategies", stdout); return;
	case V_BACKEND: fputs("backends", stdout); return;
	case V_WORDS: printf("'words:%s'", words); return;
	default: fputs("value", stdout); return;
	}
}

/* Every command's name, space-separated. */
static void put_commands(void)
{
	const char *name;

	for (size_t i = 0; (name = sysg_cli_command_at(i, NULL)); i++)
		printf("%s%s", i ? " " : "", name);
}

static void put_operand_words(const char *cmd)
{
	const char *w = sysg_cli_operand_words(cmd);

	if (w && !strcmp(w, "@commands"))
		put_commands();
	else if (w)
		fputs(w, stdout);
}

/* ---------------------------------------------------------------- bash */

static void bash_opt_words(const char *cmd)
{
	struct sysg_cli_opt o[MAX_OPTS];
	size_t n = sysg_cli_options_of(cmd, o, MAX_OPTS);

	for (size_t i = 0; i < n && i < MAX_OPTS; i++) {
		printf("%s--%s", i ? " " : "", o[i].lng);
		if (o[i].shrt)
			printf(" -%c", o[i].shrt);
	}
}

/* Call FN once per distinct option name: the global ones (when GLOBAL)
 * and every command's. */
static void each_option_once(int global,
			     void (*fn)(const struct sysg_cli_opt *o))
{
	struct sysg_cli_opt o[MAX_OPTS];
	struct sysg_cli_opt done[2 * MAX_OPTS];
	size_t ndone = 0;

	for (size_t c = global ? 0 : 1;; c++) {
		const char *cmd = c ? sysg_cli_command_at(c - 1, NULL) : NULL;
		size_t n, k;

		if (c && !cmd)
			break;
		n = sysg_cli_options_of(cmd, o, MAX_OPTS);
		for (size_t i = 0; i < n && i < MAX_OPTS; i++) {
			/* one per spelling: -l and -n may both be --lines */
			for (k = 0; k < ndone && (strcmp(done[k].lng, o[i].lng) ||
						  done[k].shrt != o[i].shrt); k++)
				;
			if (k < ndone || ndone == 2 * MAX_OPTS)
				continue;
			done[ndone++] = o[i];
			fn(&o[i]);
		}
	}
}

static void bash_argkind_case(const struct sysg_cli_opt *o)
{
	if (o->has_arg != 1)
		return;
	printf("\t--%s", o->lng);
	if (o->shrt)
		printf("|-%c", o->shrt);
	fputs(") echo ", stdout);
	put_value_kind(o);
	fputs(" ;;\n", stdout);
}

/* _sysg_argkind: the value kind of every option that takes one. Options
 * share their name's meaning across commands, so one case is enough. */
static void bash_argkind(void)
{
	fputs("_sysg_argkind()\n{\n\tcase \"$1\" in\n", stdout);
	each_option_once(1, bash_argkind_case);
	fputs("\t*) return 1 ;;\n\tesac\n}\n\n", stdout);
}

static const char bash_main[] =
"# _sysg_values KIND: complete $cur as a value of that kind.\n"
"_sysg_values()\n"
"{\n"
"\tlocal words\n"
"\tcase $1 in\n"
"\tfile) COMPREPLY=($(compgen -f -- \"$cur\")); compopt -o filenames 2>/dev/null; return ;;\n"
"\tdir) COMPREPLY=($(compgen -d -- \"$cur\")); compopt -o filenames 2>/dev/null; return ;;\n"
"\tservices|strategies|backends)\n"
"\t\twords=$(\"$prog\" __complete \"$1\" \"${ctx[@]}\" 2>/dev/null) ;;\n"
"\twords:*) words=${1#words:} ;;\n"
"\t*) return ;;\n"
"\tesac\n"
"\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
"}\n"
"\n"
"_sysg()\n"
"{\n"
"\tlocal cur=${COMP_WORDS[COMP_CWORD]} prog=${COMP_WORDS[0]}\n"
"\tlocal cmd= opt= i w kind words\n"
"\tlocal -a ctx=()\n"
"\tCOMPREPLY=()\n"
"\t# bash splits --opt=value at '=' (COMP_WORDBREAKS)\n"
"\tif [[ $cur == = ]]; then\n"
"\t\topt=${COMP_WORDS[COMP_CWORD-1]} cur=\n"
"\telif ((COMP_CWORD > 1)) && [[ ${COMP_WORDS[COMP_CWORD-1]} == = ]]; then\n"
"\t\topt=${COMP_WORDS[COMP_CWORD-2]}\n"
"\telif ((COMP_CWORD > 1)); then\n"
"\t\topt=${COMP_WORDS[COMP_CWORD-1]}\n"
"\tfi\n"
"\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
"\t\tw=${COMP_WORDS[i]}\n"
"\t\tif [[ $w == -- ]]; then\n"
"\t\t\t# the command line sysg will run\n"
"\t\t\tif ((i == COMP_CWORD - 1)); then\n"
"\t\t\t\tCOMPREPLY=($(compgen -c -- \"$cur\"))\n"
"\t\t\telse\n"
"\t\t\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
"\t\t\tfi\n"
"\t\t\treturn 0\n"
"\t\telif [[ $w == -* ]]; then\n"
"\t\t\t[[ $w == --sys ]] && ctx+=(--sys)\n"
"\t\t\t_sysg_argkind \"$w\" >/dev/null || continue\n"
"\t\t\t((i + 1 < COMP_CWORD)) && [[ ${COMP_WORDS[i+1]} == = ]] && ((i++))\n"
"\t\t\t((i + 1 < COMP_CWORD)) || break\n"
"\t\t\t((i++))\n"
"\t\t\tcase $w in\n"
"\t\t\t--config|-c|--plugin-dir) ctx+=(\"$w\" \"${COMP_WORDS[i]}\") ;;\n"
"\t\t\tesac\n"
"\t\telif [[ -z $cmd ]]; then\n"
"\t\t\tcmd=$w\n"
"\t\tfi\n"
"\tdone\n"
"\tif [[ $opt == -* ]] && kind=$(_sysg_argkind \"$opt\"); then\n"
"\t\t_sysg_values \"$kind\"\n"
"\t\treturn 0\n"
"\tfi\n"
"\tif [[ -z $cmd ]]; then\n"
"\t\tif [[ $cur == -* ]]; then words=$_sysg_global; else words=$_sysg_commands; fi\n"
"\telif [[ $cur == -* ]]; then\n"
"\t\twords=\"$(_sysg_options \"$cmd\") $_sysg_global\"\n"
"\telse\n"
"\t\twords=$(_sysg_operands \"$cmd\")\n"
"\tfi\n"
"\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
"\treturn 0\n"
"}\n"
"\n"
"complete -F _sysg sysg\n";

static void print_bash(void)
{
	const char *name;

	printf("# bash completion for sysg(1)                 -*- shell-script -*-\n"
	       "# Generated by `sysg completion bash` (sysg %s) from sysg's option\n"
	       "# table: commands, options, service names from the current config,\n"
	       "# strategies and state backends from the plugin path.\n\n",
	       SYSG_VERSION_STRING);
	fputs("_sysg_commands='", stdout);
	put_commands();
	fputs("'\n_sysg_global='", stdout);
	bash_opt_words(NULL);
	fputs("'\n\n", stdout);
	bash_argkind();
	fputs("_sysg_options()\n{\n\tcase $1 in\n", stdout);
	for (size_t i = 0; (name = sysg_cli_command_at(i, NULL)); i++) {
		printf("\t%s) echo '", name);
		bash_opt_words(name);
		fputs("' ;;\n", stdout);
	}
	fputs("\tesac\n}\n\n_sysg_operands()\n{\n\tcase $1 in\n", stdout);
	for (size_t i = 0; (name = sysg_cli_command_at(i, NULL)); i++) {
		if (!sysg_cli_operand_words(name))
			continue;
		printf("\t%s) echo '", name);
		put_operand_words(name);
		fputs("' ;;\n", stdout);
	}
	fputs("\tesac\n}\n\n", stdout);
	fputs(bash_main, stdout);
}

/* ----------------------------------------------------------------- zsh */

/* The _arguments action completing O's value, into BUF. */
static const char *zsh_action(const struct sysg_cli_opt *o, char *buf,
			      size_t len)
{
	const char *words;

	switch (kind_of(o, &words)) {
	case V_FILE: return "_files";
	case V_DIR: return "_files -/";
	case V_SERVICE: return "_sysg_names services";
	case V_STRATEGY: return "_sysg_names strategies";
	case V_BACKEND: return "_sysg_names backends";
	case V_WORDS: snprintf(buf, len, "(%s)", words); return buf;
	default: return " ";
	}
}

/* O's description for an _arguments spec: [ ] : and \ escaped. */
static const char *zsh_help(const struct sysg_cli_opt *o, char *buf,
			    size_t len)
{
	size_t n = 0;

	for (const char *h = help_of(o); *h && n + 3 < len; h++) {
		if (strchr("[]:\\", *h))
			buf[n++] = '\\';
		buf[n++] = *h;
	}
	buf[n] = '\0';
	return buf;
}

/* One _arguments spec per spelling of each option of CMD (NULL: global),
 * each line ending with EOL; a long option shared by two entries (-l and
 * -n for --lines) is written once. */
static void zsh_specs(const char *cmd, const char *eol)
{
	struct sysg_cli_opt o[MAX_OPTS];
	size_t n = sysg_cli_options_of(cmd, o, MAX_OPTS);
	char spec[1024], help[256], action[256], name[64];

	for (size_t i = 0; i < n && i < MAX_OPTS; i++) {
		size_t k;

		for (k = 0; k < i && strcmp(o[k].lng, o[i].lng); k++)
			;
		for (int s = k < i ? 1 : 0; s < 2; s++) {
			if (s == 1 && !o[i].shrt)
				continue;
			if (s == 0)
				snprintf(name, sizeof(name), "--%s", o[i].lng);
			else
				snprintf(name, sizeof(name), "-%c", o[i].shrt);
			zsh_help(&o[i], help, sizeof(help));
			if (o[i].has_arg == 1)
				snprintf(spec, sizeof(spec), "%s[%s]:%s:%s", name,
					 help, o[i].lng,
					 zsh_action(&o[i], action,
						    sizeof(action)));
			else
				snprintf(spec, sizeof(spec), "%s[%s]", name,
					 help);
			fputs(cmd ? "\t\t\t\t" : "\t\t", stdout);
			put_quoted(spec, 0);
			fputs(eol, stdout);
		}
	}
}

static const char zsh_names[] =
"# _sysg_names [compadd options] services|strategies|backends: ask the sysg\n"
"# being completed, with the --config, --plugin-dir and --sys of the command\n"
"# line (_arguments puts its compadd options first).\n"
"_sysg_names() {\n"
"\tlocal -a ctx names expl\n"
"\tlocal i what=$argv[-1]\n"
"\targv[-1]=()\n"
"\tfor ((i = 2; i < ${#_sysg_words}; i++)); do\n"
"\t\tcase ${_sysg_words[i]} in\n"
"\t\t--config|-c|--plugin-dir) ctx+=(${_sysg_words[i]} ${_sysg_words[i+1]}) ;;\n"
"\t\t--sys) ctx+=(--sys) ;;\n"
"\t\tesac\n"
"\tdone\n"
"\tnames=(${(f)\"$(${_sysg_words[1]} __complete $what \"${ctx[@]}\" 2>/dev/null)\"})\n"
"\t_wanted $what expl ${what%s} compadd \"$@\" -a names\n"
"}\n\n";

static void print_zsh(void)
{
	const char *name, *summary, *w;

	printf("#compdef sysg\n"
	       "# zsh completion for sysg(1), generated by `sysg completion zsh`\n"
	       "# (sysg %s) from sysg's option table.\n\n", SYSG_VERSION_STRING);
	fputs(zsh_names, stdout);
	fputs("_sysg() {\n"
	      "\tlocal curcontext=\"$curcontext\" state line ret=1\n"
	      "\tlocal -a _sysg_words global cmds\n"
	      "\t_sysg_words=(\"${words[@]}\")\n"
	      "\tglobal=(\n", stdout);
	zsh_specs(NULL, "\n");
	fputs("\t)\n\tcmds=(\n", stdout);
	for (size_t i = 0; (name = sysg_cli_command_at(i, &summary)); i++) {
		char item[256];

		snprintf(item, sizeof(item), "%s:%s", name, summary);
		fputs("\t\t", stdout);
		put_quoted(item, 0);
		fputs("\n", stdout);
	}
	fputs("\t)\n"
	      "\t_arguments -C $global '1: :->command' '*:: :->args' && ret=0\n"
	      "\tcase $state in\n"
	      "\tcommand)\n"
	      "\t\t_describe -t commands 'sysg command' cmds && ret=0 ;;\n"
	      "\targs)\n"
	      "\t\tcase $line[1] in\n", stdout);
	for (size_t i = 0; (name = sysg_cli_command_at(i, NULL)); i++) {
		printf("\t\t%s)\n\t\t\t_arguments $global \\\n", name);
		zsh_specs(name, " \\\n");
		w = sysg_cli_operand_words(name);
		if (w) {
			fputs("\t\t\t\t'1:operand:(", stdout);
			put_operand_words(name);
			fputs(")' \\\n", stdout);
		}
		if (sysg_cli_takes_argv(name))
			fputs("\t\t\t\t'*::command:_normal' \\\n", stdout);
		fputs("\t\t\t\t&& ret=0 ;;\n", stdout);
	}
	fputs("\t\tesac ;;\n\tesac\n\treturn ret\n}\n\n"
	      "if [ \"$funcstack[1]\" = \"_sysg\" ]; then\n"
	      "\t_sysg \"$@\"\nelse\n\tcompdef _sysg sysg\nfi\n", stdout);
}

/* ---------------------------------------------------------------- fish */

static void fish_value(const struct sysg_cli_opt *o)
{
	const char *words;

	switch (kind_of(o, &words)) {
	case V_NONE: return;
	case V_FILE: fputs(" -r -F", stdout); return;
	case V_DIR:
		fputs(" -x -a '(__fish_complete_directories)'", stdout);
		return;
	case V_SERVICE:
		fputs(" -x -a '(__sysg_names services)'", stdout);
		return;
	case V_STRATEGY:
		fputs(" -x -a '(__sysg_names strategies)'", stdout);
		return;
	case V_BACKEND:
		fputs(" -x -a '(__sysg_names backends)'", stdout);
		return;
	case V_WORDS: printf(" -x -a '%s'", words); return;
	case V_ANY: fputs(" -x", stdout); return;
	}
}

static void fish_option(const struct sysg_cli_opt *o, const char *cond)
{
	printf("complete -c sysg");
	if (cond)
		printf(" -n '__fish_seen_subcommand_from %s'", cond);
	printf(" -l %s", o->lng);
	if (o->shrt)
		printf(" -s %c", o->shrt);
	fish_value(o);
	fputs(" -d ", stdout);
	put_quoted(help_of(o), 1);
	fputs("\n", stdout);
}

/* Option O after every command that takes it. */
static void fish_command_option(const struct sysg_cli_opt *o)
{
	struct sysg_cli_opt p[MAX_OPTS];
	const char *cmd;
	char cond[512];
	size_t len = 0;

	cond[0] = '\0';
	for (size_t c = 0; (cmd = sysg_cli_command_at(c, NULL)); c++) {
		size_t m = sysg_cli_options_of(cmd, p, MAX_OPTS);

		for (size_t j = 0; j < m && j < MAX_OPTS; j++) {
			if (strcmp(p[j].lng, o->lng) ||
			    len + strlen(cmd) + 2 >= sizeof(cond))
				continue;
			len += (size_t)snprintf(cond + len, sizeof(cond) - len,
						"%s%s", len ? " " : "", cmd);
			break;
		}
	}
	fish_option(o, cond);
}

static const char fish_names[] =
"# __sysg_names services|strategies|backends: ask the sysg being completed,\n"
"# with the --config, --plugin-dir and --sys of the command line.\n"
"function __sysg_names\n"
"    set -l words (commandline -opc)\n"
"    set -l ctx\n"
"    set -l i 2\n"
"    while test $i -le (count $words)\n"
"        switch $words[$i]\n"
"            case --config -c --plugin-dir\n"
"                set -l j (math $i + 1)\n"
"                if test $j -le (count $words)\n"
"                    set ctx $ctx $words[$i] $words[$j]\n"
"                end\n"
"            case --sys\n"
"                set ctx $ctx --sys\n"
"        end\n"
"        set i (math $i + 1)\n"
"    end\n"
"    $words[1] __complete $argv[1] $ctx 2>/dev/null\n"
"end\n\n";

static void print_fish(void)
{
	struct sysg_cli_opt o[MAX_OPTS];
	const char *name, *summary;
	size_t n;

	printf("# fish completion for sysg(1), generated by `sysg completion fish`\n"
	       "# (sysg %s) from sysg's option table.\n\n", SYSG_VERSION_STRING);
	fputs(fish_names, stdout);
	fputs("complete -c sysg -f\n", stdout);
	for (size_t i = 0; (name = sysg_cli_command_at(i, &summary)); i++) {
		printf("complete -c sysg -n 'not __fish_seen_subcommand_from ");
		put_commands();
		printf("' -a %s -d ", name);
		put_quoted(summary, 1);
		fputs("\n", stdout);
	}
	for (size_t i = 0; (name = sysg_cli_command_at(i, NULL)); i++) {
		if (!sysg_cli_operand_words(name))
			continue;
		printf("complete -c sysg -n "
		       "'__fish_seen_subcommand_from %s' -a '", name);
		put_operand_words(name);
		fputs("'\n", stdout);
	}
	n = sysg_cli_options_of(NULL, o, MAX_OPTS);
	for (size_t i = 0; i < n && i < MAX_OPTS; i++)
		fish_option(&o[i], NULL);
	each_option_once(0, fish_command_option);
}

int sysg_cli_print_completion(const char *shell)
{
	if (!strcmp(shell, "bash"))
		print_bash();
	else if (!strcmp(shell, "zsh"))
		print_zsh();
	else if (!strcmp(shell, "fish"))
		print_fish();
	else
		return -EINVAL;
	return 0;
}
