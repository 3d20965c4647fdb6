# SPDX-License-Identifier: GPL-2.0
"""The SNAT half of the NAT view (docs/tcp.md, "DNAT and SNAT"): natpair's two namespaces
(test_tcp_nat.py), clients in A, servers in B on two ports: SPORT, whose connections an
nftables rule source-NATs to a third address S (in B's nat input hook, or in A's
postrouting, as a router or a masquerading host would), and CPORT, the control, which no
rule touches. The end in the namespace that did the SNAT carries both sources
(orig_saddr: the client's own, real_saddr: S), whatever its side; every other end none;
the agent's map names and pairs a server end by the real client.
The references are the kernel's: the rule's counter (a nat chain sees a connection's first
packet only) and that namespace's /proc/net/nf_conntrack. Nothing is changed outside the
namespaces."""
import json
import re
import subprocess
import time
import urllib.request

import pytest

from conftest import SLOW, UNIQ, Helper, Ksight, run_ksight
from tcp_util import PORT, Work, conntrack_tcp, run, settled
from test_map import units  # noqa: F401 (a fixture: two service-unit cgroups)
from test_tcp_nat import VPORT, nat_counters, natpair, run_clients  # noqa: F401 (a fixture)

N, M = 5, 3
SEND_C, SEND_S = 900, 400
SPORT, CPORT = PORT + 9, PORT + 11
RULES = """table inet kssnat {
    chain nat {
        type nat hook %(hook)s priority 100;
        ip daddr %(b4)s tcp dport %(port)d counter snat ip to %(s4)s
        ip6 daddr %(b6)s tcp dport %(port)d counter snat ip6 to %(s6)s
    }
}
"""
FIELDS = ("orig_saddr", "orig_sport", "real_saddr", "real_sport")


def snat_addrs(p):
    """S, the address the rule gives the clients: .200 / ::200 in A's subnet."""
    return {"ipv4": re.sub(r"\.1$", ".200", p.ip4[0]),
            "ipv6": re.sub(r"::1$", "::200", p.ip6[0])}


def add_snat(p, ns, hook, port=SPORT):
    """The SNAT rule in namespace @ns's nat chain on @hook; S added to A's link, so that
    B's replies to it reach A (after B's own un-NAT they go to A's address anyway), and
    deprecated for IPv6 (preferred_lft 0), so that A's clients never choose it as their
    source (an IPv4 /32 beside the subnet's address is not chosen either)."""
    s = snat_addrs(p)
    link = "kv" + UNIQ     # NsPair's veth, named so in both namespaces
    run("ip", "-n", p.a, "addr", "add", s["ipv4"] + "/32", "dev", link)
    run("ip", "-n", p.a, "-6", "addr", "add", s["ipv6"] + "/128", "dev", link, "nodad",
        "preferred_lft", "0")
    p.nft(ns, RULES % {"hook": hook, "b4": p.ip4[1], "b6": p.ip6[1], "port": port,
                       "s4": s["ipv4"], "s6": s["ipv6"]})
    return s


def snat_counters(p, ns):
    """The connections each rule of table kssnat counted in @ns: [ipv4, ipv6]."""
    out = subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "table", "inet",
                          "kssnat"], check=True, stdout=subprocess.PIPE, text=True).stdout
    return [int(l.split("packets")[1].split()[0]) for l in out.splitlines() if "packets" in l]


def conntrack_snat(ns, family, a, s, port=SPORT):
    """@ns's conntrack entries from @a to @port (as asked for) whose reply goes to @s, by
    the client's port: {original sport: reply dport}."""
    return {int(e["sport"][0]): int(e["dport"][1]) for e in conntrack_tcp(ns, family)
            if (e["src"][0], e["dport"][0], e["dst"][1]) == (a, str(port), s)}


def run_conns(p, family):
    """N connections from A to B:SPORT and M to B:CPORT, a server in B on each."""
    b = p.addrs(family)[1]
    srvs = [Helper("tcpio", "server", b, port, n, SEND_S, ns=p.b)
            for port, n in ((SPORT, N), (CPORT, M))]
    clis = []
    try:
        for port, n in ((SPORT, N), (CPORT, M)):
            c = Helper("tcpio", "client", b, port, n, SEND_C, ns=p.a)
            clis.append(c)
            c.go()
            assert [int(x) for x in c.result()[:2]] == [n * SEND_C, n * SEND_S]
        for s, n in zip(srvs, (N, M)):
            assert [int(x) for x in s.result()] == [n * SEND_C, n * SEND_S]
    finally:
        for h in clis + srvs:
            h.kill()


