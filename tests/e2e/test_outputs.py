# SPDX-License-Identifier: GPL-2.0
"""Outputs: records to several sinks at once (-o), each taking only the kinds it asked for;
a file that fails or falls behind is counted and reported, never silently short, while the
other outputs stay whole."""
import json
import os
import re
import stat
import time

from conftest import NOTHING_LOST, Helper, Ksight, UNIQ


def jsonl(path):
    with open(path) as f:
        return [json.loads(l) for l in f]


def run_opener(workdir, ksight_args, n, agent=False):
    """ksight (open, or the agent) around one opener doing n openat calls, filtered to it."""
    h = Helper("opener", "-c", "ko%s" % UNIQ, workdir, n)
    try:
        k = Ksight((["run", "1"] if agent else ["open"]) + ["-p", str(h.pid)] + ksight_args)
        k.wait_ready()
        h.go()
        h.result()
        if agent:
            time.sleep(1.5)     # a summary after the last open
        rc = k.stop()
        return k, h.pid, rc
    finally:
        h.kill()


def test_table_and_file(workdir):
    """The terminal's table and a JSON file at once, each complete; the file is private."""
    n = 2000
    path = os.path.join(workdir, "out.jsonl")
    k, pid, rc = run_opener(workdir, ["-o", "table", "-o", "json:" + path], n)
    assert rc == 0, k.stderr
    rows = [l for l in k.out_lines if l.split()[:1] == [str(pid)]]
    assert len(rows) == n and k.out_lines[0].split()[:2] == ["PID", "COMM"]
    recs = jsonl(path)
    assert recs[0]["type"] == "ready" and recs[-1]["type"] == "stats"
    opens = [r for r in recs if r["type"] == "open"]
    assert len(opens) == n and {r["pid"] for r in opens} == {pid}
    assert sum(r["fd"] < 0 for r in opens) == n // 2
    st = recs[-1]
    assert st["types"]["open"]["events"] == n and st["lost"] == 0
    # every output's count, the file's own record (the stats) not yet in it
    assert st["sinks"]["table"] == {"records": n, "dropped": 0}
    assert st["sinks"]["json:" + path] == {"records": n + 1, "dropped": 0}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # appended to, never truncated: a second run adds its records
    run_opener(workdir, ["-o", "json:" + path], 10)
    assert len([r for r in jsonl(path) if r["type"] == "open"]) == n + 10


def test_kinds(workdir):
    """Each output takes the kinds it names: events to one file, the final stats to another."""
    n = 500
    ev, st = os.path.join(workdir, "ev.jsonl"), os.path.join(workdir, "st.jsonl")
    k, pid, rc = run_opener(workdir, ["-o", "json,event:" + ev, "-o", "json,stats:" + st], n)
    assert rc == 0 and k.out_lines == [], (k.stderr, k.out_lines)
    assert {r["type"] for r in jsonl(ev)} == {"open"} and len(jsonl(ev)) == n
    (final,) = jsonl(st)
    assert final["type"] == "stats" and final["final"] is True
    assert final["types"]["open"]["events"] == n


def test_failing_file_is_reported(workdir):
    """A full disk (/dev/full): every record it lost counted in the stats, said on stderr,
    exit 1; the other output has every record."""
    n = 1000
    k, pid, rc = run_opener(workdir, ["-o", "json", "-o", "json:/dev/full"], n)
    assert rc == 1, k.stderr
    recs = k.records()
    assert len([r for r in recs if r["type"] == "open"]) == n
    full = recs[-1]["sinks"]["json:/dev/full"]
    assert full["dropped"] == full["records"] == n + 1 and full["error"] == "ENOSPC"
    assert recs[-1]["sinks"]["json"]["dropped"] == 0
    err = k.stderr.splitlines()
    assert any("json:/dev/full: No space left on device; its records are dropped and counted"
               in l for l in err), k.stderr
    assert any(re.search(r"json:/dev/full: %d of %d records dropped" % (n + 2, n + 2), l)
               for l in err), k.stderr
    assert re.match(NOTHING_LOST, err[-1]), k.stderr


def test_slow_reader_never_stalls_the_others(workdir):
    """A FIFO whose reader never reads: the file's writer holds what it may (16 MiB), the
    rest is dropped and counted; stdout still gets every record, and the end does not hang
    on the full FIFO."""
    n = 120000
    fifo = os.path.join(workdir, "fifo")
    os.mkfifo(fifo)
    rd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)     # held, never read
    try:
        t0 = time.time()
        # a ring that holds every record even when the reader is slow (ASan): the
        # file's backlog must pass 16 MiB whatever this machine's speed
        k, pid, rc = run_opener(workdir, ["--ringbuf-size", "64M", "-o", "json",
                                          "-o", "json:" + fifo], n)
        took = time.time() - t0
    finally:
        os.close(rd)
    assert rc == 1, k.stderr
    recs = k.records()
    st = recs[-1]
    opens = [r for r in recs if r["type"] == "open"]
    assert len(opens) == st["types"]["open"]["events"]
    assert len(opens) + st["types"]["open"]["lost"] == n
    assert len(opens) * 300 > 16 << 20, st    # more than the writer may hold back
    slow = st["sinks"]["json:" + fifo]
    assert 0 < slow["dropped"] < slow["records"], slow
    assert any("json:%s: the output is slower than the records" % fifo in l
               for l in k.err_lines), k.stderr
    assert took < 60


def test_agent_summaries_and_events(workdir):
    """The agent: summaries on the terminal, every event in a file at the same time."""
    n = 3000
    path = os.path.join(workdir, "agent.jsonl")
    k, pid, rc = run_opener(workdir, ["-o", "table", "-o", "json,event:" + path], n,
                            agent=True)
    assert rc == 0, k.stderr
    opens = [r for r in jsonl(path) if r["type"] == "open"]
    assert len(opens) == n and {r["pid"] for r in opens} == {pid}
    assert {r["type"] for r in jsonl(path)} <= {"open", "exit", "rw", "rw_fd", "proc"}
    lines = [l for l in k.out_lines if l.startswith("open ")]
    assert lines and not any(l.startswith(str(pid)) for l in k.out_lines)
    calls = sum(int(m.group(1)) for m in
                (re.search(r"top: ko%s (\d+)" % UNIQ, l) for l in lines) if m)
    assert calls == n
