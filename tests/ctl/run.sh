#!/bin/bash
# run.sh - lifelinectl against the real control server, with a fake engine
# (build/tests/test_control --fake-engine): load and its diff, confirm and
# rollback with the timer, signed policies, reset with and without an
# engine (kernel cases inside a network namespace of our own), status exit
# codes, non-root peers, garbage on the socket, doctor. Prints "ok NAME" or
# "not ok NAME - why" per case.
set -u
cd "$(dirname "$0")/../.."
B=${B:-build}
ROOT=$PWD
CTLBIN=$ROOT/$B/lifelinectl
FAKE=$ROOT/$B/tests/test_control
NS=llctl-$$
T=$(mktemp -d /tmp/llctl.XXXXXX)
. tests/lib/proc.sh # stop_wait
chmod 755 "$T"
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

ok() { echo "ok $1"; }
nok() { echo "not ok $1 - $2"; }
# check NAME CONDITION-COMMAND... : ok when the command succeeds
check() { local n=$1; shift; if "$@"; then ok "$n"; else nok "$n" "${WHY:-$*}"; fi; WHY=; }
has() { grep -q -- "$2" "$1" || { WHY="'$2' not in: $(head -c 400 "$1" | tr '\n' '|')"; false; }; }
# until_true SECS CMD...: poll CMD every 0.1 s until it succeeds; a state to wait for, not a sleep
until_true() { local i; for ((i = 0; i < $1 * 10; i++)); do "${@:2}" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }

for f in "$CTLBIN" "$FAKE"; do
	[ -x "$f" ] || { nok setup "$f missing: make B=$B build-tests"; exit 0; }
done

# conf NAME [extra directives...]: a config with its own state dir and socket
conf() {
	local n=$1; shift
	mkdir -p "$T/$n"
	{ echo "state-dir $T/$n/state"; echo "control-socket $T/$n/run/c.sock"
	  echo "manager 203.0.113.10"; echo "dns-server 198.51.100.1"; echo "host 198.51.100.2"
	  for l in "$@"; do echo "$l"; done; } > "$T/$n/ll.conf"
	chmod -R a+rX "$T/$n"
}
# start NAME [netns] [fake args...]: start the fake engine, wait until it answers
start() {
	local n=$1 ns=$2; shift 2
	local pre=(); [ -n "$ns" ] && pre=(ip netns exec "$ns")
	"${pre[@]}" "$FAKE" --fake-engine "$T/$n/ll.conf" "$@" > "$T/$n/engine.out" 2>&1 &
	PIDS+=($!)
	echo $! > "$T/$n/pid"
	for _ in $(seq 50); do grep -qs ready "$T/$n/engine.out" && return 0; sleep 0.1; done
	cat "$T/$n/engine.out" >&2
	return 1
}
stop() { local p; p=$(cat "$T/$1/pid"); kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; }
ctl() { local n=$1; shift; "$CTLBIN" -c "$T/$n/ll.conf" "$@"; }
# run NAME args...: output in $T/out, exit code in $RC
run() { ctl "$@" > "$T/out" 2>&1; RC=$?; }

# every command answers --help with its usage on stdout, exit 0 (lifelinectl(8) says so)
for c in check explain load confirm rollback reset status stats show flows table doctor; do
	"$CTLBIN" "$c" --help > "$T/out" 2>&1; RC=$?
	check "help_$c" bash -c "[ $RC -eq 0 ] && grep -q '^usage: .* $c' '$T/out'"
done

P=$T/pol; mkdir -p "$P"
printf 'allow in tcp to any port 22 id 1\ndeny in tcp to any port 23 id 2\n' > "$P/a.pol"
printf 'allow in tcp to any port 2222 id 1\nallow in udp to any port 53 id 3\n' > "$P/b.pol"
printf 'deny in any id 9\n' > "$P/bad.pol"
printf 'allow in tcp to any port 8080 id 5\n' > "$P/c.pol"
printf 'allow in tcp to any port 70000 id 1\n' > "$P/invalid.pol"
printf 'define mgmt = { 192.0.2.0/24 }\nallow in tcp from $mgmt to any port 22 id 1\n' > "$P/t.pol"

# ---- basic engine ----
conf e1
start e1 "" --read-timeout 500 || { nok start "fake engine did not start"; exit 0; }

run e1 status; check status_answers [ $RC -eq 0 ] ; check status_text has "$T/out" "engine: running"
run e1 status --json; check status_json has "$T/out" '"engine":{"running":true'
run e1 load; check load_usage [ $RC -eq 2 ]
"$CTLBIN" --help > "$T/out" 2>&1; check help_exit_codes has "$T/out" "3 (status) engine not answering"

run e1 load "$P/invalid.pol"
check load_invalid_exit [ $RC -eq 1 ]; check load_invalid_loc has "$T/out" "invalid.pol:1:"
run e1 load "$P/a.pol"
check load_a [ $RC -eq 0 ]; check load_a_diff has "$T/out" "rules: 2 added, 0 removed, 0 changed"
run e1 load "$P/b.pol"
check load_b_diff has "$T/out" "rules: 1 added, 1 removed, 1 changed"
check load_b_lines has "$T/out" "+ allow in udp to any port 53 id 3"
check persist_current cmp -s "$P/b.pol" "$T/e1/state/current.pol"
check persist_last_good cmp -s "$P/a.pol" "$T/e1/state/last-good.pol"
run e1 show; check show has "$T/out" "allow in tcp to any port 2222 id 1"
run e1 show --counters; check show_counters has "$T/out" "id 3  # 103 packets"
run e1 stats --prometheus; check stats_prometheus has "$T/out" 'lifeline_packets_total{verdict="drop"} 1'
run e1 stats --json; check stats_json has "$T/out" '"dropped":1'
# one JSON document, nothing after it (211b5bc's else went to the prometheus status block: text followed)
check stats_json_alone python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out"
# the lifeline the kernel passes is not counted: said, not left to read as "lifeline 0 passed"
run e1 stats; check stats_lifeline_uncounted has "$T/out" "^by (what reached the engine; the kernel's lifeline rules pass heartbeat, DHCP, DNS and PMTU packets unseen and uncounted"
run e1 stats --prometheus; check stats_prometheus_lifeline_help has "$T/out" '^# HELP lifeline_reason_total .*heartbeat, dhcp, dns and pmtu passed by the kernel.s lifeline rules are not counted'
# what status tells, as gauges: a collector of `stats --prometheus` alone sees a host gone offline
check stats_prometheus_heartbeat bash -c "grep -q '^lifeline_heartbeat_online 1$' '$T/out' &&
	grep -q '^lifeline_heartbeat_last_seen_timestamp_seconds [1-9][0-9]*$' '$T/out' &&
	grep -q '^lifeline_heartbeat_missed 0$' '$T/out'"

# confirm timer: not confirmed -> back to b.pol by itself
run e1 load --confirm 1 "$P/bad.pol"; check confirm_load has "$T/out" "within 1 s"
run e1 status; check confirm_pending has "$T/out" "confirm: pending"
until_true 10 bash -c "'$CTLBIN' -c '$T/e1/ll.conf' show | grep -q 'port 2222 id 1'"
run e1 show; check confirm_timeout_rolled_back has "$T/out" "port 2222 id 1"
check confirm_timeout_persisted cmp -s "$P/b.pol" "$T/e1/state/current.pol"
run e1 confirm; check confirm_nothing [ $RC -eq 1 ]
check confirm_too_late_says has "$T/out" "too late: the confirm deadline passed at .* and the engine went back to policy sha256 "
# confirm names what it confirms: a later load --confirm by someone else is not kept by
# the first one's confirm (its hash, as load printed it)
run e1 load --confirm 30 "$P/a.pol"; check confirm_named_printed has "$T/out" "run .lifelinectl confirm [0-9a-f]\{16\}. within 30 s"
sha_a=$(sed -n 's/.*lifelinectl confirm \([0-9a-f]*\).*/\1/p' "$T/out")
run e1 load --confirm 30 "$P/c.pol"; check confirm_replaced_says has "$T/out" "the last confirmed policy comes back, not the one this load replaced"
check confirm_replaced_last_good cmp -s "$P/b.pol" "$T/e1/state/last-good.pol" # not a.pol, never confirmed
sha_c=$(sed -n 's/.*lifelinectl confirm \([0-9a-f]*\).*/\1/p' "$T/out")
run e1 confirm "$sha_a"; check confirm_other_refused bash -c "[ $RC -eq 1 ] && grep -q 'not confirmed: the policy awaiting confirm is sha256 $sha_c, not $sha_a' '$T/out'"
run e1 status; check confirm_other_still_pending has "$T/out" "confirm: pending"
run e1 confirm nothex; check confirm_bad_hash_usage [ $RC -eq 2 ]
run e1 confirm "$sha_c"; check confirm_named_ok [ $RC -eq 0 ]
run e1 show; check confirm_named_kept has "$T/out" "port 8080 id 5"
run e1 rollback # back to b.pol, as the tests below expect
# confirmed in time -> stays
run e1 load --confirm 2 "$P/c.pol"; run e1 confirm; check confirm_ok [ $RC -eq 0 ]
sleep 2.5
run e1 show; check confirm_kept has "$T/out" "port 8080 id 5"
run e1 rollback; check rollback [ $RC -eq 0 ]
# as load: what happened first, then the diff and its counts
check rollback_said_first bash -c "head -1 '$T/out' | grep -q '^rolled back to the last-good policy (sha256 ' && tail -1 '$T/out' | grep -q '^rules: '"
run e1 show; check rollback_policy has "$T/out" "port 2222 id 1"
# confirm timer with last-good unusable: not the unconfirmed policy (it may be the lock-out)
# but the empty policy, as after reset, and the log says why
run e1 load --confirm 1 "$P/bad.pol"
printf 'deny in bogus\n' > "$T/e1/state/last-good.pol"
until_true 10 bash -c "'$CTLBIN' -c '$T/e1/ll.conf' status | grep -q 'confirm: none pending'"
run e1 show; check confirm_unusable_not_kept bash -c "! grep -q 'id 9' '$T/out'"
run e1 status; check confirm_unusable_empty has "$T/out" "0 firewall rules"
check confirm_unusable_why has "$T/e1/engine.out" "confirm deadline passed: cannot roll back: .*last-good.pol:1:9: unknown protocol 'bogus'"
check confirm_unusable_said has "$T/e1/engine.out" "last-good is unusable, so the empty policy runs"
check confirm_unusable_persisted bash -c "[ ! -s '$T/e1/state/current.pol' ]"
run e1 load "$P/b.pol" # back to the policy before

