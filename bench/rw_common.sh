# SPDX-License-Identifier: GPL-2.0
# Shared by bench/rw_*.sh (sourced, bash): checks, clean-up, starting and stopping
# tracers, the helper loop, medians. Knobs come from environment variables, which each
# script prints back as the exact command it ran.

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RWLOOP=$BUILD/bench/helpers/rwloop
FLOORTRACE=$BUILD/bench/helpers/floortrace

# On exit: the script's own clean-up (RW_CLEANUP), then lib.sh's.
rw_cleanup()
{
	[ -n "${RW_CLEANUP:-}" ] && $RW_CLEANUP
	bench_cleanup
}

# rw_init NAME "KNOBS" PACKAGES...: root, binaries, Debian packages, a private temporary
# directory and the header.
rw_init()
{
	NAME=$1
	local knobs=$2
	shift 2
	if [ "$(id -u)" != 0 ]; then
		echo "$NAME: must run as root (it loads BPF programs)" >&2
		exit 1
	fi
	if [ ! -x "$KSIGHT" ] || [ ! -x "$RWLOOP" ] || [ ! -x "$FLOORTRACE" ]; then
		echo "$NAME: $KSIGHT, $RWLOOP or $FLOORTRACE missing: run 'make all helpers'" >&2
		exit 1
	fi
	"$ROOT/scripts/install-deps.sh" bpftrace bpftool procps python3 "$@" || exit 1
	TMP=$(mktemp -d /tmp/ksight-rw-bench.XXXXXX)
	chmod 755 "$TMP"
	trap rw_cleanup EXIT
	trap 'exit 130' INT TERM
	echo "== $NAME"
	echo "command: $knobs bench/$NAME.sh $(realpath --relative-to="$ROOT" "$BUILD")"
	echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "kernel:  $(uname -r)"
	echo "cpu:     $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) x $(nproc)"
	echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at start"
	echo "ksight:  $(git -C "$ROOT" describe --always --dirty 2>/dev/null)"
}

# start_ready ERRFILE TEXT SECS CMD...: CMD with stdout on /dev/null, waiting up to SECS
# for TEXT on its stderr, then a second more. Sets TRACER.
start_ready()
{
	local err=$1 text=$2 secs=$3
	shift 3
	"$@" >/dev/null 2>"$err" &
	TRACER=$!
	if ! wait_line "$err" "$text" "$TRACER" "$secs"; then
		bench_fail "not ready: $* ($(tail -2 "$err" | tr '\n' ' '))"
		stop_tracer "$TRACER"
		return 1
	fi
	sleep 1
}

# start_ksight ERRFILE ARGS...: ksight ARGS, once it says "ready". Sets TRACER.
start_ksight()
{
	local err=$1
	shift
	start_ready "$err" " ready in " 60 "$KSIGHT" "$@"
}

# start_peer ERRFILE N CMD...: a peer tracer with stdout on /dev/null, attached when it
# owns N tracepoints. Sets TRACER.
start_peer()
{
	local err=$1 n=$2 i
	shift 2
	"$@" >/dev/null 2>"$err" &
	TRACER=$!
	for ((i = 0; i < 600; i++)); do
		kill -0 "$TRACER" 2>/dev/null || break
		[ "$(perf_attachments "$TRACER")" -ge "$n" ] && break
		sleep 0.1
	done
	if ! kill -0 "$TRACER" 2>/dev/null || [ "$i" -ge 600 ]; then
		bench_fail "not attached: $* ($(tail -2 "$err" | tr '\n' ' '))"
		stop_tracer "$TRACER"
		return 1
	fi
	sleep 1
}

# stop_ksight PID ERRFILE: stop it; it must exit 0 with a consistent "N events, M lost"
# line. Sets KS_EVENTS, KS_LOST ("-" when unknown).
stop_ksight()
{
	local line
	stop_tracer "$1"
	line=$(grep -E '^[0-9]+ events, [0-9]+ lost' "$2" | tail -1)
	if [ "$STOP_STATUS" != 0 ] || [ -z "$line" ] || grep -q 'mismatch\|malformed' <<<"$line"
	then
		bench_fail "ksight exited $STOP_STATUS: $(tail -2 "$2" | tr '\n' ' ')"
	fi
	[ -n "$line" ] || line="- events, - lost"
	read -r KS_EVENTS _ KS_LOST _ <<<"$line"
}

# start_floor ERRFILE MODE FILTER...: the reference tracer (bench/helpers/floortrace.c),
# the least any syscall tracer does, once it says "ready". Sets TRACER (stop_floor: lib.sh).
start_floor()
{
	local err=$1
	shift
	start_ready "$err" "floortrace: ready" 30 "$FLOORTRACE" "$@"
}

# loop_start ARGS...: rwloop ARGS, waiting for "go" on a pipe. Sets LOOP_PID, LOOP_OUT.
loop_start()
{
	LOOP_OUT=$TMP/loop.$RANDOM
	mkfifo "$LOOP_OUT.in"
	"$RWLOOP" "$@" <"$LOOP_OUT.in" >"$LOOP_OUT" 2>&1 &
	LOOP_JOB=$!
	exec 7>"$LOOP_OUT.in"
	wait_line "$LOOP_OUT" "^ready " "$LOOP_JOB" 10 || bench_fail "rwloop $* did not start"
	LOOP_PID=$(awk '/^ready/ {print $2}' "$LOOP_OUT")
}

# loop_run: start it and wait; LOOP_CALLS, LOOP_NS (per call and thread), LOOP_SECS.
loop_run()
{
	echo go >&7
	exec 7>&-
	wait "$LOOP_JOB"
	read -r _ LOOP_CALLS _ LOOP_NS _ LOOP_SECS < <(grep '^calls' "$LOOP_OUT")
	[ -n "${LOOP_CALLS:-}" ] || { bench_fail "rwloop: $(cat "$LOOP_OUT")"; LOOP_NS=-; }
}

# CPU time of PID so far, in ms.
cpu_ms()
{
	awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000 / hz }' "/proc/$1/stat" \
		2>/dev/null || echo 0
}

median()
{
	printf '%s\n' "$@" | grep -E '^[0-9.eE+-]+$' | sort -g | awk -v OFMT=%.1f '
		{ v[NR] = $1 }
		END { if (!NR) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
		      else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

row()
{
	local out="|" c
	for c in "$@"; do
		out+=" $c |"
	done
	echo "$out"
}

rw_finish()
{
	echo
	if [ ${#FAILS[@]} -ne 0 ]; then
		echo "$NAME: ${#FAILS[@]} failure(s):"
		printf '  - %s\n' "${FAILS[@]}"
		exit 1
	fi
	echo "$NAME: everything ran"
	exit 0
}
