// SPDX-License-Identifier: GPL-2.0
/*
 * guard's rule matching alone, for bench/guard_rules_cost.sh: the default rules plus N
 * generated ones (loaded through the rule-file parser, as `ksight guard -r`), then a fixed
 * stream of synthetic events (the same for every N: mostly build-like traffic and near
 * misses, a few hits) matched either by walking every rule (what guard did before its
 * index) or through the index (guard_index.c). All the matching happens in run_stream(),
 * so `valgrind --tool=callgrind --toggle-collect=run_stream` counts its instructions only.
 *
 *   guardrules N linear|index [EVENTS]    # prints one line of key=value
 *   guardrules N yaml                     # the generated rule file on stdout
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/guard_index.h"
#include "modules/guard_rules.h"

#define CHANGE "[write, rename, unlink, chmod, chown, truncate]"

/* Rule i of a realistic mix: half critical files of one application each, then directory
 * and per-user globs, read rules with exceptions, exec and comm rules, and one in fifty a
 * glob that starts with a wildcard (those the index cannot file). */
static size_t rule(char *y, size_t len, unsigned i)
{
	unsigned t = i % 50 == 49 ? 100 : i % 20;

	if (t < 10)
		return snprintf(y, len, "  - {name: app%u-config, event: " CHANGE ", path: "
				"[/srv/app%u/config.yaml, /srv/app%u/secrets.env], severity: high}\n",
				i, i, i);
	if (t < 12)
		return snprintf(y, len, "  - {name: svc%u-confd, event: " CHANGE ", path: "
				"'/opt/svc%u/conf.d/*', not: {comm: [dpkg, apt]}}\n", i, i);
	if (t < 14)
		return snprintf(y, len, "  - {name: app%u-history, event: [write, unlink, "
				"truncate], path: '/home/*/.app%u_history'}\n", i, i);
	if (t < 16)
		return snprintf(y, len, "  - {name: app%u-key-read, event: read, path: "
				"/var/lib/app%u/key.pem, not: {comm: [app%ud]}}\n", i, i, i);
	if (t == 16)
		return snprintf(y, len, "  - {name: tool%u-exec, event: exec, path: "
				"/usr/local/bin/tool%u, uid: [0]}\n", i, i);
	if (t == 17)
		return snprintf(y, len, "  - {name: tool%u-debug, event: [ptrace, bpf, "
				"perf_event_open], comm: tool%u}\n", i, i);
	if (t == 18)
		return snprintf(y, len, "  - {name: tool%u-anywhere, event: exec, exe: "
				"'*/tool%u', not: {uid: [0]}}\n", i, i);
	if (t == 19)
		return snprintf(y, len, "  - {name: app%u-log-chmod, event: [chmod, chown], path: "
				"'/var/log/app%u/*.log'}\n", i, i);
	return snprintf(y, len, "  - {name: cache%u-tmp, event: write, path: '*/cache%u/*.tmp'}\n",
			i, i);
}

static char *rules_yaml(unsigned n)
{
	size_t cap = 64 + (size_t)n * 256, o;
	char *y = malloc(cap);

	if (!y)
		exit(1);
	o = snprintf(y, cap, "rules:\n");
	for (unsigned i = 0; i < n; i++)
		o += rule(y + o, cap - o, i);
	return y;
}

struct ev {
	struct guard_view v;
	char path[96], path2[96], comm[16], exe[64];
};

static unsigned seed = 12345;

static unsigned rnd(unsigned n)
{
	seed = seed * 1103515245u + 12345u;
	return (seed >> 16) % n;
}

