# SPDX-License-Identifier: GPL-2.0
"""Workloads of test_net.py, run as their own processes (in the test's network namespace
with `ip netns exec`, or moved into a test cgroup before they make their sockets):

  net_util.py udp-sink ADDR PORT N      bind, print "ready PID", receive N datagrams,
                                        print "done N"
  net_util.py tcp-sink ADDR PORT        listen, print "ready PID", accept one connection,
                                        read to its end, print "done BYTES"
  net_util.py udp-echo ADDR PORT        bind, print "ready PID", send every datagram back
  net_util.py udp-send DST PORT N SIZE SPORT
                                        N datagrams of SIZE bytes (pattern(SIZE)) from SPORT
                                        (IPv6 if DST has a colon)
  net_util.py before-server ADDR PORT   (test_tcp_before.py) listen, print "ready PID",
                                        accept one connection, read what the client sends
                                        first and answer one byte; then read to its end,
                                        send SIZE bytes (the first line from the client
                                        says SIZE), close, print "done RECEIVED SENT"
  net_util.py before-client DST PORT PRE POST
                                        connect, send PRE bytes, read the server's byte,
                                        print "ready PID LPORT", wait for a line on stdin,
                                        then send POST bytes, shut the sending side, read to
                                        the end, print "done SENT RECEIVED" (after PRE)
  net_util.py tcp-sinks ADDR PORT N BACKLOG
                                        listen(BACKLOG), print "ready PID"; N times: wait
                                        for a line on stdin, accept one connection, read to
                                        its end; print "done BYTES..."
  net_util.py tcp-send DST PORT SIZE [SRC SPORT]
                                        connect (from SRC:SPORT if given), send SIZE bytes,
                                        print "ready PID LPORT" at once (whether or not
                                        they arrived), wait for a line on stdin, shut the
                                        sending side, read to the end, print "done SIZE"
  net_util.py echo-client DST PORT N SIZE
                                        print "ready PID", wait for a line on stdin, then
                                        make the socket, send N datagrams of SIZE bytes one
                                        by one, each awaiting its echo; print "done N"
"""
import os
import socket
import sys


SO_RCVBUFFORCE = 33    # root may pass net.core.rmem_max: no datagram dropped at the socket


def pattern(size):
    """The bytes every datagram of SIZE carries: text, a NUL, bytes above 0x7f, a newline,
    then every byte value in turn (so hex and escaped text both have work to do)."""
    head = b"ksight-net\x00\xff\x80\n"
    body = bytes(i % 256 for i in range(max(0, size - len(head))))
    return (head + body)[:size]


def ready():
    print("ready %d" % os.getpid(), flush=True)


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def read_exact(s, n):
    got = 0
    while got < n:
        b = s.recv(min(n - got, 1 << 16))
        assert b, "connection ended early"
        got += len(b)


def read_to_end(s):
    """Read socket @s until its peer's end; the bytes read."""
    total = 0
    while True:
        b = s.recv(1 << 16)
        if not b:
            return total
        total += len(b)


def before_server(addr, port):
    ls = socket.socket(family_of(addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    ready()
    c, _ = ls.accept()
    f = c.makefile("rb")
    head = f.readline()                  # "PRE SIZE\n": the PRE bytes follow
    pre, size = (int(x) for x in head.split())
    assert len(f.read(pre)) == pre
    c.sendall(b"k")
    total = 0
    while True:
        b = f.read1(1 << 16)
        if not b:
            break
        total += len(b)
    c.sendall(b"s" * size)
    f.close()
    c.close()
    print("done %d %d" % (total, size), flush=True)


def before_client(dst, port, pre, post):
    s = socket.create_connection((dst, port))
    head = b"%d %d\n" % (pre, post + 7)     # the server's answer: not the same size
    s.sendall(head + b"p" * pre)
    read_exact(s, 1)
    print("ready %d %d" % (os.getpid(), s.getsockname()[1]), flush=True)
    sys.stdin.readline()
    s.sendall(b"q" * post)
    s.shutdown(socket.SHUT_WR)
    total = read_to_end(s)
    s.close()
    print("done %d %d" % (post, total), flush=True)


def main(argv):
    mode = argv[0]
    if mode == "udp-sink":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
        s.bind((argv[1], int(argv[2])))
        ready()
        n = int(argv[3])
        for _ in range(n):
            s.recv(65536)
        print("done %d" % n, flush=True)
    elif mode == "tcp-sink":
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((argv[1], int(argv[2])))
        ls.listen(1)
        ready()
        c, _ = ls.accept()
        total = read_to_end(c)
        c.close()
        print("done %d" % total, flush=True)
    elif mode == "udp-echo":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((argv[1], int(argv[2])))
        ready()
        while True:
            data, peer = s.recvfrom(65536)
            s.sendto(data, peer)
    elif mode == "udp-send":
        dst, port, n, size, sport = argv[1], int(argv[2]), int(argv[3]), int(argv[4]), int(argv[5])
        v6 = ":" in dst
        s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("::" if v6 else "0.0.0.0", sport))
        data = pattern(size)
        for _ in range(n):
            assert s.sendto(data, (dst, port)) == size
    elif mode == "tcp-sinks":
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((argv[1], int(argv[2])))
        ls.listen(int(argv[4]))
        ready()
        got = []
        for _ in range(int(argv[3])):
            sys.stdin.readline()
            c, _ = ls.accept()
            got.append(read_to_end(c))
            c.close()
        print("done " + " ".join(str(n) for n in got), flush=True)
    elif mode == "tcp-send":
        src = (argv[4], int(argv[5])) if len(argv) > 5 else None
        s = socket.create_connection((argv[1], int(argv[2])), source_address=src)
        s.sendall(pattern(int(argv[3])))
        print("ready %d %d" % (os.getpid(), s.getsockname()[1]), flush=True)
        sys.stdin.readline()
        s.shutdown(socket.SHUT_WR)
        read_to_end(s)
        s.close()
        print("done %s" % argv[3], flush=True)
    elif mode == "echo-client":
        dst, port, n, size = argv[1], int(argv[2]), int(argv[3]), int(argv[4])
        ready()
        sys.stdin.readline()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(10)
        s.connect((dst, port))
        data = pattern(size)
        for _ in range(n):
            s.send(data)
            assert s.recv(65536) == data
        print("done %d" % n, flush=True)
    elif mode == "before-server":
        before_server(argv[1], int(argv[2]))
    elif mode == "before-client":
        before_client(argv[1], int(argv[2]), int(argv[3]), int(argv[4]))
    else:
        sys.exit("net_util.py: unknown mode " + mode)


if __name__ == "__main__":
    main(sys.argv[1:])
