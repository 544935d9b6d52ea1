/* privs.c - privileged service settings (see privs.h). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <net/if.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privs.h"
#include "proctree.h"

#define NOBODY "nobody"

static int privs_error(char *err, size_t errlen, const char *svc,
		       const char *key, int rc, const char *msg)
{
	sysg_errf(err, errlen, "services.%s.%s: %s", svc, key, msg);
	return rc;
}

static void set_where(struct sysg_mark *where, const struct sysg_service *svc,
		      enum sysg_priv_key key)
{
	if (where)
		*where = svc->priv_marks[key].line ? svc->priv_marks[key] :
			 svc->privileged_mark;
}

static const char *first_key(const struct sysg_service *svc,
			     enum sysg_priv_key *key)
{
	static const char *const names[SYSG_PRIV_NKEYS] = {
		"user", "group", "supplementary_groups", "limits",
		"capabilities", "isolation",
	};

	for (int i = 0; i < SYSG_PRIV_NKEYS; i++)
		if (svc->priv_marks[i].line) {
			*key = (enum sysg_priv_key)i;
			return names[i];
		}
	*key = SYSG_PRIV_USER;
	return "user";
}

static int lookup_group(const char *name, gid_t *gid)
{
	struct group *g = getgrnam(name);
	char *end;
	long v;

	if (g) {
		*gid = g->gr_gid;
		return 0;
	}
	v = strtol(name, &end, 10);
	if (*name && !*end && v >= 0) {
		*gid = (gid_t)v;
		return 0;
	}
	return -ENOENT;
}

static int resolve_user(const char *user, struct sysg_privs *p)
{
	struct passwd *pw;

	p->creds.uid = getuid();
	p->creds.gid = getgid();
	if (!user)
		return 0;
	pw = getpwnam(user);
	if (!pw)
		return -ENOENT;
	p->creds.uid = pw->pw_uid;
	p->creds.gid = pw->pw_gid;
	p->user_name = strdup(pw->pw_name);
	p->home = strdup(pw->pw_dir);
	p->shell = strdup(pw->pw_shell && *pw->pw_shell ? pw->pw_shell :
			  "/bin/sh");
	return p->user_name && p->home && p->shell ? 0 : -ENOMEM;
}

static int resolve_groups(const struct sysg_service *svc, struct sysg_privs *p,
			  struct sysg_mark *where, char *err, size_t errlen)
{
	size_t n = svc->nsupplementary_groups;

	if (svc->group && lookup_group(svc->group, &p->creds.gid) < 0) {
		set_where(where, svc, SYSG_PRIV_GROUP);
		return privs_error(err, errlen, svc->name, "group", -ENOENT,
				   "no such group");
	}
	p->creds.groups = calloc(n + 1, sizeof(gid_t));
	if (!p->creds.groups)
		return -ENOMEM;
	p->creds.groups[0] = p->creds.gid;
	for (size_t i = 0; i < n; i++)
		if (lookup_group(svc->supplementary_groups[i],
				 &p->creds.groups[i + 1]) < 0) {
			char msg[160];

			snprintf(msg, sizeof(msg), "no such group '%.100s'",
				 svc->supplementary_groups[i]);
			set_where(where, svc, SYSG_PRIV_SUPP_GROUPS);
			return privs_error(err, errlen, svc->name,
					   "supplementary_groups", -ENOENT,
					   msg);
		}
	p->creds.ngroups = n + 1;
	return 0;
}

static int resolve_caps(const struct sysg_service *svc, struct sysg_privs *p,
			struct sysg_mark *where, char *err, size_t errlen)
{
	p->has_caps = svc->capabilities != NULL;
	for (size_t i = 0; i < svc->ncapabilities; i++) {
		int c = sysg_cap_number(svc->capabilities[i]);
		char msg[160];

		if (c >= 0 && c < 64 && prctl(PR_CAPBSET_READ, c) >= 0) {
			p->caps |= 1ULL << c;
			continue;
		}
		snprintf(msg, sizeof(msg), "%s is not known to this kernel",
			 svc->capabilities[i]);
		set_where(where, svc, SYSG_PRIV_CAPS);
		return privs_error(err, errlen, svc->name, "capabilities",
				   -ENOTSUP, msg);
	}
	return 0;
}

static int isolation_error(const struct sysg_service *svc,
			   struct sysg_mark *where, char *err, size_t errlen,
			   const char *key, int rc, const char *msg)
{
	char k[64];

	snprintf(k, sizeof(k), "isolation.%s", key);
	set_where(where, svc, SYSG_PRIV_ISOLATION);
	return privs_error(err, errlen, svc->name, k, rc, msg);
}

static int resolve_confinement(const struct sysg_service *svc,
			       struct sysg_privs *p, struct sysg_mark *where,
			       char *err, size_t errlen)
{
	const struct sysg_isolation *iso = &svc->isolation;
	char msg[400];
	int rc;

	p->private_tmp = iso->private_tmp;
	p->private_devices = iso->private_devices;
	if (iso->private_tmp || iso->private_devices)
		p->clone_flags |= CLONE_NEWNS;
	if (iso->apparmor_profile && iso->selinux_context)
		return isolation_error(svc, where, err, errlen,
				       "selinux_context", -EINVAL,
				       "cannot be combined with "
				       "apparmor_profile");
	p->lsm = iso->apparmor_profile ? "apparmor" :
		 iso->selinux_context ? "selinux" : NULL;
	p->lsm_label = iso->apparmor_profile ? iso->apparmor_profile :
		       iso->selinux_context;
	if (p->lsm && (rc = sysg_lsm_check(p->lsm, msg, sizeof(msg))) < 0)
		return isolation_error(svc, where, err, errlen,
				       iso->apparmor_profile ?
				       "apparmor_profile" : "selinux_context",
				       rc, msg);
	if (iso->seccomp &&
	    (rc = sysg_seccomp_compile(iso->seccomp, &p->seccomp, msg,
				       sizeof(msg))) < 0)
		return isolation_error(svc, where, err, errlen, "seccomp", rc,
				       msg);
	return 0;
}

static int resolve_isolation(const struct sysg_service *svc,
			     struct sysg_privs *p, struct sysg_mark *where,
			     char *err, size_t errlen)
{
	const struct sysg_isolation *iso = &svc->isolation;

	if (iso->network)
		p->clone_flags |= CLONE_NEWNET;
	if (iso->mount)
		p->clone_flags |= CLONE_NEWNS;
	if (iso->pid) {
		p->clone_flags |= CLONE_NEWPID | CLONE_NEWNS;
		p->mount_proc = 1;
	}
	if (iso->user)
		p->clone_flags |= CLONE_NEWUSER;
	return resolve_confinement(svc, p, where, err, errlen);
}

/* After the ids are known: in a user namespace the new tmpfs belong to
 * the service's user (its root is not mapped there). */
