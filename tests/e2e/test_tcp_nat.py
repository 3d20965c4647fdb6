# SPDX-License-Identifier: GPL-2.0
"""tcplife's DNAT view (docs/tcp.md, "DNAT and SNAT"): two network namespaces joined by a veth pair
(tcp_util.NsPair), an nftables DNAT rule in the client's namespace (A) that sends a
service address VIP:80 to the server's real address and port in B. N connections to the
VIP and M straight to the server: ksight tcplife shows exactly N client ends with the
address the client asked for and the real one, and the M others, and the server's ends,
with none. The references are the kernel's own: the nat rule's counter (a nat chain sees
a connection's first packet only: it counts connections) and the conntrack table of A
(/proc/net/nf_conntrack there), whose entries name both tuples. Nothing is changed outside
the two namespaces."""
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request

import pytest

from conftest import SLOW, Helper, Ksight, run_ksight
from tcp_util import PORT, NsPair, conntrack_tcp
from test_map import units  # noqa: F401 (a fixture: two service-unit cgroups)

N, M = 12, 5
SEND_C, SEND_S = 1500, 300
VPORT = 80
MODULES = ("nfnetlink", "nf_tables", "nf_conntrack", "nf_nat", "nft_chain_nat", "nft_nat",
           "nft_counter", "nf_conntrack_netlink")
RULES = """table inet ksnat {
    chain out {
        type nat hook output priority -100;
        ip daddr %(vip4)s tcp dport %(vport)d counter dnat ip to %(b4)s:%(port)d
        ip6 daddr %(vip6)s tcp dport %(vport)d counter dnat ip6 to [%(b6)s]:%(port)d
    }
}
"""


@pytest.fixture
def natpair():
    if not shutil.which("nft"):
        pytest.skip("no nft (Debian package nftables: make deps installs it)")
    # a modular kernel loads these on demand through its usermode modprobe, which the
    # kernel matrix's guests lack
    if os.path.exists("/proc/modules"):
        for m in MODULES:
            subprocess.run(["modprobe", "-q", m], check=False)
    p = NsPair()
    try:
        vip = {"ipv4": re.sub(r"\.1$", ".100", p.ip4[0]),
               "ipv6": re.sub(r"::1$", "::100", p.ip6[0])}
        p.vip = vip
        p.nft(p.a, RULES % {"vip4": vip["ipv4"], "vip6": vip["ipv6"], "vport": VPORT,
                            "b4": p.ip4[1], "b6": p.ip6[1], "port": PORT + 5})
        yield p
    finally:
        p.close()


def nat_counters(p):
    """The packets each DNAT rule counted in namespace A: [ipv4, ipv6]."""
    out = subprocess.run(["ip", "netns", "exec", p.a, "nft", "-j", "list", "table", "inet",
                          "ksnat"], check=True, stdout=subprocess.PIPE, text=True).stdout
    got = []
    for item in json.loads(out)["nftables"]:
        rule = item.get("rule")
        if rule:
            got += [x["counter"]["packets"] for x in rule["expr"] if "counter" in x]
    return got


def conntrack_dnat(p, family, vip, real, port):
    """Conntrack's entries in namespace A whose original destination is @vip:VPORT and
    whose reply comes from @real:@port (/proc/net/nf_conntrack: the kernel's own list)."""
    return sum(1 for e in conntrack_tcp(p.a, family)
               if (e["dst"][0], e["dport"][0], e["src"][1], e["sport"][1]) ==
               (vip, str(VPORT), real, str(port)))


def run_clients(p, family, conns, units=None):
    """[(dest address, port, count)] from A: each a tcpio client (sequential
    connections); a server in B accepts them all. With @units, the clients go into
    units[0], the server into units[1]. Returns the clients' [sent, received]."""
    port = PORT + 5
    total = sum(c for _, _, c in conns)
    srv = Helper("tcpio", "server", p.addrs(family)[1], port, total, SEND_S, ns=p.b)
    clis = []
    try:
        if units:
            units[1].add(srv.pid)
        for addr, dport, n in conns:
            clis.append(Helper("tcpio", "client", addr, dport, n, SEND_C, ns=p.a))
            if units:
                units[0].add(clis[-1].pid)
        got = []
        for c in clis:     # one after the other: the server accepts in turn
            c.go()
            got.append([int(x) for x in c.result()[:2]])
        assert [int(x) for x in srv.result()] == [total * SEND_C, total * SEND_S]
    finally:
        for h in clis + [srv]:
            h.kill()
    return got


