# SPDX-License-Identifier: GPL-2.0
"""inotify through libc, as a reference independent of ksight: which paths the kernel says
were changed (a watch names its own directory or an entry in it)."""
import ctypes
import ctypes.util
import os
import struct

IN_MODIFY = 0x2
IN_ATTRIB = 0x4
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000

NAMES = {IN_MODIFY: "modify", IN_ATTRIB: "attrib", IN_MOVED_FROM: "moved_from",
         IN_MOVED_TO: "moved_to", IN_CREATE: "create", IN_DELETE: "delete"}
_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


class Inotify:
    """Watches on directories; events() reads what was queued as (what, path) pairs."""

    def __init__(self):
        self.fd = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.wds = {}

    def watch(self, path, mask):
        wd = _libc.inotify_add_watch(self.fd, os.fsencode(path), mask)
        if wd < 0:
            raise OSError(ctypes.get_errno(), "inotify_add_watch " + path)
        self.wds[wd] = os.fsencode(path)

    def events(self):
        """[(what, path bytes)] in the order the kernel queued them; a mask with several
        bits gives one pair per known bit."""
        out, buf = [], b""
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            buf += chunk
        off = 0
        while off + 16 <= len(buf):
            wd, mask, _, n = struct.unpack_from("iIII", buf, off)
            name = buf[off + 16:off + 16 + n].rstrip(b"\0")
            off += 16 + n
            path = self.wds.get(wd, b"?") + (b"/" + name if name else b"")
            out += [(what, path) for bit, what in NAMES.items() if mask & bit]
        return out

    def close(self):
        os.close(self.fd)
