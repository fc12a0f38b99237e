#!/bin/bash
# run.sh - live tests: lifelined on NFQUEUE in an agent namespace, with a router
# (smaller-MTU link to the manager), a manager and an outsider. Needs root;
# builds nothing ($B, default build, must hold lifelined). Prints ok/not ok.
# Never touches the machine's own network namespace: every rule, set and
# queue lives in namespaces this script creates and deletes (trap).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/live/lib.sh # B, LLD, LLC, the namespaces; cleanup at exit

if [ "$(id -u)" != 0 ]; then
	echo "not ok live-root - the live tests need root"; exit 0
fi
for c in ip iptables ipset dnsmasq dhclient openssl ncat dig conntrack ethtool; do
	command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || {
		echo "not ok live-tools - $c missing (make deps)"; exit 0; }
done
[ -x "$LLD" ] || { echo "not ok live-build - $LLD missing (make first)"; exit 0; }

queue_without_bypass() {
	in_a iptables -t mangle -S LIFELINE-IN | grep -- '-j NFQUEUE' | grep -vq bypass
}
learned() { grep -q "DNS server" "$T/engine.log" && in_a ipset test lifeline-dns4 198.51.100.1; }
# new flows (one ping each, its own id) judged while SIGHUP swaps snapshots: none lost
swap_no_loss() {
	local good=0 hup
	( for _ in $(seq 25); do kill -HUP "$ENGINE_PID"; sleep 0.05; done ) &
	hup=$!
	for _ in $(seq 40); do
		in_a ping -c 1 -W 2 192.0.2.10 >/dev/null 2>&1 && good=$((good + 1))
	done
	wait "$hup"
	echo "swap: $good/40 answered" >>"$T/check.log"
	[ $good = 40 ] && kill -0 "$ENGINE_PID"
}
# one long echo flow, offloaded under generation 1; a new policy without the
# force-allow (SIGUSR2 reloads STATE_DIR/current.pol) must stop it mid-flow
regen() { regen_count && grep -q "generation 2" "$T/engine.log"; }
regen_count() { # an offloaded echo flow is judged again, and cut, once the policy changes
	local p got
	in_a ping -i 0.2 -c 30 -W 1 192.0.2.10 >"$T/regen.ping" 2>&1 &
	p=$!
	sleep 2
	grep -v force-allow "$T/deny.pol" >"$T/state/current.pol"
	kill -USR2 "$ENGINE_PID"
	wait "$p"
	cp "$T/deny.pol" "$T/state/current.pol"
	kill -USR2 "$ENGINE_PID"
	got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/regen.ping")
	echo "regen: ${got:-?}/30 answered" >>"$T/check.log"
	[ -n "$got" ] && [ "$got" -ge 5 ] && [ "$got" -le 20 ]
}
# a load more than 2 s after the one before, while an offloaded flow runs: the kernel rules
# pass the new generation a moment before the workers take it, and the packets that meet
# that swap come back with the old mark; that is no sign of "another tool" (it was logged)
gen_swap_quiet() {
	local p n rc=0
	n=$(grep -c "do not pass offload generation" "$T/engine.log")
	in_a ping -i 0.01 -c 700 -W 1 192.0.2.10 >/dev/null 2>&1 &
	p=$!
	for _ in 1 2 3; do
		sleep 2.2
		in_a "$LLC" -c "$T/lifeline.conf" load "$T/deny.pol" >/dev/null || rc=1
	done
	wait "$p"
	[ "$(grep -c "do not pass offload generation" "$T/engine.log")" = "$n" ] && [ $rc = 0 ]
}
# another tool puts back lifeline's rules as they were a load ago (iptables-save, load,
# iptables-restore): they pass another offload generation than the engine marks; an offloaded
# flow's packets must not go round between kernel and engine forever, but pass
stale_generation() {
	local rc=0
	in_a iptables-save >"$T/saved.v4" || return 1
	in_a "$LLC" -c "$T/lifeline.conf" load "$T/deny.pol" >/dev/null || return 1
	in_a iptables-restore <"$T/saved.v4" || return 1
	ping_ok 192.0.2.10 || rc=1
	sleep 2.5 # the warning is not for a swap in flight (2 s), this has lasted
	ping_ok 192.0.2.10 || rc=1
	grep -q "do not pass offload generation" "$T/engine.log" || rc=1
	# a load writes the rules of its own generation again
	in_a "$LLC" -c "$T/lifeline.conf" load "$T/deny.pol" >/dev/null || rc=1
	return $rc
}
# a host's own `CONNMARK --restore-mark` in PREROUTING (policy routing) copies an offloaded
# flow's connmark, an older generation once the policy changed, back into its packets' marks:
# they must still go to the queue and be judged again. 60 datagrams of one inbound flow, 10 a
# second, the flow allowed and offloaded, then denied after 2 s: about 20 arrive, not 60.
restore_mark_judged() {
	local got rc
	printf 'allow in udp to any port 5514 id 7\n' >"$T/udpin.pol"
	lctl load "$T/udpin.pol" >/dev/null || return 1
	in_a iptables -w -t mangle -I PREROUTING 1 -j CONNMARK --restore-mark || return 1
	nsbg "$NS_A" timeout 12 python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("198.51.100.2", 5514)); s.settimeout(4)
n = 0
try:
	while True:
		s.recv(100); n += 1
except socket.timeout:
	pass
open("'"$T"'/udpin.count", "w").write("%d\n" % n)'
	sleep 0.5
	nsbg "$NS_O" timeout 10 python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("192.0.2.10", 45514))
