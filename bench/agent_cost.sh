#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What the agent costs every syscall of the machine: ns per 1-byte read() of /dev/zero and
# per getppid() under `ksight run` (every module at its defaults, system-wide), against no
# tracer, the libbpf-tools set and the bpftrace set running together (bench/agent_common.sh
# says which tools and how), and floortrace (bench/helpers/floortrace.c) as the floor of
# any tracer on the syscall tracepoints here.
#
#   [ROUNDS=5] [REPS=3] [N=1000000] [NPPID=1000000] [CPU=1] [SETTLE=1] [STATS_SECS=4]
#   [PEER_PROBE_SECS=20] bench/agent_cost.sh [BUILD]
#
# Each round runs every configuration once, in an order that rotates from round to round
# (untraced among them): rwloop pinned to CPU reads /dev/zero 1 byte at a time, N calls,
# REPS times over (the fastest run counts: the one least disturbed by other load), then
# another rwloop makes NPPID getppid calls likewise, with the tracer attached throughout,
# writing to /dev/null. The floor rows: floortrace `attach` (one empty sys_exit program),
# `stream` (a 48-byte record per read of the loop's pid, untimed) and `latency` (the same,
# timed, which adds a sys_enter program as the agent has) and `sums` (the agent's syscall
# job at its least: every syscall of the machine counted, each read's bytes added to its
# process and fd's row, plain adds, no filter). Prints the median ns per call
# of each configuration over ROUNDS and the added ns against untraced.
# Then, unmeasured (statistics add their own cost), one pass with `ksight run` up and
# `ksight status --live` sampling every second: ns per run of the agent's sys_enter and
# sys_exit programs (and every other program of it that ran) during STATS_SECS of reads,
# then of getppid, from the 1-second intervals inside each.
# shellcheck source=SCRIPTDIR/agent_common.sh
. "$(dirname "$0")/agent_common.sh"
ROUNDS=${ROUNDS:-5}
REPS=${REPS:-3}
N=${N:-1000000}
NPPID=${NPPID:-1000000}
STATS_SECS=${STATS_SECS:-4}
agent_init agent_cost "ROUNDS=$ROUNDS REPS=$REPS N=$N NPPID=$NPPID CPU=$CPU SETTLE=$SETTLE\
 STATS_SECS=$STATS_SECS PEER_PROBE_SECS=$PEER_PROBE_SECS"

NAMES=("untraced" "ksight run" "$(set_label lt)" "$(set_label bt)"
	"floor: empty sys_exit program" "floor: stream each read (untimed)"
	"floor: stream each read, timed (adds sys_enter)"
	"floor: count every syscall, sum reads per fd")
declare -a READ PPID_NS LOST

run_config()
{
	local i=$1 r=$2 err="$TMP/err.$1.$2" read_ns
	loop_start -c "$CPU" -n "$N" -r "$REPS" zero
	case $i in
	1) start_ksight "$err" run ;;
	2) set_start lt ;;
	3) set_start bt ;;
	4) start_floor "$err" attach -p "$LOOP_PID" ;;
	5) start_floor "$err" stream -p "$LOOP_PID" ;;
	6) start_floor "$err" latency -p "$LOOP_PID" ;;
	7) start_floor "$err" sums -p "$LOOP_PID" ;;
	esac || { loop_abort; return; }
	loop_run
	READ[$i]+=" $LOOP_NS"
	read_ns=$LOOP_NS
	loop_start -c "$CPU" -n "$NPPID" -r "$REPS" getppid
	loop_run
	PPID_NS[$i]+=" $LOOP_NS"
	row_stop "$i" "$err"
	printf '  round %d  %-50s read %7s ns  getppid %6s ns%s\n' "$r" "${NAMES[$i]}" \
		"$read_ns" "$LOOP_NS" "$ROW_NOTE"
}

