// SPDX-License-Identifier: GPL-2.0
/* modules/offcpu_text.c: which frames of a stack are shown, in which order, as text. */
#include "testutil.h"

#include "modules/offcpu_int.h"

#define F(n) { .name = (n) }

static const char *text_of(const struct ks_frame *f, int n, bool kernel, bool leaf_first,
			   bool mark, bool *irq, struct offcpu_text *t)
{
	int first;

	memset(t, 0, sizeof(*t));
	n = offcpu_frames_keep(f, n, kernel, irq, &first);
	offcpu_frames_text(f + first, n, leaf_first, mark, t);
	return t->s;
}

/* A sleeper's kernel stack as taken in the tp_btf program: the tracer's frames dropped at
 * the leaf only, root first for records, leaf first and marked for folded text. */
static void test_sleeper_kernel(void **state)
{
	static const struct ks_frame f[] = {
		F("bpf_prog_d1e2d7921fbe03ea_offcpu__switch_btf"), F("bpf_trace_run4"),
		F("__traceiter_sched_switch"), F("__schedule"), F("schedule"),
		F("pipe_read"), F("vfs_read"), F("bpf_trace_run4"),
	};
	struct offcpu_text t;

	assert_string_equal(text_of(f, 8, true, false, false, NULL, &t),
			    "bpf_trace_run4;vfs_read;pipe_read;schedule;__schedule");
	assert_string_equal(text_of(f, 5, true, true, true, NULL, &t),
			    "__schedule_[k];schedule_[k]");
	/* a user stack keeps every frame */
	assert_string_equal(text_of(f, 2, false, false, false, NULL, &t),
			    "bpf_trace_run4;bpf_prog_d1e2d7921fbe03ea_offcpu__switch_btf");
	/* nothing but the tracer: shown as it is */
	assert_string_equal(text_of(f, 2, true, false, false, NULL, &t),
			    "bpf_trace_run4;bpf_prog_d1e2d7921fbe03ea_offcpu__switch_btf");
}

/* A waker in a timer interrupt: its stack ends at the interrupt's entry. */
static void test_waker_in_interrupt(void **state)
{
	static const struct ks_frame f[] = {
		F("__bpf_trace_sched_wakeup_template"), F("try_to_wake_up"),
		F("hrtimer_wakeup"), F("asm_sysvec_apic_timer_interrupt"), F("memcpy"),
		F("do_syscall_64"),
	};
	static const struct ks_frame g[] = { F("try_to_wake_up"), F("pipe_write") };
	struct offcpu_text t;
	bool irq = false;

	assert_string_equal(text_of(f, 6, true, true, false, &irq, &t),
			    "try_to_wake_up;hrtimer_wakeup;asm_sysvec_apic_timer_interrupt");
	assert_true(irq);
	irq = false;
	assert_string_equal(text_of(g, 2, true, false, false, &irq, &t),
			    "pipe_write;try_to_wake_up");
	assert_false(irq);
	/* a sleeper's stack is never cut */
	assert_string_equal(text_of(f, 6, true, false, false, NULL, &t),
			    "do_syscall_64;memcpy;asm_sysvec_apic_timer_interrupt;hrtimer_wakeup;"
			    "try_to_wake_up");
}

static void test_names(void **state)
{
	struct ks_frame named = { .name = "a b;c" }, file = { .module = "libx.so" }, none = {};
	char buf[64];

	offcpu_frame_text(&named, true, buf, sizeof(buf));
	assert_string_equal(buf, "a:b:c_[k]");
	offcpu_frame_text(&file, false, buf, sizeof(buf));
	assert_string_equal(buf, "[libx.so]");
	offcpu_frame_text(&none, false, buf, sizeof(buf));
	assert_string_equal(buf, "[unknown]");
	offcpu_comm_text("my thread;1", buf, sizeof(buf));
	assert_string_equal(buf, "my_thread_1");
	offcpu_comm_text("", buf, sizeof(buf));
	assert_string_equal(buf, "?");
	/* comm is TASK_COMM_LEN bytes, not NUL-terminated when full */
	offcpu_comm_text("0123456789abcdefXYZ", buf, sizeof(buf));
	assert_string_equal(buf, "0123456789abcdef");
}

/* A full text is cut, never overrun. */
static void test_full(void **state)
{
	struct offcpu_text *t = calloc(1, sizeof(*t));
	char frame[200];

	memset(frame, 'x', sizeof(frame) - 1);
	frame[sizeof(frame) - 1] = 0;
	for (int i = 0; i < 200; i++)
		offcpu_text_add(t, frame);
	assert_int_equal(t->len, sizeof(t->s) - 1);
	assert_int_equal(strlen(t->s), sizeof(t->s) - 1);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sleeper_kernel),
		cmocka_unit_test(test_waker_in_interrupt),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
