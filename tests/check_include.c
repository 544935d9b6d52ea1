/* check_include.c - a config split over files with `include:` (a file or
 * a list, relative to the including file): services of every file in one
 * config, depends_on across files, each file's own env and project_dir;
 * a missing file, an include cycle, a file writable by others, a service
 * defined twice and an error inside an included file are FILE:LINE:COL
 * errors naming the right file. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "testutil.h"

static char *tmp;

static void setup(void)
{
	tmp = tu_mkdtemp("include");
	ck_assert_ptr_nonnull(tmp);
}

static void teardown(void)
{
	ck_assert_int_eq(tu_rm_rf(tmp), 0);
	free(tmp);
	tmp = NULL;
}

static void put(const char *name, const char *text)
{
	char *p = tu_write_file(tmp, name, text);

	ck_assert_ptr_nonnull(p);
	free(p);
}

/* Load TMP/NAME: 0 and *CFG, or the diagnostics joined in *ALL. */
static int load(const char *name, struct sysg_config **cfg, char **all)
{
	struct sysg_diag d;
	char *path;
	int rc;

	ck_assert_int_ne(asprintf(&path, "%s/%s", tmp, name), -1);
	sysg_diag_init(&d);
	rc = sysg_config_load(path, cfg, &d);
	*all = sysg_diag_join(&d);
	sysg_diag_free(&d);
	free(path);
	return rc;
}

/* Loading TMP/NAME fails with a line starting "TMP/FILE:LINE:COL: error:
 * KEYPATH: MESSAGE-START". */
static void expect(const char *name, const char *file, int line, int col,
		   const char *rest)
{
	struct sysg_config *cfg = NULL;
	char *all = NULL, *want;

	ck_assert_int_lt(load(name, &cfg, &all), 0);
	ck_assert_ptr_null(cfg);
	ck_assert_int_ne(asprintf(&want, "%s/%s:%d:%d: error: %s", tmp, file,
				  line, col, rest), -1);
	ck_assert_msg(strstr(all, want), "expected\n  %s\ngot\n%s", want,
		      all);
	free(want);
	free(all);
}

