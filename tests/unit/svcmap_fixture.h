/* SPDX-License-Identifier: GPL-2.0 */
/* The service map the svcmap unit tests build (test_svcmap.c, test_svcmap_spawn.c): one
 * map per test (setup, teardown), connection ends added by end(), edges found by edge(). */
#ifndef KSIGHT_TEST_SVCMAP_FIXTURE_H
#define KSIGHT_TEST_SVCMAP_FIXTURE_H

#include "testutil.h"

#include "core/svcmap.h"

#define S 1000000000LL
#define T0 (1700000000LL * S)

static struct ks_svcmap m;

static inline int setup(void **state)
{
	return ks_svcmap__init(&m);
}

static inline int teardown(void **state)
{
	ks_svcmap__free(&m);
	return 0;
}

/* One end: @side's view of a connection from @caddr:@cport to @saddr:@sport. */
static inline void end(const char *svc, enum ks_svcmap_side side, const char *caddr, int cport,
		const char *saddr, int sport, int64_t start, int64_t dur, uint64_t c2s,
		uint64_t s2c)
{
	bool cl = side != KS_SIDE_SERVER;
	struct ks_svcmap_conn c = {
		.start_ns = start, .end_ns = start + dur, .service = svc, .side = side,
		.laddr = cl ? caddr : saddr, .lport = cl ? cport : sport,
		.raddr = cl ? saddr : caddr, .rport = cl ? sport : cport,
		.tx = cl ? c2s : s2c, .rx = cl ? s2c : c2s, .srtt_ns = 50000,
	};

	assert_int_equal(ks_svcmap__add(&m, &c), 0);
}

static inline const struct ks_svcmap_edge *edge(const char *c, const char *s, int port)
{
	for (size_t i = 0; i < m.nedges; i++)
		if (!strcmp(m.edges[i].client, c) && !strcmp(m.edges[i].server, s) &&
		    m.edges[i].port == port)
			return &m.edges[i];
	fail_msg("no edge %s -> %s:%d", c, s, port);
	return NULL;
}

#endif
