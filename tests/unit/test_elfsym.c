// SPDX-License-Identifier: GPL-2.0
/* core/elfsym.c: uprobe offsets from ELF symbols, libraries in a process's maps. */
#include "testutil.h"

#include <elf.h>
#include <errno.h>
#include <limits.h>

#include "core/elfsym.h"

static void test_vaddr_offset(void **state)
{
	/* a PIE's usual layout: text mapped at an address above its file offset */
	const struct ks_elf_seg segs[] = {
		{ 0x0, 0x1000, 0x0 },
		{ 0x1000, 0x2000, 0x1000 },
		{ 0x4df0, 0x300, 0x3df0 },	/* data: vaddr != offset */
	};
	uint64_t off;

	assert_int_equal(ks_elf_vaddr_offset(segs, 3, 0x1234, &off), 0);
	assert_int_equal(off, 0x1234);
	assert_int_equal(ks_elf_vaddr_offset(segs, 3, 0x4e00, &off), 0);
	assert_int_equal(off, 0x3e00);
	/* past a segment's file size (its bss), and between segments */
	assert_int_equal(ks_elf_vaddr_offset(segs, 3, 0x50f0, &off), -ENOENT);
	assert_int_equal(ks_elf_vaddr_offset(segs, 3, 0x3000, &off), -ENOENT);
}

static void test_pick(void **state)
{
	const struct ks_elf_cand aliases[] = {
		{ 0x100, STB_WEAK, 0 }, { 0x100, STB_GLOBAL, 0 },	/* getpid, __getpid */
	};
	const struct ks_elf_cand statics[] = {
		{ 0x100, STB_LOCAL, 0 }, { 0x200, STB_LOCAL, 0 }, { 0x300, STB_GLOBAL, 0 },
	};
	const struct ks_elf_cand twice[] = { { 0x100, STB_GLOBAL, 0 }, { 0x200, STB_GLOBAL, 0 } };
	const struct ks_elf_cand ifunc[] = { { 0x100, STB_GLOBAL, 1 } };
	const struct ks_elf_cand locals[] = { { 0x100, STB_LOCAL, 0 }, { 0x200, STB_LOCAL, 0 } };

	assert_int_equal(ks_elf_pick(aliases, 2), 1);
	/* two static functions of that name lose to the global one */
	assert_int_equal(ks_elf_pick(statics, 3), 2);
	assert_int_equal(ks_elf_pick(twice, 2), -ENOTUNIQ);
	assert_int_equal(ks_elf_pick(locals, 2), -ENOTUNIQ);
	assert_int_equal(ks_elf_pick(ifunc, 1), -EMEDIUMTYPE);
	assert_int_equal(ks_elf_pick(NULL, 0), -ENOENT);
}

static void test_name_match(void **state)
{
	assert_true(ks_elf_name_match("malloc", "malloc"));
	assert_true(ks_elf_name_match("malloc@@GLIBC_2.2.5", "malloc"));
	assert_true(ks_elf_name_match("malloc@GLIBC_2.2.5", "malloc"));
	assert_false(ks_elf_name_match("malloc_usable_size", "malloc"));
	assert_false(ks_elf_name_match("mallo", "malloc"));
}

static const char maps[] =
	"55d0c4a00000-55d0c4a01000 r--p 00000000 08:01 1234   /usr/bin/utarget\n"
	"7f00aa000000-7f00aa028000 r--p 00000000 08:01 99     /usr/lib/x86_64-linux-gnu/libc.so.6\n"
	"7f00aa028000-7f00aa19d000 r-xp 00028000 08:01 99     /usr/lib/x86_64-linux-gnu/libc.so.6\n"
	"7f00ab000000-7f00ab001000 r-xp 00000000 08:01 77     /opt/my libs/libkstarget.so\n"
	"7f00ac000000-7f00ac001000 r-xp 00000000 08:01 78     /opt/old/libfoo-2.31.so\n"
	"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0      [stack]\n"
	"7ffd00100000-7ffd00101000 r--p 00000000 00:00 0\n";

static void test_maps_find_lib(void **state)
{
	char out[256];

	assert_int_equal(ks_maps_find_lib(maps, "libc", out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	assert_int_equal(ks_maps_find_lib(maps, "libc.so.6", out, sizeof(out)), 0);
	/* paths with spaces; a version after a dash */
	assert_int_equal(ks_maps_find_lib(maps, "libkstarget", out, sizeof(out)), 0);
	assert_string_equal(out, "/opt/my libs/libkstarget.so");
	assert_int_equal(ks_maps_find_lib(maps, "libfoo", out, sizeof(out)), 0);
	assert_string_equal(out, "/opt/old/libfoo-2.31.so");
	/* the executable too; a full path must match whole */
	assert_int_equal(ks_maps_find_lib(maps, "utarget", out, sizeof(out)), 0);
	assert_int_equal(ks_maps_find_lib(maps, "/usr/bin/utarget", out, sizeof(out)), 0);
	assert_int_equal(ks_maps_find_lib(maps, "/bin/utarget", out, sizeof(out)), -ENOENT);
	assert_int_equal(ks_maps_find_lib(maps, "libc.so", out, sizeof(out)), 0);
	assert_int_equal(ks_maps_find_lib(maps, "lib", out, sizeof(out)), -ENOENT);
	assert_int_equal(ks_maps_find_lib(maps, "stack", out, sizeof(out)), -ENOENT);
	assert_int_equal(ks_maps_find_lib(maps, "libc", out, 10), -ENAMETOOLONG);
}

__attribute__((noinline, used)) int elfsym_probe_me(int x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

/* The file offset of @addr in this process's own executable, from its maps. */
static uint64_t runtime_offset(const void *addr)
{
	char line[512], exe[PATH_MAX] = "", path[PATH_MAX];
	unsigned long lo, hi, off;
	FILE *f = fopen("/proc/self/maps", "r");
	uint64_t res = 0;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	assert_non_null(f);
	assert_true(n > 0);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %4095s", &lo, &hi, &off, path) == 4 &&
		    !strcmp(path, exe) && (unsigned long)addr >= lo && (unsigned long)addr < hi)
			res = (unsigned long)addr - lo + off;
	fclose(f);
	return res;
}

static void test_func_offset_of_this_binary(void **state)
{
	char why[256];
	uint64_t off, entry;

	assert_int_equal(ks_elf_func_offset("/proc/self/exe", "elfsym_probe_me", &off, why,
					    sizeof(why)), 0);
	assert_int_equal(off, runtime_offset((const void *)elfsym_probe_me));
	assert_int_equal(ks_elf_func_offset("/proc/self/exe", "no_such_function_here", &off, why,
					    sizeof(why)), -ENOENT);
	assert_string_equal(why, "has no function no_such_function_here");
	assert_int_equal(ks_elf_func_offset("/etc/hostname", "main", &off, why, sizeof(why)),
			 -ENOEXEC);
	assert_int_equal(ks_elf_entry_offset("/proc/self/exe", &entry), 0);
	assert_true(entry > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vaddr_offset),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_name_match),
		cmocka_unit_test(test_maps_find_lib),
		cmocka_unit_test(test_func_offset_of_this_binary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
