# SPDX-License-Identifier: GPL-2.0
"""ksight status: every module and the hook chosen for each job, why others were refused;
--live: the programs of a running ksight with their run counts."""
import errno
import re
import subprocess

import bpfprobe
from conftest import Helper, KSIGHT, Ksight, bpf_ids, run_ksight


def modules():
    """The modules `ksight --help` lists as tools (not their variants' commands, which end
    with their module's name in brackets: "tcpconnect ... [tcplife]")."""
    out = run_ksight(["--help"]).stdout
    tools = out.split("Tools:\n", 1)[1].split("\n\n", 1)[0]
    return [l.split()[0] for l in tools.splitlines() if not l.endswith("]")]


def sections(text):
    """{section: [lines]} of status output: a section starts at an unindented line."""
    out, cur = {}, None
    for line in text.splitlines():
        if line and not line.startswith(" "):
            cur = line.split()[0]
            out[cur] = [line]
        elif cur and line:
            out[cur].append(line)
    return out


def chosen(sec, job):
    """The hook chosen for @job in a section: the words after the job's name."""
    for line in sec:
        if line.strip().startswith(job + " "):
            return line.strip()[len(job):].strip()
    raise AssertionError("no %r in %s" % (job, sec))


def test_status_lists_every_module():
    r = run_ksight(["status"])
    assert r.returncode == 0 and r.stderr == "", r.stderr
    secs = sections(r.stdout)
    mods = modules()
    assert {"exec", "open", "biolat"} <= set(mods)
    for m in mods + ["core"]:
        assert m in secs, "status does not list %s:\n%s" % (m, r.stdout)
    assert r.stdout.startswith("kernel ")
    assert re.search(r"^btf +/sys/kernel/btf/vmlinux$", r.stdout, re.M)


def first_usable(probes):
    """The first family whose probe (a thunk returning an errno) passes, or None."""
    for fam, probe in probes:
        if probe() == 0:
            return fam
    return None


def test_status_hooks_on_this_kernel(kernel_hooks):
    """status chooses what an independent trial load (bpfprobe.py, not ksight) says the
    kernel accepts, the cheapest first, and a refused fentry names the errno the kernel
    gave: on this machine tp_btf everywhere and fentry refused with EPERM, on Debian's
    kernels (make test-kernels) fentry for open and exec."""
    secs = sections(kernel_hooks.text)

    def tp_family(tp):
        return first_usable([("tp_btf", lambda: bpfprobe.tp_btf(tp)),
                             ("raw_tp", lambda: bpfprobe.raw_tp(tp))]) or "tp"

    disp = tp_family("sys_exit")
    assert secs["syscalls"][0] == "syscalls dispatcher: " + disp
    assert chosen(secs["core"], "process exec") == tp_family("sched_process_exec")
    assert chosen(secs["core"], "process exit") == tp_family("sched_process_exit")
    assert chosen(secs["biolat"], "see issues") == tp_family("block_rq_issue")
    assert chosen(secs["biolat"], "see completions") == tp_family("block_rq_complete")
    assert chosen(secs["drops"], "see dropped packets") == tp_family("kfree_skb")
    for m, job, fn in (("open", "see opens", "__x64_sys_open"),
                       ("exec", "see failed execs", "__x64_sys_execve")):
        err = bpfprobe.fentry(fn)
        refused = [l for l in secs[m] if l.split()[:1] == ["fentry"]]
        if err == 0:
            assert chosen(secs[m], job) == "fentry" and refused == [], secs[m]
        else:
            assert chosen(secs[m], job) == "syscalls (%s)" % disp
            word = "not in the kernel's BTF" if err == errno.ENOENT else "refused"
            assert len(refused) == 1 and word in refused[0], secs[m]
            assert refused[0].endswith("(%s)" % bpfprobe.name(err)), refused[0]


def test_status_forced_tp():
    r = run_ksight(["status", "--hooks", "tp"])
    assert r.returncode == 0
    secs = sections(r.stdout)
    assert secs["syscalls"][0] == "syscalls dispatcher: tp"
    assert chosen(secs["core"], "process exec") == "tp"
    assert chosen(secs["open"], "see opens") == "syscalls (tp)"
    assert chosen(secs["biolat"], "see issues") == "tp"
    assert "not selected by --hooks" in secs["core"][2]