for i in range(60):
	s.sendto(b"x", ("198.51.100.2", 5514)); time.sleep(0.1)'
	sleep 2
	lctl load "$T/deny.pol" >/dev/null
	wait_for 12 test -s "$T/udpin.count"
	got=$(cat "$T/udpin.count" 2>/dev/null)
	in_a iptables -w -t mangle -D PREROUTING -j CONNMARK --restore-mark
	echo "restore-mark: ${got:-?}/60 arrived" >>"$T/check.log"
	[ -n "$got" ] && [ "$got" -ge 5 ] && [ "$got" -le 40 ]
}
# daemon mode: the parent returns 0 once the engine is ready, READY=1 reaches
# $NOTIFY_SOCKET, and SIGTERM (fail-open yes) removes the hooks
daemon_mode() {
	local pid p
	python3 - "$T/notify.sock" >"$T/notify.out" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(15)
print(s.recv(100).decode())
PY
	p=$!
	wait_for 5 test -S "$T/notify.sock" || return 1
	sed "s/^fail-open .*/fail-open yes/" "$T/conf.in" >"$T/lifeline.conf"
	NOTIFY_SOCKET=$T/notify.sock timeout 15 ip netns exec "$NS_A" "$LLD" -c "$T/lifeline.conf" \
		-p "$T/deny.pol" 2>>"$T/engine.log" || return 1
	wait "$p"
	grep -q READY=1 "$T/notify.out" || return 1
	hooks_present || return 1
	for p in $(ip netns pids "$NS_A"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = lifelined ] && pid=$p
	done
	[ -n "${pid:-}" ] || return 1
	PIDS+=("$pid")
	kill -TERM "$pid"
	timeout 10 tail --pid="$pid" -f /dev/null
	hooks_gone
}
# a second engine in the namespace is refused before it touches anything: with the same
# config, and with another queue, state directory and socket (which used to rewrite the
# shared rules, then remove them as it stopped), and its -p policy is not persisted
second_engine() { # config
	local rc
	timeout 10 ip netns exec "$NS_A" "$LLD" -f -c "$1" -p "$T/allow.pol" >"$T/second.log" 2>&1
	rc=$?
	cat "$T/second.log" >>"$T/check.log"
	[ $rc = 1 ] && grep -q "another lifelined (pid $ENGINE_PID) runs in this network namespace" "$T/second.log" &&
		hooks_present && kill -0 "$ENGINE_PID" && [ "$(queued)" = "$QUEUED_BEFORE" ] &&
		! grep -q "allow any" "$T/state/current.pol" "$T/state2/current.pol" 2>/dev/null
}
queue_taken() {
	QUEUED_BEFORE=$(queued)
	echo "allow any any id 9" >"$T/allow.pol"
	second_engine "$T/lifeline.conf" || return 1
	sed -e "s/^queues .*/queues 5/" -e "s|^state-dir .*|state-dir $T/state2|" \
		-e "s|^control-socket .*|control-socket $T/control2.sock|" "$T/lifeline.conf" >"$T/second.conf"
	# and again: each asking connection once stayed in the first engine's backlog, and the
	# third start in a row read the full backlog as "not root's lifelined" and ran (ops19)
	for i in 1 2 3; do second_engine "$T/second.conf" || return 1; done
}
# rules flushed by another tool: status says so, not "queue rule installed"; a load puts them back
status_hooks() { in_a "$LLC" -c "$T/lifeline.conf" status | grep -qF "hooks: $HOOKS_BACKEND $1"; }
rules_gone_told() {
	HOOKS_BACKEND=iptables
	in_a nft list table inet lifeline >/dev/null 2>&1 && HOOKS_BACKEND=nft
	status_hooks "(queue rule installed)" || return 1
	# one chain of one family flushed is as bad as all (IPv6 unfiltered, no lifeline there)
	if [ $HOOKS_BACKEND = nft ]; then
		in_a nft flush chain inet lifeline output
	else
		in_a ip6tables -w -t mangle -F LIFELINE-OUT
	fi
	sleep 1.1 # status asks the kernel at most once a second
	status_hooks "(its rules are GONE" || return 1
	in_a "$LLC" -c "$T/lifeline.conf" load "$T/deny.pol" >/dev/null && hooks_present || return 1
	sleep 1.1
	status_hooks "(queue rule installed)" || return 1
	if [ $HOOKS_BACKEND = nft ]; then
		in_a nft delete table inet lifeline
	else
		for fam in iptables ip6tables; do
			in_a $fam -w -t mangle -D INPUT -j LIFELINE-IN
			in_a $fam -w -t mangle -D OUTPUT -j LIFELINE-OUT
			in_a $fam -w -t mangle -F
		done
	fi
	sleep 1.1 # status asks the kernel at most once a second
	status_hooks "(its rules are GONE" &&
		in_a "$LLC" -c "$T/lifeline.conf" status --json | grep -q '"rules":"gone"' &&
		in_a "$LLC" -c "$T/lifeline.conf" load "$T/deny.pol" >/dev/null && hooks_present
}
# managers named in the config are re-resolved every heartbeat-interval into the kernel set
mgr_set() { in_a ipset test lifeline-mgr4 "$1"; }
reresolve() {
	local hosts=/etc/netns/$NS_A/hosts
	echo "203.0.113.10 mgr.lifeline.test" >"$hosts"
	sed -e 's/^manager .*//' -e "s/^fail-open .*/fail-open yes/" "$T/conf.in" >"$T/lifeline.conf"
	printf 'manager mgr.lifeline.test\nmanager 198.51.100.77\nheartbeat-interval 1\n' \
		>>"$T/lifeline.conf"
	ip netns exec "$NS_A" "$LLD" -f -c "$T/lifeline.conf" -p "$T/deny.pol" >>"$T/engine.log" 2>&1 &
	ENGINE_PID=$!
	PIDS+=("$ENGINE_PID")
	disown "$ENGINE_PID" # killed on purpose: no "Killed" report
	wait_for 10 mgr_set 203.0.113.10 || return 1
	# in place (not a new file): the namespace's bind mount keeps showing it
	echo "203.0.113.11 mgr.lifeline.test" >"$hosts"
	wait_for 20 mgr_set 203.0.113.11 && ! mgr_set 203.0.113.10 || return 1
}
# a name that stops resolving (a DNS outage) keeps its addresses, beside a literal manager
names_fail_kept() {
	: >"/etc/netns/$NS_A/hosts"
	# a round ends once the namespace's dead resolver gave up on the name
	wait_for 40 grep -q "manager name(s) did not resolve" "$T/engine.log" || return 1
	mgr_set 203.0.113.11 && mgr_set 198.51.100.77
}
# a reload whose config no longer names the manager drops its addresses (a failing name's too)
names_dropped_on_reload() {
	sed -i 's/^manager mgr.lifeline.test$//' "$T/lifeline.conf"
	kill -HUP "$ENGINE_PID"
	wait_for 30 bash -c "! ip netns exec '$NS_A' ipset test lifeline-mgr4 203.0.113.11 2>/dev/null" &&
		mgr_set 198.51.100.77
}
offloaded() { in_a conntrack -L -p icmp 2>/dev/null | grep -q 'mark=16777216'; }
# engine_with LINES POLICY: lifelined (fail-open yes) with these config lines added, not waiting for ready
engine_with() {
	sed -e "s/^fail-open .*/fail-open yes/" "$T/conf.in" >"$T/lifeline.conf"
	printf '%b' "$1" >>"$T/lifeline.conf"
	ip netns exec "$NS_A" "$LLD" -f -c "$T/lifeline.conf" -p "$2" >>"$T/engine.log" 2>&1 &
	ENGINE_PID=$!
	PIDS+=("$ENGINE_PID")
	disown "$ENGINE_PID"
}
# a refused connection to the manager is no heartbeat, nor is a bare handshake: neither may make management
# online (nothing listens on the heartbeat port 4121 this engine is given, then a listener that says nothing)
hb_status() { in_a "$LLC" -c "$T/lifeline.conf" status | grep -q "^heartbeat: .*, $1$"; }
refused_stays_offline() {
	local i before
	before=$(grep -c "management online" "$T/engine.log")
	engine_with 'heartbeat-port 4121\nheartbeat-interval 1\nmissed-heartbeats 1\n' "$T/deny.pol"
	wait_for 10 hb_status offline || return 1
	# the engine judges every 5 s: refused connections for 7 s span one of its ticks
	for i in $(seq 20); do
		# refused, not timed out: the manager's RST comes back (and reaches the engine's watch)
		in_a ncat -v -z -w 1 203.0.113.10 4121 2>&1 | grep -q 'Connection refused' || return 1
		sleep 0.35
	done
	# a port probe that is answered (`lifelinectl doctor`, a scanner) but carries no data
	nsbg "$NS_M" ncat -l -k 203.0.113.10 4121 </dev/null
	wait_for 5 in_a ncat -z -w 1 203.0.113.10 4121 || return 1
	for i in $(seq 20); do
		in_a ncat -z -w 1 203.0.113.10 4121 || return 1
		sleep 0.35
	done
	hb_status offline && [ "$(grep -c "management online" "$T/engine.log")" = "$before" ]
}
# status computes the missed count when asked, not on the engine's 5 s tick: over 10 s
# after one exchange, "N s ago" and "missed M" (1 s interval) never drift apart
status_fresh() {
	local i line ago missed
	engine_with 'heartbeat-interval 1\nmissed-heartbeats 60\n' "$T/deny.pol"
	wait_for 10 in_a "$LLC" -c "$T/lifeline.conf" status >/dev/null || return 1
	tls "$NS_A" 203.0.113.10 4120 || return 1
	wait_for 5 hb_status online || return 1
	for i in $(seq 10); do
		line=$(in_a "$LLC" -c "$T/lifeline.conf" status | grep '^heartbeat: last seen') || return 1
		ago=$(sed -n 's/.*(\([0-9]*\) s ago).*/\1/p' <<<"$line")
		missed=$(sed -n 's/.*missed \([0-9]*\),.*/\1/p' <<<"$line")
		[ -n "$ago" ] && [ -n "$missed" ] || return 1
		[ $((ago - missed)) -le 1 ] && [ $((missed - ago)) -le 1 ] || { echo "# $line"; return 1; }
		sleep 1
	done
}

