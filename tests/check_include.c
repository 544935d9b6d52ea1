/* check_include.c - a config split over files with `include:` (a file or
 * a list, relative to the including file): services of every file in one
 * config, depends_on across files, each file's own env and project_dir;
 * a missing file, an include cycle, a file writable by others, a service
 * defined twice and an error inside an included file are FILE:LINE:COL
 * errors naming the right file. The `!include FILE` tag does the same
 * where a map goes; `projects:` (issue 16) loads each project as a file
 * of its own, its services named NAME@ID. */
#include <check.h>
#include <errno.h>
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
	/* elsewhere it is an error, not a string */
	put("main.yaml", "version: \"1\"\nservices:\n"
	    "  web: { command: !include x.sh }\n");
	expect("main.yaml", "main.yaml", 3, 19, "services.web.command: "
	       "!include FILE goes where services go");
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

/* projects: each project a map of its own; its services are NAME@ID,
 * depends_on stays within the project, errors name projects.ID... */
START_TEST(projects_in_one_file)
{
	struct sysg_config *cfg = NULL;
	char *all = NULL, *abs;
	const struct sysg_project *p;
	int web, shop_web, shop_db;

	put("p.yaml", "version: \"1\"\nservices:\n"
	    "  web: { command: \"sleep 1\" }\nprojects:\n"
	    "  shop:\n    name: Shop\n    env: { vars: { WHO: shop } }\n"
	    "    services:\n"
	    "      db: { command: \"sleep 1\" }\n"
	    "      web: { command: \"sleep ${WHO}\", depends_on: [db] }\n");
	ck_assert_msg(load("p.yaml", &cfg, &all) == 0, "%s", all);
	ck_assert_uint_eq(cfg->nservices, 3);
	web = sysg_config_find_service(cfg, "web");
	shop_web = sysg_config_find_service(cfg, "web@shop");
	shop_db = sysg_config_find_service(cfg, "db@shop");
	ck_assert_int_ge(web, 0);
	ck_assert_int_ge(shop_web, 0);
	ck_assert_int_ge(shop_db, 0);
	ck_assert_ptr_null(cfg->services[web].project);
	ck_assert_str_eq(cfg->services[shop_web].project, "shop");
	ck_assert_str_eq(cfg->services[shop_web].depends_on[0], "db@shop");
	ck_assert_str_eq(cfg->services[shop_web].command, "sleep shop");
	ck_assert_ptr_null(getenvp(cfg->services[web].envp, "WHO"));
	/* db@shop, web | web@shop */
	ck_assert_uint_eq(cfg->nwaves, 2);
	ck_assert_uint_eq(cfg->waves[1][0], (size_t)shop_web);
	/* the file's own project ("p", plain names) first, then shop */
	ck_assert_uint_eq(cfg->nprojects, 2);
	ck_assert_str_eq(cfg->projects[0].id, "p");
	ck_assert_int_eq(cfg->projects[0].plain, 1);
	p = sysg_config_project(cfg, "shop");
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->name, "Shop");
	ck_assert_int_eq(sysg_project_has(p, "web@shop"), 1);
	ck_assert_int_eq(sysg_project_has(p, "web"), 0);
	ck_assert_int_eq(sysg_project_has(&cfg->projects[0], "web"), 1);
	ck_assert_int_ne(asprintf(&abs, "%s/p.yaml", tmp), -1);
	ck_assert_ptr_eq(sysg_config_project(cfg, abs), &cfg->projects[0]);
	free(abs);
	sysg_config_free(cfg);
	free(all);
	put("bad.yaml", "version: \"1\"\nprojects:\n  shop:\n    services:\n"
	    "      web: { command: \"true\", depends_on: [nope] }\n");
	expect("bad.yaml", "bad.yaml", 5, 44,
	       "projects.shop.services.web.depends_on[0]: unknown service "
	       "'nope'");
	put("bad.yaml", "version: \"1\"\nprojects:\n  shop:\n    services:\n"
	    "      web: { command: \"true\", backof: 1 }\n");
	expect("bad.yaml", "bad.yaml", 5, 31,
	       "projects.shop.services.web.backof: unknown key");
	put("bad.yaml", "version: \"1\"\nprojects:\n  sh/op:\n"
	    "    services: { web: { command: \"true\" } }\n");
	expect("bad.yaml", "bad.yaml", 3, 3, "projects.sh/op: invalid "
	       "project id");
}
END_TEST

/* A file joining a supervisor: its own services are a project named
 * after it, and sysg_config_join / sysg_config_leave build the
 * supervisor's new config. */
