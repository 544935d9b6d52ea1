/* xml.c - the default state backend: systemg-compatible XML files.
 *
 * Where: the state directory, or `state.path` when set (a directory;
 * relative to the state directory when relative; created 0700).
 *
 * Files (all UTF-8, one root element each):
 *
 *   pid.xml           service -> pid, as systemg writes it:
 *                       <PidFile><services><web>67235</web></services></PidFile>
 *                     Also read, as older systemg versions wrote it:
 *                       <PidFile><services><name>web</name><pid>67235</pid>
 *                       </services></PidFile>
 *                     where <name>/<pid> pairs may repeat and several
 *                     <services> elements may appear. Inside <services>,
 *                     <name> directly followed by <pid> is a pair; any
 *                     other element is the first shape. A later entry for
 *                     the same service wins; a bad pid skips the entry.
 *                     Written: a name that is a plain XML name (an ASCII
 *                     letter or '_', then letters, digits, '_', '-', '.';
 *                     not starting with "xml" in any case; not "name" or
 *                     "pid") is its own element in the first <services>.
 *                     Any other name ("my svc", "a/b", "ünï", "name") is a
 *                     <name>/<pid> pair in a second <services> element, where
 *                     the name is element text and so round-trips whatever
 *                     it holds.
 *   state.xml         <State version="1"><unit>...</unit>...</State>, one
 *                     <unit> per struct sysg_unit_record with one child per
 *                     member, named as the member: name kind status pid
 *                     pgid start_ticks started_at_ms updated_at_ms exit_code
 *                     signal restarts reason command. exit_code and signal
 *                     are present only when known (has_exit_code,
 *                     has_signal); empty strings are omitted.
 *   cron_history.xml  <CronHistory version="1"><run>...</run></CronHistory>,
 *                     members of struct sysg_cron_run (name started_at_ms
 *                     completed_at_ms status exit_code); the newest KEEP
 *                     runs of each unit.
 *   deploys.xml       <Deploys version="1"><deploy>...</deploy></Deploys>,
 *                     members of struct sysg_deploy_record, ordered by
 *                     started_at_ms (oldest first), at most 200.
 *   kv.xml            <KeyValues version="1"><entry><key>K</key>
 *                     <value>V</value></entry></KeyValues>
 *   state.lock        empty; its flock serialises every read-modify-write.
 *
 * Text is escaped as XML requires (a CR as &#13;, which parsers would
 * otherwise fold into LF). A string that is not valid UTF-8 made of XML 1.0
 * characters (control characters other than TAB, LF, CR have no XML form)
 * is written as <tag enc="hex">68690a</tag>, its bytes in hex. Numbers are
 * decimal.
 * Unknown elements are ignored (newer files read in older versions); a
 * record with a malformed member is skipped with a warning.
 *
 * Limits: names under 128 bytes, kv keys under 256 and values under 4096
 * bytes (-E2BIG), 4096 pids or units, 1024 keys (-ENOSPC). Lists come sorted
 * by name (byte order); cron runs and deploys newest first.
 *
 * Writes: flock(state.lock, LOCK_EX), read the file, modify, write
 * FILE.new, fsync, rename over FILE, fsync the directory. state.xml and
 * pid.xml, which the supervisor rewrites on every state change, are not
 * read back each time: a handle keeps the table it last read or wrote
 * with an fd open on that file and, under the lock, reparses only when
 * the name no longer leads to that inode unchanged (size, mtime, ctime).
 * The open fd keeps the inode number from being reused, and every writer
 * renames a new file into place, so a change by another process is always
 * seen. Reads take the
 * lock shared and call callbacks after releasing it (so a callback may
 * call back into the store). A file that is empty, over 16 MiB, not
 * well-formed XML, carries a DTD (entities are never expanded; the parser
 * never touches the network) or has the wrong root element is corrupt: it
 * is logged through the host, renamed FILE.corrupt-YYYYmmddTHHMMSSZ[-N]
 * under the exclusive lock (a reader retakes it to do so) and read as
 * empty.
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

#include <libxml/parser.h>
#include <libxml/tree.h>

#define XS_FILE_MAX     (16u << 20)
#define XS_DEPLOYS_KEEP 200
#define XS_CRON_KEEP    1000    /* KEEP is clamped to this */
#define XS_KEY_MAX      256
#define XS_VALUE_MAX    4096
#define XS_LOCK         "state.lock"

struct table {
	const struct rtype *rt;
	char *v;
	size_t n, cap;
};

/* A file's table as this handle last loaded or wrote it; FD (-1: none)
 * is open on that very file, ST its fstat. */
struct fcache {
	struct table t;
	int fd;
	struct stat st;
};

struct xs {
	const struct sysg_state_host *host;
	char *dir;
	int dirfd;
	struct fcache units, pids;      /* state.xml, pid.xml */
	/* in a batch (xs_batch_begin): the exclusive lock held until the
	 * commit, and the cached tables edited but not written yet */
	int batch_lock;                 /* -1: not in a batch */
	int units_held, pids_held;
};

static void xs_log(const struct xs *h, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void xs_log(const struct xs *h, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!h->host || !h->host->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	h->host->log(level, "xml: %s", msg);
}

/* ------------------------------------------------------------------ */
/* Record types: one table of fixed-size structs per file               */
/* ------------------------------------------------------------------ */

struct pid_ent {
	char name[SYSG_NAME_MAX];
	int64_t pid;
};

struct kv_ent {
	char key[XS_KEY_MAX];
	char value[XS_VALUE_MAX];
};

enum ftype { F_STR, F_I64, F_U64, F_INT };

struct field {
	const char *tag;
	enum ftype type;
	size_t off;
	size_t size;
	long has;               /* offset of the int has_ flag, or -1 */
};

#define MEMBER_SIZE(s, m) sizeof(((s *)0)->m)
#define FSTR(s, m) { #m, F_STR, offsetof(s, m), MEMBER_SIZE(s, m), -1 }
#define FNUM(s, m, t) { #m, t, offsetof(s, m), MEMBER_SIZE(s, m), -1 }
#define FOPT(s, m, h) { #m, F_INT, offsetof(s, m), sizeof(int), \
			(long)offsetof(s, h) }

