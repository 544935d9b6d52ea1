#!/bin/bash
# Drives the bash completion that `sysg completion bash` prints: sources
# it, sets COMP_WORDS/COMP_CWORD as bash does, calls _sysg and checks
# COMPREPLY. Service names come from the config the command line names
# (or the one in the current directory), strategies from the plugin path.
# When zsh and fish are installed, their scripts are parsed and driven too:
# fish through `complete -C LINE`, zsh through an interactive zsh on a
# pseudo-terminal (zsh/zpty) that is sent each line and a TAB.
sysg=${SYSG_BIN:-./sysg}
[[ $sysg == /* ]] || sysg=$PWD/$sysg
fail=0
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home SYSG_STATE_DIR=$tmp/state
mkdir -p "$HOME" "$tmp/proj"
cat > "$tmp/app.yaml" <<'YAML'
version: "1"
services:
  web: { command: "sleep 100" }
  worker: { command: "sleep 100" }
  db: { command: "sleep 100" }
YAML
cat > "$tmp/proj/sysg.yaml" <<'YAML'
version: "1"
services:
  alpha: { command: "sleep 100" }
  beta: { command: "sleep 100" }
YAML

source <("$sysg" completion bash) || { echo "FAIL: the script does not source"; exit 1; }
complete -p sysg >/dev/null 2>&1 || { echo "FAIL: no 'complete -F _sysg sysg'"; exit 1; }

# check EXPECTED WORD...: complete the last WORD (the sysg being tested
# is the command word), compare the sorted COMPREPLY with EXPECTED.
check() {
	local expected=$1 got
	shift
	COMP_WORDS=("$sysg" "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_sysg
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort -u | tr '\n' ' ')
	got=${got% }
	if [[ $got == "$expected" ]]; then
		echo "ok: sysg $* -> $got"
	else
		echo "FAIL: sysg $*: expected '$expected', got '$got'"
		fail=1
	fi
}

check "start status stop" "st"
check "completion" "comp"
check "--daemonize --drop-privileges" start --d
check "--json" status --j
check "" stop --j
check "--strategy" deploy --stra
check "db web worker" --config "$tmp/app.yaml" start --service ""
check "web worker" -c "$tmp/app.yaml" stop -s w
check "db web worker" restart --config "$tmp/app.yaml" -s ""
# bash splits --config=FILE at '=' (COMP_WORDBREAKS)
check "db" logs --config = "$tmp/app.yaml" --service d
check "stderr stdout supervisor" logs --kind s
check "warn" --log-level w
check "bash fish zsh" completion ""
check "deploy" help de
check "blue_green immediate rolling" deploy --strategy ""
check "sqlite" --state-backend sq
(cd "$tmp/proj" && check "alpha beta" inspect -s "") || fail=1
(cd "$tmp/proj" && check "alpha" stop --service = a) || fail=1
check "sleep" start --name x -- slee

for sh in zsh fish; do
	if ! command -v $sh >/dev/null; then
		echo "skip: $sh is not installed (no syntax check of its script)"
		continue
	fi
	"$sysg" completion $sh > "$tmp/comp.$sh" || { echo "FAIL: sysg completion $sh"; fail=1; }
	case $sh in
	zsh) zsh -n "$tmp/comp.$sh" ;;
	fish) fish --no-execute "$tmp/comp.$sh" ;;
	esac || { echo "FAIL: the $sh script does not parse"; fail=1; }
	echo "ok: sysg completion $sh parses"
done
# fish completes a command line on demand: `complete -C LINE`.
fish_check() {
	local expected=$1 got
	got=$(cd "$tmp/proj" && PATH=$(dirname "$sysg"):$PATH fish -c \
		"source '$tmp/comp.fish'; complete -C '$2'" | cut -f1 | sort -u |
		tr '\n' ' ')
	got=${got% }
	if [[ $got == "$expected" ]]; then
		echo "ok: fish: $2 -> $got"
	else
		echo "FAIL: fish: $2: expected '$expected', got '$got'"
		fail=1
	fi
}
if [[ -f $tmp/comp.fish && $(basename "$sysg") == sysg ]]; then
	fish_check "start status" "sysg sta"
	fish_check "--daemonize" "sysg start --dae"
	fish_check "alpha beta" "sysg stop --service "
	fish_check "db web worker" "sysg --config $tmp/app.yaml restart -s "
	fish_check "stderr stdout supervisor" "sysg logs --kind s"
	fish_check "blue_green immediate rolling" "sysg deploy --strategy "
fi
# zsh completes only inside its line editor: drive an interactive zsh on a
# pseudo-terminal (zsh/zpty), type each line and a TAB, then turn the
# completed line into a `print` of itself; read until every line came
# back or a deadline passed.
zsh_check() {
	local out
	out=$(cd "$tmp/proj" && ZDOTDIR=$tmp zsh -f -s -- "$tmp" "$(dirname "$sysg")" \
		"$@" <<'ZSH'
zmodload zsh/zpty
dir=$1 bin=$2; shift 2
mkdir -p $dir/zfunc && cp $dir/comp.zsh $dir/zfunc/_sysg
zpty z zsh -f -i
zpty -w z "PS1='> '; fpath=($dir/zfunc \$fpath); autoload -U compinit; compinit -u -D -d $dir/zcompdump; setopt nobeep; PATH=$bin:\$PATH"
for line in "$@"; do
	zpty -w -n z "$line"$'\t'$'\C-a'"print -r -- '@@"$'\C-e'"@@'"$'\n'
done
out= n=0 end=$((SECONDS + 30))
while (( n < $# && SECONDS < end )); do
	if zpty -r -t z chunk; then
		out+=$chunk
		n=${#${(M)${(f)out//$'\r'/}:#@@*}}
	else
		sleep 0.05
	fi
done
zpty -d z
print -r -- ${(F)${(M)${(f)out//$'\r'/}:#@@*}}
ZSH
)
	echo "$out"
}
if [[ -f $tmp/comp.zsh ]]; then
	zout=$(zsh_check "sysg stop --service a" "sysg start --dae" \
		"sysg logs --kind su" "sysg completion fi" \
		"sysg --config $tmp/app.yaml restart -s wo" \
		"sysg deploy --strategy blu")
	for want in "sysg stop --service alpha" "sysg start --daemonize" \
		"sysg logs --kind supervisor" "sysg completion fish" \
		"sysg --config $tmp/app.yaml restart -s worker" \
		"sysg deploy --strategy blue_green"; do
		if grep -qxF "@@$want@@" <<<"$zout"; then
			echo "ok: zsh: $want"
		else
			echo "FAIL: zsh: expected '$want', got:"
			echo "$zout"
			fail=1
		fi
	done
fi
if "$sysg" completion tcsh >/dev/null 2>&1; then
	echo "FAIL: sysg completion tcsh should fail"
	fail=1
fi
exit $fail