def wait_records(k, n, timeout=10):
    deadline = time.time() + timeout * SLOW
    while len(k.records("tcplife")) < n and time.time() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize("family", [pytest.param("ipv4", marks=pytest.mark.kernels), "ipv6"])
def test_dnat_shows_asked_for_and_real(natpair, family):
    p, vip = natpair, natpair.vip[family]
    a, b = p.addrs(family)
    port = PORT + 5
    k = Ksight(["tcplife", "--json", "--addr", a])
    k.wait_ready()
    try:
        got = run_clients(p, family, [(vip, VPORT, N), (b, port, M)])
        assert got == [[N * SEND_C, N * SEND_S], [M * SEND_C, M * SEND_S]]
        wait_records(k, 2 * (N + M))
        time.sleep(0.3 * SLOW)
    finally:
        rc = k.stop()
    assert rc == 0, k.stderr
    recs = k.records("tcplife")
    assert len(recs) == 2 * (N + M), recs
    # the kernel's references: N connections DNAT'd, each in A's conntrack with both tuples
    counters = nat_counters(p)
    assert counters == ([N, 0] if family == "ipv4" else [0, N]), counters
    assert conntrack_dnat(p, family, vip, b, port) in (N, None)
    cli = [r for r in recs if r["side"] == "client"]
    srv = [r for r in recs if r["side"] == "server"]
    assert len(cli) == len(srv) == N + M, recs
    nat = [r for r in cli if r["raddr"] == vip]
    plain = [r for r in cli if r["raddr"] == b]
    assert len(nat) == N and len(plain) == M, cli
    for r in nat:
        assert (r["rport"], r["orig_daddr"], r["orig_dport"], r["real_daddr"],
                r["real_dport"]) == (VPORT, vip, VPORT, b, port), r
        assert (r["tx_bytes"], r["rx_bytes"]) == (SEND_C, SEND_S), r
    for r in plain + srv:
        assert not {"orig_daddr", "real_daddr", "conntrack_error"} & set(r), r
    # the server's ends pair with the real destinations: each client's port, once, or
    # the port conntrack gave it (SNAT): when a client's port is reused while conntrack
    # still holds an earlier connection with the same reply tuple (a DNAT'd one to the
    # same server end, now in TIME_WAIT), conntrack's null binding picks another source
    # port and marks the entry IPS_SRC_NAT (seen once in 5.10's guest)
    for r in cli:
        assert r.get("orig_sport", r["lport"]) == r["lport"], r
    assert sorted(r["rport"] for r in srv) == sorted(r.get("real_sport", r["lport"])
                                                     for r in cli)
    assert all((r["laddr"], r["lport"]) == (b, port) for r in srv)
    assert "conntrack could not" not in k.stderr
    st = k.stats()
    assert st["lost"] == 0, st


CLASH_CLIENT = """
import socket, sys
def one(dst, dport):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], int(sys.argv[2])))
    s.connect((dst, dport))
    s.sendall(b"x" * int(sys.argv[5]))
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    s.close()
one(sys.argv[3], 80)
one(sys.argv[4], int(sys.argv[6]))
"""


