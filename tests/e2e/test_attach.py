# SPDX-License-Identifier: GPL-2.0
"""Every attach family, exercised through the test instrument ksight-selftest (the core
ksight runs plus the test-only selftest module): each counts exactly what a workload the
test controls does; the attachments are the core's (core/attachments.h) and go with it."""
import os

import pytest

from attach_util import (assert_exact_accounting, hits, run_selftest, selftest, summary,
                         uprobe_events)
from conftest import SCALE, Helper, helper_path, run_ksight
from kstatus import KernelHooks

N = 1000 // SCALE


@pytest.fixture(scope="module")
def families():
    """The "attach families" section of `ksight status` on this kernel."""
    r = run_ksight(["status", "--no-verify"], timeout=120)
    assert r.returncode == 0, r.stderr
    return KernelHooks(r.stdout)


def online_cpus():
    with open("/sys/devices/system/cpu/online") as f:
        n = 0
        for part in f.read().strip().split(","):
            a, _, b = part.partition("-")
            n += int(b or a) - int(a) + 1
        return n


# --- perf_event -----------------------------------------------------------------------


def perf_event_fds(pid):
    """The perf events process @pid holds (each behind a BPF link where the kernel has perf
    links, 5.15+, or attached by the event's ioctl before)."""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "anon_inode:[perf_event]"
        except OSError:
            pass
    return n


@pytest.mark.kernels
def test_perf_page_faults_exact(families):
    """A software counter sampled on every event, one perf event per CPU: exactly one
    sample per page the helper touches, each with the faulting address."""
    families.family("perf_software")
    f = Helper("faulter", N)
    try:
        k = selftest(["--perf", "page-faults", "--period", 1, "-p", f.pid])
        k.wait_ready()
        events = perf_event_fds(k.proc.pid)
        f.go()
        start, end = (int(x) for x in f.readline().split()[1:3])
        assert k.stop() == 0, k.stderr
    finally:
        f.kill()
    assert events == online_cpus(), events    # an event per CPU
    pages = [h for h in hits(k, "perf", f.pid) if start <= h["value"] < end]
    assert sorted(h["value"] for h in pages) == list(range(start, end, 4096))
    assert all(h["aux"] == 1 for h in pages)     # the sample period
    assert k.stats()["lost"] == 0
    assert_exact_accounting(k)


def test_perf_cpu_clock_every_cpu(families):
    """cpu-clock sampling at 1 kHz on every CPU: samples from each, about no task."""
    families.family("perf_software")
    k = selftest(["--perf", "cpu-clock", "--freq", 1000, "--check", "--words", 8,
                  "--duration", 1])
    k.wait_ready()
    assert k.wait() == 0, k.stderr
    s = summary(k)
    assert s["perf_seen"] > 200 * online_cpus(), s
    assert s["bad"] == 0 and s["notask"] == s["perf_seen"], s
    assert_exact_accounting(k)


def test_perf_hardware_said_missing(families):
    """Where the machine has no PMU, a hardware event is refused with the reason."""
    if families.families["perf_hardware"] is None:
        pytest.skip("this machine has hardware counters")
    r = run_selftest(["--perf", "cycles", "--duration", 1])
    assert r.returncode == 1
    assert "no hardware counters" in r.stderr, r.stderr


# --- uprobes, USDT ----------------------------------------------------------------------


def utarget():
    return Helper("utarget", N)


def run_utarget(args, u):
    """Run selftest with @args on utarget @u, one round; returns (ksight, utarget's words)."""
    k = selftest(args)
    try:
        k.wait_ready()
        u.go()
        words = u.readline().split()
    finally:
        rc = k.stop()
    assert rc == 0, k.stderr
    return k, words


@pytest.mark.kernels
def test_uprobe_pie_function(families):
    """A uprobe on a function of a PIE executable, by its ELF symbol: every call, with its
    arguments; all processes (no -p), yet only utarget calls it."""
    families.family("uprobe")
    u = utarget()
    try:
        k, _ = run_utarget(["--uprobe", helper_path("utarget") + ":ks_target"], u)
    finally:
        u.kill()
    got = hits(k, "uprobe")
    assert {h["pid"] for h in got} == {u.pid}
    assert sorted((h["value"], h["aux"]) for h in got) == [(i, 3 * i) for i in range(N)]
    assert_exact_accounting(k)


