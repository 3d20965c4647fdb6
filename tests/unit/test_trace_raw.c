// SPDX-License-Identifier: GPL-2.0
/*
 * ksight trace's raw tracepoints (trace_btf.c) over a BTF built here with the layout the
 * kernel's has: typedef btf_trace_NAME, a pointer to a prototype whose first parameter is
 * the context and whose parameters have no names, and the event class's function
 * __bpf_trace_CLASS with the names. The offsets each member path must give are those the
 * test's own struct declarations below put in the BTF.
 */
#include <bpf/btf.h>

#include "testutil.h"

#include "modules/trace_int.h"

/*
 * struct mm { long pad; struct task *owner; };                       // owner at 8
 * struct task { int pid; char comm[16]; struct mm *mm;               // 0, 4, 24
 *               union { long pp; struct { short dport; unsigned short num; }; };  // 32, 34
 *               struct mm inl; const char *name; unsigned int flags:3; };   // 40, 56, 64
 * btf_trace_ev(void *, struct task *, int) by class cls(void *__data, struct task *t, int n);
 * btf_trace_ev2, the same prototype, named by class ev2_template only by its types.
 */
static struct btf *btf;
static struct trace_probe probe;

static int build(void **state)
{
	int i_int, i_long, i_char, i_short, i_ushort, i_uint, mm, task, pmm, ptask, arr, anon_s,
	    anon_u, cchar, pcchar, proto, nproto, pproto, vptr;

	btf = btf__new_empty();
	assert_non_null(btf);
	i_int = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	i_long = btf__add_int(btf, "long", 8, BTF_INT_SIGNED);
	i_char = btf__add_int(btf, "char", 1, BTF_INT_CHAR);
	i_short = btf__add_int(btf, "short", 2, BTF_INT_SIGNED);
	i_ushort = btf__add_int(btf, "unsigned short", 2, 0);
	i_uint = btf__add_int(btf, "unsigned int", 4, 0);
	vptr = btf__add_ptr(btf, 0);
	arr = btf__add_array(btf, i_int, i_char, 16);
	anon_s = btf__add_struct(btf, NULL, 4);
	btf__add_field(btf, "dport", i_short, 0, 0);
	btf__add_field(btf, "num", i_ushort, 16, 0);
	anon_u = btf__add_union(btf, NULL, 8);
	btf__add_field(btf, "pp", i_long, 0, 0);
	btf__add_field(btf, NULL, anon_s, 0, 0);
	cchar = btf__add_const(btf, i_char);
	pcchar = btf__add_ptr(btf, cchar);
	/* task and mm point to each other: ids are given in order, so task's mm field names
	 * the pointer to mm made three types later */
	task = btf__add_struct(btf, "task", 72);
	btf__add_field(btf, "pid", i_int, 0, 0);
	btf__add_field(btf, "comm", arr, 32, 0);
	btf__add_field(btf, "mm", task + 3, 192, 0);
	btf__add_field(btf, NULL, anon_u, 256, 0);
	btf__add_field(btf, "inl", task + 2, 320, 0);
	btf__add_field(btf, "name", pcchar, 448, 0);
	btf__add_field(btf, "flags", i_uint, 512, 3);
	ptask = btf__add_ptr(btf, task);
	mm = btf__add_struct(btf, "mm", 16);
	btf__add_field(btf, "pad", i_long, 0, 0);
	btf__add_field(btf, "owner", ptask, 64, 0);
	pmm = btf__add_ptr(btf, mm);
	assert_int_equal(pmm, task + 3);
	assert_int_equal(mm, task + 2);
	/* the typedef's prototype: no names */
	proto = btf__add_func_proto(btf, 0);
	btf__add_func_param(btf, "", vptr);
	btf__add_func_param(btf, "", ptask);
	btf__add_func_param(btf, "", i_int);
	pproto = btf__add_ptr(btf, proto);
	btf__add_typedef(btf, "btf_trace_ev", pproto);
	btf__add_typedef(btf, "btf_trace_ev2", pproto);
	nproto = btf__add_func_proto(btf, 0);
	btf__add_func_param(btf, "__data", vptr);
	btf__add_func_param(btf, "t", ptask);
	btf__add_func_param(btf, "n", i_int);
	btf__add_func(btf, "__bpf_trace_ev", BTF_FUNC_STATIC, nproto);
	btf__add_func(btf, "__bpf_trace_ev2_template", BTF_FUNC_STATIC, nproto);
	(void)state;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	btf__free(btf);
	return 0;
}

