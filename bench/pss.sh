#!/bin/sh
# bench/pss.sh - SPEC 9: memory of the resident supervisor, as the sum of
# Pss (/proc/PID/smaps_rollup) of every sysg process, with N = 10 and 40
# `sleep` services under `sysg start --daemonize`. Also prints the
# private (unshared) part, which does not depend on what else maps the
# same libraries.
# Usage: bench/pss.sh [path/to/sysg]   (default: ./sysg)
set -eu
SYSG=${1:-./sysg}
. "$(dirname "$0")/common-daemon.sh"

# every process running $SYSG whose environment names state dir $1
sysg_pids() {
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$SYSG" ] || continue
		tr '\0' '\n' < "$p/environ" 2>/dev/null |
			grep -qx "SYSG_STATE_DIR=$1/state" && basename "$p"
	done
}

sum_kib() {
	field=$1
	shift
	for p in "$@"; do cat "/proc/$p/smaps_rollup"; done |
		awk -v f="$field" '$0 ~ f { s += $2 } END { print s + 0 }'
}

for n in 10 40; do
	d=$(daemon_up $n)
	sleep 2         # past the first CPU/memory sample
	pids=$(sysg_pids "$d")
	count=$(echo $pids | wc -w)
	printf 'N=%-3d sysg processes: %d  PSS %6d KiB  private %6d KiB\n' \
		$n "$count" "$(sum_kib '^Pss:' $pids)" \
		"$(sum_kib '^Private_(Clean|Dirty):' $pids)"
	sysg_in "$d" stop >/dev/null
done
