/* sqlite.c - a state backend keeping everything in one SQLite database.
 *
 * Where: `state.db` in the state directory, or `state.path` (a file,
 * relative to the state directory when relative; an existing directory
 * gets state.db inside; missing parent directories are created 0700).
 *
 * Schema (version 1, recorded in schema_version; a newer version is
 * refused rather than misread):
 *   pids(name TEXT PRIMARY KEY, pid INTEGER)
 *   units(name TEXT PRIMARY KEY, kind, status, pid, pgid, start_ticks,
 *         started_at_ms, updated_at_ms, exit_code NULL when unknown,
 *         signal NULL when unknown, restarts, reason, command)
 *   cron_runs(name, started_at_ms, completed_at_ms, status, exit_code,
 *             PRIMARY KEY (name, started_at_ms))
 *   deploys(seq INTEGER PRIMARY KEY AUTOINCREMENT, id, service, strategy,
 *           started_at_ms, duration_ms, slot_before, slot_after, outcome,
 *           reason)         the 200 newest by (started_at_ms, seq)
 *   kv(key TEXT PRIMARY KEY, value TEXT)
 *
 * Semantics match the xml backend: lists by name, cron runs and deploys
 * newest first, keys under 256 bytes, values under 4096 bytes.
 *
 * Concurrency: WAL journal (persistent -wal/-shm files, the WAL truncated
 * when idle), synchronous=FULL, a 10 s busy timeout, and
 * every call is one transaction (writes BEGIN IMMEDIATE, so concurrent
 * writers queue instead of failing on a lock upgrade). Opening (journal
 * mode, schema, integrity check) is serialised by flock on FILE.lock.
 *
 * Corruption: a file that is not a database, fails PRAGMA quick_check at
 * open, or reports SQLITE_CORRUPT/SQLITE_NOTADB during a call is logged,
 * renamed FILE.corrupt-YYYYmmddTHHMMSSZ (its WAL beside it as ...-wal)
 * and replaced by a fresh database; the call is then retried once. An
 * empty file is a valid empty database to SQLite and is simply used.
 * Each call first checks that the file is still the one it opened (same
 * inode); when it was kept aside, purged or replaced, it reconnects.
 */
#include <sysg/plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#define SQ_SCHEMA_VERSION 1
#define SQ_DEPLOYS_KEEP   200
#define SQ_CRON_KEEP      1000
#define SQ_KEY_MAX        256
#define SQ_VALUE_MAX      4096
#define SQ_BUSY_MS        10000

struct sq {
	const struct sysg_state_host *host;
	char *file;
	sqlite3 *db;
	dev_t dev;              /* the file db was opened on */
	ino_t ino;
	int rc;                 /* the last SQLite failure in this call */
	int batch;              /* in a transaction until sq_batch_commit */
	int batch_err;          /* the first failure in it */
};

static void sq_log(const struct sq *h, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void sq_log(const struct sq *h, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!h->host || !h->host->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	h->host->log(level, "sqlite: %s", msg);
}

static int is_corrupt(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

static int errno_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CANTOPEN:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	default:
		return -EIO;
	}
}

/* Record and log a failure of WHAT; returns the errno-style code. */
static int sq_fail(struct sq *h, int rc, const char *what)
{
	h->rc = rc;
	if (!is_corrupt(rc))
		sq_log(h, SYSG_LOG_ERROR, "%s: %s: %s", h->file, what,
		       h->db ? sqlite3_errmsg(h->db) : sqlite3_errstr(rc));
	return errno_of(rc);
}

