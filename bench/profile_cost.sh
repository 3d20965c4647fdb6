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
# Each round runs every profiler once, the order rotating. ksight's figure includes its
# symbolization at the end (kallsyms, the ELF files of every sampled process).
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-30}
NAMES=("ksight profile" "perf record -g" "bpftrace")

bench_init profile_cost "ROUNDS=$ROUNDS DURATION=$DURATION"
"$ROOT/scripts/install-deps.sh" linux-perf time >/dev/null || exit 1

# run_one I: one profiler for DURATION seconds; prints "cpu_pct rss_kb"
run_one()
{
	local out="$TMP/time.$1" rc
	case $1 in
	0) /usr/bin/time -f '%U %S %M' -o "$out" "$KSIGHT" profile --duration "$DURATION" \
		>"$TMP/ksight.out" 2>"$TMP/ksight.err" ;;
	1) /usr/bin/time -f '%U %S %M' -o "$out" timeout -s INT "$DURATION" \
		perf record -F 99 -a -g -o "$TMP/perf.data" >/dev/null 2>&1 ;;
	2) /usr/bin/time -f '%U %S %M' -o "$out" timeout -s INT "$DURATION" \
		"$BPFTRACE" -e 'profile:hz:99 { @[comm, kstack, ustack] = count(); }' \
		>/dev/null 2>&1 ;;
	esac
	rc=$?
	# timeout's 124 is the stop we asked for
	[ "$rc" = 0 ] || [ "$rc" = 124 ] || [ "$rc" = 130 ] || bench_fail "${NAMES[$1]}: exit $rc"
	tail -1 "$out" | awk -v d="$DURATION" '{ printf "%.3f %d\n", ($1 + $2) * 100 / d, $3 }'
}

median()
{
	sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -A CPU RSS
for ((r = 0; r < ROUNDS; r++)); do
	for ((j = 0; j < ${#NAMES[@]}; j++)); do
		i=$(((j + r) % ${#NAMES[@]}))
		read -r c m < <(run_one "$i")
		CPU[$i]+="$c "
		RSS[$i]+="$m "
		echo "round $r: ${NAMES[$i]}: ${c}% of a core, max RSS ${m} KiB"
	done
done
echo "ksight's last tally: $(grep -h '^samples' "$TMP/ksight.out" || true)"
echo
echo "| profiler | CPU % of a core (median) | max RSS MB (median) | CPU rounds |"
echo "| --- | ---: | ---: | --- |"
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	c=$(tr ' ' '\n' <<<"${CPU[$i]}" | grep . | median)
	m=$(tr ' ' '\n' <<<"${RSS[$i]}" | grep . | median)
	printf '| %s | %.2f | %.1f | %s |\n' "${NAMES[$i]}" "$c" "$(awk -v m="$m" 'BEGIN { print m / 1024 }')" \
		"${CPU[$i]}"
done
[ ${#FAILS[@]} = 0 ]
