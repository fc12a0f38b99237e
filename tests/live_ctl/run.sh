#!/bin/bash
# run.sh - live control-plane tests: lifelinectl against a real lifelined on
# NFQUEUE in the agent namespace (tests/live/lib.sh builds the test bed):
# load with its diff, confirm, the confirm timer's rollback, rollback, reset
# with the engine healthy, stopped (SIGSTOP) and killed, restart after
# reset, doctor with the manager reachable and unplugged. Measures the time
# from `lifelinectl reset` to the first blocked connection that goes
# through. Needs root; prints ok/not ok lines (and # lines with figures).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/live/lib.sh # B, LLD, LLC, the namespaces; cleanup at exit
exec 3>&1 # diagnostics from inside check (whose output goes to the log)

if [ "$(id -u)" != 0 ]; then
	echo "not ok live-ctl-root - the live tests need root"; exit 0
fi
[ -x "$LLD" ] && [ -x "$LLC" ] || { echo "not ok live-ctl-build - make first"; exit 0; }

ctl() { ip netns exec "$NS_A" "$LLC" -c "$T/lifeline.conf" "$@"; }
# quick probe: the outsider's port 8080 from the agent, in well under a second
probe() { timeout 1 ip netns exec "$NS_A" ncat -z -w 0.4 192.0.2.10 8080; }
blocked() { ! probe && ! probe; }

# unblock_ms NAME CMD...: run CMD (a reset), then probe until traffic flows; ms on stdout
unblock_ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >>"$T/reset.out" 2>&1 || return 1
	until probe; do
		[ $(( ($(date +%s%N) - t0) / 1000000 )) -gt 10000 ] && return 1
	done
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000000 ))
}
# measure NAME CMD...: ok line with the time it took to unblock
measure() {
	local name=$1 ms; shift
	if ms=$(unblock_ms "$@"); then
		echo "ok $name # unblocked after $ms ms"
		echo "$name $ms" >>"$T/timings"
	else
		nok "$name" "traffic still blocked 10 s after: $*"
	fi
}

write_policies() {
	cat >"$T/deny.pol" <<'POL'
deny priority 4 in any id 1
deny priority 4 out any id 2
POL
	cat >"$T/web.pol" <<'POL'
deny priority 4 in any id 1
allow out tcp to 192.0.2.10 port 8080 id 10
POL
	cat >"$T/conf.in" <<CONF
manager 203.0.113.10
host 198.51.100.2
fail-open yes
heartbeat-interval 10
state-dir $T/state
control-socket $T/control.sock
event-log $T/events.json
dns-server 198.51.100.1
tls-cert $T/cert.pem
CONF
}

load_diff() {
	ctl load "$T/web.pol" >"$T/load.out" 2>&1 || return 1
	grep -q '+ allow out tcp to 192.0.2.10 port 8080 id 10' "$T/load.out" &&
		grep -q '\- deny priority 4 out any id 2' "$T/load.out"
}
confirm_timeout() { # --confirm 2, no confirm: back to deny within ~3 s
	ctl load "$T/deny.pol" >/dev/null && blocked || return 1
	ctl load --confirm 2 "$T/web.pol" >/dev/null && probe || return 1
	sleep 3.5
	blocked && grep -q 'rolled back' "$T/engine.log"
}
confirm_in_time() {
	ctl load --confirm 3 "$T/web.pol" >/dev/null && ctl confirm >/dev/null || return 1
	sleep 4
	probe
}
rollback_now() {
	ctl load "$T/deny.pol" >/dev/null && blocked || return 1
	ctl rollback >/dev/null && probe
}
status_empty() { ctl show | grep -q . && return 1; ctl status | grep -q 'policy: 0 firewall rules'; }
hooks_queue_gone() { [ "$(queued)" -eq 0 ]; }
lifeline_kept() { in_a iptables -t mangle -S LIFELINE-IN | grep -q -- '--sport 4120 .*-j ACCEPT'; }

# --- set up --------------------------------------------------------------
topology || { echo "not ok live-ctl-setup - topology"; exit 0; }
services || { echo "not ok live-ctl-setup - services"; exit 0; }
write_policies
check live-ctl-setup-tcp probe

