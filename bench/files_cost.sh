#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Cost per file lifecycle (create, write, close, unlink) under `ksight files`, against no
# tracer and against bpftrace doing similar work with the syscall tracepoints.
#
#   [ROUNDS=5] [N=10000] [BYTES=4096] [WRITES=4] [NPPID=1000000] [CPU=1] [SETTLE=1] \
#       [DIR=/dev/shm] [TRACER_CPU=0] bench/files_cost.sh [BUILD]
#
# Each round starts every tracer in turn (the order rotates each round), waits until it is
# attached, runs filecycle pinned to CPU: N cycles of open(O_CREAT|O_EXCL) + WRITES writes
# of BYTES in all + close + unlink in a private directory under DIR (tmpfs by default: a
# disk filesystem's journal makes the cycle slow and noisy), then NPPID getppid calls (what
# the tracer costs the syscalls it does not watch), and stops the tracer with SIGINT.
# N stays below the --summary table's 16384 entries: every cycle's file is a new inode.
# Tracers write to /dev/null and run pinned to TRACER_CPU ("" for anywhere), so that the
# figure is the cost in the traced thread's own syscalls, not the tracer's reader
# competing for its CPU. Prints the median ns per cycle and per getppid over ROUNDS,
# ratios against untraced, and ksight's events and losses (its "N events, M lost" line).
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
CYCLE=$BUILD/bench/helpers/filecycle
ROUNDS=${ROUNDS:-5}
N=${N:-10000}
BYTES=${BYTES:-4096}
WRITES=${WRITES:-4}
NPPID=${NPPID:-1000000}
CPU=${CPU:-1}
SETTLE=${SETTLE:-1}
DIR=${DIR:-/dev/shm}
TRACER_CPU=${TRACER_CPU-0}

# The bpftrace peer: creations, unlinks, and bytes written per (pid, fd) printed at close,
# the work `ksight files` does (without its absolute paths, renames and attributes).
BPFTRACE_FILES='tracepoint:syscalls:sys_enter_openat /args->flags & 64/ { @p[tid] = args->filename; }
tracepoint:syscalls:sys_exit_openat /@p[tid]/ {
	if (args->ret >= 0) { printf("%d %s create %s\n", pid, comm, str(@p[tid])); }
	delete(@p[tid]); }
tracepoint:syscalls:sys_enter_write { @w[tid] = args->fd + 1; }
tracepoint:syscalls:sys_exit_write /@w[tid]/ {
	if (args->ret > 0) { @b[pid, @w[tid] - 1] += args->ret; } delete(@w[tid]); }
tracepoint:syscalls:sys_enter_close /@b[pid, args->fd]/ {
	printf("%d %s close %d %d\n", pid, comm, args->fd, @b[pid, args->fd]);
	delete(@b[pid, args->fd]); }
tracepoint:syscalls:sys_enter_unlinkat { printf("%d %s unlink %s\n", pid, comm, str(args->pathname)); }'

if [ "$(id -u)" != 0 ]; then
	echo "files_cost: must run as root (it loads BPF programs)" >&2
	exit 1
fi
if [ ! -x "$KSIGHT" ] || [ ! -x "$CYCLE" ]; then
	echo "files_cost: $KSIGHT or $CYCLE missing: run 'make all helpers'" >&2
	exit 1
fi
"$ROOT/scripts/install-deps.sh" bpftrace util-linux procps || exit 1
TMP=$(mktemp -d "$DIR/ksight-bench-files.XXXXXX") || exit 1
mkdir "$TMP/work"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
echo "== files_cost"
echo "command: ROUNDS=$ROUNDS N=$N BYTES=$BYTES WRITES=$WRITES NPPID=$NPPID CPU=$CPU" \
	"SETTLE=$SETTLE DIR=$DIR TRACER_CPU=$TRACER_CPU bench/files_cost.sh $(realpath --relative-to="$ROOT" "$BUILD")"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "kernel:  $(uname -r)"
echo "cpu:     $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) x $(nproc)"
echo "fs:      $(df -T "$TMP" | awk 'NR == 2 { print $2 }') ($TMP)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at start"
echo "ksight:  $(git -C "$ROOT" describe --always --dirty 2>/dev/null)"

