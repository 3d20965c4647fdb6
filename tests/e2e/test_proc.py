# SPDX-License-Identifier: GPL-2.0
"""ksight proc: exact forks, threads, execs and exits of a helper with 3 threads and 2
children (one exits 7, one is killed), the -p filter, the process tree, hook families."""
import os
import signal
import subprocess
import time

import pytest

from conftest import Helper, Ksight, run_ksight

THREAD_FLAGS = ["CLONE_VM", "CLONE_FS", "CLONE_FILES", "CLONE_SIGHAND", "CLONE_THREAD"]


class Life(Helper):
    """The lifecycle helper, stepped line by line."""

    def __init__(self, *args):
        super().__init__("lifecycle", *args)
        self.children = []

    def kill(self):
        for c in self.children:
            try:
                os.kill(c, signal.SIGKILL)
            except ProcessLookupError:
                pass
        super().kill()

    def line(self, word):
        words = self.proc.stdout.readline().decode().split()
        assert words and words[0] == word, "helper said %r, expected %s" % (words, word)
        nums = [int(w) for w in words[1:]]
        if word == "children":
            self.children = nums
        return nums

    def run(self):
        """Threads, children, their ends; returns (thread tids, child a, child b)."""
        self.go()
        tids = self.line("threads")
        a, b = self.line("children")
        self.go()
        status_a, status_b = self.line("done")
        assert (status_a, status_b) == (7 << 8, signal.SIGKILL)
        self.go()
        assert self.proc.wait(10) == 0
        return tids, a, b


def traced(args, helper_args=()):
    """Run the helper's whole life under `ksight proc --json <args>` ({pid}: the helper)."""
    h = Life(*helper_args)
    try:
        k = Ksight(["proc", "--json"] + [a.replace("{pid}", str(h.pid)) for a in args])
        k.wait_ready()
        tids, a, b = h.run()
        assert k.stop() == 0, k.stderr
        return k, h.pid, tids, a, b
    finally:
        h.kill()


def events(k, pid, event):
    return [r for r in k.records("proc") if r["pid"] == pid and r["event"] == event]


def clock_slack():
    """CPU time runs on the scheduler's clock, lifetime on the monotonic one. They agree
    where the monotonic clock is the TSC; in emulated machines (qemu TCG marks the TSC
    unstable and uses the HPET) CPU time was seen 2x ahead of the lifetime, and once on
    the 6.12 guest 9.2 ms against a lifetime of a few: bounded, not compared, there."""
    with open("/sys/devices/system/clocksource/clocksource0/current_clocksource") as f:
        return 1.0 if f.read().strip() in ("tsc", "kvm-clock") else 10.0


def within_lifetime(r):
    return r["cpu_ns"] <= r["lifetime_ns"] * clock_slack() and r["lifetime_ns"] < 60 * 10**9


def check_threads_and_forks(k, pid, tids, a, b):
    me = os.getpid()
    threads = events(k, pid, "thread")
    assert sorted(r["child_tid"] for r in threads) == sorted(tids) and len(threads) == 3
    for r in threads:
        assert r["tid"] == pid and r["child_pid"] == pid and r["ppid"] == me
        assert r["clone_flags"] == THREAD_FLAGS and r["comm"] == "lifecycle"
        assert r["kernel_thread"] is False
    forks = events(k, pid, "fork")
    assert sorted(r["child_pid"] for r in forks) == sorted([a, b]) and len(forks) == 2
    for r in forks:
        assert r["tid"] == pid and r["ppid"] == me
        assert r["child_tid"] == r["child_pid"] and r["child_ppid"] == pid
        assert r["clone_flags"] == [] and r["clone_flags_value"] == 0
    texits = events(k, pid, "thread-exit")
    assert sorted(r["tid"] for r in texits) == sorted(tids) and len(texits) == 3
    for r in texits:
        assert (r["exit_code"], r["signal"], r["core_dumped"]) == (0, 0, False)
        # each thread burnt 5 ms of CPU (its CPU clock) before returning
        assert 5000000 <= r["cpu_ns"] and within_lifetime(r)
    assert events(k, pid, "exec") == [] and events(k, pid, "clone") == []


_refusals = {}


def refusal(family):
    """None if this kernel runs proc's @family hook, else ksight's one-line refusal."""
    if family not in _refusals:
        r = run_ksight(["proc", "--hooks", family, "--duration", "1"])
        _refusals[family] = None if r.returncode == 0 else r
    return _refusals[family]


