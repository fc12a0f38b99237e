#!/usr/bin/env python3
"""seeds.py OUTDIR - the fuzz targets' seed corpora, from the project's own
captures (pcaps/), policies (tests/policy, tests/replay/policies), IPS rules
(tests/ips) and configs (tests/replay, tests/hooks): OUTDIR/<target>/<n>."""
import glob, hashlib, os, struct, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')


def put(out, target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def files(*pats):
    for pat in pats:
        for p in sorted(glob.glob(os.path.join(ROOT, pat), recursive=True)):
            if os.path.isfile(p):
                yield p


def read(p):
    with open(p, 'rb') as f:
        return f.read()


def l3_offset(dlt, frame):
    """The IP header's offset in a frame of link type dlt, or None."""
    if dlt == 1:  # Ethernet, 802.1Q/ad tags
        off = 12
        while off + 2 <= len(frame):
            t = struct.unpack('!H', frame[off:off + 2])[0]
            if t in (0x8100, 0x88a8, 0x9100):
                off += 4
                continue
            return off + 2 if t in (0x0800, 0x86dd) else None
        return None
    return {113: 16, 276: 20, 101: 0, 12: 0, 14: 0, 228: 0, 229: 0, 0: 4, 108: 4}.get(dlt)


def ip_packets(data):
    """IP packets of a classic pcap (either byte order); pcapng is skipped."""
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        e = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        e = '>'
    else:
        return
    dlt = struct.unpack(e + 'I', data[20:24])[0] & 0xffff
    pos = 24
    while pos + 16 <= len(data):
        _, _, incl, orig = struct.unpack(e + 'IIII', data[pos:pos + 16])
        frame = data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        off = l3_offset(dlt, frame)
        if off is not None and off < len(frame):
            yield frame[off:], orig - off


def control_frames():
    pol = read(os.path.join(ROOT, 'tests/replay/policies/allow-in-ssh.pol'))
    load = b'LOAD name=/tmp/p.pol siglen=0\n' + pol
    load_confirm = b'LOAD name=p.pol siglen=0 confirm=30 skip-unsupported\n' + pol
    reqs = [b'STATUS\n', b'STATUS json\n', b'STATS prometheus\n', b'STATS json\n',
            b'SHOW counters\n', b'FLOWS\n', b'FLOWS kill dir=out proto=6 a2=203.0.113.10 p2=4120\n',
            b'FLOWS a1=198.51.100.0/24 a2=2001:db8::/32 p2=443\n',
            b'EXPLAIN dir=in proto=6 src=203.0.113.7 sport=40000 dst=198.51.100.2 dport=22 flags=2\n',
            b'EXPLAIN dir=in proto=1 src=192.0.2.7 dst=198.51.100.2 type=8 code=0 ttl=64\n',
            b'EXPLAIN dir=out proto=6 src=2001:db8:1::2 dst=2001:db8:2::10 dport=4120 flags=2 on=eth1\n',
            load, load_confirm,
            b'LOAD name=p.pol siglen=3\nsigdeny in any id 1\n',
            b'CONFIRM\n', b'ROLLBACK\n', b'RESET\n',
            b'TABLE name=blocked op=add\n192.0.2.1\n10.0.0.0/8\n2001:db8::/32\n',
            b'TABLE name=blocked op=delete\n192.0.2.66\n',
            b'TABLE name=mgmt op=show\n', b'TABLE name=blocked op=flush\n']
    def frame(r):
        return struct.pack('!I', len(r)) + r
    for r in reqs:
        yield frame(r)
    # sequences: what a request does to the state an earlier one left
    ips = (b'LOAD name=i.pol siglen=0 confirm=5\n' + pol +
           b'alert tcp any any -> any 22 (msg:"x"; content:"SSH-"; depth:4; sid:7; rev:2;)\n')
    seqs = [(load_confirm, b'CONFIRM\n', b'STATUS json\n'),
            (load_confirm, b'ROLLBACK\n', b'SHOW counters\n'),
            (ips, b"EXPLAIN dir=in proto=6 src=192.0.2.7 sport=40000 dst=198.51.100.2 dport=80 flags=2\n",
             b'ROLLBACK\n'),
            (b'TABLE name=blocked op=add\n192.0.2.1\n10.0.0.0/8\n2001:db8::/32\n',
             b'TABLE name=blocked op=delete\n192.0.2.110\n2001:db8:0:1::/64\n',
             b'TABLE name=blocked op=show\n', b'ROLLBACK\n'),
            (load, b'TABLE name=blocked op=add\n192.0.2.9\n', b'RESET\n', b'CONFIRM\n')]
    for seq in seqs:
        yield b''.join(frame(r) for r in seq)


def stream_inputs():
    """fuzz_stream: rules (none: the lab policy), a NUL, a mode byte, segments."""
    S, F, R, P, A, U = 2, 1, 4, 8, 16, 32

    def seg(rev, flags, seq, ack, pay=b'', step=1, urp=0):
        return bytes([step << 1 | rev, flags]) + struct.pack('!HHBB', seq, ack, urp, len(pay)) + pay
    hs = seg(0, S, 0, 0) + seg(1, S | A, 0, 1) + seg(0, A, 1, 1)
    get = b'GET /etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n'
    n = len(get)
    rule = (b'alert tcp any any -> any any (msg:"x"; flow:to_server,established; '
            b'content:"abc"; content:"def"; distance:0; sid:9; rev:1;)\n')
    yield b'\0\0' + hs + seg(0, P | A, 1, 1, get) + seg(1, P | A, 1, 1 + n, b'HTTP/1.1 200 OK\r\n\r\n') \
        + seg(0, F | A, 1 + n, 20)
    yield b'\0\0' + hs + seg(0, P | A, 11, 1, get[10:]) + seg(0, P | A, 1, 1, get[:10])
    yield b'\0\0' + hs + seg(0, P | A, 1, 1, get[:12]) + seg(0, P | A, 6, 1, b'XXXXXXX' + get[12:])
    yield b'\0\0' + seg(0, S, 0, 0, get) + seg(1, S | A, 0, 1 + n) + seg(0, A, 1 + n, 1)
    yield b'\0\0' + hs + seg(0, P | A | U, 1, 1, b'GET /etc/pXasswd', urp=11)
    yield b'\0\1' + hs + seg(0, P | A, 1, 1, get) + seg(1, R, 1, 0)
    yield b'\0\2' + hs + seg(0, P | A, 1, 1, b'SSH-2.0-x\r\nmoremoremore') + seg(1, P | A, 1, 24, b'GET /a1')
    # the server's sequence numbers wrap past 2^32 after 256 bytes
    yield b'\0\0' + hs + seg(1, P | A, 1, 1, b'A' * 255) + seg(1, P | A, 256, 1, b'B' * 255) \
        + seg(1, A, 0x200, 1, step=127)
    # 33 segments past a hole: the out-of-order queue overflows and the stream starts again
    yield b'\0\0' + hs + b''.join(seg(0, P | A, 3 + 2 * i, 1, b'x') for i in range(33)) \
        + seg(0, P | A, 3 + 66, 1, get)
    yield rule + b'\0\0' + hs + seg(0, P | A, 4, 1, b'def') + seg(0, P | A, 1, 1, b'abc')
    # the server's SYN-ACK before the client's SYN (a capture's order, or a forged one)
    yield b'\0\0' + seg(1, S | A, 0, 1) + seg(0, S, 0, 0) + seg(0, A, 1, 1) + seg(0, P | A, 1, 1, get) \
        + seg(1, P | A, 1, 1 + n, b'HTTP/1.1 200 OK\r\n\r\n')
    # mode bit 2: checksums the kernel has not checked; urgent byte 0xff: a wrong one.
    # A copy with a wrong checksum first, the host never sees it, then the real bytes.
    yield b'\0\4' + hs + seg(0, P | A, 1, 1, b'GET /index.html HTTP/1.1\r\n', urp=0xff) \
        + seg(0, P | A, 1, 1, get) + seg(1, P | A, 1, 1 + n, b'HTTP/1.1 200 OK\r\n\r\n')
    yield b'\0\5' + hs + seg(0, P | A, 1, 1, get, urp=0xff) + seg(0, P | A, 1, 1, b'x' * n)
    # a RST and a FIN with wrong checksums, 11 s apart from the next bytes: the host reads
    # neither, so the flow neither closes nor expires (a96ff8a)
    yield b'\0\4' + hs + seg(0, R | A, 1, 1, urp=0xff) + seg(0, P | A, 1, 1, get, step=110)
    yield b'\0\4' + hs + seg(0, F | A, 1, 1, urp=0xff) + seg(1, A, 1, 2) + seg(0, P | A, 1, 1, get, step=110)
    # the opener's SYN with a wrong checksum, then the real one
    yield b'\0\4' + seg(0, S, 0, 0, urp=0xff) + hs + seg(0, P | A, 1, 1, get)
    # mode bit 3: the first 12 payload bytes are TCP options. Timestamps both ways,
    # then a segment whose TSval is older (PAWS drops it) with other bytes.
    def ts(val, ecr):
        return b'\x01\x01\x08\x0a' + struct.pack('!II', val, ecr)
    ths = seg(0, S, 0, 0, ts(100, 0)) + seg(1, S | A, 0, 1, ts(500, 100)) + seg(0, A, 1, 1, ts(101, 500))
    yield b'\0\x08' + ths + seg(0, P | A, 1, 1, ts(50, 500) + b'GET /index.html HTTP/1.1\r\n') \
        + seg(0, P | A, 1, 1, ts(102, 500) + get) + seg(1, P | A, 1, 1 + n, ts(501, 102) + b'HTTP/1.1 200')
    yield b'\0\x0c' + ths + seg(0, P | A, 1, 1, ts(102, 500) + get, urp=0xff) \
        + seg(0, P | A, 1, 1, ts(103, 500) + get)
    # window scale and MSS both ways, then data past the unscaled window
    wsopt = b'\x03\x03\x07\x00\x02\x04\x05\xb4\x01\x01\x01\x00'
    yield b'\0\x08' + seg(0, S, 0, 0, wsopt) + seg(1, S | A, 0, 1, wsopt) + seg(0, A, 1, 1) \
        + seg(0, P | A, 0x200, 1, get) + seg(0, P | A, 1, 1, b'y' * 255) + seg(0, P | A, 256, 1, b'z' * 255)
    yield b'\0\x0b' + ths + seg(0, P | A, 1, 1, ts(102, 500) + get) + seg(1, R, 1, 0)


def flood_pcaps():
    """fuzz_replay: an inspected connection, then more flows than max-flows (64 in the
    fuzz config) that nobody answers, then the connection's next bytes: eviction."""
    def csum(b):
        s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        return ~s & 0xffff

    def ip4(src, dst, proto, l4):
        h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), 1, 0, 64, proto, 0,
                        bytes(src), bytes(dst))
        return h[:10] + struct.pack('!H', csum(h)) + h[12:] + l4

    def tcp(sp, dp, seq, ack, flags, pay=b''):
        return struct.pack('!HHIIBBHHH', sp, dp, seq, ack, 0x50, flags, 0xffff, 0, 0) + pay

    def pcap(pkts):
        out = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
        for i, (t, ip) in enumerate(pkts):
            fr = b'\x02\0\0\0\0\x01' + b'\x02\0\0\0\0\x02' + b'\x08\x00' + ip
            out += struct.pack('<IIII', 1000 + t // 1000000, t % 1000000, len(fr), len(fr)) + fr
        return out
    c, h = [192, 0, 2, 7], [198, 51, 100, 2]
    S, A, P = 2, 16, 8
    conn = [(0, ip4(c, h, 6, tcp(40001, 80, 1000, 0, S))),
            (1000, ip4(h, c, 6, tcp(80, 40001, 5000, 1001, S | A))),
            (2000, ip4(c, h, 6, tcp(40001, 80, 1001, 5001, A))),
            (3000, ip4(c, h, 6, tcp(40001, 80, 1001, 5001, P | A, b'GET /a HTTP/1.0\r\n'))),
            (4000, ip4(h, c, 6, tcp(80, 40001, 5001, 1019, P | A, b'HTTP/1.0 200 OK\r\n')))]
    tail = [(900000, ip4(c, h, 6, tcp(40001, 80, 1019, 5019, P | A, b'GET /etc/passwd HTTP/1.0\r\n'))),
            (901000, ip4(h, c, 6, tcp(80, 40001, 5019, 1045, P | A, b'HTTP/1.0 200 OK\r\n')))]
    udp = [(10000 + i * 1000, ip4([203, 0, 113, 5], h, 17,
                                   struct.pack('!HHHH', 1024 + i, 53, 12, 0) + b'abcd'))
           for i in range(70)]
    syn = [(10000 + i * 1000, ip4([203, 0, 113, 5], h, 6, tcp(1024 + i, 80, 7, 0, S)))
           for i in range(70)]
    yield pcap(conn + udp + tail)
    yield pcap(conn + syn + tail)


def main(out):
    for p in files('pcaps/*.pcap', 'pcaps/*.pcapng', 'tests/**/*.pcap'):
        data = read(p)
        if len(data) <= 1 << 20:
            put(out, 'replay', data)
        for i, (ip, wire) in enumerate(ip_packets(data)):
            if i >= 64:
                break
            flag = 0 if wire <= len(ip) else min(wire - len(ip), 127) << 1 | 1
            put(out, 'pkt', bytes([flag]) + ip)
            if i < 8 and flag == 0 and len(ip) > 40:
                # flag 2: the kernel has not checked the checksum; as captured, and one off
                put(out, 'pkt', b'\2' + ip)
                put(out, 'pkt', b'\2' + ip[:-1] + bytes([ip[-1] ^ 1]))
    for p in files('tests/policy/*.in', 'tests/policy/**/*.pol', 'tests/replay/policies/*.pol',
                   'tests/replay/invalid/*.pol', 'tests/bad/**/*.pol'):
        put(out, 'policy', read(p))
    # ips: rules, or rules, a NUL and a payload the packets carry
    payloads = [b'GET /etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n', b'A\x00\x00\x00\x04xyzB',
                b'\x16\x03\x01\x00\x05hello', b'\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00']
    for p in files('tests/ips/**/*.rules', 'tests/ips/**/*.pol'):
        data = read(p)
        put(out, 'ips', data)
        for i, line in enumerate(data.splitlines()):
            if line and not line.startswith(b'#'):
                put(out, 'ips', line + b'\n')
                put(out, 'ips', line + b'\n\0' + payloads[i % len(payloads)])
    for opts in (b'content:"A"; byte_extract:4,0,v,relative; content:"B"; offset:v;',
                 b'content:"A"; byte_extract:4,0,v,relative; content:"B"; distance:v; within:v;',
                 b'byte_jump:4,1,post_offset 2; content:"x"; within:1;',
                 b'byte_test:4,>,1000,1,relative; isdataat:5,relative;',
                 b'byte_extract:2,0,n; isdataat:n; byte_test:1,=,n,0;'):
        rule = b'alert tcp any any -> any any (' + opts + b' sid:1;)\n'
        for pay in payloads:
            put(out, 'ips', rule + b'\0' + pay)
    for p in files('tests/**/*.conf', 'scripts/*.conf', 'tests/bad/**/*.conf'):
        put(out, 'config', read(p))
    for f in control_frames():
        put(out, 'control', f)
    for f in stream_inputs():
        put(out, 'stream', f)
    for f in flood_pcaps():
        put(out, 'replay', f)


if __name__ == '__main__':
    main(sys.argv[1])
