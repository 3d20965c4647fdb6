# SPDX-License-Identifier: GPL-2.0
"""The state hook's backup program (bpf/tcp_backup.bpf.h): attached after the main program
where the kernel guards each program on its own (tp_btf, raw_tp), never where one guard
covers the whole machine (the classic tracepoint). It does the work only for a state
change the kernel skipped the main program for (nested in its run on that CPU): never a
session twice, and the runs it made (backup_runs) are among the main program's skipped
runs. Whether a state change nests is timing: these tests check what holds either way;
bench/churn_cost.sh under load shows the backup at work (bench/RESULTS.md)."""
import json
import subprocess
import time

import pytest

from conftest import SLOW, Ksight, bpf_ids
from tcp_util import PORT, client, net, result, server  # noqa: F401 (net: a fixture)

N = 400
PROGS = {"auto": ("tcp__state_btf", "tcp__backup_btf"),
         "raw_tp": ("tcp__state_raw", "tcp__backup_raw"),
         "tp": ("tcp__state_tp", None)}


def state_progs(k):
    """{name: recursion misses} of @k's programs on the state hook."""
    progs = {}
    for pid in bpf_ids(k.proc.pid)["prog"]:
        out = subprocess.run(["bpftool", "prog", "show", "id", str(pid), "--json"],
                             stdout=subprocess.PIPE, text=True).stdout
        info = json.loads(out or "{}")
        name = info.get("name", "")
        if name.startswith("tcp__state") or name.startswith("tcp__backup"):
            progs[name] = info.get("recursion_misses", 0)
    return progs


@pytest.mark.parametrize("hooks", ["auto", "raw_tp", "tp"])
def test_backup_never_doubles(net, hooks):
    """N sessions through the veth, each seen from both ends: every one reported once, and
    the sessions short of 2 x N are at most the main program's skipped runs that no
    backup run made up (none, unless a state change nested)."""
    main, backup = PROGS[hooks]
    port = PORT + 9
    k = Ksight(["tcplife", "--json", "--port", str(port), "--hooks", hooks])
    k.wait_ready()
    srv = server(net, "ipv4", port, N, 1)
    cli = client(net, "ipv4", port, N, 1)
    try:
        cli.go()
        assert result(cli)[0] == N and result(srv)[0] == N
        deadline = time.time() + 10 * SLOW
        while len([r for r in k.records("tcplife")]) < 2 * N and time.time() < deadline:
            time.sleep(0.05)
        progs = state_progs(k)
    finally:
        cli.kill()
        srv.kill()
        rc = k.stop()
    assert rc == 0, k.stderr
    assert set(progs) == {p for p in (main, backup) if p}, progs
    # each end's view of a session has its own (lport, rport); a second record of one
    # (say, from a backup that ran though the main program did not miss) repeats it
    ends = [(r["lport"], r["rport"]) for r in k.records("tcplife")
            if port in (r["lport"], r["rport"])]
    assert len(ends) == len(set(ends)), "a session reported twice"
    st = k.stats()
    assert st["lost"] == 0, st
    made_up = st["backup_runs"]
    if backup is None:
        assert made_up == 0, st
    assert made_up <= progs[main], (progs, st)
    assert 2 * N - (progs[main] - made_up) <= len(ends) <= 2 * N, (len(ends), progs, st)
    assert st["missed_runs"] >= sum(progs.values()), (progs, st)
    if made_up:
        assert ("; %d of them made by a backup program instead]" % made_up) in k.stderr, \
            k.stderr
