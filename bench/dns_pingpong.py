# SPDX-License-Identifier: GPL-2.0
"""N DNS lookups over loopback (bench/dnsnames_cost.sh): a responder on 127.0.0.1:53
(a child process) answers each A query for bench.ksight.test with a CNAME to
edge.ksight.test and two A records; the client sends a query and waits for its answer,
N times. Prints the wall ns per lookup and N. Run it in a network namespace of its own."""
import os
import socket
import struct
import sys
import time

N = int(sys.argv[1])


def name(n):
    return b"".join(bytes([len(x)]) + x.encode() for x in n.split(".")) + b"\0"


def respond(s):
    cname = b"\xc0\x0c" + struct.pack(">HHIH", 5, 1, 300, len(name("edge.ksight.test"))) + \
        name("edge.ksight.test")
    a = [name("edge.ksight.test") + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([10, 9, 8, i])
         for i in (1, 2)]
    for _ in range(N):
        q, peer = s.recvfrom(512)
        s.sendto(q[:2] + struct.pack(">HHHHH", 0x8180, 1, 3, 0, 0) + q[12:] + cname +
                 b"".join(a), peer)


srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind(("127.0.0.1", 53))
pid = os.fork()
if not pid:
    respond(srv)
    os._exit(0)
cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
cli.connect(("127.0.0.1", 53))
t0 = time.perf_counter_ns()
for i in range(N):
    cli.send(struct.pack(">HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0) + name("bench.ksight.test") +
             struct.pack(">HH", 1, 1))
    cli.recvfrom(512)
t1 = time.perf_counter_ns()
os.waitpid(pid, 0)
print((t1 - t0) // N, N)
