// SPDX-License-Identifier: GPL-2.0
/* guard's rule index: the same rules, in the same order, as a walk over every rule
 * (guard_rules_match_all), on hand-picked edge cases and on random rule sets and events;
 * and what it files where. */
#include "testutil.h"

#include "modules/guard_index.h"

static bool load(struct guard_rules *rs, const char *text)
{
	char err[256];
	int rc = guard_rules_load(rs, text, strlen(text), "t.yaml", err, sizeof(err));

	if (rc)
		fprintf(stderr, "%s\n", err);
	return rc == 0;
}

/* guard_index_match() equals the walk for @v; returns how many matched. */
static size_t same(struct guard_index *ix, const struct guard_rules *rs,
		   const struct guard_view *v)
{
	uint32_t a[512], b[512];
	size_t na, nb;

	assert_true(rs->n <= 512);
	na = guard_rules_match_all(rs, v, a);
	nb = guard_index_match(ix, v, b, NULL);
	if (na != nb || memcmp(a, b, na * sizeof(*a))) {
		fprintf(stderr, "kind %u path '%s' path2 '%s' comm '%s' exe '%s': walk %zu, "
			"index %zu\n", v->kind, v->path, v->path2, v->comm, v->exe, na, nb);
		for (size_t i = 0; i < na; i++)
			fprintf(stderr, "  walk: %s\n", rs->r[a[i]].name);
		for (size_t i = 0; i < nb; i++)
			fprintf(stderr, "  index: %s\n", rs->r[b[i]].name);
		fail();
	}
	return na;
}

static struct guard_view ev(uint32_t kind, const char *path, const char *comm,
			    const char *exe)
{
	return (struct guard_view){ .kind = kind, .path = path, .path2 = "", .comm = comm,
				    .exe = exe, .parent = "" };
}

/* What each glob is filed under, and the cases where fnmatch's '*' crosses a '/'. */
static void test_edges(void **state)
{
	struct guard_rules rs = { 0 };
	struct guard_index *ix;
	struct guard_view v;
	uint32_t out[16];
	size_t counts[GUARD_IX_N], checked;

	assert_true(load(&rs, "rules:\n"
			 "  - {name: exact, event: write, path: /etc/passwd}\n"
			 "  - {name: leaf, event: write, path: '/home/*/.ssh/authorized_keys'}\n"
			 "  - {name: head, event: [write, rename], path: '/etc/cron.*/*'}\n"
			 "  - {name: wild, event: write, path: '*.log'}\n"
			 "  - {name: brk, event: write, path: '/a[/]b'}\n"
			 "  - {name: exe, event: exec, exe: '*/nc'}\n"
			 "  - {name: comm, comm: [kworker/0:1, cp]}\n"
			 "  - {name: commglob, event: ptrace, comm: 'gdb*'}\n"
			 "  - {name: off, event: write, path: /etc/passwd, enabled: false}\n"
			 "  - {name: slash, event: write, path: /etc/d/}\n"
			 "  - {name: comp, event: write, path: '*/cache7/*.tmp'}\n"
			 "  - {name: brk2, event: write, path: '*/a[]/]b/*'}\n"));
	ix = guard_index_new(&rs);
	assert_non_null(ix);
	guard_index_counts(ix, counts);
	assert_int_equal(counts[GUARD_IX_PATH], 5);	/* exact, leaf, head, slash, comp */
	assert_int_equal(counts[GUARD_IX_EXE], 1);
	assert_int_equal(counts[GUARD_IX_COMM], 1);
	assert_int_equal(counts[GUARD_IX_LINEAR], 4);	/* wild, brk, commglob, brk2 */

	v = ev(GUARD_K_WRITE, "/etc/passwd", "vi", "/usr/bin/vi");
	assert_int_equal(same(ix, &rs, &v), 1);
	guard_index_match(ix, &v, out, &checked);
	assert_string_equal(rs.r[out[0]].name, "exact");
	/* exact, head (/etc), wild, brk, brk2: not the seven others */
	assert_int_equal(checked, 5);
	v.path = "/home/a/b/.ssh/authorized_keys";	/* '*' crosses '/'; brk2 too */
	assert_int_equal(same(ix, &rs, &v), 2);
	v.path = "/etc/cron.d/x/y";
	assert_int_equal(same(ix, &rs, &v), 1);
	v.path = "/a/b";
	assert_int_equal(same(ix, &rs, &v), 1);
	v.path = "/home/u/x/cache7/y.tmp";	/* a component in the middle */
	assert_int_equal(same(ix, &rs, &v), 1);
	v.path = "/home/u/cache7.tmp";
	assert_int_equal(same(ix, &rs, &v), 0);
	v.path = "/x/a/b/y";	/* '[]/]': a set of ']' and '/', no component boundary */
	assert_int_equal(same(ix, &rs, &v), 1);
	v.path = "/etc/d";
	assert_int_equal(same(ix, &rs, &v), 0);
	v.path = "/etc/d/";
	assert_int_equal(same(ix, &rs, &v), 1);
	v.path = "/var/x.log";
	v.comm = "cp";	/* wild, comm: rule order kept */
	assert_int_equal(same(ix, &rs, &v), 2);
	v = ev(GUARD_K_RENAME, "/tmp/x", "mv", "");
	v.path2 = "/etc/cron.daily/x";	/* the new name */
	assert_int_equal(same(ix, &rs, &v), 1);
	v = ev(GUARD_K_EXEC, "/usr/bin/nc", "kworker/0:1", "/usr/bin/nc");
	assert_int_equal(same(ix, &rs, &v), 2);
	v = ev(GUARD_K_PTRACE, "", "gdb-multiarch", "");
	assert_int_equal(same(ix, &rs, &v), 1);
	guard_index_free(ix);
	guard_rules_free(&rs);
}

