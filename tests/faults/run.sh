#!/bin/bash
# run.sh - faults under load: lifelined (fail-open yes, queue 0, maxlen 4096)
# in the agent namespace of tests/live/lib.sh while UDP load (blast.c) and a
# long TCP echo connection (echo.py) run, bounded in packets and seconds:
# kill -9, SIGSTOP for 10 s, a burst that overflows the queue (fail-open yes,
# then no), a policy load every 100 ms for 10 s. Each asserts what the config promises (fail-open
# passes traffic, the lifeline never stops, no accepted connection is cut by
# a reload of the same policy) and that the counters account for every
# packet. Needs root; prints ok/not ok lines and # lines with the figures.
# KEEP=1 keeps the logs; FAULTS_PCAP=1 also captures the echo connections.
#
# How packets are counted (deltas over each fault):
#   R  the queue rule's packet counters (iptables/ip6tables -t mangle -L LIFELINE-IN
#      and LIFELINE-OUT -v -x: the NFQUEUE lines) = packets sent to the queue
#   Q  /proc/net/netfilter/nfnetlink_queue id sequence = packets the kernel
#      put in the queue (an id each); W waiting there, U lost on the netlink
#      socket (after the id), D dropped because the queue was full (before
#      one); D and U stay 0 with fail-open: the kernel accepts those instead
#   J  `lifelinectl stats --json`, queues[].packets = packets the engine judged
#   S  datagrams the load generators handed to the kernel (their own count)
#   E  those datagrams leaving the agent (a mangle POSTROUTING counter: after
#      the filter, so only what the engine or fail-open let through)
# With the engine alive: R = Q + D + F and Q = J + U + W exactly, where F are
# the packets fail-open accepted because the queue was full (the kernel
# counts them nowhere else: F = R - Q - D). After kill -9 the queue and its counters are gone: the
# packets it held are dropped, so S - E (lost) must lie in 0..4096.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/live/lib.sh # B, LLD, LLC, the namespaces; cleanup at exit

QMAX=4096 # nfq.c: the queue's maxlen
if [ "$(id -u)" != 0 ]; then
	echo "not ok faults-root - needs root"; exit 0
fi
[ -x "$LLD" ] && [ -x "$LLC" ] || { echo "not ok faults-build - make first"; exit 0; }
for c in ip iptables ipset openssl ncat python3 cc; do
	command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || {
		echo "ok faults # SKIP $c missing"; exit 0; }
done
BLAST=$T/blast
cc -std=gnu11 -O2 -Wall -Wextra -o "$BLAST" tests/faults/blast.c ||
	{ echo "not ok faults-blast-build - cc tests/faults/blast.c"; exit 0; }

ctl() { ip netns exec "$NS_A" "$LLC" -c "$T/lifeline.conf" "$@"; }
exec 3>&1 # figures reach the output even from inside check()
fig() { echo "# $*" >&3; echo "$*" >>"$T/check.log"; }

# --- counters ------------------------------------------------------------------
rule_pkts() {
	local t c
	for t in iptables ip6tables; do
		for c in LIFELINE-IN LIFELINE-OUT; do
			in_a "$t" -w -t mangle -L "$c" -v -x -n 2>/dev/null
		done
	done | awk '/NFQUEUE/ { s += $1 } END { print s + 0 }'
}
kqueue() { # "Q W D U", zeros when no queue is bound
	in_a cat /proc/net/netfilter/nfnetlink_queue |
		awk '{ q += $8; w += $3; d += $6; u += $7 } END { print q + 0, w + 0, d + 0, u + 0 }'
}
judged() {
	ctl stats --json 2>/dev/null |
		python3 -c 'import json,sys; print(sum(q["packets"] for q in json.load(sys.stdin)["queues"]))' \
			2>/dev/null || echo 0
}
egress() { in_a iptables -w -t mangle -L POSTROUTING -v -x -n | awk '/udp dpt:9/ { print $1 }'; }
# snap PREFIX: PREFIX_R PREFIX_Q ... as globals; Q read on both sides of J so
# that no packet slips in between (retried while the queue moves)
snap() {
	local p=$1 q1 q2 j i
	for i in 1 2 3 4 5; do
		q1=$(kqueue)
		j=$(judged)
		q2=$(kqueue)
		[ "$q1" = "$q2" ] && break
		sleep 0.2
	done
	read -r "${p}_Q" "${p}_W" "${p}_D" "${p}_U" <<<"$q2"
	printf -v "${p}_J" %s "$j"
	printf -v "${p}_R" %s "$(rule_pkts)"
	printf -v "${p}_E" %s "$(egress)"
}
ms() { echo $(($(date +%s%N) / 1000000)); }
sent() { awk '{ s += $2 } END { print s + 0 }' "$@"; }