# flows, explain (online), table
run e1 flows; check flows_all has "$T/out" "3 flows"
run e1 flows tcp port 80; check flows_filter has "$T/out" "^1 flow$"
run e1 flows tcp flags SYN; check flows_explain_word bash -c "[ $RC -eq 2 ] && grep -q \"'flags' describes one packet (explain), not a flow\" '$T/out'"
run e1 flows 198.51.100.2 203.0.113.10:4120; check flows_two_ends has "$T/out" "^1 flow$"
run e1 flows in tcp; check flows_dir has "$T/out" "^0 flows$"
# a prefix or any for an address, as conntrack -D -s NET and pfctl -k NET
run e1 flows 192.0.2.0/24; check flows_prefix has "$T/out" "^2 flows$"
run e1 flows tcp any any:80; check flows_any_port has "$T/out" "192.0.2.80:80 accept"
check flows_any_port_one has "$T/out" "^1 flow$"
run e1 flows "[2001:db8::/32]:443"; check flows_v6_prefix has "$T/out" "^0 flows$"
# port N: either side's port, with the ends (tcpdump's host and port), not a second end
run e1 flows 198.51.100.2 port 40001; check flows_host_and_port has "$T/out" "^1 flow$"
run e1 flows any any port 53; check flows_any_any_port has "$T/out" "192.0.2.53:53 accept"
run e1 flows 192.0.2.0/33; check flows_bad_prefix bash -c "[ $RC -eq 2 ] && grep -q 'ADDR: an address, ADDR/LEN or any' '$T/out'"
run e1 flows --kill udp; check flows_kill has "$T/out" "1 flow dropped"
run e1 explain in tcp 203.0.113.10:4120 198.51.100.2:40000
check explain_online has "$T/out" "by: lifeline"
# an interface Linux cannot name is refused, as a policy refuses it, not answered
run e1 explain in tcp 192.0.2.7:1 198.51.100.2:23 on eth0:1
check explain_bad_ifname bash -c "[ $RC -eq 2 ] && grep -q 'cannot name a Linux interface' '$T/out'"
# no IPv6 packet ends in an extension header: the engine judges what follows it
run e1 explain in proto 51 2001:db8::7 2001:db8::2
check explain_v6_exthdr_proto bash -c "[ $RC -eq 2 ] && grep -q 'judged by the protocol after its extension headers' '$T/out'"
run e1 load "$P/t.pol"
run e1 table mgmt add 203.0.113.7 198.51.100.0/25; check table_add [ $RC -eq 0 ]
check table_add_canonical bash -c "grep -q '^mgmt = { .*, ' '$T/out' && ! grep -q '^mgmt = { [^,]* [^,]* }' '$T/out'"
run e1 table mgmt show; check table_show has "$T/out" "203.0.113.7"
# a name no define can have is a usage error, not "control.sock: Invalid argument" (ops19 L6)
run e1 table é show; check table_bad_name bash -c "[ $RC -eq 2 ] && grep -q 'bad set NAME' '$T/out'"
check table_persisted grep -q "203.0.113.7" "$T/e1/state/current.pol"
run e1 explain in tcp 203.0.113.7:1000 198.51.100.2:22; check table_explain has "$T/out" "reason: allow"
# as nft and ipset: what the set holds is not added twice; what it lacks cannot be deleted
run e1 table mgmt add 203.0.113.7; check table_add_again [ $RC -eq 0 ]
check table_add_again_says has "$T/out" "already in the set; nothing changed"
run e1 table mgmt show; check table_add_again_once [ "$(grep -c '^203\.0\.113\.7$' "$T/out")" = 1 ]
run e1 table mgmt delete 203.0.113.99; check table_delete_absent [ $RC -eq 1 ]
check table_delete_absent_says has "$T/out" "203.0.113.99 is not in the set; nothing changed"
run e1 table mgmt delete 203.0.113.7; run e1 table mgmt show
check table_delete bash -c "! grep -q 203.0.113.7 '$T/out'"
run e1 table nosuch show; check table_nosuch [ $RC -eq 1 ]
# A-B is a range of two addresses and A/N a prefix: "10.0.0.1-5" is not 8.0.0.0/5
run e1 table mgmt add 10.0.0.1-5; check table_range_not_prefix [ $RC -eq 1 ]
run e1 table mgmt add 10.0.0.0/10.0.0.5; check table_prefix_not_range [ $RC -eq 1 ]
run e1 table mgmt show; check table_bad_changed_nothing bash -c "! grep -q '^8\.\|^10\.' '$T/out'"
# a set name of any length (a fixed buffer once cut names of 118+ characters short)
long=$(printf 'n%.0s' $(seq 130))
printf 'define %s = { 192.0.2.0/24 }\nallow in tcp from $%s to any port 22 id 1\n' "$long" "$long" > "$P/long.pol"
run e1 load "$P/long.pol"
run e1 table "$long" add 203.0.113.7; check table_long_name [ $RC -eq 0 ]
run e1 table "$long" show; check table_long_name_show has "$T/out" "203.0.113.7"
# an IPv6 prefix covers no IPv4 address, as in the policy language (pf, nft): deleting ::/0
# emptied a set of its IPv4 addresses too; and a set holding ::/0 and 0.0.0.0/0 (every
# address) prints back, less one, in pieces the parser reads (it printed "::-192.0.2.64")
printf 'define blocked = { 192.0.2.66 2001:db8::/48 }\ndeny in tcp from $blocked to any port 22 id 1\nallow in tcp to any port 22 id 2\n' > "$P/fam.pol"
run e1 load "$P/fam.pol"
run e1 table blocked delete ::/0; check table_v6_delete_keeps_v4 [ $RC -eq 0 ]
run e1 table blocked show; check table_v6_delete_keeps_v4_show bash -c "grep -qx '192.0.2.66' '$T/out' && ! grep -q 2001 '$T/out'"
run e1 explain in tcp 192.0.2.66:1000 198.51.100.2:22; check table_v6_delete_v4_still_denied has "$T/out" "verdict: drop"
run e1 table blocked delete ::/64; check table_v6_prefix_holds_no_v4 [ $RC -eq 1 ]
run e1 table blocked add ::/0 0.0.0.0/0; run e1 table blocked delete 192.0.2.65
check table_all_less_one [ $RC -eq 0 ]
run e1 explain in tcp 192.0.2.65:1000 198.51.100.2:22; check table_all_less_one_v4 has "$T/out" "verdict: accept"
run e1 explain in tcp 192.0.2.64:1000 198.51.100.2:22; check table_all_less_one_v4_kept has "$T/out" "verdict: drop"
run e1 explain in tcp [2001:db8:9::1]:1000 [2001:db8::2]:22; check table_all_less_one_v6_kept has "$T/out" "verdict: drop"
# an IPv4-mapped IPv6 address is refused, as in the policy: it went in as the IPv4 address
run e1 load "$P/fam.pol"
run e1 table blocked add ::ffff:192.0.2.9; check table_v4_mapped_refused [ $RC -ne 0 ]
check table_v4_mapped_says has "$T/out" "'::ffff:192.0.2.9': an IPv4-mapped IPv6 address"
run e1 explain in tcp 192.0.2.9:1000 198.51.100.2:22; check table_v4_mapped_not_added has "$T/out" "verdict: accept"
# a client whose monotonic clock is another (a time namespace) is heard: until= is wall-clock
if unshare -T --monotonic=-100 --fork true 2>/dev/null; then
	unshare -T --monotonic=-100 --fork "$CTLBIN" -c "$T/e1/ll.conf" table blocked add 192.0.2.77 > "$T/out" 2>&1
	check time_namespace_client_heard [ $? -eq 0 ]
else
	echo "ok time_namespace_client_heard # SKIP no time namespaces"
fi
run e1 load "$P/t.pol" # back to the policy the next cases expect
# without trusted-key a .sig is not checked: status does not call the policy signed
printf 'allow in tcp to any port 22 id 1\n' > "$T/forged.pol"; echo junk > "$T/forged.pol.sig"
run e1 load "$T/forged.pol"; run e1 status --json
check unverified_not_signed has "$T/out" '"signed":false'
run e1 load "$P/t.pol"
# SIGUSR2 reads current.pol again, on the server thread (between requests)
# usr2 NAME shows PATTERN | usr2 NAME kept: signal, then wait (10 s at most) for the
# policy `show` prints to have PATTERN, or for one more "running policy kept" in the log
usr2() {
	local n; n=$(grep -c "running policy kept" "$T/$1/engine.out")
	kill -USR2 "$(cat "$T/$1/pid")"
	if [ "$2" = shows ]; then
		until_true 10 bash -c "'$CTLBIN' -c '$T/$1/ll.conf' show | grep -q '$3'"
	else
		until_true 10 bash -c "[ \$(grep -c 'running policy kept' '$T/$1/engine.out') -gt $n ]"
	fi
}
cp "$T/e1/state/current.pol" "$T/saved.pol"
printf 'deny in tcp to any port 2323 id 77\n' > "$T/e1/state/current.pol"; usr2 e1 shows "port 2323 id 77"
run e1 show; check usr2_reload has "$T/out" "port 2323 id 77"
printf 'deny in bogus\n' > "$T/e1/state/current.pol"; usr2 e1 kept
run e1 show; check usr2_invalid_kept has "$T/out" "port 2323 id 77"
check usr2_invalid_said has "$T/e1/engine.out" "policy reload: .*current.pol:1:9: unknown protocol 'bogus'"
check usr2_invalid_kept_said has "$T/e1/engine.out" "policy reload: running policy kept"
# a missing current.pol is a mistake there, not the empty policy (reset is for that)
mv "$T/e1/state/current.pol" "$T/gone.pol"; usr2 e1 kept
run e1 show; check usr2_missing_kept has "$T/out" "port 2323 id 77"
check usr2_missing_said has "$T/e1/engine.out" "current.pol: No such file or directory (lifelinectl reset runs the empty policy)"
mv "$T/gone.pol" "$T/e1/state/current.pol"
cp "$T/saved.pol" "$T/e1/state/current.pol"; usr2 e1 shows "define mgmt"
run e1 show; check usr2_back has "$T/out" "define mgmt"

