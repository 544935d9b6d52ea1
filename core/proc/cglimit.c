/* cglimit.c - cgroup resource limits (see cglimit.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "cglimit.h"
#include "procstat.h"
#include "proctree.h"

#define CGROUP_FS "/sys/fs/cgroup"

static const char *const ctrl_names[SYSG_CG_NCTRL] = { "memory", "cpu", "pids" };

/* 1 when WORD is one of the comma- or blank-separated words of LIST. */
static int has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ',' || p[-1] == ' ' ||
		     p[-1] == '+') &&
		    (p[n] == '\0' || p[n] == ',' || p[n] == ' ' ||
		     p[n] == '\n'))
			return 1;
	return 0;
}

static int write_file(const char *dir, const char *name, const char *value)
{
	char path[PATH_MAX];
	ssize_t w;
	int fd, e;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	w = write(fd, value, strlen(value));
	e = w < 0 ? -errno : 0;
	close(fd);
	return e;
}

static int read_has(const char *dir, const char *file, const char *ctrl)
{
	char path[PATH_MAX], buf[512];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return sysg_proc_read_file(path, buf, sizeof(buf)) >= 0 &&
	       has_word(buf, ctrl);
}

/* DIR is the root of its cgroup2 hierarchy (no parent to ask). */
static int is_v2_root(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/cgroup.type", dir);
	return access(path, F_OK) < 0;  /* the root has no cgroup.type */
}

/* DIR holds the calling process and nothing else. */
static int only_self(const char *dir)
{
	char path[PATH_MAX], buf[4096];
	ssize_t n;
	long me = (long)getpid();

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	n = sysg_proc_read_file(path, buf, sizeof(buf));
	return n > 0 && atol(buf) == me && strspn(buf, "0123456789") ==
	       strlen(buf) - 1;
}

