/* health.c - readiness probe attempts (see health.h). */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <curl/curl.h>

#include "base/base.h"
#include "health.h"

/* The few libcurl entry points a probe needs, resolved at run time. */
struct curl_api {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	void (*easy_cleanup)(CURL *);
};

static int curl_load(struct curl_api *c, char *err, size_t errlen)
{
	void *dl = dlopen(SYSG_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!dl) {
		sysg_errf(err, errlen, "cannot load %s: %s", SYSG_CURL_SONAME,
			  dlerror());
		return -ENOSYS;
	}
	*(void **)&c->easy_init = dlsym(dl, "curl_easy_init");
	*(void **)&c->easy_setopt = dlsym(dl, "curl_easy_setopt");
	*(void **)&c->easy_perform = dlsym(dl, "curl_easy_perform");
	*(void **)&c->easy_getinfo = dlsym(dl, "curl_easy_getinfo");
	*(void **)&c->easy_strerror = dlsym(dl, "curl_easy_strerror");
	*(void **)&c->easy_cleanup = dlsym(dl, "curl_easy_cleanup");
	if (!c->easy_init || !c->easy_setopt || !c->easy_perform ||
	    !c->easy_getinfo || !c->easy_strerror || !c->easy_cleanup) {
		sysg_errf(err, errlen, "%s lacks the curl_easy API",
			  SYSG_CURL_SONAME);
		return -ENOSYS;
	}
	return 0;
}

static size_t discard_body(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* "HOST:PORT" of URL (the port defaults by scheme), for messages. */
static void url_authority(const char *url, char *buf, size_t len)
{
	const char *p = strstr(url, "://"), *end, *at;
	int https = !strncmp(url, "https", 5);
	size_t n;

	p = p ? p + 3 : url;
	end = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(end - p));
	if (at)
		p = at + 1;
	n = (size_t)(end - p);
	if (memchr(p, ':', n) && !(p[0] == '[' && p[n - 1] == ']'))
		snprintf(buf, len, "%.*s", (int)n, p);
	else
		snprintf(buf, len, "%.*s:%d", (int)n, p, https ? 443 : 80);
}

/* A transport failure in the words of `status`. */
static void transport_cause(struct curl_api *c, CURL *h, CURLcode rc,
			    const char *url, int64_t timeout_ms, char *err,
			    size_t errlen)
{
	long os_errno = 0, port = 0;
	char *ip = NULL;

	c->easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
	c->easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip);
	c->easy_getinfo(h, CURLINFO_PRIMARY_PORT, &port);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		snprintf(err, errlen, "no answer within %lld ms from %s",
			 (long long)timeout_ms, url);
	else if (os_errno == ECONNREFUSED && ip && *ip && port > 0)
		snprintf(err, errlen, "connection refused on %s%s%s:%ld",
			 strchr(ip, ':') ? "[" : "", ip,
			 strchr(ip, ':') ? "]" : "", port);
	else if (os_errno == ECONNREFUSED || rc == CURLE_COULDNT_CONNECT) {
		char where[256];

		url_authority(url, where, sizeof(where));
		snprintf(err, errlen, "connection %s on %s", os_errno ==
			 ECONNREFUSED ? "refused" : "failed", where);
	}
	else if (os_errno)
		snprintf(err, errlen, "%s: %s (%s)", url, c->easy_strerror(rc),
			 strerror((int)os_errno));
	else
		snprintf(err, errlen, "%s: %s", url, c->easy_strerror(rc));
}

