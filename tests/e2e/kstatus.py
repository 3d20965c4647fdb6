# SPDX-License-Identifier: GPL-2.0
"""`ksight status` parsed: which hook family each module's slots use on the running kernel
and which families are usable, for tests that must adapt to the kernel (kernel matrix)."""
import pytest

FAMILIES = ("fentry", "kprobe", "tp_btf", "raw_tp", "tp")
DISPATCHER_FAMILIES = ("tp_btf", "raw_tp", "tp")


class KernelHooks:
    """What `ksight status` says about the running kernel: the syscall dispatcher's family,
    and per module and slot the family chosen and why each other alternative was not.

    chosen[(module, slot)] is a family name ("syscalls" stands for the dispatcher);
    alts[(module, slot)] maps every alternative's family to None (usable) or the reason
    it was refused. families maps every attach family of the "attach families" section to
    None (usable) or the missing feature; notes[family] says how a usable one attaches."""

    def __init__(self, text):
        self.text = text
        self.dispatcher = None
        self.dispatcher_refused = {}
        self.chosen, self.alts, self.failed = {}, {}, set()
        self.families, self.notes = {}, {}
        self.module_notes = {}      # module: what its "note:" line says of this kernel
        self.optional_absent = set()    # (module, slot): optional, no hook on this kernel
        module = slot = None
        for line in text.splitlines():
            if line == "attach families":
                module = "(families)"
                continue
            if module == "(families)":
                if line.startswith("  "):
                    name, state = line.split(None, 1)
                    usable = state.startswith("usable")
                    self.families[name] = None if usable else state.split(": ", 1)[-1]
                    self.notes[name] = state[len("usable ("):-1] if usable and "(" in state else ""
                continue
            if line.startswith("syscalls dispatcher: "):
                self.dispatcher = line.split(": ", 1)[1].strip()
                module = "(dispatcher)"
            elif not line.strip():
                continue
            elif not line.startswith(" "):
                if line.startswith(("kernel ", "btf ")):
                    continue
                module = line.split()[0]
                if "(cannot run here)" in line:
                    self.failed.add(module)
            elif line.startswith(" " * 27):
                fam, why = (line.strip().split(None, 1) + [""])[:2]
                if why == "not selected by --hooks":
                    continue
                if module == "(dispatcher)":
                    self.dispatcher_refused[fam] = why
                elif slot is not None:
                    # a family may have several alternatives (cache: fentry on
                    # folio_mark_accessed, else on mark_page_accessed): usable if any is
                    alts = self.alts[(module, slot)]
                    if alts.get(fam, "") is not None:
                        alts[fam] = None if why.startswith("usable") else why
            elif line.startswith("  note: "):
                self.module_notes[module] = line[len("  note: "):]
            elif line.startswith("  ") and line[2:3] != " ":
                if line[2:].startswith(module + ": "):
                    continue    # the reason a module cannot run
                name, rest = line[2:24].strip(), line[24:].strip()
                slot = name
                fam = "syscalls" if rest.startswith("syscalls") else rest
                if rest.startswith("absent-optional"):
                    # an optional slot the kernel has no hook for: the module runs
                    fam = "absent-optional"
                    self.optional_absent.add((module, slot))
                self.chosen[(module, slot)] = fam
                self.alts[(module, slot)] = {} if fam in ("unavailable", "absent-optional") \
                    else {fam: None}

    def family(self, name):
        """Skip the calling test unless attach family @name is usable here."""
        assert name in self.families, "status lists no family %s:\n%s" % (name, self.text)
        if self.families[name] is not None:
            pytest.skip("%s: %s" % (name, self.families[name]))

    def dispatcher_usable(self):
        """Families the syscall dispatcher can run on (it probes all three)."""
        if self.dispatcher in (None, "unavailable"):
            return set()
        return {f for f in DISPATCHER_FAMILIES if f not in self.dispatcher_refused}

    def usable(self, module, family):
        """Whether --hooks=@family can run @module here: every slot that lists an
        alternative of that family (for the dispatcher's families, directly or through
        it) has a usable one, and some slot does (a slot whose @family hooks are all
        refused stops the module: cache's "see accesses" on kernels before 6.10, which have
        no mm_filemap_get_pages tracepoint)."""
        some = False
        for (m, slot), alts in self.alts.items():
            if m != module or (m, slot) in self.optional_absent:
                continue
            via_dispatcher = family in DISPATCHER_FAMILIES and "syscalls" in alts
            if family not in alts and not via_dispatcher:
                continue
            ok = alts.get(family, "refused") is None or (
                via_dispatcher and alts["syscalls"] is None and
                family in self.dispatcher_usable())
            if not ok:
                return False
            some = True
        return some

    def has(self, module, family):
        """Whether @module has an alternative of @family at all (usable or not here)."""
        for (m, _), alts in self.alts.items():
            if m == module and (family in alts or
                                (family in DISPATCHER_FAMILIES and "syscalls" in alts)):
                return True
        return False

    def require(self, module, family):
        """Skip the calling test when --hooks=@family cannot run @module on this kernel."""
        if family and not self.usable(module, family):
            pytest.skip("--hooks=%s: %s has no usable %s hook on this kernel"
                        % (family, module, family))
