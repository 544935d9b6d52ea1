#!/bin/sh
# nginx-deploy.sh - zero downtime through a real nginx (issue 9 item 6):
# examples/blue-green-nginx run under their own nginx (own prefix, a free
# loopback port), a bounded load loop through nginx (>= 2,000 requests)
# during a blue/green deploy and during a rolling deploy: no request may
# fail, and afterwards every answer comes from the new instance.
# Skips (exit 77) only when nginx is not installed.
. "${SYSG_SRCDIR:-.}/tests/deploytest.sh"

NGINX_BIN=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
if [ ! -x "$NGINX_BIN" ]; then
	echo "SKIP: nginx is not installed (apt-get install nginx-light); the zero-downtime test needs a real nginx"
	exit 77
fi
export NGINX_BIN
MIN=${SYSG_LOAD_MIN:-2000}

# run_case NAME CONFIG: serve v1 through nginx, deploy v2 under load.
run_case() {
	name=$1
	dir="$T/$name"
	note "$name: setup"
	mkdir -p "$dir"
	cp "$SRC"/examples/blue-green-nginx/app.py \
	   "$SRC"/examples/blue-green-nginx/nginx.sh \
	   "$SRC"/examples/blue-green-nginx/loadgen.py "$dir/"
	p1=$(free_port); p2=$(free_port)
	while [ "$p2" = "$p1" ]; do p2=$(free_port); done
	np=$(free_port)
	export NGINX_PREFIX="$dir/nginx"
	use_nginx "$NGINX_PREFIX"
	sed -e "s/8000/@P1@/g; s/8001/@P2@/g; s/8080/@NP@/g" \
	    -e "s/@P1@/$p1/g; s/@P2@/$p2/g; s/@NP@/$np/g" \
	    "$SRC/examples/blue-green-nginx/$2" > "$dir/sysg.yaml"
	case $name in
	rolling) "$dir/nginx.sh" start "$np" "$p1" "$p2" ;;
	*) "$dir/nginx.sh" start "$np" "$p1" ;;
	esac
	(cd "$dir" && "$SYSG" start --daemonize --config sysg.yaml) ||
		fail "$name: sysg start"
	wait_for 20 sh -c "$GET http://127.0.0.1:$np/ | grep -q version=v1" ||
		fail "$name: v1 never answered through nginx"

	note "$name: deploy v2 under load"
	sed -i 's/APP_VERSION: "v1"/APP_VERSION: "v2"/' "$dir/sysg.yaml"
	python3 "$dir/loadgen.py" "http://127.0.0.1:$np/" --min "$MIN" \
		--until "$dir/deployed" --started "$dir/started" \
		--max-seconds 120 > "$dir/load.json" &
	lg=$!
	remember_pid $lg
	wait_for 20 test -e "$dir/started" || fail "$name: the load never started"
	(cd "$dir" && "$SYSG" deploy --service web) > "$dir/deploy.out" 2>&1 ||
		{ cat "$dir/deploy.out"; fail "$name: sysg deploy failed"; }
	cat "$dir/deploy.out"
	touch "$dir/deployed"
	wait $lg || true
	cat "$dir/load.json"
	sent=$(json_get "$dir/load.json" sent)
	failed=$(json_get "$dir/load.json" failed)
	[ "$sent" -ge "$MIN" ] || fail "$name: only $sent requests sent"
	[ "$failed" -eq 0 ] || fail "$name: $failed of $sent requests failed"
	grep -q 'version=v1' "$dir/load.json" && grep -q 'version=v2' "$dir/load.json" ||
		fail "$name: the load did not span the cutover (v1 then v2)"

	note "$name: afterwards every answer comes from the new instance"
	python3 "$dir/loadgen.py" "http://127.0.0.1:$np/" --min 200 \
		> "$dir/after.json" || fail "$name: requests failed after the deploy"
	cat "$dir/after.json"
	python3 - "$dir/after.json" <<'PY' || fail "$name: an old instance still answers"
import json, sys
bodies = json.load(open(sys.argv[1]))["bodies"]
sys.exit(0 if bodies and all(b.startswith("version=v2 ") for b in bodies) else 1)
PY
	"$SYSG" stop >/dev/null 2>&1 || true
	"$dir/nginx.sh" stop
}

run_case blue_green sysg.yaml
run_case rolling sysg-rolling.yaml
echo "PASS: zero failed requests through nginx during blue/green and rolling deploys"
