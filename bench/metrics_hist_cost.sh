#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What a `ksight run --metrics` histogram's program costs per run, log2 and linear, with
# this build and another (OLD, e.g. main's, log2 only: it has no linear buckets), from
# the kernel's own BPF statistics (--bpf-stats: run count and run time of the metric's
# program), on raw_syscalls:sys_enter under getpid_loop pinned to CPU.
#
#   [ROUNDS=5] [N=2000000] [CPU=1] [OLD=/path/to/old/ksight] bench/metrics_hist_cost.sh [BUILD]
#
# Each round runs every configuration in turn; the figure is the median over ROUNDS of
# run seconds / runs (ns per run) of the metric's program (a run that did not start, its
# page not read, is left out and shows as missing in "all rounds").
set -u
build=$(readlink -f "${1:-build}")
ROUNDS=${ROUNDS:-5}
N=${N:-2000000}
CPU=${CPU:-1}
OLD=${OLD:-}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
yaml() {	# NAME [BUCKETS] (none: log2, the default an OLD build knows)
	cat >"$tmp/$1.yaml" <<EOT
metrics:
  - name: hb_$1
    type: histogram
    probe: raw_syscalls:sys_enter
    value: id
    filter: 'comm == "getpid_loop"'
EOT
	[ $# -gt 1 ] && echo "    buckets: $2" >>"$tmp/$1.yaml"
}
yaml log2
yaml linear '{linear: {min: 0, max: 400, step: 10}}'
one() {		# KSIGHT NAME -> ns per run
	local port=$((20000 + RANDOM % 20000)) url body runs secs
	"$1" run --modules exec --no-store --listen 127.0.0.1:$port --bpf-stats \
		--metrics "$tmp/$2.yaml" 1 >/dev/null 2>"$tmp/err" &
	local pid=$!
	url=http://127.0.0.1:$port/metrics
	for _ in $(seq 100); do curl -sf "$url" >/dev/null && break; sleep 0.1; done
	taskset -c "$CPU" "$build/bench/helpers/getpid_loop" "$N" >/dev/null
	sleep 2.2
	body=$(curl -sf "$url")
	kill -INT $pid
	wait $pid
	local sel="{module=\"metrics:ksight_hb_$2\".*} "
	runs=$(echo "$body" | sed -n "s/^ksight_bpf_prog_runs_total$sel//p")
	secs=$(echo "$body" | sed -n "s/^ksight_bpf_prog_run_seconds_total$sel//p")
	awk -v r="$runs" -v s="$secs" 'BEGIN { printf "%.1f\n", r ? s * 1e9 / r : -1 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
confs="new:log2 new:linear"
[ -n "$OLD" ] && confs="old:log2 $confs"
for r in $(seq "$ROUNDS"); do
	for c in $confs; do
		bin=$build/ksight
		[ "${c%%:*}" = old ] && bin=$OLD
		echo "$c $(one "$bin" "${c#*:}")" >>"$tmp/res"
	done
	echo "round $r done" >&2
done
printf '| program | ns/run (median of %s) | all rounds |\n| --- | ---: | --- |\n' "$ROUNDS"
for c in $confs; do
	vals=$(awk -v c="$c" '$1 == c && $2 > 0 { print $2 }' "$tmp/res")	# -1: a failed run
	printf '| %s | %s | %s |\n' "$c" "$(echo "$vals" | median)" "$(echo $vals)"
done
