/* check_state.c - the state layer: both backends (xml, sqlite) through
 * sysg_state_open and the real vtable, and the pid identity helpers.
 * Every store test runs once per backend (loop index = backend). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc/proc.h"
#include "plugin/plugin.h"
#include "testutil.h"

static const char *const backends[] = { "xml", "sqlite" };
#define NBACKENDS 2
/* Tests looped over 2 * NBACKENDS run each backend in this process,
 * then as a remote store (its backend in a helper process). */
#define NSTORES (2 * NBACKENDS)
#define BACKEND(i) backends[(i) % NBACKENDS]

static char tmpdir[64];
static struct sysg_plugin_path pp;

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sysg-state-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_eq(sysg_plugin_path_init(&pp, NULL), 0);
}

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void teardown(void)
{
	ck_assert_int_eq(nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	sysg_plugin_path_free(&pp);
}

static struct sysg_state *open_at(int b, const char *dir, const char *path)
{
	struct sysg_state *st = NULL;
	char err[512] = "";
	int r = b >= NBACKENDS ?
		sysg_state_open_remote(&st, &pp, BACKEND(b), dir, path, err,
				       sizeof(err)) :
		sysg_state_open(&st, &pp, BACKEND(b), dir, path, err,
				sizeof(err));

	ck_assert_msg(r == 0, "%s: open: %d %s", BACKEND(b), r, err);
	ck_assert_ptr_nonnull(st);
	return st;
}

static struct sysg_state *open_store(int b)
{
	return open_at(b, tmpdir, NULL);
}

static void write_file(const char *name, const void *data, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "we");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Read NAME whole (malloc'd, NUL-terminated); NULL when absent. */
static char *read_file(const char *name, size_t *len)
{
	char path[256], *buf;
	struct stat sb;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if (stat(path, &sb))
		return NULL;
	f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	buf = calloc(1, (size_t)sb.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	*len = fread(buf, 1, (size_t)sb.st_size, f);
	fclose(f);
	return buf;
}

/* The name of the first file in tmpdir starting with PREFIX, or "". */
static void find_prefixed(const char *prefix, char *out, size_t len)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;

	ck_assert_ptr_nonnull(d);
	out[0] = '\0';
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix)))
			snprintf(out, len, "%s", e->d_name);
	closedir(d);
}

/* ------------------------------------------------------------------ */
/* pid map                                                              */
/* ------------------------------------------------------------------ */

static const char *const odd_names[] = {
	"web", "my service", "name", "pid", "xmlish", "a/b<&>\"'",
	"\xc3\xbcn\xc3\xaf", "9lives", "tab\there", "_under.score-1",
	"ctl\x01" "char\r",
};
#define NODD (sizeof(odd_names) / sizeof(odd_names[0]))

struct pid_seen {
	struct sysg_state *st;
	char names[32][SYSG_NAME_MAX];
	int64_t pids[32];
	int n, stop_after;
};

static int pid_cb(void *arg, const char *name, int64_t pid)
{
	struct pid_seen *s = arg;
	int64_t again = 0;

	/* Calling back into the store from a callback must not deadlock. */
	ck_assert_int_eq(sysg_state_get_pid(s->st, name, &again), 0);
	ck_assert_int_eq(again, pid);
	ck_assert_int_lt(s->n, 32);
	snprintf(s->names[s->n], SYSG_NAME_MAX, "%s", name);
	s->pids[s->n++] = pid;
	return s->stop_after && s->n >= s->stop_after;
}

START_TEST(pid_set_get_remove_list)
{
	struct sysg_state *st = open_store(_i);
	struct pid_seen seen = { .st = st };
	int64_t pid = 0;

	for (size_t i = 0; i < NODD; i++)
		ck_assert_int_eq(sysg_state_set_pid(st, odd_names[i], 100 + (int64_t)i), 0);
	ck_assert_int_eq(sysg_state_set_pid(st, "web", 4000000), 0);
	ck_assert_int_eq(sysg_state_set_pid(st, "9lives", 0), 0);
	ck_assert_int_eq(sysg_state_set_pid(st, "never-there", 0), 0);
	ck_assert_int_eq(sysg_state_set_pid(st, "web", -1), -EINVAL);
	ck_assert_int_eq(sysg_state_set_pid(st, "", 5), -EINVAL);
	sysg_state_close(st);

	st = open_store(_i);
	seen.st = st;
	ck_assert_int_eq(sysg_state_get_pid(st, "web", &pid), 0);
	ck_assert_int_eq(pid, 4000000);
	ck_assert_int_eq(sysg_state_get_pid(st, "9lives", &pid), -ENOENT);
	for (size_t i = 1; i < NODD; i++) {
		if (!strcmp(odd_names[i], "9lives"))
			continue;
		ck_assert_msg(sysg_state_get_pid(st, odd_names[i], &pid) == 0,
			      "%s: %s", BACKEND(_i), odd_names[i]);
		ck_assert_int_eq(pid, 100 + (int64_t)i);
	}
	ck_assert_int_eq(sysg_state_list_pids(st, pid_cb, &seen), 0);
	ck_assert_int_eq(seen.n, (int)NODD - 1);
	for (int i = 1; i < seen.n; i++)
		ck_assert_int_lt(strcmp(seen.names[i - 1], seen.names[i]), 0);
	seen.n = 0;
	seen.stop_after = 2;
	ck_assert_int_eq(sysg_state_list_pids(st, pid_cb, &seen), 0);
	ck_assert_int_eq(seen.n, 2);
	sysg_state_close(st);
}
END_TEST

START_TEST(pid_xml_written_in_systemg_shape)
{
	struct sysg_state *st = open_store(0);
	size_t len;
	char *xml;

	ck_assert_int_eq(sysg_state_set_pid(st, "web", 67235), 0);
	ck_assert_int_eq(sysg_state_set_pid(st, "my svc", 7), 0);
	sysg_state_close(st);
	xml = read_file("pid.xml", &len);
	ck_assert_ptr_nonnull(xml);
	ck_assert_msg(strstr(xml, "<PidFile>"), "%s", xml);
	ck_assert_msg(strstr(xml, "<web>67235</web>"), "%s", xml);
	ck_assert_msg(strstr(xml, "<name>my svc</name>"), "%s", xml);
	free(xml);
}
END_TEST

static void expect_pid(struct sysg_state *st, const char *name, int64_t want)
{
	int64_t pid = 0;
	int r = sysg_state_get_pid(st, name, &pid);

	if (want < 0) {
		ck_assert_msg(r == -ENOENT, "%s: got %d", name, r);
		return;
	}
	ck_assert_msg(r == 0, "%s: %d", name, r);
	ck_assert_int_eq(pid, want);
}

START_TEST(pid_xml_reads_both_shapes)
{
	static const char shape1[] =
		"<PidFile><services><web>67235</web><db> 42 </db></services>"
		"</PidFile>";
	static const char shape2[] =
		"<?xml version=\"1.0\"?>\n<PidFile>\n  <services>\n"
		"    <name>web</name>\n    <pid>67235</pid>\n"
		"    <name>my api</name><pid>8</pid>\n  </services>\n"
		"  <services><name>db</name><pid>9</pid></services>\n"
		"  <services><cache>10</cache><name>q</name><pid>11</pid>"
		"<bad>x1</bad></services>\n</PidFile>\n";
	struct sysg_state *st = open_store(0);
	char aside[256];

	write_file("pid.xml", shape1, strlen(shape1));
	expect_pid(st, "web", 67235);
	expect_pid(st, "db", 42);
	write_file("pid.xml", shape2, strlen(shape2));
	expect_pid(st, "web", 67235);
	expect_pid(st, "my api", 8);
	expect_pid(st, "db", 9);
	expect_pid(st, "cache", 10);
	expect_pid(st, "q", 11);
	expect_pid(st, "bad", -1);
	/* A write rewrites the file and keeps every entry. */
	ck_assert_int_eq(sysg_state_set_pid(st, "new", 12), 0);
	expect_pid(st, "my api", 8);
	expect_pid(st, "q", 11);
	expect_pid(st, "new", 12);
	find_prefixed("pid.xml.corrupt", aside, sizeof(aside));
	ck_assert_str_eq(aside, "");
	sysg_state_close(st);
}
END_TEST

