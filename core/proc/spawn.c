/* spawn.c - fork/exec with sessions, pipes and exec-failure reporting. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "config/config.h"
#include "proctree.h"
#include "spawn.h"

extern char **environ;

#define SHELL_PATH "/bin/sh"
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* ------------------------------------------------------------------ */
/* Command classification                                              */
/* ------------------------------------------------------------------ */

static const char *const shell_words[] = {
	"if", "then", "else", "elif", "fi", "case", "esac", "for", "while",
	"until", "do", "done", "function", "select", "time", "!", "{", "}",
	"[[", "]]", "exec", "cd", ".", "source", "export", "eval", "set",
	"ulimit", "umask", "trap", "wait", "read", "unset", "shift", "alias",
	"local", "readonly", "command", "builtin", NULL,
};

static int is_shell_word(const char *w, size_t n)
{
	for (int i = 0; shell_words[i]; i++)
		if (strlen(shell_words[i]) == n && !strncmp(shell_words[i], w, n))
			return 1;
	return 0;
}

/* Characters that make a command need a shell outside quotes. */
static int is_meta(char c)
{
	return strchr("|&;<>()$`\\*?[]#~{}!\n=%^", c) != NULL;
}

struct splitter {
	const char *s;
	char **argv;
	size_t n;
	int need_shell;
};

/* Read one word at *P into BUF (capacity >= strlen(s) + 1). */
static int split_word(const char **p, char *buf)
{
	size_t len = 0;
	const char *q = *p;

	while (*q && *q != ' ' && *q != '\t') {
		if (*q == '\'' || *q == '"') {
			const char *end = strchr(q + 1, *q);

			if (!end)
				return -1;
			for (const char *c = q + 1; c < end; c++)
				if (*q == '"' && strchr("$`\\", *c))
					return -1;
			memcpy(buf + len, q + 1, (size_t)(end - q - 1));
			len += (size_t)(end - q - 1);
			q = end + 1;
			continue;
		}
		if (is_meta(*q))
			return -1;
		buf[len++] = *q++;
	}
	buf[len] = '\0';
	*p = q;
	return 0;
}

static int split_push(struct splitter *sp, const char *word)
{
	char **nv = realloc(sp->argv, (sp->n + 2) * sizeof(*nv));

	if (!nv)
		return -1;
	sp->argv = nv;
	sp->argv[sp->n] = strdup(word);
	if (!sp->argv[sp->n])
		return -1;
	sp->argv[++sp->n] = NULL;
	return 0;
}

void sysg_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

static char **split_fail(struct splitter *sp, char *buf)
{
	free(buf);
	sysg_argv_free(sp->argv);
	return NULL;
}

char **sysg_cmd_split(const char *command)
{
	struct splitter sp = { .s = command };
	char *buf = malloc(strlen(command) + 1);
	const char *p = command;

	if (!buf)
		return NULL;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (split_word(&p, buf) < 0 || split_push(&sp, buf) < 0)
			return split_fail(&sp, buf);
	}
	free(buf);
	if (!sp.argv || is_shell_word(sp.argv[0], strlen(sp.argv[0]))) {
		sysg_argv_free(sp.argv);
		return NULL;
	}
	return sp.argv;
}

/* 1 when C at S[I] is a control operator outside quotes. */
static int is_control(const char *s, size_t i)
{
	char c = s[i];

	if (c == ';' || c == '|' || c == '\n')
		return 1;
	if (c == '(')
		return i == 0 || s[i - 1] != '$';
	if (c == '&')
		return !(i > 0 && (s[i - 1] == '>' || s[i - 1] == '<')) &&
		       s[i + 1] != '>';
	return 0;
}

static int has_control_operator(const char *s)
{
	char quote = 0;

	for (size_t i = 0; s[i]; i++) {
		if (quote) {
			if (s[i] == '\\' && quote == '"' && s[i + 1])
				i++;
			else if (s[i] == quote)
				quote = 0;
			continue;
		}
		if (s[i] == '\\' && s[i + 1])
			i++;
		else if (s[i] == '\'' || s[i] == '"')
			quote = s[i];
		else if (is_control(s, i))
			return 1;
	}
	return quote != 0;
}

static int first_word_is_special(const char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strcspn(s, " \t");
	if (is_shell_word(s, n))
		return 1;
	/* VAR=value cmd: `exec VAR=value` would not work */
	return memchr(s, '=', n) != NULL;
}

enum sysg_cmd_kind sysg_cmd_classify(const char *command)
{
	char **argv = sysg_cmd_split(command);

