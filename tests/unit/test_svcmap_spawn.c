// SPDX-License-Identifier: GPL-2.0
/* core/svcmap.c's spawn edges: execs between services, their counts, times and losses,
 * cgroup names, the diff, and the forms (sink/map_out.c) that draw them. */
#include "svcmap_fixture.h"

#include <errno.h>

#include "sink/map.h"

/* One exec at @t from @from (in cgroup @fcg) to @to (in @tcg). */
static void ex(struct ks_svcmap *mm, int64_t t, const char *from, uint64_t fcg, const char *to,
	       uint64_t tcg)
{
	struct ks_svcmap_exec x = { t, from, to, fcg, tcg };

	assert_int_equal(ks_svcmap__add_exec(mm, &x), 0);
}

static const struct ks_svcmap_edge *spawn(const struct ks_svcmap *mm, const char *p,
					  const char *c)
{
	for (size_t i = 0; i < mm->nedges; i++)
		if (mm->edges[i].kind == KS_EDGE_SPAWN && !strcmp(mm->edges[i].client, p) &&
		    !strcmp(mm->edges[i].server, c))
			return &mm->edges[i];
	return NULL;
}

static size_t nspawn(const struct ks_svcmap *mm)
{
	size_t n = 0;

	for (size_t i = 0; i < mm->nedges; i++)
		n += mm->edges[i].kind == KS_EDGE_SPAWN;
	return n;
}

static void test_spawn_edges(void **state)
{
	const struct ks_svcmap_edge *e;
	const struct ks_svcmap_node *n;

	/* cron.service execs its job 5 times, and runs itself again (same service: no edge);
	 * an exec whose parent nobody knew gives none; a TCP edge between the same two */
	for (int i = 0; i < 5; i++)
		ex(&m, T0 + i * S, "cron.service", 10, "job.service", 11);
	ex(&m, T0 + 9 * S, "cron.service", 10, "cron.service", 10);
	ex(&m, T0 + 9 * S, NULL, 0, "job.service", 11);
	ex(&m, T0 + 7 * S, "job.service", 11, "curl", 0);
	end("cron.service", KS_SIDE_CLIENT, "127.0.0.1", 40000, "127.0.0.1", 80, T0, 10, 1, 2);
	end("job.service", KS_SIDE_SERVER, "127.0.0.1", 40000, "127.0.0.1", 80, T0, 10, 1, 2);
	assert_int_equal(ks_svcmap__add_loss(&m, KS_LOSS_EXEC, T0 + 6 * S, T0 + 8 * S), 0);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(m.execs_in, 8);
	assert_int_equal(m.nnodes, 3);
	assert_int_equal(m.nedges, 3);
	assert_int_equal(nspawn(&m), 2);
	e = spawn(&m, "cron.service", "job.service");
	assert_non_null(e);
	assert_int_equal(e->execs, 5);
	assert_int_equal(e->conns, 0);
	assert_int_equal(e->port, 0);
	assert_int_equal(e->first_ns, T0);
	assert_int_equal(e->last_ns, T0 + 4 * S);
	assert_false(e->incomplete);	/* the exec loss was later */
	assert_string_equal(ks_svcmap_edge_kind_name(e->kind), "spawn");
	e = spawn(&m, "job.service", "curl");
	assert_non_null(e);
	assert_int_equal(e->execs, 1);
	assert_true(e->incomplete);
	/* the TCP edge is its own, first, and no exec loss marks it */
	assert_int_equal(m.edges[0].kind, KS_EDGE_TCP);
	assert_int_equal(m.edges[0].conns, 1);
	assert_int_equal(m.edges[0].execs, 0);
	assert_false(m.edges[0].incomplete);
	assert_null(spawn(&m, "cron.service", "cron.service"));
	n = ks_svcmap__node(&m, "job.service");
	assert_int_equal(n->spawns_in, 5);
	assert_int_equal(n->spawns_out, 1);
	assert_int_equal(n->conns_in, 1);
	n = ks_svcmap__node(&m, "cron.service");
	assert_int_equal(n->spawns_out, 5);
	assert_int_equal(n->first_ns, T0);
	assert_int_equal(n->last_ns, T0 + 4 * S);
	assert_int_equal(ks_svcmap__add_exec(&m, &(struct ks_svcmap_exec){ T0, "a", "b" }),
			 -EINVAL);
}

