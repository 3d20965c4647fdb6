// SPDX-License-Identifier: GPL-2.0
/* core/symtab.c, core/symelf.c, core/symbolize.c: addresses to names (kallsyms, maps, ELF
 * symbols, debug-file candidates); this binary symbolizes its own function. */
#include "testutil.h"

#include <errno.h>
#include <limits.h>

#include "core/symbolize.h"
#include "core/symelf.h"
#include "core/symtab.h"

static void test_symtab_find(void **state)
{
	struct ks_symtab t = {};
	uint64_t off;

	/* added out of order, one alias, one of unknown size */
	assert_int_equal(ks_symtab_add(&t, 0x2000, 0x100, "second", 6), 0);
	assert_int_equal(ks_symtab_add(&t, 0x1000, 0x80, "first", 5), 0);
	assert_int_equal(ks_symtab_add(&t, 0x1000, 0x10, "first_alias", 11), 0);
	assert_int_equal(ks_symtab_add(&t, 0x3000, 0, "nosize", 6), 0);
	assert_int_equal(ks_symtab_add(&t, 0x4000, 0x10, "last", 4), 0);
	assert_null(ks_symtab_find(&t, 0x1000, NULL));	/* not sorted yet */
	ks_symtab_sort(&t);
	assert_int_equal(t.n, 4);
	assert_null(ks_symtab_find(&t, 0xfff, &off));
	assert_string_equal(ks_symtab_find(&t, 0x1000, &off), "first");
	assert_int_equal(off, 0);
	assert_string_equal(ks_symtab_find(&t, 0x107f, &off), "first");
	assert_int_equal(off, 0x7f);
	/* the gap after first's 0x80 bytes */
	assert_null(ks_symtab_find(&t, 0x1080, &off));
	assert_string_equal(ks_symtab_find(&t, 0x20ff, &off), "second");
	/* no size: up to the next symbol */
	assert_string_equal(ks_symtab_find(&t, 0x3fff, &off), "nosize");
	assert_int_equal(off, 0xfff);
	assert_string_equal(ks_symtab_find(&t, 0x400f, &off), "last");
	assert_null(ks_symtab_find(&t, 0x4010, &off));
	ks_symtab_free(&t);
	/* the last symbol of unknown size spans 64 KiB at most */
	assert_int_equal(ks_symtab_add(&t, 0x1000, 0, "open_end", 8), 0);
	ks_symtab_sort(&t);
	assert_string_equal(ks_symtab_find(&t, 0x1000 + 65535, &off), "open_end");
	assert_null(ks_symtab_find(&t, 0x1000 + 65536, &off));
	ks_symtab_free(&t);
}

static void test_kallsyms(void **state)
{
	const char *text = "ffffffff81000000 T _stext\n"
			   "ffffffff81000100 t do_one\n"
			   "ffffffff81200000 D some_data\n"
			   "ffffffff81000200 W weak_fn\n"
			   "ffffffffc0001000 t mod_fn\t[e1000]\n"
			   "ffffffff81000300 T after\n";
	const char *hidden = "0000000000000000 T _stext\n0000000000000000 t do_one\n";
	struct ks_symtab t = {};
	uint64_t off;

	assert_int_equal(ks_kallsyms_parse(text, &t), 5);
	assert_string_equal(ks_symtab_find(&t, 0xffffffff81000150, &off), "do_one");
	assert_int_equal(off, 0x50);
	assert_string_equal(ks_symtab_find(&t, 0xffffffff81000210, &off), "weak_fn");
	assert_string_equal(ks_symtab_find(&t, 0xffffffffc0001004, &off), "mod_fn");
	/* data symbols are not functions: the text before them extends over */
	assert_string_equal(ks_symtab_find(&t, 0xffffffff81200000, &off), "after");
	ks_symtab_free(&t);
	assert_int_equal(ks_kallsyms_parse(hidden, &t), -EPERM);
	assert_int_equal(t.n, 0);
}

