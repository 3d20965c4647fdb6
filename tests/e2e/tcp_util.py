# SPDX-License-Identifier: GPL-2.0
"""What the tcp module's tests share (test_tcp.py: tcplife; test_tcp_open.py: tcpconnect and
tcpaccept; test_tcp_states.py, test_tcp_retrans.py): a veth pair into a network namespace
with IPv4 and IPv6 addresses, two namespaces joined by a veth pair (NsPair), and tcpio
(tests/e2e/helpers/tcpio.c), a server there and a client here that print the bytes they
wrote and read."""
import ipaddress
import os
import subprocess

import pytest

from attach_util import Veth, run
from conftest import SLOW, UNIQ, Helper

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


class NsPair:
    """Two network namespaces of their own joined by a veth pair, nothing in this one:
    A (10.253.N.1, fd53:N::1) and B (.2, ::2). What the tests change there (nftables
    rules) goes with them, and each namespace's TCP counters (/proc/net/snmp) count only
    the tests' own connections."""

    def __init__(self):
        n = int(UNIQ) % 250
        self.a, self.b = "ksta%s" % UNIQ, "kstb%s" % UNIQ
        self.ip4 = ("10.253.%d.1" % n, "10.253.%d.2" % n)
        self.ip6 = ("fd53:%x::1" % n, "fd53:%x::2" % n)
        self.close()
        if os.path.exists("/proc/modules"):
            run("modprobe", "-q", "veth", check=False)
        run("ip", "netns", "add", self.a)
        run("ip", "netns", "add", self.b)
        run("ip", "link", "add", "kv" + UNIQ, "netns", self.a, "type", "veth", "peer", "name",
            "kv" + UNIQ, "netns", self.b)
        for ns, i in ((self.a, 0), (self.b, 1)):
            run("ip", "-n", ns, "addr", "add", self.ip4[i] + "/24", "dev", "kv" + UNIQ)
            run("ip", "-n", ns, "-6", "addr", "add", self.ip6[i] + "/64", "dev", "kv" + UNIQ,
                "nodad")
            run("ip", "-n", ns, "link", "set", "kv" + UNIQ, "up")
            run("ip", "-n", ns, "link", "set", "lo", "up")

    def addrs(self, family):
        return self.ip4 if family == "ipv4" else self.ip6

    def tcp_counter(self, ns, name):
        """Counter @name of the Tcp: lines of /proc/net/snmp in namespace @ns."""
        return self.net_counters(ns, "/proc/net/snmp", "Tcp", name)[0]

    def net_counters(self, ns, path, table, *names):
        """Counters @names of table @table ("Tcp" in /proc/net/snmp, "TcpExt" in
        /proc/net/netstat: a line of names, then one of values) in namespace @ns."""
        out = run("ip", "netns", "exec", ns, "cat", path).stdout
        head, vals = [l.split()[1:] for l in out.splitlines() if l.startswith(table + ":")]
        d = dict(zip(head, vals))
        return [int(d[n]) for n in names]

    def nft(self, ns, rules):
        """Load nftables @rules (nft -f syntax) in namespace @ns."""
        r = subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=rules,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr

    def close(self):
        run("ip", "netns", "del", self.a, check=False)
        run("ip", "netns", "del", self.b, check=False)


@pytest.fixture
def nspair():
    p = NsPair()
    try:
        yield p
    finally:
        p.close()


def sockless_resets_traced():
    """Whether tcp:tcp_send_reset fires for a reset sent without a full socket (a closed
    port): since 6.10, when the event became its own, with the reset's reason (its type
    is then in the kernel's BTF)."""
    with open("/sys/kernel/btf/vmlinux", "rb") as f:
        return b"\0trace_event_raw_tcp_send_reset\0" in f.read()


NET_UTIL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "net_util.py")


class Work:
    """A net_util.py workload, in namespace @ns; ready() is the words of its ready line."""

    def __init__(self, ns, *args):
        self.p = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", NET_UTIL] +
                                  [str(a) for a in args], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def ready(self):
        line = self.p.stdout.readline()
        assert line.startswith("ready "), (line, self.p.stderr.read())
        return [int(x) for x in line.split()[1:]]

    def done(self):
        out, err = self.p.communicate(input="go\n", timeout=60 * SLOW)
        assert self.p.returncode == 0, err
        words = out.split()
        assert words[0] == "done", out
        return [int(x) for x in words[1:]]

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def settled(ns, port):
    """Nothing unacknowledged on the port's connections in @ns (`ss -ti`): the counters the
    scan reads as baselines hold every byte sent before it."""
    out = subprocess.run(["ip", "netns", "exec", ns, "ss", "-tniH", "state", "established",
                          "( sport = :%d or dport = :%d )" % (port, port)],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    return "bytes_acked" in out and "unacked" not in out


def conntrack_tcp(ns, family):
    """@ns's TCP conntrack entries of @family ("ipv4", "ipv6") from the kernel's own list
    (/proc/net/nf_conntrack), each {"src", "dst", "sport", "dport"}: [original, reply]
    (IPv6 addresses, written there in full, in their short form)."""
    text = subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/net/nf_conntrack"],
                          check=True, stdout=subprocess.PIPE, text=True).stdout
    out = []
    for line in text.splitlines():
        w = line.split()
        if w[0] != family or "tcp" not in w:
            continue
        kv = [x.split("=", 1) for x in w if "=" in x]
        kv = [(k, str(ipaddress.ip_address(v)) if k in ("src", "dst") else v) for k, v in kv]
        out.append({k: [v for kk, v in kv if kk == k] for k in ("src", "dst", "sport", "dport")})
    return out
