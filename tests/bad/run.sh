#!/bin/bash
# run.sh - the bad-input corpus: every broken policy, config, capture and
# signature must give a clear error naming the problem (each line of its
# .err file, a fixed string, appears in the output), exit non-zero, and
# leave the running policy untouched. Policies go through `lifelinectl
# check`, `lifelined -r -p` and `lifelinectl load` (against the control
# server with the fake engine of tests/unit, until the real engine's is
# wired: set LL_BAD_ENGINE to a command line that starts one on a config);
# configs through `lifelined -c -r` and a live start in a network namespace
# of our own; captures through `lifelined -r`. One "ok NAME" or
# "not ok NAME - why" line per check.
set -u
cd "$(dirname "$0")/../.."
B=${B:-build}
ROOT=$PWD
CTL=$ROOT/$B/lifelinectl
LLD=$ROOT/$B/lifelined
ENGINE=${LL_BAD_ENGINE:-$ROOT/$B/tests/test_control --fake-engine}
PCAP=$ROOT/pcaps/heartbeat.pcap
CONF=$ROOT/tests/replay/agent.conf
BAD=$ROOT/tests/bad
T=$(mktemp -d /tmp/llbad.XXXXXX)
NS=llbad-$$
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

ok() { echo "ok $1"; }
nok() { echo "not ok $1 - $2"; }

# expect NAME RC OUTFILE ERRFILE: exit 1 and every line of ERRFILE in OUTFILE
expect() {
	local n=$1 rc=$2 out=$3 err=$4 line
	if [ ! -f "$err" ]; then
		nok "$n" "no $err to say what the error must be"; return
	fi
	if [ "$rc" -eq 0 ]; then
		nok "$n" "exit 0 for a bad input"; return
	fi
	[ "$rc" -eq 124 ] && { nok "$n" "timed out"; return; }
	# SPEC: a failure exits 1 (2 is a usage error; more is a crash or a sanitizer report)
	if [ "$rc" -ne 1 ]; then
		nok "$n" "exit $rc: $(grep -m1 -E 'ERROR|runtime error' "$out" || head -1 "$out")"
		grep -A6 -E 'ERROR|runtime error' "$out" | head -12 | sed 's/^/#   /'
		return
	fi
	while IFS= read -r line; do
		[ -z "$line" ] && continue
		grep -qF -- "$line" "$out" || {
			nok "$n" "'$line' not in: $(head -c 300 "$out" | tr '\n' '|')"; return; }
	done < "$err"
	ok "$n"
}

for f in "$CTL" "$LLD"; do
	[ -x "$f" ] || { nok setup "$f missing: make B=$B all"; exit 0; }
done

