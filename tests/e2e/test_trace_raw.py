# SPDX-License-Identifier: GPL-2.0
"""ksight trace raw:CATEGORY:NAME: a tracepoint's raw arguments (tp_btf, else raw_tp) and
member paths through them, resolved with the kernel's BTF. References: the helper fcalls
forks exactly N children; the kernel's TCP states (include/net/tcp_states.h: TCP_LISTEN
10, TCP_CLOSE 7) for sockets this test listens with; bpftool for the program's type."""
import signal
import socket
import time

import pytest

from conftest import SCALE, Helper, Ksight, bpf_ids, bpftool_ids, run_ksight
from test_trace import bpftool_type, buckets, one_round, rows, total

N = 1000 // SCALE
TCP_CLOSE, TCP_LISTEN = 7, 10


def tp_btf_usable(kernel_hooks):
    return kernel_hooks.families.get("tp_btf", "absent") is None


def raw_names(tp):
    """The raw arguments' names as tplist -v gives them: by the event class's BTF prototype,
    or arg0.. where the kernel's BTF has no class functions (Debian's 5.10)."""
    r = run_ksight(["tplist", "-v", tp])
    assert r.returncode == 0, r.stderr
    (raw,) = [l.strip()[len("raw: "):] for l in r.stdout.splitlines()
              if l.strip().startswith("raw: ")]
    return [a.replace("*", " ").split()[-1] for a in raw.split(", ")]


@pytest.mark.kernels
@pytest.mark.parametrize("hooks", ["auto", "raw_tp"])
def test_raw_fork_count_by_member_exact(hooks, kernel_hooks):
    """fcalls' N forks, kept by a filter on a member of the parent argument (no -p: every
    fork of the machine is a hit) and counted by the parent's comm and the child's
    parent's tgid (two pointers followed): one row, exactly N. The program is the family
    chosen: tp_btf where the kernel allows it, raw_tp when --hooks asks for it. The
    arguments by the names tplist gives (arg0, arg1 where BTF has none)."""
    parent, child = raw_names("sched:sched_process_fork")
    pcomm, ctgid = parent + "->comm", child + "->real_parent->tgid"
    h = Helper("fcalls", N)
    try:
        k = Ksight(["trace", "--json", "raw:sched:sched_process_fork", "--hooks", hooks,
                    "--filter", "%s->tgid == %d" % (parent, h.pid),
                    "--count-by", "%s,%s" % (pcomm, ctgid)])
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
    assert rows(k, pcomm, ctgid) == {("fcalls", h.pid): N}
    assert total(k, "matched") == N
    assert total(k) >= N
    assert k.stats()["lost"] == 0
    btf = hooks == "auto" and tp_btf_usable(kernel_hooks)
    assert ("tracing" if btf else "raw_tracepoint") in types, types


def test_raw_filter_both_ways():
    """X and !X on the same machine-wide forks: a string member (parent->comm) and a number
    (parent->tgid). X keeps exactly fcalls' N; !X keeps every other hit of its own run."""
    for x in ('parent->comm == "fcalls"', "parent->tgid == PID"):
        k, _ = one_round(["raw:sched:sched_process_fork", "--filter", x])
        assert total(k, "matched") == N, x
        k, _ = one_round(["raw:sched:sched_process_fork", "--filter", "!(%s)" % x,
                          "--count-by", "parent->comm"])
        assert total(k, "matched") == total(k) - N, x
        assert ("fcalls",) not in rows(k, "parent->comm"), x


def test_raw_hist_of_member_sums_to_count():
    """--hist of a numeric member (the child's tgid) with -p: N values, buckets summing to N,
    every one at or above the parent's own pid's bucket floor."""
    k, pid = one_round(["raw:sched:sched_process_fork", "-p", "PID", "--hist", "child->tgid"])
    got = buckets(k)
    assert sum(got.values()) == N
    assert sum(r["count"] for r in k.records("trace_hist")) == N
    assert total(k) == N
    assert all(hi >= 2 for (lo, hi), n in got.items() if n)


def test_raw_events_with_member_fields():
    """-f with a char-array member and an argument: one record per fork, N in all."""
    k, pid = one_round(["raw:sched:sched_process_fork", "-p", "PID", "-f",
                        "parent->comm,child->pid,arg0"])
    ev = k.records("trace")
    assert len(ev) == N
    assert {e["fields"]["parent->comm"] for e in ev} == {"fcalls"}
    assert len({e["fields"]["child->pid"] for e in ev}) == N
    assert all(e["fields"]["arg0"] > 0 for e in ev)