static int exec(struct sq *h, const char *sql)
{
	int rc = sqlite3_exec(h->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sq_fail(h, rc, sql);
}

static int prep(struct sq *h, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(h->db, sql, -1, st, NULL);

	return rc == SQLITE_OK ? 0 : sq_fail(h, rc, "prepare");
}

/* Step a statement that returns no rows, then finalize it. */
static int run(struct sq *h, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sq_fail(h, rc, "step");
}

/* Bind text or NULL (S NULL). */
static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void bind_opt(sqlite3_stmt *st, int i, int has, int v)
{
	if (has)
		sqlite3_bind_int(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

/* Copy column I into DST[SIZE], cut at a character boundary. */
static void col_text(sqlite3_stmt *st, int i, char *dst, size_t size)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	size_t n = s ? strlen(s) : 0;

	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	if (n)
		memcpy(dst, s, n);
	dst[n] = '\0';
}

static void col_opt(sqlite3_stmt *st, int i, int *has, int *v)
{
	*has = sqlite3_column_type(st, i) != SQLITE_NULL;
	*v = *has ? sqlite3_column_int(st, i) : 0;
}

/* ------------------------------------------------------------------ */
/* Rows collected for callbacks (called after the transaction ends)     */
/* ------------------------------------------------------------------ */

struct vec {
	char *v;
	size_t n, cap, size;
};

static void *vec_push(struct vec *x)
{
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 16;
		char *v = realloc(x->v, cap * x->size);

		if (!v)
			return NULL;
		x->v = v;
		x->cap = cap;
	}
	memset(x->v + x->n * x->size, 0, x->size);
	return x->v + x->n++ * x->size;
}

static void *vec_at(const struct vec *x, size_t i)
{
	return x->v + i * x->size;
}

/* Step ST, converting each row with ROW into a new element of X. */
static int collect(struct sq *h, sqlite3_stmt *st, struct vec *x,
		   void (*row)(sqlite3_stmt *, void *))
{
	int rc;
	void *e;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(e = vec_push(x))) {
			sqlite3_finalize(st);
			return -ENOMEM;
		}
		row(st, e);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sq_fail(h, rc, "step");
}

/* ------------------------------------------------------------------ */
/* Opening, schema, recovery                                            */
/* ------------------------------------------------------------------ */

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS pids(name TEXT PRIMARY KEY,"
	" pid INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS units(name TEXT PRIMARY KEY, kind TEXT,"
	" status TEXT, pid INTEGER, pgid INTEGER, start_ticks INTEGER,"
	" started_at_ms INTEGER, updated_at_ms INTEGER, exit_code INTEGER,"
	" signal INTEGER, restarts INTEGER, reason TEXT, command TEXT);"
	"CREATE TABLE IF NOT EXISTS cron_runs(name TEXT NOT NULL,"
	" started_at_ms INTEGER NOT NULL, completed_at_ms INTEGER, status TEXT,"
	" exit_code INTEGER, PRIMARY KEY(name, started_at_ms));"
	"CREATE TABLE IF NOT EXISTS deploys(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" id TEXT NOT NULL, service TEXT, strategy TEXT, started_at_ms INTEGER,"
	" duration_ms INTEGER, slot_before TEXT, slot_after TEXT, outcome TEXT,"
	" reason TEXT, revision TEXT, message TEXT, uid INTEGER,"
	" definition TEXT);"
	"CREATE INDEX IF NOT EXISTS deploys_order ON deploys(started_at_ms, seq);"
	"CREATE TABLE IF NOT EXISTS kv(key TEXT PRIMARY KEY, value TEXT NOT NULL);";

/* A store written before deploy records had these columns gets them
 * (ADD COLUMN fails harmlessly where one exists). */
static void add_deploy_columns(struct sq *h)
{
	static const char *const cols[] = {
		"revision TEXT", "message TEXT", "uid INTEGER", "definition TEXT",
	};
	char sql[128];

	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		snprintf(sql, sizeof(sql), "ALTER TABLE deploys ADD COLUMN %s",
			 cols[i]);
		sqlite3_exec(h->db, sql, NULL, NULL, NULL);
	}
}

/* Check or record the schema version (inside a transaction). */
static int schema_version(struct sq *h)
{
	sqlite3_stmt *st;
	int rc, err = prep(h, "SELECT max(version) FROM schema_version", &st);
	int64_t v;

	if (err)
		return err;
	rc = sqlite3_step(st);
	v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return sq_fail(h, rc, "schema version");
	if (v > SQ_SCHEMA_VERSION) {
		sq_log(h, SYSG_LOG_ERROR, "%s: schema version %" PRId64 " is "
		       "newer than this sysg supports (%d)", h->file, v,
		       SQ_SCHEMA_VERSION);
		return -EPROTO;
	}
	if (v == SQ_SCHEMA_VERSION)
		return 0;
	return exec(h, "INSERT INTO schema_version(version) VALUES (1)");
}

/* 0 when PRAGMA quick_check says "ok". */
static int quick_check(struct sq *h)
{
	sqlite3_stmt *st;
	int rc, ok, err = prep(h, "PRAGMA quick_check", &st);

	if (err)
		return err;
	rc = sqlite3_step(st);
	ok = rc == SQLITE_ROW && sqlite3_column_text(st, 0) &&
	     !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return sq_fail(h, rc, "quick_check");
	if (!ok)
		h->rc = SQLITE_CORRUPT;
	return ok ? 0 : -EBADMSG;
}

