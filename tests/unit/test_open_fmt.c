// SPDX-License-Identifier: GPL-2.0
/* modules/open_fmt.c: open(2) flags and syscall names as text. */
#include "testutil.h"

#include <fcntl.h>
#include <sys/syscall.h>

#include "modules/open_fmt.h"

static void flags(uint64_t f, const char *expect)
{
	char buf[256];
	size_t n = open_flags_str(f, buf, sizeof(buf));

	assert_string_equal(buf, expect);
	assert_int_equal(n, strlen(expect));
}

static void test_flags(void **state)
{
	flags(O_RDONLY, "O_RDONLY");
	flags(O_WRONLY, "O_WRONLY");
	flags(O_RDWR, "O_RDWR");
	flags(O_ACCMODE, "O_ACCMODE");
	flags(O_WRONLY | O_CREAT | O_TRUNC, "O_WRONLY|O_CREAT|O_TRUNC");
	flags(O_RDWR | O_CLOEXEC | O_DIRECTORY, "O_RDWR|O_DIRECTORY|O_CLOEXEC");
	flags(O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOCTTY,
	      "O_WRONLY|O_CREAT|O_EXCL|O_NOCTTY|O_APPEND");
	flags(O_RDONLY | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOFOLLOW | O_NOATIME | O_PATH,
	      "O_RDONLY|O_NONBLOCK|O_ASYNC|O_DIRECT|O_NOFOLLOW|O_NOATIME|O_PATH");
	/* the kernel's O_LARGEFILE bit (glibc's O_LARGEFILE is 0 on 64-bit) */
	flags(0100000, "O_RDONLY|O_LARGEFILE");
}

static void test_composite_flags(void **state)
{
	/* O_SYNC is __O_SYNC | O_DSYNC: named whole, O_DSYNC alone is itself */
	flags(O_WRONLY | O_SYNC, "O_WRONLY|O_SYNC");
	flags(O_WRONLY | O_DSYNC, "O_WRONLY|O_DSYNC");
	flags(O_WRONLY | (O_SYNC & ~O_DSYNC), "O_WRONLY|0x100000");	/* __O_SYNC alone */
	/* O_TMPFILE is __O_TMPFILE | O_DIRECTORY */
	flags(O_RDWR | O_TMPFILE, "O_RDWR|O_TMPFILE");
	flags(O_RDWR | O_TMPFILE | O_EXCL, "O_RDWR|O_TMPFILE|O_EXCL");
	flags(O_DIRECTORY, "O_RDONLY|O_DIRECTORY");
	flags(O_RDWR | (O_TMPFILE & ~O_DIRECTORY), "O_RDWR|0x400000");
	flags(O_WRONLY | O_SYNC | O_TMPFILE | O_CLOEXEC, "O_WRONLY|O_SYNC|O_TMPFILE|O_CLOEXEC");
}

static void test_unknown_bits(void **state)
{
	flags(O_CREAT | 1ULL << 40, "O_RDONLY|O_CREAT|0x10000000000");
	flags(1ULL << 63 | 1ULL << 31 | 040000000, "O_RDONLY|0x8000000080800000");
}

static void test_truncation(void **state)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	assert_int_equal(open_flags_str(O_WRONLY | O_CREAT, buf, 5), 4);
	assert_string_equal(buf, "O_WR");
	assert_int_equal(buf[5], 'x');	/* nothing written past len */
	assert_int_equal(open_flags_str(O_WRONLY | O_CREAT, buf, 8), 7);
	assert_string_equal(buf, "O_WRONL");
	assert_int_equal(open_flags_str(O_RDONLY, buf, 8), 7);	/* exactly "O_RDONLY" cut */
	assert_string_equal(buf, "O_RDONL");
	assert_int_equal(open_flags_str(O_RDONLY, buf, 1), 0);
	assert_string_equal(buf, "");
	/* a cut in the hex tail */
	{
		char mid[20];

		assert_int_equal(open_flags_str(1ULL << 40, mid, sizeof(mid)), 19);
		assert_string_equal(mid, "O_RDONLY|0x10000000");
	}
}

static void test_sys_name(void **state)
{
	assert_string_equal(open_sys_name(SYS_open), "open");
	assert_string_equal(open_sys_name(SYS_openat), "openat");
	assert_string_equal(open_sys_name(SYS_openat2), "openat2");
	assert_string_equal(open_sys_name(SYS_creat), "creat");
	assert_string_equal(open_sys_name(SYS_read), "?");
	assert_string_equal(open_sys_name(UINT32_MAX), "?");
	/* the x86_64 numbers the kernel side routes */
	assert_int_equal(SYS_open, 2);
	assert_int_equal(SYS_openat, 257);
	assert_int_equal(SYS_openat2, 437);
	assert_int_equal(SYS_creat, 85);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags),	     cmocka_unit_test(test_composite_flags),
		cmocka_unit_test(test_unknown_bits), cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_sys_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
