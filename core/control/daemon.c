/* daemon.c - the supervisor process, foreground or resident (see
 * daemon.h). */
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctlserver.h"
#include "daemon.h"
#include "registry.h"
#include "upgrade.h"
#include "sdnotify.h"
#include "base/base.h"
#include "proc/proc.h"
#include "views/views.h"
#include "plugin/plugin.h"
#include "engine/engine.h"

/* ------------------------------------------------------------- files */

int sysg_pidfile_write(const char *state_dir)
{
	char dir[SYSG_PATH_MAX], text[64];
	uint64_t ticks = 0;
	int rc = sysg_run_dir(state_dir, dir, sizeof(dir));

	if (rc < 0)
		return rc;
	/* the start time first: a reader that sees the new pid finds it */
	sysg_proc_start_ticks(getpid(), &ticks);
	snprintf(text, sizeof(text), "%d %llu\n", (int)getpid(),
		 (unsigned long long)ticks);
	rc = sysg_write_file_atomic(dir, SYSG_FILE_PID_START, text);
	snprintf(text, sizeof(text), "%d\n", (int)getpid());
	if (rc == 0)
		rc = sysg_write_file_atomic(dir, SYSG_FILE_PID, text);
	/* system mode: also where systemg keeps it, for scripts */
	if (rc == 0 && strcmp(dir, state_dir))
		rc = sysg_write_file_atomic(state_dir, SYSG_FILE_PID, text);
	return rc;
}

/* Remove DIR/sysg.pid (and sysg.pid.start) if it names the calling
 * process. */
static void remove_own_pidfile(const char *dir)
{
	char path[SYSG_STATE_FILE_MAX], buf[64];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "%s/" SYSG_FILE_PID, dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (atoi(buf) == (int)getpid()) {
		unlink(path);
		snprintf(path, sizeof(path), "%s/" SYSG_FILE_PID_START, dir);
		unlink(path);
	}
}

void sysg_pidfile_remove(const char *state_dir)
{
	char dir[SYSG_PATH_MAX];

	if (sysg_run_dir(state_dir, dir, sizeof(dir)) < 0)
		return;
	remove_own_pidfile(dir);
	if (strcmp(dir, state_dir))
		remove_own_pidfile(state_dir);
}

/* sysg.lock: held (flock) for the supervisor's whole life. The fd is
 * close-on-exec, so no service keeps it after a supervisor's death. */
static int take_lock(const char *state_dir, char *err, size_t errlen)
{
	char path[SYSG_STATE_FILE_MAX];
	int64_t pid = 0;
	int fd;

	if (sysg_run_file(state_dir, SYSG_FILE_LOCK, path, sizeof(path)) < 0) {
		sysg_errf(err, errlen, "%s: path too long", state_dir);
		return -ENAMETOOLONG;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		sysg_errf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	close(fd);
	sysg_supervisor_alive(state_dir, &pid);
	if (pid > 0)
		sysg_errf(err, errlen, "a supervisor is already running (pid %lld)",
			  (long long)pid);
	else
		sysg_errf(err, errlen, "a supervisor is already running "
			  "(starting up) for %s", state_dir);
	return -EADDRINUSE;
}

/* ----------------------------------------------------------- detach */

/* In the detached grandchild: stdio on /dev/null, KEEP moved to fd 3
 * (close-on-exec), every other fd closed. Returns the new KEEP. */
static int detach_fds(int keep)
{
	int high = fcntl(keep, F_DUPFD_CLOEXEC, 10);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	for (int fd = 0; fd <= 2 && null >= 0; fd++) {
		if (fd != null)
			dup2(null, fd);
		else
			fcntl(fd, F_SETFD, 0);
	}
	if (high < 0 || dup3(high, 3, O_CLOEXEC) < 0)
		_exit(1);
	close_range(4, ~0U, 0);
	return 3;
}

int sysg_daemonize(int *fd)
{
	int p[2], status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid > 0) {
		close(p[1]);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		*fd = p[0];
		return 1;
	}
	close(p[0]);
	if (setsid() < 0 || (pid = fork()) < 0)
		_exit(1);       /* the parent reads EOF: reported */
	if (pid > 0)
		_exit(0);
	umask(022);
	if (chdir("/") < 0)
		_exit(1);
	*fd = detach_fds(p[1]);
	return 0;
}

/* ---------------------------------------------------------- outcome */

