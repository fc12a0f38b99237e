#!/bin/bash
# make-captures.sh - record the IPS end-to-end captures (tests/ips/e2e/*.pcap)
# from real programs in network namespaces this script creates and removes.
#
#   llips-<pid>-c  client  c0 198.51.100.2/24  2001:db8:1::2/64   (the lifeline host; captured here)
#   llips-<pid>-r  router  r0 198.51.100.1 2001:db8:1::1 | r1 192.0.2.1 2001:db8:3::1 | r2 203.0.113.1
#   llips-<pid>-s  server  s0 192.0.2.10/24    2001:db8:3::10/64   python3 http.server :80, dnsmasq :53,
#                                                                  openssl s_server :443 and :4120
#   llips-<pid>-m  manager m0 203.0.113.10/24                      openssl s_server :4120 (heartbeat)
#
# Programs: curl, python3 (http.server; tcpsend.py: TCP_NODELAY writes 0.3 s
# apart so a signature is cut by segment boundaries), ncat, dig, dnsmasq,
# openssl s_client/s_server, ping. tcpdump captures on the client's c0
# (filter "tcp or udp or icmp": no ARP/NDP noise). Nothing is installed in the
# calling namespace; every namespace and process is removed on exit.
#
# The frame numbers in NAME.expect belong to the committed captures: after
# re-recording, derive them again from `tshark -r NAME.pcap` (never from
# lifelined's output) — this script prints a summary of every capture.
#
# Usage: sudo tests/ips/e2e/make-captures.sh [CASE...]   (default: every case)
# OUT=DIR records into DIR instead of this directory.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$HERE}
# shellcheck source=tests/lib/netns.sh
. "$HERE/../../lib/netns.sh"
P=llips-$$-
C=${P}c R=${P}r S=${P}s M=${P}m
TMP=$(mktemp -d /tmp/llips.XXXXXX)
trap 'ns_cleanup; rm -rf "$TMP"' EXIT

say() { printf 'make-captures: %s\n' "$*" >&2; }

setup() {
	ns_add "$C" "$R" "$S" "$M"
	ns_nodad "$C" "$R" "$S" "$M"
	ns_forward "$R"
	# fixed MACs on the far ends; the router's are the kernel's choice
	veth "$C" c0 "$R" r0 1500 02:00:00:00:01:02
	veth "$S" s0 "$R" r1 1500 02:00:00:00:03:10
	veth "$M" m0 "$R" r2 1500 02:00:00:00:02:10
	ns_addr "$C" c0 198.51.100.2/24 2001:db8:1::2/64
	ns_addr "$R" r0 198.51.100.1/24 2001:db8:1::1/64
	ns_addr "$R" r1 192.0.2.1/24 2001:db8:3::1/64
	ns_addr "$R" r2 203.0.113.1/24
	ns_addr "$S" s0 192.0.2.10/24 2001:db8:3::10/64
	ns_addr "$M" m0 203.0.113.10/24
	ns_gw "$C" 198.51.100.1
	ns_gw "$C" 2001:db8:1::1
	ns_gw "$S" 192.0.2.1
	ns_gw "$S" 2001:db8:3::1
	ns_gw "$M" 203.0.113.1
	# resolve neighbours now, so that no capture starts with a lost first SYN
	nsx "$C" ping -c1 -W2 192.0.2.10 >/dev/null
	nsx "$C" ping -6 -c1 -W2 2001:db8:3::10 >/dev/null
	nsx "$C" ping -c1 -W2 203.0.113.10 >/dev/null
}

servers() {
	mkdir -p "$TMP/www/admin"
	printf '<html>lifeline lab</html>\n' >"$TMP/www/index.html"
	printf 'top secret\n' >"$TMP/www/secret.txt"
	printf 'welcome\n' >"$TMP/www/login"
	printf 'config page\n' >"$TMP/www/admin/config.php"
	# Fast Open on every listener from its listen() on (0x400), without cookies
	# (0x200), for case_tfo_*; a SYN without data is answered as before
	nsx "$S" sysctl -qw net.ipv4.tcp_fastopen=1538
	# HTTP/1.0: one request per connection, the server closes
	(cd "$TMP/www" && exec ip netns exec "$S" python3 -m http.server 80 --bind :: \
		>"$TMP/http.log" 2>&1) & PIDS+=($!)
	nsbg "$S" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --user=root \
		--pid-file="$TMP/dnsmasq.pid" --interface=s0 --bind-interfaces \
		--listen-address=192.0.2.10 --address=/evil.example/192.0.2.66 \
		--address=/www.example.org/192.0.2.80 --log-facility="$TMP/dnsmasq.log"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
		-keyout "$TMP/key.pem" -out "$TMP/cert.pem" -subj /CN=lifeline-lab 2>/dev/null
	sleep 1
}

cap_start() { # NAME [tcpdump filter]
	capture "$C" "$OUT/$1.pcap" "$TMP/tcpdump.err" --immediate-mode -i c0 "${2:-tcp or udp or icmp}"
}
cap_stop() { capture_stop 0.5; }

cl() { ip netns exec "$C" timeout 5 "$@"; }
curl_() { cl curl -s -o /dev/null --path-as-is "$@" || true; }
send() { cl python3 "$HERE/tcpsend.py" "$@" || true; }

tls_session() { # SERVER_NS ADDR PORT SNI
	(printf 'server hello\n'; sleep 1.2) |
		ip netns exec "$1" timeout 5 openssl s_server -4 -accept "$3" -naccept 1 -num_tickets 0 \
			-cert "$TMP/cert.pem" -key "$TMP/key.pem" -quiet >/dev/null 2>&1 &
	local spid=$!
	sleep 0.4
	(printf 'heartbeat 1\n'; sleep 0.3) |
		cl openssl s_client -connect "$2:$3" -servername "$4" -quiet -no_ign_eof \
			>/dev/null 2>&1 || true
	wait "$spid" 2>/dev/null || true
}

