#!/bin/bash
# run.sh - IPS end to end: each suricata-verify test's pcap replayed through
# lifelined with its rules; alert/drop counts per sid compared with the
# upstream expectations (sv_check.py). Tests that need keywords lifeline does
# not support are reported as skipped; deliberate differences are listed in
# sv-divergences with the reason.
set -u
cd "$(dirname "$0")/../.."
B=${B:-build}
SHARED=${LL_SHARED:-$PWD/../shared}
SV=$SHARED/corpora/suricata-verify
if [ ! -d "$SV" ]; then
	echo "ok suricata-verify # SKIP $SV absent (set LL_SHARED)"
	exit 0
fi
if [ ! -x "$B/lifelined" ]; then
	echo "not ok suricata-verify - $B/lifelined not built"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for d in "$SV"/*/; do
	name=$(basename "$d")
	pcap=$(ls "$d"*.pcap | head -1)
	rules=$(ls "$d"*.rules | head -1)
	grep -v '^[[:space:]]*#' "$rules" >"$tmp/policy"
	"$B/lifelined" -r "$pcap" -p "$tmp/policy" --verdicts "$tmp/verdicts" \
		>"$tmp/out" 2>"$tmp/err"
	echo "rc=$?" >>"$tmp/out"
	why=$(grep -m1 -o "unsupported \(keyword\|protocol\) '[^']*'" "$tmp/err")
	if [ -n "$why" ]; then
		echo "ok $name # SKIP $why"
		continue
	fi
	res=$(python3 tests/ips/sv_check.py "$d" "$tmp/verdicts" "$tmp/err")
	div=$(sed -n "s/^$name: //p" tests/ips/sv-divergences 2>/dev/null)
	if [ -z "$res" ]; then
		echo "ok $name"
	elif [ -n "$div" ]; then
		echo "ok $name # SKIP differs on purpose: $div"
	else
		echo "not ok $name - $res"
	fi
done
