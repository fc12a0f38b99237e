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
for tool in python3; do
	if ! command -v $tool >/dev/null; then
		echo "not ok ips-suite - $tool is needed (apt-get install $tool)"
		exit 0
	fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Own cases: TCP streams through replay (mkpcap.py writes the captures).
# Expected: the packets that alert or drop, as n:verdict:by:alerts.
e2e_policy='alert tcp any any -> any 80 (msg:"attack"; flow:to_server,established; content:"ATTACK"; sid:1;)
drop tcp any any -> any 80 (msg:"evil"; content:"evil"; sid:2;)
alert tcp any any -> any 80 (msg:"small"; flow:to_server,established; content:"PAY"; stream_size:client,<,30; sid:4;)
alert tcp any any -> any 80 (msg:"login"; flow:to_server,established; content:"USER root"; content:"PASS"; distance:0; sid:5;)
alert tcp any any -> any 80 (msg:"long"; flow:to_server,established; content:"'"$(printf 'Z%.0s' $(seq 20000))"'"; sid:6;)
alert tcp any any -> any 80 (msg:"a run"; flow:to_server,established; content:"aaaa"; pcre:"/a{1,65535}b/"; sid:3;)
alert tcp any any -> any 80 (msg:"login"; flow:to_server; content:"LOGIN"; flowbits:set,authed; flowbits:noalert; sid:7;)
drop tcp any any -> any 80 (msg:"after login"; flow:to_server,established; flowbits:isset,authed; content:"EXPLOIT"; sid:8;)
drop tcp any any -> any 80 (msg:"short, after login"; flow:to_server,established; flowbits:isset,authed; content:"Qz"; sid:9;)
alert tcp any 80 -> any any (msg:"attack back"; flow:to_client,established; content:"ATTACK"; sid:10;)
alert tcp any any -> any 80 (msg:"no literal"; flow:to_server,established; pcre:"/SPL\x00{4}IT/"; sid:11;)
alert tcp any any -> any 80 (msg:"all NUL"; flow:to_server,established; content:"|00 00 00 00|"; sid:12;)
alert tcp any any -> any 80 (msg:"logged in, packet"; flow:to_server,established; flowbits:isset,authed; content:"ok9"; dsize:5; sid:13;)
alert tcp any any -> any 80 (msg:"not logged in, packet"; flow:to_server,established; flowbits:isnotset,authed; content:"ok9"; dsize:5; sid:14;)
alert tcp any any -> any 80 (msg:"packet keyword"; flow:to_server,established; content:"PKTONLY"; flags:PA; sid:15;)
alert tcp any any -> any 80 (msg:"no packet keyword"; flow:to_server,established; content:"PKTONLY"; sid:16;)'
e2e() { # case expected [host: the client 10.0.0.1 is the host]
	python3 tests/ips/mkpcap.py "$tmp/$1.pcap" "$1"
	echo "$e2e_policy" >"$tmp/e2e.policy"
	: >"$tmp/e2e.conf"
	[ "${3:-}" = host ] && echo "host 10.0.0.1" >"$tmp/e2e.conf"
	# a guard against a hang, not a speed test: every case takes well under a second
	timeout 120 "$B/lifelined" -r "$tmp/$1.pcap" -c "$tmp/e2e.conf" -p "$tmp/e2e.policy" \
		--verdicts "$tmp/$1.v" >/dev/null 2>"$tmp/$1.err"
	rc=$?
	# a verdict for every frame, then the ones that alert or drop
	got=$(python3 - "$tmp/$1.v" "$tmp/$1.pcap" <<'PY'
import json, struct, sys
n = 0
with open(sys.argv[2], "rb") as f:
    f.read(24)
    while True:
        h = f.read(16)
        if len(h) < 16:
            break
        f.seek(struct.unpack("<IIII", h)[2], 1)
        n += 1
out, lines = [], open(sys.argv[1]).read().splitlines()
if len(lines) != n:
    print("%d verdict lines for %d frames" % (len(lines), n), end="")
    sys.exit(0)
for l in lines:
    v = json.loads(l)
    if v.get("alerts") or v["verdict"] == "drop":
        out.append("%d:%s:%s:%s " % (v["n"], v["verdict"], v["by"], ",".join(map(str, v.get("alerts", [])))))
print("".join(out), end="")
PY
)
	[ $rc -ne 0 ] && got="lifelined exited $rc: $(head -c 200 "$tmp/$1.err")"
	if [ "$got" = "$2" ]; then
		echo "ok stream-$1"
	else
		echo "not ok stream-$1 - want '$2', got '$got'"
	fi
}
if [ -x "$B/lifelined" ]; then
	e2e split "5:accept:flow:1 "
	e2e reorder "5:accept:flow:1 "
	e2e false-join ""
	e2e retransmit ""
	e2e bcast-decoy "6:accept:flow:1 "
	e2e mcast-rst "6:accept:flow:1 "
	e2e bcast-frag-decoy "7:accept:flow:1 "
	e2e drop "5:drop:ips:2 6:drop:flow: "
	e2e no-literal "5:accept:flow:11,12 "
	e2e flowbit-same-packet "5:accept:flow:13 "
	e2e pkt-only-split "5:accept:flow:16 "
	e2e long-run "465:accept:flow:3 "
	e2e ssize-retransmit "8:accept:flow:4 "
	e2e trickle "25:accept:flow:5 "
	e2e long-content "18:accept:flow:6 "
	e2e flowbit-early "7:drop:ips:8 "
	e2e flowbit-budget "15:drop:ips:9 "
	e2e second-split "4:accept:flow:1 6:accept:flow:1 "
	e2e paws-rst "5:accept:flow:1 "
	e2e paws-rst-odd "6:accept:flow:1 "
	# an echo older than the first SYN seen may be of a SYN the engine missed: it passes, moving nothing
	e2e tsecr-synack "6:accept:flow:10 " host
	e2e tsecr-ahead "2:drop:sanity: 6:accept:flow:10 " host
	e2e tsecr-resyn "5:accept:flow:10 " host
	e2e tsecr-missed "" host
