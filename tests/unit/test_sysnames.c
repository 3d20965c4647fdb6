// SPDX-License-Identifier: GPL-2.0
/* core/sysnames.c: the headers' table, the kernel's names over it, lookups both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/sysnames.h"

static struct ks_sysnames *t;

static int setup(void **state)
{
	t = malloc(sizeof(*t));
	assert_non_null(t);
	ks_sysnames_init(t);
	return 0;
}

static int teardown(void **state)
{
	free(t);
	return 0;
}

static const char *name(unsigned int nr)
{
	static char buf[KS_SYSNAME_LEN];

	return ks_sysnames_name(t, nr, buf, sizeof(buf));
}

/* x86_64 numbers never change: the generated table must put the names at them */
static void test_headers_known_numbers(void **state)
{
	assert_string_equal(name(0), "read");
	assert_string_equal(name(1), "write");
	assert_string_equal(name(39), "getpid");
	assert_string_equal(name(59), "execve");
	assert_string_equal(name(110), "getppid");
	assert_string_equal(name(231), "exit_group");
	assert_string_equal(name(257), "openat");
	assert_string_equal(name(435), "clone3");
	assert_int_equal(t->src[257], KS_SYSNAME_HEADERS);
	assert_int_equal(t->from_kernel, 0);
	/* the gap between rseq (334) and pidfd_send_signal (424) has no names */
	assert_string_equal(name(400), "syscall_400");
	assert_int_equal(t->src[400], KS_SYSNAME_NONE);
	assert_string_equal(name(KS_SYS_MAX), "syscall_512");
	assert_string_equal(name(100000), "syscall_100000");
}

static void test_unknown_into_small_buffer(void **state)
{
	char buf[8];

	assert_string_equal(ks_sysnames_name(t, 400, buf, sizeof(buf)), "syscall");	/* cut, ended */
}

static void test_kernel_names_replace_headers(void **state)
{
	assert_int_equal(ks_sysnames_set_kernel(t, 4, "sys_newstat"), 0);
	assert_string_equal(name(4), "newstat");
	assert_int_equal(t->src[4], KS_SYSNAME_KERNEL);
	assert_int_equal(t->from_kernel, 1);
	/* the same number again is not counted twice */
	assert_int_equal(ks_sysnames_set_kernel(t, 4, "sys_newstat"), 0);
	assert_int_equal(t->from_kernel, 1);
	/* a number the headers do not know */
	assert_int_equal(ks_sysnames_set_kernel(t, 462, "sys_mseal"), 0);
	assert_string_equal(name(462), "mseal");
	assert_int_equal(t->from_kernel, 2);
}

static void test_kernel_names_refused(void **state)
{
	char longname[64];

	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "sys_", 4);
	longname[4 + KS_SYSNAME_LEN] = 0;	/* KS_SYSNAME_LEN chars: no room for the NUL */
	assert_int_equal(ks_sysnames_set_kernel(t, 0, "read"), -1);	/* no sys_ prefix */
	assert_int_equal(ks_sysnames_set_kernel(t, 0, "sys_"), -1);
	assert_int_equal(ks_sysnames_set_kernel(t, 0, "sys_re ad"), -1);
	assert_int_equal(ks_sysnames_set_kernel(t, 0, longname), -1);
	assert_int_equal(ks_sysnames_set_kernel(t, -1, "sys_read"), -1);	/* nr unset */
	assert_int_equal(ks_sysnames_set_kernel(t, KS_SYS_MAX, "sys_read"), -1);
	assert_string_equal(name(0), "read");
	assert_int_equal(t->src[0], KS_SYSNAME_HEADERS);
	assert_int_equal(t->from_kernel, 0);
	longname[3 + KS_SYSNAME_LEN] = 0;	/* one shorter fits */
	assert_int_equal(ks_sysnames_set_kernel(t, 0, longname), 0);
	assert_int_equal(strlen(name(0)), KS_SYSNAME_LEN - 1);
}

static void test_name_to_number(void **state)
{
	assert_int_equal(ks_sysnames_nr(t, "read"), 0);
	assert_int_equal(ks_sysnames_nr(t, "getppid"), 110);
	assert_int_equal(ks_sysnames_nr(t, "openat"), 257);
	assert_int_equal(ks_sysnames_nr(t, "clone3"), 435);
	/* the kernel's name, and the headers' for the same number */
	ks_sysnames_set_kernel(t, 4, "sys_newstat");
	assert_int_equal(ks_sysnames_nr(t, "newstat"), 4);
	assert_int_equal(ks_sysnames_nr(t, "stat"), 4);
	/* syscall_NNN for any number in range, written the way names show it */
	assert_int_equal(ks_sysnames_nr(t, "syscall_400"), 400);
	assert_int_equal(ks_sysnames_nr(t, "syscall_0"), 0);
	assert_int_equal(ks_sysnames_nr(t, "syscall_511"), 511);
	assert_int_equal(ks_sysnames_nr(t, "syscall_512"), -1);
	assert_int_equal(ks_sysnames_nr(t, "syscall_0400"), -1);
	assert_int_equal(ks_sysnames_nr(t, "syscall_-1"), -1);
	assert_int_equal(ks_sysnames_nr(t, "syscall_"), -1);
	assert_int_equal(ks_sysnames_nr(t, "syscall_4x"), -1);
	assert_int_equal(ks_sysnames_nr(t, "nosuchcall"), -1);
	assert_int_equal(ks_sysnames_nr(t, "Read"), -1);
	assert_int_equal(ks_sysnames_nr(t, ""), -1);
	assert_int_equal(ks_sysnames_nr(t, NULL), -1);
}

static void test_every_name_round_trips(void **state)
{
	for (unsigned int nr = 0; nr < KS_SYS_MAX; nr++)
		assert_int_equal(ks_sysnames_nr(t, name(nr)), nr);
}

static void test_source_names(void **state)
{
	assert_string_equal(ks_sysnames_src_name(KS_SYSNAME_KERNEL), "kernel");
	assert_string_equal(ks_sysnames_src_name(KS_SYSNAME_HEADERS), "headers");
	assert_string_equal(ks_sysnames_src_name(KS_SYSNAME_NONE), "none");
	assert_string_equal(ks_sysnames_src_name(99), "none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_headers_known_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_into_small_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_names_replace_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_names_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_to_number, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_name_round_trips, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_names, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