# non-root peers: reading works, changing is refused by the server (SO_PEERCRED)
asnobody() { setpriv --reuid=65534 --regid=0 --clear-groups "$CTLBIN" -c "$T/e1/ll.conf" "$@" > "$T/out" 2>&1; RC=$?; }
asnobody status; check nonroot_status [ $RC -eq 0 ]
asnobody load "$P/a.pol"; check nonroot_load_refused has "$T/out" "permission denied"
check nonroot_load_exit [ $RC -eq 1 ]
asnobody rollback; check nonroot_rollback_refused has "$T/out" "permission denied"
asnobody flows --kill; check nonroot_kill_refused has "$T/out" "permission denied"
asnobody reset; check nonroot_reset_refused bash -c "[ $RC -eq 1 ] && grep -q 'needs root' '$T/out'"
# the engine refuses a RESET from anyone else too, whatever the client
setpriv --reuid=65534 --regid=0 --clear-groups /usr/bin/python3 - "$T/e1/run/c.sock" <<'PY' > "$T/out" 2>&1
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(3)
s.sendall(b"\x00\x00\x00\x06RESET\n"); print("reply", s.recv(200))
PY
check nonroot_reset_denied_by_engine has "$T/out" "reply b'.*denied"
run e1 show; check nonroot_changed_nothing has "$T/out" "define mgmt"
# not even in the socket's group: the socket refuses; status cannot tell (LSB 4), not "not running"
setpriv --reuid=65534 --regid=65534 --clear-groups "$CTLBIN" -c "$T/e1/ll.conf" status > "$T/out" 2>&1; RC=$?
check nogroup_status_unknown [ $RC -eq 4 ]
check nogroup_status_says has "$T/out" "permission denied"
# load for that user: not "no engine answered" (one runs), but why it could not be asked
setpriv --reuid=65534 --regid=65534 --clear-groups "$CTLBIN" -c "$T/e1/ll.conf" load "$P/a.pol" > "$T/out" 2>&1
check nogroup_load_says_why has "$T/out" "nothing was loaded (the engine could not be asked: loading needs root)"
# doctor for that user: who may ask, not "restart lifelined"; the engine's checks skipped
setpriv --reuid=65534 --regid=65534 --clear-groups "$CTLBIN" -c "$T/e1/ll.conf" doctor > "$T/out" 2>&1
check nogroup_doctor_socket has "$T/out" "^warn  control socket .*run doctor as root or as a member of group lifeline"
check nogroup_doctor_skips bash -c "grep -q '^warn  last heartbeat .*not checked: no access' '$T/out' && ! grep -q 'restart lifelined' '$T/out'"

# an engine that takes the whole LOAD and then closes without answering: it may have loaded it
conf lost
mkdir -p "$T/lost/run"
timeout 20 python3 - "$T/lost/run/c.sock" <<'PY' &
import socket, struct, sys
srv = socket.socket(socket.AF_UNIX); srv.bind(sys.argv[1]); srv.listen(4)
def frame(c):
    n = b""
    while len(n) < 4: n += c.recv(4 - len(n))
    want, d = struct.unpack(">I", n)[0], b""
    while len(d) < want: d += c.recv(want - len(d))
    return d
for _ in range(2):
    c, _ = srv.accept(); d = frame(c)
    if d.startswith(b"STATUS"):
        c.sendall(struct.pack(">I", 3) + b"ok\n")
    c.close()
PY
PIDS+=($!)
until_true 5 test -S "$T/lost/run/c.sock"
run lost load "$P/a.pol"
check load_answer_lost_exit1 [ $RC -eq 1 ]
check load_answer_lost_may_have has "$T/out" "the engine got it but its answer was lost: it may have loaded it"

# garbage on the socket: the server answers, or closes, and keeps serving
python3 - "$T/e1/run/c.sock" <<'PY' > "$T/out" 2>&1
import socket, sys, time
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(3); return s
s = conn(); s.sendall(b"\x00\x00\x00\x08GARBAGE!"); print("reply1", s.recv(100)); s.close()
s = conn(); s.sendall(b"\xff\xff\xff\xff"); print("reply2", s.recv(100)); s.close()
s = conn(); s.sendall(b"\x00\x00"); s.close()
s = conn(); s.sendall(b"\x00\x00\x01\x00STAT"); t = time.time(); d = s.recv(100); print("slow", d, round(time.time() - t, 1)); s.close()
PY
check garbage_reply has "$T/out" "bad-request"
check garbage_oversized has "$T/out" "reply2.*too large"
check slow_client_cut has "$T/out" "slow b'' "
run e1 status; check garbage_still_serving [ $RC -eq 0 ]

# includes resolve next to the policy; the persisted copy has them expanded
mkdir -p "$P/inc"; printf 'deny in tcp to any port 25 id 40\n' > "$P/inc/mail.rules"
printf 'include "inc/mail.rules"\nallow in tcp to any port 22 id 41\n' > "$P/inc.pol"
run e1 load "$P/inc.pol"; check load_include has "$T/out" "+ deny in tcp to any port 25 id 40"
check persist_include_expanded bash -c "grep -q 'port 25 id 40' '$T/e1/state/current.pol' && ! grep -q include '$T/e1/state/current.pol'"
# what check takes, load takes: a 40 MiB policy (one limit, POLICY_MAX_BYTES, for both)
{ printf 'allow in tcp to any port 4040 id 44\n'
  head -c $((40 << 20)) /dev/zero | tr '\0' x | fold -w 1023 | sed 's/^/#/'; } > "$P/big.pol"
run e1 check "$P/big.pol"; check big_check [ $RC -eq 0 ]
run e1 load "$P/big.pol"; check big_load has "$T/out" "+ allow in tcp to any port 4040 id 44"
rm -f "$P/big.pol"
# a deny of what the lifeline passes first is valid, and check says it never fires
printf 'deny in icmp6 type packet-too-big id 1\nallow in icmp6 type packet-too-big id 2\n' > "$P/ptb.pol"
run e1 check "$P/ptb.pol"
check check_lifeline_note bash -c "[ $RC -eq 0 ] && grep -q 'ptb.pol:1:1: note: rule id 1 never fires' '$T/out' && ! grep -q 'rule id 2' '$T/out'"
# nor does an IPS rule that only meets the lifeline (it skips the IPS): ET's DynoRoot DHCP rule
printf 'alert udp any 67 -> any 68 (msg:"dhcp"; content:"|35 01 05 fc|"; sid:7;)\nalert udp any any -> any 68 (msg:"x"; content:"y"; sid:8;)\nalert icmp any any -> any any (msg:"pmtu"; itype:3; icode:4; sid:9;)\n' > "$P/llips.pol"
run e1 check "$P/llips.pol"
check check_lifeline_ips_note bash -c "[ $RC -eq 0 ] && grep -q 'llips.pol:1:1: note: IPS rule sid 7 never fires: the lifeline passes DHCP' '$T/out' && grep -q 'llips.pol:3:1: note: IPS rule sid 9 never fires: the lifeline passes ICMP fragmentation-needed' '$T/out' && ! grep -q 'sid 8' '$T/out'"
# nor does a rule on lo, live: the kernel rules pass loopback first (pf23 F3)
printf 'deny in any on lo id 1\ndeny in any on eth0 id 2\n' > "$P/lo.pol"
run e1 check "$P/lo.pol"
check check_loopback_note bash -c "[ $RC -eq 0 ] && grep -q 'lo.pol:1:1: note: rule id 1 never fires live: the kernel rules pass loopback' '$T/out' && ! grep -q 'rule id 2' '$T/out'"
run e1 load "$P/inc.pol" # back to the policy before

# --skip-unsupported: check, load, status and lifelined -r say what was left out, per keyword
printf 'allow in tcp to any port 22 id 1\n' > "$P/skip.pol"
printf 'alert tcp any any -> any any (http.uri; content:"/x"; sid:1;)\n' >> "$P/skip.pol"
printf 'alert tcp any any -> any any (content:"y"; sid:2;)\n' >> "$P/skip.pol"
"$CTLBIN" check --skip-unsupported "$P/skip.pol" > "$T/out" 2>&1
check skip_check has "$T/out" "1 IPS rule (1 skipped)"
check skip_check_kw has "$T/out" "skipped 1 IPS rule with unsupported keyword 'http.uri'"
run e1 load "$P/skip.pol"; check skip_load_refused [ $RC -eq 1 ]
check skip_load_hint has "$T/out" "unsupported keyword 'http.uri' (--skip-unsupported loads the policy without such rules)"
run e1 load --skip-unsupported "$P/skip.pol"
check skip_load has "$T/out" "1 IPS rule (1 skipped)"
check skip_load_kw has "$T/out" "skipped 1 IPS rule with unsupported keyword 'http.uri'"
# the diff lists the skipped rule with the added ones: its summary says why it is not loaded
check skip_load_diff has "$T/out" "IPS rules: 2 added, 0 removed (0 -> 1 loaded, 1 of the new policy's skipped as unsupported)"
run e1 status; check skip_status has "$T/out" "1 IPS rule (1 skipped)"
run e1 status --json; check skip_status_json has "$T/out" '"ips_rules":1,"ips_skipped":1,'
"$ROOT/$B/lifelined" -r "$ROOT/pcaps/heartbeat.pcap" -p "$P/skip.pol" --skip-unsupported > /dev/null 2> "$T/out"
check skip_replay has "$T/out" "skip.pol: skipped 1 IPS rule with unsupported keyword 'http.uri'"
# a typo is not an unsupported keyword: --skip-unsupported must not drop the rule quietly
printf 'alert tcp any any -> any any (( content:"a"; sid:3;)\n' >> "$P/skip.pol"
"$CTLBIN" check --skip-unsupported "$P/skip.pol" > "$T/out" 2>&1; RC=$?
check skip_typo_refused bash -c "[ $RC -eq 1 ] && grep -q \"'( content' is not a keyword\" '$T/out'"
# replay resolves no names: a manager given by name gets a warning, not silence
printf 'manager manager.example.net\nhost 198.51.100.2\n' > "$T/named.conf"
"$ROOT/$B/lifelined" -r "$ROOT/pcaps/heartbeat.pcap" -c "$T/named.conf" > /dev/null 2> "$T/out"
check replay_named_manager_warns has "$T/out" "manager manager.example.net is a host name; replay resolves no names"
# lifelined runs one mode at a time: conflicting modes are usage errors, not silently ignored
"$ROOT/$B/lifelined" -r "$ROOT/pcaps/heartbeat.pcap" --print-hooks > /dev/null 2>&1; RC=$?
check lifelined_modes_replay_hooks [ $RC -eq 2 ]
"$ROOT/$B/lifelined" -r "$ROOT/pcaps/heartbeat.pcap" -f > /dev/null 2>&1; RC=$?
check lifelined_modes_replay_foreground [ $RC -eq 2 ]
run e1 reset; check reset_engine [ $RC -eq 0 ]; check reset_engine_said has "$T/out" "engine answered"
check reset_persisted [ ! -s "$T/e1/state/current.pol" ]
# -r is reset (as dsa_control -r), for a console at 3 a.m.
run e1 load "$P/a.pol"; run e1 -r
check reset_alias_r bash -c "[ $RC -eq 0 ] && grep -q 'engine answered' '$T/out'"
run e1 show; check reset_alias_r_empty bash -c "! grep -q 'id 1' '$T/out'"
check reset_alias_r_persisted [ ! -s "$T/e1/state/current.pol" ]
# another process holding state.lock (a stopped lifelinectl, a hung disk) does not make a
# healthy engine's reset look hung: it answers within the console's 1 s, and says why it was slow
run e1 load "$P/a.pol"
flock -o "$T/e1/state/state.lock" sleep 5 & HOLD=$! # -o: killing flock frees the lock
sleep 0.3
run e1 reset
check reset_lock_held_engine_answered bash -c "[ $RC -eq 0 ] && grep -q 'engine answered' '$T/out' &&
	! grep -q 'did not reset' '$T/out'"
