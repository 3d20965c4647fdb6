# SPDX-License-Identifier: GPL-2.0
"""ksight funccount: tracepoints counted by perf counters (no BPF), user functions by one
uprobe program with a cookie per function, against the helper fcalls, which calls fc_one,
fc_two and fc_three N, 2N and 3N times, getppid N times and forks N times."""
import os
import time

import pytest

from conftest import (SCALE, Helper, Ksight, attached_progs, bpf_ids, bpftool_ids, helper_path,
                      run_ksight)

N = 1000 // SCALE
TRACEFS = "/sys/kernel/tracing"


@pytest.fixture(scope="module")
def families():
    """The "attach families" section of `ksight status` on this kernel."""
    from kstatus import KernelHooks
    r = run_ksight(["status", "--no-verify"], timeout=120)
    assert r.returncode == 0, r.stderr
    return KernelHooks(r.stdout)


def has_tracepoint(tp):
    return os.path.exists(os.path.join(TRACEFS, "events", *tp.split(":"), "id"))


def run_round(args, h):
    """funccount --json @args while helper @h does one round; returns the stopped ksight."""
    k = Ksight(["funccount", "--json"] + [str(a) for a in args])
    try:
        k.wait_ready()
        h.go()
        assert h.readline().startswith("done")
    finally:
        rc = k.stop()
    assert rc == 0, k.stderr
    return k


def counts(k):
    """{probe: count} of the report(s), summed over intervals."""
    got = {}
    for r in k.records("funccount"):
        got[r["probe"]] = got.get(r["probe"], 0) + r["count"]
    return got


def test_tracepoints_exact_for_one_process():
    """Per-thread perf counters of the helper (-p): its getppid calls and forks, exactly;
    a glob that matches one tracepoint, and a name."""
    if not has_tracepoint("syscalls:sys_enter_getppid"):
        pytest.skip("this kernel has no syscall tracepoints")
    h = Helper("fcalls", N)
    try:
        k = run_round(["-p", h.pid, "t:syscalls:sys_enter_getpp*", "sched:sched_process_fork"],
                      h)
    finally:
        h.kill()
    assert counts(k) == {"syscalls:sys_enter_getppid": N, "sched:sched_process_fork": N}
    assert all(r["kind"] == "tracepoint" for r in k.records("funccount"))
    assert k.stats()["lost"] == 0


def test_tracepoint_every_cpu_at_least():
    """Without -p, a counter per online CPU counts every process on the machine: at least
    the helper's forks (others fork too, so no exact count)."""
    h = Helper("fcalls", N)
    try:
        k = run_round(["t:sched:sched_process_fork"], h)
    finally:
        h.kill()
    got = counts(k)["sched:sched_process_fork"]
    assert got >= N, got


def test_user_functions_wildcard_exact():
    """One uprobe program on the three functions fc_* matches, told apart by cookie: the
    exact calls of each."""
    path = helper_path("fcalls")
    h = Helper("fcalls", N)
    try:
        k = run_round(["u:%s:fc_*" % path], h)
    finally:
        h.kill()
    assert counts(k) == {path + ":fc_one": N, path + ":fc_two": 2 * N,
                         path + ":fc_three": 3 * N}
    assert all(r["kind"] == "uprobe" for r in k.records("funccount"))
    assert k.stats()["lost"] == 0


def test_library_found_in_the_process_maps():
    """utarget (test_attach.py's uprobe target) calls ks_target, its own, and kslib_fn, of
    its library libkstarget.so, N times each: with -p the library is found by name in the
    process's maps; exact counts."""
    path = helper_path("utarget")
    u = Helper("utarget", N)
    try:
        k = run_round(["-p", u.pid, "u:libkstarget:kslib_*", "u:%s:ks_target" % path], u)
    finally:
        u.kill()
    assert counts(k) == {"libkstarget:kslib_fn": N, path + ":ks_target": N}


