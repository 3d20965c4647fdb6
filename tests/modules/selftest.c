// SPDX-License-Identifier: GPL-2.0
/*
 * selftest: a test-only module (build/tests/ksight-selftest, never build/ksight) that
 * puts each attach family to work on a workload the e2e tests control, through the same
 * core as every module: hits are streamed one record per event (exact counts), and the
 * nesting test's self-checking records are verified here, counted, and summed up in one
 * "selftest" record at the end with what the programs tried to produce.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/attachments.h"
#include "core/module.h"
#include "selftest.h"
#include "selftest.skel.h"
#include "selftest_check.h"

_Static_assert(sizeof(struct selftest_hit) == 88, "selftest_hit layout");
_Static_assert(sizeof(struct selftest_check) == 104, "selftest_check layout");

enum { PERF_NONE, PERF_CPU_CLOCK, PERF_TASK_CLOCK, PERF_PAGE_FAULTS, PERF_CSW, PERF_CYCLES,
       PERF_INSNS };

static const char *const perf_events[] = { "none", "cpu-clock", "task-clock", "page-faults",
					   "context-switches", "cycles", "instructions", NULL };
static const char *const tc_modes[] = { "auto", "tcx", "legacy", NULL };
static const char *const src_names[ST_NSRC] = {
	"perf", "uprobe", "uretprobe", "usdt", "tc_in", "tc_out", "xdp", "cg_in", "cg_out",
	"cg_sock", "cg_connect", "sockops", "fentry", "kprobe", "kretprobe", "lsm",
};

struct selftest_state {
	bool sys;
	int perf;			/* index in perf_events */
	uint64_t period, freq;
	bool perf_check;
	bool shared_scratch;
	uint64_t words;
	const char *uprobe, *uretprobe, *usdt;
	bool uprobe_legacy;
	const char *tc, *xdp;
	int tc_mode;
	uint64_t port;
	const char *cg_skb, *cg_sock, *cg_connect, *sockops;
	bool fentry, kprobe, lsm;
	bool recurse;
	int pid;			/* -p: the process whose files uprobes resolve in */
	/* what arrived */
	uint64_t seen[SELFTEST_TYPES], hits[ST_NSRC];
	uint64_t bad, nested, max_level, notask;
};

static const struct selftest_state defaults = { .words = 64, .freq = 1000 };

#define OFF(f) offsetof(struct selftest_state, f)