static void load(const char *text)
{
	char err[256] = "";

	assert_int_equal(trace_probe_parse(text, &probe, err, sizeof(err)), 0);
	assert_int_equal(probe.kind, TRACE_P_RAW);
	assert_int_equal(trace_raw_args(&probe, btf, err, sizeof(err)), 0);
}

static const struct trace_fdef *def(const char *name)
{
	for (int i = 0; i < probe.ndefs; i++)
		if (!strcmp(probe.defs[i].name, name))
			return &probe.defs[i];
	return NULL;
}

static void test_raw_form_and_arguments(void **state)
{
	char err[256] = "";

	(void)state;
	load("raw:cat:ev");
	assert_string_equal(probe.cat, "cat");
	assert_string_equal(probe.name, "ev");
	assert_int_equal(probe.nargs, 2);
	assert_non_null(def("arg0"));
	assert_non_null(def("arg1"));
	assert_null(def("arg2"));
	assert_int_equal(def("t")->f.kind, TRACE_F_ARG);
	assert_int_equal(def("t")->f.off, 0);
	assert_int_equal(def("t")->f.is_signed, 0);	/* a pointer */
	assert_int_equal(def("n")->f.off, 1);
	assert_int_equal(def("n")->f.is_signed, 1);
	assert_non_null(def("comm"));
	/* a class of another name, found by its parameters' types */
	load("raw:cat:ev2");
	assert_non_null(def("t"));
	assert_non_null(def("n"));
	/* no such BTF tracepoint */
	assert_int_equal(trace_probe_parse("raw:cat:nope", &probe, err, sizeof(err)), 0);
	assert_int_equal(trace_raw_args(&probe, btf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "btf_trace_nope"));
	/* the classic form stays the default */
	assert_int_equal(trace_probe_parse("cat:ev", &probe, err, sizeof(err)), 0);
	assert_int_equal(probe.kind, TRACE_P_TP);
}

/* Path @name resolves to @kind, @size, signedness @sgn and the offsets @off[@n]. */
static void path_is(const char *name, int kind, int size, int sgn, int n, const uint32_t *off)
{
	struct trace_field f = { 0 };
	struct trace_path p = { 0 };
	char why[160] = "";
	size_t col = 99;
	int rc = trace_raw_path(&probe, name, strlen(name), &f, &p, &col, why, sizeof(why));

	if (rc)
		fail_msg("%s: %s (column %zu)", name, why, col + 1);
	assert_int_equal(f.kind, kind);
	assert_int_equal(f.size, size);
	assert_int_equal(f.is_signed, sgn);
	assert_int_equal(f.off, 0);	/* argument t */
	assert_int_equal(p.n, n);
	for (int i = 0; i < n; i++)
		assert_int_equal(p.off[i], off[i]);
}

