#!/usr/bin/env python3
# dhcp_msg.py - send one DHCPv4 message over a plain UDP socket, for the live tests.
#   dhcp_msg.py request XID           from port 68 to 255.255.255.255:67
#   dhcp_msg.py ack XID DNS-ADDRESS   from port 67 to 255.255.255.255:68, option 6 = DNS-ADDRESS
#   dhcp_msg.py ack XID DNS-ADDRESS frag        the same, 1.6 KB: sent in IPv4 fragments
#   dhcp_msg.py ack XID DNS-ADDRESS to=ADDRESS  the same, unicast to ADDRESS:68
import socket
import struct
import sys


def bootp(op, xid, options):
    return (struct.pack("!BBBBIHH4s4s4s4s16s64s128s", op, 1, 6, 0, xid, 0, 0x8000, bytes(4),
                        bytes(4), bytes(4), bytes(4), b"\x02\x00\x00\x00\x00\x01", b"", b"")
            + b"\x63\x82\x53\x63" + options + b"\xff")


kind, xid = sys.argv[1], int(sys.argv[2], 16)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if kind == "request":
    s.bind(("0.0.0.0", 68))
    s.sendto(bootp(1, xid, bytes([53, 1, 3])), ("255.255.255.255", 67))
else:
    dns = socket.inet_aton(sys.argv[3])
    s.bind(("0.0.0.0", 67))
    opts = bytes([53, 1, 5, 51, 4]) + struct.pack("!I", 3600) + bytes([6, 4]) + dns
    to, extra = "255.255.255.255", sys.argv[4] if len(sys.argv) > 4 else ""
    if extra == "frag":  # six vendor options of 250 bytes: more than the link's MTU
        opts += (bytes([43, 250]) + bytes(250)) * 6
    elif extra.startswith("to="):
        to = extra[3:]
    s.sendto(bootp(2, xid, opts), (to, 68))