static const struct ks_opt selftest_opts[] = {
	{ "sys", 0, KS_OPT_FLAG, OFF(sys), NULL,
	  "a self-checking record per getppid, through the syscall dispatcher" },
	{ "perf", 0, KS_OPT_CHOICE, OFF(perf), "EVENT",
	  "perf_event program on every CPU: cpu-clock, task-clock, page-faults, "
	  "context-switches, cycles, instructions", 0, 0, perf_events },
	{ "period", 0, KS_OPT_UINT, OFF(period), "N", "--perf: a sample every N events", 1,
	  1ULL << 40 },
	{ "freq", 0, KS_OPT_UINT, OFF(freq), "HZ", "--perf: samples per second per CPU "
	  "(default 1000)", 1, 1000000 },
	{ "check", 0, KS_OPT_FLAG, OFF(perf_check), NULL,
	  "--perf: self-checking records about no task, every sample" },
	{ "shared-scratch", 0, KS_OPT_FLAG, OFF(shared_scratch), NULL,
	  "test of the test: every check record built in one buffer; the checks must fail" },
	{ "words", 0, KS_OPT_UINT, OFF(words), "N", "8-byte words in a self-checking record "
	  "(default 64)", 0, SELFTEST_WORDS_MAX },
	{ "uprobe", 0, KS_OPT_STR, OFF(uprobe), "BIN:FUNC", "uprobe (first two arguments)" },
	{ "uretprobe", 0, KS_OPT_STR, OFF(uretprobe), "BIN:FUNC", "uretprobe (return value)" },
	{ "uprobe-legacy", 0, KS_OPT_FLAG, OFF(uprobe_legacy), NULL,
	  "uprobes through tracefs uprobe_events even where the PMU exists" },
	{ "usdt", 0, KS_OPT_STR, OFF(usdt), "BIN:PROVIDER:NAME", "USDT probe (two arguments)" },
	{ "tc", 0, KS_OPT_STR, OFF(tc), "IFNAME", "TC ingress and egress on IFNAME" },
	{ "tc-mode", 0, KS_OPT_CHOICE, OFF(tc_mode), "MODE", "auto, tcx or legacy", 0, 0,
	  tc_modes },
	{ "xdp", 0, KS_OPT_STR, OFF(xdp), "IFNAME", "XDP on IFNAME" },
	{ "port", 0, KS_OPT_UINT, OFF(port), "PORT",
	  "packets and connects counted: UDP (TCP for sockops) to PORT", 1, 65535 },
	{ "cg-skb", 0, KS_OPT_STR, OFF(cg_skb), "CGROUP", "cgroup_skb ingress and egress" },
	{ "cg-sock", 0, KS_OPT_STR, OFF(cg_sock), "CGROUP", "cgroup/sock_create" },
	{ "cg-connect", 0, KS_OPT_STR, OFF(cg_connect), "CGROUP", "cgroup/connect4" },
	{ "sockops", 0, KS_OPT_STR, OFF(sockops), "CGROUP", "sockops (TCP connects)" },
	{ "fentry", 0, KS_OPT_FLAG, OFF(fentry), NULL, "fentry on openat" },
	{ "kprobe", 0, KS_OPT_FLAG, OFF(kprobe), NULL, "kprobe and kretprobe on getppid" },
	{ "lsm", 0, KS_OPT_FLAG, OFF(lsm), NULL, "BPF LSM on file_open" },
	{ "recurse", 0, KS_OPT_FLAG, OFF(recurse), NULL, "--uprobe: each hit makes one run the "
	  "kernel skips as recursive (bpf_trace_printk and a program on its tracepoint; 5.12+ "
	  "only)" },
	{ 0 },
};

static const int sys_getppid[] = { 110, -1 };	/* x86_64 */

enum { SL_SYS, SL_PERF_SW, SL_PERF_HW, SL_UPROBE, SL_URETPROBE, SL_USDT, SL_TC, SL_XDP,
       SL_CG_SKB, SL_CG_SOCK, SL_CG_CONNECT, SL_SOCKOPS, SL_FENTRY, SL_KPROBE, SL_LSM,
       SL_RECURSE };

static const struct ks_slot selftest_slots[] = {
	[SL_SYS] = { "flood checks", { { KS_FAM_SYSCALL, { { "(dispatcher)" } }, sys_getppid } } },
	[SL_PERF_SW] = { "perf software", { { KS_FAM_PERF, { { "selftest__perf", "software" } } } } },
	[SL_PERF_HW] = { "perf hardware", { { KS_FAM_PERF, { { "selftest__perf", "hardware" } } } } },
	[SL_UPROBE] = { "uprobe", { { KS_FAM_UPROBE, { { "selftest__uprobe", "uprobe" } } } } },
	[SL_URETPROBE] = { "uretprobe",
			   { { KS_FAM_UPROBE, { { "selftest__uretprobe", "uretprobe" } } } } },
	[SL_USDT] = { "usdt", { { KS_FAM_USDT, { { "selftest__usdt", "" } } } } },
	[SL_TC] = { "tc", { { KS_FAM_TC, { { "selftest__tc_in", "" },
					   { "selftest__tc_out", "" } } } } },
	[SL_XDP] = { "xdp", { { KS_FAM_XDP, { { "selftest__xdp", "" } } } } },
	[SL_CG_SKB] = { "cgroup skb", { { KS_FAM_CGROUP, { { "selftest__cg_in", "skb" },
						       { "selftest__cg_out", "skb" } } } } },
	[SL_CG_SOCK] = { "cgroup sock", { { KS_FAM_CGROUP, { { "selftest__cg_sock", "sock" } } } } },
	[SL_CG_CONNECT] = { "cgroup connect4",
			    { { KS_FAM_CGROUP, { { "selftest__cg_connect4", "sock_addr" } } } } },
	[SL_SOCKOPS] = { "sockops", { { KS_FAM_CGROUP, { { "selftest__sockops", "sockops" } } } } },
	[SL_FENTRY] = { "fentry", { { KS_FAM_FENTRY, { { "selftest__fentry",
							  "__x64_sys_openat" } } } } },
	[SL_KPROBE] = { "kprobe", { { KS_FAM_KPROBE, { { "selftest__kprobe", "__x64_sys_getppid" },
						      { "selftest__kretprobe",
							"__x64_sys_getppid" } } } } },
	[SL_LSM] = { "lsm", { { KS_FAM_LSM, { { "selftest__lsm", "file_open" } } } } },
	[SL_RECURSE] = { "recursion", { { KS_FAM_TP_BTF, { { "selftest__printk",
							   "bpf_trace_printk" } } } } },
	{ 0 },
};

