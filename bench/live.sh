#!/bin/bash
# live.sh - `make bench`, live part: UDP packets/s and TCP Gbit/s through NFQUEUE in two namespaces.
#
# A sender namespace and an agent namespace joined by a veth pair (198.51.100.1 -> .2).
# Nothing is hooked into the machine's own namespace; both namespaces go at exit.
# Cases, alternated ROUNDS times, each in freshly made namespaces (no rule, conntrack
# entry or mark survives from one case into the next):
#   none          no hooks
#   nfq_min       bench/nfq_min behind `iptables -A INPUT -j NFQUEUE` (the floor)
#   empty         lifelined -f, empty policy, offload no
#   rules         lifelined -f, RULES rules (bench/gen_rules_live.py), offload no
#   offload       lifelined -f, RULES rules, offload yes
# The sender (udp_flood, iperf3 -c) is pinned to CPU_SEND; everything of the agent
# (engine or consumer, udp_sink, iperf3 -s) to CPU_AGENT. veth receives in the sender's
# softirq, so CPU_SEND also carries the kernel's receive path up to the queue.
#
# UDP "pps" is what passed the filter, per second of sending: datagrams delivered to
# the agent's socket (Udp InDatagrams + RcvbufErrors, read or not). nfq_min runs its
# queue fail-open, so a full queue waves packets through unjudged: its pps is the
# packets it was handed (the queue's id sequence), never more than were delivered.
# lifelined runs fail-open no, so a full queue drops and delivered is all judged.
#
# Every load is bounded twice: UDP by SECS and UDP_MAX packets, TCP by SECS (+1 s
# warm-up, not counted) and a TCP_GBIT rate cap, so at most TCP_GBIT x SECS bits.
#
# Env: B (build dir), ROUNDS (5), SECS (3, per load), UDP_MAX (30000000 packets per
# load), TCP_GBIT (40), FLOWS (32 UDP source ports), RULES (10000), CPU_SEND (0),
# CPU_AGENT (1), NICE (-20, for the sender and the agent's programs), RPS (unset: see ns_up), OUT
# (bench/out: live_results.txt, live_runs.txt).
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-3}
TCP_GBIT=${TCP_GBIT:-40}
UDP_MAX=${UDP_MAX:-30000000}
FLOWS=${FLOWS:-32}
RULES=${RULES:-10000}
CPU_SEND=${CPU_SEND:-0}
CPU_AGENT=${CPU_AGENT:-1}
NICE=${NICE:--20}
RPS=${RPS:-}
OUT=${OUT:-bench/out}
# the pairs compared sit side by side: a load that drifts changes both alike
CASES=${CASES:-"none offload nfq_min rules empty"}
SND=198.51.100.1
AGT=198.51.100.2