# a flood the workers cannot keep up with (each datagram through a costly pcre) must not hold
# a policy swap or the stop until it ends: both finish while the flood still runs (at most 20 s)
FLOOD_PID=
flood_lasts() { [ -n "$FLOOD_PID" ] && kill -0 "$FLOOD_PID" 2>/dev/null; }
queue_full() { # some kernel queue holds 500 packets or more for the engine
	in_a "$LLC" -c "$T/lifeline.conf" stats 2>/dev/null |
		grep -Eq 'kernel queue [0-9]+: waiting ([5-9][0-9]{2}|[0-9]{4,})'
}
flood_swaps() {
	local rc=0 t0
	local i
	printf 'allow in any id 1\nallow out any id 2\n' >"$T/flood.pol"
	for i in $(seq 100 499); do
		echo "alert udp any any -> any any (msg:\"costly\"; pcre:\"/(.*){1,20}[xyz]{3}Q$i/s\"; sid:$i;)"
	done >>"$T/flood.pol"
	start_engine yes || return 1
	in_a "$LLC" -c "$T/lifeline.conf" load "$T/flood.pol" >/dev/null || return 1
	# 40 s at most, killed as soon as the checks are done: on a busy machine the wait for a
	# full queue, the load and the stop can together outlast a shorter flood
	ip netns exec "$NS_O" timeout 40 python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + 40
while time.time() < end:
	for i in range(1000):
		s.sendto(b"x" * 512, ("198.51.100.2", 9))' 2>/dev/null &
	FLOOD_PID=$!
	PIDS+=("$FLOOD_PID")
	t0=$SECONDS
	if ! wait_for 8 queue_full; then
		echo "# the engine kept up with the flood: nothing to wait for"
		rc=2
	elif ! in_a "$LLC" -c "$T/lifeline.conf" load "$T/deny.pol"; then
		echo "# the load during the flood failed"
		rc=1
	elif ! flood_lasts; then
		echo "# load returned only once the flood had ended ($((SECONDS - t0)) s after the flood started)"
		rc=1
	else
		stop_engine TERM
		if kill -0 "$ENGINE_PID" 2>/dev/null; then
			echo "# SIGTERM did not stop the engine within stop_engine's wait"
			rc=1
		elif ! flood_lasts; then
			echo "# the engine stopped only once the flood had ended ($((SECONDS - t0)) s after the flood started)"
			rc=1
		fi
	fi
	kill "$FLOOD_PID" 2>/dev/null
	stop_engine 9
	return $rc
}

# a SIGHUP (logrotate's reload) during a long start-up compile waits for the event loop: it
# must not kill the engine (100,000 rules take about a second to load and compile)
hup_during_start() {
	local before
	python3 -c 'import sys
for i in range(100000):
	sys.stdout.write("deny in tcp from 10.%d.%d.0/24 to any port %d id %d\n" % (i >> 8 & 255, i & 255, 1 + i % 60000, i + 10))' >"$T/big.pol"
	before=$(grep -c ready "$T/engine.log")
	engine_with '' "$T/big.pol"
	sleep 0.3
	kill -HUP "$ENGINE_PID" || return 1
	wait_for 30 ready_after "$before" && sleep 1 && kill -0 "$ENGINE_PID"
}

# --- set up --------------------------------------------------------------
topology || { echo "not ok live-setup - topology"; exit 0; }
services || { echo "not ok live-setup - services (see $T/dnsmasq.log)"; exit 0; }
cat >"$T/conf.in" <<CONF
manager 203.0.113.10
manager 2001:db8:2::10
host 198.51.100.2
host 2001:db8:1::2
queues 0-1
fail-open yes
state-dir $T/state
control-socket $T/control.sock
event-log $T/events.json
CONF
cat >"$T/deny.pol" <<'POL'
# everything denied both ways, but outgoing echo requests
deny priority 4 in any id 1
deny priority 4 out any id 2
force-allow priority 4 out icmp type echo-request id 3
force-allow priority 4 out icmp6 type echo-request id 4
POL
# the test bed works without the engine, so a failure below is the engine's
check live-setup-tcp tcp "$NS_A" 192.0.2.10 8080
check live-setup-tcp-in tcp "$NS_O" 198.51.100.2 4119
check live-setup-dns-other dns "$NS_A" 192.0.2.10