static const char *getenvp(char **envp, const char *key)
{
	size_t n = strlen(key);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, key, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

START_TEST(split_config_loads_as_one)
{
	struct sysg_config *cfg = NULL;
	char *all = NULL, *want;
	int db, api, web;

	put("main.yaml", "version: \"1\"\ninclude: [db.yaml, sub/api.yaml]\n"
	    "env: { vars: { WHO: main } }\n"
	    "services:\n  web: { command: \"sleep 1\", depends_on: [api] }\n");
	put("db.yaml", "version: \"1\"\n"
	    "services:\n  db: { command: \"sleep 1\" }\n");
	put("sub/api.yaml", "version: \"1\"\ninclude: ../more.yaml\n"
	    "env: { vars: { WHO: api } }\n"
	    "services:\n  api: { command: \"sleep 1\", depends_on: [db],\n"
	    "         env: { file: api.env } }\n");
	put("sub/api.env", "FROM_FILE=yes\n");
	put("more.yaml", "version: \"1\"\nstate: { backend: sqlite }\n"
	    "services:\n  more: { command: \"sleep 1\" }\n");
	ck_assert_msg(load("main.yaml", &cfg, &all) == 0, "%s", all);
	ck_assert_ptr_nonnull(strstr(all, "more.yaml are ignored"));
	ck_assert_ptr_null(cfg->state_path);
	ck_assert_str_eq(cfg->state_backend, "xml");
	ck_assert_uint_eq(cfg->nservices, 4);
	web = sysg_config_find_service(cfg, "web");
	db = sysg_config_find_service(cfg, "db");
	api = sysg_config_find_service(cfg, "api");
	ck_assert_int_ge(web, 0);
	ck_assert_int_ge(db, 0);
	ck_assert_int_ge(api, 0);
	ck_assert_int_ge(sysg_config_find_service(cfg, "more"), 0);
	/* db, more | api | web */
	ck_assert_uint_eq(cfg->nwaves, 3);
	ck_assert_uint_eq(cfg->waves[2][0], (size_t)web);
	ck_assert_uint_eq(cfg->waves[1][0], (size_t)api);
	/* each file's own root env; paths relative to the file */
	ck_assert_str_eq(getenvp(cfg->services[web].envp, "WHO"), "main");
	ck_assert_str_eq(getenvp(cfg->services[api].envp, "WHO"), "api");
	ck_assert_str_eq(getenvp(cfg->services[api].envp, "FROM_FILE"),
			 "yes");
	ck_assert_ptr_null(getenvp(cfg->services[db].envp, "WHO"));
	ck_assert_int_ne(asprintf(&want, "%s/sub/api.yaml", tmp), -1);
	ck_assert_str_eq(sysg_service_file(cfg, &cfg->services[api]), want);
	free(want);
	ck_assert_str_eq(sysg_service_file(cfg, &cfg->services[web]),
			 cfg->path);
	sysg_config_free(cfg);
	free(all);
}
END_TEST

START_TEST(missing_file)
{
	put("main.yaml", "version: \"1\"\ninclude:\n  - db.yaml\n"
	    "  - nope.yaml\n");
	put("db.yaml", "version: \"1\"\n"
	    "services:\n  db: { command: \"sleep 1\" }\n");
	expect("main.yaml", "main.yaml", 4, 5, "include[1]: cannot read "
	       "included file");
}
END_TEST

START_TEST(include_cycle)
{
	put("a.yaml", "version: \"1\"\ninclude: b.yaml\n"
	    "services:\n  a: { command: \"sleep 1\" }\n");
	put("b.yaml", "version: \"1\"\nservices:\n  b: { command: \"sleep 1\" }\n"
	    "include: [a.yaml]\n");
	expect("a.yaml", "b.yaml", 4, 11, "include[0]: include cycle: ");
	put("self.yaml", "version: \"1\"\ninclude: self.yaml\n");
	expect("self.yaml", "self.yaml", 2, 10, "include[0]: include cycle: ");
}
END_TEST

START_TEST(writable_by_others)
{
	char *p;

	put("main.yaml", "version: \"1\"\ninclude: [db.yaml]\n");
	put("db.yaml", "version: \"1\"\n"
	    "services:\n  db: { command: \"sleep 1\" }\n");
	ck_assert_int_ne(asprintf(&p, "%s/db.yaml", tmp), -1);
	ck_assert_int_eq(chmod(p, 0646), 0);
	expect("main.yaml", "main.yaml", 2, 11, "include[0]: included file ");
	ck_assert_int_eq(chmod(p, 0644), 0);
	free(p);
}
END_TEST

START_TEST(service_defined_twice)
{
	put("main.yaml", "version: \"1\"\ninclude: [db.yaml]\n"
	    "services:\n  db: { command: \"true\" }\n");
	put("db.yaml", "version: \"1\"\n"
	    "services:\n  db: { command: \"sleep 1\" }\n");
	expect("main.yaml", "main.yaml", 2, 11, "include[0]: service 'db' of ");
}
END_TEST

START_TEST(errors_in_included_file)
{
	put("main.yaml", "version: \"1\"\ninclude: [api.yaml]\n"
	    "services:\n  db: { command: \"true\" }\n");
	put("api.yaml", "version: \"1\"\nservices:\n"
	    "  api:\n    command: \"sleep 1\"\n    depends_on: [db, dbx]\n"
	    "    backoff: soon\n");
	expect("main.yaml", "api.yaml", 6, 14, "services.api.backoff: ");
	put("api.yaml", "version: \"1\"\nservices:\n"
	    "  api:\n    command: \"sleep 1\"\n    depends_on: [db, dbx]\n");
	expect("main.yaml", "api.yaml", 5, 22,
	       "services.api.depends_on[1]: unknown service 'dbx'");
}
END_TEST

/* systemg 0.66's projects: not built here, and said so at the key */
START_TEST(projects_refused_clearly)
{
	put("p.yaml", "version: \"1\"\nprojects:\n"
	    "  a: { name: A, services: { x: { command: \"true\" } } }\n");
	expect("p.yaml", "p.yaml", 2, 1, "projects: several projects in one "
	       "file are not supported");
}
END_TEST

static Suite *make_include_suite(void)
{
	Suite *s = suite_create("include");
	TCase *t = tcase_create("include");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, split_config_loads_as_one);
	tcase_add_test(t, missing_file);
	tcase_add_test(t, include_cycle);
	tcase_add_test(t, writable_by_others);
	tcase_add_test(t, service_defined_twice);
	tcase_add_test(t, errors_in_included_file);
	tcase_add_test(t, projects_refused_clearly);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run_suite(make_include_suite());
}
