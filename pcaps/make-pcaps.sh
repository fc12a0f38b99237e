#!/bin/bash
# make-pcaps.sh - record the real-traffic captures in pcaps/ from network namespaces.
#
# Builds a small lab of namespaces joined by veth pairs, runs real programs
# (dnsmasq, dhclient, dig, openssl s_server/s_client, ncat, ping) and captures
# on the agent's interface with tcpdump. Nothing is installed in the calling
# namespace; every namespace and process is removed on exit, failure included.
#
#   llcap-ag  agent     a0  198.51.100.2/24 (DHCP)  2001:db8:1::2/64 (DHCPv6)
#   llcap-rt  router    r0  198.51.100.1  2001:db8:1::1  dnsmasq: DHCP, DHCPv6, DNS (the learned server)
#                       r1  203.0.113.1   2001:db8:2::1
#                       r2  192.0.2.1     2001:db8:3::1   MTU 1280 (the far link: PMTU errors)
#   llcap-mg  manager   m0  203.0.113.10  2001:db8:2::10
#   llcap-fr  far hosts f0  192.0.2.10 (far host) .53 (other DNS: a second dnsmasq) .66 (outsider)
#                           2001:db8:3::10 ::53 ::66                        MTU 1280
#
# Usage: pcaps/make-pcaps.sh [OUTDIR]   (default: the directory of this script)
# Needs root, iproute2, tcpdump, dnsmasq, isc-dhcp-client, dnsutils, openssl, ncat, python3.
set -euo pipefail

OUT=$(cd "${1:-$(dirname "$0")}" && pwd)
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../tests/lib/netns.sh"
P=llcap-$$-
AG=${P}ag RT=${P}rt MG=${P}mg FR=${P}fr
TMP=$(mktemp -d /tmp/llcap.XXXXXX)
trap 'ns_cleanup; rm -rf "$TMP"' EXIT

say() { printf 'make-pcaps: %s\n' "$*" >&2; }

# ---- lab ----------------------------------------------------------------
setup() {
	ns_add "$AG" "$RT" "$MG" "$FR"
	ns_nodad "$AG" "$RT" "$MG" "$FR"
	ns_forward "$RT"
	veth "$AG" a0 "$RT" r0 1500 02:00:00:00:00:02 02:00:00:00:00:01
	veth "$MG" m0 "$RT" r1 1500 02:00:00:00:02:10 02:00:00:00:02:01
	veth "$FR" f0 "$RT" r2 1280 02:00:00:00:03:10 02:00:00:00:03:01 # the far link: PMTU errors
	ns_addr "$RT" r0 198.51.100.1/24 2001:db8:1::1/64
	ns_addr "$RT" r1 203.0.113.1/24 2001:db8:2::1/64
	ns_addr "$RT" r2 192.0.2.1/24 2001:db8:3::1/64
	ns_addr "$MG" m0 203.0.113.10/24 2001:db8:2::10/64
	local a
	for a in 10 53 66; do
		ns_addr "$FR" f0 192.0.2.$a/24 2001:db8:3::$a/64
	done
	ns_gw "$MG" 203.0.113.1
	ns_gw "$MG" 2001:db8:2::1
	ns_gw "$FR" 192.0.2.1 src 192.0.2.66
	ns_gw "$FR" 2001:db8:3::1 src 2001:db8:3::66
	# agent: link up, no address yet (DHCP gives them)
}

