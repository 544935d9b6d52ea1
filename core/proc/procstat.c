/* procstat.c - see procstat.h */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "procstat.h"

/* A short read ends the file: /proc files hand over all they have at
 * once, so the common case (/proc/PID/stat in a tree scan) costs a single
 * read(2). */
ssize_t sysg_proc_read_file_at(int dirfd, const char *path, char *buf,
			       size_t len)
{
	ssize_t n, total = 0;
	int fd;

	if (len == 0)
		return -EINVAL;
	fd = openat(dirfd < 0 ? AT_FDCWD : dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((size_t)total < len - 1) {
		size_t want = len - 1 - (size_t)total;

		n = read(fd, buf + total, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = errno == ESRCH ? -ESRCH : -errno;
			close(fd);
			return n;
		}
		total += n;
		if ((size_t)n < want)
			break;
	}
	close(fd);
	buf[total] = '\0';
	return total;
}

ssize_t sysg_proc_read_file(const char *path, char *buf, size_t len)
{
	return sysg_proc_read_file_at(-1, path, buf, len);
}

int sysg_proc_dir_open(void)
{
	int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

long sysg_proc_clk_tck(void)
{
	static long tck;

	if (tck <= 0) {
		tck = sysconf(_SC_CLK_TCK);
		if (tck <= 0)
			tck = 100;
	}
	return tck;
}

/* The decimal number at *P (a leading '-' wraps around, as strtoull's),
 * moving *P past it. A scan of /proc parses thousands of these. */
static unsigned long long stat_number(const char **p)
{
	const char *s = *p;
	unsigned long long v = 0;
	int neg = *s == '-';

	s += neg;
	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (unsigned long long)(*s - '0');
	*p = s;
	return neg ? 0 - v : v;
}

/* Parse the fields after "(comm) " of /proc/PID/stat: the state, then
 * numbers (field 3 is the state; v[k] is field k + 4). No sscanf. */
static int parse_stat_tail(const char *p, struct sysg_procstat *out)
{
	unsigned long long v[21];
	int got = 0;

	while (*p == ' ')
		p++;
	if (!*p)
		return -EINVAL;
	out->state = *p++;
	while (got < 21) {
		while (*p == ' ')
			p++;
		if ((*p < '0' || *p > '9') && *p != '-')
			break;
		v[got++] = stat_number(&p);
	}
	/* fields 4..22: ppid pgrp sid tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime cutime cstime prio nice threads itrealvalue
	 * starttime; then vsize rss */
	if (got < 19)
		return -EINVAL;
	out->ppid = (int64_t)v[0];
	out->pgrp = (int64_t)v[1];
	out->sid = (int64_t)v[2];
	out->utime = v[10];
	out->stime = v[11];
	out->start_ticks = v[18];
	out->rss_pages = got > 20 ? v[20] : 0;
	return 0;
}

/* "/proc/PID/stat" into BUF (at least 40 bytes), digits by hand: status
 * reads one per unit. */
static void stat_path(int64_t pid, char *buf)
{
	char d[24], *p = d + sizeof(d);
	uint64_t u = (uint64_t)pid;
	size_t n;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10));
	n = (size_t)(d + sizeof(d) - p);
	memcpy(buf, "/proc/", 6);
	memcpy(buf + 6, p, n);
	memcpy(buf + 6 + n, "/stat", 6);
}

int sysg_procstat_read_at(int procfd, int64_t pid, struct sysg_procstat *out)
{
	char path[40], buf[1024];
	const char *open_paren, *close_paren;
	size_t n;
	ssize_t len;

	if (pid <= 0 || pid > INT32_MAX)
		return -ESRCH;
	stat_path(pid, path);
	/* "PID/stat" relative to PROCFD */
	len = sysg_proc_read_file_at(procfd, procfd < 0 ? path : path + 6,
				     buf, sizeof(buf));
	if (len < 0)
		return (int)len;
	memset(out, 0, sizeof(*out));
	out->pid = pid;
	/* comm may itself contain ')' or spaces: it ends at the last ')'. */
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -EINVAL;
	n = (size_t)(close_paren - open_paren - 1);
	if (n >= sizeof(out->comm))
		n = sizeof(out->comm) - 1;
	memcpy(out->comm, open_paren + 1, n);
	out->comm[n] = '\0';
	return parse_stat_tail(close_paren + 1, out);
}

int sysg_procstat_read(int64_t pid, struct sysg_procstat *out)
{
	return sysg_procstat_read_at(-1, pid, out);
}

int sysg_procstat_is_live(const struct sysg_procstat *ps, uint64_t ticks)
{
	/* 'x' is how kernels 2.6.33 to 3.13 spell a dead task */
	if (ps->state == 'Z' || ps->state == 'X' || ps->state == 'x')
		return 0;
	return !ticks || ps->start_ticks == ticks;
}

int sysg_proc_start_ticks(int64_t pid, uint64_t *ticks)
{
	struct sysg_procstat ps;
	int rc = sysg_procstat_read(pid, &ps);

	*ticks = rc < 0 ? 0 : ps.start_ticks;
	return rc;
}