def wait_for(ks):
    """Until each of @ks [(Ksight, record type or None: a table's rows)] has its count
    (Ksight.stdout joins the lines: its newlines are the rows under the header)."""
    deadline = time.time() + 10 * SLOW
    while time.time() < deadline and any(
            (len(k.records(t)) if t else k.stdout.count("\n")) < n for k, t, n in ks):
        time.sleep(0.05)
    time.sleep(0.3 * SLOW)


def fields(r):
    return tuple(r.get(k) for k in FIELDS)


def col(family, addr, port):
    return ("src:[%s]:%d" if family == "ipv6" else "src:%s:%d") % (addr, port)


@pytest.mark.parametrize("family", [pytest.param("ipv4", marks=pytest.mark.kernels), "ipv6"])
def test_server_end_shows_the_real_client(natpair, family):  # noqa: F811
    """SNAT in B's nat input hook: the N server ends (raddr S, found by conntrack's reply
    tuple) carry the client's own address and port, the table's NAT column and tcpaccept
    --dnat too; the M control server ends, every client end (A tracks, natpair's DNAT
    rule, but did no SNAT) and tcpaccept without --dnat none."""
    p = natpair
    s = add_snat(p, p.b, "input")[family]
    a, b = p.addrs(family)
    life = Ksight(["tcplife", "--json", "--addr", b])
    table = Ksight(["tcplife", "--addr", b])
    acc = Ksight(["tcpaccept", "--json", "--dnat", "--addr", b])
    acct = Ksight(["tcpaccept", "--dnat", "--addr", b])
    plain = Ksight(["tcpaccept", "--json", "--addr", b])
    ks = (life, table, acc, acct, plain)
    try:
        for k in ks:
            k.wait_ready()
        run_conns(p, family)
        wait_for([(life, "tcplife", 2 * (N + M)), (table, None, 2 * (N + M)),
                  (acc, "tcpaccept", N + M), (acct, None, N + M),
                  (plain, "tcpaccept", N + M)])
    finally:
        for k in ks:
            assert k.stop() == 0, k.stderr
    assert snat_counters(p, p.b) == ([N, 0] if family == "ipv4" else [0, N])
    ct = conntrack_snat(p.b, family, a, s)
    assert len(ct) == N, ct
    recs = life.records("tcplife")
    assert len(recs) == 2 * (N + M), recs
    cli = [r for r in recs if r["side"] == "client"]
    srv = [r for r in recs if r["side"] == "server"]
    assert len(cli) == len(srv) == N + M, recs
    snat_cli = sorted(r["lport"] for r in cli if r["rport"] == SPORT)
    assert snat_cli == sorted(ct), (cli, ct)
    for r in recs:
        assert "conntrack_error" not in r and "orig_daddr" not in r, r
    for r in cli:
        assert r["laddr"] == a and fields(r) == (None,) * 4, r
    nat = [r for r in srv if r["lport"] == SPORT]
    ctl = [r for r in srv if r["lport"] == CPORT]
    assert len(nat) == N and len(ctl) == M, srv
    # each server end: the translated source it saw, conntrack's, and the client's own
    assert sorted((r["raddr"], r["rport"]) for r in nat) == sorted((s, ct[x]) for x in ct)
    for r in nat:
        assert fields(r) == (a, next(x for x in ct if ct[x] == r["rport"]), s, r["rport"]), r
    for r in ctl:
        assert r["raddr"] == a and fields(r) == (None,) * 4, r
    lines = table.stdout.splitlines()
    assert lines[0].split()[-1] == "NAT", lines
    rows = [l.split() for l in lines[1:]]
    assert len(rows) == 2 * (N + M), lines
    assert sorted(r[-1] for r in rows if r[2] == "server") == \
        sorted([col(family, a, x) for x in ct] + ["-"] * M), lines
    assert [r[-1] for r in rows if r[2] == "client"] == ["-"] * (N + M), lines
    # tcpaccept --dnat: the same, per accepted connection
    accs = acc.records("tcpaccept")
    assert len(accs) == N + M, accs
    assert sorted(fields(r) for r in accs if r["lport"] == SPORT) == \
        sorted((a, x, s, ct[x]) for x in ct), accs
    assert all(fields(r) == (None,) * 4 for r in accs if r["lport"] == CPORT), accs
    assert all("conntrack_error" not in r for r in accs), accs
    lines = acct.stdout.splitlines()
    assert lines[0].split()[-2:] == ["QUEUED", "NAT"], lines
    assert sorted(l.split()[-1] for l in lines[1:]) == \
        sorted([col(family, a, x) for x in ct] + ["-"] * M), lines
    pl = plain.records("tcpaccept")
    assert len(pl) == N + M and all(fields(r) == (None,) * 4 for r in pl), pl
    for k in ks:
        assert "conntrack could not" not in k.stderr, k.stderr


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_client_end_shows_its_translated_source(natpair, family):  # noqa: F811
    """SNAT in A's postrouting (a masquerading host's place): the N client ends carry the
    source they were given, S, and their own, in tcplife and tcpconnect --dnat; the
    server ends (B did no NAT: its conntrack has no entry) and the M control ends none."""
    p = natpair
    s = add_snat(p, p.a, "postrouting")[family]
    a, b = p.addrs(family)
    life = Ksight(["tcplife", "--json", "--addr", b])
    table = Ksight(["tcplife", "--addr", b])
    con = Ksight(["tcpconnect", "--json", "--dnat", "--addr", b])
    ks = (life, table, con)
    try:
        for k in ks:
            k.wait_ready()
        run_conns(p, family)
        wait_for([(life, "tcplife", 2 * (N + M)), (table, None, 2 * (N + M)),
                  (con, "tcpconnect", N + M)])
    finally:
        for k in ks:
            assert k.stop() == 0, k.stderr
    assert snat_counters(p, p.a) == ([N, 0] if family == "ipv4" else [0, N])
    ct = conntrack_snat(p.a, family, a, s)
    assert len(ct) == N, ct
    recs = life.records("tcplife")
    assert len(recs) == 2 * (N + M), recs
    for r in recs:
        assert "conntrack_error" not in r and "orig_daddr" not in r, r
    nat = [r for r in recs if r["side"] == "client" and r["rport"] == SPORT]
    assert sorted(r["lport"] for r in nat) == sorted(ct), (recs, ct)
    for r in nat:
        assert r["laddr"] == a and fields(r) == (a, r["lport"], s, ct[r["lport"]]), r
    others = [r for r in recs if r not in nat]
    assert len(others) == N + 2 * M and all(fields(r) == (None,) * 4 for r in others), recs
    # the server ends saw S, with the ports conntrack gave
    assert sorted((r["raddr"], r["rport"]) for r in recs
                  if r["side"] == "server" and r["lport"] == SPORT) == \
        sorted((s, ct[x]) for x in ct), recs
    rows = [l.split() for l in table.stdout.splitlines()[1:]]
    assert len(rows) == 2 * (N + M), table.stdout
    assert sorted(r[-1] for r in rows) == \
        sorted([col(family, s, ct[x]) for x in ct] + ["-"] * (N + 2 * M)), table.stdout
    cons = con.records("tcpconnect")
    assert len(cons) == N + M, cons
    assert sorted(fields(r) for r in cons if r["rport"] == SPORT) == \
        sorted((a, x, s, ct[x]) for x in ct), cons
    assert all(fields(r) == (None,) * 4 for r in cons if r["rport"] == CPORT), cons
    for k in ks:
        assert "conntrack could not" not in k.stderr, k.stderr


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_dnat_and_snat_together(natpair, family):  # noqa: F811
    """natpair's DNAT (VIP:80 to B:PORT+5) and an SNAT of what goes to B:PORT+5, both in
    A: the N client ends to the VIP carry both NATs' fields and the column both, joined
    by a comma; the M straight to B only the SNAT's."""
    p, vip = natpair, natpair.vip[family]
    a, b = p.addrs(family)
    port = PORT + 5     # run_clients' server in B
    s = add_snat(p, p.a, "postrouting", port)[family]
    life = Ksight(["tcplife", "--json", "--addr", a])
    table = Ksight(["tcplife", "--addr", a])
    try:
        for k in (life, table):
            k.wait_ready()
        got = run_clients(p, family, [(vip, VPORT, N), (b, port, M)])
        assert got == [[N * 1500, N * 300], [M * 1500, M * 300]]
        wait_for([(life, "tcplife", N + M), (table, None, N + M)])
    finally:
        for k in (life, table):
            assert k.stop() == 0, k.stderr
    assert nat_counters(p) == ([N, 0] if family == "ipv4" else [0, N])
    assert snat_counters(p, p.a) == ([N + M, 0] if family == "ipv4" else [0, N + M])
    ct = {**conntrack_snat(p.a, family, a, s, VPORT), **conntrack_snat(p.a, family, a, s, port)}
    assert len(ct) == N + M, ct
    recs = life.records("tcplife")     # B's server ends are not on A's address
    assert len(recs) == N + M and all(r["side"] == "client" for r in recs), recs
    dnat = ("orig_daddr", "orig_dport", "real_daddr", "real_dport")
    for r in recs:
        assert fields(r) == (a, r["lport"], s, ct[r["lport"]]), r
        want = (vip, VPORT, b, port) if r["raddr"] == vip else (None,) * 4
        assert tuple(r.get(x) for x in dnat) == want, r
    assert len([r for r in recs if r["raddr"] == vip]) == N, recs
    real = ("[%s]:%d" if family == "ipv6" else "%s:%d") % (b, port)
    rows = [l.split() for l in table.stdout.splitlines()[1:]]
    assert sorted(r[-1] for r in rows) == sorted(
        (real + "," if r["raddr"] == vip else "") + col(family, s, ct[r["lport"]])
        for r in recs), table.stdout


