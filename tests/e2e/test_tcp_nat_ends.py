# SPDX-License-Identifier: GPL-2.0
"""The DNAT view (docs/tcp.md, "DNAT and SNAT") where test_tcp_nat.py does not look: tcplife's
server end in the namespace whose conntrack did the DNAT (it has conntrack's reply tuple:
its own address and the client's), ends opened before ksight started (side unknown), and
tcpconnect --dnat. For the first two, namespace A (test_tcp_nat's natpair) also holds an
nftables DNAT rule sending a service address VIP:81 to A's own address and a port where a
server in A listens: both ends of each connection are in A, DNAT'd; tcpconnect uses
natpair's rule, VIP:80 to the server in B. The references are the kernel's: the rules'
counters (a nat chain sees a connection's first packet only) and A's
/proc/net/nf_conntrack. Nothing is changed outside the namespaces."""
import subprocess
import time

import pytest

from conftest import SLOW, Helper, Ksight, run_ksight
from tcp_util import PORT, Work, conntrack_tcp, settled
from test_tcp_nat import VPORT as VPORT_B, nat_counters, natpair, run_clients  # noqa: F401

N, M = 6, 3
SEND_C, SEND_S = 700, 200
VPORT = 81
SPORT = PORT + 6        # the server's real port, in A
RULES = """table inet ksself {
    chain out {
        type nat hook output priority -100;
        ip daddr %(vip4)s tcp dport %(vport)d counter dnat ip to %(a4)s:%(port)d
        ip6 daddr %(vip6)s tcp dport %(vport)d counter dnat ip6 to [%(a6)s]:%(port)d
    }
}
"""


@pytest.fixture
def selfnat(natpair):  # noqa: F811 (the fixture imported above)
    """natpair's namespaces, with a DNAT in A from VIP:VPORT to A's own SPORT."""
    p = natpair
    p.nft(p.a, RULES % {"vip4": p.vip["ipv4"], "vip6": p.vip["ipv6"], "vport": VPORT,
                        "a4": p.ip4[0], "a6": p.ip6[0], "port": SPORT})
    return p


def self_counters(p):
    """The connections each rule of table ksself counted in A: [ipv4, ipv6]."""
    out = subprocess.run(["ip", "netns", "exec", p.a, "nft", "list", "table", "inet",
                          "ksself"], check=True, stdout=subprocess.PIPE, text=True).stdout
    return [int(l.split("packets")[1].split()[0]) for l in out.splitlines() if "packets" in l]


def conntrack_dnat(p, family, vip, real):
    """A's conntrack entries (/proc/net/nf_conntrack there: the kernel's own list) from
    @vip:VPORT to @real:SPORT, their reply tuple from @real:SPORT: how many."""
    return sum(1 for e in conntrack_tcp(p.a, family)
               if (e["dst"][0], e["dport"][0], e["src"][1], e["sport"][1]) ==
               (vip, str(VPORT), real, str(SPORT)))


