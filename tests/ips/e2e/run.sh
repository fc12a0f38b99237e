#!/bin/bash
# run.sh - IPS end to end on real traffic: each NAME.pcap (recorded by
# make-captures.sh in network namespaces) replayed through lifelined with
# NAME.rules under e2e.conf; the verdict and alerts of every frame compared
# with NAME.expect (derived by hand from the traffic, see check.py).
# Prints "ok NAME" or "not ok NAME - why". Run from anywhere; B = build dir.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE/../../.."
B=${B:-build}
if [ ! -x "$B/lifelined" ]; then
	echo "not ok ips-e2e - $B/lifelined not built"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for exp in "$HERE"/*.expect; do
	name=$(basename "$exp" .expect)
	"$B/lifelined" -r "$HERE/$name.pcap" -c "$HERE/e2e.conf" -p "$HERE/$name.rules" \
		--verdicts - >"$tmp/v" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "not ok $name - lifelined exit $rc: $(head -c 300 "$tmp/err" | tr '\n' ' ')"
		continue
	fi
	why=$(python3 "$HERE/check.py" "$exp" "$tmp/v" 2>&1)
	if [ -z "$why" ]; then
		echo "ok $name"
	else
		echo "not ok $name - $why"
	fi
done
exit 0
