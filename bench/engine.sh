#!/bin/sh
# bench/engine.sh - measure the supervision engine (SPEC 9):
#   1. the supervisor's PSS (sum of Pss in /proc/PID/smaps_rollup) while it
#      supervises N `sleep` services, for N = 10 and 40;
#   2. the time for a 10-service, 5-level dependency DAG of services that
#      become healthy 0.3 s after they start, probed every 100 ms.
# Usage: bench/engine.sh [path/to/sysg]   (default: ./sysg in the build tree)
# Needs SYSG_PLUGIN_PATH to find xml.so when run outside `make`.
set -eu

SYSG=${1:-./sysg}
SYSG=$(cd "$(dirname "$SYSG")" && pwd)/$(basename "$SYSG")
: "${SYSG_PLUGIN_PATH:=$(dirname "$SYSG")/plugins/.libs}"
export SYSG_PLUGIN_PATH
WORK=$(mktemp -d /tmp/sysg-bench-XXXXXX)
SUP=
cleanup() {
	[ -n "$SUP" ] && kill "$SUP" 2>/dev/null && wait "$SUP" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# wait_running DIR N: until state.xml lists N running units (10 s max)
wait_running() {
	i=0
	while [ "$(cat "$1/state/state.xml" 2>/dev/null |
		grep -c '<status>running</status>')" -lt "$2" ]; do
		i=$((i + 1))
		[ $i -gt 1000 ] && { echo "timeout waiting for $2 services" >&2; exit 1; }
		sleep 0.01
	done
}

start_bg() {
	(cd "$1" && SYSG_STATE_DIR="$1/state" HOME="$1" exec "$SYSG" \
		--log-level off start) &
	SUP=$!
}

stop_bg() {
	kill -TERM "$SUP"
	wait "$SUP" || true
	SUP=
}

pss_kib() {
	awk '/^Pss:/ { s += $2 } END { print s }' "/proc/$1/smaps_rollup"
}

# private (unshared) memory: does not depend on what else maps the libs
uss_kib() {
	awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s }' \
		"/proc/$1/smaps_rollup"
}

bench_pss() {
	n=$1
	d="$WORK/pss$n"
	mkdir -p "$d"
	{
		echo 'version: "1"'
		echo 'services:'
		i=1
		while [ $i -le "$n" ]; do
			echo "  s$i: { command: \"sleep 1000\", ready_after: \"10ms\" }"
			i=$((i + 1))
		done
	} > "$d/sysg.yaml"
	start_bg "$d"
	wait_running "$d" "$n"
	# steady state (the state backend never enters the supervisor: its
	# short-lived helper process is gone once the records are stored)
	sleep 2.5
	echo "supervisor with $n sleep services: PSS $(pss_kib "$SUP") KiB," \
		"private $(uss_kib "$SUP") KiB"
	stop_bg
}

# ms since midnight of an ISO timestamp "2026-11-26T10:30:15.123Z"
log_ms() {
	awk -v pat="$2" -v which="$3" '
		index($0, pat) {
			split(substr($1, 12, 12), t, /[:.]/)
			ms = ((t[1] * 60 + t[2]) * 60 + t[3]) * 1000 + t[4]
			if (which == "first" && !seen++) print ms
			if (which == "last") last = ms
		}
		END { if (which == "last") print last }' "$1"
}

bench_dag() {
	d="$WORK/dag"
	mkdir -p "$d"
	{
		echo 'version: "1"'
		echo 'services:'
		for lvl in 1 2 3 4 5; do
			for k in a b; do
				name="l$lvl$k"
				echo "  $name:"
				echo "    command: \"sh -c 'sleep 0.3; touch $name.up; exec sleep 1000'\""
				echo "    health_check: { command: \"test -f $name.up\", interval: \"100ms\", timeout: \"2s\", retries: 5 }"
				if [ $lvl -gt 1 ]; then
					p=$((lvl - 1))
					echo "    depends_on: [l${p}a, l${p}b]"
				fi
			done
		done
	} > "$d/sysg.yaml"
	start_bg "$d"
	wait_running "$d" 10
	log="$d/state/logs/supervisor.log"
	first=$(log_ms "$log" "Starting service:" first)
	last=$(log_ms "$log" " is running" last)
	echo "10-service 5-level DAG (0.3 s services, 100 ms probes): all ready in $((last - first)) ms"
	stop_bg
}

# Restart latency: exit of the old instance -> spawn of the new one.
bench_restart() {
	d="$WORK/restart"
	mkdir -p "$d"
	cat > "$d/sysg.yaml" <<-'YAML'
	version: "1"
	services:
	  r: { command: "sleep 0.1", restart_policy: always, backoff: "0ms", ready_after: "10ms" }
	YAML
	start_bg "$d"
	sleep 2
	stop_bg
	awk '
		function ms(ts,  t) {
			split(substr(ts, 12, 12), t, /[:.]/)
			return ((t[1] * 60 + t[2]) * 60 + t[3]) * 1000 + t[4]
		}
		/Service r exited/ { ex = ms($1) }
		/Started service r/ && ex { sum += ms($1) - ex; n++; ex = 0 }
		END { printf "restart (immediate, backoff 0): new instance %.1f ms after the old one exited (mean of %d)\n", sum / n, n }
	' "$d/state/logs/supervisor.log"
}

# Idle CPU: clock ticks used by the supervisor of 10 sleep services in 5 s.
bench_idle() {
	d="$WORK/pss10"
	start_bg "$d"
	wait_running "$d" 10
	a=$(awk '{ print $14 + $15 }' "/proc/$SUP/stat")
	sleep 5
	b=$(awk '{ print $14 + $15 }' "/proc/$SUP/stat")
	echo "idle CPU with 10 services: $((b - a)) clock ticks in 5 s"
	stop_bg
}

bench_pss 10
bench_pss 40
bench_dag
bench_restart
bench_idle