/* The outcome pipe carries "E message\n" lines, then "X code\n". */
void sysg_daemon_report(int fd, int exit_code, const char *lines)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (fd < 0)
		return;
	f = open_memstream(&buf, &len);
	if (f) {
		for (const char *p = lines; p && *p;) {
			size_t n = strcspn(p, "\n");

			if (n)
				fprintf(f, "E %.*s\n", (int)n, p);
			p += n + (p[n] == '\n');
		}
		fprintf(f, "X %d\n", exit_code);
		fclose(f);
	}
	for (size_t off = 0; buf && off < len;) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(buf);
	close(fd);
}

int sysg_daemon_wait(int fd, int timeout_ms, FILE *err)
{
	int64_t deadline = sysg_now_ms() + timeout_ms;
	FILE *f = fdopen(fd, "r");
	char line[SYSG_MSG_MAX];
	int code = -EPIPE;

	if (!f) {
		close(fd);
		return -EPIPE;
	}
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int64_t left = deadline - sysg_now_ms();

		/* the report is small: once readable, fgets gets whole lines
		 * (the daemon writes it in one go and closes) */
		if (left <= 0 || (poll(&p, 1, (int)left) == 0)) {
			fclose(f);
			return -ETIMEDOUT;
		}
		if (!fgets(line, sizeof(line), f))
			break;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == 'E' && line[1] == ' ')
			fprintf(err, "sysg: %s\n", line + 2);
		else if (line[0] == 'X' && line[1] == ' ')
			code = atoi(line + 2);
	}
	fclose(f);
	return code;
}

/* ------------------------------------------------------------ sampling */

#define FIRST_SAMPLE_MS 1000

/* One /proc scan per round and the trees found in it, reused from round
 * to round: no allocation per sample once they have grown. */
struct procs {
	struct sysg_proc_snapshot snap;
	struct sysg_pidset tree;
	struct sysg_proc_stat *stats;   /* the tree's entries in SNAP */
	size_t cap;
};

struct daemon {
	const struct sysg_daemon_opts *o;
	struct sysg_supervisor *sup;
	struct sysg_state *st;
	struct sysg_ctlsrv *ctl;
	struct sysg_samples *samples;
	struct sysg_log log;
	struct sysg_timer sample_timer;
	int64_t sample_ms;              /* metrics.sample_interval_secs */
	struct sysg_spill *spill;       /* metrics.spillover_path, or NULL */
	char *spill_path;               /* its settings */
	int64_t spill_max, spill_segment;
	struct procs procs;
	/* without `metrics:`, only the units inspect asked for are sampled,
	 * each until WATCH_MS after its last inspect (none: no timer) */
	struct watch {
		char *name;
		int64_t until_ms;
	} *watch;
	size_t nwatch;
	int lock_fd;
	int result_fd;
	int initial_failed;
	struct sysg_notify notify;      /* the service manager (systemd) */
	int notify_rc;                  /* sysg_notify_init's result */
	int told_stopping;              /* STOPPING=1 sent, not yet undone */
};

/* The processes of the unit at index I (the rule its stop uses), as
 * the round's scan read them, into p->stats; returns how many. */
static size_t tree_stats(struct daemon *d, size_t i)
{
	struct procs *p = &d->procs;
	size_t k = 0;

	if (sysg_supervisor_tree(d->sup, i, &p->snap, &p->tree) < 0)
		return 0;
	if (p->tree.n > p->cap) {
		struct sysg_proc_stat *nv = realloc(p->stats, p->tree.n *
						    sizeof(*nv));

		if (!nv)
			return 0;
		p->stats = nv;
		p->cap = p->tree.n;
	}
	for (size_t j = 0; j < p->tree.n; j++) {
		const struct sysg_proc_stat *ps =
			sysg_proc_snapshot_find(&p->snap, p->tree.v[j].pid);

		if (ps)
			p->stats[k++] = *ps;
	}
	return k;
}

/* Sample unit I (as sysg_supervisor_get_index numbers them); *SCANNED
 * says whether this round's /proc scan was taken (1), failed (-1) or not
 * yet (0). */
static void sample_one(struct daemon *d, size_t i, int64_t up, int64_t wall,
		       int *scanned)
{
	struct sysg_unit_record u;
	size_t k = 0;

	if (sysg_supervisor_get_index(d->sup, i, &u) < 0)
		return;
	if (u.pid > 0 && !*scanned)
		*scanned = sysg_proc_snapshot_take(&d->procs.snap) == 0 ? 1 : -1;
	if (u.pid > 0 && *scanned > 0)
		k = tree_stats(d, i);
	sysg_samples_take_stats(d->samples, u.name, d->procs.stats, k, up,
				wall);
}