def test_runs_the_kernel_skipped_are_reported(families):
    """A run the kernel skips because the program already runs on that CPU (a recursion
    miss) is an event nobody counted: each uprobe hit here makes exactly one (--recurse:
    bpf_trace_printk and a program on its own tracepoint), and ksight reports them all, in
    the stats record and on its last line. The host only: kernels before 5.12 do not stop
    such a recursion."""
    families.family("uprobe")
    u = utarget()
    try:
        k, _ = run_utarget(["--uprobe", helper_path("utarget") + ":ks_target", "--recurse",
                            "--json"], u)
    finally:
        u.kill()
    assert len(hits(k, "uprobe", u.pid)) == N
    # any other bpf_trace_printk of the machine meanwhile adds one each: none expected
    assert k.records("stats")[-1]["missed_runs"] == N, k.records("stats")[-1]
    assert ("[%d program runs skipped by the kernel" % N) in k.stderr, k.stderr


def test_uretprobe_return_values(families):
    families.family("uretprobe")
    u = utarget()
    try:
        k, _ = run_utarget(["--uretprobe", helper_path("utarget") + ":ks_target", "-p", u.pid],
                           u)
    finally:
        u.kill()
    assert sorted(h["value"] for h in hits(k, "uretprobe", u.pid)) == \
        [2 * i + 1 for i in range(N)]
    assert_exact_accounting(k)


def test_uprobe_shared_library_of_a_process(families):
    """A library named as the process maps it (no path): found in /proc/PID/maps."""
    families.family("uprobe")
    u = utarget()
    try:
        k, _ = run_utarget(["--uprobe", "libkstarget:kslib_fn", "-p", u.pid], u)
    finally:
        u.kill()
    assert sorted(h["value"] for h in hits(k, "uprobe", u.pid)) == list(range(N))
    assert_exact_accounting(k)


def test_uprobe_libc_of_a_process(families):
    """libc's getpid, found through the process's mapped libc (.dynsym only)."""
    families.family("uprobe")
    u = utarget()
    try:
        k, _ = run_utarget(["--uprobe", "libc:getpid", "-p", u.pid], u)
    finally:
        u.kill()
    assert len(hits(k, "uprobe", u.pid)) == N
    assert_exact_accounting(k)


def test_uprobe_unknown_function_says_so(families):
    families.family("uprobe")
    r = run_selftest(["--uprobe", helper_path("utarget") + ":nope"])
    assert r.returncode == 1
    assert r.stderr.strip() == "ksight selftest: uprobe on %s:nope: has no function " \
        "nope" % helper_path("utarget"), r.stderr


def test_uprobe_legacy_tracefs_event_tagged_and_removed(families):
    """Through tracefs uprobe_events (what kernels without the uprobe PMU have): the event
    is named ksight_<pid>_<n> while it runs, and gone at exit."""
    families.family("uprobe")
    u = utarget()
    try:
        k = selftest(["--uprobe", helper_path("utarget") + ":ks_target", "--uprobe-legacy",
                      "-p", u.pid])
        k.wait_ready()
        during = uprobe_events(r"ksight_%d_" % k.proc.pid)
        u.go()
        u.readline()
        assert k.stop() == 0, k.stderr
    finally:
        u.kill()
    assert len(during) == 1, during
    assert uprobe_events(r"ksight_%d_" % k.proc.pid) == []
    assert len(hits(k, "uprobe", u.pid)) == N
    assert_exact_accounting(k)


@pytest.mark.kernels
def test_usdt_with_semaphore(families):
    """A USDT probe guarded by a semaphore: it fires only because ksight raised it."""
    families.family("usdt")
    u = utarget()
    try:
        k, words = run_utarget(["--usdt", helper_path("utarget") + ":ksight_test:tick", "-p",
                                u.pid], u)
    finally:
        u.kill()
    assert words[:2] == ["done", str(N)], words
    assert sorted((h["value"], h["aux"]) for h in hits(k, "usdt", u.pid)) == \
        [(i, 7 * i) for i in range(N)]
    assert_exact_accounting(k)


# --- nesting: records safe in any context ------------------------------------------------


