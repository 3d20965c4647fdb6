# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Shared by bench/agent_*.sh (sourced, bash): the agent `ksight run` (every module at its
# defaults) and the two peer sets it is measured against, each started as a user would
# start it, system-wide, with its output on /dev/null.
#
#   libbpf-tools set: Debian's execsnoop, opensnoop, biolatency, tcplife, runqlat and
#                     syscount (/usr/sbin, no arguments), all running together;
#   bpftrace set:     Debian's execsnoop.bt, opensnoop.bt, biolatency.bt, tcplife.bt,
#                     runqlat.bt and syscount.bt, each in its own bpftrace, together.
#
# Each tool is first tried alone (peers_probe): it must attach something (bpftool perf show,
# or the bpf_link fds it holds), keep running and exit 0 on SIGINT; the number of
# attachments it reached is what every later start must reach before measuring. A Debian
# bpftrace tool that cannot work here is replaced by the equivalent written below (kprobes
# moved to tracepoints, or a header's constant written in; the same maps and output); a
# libbpf-tools program that cannot is left out. Either is printed in the header with the
# tool's own message, and in the set's row name. During a measured run a tool of a set
# that exits fails the run.

# shellcheck source=SCRIPTDIR/rw_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/rw_common.sh"
# shellcheck source=SCRIPTDIR/agent_rows.sh
. "$(dirname "${BASH_SOURCE[0]}")/agent_rows.sh"
PEER_TOOLS=(execsnoop opensnoop biolatency tcplife runqlat syscount)
PEER_PROBE_SECS=${PEER_PROBE_SECS:-20}	# how long a tool may take to attach when tried alone
declare -A PEER_CMD PEER_ATT PEER_SHOW
LT_SET=()
BT_SET=()
PEER_NOTES=()

# loop_abort: the rwloop started by loop_start is not wanted (its tracer did not start).
loop_abort()
{
	exec 7>&-
	wait "$LOOP_JOB" 2>/dev/null
}

# attachments PID...: for each PID, how many BPF attachments it owns: the larger of its
# entries in `bpftool perf show` (tracepoints, kprobes, uprobes, raw tracepoints) and its
# bpf_link file descriptors (tp_btf and other links).
attachments()
{
	bpftool -j perf show 2>/dev/null | python3 -c '
import json, os, sys
try:
    perf = [e.get("pid") for e in json.load(sys.stdin)]
except ValueError:
    perf = []
out = []
for p in sys.argv[1:]:
    links = 0
    try:
        for fd in os.listdir("/proc/%s/fd" % p):
            try:
                links += os.readlink("/proc/%s/fd/%s" % (p, fd)) == "anon_inode:bpf_link"
            except OSError:
                pass
    except OSError:
        pass
    out.append(str(max(links, perf.count(int(p)))))
print(" ".join(out))' "$@"
}

