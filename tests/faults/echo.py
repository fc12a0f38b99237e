#!/usr/bin/env python3
# echo.py - one long TCP connection to an echo server: a numbered line every
# INTERVAL seconds for SECONDS, each answer awaited up to 20 s (TCP
# retransmits across a stopped or killed engine). Bounded in lines and time.
# Prints "up" after the first answer (the connection is established and
# judged), then "lines N echoed M max_ms X cut 0|1"; exit 0 only if every
# line came back.
import socket
import sys
import time


def main():
    host, port, seconds, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    s = socket.create_connection((host, port), timeout=5)
    s.settimeout(20)
    sent = echoed = 0
    max_ms = 0.0
    cut = 0
    buf = b""
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end and sent < 100000:
            line = b"line %d\n" % sent
            t = time.monotonic()
            s.sendall(line)
            sent += 1
            while line not in buf:
                chunk = s.recv(4096)
                if not chunk:
                    raise ConnectionError("closed by peer")
                buf += chunk
            buf = buf.split(line, 1)[1]
            echoed += 1
            if echoed == 1:
                print("up", flush=True)
            max_ms = max(max_ms, (time.monotonic() - t) * 1000)
            time.sleep(interval)
    except (OSError, ConnectionError) as e:
        cut = 1
        print("echo: %s" % e, file=sys.stderr)
    print("lines %d echoed %d max_ms %d cut %d" % (sent, echoed, max_ms, cut))
    return 0 if (not cut and echoed == sent and sent > 0) else 1


if __name__ == "__main__":
    sys.exit(main())
