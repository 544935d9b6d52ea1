/* cmd_deploy.c - `sysg deploy` (and `sysg restart -s S`, which goes
 * through the same path): ask the supervisor to run a deploy, then follow
 * its progress lines until it ends. The deploy runs in the supervisor:
 * closing the terminal does not stop it (`--follow` re-attaches).
 * `deploy --history` reads the state backend (cmd_query.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "base/base.h"
#include "control/control.h"
#include "deploy/deploy.h"

static int no_supervisor(void)
{
	sysg_cli_error("no supervisor running: deploys are run by the "
		       "supervisor (start one with sysg start --daemonize)");
	return SYSG_EXIT_NO_SUPERVISOR;
}

/* Every request has a deadline: deploy and deploy_op answer at once,
 * deploy_follow within 10 s even when the deploy has no news. */
#define FOLLOW_TIMEOUT_MS (2 * SYSG_CTLC_QUERY_TIMEOUT_MS)

static int call(const char *state_dir, const char *cmd, json_t *args,
		json_t **reply)
{
	int rc = sysg_ctlc_call(state_dir, cmd, args,
				strcmp(cmd, "deploy_follow") ?
				SYSG_CTLC_QUERY_TIMEOUT_MS : FOLLOW_TIMEOUT_MS,
				reply, stderr);

	if (rc == -ENOTCONN)
		return no_supervisor();
	if (rc < 0)
		return SYSG_EXIT_FAILED;
	return -1;      /* answered: look at the reply */
}

/* The reply failed: print its error lines, return its exit status. */
static int failed(json_t *reply)
{
	const char *e = sysg_jstr(reply, "error");
	int code = sysg_ctlc_exit(reply);

	if (e) {
		char *copy = strdup(e), *line, *save = NULL;

		for (line = copy ? strtok_r(copy, "\n", &save) : NULL; line;
		     line = strtok_r(NULL, "\n", &save))
			if (strchr(line, ':') && strstr(line, ": error:"))
				fprintf(stderr, "%s\n", line);
			else
				sysg_cli_error("%s", line);
		free(copy);
	}
	json_decref(reply);
	return code;
}

/* Print the lines of deploy ID (NULL: the newest, or SERVICE's) until it
 * ends; returns its exit status. */
static int follow(const char *state_dir, const char *id, const char *service)
{
	json_int_t from = 0;
	char *idc = id ? strdup(id) : NULL;
	int code = SYSG_EXIT_FAILED;

	for (;;) {
		json_t *args = json_pack("{s:I}", "from", from), *reply, *data;
		size_t i;
		json_t *l;
		int rc;

		if (idc)
			json_object_set_new(args, "id", json_string(idc));
		else if (service)
			json_object_set_new(args, "service",
					    json_string(service));
		rc = call(state_dir, "deploy_follow", args, &reply);
		if (rc >= 0) {
			code = rc == SYSG_EXIT_NO_SUPERVISOR && from ?
			       SYSG_EXIT_FAILED : rc;
			if (from)
				sysg_cli_error("lost the supervisor while "
					       "following the deploy");
			break;
		}
		if (sysg_ctlc_exit(reply) != 0) {
			code = failed(reply);
			break;
		}
		data = json_object_get(reply, "data");
		if (!idc)
			idc = strdup(sysg_jstr(data, "id") ?: "");
		json_array_foreach(json_object_get(data, "lines"), i, l)
			printf("%s\n", json_string_value(l));
		fflush(stdout);
		from = sysg_jint(data, "next");
		if (json_is_true(json_object_get(data, "done"))) {
			const char *o = sysg_jstr(data, "outcome");
			const char *r = sysg_jstr(data, "reason");

			code = (int)sysg_jint(data, "exit");
			if (code)
				sysg_cli_error("deploy %s: %s%s%s", idc,
					       o ? o : "",
					       r && *r ? ": " : "", r ? r : "");
			json_decref(reply);
			break;
		}
		json_decref(reply);
	}
	free(idc);
	return code;
}