# The bpftrace equivalents, for a Debian tool that cannot run here (written to TMP/bt).
peer_write_equivalents()
{
	mkdir -p "$TMP/bt"
	# biolatency.bt uses kprobe:blk_account_io_start/done. The block tracepoints, keyed by
	# device and sector as bcc's biolatency does without -Q.
	cat >"$TMP/bt/biolatency.bt" <<'EOF'
BEGIN
{
	printf("Tracing block device I/O... Hit Ctrl-C to end.\n");
}

tracepoint:block:block_rq_issue
{
	@start[args->dev, args->sector] = nsecs;
}

tracepoint:block:block_rq_complete
/@start[args->dev, args->sector]/
{
	@usecs = hist((nsecs - @start[args->dev, args->sector]) / 1000);
	delete(@start[args->dev, args->sector]);
}

END
{
	clear(@start);
}
EOF
	# tcplife.bt uses kprobe:tcp_set_state. sock:inet_sock_set_state carries the socket,
	# the new state, ports and addresses; the states are numbers (no kernel headers:
	# SYN_SENT 2, FIN_WAIT1 4, CLOSE 7, LAST_ACK 9), IPPROTO_TCP 6, AF_INET 2, AF_INET6 10.
	cat >"$TMP/bt/tcplife.bt" <<'EOF'
BEGIN
{
	printf("%-5s %-10s %-15s %-5s %-15s %-5s ", "PID", "COMM",
	    "LADDR", "LPORT", "RADDR", "RPORT");
	printf("%5s %5s %s\n", "TX_KB", "RX_KB", "MS");
}

tracepoint:sock:inet_sock_set_state
/args->protocol == 6/
{
	$sk = args->skaddr;
	$newstate = args->newstate;
	if ($newstate < 4 && @birth[$sk] == 0) {
		@birth[$sk] = nsecs;
	}
	if ($newstate == 2 || $newstate == 9) {
		@skpid[$sk] = pid;
		@skcomm[$sk] = comm;
	}
	if ($newstate == 7 && @birth[$sk]) {
		$delta_ms = (nsecs - @birth[$sk]) / 1e6;
		$tp = (struct tcp_sock *)$sk;
		$pid = @skpid[$sk];
		$comm = @skcomm[$sk];
		if ($comm == "") {
			$pid = pid;
			$comm = comm;
		}
		if (args->family == 2) {
			$saddr = ntop(2, args->saddr);
			$daddr = ntop(2, args->daddr);
		} else {
			$saddr = ntop(10, args->saddr_v6);
			$daddr = ntop(10, args->daddr_v6);
		}
		printf("%-5d %-10.10s %-15s %-5d %-15s %-6d ", $pid,
		    $comm, $saddr, args->sport, $daddr, args->dport);
		printf("%5d %5d %d\n", $tp->bytes_acked / 1024,
		    $tp->bytes_received / 1024, $delta_ms);
		delete(@birth[$sk]);
		delete(@skpid[$sk]);
		delete(@skcomm[$sk]);
	}
}

END
{
	clear(@birth); clear(@skpid); clear(@skcomm);
}
EOF
	# runqlat.bt includes <linux/sched.h> for TASK_RUNNING; without kernel headers that
	# fails to parse. The same script with the constant (0) instead of the include.
	sed -e 's|^#include <linux/sched.h>|// TASK_RUNNING is 0 (no kernel headers)|' \
		-e 's/== TASK_RUNNING/== 0/' /usr/sbin/runqlat.bt >"$TMP/bt/runqlat.bt"
}

# peer_errline FILE: the tool's first line worth showing (bpftrace's RLIMIT_MEMLOCK notice
# is printed on every start and harmless).
peer_errline()
{
	grep -v 'RLIMIT_MEMLOCK\|^[[:space:]]*$' "$1" 2>/dev/null | head -1 | cut -c1-240
}

# peer_probe KEY CMD...: run one tool alone until its attachment count is above 0 and
# steady for 1.5 s (at most PEER_PROBE_SECS), then SIGINT; it must exit 0. On success
# records PEER_CMD[KEY] and PEER_ATT[KEY]; on failure sets PROBE_WHY and returns 1.
peer_probe()
{
	local key=$1 err="$TMP/probe.$RANDOM" pid n last=-1 since t0 st
	shift
	"$@" >/dev/null 2>"$err" &
	pid=$!
	t0=${EPOCHREALTIME/./}
	since=$t0
	while kill -0 "$pid" 2>/dev/null; do
		n=$(attachments "$pid")
		[ "$n" != "$last" ] && since=${EPOCHREALTIME/./}
		last=$n
		[ "$n" -gt 0 ] && [ $((${EPOCHREALTIME/./} - since)) -ge 1500000 ] && break
		[ $((${EPOCHREALTIME/./} - t0)) -ge $((PEER_PROBE_SECS * 1000000)) ] && break
		sleep 0.1
	done
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid"
		st=$?
		PROBE_WHY="exits at start (status $st): $(peer_errline "$err")"
		return 1
	fi
	stop_tracer "$pid"
	st=$STOP_STATUS
	if [ "${last:-0}" -le 0 ]; then
		PROBE_WHY="runs but attaches nothing in $PEER_PROBE_SECS s: $(peer_errline "$err")"
		return 1
	fi
	if [ "$st" != 0 ]; then
		PROBE_WHY="exits $st on SIGINT: $(peer_errline "$err")"
		return 1
	fi
	PEER_CMD[$key]="$*"
	PEER_ATT[$key]=$last
	return 0
}