# --- load, diff, confirm, rollback ----------------------------------------
check live-ctl-start start_engine yes
check live-ctl-status ctl status
check live-ctl-blocked blocked
check live-ctl-load-diff load_diff
check live-ctl-load-applies probe
check live-ctl-confirm-timeout-rolls-back confirm_timeout
check live-ctl-confirm-keeps confirm_in_time
check live-ctl-rollback rollback_now
# a restart with a `load --confirm` pending goes back to last-good, and status and a late
# confirm say so, as after a deadline: only the log did, and confirm said "nothing to
# confirm" (ops26 F7)
restart_unconfirmed() {
	local h
	ctl load "$T/deny.pol" >/dev/null && ctl load --confirm 60 "$T/web.pol" >/dev/null || return 1
	h=$(ctl status | sed -n 's/^policy: .*, sha256 \([0-9a-f]\{16\}\).*/\1/p')
	stop_engine TERM
	start_engine yes nopolicy || { echo "no restart"; return 1; }
	blocked || { echo "web.pol still runs"; return 1; }
	ctl status >"$T/status-restart.out" 2>&1
	grep -q "^confirm: none pending; policy sha256 $h was not confirmed: the engine stopped \
before it was, and its start at .* brought back the policy above" "$T/status-restart.out" ||
		{ sed 's/^/# status: /' "$T/status-restart.out" >&3; return 1; }
	ctl confirm >"$T/confirm-restart.out" 2>&1 && { echo "confirm said ok"; return 1; }
	grep -q "too late: the engine stopped before policy sha256 $h was confirmed" \
		"$T/confirm-restart.out" || { sed 's/^/# confirm: /' "$T/confirm-restart.out" >&3; return 1; }
}
check live-ctl-restart-unconfirmed-said restart_unconfirmed
stop_engine TERM
check live-ctl-restart-unconfirmed-back start_engine yes # with -p, as the tests below expect
check live-ctl-explain-heartbeat bash -c "'$LLC' -c '$T/lifeline.conf' explain out tcp 198.51.100.2:40000 203.0.113.10:4120 | grep -q 'by: lifeline'"
# an engine in another namespace filters another host: doctor there does not count it
printf 'state-dir %s/other\ncontrol-socket %s/other.sock\n' "$T" "$T" >"$T/other.conf"
ip netns exec "$NS_M" "$LLC" -c "$T/other.conf" doctor >"$T/doctor-other.out" 2>&1
check live-ctl-doctor-other-netns grep -q "^FAIL  engine process .*no lifelined process" "$T/doctor-other.out"
# not root, doctor cannot look at a root process's namespace: it must not call that engine this
# host's ("ok ... runs"), but say it cannot tell
nonroot_doctor_other() {
	local c
	c=$(mktemp /tmp/llctl-nonroot-XXXXXX) || return 1
	printf 'state-dir /nonexistent/lifeline\ncontrol-socket /nonexistent/lifeline.sock\n' >"$c"
	chmod 644 "$c"
	ip netns exec "$NS_M" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$LLC" -c "$c" doctor >"$T/doctor-nonroot.out" 2>&1
	rm -f "$c"
	grep -q "^warn  engine process .*only root may look" "$T/doctor-nonroot.out"
}
if getent passwd nobody >/dev/null && getent group nogroup >/dev/null; then
	check live-ctl-doctor-other-netns-not-root nonroot_doctor_other
else
	echo "ok live-ctl-doctor-other-netns-not-root # SKIP no user nobody / group nogroup"
fi

# --- doctor ----------------------------------------------------------------
tls "$NS_A" 203.0.113.10 4120 # a heartbeat exchange for the watch to see
doctor_ok() { # on failure the doctor's own lines say which check failed
	ctl doctor >"$T/doctor-ok.out" 2>&1 && return 0
	grep -v '^ok' "$T/doctor-ok.out" | sed 's/^/# doctor: /' >&3
	return 1
}
check live-ctl-doctor-ok doctor_ok
ip -n "$NS_R" link set r1 down # the manager unplugged
ctl doctor >"$T/doctor-fail.out" 2>&1
rc=$?
check live-ctl-doctor-unplugged-fails test "$rc" -ne 0
check live-ctl-doctor-unplugged-says-connect grep -Eq '^FAIL.*(4120|connect)' "$T/doctor-fail.out"
ip -n "$NS_R" link set r1 up
# the control socket removed under a running engine (a stray rm, a tmpfiles clean-up): the
# engine still judges the queue, so doctor must not say the kernel passes traffic unfiltered
mv "$T/control.sock" "$T/control.sock.away"
ctl doctor >"$T/doctor-nosock.out" 2>&1
mv "$T/control.sock.away" "$T/control.sock"
check live-ctl-doctor-no-socket-engine-judges bash -c "grep -q '^warn  kernel rules .*lifelined pid $ENGINE_PID still judges the queue' '$T/doctor-nosock.out' && ! grep -q 'unfiltered' '$T/doctor-nosock.out'"
# it holds lifelined.lock, but is not starting: it was ready (its pidfile) and will never answer
# again; "wait for it to answer" was the wrong advice, a restart gets a socket back (rvw of ops26 F3)
check live-ctl-doctor-no-socket-not-starting bash -c "! grep -q 'it is starting' '$T/doctor-nosock.out' && grep -q '^FAIL  control socket .*restart lifelined$' '$T/doctor-nosock.out'"

