# SPDX-License-Identifier: GPL-2.0
"""The set-up scripts, where they can run without their side effects: the kernel matrix
takes its Debian mirror from the machine's apt sources (scripts/kernels/fetch.sh), read
here from sources written to a temporary directory (APT_CONFIG points apt-config there)."""
import os
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