skip() { echo "live: skipped ($*)"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root"
for c in ip iptables iperf3 taskset python3; do
	command -v "$c" >/dev/null 2>&1 || skip "$c missing: scripts/deps.sh installs it"
done
for f in lifelined bench/nfq_min bench/udp_flood bench/udp_sink; do
	[ -x "$B/$f" ] || skip "$B/$f not built: make bench builds it"
done
[ "$(nproc)" -gt "$CPU_AGENT" ] || skip "needs CPUs $CPU_SEND and $CPU_AGENT"

# two live benchmarks at once would measure each other: the second waits
exec 9>/tmp/lifeline-bench-live.lock
flock -w 900 9 || skip "another bench/live.sh held the lock for 15 minutes"

# shellcheck source=tests/lib/netns.sh
. tests/lib/netns.sh
WAIT_STEP=0.1 # wait_for polls this often
T=$(mktemp -d /tmp/llbench.XXXXXX)
NS_S=llbench-$$-sender
NS_A=llbench-$$-agent
mkdir -p "$OUT"
RUNS=$T/live_runs.txt

cleanup() {
	ns_cleanup
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_s() { nsx "$NS_S" "$@"; }
in_a() { nsx "$NS_A" "$@"; }
# in the agent's namespace on the agent's CPU; ip netns exec and taskset exec, so $! is the program
# (at nice NICE: on a shared machine other jobs then take less of the two CPUs)
AGENT=(ip netns exec "$NS_A" nice -n "$NICE" taskset -c "$CPU_AGENT")
SENDER=(ip netns exec "$NS_S" nice -n "$NICE" taskset -c "$CPU_SEND")

ns_up() {
	ns_add "$NS_S" "$NS_A" || return 1
	veth "$NS_S" s0 "$NS_A" a0 1500 || return 1
	ns_addr "$NS_S" s0 "$SND/24"
	ns_addr "$NS_A" a0 "$AGT/24"
	# RPS=MASK moves the agent's receive path (queueing included) off the sender's
	# softirq onto the agent's CPU; then that softirq starves the consumer (receive
	# livelock) and the numbers measure the scheduler, hence off by default
	[ -z "$RPS" ] || in_a sh -c "echo $RPS >/sys/class/net/a0/queues/rx-0/rps_cpus"
	wait_for 5 in_s ping -c 1 -W 1 "$AGT"
}
# --- the agent's filter, one case ------------------------------------------
engine_conf() { # offload yes|no
	cat >"$T/lifeline.conf" <<CONF
host $AGT
queues 0
fail-open no
offload $1
state-dir $T/state
control-socket $T/control.sock
event-log $T/events.json
CONF
}
engine_ready() { grep -q ready "$T/engine.log" && kill -0 "$1"; }
start_engine() { # policy offload
	engine_conf "$2"
	rm -rf "$T/state" "$T/control.sock"
	: >"$T/engine.log"
	"${AGENT[@]}" "$B/lifelined" -f -c "$T/lifeline.conf" -p "$1" >>"$T/engine.log" 2>&1 &
	CONSUMER=$!
	PIDS+=("$CONSUMER")
	disown "$CONSUMER"
	wait_for 60 engine_ready "$CONSUMER" || { cat "$T/engine.log" >&2; return 1; }
}
start_nfq_min() {
	: >"$T/nfq_min.log"
	"${AGENT[@]}" "$B/bench/nfq_min" -q 0 -t $((SECS * 4 + 60)) >"$T/nfq_min.log" 2>&1 &
	CONSUMER=$!
	PIDS+=("$CONSUMER")
	disown "$CONSUMER"
	wait_for 10 grep -q ready "$T/nfq_min.log" || return 1
	in_a iptables -A INPUT -j NFQUEUE --queue-num 0
}
case_up() { # case
	CONSUMER=
	ns_up || return 1
	case $1 in
	none) ;;
	nfq_min) start_nfq_min ;;
	empty) start_engine "$T/empty.pol" no ;;
	rules) start_engine "$T/rules.pol" no ;;
	offload) start_engine "$T/rules.pol" yes ;;
	esac
}

# --- the loads --------------------------------------------------------------
# shellcheck disable=SC2016 # awk programs, not shell expansions
queue_seq() { # packets handed to queue 0 so far (0 with no queue)
	in_a awk '$1 == 0 { s = $8 } END { print s + 0 }' /proc/net/netfilter/nfnetlink_queue 2>/dev/null ||
		echo 0
}
cpu_ticks() { # utime + stime of the consumer, all threads (0 with none)
	[ -n "$CONSUMER" ] && awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$CONSUMER/stat" 2>/dev/null ||
		echo 0
}
# udp CASE: prints "pps sent_pps delivered judged consumer_cpu_seconds"
udp_load() {
	local q0 q1 c0 c1 out sent secs dlv sink
	: >"$T/sink.out"
	"${AGENT[@]}" "$B/bench/udp_sink" -p 9 -t $((SECS + 30)) >"$T/sink.out" 2>"$T/sink.log" &
	sink=$!
	PIDS+=("$sink")
	wait_for 5 grep -q ready "$T/sink.log" || return 1
	q0=$(queue_seq) c0=$(cpu_ticks)
	out=$(timeout $((SECS + 10)) "${SENDER[@]}" "$B/bench/udp_flood" -d "$AGT" -p 9 -s 20000 \
		-f "$FLOWS" -l 64 -t "$SECS" -n "$UDP_MAX")
	sleep 0.5 # let the queue drain
	q1=$(queue_seq) c1=$(cpu_ticks)
	kill -TERM "$sink"
	wait "$sink"
	sent=$(echo "$out" | awk '{ print $2 }')
	secs=$(echo "$out" | awk '{ print $4 }')
	dlv=$(awk '{ print $2 }' "$T/sink.out")
	[ -n "$sent" ] && [ -n "$dlv" ] || return 1
	python3 - "$1" "$sent" "$secs" "$dlv" $((q1 - q0)) $((c1 - c0)) "$(getconf CLK_TCK)" <<'PY'
import sys
case, sent, secs, dlv, judged, ticks, hz = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
passed = min(dlv, judged) if case == "nfq_min" else dlv
print("%.0f %.0f %d %d %.2f" % (passed / secs, sent / secs, dlv, judged, ticks / hz))
PY
}
# tcp: prints Gbit/s received by iperf3 -s
tcp_load() {
	"${AGENT[@]}" iperf3 -s -1 -B "$AGT" >/dev/null 2>&1 &
	PIDS+=($!)
	disown $!
	wait_for 5 in_a sh -c "ss -ltnH 'sport = :5201' | grep -q ."
	timeout $((SECS + 15)) "${SENDER[@]}" iperf3 -c "$AGT" -t "$SECS" -O 1 \
		-b "${TCP_GBIT}G" -J >"$T/iperf.json" 2>/dev/null
	python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
print("%.2f" % (j["end"]["sum_received"]["bits_per_second"] / 1e9))' "$T/iperf.json" 2>/dev/null ||
		echo 0
}

