#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# How long `ksight funccount k:GLOB` takes to start (its "ready in" line: exec to every
# function hooked), median of LAUNCHES, for globs of growing size. Run it in a kernel guest
# (this VM has no kprobes), e.g.
#   flock /tmp/ksight-guest.lock scripts/kernels/boot.sh TREE LOG -- bench/funccount_kstart.sh
# On 5.18+ kernels with CONFIG_FPROBE one kprobe.multi link takes every function; before,
# one kprobe each (the count of programs attached in the line tells which).
#   [LAUNCHES=5] [GLOBS="vfs_* tcp_*"] bench/funccount_kstart.sh [BUILD]
set -u
BUILD=${1:-build}
LAUNCHES=${LAUNCHES:-5}
GLOBS=${GLOBS:-"vfs_* tcp_*"}
echo "kernel $(uname -r)"
for g in $GLOBS; do
	n=$("$BUILD"/ksight tplist -K "$g" | wc -l)
	ms=()
	att=""
	for _ in $(seq "$LAUNCHES"); do
		line=$("$BUILD"/ksight funccount "k:$g" -d 1 2>&1 >/dev/null | grep "ready in")
		ms+=("$(echo "$line" | sed -n 's/.*ready in \([0-9]*\) ms.*/\1/p')")
		att=$(echo "$line" | sed -n 's/.*(\([0-9]*\) programs attached).*/\1/p')
	done
	med=$(printf '%s\n' "${ms[@]}" | sort -n | sed -n "$(( (LAUNCHES + 1) / 2 ))p")
	echo "k:$g functions $n attachments $att ready_ms_median $med runs ${ms[*]}"
done
