/* testutil.h - small filesystem and timing helpers shared by the Check
 * tests: throw-away directories, writing fixture files, polling for a
 * condition with a deadline (never bare sleeps).
 *
 * Every function returns an error instead of aborting, so a test can
 * ck_assert on it with a useful message. Strings returned are malloc'd and
 * owned by the caller. */
#ifndef SYSG_TEST_TESTUTIL_H
#define SYSG_TEST_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Create a fresh directory /tmp/sysg-test-PREFIX-XXXXXX (PREFIX may be
 * NULL). Returns its malloc'd path, or NULL (errno set). Remove it with
 * tu_rm_rf. */
char *tu_mkdtemp(const char *prefix);

/* Write TEXT (NUL-terminated) to DIR/NAME, creating or truncating it with
 * mode 0644; NAME may contain subdirectories, which are created. Returns
 * the malloc'd full path, or NULL (errno set). */
char *tu_write_file(const char *dir, const char *name, const char *text);

/* Same with LEN arbitrary bytes. */
char *tu_write_bytes(const char *dir, const char *name, const void *buf,
		     size_t len);

/* The whole content of PATH, NUL-terminated (LEN may be NULL), or NULL. */
char *tu_read_file(const char *path, size_t *len);

/* Remove PATH and everything below it, never following symlinks. A
 * missing PATH is not an error. Returns 0 or -errno. */
int tu_rm_rf(const char *path);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t tu_now_ms(void);

/* Deadlines are safety nets, not assertions: CI runs the suite on a
 * loaded 2-core machine, where a process can wait seconds for a core.
 * The test helpers that wait for a condition (tu_wait_for, dt_wait_*,
 * et_wait_*, and the tests' own wait_*) wait at least TU_DEADLINE_MS
 * whatever timeout they are given; a passing wait returns as soon as its
 * condition holds, so this costs nothing when the test passes. A timeout
 * under 1 s is kept: it checks that something holds already. */
#define TU_DEADLINE_MS 30000

/* TIMEOUT_MS as the deadline of a wait for a condition (above). */
int tu_deadline_ms(int timeout_ms);

/* Call COND(ARG) every INTERVAL_MS until it returns non-zero (returns 1)
 * or tu_deadline_ms(TIMEOUT_MS) passed (returns 0, after one last
 * check). */
int tu_wait_for(int (*cond)(void *arg), void *arg, int timeout_ms,
		int interval_ms);

/* A loopback TCP port free right now (0 when none could be found). */
int tu_free_port(void);

/* One HTTP/1.0 GET / of 127.0.0.1:PORT: the response body (malloc'd), or
 * NULL when the connection or the request failed. */
/* The first line of /proc/PID/maps naming a library a state backend
 * pulls in (libxml2, ICU, libstdc++, libsqlite3, or the backend plugin
 * itself), or NULL. Static storage. */
const char *tu_backend_mapped(pid_t pid);

char *tu_http_get(int port);

/* Run every test of suite S (Check's runner, CK_NORMAL output) and free
 * it. Returns EXIT_SUCCESS when all passed, else EXIT_FAILURE: a test
 * program's main is `return tu_run_suite(make_x_suite());`. */
int tu_run_suite(Suite *s);

#endif
