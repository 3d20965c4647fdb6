#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What `ksight trace` costs per event on a hot tracepoint, against the bpftrace one-liner
# doing the same, and how long each takes to start.
#
#   [ROUNDS=5] [REPS=3] [N=500000] [CPU=1] [SETTLE=1] [LAUNCHES=5] [OLD=KSIGHT]
#   bench/trace_cost.sh [BUILD]
#
# 1. Cost: raw_syscalls:sys_enter counted (all hits; then per comm) by `ksight trace` and by
#    bpftrace. Each round runs every configuration in turn (the order rotates): start the
#    tracer, wait until attached, run getpid_loop pinned to CPU REPS times (N getpid calls,
#    ns per call; the round keeps the fastest run), stop it and check it counted at least
#    REPS * N hits. Medians over ROUNDS; the added ns per event is the cost.
# 2. Start-up: exec to attached, median of LAUNCHES (bench/helpers/readytime; stopped by
#    SIGINT 300 ms later: bpftrace hangs on one during its start): ksight's
#    "ready in" line; bpftrace's BEGIN probe, which runs once every probe is attached.
# 3. ns per run of each tracer's program on the tracepoint (STATS_SECS, 0: skipped): the
#    kernel's own run-time statistics (on while `ksight status --live` runs), which other
#    load on a shared machine barely moves, unlike wall time; bench/progstats.py samples
#    the tracer's busiest program over STATS_SECS while getpid_loop runs on CPU, every
#    tracer in turn, ROUNDS rounds, medians.
# The raw form (raw:raw_syscalls:sys_enter: the tracepoint's arguments by tp_btf, and by
# raw_tp with --hooks raw_tp) is measured beside the classic one in every part.
# OLD=/path/to/an/older/ksight adds its --count-by comm to the rounds (an A/B of a change
# to the program in the same run).
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
REPS=${REPS:-3}
N=${N:-500000}
LAUNCHES=${LAUNCHES:-5}
OLD=${OLD:-}
STATS_SECS=${STATS_SECS:-2}
LOOP=$BUILD/bench/helpers/getpid_loop
bench_init trace_cost "ROUNDS=$ROUNDS REPS=$REPS N=$N CPU=$CPU SETTLE=$SETTLE LAUNCHES=$LAUNCHES\
 STATS_SECS=$STATS_SECS${OLD:+ OLD=$OLD}"
TP=raw_syscalls:sys_enter
RAW=raw:$TP

NAMES=("untraced" "ksight trace (count)" "bpftrace (count)" "ksight trace --count-by comm"
       "bpftrace @[comm] = count()" "ksight trace raw: (count, tp_btf)"
       "ksight trace raw: --count-by comm" "ksight trace raw: --hooks raw_tp (count)")
[ -n "$OLD" ] && NAMES+=("OLD ksight trace --count-by comm")

# start_config I ERR OUT: start configuration I's tracer (not 0), writing to OUT.
start_config()
{
	local i=$1 err=$2 out=$3
	case $i in
	1) start_tracer ksight "$err" "$KSIGHT" trace "$TP" --json -o "json:$out" ;;
	2) start_tracer peer:1 "$err" bpftrace -o "$out" -e "tracepoint:$TP { @ = count(); }" ;;
	3) start_tracer ksight "$err" "$KSIGHT" trace "$TP" --count-by comm -o "json:$out" ;;
	4) start_tracer peer:1 "$err" bpftrace -o "$out" \
		-e "tracepoint:$TP { @[comm] = count(); }" ;;
	5) start_tracer ksight "$err" "$KSIGHT" trace "$RAW" --json -o "json:$out" ;;
	6) start_tracer ksight "$err" "$KSIGHT" trace "$RAW" --count-by comm -o "json:$out" ;;
	7) start_tracer ksight "$err" "$KSIGHT" trace "$RAW" --hooks raw_tp --json \
		-o "json:$out" ;;
	8) start_tracer ksight "$err" "$OLD" trace "$TP" --count-by comm -o "json:$out" ;;
	esac
}

