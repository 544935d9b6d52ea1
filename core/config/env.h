/* env.h - environment files, merging and $VAR / ${VAR} expansion.
 *
 * An env is a NULL-terminated array of malloc'd "KEY=VALUE" strings (the
 * envp shape execve wants), owned by the caller: free with sysg_env_free. */
#ifndef SYSG_ENV_H
#define SYSG_ENV_H

#include <stddef.h>

#include "base/base.h"

/* A copy of ENVP (e.g. environ). NULL on allocation failure. */
char **sysg_env_dup(char *const *envp);
void sysg_env_free(char **env);

/* A read-only copy of ENV in one allocation whose entries equal to the
 * same-index entry of BASE point at one shared copy of BASE's strings
 * (a thousand services of one file hold its environment once, not a
 * thousand times). SHARED is that copy: NULL the first time (it is made
 * from BASE), then the value returned through it, for every ENV frozen
 * against the same BASE; each frozen env holds a reference. NULL on
 * allocation failure. Free with sysg_env_frozen_free, never modify. */
struct sysg_env_shared;
char **sysg_env_freeze(char *const *env, char *const *base,
		       struct sysg_env_shared **shared);
void sysg_env_frozen_free(char **frozen);

/* Value of KEY in ENV, or NULL (points into ENV). */
const char *sysg_env_get(char *const *env, const char *key);

/* Set KEY=VALUE in *ENV, replacing an existing KEY. 0 or -ENOMEM. */
int sysg_env_set(char ***env, const char *key, const char *value);

/* Remove KEY from ENV when its value is VALUE (any value when VALUE is
 * NULL); the array keeps its allocation. */
void sysg_env_unset(char **env, const char *key, const char *value);

/* Why FILE cannot be read as an env file (NULL: it can): only regular
 * files of a sane size, since reading /dev/zero or a FIFO never ends.
 * The reason may be written into BUF. */
const char *sysg_env_file_problem(const char *file, char *buf, size_t len);

/* Read an env file: KEY=VALUE lines, blank lines and '#' comments, an
 * optional "export " prefix, values optionally in single or double quotes
 * (double quotes understand \n \t \\ \"), trailing " # comment" after an
 * unquoted value. Each pair is applied with sysg_env_set in file order.
 * A bad line (no '=', invalid key, unterminated quote) adds
 * "PATH:LINE:COL: error: KEYPATH: ..." to DIAG and makes the call fail
 * after the whole file is read (nothing from a bad file is applied).
 * Returns 0, -ENOENT/-EACCES (reported in DIAG too) or -EINVAL. */
int sysg_env_file_apply(const char *path, const char *keypath, char ***env,
			struct sysg_diag *diag);

/* Expansion of "$NAME" and "${NAME}" (SPEC 11, systemg 0.32's rule: a
 * name is [A-Za-z_][A-Za-z0-9_]*). "$$" before a reference is that
 * reference's text, literally ("$$HOME" is the text "$HOME"); any other
 * '$' is text.
 *
 * A scan looks references up in ENV. A name that is not set is an error
 * unless ALLOWED (may be NULL) accepts it: the first such reference is
 * located by BAD_OFF / BAD_LEN (bytes into the input) and the call
 * returns -ENOENT. */
struct sysg_env_scan {
	char *const *env;
	int (*allowed)(const char *name, size_t len, void *arg);
	void *arg;
	size_t bad_off, bad_len;
};

/* Text that no shell will read (paths, URLs, names, numbers): every
 * reference replaced by its value. An allowed unset name stays as
 * written. 0 and a malloc'd *OUT, -ENOENT, -ENOMEM. */
int sysg_env_subst(const char *s, struct sysg_env_scan *sc, char **out);

/* A command that runs under `sh -c`: references are checked, but left for
 * the shell, which expands them from the environment the command runs
 * with (the service's), so a value is always data, never shell code.
 * Each becomes "${NAME}", where it was written: inside '...' it is text
 * for a nested shell (`sh -c 'echo $X'`), which expands it the same way.
 * "$$NAME" gives the shell "$NAME" (its own variable); "\$NAME" outside
 * '...' is the shell's escape and is left alone. Same returns as
 * sysg_env_subst. */
int sysg_env_shell(const char *s, struct sysg_env_scan *sc, char **out);

/* A service command: when S has no shell syntax besides its references,
 * and none of them is inside '...' (text for a nested shell) or set only
 * at run time, sysg expands them itself, word by word, and quotes each
 * word so that the spawner execs the words directly (no shell parses a
 * value). As in a shell, a value outside quotes splits into words at
 * blanks (`cmd $FLAGS`; an empty one gives no word) and one inside "..."
 * stays one word. Otherwise as sysg_env_shell. A command without '$' is returned as is.
 * Same returns as sysg_env_subst. */
int sysg_env_command(const char *s, struct sysg_env_scan *sc, char **out);

/* S with every reference escaped ("$X" -> "$$X"): text that expansion
 * gives back unchanged (a command line from argv, already expanded by the
 * user's shell). Malloc'd, NULL on allocation failure. */
char *sysg_env_escape(const char *s);

/* A service's command as written (command_raw) made ready to spawn with
 * ENV (a deploy candidate's or a blue/green slot's environment), by the
 * same rule as at load time (sysg_env_command): a value never becomes
 * shell code. Unset names are left for the shell. Malloc'd, NULL on
 * allocation failure. */
char *sysg_env_command_with(const char *raw, char *const *env);

/* Expand the references of S from ENV, leaving unset ones as written (for
 * text no shell reads). Malloc'd, NULL on allocation failure. */
char *sysg_env_expand(const char *s, char *const *env);

/* 1 when NAME is a valid variable name ([A-Za-z_][A-Za-z0-9_]*). */
int sysg_env_valid_name(const char *name);

#endif
