/* instance.c - the instances of a service a deploy works with (see
 * "Deploy instances" in supervisor.h).
 *
 * A candidate is a process of the service started beside its current
 * one, with the deploy's environment overrides, its output going to the
 * service's log files and its SYSG_INSTANCE marker. Until it is promoted
 * it is not the service: its exit only calls the deploy's callback.
 * Promoting it swaps it into the service (restarts, status and stop follow
 * it); the process it replaces becomes a retiring instance that the deploy
 * stops. Stopping an instance takes its whole tree down the way
 * teardown.c does for a service (SIGTERM, SIGKILL after stop_timeout). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "proc/proc.h"
#include "svc.h"

#define KILL_GRACE_MS 5000
#define TICK_MAX_MS   100

struct sup_inst {
	struct sup_inst *next;
	int64_t id;
	struct sysg_supervisor *sup;
	char service[SYSG_NAME_MAX];
	int bound;              /* names the service's run (pid, ticks) */
	int was_current;        /* a former run of the service: on_stop */
	pid_t pid;              /* main pid; 0 once reaped */
	pid_t sid;
	uint64_t ticks;
	int adopted;
	char marker[SYSG_INSTANCE_MAX];
	char cgroup[SYSG_CGROUP_PATH_MAX];
	struct sysg_pidset known, signalled;
	int64_t stop_timeout_ms;
	int64_t started_wall;
	int exited, status, status_known;
	int ready;              /* READY=1 received */
	off_t err_off;          /* the stderr log's size at its start */
	int log_err;            /* -1: none (borrowed from the service) */
	int stopping, killed, gone;
	int64_t stop_deadline, tick_ms;
	struct sysg_timer timer;
	sysg_inst_cb cb;
	void *arg;
};

static struct sup_inst *find(struct sysg_supervisor *s, int64_t id)
{
	for (struct sup_inst *in = s->insts; in; in = in->next)
		if (in->id == id)
			return in;
	return NULL;
}

static struct sup_inst *inst_new(struct sysg_supervisor *s, const char *name)
{
	struct sup_inst *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->id = ++s->inst_serial;
	in->sup = s;
	in->log_err = -1;
	snprintf(in->service, sizeof(in->service), "%s", name);
	in->next = s->insts;
	s->insts = in;
	return in;
}

static void tell(struct sup_inst *in)
{
	if (in->cb)
		in->cb(in->arg, in->id);
}

/* ------------------------------------------------------------------ */
/* Taking an instance's tree down                                      */
/* ------------------------------------------------------------------ */

static void match_of(const struct sup_inst *in, struct sysg_tree_match *m)
{
	memset(m, 0, sizeof(*m));
	m->main_pid = in->pid;
	m->sid = m->pgid = in->sid;
	m->marker = in->marker[0] ? in->marker : NULL;
	m->marker_ppid = in->adopted ? 0 : getpid();
	m->cgroup = in->cgroup[0] ? in->cgroup : NULL;
	m->known = &in->known;
}

static void on_tick(struct sysg_timer *t);

static void inst_gone(struct sup_inst *in)
{
	sysg_timer_stop(in->sup->loop, &in->timer);
	if (in->cgroup[0])
		sup_remove_cgroup(in->sup, in->cgroup);
	in->cgroup[0] = '\0';
	in->gone = 1;
	in->stopping = 0;
	sysg_log(&in->sup->log, SYSG_LOG_INFO, "Instance of %s stopped",
		 in->service);
	if (in->was_current) {
		struct svc *v = sup_find(in->sup, in->service);

		in->was_current = 0;
		if (v)
			svc_fire(v, SYSG_HOOK_ON_STOP, 1);
	}
	tell(in);
}