# --- fail-open yes ---------------------------------------------------------
check live-start start_engine yes
check live-hooks-installed hooks_present
# both families' manager sets hold the managers: the kernel lifeline passes the IPv6
# heartbeat too while the engine is down (nft sets, or ipsets on the iptables backend)
mgr_sets() {
	if in_a nft list table inet lifeline >/dev/null 2>&1; then
		in_a nft get element inet lifeline mgr4 '{ 203.0.113.10 }' &&
			in_a nft get element inet lifeline mgr6 '{ 2001:db8:2::10 }'
	else
		in_a ipset test lifeline-mgr4 203.0.113.10 && in_a ipset test lifeline-mgr6 2001:db8:2::10
	fi
}
check live-manager-sets-both-families mgr_sets
check live-heartbeat-out tls "$NS_A" 203.0.113.10 4120
check live-heartbeat-in tls "$NS_M" 198.51.100.2 4118
check live-heartbeat-out6 tls "$NS_A" [2001:db8:2::10] 4120
check live-heartbeat-in6 tls "$NS_M" [2001:db8:1::2] 4118
check live-dhcp-lease lease
check live-dns-learned wait_for 5 learned
# the resolver the agent already used (its resolv.conf) is in the DNS lifeline from the start
check live-dns-resolv-conf bash -c "ip netns exec '$NS_A' '$LLC' -c '$T/lifeline.conf' status | grep -q 'dns:.* 203.0.113.53 (resolv.conf)'"
check live-dns-learned-resolves dns "$NS_A" 198.51.100.1
check_fails live-dns-other-blocked dns "$NS_A" 192.0.2.10
# from port 53 of a DNS server's address (the resolv.conf one, on the manager's link here),
# unasked: ordinary traffic, which the deny policy drops (it reached any port before)
in_m ip addr add 203.0.113.53/24 dev m0 2>/dev/null
check_fails live-dns-server-port53-unasked-blocked \
	timeout 6 ip netns exec "$NS_M" ncat -z -w 3 -s 203.0.113.53 -p 53 198.51.100.2 4119
check live-icmp-frag-needed pmtu 203.0.113.10
check live-icmp6-packet-too-big pmtu -6 2001:db8:2::10
check_fails live-tcp-out-blocked tcp "$NS_A" 192.0.2.10 8080
check_fails live-tcp-in-blocked tcp "$NS_O" 198.51.100.2 4119
check live-echo-force-allowed ping_ok 192.0.2.10
check live-echo-offloaded offloaded
check live-flows-offloaded-marked bash -c "ip netns exec '$NS_A' '$LLC' -c '$T/lifeline.conf' flows out icmp | grep -q 'rule 3 offloaded'"
check live-offload-new-generation regen
check live-echo-after-reload wait_for 5 ping_ok 192.0.2.10
check live-offload-swap-no-false-warning gen_swap_quiet
check live-offload-stale-generation-passes stale_generation
# the host's own filter rules still apply to what lifeline accepts (here an offloaded echo
# flow): the engine's chains are in the mangle table, whose accept ends only that table
user_rule_applies() {
	local rc
	in_a iptables -w -A OUTPUT -p icmp --icmp-type echo-request -j DROP || return 1
	ping_ok 192.0.2.10
	rc=$?
	in_a iptables -w -D OUTPUT -p icmp --icmp-type echo-request -j DROP
	[ $rc != 0 ] && ping_ok 192.0.2.10
}
check live-host-filter-rules-apply user_rule_applies
# a packet the engine offloads leaves lifeline's chains with the mark it came with, not the
# offload generation: the host's exact-mark rules (and `ip rule fwmark`, wg-quick's
# `not fwmark 51820`) see the first packet of each flow too, not only the ones after it
offload_mark_kept() {
	local n
	in_a iptables -w -A OUTPUT -p icmp --icmp-type echo-request -m mark --mark 0x1 || return 1
	in_a ping -q -c 3 -i 0.2 -W 1 -m 1 192.0.2.10 >/dev/null # -m: SO_MARK 0x1, a new echo flow
	n=$(in_a iptables -w -L OUTPUT -v -n -x | awk '/mark match 0x1$/ { print $1 }')
	in_a iptables -w -D OUTPUT -p icmp --icmp-type echo-request -m mark --mark 0x1
	echo "# host's exact-mark rule counted ${n:-none} of 3 echo requests"
	[ "$n" = 3 ]
}
check live-offload-mark-kept offload_mark_kept
# another tool's flush of LIFELINE-SAVE leaves lifeline's bits on the packets the engine passes
# and sends offloaded flows through it again: doctor says so (rev22 F3), and a load puts it back
save_flush_told() {
	in_a iptables -w -t mangle -F LIFELINE-SAVE || return 1
	in_a "$LLC" -c "$T/lifeline.conf" doctor >"$T/doctor-save.out" 2>&1
	grep -q '^warn  kernel rules .*chain LIFELINE-SAVE (mangle) is flushed' "$T/doctor-save.out" ||
		{ grep 'kernel rules' "$T/doctor-save.out"; return 1; }
	kill -USR2 "$ENGINE_PID" # a load: the next generation's rules
	wait_for 10 bash -c "ip netns exec '$NS_A' iptables -w -t mangle -S LIFELINE-SAVE | grep -q CONNMARK" ||
		{ echo "# the load did not put LIFELINE-SAVE back"; return 1; }
	in_a "$LLC" -c "$T/lifeline.conf" doctor 2>&1 | grep -q 'LIFELINE-SAVE' && return 1
	return 0
}
check live-doctor-save-flushed save_flush_told
# a stopped engine's socket buffer fills (16 MiB: some 250 datagrams of 60 KB, well short of
# the 4096 the queue holds) and fail-open passes the rest unjudged, which the kernel counts
# nowhere: stats must (gaps in the packet ids, seen once the next packet comes)
undelivered_counted() {
	local n
	kill -STOP "$ENGINE_PID" || return 1
	ip netns exec "$NS_O" timeout 20 python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.10", 40999))
for i in range(400):
	s.sendto(b"x" * 60000, ("198.51.100.2", 9))
	if i % 50 == 0:
		time.sleep(0.05)'
	kill -CONT "$ENGINE_PID"
	sleep 1
	# the gap shows when the next packet of that queue comes: one more of the same flow
	ip netns exec "$NS_O" python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.10", 40999))
s.sendto(b"x", ("198.51.100.2", 9))'
	sleep 1
	n=$(in_a "$LLC" -c "$T/lifeline.conf" stats --json |
		python3 -c 'import json, sys; print(sum(q.get("undelivered", 0) for q in json.load(sys.stdin)["queues"]))')
	echo "undelivered: ${n:-?}" >>"$T/check.log"
	[ -n "$n" ] && [ "$n" -gt 0 ]
}
check live-fail-open-undelivered-counted undelivered_counted
check live-second-engine-refused queue_taken
check live-rules-flushed-told rules_gone_told
check live-sighup-swap-no-loss swap_no_loss
check live-event-ready grep -q '"event_type":"ready"' "$T/events.json"
check live-event-drop grep -q '"event_type":"drop"' "$T/events.json"
GEN_BEFORE=$(cat "$T/state/offload-gen" 2>/dev/null)
stop_engine 9
check live-failopen-yes-kill9-tcp tcp "$NS_A" 192.0.2.10 8080
check live-failopen-yes-kill9-heartbeat tls "$NS_A" 203.0.113.10 4120
# any user can bind the abstract name that tells a second engine: a squatter must not keep
# the filter from starting (the engine starts without that check and says so) ...
nsbg "$NS_A" setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c \
	'import socket,time; s=socket.socket(socket.AF_UNIX); s.bind("\0lifelined-engine"); s.listen(1); time.sleep(120)'
