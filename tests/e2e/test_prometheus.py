# SPDX-License-Identifier: GPL-2.0
"""The agent's Prometheus endpoint (ksight run --listen): the page parses with the
Prometheus client library's own parser, its counts are exact, it answers only GET
/metrics, and bad, busy and default addresses are each handled as documented."""
import errno
import os
import socket
import time
import urllib.error
import urllib.request

import pytest

from conftest import SLOW, UNIQ, Helper, Ksight, free_port, prom_samples, run_ksight

DEFAULT_PORT = 9464


def get(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10 * SLOW) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def scrape_until(url, pred, timeout=15):
    deadline = time.time() + timeout * SLOW
    while True:
        status, _, body = get(url)
        assert status == 200, body
        got = prom_samples(body)
        if pred(got) or time.time() > deadline:
            return body, got
        time.sleep(0.2)


def test_metrics_exact_and_parsable(workdir):
    """A process of a unique name opens n files (half of them fail): the page shows its
    opens and the failures exactly, no event lost, and parses as Prometheus text."""
    n, comm, port = 2000, "kp%s" % UNIQ, free_port()
    url = "http://127.0.0.1:%d/metrics" % port
    h = Helper("opener", "-c", comm, workdir, n)
    k = None
    try:
        k = Ksight(["run", "--modules", "open", "--listen", "127.0.0.1:%d" % port,
                    "-p", str(h.pid), "1"])
        k.wait_ready()
        status, ctype, body = get(url)
        assert status == 200 and ctype.startswith("text/plain; version=0.0.4"), (ctype, body)
        h.go()
        h.result()
        key = ("ksight_open_calls_total", frozenset({("comm", comm)}))
        body, got = scrape_until(url, lambda g: g.get(key) == n)
        assert got.get(key) == n, body
        assert got[("ksight_open_errors_total", frozenset())] == n // 2, body
        lost = {k_: v for k_, v in got.items() if k_[0] == "ksight_events_lost_total"}
        assert lost and all(v == 0 for v in lost.values()), body
        # every HELP is followed by its TYPE and samples of that family only
        assert "# TYPE ksight_open_calls_total counter" in body
        assert get("http://127.0.0.1:%d/other" % port)[0] == 404
        assert get(url, "POST")[0] == 405
        assert get(url, "HEAD")[0] == 200
    finally:
        h.kill()
        if k:
            assert k.stop() == 0, k.stderr
    # the port is free again once the agent is gone (SO_REUSEADDR: the scrapes' closed
    # connections may wait in TIME_WAIT, a listening socket would still refuse the bind)
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()


def test_healthz_says_when_an_interval_ended():
    """/healthz: 503 "starting" until the first interval ends, then 200 with how many
    have ended and how long ago the last did."""
    port = free_port()
    url = "http://127.0.0.1:%d/healthz" % port
    k = Ksight(["run", "--modules", "open", "--listen", "127.0.0.1:%d" % port, "3"])
    try:
        k.wait_ready()
        status, ctype, body = get(url)
        assert (status, body) == (503, "starting: no interval has ended yet\n")
        assert ctype.startswith("text/plain")
        deadline = time.time() + 10 * SLOW
        while status != 200 and time.time() < deadline:
            time.sleep(0.2)
            status, _, body = get(url)
        assert status == 200, body
        words = body.split()
        assert words[0] == "ok:" and int(words[1]) >= 1 and words[2] == "intervals,", body
        assert 0 <= float(words[-3]) < 4 * SLOW, body
        assert "/healthz" in get("http://127.0.0.1:%d/other" % port)[2]
    finally:
        assert k.stop() == 0, k.stderr


@pytest.mark.parametrize("addr,needle", [
    ("9464", "not HOST:PORT"),
    (":9464", "no host"),
    ("127.0.0.1:0", "not 1-65535"),
    ("127.0.0.1:http", "bad port"),
    ("[::1:9464", "brackets"),
])
def test_listen_bad_address(addr, needle):
    r = run_ksight(["run", "--listen", addr])
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and addr in lines[0], r.stderr
    r = run_ksight(["open", "-o", "prometheus:" + addr])
    assert r.returncode == 2 and needle in r.stderr, r.stderr
    r = run_ksight(["open", "-o", "prometheus"])
    assert r.returncode == 2 and "needs an address" in r.stderr, r.stderr


def test_listen_busy_is_an_error():
    """An address asked for that is in use stops the start, naming it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        addr = "127.0.0.1:%d" % s.getsockname()[1]
        r = run_ksight(["run", "--modules", "open", "--listen", addr, "--duration", "1"])
    assert r.returncode == 1, r.stderr
    assert "--listen %s" % addr in r.stderr and "in use" in r.stderr, r.stderr


def test_default_busy_is_a_warning():
    """The default address in use (another agent, another exporter) is said in one line
    and the agent runs on without the endpoint."""
    s = socket.socket()
    try:
        try:
            s.bind(("127.0.0.1", DEFAULT_PORT))
            s.listen()
        except OSError as e:
            assert e.errno == errno.EADDRINUSE   # busy already: the case under test
        r = run_ksight(["run", "--modules", "open", "--duration", "1"])
    finally:
        s.close()
    assert r.returncode == 0, r.stderr
    warn = [l for l in r.stderr.splitlines() if "127.0.0.1:%d is in use" % DEFAULT_PORT in l]
    assert len(warn) == 1 and "--listen" in warn[0], r.stderr


def test_listen_none():
    """--listen none serves nothing: the default port stays free of ksight."""
    k = Ksight(["run", "--modules", "open", "--listen", "none", "1"])
    try:
        k.wait_ready()
        with open("/proc/%d/net/tcp" % k.proc.pid) as f:
            listening = [l for l in f.read().splitlines()[1:] if l.split()[3] == "0A"]
        inodes = {l.split()[9] for l in listening}
        fds = os.listdir("/proc/%d/fd" % k.proc.pid)
        socks = set()
        for fd in fds:
            try:
                t = os.readlink("/proc/%d/fd/%s" % (k.proc.pid, fd))
            except OSError:
                continue
            if t.startswith("socket:["):
                socks.add(t[8:-1])
        assert not socks & inodes, "ksight listens on a TCP port"
    finally:
        assert k.stop() == 0, k.stderr
