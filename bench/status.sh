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
	sysg_timed "$D" 2 20 "$@" | awk '{ printf "median %.2f ms (min %.2f, max %.2f, n=%d)\n", $1, $2, $3, $4 }'
}

D=$(daemon_up 10)
printf 'sysg status, 10 services, supervisor running:        %s\n' \
	"$(median_ms status)"
printf 'sysg status --json, 10 services, supervisor running: %s\n' \
	"$(median_ms status --json)"
sysg_in "$D" stop >/dev/null
printf 'sysg status, 10 services, no supervisor (offline):   %s\n' \
	"$(median_ms status)"
