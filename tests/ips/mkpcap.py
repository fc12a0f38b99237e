#!/usr/bin/env python3
"""mkpcap.py OUT.pcap CASE - write a small TCP capture for the IPS end-to-end
cases: a handshake, then data segments given as (seq offset, bytes) in
arrival order. Checksums are left zero (lifeline does not check them).
Frames go between two unicast MACs, but those a case sends to a group
address: Linux TCP discards a segment from a broadcast or multicast frame."""
import struct, sys

CLI, SRV = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
MAC = bytes.fromhex('020000000001')  # one unicast address for both ends: only the I/G bit counts
BCAST, MCAST = b'\xff' * 6, bytes.fromhex('01005e000001')

def tcp(src, dst, sport, dport, seq, ack, flags, data=b'', mac=MAC, opts=b''):
    th = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, (5 + len(opts) // 4) << 4, flags,
                     65535, 0, 0) + opts
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(th) + len(data), 1, 0, 64, 6, 0, src, dst)
    return mac + MAC + b'\x08\x00' + ip + th + data

def frags(frame, macs):
    """@frame's IP datagram in two fragments (the first 24 bytes of its TCP
    segment, then the rest), each in a frame to its address in @macs: the
    datagram the kernel reassembles has the first one's packet type."""
    ip, l4 = frame[14:34], frame[34:]
    out = []
    for k, (part, off, more) in enumerate([(l4[:24], 0, 0x2000), (l4[24:], 3, 0)]):
        h = ip[:2] + struct.pack('!HHH', 20 + len(part), 7, more | off) + ip[8:]
        out.append(macs[k] + MAC + b'\x08\x00' + h + part)
    return out

def flow(segs, sport=40000, ack_every=0):
    """ack_every: the server acknowledges every that many segments (its window
    is 65,535 bytes: a receiver drops what a longer run sends past it)."""
    isn, risn = 1000, 5000
    out = [tcp(CLI, SRV, sport, 80, isn, 0, 0x02),
           tcp(SRV, CLI, 80, sport, risn, isn + 1, 0x12),
           tcp(CLI, SRV, sport, 80, isn + 1, risn + 1, 0x10)]
    for k, (off, data, *how) in enumerate(segs, 1):
        flags, mac = how if how else (0x18, MAC)
        if isinstance(mac, tuple):
            out += frags(tcp(CLI, SRV, sport, 80, isn + 1 + off, risn + 1, flags, data), mac)
        else:
            out.append(tcp(CLI, SRV, sport, 80, isn + 1 + off, risn + 1, flags, data, mac))
        if ack_every and k % ack_every == 0:
            out.append(tcp(SRV, CLI, 80, sport, risn + 1, isn + 1 + off + len(data), 0x10))
    return out

def ts(val, ecr=0):
    """A timestamp option (NOP, NOP, kind 8): TSval @val, TSecr @ecr."""
    return b'\x01\x01\x08\x0a' + struct.pack('!II', val, ecr)

def ts_handshake(case):
    """Timestamps on both SYNs (the client's TSval 1,000,000), then, by @case:
    - 'paws-rst': a RST from the client older than its SYN, which the
      server's pending request drops (PAWS), then its ACK and attack;
    - 'paws-rst-odd': the same after the SYN again with other options;
    - 'tsecr-synack': (the client is the host) a SYN-ACK echoing a TSval
      older than the SYN's, which the client resets, staying in SYN_SENT;
      the real SYN-ACK, the client's ACK and the server's attack;
    - 'tsecr-ahead': the same, the decoy echoing 500 ms past the SYN's TSval
      1 ms after it (ahead of the client's clock);
    - 'tsecr-resyn': (the client is the host) the SYN again a million on,
      a SYN-ACK echoing it, which the client takes, and the attack;
    - 'tsecr-missed': (the client is the host) only the SYN sent again seen,
      a SYN-ACK echoing the unseen first SYN's TSval, which the client takes."""
    c, s, sp = CLI, SRV, 40000
    out = [tcp(c, s, sp, 80, 1000, 0, 0x02, opts=ts(1000000))]
    if case == 'paws-rst-odd':  # the same SYN again with a wscale option: the request keeps the first's TSval
        out.append(tcp(c, s, sp, 80, 1000, 0, 0x02, opts=ts(1000000) + b'\x01\x03\x03\x07'))
        case = 'paws-rst'
    if case == 'tsecr-resyn':  # the SYN again, its TSval a million on (tcp_usec_ts): the SYN-ACK echoes it
        return out + [tcp(c, s, sp, 80, 1000, 0, 0x02, opts=ts(2000000)),
                      tcp(s, c, 80, sp, 5000, 1001, 0x12, opts=ts(778, 2000000)),
                      tcp(c, s, sp, 80, 1001, 5001, 0x10, opts=ts(2000001, 778)),
                      tcp(s, c, 80, sp, 5001, 1001, 0x18, b'xxATTACKxx', opts=ts(779, 2000001))]
    if case == 'tsecr-missed':  # the first SYN (TSval 1000000) went by unseen: its echo, which the client takes
        return [tcp(c, s, sp, 80, 1000, 0, 0x02, opts=ts(2000000)),
                tcp(s, c, 80, sp, 5000, 1001, 0x12, opts=ts(778, 1000000)),
                tcp(c, s, sp, 80, 1001, 5001, 0x10, opts=ts(2000001, 778))]
    if case == 'paws-rst':
        out += [tcp(s, c, 80, sp, 5000, 1001, 0x12, opts=ts(777, 1000000)),
                tcp(c, s, sp, 80, 1001, 0, 0x04, opts=ts(5)),
                tcp(c, s, sp, 80, 1001, 5001, 0x10, opts=ts(1000001, 777)),
                tcp(c, s, sp, 80, 1001, 5001, 0x18, b'xxATTACKxx', opts=ts(1000002, 777))]
    else:
        out += [tcp(s, c, 80, sp, 5000, 1001, 0x12, opts=ts(777, 1000500 if case == 'tsecr-ahead' else 1)),
                tcp(c, s, sp, 80, 1001, 0, 0x04),
                tcp(s, c, 80, sp, 5000, 1001, 0x12, opts=ts(778, 1000000)),
                tcp(c, s, sp, 80, 1001, 5001, 0x10, opts=ts(1000001, 778)),
                tcp(s, c, 80, sp, 5001, 1001, 0x18, b'xxATTACKxx', opts=ts(779, 1000001))]
    return out

