# SPDX-License-Identifier: GPL-2.0
"""One BPF object per module: each is verified on its own, so a module the kernel refuses
costs that module alone. KSIGHT_TEST_REFUSE=MODULE[,MODULE] (a test-only switch) makes the
loader add to that module's object a program the verifier always refuses."""
import json
import os
import re

from conftest import Helper, Ksight, TEST_UID, attached_progs, loaded_progs, run_ksight

# the verifier's words for the refused load: "'scalar'" since 6.x, "'inv'" on 5.10
REFUSED = re.compile(r"^ksight (\S+): (?:(\w+): )?the kernel refused program ks__refused: "
                     r"Permission denied \(R0 invalid mem access '\w+'\)( \(module skipped\))?$")


def refuse(*mods):
    env = dict(os.environ)
    env["KSIGHT_TEST_REFUSE"] = ",".join(mods)
    return env


def test_agent_skips_refused_module_and_the_rest_is_exact(pubdir):
    """files refused: one line names it and the verifier's reason; none of its programs is
    loaded; opens and execs of one uid still arrive exactly, nothing lost."""
    n = 1000
    o = Helper("opener", "-u", TEST_UID, pubdir, n)
    e = Helper("execer", "-u", TEST_UID, "/usr/bin/true", "true", "x y")
    try:
        k = Ksight(["run", "--json", "-u", str(TEST_UID)], env=refuse("files"))
        k.wait_ready()
        names = loaded_progs(k.proc.pid)
        o.go()
        e.go()
        o.result()
        e.result()
        assert k.stop() == 0, k.stderr
    finally:
        o.kill()
        e.kill()
    said = [l for l in k.err_lines if "refused" in l]
    assert len(said) == 1, k.stderr
    m = REFUSED.match(said[0])
    assert m and m.groups() == ("run", "files", " (module skipped)"), said
    assert not any(x.startswith("files__") for x in names), names
    # the other modules' objects did load: exec's, open's and proc's handlers among them
    assert {"exec__sys_btf", "open__sys_btf", "proc__fork_btf"} <= names, names
    recs = [json.loads(l) for l in k.out_lines]
    opens = [r for r in recs if r["type"] == "open" and r["pid"] == o.pid]
    assert len(opens) == n and sum(r["fd"] < 0 for r in opens) == n // 2
    execs = [r for r in recs if r["type"] == "exec" and r["pid"] == e.pid]
    assert [(r["event"], r["args"]) for r in execs] == [("exec", ["true", "x y"])]
    assert not [r for r in recs if r["type"].startswith("file")]
    st = recs[-1]
    assert st["type"] == "stats" and st["lost"] == 0 and st["consistent"] is True


def test_agent_runs_when_two_modules_are_refused():
    k = Ksight(["run", "--duration", "1"], env=refuse("open", "rw"))
    k.wait_ready()
    assert k.wait() == 0, k.stderr
    said = sorted(REFUSED.match(l).group(2) for l in k.err_lines if "refused" in l)
    assert said == ["open", "rw"], k.stderr


def test_tool_with_refused_module_exits_1_with_the_reason():
    r = run_ksight(["open", "--duration", "1"], env=refuse("open"))
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    m = REFUSED.match(lines[0]) if len(lines) == 1 else None
    assert m and m.groups() == ("open", None, None), r.stderr


def test_status_names_the_refused_module():
    r = run_ksight(["status"], env=refuse("rw"))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert re.search(r"^rw  \(cannot run here\)\n  rw: the kernel refused program ks__refused: "
                     r"Permission denied \(R0 invalid mem access '\w+'\)$", out, re.M), out
    for mod in ("core", "exec", "open", "biolat", "syscount", "files", "proc", "tcplife",
                "udp"):
        assert re.search(r"^%s  \(verified: \d+ programs?, \d+ ms\)$" % mod, out, re.M), out


def test_one_dispatcher_attachment_for_every_module():
    """Every syscall module of the agent shares one sys_exit (and one sys_enter) program;
    the modules' handlers are loaded but reached by tail calls, never attached. syscount's
    plain counts and rw's per-fd sums are kept by the dispatcher itself: neither has a
    handler."""
    k = Ksight(["run", "--hooks", "tp_btf"])
    try:
        k.wait_ready()
        attached = attached_progs(k.proc.pid)
        loaded = loaded_progs(k.proc.pid)
    finally:
        assert k.stop() == 0, k.stderr
    sys_attached = sorted(p for p in attached if "sys_e" in p)
    assert sys_attached in (["core__sys_exit_btf"],
                            ["core__sys_enter_btf", "core__sys_exit_btf"]), attached
    handlers = {p for p in loaded if p.endswith("__sys_btf")}
    assert handlers == {"exec__sys_btf", "open__sys_btf", "files__sys_btf",
                        "tcp__sys_btf", "udp__sys_btf"}, loaded
    assert not handlers & attached
