#!/bin/sh
# Re-run the engine's state-touching tests with the sqlite state backend
# (enginetest.c honours SYSG_TEST_BACKEND); the xml runs are the plain
# check_* programs.
set -e
dir=${SYSG_BUILDDIR:-.}/tests
export SYSG_TEST_BACKEND=sqlite
for t in check_supervisor check_containment check_children check_reload; do
	echo "== $t (sqlite)"
	"$dir/$t"
done