struct rtype {
	const char *file;
	const char *root;
	const char *elem;       /* NULL: pid.xml's own shapes */
	const struct field *f;  /* f[0] is the key when KEYED */
	size_t nf;
	size_t size;
	size_t max;             /* records kept in memory at most */
	int keyed;              /* unique string key, kept sorted */
};

#define U struct sysg_unit_record
static const struct field unit_fields[] = {
	FSTR(U, name), FSTR(U, kind), FSTR(U, status),
	FNUM(U, pid, F_I64), FNUM(U, pgid, F_I64),
	FNUM(U, start_ticks, F_U64), FNUM(U, started_at_ms, F_I64),
	FNUM(U, updated_at_ms, F_I64), FOPT(U, exit_code, has_exit_code),
	FOPT(U, signal, has_signal), FNUM(U, restarts, F_INT),
	FSTR(U, reason), FSTR(U, command),
};
#undef U
#define C struct sysg_cron_run
static const struct field cron_fields[] = {
	FSTR(C, name), FNUM(C, started_at_ms, F_I64),
	FNUM(C, completed_at_ms, F_I64), FSTR(C, status),
	FOPT(C, exit_code, has_exit_code),
};
#undef C
#define D struct sysg_deploy_record
static const struct field deploy_fields[] = {
	FSTR(D, id), FSTR(D, service), FSTR(D, strategy),
	FNUM(D, started_at_ms, F_I64), FNUM(D, duration_ms, F_I64),
	FSTR(D, slot_before), FSTR(D, slot_after), FSTR(D, outcome),
	FSTR(D, reason), FSTR(D, revision), FSTR(D, message),
	FNUM(D, uid, F_I64), FSTR(D, definition),
};
#undef D
static const struct field kv_fields[] = {
	FSTR(struct kv_ent, key), FSTR(struct kv_ent, value),
};
static const struct field pid_fields[] = {
	FSTR(struct pid_ent, name), FNUM(struct pid_ent, pid, F_I64),
};

#define NF(a) (sizeof(a) / sizeof((a)[0]))
static const struct rtype rt_pid = { "pid.xml", "PidFile", NULL,
	pid_fields, NF(pid_fields), sizeof(struct pid_ent), 4096, 1 };
static const struct rtype rt_unit = { "state.xml", "State", "unit",
	unit_fields, NF(unit_fields), sizeof(struct sysg_unit_record), 4096, 1 };
static const struct rtype rt_cron = { "cron_history.xml", "CronHistory", "run",
	cron_fields, NF(cron_fields), sizeof(struct sysg_cron_run), 65536, 0 };
static const struct rtype rt_deploy = { "deploys.xml", "Deploys", "deploy",
	deploy_fields, NF(deploy_fields), sizeof(struct sysg_deploy_record),
	4096, 0 };
static const struct rtype rt_kv = { "kv.xml", "KeyValues", "entry",
	kv_fields, NF(kv_fields), sizeof(struct kv_ent), 1024, 1 };

static void *rec(const struct table *t, size_t i)
{
	return t->v + i * t->rt->size;
}

static const char *rec_key(const struct table *t, const void *r)
{
	return (const char *)r + t->rt->f[0].off;
}

static void tab_free(struct table *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

/* Append a zeroed record: 0, -ENOSPC past the type's maximum, -ENOMEM. */
static int tab_push(struct table *t, void **out)
{
	if (t->n >= t->rt->max)
		return -ENOSPC;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char *v = realloc(t->v, cap * t->rt->size);

		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	*out = rec(t, t->n++);
	memset(*out, 0, t->rt->size);
	return 0;
}

static void tab_del(struct table *t, size_t i)
{
	memmove(rec(t, i), rec(t, i + 1), (t->n - i - 1) * t->rt->size);
	t->n--;
}

/* Insert a copy of R at index I. */
static int tab_insert(struct table *t, size_t i, const void *r)
{
	void *slot;
	int e = tab_push(t, &slot);

	if (e)
		return e;
	memmove(rec(t, i + 1), rec(t, i), (t->n - 1 - i) * t->rt->size);
	memcpy(rec(t, i), r, t->rt->size);
	return 0;
}

static long tab_find(const struct table *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(rec_key(t, rec(t, i)), key))
			return (long)i;
	return -1;
}

static int key_cmp(const void *a, const void *b, void *rt)
{
	size_t off = ((const struct rtype *)rt)->f[0].off;

	return strcmp((const char *)a + off, (const char *)b + off);
}

static void tab_sort(struct table *t)
{
	if (t->rt->keyed && t->n > 1)
		qsort_r(t->v, t->n, t->rt->size, key_cmp, (void *)t->rt);
}

/* Keyed put: replace the record with R's key or add R. */
static int tab_put(struct table *t, const void *r)
{
	long i = tab_find(t, rec_key(t, r));

	if (i >= 0) {
		memcpy(rec(t, (size_t)i), r, t->rt->size);
		return 0;
	}
	return tab_insert(t, t->n, r);
}

/* ------------------------------------------------------------------ */
/* Text: UTF-8 checks, hex, numbers                                     */
/* ------------------------------------------------------------------ */

/* Decode one UTF-8 sequence; its length, or -1 when invalid. */
static int utf8_next(const unsigned char *p, uint32_t *cp)
{
	uint32_t c = p[0], min;
	int n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xE0) == 0xC0) {
		n = 2, c &= 0x1F, min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3, c &= 0x0F, min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4, c &= 0x07, min = 0x10000;
	} else {
		return -1;
	}
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return -1;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF)
		return -1;
	*cp = c;
	return n;
}

/* 1 when S can be written as XML text and read back unchanged (libxml2
 * writes CR as &#13;, so it survives end-of-line normalisation). */
static int xml_safe(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c;
	int n;

	while (*p) {
		n = utf8_next(p, &c);
		if (n < 0)
			return 0;
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			return 0;
		if ((c >= 0xD800 && c <= 0xDFFF) || c == 0xFFFE || c == 0xFFFF)
			return 0;
		p += n;
	}
	return 1;
}

