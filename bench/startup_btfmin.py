#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Start-up with and without the minimal BTF (src/core/btfmin.c), one binary: launch to the
"ready in" line (bench/helpers/readytime) and the launch's CPU time (user + system of
readytime and the ksight it ran, from getrusage), KSIGHT_BTF_MIN=1 and =0 alternating
launch by launch (the order flips every round); medians and every run.

    bench/startup_btfmin.py ROUNDS [TOOL...]     (default: rw files run), in the source tree
"""
import os
import resource
import statistics
import subprocess
import sys

READYTIME = "build/bench/helpers/readytime"
KSIGHT = "build/ksight"


def launch(tool, minimal):
    env = dict(os.environ, KSIGHT_BTF_MIN="1" if minimal else "0")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([READYTIME, KSIGHT, tool], capture_output=True, text=True,
                         env=env).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in out.splitlines() if line.startswith("wall_ms")]
    if not lines or lines[-1].split()[3] != "0":
        raise SystemExit("startup_btfmin: ksight %s did not start: %s" % (tool, out.strip()))
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1e3
    return float(lines[-1].split()[1]), cpu


def main():
    if len(sys.argv) < 2 or os.geteuid() != 0:
        raise SystemExit(__doc__.strip() + "\n(as root)")
    rounds = int(sys.argv[1])
    tools = sys.argv[2:] or ["rw", "files", "run"]
    got = {}
    for r in range(rounds):
        for tool in tools:
            for minimal in ((True, False) if r % 2 == 0 else (False, True)):
                got.setdefault((tool, minimal), []).append(launch(tool, minimal))
    print("command: bench/startup_btfmin.py %s" % " ".join(sys.argv[1:]))
    print("| command | wall ms, all kernel BTF | wall ms, minimal | ratio "
          "| CPU ms, all kernel BTF | CPU ms, minimal | ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for tool in tools:
        full = got[(tool, False)]
        mine = got[(tool, True)]
        wf, wm = (statistics.median(x[0] for x in v) for v in (full, mine))
        cf, cm = (statistics.median(x[1] for x in v) for v in (full, mine))
        print("| ksight %s | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f |"
              % (tool, wf, wm, wm / wf, cf, cm, cm / cf))
    for tool in tools:
        for minimal in (False, True):
            print("%s %s wall: %s" % (tool, "minimal" if minimal else "full   ",
                                      " ".join("%.0f" % x[0] for x in got[(tool, minimal)])))


if __name__ == "__main__":
    main()