static void tmpfs_owner(struct sysg_privs *p)
{
	if (p->clone_flags & CLONE_NEWUSER)
		snprintf(p->tmpfs_owner, sizeof(p->tmpfs_owner),
			 ",uid=%u,gid=%u", (unsigned)p->creds.uid,
			 (unsigned)p->creds.gid);
}

int sysg_privs_prepare(const struct sysg_service *svc,
		       const struct sysg_privs_opts *o, struct sysg_privs *out,
		       struct sysg_mark *where, char *err, size_t errlen)
{
	const char *user = svc->user;
	enum sysg_priv_key key;
	int rc;

	memset(out, 0, sizeof(*out));
	if (where)
		where->line = where->col = 0;
	if (!user && o->drop_privileges)
		user = NOBODY;
	if (!svc->privileged_mark.line && !user)
		return 0;
	out->needed = 1;
	/* SPEC 10: root is what these keys need; --sys only moves state
	 * and logs to the system paths. */
	if (!svc->privileged_mark.line && geteuid() != 0) {
		set_where(where, svc, SYSG_PRIV_USER);
		return privs_error(err, errlen, svc->name, "user", -EPERM,
				   "--drop-privileges requires root");
	}
	if (geteuid() != 0) {
		const char *k = first_key(svc, &key);

		set_where(where, svc, key);
		return privs_error(err, errlen, svc->name, k, -EPERM,
				   "requires root");
	}
	out->limits = &svc->limits;
	rc = resolve_user(user, out);
	if (rc == -ENOENT) {
		set_where(where, svc, SYSG_PRIV_USER);
		return privs_error(err, errlen, svc->name, "user", rc,
				   "no such user");
	}
	if (rc == 0)
		rc = resolve_groups(svc, out, where, err, errlen);
	if (rc == 0)
		rc = resolve_caps(svc, out, where, err, errlen);
	if (rc == 0)
		rc = resolve_isolation(svc, out, where, err, errlen);
	if (rc == 0) {
		/* the paths of a run's limit cgroups are kilobytes: only a
		 * service with limits keeps them (the supervisor holds one
		 * struct sysg_privs per service) */
		struct sysg_cglimit *cg = calloc(1, sizeof(*cg));
		char msg[400] = "limits.cgroup: out of memory";

		rc = !cg ? -ENOMEM :
		     sysg_cglimit_plan(&svc->limits.cgroup, o->cgroup_v2_base,
				       o->dry ? SYSG_CG_DRY : 0, cg, msg,
				       sizeof(msg));
		out->has_cg = rc == 0 && (cg->need[SYSG_CG_MEMORY] ||
					  cg->need[SYSG_CG_CPU] ||
					  cg->need[SYSG_CG_PIDS]);
		if (out->has_cg)
			out->cg = cg;
		else
			free(cg);
		if (rc < 0) {
			if (where)
				*where = svc->limits.cgroup.mark;
			snprintf(err, errlen, "services.%s.limits.%s",
				 svc->name, msg + strlen("limits."));
		}
	}
	out->creds.set_ids = rc == 0 && (user || svc->group ||
					 svc->nsupplementary_groups);
	tmpfs_owner(out);
	return rc;
}

