#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""One denied vs one allowed open(O_WRONLY) under `ksight guard --enforce` (and the
allowed open with no ksight), ns per call, medians of 5 runs of N calls each, on a tmpfs
of its own. Usage: bench/guard_lsm_open.py BUILD_DIR [N]. Prints one line per case."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

build, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1000
d = tempfile.mkdtemp(prefix="glsm-bench-")
subprocess.run(["mount", "-t", "tmpfs", "ksight-lsm-bench", d], check=True)
try:
    for name in ("secret", "twin"):
        open(os.path.join(d, name), "w").close()
    rules = os.path.join(d, "r.yaml")
    with open(rules, "w") as f:
        f.write("rules:\n  - name: bench-deny\n    event: write\n    path: %s/secret\n"
                "    action: deny\n" % d)

    def per_call(path):
        runs = []
        for _ in range(5):
            t = time.perf_counter_ns()
            for _ in range(n):
                try:
                    os.close(os.open(path, os.O_WRONLY))
                except PermissionError:
                    pass
            runs.append((time.perf_counter_ns() - t) / n)
        return statistics.median(runs)

    base = per_call(os.path.join(d, "twin"))
    k = subprocess.Popen([os.path.join(build, "ksight"), "guard", "-r", rules, "--enforce",
                          "--json"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ready = False
    for line in k.stderr:
        if b" ready in " in line:
            ready = True
            break
    if not ready or k.poll() is not None:
        sys.exit("ksight guard --enforce exited %d" % k.returncode)
    allowed = per_call(os.path.join(d, "twin"))
    denied = per_call(os.path.join(d, "secret"))
    k.terminate()
    k.wait()
    print("uname %s; N=%d, medians of 5 runs" % (os.uname().release, n))
    print("allowed open+close, no ksight:        %8.0f ns" % base)
    print("allowed open+close, guard --enforce:  %8.0f ns" % allowed)
    print("denied open (EPERM), guard --enforce: %8.0f ns" % denied)
finally:
    subprocess.run(["umount", "-l", d])
    os.rmdir(d)