LIVE_ROW = re.compile(r"^\d+\s+(\d+)\s+(\S+)\s+(\S+)\s+(\d+)\.\d\s+(\d+)\.\d\s+(\d+) (\S.*)$")


def test_status_live_shows_running_programs(workdir):
    n = 5000
    h = Helper("opener", workdir, n)
    k = Ksight(["open", "--json", "-p", str(h.pid)])
    live = None
    try:
        k.wait_ready()
        ours = bpf_ids(k.proc.pid)["prog"]
        names = {}
        for pid in ours:
            out = subprocess.run(["bpftool", "prog", "show", "id", str(pid)],
                                 stdout=subprocess.PIPE, text=True, check=True).stdout
            names[pid] = out.split()[3]   # "ID: type name NAME ..." (15 bytes kept)
        live = subprocess.Popen([KSIGHT, "status", "--live", "1", "1"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        # both header lines are read here: readline() buffers the pipe, and what it
        # buffered never reaches communicate(), which reads the descriptor itself
        first = live.stderr.readline()
        note = live.stderr.readline()
        m = re.match(r"^ksight status: (\d+) ksight programs loaded", first)
        assert m and int(m.group(1)) >= len(ours), first
        h.go()
        h.result()
        out, err = live.communicate(timeout=30)
        assert live.returncode == 0, err
    finally:
        h.kill()
        if live and live.poll() is None:
            live.kill()
            live.wait()
        k.stop()
    lines = out.splitlines()
    # each interval: a blank line, "[HH:MM:SS]", the column header, the rows
    assert lines[0] == "" and re.match(r"^\[\d\d:\d\d:\d\d\]$", lines[1]), out
    lines = lines[2:]
    assert lines[0].split() == ["ID", "PID", "PROGRAM", "TYPE", "RUNS/s", "NS/RUN", "RUNS",
                                "ATTACHED"]
    rows = [LIVE_ROW.match(l) for l in lines[1:] if l]
    assert rows and all(rows), out
    # groups: 1 owner pid, 2 program, 3 type, 4 runs/s, 5 ns/run, 6 runs, 7 attached
    ours = [r for r in rows if int(r.group(1)) == k.proc.pid]
    listed = [r.group(2) for r in ours]
    for name in names.values():
        assert any(p.startswith(name) for p in listed), "%s not in\n%s" % (name, out)
    # the dispatcher saw at least the opener's calls while statistics were on
    sys_exit = [int(r.group(6)) for r in ours if r.group(2).startswith("core__sys_exit")]
    assert sys_exit and max(sys_exit) >= n, out
    # open's handler runs as a tail call: its time is the dispatcher's, and said so
    assert [int(r.group(6)) for r in ours if "__sys_" in r.group(2) and
            not r.group(2).startswith("core__")] == [0], out
    assert "run as tail calls of core__sys_exit_*" in note, note
    # a tail-called handler has no link of its own; the dispatcher is on sys_exit
    assert {r.group(7) for r in ours if "__sys_" in r.group(2) and
            not r.group(2).startswith("core__")} == {"-"}, out
    assert {r.group(7).split(":")[-1] for r in ours
            if r.group(2).startswith("core__sys_exit")} == {"sys_exit"}, out
    assert all(int(r.group(5)) > 0 for r in rows if int(r.group(4)) > 0)


def test_status_live_json(workdir):
    """--json: one prog_stats object per program, owned by the running ksight, with the
    dispatcher's runs counted while an opener works."""
    import json
    n = 3000
    h = Helper("opener", workdir, n)
    k = Ksight(["open", "--json", "-p", str(h.pid)])
    try:
        k.wait_ready()
        live = subprocess.Popen([KSIGHT, "status", "--live", "--json", "1", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        live.stderr.readline()
        live.stderr.readline()
        h.go()
        h.result()
        out, err = live.communicate(timeout=30)
        assert live.returncode == 0, err
    finally:
        h.kill()
        k.stop()
    recs = [json.loads(l) for l in out.splitlines() if l]
    assert recs and {r["type"] for r in recs} == {"prog_stats"}
    ours = [r for r in recs if r["pid"] == k.proc.pid]
    exits = [r for r in ours if r["prog"].startswith("core__sys_exit")]
    assert len(exits) == 1 and exits[0]["runs"] >= n, ours
    assert exits[0]["ns_per_run"] > 0 and exits[0]["runs_per_s"] > 0


def test_status_live_names_each_programs_hook(tmp_path):
    """Three YAML metrics load one program name per family (trace__tp twice, a raw
    tracepoint's trace__tpbtf or trace__rawtp): --live names each row by the metric it
    serves ("serves" in JSON, the PROGRAM column of the table) and tells them apart by the
    tracepoint each is attached to too; every hook it names agrees with bpftool's own list
    of links (the raw tracepoints' names, and which programs have a link at all)."""
    import json
    cfg = tmp_path / "m.yaml"
    cfg.write_text("metrics:\n"
                   "  - {name: st_forks_total, type: counter, probe: sched:sched_process_fork}\n"
                   "  - {name: st_execs_total, type: counter, probe: sched:sched_process_exec}\n"
                   "  - {name: st_raw_exits_total, type: counter,\n"
                   "     probe: 'raw:sched:sched_process_exit'}\n")
    k = Ksight(["run", "--modules", "exec", "--no-store", "--listen", "none",
                "--metrics", str(cfg)])
    try:
        k.wait_ready()
        live = run_ksight(["status", "--live", "--json", "1", "1"])
        table = run_ksight(["status", "--live", "1", "1"])
        links = json.loads(subprocess.run(["bpftool", "link", "list", "--json"],
                                          stdout=subprocess.PIPE, text=True,
                                          check=True).stdout)
    finally:
        assert k.stop() == 0, k.stderr
    assert live.returncode == 0, live.stderr
    assert table.returncode == 0, table.stderr
    ours = [json.loads(l) for l in live.stdout.splitlines() if l]
    ours = [r for r in ours if r["pid"] == k.proc.pid]
    tps = sorted(r.get("attached") for r in ours if r["prog"] == "trace__tp")
    classic = {"tp:sched_process_exec", "tp:sched_process_fork"}
    # a kernel before 6.6 names no perf event link's hook: only its kind
    assert tps == sorted(classic) or tps == ["perf_event"] * 2, ours
    # each metric's row by its name, beside its program and its hook
    served = {r["serves"]: (r["prog"], r.get("attached")) for r in ours if "serves" in r}
    assert set(served) == {"metrics:ksight_st_forks_total", "metrics:ksight_st_execs_total",
                           "metrics:ksight_st_raw_exits_total"}, ours
    assert served["metrics:ksight_st_forks_total"][0] == "trace__tp"
    assert served["metrics:ksight_st_forks_total"][1] in ("tp:sched_process_fork",
                                                          "perf_event")
    assert served["metrics:ksight_st_execs_total"][1] in ("tp:sched_process_exec",
                                                          "perf_event")
    assert served["metrics:ksight_st_raw_exits_total"] in (
        ("trace__tpbtf", "raw_tp:sched_process_exit"),
        ("trace__rawtp", "raw_tp:sched_process_exit")), ours
    # the modules' programs serve no metric: each row is named by its program
    assert all(r["prog"].startswith("trace__") for r in ours if "serves" in r), ours
    # the table: the metric is the row's PROGRAM, the hook its ATTACHED
    rows = [LIVE_ROW.match(l) for l in table.stdout.splitlines()[3:] if l]
    assert rows and all(rows), table.stdout
    named = {r.group(2): r.group(7) for r in rows if int(r.group(1)) == k.proc.pid}
    for name, (prog, where) in served.items():
        assert named.get(name) == (where or "-"), (name, table.stdout)
    assert not {"trace__tp", "trace__tpbtf", "trace__rawtp"} & set(named), table.stdout
    by_prog = {}
    for ln in links:
        by_prog.setdefault(ln["prog_id"], []).append(ln)
    for r in ours:
        mine = by_prog.get(r["id"], [])
        assert ("attached" in r) == bool(mine), (r, mine)
        if mine and mine[0]["type"] == "raw_tracepoint":
            assert r["attached"] == "raw_tp:" + mine[0]["tp_name"], (r, mine)