servers() {
	# the learned DNS server: dnsmasq on the router serves DHCPv4, DHCPv6, DNS
	nsbg "$RT" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --user=root \
		--pid-file="$TMP/dnsmasq-rt.pid" --dhcp-leasefile="$TMP/dnsmasq-rt.leases" \
		--interface=r0 --bind-interfaces --listen-address=198.51.100.1,2001:db8:1::1 \
		--dhcp-range=198.51.100.2,198.51.100.2,255.255.255.0,10m \
		--dhcp-range=2001:db8:1::2,2001:db8:1::2,64,10m \
		--dhcp-option=option:router,198.51.100.1 \
		--dhcp-option=option:dns-server,198.51.100.1 \
		--dhcp-option=option6:dns-server,[2001:db8:1::1] \
		--address=/example.test/192.0.2.80 --address=/example.test/2001:db8:3::80 \
		--log-facility="$TMP/dnsmasq-rt.log"
	# a DNS server nobody learned: second dnsmasq on the far host
	nsbg "$FR" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --user=root \
		--pid-file="$TMP/dnsmasq-fr.pid" --interface=f0 --bind-interfaces \
		--listen-address=192.0.2.53,2001:db8:3::53 --no-dhcp-interface=f0 \
		--address=/example.test/192.0.2.81 --address=/example.test/2001:db8:3::81 \
		--log-facility="$TMP/dnsmasq-fr.log"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
		-keyout "$TMP/key.pem" -out "$TMP/cert.pem" -subj /CN=lifeline-lab 2>/dev/null
	sleep 0.5
}

# ---- capture helpers ----------------------------------------------------
cap_start() { # NAME IFACE [tcpdump args...]
	local name=$1 ifc=$2; shift 2
	capture "$AG" "$OUT/$name" "$TMP/tcpdump.err" -i "$ifc" "$@"
}
cap_stop() {
	capture_stop 1
	say "$(tr '\n' ' ' <"$TMP/tcpdump.err")"
}

wait_addr() { # NS ADDR
	local i
	for i in $(seq 100); do
		ip -n "$1" addr show | grep -q " $2/" && return 0
		sleep 0.1
	done
	say "no address $2 in $1"; return 1
}

tls_session() { # SERVER_NS CLIENT_NS SERVER_ADDR PORT FAMILY(4|6)
	local sns=$1 cns=$2 addr=$3 port=$4 fam=$5 hp
	if [ "$fam" = 6 ]; then hp="[$addr]:$port"; else hp="$addr:$port"; fi
	(printf 'server hello %s\n' "$port"; sleep 1.5) |
		ip netns exec "$sns" timeout 5 openssl s_server -"$fam" -accept "$port" -naccept 1 -num_tickets 0 \
			-cert "$TMP/cert.pem" -key "$TMP/key.pem" -quiet >/dev/null 2>&1 &
	local spid=$!
	sleep 0.4
	(printf 'heartbeat 1\n'; sleep 0.3; printf 'heartbeat 2\n'; sleep 0.3) |
		ip netns exec "$cns" timeout 5 openssl s_client -connect "$hp" -quiet -no_ign_eof \
			>/dev/null 2>&1 || true
	wait "$spid" 2>/dev/null || true
}

tcp_session() { # SERVER_NS SERVER_ADDR PORT CLIENT_NS [ncat client args]
	local sns=$1 addr=$2 port=$3 cns=$4; shift 4
	ip netns exec "$sns" timeout 4 ncat -l --recv-only "$addr" "$port" >/dev/null 2>&1 &
	local spid=$!
	sleep 0.3
	printf 'hello port %s\r\n' "$port" |
		ip netns exec "$cns" timeout 3 ncat --send-only "$@" "$addr" "$port" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
}

UDPECHO='import socket,sys
a=sys.argv[1]; f=socket.AF_INET6 if ":" in a else socket.AF_INET
s=socket.socket(f,socket.SOCK_DGRAM); s.bind((a,int(sys.argv[2]))); s.settimeout(3)
try:
    d,p=s.recvfrom(2048); s.sendto(d,p)
