/* enginetest.h - fixtures for the engine tests: a temp project with a
 * config, an xml state backend and a supervisor driven in-process.
 *
 * Each fixture lives in its own mkdtemp directory, with SYSG_STATE_DIR
 * and HOME pointing inside it. Waits poll conditions with deadlines. */
#ifndef SYSG_TEST_ENGINETEST_H
#define SYSG_TEST_ENGINETEST_H

#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"
#include "plugin/plugin.h"
#include "engine/engine.h"

struct et {
	char *dir;              /* project dir (config's directory) */
	char *state_dir;        /* DIR/state */
	struct sysg_plugin_path pp;
	struct sysg_config *cfg;
	struct sysg_state *st;
	struct sysg_supervisor *sup;
};

/* Set before et_setup to create the supervisor in system mode (--sys). */
extern int et_sys_mode;

/* Create the fixture with YAML as DIR/sysg.yaml; printf-style. Aborts
 * the test (ck_assert) on failure. NO_CGROUPS disables cgroup v2. */
void et_setup(struct et *t, int no_cgroups, const char *yaml_fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Stop everything (bounded), free, remove the directory. */
void et_teardown(struct et *t);

/* Run the loop until NAME has STATUS (0) or TIMEOUT_MS (-ETIMEDOUT). */
int et_wait_status(struct et *t, const char *name, const char *status,
		   int timeout_ms);

/* Run the loop for MS milliseconds. */
void et_run_for(struct et *t, int ms);

/* Run the loop until the file DIR/NAME exists (1) or TIMEOUT_MS (0). */
int et_wait_file(struct et *t, const char *name, int timeout_ms);

/* Content of DIR/NAME (malloc'd) or NULL. */
char *et_read(struct et *t, const char *name);

/* Remove DIR/NAME. */
void et_unlink(struct et *t, const char *name);

/* The integer in DIR/NAME, or -1. */
long et_read_long(struct et *t, const char *name);

/* Number of lines of DIR/NAME (0 when missing). */
int et_count_lines(struct et *t, const char *name);

/* The record of NAME from the supervisor. */
struct sysg_unit_record et_unit(struct et *t, const char *name);

/* 1 when PID is alive (not a zombie). */
int et_alive(pid_t pid);

/* Run the loop until PID is dead (1) or TIMEOUT_MS (0). */
int et_wait_dead(struct et *t, pid_t pid, int timeout_ms);

#endif
