# SPDX-License-Identifier: GPL-2.0
"""ksight run --config FILE and --print-config (docs/run.md): a YAML file sets what the
flags set, with the same effect; the command line wins; every error names the file's line
and column and nothing starts; --print-config prints every option and reads back the same."""
import os
import re
import time
import urllib.error
import urllib.request

import pytest
import yaml

from conftest import SLOW, UNIQ, Helper, Ksight, free_port, run_ksight


def get(port, path="/metrics"):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10 * SLOW) as r:
        return r.read().decode()


def opens_of(page, comm):
    m = re.search(r'^ksight_open_calls_total\{comm="%s"\} (\d+)$' % comm, page, re.M)
    return int(m.group(1)) if m else None


def refused(port):
    try:
        get(port)
    except urllib.error.URLError as e:
        return isinstance(e.reason, ConnectionRefusedError)
    return False


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def run_with(args, workdir, comm, n, port):
    """Run the agent with args(helper's pid) on a helper making n opens: the count its
    /metrics shows, how long it ran, its exit code and the Ksight."""
    h = Helper("opener", "-c", comm, workdir, n)
    k = None
    try:
        k = Ksight(["run"] + args(h.pid))
        t0 = time.time()
        k.wait_ready()
        h.go()
        h.result()
        deadline, got = time.time() + 10 * SLOW, None
        while time.time() < deadline and got != n:
            try:
                got = opens_of(get(port), comm)
            except urllib.error.URLError:
                pass
            time.sleep(0.1)
        rc = k.wait(30)
        return got, time.time() - t0, rc, k
    finally:
        h.kill()
        if k and k.proc.poll() is None:
            k.stop()


def test_file_equals_flags(workdir, tmp_path):
    """The same options from a file and as flags: the same exact count on the same
    /metrics address, the same number of intervals (count) each as long, JSON output; then
    the command line's --listen and positionals win over the file's."""
    n, comm = 600, "kc%s" % UNIQ
    p1, p2 = free_port(), free_port()
    cfg = str(tmp_path / "run.yaml")

    def from_file(pid):
        write(cfg, "# the agent of this test\n"
                   "modules: open\n"
                   "listen: 127.0.0.1:%d\n"
                   "interval: 1\n"
                   "count: 4\n"
                   "json: true\n"
                   "pid: %d\n" % (p1, pid))
        return ["--config", cfg]

    def flags(pid):
        return ["--modules", "open", "--listen", "127.0.0.1:%d" % p1, "--json", "-p",
                str(pid), "1", "4"]

    for args in (flags, from_file):
        got, secs, rc, k = run_with(args, workdir, comm, n, p1)
        assert rc == 0, k.stderr
        assert got == n, k.stderr
        stats = k.records("stats")
        assert [s["final"] for s in stats] == [False] * 4 + [True], stats
        assert 3.5 < secs < 12 * SLOW, secs
    # the command line wins: another address, 2 intervals; the file's address unused
    got, secs, rc, k = run_with(lambda pid: from_file(pid) + ["--listen", "127.0.0.1:%d" % p2,
                                                          "1", "2"], workdir, comm, n, p2)
    assert rc == 0 and got == n, k.stderr
    assert [s["final"] for s in k.records("stats")] == [False] * 2 + [True]
    assert refused(p1)


def test_file_listen_serves_healthz(tmp_path):
    """The file's listen address serves /healthz, which says intervals of the file's
    length end; a list where one value is due is refused at its line and column."""
    port = free_port()
    cfg = write(str(tmp_path / "a.yaml"), "modules: [open]\nlisten: '127.0.0.1:%d'\n"
                "interval: 1\n" % port)
    # a list is not a value for modules
    r = run_ksight(["run", "--config", cfg])
    assert r.returncode == 2 and "a.yaml:1:10: modules: expects one value, not a list" \
        in r.stderr, r.stderr
    write(cfg, "modules: open\nlisten: '127.0.0.1:%d'\ninterval: 1\n" % port)
    k = Ksight(["run", "--config", cfg])
    try:
        k.wait_ready()
        deadline = time.time() + 10 * SLOW
        body = ""
        while time.time() < deadline and not body.startswith("ok:"):
            try:
                body = get(port, "/healthz")
            except urllib.error.URLError as e:
                body = str(e)
            time.sleep(0.2)
        assert body.startswith("ok:"), body
    finally:
        assert k.stop() == 0, k.stderr