# shellcheck disable=SC2154 # a_* and b_* are set by snap() through read/printf -v
# account NAME S open|closed|rewritten: the engine alive before (a_) and
# after (b_); S datagrams offered. Every packet sent to the queue was put in
# it, dropped because it was full (fail-open no) or accepted instead (F,
# fail-open yes); every packet put in it was judged, lost on the netlink
# socket, or still waits. Open: every datagram left the host; closed: those
# that did not are among the kernel's queue-full drops.
account() {
	local name=$1 s=$2 mode=$3
	local r=$((b_R - a_R)) q=$((b_Q - a_Q)) j=$((b_J - a_J)) d=$((b_D - a_D)) u=$((b_U - a_U))
	local e=$((b_E - a_E)) head
	F=$((r - q - d))
	D=$d
	head="queued $q = judged $j + dropped netlink $u + waiting $b_W; datagrams offered $s, left the host $e"
	if [ "$mode" = rewritten ]; then
		fig "$name: $head; queue rule $b_R since the last load (its counters restart with the chain)"
		[ "$q" = $((j + u + b_W)) ] && [ "$e" = "$s" ]
		return
	fi
	fig "$name: queue rule $r = queued $q + dropped queue full $d + fail-open $F; $head"
	[ "$q" = $((j + u + b_W)) ] && [ "$r" -ge "$s" ] || return 1
	if [ "$mode" = open ]; then
		[ "$F" -ge 0 ] && [ "$e" = "$s" ]
	else
		[ "$F" = 0 ] && [ $((s - e)) -ge 0 ] && [ $((s - e)) -le "$d" ]
	fi
}

# heartbeats NAME N: N heartbeat exchanges with the manager, 0.5 s apart and
# overlapping (each takes up to 8 s: tls() waits for the server), all must pass
heartbeats() {
	local i good=0 p=()
	for i in $(seq "$2"); do
		tls "$NS_A" 203.0.113.10 4120 & p+=($!)
		sleep 0.5
	done
	for i in "${p[@]}"; do
		wait "$i" && good=$((good + 1))
	done
	fig "$1: $good/$2 heartbeat exchanges"
	[ "$good" = "$2" ]
}
echo_done() { # pid file: echo.py ended well, every line came back
	local rc=0
	wait "$1" || rc=1
	fig "$(basename "$2" .out): $(tail -1 "$2")"
	[ $rc = 0 ] && grep -q 'cut 0$' "$2" && awk '/^lines/ { exit !($2 == $4 && $2 > 0) }' "$2"
}
run_echo() { # seconds interval out
	[ -n "${FAULTS_PCAP:-}" ] && { in_a timeout 40 tcpdump -ni a0 -tt -w "$3.pcap" tcp port 8080 2>/dev/null & sleep 0.5; }
	in_a python3 tests/faults/echo.py 192.0.2.10 8080 "$1" "$2" >"$3" 2>&1
}
# blast seconds pps count out [sockets]
run_blast() { in_a "$BLAST" 192.0.2.10 9 "$3" "$1" "$2" "${5:-8}" >"$4"; }

# --- the faults --------------------------------------------------------------------
fault_kill() {
	local e p s w lost r j
	snap a
	run_echo 7 0.05 "$T/echo-kill.out" & e=$!
	run_blast 6 15000 90000 "$T/blast-kill.out" & p=$!
	sleep 2
	j=$(judged)
	w=$(kqueue | cut -d' ' -f2)
	stop_engine 9
	check faults-kill9-lifeline heartbeats kill9 2
	check faults-kill9-failopen-new-tcp tcp "$NS_A" 192.0.2.10 8080
	wait "$p"
	check faults-kill9-tcp-connection-survives echo_done "$e" "$T/echo-kill.out"
	sleep 0.5
	check faults-kill9-queue-gone test "$(kqueue)" = "0 0 0 0"
	s=$(sent "$T/blast-kill.out")
	r=$(($(rule_pkts) - a_R))
	lost=$((s - ($(egress) - a_E)))
	fig "kill9: datagrams offered $s, left the host $((s - lost)), lost $lost (held in the" \
		"queue at the kill: $w waiting just before); queue rule $r >= offered;" \
		"judged $((j - a_J)) by the last stats before the kill"
	check faults-kill9-account-lost-within-queue test "$lost" -ge 0 -a "$lost" -le "$QMAX" -a "$r" -ge "$s"
}

