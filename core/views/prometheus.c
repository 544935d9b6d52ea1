/* prometheus.c - the status model as Prometheus text (see prometheus.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc/proc.h"
#include "prometheus.h"

static const char *const outcomes[] = { "success", "failed", "rolled_back",
					"aborted" };
#define NOUTCOMES (sizeof(outcomes) / sizeof(outcomes[0]))

void sysg_prometheus_label(FILE *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", out);
		else if (*v == '"')
			fputs("\\\"", out);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

static void head(FILE *out, const char *name, const char *type,
		 const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{unit="...",kind="..."[,EXTRA="VALUE"]} */
static void series(FILE *out, const char *name, const struct sysg_unit_view *u,
		   const char *extra, const char *value)
{
	fprintf(out, "%s{unit=\"", name);
	sysg_prometheus_label(out, u->name);
	fprintf(out, "\",kind=\"%s\"", sysg_unit_kind_name(u->kind));
	if (extra) {
		fprintf(out, ",%s=\"", extra);
		sysg_prometheus_label(out, value);
		fputc('"', out);
	}
	fputs("} ", out);
}

/* Deploy counts per unit and outcome. */
struct counts {
	const struct sysg_status *s;
	long *n;                /* [unit * NOUTCOMES + outcome] */
};

static int count_deploy(void *arg, const struct sysg_deploy_record *d)
{
	struct counts *c = arg;

	for (size_t i = 0; i < c->s->nunits; i++) {
		if (strcmp(c->s->units[i].name, d->service))
			continue;
		for (size_t k = 0; k < NOUTCOMES; k++)
			if (!strcmp(d->outcome, outcomes[k]))
				c->n[i * NOUTCOMES + k]++;
	}
	return 0;
}

static void unit_numbers(const struct sysg_status *s, FILE *out)
{
	long tck = sysconf(_SC_CLK_TCK);

	head(out, "sysg_up", "gauge", "1 while the unit has a live process.");
	for (size_t i = 0; i < s->nunits; i++) {
		series(out, "sysg_up", &s->units[i], NULL, NULL);
		fprintf(out, "%d\n", s->units[i].pid > 0);
	}
	head(out, "sysg_unit_status", "gauge",
	     "The unit's status word, as a label (value always 1).");
	for (size_t i = 0; i < s->nunits; i++) {
		series(out, "sysg_unit_status", &s->units[i], "status",
		       s->units[i].status);
		fputs("1\n", out);
	}
	head(out, "sysg_restarts_total", "counter",
	     "Automatic restarts of the unit.");
	for (size_t i = 0; i < s->nunits; i++) {
		series(out, "sysg_restarts_total", &s->units[i], NULL, NULL);
		fprintf(out, "%d\n", s->units[i].restarts);
	}
	head(out, "sysg_last_exit_code", "gauge",
	     "Exit code of the unit's last exit (units whose last exit had one).");
	for (size_t i = 0; i < s->nunits; i++)
		if (s->units[i].has_exit_code) {
			series(out, "sysg_last_exit_code", &s->units[i], NULL, NULL);
			fprintf(out, "%d\n", s->units[i].exit_code);
		}
	head(out, "sysg_last_exit_signal", "gauge",
	     "Signal that ended the unit's last run (units killed by one).");
	for (size_t i = 0; i < s->nunits; i++)
		if (s->units[i].has_signal) {
			series(out, "sysg_last_exit_signal", &s->units[i], NULL,
			       NULL);
			fprintf(out, "%d\n", s->units[i].signal);
		}
	head(out, "sysg_cpu_seconds_total", "counter",
	     "CPU time used by the unit's main process (live units).");
	for (size_t i = 0; i < s->nunits; i++) {
		struct sysg_procstat ps;

		if (s->units[i].pid <= 0 || tck <= 0 ||
		    sysg_procstat_read(s->units[i].pid, &ps) < 0)
			continue;
		series(out, "sysg_cpu_seconds_total", &s->units[i], NULL, NULL);
		fprintf(out, "%.2f\n", (double)(ps.utime + ps.stime) / (double)tck);
	}
	head(out, "sysg_rss_bytes", "gauge",
	     "Resident memory of the unit's processes (live units).");
	for (size_t i = 0; i < s->nunits; i++)
		if (s->units[i].rss_bytes >= 0 && s->units[i].pid > 0) {
			series(out, "sysg_rss_bytes", &s->units[i], NULL, NULL);
			fprintf(out, "%lld\n", (long long)s->units[i].rss_bytes);
		}
}

static void unit_states(const struct sysg_status *s, const long *deploys,
			FILE *out)
{
	static const enum sysg_unit_health hs[] = { SYSG_HEALTH_HEALTHY,
		SYSG_HEALTH_UNHEALTHY, SYSG_HEALTH_UNKNOWN };
	static const enum sysg_overall os[] = { SYSG_OVERALL_HEALTHY,
		SYSG_OVERALL_DEGRADED, SYSG_OVERALL_FAILING };

	head(out, "sysg_health", "gauge",
	     "Health of the unit: 1 on the current state, 0 on the others.");
	for (size_t i = 0; i < s->nunits; i++)
		for (size_t k = 0; k < 3; k++) {
			series(out, "sysg_health", &s->units[i], "health",
			       sysg_health_name(hs[k]));
			fprintf(out, "%d\n", s->units[i].health == hs[k]);
		}
	head(out, "sysg_deploys_total", "counter", "Deploys of the unit by outcome.");
	for (size_t i = 0; i < s->nunits; i++)
		for (size_t k = 0; k < NOUTCOMES; k++) {
			series(out, "sysg_deploys_total", &s->units[i], "outcome",
			       outcomes[k]);
			fprintf(out, "%ld\n", deploys ? deploys[i * NOUTCOMES + k] : 0);
		}
	head(out, "sysg_overall_health", "gauge",
	     "Overall health of the configured units (1 on the current state).");
	for (size_t k = 0; k < 3; k++)
		fprintf(out, "sysg_overall_health{health=\"%s\"} %d\n",
			sysg_overall_name(os[k]), s->overall == os[k]);
	head(out, "sysg_status_captured_timestamp_seconds", "gauge",
	     "When this status was captured (Unix time).");
	fprintf(out, "sysg_status_captured_timestamp_seconds %.3f\n",
		(double)s->captured_at_ms / 1000.0);
}

int sysg_status_render_prometheus(const struct sysg_status *s,
				  struct sysg_state *st, FILE *out)
{
	struct counts c = { s, calloc(s->nunits * NOUTCOMES + 1, sizeof(long)) };

	if (!c.n)
		return -ENOMEM;
	if (st)
		sysg_state_list_deploys(st, NULL, count_deploy, &c);
	unit_numbers(s, out);
	unit_states(s, c.n, out);
	free(c.n);
	return ferror(out) ? -EIO : 0;
}

int sysg_prometheus_write_file(const struct sysg_status *s,
			       struct sysg_state *st, const char *path,
			       char *err, size_t errlen)
{
	char tmp[4200];
	FILE *f = NULL;
	int fd, rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "metrics.textfile: path too long");
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0 && !(f = fdopen(fd, "w")))
		close(fd);
	rc = f ? sysg_status_render_prometheus(s, st, f) : -errno;
	/* no fsync: readers see the old file or the new one whole (the
	 * rename), and after a crash the next interval rewrites it */
	if (f && fflush(f) != 0 && rc == 0)
		rc = -errno;
	if (f && fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
	}
	return rc;
}
