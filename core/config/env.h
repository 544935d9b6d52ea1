/* env.h - environment files, merging and ${VAR} expansion.
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

/* Value of KEY in ENV, or NULL (points into ENV). */
const char *sysg_env_get(char *const *env, const char *key);

/* Set KEY=VALUE in *ENV, replacing an existing KEY. 0 or -ENOMEM. */
int sysg_env_set(char ***env, const char *key, const char *value);

/* Remove KEY from ENV when its value is VALUE (any value when VALUE is
 * NULL); the array keeps its allocation. */
void sysg_env_unset(char **env, const char *key, const char *value);

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

/* Expand ${NAME} from ENV in S. Names that are not set are left as written
 * (so a shell running the command expands them the same way); "$${" is a
 * literal "${". Returns a malloc'd string, or NULL on allocation failure. */
char *sysg_env_expand(const char *s, char *const *env);

/* 1 when NAME is a valid variable name ([A-Za-z_][A-Za-z0-9_]*). */
int sysg_env_valid_name(const char *name);

#endif
