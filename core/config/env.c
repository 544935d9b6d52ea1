/* env.c - environment arrays, env files and ${VAR} expansion. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "env.h"

#define ENV_FILE_MAX (4 << 20)  /* larger env files are refused */

/* ------------------------------------------------------------ arrays */

static size_t env_count(char *const *env)
{
	size_t n = 0;

	while (env && env[n])
		n++;
	return n;
}

char **sysg_env_dup(char *const *envp)
{
	size_t n = env_count(envp);
	char **out = calloc(n + 1, sizeof(*out));

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		out[i] = strdup(envp[i]);
		if (!out[i]) {
			sysg_env_free(out);
			return NULL;
		}
	}
	return out;
}

void sysg_env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

struct sysg_env_shared {
	size_t refs;
	char **env;
};


static struct sysg_env_shared *shared_get(char *const *base,
					  struct sysg_env_shared **shared)
{
	if (!*shared) {
		struct sysg_env_shared *sh = calloc(1, sizeof(*sh));

		if (!sh || !(sh->env = sysg_env_dup(base))) {
			free(sh);
			return NULL;
		}
		*shared = sh;
	}
	(*shared)->refs++;
	return *shared;
}

static void shared_put(struct sysg_env_shared *sh)
{
	if (sh && --sh->refs == 0) {
		sysg_env_free(sh->env);
		free(sh);
	}
}

/* Entry I of ENV when it equals the same-index entry of the shared copy
 * SH (of BASE, with BN entries), else NULL. */
static char *shared_entry(const struct sysg_env_shared *sh, size_t bn,
			  char *const *env, size_t i)
{
	return i < bn && !strcmp(env[i], sh->env[i]) ? sh->env[i] : NULL;
}

/* A frozen env is one block: the NULL-terminated array (at the block's
 * start, so the block stays a plain pointer for leak checkers), the
 * shared copy's address in the slot after the NULL, then the strings of
 * its own. */
char **sysg_env_freeze(char *const *env, char *const *base,
		       struct sysg_env_shared **shared)
{
	struct sysg_env_shared *sh = shared_get(base, shared);
	size_t n = env_count(env), bn = env_count(base), own = 0;
	char **f, *p;

	if (!sh)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!shared_entry(sh, bn, env, i))
			own += strlen(env[i]) + 1;
	f = malloc((n + 2) * sizeof(char *) + own);
	if (!f) {
		shared_put(sh);
		return NULL;
	}
	p = (char *)&f[n + 2];
	for (size_t i = 0; i < n; i++) {
		f[i] = shared_entry(sh, bn, env, i);
		if (!f[i]) {
			f[i] = strcpy(p, env[i]);
			p += strlen(p) + 1;
		}
	}
	f[n] = NULL;
	f[n + 1] = (char *)sh;
	return f;
}

void sysg_env_frozen_free(char **frozen)
{
	if (!frozen)
		return;
	shared_put((struct sysg_env_shared *)frozen[env_count(frozen) + 1]);
	free(frozen);
}

/* Index of KEY (KLEN bytes) in ENV, or -1. */
static long env_find(char *const *env, const char *key, size_t klen)
{
	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], key, klen) == 0 && env[i][klen] == '=')
			return (long)i;
	return -1;
}

const char *sysg_env_get(char *const *env, const char *key)
{
	size_t klen = strcspn(key, "=");
	long i = key[klen] ? -1 : env_find(env, key, klen);

	return i < 0 ? NULL : env[i] + klen + 1;
}

int sysg_env_set(char ***env, const char *key, const char *value)
{
	size_t klen = strlen(key), n = env_count(*env);
	long i = env_find(*env, key, klen);
	char *entry, **grown;

	if (klen == 0 || strchr(key, '='))
		return -EINVAL;
	if (asprintf(&entry, "%s=%s", key, value ? value : "") < 0)
		return -ENOMEM;
	if (i >= 0) {
		free((*env)[i]);
		(*env)[i] = entry;
		return 0;
	}
	grown = realloc(*env, (n + 2) * sizeof(*grown));
	if (!grown) {
		free(entry);
		return -ENOMEM;
	}
	grown[n] = entry;
	grown[n + 1] = NULL;
	*env = grown;
	return 0;
}

