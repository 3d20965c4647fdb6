# SPDX-License-Identifier: GPL-2.0
"""ksight run --bpf: a user's own CO-RE objects (examples/, and a test object with every
kind of key and value) built here with clang, loaded beside the modules, their maps on
/metrics with labels and values decoded from BTF and exact against what the test did (or
the kernel's own TcpRetransSegs), their programs' cost beside them; maps it cannot decode
each said in one line while the rest runs; bad input exits 2 with one line; nothing left
in the kernel after the agent ends or is killed."""
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request

import pytest

from conftest import (KSIGHT, ROOT, SLOW, UNIQ, Helper, Ksight, bpf_ids, bpftool_ids, bpftool_json,
                      free_port, prom_samples, run_ksight)
from tcp_util import PORT, nspair  # noqa: F401 (a fixture)

BUILD = os.path.dirname(os.path.abspath(KSIGHT))
PROMTOOL = os.path.join(os.environ.get("KSIGHT_PROMETHEUS", os.path.join(
    BUILD, "prometheus", "usr", "bin")), "promtool")
CFLAGS = ["-target", "bpf", "-D__TARGET_ARCH_x86", "-O2", "-I", BUILD]
BASE = PORT + 12        # two ports of this run (tcp_util.PORT .. PORT+15)
REFUSED_SRC = """
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
SEC("tracepoint/sched/sched_process_exec")
int refused(void *c) { return *(int *)(long)bpf_get_prandom_u32(); }
char LICENSE[] SEC("license") = "GPL";
"""
NO_BTF_SRC = """
#define SEC(n) __attribute__((section(n), used))
SEC("tracepoint/sched/sched_process_exec") int f(void *c) { return 0; }
char LICENSE[] SEC("license") = "GPL";
"""


@pytest.fixture(scope="module")
def objs(tmp_path_factory):
    """The examples and the test object, as examples/README.md says to build them, and
    one without BTF (no -g)."""
    d = tmp_path_factory.mktemp("userbpf")
    srcs = {"exec_comm": os.path.join(ROOT, "examples", "exec_comm.bpf.c"),
            "tcp_retrans_port": os.path.join(ROOT, "examples", "tcp_retrans_port.bpf.c"),
            "ubk": os.path.join(ROOT, "tests", "e2e", "helpers", "userbpf_kinds.bpf.c")}
    out = {}
    for name, src in srcs.items():
        out[name] = str(d / (name + ".bpf.o"))
        subprocess.run(["clang"] + CFLAGS + ["-g", "-c", src, "-o", out[name]], check=True)
    (d / "nobtf.c").write_text(NO_BTF_SRC)
    out["nobtf"] = str(d / "nobtf.bpf.o")
    subprocess.run(["clang"] + CFLAGS + ["-c", str(d / "nobtf.c"), "-o", out["nobtf"]],
                   check=True)
    (d / "refused.bpf.c").write_text(REFUSED_SRC)
    out["refused"] = str(d / "refused.bpf.o")
    subprocess.run(["clang"] + CFLAGS + ["-g", "-c", str(d / "refused.bpf.c"), "-o",
                                         out["refused"]], check=True)
    out["dir"] = str(d)
    return out


def scrape_until(url, pred, timeout=15):
    deadline = time.time() + timeout * SLOW
    while True:
        with urllib.request.urlopen(url, timeout=10 * SLOW) as r:
            body = r.read().decode()
        got = prom_samples(body)
        if pred(got) or time.time() > deadline:
            return body, got
        time.sleep(0.2)


def agent(port, *bpf, modules="exec", extra=()):
    args = ["run", "--modules", modules, "--listen", "127.0.0.1:%d" % port] + list(extra) + ["1"]
    for b in bpf:
        args += ["--bpf", b]
    k = Ksight(args)
    k.wait_ready()
    return k


def L(**kw):
    return frozenset(kw.items())


def exec_n(path, args, n):
    for _ in range(n):
        subprocess.run([path] + args, check=True)


def log2_slot(v):
    return max(v, 1).bit_length() - 1


def gone(ids, kind, timeout=10):
    """Whether none of @ids (of @kind) is loaded any more (the kernel frees after RCU)."""
    deadline = time.time() + timeout * SLOW
    while ids & bpftool_ids(kind) and time.time() < deadline:
        time.sleep(0.1)
    return not ids & bpftool_ids(kind)


