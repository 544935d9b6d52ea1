#!/bin/sh
# bench/idle.sh - SPEC 9: idle CPU of the resident supervisor with 10
# `sleep` services: its utime+stime (/proc/PID/stat) over 30 s (or
# $SECONDS_IDLE), as a percentage of one core.
# Usage: bench/idle.sh [path/to/sysg]   (default: ./sysg)
set -eu
SYSG=${1:-./sysg}
: "${SECONDS_IDLE:=30}"
. "$(dirname "$0")/common-daemon.sh"

ticks() {
	# fields 14 and 15, counted after the ")" that ends the command name
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

D=$(daemon_up 10)
P=$(daemon_pid "$D")
sleep 2
t0=$(ticks "$P")
sleep "$SECONDS_IDLE"
t1=$(ticks "$P")
hz=$(getconf CLK_TCK)
awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$SECONDS_IDLE" 'BEGIN {
	printf "supervisor CPU over %d s with 10 services: %d ticks (%.3f s) = %.4f%% of one core\n",
	       s, d, d / hz, d / hz / s * 100 }'