/* Open the database, set it up, create the schema. */
static int connect(struct sq *h)
{
	struct stat st;
	int rc, err, fd, on = 1;

	/* Create it 0600 ourselves: SQLite would use 0644. */
	fd = open(h->file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY |
		  O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd >= 0 && !fstat(fd, &st)) {
		h->dev = st.st_dev;
		h->ino = st.st_ino;
	}
	if (fd >= 0)
		close(fd);
	rc = sqlite3_open_v2(h->file, &h->db, SQLITE_OPEN_READWRITE |
			     SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
			     SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK)
		return sq_fail(h, rc, "open");
	sqlite3_busy_timeout(h->db, SQ_BUSY_MS);
	sqlite3_extended_result_codes(h->db, 1);
	/* Closing never unlinks -wal/-shm by name: after a corrupt file
	 * was kept aside, those names belong to the new database. */
	sqlite3_file_control(h->db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
	err = exec(h, "PRAGMA journal_mode=WAL");
	if (!err)
		err = exec(h, "PRAGMA synchronous=FULL");
	if (!err)       /* an idle WAL is truncated to nothing */
		err = exec(h, "PRAGMA journal_size_limit=0");
	if (!err)
		err = quick_check(h);
	if (!err)
		err = exec(h, "BEGIN IMMEDIATE");
	if (!err) {
		err = exec(h, schema_sql);
		if (!err)
			add_deploy_columns(h);
		if (!err)
			err = schema_version(h);
		err = err ? err : exec(h, "COMMIT");
		if (err && !sqlite3_get_autocommit(h->db))
			sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	}
	return err;
}

static void disconnect(struct sq *h)
{
	sqlite3_close_v2(h->db);
	h->db = NULL;
}

/* A free name FILE.corrupt-<UTC time>[-N] (malloc'd), or NULL. */
static char *aside_name(const char *file)
{
	char ts[32], *name = NULL;
	struct stat st;
	struct tm tm;
	time_t now = time(NULL);

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	for (int i = 0; i < 1000; i++) {
		if ((i ? asprintf(&name, "%s.corrupt-%s-%d", file, ts, i)
		       : asprintf(&name, "%s.corrupt-%s", file, ts)) < 0)
			return NULL;
		if (lstat(name, &st))
			return name;
		free(name);
	}
	return NULL;
}

/* Rename the database (and its WAL) aside; drop its shared-memory file.
 * Called with the open lock held. */
static void keep_aside(struct sq *h)
{
	char *aside = aside_name(h->file), *wal = NULL, *wal_aside = NULL;
	char *shm = NULL;

	if (!aside || asprintf(&wal, "%s-wal", h->file) < 0 ||
	    asprintf(&wal_aside, "%s-wal", aside) < 0 ||
	    asprintf(&shm, "%s-shm", h->file) < 0) {
		sq_log(h, SYSG_LOG_ERROR, "%s is corrupt; out of memory", h->file);
	} else if (rename(h->file, aside)) {
		sq_log(h, SYSG_LOG_ERROR, "%s is corrupt and could not be moved "
		       "aside: %s", h->file, strerror(errno));
	} else {
		rename(wal, wal_aside);
		unlink(shm);
		sq_log(h, SYSG_LOG_WARN, "%s is corrupt; kept aside as %s, "
		       "starting from an empty database", h->file, aside);
	}
	free(aside);
	free(wal);
	free(wal_aside);
	free(shm);
}

/* flock FILE.lock exclusively; the fd or -errno. */
static int lock_take(const struct sq *h)
{
	char *path = NULL;
	int fd, err;

	if (asprintf(&path, "%s.lock", h->file) < 0)
		return -ENOMEM;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(path);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	return fd;
}

/* 1 when FILE is still the file H->db was opened on. */
static int same_file(const struct sq *h)
{
	struct stat st;

	return !stat(h->file, &st) && st.st_dev == h->dev && st.st_ino == h->ino;
}

/* Connect under the open lock, keeping a corrupt file aside. With a
 * connection already open (a call just found corruption), that file is
 * kept aside first unless another process has replaced it already. */
static int db_open(struct sq *h)
{
	int lk = lock_take(h), err;

	if (lk < 0) {
		sq_log(h, SYSG_LOG_ERROR, "cannot lock %s.lock: %s", h->file,
		       strerror(-lk));
		return lk;
	}
	if (h->db) {
		int same = same_file(h);

		disconnect(h);
		if (same)
			keep_aside(h);
	}
	h->rc = SQLITE_OK;
	err = connect(h);
	if (err && is_corrupt(h->rc)) {
		disconnect(h);
		keep_aside(h);
		h->rc = SQLITE_OK;
		err = connect(h);
	}
	if (err)
		disconnect(h);
	close(lk);
	return err;
}

typedef int (*tx_fn)(struct sq *h, const void *arg);

static int tx_once(struct sq *h, int write, tx_fn fn, const void *arg)
{
	int err;

	h->rc = SQLITE_OK;
	if (h->db && !same_file(h)) {
		/* Kept aside, purged or replaced by another process. */
		sq_log(h, SYSG_LOG_INFO, "%s was replaced; reopening", h->file);
		disconnect(h);
	}
	if (!h->db && (err = db_open(h)))
		return err;
	err = exec(h, write ? "BEGIN IMMEDIATE" : "BEGIN");
	if (!err)
		err = fn(h, arg);
	if (!err)
		err = exec(h, "COMMIT");
	if (!sqlite3_get_autocommit(h->db))
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

/* One call as one transaction; on corruption recover and retry once. */
static int tx(struct sq *h, int write, tx_fn fn, const void *arg)
{
	int err;

	if (h->batch && h->db) {        /* inside the batch's transaction */
		h->rc = SQLITE_OK;
		err = fn(h, arg);
		if (err && !h->batch_err)
			h->batch_err = err;
		return err;
	}
	err = tx_once(h, write, fn, arg);

	if (!err || !is_corrupt(h->rc) || !h->db)
		return err;
	err = db_open(h);
	return err ? err : tx_once(h, write, fn, arg);
}

/* A batch is one write transaction around many calls. */
static int sq_batch_begin(void *handle)
{
	struct sq *h = handle;
	int err;

	if (h->batch)
		return -EBUSY;
	h->rc = SQLITE_OK;
	if (h->db && !same_file(h)) {
		sq_log(h, SYSG_LOG_INFO, "%s was replaced; reopening", h->file);
		disconnect(h);
	}
	if (!h->db && (err = db_open(h)))
		return err;
	if ((err = exec(h, "BEGIN IMMEDIATE")))
		return err;
	h->batch = 1;
	h->batch_err = 0;
	return 0;
}

static int sq_batch_commit(void *handle)
{
	struct sq *h = handle;
	int err;

	if (!h->batch)
		return -EINVAL;
	h->batch = 0;
	err = exec(h, "COMMIT");
	if (!sqlite3_get_autocommit(h->db))
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	return err ? err : h->batch_err;
}

/* ------------------------------------------------------------------ */
/* Calls                                                                */
/* ------------------------------------------------------------------ */

static int check_str(const char *s, size_t max)
{
	return s && *s && strnlen(s, max) < max ? 0 : -EINVAL;
}

#define TERMINATED(a) (strnlen((a), sizeof(a)) < sizeof(a))

struct pid_ent {
	char name[SYSG_NAME_MAX];
	int64_t pid;
};

static int do_set_pid(struct sq *h, const void *arg)
{
	const struct pid_ent *e = arg;
	sqlite3_stmt *st;
	int err = prep(h, e->pid ? "INSERT OR REPLACE INTO pids(name, pid) "
		       "VALUES (?1, ?2)" : "DELETE FROM pids WHERE name = ?1", &st);

	if (err)
		return err;
	bind_text(st, 1, e->name);
	if (e->pid)
		sqlite3_bind_int64(st, 2, e->pid);
	return run(h, st);
}

static void pid_row(sqlite3_stmt *st, void *out)
{
	struct pid_ent *e = out;

	col_text(st, 0, e->name, sizeof(e->name));
	e->pid = sqlite3_column_int64(st, 1);
}

struct query {
	const char *key;        /* NULL: all rows */
	struct vec *out;
};

static int do_pids(struct sq *h, const void *arg)
{
	const struct query *q = arg;
	sqlite3_stmt *st;
	int err = prep(h, "SELECT name, pid FROM pids WHERE ?1 IS NULL OR "
		       "name = ?1 ORDER BY name", &st);

	if (err)
		return err;
	bind_text(st, 1, q->key);
	return collect(h, st, q->out, pid_row);
}

static int sq_set_pid(void *handle, const char *name, int64_t pid)
{
	struct pid_ent e = { .pid = pid };

	if (check_str(name, SYSG_NAME_MAX) || pid < 0 || pid > INT_MAX)
		return -EINVAL;
	strcpy(e.name, name);
	return tx(handle, 1, do_set_pid, &e);
}

static int sq_get_pid(void *handle, const char *name, int64_t *pid)
{
	struct vec v = { .size = sizeof(struct pid_ent) };
	struct query q = { name, &v };
	int err;

	if (check_str(name, SYSG_NAME_MAX))
		return -EINVAL;
	err = tx(handle, 0, do_pids, &q);
	if (!err && !v.n)
		err = -ENOENT;
	if (!err)
		*pid = ((struct pid_ent *)vec_at(&v, 0))->pid;
	free(v.v);
	return err;
}

static int sq_list_pids(void *handle, sysg_pid_cb cb, void *arg)
{
	struct vec v = { .size = sizeof(struct pid_ent) };
	struct query q = { NULL, &v };
	int err = tx(handle, 0, do_pids, &q);

	for (size_t i = 0; !err && i < v.n; i++) {
		const struct pid_ent *e = vec_at(&v, i);

		if (cb(arg, e->name, e->pid))
			break;
	}
	free(v.v);
	return err;
}

#define UNIT_COLS "name, kind, status, pid, pgid, start_ticks, started_at_ms, " \
	"updated_at_ms, exit_code, signal, restarts, reason, command"

static int do_put_unit(struct sq *h, const void *arg)
{
	const struct sysg_unit_record *u = arg;
	sqlite3_stmt *st;
	int err = prep(h, "INSERT OR REPLACE INTO units(" UNIT_COLS ") VALUES "
		       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
		       &st);

	if (err)
		return err;
	bind_text(st, 1, u->name);
	bind_text(st, 2, u->kind);
	bind_text(st, 3, u->status);
	sqlite3_bind_int64(st, 4, u->pid);
	sqlite3_bind_int64(st, 5, u->pgid);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)u->start_ticks);
	sqlite3_bind_int64(st, 7, u->started_at_ms);
	sqlite3_bind_int64(st, 8, u->updated_at_ms);
	bind_opt(st, 9, u->has_exit_code, u->exit_code);
	bind_opt(st, 10, u->has_signal, u->signal);
	sqlite3_bind_int(st, 11, u->restarts);
	bind_text(st, 12, u->reason);
	bind_text(st, 13, u->command);
	return run(h, st);
}

