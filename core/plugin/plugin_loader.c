/* plugin_loader.c - see plugin_loader.h */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "plugin_loader.h"

#define PROBE_TIMEOUT_MS 5000

/* What a probe child reports about a plugin file. */
struct probe {
	uint32_t abi;
	uint32_t kind;
	char desc[256];
	char err[SYSG_ERR_MAX];
};

/* ------------------------------------------------------------ path */

static int path_add(struct sysg_plugin_path *p, const char *dir, size_t len)
{
	char **grown;
	char *copy;

	if (len == 0)
		return 0;
	for (size_t i = 0; i < p->n; i++)
		if (strlen(p->dirs[i]) == len && !strncmp(p->dirs[i], dir, len))
			return 0;
	copy = strndup(dir, len);
	grown = copy ? realloc(p->dirs, (p->n + 1) * sizeof(*grown)) : NULL;
	if (!grown) {
		free(copy);
		return -ENOMEM;
	}
	p->dirs = grown;
	p->dirs[p->n++] = copy;
	return 0;
}

static int path_add_list(struct sysg_plugin_path *p, const char *list)
{
	const char *s = list;

	while (s && *s) {
		const char *colon = strchr(s, ':');
		size_t len = colon ? (size_t)(colon - s) : strlen(s);

		if (path_add(p, s, len) < 0)
			return -ENOMEM;
		s = colon ? colon + 1 : NULL;
	}
	return 0;
}

/* When this binary lives in its build tree, its freshly built plugins are
 * found without installing (a newcomer runs ./sysg right after make). */
static int path_add_build_tree(struct sysg_plugin_path *p)
{
	static const char *const sub[] = { "strategies/.libs", "plugins/.libs" };
	char exe[SYSG_PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t blen = strlen(SYSG_BUILD_DIR);

	if (n <= 0)
		return 0;
	exe[n] = '\0';
	if (strncmp(exe, SYSG_BUILD_DIR, blen) || exe[blen] != '/')
		return 0;
	for (size_t i = 0; i < 2; i++) {
		char *d = sysg_path_join(SYSG_BUILD_DIR, sub[i]);
		int rc = d ? path_add(p, d, strlen(d)) : -ENOMEM;

		free(d);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int sysg_plugin_path_init(struct sysg_plugin_path *p, const char *cli_dirs)
{
	memset(p, 0, sizeof(*p));
	if (path_add_list(p, cli_dirs) < 0 ||
	    path_add_list(p, getenv("SYSG_PLUGIN_PATH")) < 0 ||
	    path_add_build_tree(p) < 0 ||
	    path_add(p, SYSG_PLUGIN_DIR, strlen(SYSG_PLUGIN_DIR)) < 0) {
		sysg_plugin_path_free(p);
		return -ENOMEM;
	}
	return 0;
}

void sysg_plugin_path_free(struct sysg_plugin_path *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->dirs[i]);
	free(p->dirs);
	memset(p, 0, sizeof(*p));
}

/* ------------------------------------------------------- ownership */

int sysg_plugin_check_owner(const char *path, char *err, size_t errlen)
{
	return sysg_path_trusted(path, -1, 0, err, errlen);
}

/* The file, the directory holding it and every directory above (else
 * whoever may rename a parent may swap the plugin) must all be safe. */
static int check_file_and_dir(const char *file, char *err, size_t errlen)
{
	char *dir = sysg_path_abs(NULL, file), *up;
	int rc = dir ? sysg_plugin_check_owner(dir, err, errlen) : -ENOMEM;

	while (rc == 0 && strcmp(dir, "/")) {
		if (!(up = sysg_path_dirname(dir)))
			rc = -ENOMEM;
		free(dir);
		dir = up;
		if (rc == 0)
			rc = sysg_plugin_check_owner(dir, err, errlen);
	}
	free(dir);
	return rc;
}

/* ------------------------------------------------------------ probe */

static const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case SYSG_PLUGIN_STRATEGY:
		return "strategy";
	case SYSG_PLUGIN_STATE:
		return "state backend";
	default:
		return "unknown kind";
	}
}

/* Open FILE and check its descriptor; fills PR. Returns the dl handle
 * (caller closes) or NULL with PR->err set. Used in-process and in the
 * probe child alike. */
static void *open_checked(const char *file, struct probe *pr,
			  const struct sysg_plugin **descp)
{
	void *dl = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	sysg_plugin_entry_fn entry;
	const struct sysg_plugin *d;

	if (!dl) {
		sysg_errf(pr->err, sizeof(pr->err),
		          "%s (check its libraries with ldd %s)", dlerror(),
		          file);
		return NULL;
	}
	*(void **)&entry = dlsym(dl, SYSG_PLUGIN_ENTRY_SYMBOL);
	d = entry ? entry() : NULL;
	if (!d) {
		sysg_errf(pr->err, sizeof(pr->err), "%s: %s", file, entry ?
		          SYSG_PLUGIN_ENTRY_SYMBOL "() returned NULL" :
		          "no " SYSG_PLUGIN_ENTRY_SYMBOL " symbol: not a sysg plugin");
		dlclose(dl);
		return NULL;
	}
	pr->abi = d->abi_version;
	if (pr->abi < SYSG_PLUGIN_ABI_MIN || pr->abi > SYSG_PLUGIN_ABI_VERSION) {
		sysg_errf(pr->err, sizeof(pr->err),
		          "%s: plugin ABI version %u, expected %u (rebuild it against this sysg)",
		          file, (unsigned)pr->abi, SYSG_PLUGIN_ABI_VERSION);
		dlclose(dl);
		return NULL;
	}
	pr->kind = d->kind;
	if (d->description)
		snprintf(pr->desc, sizeof(pr->desc), "%s", d->description);
	*descp = d;
	return dl;
}

