# SPDX-License-Identifier: GPL-2.0
"""ksight udp against real datagrams across a veth pair into a network namespace the tests
make: a client here, a server there (tests/e2e/helpers/udpio.c, which counts what it sent
and received: the reference), each datagram answered before the next is sent, so none is
dropped. Both ends are on this machine: every exchange is counted twice, once for each
process, each with its own remote end. DNS: a small responder there (udpio dnsd), a
client here (udpio dns, or glibc's resolver through getent)."""
import os
import subprocess
import tempfile
import time

import pytest

from conftest import SCALE, SLOW, Helper, Ksight, run_ksight
from tcp_util import PORT, net  # noqa: F401 (net: a fixture)

SIZE = 100


def udp(args):
    k = Ksight(["udp", "--json"] + [str(a) for a in args])
    k.wait_ready()
    return k


def server(net, family, port, n, size=SIZE):
    """udpio's server there: result() is [rx dgrams, rx bytes, tx dgrams, tx bytes]."""
    return Helper("udpio", "server", net.addrs(family)[1], port, n, size, ns=net.ns)


def client(net, family, port, n, mode="sendto", size=SIZE):
    """udpio's client here (its port in .extra[0]), started by go(); result() is [tx dgrams,
    tx bytes, rx dgrams, rx bytes]."""
    return Helper("udpio", "client", net.addrs(family)[1], port, n, size, mode)


def ints(h):
    return [int(x) for x in h.result()]


def rows(k, type_="udp", pid=None):
    return [r for r in k.records(type_) if pid is None or r["pid"] == pid]


def totals(recs):
    """The sums of the four counts over @recs."""
    return [sum(r[f] for r in recs)
            for f in ("tx_datagrams", "tx_bytes", "rx_datagrams", "rx_bytes")]


def assert_no_loss(k):
    st = k.stats()
    assert st["lost"] == 0 and st["consistent"] is True, st


def exchange(net, family, port, n, mode="sendto", ksight_args=None):
    """One client -> server exchange of @n datagrams each way on @port, watched by
    `ksight udp --port PORT` (or @ksight_args), which is stopped after. Returns (ksight,
    client, server)."""
    srv = server(net, family, port, n)
    cli = client(net, family, port, n, mode)
    try:
        k = udp(ksight_args if ksight_args is not None else ["--port", port])
    except BaseException:
        cli.kill()
        srv.kill()
        raise
    try:
        cli.go()
        assert ints(cli) == [n, n * SIZE, n, n * SIZE]
        assert ints(srv) == [n, n * SIZE, n, n * SIZE]
    finally:
        cli.kill()
        srv.kill()
        rc = k.stop()
    assert rc == 0, k.stderr
    return k, cli, srv


def assert_both_ends(k, net, family, port, cli, srv, n):
    """The client's row and the server's, exact, each with the other as its remote end."""
    here, there = net.addrs(family)
    c, s = rows(k, pid=cli.pid), rows(k, pid=srv.pid)
    assert len(c) == 1 and len(s) == 1, k.records("udp")
    c, s = c[0], s[0]
    assert (c["comm"], s["comm"]) == ("udpio", "udpio")
    assert (c["family"], c["lport"], c["raddr"], c["rport"]) == \
        (family, cli.extra[0], there, port), c
    assert (s["family"], s["lport"], s["raddr"], s["rport"]) == \
        (family, port, here, cli.extra[0]), s
    for r in (c, s):
        assert totals([r]) == [n, n * SIZE, n, n * SIZE], r
    assert len(k.records("udp")) == 2, k.records("udp")


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_exchange_exact(net, family):
    """1000 datagrams of 100 bytes each way: exactly 1000 and 100000 bytes in each
    direction for each process, its own pid and port, the other end as its remote end."""
    port, n = PORT, 1000 // SCALE
    k, cli, srv = exchange(net, family, port, n)
    assert_both_ends(k, net, family, port, cli, srv, n)
    assert_no_loss(k)