/* The defaults: every rule the walk finds on a set of events, the index finds. */
static void test_defaults(void **state)
{
	static const char *const paths[] = { "/etc/passwd", "/etc/shadow", "/tmp/x",
					     "/root/.ssh/authorized_keys", "/usr/bin/bash",
					     "/etc/cron.d/a", "/boot/vmlinuz", "memfd:x", "" };
	struct guard_rules rs = { 0 };
	struct guard_index *ix;
	char err[256];
	size_t total = 0;

	assert_int_equal(guard_rules_defaults(&rs, err, sizeof(err)), 0);
	ix = guard_index_new(&rs);
	assert_non_null(ix);
	for (uint32_t k = 0; k < GUARD_K_N; k++) {
		for (size_t p = 0; p < ARRAY_LEN(paths); p++) {
			for (uint32_t f = 0; f < 0x400; f = f * 2 + 1) {
				struct guard_view v = ev(k, paths[p], "bash", paths[p]);

				v.flags = f;
				v.uid = 1000;
				total += same(ix, &rs, &v);
			}
		}
	}
	assert_true(total > 50);	/* the events do hit rules */
	guard_index_free(ix);
	guard_rules_free(&rs);
}

/* random rule sets and events from one small alphabet, so they meet often */
static const char *const parts[] = { "etc", "srv", "a", "b", "app1", "conf.d", "x.yaml",
				     "authorized_keys", "bash", "tmp" };
static const char *const comms[] = { "bash", "cp", "a", "app1", "kworker/0:1", "x.yaml" };
static const char *const kinds[] = { "write", "read", "rename", "exec", "ptrace" };

static unsigned rnd(unsigned *s, unsigned n)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) % n;
}

static void rnd_path(unsigned *s, char *buf, size_t len)
{
	size_t o = 0;
	unsigned depth = rnd(s, 5);

	buf[0] = 0;
	for (unsigned i = 0; i < depth; i++)
		o += snprintf(buf + o, len - o, "/%s", parts[rnd(s, ARRAY_LEN(parts))]);
	if (depth && !rnd(s, 10))
		snprintf(buf + o, len - o, "/");
}

