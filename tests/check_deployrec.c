/* check_deployrec.c - the deploy wing's pieces without processes:
 * revisions, the definition kept in a record (and loading it again for a
 * rollback), the strategy settings sent to the worker, and the framing of
 * the worker's socket (link.h). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "base/base.h"
#include "config/config.h"
#include "deploy/deploy.h"
#include "testutil.h"

static struct sysg_config *load(const char *yaml)
{
	struct sysg_config *cfg = NULL;
	struct sysg_diag d;

	sysg_diag_init(&d);
	ck_assert_msg(sysg_config_load_buffer("/p/sysg.yaml", "/p", yaml,
					      strlen(yaml), &cfg, &d) == 0,
		      "%s", d.n ? d.lines[0] : "?");
	sysg_diag_free(&d);
	return cfg;
}

static void revision_of(const char *yaml, char rev[16])
{
	struct sysg_config *cfg = load(yaml);

	sysg_deploy_revision(&cfg->services[0], rev);
	sysg_config_free(cfg);
}

START_TEST(test_revision_follows_the_definition)
{
	char a[16], b[16], c[16], d[16], e[16];

	revision_of("version: \"1\"\nservices:\n  web:\n    command: \"srv\"\n"
		    "    env: { vars: { A: \"1\" } }\n", a);
	revision_of("version: \"1\"\nservices:\n  web:\n    command: \"srv\"\n"
		    "    env: { vars: { A: \"1\" } }\n", b);
	revision_of("version: \"1\"\nservices:\n  web:\n    command: \"srv\"\n"
		    "    env: { vars: { A: \"2\" } }\n", c);
	revision_of("version: \"1\"\nservices:\n  web:\n    command: \"srv2\"\n"
		    "    env: { vars: { A: \"1\" } }\n", d);
	revision_of("version: \"1\"\nservices:\n  web:\n    command: \"srv\"\n"
		    "    env: { vars: { A: \"1\" } }\n"
		    "    deployment: { strategy: rolling }\n", e);
	ck_assert_int_eq(strlen(a), 12);
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	ck_assert_str_ne(a, d);
	ck_assert_str_ne(a, e);
	ck_assert_str_ne(c, d);
}
END_TEST

START_TEST(test_definition_round_trip)
{
	static const char *yaml =
		"version: \"1\"\nservices:\n  web:\n    command: \"srv --port 1\"\n"
		"    deployment: { strategy: rolling, grace_period: 2s }\n"
		"  db:\n    command: \"db\"\n";
	struct sysg_config *cfg = load(yaml), *back = NULL;
	char *def = malloc(SYSG_DEFINITION_MAX), err[256], r1[16], r2[16];
	json_t *j;

	ck_assert_int_eq(sysg_deploy_definition(&cfg->services[0], cfg, yaml,
						def, SYSG_DEFINITION_MAX), 0);
	j = json_loads(def, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "command")),
			 "srv --port 1");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j,
		"deployment"), "strategy")), "rolling");
	json_decref(j);
	/* a rollback parses the kept config again: the same revision */
	ck_assert_int_eq(sysg_deploy_definition_config(def, &back, err,
						       sizeof(err)), 0);
	ck_assert_int_eq(sysg_config_find_service(back, "web"), 0);
	sysg_deploy_revision(&cfg->services[0], r1);
	sysg_deploy_revision(&back->services[0], r2);
	ck_assert_str_eq(r1, r2);
	sysg_config_free(back);
	/* without the config text (too large to keep): a clear refusal */
	ck_assert_int_eq(sysg_deploy_definition(&cfg->services[0], cfg, NULL,
						def, SYSG_DEFINITION_MAX), 0);
	ck_assert_int_eq(sysg_deploy_definition_config(def, &back, err,
						       sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "no config"));
	free(def);
	sysg_config_free(cfg);
}
END_TEST

START_TEST(test_settings_round_trip)
{
	struct sysg_config *cfg = load(
		"version: \"1\"\nservices:\n  web:\n    command: \"srv\"\n"
		"    deployment:\n      strategy: blue_green\n"
		"      pre_start: \"true\"\n"
		"      blue_green: { slots: [\"8000\", \"8001\"], "
		"switch_command: \"sw {candidate_slot}\" }\n");
	struct sysg_strategy_settings s;
	struct sysg_setting *opts = NULL;
	json_t *j = sysg_deploy_settings_json(&cfg->services[0], "canary");
	int found = 0;

	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(sysg_deploy_settings_from(j, &s, &opts), 0);
	ck_assert_str_eq(s.service, "web");
	ck_assert_str_eq(s.strategy, "canary");         /* --strategy */
	ck_assert_str_eq(s.pre_start, "true");
	ck_assert_uint_eq(s.noptions, 0);       /* blue_green's are not its */
	free(opts);
	json_decref(j);
	j = sysg_deploy_settings_json(&cfg->services[0], NULL);
	ck_assert_int_eq(sysg_deploy_settings_from(j, &s, &opts), 0);
	ck_assert_str_eq(s.strategy, "blue_green");
	for (size_t i = 0; i < s.noptions; i++)
		if (!strcmp(s.options[i].key, "switch_command")) {
			ck_assert_str_eq(s.options[i].value, "sw {candidate_slot}");
			ck_assert_int_gt(s.options[i].line, 0);
			found = 1;
		}
	ck_assert(found);
	free(opts);
	json_decref(j);
	/* malformed: refused */
	j = json_pack("{s:i}", "service", 3);
	ck_assert_int_eq(sysg_deploy_settings_from(j, &s, &opts), -EINVAL);
	json_decref(j);
	sysg_config_free(cfg);
}
END_TEST

START_TEST(test_link_frames)
{
	struct sysg_link_buf b = { 0 };
	int sv[2];
	json_t *m, *got;
	unsigned char huge[4] = { 0x7f, 0xff, 0xff, 0xff };

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	m = json_pack("{s:s, s:i}", "op", "step", "n", 7);
	ck_assert_int_eq(sysg_link_send(sv[0], m), 0);
	ck_assert_int_eq(sysg_link_send(sv[0], m), 0);
	ck_assert_int_eq(sysg_link_recv(sv[1], &got), 0);
	ck_assert(json_equal(m, got));
	json_decref(got);
	/* the non-blocking reader takes whole frames only */
	ck_assert_int_eq(sysg_link_take(&b, &got), 0);
	ck_assert_int_eq(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(sysg_link_fill(&b, sv[1]), 0);
	json_decref(m);
	ck_assert_int_eq(sysg_link_take(&b, &got), 1);
	ck_assert_str_eq(json_string_value(json_object_get(got, "op")), "step");
	json_decref(got);
	ck_assert_int_eq(sysg_link_take(&b, &got), 0);
	close(sv[0]);
	close(sv[1]);
	/* an oversized frame: the stream is unusable */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(write(sv[0], huge, 4), 4);
	ck_assert_int_eq(sysg_link_recv(sv[1], &got), -EPROTO);
	/* the peer closed */
	close(sv[0]);
	ck_assert_int_eq(sysg_link_recv(sv[1], &got), -EPIPE);
	close(sv[1]);
	sysg_link_buf_free(&b);
}
END_TEST

static Suite *make_deployrec_suite(void)
{
	Suite *s = suite_create("deployrec");
	TCase *tc = tcase_create("deployrec");

	tcase_add_test(tc, test_revision_follows_the_definition);
	tcase_add_test(tc, test_definition_round_trip);
	tcase_add_test(tc, test_settings_round_trip);
	tcase_add_test(tc, test_link_frames);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_deployrec_suite());
}
