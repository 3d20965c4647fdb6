# SPDX-License-Identifier: GPL-2.0
"""The service map's remote nodes carry the DNS name the agent saw for their address
(docs/map.md, "DNS names"). In a network namespace the test runs a tiny DNS server of its
own (UDP port 53, written here) and TCP servers; a client in a cgroup named like a unit
resolves names with the C library's resolver (Python's getaddrinfo, with a resolv.conf
bind-mounted over /etc/resolv.conf in a private mount namespace: the host's file is not
touched) and connects to the addresses they give. The agent watches the client's cgroup
only, so every server is a remote node:

* web.ksight.test is a CNAME to edge.ksight.test, whose A record (TTL 300) is the
  namespace's IPv4 address: the node ADDR:P2 carries exactly "web.ksight.test" (the name
  asked), and so does the resolver's node ADDR:53 (the same address, its UDP flows'
  rows made after the answer);
* short.ksight.test's AAAA (TTL 1, so the agent's 5 s floor) is the namespace's IPv6
  address: a connection made at once carries the name, one made 7 s later carries none;
* a connection to that address made before any answer named it carries none.

The table, --dot and --mermaid show the name beside the node's unchanged name; /metrics
counts the two named client ends in ksight_tcp_client_dns_connections_total{peer, dns}
and the two responses decoded. 5000 answers through the table of 4096: it evicts exactly
the 904 past its budget.
"""
import json
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import SLOW, Ksight, free_port, prom_samples, run_ksight
from tcp_util import PORT, net  # noqa: F401 (net: a fixture)
from test_map import units  # noqa: F401 (a fixture: two cgroups named like units)

WEB, EDGE, SHORT = "web.ksight.test", "edge.ksight.test", "short.ksight.test"

# The namespace's servers: DNS on ADDR4:53, TCP on ADDR4:P0, P2 and [ADDR6]:P1, P3, P4;
# each TCP connection is read to its end. Prints "ready" once all are bound.
SERVERS = r"""
import socket, struct, sys, threading
a4, a6, ports4, ports6 = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
WEB, EDGE, SHORT = %r, %r, %r

def name(n):
    return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) + b"\0"

def rr(owner, typ, ttl, data):
    return owner + struct.pack(">HHIH", typ, 1, ttl, len(data)) + data

def answer(q):
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode())
        i += 1 + q[i]
    qn, (qt,) = ".".join(labels).lower(), struct.unpack(">H", q[i + 1:i + 3])
    ans = []
    if qn == WEB and qt == 1:
        # the question's name by a pointer to it (offset 12), then a chain to the address
        ans = [rr(b"\xc0\x0c", 5, 300, name(EDGE)),
               rr(name(EDGE), 1, 300, socket.inet_pton(socket.AF_INET, a4))]
    elif qn.startswith("h") and qn.endswith(".many.test") and qt == 1:
        # hN.many.test: 10.200.N/250.N%%250 (the table's budget)
        n = int(qn[1:].split(".")[0])
        ans = [rr(b"\xc0\x0c", 1, 300, bytes([10, 200, n // 250, n %% 250]))]
    elif qn == SHORT and qt == 28:
        ans = [rr(b"\xc0\x0c", 28, 1, socket.inet_pton(socket.AF_INET6, a6))]
    hdr = q[:2] + struct.pack(">HHHHH", 0x8180, 1, len(ans), 0, 0)
    return hdr + q[12:i + 5] + b"".join(ans)

def dns(s):
    while True:
        q, peer = s.recvfrom(512)
        s.sendto(answer(q), peer)

def serve(s):
    while True:
        c, _ = s.accept()
        while c.recv(65536):
            pass
        c.close()

u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((a4, 53))
threading.Thread(target=dns, args=(u,), daemon=True).start()
for fam, a, ports in ((socket.AF_INET, a4, ports4), (socket.AF_INET6, a6, ports6)):
    for p in ports.split(","):
        t = socket.socket(fam, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((a, int(p)))
        t.listen(16)
        threading.Thread(target=serve, args=(t,), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
""" % (WEB, EDGE, SHORT)