/* a glob: a path with some components made wild */
static void rnd_glob(unsigned *s, char *buf, size_t len)
{
	size_t o = 0;
	unsigned depth = 1 + rnd(s, 4);

	if (!rnd(s, 6))
		o += snprintf(buf + o, len - o, "*");
	for (unsigned i = 0; i < depth; i++) {
		const char *p = parts[rnd(s, ARRAY_LEN(parts))];

		switch (rnd(s, 8)) {
		case 0:
			o += snprintf(buf + o, len - o, "/*");
			break;
		case 1:
			o += snprintf(buf + o, len - o, "/%.2s*", p);
			break;
		case 2:
			o += snprintf(buf + o, len - o, "/?%s", p + 1);
			break;
		case 3:
			o += snprintf(buf + o, len - o, "/[ab]%s", p + 1);
			break;
		default:
			o += snprintf(buf + o, len - o, "/%s", p);
		}
	}
	if (!rnd(s, 10))
		snprintf(buf + o, len - o, "/");
}

static size_t rnd_rules(unsigned *s, char *y, size_t len, unsigned n)
{
	size_t o = snprintf(y, len, "rules:\n");
	char g[128];

	for (unsigned i = 0; i < n; i++) {
		unsigned form = rnd(s, 6), np = 1 + rnd(s, 3);

		o += snprintf(y + o, len - o, "  - {name: r%u", i);
		if (rnd(s, 4)) {
			o += snprintf(y + o, len - o, ", event: [%s", kinds[rnd(s, 5)]);
			if (!rnd(s, 3))
				o += snprintf(y + o, len - o, ", %s", kinds[rnd(s, 5)]);
			o += snprintf(y + o, len - o, "]");
		}
		if (form <= 2 || form == 5) {
			o += snprintf(y + o, len - o, ", %s: [", form == 2 ? "exe" : "path");
			for (unsigned j = 0; j < np; j++) {
				rnd_glob(s, g, sizeof(g));
				o += snprintf(y + o, len - o, "%s'%s'", j ? ", " : "", g);
			}
			o += snprintf(y + o, len - o, "]");
		}
		if (form >= 3) {
			const char *c = comms[rnd(s, ARRAY_LEN(comms))];

			o += snprintf(y + o, len - o, ", comm: ['%s%s']", c, rnd(s, 3) ? "" : "*");
		}
		if (!rnd(s, 5))
			o += snprintf(y + o, len - o, ", not: {comm: %s}",
				      comms[rnd(s, ARRAY_LEN(comms))]);
		if (!rnd(s, 6))
			o += snprintf(y + o, len - o, ", result: %s", rnd(s, 2) ? "ok" : "failed");
		if (!rnd(s, 8))
			o += snprintf(y + o, len - o, ", enabled: false");
		o += snprintf(y + o, len - o, "}\n");
	}
	return o;
}

static void test_random(void **state)
{
	static char yaml[256 * 1024];
	size_t matched = 0, events = 0;

	for (unsigned seed = 1; seed <= 60; seed++) {
		struct guard_rules rs = { 0 };
		struct guard_index *ix;
		unsigned s = seed;

		assert_true(rnd_rules(&s, yaml, sizeof(yaml), 1 + rnd(&s, 300)) < sizeof(yaml));
		assert_true(load(&rs, yaml));
		ix = guard_index_new(&rs);
		assert_non_null(ix);
		for (int e = 0; e < 3000; e++) {
			char path[128], path2[128], exe[128];
			struct guard_view v = { .parent = "" };

			rnd_path(&s, path, sizeof(path));
			rnd_path(&s, path2, sizeof(path2));
			rnd_path(&s, exe, sizeof(exe));
			v.kind = rnd(&s, 2) ? rnd(&s, 8) : rnd(&s, GUARD_K_N);
			v.path = path;
			v.path2 = rnd(&s, 4) ? "" : path2;
			v.exe = rnd(&s, 3) ? exe : "";
			v.comm = comms[rnd(&s, ARRAY_LEN(comms))];
			v.ret = rnd(&s, 4) ? 0 : -13;
			matched += same(ix, &rs, &v);
			events++;
		}
		guard_index_free(ix);
		guard_rules_free(&rs);
	}
	/* the random events do meet the random rules, often */
	assert_true(matched > events / 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