	if (argv) {
		sysg_argv_free(argv);
		return SYSG_CMD_DIRECT;
	}
	if (has_control_operator(command) || first_word_is_special(command))
		return SYSG_CMD_SHELL;
	return SYSG_CMD_SHELL_EXEC;
}

static int needs_quotes(const char *a)
{
	if (!*a)
		return 1;
	for (; *a; a++)
		if (*a == ' ' || *a == '\t' || *a == '\'' || *a == '"' ||
		    is_meta(*a))
			return 1;
	return 0;
}

char *sysg_cmd_join(char *const *argv)
{
	size_t cap = 1;
	char *out, *o;

	for (char *const *a = argv; *a; a++)
		cap += 4 * strlen(*a) + 3;
	out = o = malloc(cap);
	if (!out)
		return NULL;
	for (char *const *a = argv; *a; a++) {
		if (a != argv)
			*o++ = ' ';
		if (!needs_quotes(*a)) {
			o = stpcpy(o, *a);
			continue;
		}
		*o++ = '\'';
		for (const char *c = *a; *c; c++)
			o = *c == '\'' ? stpcpy(o, "'\\''") : (*o = *c, o + 1);
		*o++ = '\'';
	}
	*o = '\0';
	return out;
}

/* ------------------------------------------------------------------ */
/* The child side                                                      */
/* ------------------------------------------------------------------ */

struct child_plan {
	char **argv;
	char *const *envp;
	int out_fd, err_fd;     /* write ends or target fds, -2 devnull */
	int errpipe;
	int syncfd;             /* read: the parent's go-ahead, or -1 */
	int in_cgroup;          /* already born in req->cgroup_fd */
	const struct sysg_spawn_req *req;
	char *pid_slots[2];     /* LISTEN_PID, WATCHDOG_PID values to fill */
	char **own_env;         /* envp as spawn built it (freed) */
};

#define PID_DIGITS 20

/* The variables of the service protocols (sd_listen_fds(3),
 * sd_notify(3), sd_watchdog_enabled(3)) only a spawn that asks for them
 * gets: stale ones are never passed on. */
static int is_protocol_var(const char *e)
{
	static const char *const vars[] = {
		"LISTEN_PID=", "LISTEN_FDS=", "LISTEN_FDNAMES=",
		"NOTIFY_SOCKET=", "WATCHDOG_USEC=", "WATCHDOG_PID=", NULL };

	for (int i = 0; vars[i]; i++)
		if (!strncmp(e, vars[i], strlen(vars[i])))
			return 1;
	return 0;
}

/* Set KEY to a blank placeholder the child overwrites with its pid. */
static int pid_var(struct child_plan *cp, const char *key, int slot)
{
	char pid[PID_DIGITS + 1];
	size_t kl = strlen(key);

	memset(pid, ' ', PID_DIGITS);
	pid[PID_DIGITS] = '\0';
	if (sysg_env_set(&cp->own_env, key, pid) < 0)
		return -ENOMEM;
	cp->pid_slots[slot] = NULL;
	for (char **e = cp->own_env; *e; e++)
		if (!strncmp(*e, key, kl) && (*e)[kl] == '=')
			cp->pid_slots[slot] = *e + kl + 1;
	return 0;
}

/* ENVP without stale protocol variables, plus this spawn's, into
 * CP->own_env. 0 or -ENOMEM. */
static int protocol_env(struct child_plan *cp, char *const *envp)
{
	const struct sysg_spawn_req *req = cp->req;
	char num[24];
	size_t n = 0, k = 0;
	char **env;

	while (envp[n])
		n++;
	env = cp->own_env = calloc(n + 1, sizeof(*env));
	if (!env)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!is_protocol_var(envp[i]) && !(env[k++] = strdup(envp[i])))
			return -ENOMEM;
	if (req->nlisten) {
		snprintf(num, sizeof(num), "%zu", req->nlisten);
		if (sysg_env_set(&cp->own_env, "LISTEN_FDS", num) < 0 ||
		    sysg_env_set(&cp->own_env, "LISTEN_FDNAMES",
				 req->listen_names ? req->listen_names : "") <
		    0 || pid_var(cp, "LISTEN_PID", 0) < 0)
			return -ENOMEM;
	}
	if (req->notify_socket &&
	    sysg_env_set(&cp->own_env, "NOTIFY_SOCKET", req->notify_socket) < 0)
		return -ENOMEM;
	if (req->watchdog_usec > 0) {
		snprintf(num, sizeof(num), "%llu",
			 (unsigned long long)req->watchdog_usec);
		if (sysg_env_set(&cp->own_env, "WATCHDOG_USEC", num) < 0 ||
		    pid_var(cp, "WATCHDOG_PID", 1) < 0)
			return -ENOMEM;
	}
	cp->envp = cp->own_env;
	return 0;
}

