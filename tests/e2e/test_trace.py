# SPDX-License-Identifier: GPL-2.0
"""ksight trace: one generic tracepoint program and one uprobe program configured by tables.
References: the helper fcalls (N forks, N getppid calls), and utarget, which calls
ks_target(i, 3i) for i in 0..N-1 (returns 2i + 1): every count, bucket and value is known
before the run."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import (SCALE, Helper, Ksight, attached_progs, bpf_ids, bpftool_ids, helper_path,
                      run_ksight)

N = 1000 // SCALE
U = 5000 // SCALE
UTARGET = helper_path("utarget")
NR_GETPPID, NR_CLONE = 110, 56   # x86-64


def run_round(args, h):
    """trace --json @args while helper @h does one round; returns the stopped ksight."""
    k = Ksight(["trace", "--json"] + [str(a) for a in args])
    try:
        k.wait_ready()
        h.go()
        assert h.readline().startswith("done")
    finally:
        rc = k.stop()
    assert rc == 0, k.stderr
    return k


def one_round(args, helper="fcalls", n=N):
    h = Helper(helper, n)
    try:
        return run_round([a.replace("PID", str(h.pid)) for a in args], h), h.pid
    finally:
        h.kill()


def total(k, key="hits"):
    return sum(r.get(key, 0) for r in k.records("trace_total"))


def rows(k, *fields):
    """{(field values...): count} of the --count-by rows, summed over intervals."""
    got = {}
    for r in k.records("trace_counts"):
        key = tuple(r[f] for f in fields)
        got[key] = got.get(key, 0) + r["count"]
    return got


def buckets(k):
    """{(lo, hi): count} of the log2 histogram records, summed over intervals."""
    got = {}
    for r in k.records("trace_hist"):
        for b in r["hist"]["buckets"]:
            got[(b["lo"], b["hi"])] = got.get((b["lo"], b["hi"]), 0) + b["count"]
    return got


def log2_expected(values):
    """The buckets of ksight's log2 histograms (slot 0: 0 and 1; slot i: [2^i, 2^(i+1)))."""
    want = {}
    for v in values:
        lo, hi = (0, 1) if v < 2 else (1 << (v.bit_length() - 1), (1 << v.bit_length()) - 1)
        want[(lo, hi)] = want.get((lo, hi), 0) + 1
    return want


def test_fork_count_by_parent_comm_exact():
    """Every fork of the helper, counted by the tracepoint's own parent_comm and parent_pid
    fields in the kernel: one row, exactly N."""
    k, pid = one_round(["sched:sched_process_fork", "--count-by", "parent_comm,parent_pid",
                        "-p", "PID"])
    assert rows(k, "parent_comm", "parent_pid") == {("fcalls", pid): N}
    assert total(k) == N
    assert k.stats()["lost"] == 0


@pytest.mark.parametrize("probe,helper,n", [
    ("sched:sched_process_fork", "fcalls", N),
    ("u:%s:ks_target" % UTARGET, "utarget", U),
    ("usdt:%s:ksight_test:tick" % UTARGET, "utarget", U),
])
def test_count_by_comm_alone_exact(probe, helper, n):
    """--count-by comm with nothing else (the program's short path: the comm straight into
    the key) on a tracepoint, a uprobe and a USDT probe of the helper's process: one row,
    exactly every hit."""
    k, _ = one_round([probe, "--count-by", "comm", "-p", "PID"], helper, n)
    assert rows(k, "comm") == {(helper,): n}
    assert total(k) == n
    assert k.stats()["lost"] == 0


def test_fork_filter_by_field_without_pid_option():
    """No -p: the machine's forks, of which the filter on the record's parent_pid keeps
    exactly the helper's; the histogram of child_pid counts the same."""
    k, pid = one_round(["t:sched:sched_process_fork", "--filter", "parent_pid == PID",
                        "--hist", "child_pid", "--count-by", "comm"])
    assert total(k, "matched") == N
    assert total(k) >= N
    assert sum(buckets(k).values()) == N
    assert sum(r["count"] for r in k.records("trace_hist")) == N
    assert rows(k, "comm") == {("fcalls",): N}