except socket.timeout: pass'
UDPSEND='import socket,sys
a=sys.argv[1]; f=socket.AF_INET6 if ":" in a else socket.AF_INET
s=socket.socket(f,socket.SOCK_DGRAM)
if len(sys.argv)>3: s.bind((sys.argv[3],0))
s.settimeout(2); s.sendto(b"lifeline udp test\n",(a,int(sys.argv[2])))
try: s.recvfrom(2048)
except socket.timeout: pass'
udp_session() { # SERVER_NS SERVER_ADDR PORT CLIENT_NS [CLIENT_SRC]
	ip netns exec "$1" timeout 4 python3 -c "$UDPECHO" "$2" "$3" &
	local spid=$!
	sleep 0.3
	ip netns exec "$4" timeout 3 python3 -c "$UDPSEND" "$2" "$3" ${5:+"$5"} || true
	wait "$spid" 2>/dev/null || true
}

# ---- captures -----------------------------------------------------------
cap_dhcp_dns() {
	cat >"$TMP/dhclient.conf" <<-'EOF'
	request subnet-mask, broadcast-address, routers, domain-name-servers;
	also request dhcp6.name-servers;
	timeout 10;
	retry 1;
	EOF
	cat >"$TMP/dhclient-script" <<-'EOF'
	#!/bin/sh
	# minimal dhclient-script: configure the lab interface only, never /etc/resolv.conf
	case "$reason" in
	BOUND|RENEW|REBIND|REBOOT)
		ip addr replace "$new_ip_address/24" dev "$interface"
		[ -n "$new_routers" ] && ip route replace default via "${new_routers%% *}" ;;
	BOUND6|RENEW6|REBIND6|REBOOT6)
		[ -n "$new_ip6_address" ] && ip -6 addr replace "$new_ip6_address/64" dev "$interface" nodad ;;
	esac
	exit 0
	EOF
	chmod +x "$TMP/dhclient-script"
	cap_start dhcp-dns.pcap a0
	nsbg "$AG" timeout 20 dhclient -4 -d -1 -v -cf "$TMP/dhclient.conf" -sf "$TMP/dhclient-script" \
		-lf "$TMP/dhclient4.leases" -pf "$TMP/dhclient4.pid" a0
	local d4=$!
	wait_addr "$AG" 198.51.100.2
	nsbg "$AG" timeout 20 dhclient -6 -d -1 -v -cf "$TMP/dhclient.conf" -sf "$TMP/dhclient-script" \
		-lf "$TMP/dhclient6.leases" -pf "$TMP/dhclient6.pid" a0
	local d6=$!
	wait_addr "$AG" 2001:db8:1::2 || say "DHCPv6 got no address"
	kill "$d4" "$d6" 2>/dev/null || true
	ip -n "$AG" -6 route replace default via 2001:db8:1::1
	sleep 0.3
	local dig="dig +time=2 +tries=1 +noedns"
	nsx "$AG" $dig @198.51.100.1 a.example.test A >/dev/null || true
	nsx "$AG" $dig +tcp @198.51.100.1 b.example.test A >/dev/null || true
	nsx "$AG" $dig @192.0.2.53 c.example.test A >/dev/null || true
	nsx "$AG" $dig @2001:db8:1::1 d.example.test AAAA >/dev/null || true
	nsx "$AG" $dig @2001:db8:3::53 e.example.test AAAA >/dev/null || true
	nsx "$AG" $dig +tcp @2001:db8:3::53 f.example.test AAAA >/dev/null || true
	cap_stop
}

cap_heartbeat() {
	cap_start heartbeat.pcap a0
	tls_session "$MG" "$AG" 203.0.113.10 4120 4      # agent -> manager:4120 (lifeline)
	tls_session "$AG" "$MG" 198.51.100.2 4118 4      # manager -> agent:4118 (lifeline)
	tls_session "$MG" "$AG" 2001:db8:2::10 4120 6
	tls_session "$AG" "$MG" 2001:db8:1::2 4118 6
	cap_stop
	cap_start heartbeat-lookalike.pcap a0
	tls_session "$AG" "$MG" 198.51.100.2 4120 4      # roles swapped: manager -> agent:4120 (ordinary)
	tls_session "$AG" "$MG" 2001:db8:1::2 4120 6
	tls_session "$AG" "$FR" 198.51.100.2 4118 4      # outsider -> agent:4118 (ordinary)
	tls_session "$FR" "$AG" 192.0.2.66 4120 4        # agent -> outsider:4120 (ordinary)
	tls_session "$AG" "$FR" 2001:db8:1::2 4118 6
	cap_stop
}

