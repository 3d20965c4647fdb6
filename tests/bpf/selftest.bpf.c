// SPDX-License-Identifier: GPL-2.0
/*
 * selftest's programs: one per attach family, each streaming a record per event of the
 * test's workload (filtered by the task filters, or for packets by UDP port), counting
 * every record it tries to produce per type (selftest_produced), so that the test can
 * check produced = delivered + lost exactly. The dispatcher's handler and the perf
 * program can instead stream self-checking records (struct selftest_check) for the
 * nesting test.
 */
#include "common.bpf.h"
#include "syscalls.bpf.h"
#include <bpf/bpf_endian.h>
#include <bpf/usdt.bpf.h>
#include "selftest.h"

#define ETH_P_IP 0x0800
#define IPPROTO_UDP 17

const volatile bool selftest_perf_check = false;	/* perf: selftest_check records */
const volatile __u32 selftest_words = 64;		/* payload of a selftest_check */
const volatile __u16 selftest_port = 0;			/* packets: UDP destination port */
/* The test of the test: build every check record in level 0's scratch buffer, as if levels
 * did not exist; nested producers then overwrite each other and the checks must fail. */
const volatile bool selftest_shared_scratch = false;
/* --recurse: each uprobe hit prints once (bpf_trace_printk), for selftest__printk */
const volatile bool selftest_recurse = false;

/* Records each program tried to produce, per type (the low bits of SELFTEST_EV_*). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KS_EV_PER_MODULE);
	__type(key, __u32);
	__type(value, __u64);
} selftest_produced SEC(".maps");

static __always_inline void produced(__u32 type)
{
	__u32 k = type & (KS_EV_PER_MODULE - 1);
	__u64 *n = bpf_map_lookup_elem(&selftest_produced, &k);

	/* atomic although per CPU: a nested producer may interrupt the increment */
	if (n)
		__sync_fetch_and_add(n, 1);
}

/*
 * A hit about the current task (@task) or about none: packets in softirq, and every
 * network and cgroup program, which before 6.x kernels may not even ask for the current
 * task (bpf_get_current_pid_tgid is unknown to TC, XDP and cgroup_skb programs on 6.1).
 */
static __always_inline void hit(__u32 src, __u64 value, __u64 aux, bool task)
{
	struct selftest_hit *h;

	produced(SELFTEST_EV_HIT);
	h = task ? ks_reserve(SELFTEST_EV_HIT, sizeof(*h), bpf_get_current_pid_tgid()) :
		   ks_reserve_as(SELFTEST_EV_HIT, sizeof(*h), NULL);
	if (!h)
		return;
	h->src = src;
	h->__pad = 0;
	h->value = value;
	h->aux = aux;
	ks_submit(h);
}

static __always_inline void check(__u32 type, __u64 addr, bool task, __u64 pid_tgid)
{
	__u32 n = selftest_words, i;
	struct selftest_check *r;
	struct ks_level lv;
	__u64 nonce, sum = 0;

	produced(type);
	r = ks_scratch_begin(&lv, type);
	if (!r)
		return;
	if (selftest_shared_scratch) {
		__u32 zero = 0;
		struct selftest_check *shared = bpf_map_lookup_elem(&ks_scratch, &zero);

		if (!shared) {
			ks_scratch_end(&lv);
			return;
		}
		r = shared;
	}
	if (n > SELFTEST_WORDS_MAX)
		n = SELFTEST_WORDS_MAX;
	nonce = (__u64)bpf_get_prandom_u32() << 32 | bpf_get_prandom_u32();
	r->hdr.type = type;
	r->nonce = nonce;
	r->cpu = bpf_get_smp_processor_id();
	r->level = lv.l;
	r->nwords = n;
	r->src = type;
	r->addr = addr;
	for (i = 0; i < SELFTEST_WORDS_MAX; i++) {
		__u64 w;

		if (i >= n)
			break;
		w = selftest_word(nonce, i);
		r->words[i] = w;
		sum = selftest_sum_step(sum, w);
	}
	r->sum = sum;
	if (task)
		ks_output(&lv, &r->hdr, sizeof(*r) + n * 8, pid_tgid);
	else
		ks_output_as(&lv, &r->hdr, sizeof(*r) + n * 8, NULL);
}

/* --- the syscall dispatcher: getppid ------------------------------------------------- */

static __always_inline void selftest_sys_exit(void *ctx, const struct ks_sys_call *c, long ret,
					      __u64 pid_tgid)
{
	if (c->id == __NR_getppid)
		check(SELFTEST_EV_SYS, 0, true, pid_tgid);
}

KS_SYS_MODULE(selftest)

/* --- perf_event ---------------------------------------------------------------------- */

SEC("perf_event")
int selftest__perf(struct bpf_perf_event_data *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	/* sampling interrupts whatever runs: a record about no task, every sample */
	if (selftest_perf_check) {
		check(SELFTEST_EV_PERF, ctx->addr, false, 0);
		return 0;
	}
	if (ks_want(pid_tgid))
		hit(ST_PERF, ctx->addr, ctx->sample_period, true);
	return 0;
}

/* --- uprobes, USDT ------------------------------------------------------------------- */

SEC("uprobe")
int BPF_KPROBE(selftest__uprobe, long a, long b)
{
	static const char fmt[] = "ksight selftest: recursion\n";

	if (!ks_want(bpf_get_current_pid_tgid()))
		return 0;
	hit(ST_UPROBE, a, b, true);
	if (selftest_recurse)
		bpf_trace_printk(fmt, sizeof(fmt));
	return 0;
}