def test_syscall_filter_both_ways():
    """raw_syscalls:sys_enter of the helper's thread, split by the record's id: getppid and
    clone exactly N each, and X plus !X is every hit."""
    counts = {}
    for f in ("id == %d" % NR_GETPPID, "!(id == %d)" % NR_GETPPID,
              "id == %d || id == %d" % (NR_GETPPID, NR_CLONE)):
        k, _ = one_round(["raw_syscalls:sys_enter", "-p", "PID", "--filter", f])
        counts[f] = (total(k, "matched"), total(k))
    hit_getppid, hits1 = counts["id == %d" % NR_GETPPID]
    not_getppid, hits2 = counts["!(id == %d)" % NR_GETPPID]
    assert hit_getppid == N
    assert hit_getppid + not_getppid == hits2
    assert not_getppid == hits2 - N
    assert counts["id == %d || id == %d" % (NR_GETPPID, NR_CLONE)][0] == 2 * N


def test_uprobe_argument_histogram_exact():
    """ks_target called U times with arg0 = 0..U-1: the log2 histogram of arg0, exactly."""
    k, _ = one_round(["u:%s:ks_target" % UTARGET, "--hist", "arg0"], "utarget", U)
    assert buckets(k) == log2_expected(range(U))
    assert total(k) == U
    hist = k.records("trace_hist")
    assert sum(r["count"] for r in hist) == U
    assert hist[-1]["hist"]["p50"] is not None


def test_uretprobe_linear_histogram_exact():
    """The return value 2i + 1 in linear buckets of 1000."""
    k, _ = one_round(["r:%s:ks_target" % UTARGET, "--hist", "retval", "--linear", "1000"],
                     "utarget", U)
    want = {}
    for i in range(U):
        lo = (2 * i + 1) // 1000 * 1000
        want[lo] = want.get(lo, 0) + 1
    got = {}
    for r in k.records("trace_bucket"):
        got[r["lo"]] = got.get(r["lo"], 0) + r["count"]
    assert got == want
    # percentiles interpolated inside the bucket that holds the rank
    (h,) = k.records("trace_hist")
    assert h["count"] == U and h["step"] == 1000
    for p in (50, 90, 99):
        rank, cum = p / 100 * U, 0
        for lo in sorted(want):
            if cum + want[lo] >= rank:
                break
            cum += want[lo]
        assert abs(h["p%d" % p] - (lo + 1000 * (rank - cum) / want[lo])) < 1e-3, (p, h)


@pytest.mark.parametrize("expr,want", [
    ("arg0 < 1000", lambda i: i < 1000),
    ("!(arg0 < 1000)", lambda i: not i < 1000),
    ("arg0 >= 100 && arg0 < 200 || arg0 == %d" % (U - 1),
     lambda i: 100 <= i < 200 or i == U - 1),
    ("(arg1 > 30 || arg0 <= 2) && arg0 != 1", lambda i: (3 * i > 30 or i <= 2) and i != 1),
    ('comm == "utarget" && arg0 < 7', lambda i: i < 7),
    ('comm == "utar*" && arg0 < 7', lambda i: i < 7),
    ('comm != "utarget" || arg0 < 3', lambda i: i < 3),
    ('comm == "utarge"', lambda i: False),
])
def test_uprobe_filter_exact(expr, want):
    """The in-kernel filter keeps exactly the calls it should, every hit counted."""
    k, _ = one_round(["u:%s:ks_target" % UTARGET, "--filter", expr], "utarget", U)
    assert total(k, "matched") == sum(1 for i in range(U) if want(i))
    assert total(k) == U


def test_events_with_fields():
    """-f streams one record per kept hit with the chosen fields."""
    k, pid = one_round(["u:%s:ks_target" % UTARGET, "-f", "arg0,arg1,comm", "--filter",
                        "arg0 < 10"], "utarget", U)
    ev = k.records("trace")
    f = [e["fields"] for e in ev]
    assert sorted((x["arg0"], x["arg1"]) for x in f) == [(i, 3 * i) for i in range(10)]
    assert {x["comm"] for x in f} == {"utarget"}
    assert {e["pid"] for e in ev} == {pid}    # the header's task
    assert k.stats()["lost"] == 0


def test_count_by_int_and_string():
    """--count-by on the uprobe's argument and the task's comm: a row per value."""
    k, _ = one_round(["u:%s:ks_target" % UTARGET, "--count-by", "comm,arg0", "--filter",
                      "arg0 < 5"], "utarget", U)
    assert rows(k, "comm", "arg0") == {("utarget", i): 1 for i in range(5)}


