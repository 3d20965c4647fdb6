#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Both methods of `ksight cache` on one workload, for docs/cache.md's accuracy table: files
on a fresh loop-device ext4, under `ksight cache` with each --hooks family named (auto,
fentry, kprobe, tp_btf, tp); one line per method and scenario with what the kernel counted
(accessed, added, dirtied) and the hits and misses derived, against the file's pages:
  cold   the file read whole, none of it cached (expected: PAGES misses, 0 hits)
  warm   read again, all cached (0 misses, PAGES hits)
  half   its first half cached (read with readahead off), then read whole (PAGES/2 each)
  write  a new file written whole by dd (PAGES dirtied, 0 misses: added and dirtied)
  bench/cache_methods.py BUILD [MIB [FAMILY...]]      (as root; MIB default 64)"""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
mib = int(sys.argv[2]) if len(sys.argv) > 2 else 64
families = sys.argv[3:] or ["auto", "fentry", "kprobe", "tp_btf", "tp"]
os.environ["KSIGHT_TEST_SCALE"] = str(max(64 // mib, 1))
os.environ.setdefault("KSIGHT", os.path.join(build, "ksight"))
os.environ.setdefault("KSIGHT_HELPERS", os.path.join(build, "tests", "e2e", "helpers"))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import test_cache as tc            # noqa: E402  (reads the environment above)
from conftest import Helper, Ksight  # noqa: E402


def show(fam, scen, k, path):
    line = k.records("cache_interval")[-1]
    rows = k.records("cache")
    row = {x: sum(r[x] for r in rows) for x in ("accessed", "added", "hits", "misses",
                                                   "dirties")}
    f = [r for r in k.records("cache_file") if r["file"] == path]
    print("%-7s %-17s %-5s accessed %6d added %6d dirtied %6d -> hits %6d misses %6d | "
          "file: accessed %6d added %6d" % (
              fam, line["method"], scen, row["accessed"], row["added"], row["dirties"],
              row["hits"], row["misses"], f[0]["accessed"] if f else 0,
              f[0]["added"] if f else 0))


print("kernel %s, file %d MiB = %d pages" % (os.uname().release, tc.MIB, tc.PAGES))
fs = tc.CacheFs(tempfile.mkdtemp(prefix="ksight-cache-"))
try:
    for fam in families:
        hooks = [] if fam == "auto" else ["--hooks", fam]
        path = fs.cold("data")
        h = Helper("cachereader", path)
        args = ["-p", str(h.pid), "--file", path] + hooks
        try:
            try:
                show(fam, "cold", tc.traced_pass(args, h), path)
            except AssertionError as e:
                print("%-7s refused: %s" % (fam, str(e).strip().splitlines()[-1][:150]))
                continue
            show(fam, "warm", tc.traced_pass(args, h), path)
            fd = os.open(path, os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            assert tc.mincore(path) == 0
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
            os.pread(fd, tc.PAGES // 2 << 12, 0)
            os.close(fd)
            show(fam, "half", tc.traced_pass(args, h), path)
        finally:
            h.kill()
        new = os.path.join(fs.mnt, "new")
        k = Ksight(["cache", "--json", "-n", "dd"] + hooks)
        k.wait_ready()
        subprocess.run(["dd", "if=/dev/zero", "of=" + new, "bs=1M", "count=%d" % tc.MIB,
                        "status=none"], check=True)
        k.stop()
        show(fam, "write", k, new)
        os.unlink(new)
finally:
    fs.umount()