static void test_paths(void **state)
{
	(void)state;
	load("raw:cat:ev");
	path_is("t->pid", TRACE_F_KPATH, 4, 1, 1, (uint32_t[]){ 0 });
	path_is("t->comm", TRACE_F_KSTR, 16, 0, 1, (uint32_t[]){ 4 });
	path_is("t->mm", TRACE_F_KPATH, 8, 0, 1, (uint32_t[]){ 24 });
	path_is("t->mm->pad", TRACE_F_KPATH, 8, 1, 2, (uint32_t[]){ 24, 0 });
	path_is("t->mm->owner->comm", TRACE_F_KSTR, 16, 0, 3, (uint32_t[]){ 24, 8, 4 });
	path_is("t->mm->owner->mm->pad", TRACE_F_KPATH, 8, 1, 4, (uint32_t[]){ 24, 8, 24, 0 });
	path_is("t->mm->owner->mm->owner", TRACE_F_KPATH, 8, 0, 4, (uint32_t[]){ 24, 8, 24, 8 });
	/* anonymous union and struct looked through */
	path_is("t->num", TRACE_F_KPATH, 2, 0, 1, (uint32_t[]){ 34 });
	path_is("t->pp", TRACE_F_KPATH, 8, 1, 1, (uint32_t[]){ 32 });
	/* a struct inside by '.' */
	path_is("t->inl.owner->pid", TRACE_F_KPATH, 4, 1, 2, (uint32_t[]){ 48, 0 });
	/* a char pointer: the string it points to, one read more */
	path_is("t->name", TRACE_F_KSTR, TRACE_STR, 0, 2, (uint32_t[]){ 56, 0 });
}

/* Path @name fails with @what at column @col (from 1). */
static void path_bad(const char *name, size_t col, const char *what)
{
	struct trace_field f = { 0 };
	struct trace_path p = { 0 };
	char why[160] = "";
	size_t at = 99;

	assert_int_equal(trace_raw_path(&probe, name, strlen(name), &f, &p, &at, why,
					sizeof(why)), -1);
	if (!strstr(why, what) || at + 1 != col)
		fail_msg("%s: '%s' at column %zu, expected '%s' at %zu", name, why, at + 1, what,
			 col);
}

static void test_path_errors(void **state)
{
	struct trace_conf c = { 0 };
	char why[160];
	size_t col;

	(void)state;
	load("raw:cat:ev");
	path_bad("x->pid", 1, "'x' is not an argument of ev");
	path_bad("t->nope", 4, "struct task has no member 'nope'");
	path_bad("t.pid", 2, "'t' is not a struct: use '->'");
	path_bad("n->x", 2, "'n' is not a pointer");
	path_bad("t->pid->x", 7, "'t->pid' is not a pointer");
	path_bad("t->inl->pad", 7, "'t->inl' is not a pointer: use '.'");
	path_bad("t->mm.pad", 6, "'t->mm' is not a struct: use '->'");
	path_bad("t->inl", 4, "'inl' is a struct: name a member with '.'");
	path_bad("t->flags", 4, "'flags' is a bit field");
	path_bad("t->", 4, "expected a member name");
	path_bad("t->pid+1", 7, "expected a member name");
	path_bad("t->mm->owner->mm->owner->pid", 24, "too deep: 4 memory reads at most");
	path_bad("t->mm->owner->mm->owner->name", 24, "too deep");
	/* through trace_conf_field: a path is a field of its own, added once */
	assert_int_equal(trace_conf_field_why(&c, &probe, "t->pid", 6, &col, why, sizeof(why)), 0);
	assert_int_equal(trace_conf_field_why(&c, &probe, "t->num", 6, &col, why, sizeof(why)), 1);
	assert_int_equal(trace_conf_field_why(&c, &probe, "t->pid", 6, &col, why, sizeof(why)), 0);
	assert_int_equal(c.path[1].off[0], 34);
	assert_int_equal(trace_conf_field_why(&c, &probe, "t->zz", 5, &col, why, sizeof(why)), -3);
	assert_int_equal(col, 3);
	assert_int_equal(trace_conf_field(&c, &probe, "zz", 2), -1);
}

static void test_proto_text(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(trace_raw_proto(btf, "ev", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "struct task *t, int n");
	assert_int_equal(trace_raw_proto(btf, "nope", buf, sizeof(buf)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_form_and_arguments),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_path_errors),
		cmocka_unit_test(test_proto_text),
	};

	return cmocka_run_group_tests(tests, build, teardown);
}
