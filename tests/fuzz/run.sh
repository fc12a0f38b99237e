#!/bin/bash
# run.sh - build the libFuzzer targets with clang (ASan+UBSan) into build-fuzz/
# and run each for FUZZ_SECONDS (default 60) on a seed corpus made from the
# project's captures, policies, IPS rules and configs. A crash stops the run
# with its input in build-fuzz/crashes/TARGET/; keep it in
# tests/fuzz/regress/TARGET/ once fixed (tests/fuzz_regress replays those).
# FUZZ_TARGETS="pkt policy" runs a subset; FUZZ_BUILD_ONLY=1 only builds.
set -u
cd "$(dirname "$0")/../.."
OUT=${FUZZ_OUT:-build-fuzz}
SECS=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-pkt policy ips config control replay stream}
CC=${FUZZ_CC:-clang}
PKGS="libnetfilter_queue libmnl libpcap libcrypto libhs libpcre2-8"
WARN="-Wall -Wextra -Wshadow -Wformat=2 -Wno-sign-compare"
CFLAGS="-std=gnu11 -D_GNU_SOURCE -Iinclude -Ifilter -g -O1 -fno-omit-frame-pointer
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
	$(pkg-config --cflags $PKGS 2>/dev/null)"
LIBS="$(pkg-config --libs $PKGS 2>/dev/null) -lpthread -lm"

die() { echo "fuzz: $*" >&2; exit 1; }

command -v "$CC" >/dev/null || die "$CC not found (apt-get install clang)"
mkdir -p "$OUT/obj"
# one run at a time per output dir (several engineers share a tree): wait for the other
exec 9>"$OUT/.lock"
flock 9

# Newest header: an object older than it is rebuilt.
newest_h=$(ls -t include/*.h filter/*.h rules/*.h tests/fuzz/*.h 2>/dev/null | head -1)

compile() { # src obj extra-flags
	if [ "$2" -nt "$1" ] && [ "$2" -nt "$newest_h" ]; then
		return 0
	fi
	mkdir -p "$(dirname "$2")"
	# shellcheck disable=SC2086
	$CC $CFLAGS $3 -c -o "$2" "$1" || die "cannot compile $1"
}

build_lib() {
	local objs=() s o
	for s in rules/*.c filter/*.c tests/unit/control_fake.c tests/fuzz/fuzz_common.c; do
		[ "$s" = filter/main.c ] && continue
		o=$OUT/obj/${s%.c}.o
		case $s in
		# control_fake.c is meant to be #included after <stdlib.h> (test_control.c)
		tests/unit/*) compile "$s" "$o" "$WARN -include stdlib.h" & ;;
		tests/*) compile "$s" "$o" "$WARN -Werror" & ;;
		*) compile "$s" "$o" "$WARN" & ;;
		esac
		objs+=("$o")
		[ "$(jobs -r | wc -l)" -ge "$(nproc)" ] && wait -n
	done
	wait
	for o in "${objs[@]}"; do [ -f "$o" ] || die "missing $o"; done
	rm -f "$OUT/libll.a" && ar rcs "$OUT/libll.a" "${objs[@]}"
}

build_target() { # name
	compile "tests/fuzz/fuzz_$1.c" "$OUT/obj/fuzz_$1.o" "$WARN -Werror"
	# shellcheck disable=SC2086
	$CC -fsanitize=fuzzer,address,undefined -o "$OUT/fuzz_$1" "$OUT/obj/fuzz_$1.o" \
		"$OUT/libll.a" $LIBS || die "cannot link fuzz_$1"
}

# The seed corpus: the project's inputs, plus every kept regression case.
seed() {
	rm -rf "$OUT/seeds" && python3 tests/fuzz/seeds.py "$OUT/seeds" || die "seeds.py failed"
}

run_target() { # name
	local t=$1 log=$OUT/fuzz_$1.log corpus=$OUT/corpus/$1 runs
	mkdir -p "$corpus" "$OUT/crashes/$t" "tests/fuzz/regress/$t"
	# libFuzzer reads the first dir as its corpus and adds to it; the others are seeds.
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	"$OUT/fuzz_$t" -max_total_time="$SECS" -timeout=20 -rss_limit_mb=3072 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$OUT/crashes/$t/" \
		"$corpus" "$OUT/seeds/$t" "tests/fuzz/regress/$t" </dev/null >"$log" 2>&1
	local rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ $rc -ne 0 ]; then
		echo "not ok fuzz_$t - crashed after ${runs:-?} runs; see $log and $OUT/crashes/$t/"
		grep -m3 -E 'ERROR: |runtime error|SUMMARY' "$log" | sed 's/^/#   /'
		return 1
	fi
	echo "ok fuzz_$t - ${runs:-?} runs in ${SECS}s, corpus $(ls "$corpus" | wc -l) files"
}

build_lib
for t in $TARGETS; do build_target "$t"; done
[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0
seed
fail=0 n=0
for t in $TARGETS; do
	n=$((n + 1))
	run_target "$t" || fail=$((fail + 1))
done
echo "fuzz: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
