// SPDX-License-Identifier: GPL-2.0
/* core/hooks.c: hook selection against fake kernels (tables of refused hooks). */
#include "testutil.h"

#include <errno.h>

#include "core/hooks.h"

struct refusal {
	enum ks_family fam;
	const char *target;	/* NULL: every target of the family */
	int err;		/* negative errno */
	const char *why;
};

struct fake_kernel {
	const struct refusal *refused;	/* ends at err 0 */
	int calls;
	char log[512];		/* "family:target " per probe, in order */
};

static int fake_probe(void *p, enum ks_family fam, const char *target, char *why, size_t len)
{
	struct fake_kernel *k = p;
	size_t n = strlen(k->log);

	k->calls++;
	snprintf(k->log + n, sizeof(k->log) - n, "%s:%s ", ks_family_name(fam), target);
	for (const struct refusal *r = k->refused; r && r->err; r++)
		if (r->fam == fam && (!r->target || !strcmp(r->target, target))) {
			snprintf(why, len, "%s", r->why);
			return r->err;
		}
	return 0;
}

static const int sys_open[] = { 2, 257, -1 };

/* The open module's shape: fentry (two programs), kprobe, the dispatcher. */
static const struct ks_slot slot = {
	"see opens",
	{
		{ KS_FAM_FENTRY, { { "o__fexit_open", "__x64_sys_open" },
				   { "o__fexit_openat", "__x64_sys_openat" } } },
		{ KS_FAM_KPROBE, { { "o__kprobe", "do_sys_openat2" } } },
		{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, sys_open },
	},
};

/* A block I/O shape: no syscall alternative, tp_btf then tp. */
static const struct ks_slot slot_bio = {
	"block requests",
	{
		{ KS_FAM_TP_BTF, { { "b__start_btf", "block_rq_issue" },
				   { "b__done_btf", "block_rq_complete" } } },
		{ KS_FAM_TP, { { "b__start_tp", "block/block_rq_issue" } } },
	},
};

static const struct refusal no_fentry[] = {
	{ KS_FAM_FENTRY, NULL, -EPERM, "BPF trampolines refused" },
	{ 0 },
};

static const struct refusal no_fentry_kprobe[] = {
	{ KS_FAM_FENTRY, NULL, -EPERM, "BPF trampolines refused" },
	{ KS_FAM_KPROBE, NULL, -ENOENT, "kprobes not built in" },
	{ 0 },
};

static void test_names(void **state)
{
	assert_string_equal(ks_family_name(KS_FAM_FENTRY), "fentry");
	assert_string_equal(ks_family_name(KS_FAM_KPROBE), "kprobe");
	assert_string_equal(ks_family_name(KS_FAM_TP_BTF), "tp_btf");
	assert_string_equal(ks_family_name(KS_FAM_RAW_TP), "raw_tp");
	assert_string_equal(ks_family_name(KS_FAM_TP), "tp");
	assert_string_equal(ks_family_name(KS_FAM_SYSCALL), "syscalls");
	assert_string_equal(ks_family_name(KS_FAM_N), "none");
	assert_int_equal(ks_hooks_family(KS_HOOKS_AUTO), KS_FAM_N);
	assert_int_equal(ks_hooks_family(KS_HOOKS_FENTRY), KS_FAM_FENTRY);
	assert_int_equal(ks_hooks_family(KS_HOOKS_KPROBE), KS_FAM_KPROBE);
	assert_int_equal(ks_hooks_family(KS_HOOKS_TP_BTF), KS_FAM_TP_BTF);
	assert_int_equal(ks_hooks_family(KS_HOOKS_RAW_TP), KS_FAM_RAW_TP);
	assert_int_equal(ks_hooks_family(KS_HOOKS_TP), KS_FAM_TP);
	assert_int_equal(ks_hooks_family(99), KS_FAM_N);
	assert_int_equal(ks_slot_nalts(&slot), 3);
	assert_int_equal(ks_slot_nalts(&slot_bio), 2);
}