# --- reset: healthy, stopped, killed -----------------------------------------
ctl load "$T/deny.pol" >/dev/null
check live-ctl-reset-healthy-blocked-before blocked
: >"$T/reset.out"
gens=$(grep -c 'offload generation [0-9]* is in the kernel rules now' "$T/engine.log")
measure live-ctl-reset-healthy ctl reset
# the engine itself answers within the console's 1 s: the kernel rules' rewrite for the new
# offload generation (~30 iptables and conntrack runs) waits for the tick. It ran before the
# answer, and on a loaded host the console gave up and took a healthy engine's queue rule out.
check live-ctl-reset-healthy-engine-answered grep -q '^engine answered' "$T/reset.out"
check live-ctl-reset-healthy-queue-kept hooks_present
check live-ctl-reset-healthy-generation-follows wait_for 5 bash -c "[ \$(grep -c \
	'offload generation [0-9]* is in the kernel rules now' '$T/engine.log') -gt $gens ]"
check live-ctl-reset-healthy-persisted status_empty

ctl load "$T/deny.pol" >/dev/null
stop_wait "$ENGINE_PID"
# doctor names a stopped engine as stopped, not as running
ctl doctor >"$T/doctor-stopped.out" 2>&1
check live-ctl-doctor-stopped grep -q "^FAIL  engine process .*pid $ENGINE_PID is stopped" "$T/doctor-stopped.out"
# and its socket line gives the same fix, not "restart lifelined" (ops22 F5)
check live-ctl-doctor-stopped-socket-same-fix bash -c "grep -q '^FAIL  control socket .*the engine is stopped: see the engine process line' '$T/doctor-stopped.out' && ! grep -q 'restart lifelined' '$T/doctor-stopped.out'"
# any other command names the stopped engine and its fix too, not "hung, stopped, or busy?"
ctl status >"$T/status-stopped.out" 2>&1
check live-ctl-status-stopped-says grep -q "lifelined pid $ENGINE_PID is stopped: it answers and judges nothing until .kill -CONT $ENGINE_PID." "$T/status-stopped.out"
ctl status --json >"$T/status-stopped.json" 2>/dev/null
check live-ctl-status-json-stopped python3 -c "import json, sys; e = json.load(open(sys.argv[1]))['engine']; sys.exit(not (e['running'] is False and e['stopped'] is True and e['pid'] == $ENGINE_PID))" "$T/status-stopped.json"
ctl flows >"$T/flows-stopped.out" 2>&1
check live-ctl-flows-stopped-says grep -q "lifelined pid $ENGINE_PID is stopped" "$T/flows-stopped.out"
# and its kernel rules line says the queued packets wait, not that they pass (ops23 F3)
check live-ctl-doctor-stopped-kernel-holds bash -c "grep -q '^FAIL  kernel rules .*lifelined pid $ENGINE_PID stopped: queued packets wait' '$T/doctor-stopped.out' && ! grep -q 'passes traffic unfiltered' '$T/doctor-stopped.out'"
# doctor from another namespace names where the engine runs, not "start it"
ip netns exec "$NS_M" "$LLC" -c "$T/lifeline.conf" doctor >"$T/doctor-elsewhere.out" 2>&1
check live-ctl-doctor-elsewhere grep -q "^FAIL  engine process .*pid $ENGINE_PID runs in another one" \
	"$T/doctor-elsewhere.out"
# and it does not judge this namespace's rules as the engine's ("start lifelined" started a second)
check live-ctl-doctor-elsewhere-no-start grep -q "^warn  kernel rules .*not checked: the engine's network namespace" \
	"$T/doctor-elsewhere.out"
check live-ctl-reset-stopped-blocked-before blocked
# run from another network namespace, reset cannot see the stopped engine's hooks: it must
# not say "nothing to remove" (the agent stays blocked) but where to run it, and fail
reset_elsewhere() {
	ip netns exec "$NS_M" "$LLC" -c "$T/lifeline.conf" reset >"$T/reset-elsewhere.out" 2>&1
	[ $? = 1 ] && grep -q "lifelined (pid $ENGINE_PID) runs in another one" "$T/reset-elsewhere.out"
}
check live-ctl-reset-elsewhere-says-where reset_elsewhere
measure live-ctl-reset-stopped ctl reset
check live-ctl-reset-stopped-says grep -q 'did not answer' "$T/reset.out"
check live-ctl-reset-stopped-queue-removed hooks_queue_gone
check live-ctl-reset-stopped-lifeline-kept lifeline_kept
kill -CONT "$ENGINE_PID"
# running again (it takes the stale RESET now), the engine leaves the queue rule out, as reset
# left it, and says so: neither that swap nor a later load puts it back, status tells the truth
no_queue_status() { ctl status | grep -q 'queue rule taken out by reset: traffic is not filtered'; }
check live-ctl-resumed-status-no-queue wait_for 10 no_queue_status
# explain still gives the policy's verdict, and says the kernel does not ask for it now
ctl explain out tcp 198.51.100.2:40000 192.0.2.10:8080 >"$T/explain-unqueued.out" 2>&1
check live-ctl-resumed-explain-notes-queue-out grep -q \
	"^note: the queue rule is out (reset): the kernel passes such a packet" "$T/explain-unqueued.out"
