#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What sampling the whole machine at 99 Hz costs: the profiler's own CPU time (user +
# system, from wait4's rusage, as % of one core) and its peak RSS over DURATION seconds,
# for ksight profile and its peers. libbpf-tools' profile is not in Debian 12, so the
# peers are `perf record -F 99 -a -g` (writing perf.data to a tmp dir) and bpftrace
# counting kernel and user stacks per comm at 99 Hz.
#
#   [ROUNDS=5] [DURATION=30] bench/profile_cost.sh [BUILD]
#
# Each round runs every profiler once, the order rotating. ksight reports every
# DURATION/3 seconds (output to a file): its figure includes symbolizing three times
# (kallsyms, the ELF files of every sampled process, parsed once and cached). RSS is read
# 3 s before the end (ksight's caches filled by then); max RSS is the peak (ksight's is
# its start-up: the kernel's BTF parsed to load, ~32 MB for any ksight tool here).
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-30}
NAMES=("ksight profile" "perf record -g" "bpftrace")

bench_init profile_cost "ROUNDS=$ROUNDS DURATION=$DURATION"
"$ROOT/scripts/install-deps.sh" linux-perf time >/dev/null || exit 1

# leaf PID: follow the first child from PID down (time -> timeout -> the profiler)
leaf()
{
	local p=$1 c
	while c=$(cat /proc/"$p"/task/*/children 2>/dev/null | awk '{ print $1; exit }') &&
		[ -n "$c" ]; do
		p=$c
	done
	echo "$p"
}

# run_one I: one profiler for DURATION seconds; prints "cpu_pct maxrss_kb rss_kb
# steady_pct": its VmRSS 3 s before the end (ksight: after two of its three reports, symbol
# caches filled), and its CPU from 3 s in to the end, as % of a core
run_one()
{
	local out="$TMP/time.$1" rc pid rss t0
	case $1 in
	0) /usr/bin/time -f '%U %S %M' -o "$out" "$KSIGHT" profile $((DURATION / 3)) \
		--duration "$DURATION" >"$TMP/ksight.out" 2>"$TMP/ksight.err" & ;;
	1) /usr/bin/time -f '%U %S %M' -o "$out" timeout -s INT "$DURATION" \
		perf record -F 99 -a -g -o "$TMP/perf.data" >/dev/null 2>&1 & ;;
	2) /usr/bin/time -f '%U %S %M' -o "$out" timeout -s INT "$DURATION" \
		"$BPFTRACE" -e 'profile:hz:99 { @[comm, kstack, ustack] = count(); }' \
		>/dev/null 2>&1 & ;;
	esac
	pid=$!
	# CPU seconds spent by 3 s in (start-up: loading, kallsyms for perf), to tell the
	# steady cost apart
	sleep 3
	t0=$(cpu_of "$(leaf "$pid")")
	sleep $((DURATION - 6))
	rss=$(awk '/^VmRSS:/ { print $2 }' /proc/"$(leaf "$pid")"/status 2>/dev/null)
	wait "$pid"
	rc=$?
	# timeout's 124 is the stop we asked for
	[ "$rc" = 0 ] || [ "$rc" = 124 ] || [ "$rc" = 130 ] || bench_fail "${NAMES[$1]}: exit $rc"
	tail -1 "$out" | awk -v d="$DURATION" -v r="${rss:-0}" -v t0="${t0:-0}" \
		'{ printf "%.3f %d %d %.3f\n", ($1 + $2) * 100 / d, $3, r, ($1 + $2 - t0) * 100 / (d - 3) }'
}

# cpu_of PID: its user + system CPU seconds so far
cpu_of()
{
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' \
		/proc/"$1"/stat 2>/dev/null
}

median()
{
	sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -A PCPU RSS NOW STEADY
for ((r = 0; r < ROUNDS; r++)); do
	for ((j = 0; j < ${#NAMES[@]}; j++)); do
		i=$(((j + r) % ${#NAMES[@]}))
		read -r c m n st < <(run_one "$i")
		STEADY[$i]+="$st "
		PCPU[$i]+="$c "
		RSS[$i]+="$m "
		NOW[$i]+="$n "
		echo "round $r: ${NAMES[$i]}: ${c}% of a core (${st}% after 3 s), max RSS ${m} KiB," \
			"RSS ${n} KiB near the end"
	done
done
echo "ksight's last tally: $(grep -h '^samples' "$TMP/ksight.out" | tail -1)"
echo
echo "| profiler | CPU % of a core | CPU % after 3 s | RSS MB near the end | max RSS MB | CPU % rounds |"
echo "| --- | ---: | ---: | ---: | ---: | --- |"
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	c=$(tr ' ' '\n' <<<"${PCPU[$i]}" | grep . | median)
	m=$(tr ' ' '\n' <<<"${RSS[$i]}" | grep . | median)
	n=$(tr ' ' '\n' <<<"${NOW[$i]}" | grep . | median)
	st=$(tr ' ' '\n' <<<"${STEADY[$i]}" | grep . | median)
	printf '| %s | %.2f | %.2f | %.1f | %.1f | %s |\n' "${NAMES[$i]}" "$c" "$st" \
		"$(awk -v m="$n" 'BEGIN { print m / 1024 }')" "$(awk -v m="$m" 'BEGIN { print m / 1024 }')" \
		"${PCPU[$i]}"
done
[ ${#FAILS[@]} = 0 ]