/* With `metrics:` the user asked for every unit at its interval; without
 * it (the default) sampling is lazy, so that an idle supervisor of
 * thousands of services costs no CPU: only watched units. */
static int sample_lazy(const struct daemon *d)
{
	return !sysg_supervisor_config(d->sup)->metrics.present;
}

#define WATCH_MS (SYSG_SAMPLES_CAP * (int64_t)SYSG_SAMPLE_INTERVAL_MS)

/* Drop the watches that expired. */
static void watch_expire(struct daemon *d, int64_t now)
{
	size_t k = 0;

	for (size_t i = 0; i < d->nwatch; i++) {
		if (d->watch[i].until_ms > now &&
		    sysg_supervisor_index(d->sup, d->watch[i].name) >= 0)
			d->watch[k++] = d->watch[i];
		else
			free(d->watch[i].name);
	}
	d->nwatch = k;
	if (!k) {
		free(d->watch);
		d->watch = NULL;
	}
}

static void sample_all(struct daemon *d)
{
	size_t n = sysg_supervisor_count(d->sup);
	int64_t up = 0, wall = sysg_wall_ms();
	int scanned = 0;

	if (sysg_proc_uptime_ms(&up) < 0)
		return;
	if (!sample_lazy(d)) {
		for (size_t i = 0; i < n; i++)
			sample_one(d, i, up, wall, &scanned);
		return;
	}
	watch_expire(d, sysg_now_ms());
	for (size_t i = 0; i < d->nwatch; i++) {
		int k = sysg_supervisor_index(d->sup, d->watch[i].name);

		if (k >= 0)
			sample_one(d, (size_t)k, up, wall, &scanned);
	}
}

/* metrics.textfile: the Prometheus text of the current status, written
 * atomically for node_exporter's textfile collector. */
static void write_textfile(struct daemon *d)
{
	const struct sysg_config *cfg = sysg_supervisor_config(d->sup);
	struct sysg_live l = { d->sup, cfg, d->st, d->samples,
			       d->o->state_dir };
	struct sysg_status_opts o = { 0 };
	struct sysg_status s;
	char err[512];

	if (!cfg->metrics.textfile)
		return;
	if (sysg_live_status(&l, &o, &s, err, sizeof(err)) == 0) {
		if (sysg_prometheus_write_file(&s, d->st, cfg->metrics.textfile,
					       err, sizeof(err)) < 0)
			sysg_log(&d->log, SYSG_LOG_WARN, "%s", err);
		sysg_status_free(&s);
	} else {
		sysg_log(&d->log, SYSG_LOG_WARN, "metrics.textfile: %s", err);
	}
}

/* The spill as METRICS asks: reopened when its settings changed. */
static int apply_spill(struct daemon *d, const struct sysg_metrics_cfg *m,
		       char *err, size_t errlen)
{
	const char *path = m->spillover_max_bytes > 0 ? m->spillover_path :
			   NULL;
	int rc = 0;

	if (d->spill_path == path || (d->spill_path && path &&
	    !strcmp(d->spill_path, path) &&
	    d->spill_max == m->spillover_max_bytes &&
	    d->spill_segment == m->spillover_segment_bytes))
		return 0;
	sysg_samples_on_evict(d->samples, NULL, NULL);
	sysg_spill_close(d->spill);
	free(d->spill_path);
	d->spill = NULL;
	free(d->spill_path);
	d->spill_path = NULL;
	if (!path)
		return 0;
	/* the settings are kept even when the spill cannot open: it is
	 * not retried (nor reported again) until they change */
	d->spill_path = strdup(path);
	d->spill_max = m->spillover_max_bytes;
	d->spill_segment = m->spillover_segment_bytes;
	rc = sysg_spill_open(&d->spill, path, m->spillover_max_bytes,
			     m->spillover_segment_bytes, err, errlen);
	if (rc == 0)
		sysg_samples_on_evict(d->samples, sysg_spill_evict, d->spill);
	return rc;
}

/* The sampler behind inspect, as the config's `metrics:` says (SPEC 11,
 * systemg 0.32's settings); applied at setup and again each round, so a
 * reload's new settings take effect. Without the section, sysg's lighter
 * default: a sample every SYSG_SAMPLE_INTERVAL_MS, SYSG_SAMPLES_CAP kept. */
