/* health.h - readiness probes: a shell command or an HTTP GET.
 *
 * A probe is one job (job.h): a command runs as `/bin/sh -c CMD` with the
 * service's environment; a URL probe is a forked child of the supervisor
 * that dlopen()s libcurl (SYSG_CURL_SONAME), does one GET and exits 0 on
 * a 2xx answer. The resident supervisor itself never maps libcurl, which
 * keeps its memory small (SPEC 9).
 *
 * Readiness rule (shared with deployments): the probe runs every
 * `interval`, each attempt killed after `timeout`; the service is ready
 * at the first pass, and fails readiness when no attempt passed within
 * `timeout` x `retries` of its start.
 */
#ifndef SYSG_HEALTH_H
#define SYSG_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "job.h"
#include "privs.h"

/* Exit statuses of a URL probe child. */
#define SYSG_HTTP_OK        0
#define SYSG_HTTP_BAD_CODE  1   /* answered, not 2xx */
#define SYSG_HTTP_NO_CURL   2   /* libcurl could not be loaded */
#define SYSG_HTTP_TRANSPORT 3   /* connection refused, timeout... */

/* One HTTP GET of URL in the calling process (dlopen'ing libcurl).
 * Returns one of the SYSG_HTTP_* codes; ERR says why when not OK, in
 * the words `status` shows: "connection refused on 127.0.0.1:8000",
 * "HTTP 503 from URL", "no answer within 500 ms from URL". Meant to run
 * in a forked child. */
int sysg_http_get(const char *url, int64_t timeout_ms, char *err,
		  size_t errlen);

/* Start one attempt of probe H as job J. URL and COMMAND are the
 * expanded forms of H's (one of them set); ENVP/CWD for commands, which
 * run under PRIVS (the service's privileged settings, NULL: none; see
 * sysg_privs_helper_req) with HOME, USER, LOGNAME, SHELL of its user. The
 * job's wait status is 0 when the attempt passed. URL must stay valid
 * until the job is done. CAUSE_FD (< 0: none) receives what the attempt
 * says about a failure: a command's stderr, a URL probe's cause line;
 * it should be an empty memfd (sysg_probe_cause_open). 0 or -errno
 * with ERR filled. */
int sysg_health_attempt(struct sysg_jobs *js, struct sysg_job *j,
			const char *command, const char *url,
			int64_t timeout_ms, char *const *envp, const char *cwd,
			int cause_fd, struct sysg_privs *privs, char *err,
			size_t errlen);

/* A fresh memfd (close-on-exec) for CAUSE_FD, or -errno. */
int sysg_probe_cause_open(void);

/* Why a failed attempt failed, in one line, from its wait STATUS,
 * TIMED_OUT flag, TIMEOUT_MS and what it wrote to CAUSE_FD:
 * "command exited 1: <first stderr line>", "command killed by signal
 * 9", "command timed out after 500 ms", or the URL probe's own line
 * (sysg_http_get). COMMAND is non-NULL for command probes. */
void sysg_probe_cause(int cause_fd, const char *command, int status,
		      int timed_out, int64_t timeout_ms, char *buf,
		      size_t len);

#endif
