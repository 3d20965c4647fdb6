# SPDX-License-Identifier: GPL-2.0
"""ksight mem --leaks: the leaker helper's outstanding blocks, grouped by the function that
allocated them, are exactly what it kept (malloc, calloc, realloc, posix_memalign) and
none of the blocks it freed; bad input."""
import subprocess

import pytest

from conftest import HELPERS, Helper, Ksight, run_ksight

N, SIZE = 1000, 64
FUNCS = ["leak_here", "free_here", "leak_calloc", "leak_realloc", "leak_memalign"]


def sizes(path):
    """The size of each function of FUNCS in ELF file @path (nm -S)."""
    out = subprocess.run(["nm", "-S", path], stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    got = {}
    for line in out.splitlines():
        w = line.split()
        if len(w) == 4 and w[3] in FUNCS:
            got[w[3]] = int(w[1], 16)
    return got


def file_offset(pid, addr):
    """The offset in its file of address @addr of process @pid (its /proc/PID/maps)."""
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            w = line.split()
            lo, hi = (int(x, 16) for x in w[0].split("-"))
            if lo <= addr < hi:
                return addr - lo + int(w[2], 16)
    raise KeyError(hex(addr))


@pytest.mark.kernels
def test_outstanding_blocks_by_allocating_function():
    h = Helper("leaker", N, SIZE)
    try:
        k = Ksight(["mem", "--json", "--leaks", "-p", str(h.pid), "--no-growth"])
        k.wait_ready()
        h.go()
        done = h.readline().split()
        assert done[0] == "done", done
        # each function's range of file offsets, from where the process says it is
        size = sizes(HELPERS + "/leaker")
        where = {f: file_offset(h.pid, int(a, 16)) for f, a in zip(FUNCS, done[1:])}
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()

    def owner(frame):
        name, off = frame.rsplit("+", 1)
        off = int(off, 16)
        for f in FUNCS:
            if name == "leaker" and where[f] <= off < where[f] + size[f]:
                return f
        return frame

    got = {}
    for r in k.records("mem_leak"):
        f = owner(r["frames"][0])
        b, n = got.get(f, (0, 0))
        got[f] = (b + r["bytes"], n + r["blocks"])
    assert got == {
        "leak_here": (N * SIZE, N),
        "leak_calloc": (N // 10 * SIZE, N // 10),
        "leak_realloc": (N // 10 * 2 * SIZE, N // 10),
        "leak_memalign": (N // 10 * SIZE, N // 10),
    }, got
    st = k.stats()
    assert st["types"].get("leak_blocks", {}).get("lost", 0) == 0, st


@pytest.mark.parametrize("args,word", [
    (["--leaks"], "-p"),
    (["--leaks-lib", "libc"], "--leaks"),
    (["--leaks", "-p", "1", "-L"], "-L"),
])
def test_bad_input_is_one_line_exit_2(args, word):
    r = run_ksight(["mem"] + args)
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], lines
