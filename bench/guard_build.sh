#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A build-like workload under `ksight guard` (every default rule): `make -j2 all` of ksight
# itself from a clean tree (clang for 25 BPF objects, bpftool skeletons, gcc for ~200 C
# files, the link: thousands of execs and tens of thousands of opens), wall time, against
# no tracer, libbpf-tools execsnoop and opensnoop together, and a bpftrace script printing
# the same execs and opens, in the same run.
#
#   [ROUNDS=3] [KSIGHT_A=/path/to/ksight] bench/guard_build.sh [BUILD]
#
# With KSIGHT_A, `ksight guard` of that build (e.g. main's) runs too, in the same rounds: an
# A/B of a change to guard.
# The tree is this checkout's HEAD (git archive) in a temporary directory; its npm assets
# are copied from BUILD (no network). One build first warms the page cache; then each
# round cleans the tree's build/ (but the npm assets) and builds it under each tracer in
# turn, the order rotating. Medians over ROUNDS, ratios within the run.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-3}
KSIGHT_A=${KSIGHT_A:-}
bench_init guard_build "ROUNDS=$ROUNDS${KSIGHT_A:+ KSIGHT_A=$KSIGHT_A}"

EXECSNOOP=/usr/sbin/execsnoop
BPFTRACE_EXEC_OPEN='tracepoint:syscalls:sys_enter_execve { printf("%d %s\n", pid, str(args->filename)); }
'"$BPFTRACE_OPEN"

SRC=$TMP/tree
mkdir -p "$SRC"
git -C "$(dirname "$0")/.." archive HEAD | tar -x -C "$SRC" || { echo "guard_build: git archive failed" >&2; exit 1; }
mkdir -p "$SRC/build"
cp -a "$BUILD/web" "$SRC/build/" 2>/dev/null

clean_tree()
{
	find "$SRC/build" -mindepth 1 -maxdepth 1 ! -name web -exec rm -rf {} +
}

# build_secs OUTVAR: a clean build's wall seconds, or "-".
build_secs()
{
	local __var=$1 t0 t1
	clean_tree
	t0=$(date +%s.%N)
	if ! make -C "$SRC" -j2 all >"$TMP/make.log" 2>&1; then
		bench_fail "make: $(tail -3 "$TMP/make.log" | tr '\n' ' ')"
		printf -v "$__var" '%s' -
		return 1
	fi
	t1=$(date +%s.%N)
	printf -v "$__var" '%s' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
}

NAMES=("untraced" "ksight guard" "execsnoop + opensnoop" "bpftrace")
[ -z "$KSIGHT_A" ] || NAMES+=("ksight guard A")
declare -a NS LOST
PEER2=

run_config()
{
	local i=$1 err="$TMP/err.$1.$2" secs
	case $i in
	0) ;;
	1) start_tracer ksight "$err" "$KSIGHT" guard || return ;;
	2)
		start_tracer peer:2 "$err.exec" "$EXECSNOOP" || return
		PEER2=$TRACER_PID
		start_tracer peer:2 "$err" "$OPENSNOOP" || { stop_peer "$PEER2" "$err.exec" execsnoop; return; }
		;;
	3) start_tracer peer:3 "$err" "$BPFTRACE" -e "$BPFTRACE_EXEC_OPEN" || return ;;
	4) start_tracer ksight "$err" "$KSIGHT_A" guard || return ;;
	esac
	build_secs secs
	case $i in
	1 | 4)
		stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}"
		LOST[$i]+=" $KS_LOST"
		;;
	2)
		stop_peer "$TRACER_PID" "$err" opensnoop
		stop_peer "$PEER2" "$err.exec" execsnoop
		;;
	3) stop_peer "$TRACER_PID" "$err" bpftrace ;;
	esac
	NS[$i]+=" $secs"
	printf '  round %d  %-22s %s s\n' "$2" "${NAMES[$i]}" "$secs"
}

build_secs warm
echo "  warm-up build: $warm s"
rotate_rounds run_config
echo
echo "clean \`make -j2 all\` of ksight, wall seconds, median of $ROUNDS rounds"
echo
median_table tracer s
echo
echo "ksight guard's lost events per round:${LOST[1]:- -}"
[ -z "$KSIGHT_A" ] || echo "ksight guard A's lost events per round:${LOST[4]:- -}"
bench_finish