@pytest.mark.kernels
def test_exec_example_exact(objs, workdir):
    """examples/exec_comm.bpf.c: n execs of a program of a unique name, half with a short
    argument and half with a long one: its counter, its per-comm histogram of argument
    bytes (buckets, _sum from the object's own sum member, _count) are exact; the
    program's runs are on the page; promtool finds nothing to say; nothing stays loaded."""
    comm, n = "ubx%s" % UNIQ, 10
    path = os.path.join(workdir, comm)
    shutil.copy("/bin/true", path)
    port = free_port()
    url = "http://127.0.0.1:%d/metrics" % port
    # the statistics held on all the time (--bpf alone samples them): every run counted
    k = agent(port, objs["exec_comm"], extra=("--bpf-stats",))
    try:
        mine = bpf_ids(k.proc.pid)
        exec_n(path, ["a" * 5], n)
        exec_n(path, ["b" * 100], n)
        key = ("ksight_exec_by_comm_execs_total", L(comm=comm))
        body, got = scrape_until(url, lambda g: g.get(key) == 2 * n)
    finally:
        assert k.stop() == 0, k.stderr
    # argv[0] is the path: the argument strings with their NULs
    small, big = len(path) + 1 + 6, len(path) + 1 + 101
    assert got[key] == 2 * n, body
    want = {}
    for v in (small, big):
        want[log2_slot(v)] = want.get(log2_slot(v), 0) + n
    cum = 0
    for i in range(max(want) + 1):
        cum += want.get(i, 0)
        le = "%d" % (2 ** (i + 1) - 1)     # inclusive: 2^(i+1) is the next slot's
        assert got[("ksight_exec_by_comm_args_bytes_bucket", L(comm=comm, le=le))] == cum, body
    assert got[("ksight_exec_by_comm_args_bytes_bucket", L(comm=comm, le="+Inf"))] == 2 * n
    assert got[("ksight_exec_by_comm_args_bytes_count", L(comm=comm))] == 2 * n
    assert got[("ksight_exec_by_comm_args_bytes_sum", L(comm=comm))] == n * (small + big)
    assert "# TYPE ksight_exec_by_comm_args_bytes histogram" in body
    # the array map of slots is one histogram of every exec on the machine
    assert got[("ksight_exec_path_len_count", L())] >= 2 * n, body
    runs = got[("ksight_bpf_prog_runs_total", L(module="bpf:exec_comm", program="exec_comm"))]
    assert runs >= 2 * n, body
    assert ("ksight_bpf_prog_run_seconds_total",
            L(module="bpf:exec_comm", program="exec_comm")) in got
    assert got[("ksight_bpf_stats_enabled", L())] == 1, body
    assert k.stderr.count("\n") == 1 and "ready in" in k.stderr, k.stderr   # no warning
    # `make e2e` unpacks Debian's prometheus package: missing is a failure, not a skip
    assert os.access(PROMTOOL, os.X_OK), "no %s: `make prometheus`" % PROMTOOL
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=body, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout == "", r.stdout
    assert gone(mine["prog"], "prog") and gone(mine["map"], "map"), mine


MANIFEST = """\
# test manifest
map.ubk.label.comm = process
map.ubk_by_index.name = ubk_slot_hits
map.ubk_by_index.label.key = slot
map.ubk_by_index.help = hits per slot
"""