@pytest.mark.parametrize("ns,hook", [("b", "input"), ("a", "postrouting")])
def test_ends_opened_before_start(natpair, ns, hook):  # noqa: F811
    """A connection through the SNAT opened before ksight started: its end in the
    namespace that did the SNAT (side unknown) carries both sources, and the column shows
    what the end does not (told a client by its own address being the original source):
    the real client at the server, the translated source at the client."""
    p = natpair
    s = add_snat(p, getattr(p, ns), hook)["ipv4"]
    a, b = p.ip4
    srv = Work(p.b, "before-server", b, SPORT)
    cli = k = t = None
    try:
        srv.ready()
        cli = Work(p.a, "before-client", b, SPORT, 1000, 2000)
        _, lport = cli.ready()
        deadline = time.time() + 5 * SLOW
        while not settled(p.b, SPORT):
            assert time.time() < deadline, "the pre-start bytes are not acknowledged"
            time.sleep(0.05)
        k = Ksight(["tcplife", "--json", "--addr", b])
        t = Ksight(["tcplife", "--addr", b])
        k.wait_ready()
        t.wait_ready()
        assert cli.done() == [2000, 2007]
        assert srv.done() == [2000, 2007]
        wait_for([(k, "tcplife", 2), (t, None, 2)])
    finally:
        for w in (srv, cli, k, t):
            if isinstance(w, Work):
                w.kill()
            elif w:
                assert w.stop() == 0, w.stderr
    ct = conntrack_snat(getattr(p, ns), "ipv4", a, s)
    assert list(ct) == [lport], ct
    recs = k.records("tcplife")
    assert len(recs) == 2 and all(r["side"] == "unknown" for r in recs), recs
    by = {r["laddr"]: r for r in recs}
    mine, other = (by[b], by[a]) if ns == "b" else (by[a], by[b])
    assert fields(mine) == (a, lport, s, ct[lport]), recs
    assert fields(other) == (None,) * 4 and "conntrack_error" not in other, recs
    want = col("ipv4", a, lport) if ns == "b" else col("ipv4", s, ct[lport])
    rows = [l.split() for l in t.stdout.splitlines()[1:]]
    assert sorted(r[-1] for r in rows) == sorted([want, "-"]), t.stdout