static void unit_row(sqlite3_stmt *st, void *out)
{
	struct sysg_unit_record *u = out;

	col_text(st, 0, u->name, sizeof(u->name));
	col_text(st, 1, u->kind, sizeof(u->kind));
	col_text(st, 2, u->status, sizeof(u->status));
	u->pid = sqlite3_column_int64(st, 3);
	u->pgid = sqlite3_column_int64(st, 4);
	u->start_ticks = (uint64_t)sqlite3_column_int64(st, 5);
	u->started_at_ms = sqlite3_column_int64(st, 6);
	u->updated_at_ms = sqlite3_column_int64(st, 7);
	col_opt(st, 8, &u->has_exit_code, &u->exit_code);
	col_opt(st, 9, &u->has_signal, &u->signal);
	u->restarts = sqlite3_column_int(st, 10);
	col_text(st, 11, u->reason, sizeof(u->reason));
	col_text(st, 12, u->command, sizeof(u->command));
}

static int do_units(struct sq *h, const void *arg)
{
	const struct query *q = arg;
	sqlite3_stmt *st;
	int err = prep(h, "SELECT " UNIT_COLS " FROM units WHERE ?1 IS NULL "
		       "OR name = ?1 ORDER BY name", &st);

	if (err)
		return err;
	bind_text(st, 1, q->key);
	return collect(h, st, q->out, unit_row);
}

