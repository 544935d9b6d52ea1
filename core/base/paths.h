/* paths.h - where sysg keeps its files, and small path helpers. */
#ifndef SYSG_PATHS_H
#define SYSG_PATHS_H

#include <stddef.h>
#include <sys/types.h>

/* System mode (--sys, root only): where its files live. Each is prefixed
 * with $SYSG_SYS_ROOT when that is set and not empty (tests use it to keep
 * off the real /var, /run and /etc; nothing else should). */
#define SYSG_SYS_STATE_DIR  "/var/lib/systemg"
#define SYSG_SYS_LOG_DIR    "/var/log/systemg"
#define SYSG_SYS_RUN_DIR    "/run/sysg"         /* sysg.pid, control.sock */
#define SYSG_SYS_CONFIG_DIR "/etc/systemg"

/* The state directory: $SYSG_STATE_DIR, else [$SYSG_SYS_ROOT]/var/lib/
 * systemg with SYS, else $HOME/.local/share/systemg. Writes it to BUF.
 * 0 or -ENAMETOOLONG, -ENOENT (no HOME). */
int sysg_state_dir(int sys, char *buf, size_t len);

/* The log directory: [$SYSG_SYS_ROOT]/var/log/systemg in system mode
 * without SYSG_STATE_DIR, else STATE_DIR/logs. */
int sysg_log_dir(int sys, const char *state_dir, char *buf, size_t len);

/* The runtime directory of the supervisor of STATE_DIR, holding sysg.pid,
 * sysg.pid.start, sysg.lock and control.sock: [$SYSG_SYS_ROOT]/run/sysg
 * when STATE_DIR is the system-mode state directory (and SYSG_STATE_DIR
 * is not set), else STATE_DIR itself. 0 or -ENAMETOOLONG. */
int sysg_run_dir(const char *state_dir, char *buf, size_t len);

/* The runtime file NAME (SYSG_FILE_PID...) of STATE_DIR's supervisor:
 * sysg_run_dir(STATE_DIR)/NAME into BUF. 0 or -ENAMETOOLONG. */
int sysg_run_file(const char *state_dir, const char *name, char *buf,
		  size_t len);

/* The directory searched for the default config file after the current
 * one: [$SYSG_SYS_ROOT]/etc/systemg with SYS, else $HOME/.config/systemg
 * (as systemg 0.32). 0, -ENOENT (no HOME) or -ENAMETOOLONG. */
int sysg_config_dir(int sys, char *buf, size_t len);

/* mkdir -p with MODE for each created component; an existing final
 * directory gets chmod MODE when FIX_MODE. 0 or -errno. */
int sysg_mkdir_p(const char *path, mode_t mode, int fix_mode);

/* A malloc'd "A/B" (B alone when B is absolute). NULL on ENOMEM. */
char *sysg_path_join(const char *a, const char *b);

/* A malloc'd absolute, lexically normalised form of P ("." and ".."
 * folded) taken relative to BASE (NULL: the current directory). */
char *sysg_path_abs(const char *base, const char *p);

/* A malloc'd directory part of an absolute path ("/" for "/x"). */
char *sysg_path_dirname(const char *p);

/* The state directory's layout: the files a supervisor keeps there
 * (besides the state backend's and logs/). */
#define SYSG_FILE_PID         "sysg.pid"     /* "PID\n" (bare, SPEC 5) */
#define SYSG_FILE_PID_START   "sysg.pid.start" /* "PID START_TICKS\n" */
#define SYSG_FILE_LOCK        "sysg.lock"    /* flock'd for its life */
#define SYSG_FILE_CONTROL     "control.sock" /* the control socket */
#define SYSG_FILE_CONFIG_HINT "config_hint"  /* the config it runs */

/* Write TEXT to DIR/NAME atomically (a temporary file, fsync, rename;
 * mode 0600). 0 or -errno. */
int sysg_write_file_atomic(const char *dir, const char *name,
			   const char *text);

/* The control socket of STATE_DIR's supervisor (in sysg_run_dir) into
 * BUF. 0 or -ENAMETOOLONG. */
int sysg_control_path(const char *state_dir, char *buf, size_t len);
/* PATH (or, when FD >= 0, the file FD refers to, PATH naming it in
 * messages) may be changed only by the effective user or root: it is
 * owned by one of them and not writable by others, nor by its group
 * with NO_GROUP_WRITE. A world-writable directory with the sticky bit
 * (/tmp) passes when !NO_GROUP_WRITE. 0, or -EPERM / -errno with ERR
 * saying what is wrong and the command that fixes it. */
int sysg_path_trusted(const char *path, int fd, int no_group_write,
		      char *err, size_t errlen);

/* Open the directory PATH (following symlinks to it) for *at() calls,
 * after sysg_path_trusted(..., 1) on what was opened: WHAT ("state
 * directory", "log directory") names it in ERR. The fd or -errno. */
int sysg_dir_open_trusted(const char *path, const char *what, char *err,
			  size_t errlen);

/* Open PATH for reading only if it is a regular file of at most MAX
 * bytes: never blocks on a FIFO or device (O_NONBLOCK, then fstat), never
 * makes it a controlling tty. The fd (close-on-exec, blocking again) or
 * -EINVAL (not a regular file), -EFBIG, -errno. */
int sysg_open_regular(const char *path, size_t max);

/* Read the regular file PATH (sysg_open_regular) whole into a malloc'd,
 * NUL-terminated *BUF of *LEN bytes (LEN may be NULL). 0 or -errno. */
int sysg_read_regular(const char *path, size_t max, char **buf,
		      size_t *len);

/* The sysg binary, to run it again (the deploy worker). Call
 * sysg_exe_init() first thing in main: it notes the program the kernel
 * started (AT_EXECFN, made absolute while the working directory is still
 * the caller's). sysg_exe_path() then gives "/proc/self/exe" when that is
 * still this program (the binary this process runs, even if replaced on
 * disk since), else the noted path (e.g. under valgrind, whose
 * /proc/self/exe is valgrind). */
void sysg_exe_init(void);
const char *sysg_exe_path(void);

#endif
