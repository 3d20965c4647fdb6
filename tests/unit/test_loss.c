// SPDX-License-Identifier: GPL-2.0
/* core/loss.c: per-stream sequence gaps, the kernel's counters, produced = delivered + lost. */
#include "testutil.h"

#include "core/loss.h"

#define T_EXEC KS_EV(1, 0)
#define T_OPEN KS_EV(2, 0)
#define T_HIST KS_EV(3, 1)	/* an aggregation type */

static struct ks_loss l;

static int setup(void **state)
{
	return ks_loss_init(&l, 4);
}

static int teardown(void **state)
{
	ks_loss_free(&l);
	return 0;
}

static void test_in_order(void **state)
{
	for (uint64_t s = 0; s < 5; s++)
		ks_loss_record(&l, 1, 0, s, T_EXEC);
	assert_int_equal(l.delivered[T_EXEC], 5);
	assert_int_equal(l.cpu[1 * KS_LEVELS].seen, 5);
	assert_int_equal(l.cpu[1 * KS_LEVELS].next, 5);
	assert_int_equal(l.cpu[1 * KS_LEVELS].gaps, 0);
	assert_int_equal(l.cpu[0 * KS_LEVELS].seen, 0);
	assert_int_equal(ks_loss_gaps(&l), 0);
}

static void test_gaps(void **state)
{
	ks_loss_record(&l, 0, 0, 0, T_EXEC);
	ks_loss_record(&l, 0, 0, 5, T_EXEC);	/* 1..4 lost */
	ks_loss_record(&l, 0, 0, 6, T_OPEN);
	ks_loss_record(&l, 2, 0, 3, T_OPEN);	/* a CPU's first record after 0..2 were lost */
	assert_int_equal(l.cpu[0 * KS_LEVELS].gaps, 4);
	assert_int_equal(l.cpu[0 * KS_LEVELS].next, 7);
	assert_int_equal(l.cpu[2 * KS_LEVELS].gaps, 3);
	assert_int_equal(ks_loss_gaps(&l), 7);
	assert_int_equal(l.delivered[T_EXEC], 2);
	assert_int_equal(l.delivered[T_OPEN], 2);
}

static void test_out_of_order(void **state)
{
	ks_loss_record(&l, 3, 0, 0, T_EXEC);
	ks_loss_record(&l, 3, 0, 3, T_EXEC);	/* 1 and 2 missing for now */
	assert_int_equal(l.cpu[3 * KS_LEVELS].gaps, 2);
	ks_loss_record(&l, 3, 0, 2, T_EXEC);	/* late, not lost */
	assert_int_equal(l.cpu[3 * KS_LEVELS].gaps, 1);
	assert_int_equal(l.cpu[3 * KS_LEVELS].next, 4);
	ks_loss_record(&l, 3, 0, 1, T_EXEC);
	assert_int_equal(l.cpu[3 * KS_LEVELS].gaps, 0);
	ks_loss_record(&l, 3, 0, 1, T_EXEC);	/* never below zero */
	assert_int_equal(l.cpu[3 * KS_LEVELS].gaps, 0);
	ks_loss_record(&l, 3, 0, 4, T_EXEC);
	assert_int_equal(l.cpu[3 * KS_LEVELS].gaps, 0);
	assert_int_equal(l.cpu[3 * KS_LEVELS].seen, 6);
	assert_int_equal(l.delivered[T_EXEC], 6);
}

static void test_unknown_cpu_and_type(void **state)
{
	/* a CPU beyond what was sized is still counted as delivered */
	ks_loss_record(&l, 4, 0, 9, T_OPEN);
	ks_loss_record(&l, UINT32_MAX, 0, 9, T_OPEN);
	assert_int_equal(l.delivered[T_OPEN], 2);
	assert_int_equal(ks_loss_gaps(&l), 0);
	/* types wrap into the table instead of writing past it */
	ks_loss_record(&l, 0, 0, 0, KS_EV_MAX + T_OPEN);
	assert_int_equal(l.delivered[T_OPEN], 3);
}

static void test_kernel_counters(void **state)
{
	uint64_t seq[4 * KS_LEVELS] = { 10, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 5 }, unl[4] = { 0 };
	static uint64_t lost[4 * KS_EV_MAX];

	lost[0 * KS_EV_MAX + T_EXEC] = 1;
	lost[1 * KS_EV_MAX + T_EXEC] = 2;
	lost[1 * KS_EV_MAX + T_OPEN] = 4;
	lost[3 * KS_EV_MAX + T_HIST] = 8;
	lost[3 * KS_EV_MAX + KS_EV_MAX - 1] = 16;	/* the last type of the last CPU */
	ks_loss_kernel(&l, seq, unl, lost);
	assert_int_equal(l.seq_total, 35);
	assert_int_equal(l.lost[T_EXEC], 3);
	assert_int_equal(l.lost[T_OPEN], 4);
	assert_int_equal(l.lost[T_HIST], 8);
	assert_int_equal(l.lost[KS_EV_MAX - 1], 16);
	assert_int_equal(l.lost[0], 0);

	/* every level of a CPU is summed, and records that found no level are kept apart */
	seq[1] = 7;
	seq[4 * KS_LEVELS - 1] = 1;
	unl[2] = 3;
	ks_loss_kernel(&l, seq, unl, lost);
	assert_int_equal(l.seq_total, 43);
	assert_int_equal(l.unleveled, 3);
	seq[1] = seq[4 * KS_LEVELS - 1] = unl[2] = 0;

	/* a later read replaces the earlier one (the kernel's counters are running totals) */
	seq[0] = 11;
	lost[0 * KS_EV_MAX + T_EXEC] = 2;
	ks_loss_kernel(&l, seq, unl, lost);
	assert_int_equal(l.seq_total, 36);
	assert_int_equal(l.lost[T_EXEC], 4);
	assert_int_equal(l.lost[T_OPEN], 4);
}