# ---- generated inputs: huge, deep, many ----
G=$T/gen; mkdir -p "$G"
gen_policies() {
	python3 - "$G" <<'PY'
import sys
d = sys.argv[1]
def w(name, text, err):
    open(f'{d}/{name}.pol', 'w').write(text)
    open(f'{d}/{name}.err', 'w').write(err + '\n')
w('huge-token', 'x' * 1000000 + '\n', "huge-token.pol:1:1: unknown keyword 'xxxxxxxx")
w('huge-last-line-bad', ''.join(f'deny in tcp to any port {i % 65536} id {i + 1}\n'
   for i in range(100000)) + 'deny in tcp to any port 65536 id 100001\n',
   "huge-last-line-bad.pol:100001:25: port '65536' out of range 0-65535")
# the first 1000 errors, then one line that says the rest went unread (clang's -ferror-limit)
w('many-errors', 'bogus\n' * 20000, "many-errors.pol:1000:1: unknown keyword 'bogus'\n"
   "many-errors.pol:1001:1: too many errors; stopping here (the first 1000 are above)")
w('many-ips-errors', 'alert x\n' * 20000, "many-ips-errors.pol:1000:8: rule header needs\n"
   "many-ips-errors.pol:1001:8: too many errors; stopping here (the first 1000 are above)")
w('huge-list', 'define big = { ' + ' '.join(f'10.{i >> 8 & 255}.{i & 255}.1' for i in range(60000))
   + ' 10.0.0.999 }\ndeny in any from $big id 1\n', "bad address '10.0.0.999'")
for i in range(40):
    open(f'{d}/deep-{i}.inc', 'w').write(f'include "deep-{i + 1}.inc"\n')
open(f'{d}/deep-40.inc', 'w').write('deny in any id 1\n')
w('deep-include', 'include "deep-0.inc"\n', 'includes nested deeper than')
# a file is read once, so a fan-out (16 includes a level, 12 levels: 16^12 reads) is an
# error at its second include; the include count still bounds many distinct files
for i in range(12):
    open(f'{d}/fan-{i}.inc', 'w').write(f'include "fan-{i + 1}.inc"\n' * 16)
open(f'{d}/fan-12.inc', 'w').write('deny in any id 1\n')
w('fanout-include', 'include "fan-0.inc"\n',
  "fan-0.inc:2:9: 'fan-1.inc' is already included, at fan-0.inc:1:9: a file is read once")
for i in range(4100):
    open(f'{d}/many-{i}.inc', 'w').write(f'# {i}\n')
w('many-includes', ''.join(f'include "many-{i}.inc"\n' for i in range(4100)),
  'many-includes.pol:4097:9: more than 4096 includes in one policy: no more are read')
# a diamond: the second path to a file names the first (pf and nft would redefine)
open(f'{d}/dia-defs.inc', 'w').write('define a = { 192.0.2.1 }\n')
open(f'{d}/dia-b.inc', 'w').write('include "dia-defs.inc"\n')
open(f'{d}/dia-c.inc', 'w').write('include "dia-defs.inc"\nallow in tcp from $a id 1\n')
w('diamond-include', 'include "dia-b.inc"\ninclude "dia-c.inc"\n',
  "dia-c.inc:1:9: 'dia-defs.inc' is already included, at dia-b.inc:1:9: a file is read once")
# flowbit names are 16-bit: the 65,536th is an error that says so (it was a silent exit 1)
w('many-flowbits', ''.join(f'alert tcp any any -> any any (flowbits:set,f{i}; flowbits:noalert; sid:{i + 1};)\n'
   for i in range(65537)), 'many-flowbits.pol:65536:31: flowbits: more than 65535 names in one policy')
# 20,000 nested lists in an IPS header: a clear error (the recursive parser overflowed its stack)
w('deep-ips-list', 'alert tcp ' + '[' * 20000 + '10.0.0.1' + ']' * 20000
   + ' any -> any any (sid:1;)\n', 'address lists nested deeper than 64')
w('deep-ips-port-list', 'alert tcp any ' + '[' * 20000 + '80' + ']' * 20000
   + ' -> any any (sid:1;)\n', 'port lists nested deeper than 64')
# a FIFO nobody writes: reading it would wait forever (the engine's control thread too)
w('fifo-include', 'include "fifo.inc"\n', "cannot include 'fifo.inc': not a regular file")
PY
	mkfifo "$G/fifo.inc"
	# each include is under the limit, the policy with both is not
	head -c $((33 << 20)) /dev/zero | tr '\0' '#' > "$G/half.inc"
	cp "$G/half.inc" "$G/half2.inc"
	printf 'include "half.inc"\ninclude "half2.inc"\n' > "$G/includes-too-large.pol"
	printf "includes-too-large.pol:2:9: cannot include 'half2.inc': the policy and its includes would be larger than the 64 MiB a policy may be\n" > "$G/includes-too-large.err"
	# larger than the 64 MiB a policy may be
	head -c $((65 << 20)) /dev/zero | tr '\0' '#' > "$G/too-large.pol"
	printf "too-large.pol\nlarger than the 64 MiB a policy may be\n" > "$G/too-large.err"
}
gen_policies

# ---- policies: check, replay, load ----
GOOD=$T/good.pol
printf 'serial 1\nallow in tcp to any port 22 id 1\ndeny in tcp to any port 23 id 2\n' > "$GOOD"

policy_check() { # dir file
	local n=${2%.pol} out=$T/out
	(cd "$1" && timeout 60 "$CTL" check "$2") > "$out" 2>&1
	expect "check/$n" $? "$out" "$1/$n.err"
}

policy_replay() { # dir file
	local n=${2%.pol} out=$T/out
	(cd "$1" && timeout 60 "$LLD" -r "$PCAP" -c "$CONF" -p "$2" 2>&1 >"$T/stdout") > "$out"
	local rc=$?
	if [ -s "$T/stdout" ]; then
		nok "replay/$n" "something was replayed: $(head -1 "$T/stdout")"; return
	fi
	expect "replay/$n" $rc "$out" "$1/$n.err"
}