def test_every_kind_decoded_and_refused_maps_said(objs, workdir):
    """The test object: a key of a char array, an address and an enum, a value of a
    counter, a signed gauge and nanoseconds, an array map by index, each exact after n
    execs; renamed by a manifest. Its ring buffer and its key of four members are each
    refused in one line, its pinned map is exported but never pinned, its XDP program is
    said not attached, and the rest runs."""
    comm, n = "ubk%s" % UNIQ, 7
    path = os.path.join(workdir, comm)
    shutil.copy("/bin/true", path)
    man = os.path.join(workdir, "ubk.manifest")
    with open(man, "w") as f:
        f.write(MANIFEST)
    port = free_port()
    url = "http://127.0.0.1:%d/metrics" % port
    k = agent(port, objs["ubk"] + ":" + man)
    try:
        exec_n(path, [], n)
        lab = L(process=comm, daddr="10.1.2.3", kind="KIND_TWO")
        key = ("ksight_ubk_calls_total", lab)
        body, got = scrape_until(url, lambda g: g.get(key) == n)
        assert not os.path.exists("/sys/fs/bpf/ubk_pinned")
    finally:
        assert k.stop() == 0, k.stderr
    assert got[key] == n, body
    assert got[("ksight_ubk_level", lab)] == -5, body
    assert "# TYPE ksight_ubk_level gauge" in body
    assert got[("ksight_ubk_wait_seconds_total", lab)] == pytest.approx(n * 0.0015, abs=1e-12)
    assert got[("ksight_ubk_slot_hits_total", L(slot="3"))] == n, body
    # global variables of .bss and .data, not the constants of .rodata
    assert got[("ksight_ubk_execs_seen_total", L())] == n, body
    assert got[("ksight_ubk_last", L())] == -1, body
    assert got[("ksight_ubk_data_seconds_total", L())] == pytest.approx((1 + 1000 * n) * 1e-9,
                                                                       rel=1e-12), body
    assert "ubk_const" not in body
    # members typed by their BTF decl tags, whatever their names
    assert got[("ksight_ubk_depth", lab)] == 42 and "# TYPE ksight_ubk_depth gauge" in body
    assert got[("ksight_ubk_spread_bucket", lab | {("le", "3")})] == 0, body
    assert got[("ksight_ubk_spread_bucket", lab | {("le", "7")})] == n, body
    assert got[("ksight_ubk_spread_count", lab)] == n, body
    assert got[("ksight_ubk_spread_sum", lab)] == 4 * n, body     # slots' lower bounds
    assert "# HELP ksight_ubk_slot_hits_total hits per slot\n" in body
    assert not [s for s in got if s[0] == "ksight_ubk_slot_hits_total" and
                s[1] != L(slot="3")], body      # zero entries of an array are not shown
    assert got[("ksight_ubk_pinned_total", L(key="1"))] == n, body
    # a value that is a histogram of ns: seconds, buckets scaled, _sum the slots' lower
    # bounds (no sum member): n values in [1024, 2048) ns
    h = "ksight_ubk_lat_seconds"
    assert "# TYPE %s histogram" % h in body
    assert got[(h + "_bucket", L(comm=comm, le="1.023e-06"))] == 0, body
    assert got[(h + "_bucket", L(comm=comm, le="2.047e-06"))] == n, body
    assert got[(h + "_count", L(comm=comm))] == n, body
    assert got[(h + "_sum", L(comm=comm))] == pytest.approx(n * 1024e-9, rel=1e-12), body
    assert not [s for s in got if "ubk_wide" in s[0] or "ubk_events" in s[0]], body
    lines = k.stderr.splitlines()
    assert lines.count("ksight run: --bpf ubk: map ubk_events (ringbuf): cannot decode this "
                       "map type, not exported") == 1, lines
    assert lines.count("ksight run: --bpf ubk: map ubk_wide: its key has 4 members, labels "
                       "are at most 3; not exported") == 1, lines
    assert lines.count("ksight run: --bpf ubk: map ubk_pinned asks to be pinned: it is not "
                       "(nothing of ksight outlives it)") == 1, lines
    assert lines.count("ksight run: --bpf ubk: program ubk_xdp (SEC(\"xdp\")) not attached: its "
                       "section names nothing libbpf attaches by itself") == 1, lines
    assert len(lines) == 6, lines     # those four, ready, the loss line


def test_two_objects_and_kill_leaves_nothing(objs, workdir):
    """Two --bpf objects at once, both attached and counted, beside a third the verifier
    refuses (said with its reason, skipped); a SIGKILL leaves none of their programs,
    links or maps in the kernel, and nothing pinned."""
    comm, n = "ubk%s" % UNIQ, 3
    path = os.path.join(workdir, comm)
    shutil.copy("/bin/true", path)
    port = free_port()
    url = "http://127.0.0.1:%d/metrics" % port
    k = agent(port, objs["refused"], objs["ubk"], objs["exec_comm"])
    # the verifier's words ('scalar' since 5.18, 'inv' before)
    assert re.match(r"^ksight run: --bpf refused: the kernel refused it: R0 invalid mem "
                    r"access '(scalar|inv)'; skipped$", k.err_lines[0]), k.stderr
    mine = bpf_ids(k.proc.pid)
    names = {bpftool_json("prog", "show", "id", str(i))["name"] for i in mine["prog"]}
    assert {"ubk_exec", "exec_comm"} <= names, names
    exec_n(path, [], n)
    body, got = scrape_until(url, lambda g: g.get(
        ("ksight_exec_by_comm_execs_total", L(comm=comm))) == n and g.get(
        ("ksight_ubk_by_index_total", L(key="3"))) == n)
    assert got[("ksight_exec_by_comm_execs_total", L(comm=comm))] == n, body
    k.stop(signal.SIGKILL)
    for kind in ("prog", "link", "map"):
        assert gone(mine[kind], kind), (kind, mine[kind] & bpftool_ids(kind))
    assert not os.path.exists("/sys/fs/bpf/ubk_pinned")


