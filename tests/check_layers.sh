#!/bin/sh
# check_layers.sh - the house rules of core/ (docs/architecture.md),
# checked on the #include "..." lines of the sources:
#   1. engine/svc.h is private: only files of core/engine/ include it
#      (nor may tests, fuzz targets or plugins);
#   2. a wing never includes a wing above it; the order, bottom to top:
#        base < config < proc, plugin < engine < deploy < views
#             < control < cli
#      (proc and plugin are peers: neither includes the other);
#   3. another wing is entered by its door header only ("config/config.h",
#      never "config/env.h"), also from tests/ and fuzz/; a plain name
#      ("svc.h") is a header of the including file's own folder.
# Each violation is printed as FILE:LINE: error: ...; exit 1 if any.
#
# Usage: tests/check_layers.sh [SRCDIR]   (default: $SYSG_SRCDIR or .)

top=${1:-${SYSG_SRCDIR:-.}}
cd "$top" || exit 2
[ -d core ] || { echo "check_layers: no core/ in $top" >&2; exit 2; }

files=$(find core tests fuzz plugins strategies -name '*.[ch]' 2>/dev/null |
	LC_ALL=C sort)

# shellcheck disable=SC2086
awk '
function rank(w) {
	if (w == "base") return 0
	if (w == "config") return 1
	if (w == "proc" || w == "plugin") return 2
	if (w == "engine") return 3
	if (w == "deploy") return 4
	if (w == "views") return 5
	if (w == "control") return 6
	if (w == "cli") return 7
	return -1
}
function door(w) {
	return w "/" w ".h"
}
function bad(msg) {
	printf "%s:%d: error: %s\n", FILENAME, FNR, msg
	errors++
}
FNR == 1 {
	n = split(FILENAME, part, "/")
	incore = part[1] == "core" && n == 3
	wing = incore ? part[2] : ""
	dir = FILENAME
	sub(/\/[^\/]*$/, "", dir)
}
/^[ \t]*#[ \t]*include[ \t]*"/ {
	name = $0
	sub(/^[^"]*"/, "", name)
	sub(/".*$/, "", name)
	base = name
	sub(/^.*\//, "", base)
	if (base == "svc.h" && wing != "engine") {
		bad("includes \"" name "\": svc.h is private to core/engine/ " \
		    "(use engine/engine.h)")
		next
	}
	if (name ~ /\.\./) {
		bad("includes \"" name "\": no relative climbs; name a " \
		    "wing'\''s door (\"wing/wing.h\")")
		next
	}
	if (index(name, "/") == 0) {
		if (incore && system("test -f \"" dir "/" name "\"") != 0)
			bad("includes \"" name "\": not a header of " dir "/")
		next
	}
	target = name
	sub(/\/.*$/, "", target)
	if (rank(target) < 0)
		next                    # <sysg/plugin.h> style public headers
	if (name != door(target)) {
		bad("includes \"" name "\": enter the " target " wing by its " \
		    "door \"" door(target) "\"")
		next
	}
	if (!incore)
		next
	if (target == wing) {
		bad("includes its own wing'\''s door \"" name "\": include " \
		    "the header it needs by plain name")
		next
	}
	if (rank(target) > rank(wing))
		bad("includes \"" name "\": the " wing " wing may not include " \
		    "the " target " wing (above it)")
	else if (rank(target) == rank(wing))
		bad("includes \"" name "\": " wing " and " target " are " \
		    "peers; neither includes the other")
}
END {
	if (errors) {
		printf "check_layers: %d violation(s); see docs/architecture.md\n", errors
		exit 1
	}
}
' $files
