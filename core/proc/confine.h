/* confine.h - confinement of a service's process (isolation.seccomp,
 * apparmor_profile, selinux_context, private_tmp, private_devices).
 *
 * seccomp: a profile is compiled with libseccomp in the supervisor into
 * a classic BPF program; the child only installs it (no allocation
 * between fork and exec), last, after PR_SET_NO_NEW_PRIVS.
 *   `default`: the built-in profile: everything allowed except, refused
 *   with EPERM: kexec_load kexec_file_load reboot init_module finit_module
 *   delete_module mount umount2 pivot_root move_mount open_tree fsopen
 *   fsconfig fsmount fspick swapon swapoff ptrace process_vm_readv
 *   process_vm_writev bpf perf_event_open userfaultfd open_by_handle_at
 *   iopl ioperm acct settimeofday clock_settime clock_adjtime adjtimex
 *   quotactl syslog add_key request_key keyctl unshare setns.
 *   An absolute path: a profile file, one rule per line, `#` comments:
 *     default allow|deny|kill   what the syscalls not listed get
 *                               (first rule; default: allow)
 *     deny NAME...              refused with EPERM
 *     kill NAME...              the process is killed (SIGSYS)
 *     allow NAME...             allowed
 *   With `default deny` or `default kill`, execve, close, close_range,
 *   write, exit and exit_group are allowed so that the program can be
 *   started at all. An unknown system call name is an error.
 * AppArmor / SELinux: the label is set for the next exec by writing
 *   /proc/self/attr/apparmor/exec ("exec PROFILE", what libapparmor's
 *   aa_change_onexec does) or /proc/self/attr/exec (libselinux's
 *   setexeccon); when the host's LSM is not enabled it is an error, never
 *   a silent no-op.
 * private_tmp: an empty tmpfs on /tmp; private_devices: a tmpfs on /dev
 *   holding only null zero full random urandom tty (bound from the host),
 *   pts, shm and the fd/stdin/stdout/stderr links. Both need (and imply)
 *   a mount namespace.
 */
#ifndef SYSG_CONFINE_H
#define SYSG_CONFINE_H

#include <stddef.h>

struct sysg_seccomp_prog {
	void *filter;           /* struct sock_filter[len], malloc'd */
	unsigned short len;
};

/* Compile PROFILE ("default" or an absolute path). 0, or -errno with a
 * message in ERR ("FILE:LINE: ..." for a bad profile file). */
int sysg_seccomp_compile(const char *profile, struct sysg_seccomp_prog *out,
			 char *err, size_t errlen);
void sysg_seccomp_free(struct sysg_seccomp_prog *p);

/* In the child: PR_SET_NO_NEW_PRIVS and install P. 0 or an errno. */
int sysg_seccomp_apply(const struct sysg_seccomp_prog *p);

/* LSM is "apparmor" or "selinux": 0 when the host enables it, else
 * -ENOTSUP with the reason in ERR. */
int sysg_lsm_check(const char *lsm, char *err, size_t errlen);

/* In the child: LABEL for the next exec under LSM. 0 or an errno. */
int sysg_lsm_exec_label(const char *lsm, const char *label);

/* In the child, inside its own mount namespace; OWNER is "" or
 * ",uid=U,gid=G" (in a user namespace, where the child's root is not
 * mapped: the new /dev then belongs to the service's user, and the
 * caller has set its fsuid/fsgid to them). 0 or an errno. */
int sysg_private_tmp(const char *owner);
int sysg_private_devices(const char *owner);

#endif