static void inst_tick(struct sup_inst *in)
{
	struct sysg_tree_match m;
	struct sysg_pidset tree = { 0 };
	int64_t now = sysg_now_ms();

	match_of(in, &m);
	sysg_proctree_collect(&m, &tree);
	if (in->pid > 0 && in->adopted && !sysg_proc_is_alive(in->pid,
							      in->ticks))
		in->pid = 0;
	if (tree.n == 0 && in->pid <= 0) {
		sysg_pidset_free(&tree);
		inst_gone(in);
		return;
	}
	if (now >= in->stop_deadline) {
		if (in->killed) {
			sysg_log(&in->sup->log, SYSG_LOG_ERROR,
				 "Instance of %s: "
				 "%zu process(es) survive SIGKILL", in->service,
				 tree.n);
			sysg_pidset_free(&tree);
			in->pid = 0;
			inst_gone(in);
			return;
		}
		in->killed = 1;
		sysg_pidset_clear(&in->signalled);
		if (in->sid > 1)
			kill(-in->sid, SIGKILL);
		if (in->cgroup[0])
			sysg_cgroup_kill(in->cgroup);
		in->stop_deadline = now + KILL_GRACE_MS;
	}
	for (size_t i = 0; i < tree.n; i++) {
		if (sysg_pidset_has(&in->signalled, tree.v[i].pid))
			continue;
		kill(tree.v[i].pid, in->killed ? SIGKILL : SIGTERM);
		sysg_pidset_add(&in->signalled, tree.v[i].pid, tree.v[i].ticks);
		sysg_pidset_add(&in->known, tree.v[i].pid, tree.v[i].ticks);
	}
	sysg_pidset_free(&tree);
	in->tick_ms = in->tick_ms * 2 > TICK_MAX_MS ? TICK_MAX_MS :
		      in->tick_ms * 2;
	sysg_timer_start(in->sup->loop, &in->timer, in->tick_ms, on_tick, in);
}

static void on_tick(struct sysg_timer *t)
{
	inst_tick(t->arg);
}

static void inst_begin_stop(struct sup_inst *in)
{
	if (in->stopping || in->gone)
		return;
	in->stopping = 1;
	in->killed = 0;
	in->tick_ms = 5;
	in->stop_deadline = sysg_now_ms() +
			    (in->sup->kill_now ? 0 : in->stop_timeout_ms);
	sysg_log(&in->sup->log, SYSG_LOG_INFO, "Stopping an instance of %s "
		 "(pid %d)", in->service, (int)in->pid);
	if (in->sid > 1)
		kill(-in->sid, SIGTERM);
	inst_tick(in);
}

/* ------------------------------------------------------------------ */
/* The service's current run                                           */
/* ------------------------------------------------------------------ */

/* IN names V's current run and V still runs it. */
static int bound_live(const struct sup_inst *in, const struct svc *v)
{
	return in->bound && v && v->pid == in->pid && v->ticks == in->ticks &&
	       (v->state == ST_STARTING || v->state == ST_RUNNING);
}

/* Move V's current process into IN; V is left without one. */
static void detach(struct svc *v, struct sup_inst *in)
{
	svc_readiness_stop(v);
	svc_unwatch_exit(v);
	sysg_timer_stop(v->sup->loop, &v->timer);
	in->bound = 0;
	in->was_current = 1;
	in->pid = v->pid;
	in->sid = v->sid;
	in->ticks = v->ticks;
	in->adopted = v->adopted;
	/* a former run that shares its sockets with its successor (or a
	 * copy) has deployment.drain to finish what is in flight */
	in->stop_timeout_ms = v->cfg->nlisten || v->cfg->instance_of ?
			      v->cfg->deployment.drain_ms :
			      v->cfg->stop_timeout_ms;
	snprintf(in->marker, sizeof(in->marker), "%s", v->instance);
	snprintf(in->cgroup, sizeof(in->cgroup), "%s", v->cgroup);
	for (size_t i = 0; i < v->known.n; i++)
		sysg_pidset_add(&in->known, v->known.v[i].pid,
				v->known.v[i].ticks);
	v->pid = v->sid = 0;
	v->ticks = 0;
	v->adopted = v->marker_prefix = 0;
	v->instance[0] = v->cgroup[0] = '\0';
	sysg_pidset_clear(&v->known);
	if (in->adopted && in->pid > 0 && !sysg_proc_is_alive(in->pid,
							      in->ticks))
		in->pid = 0;
}

