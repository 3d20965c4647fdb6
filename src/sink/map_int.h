/* SPDX-License-Identifier: GPL-2.0 */
/* What map_out.c (table, JSON, diff) and map_graph.c (DOT, Mermaid) share. */
#ifndef KSIGHT_MAP_INT_H
#define KSIGHT_MAP_INT_H

#include "sink/map.h"

/* A duration: 12us, 1.5ms, 2.25s; "-" for 0. */
void ks_map_dur_text(struct ks_buf *o, uint64_t ns);
/* A size: 517B, 20.5KiB. */
void ks_map_bytes_text(struct ks_buf *o, uint64_t b);

/* The map @m of window @w as a Graphviz digraph, or as a Mermaid flowchart. */
void ks_map_dot(struct ks_buf *o, const struct ks_svcmap *m, const struct ks_map_win *w);
void ks_map_mermaid(struct ks_buf *o, const struct ks_svcmap *m, const struct ks_map_win *w);

#endif
