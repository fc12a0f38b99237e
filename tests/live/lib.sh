#!/bin/bash
# lib.sh - helpers for the live suite: namespaces, waits with timeouts, ok/not ok lines.
# Sourced from the repository's root by run.sh (and the other live suites, the
# demo): sets B, LLD and LLC, and cleans up at exit, also on failure.
# Everything it creates carries the lllive- prefix and $$.
# shellcheck disable=SC2217 # redirections given to bg() reach the command it runs

# shellcheck source=tests/lib/netns.sh
. tests/lib/netns.sh
. tests/lib/proc.sh # stop_wait
B=${B:-build}
LLD=$PWD/$B/lifelined
# shellcheck disable=SC2034 # not every suite runs lifelinectl
LLC=$PWD/$B/lifelinectl
T=$(mktemp -d /tmp/lllive.XXXXXX)
ID=$$
NS_A=lllive-$ID-agent
NS_R=lllive-$ID-router
NS_M=lllive-$ID-manager
NS_O=lllive-$ID-outsider
trap cleanup EXIT

ok() { echo "ok $1"; }
nok() { echo "not ok $1 - $2"; }
# check NAME CMD...: ok when CMD succeeds
check() { local n=$1; shift; if "$@" >>"$T/check.log" 2>&1; then ok "$n"; else nok "$n" "$*"; fi; }
# check_fails NAME CMD...: ok when CMD fails
check_fails() { local n=$1; shift; if "$@" >>"$T/check.log" 2>&1; then nok "$n" "succeeded: $*"; else ok "$n"; fi; }

in_a() { nsx "$NS_A" "$@"; }
in_r() { nsx "$NS_R" "$@"; }
in_m() { nsx "$NS_M" "$@"; }
in_o() { nsx "$NS_O" "$@"; }

cleanup() {
	[ -f "$T/dhclient.pid" ] && kill -9 "$(cat "$T/dhclient.pid")" 2>/dev/null
	ns_cleanup
	rm -rf "/etc/netns/$NS_A"
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}

#   agent     a0  198.51.100.2/24   2001:db8:1::2/64
#   router    r0  198.51.100.1      2001:db8:1::1    (routes)
#             r1  203.0.113.1       2001:db8:2::1    MTU 1280 (the smaller-MTU link)
#             r2  192.0.2.1         2001:db8:3::1
#   manager   m0  203.0.113.10      2001:db8:2::10   MTU 1280
#   outsider  o0  192.0.2.10        2001:db8:3::10
topology() {
	ns_add "$NS_A" "$NS_R" "$NS_M" "$NS_O" || return 1
	veth "$NS_A" a0 "$NS_R" r0 1500 || return 1
	veth "$NS_R" r1 "$NS_M" m0 1280 || return 1 # the smaller-MTU link
	veth "$NS_R" r2 "$NS_O" o0 1500 || return 1
	ns_addr "$NS_A" a0 198.51.100.2/24 2001:db8:1::2/64
	ns_addr "$NS_R" r0 198.51.100.1/24 2001:db8:1::1/64
	ns_addr "$NS_R" r1 203.0.113.1/24 2001:db8:2::1/64
	ns_addr "$NS_R" r2 192.0.2.1/24 2001:db8:3::1/64
	ns_addr "$NS_M" m0 203.0.113.10/24 2001:db8:2::10/64
	ns_addr "$NS_O" o0 192.0.2.10/24 2001:db8:3::10/64
	ns_forward "$NS_R"
	ns_gw "$NS_A" 198.51.100.1
	ns_gw "$NS_A" 2001:db8:1::1
	ns_gw "$NS_M" 203.0.113.1
	ns_gw "$NS_M" 2001:db8:2::1
	ns_gw "$NS_O" 192.0.2.1
	ns_gw "$NS_O" 2001:db8:3::1
	# the agent's own resolv.conf (ip netns exec bind-mounts it): a server nobody runs
	mkdir -p "/etc/netns/$NS_A"
	echo "nameserver 203.0.113.53" >"/etc/netns/$NS_A/resolv.conf"
}

dnsmasq_run() { # ns addr answer [dhcp args...]
	local ns=$1 addr=$2 answer=$3; shift 3
	bg ip netns exec "$ns" dnsmasq -k -C /dev/null -u root --no-resolv --no-hosts \
		--listen-address="$addr" --bind-interfaces --pid-file="$T/dnsmasq-$ns.pid" \
		--address=/lifeline.test/"$answer" "$@" 2>>"$T/dnsmasq.log"
}

services() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
		-days 2 -subj /CN=lifeline-test >/dev/null 2>&1 || return 1
	# the learned DNS server and DHCP on the router; another DNS server on the outsider
	dnsmasq_run "$NS_R" 198.51.100.1 192.0.2.77 --interface=r0 --dhcp-broadcast \
		--dhcp-range=198.51.100.50,198.51.100.60,255.255.255.0,2m \
		--dhcp-option=option:dns-server,198.51.100.1 --dhcp-leasefile="$T/dnsmasq.leases"
	dnsmasq_run "$NS_O" 192.0.2.10 192.0.2.88
	# heartbeat ends: the manager listens on 4120, the agent on 4118 (TLS, echo reversed)
	local fam
	for fam in 4 6; do
		bg in_m openssl s_server -quiet -rev -$fam -accept 4120 -cert "$T/cert.pem" \
			-key "$T/key.pem" </dev/null >/dev/null 2>&1
		bg in_a openssl s_server -quiet -rev -$fam -accept 4118 -cert "$T/cert.pem" \
			-key "$T/key.pem" </dev/null >/dev/null 2>&1
	done
	# ordinary TCP on the outsider, and on the agent (not the heartbeat port)
	bg in_o ncat -lk 8080 -e /bin/cat </dev/null >/dev/null 2>&1
	bg in_a ncat -lk 4119 -e /bin/cat </dev/null >/dev/null 2>&1
	wait_for 10 listening "$NS_M" t 4120 && wait_for 10 listening "$NS_A" t 4118 &&
		wait_for 10 listening "$NS_O" t 8080 && wait_for 10 listening "$NS_A" t 4119 &&
		wait_for 10 listening "$NS_R" u 53 &&
		wait_for 10 listening "$NS_O" u 53
}

listening() { # ns t|u port
	ip netns exec "$1" ss -l"$2"nH "sport = :$3" | grep -q .
}

# tls NS HOST PORT: a TLS exchange; the server echoes the line reversed
tls() {
	(echo heartbeat; sleep 1) | timeout 8 ip netns exec "$1" openssl s_client -quiet \
		-connect "$2:$3" 2>/dev/null | grep -q taebtraeh
}
tcp() { timeout 6 ip netns exec "$1" ncat -z -w 3 "$2" "$3"; }
dns() { # ns server: resolves lifeline.test there
	timeout 6 ip netns exec "$1" dig +time=2 +tries=1 +short @"$2" lifeline.test A | grep -q '^192\.0\.2\.'
}

# --- the engine under test (LLD: the lifelined binary; $T/conf.in, $T/deny.pol) ---
ENGINE_PID=
# start_engine yes|no [nopolicy]: lifelined in the agent namespace, until it
# logs `ready`; with nopolicy it starts from the persisted STATE_DIR/current.pol
start_engine() {
	local pol=(-p "$T/deny.pol")
	[ "${2:-}" = nopolicy ] && pol=()
	sed "s/^fail-open .*/fail-open $1/" "$T/conf.in" >"$T/lifeline.conf"
	local before
	before=$(grep -c ready "$T/engine.log" 2>/dev/null)
	# ip netns exec execs lifelined: $! is the engine itself
	ip netns exec "$NS_A" "$LLD" -f -c "$T/lifeline.conf" "${pol[@]}" \
		>>"$T/engine.log" 2>&1 &
	ENGINE_PID=$!
	PIDS+=("$ENGINE_PID")
	disown "$ENGINE_PID" # killed on purpose: no "Killed" report
	wait_for 10 ready_after "${before:-0}"
}
ready_after() { [ "$(grep -c ready "$T/engine.log")" -gt "$1" ] && kill -0 "$ENGINE_PID"; }
stop_engine() { # signal
	kill "-$1" "$ENGINE_PID" 2>/dev/null
	timeout 10 tail --pid="$ENGINE_PID" -f /dev/null
}
# The agent's hooks, whichever backend the engine chose (iptables + ipset, or nft
# where the kernel has nft queue), so that a check of their absence means something.
queued() { # the number of queue rules in the agent's namespace
	{ in_a iptables-save; in_a ip6tables-save; in_a nft list ruleset; } 2>/dev/null |
		grep -ciE -- '-j NFQUEUE|(^|[[:space:]])queue (num|to|flags)'
}
hooks_present() {
	{ { in_a iptables -t mangle -S LIFELINE-IN && in_a iptables -t mangle -C INPUT -j LIFELINE-IN; } ||
		in_a nft list table inet lifeline; } >/dev/null 2>&1 && [ "$(queued)" -gt 0 ]
}
hooks_gone() {
	! in_a iptables -t mangle -S LIFELINE-IN >/dev/null 2>&1 && ! in_a ipset list -n | grep -q lifeline &&
		! in_a nft list table inet lifeline >/dev/null 2>&1 && [ "$(queued)" -eq 0 ] &&
		! { in_a iptables-save; in_a ip6tables-save; } 2>/dev/null | grep -qE 'LIFELINE|0x7f000000'
}

# --- probes shared by the live suites and the demo ---
ping_ok() { in_a ping -c 1 -W 2 "$@"; }
pmtu() { # ping args: the ICMP "too big" comes back and names the small link's MTU
	timeout 8 ip netns exec "$NS_A" ping -M "do" -s 1400 -c 2 -i 0.5 -W 2 "$@" 2>&1 |
		grep -Eq 'mtu ?= ?1280'
}
lease() {
	rm -f "$T/lease.env"
	printf '#!/bin/sh\ncase "$reason" in BOUND|RENEW|REBOOT) env > %s;; esac\nexit 0\n' \
		"$T/lease.env" >"$T/dhcp.sh"
	chmod +x "$T/dhcp.sh"
	timeout 25 ip netns exec "$NS_A" dhclient -4 -1 -sf "$T/dhcp.sh" -lf "$T/dhclient.leases" \
		-pf "$T/dhclient.pid" a0 >>"$T/dhclient.log" 2>&1
	wait_for 5 grep -q 'new_ip_address=198\.51\.100\.' "$T/lease.env"
}
