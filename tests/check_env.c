/* check_env.c - env arrays, env files, merging and ${VAR} expansion. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "testutil.h"

static char tmpdir[64];

static void make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/sysg-check-env-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Write CONTENT to NAME in the temp dir; returns the malloc'd path. */
static char *write_file(const char *name, const char *content, size_t len)
{
	char *path;
	int fd;

	ck_assert_int_ge(asprintf(&path, "%s/%s", tmpdir, name), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

static char *write_text(const char *name, const char *content)
{
	return write_file(name, content, strlen(content));
}

/* Apply CONTENT as an env file to *ENV; returns the result. */
static int apply_text(const char *content, char ***env, struct sysg_diag *d)
{
	char *path = write_text("test.env", content);
	int r = sysg_env_file_apply(path, "env.file", env, d);

	free(path);
	return r;
}

static void expect_var(char *const *env, const char *key, const char *want)
{
	const char *got = sysg_env_get(env, key);

	ck_assert_msg(got != NULL, "%s is not set", key);
	ck_assert_msg(strcmp(got, want) == 0, "%s='%s', want '%s'", key, got,
		      want);
}

/* ------------------------------------------------------------ arrays */

START_TEST(test_dup_get_set)
{
	char *src[] = { "A=1", "AB=2", "EMPTY=", "EQ=x=y", NULL };
	char **env = sysg_env_dup(src);

	ck_assert_ptr_nonnull(env);
	ck_assert_ptr_ne(env[0], src[0]);
	expect_var(env, "A", "1");
	expect_var(env, "AB", "2");
	expect_var(env, "EMPTY", "");
	expect_var(env, "EQ", "x=y");
	ck_assert_ptr_null(sysg_env_get(env, "B"));
	ck_assert_ptr_null(sysg_env_get(env, "ABC"));
	ck_assert_ptr_null(sysg_env_get(env, "EQ=x"));

	ck_assert_int_eq(sysg_env_set(&env, "A", "one"), 0);
	ck_assert_int_eq(sysg_env_set(&env, "NEW", "v"), 0);
	expect_var(env, "A", "one");
	expect_var(env, "AB", "2");
	expect_var(env, "NEW", "v");
	ck_assert_str_eq(env[0], "A=one");      /* replaced in place */
	ck_assert_str_eq(env[4], "NEW=v");
	ck_assert_ptr_null(env[5]);
	ck_assert_int_eq(sysg_env_set(&env, "", "v"), -EINVAL);
	ck_assert_int_eq(sysg_env_set(&env, "X=Y", "v"), -EINVAL);
	sysg_env_free(env);
}
END_TEST

START_TEST(test_dup_null_and_empty)
{
	char **env = sysg_env_dup(NULL);

	ck_assert_ptr_nonnull(env);
	ck_assert_ptr_null(env[0]);
	ck_assert_ptr_null(sysg_env_get(env, "A"));
	ck_assert_int_eq(sysg_env_set(&env, "A", "1"), 0);
	expect_var(env, "A", "1");
	sysg_env_free(env);
	sysg_env_free(NULL);

	env = NULL;
	ck_assert_int_eq(sysg_env_set(&env, "B", "2"), 0);
	expect_var(env, "B", "2");
	ck_assert_ptr_null(env[1]);
	sysg_env_free(env);
}
END_TEST

START_TEST(test_valid_name)
{
	ck_assert(sysg_env_valid_name("A"));
	ck_assert(sysg_env_valid_name("_"));
	ck_assert(sysg_env_valid_name("PATH_2"));
	ck_assert(sysg_env_valid_name("lower_case"));
	ck_assert(!sysg_env_valid_name(""));
	ck_assert(!sysg_env_valid_name(NULL));
	ck_assert(!sysg_env_valid_name("2X"));
	ck_assert(!sysg_env_valid_name("A-B"));
	ck_assert(!sysg_env_valid_name("A B"));
	ck_assert(!sysg_env_valid_name("A=B"));
	ck_assert(!sysg_env_valid_name("É"));
}
END_TEST

/* ------------------------------------------------------------ merging */

/* Supervisor env, then root file, root vars, service file, service vars:
 * later wins. */
START_TEST(test_merge_order)
{
	char *base[] = { "HOME=/root", "A=base", "B=base", "C=base",
		"D=base", NULL };
	char **env = sysg_env_dup(base);
	struct sysg_diag d;
	char *root = write_text("root.env", "B=rootfile\nC=rootfile\n"
				"D=rootfile\nR=rootfile\n");
	char *svc = write_text("svc.env", "D=svcfile\nS=svcfile\n");

	sysg_diag_init(&d);
	ck_assert_int_eq(sysg_env_file_apply(root, "env.file", &env, &d), 0);
	ck_assert_int_eq(sysg_env_set(&env, "C", "rootvars"), 0);
	ck_assert_int_eq(sysg_env_file_apply(svc, "services.api.env.file",
					     &env, &d), 0);
	ck_assert_int_eq(sysg_env_set(&env, "S", "svcvars"), 0);
	ck_assert_uint_eq(sysg_diag_count(&d), 0);

	expect_var(env, "HOME", "/root");
	expect_var(env, "A", "base");
	expect_var(env, "B", "rootfile");
	expect_var(env, "C", "rootvars");
	expect_var(env, "D", "svcfile");
	expect_var(env, "R", "rootfile");
	expect_var(env, "S", "svcvars");
	sysg_env_free(env);
	sysg_diag_free(&d);
	free(root);
	free(svc);
}
END_TEST

/* --------------------------------------------------------- env files */

START_TEST(test_file_syntax)
{
	char **env = NULL;
	struct sysg_diag d;
	int r;

	sysg_diag_init(&d);
	r = apply_text("# a comment\n"
		       "\n"
		       "   \t\n"
		       "PLAIN=value\n"
		       "export EXPORTED=yes\n"
		       "export\tTABBED=1\n"
		       "  INDENTED=ok\n"
		       "SPACED = around equals \n"
		       "EMPTY=\n"
		       "EMPTY_Q=\"\"\n"
		       "SQ='single $HOME \\n # not a comment'\n"
		       "DQ=\"tab\\there\\nnewline \\\"q\\\" back\\\\slash\"\n"
		       "UNKNOWN_ESC=\"c:\\path\"\n"
		       "TRAIL=value # trailing comment\n"
		       "HASH=a#b\n"
		       "QHASH=\"a # b\" # comment\n"
		       "URL=postgres://u:p@h/db?x=1\n"
		       "CRLF=dos\r\n"
		       "DUP=first\n"
		       "DUP=second\n"
		       "export=not a prefix\n"
		       "    # indented comment\n"
		       "LAST=no newline", &env, &d);
	ck_assert_msg(r == 0, "r=%d", r);
	ck_assert_uint_eq(sysg_diag_count(&d), 0);
	expect_var(env, "PLAIN", "value");
	expect_var(env, "EXPORTED", "yes");
	expect_var(env, "TABBED", "1");
	expect_var(env, "INDENTED", "ok");
	expect_var(env, "SPACED", "around equals");
	expect_var(env, "EMPTY", "");
	expect_var(env, "EMPTY_Q", "");
	expect_var(env, "SQ", "single $HOME \\n # not a comment");
	expect_var(env, "DQ", "tab\there\nnewline \"q\" back\\slash");
	expect_var(env, "UNKNOWN_ESC", "c:\\path");
	expect_var(env, "TRAIL", "value");
	expect_var(env, "HASH", "a#b");
	expect_var(env, "QHASH", "a # b");
	expect_var(env, "URL", "postgres://u:p@h/db?x=1");
	expect_var(env, "CRLF", "dos");
	expect_var(env, "DUP", "second");
	expect_var(env, "export", "not a prefix");
	expect_var(env, "LAST", "no newline");
	ck_assert_ptr_null(sysg_env_get(env, "#"));
	sysg_env_free(env);
	sysg_diag_free(&d);
}
END_TEST

START_TEST(test_file_bom_and_empty)
{
	char **env = NULL;
	struct sysg_diag d;

	sysg_diag_init(&d);
	ck_assert_int_eq(apply_text("\xEF\xBB\xBF" "BOM=1\n", &env, &d), 0);
	expect_var(env, "BOM", "1");
	ck_assert_int_eq(apply_text("", &env, &d), 0);
	ck_assert_int_eq(apply_text("# only comments\n\n", &env, &d), 0);
	ck_assert_uint_eq(sysg_diag_count(&d), 0);
	sysg_env_free(env);
	sysg_diag_free(&d);
}
END_TEST

/* Each bad line reports PATH:LINE:COL and nothing from the file is set. */
START_TEST(test_file_bad_lines)
{
	char *base[] = { "KEEP=1", "GOOD=old", NULL };
	char **env = sysg_env_dup(base);
	struct sysg_diag d;
	char *path, *want, *joined;
	int r;

	sysg_diag_init(&d);
	path = write_text("bad.env",
			  "GOOD=new\n"                  /* 1 */
			  "no equals sign\n"            /* 2 */
			  "1BAD=x\n"                    /* 3 */
			  "  OPEN=\"never closed\n"     /* 4 */
			  "SOPEN='x\n"                  /* 5 */
			  "AFTER=\"q\" junk\n"          /* 6 */
			  "=novalue\n"                  /* 7 */
			  "export ONLY\n"               /* 8 */
			  "BAD-NAME=1\n"                /* 9 */
			  "ALSO_GOOD=1\n");             /* 10 */
	r = sysg_env_file_apply(path, "services.api.env.file", &env, &d);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_uint_eq(sysg_diag_count(&d), 8);
	joined = sysg_diag_join(&d);

#define EXPECT_DIAG(pos, msg) do { \
		ck_assert_int_ge(asprintf(&want, "%s:%s: error: " \
			"services.api.env.file: %s", path, pos, msg), 0); \
		ck_assert_msg(sysg_diag_contains(&d, want), \
			      "missing '%s' in:\n%s", want, joined); \
		free(want); \
	} while (0)
	EXPECT_DIAG("2:1", "expected KEY=VALUE");
	EXPECT_DIAG("3:1", "invalid variable name '1BAD'");
	EXPECT_DIAG("4:8", "unterminated quoted value");
	EXPECT_DIAG("5:7", "unterminated quoted value");
	EXPECT_DIAG("6:11", "unexpected text after the closing quote");
	EXPECT_DIAG("7:1", "missing variable name before '='");
	EXPECT_DIAG("8:8", "expected KEY=VALUE");
	EXPECT_DIAG("9:1", "invalid variable name 'BAD-NAME'");
#undef EXPECT_DIAG

	expect_var(env, "KEEP", "1");
	expect_var(env, "GOOD", "old");
	ck_assert_ptr_null(sysg_env_get(env, "ALSO_GOOD"));
	free(joined);
	free(path);
	sysg_env_free(env);
	sysg_diag_free(&d);
}
END_TEST

START_TEST(test_file_nul_byte)
{
	char **env = NULL;
	struct sysg_diag d;
	char *path = write_file("nul.env", "A=1\nB=x\0y\n", 10);

	sysg_diag_init(&d);
	ck_assert_int_eq(sysg_env_file_apply(path, "k", &env, &d), -EINVAL);
	ck_assert(sysg_diag_contains(&d, ":2:4: error: k: NUL byte in line"));
	ck_assert_ptr_null(env);
	free(path);
	sysg_diag_free(&d);
}
END_TEST

START_TEST(test_file_missing_and_dir)
{
	char **env = NULL;
	struct sysg_diag d;
	char *path;

	sysg_diag_init(&d);
	ck_assert_int_ge(asprintf(&path, "%s/missing.env", tmpdir), 0);
	ck_assert_int_eq(sysg_env_file_apply(path, "env.file", &env, &d),
			 -ENOENT);
	ck_assert_uint_eq(sysg_diag_count(&d), 1);
	ck_assert(sysg_diag_contains(&d, "missing.env: error: env.file: "
				     "cannot open env file: No such file"));
	ck_assert_int_lt(sysg_env_file_apply(tmpdir, "env.file", &env, &d), 0);
	ck_assert_uint_eq(sysg_diag_count(&d), 2);
	ck_assert_ptr_null(env);
	free(path);
	sysg_diag_free(&d);
}
END_TEST

/* --------------------------------------------------------- expansion */

static void expect_expand(char *const *env, const char *in, const char *want)
{
	char *got = sysg_env_expand(in, env);

	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strcmp(got, want) == 0, "'%s' -> '%s', want '%s'", in,
		      got, want);
	free(got);
}

