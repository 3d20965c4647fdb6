// SPDX-License-Identifier: GPL-2.0
/*
 * What offcpu and profile --wall share on the user side (both read the maps of
 * bpf/offcpu_sched.bpf.h): the rows' order and interval difference, and a stack of the
 * stack map read and symbolized.
 */
#include <bpf/bpf.h>
#include <string.h>

#include "modules/offcpu_int.h"

int offcpu_row_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct offcpu_key));
}

uint64_t offcpu_row_count(const void *row)
{
	return ((const struct offcpu_row *)row)->v.count;
}

bool offcpu_row_sub(void *r, const void *p)
{
	struct offcpu_row *d = r;
	const struct offcpu_row *o = p;

	if (o) {
		d->v.count -= o->v.count;
		d->v.total_ns -= o->v.total_ns;
		d->v.rq_ns -= o->v.rq_ns;
	}
	return d->v.count;
}

int offcpu_stack_frames(struct ks_symbolizer *sym, unsigned int round, int fd, uint32_t pid,
			uint32_t exec_id, int32_t id, bool kernel, bool *irq,
			struct ks_frame f[OFFCPU_DEPTH], int *first)
{
	uint64_t ips[OFFCPU_DEPTH] = {};
	int n = 0;

	*first = 0;
	if (id == OFFCPU_NO_STACK)
		return 0;
	if (id < 0 || bpf_map_lookup_elem(fd, &id, ips))
		return -1;	/* lost in the kernel, or gone from the map since */
	while (n < OFFCPU_DEPTH && ips[n])
		n++;
	for (int i = 0; i < n; i++) {
		/* above the leaf, return addresses: the call is the byte before */
		uint64_t ip = i ? ips[i] - 1 : ips[i];

		if (kernel)
			ks_symbolizer__kernel(sym, ip, &f[i]);
		else
			ks_symbolizer__user(sym, pid, exec_id, ip, round, &f[i]);
	}
	return offcpu_frames_keep(f, n, kernel, irq, first);
}
