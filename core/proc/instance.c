/* instance.c - the instance marker and cgroup names (instance.h). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "instance.h"
#include "proctree.h"

#define MARKER_HEAD SYSG_INSTANCE_VAR "="
#define OLD_HEAD SYSG_INSTANCE_VAR_OLD "="

/* FNV-1a of the state directory's path. */
static uint64_t dir_hash(const char *state_dir)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = state_dir; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

void sysg_instance_dir_prefix(const char *state_dir, char *buf, size_t len)
{
	snprintf(buf, len, MARKER_HEAD "%016llx:",
		 (unsigned long long)dir_hash(state_dir));
}

void sysg_instance_prefix(const char *state_dir, const char *svc, char *buf,
			  size_t len)
{
	snprintf(buf, len, MARKER_HEAD "%016llx:%s:",
		 (unsigned long long)dir_hash(state_dir), svc);
}

void sysg_instance_dir_prefix_old(const char *state_dir, char *buf,
				  size_t len)
{
	snprintf(buf, len, OLD_HEAD "%016llx:",
		 (unsigned long long)dir_hash(state_dir));
}

void sysg_instance_prefix_old(const char *state_dir, const char *svc,
			      char *buf, size_t len)
{
	snprintf(buf, len, OLD_HEAD "%016llx:%s:",
		 (unsigned long long)dir_hash(state_dir), svc);
}

void sysg_instance_marker(const char *state_dir, const char *svc, pid_t pid,
			  unsigned serial, char *buf, size_t len)
{
	snprintf(buf, len, MARKER_HEAD "%016llx:%s:%d.%u",
		 (unsigned long long)dir_hash(state_dir), svc, (int)pid,
		 serial);
}

int sysg_instance_service(const char *state_dir, pid_t pid, char *name,
			  size_t len)
{
	char prefix[SYSG_INSTANCE_MAX], marker[SYSG_INSTANCE_MAX];
	const char *p, *end;

	sysg_instance_dir_prefix(state_dir, prefix, sizeof(prefix));
	if (sysg_proc_environ_find(pid, prefix, marker, sizeof(marker)) < 0) {
		sysg_instance_dir_prefix_old(state_dir, prefix, sizeof(prefix));
		if (sysg_proc_environ_find(pid, prefix, marker,
					   sizeof(marker)) < 0)
			return -1;
	}
	p = marker + strlen(prefix);
	end = strchr(p, ':');
	if (!end || end == p || (size_t)(end - p) >= len)
		return -1;
	snprintf(name, len, "%.*s", (int)(end - p), p);
	return 0;
}

const char *sysg_instance_value(const char *entry)
{
	size_t n = strlen(MARKER_HEAD);

	return strncmp(entry, MARKER_HEAD, n) ? "" : entry + n;
}

void sysg_instance_cgroup_dir(const char *state_dir, char *buf, size_t len)
{
	snprintf(buf, len, "sysg.%016llx",
		 (unsigned long long)dir_hash(state_dir));
}

int sysg_instance_is_cgroup_dir(const char *name)
{
	size_t n = strlen("sysg.");

	if (strncmp(name, "sysg.", n) || strlen(name + n) != 16)
		return 0;
	return strspn(name + n, "0123456789abcdef") == 16;
}

int sysg_instance_cgroup_run_orphaned(const char *name)
{
	const char *serial = strrchr(name, '.'), *p;
	char *end;
	long pid;

	if (!serial || serial == name)
		return 0;
	for (p = serial - 1; p > name && *p != '.'; p--)
		;
	if (*p != '.')
		return 0;
	pid = strtol(p + 1, &end, 10);
	if (end != serial || pid <= 0)
		return 0;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

int sysg_instance_owns_cgroup(const char *state_dir, const char *cg)
{
	char tag[64];

	snprintf(tag, sizeof(tag), "/sysg.%016llx/",
		 (unsigned long long)dir_hash(state_dir));
	return strstr(cg, tag) != NULL;
}

void sysg_instance_cgroup_run(const char *svc, pid_t pid, unsigned serial,
			      char *buf, size_t len)
{
	snprintf(buf, len, "%s.%d.%u", svc, (int)pid, serial);
}