for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		run_config $(((k + r - 1) % ${#NAMES[@]})) "$r"
	done
done

# The statistics pass. STATS holds "phase program ns_per_run runs_per_s" lines.
STATS=
stats_pass()
{
	local err="$TMP/err.stats" live="$TMP/live.json" op t0 t1 windows=""
	start_ksight "$err" run || return
	"$KSIGHT" status --live --json 1 >"$live" 2>"$TMP/live.err" &
	local live_pid=$!
	sleep 1.5
	for op in zero getppid; do
		t0=$EPOCHREALTIME
		if ! "$RWLOOP" -w -c "$CPU" -d "$STATS_SECS" "$op" >/dev/null; then
			bench_fail "rwloop $op in the statistics pass"
		fi
		t1=$EPOCHREALTIME
		windows+=" $op $t0 $t1"
	done
	sleep 1.2
	stop_tracer "$live_pid"
	[ "$STOP_STATUS" = 0 ] || bench_fail "ksight status --live exited $STOP_STATUS:" \
		"$(tail -2 "$TMP/live.err" | tr '\n' ' ')"
	stop_ksight "$TRACER" "$err"
	# shellcheck disable=SC2086
	STATS=$(python3 - "$live" "$TRACER" $windows <<'EOF'
import datetime, json, sys
path, pid, w = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
windows = [(w[i], float(w[i + 1]), float(w[i + 2])) for i in range(0, len(w), 3)]
acc = {}
for line in open(path):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("type") != "prog_stats" or r.get("pid") != pid:
        continue
    end = datetime.datetime.strptime(r["ts"][:26], "%Y-%m-%dT%H:%M:%S.%f").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    for phase, a, b in windows:
        if end - 1.0 >= a and end <= b:	# a 1-second interval inside the loop
            k = (phase, r["prog"])
            runs, ns, n = acc.get(k, (0, 0, 0))
            acc[k] = (runs + r["runs_per_s"], ns + r["runs_per_s"] * r["ns_per_run"], n + 1)
for (phase, prog), (runs, ns, n) in sorted(acc.items()):
    if runs:	# ns per run over the intervals, and their mean runs per second
        print(phase, prog, "%.0f" % (ns / runs), "%.0f" % (runs / n))
EOF
)
	[ -n "$STATS" ] || bench_fail "statistics pass: no interval of ksight status --live inside" \
		"the loops (STATS_SECS=$STATS_SECS must be >= 2)"
	echo "statistics pass (ksight status --live: phase, program, ns per run, runs/s):"
	sed 's/^/  /' <<<"$STATS"
}
stats_pass

echo
echo "1-byte read() of /dev/zero and getppid(), ns per call, median of $ROUNDS rounds" \
	"(CPU $CPU; fastest of $REPS runs of $N reads, $NPPID getppid per round)"
echo
row tracer "read ns" "x untraced" "added ns" "getppid ns" "x untraced" "added ns" "lost"
row --- ---: ---: ---: ---: ---: ---: ---:
declare -a MR MP ADDR ADDP
# shellcheck disable=SC2086
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	MR[$i]=$(median ${READ[$i]:-})
	MP[$i]=$(median ${PPID_NS[$i]:-})
done
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	ADDR[$i]=$(awk -v a="${MR[$i]}" -v b="${MR[0]}" 'BEGIN { if (a == "-" || b == "-")
		print "-"; else printf "%+.0f\n", a - b }')
	ADDP[$i]=$(awk -v a="${MP[$i]}" -v b="${MP[0]}" 'BEGIN { if (a == "-" || b == "-")
		print "-"; else printf "%+.0f\n", a - b }')
	lost=-
	# shellcheck disable=SC2086
	[ -n "${LOST[$i]:-}" ] && lost=$(printf '%s\n' ${LOST[$i]} | awk '
		$1 == "-" { u = 1 } { s += $1 } END { print u ? "-" : s }')
	row "${NAMES[$i]}" "${MR[$i]}" "$(ratio "${MR[$i]}" "${MR[0]}")" "${ADDR[$i]}" \
		"${MP[$i]}" "$(ratio "${MP[$i]}" "${MP[0]}")" "${ADDP[$i]}" "$lost"
done
echo
echo "ksight run's programs, ns per run (BPF statistics on: a separate pass; intervals of" \
	"${STATS_SECS} s of reads, then of getppid, pinned to CPU $CPU)"
echo
row program "ns/run, reads" "runs/s, reads" "ns/run, getppid" "runs/s, getppid"
row --- ---: ---: ---: ---:
for p in $(awk '{ print $2 }' <<<"$STATS" | sort -u); do
	# only the syscall programs, and any other that ran at a syscall loop's pace
	cells=$(awk -v p="$p" '$2 == p { v[$1] = $3; n[$1] = $4 } END {
		printf "%s %s %s %s\n", v["zero"] ? v["zero"] : "-", n["zero"] ? n["zero"] : "-",
			v["getppid"] ? v["getppid"] : "-", n["getppid"] ? n["getppid"] : "-" }' \
		<<<"$STATS")
	read -r a b c d <<<"$cells"
	case $p in
	core__sys_enter* | core__sys_exit*) ;;
	*) [ "$b" != - ] && [ "$b" -ge 1000 ] || continue ;;
	esac
	row "$p" "$a" "$b" "$c" "$d"
done
echo
printf 'target ksight run: read    %s ns <= +150: %s  (floor: empty sys_exit %s, timed stream %s, the sums alone %s)\n' \
	"${ADDR[1]}" "$(verdict "${ADDR[1]#+}" "<=" 150)" "${ADDR[4]}" "${ADDR[6]}" "${ADDR[7]}"
printf 'target ksight run: getppid %s ns <= +110: %s  (floor: empty sys_exit %s, timed stream %s, the sums alone %s)\n' \
	"${ADDP[1]}" "$(verdict "${ADDP[1]#+}" "<=" 110)" "${ADDP[4]}" "${ADDP[6]}" "${ADDP[7]}"
rw_finish