# peers_probe: try every tool of both sets alone; fills LT_SET and BT_SET (tool names),
# PEER_SHOW (what the header calls each) and PEER_NOTES (what was replaced or left out).
peers_probe()
{
	local t why
	peer_write_equivalents
	for t in "${PEER_TOOLS[@]}"; do
		if peer_probe "lt:$t" "/usr/sbin/$t"; then
			LT_SET+=("$t")
			PEER_SHOW[lt:$t]=$t
		else
			PEER_NOTES+=("libbpf-tools $t left out of its set: $PROBE_WHY")
		fi
	done
	for t in "${PEER_TOOLS[@]}"; do
		if peer_probe "bt:$t" "$BPFTRACE" "/usr/sbin/$t.bt"; then
			BT_SET+=("$t")
			PEER_SHOW[bt:$t]=$t.bt
			continue
		fi
		why=$PROBE_WHY
		if [ -f "$TMP/bt/$t.bt" ] && peer_probe "bt:$t" "$BPFTRACE" "$TMP/bt/$t.bt"; then
			BT_SET+=("$t")
			PEER_SHOW[bt:$t]="$t (equivalent)"
			PEER_NOTES+=("bpftrace $t.bt $why; replaced by the equivalent that\
 bench/agent_common.sh writes (its comment says what differs)")
		else
			[ -f "$TMP/bt/$t.bt" ] && why+="; the equivalent too: $PROBE_WHY"
			PEER_NOTES+=("bpftrace $t.bt left out of its set: $why")
		fi
	done
	[ ${#LT_SET[@]} -gt 0 ] || bench_fail "no libbpf-tools program runs here"
	[ ${#BT_SET[@]} -gt 0 ] || bench_fail "no bpftrace tool runs here"
}

# set_label lt|bt: the row name of a set, saying what is left out or replaced.
set_label()
{
	local -n members=${1^^}_SET
	local t out=() eq=0
	for t in "${PEER_TOOLS[@]}"; do
		[[ " ${members[*]} " == *" $t "* ]] || out+=("$t")
		[[ "${PEER_SHOW[$1:$t]:-}" == *equivalent* ]] && eq=$((eq + 1))
	done
	if [ "$1" = lt ]; then
		printf 'libbpf-tools set (%d tools' "${#members[@]}"
	else
		printf 'bpftrace set (%d tools' "${#members[@]}"
	fi
	[ ${#out[@]} = 0 ] || printf ', without %s' "${out[*]}"
	[ $eq = 0 ] || printf ', %d replaced by equivalents' $eq
	echo ")"
}

# set_start lt|bt: every tool of the set at once, stdout on /dev/null; returns once each
# owns as many attachments as when it was tried alone (then SETTLE s), or 1 with a
# failure recorded (and the set stopped) if one died or did not attach within 60 s.
set_start()
{
	local s=$1 t i n ok t0
	local -n members=${1^^}_SET
	SET_PIDS=()
	SET_KEYS=()
	SET_ERRS=()
	for t in "${members[@]}"; do
		SET_KEYS+=("$s:$t")
		SET_ERRS+=("$TMP/err.$s.$t.$RANDOM")
		# shellcheck disable=SC2086 # a command line of plain words
		${PEER_CMD[$s:$t]} >/dev/null 2>"${SET_ERRS[-1]}" &
		SET_PIDS+=($!)
	done
	t0=$SECONDS
	while :; do
		read -r -a n <<<"$(attachments "${SET_PIDS[@]}")"
		ok=1
		for i in "${!SET_PIDS[@]}"; do
			if ! kill -0 "${SET_PIDS[$i]}" 2>/dev/null; then
				bench_fail "${SET_KEYS[$i]} exited at start: $(peer_errline "${SET_ERRS[$i]}")"
				set_stop quiet
				return 1
			fi
			[ "${n[$i]:-0}" -ge "${PEER_ATT[${SET_KEYS[$i]}]}" ] || ok=0
		done
		[ $ok = 1 ] && break
		if [ $((SECONDS - t0)) -ge 60 ]; then
			for i in "${!SET_PIDS[@]}"; do
				[ "${n[$i]:-0}" -ge "${PEER_ATT[${SET_KEYS[$i]}]}" ] ||
					bench_fail "not attached in 60 s: ${SET_KEYS[$i]} (${n[$i]:-0} of" \
						"${PEER_ATT[${SET_KEYS[$i]}]})"
			done
			set_stop quiet
			return 1
		fi
		sleep 0.1
	done
	sleep "$SETTLE"
}

# set_stop [quiet]: every tool of the running set must still run; SIGINT to all, each must
# exit 0 (10 s, then SIGINT again as stop_tracer does, 10 s more, then SIGKILL: a failure).
# "quiet" only stops them.
set_stop()
{
	local i k alive=()
	for i in "${!SET_PIDS[@]}"; do
		if kill -0 "${SET_PIDS[$i]}" 2>/dev/null; then
			alive[$i]=1
		else
			alive[$i]=0
			[ "${1:-}" = quiet ] || bench_fail "${SET_KEYS[$i]} exited during the run:" \
				"$(peer_errline "${SET_ERRS[$i]}")"
		fi
		kill -INT "${SET_PIDS[$i]}" 2>/dev/null
	done
	for i in "${!SET_PIDS[@]}"; do
		for ((k = 0; k < 400; k++)); do
			kill -0 "${SET_PIDS[$i]}" 2>/dev/null || break
			if [ $k = 200 ]; then
				echo "note: ${SET_KEYS[$i]} still running 10 s after SIGINT: again" >&2
				kill -INT "${SET_PIDS[$i]}" 2>/dev/null
			fi
			sleep 0.05
		done
		if kill -0 "${SET_PIDS[$i]}" 2>/dev/null; then
			kill -KILL "${SET_PIDS[$i]}" 2>/dev/null
			[ "${1:-}" = quiet ] || bench_fail "${SET_KEYS[$i]} did not stop on SIGINT"
		fi
		wait "${SET_PIDS[$i]}" 2>/dev/null
		STOP_STATUS=$?
		[ "${1:-}" = quiet ] || [ "${alive[$i]}" = 0 ] || [ "$STOP_STATUS" = 0 ] ||
			bench_fail "${SET_KEYS[$i]} exited $STOP_STATUS on SIGINT:" \
				"$(peer_errline "${SET_ERRS[$i]}")"
	done
	SET_PIDS=()
}

# row_stop I ERR: stop what row I of an agent benchmark started (0: nothing, untraced;
# 1: ksight run; 2 and 3: a peer set; 4: floortrace; 5: ksight run with everything on;
# 6 and on: ksight run with one opt-in module more, module_rows, or resource_rows' two);
# its loss into LOST[I] and a note on what it counted into ROW_NOTE.
row_stop()
{
	local i=$1 err=$2 kind=$1

	ROW_NOTE=
	# the resource floor row (agent_rows.sh) is a floortrace, as row 4
	[ "$i" = "${RESOURCE_FLOOR_ROW:-}" ] && kind=4
	case $kind in
	0) ;;
	1 | [6-9] | [1-9][0-9])
		stop_ksight "$TRACER" "$err"
		LOST[$i]+=" $KS_LOST"
		ROW_NOTE="  ($KS_EVENTS events, $KS_LOST lost)"
		;;
	2 | 3) set_stop ;;
	5)
		everything_stop "$err"
		LOST[$i]+=" $KS_LOST"
		ROW_NOTE="  ($KS_EVENTS events, $KS_LOST lost)"
		;;
	*)
		stop_floor "$TRACER" "$err"
		LOST[$i]+=" $FL_LOST"
		ROW_NOTE="  ($FL_RECORDS records, $FL_LOST lost)"
		;;
	esac
}

# agent_init NAME "KNOBS" PACKAGES...: rw_init, then the header's other tracers, the
# agent's own start-up line (a module the kernel refuses shows there) and the peer sets.
agent_init()
{
	local name=$1 knobs=$2 out t
	shift 2
	rw_init "$name" "$knobs" libbpf-tools util-linux "$@"
	echo "other tracers running: $(other_tracers)"
	if ! out=$(timeout 60 "$KSIGHT" run --duration 1 2>&1 >/dev/null); then
		bench_fail "ksight run --duration 1: $(tail -2 <<<"$out" | tr '\n' ' ')"
	fi
	grep -v '^[0-9]* events, ' <<<"$out" | sed 's/^/agent:   /'
	! grep -q 'module skipped' <<<"$out" ||
		echo "WARNING: the agent skips a module here: its figures are without that module"
	peers_probe
	printf 'libbpf-tools set:'
	for t in "${LT_SET[@]}"; do
		printf ' %s (%s)' "${PEER_SHOW[lt:$t]}" "${PEER_ATT[lt:$t]}"
	done
	printf '\nbpftrace set:    '
	for t in "${BT_SET[@]}"; do
		printf ' %s (%s)' "${PEER_SHOW[bt:$t]}" "${PEER_ATT[bt:$t]}"
	done
	printf '\n                  (attachments each reaches alone; every start must reach them)\n'
	for t in "${PEER_NOTES[@]}"; do
		echo "note:    $t"
	done
}
