#!/bin/sh
# The Debian packages: builds them with `dpkg-buildpackage -us -uc -b`
# from this tree's distribution files (make distdir, so exactly what a
# release tarball holds), checks them with lintian, unpacks them into a
# scratch root (dpkg -x) and runs the packaged sysg there: `sysg validate`
# on the packaged examples with the packaged plugins, man pages,
# completions, header and .pc where they belong, no libtool .la files, and
# a plugin built against the packaged header only.
#
# Part of `make check` (about a minute: the package is built without its
# test suite, which `make check` runs anyway); alone: `make deb-check`.
# Exit 77 (skip), with the reason, when dpkg-buildpackage or debhelper is
# missing.
set -u
builddir=${SYSG_BUILDDIR:-.}
srcdir=${SYSG_SRCDIR:-.}

skip() {
	echo "SKIP: $*"
	exit 77
}
fail() {
	echo "FAIL: $*"
	exit 1
}

[ -z "${SYSG_IN_DEB_BUILD:-}" ] || skip "inside the package's own build"
command -v dpkg-buildpackage >/dev/null ||
	skip "dpkg-buildpackage is not installed (apt-get install dpkg-dev debhelper)"
command -v dh >/dev/null ||
	skip "debhelper is not installed (apt-get install debhelper)"

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
version=$(sed -n 's/^PACKAGE_VERSION = //p' "$builddir/Makefile")
src=$tmp/sysg-$version
echo "== make distdir"
make -s -C "$builddir" distdir distdir="$src" >"$tmp/distdir.log" 2>&1 ||
	{ cat "$tmp/distdir.log"; fail "make distdir"; }
(cd "$src" && dpkg-checkbuilddeps) ||
	fail "build dependencies missing (see README's setup command)"

echo "== dpkg-buildpackage -us -uc -b"
start=$(date +%s)
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
	dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 ||
	{ tail -40 "$tmp/build.log"; fail "dpkg-buildpackage"; }
echo "built in $(($(date +%s) - start)) s:" $(cd "$tmp" && ls ./*.deb)

if command -v lintian >/dev/null; then
	echo "== lintian"
	lintian --fail-on error,warning --display-info --pedantic "$tmp"/*.changes ||
		fail "lintian reports problems"
else
	echo "lintian is not installed: not checked (apt-get install lintian)"
fi

echo "== dpkg -x into a scratch root"
root=$tmp/root
for deb in "$tmp"/*.deb; do
	dpkg -x "$deb" "$root" || fail "dpkg -x $deb"
done
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
plugins=$root/usr/lib/$triplet/sysg
for f in usr/bin/sysg usr/share/man/man1/sysg.1.gz \
	usr/share/man/man5/sysg.yaml.5.gz usr/share/man/man7/sysg-plugin.7.gz \
	usr/share/bash-completion/completions/sysg \
	usr/share/zsh/vendor-completions/_sysg \
	usr/share/fish/vendor_completions.d/sysg.fish \
	usr/include/sysg/plugin.h usr/include/sysg/version.h \
	usr/lib/$triplet/pkgconfig/sysg-plugin.pc; do
	[ -f "$root/$f" ] || fail "/$f is not in the packages"
done
for p in immediate rolling blue_green xml sqlite; do
	[ -f "$plugins/$p.so" ] || fail "plugin $p.so is not in /usr/lib/$triplet/sysg"
done
la=$(find "$root" -name '*.la')
[ -z "$la" ] || fail "libtool files installed: $la"

echo "== the packaged sysg"
sysg=$root/usr/bin/sysg
examples=$root/usr/share/doc/sysg/examples
export HOME="$tmp/home" SYSG_STATE_DIR="$tmp/state"
unset SYSG_PLUGIN_PATH
"$sysg" --version || fail "sysg --version"
for ex in basic.yaml full.yaml sysg.service; do
	[ -f "$examples/$ex" ] || fail "example $ex is not packaged"
done
"$sysg" --plugin-dir "$plugins" validate --config "$examples/basic.yaml" ||
	fail "sysg validate basic.yaml"
# the strategies load from the packaged plugin directory
cat > "$tmp/deploy.yaml" <<'YAML'
version: "1"
state: { backend: sqlite }
services:
  api:
    command: "sleep 100"
    deployment: { strategy: rolling, grace_period: 1s }
  web:
    command: "sleep 100"
    deployment:
      strategy: blue_green
      blue_green: { slots: ["8000", "8001"], switch_command: "true" }
YAML
"$sysg" --plugin-dir "$plugins" validate --config "$tmp/deploy.yaml" ||
	fail "sysg validate with the packaged strategies"
"$sysg" --plugin-dir "$plugins" plugins | grep -q "blue_green *strategy" ||
	fail "sysg plugins does not list the packaged blue_green"
if command -v man >/dev/null; then
	warn=$(MANWIDTH=80 man --warnings -l "$root/usr/share/man/man1/sysg.1.gz" 2>&1 >/dev/null)
	[ -z "$warn" ] || fail "man sysg: $warn"
fi
bash -c ". '$root/usr/share/bash-completion/completions/sysg' && complete -p sysg" ||
	fail "the packaged bash completion does not load"

if command -v cc >/dev/null; then
	echo "== a plugin built against libsysg-plugin-dev alone"
	cflags=$(PKG_CONFIG_SYSROOT_DIR="$root" \
		 PKG_CONFIG_LIBDIR="$root/usr/lib/$triplet/pkgconfig" \
		 pkg-config --cflags sysg-plugin) || fail "pkg-config sysg-plugin"
	cc -shared -fPIC $cflags -Wl,--version-script="$srcdir/plugins/canary/exports.map" \
		-o "$tmp/canary.so" "$srcdir/plugins/canary/canary.c" ||
		fail "building the canary plugin against the packaged header"
	chmod 755 "$tmp"
	"$sysg" --plugin-dir "$tmp" plugins | grep -q "canary *strategy" ||
		fail "the packaged sysg does not load the canary plugin"
fi
echo "PASS: packages build, pass lintian, install and run"
