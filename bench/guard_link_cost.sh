#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What watching links, symlinks, mkdirs and xattrs costs: `ksight guard` (every default
# rule) of BUILD against the same command of KSIGHT_A (another build, e.g. main's, which
# does not watch mkdir), no tracer and bpftrace printing every mkdir, on N mkdir+rmdir of
# one unwatched directory (a name relative to the cwd, DIR, a tmpfs by default: guard walks
# the cwd to name it; the file system's own cost stays small beside the tracers') and NPPID getppid calls (a syscall guard does
# not watch), in the same run.
#
#   [ROUNDS=5] [N=100000] [NPPID=1000000] [CPU=1] [DIR=/dev/shm] KSIGHT_A=/path/to/ksight \
#       bench/guard_link_cost.sh [BUILD]
#
# Each round runs every configuration in turn (the order rotating), oploop pinned to CPU.
# Medians over ROUNDS, ratios within the run.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
N=${N:-100000}
NPPID=${NPPID:-1000000}
KSIGHT_A=${KSIGHT_A:?KSIGHT_A: the other build\'s ksight}
DIR=${DIR:-/dev/shm}
bench_init guard_link_cost "ROUNDS=$ROUNDS N=$N NPPID=$NPPID CPU=$CPU DIR=$DIR KSIGHT_A=$KSIGHT_A"
echo "ksight A: $KSIGHT_A ($(git -C "$(dirname "$KSIGHT_A")/.." describe --always --dirty \
	2>/dev/null))"

BPFTRACE_MKDIR='tracepoint:syscalls:sys_enter_mkdir,tracepoint:syscalls:sys_enter_mkdirat {
	printf("%d %s %s\n", pid, comm, str(args->pathname)); }'
NAMES=("untraced" "ksight guard A" "ksight guard (this)" "bpftrace mkdir")
declare -a MK PP LOST

run_config()
{
	local i=$1 err="$TMP/err.$1.$2" mk pp
	case $i in
	0) ;;
	1) start_tracer ksight "$err" "$KSIGHT_A" guard || return ;;
	2) start_tracer ksight "$err" "$KSIGHT" guard || return ;;
	3) start_tracer peer:2 "$err" "$BPFTRACE" -e "$BPFTRACE_MKDIR" || return ;;
	esac
	run_loop mk -n "$N" mkdir "ksight-bench-mkdir.$$"
	run_loop pp -n "$NPPID" getppid
	case $i in
	1 | 2)
		stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}"
		LOST[$i]+=" $KS_LOST"
		;;
	3) stop_peer "$TRACER_PID" "$err" "${NAMES[$i]}" ;;
	esac
	MK[$i]+=" $(cut -d' ' -f3 <<<"$mk")"
	PP[$i]+=" $(cut -d' ' -f3 <<<"$pp")"
	printf '  round %d  %-20s mkdir+rmdir %8s ns  getppid %6s ns\n' "$2" "${NAMES[$i]}" \
		"$(cut -d' ' -f3 <<<"$mk")" "$(cut -d' ' -f3 <<<"$pp")"
}

cd "$DIR" || exit 1
rotate_rounds run_config

echo
echo "ns per operation, median of $ROUNDS runs (oploop on CPU $CPU)"
echo
row tracer "mkdir+rmdir" "x untraced" "getppid" "x untraced" "ksight lost"
row --- ---: ---: ---: ---: ---:
# shellcheck disable=SC2086
M0=$(median ${MK[0]:-})
# shellcheck disable=SC2086
P0=$(median ${PP[0]:-})
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	# shellcheck disable=SC2086
	m=$(median ${MK[$i]:-})
	# shellcheck disable=SC2086
	p=$(median ${PP[$i]:-})
	# shellcheck disable=SC2086
	row "${NAMES[$i]}" "$(fmt "$m")" "$(ratio "$m" "$M0")" "$(fmt "$p")" "$(ratio "$p" "$P0")" \
		"$(echo ${LOST[$i]:--})"
done
bench_finish