def test_raw_nested_struct_and_anonymous_member():
    """sk->__sk_common.skc_num: a struct inside the socket, the port inside an anonymous
    struct of an anonymous union. K sockets listen on a port of this test and close: the
    kernel sets each one TCP_LISTEN then TCP_CLOSE, exactly K of each for that port."""
    K = 20
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    k = Ksight(["trace", "--json", "raw:sock:inet_sock_set_state", "--filter",
                "sk->__sk_common.skc_num == %d" % port, "--count-by", "newstate,oldstate"])
    try:
        k.wait_ready()
        for _ in range(K):
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", port))
                s.listen(1)
    finally:
        rc = k.stop()
    assert rc == 0, k.stderr
    assert rows(k, "newstate", "oldstate") == {(TCP_LISTEN, TCP_CLOSE): K,
                                              (TCP_CLOSE, TCP_LISTEN): K}
    assert total(k, "matched") == 2 * K


@pytest.mark.parametrize("args,what", [
    (["-C", "parent->bogus"], "--count-by: column 9: parent->bogus: struct task_struct has "
                              "no member 'bogus'"),
    (["-C", "child->pid,parent.pid"], "--count-by: column 18: parent.pid: 'parent' is not a "
                                      "struct: use '->'"),
    (["--filter", "child->pid > 1 && parent->se == 2"],
     "--filter: column 27: parent->se: 'se' is a struct: name a member with '.'"),
    (["--filter", "parent->pid->x == 1"], "--filter: column 12: parent->pid->x: "
                                          "'parent->pid' is not a pointer"),
    (["-C", "child->mm->owner->mm->owner->pid"], "column 28: child->mm->owner->mm->owner->pid:"
                                                 " too deep: 4 memory reads at most"),
    (["-C", "bogus->pid"], "column 1: bogus->pid: 'bogus' is not an argument"),
    (["-C", "parent->"], "column 9: parent->: expected a member name"),
    (["--hist", "parent->comm"], "is a string"),
    (["--hooks", "kprobe"], "a raw tracepoint is tp_btf or raw_tp"),
])
def test_raw_bad_path_exit_2_one_line(args, what):
    r = run_ksight(["trace", "raw:sched:sched_process_fork"] + args)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and what in lines[0], r.stderr


def test_raw_unknown_tracepoint():
    r = run_ksight(["trace", "raw:sched:no_such_tracepoint"])
    assert r.returncode == 2 and "no such tracepoint" in r.stderr


def test_tplist_shows_raw_arguments():
    """tplist -v: the raw arguments by name and type, the names the probe takes."""
    r = run_ksight(["tplist", "-v", "sched:sched_switch"])
    assert r.returncode == 0, r.stderr
    raw = [l.strip() for l in r.stdout.splitlines() if l.strip().startswith("raw:")]
    assert len(raw) == 1, r.stdout
    assert raw_names("sched:sched_switch") == ["preempt", "prev", "next", "prev_state"]
    assert "struct task_struct *prev" in raw[0] and "struct task_struct *next" in raw[0]
    r = run_ksight(["trace", "raw:sched:sched_switch", "-C", "nope"])
    assert r.returncode == 2 and " prev " in r.stderr and " next " in r.stderr


@pytest.mark.parametrize("hooks", ["tp_btf", "raw_tp"])
def test_raw_nothing_left_after_kill(hooks):
    """SIGKILL: the tp_btf or raw_tp link and its program go with ksight's fds."""
    k = Ksight(["trace", "raw:sched:sched_switch", "--hooks", hooks, "-C", "next->comm"])
    k.wait_ready()
    mine = bpf_ids(k.proc.pid)
    assert mine["prog"] and mine["link"], mine
    k.stop(signal.SIGKILL)
    deadline = time.time() + 10
    while time.time() < deadline and (mine["prog"] & bpftool_ids("prog")
                                      or mine["link"] & bpftool_ids("link")):
        time.sleep(0.1)
    assert not mine["prog"] & bpftool_ids("prog")
    assert not mine["link"] & bpftool_ids("link")