/* The event stream: the same for every N. */
static void event(struct ev *e, unsigned j)
{
	unsigned r = rnd(1000), k = rnd(10);
	uint32_t kind = GUARD_K_WRITE;
	const char *comm = "cc1", *exe = "/usr/lib/gcc/x86_64-linux-gnu/12/cc1";

	e->path2[0] = 0;
	if (r < 400) {			/* a build writing its objects */
		snprintf(e->path, sizeof(e->path), "/home/dev/proj/src/mod%u/file%u.o",
			 rnd(300), rnd(97));
	} else if (r < 600) {		/* reads of libraries and headers */
		kind = GUARD_K_READ;
		snprintf(e->path, sizeof(e->path), "/usr/include/x86_64-linux-gnu/sys/h%u.h",
			 rnd(200));
	} else if (r < 750) {		/* execs of the toolchain */
		kind = GUARD_K_EXEC;
		comm = rnd(2) ? "cc1" : "as";
		exe = comm[0] == 'c' ? "/usr/lib/gcc/x86_64-linux-gnu/12/cc1" : "/usr/bin/as";
		snprintf(e->path, sizeof(e->path), "%s", exe);
	} else if (r < 850) {		/* temporaries renamed and removed */
		kind = rnd(2) ? GUARD_K_RENAME : GUARD_K_UNLINK;
		comm = "make";
		exe = "/usr/bin/make";
		snprintf(e->path, sizeof(e->path), "/home/dev/proj/build/t%u.tmp", j);
		if (kind == GUARD_K_RENAME)
			snprintf(e->path2, sizeof(e->path2), "/home/dev/proj/build/t%u.d", j);
	} else if (r < 900) {		/* process events: no path */
		static const uint32_t ks[] = { GUARD_K_PTRACE, GUARD_K_BPF, GUARD_K_PERF,
					       GUARD_K_SETID, GUARD_K_MOUNT };
		kind = ks[rnd(5)];
		comm = "gdb";
		exe = "/usr/bin/gdb";
		e->path[0] = 0;
	} else if (r < 990) {		/* near misses of the rules' own files */
		static const char *const fmt[] = { "/srv/app%u/config.yaml.bak",
						   "/opt/svc%u/conf.d", "/var/lib/app%u/other",
						   "/home/dev/.app%u_history.old",
						   "/var/log/app%u/x.log.1" };
		comm = "vi";
		exe = "/usr/bin/vim.basic";
		snprintf(e->path, sizeof(e->path), fmt[rnd(5)], rnd(1000));
	} else {			/* hits: the first ten applications' configs */
		comm = "vi";
		exe = "/usr/bin/vim.basic";
		snprintf(e->path, sizeof(e->path), "/srv/app%u/config.yaml", k);
	}
	snprintf(e->comm, sizeof(e->comm), "%s", comm);
	snprintf(e->exe, sizeof(e->exe), "%s", exe);
	e->v = (struct guard_view){ .kind = kind, .uid = 1000, .path = e->path,
				    .path2 = e->path2, .comm = e->comm, .exe = e->exe,
				    .parent = "make", .peer = "", .how = "" };
}

struct result {
	size_t matches, checked;
	uint64_t sum;
};

/* Everything measured is in here. */
__attribute__((noinline)) static void run_stream(const struct guard_rules *rs,
						 struct guard_index *ix, const struct ev *evs,
						 size_t n, uint32_t *hits, struct result *res)
{
	for (size_t i = 0; i < n; i++) {
		size_t m, c = rs->n;

		m = ix ? guard_index_match(ix, &evs[i].v, hits, &c) :
			 guard_rules_match_all(rs, &evs[i].v, hits);
		res->checked += c;
		for (size_t j = 0; j < m; j++)
			res->sum = res->sum * 31 + hits[j] + 1;
		res->matches += m;
	}
}

int main(int argc, char **argv)
{
	struct guard_rules rs = { 0 };
	struct guard_index *ix = NULL;
	struct result res = { 0 };
	size_t nev, counts[GUARD_IX_N] = { 0 };
	unsigned n;
	char err[512], *y;
	struct ev *evs;
	uint32_t *hits;
	bool index;

	if (argc < 3 || (strcmp(argv[2], "linear") && strcmp(argv[2], "index") &&
			 strcmp(argv[2], "yaml"))) {
		fprintf(stderr, "usage: guardrules N linear|index|yaml [EVENTS]\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 10);
	nev = argc > 3 ? strtoul(argv[3], NULL, 10) : 20000;
	y = rules_yaml(n);
	if (!strcmp(argv[2], "yaml")) {
		fputs(y, stdout);
		return 0;
	}
	index = !strcmp(argv[2], "index");
	if (guard_rules_defaults(&rs, err, sizeof(err)) ||
	    guard_rules_load(&rs, y, strlen(y), "generated.yaml", err, sizeof(err))) {
		fprintf(stderr, "guardrules: %s\n", err);
		return 1;
	}
	evs = calloc(nev, sizeof(*evs));
	hits = calloc(rs.n + 1, sizeof(*hits));
	if (!evs || !hits)
		return 1;
	for (size_t i = 0; i < nev; i++)
		event(&evs[i], i);
	if (index) {
		ix = guard_index_new(&rs);
		if (!ix)
			return 1;
		guard_index_counts(ix, counts);
	}
	run_stream(&rs, ix, evs, nev, hits, &res);
	printf("rules=%zu user_rules=%u mode=%s events=%zu matches=%zu checksum=%016llx "
	       "checked_per_event=%.2f filed_path=%zu filed_exe=%zu filed_comm=%zu linear=%zu\n",
	       rs.n, n, argv[2], nev, res.matches, (unsigned long long)res.sum,
	       (double)res.checked / nev, counts[GUARD_IX_PATH], counts[GUARD_IX_EXE],
	       counts[GUARD_IX_COMM], counts[GUARD_IX_LINEAR]);
	guard_index_free(ix);
	guard_rules_free(&rs);
	free(evs);
	free(hits);
	free(y);
	return 0;
}
