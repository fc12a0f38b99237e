#!/bin/bash
# run.sh - replay every capture in pcaps/ under valgrind (memcheck, full leak
# check) with a policy that runs every stage (firewall, flows, IPS); -w and
# --dropped write captures too. One "ok NAME" / "not ok NAME - why" a capture.
# A sanitized $B (make SAN=1) cannot run under valgrind: the suite skips.
set -u
cd "$(dirname "$0")/../.."
B=${B:-build}
JOBS=${JOBS:-$(nproc)}
bin=$B/lifelined
pol=tests/valgrind/ips.pol
conf=tests/replay/agent.conf

if ! command -v valgrind >/dev/null; then
	echo "ok valgrind # SKIP valgrind not installed (apt-get install valgrind)"
	exit 0
fi
if [ ! -x "$bin" ]; then
	echo "not ok valgrind - $bin missing"
	exit 0
fi
if grep -qa __asan_init "$bin"; then
	echo "ok valgrind # SKIP $B is built with ASan (SAN=1), which valgrind cannot run"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

one() { # capture
	local cap=$1 name out
	name=$(basename "$cap")
	out=$tmp/$name
	timeout 300 valgrind -q --error-exitcode=99 --leak-check=full --suppressions=tests/valgrind/pcre2-jit.supp \
		--errors-for-leak-kinds=definite,indirect,possible --track-fds=no \
		"$bin" -r "$cap" -c "$conf" -p "$pol" --verdicts "$out.json" \
		-w "$out.acc" --dropped "$out.drop" >"$out.out" 2>"$out.err" </dev/null
	local rc=$?
	# exit 1 is a capture's own fault (truncated, unsupported link type): judged elsewhere
	if [ $rc -le 1 ] && ! grep -q '^==[0-9]*==' "$out.err"; then
		echo "ok valgrind/$name"
	else
		echo "not ok valgrind/$name - exit $rc"
		grep '^==' "$out.err" | head -40 | sed 's/^/#   /'
	fi
}
export -f one
export bin pol conf tmp

ls pcaps/*.pcap pcaps/*.pcapng 2>/dev/null | xargs -P "$JOBS" -I{} bash -c 'one "$@"' _ {}
