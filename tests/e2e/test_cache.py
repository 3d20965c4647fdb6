# SPDX-License-Identifier: GPL-2.0
"""ksight cache: a file on an ext4 file system the test makes on a loop device (and mounts
again to empty its cache) read twice: the first pass misses every page, the second hits
every page; the pages resident equal what mincore(2) says, and 0 after fadvise
DONTNEED; -p keeps another reader out; bad input."""
import ctypes
import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import SCALE, SLOW, Helper, Ksight, run_ksight
from test_cleanup import KINDS, held, wait_gone

MIB = max(64 // SCALE, 2)           # 64 MiB here, less in the TCG guests
PAGES = MIB << 20 >> 12
# ext4 reads its own metadata (inode table, extent blocks) through the block device's
# page cache on the reader's behalf: a few pages more than the file's
META = 16
ACCESS = "see accesses"

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
for fn in (libc.mlock, libc.munlock):
    fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]


def mincore(path):
    """Pages of @path in the page cache, as mincore(2) over a shared mapping says."""
    size = os.path.getsize(path)
    pages = (size + 4095) >> 12
    fd = os.open(path, os.O_RDONLY)
    try:
        addr = libc.mmap(None, size, 1, 1, fd, 0)      # PROT_READ, MAP_SHARED
        assert addr not in (None, ctypes.c_void_p(-1).value), os.strerror(ctypes.get_errno())
        vec = (ctypes.c_ubyte * pages)()
        assert libc.mincore(addr, size, vec) == 0, os.strerror(ctypes.get_errno())
        libc.munmap(addr, size)
    finally:
        os.close(fd)
    return sum(b & 1 for b in vec)


class CacheFs:
    """ext4 on a loop device over a file in a tmp dir, mounted at self.mnt."""

    def __init__(self, d):
        self.img, self.mnt = os.path.join(d, "fs.img"), os.path.join(d, "mnt")
        with open("/proc/filesystems") as f:
            if "ext4" not in f.read().split():
                subprocess.run(["modprobe", "-q", "ext4"], timeout=60)   # a module in Debian's
        with open(self.img, "wb") as f:
            f.truncate((2 * MIB + 32) << 20)
        subprocess.run(["mkfs.ext4", "-q", "-F", self.img], check=True, timeout=120 * SLOW)
        os.mkdir(self.mnt)
        self.mount()

    def mount(self):
        subprocess.run(["mount", "-o", "loop", self.img, self.mnt], check=True, timeout=60)

    def umount(self):
        subprocess.run(["umount", self.mnt], check=True, timeout=60)

    def cold(self, name):
        """A file of MIB MiB, written, then the file system mounted again: none of it cached."""
        path = os.path.join(self.mnt, name)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                for _ in range(MIB):
                    f.write(os.urandom(1 << 20))
        self.umount()
        self.mount()
        assert mincore(path) == 0
        return path


@pytest.fixture(scope="module")
def cachefs(tmp_path_factory):
    fs = CacheFs(str(tmp_path_factory.mktemp("cache")))
    try:
        yield fs
    finally:
        fs.umount()     # the loop device goes with it (mount -o loop sets autoclear)


def hooks_args(kernel_hooks, hooks):
    """--hooks @hooks, or skip when this kernel cannot count accesses with that family."""
    if hooks is None:
        return []
    # status keeps one line per family: on 5.10 the folio alternative's refusal hides the
    # usable mark_page_accessed one, which the automatic choice then names
    if kernel_hooks.chosen.get(("cache", ACCESS)) == hooks:
        return ["--hooks", hooks]
    why = kernel_hooks.alts.get(("cache", ACCESS), {}).get(hooks, "no %s alternative" % hooks)
    if why is not None:
        pytest.skip("--hooks %s: %s" % (hooks, why))
    return ["--hooks", hooks]


def traced_pass(args, reader, others=()):
    """One read of the file by @reader (and one by each of @others) under
    `ksight cache --json ARGS`: ksight's records."""
    k = Ksight(["cache", "--json"] + args)
    try:
        k.wait_ready()
        for h in (reader,) + tuple(others):
            h.go()
        for h in (reader,) + tuple(others):
            assert h.readline().split() == ["done", str(MIB << 20)]
    finally:
        assert k.stop() == 0, k.stderr
    return k


