/* confine.c - seccomp, LSM exec labels, private /tmp and /dev (see
 * confine.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "confine.h"
#include "procstat.h"

/* ------------------------------------------------------------------ */
/* seccomp                                                             */
/* ------------------------------------------------------------------ */

static const char *const default_denied[] = {
	"kexec_load", "kexec_file_load", "reboot", "init_module",
	"finit_module", "delete_module", "mount", "umount2", "pivot_root",
	"move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
	"swapon", "swapoff", "ptrace", "process_vm_readv",
	"process_vm_writev", "bpf", "perf_event_open", "userfaultfd",
	"open_by_handle_at", "iopl", "ioperm", "acct", "settimeofday",
	"clock_settime", "clock_adjtime", "adjtimex", "quotactl", "syslog",
	"add_key", "request_key", "keyctl", "unshare", "setns", NULL,
};

/* What a program needs between the filter and its own first steps. */
static const char *const always_allowed[] = {
	"execve", "close", "close_range", "write", "exit", "exit_group", NULL,
};

static int add_rule(scmp_filter_ctx ctx, uint32_t action, const char *name,
		    int must_exist)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return must_exist ? -ENOENT : 0;
	return seccomp_rule_add(ctx, action, nr, 0);
}

static int parse_action(const char *word, uint32_t *action)
{
	if (!strcmp(word, "allow"))
		*action = SCMP_ACT_ALLOW;
	else if (!strcmp(word, "deny"))
		*action = SCMP_ACT_ERRNO(EPERM);
	else if (!strcmp(word, "kill"))
		*action = SCMP_ACT_KILL_PROCESS;
	else
		return -1;
	return 0;
}

/* The default action of the profile FILE (its first rule). */
static int profile_default(FILE *f, uint32_t *def)
{
	char line[512], w1[64], w2[64];

	*def = SCMP_ACT_ALLOW;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "#")] = '\0';
		if (sscanf(line, "%63s %63s", w1, w2) == 2 &&
		    !strcmp(w1, "default"))
			return parse_action(w2, def);
		if (sscanf(line, "%63s", w1) == 1)
			break;
	}
	return 0;
}

static int profile_rules(scmp_filter_ctx ctx, FILE *f, const char *path,
			 uint32_t def, char *err, size_t errlen)
{
	char line[1024];
	int lineno = 0;

	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *w;
		uint32_t action;

		lineno++;
		line[strcspn(line, "#\n")] = '\0';
		w = strtok_r(line, " \t", &save);
		if (!w || !strcmp(w, "default"))
			continue;
		if (parse_action(w, &action) < 0) {
			snprintf(err, errlen, "%s:%d: expected default, allow, "
				 "deny or kill, found '%.40s'", path, lineno, w);
			return -EINVAL;
		}
		while ((w = strtok_r(NULL, " \t", &save))) {
			int rc = action == def ? 0 : add_rule(ctx, action, w, 1);

			if (action == def &&
			    seccomp_syscall_resolve_name(w) == __NR_SCMP_ERROR)
				rc = -ENOENT;
			if (rc < 0) {
				snprintf(err, errlen, "%s:%d: %s '%.60s'", path,
					 lineno, rc == -ENOENT ?
					 "unknown system call" :
					 "cannot add a rule for", w);
				return rc == -ENOENT ? -EINVAL : rc;
			}
		}
	}
	return 0;
}

