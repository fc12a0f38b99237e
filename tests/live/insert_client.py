#!/usr/bin/env python3
"""insert_client.py SRC DST PORT: a TCP client that tries the insertion evasion.

From SRC (a raw socket: the kernel here must not answer the SYN-ACK with a
RST, the caller drops those) it opens a connection to DST:PORT, sends "GET ",
then "XXXX" with a wrong TCP checksum, then "EVIL" at the same sequence
number. The receiver drops the decoy and reads "GET EVIL"; an IPS that kept
the first copy of each byte sees "GET XXXX". Prints "sent" when done.
Packets are built by pcaps/craft.py, as the test captures are.
"""
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "pcaps"))
import craft  # noqa: E402


def main():
    src, dst, dport = sys.argv[1], sys.argv[2], int(sys.argv[3])
    out = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    inp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    inp.settimeout(3)
    sport, isn = random.randint(40000, 49999), random.randint(1, 1 << 30)

    def send(seq, ack, flags, data=b"", bad=False):
        seg = craft.tcp(src, dst, sport, dport, flags, seq, ack, data)
        if bad:  # a wrong checksum: the receiver drops the segment
            seg = seg[:16] + bytes([seg[16] ^ 0x55, seg[17] ^ 0x55]) + seg[18:]
        out.sendto(craft.ip4(src, dst, 6, seg), (dst, 0))
        time.sleep(0.1)

    send(isn, 0, "S")
    deadline = time.time() + 3
    while True:
        if time.time() > deadline:
            sys.exit("no SYN-ACK")
        d = inp.recv(4096)
        seg = d[(d[0] & 15) * 4:]
        sp, dp, seq, _, _, flags = struct.unpack("!HHIIBB", seg[:14])
        if sp == dport and dp == sport and flags & 0x12 == 0x12:
            break
    ack = seq + 1
    send(isn + 1, ack, "A")
    send(isn + 1, ack, "PA", b"GET ")
    send(isn + 5, ack, "PA", b"XXXX", bad=True)
    send(isn + 5, ack, "PA", b"EVIL")
    time.sleep(0.5)
    send(isn + 9, ack, "FA")
    print("sent")


main()