# --- run ----------------------------------------------------------------------
: >"$T/empty.pol"
python3 bench/gen_rules_live.py "$RULES" 7 "$T/rules.pol" || exit 1
echo "live: $ROUNDS rounds x $SECS s per load; UDP 64-byte payloads from $FLOWS source ports" \
	"(at most $UDP_MAX packets), TCP iperf3 one stream (at most $TCP_GBIT Gbit/s);" \
	"sender on CPU $CPU_SEND, agent on CPU $CPU_AGENT" | tee "$T/live_results.txt"
echo "# round case udp_pps sent_pps delivered judged consumer_cpu_s tcp_gbps" >"$RUNS"
order=$CASES
for r in $(seq 1 "$ROUNDS"); do
	# every other round backwards, so no case always runs first or last
	[ "$r" -gt 1 ] && order=$(echo "$order" | tr ' ' '\n' | tac | tr '\n' ' ')
	for c in $order; do
		u="0 0 0 0 0" t=0
		if case_up "$c"; then
			u=$(udp_load "$c") || u="0 0 0 0 0"
			t=$(tcp_load)
		else
			echo "live: $c: setup failed" >&2
		fi
		ns_cleanup
		echo "$r $c $u $t" >>"$RUNS"
		printf '  round %d %-8s udp %s  tcp %s\n' "$r" "$c" "$u" "$t" >&2
	done
done
python3 - "$RUNS" "$SECS" "$RULES" <<'PY' | tee -a "$T/live_results.txt"
import statistics as st, sys
runs, secs, nrules = sys.argv[1], float(sys.argv[2]), sys.argv[3]
cases, rows = [], {}
for line in open(runs):
    if line.startswith("#"):
        continue
    f = line.split()
    if f[1] not in rows:
        cases.append(f[1])
        rows[f[1]] = []
    rows[f[1]].append([float(x) for x in f[2:]])
med = lambda c, k: st.median(r[k] for r in rows[c])
names = {"none": "no hooks", "nfq_min": "nfq_min (accept-all)", "empty": "lifelined, empty policy",
         "rules": "lifelined, %s rules" % nrules, "offload": "lifelined, %s rules, offload" % nrules}
print("%-34s %10s %10s %9s %13s %10s   %s" % ("case (medians)", "UDP pps", "sent pps", "engine", "judged/CPU-s",
                                              "TCP Gbit/s", "runs: UDP pps | TCP Gbit/s"))
for c in cases:
    cpu = med(c, 4)
    judged = med(c, 3)
    # judged/CPU-s: how many packets one core of the consumer judges per second of its own CPU
    per = "%.0f" % (judged / cpu) if cpu > 0 and judged > med(c, 2) / 2 else "-"
    print("%-34s %10.0f %10.0f %8.0f%% %13s %10.2f   %s | %s" % (
        names.get(c, c), med(c, 0), med(c, 1), 100 * cpu / secs, per, med(c, 5),
        " ".join("%.0f" % r[0] for r in rows[c]), " ".join("%.2f" % r[5] for r in rows[c])))
def ratio(a, b):
    return a / b if b else 0
r1 = ratio(med("rules", 0), med("nfq_min", 0)) if "rules" in rows and "nfq_min" in rows else 0
r2 = ratio(med("offload", 5), med("none", 5)) if "offload" in rows and "none" in rows else 0
def per_round(a, b, k):
    return " ".join("%.2f" % (x[k] / y[k] if y[k] else 0) for x, y in zip(rows.get(a, []), rows.get(b, [])))
print("per round: UDP rules/nfq_min %s; TCP offload/none %s" % (per_round("rules", "nfq_min", 0),
                                                               per_round("offload", "none", 5)))
# Done means: lifelined with the rules >= 0.9 x nfq_min on UDP; TCP with offload >= 0.8 x no hooks.
print("%s UDP pps: lifelined, %s rules / nfq_min = %.2f (>= 0.9)" % ("ok  " if r1 >= 0.9 else "FAIL", nrules, r1))
print("%s TCP Gbit/s: lifelined, offload / no hooks = %.2f (>= 0.8)" % ("ok  " if r2 >= 0.8 else "FAIL", r2))
PY
cp "$T/live_results.txt" "$RUNS" "$OUT/"
