// SPDX-License-Identifier: GPL-2.0
/* core/userbpf_type.c and userbpf_man.c: label values of each kind of key member as
 * ksight run --bpf shows them, integers (signed, bitfields), and the manifest's parsing. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/userbpf_int.h"

static void test_labels(void **state)
{
	struct {
		char comm[16];
		unsigned char addr[4];
		unsigned char addr6[16];
		short level;
		unsigned short ports[3];
		unsigned int bits;
	} k = { "bash", { 10, 1, 2, 3 }, { 0xfd, 0x52, [15] = 1 }, -7, { 80, 443, 8080 },
		(5u << 3) | 1u };
	struct ub_field comm = { .kind = UB_STR, .off = 0, .elem = 1, .nelem = 16, .size = 16 };
	struct ub_field addr = { .kind = UB_ARR, .off = 16, .elem = 1, .nelem = 4, .size = 4,
				 .addr = true };
	struct ub_field addr6 = { .kind = UB_ARR, .off = 20, .elem = 1, .nelem = 16, .size = 16,
				  .addr = true };
	struct ub_field level = { .kind = UB_INT, .off = 36, .size = 2, .sign = true };
	struct ub_field ports = { .kind = UB_ARR, .off = 38, .elem = 2, .nelem = 3, .size = 6 };
	struct ub_field bits = { .kind = UB_INT, .off = 44, .size = 4, .bit_off = 3, .bits = 4 };
	struct ub_field sbits = { .kind = UB_INT, .off = 44, .size = 4, .bit_off = 3, .bits = 3,
				  .sign = true };
	char buf[64];

	ub_label(&comm, &k, buf, sizeof(buf));
	assert_string_equal(buf, "bash");
	ub_label(&addr, &k, buf, sizeof(buf));
	assert_string_equal(buf, "10.1.2.3");
	ub_label(&addr6, &k, buf, sizeof(buf));
	assert_string_equal(buf, "fd52::1");
	ub_label(&level, &k, buf, sizeof(buf));
	assert_string_equal(buf, "-7");
	ub_label(&ports, &k, buf, sizeof(buf));
	assert_string_equal(buf, "80,443,8080");
	assert_int_equal(ub_int(&bits, &k), 5);
	assert_int_equal((int64_t)ub_int(&sbits, &k), -3);	/* 0b101 in 3 signed bits */
	/* a string that fills its array has no NUL */
	memcpy(k.comm, "0123456789abcdef", 16);
	ub_label(&comm, &k, buf, sizeof(buf));
	assert_string_equal(buf, "0123456789abcdef");
}

static void test_manifest(void **state)
{
	char path[] = "/tmp/ksight-ubman-XXXXXX", err[256];
	struct ub_manifest *m = calloc(1, sizeof(*m));
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	assert_non_null(f);
	fputs("# comment\n\n  map.a.name = first  \nmap.a.label.x=y\nmap.a.name = second\n", f);
	fclose(f);
	assert_int_equal(ub_manifest_read(path, m, err, sizeof(err)), 0);
	assert_int_equal(m->n, 3);
	assert_string_equal(ub_manifest_get(m, "map.%s.name", "a"), "second");	/* last wins */
	assert_string_equal(ub_manifest_get(m, "map.a.label.x"), "y");
	assert_null(ub_manifest_get(m, "map.b.name"));
	f = fopen(path, "w");
	fputs("map.a.name = x\nno equals sign\n", f);
	fclose(f);
	assert_int_equal(ub_manifest_read(path, m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: not KEY = VALUE"));
	unlink(path);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_manifest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
