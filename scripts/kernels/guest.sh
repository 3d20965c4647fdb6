#!/bin/bash
# The kernel matrix's run on one kernel (inside a guest, or on the host itself):
#   scripts/kernels/guest.sh BUILD
# Prints the kernel, its LSMs and `ksight status`, then runs the end-to-end tests marked
# `kernels` (tests/e2e/conftest.py) against BUILD/ksight with pytest, one line per test.
# Exit: pytest's status.
set -u
build=${1:?usage: guest.sh BUILD}
ksight=$(readlink -f "$build/ksight")

echo "## kernel $(uname -r), LSMs: $(cat /sys/kernel/security/lsm 2>/dev/null || echo '?')"
# biolat's tests need loop devices; loop is a module in Debian's kernels
[ -e /dev/loop-control ] || modprobe -q loop 2>/dev/null || echo "## no loop module"
echo "## ksight status"
"$ksight" status || echo "## ksight status exited $?"
echo "## tests"
# the short summary names each failure with its message only if the line has room
export COLUMNS=400
exec scripts/run-tests.sh "$build" e2e -m kernels -rfEsp --durations=10