check reset_lock_held_said has "$T/out" "another process held .*state.lock"
run e1 show; check reset_lock_held_empty bash -c "! grep -q 'id 1' '$T/out'"
kill $HOLD 2>/dev/null; wait $HOLD 2>/dev/null
# a hung engine: requests that may rightly take long (flows, table, load) say so in
# seconds, as the reading ones do, not after their 120 s allowance
stop_wait "$(cat "$T/e1/pid")"
for c in flows "table mgmt show" "load $P/a.pol"; do
	timeout 60 "$CTLBIN" -c "$T/e1/ll.conf" $c > "$T/out" 2>&1; RC=$?
	check "hung_${c%% *}_exit1" [ $RC -eq 1 ]
	check "hung_${c%% *}_said" has "$T/out" "did not answer in time"
done
kill -CONT "$(cat "$T/e1/pid")"
stop e1
run e1 status; check status_no_engine_exit3 [ $RC -eq 3 ]
# JSON either way: a monitor parses stdout (the reason stays on stderr)
ctl e1 status --json > "$T/out" 2>/dev/null; RC=$?
check status_json_no_engine bash -c "[ $RC -eq 3 ] && python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))[\"engine\"][\"running\"] is not False)' '$T/out'"
# an engine still compiling its start-up policy holds the state directory's lock and has
# no socket yet: said so, not "engine not running?", nor doctor's "restart lifelined",
# which would start the compile over (ops26)
# (a process named lifelined: only a lifelined is called one)
mkdir -p "$T/bin"
printf '#!/usr/bin/python3\nimport fcntl, sys, time\nf = open(sys.argv[1], "w")\nfcntl.flock(f, fcntl.LOCK_EX)\ntime.sleep(30)\n' \
	> "$T/bin/lifelined"
chmod 755 "$T/bin/lifelined"
"$T/bin/lifelined" "$T/e1/state/lifelined.lock" & LOCKER=$!
PIDS+=("$LOCKER")
until_true 5 grep -q "FLOCK .* WRITE $LOCKER " /proc/locks
run e1 status
check status_starting_exit3 [ $RC -eq 3 ]
check status_starting_said has "$T/out" "no answer yet: lifelined pid $LOCKER holds .*lifelined.lock: it is starting"
run e1 doctor
check doctor_starting_said has "$T/out" "^FAIL  control socket .*pid $LOCKER holds .*: it is starting"
check doctor_starting_no_restart bash -c "! grep -q '^FAIL  control socket.*restart lifelined$' '$T/out'"
# one that wrote its pidfile got ready once: its socket was removed under it (a stray rm), it
# answers never again, and "wait for it" is the wrong advice; restart is the fix
cp "$T/e1/state/lifelined.pid" "$T/pid.saved" 2>/dev/null; echo "$LOCKER" > "$T/e1/state/lifelined.pid"
run e1 doctor
check doctor_ready_no_socket_not_starting bash -c "! grep -q 'it is starting' '$T/out' && grep -q '^FAIL  control socket.*restart lifelined$' '$T/out'"
if [ -f "$T/pid.saved" ]; then mv "$T/pid.saved" "$T/e1/state/lifelined.pid"; else rm -f "$T/e1/state/lifelined.pid"; fi
kill "$LOCKER"; wait "$LOCKER" 2>/dev/null
# another tool's lock (flock(1), a backup script) is no lifelined, starting or not
python3 -c 'import fcntl, sys, time; f = open(sys.argv[1], "w"); fcntl.flock(f, fcntl.LOCK_EX); time.sleep(30)' \
	"$T/e1/state/lifelined.lock" & LOCKER=$!
PIDS+=("$LOCKER")
until_true 5 grep -q "FLOCK .* WRITE $LOCKER " /proc/locks
run e1 status
check status_other_locker_not_lifelined bash -c "[ $RC -eq 3 ] && ! grep -q 'lifelined pid $LOCKER' '$T/out'"
kill "$LOCKER"; wait "$LOCKER" 2>/dev/null
run e1 status; check status_stopped_not_starting bash -c "[ $RC -eq 3 ] && ! grep -q 'it is starting' '$T/out'"
# an unusable config: whether an engine runs is not known, and a monitor still gets JSON
printf 'no-such-directive 1\n' > "$T/broken.conf"
"$CTLBIN" -c "$T/broken.conf" status --json > "$T/out" 2>/dev/null; RC=$?
check status_json_bad_config bash -c "[ $RC -eq 4 ] && python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))[\"engine\"][\"running\"] is not None)' '$T/out'"
# a command that finds no engine names the next step
run e1 status; check status_no_engine_next_step has "$T/out" "lifelinectl doctor. tells why; .lifelinectl reset. unblocks the host"
# a lifelined still compiling its start-up policy (lock held, no socket, no pidfile): a monitor
# reading JSON is told so, as stderr and doctor say it; {"running":false} alone had it restart
# the engine and its compile over (rvw of ops26 F3)
mkdir -p "$T/bin3"
printf '#!/usr/bin/python3\nimport fcntl, sys, time\nf = open(sys.argv[1], "w")\nfcntl.flock(f, fcntl.LOCK_EX)\ntime.sleep(30)\n' \
	> "$T/bin3/lifelined"
