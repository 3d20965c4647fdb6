# SPDX-License-Identifier: GPL-2.0
"""What the tcp module's tests share (test_tcp.py: tcplife; test_tcp_open.py: tcpconnect and
tcpaccept): a veth pair into a network namespace with IPv4 and IPv6 addresses, and tcpio
(tests/e2e/helpers/tcpio.c), a server there and a client here that print the bytes they
wrote and read."""
import pytest

from attach_util import Veth, run
from conftest import UNIQ, Helper

PORT = 20000 + (int(UNIQ) % 500) * 16     # PORT .. PORT+15 are this run's


class NetPair(Veth):
    """attach_util's veth pair (HOST here, PEER in a namespace of its own, IPv4 neighbours
    resolved) with IPv6 addresses too: fd52:N::1 here, fd52:N::2 there, without duplicate
    detection so that they are usable at once."""

    def __init__(self):
        super().__init__()
        n = int(UNIQ) % 250
        self.ip4 = (self.host_ip, self.peer_ip)
        self.ip6 = ("fd52:%x::1" % n, "fd52:%x::2" % n)
        run("ip", "-6", "addr", "add", self.ip6[0] + "/64", "dev", self.host, "nodad")
        run("ip", "-n", self.ns, "-6", "addr", "add", self.ip6[1] + "/64", "dev", self.peer,
            "nodad")

    def addrs(self, family):
        return self.ip4 if family == "ipv4" else self.ip6


@pytest.fixture(scope="module")
def net():
    n = NetPair()
    try:
        yield n
    finally:
        n.close()


def server(net, family, port, n, send):
    """tcpio's server in the namespace: 'ready PID' once it listens; result() is
    [received, sent]."""
    return Helper("tcpio", "server", net.addrs(family)[1], port, n, send, ns=net.ns)


def client(net, family, port, n, send, *extra):
    """tcpio's client here, started by go(); result() is [sent, received, longest us]."""
    return Helper("tcpio", "client", net.addrs(family)[1], port, n, send, *extra)


def result(h):
    return [int(x) for x in h.result()]
