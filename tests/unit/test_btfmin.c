// SPDX-License-Identifier: GPL-2.0
/*
 * core/btfmin.c: the kernel's BTF cut down to what an object relocates against. The
 * copy is checked against the running kernel's own BTF: every member it keeps has the
 * kernel's offset and bitfield size, every enum the kernel's values.
 */
#include "testutil.h"

#include <bpf/btf.h>
#include <errno.h>

#include "core/btfcache.h"
#include "core/btfmin_int.h"
#include "core/module.h"

extern const struct ks_bpf_obj rw_bpf_obj, biolat_bpf_obj;

static void test_essential_len(void **state)
{
	assert_int_equal(ks_btfmin_essential_len("task_struct"), 11);
	assert_int_equal(ks_btfmin_essential_len("task_struct___old"), 11);
	assert_int_equal(ks_btfmin_essential_len("trace_event_raw_x___gd"), 17);
	/* the last flavor; underscores on either side of "___" are no separator */
	assert_int_equal(ks_btfmin_essential_len("a___b___c"), 5);
	assert_int_equal(ks_btfmin_essential_len("a____b"), 6);
	assert_int_equal(ks_btfmin_essential_len("___x"), 4);
	assert_int_equal(ks_btfmin_essential_len("x___"), 4);
	assert_int_equal(ks_btfmin_essential_len("__u32"), 5);
	assert_int_equal(ks_btfmin_essential_len(""), 0);
}

/* The copy made for @def, parsed, and the number of types it holds (from the maker). */
static struct btf *copy_of(const struct ks_bpf_obj *def, unsigned int *ntypes)
{
	size_t size;
	const void *elf = def->elf(&size);
	struct ks_btfmin_info info;
	int fd = ks_btfmin_memfd(elf, size, &info);
	char path[32];
	struct btf *b;

	assert_true(fd >= 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	b = btf__parse(path, NULL);
	close(fd);
	assert_non_null(b);
	assert_string_equal(info.why, "");
	*ntypes = info.ntypes;
	assert_int_equal(btf__type_cnt(b), *ntypes + 1);
	return b;
}

static const struct btf_member *member(const struct btf *b, const struct btf_type *t,
				       const char *name, __u32 *index)
{
	for (__u32 i = 0; i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(b, btf_members(t)[i].name_off), name)) {
			*index = i;
			return btf_members(t) + i;
		}
	return NULL;
}

static void test_members_are_the_kernels(void **state)
{
	const struct btf *vm = ks_vmlinux_btf();
	const struct btf_type *mine, *theirs;
	unsigned int n = 0, named = 0;
	struct btf *b;

	if (!vm)
		skip();		/* a kernel without BTF: nothing to copy */
	b = copy_of(&rw_bpf_obj, &n);
	assert_true(n > 10 && n < 2000);	/* the kernel has ~100k */
	mine = btf__type_by_id(b, btf__find_by_name_kind(b, "task_struct", BTF_KIND_STRUCT));
	theirs = btf__type_by_id(vm, btf__find_by_name_kind(vm, "task_struct", BTF_KIND_STRUCT));
	assert_non_null(mine);
	assert_non_null(theirs);
	assert_int_equal(mine->size, theirs->size);
	assert_true(btf_vlen(mine) > 0 && btf_vlen(mine) < btf_vlen(theirs) / 4);
	for (__u32 i = 0; i < btf_vlen(mine); i++) {
		const char *name = btf__name_by_offset(b, btf_members(mine)[i].name_off);
		__u32 k = 0;

		if (!*name)
			continue;	/* an anonymous member: its own members are checked below */
		assert_non_null(member(vm, theirs, name, &k));
		assert_int_equal(btf_member_bit_offset(mine, i), btf_member_bit_offset(theirs, k));
		assert_int_equal(btf_member_bitfield_size(mine, i),
				 btf_member_bitfield_size(theirs, k));
		named++;
	}
	assert_true(named > 0);
	{	/* rw reads the current task's file table */
		__u32 k = 0;

		assert_non_null(member(b, mine, "files", &k));
	}
	btf__free(b);
}

static void test_enums_are_the_kernels(void **state)
{
	const struct btf *vm = ks_vmlinux_btf();
	const struct btf_type *mine, *theirs;
	unsigned int n = 0;
	struct btf *b;
	int id;

	if (!vm)
		skip();
	b = copy_of(&biolat_bpf_obj, &n);	/* its flags come from enum req_flag_bits */
	id = btf__find_by_name_kind(b, "req_flag_bits", BTF_KIND_ENUM);
	assert_true(id > 0);
	mine = btf__type_by_id(b, id);
	theirs = btf__type_by_id(vm, btf__find_by_name_kind(vm, "req_flag_bits", BTF_KIND_ENUM));
	assert_non_null(theirs);
	assert_int_equal(mine->info, theirs->info);	/* kind, count, signedness */
	assert_int_equal(mine->size, theirs->size);
	for (__u32 i = 0; i < btf_vlen(mine); i++) {
		assert_string_equal(btf__name_by_offset(b, btf_enum(mine)[i].name_off),
				    btf__name_by_offset(vm, btf_enum(theirs)[i].name_off));
		assert_int_equal(btf_enum(mine)[i].val, btf_enum(theirs)[i].val);
	}
	btf__free(b);
}

static void test_refusals(void **state)
{
	static const char junk[] = "not an ELF object";
	size_t size;
	const void *elf = rw_bpf_obj.elf(&size);
	int fd;

	if (!ks_vmlinux_btf())
		skip();
	assert_int_equal(ks_btfmin_memfd(junk, sizeof(junk), NULL), -EINVAL);
	setenv("KSIGHT_BTF_MIN", "0", 1);	/* the A/B switch */
	assert_int_equal(ks_btfmin_memfd(elf, size, NULL), -ECANCELED);
	unsetenv("KSIGHT_BTF_MIN");
	ks_btfmin_free();		/* and the index is made again on need */
	fd = ks_btfmin_memfd(elf, size, NULL);
	assert_true(fd >= 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_essential_len),
		cmocka_unit_test(test_members_are_the_kernels),
		cmocka_unit_test(test_enums_are_the_kernels),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
