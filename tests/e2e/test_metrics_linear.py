# SPDX-License-Identifier: GPL-2.0
"""ksight run --metrics FILE with linear buckets (docs/metrics.md, buckets: {linear: ...}):
a process of a unique name makes write()s of sizes the test chooses, and write()s to a
closed fd (-EBADF); histograms of sys_enter_write's count (unsigned) and sys_exit_write's
ret (signed, a negative min) have exactly those values per bucket on /metrics while the
agent runs, the page passes promtool, and the OTLP export (JSON and protobuf) carries the
same bounds and counts. Bad layouts exit 2 with the exact line:column."""
import os
import subprocess
import sys

import pytest

from conftest import SCALE, UNIQ, Ksight, free_port
from test_metrics import L, check_bad_file, scrape_until
from test_otlp import Receiver, check_request, scrape

PROMTOOL = os.path.join(os.environ.get("KSIGHT_PROMETHEUS", os.path.join(
    os.path.dirname(os.path.abspath(os.environ.get("KSIGHT", "build/ksight"))),
    "prometheus", "usr", "bin")), "promtool")

SIZES = [0, 1, 100, 101, 250, 999, 1000, 1001, 5000]   # every edge of the buckets below
N = max(1, 20 // SCALE)                                 # writes of each size
EBADF = -9

YAML = """\
metrics:
  - name: lh_write_bytes
    type: histogram
    unit: bytes
    probe: syscalls:sys_enter_write
    value: count
    labels: [comm]
    filter: 'comm == "{comm}"'
    buckets: {{linear: {{min: 0, max: 1000, step: 100}}}}
  - name: lh_ret_bytes
    type: histogram
    unit: bytes
    probe: syscalls:sys_exit_write
    value: ret
    filter: 'comm == "{comm}"'
    buckets:
      linear: {{min: -20, max: 200, step: 20}}
"""

# The writer: its name set first by prctl (no write()), then N writes of each size to a
# file and N to a closed fd; nothing else is written under that name.
WRITER = """
import ctypes, os, sys
ctypes.CDLL(None, use_errno=True).prctl(15, sys.argv[1].encode(), 0, 0, 0)   # PR_SET_NAME
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
for _ in range(int(sys.argv[3])):
    for v in (%s):
        assert os.write(fd, b"x" * v) == v
    try:
        os.write(12345, b"y")
    except OSError:
        pass
""" % ",".join(map(str, SIZES))


def want_buckets(values, lo, step, count):
    """{le text: cumulative count}: le = lo + i*step inclusive (as Prometheus reads le),
    then +Inf."""
    out = {}
    for i in range(count + 1):
        le = lo + i * step
        out["%d" % le] = sum(1 for v in values if v <= le)
    out["+Inf"] = len(values)
    return out


@pytest.mark.parametrize("encoding", [pytest.param("json", marks=pytest.mark.kernels),
                                      "protobuf"])
def test_linear_histograms_exact_on_metrics_and_otlp(tmp_path, encoding):
    comm = "lhw%s" % UNIQ
    (tmp_path / "m.yaml").write_text(YAML.format(comm=comm))
    port, rx = free_port(), Receiver()
    k = Ksight(["run", "--modules", "exec", "--no-store", "--listen", "127.0.0.1:%d" % port,
                "--otlp", rx.url, "--otlp-encoding", encoding,
                "--metrics", str(tmp_path / "m.yaml"), "1"])
    try:
        k.wait_ready()
        subprocess.run([sys.executable, "-c", WRITER, comm, str(tmp_path / "out"), str(N)],
                       check=True, timeout=60)
        wkey = ("ksight_lh_write_bytes_count", L(comm=comm))
        rkey = ("ksight_lh_ret_bytes_count", L())
        total = N * (len(SIZES) + 1)
        got = scrape_until(port, lambda g: g.get(wkey) == total and g.get(rkey) == total)
        body = scrape(port)
        names = ("ksight_lh_write_bytes", "ksight_lh_ret_bytes")

        def done(posts):
            for p in reversed(posts):
                pts = check_request(p[2])
                if all(int(pts.get((n, lab), {"count": "0"})["count"]) == total
                       for n, lab in zip(names, (frozenset({("comm", comm)}), frozenset()))):
                    return pts
            return None
        pts = rx.wait(done, 20)
    finally:
        rx.close()
        assert k.stop() == 0, k.stderr
    writes = [v for v in SIZES for _ in range(N)] + [1] * N        # the 1-byte bad write
    rets = [v for v in SIZES for _ in range(N)] + [EBADF] * N
    cases = [("ksight_lh_write_bytes", {"comm": comm}, writes, 0, 100, 10),
             ("ksight_lh_ret_bytes", {}, rets, -20, 20, 11)]
    for name, labels, values, lo, step, count in cases:
        want = want_buckets(values, lo, step, count)
        for le, n in want.items():
            assert got[(name + "_bucket", L(le=le, **labels))] == n, (name, le, n, body)
        shown = [k_ for k_ in got if k_[0] == name + "_bucket"]
        assert len(shown) == count + 2, (name, shown)      # exactly the declared buckets
        assert got[(name + "_count", L(**labels))] == len(values)
        assert got[(name + "_sum", L(**labels))] == sum(values)
        # OTLP: the same bounds (numbers) and per-bucket counts
        assert pts, "no OTLP payload with every write"
        p = pts[(name, frozenset(labels.items()))]
        assert p["explicitBounds"] == [lo + i * step for i in range(count + 1)], p
        per = [int(x) for x in p["bucketCounts"]]
        cum = [want["%d" % (lo + i * step)] for i in range(count + 1)] + [len(values)]
        assert per == [c - (cum[i - 1] if i else 0) for i, c in enumerate(cum)], (p, cum)
        assert int(p["count"]) == len(values) and p["sum"] == sum(values)
    assert "# TYPE ksight_lh_write_bytes histogram" in body
    assert os.access(PROMTOOL, os.X_OK), "no %s: `make prometheus`" % PROMTOOL
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=body, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout == "", r.stdout


HEAD = """\
metrics:
  - name: lh_bad_bytes
    type: histogram
    unit: bytes
    probe: syscalls:sys_enter_write
    value: count
"""

BAD = [
    (HEAD + "    buckets: {linear: {min: 0, max: 1000, step: 0}}\n", "7:49",
     "linear: step must be above 0, not 0"),
    (HEAD + "    buckets: {linear: {min: 100, max: 100, step: 10}}\n", "7:39",
     "linear: max (100) must be above min (100)"),
    (HEAD + "    buckets: {linear: {min: 0, max: 630, step: 10}}\n", "7:48",
     "linear: 63 buckets, 62 at most"),
    (HEAD + "    buckets: {linear: {min: 0, max: 1000, step: 300}}\n", "7:49",
     "linear: max - min (1000) is not a multiple of step"),
    (HEAD + "    buckets: {linear: {min: -10, max: 100, step: 10}}\n", "7:29",
     "linear: min below 0, but the value is an unsigned field"),
    (HEAD + "    buckets: {linear: {min: 0, max: 1k, step: 10}}\n", "7:37",
     "linear: max '1k' is not a whole number"),
    (HEAD + "    buckets: {linear: {min: 0, top: 100, step: 10}}\n", "7:32",
     "linear: unknown key 'top' (min, max, step)"),
    (HEAD + "    buckets: {linear: {min: 0, step: 10}}\n", "7:23",
     "linear: needs min, max and step"),
    (HEAD + "    buckets: linear\n", "7:14", "buckets: log2, or {linear:"),
    ("metrics:\n  - name: lh_bad_total\n    type: counter\n"
     "    probe: syscalls:sys_enter_write\n    buckets: log2\n", "5:14",
     "value, unit, scale and buckets are a histogram's"),
]


@pytest.mark.parametrize("text,where,why", BAD, ids=[b[2].split("(")[0].split("'")[0].strip()
                                                     for b in BAD])
def test_bad_buckets_exit_2_with_line_and_column(tmp_path, text, where, why):
    check_bad_file(tmp_path, text, where, why)