static int do_remove_unit(struct sq *h, const void *arg)
{
	sqlite3_stmt *st;
	int err = prep(h, "DELETE FROM units WHERE name = ?1", &st);

	if (err)
		return err;
	bind_text(st, 1, arg);
	return run(h, st);
}

static int sq_put_unit(void *handle, const struct sysg_unit_record *u)
{
	if (!u || check_str(u->name, SYSG_NAME_MAX) || !TERMINATED(u->kind) ||
	    !TERMINATED(u->status) || !TERMINATED(u->reason) ||
	    !TERMINATED(u->command))
		return -EINVAL;
	return tx(handle, 1, do_put_unit, u);
}

static int sq_get_unit(void *handle, const char *name,
		       struct sysg_unit_record *out)
{
	struct vec v = { .size = sizeof(*out) };
	struct query q = { name, &v };
	int err;

	if (check_str(name, SYSG_NAME_MAX))
		return -EINVAL;
	err = tx(handle, 0, do_units, &q);
	if (!err && !v.n)
		err = -ENOENT;
	if (!err)
		memcpy(out, vec_at(&v, 0), sizeof(*out));
	free(v.v);
	return err;
}

static int sq_remove_unit(void *handle, const char *name)
{
	if (check_str(name, SYSG_NAME_MAX))
		return -EINVAL;
	return tx(handle, 1, do_remove_unit, name);
}