@pytest.mark.parametrize("args,what", [
    (["sched:no_such_tracepoint"], "no such tracepoint"),
    (["sched:sched_process_fork", "--count-by", "nope"], "unknown field 'nope'"),
    (["sched:sched_process_fork", "--hist", "parent_comm"], "is a string"),
    (["sched:sched_process_fork", "--filter", "parent_pid == "], "column 15"),
    (["sched:sched_process_fork", "--filter", "parent_pid === 3"], "column 14"),
    (["sched:sched_process_fork", "--filter", "(parent_pid == 3"], "column 17: expected )"),
    (["sched:sched_process_fork", "--filter", "child_pid > 1 && bogus == 2"],
     "column 18: unknown field 'bogus'"),
    (["sched:sched_process_fork", "--filter", "parent_comm > \"a\""], "column 13"),
    (["sched:sched_process_fork", "--filter", "parent_comm == \"a"], "column 16"),
    (["u:%s:no_such_function" % UTARGET], "no_such_function"),
    (["u:/nonexistent/binary:f"], "/nonexistent/binary"),
    (["notaprobe"], "expected CATEGORY:NAME"),
    (["sched:sched_process_fork", "--linear", "10"], "--linear needs --hist"),
])
def test_bad_input_exit_2_one_line(args, what):
    r = run_ksight(["trace"] + args)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and what in lines[0], r.stderr


def test_nothing_left_after_kill():
    """SIGKILL: the kernel drops every program, link and map with ksight's fds."""
    k = Ksight(["trace", "sched:sched_switch", "--count-by", "comm"])
    k.wait_ready()
    assert "trace__tp" in attached_progs(k.proc.pid)
    mine = bpf_ids(k.proc.pid)
    k.stop(signal.SIGKILL)
    deadline = time.time() + 10
    while time.time() < deadline and (mine["prog"] & bpftool_ids("prog")
                                      or mine["link"] & bpftool_ids("link")):
        time.sleep(0.1)
    assert not mine["prog"] & bpftool_ids("prog")
    assert not mine["link"] & bpftool_ids("link")


def test_data_loc_string_filter_and_key():
    """sched_process_exec's filename is a __data_loc string: K execs of a copy of true in a
    private directory, kept exactly by an equality and by a prefix filter, keyed by it."""
    k_execs = 20
    d = tempfile.mkdtemp(prefix="kst-")     # short: strings keep 63 bytes
    exe = os.path.join(d, "ktrue")
    shutil.copy("/bin/true", exe)
    try:
        check_execs(exe, d, k_execs)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def check_execs(exe, d, k_execs):
    for flt in ('filename == "%s"' % exe, 'filename == "%s/*"' % d):
        k = Ksight(["trace", "--json", "sched:sched_process_exec", "--filter", flt,
                    "--count-by", "filename,comm"])
        k.wait_ready()
        for _ in range(k_execs):
            subprocess.run([exe], check=True)
        assert k.stop() == 0, k.stderr
        assert total(k, "matched") == k_execs, flt
        assert rows(k, "filename", "comm") == {(exe, "ktrue"): k_execs}, flt


def test_interval_and_count_end_by_themselves():
    """-i 1 -c 2: two reports a second apart, then the command exits 0 on its own."""
    k = Ksight(["trace", "--json", "sched:sched_switch", "-i", "1", "-c", "2"])
    assert k.wait(30) == 0, k.stderr
    tot = k.records("trace_total")
    assert len(tot) == 2 and all(r["hits"] > 0 for r in tot), tot


def test_help_names_the_probe():
    r = run_ksight(["trace", "--help"])
    assert r.returncode == 0
    assert "ksight trace [OPTIONS] PROBE" in r.stdout
    assert "--count-by" in r.stdout and "u:BINARY:FUNCTION" in r.stdout


def test_uprobe_user_string_argument():
    """libc's access(path, mode) called K times by Python on a path of its own: kept exactly
    by a filter on the string arg0 points to, and keyed by it."""
    k_calls = 50
    d = tempfile.mkdtemp(prefix="kst-")
    path = os.path.join(d, "probe-me")
    try:
        k = Ksight(["trace", "--json", "u:libc.so.6:access", "--filter",
                    'arg0_str == "%s"' % path, "--count-by", "arg0_str,arg1"])
        k.wait_ready()
        subprocess.run(["/usr/bin/python3", "-c", "import os\nfor _ in range(%d): os.access(%r, 4)"
                        % (k_calls, path)], check=True)
        assert k.stop() == 0, k.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)
    assert total(k, "matched") == k_calls
    assert rows(k, "arg0_str", "arg1") == {(path, 4): k_calls}


