# SPDX-License-Identifier: GPL-2.0
"""ksight run, the agent: summaries each interval, a JSON stream of every module's records,
a fast start."""
import json
import re

from conftest import Helper, Ksight, TEST_UID, UNIQ

OPEN_LINE = re.compile(r"^open\s+open/s ([\d.]+)\s+failed (\d+)\s+top: ?(.*)$")
LOSS_LINE = re.compile(r"^loss\s+events (\d+)\s+lost (\d+)$")


def ready_ms(k):
    m = re.search(r"ready in (\d+) ms", k.stderr)
    assert m, k.stderr
    return int(m.group(1))


def top_counts(text, name):
    """The count of @name in a 'top:' list ("a 3, b 2"), 0 if absent."""
    for item in filter(None, (i.strip() for i in text.split(","))):
        comm, n = item.rsplit(" ", 1)
        if comm == name:
            return int(n)
    return 0


def test_two_summaries_then_exit(workdir):
    n = 3000
    h = Helper("opener", "-c", "kr%s" % UNIQ, workdir, n)
    try:
        k = Ksight(["run", "-p", str(h.pid), "1", "2"])
        k.wait_ready()
        h.go()
        h.result()
        assert k.wait(30) == 0, k.stderr    # two summaries, then it ends by itself
    finally:
        h.kill()
    opens = [OPEN_LINE.match(l) for l in k.out_lines if l.startswith("open ")]
    losses = [LOSS_LINE.match(l) for l in k.out_lines if l.startswith("loss ")]
    execs = [l for l in k.out_lines if l.startswith("exec ")]
    bios = [l for l in k.out_lines if l.startswith("biolat ")]
    assert len(bios) == 2 and all(re.match(r"^biolat\s+io/s [\d.]+", l) for l in bios), k.stdout
    assert len(opens) == 2 and all(opens), k.stdout
    assert len(losses) == 2 and all(losses) and len(execs) == 2, k.stdout
    # every call of the opener is in one of the two intervals, by name
    assert sum(top_counts(m.group(3), "kr%s" % UNIQ) for m in opens) == n
    assert sum(int(m.group(2)) for m in opens) == n // 2
    assert [int(m.group(2)) for m in losses] == [0, 0]
    # the loss line counts every event so far: the opener had exited before the second
    # one (its result came first), so that one counts all of them, as the total at exit
    final = re.match(r"^(\d+) events, 0 lost$", k.stderr.splitlines()[-1])
    assert final, k.stderr
    assert int(losses[-1].group(1)) == int(final.group(1)) >= n + n // 2
    assert ready_ms(k) < 5000


def test_json_stream(pubdir):
    """Every module's records as JSON lines: the opens and the exec of processes of one
    uid, exactly; a ready record first, the final stats last."""
    n = 1000
    o = Helper("opener", "-u", TEST_UID, pubdir, n)
    e = Helper("execer", "-u", TEST_UID, "-F", "/nonexistent/ks-e2e", "/usr/bin/true", "true",
               "x y")
    try:
        k = Ksight(["run", "--json", "--duration", "2", "-u", str(TEST_UID)])
        k.wait_ready()
        o.go()
        e.go()
        o.result()
        e.result()
        assert k.wait(30) == 0, k.stderr
    finally:
        o.kill()
        e.kill()
    recs = [json.loads(l) for l in k.out_lines]
    assert recs[0]["type"] == "ready" and recs[0]["command"] == "run"
    assert recs[-1]["type"] == "stats" and recs[-1]["final"] is True
    assert all("type" in r and "ts" in r for r in recs)
    opens = [r for r in recs if r["type"] == "open" and r["pid"] == o.pid]
    assert len(opens) == n and sum(r["fd"] < 0 for r in opens) == n // 2
    # the rest are true's loader opening its libraries
    assert {r["pid"] for r in recs if r["type"] == "open"} == {o.pid, e.pid}
    execs = [r for r in recs if r["type"] == "exec" and r["pid"] == e.pid]
    assert [(r["event"], r["args"]) for r in execs] == [("fail", ["true", "x y"]),
                                                        ("exec", ["true", "x y"])]
    exits = [r for r in recs if r["type"] == "exit"]
    assert {r["pid"] for r in exits} == {o.pid, e.pid}
    assert {r["uid"] for r in execs + exits} == {TEST_UID}
    st = recs[-1]
    assert st["open"] == sum(r["type"] == "open" for r in recs)
    assert st["lost"] == 0 and st["consistent"] is True
    # the events are every type's count, those aggregated in the kernel included
    meta = {"type", "ts", "events", "lost", "final", "consistent", "seq_gaps"}
    assert st["events"] == sum(v for key, v in st.items()
                               if key not in meta and not key.endswith("_lost"))
    assert st.get("biolat", 0) == sum(r["io"] for r in recs
                                      if r["type"] == "summary" and r["module"] == "biolat")


def test_ready_fast():
    """The agent loads every module in well under a second on an idle machine; this one
    is shared, so the bound is generous. The figure is in the test's properties."""
    k = Ksight(["run"])
    try:
        k.wait_ready()
    finally:
        assert k.stop() == 0, k.stderr
    ms = ready_ms(k)
    print("ksight run: ready in %d ms" % ms)
    assert 0 < ms < 5000