/* ------------------------------------------------------------------ */
/* unit records                                                         */
/* ------------------------------------------------------------------ */

static void fill_unit(struct sysg_unit_record *u, const char *name)
{
	static const char special[] =
		"sh -c 'echo \"<a href=x>&amp;</a>\" ]]> && printf \x01\t\r\n"
		"caf\xc3\xa9 \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\x80'";
	size_t n = strlen(special);

	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", name);
	snprintf(u->kind, sizeof(u->kind), "cron");
	snprintf(u->status, sizeof(u->status), "backoff");
	u->pid = 4194303;
	u->pgid = -4194303;
	u->start_ticks = UINT64_MAX - 7;
	u->started_at_ms = INT64_MAX - 1;
	u->updated_at_ms = INT64_MIN + 1;
	u->has_exit_code = 1;
	u->exit_code = -128;
	u->has_signal = 1;
	u->signal = 9;
	u->restarts = INT_MAX;
	snprintf(u->reason, sizeof(u->reason), "exited with error <&> \"'\" \xc3\xbc");
	for (size_t i = 0; i < sizeof(u->command) - 1; i++)
		u->command[i] = special[i % n];
	u->command[sizeof(u->command) - 1] = '\0';
	/* Do not end in the middle of a UTF-8 sequence. */
	for (size_t k = sizeof(u->command) - 2;
	     ((unsigned char)u->command[k] & 0x80); k--)
		u->command[k] = 'x';
}

static void unit_eq(const struct sysg_unit_record *a,
		    const struct sysg_unit_record *b)
{
	ck_assert_str_eq(a->name, b->name);
	ck_assert_str_eq(a->kind, b->kind);
	ck_assert_str_eq(a->status, b->status);
	ck_assert_int_eq(a->pid, b->pid);
	ck_assert_int_eq(a->pgid, b->pgid);
	ck_assert_uint_eq(a->start_ticks, b->start_ticks);
	ck_assert_int_eq(a->started_at_ms, b->started_at_ms);
	ck_assert_int_eq(a->updated_at_ms, b->updated_at_ms);
	ck_assert_int_eq(a->has_exit_code, b->has_exit_code);
	ck_assert_int_eq(a->exit_code, b->exit_code);
	ck_assert_int_eq(a->has_signal, b->has_signal);
	ck_assert_int_eq(a->signal, b->signal);
	ck_assert_int_eq(a->restarts, b->restarts);
	ck_assert_str_eq(a->reason, b->reason);
	ck_assert_uint_eq(strlen(a->command), strlen(b->command));
	ck_assert_int_eq(memcmp(a->command, b->command, sizeof(a->command)), 0);
}

static int count_units(void *arg, const struct sysg_unit_record *u)
{
	(void)u;
	(*(int *)arg)++;
	return 0;
}

static int uses;

static void count_use(void *arg)
{
	(void)arg;
	uses++;
}

/* An idle supervisor releases the backend (and libxml2/sqlite with it);
 * the next call reloads and reopens it transparently. */
START_TEST(release_and_reload)
{
	struct sysg_state *st = open_store(_i);
	struct sysg_unit_record u, got;
	int64_t pid = 0;

	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "web");
	snprintf(u.status, sizeof(u.status), "running");
	u.pid = 4242;
	uses = 0;
	sysg_state_on_use(st, count_use, NULL);
	ck_assert_int_eq(sysg_state_put_unit(st, &u), 0);
	ck_assert_int_eq(sysg_state_set_pid(st, "web", 4242), 0);
	sysg_state_release(st);
	ck_assert_ptr_null(st->plugin);
	ck_assert_ptr_null(st->handle);
	sysg_state_release(st);         /* twice is harmless */
	ck_assert_int_eq(sysg_state_get_unit(st, "web", &got), 0);
	ck_assert_ptr_nonnull(st->plugin);
	ck_assert_str_eq(got.status, "running");
	ck_assert_int_eq(sysg_state_get_pid(st, "web", &pid), 0);
	ck_assert_int_eq(pid, 4242);
	ck_assert_int_eq(uses, 4);
	sysg_state_close(st);
}
END_TEST

/* A batch stores many records at once: nothing is lost, another handle
 * sees them all after the commit, and writes to other files (kv) inside
 * it go through without deadlocking on the batch's lock. */
