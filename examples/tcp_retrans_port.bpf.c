// SPDX-License-Identifier: GPL-2.0
/*
 * TCP segments retransmitted per remote port and connection state, from the
 * tcp:tcp_retransmit_skb tracepoint: an example for `ksight run --bpf`
 * (examples/README.md).
 *
 *   clang -target bpf -D__TARGET_ARCH_x86 -g -O2 -I build -c examples/tcp_retrans_port.bpf.c \
 *         -o tcp_retrans_port.bpf.o
 *   ksight run --bpf tcp_retrans_port.bpf.o
 *
 * On /metrics:
 *   ksight_tcp_retrans_segs_total{rport="443",state="ESTABLISHED"} 7
 *   ksight_tcp_retrans_failed_segs_total{rport="443",state="ESTABLISHED"} 0
 * segs counts what the kernel counts in TcpRetransSegs (nstat): the segments each
 * retransmission carried (several for a GSO packet); failed_segs those of retransmissions
 * that failed (kernels whose tracepoint has an err field trace those too).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

/* The label's values: an enum's names are what ksight shows for it. */
enum tcp_state_name {
	ESTABLISHED = 1,
	SYN_SENT,
	SYN_RECV,
	FIN_WAIT1,
	FIN_WAIT2,
	TIME_WAIT,
	CLOSED,
	CLOSE_WAIT,
	LAST_ACK,
	LISTENING,
	CLOSING,
	NEW_SYN_RECV,
};

struct retrans_key {
	__u16 rport;			/* host order */
	__u16 pad;
	enum tcp_state_name state;
};

struct retrans_val {
	__u64 segs;
	__u64 failed_segs;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);	/* summed over the CPUs by ksight */
	__uint(max_entries, 4096);
	__type(key, struct retrans_key);
	__type(value, struct retrans_val);
} tcp_retrans SEC(".maps");

/* The event's first fields, at these offsets since 4.15 (its format file). */
struct retrans_tp {
	__u64 common;
	const void *skbaddr;
	const void *skaddr;
	int state;
	__u16 sport;
	__u16 dport;
};

/* err came with 6.10 (failures are traced too): found by CO-RE where the kernel has it. */
struct trace_event_raw_tcp_retransmit_skb___err {
	int err;
} __attribute__((preserve_access_index));

SEC("tracepoint/tcp/tcp_retransmit_skb")
int tcp_retrans_port(struct retrans_tp *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx->skbaddr;
	struct tcp_skb_cb *cb = (struct tcp_skb_cb *)&skb->cb[0];
	struct retrans_val zero = {}, *v;
	struct retrans_key key = {};
	__u64 segs;
	int err = 0;

	if (bpf_core_field_exists(struct trace_event_raw_tcp_retransmit_skb___err, err))
		err = ((struct trace_event_raw_tcp_retransmit_skb___err *)ctx)->err;
	key.rport = ctx->dport;
	key.state = ctx->state;
	segs = BPF_CORE_READ(cb, tcp_gso_segs);	/* tcp_skb_pcount() */
	v = bpf_map_lookup_elem(&tcp_retrans, &key);
	if (!v) {
		bpf_map_update_elem(&tcp_retrans, &key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&tcp_retrans, &key);
		if (!v)
			return 0;
	}
	if (err)
		v->failed_segs += segs;	/* per CPU: no other writer */
	else
		v->segs += segs;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
