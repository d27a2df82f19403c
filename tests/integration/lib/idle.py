"""Idle TCP connections for the connection-limit tests: opens N connections from a source address, never sends
a byte, and keeps REPORT up to date with how many are still open and how the server ended the others
(an A-ASSOCIATE-RJ PDU, or a plain close). Runs until killed.

  idle.py HOST PORT BIND_ADDR N REPORT
"""
import os
import select
import socket
import sys
import time

host, port, bind, n, report = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
socks, failed = [], 0
for _ in range(n):
    s = socket.socket()
    s.bind((bind, 0))
    try:
        s.connect((host, port))
        socks.append(s)
    except OSError:
        failed += 1
open_, rj, closed = set(socks), 0, 0
while True:
    r, _, _ = select.select(list(open_), [], [], 0.1) if open_ else ([], [], [])
    for s in r:
        try:
            b = s.recv(64)
        except OSError:
            b = b""
        if b[:1] == b"\x03":
            rj += 1
        else:
            closed += 1
        open_.discard(s)
        s.close()
    with open(report + ".tmp", "w") as f:
        f.write("open=%d rj=%d closed=%d connect_failed=%d\n" % (len(open_), rj, closed, failed))
    os.replace(report + ".tmp", report)
    if not open_:
        time.sleep(0.1)