# ---- the cases: one capture each ------------------------------------------
case_http_basic() { curl_ http://192.0.2.10/cgi-bin/../../etc/passwd; }
case_split_2() { send 192.0.2.10 80 'GET /etc/pa' 'sswd HTTP/1.0\r\nHost: 192.0.2.10\r\n\r\n'; }
case_split_3() { send 192.0.2.10 80 'GET /scripts/cm' 'd.e' 'xe?/c+dir HTTP/1.0\r\n\r\n'; }
case_split_nocase() {
	send 192.0.2.10 80 'GET / HTTP/1.0\r\nUser-Agent: SqL' 'MaP/1.7\r\n\r\n'
}
case_nocase() { curl_ -A 'SQLMap/1.7' http://192.0.2.10/; }
case_negation() {
	curl_ http://192.0.2.10/
	sleep 0.3
	printf 'GET / HTTP/1.0\r\n\r\n' | cl ncat 192.0.2.10 80 >/dev/null 2>&1 || true
}
case_distance() {
	send 192.0.2.10 80 'POST /upload.php HTTP/1.0\r\nContent-Length: 20\r\n\r\nfilename="shell.php"'
	sleep 0.3
	send 192.0.2.10 80 'POST /index.html?from=upload.php HTTP/1.0\r\nContent-Length: 4\r\n\r\nabcd'
}
case_distance_split() {
	send 192.0.2.10 80 'POST /up' 'load.php HTTP/1.0\r\nContent-Length: 20\r\n\r\n' 'filename="shell.php"'
}
case_pcre() {
	curl_ 'http://192.0.2.10/admin/config.php?id=42'
	sleep 0.3
	curl_ 'http://192.0.2.10/admin/config.php?id=abc'
}
case_flow_dir() { curl_ http://192.0.2.10/index.html; }
case_dns() { cl dig +tries=1 +time=2 @192.0.2.10 www.EVIL.example A >/dev/null || true; }
case_drop() { curl_ http://192.0.2.10/cgi-bin/../../etc/passwd; }
case_drop_split() { send 192.0.2.10 80 'GET /etc/pa' 'sswd HTTP/1.0\r\n\r\n'; }
case_heartbeat() {
	tls_session "$M" 203.0.113.10 4120 mgmt.lifeline.example
	sleep 0.3
	tls_session "$S" 192.0.2.10 4120 mgmt.lifeline.example
}
case_tls_sni() { tls_session "$S" 192.0.2.10 443 www.bad.example; }
case_ipv6() {
	curl_ -g 'http://[2001:db8:3::10]/secret.txt'
	sleep 0.3
	curl_ http://192.0.2.10/secret.txt
}
case_home_net() {
	ip netns exec "$C" timeout 4 ncat -l 198.51.100.2 8080 -c 'printf "HTTP/1.0 200 OK\r\n\r\nok\n"' \
		>/dev/null 2>&1 &
	local spid=$!
	sleep 0.4
	printf 'GET /inbound HTTP/1.0\r\n\r\n' |
		ip netns exec "$S" timeout 3 ncat 198.51.100.2 8080 >/dev/null 2>&1 || true
	wait "$spid" 2>/dev/null || true
	sleep 0.3
	curl_ http://192.0.2.10/outbound
}
case_flowbits() {
	curl_ http://192.0.2.10/login
	sleep 0.3
	curl_ http://192.0.2.10/index.html
}
case_pass() {
	curl_ -H 'X-Trusted: yes' http://192.0.2.10/index.html
	sleep 0.3
	curl_ http://192.0.2.10/index.html
}
case_offsets() { send 192.0.2.10 80 'GET /index.html HTTP/1.0\r\nHost: a\r\n\r\n'; }
case_icmp() { cl ping -c 2 -i 0.3 -p 6576696c21 192.0.2.10 >/dev/null || true; }
case_threshold() {
	local i
	for i in 1 2 3; do curl_ http://192.0.2.10/index.html; sleep 0.2; done
}
case_dsize_split() { send 192.0.2.10 80 'GET /etc/pa' 'sswd HTTP/1.0\r\n\r\n'; }
# TCP Fast Open without cookies (client 0x1|0x4; the server's, servers()):
# "GET /etc/pa" rides the SYN. Off on the server (0), its SYN-ACK acknowledges
# the SYN alone and the client sends the bytes again.
tfo_send() { # SERVER_SYSCTL
	nsx "$C" sysctl -qw net.ipv4.tcp_fastopen=5
	nsx "$S" sysctl -qw net.ipv4.tcp_fastopen="$1"
	send --fastopen 192.0.2.10 80 'GET /etc/pa' 'sswd HTTP/1.0\r\n\r\n'
	nsx "$C" sysctl -qw net.ipv4.tcp_fastopen=1
	nsx "$S" sysctl -qw net.ipv4.tcp_fastopen=1538
}
case_tfo_split() { tfo_send 1538; }
case_tfo_refused() { tfo_send 0; }

ALL="http_basic split_2 split_3 split_nocase nocase negation distance distance_split pcre
flow_dir dns drop drop_split heartbeat tls_sni ipv6 home_net flowbits pass offsets icmp
threshold dsize_split tfo_split tfo_refused"

main() {
	local c name
	setup
	servers
	for c in ${*:-$ALL}; do
		name=${c//_/-}
		say "$name"
		cap_start "$name"
		"case_$c"
		cap_stop
		tshark -r "$OUT/$name.pcap" 2>/dev/null | sed "s/^/  $name: /" >&2 || true
	done
}
main "$@"