void sysg_privs_free(struct sysg_privs *p)
{
	if (p->has_cg)  /* best effort: a cgroup still in use stays */
		sysg_cglimit_remove(p->cg);
	free(p->cg);
	p->cg = NULL;
	p->has_cg = 0;
	free(p->creds.groups);
	free(p->user_name);
	free(p->home);
	free(p->shell);
	sysg_seccomp_free(&p->seccomp);
	p->creds.groups = NULL;
	p->user_name = p->home = p->shell = NULL;
}

int sysg_privs_check_config(const struct sysg_config *cfg,
			    const struct sysg_privs_opts *o,
			    struct sysg_diag *diag)
{
	struct sysg_privs_opts opts = *o;
	char base[512] = "", err[512];
	int bad = 0;

	opts.dry = 1;
	if (!opts.cgroup_v2_base) {
		if (sysg_cgroup_base(base, sizeof(base)) < 0)
			base[0] = '\0';
		opts.cgroup_v2_base = base;
	}
	for (size_t i = 0; i < cfg->nservices; i++) {
		struct sysg_privs p;
		struct sysg_mark at;

		if (sysg_privs_prepare(&cfg->services[i], &opts, &p, &at, err,
				       sizeof(err)) < 0) {
			sysg_diag_error(diag, cfg->path, at.line, at.col, NULL,
					"%s", err);
			bad++;
		}
		sysg_privs_free(&p);
	}
	return bad;
}

int sysg_privs_begin_run(struct sysg_privs *p, const char *svc,
			 const char *name, const char *v2_dir, char *err,
			 size_t errlen)
{
	char msg[400];
	int rc;

	if (!p->has_cg)
		return 0;
	sysg_cglimit_remove(p->cg);
	rc = sysg_cglimit_create(p->cg, name, v2_dir, msg, sizeof(msg));
	if (rc < 0)
		snprintf(err, errlen, "services.%s.%s", svc, msg);
	return rc;
}

int sysg_privs_end_run(struct sysg_privs *p)
{
	int oom;

	if (!p->has_cg)
		return 0;
	oom = sysg_cglimit_oom_kills(p->cg) > 0;
	sysg_cglimit_remove(p->cg);
	return oom;
}

/* ------------------------------------------------------------------ */
/* The parent side                                                     */
/* ------------------------------------------------------------------ */

static int set_limit(pid_t pid, int resource, int64_t value)
{
	struct rlimit rl;

	if (value < 0)
		return 0;
	rl.rlim_cur = rl.rlim_max = value == SYSG_LIMIT_UNLIMITED ?
				    RLIM_INFINITY : (rlim_t)value;
	return prlimit(pid, resource, &rl, NULL) < 0 ? -errno : 0;
}

static int write_proc(pid_t pid, const char *name, const char *text)
{
	char path[64];
	ssize_t w;
	int fd, e;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	w = write(fd, text, strlen(text));
	e = w < 0 ? -errno : 0;
	close(fd);
	return e;
}

/* isolation.user: the service's uid and gids, inside = outside. */
static int write_id_maps(const struct sysg_privs *p, pid_t pid)
{
	char map[4096];
	size_t off = 0;
	int rc;

	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)p->creds.uid,
		 (unsigned)p->creds.uid);
	rc = write_proc(pid, "uid_map", map);
	for (size_t i = 0; i < p->creds.ngroups && off < sizeof(map) - 32; i++) {
		int dup = 0;

		for (size_t j = 0; j < i; j++)
			dup |= p->creds.groups[j] == p->creds.groups[i];
		if (!dup)
			off += (size_t)snprintf(map + off, sizeof(map) - off,
						"%u %u 1\n",
						(unsigned)p->creds.groups[i],
						(unsigned)p->creds.groups[i]);
	}
	if (rc == 0 && off)
		rc = write_proc(pid, "gid_map", map);
	return rc;
}

