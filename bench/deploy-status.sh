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
	sysg_timed "$D" 2 40 status | awk '{ printf "median %.2f ms, max %.2f ms (n=%d)\n", $1, $3, $4 }'
}

D=$(daemon_up 10)
printf 'sysg status, 10 services, no deploy:      %s\n' "$(times_ms)"
# s0 becomes a rolling service with a grace period, then is deployed
sed -i 's|  s0: { command: "sleep 100000", ready_after: "10ms" }|  s0: { command: "sleep 100001", ready_after: "10ms", deployment: { strategy: rolling, grace_period: "5s" } }|' "$D/sysg.yaml"
sysg_in "$D" deploy -s s0 --detach >/dev/null
sleep 0.3
printf 'sysg status, 10 services, during a deploy: %s\n' "$(times_ms)"
sysg_in "$D" deploy --follow >/dev/null || true
