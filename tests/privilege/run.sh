#!/bin/bash
# run.sh - least privilege: once set up, every lifelined thread holds only
# CAP_NET_ADMIN and CAP_NET_RAW (iptables backend), the tools it runs later
# get exactly those and still work (policy load = generation bump, stop =
# hooks removed), and a user in group `lifeline` (nobody via setpriv) may
# read (status, stats, show, explain) but every mutating command is refused.
# Needs root; the engine runs in namespaces from tests/live/lib.sh (deleted
# at exit). Group `lifeline` is created when missing and removed again.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/live/lib.sh # B, LLD, LLC, the namespaces, cleanup()
GROUP_MADE=
priv_cleanup() {
	cleanup
	[ -n "$GROUP_MADE" ] && groupdel lifeline 2>/dev/null
}
trap priv_cleanup EXIT
trap 'exit 1' INT TERM

if [ "$(id -u)" != 0 ]; then
	echo "not ok privilege-root - needs root"; exit 0
fi
[ -x "$LLD" ] && [ -x "$LLC" ] || { echo "not ok privilege-build - make first"; exit 0; }
for c in setpriv groupadd groupdel iptables ipset; do
	command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || {
		echo "ok privilege # SKIP $c missing"; exit 0; }
done
getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
	{ echo "ok privilege # SKIP no user nobody / group nogroup"; exit 0; }

WANT_CAPS=0000000000003000 # CAP_NET_ADMIN (12) | CAP_NET_RAW (13)

# --- the engine, its socket where nobody can reach it -------------------------
setup() {
	if ! getent group lifeline >/dev/null; then
		groupadd -r lifeline || return 1
		GROUP_MADE=1
	fi
	chmod 0711 "$T"
	mkdir -m 0755 "$T/pub" "$T/bin"
	cat >"$T/pub/lifeline.conf" <<CONF
manager 203.0.113.10
host 198.51.100.2
fail-open yes
state-dir $T/state
control-socket $T/pub/control.sock
event-log $T/events.json
CONF
	chmod 0644 "$T/pub/lifeline.conf"
	printf 'deny priority 4 in tcp to any port 23 id 1\n' >"$T/pub/a.pol"
	printf 'deny priority 4 in tcp to any port 24 id 1\n' >"$T/pub/b.pol"
	chmod 0644 "$T/pub/"*.pol
	# the tools the engine runs later, wrapped: each records its capabilities
	local tool real
	for tool in iptables ip6tables iptables-restore ip6tables-restore ipset; do
		real=$(PATH=/usr/sbin:/sbin:/usr/bin command -v "$tool") || return 1
		printf '#!/bin/sh\ngrep ^Cap /proc/$$/status | tr "\\n" " " >>%s\necho %s >>%s\nexec %s "$@"\n' \
			"$T/child-caps" "$tool" "$T/child-caps" "$real" >"$T/bin/$tool"
		chmod 0755 "$T/bin/$tool"
	done
}
start() { # [setpriv args...]: the engine as the unit would start it
	local before
	before=$(grep -c ready "$T/engine.log" 2>/dev/null)
	ip netns exec "$NS_A" setpriv "${@:---reuid=0}" env PATH="$T/bin:$PATH" "$LLD" -f \
		-c "$T/pub/lifeline.conf" -p "$T/pub/a.pol" >>"$T/engine.log" 2>&1 &
	ENGINE_PID=$!
	PIDS+=("$ENGINE_PID")
	disown "$ENGINE_PID"
	wait_for 10 ready_after "${before:-0}"
}
# lifelined.service: CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_CHOWN, no
# CAP_SETPCAP: the engine cannot shrink its bounding set (CAP_CHOWN stays
# there), but holds, passes on and can regain only NET_ADMIN and NET_RAW
unit_like() {
	local st bad=0
	start --bounding-set=-all,+net_admin,+net_raw,+chown || return 1
	stat -c %G "$T/pub/control.sock" | grep -qx lifeline || return 1
	for st in /proc/"$ENGINE_PID"/task/*/status; do
		grep -q "^CapEff:[[:space:]]*$WANT_CAPS\$" "$st" || bad=1
		grep -q "^CapPrm:[[:space:]]*$WANT_CAPS\$" "$st" || bad=1
		grep -q '^NoNewPrivs:[[:space:]]*1' "$st" || bad=1
	done
	grep '^Cap' "/proc/$ENGINE_PID/status" >>"$T/check.log"
	[ $bad = 0 ] && gen_bump a && term_removes_hooks
}

ctl() { ip netns exec "$NS_A" "$LLC" -c "$T/pub/lifeline.conf" "$@"; }
# as nobody, with group lifeline as a supplementary group and no capability
user() {
	ip netns exec "$NS_A" setpriv --reuid=nobody --regid=nogroup --groups=lifeline \
		--inh-caps=-all --bounding-set=-all "$LLC" -c "$T/pub/lifeline.conf" "$@"
}

# every thread of the engine: CapPrm, CapEff, CapInh, CapBnd and CapAmb are WANT_CAPS
threads_dropped() {
	local st n=0 bad=0 f
	for st in /proc/"$ENGINE_PID"/task/*/status; do
		n=$((n + 1))
		for f in CapInh CapPrm CapEff CapBnd CapAmb; do
			grep -q "^$f:[[:space:]]*$WANT_CAPS\$" "$st" || bad=$((bad + 1))
		done
		grep -q '^NoNewPrivs:[[:space:]]*1' "$st" || bad=$((bad + 1))
	done
	echo "engine threads: $n, fields not as expected: $bad" >>"$T/check.log"
	grep '^Cap' "/proc/$ENGINE_PID/status" >>"$T/check.log"
	[ "$n" -ge 3 ] && [ "$bad" = 0 ]
}
# every tool the engine ran since the mark: effective set exactly WANT_CAPS
children_since() { # line
	local l
	[ "$(wc -l <"$T/child-caps")" -gt "$1" ] || return 1
	tail -n +"$(($1 + 1))" "$T/child-caps" | grep '^Cap' >"$T/child-caps.new"
	while read -r l; do
		echo "$l" | grep -q "CapEff:[[:space:]]*$WANT_CAPS " || return 1
		echo "$l" | grep -q "CapAmb:[[:space:]]*$WANT_CAPS" || return 1
	done <"$T/child-caps.new"
	[ -s "$T/child-caps.new" ]
}
gen_bump() { # [a|b]: a load by root runs iptables-restore (-m set: needs CAP_NET_RAW), new mark
	local mark gen
	mark=$(wc -l <"$T/child-caps")
	ctl load "$T/pub/${1:-b}.pol" >/dev/null || return 1
	gen=$(cat "$T/state/offload-gen") || return 1 # engines go on from the last one's generation
	in_a iptables -t mangle -S LIFELINE-IN |
		grep -q "mark $(printf '0x%x' $((gen << 24)))/0x7f000000" || return 1
	! grep -q 'warning' "$T/engine.log" && children_since "$mark"
}
# refused: exit 1, says so, and changed nothing
refused() {
	user "$@" >"$T/user.out" 2>&1
	local rc=$?
	cat "$T/user.out" >>"$T/check.log"
	[ $rc = 1 ] && grep -qi 'denied\|refused\|not permitted' "$T/user.out"
}
policy_is_b() { ctl show | grep -q 'port 24'; }
unchanged() { policy_is_b && hooks_present; }
reads() {
	user status >/dev/null && user stats --json | grep -q '"packets"' &&
		user show | grep -q 'port 24' &&
		user explain in tcp 192.0.2.7:4000 198.51.100.2:24 | grep -q 'drop'
}
term_removes_hooks() {
	local mark
	mark=$(wc -l <"$T/child-caps")
	stop_engine TERM
	hooks_gone && children_since "$mark"
}