/* From outside: cgroups, rlimits, nice, affinity and, for the service
 * itself (WITH_NS), the user namespace's id maps. */
static int outside_setup(const struct sysg_privs *p, pid_t pid, int with_ns,
			 char *err, size_t errlen)
{
	const struct sysg_limits *l = p->limits;
	const char *what = "cgroup";
	int rc = p->has_cg ? sysg_cglimit_join(p->cg, pid) : 0;

	if (rc == 0 && l && l->present) {
		what = "limits";
		if ((rc = set_limit(pid, RLIMIT_NOFILE, l->nofile)) == 0 &&
		    (rc = set_limit(pid, RLIMIT_NPROC, l->nproc)) == 0 &&
		    (rc = set_limit(pid, RLIMIT_MEMLOCK, l->memlock)) == 0)
			rc = set_limit(pid, RLIMIT_CORE, l->core);
		if (rc == 0 && l->has_nice &&
		    setpriority(PRIO_PROCESS, (id_t)pid, l->nice) < 0)
			rc = -errno;
		if (rc == 0 && l->ncpu_affinity) {
			cpu_set_t set;

			what = "limits.cpu_affinity";
			CPU_ZERO(&set);
			for (size_t i = 0; i < l->ncpu_affinity; i++)
				CPU_SET(l->cpu_affinity[i], &set);
			if (sched_setaffinity(pid, sizeof(set), &set) < 0)
				rc = -errno;
		}
	}
	if (rc == 0 && with_ns && (p->clone_flags & CLONE_NEWUSER)) {
		what = "isolation.user";
		rc = write_id_maps(p, pid);
	}
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", what, strerror(-rc));
	return rc;
}

static int parent_setup(pid_t pid, void *arg, char *err, size_t errlen)
{
	return outside_setup(arg, pid, 1, err, errlen);
}

static int helper_parent_setup(pid_t pid, void *arg, char *err,
			       size_t errlen)
{
	return outside_setup(arg, pid, 0, err, errlen);
}

/* ------------------------------------------------------------------ */
/* The child side (between fork and exec: no allocation, no stdio)     */
/* ------------------------------------------------------------------ */

static int lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), e = 0;

	if (fd < 0)
		return errno;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		e = errno;
	ifr.ifr_flags |= IFF_UP;
	if (!e && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		e = errno;
	close(fd);
	return e;
}

static int child_mounts(const struct sysg_privs *p)
{
	int e;

	if (!(p->clone_flags & CLONE_NEWNS))
		return 0;
	/* nothing mounted here propagates back to the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return errno;
	if (p->mount_proc &&
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		return errno;
	/* in a user namespace, files are created as the service's user */
	if (p->tmpfs_owner[0]) {
		setfsuid(p->creds.uid);
		setfsgid(p->creds.gid);
	}
	if (p->private_tmp && (e = sysg_private_tmp(p->tmpfs_owner)) != 0)
		return e;
	if (p->private_devices &&
	    (e = sysg_private_devices(p->tmpfs_owner)) != 0)
		return e;
	return 0;
}

static int drop_bounding(uint64_t keep)
{
	for (int c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
		if (c >= 64 || !(keep & (1ULL << c)))
			if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
				return errno;
	return 0;
}

static int set_caps(uint64_t caps, int ambient)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	for (int i = 0; i < 2; i++)
		d[i].effective = d[i].permitted = d[i].inheritable =
			(uint32_t)(caps >> (32 * i));
	if (syscall(SYS_capset, &h, d) < 0)
		return errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return errno;
	for (int c = 0; ambient && c < 64; c++)
		if ((caps & (1ULL << c)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			return errno;
	return 0;
}

static int set_ids(const struct sysg_spawn_creds *c)
{
	if (setgroups(c->ngroups, c->groups) < 0 || setgid(c->gid) < 0 ||
	    setuid(c->uid) < 0)
		return errno;
	return 0;
}

/* The ids are the target's everywhere, and root cannot come back. */
static int verify_ids(const struct sysg_privs *p)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;

	if (getresuid(&r, &e, &s) < 0 || getresgid(&gr, &ge, &gs) < 0)
		return errno;
	if (r != p->creds.uid || e != p->creds.uid || s != p->creds.uid ||
	    gr != p->creds.gid || ge != p->creds.gid || gs != p->creds.gid)
		return EPERM;
	if (p->creds.uid != 0 && !(p->caps & (1ULL << CAP_SETUID)) &&
	    setuid(0) == 0)
		return EPERM;
	return 0;
}

/* setns(2) into the network namespace at PATH (a helper joining its
 * service's). 0 or an errno. */
static int join_netns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), e = 0;

	if (fd < 0)
		return errno;
	if (setns(fd, CLONE_NEWNET) < 0)
		e = errno;
	close(fd);
	return e;
}

