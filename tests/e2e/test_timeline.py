# SPDX-License-Identifier: GPL-2.0
"""A service's timeline (docs/store.md, "A service's timeline"): a small HTTP server in a
cgroup of its own named like a systemd unit answers N requests, each on a connection of
its own, and for each reads 4 KiB with O_DIRECT from a loop device the test made. The
agent (tcplife, req, rw with --rw-kinds, biotop; runqlat left out) keeps a store; `ksight query timeline`
and /api/services/NAME/timeline give the server's intervals, whose sums are exact: N
requests served (none failed, a p99), N connections and their bytes each way, the
server's read and written bytes (the requests and the blocks read; the answers), and
apart by kind of fd: the file's N x 4 KiB read in N calls (half with preadv, a files-only
call, half with lseek and readv, whose kind the kernel looks up), the socket's bytes (the
requests read with read(), the answers sent), nothing on other fds; N disk requests of N x
4 KiB as /sys/block/LOOP/stat counts them, with a p99 in each interval that had some, the
highest the bound of the slowest bucket of biotop's own histograms (its bio_row events in
the store) and at least their mean; runqlat "off" in every interval. Three bursts of
requests apart in time: each burst's requests, sessions and disk reads fall in the same
interval (or the next), and --until cuts the timeline between them. Bad input: exit 2 /
4xx with one line. An agent without --rw-kinds: the split is null ("-") wherever the
server read or wrote, the disk p99 still there."""
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

from attach_util import Cgroup
from conftest import SLOW, UNIQ, Ksight, free_port, prom_samples, run_ksight
from test_bio import disk_stat, loopdev  # noqa: F401 (fixture)

BURSTS = [5, 3, 4]   # requests, each burst two intervals and more after the previous
GAPS = [4.2, 2.2]    # seconds between them
N = sum(BURSTS)
MIN_DISK_NS = 4000   # a bucket bound: a loop request waits for its worker thread (>= 2 us)
BS = 4096
REQ = b"GET /block HTTP/1.0\r\nHost: tl\r\n\r\n"
BODY = b"x" * 100
RESP = b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY

# The server: per connection, the request (read() until its blank line), 4 KiB read with
# O_DIRECT from the device at the next offset (preadv, or lseek and readv), the answer
# (send), close. Nothing else is read or
# written once "ready" is printed. argv: port, device.
SERVER = r"""
import mmap, os, socket, sys
port, dev = int(sys.argv[1]), sys.argv[2]
buf = mmap.mmap(-1, %d)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
resp = %r
print("ready", flush=True)
i = 0
while True:
    c, _ = s.accept()
    got = b""
    while b"\r\n\r\n" not in got:
        got += os.read(c.fileno(), 4096)
    fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
    if i %% 2:
        os.lseek(fd, i * %d, os.SEEK_SET)
        assert os.readv(fd, [buf]) == %d
    else:
        assert os.preadv(fd, [buf], i * %d) == %d
    os.close(fd)
    i += 1
    c.sendall(resp)
    c.close()
""" % (BS, RESP, BS, BS, BS, BS)


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as h:
            return h.status, h.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def request(port):
    with socket.create_connection(("127.0.0.1", port)) as c:
        c.sendall(REQ)
        got = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            got += b
        assert got == RESP


def runs(rows, group, key):
    """The runs of consecutive intervals where @group's @key is not 0: [(first, sum)]."""
    out, prev = [], False
    for i, r in enumerate(rows):
        v = r[group][key]
        if v and prev:
            out[-1][1] += v
        elif v:
            out.append([i, v])
        prev = bool(v)
    return out


def sums(rows, group, key):
    return sum(r[group][key] for r in rows)


