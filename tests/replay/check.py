#!/usr/bin/env python3
"""check.py - the replay golden suite: captures x policies through `lifelined -r`.

The expected verdict of every frame is computed here, never from lifelined:

* which frames are lifeline, malformed or not IP comes from a per-capture
  manifest written by pcaps/craft.py from what it built (tests/replay/manifests/),
  or, for the recorded captures, from tshark's dissection of the capture and the
  rules of SPEC section 5 applied to tshark's fields (DNS servers learned from
  the DHCPACK/Reply tshark decodes);
* what a policy does to the other frames comes from the policy's sidecar
  NAME.expect: lines `VERDICT REASON[:RULE] TSHARK-FILTER`, the first whose
  display filter (run by tshark on the capture) matches the flow's opening
  frame decides for the whole flow (SPEC 4: flows, ICMP errors quoting a flow).

Prints one `ok NAME` / `not ok NAME - why` line per check.
Environment: B (build dir, default build), LL_ROOT, LL_SHARED, JOBS.
"""
import concurrent.futures as cf
import datetime
import glob
import ipaddress
import json
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile

ROOT = os.environ.get("LL_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
B = os.environ.get("B", "build")
LIFELINED = os.path.join(ROOT, B, "lifelined") if not os.path.isabs(B) else os.path.join(B, "lifelined")
SHARED = os.environ.get("LL_SHARED") or os.path.join(ROOT, "..", "shared")
HERE = os.path.join(ROOT, "tests", "replay")
PCAPS = os.path.join(ROOT, "pcaps")
JOBS = int(os.environ.get("JOBS", "8"))
TMP = tempfile.mkdtemp(prefix="llreplay.")

FIREWALL_REASONS = {"deny", "allow", "bypass", "force-allow", "not-allowed"}
ICMP4_ERRORS = {3, 4, 5, 11, 12}
ICMP6_ERRORS = {1, 2, 3, 4}

results = []
_out_lock = __import__("threading").Lock()


def report(ok, name, why=""):
    line = ("ok %s" % name) if ok else ("not ok %s - %s" % (name, why))
    with _out_lock:
        sys.stdout.write(line.replace("\n", " ") + "\n")
        sys.stdout.flush()
        results.append(ok)


# ---- tshark ---------------------------------------------------------------------
FIELDS = ["frame.number", "frame.time_epoch", "frame.protocols", "ip.src", "ip.dst", "ip.proto",
          "ipv6.src", "ipv6.dst", "ipv6.hlim", "tcp.srcport", "tcp.dstport", "udp.srcport",
          "udp.dstport", "icmp.type", "icmp.code", "icmp.ident", "icmpv6.type", "icmpv6.code",
          "icmpv6.echo.identifier", "dhcp.option.dhcp", "dhcp.option.domain_name_server",
          "dhcpv6.msgtype", "dhcpv6.dns_server", "dhcp.type", "dhcp.id", "dhcpv6.xid", "ip.fragment", "ipv6.fragment",
          "ip.fragment.overlap", "ipv6.fragment.overlap", "ip.flags.mf", "ip.frag_offset",
          "ipv6.fraghdr.more", "ipv6.fraghdr.offset", "_ws.malformed", "ipv6.nxt"]
TSHARK = ["tshark", "-n", "-o", "ip.defragment:TRUE", "-o", "ipv6.defragment:TRUE"]


def tshark_fields(cap):
    cmd = TSHARK + ["-r", cap, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
                    "-E", "separator=/t"]
    for f in FIELDS:
        cmd += ["-e", f]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if "aren't valid" in r.stderr or not r.stdout.strip():
        raise RuntimeError("tshark fields on %s: %s" % (cap, r.stderr.strip()[-300:]))
    out = r.stdout
    frames = {}
    for line in out.splitlines():
        vals = line.split("\t")
        vals += [""] * (len(FIELDS) - len(vals))
        d = {k: (v.split(",") if v else []) for k, v in zip(FIELDS, vals)}
        frames[int(d["frame.number"][0])] = d
    return frames


_filter_cache = {}
CACHE = os.environ.get("LL_REPLAY_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "lifeline-replay")


def _cache_path(cap, flt):
    import hashlib
    h = hashlib.sha256()
    with open(cap, "rb") as f:
        h.update(f.read())
    h.update(b"\0" + flt.encode())
    return os.path.join(CACHE, h.hexdigest()[:32])


def tshark_filter(cap, flt):
    """Frame numbers matching a display filter; cached on disk by capture content + filter."""
    key = (cap, flt)
    if key not in _filter_cache:
        cp = _cache_path(cap, flt) if flt != "*" else None
        if flt == "*":
            _filter_cache[key] = None
        elif os.path.exists(cp):
            _filter_cache[key] = {int(x) for x in open(cp).read().split()}
        else:
            r = subprocess.run(TSHARK + ["-r", cap, "-Y", flt, "-T", "fields", "-e", "frame.number"],
                               capture_output=True, text=True)
            if r.returncode != 0 and ("unexpected" in r.stderr or "not a valid" in r.stderr
                                      or "isn't a valid" in r.stderr):
                raise RuntimeError("tshark filter %r: %s" % (flt, r.stderr.strip()[:200]))
            _filter_cache[key] = {int(x) for x in r.stdout.split()}
            os.makedirs(CACHE, exist_ok=True)
            with open(cp + ".tmp%d" % os.getpid(), "w") as f:
                f.write(" ".join(map(str, sorted(_filter_cache[key]))))
            os.replace(cp + ".tmp%d" % os.getpid(), cp)
    return _filter_cache[key]


def prefetch_filters(pairs):
    with cf.ThreadPoolExecutor(JOBS) as ex:
        list(ex.map(lambda p: tshark_filter(*p), pairs))


def first(d, k, conv=str):
    v = d.get(k) or []
    return conv(v[0]) if v else None


def ints(d, k):
    return [int(x, 0) for x in d.get(k) or [] if x]


# ---- config -----------------------------------------------------------------------
class Conf:
    def __init__(self, path):
        self.path = path
        self.managers, self.dns, self.hosts = [], [], []
        self.hb, self.ag, self.sanity = 4120, 4118, "drop"
        if not path:
            return
        for line in open(path):
            w = line.split("#")[0].split()
            if not w:
                continue
            if w[0] == "manager":
                self.managers.append(ipaddress.ip_address(w[1]))
            elif w[0] == "dns-server":
                self.dns.append(ipaddress.ip_address(w[1]))
            elif w[0] == "host":
                self.hosts.append(ipaddress.ip_network(w[1], strict=False))
            elif w[0] == "heartbeat-port":
                self.hb = int(w[1])
            elif w[0] == "agent-port":
                self.ag = int(w[1])
            elif w[0] == "sanity-failure":
                self.sanity = w[1]

    def is_host(self, a):
        return any(a.version == n.version and a in n for n in self.hosts)


# ---- the independent expectation ----------------------------------------------
class Frame:
    """One frame's facts, from tshark (outer header = first occurrence)."""

    def __init__(self, d):
        self.d = d
        self.n = int(d["frame.number"][0])
        self.ts = d["frame.time_epoch"][0]
        s, t = first(d, "ip.src") or first(d, "ipv6.src"), first(d, "ip.dst") or first(d, "ipv6.dst")
        self.src = ipaddress.ip_address(s) if s else None
        self.dst = ipaddress.ip_address(t) if t else None
        self.is_ip = self.src is not None
        self.tcp = bool(d["tcp.srcport"]) and not d["icmp.type"] and not d["icmpv6.type"]
        self.udp = bool(d["udp.srcport"]) and not d["icmp.type"] and not d["icmpv6.type"]
        self.icmp = bool(d["icmp.type"])
        self.icmp6 = bool(d["icmpv6.type"])
        self.sport = self.dport = None
        if self.tcp:
            self.sport, self.dport = int(d["tcp.srcport"][0]), int(d["tcp.dstport"][0])
        elif self.udp:
            self.sport, self.dport = int(d["udp.srcport"][0]), int(d["udp.dstport"][0])
        self.itype = first(d, "icmp.type", int) if self.icmp else first(d, "icmpv6.type", int)
        self.icode = first(d, "icmp.code", int) if self.icmp else first(d, "icmpv6.code", int)
        self.hlim = first(d, "ipv6.hlim", int)
        frags = d["ip.fragment"] or d["ipv6.fragment"]
        self.group = sorted(int(x) for x in frags) if frags else None
        self.overlap = bool(d["ip.fragment.overlap"] or d["ipv6.fragment.overlap"])
        mf = d["ip.flags.mf"][:1] in (["1"], ["True"]) or d["ipv6.fraghdr.more"][:1] in (["1"], ["True"])
        off = (first(d, "ip.frag_offset", int) or 0) or (first(d, "ipv6.fraghdr.offset", int) or 0)
        self.is_fragment = bool(mf or off)

    def proto_name(self):
        return "tcp" if self.tcp else "udp" if self.udp else "icmp" if self.icmp else \
            "icmp6" if self.icmp6 else None

    def flow_key(self):
        if self.tcp or self.udp:
            return (self.proto_name(), frozenset([(self.src, self.sport), (self.dst, self.dport)]))
        if (self.icmp and self.itype in (0, 8)) or (self.icmp6 and self.itype in (128, 129)):
            ident = first(self.d, "icmp.ident" if self.icmp else "icmpv6.echo.identifier")
            return (self.proto_name() + "-echo", frozenset([self.src, self.dst]), ident)
        return None

    def is_icmp_error(self):
        return (self.icmp and self.itype in ICMP4_ERRORS) or (self.icmp6 and self.itype in ICMP6_ERRORS)

    def inner_key(self):
        """The flow an ICMP error quotes (second IP header, its ports)."""
        d = self.d
        srcs = d["ip.src"] if self.icmp else d["ipv6.src"]
        dsts = d["ip.dst"] if self.icmp else d["ipv6.dst"]
        if len(srcs) < 2 or len(dsts) < 2:
            return None
        s, t = ipaddress.ip_address(srcs[1]), ipaddress.ip_address(dsts[1])
        for p in ("tcp", "udp"):
            if d[p + ".srcport"]:
                return (p, frozenset([(s, int(d[p + ".srcport"][0])), (t, int(d[p + ".dstport"][0]))]))
        return None


def lifeline_reason(f, conf, learned):
    """SPEC 5, applied to tshark's view of a whole datagram. None if not lifeline."""
    # SPEC 5: the peer holds the heartbeat port, the host the agent port; with no manager
    # named (SPEC 3) any address may be the peer, but never the host itself. Which side is
    # the host: the one a `host` line names, unless both or neither are (then either).
    src_host, dst_host = conf.is_host(f.src), conf.is_host(f.dst)
    sides = [(f.src, f.sport, f.dport), (f.dst, f.dport, f.sport)]  # (peer, peer port, host port)
    if src_host != dst_host:
        sides = [sides[1]] if src_host else [sides[0]]
    if f.tcp:
        for peer, pport, hport in sides:
            if (not conf.managers or peer in conf.managers) and (pport == conf.hb or hport == conf.ag):
                return "heartbeat"
    if f.udp and (f.sport, f.dport) in ((68, 67), (67, 68), (546, 547), (547, 546)):
        return "dhcp"
    if f.tcp or f.udp:
        servers = set(conf.dns) | learned[4] | learned[6]
        if any(peer in servers and pport == 53 for peer, pport, _ in sides):
            return "dns"
    if f.icmp and f.itype == 3 and f.icode == 4:
        return "icmp-pmtu"
    if f.icmp6 and f.itype == 2:
        return "icmp6-pmtu"
    if f.icmp6 and 133 <= f.itype <= 136 and f.hlim == 255:
        return "ndp"
    return None


def learn(f, learned):
    """The host's requests open transactions (by id); a DHCPACK option 6 / DHCPv6 Reply
    option 23 that answers one within 120 s replaces that family's learned servers."""
    d = f.d
    t = float(d["frame.time_epoch"][0])
    asked = learned["asked"]
    if f.udp and (f.sport, f.dport) == (68, 67) and ints(d, "dhcp.type")[:1] == [1]:
        asked[(4, ints(d, "dhcp.id")[0])] = t
    if f.udp and (f.sport, f.dport) == (546, 547) and ints(d, "dhcpv6.msgtype")[:1] and \
            ints(d, "dhcpv6.msgtype")[0] in (1, 3, 4, 5, 6, 8, 9, 11):
        asked[(6, ints(d, "dhcpv6.xid")[0])] = t

    def answers(fam, key):
        ids = ints(d, key)
        return ids and (fam, ids[0]) in asked and 0 <= t - asked[(fam, ids[0])] <= 120

    if f.udp and (f.sport, f.dport) in ((67, 68), (547, 546)):
        if ints(d, "dhcp.option.dhcp")[:1] == [5] and d["dhcp.option.domain_name_server"] and \
                answers(4, "dhcp.id"):
            learned[4] = {ipaddress.ip_address(x) for x in d["dhcp.option.domain_name_server"]}
        if ints(d, "dhcpv6.msgtype")[:1] == [7] and d["dhcpv6.dns_server"] and answers(6, "dhcpv6.xid"):
            learned[6] = {ipaddress.ip_address(x) for x in d["dhcpv6.dns_server"]}


def read_manifest(cap):
    name = os.path.splitext(os.path.basename(cap))[0]
    path = os.path.join(HERE, "manifests", name + ".txt")
    if not os.path.exists(path):
        return None
    m = {"exit": 0, "frames": {}}
    for line in open(path):
        g = re.match(r"#\s*expect-exit\s+(\d+)", line)
        if g:
            m["exit"] = int(g.group(1))
        line = line.split("#")[0].split()
        if not line:
            continue
        group = next((w[6:] for w in line[2:] if w.startswith("group=")), None)
        m["frames"][int(line[0])] = (line[1].split("|"), group)
    return m


def classify(cap, frames, conf, manifest):
    """Per frame: list of acceptable classes (`lifeline/X`, `sanity/X`, `not-ip`, `ip`),
    and the fragment group (frame numbers judged together)."""
    cls, groups = {}, {}
    if manifest:
        bygroup = {}
        for n, (alts, g) in manifest["frames"].items():
            cls[n] = alts
            if g:
                bygroup.setdefault(g, []).append(n)
        for g, ns in bygroup.items():
            for n in ns:
                groups[n] = sorted(ns)
        return cls, groups
    learned = {4: set(), 6: set(), "asked": {}}
    infrag = {}
    for n in sorted(frames):
        f = frames[n]
        if f.group:
            for x in f.group:
                infrag[x] = f.group
    for n in sorted(frames):
        f = frames[n]
        if not f.is_ip:
            cls[n] = ["not-ip"]
            continue
        if n in infrag and n != max(infrag[n]):
            continue  # judged with its datagram's completing frame
        if f.is_fragment and n not in infrag:
            cls[n] = ["sanity/frag-timeout"]
            continue
        g = infrag.get(n)
        if g and f.overlap:
            c = ["sanity/frag-overlap"]
        else:
            r = lifeline_reason(f, conf, learned)
            c = ["lifeline/" + r] if r else ["ip"]
            if r == "dhcp":
                learn(f, learned)
        for x in g or [n]:
            cls[x] = c
            if g:
                groups[x] = g
    return cls, groups


def load_expect(path):
    rules, logged = [], None
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        w = line.split(None, 2)
        if w[0] == "logged":
            logged = int(w[1])
            continue
        reason, _, rule = w[1].partition(":")
        rules.append((w[0], reason, int(rule) if rule else None, w[2]))
    return rules, logged


def expected_for_policy(cap, frames, cls, groups, expect, conf):
    """Per frame: (verdict, set of acceptable `by`, reason, rule or None, is_opener)."""
    rules, _ = expect
    flows, out = {}, {}
    for n in sorted(cls):
        alts = cls[n]
        exp = []
        for c in alts:
            if c == "not-ip":
                exp.append(("accept", {"default"}, "not-ip", None, False, False))
            elif c.startswith("lifeline/"):
                exp.append(("accept", {"lifeline"}, c[9:], None, False, False))
            elif c.startswith("sanity/"):
                v = "accept" if conf.sanity == "accept" else "drop"
                exp.append((v, {"sanity"}, c[7:], None, False, False))
            elif c == "ip":
                e = ip_expect(n, cap, frames, groups, rules, flows)
                exp.extend(e if isinstance(e, list) else [e])
        out[n] = exp
    return out


def ip_expect(n, cap, frames, groups, rules, flows):
    grp = groups.get(n, [n])
    # a fragment group is judged once, as the datagram tshark reassembles at its last frame
    rep = frames.get(max(grp)) or frames[n]
    if rep.is_icmp_error():
        k = rep.inner_key()
        if k in flows:
            v, reason, rule, _ = flows[k]
            return (v, {"flow"}, reason, rule, False, False)
    key = rep.flow_key()
    if key is not None and key in flows:
        v, reason, rule, opener = flows[key]
        if opener != rep.n:
            # SPEC 2: the flow's decision, its rule too; or, when conntrack's timeout or a
            # new SYN ended the flow (not modelled here), judged afresh to the same end
            return [(v, {"flow"}, reason, rule, False, False),
                    (v, {by_of(reason)}, reason, None, False, False)]
    for verdict, reason, rule, flt in rules:
        hit = tshark_filter(cap, flt)
        if hit is None or any(x in hit for x in grp):
            if key is not None and key not in flows:
                flows[key] = (verdict, reason, rule, rep.n)
            # SPEC 4: ICMP that is not echo and quotes no known flow "is judged by the rules"
            soft = key is None and (rep.icmp or rep.icmp6)
            return (verdict, {by_of(reason)}, reason, rule, True, soft)
    raise RuntimeError("no expect line matched frame %d" % n)


def by_of(reason):
    return "firewall" if reason in FIREWALL_REASONS else "default"


# ---- running lifelined ---------------------------------------------------------
def run_lifelined(args, timeout=60):
    try:
        r = subprocess.run([LIFELINED] + args, capture_output=True, timeout=timeout)
        return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return -999, "", "timeout after %ds" % timeout


def parse_verdicts(text):
    lines, bad = {}, []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            o = json.loads(line)
            n = o["n"]
        except Exception:
            bad.append(line[:80])
            continue
        if n in lines:
            bad.append("frame %d reported twice" % n)
        lines[n] = o
    return lines, bad


def describe(o):
    s = "%s/%s/%s" % (o.get("verdict"), o.get("by"), o.get("reason"))
    return s + (":%s" % o["rule"] if "rule" in o else "")


def compare(exp, got, logged_id, soft=None):
    """Returns None when `got` (a JSON object) satisfies one of the expectations.
    ICMP the rules should judge per packet but lifelined reports as `by: flow` (same
    verdict and reason) is tolerated here and appended to `soft` (reported apart)."""
    if got is None:
        return "missing"
    for verdict, bys, reason, rule, opener, sft in exp:
        if got.get("verdict") != verdict:
            continue
        if got.get("by") not in bys:
            if not (sft and got.get("by") == "flow" and got.get("reason") == reason):
                continue
            if soft is not None:
                soft.append(got)
            return None
        if reason != "*" and got.get("reason") != reason:
            continue
        if rule is not None and got.get("rule") != rule:
            continue
        if "lifeline" in bys and ("rule" in got or "logged" in got or "alerts" in got):
            continue
        if logged_id is not None and opener and logged_id not in (got.get("logged") or []):
            continue
        return None
    want = " or ".join("%s/%s/%s%s" % (v, "|".join(sorted(b)), r, ":%d" % ru if ru else "")
                       for v, b, r, ru, _, _ in exp)
    return "expected %s, got %s" % (want, describe(got))


# ---- checks ----------------------------------------------------------------------
def ts_string(epoch):
    sec, _, frac = epoch.partition(".")
    frac = (frac + "000000000")[:6]
    t = datetime.datetime.fromtimestamp(int(sec), datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + "." + frac + "Z"


def check_fields(name, frames, cls, groups, verdicts, conf):
    """dir, proto, ports, type/code and ts of whole, well-formed IP frames."""
    errs = []
    for n, f in sorted(frames.items()):
        o = verdicts.get(n)
        if o is None:
            continue
        if o.get("ts") != ts_string(f.ts):
            errs.append("n=%d ts %s, want %s" % (n, o.get("ts"), ts_string(f.ts)))
        if "dir" in o and "src" in o:
            try:
                want_dir = "out" if conf.is_host(ipaddress.ip_address(o["src"])) else "in"
            except ValueError:
                want_dir = None
            if o["dir"] != want_dir:
                errs.append("n=%d dir=%s but src %s %s a host address" % (
                    n, o["dir"], o["src"], "is" if want_dir == "out" else "is not"))
                continue
        if not f.is_ip or n in groups or any(c.startswith("sanity") for c in cls.get(n, [])):
            continue
        want = {"dir": "out" if conf.is_host(f.src) else "in", "src": str(f.src), "dst": str(f.dst)}
        p = f.proto_name()
        if p:
            want["proto"] = p
        if f.tcp or f.udp:
            want.update(sport=f.sport, dport=f.dport)
        if f.icmp or f.icmp6:
            want.update(type=f.itype, code=f.icode)
        for k, v in want.items():
            if o.get(k) != v:
                errs.append("n=%d %s=%r, want %r" % (n, k, o.get(k), v))
        if not (f.tcp or f.udp) and ("sport" in o or "dport" in o):
            errs.append("n=%d has ports but is not tcp/udp" % n)
        for k, v in o.items():
            if v is None:
                errs.append("n=%d %s is null" % (n, k))
    report(not errs, "fields/%s" % name, "; ".join(errs[:4]) + (" (+%d)" % (len(errs) - 4) if len(errs) > 4 else ""))


def summary_numbers(text):
    nums = {}
    for key in ("packets", "accepted", "dropped"):
        m = re.search(r"(\d+)\W{0,3}%s\b" % key, text) or re.search(r"\b%s\b\W{0,3}(\d+)" % key, text)
        if m:
            nums[key] = int(m.group(1))
    return nums


def check_pair(cap, pol, conf, frames, cls, groups, manifest, tag=""):
    name = "%s/%s%s" % (os.path.basename(cap), os.path.basename(pol)[:-4], tag)
    expect = load_expect(pol[:-4] + ".expect")
    exp = expected_for_policy(cap, frames, cls, groups, expect, conf)
    rc, out, err = run_lifelined(["-r", cap, "-c", conf.path, "-p", pol, "--verdicts", "-"])
    want_rc = manifest["exit"] if manifest else 0
    verdicts, bad = parse_verdicts(out)
    errs, soft = [], []
    if rc != want_rc:
        errs.append("exit %d, want %d (%s)" % (rc, want_rc, err.strip().splitlines()[-1:] or ""))
    errs += bad[:2]
    for n in sorted(exp):
        e = compare(exp[n], verdicts.get(n), expect[1], soft)
        if e:
            errs.append("n=%d %s" % (n, e))
    extra = sorted(set(verdicts) - set(exp))
    if extra:
        errs.append("lines for frames %s not in the capture" % extra[:5])
    # summary: stderr (verdicts on stdout), packets = accepted + dropped = lines
    s = summary_numbers(err)
    acc = sum(1 for o in verdicts.values() if o.get("verdict") == "accept")
    if s.get("packets") != len(verdicts) or s.get("accepted") != acc or \
            s.get("dropped") != len(verdicts) - acc:
        errs.append("summary on stderr %s, want packets=%d accepted=%d dropped=%d" %
                    (s or "missing", len(verdicts), acc, len(verdicts) - acc))
    table = {}
    for m in re.finditer(r"^\s*([a-z]+)\s+([a-z0-9-]+)\s+(\d+)\s*$", err, re.M):
        table[(m.group(1), m.group(2))] = int(m.group(3))
    counted = {}
    for o in verdicts.values():
        k = (o.get("by"), o.get("reason"))
        counted[k] = counted.get(k, 0) + 1
    if table != counted:
        errs.append("summary by/reason table %s, verdict lines say %s" % (sorted(table.items()), sorted(counted.items())))
    report(not errs, "replay/" + name,
           "; ".join(errs[:4]) + (" (+%d more)" % (len(errs) - 4) if len(errs) > 4 else ""))
    if os.path.basename(pol) == "deny-all.pol" and not tag:
        report(not soft, "icmp-judged-by-rules/%s" % os.path.basename(cap),
               "%d non-echo ICMP frames that quote no known flow reported as by=flow (SPEC 4: "
               "\"other ICMP is judged by the rules\"), e.g. n=%s" %
               (len(soft), ",".join(str(o["n"]) for o in soft[:6])))
    return verdicts


def pcap_count(path):
    r = subprocess.run(["tcpdump", "-n", "-r", path], capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip().splitlines()[-1:] if r.stderr else ""
    return len(r.stdout.splitlines()), ""


def linktype(path):
    with open(path, "rb") as f:
        h = f.read(24)
    if len(h) < 24 or h[:4] == b"\x0a\x0d\x0d\x0a":
        return None  # pcapng: per-interface link types
    e = "<" if h[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    import struct
    return struct.unpack(e + "I", h[20:24])[0]


def check_outputs(cap, pol, conf, manifest):
    """-w and --dropped write readable captures whose counts add up; two runs agree."""
    name = os.path.basename(cap)
    a, d = os.path.join(TMP, name + ".acc.pcap"), os.path.join(TMP, name + ".drop.pcap")
    rc, out, err = run_lifelined(["-r", cap, "-c", conf.path, "-p", pol, "--verdicts", "-",
                                  "-w", a, "--dropped", d])
    verdicts, _ = parse_verdicts(out)
    errs = []
    na, ea = pcap_count(a) if os.path.exists(a) else (None, "not written")
    nd, ed = pcap_count(d) if os.path.exists(d) else (None, "not written")
    acc = sum(1 for o in verdicts.values() if o.get("verdict") == "accept")
    if na is None or nd is None:
        errs.append("unreadable output: -w %s --dropped %s" % (ea, ed))
    else:
        if na != acc or nd != len(verdicts) - acc:
            errs.append("-w has %d frames, --dropped %d; verdicts say %d accepted, %d dropped" %
                        (na, nd, acc, len(verdicts) - acc))
        if linktype(cap) is not None and (linktype(a) != linktype(cap) or linktype(d) != linktype(cap)):
            errs.append("link type %s/%s, input %s" % (linktype(a), linktype(d), linktype(cap)))
    rc2, out2, _ = run_lifelined(["-r", cap, "-c", conf.path, "-p", pol, "--verdicts", "-"])
    if out2 != out or rc2 != rc:
        errs.append("two replays differ")
    # --verdicts FILE: same lines in the file, summary on stdout; no --verdicts: summary only
    vf = os.path.join(TMP, name + ".verdicts")
    rc3, out3, _ = run_lifelined(["-r", cap, "-c", conf.path, "-p", pol, "--verdicts", vf])
    if not os.path.exists(vf) or open(vf).read() != out:
        errs.append("--verdicts FILE differs from --verdicts -")
    if summary_numbers(out3).get("packets") != len(verdicts) or "{" in out3:
        errs.append("with --verdicts FILE, stdout is not the summary: %r" % out3[:80])
    rc4, out4, _ = run_lifelined(["-r", cap, "-c", conf.path, "-p", pol])
    if summary_numbers(out4).get("packets") != len(verdicts) or "{" in out4 or rc4 != rc:
        errs.append("without --verdicts, stdout is not the summary (exit %d): %r" % (rc4, out4[:80]))
    report(not errs, "outputs/%s" % name, "; ".join(errs))


def check_touches_nothing():
    """Replay writes nothing the config names: state dir, event log, control socket."""
    d = os.path.join(TMP, "sandbox")
    os.makedirs(d)
    conf = os.path.join(TMP, "sandbox.conf")
    with open(conf, "w") as f:
        f.write(open(os.path.join(HERE, "agent.conf")).read())
        f.write("state-dir %s/state\nevent-log %s/events.json\ncontrol-socket %s/control.sock\n"
                % (d, d, d))
    rc, out, err = run_lifelined(["-r", os.path.join(PCAPS, "dhcp-dns.pcap"), "-c", conf, "-p",
                                  os.path.join(HERE, "policies", "deny-all.pol"), "--verdicts", "-"])
    left = os.listdir(d)
    report(rc == 0 and not left, "replay/touches-nothing",
           "exit %d, created %s" % (rc, left))


def check_usage():
    cap = os.path.join(PCAPS, "crafted-raw.pcap")
    pol = os.path.join(HERE, "policies", "deny-all.pol")
    conf = os.path.join(HERE, "agent.conf")
    cases = [
        ("usage/no-args-to-r", ["-r"], 2),
        ("usage/unknown-option", ["-r", cap, "--no-such-option"], 2),
        ("usage/verdicts-without-file", ["-r", cap, "-c", conf, "--verdicts"], 2),
        ("usage/missing-capture", ["-r", os.path.join(TMP, "nonexistent.pcap"), "-c", conf], 1),
        ("usage/not-a-capture", ["-r", conf, "-c", conf], 1),
        ("usage/invalid-policy", ["-r", cap, "-c", conf, "-p",
                                  os.path.join(HERE, "invalid", "bad-syntax.pol"), "--verdicts", "-"], 1),
        ("usage/invalid-config", ["-r", cap, "-c", os.path.join(HERE, "invalid", "bad.conf"),
                                  "--verdicts", "-"], 1),
        ("usage/missing-policy", ["-r", cap, "-c", conf, "-p", os.path.join(TMP, "nope.pol")], 1),
        ("usage/unsupported-linktype", ["-r", os.path.join(PCAPS, "crafted-linktype-80211.pcap"),
                                        "-c", conf, "-p", pol, "--verdicts", "-"], 1),
    ]
    for name, args, want in cases:
        rc, out, err = run_lifelined(args)
        errs = []
        if rc != want:
            errs.append("exit %d, want %d" % (rc, want))
        if want == 1 and args[-1] == "-" and out.strip():
            errs.append("replayed frames despite bad input: %r" % out.strip()[:60])
        if not err.strip():
            errs.append("no message on stderr")
        if "bad-syntax" in " ".join(args) and not re.search(r"bad-syntax\.pol:\d+:\d+", err):
            errs.append("error does not name file:line:col: %r" % err.strip()[:100])
        report(not errs, name, "; ".join(errs))
    rc, out, err = run_lifelined(["--help"])
    report(rc == 0 and "-r" in out + err, "usage/help", "exit %d" % rc)
    rc, out, err = run_lifelined(["--version"])
    report(rc == 0 and (out + err).strip() != "", "usage/version", "exit %d" % rc)


def tcp4(src, dst, sp, dp, seq, ack, flags, data=b""):
    """A raw IPv4 TCP packet with valid checksums."""
    def csum(b):
        b += b"\0" * (len(b) % 2)
        x = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        x = (x >> 16) + (x & 0xffff)
        return ~(x + (x >> 16)) & 0xffff
    t = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xffffffff, ack, 5 << 4, flags, 65535, 0, 0) + data
    ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(t))
    t = t[:16] + struct.pack("!H", csum(ph + t)) + t[18:]
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(t), 1, 0, 64, 6, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + t


def check_blind_rst():
    """A RST far outside the window does not end the flow, in replay as live, with the
    default config (offload yes: replay still sees every packet); an in-window RST does."""
    c, s = "192.0.2.7", "198.51.100.2"
    pol = os.path.join(TMP, "rst.pol")
    with open(pol, "w") as f:
        f.write("allow in tcp to any port 80 id 1\nallow out udp id 3\n")
    for name, rst_seq, want in (("blind", 1019 + (1 << 31), "accept/flow/allow:1"),
                                ("in-window", 1019, "drop/firewall/not-allowed")):
        fr = [tcp4(c, s, 40000, 80, 1000, 0, 0x02), tcp4(s, c, 80, 40000, 5000, 1001, 0x12),
              tcp4(c, s, 40000, 80, 1001, 5001, 0x10),
              tcp4(c, s, 40000, 80, 1001, 5001, 0x18, b"GET / HTTP/1.0\r\n\r\n"),
              tcp4(c, s, 40000, 80, rst_seq, 0, 0x04),
              tcp4(s, c, 80, 40000, 5001, 1019, 0x18, b"HTTP/1.0 200 OK\r\n\r\n")]
        cap = os.path.join(TMP, "rst-%s.pcap" % name)
        with open(cap, "wb") as o:
            o.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
            for i, p in enumerate(fr):
                # the answer 30 s later: past a closed flow's 10 s
                o.write(struct.pack("<IIII", 1700000000 + i + 30 * (i == 5), 0, len(p), len(p)) + p)
        rc, out, err = run_lifelined(["-r", cap, "-c", os.path.join(HERE, "agent.conf"), "-p", pol,
                                      "--verdicts", "-"])
        got = parse_verdicts(out)[0].get(6)
        report(rc == 0 and got is not None and describe(got) == want, "replay/rst-%s" % name,
               "exit %d, frame 6: %s, want %s" % (rc, describe(got) if got else None, want))


def count_records(path):
    """Complete records in a classic pcap file (None for pcapng or unknown)."""
    import struct
    data = open(path, "rb").read()
    if len(data) < 24:
        return None
    if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif data[:4] in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return None
    off, n = 24, 0
    while off + 16 <= len(data):
        incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        if off + 16 + incl > len(data):
            break
        off += 16 + incl
        n += 1
    return n


def check_corpora(pol):
    base = os.path.join(SHARED, "corpora", "pcaps")
    if not os.path.isdir(base):
        print("# corpora: %s is absent, skipping the public captures (set LL_SHARED)" % base)
        return
    caps = sorted(glob.glob(os.path.join(base, "*", "*.pcap")) + glob.glob(os.path.join(base, "*", "*.pcapng")))
    sets = {
        "dhcp": "!icmp && !icmpv6 && ((udp.srcport == 68 && udp.dstport == 67) || "
                "(udp.srcport == 67 && udp.dstport == 68) || (udp.srcport == 546 && udp.dstport == 547) || "
                "(udp.srcport == 547 && udp.dstport == 546))",
        "icmp-pmtu": "icmp.type#1 == 3 && icmp.code#1 == 4",
        "icmp6-pmtu": "icmpv6.type#1 == 2",
        "ndp": "icmpv6.type#1 in {133..136} && ipv6.hlim#1 == 255",
    }
    prefetch_filters([(c, f) for c in caps for f in sets.values()])
    conf = os.path.join(HERE, "empty.conf")

    def one(cap):
        rc, out, err = run_lifelined(["-r", cap, "-c", conf, "-p", pol, "--verdicts", "-"])
        return cap, rc, out, err

    with cf.ThreadPoolExecutor(JOBS) as ex:
        runs = list(ex.map(one, caps))
    for cap, rc, out, err in runs:
        rel = os.path.relpath(cap, base)
        verdicts, bad = parse_verdicts(out)
        errs = []
        if rc < 0 or rc > 1:
            errs.append("exit %d%s" % (rc, " (crash: signal %d)" % -rc if rc < 0 else ""))
        errs += bad[:2]
        nrec = count_records(cap)
        if nrec is not None and rc == 0 and sorted(verdicts) != list(range(1, nrec + 1)):
            errs.append("%d lines for %d complete frames" % (len(verdicts), nrec))
        if rc == 1 and not err.strip():
            errs.append("exit 1 without a message")
        note = ""
        if rc == 1 and not verdicts:
            note = ", refused: %s" % err.strip().splitlines()[-1][:80] if err.strip() else ""
        nlife = 0
        for reason, flt in sets.items():
            for n in sorted(tshark_filter(cap, flt)):
                nlife += 1
                o = verdicts.get(n)
                if o is None:
                    errs.append("n=%d (%s) missing" % (n, reason))
                elif (o.get("verdict"), o.get("by"), o.get("reason")) != ("accept", "lifeline", reason):
                    errs.append("n=%d expected accept/lifeline/%s, got %s" % (n, reason, describe(o)))
        report(not errs, "corpora/%s (%d lifeline frames%s)" % (rel, nlife, note),
               "; ".join(errs[:4]) + (" (+%d more)" % (len(errs) - 4) if len(errs) > 4 else ""))


def main():
    if not os.access(LIFELINED, os.X_OK):
        report(False, "replay/lifelined-present", "%s not built (make B=%s all)" % (LIFELINED, B))
        return 1
    only = os.environ.get("ONLY_CAP")
    caps = sorted(glob.glob(os.path.join(PCAPS, "*.pcap")) + glob.glob(os.path.join(PCAPS, "*.pcapng")))
    caps = [c for c in caps if "linktype-80211" not in c and (not only or only in c)]
    pols = sorted(glob.glob(os.path.join(HERE, "policies", "*.pol")))
    main_conf = Conf(os.path.join(HERE, "agent.conf"))
    other_confs = [Conf(os.path.join(HERE, x)) for x in
                   ("agent-dns.conf", "agent-ports.conf", "agent-nomanager.conf")]
    deny_all = os.path.join(HERE, "policies", "deny-all.pol")

    # facts first (tshark), all filters in parallel
    facts = {}
    with cf.ThreadPoolExecutor(JOBS) as ex:
        for cap, fr in zip(caps, ex.map(tshark_fields, caps)):
            facts[cap] = {n: Frame(d) for n, d in fr.items()}
    flts = set()
    for p in pols:
        for r in load_expect(p[:-4] + ".expect")[0]:
            flts.add(r[3])
    prefetch_filters([(c, f) for c in caps for f in flts])

    jobs = []
    for cap in caps:
        manifest = read_manifest(cap)
        for conf in [main_conf] + other_confs:
            cls, groups = classify(cap, facts[cap], conf, manifest)
            if manifest and conf is not main_conf:
                cls = adjust_manifest(cls, groups, facts[cap], conf)
            if conf is main_conf:
                for pol in pols:
                    jobs.append((cap, pol, conf, cls, groups, manifest, ""))
            else:
                jobs.append((cap, deny_all, conf, cls, groups, manifest,
                             " [%s]" % os.path.basename(conf.path)))
    with cf.ThreadPoolExecutor(JOBS) as ex:
        futs = {}
        for j in jobs:
            cap, pol, conf, cls, groups, manifest, tag = j
            futs[ex.submit(check_pair, cap, pol, conf, facts[cap], cls, groups, manifest, tag)] = j
        for fu in futs:
            cap, pol, conf, cls, groups, manifest, tag = futs[fu]
            v = fu.result()
            if pol == deny_all and not tag:
                check_fields(os.path.basename(cap), facts[cap], cls, groups, v, conf)
    for cap in caps:
        check_outputs(cap, deny_all, main_conf, read_manifest(cap))
    if not only:
        check_usage()
        check_touches_nothing()
        check_blind_rst()
    if os.environ.get("LL_SKIP_CORPORA"):
        print("# corpora: skipped (LL_SKIP_CORPORA set)")
    else:
        check_corpora(deny_all)
    return 0 if all(results) else 1


def adjust_manifest(cls, groups, frames, conf):
    """Manifests are written for agent.conf. For another config, the heartbeat and the
    configured-DNS lifeline of a frame are derived again with the SPEC 5 rules from
    tshark's facts (for a fragment, those of the frame its datagram completes in);
    DNS learned from DHCP inside the capture stays as the manifest says."""
    out = {}
    for n, alts in cls.items():
        f = frames.get(max(groups[n])) if n in groups else frames.get(n)
        new = []
        for c in alts:
            if f is not None and f.is_ip and c in ("ip", "lifeline/heartbeat"):
                r = lifeline_reason(f, conf, {4: set(), 6: set()})
                c = "lifeline/" + r if r in ("heartbeat", "dns") else "ip"
            new.append(c)
        out[n] = new
    return out


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        subprocess.run(["rm", "-rf", TMP])
