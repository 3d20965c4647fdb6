# SPDX-License-Identifier: GPL-2.0
"""ksight open: exact counts of real openat calls, filters, --count, hook families."""
import pytest

from conftest import Helper, Ksight, run_ksight

N = 10000


def trace_opener(workdir, ksight_args, helper_args=(), n=N):
    """Run `ksight open <args> --json` around one opener helper doing n openat calls;
    returns (ksight, helper pid, helper result)."""
    h = Helper("opener", *helper_args, workdir, n)
    try:
        k = Ksight(["open", "--json"] + [a.replace("{pid}", str(h.pid)) for a in ksight_args])
        k.wait_ready()
        h.go()
        res = h.result()
        assert k.stop() == 0, k.stderr
        return k, h.pid, res
    finally:
        h.kill()


def opens_of(k, pid):
    return [r for r in k.records("open") if r["pid"] == pid]


@pytest.mark.parametrize("hooks", [None, "fentry", "tp_btf", "raw_tp", "tp"])
def test_exact_count_with_errnos(workdir, hooks, kernel_hooks):
    kernel_hooks.require("open", hooks)
    args = ["-p", "{pid}"] + (["--hooks", hooks] if hooks else [])
    k, pid, res = trace_opener(workdir, args)
    assert res == ["done", str(N // 2), str(N // 2)]
    recs = opens_of(k, pid)
    assert len(recs) == N
    ok = [r for r in recs if r["fd"] >= 0]
    failed = [r for r in recs if r["fd"] < 0]
    assert len(ok) == N // 2 and len(failed) == N // 2
    assert {r["path"] for r in ok} == {workdir + "/exists"}
    assert {r["path"] for r in failed} == {workdir + "/missing"}
    assert {r["err"] for r in failed} == {"ENOENT"} and {r["errno"] for r in failed} == {2}
    assert {r["syscall"] for r in recs} == {"openat"}
    assert all(r["tid"] == pid and r["comm"] == "opener" for r in recs)
    st = k.stats()
    assert st["lost"] == 0 and st["open"] == N and st["consistent"] is True
    assert k.stderr.splitlines()[-1] == "%d events, 0 lost" % st["events"]


def test_fentry_refused_here(kernel_hooks):
    if kernel_hooks.usable("open", "fentry"):
        pytest.skip("this kernel allows fentry: test_exact_count_with_errnos[fentry] runs")
    r = run_ksight(["open", "--hooks", "fentry", "--duration", "1"])
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1
    assert "fentry" in r.stderr and "refused" in r.stderr
