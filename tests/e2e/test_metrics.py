# SPDX-License-Identifier: GPL-2.0
"""ksight run --metrics FILE: YAML counters and histograms from a tracepoint, a uprobe and a
USDT probe, on /metrics while the agent runs. References: execs of a program copied under a
unique name (their count and their pids are known to the test), and utarget's ks_target(i,
3i) calls and USDT ticks (i, 7i) for i in 0..U-1. Bad files exit 2 with the exact
line:column."""
import os
import shutil
import subprocess
import time
import urllib.request

import pytest

from conftest import (SCALE, SLOW, UNIQ, Helper, Ksight, bpf_ids, bpftool_ids, free_port,
                      helper_path, prom_samples, run_ksight)

U = 5000 // SCALE
UTARGET = helper_path("utarget")


def scrape_until(port, pred, timeout=15):
    url = "http://127.0.0.1:%d/metrics" % port
    deadline = time.time() + timeout * SLOW
    while True:
        with urllib.request.urlopen(url, timeout=10 * SLOW) as r:
            got = prom_samples(r.read().decode())
        if pred(got) or time.time() > deadline:
            return got
        time.sleep(0.2)


def L(**kw):
    return frozenset(kw.items())


def agent(path, port, *extra):
    k = Ksight(["run", "--modules", "exec", "--no-store", "--listen", "127.0.0.1:%d" % port,
                "--metrics", str(path)] + list(extra) + ["1"])
    k.wait_ready()
    return k


def check_buckets(got, name, values, **labels):
    """The cumulative buckets shown are exactly those of @values (log2 slot s: [2^s,
    2^(s+1)), slot 0 also 0: le = 2^(s+1) - 1 holds every value up to it, inclusive as
    Prometheus says), up to the last value's, and +Inf holds them all."""
    les = sorted(float(dict(k[1])["le"]) for k in got if k[0] == name + "_bucket"
                 and {a: b for a, b in k[1] if a != "le"} == labels)
    assert les and les[-1] == float("inf")
    assert les[-2] >= max(values), les
    for le in les:
        want = sum(1 for v in values if v <= le)
        text = "+Inf" if le == float("inf") else "%d" % le
        assert got[(name + "_bucket", L(le=text, **labels))] == want, (le, want)


EXEC_YAML = """\
metrics:
  - name: mt_execs_total
    help: Executions per program name
    type: counter
    probe: sched:sched_process_exec
    labels: [comm]
  - name: ksight_mt_exec_pid
    type: histogram
    probe: sched:sched_process_exec
    value: pid
    labels: {{prog: comm}}
    filter: 'comm == "{comm}"'
  - name: mt_mine_total
    type: counter
    probe: t:sched:sched_process_exec
    filter: 'comm == "{comm}"'
"""


@pytest.mark.kernels
def test_exec_counter_and_histogram_exact(tmp_path):
    """A counter keyed by comm on sched_process_exec counts the test's 100 execs of a
    program of a unique name exactly, on /metrics while the agent runs; the histogram of the
    record's pid has _count 100 and _sum the sum of the pids the test saw, in the log2
    buckets those pids fall in; the unlabelled filtered counter says 100 too; each metric's
    program cost is beside it."""
    n = 100 // min(SCALE, 10)
    comm = "ksm" + UNIQ
    prog = tmp_path / comm
    shutil.copy("/bin/true", prog)
    (tmp_path / "m.yaml").write_text(EXEC_YAML.format(comm=comm))
    port = free_port()
    # the statistics on all the time, so that every exec's run is counted
    k = agent(tmp_path / "m.yaml", port, "--bpf-stats")
    try:
        pids = []
        for _ in range(n):
            p = subprocess.Popen([str(prog)])
            pids.append(p.pid)
            assert p.wait() == 0
        got = scrape_until(port, lambda g: g.get(("ksight_mt_execs_total", L(comm=comm))) == n
                           and g.get(("ksight_mt_exec_pid_count", L(prog=comm))) == n)
    finally:
        rc = k.stop()
    assert rc == 0, k.stderr
    assert got[("ksight_mt_execs_total", L(comm=comm))] == n
    assert got[("ksight_mt_mine_total", L())] == n
    assert got[("ksight_mt_exec_pid_count", L(prog=comm))] == n
    assert got[("ksight_mt_exec_pid_sum", L(prog=comm))] == sum(pids)
    check_buckets(got, "ksight_mt_exec_pid", pids, prog=comm)
    for name in ("ksight_mt_execs_total", "ksight_mt_exec_pid", "ksight_mt_mine_total"):
        runs = got[("ksight_bpf_prog_runs_total", L(module="metrics:" + name,
                                                   program="trace__tp"))]
        assert runs >= n
        assert ("ksight_bpf_prog_run_seconds_total", L(module="metrics:" + name,
                                                       program="trace__tp")) in got
        assert got[("ksight_metrics_file_drops_total", L(metric=name))] == 0


