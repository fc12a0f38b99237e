#!/usr/bin/env python3
# gen_rules.py - ClassBench-shaped firewall policies (fw, acl, ipc) as lifeline policy text.
#
# usage: gen_rules.py KIND N SEED OUT.rules OUT.tuples
#
# The shapes follow ClassBench's seed statistics (Taylor & Turner, "ClassBench:
# a packet classification benchmark", IEEE/ACM ToN 15(3), 2007) as we recall
# them - the parameter files themselves were not at hand, so the numbers
# below are approximations of the published mixes:
#   - port classes WC (0-65535), HI (1024-65535), LO (0-1023), AR (arbitrary
#     range), EM (exact); source ports are mostly WC, destination ports
#     mostly EM, with ACL sets the most exact and firewall sets the most wild;
#   - prefix lengths: ACL destinations are mostly hosts (/32) and long
#     prefixes, firewall sets have many wildcards (/0) on either side, IP
#     chains sit in between with /24-/32 majorities;
#   - protocols: TCP first, then UDP, a few ICMP and wildcard (firewall sets
#     have the most wildcard protocols).
# Addresses nest the way real sets do: rules draw a /8-/16 "site" from a
# skewed (Zipf-like) list and extend it to their length. 10 % of the rules are
# IPv6 (lifeline's classifier is one 128-bit space), which ClassBench lacks.
# Every allowed (priority, action) pair is used: bypass, force-allow and deny
# at 0-4, log-only at 4, allow at 0. log-only rules are rare (0.1 %): each
# one that matches is an event per flow, so managers use them sparingly - and
# reporting all of them makes their cost output-sensitive in any classifier.
#
# The .tuples file gives the packet generator (gen_pcap.c) each rule's ranges:
#   fam dir proto slo shi dlo dhi splo sphi dplo dphi   (addresses in hex,
#   v4-mapped; proto -1 = any; ICMP: splo = sphi = type when the rule has one)
import random
import sys

WC, HI, LO, AR, EM = "WC", "HI", "LO", "AR", "EM"

PROFILES = {
    # proto weights: tcp, udp, icmp, any
    "acl": dict(proto=(0.70, 0.20, 0.05, 0.05),
                sport={WC: 0.97, HI: 0.01, AR: 0.01, EM: 0.01},
                dport={EM: 0.60, AR: 0.10, HI: 0.08, LO: 0.02, WC: 0.20},
                src={0: 0.20, 8: 0.02, 16: 0.10, 20: 0.05, 24: 0.20, 28: 0.08, 32: 0.35},
                dst={0: 0.05, 16: 0.05, 24: 0.15, 28: 0.10, 32: 0.65}),
    "fw": dict(proto=(0.50, 0.20, 0.05, 0.25),
               sport={WC: 0.85, HI: 0.08, AR: 0.02, EM: 0.05},
               dport={EM: 0.45, AR: 0.10, HI: 0.10, LO: 0.05, WC: 0.30},
               src={0: 0.45, 8: 0.05, 16: 0.10, 24: 0.15, 28: 0.05, 32: 0.20},
               dst={0: 0.35, 8: 0.05, 16: 0.10, 24: 0.15, 28: 0.05, 32: 0.30}),
    "ipc": dict(proto=(0.55, 0.25, 0.05, 0.15),
                sport={WC: 0.85, HI: 0.03, AR: 0.04, EM: 0.08},
                dport={EM: 0.50, AR: 0.08, HI: 0.05, LO: 0.02, WC: 0.35},
                src={0: 0.20, 16: 0.10, 24: 0.30, 28: 0.10, 32: 0.30},
                dst={0: 0.20, 16: 0.10, 24: 0.30, 28: 0.10, 32: 0.30}),
}

# (action, priority, weight); allow only at 0, log-only only at 4
ACTIONS = [("allow", 0, 30.0), ("log-only", 4, 0.1)]
for _pri in range(5):
    ACTIONS += [("deny", _pri, 6.0 if _pri < 3 else 3.0),
                ("force-allow", _pri, 2.0), ("bypass", _pri, 1.0)]

COMMON_PORTS = [20, 21, 22, 23, 25, 53, 80, 110, 123, 135, 137, 139, 143, 161, 389,
                443, 445, 993, 995, 1433, 1521, 3306, 3389, 5060, 5432, 8080, 8443]


def pick(rng, table):
    r = rng.random() * sum(table.values())
    for k, w in table.items():
        r -= w
        if r <= 0:
            return k
    return k


def port_class(rng, cls):
    if cls == WC:
        return None
    if cls == HI:
        return (1024, 65535)
    if cls == LO:
        return (0, 1023)
    if cls == EM:
        p = rng.choice(COMMON_PORTS) if rng.random() < 0.7 else rng.randrange(1, 65536)
        return (p, p)
    a = rng.randrange(0, 65000)
    return (a, min(65535, a + rng.choice([1, 7, 15, 99, 255, 1000, 5000])))


