"""The minimal BTF each object relocates against (src/core/btfmin.c, docs/ARCHITECTURE.md).

The reference is libbpf itself: at -vv it prints every CO-RE relocation it applies
("prog 'x': relo #3: patched insn #12 (LDX/ST/STX) off 112 -> 112"). The same tool run
with the minimal copy and with all of the kernel's BTF (KSIGHT_BTF_MIN=0) must patch
exactly the same instructions with exactly the same values, object by object.
"""
import os
import re

import pytest

from conftest import Ksight

RELO = re.compile(r"prog '[^']+': relo #\d+: (?:patched insn|substituting insn|poison).*")
CAND = re.compile(r"CO-RE relocating \[\d+\] \w+ \w+: found target candidate \[(\d+)\]")


def relocations(args, minimal):
    env = dict(os.environ, KSIGHT_BTF_MIN="1" if minimal else "0")
    k = Ksight(list(args) + ["-vv"], env=env)
    k.wait_ready(60)
    k.stop()
    text = k.stderr
    return sorted(RELO.findall(text)), [int(c) for c in CAND.findall(text)], text


def check_same(args):
    mine, cands, text = relocations(args, True)
    theirs, kernel_cands, full_text = relocations(args, False)
    assert mine, "libbpf printed no relocation: -vv no longer shows them?"
    assert "CO-RE against all of the kernel's BTF" not in text
    assert "CO-RE against all of the kernel's BTF" in full_text
    assert mine == theirs
    # the candidates were found in the copy (a few hundred types), not the kernel's
    assert cands and max(cands) < 2000
    assert len(cands) == len(kernel_cands) and max(kernel_cands) > max(cands)


@pytest.mark.kernels
def test_rw_relocates_exactly_as_against_the_kernels_btf():
    check_same(["rw"])


@pytest.mark.parametrize("tool", ["exec", "files", "tcplife", "guard", "net", "mem", "cache",
                                  "biotop", "offcpu", "req"])
def test_tool_relocates_exactly_as_against_the_kernels_btf(tool):
    check_same([tool])


def test_agent_relocates_exactly_as_against_the_kernels_btf():
    check_same(["run", "--listen", "none"])
