# SPDX-License-Identifier: GPL-2.0
"""ksight run --metrics FILE with raw:CATEGORY:NAME probes: a tracepoint's raw arguments
(tp_btf, else raw_tp, as ksight trace chooses) and member paths through them as labels,
histogram values and filters. References: the helper fcalls forks exactly N children, so
that every fork whose parent is fcalls is known: its parent's comm ("fcalls"), tgid (the
helper's pid) and the child's parent's tgid (the same, two pointers away). Bad raw: metrics
exit 2 with the exact line:column."""
import time

import pytest

from conftest import SCALE, SLOW, Helper, bpf_ids, bpftool_ids, free_port
from test_metrics import L, agent, check_bad_file, check_buckets, scrape_until
from test_trace_raw import raw_names, tp_btf_usable

N = 1000 // SCALE

RAW_YAML = """\
metrics:
  - name: mr_forks_total
    type: counter
    probe: raw:sched:sched_process_fork
    labels: {{parent: {parent}->comm, ptgid: {child}->real_parent->tgid}}
    filter: '{parent}->tgid == {pid}'
    hooks: {hooks}
  - name: mr_parent_tgid
    type: histogram
    probe: raw:sched:sched_process_fork
    value: {parent}->tgid
    filter: '{parent}->comm == "fcalls" && {parent}->tgid == {pid}'
    hooks: {hooks}
  - name: mr_mine_total
    type: counter
    probe: raw:sched:sched_process_fork
    filter: '{parent}->tgid == {pid}'
    hooks: {hooks}
  - name: mr_not_mine_total
    type: counter
    probe: raw:sched:sched_process_fork
    labels: {{parent: {parent}->comm}}
    filter: '!({parent}->tgid == {pid})'
    hooks: {hooks}
"""


@pytest.mark.kernels
@pytest.mark.parametrize("hooks", ["auto", "raw_tp"])
def test_raw_counter_and_histogram_exact(tmp_path, hooks, kernel_hooks):
    """fcalls' N forks, while every fork of the machine is a hit: a counter by the parent's
    comm and the child's parent's tgid (two pointers followed) filtered on a member of the
    parent says exactly N in one series; a histogram of the parent's tgid (a member) has
    _count N, _sum N * pid and all N in pid's bucket; an unlabelled counter says N; its
    negation never counts fcalls. The program is the family chosen: tp_btf where the kernel
    allows it, raw_tp when hooks: asks for it (its cost series names it). After the agent
    stops, none of its programs is loaded."""
    parent, child = raw_names("sched:sched_process_fork")
    h = Helper("fcalls", N)
    try:
        (tmp_path / "m.yaml").write_text(RAW_YAML.format(parent=parent, child=child,
                                                         pid=h.pid, hooks=hooks))
        port = free_port()
        k = agent(tmp_path / "m.yaml", port)
        try:
            h.go()
            assert h.readline().startswith("done")
            mine = L(parent="fcalls", ptgid=str(h.pid))
            got = scrape_until(port, lambda g: g.get(("ksight_mr_forks_total", mine)) == N
                               and g.get(("ksight_mr_parent_tgid_count", L())) == N
                               and g.get(("ksight_mr_mine_total", L())) == N)
            ids = bpf_ids(k.proc.pid)["prog"]
        finally:
            rc = k.stop()
    finally:
        h.kill()
    assert rc == 0, k.stderr
    assert [s for s in got if s[0] == "ksight_mr_forks_total"] == \
        [("ksight_mr_forks_total", mine)], got
    assert got[("ksight_mr_forks_total", mine)] == N
    assert got[("ksight_mr_mine_total", L())] == N
    assert got[("ksight_mr_parent_tgid_count", L())] == N
    assert got[("ksight_mr_parent_tgid_sum", L())] == N * h.pid
    check_buckets(got, "ksight_mr_parent_tgid", [h.pid] * N)
    assert ("ksight_mr_not_mine_total", L(parent="fcalls")) not in got
    prog = "trace__tpbtf" if hooks == "auto" and tp_btf_usable(kernel_hooks) else \
        "trace__rawtp"
    for name in ("ksight_mr_forks_total", "ksight_mr_parent_tgid", "ksight_mr_mine_total"):
        assert got[("ksight_bpf_prog_runs_total", L(module="metrics:" + name,
                                                   program=prog))] >= N, got
        assert got[("ksight_metrics_file_drops_total", L(metric=name))] == 0
    assert "left out" not in k.stderr
    # the raw tracepoints' links went with the agent: none of its programs stays
    assert ids
    deadline = time.time() + 10 * SLOW
    while ids & bpftool_ids("prog") and time.time() < deadline:
        time.sleep(0.1)
    assert not ids & bpftool_ids("prog")


HEAD = "metrics:\n  - name: a_total\n    type: counter\n"
FORK = HEAD + "    probe: raw:sched:sched_process_fork\n"

BAD_RAW = [
    # (text, line:col, words of the reason): arg0 and arg1 are the parent and the child on
    # every kernel (named or not)
    (HEAD + "    probe: raw:sched:no_such_tp_here\n", "4:12", "no such tracepoint"),
    (HEAD + "    probe: raw:sched\n", "4:12", "expected CATEGORY:NAME"),
    (FORK + "    labels: {p: arg0->bogus}\n", "5:23",
     "labels: arg0->bogus: struct task_struct has no member 'bogus'"),
    (FORK + "    labels: [arg1->comm]\n", "5:14", "'arg1->comm' is a member path: name its "
                                             "label"),
    (FORK + "    labels: {p: bogus->pid}\n", "5:17", "'bogus' is not an argument of "
                                              "sched_process_fork"),
    (FORK + "    labels: [bogus]\n", "5:14", "unknown field 'bogus' of "
                                       "raw:sched:sched_process_fork"),
    (FORK + "    filter: 'arg1->pid > 1 && arg0->se == 2'\n", "5:37",
     "filter: arg0->se: 'se' is a struct: name a member with '.'"),
    (FORK + "    filter: 'arg0.pid == 1'\n", "5:18", "'arg0' is not a struct: use '->'"),
    (FORK + "    hooks: kprobe\n", "5:12", "a raw tracepoint is tp_btf, raw_tp or auto"),
    (HEAD + "    probe: sched:sched_process_fork\n    hooks: raw_tp\n", "5:12",
     "hooks is a raw tracepoint's"),
    ("metrics:\n  - name: a\n    type: histogram\n    probe: raw:sched:sched_process_fork\n"
     "    value: arg1->comm\n", "5:12", "'arg1->comm' is a string"),
    ("metrics:\n  - name: a\n    type: histogram\n    probe: raw:sched:sched_process_fork\n"
     "    value: \"arg1->mm->owner->mm->owner->pid\"\n", "5:39",
     "value: arg1->mm->owner->mm->owner->pid: too deep: 4 memory reads at most"),
]


@pytest.mark.parametrize("text,where,why", BAD_RAW,
                         ids=["%d" % i for i in range(len(BAD_RAW))])
def test_bad_raw_metrics_exit_2_with_line_and_column(tmp_path, text, where, why):
    """Each bad raw: metric: exit 2, one line FILE:LINE:COL: reason, the column at the
    character to blame inside a label's, value's or filter's member path."""
    check_bad_file(tmp_path, text, where, why)