void sysg_env_unset(char **env, const char *key, const char *value)
{
	size_t klen = strlen(key);
	long i = env_find(env, key, klen);

	if (i < 0 || (value && strcmp(env[i] + klen + 1, value)))
		return;
	free(env[i]);
	for (; env[i]; i++)
		env[i] = env[i + 1];
}

/* Length of the variable name at S (letters, digits and '_', not
 * starting with a digit), 0 when S does not start with one. */
static size_t name_len(const char *s)
{
	size_t n = 0;

	while (s[n] == '_' || (s[n] >= 'A' && s[n] <= 'Z') ||
	       (s[n] >= 'a' && s[n] <= 'z') ||
	       (n > 0 && s[n] >= '0' && s[n] <= '9'))
		n++;
	return n;
}

int sysg_env_valid_name(const char *name)
{
	size_t n = name ? name_len(name) : 0;

	return n > 0 && name[n] == '\0';
}

/* ------------------------------------------------------ growable text */

struct buf {
	char *s;
	size_t len, cap;
	int oom;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

/* The malloc'd text ("" when nothing was added), or NULL after an OOM. */
static char *buf_finish(struct buf *b)
{
	if (!b->oom && !b->s)
		buf_add(b, "", 0);
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	return b->s;
}

/* ---------------------------------------------------------- expansion */

/* A reference "$NAME" or "${NAME}" at S: its length, or 0 when S does not
 * start with one; *NOFF / *NLEN locate the name. */
static size_t ref_at(const char *s, size_t *noff, size_t *nlen)
{
	size_t n;

	if (s[0] != '$')
		return 0;
	if (s[1] == '{') {
		n = name_len(s + 2);
		if (!n || s[2 + n] != '}')
			return 0;
		*noff = 2;
		*nlen = n;
		return n + 3;
	}
	n = name_len(s + 1);
	*noff = 1;
	*nlen = n;
	return n ? n + 1 : 0;
}

/* "$$" before a reference: the reference's text, literally. Returns the
 * length of the escaped reference after the first '$', or 0. */
static size_t escape_at(const char *s)
{
	size_t noff, nlen;

	return s[0] == '$' ? ref_at(s + 1, &noff, &nlen) : 0;
}

/* The value of the reference's name, or NULL when it is not set (then
 * the scan records where, unless the caller allows the name). */
static const char *ref_value(struct sysg_env_scan *sc, const char *s,
			     size_t off, size_t len, size_t noff, size_t nlen,
			     int *bad)
{
	long i = env_find(sc->env, s + off + noff, nlen);

	if (i >= 0)
		return sc->env[i] + nlen + 1;
	if (sc->allowed && sc->allowed(s + off + noff, nlen, sc->arg))
		return NULL;
	if (!*bad) {
		sc->bad_off = off;
		sc->bad_len = len;
		*bad = 1;
	}
	return NULL;
}

static int scan_result(struct buf *b, int bad, char **out)
{
	*out = NULL;
	if (bad || b->oom) {
		free(b->s);
		return b->oom ? -ENOMEM : -ENOENT;
	}
	*out = buf_finish(b);
	return *out ? 0 : -ENOMEM;
}

int sysg_env_subst(const char *s, struct sysg_env_scan *sc, char **out)
{
	struct buf b = { 0 };
	size_t i = 0, len, noff, nlen;
	int bad = 0;

	while (s[i]) {
		const char *v;

		if ((len = escape_at(s + i)) != 0) {
			buf_add(&b, s + i + 1, len);
			i += len + 1;
		} else if ((len = ref_at(s + i, &noff, &nlen)) != 0) {
			v = ref_value(sc, s, i, len, noff, nlen, &bad);
			if (v)
				buf_add(&b, v, strlen(v));
			else
				buf_add(&b, s + i, len);        /* allowed */
			i += len;
		} else {
			buf_addc(&b, s[i++]);
		}
	}
	return scan_result(&b, bad, out);
}

char *sysg_env_escape(const char *s)
{
	struct buf b = { 0 };
	size_t noff, nlen;

	for (; *s; s++) {
		if (ref_at(s, &noff, &nlen))
			buf_addc(&b, '$');
		buf_addc(&b, *s);
	}
	return buf_finish(&b);
}

char *sysg_env_expand(const char *s, char *const *env)
{
	struct sysg_env_scan sc = { .env = env };
	struct buf b = { 0 };
	size_t i = 0, len, noff, nlen;

	while (s[i]) {
		long k;

		if ((len = escape_at(s + i)) != 0) {
			buf_add(&b, s + i + 1, len);
			i += len + 1;
		} else if ((len = ref_at(s + i, &noff, &nlen)) != 0) {
			k = env_find(sc.env, s + i + noff, nlen);
			if (k >= 0)
				buf_add(&b, env[k] + nlen + 1,
					strlen(env[k] + nlen + 1));
			else
				buf_add(&b, s + i, len);        /* left as written */
			i += len;
		} else {
			buf_addc(&b, s[i++]);
		}
	}
	return buf_finish(&b);
}

/* ------------------------------------------------ commands for a shell */

enum quote { Q_NONE, Q_SINGLE, Q_DOUBLE };

/* Quote state after character C in state Q; *SKIP is set when C escapes
 * the next character. */
static enum quote quote_step(enum quote q, char c, int *skip)
{
	*skip = 0;
	if (q == Q_SINGLE)
		return c == '\'' ? Q_NONE : Q_SINGLE;
	if (c == '\\') {
		*skip = 1;
		return q;
	}
	if (q == Q_DOUBLE)
		return c == '"' ? Q_NONE : Q_DOUBLE;
	return c == '\'' ? Q_SINGLE : c == '"' ? Q_DOUBLE : Q_NONE;
}

int sysg_env_shell(const char *s, struct sysg_env_scan *sc, char **out)
{
	struct buf b = { 0 };
	enum quote q = Q_NONE;
	size_t i = 0, len, noff, nlen;
	int bad = 0, skip;

	while (s[i]) {
		if ((len = escape_at(s + i)) != 0) {
			buf_add(&b, s + i + 1, len);    /* "$$X" -> the shell's $X */
			i += len + 1;
		} else if ((len = ref_at(s + i, &noff, &nlen)) != 0) {
			/* left for the shell, even inside '...': that text is
			 * for a nested shell (sh -c '...'), which expands it
			 * from its environment, as data */
			ref_value(sc, s, i, len, noff, nlen, &bad);
			buf_add(&b, "${", 2);
			buf_add(&b, s + i + noff, nlen);
			buf_addc(&b, '}');
			i += len;
		} else {
			q = quote_step(q, s[i], &skip);
			buf_addc(&b, s[i++]);
			if (skip && (len = escape_at(s + i)) != 0) {
				buf_add(&b, s + i + 1, len);    /* \$$X */
				i += len + 1;
			} else if (skip && s[i]) {
				buf_addc(&b, s[i++]);   /* \$X: the shell's */
			}
		}
	}
	return scan_result(&b, bad, out);
}

/* ------------------------------------------- commands sysg execs itself */

/* What the spawner takes for shell syntax outside quotes (spawn.c). */
#define SHELL_META "|&;<>()$`\\*?[]#~{}!\n=%^"

/* One word of a command being expanded by sysg. */
struct words {
	struct buf out;                 /* the words, re-quoted */
	struct buf word;                /* the current word, expanded */
	int in_word;
	int shell;                      /* not expressible without a shell */
};

/* Append the current word to OUT quoted so that the spawner's splitter
 * gives it back unchanged; a word it cannot express needs the shell. */
static void word_end(struct words *w)
{
	const char *v = w->word.s ? w->word.s : "";

	if (!w->in_word)
		return;
	if (w->out.len)
		buf_addc(&w->out, ' ');
	if (*v && !strpbrk(v, SHELL_META " \t'\""))
		buf_add(&w->out, v, strlen(v));
	else if (!strchr(v, '\'')) {
		buf_addc(&w->out, '\'');
		buf_add(&w->out, v, strlen(v));
		buf_addc(&w->out, '\'');
	} else if (!strpbrk(v, "\"$`\\")) {
		buf_addc(&w->out, '"');
		buf_add(&w->out, v, strlen(v));
		buf_addc(&w->out, '"');
	} else {
		w->shell = 1;
	}
	w->word.len = 0;
	if (w->word.s)
		w->word.s[0] = '\0';
	w->in_word = 0;
}

/* A value met outside quotes splits into words at blanks, as a shell's
 * field splitting does (so `cmd $FLAGS` gets two arguments from "-v -x",
 * none from ""), but nothing else in it is syntax. */
static void add_split(struct words *w, const char *v)
{
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t' || *v == '\n') {
			word_end(w);
			continue;
		}
		buf_addc(&w->word, *v);
		w->in_word = 1;
	}
}

