/* launch.c - start one run of a service: environment with its instance
 * marker, cgroup, spawn, output drains, and remembering its tree. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "config/config.h"
#include "proc/proc.h"
#include "svc.h"

void svc_open_logs(struct svc *v)
{
	const struct sysg_log *lg = &v->sup->log;
	int rc = 0;

	if (v->log_out < 0)
		rc = v->log_out = sysg_log_open_service(lg, v->cfg->name,
							"stdout");
	if (v->log_err < 0 && (v->log_err = sysg_log_open_service(
			lg, v->cfg->name, "stderr")) < 0)
		rc = v->log_err;
	if (rc < 0)
		svc_log(v, SYSG_LOG_WARN, "Service %s: cannot open its log files "
			"in %s: %s", v->cfg->name, lg->dir, rc == -ELOOP ?
			"a symbolic link is in the way (refused)" : strerror(-rc));
}

void svc_drains_rename(struct svc *v)
{
	for (int i = 0; i < 2; i++)
		if (v->drains[i])
			v->drains[i]->svc = v->cfg->name;
}

static void drain_eof(struct sysg_drain *d)
{
	struct svc *v = d->arg;

	for (int i = 0; i < 2; i++)
		if (v->drains[i] == d)
			v->drains[i] = NULL;
	sysg_drain_free(d);
}

void svc_free_drains(struct svc *v)
{
	for (int i = 0; i < 2; i++)
		if (v->drains[i]) {
			sysg_drain_pump(v->drains[i]);
			sysg_drain_free(v->drains[i]);
			v->drains[i] = NULL;
		}
}

/* A line of a service's output: to --stderr's echo and to on_output. */
static void output_line(void *arg, const char *svc, int stream,
			const char *line, size_t len)
{
	const struct sysg_supervisor_opts *o = arg;

	if (stream == 2 && o->echo_stderr) {
		fprintf(o->echo_stderr, "[%s:stderr] %.*s\n", svc, (int)len,
			line);
		fflush(o->echo_stderr);
	}
	if (o->on_output)
		o->on_output(o->output_arg, svc, stream, line, len);
}

/* A drain of stream I (0 stdout, 1 stderr) of V's process, from FD into
 * its log file, freed by ON_EOF. */
static struct sysg_drain *new_drain(struct svc *v, int fd, int i,
				    void (*on_eof)(struct sysg_drain *))
{
	struct sysg_supervisor *s = v->sup;
	int lines = s->opts.on_output || (i && s->opts.echo_stderr);
	struct sysg_drain *d = fd < 0 ? NULL :
		sysg_drain_new(s->loop, fd, i ? v->log_err : v->log_out,
			       v->cfg->name, i + 1, lines ? output_line : NULL,
			       &s->opts, &s->dropped);

	if (d) {
		d->on_eof = on_eof;
		d->arg = v;
		if (v->cfg->logs.max_size > 0)
			svc_drain_rotation(v, d);
	}
	return d;
}

static void attach_drains(struct svc *v, int out_fd, int err_fd)
{
	int fds[2] = { out_fd, err_fd };

	svc_free_drains(v);
	for (int i = 0; i < 2; i++)
		v->drains[i] = new_drain(v, fds[i], i, drain_eof);
}

static void setup_cgroup(struct svc *v, int *fd)
{
	struct sysg_supervisor *s = v->sup;
	char name[SYSG_NAME_MAX + 64];
	int rc;

	*fd = -1;
	v->cgroup[0] = '\0';
	if (!s->cgroup_base[0])
		return;
	sysg_instance_cgroup_run(v->cfg->name, getpid(), s->serial, name,
				 sizeof(name));
	sup_cgroup_base_ensure(s);
	rc = sysg_cgroup_create(s->cgroup_base, name, v->cgroup,
				sizeof(v->cgroup));
	if (rc == 0)
		rc = *fd = sysg_cgroup_open_dir(v->cgroup);
	if (rc < 0) {
		svc_log(v, SYSG_LOG_DEBUG, "cgroups not usable here (%s: %s); "
			"tracking by session and /proc", v->cgroup,
			strerror(-rc));
		if (v->cgroup[0])
			sysg_cgroup_remove(v->cgroup);
		v->cgroup[0] = '\0';
		s->cgroup_base[0] = '\0';
		*fd = -1;
	}
}

