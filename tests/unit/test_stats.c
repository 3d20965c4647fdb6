// SPDX-License-Identifier: GPL-2.0
/*
 * The stats record (core/stats.c) through the test context: the agent's record crossed 32
 * values at 14 active types and lost the rest without a word; per-type counts are now a
 * nested object that holds any number, mirrored in the registry.
 */
#include "testctx.h"

#define NTYPES 40

static struct ks_evtype types[NTYPES + 1];
static char names[NTYPES][8];

static const struct ks_module fake_module = {
	.name = "fake",
	.types = types,
};

static void test_many_types(void **state)
{
	struct tc t;
	char *json, *p;

	for (int i = 0; i < NTYPES; i++) {
		snprintf(names[i], sizeof(names[i]), "t%d", i);
		types[i].type = 100 + i;
		types[i].name = names[i];
	}
	tc_open(&t, &fake_module, 0, NULL);
	t.ctx->pipe.s[1]->kinds = KS_KINDS_ALL;
	for (int i = 0; i < NTYPES; i++) {
		t.ctx->loss.delivered[100 + i] = 1000 + i;
		t.ctx->loss.lost[100 + i] = i == 7;
	}
	ks_ctx_emit_stats(t.ctx, true);
	json = tc_no_ts(tc_json(&t));
	/* every type, in order, and nothing dropped */
	assert_non_null(strstr(json, "\"types\":{\"t0\":{\"events\":1000,\"lost\":0},"
				     "\"t1\":{\"events\":1001,\"lost\":0},"));
	assert_non_null(strstr(json, "\"t7\":{\"events\":1007,\"lost\":1}"));
	assert_non_null(strstr(json, "\"t39\":{\"events\":1039,\"lost\":0}},"));
	assert_null(strstr(json, "values_dropped"));
	p = strstr(json, "\"sinks\":");
	assert_non_null(p);
	assert_memory_equal(p, "\"sinks\":{\"json\":{\"records\":0,\"dropped\":0},"
			    "\"table\":{\"records\":0,\"dropped\":0}},\"ident\":{\"lookups\":0,",
			    strlen("\"sinks\":{\"json\":{\"records\":0,\"dropped\":0},"
				   "\"table\":{\"records\":0,\"dropped\":0}},\"ident\":{\"lookups\":0,"));
	p = "{\"type\":\"stats\",\"events\":40780,\"lost\":1,\"final\":true,\"consistent\":";
	assert_memory_equal(json, p, strlen(p));
	free(json);
	/* the table's line: human events, exact losses */
	tc_expect(tc_table(&t), "loss      events 40.8k  lost 1\n");
	/* the registry has the same numbers */
	assert_int_equal(tc_counter(&t, "ksight_events_total", "t39"), 1039);
	assert_int_equal(tc_counter(&t, "ksight_events_lost_total", "t7"), 1);
	assert_int_equal(tc_counter(&t, "ksight_sink_records_total", "json"), 0);
	tc_close(&t);
}

/* ks_emit counts the values a record could not hold, and says so once. */
static void test_values_dropped_counted(void **state)
{
	struct ks_rec r;
	struct tc t;

	tc_open(&t, &fake_module, 0, NULL);
	for (int k = 0; k < 2; k++) {
		ks_rec_init(&r, "wide", NULL);
		for (int i = 0; i < KS_REC_MAX + 4; i++)
			ks_rec_uint(&r, i == KS_REC_MAX - 1 ? "last" : NULL, NULL, 0, i);
		ks_emit(t.ctx, &r);
	}
	tc_expect(tc_no_ts(tc_json(&t)), "{\"type\":\"wide\",\"last\":31,\"values_dropped\":4}\n"
					 "{\"type\":\"wide\",\"last\":31,\"values_dropped\":4}\n");
	assert_int_equal(tc_counter(&t, "ksight_record_values_dropped_total", NULL), 8);
	assert_true(t.ctx->said_values_dropped);
	tc_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_types),
		cmocka_unit_test(test_values_dropped_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