# The client, in its own mount namespace (resolv.conf bind-mounted) and the unit's cgroup:
# waits for a line on stdin, then connects and resolves as the module's text says,
# printing what getaddrinfo gave.
CLIENT = r"""
import socket, sys, time
a4, a6, p0, p1, p2, p3, p4, pause, settle = sys.argv[1:]

def conn(addr, port, fam):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.connect((addr, int(port)))
    s.sendall(b"x" * 100)
    s.close()

sys.stdin.readline()
conn(a4, p0, socket.AF_INET)              # the agent learns the cgroup
time.sleep(float(settle))
conn(a6, p1, socket.AF_INET6)             # no answer named it yet
w = socket.getaddrinfo(%r, int(p2), socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
conn(w, p2, socket.AF_INET)
s = socket.getaddrinfo(%r, int(p3), socket.AF_INET6, socket.SOCK_STREAM)[0][4][0]
conn(s, p3, socket.AF_INET6)
time.sleep(float(pause))                  # past the short answer's TTL (and the floor)
conn(s, p4, socket.AF_INET6)
print(w, s, flush=True)
""" % (WEB, SHORT)


def remote(addr, port):
    return "[%s]:%d" % (addr, port) if ":" in addr else "%s:%d" % (addr, port)


@pytest.mark.kernels     # the kernel captures the answers received in the agent
def test_map_remote_nodes_carry_dns_names(tmp_path, units, net):
    db = tmp_path / "k.db"
    ports = [PORT + 13, PORT + 14, PORT + 15, PORT + 11, PORT + 10]    # P0 .. P4
    a4, a6 = net.ip4[1], net.ip6[1]
    conf = tmp_path / "resolv.conf"
    # one query a lookup: a retry would answer twice (the responses are counted exactly)
    conf.write_text("nameserver %s\noptions attempts:2 timeout:%d\n" % (a4, min(30, 5 * SLOW)))
    srv = subprocess.Popen(["ip", "netns", "exec", net.ns, sys.executable, "-c", SERVERS, a4,
                            a6, "%d,%d" % (ports[0], ports[2]),
                            ",".join(str(p) for p in (ports[1], ports[3], ports[4]))],
                           stdout=subprocess.PIPE, text=True)
    k = cli = None
    try:
        assert srv.stdout.readline().strip() == "ready"
        listen = "127.0.0.1:%d" % free_port()
        k = Ksight(["run", "--modules", "tcplife,udp", "--listen", listen, "--store", str(db),
                    "--cgroup", units[0].path, "1"])
        k.wait_ready()
        cli = subprocess.Popen(["unshare", "-m", "sh", "-c",
                                'mount --bind "$0" /etc/resolv.conf && exec "$@"', str(conf),
                                sys.executable, "-c", CLIENT, a4, a6] +
                               [str(p) for p in ports] + [str(7 * SLOW), str(2 * SLOW)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        units[0].add(cli.pid)      # unshare and sh exec: the pid stays python's
        out, _ = cli.communicate("go\n", timeout=60 * SLOW)
        assert cli.returncode == 0
        assert out.split() == [a4, a6], out
        want = {remote(a4, p) for p in (ports[0], ports[2], 53)} | \
            {remote(a6, p) for p in (ports[1], ports[3], ports[4])}
        deadline = time.time() + 20 * SLOW
        while True:
            r = run_ksight(["map", "--db", str(db), "--since", "2m", "--json"])
            assert r.returncode == 0, r.stderr
            m = json.loads(r.stdout)
            nodes = {n["name"]: n for n in m["nodes"]}
            if want <= set(nodes) or time.time() > deadline:
                break
            time.sleep(0.5)
        time.sleep(1.5 * SLOW)     # an interval's end: the page holds every close
        with urllib.request.urlopen("http://%s/metrics" % listen, timeout=10) as r:
            prom = prom_samples(r.read().decode())
    finally:
        if cli and cli.poll() is None:
            cli.kill()
        srv.kill()
        srv.wait()
        if k:
            k.stop()
    dns = {n: nodes[n]["dns"] for n in want if n in nodes}
    assert dns == {
        remote(a4, ports[0]): None,     # closed before any answer named the address
        remote(a6, ports[1]): None,     # the same
        remote(a4, ports[2]): WEB,      # through the CNAME, the name asked
        remote(a4, 53): WEB,            # the resolver's address: its rows after the answer
        remote(a6, ports[3]): SHORT,    # at once after a 1 s answer: within the floor
        remote(a6, ports[4]): None,     # 7 s later: expired
    }, (dns, m["nodes"])
    # every remote node is one of ours; each service node has no dns
    assert all(n["dns"] is None for n in m["nodes"] if n["kind"] == "service"), m["nodes"]
    edges = {(e["client"], e["server"], e["port"]) for e in m["edges"] if e["kind"] == "tcp"}
    assert (units[0].name, remote(a4, ports[2]), ports[2]) in edges, m["edges"]
    # the other forms: a DNS column, a second label line; the node's ID stays ADDR:PORT
    web, none = remote(a4, ports[2]), remote(a6, ports[1])
    form = {f: run_ksight(["map", "--db", str(db), "--since", "2m"] + f.split()).stdout
            for f in ("", "--dot", "--mermaid")}
    print(form[""])     # (docs/map.md's example, with -s)
    table = form[""].splitlines()
    head = [l for l in table if l.startswith("NODE ")]
    assert head and head[0].split()[-1] == "DNS", form[""]
    rows = {l.split()[0]: l.split() for l in table if l.split() and l.split()[0] in (web, none)}
    assert rows[web][1] == "remote" and rows[web][-1] == WEB, form[""]
    assert rows[none][1] == "remote" and rows[none][-1] == "-", form[""]
    assert '  "%s" [shape=ellipse, style=dashed, label="%s\\n%s"];' % (web, web, WEB) in \
        form["--dot"].splitlines(), form["--dot"]
    assert '  "%s" [shape=ellipse, style=dashed];' % none in form["--dot"].splitlines(), \
        form["--dot"]
    mer = [l.strip() for l in form["--mermaid"].splitlines() if web in l and "--" not in l]
    assert mer and mer[0].endswith('(["%s<br/>%s"])' % (web, WEB)), form["--mermaid"]
    # Prometheus: the named client ends, one each, beside the peer; nothing for the others
    named = {(dict(l)["peer"], dict(l)["dns"], dict(l)["service"]): v for (n, l), v in
             prom.items() if n == "ksight_tcp_client_dns_connections_total"}
    assert named == {(remote(a4, ports[2]), WEB, units[0].name): 1,
                     (remote(a6, ports[3]), SHORT, units[0].name): 1}, named
    assert prom[("ksight_dns_responses_total", frozenset())] == 2, prom
    assert prom[("ksight_dns_names", frozenset())] == 2


# N queries from the unit's cgroup, each waiting for its answer: hI.many.test for I < N.
MANY = r"""
import socket, struct, sys
a4, n = sys.argv[1], int(sys.argv[2])
sys.stdin.readline()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((a4, 53))
s.settimeout(10)
got = 0
for i in range(n):
    name = b"".join(bytes([len(l)]) + l.encode() for l in ("h%d.many.test" % i).split("."))
    s.send(struct.pack(">HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0) + name + b"\0" +
           struct.pack(">HH", 1, 1))
    got += len(s.recv(512)) > 12
print(got, flush=True)
"""


def test_dns_names_budget(tmp_path, units, net):
    """5000 answers naming 5000 addresses through the agent's table of 4096 (its budget,
    core/dnsnames.h): every response decoded, none lost, it holds 4096, put 5000 and
    evicted exactly the 904 past its budget, as /metrics says."""
    n = 5000
    a4 = net.ip4[1]
    srv = subprocess.Popen(["ip", "netns", "exec", net.ns, sys.executable, "-c", SERVERS, a4,
                            net.ip6[1], str(PORT + 9), str(PORT + 8)],
                           stdout=subprocess.PIPE, text=True)
    k = cli = None
    try:
        assert srv.stdout.readline().strip() == "ready"
        listen = "127.0.0.1:%d" % free_port()
        k = Ksight(["run", "--modules", "udp", "--listen", listen, "--no-store",
                    "--cgroup", units[0].path, "1"])
        k.wait_ready()
        cli = subprocess.Popen([sys.executable, "-c", MANY, a4, str(n)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        units[0].add(cli.pid)
        out, _ = cli.communicate("go\n", timeout=120 * SLOW)
        assert out.split() == [str(n)], out
        deadline = time.time() + 15 * SLOW
        while True:
            time.sleep(0.5)
            with urllib.request.urlopen("http://%s/metrics" % listen, timeout=10) as r:
                prom = prom_samples(r.read().decode())
            if prom.get(("ksight_dns_responses_total", frozenset()), 0) >= n or \
                    time.time() > deadline:
                break
    finally:
        if cli and cli.poll() is None:
            cli.kill()
        srv.kill()
        srv.wait()
        if k:
            k.stop()
    lost = {dict(l).get("type"): v for (name, l), v in prom.items()
            if name == "ksight_events_lost_total"}
    got = {m: prom.get((m, frozenset())) for m in (
        "ksight_dns_responses_total", "ksight_dns_names", "ksight_dns_names_added_total",
        "ksight_dns_names_evicted_total")}
    assert got == {"ksight_dns_responses_total": n, "ksight_dns_names": 4096,
                   "ksight_dns_names_added_total": n,
                   "ksight_dns_names_evicted_total": n - 4096}, (got, lost)
    assert not lost.get("udp_dns"), lost
