#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What guard adds to the agent: `ksight run` with its default modules, and with the same
# modules and guard (`--modules DEFAULTS,guard`, every default rule), against no tracer, on
# the calls guard filters in the kernel (read-only and write opens of an unwatched file
# under /tmp), one it does not route (getppid), and an exec it matches every time
# (fork + exec of /bin/true from a shell: exec-world-writable is checked and passes).
#
#   [ROUNDS=5] [N=300000] [NPPID=1000000] [NEXEC=2000] [CPU=1] [SETTLE=1]
#   bench/guard_agent_cost.sh [BUILD]
#
# Each round runs the three configurations in an order that rotates from round to round;
# oploop pinned to CPU does N open(O_RDONLY)+close, N open(O_WRONLY)+close, NPPID
# getppid, then a shell pinned there runs /bin/true NEXEC times. Medians over ROUNDS,
# ratios within the run. The agents run with --listen none --no-store (the sinks' cost is
# not guard's).
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
N=${N:-300000}
NPPID=${NPPID:-1000000}
NEXEC=${NEXEC:-2000}
bench_init guard_agent_cost "ROUNDS=$ROUNDS N=$N NPPID=$NPPID NEXEC=$NEXEC CPU=$CPU SETTLE=$SETTLE"

# the agent's default modules (every module but the opt-in ones, docs/run.md)
DEFAULTS=exec,open,biolat,syscount,rw,files,proc,tcplife,udp,drops,net
NAMES=("untraced" "ksight run (defaults)" "ksight run (defaults + guard)")
declare -a RD WR PP EX LOST
: >"$TMP/file"

exec_loop()
{
	local t0 t1
	t0=$(date +%s%N)
	taskset -c "$CPU" bash -c 'for ((i = 0; i < '"$NEXEC"'; i++)); do /bin/true; done'
	t1=$(date +%s%N)
	echo $(((t1 - t0) / NEXEC))
}

run_config()
{
	local i=$1 err="$TMP/err.$1.$2" rd wr pp ex
	case $i in
	0) ;;
	1) start_tracer ksight "$err" "$KSIGHT" run --listen none --no-store \
		--modules "$DEFAULTS" || return ;;
	2) start_tracer ksight "$err" "$KSIGHT" run --listen none --no-store \
		--modules "$DEFAULTS,guard" || return ;;
	esac
	run_loop rd -n "$N" open "$TMP/file"
	run_loop wr -n "$N" openw "$TMP/file"
	run_loop pp -n "$NPPID" getppid
	ex=$(exec_loop)
	if [ "$i" != 0 ]; then
		stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}"
		LOST[$i]+=" $KS_LOST"
	fi
	RD[$i]+=" $(cut -d' ' -f3 <<<"$rd")"
	WR[$i]+=" $(cut -d' ' -f3 <<<"$wr")"
	PP[$i]+=" $(cut -d' ' -f3 <<<"$pp")"
	EX[$i]+=" $ex"
	printf '  round %d  %-30s read open %6s ns  write open %6s ns  getppid %5s ns  exec %8s ns\n' \
		"$2" "${NAMES[$i]}" "$(cut -d' ' -f3 <<<"$rd")" "$(cut -d' ' -f3 <<<"$wr")" \
		"$(cut -d' ' -f3 <<<"$pp")" "$ex"
}

for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		run_config $(((k + r - 1) % ${#NAMES[@]})) "$r"
	done
done

declare -a MR MW MP ME
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	# shellcheck disable=SC2086
	MR[$i]=$(median ${RD[$i]:-})
	# shellcheck disable=SC2086
	MW[$i]=$(median ${WR[$i]:-})
	# shellcheck disable=SC2086
	MP[$i]=$(median ${PP[$i]:-})
	# shellcheck disable=SC2086
	ME[$i]=$(median ${EX[$i]:-})
done
echo
echo "ns per operation, median of $ROUNDS runs (pinned to CPU $CPU); x: against untraced,"
echo "last column: defaults + guard against the defaults"
echo
row tracer "read open+close" "x" "write open+close" "x" "getppid" "x" "fork+exec true" "x" \
	"ksight lost" "guard's added ns (ro open / wr open / getppid / exec)"
row --- ---: ---: ---: ---: ---: ---: ---: ---: ---: ---:
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	added=-
	[ "$i" = 2 ] && added="$(fmt "$(awk -v a="${MR[2]}" -v b="${MR[1]}" 'BEGIN{print a-b}')") / \
$(fmt "$(awk -v a="${MW[2]}" -v b="${MW[1]}" 'BEGIN{print a-b}')") / \
$(fmt "$(awk -v a="${MP[2]}" -v b="${MP[1]}" 'BEGIN{print a-b}')") / \
$(fmt "$(awk -v a="${ME[2]}" -v b="${ME[1]}" 'BEGIN{print a-b}')")"
	row "${NAMES[$i]}" "$(fmt "${MR[$i]}")" "$(ratio "${MR[$i]}" "${MR[0]}")" \
		"$(fmt "${MW[$i]}")" "$(ratio "${MW[$i]}" "${MW[0]}")" "$(fmt "${MP[$i]}")" \
		"$(ratio "${MP[$i]}" "${MP[0]}")" "$(fmt "${ME[$i]}")" \
		"$(ratio "${ME[$i]}" "${ME[0]}")" "$(echo ${LOST[$i]:--})" "$added"
done
bench_finish
