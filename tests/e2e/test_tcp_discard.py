# SPDX-License-Identifier: GPL-2.0
"""An accepted socket the kernel makes and throws away in the handshake is no connection:
tcplife shows no session for it and tcpstates none of its changes, and each command says
at exit how many it left out.

The kernel does that when two CPUs each clone a child from the same request and one
loses the race into its table (rare: timing's doing), and, made to happen here on
purpose, when the child's route back to the client fails. Two namespaces, a listener in
B with an accept queue of one; from A, a client whose ACKs an nftables rule holds (by its
source port), then a second client (from a second address) that fills the queue. The
rule goes: the first client's retransmitted ACKs find the queue full (the kernel refuses
them before it makes a child, counting ListenOverflows, and marks the request acked, so
that its SYN-ACK timer keeps it through what follows). The route to the first client is
made unreachable and the queue emptied: each ACK it retransmits then makes a child whose
route fails and which is closed at once from SYN_RECV. The kernel counts those in B's
TcpExt ListenDrops, which also counts the overflows: the difference is the reference the
exit line must equal. The route back, the next ACK makes the real connection, shown once
with its bytes. IPv4 only: IPv6 looks the route up before it makes the child."""
import os
import shutil
import subprocess
import time

import pytest

from conftest import SLOW, UNIQ, Ksight
from tcp_util import PORT, NsPair, Work
from test_tcp_states import SERVER, by_socket, changes

DPORT = PORT + 15      # test_tcp_states.py's BASE .. BASE+4 are below
CPORT = PORT + 14      # the held client's own port (nothing listens on it)
SIZE = 1000


def tcp_ext(p, *names):
    """TcpExt counters @names of namespace B (/proc/net/netstat)."""
    return p.net_counters(p.b, "/proc/net/netstat", "TcpExt", *names)


def ip(*args):
    subprocess.run(["ip"] + list(args), check=True)


def wait_for(cond, what):
    deadline = time.time() + 30 * SLOW
    while not cond():
        assert time.time() < deadline, what
        time.sleep(0.02)


@pytest.fixture
def holdpair():
    """tcp_util's two namespaces, nftables loaded (the kernel matrix's guests have no
    usermode modprobe to load it on demand), a second address in A."""
    if not shutil.which("nft"):
        pytest.skip("no nft (Debian package nftables: make deps installs it)")
    if os.path.exists("/proc/modules"):
        for m in ("nfnetlink", "nf_tables"):
            subprocess.run(["modprobe", "-q", m], check=False)
    p = NsPair()
    try:
        p.a2 = p.ip4[0].rsplit(".", 1)[0] + ".3"
        ip("-n", p.a, "addr", "add", p.a2 + "/24", "dev", "kv" + UNIQ)
        yield p
    finally:
        p.close()


@pytest.mark.kernels
@pytest.mark.parametrize("cmd", ["tcplife", "tcpstates"])
def test_discarded_children_not_shown(holdpair, cmd):
    p = holdpair
    a, b = p.addrs("ipv4")
    k = Ksight([cmd, "--json", "--port", str(DPORT)])
    k.wait_ready()
    works = []
    try:
        p.nft(p.b, "table ip ks_hold {\n chain in {\n type filter hook input priority 0;\n"
                   " ip saddr %s tcp sport %d tcp dport %d tcp flags != syn drop\n }\n}\n"
                   % (a, CPORT, DPORT))
        srv = Work(p.b, "tcp-sinks", b, DPORT, 2, 0)
        works.append(srv)
        srv.ready()
        drops0, over0 = tcp_ext(p, "ListenDrops", "ListenOverflows")
        cli = Work(p.a, "tcp-send", b, DPORT, SIZE, a, CPORT)
        works.append(cli)
        cli.ready()
        other = Work(p.a, "tcp-send", b, DPORT, SIZE, p.a2, 0)
        works.append(other)
        other_port = other.ready()[1]
        # the queue holds the other client's connection: the held one's ACKs are refused
        p.nft(p.b, "delete table ip ks_hold")
        wait_for(lambda: tcp_ext(p, "ListenOverflows")[0] > over0, "no ListenOverflows")
        ip("-n", p.b, "route", "add", "unreachable", a + "/32")
        srv.p.stdin.write("next\n")
        srv.p.stdin.flush()
        assert other.done() == [SIZE]

        def discarded():
            drops, over = tcp_ext(p, "ListenDrops", "ListenOverflows")
            return (drops - drops0) - (over - over0)
        wait_for(lambda: discarded() >= 2, "fewer than 2 children discarded")
        ip("-n", p.b, "route", "del", "unreachable", a + "/32")
        srv.p.stdin.write("next\n")
        srv.p.stdin.flush()
        assert cli.done() == [SIZE]
        assert srv.done() == [SIZE, SIZE]
        n = discarded()
        want = 4 if cmd == "tcplife" else 2 + 4 * 5
        wait_for(lambda: len(k.records(cmd)) >= want, "records missing: %s" % k.records(cmd))
        time.sleep(0.3 * SLOW)
    finally:
        for w in works:
            w.kill()
        assert k.stop() == 0, k.stderr
    if cmd == "tcplife":
        recs = k.records("tcplife")
        assert sorted((r["side"], r["closed_from"]) for r in recs) == \
            [("client", "FIN_WAIT2")] * 2 + [("server", "LAST_ACK")] * 2, recs
        srv_recs = sorted((r["rport"], r["rx_bytes"]) for r in recs if r["side"] == "server")
        assert srv_recs == sorted([(CPORT, SIZE), (other_port, SIZE)]), recs
    else:
        recs = changes(k, DPORT)
        socks = by_socket(recs, DPORT)
        assert sorted(socks, key=str) == sorted(
            [("client", CPORT), ("client", other_port), ("server", CPORT),
             ("server", other_port), "listener"], key=str), socks
        for port in (CPORT, other_port):
            assert [(r["old_state"], r["new_state"]) for r in socks[("server", port)]] == \
                SERVER, socks[("server", port)]
    line = "ksight %s: %d accepted socket%s the kernel made and closed in the handshake" % (
        cmd, n, "" if n == 1 else "s")
    assert line in k.stderr, (n, k.stderr)
    assert k.stats()["lost"] == 0
