/* SPDX-License-Identifier: GPL-2.0 */
/* Reading aggregation maps from user space. */
#ifndef KSIGHT_MAPS_H
#define KSIGHT_MAPS_H

#include <stddef.h>

struct bpf_map;

/*
 * Copy up to @max entries of hash map @map into @keys and @vals (arrays of the map's key
 * and value sizes). Entries deleted while walking are skipped. Returns how many were copied.
 */
size_t ks_map_dump(struct bpf_map *map, void *keys, void *vals, size_t max);

#endif
