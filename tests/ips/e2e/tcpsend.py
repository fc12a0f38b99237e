#!/usr/bin/env python3
"""tcpsend.py HOST PORT CHUNK [CHUNK...] - connect, send each CHUNK (Python
escapes such as \\r\\n allowed) as its own TCP segment (TCP_NODELAY, 0.3 s
apart, so each chunk is acknowledged before the next leaves), then read the
answer until the server closes (3 s at most). Used by make-captures.sh to
cut a signature across segment boundaries."""
import socket, sys, time

host, port, chunks = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
fam = socket.AF_INET6 if ':' in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.settimeout(3)
s.connect((host, port))
for i, c in enumerate(chunks):
    if i:
        time.sleep(0.3)
    s.sendall(c.encode('latin-1').decode('unicode_escape').encode('latin-1'))
try:
    while s.recv(65536):
        pass
except socket.timeout:
    pass
s.close()
