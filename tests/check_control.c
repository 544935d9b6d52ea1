/* check_control.c - the control socket: framing, bad requests, slow and
 * foreign clients never block or break the server. The server runs in
 * this process's loop; clients run in forked children. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control/control.h"
#include "base/base.h"
#include "testutil.h"

static char tmpdir[64], sock[100];
static struct sysg_loop *loop;
static struct sysg_ctl_server *srv;
static struct sysg_ctl_conn *deferred;
static struct sysg_timer later;
static int requests;

static void reply_later(struct sysg_timer *t)
{
	(void)t;
	sysg_ctl_reply(deferred, 0, NULL, json_pack("{s:s}", "echo", "later"));
	deferred = NULL;
}

static void handler(void *arg, struct sysg_ctl_conn *conn, const char *cmd,
		    json_t *args)
{
	(void)arg;
	requests++;
	if (!strcmp(cmd, "slow")) {
		deferred = conn;
		sysg_timer_start(loop, &later, 100, reply_later, NULL);
		return;
	}
	if (!strcmp(cmd, "fail")) {
		sysg_ctl_reply(conn, 3, "no such thing", NULL);
		return;
	}
	if (!strcmp(cmd, "text")) {     /* raw text after the JSON */
		static const char att[] = "{\n  \"a\": \"\\u00e9 \\\"q\\\"\"\n}";

		sysg_ctl_reply_att(conn, 0, NULL, json_pack("{s:s}", "echo",
							    cmd), att,
				   sizeof(att) - 1);
		return;
	}
	sysg_ctl_reply(conn, 0, NULL,
		       json_pack("{s:s, s:O}", "echo", cmd, "args", args));
}

static void setup(void)
{
	char err[256];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sysg-ctl-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(sock, sizeof(sock), "%s/control.sock", tmpdir);
	ck_assert_int_eq(sysg_loop_new(&loop), 0);
	ck_assert_int_eq(sysg_ctl_server_new(&srv, loop, sock, handler, NULL,
					     err, sizeof(err)), 0);
	requests = 0;
}

