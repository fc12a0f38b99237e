#!/bin/bash
# run.sh - every kept fuzz input (tests/fuzz/regress/TARGET/*) through its
# target's entry point, built as a plain program with the project's compiler
# against $B's libraries (sanitized when $B is). One line per input.
set -u
cd "$(dirname "$0")/../.."
B=${B:-build}
CC=${CC:-cc}
OUT=$B/fuzz-regress
PKGS="libnetfilter_queue libmnl libpcap libcrypto libhs libpcre2-8"
CFLAGS="-std=gnu11 -D_GNU_SOURCE -Iinclude -Ifilter -g -O1 -Wall -Wextra -Wshadow -Wformat=2
	-Werror $(pkg-config --cflags $PKGS 2>/dev/null)"
LIBS="$B/libfilter.a $B/librules.a $(pkg-config --libs $PKGS 2>/dev/null) -lpthread -lm"

# A sanitized $B (make SAN=1) gets sanitized targets, so the inputs are checked as in fuzzing.
if grep -qa __asan_report "$B/librules.a" 2>/dev/null; then
	CFLAGS="$CFLAGS -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
	LIBS="-fsanitize=address,undefined $LIBS"
fi

build() { # target
	local extra=()
	[ "$1" = control ] && extra=(-include stdlib.h tests/unit/control_fake.c)
	# shellcheck disable=SC2086
	$CC $CFLAGS -o "$OUT/fuzz_$1" tests/fuzz/regress_main.c tests/fuzz/fuzz_common.c \
		"tests/fuzz/fuzz_$1.c" "${extra[@]}" $LIBS 2>"$OUT/fuzz_$1.build.log"
}

mkdir -p "$OUT"
if [ ! -f "$B/librules.a" ] || [ ! -f "$B/libfilter.a" ]; then
	echo "not ok fuzz_regress - $B/librules.a or $B/libfilter.a missing (make B=$B all)"
	exit 0
fi
for d in tests/fuzz/regress/*/; do
	t=$(basename "$d")
	[ -f "tests/fuzz/fuzz_$t.c" ] || { echo "not ok $t - no tests/fuzz/fuzz_$t.c"; continue; }
	if ! build "$t"; then
		echo "not ok fuzz_$t build - see $OUT/fuzz_$t.build.log"
		sed 's/^/#   /' "$OUT/fuzz_$t.build.log" | head -20
		continue
	fi
	for f in "$d"*; do
		[ -f "$f" ] || continue
		name="$t/$(basename "$f")"
		log=$(mktemp)
		ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=86:detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-exitcode=86:print_stacktrace=1} \
			timeout 60 "$OUT/fuzz_$t" "$f" </dev/null >"$log" 2>&1
		rc=$?
		if [ $rc -eq 0 ] && ! grep -q 'runtime error' "$log"; then
			echo "ok $name"
		else
			echo "not ok $name - exit $rc: $(grep -m1 -E 'ERROR|runtime error|Assertion|abort' "$log")"
			head -30 "$log" | sed 's/^/#   /'
		fi
		rm -f "$log"
	done
done
exit 0