def test_port_clash_is_snat(natpair):
    """One source port, first DNAT'd to the server's end, then straight to it: the second
    connection's reply tuple is the first's (still in conntrack, TIME_WAIT), so
    conntrack's null binding gives it another source port (IPS_SRC_NAT). tcplife shows
    the client's port and the one the server saw, and the server's end has that one."""
    a, b = natpair.addrs("ipv4")
    vip, port, sport = natpair.vip["ipv4"], PORT + 5, PORT + 7
    k = Ksight(["tcplife", "--json", "--addr", a])
    k.wait_ready()
    srv = Helper("tcpio", "server", b, port, 2, SEND_S, ns=natpair.b)
    try:
        subprocess.run(["ip", "netns", "exec", natpair.a, "python3", "-c", CLASH_CLIENT, a,
                        str(sport), vip, b, str(SEND_C), str(port)], check=True,
                       timeout=30 * SLOW)
        assert [int(x) for x in srv.result()] == [2 * SEND_C, 2 * SEND_S]
        wait_records(k, 4)
    finally:
        srv.kill()
        assert k.stop() == 0, k.stderr
    recs = k.records("tcplife")
    cli = sorted((r for r in recs if r["side"] == "client"), key=lambda r: r["ts"])
    srv_ports = sorted(r["rport"] for r in recs if r["side"] == "server")
    assert len(cli) == 2 and len(srv_ports) == 2, recs
    assert [r["lport"] for r in cli] == [sport, sport], cli
    assert cli[0]["real_daddr"] == b and "real_sport" not in cli[0], cli[0]
    c = cli[1]
    assert "real_daddr" not in c and c["orig_saddr"] == c["real_saddr"] == a, c
    assert c["orig_sport"] == sport and c["real_sport"] != sport, c
    assert srv_ports == sorted([sport, c["real_sport"]]), recs


def test_dnat_ipv4_mapped(natpair):
    """An IPv6 socket connecting to ::ffff:VIP (an IPv4 connection in conntrack, through
    the IPv4 rule): both addresses in the socket's own form, ::ffff:a.b.c.d."""
    a, b = natpair.addrs("ipv4")
    vip, port = natpair.vip["ipv4"], PORT + 5
    k = Ksight(["tcplife", "--json", "--port", str(VPORT)])
    k.wait_ready()
    try:
        run_clients(natpair, "ipv4", [("::ffff:" + vip, VPORT, 3)])
        deadline = time.time() + 10 * SLOW
        while len([r for r in k.records("tcplife") if r["raddr"] == "::ffff:" + vip]) < 3 \
                and time.time() < deadline:
            time.sleep(0.05)
    finally:
        assert k.stop() == 0, k.stderr
    mine = [r for r in k.records("tcplife") if r["raddr"] == "::ffff:" + vip]
    assert len(mine) == 3, k.records("tcplife")
    for r in mine:
        assert (r["family"], r["side"], r["laddr"], r["orig_daddr"], r["orig_dport"],
                r["real_daddr"], r["real_dport"]) == \
            ("ipv6", "client", "::ffff:" + a, "::ffff:" + vip, VPORT, "::ffff:" + b, port), r
    assert nat_counters(natpair) == [3, 0]


def test_dnat_table_column(natpair):
    """The table's NAT column: the real server for a DNAT'd client end, '-' else."""
    a, b = natpair.addrs("ipv4")
    vip, port = natpair.vip["ipv4"], PORT + 5
    k = Ksight(["tcplife", "--addr", a])
    k.wait_ready()
    try:
        run_clients(natpair, "ipv4", [(vip, VPORT, 2), (b, port, 1)])
        deadline = time.time() + 10 * SLOW
        while k.stdout.count("\n") < 7 and time.time() < deadline:
            time.sleep(0.05)
    finally:
        assert k.stop() == 0, k.stderr
    lines = k.stdout.splitlines()
    assert lines[0].split()[-2:] == ["CLOSE", "NAT"], lines
    rows = [l.split() for l in lines[1:]]
    assert len(rows) == 6, lines
    nat = [r for r in rows if r[2] == "client" and r[5] == vip]
    assert len(nat) == 2 and all(r[-1] == "%s:%d" % (b, port) for r in nat), lines
    assert all(r[-1] == "-" for r in rows if r not in nat), lines


def test_no_dnat_option(natpair):
    """--no-dnat: conntrack is not asked; the records have no DNAT fields."""
    a = natpair.addrs("ipv4")[0]
    vip = natpair.vip["ipv4"]
    k = Ksight(["tcplife", "--json", "--no-dnat", "--addr", a])
    k.wait_ready()
    try:
        run_clients(natpair, "ipv4", [(vip, VPORT, 3)])
        wait_records(k, 6)
    finally:
        assert k.stop() == 0, k.stderr
    recs = k.records("tcplife")
    assert len(recs) == 6 and not [r for r in recs if "orig_daddr" in r], recs
    assert nat_counters(natpair) == [3, 0]


