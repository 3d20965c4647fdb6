# SPDX-License-Identifier: GPL-2.0
"""ksight mem --leaks: the leaker helper's outstanding blocks, grouped by the function that
allocated them, are exactly what it kept (malloc, calloc, realloc, posix_memalign) and
none of the blocks it freed; bad input."""
import pytest

from conftest import Helper, Ksight, run_ksight

N, SIZE = 1000, 64


@pytest.mark.kernels
def test_outstanding_blocks_by_allocating_function():
    h = Helper("leaker", N, SIZE)
    try:
        k = Ksight(["mem", "--json", "--leaks", "-p", str(h.pid), "--no-growth"])
        k.wait_ready()
        h.go()
        done = h.readline().split()
        assert done[0] == "done", done
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()

    def owner(frame):
        """"leaker`leak_here+0x2c": leak_here (the helper's functions are static: their
        names come from its .symtab)."""
        return frame.split("+")[0].split("`")[1] if frame.startswith("leaker`") else frame

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
