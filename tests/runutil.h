/* runutil.h - run the sysg binary (or any program) from a test and
 * capture what it prints. */
#ifndef SYSG_TEST_RUNUTIL_H
#define SYSG_TEST_RUNUTIL_H

struct run_result {
	int status;     /* exit code, or 128+signal */
	char *out;      /* captured stdout, NUL-terminated (malloc'd) */
	char *err;      /* captured stderr */
};

/* Run ARGV (NULL-terminated; argv[0] is a path) in directory CWD (NULL:
 * current), with EXTRA_ENV ("K=V", NULL-terminated, may be NULL) added to
 * the environment. Kills it after TIMEOUT_MS. Returns 0 or -errno. */
int run_capture(char *const argv[], const char *cwd, char *const extra_env[],
		int timeout_ms, struct run_result *r);

/* run_capture of $SYSG_BIN with ARGS (NULL-terminated). */
int run_sysg(const char *cwd, char *const extra_env[], struct run_result *r,
	     const char *first, ...) __attribute__((sentinel));

void run_result_free(struct run_result *r);

#endif