/* Split S into words as the spawner does, expanding references inside
 * them; sets W->shell when S has shell syntax. */
static void expand_words(const char *s, struct sysg_env_scan *sc,
			 struct words *w, int *bad)
{
	enum quote q = Q_NONE;
	size_t i = 0, len, noff, nlen;

	while (s[i] && !w->shell) {
		const char *v;

		if ((len = escape_at(s + i)) != 0) {
			buf_add(&w->word, s + i + 1, len);
			w->in_word = 1;
			i += len + 1;
		} else if ((len = ref_at(s + i, &noff, &nlen)) != 0) {
			v = ref_value(sc, s, i, len, noff, nlen, bad);
			if (!v || q == Q_SINGLE)
				w->shell = 1;   /* set at run time, or text for a
			                           nested shell: the shell's */
			else if (q == Q_DOUBLE)
				buf_add(&w->word, v, strlen(v));
			else
				add_split(w, v);
			i += len;
		} else if (q == Q_NONE && (s[i] == ' ' || s[i] == '\t')) {
			word_end(w);
			i++;
		} else if (q == Q_NONE && (s[i] == '\'' || s[i] == '"')) {
			q = s[i++] == '\'' ? Q_SINGLE : Q_DOUBLE;
			w->in_word = 1;
		} else if ((q == Q_SINGLE && s[i] == '\'') ||
			   (q == Q_DOUBLE && s[i] == '"')) {
			q = Q_NONE;
			i++;
		} else if ((q == Q_NONE && strchr(SHELL_META, s[i])) ||
			   (q == Q_DOUBLE && strchr("$`\\", s[i]))) {
			w->shell = 1;
		} else {
			buf_addc(&w->word, s[i++]);
			w->in_word = 1;
		}
	}
	if (q != Q_NONE)
		w->shell = 1;
	word_end(w);
}

