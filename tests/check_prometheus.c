/* check_prometheus.c - metrics for monitoring (issue 11 item 10): the
 * Prometheus text exposition format of `sysg status --format prometheus`
 * (HELP/TYPE for every metric, escaped labels, deploys by outcome from the
 * state backend) and `metrics.textfile`, which the resident supervisor
 * rewrites atomically every sample interval. */
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemontest.h"
#include "plugin/plugin.h"
#include "testutil.h"
#include "views/views.h"

/* ---------------------------------------------------- format checker */

/* 1 when TEXT is valid exposition text: every sample line is
 * NAME{LABELS} VALUE or NAME VALUE, its NAME announced by "# TYPE"
 * (after "# HELP") earlier, label values quoted with only \\ \" \n
 * escapes. MSG says what is wrong. */
static int valid_exposition(const char *text, char *msg, size_t len)
{
	char typed[64][64];
	int ntyped = 0;

	for (const char *p = text; *p; ) {
		const char *end = strchr(p, '\n');
		char line[1024], name[64];
		size_t n = end ? (size_t)(end - p) : strlen(p), k = 0;
		int known = 0;

		if (!end || n >= sizeof(line)) {
			snprintf(msg, len, "line without newline or too long");
			return 0;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = end + 1;
		if (!strncmp(line, "# HELP ", 7))
			continue;
		if (!strncmp(line, "# TYPE ", 7)) {
			char type[32];

			if (sscanf(line + 7, "%63s %31s", typed[ntyped], type) != 2 ||
			    (strcmp(type, "gauge") && strcmp(type, "counter"))) {
				snprintf(msg, len, "bad TYPE: %.200s", line);
				return 0;
			}
			ntyped++;
			continue;
		}
		while (isalnum((unsigned char)line[k]) || line[k] == '_' ||
		       line[k] == ':')
			k++;
		if (k == 0 || k >= sizeof(name)) {
			snprintf(msg, len, "bad name: %.200s", line);
			return 0;
		}
		memcpy(name, line, k);
		name[k] = '\0';
		for (int i = 0; i < ntyped; i++)
			known |= !strcmp(typed[i], name);
		if (!known) {
			snprintf(msg, len, "no TYPE before: %.200s", line);
			return 0;
		}
		if (line[k] == '{') {
			k++;
			while (line[k] != '}') {
				while (isalnum((unsigned char)line[k]) ||
				       line[k] == '_')
					k++;
				if (line[k++] != '=' || line[k++] != '"') {
					snprintf(msg, len, "bad label: %.200s", line);
					return 0;
				}
				while (line[k] != '"') {
					if (!line[k] || (line[k] == '\\' &&
					    !strchr("\\\"n", line[k + 1]))) {
						snprintf(msg, len, "bad escape: %.200s",
							 line);
						return 0;
					}
					k += line[k] == '\\' ? 2 : 1;
				}
				k++;
				if (line[k] == ',')
					k++;
			}
			k++;
		}
		if (line[k] != ' ' || !line[k + 1] ||
		    strspn(line + k + 1, "0123456789.-e+") != strlen(line + k + 1)) {
			snprintf(msg, len, "bad value: %.200s", line);
			return 0;
		}
	}
	return 1;
}

/* ----------------------------------------------------------- unit */

START_TEST(test_render_escapes_and_counts)
{
	char *dir = tu_mkdtemp("prom"), *buf = NULL, err[512], msg[256];
	struct sysg_plugin_path pp;
	struct sysg_state *st = NULL;
	struct sysg_unit_view u[2];
	struct sysg_status s = { 1700000000123, SYSG_OVERALL_DEGRADED, u, 2 };
	struct sysg_deploy_record d = { .service = "api", .outcome = "success" };
	size_t len = 0;
	FILE *f;

	memset(u, 0, sizeof(u));
	snprintf(u[0].name, sizeof(u[0].name), "api");
	snprintf(u[0].status, sizeof(u[0].status), "failed");
	u[0].health = SYSG_HEALTH_UNHEALTHY;
	u[0].restarts = 4;
	u[0].has_signal = 1;
	u[0].signal = 9;
	u[0].rss_bytes = -1;
	snprintf(u[1].name, sizeof(u[1].name), "we\"ird\\na\nme");
	snprintf(u[1].status, sizeof(u[1].status), "running");
	u[1].kind = SYSG_UNIT_ORPHANED;
	u[1].pid = getpid();
	u[1].rss_bytes = 4096;
	u[1].has_exit_code = 1;
	u[1].exit_code = 3;
	ck_assert_int_eq(sysg_plugin_path_init(&pp, NULL), 0);
	ck_assert_msg(sysg_state_open(&st, &pp, NULL, dir, NULL, err,
				      sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(sysg_state_add_deploy(st, &d), 0);
	snprintf(d.id, sizeof(d.id), "two");
	ck_assert_int_eq(sysg_state_add_deploy(st, &d), 0);
	snprintf(d.id, sizeof(d.id), "three");
	snprintf(d.outcome, sizeof(d.outcome), "rolled_back");
	ck_assert_int_eq(sysg_state_add_deploy(st, &d), 0);

	f = open_memstream(&buf, &len);
	ck_assert_int_eq(sysg_status_render_prometheus(&s, st, f), 0);
	fclose(f);
	ck_assert_msg(valid_exposition(buf, msg, sizeof(msg)), "%s\n%s", msg, buf);
	ck_assert_ptr_nonnull(strstr(buf, "# HELP sysg_up "));
	ck_assert_ptr_nonnull(strstr(buf, "# TYPE sysg_restarts_total counter\n"));
	ck_assert_ptr_nonnull(strstr(buf,
		"sysg_up{unit=\"we\\\"ird\\\\na\\nme\",kind=\"orphaned\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(buf, "sysg_up{unit=\"api\",kind=\"service\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(buf,
		"sysg_restarts_total{unit=\"api\",kind=\"service\"} 4\n"));
	ck_assert_ptr_nonnull(strstr(buf,
		"sysg_last_exit_signal{unit=\"api\",kind=\"service\"} 9\n"));
	ck_assert_ptr_null(strstr(buf, "sysg_last_exit_code{unit=\"api\""));
	ck_assert_ptr_nonnull(strstr(buf, "sysg_last_exit_code{unit=\"we"));
	ck_assert_ptr_nonnull(strstr(buf, "sysg_rss_bytes{unit=\"we"));
	ck_assert_ptr_nonnull(strstr(buf, "sysg_cpu_seconds_total{unit=\"we"));
	ck_assert_ptr_nonnull(strstr(buf,
		"sysg_health{unit=\"api\",kind=\"service\",health=\"unhealthy\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(buf,
		"sysg_health{unit=\"api\",kind=\"service\",health=\"healthy\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(buf,
		"sysg_deploys_total{unit=\"api\",kind=\"service\",outcome=\"success\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(buf,
		"sysg_deploys_total{unit=\"api\",kind=\"service\",outcome=\"rolled_back\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(buf,
		"sysg_deploys_total{unit=\"api\",kind=\"service\",outcome=\"failed\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(buf,
		"sysg_overall_health{health=\"degraded\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(buf,
		"sysg_status_captured_timestamp_seconds 1700000000.123\n"));
	free(buf);
	sysg_state_close(st);
	sysg_plugin_path_free(&pp);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* ------------------------------------------------------- black-box */

START_TEST(test_status_format_prometheus)
{
	struct dt t;
	struct run_result r;
	char msg[256];

	dt_setup(&t, NULL, "version: \"1\"\nservices:\n"
		 "  a: { command: \"sleep 1000\", ready_after: 50ms }\n"
		 "  b: { command: \"sh -c 'exit 3'\" }\n");
	/* offline first: nothing runs */
	ck_assert_int_eq(dt_sysg(&t, &r, "status", "--format", "prometheus",
				 NULL), 0);
	ck_assert_msg(valid_exposition(r.out, msg, sizeof(msg)), "%s", msg);
	ck_assert_ptr_nonnull(strstr(r.out, "sysg_up{unit=\"a\",kind=\"service\"} 0\n"));
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, NULL, "start", "--daemonize", NULL), 1);
	dt_track(&t, dt_daemon_pid(&t));
	ck_assert_int_eq(dt_sysg(&t, &r, "status", "--format", "prometheus",
				 NULL), 0);
	ck_assert_msg(valid_exposition(r.out, msg, sizeof(msg)), "%s", msg);
	ck_assert_ptr_nonnull(strstr(r.out, "sysg_up{unit=\"a\",kind=\"service\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(r.out,
		"sysg_last_exit_code{unit=\"b\",kind=\"service\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "sysg_rss_bytes{unit=\"a\""));
	run_result_free(&r);
	ck_assert_int_eq(dt_sysg(&t, &r, "status", "--format", "yaml", NULL), 2);
	run_result_free(&r);
	dt_teardown(&t);
}
END_TEST

START_TEST(test_textfile)
{
	struct dt t;
	char *text, msg[256], path[4096];
	struct stat st;

	dt_setup(&t, NULL, "version: \"1\"\n"
		 "metrics: { textfile: \"out/sysg.prom\" }\n"
		 "services:\n"
		 "  a: { command: \"sleep 1000\", ready_after: 50ms }\n");
	snprintf(path, sizeof(path), "%s/out", t.dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	dt_start_daemon(&t);
	ck_assert(dt_wait_file(&t, "out/sysg.prom",
			       "sysg_up{unit=\"a\",kind=\"service\"} 1\n", 5000));
	text = dt_read(&t, "out/sysg.prom");
	ck_assert_msg(valid_exposition(text, msg, sizeof(msg)), "%s", msg);
	free(text);
	snprintf(path, sizeof(path), "%s/out/sysg.prom", t.dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	/* written through a temporary name, which is never left behind */
	snprintf(path, sizeof(path), "%s/out/sysg.prom.tmp", t.dir);
	ck_assert_int_ne(access(path, F_OK), 0);
	/* rewritten each interval: after a stop of a, it says so */
	ck_assert_int_eq(dt_sysg(&t, NULL, "stop", "-s", "a", NULL), 0);
	ck_assert(dt_wait_file(&t, "out/sysg.prom",
			       "sysg_up{unit=\"a\",kind=\"service\"} 0\n", 15000));
	dt_teardown(&t);
}
END_TEST

static Suite *make_prometheus_suite(void)
{
	Suite *s = suite_create("prometheus");
	TCase *tc = tcase_create("format");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, dt_suite_setup, dt_suite_teardown);
	tcase_add_test(tc, test_render_escapes_and_counts);
	tcase_add_test(tc, test_status_format_prometheus);
	tcase_add_test(tc, test_textfile);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_prometheus_suite());
}