@pytest.mark.parametrize("mode", ["msg", "mmsg", "rw", "v"])
def test_every_call(net, mode):
    """The client's calls: sendmsg/recvmsg, sendmmsg/recvmmsg (batches of 10),
    write/read and writev/readv on a connected socket: the same exact counts."""
    port, n = PORT + 1, 200 // SCALE
    k, cli, srv = exchange(net, "ipv4", port, n, mode)
    assert_both_ends(k, net, "ipv4", port, cli, srv, n)
    assert_no_loss(k)


def test_peek_and_ipv4_on_ipv6_socket(net):
    """A server on the IPv6 wildcard sees its IPv4 client as ::ffff:a.b.c.d: counted as
    the IPv4 peer it is. A receive with MSG_PEEK leaves the datagram queued: not counted,
    the receive that takes it is."""
    port, n = PORT + 7, 50
    srv = Helper("udpio", "server", "::", port, n, SIZE, ns=net.ns)
    cli = client(net, "ipv4", port, n, "peek")
    k = udp(["--port", port])
    try:
        cli.go()
        assert ints(cli) == [n, n * SIZE, n, n * SIZE]
        assert ints(srv) == [n, n * SIZE, n, n * SIZE]
    finally:
        cli.kill()
        srv.kill()
        assert k.stop() == 0, k.stderr
    assert_both_ends(k, net, "ipv4", port, cli, srv, n)
    assert_no_loss(k)


def test_pid_port_and_per_process(net):
    """--port keeps only the datagrams with that port, -p only that process's; -P one row
    per process, the same totals. A second client and server on another port are the
    control."""
    p1, p2, n1, n2 = PORT + 2, PORT + 3, 30, 20
    s1, s2 = server(net, "ipv4", p1, n1), server(net, "ipv4", p2, n2)
    c1, c2 = client(net, "ipv4", p1, n1), client(net, "ipv4", p2, n2, "msg")
    ks = [udp(a) for a in (["--port", p1], ["-p", c1.pid], ["-P", "--port", p1],
                           ["-p", s2.pid])]
    try:
        c1.go()
        c2.go()
        for h, n in ((c1, n1), (c2, n2), (s1, n1), (s2, n2)):
            assert ints(h) == [n, n * SIZE, n, n * SIZE]
    finally:
        for h in (c1, c2, s1, s2):
            h.kill()
        for k in ks:
            assert k.stop() == 0, k.stderr
    by_port, by_cli, per_proc, by_srv = ks
    assert sorted(r["pid"] for r in rows(by_port)) == sorted([c1.pid, s1.pid])
    assert all(p1 in (r["lport"], r["rport"]) for r in rows(by_port))
    assert totals(rows(by_port)) == [2 * n1, 2 * n1 * SIZE, 2 * n1, 2 * n1 * SIZE]
    assert [(r["pid"], r["rport"]) for r in rows(by_cli)] == [(c1.pid, p1)]
    assert totals(rows(by_cli)) == [n1, n1 * SIZE, n1, n1 * SIZE]
    assert [(r["pid"], r["lport"]) for r in rows(by_srv)] == [(s2.pid, p2)]
    assert totals(rows(by_srv)) == [n2, n2 * SIZE, n2, n2 * SIZE]
    procs = {r["pid"]: r for r in rows(per_proc, "udp_proc")}
    assert set(procs) == {c1.pid, s1.pid}, procs
    for r in procs.values():
        assert totals([r]) == [n1, n1 * SIZE, n1, n1 * SIZE] and "raddr" not in r
    assert rows(per_proc) == []
    for k in ks:
        assert_no_loss(k)


