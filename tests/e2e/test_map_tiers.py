# SPDX-License-Identifier: GPL-2.0
"""The map of a three-tier workload (docs/map.md): a client -> a small HTTP server ->
Debian's redis-server and PostgreSQL, each tier in a cgroup of its own named like a
systemd unit. The client makes N HTTP requests, each on a connection of its own; for
each, the web tier opens a connection to redis (one PING) and runs psql (one connection
to PostgreSQL). `ksight map --json` from the agent's store holds exactly the three edges
client -> web -> {redis, postgres}, each seen at both ends with N connections, the client's
and redis' bytes exact; with the req module on, the requests on them (the client's N
HTTP requests on client -> web, the web tier's N redis PINGs on web -> redis, none
failed, their latency percentiles); and `--diff` across the start of the workload lists
exactly these three as appeared.

The web tier's file and disk I/O on the right service (rw and biotop in the agent too):
per request it writes and reads back FW bytes of a file of its own, and with O_DIRECT
writes DW bytes to and reads DR bytes from a loop device the test made (open all along:
no udev probe of a closed device). The web service's biotop series on that disk are
exactly the growth of /sys/block/LOOP/stat, no other service has one on it; its rw bytes
(files, pipes and sockets together, per service) hold the file's: written exactly, read
within a stated bound (psql's own reads of its libraries and config)."""
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from attach_util import Cgroup, cgroup2_root
from conftest import SLOW, UNIQ, Ksight, free_port, prom_samples, run_ksight
from test_bio import disk_stat, loopdev  # noqa: F401 (fixture)
from test_req import Redis, pg_bin, postgres, redis  # noqa: F401 (fixtures)

N = 8
PING = b"*1\r\n$4\r\nPING\r\n"
PONG = b"+PONG\r\n"

# The web tier: GET / writes FW bytes at the next offset of its own file and reads them
# back, writes DW bytes to and reads DR bytes from its loop device with O_DIRECT (the next
# blocks: each one request), then answers after a redis PING (a connection of its own)
# and a psql query (another); argv: port, redis port, postgres port, psql path, device,
# file. Its file and device are open from the start. Prints "ready" (READY).
FW, DW, DR = 65536, 4096, 8192
PSQL_OUT = b"42\n"
READY = b"ready\n"
WEB = r"""
import http.server, mmap, os, socket, subprocess, sys
port, rport, pport, psql = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
dev = os.open(sys.argv[5], os.O_RDWR | os.O_DIRECT)
own = os.open(sys.argv[6], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
wbuf, rbuf = mmap.mmap(-1, %d), mmap.mmap(-1, %d)
wbuf.write(b"w" * %d)
data = b"f" * %d
n = 0
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global n
        assert os.pwrite(own, data, n * len(data)) == len(data)
        assert os.pread(own, len(data), n * len(data)) == data
        assert os.pwritev(dev, [wbuf], n * len(wbuf)) == len(wbuf)
        assert os.preadv(dev, [rbuf], (8 << 20) + n * len(rbuf)) == len(rbuf)
        n += 1
        with socket.create_connection(("127.0.0.1", rport)) as r:
            r.sendall(%r)
            got = b""
            while len(got) < %d:
                got += r.recv(64)
        q = subprocess.run([psql, "-h", "127.0.0.1", "-p", pport, "-U", "postgres", "-At",
                            "-c", "select 6 * 7", "postgres"], stdout=subprocess.PIPE,
                           check=True).stdout
        assert q == %r, q
        body = got + q
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", port), H)
sys.stdout.buffer.write(%r)
sys.stdout.flush()
s.serve_forever()
""" % (DW, DR, DW, FW, PING, len(PONG), PSQL_OUT, READY)

# The client: N GETs, each on a new connection; prints bytes sent and received.
CLIENT = r"""
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
sent = got = 0
for i in range(n):
    req = b"GET / HTTP/1.0\r\nHost: web\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port)) as c:
        c.sendall(req)
        sent += len(req)
        while True:
            b = c.recv(65536)
            if not b:
                break
            got += len(b)
print(sent, got, flush=True)
"""


class Unit(Cgroup):
    def __init__(self, role):
        super().__init__("kstier-%s-%s.service" % (role, UNIQ))
        self.name = self.rel

    def evacuate(self):
        """Every process back to the root cgroup (the servers outlive the test)."""
        with open(os.path.join(self.path, "cgroup.procs")) as f:
            pids = f.read().split()
        for pid in pids:
            try:
                with open(os.path.join(cgroup2_root(), "cgroup.procs"), "w") as f:
                    f.write(pid)
            except OSError:
                pass    # gone meanwhile


