/* spawn.h - start one process the way sysg runs services, hooks, probes.
 *
 * The child gets its own session and process group (setsid), an empty
 * signal mask and default dispositions, the given environment and working
 * directory, and nothing but fds 0-2 and its listening sockets (every
 * other fd is closed). A command
 * without shell syntax is exec'd directly (split on blanks, '...' and
 * "..." quotes honoured); a simple shell command runs as
 * `/bin/sh -c 'exec CMD'` so the tracked pid is the program itself; a
 * compound one (`a && b`, `cmd &`, `for ...`) runs as `/bin/sh -c CMD`.
 * An exec failure (command not found...) is reported to the caller
 * through a close-on-exec pipe, never as a mysterious exit 127.
 */
#ifndef SYSG_SPAWN_H
#define SYSG_SPAWN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* How the child's stdout/stderr are set up. */
#define SYSG_SPAWN_PIPE    (-1)  /* a pipe; the read end is returned */
#define SYSG_SPAWN_DEVNULL (-2)  /* /dev/null */

/* Optional privilege settings applied in the child before exec (root). */
struct sysg_spawn_creds {
	int set_ids;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;
};

struct sysg_spawn_req {
	const char *command;    /* shell-style command line */
	int force_shell;        /* always `/bin/sh -c COMMAND` (hooks, probes) */
	char *const *envp;      /* NULL: the current environment */
	const char *cwd;        /* NULL: unchanged */
	int out_fd;             /* an fd to dup2, or SYSG_SPAWN_PIPE/DEVNULL */
	int err_fd;
	int cgroup_fd;          /* cgroup directory to start in, or -1 */
	const struct sysg_spawn_creds *creds;   /* NULL: none */
	/* Called in the child after fork, before CREDS are applied and
	 * before exec (may be NULL); a non-zero return is reported as the
	 * exec errno, with *STAGE (a static string naming the step that
	 * failed, may be left NULL) in the message. */
	int (*child_setup)(void *arg, const char **stage);
	void *child_arg;
	/* Sockets passed the sd_listen_fds(3) way: LISTEN_FDS[i] becomes fd
	 * 3 + i with LISTEN_FDS, LISTEN_FDNAMES (LISTEN_NAMES, ':'-joined)
	 * and LISTEN_PID (the child's own pid, set after fork) in its
	 * environment. Stale LISTEN_* variables are always removed. */
	const int *listen_fds;
	size_t nlisten;
	const char *listen_names;
	/* sd_notify(3): NOTIFY_SOCKET when not NULL; WATCHDOG_USEC and
	 * WATCHDOG_PID (the child's pid) when WATCHDOG_USEC > 0. Stale
	 * NOTIFY_SOCKET and WATCHDOG_* are always removed. */
	const char *notify_socket;
	uint64_t watchdog_usec;
	/* Namespaces (CLONE_NEW* flags) the child is created in, through
	 * clone3(2); 0: none. */
	unsigned long long clone_flags;
	/* Called in the parent (with CHILD_ARG) once the child exists and
	 * before it goes on (it waits for this): what must be done from
	 * outside, like id maps and cgroup moves. 0, or -errno with a
	 * message in ERR: the child is then killed. May be NULL. */
	int (*parent_setup)(pid_t pid, void *arg, char *err, size_t errlen);
	/* Do not wait for the exec: the child's exec-status pipe is handed
	 * back in OUT->exec_fd for sysg_spawn_exec_result(), so that many
	 * spawns in a row do not each wait for their child to be scheduled
	 * and exec. An exec failure then comes from there (the child exits
	 * 127 right after reporting it). */
	int async_exec;
};

struct sysg_child {
	pid_t pid;
	int out_fd;             /* read end when SYSG_SPAWN_PIPE, else -1 */
	int err_fd;
	uint64_t start_ticks;   /* /proc/PID/stat starttime, 0 if unknown */
	int exec_fd;            /* async_exec: the exec-status pipe (read
	                           end, non-blocking, close-on-exec; the
	                           caller closes it), else -1 */
};

/* Spawn REQ. On success returns 0 and fills *OUT (pipe read ends are
 * non-blocking and close-on-exec; the caller owns them and must reap
 * the pid). On failure returns a negative errno (-ENOENT: command not
 * found, -EACCES: not executable, -EAGAIN: fork failed...) with a
 * message in ERR; no child is left behind. */
int sysg_spawn(const struct sysg_spawn_req *req, struct sysg_child *out,
	       char *err, size_t errlen);

/* The outcome of an async_exec spawn of COMMAND, from its EXEC_FD: 1
 * not known yet (the child has not exec'd nor failed: wait for EXEC_FD
 * to be readable), 0 the exec happened, or the negative errno of the
 * failure with the same message in ERR as sysg_spawn gives. */
int sysg_spawn_exec_result(int exec_fd, const char *command, char *err,
			   size_t errlen);

/* How COMMAND would be run. */
enum sysg_cmd_kind {
	SYSG_CMD_DIRECT,        /* no shell syntax: exec'd directly */
	SYSG_CMD_SHELL_EXEC,    /* simple shell command: sh -c 'exec ...' */
	SYSG_CMD_SHELL,         /* compound: sh -c as written */
};
enum sysg_cmd_kind sysg_cmd_classify(const char *command);

/* Split a command without shell syntax into a malloc'd, NULL-terminated
 * argv (free with sysg_argv_free). NULL on ENOMEM, or when the command
 * needs a shell (check sysg_cmd_classify first). */
char **sysg_cmd_split(const char *command);
void sysg_argv_free(char **argv);

/* Quote ARGV into one command line that sysg_cmd_split gives back
 * unchanged (for `sysg start -- CMD ARGS`). Malloc'd, NULL on ENOMEM. */
char *sysg_cmd_join(char *const *argv);

#endif
