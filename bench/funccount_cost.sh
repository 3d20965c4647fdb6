#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What `ksight funccount` costs counting tracepoints (perf counters, no BPF program)
# against bpftrace's count (a BPF program per tracepoint) and `perf stat -a` (the same
# counters as ksight), and how long each takes to start.
#
#   [ROUNDS=5] [REPS=3] [N=500000] [NFORK=2000] [CPU=1] [SETTLE=1] [LAUNCHES=5]
#   [WORKLOADS="getpid fork"] bench/funccount_cost.sh [BUILD]
#
# 1. Cost, two workloads, each with every configuration in turn per round (the order
#    rotates): untraced, `ksight funccount PATTERN`, `perf stat -a -e PATTERN`, bpftrace
#    `tracepoint:PATTERN { @[probe] = count(); }`. Start the tracer, wait until attached,
#    run the loop pinned to CPU REPS times (the round keeps the fastest run), stop the
#    tracer and check it counted at least every call:
#      getpid: syscalls:sys_enter_getpid, getpid_loop N (ns per getpid);
#      fork:   sched:* (every scheduler tracepoint), forkloop -n NFORK fork (ns per
#              fork+exit+wait; the check is on sched_process_fork).
#    Medians over ROUNDS; the added ns per operation is the cost; the minimums beside them
#    (a fork is ~120 us here: other sessions' bursts swamp its medians).
# 2. Start-up: exec to attached, median of LAUNCHES (bench/helpers/readytime, SIGINT 300 ms
#    later): ksight's "ready in" line, bpftrace's BEGIN probe (run once every probe is
#    attached). perf stat prints nothing when ready: not timed. perf stat is started with
#    its counters disabled and enabled through its control FIFO once they are all open.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
REPS=${REPS:-3}
N=${N:-500000}
NFORK=${NFORK:-2000}
LAUNCHES=${LAUNCHES:-5}
WORKLOADS=${WORKLOADS:-getpid fork}
bench_init funccount_cost "ROUNDS=$ROUNDS REPS=$REPS N=$N NFORK=$NFORK CPU=$CPU SETTLE=$SETTLE \
LAUNCHES=$LAUNCHES WORKLOADS=\"$WORKLOADS\""

NAMES=("untraced" "ksight funccount" "perf stat -a" "bpftrace @[probe] = count()")
TRACEFS=/sys/kernel/tracing
[ -d "$TRACEFS/events" ] || TRACEFS=/sys/kernel/debug/tracing
NCPU=$(nproc)
declare -a NS

# workload W: sets PAT (the tracepoints), CHECK (the one whose count is checked), NTP (how
# many tracepoints PAT names), OPS (operations per run) and UNIT.
workload()
{
	case $1 in
	getpid) PAT=syscalls:sys_enter_getpid; CHECK=$PAT; OPS=$N; UNIT="ns/getpid" ;;
	fork) PAT='sched:*'; CHECK=sched:sched_process_fork; OPS=$NFORK; UNIT="ns/fork" ;;
	esac
	NTP=$(find "$TRACEFS/events/${PAT%%:*}" -mindepth 1 -maxdepth 1 -type d \
		-name "${PAT#*:}" | wc -l)
}

# loop W: one run of W's loop pinned to CPU: ns per operation, or "-".
loop()
{
	local out
	if [ "$1" = getpid ]; then
		out=$(taskset -c "$CPU" "$HELPERS/getpid_loop" "$N") && cut -d' ' -f4 <<<"$out" &&
			return
	else
		out=$(taskset -c "$CPU" "$HELPERS/forkloop" -n "$NFORK" fork) &&
			awk '{ print $6 }' <<<"$out" && return
	fi
	bench_fail "$1 loop: $out"
	echo -
}

# measure W I OUT ERR: configuration I on workload W; MRES="ns counted". Not in $(...):
# it must wait for the tracer, and failures are recorded in this shell.
measure()
{
	local w=$1 i=$2 out=$3 err=$4 ns="" res j seen=0
	case $i in
	0) ;;
	1) start_tracer ksight "$err" "$KSIGHT" funccount "t:$PAT" --json -o "json:$out" ||
		return 1 ;;
	2) perf_start "$err" "$out" || return 1 ;;
	3) start_tracer "peer:$NTP" "$err" bpftrace -o "$out" \
		-e "tracepoint:$PAT { @[probe] = count(); }" || return 1 ;;
	esac
	for ((j = 0; j < REPS; j++)); do
		res=$(loop "$w")
		# shellcheck disable=SC2086 # the runs so far, one a word
		ns=$(printf '%s\n' $ns "$res" | grep -v '^-$' | sort -g | head -1)
	done
	case $i in
	0) seen=$((REPS * OPS)) ;;
	1) stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}"
	   seen=$(sed -n "s/.*\"count\":\([0-9]*\),\"kind\":\"tracepoint\",\"probe\":\"$CHECK\".*/\1/p" \
		"$out" | head -1) ;;
	2) stop_tracer "$TRACER_PID"	# perf stat ends with 130 on SIGINT, its counts written
	   [ "$STOP_STATUS" = 0 ] || [ "$STOP_STATUS" = 130 ] ||
		bench_fail "${NAMES[$i]} exited $STOP_STATUS: $(tail -3 "$err" | tr '\n' ' ')"
	   seen=$(sed -n "s/^\([0-9]*\),,$CHECK,.*/\1/p" "$out" | head -1) ;;
	3) stop_peer "$TRACER_PID" "$err" "${NAMES[$i]}"
	   seen=$(sed -n "s/^@\[tracepoint:$CHECK\]: \([0-9]*\)/\1/p" "$out" | head -1) ;;
	esac
	if [ "${seen:-0}" -lt $((REPS * OPS)) ]; then
		bench_fail "$w: ${NAMES[$i]} counted ${seen:-0} $CHECK, fewer than $((REPS * OPS))"
	fi
	MRES="${ns:--} ${seen:-0}"
}