static const struct ks_evtype selftest_types[] = {
	{ SELFTEST_EV_HIT, "selftest_hit" },
	{ SELFTEST_EV_SYS, "selftest_sys" },
	{ SELFTEST_EV_PERF, "selftest_perf" },
	{ 0 },
};

static bool perf_hw(const struct selftest_state *st)
{
	return st->perf == PERF_CYCLES || st->perf == PERF_INSNS;
}

static int selftest_configure(void *state, const struct ks_common *common, char *err,
			      size_t len)
{
	struct selftest_state *st = state;

	st->pid = (int)common->pid;
	if (!st->sys && !st->perf && !st->uprobe && !st->uretprobe && !st->usdt && !st->tc &&
	    !st->xdp && !st->cg_skb && !st->cg_sock && !st->cg_connect && !st->sockops &&
	    !st->fentry && !st->kprobe && !st->lsm) {
		snprintf(err, len, "nothing to test: give --sys, --perf, --uprobe, --tc, ...");
		return -1;
	}
	if (st->recurse && !st->uprobe) {
		snprintf(err, len, "--recurse needs --uprobe");
		return -1;
	}
	if ((st->uprobe && !strchr(st->uprobe, ':')) ||
	    (st->uretprobe && !strchr(st->uretprobe, ':'))) {
		snprintf(err, len, "--uprobe, --uretprobe: BIN:FUNC");
		return -1;
	}
	if (st->usdt && (!strchr(st->usdt, ':') || strchr(st->usdt, ':') == strrchr(st->usdt, ':'))) {
		snprintf(err, len, "--usdt: BIN:PROVIDER:NAME");
		return -1;
	}
	if ((st->tc || st->xdp || st->cg_skb || st->cg_connect || st->sockops) && !st->port) {
		snprintf(err, len, "--tc, --xdp, --cg-skb, --cg-connect, --sockops need --port");
		return -1;
	}
	return 0;
}

static bool selftest_want_slot(const void *state, const struct ks_slot *slot)
{
	const struct selftest_state *st = state;

	switch (slot - selftest_slots) {
	case SL_SYS: return st->sys;
	case SL_PERF_SW: return st->perf && !perf_hw(st);
	case SL_PERF_HW: return perf_hw(st);
	case SL_UPROBE: return st->uprobe;
	case SL_URETPROBE: return st->uretprobe;
	case SL_USDT: return st->usdt;
	case SL_TC: return st->tc;
	case SL_XDP: return st->xdp;
	case SL_CG_SKB: return st->cg_skb;
	case SL_CG_SOCK: return st->cg_sock;
	case SL_CG_CONNECT: return st->cg_connect;
	case SL_SOCKOPS: return st->sockops;
	case SL_FENTRY: return st->fentry;
	case SL_KPROBE: return st->kprobe;
	case SL_LSM: return st->lsm;
	case SL_RECURSE: return st->recurse;
	}
	return false;
}

static int selftest_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct selftest_bpf *skel = vskel;
	struct selftest_state *st = state;

	skel->rodata->selftest_perf_check = st->perf_check;
	skel->rodata->selftest_words = st->words;
	skel->rodata->selftest_port = st->port;
	skel->rodata->selftest_shared_scratch = st->shared_scratch;
	skel->rodata->selftest_recurse = st->recurse;
	return 0;
}