def unit_conns(p, units, port, n):
    """@n connections from a client in A (in units[0]) to a server in B:@port (in
    units[1]), IPv4, each end's counts checked."""
    b = p.ip4[1]
    srv = Helper("tcpio", "server", b, port, n, SEND_S, ns=p.b)
    cli = None
    try:
        units[1].add(srv.pid)
        cli = Helper("tcpio", "client", b, port, n, SEND_C, ns=p.a)
        units[0].add(cli.pid)
        cli.go()
        assert [int(x) for x in cli.result()[:2]] == [n * SEND_C, n * SEND_S]
        assert [int(x) for x in srv.result()] == [n * SEND_C, n * SEND_S]
    finally:
        for h in (cli, srv):
            if h:
                h.kill()


def server_peers(metrics, local):
    """The agent's server connection counters of its own end @local, by peer."""
    got = {}
    for m in re.finditer(r'^ksight_tcp_server_connections_total\{service="[^"]*",local="%s",'
                         r'peer="([^"]*)"\} (\d+)$' % re.escape(local), metrics, re.M):
        got[m.group(1)] = got.get(m.group(1), 0) + int(m.group(2))
    return got


@pytest.mark.parametrize("ns,hook", [("b", "input"), ("a", "postrouting")])
def test_map_names_the_real_client(tmp_path, natpair, units, ns, hook):  # noqa: F811
    """The agent's map (from its store), SNAT in B's nat input hook (the server ends of
    the 1 + N connections to SPORT saw S but carry the real client) or in A's
    postrouting (the client ends carry S): each such connection's two ends pair into
    one edge client -> server:SPORT seen at both ends, that says all were SNAT'd and to
    S; the M to CPORT are an edge with none; no node is S. The agent's server counters
    (the fleet's map) have the real client as their peer where the server's namespace
    did the SNAT (elsewhere it does not know it)."""
    p = natpair
    s = add_snat(p, getattr(p, ns), hook)["ipv4"]
    a, b = p.ip4
    db = tmp_path / "k.db"
    listen = "127.0.0.1:%d" % (PORT + 14)
    k = Ksight(["run", "--modules", "tcplife", "--store", str(db), "--listen", listen, "1"])
    try:
        k.wait_ready()
        # one first: the agent learns the two cgroups (the map names its ends by them)
        unit_conns(p, units, SPORT, 1)
        time.sleep(3 * SLOW)
        unit_conns(p, units, SPORT, N)
        unit_conns(p, units, CPORT, M)
        time.sleep(3 * SLOW)
        with urllib.request.urlopen("http://%s/metrics" % listen, timeout=10 * SLOW) as r:
            metrics = r.read().decode()
    finally:
        assert k.stop() == 0, k.stderr
    assert snat_counters(p, getattr(p, ns)) == [N + 1, 0]
    assert len(conntrack_snat(getattr(p, ns), "ipv4", a, s)) == N + 1
    assert server_peers(metrics, "%s:%d" % (b, SPORT)) == {a if ns == "b" else s: N + 1}, \
        metrics
    assert server_peers(metrics, "%s:%d" % (b, CPORT)) == {a: M}, metrics
    r = run_ksight(["map", "--db", str(db), "--json", "--since", "10m"])
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    mine = {e["port"]: e for e in m["edges"]
            if e["kind"] == "tcp" and units[1].name in e["server"]}
    assert sorted(mine) == [SPORT, CPORT], m["edges"]
    for port, n, snat in ((SPORT, N + 1, s), (CPORT, M, None)):
        e = mine[port]
        assert (e["client"], e["server"]) == (units[0].name, units[1].name), e
        assert (e["connections"], e["snat_connections"], e["snat"]) == (n, n if snat else 0,
                                                                         snat), e
        assert (e["dnat_connections"], e["seen"], e["resolved"]) == (0, "both", False), e
        assert (e["bytes_client_to_server"], e["bytes_server_to_client"]) == \
            (n * SEND_C, n * SEND_S), e
    assert not [x for x in m["nodes"] if x["name"].startswith(s)], m["nodes"]
    r = run_ksight(["map", "--db", str(db), "--since", "10m"])
    assert r.returncode == 0, r.stderr
    assert re.search(r"^%s -> %s:%d .* both snat %s$" % (
        re.escape(units[0].name), re.escape(units[1].name), SPORT, re.escape(s)),
        r.stdout, re.M), r.stdout
