# SPDX-License-Identifier: GPL-2.0
"""ksight run --metrics FILE: a YAML metric's series budget (past it the counts go to the
overflow series and the sum stays exact), its rollups in the store, and its program's cost
in `ksight status --live`. References: execs of programs copied under unique names, their
counts known to the test."""
import json
import shutil
import subprocess

from conftest import KSIGHT, SLOW, UNIQ, Ksight, free_port, run_ksight
from test_metrics import L, agent, scrape_until

BUDGET_YAML = """\
metrics:
  - name: mt_budget_total
    type: counter
    probe: sched:sched_process_exec
    labels: [comm]
    filter: 'comm == "{prefix}*"'
    budget: 1
"""


def exec_n(path, n):
    for _ in range(n):
        subprocess.run([str(path)], check=True)


def programs(tmp_path, *names):
    """Copies of true under @names (comm: the name), in tmp_path."""
    out = []
    for name in names:
        out.append(tmp_path / name)
        shutil.copy("/bin/true", out[-1])
    return out


def test_budget_overflow_keeps_the_sum(tmp_path):
    """A budget of one label set: two programs of different names exec n1 and n2 times; one
    has its own series, the other's count is in the overflow series, the sum over the series
    is exactly n1 + n2, and the refusals are counted."""
    n1, n2 = 4, 6
    prefix = "kmb" + UNIQ
    a, b = programs(tmp_path, prefix + "a", prefix + "b")
    (tmp_path / "m.yaml").write_text(BUDGET_YAML.format(prefix=prefix))
    port = free_port()
    k = agent(tmp_path / "m.yaml", port)

    def series(g):
        return {lab: v for (name, lab), v in g.items() if name == "ksight_mt_budget_total"}
    try:
        exec_n(a, n1)
        exec_n(b, n2)
        got = scrape_until(port, lambda g: sum(series(g).values()) == n1 + n2)
    finally:
        rc = k.stop()
    assert rc == 0, k.stderr
    c = series(got)
    assert sum(c.values()) == n1 + n2 and len(c) == 2, c
    over = [v for lab, v in c.items() if ("ksight_overflow", "true") in lab]
    named = [v for lab, v in c.items() if ("ksight_overflow", "true") not in lab]
    assert sorted(over + named) == [n1, n2] and len(over) == 1, c
    assert got[("ksight_metric_budget_hits_total", L(metric="ksight_mt_budget_total"))] >= 1


COUNTER_YAML = """\
metrics:
  - name: mt_live_total
    type: counter
    probe: sched:sched_process_exec
    filter: 'comm == "{comm}"'
"""


def test_status_live_shows_the_metrics_program(tmp_path):
    """`ksight status --live` lists the metric's program (trace__tp) under the agent's pid,
    with the runs it made while the statistics were on: at least the n execs it counted,
    and the metric says exactly n."""
    comm, n = "kml" + UNIQ, 20
    (prog,) = programs(tmp_path, comm)
    (tmp_path / "m.yaml").write_text(COUNTER_YAML.format(comm=comm))
    port = free_port()
    k = agent(tmp_path / "m.yaml", port)
    live = None
    try:
        live = subprocess.Popen([KSIGHT, "status", "--live", "--json", "2", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        live.stderr.readline()      # "N ksight programs loaded": statistics are on
        exec_n(prog, n)
        out, err = live.communicate(timeout=30 * SLOW)
        assert live.returncode == 0, err
        got = scrape_until(port, lambda g: g.get(("ksight_mt_live_total", L())) == n)
    finally:
        if live and live.poll() is None:
            live.kill()
            live.wait()
        rc = k.stop()
    assert rc == 0, k.stderr
    assert got[("ksight_mt_live_total", L())] == n
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    mine = [r for r in rows if r.get("prog") == "trace__tp" and r.get("pid") == k.proc.pid]
    assert len(mine) == 1, out
    assert mine[0]["runs_per_s"] * 2 >= n and mine[0]["ns_per_run"] > 0, mine


STORE_YAML = """\
metrics:
  - name: mt_stored_total
    type: counter
    probe: sched:sched_process_exec
    labels: [comm]
"""


def test_rolled_up_in_the_store(tmp_path):
    """A YAML counter is a registry metric like the agent's own: its deltas are rolled up
    in the store each interval, and `ksight query metric` totals exactly the n execs of a
    program of a unique name."""
    comm, n = "kms" + UNIQ, 9
    (prog,) = programs(tmp_path, comm)
    (tmp_path / "m.yaml").write_text(STORE_YAML)
    db, port = tmp_path / "k.db", free_port()
    k = Ksight(["run", "--modules", "exec", "--listen", "127.0.0.1:%d" % port, "--store",
                str(db), "--metrics", str(tmp_path / "m.yaml"), "1"])
    k.wait_ready()
    try:
        exec_n(prog, n)
        got = scrape_until(port, lambda g: g.get(("ksight_mt_stored_total", L(comm=comm))) == n)
    finally:
        rc = k.stop()
    assert rc == 0, k.stderr
    assert got[("ksight_mt_stored_total", L(comm=comm))] == n
    r = run_ksight(["query", "--store", str(db), "metric", "ksight_mt_stored_total",
                    "--since", "1d", "--json"])
    assert r.returncode == 0, r.stderr
    recs = [json.loads(line) for line in r.stdout.splitlines()]
    assert sum(x["total"] for x in recs if x["labels"] == {"comm": comm}) == n, recs
