// SPDX-License-Identifier: GPL-2.0
/* modules/req_rows.c: how req's rows are named (the kernel's counts need the kernel:
 * tests/e2e/test_req.py). */
#include "testutil.h"

#include "modules/req_int.h"

/* A Redis key with @name packed as the kernel packs it: the first letter highest. */
static struct req_key redis_key(const char *name)
{
	struct req_key k = { .proto = REQ_P_REDIS };

	for (const char *p = name; *p; p++)
		k.cmd = k.cmd << 8 | (uint8_t)*p;
	return k;
}

static void test_method_names(void **state)
{
	struct req_key h = { .proto = REQ_P_HTTP, .method = REQ_M_OPTIONS };
	struct req_key r = redis_key("GET"), r8 = redis_key("NOSUCHCO"), none = redis_key("");
	char buf[16];

	(void)state;
	assert_string_equal(req_method_name(&h, buf, sizeof(buf)), "OPTIONS");
	h.method = REQ_M_NR;
	assert_string_equal(req_method_name(&h, buf, sizeof(buf)), "?");
	assert_string_equal(req_method_name(&r, buf, sizeof(buf)), "GET");
	assert_string_equal(req_method_name(&r8, buf, sizeof(buf)), "NOSUCHCO");
	assert_string_equal(req_method_name(&none, buf, sizeof(buf)), "?");
	/* a short buffer cuts, never overruns */
	assert_string_equal(req_method_name(&r8, buf, 4), "NOS");
}

static void test_status(void **state)
{
	char buf[8];

	(void)state;
	assert_string_equal(req_status_name(5, buf, sizeof(buf)), "5xx");
	assert_string_equal(req_status_name(REQ_S_OK, buf, sizeof(buf)), "ok");
	assert_string_equal(req_status_name(REQ_S_ERR, buf, sizeof(buf)), "error");
	assert_true(req_status_error(REQ_P_HTTP, 5));
	assert_false(req_status_error(REQ_P_HTTP, 4));
	assert_false(req_status_error(REQ_P_HTTP, REQ_S_ERR));
	assert_true(req_status_error(REQ_P_REDIS, REQ_S_ERR));
	assert_false(req_status_error(REQ_P_REDIS, REQ_S_OK));
	assert_string_equal(req_proto_name(REQ_P_HTTP), "http");
	assert_string_equal(req_proto_name(REQ_P_REDIS), "redis");
	assert_string_equal(req_proto_name(REQ_P_OTHER), "-");
}

/* Which of the agent's rows give the map a req_row: every client row; a server row only
 * when its client's end was not counted here (then it keeps the client's address). */
static void test_edge_rows(void **state)
{
	struct req_key k = { .role = REQ_R_CLIENT, .family = REQ_AF_INET };

	(void)state;
	assert_true(req_edge_row(&k));
	k.role = REQ_R_SERVER;
	assert_true(req_edge_row(&k));
	k.peer = REQ_PEER_HERE;
	k.family = 0;
	assert_false(req_edge_row(&k));
	k.peer = 0;		/* the tool's rows: no client address */
	assert_false(req_edge_row(&k));
	k.role = 0;
	assert_false(req_edge_row(&k));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_method_names),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_edge_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
