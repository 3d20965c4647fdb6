# SPDX-License-Identifier: GPL-2.0
"""ksight mem --leaks: the leaker helper's outstanding blocks, grouped by the function that
allocated them, are exactly what it kept (malloc, calloc, realloc, posix_memalign) and
none of the blocks it freed; bad input."""
import pytest

from conftest import Helper, Ksight, run_ksight, source_line

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


def test_src_names_the_inlined_allocating_function():
    """--src: the calloc made in quarter_calloc(), which the compiler inlined into
    leak_calloc(), is owned by a frame of its own, with the line each is defined at."""
    h = Helper("leaker", N, SIZE)
    try:
        k = Ksight(["mem", "--json", "--leaks", "--src", "-p", str(h.pid), "--no-growth"])
        k.wait_ready()
        h.go()
        assert h.readline().split()[0] == "done"
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    quarter = "quarter_calloc [inlined] (leaker.c:%d)" % source_line("leaker.c", "void *quarter_calloc(")
    rows = [r for r in k.records("mem_leak") if r["frames"][0] == quarter]
    assert sum(r["blocks"] for r in rows) == N // 10, k.records("mem_leak")
    assert sum(r["bytes"] for r in rows) == N // 10 * SIZE
    calling = "(leaker.c:%d)" % source_line("leaker.c", "static void leak_calloc(")
    assert all(r["frames"][1].startswith("leaker`leak_calloc+0x") and
               r["frames"][1].endswith(calling) for r in rows), rows
    # the others are not inlined: their own frame first, with its definition
    here = [r for r in k.records("mem_leak") if r["frames"][0].startswith("leaker`leak_here+")]
    assert sum(r["blocks"] for r in here) == N
    assert here[0]["frames"][0].endswith("(leaker.c:%d)" % source_line("leaker.c", "static void leak_here("))


@pytest.mark.parametrize("args,word", [
    (["--src"], "--leaks"),
    (["--leaks"], "-p"),
    (["--leaks-lib", "libc"], "--leaks"),
    (["--leaks", "-p", "1", "-L"], "-L"),
])
def test_bad_input_is_one_line_exit_2(args, word):
    r = run_ksight(["mem"] + args)
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], lines