START_TEST(test_expand)
{
	char *env[] = { "PORT=8000", "HOST=localhost", "EMPTY=",
		"REF=${PORT}", "P=short", NULL };

	expect_expand(env, "", "");
	expect_expand(env, "no vars", "no vars");
	expect_expand(env, "--bind 0.0.0.0:${PORT}", "--bind 0.0.0.0:8000");
	expect_expand(env, "${HOST}:${PORT}", "localhost:8000");
	expect_expand(env, "${PORT}${PORT}", "80008000");
	expect_expand(env, "[${EMPTY}]", "[]");
	expect_expand(env, "${UNSET} stays", "${UNSET} stays");
	expect_expand(env, "${REF}", "${PORT}");        /* no re-expansion */
	expect_expand(env, "$${PORT}", "${PORT}");
	/* Leftmost match: a plain '$', then the literal "$${". */
	expect_expand(env, "$$${PORT}", "$${PORT}");
	expect_expand(env, "$$", "$$");
	expect_expand(env, "$PORT", "8000");            /* systemg: $NAME too */
	expect_expand(env, "$PORT:$HOST/x", "8000:localhost/x");
	expect_expand(env, "$$PORT", "$PORT");          /* the literal escape */
	expect_expand(env, "$1 $? $$ $-", "$1 $? $$ $-");   /* not names */
	expect_expand(env, "${PORT", "${PORT");
	expect_expand(env, "${", "${");
	expect_expand(env, "$", "$");
	expect_expand(env, "${}", "${}");
	expect_expand(env, "${1X}", "${1X}");
	expect_expand(env, "${P}", "short");
	expect_expand(env, "${PO}", "${PO}");
	expect_expand(env, "${P-x}", "${P-x}");
	expect_expand(env, "$PO", "$PO");               /* unset: as written */
	expect_expand(NULL, "${PORT}", "${PORT}");
}
END_TEST