DROP_RULES = """
table inet ksight_ubtest {
    chain input {
        type filter hook input priority 0; policy accept;
        tcp dport %d meta length > 200 numgen random mod 4 == 0 counter drop
    }
}
"""


def recursion_misses(pid, name):
    n = 0
    for i in bpf_ids(pid)["prog"]:
        info = bpftool_json("prog", "show", "id", str(i))
        if info.get("name") == name:
            n += info.get("recursion_misses", 0)
    return n


def test_tcp_example_equals_the_kernels_count(objs, nspair):
    """examples/tcp_retrans_port.bpf.c: namespace B drops a quarter of the data one
    connection from A sends; the segments counted for its port (per-CPU hash, summed)
    equal A's TcpRetransSegs delta exactly, in state ESTABLISHED; a control connection
    beside it has no series."""
    if not shutil.which("nft"):
        pytest.skip("no nft (Debian package nftables: make deps installs it)")
    lossy, control = BASE, BASE + 1
    a, b = nspair.addrs("ipv4")
    nspair.nft(nspair.b, DROP_RULES % lossy)
    size = 2 << 20
    port = free_port()
    url = "http://127.0.0.1:%d/metrics" % port
    k = agent(port, objs["tcp_retrans_port"], modules="exec")
    helpers = []
    try:
        for p in (lossy, control):
            helpers.append(Helper("tcpio", "server", b, p, 1, 1000, ns=nspair.b))
            helpers.append(Helper("tcpio", "client", b, p, 1, size, ns=nspair.a))
        before = nspair.tcp_counter(nspair.a, "RetransSegs")
        for h in helpers[1::2]:
            h.go()
        for h in helpers[1::2]:
            assert [int(x) for x in h.result()[:2]] == [size, 1000]
        for h in helpers[0::2]:
            assert [int(x) for x in h.result()] == [size, 1000]
        time.sleep(0.5)
        delta = nspair.tcp_counter(nspair.a, "RetransSegs") - before

        def port_total(g):
            return sum(v for (name, lab), v in g.items()
                       if name == "ksight_tcp_retrans_segs_total" and
                       dict(lab).get("rport") == str(lossy))
        body, got = scrape_until(url, lambda g: port_total(g) >= delta)
        misses = recursion_misses(k.proc.pid, "tcp_retrans_port")
    finally:
        for h in helpers:
            h.kill()
        assert k.stop() == 0, k.stderr
    assert delta > 0, "nothing was dropped: the rule did not apply"
    total = port_total(got)
    # a retransmission that failed in the transmit is in RetransSegs (counted before it),
    # one refused earlier is not (test_tcp_retrans.py): the failed segments bound the gap
    failed = sum(v for (name, lab), v in got.items()
                 if name == "ksight_tcp_retrans_failed_segs_total" and
                 dict(lab).get("rport") == str(lossy))
    assert (total == delta or (misses and total < delta) or
            total <= delta <= total + failed), (delta, misses, failed, body)
    assert got.get(("ksight_tcp_retrans_segs_total",
                    L(rport=str(lossy), state="ESTABLISHED")), 0) > 0, body
    assert not [s for s in got if dict(s[1]).get("rport") == str(control)], body


def test_bad_input_exits_2(objs, workdir):
    """Each bad --bpf exits 2 with one line naming the problem, before anything loads."""
    bad_man = os.path.join(workdir, "bad.manifest")
    with open(bad_man, "w") as f:
        f.write("map.nosuch.name = x\n")
    cases = [
        (objs["nobtf"], "ksight run: --bpf %s: the object has no BTF (compile it with "
         "clang -g)" % objs["nobtf"]),
        (os.path.join(workdir, "missing.bpf.o"), "ksight run: --bpf %s: No such file or "
         "directory" % os.path.join(workdir, "missing.bpf.o")),
        ("/bin/true", "ksight run: --bpf /bin/true: not a BPF object (clang -target bpf -g "
         "-O2 -c)"),
        (objs["ubk"] + ":" + bad_man, "ksight run: --bpf %s:%s: manifest: map.nosuch.name: "
         "the object has no map nosuch" % (objs["ubk"], bad_man)),
    ]
    for spec, want in cases:
        r = run_ksight(["run", "--listen", "none", "--bpf", spec])
        assert (r.returncode, r.stdout, r.stderr) == (2, "", want + "\n"), (spec, r.stderr)