# perf_start ERR OUT: perf stat started with its counters disabled (-D -1), enabled once
# every one is open through its control FIFO, and its "ack" waited for: attached means
# counting (counters merely open can start late on a loaded machine).
perf_start()
{
	rm -f "$TMP/ctl" "$TMP/ack"
	mkfifo "$TMP/ctl" "$TMP/ack" || return 1
	start_tracer "fds:$((NTP * NCPU))" "$1" perf stat -a -x, -e "$PAT" -D -1 \
		--control "fifo:$TMP/ctl,$TMP/ack" -o "$2" || return 1
	# shellcheck disable=SC2016 # the inner shell's $1
	if ! timeout 10 sh -c 'echo enable >"$1"' _ "$TMP/ctl" ||
	   [ "$(timeout 10 head -c 3 "$TMP/ack")" != ack ]; then
		bench_fail "perf stat: no ack of enable ($(tail -2 "$1" | tr '\n' ' '))"
		stop_tracer "$TRACER_PID"
		return 1
	fi
}

# minimum VALUES...: the smallest numeric value, or "-" (noise on a shared machine only
# adds: the steadier figure when the load comes and goes).
minimum()
{
	printf '%s\n' "$@" | grep -E '^[0-9.eE+-]+$' | sort -g | head -1 | grep . || echo -
}

# added M: M minus the untraced median, or "-".
added()
{
	awk -v m="$1" -v b="$BASE" 'BEGIN { if (m == "-" || b == "-") print "-";
		else printf "%.1f\n", m - b }'
}

for w in $WORKLOADS; do
	workload "$w"
	NS=()
	echo
	echo "-- $w: $PAT ($NTP tracepoints), loop pinned to CPU $CPU"
	for ((r = 1; r <= ROUNDS; r++)); do
		for ((k = 0; k < ${#NAMES[@]}; k++)); do
			i=$(((k + r - 1) % ${#NAMES[@]}))
			measure "$w" "$i" "$TMP/out.$w.$i.$r" "$TMP/err.$w.$i.$r" || continue
			NS[i]+=" ${MRES%% *}"
			printf '  round %d  %-30s %10s %s  (counted %s)\n' "$r" "${NAMES[$i]}" \
				"${MRES%% *}" "$UNIT" "${MRES##* }"
		done
	done
	echo
	row "$w: configuration" "median $UNIT" "added $UNIT" "x bpftrace's added" \
		"x perf's added" "minimum" "added to the minimum" "runs"
	row "---" "---" "---" "---" "---" "---" "---" "---"
	# shellcheck disable=SC2086
	BASE=$(median ${NS[0]:-})
	# shellcheck disable=SC2086
	MBASE=$(minimum ${NS[0]:-})
	# shellcheck disable=SC2086
	pa=$(added "$(median ${NS[2]:-})")
	# shellcheck disable=SC2086
	ba=$(added "$(median ${NS[3]:-})")
	for ((i = 0; i < ${#NAMES[@]}; i++)); do
		# shellcheck disable=SC2086
		m=$(median ${NS[$i]:-})
		a=$(added "$m")
		vb=-
		vp=-
		[ "$i" = 0 ] || vb=$(ratio "$a" "$ba")
		[ "$i" = 0 ] || vp=$(ratio "$a" "$pa")
		# shellcheck disable=SC2086
		lo=$(minimum ${NS[$i]:-})
		row "${NAMES[$i]}" "$(fmt "$m" %.1f)" "$a" "$vb" "$vp" "$(fmt "$lo" %.1f)" \
			"$(BASE=$MBASE added "$lo")" "${NS[$i]# }"
	done
done

echo
echo "-- start-up: exec to attached (median of $LAUNCHES)"
MARK=$TMP/funccount-ready-marker
: >"$MARK"
row "tracer" "median ms" "runs (ms)"
row "---" "---" "---"
for w in $WORKLOADS; do
	workload "$w"
	KS=()
	BT=()
	for ((l = 0; l < LAUNCHES; l++)); do
		out=$("$HELPERS/readytime" -s 300 "$KSIGHT" funccount "t:$PAT" 2>"$TMP/rt.err") ||
			bench_fail "ksight funccount $PAT start-up: $(tail -2 "$TMP/rt.err" | tr '\n' ' ')"
		KS+=("$(awk '{print $2}' <<<"$out")")
		out=$("$HELPERS/readytime" -s 300 -e "$MARK" bpftrace \
			-e "BEGIN { printf(\"%s\\n\", \"$MARK\"); } tracepoint:$PAT { @[probe] = count(); }" \
			2>"$TMP/rt.err") ||
			bench_fail "bpftrace $PAT start-up: $(tail -2 "$TMP/rt.err" | tr '\n' ' ')"
		BT+=("$(awk '{print $2}' <<<"$out")")
	done
	ks=$(median "${KS[@]}")
	bt=$(median "${BT[@]}")
	row "ksight funccount 't:$PAT'" "$(fmt "$ks" %.1f)" "${KS[*]}"
	row "bpftrace, $NTP tracepoints" "$(fmt "$bt" %.1f)" "${BT[*]}"
	echo "$PAT: ksight funccount starts $(ratio "$bt" "$ks" %.1f)x faster than bpftrace"
done
bench_finish