/* Child side of the probe: load, check, report, _exit. */
static void probe_child(const char *file, int wfd)
{
	struct probe pr;
	const struct sysg_plugin *d = NULL;
	void *dl;
	ssize_t w;

	memset(&pr, 0, sizeof(pr));
	alarm(PROBE_TIMEOUT_MS / 1000 + 1);
	dl = open_checked(file, &pr, &d);
	w = write(wfd, &pr, sizeof(pr));
	(void)w;
	(void)dl;
	_exit(0);
}

static int probe_wait(pid_t pid, int rfd, struct probe *pr, const char *file)
{
	struct pollfd pfd = { .fd = rfd, .events = POLLIN };
	size_t got = 0;
	int status = 0, timed_out = 0;

	while (got < sizeof(*pr)) {
		int n = poll(&pfd, 1, PROBE_TIMEOUT_MS);
		ssize_t r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			timed_out = n == 0;
			break;
		}
		r = read(rfd, (char *)pr + got, sizeof(*pr) - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got < sizeof(*pr))
		kill(pid, SIGKILL);     /* hung, or a broken pipe: never wait */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got == sizeof(*pr))
		return 0;
	if (timed_out)
		sysg_errf(pr->err, sizeof(pr->err),
		          "%s: did not load within %d ms", file,
		          PROBE_TIMEOUT_MS);
	else if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
		sysg_errf(pr->err, sizeof(pr->err),
		          "%s: crashed while loading (signal %d, %s)", file,
		          WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		sysg_errf(pr->err, sizeof(pr->err),
		          "%s: crashed while loading (exited with status %d "
		          "before reporting)", file,
		          WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return -EIO;
}

/* Load FILE in a throw-away child first: a plugin that crashes or hangs
 * in its constructor takes only the child down. */
static int probe_file(const char *file, struct probe *pr)
{
	int fds[2];
	pid_t pid;
	int rc;

	memset(pr, 0, sizeof(*pr));
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(fds[0]);
		close(fds[1]);
		return rc;
	}
	if (pid == 0) {
		close(fds[0]);
		probe_child(file, fds[1]);
	}
	close(fds[1]);
	rc = probe_wait(pid, fds[0], pr, file);
	close(fds[0]);
	if (rc == 0 && pr->err[0])
		rc = -EINVAL;
	return rc;
}

/* ------------------------------------------------------------- load */

static int check_ops(const struct sysg_plugin *d, uint32_t kind,
		     const char *file, char *err, size_t errlen)
{
	const struct sysg_state_ops *s = d->state;
	const struct sysg_strategy_ops *g = d->strategy;

	if (kind && d->kind != kind) {
		sysg_errf(err, errlen,
		          "%s: is a %s plugin, expected a %s plugin", file,
		          kind_name(d->kind), kind_name(kind));
		return -EINVAL;
	}
	if (d->kind == SYSG_PLUGIN_STRATEGY &&
	    (!g || !g->check_config || !g->deploy)) {
		sysg_errf(err, errlen,
		          "%s: strategy plugin lacks check_config or deploy",
		          file);
		return -EINVAL;
	}
	if (d->kind == SYSG_PLUGIN_STATE &&
	    (!s || !s->open || !s->close || !s->set_pid || !s->get_pid ||
	     !s->list_pids || !s->put_unit || !s->get_unit ||
	     !s->remove_unit || !s->list_units || !s->add_cron_run ||
	     !s->list_cron_runs || !s->add_deploy || !s->list_deploys ||
	     !s->kv_get || !s->kv_set)) {
		sysg_errf(err, errlen,
		          "%s: state plugin lacks a required operation", file);
		return -EINVAL;
	}
	if (d->kind != SYSG_PLUGIN_STATE && d->kind != SYSG_PLUGIN_STRATEGY) {
		sysg_errf(err, errlen, "%s: unknown plugin kind %u", file,
		          (unsigned)d->kind);
		return -EINVAL;
	}
	return 0;
}

static int load_file(const char *file, uint32_t kind, int probe,
		     struct sysg_loaded_plugin **out, char *err, size_t errlen)
{
	struct probe pr;
	const struct sysg_plugin *d = NULL;
	struct sysg_loaded_plugin *lp;
	void *dl;
	int rc;

