#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What the kernel's verifier does for ksight's biggest programs, each loaded alone
# (bench/helpers/verifstats.c): instructions, instructions processed, states, and the
# verification time. The processed count is the part of a tool's start-up that does not
# depend on the machine's load; the time is this run's.
#
#   [REV=GITREV] bench/verify_cost.sh [BUILD]
#
# With REV, the programs of that revision too, built from its bpf/ with this build's
# vmlinux.h and flags, side by side (what a change to the BPF code bought).
set -u
build=$(readlink -f "${1:-build}")
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.." || exit 1
vs=$build/bench/helpers/verifstats
[ -x "$vs" ] || { echo "verify_cost: no $vs (make helpers)" >&2; exit 2; }
progs="files:files__sys_btf files:files__exec_btf rw:rw__sys_btf guard:guard__sys_btf
proc:proc__fork_btf exec:exec__sys_btf open:open__sys_btf core:core__sys_exit_btf
tcp:tcp__sys_btf req:req__sys_btf udp:udp__sys_btf trace:trace__tp"

old=
if [ -n "${REV:-}" ]; then
	old=$(mktemp -d) || exit 1
	trap 'rm -rf "$old"' EXIT
	git archive "$REV" bpf | tar -x -C "$old" || exit 2
	flags=$(make -pn 2>/dev/null | sed -n 's/^BPF_CFLAGS *:\?= *//p' | head -1)
	for o in $(for p in $progs; do echo "${p%%:*}"; done | sort -u); do
		# shellcheck disable=SC2086
		(cd "$old/bpf" && clang $flags -I"$build" -c "$o.bpf.c" -o "$old/$o.bpf.o") ||
			echo "verify_cost: $REV's $o.bpf.c does not build" >&2
	done
fi

row() { printf '| %s |\n' "$(IFS='|'; echo "$*" | sed 's/|/ | /g')"; }
if [ -n "$old" ]; then
	row program insns "processed ($REV)" processed "states ($REV)" states \
		"verify us ($REV)" "verify us"
	row --- ---: ---: ---: ---: ---: ---: ---:
else
	row program insns processed states "peak states" "verify us"
	row --- ---: ---: ---: ---: ---:
fi
for p in $progs; do
	o=${p%%:*} name=${p#*:}
	[ -f "$build/bpf/$o.bpf.o" ] || continue
	read -r _ _ insns _ proc _ st _ peak _ us < <("$vs" "$build/bpf/$o.bpf.o" "$name" 2>/dev/null) ||
		{ row "$name" "refused or absent" - - - -; continue; }
	if [ -n "$old" ]; then
		read -r _ _ _ _ oproc _ ost _ _ _ ous < <("$vs" "$old/$o.bpf.o" "$name" 2>/dev/null) ||
			oproc=- ost=- ous=-
		row "$name" "$insns" "$oproc" "$proc" "$ost" "$st" "$ous" "$us"
	else
		row "$name" "$insns" "$proc" "$st" "$peak" "$us"
	fi
done
