# SPDX-License-Identifier: GPL-2.0
"""ksight tcplife against real TCP sessions across a veth pair into a network namespace the
tests make: a client here, a server there (tests/e2e/helpers/tcpio.c, which prints the
bytes it wrote and read: the reference). Both ends of each session are on this machine,
so every session is seen twice, once from each side, each with its own owner."""
import os
import re
import subprocess
import time

import pytest

from attach_util import Cgroup, cgroup2_root, run
from conftest import SCALE, SLOW, Helper, Ksight, run_ksight
from tcp_util import PORT, client, net, result, server  # noqa: F401 (net: a fixture)

MIB, KIB = 1 << 20, 1 << 10


def tcplife(args):
    k = Ksight(["tcplife", "--json"] + [str(a) for a in args])
    k.wait_ready()
    return k


def sessions(k, port=None):
    return [r for r in k.records("tcplife")
            if port is None or port in (r["lport"], r["rport"])]


def wait_sessions(k, port, n, timeout=10):
    """Wait until @n sessions with @port were printed (they close in softirq, a moment after
    the helpers end)."""
    deadline = time.time() + timeout * SLOW
    while len(sessions(k, port)) < n and time.time() < deadline:
        time.sleep(0.05)


def exchange(net, family, port, n, up, down, ksight_args=None, ksight_first=False):
    """@n sessions client -> server on @port: @up bytes each from the client, @down back.
    The server is blocked in accept() when ksight starts, unless @ksight_first.
    Returns (ksight, client, server, client's result, server's result, wall ns)."""
    args = ksight_args if ksight_args is not None else ["--port", port]
    k = tcplife(args) if ksight_first else None
    srv = server(net, family, port, n, down)
    cli = client(net, family, port, n, up)
    try:
        cli.cgroup = cgroup_id(cli.pid)
        k = k or tcplife(args)
    except BaseException:
        cli.kill()
        srv.kill()
        raise
    try:
        t0 = time.monotonic_ns()
        cli.go()
        cres, sres = result(cli), result(srv)
        wall = time.monotonic_ns() - t0
        wait_sessions(k, port, 2 * n)
    finally:
        cli.kill()
        srv.kill()
        rc = k.stop()
    assert rc == 0, k.stderr
    return k, cli, srv, cres, sres, wall


def cgroup_id(pid):
    """The cgroup v2 id (the directory's inode) of process @pid."""
    with open("/proc/%d/cgroup" % pid) as f:
        path = [l.split(":", 2)[2].strip() for l in f if l.startswith("0::")][0]
    return os.stat(cgroup2_root() + path).st_ino


def assert_no_loss(k):
    st = k.stats()
    assert st["lost"] == 0 and st["consistent"] is True, st


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_bytes_exact_both_ends(net, family):
    """1 MiB up, 256 KiB down: each side's bytes as its program counted them (no SYN, no
    FIN), the owner of each side its own process, both ends' addresses and ports."""
    port = PORT
    k, cli, srv, cres, sres, wall = exchange(net, family, port, 1, MIB, 256 * KIB)
    assert cres[:2] == [MIB, 256 * KIB] and sres == [MIB, 256 * KIB]
    recs = sessions(k, port)
    assert len(recs) == 2, recs
    c = [r for r in recs if r["side"] == "client"]
    s = [r for r in recs if r["side"] == "server"]
    assert len(c) == 1 and len(s) == 1, recs
    c, s = c[0], s[0]
    here, there = net.addrs(family)
    assert (c["pid"], c["tid"], c["comm"]) == (cli.pid, cli.pid, "tcpio")
    assert (s["pid"], s["tid"], s["comm"]) == (srv.pid, srv.pid, "tcpio")
    assert (c["tx_bytes"], c["rx_bytes"]) == (cres[0], cres[1]) == (MIB, 256 * KIB)
    assert (s["tx_bytes"], s["rx_bytes"]) == (sres[1], sres[0]) == (256 * KIB, MIB)
    assert (c["family"], s["family"]) == (family, family)
    assert (c["laddr"], c["raddr"], c["rport"]) == (here, there, port)
    assert (s["laddr"], s["lport"], s["raddr"]) == (there, port, here)
    assert s["rport"] == c["lport"] and c["lport"] not in (0, port)
    for r in (c, s):
        assert 0 < r["duration_ns"] < wall, (r, wall)
        assert r["reason"] == "fin" and r["fin_sent"] and r["fin_received"], r
        assert r["opened_before"] is False and "error" not in r
        assert r["srtt_ns"] > 0 and r["retrans"] == 0
        assert isinstance(r["service"], str) and r["service"]
    # the client closes last: its socket ends from FIN_WAIT2 (time-wait), the server's
    # from LAST_ACK, and both closes happen in softirq: the owner is the table's
    assert (c["closed_from"], s["closed_from"]) == ("FIN_WAIT2", "LAST_ACK")
    assert c["cgroup"] == cli.cgroup
    assert_no_loss(k)