static void test_maps(void **state)
{
	const char *text =
		"55d0c0000000-55d0c0001000 r--p 00000000 fe:01 1234   /usr/bin/prog\n"
		"55d0c0001000-55d0c0002000 r-xp 00001000 fe:01 1234   /usr/bin/prog\n"
		"7f0000000000-7f0000010000 rwxp 00000000 00:00 0 \n"
		"7f1000000000-7f1000100000 r-xp 00028000 fe:01 99 /tmp/lib with space.so (deleted)\n"
		"7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                  [vdso]\n";
	struct ks_mapping *m;
	const struct ks_mapping *f;
	int n = ks_maps_parse(text, &m);

	assert_int_equal(n, 3);	/* the anonymous rwx region is nobody's file */
	assert_string_equal(m[0].path, "/usr/bin/prog");
	assert_int_equal(m[0].pgoff, 0x1000);
	assert_int_equal(m[0].inode, 1234);
	assert_int_equal(m[0].dev, 0xfe << 20 | 1);
	assert_string_equal(m[1].path, "/tmp/lib with space.so");
	assert_true(m[1].deleted);
	assert_string_equal(m[2].path, "[vdso]");
	f = ks_mapping_find(m, n, 0x55d0c0001abc);
	assert_ptr_equal(f, &m[0]);
	assert_null(ks_mapping_find(m, n, 0x55d0c0000abc));	/* not executable */
	assert_null(ks_mapping_find(m, n, 0x7f0000000010));
	assert_ptr_equal(ks_mapping_find(m, n, 0x7ffd00001fff), &m[2]);
	ks_mappings_free(m, n);
	assert_int_equal(ks_maps_parse("not maps\n", &m), -EINVAL);
	assert_int_equal(ks_maps_parse("", &m), 0);
	ks_mappings_free(m, 0);
}

static void test_offset_vaddr(void **state)
{
	const struct ks_elf_seg segs[] = {
		{ 0x0, 0x1000, 0x0 },
		{ 0x401000, 0x2000, 0x1000 },	/* a non-PIE's text at its link address */
	};
	uint64_t v;

	assert_int_equal(ks_elf_offset_vaddr(segs, 2, 0x1234, &v), 0);
	assert_int_equal(v, 0x401234);
	assert_int_equal(ks_elf_offset_vaddr(segs, 2, 0x10, &v), 0);
	assert_int_equal(v, 0x10);
	assert_int_equal(ks_elf_offset_vaddr(segs, 2, 0x3000, &v), -ENOENT);
}

