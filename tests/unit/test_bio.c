// SPDX-License-Identifier: GPL-2.0
/* bio module: biotop's row arithmetic and order (modules/bio_fmt.c), the agent's rows
 * merged per service with their latency buckets (bio_svc.c), and biosnoop's
 * records as the kernel writes them, decoded into exact JSON and table text. */
#include "testctx.h"

#include <errno.h>

#include "bio.h"
#include "biolat.h"
#include "modules/bio_fmt.h"
#include "modules/bio_svc.h"

extern const struct ks_module bio_module;

static struct bio_row row(uint32_t pid, uint32_t op, uint64_t ops, uint64_t bytes, uint64_t svc)
{
	struct bio_row r;

	memset(&r, 0, sizeof(r));
	r.k.pid = pid;
	r.k.dev = 7 << 20;
	r.k.op = op;
	r.v.ops = ops;
	r.v.bytes = bytes;
	r.v.svc_ns = svc;
	return r;
}

static void test_words(void **state)
{
	assert_string_equal(bio_op_letter(BIOLAT_OP_READ), "R");
	assert_string_equal(bio_op_letter(BIOLAT_OP_WRITE), "W");
	assert_string_equal(bio_op_letter(BIOLAT_OP_FLUSH), "F");
	assert_string_equal(bio_op_letter(BIOLAT_OP_DISCARD), "D");
	assert_string_equal(bio_op_letter(BIOLAT_OP_OTHER), "?");
	assert_string_equal(bio_op_letter(7), "?");
	assert_string_equal(bio_op_word(BIOLAT_OP_READ), "read");
	assert_string_equal(bio_op_word(BIOLAT_OP_DISCARD), "discard");
	assert_string_equal(bio_op_word(BIOLAT_OP_OTHER), "other");
	assert_string_equal(bio_how_word(BIO_BY_QUEUER), "queuer");
	assert_string_equal(bio_how_word(BIO_BY_ISSUER), "issuer");
	assert_int_equal(bio_avg(10, 0), 0);
	assert_int_equal(bio_avg(10, 3), 3);
}

static void test_sub(void **state)
{
	struct bio_row cur = row(5, 0, 10, 40960, 1000), prev = row(5, 0, 4, 16384, 300);

	cur.v.queue_ns = 70;
	prev.v.queue_ns = 20;
	assert_true(bio_row_sub(&cur, &prev));
	assert_int_equal(cur.v.ops, 6);
	assert_int_equal(cur.v.bytes, 24576);
	assert_int_equal(cur.v.svc_ns, 700);
	assert_int_equal(cur.v.queue_ns, 50);
	/* no change since: nothing to show */
	prev = cur;
	assert_false(bio_row_sub(&cur, &prev));
	/* first seen: the whole row */
	cur = row(6, 1, 2, 8192, 10);
	assert_true(bio_row_sub(&cur, NULL));
	assert_int_equal(cur.v.ops, 2);
}

static void test_sort(void **state)
{
	struct bio_row r[4] = {
		row(1, 0, 10, 4096 * 10, 100),	/* avg 10 */
		row(2, 1, 2, 65536 * 2, 400),	/* avg 200, most bytes and time */
		row(3, 0, 30, 4096 * 30, 300),	/* most ops, avg 10 */
		row(3, 1, 1, 4096, 100),	/* avg 100 */
	};
	struct { enum bio_sort by; uint32_t pid[4], op[4]; } want[] = {
		{ BIO_SORT_BYTES, { 2, 3, 1, 3 }, { 1, 0, 0, 1 } },
		{ BIO_SORT_OPS, { 3, 1, 2, 3 }, { 0, 0, 1, 1 } },
		{ BIO_SORT_TIME, { 2, 3, 1, 3 }, { 1, 0, 0, 1 } },	/* 100 ties: by key */
		{ BIO_SORT_AVG, { 2, 3, 1, 3 }, { 1, 1, 0, 0 } },	/* 10 ties: by key */
	};

	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		bio_rows_sort(r, 4, want[w].by);
		for (int i = 0; i < 4; i++) {
			assert_int_equal(r[i].k.pid, want[w].pid[i]);
			assert_int_equal(r[i].k.op, want[w].op[i]);
		}
	}
	assert_string_equal(bio_sort_names[BIO_SORT_AVG], "avg");
	assert_null(bio_sort_names[BIO_SORT_N]);
}

/* A disk no machine has: its name is its numbers. */
#define NODEV ((4095u << 20) | 3)

static size_t req(struct bio_req *e, uint32_t flags, uint64_t sector, uint32_t bytes,
		  uint64_t queue, uint64_t svc, uint32_t how)
{
	tc_hdr(&e->hdr, BIO_EV_REQ, sizeof(*e), 1500000000, 4242, 4243, 1, "postgres");
	e->hdr.flags = KS_HDR_F_OWNER;
	e->sector = sector;
	e->queue_ns = queue;
	e->svc_ns = svc;
	e->dev = NODEV;
	e->flags = flags;
	e->bytes = bytes;
	e->error = 0;
	e->how = how;
	e->__pad = 0;
	return sizeof(*e);
}

