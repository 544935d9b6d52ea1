#!/bin/sh
# bench/zero_downtime.sh - zero downtime without a proxy: runs
# bench/zero_downtime.py (a Python HTTP service on a port sysg holds, a
# load loop against it, `sysg restart -s web` or `sysg deploy --service
# web` of a new definition during it) for each readiness mode, three
# copies (instances: 3, rolling restarts and deploys), after the
# supervisor was SIGKILLed and replaced or upgraded in place, then the
# baseline without `listen:`, and prints one JSON line per run.
# Usage: bench/zero_downtime.sh [path/to/sysg]   (default: ./sysg)
set -eu
SYSG=${1:-./sysg}
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "$(dirname "$SYSG")" && pwd)
: "${SYSG_PLUGIN_PATH:=$BUILD/strategies/.libs:$BUILD/plugins/.libs}"
export SYSG_PLUGIN_PATH
ZDT="python3 $HERE/zero_downtime.py $SYSG --requests 2000 --clients 4"
for readiness in notify settle; do
	$ZDT --readiness "$readiness" --rounds 3
done
$ZDT --instances 3 --rounds 3
# deploys of a new definition (GEN changes), through the deploy worker
$ZDT --op deploy --rounds 3 --strategy rolling
$ZDT --op deploy --rounds 3 --strategy immediate
$ZDT --instances 3 --op deploy --rounds 3 --strategy rolling
# the sockets survive a new supervisor (SIGKILL, adoption) and an upgrade
$ZDT --instances 3 --op restart,deploy,restart --strategy rolling \
	--before kill
$ZDT --op restart,deploy,restart --strategy rolling --before upgrade
# the same without `listen:` (the service binds the port itself, so a
# restart is stop-then-start): the connections it refuses
$ZDT --baseline --readiness settle --rounds 3 || true
