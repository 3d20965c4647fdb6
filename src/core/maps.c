// SPDX-License-Identifier: GPL-2.0
#include "core/maps.h"

#include <bpf/libbpf.h>
#include <stdlib.h>
#include <string.h>

size_t ks_map_dump(struct bpf_map *map, void *keys, void *vals, size_t max)
{
	size_t ks = bpf_map__key_size(map), vs = bpf_map__value_size(map), n = 0;
	char *cur = malloc(ks), *next = malloc(ks);
	bool first = true;

	if (!cur || !next)
		goto out;
	while (n < max && !bpf_map__get_next_key(map, first ? NULL : cur, next, ks)) {
		first = false;
		memcpy(cur, next, ks);
		if (bpf_map__lookup_elem(map, cur, ks, (char *)vals + n * vs, vs, 0))
			continue;	/* deleted meanwhile */
		memcpy((char *)keys + n * ks, cur, ks);
		n++;
	}
out:
	free(cur);
	free(next);
	return n;
}