wait_for 5 bash -c "ip netns exec '$NS_A' ss -xl | grep -q '@lifelined-engine'"
check live-restart-over-hooks start_engine yes
check live-squatter-no-lockout grep -q "held by a process that is not root's lifelined" "$T/engine.log"
# ... and the state directory's lock still refuses a second engine with the same config
state_locked() {
	timeout 10 ip netns exec "$NS_A" "$LLD" -f -c "$T/lifeline.conf" >"$T/second.log" 2>&1
	[ $? = 1 ] && grep -q "another lifelined (pid $ENGINE_PID) runs with the state directory" \
		"$T/second.log" && hooks_present
}
check live-second-engine-state-locked state_locked
# the connmarks of the flows it offloaded outlive an engine: the next one goes on from its
# generation instead of taking 1 again (an old flow marked 1 would pass unjudged)
check live-restart-next-generation test "$(cat "$T/state/offload-gen")" = "$((GEN_BEFORE + 1))"
# the DNS server learned from DHCP before the kill came back from the state directory
check live-dns-learned-persisted bash -c "ip netns exec '$NS_A' '$LLC' -c '$T/lifeline.conf' status | grep -q 'dns:.* 198.51.100.1 (learned)'"
check_fails live-restart-tcp-blocked tcp "$NS_A" 192.0.2.10 8080

# --- IPS on live traffic; a heartbeat does not confirm a load -----------------
cat >"$T/ips.pol" <<'POL'
allow out tcp to any port 8080 id 5
allow out udp to 192.0.2.10 port 53 id 6
reject tcp any any -> any 8080 (msg:"evil"; flow:to_server,established; content:"EVIL"; sid:10;)
alert tcp any any -> any 8080 (msg:"seen"; flow:to_server,established; content:"HELLO"; sid:11;)
reject udp any any -> 192.0.2.10 53 (msg:"dns"; content:"|07|blocked|04|test"; nocase; sid:12;)
allow out tcp to any port 5201 id 8
POL
lctl() { ip netns exec "$NS_A" "$LLC" -c "$T/lifeline.conf" "$@"; }
# say WORD: one line to the outsider's echo service; its answer on stdout, errors after
say() { (printf '%s\n' "$1"; sleep 1) | timeout 6 ip netns exec "$NS_A" ncat -w 3 192.0.2.10 8080 2>&1; }
said_back() { say "$1" | grep -qx "$1"; }
check live-ips-load lctl load "$T/ips.pol"
check live-ips-alert-passes said_back HELLO
check live-ips-alert-event wait_for 5 grep -q '"event_type":"alert".*"signature_id":11' "$T/events.json"
# reject: the payload never arrives, and the agent's own socket is reset (Suricata's reject-src)
say EVIL >"$T/evil.out"
check_fails live-ips-reject-blocked grep -qx EVIL "$T/evil.out"
check live-ips-reject-rst grep -qi "reset" "$T/evil.out"
check live-ips-reject-event wait_for 5 grep -q '"signature_id":10' "$T/events.json"
# a flush of the filter table takes the reject jump: the security-table backstop still drops
# what the engine marked for a reject (no answer then), rather than let it through
backstop_drops() {
	local rej='-m mark --mark 0x7f000000/0x7f000000 -j LIFELINE-REJECT-OUT' rc
	in_a iptables -w -t filter -D OUTPUT $rej || return 1
	say EVIL >"$T/evil2.out"
	! grep -qx EVIL "$T/evil2.out"
	rc=$?
	in_a iptables -w -t filter -I OUTPUT 1 $rej
	return $rc
}
check live-ips-reject-backstop-drops backstop_drops
# the real engine's counters and flow table say the same
lctl stats >"$T/stats.out" 2>&1
check live-stats-reason-reject grep -Eq '^  reject +[1-9]' "$T/stats.out"
check live-stats-rule-5 grep -Eq '^  id 5 +[1-9]' "$T/stats.out"
lctl flows out tcp 192.0.2.10 >"$T/flows.out" 2>&1
check live-flows-listed grep -Eq -- '-> 192\.0\.2\.10:8080 accept allow rule 5' "$T/flows.out"
check live-flows-rejected grep -Eq -- '-> 192\.0\.2\.10:8080 drop reject rule 10' "$T/flows.out"
# an incoming connection's first packet rejected: the kernel's RST carries that connection's
# unconfirmed conntrack, which the queue drops (nf_ct_drop_unconfirmed()); it must reach the
# client, which is refused at once rather than left to time out (IPv4 and IPv6)
cat "$T/ips.pol" - >"$T/ips-in.pol" <<'POL'
allow in tcp to any port 4119 id 9
reject tcp any any -> any 4119 (msg:"in"; sid:13;)
POL
refused_in() {
	ip netns exec "$NS_O" timeout 6 ncat -w 4 "$1" 4119 </dev/null 2>&1 | grep -qi refused
}
check live-ips-reject-in-load lctl load "$T/ips-in.pol"
check live-ips-reject-in-rst refused_in 198.51.100.2
check live-ips-reject-in-rst6 refused_in 2001:db8:1::2
lctl load "$T/ips.pol" >/dev/null
# the largest UDP datagram: the kernel copies 65,531 of its 65,535 bytes to the queue, and
# the engine judges what it has (rule 6) instead of calling it malformed; sid 12 inspects
# this flow, so the datagram itself is dropped as ips-cut (its last 4 bytes would pass
# unseen) while the flow stays accepted (code24 F1)
big_udp() {
	in_a python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.2", 40999)); s.sendto(b"x" * 65507, ("192.0.2.10", 53))' || return 1
	wait_for 5 bash -c "ip netns exec '$NS_A' '$LLC' -c '$T/lifeline.conf' flows out udp 198.51.100.2:40999 |
		grep -q 'accept allow rule 6 .*bytes 65535/0'"
}
check live-udp-65535-judged big_udp
# Linux BIG TCP: with GSO past 64 KiB on its link, the agent's stack hands OUTPUT IPv6
# jumbograms (payload length 0, a hop-by-hop Jumbo Payload option); with offload no every
# packet of a flow comes to the engine. 16 MiB over such a link, and no packet dropped as
# malformed (every super-packet was, as bad-exthdr, and the transfer crawled at ~20 Mbit/s).
# (In a flow the IPS inspects, a super-packet the queue cut at 64 KiB is dropped, ips-cut:
# unit test_ips_cut_super_packet.)
malformed() { lctl stats | awk '$1 == "sanity" { n = $2 } END { print n + 0 }'; }
reload_with() { # sed expression for the config: SIGHUP, wait until it is applied
	local n
	n=$(grep -c 'applied' "$T/engine.log")
	sed -i "$1" "$T/lifeline.conf"
	kill -HUP "$ENGINE_PID"
	wait_for 10 bash -c "[ \$(grep -c applied '$T/engine.log') -gt $n ]"
}
big_tcp() {
	local before rc=0
	reload_with '$a offload no' || return 1
	before=$(malformed)
	nsbg "$NS_O" timeout 20 ncat -l 2001:db8:3::10 5201 --recv-only </dev/null >/dev/null 2>&1
	wait_for 5 listening "$NS_O" t 5201 || return 1
	in_a timeout 15 python3 -c 'import socket; s = socket.create_connection(("2001:db8:3::10", 5201))
b = b"x" * (1 << 20)
for _ in range(16): s.sendall(b)
s.close()' || rc=1
	echo "big tcp: malformed $before -> $(malformed)" >>"$T/check.log"
	[ $rc = 0 ] && [ "$(malformed)" = "$before" ] || rc=1
	reload_with '/^offload no$/d' || rc=1
	return $rc
}
if in_a ip link set a0 gso_max_size 185000 gro_max_size 185000 2>/dev/null; then
	check live-big-tcp-judged big_tcp
	in_a ip link set a0 gso_max_size 65536 gro_max_size 65536
