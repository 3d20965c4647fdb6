# SPDX-License-Identifier: GPL-2.0
"""The web UI (docs/ui.md): its files are served from the binary with their types and
ETags, and Debian's chromium, driven by Playwright (tests/ui/drive.js), shows on the
overview the programs and loss counters /metrics has, and an events count that a
workload of N opens moves by at least N. Screenshots go to build/test-artifacts/ui/."""
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import KSIGHT, ROOT, SLOW, UNIQ, Helper, Ksight, free_port

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
    for name, path, ctype in (
            ("ui.js", os.path.join(ROOT, "web", "ui.js"), "text/javascript; charset=utf-8"),
            ("ui.css", os.path.join(ROOT, "web", "ui.css"), "text/css; charset=utf-8"),
            ("cytoscape.min.js", os.path.join(lib, "cytoscape", "dist", "cytoscape.min.js"),
             "text/javascript; charset=utf-8"),
            ("uPlot.iife.min.js", os.path.join(lib, "uplot", "dist", "uPlot.iife.min.js"),
             "text/javascript; charset=utf-8")):
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

        for view, api in (("map", "/api/map"), ("events", "/api/events")):
            state = b.do("view", name=view)
            if get(base + api)[0] == 404 if view == "map" else api_missing(base + api):
                assert state["state"] == "missing", state
                assert "not available in this agent" in state["text"], state
            else:
                assert state["state"] == "ok", state
            b.do("screenshot", name=view)
    finally:
        b.close()


def api_missing(url):
    """Whether an SSE endpoint answers 404 (its stream is not read)."""
    req = urllib.request.Request(url)
    try:
        with urllib.request.urlopen(req, timeout=10 * SLOW):
            return False
    except urllib.error.HTTPError as e:
        return e.code == 404