: >"$T/empty.pol" # the state a restart below expects: the empty policy persisted
ctl load "$T/empty.pol" >"$T/load-unqueued.out" 2>&1
check live-ctl-resumed-load-keeps-queue-out hooks_queue_gone
check live-ctl-resumed-load-warns grep -q "the queue rule is out (reset): this policy judges nothing" \
	"$T/load-unqueued.out"
# nor does a SIGHUP whose config rewrites the chains (offload changes)
hup_keeps_queue_out() {
	local n
	n=$(grep -c 'applied' "$T/engine.log")
	echo "offload no" >>"$T/lifeline.conf"
	kill -HUP "$ENGINE_PID"
	wait_for 10 bash -c "[ \$(grep -c applied '$T/engine.log') -gt $n ]"
	sed -i '/^offload no$/d' "$T/lifeline.conf"
	hooks_queue_gone
}
check live-ctl-resumed-hup-keeps-queue-out hup_keeps_queue_out
check live-ctl-resumed-unblocked probe
check live-ctl-resumed-said grep -q 'the queue rule was taken out (lifelinectl reset)' "$T/engine.log"
# a confirm its client gave up on (the engine stopped) is not done when the engine resumes: the
# load rolls back at its deadline, as the client's "did not answer" said
confirm_given_up() {
	local n
	n=$(grep -c 'not confirmed in time' "$T/engine.log")
	ctl load --confirm 9 "$T/web.pol" >/dev/null || return 1
	stop_wait "$ENGINE_PID"
	ctl confirm >"$T/confirm-stopped.out" 2>&1 && { kill -CONT "$ENGINE_PID"; echo "confirm said ok"; return 1; }
	kill -CONT "$ENGINE_PID"
	wait_for 15 bash -c "[ \$(grep -c 'not confirmed in time' '$T/engine.log') -gt $n ]" ||
		{ echo "no rollback at the deadline"; return 1; }
	grep -q "a CONFIRM request came [0-9]* ms after its client stopped waiting: not done" \
		"$T/engine.log" || { echo "the log does not say the confirm came too late"; return 1; }
}
check live-ctl-confirm-given-up-not-done confirm_given_up
stop_engine 9
check live-ctl-restart-after-reset start_engine yes nopolicy
check live-ctl-restart-comes-back-empty status_empty
check live-ctl-restart-unblocked probe
# an engine started with another config than the console's (a unit's `lifelined -c X`, a bare
# `lifelinectl -r` at the console): reset reaches no socket, and must reset that engine's state
# directory, not one no engine reads, or a restart brings the bad policy back (ops22 F3)
ctl load "$T/deny.pol" >/dev/null
reset_other_config() {
	ip netns exec "$NS_A" "$LLC" -c "$T/other.conf" reset >"$T/reset-other.out" 2>&1 &&
		grep -q "state directory $T/state, not this config's" "$T/reset-other.out" &&
		grep -q '^sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855$' \
			"$T/state/state.meta" && wait_for 5 status_empty
}
check live-ctl-reset-other-config reset_other_config

# killed, fail-open no: the queue without a listener drops until reset
ctl load "$T/deny.pol" >/dev/null
stop_engine TERM
# a clean stop (fail-open yes) took its rules and its pidfile: a reset elsewhere has nothing to say
reset_elsewhere_clean() {
	ip netns exec "$NS_M" "$LLC" -c "$T/lifeline.conf" reset >"$T/reset-elsewhere.out" 2>&1 &&
		grep -q "nothing to remove" "$T/reset-elsewhere.out"
}
check live-ctl-reset-elsewhere-after-clean-stop reset_elsewhere_clean
check live-ctl-failclosed-start start_engine no
stop_engine 9
check live-ctl-reset-killed-blocked-before blocked
# from another namespace, with the engine dead: not "nothing to remove" (exit 0) but where
reset_elsewhere_dead() {
	ip netns exec "$NS_M" "$LLC" -c "$T/lifeline.conf" reset >"$T/reset-elsewhere.out" 2>&1
	[ $? = 1 ] && grep -q "the last lifelined (pid $ENGINE_PID, not running) ran in another one" \
		"$T/reset-elsewhere.out" &&
		# the command to copy: that namespace by name, and this config
		grep -qF "ip netns exec $NS_A $LLC -c $T/lifeline.conf reset" "$T/reset-elsewhere.out"
}
check live-ctl-reset-elsewhere-dead-says-where reset_elsewhere_dead
ip netns exec "$NS_M" "$LLC" -c "$T/lifeline.conf" doctor >"$T/doctor-dead-elsewhere.out" 2>&1
check live-ctl-doctor-dead-elsewhere grep -q "^FAIL  engine process .*ran in another network namespace" \
	"$T/doctor-dead-elsewhere.out"
