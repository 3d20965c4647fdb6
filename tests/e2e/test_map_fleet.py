# SPDX-License-Identifier: GPL-2.0
"""The fleet's map (`ksight map --prometheus URL`): two agents stand for two hosts
(--host-label), one watching a TCP client, the other the server it connects to in another
network namespace; a real Prometheus (Debian's, unpacked under build/prometheus) scrapes
both. Each agent counts only its own end, by endpoints named crosswise; the map built
from Prometheus' answers joins the two into one edge client@A -> server@B, seen at both
ends, with the client's exact session and byte counts, and connect, RTT and duration
p50/p99 the bounds of Prometheus' buckets that hold the local map's figures. Without the
server's agent the same client end becomes an edge to a remote endpoint ADDR:PORT. A client unit that
resolves a name, connects to a closed port and is reset by a server on the other host:
the fleet's edges have exactly those errors, resets and retransmits and the remote node
the name. Bad input: exit 2."""
import json
import subprocess
import sys

from conftest import KSIGHT, SLOW, Helper, free_port, Ksight
from tcp_util import PORT, client, net, result, server  # noqa: F401 (net: a fixture)
from test_map import units  # noqa: F401 (a fixture: two cgroups named like units)
from test_map_dns import SERVERS, WEB, remote
from test_map_fleet_udp import fleet_map, promtool_clean
from test_prometheus_server import Prometheus, prometheus_unpacked, wait_for  # noqa: F401

N, SEND, BACK = 6, 1500, 222


def connect_pcts(p, sel, fam="ksight_tcp_client_connect_seconds"):
    """The connect latency p50 and p99 (ns) the fleet's map must give the client ends of
    @sel: the bound of the bucket of Prometheus' ksight_tcp_client_connect_seconds (or
    @fam) that holds the nearest rank (None, None without sessions); and their count."""
    cum = sorted((float(dict(k)["le"]), v) for k, v in p.query(
        "sum by (le) (%s_bucket{%s})" % (fam, sel)).items())
    n = int(cum[-1][1]) if cum else 0
    out = []
    for pct in (50, 99):
        rank = (n * pct + 99) // 100
        out.append(next((round(le * 1e9) for le, c in cum if c >= rank), None) if n else None)
    return out[0], out[1], n