def test_user_functions_per_process_with_tracepoints():
    """-P: a row per process for the user functions (pid and comm of the helper), beside a
    tracepoint counter of the same process."""
    path = helper_path("fcalls")
    h = Helper("fcalls", N)
    try:
        k = run_round(["-P", "-p", h.pid, "u:%s:fc_t*" % path, "t:sched:sched_process_fork"],
                      h)
    finally:
        h.kill()
    # a tracepoint counter's row is about no process: no pid, no comm
    rows = sorted((r.get("pid", 0), r.get("comm", ""), r["probe"], r["count"])
                  for r in k.records("funccount"))
    assert rows == sorted([(h.pid, "fcalls", path + ":fc_three", 3 * N),
                           (h.pid, "fcalls", path + ":fc_two", 2 * N),
                           (0, "", "sched:sched_process_fork", N)]), rows


def test_interval_reports_sum_to_the_total():
    """-i 1: each report is what was counted since the previous one; they sum to the total."""
    path = helper_path("fcalls")
    h = Helper("fcalls", N)
    k = Ksight(["funccount", "--json", "-i", "1", "u:%s:fc_one" % path])
    try:
        k.wait_ready()
        for _ in range(3):
            h.go()
            assert h.readline().strip() == "done"
    finally:
        h.kill()
        assert k.stop() == 0, k.stderr
    recs = k.records("funccount")
    assert sum(r["count"] for r in recs) == 3 * N
    assert all(r["count"] > 0 for r in recs)


def test_weighted_tracepoints_left_out_with_a_note():
    """The scheduler's statistics add nanoseconds to a perf counter (__perf_count), not
    one: left out, said once, the rest counted."""
    h = Helper("fcalls", N)
    try:
        k = run_round(["-p", h.pid, "t:sched:sched_stat_*", "sched:sched_process_fork"], h)
    finally:
        h.kill()
    notes = [l for l in k.err_lines if "nanoseconds" in l]
    assert len(notes) == 1 and "sched:sched_stat_" in notes[0], k.stderr
    assert counts(k) == {"sched:sched_process_fork": N}


def test_kernel_functions_said_unavailable_rest_runs(families):
    """k: needs fentry or kprobes: on a kernel with neither, one note naming both, and the
    other patterns are counted."""
    if families.families.get("fentry") is None or families.families.get("kprobe") is None:
        pytest.skip("this kernel has fentry or kprobes")
    h = Helper("fcalls", N)
    try:
        k = run_round(["-p", h.pid, "k:vfs_read", "t:sched:sched_process_fork"], h)
    finally:
        h.kill()
    notes = [l for l in k.err_lines if "k:vfs_read" in l]
    assert len(notes) == 1 and "fentry" in notes[0] and "kprobes" in notes[0], k.stderr
    assert counts(k) == {"sched:sched_process_fork": N}


def test_kernel_functions_only_exit_1(families):
    if families.families.get("fentry") is None or families.families.get("kprobe") is None:
        pytest.skip("this kernel has fentry or kprobes")
    r = run_ksight(["funccount", "k:vfs_*", "-d", "1"])
    assert r.returncode == 1 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ksight funccount: k:vfs_*: "), r.stderr
    assert "fentry" in lines[0] and "kprobes" in lines[0], r.stderr


