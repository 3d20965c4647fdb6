# SPDX-License-Identifier: GPL-2.0
"""What the running kernel lets BPF programs do, asked without ksight: trial loads of a
two-instruction program through bpf(2), the way libbpf's and bpftool's feature probes do,
for tests that must not take ksight's word for it (nor a kernel release string).
Each probe returns 0 when the kernel accepts, else the errno it gave. Only the BTF ids of
the targets come from libbpf (its parser, fast even in the kernel matrix's TCG guests)."""
import ctypes
import errno
import os
import struct

SYS_BPF = 321      # x86_64
BPF_PROG_LOAD = 5
BPF_RAW_TRACEPOINT_OPEN = 17
PROG_TRACEPOINT, PROG_RAW_TRACEPOINT, PROG_TRACING = 5, 17, 26
TRACE_RAW_TP, TRACE_FEXIT = 23, 25

BTF_KIND_TYPEDEF, BTF_KIND_FUNC = 8, 12

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_btf = None


def _bpf(cmd, attr):
    buf = ctypes.create_string_buffer(bytes(attr), len(attr))
    ret = _libc.syscall(SYS_BPF, cmd, buf, len(attr))
    return ret if ret >= 0 else -ctypes.get_errno()


def _load(prog_type, attach_type=0, btf_id=0):
    """fd of "r0 = 0; exit" loaded as @prog_type, or -errno."""
    insns = struct.pack("<BBhi", 0xb7, 0, 0, 0) + struct.pack("<BBhi", 0x95, 0, 0, 0)
    ibuf = ctypes.create_string_buffer(insns, len(insns))
    lic = ctypes.create_string_buffer(b"GPL")
    attr = bytearray(128)    # union bpf_attr, BPF_PROG_LOAD part (include/uapi/linux/bpf.h)
    struct.pack_into("<IIQQ", attr, 0, prog_type, 2, ctypes.addressof(ibuf),
                     ctypes.addressof(lic))
    struct.pack_into("<I", attr, 68, attach_type)     # expected_attach_type
    struct.pack_into("<I", attr, 108, btf_id)         # attach_btf_id
    return _bpf(BPF_PROG_LOAD, attr)


def btf_id(kind, name):
    """The id of @name (kind BTF_KIND_FUNC or BTF_KIND_TYPEDEF) in the kernel's BTF, or
    None."""
    global _btf
    if _btf is None:
        lib = ctypes.CDLL("libbpf.so.1")
        lib.btf__load_vmlinux_btf.restype = ctypes.c_void_p
        lib.btf__find_by_name_kind.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint]
        _btf = (lib, lib.btf__load_vmlinux_btf())
        assert _btf[1], "no kernel BTF"
    i = _btf[0].btf__find_by_name_kind(_btf[1], name.encode(), kind)
    return i if i > 0 else None


def _result(fd):
    if fd < 0:
        return -fd
    os.close(fd)
    return 0


def fentry(func):
    """An fexit program on kernel function @func (BPF trampolines)."""
    i = btf_id(BTF_KIND_FUNC, func)
    return errno.ENOENT if i is None else _result(_load(PROG_TRACING, TRACE_FEXIT, i))


def tp_btf(tp):
    """A BTF-enabled tracepoint program on @tp (sched_process_exec, sys_exit, ...)."""
    i = btf_id(BTF_KIND_TYPEDEF, "btf_trace_" + tp)
    return errno.ENOENT if i is None else _result(_load(PROG_TRACING, TRACE_RAW_TP, i))


def raw_tp(tp):
    """A raw tracepoint program, attached to @tp and detached at once."""
    fd = _load(PROG_RAW_TRACEPOINT)
    if fd < 0:
        return -fd
    name = ctypes.create_string_buffer(tp.encode())
    attr = bytearray(16)
    struct.pack_into("<QI", attr, 0, ctypes.addressof(name), fd)
    link = _bpf(BPF_RAW_TRACEPOINT_OPEN, attr)
    os.close(fd)
    return _result(link)


def name(err):
    """"EPERM" for errno 1; "ok" for 0."""
    return errno.errorcode.get(err, str(err)) if err else "ok"
