# SPDX-License-Identifier: GPL-2.0
"""guard in the agent (docs/guard.md, "In the agent"): `ksight run --modules ...,guard`
counts each alert on /metrics per rule, severity and service, streams it on
/api/events?type=alert and keeps it in the store (`ksight query alerts`); exactly the N
execs of a binary copied under /tmp the test made (rule exec-world-writable), the host's
files never touched. A bad --guard-rules file refuses the start (exit 2, file:line:column);
without guard in --modules nothing of guard is loaded."""
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time

import pytest

from conftest import (SLOW, UNIQ, Ksight, free_port, loaded_progs, prom_samples,
                      run_ksight)
from test_api import Stream, get
from test_guard import of
from test_guard_net import flood_while_stopped

N = 7
RULE, SEV = "exec-world-writable", "high"


def alert_series(text):
    """{service: value} of ksight_guard_alerts_total{rule=RULE,severity=SEV}."""
    out = {}
    for (name, labels), v in prom_samples(text).items():
        lab = dict(labels)
        if name == "ksight_guard_alerts_total" and lab.get("rule") == RULE and \
                lab.get("severity") == SEV:
            out[lab["service"]] = out.get(lab["service"], 0) + v
    return out


@pytest.mark.kernels
def test_alerts_counted_streamed_and_stored(tmp_path):
    port, db = free_port(), str(tmp_path / "store.db")
    d = tempfile.mkdtemp(prefix="ksight-gagent-", dir="/tmp")
    name = "ga%s" % UNIQ[:10]
    exe = os.path.join(d, name)
    shutil.copy("/usr/bin/true", exe)
    os.chmod(exe, 0o755)
    # a rule of the user's beside the defaults: each exec raises both
    rules = str(tmp_path / "mine.yaml")
    with open(rules, "w") as f:
        f.write("- name: ga-mine\n  severity: low\n  event: exec\n  path: %s/*\n" % d)
    k = Ksight(["run", "--modules", "guard", "--guard-rules", rules, "--listen",
                "127.0.0.1:%d" % port, "--store", db, "--json", "1"])
    try:
        k.wait_ready()
        alerts = Stream(port, "?type=alert")
        assert alerts.status == 200
        alerts.greeted()
        pids = []
        for _ in range(N):
            p = subprocess.Popen([exe])
            p.wait()
            assert p.returncode == 0
            pids.append(p.pid)
        # the stream: exactly the N alerts of these execs (others' alerts may come too)
        got, deadline = [], time.time() + 10 * SLOW
        while time.time() < deadline and len([a for a in got if a["pid"] in pids]) < 2 * N:
            got += [json.loads(m) for _, m in alerts.messages_for(1)]
        got += [json.loads(m) for _, m in alerts.messages_for(1.5)]
        mine = [a for a in got if a["pid"] in pids and a["rule"] == RULE]
        assert [(a["pid"], a["severity"]) for a in got if a["pid"] in pids and
                a["rule"] == "ga-mine"] == [(p, "low") for p in pids], got
        assert [(a["type"], a["rule"], a["severity"], a["event"], a["path"], a["comm"])
                for a in mine] == [("alert", RULE, SEV, "exec", os.path.realpath(exe),
                                    name)] * N, got
        assert [a["pid"] for a in mine] == pids
        assert all(a["type"] == "alert" for a in got)
        services = {a["service"] for a in mine}
        assert len(services) == 1, mine
        svc = services.pop()
        # /metrics: exactly N for the rule, severity and these execs' service, and it
        # stays N (the page is made at each interval's end)
        deadline, series = time.time() + 10 * SLOW, {}
        while time.time() < deadline and series.get(svc) != N:
            status, text = get(port, "/metrics")
            assert status == 200
            series = alert_series(text)
            time.sleep(0.3)
        assert series.get(svc) == N, (svc, series)
        time.sleep(1.5)
        status, text = get(port, "/metrics")
        assert alert_series(text).get(svc) == N
        assert prom_samples(text)[("ksight_guard_alerts_total", frozenset(
            {"rule": "ga-mine", "severity": "low", "service": svc}.items()))] == N
        assert prom_samples(text)[("ksight_guard_records_lost_total", frozenset())] == 0
        alerts.close()
    finally:
        rc = k.stop()
        shutil.rmtree(d, ignore_errors=True)
    assert rc == 0, k.stderr
    # --json printed the same alerts; the summary line counted them per severity
    printed = [r for r in k.records("alert") if r["pid"] in pids and r["rule"] == RULE]
    assert [r["pid"] for r in printed] == pids
    sums = k.records("summary")
    guard_sums = [s for s in sums if s.get("module") == "guard"]
    assert guard_sums, sums[:3]
    assert sum(s["high"] for s in guard_sums) >= N and sum(s["low"] for s in guard_sums) >= N
    assert all(s["alerts"] == s["critical"] + s["high"] + s["medium"] + s["low"]
               for s in guard_sums), guard_sums
    # the store kept them after the agent stopped: ksight query, and SQLite itself
    r = run_ksight(["query", "--store", db, "alerts", "--since", "1h", "-n", name, "--json"])
    assert r.returncode == 0, r.stderr
    stored = [json.loads(l) for l in r.stdout.splitlines()]
    assert [(a["pid"], a["rule"], a["severity"]) for a in stored
            if a["rule"] == RULE] == [(p, RULE, SEV) for p in pids], stored
    assert sorted(a["pid"] for a in stored if a["rule"] == "ga-mine") == sorted(pids)
    con = sqlite3.connect(db)
    rows = con.execute("SELECT pid, comm FROM events WHERE type = 'alert' AND comm = ? "
                       "AND json_extract(json, '$.rule') = ? ORDER BY id",
                       (name, RULE)).fetchall()
    con.close()
    assert rows == [(p, name) for p in pids]
    table = run_ksight(["query", "--store", db, "alerts", "--since", "1h", "-n", name])
    assert table.returncode == 0 and table.stdout.count(RULE) == N, table.stdout