static int attach_uprobe(struct ks_ctx *ctx, struct selftest_state *st, struct bpf_program *p,
			 const char *spec, bool ret)
{
	const char *colon = strrchr(spec, ':');
	char bin[4096];
	struct ks_uprobe_spec u = { .binary = bin, .func = colon + 1, .pid = st->pid,
				    .retprobe = ret, .legacy = st->uprobe_legacy };

	snprintf(bin, sizeof(bin), "%.*s", (int)(colon - spec), spec);
	return ks_attach_uprobe(ctx, p, &u);
}

static int attach_usdt(struct ks_ctx *ctx, struct selftest_state *st, struct bpf_program *p)
{
	char bin[4096], provider[128];
	const char *name = strrchr(st->usdt, ':') + 1, *c1 = strchr(st->usdt, ':');

	snprintf(bin, sizeof(bin), "%.*s", (int)(c1 - st->usdt), st->usdt);
	snprintf(provider, sizeof(provider), "%.*s", (int)(name - 1 - c1 - 1), c1 + 1);
	return ks_attach_usdt(ctx, p, bin, provider, name, st->pid);
}

static int selftest_attach(struct ks_ctx *ctx, void *state, void *vskel)
{
	static const uint32_t types[] = { 0, PERF_TYPE_SOFTWARE, PERF_TYPE_SOFTWARE,
					  PERF_TYPE_SOFTWARE, PERF_TYPE_SOFTWARE,
					  PERF_TYPE_HARDWARE, PERF_TYPE_HARDWARE };
	static const uint64_t configs[] = { 0, PERF_COUNT_SW_CPU_CLOCK, PERF_COUNT_SW_TASK_CLOCK,
					    PERF_COUNT_SW_PAGE_FAULTS,
					    PERF_COUNT_SW_CONTEXT_SWITCHES,
					    PERF_COUNT_HW_CPU_CYCLES, PERF_COUNT_HW_INSTRUCTIONS };
	struct selftest_bpf *skel = vskel;
	struct selftest_state *st = state;
	enum ks_tc_mode mode = st->tc_mode;
	int err = 0;

	if (st->perf) {
		struct ks_perf_spec s = { types[st->perf], configs[st->perf], st->period,
					  st->freq, -1 };

		err = ks_attach_perf(ctx, skel->progs.selftest__perf, &s);
	}
	if (!err && st->uprobe)
		err = attach_uprobe(ctx, st, skel->progs.selftest__uprobe, st->uprobe, false);
	if (!err && st->uretprobe)
		err = attach_uprobe(ctx, st, skel->progs.selftest__uretprobe, st->uretprobe, true);
	if (!err && st->usdt)
		err = attach_usdt(ctx, st, skel->progs.selftest__usdt);
	if (!err && st->tc)
		err = ks_attach_tc(ctx, skel->progs.selftest__tc_in, st->tc, KS_TC_INGRESS, mode) ?:
		      ks_attach_tc(ctx, skel->progs.selftest__tc_out, st->tc, KS_TC_EGRESS, mode);
	if (!err && st->xdp)
		err = ks_attach_xdp(ctx, skel->progs.selftest__xdp, st->xdp);
	if (!err && st->cg_skb)
		err = ks_attach_cgroup(ctx, skel->progs.selftest__cg_in, st->cg_skb) ?:
		      ks_attach_cgroup(ctx, skel->progs.selftest__cg_out, st->cg_skb);
	if (!err && st->cg_sock)
		err = ks_attach_cgroup(ctx, skel->progs.selftest__cg_sock, st->cg_sock);
	if (!err && st->cg_connect)
		err = ks_attach_cgroup(ctx, skel->progs.selftest__cg_connect4, st->cg_connect);
	if (!err && st->sockops)
		err = ks_attach_cgroup(ctx, skel->progs.selftest__sockops, st->sockops);
	return err;
}

static void emit_hit(struct ks_ctx *ctx, const struct ks_hdr *h, size_t size)
{
	const struct selftest_hit *e = (const void *)h;
	const char *src;
	struct ks_rec r;

	if (size < sizeof(*e) || e->src >= ST_NSRC)
		return;
	src = src_names[e->src];
	ks_rec_init(&r, "selftest_hit", h);
	ks_rec_str(&r, "src", "SRC", -10, src, strlen(src));
	ks_rec_int(&r, NULL, "PID", 7, h->pid);	/* JSON has the header's */
	ks_rec_uint(&r, "value", "VALUE", 20, e->value);
	ks_rec_uint(&r, "aux", "AUX", 12, e->aux);
	ks_rec_uint(&r, "flags", "FLAGS", 5, h->flags);
	ks_emit(ctx, &r);
}

