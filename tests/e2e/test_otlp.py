# SPDX-License-Identifier: GPL-2.0
"""OTLP/HTTP export (ksight run --otlp URL, docs/otlp.md): a receiver this test runs gets
the registry each interval as an OTLP JSON ExportMetricsServiceRequest. Its structure is
checked field by field against the OTLP metrics schema, a helper's opens are counted
exactly, and every series equals the /metrics page of the same interval. A receiver that
is down or fails never stops the agent; the failures are counted."""
import http.server
import json
import re
import socket
import struct
import threading
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import SLOW, UNIQ, Helper, Ksight, free_port, run_ksight

DIGITS = re.compile(r"^[0-9]+$")

# The messages of an ExportMetricsServiceRequest that ksight sends, by the field numbers
# of opentelemetry-proto (collector/metrics/v1, metrics/v1, common/v1, resource/v1):
# number -> (JSON name, type, repeated). A protobuf payload is decoded with them into the
# JSON encoding's shape and checked the same way; any other field number is an error.
PROTO = {
    "Request": {1: ("resourceMetrics", "ResourceMetrics", True)},
    "ResourceMetrics": {1: ("resource", "Resource", False),
                        2: ("scopeMetrics", "ScopeMetrics", True)},
    "Resource": {1: ("attributes", "KeyValue", True)},
    "ScopeMetrics": {1: ("scope", "Scope", False), 2: ("metrics", "Metric", True)},
    "Scope": {1: ("name", "string", False)},
    "Metric": {1: ("name", "string", False), 2: ("description", "string", False),
               3: ("unit", "string", False), 5: ("gauge", "Gauge", False), 7: ("sum", "Sum", False),
               9: ("histogram", "Histogram", False)},
    "Gauge": {1: ("dataPoints", "NumberDataPoint", True)},
    "Sum": {1: ("dataPoints", "NumberDataPoint", True),
            2: ("aggregationTemporality", "enum", False), 3: ("isMonotonic", "bool", False)},
    "Histogram": {1: ("dataPoints", "HistogramDataPoint", True),
                  2: ("aggregationTemporality", "enum", False)},
    "NumberDataPoint": {7: ("attributes", "KeyValue", True),
                        2: ("startTimeUnixNano", "fixed64", False),
                        3: ("timeUnixNano", "fixed64", False),
                        4: ("asDouble", "double", False), 6: ("asInt", "sfixed64", False)},
    "HistogramDataPoint": {9: ("attributes", "KeyValue", True),
                           2: ("startTimeUnixNano", "fixed64", False),
                           3: ("timeUnixNano", "fixed64", False),
                           4: ("count", "fixed64", False), 5: ("sum", "double", False),
                           6: ("bucketCounts", "packed_fixed64", False),
                           7: ("explicitBounds", "packed_double", False)},
    "KeyValue": {1: ("key", "string", False), 2: ("value", "AnyValue", False)},
    "AnyValue": {1: ("stringValue", "string", False)},
}
WIRE = {"enum": 0, "bool": 0, "fixed64": 1, "sfixed64": 1, "double": 1}