def dnat_fields(r):
    return tuple(r.get(k) for k in ("orig_daddr", "orig_dport", "real_daddr", "real_dport"))


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_server_end_in_the_dnat_namespace(selfnat, family):
    """N connections to VIP:81 and M straight to A:SPORT, client and server in A: the N
    client ends and the N server ends they reached carry the asked-for and the real
    address (the server's found by conntrack's reply tuple), the M others of each none;
    the table's column shows a server its asked-for address."""
    p, vip = selfnat, selfnat.vip[family]
    a = p.addrs(family)[0]
    k = Ksight(["tcplife", "--json", "--addr", a])
    t = Ksight(["tcplife", "--addr", a])
    srv, clis = None, []
    try:
        k.wait_ready()
        t.wait_ready()
        srv = Helper("tcpio", "server", a, SPORT, N + M, SEND_S, ns=p.a)
        for addr, port, n in ((vip, VPORT, N), (a, SPORT, M)):
            c = Helper("tcpio", "client", addr, port, n, SEND_C, ns=p.a)
            clis.append(c)
            c.go()
            assert [int(x) for x in c.result()[:2]] == [n * SEND_C, n * SEND_S]
        assert [int(x) for x in srv.result()] == [(N + M) * SEND_C, (N + M) * SEND_S]
        deadline = time.time() + 10 * SLOW
        while (len(k.records("tcplife")) < 2 * (N + M) or
               t.stdout.count("\n") < 2 * (N + M)) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3 * SLOW)
    finally:
        for h in clis + ([srv] if srv else []):
            h.kill()
        assert t.stop() == 0, t.stderr
        assert k.stop() == 0, k.stderr
    assert self_counters(p) == ([N, 0] if family == "ipv4" else [0, N])
    assert conntrack_dnat(p, family, vip, a) == N
    recs = k.records("tcplife")
    assert len(recs) == 2 * (N + M), recs
    cli = [r for r in recs if r["side"] == "client"]
    srvs = [r for r in recs if r["side"] == "server"]
    assert len(cli) == len(srvs) == N + M, recs
    nat_ports = {r["lport"] for r in cli if r["raddr"] == vip}
    assert len(nat_ports) == N, cli
    for r in recs:
        assert "conntrack_error" not in r, r
        assert r["laddr"] == a, r
        if r["lport"] in nat_ports or r["rport"] in nat_ports:
            assert dnat_fields(r) == (vip, VPORT, a, SPORT), r
        else:
            assert dnat_fields(r) == (None,) * 4, r
    nat_srv = [r for r in srvs if r["rport"] in nat_ports]
    assert len(nat_srv) == N and all(r["lport"] == SPORT for r in nat_srv), srvs
    # the table: a DNAT'd server end's column is the address its client asked for
    lines = t.stdout.splitlines()
    assert lines[0].split()[-1] == "NAT", lines
    col = ("[%s]:%d" if family == "ipv6" else "%s:%d") % (vip, VPORT)
    rows = [l.split() for l in lines[1:] if l.split()[2] == "server"]
    assert len(rows) == N + M, lines
    assert sorted(r[-1] for r in rows) == sorted([col] * N + ["-"] * M), lines
    assert "conntrack could not" not in k.stderr + t.stderr


def test_ends_opened_before_start(selfnat):
    """A connection to VIP:81 opened before ksight started: neither end's side is known,
    so each is asked about as either; both carry the asked-for and the real address."""
    p, vip = selfnat, selfnat.vip["ipv4"]
    a = p.ip4[0]
    srv = Work(p.a, "before-server", a, SPORT)
    cli = None
    k = None
    try:
        srv.ready()
        cli = Work(p.a, "before-client", vip, VPORT, 1000, 2000)
        _, lport = cli.ready()
        deadline = time.time() + 5 * SLOW
        while not settled(p.a, SPORT):
            assert time.time() < deadline, "the pre-start bytes are not acknowledged"
            time.sleep(0.05)
        k = Ksight(["tcplife", "--json", "--addr", a])
        k.wait_ready()
        assert cli.done() == [2000, 2007]
        assert srv.done() == [2000, 2007]
        deadline = time.time() + 10 * SLOW
        while len(k.records("tcplife")) < 2 and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3 * SLOW)
    finally:
        for w in (srv, cli):
            if w:
                w.kill()
        if k:
            assert k.stop() == 0, k.stderr
    assert self_counters(p) == [1, 0]
    recs = k.records("tcplife")
    assert len(recs) == 2, recs
    by_lport = {r["lport"]: r for r in recs}
    assert set(by_lport) == {lport, SPORT}, recs
    assert by_lport[lport]["raddr"] == vip and by_lport[SPORT]["rport"] == lport, recs
    for r in recs:
        assert r["side"] == "unknown" and r["opened_before"] is True, r
        assert dnat_fields(r) == (vip, VPORT, a, SPORT), r
    assert "conntrack could not" not in k.stderr