static int apply_metrics(struct daemon *d, const struct sysg_config *cfg,
			 char *err, size_t errlen)
{
	const struct sysg_metrics_cfg *m = &cfg->metrics;
	int64_t keep;

	if (!m->present) {
		d->sample_ms = SYSG_SAMPLE_INTERVAL_MS;
		sysg_samples_limit(d->samples, SYSG_SAMPLES_CAP, 0, 0);
		return apply_spill(d, m, err, errlen);
	}
	d->sample_ms = m->sample_interval_secs * 1000;
	keep = m->retention_minutes * 60 / m->sample_interval_secs;
	sysg_samples_limit(d->samples, (size_t)(keep > 0 ? keep : 1),
			   m->retention_minutes * 60000,
			   (size_t)m->max_memory_bytes);
	return apply_spill(d, m, err, errlen);
}

static void on_sample(struct sysg_timer *t)
{
	struct daemon *d = t->arg;
	char err[256];

	if (apply_metrics(d, sysg_supervisor_config(d->sup), err,
			  sizeof(err)) < 0)
		sysg_log(&d->log, SYSG_LOG_WARN, "Samples are not spilled: %s",
			 err);
	sample_all(d);
	write_textfile(d);
	if (!sample_lazy(d) || d->nwatch)
		sysg_timer_start(sysg_supervisor_loop(d->sup), &d->sample_timer,
				 d->sample_ms, on_sample, d);
}

/* `inspect` asked for NAME: in the default (lazy) mode, watch it for the
 * retention window and sample it now when its newest sample is older than
 * the interval, so that the view has one; then sample it with the rest
 * of the watched units. NAME NULL: the config changed (a new `metrics:`
 * section samples everything from now on). */
static void on_sampler(void *arg, const char *name)
{
	struct daemon *d = arg;
	int64_t now = sysg_now_ms(), up = 0, wall = sysg_wall_ms();
	int k = name ? sysg_supervisor_index(d->sup, name) : -1;
	struct sysg_sample last;
	struct watch *nv;
	size_t i;
	int scanned = 0;

	if (!sample_lazy(d) || (!name && d->nwatch)) {
		if (!d->sample_timer.armed)
			sysg_timer_start(sysg_supervisor_loop(d->sup),
					 &d->sample_timer, d->sample_ms,
					 on_sample, d);
		return;
	}
	if (k < 0)
		return;
	for (i = 0; i < d->nwatch && strcmp(d->watch[i].name, name); i++)
		;
	if (i == d->nwatch) {
		nv = realloc(d->watch, (d->nwatch + 1) * sizeof(*nv));
		if (!nv || !(nv[i].name = strdup(name))) {
			if (nv)
				d->watch = nv;
			return;
		}
		d->watch = nv;
		d->nwatch++;
	}
	d->watch[i].until_ms = now + WATCH_MS;
	if ((sysg_samples_latest(d->samples, name, &last) < 0 ||
	     wall - last.at_ms >= d->sample_ms) &&
	    sysg_proc_uptime_ms(&up) == 0)
		sample_one(d, (size_t)k, up, wall, &scanned);
	if (!d->sample_timer.armed)
		sysg_timer_start(sysg_supervisor_loop(d->sup), &d->sample_timer,
				 d->sample_ms, on_sample, d);
}

/* The first sample, soon after the start so that inspect has something
 * early; then give back what setting up freed: the resident supervisor's
 * memory is a target (SPEC 9). */
static void on_first_sample(struct sysg_timer *t)
{
	on_sample(t);
	malloc_trim(0);
}

static void procs_free(struct procs *p)
{
	sysg_proc_snapshot_free(&p->snap);
	sysg_pidset_free(&p->tree);
	free(p->stats);
}
/* -------------------------------------------------------------- run */

static void on_failure(void *arg, const char *svc, const char *reason)
{
	struct daemon *d = arg;

	if (d->o->foreground && d->o->err)
		fprintf(d->o->err, "sysg: service %s failed to start: %s (logs: "
			"%s/%s_stderr.log)\n", svc, reason, d->o->log_dir, svc);
}

/* SIGUSR1 / logs --reopen: our own handle on supervisor.log too. */
static void on_reopen(void *arg)
{
	struct daemon *d = arg;

	sysg_log_reopen_main(&d->log);
}

static void on_sighup(void *arg)
{
	struct daemon *d = arg;

	if (d->ctl && !d->o->foreground)
		sysg_ctlsrv_reload_file(d->ctl);
}

/* Tell the service manager (when one started us) STATE; a failure is
 * logged, never fatal. */
static void notify(struct daemon *d, const char *state)
{
	int rc = sysg_notify_send(&d->notify, state);

	if (rc < 0)
		sysg_log(&d->log, SYSG_LOG_WARN, "NOTIFY_SOCKET: cannot send "
			 "to the service manager: %s", strerror(-rc));
}