def check_rows(rows, disk_delta, missed=0, by_svc=None):
    """The exact sums of the server's intervals, and runqlat off in each. @missed: the
    runs of biotop's programs the kernel skipped (a program inside itself on a CPU:
    counted in ksight_bpf_prog_missed_runs_total), each of which may cost one disk
    request; 0 keeps the disk's counts exact. @by_svc: the disk's requests by service
    (the agent's page), shown when they fall short."""
    assert rows, "no intervals"
    for r in rows:
        assert r["off"] == ["runqlat"] and r["runq"] is None, r
        for g in ("requests", "tcp", "io", "disk"):
            assert r[g] is not None, r
    assert sums(rows, "requests", "served") == N, rows
    assert sums(rows, "requests", "served_errors") == 0, rows
    assert sums(rows, "requests", "made") == 0, rows
    served = [r for r in rows if r["requests"]["served"]]
    assert all(r["requests"]["served_p99_ns"] > 0 for r in served), served
    assert sums(rows, "tcp", "connections") == N, rows
    assert sums(rows, "tcp", "received_bytes") == N * len(REQ), rows
    assert sums(rows, "tcp", "sent_bytes") == N * len(RESP), rows
    assert sums(rows, "io", "read_bytes") == N * (len(REQ) + BS), rows
    assert sums(rows, "io", "written_bytes") == N * len(RESP), rows
    # apart by kind of fd: the device's blocks, the connections' bytes, nothing else
    assert all(r["io"][k] is not None for r in rows for k in ("file", "socket", "other"))
    assert sums(rows, "io", "calls") == sum(r["io"][k]["calls"] for r in rows
                                            for k in ("file", "socket", "other")), rows
    assert [sum(r["io"]["file"][k] for r in rows) for k in
            ("calls", "read_bytes", "written_bytes")] == [N, N * BS, 0], rows
    assert [sum(r["io"]["socket"][k] for r in rows) for k in
            ("read_bytes", "written_bytes")] == [N * len(REQ), N * len(RESP)], rows
    assert sum(r["io"]["other"]["calls"] for r in rows) == 0, rows
    # disk p99: in every interval with disk requests, none without
    for r in rows:
        assert (r["disk"]["p99_ns"] is not None) == (r["disk"]["requests"] > 0), r
    reads, rbytes, writes, wbytes = disk_delta
    assert (reads, rbytes, writes, wbytes) == (N, N * BS, 0, 0), disk_delta
    ops = sums(rows, "disk", "requests")
    assert reads - missed <= ops <= reads, (ops, missed, by_svc, rows)
    assert sums(rows, "disk", "read_bytes") == ops * BS, rows
    assert sums(rows, "disk", "write_bytes") == wbytes, rows
    # in time: each burst's requests, sessions and disk reads in the same interval(s)
    req = runs(rows, "requests", "served")
    assert [x[1] for x in req] == BURSTS, rows
    for g, key in (("tcp", "connections"), ("disk", "requests")):
        got = runs(rows, g, key)
        short = missed if g == "disk" else 0
        assert len(got) == len(BURSTS) and all(b - short <= x[1] <= b for x, b in
                                               zip(got, BURSTS)), (g, rows)
        assert all(abs(a[0] - b[0]) <= 1 for a, b in zip(got, req)), (g, rows)


def bio_missed(listen, disk):
    """From the agent's page: the runs of biotop's programs the kernel skipped so far, and
    (for a failure's message) @disk's requests by service."""
    with urllib.request.urlopen("http://%s/metrics" % listen, timeout=10) as r:
        prom = prom_samples(r.read().decode())
    missed = sum(v for (name, labels), v in prom.items()
                 if name == "ksight_bpf_prog_missed_runs_total" and
                 dict(labels).get("module") == "biotop")
    by_svc = {dict(labels).get("service"): v for (name, labels), v in prom.items()
              if name == "ksight_bio_requests_total" and dict(labels).get("disk") == disk}
    return int(missed), by_svc


def check_disk_p99(rows, db, service, missed=0):
    """Against biotop's own histograms, the store's bio_row events of @service: N requests
    in them; each interval held at most 5, so its nearest-rank p99 is its slowest request's
    bucket: the highest p99 is the bound of the highest bucket of them all, and no lower than
    their mean latency (queue + service) or a request through the loop driver's worker."""
    with sqlite3.connect(str(db)) as c:
        got = [json.loads(j) for (j,) in c.execute(
            "SELECT json FROM events WHERE type = 'bio_row' AND service = ?", (service,))]
    ops = sum(g["ops"] for g in got)
    assert N - missed <= ops <= N and sum(g["hist"]["count"] for g in got) == ops, got
    top = max(b["hi"] for g in got for b in g["hist"]["buckets"])
    mean_ns = sum(g["svc_ns"] + g["queue_ns"] for g in got) / ops
    p99 = [r["disk"]["p99_ns"] for r in rows if r["disk"]["p99_ns"] is not None]
    assert max(p99) == (top + 1) * 1000, (p99, got)
    assert max(p99) >= mean_ns and min(p99) >= MIN_DISK_NS, (p99, mean_ns)
    return p99


