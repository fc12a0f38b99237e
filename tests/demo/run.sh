#!/bin/bash
# run.sh - the quick start's `make demo`, run as a test: every narrated step
# must behave as it says (the demo exits non-zero when one does not).
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
log=$(mktemp)
if DEMO_PAUSE=0 B=$B timeout 300 scripts/demo.sh >"$log" 2>&1; then
	echo "ok demo"
else
	echo "not ok demo - a step did not behave as narrated:"
	grep -E '\[!!\]|demo:' "$log" | sed 's/^/#   /'
fi
rm -f "$log"
exit 0
