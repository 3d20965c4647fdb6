#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What `ksight guard` (every default rule) costs the calls it filters in the kernel:
# read-only and write opens of an unwatched file, and a syscall it does not watch, against
# no tracer and against opensnoop and bpftrace (which see every open).
#
#   [ROUNDS=5] [N=300000] [NPPID=1000000] [CPU=1] [SETTLE=1] bench/guard_cost.sh [BUILD]
#
# Each round starts every tracer in turn (the order rotates), runs oploop pinned to CPU:
# N open(O_RDONLY)+close, N open(O_WRONLY)+close of one existing file under /tmp, N
# pwrites of one byte to it (guard looks at every pwrite's file: /proc/PID/mem?), then
# NPPID getppid calls, and stops the tracer. Medians over ROUNDS, ratios within the run.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
N=${N:-300000}
NPPID=${NPPID:-1000000}
bench_init guard_cost "ROUNDS=$ROUNDS N=$N NPPID=$NPPID CPU=$CPU SETTLE=$SETTLE"

NAMES=("untraced" "ksight guard" "opensnoop" "bpftrace")
KINDS=(none ksight peer:2 peer:2)
declare -a RD WR PW PP LOST

run_config()
{
	local i=$1 err="$TMP/err.$1.$2" rd wr pw pp
	case $i in
	0) ;;
	1) start_tracer ksight "$err" "$KSIGHT" guard || return ;;
	2) start_tracer peer:2 "$err" "$OPENSNOOP" || return ;;
	3) start_tracer peer:2 "$err" "$BPFTRACE" -e "$BPFTRACE_OPEN" || return ;;
	esac
	run_loop rd -n "$N" open "$TMP/file"
	run_loop wr -n "$N" openw "$TMP/file"
	run_loop pw -n "$N" pwrite "$TMP/file"
	run_loop pp -n "$NPPID" getppid
	case ${KINDS[$i]} in
	ksight)
		stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}"
		LOST[$i]+=" $KS_LOST"
		;;
	peer:*)
		stop_peer "$TRACER_PID" "$err" "${NAMES[$i]}"
		;;
	esac
	RD[$i]+=" $(cut -d' ' -f3 <<<"$rd")"
	WR[$i]+=" $(cut -d' ' -f3 <<<"$wr")"
	PW[$i]+=" $(cut -d' ' -f3 <<<"$pw")"
	PP[$i]+=" $(cut -d' ' -f3 <<<"$pp")"
	printf '  round %d  %-14s read open %7s ns  write open %7s ns  pwrite %6s ns  getppid %6s ns\n' \
		"$2" "${NAMES[$i]}" "$(cut -d' ' -f3 <<<"$rd")" "$(cut -d' ' -f3 <<<"$wr")" \
		"$(cut -d' ' -f3 <<<"$pw")" "$(cut -d' ' -f3 <<<"$pp")"
}

for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		run_config $(((k + r - 1) % ${#NAMES[@]})) "$r"
	done
done

declare -a MR MW MPW MP
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	# shellcheck disable=SC2086
	MR[$i]=$(median ${RD[$i]:-})
	# shellcheck disable=SC2086
	MW[$i]=$(median ${WR[$i]:-})
	# shellcheck disable=SC2086
	MPW[$i]=$(median ${PW[$i]:-})
	# shellcheck disable=SC2086
	MP[$i]=$(median ${PP[$i]:-})
done
echo
echo "ns per operation, median of $ROUNDS runs (oploop on CPU $CPU)"
echo
row tracer "read open+close" "x untraced" "write open+close" "x untraced" "pwrite" \
	"x untraced" "getppid" "x untraced" "ksight lost"
row --- ---: ---: ---: ---: ---: ---: ---: ---: ---:
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	row "${NAMES[$i]}" "$(fmt "${MR[$i]}")" "$(ratio "${MR[$i]}" "${MR[0]}")" \
		"$(fmt "${MW[$i]}")" "$(ratio "${MW[$i]}" "${MW[0]}")" \
		"$(fmt "${MPW[$i]}")" "$(ratio "${MPW[$i]}" "${MPW[0]}")" "$(fmt "${MP[$i]}")" \
		"$(ratio "${MP[$i]}" "${MP[0]}")" "$(echo ${LOST[$i]:--})"
done
bench_finish