/* The initial start is over: the service manager may go on (READY=1,
 * whether or not every service came up: the supervisor itself is up and
 * STATUS says how it went); a resident supervisor is not the process the
 * manager started, so it names itself the main process. */
static void notify_ready(struct daemon *d, int exit_code)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", exit_code ?
		 "some services failed to start (see sysg status)" :
		 "all services started");
	if (!d->o->foreground)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
			 "\nMAINPID=%d", (int)getpid());
	notify(d, msg);
}

/* The initial start is over: tell the CLI that is waiting for it. */
/* 1 when some service has a process, a restart pending or a schedule:
 * something for a supervisor to do. */
static int anything_up(struct daemon *d)
{
	size_t n = sysg_supervisor_count(d->sup);

	for (size_t i = 0; i < n; i++) {
		struct sysg_service_info in;

		if (sysg_supervisor_info(d->sup, i, &in) < 0)
			continue;
		if (in.rec.pid > 0 || !strcmp(in.rec.status, "backoff") ||
		    !strcmp(in.rec.status, "scheduled") ||
		    !strcmp(in.rec.status, "starting"))
			return 1;
	}
	return 0;
}

static void initial_done(void *arg, int exit_code, const char *lines)
{
	struct daemon *d = arg;
	char *more = NULL;

	notify_ready(d, exit_code);
	d->initial_failed = exit_code != 0;
	/* a start that failed with nothing running leaves no supervisor
	 * behind (a partial failure keeps it: the rest runs) */
	if (exit_code != 0 && !d->o->foreground && !anything_up(d)) {
		if (asprintf(&more, "%s%snothing is running: the supervisor "
			     "exits", lines ? lines : "",
			     lines && *lines ? "\n" : "") < 0)
			more = NULL;
		sysg_log(&d->log, SYSG_LOG_INFO, "Nothing started: the "
			 "supervisor exits");
		sysg_supervisor_stop_all(d->sup);
	}
	/* the records are on disk, and the state helper gone, first */
	sysg_state_release(d->st);
	sysg_daemon_report(d->result_fd, exit_code, more ? more : lines);
	free(more);
	d->result_fd = -1;
}

static int open_state(struct daemon *d, char *err, size_t errlen)
{
	const struct sysg_daemon_opts *o = d->o;
	const char *backend = o->state_backend ? o->state_backend :
			      o->cfg->state_backend;

	/* the backend (libxml2, sqlite) lives in a helper process: the
	 * resident supervisor never maps it */
	return sysg_state_open_remote(&d->st, o->pp, backend, o->state_dir,
				      o->cfg->state_path, err, errlen);
}

static int new_supervisor(struct daemon *d, char *err, size_t errlen)
{
	const struct sysg_daemon_opts *o = d->o;
	struct sysg_supervisor_opts so = {
		.state_dir = o->state_dir, .log_dir = o->log_dir, .sys = o->sys,
		.drop_privileges = o->drop_privileges,
		/* supervisor.log keeps INFO and up; --log-level debug|trace
		 * adds the finer lines */
		.log_level = o->log_level > SYSG_LOG_INFO ? o->log_level :
			     SYSG_LOG_INFO, .echo = o->echo,
		.echo_level = o->log_level, .echo_stderr = o->echo_stderr,
		.kind = o->kind, .direct_logs = !o->foreground,
		.on_failure = on_failure, .arg = d, .on_sighup = on_sighup,
		.on_output = o->mux ? sysg_mux_output : NULL,
		.output_arg = o->mux, .on_reopen = on_reopen,
	};
	int rc = sysg_supervisor_new(&d->sup, o->cfg, d->st, &so, err, errlen);

	if (rc == 0 && o->mux && (rc = sysg_mux_attach(o->mux, d->sup)) < 0)
		sysg_errf(err, errlen, "out of memory");
	return rc;
}

static int new_ctlsrv(struct daemon *d, char *err, size_t errlen)
{
	struct sysg_ctlsrv_opts co = {
		.sup = d->sup, .st = d->st, .samples = d->samples,
		.log = &d->log, .state_dir = d->o->state_dir,
		.log_dir = d->o->log_dir, .foreground = d->o->foreground,
		.adopt_listener = d->o->resume && d->o->resume->ctl_fd >= 0,
		.listen_fd = d->o->resume ? d->o->resume->ctl_fd : -1,
		.generation = d->o->resume ? d->o->resume->generation : 0,
		.pp = d->o->pp, .sampler = on_sampler, .sampler_arg = d,
	};
	int rc = sysg_log_open(&d->log, d->o->log_dir, SYSG_LOG_INFO);

	if (rc < 0) {
		if (d->log.why[0])
			sysg_errf(err, errlen, "%s", d->log.why);
		else
			sysg_errf(err, errlen, "cannot open %s/supervisor.log: "
				  "%s", d->o->log_dir, strerror(-rc));
		return rc;
	}
	return sysg_ctlsrv_new(&d->ctl, &co, err, errlen);
}