static char *hex_encode(const char *s)
{
	static const char dig[] = "0123456789abcdef";
	size_t n = strlen(s);
	char *out = malloc(2 * n + 1), *o = out;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		*o++ = dig[*p >> 4];
		*o++ = dig[*p & 15];
	}
	*o = '\0';
	return out;
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode hex text; NULL when malformed or it would hold a NUL byte. */
static char *hex_decode(const char *s)
{
	size_t n = strlen(s);
	char *out = n % 2 ? NULL : malloc(n / 2 + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_val(s[i]), lo = hex_val(s[i + 1]);

		if (hi < 0 || lo < 0 || (hi | lo) == 0) {
			free(out);
			return NULL;
		}
		out[i / 2] = (char)(hi << 4 | lo);
	}
	out[n / 2] = '\0';
	return out;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* 0 when strto*() read a number from S up to END, only blanks follow. */
static int num_end(const char *s, const char *end)
{
	if (errno || end == s)
		return -1;
	while (is_space(*end))
		end++;
	return *end ? -1 : 0;
}

/* Decimal integer with optional surrounding blanks. 0 or -1. */
static int parse_i64(const char *s, int64_t *v)
{
	char *end;
	long long x;

	while (is_space(*s))
		s++;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (num_end(s, end))
		return -1;
	*v = x;
	return 0;
}

/* The same, unsigned: a sign is refused rather than wrapped. */
static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	while (is_space(*s))
		s++;
	if (*s == '-' || *s == '+')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (num_end(s, end))
		return -1;
	*v = x;
	return 0;
}

/* Copy S into DST[SIZE], cutting at a character boundary; 1 if cut. */
static int copy_cut(char *dst, size_t size, const char *s)
{
	size_t n = strlen(s);
	int cut = n >= size;

	if (cut) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	return cut;
}

/* 0 when S is a non-empty string shorter than MAX. */
static int check_str(const char *s, size_t max)
{
	return s && *s && strnlen(s, max) < max ? 0 : -EINVAL;
}