def tree(pid):
    """@pid and all its descendants (from /proc's parent pids)."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += [c for c, pp in parent.items() if pp == p]
    return out


def listener_pid(port):
    """The pid of the process listening on 127.0.0.1:@port (ss, a reference)."""
    text = subprocess.run(["ss", "-Hltnp", "sport = :%d" % port], stdout=subprocess.PIPE,
                          text=True, check=True).stdout
    return int(text.split("pid=", 1)[1].split(",", 1)[0])


def started(proc):
    line = proc.stdout.readline()
    assert line.strip() == "ready", line


def settle():
    """Let udev finish probing devices (a new loop device) if it runs: its reads of the
    device would count on the disk, not on the web tier."""
    if shutil.which("udevadm"):
        subprocess.run(["udevadm", "settle", "-t", "30"], timeout=60)


def disk_counts(disk):
    """(reads, read bytes, writes, written bytes, discards, flushes) completed on @disk."""
    with open("/sys/block/%s/stat" % disk) as f:
        v = [int(x) for x in f.read().split()]
    return disk_stat(disk) + (v[11] if len(v) > 11 else 0, v[15] if len(v) > 15 else 0)


BIO = ("ksight_bio_requests_total", "ksight_bio_read_bytes_total",
       "ksight_bio_write_bytes_total")
RW = ("ksight_rw_service_read_bytes_total", "ksight_rw_service_written_bytes_total")
TCP = ("ksight_tcp_received_bytes_total", "ksight_tcp_sent_bytes_total")
# One psql run's own reads at most (its libraries' ELF headers, its config and NSS files):
# 26196 bytes a run here; less than FW, so a file's bytes counted twice or not at all
# leave the bound.
PSQL_READS = 48 << 10


def by_service(samples, disk):
    """{metric: {service: value}}: rw and tcplife per service, biotop's on @disk only."""
    out = {m: {} for m in BIO + RW + TCP}
    for (name, labels), v in samples.items():
        lab = dict(labels)
        if name in out and (name not in BIO or lab.get("disk") == disk):
            out[name][lab["service"]] = int(v)
    return out


def check_io(m, u, disk_delta, cli, cli_pid):
    """The web tier's disk I/O on the loop device exactly, and on no other service; its
    file bytes in its rw bytes (exact written, read within PSQL_READS per request); the
    client's written bytes exactly its own (a process gone by the interval's end), and by
    kind of fd (--rw-kinds) too: its socket sends, its output line, its pid into a file."""
    reads, rbytes, writes, wbytes, discards, flushes = disk_delta
    assert disk_delta == (N, N * DR, N, N * DW, 0, 0), disk_delta
    # the web tier's series on the disk, and no one else's (client, redis, postgres, the
    # rest of the machine): what the kernel counted for the disk
    assert m["ksight_bio_requests_total"] == {u["web"]: reads + writes + discards + flushes}, m
    assert m["ksight_bio_read_bytes_total"] == {u["web"]: rbytes}, m
    assert m["ksight_bio_write_bytes_total"] == {u["web"]: wbytes}, m
    web = {k: m[k].get(u["web"], 0) for k in RW + TCP}
    # written: its TCP sends, psql's answers into the pipe, the file's and the device's
    assert web["ksight_rw_service_written_bytes_total"] == \
        web["ksight_tcp_sent_bytes_total"] + N * (len(PSQL_OUT) + FW + DW), web
    # read: its TCP receives, psql's answers, the file's and the device's, and psql's
    # own reads
    base = web["ksight_tcp_received_bytes_total"] + N * (len(PSQL_OUT) + FW + DR)
    assert base <= web["ksight_rw_service_read_bytes_total"] <= base + N * PSQL_READS, \
        (web, base)
    sent, got = (int(x) for x in cli.split())
    # its requests, its output line, and its pid into cgroup.procs (Cgroup.add, run in the
    # child itself: after the move)
    assert m["ksight_rw_service_written_bytes_total"].get(u["client"]) == \
        sent + len(cli) + len(str(cli_pid)), m
    assert m["ksight_rw_service_read_bytes_total"][u["client"]] >= got, m
    return web


