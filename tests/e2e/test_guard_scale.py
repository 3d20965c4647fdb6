# SPDX-License-Identifier: GPL-2.0
"""ksight guard with a thousand rules (found through its rule index, src/modules/guard_index.c):
the one rule a real workload triggers fires exactly once per act, none of the 999 others
(exact paths, directory globs, per-user file names, components, exes, comms) nor their
near misses; the same acts with only that rule give the same alerts."""
import os
import subprocess
import sys

from conftest import run_ksight
from test_guard import guard

N_RULES = 1000
TARGET = 537            # i % 5 == 2: a glob with a literal last component


def rule(i, d):
    """Rule i of the generated file: five forms in turn, all under the test's dir @d."""
    form = i % 5
    if form == 0:
        return ("  - {name: app%d-config, event: [write, rename, unlink, truncate], "
                "path: ['%s/app%d/config.yaml', '%s/app%d/secrets.env']}\n" % (i, d, i, d, i))
    if form == 1:
        return ("  - {name: svc%d-confd, event: [write, unlink], path: '%s/svc%d/conf.d/*', "
                "not: {comm: [dpkg]}}\n" % (i, d, i))
    if form == 2:
        return ("  - {name: app%d-history, event: [write, truncate], "
                "path: '%s/home/*/.app%d_history', severity: low, "
                "message: '{comm} wrote {path}'}\n" % (i, d, i))
    if form == 3:
        return ("  - {name: tool%d-exec, event: exec, exe: '*/tool%d'}\n" % (i, i))
    return "  - {name: tool%d-debug, event: [ptrace, bpf], comm: tool%d}\n" % (i, i)


def rules_file(path, d, which):
    with open(path, "w") as f:
        f.write("rules:\n" + "".join(rule(i, d) for i in which))
        # the default rule a python in a tmp dir would trip stays out of the counts
        f.write("  - {name: exec-world-writable, enabled: false}\n")


# The acts: N writes that the target rule must see, around near misses of its neighbours
# (other files in the same directories, the neighbours' files written with other kinds,
# names one character off) and hits of nothing.
ACTS = r'''
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(d + "/home/u1", exist_ok=True)
for i in range(n):
    with open(d + "/home/u1/.app537_history", "a") as f:
        f.write("x\n")
for j in (535, 536, 538, 539, 540, 541, 1000, 5370):
    for p in ("/app%d" % j, "/svc%d" % j, "/svc%d/conf.d" % j, "/home/u%d" % j):
        os.makedirs(d + p, exist_ok=True)
    for p in ("/app%d/config.yaml.bak" % j, "/app%d/other" % j, "/svc%d/conf" % j,
              "/home/u1/.app%d_history.old" % j, "/home/u1/app%d_history" % j,
              "/svc%d/conf.d.x" % j):
        with open(d + p, "w") as f:
            f.write("x")
        os.rename(d + p, d + p + ".2")
        os.unlink(d + p + ".2")
with open(d + "/home/u1/.app537_history") as f:   # a read: no rule reads it
    f.read()
print("done", flush=True)
'''


def run(tmp_path, which, n):
    d = str(tmp_path / "t")
    os.makedirs(d)
    rules = str(tmp_path / "rules.yaml")
    rules_file(rules, d, which)
    procs = []

    def act():
        p = subprocess.run([sys.executable, "-c", ACTS, d, str(n)], capture_output=True,
                           text=True, timeout=60)
        assert (p.returncode, p.stdout) == (0, "done\n"), p.stderr
        procs.append(p)

    alerts = guard(["--rules", rules], act)
    return d, rules, alerts


def test_thousand_rules_the_one_that_should_fire_fires_exactly(tmp_path):
    n = 6
    d, rules, alerts = run(tmp_path, range(N_RULES), n)
    # all thousand were loaded, next to the defaults
    r = run_ksight(["guard", "--rules", rules, "--list-rules", "--json"])
    assert r.returncode == 0, r.stderr
    listed = [line for line in r.stdout.splitlines() if '"type":"rule"' in line]
    defaults = run_ksight(["guard", "--list-rules", "--json"])
    assert defaults.returncode == 0, defaults.stderr
    n_defaults = defaults.stdout.count('"type":"rule"')
    assert n_defaults >= 29, defaults.stdout     # the defaults, whatever they number
    assert len(listed) == N_RULES + n_defaults
    mine = [a for a in alerts if a["path"].startswith(d + "/")]
    got = sorted((a["rule"], a["event"], a["path"], a["comm"], a["message"]) for a in mine)
    path = d + "/home/u1/.app537_history"
    assert got == [("app537-history", "write", path, "python3",
                    "python3 wrote " + path)] * n, got
    # no generated rule fired anywhere else on the machine either
    generated = {rule(i, d).split("name: ")[1].split(",")[0] for i in range(N_RULES)}
    assert [a for a in alerts if a["rule"] in generated and a not in mine] == []


def test_the_target_rule_alone_gives_the_same_alerts(tmp_path):
    n = 4
    d, _, alerts = run(tmp_path, [TARGET], n)
    path = d + "/home/u1/.app537_history"
    got = [(a["rule"], a["path"]) for a in alerts if a["path"].startswith(d + "/")]
    assert got == [("app537-history", path)] * n