def test_family_and_address_filters(net):
    """-6 keeps the IPv6 exchange; --addr the datagrams with that address as the remote
    end (the client's) or as the socket's own (the server's, bound to it); -4 --addr with
    the other family's address sees nothing of the IPv6 exchange."""
    port, n4, n6 = PORT + 8, 20, 30
    s4, s6 = server(net, "ipv4", port, n4), server(net, "ipv6", port, n6)
    c4, c6 = client(net, "ipv4", port, n4), client(net, "ipv6", port, n6, "msg")
    ks = [udp(a) for a in (["-6", "--port", port], ["--addr", net.ip6[1], "--port", port],
                           ["-4", "--addr", net.ip4[0], "--port", port])]
    try:
        for c, s, n in ((c4, s4, n4), (c6, s6, n6)):
            c.go()
            assert ints(c) == [n, n * SIZE, n, n * SIZE]
            assert ints(s) == [n, n * SIZE, n, n * SIZE]
    finally:
        for h in (c4, c6, s4, s6):
            h.kill()
        for k in ks:
            assert k.stop() == 0, k.stderr
    only6, by_addr, only4 = (rows(k) for k in ks)
    assert sorted(r["pid"] for r in only6) == sorted([c6.pid, s6.pid]), only6
    assert {r["family"] for r in only6} == {"ipv6"}
    assert totals(only6) == [2 * n6, 2 * n6 * SIZE, 2 * n6, 2 * n6 * SIZE]
    assert sorted((r["pid"], r["raddr"]) for r in by_addr) == \
        sorted([(c6.pid, net.ip6[1]), (s6.pid, net.ip6[0])]), by_addr
    # the IPv4 host address: the client's own (bound to the wildcard: not it), the
    # server's remote end
    assert [(r["pid"], r["raddr"]) for r in only4] == [(s4.pid, net.ip4[0])], only4
    assert totals(only4) == [n4, n4 * SIZE, n4, n4 * SIZE]
    for k in ks:
        assert_no_loss(k)


def test_intervals_report_what_changed(net):
    """With an interval each report holds what changed since the last: two clients one
    after the other, more than an interval apart, each counted once, exactly."""
    port, n = PORT + 4, 40
    srv = server(net, "ipv4", port, 2 * n)
    k = udp(["--port", port, "1"])
    try:
        for _ in range(2):
            cli = client(net, "ipv4", port, n)
            cli.go()
            assert ints(cli) == [n, n * SIZE, n, n * SIZE]
            time.sleep(1.5 * SLOW)
        assert ints(srv) == [2 * n, 2 * n * SIZE, 2 * n, 2 * n * SIZE]
    finally:
        srv.kill()
        assert k.stop() == 0, k.stderr
    recs = rows(k)
    by_key = {}
    for r in recs:
        by_key.setdefault((r["pid"], r["lport"], r["rport"]), []).append(r)
    clis = [key for key in by_key if key[0] != srv.pid]
    srvs = [key for key in by_key if key[0] == srv.pid]
    assert len(clis) == 2 and len(srvs) == 2, recs
    # each process's and each server row's counts exact over the reports, never repeated
    for key, rs in by_key.items():
        assert totals(rs) == [n, n * SIZE, n, n * SIZE], (key, rs)
    # the second client's rows came in a later report than the first's
    first, second = sorted(clis, key=lambda key: min(r["ts"] for r in by_key[key]))
    assert max(r["ts"] for r in by_key[first]) < min(r["ts"] for r in by_key[second])
    assert_no_loss(k)


def dns_records(k, pid):
    return [r for r in k.records("udp_dns") if r["pid"] == pid]


