#!/usr/bin/env python3
"""craft.py - write the hand-made edge-case captures pcaps/crafted-*.pcap.

Plain python3 (struct only, no scapy). Every frame is built here byte by byte,
so this file is also the ground truth for what each frame is: next to every
capture it writes a manifest (tests/replay/manifests/NAME.txt) with one line
per frame -

    N CLASS [group=G]  # what the frame is

CLASS is `lifeline/REASON`, `sanity/REASON` (`sanity/*` when several reasons
are defensible), `not-ip`, or `ip` (ordinary traffic: the policy decides).
Frames with the same group are fragments of one datagram and share a verdict.
Files that cannot be replayed at all (cut captures, bad link type) get a
manifest line `# expect-exit N` and, for cut captures, lines for the frames
that are complete.

Usage: pcaps/craft.py [PCAP_DIR [MANIFEST_DIR]]
"""
import os
import struct
import sys

AGENT4, MGR4, DNS4, OTHER4, FAR4, OUT4 = (
    "198.51.100.2", "203.0.113.10", "198.51.100.1", "192.0.2.53", "192.0.2.10", "192.0.2.66")
AGENT6, MGR6, DNS6, OTHER6, FAR6, OUT6 = (
    "2001:db8:1::2", "2001:db8:2::10", "2001:db8:1::53", "2001:db8:3::53", "2001:db8:3::10",
    "2001:db8:3::66")
LL_AGENT, LL_RTR = "fe80::ff:fe00:2", "fe80::ff:fe00:1"
MAC_AGENT, MAC_RTR = b"\x02\x00\x00\x00\x00\x02", b"\x02\x00\x00\x00\x00\x01"
T0 = 1795600800  # 2026-11-25T10:00:00Z

LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW = 0, 1, 101
LINKTYPE_IEEE802_11, LINKTYPE_IPV4, LINKTYPE_IPV6 = 105, 228, 229


# ---- addresses and checksums ------------------------------------------------
def a4(s):
    return bytes(int(x) for x in s.split("."))


def a6(s):
    if "::" in s:
        head, tail = s.split("::")
        h = [x for x in head.split(":") if x]
        t = [x for x in tail.split(":") if x]
        parts = h + ["0"] * (8 - len(h) - len(t)) + t
    else:
        parts = s.split(":")
    return b"".join(struct.pack("!H", int(x, 16)) for x in parts)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def pseudo(src, dst, proto, length):
    if len(src) == 4:
        return src + dst + struct.pack("!BBH", 0, proto, length)
    return src + dst + struct.pack("!IxxxB", length, proto)


# ---- layers -------------------------------------------------------------------
def ip4(src, dst, proto, payload, ttl=64, ident=0x1234, df=False, mf=False, off=0,
        ihl=5, tot=None, opts=b"", version=4):
    src, dst = a4(src), a4(dst)
    flags = (0x4000 if df else 0) | (0x2000 if mf else 0) | (off // 8)
    tot = 20 + len(opts) + len(payload) if tot is None else tot
    h = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, 0, tot, ident, flags, ttl, proto, 0,
                    src, dst) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ip6(src, dst, nh, payload, hlim=64, plen=None):
    plen = len(payload) if plen is None else plen
    return struct.pack("!IHBB16s16s", 6 << 28, plen, nh, hlim, a6(src), a6(dst)) + payload


def l4sum(src, dst, proto, seg, off):
    s, d = (a4(src), a4(dst)) if "." in src else (a6(src), a6(dst))
    c = csum(pseudo(s, d, proto, len(seg)) + seg)
    if proto == 17 and c == 0:
        c = 0xFFFF
    return seg[:off] + struct.pack("!H", c) + seg[off + 2:]


def tcp(src, dst, sport, dport, flags="S", seq=1000, ack=0, payload=b"", doff=5):
    fl = sum({"F": 1, "S": 2, "R": 4, "P": 8, "A": 16, "U": 32}[c] for c in flags)
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, fl, 64240, 0, 0)
    seg += b"\0" * max(0, doff * 4 - 20) + payload
    return l4sum(src, dst, 6, seg, 16)


def udp(src, dst, sport, dport, payload, ulen=None):
    ulen = 8 + len(payload) if ulen is None else ulen
    return l4sum(src, dst, 17, struct.pack("!HHHH", sport, dport, ulen, 0) + payload, 6)


def icmp(typ, code, rest=b"\0\0\0\0", payload=b""):
    m = struct.pack("!BBH", typ, code, 0) + rest + payload
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def icmp6(src, dst, typ, code, body):
    m = struct.pack("!BBH", typ, code, 0) + body
    return l4sum(src, dst, 58, m, 2)


def eth(payload, etype=0x0800, dst=MAC_AGENT, src=MAC_RTR, vlans=()):
    h = dst + src
    for tpid, vid in vlans:
        h += struct.pack("!HH", tpid, vid)
    return h + struct.pack("!H", etype) + payload


def v4(src, dst, proto, l4, **kw):
    return eth(ip4(src, dst, proto, l4, **kw), 0x0800)


def v6(src, dst, nh, l4, **kw):
    return eth(ip6(src, dst, nh, l4, **kw), 0x86DD)


def tcp4(src, dst, sport, dport, flags="S", payload=b"", **kw):
    return v4(src, dst, 6, tcp(src, dst, sport, dport, flags, payload=payload), **kw)


def tcp6(src, dst, sport, dport, flags="S", payload=b"", **kw):
    return v6(src, dst, 6, tcp(src, dst, sport, dport, flags, payload=payload), **kw)


def udp4(src, dst, sport, dport, payload=b"x" * 8, **kw):
    return v4(src, dst, 17, udp(src, dst, sport, dport, payload), **kw)


def udp6(src, dst, sport, dport, payload=b"x" * 8, **kw):
    return v6(src, dst, 17, udp(src, dst, sport, dport, payload), **kw)


def dns_query(name="a.example.test", qid=0x4242):
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", 1, 1)


