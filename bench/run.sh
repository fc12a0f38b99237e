#!/bin/bash
# run.sh - `make bench`: ClassBench-shaped rule sets and captures, then one bench_replay run over all.
# Generated files are kept in bench/out/ (gitignored) and reused while the generators are unchanged.
# Env: B (build dir), KINDS ("fw acl ipc"), SIZES ("10 1000 10000 100000"), PACKETS (1000000).
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
KINDS=${KINDS:-"fw acl ipc"}
SIZES=${SIZES:-"10 1000 10000 100000"}
PACKETS=${PACKETS:-1000000}
OUT=bench/out
mkdir -p "$OUT"
stamp=$(cat bench/gen_rules.py bench/gen_pcap.c | sha256sum | cut -c1-16)-$PACKETS
sets=()
seed=1
for k in $KINDS; do
	for n in $SIZES; do
		s=${k}_$n
		sets+=("$s")
		seed=$((seed + 1))
		if [ "$(cat "$OUT/$s.stamp" 2>/dev/null)" != "$stamp" ]; then
			echo "generating $s ($PACKETS packets per capture)" >&2
			python3 bench/gen_rules.py "$k" "$n" "$seed" "$OUT/$s.rules" "$OUT/$s.tuples"
			"$B/bench/gen_pcap" "$OUT/$s.tuples" "$OUT/$s.new.pcap" "$OUT/$s.mix.pcap" "$PACKETS" "$seed"
			echo "$stamp" >"$OUT/$s.stamp"
		fi
	done
done
"$B/bench/bench_replay" "$OUT" "${sets[@]}" | tee "$OUT/results.txt"
# Done means: every 100,000-rule set at >= 0.5 x empty on the new-flow capture, empty >= 0.5 x parse,
# and loads + compiles in at most 2 s (CPU) to at most 256 MiB.
awk '$3 == "policy" && $2 == "new" && $1 ~ /_100000$/ { print ($5 >= 0.5 ? "ok  " : "FAIL"), $1, "new-flow policy/empty =", $5 }
     $3 == "empty" { print ($6 >= 0.5 ? "ok  " : "FAIL"), $1, $2, "empty/parse =", $6 }
     $2 == "compile" && $1 ~ /_100000$/ {
	for (i = 1; i < NF; i++) if ($i == "classifier") mib = $(i + 1)
	print ($3 <= 2 && mib <= 256 ? "ok  " : "FAIL"), $1, "compile", $3, "s CPU (<= 2),", mib, "MiB (<= 256)" }' "$OUT/results.txt"
# IPS rows: 0, 1,000 and 10,000 content rules on an HTTP/DNS/TLS capture
B="$B" bench/run_ips.sh
# live rows (namespaces, NFQUEUE): only when the live bench is there and we are root
if [ -x bench/live.sh ] && [ "$(id -u)" = 0 ]; then
	B="$B" bench/live.sh
fi
