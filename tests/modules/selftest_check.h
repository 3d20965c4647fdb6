/* SPDX-License-Identifier: GPL-2.0 */
/* Verifying a selftest_check record (tests/bpf/selftest.h) in user space. */
#ifndef KSIGHT_SELFTEST_CHECK_H
#define KSIGHT_SELFTEST_CHECK_H

#include <stddef.h>

#include "selftest.h"

/*
 * Whether record @r of @size bytes is intact: its size, its payload words and their sum,
 * and the CPU and level its producer wrote first, against the header written last.
 * Returns NULL, or what is wrong.
 */
static inline const char *selftest_check_verify(const struct selftest_check *r, size_t size)
{
	__u64 sum = 0;

	if (size < sizeof(*r) || r->nwords > SELFTEST_WORDS_MAX ||
	    r->hdr.size != sizeof(*r) + 8 * (size_t)r->nwords || size < r->hdr.size)
		return "size";
	if (r->src != r->hdr.type)
		return "type";
	if (r->cpu != r->hdr.cpu)
		return "cpu";
	if (r->level != r->hdr.level)
		return "level";
	for (__u32 i = 0; i < r->nwords; i++) {
		if (r->words[i] != selftest_word(r->nonce, i))
			return "payload";
		sum = selftest_sum_step(sum, r->words[i]);
	}
	return sum == r->sum ? NULL : "sum";
}

#endif