static const char *env_path(char *const *envp)
{
	for (; envp && *envp; envp++)
		if (!strncmp(*envp, "PATH=", 5))
			return *envp + 5;
	return DEFAULT_PATH;
}

/* execvpe with PATH taken from the child's environment. */
static int exec_path(char **argv, char *const *envp)
{
	const char *path = env_path(envp);
	char buf[SYSG_IO_CHUNK];
	int saved = ENOENT;

	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, envp);
		return errno;
	}
	while (*path) {
		size_t n = strcspn(path, ":");

		if (snprintf(buf, sizeof(buf), "%.*s%s%s", (int)n, path,
			     n ? "/" : "", argv[0]) < (int)sizeof(buf)) {
			execve(buf, argv, envp);
			if (errno == EACCES || errno == ENOEXEC)
				saved = errno;
		}
		path += n;
		if (*path == ':')
			path++;
	}
	return saved;
}

/* What a child that could not exec tells its parent, in one write. */
struct exec_status {
	int e;
	char stage[60];         /* the failing step of child_setup, or "" */
};

static void child_fail_at(int errpipe, int e, const char *stage)
{
	struct exec_status st = { .e = e };
	ssize_t w;

	for (size_t i = 0; stage && stage[i] && i < sizeof(st.stage) - 1; i++)
		st.stage[i] = stage[i];
	w = write(errpipe, &st, sizeof(st));
	(void)w;
	_exit(127);
}

static void child_fail(int errpipe, int e)
{
	child_fail_at(errpipe, e, NULL);
}

static void reset_signals(void)
{
	sigset_t empty;

	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);
}

static int child_stdio(const struct child_plan *cp)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0)
		return errno;
	if (dup2(null, 0) < 0 ||
	    dup2(cp->out_fd == SYSG_SPAWN_DEVNULL ? null : cp->out_fd, 1) < 0 ||
	    dup2(cp->err_fd == SYSG_SPAWN_DEVNULL ? null : cp->err_fd, 2) < 0)
		return errno;
	return 0;
}

static int child_creds(const struct sysg_spawn_creds *c)
{
	if (!c || !c->set_ids)
		return 0;
	if (setgroups(c->ngroups, c->groups) < 0 || setgid(c->gid) < 0 ||
	    setuid(c->uid) < 0)
		return errno;
	return 0;
}

/* Close every fd from FIRST on but KEEP (>= FIRST). */
static void close_other_fds(int first, int keep)
{
	if (keep > first)
		syscall(SYS_close_range, (unsigned)first, (unsigned)keep - 1,
			0U);
	if (syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0U) < 0)
		for (int fd = keep + 1; fd < 1024; fd++)
			close(fd);
}

/* Put the listening sockets at 3.. (without close-on-exec), moving the
 * exec-status pipe above them. Returns the first fd past them, or
 * -errno. */
static int child_listen(struct child_plan *cp)
{
	const struct sysg_spawn_req *req = cp->req;
	int top = SYSG_LISTEN_FD_FIRST + (int)req->nlisten;
	int tmp[SYSG_LISTEN_MAX];

	if (!req->nlisten)
		return SYSG_LISTEN_FD_FIRST;
	if (req->nlisten > SYSG_LISTEN_MAX)
		return -EMFILE;
	if (cp->errpipe < top)
		cp->errpipe = fcntl(cp->errpipe, F_DUPFD_CLOEXEC, top);
	for (size_t i = 0; i < req->nlisten; i++)
		if ((tmp[i] = fcntl(req->listen_fds[i], F_DUPFD_CLOEXEC,
				    top)) < 0)
			return -errno;
	for (size_t i = 0; i < req->nlisten; i++)
		if (dup2(tmp[i], SYSG_LISTEN_FD_FIRST + (int)i) < 0)
			return -errno;
	return top;
}