START_TEST(join_and_leave)
{
	struct sysg_config *home = NULL, *shop = NULL, *both = NULL,
			   *left = NULL;
	struct sysg_diag d;
	char *path, err[512];

	put("home.yaml", "version: \"1\"\nservices:\n"
	    "  web: { command: \"sleep 1\" }\n");
	put("shop/sysg.yaml", "version: \"1\"\nservices:\n"
	    "  db: { command: \"sleep 1\" }\n"
	    "  web: { command: \"sleep 2\", depends_on: [db] }\n");
	sysg_diag_init(&d);
	ck_assert_int_ne(asprintf(&path, "%s/home.yaml", tmp), -1);
	ck_assert_int_eq(sysg_config_load(path, &home, &d), 0);
	free(path);
	ck_assert_int_ne(asprintf(&path, "%s/shop/sysg.yaml", tmp), -1);
	ck_assert_int_eq(sysg_config_load_flags(path, SYSG_CONFIG_JOINED,
						&shop, &d), 0);
	free(path);
	sysg_diag_free(&d);
	/* sysg.yaml: named after its directory */
	ck_assert_uint_eq(shop->nprojects, 1);
	ck_assert_str_eq(shop->projects[0].id, "shop");
	ck_assert_int_ge(sysg_config_find_service(shop, "web@shop"), 0);
	ck_assert_int_eq(sysg_config_join(home, shop, &both, err,
					  sizeof(err)), 0);
	ck_assert_uint_eq(both->nservices, 3);
	ck_assert_uint_eq(both->nprojects, 2);
	ck_assert_uint_eq(both->njoined, 1);
	ck_assert_int_ge(sysg_config_find_service(both, "web"), 0);
	ck_assert_int_ge(sysg_config_find_service(both, "web@shop"), 0);
	ck_assert_uint_eq(both->nwaves, 2);
	ck_assert_str_eq(both->services[both->waves[1][0]].name, "web@shop");
	ck_assert_int_eq(sysg_config_leave(both, "shop", &left, err,
					   sizeof(err)), 0);
	sysg_config_free(both);
	both = NULL;
	ck_assert_uint_eq(left->nservices, 1);
	ck_assert_uint_eq(left->njoined, 0);
	ck_assert_ptr_null(sysg_config_project(left, "shop"));
	ck_assert_int_eq(sysg_config_leave(left, "shop", &both, err,
					   sizeof(err)), -ENOENT);
	ck_assert_ptr_null(both);
	sysg_config_free(left);
	sysg_config_free(home);
	sysg_config_free(both);
	sysg_config_free(shop);
}
END_TEST

/* `!include FILE`: where a map goes (services, a project); its
 * errors are FILE:LINE:COL errors at the tag */
START_TEST(include_tag)
{
	struct sysg_config *cfg = NULL;
	char *all = NULL, *p;

	put("main.yaml", "version: \"1\"\nservices: !include svc.yaml\n"
	    "projects:\n  blog: !include blog.yaml\n");
	put("svc.yaml", "version: \"1\"\n"
	    "services:\n  db: { command: \"sleep 1\" }\n");
	put("blog.yaml", "version: \"1\"\n"
	    "services:\n  web: { command: \"sleep 1\", depends_on: [db] }\n"
	    "  db: { command: \"sleep 1\" }\n");
	ck_assert_msg(load("main.yaml", &cfg, &all) == 0, "%s", all);
	ck_assert_uint_eq(cfg->nservices, 3);
	ck_assert_int_ge(sysg_config_find_service(cfg, "db"), 0);
	ck_assert_int_ge(sysg_config_find_service(cfg, "web@blog"), 0);
	ck_assert_int_ge(sysg_config_find_service(cfg, "db@blog"), 0);
	ck_assert_ptr_nonnull(sysg_config_project(cfg, "blog"));
	sysg_config_free(cfg);
	free(all);
	/* a missing file */
	put("main.yaml", "version: \"1\"\nservices: !include nope.yaml\n");
	expect("main.yaml", "main.yaml", 2, 11, "services: cannot read "
	       "included file");
	put("main.yaml", "version: \"1\"\nprojects:\n"
	    "  blog: !include nope.yaml\n");
	expect("main.yaml", "main.yaml", 3, 9, "projects.blog: cannot read "
	       "included file");
	/* a cycle */
	put("main.yaml", "version: \"1\"\nservices: !include loop.yaml\n");
	put("loop.yaml", "version: \"1\"\nservices: !include main.yaml\n");
	expect("main.yaml", "loop.yaml", 2, 11, "services: include cycle: ");
	/* writable by others */
	put("main.yaml", "version: \"1\"\nservices: !include svc.yaml\n");
	ck_assert_int_ne(asprintf(&p, "%s/svc.yaml", tmp), -1);
	ck_assert_int_eq(chmod(p, 0646), 0);
	expect("main.yaml", "main.yaml", 2, 11, "services: included file ");
	ck_assert_int_eq(chmod(p, 0644), 0);
	free(p);
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
	tcase_add_test(t, projects_in_one_file);
	tcase_add_test(t, join_and_leave);
	tcase_add_test(t, include_tag);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run_suite(make_include_suite());
}