def test_kernel_counters_hold_the_syn(net):
    """What the correction is for: while a session is open `ss -ti` shows the kernel's
    bytes_acked, which holds the client's SYN; tcplife reports the bytes written."""
    port = PORT + 1
    srv = server(net, "ipv4", port, 1, 0)
    cli = client(net, "ipv4", port, 1, 1000, "hold")
    k = tcplife(["--port", port])
    try:
        cli.go()
        lport = int(cli.readline().split()[1])
        # acknowledged by now? wait until the kernel says all 1000 bytes are
        deadline = time.time() + 10
        while True:
            out = run("ss", "-tinH", "state", "established", "( sport = :%d )" % lport).stdout
            m = re.search(r"bytes_acked:(\d+)", out)
            if (m and int(m.group(1)) >= 1000) or time.time() > deadline:
                break
            time.sleep(0.05)
        assert m, out
        ss_acked = int(m.group(1))
        cli.go()
        cli.result(), srv.result()
        wait_sessions(k, port, 2)
    finally:
        cli.kill()
        srv.kill()
        assert k.stop() == 0, k.stderr
    c = [r for r in sessions(k, port) if r["side"] == "client"]
    assert len(c) == 1 and c[0]["tx_bytes"] == 1000, c
    assert ss_acked == 1001, out      # the SYN is in the kernel's count