static void child_run(struct child_plan *cp)
{
	const struct sysg_spawn_req *req = cp->req;
	ssize_t w;
	int e, first;

	if (req->cgroup_fd >= 0 && !cp->in_cgroup) {
		int fd = openat(req->cgroup_fd, "cgroup.procs",
				O_WRONLY | O_CLOEXEC);

		w = fd >= 0 ? write(fd, "0", 1) : -1;
		(void)w;
	}
	if (cp->syncfd >= 0) {
		char go;

		while ((w = read(cp->syncfd, &go, 1)) < 0 && errno == EINTR)
			;
		if (w != 1)     /* the parent gave up on us */
			_exit(127);
	}
	setsid();
	reset_signals();
	if ((e = child_stdio(cp)) != 0)
		child_fail(cp->errpipe, e);
	if (req->cwd && chdir(req->cwd) < 0)
		child_fail(cp->errpipe, errno);
	/* limits and priorities first: they may need the privileges that
	 * child_creds drops */
	if (req->child_setup) {
		const char *stage = NULL;

		if ((e = req->child_setup(req->child_arg, &stage)) != 0)
			child_fail_at(cp->errpipe, e, stage);
	}
	if ((e = child_creds(req->creds)) != 0)
		child_fail(cp->errpipe, e);
	for (int i = 0; i < 2; i++)
		if (cp->pid_slots[i])   /* the child's own pid, after fork */
			snprintf(cp->pid_slots[i], PID_DIGITS + 1, "%ld",
				 (long)getpid());
	if ((first = child_listen(cp)) < 0)
		child_fail(cp->errpipe, -first);
	close_other_fds(first, cp->errpipe);
	child_fail(cp->errpipe, exec_path(cp->argv, cp->envp));
}

/* ------------------------------------------------------------------ */
/* The parent side                                                     */
/* ------------------------------------------------------------------ */

static char **build_argv(const struct sysg_spawn_req *req)
{
	enum sysg_cmd_kind k = req->force_shell ? SYSG_CMD_SHELL :
				sysg_cmd_classify(req->command);
	char *sh[] = { (char *)SHELL_PATH, (char *)"-c", NULL, NULL };
	char **argv;

	if (k == SYSG_CMD_DIRECT)
		return sysg_cmd_split(req->command);
	sh[2] = (char *)req->command;
	argv = calloc(4, sizeof(*argv));
	if (!argv)
		return NULL;
	for (int i = 0; i < 2; i++)
		argv[i] = strdup(sh[i]);
	if (k == SYSG_CMD_SHELL_EXEC) {
		argv[2] = malloc(strlen(req->command) + 6);
		if (argv[2])
			sprintf(argv[2], "exec %s", req->command);
	} else {
		argv[2] = strdup(req->command);
	}
	if (!argv[0] || !argv[1] || !argv[2]) {
		sysg_argv_free(argv);
		return NULL;
	}
	return argv;
}

struct pipes {
	int out[2], err[2], ex[2], sync[2];
};

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0) {
			close(p[i]);
			p[i] = -1;
		}
}

static int open_pipes(const struct sysg_spawn_req *req, struct pipes *p)
{
	memset(p, -1, sizeof(*p));
	if (pipe2(p->ex, O_CLOEXEC) < 0)
		return -errno;
	if (req->out_fd == SYSG_SPAWN_PIPE && pipe2(p->out, O_CLOEXEC) < 0)
		return -errno;
	if (req->err_fd == SYSG_SPAWN_PIPE && pipe2(p->err, O_CLOEXEC) < 0)
		return -errno;
	if (req->parent_setup && pipe2(p->sync, O_CLOEXEC) < 0)
		return -errno;
	return 0;
}

static void close_pipes(struct pipes *p)
{
	close_pair(p->out);
	close_pair(p->err);
	close_pair(p->ex);
	close_pair(p->sync);
}

/* Wait for exec: EOF means it happened, a status is the child's errno
 * (and the step that failed, in STAGE). On a non-blocking FD, -EAGAIN:
 * not yet. */