class Pin:
    """The first @pages pages of @path mapped and locked in memory (mlock: the page cache
    cannot evict them; this VM's host reclaims page cache now and then, seen taking 17 and
    593 pages of a file between two reads with 20 GiB free). With readahead off for the
    mapping (MADV_RANDOM), locking faults in exactly those pages."""

    def __init__(self, path, pages):
        self.len = pages << 12
        self.fd = os.open(path, os.O_RDONLY)
        self.addr = libc.mmap(None, self.len, 1, 1, self.fd, 0)   # PROT_READ, MAP_SHARED
        assert self.addr not in (None, ctypes.c_void_p(-1).value)
        assert libc.madvise(self.addr, self.len, 1) == 0            # MADV_RANDOM
        assert libc.mlock(self.addr, self.len) == 0, os.strerror(ctypes.get_errno())

    def close(self):
        libc.munlock(self.addr, self.len)
        libc.munmap(self.addr, self.len)
        os.close(self.fd)


@pytest.mark.kernels
@pytest.mark.parametrize("hooks", [None, "fentry", "kprobe", "tp_btf", "tp"])
def test_cold_then_warm_read(cachefs, kernel_hooks, hooks):
    """First pass: every page a miss; second: every page a hit. The tracepoint method counts
    pages: exact but for ext4's own metadata (META); the classic one counts calls of
    folio_mark_accessed, once per folio (per page on ext4 before 6.16), within 1%."""
    args = hooks_args(kernel_hooks, hooks)
    path, other = cachefs.cold("data"), cachefs.cold("other")
    h, o = Helper("cachereader", path), Helper("cachereader", other)
    pin = None
    try:
        k1 = traced_pass(["-p", str(h.pid), "--file", path] + args, h, [o])
        # the cold pass's own misses are checked below; by now the host may already have
        # reclaimed some of its pages (24 seen here under load): the pin reads them back
        pin = Pin(path, PAGES)                  # all of it cached, and kept
        assert mincore(path) == PAGES
        k2 = traced_pass(["-p", str(h.pid), "--file", path] + args, h)
    finally:
        h.kill()
        o.kill()
        if pin:
            pin.close()
    line = k1.records("cache_interval")[-1]
    tp = line["method"] == "tracepoint"
    assert line["method"] == {None: line["method"], "tp": "tracepoint", "tp_btf": "tracepoint",
                              "fentry": "classic (fentry)",
                              "kprobe": "classic (kprobe)"}[hooks], line
    slack = META if tp else META + PAGES // 100
    for k, cold in ((k1, True), (k2, False)):
        rows = k.records("cache")
        assert [r["pid"] for r in rows] == [h.pid], rows      # -p: not the other reader
        files = [r for r in k.records("cache_file") if r["file"] == path]
        assert len(files) == 1, k.records("cache_file")
        for r in (rows[0], files[0]):
            if cold:
                assert PAGES <= r["misses"] <= PAGES + META, (r, line)
                assert r["hits"] <= slack, r
            else:
                assert r["misses"] == 0, r
                if tp:
                    assert r["hits"] == PAGES, r
                else:
                    assert abs(r["hits"] - PAGES) <= slack, r
        # the file's own pages; 5.10 also adds the page past the end for the read that
        # finds the end of the file (it returns 0)
        assert files[0]["misses"] - (PAGES if cold else 0) in ((0, 1) if cold else (0,))
        assert k.stats()["lost"] == 0


def cgroup_id(pid):
    """The cgroup v2 id (its directory's inode number) of process @pid."""
    with open("/proc/%d/cgroup" % pid) as f:
        rel = [l.split("::", 1)[1].strip() for l in f if l.startswith("0::")][0]
    root = subprocess.run(["findmnt", "-n", "-o", "TARGET", "-t", "cgroup2"],
                          stdout=subprocess.PIPE, text=True).stdout.split()[0]
    return os.stat(root + rel).st_ino