def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def decode(b, msg="Request"):
    """A protobuf message as the dict its JSON encoding would be (repeated and packed
    fields as lists, absent ones as empty lists)."""
    out, i = {}, 0
    for name, typ, rep in PROTO[msg].values():
        if rep or typ.startswith("packed"):
            out[name] = []
    while i < len(b):
        key, i = varint(b, i)
        num, wt = key >> 3, key & 7
        assert num in PROTO[msg], "%s has no field %d" % (msg, num)
        name, typ, rep = PROTO[msg][num]
        assert wt == WIRE.get(typ, 2), "%s.%s: wire type %d" % (msg, name, wt)
        if wt == 0:
            v, i = varint(b, i)
            v = bool(v) if typ == "bool" else v
        elif wt == 1:
            raw, i = b[i:i + 8], i + 8
            v = struct.unpack("<d", raw)[0] if typ == "double" else \
                str(struct.unpack("<q" if typ == "sfixed64" else "<Q", raw)[0])
        else:
            n, i = varint(b, i)
            raw, i = b[i:i + n], i + n
            assert len(raw) == n, "cut short"
            if typ == "string":
                v = raw.decode("utf-8")
            elif typ == "packed_fixed64":
                assert n % 8 == 0
                v = [str(x) for x in struct.unpack("<%dQ" % (n // 8), raw)]
            elif typ == "packed_double":
                assert n % 8 == 0
                v = list(struct.unpack("<%dd" % (n // 8), raw))
            else:
                v = decode(raw, typ)
        if rep:
            out[name].append(v)
        else:
            assert name not in out or typ.startswith("packed"), "%s.%s twice" % (msg, name)
            out[name] = v
    return out


class Receiver:
    """An OTLP/HTTP receiver on 127.0.0.1: keeps every POST's (path, content type, JSON)
    and answers @status (changeable while it runs)."""

    def __init__(self, port=0, status=200):
        self.posts, self.status, self.cond = [], status, threading.Condition()
        rx = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ctype = self.headers["Content-Type"]
                req = decode(body) if ctype == "application/x-protobuf" else json.loads(body)
                with rx.cond:
                    rx.posts.append((self.path, ctype, req, rx.status))
                    rx.cond.notify_all()
                self.send_response(rx.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
        self.port = self.srv.server_address[1]
        self.url = "http://127.0.0.1:%d/v1/metrics" % self.port
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def wait(self, pred, timeout):
        """Wait until pred(posts) is true; returns it."""
        deadline = time.time() + timeout * SLOW
        with self.cond:
            while True:
                got = pred(self.posts)
                if got or time.time() > deadline:
                    return got
                self.cond.wait(0.2)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10 * SLOW) as r:
        return r.read().decode()


def attrs(point):
    """A point's attributes as a dict, each checked to be an OTLP KeyValue of a string."""
    out = {}
    for kv in point["attributes"]:
        assert set(kv) == {"key", "value"} and set(kv["value"]) == {"stringValue"}, kv
        assert isinstance(kv["key"], str) and isinstance(kv["value"]["stringValue"], str)
        out[kv["key"]] = kv["value"]["stringValue"]
    return out


def check_request(req):
    """Validate an ExportMetricsServiceRequest (OTLP JSON encoding: lowerCamelCase field
    names, 64-bit integers as decimal strings, enums as integers) and return its points
    as {(name, frozenset(attributes)): point}, with the metric's kind in point['_kind']."""
    assert set(req) == {"resourceMetrics"} and len(req["resourceMetrics"]) == 1, req.keys()
    rm = req["resourceMetrics"][0]
    assert set(rm) == {"resource", "scopeMetrics"}, rm.keys()
    res = attrs(rm["resource"])
    assert res == {"service.name": "ksight", "host.name": socket.gethostname()}, res
    assert len(rm["scopeMetrics"]) == 1
    sm = rm["scopeMetrics"][0]
    assert set(sm) == {"scope", "metrics"} and sm["scope"] == {"name": "ksight"}, sm.keys()
    points, names = {}, set()
    for m in sm["metrics"]:
        kinds = set(m) - {"name", "description", "unit"}
        assert len(kinds) == 1 and kinds <= {"sum", "gauge", "histogram"}, m.keys()
        kind = kinds.pop()
        # a unit (UCUM) as the name says it: seconds, bytes; every histogram has one
        # (but a user's histogram of a count, ksight run --bpf, not run here)
        unit = {"s": "_seconds", "By": "_bytes"}
        if "unit" in m:
            assert m["unit"] in unit and unit[m["unit"]] in m["name"], m
        assert kind != "histogram" or "unit" in m, m["name"]
        assert re.match(r"^ksight_[a-z0-9_]+$", m["name"]) and m["name"] not in names, m["name"]
        assert isinstance(m["description"], str)
        names.add(m["name"])
        data = m[kind]
        if kind == "sum":
            assert set(data) == {"aggregationTemporality", "isMonotonic", "dataPoints"}
            assert data["aggregationTemporality"] == 2 and data["isMonotonic"] is True
        elif kind == "histogram":
            assert set(data) == {"aggregationTemporality", "dataPoints"}
            assert data["aggregationTemporality"] == 2
        else:
            assert set(data) == {"dataPoints"}
        assert data["dataPoints"], m["name"]
        for p in data["dataPoints"]:
            common = {"attributes", "startTimeUnixNano", "timeUnixNano"}
            assert DIGITS.match(p["startTimeUnixNano"]) and DIGITS.match(p["timeUnixNano"])
            assert int(p["startTimeUnixNano"]) <= int(p["timeUnixNano"])
            if kind == "histogram":
                assert set(p) == common | {"count", "sum", "bucketCounts", "explicitBounds"}, p
                assert DIGITS.match(p["count"]) and isinstance(p["sum"], (int, float))
                b, bounds = p["bucketCounts"], p["explicitBounds"]
                assert all(isinstance(x, str) and DIGITS.match(x) for x in b), b
                assert all(isinstance(x, (int, float)) for x in bounds), bounds
                assert len(b) == len(bounds) + 1, p
                assert all(x < y for x, y in zip(bounds, bounds[1:])), bounds
                assert sum(int(x) for x in b) == int(p["count"]), p
            elif kind == "sum":
                vals = set(p) - common
                assert vals in ({"asInt"}, {"asDouble"}), p
                if "asInt" in p:
                    assert DIGITS.match(p["asInt"]), p
                else:
                    assert isinstance(p["asDouble"], (int, float)) and p["asDouble"] >= 0
            else:
                assert set(p) == common | {"asDouble"}, p
                assert isinstance(p["asDouble"], (int, float)), p
            key = (m["name"], frozenset(attrs(p).items()))
            assert key not in points, key
            points[key] = dict(p, _kind=kind)
    return points


def sum_value(p):
    return int(p["asInt"]) if "asInt" in p else p["asDouble"]


def as_prom(points):
    """The points as the samples Prometheus text has for them: {(name, labels): value}."""
    out = {}
    for (name, labels), p in points.items():
        if p["_kind"] == "sum":
            out[(name, labels)] = sum_value(p)
        elif p["_kind"] == "gauge":
            out[(name, labels)] = p["asDouble"]
        else:
            cum = 0
            for le, n in zip(p["explicitBounds"] + ["+Inf"], p["bucketCounts"]):
                cum += int(n)
                out[(name + "_bucket", labels | {("le", le)})] = cum
            out[(name + "_count", labels)] = int(p["count"])
            out[(name + "_sum", labels)] = p["sum"]
    return out


def prom_samples(text):
    """{(name, labels): value} as Prometheus' parser reads the page, labels with an empty
    value left out (an overflow series has only ksight_overflow="true", as in OTLP)."""
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            labels = {k: v for k, v in s.labels.items() if v != ""}
            if "le" in labels and labels["le"] != "+Inf":
                labels["le"] = float(labels["le"])
            out[(s.name, frozenset(labels.items()))] = s.value
    return out


def exports_ok(points):
    return int(points[("ksight_otlp_exports_total", frozenset())]["asInt"])


@pytest.mark.parametrize("encoding", ["json", "protobuf"])
def test_export_exact_valid_and_equal_to_metrics(workdir, encoding):
    """A process of a unique name makes n opens: the receiver's payloads are valid OTLP,
    cumulative and monotonic across intervals, count its opens exactly, carry a histogram
    (runqlat) whose buckets add up, and equal the /metrics page of the same interval series
    by series (ksight_otlp_exports_total tells the intervals apart)."""
    n, comm, port = 1000, "ko%s" % UNIQ, free_port()
    rx = Receiver()
    h = Helper("opener", "-c", comm, workdir, n)
    k = None
    try:
        k = Ksight(["run", "--modules", "open,runqlat", "--listen", "127.0.0.1:%d" % port,
                    "--otlp", rx.url, "--otlp-encoding", encoding, "-p", str(h.pid), "2"])
        k.wait_ready()
        h.go()
        h.result()
        key = ("ksight_open_calls_total", frozenset({("comm", comm)}))
        rx.wait(lambda ps: any(key in check_request(p[2]) and
                               sum_value(check_request(p[2])[key]) == n for p in ps), 20)
        # a page, and the payload of the same interval (exports so far agree)
        matched = None
        for _ in range(5):
            page = prom_samples(scrape(port))
            tag = page[("ksight_otlp_exports_total", frozenset())]
            with rx.cond:
                posts = list(rx.posts)
            same = [p for p in posts if exports_ok(check_request(p[2])) == tag]
            if same:
                matched = check_request(same[-1][2])
                break
            time.sleep(0.5)
        assert matched is not None, "no payload of the page's interval"
        assert sum_value(matched[key]) == n
        assert page[key] == n
        assert as_prom(matched) == page
        hists = [p for p in matched.values() if p["_kind"] == "histogram"]
        assert hists and any(int(p["count"]) > 0 for p in hists), "no runqlat histogram"
        lost = [v for (name, _), v in page.items() if name == "ksight_events_lost_total"]
        assert lost and not any(lost)
    finally:
        h.kill()
        if k:
            assert k.stop() == 0, k.stderr
        rx.close()
    posts = [(path, ctype, check_request(req), status) for path, ctype, req, status in rx.posts]
    assert len(posts) >= 2
    want = "application/x-protobuf" if encoding == "protobuf" else "application/json"
    assert all(path == "/v1/metrics" and ctype == want for path, ctype, _, _ in posts)
    # cumulative: one start time, times rising, no sum ever falls
    starts = {p["startTimeUnixNano"] for _, _, pts, _ in posts for p in pts.values()}
    assert len(starts) == 1, starts
    times = [next(iter(pts.values()))["timeUnixNano"] for _, _, pts, _ in posts]
    assert all(int(a) < int(b) for a, b in zip(times, times[1:])), times
    for (_, _, a, _), (_, _, b, _) in zip(posts, posts[1:]):
        for key_, p in a.items():
            if p["_kind"] == "sum" and key_ in b:
                assert sum_value(b[key_]) >= sum_value(p), key_
            if p["_kind"] == "histogram" and key_ in b:
                assert int(b[key_]["count"]) >= int(p["count"]), key_
    # the last export is the final one, sent at exit: every open is in it
    assert sum_value(posts[-1][2][key]) == n
    assert int(posts[-1][2][("ksight_otlp_export_failures_total",
                              frozenset({("reason", "connect")}))]["asInt"]) == 0


def test_receiver_down_then_failing_then_up():
    """Nothing listens: the agent runs on, counts each refused connection and says so
    once; then the receiver answers 503 (counted as status); then 200 (exports resume)."""
    port, mport = free_port(), free_port()
    url = "http://127.0.0.1:%d/v1/metrics" % port
    k = Ksight(["run", "--modules", "open", "--listen", "127.0.0.1:%d" % mport,
                "--otlp", url, "1"])
    rx = None
    try:
        k.wait_ready()

        def fails(reason):
            for fam in text_string_to_metric_families(scrape(mport)):
                for s in fam.samples:
                    if s.name == "ksight_otlp_export_failures_total" and \
                       s.labels.get("reason") == reason:
                        return s.value
            return None

        deadline = time.time() + 15 * SLOW
        while time.time() < deadline and (fails("connect") or 0) < 3:
            time.sleep(0.3)
        assert fails("connect") >= 3
        assert k.proc.poll() is None
        warn = [l for l in k.err_lines if "otlp" in l]
        assert len(warn) == 1, k.stderr
        assert url in warn[0] and "Connection refused" in warn[0], warn
        rx = Receiver(port, status=503)
        assert rx.wait(lambda ps: len(ps) >= 2, 15)
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline and (fails("status") or 0) < 1:
            time.sleep(0.3)
        assert fails("status") >= 1
        rx.status = 200
        assert rx.wait(lambda ps: any(p[3] == 200 for p in ps), 15)
        deadline = time.time() + 10 * SLOW
        ok = 0
        while time.time() < deadline and not ok:
            ok = [s.value for fam in text_string_to_metric_families(scrape(mport))
                  for s in fam.samples if s.name == "ksight_otlp_exports_total"][0]
            time.sleep(0.3)
        assert ok >= 1
        assert k.proc.poll() is None
        # said once while failing (once a minute at most), and once when it works again
        said = [l for l in k.err_lines if "otlp" in l]
        assert len(said) == 2 and said[1] == "ksight: otlp %s: exports resume" % url, said
    finally:
        assert k.stop() == 0, k.stderr
        if rx:
            rx.close()


def healthz_intervals(port):
    body = urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port,
                                  timeout=10 * SLOW).read().decode()
    return int(body.split()[1]) if body.startswith("ok:") else 0


def test_hanging_receiver_never_stalls_the_agent():
    """A receiver that accepts and never answers: intervals keep ending on time (the
    reader never waits for the network), payloads the queue cannot hold are counted as
    dropped, and the agent still stops within a few seconds (the sender is woken, the
    final export given up after 2 s)."""
    mport = free_port()
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(64)
        url = "http://127.0.0.1:%d/v1/metrics" % srv.getsockname()[1]
        k = Ksight(["run", "--modules", "open", "--listen", "127.0.0.1:%d" % mport,
                    "--otlp", url, "1"])
        try:
            k.wait_ready()
            t0 = time.time()
            dropped = 0
            # the first export waits 10 s for an answer; 4 more wait in the queue; from
            # the 6th interval on, the oldest waiting one is dropped at each
            while time.time() - t0 < 15 * SLOW and dropped < 2:
                time.sleep(0.5)
                for fam in text_string_to_metric_families(scrape(mport)):
                    for s in fam.samples:
                        if s.name == "ksight_otlp_export_failures_total" and \
                           s.labels["reason"] == "dropped":
                            dropped = s.value
            assert dropped >= 2
            n, secs = healthz_intervals(mport), time.time() - t0
            assert n >= secs - 2, (n, secs)   # intervals of 1 s kept ending
        finally:
            t1 = time.time()
            assert k.stop() == 0, k.stderr
        assert time.time() - t1 < 6 * SLOW


@pytest.mark.parametrize("url,needle", [
    ("127.0.0.1:4318", "not an http:// URL"),
    ("https://127.0.0.1:4318/v1/metrics", "https is not supported"),
    ("http://:4318/v1/metrics", "no host"),
    ("http://127.0.0.1:0/v1/metrics", "not 1-65535"),
    ("http://127.0.0.1:99999/v1/metrics", "not 1-65535"),
    ("http://[::1/v1/metrics", "']'"),
])
def test_bad_url(url, needle):
    r = run_ksight(["run", "--otlp", url])
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and url in lines[0], r.stderr
    r = run_ksight(["open", "-o", "otlp:" + url])
    assert r.returncode == 2 and needle in r.stderr, r.stderr
