// SPDX-License-Identifier: GPL-2.0
/*
 * A user object for tests/e2e/test_userbpf.py: each kind of key and value ksight run --bpf
 * decodes, and maps it must refuse one by one. Counts the execs of processes whose name
 * begins with "ubk" (the test's helpers), with fixed values the test knows.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

enum ubk_kind {
	KIND_ONE = 1,
	KIND_TWO = 2,
};

struct kinds_key {
	char comm[16];
	__u8 daddr[4];			/* an address: 10.1.2.3 */
	enum ubk_kind kind;		/* its name: KIND_TWO */
};

struct comm_only {
	char comm[16];
};

struct kinds_val {
	__u64 calls;			/* counter: ksight_ubk_calls_total */
	__s64 level_gauge;		/* gauge, signed: ksight_ubk_level */
	__u64 wait_ns;			/* ns: ksight_ubk_wait_seconds_total */
	/* by their tags: a histogram (slot 2 each time) and a gauge (42) */
	__u32 spread[8] __attribute__((btf_decl_tag("ksight:log2")));
	__u64 depth __attribute__((btf_decl_tag("ksight:gauge")));
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct kinds_key);
	__type(value, struct kinds_val);
} ubk SEC(".maps");

/* An array of numbers: index 3 only (zero entries are not shown). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} ubk_by_index SEC(".maps");

/* A value that is a log2 histogram of ns (the map's name says so): seconds on the page,
 * keyed by comm; each exec counts once in slot 10 ([1024, 2048) ns). */
typedef __u64 lat_slots[16];

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct comm_only);
	__type(value, lat_slots);
} ubk_lat_ns_log2 SEC(".maps");

/* Not decodable: a ring buffer (one warning, the rest runs). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ubk_events SEC(".maps");

/* A key of four members: more than the three labels a metric has. */
struct wide_key {
	__u32 a, b, c, d;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, struct wide_key);
	__type(value, __u64);
} ubk_wide SEC(".maps");

/* Asks to be pinned: ksight does not pin it (nothing outlives the agent). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ubk_pinned SEC(".maps");

/* Global variables are metrics too (.bss and .data; .rodata's constants are not). */
__u64 ubk_execs_seen;			/* .bss: ksight_ubk_execs_seen_total */
__s32 ubk_last_gauge;			/* .bss: ksight_ubk_last = -1 */
__u64 ubk_data_ns = 1;			/* .data: ksight_ubk_data_seconds_total */
const volatile __u64 ubk_const = 7;	/* .rodata: not exported */

SEC("tracepoint/sched/sched_process_exec")
int ubk_exec(void *ctx)
{
	struct kinds_key key = {};
	struct kinds_val zero = {}, *v;
	__u32 idx = 3, one = 1;
	__u64 first = 1, *n;

	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	if (key.comm[0] != 'u' || key.comm[1] != 'b' || key.comm[2] != 'k')
		return 0;
	key.daddr[0] = 10;
	key.daddr[1] = 1;
	key.daddr[2] = 2;
	key.daddr[3] = 3;
	key.kind = KIND_TWO;
	v = bpf_map_lookup_elem(&ubk, &key);
	if (!v) {
		bpf_map_update_elem(&ubk, &key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&ubk, &key);
		if (!v)
			return 0;
	}
	__sync_fetch_and_add(&v->calls, 1);
	v->level_gauge = -5;
	__sync_fetch_and_add(&v->wait_ns, 1500000);
	__sync_fetch_and_add(&v->spread[2], 1);
	__sync_fetch_and_add(&ubk_execs_seen, 1);
	__sync_fetch_and_add(&ubk_data_ns, ubk_const * 0 + 1000);
	ubk_last_gauge = -1;
	v->depth = 42;
	struct comm_only ck = {};
	lat_slots zslots = {}, *sl;

	__builtin_memcpy(ck.comm, key.comm, sizeof(ck.comm));
	sl = bpf_map_lookup_elem(&ubk_lat_ns_log2, &ck);
	if (!sl) {
		bpf_map_update_elem(&ubk_lat_ns_log2, &ck, &zslots, BPF_NOEXIST);
		sl = bpf_map_lookup_elem(&ubk_lat_ns_log2, &ck);
	}
	if (sl)
		__sync_fetch_and_add(&(*sl)[10], 1);
	n = bpf_map_lookup_elem(&ubk_by_index, &idx);
	if (n)
		__sync_fetch_and_add(n, 1);
	n = bpf_map_lookup_elem(&ubk_pinned, &one);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&ubk_pinned, &one, &first, BPF_NOEXIST);
	return 0;
}

/* Loaded, not attached: an XDP program needs an interface, which its section cannot name. */
SEC("xdp")
int ubk_xdp(struct xdp_md *ctx)
{
	return 2;	/* XDP_PASS */
}

char LICENSE[] SEC("license") = "GPL";
