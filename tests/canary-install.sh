#!/bin/sh
# canary-install.sh - a third-party strategy built out of tree (issue 9
# item 7): `make install DESTDIR=...`, build plugins/canary against the
# INSTALLED header only (pkg-config --cflags sysg-plugin, its prefix moved
# under DESTDIR), install it into the installed plugin directory, then let
# the installed sysg load it, check its settings, and deploy with it: a
# weighted rollout that succeeds, one whose check fails (rolled back to
# weight 0), and operator --promote / --abort during a hold.
. "${SYSG_SRCDIR:-.}/tests/deploytest.sh"
unset SYSG_PLUGIN_PATH MAKEFLAGS MFLAGS MAKELEVEL

note "make install DESTDIR"
inst="$T/inst"
${MAKE:-make} -s -C "$BLD" install DESTDIR="$inst" > "$T/install.log" 2>&1 ||
	{ cat "$T/install.log"; fail "make install DESTDIR=$inst"; }
pc=$(find "$inst" -name sysg-plugin.pc | head -n 1)
[ -n "$pc" ] || fail "no sysg-plugin.pc installed"
export PKG_CONFIG_PATH="$(dirname "$pc")"
prefix=$(pkg-config --variable=prefix sysg-plugin)
cflags=$(pkg-config --define-variable=prefix="$inst$prefix" --cflags sysg-plugin)
plugindir=$(pkg-config --variable=plugindir sysg-plugin)
case $cflags in *"$inst"*) ;; *) fail "cflags $cflags miss $inst" ;; esac
sysg="$inst$prefix/bin/sysg"
pdir="$inst$plugindir"
[ -x "$sysg" ] && [ -f "$pdir/blue_green.so" ] ||
	fail "installed tree lacks bin/sysg or the bundled plugins"

note "build the canary against the installed header only"
mkdir -p "$T/canary"
cp "$SRC"/plugins/canary/canary.c "$SRC"/plugins/canary/Makefile \
   "$SRC"/plugins/canary/exports.map "$T/canary/"
chmod u+w "$T/canary"/*
make -s -C "$T/canary" SYSG_CFLAGS="$cflags" \
	CFLAGS="-O2 -Wall -Wextra -Werror" || fail "canary does not build"
deps=$(cd "$T/canary" && ${CC:-cc} -MM $cflags canary.c)
echo "$deps" | grep -q "$inst$prefix/include/sysg/plugin.h" ||
	fail "canary.c was not built against the installed plugin.h: $deps"
echo "$deps" | grep -q "$SRC/include" && fail "canary.c saw the source tree"
make -s -C "$T/canary" install DESTDIR="$inst" PLUGINDIR="$plugindir" ||
	fail "canary install"
[ -f "$pdir/canary.so" ] || fail "canary.so not in $pdir"
chmod -R go-w "$inst"

SG() { "$sysg" --plugin-dir "$pdir" "$@"; }
SG plugins | grep -q "^canary  *strategy  *abi 3 " ||
	fail "installed sysg does not list the canary: $(SG plugins)"

note "validate with the installed canary"
app="$T/app"
app_dir "$app"
# write_config VERSION STEPS INTERVAL
write_config() {
	cat > "$app/sysg.yaml" <<YAML
version: "1"
services:
  web:
    command: "python3 app.py"
    env: { vars: { PORT: "$p1", APP_VERSION: "$1" } }
    deployment:
      strategy: canary
      canary:
        slots: ["$p1", "$p2"]
        steps: $2
        interval: "$3"
        check_every: "100ms"
        check: "test ! -e $app/fail-check"
        candidate_health_check_url: "http://127.0.0.1:{slot}/health"
        switch_command: "echo {weight} {candidate_slot} >> $app/weights.log"
YAML
}
write_config v1 "[20, 100]" 300ms
(cd "$app" && SG validate --config sysg.yaml) || fail "valid canary config refused"
sed -i 's/steps: \[20, 100\]/steps: [50, 20]/' "$app/sysg.yaml"
(cd "$app" && SG validate --config sysg.yaml) 2> "$T/err" &&
	fail "steps [50, 20] accepted"
grep -q "sysg.yaml:10:16: error: services.web.deployment.canary.steps: expected increasing weights" "$T/err" ||
	fail "bad steps: $(cat "$T/err")"

if ! deploy_implemented; then
	echo "NOT DONE: sysg deploy is not implemented in this build: the canary was built, installed and checked, but not deployed"
	exit 0
fi

note "deploy v2 with the canary"
write_config v1 "[20, 100]" 300ms
(cd "$app" && SG start --daemonize --config sysg.yaml) || fail "start"
wait_for 20 "$GET" "http://127.0.0.1:$p1/health" || fail "v1 not up"
write_config v2 "[20, 100]" 300ms
(cd "$app" && SG deploy --service web) > "$T/out" 2>&1 ||
	{ cat "$T/out"; fail "canary deploy failed"; }
cat "$T/out"
[ "$(cat "$app/weights.log")" = "$(printf '20 %s\n100 %s' "$p2" "$p2")" ] ||
	fail "weights: $(cat "$app/weights.log")"
"$GET" "http://127.0.0.1:$p2/" | grep -q "version=v2 slot=$p2" ||
	fail "v2 does not serve on $p2"
wait_for 10 sh -c "! $GET http://127.0.0.1:$p1/health" ||
	fail "the old instance on $p1 still runs"

note "a failing check rolls back to weight 0"
rm -f "$app/weights.log"
touch "$app/fail-check"
write_config v3 "[20, 100]" 300ms
(cd "$app" && SG deploy --service web) > "$T/out" 2>&1 &&
	{ cat "$T/out"; fail "a deploy with a failing check succeeded"; }
[ "$(tail -n 1 "$app/weights.log")" = "0 $p1" ] ||
	fail "not switched back to 0: $(cat "$app/weights.log")"
"$GET" "http://127.0.0.1:$p2/" | grep -q "version=v2" || fail "v2 gone"
wait_for 10 sh -c "! $GET http://127.0.0.1:$p1/health" ||
	fail "the failed canary still runs"
rm -f "$app/fail-check"

# held_deploy VERSION: a deploy in the background ($dp), held at 10%
held_deploy() {
	rm -f "$app/weights.log"
	write_config "$1" "[10, 50, 100]" 60s
	(cd "$app" && SG deploy --service web) > "$T/out" 2>&1 &
	dp=$!
	remember_pid $dp
	wait_for 20 grep -q "^10 " "$app/weights.log" || fail "no first step"
}

note "--promote during a hold skips to 100%"
held_deploy v4
SG deploy --promote --service web || fail "--promote"
wait $dp || { cat "$T/out"; fail "promoted deploy failed"; }
[ "$(cat "$app/weights.log")" = "$(printf '10 %s\n100 %s' "$p1" "$p1")" ] ||
	fail "promote: weights $(cat "$app/weights.log")"
"$GET" "http://127.0.0.1:$p1/" | grep -q "version=v4" || fail "v4 not serving"

note "--abort during a hold rolls back"
held_deploy v5
SG deploy --abort --service web || fail "--abort"
if wait $dp; then cat "$T/out"; fail "an aborted deploy exited 0"; fi
[ "$(tail -n 1 "$app/weights.log")" = "0 $p2" ] ||
	fail "abort: weights $(cat "$app/weights.log")"
"$GET" "http://127.0.0.1:$p1/" | grep -q "version=v4" || fail "v4 gone"
SG deploy --history --service web | grep -q aborted || fail "no aborted record"
echo "PASS: out-of-tree canary built against the installed header deploys"