static void test_biosnoop_record(void **state)
{
	struct bio_req e;
	struct tc t;

	tc_open(&t, &bio_module, 0, NULL);
	tc_feed(&t, &e, req(&e, BIOLAT_OP_WRITE | BIOLAT_F_SYNC, 2048, 16384, 1500, 250000,
			     BIO_BY_QUEUER));
	tc_expect(tc_json(&t),
		  "{\"type\":\"biosnoop\",\"ts\":\"1970-01-01T00:00:01.500000000Z\",\"pid\":4242,"
		  "\"tid\":4243,\"comm\":\"postgres\",\"service\":\"postgres\",\"cgroup\":1,"
		  "\"disk\":\"4095:3\",\"dev\":\"4095:3\",\"op\":\"W\",\"flags\":\"Sync-Write\","
		  "\"sector\":2048,\"bytes\":16384,\"queue_ns\":1500,\"svc_ns\":250000,"
		  "\"lat_ns\":251500,\"error\":0,\"owner\":\"queuer\"}\n");
	free(tc_table(&t));
	tc_feed(&t, &e, req(&e, BIOLAT_OP_READ, 8, 4096, 0, 90000, BIO_BY_ISSUER));
	tc_expect(tc_table(&t),
		  "4242    postgres         4095:3   R  Read                          8   4.00 KiB"
		  "       0ns      90us      90us issuer\n");
	free(tc_json(&t));
	/* a flush: no data, no sector (the kernel's is all ones) */
	tc_feed(&t, &e, req(&e, BIOLAT_OP_FLUSH | BIOLAT_F_PREFLUSH, UINT64_MAX, 0, 0, 591000,
			     BIO_BY_ISSUER));
	tc_expect(tc_table(&t),
		  "4242    postgres         4095:3   F  PreFlush-Flush                -        0 B"
		  "       0ns     591us     591us issuer\n");
	tc_expect(tc_json(&t),
		  "{\"type\":\"biosnoop\",\"ts\":\"1970-01-01T00:00:01.500000000Z\",\"pid\":4242,"
		  "\"tid\":4243,\"comm\":\"postgres\",\"service\":\"postgres\",\"cgroup\":1,"
		  "\"disk\":\"4095:3\",\"dev\":\"4095:3\",\"op\":\"F\",\"flags\":\"PreFlush-Flush\","
		  "\"bytes\":0,\"queue_ns\":0,\"svc_ns\":591000,\"lat_ns\":591000,\"error\":0,"
		  "\"owner\":\"issuer\"}\n");
	/* short or foreign records are not read */
	tc_feed(&t, &e, sizeof(e) - 8);
	e.hdr.type = BIO_EV_ROWS;
	tc_feed(&t, &e, sizeof(e));
	tc_expect(tc_json(&t), "");
	tc_close(&t);
}

/* Three rows of two services: sums and buckets add up per service, in first-seen order;
 * past BIO_SVC_MAX services a row is refused (the caller emits it alone); reset empties. */
static void test_svcs(void **state)
{
	struct bio_svcs t = { 0 };
	struct bio_val a = { .ops = 2, .bytes = 8192, .svc_ns = 30000, .queue_ns = 1000 };
	struct bio_val b = { .ops = 1, .bytes = 4096, .svc_ns = 900000 };
	char name[16];

	a.slots[4] = 2;
	b.slots[9] = 1;
	assert_int_equal(bio_svcs_add(&t, "web", &a), 0);
	assert_int_equal(bio_svcs_add(&t, "db", &b), 0);
	assert_int_equal(bio_svcs_add(&t, "web", &b), 0);
	assert_int_equal(t.n, 2);
	assert_string_equal(t.s[0].name, "web");
	assert_int_equal(t.s[0].v.ops, 3);
	assert_int_equal(t.s[0].v.bytes, 12288);
	assert_int_equal(t.s[0].v.svc_ns, 930000);
	assert_int_equal(t.s[0].v.queue_ns, 1000);
	assert_int_equal(t.s[0].v.slots[4], 2);
	assert_int_equal(t.s[0].v.slots[9], 1);
	assert_int_equal(t.s[1].v.ops, 1);
	assert_int_equal(t.s[1].v.slots[4], 0);
	for (int i = 2; i < BIO_SVC_MAX; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		assert_int_equal(bio_svcs_add(&t, name, &b), 0);
	}
	assert_int_equal(bio_svcs_add(&t, "one-more", &b), -ENOMEM);
	assert_int_equal(bio_svcs_add(&t, "web", &b), 0);	/* known ones still add */
	assert_int_equal(t.s[0].v.ops, 4);
	bio_svcs_reset(&t);
	assert_int_equal(t.n, 0);
	assert_int_equal(bio_svcs_add(&t, "db", &a), 0);
	assert_int_equal(t.s[0].v.ops, 2);
	bio_svcs_free(&t);
	bio_svcs_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_sub),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_svcs),
		cmocka_unit_test(test_biosnoop_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