else
	echo "ok live-big-tcp-judged # SKIP no BIG TCP here (gso_max_size past 64 KiB)"
fi
# max-flows sized the workers' tables at start: a SIGHUP that changes it says so, and stats
# keeps showing the bound the tables really have (it showed the new one, with more flows
# active than the "bound")
flows_bound() { lctl stats | sed -n 's/^flows: [0-9]* active of \([0-9]*\),.*/\1/p'; }
max_flows_at_restart() {
	local before rc=0
	before=$(flows_bound)
	[ -n "$before" ] || return 1
	reload_with '$a max-flows 10' || return 1
	grep -q 'max-flows change at the next restart' "$T/engine.log" || rc=1
	[ "$(flows_bound)" = "$before" ] || { echo "bound $before -> $(flows_bound)"; rc=1; }
	reload_with '/^max-flows 10$/d' || rc=1
	return $rc
}
check live-max-flows-at-restart max_flows_at_restart
# UDP: an ICMP port unreachable, which dig reports at once as refused (no 2 s timeout)
check live-ips-udp-other-passes dns "$NS_A" 192.0.2.10
timeout 6 ip netns exec "$NS_A" dig +time=2 +tries=1 @192.0.2.10 blocked.test A >"$T/dig.out" 2>&1
check live-ips-reject-udp-unreachable grep -qi "refused" "$T/dig.out"
# $HOME_NET is the host's addresses (SPEC 4): the interfaces' too, as they come and go, not
# only the config's host lines. An address added after the load is in it once the engine has
# compiled the policy again.
cat >"$T/home.pol" <<'POL'
allow out tcp to any port 8080 id 5
alert tcp $HOME_NET any -> any 8080 (msg:"from home"; flow:to_server,established; content:"HOMEHELLO"; sid:21;)
POL
said_from() { # source address
	(printf 'HOMEHELLO\n'; sleep 1) | timeout 6 ip netns exec "$NS_A" ncat -s "$1" -w 3 192.0.2.10 8080 |
		grep -qx HOMEHELLO
}
home_alert() { grep '"signature_id":21' "$T/events.json" | grep -q "\"src_ip\":\"$1\""; }
recompiled() { [ "$(grep -c 'compiled again' "$T/engine.log")" -gt "$1" ]; }
check live-home-net-load lctl load "$T/home.pol"
before=$(grep -c 'compiled again' "$T/engine.log")
in_a ip addr add 198.51.100.9/24 dev a0
check live-home-net-recompiled wait_for 5 recompiled "$before"
check live-home-net-new-address-passes said_from 198.51.100.9
check live-home-net-new-address-alert wait_for 5 home_alert 198.51.100.9
# a link-local address (every container's veth brings one) is no home network: no compile
before=$(grep -c 'compiled again' "$T/engine.log")
in_a ip addr add fe80::99/64 dev a0
sleep 2.5 # the engine waits for 1 s without changes before it compiles
check_fails live-home-net-link-local-ignored recompiled "$before"
in_a ip addr del fe80::99/64 dev a0
in_a ip addr del 198.51.100.9/24 dev a0
# --- IPS: the bytes the host keeps (insertion) ------------------------------------------------
# A raw client in the outsider sends "GET ", a decoy "XXXX" with a wrong TCP checksum, then
# "EVIL" in its place. With rx checksumming off on a0 the kernel has not verified the decoy
# when it queues it (NFQUEUE's CSUM_NOTVERIFIED), and drops it after: the agent reads
# "GET EVIL". The stream kept the decoy and never matched; it must see what the host sees.
cat >"$T/insert.pol" <<'POL'
allow in tcp to any port 8099 id 31
drop tcp any any -> $HOME_NET 8099 (msg:"split"; flow:to_server; content:"GET EVIL"; sid:31;)
POL
cat >"$T/listen.py" <<'PY'
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.2", 8099))
s.listen(1)
c, _ = s.accept()
c.settimeout(2)
got = b""
try:
    while True:
        d = c.recv(100)
        if not d:
            break
        got += d
except OSError:
    pass
print(got)
PY
insertion_seen() {
	local rc=1 lpid rst='-p tcp --tcp-flags RST RST -d 198.51.100.2 -j DROP'
	lctl load "$T/insert.pol" >/dev/null || return 1
	in_a ethtool -K a0 rx off >/dev/null || { echo "cannot switch rx checksumming off"; return 1; }
	in_o iptables -w -I OUTPUT $rst # the raw client's kernel has no socket for the SYN-ACK
	timeout 10 ip netns exec "$NS_A" python3 "$T/listen.py" >"$T/insert.got" 2>&1 &
	lpid=$!
	sleep 0.3
	in_o python3 tests/live/insert_client.py 192.0.2.10 198.51.100.2 8099 >"$T/insert.out" 2>&1
	wait "$lpid"
	if ! grep -q "GET EVIL" "$T/insert.got" &&
		wait_for 5 grep -q '"signature_id":31' "$T/events.json"; then
		rc=0
	else
		echo "the agent read: $(cat "$T/insert.got"); the client: $(cat "$T/insert.out")"
	fi
	in_o iptables -w -D OUTPUT $rst
	in_a ethtool -K a0 rx on >/dev/null
	return $rc
}
check live-ips-insertion-bad-checksum-seen insertion_seen
lctl load "$T/ips.pol" >/dev/null
# the heartbeat keeps flowing under a deny-all load with --confirm, yet does not confirm it
lctl load --confirm 3 "$T/deny.pol" >/dev/null 2>&1
check live-confirm-heartbeat-flows tls "$NS_A" 203.0.113.10 4120
check live-confirm-heartbeat-not-confirm wait_for 10 grep -q "rolled back (not confirmed in time)" "$T/engine.log"
check live-confirm-rolled-back-ips said_back HELLO
check live-offload-restore-mark-judged-again restore_mark_judged
stop_engine TERM
check live-failopen-yes-term-removes-hooks hooks_gone
check live-failopen-yes-term-tcp tcp "$NS_A" 192.0.2.10 8080