fi

if [ ! -d "$SV" ]; then
	echo "ok suricata-verify # SKIP $SV absent (set LL_SHARED)"
	exit 0
fi
if [ ! -x "$B/lifelined" ]; then
	echo "not ok suricata-verify - $B/lifelined not built"
	exit 0
fi
# SPEC's required IPS keywords: a case needing one of them is never a skip
REQUIRED="msg sid rev gid classtype priority reference metadata target content nocase
offset depth distance within startswith endswith fast_pattern isdataat byte_test byte_jump
pcre dsize flow flowbits threshold detection_filter stream_size itype icode flags ttl"
REQUIRED=$(echo $REQUIRED)
for d in "$SV"/*/; do
	name=$(basename "$d")
	pcap=$(ls "$d"*.pcap | head -1)
	rules=$(ls "$d"*.rules | head -1)
	grep -v '^[[:space:]]*#' "$rules" >"$tmp/policy"
	"$B/lifelined" -r "$pcap" -p "$tmp/policy" --verdicts "$tmp/verdicts" \
		>"$tmp/out" 2>"$tmp/err"
	echo "rc=$?" >>"$tmp/out"
	why=$(grep -m1 -o "unsupported \(keyword\|protocol\|action\) '[^']*'" "$tmp/err")
	kw=$(sed -n "s/^unsupported keyword '\(.*\)'$/\1/p" <<<"$why")
	if [ -n "$kw" ] && [[ " $REQUIRED " == *" $kw "* ]]; then
		echo "not ok $name - SPEC requires '$kw', refused as unsupported"
		continue
	elif [ -n "$why" ]; then
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
exit 0