chmod 755 "$T/bin3/lifelined"
"$T/bin3/lifelined" "$T/e1/state/lifelined.lock" & LOCKER=$!
PIDS+=("$LOCKER")
until_true 5 grep -q "FLOCK .* WRITE $LOCKER " /proc/locks
ctl e1 status --json > "$T/out" 2>/dev/null; RC=$?
check status_json_starting python3 -c 'import json, sys; e = json.load(open(sys.argv[1]))["engine"]; sys.exit(not (e.get("starting") is True and e["pid"] == int(sys.argv[2]) and sys.argv[3] == "3"))' "$T/out" "$LOCKER" "$RC"
kill "$LOCKER"; wait "$LOCKER" 2>/dev/null
# a replay (lifelined -r, waiting on a FIFO) is no engine: doctor called it "ok  engine
# process - lifelined runs" beside "no control socket" when the engine was dead (ops26)
mkfifo "$T/cap.fifo"
"$ROOT/$B/lifelined" -r "$T/cap.fifo" > /dev/null 2>&1 & REPLAY=$!
PIDS+=("$REPLAY")
exec {CAPW}>"$T/cap.fifo" # opens once the replay has it open: it waits for a header
until_true 5 grep -qx lifelined "/proc/$REPLAY/comm"
run e1 doctor
check doctor_replay_not_engine bash -c "! grep -q '^ok    engine process .*pid $REPLAY' '$T/out'"
exec {CAPW}>&-
wait "$REPLAY" 2>/dev/null
# doctor with no engine: the cause once (control socket), the checks that ask the engine skipped
run e1 doctor
check doctor_no_engine_cause bash -c "[ $RC -eq 1 ] && grep -q '^FAIL  control socket' '$T/out'"
check doctor_no_engine_skips bash -c "grep -q '^warn  last heartbeat .*not checked' '$T/out' && grep -q '^warn  policy passes heartbeat .*not checked' '$T/out'"
# with no engine to ask, the persisted learned servers count as a start reads them: one whose
# lease has ended is left out (it was counted)
printf '198.51.100.9 1000000 0\n198.51.100.10 %s 0\n' "$(( ($(date +%s) + 3600) * 1000000 ))" > "$T/e1/state/dns-learned"
run e1 doctor; check doctor_dns_expired_lease_left_out has "$T/out" "^ok    dns servers .*1 configured, 1 learned (persisted)"
rm -f "$T/e1/state/dns-learned"
# no usable config, so no socket to ask: unknown, not "not running" (and not 1)
"$CTLBIN" -c "$T/nope.conf" status > "$T/out" 2>&1; RC=$?
check status_no_config_exit4 [ $RC -eq 4 ]
check status_no_config_said has "$T/out" "cannot read config"
"$CTLBIN" -c "$T" status > "$T/out" 2>&1; RC=$?
check status_config_dir_said bash -c "[ $RC -eq 4 ] && grep -q 'Is a directory' '$T/out'"
# check reads the config as the engine does ($HOME_NET): one named with -c must be usable
"$CTLBIN" -c "$T/nope.conf" check "$P/a.pol" > "$T/out" 2>&1; RC=$?
check check_bad_config bash -c "[ $RC -eq 1 ] && grep -q 'cannot read config' '$T/out'"
# explain's argument errors quote the word at fault
"$CTLBIN" explain -p "$P/a.pol" in tcp 192.0.2.7:99999 198.51.100.2:23 > "$T/out" 2>&1; RC=$?
check explain_bad_port_quoted bash -c "[ $RC -eq 2 ] && grep -q \"'192.0.2.7:99999' is not\" '$T/out'"
"$CTLBIN" explain -p "$P/a.pol" in udp 192.0.2.7:1 198.51.100.2:2 flags SYN > "$T/out" 2>&1; RC=$?
check explain_flags_needs_tcp bash -c "[ $RC -eq 2 ] && grep -q \"'flags' needs tcp\" '$T/out'"
# a tcp packet given without flags is the SYN that opens a connection: SPEC's own
# `deny ... tcp flags SYN` rule decides it, as it decides a SYN in replay
printf 'allow in tcp to any port 80 id 12\ndeny priority 4 in tcp flags SYN id 15\n' >"$T/syn.pol"
"$CTLBIN" explain -p "$T/syn.pol" in tcp 192.0.2.7:40000 198.51.100.2:80 > "$T/out" 2>&1
check explain_tcp_is_syn has "$T/out" "flags SYN id 15$"
"$CTLBIN" explain -p "$T/syn.pol" in tcp 192.0.2.7:40000 198.51.100.2:80 flags ACK > "$T/out" 2>&1
check explain_tcp_flags_given has "$T/out" "port 80 id 12$"
# an ICMP error's verdict in explain is the one for a quote of nothing known: it says
# what live does with a quote (pf21 F9); an echo, which quotes nothing, says nothing
"$CTLBIN" explain -p "$T/syn.pol" in icmp 192.0.2.1 198.51.100.2 type 3 code 1 > "$T/out" 2>&1
check explain_icmp_error_note has "$T/out" "^note: .*an error quoting a tracked flow is judged with that flow (by: flow"
"$CTLBIN" explain -p "$T/syn.pol" in icmp6 2001:db8::1 2001:db8::2 type 1 > "$T/out" 2>&1
check explain_icmp6_error_note has "$T/out" "^note: this is the verdict for an error quoting nothing known.*accepted by: lifeline$"
# a Packet Too Big or fragmentation needed is the lifeline's whatever it quotes: no note;
# a redirect quoting a heartbeat packet is no lifeline packet (lifeline_match_quoted())
for pmtu in "icmp6 2001:db8::1 2001:db8::2 type 2" "icmp 192.0.2.1 198.51.100.2 type 3 code 4"; do
	# shellcheck disable=SC2086 # the words of the packet
	"$CTLBIN" explain -p "$T/syn.pol" in $pmtu > "$T/out" 2>&1
	check "explain_pmtu_no_note_${pmtu%% *}" bash -c "! grep -q '^note:' '$T/out' && grep -q '^by: lifeline' '$T/out'"
done
"$CTLBIN" explain -p "$T/syn.pol" in icmp 192.0.2.1 198.51.100.2 type 5 > "$T/out" 2>&1
check explain_redirect_note bash -c "grep -q '^note: .*(by: flow, see lifelinectl flows)$' '$T/out'"
"$CTLBIN" explain -p "$T/syn.pol" in icmp 192.0.2.1 198.51.100.2 type 8 > "$T/out" 2>&1
check explain_icmp_echo_no_note bash -c "! grep -q '^note: .*error' '$T/out' && grep -q '^verdict:' '$T/out'"
# list items one apart stay apart: { 22 24 } is not 22-24, nor { .1 .3 } .1-.3
printf 'allow in tcp from { 192.0.2.1 192.0.2.3 } to any port { 22 24 } id 1\n' >"$T/gap.pol"
gap() { "$CTLBIN" explain -p "$T/gap.pol" in tcp "$1:40000" "198.51.100.2:$2" | grep -q "reason: $3"; }
check explain_list_gap_port gap 192.0.2.1 23 not-allowed
check explain_list_gap_addr gap 192.0.2.2 22 not-allowed
check explain_list_first gap 192.0.2.1 22 allow
check explain_list_last gap 192.0.2.3 24 allow
# not-allowed names no rule: the allow rule that made the direction default-deny is named (pf23 F4)
printf 'allow any icmp id 7\nallow in tcp to any port 22 id 3\n' >"$T/icmp.pol"
"$CTLBIN" explain -p "$T/icmp.pol" out tcp 198.51.100.2:40000 192.0.2.10:443 > "$T/out" 2>&1
check explain_not_allowed_names_allow has "$T/out" "^note: outbound traffic is default-deny because the policy allows some of it (the first allow rule: allow any icmp id 7)"
"$CTLBIN" explain -p "$T/icmp.pol" in tcp 198.51.100.9:40000 198.51.100.2:443 > "$T/out" 2>&1
check explain_not_allowed_lowest_id has "$T/out" "^note: inbound .*(the first allow rule: allow in tcp to any port 22 id 3)"
# loopback never reaches the live engine: explain says so beside the policy's verdict
"$CTLBIN" explain -p "$T/syn.pol" in tcp 127.0.0.1:40000 127.0.0.1:80 > "$T/out" 2>&1
check explain_loopback_noted has "$T/out" "^note: live, loopback traffic never reaches the engine"
"$CTLBIN" explain -p "$T/syn.pol" in tcp 192.0.2.7:40000 198.51.100.2:80 > "$T/out" 2>&1
check explain_other_no_note bash -c "! grep -q '^note:' '$T/out'"
# a directory where the socket belongs stops lifelined from starting: say that, not "not running"
conf sd; mkdir -p "$T/sd/run/c.sock"
run sd status
check status_socket_dir bash -c "[ $RC -eq 3 ] && grep -q 'a directory is in the control socket.s place' '$T/out'"
run e1 show; check show_no_engine_exit1 [ $RC -eq 1 ]
# no engine: load still shows every error of an invalid policy (SPEC: load validates first)
printf 'allow in tcp to any port 99999 id 1\n' > "$P/range.pol"
run e1 load "$P/range.pol"; check load_no_engine_exit1 [ $RC -eq 1 ]
check load_no_engine_errors has "$T/out" "range.pol:1:26: port '99999' out of range"
check load_no_engine_said has "$T/out" "is invalid; nothing was loaded (no engine answered)"

# restart with a pending confirm: the engine comes back with last-good
start e1 "" || nok restart "fake engine did not restart"
# every slot a reader may take held (12 idle peers, not root; the default 10 s read
# timeout): status is "not answering" (3, README's "overloaded"), JSON on stdout saying
# busy, not stopped (a monitor must not restart it); it was 1 and no JSON, LSB "dead, pidfile left"
setpriv --reuid=65534 --regid=0 --clear-groups /usr/bin/python3 - "$T/e1/run/c.sock" \
	"$CTLBIN" "$T/e1/ll.conf" <<'PY' > "$T/out" 2> "$T/err"; RC=$?