/* A subscriber to the supervisor's changes: a full stop began (a stop
 * request, SIGTERM, Ctrl+C) and the services go down: STOPPING=1; a start
 * request that ended it: READY=1 again. */
static void notify_stopping(void *arg, const struct sysg_unit_change *ch)
{
	struct daemon *d = arg;
	int stopping = sysg_supervisor_shutting_down(d->sup);

	(void)ch;
	if (stopping == d->told_stopping)
		return;
	d->told_stopping = stopping;
	notify(d, stopping ? "STOPPING=1\nSTATUS=stopping the services" :
	       "READY=1\nSTATUS=services started again");
}

/* Everything the supervisor needs, in order. */
static int setup(struct daemon *d, char *err, size_t errlen)
{
	const struct sysg_daemon_opts *o = d->o;
	char run_dir[SYSG_PATH_MAX];
	int rc = sysg_run_dir(o->state_dir, run_dir, sizeof(run_dir));

	if (rc < 0)
		sysg_errf(err, errlen, "%s: path too long", o->state_dir);
	/* the state directory, and the runtime one of system mode */
	for (int i = 0; i < 2 && rc == 0; i++) {
		const char *dir = i ? run_dir : o->state_dir;

		if (i && !strcmp(run_dir, o->state_dir))
			break;
		rc = sysg_mkdir_p(dir, 0700, 0);
		if (rc < 0)
			sysg_errf(err, errlen, "cannot create %s: %s", dir,
				  strerror(-rc));
	}
	if (rc < 0)
		return rc;
	d->lock_fd = o->resume ? o->resume->lock_fd :
		     take_lock(o->state_dir, err, errlen);
	if (d->lock_fd < 0)
		return d->lock_fd;
	rc = open_state(d, err, errlen);
	if (rc == 0 && (rc = sysg_pidfile_write(o->state_dir)) < 0)
		sysg_errf(err, errlen, "cannot write %s/" SYSG_FILE_PID ": %s",
			  run_dir, strerror(-rc));
	if (rc == 0 && (rc = sysg_samples_new(&d->samples, 0)) < 0)
		sysg_errf(err, errlen, "out of memory");
	if (rc == 0)
		rc = apply_metrics(d, d->o->cfg, err, errlen);
	if (rc == 0)
		rc = new_supervisor(d, err, errlen);
	if (rc == 0 && d->notify.fd >= 0 &&
	    sysg_supervisor_subscribe(d->sup, notify_stopping, d) < 0) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
	}
	if (rc == 0)
		rc = new_ctlsrv(d, err, errlen);
	return rc;
}

/* The samples of NAME the previous image handed over (inspect's chart
 * goes on where it was). */
static void restore_samples(struct daemon *d, const char *name,
			    const json_t *a)
{
	struct sysg_sample *v = NULL;
	size_t n = 0;

	if (json_is_array(a) && sysg_samples_from_json(a, &v, &n) == 0 && n)
		sysg_samples_restore(d->samples, name, v, n);
	free(v);
}

/* After a live upgrade: the services were adopted (same pids, still our
 * children); cron units that were armed are armed again; nothing else
 * starts. Says in supervisor.log what was kept. */
static void resume_start(struct daemon *d, int adopted)
{
	const json_t *svcs = d->o->resume->services;
	size_t i, same = 0, had = 0;
	json_t *u;

	json_array_foreach(svcs, i, u) {
		const char *name = json_string_value(json_object_get(u, "name"));
		const char *st = json_string_value(json_object_get(u, "status"));
		json_int_t pid = json_integer_value(json_object_get(u, "pid"));
		struct sysg_unit_record rec;

		if (!name)
			continue;
		restore_samples(d, name, json_object_get(u, "samples"));
		if (st && !strcmp(st, "scheduled"))
			sysg_supervisor_start_service(d->sup, name);
		if (sysg_supervisor_get(d->sup, name, &rec) < 0)
			continue;       /* no longer in the config file */
		if (pid > 0)
			had++;
		if (pid > 0 && rec.pid == pid) {
			same++;
			continue;
		}
		/* it was up, starting or due for a restart: its exit (or its
		 * pending restart) must not be lost */
		if (!st || (strcmp(st, "running") && strcmp(st, "starting") &&
			    strcmp(st, "backoff")))
			continue;
		sysg_log(&d->log, SYSG_LOG_INFO, "Live upgrade: %s %s; "
			 "starting it again", name, pid > 0 ? "exited during "
			 "the exec" : "was due for a restart");
		sysg_supervisor_start_service(d->sup, name);
	}
	sysg_log(&d->log, SYSG_LOG_INFO, "Live upgrade %d%s: now running %s; "
		 "%zu of %zu running services kept (%d adopted)",
		 d->o->resume->generation, d->o->resume->fallback ?
		 " failed, back to the previous binary" : " done",
		 SYSG_VERSION_STRING, same, had, adopted);
}

