# deploytest.sh - shell helpers for the black-box deploy tests (sourced).
# Each test gets its own temp dir as SYSG_STATE_DIR and HOME, waits on
# conditions with deadlines (never bare sleeps), and on exit stops what it
# started: the supervisor (sysg stop, then its pid), its nginx, by pid.
set -eu

SYSG=${SYSG_BIN:-$(pwd)/sysg}
SRC=${SYSG_SRCDIR:-.}
BLD=${SYSG_BUILDDIR:-.}
T=$(mktemp -d "${TMPDIR:-/tmp}/sysg-deploytest-XXXXXX")
export SYSG_STATE_DIR="$T/state" HOME="$T/home"
mkdir -p "$HOME"
_pids=
_nginx=

# $GET URL: print the body of a 2xx answer, else fail (python3 only, so
# the tests need nothing the README's setup does not install).
GET="$T/get"
cat > "$GET" <<'PY'
#!/usr/bin/env python3
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        sys.stdout.write(r.read().decode(errors="replace"))
except Exception:
    sys.exit(1)
PY
chmod +x "$GET"

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "== $*"; }

# free_port: an unused loopback TCP port.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# app_dir DIR: DIR holding examples/blue-green-nginx/app.py, and two free
# ports in $p1 and $p2 for it.
app_dir() {
	mkdir -p "$1"
	cp "$SRC/examples/blue-green-nginx/app.py" "$1/"
	p1=$(free_port); p2=$(free_port)
	while [ "$p2" = "$p1" ]; do p2=$(free_port); done
}

# wait_for SECONDS CMD...: poll CMD every 50 ms until it succeeds. The
# deadline is a safety net, at least 30 s (testutil.h: TU_DEADLINE_MS).
wait_for() {
	_limit=$(( ($1 < 30 ? 30 : $1) * 20 ))
	shift
	_i=0
	until "$@" >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ $_i -le $_limit ] || return 1
		sleep 0.05
	done
}

# remember_pid PID: kill it on exit.
remember_pid() { _pids="$_pids $1"; }

# use_nginx PREFIX: stop that nginx on exit.
use_nginx() { _nginx=$1; }

cleanup() {
	_rc=$?
	set +e
	"$SYSG" stop >/dev/null 2>&1
	if [ -f "$SYSG_STATE_DIR/sysg.pid" ]; then
		kill "$(cat "$SYSG_STATE_DIR/sysg.pid")" 2>/dev/null
	fi
	if [ -n "$_nginx" ] && [ -f "$_nginx/nginx.pid" ]; then
		kill -QUIT "$(cat "$_nginx/nginx.pid")" 2>/dev/null
	fi
	for p in $_pids; do kill "$p" 2>/dev/null; done
	[ $_rc -ne 0 ] && [ -f "$SYSG_STATE_DIR/logs/supervisor.log" ] &&
		tail -n 30 "$SYSG_STATE_DIR/logs/supervisor.log" >&2
	rm -rf "$T"
	exit $_rc
}
trap cleanup EXIT INT TERM

# json_get FILE KEY: one top-level value of a JSON object.
json_get() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# deploy_implemented: 0 when this sysg runs deploys (not "not implemented").
deploy_implemented() {
	! "$SYSG" deploy --service nosuch 2>&1 | grep -q "not implemented"
}