import socket, subprocess, sys, time
held = []
for _ in range(12):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.send(b"\x00"); held.append(s)
time.sleep(0.3) # the engine accepts them all first
r = subprocess.run([sys.argv[2], "-c", sys.argv[3], "status", "--json"], capture_output=True, text=True)
sys.stdout.write(r.stdout); sys.stderr.write(r.stderr); sys.exit(r.returncode)
PY
check status_busy_exit3 [ $RC -eq 3 ]
check status_busy_json python3 -c 'import json, sys; e = json.load(open(sys.argv[1]))["engine"]; sys.exit(not (e["busy"] is True and e["running"] is None))' "$T/out"
check status_busy_says has "$T/err" "busy with other clients"
run e1 load "$P/a.pol"; run e1 load --confirm 30 "$P/bad.pol"
BADH=$(ctl e1 status 2>/dev/null | sed -n 's/^policy: .*, sha256 \([0-9a-f]\{16\}\).*/\1/p')
# the engine's own deadline is named, not only what a restart does (ops23 F5)
run e1 doctor; check doctor_persisted_confirm has "$T/out" "^warn  persisted policy .*awaits .lifelinectl confirm.: the engine rolls back to last-good by itself in [0-9]* s, and a restart now would too"
stop e1; start e1 ""
run e1 show; check restart_unconfirmed_rolls_back has "$T/out" "port 22 id 1"
# and says so until the next load, as after a deadline: the log alone did, status showed
# "none pending" and a late confirm "nothing to confirm" (ops26 F7)
run e1 status
check restart_unconfirmed_status has "$T/out" "^confirm: none pending; policy sha256 ${BADH:-?} was not confirmed: the engine stopped before it was, and its start at .* brought back the policy above"
ctl e1 status --json > "$T/out" 2>/dev/null
check restart_unconfirmed_json python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["confirm"]["rolled_back"]; sys.exit(not (r["by"] == "restart" and r["unconfirmed_sha256"].startswith(sys.argv[2])))' "$T/out" "${BADH:-?}"
run e1 confirm
check restart_unconfirmed_confirm bash -c "[ $RC -eq 1 ] && grep -q 'too late: the engine stopped before policy sha256 ${BADH:-?} was confirmed, and its start at .* went back to policy sha256 ' '$T/out'"
# restart with a broken current.pol: last-good, not no rules; the broken file kept
run e1 load "$P/c.pol"
stop e1; printf 'deny in bogus\n' > "$T/e1/state/current.pol"; start e1 ""
check restart_corrupt_said has "$T/e1/engine.out" "current.pol:1:9: unknown protocol 'bogus'; started with last-good (2 firewall rules, 0 sets), now current"
run e1 show; check restart_corrupt_last_good has "$T/out" "port 22 id 1"
check restart_corrupt_kept grep -q bogus "$T/e1/state/current.pol.bad"
check restart_corrupt_current_replaced grep -q "port 22 id 1" "$T/e1/state/current.pol"
run e1 doctor; check doctor_persisted_bad has "$T/out" "^warn  persisted policy .*current.pol.bad exists: an engine started with last-good, as current.pol was broken or state.meta unreadable"
check doctor_persisted_bad_next has "$T/out" "^warn  persisted policy .*the log says which; .lifelinectl check. the file and load it if it is the policy wanted; remove it once read"
printf 'deny in bogus\n' > "$T/e1/state/current.pol"
run e1 doctor; check doctor_persisted_broken has "$T/out" "^warn  persisted policy .*current.pol:1:9: unknown protocol 'bogus': a restart would run last-good"
run e1 load "$P/a.pol"; rm -f "$T/e1/state/current.pol.bad"
run e1 doctor; check doctor_persisted_ok has "$T/out" "^ok    persisted policy .*current.pol loads (2 firewall rules, 0 sets)$"
# a state.meta that does not read beside a good current.pol: a restart runs last-good
# (state_load_current()), whatever current.pol holds; a load writes state.meta again.
# (the load before this one made last-good of the broken current.pol: load again)
run e1 load "$P/a.pol"
cp "$T/e1/state/state.meta" "$T/meta.keep"; printf 'serial 1\n' > "$T/e1/state/state.meta"
run e1 doctor; check doctor_persisted_meta_garbled has "$T/out" "^warn  persisted policy .*state/state.meta: garbled: a restart would run last-good, not current.pol; .lifelinectl load. the policy again to rewrite state.meta"
mv "$T/e1/state/last-good.pol" "$T/lg.keep"
run e1 doctor; check doctor_persisted_meta_no_last_good has "$T/out" "^FAIL  persisted policy .*state.meta: garbled, and there is no last-good: a restart would run the empty policy"
mv "$T/lg.keep" "$T/e1/state/last-good.pol"
: > "$T/e1/state/state.meta"
run e1 doctor; check doctor_persisted_meta_empty has "$T/out" "^warn  persisted policy .*state.meta: garbled: a restart would run last-good"
# an empty last-good is what a restart runs then: the empty policy (accepts everything)
cp "$T/e1/state/last-good.pol" "$T/lg.keep"; : > "$T/e1/state/last-good.pol"
run e1 doctor; check doctor_persisted_meta_last_good_empty has "$T/out" "^FAIL  persisted policy .*state.meta: garbled, and last-good is empty: a restart would run the empty policy"
mv "$T/lg.keep" "$T/e1/state/last-good.pol"
# a directory in its place: no load can write it, so "load again" is not the advice
rm "$T/e1/state/state.meta"; mkdir "$T/e1/state/state.meta"
run e1 doctor; check doctor_persisted_meta_dir has "$T/out" "^FAIL  persisted policy .*state/state.meta is not a file: no load can be recorded, and a restart runs last-good; remove it"
rmdir "$T/e1/state/state.meta"
# missing is not garbled: current.pol is taken as confirmed
run e1 doctor; check doctor_persisted_meta_missing has "$T/out" "^ok    persisted policy .*current.pol loads (2 firewall rules, 0 sets"
mv "$T/meta.keep" "$T/e1/state/state.meta"
run e1 doctor; check doctor_persisted_meta_back has "$T/out" "^ok    persisted policy .*current.pol loads (2 firewall rules, 0 sets"
# ...and a start with it does so, keeping the (good) current.pol as current.pol.bad
printf 'serial 1\n' > "$T/e1/state/state.meta"; stop e1; start e1 ""
check restart_meta_garbled_said has "$T/e1/engine.out" "state.meta: garbled: whether current.pol was confirmed cannot be told; rolled back to last-good; current.pol is kept as"
run e1 doctor; check doctor_persisted_bad_after_meta has "$T/out" "^warn  persisted policy .*current.pol.bad exists: .*or state.meta unreadable"
"$CTLBIN" check "$T/e1/state/current.pol.bad" > "$T/out" 2>&1
check restart_meta_garbled_bad_checks [ $? -eq 0 ]
run e1 load "$T/e1/state/current.pol.bad"; rm -f "$T/e1/state/current.pol.bad"
run e1 doctor; check doctor_persisted_ok_again has "$T/out" "^ok    persisted policy .*current.pol loads (2 firewall rules, 0 sets"
# a load that ran but was not written (disk full): what a restart runs is not what runs now
cp "$P/c.pol" "$T/e1/state/current.pol"
run e1 doctor; check doctor_persisted_not_running has "$T/out" "^warn  persisted policy .*current.pol (sha256 [0-9a-f]*) is not the policy that runs"
run e1 load "$P/a.pol"
# broken with no last-good to fall back on; then nothing persisted at all
printf 'deny in bogus\n' > "$T/e1/state/current.pol"; mv "$T/e1/state/last-good.pol" "$T/lg.keep"
run e1 doctor; check doctor_persisted_no_last_good has "$T/out" "^FAIL  persisted policy .*bogus', and there is no last-good: a restart would run the empty policy"
rm -f "$T/e1/state/current.pol"
# (the engine runs a.pol, which is nowhere on disk now: a restart would not run it)
run e1 doctor; check doctor_persisted_none has "$T/out" "^warn  persisted policy .*nothing persisted, but a policy runs (sha256 [0-9a-f]*): a restart would run the empty policy"
mv "$T/lg.keep" "$T/e1/state/last-good.pol"
# a state dir the engine cannot make (it makes the last component only): nothing would be kept
sed "s|^state-dir .*|state-dir $T/nosuch/deep|" "$T/e1/ll.conf" > "$T/nostate.conf"
ctl_nostate() { "$CTLBIN" -c "$T/nostate.conf" doctor > "$T/out" 2>&1; }
ctl_nostate; check doctor_state_dir_missing has "$T/out" "^FAIL  persisted policy .*state dir $T/nosuch/deep does not exist, nor does its parent"
mkdir -p "$T/nosuch"; ctl_nostate
check doctor_state_dir_made_by_engine has "$T/out" "^warn  persisted policy .*nothing persisted, but a policy runs"
rmdir "$T/nosuch"
# a broken config: its first error as a FAIL, and the other checks still run on its valid lines
# (the control socket it names answers)
{ cat "$T/e1/ll.conf"; echo "bogus-directive 1"; } > "$T/broken.conf"
"$CTLBIN" -c "$T/broken.conf" doctor > "$T/out" 2>&1; RC=$?
check doctor_broken_config bash -c "[ $RC -eq 1 ] && grep -q \"^FAIL  config .*broken.conf:6:1: unknown directive 'bogus-directive': lifelined will not start with it\" '$T/out'"
check doctor_broken_config_goes_on has "$T/out" "^ok    control socket"
run e1 doctor; check doctor_config_ok has "$T/out" "^ok    config .*ll.conf: no errors"
stop e1

# ---- signed policies ----
conf e2 "trusted-key $T/e2/k.pub"
openssl genpkey -algorithm ed25519 -out "$T/e2/k.key" 2>/dev/null
openssl pkey -in "$T/e2/k.key" -pubout -out "$T/e2/k.pub"
openssl genpkey -algorithm ed25519 -out "$T/e2/other.key" 2>/dev/null
sign() { openssl pkeyutl -sign -rawin -inkey "$1" -in "$2" -out "$2.sig"; }
S=$T/signed; mkdir -p "$S"
printf 'serial 5\nallow in tcp to any port 22 id 1\n' > "$S/s5.pol"; sign "$T/e2/k.key" "$S/s5.pol"
printf 'serial 4\nallow in tcp to any port 22 id 1\n' > "$S/s4.pol"; sign "$T/e2/k.key" "$S/s4.pol"
printf 'serial 6\nallow in tcp to any port 22 id 1\n' > "$S/tamper.pol"; sign "$T/e2/k.key" "$S/tamper.pol"
echo 'deny in any id 2' >> "$S/tamper.pol"
printf 'serial 7\n' > "$S/other.pol"; sign "$T/e2/other.key" "$S/other.pol"
printf 'serial 8\n' > "$S/trunc.pol"; sign "$T/e2/k.key" "$S/trunc.pol"; truncate -s 40 "$S/trunc.pol.sig"
printf 'serial 9\n' > "$S/unsigned.pol"
# a signed policy that includes another file: the signature would not cover it
printf 'allow in tcp to any port 80 id 7\n' > "$S/part.pol"
printf 'serial 10\ninclude "part.pol"\n' > "$S/incl.pol"; sign "$T/e2/k.key" "$S/incl.pol"
start e2 "" || nok start_signed "fake engine did not start"
run e2 doctor; check doctor_trusted_key_ok has "$T/out" "^ok    trusted-key .*an Ed25519 public key"
# a key that is no key: every load would fail; doctor says so before anyone tries
conf e2bad "trusted-key $T/e2/k.key.junk"; echo junk > "$T/e2/k.key.junk"
"$CTLBIN" -c "$T/e2bad/ll.conf" doctor > "$T/out" 2>&1
check doctor_trusted_key_bad has "$T/out" "^FAIL  trusted-key .*not a PEM public key"
run e2 load "$S/unsigned.pol"; check signed_missing has "$T/out" "not signed"
run e2 load "$S/s5.pol"; check signed_valid [ $RC -eq 0 ]
run e2 status --json; check signed_status_true has "$T/out" '"signed":true'
run e2 load "$S/tamper.pol"; check signed_tampered has "$T/out" "bad signature"
run e2 load "$S/other.pol"; check signed_wrong_key has "$T/out" "bad signature"
run e2 load "$S/trunc.pol"; check signed_truncated has "$T/out" "40 bytes"
run e2 load "$S/s4.pol"; check signed_lower_serial has "$T/out" "serial 4 is lower"
check signed_persisted cmp -s "$S/s5.pol.sig" "$T/e2/state/current.pol.sig"
# with trusted-key a table change would be an unsigned policy change: refused; show still works
printf 'serial 11\ndefine adm = { 192.0.2.1 }\nallow in tcp from $adm to any port 22 id 1\n' > "$S/set.pol"
sign "$T/e2/k.key" "$S/set.pol"
run e2 load "$S/set.pol"; check signed_set_loaded [ $RC -eq 0 ]
run e2 table adm add 0.0.0.0/0; check signed_table_refused has "$T/out" "refused: with trusted-key"
check signed_table_rc [ $RC -eq 1 ]
run e2 table adm show; check signed_table_show bash -c "[ $RC -eq 0 ] && grep -qx '192.0.2.1' '$T/out'"
# with trusted-key, SIGUSR2 verifies current.pol's signature as a load does
cp "$T/e2/state/current.pol" "$T/e2-saved.pol"
printf 'serial 12\n' > "$T/e2/state/current.pol"; usr2 e2 kept
run e2 show; check signed_usr2_unsigned_kept has "$T/out" "define adm"
check signed_usr2_unsigned_said has "$T/e2/engine.out" "policy reload: .*running policy kept"
cp "$T/e2-saved.pol" "$T/e2/state/current.pol"
run e2 load "$S/incl.pol"; check signed_include_refused has "$T/out" "cannot include other files"
check signed_include_rc [ $RC -eq 1 ]
run e2 show; check signed_include_unchanged has "$T/out" "port 22 id 1"
run e2 rollback; check signed_rollback_unsigned_ok [ $RC -eq 0 ]
stop e2

