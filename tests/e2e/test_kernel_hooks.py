# SPDX-License-Identifier: GPL-2.0
"""Hook selection on the running kernel, as `ksight status` reports it.

On every kernel: each slot uses its cheapest usable alternative, and the syscall dispatcher
the cheapest family that attaches. Where the kernel matrix (scripts/test-kernels.sh)
knows what a kernel allows, it says so in KSIGHT_EXPECT_HOOKS ("dispatcher=tp_btf
exec=fentry ...": every slot of the module that has an alternative of that family uses it;
"*=fentry": every module's, unless the kernel lacks the target) and KSIGHT_EXPECT_BPF_LSM=1,
and the tests hold ksight's probes to it.
"""
import os
import subprocess

import pytest

from conftest import run_ksight
from kstatus import DISPATCHER_FAMILIES, KernelHooks

pytestmark = pytest.mark.kernels

ORDER = ("fentry", "kprobe", "tp_btf", "raw_tp", "tp", "syscalls")


def expected_hooks():
    spec = os.environ.get("KSIGHT_EXPECT_HOOKS", "")
    return dict(item.split("=", 1) for item in spec.split())


def test_cheapest_usable_hook_chosen(kernel_hooks):
    assert kernel_hooks.chosen, kernel_hooks.text
    for (module, slot), fam in kernel_hooks.chosen.items():
        alts = kernel_hooks.alts[(module, slot)]
        assert fam != "unavailable", "%s: %s\n%s" % (module, slot, kernel_hooks.text)
        if fam == "absent-optional":
            # an optional slot skipped: only when every alternative was refused
            assert alts and all(why is not None for why in alts.values()), \
                "%s/%s skipped though usable: %s\n%s" % (module, slot, alts, kernel_hooks.text)
            assert module not in kernel_hooks.failed, kernel_hooks.text
            continue
        if fam not in ORDER:
            # a family with no cheaper kind of hook for the same thing (uprobe, tc, ...):
            # it must be the slot's only one
            assert list(alts) == [fam], "%s/%s: %s\n%s" % (module, slot, alts, kernel_hooks.text)
            continue
        cheaper = [f for f in alts if f in ORDER and ORDER.index(f) < ORDER.index(fam)]
        for f in cheaper:
            assert alts[f] is not None, "%s/%s: %s usable but %s chosen" % (module, slot, f, fam)
    usable = [f for f in DISPATCHER_FAMILIES if f in kernel_hooks.dispatcher_usable()]
    assert usable and kernel_hooks.dispatcher == usable[0], kernel_hooks.text


def test_expected_hooks(kernel_hooks):
    want = expected_hooks()
    if not want:
        pytest.skip("KSIGHT_EXPECT_HOOKS not set: no known expectations for this kernel")
    for module, fam in sorted(want.items()):
        if module == "dispatcher":
            assert kernel_hooks.dispatcher == fam, kernel_hooks.text
            continue
        if module == "*":
            # every slot with such an alternative uses it, unless the kernel lacks the
            # function or tracepoint (a syscall newer than the kernel)
            for (m, s), alts in sorted(kernel_hooks.alts.items()):
                if fam not in alts:
                    continue
                where = "%s/%s: %s expected\n%s" % (m, s, fam, kernel_hooks.text)
                if alts[fam] is None:
                    assert kernel_hooks.chosen[(m, s)] == fam, where
                else:
                    assert "is not in the kernel's BTF" in alts[fam], where
            continue
        slots = [s for (m, s), alts in kernel_hooks.alts.items()
                 if m == module and fam in alts]
        assert slots, "%s has no %s alternative:\n%s" % (module, fam, kernel_hooks.text)
        for s in slots:
            assert kernel_hooks.chosen[(module, s)] == fam, \
                "%s/%s: %s expected\n%s" % (module, s, fam, kernel_hooks.text)