/*
 * --recurse: on the tracepoint every bpf_trace_printk fires, print again. The nested run
 * that print starts is the same program on the same CPU: the kernel skips it and counts a
 * recursion miss, one per uprobe hit, which ksight must report as runs it lost. Only for
 * kernels that skip such runs (5.12 on, and this test runs on the host only): before,
 * nothing stops the recursion.
 */
SEC("tp_btf/bpf_trace_printk")
int BPF_PROG(selftest__printk, const char *buf)
{
	static const char fmt[] = "ksight selftest: nested\n";

	bpf_trace_printk(fmt, sizeof(fmt));
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(selftest__uretprobe, long ret)
{
	if (ks_want(bpf_get_current_pid_tgid()))
		hit(ST_URETPROBE, ret, 0, true);
	return 0;
}

SEC("usdt")
int BPF_USDT(selftest__usdt, long a, long b)
{
	if (ks_want(bpf_get_current_pid_tgid()))
		hit(ST_USDT, a, b, true);
	return 0;
}

/* --- packets: UDP to selftest_port ---------------------------------------------------- */

/* The UDP source port of an IPv4 packet at @ip to selftest_port, or -1. */
static __always_inline int udp_match(void *ip, void *end)
{
	struct iphdr *iph = ip;
	struct udphdr *udp;

	if ((void *)(iph + 1) > end || iph->version != 4 || iph->protocol != IPPROTO_UDP)
		return -1;
	udp = ip + iph->ihl * 4;
	if ((void *)(udp + 1) > end || bpf_ntohs(udp->dest) != selftest_port)
		return -1;
	return bpf_ntohs(udp->source);
}

static __always_inline int eth_udp_match(void *data, void *end)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	return udp_match(eth + 1, end);
}

static __always_inline int tc_seen(struct __sk_buff *skb, __u32 src)
{
	int sport = eth_udp_match((void *)(long)skb->data, (void *)(long)skb->data_end);

	if (sport >= 0)
		hit(src, skb->len, sport, false);
	/* TC_ACT_UNSPEC, tcx's TCX_NEXT: the filters and programs after this one still run */
	return -1;
}

SEC("tc")
int selftest__tc_in(struct __sk_buff *skb)
{
	return tc_seen(skb, ST_TC_IN);
}

SEC("tc")
int selftest__tc_out(struct __sk_buff *skb)
{
	return tc_seen(skb, ST_TC_OUT);
}

SEC("xdp")
int selftest__xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	int sport = eth_udp_match(data, end);

	if (sport >= 0)
		hit(ST_XDP, end - data, sport, false);
	return XDP_PASS;
}

/* --- cgroup programs ------------------------------------------------------------------ */

/* cgroup skb programs see the packet from its network header on. */
static __always_inline int cg_skb_seen(struct __sk_buff *skb, __u32 src)
{
	struct {
		struct iphdr ip;
		struct udphdr udp;
	} h;
	int sport;

	if (skb->protocol != bpf_htons(ETH_P_IP) || bpf_skb_load_bytes(skb, 0, &h, sizeof(h)))
		return 1;
	/* without IP options (ihl 5) the UDP header follows at once */
	if (h.ip.version != 4 || h.ip.ihl != 5 || h.ip.protocol != IPPROTO_UDP ||
	    bpf_ntohs(h.udp.dest) != selftest_port)
		return 1;
	sport = bpf_ntohs(h.udp.source);
	hit(src, skb->len, sport, false);
	return 1;
}

SEC("cgroup_skb/ingress")
int selftest__cg_in(struct __sk_buff *skb)
{
	return cg_skb_seen(skb, ST_CG_IN);
}

SEC("cgroup_skb/egress")
int selftest__cg_out(struct __sk_buff *skb)
{
	return cg_skb_seen(skb, ST_CG_OUT);
}

/* The cgroup programs see only the test cgroup's tasks: no task filter, no task fields. */
SEC("cgroup/sock_create")
int selftest__cg_sock(struct bpf_sock *sk)
{
	hit(ST_CG_SOCK, sk->protocol, sk->type, false);
	return 1;
}

SEC("cgroup/connect4")
int selftest__cg_connect4(struct bpf_sock_addr *ctx)
{
	__u16 port = bpf_ntohs((__u16)ctx->user_port);

	if (port == selftest_port)
		hit(ST_CG_CONNECT, port, ctx->protocol, false);
	return 1;
}

SEC("sockops")
int selftest__sockops(struct bpf_sock_ops *skops)
{
	/* the remote port is in network order, in the upper half of the field */
	__u16 port = bpf_ntohs((__u16)(skops->remote_port >> 16));

	if (skops->op == BPF_SOCK_OPS_TCP_CONNECT_CB && port == selftest_port)
		hit(ST_SOCKOPS, port, skops->op, false);
	return 1;
}

/* --- the families only some kernels allow (fentry, kprobe, LSM): syscalls, file opens - */

/* openat: getppid, a SYSCALL_DEFINE0, has no BTF function on every kernel (6.12) */
SEC("fentry/__x64_sys_openat")
int BPF_PROG(selftest__fentry)
{
	if (ks_want(bpf_get_current_pid_tgid()))
		hit(ST_FENTRY, 0, 0, true);
	return 0;
}

SEC("kprobe/__x64_sys_getppid")
int BPF_KPROBE(selftest__kprobe)
{
	if (ks_want(bpf_get_current_pid_tgid()))
		hit(ST_KPROBE, 0, 0, true);
	return 0;
}

SEC("kretprobe/__x64_sys_getppid")
int BPF_KRETPROBE(selftest__kretprobe, long ret)
{
	if (ks_want(bpf_get_current_pid_tgid()))
		hit(ST_KRETPROBE, ret, 0, true);
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(selftest__lsm, struct file *file)
{
	if (ks_want(bpf_get_current_pid_tgid()))
		hit(ST_LSM, 0, 0, true);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