# ---- the kernel: only inside a namespace of our own ----
if ! ip netns add "$NS" 2>/dev/null; then
	echo "ok reset_kernel # SKIP cannot create a network namespace"
	exit 0
fi
ip -n "$NS" link set lo up
inns() { ip netns exec "$NS" "$@"; }
hooks_text() {
	inns nft list table inet lifeline 2>/dev/null || inns iptables -t mangle -S LIFELINE-IN 2>/dev/null
}
conf e3
mkdir -p "$T/e3/state"; printf 'deny in any id 9\n' > "$T/e3/state/current.pol" # the lock-out
inns "$CTLBIN" -c "$T/e3/ll.conf" reset > "$T/out" 2>&1; RC=$?
check reset_no_engine_exit0 [ $RC -eq 0 ]
check reset_no_engine_nothing_installed has "$T/out" "no kernel queue hooks installed"
check reset_no_engine_said has "$T/out" "engine did not reset"
check reset_no_engine_persisted bash -c "grep -q 'persisted the empty policy' '$T/out' && [ ! -s '$T/e3/state/current.pol' ] &&
	grep -q '^sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855$' '$T/e3/state/state.meta'"

# an engine of an earlier build queued from the filter table: reset --hooks-only (the
# unit's stop step, during an upgrade) must find and remove that queue too
inns iptables -w -N LIFELINE-IN && inns iptables -w -A LIFELINE-IN -j NFQUEUE --queue-num 0 &&
	inns iptables -w -I INPUT 1 -j LIFELINE-IN
inns "$CTLBIN" -c "$T/e3/ll.conf" reset --hooks-only > "$T/out" 2>&1; RC=$?
check reset_legacy_chains_rc [ $RC -eq 0 ]
check reset_legacy_chains_removed bash -c "! ip netns exec '$NS' iptables -S LIFELINE-IN >/dev/null 2>&1 &&
	! ip netns exec '$NS' iptables -S INPUT | grep -q LIFELINE"

cp "$P/a.pol" "$T/e3/state/current.pol"
start e3 "$NS" --hooks || nok start_hooks "fake engine with hooks did not start: $(cat "$T/e3/engine.out")"
hooks_text > "$T/hooks" 2>&1
check hooks_installed bash -c "grep -Eq 'queue|NFQUEUE' '$T/hooks'"
epid=$(cat "$T/e3/state/lifelined.pid")
stop_wait "$epid" # the signal is asynchronous: every thread stopped
t0=$(date +%s%N)
inns "$CTLBIN" -c "$T/e3/ll.conf" reset > "$T/out" 2>&1; RC=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check reset_stopped_exit0 [ $RC -eq 0 ]
# SPEC: it acts itself once the engine has not answered in 1 s, not after the 5 s other
# requests allow; the bound sits between the two on purpose (the iptables calls after that
# 1 s take ~0.4 s here, up to ~1 s more on a loaded CI box)
check reset_stopped_acts_alone [ "$ms" -lt 4500 ]
[ -n "${VERBOSE:-}" ] && { echo "# reset with a stopped engine took ${ms} ms:"; sed "s/^/#   /" "$T/out"; }
check reset_stopped_said_timeout has "$T/out" "did not answer in time"
check reset_stopped_removed_hooks has "$T/out" "removed the kernel queue hooks"
hooks_text > "$T/hooks" 2>&1
check reset_stopped_no_queue bash -c "! grep -Eq '(^|[[:space:]])queue |NFQUEUE' '$T/hooks'"
check reset_stopped_lifeline_kept has "$T/hooks" "4120"
check reset_stopped_persisted [ ! -s "$T/e3/state/current.pol" ]
stop e3

# a plain load over one awaiting confirm cancels the rollback: it says so, and rollback
# still goes to the last confirmed policy
conf e7
start e7 "" || nok start_e7 "fake engine did not start"
run e7 load "$P/b.pol"
run e7 load --confirm 30 "$P/bad.pol"
run e7 load "$P/c.pol"
check load_over_pending_says has "$T/out" "the pending confirm is cancelled: the policy that awaited it was replaced"
run e7 status; check load_over_pending_none has "$T/out" "confirm: none pending"
run e7 rollback; run e7 show; check load_over_pending_rollback has "$T/out" "port 2222 id 1"
run e7 load "$P/a.pol"
check load_plain_silent bash -c "! grep -q 'pending confirm' '$T/out'"
stop e7

# the engine resets but cannot write its state directory (here: read-only in the engine's
# mount namespace, as a unit's ReadWritePaths= leaves a moved one): the console persists
# the empty policy itself, or a restart would bring the old policy back
conf e6
mkdir -p "$T/e6/state"
printf 'deny in any id 9\n' > "$T/e6/state/current.pol"
unshare -m --propagation private sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" &&
	exec "$2" --fake-engine "$3"' sh "$T/e6/state" "$FAKE" "$T/e6/ll.conf" > "$T/e6/engine.out" 2>&1 &
PIDS+=($!)
echo $! > "$T/e6/pid"
until_true 5 grep -q ready "$T/e6/engine.out"
run e6 reset
check reset_unpersisted_engine_said has "$T/out" "running, but not persisted in $T/e6/state"
check reset_unpersisted_console_persists bash -c "[ $RC -eq 0 ] && grep -q 'persisted the empty policy as $T/e6/state/current.pol' '$T/out' && [ ! -s '$T/e6/state/current.pol' ]"
stop e6

# a console reset that acted alone while the engine was stopped (here it cannot reach the
# engine at all: its queue full in real life) and a load awaited confirm: when the engine
# comes back, its deadline must not roll back over the empty policy the console persisted;
# the engine runs what the state directory holds
start e3 "$NS" || nok start_alone "fake engine did not start: $(cat "$T/e3/engine.out")"
run e3 load "$P/a.pol"; run e3 load --confirm 2 "$P/c.pol"
sed "s#^control-socket .*#control-socket $T/nobody/c.sock#" "$T/e3/ll.conf" > "$T/alone.conf"
epid=$(cat "$T/e3/pid")
stop_wait "$epid"
inns "$CTLBIN" -c "$T/alone.conf" reset > "$T/out" 2>&1
check reset_alone_persisted has "$T/out" "persisted the empty policy"
sleep 3 # past the confirm deadline
kill -CONT "$epid"
until_true 10 grep -q "state.meta was rewritten behind the engine" "$T/e3/engine.out"
run e3 status; check reset_alone_engine_runs_it has "$T/out" "0 firewall rules"
check reset_alone_confirm_dropped has "$T/out" "confirm: none pending"
check reset_alone_not_rolled_back bash -c "! grep -q 'rolled back' '$T/e3/engine.out'"
check reset_alone_still_persisted [ ! -s "$T/e3/state/current.pol" ]
stop e3
# the same with a trusted-key: the empty policy reset persisted has no signature, and needs
# none (as RESET's own), where a policy read back from current.pol would
cp "$T/e2/ll.conf" "$T/e3/ll.conf.tk"
sed -i "s#^state-dir .*#state-dir $T/e3/state#; s#^control-socket .*#control-socket $T/e3/run/c.sock#" "$T/e3/ll.conf.tk"
mv "$T/e3/ll.conf" "$T/e3/ll.conf.plain"; cp "$T/e3/ll.conf.tk" "$T/e3/ll.conf"
start e3 "$NS" || nok start_alone_tk "fake engine did not start: $(cat "$T/e3/engine.out")"
run e3 load "$S/s5.pol"
epid=$(cat "$T/e3/pid")
stop_wait "$epid"
inns "$CTLBIN" -c "$T/alone.conf" reset > "$T/out" 2>&1
kill -CONT "$epid"
until_true 10 bash -c "'$CTLBIN' -c '$T/e3/ll.conf' status | grep -q '0 firewall rules'"
run e3 status; check reset_alone_trusted_key_runs_it has "$T/out" "0 firewall rules"
check reset_alone_trusted_key_no_signature_asked bash -c "! grep -q 'not signed' '$T/e3/engine.out'"
stop e3
mv "$T/e3/ll.conf.plain" "$T/e3/ll.conf"
# a load given before a console reset that acted alone, read by the engine after it (stopped
# here; busy with a long load in real life): the reset has the later word, on disk too
start e3 "$NS" || nok start_overtaken "fake engine did not start: $(cat "$T/e3/engine.out")"
run e3 load "$P/a.pol"
epid=$(cat "$T/e3/pid")
stop_wait "$epid"
inns "$CTLBIN" -c "$T/e3/ll.conf" load "$P/c.pol" > "$T/out.load" 2>&1 &
lpid=$!
sleep 0.5 # it asks a stopped engine whether it answers (5 s allowed)
inns "$CTLBIN" -c "$T/alone.conf" reset > "$T/out" 2>&1
kill -CONT "$epid"
wait "$lpid"; RC=$?
check overtaken_load_not_done bash -c "[ $RC -eq 1 ] && grep -q 'not done: .lifelinectl reset. acted alone' '$T/out.load' && ! grep -q '^loaded' '$T/out.load'"
until_true 10 bash -c "'$CTLBIN' -c '$T/e3/ll.conf' status | grep -q '0 firewall rules'"
run e3 status; check overtaken_runs_empty has "$T/out" "0 firewall rules"
check overtaken_still_persisted [ ! -s "$T/e3/state/current.pol" ]
run e3 load "$P/c.pol"; check overtaken_load_again_done [ $RC -eq 0 ]
stop e3

