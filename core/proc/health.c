/* health.c - readiness probe attempts (see health.h). */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
		sysg_errf(err, errlen, "%s: %s", url, c.easy_strerror(rc));
	c.easy_cleanup(h);
	if (rc != CURLE_OK)
		return SYSG_HTTP_TRANSPORT;
	if (code < 200 || code > 299) {
		sysg_errf(err, errlen, "%s: HTTP %ld", url, code);
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

	return sysg_http_get(p->url, p->timeout_ms, err, sizeof(err));
}

int sysg_health_attempt(struct sysg_jobs *js, struct sysg_job *j,
			const char *command, const char *url,
			int64_t timeout_ms, char *const *envp, const char *cwd,
			char *err, size_t errlen)
{
	struct sysg_spawn_req req = {
		.command = command, .force_shell = 1, .envp = envp,
		.cwd = cwd, .out_fd = SYSG_SPAWN_DEVNULL,
		.err_fd = SYSG_SPAWN_DEVNULL, .cgroup_fd = -1,
	};
	int rc;

	if (command)
		return sysg_job_spawn(js, j, &req, timeout_ms, err, errlen);
	probe_args.url = url;
	probe_args.timeout_ms = timeout_ms;
	/* the child gives up a little after curl's own timeout */
	rc = sysg_job_fork(js, j, url_probe_main, &probe_args,
			   timeout_ms + 500);
	if (rc < 0)
		sysg_errf(err, errlen, "cannot fork a probe: %s", strerror(-rc));
	return rc;
}