cap_pmtu() {
	ip -n "$AG" neigh flush dev a0
	ip -n "$AG" -6 neigh flush dev a0
	ip -n "$RT" neigh flush dev r0
	ip -n "$RT" -6 neigh flush dev r0
	cap_start pmtu.pcap a0
	nsx "$AG" ping -n -c 2 -i 0.3 -W 1 -M do -s 1400 192.0.2.10 >/dev/null 2>&1 || true
	nsx "$AG" ping -n -6 -c 2 -i 0.3 -W 1 -M do -s 1400 2001:db8:3::10 >/dev/null 2>&1 || true
	nsx "$AG" ping -n -c 1 -W 1 192.0.2.10 >/dev/null 2>&1 || true
	cap_stop
}

cap_ordinary() {
	cap_start ordinary.pcap a0
	tcp_session "$FR" 192.0.2.10 80 "$AG"                       # agent -> web
	tcp_session "$FR" 2001:db8:3::10 80 "$AG"
	tcp_session "$AG" 198.51.100.2 22 "$FR" -s 192.0.2.66       # outsider -> agent ssh
	tcp_session "$AG" 2001:db8:1::2 22 "$FR" -s 2001:db8:3::66
	tcp_session "$AG" 198.51.100.2 23 "$MG"                     # manager -> agent telnet
	tcp_session "$FR" 192.0.2.10 443 "$AG"
	udp_session "$FR" 192.0.2.10 9000 "$AG"                     # agent -> far udp
	udp_session "$AG" 2001:db8:1::2 9001 "$FR" 2001:db8:3::66   # far -> agent udp
	nsx "$AG" ping -n -c 1 -W 1 192.0.2.10 >/dev/null || true
	nsx "$AG" ping -n -6 -c 1 -W 1 2001:db8:3::10 >/dev/null || true
	nsx "$FR" ping -n -c 1 -W 1 -I 192.0.2.66 198.51.100.2 >/dev/null || true
	nsx "$MG" ping -n -6 -c 1 -W 1 2001:db8:1::2 >/dev/null || true
	cap_stop
}

cap_any() { # NAME DLT
	cap_start "$1" any -y "$2"
	tls_session "$MG" "$AG" 203.0.113.10 4120 4
	nsx "$AG" dig +time=2 +tries=1 +noedns @198.51.100.1 g.example.test A >/dev/null || true
	nsx "$AG" ping -n -6 -c 1 -W 1 2001:db8:3::10 >/dev/null || true
	tcp_session "$FR" 192.0.2.10 80 "$AG"
	cap_stop
}

[ "$(id -u)" = 0 ] || { say "needs root"; exit 1; }
setup
servers
cap_dhcp_dns
# from here on the agent keeps its addresses even if a lease is dropped
ip -n "$AG" addr replace 198.51.100.2/24 dev a0
ip -n "$AG" -6 addr replace 2001:db8:1::2/64 dev a0 nodad
ip -n "$AG" route replace default via 198.51.100.1
cap_heartbeat
cap_pmtu
cap_ordinary
cap_any any-sll.pcap LINUX_SLL
cap_any any-sll2.pcap LINUX_SLL2
ls -l "$OUT"/dhcp-dns.pcap "$OUT"/heartbeat.pcap "$OUT"/heartbeat-lookalike.pcap "$OUT"/pmtu.pcap "$OUT"/ordinary.pcap \
	"$OUT"/any-sll.pcap "$OUT"/any-sll2.pcap >&2
