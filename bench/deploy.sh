#!/bin/sh
# bench/deploy.sh - issue 9: how long a deploy takes, and what traffic sees.
#  1. For each strategy (immediate, rolling, blue_green, and the out-of-tree
#     canary): the time from `sysg deploy` to the old instance's exit,
#     raw and minus the waits the config asks for (ready_after, grace_period,
#     canary holds). Median of RUNS deploys (default 5).
#  2. Through a real nginx (examples/blue-green-nginx): requests sent and
#     failed during a blue/green and a rolling deploy under load.
# Usage: bench/deploy.sh [path/to/sysg]   (default: ./sysg; run from the
# build tree). Needs python3 and, for part 2, nginx.
set -eu
SYSG=${1:-./sysg}
RUNS=${RUNS:-5}
. "$(dirname "$0")/common-daemon.sh"
SRC=$(cd "$(dirname "$0")/.." && pwd)
EX="$SRC/examples/blue-green-nginx"
BLD=$(dirname "$SYSG")
export SYSG_PLUGIN_PATH="$BLD/strategies/.libs:$BLD/plugins/.libs:$WORK/canary"

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# the canary, built out of tree against this tree's headers
mkdir -p "$WORK/canary"
cp "$SRC"/plugins/canary/canary.c "$SRC"/plugins/canary/Makefile \
   "$SRC"/plugins/canary/exports.map "$WORK/canary/"
make -s -C "$WORK/canary" SYSG_CFLAGS="-I$SRC/include -I$BLD/include" >/dev/null

# project STRATEGY: a directory with app.py and a config for STRATEGY
project() {
	d="$WORK/$1"
	p1=$(free_port); p2=$(free_port)
	mkdir -p "$d"
	cp "$EX/app.py" "$d/"
	case $1 in
	immediate|rolling) settings="" ;;
	blue_green) settings="      blue_green:
        slots: [\"$p1\", \"$p2\"]
        candidate_health_check_url: \"http://127.0.0.1:{slot}/health\"
        switch_command: \"true\"" ;;
	canary) settings="      canary:
        slots: [\"$p1\", \"$p2\"]
        steps: [50, 100]
        interval: 200ms
        check_every: 100ms
        candidate_health_check_url: \"http://127.0.0.1:{slot}/health\"
        switch_command: \"true\"" ;;
	esac
	cat > "$d/sysg.yaml" <<YAML
version: "1"
services:
  web:
    command: "python3 app.py"
    env: { vars: { PORT: "$p1", PORTS: "$p1,$p2", APP_VERSION: "v0" } }
    ready_after: 100ms
    deployment:
      strategy: $1
      grace_period: 0s
$settings
YAML
	[ "$1" = rolling ] && sed -i 's/PORT: "[0-9]*", //' "$d/sysg.yaml"
	echo "$d"
}

web_pid() {
	sysg_in "$1" status --json | python3 -c '
import json, sys
for u in json.load(sys.stdin)["units"]:
    if u["name"] == "web": print(u["pid"] or 0)'
}

# time_deploys STRATEGY WAIT_MS: median ms from `sysg deploy` to the old
# instance's exit, over RUNS deploys
time_deploys() {
	d=$(project "$1")
	sysg_in "$d" start --daemonize >/dev/null
	python3 - "$SYSG" "$d" "$RUNS" "$2" <<'PY'
import os, statistics, subprocess, sys, time, json
sysg, d, runs, wait = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
env = dict(os.environ, SYSG_STATE_DIR=d + "/state", HOME=d)
def pid():
    out = subprocess.run([sysg, "status", "--json"], cwd=d, env=env,
                         capture_output=True, text=True).stdout
    return [u["pid"] for u in json.loads(out)["units"] if u["name"] == "web"][0]
times = []
for i in range(runs):
    old = pid()
    cfg = open(d + "/sysg.yaml").read()
    open(d + "/sysg.yaml", "w").write(cfg.replace("v%d" % i, "v%d" % (i + 1)))
    t0 = time.perf_counter()
    r = subprocess.run([sysg, "deploy", "--service", "web"], cwd=d, env=env,
                       capture_output=True, text=True)
    if r.returncode:
        sys.exit("deploy failed: " + r.stdout + r.stderr)
    while os.path.exists("/proc/%d" % old) and \
            open("/proc/%d/stat" % old).read().split(") ")[1][0] != "Z":
        time.sleep(0.002)
    times.append((time.perf_counter() - t0) * 1000)
m = statistics.median(times)
print("median %7.1f ms, minus configured waits (%d ms) %7.1f ms  (min %.1f, max %.1f, n=%d)"
      % (m, wait, m - wait, min(times), max(times), len(times)))
PY
	sysg_in "$d" stop >/dev/null
}

echo "time from 'sysg deploy' to the old instance's exit (python3 app, ready_after 100ms, grace 0s):"
printf '  %-11s %s\n' immediate "$(time_deploys immediate 100)"
printf '  %-11s %s\n' rolling "$(time_deploys rolling 100)"
printf '  %-11s %s\n' blue_green "$(time_deploys blue_green 0)"
printf '  %-11s %s\n' canary "$(time_deploys canary 400)"

NGINX_BIN=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
if [ ! -x "$NGINX_BIN" ]; then
	echo "nginx cutover: skipped (nginx is not installed)"
	exit 0
fi
export NGINX_BIN

# cutover NAME CONFIG: requests sent/failed through nginx during a deploy
cutover() {
	d="$WORK/ng-$1"
	mkdir -p "$d"
	cp "$EX/app.py" "$EX/nginx.sh" "$EX/loadgen.py" "$d/"
	p1=$(free_port); p2=$(free_port); np=$(free_port)
	sed -e "s/8000/@P1@/g; s/8001/@P2@/g; s/8080/@NP@/g" \
	    -e "s/@P1@/$p1/g; s/@P2@/$p2/g; s/@NP@/$np/g" "$EX/$2" > "$d/sysg.yaml"
	export NGINX_PREFIX="$d/nginx"
	if [ "$1" = rolling ]; then "$d/nginx.sh" start "$np" "$p1" "$p2"
	else "$d/nginx.sh" start "$np" "$p1"; fi
	sysg_in "$d" start --daemonize >/dev/null
	python3 - "http://127.0.0.1:$np/" <<'PY'      # until v1 answers
import sys, time, urllib.request
for _ in range(400):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=1).read()
        break
    except Exception:
        time.sleep(0.05)
PY
	sed -i 's/APP_VERSION: "v1"/APP_VERSION: "v2"/' "$d/sysg.yaml"
	python3 "$d/loadgen.py" "http://127.0.0.1:$np/" --min 2000 \
		--until "$d/deployed" --started "$d/started" > "$d/load.json" || true &
	lg=$!
	until [ -e "$d/started" ]; do sleep 0.05; done  # load flows first
	sysg_in "$d" deploy --service web >/dev/null
	touch "$d/deployed"
	wait $lg
	python3 - "$d/load.json" "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print("  %-11s sent %d, failed %d, %.0f req/s over %.1f s; answers: %s" % (
    sys.argv[2], s["sent"], s["failed"], s["sent"] / s["seconds"],
    s["seconds"], ", ".join("%s x%d" % kv for kv in sorted(s["bodies"].items()))))
PY
	sysg_in "$d" stop >/dev/null
	"$d/nginx.sh" stop
}
echo "requests through nginx during the deploy (4 clients, a connection per request):"
cutover blue_green sysg.yaml
cutover rolling sysg-rolling.yaml
