#!/bin/bash
# run.sh - replay golden suite: every pcaps/*.pcap under every tests/replay/policies/*.pol
# (and deny-all under the other configs), exit codes, -w/--dropped, determinism, and
# the public corpora under deny-all. One "ok NAME" / "not ok NAME - why" line per check.
# Run from the repo root: B=build (default) tests/replay/run.sh
# Env: B build dir; LL_SHARED the shared folder (default $LL_ROOT/../shared); JOBS; ONLY_CAP.
set -u
cd "$(dirname "$0")/../.."
export LL_ROOT=${LL_ROOT:-$PWD}
export B=${B:-build}
export LL_SHARED=${LL_SHARED:-$LL_ROOT/../shared}
for t in tshark tcpdump python3; do
	command -v "$t" >/dev/null 2>&1 || { echo "not ok replay/deps - $t missing (scripts/deps.sh)"; exit 1; }
done
exec python3 tests/replay/check.py