UPROBE_YAML = """\
metrics:
  - name: mt_target_arg0
    type: histogram
    probe: u:{utarget}:ks_target
    value: arg0
  - name: mt_tick_arg1
    type: histogram
    probe: usdt:{utarget}:ksight_test:tick
    value: arg1
    filter: arg0 >= 10
  - name: mt_ticks_total
    type: counter
    probe: usdt:{utarget}:ksight_test:tick
    labels: [comm]
"""


def test_uprobe_and_usdt_histograms_exact(tmp_path):
    """utarget's U calls of ks_target(i, 3i) and U USDT ticks (i, 7i): the uprobe
    histogram of arg0 has count U, sum 0+...+(U-1) and its log2 buckets exactly; the USDT
    histogram of arg1 filtered on arg0 >= 10 counts U-10 with sum 7*(10+...+(U-1)); the USDT
    counter by comm says U."""
    (tmp_path / "m.yaml").write_text(UPROBE_YAML.format(utarget=UTARGET))
    port = free_port()
    k = agent(tmp_path / "m.yaml", port)
    h = Helper("utarget", U)
    try:
        h.go()
        assert h.readline().split()[:2] == ["done", str(U)]
        got = scrape_until(port, lambda g: g.get(("ksight_mt_ticks_total",
                                                  L(comm="utarget"))) == U
                           and g.get(("ksight_mt_target_arg0_count", L())) == U)
    finally:
        h.kill()
        rc = k.stop()
    assert rc == 0, k.stderr
    assert got[("ksight_mt_target_arg0_count", L())] == U
    assert got[("ksight_mt_target_arg0_sum", L())] == sum(range(U))
    check_buckets(got, "ksight_mt_target_arg0", list(range(U)))
    assert got[("ksight_mt_tick_arg1_count", L())] == U - 10
    assert got[("ksight_mt_tick_arg1_sum", L())] == 7 * sum(range(10, U))
    assert got[("ksight_mt_ticks_total", L(comm="utarget"))] == U


COST_YAML = """\
metrics:
  - name: mt_cost_arg0
    type: histogram
    probe: u:{utarget}:ks_target
    value: arg0
"""


def calls(n):
    """utarget's n calls of ks_target, done."""
    h = Helper("utarget", n)
    try:
        h.go()
        assert h.readline().split()[0] == "done"   # (its USDT ticks: none, unwatched)
    finally:
        h.kill()