int sysg_env_command(const char *s, struct sysg_env_scan *sc, char **out)
{
	struct words w = { 0 };
	int bad = 0;

	if (!strchr(s, '$')) {
		*out = strdup(s);
		return *out ? 0 : -ENOMEM;
	}
	expand_words(s, sc, &w, &bad);
	free(w.word.s);
	if (bad) {
		free(w.out.s);
		*out = NULL;
		return w.out.oom || w.word.oom ? -ENOMEM : -ENOENT;
	}
	if (w.shell || w.word.oom) {
		free(w.out.s);
		if (w.word.oom)
			return -ENOMEM;
		return sysg_env_shell(s, sc, out);
	}
	return scan_result(&w.out, 0, out);
}

/* ---------------------------------------------------------- env files */

struct pair {
	char *key, *value;
};

struct envfile {
	const char *path, *keypath;
	struct sysg_diag *diag;
	int lineno;
	int bad;                /* lines with errors */
	int oom;
	struct pair *pairs;
	size_t npairs;
};

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void line_error(struct envfile *f, const char *line, const char *at,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void line_error(struct envfile *f, const char *line, const char *at,
		       const char *fmt, ...)
{
	char msg[SYSG_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sysg_diag_error(f->diag, f->path, f->lineno, (int)(at - line) + 1,
			f->keypath, "%s", msg);
	f->bad++;
}

/* The rest of a line after a value: blanks, then nothing or a comment. */
static int only_comment_left(const char *p)
{
	while (is_blank(*p))
		p++;
	return *p == '\0' || *p == '#';
}

static char escape_char(char c)
{
	switch (c) {
	case 'n': return '\n';
	case 't': return '\t';
	case 'r': return '\r';
	default: return c;
	}
}

/* Double-quoted value starting after the quote. Returns the position after
 * the closing quote, or NULL when unterminated. */
static const char *parse_dquoted(const char *p, struct buf *b)
{
	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1] && strchr("nt\\\"r", p[1])) {
			buf_addc(b, escape_char(p[1]));
			p++;
		} else {
			buf_addc(b, *p);
		}
	}
	return *p == '"' ? p + 1 : NULL;
}