class Sites:
    """Blocks rules nest in: /16s (IPv4) and /48s (IPv6), about ten rules
    each, picked with a mild skew. Real sets nest prefixes only a few deep
    (ClassBench's prefix nesting thresholds), so sites grow with the set."""

    def __init__(self, rng, n):
        self.rng = rng
        self.v4 = [(rng.randrange(1, 224) << 24) | (rng.randrange(0, 256) << 16) for _ in range(n // 10 + 16)]
        self.v6 = [(0x2001 << 112) | (0xdb8 << 96) | (rng.randrange(0, 65536) << 80) for _ in range(n // 50 + 4)]

    def addr(self, v6, plen):
        rng = self.rng
        sites = self.v6 if v6 else self.v4
        i = int(len(sites) * rng.random() ** 2)
        bits = 128 if v6 else 32
        base = sites[i] | rng.getrandbits(bits - (48 if v6 else 16))
        if v6:
            plen = {0: 0, 8: 32, 16: 48, 20: 52, 24: 56, 28: 64, 32: 128}.get(plen, 64)
        host = (1 << (bits - plen)) - 1
        lo = base & ~host
        return lo, lo | host, plen


def v4str(a):
    return "%d.%d.%d.%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)


def v6str(a):
    words = ["%x" % ((a >> (112 - 16 * i)) & 0xffff) for i in range(8)]
    return ":".join(words)


def addr_text(lo, plen, v6):
    return "%s/%d" % (v6str(lo) if v6 else v4str(lo), plen)


def mapped(a, v6):
    return a if v6 else (0xffff << 32) | a


def gen_rule(rng, prof, sites, rid, act):
    action, pri = act
    v6 = rng.random() < 0.10
    t, u, i, _ = prof["proto"]
    r = rng.random()
    proto = "tcp" if r < t else "udp" if r < t + u else "icmp" if r < t + u + i else "any"
    if proto == "icmp" and v6:
        proto = "icmp6"
    dirr = rng.random()
    d = "in" if dirr < 0.8 else "out" if dirr < 0.95 else "any"
    words = [action]
    if action not in ("allow", "log-only"):
        words += ["priority", str(pri)]
    words += [d, proto]
    tup = [6 if v6 else 4, {"in": 1, "out": 2, "any": 3}[d],
           {"tcp": 6, "udp": 17, "icmp": 1, "icmp6": 58, "any": -1}[proto]]
    full = (0, (1 << 128) - 1)
    # Catch-alls (any address both ways, any service) exist only as log-only,
    # which decides nothing. A deciding one ends the walk for every packet of its
    # direction and protocol: a `deny priority 0 in tcp` ranks before every allow
    # rule, an `allow in any` before every allow with a higher id, and with 100,000
    # random rules the first of them made ~half of each set dead (cls25). The
    # sets' default is the policy's own: not-allowed where allow rules exist.
    catch_all_ok = action == "log-only"
    for side, key in (("from", "src"), ("to", "dst")):
        plen = pick(rng, prof[key])
        if key == "dst" and plen == 0 and not catch_all_ok and tup[3] == 0:
            plen = 24
        if plen == 0:
            tup += list(full)
            ports_only = True
        else:
            lo, hi, plen = sites.addr(v6, plen)
            words += [side, addr_text(lo, plen, v6)]
            tup += [mapped(lo, v6), mapped(hi, v6)]
            ports_only = False
        pr = port_class(rng, pick(rng, prof["sport" if key == "src" else "dport"])) \
            if proto in ("tcp", "udp") else None
        if pr:
            if ports_only:
                words += [side, "any"]
            words += ["port", str(pr[0]) if pr[0] == pr[1] else "%d-%d" % pr]
            tup_ports = pr
        else:
            tup_ports = (0, 65535)
        tup.append(tup_ports)
    if proto == "tcp" and rng.random() < 0.03:
        words += ["flags", "SYN"]
    if proto in ("icmp", "icmp6") and rng.random() < 0.5:
        ty = rng.choice([0, 3, 8, 11] if proto == "icmp" else [1, 128, 129])
        words += ["type", str(ty)]
        tup[5] = (ty, ty)  # ICMP type in the source-port slot, as the classifier's P1
    words += ["id", str(rid)]
    fam, dr, pn, slo, shi, sp, dlo, dhi, dp = tup
    line = "%d %d %d %x %x %x %x %d %d %d %d" % (fam, dr, pn, slo, shi, dlo, dhi, sp[0], sp[1], dp[0], dp[1])
    return " ".join(words), line


def main():
    kind, n, seed, out_rules, out_tuples = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    rng = random.Random(seed)
    prof = PROFILES[kind]
    sites = Sites(rng, n)
    acts = [(a, p) for a, p, _ in ACTIONS]
    weights = [w for _, _, w in ACTIONS]
    # every allowed (priority, action) at least once, then the weighted mix
    chosen = acts[:] if n >= len(acts) else rng.sample(acts, n)
    chosen += rng.choices(acts, weights, k=max(0, n - len(chosen)))
    rng.shuffle(chosen)
    ids = list(range(1, n + 1))
    rng.shuffle(ids)
    with open(out_rules, "w") as fr, open(out_tuples, "w") as ft:
        fr.write("# %s-like policy, %d rules, seed %d (bench/gen_rules.py)\n" % (kind, n, seed))
        for k in range(n):
            text, tup = gen_rule(rng, prof, sites, ids[k], chosen[k])
            fr.write(text + "\n")
            ft.write(tup + "\n")


if __name__ == "__main__":
    main()