# --- fail-open no ----------------------------------------------------------
check live-failclosed-start start_engine no
check live-failclosed-no-bypass queue_without_bypass
stop_engine 9
check live-failclosed-kill9-heartbeat-out tls "$NS_A" 203.0.113.10 4120
check live-failclosed-kill9-heartbeat-in tls "$NS_M" 198.51.100.2 4118
check live-failclosed-kill9-dns dns "$NS_A" 198.51.100.1
check_fails live-failclosed-kill9-tcp-blocked tcp "$NS_A" 192.0.2.10 8080
check_fails live-failclosed-kill9-echo-blocked ping_ok 192.0.2.10
check live-failclosed-restart-persisted start_engine no nopolicy
check_fails live-persisted-policy-tcp-blocked tcp "$NS_A" 192.0.2.10 8080
check live-persisted-policy-echo-allowed ping_ok 192.0.2.10
stop_engine TERM
check live-failclosed-term-keeps-hooks hooks_present
check live-failclosed-term-heartbeat tls "$NS_A" 203.0.113.10 4120
check_fails live-failclosed-term-tcp-blocked tcp "$NS_A" 192.0.2.10 8080

# --- daemon mode -------------------------------------------------------------
check live-daemon-ready-notify-term daemon_mode
check live-manager-names-reresolved reresolve
check live-manager-name-failing-kept names_fail_kept
check live-manager-name-dropped-on-reload names_dropped_on_reload
stop_engine TERM
check live-heartbeat-refused-stays-offline refused_stays_offline
stop_engine TERM
check live-heartbeat-status-fresh status_fresh
stop_engine TERM
# a full flow table says so in the log (once a minute at most), not only in stats: 20
# flows through tables of 4 push some out
table_full_told() {
	engine_with 'max-flows 4\n' "$T/deny.pol"
	wait_for 10 in_a "$LLC" -c "$T/lifeline.conf" status >/dev/null || return 1
	in_a python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for port in range(2000, 2020):
	try:
		s.sendto(b"x", ("192.0.2.10", port))
	except OSError:
		pass  # dropped by the deny-all policy: EPERM' || return 1
	wait_for 12 grep -q "flow table full: [0-9]* flow(s) evicted since the start (max-flows 4 a worker)" \
		"$T/engine.log"
}
check live-flow-table-full-told table_full_told
stop_engine TERM
check live-hup-during-start-survives hup_during_start
stop_engine TERM
flood_swaps >>"$T/check.log" 2>&1
case $? in
0) ok live-flood-load-and-stop-not-held ;;
2) ok "live-flood-load-and-stop-not-held # SKIP the engine kept up with the flood" ;;
*) nok live-flood-load-and-stop-not-held "flood_swaps: $(grep '^# ' "$T/check.log" | tail -1)" ;;
esac