static const char *parse_squoted(const char *p, struct buf *b)
{
	const char *end = strchr(p, '\'');

	if (!end)
		return NULL;
	buf_add(b, p, (size_t)(end - p));
	return end + 1;
}

/* Unquoted: up to a " #" comment, trailing blanks trimmed. */
static void parse_bare(const char *p, struct buf *b)
{
	const char *end = p;

	for (const char *q = p; *q; q++) {
		if (*q == '#' && q > p && is_blank(q[-1]))
			break;
		if (!is_blank(*q))
			end = q + 1;
	}
	buf_add(b, p, (size_t)(end - p));
}

/* Parse the value at P (after '=' and blanks) into a malloc'd string. */
static char *parse_value(struct envfile *f, const char *line, const char *p)
{
	struct buf b = { 0 };
	const char *end = p;
	char *value;

	if (*p == '"' || *p == '\'') {
		end = *p == '"' ? parse_dquoted(p + 1, &b) :
				  parse_squoted(p + 1, &b);
		if (!end) {
			line_error(f, line, p, "unterminated quoted value");
			free(b.s);
			return NULL;
		}
		if (!only_comment_left(end)) {
			while (is_blank(*end))
				end++;
			line_error(f, line, end,
				   "unexpected text after the closing quote");
			free(b.s);
			return NULL;
		}
	} else {
		parse_bare(p, &b);
	}
	value = buf_finish(&b);
	if (!value)
		f->oom = 1;
	return value;
}

static int add_pair(struct envfile *f, char *key, char *value)
{
	struct pair *grown = realloc(f->pairs, (f->npairs + 1) * sizeof(*grown));

	if (!grown) {
		free(key);
		free(value);
		return -ENOMEM;
	}
	f->pairs = grown;
	f->pairs[f->npairs].key = key;
	f->pairs[f->npairs].value = value;
	f->npairs++;
	return 0;
}

static const char *skip_export(const char *p)
{
	if (strncmp(p, "export", 6) == 0 && is_blank(p[6])) {
		p += 6;
		while (is_blank(*p))
			p++;
	}
	return p;
}

/* 1 if K (found at KEY in LINE) is a valid name, else report it. */
static int key_ok(struct envfile *f, const char *line, const char *key,
		  const char *k)
{
	if (!*k)
		line_error(f, line, key, "missing variable name before '='");
	else if (!sysg_env_valid_name(k))
		line_error(f, line, key, "invalid variable name '%s'", k);
	else
		return 1;
	return 0;
}

