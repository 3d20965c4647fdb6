# SPDX-License-Identifier: GPL-2.0
"""The agent's /metrics as Prometheus itself sees it: promtool (Debian's prometheus
package, unpacked under build/prometheus by `make test`, never installed) lints the real
page without a word, and a real Prometheus server scrapes a running agent while a helper
opens files: its query API then gives back the exact number of opens, no loss, and at
least as many runs of the dispatcher's program as there were opens; and the exact bytes
of TCP sessions between a client and a server in another network namespace."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from prometheus_client.parser import text_string_to_metric_families

from conftest import KSIGHT, SLOW, UNIQ, Helper, Ksight, bpf_ids, bpftool_json, free_port
from tcp_util import PORT, client, net, result, server  # noqa: F401 (net: a fixture)

PROM_DIR = os.environ.get("KSIGHT_PROMETHEUS", os.path.join(
    os.path.dirname(os.path.abspath(KSIGHT)), "prometheus", "usr", "bin"))
PROMETHEUS = os.path.join(PROM_DIR, "prometheus")
PROMTOOL = os.path.join(PROM_DIR, "promtool")


@pytest.fixture(autouse=True)
def prometheus_unpacked():
    """make test and make e2e unpack it; a missing one is a failure, never a skip."""
    for b in (PROMETHEUS, PROMTOOL):
        assert os.access(b, os.X_OK), "no %s: `make prometheus` unpacks Debian's package" % b


def http_get(url):
    with urllib.request.urlopen(url, timeout=10 * SLOW) as r:
        return r.read().decode()


def wait_for(pred, what, timeout=30):
    deadline = time.time() + timeout * SLOW
    while True:
        got = pred()
        if got:
            return got
        assert time.time() < deadline, "timed out waiting for " + what
        time.sleep(0.2)


def page_with(url, needle):
    """The agent's page once it holds @needle (it is rendered at each interval's end)."""
    def ready():
        try:
            body = http_get(url)
        except OSError:
            return None
        return body if needle in body else None
    return wait_for(ready, "%s on %s" % (needle, url))


HASH_TYPES = {"hash", "lru_hash", "percpu_hash", "lru_percpu_hash", "hash_of_maps"}


def series(body, name):
    """{frozenset(labels): value} of metric @name on the page."""
    return {frozenset(s.labels.items()): s.value
            for fam in text_string_to_metric_families(body) for s in fam.samples
            if s.name == name}


def check_against_bpftool(body, pid):
    """The page's programs and hash maps are those agent @pid holds, as bpftool sees them:
    the same programs (full names), run counts no higher than bpftool's read later (they
    only grow), the same maps (names cut to the kernel's 15 characters) and capacities."""
    runs = series(body, "ksight_bpf_prog_runs_total")
    progs = {bpftool_json("prog", "show", "id", str(i))["id"]:
             bpftool_json("prog", "show", "id", str(i)) for i in bpf_ids(pid)["prog"]}
    assert {dict(k)["program"] for k in runs} == {p["name"] for p in progs.values()}
    later = {p["name"]: p.get("run_cnt", 0) for p in progs.values()}
    for k, v in runs.items():
        assert v <= later[dict(k)["program"]], (dict(k), v, later)
    assert sum(runs.values()) > 0, "the kernel counted no run: --bpf-stats did not work"
    cap = series(body, "ksight_bpf_map_max_entries")
    entries = series(body, "ksight_bpf_map_entries")
    maps = [bpftool_json("map", "show", "id", str(i)) for i in bpf_ids(pid)["map"]]
    assert sorted((dict(k)["map"][:15], v) for k, v in cap.items()) == \
        sorted((m["name"], m["max_entries"]) for m in maps if m["type"] in HASH_TYPES)
    assert entries.keys() == cap.keys()
    assert all(0 <= entries[k] <= cap[k] for k in cap), entries


def test_promtool_lints_the_page(workdir):
    """Every module, the BPF statistics on, events of every kind going on: promtool
    check metrics finds nothing to say about the page, and its programs and maps are
    the agent's, as bpftool sees them."""
    port = free_port()
    url = "http://127.0.0.1:%d/metrics" % port
    h = Helper("opener", "-c", "kl%s" % UNIQ, workdir, 200)
    k = Ksight(["run", "--bpf-stats", "--listen", "127.0.0.1:%d" % port, "1"])
    try:
        k.wait_ready()
        h.go()
        h.result()
        body = page_with(url, 'ksight_open_calls_total{comm="kl%s"} 200' % UNIQ)
        check_against_bpftool(body, k.proc.pid)
    finally:
        h.kill()
        assert k.stop() == 0, k.stderr
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=body, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout == "", r.stdout
    # what the page holds for promtool to judge: every kind of metric
    for needle in ("# TYPE ksight_biolat_latency_seconds histogram",
                   "# TYPE ksight_bpf_prog_run_seconds_total counter",
                   "# TYPE ksight_bpf_map_entries gauge", "ksight_bpf_stats_enabled 1",
                   'ksight_events_lost_total{type="open"} 0',
                   "ksight_malformed_records_total 0",
                   "# TYPE ksight_bpf_backup_runs_total counter",
                   "ksight_record_values_dropped_total 0",
                   'ksight_ident_loads_refused_total{table="process"} 0',
                   'ksight_ident_loads_refused_total{table="cgroup"} 0',
                   'ksight_ident_loads_refused_total{table="fd"} 0',
                   # the agent's ring buffer: 2 MiB unless --ringbuf-size says
                   "ksight_ring_buffer_size_bytes 2097152"):
        assert needle in body, needle


PROM_CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: ksight
    static_configs:
      - targets: [%s]
"""


class Prometheus:
    """A Prometheus server of its own, scraping agents on @target_ports: config, storage
    and log in a temporary directory, its API on a free localhost port. stop() kills it and removes the directory."""

    def __init__(self, *target_ports):
        self.dir = tempfile.mkdtemp(prefix="ksight-prom-")
        self.port = free_port()
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(PROM_CONFIG % ", ".join("'127.0.0.1:%d'" % t for t in target_ports))
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + cfg,
             "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir)

    def api(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def wait_ready(self):
        def ready():
            assert self.proc.poll() is None, "prometheus exited: " + self.logtext()
            try:
                return http_get(self.api("/-/ready")) is not None
            except OSError:
                return False
        wait_for(ready, "prometheus to be ready")

    def query(self, promql):
        """The instant vector of @promql: {frozenset(labels): float}."""
        url = self.api("/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
        try:
            body = json.loads(http_get(url))
        except urllib.error.HTTPError as e:
            raise AssertionError("%s: %s %s" % (promql, e, e.read().decode()))
        assert body["status"] == "success", body
        assert body["data"]["resultType"] == "vector", body
        return {frozenset(r["metric"].items()): float(r["value"][1])
                for r in body["data"]["result"]}

    def value(self, promql):
        """The one value of @promql, or None when the vector is empty."""
        v = self.query(promql)
        assert len(v) <= 1, (promql, v)
        return next(iter(v.values())) if v else None

    def logtext(self):
        self.log.seek(0)
        return self.log.read()[-3000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir)


def test_prometheus_scrapes_exact_counts(workdir):
    """Prometheus scrapes the agent every second; a helper opens n files, half failing.
    Over the whole run (max - min of the samples, which needs no extrapolation, unlike
    increase()): exactly n open events and n opens of its process name, n/2 failures,
    nothing lost, and the dispatcher's program ran at least n times."""
    n, comm, port = 3000, "kq%s" % UNIQ, free_port()
    h = Helper("opener", "-c", comm, workdir, n)
    k = p = None
    try:
        k = Ksight(["run", "--modules", "open", "--bpf-stats", "--listen",
                    "127.0.0.1:%d" % port, "-p", str(h.pid), "1"])
        k.wait_ready()
        p = Prometheus(port)
        p.wait_ready()
        runs = 'ksight_bpf_prog_runs_total{module="core",program=~"core__sys_exit_.*"}'
        # a sample of every counter before the opens: the baseline of max - min
        wait_for(lambda: p.value('ksight_events_total{type="open"}') == 0 and
                 p.query(runs) != {}, "a first scrape")
        assert p.value('up{job="ksight"}') == 1
        h.go()
        h.result()
        calls = 'ksight_open_calls_total{comm="%s"}' % comm
        wait_for(lambda: p.value(calls) == n, "%s == %d in prometheus" % (calls, n))
        # the growth over the run, per series, then summed (a range is of a selector)
        over = lambda q: "sum(max_over_time(%s[1h]) - min_over_time(%s[1h]))" % (q, q)
        assert p.value(over('ksight_events_total{type="open"}')) == n
        assert p.value(calls) == n
        assert p.value("ksight_open_errors_total") == n // 2
        assert p.value("sum(ksight_events_lost_total)") == 0
        assert p.value("count(ksight_events_lost_total)") >= 1
        assert p.value("ksight_malformed_records_total") == 0
        assert p.value('sum(ksight_sink_dropped_records_total)') == 0
        assert p.value(over(runs)) >= n
        assert p.value("ksight_bpf_stats_enabled") == 1
        # each hash map holds no more than it can
        assert p.query("ksight_bpf_map_entries > ksight_bpf_map_max_entries") == {}
        assert p.value("count(ksight_bpf_map_max_entries)") >= 1
        assert p.value("ksight_ring_buffer_peak_used_bytes <= ksight_ring_buffer_size_bytes"
                       ) is not None
    finally:
        h.kill()
        if p:
            p.stop()
        if k:
            assert k.stop() == 0, k.stderr


def test_prometheus_tcp_bytes_exact(net):
    """The service-to-service edge as Prometheus sees it: a client here opens n sessions
    to a server in another namespace, sending `send` bytes and receiving `back` each;
    with the agent watching the client only, Prometheus' sums are the client's own counts
    (what its write() and read() returned), exactly."""
    n, send, back, port = 7, 1234, 321, PORT    # in a namespace pair of its own
    srv = server(net, "ipv4", port, n, back)
    cli = client(net, "ipv4", port, n, send)
    k = p = None
    try:
        kport = free_port()
        k = Ksight(["run", "--modules", "tcplife", "--listen", "127.0.0.1:%d" % kport,
                    "-p", str(cli.pid), "1"])
        k.wait_ready()
        p = Prometheus(kport)
        p.wait_ready()
        cli.go()
        sent, received, _ = result(cli)
        assert result(srv) == [n * send, n * back]
        assert (sent, received) == (n * send, n * back)
        wait_for(lambda: p.value("sum(ksight_tcp_sessions_closed_total)") == n,
                 "n sessions closed in prometheus")
        assert p.value("sum(ksight_tcp_sent_bytes_total)") == sent
        assert p.value("sum(ksight_tcp_received_bytes_total)") == received
        assert p.value('sum(ksight_events_lost_total)') == 0
    finally:
        cli.kill()
        srv.kill()
        if p:
            p.stop()
        if k:
            assert k.stop() == 0, k.stderr