	*out = NULL;
	memset(&pr, 0, sizeof(pr));
	rc = check_file_and_dir(file, err, errlen);
	if (rc < 0)
		return rc;
	rc = probe ? probe_file(file, &pr) : 0;
	if (rc < 0) {
		sysg_errf(err, errlen, "%s",
		          pr.err[0] ? pr.err : strerror(-rc));
		return rc;
	}
	dl = open_checked(file, &pr, &d);
	if (!dl) {
		sysg_errf(err, errlen, "%s", pr.err);
		return -EINVAL;
	}
	rc = check_ops(d, kind, file, err, errlen);
	lp = rc == 0 ? calloc(1, sizeof(*lp)) : NULL;
	if (lp)
		lp->path = strdup(file);
	if (!lp || !lp->path) {
		if (lp)
			free(lp);
		dlclose(dl);
		return rc < 0 ? rc : -ENOMEM;
	}
	lp->dl = dl;
	lp->desc = d;
	*out = lp;
	return 0;
}

int sysg_plugin_load_file(const char *file, uint32_t kind,
			  struct sysg_loaded_plugin **out, char *err,
			  size_t errlen)
{
	return load_file(file, kind, 1, out, err, errlen);
}

int sysg_plugin_reload(const char *file, uint32_t kind,
		       struct sysg_loaded_plugin **out, char *err, size_t errlen)
{
	return load_file(file, kind, 0, out, err, errlen);
}

static int valid_name(const char *name)
{
	if (!*name || strlen(name) > 64)
		return 0;
	for (const char *c = name; *c; c++)
		if (!(*c == '_' || *c == '-' || (*c >= 'a' && *c <= 'z') ||
		      (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
			return 0;
	return 1;
}

int sysg_plugin_load(const struct sysg_plugin_path *p, const char *name,
		     uint32_t kind, struct sysg_loaded_plugin **out,
		     char *err, size_t errlen)
{
	size_t used = 0;

	*out = NULL;
	if (!valid_name(name)) {
		sysg_errf(err, errlen,
		          "invalid plugin name '%s' (letters, digits, '_' and '-' only)",
		          name);
		return -EINVAL;
	}
	for (size_t i = 0; i < p->n; i++) {
		char file[SYSG_PATH_MAX];

		snprintf(file, sizeof(file), "%s/%s.so", p->dirs[i], name);
		if (access(file, F_OK) == 0)
			return sysg_plugin_load_file(file, kind, out, err, errlen);
	}
	if (err && errlen) {
		used = (size_t)snprintf(err, errlen, "no plugin '%s' (%s.so) in",
					name, name);
		for (size_t i = 0; i < p->n && used < errlen; i++)
			used += (size_t)snprintf(err + used, errlen - used, "%s%s",
						 i ? ":" : " ", p->dirs[i]);
		if (p->n == 0 && used < errlen)
			snprintf(err + used, errlen - used, " an empty search path");
	}
	return -ENOENT;
}

void sysg_plugin_unload(struct sysg_loaded_plugin *lp)
{
	if (!lp)
		return;
	if (lp->dl)
		dlclose(lp->dl);
	free(lp->path);
	free(lp);
}

/* ------------------------------------------------------------- scan */

static void scan_file(const char *file, const char *name, int shadowed,
		      sysg_plugin_info_cb cb, void *arg)
{
	struct sysg_plugin_info info = { .path = file, .name = name };
	struct probe pr;
	char err[SYSG_ERR_MAX] = "";

	if (shadowed) {
		info.error = "shadowed by an earlier plugin of the same name";
	} else if (check_file_and_dir(file, err, sizeof(err)) < 0) {
		info.error = err;
	} else if (probe_file(file, &pr) < 0) {
		snprintf(err, sizeof(err), "%s", pr.err);
		info.error = err;
		info.abi_version = pr.abi;
	} else {
		info.kind = pr.kind;
		info.abi_version = pr.abi;
		info.description = pr.desc;
	}
	cb(arg, &info);
}

static int scan_dir(const char *dir, struct sysg_strset *names,
		    sysg_plugin_info_cb cb, void *arg)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort);
	int count = 0;

	for (int i = 0; i < n; i++) {
		const char *fn = ents[i]->d_name;
		size_t len = strlen(fn);
		char *name, *file;

		if (len > 3 && !strcmp(fn + len - 3, ".so") &&
		    (name = strndup(fn, len - 3)) != NULL) {
			file = sysg_path_join(dir, fn);
			if (file)
				scan_file(file, name, sysg_strset_has(names, name),
					  cb, arg);
			free(file);
			count++;
			sysg_strset_add(names, name);
			free(name);
		}
		free(ents[i]);
	}
	free(ents);
	return count;
}

int sysg_plugin_scan(const struct sysg_plugin_path *p, sysg_plugin_info_cb cb,
		     void *arg)
{
	struct sysg_strset names = { 0 };
	int count = 0;

	for (size_t i = 0; i < p->n; i++)
		count += scan_dir(p->dirs[i], &names, cb, arg);
	sysg_strset_free(&names);
	return count;
}
