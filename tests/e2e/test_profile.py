# SPDX-License-Identifier: GPL-2.0
"""ksight profile: a helper spinning in a known function is the top user function (PIE
with symbols; stripped with a separate debug file; after it exited); its samples match
the CPU time the kernel gave it (getrusage) at the sampling rate; folded output adds up
to the samples reported; the SVG is XML that names the function; kernel stacks name
functions of /proc/kallsyms."""
import os
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import SCALE, SLOW, Helper, Ksight, helper_path, run_ksight, source_line

FREQ = 99
SECS = max(0.5, 2.0 / SCALE)

TALLY = re.compile(r"^profile: (\d+) samples, (\d+) symbolized")


def profiled(args, mode="user", binary=None, secs=SECS, linger=0.0):
    """profspin MODE SECS (or a copy at @binary) under `ksight profile -p PID ARGS`: the
    helper's CPU time in ns (getrusage) and the stopped ksight. With @linger, ksight keeps
    sampling that long after the helper exited."""
    h = Helper(binary or "profspin", mode, secs) if not binary else None
    if binary:
        h = Helper.__new__(Helper)
        p = subprocess.Popen([binary, mode, str(secs)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        h.proc = p
        h.pid = int(p.stdout.readline().decode().split()[1])
    try:
        k = Ksight(["profile", "-p", str(h.pid)] + args)
        k.wait_ready()
        h.go()
        words = h.result(timeout=60 * SLOW)
        assert words[0] == "done", words
        time.sleep(linger)
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    return int(words[1]), k


def check_rate(samples, cpu_ns):
    """Sampling at FREQ per second of CPU: within 20% (and 3 samples) of the kernel's
    count of the helper's CPU time."""
    want = cpu_ns / 1e9 * FREQ
    assert abs(samples - want) <= 0.2 * want + 3, (samples, want)


def summary(k):
    recs = k.records("profile_summary")
    assert len(recs) == 1, k.stdout
    return recs[0]


@pytest.mark.kernels
def test_top_user_function_is_the_spinning_one():
    cpu_ns, k = profiled(["--json", "-U", "--top", "0"])
    funcs = k.records("profile_func")
    s = summary(k)
    assert funcs[0]["function"] == "ks_spin_here", funcs[:3]
    assert funcs[0]["module"] == "profspin"
    # the stack walks through main (frame pointers)
    assert any(f["function"] == "main" and f["total"] >= funcs[0]["self"] for f in funcs)
    check_rate(s["samples"], cpu_ns)
    # every sample with a leaf is some function's own: the self column adds up
    assert sum(f["self"] for f in funcs) == s["samples"] - s["lost_stack"] - s["no_stack"]
    assert funcs[0]["self"] >= 0.9 * s["samples"], (funcs[0], s)
    assert s["symbolized"] >= funcs[0]["self"]
    assert k.stats()["lost"] == 0


def stripped_copy(d, debug):
    """profspin stripped of its symbols in @d; with @debug, its symbols in a separate
    file beside it, named by .gnu_debuglink."""
    path = os.path.join(d, "spin_stripped")
    shutil.copy(helper_path("profspin"), path)
    if debug:
        subprocess.run(["objcopy", "--only-keep-debug", path, path + ".debug"], check=True)
    subprocess.run(["strip", "--strip-all", path], check=True)
    if debug:
        subprocess.run(["objcopy", "--add-gnu-debuglink=" + path + ".debug", path],
                       check=True, cwd=d)
    out = subprocess.run(["readelf", "-S", path], stdout=subprocess.PIPE, text=True).stdout
    assert ".symtab" not in out
    return path


@pytest.mark.parametrize("debug", [True, False], ids=["debug-file", "no-debug-file"])
def test_stripped_binary_uses_its_debug_file(workdir, debug):
    path = stripped_copy(workdir, debug)
    cpu_ns, k = profiled(["--json", "-U"], binary=path)
    funcs = k.records("profile_func")
    if debug:
        assert funcs[0]["function"] == "ks_spin_here", funcs[:3]
        assert funcs[0]["module"] == "spin_stripped"
    else:
        # without it the samples are the file's, unnamed, and counted as such
        assert "ks_spin_here" not in [f["function"] for f in funcs]
        assert funcs[0]["function"] == "[spin_stripped]", funcs[:3]
        s = summary(k)
        assert s["no_symbols"] >= funcs[0]["self"]
    check_rate(summary(k)["samples"], cpu_ns)


@pytest.mark.kernels
@pytest.mark.parametrize("debug", [False, True], ids=["own-dwarf", "debug-file"])
def test_src_shows_the_inlined_function_and_definitions(workdir, debug):
    """--src: the function the compiler inlined is a frame of its own, the samples' leaf,
    and each function carries the line DWARF defines it at; from the binary's own DWARF
    or its separate debug file. Without --src, no DWARF is read: the inlined function is
    invisible (its samples are its caller's)."""
    binary = stripped_copy(workdir, True) if debug else None
    _, k = profiled(["--json", "-U", "--top", "0", "--src"], mode="inline", binary=binary)
    funcs = {f["function"]: f for f in k.records("profile_func")}
    s = summary(k)
    step, inl = funcs["ks_spin_step [inlined]"], funcs["ks_spin_inl"]
    assert step["src"] == "profspin.c:%d" % source_line("profspin.c", "void ks_spin_step(int n)")
    assert inl["src"] == "profspin.c:%d" % source_line("profspin.c", "void ks_spin_inl(double secs)")
    assert funcs["main"]["src"] == "profspin.c:%d" % source_line("profspin.c", "int main(")
    assert step["self"] >= 0.9 * s["samples"], (step, s)
    assert inl["total"] >= step["self"] and inl["self"] < step["self"]
    assert s["dwarf_files"] >= 1
    _, k = profiled(["--folded", "-U", "--src"], mode="inline", binary=binary)
    stacks = [line.rsplit(" ", 1) for line in k.stdout.splitlines()]
    inside = sum(int(n) for st, n in stacks if st.endswith(";ks_spin_inl;ks_spin_step [inlined]"))
    assert inside >= 0.9 * sum(int(n) for _, n in stacks)
    if not debug:
        _, k = profiled(["--json", "-U", "--top", "0"], mode="inline")
        names = [f["function"] for f in k.records("profile_func")]
        assert names[0] == "ks_spin_inl" and not [n for n in names if "[inlined]" in n]
        assert "src" not in k.records("profile_func")[0]


def test_exited_process_folded_adds_up():
    """The helper exits a second before ksight stops: its stacks are still named, and the
    folded lines' counts add up to the samples reported."""
    cpu_ns, k = profiled(["--folded", "-U"], linger=1.0)
    lines = [l for l in k.out_lines if l]
    total = 0
    spin = 0
    for line in lines:
        stack, count = line.rsplit(" ", 1)
        frames = stack.split(";")
        assert frames[0] == "profspin", line
        assert all(frames), line
        total += int(count)
        if frames[-1] == "ks_spin_here":
            assert "main" in frames, line
            spin += int(count)
    tally = [TALLY.match(l) for l in k.err_lines if TALLY.match(l)]
    assert len(tally) == 1, k.stderr
    assert total == int(tally[0].group(1))
    check_rate(total, cpu_ns)
    assert spin >= 0.9 * total, lines


def test_svg_is_xml_naming_the_function(workdir):
    svg = os.path.join(workdir, "cpu.svg")
    cpu_ns, k = profiled(["--svg", svg, "-U", "--json"])
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    ns = "{http://www.w3.org/2000/svg}"
    titles = [t.text for t in root.iter(ns + "title")]
    spin = [t for t in titles if t.startswith("ks_spin_here (")]
    assert len(spin) == 1, titles
    n = int(re.match(r"ks_spin_here \((\d+) samples", spin[0]).group(1))
    assert n >= 0.9 * summary(k)["samples"]
    # every frame has its rectangle and tooltip
    assert len(titles) == len(list(root.iter(ns + "rect"))) - 1     # minus the background


def kallsyms_text():
    names = set()
    with open("/proc/kallsyms") as f:
        for line in f:
            parts = line.split()
            if parts[1] in "tTwW":
                names.add(parts[2])
    return names


def test_kernel_stacks_name_kallsyms_functions():
    cpu_ns, k = profiled(["--json", "-K", "--top", "0"], mode="sys")
    funcs = k.records("profile_func")
    s = summary(k)
    known = kallsyms_text()
    kernel = [f for f in funcs if f["module"] == "[kernel]"]
    named = [f for f in kernel if not f["function"].startswith("[")]
    assert named, funcs
    assert all(f["function"] in known for f in named), named
    # reading /dev/zero: the read syscall's path is on the stacks
    assert any(f["function"] in ("vfs_read", "ksys_read", "__x64_sys_read") for f in named)
    assert s["no_kallsyms"] == 0
    assert s["symbolized"] >= 0.9 * (s["samples"] - s["no_stack"]), s
    check_rate(s["samples"], cpu_ns)


def test_intervals_split_the_samples():
    """Reports every second: each one's functions add up to its own samples, and the
    reports together match the helper's CPU time."""
    cpu_ns, k = profiled(["--json", "-U", "--top", "0", "1"], secs=max(1.5, 3.0 / SCALE),
                         linger=1.2)
    recs = [r for r in k.records() if r["type"] in ("profile_func", "profile_summary")]
    sums = [r for r in recs if r["type"] == "profile_summary"]
    assert len(sums) >= 2, recs
    funcs = []
    for r in recs:
        if r["type"] == "profile_func":
            funcs.append(r)
            continue
        assert sum(f["self"] for f in funcs) == r["samples"] - r["lost_stack"] - r["no_stack"]
        funcs = []
    check_rate(sum(s["samples"] for s in sums), cpu_ns)


@pytest.mark.parametrize("args,word", [
    (["-U", "-K"], "-U"),
    (["-F", "0"], "frequency"),
    (["--folded", "--json"], "--folded"),
    (["--stack-storage", "1"], "stack-storage"),
    (["1", "2", "3"], "argument"),
])
def test_bad_input(args, word):
    r = run_ksight(["profile"] + args)
    assert r.returncode == 2, r.stderr
    assert word in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