int sysg_proc_alive(int64_t pid, uint64_t ticks)
{
	struct sysg_procstat ps;
	int rc = sysg_procstat_read(pid, &ps);

	if (rc == -EACCES || rc == -EPERM)      /* hidepid: no identity */
		return kill((pid_t)pid, 0) == 0 || errno == EPERM;
	return rc == 0 && sysg_procstat_is_live(&ps, ticks);
}

int sysg_proc_rss_bytes(int64_t pid, int64_t *bytes)
{
	char path[64], buf[256];
	long long size, resident;
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%" PRId64 "/statm", pid);
	len = sysg_proc_read_file(path, buf, sizeof(buf));
	if (len < 0)
		return (int)len;
	if (sscanf(buf, "%lld %lld", &size, &resident) != 2)
		return -EINVAL;
	*bytes = (int64_t)resident * (int64_t)sysconf(_SC_PAGESIZE);
	return 0;
}

int sysg_proc_cmdline(int64_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	if (len == 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%" PRId64 "/cmdline", pid);
	n = sysg_proc_read_file(path, buf, len);
	if (n < 0)
		return (int)n;
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return 0;
}

/* The hex mask after "\nNAME:\t" in a /proc/PID/status text. */
static unsigned long long status_mask(const char *st, const char *name)
{
	char key[32];
	const char *p;

	snprintf(key, sizeof(key), "\n%s:\t", name);
	p = strstr(st, key);
	return p ? strtoull(p + strlen(key), NULL, 16) : 0;
}

int sysg_proc_ns_init_drops(int64_t pid, int sig)
{
	char path[64], st[4096];
	const char *ns, *eol;
	unsigned long long bit = 1ULL << (sig - 1);

	snprintf(path, sizeof(path), "/proc/%lld/status", (long long)pid);
	if (sysg_proc_read_file(path, st, sizeof(st)) < 0)
		return 0;
	ns = strstr(st, "\nNSpid:\t");
	if (!ns)
		return 0;
	ns += 8;
	eol = ns + strcspn(ns, "\n");
	/* "HOST ... 1": more than one level, and 1 in the innermost */
	if (!memchr(ns, '\t', (size_t)(eol - ns)) || eol - ns < 2 ||
	    eol[-1] != '1' || (eol[-2] != '\t' && eol[-2] != ' '))
		return 0;
	return !(status_mask(st, "SigCgt") & bit) &&
	       !(status_mask(st, "SigIgn") & bit);
}

int sysg_proc_uptime_ms(int64_t *ms)
{
	char buf[128];
	double up;
	ssize_t n = sysg_proc_read_file("/proc/uptime", buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	if (sscanf(buf, "%lf", &up) != 1)
		return -EINVAL;
	*ms = (int64_t)(up * 1000.0);
	return 0;
}

int sysg_proc_mem_total(int64_t *bytes)
{
	char buf[SYSG_IO_CHUNK];
	const char *p;
	long long kb;
	ssize_t n = sysg_proc_read_file("/proc/meminfo", buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	p = strstr(buf, "MemTotal:");
	if (!p || sscanf(p + 9, "%lld", &kb) != 1 || kb <= 0)
		return -EINVAL;
	*bytes = (int64_t)kb * 1024;
	return 0;
}

int64_t sysg_procstat_age_ms(const struct sysg_procstat *ps, int64_t uptime_ms)
{
	int64_t started = (int64_t)(ps->start_ticks * 1000 /
				    (uint64_t)sysg_proc_clk_tck());

	return uptime_ms > started ? uptime_ms - started : 0;
}

double sysg_procstat_cpu_lifetime(const struct sysg_procstat *ps,
				  int64_t uptime_ms)
{
	int64_t age = sysg_procstat_age_ms(ps, uptime_ms);
	double cpu_ms = (double)(ps->utime + ps->stime) * 1000.0 /
			(double)sysg_proc_clk_tck();

	if (age * sysg_proc_clk_tck() < 1000)
		return 0.0;
	return cpu_ms * 100.0 / (double)age;
}

static int is_pid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

int sysg_proc_scan(sysg_procstat_cb cb, void *arg)
{
	struct sysg_procstat ps;
	struct dirent *de;
	DIR *d = opendir("/proc");
	int stop = 0;

	if (!d)
		return -errno;
	while (!stop && (de = readdir(d))) {
		if (!is_pid_name(de->d_name))
			continue;
		if (sysg_procstat_read_at(dirfd(d), strtoll(de->d_name, NULL,
							      10), &ps) < 0)
			continue;
		stop = cb(arg, &ps);
	}
	closedir(d);
	return 0;
}

int sysg_proc_runs_command(int64_t pid, const char *cmd)
{
	char line[8192];        /* a command line: SYSG_COMMAND_MAX, plus "sh -c " */
	const char *p;

	if (!cmd || sysg_proc_cmdline(pid, line, sizeof(line)) < 0)
		return 0;
	if (!strcmp(line, cmd))
		return 1;
	if (!strncmp(line, "sh -c ", 6))
		p = line + 6;
	else if (!strncmp(line, "/bin/sh -c ", 11))
		p = line + 11;
	else
		return 0;
	if (!strncmp(p, "exec ", 5) && !strcmp(p + 5, cmd))
		return 1;
	return !strcmp(p, cmd);
}
