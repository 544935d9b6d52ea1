/* runutil.c - see runutil.h */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runutil.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
	char *grown = realloc(*buf, *len + n + 1);

	if (!grown)
		return;
	memcpy(grown + *len, data, n);
	*len += n;
	grown[*len] = '\0';
	*buf = grown;
}

static void child(char *const argv[], const char *cwd,
		  char *const extra_env[], int out, int err)
{
	dup2(out, 1);
	dup2(err, 2);
	if (cwd && chdir(cwd) < 0)
		_exit(126);
	for (int i = 0; extra_env && extra_env[i]; i++)
		putenv(extra_env[i]);
	execv(argv[0], argv);
	_exit(127);
}

/* Drain both pipes until EOF or the deadline. */
static void drain(int fds[2], struct run_result *r, long long deadline)
{
	size_t lens[2] = { 0, 0 };
	char **bufs[2] = { &r->out, &r->err };
	int open_fds = 2;

	while (open_fds > 0) {
		struct pollfd p[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };
		long long left = deadline - now_ms();
		char tmp[4096];

		if (left <= 0 || poll(p, 2, (int)left) <= 0)
			break;
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			n = read(fds[i], tmp, sizeof(tmp));
			if (n > 0) {
				append(bufs[i], &lens[i], tmp, (size_t)n);
			} else {
				close(fds[i]);
				fds[i] = -1;
				open_fds--;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int run_capture(char *const argv[], const char *cwd, char *const extra_env[],
		int timeout_ms, struct run_result *r)
{
	int po[2], pe[2], fds[2], status = 0;
	long long deadline;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->out = calloc(1, 1);
	r->err = calloc(1, 1);
	if (pipe2(po, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(pe, O_CLOEXEC) < 0) {
		close(po[0]);
		close(po[1]);
		return -errno;
	}
	pid = fork();
	if (pid == 0)
		child(argv, cwd, extra_env, po[1], pe[1]);
	close(po[1]);
	close(pe[1]);
	fds[0] = po[0];
	fds[1] = pe[0];
	deadline = now_ms() + timeout_ms;
	drain(fds, r, deadline);
	if (pid < 0)
		return -EAGAIN;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		struct timespec ms = { 0, 1000000 };

		if (now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		nanosleep(&ms, NULL);
	}
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) :
		    128 + WTERMSIG(status);
	return 0;
}

int run_sysg(const char *cwd, char *const extra_env[], struct run_result *r,
	     const char *first, ...)
{
	const char *argv[64];
	const char *bin = getenv("SYSG_BIN");
	va_list ap;
	int n = 0;

	argv[n++] = bin ? bin : "./sysg";
	va_start(ap, first);
	for (const char *a = first; a && n < 63; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return run_capture((char *const *)argv, cwd, extra_env, 30000, r);
}

void run_result_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}