int sysg_http_get(const char *url, int64_t timeout_ms, char *err,
		  size_t errlen)
{
	struct curl_api c;
	CURL *h;
	CURLcode rc;
	long code = 0;

	if (curl_load(&c, err, errlen) < 0)
		return SYSG_HTTP_NO_CURL;
	h = c.easy_init();
	if (!h) {
		sysg_errf(err, errlen, "curl_easy_init failed");
		return SYSG_HTTP_TRANSPORT;
	}
	c.easy_setopt(h, CURLOPT_URL, url);
	c.easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	c.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	c.easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body);
	rc = c.easy_perform(h);
	if (rc == CURLE_OK)
		c.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	else
		transport_cause(&c, h, rc, url, timeout_ms, err, errlen);
	c.easy_cleanup(h);
	if (rc != CURLE_OK)
		return SYSG_HTTP_TRANSPORT;
	if (code < 200 || code > 299) {
		sysg_errf(err, errlen, "HTTP %ld from %s", code, url);
		return SYSG_HTTP_BAD_CODE;
	}
	return SYSG_HTTP_OK;
}

struct url_probe {
	const char *url;
	int64_t timeout_ms;
};

/* Runs in the forked probe child: the arguments live in the parent's
 * (copied) memory, so a static is fine here. */
static struct url_probe probe_args;

static int url_probe_main(void *arg)
{
	struct url_probe *p = arg;
	char err[SYSG_ERR_MAX];
	int rc = sysg_http_get(p->url, p->timeout_ms, err, sizeof(err));

	/* the cause line for the supervisor (sysg_probe_cause) */
	if (rc != SYSG_HTTP_OK)
		dprintf(2, "%s\n", err);
	return rc;
}

int sysg_health_attempt(struct sysg_jobs *js, struct sysg_job *j,
			const char *command, const char *url,
			int64_t timeout_ms, char *const *envp, const char *cwd,
			int cause_fd, struct sysg_privs *privs, char *err,
			size_t errlen)
{
	struct sysg_spawn_req req = {
		.command = command, .force_shell = 1, .envp = envp,
		.cwd = cwd, .out_fd = SYSG_SPAWN_DEVNULL,
		.err_fd = cause_fd >= 0 ? cause_fd : SYSG_SPAWN_DEVNULL,
		.cgroup_fd = -1,
	};
	char **env = NULL;
	int rc;

	if (command) {
		if (sysg_privs_helper_req(privs, &req, &env) < 0) {
			sysg_errf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		rc = sysg_job_spawn(js, j, &req, timeout_ms, err, errlen);
		sysg_env_free(env);
		return rc;
	}
	probe_args.url = url;
	probe_args.timeout_ms = timeout_ms;
	/* the child gives up a little after curl's own timeout */
	rc = sysg_job_fork_err(js, j, url_probe_main, &probe_args,
			       timeout_ms + 500, cause_fd);
	if (rc < 0)
		sysg_errf(err, errlen, "cannot fork a probe: %s", strerror(-rc));
	return rc;
}

int sysg_probe_cause_open(void)
{
	int fd = memfd_create("sysg-probe-cause", MFD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* The first non-empty line of what the attempt wrote to FD. */
static void first_line(int fd, char *buf, size_t len)
{
	char text[512];
	ssize_t n = fd >= 0 ? pread(fd, text, sizeof(text) - 1, 0) : -1;
	char *p = text, *nl;

	buf[0] = '\0';
	if (n <= 0)
		return;
	text[n] = '\0';
	while (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t')
		p++;
	nl = strpbrk(p, "\r\n");
	if (nl)
		*nl = '\0';
	snprintf(buf, len, "%.*s", (int)(len > 0 ? len - 1 : 0), p);
}

void sysg_probe_cause(int cause_fd, const char *command, int status,
		      int timed_out, int64_t timeout_ms, char *buf,
		      size_t len)
{
	char said[300];

	first_line(cause_fd, said, sizeof(said));
	if (timed_out && command)
		snprintf(buf, len, "command timed out after %lld ms",
			 (long long)timeout_ms);
	else if (timed_out)
		snprintf(buf, len, "no answer within %lld ms",
			 (long long)timeout_ms);
	else if (!command && said[0])
		snprintf(buf, len, "%s", said);
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "%s killed by signal %d",
			 command ? "command" : "probe", WTERMSIG(status));
	else if (command)
		snprintf(buf, len, "command exited %d%s%s",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1,
			 said[0] ? ": " : "", said);
	else
		snprintf(buf, len, "probe exited %d",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}