def dhcp(msgtype, yiaddr="0.0.0.0", siaddr="0.0.0.0", options=(), sname=b"", file=b"",
         xid=0x0D1CE000, op=None, chaddr=None):
    op = op or (1 if msgtype in (1, 3, 4, 7, 8) else 2)
    opts = bytes([53, 1, msgtype])
    for code, val in options:
        opts += bytes([code, len(val)]) + val
    opts += b"\xff"
    m = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", op, 1, 6, 0, xid, 0, 0x8000, a4("0.0.0.0"),
                    a4(yiaddr), a4(siaddr), a4("0.0.0.0"), (chaddr or MAC_AGENT) + b"\0" * 10,
                    sname.ljust(64, b"\0"), file.ljust(128, b"\0"))
    return m + b"\x63\x82\x53\x63" + opts


def dhcp4_frame(msgtype, server=DNS4, **kw):
    """Server replies go 198.51.100.1:67 -> agent:68; client messages 0.0.0.0:68 -> bcast:67."""
    m = dhcp(msgtype, **kw)
    if msgtype in (2, 5, 6):
        return udp4(server, AGENT4, 67, 68, m)
    return udp4("0.0.0.0", "255.255.255.255", 68, 67, m)


def dhcp6_reply(dns, xid=0x0A0B0C, msgtype=7):
    opts = struct.pack("!HH", 1, 10) + struct.pack("!HH", 3, 1) + MAC_AGENT  # client id (DUID-LL)
    opts += struct.pack("!HH", 2, 10) + struct.pack("!HH", 3, 1) + MAC_RTR   # server id
    if dns:
        body = b"".join(a6(d) for d in dns)
        opts += struct.pack("!HH", 23, len(body)) + body
    return struct.pack("!I", (msgtype << 24) | xid) + opts


# ---- fragments ----------------------------------------------------------------
def frag4(src, dst, proto, l4, cuts, ident):
    """Split the L4 bytes at byte offsets `cuts` (multiples of 8) into IPv4 fragments."""
    edges = [0] + list(cuts) + [len(l4)]
    return [ip4(src, dst, proto, l4[a:b], ident=ident, off=a, mf=b < len(l4))
            for a, b in zip(edges, edges[1:])]


def frag6(src, dst, nh, l4, cuts, ident, hlim=64):
    edges = [0] + list(cuts) + [len(l4)]
    out = []
    for a, b in zip(edges, edges[1:]):
        fh = struct.pack("!BBHI", nh, 0, a | (1 if b < len(l4) else 0), ident)
        out.append(ip6(src, dst, 44, fh + l4[a:b], hlim=hlim))
    return out