def test_dns_query_and_answer(net):
    """A query for a name to a responder that waits 30 ms: both sides' messages decoded,
    the name, type, answer address, and a latency of at least the wait on each side."""
    name, answer, delay = "svc%s.ksight.test" % os.getpid(), "10.9.8.7", 30
    srv = Helper("udpio", "dnsd", net.ip4[1], answer, delay, ns=net.ns)
    cli = Helper("udpio", "dns", net.ip4[1], name)
    k = udp(["--dns"])
    try:
        t0 = time.monotonic_ns()
        cli.go()
        cid, got = cli.result()
        wall = time.monotonic_ns() - t0
        (sid,) = srv.result()
        time.sleep(0.3 * SLOW)     # the records' ring: the reader's timer
    finally:
        cli.kill()
        srv.kill()
        assert k.stop() == 0, k.stderr
    assert got == answer and cid == sid
    c, s = dns_records(k, cli.pid), dns_records(k, srv.pid)
    assert [(r["dir"], r["qr"]) for r in c] == [("send", "query"), ("recv", "resp")], c
    assert [(r["dir"], r["qr"]) for r in s] == [("recv", "query"), ("send", "resp")], s
    for r in c + s:
        assert (r["name"], r["qtype"], r["id"], r["family"]) == (name, "A", int(cid), "ipv4")
        assert "error" not in r and r["comm"] == "udpio", r
    assert (c[0]["raddr"], c[0]["rport"], c[0]["lport"]) == (net.ip4[1], 53, cli.extra[0])
    assert (s[0]["raddr"], s[0]["rport"], s[0]["lport"]) == (net.ip4[0], cli.extra[0], 53)
    for q, a in ((c[0], c[1]), (s[0], s[1])):
        assert "latency_ns" not in q
        assert (a["rcode"], a["answers"]) == ("NOERROR", [answer]), a
    # the server waited between the two: each side's latency holds the wait
    assert delay * 1000000 <= c[1]["latency_ns"] < wall, (c[1], wall)
    assert delay * 1000000 <= s[1]["latency_ns"] < wall, (s[1], wall)
    assert_no_loss(k)