def test_per_thread_per_cgroup_and_agent(cachefs):
    """A warm read counted per thread (-L), per cgroup (--per-cgroup, the reader's cgroup
    v2 id) and by the agent (its summaries' hit rates over the run add up to the pages)."""
    path = cachefs.cold("data")
    h = Helper("cachereader", path)
    cg = cgroup_id(h.pid)
    pin = Pin(path, PAGES)                      # all of it cached, and kept
    try:
        rows = traced_pass(["-p", str(h.pid), "-L"], h).records("cache")
        cgs = traced_pass(["-p", str(h.pid), "--per-cgroup"], h).records("cache_cgroup")
        k = Ksight(["run", "--modules", "cache", "--json", "--listen", "none", "-p",
                    str(h.pid), "1"])
        try:
            k.wait_ready()
            h.go()
            assert h.readline().split() == ["done", str(MIB << 20)]
            time.sleep(1.5)
        finally:
            assert k.stop() == 0, k.stderr
    finally:
        h.kill()
        pin.close()
    assert [(r["pid"], r["tid"], r["misses"]) for r in rows] == [(h.pid, h.pid, 0)], rows
    assert [(r["cgroup_id"], r["misses"]) for r in cgs] == [(cg, 0)], cgs
    summ = [s for s in k.records("summary") if s["module"] == "cache"]
    assert summ, k.stdout
    assert sum(s["misses_per_s"] for s in summ) == 0, summ
    assert any(s["hits_per_s"] > 0 for s in summ), summ
    if tuple(int(x) for x in re.findall(r"\d+", os.uname().release)[:2]) >= (6, 10):
        # tracepoints count exactly warm; both methods do in the guests
        assert rows[0]["hits"] == PAGES and cgs[0]["hits"] == PAGES, (rows, cgs)
    else:
        assert abs(rows[0]["hits"] - PAGES) <= META + PAGES // 100, rows


def residency(path):
    r = run_ksight(["cache", "--json", "--file", path, "--duration", "1"], timeout=60)
    assert r.returncode == 0, r.stderr
    recs = [json.loads(line) for line in r.stdout.splitlines() if line]
    res = [x for x in recs if x["type"] == "cache_resident"]
    assert len(res) == 1 and res[0]["path"] == path and res[0]["pages"] == PAGES, res
    return res[0]


def test_residency_equals_mincore_then_zero_after_dontneed(cachefs, kernel_hooks):
    """Half the file faulted in and locked (Pin): exactly that half resident, as mincore
    says; none after DONTNEED."""
    path = cachefs.cold("data")
    half = PAGES // 2
    pin = Pin(path, half)
    try:
        assert mincore(path) == half
        r = residency(path)
        assert r["resident"] == half == mincore(path), r
    finally:
        pin.close()
    release = tuple(int(x) for x in re.findall(r"\d+", os.uname().release)[:2])
    assert r["via"] == ("cachestat" if release >= (6, 5) else "mincore"), r
    assert r["via"] in kernel_hooks.module_notes["cache"], kernel_hooks.module_notes
    fd = os.open(path, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
    assert residency(path)["resident"] == 0 == mincore(path)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_nothing_left_in_the_kernel(sig):
    """Its programs, links, maps (the per-file and reader tables too) go with it."""
    k = Ksight(["cache", "--files", "-p", str(os.getpid())])
    try:
        k.wait_ready()
        ids = held(k)
    finally:
        rc = k.stop(sig)
    assert rc == (0 if sig == signal.SIGINT else -signal.SIGKILL), k.stderr
    assert wait_gone(ids) == {kind: set() for kind in KINDS}


def test_interval_and_count():
    """`1 2`: two reports a second apart, each naming the method, then it exits by itself."""
    r = run_ksight(["cache", "--json", "-p", str(os.getpid()), "1", "2"])
    assert r.returncode == 0, r.stderr
    recs = [json.loads(line) for line in r.stdout.splitlines() if line]
    lines = [x for x in recs if x["type"] == "cache_interval"]
    assert len(lines) == 2, recs
    assert all(x["method"] in ("tracepoint", "classic (fentry)", "classic (kprobe)")
               and x["hooks"] for x in lines), lines


def test_fentry_refused_here(kernel_hooks):
    if kernel_hooks.usable("cache", "fentry"):
        pytest.skip("this kernel allows fentry")
    r = run_ksight(["cache", "--hooks", "fentry", "--duration", "1"])
    assert r.returncode == 1 and r.stdout == "", r
    assert len(r.stderr.strip().splitlines()) == 1 and "fentry" in r.stderr, r.stderr


@pytest.mark.parametrize("args,word", [
    (["--file", "/nonexistent/ksight-cache"], "--file"),
    (["--file", "/"], "regular"),
    (["-L", "--per-cgroup"], "exclusive"),
    (["--top", "-1"], "--top"),
    (["1", "2", "3"], "argument"),
])
def test_bad_input_is_one_line_exit_2(args, word):
    r = run_ksight(["cache"] + args)
    assert r.returncode == 2 and r.stdout == "", r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], lines
