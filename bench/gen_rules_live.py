#!/usr/bin/env python3
# gen_rules_live.py - the live benchmark's policy: N ClassBench-shaped firewall rules
# (bench/gen_rules.py's "fw" profile) that the benchmark flows walk past, plus the
# allows that let those flows through.
#
# usage: gen_rules_live.py N SEED OUT.pol
#
# A generated rule that could match a benchmark flow (UDP 198.51.100.1:20000-20063
# -> 198.51.100.2:9, TCP 198.51.100.1:any <-> 198.51.100.2:5201) is left out and
# another drawn in its place, so the flows are decided by their own allow at
# priority 0: every priority level is searched first and the classifier does its
# whole walk, as it would for a flow a real policy allows late. The other rules
# stay: deny/allow/bypass on other prefixes and ports, IPv6, `in`, `out`, `any`.
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_rules  # noqa: E402

SENDER, AGENT = 0xffffc6336401, 0xffffc6336402  # 198.51.100.1 / .2, v4-mapped
# (dir, proto, src, dst, sport range, dport range) of each benchmark flow direction
FLOWS = [
    (1, 17, SENDER, AGENT, (20000, 20063), (9, 9)),
    (1, 6, SENDER, AGENT, (1, 65535), (5201, 5201)),
    (2, 6, AGENT, SENDER, (5201, 5201), (1, 65535)),
]
ALLOWS = [
    "allow in udp from 198.51.100.1 port 20000-20063 to 198.51.100.2 port 9",
    "allow in tcp from 198.51.100.1 to 198.51.100.2 port 5201",
]


def overlaps(lo, hi, r):
    return lo <= r[1] and r[0] <= hi


def hits_bench(tup):
    f = tup.split()
    fam, d, proto = int(f[0]), int(f[1]), int(f[2])
    slo, shi, dlo, dhi = (int(x, 16) for x in f[3:7])
    splo, sphi, dplo, dphi = (int(x) for x in f[7:11])
    full = (1 << 128) - 1
    # a rule naming no address at all matches either family
    if fam != 4 and not (slo == dlo == 0 and shi == dhi == full):
        return False
    for fd, fp, src, dst, sp, dp in FLOWS:
        if d not in (fd, 3) or proto not in (fp, -1):
            continue
        if slo <= src <= shi and dlo <= dst <= dhi and \
           overlaps(splo, sphi, sp) and overlaps(dplo, dphi, dp):
            return True
    return False


def main():
    n, seed, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = random.Random(seed)
    prof = gen_rules.PROFILES["fw"]
    sites = gen_rules.Sites(rng, n)
    acts = [(a, p) for a, p, _ in gen_rules.ACTIONS]
    weights = [w for _, _, w in gen_rules.ACTIONS]
    want = n - len(ALLOWS)
    rules, skipped, rid = [], 0, 0
    while len(rules) < want:
        rid += 1
        text, tup = gen_rules.gen_rule(rng, prof, sites, rid, rng.choices(acts, weights)[0])
        if hits_bench(tup):
            skipped += 1
            continue
        rules.append(text)
    with open(out, "w") as f:
        f.write("# live benchmark policy: %d fw-like rules (seed %d, %d drawn again because they "
                "matched a benchmark flow) + %d allows (bench/gen_rules_live.py)\n"
                % (want, seed, skipped, len(ALLOWS)))
        for r in rules:
            f.write(r + "\n")
        for i, a in enumerate(ALLOWS):
            f.write("%s id %d\n" % (a, 1000000 + i))


if __name__ == "__main__":
    main()