def nesting_run(workdir, n, extra=()):
    s = Helper("syscaller", "-t", 2, os.path.join(workdir, "missing"), n, 0)
    try:
        k = selftest(["--sys", "--perf", "cpu-clock", "--period", 50000, "--check",
                      "--words", 96, "--ringbuf-size", "64K", "-p", s.pid] + list(extra))
        k.wait_ready()
        s.go()
        assert s.readline().split() == ["done", str(2 * n), "0"]
        assert k.stop() == 0, k.stderr
    finally:
        s.kill()
    return k


def test_nesting_perf_sampling_inside_dispatcher_flood(families, workdir):
    """cpu-clock sampling at 20 kHz per CPU (a hardirq here, an NMI on real hardware)
    interrupts the syscall dispatcher's handler while two threads flood getppid, both
    building self-checking records in their scratch buffers, on a ring small enough to
    lose some: every record that arrives is intact, some came from a nested level, and
    produced = delivered + lost exactly per type."""
    families.family("perf_software")
    n = 300000 // SCALE
    k = nesting_run(workdir, n)
    sm, st = summary(k), k.stats()
    assert sm["bad"] == 0, (sm, k.records("selftest_bad")[:5])
    assert sm["sys_produced"] == 2 * n, sm
    assert sm["nested"] > 0 and sm["max_level"] >= 1, sm
    assert st["lost"] > 0, st    # the ring was too small on purpose
    assert sm["sys_seen"] > 0 and sm["perf_seen"] > 0, sm
    assert_exact_accounting(k)


def test_nesting_check_catches_a_shared_scratch_buffer(families, workdir):
    """The test of the test: with every record built in one scratch buffer, as before
    producers had levels, the nested samples overwrite the records they interrupt and the
    self-check finds them."""
    families.family("perf_software")
    k = nesting_run(workdir, 300000 // SCALE, ["--shared-scratch"])
    sm = summary(k)
    assert sm["nested"] > 0, sm
    assert sm["bad"] > 0, sm
    assert {r["what"] for r in k.records("selftest_bad")} <= {"payload", "sum", "cpu", "level",
                                                                "size", "type"}
    # an overwritten header can carry the other producer's type: only the totals agree
    st = k.stats()
    assert sm["sys_produced"] + sm["perf_produced"] == \
        sum(st["types"][t]["events"] + st["types"][t]["lost"]
            for t in ("selftest_sys", "selftest_perf")), (sm, st)


# --- the families only some kernels allow (the kernel matrix proves them) ---------------


@pytest.mark.kernels
def test_fentry_exact(families, workdir):
    families.family("fentry")
    s = Helper("syscaller", os.path.join(workdir, "missing"), 0, N)
    try:
        k = selftest(["--fentry", "-p", s.pid])
        k.wait_ready()
        s.go()
        assert s.readline().split() == ["done", "0", str(N)]
        assert k.stop() == 0, k.stderr
    finally:
        s.kill()
    assert len(hits(k, "fentry", s.pid)) == N
    assert_exact_accounting(k)


@pytest.mark.kernels
def test_kprobe_kretprobe_exact(families, workdir):
    families.family("kprobe")
    s = Helper("syscaller", os.path.join(workdir, "missing"), N, 0)
    try:
        k = selftest(["--kprobe", "-p", s.pid])
        k.wait_ready()
        s.go()
        assert s.readline().split() == ["done", str(N), "0"]
        assert k.stop() == 0, k.stderr
    finally:
        s.kill()
    assert len(hits(k, "kprobe", s.pid)) == N
    # getppid's return value: the helper's parent, this test
    assert [h["value"] for h in hits(k, "kretprobe", s.pid)] == [os.getpid()] * N
    assert_exact_accounting(k)


@pytest.mark.kernels
def test_lsm_file_open_exact(families, workdir):
    """BPF LSM's file_open: every open that gets a file, none that fails before."""
    families.family("lsm")
    o = Helper("opener", workdir, N)
    try:
        k = selftest(["--lsm", "-p", o.pid])
        k.wait_ready()
        o.go()
        assert o.result()[:3] == ["done", str(N // 2), str(N - N // 2)]
        assert k.stop() == 0, k.stderr
    finally:
        o.kill()
    assert len(hits(k, "lsm", o.pid)) == N // 2
    assert_exact_accounting(k)