measure live-ctl-reset-killed ctl reset
check live-ctl-reset-killed-queue-removed hooks_queue_gone
check live-ctl-reset-killed-lifeline-kept lifeline_kept
check live-ctl-reset-killed-heartbeat tls "$NS_A" 203.0.113.10 4120
check live-ctl-status-dead-exit3 bash -c "'$LLC' -c '$T/lifeline.conf' status >/dev/null 2>&1; test \$? = 3"
# another tool restored the IPv4 tables without lifeline's rules while the engine was dead
# (fail-open no): reset must still find the IPv6 queue rule and take it out, and write no
# rules into the family that had none left
v6_only_reset() {
	local t
	for t in mangle filter security raw; do
		in_a iptables -w -t "$t" -F && in_a iptables -w -t "$t" -X || return 1
	done
	in_a ip6tables -w -t mangle -S LIFELINE-IN | grep -q NFQUEUE || return 1
	ctl reset >"$T/reset-v6.out" 2>&1 || return 1
	[ "$(queued)" -eq 0 ] && ! in_a iptables-save | grep -q LIFELINE
}
check live-ctl-v6-only-start start_engine no
stop_engine 9
check live-ctl-reset-v6-only v6_only_reset

# a reset while an engine starts (no socket yet: it reads and compiles a large persisted
# policy) acts alone; the engine, once up, must run what that reset persisted, not the policy
# it read, and must not write that one back
reset_during_start() {
	local before
	{ cat "$T/deny.pol"; seq 120000 | awk '{ printf "deny in tcp to 203.0.113.%d port %d id %d\n", $1 % 250, $1 % 60000 + 1, $1 + 100 }'; } >"$T/state/current.pol"
	rm -f "$T/state/state.meta"
	sed "s/^fail-open .*/fail-open no/" "$T/conf.in" >"$T/lifeline.conf"
	before=$(grep -c ready "$T/engine.log")
	ip netns exec "$NS_A" "$LLD" -f -c "$T/lifeline.conf" >>"$T/engine.log" 2>&1 &
	ENGINE_PID=$!
	PIDS+=("$ENGINE_PID")
	disown "$ENGINE_PID"
	# the reset must land after the engine read current.pol, or the engine simply reads the
	# empty policy and there is nothing to adopt: wait until its read bytes cover the file
	wait_for 5 read_current || { echo "the engine did not read current.pol"; return 1; }
	ctl reset >"$T/reset-start.out" 2>&1
	grep -q "engine did not reset" "$T/reset-start.out" || { echo "reset reached the engine"; return 1; }
	wait_for 20 ready_after "$before" || { echo "no ready line"; return 1; }
	status_empty || { echo "status is not the empty policy"; return 1; }
	[ ! -s "$T/state/current.pol" ] || { echo "current.pol is not empty"; return 1; }
	# seen at control start, or just after when the reset wrote later than that
	grep -q "state.meta was rewritten \(while the engine started\|behind the engine\)" \
		"$T/engine.log" || { echo "the engine did not say it adopted the reset"; return 1; }
}
read_current() {
	local rchar
	rchar=$(awk '$1 == "rchar:" { print $2 }' "/proc/$ENGINE_PID/io" 2>/dev/null) &&
		[ "${rchar:-0}" -ge "$(stat -c %s "$T/state/current.pol")" ]
}
check live-ctl-reset-during-start reset_during_start
check live-ctl-reset-during-start-unblocked probe
stop_engine TERM

