#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What the scheduler tools cost a switch-heavy load: a pipe ping-pong (perf bench sched
# pipe: two processes pinned to one CPU pass a token N times, 2 switches and 2 wakeups a
# round) untraced and under ksight runqlat, cpudist, sched and mem, libbpf-tools runqlat
# and cpudist, bpftrace running a runqlat-equivalent script, and the floor: floortrace's
# empty programs (bench/helpers/floortrace.c) on the hooks any runqlat (sched_switch and
# both wakeups) or cpudist (sched_switch) must attach, tp_btf (raw_tp, and so named, if
# the kernel refuses it), and floortrace's minimal runqlat (a task-storage stamp at wakeup
# and at a preemption, a per-CPU log2 histogram at switch-in: the least a runqlat can
# measure with), so a target below what this kernel allows any tracer shows.
#
#   [ROUNDS=5] [REPS=3] [N=200000] [CPU=1] [SETTLE=1] bench/sched_cost.sh [BUILD]
#
# Each round runs every configuration in turn (the order rotates each round): start the
# tracer, wait until it says it is attached, let it settle, run the ping-pong pinned to
# CPU REPS times (the round keeps the fastest, the one least disturbed by other load),
# stop the tracer with SIGINT and check it printed what it measured. Two figures per
# round trip: wall time (perf's usecs/op) and CPU time (user + system of both processes,
# from getrusage: the programs on the scheduler's tracepoints run in their context, so
# this counts what tracing adds and little of the waits for a CPU that other load on a
# shared machine causes). Prints each configuration's medians over ROUNDS (and the
# range), its slowdown against untraced, and its added cost against the cheapest peer's.
# Needs root; installs libbpf-tools, bpftrace and perf if missing (Debian 12).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(readlink -f "${1:-$ROOT/build}")
KSIGHT=$BUILD/ksight
FLOOR=$BUILD/bench/helpers/floortrace
ROUNDS=${ROUNDS:-5}
REPS=${REPS:-3}
N=${N:-200000}
CPU=${CPU:-1}
SETTLE=${SETTLE:-1}
TRACER=
TMP=

if [ "$(id -u)" != 0 ]; then
	echo "sched_cost: must run as root (it loads BPF programs)" >&2
	exit 1
fi
if [ ! -x "$KSIGHT" ] || [ ! -x "$FLOOR" ]; then
	echo "sched_cost: $KSIGHT or $FLOOR missing: run 'make all helpers'" >&2
	exit 1
fi
"$ROOT/scripts/install-deps.sh" libbpf-tools bpftrace linux-perf util-linux time || exit 1

cleanup()
{
	[ -n "$TRACER" ] && kill -KILL "$TRACER" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
}
TMP=$(mktemp -d /tmp/ksight-bench.XXXXXX)
trap cleanup EXIT
trap 'exit 130' INT TERM

# runqlat as bpftrace writes it: a start stamp at wakeup or at a switch-out still
# runnable, a log2 histogram of microseconds at switch-in.
cat >"$TMP/runqlat.bt" <<'EOF'
tracepoint:sched:sched_wakeup, tracepoint:sched:sched_wakeup_new
{
	@qtime[args->pid] = nsecs;
}
tracepoint:sched:sched_switch
{
	if (args->prev_state == 0) {
		@qtime[args->prev_pid] = nsecs;
	}
	$ns = @qtime[args->next_pid];
	if ($ns) {
		@usecs = hist((nsecs - $ns) / 1000);
	}
	delete(@qtime[args->next_pid]);
}
EOF

NAMES=("untraced" "ksight runqlat" "ksight cpudist" "ksight sched" "ksight mem"
       "libbpf-tools runqlat" "libbpf-tools cpudist" "bpftrace runqlat.bt"
       "floor: empty tp_btf on sched_switch + sched_wakeup + sched_wakeup_new"
       "floor: empty tp_btf on sched_switch"
       "floor: minimal runqlat (task-storage stamp, per-CPU log2 histogram)")
PEERS=(5 6 7)		# the configurations that are peers
W=0			# the names' column: the longest name
for n in "${NAMES[@]}"; do
	[ "${#n}" -gt "$W" ] && W=${#n}
done
declare -a US CS
FAILS=0

# start I OUT ERR: start configuration I in the background (TRACER = its pid) and wait
# until it is attached. Returns 1 if it died or never got ready.
start()
{
	local i=$1 out=$2 err=$3 ready file=$2 t
	case $i in
	0) return 0 ;;
	1) "$KSIGHT" runqlat >"$out" 2>"$err" & ready=" ready in "; file=$err ;;
	2) "$KSIGHT" cpudist >"$out" 2>"$err" & ready=" ready in "; file=$err ;;
	3) "$KSIGHT" sched >"$out" 2>"$err" & ready=" ready in "; file=$err ;;
	4) "$KSIGHT" mem >"$out" 2>"$err" & ready=" ready in "; file=$err ;;
	# line-buffered: the peers' "Tracing"/"Attaching" lines say they are attached
	5) stdbuf -oL /usr/sbin/runqlat >"$out" 2>"$err" & ready="Tracing" ;;
	6) stdbuf -oL /usr/sbin/cpudist >"$out" 2>"$err" & ready="Tracing" ;;
	7) bpftrace "$TMP/runqlat.bt" >"$out" 2>"$err" & ready="Attaching" ;;
	8) "$FLOOR" sched >"$out" 2>"$err" & ready="floortrace: ready"; file=$err ;;
	9) "$FLOOR" switch >"$out" 2>"$err" & ready="floortrace: ready"; file=$err ;;
	10) "$FLOOR" runqmin >"$out" 2>"$err" & ready="floortrace: ready"; file=$err ;;
	esac
	TRACER=$!
	for ((t = 0; t < 1200; t++)); do
		if grep -q "$ready" "$file" 2>/dev/null; then
			# the floor says what it attached: raw_tp if the kernel refused tp_btf
			[ "$i" -ge 8 ] && grep -q ' raw_tp/' "$err" &&
				NAMES[i]=${NAMES[i]/tp_btf/raw_tp}
			sleep "$SETTLE"
			return 0
		fi
		kill -0 "$TRACER" 2>/dev/null || break
		sleep 0.05
	done
	echo "FAIL: ${NAMES[$i]} did not start: $(head -c 300 "$err")" >&2
	kill -KILL "$TRACER" 2>/dev/null
	wait "$TRACER" 2>/dev/null
	TRACER=
	return 1
}