NAMES=("untraced" "ksight files" "ksight files --no-writes" "ksight files -s" "bpftrace")
declare -a CYC PPD EVENTS LOST

# run_config I ROUND: one measurement of tracer I.
run_config()
{
	local i=$1 err="$TMP/err.$1.$2" out="$TMP/out.$1.$2" pid= res ppid line
	local pin=()
	[ -n "$TRACER_CPU" ] && pin=(taskset -c "$TRACER_CPU")
	case $i in
	1) "${pin[@]}" "$KSIGHT" files >/dev/null 2>"$err" & pid=$! ;;
	2) "${pin[@]}" "$KSIGHT" files --no-writes >/dev/null 2>"$err" & pid=$! ;;
	3) "${pin[@]}" "$KSIGHT" files -s >/dev/null 2>"$err" & pid=$! ;;
	4) "${pin[@]}" "$BPFTRACE" -e "$BPFTRACE_FILES" >"$out" 2>"$err" & pid=$! ;;
	esac
	if [ -n "$pid" ]; then
		if ! wait_line "$([ "$i" = 4 ] && echo "$out" || echo "$err")" \
			"$([ "$i" = 4 ] && echo "Attaching" || echo " ready in ")" "$pid" 60; then
			bench_fail "${NAMES[$i]} not ready: $(tail -2 "$err" | tr '\n' ' ')"
			stop_tracer "$pid"
			return
		fi
		sleep "$SETTLE"
	fi
	res=$(taskset -c "$CPU" "$CYCLE" -n "$N" -b "$BYTES" -w "$WRITES" "$TMP/work") ||
		bench_fail "filecycle: $res"
	ppid=$(taskset -c "$CPU" "$CYCLE" -n "$NPPID" getppid) || bench_fail "filecycle: $ppid"
	line=
	if [ -n "$pid" ]; then
		stop_tracer "$pid"
		[ "$STOP_STATUS" = 0 ] || bench_fail "${NAMES[$i]} exited $STOP_STATUS"
		if [ "$i" != 4 ]; then
			line=$(grep -E '^[0-9]+ events, [0-9]+ lost' "$err" | tail -1)
			[ -n "$line" ] || bench_fail "${NAMES[$i]}: no events line"
			EVENTS[$i]+=" $(cut -d' ' -f1 <<<"$line")"
			LOST[$i]+=" $(cut -d' ' -f3 <<<"$line")"
		fi
	fi
	CYC[$i]+=" $(awk '{ print $6 }' <<<"$res")"
	PPD[$i]+=" $(awk '{ print $6 }' <<<"$ppid")"
	printf '  round %d  %-26s cycle %8s ns  getppid %6s ns  %s\n' "$2" "${NAMES[$i]}" \
		"$(awk '{ print $6 }' <<<"$res")" "$(awk '{ print $6 }' <<<"$ppid")" "$line"
}

for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		run_config $(((k + r - 1) % ${#NAMES[@]})) "$r"
	done
done

echo
echo "ns per create+${WRITES}x write ($BYTES bytes)+close+unlink cycle and per getppid," \
	"median of $ROUNDS runs (pinned to CPU $CPU)"
echo
echo "| tracer | cycle ns | x untraced | added ns | getppid ns | x untraced | ksight events (all runs) | lost |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
BASE=$(median ${CYC[0]})
BASEP=$(median ${PPD[0]})
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	m=$(median ${CYC[$i]:-})
	p=$(median ${PPD[$i]:-})
	ev=-
	lo=-
	if [ -n "${EVENTS[$i]:-}" ]; then
		ev=$(tr ' ' '\n' <<<"${EVENTS[$i]}" | awk '{ s += $1 } END { print s }')
		lo=$(tr ' ' '\n' <<<"${LOST[$i]}" | awk '{ s += $1 } END { print s }')
	fi
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "${NAMES[$i]}" "$m" \
		"$(ratio "$m" "$BASE")" \
		"$(awk -v a="$m" -v b="$BASE" 'BEGIN { if (a == "-" || b == "-") print "-"; else print a - b }')" \
		"$p" "$(ratio "$p" "$BASEP")" "$ev" "$lo"
done
if [ ${#FAILS[@]} -gt 0 ]; then
	echo
	echo "${#FAILS[@]} failures:"
	printf '  %s\n' "${FAILS[@]}"
	exit 1
fi
