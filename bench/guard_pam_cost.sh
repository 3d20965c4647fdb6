#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What guard's libpam probes cost a login program: LOGINS PAM logins in one process
# (tests/e2e/helpers/pamlogin with a private stack of pam_permit: pam_start_confdir,
# pam_set_item(PAM_RHOST), pam_authenticate, pam_open_session, pam_close_session, pam_end;
# 9 probe hits a login under guard), wall microseconds per login, pinned to $CPU, against
# no tracer, guard with its three login rules switched off (no libpam probe attached: what
# the rest of guard costs this program), and a bpftrace script printing the user at
# pam_start, the remote host at pam_set_item and both results, in the same run.
#
#   [ROUNDS=5] [LOGINS=3000] [OLD=ksight] bench/guard_pam_cost.sh [BUILD]
#
# OLD: another ksight binary's guard as one more configuration (main's, before the names:
# two uretprobes only).
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
LOGINS=${LOGINS:-3000}
PAMLOGIN=$BUILD/tests/e2e/helpers/pamlogin
LIBPAM=/lib/x86_64-linux-gnu/libpam.so.0
OLD=${OLD:-}
bench_init guard_pam_cost "ROUNDS=$ROUNDS LOGINS=$LOGINS${OLD:+ OLD=$OLD}"
[ -x "$PAMLOGIN" ] || { echo "guard_pam_cost: $PAMLOGIN missing: make helpers" >&2; exit 1; }

mkdir -p "$TMP/pam.d"
printf 'auth sufficient pam_permit.so\nsession required pam_permit.so\n' >"$TMP/pam.d/ksight-ok"
printf 'rules:\n  - {name: login-ok, enabled: false}\n  - {name: login-failed, enabled: false}\n  - {name: session-open, enabled: false}\n' >"$TMP/nologin.yaml"
BPFTRACE_PAM="uprobe:$LIBPAM:pam_start_confdir { printf(\"start %d %s\\n\", pid, str(arg1)); }
uprobe:$LIBPAM:pam_set_item /arg1 == 4/ { printf(\"rhost %d %s\\n\", pid, str(arg2)); }
uretprobe:$LIBPAM:pam_authenticate { printf(\"auth %d %d\\n\", pid, retval); }
uretprobe:$LIBPAM:pam_open_session { printf(\"session %d %d\\n\", pid, retval); }"

# login_us OUTVAR: microseconds per login, or "-".
login_us()
{
	local __var=$1 t0 t1
	t0=$(date +%s.%N)
	if ! taskset -c "$CPU" "$PAMLOGIN" -c "$TMP/pam.d" -r 192.0.2.1 ksight-ok alice \
		"$LOGINS" >"$TMP/logins.out" 2>&1 ||
		[ "$(grep -c '^session 0$' "$TMP/logins.out")" != "$LOGINS" ]; then
		bench_fail "pamlogin: $(tail -2 "$TMP/logins.out" | tr '\n' ' ')"
		printf -v "$__var" '%s' -
		return 1
	fi
	t1=$(date +%s.%N)
	printf -v "$__var" '%s' "$(awk -v a="$t0" -v b="$t1" -v n="$LOGINS" \
		'BEGIN { printf "%.1f", (b - a) * 1e6 / n }')"
}

NAMES=("untraced" "ksight guard, login rules off" "ksight guard" "bpftrace")
[ -n "$OLD" ] && NAMES+=("OLD guard")
declare -a NS ALERTS

run_config()
{
	local i=$1 err="$TMP/err.$1.$2" out="$TMP/out.$1.$2" us
	case $i in
	0) ;;
	1) start_tracer ksight "$err" "$KSIGHT" guard -r "$TMP/nologin.yaml" || return ;;
	2)
		"$KSIGHT" guard --json >"$out" 2>"$err" &
		TRACER_PID=$!
		wait_line "$err" " ready in " "$TRACER_PID" 60 || {
			bench_fail "not ready: $(tail -3 "$err" | tr '\n' ' ')"
			stop_tracer "$TRACER_PID"
			return
		}
		sleep "$SETTLE"
		;;
	3) start_tracer peer:4 "$err" "$BPFTRACE" -e "$BPFTRACE_PAM" || return ;;
	4) start_tracer ksight "$err" "$OLD" guard || return ;;
	esac
	login_us us
	case $i in
	1 | 2 | 4) stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}" ;;
	3) stop_peer "$TRACER_PID" "$err" bpftrace ;;
	esac
	# guard's word: one login-ok and one session-open per login, each with the user
	[ "$i" = 2 ] && ALERTS[$2]=$(grep -c '"rule":"session-open".*"user":"alice","rhost":"192.0.2.1","pam_service":"ksight-ok"' "$out")
	NS[$i]+=" $us"
	printf '  round %d  %-30s %s us\n' "$2" "${NAMES[$i]}" "$us"
}

login_us warm
echo "  warm-up: $warm us per login"
rotate_rounds run_config
echo
echo "$LOGINS PAM logins in one process, wall us per login, median of $ROUNDS rounds"
echo
median_table config us
echo
echo "guard's session-open alerts with user, rhost and service, per round (of $LOGINS):" \
	"${ALERTS[*]:-}"
bench_finish
