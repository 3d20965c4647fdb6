# SPDX-License-Identifier: GPL-2.0
"""The web UI (docs/ui.md): its files are served from the binary with their types and
ETags, and Debian's chromium, driven by Playwright (tests/ui/drive.js), shows on the
overview the programs and loss counters /metrics has, and an events count that a
workload of N opens moves by at least N; a client and a server in cgroups of the test's
own make N connections, and the server's page (reached from the map and the services
list) shows exactly that edge in, with its run-queue latency histogram and rates; the map
diff across the workload's start lists the new edge; a remote endpoint that a DNS answer
named shows that name beside its address on the map, the service page and the diff; an
exec the test makes from a copy of true in /tmp shows in the alerts view with guard's rule, its parent and coverage.
Screenshots go to build/test-artifacts/ui/."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from attach_util import Cgroup
from conftest import KSIGHT, ROOT, SLOW, UNIQ, Helper, Ksight, free_port
from tcp_util import PORT, net  # noqa: F401 (net: a fixture)
from test_map import units  # noqa: F401 (a fixture: two cgroups named like units)
from test_map_dns import SERVERS, WEB, remote

BUILD = os.path.dirname(os.path.abspath(KSIGHT))
NODE_MODULES = os.path.join(BUILD, "tests", "ui", "node_modules")
DRIVER = os.path.join(ROOT, "tests", "ui", "drive.js")
ARTIFACTS = os.path.join(BUILD, "test-artifacts", "ui")
CHROMIUM = "/usr/bin/chromium"


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10 * SLOW) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def metrics(port):
    status, _, body = get("http://127.0.0.1:%d/metrics" % port)
    assert status == 200
    return [s for fam in text_string_to_metric_families(body.decode()) for s in fam.samples]


@pytest.fixture
def agent():
    port = free_port()
    k = Ksight(["run", "--modules", "open,exec", "--bpf-stats",
                "--listen", "127.0.0.1:%d" % port, "1"])
    try:
        k.wait_ready()
        yield port
    finally:
        k.stop()


def test_files_served_from_the_binary(agent):
    """/ is index.html, /ui/NAME the rest, byte for byte what the build embedded, each
    with its type, an ETag (304 when the browser has it) and no-cache; others are 404."""
    base = "http://127.0.0.1:%d" % agent
    status, h, body = get(base + "/")
    assert status == 200 and h["Content-Type"] == "text/html; charset=utf-8"
    with open(os.path.join(ROOT, "web", "index.html"), "rb") as f:
        assert body == f.read()
    etag = h["ETag"]
    assert etag and etag.startswith('"') and h["Cache-Control"] == "no-cache"
    status, h, body = get(base + "/", {"If-None-Match": etag})
    assert status == 304 and body == b"" and h["ETag"] == etag
    assert get(base + "/", {"If-None-Match": '"other"'})[0] == 200
    lib = os.path.join(BUILD, "web", "node_modules")
    ours = [(n, os.path.join(ROOT, "web", n), "text/javascript; charset=utf-8") for n in
            ("ui.js", "common.js", "map.js", "histogram.js", "service.js", "diff.js",
              "events.js", "alerts.js", "overhead.js")]
    for name, path, ctype in ours + [
            ("ui.css", os.path.join(ROOT, "web", "ui.css"), "text/css; charset=utf-8"),
            ("cytoscape.min.js", os.path.join(lib, "cytoscape", "dist", "cytoscape.min.js"),
             "text/javascript; charset=utf-8"),
            ("uPlot.iife.min.js", os.path.join(lib, "uplot", "dist", "uPlot.iife.min.js"),
             "text/javascript; charset=utf-8")]:
        status, h, body = get(base + "/ui/" + name)
        with open(path, "rb") as f:
            assert (status, h["Content-Type"], body) == (200, ctype, f.read()), name
    for bad in ("/ui/", "/ui/nope.js", "/ui/../metrics", "/index.html", "/ui/ui.js/x"):
        assert get(base + bad)[0] == 404, bad
    assert get(base + "/metrics")[0] == 200


def test_npm_unreachable_is_one_line(tmp_path):
    """Without its registry the build's npm step fails with one line saying so."""
    env = dict(os.environ, npm_config_registry="http://127.0.0.1:9/",
               npm_config_cache=str(tmp_path / "cache"))
    r = subprocess.run([os.path.join(ROOT, "scripts", "npm-vendor.sh"),
                        os.path.join(ROOT, "web"), str(tmp_path / "web")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                       timeout=120)
    assert r.returncode == 1 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert "npm cannot reach its registry http://127.0.0.1:9/" in r.stderr


class Browser:
    def __init__(self, url):
        if not os.path.exists(CHROMIUM) or not shutil.which("node"):
            pytest.fail("chromium or node missing: make deps installs them")
        assert os.path.isdir(os.path.join(NODE_MODULES, "playwright-core")), \
            "no playwright-core in %s: make helpers installs it" % NODE_MODULES
        os.makedirs(ARTIFACTS, exist_ok=True)
        env = dict(os.environ, NODE_MODULES=NODE_MODULES, CHROMIUM=CHROMIUM,
                   PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
        self.proc = subprocess.Popen(["node", DRIVER, url, ARTIFACTS], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env)

    def do(self, cmd, **kw):
        kw["cmd"] = cmd
        kw.setdefault("timeout", 30 * SLOW)
        self.proc.stdin.write(json.dumps(kw) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the driver ended (rc %s)" % self.proc.poll()
        out = json.loads(line)
        assert out["ok"], "%s: %s" % (cmd, out.get("error"))
        assert not out["errors"], out["errors"]
        return out

    def close(self):
        if self.proc.poll() is None:
            try:
                self.do("close")
                self.proc.wait(timeout=30)
            except Exception:
                self.proc.kill()
                self.proc.wait()


def test_overview_in_chromium(agent, workdir):
    """The overview lists exactly the programs /metrics has, every loss counter of
    /metrics at 0, ns per run from two pages, and its events count grows by at least the
    N opens a helper makes."""
    n, comm = 3000, "kui%s" % UNIQ
    base = "http://127.0.0.1:%d" % agent
    b = Browser(base + "/")
    try:
        assert b.do("open")["title"] == "ksight"
        before = b.do("overview", pages=2)
        got = metrics(agent)
        progs = {(s.labels["module"], s.labels["program"]) for s in got
                 if s.name == "ksight_bpf_prog_runs_total"}
        assert progs and {p["module"] for p in before["programs"]} >= {"open", "exec"}
        assert {(p["module"], p["program"]) for p in before["programs"]} == progs
        lost = {s.labels["type"] for s in got if s.name == "ksight_events_lost_total"}
        shown = {r["labels"].split("=", 1)[1] for r in before["losses"]
                 if r["metric"] == "ksight_events_lost_total"}
        assert lost and shown == lost
        assert all(r["value"] == 0 and r["shown"] == "0" for r in before["losses"]
                   if r["metric"] == "ksight_events_lost_total"), before["losses"]
        assert before["lost"] == 0

        h = Helper("opener", "-c", comm, workdir, n)
        h.go()
        assert h.result() == ["done", str(n // 2), str(n // 2)]
        after = b.do("wait_events", min=before["events"] + n)
        assert after["events"] - before["events"] >= n, (before["events"], after["events"])
        assert after["types"]["open"] - before["types"]["open"] >= n
        # the page shows what the agent counted: never more than /metrics has now
        now = sum(s.value for s in metrics(agent) if s.name == "ksight_events_total")
        assert after["events"] <= now
        # the opens ran the programs (each open at least one run), and a program that
        # ran in the last interval has its cost per run, one that did not none
        runs = lambda st: sum(p["runs"] for p in st["programs"])
        assert runs(after) - runs(before) >= n
        costs = [p["ns"] for p in after["programs"] if p["ns"] is not None]
        assert costs and all(0 < ns < 1e7 for ns in costs), after["programs"]
        assert all(p["cells"][4] == "–" for p in after["programs"] if p["runs"] == 0)
        assert after["lost"] == 0
        assert after["libs"] == {"cytoscape": "function", "uPlot": "function"}
        assert after["chart"]
        b.do("screenshot", name="overview")

        # this agent has no store: the map's views say their endpoint is missing; the
        # stream is there, and without guard no alert comes
        for view, api in (("map", "/api/map"), ("services", "/api/map"),
                          ("diff", "/api/map"), ("events", "/api/events"),
                          ("alerts", "/api/events")):
            state = b.do("view", name=view)
            if get(base + api)[0] == 404 if "map" in api else api_missing(base + api):
                assert state["state"] == "missing", state
                assert "not available in this agent" in state["text"] or \
                    "answered 404" in state["text"], state
            elif view == "alerts":
                assert state["state"] == "empty" and "No alert" in state["text"], state
            elif view == "events":
                # the stream is open; its first record makes the note "ok"
                assert state["state"] in ("empty", "ok"), state
            else:
                assert state["state"] == "ok", state
            b.do("screenshot", name=view + ("-missing" if state["state"] == "missing" else ""))
        # a service's page: no store, no map: said with the agent's reason
        if get(base + "/api/services/open")[0] == 404:
            page = b.do("service", name="open")
            assert page["state"] == "missing" and "answered 404" in page["text"], page
            b.do("screenshot", name="service-missing")
    finally:
        b.close()


N = 6


class Unit(Cgroup):
    """A cgroup v2 directory named like a systemd service unit: its processes' service."""

    def __init__(self, role):
        super().__init__("ksui-%s-%s.service" % (role, UNIQ))
        self.name = self.rel


def api_json(base, path):
    status, _, body = get(base + path)
    return status, json.loads(body) if body else None


def workload(cli, srv, port, n):
    """@n connections from a client in unit @cli to a server in unit @srv on @port."""
    s = Helper("tcpio", "server", "127.0.0.1", port, n, 211)
    c = Helper("tcpio", "client", "127.0.0.1", port, n, 1009)
    try:
        srv.add(s.pid)
        cli.add(c.pid)
        c.go()
        assert c.result()[0] == str(n * 1009) and s.result()[0] == str(n * 1009)
    finally:
        c.kill()
        s.kill()


def test_service_page_and_map_diff_in_chromium(tmp_path):
    """N connections from a client unit to a server unit: the server's page, opened by a
    click on its node in the map and listed among the services, shows exactly that edge
    in (N connections, nothing out), a run-queue latency histogram whose bars add up to
    the agent's count for the service, the rates chart, the modules not running as
    absent, and the timeline's intervals holding the N sessions ("off" for the modules
    not running); the diff across the workload's start lists the edge as appeared."""
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    cli, srv = Unit("cli"), Unit("srv")
    k = Ksight(["run", "--modules", "tcplife,runqlat", "--listen", "127.0.0.1:%d" % port,
                "--store", str(tmp_path / "k.db"), "1"])
    b = None
    try:
        k.wait_ready()
        t_start = time.time()
        workload(cli, srv, PORT + 9, N)
        # the store has the sessions about a second after they closed, the registry at
        # the interval's end: both, before the page opens (its rates start from there)
        closed = 'ksight_tcp_sessions_closed_total{service="%s"}' % srv.name
        deadline = time.time() + 20 * SLOW
        while True:
            st, m = api_json(base, "/api/map")
            mine = [e for e in m["edges"] if e["port"] == PORT + 9] if st == 200 else []
            st, sv = api_json(base, "/api/services/" + srv.name)
            done = st == 200 and sv["metrics"].get(closed) == N
            if mine and mine[0]["connections"] >= N and done or time.time() > deadline:
                break
            time.sleep(0.2)
        assert [(e["client"], e["server"], e["connections"]) for e in mine] == \
            [(cli.name, srv.name, N)], mine

        b = Browser(base + "/")
        b.do("open")
        listed = b.do("services", name=srv.name)
        assert listed["state"] == "ok" and {cli.name, srv.name} <= set(listed["services"])
        assert listed["link"] == "#service/" + srv.name
        b.do("screenshot", name="services")
        assert b.do("view", name="map")["state"] == "ok"
        b.do("screenshot", name="map")
        assert b.do("click_node", name=srv.name)["hash"] == "#service/" + srv.name
        page = b.do("service", client=cli.name)
        assert page["state"] == "ok", page
        assert page["edges_in"] == [{"client": cli.name, "server": srv.name, "kind": "tcp",
                                     "port": PORT + 9, "connections": N, "client_dns": None,
                                     "server_dns": None, "cells": [cli.name, srv.name]}], page
        assert page["edges_out"] == []
        # the histogram as the agent counts it for the service (its last interval's page)
        st, api = api_json(base, "/api/services/" + srv.name)
        count = api["metrics"]['ksight_runqlat_seconds_count{service="%s"}' % srv.name]
        hs = [h for h in page["histograms"] if h["family"] == "ksight_runqlat_seconds"]
        assert len(hs) == 1 and hs[0]["count"] > 0, page["histograms"]
        h = hs[0]
        # the service's processes are gone: its count no longer moves, page and API agree
        assert h["count"] == count, (h, count)
        assert sum(x["n"] for x in h["bars"]) == h["count"], h
        assert h["p50"] <= h["p90"] <= h["p99"], h
        assert max(float(x["height"].rstrip("%")) for x in h["bars"]) == 100.0
        # p50: the bound of the first bucket whose running sum reaches half the samples
        run, p50 = 0, None
        for x in h["bars"]:
            run += x["n"]
            if p50 is None and run >= (h["count"] + 1) // 2:
                p50 = x["le"]
        assert h["p50"] == p50, h
        assert page["chart"], page
        assert page["modules"]["tcplife"] == "on" and page["modules"]["runqlat"] == "on"
        assert page["modules"]["mem"] == "off" and page["modules"]["biotop"] == "off"
        # the timeline: the N sessions closed in its intervals, req, rw and biotop off
        tl = page["timeline"]
        assert tl and all(r["off"] == "req,rw,biotop" for r in tl), tl
        assert all(r["cells"]["requests.served"] == "off" for r in tl), tl
        assert sum(int(r["cells"]["tcp.connections"]) for r in tl) == N, tl
        assert all(r["cells"]["runq.delays"].isdigit() for r in tl), tl

        # while the page is open, M more connections on another port: the rate points
        # kept since it opened add up to exactly M sessions closed, and the edge joins
        m = 4
        workload(cli, srv, PORT + 10, m)
        fam = "ksight_tcp_sessions_closed_total"
        page = b.do("service", client=cli.name, family=fam, sum=m)
        assert sum(d.get(fam) or 0 for d in page["deltas"]) == m, page["deltas"]
        assert sorted((e["port"], e["connections"]) for e in page["edges_in"]) == \
            [(PORT + 9, N), (PORT + 10, m)], page
        b.do("screenshot", name="service")

        # the diff: the last D seconds (from before the workload) against the window before
        dur = int(time.time() - t_start) + 3
        d = b.do("diff", dur="%ds" % dur)
        assert d["state"] == "ok", d
        ours = [r for r in d["rows"] if srv.name in (r["client"], r["server"]) or
                cli.name in (r["client"], r["server"])]
        assert sorted((r["change"], r["client"], r["server"], r["kind"], r["port"])
                      for r in ours) == [("appeared", cli.name, srv.name, "tcp", p)
                                         for p in (PORT + 9, PORT + 10)], d
        b.do("screenshot", name="diff")
        bad = b.do("diff", dur="soon", expect=400)
        assert bad["state"] == "error" and "not a duration" in bad["text"], bad
        gone = b.do("service", name="ksui-none-%s.service" % UNIQ)
        assert gone["state"] == "missing" and "no service" in gone["text"], gone
    finally:
        if b:
            b.close()
        k.stop()
        cli.close()
        srv.close()


def test_alerts_in_chromium():
    """An exec of a copy of true in a directory of /tmp (guard's default rule
    exec-world-writable) shows in the alerts view: its rule and severity, its parent (this
    test) and the rule's coverage, and the counts per rule and severity hold it."""
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    k = Ksight(["guard", "-o", "prometheus:127.0.0.1:%d" % port])
    d = tempfile.mkdtemp(prefix="ksight-ui-", dir="/tmp")
    b = None
    try:
        k.wait_ready()
        exe = os.path.join(d, "gtrue")
        shutil.copy("/usr/bin/true", exe)
        os.chmod(exe, 0o755)
        b = Browser(base + "/")
        b.do("open")
        state = b.do("view", name="alerts")
        assert state["state"] in ("empty", "ok"), state

        def run():
            p = subprocess.Popen([exe])
            assert p.wait() == 0
            return p.pid

        # the stream takes records from the agent's next wake-up on: exec until one shows
        deadline = time.time() + 30 * SLOW
        while True:
            got = b.do("alerts", pid=run(), timeout=2 * SLOW)
            if got["rows"] or time.time() > deadline:
                break
        assert got["rows"], got
        # from then on, each exec is there, exactly once
        pid = run()
        got = b.do("alerts", pid=pid)
        assert [(r["rule"], r["severity"], r["ppid"], r["parent"], r["path"])
                for r in got["rows"]] == [("exec-world-writable", "high", os.getpid(),
                                           "python3", os.path.realpath(exe))], got
        cells = got["rows"][0]["cells"]
        assert "gtrue (%d, uid 0)" % pid in cells[3] and "python3 (%d)" % os.getpid() in cells[3]
        assert cells[5].startswith("sees ") and len(cells[5]) > 5, cells
        counts = {(c["rule"], c["severity"]): c["count"] for c in got["counts"]}
        # every alert shown is counted under its rule and severity (while the list holds
        # them all: other programs loading BPF meanwhile raise bpf-load alerts here too)
        ours = got["rules"].count("exec-world-writable")
        if len(got["rules"]) < 500:
            assert counts[("exec-world-writable", "high")] == ours >= 2, (counts, got["rules"])
            assert sum(counts.values()) == len(got["rules"])
        else:
            assert counts[("exec-world-writable", "high")] >= ours >= 1, counts
        assert got["state"] == "ok", got
        b.do("screenshot", name="alerts")
    finally:
        if b:
            b.close()
        k.stop()
        shutil.rmtree(d, ignore_errors=True)


# The client of test_remote_dns_names_in_chromium, in its own mount namespace (resolv.conf
# bind-mounted) and the unit's cgroup: one connection to ADDR:P0 (the agent learns the
# cgroup), then WEB resolved and N connections to what it gave on P2; prints that address.
DNS_CLIENT = r"""
import socket, sys, time
a4, p0, p2, n, settle = sys.argv[1:]

def conn(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect((addr, int(port)))
    s.sendall(b"x" * 100)
    s.close()

sys.stdin.readline()
conn(a4, p0)
time.sleep(float(settle))
w = socket.getaddrinfo(%r, int(p2), socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
for _ in range(int(n)):
    conn(w, p2)
print(w, flush=True)
""" % WEB


# Not on the kernel matrix: the guests get the binaries, not the browser driver (the
# agent's DNS capture is on the matrix through test_map_dns.py)
def test_remote_dns_names_in_chromium(tmp_path, units, net):
    """A client unit resolves web.ksight.test with the C library's resolver from a DNS
    server of test_map_dns's in a network namespace and makes 3 connections to the address
    it gave (and one before, to the same address on another port). The agent watches the
    client's cgroup: the servers are remote nodes. On the map the named node's label is
    "web.ksight.test (ADDR:PORT)" and the other's its ADDR:PORT alone; the client's page
    lists its edges out with the name beside each named end (the TCP server's and the
    resolver's ADDR:53), none beside the other; the diff shows the name too."""
    n, a4 = 3, net.ip4[1]
    p0, p2, p6 = PORT + 13, PORT + 15, PORT + 14
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver %s\noptions attempts:2 timeout:%d\n" % (a4, min(30, 5 * SLOW)))
    srv = subprocess.Popen(["ip", "netns", "exec", net.ns, sys.executable, "-c", SERVERS, a4,
                            net.ip6[1], "%d,%d" % (p0, p2), str(p6)],
                           stdout=subprocess.PIPE, text=True)
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    k = cli = b = None
    named, plain, dns53 = remote(a4, p2), remote(a4, p0), remote(a4, 53)
    try:
        assert srv.stdout.readline().strip() == "ready"
        k = Ksight(["run", "--modules", "tcplife,udp", "--listen", "127.0.0.1:%d" % port,
                    "--store", str(tmp_path / "k.db"), "--cgroup", units[0].path, "1"])
        k.wait_ready()
        cli = subprocess.Popen(["unshare", "-m", "sh", "-c",
                                'mount --bind "$0" /etc/resolv.conf && exec "$@"', str(conf),
                                sys.executable, "-c", DNS_CLIENT, a4, str(p0), str(p2), str(n),
                                str(2 * SLOW)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        units[0].add(cli.pid)      # unshare and sh exec: the pid stays python's
        out, _ = cli.communicate("go\n", timeout=60 * SLOW)
        assert cli.returncode == 0 and out.split() == [a4], out
        deadline = time.time() + 20 * SLOW
        while True:
            st, m = api_json(base, "/api/map")
            nodes = {x["name"]: x for x in m["nodes"]} if st == 200 else {}
            if all(x in nodes and nodes[x]["dns"] == WEB for x in (named, dns53)) and \
                    plain in nodes or time.time() > deadline:
                break
            time.sleep(0.3)
        assert (nodes[named]["dns"], nodes[dns53]["dns"], nodes[plain]["dns"]) == \
            (WEB, WEB, None), m
        edges = {(e["server"], e["kind"]): e for e in m["edges"] if e["client"] == units[0].name}
        assert edges[(named, "tcp")]["connections"] == n, m

        b = Browser(base + "/")
        b.do("open")
        got = b.do("map_node", id=named)
        assert (got["label"], got["drawn"], got["kind"], got["dns"]) == \
            ("%s (%s)" % (WEB, named), "%s (%s)" % (WEB, named), "remote", WEB), got
        got = b.do("map_node", id=plain)
        assert (got["label"], got["drawn"], got["dns"]) == (plain, plain, ""), got
        b.do("screenshot", name="map-dns")

        page = b.do("service", name=units[0].name, server=named)
        assert page["state"] == "ok", page
        outs = {(e["server"], e["kind"]): e for e in page["edges_out"]}
        assert set(outs) == {(named, "tcp"), (plain, "tcp"), (dns53, "udp")}, page
        assert outs[(named, "tcp")]["connections"] == n, page
        assert [(outs[e]["server_dns"], outs[e]["cells"][1]) for e in
                ((named, "tcp"), (dns53, "udp"), (plain, "tcp"))] == \
            [(WEB, "%s (%s)" % (WEB, named)), (WEB, "%s (%s)" % (WEB, dns53)), (None, plain)]
        assert all(e["client_dns"] is None and e["cells"][0] == units[0].name
                   for e in page["edges_out"]), page
        b.do("screenshot", name="service-dns")

        d = b.do("diff", dur="1m", since="10m")
        rows = {(r["server"], r["kind"]): r["cells"] for r in d["rows"]
                if r["client"] == units[0].name}
        assert rows[(named, "tcp")][2] == "%s (%s)" % (WEB, named), d
        assert rows[(plain, "tcp")][2] == plain, d
    finally:
        if b:
            b.close()
        if cli and cli.poll() is None:
            cli.kill()
        srv.kill()
        srv.wait()
        if k:
            k.stop()


def api_missing(url):
    """Whether an SSE endpoint answers 404 (its stream is not read)."""
    req = urllib.request.Request(url)
    try:
        with urllib.request.urlopen(req, timeout=10 * SLOW):
            return False
    except urllib.error.HTTPError as e:
        return e.code == 404