def test_cost_sampled_one_interval_in_n(tmp_path):
    """--metrics samples what its programs cost: the kernel's BPF statistics are held on
    for one interval in --bpf-stats-every (3, 1 s intervals here). utarget's calls made
    while the agent holds them off count in the metric and not in the uprobe program's
    runs; calls made while it holds them on count in both, exactly; the time held grows by
    one interval per window."""
    (tmp_path / "m.yaml").write_text(COST_YAML.format(utarget=UTARGET))
    port = free_port()
    k = agent(tmp_path / "m.yaml", port, "--bpf-stats-every", "3")
    runs = ("ksight_bpf_prog_runs_total", L(module="metrics:ksight_mt_cost_arg0",
                                            program="trace__uprobe"))
    on, held, count = ("ksight_bpf_stats_enabled", L()), \
        ("ksight_bpf_stats_on_seconds_total", L()), ("ksight_mt_cost_arg0_count", L())
    n, total = max(50, U // 10), 0
    try:
        # off: right after a window closed (two intervals off follow), N calls; a slow
        # machine whose window opened meanwhile tries again
        for _ in range(3):
            scrape_until(port, lambda g: g.get(on) == 1)
            g0 = scrape_until(port, lambda g: g.get(on) == 0)
            calls(n)
            total += n
            g1 = scrape_until(port, lambda g: True)     # (values: at the next interval)
            if g1[on] == 0:
                break
        assert g1[on] == 0, (g0, g1)
        # on: right after a window opened, M calls; the window's end reads them
        first = None
        for _ in range(3):
            g2 = scrape_until(port, lambda g: g.get(on) == 1)
            first = first or g2
            calls(n)
            total += n
            g3 = scrape_until(port, lambda g: True)     # still the window g2 saw open?
            if g3[on] == 1 and g3[held] == g2[held]:
                break
        assert g3[on] == 1 and g3[held] == g2[held], (g2, g3)
        g4 = scrape_until(port, lambda g: g.get(on) == 0 and g.get(count) == total)
    finally:
        rc = k.stop()
    assert rc == 0, k.stderr
    assert g4[count] == total
    # the off calls are in no run count: the next window's start read what g0 read
    assert first[runs] == g0[runs], (g0[runs], first[runs])
    assert g4[runs] - g2[runs] == n, (g2[runs], g4[runs], n)
    assert 0.8 <= g4[held] - g2[held] <= 1.5 * SLOW, (g2[held], g4[held])


GOOD = """\
metrics:
  - name: bad_total
    type: counter
    probe: sched:sched_process_exec
"""

BAD = [
    # (text, line:col, words of the reason)
    ("metrics:\n  - name: a_total\n    type: [counter\n", "4:1", "flow sequence"),
    ("metrics:\n  - name: a_total\n    type: counter\n    probe: sched:sched_process_exec\n"
     "    labels: [comm, bogus]\n", "5:20", "unknown field 'bogus'"),
    ("metrics:\n  - name: a_total\n    type: counter\n    probe: sched:sched_process_exec\n"
     "    filter: 'pid > 1 && bogus == 2'\n", "5:25", "filter: unknown field 'bogus'"),
    ("metrics:\n  - name: a_total\n    type: counter\n    probe: sched:sched_process_exec\n"
     "    filter: pid >> 1\n", "5:18", "filter: expected a number"),
    ("metrics:\n  - name: a_total\n    type: counter\n    probe: sched:no_such_tp_here\n",
     "4:12", "no such tracepoint"),
    ("metrics:\n  - name: a_total\n    type: counter\n    probe: sched:sched_process_exec\n"
     "    colour: red\n", "5:5", "unknown key 'colour'"),
    ("metrics:\n  - name: a\n    type: counter\n    probe: sched:sched_process_exec\n",
     "2:11", "ends in _total"),
    ("metrics:\n  - name: lat\n    type: histogram\n    probe: sched:sched_process_exec\n"
     "    value: filename\n", "5:12", "is a string"),
    ("metrics:\n  - name: a_total\n    type: counter\n    probe: u:/bin/true:no_such_fn\n",
     "4:12", "no_such_fn"),
    (GOOD + "  - name: bad_total\n    type: counter\n    probe: sched:sched_process_fork\n",
     "5:11", "a second metric"),
]


@pytest.mark.parametrize("text,where,why", BAD, ids=[b[2].split("'")[0].strip()
                                                     for b in BAD])
def test_bad_files_exit_2_with_line_and_column(tmp_path, text, where, why):
    """Each bad file: exit 2, one line FILE:LINE:COL: reason, nothing loaded."""
    check_bad_file(tmp_path, text, where, why)


def check_bad_file(tmp_path, text, where, why):
    """ksight run --metrics on @text: exit 2 and one line "FILE:@where: ...@why..."."""
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    r = run_ksight(["run", "--no-store", "--listen", "none", "--metrics", str(f)])
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("ksight run: %s:%s: " % (f, where)), lines[0]
    assert why in lines[0], lines[0]
    assert "ready" not in r.stderr


def test_missing_file_and_nothing_left(tmp_path):
    """A file that is not there: exit 2. After the agent stops, none of its metrics'
    programs stays loaded."""
    r = run_ksight(["run", "--no-store", "--listen", "none", "--metrics",
                    str(tmp_path / "none.yaml")])
    assert r.returncode == 2 and "none.yaml" in r.stderr
    (tmp_path / "m.yaml").write_text(GOOD)
    k = agent(tmp_path / "m.yaml", free_port())
    ids = bpf_ids(k.proc.pid)["prog"]
    rc = k.stop()
    assert rc == 0, k.stderr
    assert ids
    deadline = time.time() + 10 * SLOW
    while ids & bpftool_ids("prog") and time.time() < deadline:
        time.sleep(0.1)
    assert not ids & bpftool_ids("prog")


KFUNC_YAML = """\
metrics:
  - name: mt_getppid_total
    type: counter
    probe: kfunc:{fn}
    filter: pid == {pid}
  - name: mt_forks_total
    type: counter
    probe: sched:sched_process_fork
    filter: parent_pid == {pid}
"""


@pytest.mark.kernels
def test_kernel_function_counter(tmp_path, kernel_hooks):
    """fcalls enters getppid's kernel function N times and forks N times: a kfunc: counter
    (fentry where allowed, else a kprobe) filtered on its pid says N, beside a tracepoint
    counter saying N. Where the kernel has neither fentry nor kprobes (this host): the
    kfunc metric is left out with one line naming both features, and the other still
    counts exactly N."""
    from test_trace import getppid_function, has_kprobes
    n = 1000 // SCALE
    h = Helper("fcalls", n)
    try:
        (tmp_path / "m.yaml").write_text(KFUNC_YAML.format(fn=getppid_function(), pid=h.pid))
        port = free_port()
        k = agent(tmp_path / "m.yaml", port)
        usable = kernel_hooks.usable("exec", "fentry") or has_kprobes()
        try:
            h.go()
            assert h.readline().startswith("done")
            got = scrape_until(port, lambda g: g.get(("ksight_mt_forks_total", L())) == n and
                               (not usable or g.get(("ksight_mt_getppid_total", L())) == n))
        finally:
            rc = k.stop()
    finally:
        h.kill()
    assert rc == 0, k.stderr
    assert got[("ksight_mt_forks_total", L())] == n
    left = [l for l in k.stderr.splitlines() if "left out" in l]
    if usable:
        assert got[("ksight_mt_getppid_total", L())] == n
        assert left == []
    else:
        assert ("ksight_mt_getppid_total", L()) not in got
        (line,) = left
        assert "ksight_mt_getppid_total left out" in line
        assert "fentry:" in line and "kprobes:" in line
