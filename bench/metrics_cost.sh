#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What a `ksight run --metrics` counter costs per event on a hot tracepoint, against
# `ksight trace --count-by` (the same generic program) and the bpftrace one-liner.
#
#   [ROUNDS=5] [REPS=3] [N=500000] [CPU=1] [SETTLE=1] bench/metrics_cost.sh [BUILD]
#
# raw_syscalls:sys_enter counted per comm. Configurations: untraced; the agent with only
# biolat (which no getpid touches) and no file: its own base; the same agent with a YAML
# counter keyed by comm; `ksight trace --count-by comm`; bpftrace `@[comm] = count()`.
# Each round runs every configuration in turn (the order rotates): start, wait until
# attached, getpid_loop pinned to CPU REPS times (N calls each, the fastest run kept), then
# check the count (the agent's from its /metrics, after one more interval) is at least
# REPS * N. Medians over ROUNDS; the YAML counter's cost is its agent minus the agent base.
# --metrics samples the kernel's BPF run-time statistics (each metric's cost is shown): on
# for the first interval, then one in ten; the YAML counter is measured between windows
# (after its first interval), and the last configuration is ksight trace with them on (held
# by a small process), to tell the program's cost from the statistics': the counter's
# average is its cost between windows plus a tenth of theirs.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
REPS=${REPS:-3}
N=${N:-500000}
LOOP=$BUILD/bench/helpers/getpid_loop
bench_init metrics_cost "ROUNDS=$ROUNDS REPS=$REPS N=$N CPU=$CPU SETTLE=$SETTLE"
TP=raw_syscalls:sys_enter
PORT=$((20000 + $$ % 20000))
YAML=$TMP/m.yaml
cat >"$YAML" <<EOT
metrics:
  - name: bench_syscalls_total
    type: counter
    probe: $TP
    labels: [comm]
EOT

NAMES=("untraced" "agent (biolat only)" "agent + YAML counter by comm (between windows)"
       "ksight trace --count-by comm" "bpftrace @[comm] = count()"
       "trace --count-by comm, BPF stats on")
# BPF_ENABLE_STATS(BPF_STATS_RUN_TIME) held by a process: what --metrics (and --bpf)
# switch on to show each program's cost
STATS_HOLDER='import ctypes, time
a = ctypes.create_string_buffer(8)
fd = ctypes.CDLL(None, use_errno=True).syscall(321, 32, a, 8)
assert fd >= 0, ctypes.get_errno()
print("held", flush=True)
time.sleep(3600)'
HOLDER=
declare -a NS

agent()
{
	start_tracer ksight "$2" "$KSIGHT" run --modules biolat --no-store \
		--listen "127.0.0.1:$PORT" "${@:3}" 1
}

measure()
{
	local i=$1 out=$2 err=$3 ns="" res j seen=0
	case $i in
	0) ;;
	1) agent "$out" "$err" || return 1 ;;
	2) agent "$out" "$err" --metrics "$YAML" || return 1
	   sleep 1.3 ;;	# past the first interval: the statistics' first window
	3) start_tracer ksight "$err" "$KSIGHT" trace "$TP" --count-by comm -o "json:$out" ||
		return 1 ;;
	4) start_tracer peer:1 "$err" bpftrace -o "$out" \
		-e "tracepoint:$TP { @[comm] = count(); }" || return 1 ;;
	5) python3 -c "$STATS_HOLDER" >"$TMP/holder" &
	   HOLDER=$!
	   wait_line "$TMP/holder" held "$HOLDER" 10 || { bench_fail "no stats holder"; return 1; }
	   start_tracer ksight "$err" "$KSIGHT" trace "$TP" --count-by comm -o "json:$out" ||
		return 1 ;;
	esac
	for ((j = 0; j < REPS; j++)); do
		res=$(taskset -c "$CPU" "$LOOP" "$N" | cut -d' ' -f4)
		ns=$(printf '%s\n' $ns "$res" | sort -g | head -1)
	done
	case $i in
	0 | 1) seen=$((REPS * N))
	   [ "$i" = 1 ] && stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}" ;;
	2) sleep 1.5
	   seen=$(curl -s "http://127.0.0.1:$PORT/metrics" |
		sed -n 's/^ksight_bench_syscalls_total{comm="getpid_loop"} \([0-9]*\)$/\1/p')
	   stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}" ;;
	3 | 5) stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}"
	   [ "$i" = 5 ] && kill "$HOLDER" && wait "$HOLDER" 2>/dev/null
	   seen=$(sed -n 's/.*"comm":"getpid_loop","count":\([0-9]*\).*/\1/p' "$out" | head -1) ;;
	4) stop_peer "$TRACER_PID" "$err" "${NAMES[$i]}"
	   seen=$(sed -n 's/^@\[getpid_loop\]: \([0-9]*\)/\1/p' "$out" | head -1) ;;
	esac
	if [ "${seen:-0}" -lt $((REPS * N)) ]; then
		bench_fail "${NAMES[$i]} counted ${seen:-0} hits, fewer than $((REPS * N))"
	fi
	MRES="$ns ${seen:-0}"
}

echo
echo "-- cost per event ($TP by comm, getpid_loop N=$N pinned to CPU $CPU)"
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
# shellcheck disable=SC2086
base=$(median ${NS[0]:-})
# shellcheck disable=SC2086
abase=$(median ${NS[1]:-})
# shellcheck disable=SC2086
bt=$(awk -v p="$(median ${NS[4]:-})" -v b="$base" 'BEGIN { if (p == "-" || b == "-")
	print "-"; else print p - b }')
row "configuration" "median ns/call" "added ns/event" "x bpftrace's added" "runs (ns/call)"
row "---" "---" "---" "---" "---"
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	# shellcheck disable=SC2086
	m=$(median ${NS[$i]:-})
	ref=$base
	[ "$i" = 2 ] && ref=$abase	# the counter's own cost: over its agent's base
	added=$(awk -v m="$m" -v b="$ref" 'BEGIN { if (m == "-" || b == "-") print "-";
		else printf "%.1f\n", m - b }')
	vs=-
	case $i in 2 | 3 | 5) vs=$(ratio "$added" "$bt") ;; esac
	row "${NAMES[$i]}" "$(fmt "$m" %.1f)" "$added" "$vs" "${NS[$i]# }"
done
bench_finish
