#!/bin/bash
# Run the test suites against a build directory and print each runner's summary line.
#   scripts/run-tests.sh BUILD [unit|e2e|all] [pytest args...]
# Unit tests: every cmocka binary under BUILD/tests/unit. End-to-end: pytest (Debian's,
# /usr/bin/python3) over tests/e2e with KSIGHT pointing at BUILD/ksight (and
# KSIGHT_SELFTEST at BUILD/tests/ksight-selftest, the test instrument).
set -u
build=${1:?usage: run-tests.sh BUILD [unit|e2e|all]}
what=${2:-all}
shift $(( $# >= 2 ? 2 : 1 ))
rc=0

if [ "$what" = unit ] || [ "$what" = all ]; then
	passed=0 failed=0 skipped=0 bins=0
	for t in "$build"/tests/unit/test_*; do
		[ -x "$t" ] || continue
		bins=$((bins + 1))
		out=$("$t" 2>&1)
		st=$?
		p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p')
		f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p')
		# a test that cannot run here (cmocka's skip: no cgroup2 mount in a chroot)
		s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p')
		passed=$((passed + ${p:-0}))
		skipped=$((skipped + ${s:-0}))
		failed=$((failed + ${f:-0}))
		if [ $st -ne 0 ]; then
			printf '%s\n' "$out"
			rc=1
			[ -z "$f" ] && failed=$((failed + 1))
		fi
	done
	echo "unit (cmocka): $passed passed, $failed failed, $skipped skipped in $bins test programs"
fi

if [ "$what" = e2e ] || [ "$what" = all ]; then
	KSIGHT=$(readlink -f "$build/ksight") KSIGHT_HELPERS=$(readlink -f "$build/tests/e2e/helpers") \
		KSIGHT_SELFTEST=$(readlink -f "$build/tests/ksight-selftest") \
		/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e "$@" || rc=1
fi
exit $rc