def test_usdt_count_and_histogram_exact():
    """utarget's USDT probe ksight_test:tick(i, 7i), fired U times (its semaphore raised by
    the attach): the hits exactly U, the log2 histogram of arg1 exactly that of 7i, the
    filter on arg0 keeps exactly i < 100, and --count-by arg0 (filter i < 3) one row each."""
    k, _ = one_round(["usdt:%s:ksight_test:tick" % UTARGET, "--hist", "arg1"], "utarget", U)
    assert total(k) == U
    assert buckets(k) == log2_expected([7 * i for i in range(U)])
    k, _ = one_round(["usdt:%s:ksight_test:tick" % UTARGET, "--filter", "arg0 < 3",
                      "--count-by", "arg0,arg1"], "utarget", U)
    assert total(k, "matched") == 3 and total(k) == U
    assert rows(k, "arg0", "arg1") == {(i, 7 * i): 1 for i in range(3)}


def test_usdt_bad_probe():
    """A USDT probe the binary has not: exit 2 naming it; a malformed one too."""
    r = run_ksight(["trace", "usdt:%s:ksight_test:nope" % UTARGET])
    assert r.returncode == 2
    assert "no USDT probe ksight_test:nope" in r.stderr and len(r.stderr.splitlines()) == 1
    r = run_ksight(["trace", "usdt:%s:tick" % UTARGET])
    assert r.returncode == 2 and "expected usdt:PATH:PROVIDER:NAME" in r.stderr


def has_kprobes():
    """The kernel's own word: a kprobe PMU, or tracefs' kprobe_events."""
    return (os.path.exists("/sys/bus/event_source/devices/kprobe") or
            any(os.path.exists(d + "/kprobe_events")
                for d in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")))


@pytest.mark.kernels
@pytest.mark.parametrize("kind", ["kfunc", "kprobe"])
def test_kernel_function_exact(kind, kernel_hooks):
    """getppid's kernel function, which fcalls enters exactly N times: kfunc: (fentry where the
    kernel allows it, else a kprobe) and kprobe: count N for its pid, the program of the
    family chosen. Where the kernel has neither (this host: trampolines refused, no
    kprobes): exit 1, one line naming both missing features."""
    fn = getppid_function()
    fentry = kind == "kfunc" and kernel_hooks.usable("exec", "fentry")
    if not fentry and not has_kprobes():
        r = run_ksight(["trace", "%s:%s" % (kind, fn)])
        assert r.returncode == 1, r.stderr
        (line,) = r.stderr.strip().splitlines()
        assert "kernel functions cannot be traced on this kernel" in line
        assert "fentry:" in line and "kprobes:" in line and "trace" in line
        return
    h = Helper("fcalls", N)
    try:
        k = Ksight(["trace", "--json", "%s:%s" % (kind, fn), "-p", str(h.pid)])
        try:
            k.wait_ready()
            types = {bpftool_type(i) for i in bpf_ids(k.proc.pid)["prog"]}
            h.go()
            assert h.readline().startswith("done")
        finally:
            rc = k.stop()
    finally:
        h.kill()
    assert rc == 0, k.stderr
    assert total(k) == N
    assert ("tracing" if fentry else "kprobe") in types, types


def getppid_function():
    """The kernel function each getppid() enters once, as this kernel's BTF (and ftrace,
    where it can be read) names it: the syscall's stub or its body."""
    r = run_ksight(["tplist", "-K", "*sys_getppid"])
    have = set(r.stdout.split())
    for fn in ("__x64_sys_getppid", "__do_sys_getppid"):
        if fn in have:
            return fn
    raise AssertionError("no getppid function listed: %r" % r.stdout)


def bpftool_type(prog_id):
    import json
    r = subprocess.run(["bpftool", "-j", "prog", "show", "id", str(prog_id)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return json.loads(r.stdout).get("type") if r.returncode == 0 else None


def test_kernel_function_bad_name():
    """A kernel function the kernel has not: exit 2 naming it (before any feature check)."""
    r = run_ksight(["trace", "kfunc:no_such_function_ksight"])
    assert r.returncode == 2
    (line,) = r.stderr.strip().splitlines()
    assert "no kernel function no_such_function_ksight" in line
    r = run_ksight(["trace", "kfunc:bad name"])
    assert r.returncode == 2 and "expected kfunc:FUNCTION" in r.stderr
