#!/bin/sh
# bench/idle.sh - SPEC 9: idle CPU of the resident supervisor with 10
# `sleep` services: its utime+stime (/proc/PID/stat, clock ticks) and its
# time on a CPU (/proc/PID/schedstat, nanoseconds) over 30 s (or
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

oncpu_ns() {
	cut -d' ' -f1 "/proc/$1/schedstat"
}

D=$(daemon_up 10)
P=$(daemon_pid "$D")
sleep 2
t0=$(ticks "$P")
n0=$(oncpu_ns "$P")
sleep "$SECONDS_IDLE"
t1=$(ticks "$P")
n1=$(oncpu_ns "$P")
hz=$(getconf CLK_TCK)
awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$SECONDS_IDLE" -v ns=$((n1 - n0)) 'BEGIN {
	printf "supervisor CPU over %d s with 10 services: %d ticks; %.2f ms on CPU = %.4f%% of one core\n",
	       s, d, ns / 1e6, ns / 1e9 / s * 100 }'
