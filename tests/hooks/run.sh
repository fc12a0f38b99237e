#!/bin/bash
# run.sh - kernel hook goldens: `lifelined --print-hooks --backend B -c X.conf`
# must equal X.B.ok for both backends (iptables, nft). As root, the printed
# rulesets are also checked by the tools themselves inside a throw-away
# network namespace: `nft -c` for nft, ipset + `iptables-restore --test` for
# iptables. UPDATE=1 rewrites the goldens. Prints ok/not ok lines.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
LLD=$B/lifelined
DIR=tests/hooks
T=$(mktemp -d /tmp/llhooks.XXXXXX)
NS=${HOOKS_NS:-lllive-hooks-$$}
cleanup() { ip netns del "$NS" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

[ -x "$LLD" ] || { echo "not ok hooks-build - $LLD missing (make first)"; exit 0; }

for conf in "$DIR"/*.conf; do
	name=$(basename "$conf" .conf)
	for b in iptables nft; do
		out=$T/$name.$b
		if ! "$LLD" --print-hooks --backend "$b" -c "$conf" >"$out" 2>"$out.err"; then
			echo "not ok hooks-$name-$b - lifelined failed: $(head -1 "$out.err")"
			continue
		fi
		[ -n "${UPDATE:-}" ] && cp "$out" "$DIR/$name.$b.ok"
		if diff -u "$DIR/$name.$b.ok" "$out" >"$out.diff" 2>&1; then
			echo "ok hooks-$name-$b"
		else
			echo "not ok hooks-$name-$b - differs from $name.$b.ok:"
			sed 's/^/#   /' "$out.diff" | head -20
		fi
	done
done

if [ "$(id -u)" != 0 ] || ! ip netns add "$NS" 2>/dev/null; then
	echo "ok hooks-kernel-check # SKIP needs root"
	exit 0
fi

# This kernel may lack the nft queue expression (then lifelined picks
# iptables): check everything else and the queue statement's syntax apart.
probe='add table inet p
add chain inet p c { type filter hook input priority 0; }
add rule inet p c queue num 0 bypass'
has_queue=1
echo "$probe" | ip netns exec "$NS" nft -c -f - >/dev/null 2>&1 || has_queue=0

for conf in "$DIR"/*.conf; do
	name=$(basename "$conf" .conf)
	f=$T/$name.nft
	[ -s "$f" ] || continue
	[ $has_queue = 1 ] || sed -i 's/ queue num [0-9-]*\( bypass\)\?$/ counter/' "$f"
	if ip netns exec "$NS" nft -c -f "$f" >"$f.log" 2>&1; then
		echo "ok hooks-$name-nft-check$([ $has_queue = 1 ] || echo ' # queue statement replaced: no nft queue in this kernel')"
	else
		echo "not ok hooks-$name-nft-check - nft -c: $(grep -m1 Error "$f.log")"
	fi
	f=$T/$name.iptables
	[ -s "$f" ] || continue
	# the three parts of the printout, as lifelined feeds them to the tools
	awk '/^# ipset restore/{p=1;next} /^# /{p=0} p' "$f" >"$f.ipset"
	awk '/^# iptables-restore/{p=1;next} /^# /{p=0} p' "$f" >"$f.v4"
	awk '/^# ip6tables-restore/{p=1;next} /^# /{p=0} p' "$f" >"$f.v6"
	if ip netns exec "$NS" ipset restore <"$f.ipset" >"$f.log" 2>&1 &&
		ip netns exec "$NS" iptables-restore --test --noflush <"$f.v4" >>"$f.log" 2>&1 &&
		ip netns exec "$NS" ip6tables-restore --test --noflush <"$f.v6" >>"$f.log" 2>&1; then
		echo "ok hooks-$name-iptables-check"
	else
		echo "not ok hooks-$name-iptables-check - $(head -1 "$f.log")"
	fi
	ip netns exec "$NS" ipset destroy >/dev/null 2>&1
done

# A host rule ahead of lifeline's jump in mangle INPUT that accepts ends
# what it matches there: never queued, while every chain of ours looks
# installed. doctor must say so rather than "installed" (no engine here:
# its socket is none); a MARK rule there goes on to the jump: no warning
# (nor for a "-j" in its comment).
in_ns() { ip netns exec "$NS" "$@"; }
LLC=$B/lifelinectl
doctor_hooks() {
	in_ns "$LLC" -c "$T/doctor.conf" doctor >"$T/doctor.out" 2>&1
	grep "kernel rules" "$T/doctor.out"
}
rule_ahead_told() {
	local f=$T/default.iptables
	printf 'control-socket %s/none.sock\nstate-dir %s/state\n' "$T" "$T" >"$T/doctor.conf"
	in_ns ipset restore <"$f.ipset" && in_ns iptables-restore --noflush <"$f.v4" &&
		in_ns ip6tables-restore --noflush <"$f.v6" || return 1
	in_ns iptables -t mangle -I INPUT 1 -m comment --comment "mark, then -j LIFELINE-IN" \
		-j MARK --set-xmark 0x1/0x80ffffff || return 1
	if doctor_hooks | grep -q "rule ahead"; then
		echo "# a MARK rule ahead of the jump was taken for one that decides"
		return 1
	fi
	in_ns iptables -t mangle -I INPUT 1 -p tcp --dport 22 -j ACCEPT || return 1
	doctor_hooks | grep -q "^warn  kernel rules .*iptables: a rule ahead of lifeline's jump to LIFELINE-IN in mangle INPUT (\`-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\`)"
}
if [ -s "$T/default.iptables.v4" ] && [ -x "$LLC" ]; then
	if rule_ahead_told; then
		echo "ok hooks-doctor-rule-ahead-of-jump"
	else
		echo "not ok hooks-doctor-rule-ahead-of-jump - doctor did not warn:"
		grep "kernel rules" "$T/doctor.out" | sed 's/^/#   /'
	fi
fi

# A socket marked with the offload generation (SO_MARK needs only
# CAP_NET_RAW since Linux 5.17: any host-network container) must not pass
# as a packet the engine handed back: the raw table clears lifeline's bits
# first, so it meets the queue rule (no engine here: bypass), not the
# generation's accept. Run after rule_ahead_told(), on its rules.
socket_mark_judged() {
	in_ns ip link add d0 type veth peer name d1 && in_ns ip addr add 192.0.2.1/24 dev d0 &&
		in_ns ip link set d0 up && in_ns ip link set d1 up &&
		in_ns iptables -t mangle -Z LIFELINE-OUT || return 1
	in_ns python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 36, 0x01000000)  # SO_MARK: generation 1, as the printed rules
s.sendto(b"x", ("192.0.2.2", 5))' || return 1
	in_ns iptables -t mangle -L LIFELINE-OUT -v -n -x >"$T/out.counts"
	awk '/CONNMARK/ { s += $1 } /NFQUEUE/ { q += $1 } END { exit !(s == 0 && q > 0) }' "$T/out.counts"
}
if [ -s "$T/default.iptables.v4" ] && [ -x "$LLC" ] && command -v python3 >/dev/null &&
	in_ns iptables -t mangle -C OUTPUT -j LIFELINE-OUT 2>/dev/null; then
	if socket_mark_judged; then
		echo "ok hooks-iptables-socket-mark-judged"
	else
		echo "not ok hooks-iptables-socket-mark-judged - a socket's generation mark passed unjudged:"
		sed "s/^/#   /" "$T/out.counts" | head -8
	fi
	# the raw table flushed by another tool reopens that: doctor says so
	if in_ns iptables -t raw -F OUTPUT &&
		doctor_hooks | grep -q "raw-table jump to LIFELINE-CLEAR is gone"; then
		echo "ok hooks-doctor-raw-jump-gone"
	else
		echo "not ok hooks-doctor-raw-jump-gone - doctor did not say:"
		grep "kernel rules" "$T/doctor.out" | sed 's/^/#   /'
	fi
fi

# the nft backend installs and removes cleanly (table only) where nft queue exists
exit 0
