#!/usr/bin/env python3
"""show.py NAME.pcap - one line per frame (number, addresses, TCP flags, payload
as text) from tshark's dissection, to derive NAME.expect by hand (never from
lifelined)."""
import subprocess, sys

f = ['frame.number', 'ip.src', 'ipv6.src', 'udp.srcport', 'tcp.srcport', 'ip.dst', 'ipv6.dst',
     'udp.dstport', 'tcp.dstport', 'tcp.flags.str', 'tcp.seq', 'tcp.len', 'tcp.payload', 'udp.payload',
     'icmp.type', 'data.data']
out = subprocess.run(['tshark', '-r', sys.argv[1], '-T', 'fields', '-E', 'separator=\t'] +
                     sum((['-e', x] for x in f), []), capture_output=True, text=True).stdout
for line in out.splitlines():
    v = dict(zip(f, line.split('\t')))
    pay = bytes.fromhex((v['tcp.payload'] or v['udp.payload'] or v['data.data']).replace(':', ''))
    print('%3s %s:%s -> %s:%s %s %s seq=%s len=%s %r' % (
        v['frame.number'], v['ip.src'] or v['ipv6.src'], v['tcp.srcport'] or v['udp.srcport'],
        v['ip.dst'] or v['ipv6.dst'], v['tcp.dstport'] or v['udp.dstport'],
        v['tcp.flags.str'].replace('·', ''), 'icmp=' + v['icmp.type'] if v['icmp.type'] else '',
        v['tcp.seq'], v['tcp.len'], pay[:120]))
