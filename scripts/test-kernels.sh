#!/bin/bash
# make test-kernels: the same BUILD/ksight (CO-RE, built once on the host) on several
# kernels: this host's own, then Debian's 5.10, 6.1 and 6.12 booted under qemu (TCG).
#   scripts/test-kernels.sh BUILD
# On each kernel it prints `ksight status` into the log and runs the end-to-end tests
# marked `kernels` (tests/e2e/conftest.py): each module's cheapest exact test with the
# default hooks and with every hook family forced. One summary line per kernel, then a
# totals line; exit 1 if any kernel fails or does not boot.
# Env: KSIGHT_KERNELS   which kernels ("host 5.10 6.1 6.12")
#      KSIGHT_KERNEL_CACHE   packages and unpacked kernels (/var/cache/ksight-kernels);
#                            a second run downloads nothing (scripts/kernels/fetch.sh)
#      KSIGHT_KERNEL_TIMEOUT seconds per guest (2400: TCG on a busy 2-vCPU host; a guest
#                            runs its ~200 tests in 17-20 minutes here, quiet: 1029 s on
#                            5.10 and 1154 s on 6.1 on 2026-12-05, so 1200 was too close)
# Logs: BUILD/test-kernels/<kernel>.log (status and pytest), .log.console (kernel).
# Timings from the guests are TCG timings: only the wall time of the run is shown.
set -u
build=$(readlink -f "${1:?usage: test-kernels.sh BUILD}")
kernels=${KSIGHT_KERNELS:-host 5.10 6.1 6.12}
cache=${KSIGHT_KERNEL_CACHE:-/var/cache/ksight-kernels}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.." || exit 1    # the guests run the tests from the source tree
logs=$build/test-kernels
families="fentry kprobe tp_btf raw_tp tp"

# What the Debian kernels are known to allow (measured, docs/KERNELS.md): BPF trampolines,
# so every slot with an fentry alternative must choose it (unless the kernel lacks its
# target), and a tp_btf dispatcher. The tests hold ksight's probes to this; ksight itself
# decides by probing, never by version.
debian_expect="dispatcher=tp_btf exec=fentry open=fentry *=fentry"

if [ "$(id -u)" != 0 ]; then
	echo "test-kernels: run as root (BPF, apt-get, the host's / shared with the guests)" >&2
	exit 1
fi
[ -x "$build/ksight" ] || { echo "test-kernels: no $build/ksight (make first)" >&2; exit 2; }
# qemu and its firmware, the initrd's tools (boot.sh), apt's keyring and awk (fetch.sh)
"$here/install-deps.sh" qemu-system-x86 busybox-static kmod cpio xz-utils file \
	debian-archive-keyring mawk || exit 1
mkdir -p "$logs"
# The guests read the binaries over 9p while they run (20 minutes or more): a copy, so
# that a rebuild meanwhile is not half-read by a guest. vmlinux.h: test_userbpf builds the
# examples against it, from beside the binary, and checks the page with promtool from
# prometheus/ (a link: 113 MB, never rebuilt meanwhile).
snap=$logs/build
rm -rf "$snap" && mkdir -p "$snap/tests" &&
	cp -a "$build/ksight" "$build/vmlinux.h" "$snap/" &&
	cp -a "$build/tests/e2e" "$build/tests/ksight-selftest" "$snap/tests/" &&
	{ [ ! -d "$build/prometheus" ] || ln -s "$build/prometheus" "$snap/prometheus"; } || {
	echo "test-kernels: cannot copy the build to $snap" >&2
	exit 1
}

# "N passed, M failed, K skipped" counts from the pytest summary line in a log.
count() {
	grep -oE "[0-9]+ $2" <<< "$1" | awk '{ s += $1 } END { print s + 0 }'
}

# Families proven on this kernel: parameters of the tests that passed (not the status ones).
proven() {
	local got f out=""
	got=$(grep -oE '^PASSED tests/e2e/[^ ]+' "$1" | grep -v -e test_kernel_hooks -e _refused_ |
		grep -oE '\[[^]]*\]' | tr -d '[]' | tr -- '-' '\n' | sort -u)
	for f in $families; do
		grep -qx "$f" <<< "$got" && out="$out${out:+, }$f"
	done
	echo "${out:-default hooks only}"
}

