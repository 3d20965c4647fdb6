# SPDX-License-Identifier: GPL-2.0
"""Shared fixtures for the end-to-end tests: they run the real ksight binary as root
against real kernel events and assert exact counts.

KSIGHT points at the binary (default build/ksight), KSIGHT_HELPERS at the compiled
helpers (default build/tests/e2e/helpers) and KSIGHT_SELFTEST at the test instrument
(default build/tests/ksight-selftest: ksight's objects plus test-only modules);
scripts/run-tests.sh sets them.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from kstatus import KernelHooks

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KSIGHT = os.environ.get("KSIGHT", os.path.join(ROOT, "build", "ksight"))
HELPERS = os.environ.get("KSIGHT_HELPERS", os.path.join(ROOT, "build", "tests", "e2e", "helpers"))
SELFTEST = os.environ.get("KSIGHT_SELFTEST", os.path.join(ROOT, "build", "tests", "ksight-selftest"))
# Timeouts are multiplied by this on slow machines: make test-kernels sets it in its TCG
# guests, where attaching tens of fexit programs alone takes 10-25 s.
SLOW = float(os.environ.get("KSIGHT_TEST_SLOW", "1"))
# Heavy exact tests divide their call counts by this there (the counts stay exact).
SCALE = int(os.environ.get("KSIGHT_TEST_SCALE", "1"))


# Names and ids unique to this test run, so that filters never match the helpers of another
# run of this suite going on at the same time (several worktrees share the machine).
UNIQ = "%05d" % (os.getpid() % 100000)
# A tool's last line when nothing was lost. Runs the kernel skipped (a program already
# running on that CPU: a softirq's hit while a task's was in it) are said after it: they
# are the kernel's, not losses of the ring, and no test's exact count depends on them
# unless it says so.
NOTHING_LOST = r"^(\d+) events, 0 lost(?: \[\d+ program runs skipped by the kernel: [^]]*\])?$"
# The agent keeps its history in /var/lib/ksight by default (docs/store.md): the tests must
# not write the host's files, so every agent here runs without a store unless the test
# gives one (test_store.py).
os.environ.setdefault("KSIGHT_STORE", "none")
TEST_UID = 100000 + os.getpid()    # nobody else's uid


# The kernel matrix (`make test-kernels`, scripts/test-kernels.sh) runs the tests marked
# `kernels` on every kernel it boots: each module's cheapest exact test, with every hook
# family forced once. Mark a test @pytest.mark.kernels, or name it here (file::function,
# all its parameters).
KERNEL_MATRIX = {
    "test_status.py::test_status_hooks_on_this_kernel",
    "test_open.py::test_exact_count_with_errnos",
    "test_open.py::test_fentry_refused_here",
    "test_exec.py::test_fork_exec_chain",
    "test_exec.py::test_failed_only",
    "test_exec.py::test_fentry_refused_here",
    "test_biolat.py::test_exact_counts_per_disk_and_flags",
    "test_syscount.py::test_exact_counts",
    "test_files.py::test_sequence_exactly_once",
    "test_proc.py::test_lifecycle_exact",
    "test_proc.py::test_hook_refused_here",
    "test_proc.py::test_vfork_is_a_process_sharing_memory",
    "test_rw.py::test_every_call_exactly_once",
    "test_rw.py::test_no_latency_drops_the_entry_hook",
    "test_rw.py::test_fentry_refused_here",
    "test_objects.py::test_tool_with_refused_module_exits_1_with_the_reason",
    "test_tcp.py::test_each_hook_family",
    "test_tcp.py::test_fentry_refused_here",
    "test_tcp_open.py::test_connects_and_accepts_exact",
    "test_udp.py::test_each_hook_family",
    "test_udp.py::test_fentry_refused_here",
    "test_tcp_states.py::test_transitions_exact",
    "test_tcp_retrans.py::test_refused_connect_resets",
    "test_tcp_rtt.py::test_histograms_equal_the_trace",
    "test_drops.py::test_closed_port_exact",
    "test_drops.py::test_status_says_whether_reasons_are_named",
    "test_trace.py::test_fork_count_by_parent_comm_exact",
}


def pytest_configure(config):
    config.addinivalue_line("markers", "kernels: run on every kernel by make test-kernels")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        name = getattr(item, "originalname", None) or item.name
        if "%s::%s" % (os.path.basename(str(item.fspath)), name) in KERNEL_MATRIX:
            item.add_marker(pytest.mark.kernels)
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="end-to-end tests load BPF programs: run as root")
        for item in items:
            item.add_marker(skip)


def free_port():
    """A TCP port of 127.0.0.1 free now, for an agent's --listen."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prom_samples(text):
    """{(name, frozenset(labels)): value} of a Prometheus page, as the reference parser
    (python3-prometheus-client) reads it."""
    from prometheus_client.parser import text_string_to_metric_families

    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def helper_path(name):
    return os.path.join(HELPERS, name)