@pytest.mark.parametrize("text,where", [
    ("- name: x\n  severity: loud\n  event: exec\n", ":2:13"),
    ("- name: y\n  event: exec\n  nosuch: 1\n", ":3:3"),
])
def test_bad_rule_file_refuses_the_agent(tmp_path, text, where):
    path = str(tmp_path / "bad.yaml")
    with open(path, "w") as f:
        f.write(text)
    r = run_ksight(["run", "--modules", "guard", "--guard-rules", path, "--listen", "none",
                    "--no-store", "1", "1"])
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ksight run: " + path + where), lines
    # the tool says the same of the same file
    t = run_ksight(["guard", "-r", path, "--list-rules"])
    assert t.returncode == 2 and (path + where) in t.stderr


def test_guard_rules_without_guard_is_refused(tmp_path):
    path = str(tmp_path / "ok.yaml")
    with open(path, "w") as f:
        f.write("- name: mine\n  severity: low\n  event: exec\n  path: /nonexistent/*\n")
    r = run_ksight(["run", "--modules", "exec", "--guard-rules", path, "--listen", "none",
                    "--no-store", "1", "1"])
    assert r.returncode == 2
    assert r.stderr.strip() == \
        "ksight run: --guard-rules: guard does not run (--modules ...,guard)"


def test_bad_reserve_size_is_refused():
    r = run_ksight(["run", "--modules", "guard", "--guard-reserve-size", "12288", "--listen",
                    "none", "--no-store", "1", "1"])
    assert r.returncode == 2
    assert r.stderr.strip() == "ksight run: --guard-reserve-size: 12288 is not a power of two"


def test_without_guard_nothing_of_guard_is_loaded():
    port = free_port()
    k = Ksight(["run", "--modules", "exec", "--listen", "127.0.0.1:%d" % port, "--no-store",
                "1"])
    try:
        k.wait_ready()
        progs = loaded_progs(k.proc.pid)
        assert progs and not [p for p in progs if p.startswith("guard")], progs
        time.sleep(1.5)
        status, text = get(port, "/metrics")
        assert status == 200 and "ksight_exec" in text
        assert "ksight_guard" not in text
        status, st = get(port, "/api/status")
        assert "guard" not in [m["name"] for m in json.loads(st)["modules"]]
    finally:
        assert k.stop() == 0, k.stderr


def test_lost_security_records_alert_at_once_in_the_agent(tmp_path):
    """The agent (interval 60 s: no interval's end comes) stopped while a fork storm fills
    its 4 KiB shared ring and a helper writes 400 times into a child's /proc/PID/mem, with
    a one-page reserve: once continued, the guard-records-lost alert comes at once (before
    any interval's end), what it counts covers the missing alerts, the last summary counts
    it, and the agent exits 1."""
    n, port = 400, free_port()
    k = Ksight(["run", "--modules", "guard", "--guard-reserve-size", "4096", "--ringbuf-size",
                "4096", "--listen", "127.0.0.1:%d" % port, "--no-store", "--json", "60"])
    k.wait_ready()
    mem_pid, words = flood_while_stopped(k, n, tmp_path)
    assert words[3] == str(n)
    deadline, lost = time.time() + 10 * SLOW, []
    while time.time() < deadline and not lost:
        time.sleep(0.2)
        lost = [a for a in k.records("alert") if a["rule"] == "guard-records-lost"]
    assert lost and lost[0]["severity"] == "critical", k.stderr
    assert not k.records("summary")     # at once: no interval ended yet
    rc = k.stop()
    assert rc == 1, k.stderr
    lost = [a for a in k.records("alert") if a["rule"] == "guard-records-lost"]
    got = of(k.records("alert"), mem_pid, "memory-write")
    assert len(got) < 1 + n and sum(a["lost"] for a in lost) >= 1 + n - len(got), \
        (len(got), lost)
    assert "security records lost" in k.stderr
    # the last summary (at the stop) counted the critical alerts
    sums = [s for s in k.records("summary") if s.get("module") == "guard"]
    assert sums and sums[-1]["critical"] >= len(lost), sums
