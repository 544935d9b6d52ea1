/* procstat.h - read-only facts about processes from /proc, for status and
 * inspect: identity, CPU time, resident memory, command line.
 *
 * Nothing here signals or waits for a process; every call is one or two
 * small reads of /proc files and works for any process the caller may
 * see. All functions return 0 or a negative errno-style code (-ESRCH
 * when the process does not exist). */
#ifndef SYSG_PROCSTAT_H
#define SYSG_PROCSTAT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The fields of /proc/PID/stat that status and inspect use. */
struct sysg_procstat {
	int64_t pid;
	int64_t ppid;
	int64_t pgrp;
	int64_t sid;
	char state;             /* R S D Z T ... */
	char comm[64];          /* field 2, without the parentheses */
	uint64_t utime;         /* fields 14, 15: CPU time in clock ticks */
	uint64_t stime;
	uint64_t start_ticks;   /* field 22: start time, ticks since boot */
	uint64_t rss_pages;     /* field 24: resident pages (as statm's) */
};

/* Read up to LEN-1 bytes of the small file PATH (a /proc or cgroup
 * entry) into BUF, NUL-terminated. Returns the byte count or -errno
 * (-ESRCH when the file does not exist: a vanished /proc entry). */
ssize_t sysg_proc_read_file(const char *path, char *buf, size_t len);

/* The same with PATH relative to the directory DIRFD (-1: the current
 * directory, or PATH is absolute). */
ssize_t sysg_proc_read_file_at(int dirfd, const char *path, char *buf,
			       size_t len);

/* /proc opened as a directory (close-on-exec), for the *_at reads of a
 * loop over many pids: each then skips the lookup of "/proc". The fd or
 * -errno; the caller closes it. */
int sysg_proc_dir_open(void);

/* Read /proc/PID/stat into OUT. 0, -ESRCH, or -EINVAL when unparsable. */
int sysg_procstat_read(int64_t pid, struct sysg_procstat *out);

/* The same through PROCFD, /proc opened by sysg_proc_dir_open (-1: by
 * its full path). */
int sysg_procstat_read_at(int procfd, int64_t pid, struct sysg_procstat *out);

/* 1 when PS is a live process (not a zombie or dead) and, when TICKS is
 * non-zero, started at TICKS (so a reused pid is not mistaken for it). */
int sysg_procstat_is_live(const struct sysg_procstat *ps, uint64_t ticks);

/* Process identity, for stale-pid and pid-reuse detection: the start time
 * of PID in clock ticks since boot (/proc/PID/stat field 22) into *TICKS
 * (0 on failure). 0 or -ESRCH (or -errno). */
int sysg_proc_start_ticks(int64_t pid, uint64_t *ticks);

/* 1 when the process PID is alive (sysg_procstat_is_live); else 0. When
 * /proc/PID/stat cannot be read for lack of permission (hidepid), the
 * identity cannot be checked and the answer is whether kill(PID, 0) sees
 * the pid. */
int sysg_proc_alive(int64_t pid, uint64_t ticks);

/* Resident set size of PID in bytes (/proc/PID/statm). 0 or -errno. */
int sysg_proc_rss_bytes(int64_t pid, int64_t *bytes);

/* The command line of PID, arguments joined by single spaces, into BUF
 * (truncated to fit; "" for kernel threads). 0 or -errno. */
int sysg_proc_cmdline(int64_t pid, char *buf, size_t len);

/* 1 when PID runs COMMAND (a service's command as spawned): its command
 * line is COMMAND, or `sh -c [exec ]COMMAND` (a process systemg or an
 * older sysg started carries no marker: this is how it is recognised). */
int sysg_proc_runs_command(int64_t pid, const char *command);

/* 1 when PID is the init of a pid namespace (isolation.pid) that would
 * never see SIG: it has no handler for it (the kernel drops such signals
 * sent to a namespace's init, even from outside); else 0. */
int sysg_proc_ns_init_drops(int64_t pid, int sig);

/* Time since boot in milliseconds (/proc/uptime). 0 or -errno. */
int sysg_proc_uptime_ms(int64_t *ms);

/* Total physical memory in bytes (MemTotal in /proc/meminfo). */
int sysg_proc_mem_total(int64_t *bytes);

/* Clock ticks per second (sysconf(_SC_CLK_TCK), 100 when unknown). */
long sysg_proc_clk_tck(void);

/* Seconds PS has been running, given the system uptime UPTIME_MS. */
int64_t sysg_procstat_age_ms(const struct sysg_procstat *ps, int64_t uptime_ms);

/* CPU use of PS over its whole life, in percent of one core, given the
 * system uptime UPTIME_MS. 0 for a process younger than one tick. */
double sysg_procstat_cpu_lifetime(const struct sysg_procstat *ps,
				  int64_t uptime_ms);

/* Call CB for every process in /proc (in pid order of the directory).
 * CB returns non-zero to stop. Processes that vanish mid-scan are
 * skipped. 0 or -errno when /proc cannot be read. */
typedef int (*sysg_procstat_cb)(void *arg, const struct sysg_procstat *ps);
int sysg_proc_scan(sysg_procstat_cb cb, void *arg);

#endif