# the hooks on wake_up_new_task, which see CLONE_VFORK (set after sched_process_fork)
VFORK_SEEN = ("fentry", "kprobe")


@pytest.mark.parametrize("hooks", [None, "fentry", "kprobe", "tp_btf", "raw_tp", "tp"])
def test_lifecycle_exact(hooks):
    if hooks in VFORK_SEEN and refusal(hooks):
        pytest.skip("this kernel refuses %s: %s" % (hooks, refusal(hooks).stderr.strip()))
    k, pid, tids, a, b = traced(["--hooks", hooks] if hooks else [])
    check_threads_and_forks(k, pid, tids, a, b)
    exit_a, exit_b, exit_h = events(k, a, "exit"), events(k, b, "exit"), events(k, pid, "exit")
    assert len(exit_a) == 1 and len(exit_b) == 1 and len(exit_h) == 1
    ea, eb, eh = exit_a[0], exit_b[0], exit_h[0]
    assert (ea["exit_code"], ea["signal"], ea["core_dumped"]) == (7, 0, False)
    assert (eb["exit_code"], eb["signal"], eb["core_dumped"]) == (0, 9, False)
    assert (eh["exit_code"], eh["signal"]) == (0, 0) and eh["ppid"] == os.getpid()
    for e, child in ((ea, a), (eb, b)):
        assert e["tid"] == child and e["ppid"] == pid and e["comm"] == "lifecycle"
        assert 10**7 <= e["cpu_ns"] and within_lifetime(e)
    # the process's CPU time includes its three reaped threads'
    assert eh["cpu_ns"] >= 3 * 5000000
    # the children did nothing else
    for child in (a, b):
        assert [r["event"] for r in k.records("proc") if r["pid"] == child] == ["exit"]
    st = k.stats()
    assert st["lost"] == 0 and st["consistent"] is True
    assert st["types"]["fork"]["events"] >= 2 and st["types"]["thread"]["events"] >= 3 and st["types"]["thread_exit"]["events"] >= 3


def test_pid_filter_keeps_what_the_process_does():
    """-p is the kernel's filter on the current task: the helper's forks, threads and
    exits; its children's own exits are theirs, not the helper's."""
    k, pid, tids, a, b = traced(["-p", "{pid}"])
    check_threads_and_forks(k, pid, tids, a, b)
    recs = k.records("proc")
    assert {r["pid"] for r in recs} == {pid}
    assert sorted(r["event"] for r in recs) == ["exit"] + ["fork"] * 2 + ["thread"] * 3 + \
        ["thread-exit"] * 3
    st = k.stats()
    assert st["lost"] == 0 and st["events"] == 9 and st["consistent"] is True


def test_no_threads_hides_but_counts():
    k, pid, tids, a, b = traced(["-p", "{pid}", "--no-threads"])
    assert sorted(r["event"] for r in k.records("proc")) == ["exit", "fork", "fork"]
    st = k.stats()
    assert (st["types"]["thread"]["events"], st["types"]["thread_exit"]["events"], st["types"]["fork"]["events"], st["types"]["exit"]["events"]) == (3, 3, 2, 1)


@pytest.mark.parametrize("hooks", [None, "kprobe", "tp_btf"])
def test_vfork_is_a_process_sharing_memory(hooks):
    if hooks == "kprobe" and refusal(hooks):
        pytest.skip("this kernel refuses kprobes: " + refusal(hooks).stderr.strip())
    k, pid, tids, a, b = traced(["-p", "{pid}"] + (["--hooks", hooks] if hooks else []), ["-v"])
    forks = {r["child_pid"]: r for r in events(k, pid, "fork")}
    assert sorted(forks) == sorted([a, b])
    # CLONE_VFORK is set after sched_process_fork: only the wake_up_new_task hooks see it
    if hooks is None:
        known = any(refusal(f) is None for f in VFORK_SEEN)
    else:
        known = hooks in VFORK_SEEN
    assert forks[a]["vfork_known"] is known and forks[b]["vfork_known"] is known
    assert forks[a]["clone_flags"] == ["CLONE_VM"] + (["CLONE_VFORK"] if known else [])
    assert forks[b]["clone_flags"] == []