# the configuration whose added time each is compared with: bpftrace's count or per comm
peer_of()
{
	case $1 in
	1 | 5 | 7) echo 2 ;;
	3 | 6 | 8) echo 4 ;;
	*) echo "" ;;
	esac
}
declare -a NS ADDED

# measure I OUT ERR: start configuration I, measure, stop; MRES="ns counted". Not in
# $(...): it must wait for the tracer, and failures are recorded in this shell.
measure()
{
	local i=$1 out=$2 err=$3 ns="" res j seen=0
	if [ "$i" != 0 ]; then
		start_config "$i" "$err" "$out" || return 1
	fi
	for ((j = 0; j < REPS; j++)); do
		res=$(taskset -c "$CPU" "$LOOP" "$N" | cut -d' ' -f4)
		ns=$(printf '%s\n' $ns "$res" | sort -g | head -1)
	done
	case $i in
	0) seen=$((REPS * N)) ;;
	1 | 5 | 7) stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}"
	   seen=$(sed -n 's/.*"type":"trace_total".*"hits":\([0-9]*\).*/\1/p' "$out" | head -1) ;;
	3 | 6 | 8) stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}"
	   seen=$(sed -n 's/.*"comm":"getpid_loop","count":\([0-9]*\).*/\1/p' "$out" | head -1) ;;
	2) stop_peer "$TRACER_PID" "$err" "${NAMES[$i]}"
	   seen=$(sed -n 's/^@: \([0-9]*\)/\1/p' "$out" | head -1) ;;
	4) stop_peer "$TRACER_PID" "$err" "${NAMES[$i]}"
	   seen=$(sed -n 's/^@\[getpid_loop\]: \([0-9]*\)/\1/p' "$out" | head -1) ;;
	esac
	if [ "${seen:-0}" -lt $((REPS * N)) ]; then
		bench_fail "${NAMES[$i]} counted ${seen:-0} hits, fewer than $((REPS * N))"
	fi
	MRES="$ns ${seen:-0}"
}