static int read_exec_status(int fd, char *stage, size_t len)
{
	struct exec_status st;
	ssize_t n;

	do
		n = read(fd, &st, sizeof(st));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return -EAGAIN;
	if (n != (ssize_t)sizeof(st))
		return 0;
	st.stage[sizeof(st.stage) - 1] = '\0';
	snprintf(stage, len, "%s", st.stage);
	return st.e;
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int take_read_end(int p[2])
{
	int fd = p[0];

	p[0] = -1;
	if (fd >= 0)
		set_nonblock(fd);
	return fd;
}

static int spawn_error(char *err, size_t errlen, const char *what, int e,
		       const char *cmd, const char *stage)
{
	const char *msg = e == ENOENT && !*stage ? "command not found" :
			  strerror(e);

	sysg_errf(err, errlen, "%s '%s': %s%s%s", what, cmd, stage,
		  *stage ? ": " : "", msg);
	return -e;
}

/* clone3(2) arguments (linux/sched.h's struct clone_args, version 2). */
struct clone3_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

#define SPAWN_CLONE_INTO_CGROUP 0x200000000ULL

/* fork(), born directly in the cgroup CGROUP_FD when the kernel can
 * (clone3 CLONE_INTO_CGROUP): moving a running process into a cgroup
 * waits for an RCU grace period, ~10 ms per spawn. *JOINED says whether
 * the child is already in the cgroup. */
static pid_t fork_into(int cgroup_fd, uint64_t ns_flags, int *joined)
{
	*joined = 0;
#ifdef SYS_clone3
	if (cgroup_fd >= 0) {
		struct clone3_args a = {
			.flags = SPAWN_CLONE_INTO_CGROUP | ns_flags,
			.exit_signal = SIGCHLD, .cgroup = (uint64_t)cgroup_fd,
		};
		long pid = syscall(SYS_clone3, &a, sizeof(a));

		if (pid >= 0) {
			*joined = 1;
			return (pid_t)pid;
		}
		if (errno == EAGAIN)
			return -1;
	}
	if (ns_flags) {
		struct clone3_args a = {
			.flags = ns_flags, .exit_signal = SIGCHLD,
		};

		return (pid_t)syscall(SYS_clone3, &a, sizeof(a));
	}
#else
	if (ns_flags) {
		errno = ENOSYS;
		return -1;
	}
#endif
	return fork();
}

static pid_t fork_child(struct child_plan *cp, struct pipes *p)
{
	pid_t pid = fork_into(cp->req->cgroup_fd, cp->req->clone_flags,
			      &cp->in_cgroup);

	if (pid == 0) {
		cp->errpipe = p->ex[1];
		cp->syncfd = p->sync[0];
		if (p->sync[1] >= 0)
			close(p->sync[1]);
		if (cp->out_fd == SYSG_SPAWN_PIPE)
			cp->out_fd = p->out[1];
		if (cp->err_fd == SYSG_SPAWN_PIPE)
			cp->err_fd = p->err[1];
		child_run(cp);
	}
	return pid;
}

/* Close the child's ends of the pipes in the parent. */
static void close_write_ends(struct pipes *p)
{
	int *ends[] = { &p->ex[1], &p->out[1], &p->err[1] };

	for (int i = 0; i < 3; i++)
		if (*ends[i] >= 0) {
			close(*ends[i]);
			*ends[i] = -1;
		}
}

int sysg_spawn(const struct sysg_spawn_req *req, struct sysg_child *out,
	       char *err, size_t errlen)
{
	struct child_plan cp = {
		.envp = req->envp ? req->envp : environ,
		.out_fd = req->out_fd, .err_fd = req->err_fd, .req = req,
	};
	struct pipes p;
	char stage[64] = "";
	int e;

	out->pid = -1;
	out->out_fd = out->err_fd = out->exec_fd = -1;
	out->start_ticks = 0;
	cp.argv = build_argv(req);
	if (!cp.argv || protocol_env(&cp, cp.envp) < 0) {
		sysg_argv_free(cp.argv);
		sysg_env_free(cp.own_env);
		return spawn_error(err, errlen, "cannot run", ENOMEM, req->command,
				   "");
	}
	e = -open_pipes(req, &p);
	if (!e) {
		out->pid = fork_child(&cp, &p);
		e = out->pid < 0 ? errno : 0;
	}
	sysg_argv_free(cp.argv);
	sysg_env_free(cp.own_env);
	close_write_ends(&p);
	if (!e && req->parent_setup) {
		int rc = req->parent_setup(out->pid, req->child_arg, err, errlen);

		if (rc < 0) {
			kill(out->pid, SIGKILL);
			waitpid(out->pid, NULL, 0);
			out->pid = -1;
			close_pipes(&p);
			return rc;
		}
		if (write(p.sync[1], "", 1) != 1)
			e = errno;
	}
	if (!e && !req->async_exec)
		e = read_exec_status(p.ex[0], stage, sizeof(stage));
	if (e) {
		if (out->pid > 0)
			waitpid(out->pid, NULL, 0);
		out->pid = -1;
		close_pipes(&p);
		return spawn_error(err, errlen, "cannot run", e, req->command,
				   stage);
	}
	sysg_proc_start_ticks_of(out->pid, &out->start_ticks);
	out->out_fd = take_read_end(p.out);
	out->err_fd = take_read_end(p.err);
	if (req->async_exec)
		out->exec_fd = take_read_end(p.ex);
	close_pipes(&p);
	return 0;
}

int sysg_spawn_exec_result(int exec_fd, const char *command, char *err,
			   size_t errlen)
{
	char stage[64] = "";
	int e = read_exec_status(exec_fd, stage, sizeof(stage));

	if (e == -EAGAIN)
		return 1;
	return e ? spawn_error(err, errlen, "cannot run", e, command, stage) :
	       0;
}