/* The log files belong to the service's user: it writes them through
 * the fds it is given, and can write nowhere else through them. */
static int own_logs(struct svc *v, char *err, size_t errlen)
{
	const struct sysg_spawn_creds *c = &v->privs->creds;
	int fds[2] = { v->log_out, v->log_err };

	for (int i = 0; c->set_ids && i < 2; i++)
		if (fds[i] >= 0 && fchown(fds[i], c->uid, c->gid) < 0) {
			snprintf(err, errlen, "cannot give the log files of %s "
				 "to uid %u: %s", v->cfg->name,
				 (unsigned)c->uid, strerror(errno));
			return -errno;
		}
	return 0;
}

/* A blue/green service's plain start runs on the active slot: the
 * index its state file holds (<active_slot_index>0|1</...>; 0 when there
 * is none), the slot's value in env_var. The supervisor never maps the
 * blue_green plugin (which owns and checks these settings), so it reads
 * the already checked deployment.blue_green options as written. */
static int bg_active_env(const struct svc *v, char ***env)
{
	const struct sysg_deployment *d = &v->cfg->deployment;
	const struct sysg_strategy_section *sec =
		sysg_deployment_section(d, "blue_green");
	char name[SYSG_NAME_MAX + 32], buf[4096], slot[2][128], *path;
	const char *p, *slots, *comma, *state, *var;
	int idx = 0;

	if (!sec || strcmp(v->cfg->deployment.strategy ?
			   v->cfg->deployment.strategy : "", "blue_green") ||
	    !(slots = sysg_deployment_option(d, "blue_green", "slots")) ||
	    !(comma = strchr(slots, ',')))
		return 0;
	snprintf(slot[0], sizeof(slot[0]), "%.*s", (int)(comma - slots), slots);
	snprintf(slot[1], sizeof(slot[1]), "%s", comma + 1);
	snprintf(name, sizeof(name), "blue_green_%s.xml", v->cfg->name);
	state = sysg_deployment_option(d, "blue_green", "state_path");
	path = !state ? sysg_path_join(v->sup->state_dir, name) :
	       state[0] == '/' ? strdup(state) :
	       sysg_path_join(svc_cwd(v), state);
	if (!path)
		return -ENOMEM;
	if (sysg_proc_read_file(path, buf, sizeof(buf)) > 0 &&
	    (p = strstr(buf, "<active_slot_index>"))) {
		p += strlen("<active_slot_index>");
		p += strspn(p, " \t\r\n");
		idx = *p == '1';
	}
	free(path);
	var = sysg_deployment_option(d, "blue_green", "env_var");
	return sysg_env_set(env, var ? var : "PORT", slot[idx]) < 0 ?
	       -ENOMEM : 1;
}

/* The command a plain run of a blue/green service execs: the command as
 * written, expanded again with ENV (its slot in env_var), as a deploy's
 * candidate is: a $PORT that vars set at load time becomes the slot's. */
static char *slot_command(const struct svc *v, char *const *env)
{
	return sysg_env_command_with(v->cfg->command_raw ?
				     v->cfg->command_raw : v->cfg->command,
				     env);
}

static char **spawn_env(struct svc *v, char **cmd)
{
	char **env = sysg_env_dup(svc_env(v));
	int slot = 0;

	if (env && (sysg_env_set(&env, SYSG_INSTANCE_VAR,
				 sysg_instance_value(v->instance)) < 0 ||
		    (slot = bg_active_env(v, &env)) < 0 ||
		    (slot > 0 && !(*cmd = slot_command(v, env))))) {
		sysg_env_free(env);
		env = NULL;
	}
	return env;
}

