# SPDX-License-Identifier: GPL-2.0
"""An accepted socket the kernel makes and throws away in the handshake is no connection:
tcplife shows no session for it and tcpstates none of its changes, and each command says
at exit how many it left out. The kernel does that when two CPUs each clone a child from
the same request and one loses the race into its table (rare, timing's doing), and, made
to happen here on purpose, when the child's route back to the client fails: the client's
ACKs are held by an nftables rule in the server's namespace until the route to the
client is made unreachable, and each ACK it retransmits then makes a child that is
closed at once from SYN_RECV. The kernel counts each one in that namespace's
TcpExt ListenDrops, the reference the count must equal. IPv4 only: IPv6 looks the route
up before it makes the child."""
import os
import shutil
import subprocess
import time

import pytest

from conftest import SLOW, Ksight
from tcp_util import PORT, NsPair, Work
from test_tcp_states import SERVER, changes, by_socket

DPORT = PORT + 15      # test_tcp_states.py's BASE .. BASE+4 are below
SIZE = 1000


def listen_drops(ns):
    """TcpExt ListenDrops of namespace @ns (/proc/net/netstat)."""
    out = subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/net/netstat"], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    head, vals = [l.split()[1:] for l in out.splitlines() if l.startswith("TcpExt:")]
    return int(dict(zip(head, vals))["ListenDrops"])


@pytest.fixture
def holdpair():
    """tcp_util's two namespaces, nftables loaded (the kernel matrix's guests have no
    usermode modprobe to load it on demand)."""
    if not shutil.which("nft"):
        pytest.skip("no nft (Debian package nftables: make deps installs it)")
    if os.path.exists("/proc/modules"):
        for m in ("nfnetlink", "nf_tables"):
            subprocess.run(["modprobe", "-q", m], check=False)
    p = NsPair()
    try:
        yield p
    finally:
        p.close()


def ip(*args):
    subprocess.run(["ip"] + list(args), check=True)


@pytest.mark.kernels
@pytest.mark.parametrize("cmd", ["tcplife", "tcpstates"])
def test_discarded_children_not_shown(holdpair, cmd):
    p = holdpair
    a, b = p.addrs("ipv4")
    k = Ksight([cmd, "--json", "--port", str(DPORT)])
    k.wait_ready()
    srv = cli = None
    try:
        # only SYNs reach the listener: the client is connected, the server has a request
        p.nft(p.b, "table ip ks_hold {\n chain in {\n type filter hook input priority 0;\n"
                   " tcp dport %d tcp flags != syn drop\n }\n}\n" % DPORT)
        srv = Work(p.b, "tcp-sink", b, DPORT)
        srv.ready()
        base = listen_drops(p.b)
        cli = Work(p.a, "tcp-send", b, DPORT, SIZE)
        lport = cli.ready()[1]
        ip("-n", p.b, "route", "add", "unreachable", a + "/32")
        p.nft(p.b, "delete table ip ks_hold")
        deadline = time.time() + 15 * SLOW
        while listen_drops(p.b) - base < 2 and time.time() < deadline:
            time.sleep(0.05)
        ip("-n", p.b, "route", "del", "unreachable", a + "/32")
        assert cli.done() == [SIZE]
        assert srv.done() == [SIZE]
        drops = listen_drops(p.b) - base
        assert drops >= 2, drops
        deadline = time.time() + 10 * SLOW
        want = 2 if cmd == "tcplife" else 12
        while len(changes(k, DPORT) if cmd == "tcpstates" else k.records(cmd)) < want \
                and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3 * SLOW)
    finally:
        for w in (cli, srv):
            if w:
                w.kill()
        assert k.stop() == 0, k.stderr
    if cmd == "tcplife":
        recs = k.records("tcplife")
        assert sorted((r["side"], r["closed_from"]) for r in recs) == \
            [("client", "FIN_WAIT2"), ("server", "LAST_ACK")], recs
        srv_rec = [r for r in recs if r["side"] == "server"][0]
        assert (srv_rec["rport"], srv_rec["rx_bytes"]) == (lport, SIZE), srv_rec
    else:
        recs = changes(k, DPORT)
        server = by_socket(recs, DPORT)[("server", lport)]
        assert [(r["old_state"], r["new_state"]) for r in server] == SERVER, server
        assert not [r for r in recs if r["side"] not in ("client", "server", "listener")]
    line = "ksight %s: %d accepted socket%s the kernel made and closed in the handshake" % (
        cmd, drops, "" if drops == 1 else "s")
    assert line in k.stderr, (drops, k.stderr)
    assert k.stats()["lost"] == 0
