#!/bin/bash
# demo.sh - `make demo`: the main job, narrated. Builds a small network in
# namespaces (agent, router with DHCP/DNS and a smaller-MTU link, manager,
# outsider), runs lifelined in front of the agent, loads a bad policy, shows
# the lifeline still flowing and an attack dropped, then resets from the
# "console". Everything it creates is deleted on exit, also on failure.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/live/lib.sh # B, LLD, LLC, the namespaces; cleanup at exit

[ "$(id -u)" = 0 ] || { echo "make demo needs root (network namespaces)"; exit 1; }
BOLD=$(tput bold 2>/dev/null || true) OFF=$(tput sgr0 2>/dev/null || true)
FAILED=0
step() { printf '\n%s==> %s%s\n' "$BOLD" "$*" "$OFF"; sleep "${DEMO_PAUSE:-0.5}"; }
say() { printf '    %s\n' "$*"; }
run() { printf '    $ %s\n' "$*"; "$@" 2>&1 | sed 's/^/      /'; }
expect() { # expect works|blocked TEXT CMD...
	local want=$1 text=$2; shift 2
	if "$@" >/dev/null 2>&1; then got=works; else got=blocked; fi
	if [ "$got" = "$want" ]; then
		printf '    [ok] %s: %s\n' "$text" "$got"
	else
		printf '    [!!] %s: %s, expected %s\n' "$text" "$got" "$want"
		FAILED=1
	fi
}
ctl() { ip netns exec "$NS_A" "$LLC" -c "$T/lifeline.conf" "$@"; }
alert_logged() { # the IPS drop's alert event, as an EVE consumer would look for it
	grep '"event_type":"alert"' "$T/events.json" | grep '"action":"blocked"' |
		grep '"signature_id":1000001,"rev":1,"signature":"passwd probe"' | grep -q '"community_id":"1:'
}
web() { # web NS PATH: an HTTP GET to the agent's port 8080
	printf 'GET %s HTTP/1.0\r\n\r\n' "$2" | timeout 5 ip netns exec "$1" ncat -w 3 198.51.100.2 8080 |
		grep -q '^HTTP/1.0'
}

step "Building the network in namespaces (nothing touches this machine's own)"
topology && services || { echo "demo: could not build the test bed"; exit 1; }
say "agent    198.51.100.x (DHCP)   - the host lifeline protects"
say "router   198.51.100.1          - DHCP and DNS server (dnsmasq), 1280-byte MTU link to the manager"
say "manager  203.0.113.10          - heartbeat server on TLS port 4120"
say "outsider 192.0.2.10            - the rest of the world, and an attacker"
# a small web server on the agent, for the attack to aim at
mkdir -p "$T/www" && echo hello >"$T/www/index.html"
bg in_a python3 -m http.server 8080 --directory "$T/www" </dev/null >/dev/null 2>&1
wait_for 5 listening "$NS_A" t 8080
cat >"$T/conf.in" <<CONF
manager 203.0.113.10
host 198.51.100.0/24
fail-open yes
state-dir $T/state
control-socket $T/control.sock
event-log $T/events.json
CONF
sed 's/^fail-open .*/fail-open yes/' "$T/conf.in" >"$T/lifeline.conf"
echo "# start with nothing" >"$T/deny.pol"

step "Starting lifelined in the agent namespace, with an empty policy"
start_engine yes || { echo "demo: the engine did not start"; cat "$T/engine.log"; exit 1; }
run ctl status

step "The agent gets its address from DHCP; lifeline learns the DNS server it hands out"
expect works "dhclient lease" lease
wait_for 5 grep -q "DNS server" "$T/engine.log"
say "$(ctl status | grep '^dns')"

step "A bad policy arrives: only web allowed in, everything out denied, plus an IPS rule"
cat >"$T/bad.pol" <<'POL'
# a bad policy: it allows web in and denies everything out (but pings, so
# that a router has a big ping to answer with "fragmentation needed").
# Without the lifeline it would cut the host off from DHCP, DNS and its manager.
allow                  in  tcp to any port 8080  id 10
deny        priority 3 out any                   id 20
force-allow priority 4 out icmp type echo-request id 21
drop tcp any any -> $HOME_NET 8080 (msg:"passwd probe"; flow:to_server,established; content:"/etc/passwd"; nocase; sid:1000001; rev:1;)
POL
sed 's/^/      | /' "$T/bad.pol"
run ctl check "$T/bad.pol"
run ctl load "$T/bad.pol"

step "Ordinary traffic obeys the bad policy"
expect blocked "agent -> outsider TCP 8080 (denied out)" tcp "$NS_A" 192.0.2.10 8080
expect blocked "manager -> agent TCP 22 (not allowed in)" tcp "$NS_M" 198.51.100.2 22
expect works "outsider -> agent web, GET /index.html" web "$NS_O" /index.html

step "The lifeline still flows, whatever the policy says"
expect works "heartbeat agent -> manager, TLS on 4120" tls "$NS_A" 203.0.113.10 4120
expect works "heartbeat manager -> agent, TLS on 4118" tls "$NS_M" 198.51.100.2 4118
expect works "DHCP renewal" lease
expect works "DNS to the server DHCP handed out" dns "$NS_A" 198.51.100.1
expect blocked "DNS to any other server" dns "$NS_A" 192.0.2.10
expect works "path MTU: ICMP 3/4 from the router reaches the agent" pmtu 203.0.113.10
run ctl explain out tcp 198.51.100.2:40000 203.0.113.10:4120

step "An attack: the outsider asks the web server for /etc/passwd"
expect blocked "outsider -> agent web, GET /etc/passwd" web "$NS_O" /etc/passwd
say "the IPS dropped it; the event log says (EVE JSON):"
grep -m1 '"event_type":"alert"' "$T/events.json" 2>/dev/null | sed 's/^/      /' ||
	say "(no alert event found)"
expect works "the alert names the rule: sid 1000001 rev 1, blocked, with a community_id" alert_logged
run ctl stats

step "At the console: lifelinectl reset - the empty policy, at once, persisted"
run ctl reset
expect works "agent -> outsider TCP 8080" tcp "$NS_A" 192.0.2.10 8080
expect works "heartbeat agent -> manager" tls "$NS_A" 203.0.113.10 4120

step "And when the engine itself is hung? The bad policy again, SIGSTOP the engine, reset anyway"
ctl load "$T/bad.pol" >/dev/null 2>&1
kill -STOP "$ENGINE_PID"
run ctl reset
expect works "agent -> outsider TCP 8080 with the engine stopped" tcp "$NS_A" 192.0.2.10 8080
kill -CONT "$ENGINE_PID"

step "Cleaning up: engine stopped, namespaces deleted"
stop_engine TERM
if [ "$FAILED" = 0 ]; then
	printf '\n%sDemo complete: every step behaved as expected.%s\n' "$BOLD" "$OFF"
else
	printf '\n%sDemo complete, but some step did not behave as expected (see [!!]).%s\n' "$BOLD" "$OFF"
fi
exit "$FAILED"