def test_no_dnat_refused_elsewhere():
    r = run_ksight(["tcpconnect", "--no-dnat"])
    assert r.returncode == 2 and "--no-dnat" in r.stderr and \
        len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_map_edge_goes_to_the_real_server(tmp_path, natpair, units):
    """The agent's map (from its store): the DNAT'd connections and the direct ones are one
    edge client -> server:PORT (the real port), seen at both ends, and it says how many
    were DNAT'd and the address they asked for."""
    p, vip = natpair, natpair.vip["ipv4"]
    b, port = p.addrs("ipv4")[1], PORT + 5
    db = tmp_path / "k.db"
    listen = "127.0.0.1:%d" % (PORT + 14)
    k = Ksight(["run", "--modules", "tcplife", "--store", str(db), "--listen", listen, "1"])
    try:
        k.wait_ready()
        # one first: the agent learns the two cgroups (the map names its ends by them)
        run_clients(p, "ipv4", [(vip, VPORT, 1)], units)
        time.sleep(3 * SLOW)
        run_clients(p, "ipv4", [(vip, VPORT, N), (b, port, M)], units)
        time.sleep(3 * SLOW)
        with urllib.request.urlopen("http://%s/metrics" % listen, timeout=10 * SLOW) as r:
            metrics = r.read().decode()
    finally:
        assert k.stop() == 0, k.stderr
    assert nat_counters(p) == [N + 1, 0]
    # the agent's per-edge counters (the fleet's map): the client ends' peer is the real
    # server, never the service address
    peers = {}
    for m in re.finditer(r'^ksight_tcp_client_connections_total\{service="[^"]*",local="%s",'
                         r'peer="([^"]*)"\} (\d+)$' % re.escape(p.ip4[0]), metrics, re.M):
        peers[m.group(1)] = peers.get(m.group(1), 0) + int(m.group(2))
    assert peers == {"%s:%d" % (b, port): N + M + 1}, metrics
    r = run_ksight(["map", "--db", str(db), "--json", "--since", "10m"])
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    mine = [e for e in m["edges"] if e["kind"] == "tcp" and units[1].name in e["server"]]
    assert len(mine) == 1, m["edges"]
    e = mine[0]
    assert (e["client"], e["server"], e["port"]) == (units[0].name, units[1].name, port), e
    assert (e["connections"], e["dnat_connections"], e["dnat"]) == \
        (N + M + 1, N + 1, "%s:%d" % (vip, VPORT)), e
    assert e["seen"] == "both" and not e["resolved"], e
    assert e["bytes_client_to_server"] == (N + M + 1) * SEND_C
    assert not [x for x in m["nodes"] if x["name"].startswith(vip)], m["nodes"]
    r = run_ksight(["map", "--db", str(db), "--since", "10m"])
    assert re.search(r"^%s -> %s:%d .* both dnat %s:%d$" % (
        re.escape(units[0].name), re.escape(units[1].name), port, re.escape(vip), VPORT),
        r.stdout, re.M), r.stdout


def socket_fds(pid):
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:")
        except OSError:
            pass
    return n


def test_agent_lets_idle_namespaces_go(natpair):
    """A conntrack socket holds its namespace alive: the agent opens one in each namespace
    a session closed in (A, the client's, and B, the server's), and closes it once unused
    for 10 s, at its next collect."""
    vip = natpair.vip["ipv4"]
    k = Ksight(["run", "--modules", "tcplife", "1"])
    try:
        k.wait_ready()
        time.sleep(1.5 * SLOW)
        base = socket_fds(k.proc.pid)
        run_clients(natpair, "ipv4", [(vip, VPORT, 2)])
        deadline = time.time() + 5 * SLOW
        while socket_fds(k.proc.pid) < base + 2 and time.time() < deadline:
            time.sleep(0.1)
        assert socket_fds(k.proc.pid) == base + 2
        deadline = time.time() + 10 + 5 * SLOW
        while socket_fds(k.proc.pid) > base and time.time() < deadline:
            time.sleep(0.2)
        assert socket_fds(k.proc.pid) == base
    finally:
        assert k.stop() == 0, k.stderr