static int build_profile(const char *profile, scmp_filter_ctx *out,
			 char *err, size_t errlen)
{
	uint32_t def = SCMP_ACT_ALLOW;
	FILE *f = NULL;
	int rc = 0;

	if (strcmp(profile, "default")) {
		if (profile[0] != '/') {
			snprintf(err, errlen, "expected 'default' or an absolute "
				 "path to a profile file, found '%.80s'",
				 profile);
			return -EINVAL;
		}
		f = fopen(profile, "re");
		if (!f) {
			snprintf(err, errlen, "%s: %s", profile,
				 strerror(errno));
			return -errno;
		}
		if (profile_default(f, &def) < 0) {
			snprintf(err, errlen, "%s: the default action must be "
				 "allow, deny or kill", profile);
			fclose(f);
			return -EINVAL;
		}
		rewind(f);
	}
	*out = seccomp_init(def);
	if (!*out) {
		if (f)
			fclose(f);
		snprintf(err, errlen, "libseccomp: cannot create a filter");
		return -ENOMEM;
	}
	for (int i = 0; !f && default_denied[i] && rc == 0; i++)
		rc = add_rule(*out, SCMP_ACT_ERRNO(EPERM), default_denied[i], 0);
	for (int i = 0; def != SCMP_ACT_ALLOW && always_allowed[i] && rc == 0;
	     i++)
		rc = add_rule(*out, SCMP_ACT_ALLOW, always_allowed[i], 0);
	if (rc < 0)
		snprintf(err, errlen, "libseccomp: %s", strerror(-rc));
	if (rc == 0 && f)
		rc = profile_rules(*out, f, profile, def, err, errlen);
	if (f)
		fclose(f);
	return rc;
}

static int export_bpf(scmp_filter_ctx ctx, struct sysg_seccomp_prog *out)
{
	int fd = memfd_create("sysg-seccomp", MFD_CLOEXEC), rc = 0;
	off_t size;

	if (fd < 0)
		return -errno;
	rc = seccomp_export_bpf(ctx, fd);
	size = rc == 0 ? lseek(fd, 0, SEEK_END) : -1;
	if (rc == 0 && (size <= 0 || size % sizeof(struct sock_filter) ||
			size / sizeof(struct sock_filter) > BPF_MAXINSNS))
		rc = -EINVAL;
	if (rc == 0 && !(out->filter = malloc((size_t)size)))
		rc = -ENOMEM;
	if (rc == 0 && pread(fd, out->filter, (size_t)size, 0) != size)
		rc = -EIO;
	if (rc == 0)
		out->len = (unsigned short)(size / sizeof(struct sock_filter));
	close(fd);
	return rc;
}

int sysg_seccomp_compile(const char *profile, struct sysg_seccomp_prog *out,
			 char *err, size_t errlen)
{
	scmp_filter_ctx ctx = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = build_profile(profile, &ctx, err, errlen);
	if (rc == 0 && (rc = export_bpf(ctx, out)) < 0)
		snprintf(err, errlen, "libseccomp: cannot export the filter: "
			 "%s", strerror(-rc));
	if (ctx)
		seccomp_release(ctx);
	if (rc < 0)
		sysg_seccomp_free(out);
	return rc;
}

void sysg_seccomp_free(struct sysg_seccomp_prog *p)
{
	free(p->filter);
	p->filter = NULL;
	p->len = 0;
}

int sysg_seccomp_apply(const struct sysg_seccomp_prog *p)
{
	struct sock_fprog prog = { p->len, p->filter };

	if (!p->filter)
		return 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return errno;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return errno;
	return 0;
}

/* ------------------------------------------------------------------ */
/* LSM labels                                                          */
/* ------------------------------------------------------------------ */

static int word_in(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ',') &&
		    (p[n] == '\0' || p[n] == ',' || p[n] == '\n'))
			return 1;
	return 0;
}

int sysg_lsm_check(const char *lsm, char *err, size_t errlen)
{
	char buf[512];
	int selinux = !strcmp(lsm, "selinux");

	if (sysg_proc_read_file("/sys/kernel/security/lsm", buf,
				sizeof(buf)) >= 0) {
		if (word_in(buf, lsm))
			return 0;
		snprintf(err, errlen, "%s is not enabled on this host "
			 "(/sys/kernel/security/lsm lists: %.*s)",
			 selinux ? "SELinux" : "AppArmor",
			 (int)strcspn(buf, "\n"), buf);
		return -ENOTSUP;
	}
	if (selinux ? access("/sys/fs/selinux/enforce", F_OK) == 0 :
	    sysg_proc_read_file("/sys/module/apparmor/parameters/enabled",
				buf, sizeof(buf)) >= 0 && buf[0] == 'Y')
		return 0;
	snprintf(err, errlen, "%s is not enabled on this host "
		 "(/sys/kernel/security/lsm is absent and %s)",
		 selinux ? "SELinux" : "AppArmor",
		 selinux ? "/sys/fs/selinux is not mounted" :
		 "the apparmor module is not enabled");
	return -ENOTSUP;
}

