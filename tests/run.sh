#!/bin/bash
# run.sh - every test: cmocka unit tests, then each tests/<suite>/run.sh.
# Suites print "ok NAME", "ok NAME # SKIP why" or "not ok NAME - why" per
# case. The last line is "N passed, N failed, N skipped". Set ONLY=suite to run one suite (unit, policy, ...).
set -u
cd "$(dirname "$0")/.."
export B=${B:-build}
export LL_ROOT=$PWD
# Sanitized builds (make test SAN=1): a sanitizer report exits 86, never 1,
# so that no suite mistakes a memory error or a leak for a clean "bad input".
export ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=86:detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-exitcode=86:print_stacktrace=1:halt_on_error=1}
pass=0 fail=0 skip=0 failed=()

count_cmocka() { # file name
	local p f k
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -1)
	k=$(sed -n 's/^ \([0-9]*\) SKIPPED TEST.*/\1/p' "$1" | tail -1)
	pass=$((pass + ${p:-0}))
	skip=$((skip + ${k:-0}))
	fail=$((fail + ${f:-0}))
	if [ -n "$f" ] && [ "$f" != 0 ] || [ -z "$p$f" ]; then
		[ -z "$p$f" ] && fail=$((fail + 1))
		failed+=("$2")
	fi
}

want() { [ -z "${ONLY:-}" ] || [ "$ONLY" = "$1" ]; }

if want unit; then
	for t in "$B"/tests/test_*; do
		[ -x "$t" ] || continue
		log=$(mktemp)
		"$t" >"$log" 2>&1
		rc=$?
		cat "$log"
		count_cmocka "$log" "$(basename "$t")"
		[ $rc -ne 0 ] && [[ ! " ${failed[*]-} " == *" $(basename "$t") "* ]] && {
			fail=$((fail + 1)); failed+=("$(basename "$t") (exit $rc)"); }
		rm -f "$log"
	done
fi

for s in tests/*/run.sh; do
	suite=$(basename "$(dirname "$s")")
	want "$suite" || continue
	# tests/fuzz is `make fuzz` (timed runs); make test replays its regressions (fuzz_regress)
	[ "$suite" = fuzz ] && [ "${ONLY:-}" != fuzz ] && continue
	echo "== suite $suite"
	log=$(mktemp)
	bash "$s" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(grep '^ok ' "$log" | grep -vc ' # SKIP')
	k=$(grep '^ok ' "$log" | grep -c ' # SKIP')
	f=$(grep -c '^not ok ' "$log")
	# a suite that stops early (a traceback, set -u) or says nothing has failed,
	# even when no case it reached said "not ok"
	if [ "$f" -eq 0 ] && { [ "$rc" -ne 0 ] || [ $((p + k)) -eq 0 ]; }; then
		echo "FAILED [$suite] the suite exited $rc after $((p + k)) results"
		f=1
	fi
	pass=$((pass + p))
	skip=$((skip + k))
	fail=$((fail + f))
	grep '^not ok ' "$log" | while read -r l; do echo "FAILED [$suite] ${l#not ok }"; done
	[ "$f" -gt 0 ] && failed+=("$suite")
	rm -f "$log"
done

echo
[ ${#failed[@]} -gt 0 ] && echo "failing: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
