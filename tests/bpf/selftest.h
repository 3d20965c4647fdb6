/* SPDX-License-Identifier: GPL-2.0 */
/*
 * selftest (a test-only module, tests/modules/modules.h): one program per attach family,
 * each counting what it sees of a known workload, and records that check themselves for
 * the nesting test (a perf sampling program interrupting the syscall dispatcher's).
 */
#ifndef KSIGHT_SELFTEST_H
#define KSIGHT_SELFTEST_H

#include "common.h"
#include "test_modules.h"

#define SELFTEST_EV_HIT KS_EV(KS_MOD_selftest, 0)	/* struct selftest_hit */
#define SELFTEST_EV_SYS KS_EV(KS_MOD_selftest, 1)	/* struct selftest_check, dispatcher */
#define SELFTEST_EV_PERF KS_EV(KS_MOD_selftest, 2)	/* struct selftest_check, perf sample */
#define SELFTEST_TYPES 3

/* Which program saw it (selftest_hit.src). */
enum selftest_src {
	ST_PERF,
	ST_UPROBE,
	ST_URETPROBE,
	ST_USDT,
	ST_TC_IN,
	ST_TC_OUT,
	ST_XDP,
	ST_CG_IN,
	ST_CG_OUT,
	ST_CG_SOCK,
	ST_CG_CONNECT,
	ST_SOCKOPS,
	ST_FENTRY,
	ST_KPROBE,
	ST_KRETPROBE,
	ST_LSM,
	ST_NSRC,
};

/* SELFTEST_EV_HIT: one event of a counting family. */
struct selftest_hit {
	struct ks_hdr hdr;
	__u32 src;		/* enum selftest_src */
	__u32 __pad;
	__u64 value;		/* perf: sample address; uprobe, usdt: first argument;
				 * uretprobe, kretprobe: return value; tc, xdp, cgroup skb:
				 * packet length; sock: protocol; connect4, sockops: port */
	__u64 aux;		/* usdt: second argument; tc, xdp, cgroup skb: source port;
				 * sockops: the op */
};

#define SELFTEST_WORDS_MAX 128

/*
 * SELFTEST_EV_SYS, SELFTEST_EV_PERF: a record built in its producer's scratch buffer that
 * proves it was not touched by another producer: words[] follow from nonce, sum from
 * words, and cpu and level, written at the start, must equal the header's, written at
 * the end. Size: sizeof(struct selftest_check) + 8 * nwords.
 */
struct selftest_check {
	struct ks_hdr hdr;
	__u64 nonce;		/* random */
	__u32 cpu;		/* the producer's CPU when it began */
	__u32 level;		/* the level it held */
	__u32 nwords;
	__u32 src;		/* SELFTEST_EV_* of the producer */
	__u64 addr;		/* perf: sample address */
	__u64 sum;		/* selftest_sum over words */
	__u64 words[];
};

static inline __u64 selftest_word(__u64 nonce, __u32 i)
{
	__u64 x = nonce + (__u64)(i + 1) * 0x9E3779B97F4A7C15ULL;

	x ^= x >> 31;
	x *= 0xBF58476D1CE4E5B9ULL;
	return x ^ (x >> 29);
}

static inline __u64 selftest_sum_step(__u64 sum, __u64 w)
{
	return (sum << 7 | sum >> 57) ^ w;
}

#endif