static int write_attr(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), e = 0;

	if (fd < 0)
		return errno;
	if (write(fd, text, len) != (ssize_t)len)
		e = errno ? errno : EIO;
	close(fd);
	return e;
}

int sysg_lsm_exec_label(const char *lsm, const char *label)
{
	char buf[512];
	int n;

	if (strcmp(lsm, "apparmor"))
		return write_attr("/proc/self/attr/exec", label, strlen(label));
	n = snprintf(buf, sizeof(buf), "exec %s", label);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return ENAMETOOLONG;
	if (access("/proc/self/attr/apparmor/exec", F_OK) == 0)
		return write_attr("/proc/self/attr/apparmor/exec", buf,
				  (size_t)n);
	return write_attr("/proc/self/attr/exec", buf, (size_t)n);
}

/* ------------------------------------------------------------------ */
/* private /tmp and /dev                                               */
/* ------------------------------------------------------------------ */

static int mount_tmpfs(const char *at, unsigned long flags, const char *mode,
		       const char *owner)
{
	char opts[128];

	snprintf(opts, sizeof(opts), "mode=%s%s", mode, owner);
	return mount("tmpfs", at, "tmpfs", flags, opts) < 0 ? errno : 0;
}

int sysg_private_tmp(const char *owner)
{
	return mount_tmpfs("/tmp", MS_NOSUID | MS_NODEV, "1777", owner);
}

static const char *const dev_nodes[] = {
	"null", "zero", "full", "random", "urandom", "tty", NULL,
};

#define NDEV 6

int sysg_private_devices(const char *owner)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "/dev/fd" }, { "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" },
		{ "/proc/self/fd/2", "/dev/stderr" },
		{ "pts/ptmx", "/dev/ptmx" },
	};
	int fds[NDEV], e = 0;
	char path[64];

	/* hold the host's nodes before they are covered */
	for (int i = 0; i < NDEV; i++) {
		snprintf(path, sizeof(path), "/dev/%s", dev_nodes[i]);
		fds[i] = open(path, O_PATH | O_CLOEXEC);
	}
	e = mount_tmpfs("/dev", MS_NOSUID | MS_NOEXEC, "755", owner);
	for (int i = 0; !e && i < NDEV; i++) {
		char from[64];
		int fd;

		if (fds[i] < 0)
			continue;
		snprintf(path, sizeof(path), "/dev/%s", dev_nodes[i]);
		snprintf(from, sizeof(from), "/proc/self/fd/%d", fds[i]);
		fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
		if (fd >= 0)
			close(fd);
		if (fd < 0 || mount(from, path, NULL, MS_BIND, NULL) < 0)
			e = errno;
	}
	for (int i = 0; i < NDEV; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (!e && (mkdir("/dev/pts", 0755) < 0 || mkdir("/dev/shm", 01777) < 0))
		e = errno;
	if (!e)
		e = mount_tmpfs("/dev/shm", MS_NOSUID | MS_NODEV, "1777", owner);
	if (!e && mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
			"newinstance,ptmxmode=0666,mode=620") < 0)
		e = 0;  /* no pseudo-terminals then; not fatal */
	for (size_t i = 0; !e && i < sizeof(links) / sizeof(links[0]); i++)
		if (symlink(links[i][0], links[i][1]) < 0)
			e = errno;
	return e;
}