@pytest.mark.parametrize("text,where,needle", [
    ("listen: 127.0.0.1:9464\nmodules: [open\n", "3:1", "did not find expected ',' or ']'"),
    ("listen: 127.0.0.1:9464\n  bad: indent\n", "2:6", "mapping values are not allowed"),
    ("modules: open\nlistne: 127.0.0.1:1\n", "2:1", "unknown key 'listne'"),
    ("store-max-mb: lots\n", "1:15", "'lots' is not a whole number"),
    ("interval: 0\n", "1:11", "interval: not a number of seconds"),
    ("listen: nope\n", "1:9", "--listen nope: not HOST:PORT"),
    ("otlp: https://c/v1/metrics\n", "1:7", "not an http:// URL"),
    ("no-rw: maybe\n", "1:8", "no-rw: expects true or false"),
    ("hooks: bogus\n", "1:8", "'bogus' is not one of auto"),
    ("ringbuf-size: 3\n", "1:15", "'3' is not a size"),
    ("retention: 3x\n", "1:12", "not a duration"),
    ("json: true\njson: false\n", "2:1", "'json' given twice (first on line 1)"),
    ("output:\n  - json\n  - {a: 1}\n", "3:5", "output: expects one value, not a mapping"),
    ("- listen\n", "1:1", "expects a mapping of option: value"),
    ("config: other.yaml\n", "1:1", "not in a configuration file"),
])
def test_errors_name_line_and_column(tmp_path, text, where, needle):
    cfg = write(str(tmp_path / "bad.yaml"), text)
    r = run_ksight(["run", "--config", cfg])
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("ksight run: %s:%s: " % (cfg, where)), r.stderr
    assert needle in lines[0], r.stderr
    assert "ready" not in r.stdout + r.stderr


def test_missing_file_exits_2(tmp_path):
    r = run_ksight(["run", "--config", str(tmp_path / "none.yaml")])
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "none.yaml: No such file or directory" in r.stderr


def long_options():
    r = run_ksight(["run", "--help"])
    assert r.returncode == 0
    return set(re.findall(r"^\s+(?:-\w, )?--([a-z0-9-]+)", r.stdout, re.M))


def test_print_config_round_trips(tmp_path):
    """--print-config: every long option of --help (but --config, --print-config, --help)
    with its effective value, defaults included; read back with --config it prints the
    same text, and a flag on the command line still wins over it."""
    out = str(tmp_path / "o.jsonl")
    r = run_ksight(["run", "--print-config"])
    assert r.returncode == 0, r.stderr
    doc = yaml.safe_load(r.stdout)
    assert set(doc) == (long_options() - {"config", "print-config", "help"}) | \
        {"interval", "count"}, set(doc) ^ long_options()
    assert doc["interval"] == 10 and doc["count"] is None
    assert doc["listen"] == "127.0.0.1:9464" and doc["ringbuf-size"] == 2 << 20
    assert doc["retention"] == "7d" and doc["store-max-mb"] == 256
    assert doc["output"] == [] and doc["no-rw"] is False and doc["hooks"] == "auto"
    for args in ([], ["--listen", "0.0.0.0:9999", "-o", "json:" + out, "-o", "table", "-v",
                      "-v", "--no-rw", "--otlp", "http://c:4318/v1/metrics", "--retention",
                      "2d", "-n", 'we"ird\\name', "--hooks", "tp", "3", "7"]):
        a = run_ksight(["run", "--print-config"] + args)
        assert a.returncode == 0, a.stderr
        f = write(str(tmp_path / "a.yaml"), a.stdout)
        b = run_ksight(["run", "--config", f, "--print-config"])
        assert b.returncode == 0, b.stderr
        assert b.stdout == a.stdout
    doc = yaml.safe_load(a.stdout)
    assert doc["output"] == ["json:" + out, "table"] and doc["verbose"] == 2
    assert doc["comm"] == 'we"ird\\name' and doc["interval"] == 3 and doc["count"] == 7
    assert doc["no-rw"] is True and doc["no-exec"] is False
    # the command line wins: a scalar, a list (replaced, not added to), the positionals
    c = run_ksight(["run", "--config", f, "--print-config", "--listen", "127.0.0.1:1",
                    "-o", "json", "5"])
    doc = yaml.safe_load(c.stdout)
    assert doc["listen"] == "127.0.0.1:1" and doc["output"] == ["json"]
    assert doc["interval"] == 5 and doc["count"] is None and doc["verbose"] == 2