static void test_debug_candidates(void **state)
{
	const uint8_t id[] = { 0xab, 0xcd, 0xef, 0x01 };
	char out[PATH_MAX];

	assert_int_equal(ks_debug_candidate("/usr/bin/prog", "prog.debug", id, 4, "/usr/lib/debug",
					    0, out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/lib/debug/.build-id/ab/cdef01.debug");
	assert_int_equal(ks_debug_candidate("/usr/bin/prog", "prog.debug", id, 4, "/usr/lib/debug",
					    1, out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/bin/prog.debug");
	assert_int_equal(ks_debug_candidate("/usr/bin/prog", "prog.debug", id, 4, "/usr/lib/debug",
					    2, out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/bin/.debug/prog.debug");
	assert_int_equal(ks_debug_candidate("/usr/bin/prog", "prog.debug", id, 4, "/usr/lib/debug",
					    3, out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/lib/debug/usr/bin/prog.debug");
	assert_int_equal(ks_debug_candidate("/usr/bin/prog", "prog.debug", id, 4, "/usr/lib/debug",
					    4, out, sizeof(out)), -ENOENT);
	/* no build-ID, no link: nothing to look for */
	assert_int_equal(ks_debug_candidate("/usr/bin/prog", "x.debug", NULL, 0, "/d", 0, out,
					    sizeof(out)), 0);
	assert_string_equal(out, "/usr/bin/x.debug");
	assert_int_equal(ks_debug_candidate("/usr/bin/prog", NULL, NULL, 0, "/d", 0, out,
					    sizeof(out)), -ENOENT);
	assert_int_equal(ks_debug_candidate("/usr/bin/prog", "x", NULL, 0, "/d", 0, out, 8),
			 -ENAMETOOLONG);
}

__attribute__((noinline)) int symbolize_marker_fn(int x)
{
	return x * 3 + 1;
}

/* This process's own maps and binary: the function's address gets its name, through
 * the cache by build-ID; an address in no mapping says so; kernel symbols from a fake
 * /proc under a temporary directory. */
static void test_symbolize_self(void **state)
{
	char *dir = tu_mkdtemp("ksight-sym"), maps[PATH_MAX], text[65536];
	struct ks_symbolizer *s;
	struct ks_symbolizer_stats st;
	struct ks_frame f;
	uint64_t addr = (uint64_t)(uintptr_t)&symbolize_marker_fn + 1;
	int fd;
	ssize_t n;

	fd = open("/proc/self/maps", O_RDONLY);
	assert_true(fd >= 0);
	n = 0;
	/* /proc hands maps out a page at a time */
	for (ssize_t r; (r = read(fd, text + n, sizeof(text) - 1 - n)) > 0;)
		n += r;
	assert_true(n > 0);
	text[n] = 0;
	close(fd);
	snprintf(maps, sizeof(maps), "%s/77", dir);
	assert_int_equal(mkdir(maps, 0755), 0);
	tu_write(maps, "maps", text, -1);
	tu_write(dir, "kallsyms", "ffffffff81000000 T _stext\nffffffff81000100 t do_one\n", -1);

	s = ks_symbolizer__new(dir, "/nonexistent-debug-root");
	assert_non_null(s);
	assert_false(ks_symbolizer__has_maps(s, 77, 3));
	assert_int_equal(ks_symbolizer__read_maps(s, 77, 3), 0);
	assert_true(ks_symbolizer__has_maps(s, 77, 3));
	assert_int_equal(ks_symbolizer__user(s, 77, 3, addr, 1, &f), KS_SYM_OK);
	assert_string_equal(f.name, "symbolize_marker_fn");
	assert_int_equal(f.off, 1);
	assert_string_equal(f.module, "test_symbolize");
	/* another image of the same binary: parsed once, shared by build-ID */
	assert_int_equal(ks_symbolizer__read_maps(s, 77, 4), 0);
	assert_int_equal(ks_symbolizer__user(s, 77, 4, addr, 1, &f), KS_SYM_OK);
	ks_symbolizer__stats(s, &st);
	assert_int_equal(st.binaries, 1);
	assert_int_equal(st.procs, 2);
	/* no mapping there, and no process 78 to read again */
	assert_int_equal(ks_symbolizer__user(s, 77, 3, 0x10, 1, &f), KS_SYM_NO_MAP);
	assert_int_equal(ks_symbolizer__user(s, 78, 0, addr, 1, &f), KS_SYM_NO_MAP);
	assert_int_equal(ks_symbolizer__kernel(s, 0xffffffff81000180, &f), KS_SYM_OK);
	assert_string_equal(f.name, "do_one");
	assert_int_equal(f.off, 0x80);
	assert_int_equal(ks_symbolizer__kernel(s, 0x1000, &f), KS_SYM_NO_SYMS);
	ks_symbolizer__free(s);

	/* the same mapping said to be of another inode (the binary rebuilt since): no name
	 * rather than a wrong one */
	{
		char *line, fake[PATH_MAX + 128];
		unsigned long long a, b;
		char *path;

		/* this binary's executable line */
		for (line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
			size_t n = strcspn(line, "\n");

			if (memmem(line, n, "r-xp", 4) && memmem(line, n, "test_symbolize", 14))
				break;
		}
		assert_true(line && *line);
		assert_int_equal(sscanf(line, "%llx-%llx", &a, &b), 2);
		path = strchr(line, '/');
		assert_non_null(path);
		snprintf(fake, sizeof(fake), "%llx-%llx r-xp 00000000 00:01 1 %.*s\n", a, b,
			 (int)strcspn(path, "\n"), path);
		tu_write(maps, "maps", fake, -1);
	}
	s = ks_symbolizer__new(dir, "/d");
	assert_int_equal(ks_symbolizer__read_maps(s, 77, 5), 0);
	assert_int_equal(ks_symbolizer__user(s, 77, 5, addr, 1, &f), KS_SYM_NO_SYMS);
	assert_null(f.name);
	ks_symbolizer__free(s);

	/* hidden kallsyms: every kernel frame says why */
	tu_write(dir, "kallsyms", "0000000000000000 T _stext\n", -1);
	s = ks_symbolizer__new(dir, "/d");
	assert_int_equal(ks_symbolizer__kernel(s, 0xffffffff81000180, &f), KS_SYM_NO_KSYMS);
	assert_string_equal(ks_sym_res_name(f.res), "kernel without kallsyms");
	ks_symbolizer__free(s);
	tu_rmtree(dir);
}

static void test_build_id_of_self(void **state)
{
	uint8_t id[KS_BUILD_ID_MAX];
	struct ks_binary b;

	assert_true(ks_elf_build_id("/proc/self/exe", id) > 0);
	assert_int_equal(ks_elf_build_id("/etc/hostname", id), -ENOEXEC);
	assert_int_equal(ks_binary_load("/proc/self/exe", "/d", &b), 0);
	assert_false(b.from_debug);
	assert_false(b.dynsym_only);
	assert_true(b.syms.n > 10);
	assert_true(b.nsegs >= 2);
	ks_binary_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symtab_find),
		cmocka_unit_test(test_kallsyms),
		cmocka_unit_test(test_maps),
		cmocka_unit_test(test_offset_vaddr),
		cmocka_unit_test(test_debug_candidates),
		cmocka_unit_test(test_symbolize_self),
		cmocka_unit_test(test_build_id_of_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
