#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What `ksight syscount` costs every system call, against libbpf-tools syscount.
#
#   [ROUNDS=7] [REPS=3] [N=500000] [CPU=1] [SETTLE=1] bench/syscount_cost.sh [BUILD]
#
# Each round runs every configuration in turn (the order rotates each round): start the
# tracer, wait until it says it is attached, let it settle, run getpid_loop pinned to CPU
# REPS times (N getpid calls each, ns per call; the round keeps the fastest run, the one
# least disturbed by other load), stop the tracer with SIGINT and check it counted at
# least REPS * N getpid calls (so it really was tracing). Prints each configuration's
# median over ROUNDS (and the range), what it adds to an untraced call, and ksight's
# added cost as a ratio of the peer's with the same options.
# Needs root; installs libbpf-tools if missing (Debian 12).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(readlink -f "${1:-$ROOT/build}")
KSIGHT=$BUILD/ksight
LOOP=$BUILD/bench/helpers/getpid_loop
PEER=/usr/sbin/syscount
ROUNDS=${ROUNDS:-7}
REPS=${REPS:-3}
N=${N:-500000}
CPU=${CPU:-1}
SETTLE=${SETTLE:-1}
TRACER=
TMP=

if [ "$(id -u)" != 0 ]; then
	echo "syscount_cost: must run as root (it loads BPF programs)" >&2
	exit 1
fi
if [ ! -x "$KSIGHT" ] || [ ! -x "$LOOP" ]; then
	echo "syscount_cost: $KSIGHT or $LOOP missing: run 'make all helpers'" >&2
	exit 1
fi
"$ROOT/scripts/install-deps.sh" libbpf-tools util-linux || exit 1

cleanup()
{
	[ -n "$TRACER" ] && kill -KILL "$TRACER" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
}
TMP=$(mktemp -d /tmp/ksight-bench.XXXXXX)
trap cleanup EXIT
trap 'exit 130' INT TERM

NAMES=("untraced" "ksight syscount" "ksight syscount -L" "libbpf-tools syscount"
       "libbpf-tools syscount -L")
declare -a NS
FAILS=0

# start I OUT ERR: start configuration I in the background (TRACER = its pid) and wait
# until it is attached. Returns 1 if it died or never got ready.
start()
{
	local i=$1 out=$2 err=$3 ready file t
	case $i in
	0) return 0 ;;
	1) "$KSIGHT" syscount --json --top 1000 >"$out" 2>"$err" & ready=" ready in "; file=$err ;;
	2) "$KSIGHT" syscount --json --top 1000 -L >"$out" 2>"$err" & ready=" ready in "
	   file=$err ;;
	# line-buffered: the peer's "Tracing syscalls" line is how it says it is attached
	3) stdbuf -oL "$PEER" -T 1000 >"$out" 2>"$err" & ready="Tracing syscalls"; file=$out ;;
	4) stdbuf -oL "$PEER" -T 1000 -L >"$out" 2>"$err" & ready="Tracing syscalls"
	   file=$out ;;
	esac
	TRACER=$!
	for ((t = 0; t < 600; t++)); do
		grep -q "$ready" "$file" 2>/dev/null && { sleep "$SETTLE"; return 0; }
		kill -0 "$TRACER" 2>/dev/null || break
		sleep 0.05
	done
	echo "FAIL: ${NAMES[$i]} did not start: $(head -c 300 "$err")" >&2
	kill -KILL "$TRACER" 2>/dev/null
	wait "$TRACER" 2>/dev/null
	TRACER=
	return 1
}

# stop: SIGINT the tracer and wait until it has printed its report (in this shell: only
# the parent can wait for it).
stop()
{
	[ -n "$TRACER" ] || return 0
	kill -INT "$TRACER"
	wait "$TRACER"
	TRACER=
}

# counted I OUT: the getpid count configuration I printed (0 if none).
counted()
{
	local i=$1 out=$2
	case $i in
	0) echo $((REPS * N)); return ;;
	1 | 2) sed -n 's/.*"type":"syscount".*"name":"getpid","count":\([0-9]*\).*/\1/p' "$out" ;;
	*) awk '$1 == "getpid" { print $2 }' "$out" ;;
	esac | head -1 | grep . || echo 0
}

for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		i=$(((k + r - 1) % ${#NAMES[@]}))
		out=$TMP/out.$i.$r
		err=$TMP/err.$i.$r
		start "$i" "$out" "$err" || { FAILS=$((FAILS + 1)); continue; }
		ns=
		for ((j = 0; j < REPS; j++)); do
			res=$(taskset -c "$CPU" "$LOOP" "$N" | cut -d' ' -f4)
			ns=$(printf '%s\n' $ns "$res" | sort -g | head -1)
		done
		stop
		seen=$(counted "$i" "$out")
		if [ "$seen" -lt $((REPS * N)) ]; then
			echo "FAIL: ${NAMES[$i]} counted $seen getpid calls, fewer than $((REPS * N)):" \
			     "$(tail -c 300 "$err")" >&2
			FAILS=$((FAILS + 1))
		fi
		NS[$i]+=" $ns"
		printf '  round %d  %-26s %8s ns/getpid  (counted %s)\n' "$r" "${NAMES[$i]}" \
			"$ns" "$seen"
	done
done

median()
{
	tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -a MED RANGE
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	MED[$i]=$(median <<<"${NS[$i]:-}")
	RANGE[$i]=$(tr ' ' '\n' <<<"${NS[$i]:-}" | grep . | sort -g | sed -n '1p;$p' | paste -sd-)
done
echo
echo "command: ROUNDS=$ROUNDS REPS=$REPS N=$N CPU=$CPU SETTLE=$SETTLE bench/syscount_cost.sh" \
	"$(realpath --relative-to="$ROOT" "$BUILD")"
echo "kernel:  $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-26s %10s %16s %10s %8s\n' "configuration" "ns/getpid" "range" "added ns" "vs peer"
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	[ -n "${MED[$i]}" ] || continue
	peer=""
	case $i in
	1 | 2) peer=${MED[$((i + 2))]} ;;
	esac
	awk -v n="${NAMES[$i]}" -v m="${MED[$i]}" -v u="${MED[0]}" -v p="$peer" \
	    -v rg="${RANGE[$i]}" 'BEGIN {
		added = m - u
		r = p != "" && p - u > 0 ? sprintf("%.2fx", added / (p - u)) : "-"
		printf "%-26s %10.1f %16s %10.1f %8s\n", n, m, rg, added, r }'
done
echo "(vs peer: ksight's added ns over libbpf-tools' for the same options; < 1 is cheaper)"
[ "$FAILS" = 0 ] || { echo "$FAILS measurement(s) failed" >&2; exit 1; }