@pytest.mark.parametrize("family", ["fentry", "kprobe", "tp_btf", "raw_tp", "tp"])
def test_forced_family_status(kernel_hooks, family):
    """status --hooks=F puts every slot that has a usable F hook on F; a module whose F
    hooks the kernel refuses cannot run; a module without F hooks keeps its defaults."""
    r = run_ksight(["status", "--hooks", family], timeout=120)
    assert r.returncode == 0, r.stderr
    forced = KernelHooks(r.stdout)
    for (m, slot), fam in sorted(kernel_hooks.chosen.items()):
        if m == "core":
            continue
        where = "%s/%s --hooks=%s:\n%s" % (m, slot, family, r.stdout)
        if m in kernel_hooks.failed:
            # refused at its defaults already (funccount's uprobe program wants
            # bpf_get_attach_cookie, 5.15+): forcing another family changes nothing
            assert m in forced.failed, where
            continue
        got = forced.chosen.get((m, slot))
        if kernel_hooks.usable(m, family):
            assert m not in forced.failed, where
            alts = kernel_hooks.alts[(m, slot)]
            if family in alts:
                assert got == family, where
            elif "syscalls" in alts and family in DISPATCHER_FAMILIES:
                assert got == "syscalls" and forced.dispatcher == family, where
        elif kernel_hooks.has(m, family):
            assert m in forced.failed, where
        else:
            assert m not in forced.failed and got == fam, where


def test_bpf_lsm_available(bpf_lsm):
    """The kernel matrix boots every kernel that has BPF LSM with bpf in its LSM list, so
    the LSM variants (ksight guard) can be proven there."""
    if os.environ.get("KSIGHT_EXPECT_BPF_LSM") != "1":
        pytest.skip("KSIGHT_EXPECT_BPF_LSM not set: BPF LSM not expected on this kernel")
    assert bpf_lsm, open("/sys/kernel/security/lsm").read()


def test_attach_families_agree_with_the_kernel(kernel_hooks, bpf_lsm):
    """`ksight status`'s attach families against what the kernel shows elsewhere (sysfs,
    tracefs, securityfs, its BTF), and, in the kernel matrix, against what is known of
    Debian's kernels (BPF trampolines, kprobes, BPF LSM)."""
    fam = kernel_hooks.families
    assert set(fam) >= {"fentry", "kprobe", "tp_btf", "raw_tp", "tp", "lsm", "perf_software",
                        "perf_hardware", "uprobe", "uretprobe", "usdt", "tc", "xdp",
                        "cgroup_skb", "cgroup_sock", "cgroup_sock_addr", "sockops"}, fam
    pmu = "/sys/bus/event_source/devices/%s/type"
    tracing = "/sys/kernel/tracing/%s"
    assert (fam["kprobe"] is None) == (os.path.exists(pmu % "kprobe") or
                                       os.path.exists(tracing % "kprobe_events")), fam["kprobe"]
    assert (fam["uprobe"] is None) == (os.path.exists(pmu % "uprobe") or
                                       os.path.exists(tracing % "uprobe_events")), fam["uprobe"]
    if not bpf_lsm:
        assert fam["lsm"] is not None
    btf = subprocess.run(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux"],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    assert kernel_hooks.notes["tc"].startswith("tcx links") == ("STRUCT 'tcx_link'" in btf), \
        kernel_hooks.notes["tc"]
    if "*" in expected_hooks():    # Debian's kernels: trampolines and kprobes work
        assert fam["fentry"] is None and fam["kprobe"] is None, fam
    if os.environ.get("KSIGHT_EXPECT_BPF_LSM") == "1":
        assert fam["lsm"] is None, fam["lsm"]


def test_optional_slot_absent():
    """An optional slot whose hooks the kernel lacks (KSIGHT_TEST_ABSENT, a test-only switch
    of the probe, plays such a kernel: io_uring's tracepoints, rw's and guard's optional slots) is
    absent-optional with every alternative's reason, and its module runs; the rest of the
    selection is unchanged."""
    env = dict(os.environ)
    env["KSIGHT_TEST_ABSENT"] = "io_uring_submit_req,io_uring_submit_sqe,io_uring_complete"
    r = run_ksight(["status"], env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    hooks = KernelHooks(r.stdout)
    assert sorted(m for (m, _) in hooks.optional_absent) == ["guard", "rw"], r.stdout
    for key in hooks.optional_absent:
        assert hooks.alts[key] and all(why and "absent" in why
                                       for why in hooks.alts[key].values()), r.stdout
    test_cheapest_usable_hook_chosen(hooks)