# the same reset landing between the starting engine's read of state.meta and its write of
# it (a shim holds that write 2 s): the engine's write undid the reset, and the policy the
# reset took away ran on. Both now take the state directory's write lock.
reset_in_meta_sync() {
	local before
	cc -shared -fPIC -o "$T/delay_rename.so" tests/live_ctl/delay_rename.c -ldl || return 1
	{ cat "$T/deny.pol"; seq 20000 | awk '{ printf "deny in tcp to 203.0.113.%d port %d id %d\n", $1 % 250, $1 % 60000 + 1, $1 + 100 }'; } >"$T/state/current.pol"
	rm -f "$T/state/state.meta"
	# the console's reset acts alone, as when it finds no socket: no request of its own queued
	sed "s#^control-socket .*#control-socket $T/nobody/c.sock#" "$T/lifeline.conf" >"$T/alone.conf"
	before=$(grep -c ready "$T/engine.log")
	# (an ASan build wants its runtime first in the list: the shim comes first here)
	ip netns exec "$NS_A" env LD_PRELOAD="$T/delay_rename.so" DELAY_NAME=/state.meta \
		DELAY_US=2000000 ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$LLD" -f -c "$T/lifeline.conf" >>"$T/engine.log" 2>&1 &
	ENGINE_PID=$!
	PIDS+=("$ENGINE_PID")
	disown "$ENGINE_PID"
	wait_for 20 grep -q "delay_rename: .*state.meta waits" "$T/engine.log" ||
		{ echo "the engine did not come to its state.meta write"; return 1; }
	ip netns exec "$NS_A" "$LLC" -c "$T/alone.conf" reset >"$T/reset-sync.out" 2>&1
	grep -q "persisted the empty policy" "$T/reset-sync.out" || { echo "reset did not persist"; return 1; }
	wait_for 20 ready_after "$before" || { echo "no ready line"; return 1; }
	wait_for 5 status_empty || { echo "status is not the empty policy"; return 1; }
	[ ! -s "$T/state/current.pol" ] || { echo "current.pol is not empty"; return 1; }
}
check live-ctl-reset-in-meta-sync reset_in_meta_sync
stop_engine TERM

# a start whose ip6tables-restore fails, after iptables-restore committed the IPv4 rules,
# installs nothing: an IPv4 queue rule left with no engine held the host's traffic (fail-open
# no), and the error named no tool. Over the rules a fail-closed engine left, it leaves them.
failing_start() {
	local rc
	mkdir -p "$T/failbin"
	printf '#!/bin/sh\nexit 1\n' >"$T/failbin/ip6tables-restore"
	chmod +x "$T/failbin/ip6tables-restore"
	sed "s/^fail-open .*/fail-open no/" "$T/conf.in" >"$T/lifeline.conf"
	ip netns exec "$NS_A" env PATH="$T/failbin:$PATH" LIFELINE_HOOKS_BACKEND=iptables \
		timeout 20 "$LLD" -f -c "$T/lifeline.conf" >"$T/failed-start.log" 2>&1
	rc=$?
	[ "$rc" = 1 ] || { echo "lifelined exited $rc, not 1"; return 1; }
	grep -q "installing the kernel hooks (iptables) failed: ip6tables-restore exited with status 1" \
		"$T/failed-start.log" || { echo "the error does not name the tool"; return 1; }
}
failed_start_leaves_nothing() {
	failing_start || return 1
	[ "$(queued)" -eq 0 ] || { echo "queue rules left"; return 1; }
	! in_a iptables-save | grep -q LIFELINE || { echo "IPv4 chains left"; return 1; }
	! in_a ipset list -n | grep -q '^lifeline' || { echo "ipsets left:"; in_a ipset list -n; return 1; }
	probe || { echo "traffic does not flow"; return 1; }
}
failed_start_keeps_closed() {
	local left
	left=$(queued)
	[ "$left" -gt 0 ] || { echo "the fail-closed stop left no queue rule"; return 1; }
	failing_start || return 1
	[ "$(queued)" -eq "$left" ] || { echo "$(queued) queue rules, not the $left left before"; return 1; }
	blocked
}
# clean slate: a fail-open engine's stop takes every rule out
start_engine yes && stop_engine TERM
check live-ctl-failed-start-leaves-nothing failed_start_leaves_nothing
check live-ctl-failclosed-stop-start start_engine no
stop_engine TERM
check live-ctl-failed-start-keeps-closed failed_start_keeps_closed
ctl reset --hooks-only >/dev/null 2>&1
check live-ctl-failed-start-reset-unblocks probe