static int sq_list_units(void *handle, sysg_unit_cb cb, void *arg)
{
	struct vec v = { .size = sizeof(struct sysg_unit_record) };
	struct query q = { NULL, &v };
	int err = tx(handle, 0, do_units, &q);

	for (size_t i = 0; !err && i < v.n; i++)
		if (cb(arg, vec_at(&v, i)))
			break;
	free(v.v);
	return err;
}

struct cron_arg {
	const struct sysg_cron_run *r;
	int keep;
};

static int do_add_cron(struct sq *h, const void *arg)
{
	const struct cron_arg *a = arg;
	sqlite3_stmt *st;
	int err = prep(h, "INSERT OR REPLACE INTO cron_runs(name, started_at_ms,"
		       " completed_at_ms, status, exit_code) VALUES "
		       "(?1, ?2, ?3, ?4, ?5)", &st);

	if (err)
		return err;
	bind_text(st, 1, a->r->name);
	sqlite3_bind_int64(st, 2, a->r->started_at_ms);
	sqlite3_bind_int64(st, 3, a->r->completed_at_ms);
	bind_text(st, 4, a->r->status);
	bind_opt(st, 5, a->r->has_exit_code, a->r->exit_code);
	if ((err = run(h, st)))
		return err;
	err = prep(h, "DELETE FROM cron_runs WHERE name = ?1 AND started_at_ms "
		   "NOT IN (SELECT started_at_ms FROM cron_runs WHERE name = ?1 "
		   "ORDER BY started_at_ms DESC LIMIT ?2)", &st);
	if (err)
		return err;
	bind_text(st, 1, a->r->name);
	sqlite3_bind_int(st, 2, a->keep);
	return run(h, st);
}

static void cron_row(sqlite3_stmt *st, void *out)
{
	struct sysg_cron_run *r = out;

	col_text(st, 0, r->name, sizeof(r->name));
	r->started_at_ms = sqlite3_column_int64(st, 1);
	r->completed_at_ms = sqlite3_column_int64(st, 2);
	col_text(st, 3, r->status, sizeof(r->status));
	col_opt(st, 4, &r->has_exit_code, &r->exit_code);
}

static int do_cron_runs(struct sq *h, const void *arg)
{
	const struct query *q = arg;
	sqlite3_stmt *st;
	int err = prep(h, "SELECT name, started_at_ms, completed_at_ms, status,"
		       " exit_code FROM cron_runs WHERE ?1 IS NULL OR name = ?1"
		       " ORDER BY started_at_ms DESC, rowid DESC", &st);

	if (err)
		return err;
	bind_text(st, 1, q->key);
	return collect(h, st, q->out, cron_row);
}

static int sq_add_cron_run(void *handle, const struct sysg_cron_run *r,
			   int keep)
{
	struct cron_arg a = { r, keep > SQ_CRON_KEEP ? SQ_CRON_KEEP : keep };

	if (!r || keep < 1 || check_str(r->name, SYSG_NAME_MAX) ||
	    !TERMINATED(r->status))
		return -EINVAL;
	return tx(handle, 1, do_add_cron, &a);
}

static int sq_list_cron_runs(void *handle, const char *name,
			     sysg_cron_run_cb cb, void *arg)
{
	struct vec v = { .size = sizeof(struct sysg_cron_run) };
	struct query q = { name, &v };
	int err = tx(handle, 0, do_cron_runs, &q);

	for (size_t i = 0; !err && i < v.n; i++)
		if (cb(arg, vec_at(&v, i)))
			break;
	free(v.v);
	return err;
}

#define DEPLOY_COLS "id, service, strategy, started_at_ms, duration_ms, " \
	"slot_before, slot_after, outcome, reason, revision, message, uid, " \
	"definition"

static int do_add_deploy(struct sq *h, const void *arg)
{
	const struct sysg_deploy_record *d = arg;
	sqlite3_stmt *st;
	int err = 0;

	if (d->id[0] && !(err = prep(h, "DELETE FROM deploys WHERE id = ?1", &st))) {
		bind_text(st, 1, d->id);
		err = run(h, st);
	}
	if (err || (err = prep(h, "INSERT INTO deploys(" DEPLOY_COLS ") VALUES "
			       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
			       "?12, ?13)", &st)))
		return err;
	bind_text(st, 1, d->id);
	bind_text(st, 2, d->service);
	bind_text(st, 3, d->strategy);
	sqlite3_bind_int64(st, 4, d->started_at_ms);
	sqlite3_bind_int64(st, 5, d->duration_ms);
	bind_text(st, 6, d->slot_before);
	bind_text(st, 7, d->slot_after);
	bind_text(st, 8, d->outcome);
	bind_text(st, 9, d->reason);
	bind_text(st, 10, d->revision);
	bind_text(st, 11, d->message);
	sqlite3_bind_int64(st, 12, d->uid);
	bind_text(st, 13, d->definition);
	if ((err = run(h, st)))
		return err;
	err = prep(h, "DELETE FROM deploys WHERE seq NOT IN (SELECT seq FROM "
		   "deploys ORDER BY started_at_ms DESC, seq DESC LIMIT ?1)", &st);
	if (err)
		return err;
	sqlite3_bind_int(st, 1, SQ_DEPLOYS_KEEP);
	return run(h, st);
}