def has_kprobes():
    """A kprobe PMU, or tracefs' kprobe_events: what funccount's k: patterns need."""
    return (os.path.exists("/sys/bus/event_source/devices/kprobe") or
            any(os.path.exists(d + "/kprobe_events")
                for d in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")))


def getppid_function():
    """The kernel function each getppid() enters once here (the syscall's stub, or its
    body), as `ksight tplist -K` lists it."""
    r = run_ksight(["tplist", "-K", "*sys_getppid"])
    have = set(r.stdout.split())
    for fn in ("__x64_sys_getppid", "__do_sys_getppid"):
        if fn in have:
            return fn
    raise AssertionError("no getppid function listed: %r" % r.stdout)


@pytest.mark.kernels
@pytest.mark.parametrize("hooks", [None, "fentry"])
def test_kernel_function_wildcard_exact_per_process(hooks, families):
    """k: by the default hook (one kprobe.multi link where the kernel has them, else a
    kprobe each, else a fentry copy per function), and forced to fentry (--hooks fentry:
    a copy of the program per function, its link its own): a wildcard matching getppid's
    kernel function and one matching kernel_clone, -P -p the helper: a row each, the
    helper's pid and comm, exactly its N getppid calls and N forks, named back through
    /proc/kallsyms. With fentry, bpftool sees one link per function while it runs and none
    of them after. Without kprobes or fentry (this host): exit 1, one line naming them."""
    fn = getppid_function()
    glob = "k:" + fn[:-2] + "*"	# __x64_sys_getpp*: getppid's only
    fentry = families.families.get("fentry") is None
    if hooks == "fentry" and not fentry:
        pytest.skip("fentry refused here: %s" % families.families.get("fentry"))
    if not hooks and not has_kprobes() and not fentry:
        r = run_ksight(["funccount", glob, "-d", "1"])
        assert r.returncode == 1 and r.stdout == "", r.stderr
        (line,) = r.stderr.strip().splitlines()
        assert line.startswith("ksight funccount: %s: " % glob) and "kprobes" in line, line
        return
    h = Helper("fcalls", N)
    k = Ksight(["funccount", "--json", "-P", "-p", str(h.pid), glob, "k:kernel_clon*"] +
               (["--hooks", hooks] if hooks else []))
    try:
        k.wait_ready(timeout=60)
        links = bpf_ids(k.proc.pid)["link"]
        if hooks:
            assert " (2 programs attached)" in k.stderr, k.stderr
            assert len(links) == 2 and attached_progs(k.proc.pid) == {"fc_fentry"}, links
        h.go()
        assert h.readline().startswith("done")
    finally:
        h.kill()
        rc = k.stop()
    assert rc == 0, k.stderr
    rows = sorted((r.get("pid"), r.get("comm"), r["probe"], r["count"])
                  for r in k.records("funccount"))
    assert rows == sorted([(h.pid, "fcalls", fn, N),
                           (h.pid, "fcalls", "kernel_clone", N)]), (rows, k.stderr)
    kinds = {r["kind"] for r in k.records("funccount")}
    # kprobes (one multi link or one each) take every function: the default where they
    # exist; fentry copies only where they do not, or forced
    assert kinds == ({"kprobe"} if has_kprobes() and not hooks else {"fentry"}), kinds
    assert k.stats()["lost"] == 0
    for _ in range(50):	# a link is freed when its last reference goes, maybe later
        left = links & bpftool_ids("link")
        if not left:
            break
        time.sleep(0.1)
    assert not left, "links left after exit: %s" % left


@pytest.mark.parametrize("args,words", [
    ([], "at least one PATTERN"),
    (["x:sched:*"], "unknown kind"),
    (["t:sched"], "CATEGORY:NAME"),
    (["u:libc"], "u:BINARY:FUNCTION"),
    (["t:nosuchcategory:*"], "no tracepoint matches"),
    (["u:/nonexistent/bin:foo"], "u:/nonexistent/bin:foo"),
    (["t:sched:sched_stat_run*"], "nanoseconds"),
    (["u:%s:nosuch*" % helper_path("fcalls")], "no function of"),
    (["k:nosuchkernelfunction*"], "no kernel function"),
    (["k:*"], "more than 1000 kernel functions"),
    (["-i", "0", "sched:sched_switch"], "-i"),
    (["-n", "x", "sched:sched_switch"], "-n"),
])
def test_bad_patterns_exit_2(args, words):
    r = run_ksight(["funccount"] + args)
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ksight funccount: "), r.stderr
    assert words in lines[0], r.stderr


def test_help():
    r = run_ksight(["funccount", "--help"])
    assert r.returncode == 0
    assert "ksight funccount 't:sched:*'" in r.stdout and "u:BINARY:FUNCTION" in r.stdout


def test_not_in_the_agent():
    """A question asked on demand: the agent neither runs nor offers it."""
    r = run_ksight(["run", "--modules", "funccount"])
    assert r.returncode == 2 and "unknown module 'funccount'" in r.stderr, r.stderr
    assert "funccount" not in run_ksight(["run", "--help"]).stdout
