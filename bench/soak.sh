#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The agent over an hour: `ksight run` (every default module, the store, /metrics scraped
# every interval) under a steady mixed load, its memory sampled every SAMPLE_SECS: does it
# settle, or grow? Prints one row per sample (VmRSS, RssAnon, the BPF maps' share of RSS,
# the store's file size, events and lost so far from /metrics), a text plot of VmRSS, and
# the growth over the second half of the run (a leak shows as a slope there; the first
# half holds the warm-up: tables filling, SQLite's page cache, the store's first rows).
#
#   [SOAK_SECS=3600] [SAMPLE_SECS=60] bench/soak.sh [BUILD]
#
# Load, all the time: 200 open+close per second (oploop), 5 execs of /bin/true per second,
# a 4 KiB write+fsync per second, and 20 short TCP connections per second over loopback
# (connloop), each a new connection in the agent's map and its table.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
SOAK_SECS=${SOAK_SECS:-3600}
SAMPLE_SECS=${SAMPLE_SECS:-60}
bench_init soak "SOAK_SECS=$SOAK_SECS SAMPLE_SECS=$SAMPLE_SECS"

PORT=19464
STORE=$TMP/store.db
err=$TMP/run.err
start_tracer ksight "$err" "$KSIGHT" run 10 --listen "127.0.0.1:$PORT" --store "$STORE" ||
	bench_finish
agent=$TRACER_PID

# the load, until told to stop: every loop checks for $TMP/stop
"$HELPERS/oploop" -r 200 -d "$SOAK_SECS" open "$TMP/file" >/dev/null &
loads=$!
"$HELPERS/connloop" server 127.0.0.1 19465 >/dev/null &
loads="$loads $!"
(
	while [ ! -e "$TMP/stop" ]; do
		for _ in 1 2 3 4 5; do /bin/true; done
		dd if=/dev/zero of="$TMP/io" bs=4k count=1 conv=fsync status=none
		"$HELPERS/connloop" client 127.0.0.1 19465 19 >/dev/null
		sleep 1
	done
) &
loads="$loads $!"

# metric NAME: the sum of NAME's series on the agent's page
metric()
{
	curl -s "http://127.0.0.1:$PORT/metrics" |
		awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $NF } END { print s + 0 }'
}

echo
row minute "VmRSS MB" "RssAnon MB" "BPF maps in RSS MB" "store MB" "events" "lost"
row ---: ---: ---: ---: ---: ---: ---:
declare -a SAMPLES
t0=$SECONDS
while [ $((SECONDS - t0)) -lt "$SOAK_SECS" ] && kill -0 "$agent" 2>/dev/null; do
	sleep "$SAMPLE_SECS"
	m=$("$BENCH_DIR/procmem.py" "$agent" 2>&1) || { bench_fail "procmem: $m"; break; }
	read -r _ rss _ _ _ anon _ _ _ maprss _ <<<"$m"
	store=$(stat -c %s "$STORE" 2>/dev/null || echo 0)
	SAMPLES+=("$rss")
	row "$(((SECONDS - t0) / 60))" "$(awk -v a="$rss" 'BEGIN { printf "%.1f", a / 1024 }')" \
		"$(awk -v a="$anon" 'BEGIN { printf "%.1f", a / 1024 }')" \
		"$(awk -v a="$maprss" 'BEGIN { printf "%.1f", a / 1024 }')" \
		"$(awk -v a="$store" 'BEGIN { printf "%.1f", a / 1048576 }')" \
		"$(metric ksight_events_total)" "$(metric ksight_events_lost_total)"
done
touch "$TMP/stop"
# shellcheck disable=SC2086
kill $loads 2>/dev/null
wait $loads 2>/dev/null
stop_ksight "$agent" "$err" "ksight run"

n=${#SAMPLES[@]}
if [ "$n" -ge 4 ]; then
	echo
	echo "VmRSS, one bar per sample (each # is 0.25 MB above the smallest sample):"
	printf '%s\n' "${SAMPLES[@]}" | awk -v step="$SAMPLE_SECS" '
		{ v[NR] = $1; if (NR == 1 || $1 < lo) lo = $1 }
		END {
			for (i = 1; i <= NR; i++) {
				bar = ""
				for (j = 0; j < (v[i] - lo) / 256; j++) bar = bar "#"
				printf "  %4d min %6.1f MB %s\n", i * step / 60, v[i] / 1024, bar
			}
		}'
	half=$((n / 2))
	a=${SAMPLES[$half]} b=${SAMPLES[$((n - 1))]}
	mins=$(((n - 1 - half) * SAMPLE_SECS / 60))
	growth=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b - a) / 1024 }')
	echo
	echo "events ${KS_EVENTS}, lost ${KS_LOST} (the agent's own last line)"
	echo "VmRSS growth over the second half ($mins min): $growth MB"
	printf 'target VmRSS at the end <= 20 MB: %s  %s\n' \
		"$(awk -v a="$b" 'BEGIN { printf "%.1f", a / 1024 }')" \
		"$(verdict "$(awk -v a="$b" 'BEGIN { printf "%.1f", a / 1024 }')" "<=" 20)"
	printf 'target VmRSS growth over the second half <= 1 MB: %s  %s\n' "$growth" \
		"$(verdict "$growth" "<=" 1)"
fi
bench_finish