static void selftest_event(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	struct selftest_state *st = state;
	const char *bad;

	st->seen[KS_EV_MODULE(h->type) == KS_MOD_selftest ? (h->type & 31) % SELFTEST_TYPES : 0]++;
	if (h->type == SELFTEST_EV_HIT) {
		const struct selftest_hit *e = (const void *)h;

		if (size >= sizeof(*e) && e->src < ST_NSRC)
			st->hits[e->src]++;
		emit_hit(ctx, h, size);
		return;
	}
	if (h->level > 0)
		st->nested++;
	if (h->level > st->max_level)
		st->max_level = h->level;
	st->notask += !!(h->flags & KS_HDR_F_NOTASK);
	bad = selftest_check_verify((const void *)h, size);
	if (bad && st->bad++ < 20) {
		struct ks_rec r;

		ks_rec_init(&r, "selftest_bad", h);
		ks_rec_str(&r, "what", "WHAT", -8, bad, strlen(bad));
		ks_rec_uint(&r, "cpu", "CPU", 3, h->cpu);
		ks_rec_uint(&r, "level", "LEVEL", 5, h->level);
		ks_rec_uint(&r, "seq", "SEQ", 10, h->seq);
		ks_emit(ctx, &r);
	}
}

/* What the programs tried to produce, per type, summed over CPUs. */
static void produced(struct selftest_bpf *skel, uint64_t out[SELFTEST_TYPES])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v = calloc(ncpu > 0 ? ncpu : 1, sizeof(*v));

	for (uint32_t k = 0; k < SELFTEST_TYPES; k++) {
		out[k] = 0;
		if (!v || bpf_map__lookup_elem(skel->maps.selftest_produced, &k, sizeof(k), v,
					       ncpu * sizeof(*v), 0))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[k] += v[c];
	}
	free(v);
}

static void selftest_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	static const char *const pk[] = { "hit_produced", "sys_produced", "perf_produced" };
	static const char *const sk[] = { "hit_seen", "sys_seen", "perf_seen" };
	struct selftest_state *st = state;
	uint64_t p[SELFTEST_TYPES];
	struct ks_rec r;

	produced(vskel, p);
	ks_rec_init(&r, "selftest", NULL);
	r.style = KS_REC_LINE;
	for (int k = 0; k < SELFTEST_TYPES; k++) {
		ks_rec_uint(&r, pk[k], pk[k], 0, p[k]);
		ks_rec_uint(&r, sk[k], sk[k], 0, st->seen[k]);
	}
	ks_rec_uint(&r, "bad", "bad", 0, st->bad);
	ks_rec_uint(&r, "nested", "nested", 0, st->nested);
	ks_rec_uint(&r, "max_level", "max_level", 0, st->max_level);
	ks_rec_uint(&r, "notask", "notask", 0, st->notask);
	for (int s = 0; s < ST_NSRC; s++)
		if (st->hits[s])
			ks_rec_uint(&r, src_names[s], src_names[s], 0, st->hits[s]);
	ks_emit(ctx, &r);
}

KS_BPF_OBJECT(selftest);

const struct ks_module selftest_module = {
	.name = "selftest",
	.id = (enum ks_module_id)KS_MOD_selftest,
	.bpf = &selftest_bpf_obj,
	.brief = "test instrument: every attach family on a known workload (not in ksight)",
	.usage = "  ksight-selftest selftest --json --perf page-faults --period 1 -p PID\n"
		 "  ksight-selftest selftest --json --tc veth0 --tc-mode legacy --port 7777\n"
		 "  ksight-selftest selftest --json --sys --perf cpu-clock --freq 20000 --check\n",
	.opts = selftest_opts,
	.state_size = sizeof(struct selftest_state),
	.defaults = &defaults,
	.slots = selftest_slots,
	.types = selftest_types,
	.configure = selftest_configure,
	.want_slot = selftest_want_slot,
	.setup = selftest_setup,
	.attach = selftest_attach,
	.event = selftest_event,
	.report = selftest_report,
};