/* 0 when every string member of R is NUL-terminated within its array. */
static int check_rec(const struct rtype *rt, const void *r)
{
	for (size_t i = 0; i < rt->nf; i++) {
		const struct field *f = &rt->f[i];

		if (f->type == F_STR &&
		    strnlen((const char *)r + f->off, f->size) >= f->size)
			return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* XML <-> records                                                      */
/* ------------------------------------------------------------------ */

static xmlNode *elem_from(xmlNode *n)
{
	while (n && n->type != XML_ELEMENT_NODE)
		n = n->next;
	return n;
}

static int name_is(const xmlNode *n, const char *name)
{
	return xmlStrEqual(n->name, (const xmlChar *)name);
}

/* The text of element N, decoding enc="hex"; malloc'd, NULL when bad. */
static char *node_text(xmlNode *n)
{
	xmlChar *c = xmlNodeGetContent(n);
	xmlChar *enc = xmlGetProp(n, (const xmlChar *)"enc");
	const char *s = c ? (const char *)c : "";
	char *out = NULL;

	if (!enc)
		out = strdup(s);
	else if (xmlStrEqual(enc, (const xmlChar *)"hex"))
		out = hex_decode(s);
	xmlFree(c);
	xmlFree(enc);
	return out;
}

/* Add <TAG>S</TAG> to PARENT, hex-encoded when S is not XML-safe. */
static int text_child(xmlNode *parent, const char *tag, const char *s)
{
	char *hex = NULL;
	xmlNode *c;

	if (!xml_safe(s) && !(hex = hex_encode(s)))
		return -ENOMEM;
	c = xmlNewTextChild(parent, NULL, (const xmlChar *)tag,
			    (const xmlChar *)(hex ? hex : s));
	if (c && hex && !xmlNewProp(c, (const xmlChar *)"enc",
				    (const xmlChar *)"hex"))
		c = NULL;
	free(hex);
	return c ? 0 : -ENOMEM;
}

static const struct field *field_find(const struct rtype *rt, const xmlChar *tag)
{
	for (size_t i = 0; i < rt->nf; i++)
		if (xmlStrEqual(tag, (const xmlChar *)rt->f[i].tag))
			return &rt->f[i];
	return NULL;
}

/* Set member F of R from text S. 0, -1 when malformed; *CUT set if cut. */
static int field_set(void *r, const struct field *f, const char *s, int *cut)
{
	char *p = (char *)r + f->off;
	int64_t v;

	switch (f->type) {
	case F_STR:
		*cut |= copy_cut(p, f->size, s);
		return 0;
	case F_I64:
		return parse_i64(s, (int64_t *)(void *)p);
	case F_U64:
		return parse_u64(s, (uint64_t *)(void *)p);
	case F_INT:
		if (parse_i64(s, &v) || v < INT_MIN || v > INT_MAX)
			return -1;
		*(int *)(void *)p = (int)v;
		if (f->has >= 0)
			*(int *)(void *)((char *)r + f->has) = 1;
		return 0;
	}
	return -1;
}

/* Fill R from record element E. 0, or -1 (logged) when it is unusable. */
static int rec_parse(const struct xs *h, const struct rtype *rt, xmlNode *e,
		     void *r)
{
	int cut = 0;

	for (xmlNode *c = elem_from(e->children); c; c = elem_from(c->next)) {
		const struct field *f = field_find(rt, c->name);
		char *s;
		int bad;

		if (!f)
			continue;
		s = node_text(c);
		bad = !s || field_set(r, f, s, &cut);
		free(s);
		if (bad) {
			xs_log(h, SYSG_LOG_WARN, "%s/%s:%ld: bad <%s> in <%s>, "
			       "record skipped", h->dir, rt->file,
			       xmlGetLineNo(c), f->tag, rt->elem);
			return -1;
		}
	}
	if (rt->keyed && !*((const char *)r + rt->f[0].off)) {
		xs_log(h, SYSG_LOG_WARN, "%s/%s:%ld: <%s> without <%s>, skipped",
		       h->dir, rt->file, xmlGetLineNo(e), rt->elem, rt->f[0].tag);
		return -1;
	}
	if (cut)
		xs_log(h, SYSG_LOG_WARN, "%s/%s:%ld: over-long text cut short",
		       h->dir, rt->file, xmlGetLineNo(e));
	return 0;
}

/* Drop the last record when an earlier one has its key (later wins). */
static void tab_dedupe_last(struct table *t)
{
	const char *key;

	if (!t->rt->keyed)
		return;
	key = rec_key(t, rec(t, t->n - 1));
	for (size_t i = 0; i + 1 < t->n; i++) {
		if (!strcmp(rec_key(t, rec(t, i)), key)) {
			memcpy(rec(t, i), rec(t, t->n - 1), t->rt->size);
			t->n--;
			return;
		}
	}
}

static int recs_parse(const struct xs *h, xmlNode *root, struct table *t)
{
	for (xmlNode *e = elem_from(root->children); e; e = elem_from(e->next)) {
		void *r;
		int err;

		if (!name_is(e, t->rt->elem))
			continue;
		err = tab_push(t, &r);
		if (err == -ENOSPC) {
			xs_log(h, SYSG_LOG_WARN, "%s/%s: more than %zu records, "
			       "the rest ignored", h->dir, t->rt->file, t->rt->max);
			return 0;
		}
		if (err)
			return err;
		if (rec_parse(h, t->rt, e, r))
			t->n--;
		else
			tab_dedupe_last(t);
	}
	return 0;
}

static int field_build(xmlNode *e, const void *r, const struct field *f)
{
	const char *p = (const char *)r + f->off;
	char num[32];

	switch (f->type) {
	case F_STR:
		return *p ? text_child(e, f->tag, p) : 0;
	case F_I64:
		snprintf(num, sizeof(num), "%" PRId64, *(const int64_t *)(const void *)p);
		break;
	case F_U64:
		snprintf(num, sizeof(num), "%" PRIu64, *(const uint64_t *)(const void *)p);
		break;
	case F_INT:
		if (f->has >= 0 && !*(const int *)(const void *)((const char *)r + f->has))
			return 0;
		snprintf(num, sizeof(num), "%d", *(const int *)(const void *)p);
		break;
	}
	return text_child(e, f->tag, num);
}

static int recs_build(xmlNode *root, const struct table *t)
{
	if (!xmlNewProp(root, (const xmlChar *)"version", (const xmlChar *)"1"))
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		xmlNode *e = xmlNewChild(root, NULL,
					 (const xmlChar *)t->rt->elem, NULL);

		if (!e)
			return -ENOMEM;
		for (size_t k = 0; k < t->rt->nf; k++)
			if (field_build(e, rec(t, i), &t->rt->f[k]))
				return -ENOMEM;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* pid.xml: two shapes in, systemg's shape out                          */
/* ------------------------------------------------------------------ */

static int pid_add(const struct xs *h, struct table *t, const char *name,
		   const char *val, long line)
{
	struct pid_ent e = { .pid = 0 };
	int err;

	if (!name || check_str(name, SYSG_NAME_MAX) || !val ||
	    parse_i64(val, &e.pid) || e.pid <= 0 || e.pid > INT_MAX) {
		xs_log(h, SYSG_LOG_WARN, "%s/pid.xml:%ld: bad entry skipped",
		       h->dir, line);
		return 0;
	}
	strcpy(e.name, name);
	err = tab_put(t, &e);
	return err == -ENOSPC ? 0 : err;
}

/* <name>N</name><pid>P</pid> */
static int pid_pair(const struct xs *h, struct table *t, xmlNode *n, xmlNode *p)
{
	char *name = node_text(n), *val = node_text(p);
	int err = pid_add(h, t, name, val, xmlGetLineNo(n));

	free(name);
	free(val);
	return err;
}

/* <N>P</N> */
static int pid_elem(const struct xs *h, struct table *t, xmlNode *e)
{
	char *val = node_text(e);
	int err = pid_add(h, t, (const char *)e->name, val, xmlGetLineNo(e));

	free(val);
	return err;
}

static int pid_parse(const struct xs *h, xmlNode *root, struct table *t)
{
	for (xmlNode *s = elem_from(root->children); s; s = elem_from(s->next)) {
		if (!name_is(s, "services"))
			continue;
		for (xmlNode *c = elem_from(s->children); c; c = elem_from(c->next)) {
			xmlNode *p = elem_from(c->next);
			int err;

			if (name_is(c, "name") && p && name_is(p, "pid")) {
				err = pid_pair(h, t, c, p);
				c = p;
			} else {
				err = pid_elem(h, t, c);
			}
			if (err)
				return err;
		}
	}
	return 0;
}

/* 1 when NAME can be written as an element name without ambiguity. */
static int plain_name(const char *s)
{
	if (!strcmp(s, "name") || !strcmp(s, "pid") ||
	    !strncasecmp(s, "xml", 3))
		return 0;
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || strchr("_-.", *s)))
			return 0;
	return 1;
}

static int pid_build(xmlNode *root, const struct table *t)
{
	xmlNode *plain = xmlNewChild(root, NULL, (const xmlChar *)"services", NULL);
	xmlNode *odd = NULL;
	char num[32];

	if (!plain)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		const struct pid_ent *e = rec(t, i);

		snprintf(num, sizeof(num), "%" PRId64, e->pid);
		if (plain_name(e->name)) {
			if (!xmlNewTextChild(plain, NULL, (const xmlChar *)e->name,
					     (const xmlChar *)num))
				return -ENOMEM;
			continue;
		}
		if (!odd && !(odd = xmlNewChild(root, NULL,
						(const xmlChar *)"services", NULL)))
			return -ENOMEM;
		if (text_child(odd, "name", e->name) || text_child(odd, "pid", num))
			return -ENOMEM;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Files: read, parse, keep aside, write atomically                     */
/* ------------------------------------------------------------------ */

/* Read FD to its end; HINT: its expected size. */
static int read_fd(int fd, size_t hint, char **buf, size_t *len)
{
	size_t cap = 0, n = 0;
	char *b = NULL, *nb;
	ssize_t k;

	for (;;) {
		if (n == cap) {
			if (cap > XS_FILE_MAX) {
				free(b);
				return -EFBIG;
			}
			cap = cap ? cap * 2 : hint + 1;
			if (cap > XS_FILE_MAX + 1)
				cap = XS_FILE_MAX + 1;
			if (!(nb = realloc(b, cap))) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
		}
		k = read(fd, b + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	if (k < 0) {
		k = -errno;
		free(b);
		return (int)k;
	}
	*buf = b;
	*len = n;
	return 0;
}

/* Read FILE whole: 0, -ENOENT, -EFBIG past XS_FILE_MAX, -errno. */
static int file_read(const struct xs *h, const char *file, char **buf,
		     size_t *len)
{
	int fd = openat(h->dirfd, file, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
			O_NOFOLLOW | O_NOCTTY);
	struct stat st;
	int err;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	else if ((uint64_t)st.st_size > XS_FILE_MAX)
		err = -EFBIG;
	else
		err = read_fd(fd, (size_t)st.st_size, buf, len);
	close(fd);
	return err;
}

/* Parse BUF into T. 0, -ENOMEM, or -EBADMSG with the reason in WHY. */
static int parse_buf(const struct xs *h, struct table *t, const char *buf,
		     size_t len, char *why, size_t wlen)
{
	xmlParserCtxt *ctxt;
	xmlDoc *doc;
	xmlNode *root;
	int err;

	if (!buf || len == 0) {
		snprintf(why, wlen, "empty file");
		return -EBADMSG;
	}
	if (memmem(buf, len, "<!DOCTYPE", 9) || memmem(buf, len, "<!ENTITY", 8)) {
		snprintf(why, wlen, "has a DTD, which sysg never writes");
		return -EBADMSG;
	}
	if (!(ctxt = xmlNewParserCtxt()))
		return -ENOMEM;
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, t->rt->file, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR |
				XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);

		snprintf(why, wlen, "not well-formed XML, line %d: %.120s",
			 e ? e->line : 0, e && e->message ? e->message : "?");
		why[strcspn(why, "\n")] = '\0';
		xmlFreeParserCtxt(ctxt);
		return -EBADMSG;
	}
	xmlFreeParserCtxt(ctxt);
	root = xmlDocGetRootElement(doc);
	if (!root || !name_is(root, t->rt->root)) {
		snprintf(why, wlen, "root element is <%.60s>, expected <%s>",
			 root ? (const char *)root->name : "", t->rt->root);
		xmlFreeDoc(doc);
		return -EBADMSG;
	}
	err = t->rt->elem ? recs_parse(h, root, t) : pid_parse(h, root, t);
	xmlFreeDoc(doc);
	return err;
}

/* Rename a corrupt FILE to FILE.corrupt-<UTC time>[-N]. */
static void keep_aside(const struct xs *h, const char *file, const char *why)
{
	char name[256], ts[32];
	struct tm tm;
	struct stat st;
	time_t now = time(NULL);

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	for (int i = 0; i < 1000; i++) {
		if (i)
			snprintf(name, sizeof(name), "%s.corrupt-%s-%d", file, ts, i);
		else
			snprintf(name, sizeof(name), "%s.corrupt-%s", file, ts);
		if (!fstatat(h->dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (renameat(h->dirfd, file, h->dirfd, name))
			break;
		fsync(h->dirfd);
		xs_log(h, SYSG_LOG_WARN, "%s/%s is corrupt (%s); kept aside as "
		       "%s, starting from an empty one", h->dir, file, why, name);
		return;
	}
	xs_log(h, SYSG_LOG_WARN, "%s/%s is corrupt (%s) and could not be "
	       "moved aside (%s); reading it as empty", h->dir, file, why,
	       strerror(errno));
}

enum lmode {
	L_PROBE,        /* corrupt: return -EBADMSG quietly */
	L_RECOVER,      /* corrupt: log, keep aside, read as empty (EX lock held) */
	L_TOLERATE,     /* corrupt: log, read as empty */
};

/* Load T's file into T (sorted when keyed). A missing file is empty. */
static int load(const struct xs *h, struct table *t, enum lmode mode)
{
	char why[256], *buf = NULL;
	size_t len = 0;
	int err = file_read(h, t->rt->file, &buf, &len);

	if (err == -ENOENT)
		return 0;
	if (err == -EFBIG) {
		snprintf(why, sizeof(why), "larger than %u bytes", XS_FILE_MAX);
		err = -EBADMSG;
	} else if (err) {
		xs_log(h, SYSG_LOG_ERROR, "cannot read %s/%s: %s", h->dir,
		       t->rt->file, err == -EISDIR ? "it is a directory, not "
		       "a file (move it away)" : err == -EINVAL ? "not a "
		       "regular file (move it away)" : err == -ELOOP ? "it is a "
		       "symbolic link (refused; move it away)" : strerror(-err));
		return err;
	} else {
		err = parse_buf(h, t, buf, len, why, sizeof(why));
		free(buf);
	}
	if (err != -EBADMSG) {
		tab_sort(t);
		return err;
	}
	t->n = 0;
	if (mode == L_PROBE)
		return -EBADMSG;
	if (mode == L_RECOVER)
		keep_aside(h, t->rt->file, why);
	else
		xs_log(h, SYSG_LOG_WARN, "%s/%s is corrupt (%s); reading it as "
		       "empty", h->dir, t->rt->file, why);
	return 0;
}

static int write_full(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Write FILE.new, fsync, rename it over FILE, fsync the directory. */
static int write_atomic(const struct xs *h, const char *file, const char *data,
		       size_t len)
{
	char tmp[256];
	int fd, err;

	snprintf(tmp, sizeof(tmp), "%s.new", file);
	fd = openat(h->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	err = write_full(fd, data, len);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && renameat(h->dirfd, tmp, h->dirfd, file))
		err = -errno;
	if (err)
		unlinkat(h->dirfd, tmp, 0);
	else
		fsync(h->dirfd);
fail:
	if (err)
		xs_log(h, SYSG_LOG_ERROR, "cannot write %s/%s: %s", h->dir, file,
		       strerror(-err));
	return err;
}

static int save(const struct xs *h, struct table *t)
{
	xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNode *root = doc ? xmlNewDocNode(doc, NULL,
					    (const xmlChar *)t->rt->root, NULL) : NULL;
	xmlChar *mem = NULL;
	int len = 0, err;

	if (!root) {
		xmlFreeDoc(doc);
		return -ENOMEM;
	}
	xmlDocSetRootElement(doc, root);
	tab_sort(t);
	err = t->rt->elem ? recs_build(root, t) : pid_build(root, t);
	if (!err)
		xmlDocDumpFormatMemoryEnc(doc, &mem, &len, "UTF-8", 1);
	if (!err)
		err = mem && len > 0 ? write_atomic(h, t->rt->file, (char *)mem,
						    (size_t)len) : -ENOMEM;
	xmlFree(mem);
	xmlFreeDoc(doc);
	return err;
}

/* ------------------------------------------------------------------ */
/* Locking and the read / read-modify-write skeletons                   */
/* ------------------------------------------------------------------ */

/* flock state.lock with OP; the fd, or -errno. */
static int lock_take(const struct xs *h, int op)
{
	int fd = openat(h->dirfd, XS_LOCK, O_RDWR | O_CREAT | O_CLOEXEC |
			O_NOFOLLOW, 0600);

	if (fd < 0 && op == LOCK_SH && (errno == EACCES || errno == EROFS))
		fd = openat(h->dirfd, XS_LOCK, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	while (flock(fd, op) < 0) {
		int err = -errno;

		if (err != -EINTR) {
			close(fd);
			return err;
		}
	}
	return fd;
}

static void lock_drop(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Load T under a shared lock; a corrupt file is recovered under an
 * exclusive one (or read as empty where the lock cannot be had). */
static int read_table(const struct xs *h, struct table *t)
{
	int lk, err;

	if (h->batch_lock >= 0)         /* our exclusive lock is held */
		return load(h, t, L_RECOVER);
	lk = lock_take(h, LOCK_SH);
	err = load(h, t, L_PROBE);
	lock_drop(lk);
	if (err != -EBADMSG)
		return err;
	lk = lock_take(h, LOCK_EX);
	err = load(h, t, lk >= 0 ? L_RECOVER : L_TOLERATE);
	lock_drop(lk);
	return err;
}

/* An edit: >0 when T changed (to be written), 0 unchanged, <0 error. */
typedef int (*edit_fn)(struct table *t, const void *arg);

static void cache_drop(struct fcache *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->t.n = 0;
}

static int same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* 1 when C's file is still the inode C holds, unchanged. */
static int cache_fresh(const struct xs *h, const struct fcache *c)
{
	struct stat st;

	return c->fd >= 0 &&
	       !fstatat(h->dirfd, c->t.rt->file, &st, AT_SYMLINK_NOFOLLOW) &&
	       st.st_dev == c->st.st_dev && st.st_ino == c->st.st_ino &&
	       st.st_size == c->st.st_size &&
	       same_time(&st.st_mtim, &c->st.st_mtim) &&
	       same_time(&st.st_ctim, &c->st.st_ctim);
}

/* Hold the file C's table now matches (none when it is absent). */
static void cache_pin(const struct xs *h, struct fcache *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = openat(h->dirfd, c->t.rt->file,
		       O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (c->fd >= 0 && fstat(c->fd, &c->st)) {
		close(c->fd);
		c->fd = -1;
	}
}

/* The files the supervisor rewrites on every state change. */
static struct fcache *cache_of(struct xs *h, const struct rtype *rt)
{
	return rt == &rt_unit ? &h->units : rt == &rt_pid ? &h->pids : NULL;
}

static int modify(struct xs *h, const struct rtype *rt, edit_fn fn,
		  const void *arg)
{
	struct fcache tmp = { .t = { .rt = rt }, .fd = -1 };
	struct fcache *c = cache_of(h, rt);
	int *held = rt == &rt_unit ? &h->units_held : rt == &rt_pid ?
		    &h->pids_held : NULL;
	int batch = h->batch_lock >= 0 && held;
	int lk = h->batch_lock >= 0 ? h->batch_lock : lock_take(h, LOCK_EX);
	int err = 0, fresh, wrote = 0;

	if (lk < 0) {
		xs_log(h, SYSG_LOG_ERROR, "cannot lock %s/%s: %s", h->dir,
		       XS_LOCK, strerror(-lk));
		return lk;
	}
	if (!c)
		c = &tmp;
	/* under the batch's lock nobody else writes: held edits stand */
	fresh = (batch && *held) || cache_fresh(h, c);
	if (!fresh) {
		cache_drop(c);
		err = load(h, &c->t, L_RECOVER);
	}
	if (!err && (err = fn(&c->t, arg)) > 0 && batch) {
		*held = 1;      /* written by xs_batch_commit */
		err = 0;
	} else if (err > 0) {
		wrote = 1;
		err = save(h, &c->t);
	}
	if (err < 0 || c == &tmp) {
		cache_drop(c);
		if (held)
			*held = 0;
	} else if (!fresh || wrote) {
		cache_pin(h, c);
	}
	if (lk != h->batch_lock)
		lock_drop(lk);
	tab_free(&tmp.t);
	return err < 0 ? err : 0;
}

/* ------------------------------------------------------------------ */
/* Batches: one rewrite per file for many changes                       */
/* ------------------------------------------------------------------ */

static int xs_batch_begin(void *handle)
{
	struct xs *h = handle;
	int lk;

	if (h->batch_lock >= 0)
		return -EBUSY;
	if ((lk = lock_take(h, LOCK_EX)) < 0) {
		xs_log(h, SYSG_LOG_ERROR, "cannot lock %s/%s: %s", h->dir,
		       XS_LOCK, strerror(-lk));
		return lk;
	}
	h->batch_lock = lk;
	return 0;
}

/* Write C's table if the batch changed it. */
static int commit_one(struct xs *h, struct fcache *c, int *held)
{
	int err;

	if (!*held)
		return 0;
	*held = 0;
	if ((err = save(h, &c->t)) < 0)
		cache_drop(c);  /* reloaded from the file next time */
	else
		cache_pin(h, c);
	return err;
}

static int xs_batch_commit(void *handle)
{
	struct xs *h = handle;
	int err, e2;

	if (h->batch_lock < 0)
		return -EINVAL;
	err = commit_one(h, &h->units, &h->units_held);
	e2 = commit_one(h, &h->pids, &h->pids_held);
	lock_drop(h->batch_lock);
	h->batch_lock = -1;
	return err ? err : e2;
}

/* ------------------------------------------------------------------ */
/* Edits                                                                */
/* ------------------------------------------------------------------ */

static int edit_put(struct table *t, const void *r)
{
	int err = tab_put(t, r);

	return err ? err : 1;
}

static int edit_del(struct table *t, const void *key)
{
	long i = tab_find(t, key);

	if (i < 0)
		return 0;
	tab_del(t, (size_t)i);
	return 1;
}

static int edit_pid(struct table *t, const void *arg)
{
	const struct pid_ent *e = arg;
	long i;

	if (e->pid == 0)
		return edit_del(t, e->name);
	i = tab_find(t, e->name);
	if (i >= 0 && ((struct pid_ent *)rec(t, (size_t)i))->pid == e->pid)
		return 0;
	return edit_put(t, e);
}

struct cron_arg {
	const struct sysg_cron_run *r;
	int keep;
};

/* Index of the oldest run of NAME, and how many runs it has. */
static size_t cron_oldest(const struct table *t, const char *name, size_t *count)
{
	size_t old = 0;

	*count = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct sysg_cron_run *c = rec(t, i);

		if (strcmp(c->name, name))
			continue;
		if (!(*count)++ || c->started_at_ms <
		    ((const struct sysg_cron_run *)rec(t, old))->started_at_ms)
			old = i;
	}
	return old;
}

static int edit_cron(struct table *t, const void *arg)
{
	const struct cron_arg *a = arg;
	size_t count, old;
	int err;

	for (size_t i = 0; i < t->n; i++) {
		struct sysg_cron_run *c = rec(t, i);

		if (!strcmp(c->name, a->r->name) &&
		    c->started_at_ms == a->r->started_at_ms) {
			memcpy(c, a->r, sizeof(*c));
			return 1;
		}
	}
	err = tab_insert(t, t->n, a->r);
	if (err)
		return err;
	for (;;) {
		old = cron_oldest(t, a->r->name, &count);
		if (count <= (size_t)a->keep)
			return 1;
		tab_del(t, old);
	}
}

static int edit_deploy(struct table *t, const void *arg)
{
	const struct sysg_deploy_record *d = arg;
	size_t i;
	int err;

	for (i = 0; d->id[0] && i < t->n; i++) {
		if (!strcmp(((struct sysg_deploy_record *)rec(t, i))->id, d->id)) {
			tab_del(t, i);
			break;
		}
	}
	i = t->n;
	while (i > 0 && ((struct sysg_deploy_record *)rec(t, i - 1))->started_at_ms >
	       d->started_at_ms)
		i--;
	err = tab_insert(t, i, d);
	if (err)
		return err;
	while (t->n > XS_DEPLOYS_KEEP)
		tab_del(t, 0);
	return 1;
}

/* ------------------------------------------------------------------ */
/* The vtable                                                           */
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

/* The directory to use: PATH (relative to STATE_DIR) or STATE_DIR. */
static char *resolve_dir(const char *state_dir, const char *path)
{
	char *dir = NULL;

	if (!path || !*path)
		return strdup(state_dir);
	if (path[0] == '/')
		return strdup(path);
	if (asprintf(&dir, "%s/%s", state_dir, path) < 0)
		return NULL;
	return dir;
}

static int xs_open(const struct sysg_state_host *host, const char *state_dir,
		   const char *path, void **handle, char *err, size_t errlen)
{
	struct xs *h = NULL;
	char *dir;
	int e = 0;

	*handle = NULL;
	if (!state_dir || !*state_dir) {
		snprintf(err, errlen, "xml: no state directory given");
		return -EINVAL;
	}
	if (!(dir = resolve_dir(state_dir, path)) || !(h = calloc(1, sizeof(*h)))) {
		free(dir);
		snprintf(err, errlen, "xml: out of memory");
		return -ENOMEM;
	}
	if (path && *path && (e = mkdir_p(dir, 0700)))
		snprintf(err, errlen, "xml: cannot create %s: %s", dir, strerror(-e));
	else if ((h->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		snprintf(err, errlen, "xml: cannot open state directory %s: %s",
			 dir, strerror(e = errno));
	if (e) {
		free(dir);
		free(h);
		return e < 0 ? e : -e;
	}
	xmlInitParser();
	h->host = host;
	h->dir = dir;
	h->units = (struct fcache){ .t = { .rt = &rt_unit }, .fd = -1 };
	h->pids = (struct fcache){ .t = { .rt = &rt_pid }, .fd = -1 };
	h->batch_lock = -1;
	*handle = h;
	return 0;
}

static void xs_close(void *handle)
{
	struct xs *h = handle;

	if (!h)
		return;
	if (h->batch_lock >= 0)
		xs_batch_commit(h);
	cache_drop(&h->units);
	cache_drop(&h->pids);
	tab_free(&h->units.t);
	tab_free(&h->pids.t);
	close(h->dirfd);
	free(h->dir);
	free(h);
}

static int xs_set_pid(void *handle, const char *name, int64_t pid)
{
	struct pid_ent e = { .pid = pid };

	if (check_str(name, SYSG_NAME_MAX) || pid < 0 || pid > INT_MAX)
		return -EINVAL;
	strcpy(e.name, name);
	return modify(handle, &rt_pid, edit_pid, &e);
}

static int xs_get_pid(void *handle, const char *name, int64_t *pid)
{
	struct table t = { .rt = &rt_pid };
	long i = -1;
	int err;

	if (check_str(name, SYSG_NAME_MAX))
		return -EINVAL;
	err = read_table(handle, &t);
	if (!err && (i = tab_find(&t, name)) < 0)
		err = -ENOENT;
	else if (!err)
		*pid = ((struct pid_ent *)rec(&t, (size_t)i))->pid;
	tab_free(&t);
	return err;
}

static int xs_list_pids(void *handle, sysg_pid_cb cb, void *arg)
{
	struct table t = { .rt = &rt_pid };
	int err = read_table(handle, &t);

	for (size_t i = 0; !err && i < t.n; i++) {
		const struct pid_ent *e = rec(&t, i);

		if (cb(arg, e->name, e->pid))
			break;
	}
	tab_free(&t);
	return err;
}

static int xs_put_unit(void *handle, const struct sysg_unit_record *u)
{
	if (!u || check_str(u->name, SYSG_NAME_MAX) || check_rec(&rt_unit, u))
		return -EINVAL;
	return modify(handle, &rt_unit, edit_put, u);
}

static int xs_get_unit(void *handle, const char *name,
		       struct sysg_unit_record *out)
{
	struct table t = { .rt = &rt_unit };
	long i = -1;
	int err;

	if (check_str(name, SYSG_NAME_MAX))
		return -EINVAL;
	err = read_table(handle, &t);
	if (!err && (i = tab_find(&t, name)) < 0)
		err = -ENOENT;
	else if (!err)
		memcpy(out, rec(&t, (size_t)i), sizeof(*out));
	tab_free(&t);
	return err;
}

static int xs_remove_unit(void *handle, const char *name)
{
	if (check_str(name, SYSG_NAME_MAX))
		return -EINVAL;
	return modify(handle, &rt_unit, edit_del, name);
}

static int xs_list_units(void *handle, sysg_unit_cb cb, void *arg)
{
	struct table t = { .rt = &rt_unit };
	int err = read_table(handle, &t);

	for (size_t i = 0; !err && i < t.n; i++)
		if (cb(arg, rec(&t, i)))
			break;
	tab_free(&t);
	return err;
}

static int xs_add_cron_run(void *handle, const struct sysg_cron_run *r,
			   int keep)
{
	struct cron_arg a = { r, keep > XS_CRON_KEEP ? XS_CRON_KEEP : keep };

	if (!r || keep < 1 || check_str(r->name, SYSG_NAME_MAX) ||
	    check_rec(&rt_cron, r))
		return -EINVAL;
	return modify(handle, &rt_cron, edit_cron, &a);
}

/* Newest first; equal start times: the later record first. */
static int run_cmp(const void *a, const void *b)
{
	const struct sysg_cron_run *x = *(const struct sysg_cron_run *const *)a;
	const struct sysg_cron_run *y = *(const struct sysg_cron_run *const *)b;

	if (x->started_at_ms != y->started_at_ms)
		return x->started_at_ms < y->started_at_ms ? 1 : -1;
	return x < y ? 1 : x > y ? -1 : 0;
}

static int xs_list_cron_runs(void *handle, const char *name,
			     sysg_cron_run_cb cb, void *arg)
{
	struct table t = { .rt = &rt_cron };
	const struct sysg_cron_run **v = NULL;
	size_t n = 0;
	int err = read_table(handle, &t);

	if (!err && t.n && !(v = calloc(t.n, sizeof(*v))))
		err = -ENOMEM;
	for (size_t i = 0; !err && i < t.n; i++) {
		const struct sysg_cron_run *c = rec(&t, i);

		if (!name || !strcmp(c->name, name))
			v[n++] = c;
	}
	if (n)
		qsort(v, n, sizeof(*v), run_cmp);
	for (size_t i = 0; i < n; i++)
		if (cb(arg, v[i]))
			break;
	free(v);
	tab_free(&t);
	return err;
}

static int xs_add_deploy(void *handle, const struct sysg_deploy_record *d)
{
	if (!d || check_rec(&rt_deploy, d))
		return -EINVAL;
	return modify(handle, &rt_deploy, edit_deploy, d);
}

static int xs_list_deploys(void *handle, const char *service,
			   sysg_deploy_cb cb, void *arg)
{
	struct table t = { .rt = &rt_deploy };
	int err = read_table(handle, &t);

	for (size_t i = t.n; !err && i > 0; i--) {
		const struct sysg_deploy_record *d = rec(&t, i - 1);

		if (service && strcmp(d->service, service))
			continue;
		if (cb(arg, d))
			break;
	}
	tab_free(&t);
	return err;
}

static int xs_kv_get(void *handle, const char *key, char *buf, size_t len)
{
	struct table t = { .rt = &rt_kv };
	const struct kv_ent *e;
	long i = -1;
	int err;

	if (check_str(key, XS_KEY_MAX) || (!buf && len))
		return -EINVAL;
	err = read_table(handle, &t);
	if (!err && (i = tab_find(&t, key)) < 0)
		err = -ENOENT;
	if (!err) {
		e = rec(&t, (size_t)i);
		if (strlen(e->value) >= len)
			err = -ENOSPC;
		else
			strcpy(buf, e->value);
	}
	tab_free(&t);
	return err;
}

static int xs_kv_set(void *handle, const char *key, const char *value)
{
	struct kv_ent *e;
	int err;

	if (check_str(key, XS_KEY_MAX))
		return -EINVAL;
	if (!value)
		return modify(handle, &rt_kv, edit_del, key);
	if (strlen(value) >= XS_VALUE_MAX)
		return -E2BIG;
	if (!(e = calloc(1, sizeof(*e))))
		return -ENOMEM;
	strcpy(e->key, key);
	strcpy(e->value, value);
	err = modify(handle, &rt_kv, edit_put, e);
	free(e);
	return err;
}

static const struct sysg_state_ops xs_ops = {
	.open = xs_open,
	.close = xs_close,
	.set_pid = xs_set_pid,
	.get_pid = xs_get_pid,
	.list_pids = xs_list_pids,
	.put_unit = xs_put_unit,
	.get_unit = xs_get_unit,
	.remove_unit = xs_remove_unit,
	.list_units = xs_list_units,
	.add_cron_run = xs_add_cron_run,
	.list_cron_runs = xs_list_cron_runs,
	.add_deploy = xs_add_deploy,
	.list_deploys = xs_list_deploys,
	.kv_get = xs_kv_get,
	.kv_set = xs_kv_set,
	.batch_begin = xs_batch_begin,
	.batch_commit = xs_batch_commit,
};

static const struct sysg_plugin xs_plugin = {
	.abi_version = SYSG_PLUGIN_ABI_VERSION,
	.name = "xml",
	.kind = SYSG_PLUGIN_STATE,
	.description = "state in systemg-compatible XML files (pid.xml, state.xml)",
	.strategy = NULL,
	.state = &xs_ops,
};

const struct sysg_plugin *sysg_plugin_entry(void)
{
	return &xs_plugin;
}
