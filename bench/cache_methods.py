#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Both methods of `ksight cache` on one workload, for docs/cache.md's accuracy table: a
file on a fresh loop-device ext4 read cold, then warm, under `ksight cache -p` with each
--hooks family named (auto, fentry, kprobe, tp); one line per method and pass with what the
kernel counted (accessed, added) and the hits and misses derived, against the file's pages.
  bench/cache_methods.py BUILD [MIB [FAMILY...]]      (as root; MIB default 64)"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
mib = int(sys.argv[2]) if len(sys.argv) > 2 else 64
families = sys.argv[3:] or ["auto", "fentry", "kprobe", "tp"]
os.environ["KSIGHT_TEST_SCALE"] = str(max(64 // mib, 1))
os.environ.setdefault("KSIGHT", os.path.join(build, "ksight"))
os.environ.setdefault("KSIGHT_HELPERS", os.path.join(build, "tests", "e2e", "helpers"))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import test_cache as tc            # noqa: E402  (reads the environment above)
from conftest import Helper        # noqa: E402

print("kernel %s, file %d MiB = %d pages" % (os.uname().release, tc.MIB, tc.PAGES))
fs = tc.CacheFs(tempfile.mkdtemp(prefix="ksight-cache-"))
try:
    for fam in families:
        path = fs.cold("data")
        h = Helper("cachereader", path)
        args = ["-p", str(h.pid), "--file", path] + ([] if fam == "auto" else ["--hooks", fam])
        try:
            for cold in (True, False):
                try:
                    k = tc.traced_pass(args, h)
                except AssertionError as e:
                    print("%-7s refused: %s" % (fam, str(e).strip().splitlines()[-1][:150]))
                    break
                line = k.records("cache_interval")[-1]
                row = (k.records("cache") or [{}])[0]
                f = [r for r in k.records("cache_file") if r["file"] == path]
                print("%-7s %-17s %s accessed %6d added %6d -> hits %6d misses %6d | "
                      "file: accessed %6d added %6d" % (
                          fam, line["method"], "cold" if cold else "warm",
                          row.get("accessed", 0), row.get("added", 0), row.get("hits", 0),
                          row.get("misses", 0), f[0]["accessed"] if f else 0,
                          f[0]["added"] if f else 0))
        finally:
            h.kill()
finally:
    fs.umount()