static int start(struct daemon *d, char *err, size_t errlen)
{
	const struct sysg_daemon_opts *o = d->o;
	int n, rc;

	sysg_ctlsrv_recover_prepare(d->ctl);
	n = sysg_supervisor_adopt(d->sup);
	if (n > 0 && !o->resume)
		sysg_log(&d->log, SYSG_LOG_INFO, "Adopted %d running "
			 "process%s", n, n == 1 ? "" : "es");
	if (o->resume) {
		resume_start(d, n);
		rc = 0;
	} else {
		rc = sysg_ctlsrv_start(d->ctl, o->service, initial_done, d);
	}
	if (rc < 0) {
		sysg_config_unknown_service(o->cfg, o->service, err, errlen);
		return rc;
	}
	if (o->cfg->abs_path && (!o->kind || strcmp(o->kind, "unit")))
		sysg_write_file_atomic(o->state_dir, SYSG_FILE_CONFIG_HINT,
				       o->cfg->abs_path);
	sysg_timer_start(sysg_supervisor_loop(d->sup), &d->sample_timer,
			 FIRST_SAMPLE_MS, on_first_sample, d);
	return 0;
}

static int until_done(struct sysg_supervisor *s, void *arg)
{
	struct daemon *d = arg;

	(void)s;
	return sysg_ctlsrv_poll(d->ctl);
}

/* The services as the handoff lists them. */
static json_t *handoff_services(struct daemon *d)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < sysg_supervisor_count(d->sup); i++) {
		struct sysg_unit_record u;

		struct sysg_sample *smp = NULL;
		size_t n = 0;

		if (sysg_supervisor_get_index(d->sup, i, &u) < 0)
			continue;
		sysg_samples_get(d->samples, u.name, &smp, &n);
		json_array_append_new(a, json_pack(
			"{s:s, s:I, s:I, s:s, s:o}", "name", u.name,
			"pid", (json_int_t)u.pid, "start_ticks",
			(json_int_t)u.start_ticks, "status", u.status,
			"samples", n ? sysg_samples_to_json(smp, n) :
			json_array()));
		free(smp);
	}
	return a;
}

/* The plugin search path as one ':'-joined string (malloc'd), so that the
 * new image finds the same plugins wherever its binary lies. */
static char *joined_plugin_path(const struct sysg_plugin_path *pp)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; pp && i < pp->n; i++)
		len += strlen(pp->dirs[i]) + 1;
	s = calloc(1, len);
	for (size_t i = 0; s && pp && i < pp->n; i++) {
		if (i)
			strcat(s, ":");
		strcat(s, pp->dirs[i]);
	}
	return s;
}

/* Exec the binary an accepted upgrade names; on failure (we are still
 * here) the old image carries on and says why. */
static void upgrade(struct daemon *d)
{
	const char *bin = sysg_ctlsrv_upgrade_pending(d->ctl);
	const struct sysg_daemon_opts *o = d->o;
	const struct sysg_config *cfg = sysg_supervisor_config(d->sup);
	struct sysg_handoff h = {
		.generation = (o->resume ? o->resume->generation : 0) + 1,
		.lock_fd = d->lock_fd, .ctl_fd = sysg_ctlsrv_listen_fd(d->ctl),
		.prev_exe_fd = -1, .state_dir = o->state_dir,
		.log_dir = o->log_dir, .config = cfg->abs_path,
		.state_backend = o->state_backend,
		.sys = o->sys,
	};
	char err[SYSG_ERR_MAX], *plugins = joined_plugin_path(o->pp);

	sysg_log(&d->log, SYSG_LOG_INFO, "Live upgrade %d: exec %s",
		 h.generation, bin);
	h.services = handoff_services(d);
	h.plugin_dirs = plugins;
	sysg_state_release(d->st);      /* stored, and no helper left behind */
	if (!h.services || !plugins || !cfg->abs_path)
		sysg_errf(err, sizeof(err), !cfg->abs_path ? "no config file "
			  "to hand over" : "out of memory");
	else
		sysg_upgrade_exec(bin, &h, err, sizeof(err));
	json_decref(h.services);
	free(plugins);
	sysg_log(&d->log, SYSG_LOG_ERROR, "Live upgrade failed, still running "
		 "the old binary: %s", err);
	sysg_ctlsrv_upgrade_failed(d->ctl, err);
}