/* One line (no newline). Records a diagnostic for a bad line. */
static int parse_line(struct envfile *f, const char *line)
{
	const char *p = line, *key, *key_end;
	char *k, *v;

	while (is_blank(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	key = p = skip_export(p);
	while (*p && *p != '=' && !is_blank(*p))
		p++;
	key_end = p;
	while (is_blank(*p))
		p++;
	if (*p != '=') {
		line_error(f, line, key, "expected KEY=VALUE");
		return 0;
	}
	k = strndup(key, (size_t)(key_end - key));
	if (!k)
		return -ENOMEM;
	if (!key_ok(f, line, key, k)) {
		free(k);
		return 0;
	}
	for (p++; is_blank(*p); p++)
		;
	v = parse_value(f, line, p);
	if (!v) {
		free(k);
		return f->oom ? -ENOMEM : 0;
	}
	return add_pair(f, k, v);
}

static void strip_eol(char *line, size_t *len)
{
	while (*len > 0 && (line[*len - 1] == '\n' || line[*len - 1] == '\r'))
		line[--*len] = '\0';
}

/* Read the whole file into F->pairs. 0, -errno from reading, -ENOMEM. */
static int read_env_file(struct envfile *f, FILE *fp)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	int r = 0;

	errno = 0;
	while (r == 0 && (got = getline(&line, &cap, fp)) >= 0) {
		size_t len = (size_t)got;
		const char *start = line;

		f->lineno++;
		strip_eol(line, &len);
		if (f->lineno == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
			start += 3;     /* UTF-8 byte order mark */
		if (strlen(line) != len)
			line_error(f, line, line + strlen(line),
				   "NUL byte in line");
		else
			r = parse_line(f, start);
	}
	free(line);
	if (r == 0 && ferror(fp))
		r = errno ? -errno : -EIO;
	return r;
}

static void free_pairs(struct envfile *f)
{
	for (size_t i = 0; i < f->npairs; i++) {
		free(f->pairs[i].key);
		free(f->pairs[i].value);
	}
	free(f->pairs);
}

static int apply_pairs(const struct envfile *f, char ***env)
{
	for (size_t i = 0; i < f->npairs; i++) {
		int r = sysg_env_set(env, f->pairs[i].key, f->pairs[i].value);

		if (r < 0)
			return r;
	}
	return 0;
}

#define MAX_ENV_FILE_BYTES (256 << 10)

const char *sysg_env_file_problem(const char *file, char *buf, size_t len)
{
	struct stat st;

	if (stat(file, &st) != 0 || access(file, R_OK) != 0)
		return strerror(errno);
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	if (st.st_size > MAX_ENV_FILE_BYTES) {
		snprintf(buf, len, "too large (%lld bytes, at most %d)",
			 (long long)st.st_size, MAX_ENV_FILE_BYTES);
		return buf;
	}
	return NULL;
}

int sysg_env_file_apply(const char *path, const char *keypath, char ***env,
			struct sysg_diag *diag)
{
	struct envfile f = { .path = path, .keypath = keypath, .diag = diag };
	int fd = sysg_open_regular(path, ENV_FILE_MAX);
	FILE *fp = fd >= 0 ? fdopen(fd, "r") : NULL;
	int r;

	if (!fp) {
		r = fd < 0 ? fd : -errno;
		if (fd >= 0)
			close(fd);
		sysg_diag_error(diag, path, 0, 0, keypath,
				"cannot open env file: %s", r == -EINVAL ?
				"not a regular file" : strerror(-r));
		return r;
	}
	r = read_env_file(&f, fp);
	fclose(fp);
	if (r < 0 && r != -ENOMEM)
		sysg_diag_error(diag, path, 0, 0, keypath,
				"cannot read env file: %s", strerror(-r));
	if (r == 0 && f.bad)
		r = -EINVAL;
	if (r == 0)
		r = apply_pairs(&f, env);
	free_pairs(&f);
	return r;
}

static int allow_any(const char *name, size_t len, void *arg)
{
	(void)name;
	(void)len;
	(void)arg;
	return 1;
}

char *sysg_env_command_with(const char *raw, char *const *env)
{
	struct sysg_env_scan sc = { .env = env, .allowed = allow_any };
	char *out = NULL;

	if (sysg_env_command(raw, &sc, &out) < 0)
		return NULL;
	return out;
}