def test_three_tiers_exact(tmp_path, redis, postgres, loopdev):  # noqa: F811 (fixture)
    bindir, pport = postgres
    psql = os.path.join(bindir, "psql")
    if not os.path.exists(psql):
        psql = "psql"
    units = {r: Unit(r) for r in ("client", "web", "redis", "pg")}
    u = {r: units[r].name for r in units}
    disk = os.path.basename(loopdev)
    db = tmp_path / "k.db"
    web = k = None
    wport, listen = free_port(), "127.0.0.1:%d" % free_port()
    try:
        # the web tier before the agent, and one request to it: its imports, and psql's
        # libraries and files, are in the page cache then (no disk I/O of its but its own)
        web = subprocess.Popen([sys.executable, "-B", "-c", WEB, str(wport), str(redis.port),
                                str(pport), psql, loopdev, str(tmp_path / "web.data")],
                               stdout=subprocess.PIPE, text=True,
                               preexec_fn=lambda: units["web"].add(os.getpid()))
        started(web)
        with urllib.request.urlopen("http://127.0.0.1:%d/" % wport, timeout=60) as h:
            assert h.read() == PONG + PSQL_OUT
        settle()
        k = Ksight(["run", "--modules", "tcplife,req,rw,biotop", "--rw-kinds", "--listen",
                    listen, "--store", str(db), "1"])
        k.wait_ready()
        t_agent = time.time()
        units["redis"].add(redis.pid)
        for p in tree(listener_pid(int(pport))):
            units["pg"].add(p)
        time.sleep(1.5)     # the diff's "before" part: nothing of the tiers
        t_work = time.time()
        before = disk_counts(disk)
        cli = subprocess.Popen([sys.executable, "-B", "-c", CLIENT, str(wport), str(N)],
                               stdout=subprocess.PIPE, text=True,
                               preexec_fn=lambda: units["client"].add(os.getpid()))
        out = cli.communicate(timeout=120 * SLOW)[0]
        assert cli.returncode == 0, out
        delta = tuple(a - b for a, b in zip(disk_counts(disk), before))
        sent, got = (int(x) for x in out.split())
        time.sleep(1.5)     # the last sessions' records into the store (1 s interval)
        # the agent's /api/map: the same requests on the same edges
        with urllib.request.urlopen("http://%s/api/map?since=10m" % listen, timeout=30) as h:
            live = json.loads(h.read())
        live = {(e["client"], e["server"]): (e["requests"], e["request_errors"])
                for e in live["edges"]}
        assert live.get((units["client"].name, units["web"].name)) == (N, 0), live
        assert live.get((units["web"].name, units["redis"].name)) == (N, 0), live
        # file and disk I/O per service in the registry (/metrics), and on the web
        # tier's page (/api/services/NAME: its series as of the last interval)
        with urllib.request.urlopen("http://%s/metrics" % listen, timeout=30) as h:
            samples = prom_samples(h.read().decode())
        io = check_io(by_service(samples, disk), u, delta, out, cli.pid)
        # the client gone by the interval's end, its rows keyed by kind too (--rw-kinds):
        # each kind's row still names its service by its own first call's cgroup
        wrote = {dict(lab)["kind"]: int(v) for (name, lab), v in samples.items()
                 if name == "ksight_rw_service_kind_written_bytes_total" and
                 dict(lab)["service"] == u["client"]}
        assert wrote == {"socket": sent, "other": len(out), "file": len(str(cli.pid))}, \
            (wrote, sent, out)
        with urllib.request.urlopen("http://%s/api/services/%s" % (listen, u["web"]),
                                    timeout=30) as h:
            page = json.loads(h.read())["metrics"]
        on = '{service="%s",disk="%s"}' % (u["web"], disk)
        assert (page.get("ksight_bio_requests_total" + on),
                page.get("ksight_bio_read_bytes_total" + on),
                page.get("ksight_bio_write_bytes_total" + on)) == \
            (2 * N, N * DR, N * DW), page
        for name in RW:
            assert page['%s{service="%s"}' % (name, u["web"])] == io[name], page
        # the device stays open until now: udev probes a block device closed after a write
        web.kill()
        web.wait()
        assert k.stop() == 0, k.stderr
        k = None
        # the store: biotop's rollups per service and disk ...
        web_disks = []
        for name, want in zip(BIO, (2 * N, N * DR, N * DW)):
            r = run_ksight(["query", "metric", name, "--store", str(db), "--since", "10m",
                            "--json"])
            assert r.returncode == 0, r.stderr
            rows = [json.loads(l) for l in r.stdout.splitlines()]
            mine = [(x["labels"]["service"], x["total"]) for x in rows
                    if x["labels"].get("disk") == disk]
            assert mine == [(u["web"], want)], (name, rows)
            web_disks.append(sum(x["total"] for x in rows
                                 if x["labels"].get("service") == u["web"]))
        # ... and the web tier's timeline: its disks summed, the device's requests and
        # whatever a page-cache miss read from another disk (the root disk under memory
        # pressure: a module or a page of python's own)
        r = run_ksight(["query", "timeline", u["web"], "--store", str(db), "--since", "10m",
                        "--json"])
        assert r.returncode == 0, r.stderr
        tl = [json.loads(l) for l in r.stdout.splitlines()]

        def tsum(group, key):
            return sum(x[group][key] for x in tl if x[group])
        assert [tsum("disk", "requests"), tsum("disk", "read_bytes"),
                tsum("disk", "write_bytes")] == web_disks, (web_disks, tl)
        assert (tsum("io", "read_bytes"), tsum("io", "written_bytes")) == \
            (io[RW[0]], io[RW[1]]), (io, tl)
        assert (tsum("tcp", "received_bytes"), tsum("tcp", "sent_bytes")) == \
            (io[TCP[0]], io[TCP[1]]), (io, tl)
        r = run_ksight(["map", "--db", str(db), "--since", "10m", "--json"])
        assert r.returncode == 0, r.stderr
        m = json.loads(r.stdout)
        names = {x.name for x in units.values()}
        mine = sorted(((e["client"], e["server"], e["port"]), e) for e in m["edges"]
                      if e["client"] in names or e["server"] in names)
        assert [x[0] for x in mine] == sorted([
            (u["client"], u["web"], wport), (u["web"], u["redis"], redis.port),
            (u["web"], u["pg"], int(pport))]), json.dumps(m["edges"], indent=0)
        for _, e in mine:
            assert e["kind"] == "tcp" and e["connections"] == N, e
            assert e["seen"] == "both" and not e["resolved"] and not e["incomplete"], e
            assert e["errors"] == 0 and e["resets"] == 0, e
        edge = {x[0][1]: x[1] for x in mine}
        assert edge[u["web"]]["bytes_client_to_server"] == sent, edge[u["web"]]
        assert edge[u["web"]]["bytes_server_to_client"] == got, edge[u["web"]]
        assert edge[u["redis"]]["bytes_client_to_server"] == N * len(PING)
        assert edge[u["redis"]]["bytes_server_to_client"] == N * len(PONG)
        # the req module's rows on the edges they ran on: N each, none failed
        for srv in (u["web"], u["redis"]):
            e = edge[srv]
            assert e["requests"] == N and e["request_errors"] == 0, e
            assert e["request_p50_ns"] is not None and e["request_p99_ns"] is not None, e
            assert 0 < e["request_p50_ns"] <= e["request_p99_ns"], e
        # req_unjoined counts the whole machine's rows on no edge (another HTTP client
        # whose connection is still open, an apt download beside the test): not asked
        assert m["req_rows"] > 0, m
        # the table's REQS column says the same
        r = run_ksight(["map", "--db", str(db), "--since", "10m"])
        assert r.returncode == 0, r.stderr
        head = [l.split() for l in r.stdout.splitlines() if l.startswith("EDGE")]
        assert head and head[0][11:14] == ["REQS", "REQ", "p99"], r.stdout
        rows = [l.split() for l in r.stdout.splitlines()
                if l.startswith(u["client"] + " -> ") or l.startswith(u["web"] + " -> ")]
        reqs = {x[2]: x[10] for x in rows}
        assert reqs == {"%s:%d" % (u["web"], wport): str(N),
                        "%s:%d" % (u["redis"], redis.port): str(N),
                        "%s:%s" % (u["pg"], pport): reqs.get("%s:%s" % (u["pg"], pport))}, \
            r.stdout
        # what the map's nodes say of the web tier: N in, 2N out
        node = {n["name"]: n for n in m["nodes"]}
        assert node[u["web"]]["conns_in"] == N and node[u["web"]]["conns_out"] == 2 * N
        # --diff across the workload's start: exactly these three appeared
        now = time.time()
        since = int(now - t_agent) + 1
        diff = int(now - t_work) + 1
        assert diff < since
        r = run_ksight(["map", "--db", str(db), "--since", "%ds" % since,
                        "--diff", "%ds" % diff, "--json"])
        assert r.returncode == 0, r.stderr
        d = json.loads(r.stdout)
        appeared = sorted((c["client"], c["server"], c["port"]) for c in d["changes"]
                          if c["change"] == "appeared" and
                          (c["client"] in names or c["server"] in names))
        assert appeared == [x[0] for x in mine], d
        assert not [c for c in d["changes"] if c["change"] != "appeared" and
                    (c["client"] in names or c["server"] in names)], d
    finally:
        if web and web.poll() is None:
            web.kill()
            web.wait()
        if k:
            k.stop()
        for x in units.values():
            x.evacuate()
            x.close()