static void teardown(void)
{
	char cmd[128];

	sysg_ctl_server_free(srv);
	sysg_loop_free(loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Run the loop until child PID exits (deadline 10 s); its exit status. */
static int serve_until_exit(pid_t pid)
{
	int64_t deadline = sysg_now_ms() + 10000;
	int status;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (sysg_now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		sysg_loop_once(loop, 20);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

/* Child: one sysg_ctl_call; exit 0 when the reply matches. */
static void call_child(const char *cmd, int want_exit, const char *want_echo)
{
	json_t *reply = NULL;
	char err[256];
	int rc = sysg_ctl_call(sock, cmd, json_pack("{s:i}", "n", 7), 5000,
			       &reply, err, sizeof(err));
	json_t *data;

	if (rc < 0)
		_exit(10);
	if (json_integer_value(json_object_get(reply, "exit")) != want_exit)
		_exit(11);
	data = json_object_get(reply, "data");
	if (want_echo && strcmp(json_string_value(json_object_get(data, "echo")) ?: "",
				want_echo))
		_exit(12);
	/* the attachment arrives byte for byte, and only when sent */
	if (!strcmp(cmd, "text") ?
	    strcmp(json_string_value(json_object_get(reply, "attachment")) ?:
		   "", "{\n  \"a\": \"\\u00e9 \\\"q\\\"\"\n}") :
	    json_object_get(reply, "attachment") != NULL)
		_exit(13);
	json_decref(reply);
	_exit(0);
}

static int run_call(const char *cmd, int want_exit, const char *want_echo)
{
	pid_t pid = fork();

	if (pid == 0)
		call_child(cmd, want_exit, want_echo);
	return serve_until_exit(pid);
}

static int raw_connect(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* Child: send BYTES raw, then expect a reply containing NEEDLE (or, with
 * NEEDLE NULL, just EOF). */
static void raw_child(const char *bytes, size_t len, const char *needle)
{
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	int fd = raw_connect();

	if (fd < 0)
		_exit(20);
	if (write(fd, bytes, len) != (ssize_t)len)
		_exit(21);
	shutdown(fd, SHUT_WR);
	while ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	if (needle && (got < 4 || !strstr(buf + 4, needle)))
		_exit(22);
	_exit(0);
}

static int run_raw(const char *bytes, size_t len, const char *needle)
{
	pid_t pid = fork();

	if (pid == 0)
		raw_child(bytes, len, needle);
	return serve_until_exit(pid);
}

START_TEST(round_trip)
{
	struct stat st;

	ck_assert_int_eq(stat(sock, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(run_call("ping", 0, "ping"), 0);
	ck_assert_int_eq(run_call("fail", 3, NULL), 0);
	ck_assert_int_eq(run_call("slow", 0, "later"), 0);
	ck_assert_int_eq(run_call("text", 0, "text"), 0);
	ck_assert_int_eq(requests, 4);
}
END_TEST

START_TEST(malformed_requests_get_errors)
{
	static const char garbage[] = "\0\0\0\x08not json";
	static const char badver[] = "\0\0\0\x14{\"v\":9,\"cmd\":\"ping\"}";
	static const char notobj[] = "\0\0\0\x03[1]";
	static const char nocmd[] = "\0\0\0\x07{\"v\":1}";
	static const char huge[] = "\x7f\xff\xff\xff{";
	static const char trunc[] = "\0\0\0\x64{\"v\":1";

	ck_assert_int_eq(run_raw(garbage, sizeof(garbage) - 1, "malformed request"), 0);
	ck_assert_int_eq(run_raw(badver, sizeof(badver) - 1, "bad request"), 0);
	ck_assert_int_eq(run_raw(notobj, sizeof(notobj) - 1, "bad request"), 0);
	ck_assert_int_eq(run_raw(nocmd, sizeof(nocmd) - 1, "bad request"), 0);
	ck_assert_int_eq(run_raw(huge, sizeof(huge) - 1, "too large"), 0);
	ck_assert_int_eq(run_raw(trunc, sizeof(trunc) - 1, NULL), 0);
	ck_assert_int_eq(run_raw("\0", 1, NULL), 0);
	ck_assert_int_eq(requests, 0);
	/* Still serving. */
	ck_assert_int_eq(run_call("ping", 0, "ping"), 0);
}
END_TEST

START_TEST(decoder_rejects_bad_input)
{
	json_t *req = NULL, *args = NULL;
	const char *cmd = NULL;
	char err[256];
	static char big[SYSG_CTL_MAX_REQUEST + 1];

	ck_assert_int_eq(sysg_ctl_decode_request("{\"v\":1,\"cmd\":\"x\"}", 17,
						 &req, &cmd, &args, err,
						 sizeof(err)), 0);
	ck_assert_str_eq(cmd, "x");
	ck_assert(json_is_object(args));
	json_decref(req);
	ck_assert_int_eq(sysg_ctl_decode_request(big, sizeof(big), &req, &cmd,
						 &args, err, sizeof(err)), -E2BIG);
	ck_assert_int_eq(sysg_ctl_decode_request("{\"v\":1,\"cmd\":\"x\",\"args\":3}",
						 26, &req, &cmd, &args, err,
						 sizeof(err)), -EINVAL);
	ck_assert_int_eq(sysg_ctl_decode_request("{\"v\":1,\"v\":1,\"cmd\":\"x\"}",
						 23, &req, &cmd, &args, err,
						 sizeof(err)), -EINVAL);
}
END_TEST

START_TEST(slow_client_does_not_block_others)
{
	pid_t slow = fork();

	if (slow == 0) {
		/* Two bytes of a header, then silence until disconnected. */
		char c;
		int fd = raw_connect();

		if (fd < 0 || write(fd, "\0\0", 2) != 2)
			_exit(30);
		_exit(read(fd, &c, 1) == 0 ? 0 : 31);
	}
	ck_assert_int_eq(run_call("ping", 0, "ping"), 0);
	/* The slow one is cut off at the request deadline. */
	ck_assert_int_eq(serve_until_exit(slow), 0);
}
END_TEST

START_TEST(other_users_are_refused)
{
	pid_t pid;

	if (geteuid() != 0)
		return;
	/* 0600 keeps others from connecting at all ... */
	pid = fork();
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(40);
		_exit(raw_connect() == -EACCES ? 0 : 41);
	}
	ck_assert_int_eq(serve_until_exit(pid), 0);
	/* ... and SO_PEERCRED refuses them even if the mode is loosened. */
	ck_assert_int_eq(chmod(sock, 0666), 0);
	ck_assert_int_eq(chmod(tmpdir, 0755), 0);
	pid = fork();
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(40);
		call_child("ping", 1, NULL);
	}
	ck_assert_int_eq(serve_until_exit(pid), 0);
	ck_assert_int_eq(requests, 0);
}
END_TEST

START_TEST(one_server_per_socket)
{
	struct sysg_ctl_server *second = NULL;
	json_t *reply = NULL;
	char err[256], other[100];
	int fd;

	ck_assert_int_eq(sysg_ctl_server_new(&second, loop, sock, handler, NULL,
					     err, sizeof(err)), -EADDRINUSE);
	ck_assert_ptr_null(second);
	/* A stale socket file with nobody behind it is replaced. */
	snprintf(other, sizeof(other), "%s/stale.sock", tmpdir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un a = { .sun_family = AF_UNIX };

		snprintf(a.sun_path, sizeof(a.sun_path), "%s", other);
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	}
	close(fd);
	ck_assert_int_eq(sysg_ctl_server_new(&second, loop, other, handler, NULL,
					     err, sizeof(err)), 0);
	sysg_ctl_server_free(second);
	ck_assert_int_eq(access(other, F_OK), -1);
	/* No server at all. */
	ck_assert_int_lt(sysg_ctl_call(other, "ping", NULL, 1000, &reply, err,
				       sizeof(err)), 0);
	ck_assert_ptr_null(reply);
}
END_TEST

static Suite *make_control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("control");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, malformed_requests_get_errors);
	tcase_add_test(tc, decoder_rejects_bad_input);
	tcase_add_test(tc, slow_client_does_not_block_others);
	tcase_add_test(tc, other_users_are_refused);
	tcase_add_test(tc, one_server_per_socket);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_control_suite());
}
