#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# How long `ksight funccount k:GLOB` takes to start (its "ready in" line: exec to every
# function hooked), median of LAUNCHES, for globs of growing size and each way of hooking
# them. Run it in a kernel guest (this VM has neither kprobes nor fentry), e.g.
#   flock /tmp/ksight-guest.lock scripts/kernels/boot.sh TREE LOG -- bench/funccount_kstart.sh
# HOOKS: "auto" (the default choice: one kprobe.multi link on 5.18+ with CONFIG_FPROBE,
# else an fentry copy per function), "fentry" (--hooks fentry: a program and a link per
# function), "kprobe" (--hooks kprobe: kprobe.multi where there is one, else a kprobe
# each); the count of programs attached in the line tells which was used.
#   [LAUNCHES=5] [GLOBS="vfs_* tcp_*"] [HOOKS="auto fentry kprobe"] bench/funccount_kstart.sh [BUILD]
set -u
BUILD=${1:-build}
LAUNCHES=${LAUNCHES:-5}
GLOBS=${GLOBS:-"vfs_* tcp_*"}
HOOKS=${HOOKS:-"auto fentry kprobe"}
echo "kernel $(uname -r)"
for g in $GLOBS; do
	n=$("$BUILD"/ksight tplist -K "$g" | wc -l)
	for h in $HOOKS; do
		opt=()
		[ "$h" = auto ] || opt=(--hooks "$h")
		ms=()
		att=""
		kind=""
		for _ in $(seq "$LAUNCHES"); do
			out=$("$BUILD"/ksight funccount "${opt[@]}" --json "k:$g" -d 1 2>/tmp/kstart.err)
			line=$(grep "ready in" /tmp/kstart.err)
			ms+=("$(echo "$line" | sed -n 's/.*ready in \([0-9]*\) ms.*/\1/p')")
			att=$(echo "$line" | sed -n 's/.*(\([0-9]*\) programs attached).*/\1/p')
			kind=$(echo "$out" | sed -n 's/.*"kind":"\([a-z]*\)".*/\1/p' | sort -u | tr '\n' ' ')
			grep -v "ready in\|events,\|^$" /tmp/kstart.err | head -2
		done
		med=$(printf '%s\n' "${ms[@]}" | sort -n | sed -n "$(( (LAUNCHES + 1) / 2 ))p")
		echo "k:$g hooks $h functions $n attachments $att kind ${kind:-none} ready_ms_median $med runs ${ms[*]}"
	done
done