stop()
{
	[ -n "$TRACER" ] || return 0
	kill -INT "$TRACER"
	wait "$TRACER"
	TRACER=
}

# measured I OUT ERR: whether configuration I printed what it measures (a histogram, a
# table; the floor measures nothing: its closing line says it stopped as it should).
measured()
{
	case $1 in
	0) return 0 ;;
	1 | 2 | 5 | 6) grep -q "usecs" "$2" ;;
	3 | 4) [ "$(wc -l <"$2")" -gt 1 ] ;;
	7) grep -q "@usecs" "$2" ;;
	8 | 9) grep -Eq '^floortrace [a-z]+: 0 records, 0 lost$' "$3" ;;
	10) grep -Eq '^floortrace runqmin: [1-9][0-9]* records, 0 lost$' "$3" ;;
	esac
}

for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		i=$(((k + r - 1) % ${#NAMES[@]}))
		out=$TMP/out.$i.$r
		err=$TMP/err.$i.$r
		start "$i" "$out" "$err" || { FAILS=$((FAILS + 1)); continue; }
		us='' cs=''
		for ((j = 0; j < REPS; j++)); do
			res=$(/usr/bin/time -f "%S %U" -o "$TMP/time" taskset -c "$CPU" \
				perf bench sched pipe -l "$N" 2>/dev/null |
			      awk '/usecs\/op/ { print $1 }')
			cpu=$(awk -v n="$N" '{ printf "%.3f\n", ($1 + $2) * 1e6 / n }' "$TMP/time")
			us=$(printf '%s\n' $us "$res" | grep . | sort -g | head -1)
			cs=$(printf '%s\n' $cs "$cpu" | grep . | sort -g | head -1)
		done
		stop
		if ! measured "$i" "$out" "$err"; then
			echo "FAIL: ${NAMES[$i]} printed nothing measured: $(tail -c 300 "$err")" >&2
			FAILS=$((FAILS + 1))
		fi
		US[$i]+=" $us"
		CS[$i]+=" $cs"
		printf '  round %d  %-*s %10s us/trip wall %8s us/trip CPU\n' "$r" "$W" \
			"${NAMES[$i]}" "$us" "$cs"
	done
done

median()
{
	tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# table TITLE VALUES...: medians, ranges, slowdowns and the comparison with the cheapest
# peer of one figure (the values: one string of per-round figures per configuration)
table()
{
	local title=$1 i p cheap=
	shift
	local -a vals=("$@") med rng
	for ((i = 0; i < ${#NAMES[@]}; i++)); do
		med[$i]=$(median <<<"${vals[$i]:-}")
		rng[$i]=$(tr ' ' '\n' <<<"${vals[$i]:-}" | grep . | sort -g | sed -n '1p;$p' |
			  paste -sd-)
	done
	for p in "${PEERS[@]}"; do
		[ -n "${med[$p]}" ] || continue
		if [ -z "$cheap" ] ||
		   awk -v a="${med[$p]}" -v b="${med[$cheap]}" 'BEGIN { exit !(a < b) }'; then
			cheap=$p
		fi
	done
	echo
	echo "$title; cheapest peer: ${cheap:+${NAMES[$cheap]}}"
	printf '%-*s %9s %17s %9s %9s %12s\n' "$W" "configuration" "us/trip" "range" \
		"slowdown" "added us" "vs cheapest"
	for ((i = 0; i < ${#NAMES[@]}; i++)); do
		[ -n "${med[$i]}" ] || continue
		awk -v n="${NAMES[$i]}" -v w="$W" -v m="${med[$i]}" -v u="${med[0]}" \
		    -v p="${cheap:+${med[$cheap]}}" -v rg="${rng[$i]}" 'BEGIN {
			added = m - u
			r = p != "" && p - u > 0 ? sprintf("%.2fx", added / (p - u)) : "-"
			printf "%-" w "s %9.3f %17s %8.1f%% %9.3f %12s\n", n, m, rg,
				100 * added / u, added, r }'
	done
}

echo
echo "command: ROUNDS=$ROUNDS REPS=$REPS N=$N CPU=$CPU SETTLE=$SETTLE bench/sched_cost.sh" \
	"$(realpath --relative-to="$ROOT" "$BUILD")"
echo "kernel:  $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
table "wall time per round trip (perf bench sched pipe)" "${US[@]}"
table "CPU time per round trip (user + system, both processes)" "${CS[@]}"
echo "(slowdown: against untraced; vs cheapest: added us over the cheapest peer's; < 1 is cheaper)"
[ "$FAILS" = 0 ] || { echo "$FAILS measurement(s) failed" >&2; exit 1; }