# a reset of a healthy engine is answered before the kernel rules are rewritten for the new
# offload generation: with iptables-restore slowed to 0.6 s a run (a loaded host), the engine
# answered after ~1.3 s, the console gave up at 1 s and took the healthy engine's queue out
slow_rules_reset() {
	local t
	mkdir -p "$T/slowbin"
	for t in iptables-restore ip6tables-restore; do
		printf '#!/bin/sh\nsleep 0.6\nexec %s "$@"\n' "$(command -v $t)" >"$T/slowbin/$t"
		chmod +x "$T/slowbin/$t"
	done
	sed "s/^fail-open .*/fail-open yes/" "$T/conf.in" >"$T/lifeline.conf"
	ip netns exec "$NS_A" env PATH="$T/slowbin:$PATH" LIFELINE_HOOKS_BACKEND=iptables \
		"$LLD" -f -c "$T/lifeline.conf" -p "$T/deny.pol" >>"$T/engine.log" 2>&1 &
	ENGINE_PID=$!
	PIDS+=("$ENGINE_PID")
	disown "$ENGINE_PID"
	wait_for 20 ctl status >/dev/null || { echo "the engine did not start"; return 1; }
	blocked || { echo "not blocked before"; return 1; }
	ctl reset >"$T/reset-slow.out" 2>&1 || { echo "reset failed"; return 1; }
	grep -q '^engine answered' "$T/reset-slow.out" || { cat "$T/reset-slow.out"; return 1; }
	hooks_present || { echo "the queue rule is out"; return 1; }
	probe
}
check live-ctl-reset-answered-before-rules-rewrite slow_rules_reset
stop_engine TERM

# a reset that acts alone while a load rewrites the kernel rules (iptables-restore slowed to
# 2.5 s a run: the engine, busy, does not answer in 1 s). The rewrite had read the kernel before
# the reset took the queue rule out, and put it back; the load then wrote its policy over the
# reset's, so a restart ran it again. Now the reset's word holds: the load is not kept, the
# engine runs the empty policy with the queue rule out, as the reset said, and so does a restart
queue_out() { [ "$(queued)" -eq 0 ]; }
lone_reset_during_load() {
	local t load rc
	mkdir -p "$T/slowerbin"
	for t in iptables-restore ip6tables-restore; do
		printf '#!/bin/sh\nsleep 2.5\nexec %s "$@"\n' "$(command -v $t)" >"$T/slowerbin/$t"
		chmod +x "$T/slowerbin/$t"
	done
	sed "s/^fail-open .*/fail-open yes/" "$T/conf.in" >"$T/lifeline.conf"
	rm -f "$T/state/current.pol" "$T/state/state.meta"
	ip netns exec "$NS_A" env PATH="$T/slowerbin:$PATH" LIFELINE_HOOKS_BACKEND=iptables \
		"$LLD" -f -c "$T/lifeline.conf" >>"$T/engine.log" 2>&1 &
	ENGINE_PID=$!
	PIDS+=("$ENGINE_PID")
	disown "$ENGINE_PID"
	wait_for 30 ctl status >/dev/null || { echo "the engine did not start"; return 1; }
	probe || { echo "not reachable before"; return 1; }
	ctl load "$T/deny.pol" >"$T/load-lone.out" 2>&1 &
	load=$!
	sleep 0.5 # the engine is in its first iptables-restore
	ctl reset >"$T/reset-lone.out" 2>&1 || { echo "reset failed:"; cat "$T/reset-lone.out"; return 1; }
	grep -q '^engine did not reset' "$T/reset-lone.out" || { echo "the engine answered:"; cat "$T/reset-lone.out"; return 1; }
	wait "$load"
	rc=$?
	# and no "loaded" line, which a script would take for success
	[ "$rc" != 0 ] && grep -q '^not kept: state.meta changed' "$T/load-lone.out" &&
		! grep -q '^loaded' "$T/load-lone.out" ||
		{ echo "the load said (exit $rc):"; cat "$T/load-lone.out"; return 1; }
	wait_for 20 queue_out || { echo "the queue rule is back in"; return 1; }
	probe || { echo "blocked after the reset"; return 1; }
	[ ! -s "$T/state/current.pol" ] || { echo "current.pol is not the empty policy"; return 1; }
	ctl status | grep -q 'policy: 0 firewall rules' || { ctl status; return 1; }
}
check live-ctl-lone-reset-during-load lone_reset_during_load
# the engine's stop removes its rules through the same tools: at full speed, so that it ends
# within stop_engine's 10 s and the next engine does not start beside a stopping one
for t in iptables-restore ip6tables-restore; do
	printf '#!/bin/sh\nexec %s "$@"\n' "$(command -v $t)" >"$T/slowerbin/$t"
done
stop_engine TERM

# --- the xtables lock held by another process (legacy iptables: iptables-nft has no lock) -----
# every wait for it is bounded: a load neither hangs nor doubles a jump (the generation is
# retried once the lock is free), and the console's reset says why it cannot act
mkdir -p "$T/xtbin"
for t in iptables ip6tables iptables-restore ip6tables-restore iptables-save ip6tables-save; do
	ln -sf "/usr/sbin/${t/tables/tables-legacy}" "$T/xtbin/$t"