def test_killed_process_every_thread_once():
    """All threads of a SIGKILLed process exit together: one record each, one exit."""
    h = Life("-k", "-t", "8")
    try:
        k = Ksight(["proc", "--json", "-p", str(h.pid)])
        k.wait_ready()
        h.go()
        tids = h.line("threads")
        time.sleep(0.1)
        h.proc.kill()
        h.proc.wait(10)
        time.sleep(0.3)
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    texits = events(k, h.pid, "thread-exit")
    exits = events(k, h.pid, "exit")
    assert len(exits) == 1 and exits[0]["signal"] == 9
    # the last thread out reports the process; the other eight report themselves
    assert sorted([r["tid"] for r in texits] + [exits[0]["tid"]]) == sorted(tids + [h.pid])
    assert all(r["signal"] == 9 for r in texits)
    assert k.stats()["lost"] == 0


@pytest.fixture
def true_cmd(workdir):
    """/bin/true under a name no other process on the machine has (the comm filter)."""
    name = "kpt%d" % os.getpid()
    path = os.path.join(workdir, name)
    os.symlink("/bin/true", path)
    return name, path


def test_exec_and_exit_status(true_cmd):
    name, path = true_cmd
    k = Ksight(["proc", "--json", "-n", name])
    try:
        k.wait_ready()
        for _ in range(3):
            subprocess.run([path, "x y"], check=True)
        subprocess.run(["/bin/sh", "-c", "exec %s; exit 3" % path], check=True)
        time.sleep(0.3)
    finally:
        assert k.stop() == 0, k.stderr
    execs = [r for r in k.records("proc") if r["event"] == "exec"]
    assert [r["args"] for r in execs] == [[path, "x y"]] * 3 + [[path]]
    assert all(r["filename"] == path and r["tid"] == r["pid"] for r in execs)
    assert all(r["comm"] == name for r in k.records("proc"))
    exits = [r for r in k.records("proc") if r["event"] == "exit"]
    assert sorted(r["pid"] for r in exits) == sorted(r["pid"] for r in execs)
    assert all(r["exit_code"] == 0 and r["signal"] == 0 for r in exits)
    assert {r["event"] for r in k.records("proc")} == {"exec", "exit"}


