# SPDX-License-Identifier: GPL-2.0
"""ksight tcpstates against real TCP connections across a veth pair into a namespace the
tests make (a client here, a server there: tests/e2e/helpers/tcpio.c): exactly the state
changes each socket goes through, the listener's, the client's and the accepted ones',
each with its owner where known, both ends, and the time spent in the previous state,
which must equal the time between the socket's two changes as the records stamp them."""
import calendar
import time

import pytest

from conftest import SLOW, Ksight, run_ksight
from tcp_util import PORT, client, net, result, server  # noqa: F401 (net: a fixture)

BASE = PORT + 10        # test_tcp.py and test_tcp_open.py have PORT .. PORT+9

# What tcpio's sessions go through: the client sends, shuts its side, reads to the end
# and closes (its FIN is acknowledged before the server's comes: the server answers
# only once it read to the end); the server reads to the end, answers and closes.
CLIENT = [("CLOSE", "SYN_SENT"), ("SYN_SENT", "ESTABLISHED"),
          ("ESTABLISHED", "FIN_WAIT1"), ("FIN_WAIT1", "FIN_WAIT2"), ("FIN_WAIT2", "CLOSE")]
SERVER = [("LISTEN", "SYN_RECV"), ("SYN_RECV", "ESTABLISHED"),
          ("ESTABLISHED", "CLOSE_WAIT"), ("CLOSE_WAIT", "LAST_ACK"), ("LAST_ACK", "CLOSE")]
LISTENER = [("CLOSE", "LISTEN"), ("LISTEN", "CLOSE")]


def ts_ns(ts):
    """A record's "ts" (RFC 3339, UTC, nanoseconds) as ns since the epoch, exactly."""
    date, frac = ts.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(date, "%Y-%m-%dT%H:%M:%S")) * 10**9 + int(frac)


def changes(k, port):
    return [r for r in k.records("tcpstates") if port in (r["lport"], r["rport"])]


def wait_changes(k, port, n, timeout=10):
    deadline = time.time() + timeout * SLOW
    while len(changes(k, port)) < n and time.time() < deadline:
        time.sleep(0.05)


def by_socket(recs, port):
    """{socket: [its changes in time order]}: a client socket by its local port, an
    accepted one by its peer's port, the listener as 'listener'."""
    socks = {}
    for r in recs:
        if r["side"] == "client":
            key = ("client", r["lport"])
        elif r["side"] == "server":
            key = ("server", r["rport"])
        else:
            assert r["side"] == "listener", r
            key = "listener"
        socks.setdefault(key, []).append(r)
    for v in socks.values():
        v.sort(key=lambda r: ts_ns(r["ts"]))
    return socks


@pytest.mark.parametrize("family,hooks", [("ipv4", "auto"), ("ipv6", "auto"),
                                          ("ipv4", "raw_tp"), ("ipv4", "tp"),
                                          ("ipv4", "fentry")])
def test_transitions_exact(net, kernel_hooks, family, hooks):
    """N connections: each client socket's five changes, each accepted socket's five,
    the listener's two, nothing else; owners, ends, and each time in the previous state
    equal to the time between the socket's changes."""
    if hooks == "fentry" and not kernel_hooks.usable("tcplife", "fentry"):
        pytest.skip("this kernel refuses fentry (the accept owner's fexit)")
    port, n = BASE, 5
    # started first: the listener's first change is listen(), and an accept() already
    # waiting is missed by fexit and the classic tracepoints (test_tcp.py says why)
    k = Ksight(["tcpstates", "--json", "--port", str(port), "--hooks", hooks])
    k.wait_ready()
    srv = cli = None
    try:
        t0 = time.time()
        srv = server(net, family, port, n, 10)
        cli = client(net, family, port, n, 100)
        cli.go()
        assert result(cli)[:2] == [100 * n, 10 * n] and result(srv) == [100 * n, 10 * n]
        wall_ns = int((time.time() - t0) * 1e9)
        wait_changes(k, port, 10 * n + 2)
        time.sleep(0.3)
    finally:
        for h in (cli, srv):
            if h:
                h.kill()
        assert k.stop() == 0, k.stderr
    recs = changes(k, port)
    socks = by_socket(recs, port)
    here, there = net.addrs(family)
    assert len(recs) == 10 * n + 2, recs
    assert len(socks) == 2 * n + 1, sorted(socks, key=str)
    assert [(r["old_state"], r["new_state"]) for r in socks["listener"]] == LISTENER
    for key, seq in socks.items():
        if key == "listener":
            want, owner = LISTENER, [srv.pid] * 2
            ends = (there, port, "0.0.0.0" if family == "ipv4" else "::", 0)
        elif key[0] == "client":
            want, owner = CLIENT, [cli.pid] * 5
            ends = (here, key[1], there, port)
        else:
            # accepted in the kernel before accept() returns it: no owner then; the FIN
            # may come before or after accept()
            want, owner = SERVER, [None, None, "either", srv.pid, srv.pid]
            ends = (there, port, here, key[1])
        assert [(r["old_state"], r["new_state"]) for r in seq] == want, (key, seq)
        for r, o in zip(seq, owner):
            assert (r["laddr"], r["lport"], r["raddr"], r["rport"]) == ends, r
            assert r["family"] == family
            if o is None:
                assert "pid" not in r, r
            elif o != "either" or "pid" in r:
                assert (r["pid"], r["comm"]) == (srv.pid if o == "either" else o, "tcpio"), r
        # the first change: its time in the old state is not known; each next one spent
        # exactly the time since the one before
        assert "in_old_ns" not in seq[0], seq[0]
        for prev, r in zip(seq, seq[1:]):
            assert r["in_old_ns"] == ts_ns(r["ts"]) - ts_ns(prev["ts"]), (prev, r)
            assert 0 < r["in_old_ns"] < wall_ns, (r, wall_ns)
    assert {key[1] for key in socks if key[0] == "client"} == \
        {key[1] for key in socks if key[0] == "server"}
    st = k.stats()
    assert st["lost"] == 0 and st["consistent"] is True, st


def test_pid_filter_keeps_one_owner(net):
    """-p: the changes of the sockets that process connected, and only those."""
    port, n = BASE + 1, 3
    srv = server(net, "ipv4", port, n, 1)
    cli = client(net, "ipv4", port, n, 1)
    k = Ksight(["tcpstates", "--json", "-p", str(cli.pid)])
    k.wait_ready()
    try:
        cli.go()
        result(cli), result(srv)
        wait_changes(k, port, 5 * n)
        time.sleep(0.3)
    finally:
        cli.kill()
        srv.kill()
        assert k.stop() == 0, k.stderr
    recs = k.records("tcpstates")
    assert len(recs) == 5 * n, recs
    assert all(r["pid"] == cli.pid and r["side"] == "client" and r["rport"] == port
               for r in recs), recs


@pytest.mark.parametrize("args,word", [
    (["1"], "interval"),
    (["-c"], "-c"),
    (["-P"], "-P"),
    (["-L"], "-L"),
    (["--port", "0"], "--port"),
    (["--addr", "10.1"], "--addr"),
    (["-4", "-6"], "-4"),
])
def test_bad_input(args, word):
    r = run_ksight(["tcpstates"] + args)
    assert r.returncode == 2 and r.stdout == "", r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0] and lines[0].startswith("ksight tcpstates"), \
        r.stderr