echo
echo "-- cost per event ($TP, getpid_loop N=$N pinned to CPU $CPU)"
for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		i=$(((k + r - 1) % ${#NAMES[@]}))
		measure "$i" "$TMP/out.$i.$r" "$TMP/err.$i.$r" || continue
		res=$MRES
		NS[$i]+=" ${res%% *}"
		printf '  round %d  %-30s %8s ns/call  (counted %s)\n' "$r" "${NAMES[$i]}" \
			"${res%% *}" "${res##* }"
	done
done
echo
row "configuration" "median ns/call" "added ns/event" "x bpftrace's added" "runs (ns/call)"
row "---" "---" "---" "---" "---"
# shellcheck disable=SC2086
base=$(median ${NS[0]:-})
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	# shellcheck disable=SC2086
	m=$(median ${NS[$i]:-})
	added=$(awk -v m="$m" -v b="$base" 'BEGIN { if (m == "-" || b == "-") print "-";
		else printf "%.1f\n", m - b }')
	vs=-
	pi=$(peer_of "$i")
	if [ -n "$pi" ]; then
		# shellcheck disable=SC2086
		p=$(median ${NS[$pi]:-})
		vs=$(ratio "$added" "$(awk -v p="$p" -v b="$base" 'BEGIN {
			if (p == "-" || b == "-") print "-"; else print p - b }')")
	fi
	ADDED[$i]=$added
	row "${NAMES[$i]}" "$(fmt "$m" %.1f)" "$added" "$vs" "${NS[$i]# }"
done
echo "raw: against classic, added time: count $(ratio "${ADDED[5]}" "${ADDED[1]}")x" \
	"(raw_tp $(ratio "${ADDED[7]}" "${ADDED[1]}")x), --count-by comm" \
	"$(ratio "${ADDED[6]}" "${ADDED[3]}")x"

echo
echo "-- start-up: exec to attached (median of $LAUNCHES)"
MARK=$TMP/trace-ready-marker
: >"$MARK"
declare -a KS KR BT
for ((l = 0; l < LAUNCHES; l++)); do
	out=$("$HELPERS/readytime" -s 300 "$KSIGHT" trace "$TP" 2>"$TMP/rt.err") ||
		bench_fail "ksight trace start-up: $(tail -2 "$TMP/rt.err" | tr '\n' ' ')"
	KS+=("$(awk '{print $2}' <<<"$out")")
	out=$("$HELPERS/readytime" -s 300 "$KSIGHT" trace "$RAW" 2>"$TMP/rt.err") ||
		bench_fail "ksight trace raw: start-up: $(tail -2 "$TMP/rt.err" | tr '\n' ' ')"
	KR+=("$(awk '{print $2}' <<<"$out")")
	out=$("$HELPERS/readytime" -s 300 -e "$MARK" bpftrace \
		-e "BEGIN { printf(\"%s\\n\", \"$MARK\"); } tracepoint:$TP { @ = count(); }" \
		2>"$TMP/rt.err") ||
		bench_fail "bpftrace start-up: $(tail -2 "$TMP/rt.err" | tr '\n' ' ')"
	BT+=("$(awk '{print $2}' <<<"$out")")
done
ks=$(median "${KS[@]}")
kr=$(median "${KR[@]}")
bt=$(median "${BT[@]}")
row "tracer" "median ms" "target" "verdict" "runs (ms)"
row "---" "---" "---" "---" "---"
row "ksight trace $TP" "$(fmt "$ks" %.1f)" "<= 150" "$(verdict "$ks" "<=" 150)" "${KS[*]}"
row "ksight trace $RAW" "$(fmt "$kr" %.1f)" "<= 150" "$(verdict "$kr" "<=" 150)" "${KR[*]}"
row "bpftrace one-liner" "$(fmt "$bt" %.1f)" "-" "-" "${BT[*]}"
echo "ksight trace starts $(ratio "$bt" "$ks" %.1f)x faster than bpftrace"

# stats_run I R: configuration I's busiest program over STATS_SECS of getpid_loop.
declare -a RUNNS
# shellcheck disable=SC2317 # called by rotate_rounds
stats_run()
{
	local i=$1 out="$TMP/sout.$1.$2" err="$TMP/serr.$1.$2" loop res
	[ "$i" = 0 ] && return	# untraced: no program
	# MRES is unused here: measure()'s tracer start and stop, without its loop
	start_config "$i" "$err" "$out" || return
	taskset -c "$CPU" "$LOOP" 1000000000 >/dev/null &
	loop=$!
	sleep 0.2
	res=$(python3 "$BENCH_DIR/progstats.py" "$TRACER_PID" "$STATS_SECS" |
		sort -k5,5 -g | tail -1 | awk '{ print $7 }')
	kill "$loop"
	wait "$loop" 2>/dev/null
	case $i in
	2 | 4) stop_peer "$TRACER_PID" "$err" "${NAMES[$i]}" ;;
	*) stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}" ;;
	esac
	RUNNS[$i]+=" ${res:--}"
	printf '  round %d  %-34s %6s ns/run\n' "$2" "${NAMES[$i]}" "${res:--}"
}

if [ "$STATS_SECS" != 0 ]; then
	echo
	echo "-- ns per run of the program on $TP (kernel's statistics, median of $ROUNDS)"
	"$KSIGHT" status --live --json 1 >/dev/null 2>"$TMP/live.err" &
	LIVE=$!
	sleep 1
	rotate_rounds stats_run
	stop_tracer "$LIVE"
	row "configuration" "median ns/run" "x bpftrace's" "runs (ns/run)"
	row "---" "---" "---" "---"
	for ((i = 1; i < ${#NAMES[@]}; i++)); do
		# shellcheck disable=SC2086
		m=$(median ${RUNNS[$i]:-})
		vs=-
		pi=$(peer_of "$i")
		# shellcheck disable=SC2086
		[ -n "$pi" ] && vs=$(ratio "$m" "$(median ${RUNNS[$pi]:-})")
		row "${NAMES[$i]}" "$m" "$vs" "${RUNNS[$i]# }"
	done
fi
bench_finish
