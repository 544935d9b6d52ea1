#!/bin/sh
# bench/zero_downtime.sh - zero downtime without a proxy: runs
# bench/zero_downtime.py (a Python HTTP service on a port sysg holds, a
# load loop against it, `sysg restart -s web` or `sysg deploy --service
# web` of a new definition during it) for each readiness mode, three
# copies (instances: 3, rolling restarts and deploys), after the
# supervisor was SIGKILLed and replaced or upgraded in place, then the
# baseline without `listen:`, and prints one JSON line per run.
# Usage: bench/zero_downtime.sh [path/to/sysg]   (default: ./sysg)
# Exit status 1 when a run (other than the baseline) failed.
set -u
SYSG=${1:-./sysg}
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "$(dirname "$SYSG")" && pwd)
: "${SYSG_PLUGIN_PATH:=$BUILD/strategies/.libs:$BUILD/plugins/.libs}"
export SYSG_PLUGIN_PATH
rc=0
ZDT() { python3 "$HERE/zero_downtime.py" "$SYSG" --clients 4 "$@" || rc=1; }
for readiness in notify settle; do
	ZDT --requests 2000 --readiness "$readiness" --rounds 3
done
# three copies are replaced one by one: a longer load outlasts 3 rounds
ZDT --requests 4000 --instances 3 --rounds 3
# deploys of a new definition (GEN changes), through the deploy worker
ZDT --requests 2000 --op deploy --rounds 3 --strategy rolling
ZDT --requests 2000 --op deploy --rounds 3 --strategy immediate
ZDT --requests 4000 --instances 3 --op deploy --rounds 3 --strategy rolling
# the sockets survive a new supervisor (SIGKILL, adoption) and an upgrade
ZDT --requests 4000 --instances 3 --op restart,deploy,restart \
	--strategy rolling --before kill
ZDT --requests 2000 --op restart,deploy,restart --strategy rolling \
	--before upgrade
# the same without `listen:` (the service binds the port itself, so a
# restart is stop-then-start): the connections it refuses
python3 "$HERE/zero_downtime.py" "$SYSG" --clients 4 --requests 2000 \
	--baseline --readiness settle --rounds 3 || true
exit $rc