def snapshot_with(k, pred, timeout=8):
    """The first complete tree snapshot (all its records printed) that satisfies pred."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        recs = [r for r in k.records() if r["type"] in ("proc_tree", "proc_tree_snapshot")]
        snaps, cur = [], None
        for r in recs:
            if r["type"] == "proc_tree_snapshot":
                cur = {"head": r, "nodes": {}}
                snaps.append(cur)
            elif cur is not None:
                cur["nodes"][r["pid"]] = r
        # the last one may be half printed
        for s in snaps[:-1]:
            if pred(s):
                return s
        time.sleep(0.2)
    raise AssertionError("no tree snapshot matched:\n" + k.stdout[-3000:])


def test_tree_counts_and_parents():
    h = Life()
    try:
        k = Ksight(["proc", "--tree", "--json", "1"])
        k.wait_ready()
        h.go()
        tids = h.line("threads")
        a, b = h.line("children")
        s = snapshot_with(k, lambda s: a in s["nodes"] and b in s["nodes"])
        n = s["nodes"]
        me = n[h.pid]
        assert (me["ppid"], me["comm"], me["threads"], me["children"]) == \
            (os.getpid(), "lifecycle", 1, 2)
        assert (me["forks"], me["threads_created"], me["threads_exited"],
                me["children_exited"]) == (2, 3, 3, 0)
        assert me["started_before"] is True
        for c in (a, b):
            assert (n[c]["ppid"], n[c]["depth"], n[c]["threads"], n[c]["started_before"]) == \
                (h.pid, me["depth"] + 1, 1, False)
        # started before ksight: the parent chain up from the helper is known
        assert n[os.getpid()]["children"] >= 1 and n[os.getpid()]["started_before"] is True
        assert me["depth"] == n[os.getpid()]["depth"] + 1
        assert all(t not in n for t in tids)
        h.go()
        assert h.line("done") == [7 << 8, signal.SIGKILL]
        s = snapshot_with(k, lambda s: s["nodes"].get(h.pid, {}).get("children_exited") == 2)
        me = s["nodes"][h.pid]
        assert me["children"] == 0 and a not in s["nodes"] and b not in s["nodes"]
        h.go()
        assert h.proc.wait(10) == 0
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    assert k.records("proc") == []
    last_head = k.records("proc_tree_snapshot")[-1]
    last = [r for r in k.records("proc_tree") if r["snapshot"] == last_head["snapshot"]]
    assert h.pid not in {r["pid"] for r in last} and len(last) == last_head["processes"]


def test_tree_subtree_of_pid():
    h = Life()
    try:
        k = Ksight(["proc", "--tree", "--json", "-p", str(h.pid), "1"])
        k.wait_ready()
        h.go()
        h.line("threads")
        a, b = h.line("children")
        s = snapshot_with(k, lambda s: set(s["nodes"]) == {h.pid, a, b})
        assert s["head"]["root"] == h.pid
        assert [s["nodes"][p]["depth"] for p in (h.pid, a, b)] == [0, 1, 1]
        assert s["nodes"][h.pid]["threads_created"] == 3
        h.go()
        h.line("done")
        # the children's exits are filtered out with -p; /proc says they are gone
        snapshot_with(k, lambda s: set(s["nodes"]) == {h.pid})
        h.go()
        assert h.proc.wait(10) == 0
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    assert k.records("proc_tree_gone")[-1]["pid"] == h.pid


def test_tree_table():
    h = Life()
    try:
        k = Ksight(["proc", "--tree", "-p", str(h.pid)])
        k.wait_ready()
        h.go()
        h.line("threads")
        a, b = h.line("children")
        time.sleep(0.2)
        assert k.stop() == 0, k.stderr
        lines = k.out_lines
    finally:
        h.kill()
    assert lines[0].startswith("process tree  snapshot 1  processes ")
    assert lines[1].split() == ["PID", "PPID", "THR", "KIDS", "FORKS", "THR+", "THR-", "EXITED",
                                "EXECS", "TREE"]
    assert lines[2].split() == [str(h.pid), str(os.getpid()), "1", "2", "2", "3", "3", "0", "0",
                                "lifecycle"]
    assert lines[3].split() == [str(a), str(h.pid), "1", "0", "0", "0", "0", "0", "0", "|-",
                                "lifecycle"]
    assert lines[4].split() == [str(b), str(h.pid), "1", "0", "0", "0", "0", "0", "0", "`-",
                                "lifecycle"]


def test_agent_gives_exec_records_to_exec_and_proc(true_cmd):
    name, path = true_cmd
    # tp_btf: the exec module's fexit programs are refused on 5.10 (a separate problem)
    k = Ksight(["run", "--json", "-n", name, "--duration", "2", "--hooks", "tp_btf", "1"])
    k.wait_ready()
    p = subprocess.run([path], check=True)
    assert k.wait(30) == 0, k.stderr
    assert p.returncode == 0
    by_exec = [r for r in k.records("exec") if r["event"] == "exec"]
    by_proc = [r for r in k.records("proc") if r["event"] == "exec"]
    assert len(by_exec) == 1 and len(by_proc) == 1 and by_exec[0]["pid"] == by_proc[0]["pid"]
    assert len(k.records("exit")) == 1 and len([r for r in k.records("proc")
                                                if r["event"] == "exit"]) == 1
    summaries = [r for r in k.records("summary") if r.get("module") == "proc"]
    assert summaries and "forks_per_s" in summaries[0] and "top_forkers" in summaries[0]
    assert k.stats()["types"]["exec"]["events"] == 1 and k.stats()["types"]["exit"]["events"] == 1


@pytest.mark.parametrize("args,words", [
    (["5"], "interval"),
    (["--tree", "0"], "interval"),
    (["--tree", "1", "x"], "count"),
    (["--bogus"], "--bogus"),
    (["-p", "99999999"], "-p"),
    (["--hooks", "kprobes"], "--hooks"),
])
def test_bad_input(args, words):
    r = run_ksight(["proc"] + args)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and words in r.stderr
    assert r.stderr.startswith("ksight proc: ") and r.stdout == ""


@pytest.mark.parametrize("family,words", [("fentry", "refused"), ("kprobe", "CONFIG_KPROBES")])
def test_hook_refused_here(family, words):
    r = refusal(family)
    if r is None:
        pytest.skip("this kernel runs %s programs" % family)
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1
    assert "proc" in r.stderr and "wake_up_new_task" in r.stderr and words in r.stderr
