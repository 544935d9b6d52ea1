#!/bin/sh
# bench/storm.sh - issue 13: a restart storm costs the resident
# supervisor a few state-helper forks, not one per event. N services that
# exit at once and are restarted at once (restart_policy: always, backoff
# 0ms) for D seconds; prints the restarts (events), the state helpers the
# supervisor forked (supervisor.log at --log-level debug names each),
# and the supervisor's and helpers' CPU time.
# Usage: bench/storm.sh [path/to/sysg] [N] [D]   (default: ./sysg 10 5)
set -eu
SYSG=${1:-./sysg}
N=${2:-10}
D=${3:-5}
. "$(dirname "$0")/common-daemon.sh"

d="$WORK/storm"
mkdir -p "$d"
{
	printf 'version: "1"\nservices:\n'
	i=0
	while [ $i -lt "$N" ]; do
		printf '  s%d: { command: "sleep 0.05", restart_policy: always, backoff: "0ms" }\n' $i
		i=$((i + 1))
	done
} > "$d/sysg.yaml"
cd "$d"
export SYSG_STATE_DIR="$d/state" HOME="$d"
"$SYSG" start --daemonize --log-level debug >/dev/null 2>&1 || true
pid=$(cat state/sysg.pid)
ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat"; }
t0=$(ticks "$pid")
h0=$(grep -c "state helper .* started" state/logs/supervisor.log || true)
sleep "$D"
t1=$(ticks "$pid")
h1=$(grep -c "state helper .* started" state/logs/supervisor.log || true)
restarts=$("$SYSG" status --json | python3 -c '
import json, sys
print(sum(u.get("restarts", 0) for u in json.load(sys.stdin)["units"]))')
printf 'services %d, %d s: restarts %d, state helpers forked %d (%.2f per s), ' \
	"$N" "$D" "$restarts" $((h1 - h0)) "$(echo "($h1 - $h0) / $D" | bc -l)"
printf 'supervisor+helpers CPU %d ticks (%d per s)\n' $((t1 - t0)) $(((t1 - t0) / D))
"$SYSG" stop >/dev/null