static void test_dispatcher(void **state)
{
	static const struct refusal no_btf[] = {
		{ KS_FAM_TP_BTF, "sys_exit", -EINVAL, "no BTF" },
		{ 0 },
	};
	static const struct refusal none[] = {
		{ KS_FAM_TP_BTF, NULL, -EINVAL, "no BTF" },
		{ KS_FAM_RAW_TP, NULL, -EPERM, "raw_tp refused" },
		{ KS_FAM_TP, NULL, -ENOENT, "no tracefs" },
		{ 0 },
	};
	struct fake_kernel k = { 0 };
	struct ks_alt_status st[3];

	/* everything works: the cheapest, but every family is probed for `status` */
	assert_int_equal(ks_select_dispatcher(fake_probe, &k, KS_FAM_N, st), KS_FAM_TP_BTF);
	assert_string_equal(k.log, "tp_btf:sys_exit raw_tp:sys_exit tp:raw_syscalls/sys_exit ");
	assert_true(st[0].err == 0 && st[1].err == 0 && st[2].err == 0);
	assert_string_equal(st[0].why, "");

	k = (struct fake_kernel){ .refused = no_btf };
	assert_int_equal(ks_select_dispatcher(fake_probe, &k, KS_FAM_N, st), KS_FAM_RAW_TP);
	assert_int_equal(st[0].err, -EINVAL);
	assert_string_equal(st[0].why, "no BTF");
	assert_int_equal(st[1].err, 0);

	/* forcing one family: the others are not probed */
	k = (struct fake_kernel){ .refused = no_btf };
	assert_int_equal(ks_select_dispatcher(fake_probe, &k, KS_FAM_TP, st), KS_FAM_TP);
	assert_string_equal(k.log, "tp:raw_syscalls/sys_exit ");
	assert_int_equal(st[0].err, 1);
	assert_string_equal(st[0].why, "not selected by --hooks");
	assert_int_equal(st[1].err, 1);
	assert_int_equal(st[2].err, 0);
	k = (struct fake_kernel){ .refused = no_btf };
	assert_int_equal(ks_select_dispatcher(fake_probe, &k, KS_FAM_TP_BTF, st), -EINVAL);
	assert_int_equal(k.calls, 1);
	assert_string_equal(st[0].why, "no BTF");
	/* a family the dispatcher cannot use is no constraint */
	k = (struct fake_kernel){ .refused = no_btf };
	assert_int_equal(ks_select_dispatcher(fake_probe, &k, KS_FAM_FENTRY, st), KS_FAM_RAW_TP);
	assert_int_equal(k.calls, 3);

	/* nothing works: the last refusal's errno, every reason kept */
	k = (struct fake_kernel){ .refused = none };
	assert_int_equal(ks_select_dispatcher(fake_probe, &k, KS_FAM_N, st), -ENOENT);
	assert_int_equal(st[0].err, -EINVAL);
	assert_int_equal(st[1].err, -EPERM);
	assert_string_equal(st[2].why, "no tracefs");
}

static void test_default_order(void **state)
{
	struct fake_kernel k = { 0 };
	struct ks_choice c;

	assert_int_equal(ks_select_slot(&slot, fake_probe, &k, KS_FAM_N, KS_FAM_TP_BTF, &c), 0);
	assert_int_equal(c.alt, 0);
	assert_int_equal(c.family, KS_FAM_FENTRY);
	/* every alternative is probed and has a status */
	assert_string_equal(k.log, "fentry:__x64_sys_open fentry:__x64_sys_openat "
				   "kprobe:do_sys_openat2 ");
	assert_true(c.st[0].err == 0 && c.st[1].err == 0 && c.st[2].err == 0);
}

static void test_fallbacks(void **state)
{
	static const struct refusal second_prog[] = {
		{ KS_FAM_FENTRY, "__x64_sys_openat", -ESRCH, "no such function" },
		{ 0 },
	};
	struct fake_kernel k = { .refused = no_fentry };
	struct ks_choice c;

	assert_int_equal(ks_select_slot(&slot, fake_probe, &k, KS_FAM_N, KS_FAM_TP_BTF, &c), 0);
	assert_int_equal(c.alt, 1);
	assert_int_equal(c.family, KS_FAM_KPROBE);
	assert_int_equal(c.st[0].err, -EPERM);
	assert_string_equal(c.st[0].why, "BPF trampolines refused");
	/* the first refused program ends the probing of its alternative */
	assert_string_equal(k.log, "fentry:__x64_sys_open kprobe:do_sys_openat2 ");

	/* one program of an alternative missing refuses the whole alternative */
	k = (struct fake_kernel){ .refused = second_prog };
	assert_int_equal(ks_select_slot(&slot, fake_probe, &k, KS_FAM_N, KS_FAM_TP_BTF, &c), 0);
	assert_int_equal(c.alt, 1);
	assert_int_equal(c.st[0].err, -ESRCH);
	assert_string_equal(c.st[0].why, "no such function");

	/* down to the dispatcher: the family is the dispatcher's */
	k = (struct fake_kernel){ .refused = no_fentry_kprobe };
	assert_int_equal(ks_select_slot(&slot, fake_probe, &k, KS_FAM_N, KS_FAM_RAW_TP, &c), 0);
	assert_int_equal(c.alt, 2);
	assert_int_equal(c.family, KS_FAM_RAW_TP);
	assert_int_equal(c.st[1].err, -ENOENT);
	assert_string_equal(c.st[1].why, "kprobes not built in");
	assert_int_equal(c.st[2].err, 0);
	assert_int_equal(ks_select_slot(&slot, fake_probe, &k, KS_FAM_N, KS_FAM_TP, &c), 0);
	assert_int_equal(c.family, KS_FAM_TP);

	/* all refused, the dispatcher too: the last errno, every reason */
	k = (struct fake_kernel){ .refused = no_fentry_kprobe };
	assert_int_equal(ks_select_slot(&slot, fake_probe, &k, KS_FAM_N, -EOPNOTSUPP, &c),
			 -EOPNOTSUPP);
	assert_int_equal(c.alt, -1);
	assert_int_equal(c.family, KS_FAM_N);
	assert_int_equal(c.st[0].err, -EPERM);
	assert_int_equal(c.st[1].err, -ENOENT);
	assert_int_equal(c.st[2].err, -EOPNOTSUPP);
	assert_string_equal(c.st[2].why, "syscall dispatcher unavailable");
	/* the dispatcher is not probed by the slot: it was chosen before */
	assert_int_equal(k.calls, 2);

	/* ... and when the last alternative probes, its own errno */
	k = (struct fake_kernel){ .refused = (const struct refusal[]){
		{ KS_FAM_TP_BTF, NULL, -EINVAL, "no BTF" },
		{ KS_FAM_TP, NULL, -ENOENT, "no tracefs" },
		{ 0 } } };
	assert_int_equal(ks_select_slot(&slot_bio, fake_probe, &k, KS_FAM_N, 0, &c), -ENOENT);
	assert_int_equal(c.st[0].err, -EINVAL);
}