/* Move the calling process into DIR/SYSG_CGROUP_LEAF. 0 or -errno. */
static int move_self_to_leaf(const char *dir)
{
	char leaf[PATH_MAX], pid[32];
	int rc;

	if ((size_t)snprintf(leaf, sizeof(leaf), "%s/" SYSG_CGROUP_LEAF, dir) >=
	    sizeof(leaf))
		return -ENAMETOOLONG;
	if (mkdir(leaf, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	rc = write_file(leaf, "cgroup.procs", pid);
	return rc;
}

int sysg_cglimit_enable_v2(const char *dir, const char *ctrl, unsigned flags)
{
	char plus[32], *parent;
	int rc;

	if (read_has(dir, "cgroup.subtree_control", ctrl))
		return 0;
	if (!read_has(dir, "cgroup.controllers", ctrl)) {
		/* not offered here: the parent must enable it for its
		 * children first (a hierarchy's root offers what it has) */
		if (is_v2_root(dir) || !(parent = sysg_path_dirname(dir)))
			return -ENOTSUP;
		rc = sysg_cglimit_enable_v2(parent, ctrl, flags);
		free(parent);
		if (rc < 0)
			return rc;
	}
	snprintf(plus, sizeof(plus), "+%s", ctrl);
	if (flags & SYSG_CG_DRY) {      /* offered: enabled at start */
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
		return access(path, W_OK) == 0 ? 0 : -EACCES;
	}
	rc = write_file(dir, "cgroup.subtree_control", plus);
	/* "no internal processes": a cgroup that holds processes cannot
	 * hand controllers to its children. When the only one is this
	 * supervisor (its own cgroup, e.g. a systemd unit's with
	 * Delegate=yes), it moves itself into a leaf first. */
	if (rc == -EBUSY && only_self(dir) && move_self_to_leaf(dir) == 0)
		rc = write_file(dir, "cgroup.subtree_control", plus);
	return rc;
}

/* Is CTRL usable in cgroup v2 under BASE (offered, and enabled for the
 * base's children, enabling it when we can)? */
static int v2_usable(const char *base, const char *ctrl, unsigned flags)
{
	if (!base || !*base)
		return 0;
	return sysg_cglimit_enable_v2(base, ctrl, flags) == 0;
}

/* The mount point of the v1 hierarchy holding CTRL, from mountinfo. */
static int v1_mount(const char *ctrl, char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (rc < 0 && fgets(line, sizeof(line), f)) {
		char mnt[512], *sep = strstr(line, " - cgroup ");
		char *opts;

		if (!sep || sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1)
			continue;
		opts = strrchr(sep, ' ');
		if (opts && has_word(opts + 1, ctrl)) {
			snprintf(buf, len, "%s", mnt);
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

/* The supervisor's own cgroup in the v1 hierarchy of CTRL. */
static int v1_own(const char *ctrl, char *buf, size_t len)
{
	char data[4096], *line, *save = NULL;

	if (sysg_proc_read_file("/proc/self/cgroup", data, sizeof(data)) < 0)
		return -ENOENT;
	for (line = strtok_r(data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		*c2 = '\0';
		if (has_word(c1 + 1, ctrl)) {
			snprintf(buf, len, "%s", c2 + 1);
			return 0;
		}
	}
	return -ENOENT;
}

static int writable_or_creatable(const char *dir)
{
	char path[PATH_MAX], *slash;

	snprintf(path, sizeof(path), "%s", dir);
	while (access(path, F_OK) < 0 && (slash = strrchr(path, '/')) &&
	       slash != path)
		*slash = '\0';
	return access(path, W_OK) == 0 ? 0 : -EACCES;
}

static int v1_base(const char *ctrl, const char *root, char *buf,
		   size_t len)
{
	char mnt[512], rel[512];
	int rc = v1_mount(ctrl, mnt, sizeof(mnt));

	if (rc == 0 && !root)
		rc = v1_own(ctrl, rel, sizeof(rel));
	if (rc < 0)
		return rc;
	if (root) {
		/* "/sys/fs/cgroup/x" (a v2 host's path) means x here too */
		if (!strncmp(root, CGROUP_FS "/", sizeof(CGROUP_FS)))
			root += sizeof(CGROUP_FS) - 1;
		if (!strncmp(root, "/unified/", 9))
			root += 8;
		snprintf(rel, sizeof(rel), "%s%s", *root == '/' ? "" : "/", root);
	}
	if ((size_t)snprintf(buf, len, "%s%s", mnt, strcmp(rel, "/") ? rel : "")
	    >= len)
		return -ENAMETOOLONG;
	/* a given root is created on first use (sysg_cglimit_create): here
	 * the deepest directory that exists must be writable */
	return writable_or_creatable(buf);
}

static const char *first_key(const struct sysg_cgroup_limits *cfg, int ctrl)
{
	if (ctrl == SYSG_CG_MEMORY)
		return "memory_max";
	if (ctrl == SYSG_CG_PIDS)
		return "pids_max";
	return cfg->cpu_max ? "cpu_max" : "cpu_weight";
}

int sysg_cglimit_plan(const struct sysg_cgroup_limits *cfg,
		      const char *v2_base, unsigned flags,
		      struct sysg_cglimit *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->cfg = cfg;
	out->need[SYSG_CG_MEMORY] = cfg->memory_max >= 0;
	out->need[SYSG_CG_CPU] = cfg->cpu_max || cfg->cpu_weight >= 0;
	out->need[SYSG_CG_PIDS] = cfg->pids_max >= 0;
	for (int i = 0; i < SYSG_CG_NCTRL; i++) {
		int rc;

		if (!out->need[i])
			continue;
		if (v2_usable(v2_base, ctrl_names[i], flags)) {
			out->v2[i] = 1;
			continue;
		}
		rc = v1_base(ctrl_names[i], cfg->root, out->v1_base[i],
			     sizeof(out->v1_base[0]));
		if (rc < 0) {
			snprintf(err, errlen, "limits.cgroup.%s: no writable "
				 "cgroup hierarchy has the %s controller "
				 "(cgroup v2: %s; cgroup v1: %s)",
				 first_key(cfg, i), ctrl_names[i],
				 v2_base && *v2_base ? "not delegated here" :
				 "not mounted or not writable",
				 rc == -ENOENT ? "not mounted" : strerror(-rc));
			return -ENOTSUP;
		}
	}
	return 0;
}

static void fmt_max(char *buf, size_t len, int64_t v, const char *unlimited)
{
	if (v == SYSG_LIMIT_UNLIMITED)
		snprintf(buf, len, "%s", unlimited);
	else
		snprintf(buf, len, "%lld", (long long)v);
}

/* cpu_max "QUOTA PERIOD" into its two numbers (QUOTA -1: max). */
static void split_cpu_max(const char *s, long long *quota, long long *period)
{
	char q[32];

	*period = 100000;
	if (sscanf(s, " %31s %lld", q, period) < 1)
		q[0] = '\0';
	*quota = strcmp(q, "max") ? atoll(q) : -1;
}

static int write_v1(const struct sysg_cglimit *c, int i)
{
	const struct sysg_cgroup_limits *cfg = c->cfg;
	const char *d = c->v1_dir[i];
	char v[64];
	int rc = 0;

	if (i == SYSG_CG_MEMORY) {
		fmt_max(v, sizeof(v), cfg->memory_max, "-1");
		rc = write_file(d, "memory.limit_in_bytes", v);
		if (rc == 0)    /* absent without swap accounting */
			write_file(d, "memory.memsw.limit_in_bytes", v);
	} else if (i == SYSG_CG_PIDS) {
		fmt_max(v, sizeof(v), cfg->pids_max, "max");
		rc = write_file(d, "pids.max", v);
	} else {
		if (cfg->cpu_max) {
			long long q, per;

			split_cpu_max(cfg->cpu_max, &q, &per);
			snprintf(v, sizeof(v), "%lld", per);
			rc = write_file(d, "cpu.cfs_period_us", v);
			snprintf(v, sizeof(v), "%lld", q);
			if (rc == 0)
				rc = write_file(d, "cpu.cfs_quota_us", v);
		}
		if (rc == 0 && cfg->cpu_weight >= 0) {
			long shares = cfg->cpu_weight * 1024L / 100;

			snprintf(v, sizeof(v), "%ld", shares < 2 ? 2 : shares);
			rc = write_file(d, "cpu.shares", v);
		}
	}
	return rc;
}

static int write_v2(const struct sysg_cglimit *c, int i)
{
	const struct sysg_cgroup_limits *cfg = c->cfg;
	const char *d = c->v2_dir;
	char v[64];
	int rc = 0;

	if (i == SYSG_CG_MEMORY) {
		fmt_max(v, sizeof(v), cfg->memory_max, "max");
		rc = write_file(d, "memory.max", v);
	} else if (i == SYSG_CG_PIDS) {
		fmt_max(v, sizeof(v), cfg->pids_max, "max");
		rc = write_file(d, "pids.max", v);
	} else {
		if (cfg->cpu_max)
			rc = write_file(d, "cpu.max", cfg->cpu_max);
		snprintf(v, sizeof(v), "%d", cfg->cpu_weight);
		if (rc == 0 && cfg->cpu_weight >= 0)
			rc = write_file(d, "cpu.weight", v);
	}
	return rc;
}

int sysg_cglimit_create(struct sysg_cglimit *c, const char *name,
			const char *v2_dir, char *err, size_t errlen)
{
	for (int i = 0; i < SYSG_CG_NCTRL; i++) {
		const char *where;
		int rc;

		c->v1_dir[i][0] = '\0';
		if (!c->need[i])
			continue;
		if (c->v2[i]) {
			if (!v2_dir || !*v2_dir) {
				snprintf(err, errlen, "limits.cgroup.%s: the "
					 "run has no cgroup v2 directory",
					 first_key(c->cfg, i));
				return -ENOTSUP;
			}
			snprintf(c->v2_dir, sizeof(c->v2_dir), "%s", v2_dir);
			rc = write_v2(c, i);
			where = c->v2_dir;
		} else {
			rc = sysg_mkdir_p(c->v1_base[i], 0755, 0);
			if (rc == 0)
				rc = sysg_cgroup_create(c->v1_base[i], name,
							c->v1_dir[i],
							sizeof(c->v1_dir[i]));
			if (rc == 0)
				rc = write_v1(c, i);
			where = c->v1_dir[i];
		}
		if (rc < 0) {
			snprintf(err, errlen, "limits.cgroup.%s: cannot set the "
				 "limit in %s: %s", first_key(c->cfg, i), where,
				 strerror(-rc));
			sysg_cglimit_remove(c);
			return rc;
		}
	}
	return 0;
}

int sysg_cglimit_join(const struct sysg_cglimit *c, pid_t pid)
{
	char v[32];

	snprintf(v, sizeof(v), "%d", (int)pid);
	for (int i = 0; i < SYSG_CG_NCTRL; i++) {
		int rc = c->v1_dir[i][0] ?
			 write_file(c->v1_dir[i], "cgroup.procs", v) : 0;

		if (rc < 0)
			return rc;
	}
	return 0;
}

long sysg_cglimit_oom_kills(const struct sysg_cglimit *c)
{
	char path[PATH_MAX], buf[2048];
	const char *p;

	if (!c->need[SYSG_CG_MEMORY])
		return 0;
	if (c->v2[SYSG_CG_MEMORY])
		snprintf(path, sizeof(path), "%s/memory.events", c->v2_dir);
	else
		snprintf(path, sizeof(path), "%s/memory.oom_control",
			 c->v1_dir[SYSG_CG_MEMORY]);
	if (sysg_proc_read_file(path, buf, sizeof(buf)) < 0)
		return 0;
	p = strstr(buf, "oom_kill ");
	return p ? atol(p + 9) : 0;
}

void sysg_cglimit_remove(struct sysg_cglimit *c)
{
	for (int i = 0; i < SYSG_CG_NCTRL; i++)
		if (c->v1_dir[i][0] && rmdir(c->v1_dir[i]) == 0)
			c->v1_dir[i][0] = '\0';
}
