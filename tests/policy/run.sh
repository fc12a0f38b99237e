#!/bin/bash
# run.sh - policy goldens, pfctl-style: NN-name.in must print as NN-name.ok
# (`lifelinectl check --print`), and printing the .ok again must give the .ok;
# fail-NN-name.in must exit 1 with exactly fail-NN-name.err on stderr.
# One line per case: "ok NAME" or "not ok NAME - why". UPDATE=1 rewrites
# the expected files from the current output (review the diff!).
set -u
cd "$(dirname "$0")/../.."
B=${B:-build}
ctl=$B/lifelinectl
dir=tests/policy
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$ctl" ]; then
	echo "not ok policy - $ctl not built"
	exit 1
fi

show_diff() { sed 's/^/#   /' "$tmp/diff" | head -20; }

check_ok() { # name input
	local name=$1 in=$2 want=$dir/$1.ok rc
	"$ctl" check --print "$in" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "${UPDATE:-}" = 1 ] && [ $rc = 0 ] && cp "$tmp/out" "$want"
	if [ $rc != 0 ]; then
		echo "not ok $name - exit $rc: $(head -1 "$tmp/err")"
	elif [ ! -f "$want" ]; then
		echo "not ok $name - no $want"
	elif ! diff -u "$want" "$tmp/out" >"$tmp/diff"; then
		echo "not ok $name - canonical print differs"
		show_diff
	elif ! cp "$want" "$tmp/again.pol" ||
		! "$ctl" check --print "$tmp/again.pol" >"$tmp/again" 2>"$tmp/err" ||
		! diff -u "$want" "$tmp/again" >"$tmp/diff"; then
		echo "not ok $name - printing the .ok again is not idempotent"
		show_diff
	else
		echo "ok $name"
	fi
}

check_fail() { # name input
	local name=$1 in=$2 want=$dir/$1.err rc
	"$ctl" check "$in" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "${UPDATE:-}" = 1 ] && [ $rc = 1 ] && cp "$tmp/err" "$want"
	if [ $rc != 1 ]; then
		echo "not ok $name - exit $rc, want 1"
	elif [ ! -f "$want" ]; then
		echo "not ok $name - no $want"
	elif ! diff -u "$want" "$tmp/err" >"$tmp/diff"; then
		echo "not ok $name - errors differ"
		show_diff
	else
		echo "ok $name"
	fi
}

for in in "$dir"/*.in; do
	name=$(basename "$in" .in)
	case $name in
	fail-*) check_fail "$name" "$in" ;;
	*) check_ok "$name" "$in" ;;
	esac
done
exit 0