int sysg_cli_deploy(struct sysg_cli *c, const char *state_dir, int restart)
{
	json_t *args = json_pack("{s:s}", "service", c->service), *reply;
	const char *id;
	char *idc;
	int rc;

	if (c->strategy)
		json_object_set_new(args, "strategy", json_string(c->strategy));
	if (c->dry_run)
		json_object_set_new(args, "dry_run", json_true());
	if (c->message)
		json_object_set_new(args, "message", json_string(c->message));
	if (restart)
		json_object_set_new(args, "restart", json_true());
	if (c->rollback)
		json_object_set_new(args, "rollback", json_true());
	if (c->to)
		json_object_set_new(args, "to", json_string(c->to));
	if (c->strict)
		json_object_set_new(args, "strict", json_true());
	rc = call(state_dir, "deploy", args, &reply);
	if (rc >= 0)
		return rc;
	if (sysg_ctlc_exit(reply) != 0)
		return failed(reply);
	id = json_string_value(json_object_get(json_object_get(reply, "data"),
					       "id"));
	if (!id) {      /* restart of a service that was not running */
		rc = sysg_ctlc_print(reply, stdout, stderr);
		json_decref(reply);
		return rc;
	}
	idc = strdup(id ? id : "");
	json_decref(reply);
	if (!idc)
		return SYSG_EXIT_FAILED;
	if (c->detach) {
		printf("%s\n", idc);
		free(idc);
		return SYSG_EXIT_OK;
	}
	rc = follow(state_dir, idc, NULL);
	free(idc);
	return rc;
}

static int operator_cmd(struct sysg_cli *c, const char *state_dir,
			const char *cmd)
{
	json_t *reply;
	int rc;

	if (!c->service) {
		sysg_cli_error("deploy --%s needs the service: "
			       "sysg deploy --%s "
			       "-s SERVICE", cmd, cmd);
		return SYSG_EXIT_USAGE;
	}
	rc = call(state_dir, "deploy_op", json_pack("{s:s, s:s}", "service",
						    c->service, "cmd", cmd),
		  &reply);
	if (rc >= 0)
		return rc;
	if (sysg_ctlc_exit(reply) != 0)
		return failed(reply);
	printf("%s: %s sent to the deploy of %s\n", "sysg", cmd, c->service);
	json_decref(reply);
	return SYSG_EXIT_OK;
}

int sysg_cmd_deploy(struct sysg_cli *c)
{
	static const char *const ops[] = { "abort", "pause", "resume",
					   "promote" };
	const int flags[] = { c->abort, c->pause, c->resume, c->promote };
	char state_dir[4096];
	int nops = 0, rc;

	for (int i = 0; i < 4; i++)
		nops += flags[i] != 0;
	if (nops > 1 || (nops && (c->history || c->rollback || c->follow)) ||
	    (c->history && (c->rollback || c->follow)) ||
	    (c->follow && c->rollback)) {
		sysg_cli_error("deploy: choose one of --history, --follow, "
			       "--rollback, --abort, --pause, --resume, "
			       "--promote");
		return SYSG_EXIT_USAGE;
	}
	if (c->to && !c->rollback) {
		sysg_cli_error("deploy: --to goes with --rollback");
		return SYSG_EXIT_USAGE;
	}
	if (c->history)
		return sysg_cmd_deploy_history(c);
	rc = sysg_state_dir(c->sys, state_dir, sizeof(state_dir));
	if (rc < 0) {
		sysg_cli_error("cannot determine the state directory: %s",
			       strerror(-rc));
		return SYSG_EXIT_FAILED;
	}
	for (int i = 0; i < 4; i++)
		if (flags[i])
			return operator_cmd(c, state_dir, ops[i]);
	if (c->follow)
		return follow(state_dir, c->follow_id, c->service);
	if (!c->service) {
		sysg_cli_error("deploy needs a service: "
			       "sysg deploy --service S "
			       "(see sysg help deploy)");
		return SYSG_EXIT_USAGE;
	}
	return sysg_cli_deploy(c, state_dir, 0);
}
