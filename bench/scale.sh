#!/bin/sh
# bench/scale.sh - issue 15: does the supervisor stay linear in the number
# of services? For N = 100, 200, 400, 1000 (or $SCALE_NS) `sleep 86400`
# services and each state backend (xml, sqlite; or $SCALE_BACKENDS), it
# times `start --daemonize`, `status --json` (median of 5) and `stop`,
# and reads the resident supervisor's PSS (smaps_rollup of every sysg
# process), its CPU ticks over 10 s of idling ($SCALE_IDLE) and its open
# fds; then `restart_s`: a second `start --daemonize` of the same project,
# whose N records are now in the state (adoption reads them), and its
# stop. Then it prints the growth: the time ratio when N doubles
# (linear: about 2, quadratic: about 4).
# Usage: bench/scale.sh [path/to/sysg]   (default: ./sysg)
# The machine may be shared: the load average is printed with the table.
set -eu
SYSG=${1:-./sysg}
: "${SCALE_NS:=100 200 400 1000}"
: "${SCALE_BACKENDS:=xml sqlite}"
: "${SCALE_IDLE:=10}"
. "$(dirname "$0")/common-daemon.sh"

now_ms() {
	date +%s%3N
}

# every process running $SYSG whose environment names state dir $1
sysg_pids() {
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$SYSG" ] || continue
		tr '\0' '\n' < "$p/environ" 2>/dev/null |
			grep -qx "SYSG_STATE_DIR=$1/state" && basename "$p"
	done
	return 0
}

pss_kib() {
	for p in "$@"; do cat "/proc/$p/smaps_rollup" 2>/dev/null; done |
		awk '/^Pss:/ { s += $2 } END { print s + 0 }'
}

ticks() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# status_ms DIR: the median wall time of 5 `status --json` of the project
# in DIR, in microseconds (sysg_timed: a monotonic clock around the
# process; a `date` after the command would add its own start-up)
status_ms() {
	sysg_timed "$1" 0 5 status --json | awk '{ printf "%d\n", $1 * 1000 }'
}

project() {
	d="$WORK/$2-n$1"
	mkdir -p "$d"
	{
		printf 'version: "1"\nstate: { backend: "%s" }\nservices:\n' "$2"
		i=0
		while [ "$i" -lt "$1" ]; do
			printf '  s%d: { command: "sleep 86400" }\n' $i
			i=$((i + 1))
		done
	} > "$d/sysg.yaml"
	echo "$d"
}

# the number of services the supervisor in $1 reports running
running() {
	sysg_in "$1" status --json 2>/dev/null |
		grep -o '"status": *"running"' | wc -l
}

RES=$WORK/results
: > "$RES"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)  cores: $(nproc)"
printf '%-7s %5s %9s %9s %9s %9s %9s %6s %5s %9s\n' backend N start_s \
	status_ms stop_s pss_kib kib/svc ticks fds restart_s
for b in $SCALE_BACKENDS; do
	for n in $SCALE_NS; do
		d=$(project "$n" "$b")
		t0=$(now_ms)
		sysg_in "$d" start --daemonize >/dev/null ||
			{ echo "start failed ($b, N=$n)" >&2; exit 1; }
		t1=$(now_ms)
		up=$(running "$d")
		[ "$up" -eq "$n" ] ||
			echo "warning: $up of $n running after start ($b)" >&2
		st=$(status_ms "$d")
		P=$(daemon_pid "$d")
		pss=$(pss_kib $(sysg_pids "$d"))
		fds=$(ls "/proc/$P/fd" | wc -l)
		k0=$(ticks "$P")
		sleep "$SCALE_IDLE"
		k1=$(ticks "$P")
		t2=$(now_ms)
		sysg_in "$d" stop >/dev/null ||
			{ echo "stop failed ($b, N=$n)" >&2; exit 1; }
		t3=$(now_ms)
		sysg_in "$d" start --daemonize >/dev/null ||
			{ echo "restart failed ($b, N=$n)" >&2; exit 1; }
		t4=$(now_ms)
		sysg_in "$d" stop >/dev/null ||
			{ echo "stop failed ($b, N=$n)" >&2; exit 1; }
		echo "$b $n $((t1 - t0)) $st $((t3 - t2)) $pss $((k1 - k0)) $fds" \
			"$((t4 - t3))" >> "$RES"
	done
done
# kib/svc: PSS growth per service from the previous (smaller) N
awk '{
	kps = "-"
	if ($1 == pb) kps = sprintf("%.1f", ($6 - ppss) / ($2 - pn))
	printf "%-7s %5d %9.2f %9.1f %9.2f %9d %9s %6d %5d %9.2f\n", $1, $2,
	       $3 / 1000, $4 / 1000, $5 / 1000, $6, kps, $7, $8, $9 / 1000
	pb = $1; pn = $2; ppss = $6
}' "$RES"
echo
echo "growth (time ratio per doubling of N; linear = 2, N^2 = 4):"
awk '{
	if ($1 == pb && $2 > pn) {
		e = log($2 / pn) / log(2)
		s = ($3 > 0 && ps > 0) ? exp(log($3 / ps) / e) : 0
		o = ($5 > 0 && po > 0) ? exp(log($5 / po) / e) : 0
		r = ($9 > 0 && pr > 0) ? exp(log($9 / pr) / e) : 0
		printf "%-7s N %4d -> %4d: start x%.2f  stop x%.2f  restart x%.2f\n",
		       $1, pn, $2, s, o, r
	}
	pb = $1; pn = $2; ps = $3; po = $5; pr = $9
}' "$RES"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
