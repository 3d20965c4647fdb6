#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# ns per run of each BPF program of the scheduler tools of bench/sched_cost.sh (ksight
# runqlat, runqlat --preemptor, cpudist, sched, mem, the agent's offcpu, offcpu
# --no-waker; libbpf-tools runqlat, cpudist and offcputime; bpftrace's runqlat), under the
# same pipe ping-pong: the kernel's own count of the time
# spent in each program (kernel.bpf_stats_enabled, on for the run and restored after),
# which other load on a shared machine barely moves, unlike wall time.
#
#   [SECS=3] [CPU=1] bench/sched_progstats.sh [BUILD]
#
# Per configuration: start the tracer, wait until attached, run the ping-pong pinned to
# CPU, sample its programs over SECS (bench/progstats.py), stop both.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(readlink -f "${1:-$ROOT/build}")
KSIGHT=$BUILD/ksight
SECS=${SECS:-3}
CPU=${CPU:-1}
TMP=$(mktemp -d /tmp/ksight-bench.XXXXXX)
OLD=$(sysctl -n kernel.bpf_stats_enabled)
TRACER= LOAD=

if [ "$(id -u)" != 0 ]; then
	echo "sched_progstats: must run as root" >&2
	exit 1
fi
"$ROOT/scripts/install-deps.sh" libbpf-tools bpftrace bpftool linux-perf util-linux || exit 1
cleanup()
{
	[ -n "$LOAD" ] && wait "$LOAD" 2>/dev/null
	[ -n "$TRACER" ] && kill -KILL "$TRACER" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$OLD"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
sysctl -qw kernel.bpf_stats_enabled=1

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

NAMES=("ksight runqlat" "ksight runqlat --preemptor" "ksight cpudist" "ksight sched"
       "ksight mem" "ksight run --modules offcpu" "ksight offcpu --no-waker"
       "libbpf-tools runqlat" "libbpf-tools cpudist" "libbpf-tools offcputime"
       "bpftrace runqlat.bt")
echo "command: SECS=$SECS CPU=$CPU bench/sched_progstats.sh $(realpath --relative-to="$ROOT" "$BUILD")"
echo "kernel:  $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	out=$TMP/out.$i err=$TMP/err.$i file=$TMP/out.$i ready="Tracing"
	case $i in
	0) "$KSIGHT" runqlat >"$out" 2>"$err" & ;;
	1) "$KSIGHT" runqlat --preemptor >"$out" 2>"$err" & ;;
	2) "$KSIGHT" cpudist >"$out" 2>"$err" & ;;
	3) "$KSIGHT" sched >"$out" 2>"$err" & ;;
	4) "$KSIGHT" mem >"$out" 2>"$err" & ;;
	# the agent's offcpu: blocked time per process, no stacks, no waker
	5) "$KSIGHT" run --modules offcpu --no-store --listen 127.0.0.1:19479 >"$out" \
		2>"$err" & ;;
	6) "$KSIGHT" offcpu --no-waker >"$out" 2>"$err" & ;;
	7) stdbuf -oL /usr/sbin/runqlat >"$out" 2>"$err" & ;;
	8) stdbuf -oL /usr/sbin/cpudist >"$out" 2>"$err" & ;;
	# prints nothing until it ends: given the time the others take to attach
	9) stdbuf -oL /usr/sbin/offcputime >"$out" 2>"$err" & ready= ;;
	10) bpftrace "$TMP/runqlat.bt" >"$out" 2>"$err" & ready="Attaching" ;;
	esac
	TRACER=$!
	[ "$i" -le 6 ] && { ready=" ready in "; file=$err; }
	[ -z "$ready" ] && sleep 2
	for ((t = 0; t < 1200 && ${#ready} > 0; t++)); do
		grep -q "$ready" "$file" 2>/dev/null && break
		sleep 0.05
	done
	# bounded, so that it ends by itself (killing perf would leave its child blocked)
	taskset -c "$CPU" perf bench sched pipe -l $(((SECS + 2) * 100000)) >/dev/null 2>&1 &
	LOAD=$!
	sleep 0.5
	echo "== ${NAMES[$i]}"
	"$ROOT/bench/progstats.py" "$TRACER" "$SECS" | sed 's/^/   /'
	wait "$LOAD" 2>/dev/null
	LOAD=
	kill -INT "$TRACER"
	wait "$TRACER"
	TRACER=
done