/* The three uses of a reference: data, shell text, direct command. */
static void expect_scan(int (*fn)(const char *, struct sysg_env_scan *,
				  char **), const char *in, const char *want)
{
	char *env[] = { "V=$(touch x); rm -rf ~", "P=80 80", "Q=it's", "E=",
			NULL };
	struct sysg_env_scan sc = { .env = env };
	char *got = NULL;
	int rc = fn(in, &sc, &got);

	if (!want) {
		ck_assert_int_eq(rc, -ENOENT);
		ck_assert_ptr_null(got);
		return;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(strcmp(got, want) == 0, "'%s' -> '%s', want '%s'", in,
		      got, want);
	free(got);
}

START_TEST(test_scans)
{
	expect_scan(sysg_env_subst, "x${V}y", "x$(touch x); rm -rf ~y");
	expect_scan(sysg_env_subst, "$NOPE_X", NULL);
	expect_scan(sysg_env_shell, "echo $V '$P' \"$Q\" \\$NOPE_X $$f",
		    "echo ${V} '${P}' \"${Q}\" \\$NOPE_X $f");
	expect_scan(sysg_env_shell, "echo ${NOPE_X}", NULL);
	/* sysg's own expansion: one quoted word per value, no shell */
	expect_scan(sysg_env_command, "echo \"$V\" \"x${P}y\"", "echo '$(touch x); rm -rf ~' 'x80 80y'");
	expect_scan(sysg_env_command, "echo $Q", "echo \"it's\"");
	/* outside quotes a value splits at blanks, as in a shell, and that
	 * is all: the pieces are still data */
	expect_scan(sysg_env_command, "echo $V x${P}y", "echo '$(touch' 'x);' rm -rf '~' x80 80y");
	expect_scan(sysg_env_command, "echo a $E b \"$E\"", "echo a b ''");
	/* shell syntax, or text for a nested shell: left to the shell */
	expect_scan(sysg_env_command, "echo $P | cat", "echo ${P} | cat");
	expect_scan(sysg_env_command, "sh -c 'echo $V'", "sh -c 'echo ${V}'");
	expect_scan(sysg_env_command, "no refs 'a b' | c", "no refs 'a b' | c");
	expect_scan(sysg_env_command, "echo $NOPE_X", NULL);
	/* escaped text comes back as it was, whatever the mode */
	{
		const char *in = "echo '$NOPE_X' $$ ${V} $$P $1 \\$Q";
		char *esc = sysg_env_escape(in);

		expect_scan(sysg_env_subst, esc, in);
		expect_scan(sysg_env_shell, esc, in);
		free(esc);
		esc = sysg_env_escape("echo '$NOPE_X' ${V}");
		expect_scan(sysg_env_command, esc, "echo '$NOPE_X' '${V}'");
		free(esc);
	}
}
END_TEST

/* Frozen envs of one base share the base's strings (one copy however
 * many services), keep their own entries, and free cleanly in any order. */
START_TEST(test_freeze_shares_base)
{
	char *base[] = { "A=1", "B=2", "C=3", NULL };
	char **e1 = sysg_env_dup(base), **e2 = sysg_env_dup(base);
	struct sysg_env_shared *sh = NULL;
	char **f1, **f2, **f3;

	ck_assert_int_eq(sysg_env_set(&e1, "B", "changed"), 0);
	ck_assert_int_eq(sysg_env_set(&e2, "D", "4"), 0);
	f1 = sysg_env_freeze(e1, base, &sh);
	f2 = sysg_env_freeze(e2, base, &sh);
	f3 = sysg_env_freeze(NULL, base, &sh);
	ck_assert_ptr_nonnull(f1);
	ck_assert_ptr_nonnull(f2);
	ck_assert_ptr_nonnull(f3);
	ck_assert_ptr_null(f3[0]);
	sysg_env_free(e1);
	sysg_env_free(e2);
	ck_assert_str_eq(sysg_env_get(f1, "A"), "1");
	ck_assert_str_eq(sysg_env_get(f1, "B"), "changed");
	ck_assert_str_eq(sysg_env_get(f1, "C"), "3");
	ck_assert_ptr_null(sysg_env_get(f1, "D"));
	ck_assert_str_eq(sysg_env_get(f2, "B"), "2");
	ck_assert_str_eq(sysg_env_get(f2, "D"), "4");
	ck_assert_ptr_null(f2[4]);
	ck_assert_ptr_eq(f1[0], f2[0]);         /* one shared copy */
	ck_assert_ptr_eq(f1[2], f2[2]);
	ck_assert_ptr_ne(f1[0], base[0]);       /* not the caller's base */
	ck_assert_ptr_ne(f1[1], f2[1]);
	sysg_env_frozen_free(f2);
	sysg_env_frozen_free(f3);
	ck_assert_str_eq(f1[0], "A=1");         /* still held by f1 */
	sysg_env_frozen_free(f1);
	sysg_env_frozen_free(NULL);
}
END_TEST

static Suite *make_env_suite(void)
{
	Suite *s = suite_create("env");
	TCase *arrays = tcase_create("arrays");
	TCase *files = tcase_create("files");
	TCase *expand = tcase_create("expand");

	tcase_add_test(arrays, test_dup_get_set);
	tcase_add_test(arrays, test_dup_null_and_empty);
	tcase_add_test(arrays, test_valid_name);
	tcase_add_test(arrays, test_freeze_shares_base);
	tcase_add_checked_fixture(files, make_tmpdir, remove_tmpdir);
	tcase_add_test(files, test_merge_order);
	tcase_add_test(files, test_file_syntax);
	tcase_add_test(files, test_file_bom_and_empty);
	tcase_add_test(files, test_file_bad_lines);
	tcase_add_test(files, test_file_nul_byte);
	tcase_add_test(files, test_file_missing_and_dir);
	tcase_add_test(expand, test_expand);
	tcase_add_test(expand, test_scans);
	suite_add_tcase(s, arrays);
	suite_add_tcase(s, files);
	suite_add_tcase(s, expand);
	return s;
}

int main(void)
{
	return tu_run_suite(make_env_suite());
}