start e3 "$NS" --hooks || nok start_hooks2 "fake engine did not start"
inns "$CTLBIN" -c "$T/e3/ll.conf" reset --hooks-only > "$T/out" 2>&1; RC=$?
check reset_hooks_only [ $RC -eq 0 ]
hooks_text > "$T/hooks" 2>&1
check reset_hooks_only_no_queue bash -c "! grep -Eq '(^|[[:space:]])queue |NFQUEUE' '$T/hooks'"
# a second one does not claim to have removed anything
inns "$CTLBIN" -c "$T/e3/ll.conf" reset --hooks-only > "$T/out" 2>&1; RC=$?
check reset_again_says_out_already bash -c "[ $RC -eq 0 ] && grep -q 'were out already' '$T/out'"
run e3 status; check reset_hooks_only_engine_untouched [ $RC -eq 0 ]
echo "bogus directive" > "$T/broken.conf"
inns "$CTLBIN" -c "$T/broken.conf" reset --hooks-only > "$T/out" 2>&1; RC=$?
check reset_broken_config [ $RC -eq 0 ] || cat "$T/out"; check reset_broken_config_said has "$T/out" "going on with its valid lines"
# a broken config's valid lines still lead reset to the engine: its socket, its state dir
cp "$T/e3/ll.conf" "$T/broken3.conf"; echo "heartbeat-intervall 30" >> "$T/broken3.conf"
run e3 load "$P/a.pol"
inns "$CTLBIN" -c "$T/broken3.conf" reset > "$T/out" 2>&1; RC=$?
check reset_broken_valid_exit0 [ $RC -eq 0 ]
check reset_broken_valid_said has "$T/out" "broken3.conf:.*unknown directive 'heartbeat-intervall'"
check reset_broken_valid_lines has "$T/out" "going on with its valid lines: control socket $T/e3/run/c.sock"
check reset_broken_valid_engine has "$T/out" "engine answered: the engine now runs the empty policy"
run e3 status; check reset_broken_valid_empty has "$T/out" "0 firewall rules"

inns "$CTLBIN" -c "$T/e3/ll.conf" doctor > "$T/out" 2>&1; RC=$?
# every line a check (level, name, what it found), ten at least, then the summary
doctor_format() {
	local re='^(ok  |warn|FAIL)  [a-z].* — .'
	! head -n -1 "$1" | grep -Evq "$re" && [ "$(grep -Ec "$re" "$1")" -ge 10 ] &&
		tail -1 "$1" | grep -Eq '^(some checks FAILED|no check failed; [0-9]+ warnings? above|all checks passed)$'
}
check doctor_format doctor_format "$T/out"
check doctor_socket has "$T/out" "^ok    control socket"
check doctor_queue_warn has "$T/out" "^warn  kernel rules .*no queue rule (taken out by .lifelinectl reset.)"
check doctor_policy has "$T/out" "^ok    policy passes heartbeat"
check doctor_dns has "$T/out" "^ok    dns servers"
check doctor_unreachable has "$T/out" "^FAIL  manager reachable"
# lifeline's accept is in mangle: the host's own filter rules can still drop the heartbeat
check doctor_unreachable_own_rules has "$T/out" "^FAIL  manager reachable .*this host's own firewall rules"
check doctor_exit1 [ $RC -eq 1 ]
# the nft backend, as nft 1.0 lists our table (this kernel has no nft queue: a stand-in nft)
# listing IN_QUEUE OUT_RULES OUT_QUEUE [IN_PKTTYPE] (1 or 0): what the stand-in prints
listing() {
	printf 'table inet lifeline {\n\tchain input {\n\t\ttype filter hook input priority filter - 1; policy accept;\n'
	printf '\t\ttcp sport 4120 accept\n\t\tmeta nfproto ipv4 udp sport 67 udp dport 68 log group 4118 accept\n'
	[ "$1" = 1 ] && [ "${4:-1}" = 1 ] && printf '\t\tmeta l4proto tcp meta pkttype != host accept\n'
	[ "$1" = 1 ] && printf '\t\tqueue flags bypass to 0\n'
	printf '\t}\n\tchain output {\n\t\ttype filter hook output priority filter - 1; policy accept;\n'
	[ "$2" = 1 ] && printf '\t\ttcp dport 4120 accept\n\t\tmeta nfproto ipv4 udp sport 67 udp dport 68 accept\n'
	[ "$3" = 1 ] && printf '\t\tqueue flags bypass to 0\n'
	printf '\t}\n}\n'
}
mkdir -p "$T/fakenft"
printf '#!/bin/sh\n[ "$1 $2 $3 $4" = "list table inet lifeline" ] || exit 1\ncat %s\n' \
	"$T/fakenft/listing" > "$T/fakenft/nft"
chmod +x "$T/fakenft/nft"
fake_doctor() { listing "$@" > "$T/fakenft/listing"; PATH="$T/fakenft:$PATH" inns "$CTLBIN" -c "$T/e3/ll.conf" doctor > "$T/out" 2>&1; }
fake_doctor 1 1 1
check doctor_nft_queue has "$T/out" "^ok    kernel rules  *— nft: queue and lifeline rules installed"
# an earlier build's rules queue TCP in broadcast frames, which the host discards (hooks.h)
fake_doctor 1 1 1 0
check doctor_nft_queues_broadcast_tcp has "$T/out" "^warn  kernel rules  *— nft: TCP in broadcast or multicast frames is queued"
fake_doctor 0 1 0
check doctor_nft_no_queue has "$T/out" "^warn  kernel rules  *— nft: lifeline present but no queue rule"
# the queue rule in place and no engine answering: cut off (fail-open no), or passed unfiltered
fake_doctor_dead() { listing 1 1 1 > "$T/fakenft/listing"; PATH="$T/fakenft:$PATH" inns "$CTLBIN" -c "$1" doctor > "$T/out" 2>&1; }
fake_doctor_dead "$T/alone.conf"
check doctor_dead_engine_fail_open has "$T/out" "^warn  kernel rules  *— nft: queue rule installed, but no engine answers: the kernel passes traffic unfiltered"
check doctor_dead_socket_line has "$T/out" "^FAIL  control socket .*: restart lifelined$"
{ cat "$T/alone.conf"; echo "fail-open no"; } > "$T/alone-closed.conf"
fake_doctor_dead "$T/alone-closed.conf"
check doctor_dead_engine_cut_off has "$T/out" "^FAIL  kernel rules  *— nft: queue rule installed, but no engine answers: everything but the lifeline is dropped (fail-open no), save connections the engine had offloaded, which go on; .lifelinectl reset. unblocks the host"
# one base chain flushed (here: the output chain's rules gone) is a failure, not "installed"
fake_doctor 1 0 0
check doctor_nft_chain_flushed has "$T/out" "^FAIL  kernel rules  *— nft: some of lifeline's chains are flushed"
# without root the rules cannot be listed: doctor says so instead of "not installed"
inns setpriv --reuid=65534 --regid=0 --clear-groups "$CTLBIN" -c "$T/e3/ll.conf" doctor > "$T/out" 2>&1
check doctor_nonroot_rules has "$T/out" "^warn  kernel rules  *— not checked: listing them needs root"
# MLD: not asked on a host with no IPv6 beyond link-local; with some, a policy
# that drops the router's queries is a warning (MLD snooping), one that lets them in is ok
inns "$CTLBIN" -c "$T/e3/ll.conf" doctor > "$T/out" 2>&1
check doctor_mld_not_needed has "$T/out" "^ok    policy passes MLD  *— not needed"
ip -n "$NS" addr add 2001:db8:4::2/64 dev lo
run e3 load "$P/a.pol"
inns "$CTLBIN" -c "$T/e3/ll.conf" doctor > "$T/out" 2>&1
check doctor_mld_dropped has "$T/out" "^warn  policy passes MLD  *— the policy drops the router's MLD queries (by firewall): .*mld-listener-query"
# with outbound allow rules, the MLDv1 reports an MLDv1 querier gets need their own
{ cat "$P/a.pol"; printf 'allow in icmp6 type mld-listener-query id 3\nallow out icmp6 type mld2-listener-report id 4\n'; } > "$P/mld.pol"
run e3 load "$P/mld.pol"
inns "$CTLBIN" -c "$T/e3/ll.conf" doctor > "$T/out" 2>&1
check doctor_mld_v1_reports has "$T/out" "^warn  policy passes MLD  *— the policy drops the host's MLD reports (by firewall): "
printf 'allow out icmp6 type mld-listener-report id 5\n' >> "$P/mld.pol"
run e3 load "$P/mld.pol"
inns "$CTLBIN" -c "$T/e3/ll.conf" doctor > "$T/out" 2>&1
check doctor_mld_allowed has "$T/out" "^ok    policy passes MLD  *— queries in and reports out accepted (by firewall)"
stop e3
[ -n "${VERBOSE:-}" ] && cat "$T/out"
# a state dir that takes no write: read-only (remount it, not mkdir) or full (doctor said
# "all checks passed" on a full one, where loads are not kept and rollback runs an old last-good)
conf e9
mkdir -p "$T/e9/state"
printf 'allow in tcp to any port 22 id 1\n' > "$T/e9/state/current.pol"
unshare -m --propagation private sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" &&
	exec "$2" -c "$3" doctor' sh "$T/e9/state" "$CTLBIN" "$T/e9/ll.conf" > "$T/out" 2>&1
check doctor_state_readonly has "$T/out" "^FAIL  persisted policy  *— state dir $T/e9/state is on a read-only file system: .*(remount that file system read-write"
unshare -m --propagation private sh -c 'mount -t tmpfs -o size=64k tmpfs "$1" &&
	printf "allow in tcp to any port 22 id 1\n" > "$1/current.pol" &&
	{ dd if=/dev/zero of="$1/fill" bs=4k count=64 2>/dev/null; exec "$2" -c "$3" doctor; }' sh \
	"$T/e9/state" "$CTLBIN" "$T/e9/ll.conf" > "$T/out" 2>&1
check doctor_state_full has "$T/out" "^FAIL  persisted policy  *— state dir $T/e9/state is full (.* bytes, .* inodes free): .*(free space there"
exit 0
