#!/bin/sh
# The man pages describe everything the binary accepts. The lists come
# from the binary's own tables, never from a hand-kept list:
#  - every command and option of `sysg __list-options` (cli.c's tables) is
#    in sysg(1): a command has a "## CMD" section naming each of its
#    options; global options are under "# GLOBAL OPTIONS";
#  - every config key of `sysg __list-keys` (config_schema.c's tables) has
#    an entry "*PATH*" in sysg.yaml(5), with <name> for a service name;
#  - every key table of core/config/*.c is one of those __list-keys reads
#    (a new table must be registered in config_schema.c's schema_maps);
#  - the generated pages, when present, are no older than their sources.
sysg=${SYSG_BIN:-./sysg}
src=${SYSG_SRCDIR:-.}
man1=$src/man/sysg.1.scd
man5=$src/man/sysg.yaml.5.scd
fail=0

bad() {
	echo "FAIL: $*"
	fail=1
}

# The lines of section "## NAME" (or "# NAME" with LEVEL "#") of FILE.
section() {
	awk -v want="$1 $2" -v lvl="$1" '
		$0 == want { on = 1; next }
		on && (index($0, "# ") == 1 || (lvl == "##" && index($0, "## ") == 1)) { exit }
		on { print }' "$3"
}

# Whether TEXT (stdin) names option OPT as a whole word.
names_option() {
	grep -Eq -- "(^|[^A-Za-z0-9-])$1([^A-Za-z0-9-]|$)"
}

opts=$("$sysg" __list-options) || { bad "sysg __list-options failed"; exit 1; }
[ -n "$opts" ] || { bad "sysg __list-options printed nothing"; exit 1; }
keys=$("$sysg" __list-keys) || { bad "sysg __list-keys failed"; exit 1; }
[ -n "$keys" ] || { bad "sysg __list-keys printed nothing"; exit 1; }

nopt=0
global=$(section "#" "GLOBAL OPTIONS" "$man1")
while read -r what cmd opt; do
	case $what in
	global)
		echo "$global" | names_option "$opt" ||
			bad "sysg(1): global option $opt is not under GLOBAL OPTIONS"
		;;
	command)
		grep -qx "## $cmd" "$man1" ||
			bad "sysg(1): command '$cmd' has no '## $cmd' section"
		;;
	option)
		section "##" "$cmd" "$man1" | names_option "$opt" ||
			bad "sysg(1): option $opt of '$cmd' is not in its section"
		;;
	esac
done <<EOF_OPTS
$opts
EOF_OPTS
while read -r path table; do
	doc=$(echo "$path" | sed 's/\*/<name>/g')
	grep -qF -- "*$doc*" "$man5" ||
		bad "sysg.yaml(5): key $doc (table $table) has no entry *$doc*"
done <<EOF_KEYS
$keys
EOF_KEYS
# Tables that declare keys, and the ones __list-keys reads.
listed=$(echo "$keys" | cut -f2 | sort -u)
for t in $(sed -n 's/.*struct sysg_yw_field \([a-z_0-9]*\)\[\].*/\1/p' \
		"$src"/core/config/*.c | sort -u); do
	echo "$listed" | grep -qx "$t" ||
		bad "config_schema.c: table $t is not in schema_maps (sysg __list-keys misses its keys)"
done
for page in sysg.1 sysg.yaml.5 sysg-plugin.7; do
	for dir in "${SYSG_BUILDDIR:-.}/man" "$src/man"; do
		[ -f "$dir/$page" ] || continue
		[ "$dir/$page" -nt "$src/man/$page.scd" ] ||
		[ ! "$src/man/$page.scd" -nt "$dir/$page" ] ||
			bad "$dir/$page is older than its source (make)"
		break
	done
done
[ $fail = 0 ] && echo "PASS: $(echo "$opts" | wc -l) command/option lines in sysg(1), $(echo "$keys" | wc -l) keys in sysg.yaml(5)"
exit $fail