static void test_forced(void **state)
{
	struct fake_kernel k = { 0 };
	struct ks_choice c;

	/* a family the slot has: only that one is considered */
	assert_int_equal(ks_select_slot(&slot, fake_probe, &k, KS_FAM_KPROBE, KS_FAM_TP_BTF, &c),
			 0);
	assert_int_equal(c.alt, 1);
	assert_int_equal(c.family, KS_FAM_KPROBE);
	assert_int_equal(c.st[0].err, 1);
	assert_string_equal(c.st[0].why, "not selected by --hooks");
	assert_int_equal(c.st[2].err, 1);
	assert_string_equal(k.log, "kprobe:do_sys_openat2 ");

	/* ... and if the kernel refuses it, that is an error, with the reason kept */
	k = (struct fake_kernel){ .refused = no_fentry };
	assert_int_equal(ks_select_slot(&slot, fake_probe, &k, KS_FAM_FENTRY, KS_FAM_TP_BTF, &c),
			 -EPERM);
	assert_int_equal(c.alt, -1);
	assert_string_equal(c.st[0].why, "BPF trampolines refused");
	assert_int_equal(c.st[1].err, 1);
	assert_int_equal(c.st[2].err, 1);
	assert_int_equal(k.calls, 1);

	/* a dispatcher family selects the syscall alternative, which follows the dispatcher */
	k = (struct fake_kernel){ 0 };
	assert_int_equal(ks_select_slot(&slot, fake_probe, &k, KS_FAM_RAW_TP, KS_FAM_RAW_TP, &c),
			 0);
	assert_int_equal(c.alt, 2);
	assert_int_equal(c.family, KS_FAM_RAW_TP);
	assert_int_equal(c.st[0].err, 1);
	assert_int_equal(c.st[1].err, 1);
	assert_int_equal(k.calls, 0);
	assert_int_equal(ks_select_slot(&slot, fake_probe, &k, KS_FAM_TP, -EPERM, &c), -EPERM);
	assert_string_equal(c.st[2].why, "syscall dispatcher unavailable");

	/* a family the slot lacks: the default order */
	k = (struct fake_kernel){ .refused = no_fentry };
	assert_int_equal(ks_select_slot(&slot_bio, fake_probe, &k, KS_FAM_KPROBE, 0, &c), 0);
	assert_int_equal(c.alt, 0);
	assert_int_equal(c.family, KS_FAM_TP_BTF);
	assert_int_equal(c.st[1].err, 0);
	k = (struct fake_kernel){ .refused = no_fentry };
	assert_int_equal(ks_select_slot(&slot_bio, fake_probe, &k, KS_FAM_RAW_TP, 0, &c), 0);
	assert_int_equal(c.alt, 0);
	assert_int_equal(k.calls, 3);
	/* a family it has, the second one */
	k = (struct fake_kernel){ 0 };
	assert_int_equal(ks_select_slot(&slot_bio, fake_probe, &k, KS_FAM_TP, 0, &c), 0);
	assert_int_equal(c.alt, 1);
	assert_int_equal(c.family, KS_FAM_TP);
	assert_string_equal(k.log, "tp:block/block_rq_issue ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),	  cmocka_unit_test(test_dispatcher),
		cmocka_unit_test(test_default_order), cmocka_unit_test(test_fallbacks),
		cmocka_unit_test(test_forced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