int sysg_inst_current(struct sysg_supervisor *s, const char *name,
		      int64_t *id)
{
	struct svc *v = sup_find(s, name);
	struct sup_inst *in;

	*id = 0;
	if (!v)
		return -ENOENT;
	if (v->state != ST_STARTING && v->state != ST_RUNNING)
		return 0;
	for (in = s->insts; in; in = in->next)
		if (bound_live(in, v)) {
			*id = in->id;
			return 0;
		}
	in = inst_new(s, name);
	if (!in)
		return -ENOMEM;
	in->bound = 1;
	in->pid = v->pid;
	in->ticks = v->ticks;
	*id = in->id;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Candidates                                                          */
/* ------------------------------------------------------------------ */

static char **cand_env(struct svc *v, const struct sysg_service *def,
		       const char *const *over, const char *marker)
{
	extern char **environ;
	char **env = sysg_env_dup(def->envp ? def->envp : environ);

	for (size_t i = 0; env && over && over[i]; i++) {
		const char *eq = strchr(over[i], '=');
		char key[256];

		if (!eq || eq == over[i] ||
		    (size_t)(eq - over[i]) >= sizeof(key))
			continue;
		memcpy(key, over[i], (size_t)(eq - over[i]));
		key[eq - over[i]] = '\0';
		if (sysg_env_set(&env, key, eq + 1) < 0) {
			sysg_env_free(env);
			return NULL;
		}
	}
	(void)v;
	if (env && sysg_env_set(&env, SYSG_INSTANCE_VAR,
				sysg_instance_value(marker)) < 0) {
		sysg_env_free(env);
		env = NULL;
	}
	return env;
}

int sysg_inst_start(struct sysg_supervisor *s, const char *name,
		    const struct sysg_service *def, const char *project_dir,
		    const char *const *env_over, sysg_inst_cb cb, void *arg,
		    int64_t *id, char *err, size_t errlen)
{
	struct svc *v = sup_find(s, name);
	struct sysg_spawn_req req = { .cgroup_fd = -1 };
	struct sysg_child c;
	struct sup_inst *in;
	int fds[SYSG_LISTEN_MAX];
	char **env;
	char *cmd;
	int rc;

	*id = 0;
	if (!v) {
		snprintf(err, errlen, "unknown service '%s'", name);
		return -ENOENT;
	}
	if (!def)
		def = v->cfg;
	in = inst_new(s, name);
	if (!in) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	svc_open_logs(v);
	s->serial++;
	sysg_instance_marker(s->state_dir, name, getpid(), s->serial,
			     in->marker, sizeof(in->marker));
	env = cand_env(v, def, env_over, in->marker);
	cmd = env ? sysg_env_command_with(def->command_raw ?
					  def->command_raw : def->command,
					  env) : NULL;
	if (!cmd) {
		sysg_env_free(env);
		snprintf(err, errlen, "out of memory");
		sysg_inst_release(s, in->id);
		return -ENOMEM;
	}
	/* the service's sockets (`listen:`): the candidate accepts on them
	 * beside the current run (sockets.c) */
	if (svc_sockets_sync(v, err, errlen) < 0 ||
	    (rc = sysg_listen_expand(&cmd, def->listen, def->nlisten, err,
				     errlen)) < 0) {
		free(cmd);
		sysg_env_free(env);
		sysg_inst_release(s, in->id);
		return -EINVAL;
	}
	for (size_t i = 0; i < v->nsockets && i < SYSG_LISTEN_MAX; i++)
		fds[i] = svc_socket_fd(v, i);
	req.listen_fds = fds;
	req.nlisten = v->nsockets;
	req.listen_names = v->socket_names;
	if (svc_wants_notify(v))
		req.notify_socket = sup_sdnotify_address(s);
	req.command = cmd;
	req.envp = env;
	/* a service of a project runs in that project's directory */
	req.cwd = def->workdir ? def->workdir : project_dir ? project_dir :
		  s->cfg->project_dir;
	req.out_fd = v->log_out >= 0 ? v->log_out : SYSG_SPAWN_DEVNULL;
	req.err_fd = v->log_err >= 0 ? v->log_err : SYSG_SPAWN_DEVNULL;
	if (v->privs && v->privs->needed)    /* a candidate shares the run's limit
				   cgroups with the current instance */
		sysg_privs_spawn_req(v->privs, &req);
	in->log_err = v->log_err;
	in->err_off = v->log_err >= 0 ? lseek(v->log_err, 0, SEEK_END) : 0;
	rc = sysg_spawn(&req, &c, err, errlen);
	free(cmd);
	sysg_env_free(env);
	if (rc < 0) {
		sysg_inst_release(s, in->id);
		return rc;
	}
	in->pid = in->sid = c.pid;
	in->ticks = c.start_ticks;
	in->started_wall = sysg_wall_ms();
	in->stop_timeout_ms = def->stop_timeout_ms;
	in->cb = cb;
	in->arg = arg;
	sysg_log(&s->log, SYSG_LOG_INFO, "Started a candidate of %s (pid %d)",
		 name, (int)c.pid);
	*id = in->id;
	return 0;
}

/* Did IN's stderr (since its start) say its address was taken? The
 * service's log fd is write-only: read the file through /proc. */
static int said_addr_in_use(const struct sup_inst *in)
{
	char buf[8192], path[64];
	off_t end;
	ssize_t n;
	int fd, hit;

	if (in->log_err < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", in->log_err);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	end = lseek(fd, 0, SEEK_END);
	n = 0;
	if (end > in->err_off) {
		off_t from = end - in->err_off > (off_t)sizeof(buf) - 1 ?
			     end - (off_t)sizeof(buf) + 1 : in->err_off;

		n = pread(fd, buf, (size_t)(end - from), from);
	}
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	hit = strcasestr(buf, "address already in use") ||
	      strstr(buf, "EADDRINUSE");
	return hit;
}

int sysg_inst_info(struct sysg_supervisor *s, int64_t id,
		   struct sysg_inst_info *out)
{
	struct sup_inst *in = find(s, id);
	struct svc *v;

	memset(out, 0, sizeof(*out));
	if (!in)
		return -ENOENT;
	v = sup_find(s, in->service);
	if (in->bound) {
		out->current = bound_live(in, v);
		out->pid = out->current ? in->pid : 0;
		out->running = out->current;
		out->gone = !out->current;
		return 0;
	}
	out->pid = in->pid;
	out->running = in->pid > 0 && !in->exited;
	out->exited = in->exited;
	out->gone = in->gone;
	if (in->exited && in->status_known) {
		out->has_code = WIFEXITED(in->status);
		out->code = out->has_code ? WEXITSTATUS(in->status) : 0;
		out->has_signal = WIFSIGNALED(in->status);
		out->signo = out->has_signal ? WTERMSIG(in->status) : 0;
	}
	if (in->exited)
		out->addr_in_use = said_addr_in_use(in);
	out->env_marker = in->marker;
	out->ready = in->ready;
	return 0;
}

void sup_inst_ready(struct sysg_supervisor *s, pid_t pid)
{
	for (struct sup_inst *in = s->insts; in; in = in->next)
		if (!in->bound && in->pid == pid && pid > 0 && !in->ready) {
			in->ready = 1;
			tell(in);
			return;
		}
}

const char *sup_inst_service_of(const struct sysg_supervisor *s, pid_t pid)
{
	for (const struct sup_inst *in = s->insts; in; in = in->next)
		if (in->pid == pid && pid > 0)
			return in->service;
	return NULL;
}

int sup_inst_reaped(struct sysg_supervisor *s, pid_t pid, int status)
{
	for (struct sup_inst *in = s->insts; in; in = in->next) {
		if (in->bound || in->pid != pid)
			continue;
		in->pid = 0;
		in->exited = 1;
		in->status = status;
		in->status_known = 1;
		if (in->stopping)
			inst_tick(in);
		else
			tell(in);
		return 1;
	}
	return 0;
}

void sup_inst_orphans(struct sysg_supervisor *s)
{
	for (struct sup_inst *in = s->insts; in; in = in->next)
		if (in->stopping)
			inst_tick(in);
}

int sysg_inst_stop(struct sysg_supervisor *s, int64_t id, sysg_inst_cb cb,
		   void *arg)
{
	struct sup_inst *in = find(s, id);
	struct svc *v;

	if (!in)
		return -ENOENT;
	in->cb = cb;
	in->arg = arg;
	if (in->bound) {
		v = sup_find(s, in->service);
		if (!bound_live(in, v)) {
			in->bound = 0;
			in->pid = 0;
			in->gone = 1;
			return 1;       /* nothing to stop */
		}
		detach(v, in);
		snprintf(v->reason, sizeof(v->reason), "stopped by a deploy");
		svc_deploy_state(v, ST_STOPPED);
	}
	if (in->gone)
		return 1;
	inst_begin_stop(in);
	return in->gone ? 1 : 0;
}

int sysg_inst_promote(struct sysg_supervisor *s, int64_t id,
		      const struct sysg_service *def, struct sysg_config *owned,
		      int64_t *retired, char *err, size_t errlen)
{
	struct sup_inst *in = find(s, id), *old = NULL;
	struct svc *v = in ? sup_find(s, in->service) : NULL;

	*retired = 0;
	if (!in || !v || in->bound || in->exited || in->pid <= 0 ||
	    in->stopping || in->gone) {
		snprintf(err, errlen, "the instance to promote is not running");
		return -ESRCH;
	}
	if (v->state == ST_STOPPING || v->state == ST_PRESTART ||
	    v->state == ST_SKIPCHECK) {
		snprintf(err, errlen, "service %s is %s", v->cfg->name,
			 svc_state_name(v->state));
		return -EBUSY;
	}
	if (v->pid > 0 && (v->state == ST_STARTING || v->state == ST_RUNNING)) {
		for (struct sup_inst *o = s->insts; o; o = o->next)
			if (bound_live(o, v))
				old = o;
		if (!old && !(old = inst_new(s, v->cfg->name))) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		detach(v, old);
		*retired = old->id;
	}
	sysg_timer_stop(s->loop, &v->timer);
	if (owned) {
		struct sysg_config **nv = realloc(s->old_cfgs,
			(s->nold_cfgs + 1) * sizeof(*nv));

		if (!nv) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		s->old_cfgs = nv;
		nv[s->nold_cfgs++] = owned;
	}
	if (def && def != v->cfg) {
		v->cfg = (struct sysg_service *)def;
		svc_drains_rename(v);
		svc_privs_drop(v);
	}
	v->pid = v->sid = in->pid;
	v->ticks = in->ticks;
	snprintf(v->instance, sizeof(v->instance), "%s", in->marker);
	v->cgroup[0] = '\0';
	v->adopted = v->marker_prefix = 0;
	v->started_wall = in->started_wall;
	v->started_mono = v->ready_mono = sysg_now_ms();
	v->has_exit = v->has_signal = 0;
	v->want_up = 1;
	v->consecutive = 0;
	v->failed_to_start = 0;
	v->reason[0] = '\0';
	sysg_pidset_clear(&v->known);
	sysg_log(&s->log, SYSG_LOG_INFO, "Promoted the candidate of %s "
		 "(pid %d)", v->cfg->name, (int)v->pid);
	/* the candidate struct is spent: its process is the service now */
	in->pid = 0;
	in->gone = 1;
	in->cb = NULL;
	svc_deploy_state(v, ST_RUNNING);
	svc_remember_tree(v);
	v->auto_restart = 0;
	svc_fire(v, SYSG_HOOK_ON_START, 1);
	return 0;
}

void sysg_inst_release(struct sysg_supervisor *s, int64_t id)
{
	struct sup_inst **pp = &s->insts;

	while (*pp) {
		struct sup_inst *in = *pp;

		if (in->id != id) {
			pp = &in->next;
			continue;
		}
		*pp = in->next;
		sysg_timer_stop(s->loop, &in->timer);
		sysg_pidset_free(&in->known);
		sysg_pidset_free(&in->signalled);
		free(in);
		return;
	}
}

void sup_inst_free_all(struct sysg_supervisor *s)
{
	/* no loop any more to stop them gently: nothing is left behind */
	for (struct sup_inst *in = s->insts; in; in = in->next)
		if (!in->bound && !in->gone && in->pid > 0 &&
		    (in->adopted ? sysg_proc_is_alive(in->pid, in->ticks) :
		     !in->exited)) {
			if (in->sid > 1)
				kill(-in->sid, SIGKILL);
			kill(in->pid, SIGKILL);
		}
	while (s->insts)
		sysg_inst_release(s, s->insts->id);
}

int sysg_inst_adopt_stop(struct sysg_supervisor *s, const char *name,
			 pid_t pid, uint64_t ticks, sysg_inst_cb cb, void *arg,
			 int64_t *id)
{
	struct svc *v = sup_find(s, name);
	struct sup_inst *in;
	char prefix[SYSG_INSTANCE_MAX];

	*id = 0;
	if (!v || !sysg_proc_is_alive(pid, ticks))
		return -ESRCH;
	if (v->pid == pid)
		return -EBUSY;
	in = inst_new(s, name);
	if (!in)
		return -ENOMEM;
	in->pid = in->sid = pid;
	in->ticks = ticks;
	in->adopted = 1;
	in->stop_timeout_ms = v->cfg->stop_timeout_ms;
	sysg_instance_prefix(s->state_dir, name, prefix, sizeof(prefix));
	if (sysg_proc_environ_find(pid, prefix, in->marker,
				   sizeof(in->marker)) < 0)
		in->marker[0] = '\0';
	in->cb = cb;
	in->arg = arg;
	*id = in->id;
	inst_begin_stop(in);
	return 0;
}

int sysg_inst_deploy_failed(struct sysg_supervisor *s, const char *name,
			    const char *reason, int has_code, int code,
			    int degraded)
{
	struct svc *v = sup_find(s, name);

	if (!v)
		return -ENOENT;
	if (degraded) {
		v->degraded = 1;
		snprintf(v->reason, sizeof(v->reason), "%s%s",
			 SYSG_DEGRADED_PREFIX, reason);
		sup_record(v);
		sup_changed(s);
	}
	if (v->pid > 0 || v->state != ST_STOPPED)
		return 0;
	/* a deploy stopped the service and could not start it again */
	v->has_exit = has_code;
	v->exit_code = code;
	v->has_signal = 0;
	snprintf(v->reason, sizeof(v->reason), "%s", reason);
	sysg_log(&s->log, SYSG_LOG_ERROR, "Service %s failed: %s", name,
		 reason);
	svc_deploy_state(v, ST_FAILED);
	return 0;
}