done
export PATH="$T/xtbin:$PATH" XTABLES_LOCKFILE="$T/xt.lock" LIFELINE_HOOKS_BACKEND=iptables
xt_load_bounded() {
	local t0=$SECONDS
	ctl load "$T/web.pol" >"$T/xt-load.out" 2>&1 || return 1
	[ $((SECONDS - t0)) -le 20 ] && grep -q 'offload generation not updated: another process holds the xtables lock' "$T/engine.log"
}
xt_jumps_single() { [ "$(in_a iptables -t mangle -S INPUT | grep -c -- '-j LIFELINE-IN')" = 1 ]; }
xt_reset_says() {
	local t0=$SECONDS
	ctl reset >"$T/xt-reset.out" 2>&1 && return 1
	[ $((SECONDS - t0)) -le 30 ] && grep -q 'another process holds the xtables lock' "$T/xt-reset.out"
}
xt_gen_retried() { grep -q 'offload generation [0-9]* is in the kernel rules now' "$T/engine.log"; }
if [ -x /usr/sbin/iptables-legacy ]; then
	check live-ctl-xt-start start_engine yes
	flock -o "$T/xt.lock" sleep 50 & # -o: killing flock frees the lock
	XT_LOCK=$!
	PIDS+=("$XT_LOCK")
	check live-ctl-xt-load-bounded xt_load_bounded
	stop_wait "$ENGINE_PID"
	check live-ctl-xt-reset-says-lock xt_reset_says
	kill "$XT_LOCK"; wait "$XT_LOCK" 2>/dev/null
	check live-ctl-xt-jumps-not-doubled xt_jumps_single
	kill -CONT "$ENGINE_PID"
	check live-ctl-xt-generation-retried wait_for 12 xt_gen_retried
	check live-ctl-xt-reset-after ctl reset
	stop_engine TERM
else
	echo "ok live-ctl-xt # SKIP no iptables-legacy"
fi
# --- reset from a console whose config names no engine's state directory --------------------
# The engine here runs in its own mount namespace (a unit's PrivateTmp=, a container on the
# host's network): the path its lifelined.lock link names is, in the console's mount namespace,
# another directory - here the state directory of an engine in another network namespace,
# filtering another host. reset must persist the empty policy in this namespace's engine's
# directory, and leave the other host's engine and policy alone.
xns_reset() {
	local empty=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 o a
	mkdir -p "$T/xns-shared" "$T/xns-priv" "$T/xns-console"
	printf 'fail-open yes\nstate-dir %s/xns-shared\ncontrol-socket %s/xns-o.sock\nevent-log %s/xns-o.json\n' \
		"$T" "$T" "$T" >"$T/xns-o.conf"
	printf 'fail-open yes\nstate-dir %s/xns-shared\ncontrol-socket %s/xns-a.sock\nevent-log %s/xns-a.json\n' \
		"$T" "$T" "$T" >"$T/xns-a.conf"
	printf 'state-dir %s/xns-console\ncontrol-socket %s/xns-none.sock\n' "$T" "$T" >"$T/xns-console.conf"
	ip netns exec "$NS_O" "$LLD" -f -c "$T/xns-o.conf" -p "$T/deny.pol" >"$T/xns-o.log" 2>&1 &
	o=$!; PIDS+=("$o"); disown "$o"
	ip netns exec "$NS_A" unshare -m --propagation private sh -c \
		"mount --bind '$T/xns-priv' '$T/xns-shared' && exec '$LLD' -f -c '$T/xns-a.conf' -p '$T/deny.pol'" \
		>"$T/xns-a.log" 2>&1 &
	a=$!; PIDS+=("$a"); disown "$a"
	wait_for 10 grep -q ready "$T/xns-o.log" && wait_for 10 grep -q ready "$T/xns-a.log" || return 1
	ip netns exec "$NS_A" "$LLC" -c "$T/xns-console.conf" reset >"$T/xns-reset.out" 2>&1
	sleep 2 # the other host's engine would adopt a rewritten state.meta within its poll
	local rc=0
	grep -q "^sha256 $empty\$" "$T/xns-shared/state.meta" && { echo "other host's state reset" >&3; rc=1; }
	ip netns exec "$NS_O" "$LLC" -c "$T/xns-o.conf" status | grep -q 'policy: 2 firewall rules' || rc=1
	grep -q "^sha256 $empty\$" "$T/xns-priv/state.meta" || { echo "this engine's state not reset" >&3; rc=1; }
	kill "$o" "$a"
	return $rc
}
check live-ctl-reset-other-config-other-mntns xns_reset

[ -f "$T/timings" ] && sed 's/^/# reset timing: /' "$T/timings"
[ -n "${KEEP:-}" ] && echo "# logs kept in $T"
exit 0
