#!/bin/bash
# netns.sh - a lab of network namespaces joined by veth pairs, for the live
# tests, the demo, the live bench and the capture recorders. Sourced.
#
# Nothing here touches the calling namespace: every link, address, route and
# sysctl is set inside a namespace made by ns_add. ns_cleanup, at exit (also
# on failure or a signal), kills the background processes started with
# bg/nsbg, then whatever still runs inside those namespaces (the script
# started it), and deletes them with their links, rules and queues. A script
# with more to undo sets its own EXIT trap and calls ns_cleanup from it.
#
#   ns_add NS...                        namespaces, loopback up
#   ns_nodad NS...                      no duplicate address detection at all
#   ns_forward NS                       NS routes IPv4 and IPv6
#   veth NS1 IF1 NS2 IF2 MTU [MAC1 [MAC2]]   a veth pair, both ends up
#   ns_addr NS IF ADDR/LEN...           addresses (IPv6 ones without DAD)
#   ns_gw NS GW [ip route args]         the default route (IPv6 when GW is)
#   nsx NS CMD...                       CMD in NS
#   bg CMD... / nsbg NS CMD...          in the background, killed by ns_cleanup
#   wait_for SECONDS CMD...             poll CMD every WAIT_STEP (0.2) s until it succeeds
#   capture NS FILE LOG [tcpdump args...]   tcpdump in NS into FILE, once it listens
#   capture_stop SECONDS                SECONDS later (stragglers come in), stop it
#   ns_cleanup                          kill and delete all of the above

NS_LIST=()
PIDS=()
WAIT_STEP=0.2
CAP_PID=
trap ns_cleanup EXIT
trap 'exit 1' INT TERM

ns_add() {
	local ns
	for ns; do
		ip netns add "$ns" || return 1
		NS_LIST+=("$ns")
		ip -n "$ns" link set lo up
	done
}

ns_nodad() {
	local ns
	for ns; do
		nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	done
}

ns_forward() { nsx "$1" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1; }

veth() { # ns1 if1 ns2 if2 mtu [mac1 [mac2]]: if1 made in ns1, its peer if2 in ns2
	ip -n "$1" link add "$2" ${6:+address "$6"} type veth \
		peer name "$4" ${7:+address "$7"} netns "$3" || return 1
	ip -n "$1" link set "$2" mtu "$5" up
	ip -n "$3" link set "$4" mtu "$5" up
}

ns_addr() { # ns if addr/len...
	local ns=$1 dev=$2 a
	shift 2
	for a; do
		case $a in
		*:*) ip -n "$ns" addr add "$a" dev "$dev" nodad ;;
		*) ip -n "$ns" addr add "$a" dev "$dev" ;;
		esac
	done
}

ns_gw() { # ns gateway [ip route args]
	local ns=$1 gw=$2 fam=-4
	shift 2
	case $gw in *:*) fam=-6 ;; esac
	ip -n "$ns" "$fam" route add default via "$gw" "$@"
}

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# bg CMD... [redirections]: run in the background, killed at cleanup (the
# caller's redirections apply to the command inside); $! is its pid
bg() { "$@" & PIDS+=($!); disown $!; }
nsbg() { bg ip netns exec "$@"; }

wait_for() { # seconds cmd...: 1 when time runs out
	local end=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $end ] && return 1
		sleep "$WAIT_STEP"
	done
}

capture() { # ns file log [tcpdump args...]
	local ns=$1 file=$2 log=$3
	shift 3
	rm -f "$file"
	ip netns exec "$ns" tcpdump -Z root -U -n -w "$file" "$@" 2>"$log" &
	CAP_PID=$!
	PIDS+=("$CAP_PID")
	wait_for 5 grep -q 'listening on' "$log" || :
	sleep 0.2
}
capture_stop() { # seconds
	sleep "$1"
	kill -INT "$CAP_PID" 2>/dev/null || :
	wait "$CAP_PID" 2>/dev/null || :
}

ns_cleanup() {
	local p ns
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || :; done
	for ns in "${NS_LIST[@]}"; do
		# whatever still runs inside was started by this script
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || :; done
		ip netns del "$ns" 2>/dev/null || :
	done
	PIDS=() NS_LIST=()
}
