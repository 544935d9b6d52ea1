#!/bin/sh
# bench/status.sh - SPEC 9: wall time of `sysg status` with 10 services
# under a resident supervisor; prints the median of 20 runs (and the min
# and max), also for `status --json`.
# Usage: bench/status.sh [path/to/sysg]   (default: ./sysg)
set -eu
SYSG=${1:-./sysg}
. "$(dirname "$0")/common-daemon.sh"

# median_ms ARGS...: 20 timed runs of `sysg ARGS` (after 2 warm-up runs)
median_ms() {
	python3 - "$SYSG" "$D" "$@" <<'PY'
import os, statistics, subprocess, sys, time
sysg, d, args = sys.argv[1], sys.argv[2], sys.argv[3:]
env = dict(os.environ, SYSG_STATE_DIR=d + "/state", HOME=d)
times = []
for i in range(22):
    t0 = time.perf_counter()
    subprocess.run([sysg] + args, cwd=d, env=env, stdout=subprocess.DEVNULL,
                   check=True)
    if i >= 2:
        times.append((time.perf_counter() - t0) * 1000)
print("median %.2f ms (min %.2f, max %.2f, n=%d)" % (
    statistics.median(times), min(times), max(times), len(times)))
PY
}

D=$(daemon_up 10)
printf 'sysg status, 10 services, supervisor running:        %s\n' \
	"$(median_ms status)"
printf 'sysg status --json, 10 services, supervisor running: %s\n' \
	"$(median_ms status --json)"
sysg_in "$D" stop >/dev/null
printf 'sysg status, 10 services, no supervisor (offline):   %s\n' \
	"$(median_ms status)"