START_TEST(batch_stores_all)
{
	struct sysg_state *st = open_store(_i), *other;
	struct sysg_unit_record u, got;
	char buf[64];
	int64_t pid;

	ck_assert_int_eq(sysg_state_batch_begin(st), 0);
	for (int i = 0; i < 50; i++) {
		memset(&u, 0, sizeof(u));
		snprintf(u.name, sizeof(u.name), "s%d", i);
		snprintf(u.status, sizeof(u.status), "running");
		u.pid = 1000 + i;
		ck_assert_int_eq(sysg_state_put_unit(st, &u), 0);
		ck_assert_int_eq(sysg_state_set_pid(st, u.name, u.pid), 0);
	}
	u.pid = 7;      /* the last write of a record wins */
	ck_assert_int_eq(sysg_state_put_unit(st, &u), 0);
	ck_assert_int_eq(sysg_state_set_pid(st, "s0", 0), 0);
	ck_assert_int_eq(sysg_state_kv_set(st, "k", "v"), 0);
	ck_assert_int_eq(sysg_state_batch_commit(st), 0);

	other = open_store(_i);
	for (int i = 0; i < 50; i++) {
		snprintf(buf, sizeof(buf), "s%d", i);
		ck_assert_int_eq(sysg_state_get_unit(other, buf, &got), 0);
		ck_assert_int_eq(got.pid, i == 49 ? 7 : 1000 + i);
		ck_assert_int_eq(sysg_state_get_pid(other, buf, &pid),
				 i ? 0 : -ENOENT);
	}
	ck_assert_int_eq(sysg_state_kv_get(other, "k", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "v");
	/* a second batch after the first, then plain writes again */
	ck_assert_int_eq(sysg_state_batch_begin(st), 0);
	ck_assert_int_eq(sysg_state_remove_unit(st, "s1"), 0);
	ck_assert_int_eq(sysg_state_batch_commit(st), 0);
	ck_assert_int_eq(sysg_state_get_unit(other, "s1", &got), -ENOENT);
	ck_assert_int_eq(sysg_state_remove_unit(st, "s2"), 0);
	ck_assert_int_eq(sysg_state_get_unit(other, "s2", &got), -ENOENT);
	sysg_state_close(other);
	sysg_state_close(st);
}
END_TEST

/* The mirror: records whose names start with "o" (the unconfigured
 * ones, say) are kept in memory from one listing, follow every put and
 * remove, and are read with the backend released and never reloaded. */
static int starts_with_o(void *arg, const char *name)
{
	(void)arg;
	return name[0] == 'o';
}

static int count_mirrored(void *arg, const struct sysg_unit_record *u)
{
	(void)u;
	++*(int *)arg;
	return 0;
}

static struct sysg_unit_record rec(const char *name, int64_t pid)
{
	struct sysg_unit_record u;

	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%s", name);
	snprintf(u.status, sizeof(u.status), "running");
	u.pid = pid;
	return u;
}

START_TEST(mirror_follows_writes_without_backend)
{
	struct sysg_state *st = open_store(_i);
	struct sysg_unit_record u, got;
	int n = 0;

	u = rec("orphan", 11);
	ck_assert_int_eq(sysg_state_put_unit(st, &u), 0);
	u = rec("web", 12);
	ck_assert_int_eq(sysg_state_put_unit(st, &u), 0);
	ck_assert_int_eq(sysg_state_mirrored(st), 0);
	ck_assert_int_eq(sysg_state_mirror_get(st, "orphan", &got), -ENOENT);
	ck_assert_int_eq(sysg_state_mirror(st, starts_with_o, NULL), 0);
	ck_assert_int_eq(sysg_state_mirrored(st), 1);
	sysg_state_release(st);
	ck_assert_int_eq(sysg_state_mirror_get(st, "orphan", &got), 0);
	ck_assert_int_eq(got.pid, 11);
	ck_assert_int_eq(sysg_state_mirror_get(st, "web", &got), -ENOENT);
	sysg_state_mirror_list(st, count_mirrored, &n);
	ck_assert_int_eq(n, 1);
	ck_assert_ptr_null(st->handle);         /* no reload for reads */
	/* writes through ST update it: a new one, a changed one, a removal */
	u = rec("other", 13);
	ck_assert_int_eq(sysg_state_put_unit(st, &u), 0);
	u = rec("orphan", 14);
	ck_assert_int_eq(sysg_state_put_unit(st, &u), 0);
	ck_assert_int_eq(sysg_state_mirror_get(st, "orphan", &got), 0);
	ck_assert_int_eq(got.pid, 14);
	ck_assert_int_eq(sysg_state_remove_unit(st, "other"), 0);
	ck_assert_int_eq(sysg_state_mirror_get(st, "other", &got), -ENOENT);
	n = 0;
	sysg_state_mirror_list(st, count_mirrored, &n);
	ck_assert_int_eq(n, 1);
	/* the backend agrees */
	ck_assert_int_eq(sysg_state_get_unit(st, "orphan", &got), 0);
	ck_assert_int_eq(got.pid, 14);
	sysg_state_mirror(st, NULL, NULL);
	ck_assert_int_eq(sysg_state_mirrored(st), 0);
	ck_assert_int_eq(sysg_state_mirror_get(st, "orphan", &got), -ENOENT);
	sysg_state_close(st);
}
END_TEST

START_TEST(unit_round_trip)
{
	struct sysg_state *st = open_store(_i);
	struct sysg_unit_record u, plain, got;
	int n = 0;

	fill_unit(&u, "web \xc3\xbc<&>");
	ck_assert_uint_eq(strlen(u.command), sizeof(u.command) - 1);
	memset(&plain, 0, sizeof(plain));
	snprintf(plain.name, sizeof(plain.name), "api");
	snprintf(plain.status, sizeof(plain.status), "running");
	plain.pid = 77;
	ck_assert_int_eq(sysg_state_put_unit(st, &u), 0);
	ck_assert_int_eq(sysg_state_put_unit(st, &plain), 0);
	sysg_state_close(st);

	st = open_store(_i);
	ck_assert_int_eq(sysg_state_get_unit(st, u.name, &got), 0);
	unit_eq(&u, &got);
	ck_assert_int_eq(sysg_state_get_unit(st, "api", &got), 0);
	unit_eq(&plain, &got);
	ck_assert_int_eq(got.has_exit_code, 0);
	ck_assert_int_eq(got.has_signal, 0);
	/* Replace, list, remove. */
	plain.pid = 78;
	plain.has_exit_code = 1;
	ck_assert_int_eq(sysg_state_put_unit(st, &plain), 0);
	ck_assert_int_eq(sysg_state_get_unit(st, "api", &got), 0);
	unit_eq(&plain, &got);
	ck_assert_int_eq(sysg_state_list_units(st, count_units, &n), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(sysg_state_remove_unit(st, "api"), 0);
	ck_assert_int_eq(sysg_state_remove_unit(st, "api"), 0);
	ck_assert_int_eq(sysg_state_get_unit(st, "api", &got), -ENOENT);
	ck_assert_int_eq(sysg_state_get_unit(st, u.name, &got), 0);
	/* Bad records are refused. */
	plain.name[0] = '\0';
	ck_assert_int_eq(sysg_state_put_unit(st, &plain), -EINVAL);
	memset(plain.name, 'x', sizeof(plain.name));
	ck_assert_int_eq(sysg_state_put_unit(st, &plain), -EINVAL);
	sysg_state_close(st);
}
END_TEST

/* ------------------------------------------------------------------ */
/* cron history                                                         */
/* ------------------------------------------------------------------ */

struct runs {
	struct sysg_cron_run r[32];
	int n;
};

static int run_cb(void *arg, const struct sysg_cron_run *r)
{
	struct runs *x = arg;

	ck_assert_int_lt(x->n, 32);
	x->r[x->n++] = *r;
	return 0;
}

static struct sysg_cron_run mkrun(const char *name, int64_t t, const char *status)
{
	struct sysg_cron_run r;

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", name);
	snprintf(r.status, sizeof(r.status), "%s", status);
	r.started_at_ms = t;
	return r;
}

START_TEST(cron_runs_keep_n_and_update_in_place)
{
	struct sysg_state *st = open_store(_i);
	struct sysg_cron_run r;
	struct runs x = { .n = 0 };

	for (int64_t t = 1000; t <= 5000; t += 1000) {
		r = mkrun("job", t, "success");
		r.completed_at_ms = t + 5;
		r.has_exit_code = 1;
		ck_assert_int_eq(sysg_state_add_cron_run(st, &r, 3), 0);
	}
	r = mkrun("job", 500, "failed");
	ck_assert_int_eq(sysg_state_add_cron_run(st, &r, 3), 0);
	r = mkrun("other", 4500, "overlapped");
	ck_assert_int_eq(sysg_state_add_cron_run(st, &r, 3), 0);
	r = mkrun("other", 6000, "running");
	ck_assert_int_eq(sysg_state_add_cron_run(st, &r, 3), 0);
	ck_assert_int_eq(sysg_state_add_cron_run(st, &r, 0), -EINVAL);

	ck_assert_int_eq(sysg_state_list_cron_runs(st, "job", run_cb, &x), 0);
	ck_assert_int_eq(x.n, 3);
	ck_assert_int_eq(x.r[0].started_at_ms, 5000);
	ck_assert_int_eq(x.r[1].started_at_ms, 4000);
	ck_assert_int_eq(x.r[2].started_at_ms, 3000);
	ck_assert_int_eq(x.r[0].completed_at_ms, 5005);
	ck_assert_int_eq(x.r[0].has_exit_code, 1);

	/* The running job finishes: updated in place, not added. */
	r = mkrun("other", 6000, "failed");
	r.completed_at_ms = 6100;
	r.has_exit_code = 1;
	r.exit_code = 3;
	ck_assert_int_eq(sysg_state_add_cron_run(st, &r, 3), 0);
	x.n = 0;
	ck_assert_int_eq(sysg_state_list_cron_runs(st, "other", run_cb, &x), 0);
	ck_assert_int_eq(x.n, 2);
	ck_assert_int_eq(x.r[0].started_at_ms, 6000);
	ck_assert_str_eq(x.r[0].status, "failed");
	ck_assert_int_eq(x.r[0].exit_code, 3);
	ck_assert_int_eq(x.r[0].completed_at_ms, 6100);
	ck_assert_str_eq(x.r[1].status, "overlapped");
	ck_assert_int_eq(x.r[1].has_exit_code, 0);
	x.n = 0;
	ck_assert_int_eq(sysg_state_list_cron_runs(st, NULL, run_cb, &x), 0);
	ck_assert_int_eq(x.n, 5);
	ck_assert_int_eq(x.r[0].started_at_ms, 6000);
	sysg_state_close(st);
}
END_TEST

/* ------------------------------------------------------------------ */
/* deploy history                                                       */
/* ------------------------------------------------------------------ */

struct deps {
	char ids[256][64];
	int n;
};

static int dep_cb(void *arg, const struct sysg_deploy_record *d)
{
	struct deps *x = arg;

	ck_assert_int_lt(x->n, 256);
	snprintf(x->ids[x->n++], 64, "%s", d->id);
	return 0;
}

static void add_dep(struct sysg_state *st, const char *id, const char *svc,
		    int64_t t, const char *outcome)
{
	struct sysg_deploy_record d;

	memset(&d, 0, sizeof(d));
	snprintf(d.id, sizeof(d.id), "%s", id);
	snprintf(d.service, sizeof(d.service), "%s", svc);
	snprintf(d.strategy, sizeof(d.strategy), "blue_green");
	snprintf(d.slot_before, sizeof(d.slot_before), "8000");
	snprintf(d.slot_after, sizeof(d.slot_after), "8001");
	snprintf(d.outcome, sizeof(d.outcome), "%s", outcome);
	snprintf(d.reason, sizeof(d.reason), "health <check> & \"timeout\"");
	d.started_at_ms = t;
	d.duration_ms = 1234;
	ck_assert_int_eq(sysg_state_add_deploy(st, &d), 0);
}

static int dep_full_cb(void *arg, const struct sysg_deploy_record *d)
{
	*(struct sysg_deploy_record *)arg = *d;
	return 1;
}

START_TEST(deploy_history_order_update_cap)
{
	struct sysg_state *st = open_store(_i);
	struct sysg_deploy_record last;
	struct deps *x = calloc(1, sizeof(*x));
	char id[64];

	ck_assert_ptr_nonnull(x);
	add_dep(st, "d1", "a", 100, "success");
	add_dep(st, "d2", "b", 300, "success");
	add_dep(st, "d3", "a", 200, "success");
	add_dep(st, "d4", "a", 200, "success");
	ck_assert_int_eq(sysg_state_list_deploys(st, NULL, dep_cb, x), 0);
	ck_assert_int_eq(x->n, 4);
	ck_assert_str_eq(x->ids[0], "d2");
	ck_assert_str_eq(x->ids[1], "d4");
	ck_assert_str_eq(x->ids[2], "d3");
	ck_assert_str_eq(x->ids[3], "d1");
	x->n = 0;
	ck_assert_int_eq(sysg_state_list_deploys(st, "a", dep_cb, x), 0);
	ck_assert_int_eq(x->n, 3);
	ck_assert_str_eq(x->ids[0], "d4");
	/* Same id again: the record is replaced, not duplicated. */
	add_dep(st, "d1", "a", 100, "rolled_back");
	x->n = 0;
	ck_assert_int_eq(sysg_state_list_deploys(st, "a", dep_cb, x), 0);
	ck_assert_int_eq(x->n, 3);
	ck_assert_str_eq(x->ids[2], "d1");
	memset(&last, 0, sizeof(last));
	ck_assert_int_eq(sysg_state_list_deploys(st, "b", dep_full_cb, &last), 0);
	ck_assert_str_eq(last.strategy, "blue_green");
	ck_assert_str_eq(last.slot_after, "8001");
	ck_assert_str_eq(last.reason, "health <check> & \"timeout\"");
	ck_assert_int_eq(last.duration_ms, 1234);
	/* History is capped at the 200 newest. */
	for (int i = 0; i < 205; i++) {
		snprintf(id, sizeof(id), "n%03d", i);
		add_dep(st, id, "c", 1000 + i, "success");
	}
	x->n = 0;
	ck_assert_int_eq(sysg_state_list_deploys(st, NULL, dep_cb, x), 0);
	ck_assert_int_eq(x->n, 200);
	ck_assert_str_eq(x->ids[0], "n204");
	ck_assert_str_eq(x->ids[199], "n005");
	free(x);
	sysg_state_close(st);
}
END_TEST

/* ------------------------------------------------------------------ */
/* key/values                                                           */
/* ------------------------------------------------------------------ */

START_TEST(kv_get_set_delete)
{
	struct sysg_state *st = open_store(_i);
	static const char odd[] = "<&>\"' \x01\r\n\xc3\xbc";
	char buf[64], *big;

	ck_assert_int_eq(sysg_state_kv_get(st, "api/slot", buf, sizeof(buf)), -ENOENT);
	ck_assert_int_eq(sysg_state_kv_set(st, "api/slot", "1"), 0);
	ck_assert_int_eq(sysg_state_kv_set(st, "odd key <&>", odd), 0);
	ck_assert_int_eq(sysg_state_kv_set(st, "empty", ""), 0);
	sysg_state_close(st);
	st = open_store(_i);
	ck_assert_int_eq(sysg_state_kv_get(st, "api/slot", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "1");
	ck_assert_int_eq(sysg_state_kv_get(st, "odd key <&>", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, odd);
	ck_assert_int_eq(sysg_state_kv_get(st, "odd key <&>", buf, strlen(odd)),
			 -ENOSPC);
	ck_assert_int_eq(sysg_state_kv_get(st, "odd key <&>", buf, strlen(odd) + 1), 0);
	ck_assert_int_eq(sysg_state_kv_get(st, "empty", buf, 1), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(sysg_state_kv_set(st, "api/slot", "0"), 0);
	ck_assert_int_eq(sysg_state_kv_get(st, "api/slot", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "0");
	ck_assert_int_eq(sysg_state_kv_set(st, "api/slot", NULL), 0);
	ck_assert_int_eq(sysg_state_kv_set(st, "api/slot", NULL), 0);
	ck_assert_int_eq(sysg_state_kv_get(st, "api/slot", buf, sizeof(buf)), -ENOENT);
	ck_assert_int_eq(sysg_state_kv_set(st, "", "x"), -EINVAL);
	big = malloc(8192);
	ck_assert_ptr_nonnull(big);
	memset(big, 'v', 8191);
	big[8191] = '\0';
	ck_assert_int_eq(sysg_state_kv_set(st, "big", big), -E2BIG);
	free(big);
	sysg_state_close(st);
}
END_TEST

/* ------------------------------------------------------------------ */
/* corrupt files                                                        */
/* ------------------------------------------------------------------ */

static const unsigned char garbage[] = {
	0x7f, 'E', 'L', 'F', 0, 1, 2, 0xff, 0xfe, '<', 0x00, '&', 0x80, 0xc3,
	'\n', 0x1b, '[', '3', '1', 'm', 0xde, 0xad, 0xbe, 0xef,
};

struct bad {
	const char *data;
	size_t len;
};

#define S(x) { x, sizeof(x) - 1 }
static const struct bad bad_contents[] = {
	S(""),
	S("<PidFile><services><web>12"),
	{ (const char *)garbage, sizeof(garbage) },
	S("<!DOCTYPE x [<!ENTITY a \"aaaa\">]><PidFile>&a;</PidFile>"),
	S("<Wrong/>"),
};
#define NBAD (sizeof(bad_contents) / sizeof(bad_contents[0]))

/* Check that FILE, corrupted with BAD, was kept aside byte for byte;
 * remove the kept copy. */
static void check_kept_aside(const char *file, const struct bad *bad)
{
	char prefix[64], aside[256], path[512];
	size_t len = 0;
	char *kept;

	snprintf(prefix, sizeof(prefix), "%s.corrupt-", file);
	find_prefixed(prefix, aside, sizeof(aside));
	ck_assert_msg(aside[0], "%s not kept aside", file);
	kept = read_file(aside, &len);
	ck_assert_ptr_nonnull(kept);
	ck_assert_uint_eq(len, bad->len);
	ck_assert_int_eq(memcmp(kept, bad->data, len), 0);
	free(kept);
	snprintf(path, sizeof(path), "%s/%s", tmpdir, aside);
	ck_assert_int_eq(unlink(path), 0);
}

START_TEST(xml_corrupt_files_recovered)
{
	const struct bad *bad = &bad_contents[_i];
	struct sysg_state *st = open_store(0);
	struct sysg_unit_record u;
	char buf[16];
	int64_t pid;
	int n = 0;

	/* Reads recover too. */
	write_file("pid.xml", bad->data, bad->len);
	ck_assert_int_eq(sysg_state_get_pid(st, "web", &pid), -ENOENT);
	check_kept_aside("pid.xml", bad);
	ck_assert_int_eq(sysg_state_set_pid(st, "web", 5), 0);
	expect_pid(st, "web", 5);

	write_file("state.xml", bad->data, bad->len);
	fill_unit(&u, "api");
	ck_assert_int_eq(sysg_state_put_unit(st, &u), 0);
	check_kept_aside("state.xml", bad);
	ck_assert_int_eq(sysg_state_list_units(st, count_units, &n), 0);
	ck_assert_int_eq(n, 1);

	write_file("kv.xml", bad->data, bad->len);
	ck_assert_int_eq(sysg_state_kv_get(st, "k", buf, sizeof(buf)), -ENOENT);
	check_kept_aside("kv.xml", bad);
	write_file("deploys.xml", bad->data, bad->len);
	add_dep(st, "d", "s", 1, "success");
	check_kept_aside("deploys.xml", bad);
	write_file("cron_history.xml", bad->data, bad->len);
	{
		struct sysg_cron_run r = mkrun("j", 1, "success");

		ck_assert_int_eq(sysg_state_add_cron_run(st, &r, 5), 0);
	}
	check_kept_aside("cron_history.xml", bad);
	sysg_state_close(st);
}
END_TEST

struct captured {
	int n, level;
	char line[512];
};

static void capture(void *arg, int level, const char *line)
{
	struct captured *c = arg;

	c->n++;
	c->level = level;
	snprintf(c->line, sizeof(c->line), "%s", line);
}

/* The state host's log carries the store's context: a backend's warning
 * reaches the sink its opener set (the supervisor's supervisor.log), not
 * a stderr nobody reads. */
START_TEST(backend_warnings_reach_the_log_sink)
{
	/* loop 1: a remote store, whose helper sends the line back */
	struct sysg_state *st = open_store(_i * NBACKENDS);
	struct captured c = { 0, 0, "" };
	int64_t pid;

	sysg_state_set_log(st, capture, &c);
	write_file("pid.xml", "<PidFile><services><web>12", 26);
	ck_assert_int_eq(sysg_state_get_pid(st, "web", &pid), -ENOENT);
	ck_assert_int_ge(c.n, 1);
	ck_assert_int_eq(c.level, SYSG_LOG_WARN);
	ck_assert_msg(strstr(c.line, "xml: ") == c.line &&
		      strstr(c.line, "pid.xml is corrupt"), "got: %s", c.line);
	sysg_state_close(st);
}
END_TEST

static int one_deploy(void *arg, const struct sysg_deploy_record *d)
{
	memcpy(arg, d, sizeof(*d));
	return 0;
}

/* A backend built against the ABI-1 header: it loads, its context-less
 * log reaches the sink of the store that opened it, its records come
 * back whole. */
START_TEST(abi1_backend_still_works)
{
	const char *b = getenv("SYSG_BUILDDIR");
	struct sysg_plugin_path old;
	struct sysg_state *st = NULL;
	struct sysg_deploy_record got;
	struct captured c = { 0, 0, "" };
	char dir[4200], err[512] = "", buf[16];

	snprintf(dir, sizeof(dir), "%s/tests/plugins/.libs", b ? b : ".");
	ck_assert_int_eq(sysg_plugin_path_init(&old, dir), 0);
	ck_assert_msg(sysg_state_open(&st, &old, "oldstate", tmpdir, NULL, err,
				      sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(st->plugin->ops_version, 1);
	sysg_state_set_log(st, capture, &c);
	ck_assert_int_eq(sysg_state_kv_set(st, "k", "v"), 0);
	ck_assert_int_eq(sysg_state_kv_get(st, "k", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "v");
	ck_assert_int_eq(sysg_state_kv_set(st, "k", NULL), 0);
	ck_assert_int_eq(c.n, 1);
	ck_assert_int_eq(c.level, SYSG_LOG_WARN);
	ck_assert_str_eq(c.line, "oldstate: deleted k");
	add_dep(st, "d1", "web", 42, "success");
	memset(&got, 0x5a, sizeof(got));
	ck_assert_int_eq(sysg_state_list_deploys(st, "web", one_deploy, &got), 0);
	ck_assert_str_eq(got.id, "d1");
	ck_assert_str_eq(got.outcome, "success");
	ck_assert_str_eq(got.reason, "health <check> & \"timeout\"");
	ck_assert_int_eq(got.started_at_ms, 42);
	sysg_state_close(st);
	sysg_plugin_path_free(&old);
}
END_TEST

/* Entries of the state directory whose name starts with PREFIX. */
static int count_prefixed(const char *prefix)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))        /* not the WAL kept beside it */
		n += !strncmp(e->d_name, prefix, strlen(prefix)) &&
		     !strstr(e->d_name, "-wal") && !strstr(e->d_name, "-shm");
	closedir(d);
	return n;
}

/* Corrupt files kept aside within one second never overwrite each other,
 * with either backend. */
START_TEST(corrupt_files_aside_unique)
{
	static const char *const file[] = { "pid.xml", "state.db" };
	char prefix[64];
	int64_t pid;

	snprintf(prefix, sizeof(prefix), "%s.corrupt-", file[_i]);
	for (int k = 0; k < 3; k++) {
		struct sysg_state *st;

		write_file(file[_i], garbage, sizeof(garbage));
		st = open_store(_i);
		ck_assert_int_eq(sysg_state_get_pid(st, "web", &pid), -ENOENT);
		ck_assert_int_eq(sysg_state_set_pid(st, "web", 5), 0);
		sysg_state_close(st);
	}
	ck_assert_int_eq(count_prefixed(prefix), 3);
}
END_TEST

START_TEST(xml_oversized_file_is_corrupt)
{
	struct sysg_state *st = open_store(0);
	char path[256];
	int64_t pid;
	int fd;

	snprintf(path, sizeof(path), "%s/pid.xml", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)17 << 20), 0);
	close(fd);
	ck_assert_int_eq(sysg_state_get_pid(st, "web", &pid), -ENOENT);
	find_prefixed("pid.xml.corrupt-", path, sizeof(path));
	ck_assert_str_ne(path, "");
	sysg_state_close(st);
}
END_TEST

/* Forty units "unit-0".."unit-39": a database of several pages. */
static void put_many_units(struct sysg_state *st)
{
	struct sysg_unit_record u;

	for (int i = 0; i < 40; i++) {
		fill_unit(&u, "unit");
		snprintf(u.name, sizeof(u.name), "unit-%d", i);
		ck_assert_int_eq(sysg_state_put_unit(st, &u), 0);
	}
}

START_TEST(sqlite_corrupt_db_recovered)
{
	struct sysg_state *st;
	struct bad bad;
	char *db, aside[256];
	size_t len = 0;
	int64_t pid;

	/* Garbage: kept aside, a fresh database is created. */
	write_file("state.db", garbage, sizeof(garbage));
	st = open_store(1);
	ck_assert_int_eq(sysg_state_get_pid(st, "web", &pid), -ENOENT);
	ck_assert_int_eq(sysg_state_set_pid(st, "web", 5), 0);
	expect_pid(st, "web", 5);
	sysg_state_close(st);
	bad.data = (const char *)garbage;
	bad.len = sizeof(garbage);
	check_kept_aside("state.db", &bad);

	/* Truncated: a real database cut short. */
	st = open_store(1);
	put_many_units(st);
	sysg_state_close(st);
	db = read_file("state.db", &len);
	ck_assert_ptr_nonnull(db);
	ck_assert_uint_gt(len, 3 * 4096);
	write_file("state.db", db, 100);
	free(db);
	st = open_store(1);
	expect_pid(st, "web", -1);
	ck_assert_int_eq(sysg_state_set_pid(st, "web", 6), 0);
	expect_pid(st, "web", 6);
	sysg_state_close(st);
	find_prefixed("state.db.corrupt-", aside, sizeof(aside));
	ck_assert_str_ne(aside, "");

	/* Empty: SQLite's own empty database, simply used. */
	write_file("state.db", "", 0);
	st = open_store(1);
	expect_pid(st, "web", -1);
	ck_assert_int_eq(sysg_state_set_pid(st, "web", 7), 0);
	expect_pid(st, "web", 7);
	sysg_state_close(st);
}
END_TEST

START_TEST(sqlite_truncated_midway_never_crashes)
{
	struct sysg_state *st = open_store(1);
	struct sysg_unit_record u, got;
	size_t len = 0;
	char *db;
	int n = 0;

	put_many_units(st);
	sysg_state_close(st);
	db = read_file("state.db", &len);
	ck_assert_ptr_nonnull(db);
	write_file("state.db", db, len / 2);
	free(db);
	st = open_store(1);
	ck_assert_int_eq(sysg_state_list_units(st, count_units, &n), 0);
	ck_assert_int_le(n, 40);
	fill_unit(&u, "after");
	ck_assert_int_eq(sysg_state_put_unit(st, &u), 0);
	ck_assert_int_eq(sysg_state_get_unit(st, "after", &got), 0);
	unit_eq(&u, &got);
	sysg_state_close(st);
}
END_TEST

/* Corruption that only shows once the database outgrows the page cache
 * is found during a call: kept aside, and the call retried on a fresh one. */
START_TEST(sqlite_corruption_found_in_use_recovered)
{
	struct sysg_state *st = open_store(1);
	struct sysg_unit_record u;
	char path[256], junk[4096], aside[256];
	struct stat sb;
	int n = 0;
	FILE *f;

	fill_unit(&u, "unit");
	for (int i = 0; i < 800; i++) {
		snprintf(u.name, sizeof(u.name), "unit-%03d", i);
		ck_assert_int_eq(sysg_state_put_unit(st, &u), 0);
	}
	snprintf(path, sizeof(path), "%s/state.db", tmpdir);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_gt(sb.st_size, 3 << 20);
	memset(junk, 0xab, sizeof(junk));
	f = fopen(path, "r+e");
	ck_assert_ptr_nonnull(f);
	for (off_t o = 0; o < sb.st_size; o += (off_t)sizeof(junk))
		ck_assert_uint_eq(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(sysg_state_list_units(st, count_units, &n), 0);
	ck_assert_int_eq(n, 0);
	find_prefixed("state.db.corrupt-", aside, sizeof(aside));
	ck_assert_str_ne(aside, "");
	ck_assert_int_eq(sysg_state_set_pid(st, "web", 9), 0);
	expect_pid(st, "web", 9);
	sysg_state_close(st);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the remote store (the resident supervisor's)                        */
/* ------------------------------------------------------------------ */

static void reap_helper(void *arg, const struct signalfd_siginfo *si)
{
	int status;
	pid_t pid;

	(void)si;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		ck_assert_int_eq(sysg_state_reaped(arg, pid, status), 1);
}

/* Run LOOP until the store's helper has ended (or TU_DEADLINE_MS). */
static void until_helper_gone(struct sysg_loop *loop, struct sysg_state *st)
{
	int64_t end = sysg_now_ms() + TU_DEADLINE_MS;

	while (sysg_state_helper_pid(st) && sysg_now_ms() < end)
		sysg_loop_once(loop, 50);
	ck_assert_int_eq(sysg_state_helper_pid(st), 0);
}

/* A storm of writes on a remote store: one request to the helper stores
 * the last of each, other processes see them, the helper ends when idle
 * and the next read starts another; this process never maps the
 * backend. */
START_TEST(remote_store_coalesces_and_keeps_backend_out)
{
	struct sysg_state *st = open_store(_i + NBACKENDS), *other;
	struct sysg_unit_record u, got;
	struct sysg_cron_run r;
	struct sysg_loop *loop;
	unsigned long helpers, requests;
	const char *hit;
	int64_t pid;
	char buf[32];
	int n = 0;

	ck_assert_int_eq(sysg_loop_new(&loop), 0);
	sysg_loop_on_signal(loop, reap_helper, st);
	sysg_state_use_loop(st, loop);
	ck_assert_int_gt(sysg_state_helper_pid(st), 0);
	for (int i = 1; i <= 200; i++) {
		fill_unit(&u, "web");
		u.pid = i;
		snprintf(buf, sizeof(buf), "v%d", i);
		r = mkrun("tick", 1000, i < 200 ? "running" : "success");
		ck_assert_int_eq(sysg_state_put_unit(st, &u), 0);
		ck_assert_int_eq(sysg_state_set_pid(st, "web", i), 0);
		ck_assert_int_eq(sysg_state_kv_set(st, "k", buf), 0);
		ck_assert_int_eq(sysg_state_add_cron_run(st, &r, 5), 0);
	}
	ck_assert_int_eq(sysg_state_remove_unit(st, "gone"), 0);
	until_helper_gone(loop, st);
	sysg_state_remote_stats(st, &helpers, &requests);
	/* the opener's helper, then the writer's */
	ck_assert_int_le(helpers, 2);
	ck_assert_int_eq(requests, 1);
	/* (before this process opens a store of its own) */
	hit = tu_backend_mapped(getpid());
	ck_assert_msg(!hit, "%s: this process maps %s", BACKEND(_i), hit);
	other = open_store(_i);
	expect_pid(other, "web", 200);
	ck_assert_int_eq(sysg_state_get_unit(other, "web", &got), 0);
	ck_assert_int_eq(got.pid, 200);
	ck_assert_int_eq(sysg_state_kv_get(other, "k", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "v200");
	sysg_state_close(other);
	/* a write by another process, read through a new helper */
	other = open_store(_i);
	ck_assert_int_eq(sysg_state_set_pid(other, "cli", 77), 0);
	sysg_state_close(other);
	ck_assert_int_eq(sysg_state_get_pid(st, "cli", &pid), 0);
	ck_assert_int_eq(pid, 77);
	ck_assert_int_eq(sysg_state_list_units(st, count_units, &n), 0);
	ck_assert_int_eq(n, 1);
	sysg_state_remote_stats(st, &helpers, &requests);
	ck_assert_int_le(helpers, 3);
	ck_assert_int_ge(requests, 2);
	until_helper_gone(loop, st);
	sysg_state_use_loop(st, NULL);
	sysg_state_close(st);
	sysg_loop_free(loop);
}
END_TEST

/* ------------------------------------------------------------------ */
/* concurrency                                                          */
/* ------------------------------------------------------------------ */

#define NWRITERS 20

static int writer(int b, int i, int gate)
{
	struct sysg_unit_record u;
	struct sysg_cron_run r;
	struct sysg_state *st = NULL;
	char name[32], err[256];
	int rc = 0;

	/* with a remote store, every other writer is one (the supervisor
	 * beside CLI invocations) */
	if ((b >= NBACKENDS && i % 2 ?
	     sysg_state_open_remote(&st, &pp, BACKEND(b), tmpdir, NULL, err,
				    sizeof(err)) :
	     sysg_state_open(&st, &pp, BACKEND(b), tmpdir, NULL, err,
			     sizeof(err))))
		return 2;
	if (read(gate, name, 1) < 0)    /* wait for the parent's go */
		rc = 3;
	snprintf(name, sizeof(name), "svc-%02d", i);
	fill_unit(&u, name);
	u.pid = 1000 + i;
	r = mkrun("cron", i, "success");
	rc = rc ? rc : sysg_state_set_pid(st, name, 1000 + i) ? 4 : 0;
	rc = rc ? rc : sysg_state_put_unit(st, &u) ? 5 : 0;
	rc = rc ? rc : sysg_state_kv_set(st, name, name) ? 6 : 0;
	rc = rc ? rc : sysg_state_add_cron_run(st, &r, 100) ? 7 : 0;
	sysg_state_close(st);
	return rc;
}

START_TEST(concurrent_writers_lose_nothing)
{
	struct sysg_state *st;
	struct sysg_unit_record got;
	struct runs *x = calloc(1, sizeof(*x));
	pid_t kids[NWRITERS];
	int gate[2], status, n = 0;
	char name[32], buf[32];

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(pipe2(gate, O_CLOEXEC), 0);
	for (int i = 0; i < NWRITERS; i++) {
		kids[i] = fork();
		ck_assert_int_ge(kids[i], 0);
		if (kids[i] == 0) {
			close(gate[1]);
			_exit(writer(_i, i, gate[0]));
		}
	}
	close(gate[0]);
	close(gate[1]);         /* all go at once */
	for (int i = 0; i < NWRITERS; i++) {
		ck_assert_int_eq(waitpid(kids[i], &status, 0), kids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "%s writer %d: status %#x", BACKEND(_i), i, status);
	}
	st = open_store(_i);
	for (int i = 0; i < NWRITERS; i++) {
		snprintf(name, sizeof(name), "svc-%02d", i);
		expect_pid(st, name, 1000 + i);
		ck_assert_int_eq(sysg_state_get_unit(st, name, &got), 0);
		ck_assert_int_eq(got.pid, 1000 + i);
		ck_assert_int_eq(sysg_state_kv_get(st, name, buf, sizeof(buf)), 0);
		ck_assert_str_eq(buf, name);
	}
	ck_assert_int_eq(sysg_state_list_units(st, count_units, &n), 0);
	ck_assert_int_eq(n, NWRITERS);
	ck_assert_int_eq(sysg_state_list_cron_runs(st, "cron", run_cb, x), 0);
	ck_assert_int_eq(x->n, NWRITERS);
	free(x);
	sysg_state_close(st);
}
END_TEST

/* ------------------------------------------------------------------ */
/* opening                                                              */
/* ------------------------------------------------------------------ */

START_TEST(open_creates_dirs_and_honours_path)
{
	static const char *const expect[] = { "sub/dir/pid.xml", "custom.db" };
	static const char *const paths[] = { "sub/dir", "custom.db" };
	struct sysg_state *st;
	char dir[256], file[256];
	struct stat sb;

	snprintf(dir, sizeof(dir), "%s/a/b", tmpdir);
	st = open_at(_i, dir, NULL);
	ck_assert_int_eq(stat(dir, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0700);
	ck_assert_int_eq(sysg_state_set_pid(st, "web", 1), 0);
	sysg_state_close(st);

	st = open_at(_i, tmpdir, paths[_i]);
	ck_assert_int_eq(sysg_state_set_pid(st, "web", 2), 0);
	sysg_state_close(st);
	snprintf(file, sizeof(file), "%s/%s", tmpdir, expect[_i]);
	ck_assert_msg(stat(file, &sb) == 0, "%s missing", file);
	ck_assert_uint_eq(sb.st_mode & 0077, 0);
	st = open_at(_i, tmpdir, paths[_i]);
	expect_pid(st, "web", 2);
	sysg_state_close(st);
	st = open_store(_i);
	expect_pid(st, "web", -1);
	sysg_state_close(st);
}
END_TEST

START_TEST(open_refuses_unknown_and_wrong_kind)
{
	struct sysg_state *st = NULL;
	char err[512] = "";

	ck_assert_int_lt(sysg_state_open(&st, &pp, "no-such-backend", tmpdir,
					 NULL, err, sizeof(err)), 0);
	ck_assert_ptr_null(st);
	ck_assert_str_ne(err, "");
	err[0] = '\0';
	ck_assert_int_lt(sysg_state_open(&st, &pp, "immediate", tmpdir, NULL,
					 err, sizeof(err)), 0);
	ck_assert_ptr_null(st);
	ck_assert_str_ne(err, "");
	ck_assert_int_eq(sysg_state_open(&st, &pp, NULL, tmpdir, NULL, err,
					 sizeof(err)), 0);
	ck_assert_str_eq(st->plugin->desc->name, "xml");
	sysg_state_close(st);
}
END_TEST

/* `sysg purge` deletes the files under a long-lived handle (the
 * supervisor's): later writes must land in files other handles see. */
START_TEST(files_removed_under_open_handle)
{
	static const char *const files[] = {
		"pid.xml", "state.lock", "state.db", "state.db-wal",
		"state.db-shm", "state.db.lock",
	};
	struct sysg_state *st = open_store(_i), *other;
	char path[256];

	ck_assert_int_eq(sysg_state_set_pid(st, "web", 1), 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		unlink(path);
	}
	ck_assert_int_eq(sysg_state_set_pid(st, "api", 2), 0);
	other = open_store(_i);
	expect_pid(other, "api", 2);
	expect_pid(other, "web", -1);
	sysg_state_close(other);
	sysg_state_close(st);
}
END_TEST

/* Bitmap of the fds open now (fds < 1024). */
static void open_fds(unsigned char fds[1024])
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	ck_assert_ptr_nonnull(d);
	memset(fds, 0, 1024);
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] != '.' && fd != dirfd(d) && fd < 1024)
			fds[fd] = 1;
	}
	closedir(d);
}

/* 1 when FD is close-on-exec (from /proc/self/fdinfo). */
static int is_cloexec(int fd)
{
	char path[64], line[128];
	unsigned long flags = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "flags: %lo", &flags) == 1)
			break;
	fclose(f);
	return (flags & O_CLOEXEC) != 0;
}

START_TEST(fds_close_on_exec_and_not_leaked)
{
	unsigned char before[1024], during[1024], after[1024];
	struct sysg_state *st;
	int64_t pid;

	open_fds(before);
	st = open_store(_i);
	ck_assert_int_eq(sysg_state_set_pid(st, "web", 1), 0);
	ck_assert_int_eq(sysg_state_get_pid(st, "web", &pid), 0);
	open_fds(during);
	for (int fd = 0; fd < 1024; fd++)
		if (during[fd] && !before[fd])
			ck_assert_msg(is_cloexec(fd), "%s: fd %d lacks O_CLOEXEC",
				      BACKEND(_i), fd);
	sysg_state_close(st);
	open_fds(after);
	ck_assert_int_eq(memcmp(before, after, sizeof(before)), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* process identity                                                     */
/* ------------------------------------------------------------------ */

/* The state letter of PID from /proc, or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] ? p[2] : 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

START_TEST(proc_alive_self_dead_zombie_reused)
{
	uint64_t me = 0, ticks = 0;
	pid_t kid;
	int status, i;

	ck_assert_int_eq(sysg_proc_start_ticks(getpid(), &me), 0);
	ck_assert_uint_gt(me, 0);
	ck_assert_int_eq(sysg_proc_alive(getpid(), 0), 1);
	ck_assert_int_eq(sysg_proc_alive(getpid(), me), 1);
	ck_assert_int_eq(sysg_proc_alive(getpid(), me + 1), 0);
	ck_assert_int_eq(sysg_proc_alive(0, 0), 0);
	ck_assert_int_eq(sysg_proc_alive(-1, 0), 0);
	ck_assert_int_eq(sysg_proc_alive((int64_t)INT32_MAX + 5, 0), 0);

	/* A zombie is not alive; once reaped it is gone. */
	kid = fork();
	ck_assert_int_ge(kid, 0);
	if (kid == 0)
		_exit(0);
	for (i = 0; i < 1000 && proc_state(kid) != 'Z'; i++)
		sleep_ms(5);
	ck_assert_int_eq(proc_state(kid), 'Z');
	ck_assert_int_eq(sysg_proc_alive(kid, 0), 0);
	ck_assert_int_eq(sysg_proc_is_alive(kid, 0), 0);
	ck_assert_int_eq(waitpid(kid, &status, 0), kid);
	ck_assert_int_eq(sysg_proc_alive(kid, 0), 0);
	ck_assert_int_eq(sysg_proc_start_ticks(kid, &ticks), -ESRCH);
	(void)ticks;
}
END_TEST

START_TEST(proc_ticks_with_hostile_comm)
{
	static const char comm[] = "a) b ) (c";
	struct sysg_procstat ps;
	char path[64], buf[64] = "";
	uint64_t me = 0, ticks = 0;
	int pipefd[2], status, i;
	pid_t kid;

	ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
	kid = fork();
	ck_assert_int_ge(kid, 0);
	if (kid == 0) {
		close(pipefd[1]);
		prctl(PR_SET_NAME, comm, 0, 0, 0);
		_exit(read(pipefd[0], buf, 1) < 0);
	}
	close(pipefd[0]);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)kid);
	for (i = 0; i < 1000; i++) {
		FILE *f = fopen(path, "re");

		buf[0] = '\0';
		if (f) {
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = '\0';
			fclose(f);
		}
		buf[strcspn(buf, "\n")] = '\0';
		if (!strcmp(buf, comm))
			break;
		sleep_ms(5);
	}
	ck_assert_str_eq(buf, comm);
	ck_assert_int_eq(sysg_procstat_read(kid, &ps), 0);
	ck_assert_str_eq(ps.comm, comm);
	ck_assert_int_eq(ps.ppid, getpid());
	ck_assert_int_eq(sysg_proc_start_ticks(getpid(), &me), 0);
	ck_assert_int_eq(sysg_proc_start_ticks(kid, &ticks), 0);
	ck_assert_uint_ge(ticks, me);
	ck_assert_int_eq(sysg_proc_alive(kid, ticks), 1);
	ck_assert_int_eq(sysg_proc_alive(kid, ticks + 1), 0);
	close(pipefd[1]);
	ck_assert_int_eq(waitpid(kid, &status, 0), kid);
	ck_assert_int_eq(sysg_proc_alive(kid, ticks), 0);
}
END_TEST

/* The tree scan's view (proctree.h) and the identity checks are all read
 * through the one /proc/PID/stat parser: they must agree. */
START_TEST(proc_views_agree)
{
	struct sysg_procstat ps = { 0 };
	struct sysg_proc_stat st;
	uint64_t ticks = 1, ticks_of = 1;
	char buf[8];

	ck_assert_int_eq(sysg_procstat_read(getpid(), &ps), 0);
	ck_assert_int_eq(sysg_proc_stat_read(getpid(), &st), 0);
	ck_assert_int_eq(st.pid, getpid());
	ck_assert_int_eq(st.ppid, ps.ppid);
	ck_assert_int_eq(st.pgrp, getpgrp());
	ck_assert_int_eq(st.sid, getsid(0));
	ck_assert_int_eq(st.state, ps.state);
	ck_assert_int_eq(sysg_proc_start_ticks(getpid(), &ticks), 0);
	ck_assert_int_eq(sysg_proc_start_ticks_of(getpid(), &ticks_of), 0);
	ck_assert_uint_eq(ticks, ps.start_ticks);
	ck_assert_uint_eq(ticks_of, ps.start_ticks);
	ck_assert_int_eq(sysg_proc_is_alive(getpid(), ticks), 1);
	ck_assert_int_eq(sysg_proc_is_alive(getpid(), ticks + 1), 0);
	ck_assert_int_eq(sysg_proc_is_alive(0, 0), 0);
	/* a failed look-up clears the ticks */
	ck_assert_int_eq(sysg_proc_start_ticks(-1, &ticks), -ESRCH);
	ck_assert_uint_eq(ticks, 0);

	/* liveness from the state letter and the start time */
	ps.state = 'S';
	ck_assert_int_eq(sysg_procstat_is_live(&ps, 0), 1);
	ck_assert_int_eq(sysg_procstat_is_live(&ps, ps.start_ticks), 1);
	ck_assert_int_eq(sysg_procstat_is_live(&ps, ps.start_ticks + 1), 0);
	ps.state = 'Z';
	ck_assert_int_eq(sysg_procstat_is_live(&ps, 0), 0);
	ps.state = 'X';
	ck_assert_int_eq(sysg_procstat_is_live(&ps, 0), 0);
	ps.state = 'x';
	ck_assert_int_eq(sysg_procstat_is_live(&ps, 0), 0);

	/* the small-file reader: truncation, a missing file, no room */
	ck_assert_int_eq(sysg_proc_read_file("/proc/self/stat", buf,
					     sizeof(buf)), sizeof(buf) - 1);
	ck_assert_uint_eq(strlen(buf), sizeof(buf) - 1);
	ck_assert_int_eq(sysg_proc_read_file("/proc/self/no-such-file", buf,
					     sizeof(buf)), -ESRCH);
	ck_assert_int_eq(sysg_proc_read_file("/proc/self/stat", buf, 0),
			 -EINVAL);
}
END_TEST

static Suite *make_state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("backends");
	TCase *tp = tcase_create("proc");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, pid_set_get_remove_list, 0, NSTORES);
	tcase_add_test(tc, pid_xml_written_in_systemg_shape);
	tcase_add_test(tc, pid_xml_reads_both_shapes);
	tcase_add_loop_test(tc, unit_round_trip, 0, NSTORES);
	tcase_add_loop_test(tc, batch_stores_all, 0, NSTORES);
	tcase_add_loop_test(tc, release_and_reload, 0, NBACKENDS);
	tcase_add_loop_test(tc, mirror_follows_writes_without_backend, 0,
			    NBACKENDS);
	tcase_add_loop_test(tc, cron_runs_keep_n_and_update_in_place, 0, NSTORES);
	tcase_add_loop_test(tc, deploy_history_order_update_cap, 0, NSTORES);
	tcase_add_loop_test(tc, kv_get_set_delete, 0, NSTORES);
	tcase_add_loop_test(tc, xml_corrupt_files_recovered, 0, (int)NBAD);
	tcase_add_test(tc, xml_oversized_file_is_corrupt);
	tcase_add_loop_test(tc, backend_warnings_reach_the_log_sink, 0, 2);
	tcase_add_loop_test(tc, remote_store_coalesces_and_keeps_backend_out,
			    0, NBACKENDS);
	tcase_add_test(tc, abi1_backend_still_works);
	tcase_add_loop_test(tc, corrupt_files_aside_unique, 0, 2);
	tcase_add_test(tc, sqlite_corrupt_db_recovered);
	tcase_add_test(tc, sqlite_truncated_midway_never_crashes);
	tcase_add_test(tc, sqlite_corruption_found_in_use_recovered);
	tcase_add_loop_test(tc, concurrent_writers_lose_nothing, 0, NSTORES);
	tcase_add_loop_test(tc, open_creates_dirs_and_honours_path, 0, NBACKENDS);
	tcase_add_test(tc, open_refuses_unknown_and_wrong_kind);
	tcase_add_loop_test(tc, fds_close_on_exec_and_not_leaked, 0, NBACKENDS);
	tcase_add_loop_test(tc, files_removed_under_open_handle, 0, NBACKENDS);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tp, 60);
	tcase_add_test(tp, proc_alive_self_dead_zombie_reused);
	tcase_add_test(tp, proc_ticks_with_hostile_comm);
	tcase_add_test(tp, proc_views_agree);
	suite_add_tcase(s, tp);
	return s;
}

int main(void)
{
	return tu_run_suite(make_state_suite());
}
