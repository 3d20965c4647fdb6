#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What tracing off-CPU time costs a scheduler-heavy load: `perf bench sched pipe` (two
# processes ping-pong one pipe, both pinned to CPU, so every op is two voluntary
# switches and two wake-ups), untraced and under each tracer.
#
#   [ROUNDS=5] [LOOPS=200000] [CPU=1] [SETTLE=1] bench/offcpu_cost.sh [BUILD]
#
# Each round starts every tracer in turn (the order rotates), waits until it is attached,
# runs the ping-pong and stops it (output to /dev/null):
#   ksight offcpu              sleeper stacks and waker stacks (sched_switch + sched_waking)
#   ksight offcpu --no-waker   sleeper stacks only: the same work as offcputime
#   offcputime                 libbpf-tools (Debian): sleeper stacks, no waker
#   ksight offcpu --all --no-waker  sleeper stacks at every switch-out, preempted too
#   ksight offcpu --read tasks no stacks: time blocked per process from the tasks' own
#                              counts at the end (the agent's way; no switch hook)
#   ksight profile             cpu-clock samples at 99 Hz (the base of the next)
#   ksight profile --wall      the samples and offcpu's kernel side with the run-queue
#                              split (stacks at every switch-out, preempted ones too)
# Prints the median us per op over ROUNDS and the ratio to untraced.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
LOOPS=${LOOPS:-200000}
NAMES=("untraced" "ksight offcpu" "ksight offcpu --no-waker" "offcputime" "ksight profile"
	"ksight profile --wall" "ksight offcpu --all --no-waker" "ksight offcpu --read tasks")

bench_init offcpu_cost "ROUNDS=$ROUNDS LOOPS=$LOOPS CPU=$CPU SETTLE=$SETTLE"
"$ROOT/scripts/install-deps.sh" linux-perf >/dev/null || exit 1

# pingpong OUTVAR: usecs per op of one run
pingpong()
{
	local __var=$1 out
	out=$(taskset -c "$CPU" perf bench sched pipe -l "$LOOPS" 2>&1 |
		awk '/usecs\/op/ { print $1 }')
	[ -n "$out" ] || { bench_fail "perf bench sched pipe gave no usecs/op"; out=-; }
	printf -v "$__var" '%s' "$out"
}

# one I: run the ping-pong under tracer I; prints its usecs/op
one()
{
	local err="$TMP/err.$1" us
	case $1 in
	0) pingpong us ;;
	1 | 2 | 6 | 7)
		local extra=()
		[ "$1" = 2 ] && extra=(--no-waker)
		[ "$1" = 6 ] && extra=(--all --no-waker)
		[ "$1" = 7 ] && extra=(--read tasks)
		start_tracer ksight "$err" "$KSIGHT" offcpu "${extra[@]}" || { echo -; return; }
		pingpong us
		stop_ksight "$TRACER_PID" "$err" "${NAMES[$1]}"
		;;
	4 | 5)
		local extra=()
		[ "$1" = 5 ] && extra=(--wall)
		start_tracer ksight "$err" "$KSIGHT" profile --folded "${extra[@]}" ||
			{ echo -; return; }
		pingpong us
		stop_ksight "$TRACER_PID" "$err" "${NAMES[$1]}"
		;;
	3)
		/usr/sbin/offcputime >/dev/null 2>"$err" &
		TRACER_PID=$!
		sleep 3
		if ! kill -0 "$TRACER_PID" 2>/dev/null; then
			bench_fail "offcputime died: $(tail -3 "$err" | tr '\n' ' ')"
			echo -
			return
		fi
		sleep "$SETTLE"
		pingpong us
		stop_peer "$TRACER_PID" "$err" offcputime
		;;
	esac
	echo "$us"
}

declare -A R
for ((r = 0; r < ROUNDS; r++)); do
	for ((j = 0; j < ${#NAMES[@]}; j++)); do
		i=$(((j + r) % ${#NAMES[@]}))
		R[$i]+="$(one "$i") "
	done
	echo "round $((r + 1)): $(for i in "${!NAMES[@]}"; do printf '%s=%s ' "${NAMES[$i]// /_}" \
		"$(awk '{ print $NF }' <<<"${R[$i]}")"; done)"
done

echo
row "tracer" "median us/op" "x untraced" "runs (us/op)"
row "---" "---" "---" "---"
base=$(median ${R[0]})
for i in "${!NAMES[@]}"; do
	# shellcheck disable=SC2086 # the runs are words
	m=$(median ${R[$i]})
	row "${NAMES[$i]}" "$(fmt "$m" %.3f)" "$(ratio "$m" "$base" %.3f)" "${R[$i]% }"
done
bench_finish