fault_stop() {
	local e p w t hb
	snap a
	run_echo 13 0.1 "$T/echo-stop.out" & e=$!
	# a SYN held in the stopped engine's queue cannot be sent again (the
	# kernel does not retransmit a packet still in the host): connect first
	wait_for 5 grep -q '^up' "$T/echo-stop.out"
	run_blast 12 3000 36000 "$T/blast-stop.out" & p=$!
	sleep 1
	kill -STOP "$ENGINE_PID"
	sleep 10 & t=$!
	heartbeats stop 4 >"$T/hb-stop.out" & hb=$!
	sleep 3
	w=$(kqueue | cut -d' ' -f2)
	fig "stop: $w packets waiting in the queue after 3 s stopped"
	check faults-stop-queue-full test "$w" = "$QMAX"
	check faults-stop-failopen-new-tcp tcp "$NS_A" 192.0.2.10 8080
	wait "$t"
	kill -CONT "$ENGINE_PID"
	check faults-stop-lifeline wait "$hb"
	wait "$p"
	check faults-stop-tcp-connection-survives echo_done "$e" "$T/echo-stop.out"
	sleep 1
	snap b
	check faults-stop-account account stop "$(sent "$T/blast-stop.out")" open
	check faults-stop-failopen-used test "$F" -gt 0
	check faults-stop-engine-answers ctl status
}

fault_burst() { # open|closed (fail-open yes|no)
	local p=() i n s
	n=$(nproc)
	[ "$n" -lt 2 ] && n=2
	[ "$n" -gt 4 ] && n=4
	snap a
	for i in $(seq "$n"); do
		run_blast 4 0 40000 "$T/blast-burst.$i.out" & p+=($!)
	done
	check "faults-burst-$1-lifeline" heartbeats "burst-$1" 2
	wait "${p[@]}"
	sleep 1
	snap b
	s=$(sent "$T"/blast-burst.*.out)
	check "faults-burst-$1-account" account "burst-$1" "$s" "$1"
	if [ $((F + D)) -gt 0 ]; then
		ok "faults-burst-$1-overflowed"
	else
		echo "ok faults-burst-$1-overflowed # SKIP the engine kept up with $n senders ($s datagrams)"
	fi
	check "faults-burst-$1-engine-answers" ctl status
}

fault_reload() {
	local e p loads=0 bad=0 t0 g0 g1 left
	snap a
	g0=$(grep -c 'generation' "$T/engine.log")
	run_echo 12 0.05 "$T/echo-reload.out" & e=$!
	run_blast 12 2000 24000 "$T/blast-reload.out" & p=$!
	heartbeats reload 2 >/dev/null & local hb=$!
	# one load every 100 ms, or right after the one before when that took longer
	t0=$(ms)
	while [ $(($(ms) - t0)) -lt 10000 ] && [ $loads -lt 100 ]; do
		ctl load "$T/same.pol" >>"$T/loads.out" 2>&1 || bad=$((bad + 1))
		loads=$((loads + 1))
		left=$((t0 + loads * 100 - $(ms)))
		[ "$left" -gt 0 ] && sleep "0.$(printf %03d "$left")"
	done
	check faults-reload-lifeline wait "$hb"
	wait "$p"
	check faults-reload-tcp-connection-not-cut echo_done "$e" "$T/echo-reload.out"
	sleep 1
	snap b
	g1=$(grep -c 'generation' "$T/engine.log")
	fig "reload: $loads loads of the same policy in 10 s (one every 100 ms, or back to back" \
		"when a load takes longer), $bad failed, $((g1 - g0)) generations"
	check faults-reload-loads-ok test "$bad" = 0 -a "$loads" -ge 2 -a $((g1 - g0)) = "$loads"
	check faults-reload-no-false-warning bash -c "! grep -q 'do not pass offload generation' '$T/engine.log'"
	# the queue rule's counters restart with every generation (the chain is
	# rewritten): this account rests on the queue's own id sequence
	check faults-reload-account account reload "$(sent "$T/blast-reload.out")" rewritten
}

# --- set up --------------------------------------------------------------------------
topology || { echo "not ok faults-setup - topology"; exit 0; }
services || { echo "not ok faults-setup - services (see $T/dnsmasq.log)"; exit 0; }
# the outsider swallows the load silently; the agent counts what leaves it
in_o iptables -w -A INPUT -p udp --dport 9 -j DROP
in_a iptables -w -t mangle -A POSTROUTING -o a0 -p udp --dport 9
conf() { # offload yes|no
	cat >"$T/conf.in" <<CONF
manager 203.0.113.10
host 198.51.100.2
queues 0
fail-open yes
offload $1
state-dir $T/state
control-socket $T/control.sock
event-log $T/events.json
CONF
}
cat >"$T/deny.pol" <<'POL'
deny priority 4 in tcp to any port 23 id 1
allow out any id 2
POL
cp "$T/deny.pol" "$T/same.pol"

# offload no: every packet of the load reaches the engine
conf no
check faults-start start_engine yes && fault_kill
check faults-restart start_engine yes && fault_stop
fault_burst open
stop_engine TERM
# fail-open no: a full queue drops, and the kernel counts those drops
check faults-restart-failclosed start_engine no && fault_burst closed
stop_engine TERM
# offload yes (the default): each load bumps the generation, offloaded flows come back to the queue
conf yes
check faults-restart-offload start_engine yes && fault_reload
stop_engine TERM
check faults-term-removes-hooks hooks_gone
[ -n "${KEEP:-}" ] && echo "# logs kept in $T"
exit 0