static int run(struct daemon *d)
{
	int rc;

	for (;;) {
		do
			rc = sysg_supervisor_run_until(d->sup, until_done, d,
						       3600000);
		while (rc == -ETIMEDOUT);
		if (rc < 0 || !sysg_ctlsrv_upgrade_pending(d->ctl))
			return rc;
		upgrade(d);
	}
}

static void teardown(struct daemon *d)
{
	if (d->sup)
		sysg_timer_stop(sysg_supervisor_loop(d->sup), &d->sample_timer);
	sysg_ctlsrv_free(d->ctl);
	sysg_mux_detach(d->o->mux);
	sysg_supervisor_free(d->sup);
	sysg_samples_free(d->samples);
	sysg_spill_close(d->spill);
	free(d->spill_path);
	procs_free(&d->procs);
	for (size_t i = 0; i < d->nwatch; i++)
		free(d->watch[i].name);
	free(d->watch);
	sysg_log_close(&d->log);
	sysg_notify_close(&d->notify);
	sysg_state_close(d->st);
	if (d->lock_fd >= 0) {
		sysg_pidfile_remove(d->o->state_dir);
		close(d->lock_fd);
	}
	sysg_config_free(d->o->cfg);
}

int sysg_daemon_run(const struct sysg_daemon_opts *o, int *failed,
		    char *err, size_t errlen)
{
	struct sysg_daemon_opts own = *o;
	struct sysg_diag notes;
	struct daemon d;
	int rc;

	memset(&d, 0, sizeof(d));
	/* the files that had joined a supervisor that died (or execs a new
	 * binary) join again: their services are adopted too */
	sysg_diag_init(&notes);
	if (!o->kind || strcmp(o->kind, "unit"))
		sysg_registry_rejoin(o->state_dir, &own.cfg, &notes);
	o = &own;
	d.o = o;
	d.lock_fd = -1;
	d.log.fd = -1;
	d.result_fd = o->result_fd;
	*failed = 0;
	d.notify_rc = sysg_notify_init(&d.notify);
	/* the services' environments were merged from ours at load time */
	for (size_t i = 0; d.notify_rc && i < o->cfg->nservices; i++)
		sysg_env_unset(o->cfg->services[i].envp, "NOTIFY_SOCKET",
			       d.notify_rc > 0 ? d.notify.text : NULL);
	rc = setup(&d, err, errlen);
	for (size_t i = 0; rc == 0 && i < notes.n; i++)
		sysg_log(&d.log, SYSG_LOG_WARN, "%s", notes.lines[i]);
	sysg_diag_free(&notes);
	if (rc == 0 && d.notify_rc < 0)
		sysg_log(&d.log, SYSG_LOG_WARN, "NOTIFY_SOCKET is not usable "
			 "(%s): the service manager will not be told when the "
			 "services are up", strerror(-d.notify_rc));
	if (rc == 0)
		rc = start(&d, err, errlen);
	if (rc == 0)
		rc = run(&d);
	if (rc == 0)            /* a full stop: the projects are gone */
		sysg_registry_remove(o->state_dir);
	if (d.sup)
		*failed = o->foreground ? sysg_supervisor_failures(d.sup) :
			  d.initial_failed;
	if (d.sup && o->killed_stops)
		*o->killed_stops = sysg_supervisor_killed_stops(d.sup);
	/* a failure is reported once the lock, pid file and socket are
	 * released: a `start` the CLI retries at once finds no supervisor */
	teardown(&d);
	if (rc < 0 && d.result_fd >= 0)
		sysg_daemon_report(d.result_fd, rc == -EADDRINUSE ?
				   SYSG_DAEMON_BUSY : 1,
				   rc == -EADDRINUSE ? NULL : err);
	if (rc == 0 && d.result_fd >= 0)        /* ended before settling */
		sysg_daemon_report(d.result_fd, 1, "the supervisor stopped "
				   "before the services were up");
	return rc;
}