static void deploy_row(sqlite3_stmt *st, void *out)
{
	struct sysg_deploy_record *d = out;

	col_text(st, 0, d->id, sizeof(d->id));
	col_text(st, 1, d->service, sizeof(d->service));
	col_text(st, 2, d->strategy, sizeof(d->strategy));
	d->started_at_ms = sqlite3_column_int64(st, 3);
	d->duration_ms = sqlite3_column_int64(st, 4);
	col_text(st, 5, d->slot_before, sizeof(d->slot_before));
	col_text(st, 6, d->slot_after, sizeof(d->slot_after));
	col_text(st, 7, d->outcome, sizeof(d->outcome));
	col_text(st, 8, d->reason, sizeof(d->reason));
	col_text(st, 9, d->revision, sizeof(d->revision));
	col_text(st, 10, d->message, sizeof(d->message));
	d->uid = sqlite3_column_int64(st, 11);
	col_text(st, 12, d->definition, sizeof(d->definition));
}

static int do_deploys(struct sq *h, const void *arg)
{
	const struct query *q = arg;
	sqlite3_stmt *st;
	int err = prep(h, "SELECT " DEPLOY_COLS " FROM deploys WHERE ?1 IS NULL"
		       " OR service = ?1 ORDER BY started_at_ms DESC, seq DESC",
		       &st);

	if (err)
		return err;
	bind_text(st, 1, q->key);
	return collect(h, st, q->out, deploy_row);
}

static int sq_add_deploy(void *handle, const struct sysg_deploy_record *d)
{
	if (!d || !TERMINATED(d->id) || !TERMINATED(d->service) ||
	    !TERMINATED(d->strategy) || !TERMINATED(d->slot_before) ||
	    !TERMINATED(d->slot_after) || !TERMINATED(d->outcome) ||
	    !TERMINATED(d->reason) || !TERMINATED(d->revision) ||
	    !TERMINATED(d->message) || !TERMINATED(d->definition))
		return -EINVAL;
	return tx(handle, 1, do_add_deploy, d);
}

static int sq_list_deploys(void *handle, const char *service,
			   sysg_deploy_cb cb, void *arg)
{
	struct vec v = { .size = sizeof(struct sysg_deploy_record) };
	struct query q = { service, &v };
	int err = tx(handle, 0, do_deploys, &q);

	for (size_t i = 0; !err && i < v.n; i++)
		if (cb(arg, vec_at(&v, i)))
			break;
	free(v.v);
	return err;
}

struct kv_arg {
	const char *key;
	const char *value;      /* set: NULL deletes */
	char *buf;              /* get */
	size_t len;
	int found;
};

static int do_kv_get(struct sq *h, const void *arg)
{
	struct kv_arg *a = (struct kv_arg *)arg;
	sqlite3_stmt *st;
	const char *v;
	int rc, err = prep(h, "SELECT value FROM kv WHERE key = ?1", &st);

	if (err)
		return err;
	bind_text(st, 1, a->key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		v = (const char *)sqlite3_column_text(st, 0);
		v = v ? v : "";
		a->found = strlen(v) < a->len ? 1 : -1;
		if (a->found > 0)
			strcpy(a->buf, v);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sq_fail(h, rc, "step");
}

static int do_kv_set(struct sq *h, const void *arg)
{
	const struct kv_arg *a = arg;
	sqlite3_stmt *st;
	int err = prep(h, a->value ? "INSERT OR REPLACE INTO kv(key, value) "
		       "VALUES (?1, ?2)" : "DELETE FROM kv WHERE key = ?1", &st);

	if (err)
		return err;
	bind_text(st, 1, a->key);
	if (a->value)
		bind_text(st, 2, a->value);
	return run(h, st);
}

static int sq_kv_get(void *handle, const char *key, char *buf, size_t len)
{
	struct kv_arg a = { .key = key, .buf = buf, .len = len };
	int err;

	if (check_str(key, SQ_KEY_MAX) || (!buf && len))
		return -EINVAL;
	err = tx(handle, 0, do_kv_get, &a);
	if (err)
		return err;
	return a.found > 0 ? 0 : a.found < 0 ? -ENOSPC : -ENOENT;
}

static int sq_kv_set(void *handle, const char *key, const char *value)
{
	struct kv_arg a = { .key = key, .value = value };

	if (check_str(key, SQ_KEY_MAX))
		return -EINVAL;
	if (value && strlen(value) >= SQ_VALUE_MAX)
		return -E2BIG;
	return tx(handle, 1, do_kv_set, &a);
}

/* ------------------------------------------------------------------ */
/* open / close                                                         */
/* ------------------------------------------------------------------ */

static int mkdir_p(const char *dir, mode_t mode)
{
	char *p = strdup(dir);
	int err = 0;

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; !err; s++) {
		char c = *s;

		if (c && c != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) && errno != EEXIST)
			err = -errno;
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return err;
}

