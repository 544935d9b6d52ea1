# bench/common-daemon.sh - shared by the bench scripts (status.sh, pss.sh,
# idle.sh, scale.sh, deploy-status.sh):
# a throw-away project with N `sleep` services under `sysg start
# --daemonize`, and its cleanup. Sourced, not run.

SYSG=${SYSG:-./sysg}
SYSG=$(cd "$(dirname "$SYSG")" && pwd)/$(basename "$SYSG")
: "${SYSG_PLUGIN_PATH:=$(dirname "$SYSG")/plugins/.libs}"
export SYSG_PLUGIN_PATH
WORK=$(mktemp -d /tmp/sysg-bench-XXXXXX)

# every project under $WORK: stop its supervisor (if any), then delete
cleanup() {
	for d in "$WORK"/*/; do
		[ -f "$d/state/sysg.pid" ] || continue
		(cd "$d" && SYSG_STATE_DIR="${d%/}/state" HOME="$d" \
			"$SYSG" stop >/dev/null 2>&1) || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# daemon_up N: a project with N sleep services under a resident
# supervisor; prints its directory
daemon_up() {
	d="$WORK/n$1"
	mkdir -p "$d"
	{
		printf 'version: "1"\nservices:\n'
		i=0
		while [ $i -lt "$1" ]; do
			printf '  s%d: { command: "sleep 100000", ready_after: "10ms" }\n' $i
			i=$((i + 1))
		done
	} > "$d/sysg.yaml"
	(cd "$d" && SYSG_STATE_DIR="$d/state" HOME="$d" \
		"$SYSG" start --daemonize >/dev/null) ||
		{ echo "start --daemonize failed" >&2; exit 1; }
	echo "$d"
}

# sysg_in DIR ARGS...: run sysg against the project in DIR
sysg_in() {
	d=$1
	shift
	(cd "$d" && SYSG_STATE_DIR="$d/state" HOME="$d" "$SYSG" "$@")
}

daemon_pid() {
	cut -d' ' -f1 "$1/state/sysg.pid"
}

# sysg_timed DIR WARMUP RUNS ARGS...: run `sysg ARGS` against the project
# in DIR WARMUP + RUNS times, each timed by a monotonic clock around the
# process; prints "MEDIAN MIN MAX N" of the last RUNS, in ms
sysg_timed() {
	python3 - "$SYSG" "$@" <<'PY'
import os, statistics, subprocess, sys, time
sysg, d, warm, runs, args = (sys.argv[1], sys.argv[2], int(sys.argv[3]),
                             int(sys.argv[4]), sys.argv[5:])
env = dict(os.environ, SYSG_STATE_DIR=d + "/state", HOME=d)
times = []
for i in range(warm + runs):
    t0 = time.perf_counter()
    subprocess.run([sysg] + args, cwd=d, env=env, stdout=subprocess.DEVNULL,
                   check=True)
    if i >= warm:
        times.append((time.perf_counter() - t0) * 1000)
print("%.3f %.3f %.3f %d" % (statistics.median(times), min(times),
                             max(times), len(times)))
PY
}