@pytest.mark.parametrize("db,types", [("ahostsv4", ["A"]), ("ahosts", ["A", "AAAA"])])
def test_dns_from_glibc(net, db, types):
    """getent (glibc's resolver) in a mount namespace of its own whose resolv.conf names
    the responder: each query it sent, the name and type, the answer and the latency,
    about getent. For both families glibc sends the A and AAAA queries with one
    sendmmsg() (strace shows it), and reads the answers with recvfrom() on a connected
    socket: the kernel side's mmsg path with DNS."""
    if os.path.exists("/var/run/nscd/socket"):
        pytest.skip("nscd would answer getent from its cache")
    name, answer = "glibc%s%s.ksight.test" % (os.getpid(), db), "10.9.8.6"
    srv = Helper("udpio", "dnsd", net.ip4[1], answer, 5, len(types), ns=net.ns)
    conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    conf.write("nameserver %s\noptions attempts:1 timeout:5\n" % net.ip4[1])
    conf.close()
    k = udp(["--dns"])
    try:
        # unshare makes its mounts private: the host's /etc/resolv.conf is untouched
        g = subprocess.run(["unshare", "-m", "sh", "-c",
                            'mount --bind "$0" /etc/resolv.conf && exec getent "$1" "$2"',
                            conf.name, db, name], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        srv.result()
        time.sleep(0.3 * SLOW)
    finally:
        os.unlink(conf.name)
        srv.kill()
        assert k.stop() == 0, k.stderr
    assert g.returncode == 0 and g.stdout.split()[0] == answer, (g.stdout, g.stderr)
    mine = [r for r in k.records("udp_dns")
            if r["comm"] == "getent" and r.get("name") == name]
    assert len({r["pid"] for r in mine}) == 1, mine
    for t in types:
        q = [r for r in mine if r["qr"] == "query" and r["qtype"] == t]
        a = [r for r in mine if r["qr"] == "resp" and r["qtype"] == t]
        assert len(q) == 1 and len(a) == 1, (t, mine)
        assert (q[0]["dir"], a[0]["dir"], q[0]["rport"], a[0]["rport"]) == \
            ("send", "recv", 53, 53), (q, a)
        assert (a[0]["rcode"], a[0]["latency_ns"] > 0) == ("NOERROR", True), a
        assert a[0]["answers"] == ([answer] if t == "A" else []), a
    assert len(mine) == 2 * len(types), mine
    assert_no_loss(k)


def test_agent_counts_datagrams(net):
    """ksight run counts UDP per service in its summaries (the socket calls)."""
    port, n = PORT + 5, 50
    srv = server(net, "ipv4", port, n)
    cli = client(net, "ipv4", port, n)
    k = Ksight(["run", "--json", "--modules", "udp", "1"])
    try:
        k.wait_ready()
        cli.go()
        ints(cli), ints(srv)
        time.sleep(2.2 * SLOW)
    finally:
        cli.kill()
        srv.kill()
        assert k.stop() == 0, k.stderr
    summ = [r for r in k.records("summary") if r["module"] == "udp"]
    assert summ, k.stdout
    # both processes' datagrams, and whatever else the machine sent meanwhile
    assert sum(r["sent_datagrams"] for r in summ) >= 2 * n, summ
    assert sum(r["received_bytes"] for r in summ) >= 2 * n * SIZE, summ
    assert_no_loss(k)


@pytest.mark.parametrize("hooks", ["fentry", "tp_btf", "raw_tp", "tp"])
def test_each_hook_family(net, kernel_hooks, hooks):
    """Every alternative counts the same exactly: fexit programs on the syscalls where
    the kernel has BPF trampolines, else the dispatcher on tp_btf, raw_tp or tp; the
    socket calls (sendto/recvfrom) and the reads and writes (write/read)."""
    if hooks == "fentry" and not kernel_hooks.usable("udp", "fentry"):
        pytest.skip("this kernel refuses fentry: test_fentry_refused_here")
    port, n = PORT + 6, 100 // SCALE
    # ksight first: a recvfrom already waiting is missed by the classic tracepoints (the
    # entry carries the arguments) and by fexit (attached after the call began)
    k = udp(["--port", port, "--hooks", hooks])
    srv = server(net, "ipv4", port, 2 * n)
    c1, c2 = client(net, "ipv4", port, n), client(net, "ipv4", port, n, "rw")
    try:
        for c in (c1, c2):
            c.go()
            assert ints(c) == [n, n * SIZE, n, n * SIZE]
        assert ints(srv) == [2 * n, 2 * n * SIZE, 2 * n, 2 * n * SIZE]
    finally:
        for h in (c1, c2, srv):
            h.kill()
        assert k.stop() == 0, k.stderr
    got = sorted((r["pid"], r["lport"], r["rport"], *totals([r])) for r in rows(k))
    want = sorted([(c.pid, c.extra[0], port, n, n * SIZE, n, n * SIZE) for c in (c1, c2)] +
                  [(srv.pid, port, c.extra[0], n, n * SIZE, n, n * SIZE) for c in (c1, c2)])
    assert got == want
    assert_no_loss(k)


def test_fentry_refused_here(kernel_hooks):
    if kernel_hooks.usable("udp", "fentry"):
        pytest.skip("this kernel allows fentry")
    r = run_ksight(["udp", "--hooks", "fentry", "--duration", "1"])
    assert r.returncode == 1 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "fentry" in r.stderr, r.stderr


def test_help():
    r = run_ksight(["udp", "--help"])
    assert r.returncode == 0 and "ksight udp --dns" in r.stdout and "--port" in r.stdout


@pytest.mark.parametrize("args,word", [
    (["--port", "0"], "--port"),
    (["--port", "70000"], "--port"),
    (["--port", "dns"], "--port"),
    (["--dns", "-P"], "--dns"),
    (["--dns", "1"], "interval"),
    (["--bogus"], "--bogus"),
    (["--hooks", "bogus"], "--hooks"),
    (["--addr", "10.0.0"], "--addr"),
    (["--addr", "fd00::1::2"], "--addr"),
    (["-4", "-6"], "-4"),
    (["-6", "--addr", "10.0.0.1"], "--addr"),
])
def test_bad_input(args, word):
    r = run_ksight(["udp"] + args)
    assert r.returncode == 2 and r.stdout == "", r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], r.stderr