def source_line(source, text):
    """The line of tests/e2e/helpers/@source that holds @text: where a test expects DWARF
    to place a definition."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "helpers",
                           source)) as f:
        for n, line in enumerate(f, 1):
            if text in line:
                return n
    raise AssertionError("%s: no line with %r" % (source, text))


class Ksight:
    """A running ksight command. Output is collected by threads so pipes never fill."""
    started = []   # every instance, so that none outlives its test (no_tracer_left_behind)

    def __init__(self, args, env=None, preexec=None, binary=None):
        self.args = [binary or KSIGHT] + list(args)
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env, preexec_fn=preexec)
        Ksight.started.append(self)
        self.out_lines, self.err_lines = [], []
        self.ready = threading.Event()
        self._t = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.out_lines), daemon=True),
                   threading.Thread(target=self._pump, args=(self.proc.stderr, self.err_lines), daemon=True)]
        for t in self._t:
            t.start()

    def _pump(self, pipe, sink):
        for raw in iter(pipe.readline, b""):
            line = raw.decode("utf-8", "surrogateescape").rstrip("\n")
            sink.append(line)
            if " ready in " in line:
                self.ready.set()
        pipe.close()

    def wait_ready(self, timeout=20):
        """Wait for the "ready in N ms" line, then until ksight catches SIGINT: the line
        comes a little before the handler is installed (see test_cleanup.py)."""
        timeout *= SLOW
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.ready.wait(0.05):
                while time.time() < deadline and not self.catches(signal.SIGINT):
                    time.sleep(0.005)
                return
            if self.proc.poll() is not None:
                for t in self._t:
                    t.join(2)
                raise AssertionError("ksight exited %d before ready: %s"
                                     % (self.proc.returncode, "\n".join(self.err_lines)))
        raise AssertionError("ksight not ready after %ss: %s" % (timeout, "\n".join(self.err_lines)))

    def catches(self, sig):
        """Whether the process has a handler for @sig (SigCgt in /proc/PID/status)."""
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("SigCgt:"):
                        return bool(int(line.split()[1], 16) & (1 << (sig - 1)))
        except OSError:
            pass
        return False

    def stop(self, sig=signal.SIGINT, timeout=30):
        timeout *= SLOW
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("ksight did not stop within %ss" % timeout)
        for t in self._t:
            t.join(10)
        return self.proc.returncode

    def wait(self, timeout=60):
        """Wait for a command that ends by itself (--duration, a count of intervals)."""
        timeout *= SLOW
        self.proc.wait(timeout)
        for t in self._t:
            t.join(10)
        return self.proc.returncode

    @property
    def stdout(self):
        return "\n".join(self.out_lines)

    @property
    def stderr(self):
        return "\n".join(self.err_lines)

    def records(self, type_=None):
        """The JSON records printed so far (every line must be valid JSON)."""
        recs = [json.loads(line) for line in self.out_lines if line]
        return [r for r in recs if type_ is None or r["type"] == type_]

    def stats(self):
        recs = self.records("stats")
        assert recs, "no stats record:\n" + self.stderr
        return recs[-1]


class Helper:
    """A helper process that prints 'ready PID [EXTRA...]', waits for a line on stdin, does
    its work and prints a result line. Arguments may be str or bytes (raw paths). @ns: run
    it in that network namespace (ip netns exec)."""

    def __init__(self, name, *args, env=None, ns=None):
        argv = [a if isinstance(a, bytes) else str(a) for a in args]
        netns = ["ip", "netns", "exec", ns] if ns else []
        self.proc = subprocess.Popen(netns + [helper_path(name)] + argv,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        line = self.proc.stdout.readline().decode()
        assert line.startswith("ready "), "helper %s: %r %s" % (name, line, self.proc.stderr.read())
        self.pid = int(line.split()[1])
        self.extra = [int(x) for x in line.split()[2:]]   # e.g. opener -t: the thread ids
        self.out = ""

    def go(self):
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()

    def readline(self):
        """The next line the helper prints (before result())."""
        return self.proc.stdout.readline().decode()

    def result(self, timeout=120):
        """Wait for the end (stdin is closed); the words printed, the text in self.out."""
        out, err = self.proc.communicate(timeout=timeout)
        assert self.proc.returncode == 0, "rc %d: %s" % (self.proc.returncode, err.decode())
        self.out = out.decode()
        return self.out.split()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def bpf_ids(pid):
    """The BPF objects process @pid holds through its file descriptors, from
    /proc/PID/fdinfo: {"prog": {ids}, "link": {ids}, "map": {ids}, "btf": {ids}}."""
    ids = {"prog": set(), "link": set(), "map": set(), "btf": set()}
    fddir = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fddir):
        try:
            with open(os.path.join(fddir, fd)) as f:
                info = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        except OSError:
            continue
        link = "link_id" in info
        for kind in ("prog", "link", "map", "btf"):
            if kind + "_id" in info and not (kind == "prog" and link):
                ids[kind].add(int(info[kind + "_id"]))
    return ids


def bpftool_ids(kind):
    """Ids of every BPF object of @kind (prog, link, map, btf) loaded on the machine.
    bpftool walks the ids, then opens each: one freed in between (another ksight that
    exits, on this shared machine) fails its whole listing ("can't get link by id (N):
    Resource temporarily unavailable"), so it is asked again."""
    for _ in range(5):
        r = subprocess.run(["bpftool", "-j", kind, "show"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        if r.returncode == 0:
            return {o["id"] for o in json.loads(r.stdout or b"[]")}
    raise AssertionError("bpftool %s show: %s" % (kind, (r.stderr or r.stdout).decode()))


def bpftool_json(*args):
    return json.loads(subprocess.run(["bpftool", "-j"] + list(args), check=True,
                                     stdout=subprocess.PIPE).stdout or b"[]")


def attached_progs(pid):
    """Names (bpftool's: the full names from BTF) of the programs @pid has attached: behind its
    BPF links, or its perf events (tracepoints on kernels before BPF perf links, 5.15)."""
    mine = bpf_ids(pid)["link"]
    ids = {link["prog_id"] for link in bpftool_json("link", "show") if link["id"] in mine}
    ids |= {e["prog_id"] for e in bpftool_json("perf", "show") if e.get("pid") == pid}
    return {bpftool_json("prog", "show", "id", str(i))["name"] for i in ids}


def loaded_progs(pid):
    """Names of every program @pid holds, attached or not."""
    return {bpftool_json("prog", "show", "id", str(i))["name"] for i in bpf_ids(pid)["prog"]}


@pytest.fixture(autouse=True)
def no_tracer_left_behind():
    """A test that failed half-way may leave its ksight running: it would trace on, and
    slow or disturb every later test (and a benchmark run after). Stopped here."""
    yield
    while Ksight.started:
        k = Ksight.started.pop()
        if k.proc.poll() is None:
            k.proc.kill()
            k.proc.wait()


def run_ksight(args, timeout=30, env=None):
    """Run ksight to completion (for bad input, --help, status). Returns CompletedProcess."""
    return subprocess.run([KSIGHT] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout * SLOW, text=True, errors="surrogateescape", env=env)


@pytest.fixture
def pubdir():
    """Like workdir, but every user can reach it (pytest's tmp_path sits under a 0700
    directory), for helpers that drop to another uid. Removed after the test."""
    d = tempfile.mkdtemp(prefix="ksight-e2e-")
    try:
        os.chmod(d, 0o755)
        with open(os.path.join(d, "exists"), "w") as f:
            f.write("x")
        os.chmod(os.path.join(d, "exists"), 0o644)
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def workdir(tmp_path):
    """A private directory with an 'exists' file; 'missing' never exists."""
    d = tmp_path / "w"
    d.mkdir()
    (d / "exists").write_text("x")
    os.chmod(d, 0o755)
    os.chmod(tmp_path, 0o755)
    return str(d)


@pytest.fixture(scope="session")
def kernel_hooks():
    """`ksight status` on this kernel, run once and parsed (KernelHooks)."""
    r = run_ksight(["status"], timeout=120)
    assert r.returncode == 0, r.stderr
    return KernelHooks(r.stdout)


@pytest.fixture(scope="session")
def bpf_lsm():
    """Whether BPF LSM programs run here: the kernel lists bpf among its active LSMs."""
    try:
        with open("/sys/kernel/security/lsm") as f:
            return "bpf" in f.read().strip().split(",")
    except OSError:
        return False
