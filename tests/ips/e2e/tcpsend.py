#!/usr/bin/env python3
"""tcpsend.py [--fastopen] HOST PORT CHUNK [CHUNK...] - connect, send each
CHUNK (Python escapes such as \\r\\n allowed) as its own TCP segment
(TCP_NODELAY, 0.3 s apart, so each chunk is acknowledged before the next
leaves), then read the answer until the server closes (3 s at most). Used by
make-captures.sh to cut a signature across segment boundaries. --fastopen:
the first chunk goes with the SYN (TCP Fast Open, MSG_FASTOPEN; the client's
net.ipv4.tcp_fastopen says whether a cookie is needed)."""
import socket, sys, time

args = sys.argv[1:]
fastopen = args[:1] == ['--fastopen']
if fastopen:
    args = args[1:]
host, port, chunks = args[0], int(args[1]), args[2:]
fam = socket.AF_INET6 if ':' in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.settimeout(3)
for i, c in enumerate(chunks):
    b = c.encode('latin-1').decode('unicode_escape').encode('latin-1')
    if i:
        time.sleep(0.3)
    elif fastopen:
        s.sendto(b, socket.MSG_FASTOPEN, (host, port))
        continue
    else:
        s.connect((host, port))
    s.sendall(b)
try:
    while s.recv(65536):
        pass
except socket.timeout:
    pass
s.close()