# The lsm= option that adds bpf to a kernel's default LSM list, if it has BPF LSM but
# does not enable it by default (5.10).
lsm_append() {
	local cfg list
	cfg=$(ls "$1"/boot/config-* 2>/dev/null | head -1)
	[ -n "$cfg" ] && grep -qx 'CONFIG_BPF_LSM=y' "$cfg" || return 0
	list=$(sed -n 's/^CONFIG_LSM="\(.*\)"$/\1/p' "$cfg")
	case ",$list," in *,bpf,*) ;; *) echo "lsm=${list:+$list,}bpf" ;; esac
}

total_pass=0 total_fail=0 total_skip=0 dead=0 rc=0
start=$(date +%s.%N)
for k in $kernels; do
	t0=$SECONDS
	if [ "$k" = host ]; then
		name="$(uname -r) (host)"
		log=$logs/host.log
		"$here/kernels/guest.sh" "$snap" > "$log" 2>&1
		st=$?
	else
		tree=$("$here/kernels/fetch.sh" "$k" "$cache") || {
			echo "kernel $k: FAILED, could not fetch it"
			dead=$((dead + 1)) rc=1
			continue
		}
		name=${tree##*/linux-image-}
		log=$logs/$name.log
		bpf_lsm=0
		grep -qx 'CONFIG_BPF_LSM=y' "$tree"/boot/config-* && bpf_lsm=1
		# a guest that did not boot or hung before its tests ended (TCG on a busy host) is
		# booted once more; a test that failed is not
		for try in 1 2; do
			KSIGHT_QEMU_APPEND=$(lsm_append "$tree") \
				KSIGHT_QEMU_TIMEOUT=${KSIGHT_KERNEL_TIMEOUT:-2400} \
				"$here/kernels/boot.sh" "$tree" "$log" -- env \
				KSIGHT_EXPECT_HOOKS="$debian_expect" KSIGHT_EXPECT_BPF_LSM=$bpf_lsm \
				KSIGHT_TEST_SLOW=4 KSIGHT_TEST_SCALE=10 \
				"$here/kernels/guest.sh" "$snap"
			st=$?
			case $st in 124 | 125) ;; *) break ;; esac
			grep -qE '^=* ?[0-9]+ (passed|failed)' "$log" && break
			[ $try = 1 ] && echo "kernel $name: no result (exit $st), booting it again"
			[ $try = 1 ] && cp "$log" "$log.try1" && cp "$log.console" "$log.console.try1" 2>/dev/null
		done
	fi
	summary=$(grep -E '^=* ?[0-9]+ (passed|failed|error|skipped|deselected)' "$log" | tail -1)
	if [ -z "$summary" ]; then
		case $st in
		124) why="timed out" ;;
		125) why="did not boot or gave no status" ;;
		*) why="no test summary (exit $st)" ;;
		esac
		echo "kernel $name: FAILED, $why after $((SECONDS - t0))s; log: $log"
		tail -n 20 "$log" "$log.console" 2>/dev/null | sed 's/^/    /'
		dead=$((dead + 1)) rc=1
		continue
	fi
	p=$(count "$summary" passed)
	f=$(($(count "$summary" failed) + $(count "$summary" error)))
	s=$(count "$summary" skipped)
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f)) total_skip=$((total_skip + s))
	echo "kernel $name: $p passed, $f failed, $s skipped ($(proven "$log"))"
	if [ "$f" -gt 0 ] || [ "$st" -ne 0 ]; then
		rc=1
		grep -E '^(FAILED|ERROR) ' "$log" | cut -c1-400 | sed 's/^/    /'
		# what failed, for a reader who sees only this output (CI): the assertions
		grep -E '^E  ' "$log" | head -n 20 | cut -c1-400 | sed 's/^/    /'
		echo "    log: $log"
	fi
done

line="$total_pass passed"
[ $total_fail -gt 0 ] && line="$total_fail failed, $line"
[ $total_skip -gt 0 ] && line="$line, $total_skip skipped"
[ $dead -gt 0 ] && line="$line, $dead kernels did not run"
echo "=== $line in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s ==="
exit $rc
