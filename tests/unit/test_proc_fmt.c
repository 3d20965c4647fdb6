// SPDX-License-Identifier: GPL-2.0
/* modules/proc_fmt.c: clone flag names, wait statuses, durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "modules/proc_fmt.h"
#include "proc.h"

#define THREAD_FLAGS (PROC_CLONE_VM | PROC_CLONE_FS | PROC_CLONE_FILES | PROC_CLONE_SIGHAND | \
		      PROC_CLONE_THREAD)

static void test_names(void **state)
{
	char buf[256];
	const char want[] = "CLONE_VM\0CLONE_FS\0CLONE_FILES\0CLONE_SIGHAND\0CLONE_THREAD";
	size_t n = proc_flags_names(THREAD_FLAGS, buf, sizeof(buf));

	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(buf, want, n);
	assert_int_equal(proc_flags_names(0, buf, sizeof(buf)), 0);
	/* unknown bits (CLONE_SETTLS) have no name */
	assert_int_equal(proc_flags_names(0x00080000, buf, sizeof(buf)), 0);
	n = proc_flags_names(PROC_CLONE_NEWTIME | PROC_CLONE_NEWNET, buf, sizeof(buf));
	assert_int_equal(n, strlen("CLONE_NEWTIME") + 1 + strlen("CLONE_NEWNET"));
	/* a name that does not fit is left out whole */
	n = proc_flags_names(THREAD_FLAGS, buf, 20);
	assert_int_equal(n, strlen("CLONE_VM") + 1 + strlen("CLONE_FS"));
}

static void test_short(void **state)
{
	char buf[64];

	assert_int_equal(proc_flags_short(THREAD_FLAGS, buf, sizeof(buf)),
			 strlen("VM|FS|FILES|SIGHAND|THREAD"));
	assert_string_equal(buf, "VM|FS|FILES|SIGHAND|THREAD");
	assert_int_equal(proc_flags_short(PROC_CLONE_VM | PROC_CLONE_VFORK, buf, sizeof(buf)), 8);
	assert_string_equal(buf, "VM|VFORK");
	assert_int_equal(proc_flags_short(0, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "-");
	assert_int_equal(proc_flags_short(THREAD_FLAGS, buf, 9), 5);
	assert_string_equal(buf, "VM|FS");
	assert_int_equal(proc_flags_short(THREAD_FLAGS, buf, 0), 0);
}

static void test_status(void **state)
{
	char buf[64];

	assert_int_equal(proc_status_text(7 << 8, buf, sizeof(buf)), 6);
	assert_string_equal(buf, "code 7");
	proc_status_text(9, buf, sizeof(buf));
	assert_string_equal(buf, "killed by KILL");
	proc_status_text(11 | 0x80, buf, sizeof(buf));
	assert_string_equal(buf, "killed by SEGV (core dumped)");
	proc_status_text(100, buf, sizeof(buf));
	assert_string_equal(buf, "killed by signal 100");
	assert_int_equal(proc_status_text(9, buf, 6), 5);
	assert_string_equal(buf, "kille");
}

static void test_ns(void **state)
{
	char buf[16];

	proc_fmt_ns(850, buf, sizeof(buf));
	assert_string_equal(buf, "850ns");
	proc_fmt_ns(12345, buf, sizeof(buf));
	assert_string_equal(buf, "12.3us");
	proc_fmt_ns(4560000, buf, sizeof(buf));
	assert_string_equal(buf, "4.6ms");
	proc_fmt_ns(1234000000, buf, sizeof(buf));
	assert_string_equal(buf, "1.234s");
	assert_int_equal(proc_fmt_ns(1234000000, buf, 4), 3);
	assert_string_equal(buf, "1.2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_short),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_ns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
