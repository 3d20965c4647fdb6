#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Cost of a fork+exit and of a pthread_create+join cycle under each tracer, against no
# tracer and against the peers.
#
#   [ROUNDS=7] [NFORK=3000] [NTHREAD=30000] [CPU=1] [SETTLE=1] bench/proc_cost.sh [BUILD]
#
# Each round starts every tracer in turn (the order rotates each round), waits until it is
# attached, runs forkloop pinned to CPU (NFORK fork+waitpid cycles, then NTHREAD
# pthread_create+join cycles) and stops the tracer. Tracers write to /dev/null.
#   ksight proc           every fork, thread, exit and thread exit streamed and printed
#   ksight proc --tree    the same records kept in the tree, printed once at the end
#   exitsnoop -T          libbpf-tools: every exit, threads included (no fork hook)
#   bpftrace              sched_process_fork and sched_process_exit, one line each
# Prints each tracer's median and minimum ns per cycle over ROUNDS and the ratios to
# untraced (on a shared machine the minimum is the steadier figure: noise only adds).
# Then, less sensitive to a busy machine, what each tracer's BPF programs cost per run
# (the kernel's run-time statistics, held on by `ksight status --live` meanwhile) during
# one fork and one thread loop, for ksight with each hook family and for the peers.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
FORKLOOP=$BUILD/bench/helpers/forkloop
ROUNDS=${ROUNDS:-7}
NFORK=${NFORK:-3000}
NTHREAD=${NTHREAD:-30000}
CPU=${CPU:-1}
SETTLE=${SETTLE:-1}
BPFTRACE_PROG='tracepoint:sched:sched_process_fork {
	printf("fork %d %d %s\n", args->parent_pid, args->child_pid, comm); }
tracepoint:sched:sched_process_exit { printf("exit %d %d %s\n", pid, tid, comm); }'

NAMES=("untraced" "ksight proc" "ksight proc --tree" "exitsnoop -T" "bpftrace")
FAILS=()
TMP=
TRACER=

fail()
{
	FAILS+=("$*")
	echo "FAIL: $*" >&2
}

# Stop what this script started (by pid) and remove its files.
cleanup()
{
	[ -n "$TRACER" ] && kill -INT "$TRACER" 2>/dev/null && sleep 1 &&
		kill -KILL "$TRACER" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
}

if [ "$(id -u)" != 0 ]; then
	echo "proc_cost: must run as root (it loads BPF programs)" >&2
	exit 1
fi
if [ ! -x "$KSIGHT" ] || [ ! -x "$FORKLOOP" ]; then
	echo "proc_cost: $KSIGHT or $FORKLOOP missing: run 'make all helpers'" >&2
	exit 1
fi
"$ROOT/scripts/install-deps.sh" libbpf-tools bpftrace bpftool util-linux python3 || exit 1
TMP=$(mktemp -d /tmp/ksight-bench.XXXXXX)
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== proc_cost"
echo "command: ROUNDS=$ROUNDS NFORK=$NFORK NTHREAD=$NTHREAD CPU=$CPU SETTLE=$SETTLE" \
	"bench/proc_cost.sh $(realpath --relative-to="$ROOT" "$BUILD")"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "kernel:  $(uname -r)"
echo "cpu:     $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) x $(nproc)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at start"
echo "ksight:  $(git -C "$ROOT" describe --always --dirty 2>/dev/null)"

# start I ERRFILE: start tracer I, wait until it is attached. Returns 1 if it is not.
start()
{
	local err=$2 i
	case $1 in
	1) "$KSIGHT" proc >/dev/null 2>"$err" & ;;
	2) "$KSIGHT" proc --tree >/dev/null 2>"$err" & ;;
	3) /usr/sbin/exitsnoop -T >/dev/null 2>"$err" & ;;
	4) bpftrace -e "$BPFTRACE_PROG" >/dev/null 2>"$err" & ;;
	esac
	TRACER=$!
	for ((i = 0; i < 600; i++)); do
		kill -0 "$TRACER" 2>/dev/null || break
		case $1 in
		1 | 2) grep -qs " ready in " "$err" && break ;;
		3) [ "$(perf_attachments "$TRACER")" -ge 1 ] && break ;;
		4) [ "$(perf_attachments "$TRACER")" -ge 2 ] && break ;;
		esac
		sleep 0.1
	done
	if ! kill -0 "$TRACER" 2>/dev/null || [ "$i" -ge 600 ]; then
		fail "${NAMES[$1]} did not attach: $(tail -3 "$err" | tr '\n' ' ')"
		stop "$1" "$err"
		return 1
	fi
	sleep "$SETTLE"
}

# stop I ERRFILE: SIGINT, as a user would; the tracer must exit 0 (ksight: with 0 lost).
stop()
{
	local i st
	kill -INT "$TRACER" 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		kill -0 "$TRACER" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$TRACER" 2>/dev/null
	wait "$TRACER" 2>/dev/null
	st=$?
	TRACER=
	[ "$st" = 0 ] || fail "${NAMES[$1]} exited $st: $(tail -3 "$2" | tr '\n' ' ')"
	if [ "$1" = 1 ] || [ "$1" = 2 ]; then
		LOSTLINE=$(grep -E '^[0-9]+ events, [0-9]+ lost' "$2" | tail -1)
		grep -qE '^[0-9]+ events, 0 lost$' <<<"$LOSTLINE" ||
			fail "${NAMES[$1]}: ${LOSTLINE:-no loss line}"
	fi
}