# ---- IPv6 extension headers ---------------------------------------------------
def ext(nh, body=b"\x01\x04\0\0\0\0"):
    """Hop-by-hop / destination options: next header, length, PadN padding to 8n bytes."""
    h = bytes([nh, 0]) + body
    h += b"\0" * (-len(h) % 8)
    return bytes([nh, len(h) // 8 - 1]) + h[2:]


def rthdr(nh, addr=AGENT6):
    """Segment routing header (type 4) with segments left 0: processed, then skipped."""
    return struct.pack("!BBBBBBH", nh, 2, 4, 0, 0, 0, 0) + a6(addr)


# ---- file writers ---------------------------------------------------------------
class Cap:
    def __init__(self, name, linktype=LINKTYPE_ETHERNET, snaplen=65535):
        self.name, self.linktype, self.snaplen = name, linktype, snaplen
        self.frames = []  # (ts_usec, data, orig_len)
        self.notes = []   # (class, group, note)
        self.trailer = []

    def add(self, data, cls, note, group=None, orig=None, dt=10000):
        ts = T0 * 1000000 + len(self.frames) * dt if not self.frames else self.frames[-1][0] + dt
        self.frames.append((ts, data, orig or len(data)))
        self.notes.append((cls, group, note))

    def pcap_bytes(self, big_endian=False, nsec=False):
        e = ">" if big_endian else "<"
        magic = 0xA1B23C4D if nsec else 0xA1B2C3D4
        out = struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, self.snaplen, self.linktype)
        for ts, data, orig in self.frames:
            sub = (ts % 1000000) * (1000 if nsec else 1)
            out += struct.pack(e + "IIII", ts // 1000000, sub, len(data), orig) + data
        return out

    def write(self, pdir, mdir, raw=None, expect_exit=0, complete=None):
        with open(os.path.join(pdir, self.name + getattr(self, "ext", ".pcap")), "wb") as f:
            f.write(raw if raw is not None else self.pcap_bytes())
        n = len(self.frames) if complete is None else complete
        with open(os.path.join(mdir, self.name + ".txt"), "w") as f:
            f.write("# %s%s - written by pcaps/craft.py; N CLASS [group=G] # note\n"
                    % (self.name, getattr(self, "ext", ".pcap")))
            if expect_exit:
                f.write("# expect-exit %d\n" % expect_exit)
            for line in self.trailer:
                f.write("# %s\n" % line)
            for i, (cls, group, note) in enumerate(self.notes[:n], 1):
                g = " group=%s" % group if group else ""
                f.write("%d %s%s  # %s\n" % (i, cls, g, note))


HB = "lifeline/heartbeat"


# ---- the captures ---------------------------------------------------------------
def c_dhcp_learn():
    c = Cap("crafted-dhcp-learn")
    c.add(dhcp4_frame(1), "lifeline/dhcp", "DHCPDISCOVER 0.0.0.0:68 -> 255.255.255.255:67 (xid 0x0d1ce000)")
    c.add(dhcp4_frame(2, yiaddr=AGENT4, options=[(6, a4("203.0.113.53"))]), "lifeline/dhcp",
          "DHCPOFFER, option 6 = 203.0.113.53 (an offer teaches nothing)")
    c.add(udp4(AGENT4, "203.0.113.53", 40001, 53, dns_query()), "ip",
          "DNS query to 203.0.113.53 (only offered): ordinary")
    c.add(dhcp4_frame(3), "lifeline/dhcp", "DHCPREQUEST (the same xid)")
    # the xid, but another client's hardware address: the agent's client drops it, and so does the lifeline
    c.add(dhcp4_frame(5, server=OUT4, yiaddr=AGENT4, options=[(6, a4(OUT4))], chaddr=b"\x02\0\0\0\0\x66"),
          "lifeline/dhcp", "DHCPACK with the xid for another chaddr, naming the outsider: not the answer")
    c.add(dhcp4_frame(5, yiaddr=AGENT4, options=[(6, a4(DNS4)), (51, struct.pack("!I", 3600))]),
          "lifeline/dhcp", "DHCPACK, option 6 = 198.51.100.1")
    # the client is bound: a second ACK in its transaction (anyone saw the broadcast xid) is ignored
    c.add(dhcp4_frame(5, server=OUT4, yiaddr=AGENT4, options=[(6, a4(OUT4)), (51, struct.pack("!I", 0xffffffff))]),
          "lifeline/dhcp", "a second DHCPACK in the same transaction, naming the outsider 203.0.113.66")
    c.add(udp4(AGENT4, DNS4, 40002, 53, dns_query()), "lifeline/dns", "DNS query to the learned server")
    # anyone can send UDP 67 -> 68: an ACK to no request of the host's teaches nothing
    c.add(udp4(OUT4, AGENT4, 67, 68, dhcp(5, yiaddr=AGENT4, options=[(6, a4(OUT4))], xid=0x66666666)),
          "lifeline/dhcp", "forged DHCPACK (xid of no request) naming the outsider 203.0.113.66")
    c.add(udp4(AGENT4, DNS4, 40011, 53, dns_query()), "lifeline/dns",
          "DNS query to 198.51.100.1: the forged ACK replaced nothing")
    c.add(tcp4(OUT4, AGENT4, 53, 22, "S"), "ip", "outsider:53 -> agent:22: not a DNS server")
    c.add(udp4(DNS4, AGENT4, 53, 40002, dns_query()), "lifeline/dns", "DNS answer from the learned server")
    c.add(udp4(AGENT4, OTHER4, 40003, 53, dns_query()), "ip", "DNS query to 192.0.2.53 (not learned)")
    c.add(udp4(AGENT4, DNS4, 40004, 5353, dns_query()), "ip", "learned server but port 5353: ordinary")
    c.add(dhcp4_frame(3), "lifeline/dhcp", "DHCPREQUEST (a renewal)")
    # option 52 = 1: more options in the `file` field; option 6 lives only there
    c.add(dhcp4_frame(5, yiaddr=AGENT4, options=[(52, b"\x01")],
                      file=bytes([6, 4]) + a4(OTHER4) + b"\xff"),
          "lifeline/dhcp", "DHCPACK with option 52 overload: option 6 = 192.0.2.53 in `file`")
    c.add(udp4(AGENT4, OTHER4, 40005, 53, dns_query()), "lifeline/dns",
          "DNS query to 192.0.2.53 (learned through overload)")
    c.add(udp4(AGENT4, DNS4, 40006, 53, dns_query()), "ip",
          "DNS query to 198.51.100.1 (replaced by the last ACK): ordinary")
    c.add(tcp4(AGENT4, OTHER4, 40007, 53, "S"), "lifeline/dns", "TCP SYN to 192.0.2.53:53")
    c.add(tcp4(OTHER4, AGENT4, 53, 40007, "SA"), "lifeline/dns", "TCP SYN-ACK from 192.0.2.53:53")
    c.add(udp6(LL_RTR, LL_AGENT, 547, 546, dhcp6_reply([OUT6])), "lifeline/dhcp",
          "DHCPv6 Reply to no Request of the host's (option 23 = the outsider)")
    c.add(udp6(AGENT6, OUT6, 40012, 53, dns_query()), "ip", "DNS to the outsider: not learned")
    c.add(udp6(LL_AGENT, "ff02::1:2", 546, 547, dhcp6_reply([], msgtype=3)), "lifeline/dhcp",
          "DHCPv6 Request (transaction 0x0a0b0c)")
    c.add(udp6(LL_RTR, LL_AGENT, 547, 546, dhcp6_reply([DNS6])), "lifeline/dhcp",
          "DHCPv6 Reply, option 23 = 2001:db8:1::53")
    c.add(udp6(AGENT6, DNS6, 40008, 53, dns_query()), "lifeline/dns", "DNS over IPv6 to the learned server")
    c.add(udp6(DNS6, AGENT6, 53, 40008, dns_query()), "lifeline/dns", "answer from the learned server")
    c.add(udp6(AGENT6, OTHER6, 40009, 53, dns_query()), "ip", "DNS to 2001:db8:3::53 (not learned)")
    c.add(udp4(AGENT4, OTHER4, 40010, 53, dns_query()), "lifeline/dns",
          "v4 server still learned after a v6 Reply")
    c.add(udp6(LL_AGENT, "ff02::1:2", 546, 547, dhcp6_reply([], msgtype=1)), "lifeline/dhcp",
          "DHCPv6 Solicit to ff02::1:2")
    c.add(udp4(DNS4, AGENT4, 67, 67, dhcp(5, yiaddr=AGENT4)), "ip",
          "UDP 67 -> 67 (relay traffic, not client 68<->67): ordinary")
    c.add(dhcp4_frame(3), "lifeline/dhcp", "DHCPREQUEST 0.0.0.0:68 -> 255.255.255.255:67")
    return [c]


def c_malformed():
    c = Cap("crafted-malformed")
    good = ip4(AGENT4, FAR4, 17, udp(AGENT4, FAR4, 40000, 9, b"ok"))
    c.add(eth(good), "ip", "a good UDP packet")
    c.add(eth(ip4(AGENT4, FAR4, 17, b"")[:12]), "sanity/truncated", "IPv4 header cut at 12 bytes")
    c.add(eth(ip6(AGENT6, FAR6, 17, b"")[:20], 0x86DD), "sanity/truncated", "IPv6 header cut at 20 bytes")
    c.add(eth(ip4(AGENT4, FAR4, 17, udp(AGENT4, FAR4, 40000, 9, b"abcd"), ihl=3)),
          "sanity/bad-ihl", "IPv4 IHL 3 (< 5)")
    c.add(eth(ip4(AGENT4, FAR4, 17, b"\0" * 8, ihl=15)), "sanity/*",
          "IPv4 IHL 15 (60 bytes) in a 28-byte datagram")
    c.add(eth(ip4(AGENT4, FAR4, 17, udp(AGENT4, FAR4, 40000, 9, b"abcd"), tot=200)),
          "sanity/bad-length", "IPv4 total length 200 > 32 bytes present")
    c.add(eth(ip4(AGENT4, FAR4, 17, udp(AGENT4, FAR4, 40000, 9, b"abcd"), tot=12)),
          "sanity/*", "IPv4 total length 12 < header length 20")
    c.add(eth(ip6(AGENT6, FAR6, 17, udp(AGENT6, FAR6, 40000, 9, b"abcd"), plen=300), 0x86DD),
          "sanity/bad-length", "IPv6 payload length 300 > 12 bytes present")
    c.add(eth(ip4(AGENT4, FAR4, 6, tcp(AGENT4, FAR4, 40000, 80)[:12])), "sanity/*",
          "TCP header of 12 bytes (datagram ends there)")
    c.add(eth(ip4(AGENT4, FAR4, 6, tcp(AGENT4, FAR4, 40000, 80, doff=3))), "sanity/*",
          "TCP data offset 3 (< 5)")
    c.add(eth(ip4(AGENT4, FAR4, 6, tcp(AGENT4, FAR4, 40000, 80, doff=15)[:20])), "sanity/*",
          "TCP data offset 15 past the 20-byte segment")
    c.add(eth(ip4(AGENT4, FAR4, 17, udp(AGENT4, FAR4, 40000, 9, b"")[:4])), "sanity/*",
          "UDP header of 4 bytes")
    c.add(eth(ip4(AGENT4, FAR4, 17, udp(AGENT4, FAR4, 40000, 9, b"abcd", ulen=4))), "sanity/*",
          "UDP length field 4 (< 8)")
    c.add(eth(ip4(AGENT4, FAR4, 17, udp(AGENT4, FAR4, 40000, 9, b"abcd", ulen=100))), "sanity/*",
          "UDP length field 100 > 12-byte datagram")
    c.add(eth(ip4(AGENT4, FAR4, 17, udp(AGENT4, FAR4, 40000, 9, b"abcd"), version=6)), "sanity/*",
          "ethertype IPv4, version nibble 6")
    c.add(eth(ip6(AGENT6, FAR6, 0, b"\x11\x05" + b"\0" * 6), 0x86DD), "sanity/*",
          "IPv6 hop-by-hop header claiming 48 bytes, 8 present")
    c.add(eth(ip6(AGENT6, FAR6, 60, ext(0) + ext(17) + udp(AGENT6, FAR6, 40000, 9, b"x")), 0x86DD),
          "sanity/bad-exthdr|ip", "IPv6 hop-by-hop after a destination options header (must be first)")
    c.add(eth(ip4(DNS4, AGENT4, 17, udp(DNS4, AGENT4, 67, 68, b"")[:6])), "sanity/*",
          "a DHCP reply whose UDP header is cut (datagram ends at 6 bytes): malformed even if lifeline")
    c.add(eth(b"\x00\x01\x08\x00\x06\x04\x00\x01" + MAC_AGENT + a4(AGENT4) + b"\0" * 6 + a4(DNS4),
              0x0806), "not-ip", "ARP who-has")
    c.add(eth(good), "ip", "the good UDP packet again (same flow)")
    c.add(eth(b"\x60", 0x86DD), "sanity/truncated", "IPv6 ethertype with 1 byte")
    c.add(eth(b"", 0x0800), "sanity/truncated", "IPv4 ethertype with no bytes")
    c.add(eth(ip4(AGENT4, FAR4, 17, udp(AGENT4, FAR4, 40000, 9, b"abcd")) + b"\0" * 10), "ip",
          "Ethernet padding after the datagram (total length is right): not malformed")
    c.add(eth(ip4(AGENT4, FAR4, 17, udp(AGENT4, FAR4, 40011, 9, b"ok"), ihl=6,
                  opts=b"\x01\x01\x01\x00")), "ip", "IPv4 with options (NOP NOP NOP EOL)")
    return [c]


def c_snaplen():
    c = Cap("crafted-snaplen", snaplen=64)
    def cut(frame, n=64):
        return frame[:n], len(frame)
    big = b"\x17\x03\x03\x00\x40" + b"h" * 64
    d, o = cut(tcp4(AGENT4, MGR4, 40120, 4120, "PA", big))
    c.add(d, HB, "heartbeat data agent->manager:4120 cut at 64 bytes (TCP header whole)", orig=o)
    d, o = cut(tcp6(MGR6, AGENT6, 40118, 4118, "PA", big))
    c.add(d, HB + "|sanity/truncated",
          "heartbeat manager->agent:4118 over IPv6 cut at 64: TCP header cut at 10 bytes "
          "(ports there, flags not): either answer is defensible", orig=o)
    d, o = cut(dhcp4_frame(5, yiaddr=AGENT4, options=[(6, a4(DNS4))]))
    c.add(d, "lifeline/dhcp", "DHCPACK cut at 64 bytes (UDP header whole, options gone)", orig=o)
    d, o = cut(udp4(AGENT4, DNS4, 40002, 53, dns_query()))
    c.add(d, "ip", "DNS query to 198.51.100.1: the cut ACK taught nothing -> ordinary", orig=o)
    d, o = cut(dhcp4_frame(1), 36)
    c.add(d, "sanity/truncated", "DHCPDISCOVER cut at 36 bytes (UDP header cut at 2: no dport)",
          orig=o)
    d, o = cut(tcp4(MGR4, AGENT4, 4120, 40120, "PA", b"x" * 40), 36)
    c.add(d, "sanity/truncated", "heartbeat segment cut at 36 bytes (TCP header cut at 2: no dport)",
          orig=o)
    d, o = cut(tcp4(AGENT4, FAR4, 40200, 80, "PA", b"GET / HTTP/1.0\r\n\r\n" * 4), 40)
    c.add(d, "sanity/truncated|ip", "TCP to port 80 cut at 40 bytes (TCP header cut at 6: ports, "
          "no flags)", orig=o)
    d, o = cut(tcp4(AGENT4, FAR4, 40201, 80, "S", b""), 64)
    c.add(d, "ip", "a whole SYN to port 80", orig=o)
    d, o = cut(v4(AGENT4, FAR4, 1, icmp(8, 0, b"\0\1\0\1", b"p" * 100)))
    c.add(d, "ip", "ICMP echo request cut at 64 bytes", orig=o)
    d, o = cut(v4(AGENT4, FAR4, 1, icmp(8, 0, b"\0\1\0\2", b"p" * 100)), 35)
    c.add(d, "sanity/truncated", "ICMP cut at 1 byte of the ICMP header", orig=o)
    d, o = cut(v4(DNS4, AGENT4, 1, icmp(3, 4, b"\0\0\x05\x00",
                                         ip4(AGENT4, FAR4, 6, tcp(AGENT4, FAR4, 1, 80)))))
    c.add(d, "lifeline/icmp-pmtu", "ICMP 3/4 cut at 64 bytes (quote cut)", orig=o)
    return [c]


def c_exthdr():
    c = Cap("crafted-exthdr")
    u = udp(LL_AGENT, "ff02::1:2", 546, 547, dhcp6_reply([], msgtype=1))
    # hop-by-hop -> destination options -> routing (type 2, segments left 0) -> destination options -> UDP
    chain = ext(60) + ext(43) + rthdr(60) + ext(17) + u
    c.add(eth(ip6(LL_AGENT, "ff02::1:2", 0, chain), 0x86DD), "lifeline/dhcp",
          "DHCPv6 Solicit behind HBH + DST + SRH(segments left 0) + DST")
    t = tcp(AGENT6, MGR6, 40120, 4120, "S")
    chain = ext(60) + ext(43) + rthdr(44) + struct.pack("!BBHI", 6, 0, 0, 0x77) + t
    c.add(eth(ip6(AGENT6, MGR6, 0, chain), 0x86DD), HB,
          "heartbeat SYN behind HBH + DST + RH + atomic fragment header (offset 0, M=0)")
    t = tcp(OUT6, AGENT6, 40121, 4118, "S")
    c.add(eth(ip6(OUT6, AGENT6, 0, ext(60) + ext(6) + t), 0x86DD), "ip",
          "outsider SYN to agent:4118 behind HBH + DST: ordinary")
    ns = icmp6(LL_AGENT, "ff02::1:ff00:1", 135, 0, b"\0" * 4 + a6("2001:db8:1::1"))
    c.add(eth(ip6(LL_AGENT, "ff02::1:ff00:1", 0, ext(58) + ns, hlim=255), 0x86DD), "lifeline/ndp",
          "neighbour solicitation, hop limit 255, behind hop-by-hop")
    t = tcp(OUT6, AGENT6, 40122, 80, "S")
    c.add(eth(ip6(OUT6, AGENT6, 60, ext(43) + rthdr(6) + t), 0x86DD), "ip",
          "outsider SYN to port 80 behind DST + RH")
    c.add(eth(ip6(AGENT6, FAR6, 0, ext(59)), 0x86DD), "ip",
          "hop-by-hop then no next header (59): proto 59, ordinary")
    t = tcp(MGR6, AGENT6, 4120, 40120, "SA")
    c.add(eth(ip6(MGR6, AGENT6, 60, ext(60) + ext(60) + ext(60) + ext(6) + t), 0x86DD), HB,
          "heartbeat SYN-ACK behind four destination options headers")
    return [c]


def c_frag4():
    c = Cap("crafted-frag4")
    c.add(dhcp4_frame(3), "lifeline/dhcp", "DHCPREQUEST 0.0.0.0:68 -> 255.255.255.255:67")
    c.add(dhcp4_frame(5, yiaddr=AGENT4, options=[(6, a4(DNS4))]), "lifeline/dhcp",
          "DHCPACK, option 6 = 198.51.100.1")
    # an answer is lifeline only to the port the host asked from (conntrack's established)
    c.add(udp4(AGENT4, DNS4, 40002, 53, dns_query()), "lifeline/dns", "DNS query from port 40002")
    resp = udp(DNS4, AGENT4, 53, 40002, dns_query() + b"A" * 26)  # 64 bytes
    for f in frag4(DNS4, AGENT4, 17, resp, [24, 48], 0x101):
        c.add(eth(f), "lifeline/dns", "DNS answer from the learned server, 3 fragments in order",
              group="A")
    c.add(udp4(AGENT4, DNS4, 40003, 53, dns_query()), "lifeline/dns", "DNS query from port 40003")
    fr = frag4(DNS4, AGENT4, 17, udp(DNS4, AGENT4, 53, 40003, dns_query() + b"B" * 26), [24, 48], 0x102)
    for f in (fr[2], fr[0], fr[1]):
        c.add(eth(f), "lifeline/dns", "DNS answer, fragments out of order (3, 1, 2)", group="B")
    hb = tcp(MGR4, AGENT4, 4120, 40120, "PA", payload=b"\x17\x03\x03\x00\x10" + b"q" * 19)
    fr = frag4(MGR4, AGENT4, 6, hb, [8, 24], 0x103)
    for f in (fr[1], fr[2], fr[0]):
        c.add(eth(f), HB, "heartbeat segment whose TCP header is split across fragments, out of order",
              group="C")
    fr = frag4(OUT4, AGENT4, 17, udp(OUT4, AGENT4, 40100, 9999, b"C" * 40), [16, 32], 0x104)
    for f in fr:
        c.add(eth(f), "ip", "ordinary UDP outsider -> agent:9999 in 3 fragments", group="D")
    ov = udp(DNS4, AGENT4, 53, 40004, b"D" * 40)
    c.add(eth(ip4(DNS4, AGENT4, 17, ov[0:24], ident=0x105, mf=True)), "sanity/frag-overlap",
          "overlapping fragments (0-23, 16-47): the kernel drops the datagram", group="E")
    c.add(eth(ip4(DNS4, AGENT4, 17, ov[16:48], ident=0x105, off=16)), "sanity/frag-overlap",
          "second fragment overlaps the first by 8 bytes", group="E")
    c.add(tcp4(AGENT4, FAR4, 40201, 80, "S"), "ip", "an ordinary SYN between fragments")
    fr = frag4(OUT4, AGENT4, 17, udp(OUT4, AGENT4, 40101, 9999, b"E" * 40), [16, 32], 0x106)
    for f in fr[:2]:
        c.add(eth(f), "sanity/frag-timeout", "incomplete datagram (last fragment never comes)",
              group="F")
    c.add(udp4(DNS4, AGENT4, 53, 161, b"G" * 40), "ip",
          "from the server's port 53 to a port the host never asked from (snmp): ordinary")
    c.add(tcp4(DNS4, AGENT4, 53, 22, "S"), "ip", "a SYN from the server's port 53 to ssh: ordinary")
    c.add(udp4(AGENT4, DNS4, 40005, 53, dns_query()), "lifeline/dns", "DNS query from port 40005")
    fr = frag4(DNS4, AGENT4, 17, udp(DNS4, AGENT4, 53, 40005, b"F" * 40), [24], 0x107)
    c.add(eth(fr[1]), "sanity/frag-timeout", "lifeline DNS answer whose first fragment never comes",
          group="G")
    return [c]


def c_frag6():
    c = Cap("crafted-frag6")
    c.add(udp6(LL_AGENT, "ff02::1:2", 546, 547, dhcp6_reply([], msgtype=3)), "lifeline/dhcp",
          "DHCPv6 Request (transaction 0x0a0b0c)")
    rep = udp(LL_RTR, LL_AGENT, 547, 546, dhcp6_reply([DNS6]))
    fr = frag6(LL_RTR, LL_AGENT, 17, rep, [32], 0x201)
    for f in (fr[1], fr[0]):
        c.add(eth(f, 0x86DD), "lifeline/dhcp", "DHCPv6 Reply (option 23 = 2001:db8:1::53) in 2 fragments, "
              "out of order", group="A")
    c.add(udp6(AGENT6, DNS6, 40008, 53, dns_query()), "lifeline/dns",
          "DNS to the server learned from the fragmented Reply")
    hb = tcp(MGR6, AGENT6, 40118, 4118, "PA", payload=b"\x17\x03\x03\x00\x20" + b"z" * 35)
    for f in frag6(MGR6, AGENT6, 6, hb, [24, 40], 0x202):
        c.add(eth(f, 0x86DD), HB, "heartbeat manager -> agent:4118 in 3 fragments", group="B")
    fr = frag6(OUT6, AGENT6, 17, udp(OUT6, AGENT6, 40100, 9999, b"C" * 40), [24], 0x203)
    for f in fr:
        c.add(eth(f, 0x86DD), "ip", "ordinary UDP outsider -> agent:9999 in 2 fragments", group="C")
    ov = udp(DNS6, AGENT6, 53, 40009, b"D" * 40)
    c.add(eth(ip6(DNS6, AGENT6, 44, struct.pack("!BBHI", 17, 0, 0 | 1, 0x204) + ov[:24]), 0x86DD),
          "sanity/frag-overlap", "overlapping IPv6 fragments (RFC 5722: drop all)", group="D")
    c.add(eth(ip6(DNS6, AGENT6, 44, struct.pack("!BBHI", 17, 0, 16, 0x204) + ov[16:48]), 0x86DD),
          "sanity/frag-overlap", "second fragment overlaps the first", group="D")
    fr = frag6(OUT6, AGENT6, 17, udp(OUT6, AGENT6, 40101, 9999, b"E" * 40), [24], 0x205)
    c.add(eth(fr[0], 0x86DD), "sanity/frag-timeout", "incomplete IPv6 datagram", group="E")
    return [c]


def c_icmp():
    c = Cap("crafted-icmp")
    q = ip4(AGENT4, FAR4, 6, tcp(AGENT4, FAR4, 40300, 80, "PA", payload=b"x" * 20))
    c.add(v4(DNS4, AGENT4, 1, icmp(3, 4, b"\0\0\x05\x00", q[:28])), "lifeline/icmp-pmtu",
          "ICMP 3/4 quoting IP header + 8 bytes (the RFC 792 minimum)")
    c.add(v4(DNS4, AGENT4, 1, icmp(3, 4, b"\0\0\x05\x00", q[:12])), "lifeline/icmp-pmtu",
          "ICMP 3/4 quoting only 12 bytes of the IP header")
    c.add(v4(DNS4, AGENT4, 1, icmp(3, 4, b"\0\0\x05\x00", b"")), "lifeline/icmp-pmtu",
          "ICMP 3/4 quoting nothing")
    c.add(v4(DNS4, AGENT4, 1, icmp(3, 3, b"\0\0\0\0", q[:28])), "ip",
          "ICMP 3/3 port unreachable quoting an unknown flow: ordinary")
    c.add(v4(DNS4, AGENT4, 1, icmp(3, 1, b"\0\0\0\0", q[:28])), "ip", "ICMP 3/1 host unreachable")
    c.add(v4(FAR4, AGENT4, 1, icmp(11, 0, b"\0\0\0\0", q[:28])), "ip", "ICMP time exceeded")
    q6 = ip6(AGENT6, FAR6, 6, tcp(AGENT6, FAR6, 40301, 80, "PA", payload=b"x" * 20))
    c.add(v6("2001:db8:1::1", AGENT6, 58, icmp6("2001:db8:1::1", AGENT6, 2, 0,
                                                struct.pack("!I", 1280) + q6[:48])),
          "lifeline/icmp6-pmtu", "ICMPv6 packet too big quoting 48 bytes")
    c.add(v6("2001:db8:1::1", AGENT6, 58, icmp6("2001:db8:1::1", AGENT6, 2, 0,
                                                struct.pack("!I", 1280) + q6[:8])),
          "lifeline/icmp6-pmtu", "ICMPv6 packet too big quoting 8 bytes")
    c.add(v6("2001:db8:1::1", AGENT6, 58, icmp6("2001:db8:1::1", AGENT6, 1, 4, b"\0" * 4 + q6[:48])),
          "ip", "ICMPv6 destination unreachable (port): ordinary")
    ndp = [(133, LL_AGENT, "ff02::2", b"\0" * 4),
           (134, LL_RTR, "ff02::1", b"\x40\0\x07\x08" + b"\0" * 8),
           (135, AGENT6, "ff02::1:ff00:1", b"\0" * 4 + a6("2001:db8:1::1")),
           (136, "2001:db8:1::1", AGENT6, b"\x60\0\0\0" + a6("2001:db8:1::1"))]
    names = {133: "router solicitation", 134: "router advertisement",
             135: "neighbour solicitation", 136: "neighbour advertisement"}
    for hl, cls in ((255, "lifeline/ndp"), (64, "ip")):
        for typ, s, d, body in ndp:
            c.add(v6(s, d, 58, icmp6(s, d, typ, 0, body), hlim=hl), cls,
                  "%s, hop limit %d" % (names[typ], hl))
    c.add(v6(LL_RTR, AGENT6, 58, icmp6(LL_RTR, AGENT6, 137, 0, b"\0" * 4 + a6(FAR6) + a6(FAR6)),
             hlim=255), "ip", "ICMPv6 redirect (137), hop limit 255: not NDP lifeline")
    c.add(v6(AGENT6, FAR6, 58, icmp6(AGENT6, FAR6, 128, 0, b"\0\7\0\1" + b"p" * 8), hlim=255), "ip",
          "ICMPv6 echo request with hop limit 255: ordinary")
    c.add(v4(AGENT4, FAR4, 1, icmp(8, 0, b"\0\7\0\1", b"p" * 8)), "ip", "ICMP echo request")
    c.add(v4(FAR4, AGENT4, 1, icmp(0, 0, b"\0\7\0\1", b"p" * 8)), "ip", "ICMP echo reply (same flow)")
    u = udp(AGENT4, FAR4, 40400, 9000, b"u" * 8)
    c.add(v4(AGENT4, FAR4, 17, u), "ip", "UDP agent -> far:9000 (opens a flow)")
    c.add(v4(FAR4, AGENT4, 1, icmp(3, 3, b"\0\0\0\0", ip4(AGENT4, FAR4, 17, u)[:28])), "ip",
          "ICMP port unreachable quoting that UDP flow (related: judged with the flow)")
    c.add(v4(DNS4, AGENT4, 1, icmp(3, 4, b"\0\0\x05\x00", ip4(AGENT4, FAR4, 17, u)[:28])),
          "lifeline/icmp-pmtu", "ICMP 3/4 quoting that UDP flow: still lifeline")
    return [c]


def c_linktypes():
    frames = [
        (ip4(AGENT4, MGR4, 6, tcp(AGENT4, MGR4, 40120, 4120, "S")), HB, "SYN agent -> manager:4120"),
        (ip4(MGR4, AGENT4, 6, tcp(MGR4, AGENT4, 4120, 40120, "SA")), HB, "SYN-ACK manager:4120 -> agent"),
        (ip6(MGR6, AGENT6, 6, tcp(MGR6, AGENT6, 40118, 4118, "S")), HB, "SYN manager -> agent:4118 (IPv6)"),
        (ip4("0.0.0.0", "255.255.255.255", 17,
             udp("0.0.0.0", "255.255.255.255", 68, 67, dhcp(1))), "lifeline/dhcp", "DHCPDISCOVER"),
        (ip6(LL_AGENT, "ff02::2", 58, icmp6(LL_AGENT, "ff02::2", 133, 0, b"\0" * 4), hlim=255),
         "lifeline/ndp", "router solicitation, hop limit 255"),
        (ip4(AGENT4, FAR4, 6, tcp(AGENT4, FAR4, 40500, 80, "S")), "ip", "SYN agent -> far:80"),
        (ip6(OUT6, AGENT6, 17, udp(OUT6, AGENT6, 40501, 9999, b"x")), "ip", "UDP outsider -> agent:9999"),
        (ip4(MGR4, AGENT4, 6, tcp(MGR4, AGENT4, 40502, 4120, "S")), "ip",
         "roles swapped: manager -> agent:4120"),
    ]
    caps = []

    def make(name, lt, wrap, keep=lambda ip: True):
        c = Cap(name, lt)
        for ip, cls, note in frames:
            if keep(ip):
                c.add(wrap(ip), cls, note)
        caps.append(c)
        return c

    def l2(ip):
        return 0x86DD if ip[0] >> 4 == 6 else 0x0800

    make("crafted-raw", LINKTYPE_RAW, lambda ip: ip)
    make("crafted-linktype-ipv4", LINKTYPE_IPV4, lambda ip: ip, lambda ip: ip[0] >> 4 == 4)
    make("crafted-linktype-ipv6", LINKTYPE_IPV6, lambda ip: ip, lambda ip: ip[0] >> 4 == 6)
    # BSD loopback: 4-byte address family in the writer's byte order (little endian here);
    # AF_INET6 is 24, 28 or 30 depending on the BSD
    v6fams = [24, 28, 30]

    def null(ip):
        if ip[0] >> 4 == 4:
            return struct.pack("<I", 2) + ip
        v6fams.append(v6fams.pop(0))
        return struct.pack("<I", v6fams[-1]) + ip
    make("crafted-null", LINKTYPE_NULL, null)
    c = Cap("crafted-vlan")
    for ip, cls, note in frames:
        c.add(eth(ip, l2(ip), vlans=[(0x8100, 100)]), cls, note + " (802.1Q vid 100)")
    c.add(eth(b"\x00\x01\x08\x00\x06\x04\x00\x01" + MAC_AGENT + a4(AGENT4) + b"\0" * 6 + a4(DNS4),
              0x0806, vlans=[(0x8100, 100)]), "not-ip", "ARP inside 802.1Q")
    caps.append(c)
    c = Cap("crafted-qinq")
    for ip, cls, note in frames:
        c.add(eth(ip, l2(ip), vlans=[(0x88A8, 10), (0x8100, 200)]), cls,
              note + " (802.1ad 10 + 802.1Q 200)")
    caps.append(c)
    # big-endian, nanosecond-resolution file
    be = Cap("crafted-nsec-be", LINKTYPE_ETHERNET)
    for ip, cls, note in frames[:4]:
        be.add(eth(ip, l2(ip)), cls, note, dt=1234567)
    be.raw = be.pcap_bytes(big_endian=True, nsec=True)
    caps.append(be)
    # a link type replay does not support
    bad = Cap("crafted-linktype-80211", LINKTYPE_IEEE802_11)
    bad.add(b"\x08\x00" + b"\0" * 22, "not-ip", "an 802.11 data frame header")
    bad.expect_exit, bad.notes = 1, []
    caps.append(bad)
    return caps


def pcapng_bytes(ifaces, frames):
    """pcapng: one SHB, one IDB per (name, linktype), EPBs (iface, ts_usec, data)."""
    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = len(body) + 12
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    def opt(code, val):
        return struct.pack("<HH", code, len(val)) + val + b"\0" * (-len(val) % 4)

    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    for name, lt in ifaces:
        out += block(1, struct.pack("<HHI", lt, 0, 65535) + opt(2, name.encode()) + opt(0, b""))
    for iface, ts, data in frames:
        out += block(6, struct.pack("<IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data))
                     + data)
    return out


def c_pcapng():
    """Interface names (pcapng if_name) for `on IFACE` rules; two interfaces."""
    c = Cap("crafted-ifnames")
    rows = [
        (0, tcp4(MGR4, AGENT4, 40118, 4118, "S"), HB, "eth0: manager -> agent:4118"),
        (0, tcp4(OUT4, AGENT4, 40700, 22, "S"), "ip", "eth0: outsider -> agent:22"),
        (1, tcp4(OUT4, AGENT4, 40701, 22, "S"), "ip", "eth1: outsider -> agent:22"),
        (1, tcp4(AGENT4, FAR4, 40702, 80, "S"), "ip", "eth1: agent -> far:80 (out)"),
        (1, tcp4(MGR4, AGENT4, 40119, 4118, "S"), HB, "eth1: manager -> agent:4118"),
        (1, udp6(OUT6, AGENT6, 40703, 9999), "ip", "eth1: outsider -> agent:9999 (IPv6)"),
        (0, udp6(OUT6, AGENT6, 40704, 9999), "ip", "eth0: outsider -> agent:9999 (IPv6)"),
        (1, tcp4(FAR4, AGENT4, 80, 40702, "SA"), "ip", "eth1: far:80 -> agent (reply, same flow)"),
    ]
    frames = []
    for iface, data, cls, note in rows:
        c.add(data, cls, note)
        frames.append((iface, c.frames[-1][0], data))
    c.raw = pcapng_bytes([("eth0", LINKTYPE_ETHERNET), ("eth1", LINKTYPE_ETHERNET)], frames)
    c.ext = ".pcapng"
    return [c]


def c_cut():
    """Captures that end mid-record: replay judges the complete frames, then exits 1."""
    caps = []
    src = Cap("crafted-cut-data")
    src.add(tcp4(AGENT4, MGR4, 40120, 4120, "S"), HB, "SYN agent -> manager:4120")
    src.add(tcp4(MGR4, AGENT4, 4120, 40120, "SA"), HB, "SYN-ACK")
    src.add(tcp4(AGENT4, FAR4, 40600, 80, "S"), "ip", "SYN agent -> far:80")
    src.add(udp4(AGENT4, FAR4, 40601, 9000, b"y" * 40), "ip", "UDP (the file ends in its data)")
    raw = src.pcap_bytes()
    src.raw, src.expect_exit, src.complete = raw[:-20], 1, 3
    caps.append(src)
    hdr = Cap("crafted-cut-header")
    for i in range(3):
        hdr.add(*[x for x in (src.frames[i][1], src.notes[i][0], src.notes[i][2])])
    hdr.add(src.frames[3][1], "ip", "the file ends 6 bytes into this record's header")
    raw = hdr.pcap_bytes()
    hdr.raw, hdr.expect_exit, hdr.complete = raw[:len(raw) - len(hdr.frames[3][1]) - 10], 1, 3
    caps.append(hdr)
    return caps


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    pdir = sys.argv[1] if len(sys.argv) > 1 else here
    mdir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "tests", "replay", "manifests")
    os.makedirs(mdir, exist_ok=True)
    caps = []
    for fn in (c_dhcp_learn, c_malformed, c_snaplen, c_exthdr, c_frag4, c_frag6, c_icmp,
               c_linktypes, c_pcapng, c_cut):
        caps += fn()
    for c in caps:
        c.write(pdir, mdir, raw=getattr(c, "raw", None), expect_exit=getattr(c, "expect_exit", 0),
                complete=getattr(c, "complete", None))
        print("%-28s %3d frames" % (c.name, len(c.frames)))


if __name__ == "__main__":
    main()