# --- a bridged guest's DHCP exchange is not the host's ----------------------------
# A guest behind the host's bridge asks for a lease and answers itself: the DNS server it
# names must not be learned (the request leaves the bridge port, not the host); the host's
# own exchange still is. Namespaces of their own: an agent with br0, a LAN, a guest.
BR_A=lllive-$ID-bragent BR_L=lllive-$ID-brlan BR_G=lllive-$ID-brguest
bridge_guest() {
	local n ep
	ns_add "$BR_A" "$BR_L" "$BR_G" || return 1
	ip -n "$BR_A" link add br0 type bridge && ip -n "$BR_A" link set br0 up || return 1
	veth "$BR_A" p0 "$BR_L" l0 1500 && veth "$BR_A" p1 "$BR_G" g0 1500 || return 1
	ip -n "$BR_A" link set p0 master br0 && ip -n "$BR_A" link set p1 master br0 || return 1
	ns_addr "$BR_A" br0 198.51.100.2/24
	ns_addr "$BR_L" l0 198.51.100.1/24
	ns_addr "$BR_G" g0 198.51.100.66/24
	for n in "$BR_A:br0" "$BR_L:l0" "$BR_G:g0"; do ip -n "${n%%:*}" route add default dev "${n#*:}"; done
	mkdir -p "$T/br"
	printf 'state-dir %s/br/state\ncontrol-socket %s/br/c.sock\nevent-log %s/br/events.json\nhost 198.51.100.2\n' \
		"$T" "$T" "$T" >"$T/br/ll.conf"
	ip netns exec "$BR_A" "$LLD" -f -c "$T/br/ll.conf" >"$T/br/engine.log" 2>&1 &
	ep=$!
	PIDS+=("$ep")
	wait_for 10 grep -q ready "$T/br/engine.log" || return 1
	# first a reply that answers nothing: through this fresh bridge the first broadcast from a
	# port did not reach the host in trials (on a plain veth it does), and it is not under test
	nsx "$BR_L" python3 tests/live/dhcp_msg.py ack 1111 192.0.2.11 && sleep 1 || return 1
	nsx "$BR_G" python3 tests/live/dhcp_msg.py request 7777 &&
		nsx "$BR_G" python3 tests/live/dhcp_msg.py ack 7777 192.0.2.77 || return 1
	# the same from a guest that took the bridge port's own hardware address
	ip -n "$BR_G" link set g0 address "$(ip -n "$BR_A" -br link show p0 | awk '{ print $3 }')" ||
		return 1
	nsx "$BR_G" python3 tests/live/dhcp_msg.py request 7778 &&
		nsx "$BR_G" python3 tests/live/dhcp_msg.py ack 7778 192.0.2.78 || return 1
	sleep 1.5
	ip netns exec "$BR_A" "$LLC" -c "$T/br/ll.conf" status >"$T/br/status.out" 2>&1
	nsx "$BR_A" python3 tests/live/dhcp_msg.py request 8888 &&
		nsx "$BR_L" python3 tests/live/dhcp_msg.py ack 8888 192.0.2.88 || return 1
	wait_for 5 bash -c "ip netns exec '$BR_A' '$LLC' -c '$T/br/ll.conf' status | grep -q '192.0.2.88 (learned)'"
	n=$?
	kill "$ep"
	[ "$n" = 0 ] && grep -q '^dns:' "$T/br/status.out" && ! grep -q '192.0.2.7[78]' "$T/br/status.out"
}
check live-dhcp-bridged-guest-not-learned bridge_guest
# --- DHCPv4 replies as the client reads them --------------------------------------
# Clients read DHCPv4 replies from packet sockets: an ACK unicast to the address it offers (RFC
# 2131 4.1, for a client without the broadcast flag, as dhclient) reaches the client while the
# host does not own that address, so the stack drops it before the input hook; an ACK in IPv4
# fragments is reassembled before that hook, and the clients' filters drop fragments.
DR_A=lllive-$ID-dragent DR_L=lllive-$ID-drlan
dr_learned() { # address: in the engine's status as learned
	ip netns exec "$DR_A" "$LLC" -c "$T/dr/ll.conf" status | grep -q "dns:.* $1 (learned)"
}
dhcp_as_read_setup() {
	ns_add "$DR_A" "$DR_L" || return 1
	veth "$DR_A" d0 "$DR_L" l0 1500 02:00:00:00:0d:02 02:00:00:00:0d:01 || return 1
	ns_addr "$DR_A" d0 198.51.100.2/24
	ns_addr "$DR_L" l0 198.51.100.1/24
	ip -n "$DR_A" route add default dev d0 && ip -n "$DR_L" route add default dev l0 || return 1
	mkdir -p "$T/dr"
	printf 'state-dir %s/dr/state\ncontrol-socket %s/dr/c.sock\nevent-log %s/dr/events.json\nhost 198.51.100.2\n' \
		"$T" "$T" "$T" >"$T/dr/ll.conf"
	nsbg "$DR_A" "$LLD" -f -c "$T/dr/ll.conf" >"$T/dr/engine.log" 2>&1
	wait_for 10 grep -q ready "$T/dr/engine.log"
}
dhcp_as_read() { # frag|unicast
	if [ "$1" = frag ]; then
		# the fragmented ACK comes first and names 192.0.2.91: the client never reads it
		nsx "$DR_A" python3 tests/live/dhcp_msg.py request 9191 &&
			nsx "$DR_L" python3 tests/live/dhcp_msg.py ack 9191 192.0.2.91 frag &&
			nsx "$DR_L" python3 tests/live/dhcp_msg.py ack 9191 192.0.2.92 || return 1
		wait_for 5 dr_learned 192.0.2.92 && ! dr_learned 192.0.2.91
	else
		nsx "$DR_L" ip neigh replace 198.51.100.93 lladdr 02:00:00:00:0d:02 dev l0 || return 1
		nsx "$DR_A" python3 tests/live/dhcp_msg.py request 9393 &&
			nsx "$DR_L" python3 tests/live/dhcp_msg.py ack 9393 192.0.2.93 to=198.51.100.93 || return 1
		wait_for 5 dr_learned 192.0.2.93
	fi
}
if dhcp_as_read_setup; then
	check live-dhcp-fragmented-ack-not-learned dhcp_as_read frag
	check live-dhcp-ack-to-offered-address-learned dhcp_as_read unicast
else
	nok live-dhcp-as-read-setup "see $T/dr/engine.log"
fi
# --- a conntrack helper's expected connection is judged ---------------------------
# Conntrack gives a connection a helper expects (FTP data, SIP media) its master's connmark
# (init_conntrack()): an offloaded FTP control connection's generation passed the data
# connection unjudged. Here the host's FTP client sends PORT for 4119, a port the policy
# does not let in, and the server connects to it from port 20 (red24).
HC_A=lllive-$ID-hcagent HC_O=lllive-$ID-hcout
helper_child_judged() {
	ns_add "$HC_A" "$HC_O" || return 1
	veth "$HC_A" h0 "$HC_O" o0 1500 || return 1
	ns_addr "$HC_A" h0 198.51.100.2/24
	ns_addr "$HC_O" o0 198.51.100.20/24
	if ! nsx "$HC_A" iptables -w -t raw -A OUTPUT -p tcp --dport 21 -j CT --helper ftp 2>/dev/null; then
		echo "# SKIP: no FTP conntrack helper in this kernel"
		return 0
	fi
	mkdir -p "$T/hc"
	printf 'state-dir %s/hc/state\ncontrol-socket %s/hc/c.sock\nevent-log %s/hc/events.json\nhost 198.51.100.2\n' \
		"$T" "$T" "$T" >"$T/hc/ll.conf"
	printf 'allow out any id 1\nallow in tcp to any port 80 id 2\n' >"$T/hc/p.pol"
	nsbg "$HC_A" "$LLD" -f -c "$T/hc/ll.conf" -p "$T/hc/p.pol" >"$T/hc/engine.log" 2>&1
	wait_for 10 grep -q ready "$T/hc/engine.log" || return 1
	nsbg "$HC_A" ncat -lk 4119 -e /bin/cat </dev/null >/dev/null 2>&1
	# the FTP server: a banner, then an answer to each of the client's two lines
	nsbg "$HC_O" python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.20", 21)); s.listen(1); c, _ = s.accept(); c.sendall(b"220 ready\r\n")
for r in (b"331 ok\r\n", b"200 PORT ok\r\n"):
    c.recv(200); c.sendall(r)
time.sleep(30)' >/dev/null 2>&1
	wait_for 10 listening "$HC_O" t 21 && wait_for 10 listening "$HC_A" t 4119 || return 1
	# the helper reads a command only after a first line (nf_conntrack_ftp: seq after a newline)
	nsbg "$HC_A" python3 -c '
import socket, time
c = socket.create_connection(("198.51.100.20", 21), timeout=5); c.recv(100)
c.sendall(b"USER anonymous\r\n"); c.recv(100)
c.sendall(b"PORT 198,51,100,2,16,23\r\n"); c.recv(100); time.sleep(30)' >/dev/null 2>&1
	wait_for 10 bash -c "ip netns exec '$HC_A' conntrack -L expect 2>/dev/null | grep -q 'dport=4119'" ||
		{ echo "# no expectation for 4119: the test proves nothing"; return 1; }
	nsx "$HC_A" conntrack -L -p tcp --dport 21 2>/dev/null | grep -q 'mark=16777216' ||
		{ echo "# the control connection was not offloaded: the test proves nothing"; return 1; }
	if timeout 6 ip netns exec "$HC_O" ncat -z -w 3 -p 20 198.51.100.2 4119; then
		echo "# the expected connection to a port the policy does not let in got through"
		return 1
	fi
	grep -q '"dest_port":4119' "$T/hc/events.json"
}
check live-helper-expected-judged helper_child_judged
[ -n "${KEEP:-}" ] && echo "# logs kept in $T"
exit 0
