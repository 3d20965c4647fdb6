#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Start-up, two builds side by side: launch to the "ready in" line (bench/helpers/readytime)
of each tool and the agent, the two binaries alternating launch by launch (the order
flips every round) so that the machine's drift falls on both alike; medians.

    bench/startup_ab.py BEFORE_BUILD AFTER_BUILD [ROUNDS]   (default 10)
"""
import os
import statistics
import subprocess
import sys

TOOLS = ["open", "exec", "biolat", "syscount", "rw", "files", "proc", "run"]


def ready_ms(readytime, binary, tool):
    out = subprocess.run([readytime, binary, tool], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("wall_ms") and line.split()[3] == "0":
            return float(line.split()[1])
    raise SystemExit("startup_ab: %s %s did not start: %s" % (binary, tool, out.strip()))


def main():
    if len(sys.argv) not in (3, 4) or os.geteuid() != 0:
        raise SystemExit(__doc__.strip() + "\n(as root)")
    before, after = (os.path.join(b, "ksight") for b in sys.argv[1:3])
    rounds = int(sys.argv[3]) if len(sys.argv) == 4 else 10
    readytime = os.path.join(sys.argv[2], "bench", "helpers", "readytime")
    got = {(t, b): [] for t in TOOLS for b in (before, after)}
    for r in range(rounds):
        for t in TOOLS:
            for b in ((before, after) if r % 2 == 0 else (after, before)):
                got[(t, b)].append(ready_ms(readytime, b, t))
    print("command: bench/startup_ab.py %s" % " ".join(sys.argv[1:]))
    print("| command | before ms | after ms | after / before |")
    print("| --- | ---: | ---: | ---: |")
    for t in TOOLS:
        o, n = statistics.median(got[(t, before)]), statistics.median(got[(t, after)])
        print("| ksight %s | %.1f | %.1f | %.2f |" % (t, o, n, n / o))


main()