/* ASYNC: do not wait for the exec (the run's, see svc_exec_check). */
static int do_spawn(struct svc *v, struct sysg_child *c, int async,
		    char *err, size_t errlen)
{
	struct sysg_spawn_req req = {
		.command = v->cfg->command,
		.cwd = svc_cwd(v),
		.out_fd = SYSG_SPAWN_PIPE, .err_fd = SYSG_SPAWN_PIPE,
		.async_exec = async,
	};
	char name[SYSG_NAME_MAX + 64];

	if (v->sup->opts.direct_logs) {
		/* the files themselves: nothing to drain, nothing to break
		 * when the supervisor dies */
		req.out_fd = v->log_out >= 0 ? v->log_out : SYSG_SPAWN_DEVNULL;
		req.err_fd = v->log_err >= 0 ? v->log_err : SYSG_SPAWN_DEVNULL;
	}
	int fds[SYSG_LISTEN_MAX];
	char **env, *cmd = NULL;
	int rc;

	if ((rc = svc_sockets_sync(v, err, errlen)) < 0)
		return rc;
	for (size_t i = 0; i < v->nsockets; i++)
		fds[i] = svc_socket_fd(v, i);
	req.listen_fds = fds;
	req.nlisten = v->nsockets;
	req.listen_names = v->socket_names;
	if (svc_wants_notify(v)) {
		req.notify_socket = sup_sdnotify_address(v->sup);
		req.watchdog_usec = (uint64_t)v->cfg->watchdog_ms * 1000;
	}
	v->sup->serial++;
	sysg_instance_marker(v->sup->state_dir, v->cfg->name, getpid(),
			     v->sup->serial, v->instance, sizeof(v->instance));
	env = spawn_env(v, &cmd);
	if (cmd)
		req.command = cmd;
	if (env && sysg_privs_env(v->privs, &env) < 0) {
		sysg_env_free(env);
		env = NULL;
	}
	if (!env) {
		free(cmd);
		sysg_errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	req.envp = env;
	setup_cgroup(v, &req.cgroup_fd);
	rc = 0;
	if (v->privs && v->privs->needed) {
		sysg_privs_spawn_req(v->privs, &req);
		rc = own_logs(v, err, errlen);
		sysg_instance_cgroup_run(v->cfg->name, getpid(),
					 v->sup->serial, name, sizeof(name));
		if (rc == 0)
			rc = sysg_privs_begin_run(v->privs, v->cfg->name, name,
						  v->cgroup, err, errlen);
	}
	if (rc == 0)
		rc = sysg_spawn(&req, c, err, errlen);
	if (rc == 0 && c->exec_fd >= 0 &&
	    !(v->exec_cmd = strdup(req.command))) {
		/* cannot keep it for later: wait for it now */
		rc = sysg_spawn_exec_result(c->exec_fd, req.command, err,
					    errlen);
		close(c->exec_fd);
		c->exec_fd = -1;
		if (rc != 0) {
			kill(c->pid, SIGKILL);
			rc = rc < 0 ? rc : -ENOMEM;
		}
	}
	if (req.cgroup_fd >= 0)
		close(req.cgroup_fd);
	sysg_env_free(env);
	free(cmd);
	return rc;
}

static void cand_drain_eof(struct sysg_drain *d)
{
	struct svc *v = d->arg;

	for (int i = 0; v->cand && i < 2; i++)
		if (v->cand->drains[i] == d)
			v->cand->drains[i] = NULL;
	sysg_drain_free(d);
}

/* The drain of a run that was replaced: it drains until EOF, alone. */
static void detached_eof(struct sysg_drain *d)
{
	sysg_drain_free(d);
}

void svc_cand_drains_free(struct svc *v)
{
	for (int i = 0; v->cand && i < 2; i++)
		if (v->cand->drains[i]) {
			sysg_drain_pump(v->cand->drains[i]);
			sysg_drain_free(v->cand->drains[i]);
			v->cand->drains[i] = NULL;
		}
}

int svc_launch_candidate(struct svc *v, char *err, size_t errlen)
{
	struct sysg_supervisor *s = v->sup;
	char inst[sizeof(v->instance)], cg[sizeof(v->cgroup)];
	struct sysg_child c;
	int fds[2], rc;

	if (!v->cand && !(v->cand = calloc(1, sizeof(*v->cand)))) {
		sysg_errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(inst, v->instance, sizeof(inst));
	memcpy(cg, v->cgroup, sizeof(cg));
	rc = do_spawn(v, &c, 0, err, errlen);
	memcpy(v->cand->instance, v->instance, sizeof(inst));
	memcpy(v->cand->cgroup, v->cgroup, sizeof(cg));
	memcpy(v->instance, inst, sizeof(inst));
	memcpy(v->cgroup, cg, sizeof(cg));
	if (rc < 0) {
		if (v->cand->cgroup[0])
			sup_remove_cgroup(s, v->cand->cgroup);
		return rc;
	}
	v->cand->pid = c.pid;
	v->cand->ticks = c.start_ticks;
	v->cand->started_wall = sysg_wall_ms();
	v->cand->started_mono = sysg_now_ms();
	fds[0] = c.out_fd;
	fds[1] = c.err_fd;
	for (int i = 0; i < 2; i++)
		v->cand->drains[i] = new_drain(v, fds[i], i, cand_drain_eof);
	return 0;
}

void svc_take_candidate(struct svc *v)
{
	/* the new run is our child: an adopted old run's watch ends */
	svc_unwatch_exit(v);
	v->adopted = v->marker_prefix = 0;
	for (int i = 0; i < 2; i++) {
		if (v->drains[i])
			v->drains[i]->on_eof = detached_eof;
		v->drains[i] = v->cand->drains[i];
		if (v->drains[i])
			v->drains[i]->on_eof = drain_eof;
		v->cand->drains[i] = NULL;
	}
	v->pid = v->sid = v->cand->pid;
	if (v->privs)
		v->privs->ns_pid = v->cand->pid;
	v->ticks = v->cand->ticks;
	free(v->run_cmd);
	v->run_cmd = NULL;
	memcpy(v->instance, v->cand->instance, sizeof(v->instance));
	memcpy(v->cgroup, v->cand->cgroup, sizeof(v->cgroup));
	v->started_wall = v->cand->started_wall;
	v->started_mono = v->cand->started_mono;
	v->ready_mono = sysg_now_ms();
	v->has_exit = v->has_signal = 0;
	v->status_text[0] = '\0';
	v->stopping_said = 0;
	sysg_pidset_clear(&v->known);
	sysg_pidset_clear(&v->signalled);
	svc_watchdog_arm(v);
}

static void on_exec_io(struct sysg_io *io, uint32_t events)
{
	(void)events;
	svc_exec_check(io->arg, 0);
}

void svc_exec_forget(struct svc *v)
{
	if (!v->exec_cmd)
		return;
	sysg_loop_io_del(v->sup->loop, &v->exec_io);
	close(v->exec_io.fd);
	free(v->exec_cmd);
	v->exec_cmd = NULL;
}

void svc_exec_check(struct svc *v, int wait)
{
	char err[SYSG_ERR_MAX];
	int rc;

	if (!v->exec_cmd)
		return;
	if (wait)
		fcntl(v->exec_io.fd, F_SETFL, 0);
	rc = sysg_spawn_exec_result(v->exec_io.fd, v->exec_cmd, err,
				    sizeof(err));
	if (rc == 1)
		return;
	svc_exec_forget(v);
	if (rc < 0) {
		free(v->exec_err);
		v->exec_err = strdup(err);
		v->exec_rc = rc;
		return;
	}
	svc_log(v, SYSG_LOG_INFO, "Started %s %s (pid %d)",
		v->cron ? "cron job" : "service", v->cfg->name, (int)v->pid);
	svc_exec_ok(v);
}

/* Watch the exec-status pipe FD of the run just spawned (V->exec_cmd is
 * set): its outcome comes back through the loop. */
static void watch_exec(struct svc *v, int fd)
{
	v->exec_io.fd = fd;
	v->exec_io.cb = on_exec_io;
	v->exec_io.arg = v;
	if (sysg_loop_io_add(v->sup->loop, &v->exec_io, EPOLLIN) < 0) {
		v->exec_io.active = 0;
		svc_exec_check(v, 1);   /* no loop for it: wait now */
	}
}

int svc_launch(struct svc *v, char *err, size_t errlen)
{
	struct sysg_child c;
	int rc;

	svc_exec_forget(v);
	free(v->exec_err);
	v->exec_err = NULL;
	rc = do_spawn(v, &c, 1, err, errlen);
	v->sup->procs_ok = 0;   /* the turn's /proc scan misses it */
	if (rc < 0)
		return rc;
	svc_unwatch_exit(v);
	v->adopted = v->marker_prefix = 0;
	free(v->run_cmd);
	v->run_cmd = NULL;
	v->pid = v->sid = c.pid;
	if (v->privs)   /* its helpers join its netns */
		v->privs->ns_pid = c.pid;
	v->ticks = c.start_ticks;
	v->started_wall = sysg_wall_ms();
	v->started_mono = sysg_now_ms();
	v->ready_mono = 0;
	/* last exit: the previous run's, so that a crash restart still
	 * shows why (skip/pre_start commands borrowed these fields) */
	v->has_exit = v->nexits && v->exits[0].has_code;
	v->exit_code = v->has_exit ? v->exits[0].code : 0;
	v->has_signal = v->nexits && v->exits[0].has_signal;
	v->signo = v->has_signal ? v->exits[0].signo : 0;
	if (v->oom)
		snprintf(v->reason, sizeof(v->reason), "last exit: %s",
			 SYSG_OOM_REASON);
	else
		v->reason[0] = '\0';
	v->status_text[0] = '\0';
	v->stopping_said = 0;
	/* as systemd's WatchdogSec=, the watchdog runs once the start-up is
	 * over: from the spawn, or from READY=1 with readiness: notify
	 * (sdnotify.c), so that a slow start is judged by its readiness
	 * deadline, not killed for pings its protocol sends only later */
	if (!v->cfg->readiness_notify)
		svc_watchdog_arm(v);
	sysg_pidset_clear(&v->known);
	if (c.out_fd >= 0 || c.err_fd >= 0)
		attach_drains(v, c.out_fd, c.err_fd);
	if (c.exec_fd >= 0)
		watch_exec(v, c.exec_fd);
	else
		svc_log(v, SYSG_LOG_INFO, "Started %s %s (pid %d)",
			v->cron ? "cron job" : "service", v->cfg->name,
			(int)c.pid);
	return 0;
}

void svc_tree_match(const struct svc *v, struct sysg_tree_match *m)
{
	memset(m, 0, sizeof(*m));
	m->main_pid = v->pid;
	m->sid = m->pgid = v->sid;
	m->marker = v->instance[0] ? v->instance : NULL;
	m->marker_prefix = v->marker_prefix;
	/* our runs' escapees are re-parented to us (a subreaper); an
	 * adopted run's went to whoever reaps for the dead supervisor */
	m->marker_ppid = v->adopted ? 0 : getpid();
	m->cgroup = v->cgroup[0] ? v->cgroup : NULL;
	m->known = &v->known;
}

int svc_collect_tree(struct svc *v, struct sysg_pidset *out)
{
	struct sysg_supervisor *s = v->sup;
	struct sysg_tree_match m;
	uint64_t turn = s->loop ? sysg_loop_turn(s->loop) : 0;

	if (!s->procs_ok || s->procs_turn != turn || !s->loop) {
		s->procs_ok = sysg_proc_snapshot_take(&s->procs) == 0;
		s->procs_turn = turn;
		if (!s->procs_ok) {
			sysg_pidset_clear(out);
			return -EIO;
		}
	}
	svc_tree_match(v, &m);
	return sysg_proctree_collect_in(&s->procs, &m, out);
}

void svc_remember_tree(struct svc *v)
{
	struct sysg_pidset now = { 0 };

	if (svc_collect_tree(v, &now) == 0)
		for (size_t i = 0; i < now.n; i++)
			sysg_pidset_add(&v->known, now.v[i].pid, now.v[i].ticks);
	sysg_pidset_free(&now);
}

#define REMEMBER_MS 100

static void on_remember(struct sysg_timer *t)
{
	struct sysg_supervisor *s = t->arg;

	for (size_t i = 0; i < s->nsvcs; i++) {
		struct svc *v = s->svcs[i];

		if (!v->remember_due)
			continue;
		v->remember_due = 0;
		if (svc_is_up(v))
			svc_remember_tree(v);
	}
}

void svc_remember_soon(struct svc *v)
{
	struct sysg_supervisor *s = v->sup;

	if (!s->loop) {
		svc_remember_tree(v);
		return;
	}
	v->remember_due = 1;
	if (!s->remember_timer.armed)
		sysg_timer_start(s->loop, &s->remember_timer, REMEMBER_MS,
				 on_remember, s);
}