# A control server on its own state dir and socket, the good policy loaded.
engine_conf() { # name [directives...]
	local n=$1; shift
	mkdir -p "$T/$n"
	{ echo "state-dir $T/$n/state"; echo "control-socket $T/$n/c.sock"
	  echo "manager 203.0.113.10"; echo "host 198.51.100.2"
	  for l in "$@"; do echo "$l"; done; } > "$T/$n/ll.conf"
}
engine_start() { # name
	# shellcheck disable=SC2086
	$ENGINE "$T/$1/ll.conf" > "$T/$1/engine.out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do
		"$CTL" -c "$T/$1/ll.conf" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
show() { "$CTL" -c "$T/$1/ll.conf" show 2>&1; cat "$T/$1/state/current.pol" 2>/dev/null; }

policy_load() { # engine dir file
	local e=$1 n=${3%.pol} out=$T/out err=$2/${3%.pol}.err
	show "$e" > "$T/before"
	# the server names files by their absolute path: compare relative names
	(cd "$2" && timeout 60 "$CTL" -c "$T/$e/ll.conf" load "$3") 2>&1 | sed "s|$2/||g" > "$out"
	local rc=${PIPESTATUS[0]}
	# load may refuse earlier than check does (the client reads the file): X.load.err
	[ -f "$2/$n.load.err" ] && err=$2/$n.load.err
	show "$e" > "$T/after"
	if ! cmp -s "$T/before" "$T/after"; then
		nok "load/$n" "the running policy changed: $(diff "$T/before" "$T/after" | head -5 | tr '\n' '|')"
		return
	fi
	expect "load/$n" $rc "$out" "$err"
}

have_engine=0
ENGINE_BIN=${ENGINE%% *}
if [ -x "$ENGINE_BIN" ]; then
	engine_conf e1
	if engine_start e1 && "$CTL" -c "$T/e1/ll.conf" load "$GOOD" >/dev/null 2>&1; then
		have_engine=1
	else
		nok load/setup "engine did not start: $(head -c 300 "$T/e1/engine.out")"
	fi
fi

for dir in "$BAD/policy" "$G"; do
	for p in "$dir"/*.pol; do
		f=$(basename "$p")
		policy_check "$dir" "$f"
		policy_replay "$dir" "$f"
		if [ $have_engine = 1 ]; then
			policy_load e1 "$dir" "$f"
		else
			ok "load/${f%.pol} # SKIP no engine ($ENGINE_BIN missing)"
		fi
	done
done

# ---- configs: replay and a live start, in a namespace of our own ----
config_replay() { # file
	local n=${1%.conf} out=$T/out
	(cd "$BAD/config" && timeout 60 "$LLD" -c "$1" -r "$PCAP" 2>&1 >"$T/stdout") > "$out"
	local rc=$?
	if [ -s "$T/stdout" ]; then
		nok "config-replay/$n" "something was replayed: $(head -1 "$T/stdout")"; return
	fi
	expect "config-replay/$n" $rc "$out" "$BAD/config/$n.err"
}

# lifelinectl reads the config too (explain offline needs its $HOME_NET and lifeline)
config_explain() { # file
	local n=${1%.conf} out=$T/out
	(cd "$BAD/config" && timeout 60 "$CTL" -c "$1" explain -p "$GOOD" in tcp \
		192.0.2.7:40000 198.51.100.2:22) > "$out" 2>&1
	expect "config-explain/$n" $? "$out" "$BAD/config/$n.err"
}

# Nothing may be installed: the namespace's rulesets stay empty.
ns_rules() {
	{ ip netns exec "$NS" nft list ruleset 2>/dev/null
	  ip netns exec "$NS" iptables-save 2>/dev/null | grep -v '^[#:*]\|^COMMIT'
	  ip netns exec "$NS" ip6tables-save 2>/dev/null | grep -v '^[#:*]\|^COMMIT'; } | grep .
}
config_live() { # file
	local n=${1%.conf} out=$T/out
	(cd "$BAD/config" && timeout 20 ip netns exec "$NS" "$LLD" -f -c "$1") > "$out" 2>&1
	local rc=$?
	if ns_rules >/dev/null; then
		nok "config-live/$n" "rules were installed: $(ns_rules | head -3 | tr '\n' '|')"
		ip netns del "$NS"; ip netns add "$NS"
		return
	fi
	expect "config-live/$n" $rc "$out" "$BAD/config/$n.err"
}

live=0
if [ "$(id -u)" = 0 ] && ip netns add "$NS" 2>/dev/null; then
	live=1
fi
for c in "$BAD"/config/*.conf; do
	f=$(basename "$c")
	config_replay "$f"
	config_explain "$f"
	if [ $live = 1 ]; then
		config_live "$f"
	else
		ok "config-live/${f%.conf} # SKIP needs root to make a network namespace"
	fi
done

# ---- captures ----
for c in "$BAD"/capture/*.pcap "$BAD"/capture/*.pcapng; do
	f=$(basename "$c"); n=${f%.*}; out=$T/out
	(cd "$BAD/capture" && timeout 60 "$LLD" -r "$f" -c "$CONF" -p "$GOOD" 2>&1 >"$T/stdout") > "$out"
	rc=$?
	if [ -f "$BAD/capture/$n.out" ]; then
		# frames before the damage are judged and summed up
		want=$(cat "$BAD/capture/$n.out")
		grep -qE "(^|[^0-9])$want" "$T/stdout" || { nok "capture/$n" "'$want' not in the summary"; continue; }
	elif [ -s "$T/stdout" ]; then
		nok "capture/$n" "something was replayed: $(head -1 "$T/stdout")"; continue
	fi
	expect "capture/$n" $rc "$out" "$BAD/capture/$n.err"
done

# ---- signatures: load with a trusted-key ----
sig_cases() {
	local S=$T/sig k=$T/e2/k
	mkdir -p "$S"
	openssl genpkey -algorithm ed25519 -out "$k.key" 2>/dev/null &&
	openssl pkey -in "$k.key" -pubout -out "$k.pub" 2>/dev/null &&
	openssl genpkey -algorithm ed25519 -out "$T/other.key" 2>/dev/null || return 1
	sign() { openssl pkeyutl -sign -rawin -inkey "$1" -in "$2" -out "$2.sig"; }
	cp "$GOOD" "$S/base.pol"; sign "$k.key" "$S/base.pol"
	printf 'serial 2\ndeny in any id 1\n' > "$S/unsigned.pol"
	echo "not signed" > "$S/unsigned.err"
	printf 'serial 2\ndeny in any id 1\n' > "$S/tampered.pol"; sign "$k.key" "$S/tampered.pol"
	printf 'serial 2\ndeny in any id 2\n' > "$S/tampered.pol"
	echo "bad signature" > "$S/tampered.err"
	printf 'serial 2\ndeny in any id 1\n' > "$S/other-key.pol"; sign "$T/other.key" "$S/other-key.pol"
	echo "bad signature" > "$S/other-key.err"
	printf 'serial 2\ndeny in any id 1\n' > "$S/truncated.pol"; sign "$k.key" "$S/truncated.pol"
	truncate -s 40 "$S/truncated.pol.sig"
	echo "40 bytes" > "$S/truncated.err"
	printf 'serial 2\ndeny in any id 1\n' > "$S/empty-sig.pol"; : > "$S/empty-sig.pol.sig"
	echo "empty-sig.pol" > "$S/empty-sig.err"
	printf 'serial 2\ndeny in any id 1\n' > "$S/garbage-sig.pol"
	head -c 64 /dev/urandom > "$S/garbage-sig.pol.sig"
	echo "bad signature" > "$S/garbage-sig.err"
	printf 'serial 2\ndeny in any id 1\n' > "$S/huge-sig.pol"
	head -c 100000 /dev/urandom > "$S/huge-sig.pol.sig"
	echo "huge-sig.pol.sig" > "$S/huge-sig.err"
	printf 'serial 0\ndeny in any id 1\n' > "$S/lower-serial.pol"; sign "$k.key" "$S/lower-serial.pol"
	echo "serial 0 is lower" > "$S/lower-serial.err"
	printf 'serial 2\ndeny in any id 99999999999\n' > "$S/signed-invalid.pol"
	sign "$k.key" "$S/signed-invalid.pol"
	echo "signed-invalid.pol:2:" > "$S/signed-invalid.err"
}
if [ $have_engine = 1 ]; then
	engine_conf e2 "trusted-key $T/e2/k.pub"
	if ! sig_cases; then
		nok sig/setup "openssl cannot make Ed25519 keys"
	elif ! engine_start e2 || ! "$CTL" -c "$T/e2/ll.conf" load "$T/sig/base.pol" >/dev/null 2>&1; then
		nok sig/setup "signed engine did not start or refused a valid policy"
	else
		for p in "$T"/sig/*.pol; do
			f=$(basename "$p")
			[ "$f" = base.pol ] && continue
			policy_load e2 "$T/sig" "$f"
		done
	fi
	# a trusted-key that is no key: every load refused, and says why
	engine_conf e3 "trusted-key $BAD/config/unknown-directive.conf"
	if [ -f "$T/sig/base.pol.sig" ] && engine_start e3; then
		echo "not a PEM public key" > "$T/sig/base.load.err"
		policy_load e3 "$T/sig" base.pol
	else
		nok "load/bad-trusted-key" "no signed base policy, or the engine did not start"
	fi
fi
exit 0