/* E, naming the step (*STAGE) when it is a failure. */
static int at(const char **stage, const char *name, int e)
{
	if (e)
		*stage = name;
	return e;
}

/* In the child: the namespaces' setup when WITH_NS (the service itself),
 * then the label, capabilities, ids and seccomp filter. */
static int inside_setup(const struct sysg_privs *p, int with_ns,
			const char **stage)
{
	int changes_uid = p->creds.set_ids && p->creds.uid != 0;
	int e;

	if (with_ns &&
	    (e = at(stage, "mount namespace", child_mounts(p))) != 0)
		return e;
	if (with_ns && (p->clone_flags & CLONE_NEWNET) &&
	    (e = at(stage, "network namespace: lo", lo_up())) != 0)
		return e;
	if (!with_ns && p->helper_netns[0] &&
	    (e = at(stage, "the service's network namespace",
		    join_netns(p->helper_netns))) != 0)
		return e;
	if (p->lsm && (e = at(stage, !strcmp(p->lsm, "apparmor") ?
			      "apparmor_profile" : "selinux_context",
			      sysg_lsm_exec_label(p->lsm, p->lsm_label))) != 0)
		return e;
	if (p->has_caps &&
	    (e = at(stage, "capability bounding set",
		    drop_bounding(p->caps))) != 0)
		return e;
	if (p->has_caps && changes_uid &&
	    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return at(stage, "PR_SET_KEEPCAPS", errno);
	if (p->creds.set_ids &&
	    (e = at(stage, "setgroups/setgid/setuid", set_ids(&p->creds))) != 0)
		return e;
	if (p->has_caps) {
		if ((e = at(stage, "capabilities", set_caps(p->caps,
							       changes_uid))))
			return e;
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	}
	if (p->creds.set_ids &&
	    (e = at(stage, "identity check (could regain root or ids differ)",
		    verify_ids(p))) != 0)
		return e;
	return at(stage, "seccomp", sysg_seccomp_apply(&p->seccomp));
}

static int child_setup(void *arg, const char **stage)
{
	return inside_setup(arg, 1, stage);
}

static int helper_child_setup(void *arg, const char **stage)
{
	return inside_setup(arg, 0, stage);
}

void sysg_privs_spawn_req(struct sysg_privs *p, struct sysg_spawn_req *req)
{
	req->child_setup = child_setup;
	req->parent_setup = parent_setup;
	req->child_arg = p;
	req->clone_flags = p->clone_flags;
	req->creds = NULL;
}

int sysg_privs_helper_req(struct sysg_privs *p, struct sysg_spawn_req *req,
			  char ***env)
{
	*env = NULL;
	if (!p || !p->needed)
		return 0;
	*env = sysg_env_dup(req->envp ? req->envp : environ);
	if (!*env || sysg_privs_env(p, env) < 0) {
		sysg_env_free(*env);
		*env = NULL;
		return -ENOMEM;
	}
	req->envp = *env;
	p->helper_netns[0] = '\0';
	if ((p->clone_flags & CLONE_NEWNET) && p->ns_pid > 0)
		snprintf(p->helper_netns, sizeof(p->helper_netns),
			 "/proc/%d/ns/net", (int)p->ns_pid);
	req->child_setup = helper_child_setup;
	req->parent_setup = helper_parent_setup;
	req->child_arg = p;
	req->clone_flags = 0;
	req->creds = NULL;
	return 0;
}

int sysg_privs_env(const struct sysg_privs *p, char ***envp)
{
	if (!p || !p->user_name)
		return 0;
	if (sysg_env_set(envp, "HOME", p->home) < 0 ||
	    sysg_env_set(envp, "USER", p->user_name) < 0 ||
	    sysg_env_set(envp, "LOGNAME", p->user_name) < 0 ||
	    sysg_env_set(envp, "SHELL", p->shell) < 0)
		return -ENOMEM;
	return 0;
}