def test_help_shows_bpf():
    r = run_ksight(["run", "--help"])
    assert r.returncode == 0
    assert "--bpf OBJ[:MANIFEST]" in r.stdout
    assert "ksight run --bpf tcp_retrans_port.bpf.o" in r.stdout


def test_status_live_shows_the_users_programs(objs, workdir):
    """ksight status --live lists a --bpf object's program under the agent's pid, with
    the runs it made while the statistics were on: at least the n execs it counted."""
    comm, n = "ubk%s" % UNIQ, 20
    path = os.path.join(workdir, comm)
    shutil.copy("/bin/true", path)
    k = agent(free_port(), objs["ubk"])
    live = None
    try:
        live = subprocess.Popen([KSIGHT, "status", "--live", "--json", "2", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        live.stderr.readline()      # "N ksight programs loaded": statistics are on
        exec_n(path, [], n)
        out, err = live.communicate(timeout=30 * SLOW)
        assert live.returncode == 0, err
    finally:
        if live and live.poll() is None:
            live.kill()
            live.wait()
        assert k.stop() == 0, k.stderr
    rows = [json.loads(l) for l in out.splitlines() if l.strip()]
    mine = [r for r in rows if r.get("prog") == "ubk_exec" and r.get("pid") == k.proc.pid]
    assert len(mine) == 1, out
    assert mine[0]["runs_per_s"] * 2 >= n and mine[0]["ns_per_run"] > 0, mine


def test_budget_overflow_keeps_the_sum(objs, workdir):
    """A manifest budget of one label set: two programs of different names exec n1 and n2
    times; one has its series, the other's count is in the overflow series, the sum over
    the series is exactly n1 + n2, and the refusals are counted."""
    n1, n2 = 4, 6
    paths = []
    for c in "ab":
        paths.append(os.path.join(workdir, "ubk%s%s" % (c, UNIQ)))
        shutil.copy("/bin/true", paths[-1])
    man = os.path.join(workdir, "budget.manifest")
    with open(man, "w") as f:
        f.write("map.ubk.budget = 1\n")
    port = free_port()
    url = "http://127.0.0.1:%d/metrics" % port
    k = agent(port, objs["ubk"] + ":" + man)

    def calls(g):
        return {lab: v for (name, lab), v in g.items() if name == "ksight_ubk_calls_total"}
    try:
        exec_n(paths[0], [], n1)
        exec_n(paths[1], [], n2)
        body, got = scrape_until(url, lambda g: sum(calls(g).values()) == n1 + n2)
    finally:
        assert k.stop() == 0, k.stderr
    c = calls(got)
    assert sum(c.values()) == n1 + n2 and len(c) == 2, body
    over = [v for lab, v in c.items() if ("ksight_overflow", "true") in lab]
    named = [v for lab, v in c.items() if ("ksight_overflow", "true") not in lab]
    assert sorted(over + named) == [n1, n2] and len(over) == 1, body
    assert got[("ksight_metric_budget_hits_total",
                L(metric="ksight_ubk_calls_total"))] >= 1, body


def test_agent_summary_line(objs, workdir):
    """Each interval the agent prints a line for each object (a summary record in JSON):
    its programs' runs per second and ns per run, and how many series it exports."""
    comm, n = "ubx%s" % UNIQ, 5
    path = os.path.join(workdir, comm)
    shutil.copy("/bin/true", path)
    k = Ksight(["run", "--json", "--modules", "exec", "--listen", "none", "--bpf",
                objs["exec_comm"], "1"])
    k.wait_ready()
    try:
        exec_n(path, [], n)
        time.sleep(2.5 * SLOW)
    finally:
        assert k.stop() == 0, k.stderr
    mine = [r for r in k.records("summary") if r["module"] == "bpf:exec_comm"]
    assert len(mine) >= 2, k.stdout
    busy = [r for r in mine if r["runs_per_s"] > 0]
    assert busy and all(r["ns_per_run"] > 0 for r in busy), mine
    # the comm's counter and histogram, the array map's histogram at least
    assert max(r["series"] for r in mine) >= 3, mine
