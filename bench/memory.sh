#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Steady memory of `ksight open` and the agent `ksight run` after LOAD_SECS of a light load,
# with opensnoop and the bpftrace one-liner as peers: user RSS and the kernel memory of the
# BPF maps and programs each process holds (bench/procmem.py says how). The agent again
# after RUN_LOAD_SECS (a minute) of the same load: its steady RSS, what issue 10's target
# is about.
#
#   [ROUNDS=5] [LOAD_SECS=10] [RUN_LOAD_SECS=60] [SETTLE=1] bench/memory.sh [BUILD]
#
# Light load, for LOAD_SECS: 1000 open+close per second (oploop -r 1000), 10 execs of
# /bin/true per second, one 4 KiB write+fsync per second in a temporary directory.
# The --ringbuf-size 1M row shows what the default ring buffer weighs (open_saturation.sh has
# the same row, for what a smaller one loses).
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
LOAD_SECS=${LOAD_SECS:-10}
RUN_LOAD_SECS=${RUN_LOAD_SECS:-60}
bench_init memory "ROUNDS=$ROUNDS LOAD_SECS=$LOAD_SECS RUN_LOAD_SECS=$RUN_LOAD_SECS\
 SETTLE=$SETTLE"

NAMES=("ksight open" "ksight run" "opensnoop" "bpftrace" "ksight open --ringbuf-size 1M"
	"ksight run, ${RUN_LOAD_SECS} s of load")
KINDS=(ksight ksight peer:2 peer:2 ksight ksight)
declare -a RSS HWM ANON MAPRSS MAPB PROGB NMAPS

# light_load SECS
light_load()
{
	local end=$((SECONDS + $1)) pid
	"$HELPERS/oploop" -r 1000 -d "$1" open "$TMP/file" >/dev/null &
	pid=$!
	while [ "$SECONDS" -lt "$end" ]; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			/bin/true
		done
		dd if=/dev/zero of="$TMP/io" bs=4k count=1 conv=fsync status=none
		sleep 1
	done
	wait "$pid" || bench_fail "light load: oploop failed"
}

# run_config I ROUND
run_config()
{
	local i=$1 err="$TMP/err.$1.$2" m
	case $i in
	0) start_tracer ksight "$err" "$KSIGHT" open ;;
	1) start_tracer ksight "$err" "$KSIGHT" run ;;
	2) start_tracer peer:2 "$err" "$OPENSNOOP" ;;
	3) start_tracer peer:2 "$err" "$BPFTRACE" -e "$BPFTRACE_OPEN" ;;
	4) start_tracer ksight "$err" "$KSIGHT" open --ringbuf-size 1M ;;
	5) start_tracer ksight "$err" "$KSIGHT" run ;;
	esac || return
	if [ "$i" = 5 ]; then
		light_load "$RUN_LOAD_SECS"
	else
		light_load "$LOAD_SECS"
	fi
	if ! m=$("$BENCH_DIR/procmem.py" "$TRACER_PID" 2>&1); then
		bench_fail "procmem ${NAMES[$i]}: $m"
		m=""
	fi
	if [ "${KINDS[$i]}" = ksight ]; then
		stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}"
	else
		stop_peer "$TRACER_PID" "$err" "${NAMES[$i]}"
	fi
	[ -n "$m" ] || return
	read -r _ rss _ hwm _ anon _ _ _ maprss _ nmaps _ mapb _ _ _ progb <<<"$m"
	RSS[$i]+=" $rss"
	HWM[$i]+=" $hwm"
	ANON[$i]+=" $anon"
	MAPRSS[$i]+=" $maprss"
	MAPB[$i]+=" $mapb"
	PROGB[$i]+=" $progb"
	NMAPS[$i]+=" $nmaps"
	echo "  round $2  ${NAMES[$i]}: $m"
}

for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		run_config $(((k + r - 1) % ${#NAMES[@]})) "$r"
	done
done

mb()
{
	awk -v a="$1" -v d="$2" 'BEGIN { if (a == "-") print "-"; else printf "%.1f\n", a / d }'
}

echo
echo "memory after $LOAD_SECS s of light load ($RUN_LOAD_SECS s for the last row), median of" \
	"$ROUNDS runs (MB = 2^20 bytes)"
echo
row tracer "VmRSS MB" "of which BPF maps mmap'ed" "VmRSS - mmap'ed maps" "RssAnon MB" \
	"VmHWM MB" "BPF maps" "map memlock MB" "prog memlock KB"
row --- ---: ---: ---: ---: ---: ---: ---: ---:
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	# shellcheck disable=SC2086
	{
		rss=$(median ${RSS[$i]:-})
		maprss=$(median ${MAPRSS[$i]:-})
		own=$(awk -v a="$rss" -v b="$maprss" \
			'BEGIN { if (a == "-" || b == "-") print "-"; else print a - b }')
		row "${NAMES[$i]}" "$(mb "$rss" 1024)" "$(mb "$maprss" 1024)" "$(mb "$own" 1024)" \
			"$(mb "$(median ${ANON[$i]:-})" 1024)" "$(mb "$(median ${HWM[$i]:-})" 1024)" \
			"$(median ${NMAPS[$i]:-})" "$(mb "$(median ${MAPB[$i]:-})" 1048576)" \
			"$(mb "$(median ${PROGB[$i]:-})" 1024)"
	}
done
echo
for i in 0 1; do
	# shellcheck disable=SC2086
	v=$(mb "$(median ${RSS[$i]:-})" 1024)
	printf 'target %-11s VmRSS <= 15 MB: %s  %s\n' "${NAMES[$i]}" "$v" "$(verdict "$v" "<=" 15)"
done
# shellcheck disable=SC2086
v=$(mb "$(median ${RSS[5]:-})" 1024)
printf 'target ksight run after %s s VmRSS <= 20 MB: %s  %s\n' "$RUN_LOAD_SECS" "$v" \
	"$(verdict "$v" "<=" 20)"
bench_finish