CASES = {
    # handshake segments the receiver drops for their timestamps
    'paws-rst': ts_handshake('paws-rst'),
    'tsecr-synack': ts_handshake('tsecr-synack'),
    'paws-rst-odd': ts_handshake('paws-rst-odd'),
    'tsecr-resyn': ts_handshake('tsecr-resyn'),
    'tsecr-missed': ts_handshake('tsecr-missed'),
    'tsecr-ahead': ts_handshake('tsecr-ahead'),
    # the signature is cut by the segment boundary
    'split': flow([(0, b'GET /x?q=ATT'), (12, b'ACK HTTP/1.0\r\n')]),
    # the second half arrives first; joined by sequence number
    'reorder': flow([(12, b'ACK HTTP/1.0\r\n'), (0, b'GET /x?q=ATT')]),
    # arrival order would spell the signature, sequence order does not
    'false-join': flow([(5, b'ATT'), (0, b'ACK!!')]),
    # a retransmission with other bytes does not rewrite the stream
    'retransmit': flow([(0, b'xxATT'), (5, b'XYZ'), (5, b'ACK')]),
    # a decoy in a broadcast frame, which the server's TCP discards, then the real bytes
    'bcast-decoy': flow([(0, b'GET /x?q=ATT'), (12, b'XXX HTTP/1.0\r\n', 0x18, BCAST),
                         (12, b'ACK HTTP/1.0\r\n')]),
    # the same decoy in two fragments, the first broadcast
    'bcast-frag-decoy': flow([(0, b'GET /x?q=ATT'), (12, b'XXX HTTP/1.0\r\n', 0x18, (BCAST, MAC)),
                              (12, b'ACK HTTP/1.0\r\n')]),
    # a RST at the server's next byte in a multicast frame ends nothing
    'mcast-rst': flow([(0, b'GET /x?q=ATT'), (12, b'', 0x14, MCAST), (12, b'ACK HTTP/1.0')]),
    # drop: the rest of the flow is dropped too
    'drop': flow([(0, b'hello'), (5, b' evil '), (11, b'more')]),
    # 630 KB of 'a', then a 'b' alone: only the stream holds 'aaaab', and the
    # pending rule's pcre must not re-read the whole stream (it took minutes)
    # stream_size counts sequence space: the 20 bytes sent four times count once
    'ssize-retransmit': flow([(0, b'x' * 20)] * 4 + [(20, b'PAY')]),
    # twenty one-byte segments between a rule's two contents do not hide the match
    'trickle': flow([(0, b'USER root')] + [(9 + i, b' ') for i in range(20)] + [(29, b'PASS')]),
    # a content of 20,000 bytes (longer than vectorscan takes a literal), across 15 segments
    'long-content': flow([(i * 1400, (b'Z' * 21000)[i * 1400:(i + 1) * 1400]) for i in range(15)]),
    # the signature before the flowbit its rule needs (no match then), then cut by a
    # segment boundary after it: the old occurrence must not hide the new one
    'flowbit-early': flow([(0, b'EXPLOIT early '), (14, b'LOGIN ok '), (23, b'EXPL'), (27, b'OIT')]),
    # the same with 6,300 old occurrences of a short signature: more than the matcher's
    # budget (3,000 steps), which they spent before the new one was reached (rev19 #4)
    'flowbit-budget': flow([(i * 1400, b'Qz' * 700) for i in range(9)]
                           + [(12600, b'LOGIN ok '), (12609, b'Q'), (12610, b'z')]),
    # a second occurrence cut by a segment boundary alerts again, as Suricata's does
    'second-split': flow([(0, b'ATTACK one '), (11, b'ATT'), (14, b'ACK')]),
    # rules without a prefilter literal (a pcre alone, contents all NUL bytes) read the stream too
    'no-literal': flow([(0, b'SPL\x00\x00'), (5, b'\x00\x00IT')]),
    # the flowbit's setter matches on the stream only (LOGIN cut in two), on the packet whose
    # payload packet-scoped readers (dsize) match: they see the bit it sets, as in Suricata
    'flowbit-same-packet': flow([(0, b'xxLOG'), (5, b'INok9')]),
    # a rule with a packet keyword (flags) reads packets only, as Suricata's: cut in two, only
    # the rule without it matches (on the stream)
    'pkt-only-split': flow([(0, b'xxPKTO'), (6, b'NLYyy')]),
    'long-run': flow([(i * 1400, b'a' * 1400) for i in range(450)] + [(450 * 1400, b'b')],
                     ack_every=40),
}

def main():
    out, case = sys.argv[1], sys.argv[2]
    with open(out, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, pkt in enumerate(CASES[case]):
            f.write(struct.pack('<IIII', 1700000000, i * 1000, len(pkt), len(pkt)) + pkt)

main()
