#!/bin/sh
# bench/deploy-status.sh - SPEC 11 / issue 9: the supervisor keeps
# answering while it runs a deploy. 10 `sleep` services; one of them is
# deployed with the rolling strategy and a 5 s grace period (the deploy
# worker, a candidate and the old instance all alive); meanwhile
# `sysg status` is timed 40 times. Prints the median and max, and the
# same without a deploy for comparison.
# Usage: bench/deploy-status.sh [path/to/sysg]   (default: ./sysg)
set -eu
SYSG=${1:-./sysg}
. "$(dirname "$0")/common-daemon.sh"
: "${SYSG_PLUGIN_PATH:=$(dirname "$SYSG")/plugins/.libs:$(dirname "$SYSG")/strategies/.libs}"
export SYSG_PLUGIN_PATH

times_ms() {
	python3 - "$SYSG" "$D" <<'PY'
import os, statistics, subprocess, sys, time
sysg, d = sys.argv[1], sys.argv[2]
env = dict(os.environ, SYSG_STATE_DIR=d + "/state", HOME=d)
times = []
for i in range(42):
    t0 = time.perf_counter()
    subprocess.run([sysg, "status"], cwd=d, env=env,
                   stdout=subprocess.DEVNULL, check=True)
    if i >= 2:
        times.append((time.perf_counter() - t0) * 1000)
print("median %.2f ms, max %.2f ms (n=%d)" % (
    statistics.median(times), max(times), len(times)))
PY
}

D=$(daemon_up 10)
printf 'sysg status, 10 services, no deploy:      %s\n' "$(times_ms)"
# s0 becomes a rolling service with a grace period, then is deployed
sed -i 's|  s0: { command: "sleep 100000", ready_after: "10ms" }|  s0: { command: "sleep 100001", ready_after: "10ms", deployment: { strategy: rolling, grace_period: "5s" } }|' "$D/sysg.yaml"
sysg_in "$D" deploy -s s0 --detach >/dev/null
sleep 0.3
printf 'sysg status, 10 services, during a deploy: %s\n' "$(times_ms)"
sysg_in "$D" deploy --follow >/dev/null || true