# loop MODE N: ns per cycle of forkloop pinned to $CPU, or "-".
loop()
{
	local out
	if ! out=$(taskset -c "$CPU" "$FORKLOOP" -n "$2" "$1" 2>&1); then
		echo "forkloop $1: $out" >&2
		echo -
		return
	fi
	awk '{ print $6 }' <<<"$out"
}

minimum()
{
	printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | head -1 | grep . || echo -
}

declare -a FORK THREAD
for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		i=$(((k + r - 1) % ${#NAMES[@]}))
		err="$TMP/err.$i.$r"
		LOSTLINE=
		if [ "$i" != 0 ]; then
			start "$i" "$err" || continue
		fi
		f=$(loop fork "$NFORK")
		t=$(loop thread "$NTHREAD")
		[ "$f" = - ] || [ "$t" = - ] && fail "forkloop failed under ${NAMES[$i]}"
		[ "$i" != 0 ] && stop "$i" "$err"
		FORK[$i]+=" $f"
		THREAD[$i]+=" $t"
		printf '  round %d  %-20s fork+exit %9s ns  thread+join %8s ns  %s\n' "$r" \
			"${NAMES[$i]}" "$f" "$t" "$LOSTLINE"
	done
done

echo
echo "ns per cycle over $ROUNDS runs (forkloop on CPU $CPU): median, and minimum"
echo
echo "| tracer | fork+exit median | x | fork+exit min | x | thread+join median | x |" \
	"thread+join min | x |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
# shellcheck disable=SC2086
f0=$(median ${FORK[0]:-}) t0=$(median ${THREAD[0]:-})
# shellcheck disable=SC2086
fm0=$(minimum ${FORK[0]:-}) tm0=$(minimum ${THREAD[0]:-})
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	# shellcheck disable=SC2086
	f=$(median ${FORK[$i]:-}) t=$(median ${THREAD[$i]:-})
	# shellcheck disable=SC2086
	fm=$(minimum ${FORK[$i]:-}) tm=$(minimum ${THREAD[$i]:-})
	echo "| ${NAMES[$i]} | $f | $(ratio "$f" "$f0") | $fm | $(ratio "$fm" "$fm0") |" \
		"$t | $(ratio "$t" "$t0") | $tm | $(ratio "$tm" "$tm0") |"
done
# per_prog NAME CMD...: start CMD as a tracer, run one fork and one thread loop with the
# statistics on, print the programs it holds (prog_id in its fdinfo) with their runs and
# ns per run.
per_prog()
{
	local name=$1 err="$TMP/prog.err" stats i
	shift
	"$@" >/dev/null 2>"$err" &
	TRACER=$!
	for ((i = 0; i < 600; i++)); do
		kill -0 "$TRACER" 2>/dev/null || break
		grep -qs " ready in " "$err" && break
		[ "$(perf_attachments "$TRACER")" -ge 1 ] && break
		sleep 0.1
	done
	if ! kill -0 "$TRACER" 2>/dev/null; then
		fail "$name did not start: $(tail -3 "$err" | tr '\n' ' ')"
		return
	fi
	sleep "$SETTLE"
	grep -h '^prog_id:' /proc/"$TRACER"/fdinfo/* 2>/dev/null | awk '{ print $2 }' |
		sort -u >"$TMP/mine"
	"$KSIGHT" status --live 1 1000000 >/dev/null 2>&1 &
	stats=$!
	sleep 1
	bpf_progs | sort >"$TMP/p1"
	taskset -c "$CPU" "$FORKLOOP" -n "$NFORK" fork >/dev/null &&
		taskset -c "$CPU" "$FORKLOOP" -n "$NTHREAD" thread >/dev/null ||
		fail "forkloop under $name"
	bpf_progs | sort >"$TMP/p2"
	kill -INT "$stats"
	wait "$stats" 2>/dev/null
	kill -INT "$TRACER"
	wait "$TRACER" 2>/dev/null
	TRACER=
	join "$TMP/p1" "$TMP/p2" | while read -r id n c1 t1 _ c2 t2; do
		grep -qx "$id" "$TMP/mine" || continue
		printf '| %s | %s | %d | %.0f |\n' "$name" "$n" $((c2 - c1)) \
			"$(awk -v a=$((t2 - t1)) -v b=$((c2 - c1)) 'BEGIN { print b ? a / b : 0 }')"
	done
}

echo
echo "BPF programs: runs during $NFORK forks and $NTHREAD threads (each exits), ns per run"
echo
echo "| tracer | program | runs | ns/run |"
echo "| --- | --- | ---: | ---: |"
per_prog "ksight proc" "$KSIGHT" proc
per_prog "ksight proc --hooks raw_tp" "$KSIGHT" proc --hooks raw_tp
per_prog "ksight proc --hooks tp" "$KSIGHT" proc --hooks tp
per_prog "exitsnoop -T" /usr/sbin/exitsnoop -T
per_prog "bpftrace" bpftrace -e "$BPFTRACE_PROG"

if [ ${#FAILS[@]} -ne 0 ]; then
	echo
	echo "proc_cost: ${#FAILS[@]} failure(s):"
	printf '  - %s\n' "${FAILS[@]}"
	exit 1
fi
echo
echo "proc_cost: everything ran"