def test_burst_of_short_sessions_all_seen(net):
    """1000 sessions each open for well under a millisecond: every one seen from both
    sides, each with its owner and its bytes."""
    port, n = PORT + 2, 1000 // SCALE
    k, cli, srv, cres, sres, wall = exchange(net, "ipv4", port, n, 100, 0)
    assert cres[:2] == [100 * n, 0] and sres == [100 * n, 0]
    recs = sessions(k, port)
    c = [r for r in recs if r["side"] == "client"]
    s = [r for r in recs if r["side"] == "server"]
    assert len(c) == n and len(s) == n, (len(c), len(s))
    assert {r["pid"] for r in c} == {cli.pid} and {r["pid"] for r in s} == {srv.pid}
    assert all((r["tx_bytes"], r["rx_bytes"]) == (100, 0) for r in c)
    assert all((r["tx_bytes"], r["rx_bytes"]) == (0, 100) for r in s)
    assert len({r["lport"] for r in c}) == n        # n distinct sessions
    assert {r["rport"] for r in s} == {r["lport"] for r in c}
    durs = sorted(r["duration_ns"] for r in c)
    assert durs[n // 2] < 1000000, durs[n // 2]       # the median session: under 1 ms
    assert_no_loss(k)


def test_port_and_pid_filters(net):
    """--port keeps only sessions with that port; -p only that process's own sessions (a
    client's connects; a server's accepts, whose owner is known only at accept's return)."""
    p1, p2 = PORT + 3, PORT + 4
    s1, s2 = server(net, "ipv4", p1, 5, 10), server(net, "ipv4", p2, 3, 10)
    c1, c2 = client(net, "ipv4", p1, 5, 20), client(net, "ipv4", p2, 3, 20)
    ks = [tcplife(a) for a in (["--port", p1], ["-p", c1.pid], ["-p", s2.pid])]
    try:
        c1.go()
        c2.go()
        c1.result(), c2.result(), s1.result(), s2.result()
        wait_sessions(ks[0], p1, 10)
        time.sleep(0.3)
    finally:
        for h in (c1, c2, s1, s2):
            h.kill()
        for k in ks:
            assert k.stop() == 0, k.stderr
    by_port, by_cli, by_srv = (sessions(k) for k in ks)
    assert len(by_port) == 10 and all(p1 in (r["lport"], r["rport"]) for r in by_port)
    assert sorted(r["pid"] for r in by_port) == sorted([c1.pid] * 5 + [s1.pid] * 5)
    assert len(by_cli) == 5, by_cli
    assert all(r["pid"] == c1.pid and r["side"] == "client" and r["rport"] == p1
               for r in by_cli)
    assert len(by_srv) == 3, by_srv
    assert all(r["pid"] == s2.pid and r["side"] == "server" and r["lport"] == p2 and
               (r["tx_bytes"], r["rx_bytes"]) == (10, 20) for r in by_srv)
    for k in ks:
        assert_no_loss(k)


def test_family_and_address_filters(net):
    """-6 keeps the IPv6 sessions, --addr those with that address at one end."""
    port = PORT + 5
    k6, ka = tcplife(["-6", "--port", port]), tcplife(["--addr", net.ip4[1], "--port", port])
    try:
        for fam, n in (("ipv4", 2), ("ipv6", 3)):
            srv = server(net, fam, port, n, 1)
            cli = client(net, fam, port, n, 1)
            cli.go()
            cli.result(), srv.result()
        wait_sessions(k6, port, 6)
        wait_sessions(ka, port, 4)
        time.sleep(0.3)
    finally:
        assert k6.stop() == 0 and ka.stop() == 0
    r6, ra = sessions(k6), sessions(ka)
    assert len(r6) == 6 and {r["family"] for r in r6} == {"ipv6"}
    assert len(ra) == 4 and all(net.ip4[1] in (r["laddr"], r["raddr"]) for r in ra)


def test_cgroup_filter_and_per_process(net):
    """--cgroup: the sessions of the server moved into a test cgroup, with its cgroup id;
    -P: counted per process in the kernel, the totals exact."""
    port, n = PORT + 6, 4
    cg = Cgroup()
    cg_id = os.stat(cg.path).st_ino
    try:
        srv = server(net, "ipv4", port, n, 300)
        cg.add(srv.pid)
        cli = client(net, "ipv4", port, n, 700)
        kc = tcplife(["--cgroup", cg.path])
        kp = tcplife(["-P", "--port", port])
        try:
            cli.go()
            cli.result(), srv.result()
            wait_sessions(kc, port, n)
            time.sleep(0.3)
        finally:
            cli.kill()
            srv.kill()
            assert kc.stop() == 0 and kp.stop() == 0
    finally:
        cg.close()
    rc = sessions(kc)
    assert len(rc) == n and {r["pid"] for r in rc} == {srv.pid}
    assert {r["cgroup"] for r in rc} == {cg_id}
    procs = {r["pid"]: r for r in kp.records("tcplife_proc")}
    assert set(procs) == {srv.pid, cli.pid}, procs
    assert (procs[cli.pid]["sessions"], procs[cli.pid]["tx_bytes"],
            procs[cli.pid]["rx_bytes"]) == (n, 700 * n, 300 * n)
    assert (procs[srv.pid]["sessions"], procs[srv.pid]["tx_bytes"],
            procs[srv.pid]["rx_bytes"]) == (n, 300 * n, 700 * n)
    assert kp.records("tcplife") == []


def test_refused_connect(net):
    port = PORT + 7
    cli = Helper("tcpio", "refused", net.ip4[1], port)
    k = tcplife(["--port", port])
    try:
        cli.go()
        assert result(cli) == [111]        # ECONNREFUSED
        wait_sessions(k, port, 1)
    finally:
        assert k.stop() == 0, k.stderr
    recs = sessions(k, port)
    assert len(recs) == 1, recs
    r = recs[0]
    assert (r["pid"], r["side"], r["reason"], r["error"]) == (cli.pid, "client", "refused",
                                                              "ECONNREFUSED")
    assert (r["tx_bytes"], r["rx_bytes"], r["closed_from"]) == (0, 0, "SYN_SENT")


@pytest.mark.kernels
def test_resets_both_ways(net):
    """A server that closes with bytes unread makes its kernel reset the session: its side
    says rst_sent, the client's rst_received with ECONNRESET."""
    port = PORT + 3
    # the server waits in accept() when ksight starts: with fentry its session's owner is
    # the sys_exit watch's (tcp_late.bpf.h), the fexit program missing that call
    srv = Helper("tcpio", "reset", net.ip4[1], port, ns=net.ns)
    cli = client(net, "ipv4", port, 1, 100)
    k = tcplife(["--port", port])
    try:
        cli.go()
        result(cli), result(srv)
        wait_sessions(k, port, 2)
    finally:
        cli.kill()
        srv.kill()
        assert k.stop() == 0, k.stderr
    by_side = {r["side"]: r for r in sessions(k, port)}
    assert len(sessions(k, port)) == 2 and set(by_side) == {"client", "server"}
    c, s = by_side["client"], by_side["server"]
    assert (s["pid"], s["reason"], s["rx_bytes"]) == (srv.pid, "rst_sent", 100), s
    assert "error" not in s and s["closed_from"] in ("ESTABLISHED", "CLOSE_WAIT"), s
    assert (c["pid"], c["reason"], c["error"], c["rx_bytes"]) == \
        (cli.pid, "rst_received", "ECONNRESET", 0), c


def libbpf_tools_lines(out, port):
    """libbpf-tools tcplife lines with @port: (pid, comm, laddr, lport, raddr, rport),
    tx KiB, rx KiB (it prints the raw counters / 1024 with two decimals)."""
    rows = []
    for line in out.splitlines():
        f = line.split()
        if len(f) == 9 and f[0].isdigit() and str(port) in (f[3], f[5]):
            rows.append(((int(f[0]), f[1], f[2], int(f[3]), f[4], int(f[5])),
                         float(f[6]), float(f[7])))
    return sorted(rows)


def test_agrees_with_libbpf_tools_tcplife(net):
    """Debian's libbpf-tools tcplife watching the same sessions: the same sessions, ends
    and owners, and the same bytes within what it adds (a SYN and FINs, 3 bytes at most)
    and its rounding to 0.01 KiB."""
    if not os.path.exists("/usr/sbin/tcplife"):
        pytest.skip("no /usr/sbin/tcplife (Debian package libbpf-tools)")
    port, n, up, down = PORT + 1, 3, 300000, 70000
    ref = subprocess.Popen(["/usr/sbin/tcplife", "-4", "-w"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3 * SLOW)       # its header is buffered: nothing says it is attached
        assert ref.poll() is None, ref.stderr.read()
        k, cli, srv, cres, sres, wall = exchange(net, "ipv4", port, n, up, down)
        time.sleep(0.5)
    finally:
        ref.send_signal(2)
        out, err = ref.communicate(timeout=30)
    theirs = libbpf_tools_lines(out, port)
    ours = sorted(((r["pid"], r["comm"], r["laddr"], r["lport"], r["raddr"], r["rport"]),
                   r["tx_bytes"], r["rx_bytes"]) for r in sessions(k, port))
    assert len(ours) == 2 * n and [o[0] for o in ours] == [t[0] for t in theirs], (ours, out)
    for (_, tx, rx), (_, ttx, trx) in zip(ours, theirs):
        assert tx / 1024 - 0.006 <= ttx <= (tx + 3) / 1024 + 0.006, (ours, out)
        assert rx / 1024 - 0.006 <= trx <= (rx + 3) / 1024 + 0.006, (ours, out)


def test_agent_counts_sessions(net):
    """ksight run streams every session in JSON and counts them in its summary."""
    port, n = PORT + 2, 5
    srv = server(net, "ipv4", port, n, 10)
    cli = client(net, "ipv4", port, n, 10)
    k = Ksight(["run", "--json", "--modules", "tcplife", "1"])
    try:
        k.wait_ready()
        cli.go()
        cli.result(), srv.result()
        wait_sessions(k, port, 2 * n)
        time.sleep(1.2 * SLOW)
    finally:
        assert k.stop() == 0, k.stderr
    assert len(sessions(k, port)) == 2 * n
    summ = [r for r in k.records("summary") if r["module"] == "tcp"]
    assert summ and sum(r["closed"] for r in summ) >= 2 * n, summ
    assert sum(r["sent_bytes"] for r in summ) >= 20 * n


@pytest.mark.parametrize("hooks", ["fentry", "tp_btf", "raw_tp", "tp"])
def test_each_hook_family(net, kernel_hooks, hooks):
    """Every alternative gives the same exact sessions and owners: of the state changes
    (tp_btf, raw_tp, tp), and of the accepts (fexit on inet_csk_accept with fentry, the
    dispatcher on the others)."""
    if hooks == "fentry" and not kernel_hooks.usable("tcplife", "fentry"):
        pytest.skip("this kernel refuses fentry: test_fentry_refused_here")
    port = PORT
    # an accept() already waiting when ksight starts is missed by the classic tracepoints'
    # dispatcher (they carry no arguments: a call runs only if its entry was seen); fentry
    # sees it at sys_exit (the fexit program misses it: tcp_late.bpf.h), the raw_tp and
    # tp_btf dispatcher at its exit as any other
    k, cli, srv, cres, sres, wall = exchange(net, "ipv4", port, 3, 5000, 7000,
                                             ["--port", port, "--hooks", hooks],
                                             ksight_first=hooks == "tp")
    recs = sessions(k, port)
    # .get: a session without its owner shows as None beside the others, not a KeyError
    got = sorted((r["side"], r.get("pid"), r["tx_bytes"], r["rx_bytes"]) for r in recs)
    assert got == sorted([("client", cli.pid, 5000, 7000)] * 3 +
                         [("server", srv.pid, 7000, 5000)] * 3), recs
    assert_no_loss(k)


# accept and accept4 by architecture (asm/unistd.h)
ACCEPTS = {"x86_64": (43, 288), "aarch64": (202, 242)}


def in_accept(pid):
    """Whether process @pid (one thread) waits in accept() or accept4() now."""
    with open("/proc/%d/syscall" % pid) as f:
        nr = f.read().split()[0]
    return nr.isdigit() and int(nr) in ACCEPTS[os.uname().machine]


def sys_exit_links(pid):
    """How many of process @pid's BPF links are on the sys_exit tracepoint (their fdinfo's
    tp_name: a tp_btf or raw_tp link)."""
    n = 0
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                n += "tp_name:\tsys_exit\n" in f.read()
        except OSError:
            pass        # closed meanwhile
    return n


@pytest.mark.kernels
def test_waiting_accept_watched_until_it_returns(net, kernel_hooks):
    """With fentry, the server's accept() waiting when ksight starts is watched at sys_exit
    (tcp_late.bpf.h), and only until it returned: one link on sys_exit more while it waits
    than once the sessions closed. Both sessions are the server's, the first by that watch,
    the second by the fexit program."""
    if not kernel_hooks.usable("tcplife", "fentry"):
        pytest.skip("this kernel refuses fentry: the dispatcher sees every accept's exit")
    port, n = PORT + 8, 2
    srv = server(net, "ipv4", port, n, 300)
    cli = client(net, "ipv4", port, n, 700)
    try:
        deadline = time.time() + 10 * SLOW
        while not in_accept(srv.pid) and time.time() < deadline:
            time.sleep(0.02)
        assert in_accept(srv.pid), "the server does not wait in accept()"
        k = tcplife(["--port", port, "--hooks", "fentry"])
    except BaseException:
        cli.kill()
        srv.kill()
        raise
    try:
        waiting = sys_exit_links(k.proc.pid)
        cli.go()
        assert result(cli)[:2] == [700 * n, 300 * n] and result(srv) == [700 * n, 300 * n]
        wait_sessions(k, port, 2 * n)
        deadline = time.time() + 5 * SLOW
        while sys_exit_links(k.proc.pid) != waiting - 1 and time.time() < deadline:
            time.sleep(0.05)
        after = sys_exit_links(k.proc.pid)
    finally:
        cli.kill()
        srv.kill()
        assert k.stop() == 0, k.stderr
    assert waiting - after == 1, (waiting, after)
    got = sorted((r["side"], r.get("pid"), r["tx_bytes"], r["rx_bytes"])
                 for r in sessions(k, port))
    assert got == sorted([("client", cli.pid, 700, 300)] * n +
                         [("server", srv.pid, 300, 700)] * n), got


def test_fentry_refused_here(kernel_hooks):
    if kernel_hooks.usable("tcplife", "fentry"):
        pytest.skip("this kernel allows fentry")
    r = run_ksight(["tcplife", "--hooks", "fentry", "--duration", "1"])
    assert r.returncode == 1 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "fentry" in r.stderr, r.stderr


@pytest.mark.parametrize("args,word", [
    (["--port", "0"], "--port"),
    (["--port", "70000"], "--port"),
    (["--port", "http"], "--port"),
    (["--addr", "10.0.0"], "--addr"),
    (["--addr", "fd00::1::2"], "--addr"),
    (["-4", "-6"], "-4"),
    (["-6", "--addr", "10.0.0.1"], "--addr"),
    (["--bogus"], "--bogus"),
    (["1"], "interval"),
])
def test_bad_input(args, word):
    r = run_ksight(["tcplife"] + args)
    assert r.returncode == 2 and r.stdout == "", r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], r.stderr
