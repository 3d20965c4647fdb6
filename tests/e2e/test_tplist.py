# SPDX-License-Identifier: GPL-2.0
"""ksight tplist: tracepoints and their fields against tracefs's own files, a binary's
functions against its symbol table (nm), USDT probes against readelf -n, kernel functions
against ftrace's list."""
import fnmatch
import json
import os
import re
import subprocess

import pytest

from conftest import helper_path, run_ksight

TRACEFS = "/sys/kernel/tracing"


def format_fields(tp):
    """The non-common fields of @tp's format file: (decl, name, offset, size, signed)."""
    out = []
    with open(os.path.join(TRACEFS, "events", *tp.split(":"), "format")) as f:
        for line in f:
            m = re.match(r"\s*field:(.*);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);", line)
            if not m:
                continue
            decl = m.group(1)
            name = re.sub(r"(\[.*\])+$", "", decl).split()[-1]
            if not name.startswith("common_"):
                out.append((decl, name, int(m.group(2)), int(m.group(3)), m.group(4) == "1"))
    return out


def test_sched_switch_fields_equal_the_format_file():
    want = format_fields("sched:sched_switch")
    assert len(want) >= 7
    r = run_ksight(["tplist", "-v", "--json", "sched:sched_switch"])
    assert r.returncode == 0, r.stderr
    recs = [json.loads(l) for l in r.stdout.splitlines()]
    assert len(recs) == 1 and recs[0]["name"] == "sched:sched_switch"
    assert recs[0]["category"] == "sched" and recs[0]["event"] == "sched_switch"
    got = [(f["decl"], f["name"], f["offset"], f["size"], f["signed"]) for f in recs[0]["fields"]]
    assert got == want
    # the text form: the name, then each declaration, then the raw arguments (raw: probes,
    # from BTF: test_trace_raw.py checks them) as the JSON's raw_args says
    r = run_ksight(["tplist", "-v", "sched:sched_switch"])
    assert r.returncode == 0, r.stderr
    assert recs[0]["raw_args"].startswith("bool "), recs[0]     # preempt, since 4.x
    assert r.stdout.splitlines() == (["sched:sched_switch"] + ["    %s;" % f[0] for f in want] +
                                     ["    raw: " + recs[0]["raw_args"]])


def test_glob_matches_tracefs():
    events = os.path.join(TRACEFS, "events")
    want = sorted("%s:%s" % (c, e) for c in os.listdir(events)
                  if os.path.isdir(os.path.join(events, c))
                  for e in os.listdir(os.path.join(events, c))
                  if os.path.exists(os.path.join(events, c, e, "id"))
                  and fnmatch.fnmatchcase("%s:%s" % (c, e), "sched:sched_process_*"))
    assert len(want) >= 4
    r = run_ksight(["tplist", "sched:sched_process_*"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == want


def test_everything_without_a_glob():
    r = run_ksight(["tplist"])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "sched:sched_switch" in lines and lines == sorted(set(lines))


def nm_functions(path):
    """Defined function symbols of @path's symbol table, as nm names them."""
    r = subprocess.run(["nm", "--defined-only", path], stdout=subprocess.PIPE, text=True,
                       check=True)
    return {l.split()[2].split("@")[0] for l in r.stdout.splitlines()
            if len(l.split()) == 3 and l.split()[1] in "Tt"}


def test_binary_functions():
    path = helper_path("fcalls")
    r = run_ksight(["tplist", "-b", path, "fc_*"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [path + ":fc_one", path + ":fc_three", path + ":fc_two"]
    r = run_ksight(["tplist", "--json", "-b", path])
    names = {json.loads(l)["name"] for l in r.stdout.splitlines()}
    assert {"main", "fc_one"} <= names and names <= nm_functions(path), names


def readelf_usdt(path):
    r = subprocess.run(["readelf", "-n", path], stdout=subprocess.PIPE, text=True, check=True)
    return re.findall(r"Provider: (\S+)\s+Name: (\S+)", r.stdout)


@pytest.mark.parametrize("path", [helper_path("utarget"), "/usr/bin/python3"])
def test_usdt_probes_equal_readelf(path):
    """A test binary's probe, and those Debian's python3 has (if it has any)."""
    provs = readelf_usdt(path)
    if not provs:
        pytest.skip("%s has no USDT probes" % path)
    r = run_ksight(["tplist", "-l", path])
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == sorted({"%s:%s:%s" % (path, p, n) for p, n in provs})


def test_usdt_sites_and_semaphore():
    path = helper_path("utarget")
    assert ("ksight_test", "tick") in readelf_usdt(path)
    r = run_ksight(["tplist", "--json", "-v", "-l", path, "ksight_test:*"])
    recs = [json.loads(l) for l in r.stdout.splitlines()]
    assert [(x["provider"], x["name"]) for x in recs] == [("ksight_test", "tick")]
    assert recs[0]["semaphore"] != 0 and recs[0]["args"].count("@") == 2


def btf_functions(glob):
    """The FUNC entries of the kernel's BTF matching @glob, as bpftool dumps them."""
    r = subprocess.run(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux"],
                       stdout=subprocess.PIPE, text=True, check=True)
    return {m for m in re.findall(r"^\[\d+\] FUNC '([^']+)'", r.stdout, re.M)
            if fnmatch.fnmatchcase(m, glob)}


def test_kernel_functions():
    """BTF's functions that ftrace lists as traceable; where lockdown hides ftrace's list
    (this VM), every BTF function, and a note says so."""
    r = run_ksight(["tplist", "-K", "vfs_rea*"], timeout=120)
    assert r.returncode == 0, r.stderr
    got = r.stdout.splitlines()
    want = btf_functions("vfs_rea*")
    try:
        with open(os.path.join(TRACEFS, "available_filter_functions")) as f:
            want &= {l.split()[0] for l in f if l.strip()}
    except OSError:
        assert "every BTF function is listed" in r.stderr
    assert "vfs_read" in got and got == sorted(want)
    # where fentry and kprobes are missing, one note naming both
    notes = [l for l in r.stderr.splitlines() if "cannot be hooked" in l]
    assert len(notes) <= 1
    if notes:
        assert "fentry" in notes[0] and "kprobes" in notes[0]


@pytest.mark.parametrize("args,rc,words", [
    (["a:*", "b:*"], 2, "one GLOB at most"),
    (["-K", "-b", "/bin/true"], 2, "exclude each other"),
    (["--nope"], 2, "--nope"),
    (["nosuchcategory:*"], 1, "nothing matches"),
    (["-b", "/nonexistent/bin"], 1, "/nonexistent/bin"),
])
def test_bad_input_one_line(args, rc, words):
    r = run_ksight(["tplist"] + args)
    assert r.returncode == rc, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ksight tplist: ") and words in lines[0], \
        r.stderr


def test_help():
    r = run_ksight(["tplist", "--help"])
    assert r.returncode == 0 and "ksight tplist -b libc.so.6 'malloc*'" in r.stdout
