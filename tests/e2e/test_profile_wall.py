# SPDX-License-Identifier: GPL-2.0
"""ksight profile --wall: a helper (wallmix) spins SPIN ms of CPU in ks_wall_spin(), sleeps
SLEEP ms in ks_wall_sleep(), and runs two threads pinned to one CPU that each spin QUEUE
ms of CPU in ks_wall_queue(), so that one of them waits in the run queue while the other
runs. The on-CPU time (samples at the sampling period) and the run-queue time match the
kernel's own numbers, /proc/PID/task/TID/schedstat fields 1 and 2, summed over the
helper's threads by the helper; the folded stacks carry the three kinds under the right
functions; the SVG colours them apart; --per-cgroup roots the stacks at the cgroup."""
import json
import os
import xml.etree.ElementTree as ET

import pytest

from attach_util import Cgroup
from conftest import SCALE, SLOW, Helper, Ksight

FREQ = 999
PERIOD_NS = 10**9 // FREQ
SPIN_MS = max(60, 300 // SCALE)
SLEEP_MS = max(60, 300 // SCALE)
QUEUE_MS = max(40, 200 // SCALE)
HOOKS = [None, "tp_btf", "raw_tp"]
# A stack map is a hash table of one stack per bucket (the bucket is the stack's hash):
# two different stacks in one bucket lose the second (counted as a collision). The run
# makes ~20 distinct stacks: with the default 16384 buckets, about one run in a hundred
# collides; with 4x the buckets, one in 400 (and a collision is still counted, below).
STACKS = 65536


def walled(args, cgroup=None):
    """wallmix under `ksight profile --wall -F FREQ ARGS` (-p PID unless @cgroup, which the
    helper is moved into): the stopped ksight, and the helper's schedstat run time and
    run-queue wait (ns, its three threads' changes over their work)."""
    h = Helper("wallmix", SPIN_MS, SLEEP_MS, QUEUE_MS)
    try:
        if cgroup:
            cgroup.add(h.pid)
            target = ["--cgroup", cgroup.path]
        else:
            target = ["-p", str(h.pid)]
        k = Ksight(["profile", "--wall", "-F", str(FREQ), "--stack-storage", str(STACKS)]
                   + target + args)
        k.wait_ready()
        h.go()
        words = h.result(timeout=60 * SLOW)
        assert words[0] == "done", words
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    return k, int(words[1]), int(words[2])


def check_on_cpu(ns, run_ns):
    """Samples at FREQ of a CPU time: within 10% (and 30 ms) of the kernel's run time."""
    assert abs(ns - run_ns) <= 0.1 * run_ns + 30e6 * SLOW, (ns, run_ns)


def check_runqueue(ns, wait_ns):
    """From sched_waking (or a preempted switch-out) to the switch-in, against the
    kernel's run_delay (from the enqueue): within 5% (and 20 ms: a wait after the helper's
    last read of schedstat, before its exit, is only ksight's)."""
    assert abs(ns - wait_ns) <= 0.05 * wait_ns + 20e6 * SLOW, (ns, wait_ns)
    # two threads spinning QUEUE ms each on one CPU: one waits while the other runs
    assert ns >= 0.8 * QUEUE_MS * 1e6, ns


class Folded(dict):
    """{(root, kind, function): ns}: a missing key fails with the whole set and the tally."""

    def __init__(self, k):
        super().__init__()
        self.stderr = k.stderr
        # the heaviest lines, so that a failure shows what the stacks were instead
        self.top = sorted(k.out_lines, key=lambda l: -int(l.rsplit(" ", 1)[1]))[:12]

    def __missing__(self, key):
        raise AssertionError("%r not among %r (%s)\nheaviest folded lines:\n%s"
                             % (key, dict(self), self.stderr, "\n".join(self.top)))


def folded(k):
    """{(root, kind, function): ns} of the folded lines, each line under every helper
    function on its stack; and the total per kind."""
    by, kinds = Folded(k), {}
    for line in k.out_lines:
        stack, ns = line.rsplit(" ", 1)
        frames, ns = stack.split(";"), int(ns)
        assert frames[1] in ("[on-cpu]", "[runqueue]", "[off-cpu]"), line
        kinds[frames[1]] = kinds.get(frames[1], 0) + ns
        for f in set(frames[2:]):
            if f.startswith("ks_wall_"):
                key = (frames[0], frames[1], f)
                by[key] = by.get(key, 0) + ns
    return by, kinds


@pytest.mark.kernels
@pytest.mark.parametrize("hooks", HOOKS)
def test_shares_match_schedstat(hooks):
    k, run_ns, wait_ns = walled(["--json", "--top", "0"] + (["--hooks", hooks] if hooks else []))
    # the helper did what it says: at least its spins, in CPU time
    assert run_ns >= (SPIN_MS + 2 * QUEUE_MS) * 1e6, run_ns
    rows = k.records("profile_wall")
    assert len(rows) == 1, rows
    r = rows[0]
    check_on_cpu(r["on_cpu_ns"], run_ns)
    check_runqueue(r["runqueue_ns"], wait_ns)
    # blocked: the sleep, and the barrier and join (short)
    assert 0.99 * SLEEP_MS * 1e6 <= r["off_cpu_ns"] <= (SLEEP_MS + 100 * SLOW) * 1e6 + wait_ns, r
    s = k.records("profile_summary")[-1]
    assert s["on_cpu_ns"] == r["on_cpu_ns"] == s["samples"] * PERIOD_NS, (s, r)
    assert s["runqueue_ns"] == r["runqueue_ns"] and s["off_cpu_ns"] == r["off_cpu_ns"], (s, r)
    # time whose stack was lost is still counted in its kind; only a collision may lose it
    if s["wall_stack_collisions"] == 0:
        assert s["lost_stack_ns"] == 0, "%s\n%s" % (json.dumps(s), k.stderr)
    else:
        assert 0 < s["lost_stack_ns"] <= s["off_cpu_ns"] + s["runqueue_ns"], json.dumps(s)
    assert s["wall_stack_errors"] == 0, json.dumps(s)
    assert k.stats()["lost"] == 0


def test_folded_kinds_under_functions(tmp_path):
    svg = tmp_path / "wall.svg"
    k, run_ns, wait_ns = walled(["--folded", "--svg", str(svg)])
    by, kinds = folded(k)
    check_on_cpu(kinds["[on-cpu]"], run_ns)
    check_runqueue(kinds["[runqueue]"], wait_ns)
    # each function's own kinds: the spins on the CPU (their CPU time, at the sampling
    # rate), the sleep off it for its length, the queued threads in the run queue
    spin = by[("wallmix", "[on-cpu]", "ks_wall_spin")]
    assert abs(spin - SPIN_MS * 1e6) <= 0.1 * SPIN_MS * 1e6 + 20e6 * SLOW, by
    queue = by[("ks_queue", "[on-cpu]", "ks_wall_queue")]
    assert abs(queue - 2 * QUEUE_MS * 1e6) <= 0.2 * QUEUE_MS * 1e6 + 20e6 * SLOW, by
    # from the switch-out (a few microseconds after the timer was set) to the wake-up
    sleep = by[("wallmix", "[off-cpu]", "ks_wall_sleep")]
    assert 0.99 * SLEEP_MS * 1e6 <= sleep <= (SLEEP_MS + 10 * SLOW) * 1e6, by
    assert by[("ks_queue", "[runqueue]", "ks_wall_queue")] >= 0.8 * QUEUE_MS * 1e6, by
    assert ("wallmix", "[off-cpu]", "ks_wall_spin") not in by, by
    # a sample may fall on the system call's way in or out, no more
    assert by.get(("wallmix", "[on-cpu]", "ks_wall_sleep"), 0) <= 5 * PERIOD_NS, by
    assert "profile --wall: on-cpu" in k.stderr, k.stderr
    # the SVG: XML, the kinds' frames in three colours, times in ms
    root = ET.parse(svg).getroot()
    ns = {"s": "http://www.w3.org/2000/svg"}
    fill = {}
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        title = g.find("s:title", ns).text
        name = title[:title.rindex(" (")]
        if name in ("[on-cpu]", "[runqueue]", "[off-cpu]"):
            assert title.endswith("%)") and " ms, " in title, title
            fill[name] = g.find("s:rect", ns).get("fill")
    assert len(fill) == 3 and len(set(fill.values())) == 3, fill


def test_per_cgroup_root():
    cg = Cgroup()
    try:
        k, run_ns, wait_ns = walled(["--per-cgroup", "--folded"], cgroup=cg)
    finally:
        cg.close()
    by, kinds = folded(k)
    roots = {key[0] for key in by}
    assert roots == {"/" + cg.rel}, roots
    check_on_cpu(kinds["[on-cpu]"], run_ns)
    check_runqueue(kinds["[runqueue]"], wait_ns)
    assert by[("/" + cg.rel, "[off-cpu]", "ks_wall_sleep")] >= 0.99 * SLEEP_MS * 1e6, by
