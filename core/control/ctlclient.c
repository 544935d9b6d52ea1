/* ctlclient.c - see ctlclient.h. */
#include <errno.h>
#include <string.h>

#include "base/base.h"
#include "wire.h"
#include "ctlclient.h"

static int no_supervisor(int rc)
{
	return rc == -ENOENT || rc == -ECONNREFUSED || rc == -ENOTDIR;
}

int sysg_ctlc_call(const char *state_dir, const char *cmd, json_t *args,
		   int timeout_ms, json_t **reply, FILE *errf)
{
	char path[SYSG_STATE_FILE_MAX], err[SYSG_ERR_MAX];
	int rc;

	*reply = NULL;
	if (sysg_control_path(state_dir, path, sizeof(path)) < 0) {
		json_decref(args);
		fprintf(errf, "sysg: %s/" SYSG_FILE_CONTROL ": path too long\n",
			state_dir);
		return -ENAMETOOLONG;
	}
	rc = sysg_ctl_call(path, cmd, args, timeout_ms, reply, err, sizeof(err));
	if (rc == 0 || no_supervisor(rc))
		return rc == 0 ? 0 : -ENOTCONN;
	if (rc == -EACCES || rc == -EPERM)
		fprintf(errf, "sysg: permission denied: %s belongs to another "
			"user (the control socket is 0600 in a 0700 directory; "
			"use that user or root)\n", path);
	else
		fprintf(errf, "sysg: %s\n", err);
	return rc;
}

int sysg_ctlc_exit(const json_t *reply)
{
	const json_t *e = json_object_get(reply, "exit");

	return json_is_integer(e) ? (int)json_integer_value(e) : 1;
}

static void print_array(const json_t *a, FILE *f, const char *prefix)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (json_is_string(v))
			fprintf(f, "%s%s\n", prefix, json_string_value(v));
}

int sysg_ctlc_print(const json_t *reply, FILE *out, FILE *err)
{
	const json_t *data = json_object_get(reply, "data");
	const json_t *errs = json_object_get(data, "errors");
	const char *e = json_string_value(json_object_get(reply, "error"));

	print_array(json_object_get(data, "lines"), out, "");
	if (json_array_size(errs))
		print_array(errs, err, "sysg: ");
	else if (e)
		fprintf(err, "sysg: %s\n", e);
	return sysg_ctlc_exit(reply);
}

int sysg_ctlc_ping(const char *state_dir, int64_t *pid)
{
	char path[SYSG_STATE_FILE_MAX], err[SYSG_ERR_MAX];
	json_t *reply = NULL;
	int ok;

	if (pid)
		*pid = 0;
	if (sysg_control_path(state_dir, path, sizeof(path)) < 0 ||
	    sysg_ctl_call(path, "ping", NULL, SYSG_CTLC_QUERY_TIMEOUT_MS, &reply,
			  err, sizeof(err)) < 0)
		return 0;
	ok = sysg_ctlc_exit(reply) == 0;
	if (ok && pid)
		*pid = json_integer_value(json_object_get(
			json_object_get(reply, "data"), "pid"));
	json_decref(reply);
	return ok;
}
