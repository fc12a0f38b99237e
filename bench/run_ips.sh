#!/bin/bash
# run_ips.sh - IPS rows of `make bench`: replay throughput with 0, 1,000 and 10,000 content rules
# (bench/gen_ips_rules.py: realistic HTTP/DNS/TLS literals) on a capture of HTTP, TLS and DNS flows,
# each as a ratio to no IPS rules, plus compile time and memory.
# Generated files are kept in bench/out/ (gitignored) and reused while the generator is unchanged.
# Env: B (build dir), IPS_PACKETS (200000), IPS_SIZES ("1000 10000"), REPS (3).
# Columns scan_ns and bound: see scan_alone() in bench_ips.c.
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
PACKETS=${IPS_PACKETS:-200000}
SIZES=${IPS_SIZES:-"1000 10000"}
OUT=bench/out
mkdir -p "$OUT"
stamp=$(sha256sum <bench/gen_ips_rules.py | cut -c1-16)-$PACKETS-$SIZES
if [ "$(cat "$OUT/ips.stamp" 2>/dev/null)" != "$stamp" ]; then
	echo "generating $OUT/ips.pcap ($PACKETS packets) and IPS rule sets" >&2
	python3 bench/gen_ips_rules.py pcap "$PACKETS" 7 "$OUT/ips.pcap"
	python3 bench/gen_ips_rules.py rules 0 11 "$OUT/ips_0.rules"
	for n in $SIZES; do
		python3 bench/gen_ips_rules.py rules "$n" 11 "$OUT/ips_$n.rules"
	done
	echo "$stamp" >"$OUT/ips.stamp"
fi
pols=("$OUT/ips_0.rules")
for n in $SIZES; do pols+=("$OUT/ips_$n.rules"); done
"$B/bench/bench_ips" "$OUT/ips.pcap" "${pols[@]}" | tee "$OUT/ips_results.txt"
# Done means: 10,000 content rules replay at >= 0.5 x the no-IPS throughput. `bound` is
# the ratio with no IPS work but one vectorscan prefilter scan of each payload (scan_ns).
awk '$1 ~ /ips_10000\.rules$/ { print ($4 >= 0.5 ? "ok  " : "FAIL"), "ips 10000 rules / no IPS rules =", $4,
	"(the prefilter scans alone allow at most", $10 ")" }' \
	"$OUT/ips_results.txt"