@pytest.mark.parametrize("family", [pytest.param("ipv4", marks=pytest.mark.kernels), "ipv6"])
def test_tcpconnect_dnat(natpair, family):  # noqa: F811 (the fixture imported above)
    """tcpconnect --dnat: N connects to VIP:80 (DNAT'd to B) carry the asked-for and the
    real address, M straight to B none; a connect to VIP:80 refused once the server is
    gone has none either (conntrack drops an entry whose only answer was a reset), nor an
    error; the table's column shows the real server; without --dnat no record has them."""
    p, vip = natpair, natpair.vip[family]
    a, b = p.addrs(family)
    port = PORT + 5     # run_clients' server in B
    k = Ksight(["tcpconnect", "--json", "--dnat", "--addr", a])
    t = Ksight(["tcpconnect", "--dnat", "--addr", a])
    plain = Ksight(["tcpconnect", "--json", "--addr", a])
    try:
        for x in (k, t, plain):
            x.wait_ready()
        got = run_clients(p, family, [(vip, VPORT_B, N), (b, port, M)])
        assert got == [[N * 1500, N * 300], [M * 1500, M * 300]]
        rc = subprocess.run(
            ["ip", "netns", "exec", p.a, "/usr/bin/python3", "-c",
             "import socket, sys; s = socket.socket(socket.AF_INET%s); "
             "print(s.connect_ex((sys.argv[1], %d)))" % ("6" if family == "ipv6" else "",
                                                         VPORT_B), vip],
            check=True, stdout=subprocess.PIPE, text=True).stdout.split()
        assert rc == ["111"], rc     # ECONNREFUSED
        deadline = time.time() + 10 * SLOW
        while min(len(k.records("tcpconnect")), len(plain.records("tcpconnect")),
                  t.stdout.count("\n")) < N + M + 1 and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3 * SLOW)
    finally:
        for x in (k, t, plain):
            assert x.stop() == 0, x.stderr
    assert nat_counters(p) == ([N + 1, 0] if family == "ipv4" else [0, N + 1])
    recs = k.records("tcpconnect")
    assert len(recs) == N + M + 1, recs
    nat = [r for r in recs if r["raddr"] == vip]
    direct = [r for r in recs if r["raddr"] == b]
    assert len(nat) == N + 1 and len(direct) == M, recs
    assert sorted(r["result"] for r in nat) == ["established"] * N + ["refused"], nat
    for r in nat:
        if r["result"] == "established":
            assert (r["rport"],) + dnat_fields(r) == (VPORT_B, vip, VPORT_B, b, port), r
    refused = [r for r in nat if r["result"] == "refused"]
    for r in direct + refused + plain.records("tcpconnect"):
        assert dnat_fields(r) == (None,) * 4 and "conntrack_error" not in r, r
    assert len(plain.records("tcpconnect")) == N + M + 1
    lines = t.stdout.splitlines()
    assert lines[0].split()[-1] == "NAT", lines
    col = ("[%s]:%d" if family == "ipv6" else "%s:%d") % (b, port)
    rows = [l.split() for l in lines[1:]]
    assert len(rows) == N + M + 1, lines
    assert sorted(r[-1] for r in rows) == sorted([col] * N + ["-"] * (M + 1)), lines
    assert "conntrack could not" not in k.stderr + t.stderr
    assert k.stats()["lost"] == 0


@pytest.mark.parametrize("cmd", ["tcplife", "tcpstates", "tcpretrans"])
def test_dnat_option_is_tcpconnects(cmd):
    r = run_ksight([cmd, "--dnat"])
    assert r.returncode == 2 and "--dnat is tcpconnect's and tcpaccept's" in r.stderr and \
        len(r.stderr.strip().splitlines()) == 1 and r.stdout == "", r.stderr