topology || { echo "not ok privilege-setup - topology"; exit 0; }
setup || { echo "not ok privilege-setup - group lifeline or tool wrappers"; exit 0; }
check privilege-start start
check privilege-socket-group-lifeline bash -c "stat -c %G:%a '$T/pub/control.sock' | grep -qx lifeline:660"
check privilege-threads-dropped threads_dropped
check privilege-install-tools-ran test -s "$T/child-caps"
check privilege-load-tools-keep-net-admin-raw gen_bump
check privilege-user-status user status
check privilege-user-reads reads
check privilege-user-load-refused refused load "$T/pub/a.pol"
check privilege-user-reset-refused refused reset
check privilege-user-rollback-refused refused rollback
check privilege-user-confirm-refused refused confirm
check privilege-user-table-refused refused table blocklist add 192.0.2.66
check privilege-user-flows-kill-refused refused flows --kill
# reset --hooks-only talks to the kernel, not the engine: nobody lacks CAP_NET_ADMIN
check_fails privilege-user-reset-hooks-only-refused user reset --hooks-only
check privilege-user-changed-nothing unchanged
check privilege-outsider-refused bash -c "! ip netns exec '$NS_A' setpriv --reuid=nobody \
	--regid=nogroup --clear-groups '$LLC' -c '$T/pub/lifeline.conf' status >/dev/null 2>&1"
# --print-hooks needs no privileges; without root the kernel cannot be asked about nft's
# queue expression, and the user is told which rules these are
print_hooks_user() {
	ip netns exec "$NS_A" setpriv --reuid=nobody --regid=nogroup --clear-groups "$LLD" \
		--print-hooks -c "$T/pub/lifeline.conf" >"$T/ph.out" 2>"$T/ph.err" &&
		grep -q -- '-j NFQUEUE' "$T/ph.out" && grep -q 'not root.*iptables rules' "$T/ph.err"
}
check privilege-user-print-hooks print_hooks_user
check privilege-stop-tools-remove-hooks term_removes_hooks
check privilege-unit-bounding-set unit_like
check_fails privilege-no-cap-warning grep -q 'capabilities not' "$T/engine.log"
[ -n "${KEEP:-}" ] && echo "# logs kept in $T"
exit 0
