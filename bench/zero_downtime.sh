#!/bin/sh
# bench/zero_downtime.sh - zero-downtime restarts without a proxy: runs
# bench/zero_downtime.py (a Python HTTP service on a port sysg holds, a
# load loop against it, `sysg restart -s web` during it) for each
# readiness mode, then the baseline without `listen:`, and prints one JSON
# line per run.
# Usage: bench/zero_downtime.sh [path/to/sysg]   (default: ./sysg)
set -eu
SYSG=${1:-./sysg}
HERE=$(cd "$(dirname "$0")" && pwd)
: "${SYSG_PLUGIN_PATH:=$(cd "$(dirname "$SYSG")" && pwd)/plugins/.libs}"
export SYSG_PLUGIN_PATH
for readiness in notify settle; do
	python3 "$HERE/zero_downtime.py" "$SYSG" --readiness "$readiness" \
		--requests 2000 --clients 4 --rounds 3
done
python3 "$HERE/zero_downtime.py" "$SYSG" --instances 3 --requests 2000 \
	--clients 4 --rounds 3
# the same without `listen:` (the service binds the port itself, so a
# restart is stop-then-start): the connections it refuses
python3 "$HERE/zero_downtime.py" "$SYSG" --baseline --readiness settle \
	--requests 2000 --clients 4 --rounds 3 || true