static void test_spawn_cgroup_names(void **state)
{
	/* the agent had not resolved cgroup 21 at the first execs: the child came named by
	 * its program ("helper"); a later exec there was named by the unit: all are b's. A
	 * process of a.service execing within its own cgroup under another program's name
	 * ("sh" in cgroup 20) is a.service still: no edge. */
	ex(&m, T0, "a.service", 20, "helper", 21);
	ex(&m, T0 + S, "a.service", 20, "helper", 21);
	ex(&m, T0 + 2 * S, "a.service", 20, "b.service", 21);
	ex(&m, T0 + 3 * S, "sh", 20, "a.service", 20);
	ex(&m, T0 + 3 * S, "a.service", 20, "sh", 20);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(m.nedges, 1);
	assert_int_equal(spawn(&m, "a.service", "b.service")->execs, 3);
	assert_null(ks_svcmap__node(&m, "helper"));
	assert_null(ks_svcmap__node(&m, "sh"));
}

static void test_spawn_diff(void **state)
{
	struct ks_svcmap b;
	struct ks_svcmap_diff *d;

	/* before (100 s): a => b 10 execs, a => c 10; after (10 s): a => b 10 (10x), a => d 1,
	 * and a TCP edge a -> b (not the spawn edge) */
	for (int i = 0; i < 10; i++) {
		ex(&m, T0, "a", 0, "b", 0);
		ex(&m, T0, "a", 0, "c", 0);
	}
	assert_int_equal(ks_svcmap__build(&m), 0);
	b = m;
	ks_svcmap__init(&m);
	for (int i = 0; i < 10; i++)
		ex(&m, T0, "a", 0, "b", 0);
	ex(&m, T0, "a", 0, "d", 0);
	end("a", KS_SIDE_CLIENT, "127.0.0.1", 40000, "127.0.0.1", 80, T0, 10, 1, 2);
	end("b", KS_SIDE_SERVER, "127.0.0.1", 40000, "127.0.0.1", 80, T0, 10, 1, 2);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(ks_svcmap_diff(&b, 100, &m, 10, &d), 4);
	assert_int_equal(d[0].what, KS_CHG_APPEARED);	/* TCP first */
	assert_int_equal(d[0].b->kind, KS_EDGE_TCP);
	assert_int_equal(d[1].what, KS_CHG_APPEARED);
	assert_int_equal(d[1].b->kind, KS_EDGE_SPAWN);
	assert_string_equal(d[1].b->server, "d");
	assert_int_equal(d[2].what, KS_CHG_DISAPPEARED);
	assert_string_equal(d[2].a->server, "c");
	assert_int_equal(d[3].what, KS_CHG_CHANGED);
	assert_string_equal(d[3].b->server, "b");
	assert_true(d[3].rate_changed);
	assert_near(d[3].rate_a, 0.1);
	assert_near(d[3].rate_b, 1.0);
	free(d);
	ks_svcmap__free(&b);
}

static void test_spawn_forms(void **state)
{
	struct ks_map_win w = { T0 - 60 * S, T0 + 60 * S };
	struct ks_buf o;

	for (int i = 0; i < 3; i++)
		ex(&m, T0 + i * S, "cron.service", 0, "job \"x\"", 0);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(ks_buf_init(&o, -1, 1024), 0);
	ks_map_render(&o, &m, &w, KS_MAP_JSON);
	assert_int_equal(tu_json_lines(tu_text(&o)), 1);
	assert_non_null(strstr(o.p, "\"execs\":3,\"unplaced\":0,"));
	assert_non_null(strstr(o.p, "\"client\":\"cron.service\",\"server\":\"job \\\"x\\\"\","
			       "\"kind\":\"spawn\",\"execs\":3,\"execs_per_s\":0.025,"
			       "\"port\":0,\"connections\":0"));
	assert_non_null(strstr(o.p, "\"spawns_in\":3,\"spawns_out\":0,"));
	ks_buf_reset(&o);
	ks_map_render(&o, &m, &w, KS_MAP_DOT);
	assert_non_null(strstr(tu_text(&o), "  \"cron.service\" -> \"job \\\"x\\\"\" "
				"[label=\"spawn 3 execs 0.025/s\", style=dotted, "
				"arrowhead=empty];\n"));
	ks_buf_reset(&o);
	ks_map_render(&o, &m, &w, KS_MAP_MERMAID);
	assert_non_null(strstr(tu_text(&o), "  n0 ==>|\"spawn 3 execs 0.025/s\"| n1\n"));
	ks_buf_reset(&o);
	ks_map_render(&o, &m, &w, KS_MAP_TABLE);
	assert_non_null(strstr(tu_text(&o), "(no TCP session closed in this window)\n\nSPAWN "));
	assert_non_null(strstr(o.p, "\ncron.service => job \"x\" "));
	ks_buf_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spawn_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spawn_cgroup_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spawn_diff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spawn_forms, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
