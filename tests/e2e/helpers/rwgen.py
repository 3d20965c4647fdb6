# SPDX-License-Identifier: GPL-2.0
"""The rwgen helper (rwgen.c) as the rw tests drive it: start, run, and what it used."""
from conftest import Helper

FDS = ("file", "pipe_r", "pipe_w", "tcp_c", "tcp_s", "udp_a", "udp_b")
PORTS = ("tcp_c", "tcp_s", "udp_a", "udp_b")
ALL = ("x", "dup2", "dupfd", "efd", "sp0", "sp1", "ul", "uc", "us", "fifo", "other", "rel",
       "cwdrel")
COPIES = ("src", "copy", "p1r", "p1w", "p2r", "p2w")


class RwGen:
    """rwgen [args] DIR NFILE NPIPE NNET; .fds, .ports and (-a) .all once run() returned."""

    def __init__(self, workdir, nfile, npipe, nnet, args=()):
        self.h = Helper("rwgen", *args, workdir, nfile, npipe, nnet)
        self.pid = self.h.pid
        self.fds, self.ports, self.all, self.copies = {}, {}, {}, {}

    def run(self, timeout=300):
        self.h.go()
        words = self.h.result(timeout)
        assert words[-1] == "done", words
        for tag, names, target in (("fds", FDS, self.fds), ("ports", PORTS, self.ports),
                                   ("all", ALL, self.all), ("copies", COPIES, self.copies)):
            if tag in words:
                i = words.index(tag) + 1
                target.update(zip(names, map(int, words[i:i + len(names)])))
        return self

    def addr(self, side):
        return "127.0.0.1:%d" % self.ports[side]

    def kill(self):
        self.h.kill()