def test_timeline_exact(tmp_path, loopdev):  # noqa: F811 (fixture)
    unit = Cgroup("kstl-web-%s.service" % UNIQ)
    disk = os.path.basename(loopdev)
    db = tmp_path / "k.db"
    port, listen = free_port(), "127.0.0.1:%d" % free_port()
    srv = k = None
    try:
        srv = subprocess.Popen([sys.executable, "-c", SERVER, str(port), loopdev],
                               stdout=subprocess.PIPE, text=True,
                               preexec_fn=lambda: unit.add(os.getpid()))
        assert srv.stdout.readline().strip() == "ready"
        k = Ksight(["run", "--modules", "tcplife,req,rw,biotop", "--rw-kinds", "--listen",
                    listen, "--store", str(db), "1"])
        k.wait_ready()
        time.sleep(1.2)
        before = disk_stat(disk)
        for i, n in enumerate(BURSTS):
            if i:
                time.sleep(GAPS[i - 1])
            for _ in range(n):
                request(port)
            if not i:
                cut = time.time() + 2.6     # the first burst's interval has ended by then
        time.sleep(0.5)
        delta = [a - b for a, b in zip(disk_stat(disk), before)]
        time.sleep(2.5 * SLOW)    # the last intervals' rows into the store
        base = "http://%s/api/services/%s/timeline" % (listen, unit.rel)
        status, body = get(base + "?since=10m")
        assert status == 200, body
        live = json.loads(body)
        assert live["service"] == unit.rel and live["from_ns"] < live["to_ns"], live
        missed, by_svc = bio_missed(listen, disk)
        check_rows(live["intervals"], delta, missed, by_svc)
        # bad input: 400 (since, until, an argument it does not take), 404 (no such service)
        for q in ("?since=forever", "?since=1m&until=2m", "?diff=1m", "?since=1m&since=2m"):
            status, body = get(base + q)
            assert status == 400 and json.loads(body)["error"], (q, body)
        status, body = get("http://%s/api/services/nosuch-%s/timeline" % (listen, UNIQ))
        assert status == 404 and b"no service" in body, body
        assert k.stop() == 0, k.stderr
        k = None
        # the query, from the store the agent left: the same sums, as JSON lines ...
        r = run_ksight(["query", "timeline", unit.rel, "--store", str(db), "--since", "10m",
                        "--json"])
        assert r.returncode == 0, r.stderr
        rows = [json.loads(l) for l in r.stdout.splitlines()]
        check_rows(rows, delta, missed)
        p99 = check_disk_p99(rows, db, unit.rel, missed)
        assert [x["ts_ns"] for x in rows] == sorted(x["ts_ns"] for x in rows)
        # ... and as a table: one line per interval, the sums of its columns, "off" for runq
        r = run_ksight(["query", "timeline", unit.rel, "--store", str(db), "--since", "10m"])
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        head = lines[0].split()
        assert head[:4] == ["TIME", "SECS", "REQ_IN", "ERR"], lines[0]
        cells = [l.split()[1:] for l in lines[1:]]   # the time is two words: TIME is its second
        assert len(cells) == len(rows), r.stdout
        col = {name: [c[i] for c in cells] for i, name in enumerate(head)}
        assert sum(int(x) for x in col["REQ_IN"]) == N, r.stdout
        assert sum(int(x) for x in col["DISK_OPS"]) == sums(rows, "disk", "requests"), r.stdout
        assert sum(int(x) for x in col["IO_READ"]) == N * (len(REQ) + BS), r.stdout
        assert sum(int(x) for x in col["FILE_RD"]) == N * BS, r.stdout
        assert sum(int(x) for x in col["SOCK_RD"]) == N * len(REQ), r.stdout
        assert sum(int(x) for x in col["SOCK_WR"]) == N * len(RESP), r.stdout
        assert sorted(int(x) for x in col["DISK_P99_US"] if x != "-") == \
            sorted(x // 1000 for x in p99), r.stdout
        assert set(col["RUNQ_N"]) == {"off"} and set(col["RUNQ_MS"]) == {"off"}, r.stdout
        # --until: a window that ends between the first burst's interval and the second
        # burst holds the first burst only
        until = int(time.time() - cut) + 1
        r = run_ksight(["query", "timeline", unit.rel, "--store", str(db), "--since", "10m",
                        "--until", "%ds" % until, "--json"])
        assert r.returncode == 0, r.stderr
        part = [json.loads(l) for l in r.stdout.splitlines()]
        assert part and part == rows[:len(part)], (part, rows)
        assert sums(part, "requests", "served") == BURSTS[0], part
        assert BURSTS[0] - missed <= sums(part, "disk", "requests") <= BURSTS[0], part
        assert sums(part, "tcp", "connections") == BURSTS[0], part
        # bad input: exit 2, one line
        for args in (["timeline"], ["timeline", "nosuch-" + UNIQ],
                     ["timeline", unit.rel, "--since", "1m", "--until", "2m"],
                     ["timeline", unit.rel, "--since", "x"], ["timeline", unit.rel, "extra"],
                     ["execs", "--until", "1m"], ["timeline", unit.rel, "--by-interval"]):
            r = run_ksight(["query"] + args + ["--store", str(db)])
            assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, (args, r.stderr)
            assert not r.stdout, (args, r.stdout)
    finally:
        if k:
            k.stop()
        if srv:
            srv.kill()
            srv.wait()
        unit.close()



def test_timeline_no_split(tmp_path, loopdev):  # noqa: F811 (fixture)
    """An agent without --rw-kinds: the reads and writes by kind are null (the table's "-")
    where the service read and wrote, never zeros; the disk p99 is there all the same."""
    unit = Cgroup("kstl-ns-%s.service" % UNIQ)
    db = tmp_path / "k.db"
    port = free_port()
    srv = k = None
    try:
        srv = subprocess.Popen([sys.executable, "-c", SERVER, str(port), loopdev],
                               stdout=subprocess.PIPE, text=True,
                               preexec_fn=lambda: unit.add(os.getpid()))
        assert srv.stdout.readline().strip() == "ready"
        k = Ksight(["run", "--modules", "rw,biotop", "--store", str(db), "1"])
        k.wait_ready()
        time.sleep(1.2)
        for _ in range(3):
            request(port)
        time.sleep(2.5 * SLOW)
        assert k.stop() == 0, k.stderr
        k = None
        r = run_ksight(["query", "timeline", unit.rel, "--store", str(db), "--since", "10m",
                        "--json"])
        assert r.returncode == 0, r.stderr
        rows = [json.loads(l) for l in r.stdout.splitlines()]
        assert all(x["off"] == ["req", "tcplife", "runqlat"] for x in rows), rows
        assert sums(rows, "io", "read_bytes") == 3 * (len(REQ) + BS), rows
        for x in rows:
            moved = x["io"]["calls"] > 0
            assert [x["io"][g] is None for g in ("file", "socket", "other")] == [moved] * 3, x
            assert (x["disk"]["p99_ns"] is not None) == (x["disk"]["requests"] > 0), x
        assert sums(rows, "disk", "requests") == 3, rows
        r = run_ksight(["query", "timeline", unit.rel, "--store", str(db), "--since", "10m"])
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        head = lines[0].split()
        cells = [dict(zip(head[1:], l.split()[2:])) for l in lines[1:]]
        got = [(c["FILE_RD"], c["SOCK_WR"]) for c in cells if c["IO_CALLS"] != "0"]
        assert got and all(g == ("-", "-") for g in got), r.stdout
    finally:
        if k:
            k.stop()
        if srv:
            srv.kill()
            srv.wait()
        unit.close()
