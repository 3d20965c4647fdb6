# SPDX-License-Identifier: GPL-2.0
"""The set-up scripts, where they can run without their side effects: the kernel matrix
takes its Debian mirror from the machine's apt sources (scripts/kernels/fetch.sh), read
here from sources written to a temporary directory (APT_CONFIG points apt-config there);
the package lists install every command the tests and scripts run."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import ROOT

FETCH = os.path.join(ROOT, "scripts", "kernels", "fetch.sh")
KEY = "[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]"


def release():
    with open("/etc/os-release") as f:
        info = dict(l.rstrip("\n").split("=", 1) for l in f if "=" in l)
    name = info.get("VERSION_CODENAME", "").strip('"')
    if not name:
        pytest.skip("no VERSION_CODENAME in /etc/os-release")
    return name


def fetch_sources(tmp_path, sources_list=None, parts=None):
    """`fetch.sh --sources` with the apt sources @sources_list (one-line format) and
    @parts ({file name: text} in the sources.list.d directory)."""
    d = tmp_path / "apt"
    (d / "parts").mkdir(parents=True)
    if sources_list is not None:
        (d / "sources.list").write_text(sources_list)
    for name, text in (parts or {}).items():
        (d / "parts" / name).write_text(text)
    (d / "apt.conf").write_text('Dir::Etc::sourcelist "%s/sources.list";\n'
                                'Dir::Etc::sourceparts "%s/parts";\n' % (d, d))
    env = dict(os.environ, APT_CONFIG=str(d / "apt.conf"))
    env.pop("KSIGHT_DEBIAN_MIRROR", None)
    return subprocess.run([FETCH, "--sources"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=env, timeout=30)


def test_mirror_from_one_line_sources(tmp_path):
    rel = release()
    r = fetch_sources(tmp_path, sources_list=(
        "# deb http://commented.example/debian %s main\n"
        "deb-src http://src.example/debian %s main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian/ %s main # x\n"
        "deb http://sec.example/debian-security %s-security main\n") % (rel, rel, rel, rel))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "deb %s http://mirror.example/debian bullseye main" % KEY,
        "deb %s http://sec.example/debian-security bullseye-security main" % KEY]


def test_mirror_from_deb822_sources(tmp_path):
    rel = release()
    r = fetch_sources(tmp_path, parts={"debian.sources": (
        "# a comment\n"
        "Types: deb-src\nURIs: http://src.example/debian\nSuites: {r}\nComponents: main\n\n"
        "Types: deb\nURIs: http://off.example/debian\nSuites: {r}\nEnabled: no\n"
        "Components: main\n\n"
        "Types: deb deb-src\nURIs:\n http://one.example/debian/\n http://two.example/debian\n"
        "Suites: {r} {r}-updates\nComponents: main\n\n"
        "Types: deb\nURIs: http://sec.example/debian-security\nSuites: {r}-security\n"
        "Components: main\n").format(r=rel)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "deb %s http://one.example/debian bullseye main" % KEY,
        "deb %s http://sec.example/debian-security bullseye-security main" % KEY]


def test_no_mirror_is_one_clear_line(tmp_path):
    r = fetch_sources(tmp_path, parts={"other.list": "deb https://apt.example/x stable main\n"})
    assert r.returncode == 1 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert "no Debian mirror in the apt sources" in r.stderr
    assert str(tmp_path / "apt" / "sources.list") in r.stderr


# Every command the tests on this kernel run, with what runs it: `make test` (DEPS in the
# Makefile) must install it on a minimal Debian, unless it is Essential.
TEST_COMMANDS = {
    "bpftool": "conftest.py, test_status.py, bpfprobe.py, Makefile", "losetup": "test_biolat.py",
    "mkfs.ext4": "test_cache.py",
    "strace": "test_files_links.py", "tar": "test_files_links.py",
    "gzip": "tar -z in test_files_links.py", "sleep": "test_proc.py",
    "/usr/bin/true": "test_exec.py",
    "/bin/sh": "test_proc.py", "/usr/bin/python3": "run-tests.sh", "sed": "run-tests.sh",
    "readlink": "run-tests.sh", "dpkg-query": "install-deps.sh", "clang": "Makefile",
    "gcc": "Makefile", "ar": "Makefile", "make": "Makefile",
    "ss": "test_tcp.py", "/usr/sbin/tcplife": "test_tcp.py (libbpf-tools, the reference)",
    "getent": "test_udp.py (glibc's resolver)", "unshare": "test_udp.py",
    "mount": "test_udp.py (a bind mount in unshare's mount namespace)",
    "nft": "test_tcp_retrans.py, test_drops.py, test_tcp_nat.py",
    "nm": "test_tplist.py (binutils, the reference)", "readelf": "test_tplist.py",
    "objcopy": "test_profile.py (a separate debug file)", "strip": "test_profile.py",
    "apt-get": "fetch-prometheus.sh (download only)", "dpkg-deb": "fetch-prometheus.sh",
    "curl": "test_req.py", "redis-server": "test_req.py", "redis-cli": "test_req.py",
    "redis-benchmark": "test_req.py", "psql": "test_req.py", "runuser": "test_req.py",
    "node": "test_ui.py (tests/ui/drive.js)", "npm": "Makefile (scripts/npm-vendor.sh)",
    "chromium": "test_ui.py",
}
# What the kernel matrix adds (scripts/test-kernels.sh installs them).
KERNEL_COMMANDS = {
    "qemu-system-x86_64": "boot.sh", "busybox": "boot.sh", "modprobe": "boot.sh, guest.sh",
    "depmod": "boot.sh", "cpio": "boot.sh", "xz": "boot.sh", "file": "boot.sh",
    "md5sum": "boot.sh", "timeout": "boot.sh", "awk": "test-kernels.sh, fetch.sh",
    "dpkg-deb": "fetch.sh", "mktemp": "boot.sh",
}
GIVEN = {"apt", "dpkg"}    # the package manager itself, which installs the rest


def package_list(path, pattern):
    """The words of the package list that @pattern (a regex ending where it starts) finds
    in @path, line continuations joined."""
    with open(os.path.join(ROOT, path)) as f:
        text = f.read().replace("\\\n", " ")
    m = re.search(pattern + r"([^\n|]*)", text, re.M)
    assert m, "no package list in " + path
    return set(m.group(1).split())


def packages_of(cmds):
    """{command: the package that owns it, or None when it is not installed}, with one
    dpkg-query (its paths are /bin or /usr/bin ones: try both, usrmerge made them one)."""
    cands = {}
    for cmd in cmds:
        path = shutil.which(cmd)
        if path:
            real = os.path.realpath(path)
            cands[cmd] = [real, re.sub(r"^/usr/", "/", real), "/usr" + real]
    out = subprocess.run(["dpkg-query", "-S"] + sum(cands.values(), []),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    owner = {}
    for line in out.splitlines():
        pkg, path = line.split(": ", 1)
        owner[path] = pkg.split(",")[0].split(":")[0]
    res = {cmd: None for cmd in cmds}
    for cmd, paths in cands.items():
        found = [owner[p] for p in paths if p in owner]
        assert found, "%s (%s): no package owns it" % (cmd, paths[0])
        res[cmd] = found[0]
    return res


def with_depends(pkgs):
    """@pkgs and every installed package they depend on (python3 brings python3.11)."""
    out = subprocess.run(["apt-cache", "depends", "--recurse", "--installed", "--no-recommends",
                          "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces",
                          "--no-enhances"] + sorted(pkgs), stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, timeout=120).stdout
    return set(pkgs) | {l.split(":")[0] for l in out.splitlines() if l and l[0] != " "}


def test_deps_cover_commands():
    deps = package_list("Makefile", r"^DEPS :=")
    kernel = package_list("scripts/test-kernels.sh", r'install-deps\.sh" ')
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Essential}\n"],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    essential = {l.split()[0] for l in out.splitlines() if l.split()[1:] == ["yes"]}
    missing = []
    owners = packages_of(list(TEST_COMMANDS) + list(KERNEL_COMMANDS))
    for table, allowed, required in ((TEST_COMMANDS, with_depends(deps), True),
                                     (KERNEL_COMMANDS, with_depends(deps | kernel), False)):
        for cmd, where in sorted(table.items()):
            pkg = owners[cmd]
            if pkg is None:
                assert not required, "%s (run by %s) is not installed" % (cmd, where)
                continue
            if pkg not in allowed | essential | GIVEN:
                missing.append("%s (package %s, run by %s)" % (cmd, pkg, where))
    assert not missing, "not installed by make test: " + ", ".join(missing)


def test_deps_cover_python_modules():
    """Every module the tests import is the standard library's, the tests' own, or a
    Debian package's that `make test` installs (python3-yaml was missing once: a fresh
    machine could not even collect test_run_config.py)."""
    import ast
    import importlib.util
    import sys
    here = os.path.dirname(os.path.abspath(__file__))
    own = {f[:-3] for f in os.listdir(here) if f.endswith(".py")}
    names = set()
    for f in sorted(os.listdir(here)):
        if f.endswith(".py"):
            with open(os.path.join(here, f)) as src:
                for node in ast.walk(ast.parse(src.read())):
                    if isinstance(node, ast.Import):
                        names |= {a.name.split(".")[0] for a in node.names}
                    elif isinstance(node, ast.ImportFrom) and not node.level:
                        names.add(node.module.split(".")[0])
    third = sorted(n for n in names - own - set(sys.stdlib_module_names) - {"__future__"})
    assert "pytest" in third and "yaml" in third, third    # the scan sees imports
    files = {}
    for n in third:
        spec = importlib.util.find_spec(n)
        assert spec, "%s: imported by the tests, not installed" % n
        where = spec.origin or list(spec.submodule_search_locations)[0]
        if not os.path.realpath(where).startswith(os.path.dirname(here) + os.sep):
            files[n] = os.path.realpath(where)    # not a folder of the tests' own
    out = subprocess.run(["dpkg-query", "-S"] + sorted(set(files.values())),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    owner = {}
    for line in out.splitlines():
        pkg, path = line.split(": ", 1)
        owner[path] = pkg.split(",")[0].split(":")[0]
    allowed = with_depends(package_list("Makefile", r"^DEPS :="))
    missing = ["%s (%s)" % (n, owner.get(p, "no package: " + p)) for n, p in files.items()
               if owner.get(p) not in allowed]
    assert not missing, "imported by the tests, not installed by make test: " + ", ".join(missing)

