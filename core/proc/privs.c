/* privs.c - privileged service settings (see privs.h). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "privs.h"

static int privs_error(char *err, size_t errlen, const char *svc,
		       const char *key, int rc, const char *msg)
{
	sysg_errf(err, errlen, "services.%s.%s: %s", svc, key, msg);
	return rc;
}

/* The first isolation key of ISO that is set, or "isolation". */
static const char *isolation_key(const struct sysg_isolation *iso)
{
	if (iso->seccomp)
		return "isolation.seccomp";
	if (iso->apparmor_profile)
		return "isolation.apparmor_profile";
	if (iso->selinux_context)
		return "isolation.selinux_context";
	if (iso->private_devices)
		return "isolation.private_devices";
	if (iso->private_tmp)
		return "isolation.private_tmp";
	return "isolation";
}

/* The first privileged key of SVC that this build cannot apply. */
static const char *unsupported_key(const struct sysg_service *svc)
{
	const struct sysg_cgroup_limits *cg = &svc->limits.cgroup;

	if (svc->ncapabilities)
		return "capabilities";
	if (svc->isolation.present)
		return isolation_key(&svc->isolation);
	if (cg->root || cg->memory_max >= 0 || cg->cpu_max || cg->cpu_weight >= 0)
		return "limits.cgroup";
	return NULL;
}

static const char *first_key(const struct sysg_service *svc)
{
	if (svc->user)
		return "user";
	if (svc->group)
		return "group";
	if (svc->nsupplementary_groups)
		return "supplementary_groups";
	if (svc->limits.present)
		return "limits";
	if (svc->ncapabilities)
		return "capabilities";
	return "isolation";
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

static int resolve_user(const struct sysg_service *svc, struct sysg_privs *p,
			char *err, size_t errlen)
{
	struct passwd *pw;

	p->creds.uid = getuid();
	p->creds.gid = getgid();
	if (!svc->user)
		return 0;
	pw = getpwnam(svc->user);
	if (!pw)
		return privs_error(err, errlen, svc->name, "user", -ENOENT,
				   "no such user");
	p->creds.uid = pw->pw_uid;
	p->creds.gid = pw->pw_gid;
	return 0;
}

static int resolve_groups(const struct sysg_service *svc, struct sysg_privs *p,
			  char *err, size_t errlen)
{
	size_t n = svc->nsupplementary_groups;

	if (svc->group && lookup_group(svc->group, &p->creds.gid) < 0)
		return privs_error(err, errlen, svc->name, "group", -ENOENT,
				   "no such group");
	p->creds.groups = calloc(n + 1, sizeof(gid_t));
	if (!p->creds.groups)
		return -ENOMEM;
	p->creds.groups[0] = p->creds.gid;
	for (size_t i = 0; i < n; i++)
		if (lookup_group(svc->supplementary_groups[i],
				 &p->creds.groups[i + 1]) < 0)
			return privs_error(err, errlen, svc->name,
					   "supplementary_groups", -ENOENT,
					   "no such group");
	p->creds.ngroups = n + 1;
	return 0;
}

int sysg_privs_prepare(const struct sysg_service *svc, int sys,
		       struct sysg_privs *out, char *err, size_t errlen)
{
	const char *bad;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!svc->privileged_mark.line)
		return 0;
	out->needed = 1;
	if (!sys || geteuid() != 0)
		return privs_error(err, errlen, svc->name, first_key(svc), -EPERM,
				   "requires --sys and root");
	bad = unsupported_key(svc);
	if (bad)
		return privs_error(err, errlen, svc->name, bad, -ENOTSUP,
				   "not supported by this build yet");
	out->limits = &svc->limits;
	rc = resolve_user(svc, out, err, errlen);
	if (rc == 0)
		rc = resolve_groups(svc, out, err, errlen);
	out->creds.set_ids = rc == 0 && (svc->user || svc->group ||
					 svc->nsupplementary_groups);
	return rc;
}

void sysg_privs_free(struct sysg_privs *p)
{
	free(p->creds.groups);
	p->creds.groups = NULL;
}

static int set_limit(int resource, int64_t value)
{
	struct rlimit rl = { (rlim_t)value, (rlim_t)value };

	if (value < 0)
		return 0;
	return setrlimit(resource, &rl) < 0 ? errno : 0;
}

int sysg_privs_child_setup(void *arg)
{
	const struct sysg_privs *p = arg;
	const struct sysg_limits *l = p->limits;
	cpu_set_t set;
	int e;

	if (!l || !l->present)
		return 0;
	if ((e = set_limit(RLIMIT_NOFILE, l->nofile)) ||
	    (e = set_limit(RLIMIT_NPROC, l->nproc)) ||
	    (e = set_limit(RLIMIT_MEMLOCK, l->memlock)))
		return e;
	if (l->has_nice && setpriority(PRIO_PROCESS, 0, l->nice) < 0)
		return errno;
	if (!l->ncpu_affinity)
		return 0;
	CPU_ZERO(&set);
	for (size_t i = 0; i < l->ncpu_affinity; i++)
		CPU_SET(l->cpu_affinity[i], &set);
	return sched_setaffinity(0, sizeof(set), &set) < 0 ? errno : 0;
}