/* The database file: STATE_DIR/state.db, or PATH (relative to STATE_DIR;
 * a directory gets state.db inside). Creates PATH's parent. */
static int resolve_file(const char *state_dir, const char *path, char **out)
{
	struct stat st;
	char *f = NULL, *slash;
	int r;

	if (!path || !*path)
		r = asprintf(&f, "%s/state.db", state_dir);
	else if (path[0] == '/')
		r = asprintf(&f, "%s", path);
	else
		r = asprintf(&f, "%s/%s", state_dir, path);
	if (r < 0)
		return -ENOMEM;
	if (!stat(f, &st) && S_ISDIR(st.st_mode)) {
		char *g = NULL;

		r = asprintf(&g, "%s/state.db", f);
		free(f);
		if (r < 0)
			return -ENOMEM;
		f = g;
	}
	*out = f;
	slash = strrchr(f, '/');
	if (!path || !*path || !slash || slash == f)
		return 0;
	*slash = '\0';
	r = mkdir_p(f, 0700);
	*slash = '/';
	return r;
}

static void sq_close(void *handle)
{
	struct sq *h = handle;

	if (!h)
		return;
	if (h->batch)
		sq_batch_commit(h);
	disconnect(h);
	free(h->file);
	free(h);
}

static int sq_open(const struct sysg_state_host *host, const char *state_dir,
		   const char *path, void **handle, char *err, size_t errlen)
{
	struct sq *h;
	int e;

	*handle = NULL;
	if (!state_dir || !*state_dir) {
		snprintf(err, errlen, "sqlite: no state directory given");
		return -EINVAL;
	}
	if (!(h = calloc(1, sizeof(*h)))) {
		snprintf(err, errlen, "sqlite: out of memory");
		return -ENOMEM;
	}
	h->host = host;
	e = resolve_file(state_dir, path, &h->file);
	if (e)
		snprintf(err, errlen, "sqlite: cannot create the directory of "
			 "%s: %s", h->file ? h->file : path, strerror(-e));
	else if ((e = db_open(h)))
		snprintf(err, errlen, "sqlite: cannot open %s: %s", h->file,
			 e == -EPROTO ? "its schema is newer than this sysg"
				      : strerror(-e));
	if (e) {
		sq_close(h);
		return e;
	}
	*handle = h;
	return 0;
}

static const struct sysg_state_ops sq_ops = {
	.open = sq_open,
	.close = sq_close,
	.set_pid = sq_set_pid,
	.get_pid = sq_get_pid,
	.list_pids = sq_list_pids,
	.put_unit = sq_put_unit,
	.get_unit = sq_get_unit,
	.remove_unit = sq_remove_unit,
	.list_units = sq_list_units,
	.add_cron_run = sq_add_cron_run,
	.list_cron_runs = sq_list_cron_runs,
	.add_deploy = sq_add_deploy,
	.list_deploys = sq_list_deploys,
	.kv_get = sq_kv_get,
	.kv_set = sq_kv_set,
	.batch_begin = sq_batch_begin,
	.batch_commit = sq_batch_commit,
};

static const struct sysg_plugin sq_plugin = {
	.abi_version = SYSG_PLUGIN_ABI_VERSION,
	.name = "sqlite",
	.kind = SYSG_PLUGIN_STATE,
	.description = "state in one SQLite database (state.db)",
	.strategy = NULL,
	.state = &sq_ops,
};

const struct sysg_plugin *sysg_plugin_entry(void)
{
	return &sq_plugin;
}