/* Each nesting level of a CPU is its own stream: the same numbers on two levels of one CPU
 * are neither gaps nor reorderings. */
static void test_levels_are_streams(void **state)
{
	for (uint64_t s = 0; s < 4; s++) {
		ks_loss_record(&l, 1, 0, s, T_EXEC);
		ks_loss_record(&l, 1, 2, s, T_OPEN);	/* an interrupt's records, interleaved */
	}
	ks_loss_record(&l, 1, 3, 2, T_OPEN);	/* NMI level: 0 and 1 were lost */
	assert_int_equal(l.cpu[1 * KS_LEVELS + 0].next, 4);
	assert_int_equal(l.cpu[1 * KS_LEVELS + 2].next, 4);
	assert_int_equal(l.cpu[1 * KS_LEVELS + 3].gaps, 2);
	assert_int_equal(ks_loss_gaps(&l), 2);
	/* a level beyond KS_LEVELS is delivered but not tracked */
	ks_loss_record(&l, 1, KS_LEVELS, 50, T_EXEC);
	assert_int_equal(l.delivered[T_EXEC], 5);
	assert_int_equal(ks_loss_gaps(&l), 2);
}

static void test_totals(void **state)
{
	struct ks_loss_totals t;

	l.delivered[T_EXEC] = 20;
	l.delivered[T_OPEN] = 5;
	l.lost[T_EXEC] = 3;
	l.lost[T_OPEN] = 1;
	l.agg_type[T_HIST] = true;
	l.aggregated[T_HIST] = 100;
	l.lost[T_HIST] = 4;	/* refused map updates: not in any sequence */
	l.seq_total = 29;
	ks_loss_totals(&l, &t);
	assert_int_equal(t.streamed, 25);
	assert_int_equal(t.streamed_lost, 4);
	assert_int_equal(t.events, 125);
	assert_int_equal(t.lost, 8);
	assert_true(t.consistent);

	l.seq_total = 27;	/* two records found no level: lost, but without a number */
	l.unleveled = 2;
	ks_loss_totals(&l, &t);
	assert_true(t.consistent);
	l.unleveled = 0;

	l.seq_total = 30;	/* one record neither delivered nor counted lost */
	ks_loss_totals(&l, &t);
	assert_false(t.consistent);
	l.seq_total = 33;	/* counting the aggregation losses in would be wrong */
	ks_loss_totals(&l, &t);
	assert_false(t.consistent);

	ks_loss_free(&l);
	assert_int_equal(ks_loss_init(&l, 2), 0);	/* nothing at all is consistent */
	ks_loss_totals(&l, &t);
	assert_true(t.consistent);
	assert_int_equal(t.events + t.lost, 0);
}

/*
 * A whole run: two CPUs stream exec and open records, the kernel fails some reservations
 * (their seqs are used but never arrive); an aggregating type counts in a map. At the end,
 * per type, produced = delivered + lost, and the gaps seen live match the streamed losses.
 */
static void test_reconciliation(void **state)
{
	static uint64_t lost[4 * KS_EV_MAX];
	uint64_t seq[4 * KS_LEVELS] = { 0 }, unl[4] = { 0 }, produced[KS_EV_MAX] = { 0 };
	uint64_t got[1000];
	struct ks_loss_totals t;

	for (uint32_t cpu = 0; cpu < 2; cpu++) {
		size_t n = 0;

		for (uint64_t s = 0; s < 1000; s++) {
			uint16_t type = s % 3 ? T_EXEC : T_OPEN;

			produced[type]++;
			seq[cpu * KS_LEVELS]++;
			if ((s + cpu) % 7 == 0)
				lost[cpu * KS_EV_MAX + type]++;	/* reservation failed */
			else
				got[n++] = s;
		}
		/* nested producers: now and then two records arrive swapped */
		for (size_t i = 0; i + 1 < n; i += 5) {
			uint64_t x = got[i];

			got[i] = got[i + 1];
			got[i + 1] = x;
		}
		for (size_t i = 0; i < n; i++)
			ks_loss_record(&l, cpu, 0, got[i], got[i] % 3 ? T_EXEC : T_OPEN);
	}
	produced[T_HIST] = 500;
	l.agg_type[T_HIST] = true;
	l.aggregated[T_HIST] = 497;
	lost[3 * KS_EV_MAX + T_HIST] = 3;
	ks_loss_kernel(&l, seq, unl, lost);
	ks_loss_totals(&l, &t);

	for (int type = 0; type < KS_EV_MAX; type++)
		assert_int_equal(produced[type], l.delivered[type] + l.aggregated[type] +
						 l.lost[type]);
	assert_int_equal(l.lost[T_EXEC] + l.lost[T_OPEN], 143 + 142);
	assert_true(t.consistent);
	assert_int_equal(t.streamed + t.streamed_lost, 2000);
	assert_int_equal(t.events + t.lost, 2500);
	/* the live estimate agrees once everything has arrived (no loss at the very end) */
	assert_int_equal(ks_loss_gaps(&l), t.streamed_lost);
	assert_int_equal(l.cpu[0 * KS_LEVELS].seen + l.cpu[1 * KS_LEVELS].seen, t.streamed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gaps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_cpu_and_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_levels_are_streams, setup, teardown),
		cmocka_unit_test_setup_teardown(test_totals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconciliation, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