def bucket_ns(ns):
    """The bound (ns) of the log2 microsecond bucket that holds @ns: the agents' histograms'
    le (2^(i+1) - 1 us), so the fleet's percentile of what the local map ranks as @ns."""
    return ((2 << (max(ns // 1000, 1).bit_length() - 1)) - 1) * 1000


def agent(host, pid, store=None):
    port = free_port()
    k = Ksight(["run", "--modules", "tcplife", "--listen", "127.0.0.1:%d" % port] +
               (["--store", str(store)] if store else ["--no-store"]) +
               ["--host-label", host, "-p", str(pid), "1"])
    k.wait_ready()
    return k, port


def local_edge(db, port, n):
    """The edge to @port in the local map of the store @db once it has @n connections."""
    def edge():
        r = subprocess.run([KSIGHT, "map", "--db", str(db), "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        es = [e for e in json.loads(r.stdout)["edges"] if e["port"] == port]
        return es[0] if len(es) == 1 and es[0]["connections"] == n else None
    wait_for(lambda: edge() is not None, "the client's sessions in its store")
    return edge()


def test_two_hosts_one_edge(net, tmp_path):
    port = PORT + 9
    srv = server(net, "ipv4", port, N, BACK)
    cli = client(net, "ipv4", port, N, SEND)
    saddr = net.addrs("ipv4")[1]
    ks, p = [], None
    try:
        ka, pa = agent("hostA", cli.pid, tmp_path / "a.db")
        ks.append(ka)
        kb, pb = agent("hostB", srv.pid)
        ks.append(kb)
        p = Prometheus(pa, pb)
        p.wait_ready()
        cli.go()
        assert result(cli)[:2] == [N * SEND, N * BACK]
        assert result(srv) == [N * SEND, N * BACK]
        for side in ("client", "server"):
            wait_for(lambda: p.value("sum(ksight_tcp_%s_connections_total)" % side) == N,
                     "the %s ends in prometheus" % side)
        for fam in ("connect", "rtt", "duration"):
            wait_for(lambda: p.value("sum(ksight_tcp_client_%s_seconds_count)" % fam) == N,
                     "the client's %s histograms in prometheus" % fam)
        for fam in ("rtt", "duration"):
            wait_for(lambda: p.value("sum(ksight_tcp_server_%s_seconds_count)" % fam) == N,
                     "the server's %s histograms in prometheus" % fam)
        p50, p99, count = connect_pcts(p, 'host="hostA"')
        promtool_clean(pa, "# TYPE ksight_tcp_client_rtt_seconds histogram",
                       "# TYPE ksight_tcp_client_duration_seconds histogram")
        promtool_clean(pb, "# TYPE ksight_tcp_server_rtt_seconds histogram",
                       "# TYPE ksight_tcp_server_duration_seconds histogram")
        rtt = connect_pcts(p, 'host="hostA"', "ksight_tcp_client_rtt_seconds")
        dur = connect_pcts(p, 'host="hostA"', "ksight_tcp_client_duration_seconds")
        m = fleet_map(p, "--by-host")
        svc = "tcpio"
        edges = [e for e in m["edges"] if e["port"] == port]
        assert len(edges) == 1, m
        e = edges[0]
        assert (e["client"], e["server"], e["kind"]) == (svc + "@hostA", svc + "@hostB", "tcp")
        assert e["seen"] == "both" and not e["resolved"], e
        assert e["connections"] == N, e
        assert e["bytes_client_to_server"] == N * SEND, e
        assert e["bytes_server_to_client"] == N * BACK, e
        # closed by FIN, nothing lost on the veth: none of these per-edge counters moved
        assert (e["errors"], e["resets"], e["retrans_segs"], e["server_dns"]) == \
            (0, 0, 0, None), e
        # the client's connect latencies, from the buckets: each a bucket's bound
        assert count == N and p50 is not None and p50 <= p99, (p50, p99, count)
        assert (e["connect_p50_ns"], e["connect_p99_ns"]) == (p50, p99), e
        # the client's RTTs and durations likewise (paired: the client's, not the server's)
        assert rtt[2] == N and dur[2] == N, (rtt, dur)
        assert (e["rtt_p50_ns"], e["rtt_p99_ns"]) == rtt[:2], (e, rtt)
        assert (e["duration_p50_ns"], e["duration_p99_ns"]) == dur[:2], (e, dur)
        # ... the bounds of the buckets holding the local map's figures from the client's
        # own records (its store): the same sessions ranked the same way
        loc = local_edge(tmp_path / "a.db", port, N)
        for k in ("rtt_p50_ns", "rtt_p99_ns", "duration_p50_ns", "duration_p99_ns"):
            assert loc[k] and e[k] == bucket_ns(loc[k]), (k, e, loc)
        names = {n["name"]: n for n in m["nodes"]}
        assert names[svc + "@hostA"]["conns_out"] == N and names[svc + "@hostB"]["conns_in"] == N
        # services across hosts: one node (a self-edge here, both ends run tcpio)
        m = fleet_map(p)
        assert [(e["client"], e["server"], e["connections"]) for e in m["edges"]
                if e["port"] == port] == [(svc, svc, N)], m
        # only the client's host in Prometheus: the server is an endpoint outside
        kb.stop()
        ks.remove(kb)
        q = Prometheus(pa)
        try:
            q.wait_ready()
            wait_for(lambda: q.value("sum(ksight_tcp_client_connections_total)") == N,
                     "the client ends in the second prometheus")
            m = fleet_map(q, "--by-host")
            edges = [e for e in m["edges"] if e["port"] == port]
            assert [(e["client"], e["server"], e["seen"], e["connections"]) for e in edges] \
                == [(svc + "@hostA", "%s:%d" % (saddr, port), "client", N)], m
        finally:
            q.stop()
    finally:
        cli.kill()
        srv.kill()
        if p:
            p.stop()
        for k in ks:
            assert k.stop() == 0, k.stderr


# The client of test_errors_resets_and_dns_names, in its own mount namespace (resolv.conf
# bind-mounted) and the unit's cgroup: one connection to ADDR:P0 (the agent learns the
# cgroup), WEB resolved and NAMED connections to it on P2, REFUSED connects to the closed
# port PC, then one to tcpio's reset server on PR, which resets it once its bytes came.
ENDS_CLIENT = r"""
import socket, sys, time
a4, p0, p2, pc, pr, named, refused, settle = sys.argv[1:]

def conn(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect((addr, int(port)))
    s.sendall(b"x" * 100)
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    s.close()

sys.stdin.readline()
conn(a4, p0)
time.sleep(float(settle))
w = socket.getaddrinfo(%r, int(p2), socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
for _ in range(int(named)):
    conn(w, p2)
errs = []
for _ in range(int(refused)):
    try:
        conn(a4, pc)
    except ConnectionRefusedError:
        errs.append("refused")
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect((a4, int(pr)))
s.sendall(b"x" * 100)
try:
    s.recv(10)
except ConnectionResetError:
    errs.append("reset")
s.close()
print(w, " ".join(errs), flush=True)
""" % WEB


# Not on the kernel matrix: the server end a reset closes is, through
# test_tcp.py::test_resets_both_ways (its accept waiting when ksight starts, as B's here:
# on fentry kernels the sys_exit watch of tcp_late.bpf.h gives it its owner), and the
# agent's DNS capture through test_map_dns.py
def test_errors_resets_and_dns_names(tmp_path, units, net):
    """Host A's agent watches a client unit (and its DNS answers), host B's a tcpio reset
    server. The unit connects once to ADDR:P0, resolves web.ksight.test and connects 3
    times to ADDR:P2, twice to a closed port PC (refused), once to B's server, which
    resets it. The fleet's map (--totals --by-host) has exactly: ADDR:P0 1 connection, no
    name; ADDR:P2 3, named web.ksight.test (its node and the edge's server_dns); ADDR:PC
    2 connections, 2 errors, the same name (made after the answer); UNIT@hostA ->
    tcpio@hostB 1 connection, 1 reset (seen at both ends: counted once), no error; no
    retransmits on the veth; the resolver's UDP edge to ADDR:53 named too (its datagrams
    in ksight_udp_client_dns_datagrams_total)."""
    named, refused = 3, 2
    a4 = net.ip4[1]
    p0, p2, p6, pc, pr = PORT + 13, PORT + 15, PORT + 14, PORT + 16, PORT + 17
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver %s\noptions attempts:2 timeout:%d\n" % (a4, min(30, 5 * SLOW)))
    srv = subprocess.Popen(["ip", "netns", "exec", net.ns, sys.executable, "-c", SERVERS, a4,
                            net.ip6[1], "%d,%d" % (p0, p2), str(p6)],
                           stdout=subprocess.PIPE, text=True)
    rst = Helper("tcpio", "reset", a4, pr, ns=net.ns)
    ks, p, cli = [], None, None
    svc = units[0].name
    try:
        assert srv.stdout.readline().strip() == "ready"
        port_a = free_port()
        ka = Ksight(["run", "--modules", "tcplife,udp", "--listen", "127.0.0.1:%d" % port_a,
                     "--no-store", "--host-label", "hostA", "--cgroup", units[0].path, "1"])
        ks.append(ka)
        ka.wait_ready()
        kb, port_b = agent("hostB", rst.pid)
        ks.append(kb)
        p = Prometheus(port_a, port_b)
        p.wait_ready()
        cli = subprocess.Popen(["unshare", "-m", "sh", "-c",
                                'mount --bind "$0" /etc/resolv.conf && exec "$@"', str(conf),
                                sys.executable, "-c", ENDS_CLIENT, a4] +
                               [str(x) for x in (p0, p2, pc, pr, named, refused, 2 * SLOW)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        units[0].add(cli.pid)      # unshare and sh exec: the pid stays python's
        out, _ = cli.communicate("go\n", timeout=60 * SLOW)
        assert cli.returncode == 0
        assert out.split() == [a4] + ["refused"] * refused + ["reset"], out
        for q, want in (("sum(ksight_tcp_client_connections_total)", 1 + named + refused + 1),
                        ("sum(ksight_tcp_server_connections_total)", 1),
                        # every connection to the address after the answer: P2's,
                        # PC's and PR's (a service's node takes no name)
                        ("sum(ksight_tcp_client_dns_connections_total)", named + refused + 1),
                        ("sum(ksight_tcp_client_errors_total)", refused),
                        ("sum(ksight_tcp_client_resets_total)", 1),
                        ("sum(ksight_tcp_server_resets_total)", 1)):
            wait_for(lambda: p.value(q) == want, "%s == %d in prometheus" % (q, want))
        wait_for(lambda: p.value("sum(ksight_tcp_client_connect_seconds_count)") ==
                 1 + named + 1, "the connect latencies in prometheus")
        # the resolver's flow to the name server: its datagrams after the answer (the
        # query too when both fell in one interval), under the name
        wait_for(lambda: (p.value("sum(ksight_udp_client_dns_datagrams_total)") or 0) >= 1,
                 "the resolver's named datagrams in prometheus")
        got = [(d["service"], d["peer"], d["dns"]) for d in
               map(dict, p.query("ksight_udp_client_dns_datagrams_total"))]
        assert got == [(svc, remote(a4, 53), WEB)], got
        pcts = {peer: connect_pcts(p, 'peer="%s"' % peer)
                for peer in (remote(a4, x) for x in (p0, p2, pc, pr))}
        m = fleet_map(p, "--by-host")
        # the table: a DNS column, the name beside the node's unchanged ADDR:PORT
        r = subprocess.run([KSIGHT, "map", "--prometheus", "http://127.0.0.1:%d" % p.port,
                            "--totals", "--by-host"], stdout=subprocess.PIPE, text=True,
                           timeout=60)
        rows = {l.split()[0]: l.split() for l in r.stdout.splitlines() if l.split()}
        assert rows["NODE"][-1] == "DNS" and rows[remote(a4, p2)][-1] == WEB, r.stdout
        assert rows[remote(a4, p0)][-1] == "-", r.stdout
    finally:
        if cli and cli.poll() is None:
            cli.kill()
        rst.kill()
        srv.kill()
        srv.wait()
        if p:
            p.stop()
        for k in ks:
            assert k.stop() == 0, k.stderr
    got = {e["server"]: (e["kind"], e["port"], e["connections"], e["errors"], e["resets"],
                         e["retrans_segs"], e["seen"], e["server_dns"])
           for e in m["edges"] if e["client"] == svc + "@hostA"}
    assert got == {
        remote(a4, p0): ("tcp", p0, 1, 0, 0, 0, "client", None),
        remote(a4, p2): ("tcp", p2, named, 0, 0, 0, "client", WEB),
        remote(a4, pc): ("tcp", pc, refused, refused, 0, 0, "client", WEB),
        "tcpio@hostB": ("tcp", pr, 1, 0, 1, 0, "both", None),
        # the resolver's queries: a UDP edge to the name server, seen at the client, named
        # as the local map names it (the address the answer gave)
        remote(a4, 53): ("udp", 53, 0, 0, 0, 0, "client", WEB),
    }, m["edges"]
    # connect latencies: the established sessions' (none for the refused ones)
    lat = {e["server"]: (e["connect_p50_ns"], e["connect_p99_ns"]) for e in m["edges"]
           if e["client"] == svc + "@hostA" and e["kind"] == "tcp"}
    assert [pcts[remote(a4, x)][2] for x in (p0, p2, pc, pr)] == [1, named, 0, 1], pcts
    assert lat == {remote(a4, p0): pcts[remote(a4, p0)][:2],
                   remote(a4, p2): pcts[remote(a4, p2)][:2],
                   remote(a4, pc): (None, None),
                   "tcpio@hostB": pcts[remote(a4, pr)][:2]}, (lat, pcts)
    assert all(v is not None for k, v in lat.items() if k != remote(a4, pc)), lat
    dns = {n["name"]: n["dns"] for n in m["nodes"]}
    assert (dns[remote(a4, p2)], dns[remote(a4, pc)], dns[remote(a4, p0)], dns[remote(a4, 53)],
            dns[svc + "@hostA"], dns["tcpio@hostB"]) == (WEB, WEB, None, WEB, None, None), \
        m["nodes"]


def test_bad_input():
    for args, what in ((["--prometheus", "prom:9090"], "not an http:// URL"),
                       (["--by-host"], "--by-host goes with --prometheus"),
                       (["--prometheus", "http://127.0.0.1:1", "--diff", "5m"],
                        "--diff reads a store"),
                       (["--prometheus", "http://127.0.0.1:1", "--db", "/nonexistent"],
                        "--db reads a store"),
                       (["--prometheus", "http://127.0.0.1:1", "--totals", "--since", "1h"],
                        "exclude each other")):
        r = subprocess.run([KSIGHT, "map"] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        assert r.returncode == 2 and what in r.stderr and r.stderr.count("\n") == 1, \
            (args, r.stderr)
    # a server that is not there: one line, exit 1 (not bad input)
    port = free_port()
    r = subprocess.run([KSIGHT, "map", "--prometheus", "http://127.0.0.1:%d" % port],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    assert r.returncode == 1 and "cannot connect to 127.0.0.1:%d" % port in r.stderr, r.stderr
