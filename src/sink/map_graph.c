// SPDX-License-Identifier: GPL-2.0
/* The service map as graphs (sink/map.h): Graphviz DOT and Mermaid. */
#include <string.h>

#include "sink/map_int.h"

/* Text inside a DOT quoted ID: its quotes and backslashes escaped, other bytes as they are. */
static void dot_chars(struct ks_buf *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			ks_buf_ch(o, '\\');
		ks_buf_ch(o, (unsigned char)*s < 0x20 ? '?' : *s);
	}
}

/* A DOT ID: quoted. */
static void dot_id(struct ks_buf *o, const char *s)
{
	ks_buf_ch(o, '"');
	dot_chars(o, s);
	ks_buf_ch(o, '"');
}

/* A DOT ID of two lines, @a then @b (DOT's "\n" escape between them). */
static void dot_id2(struct ks_buf *o, const char *a, const char *b)
{
	ks_buf_ch(o, '"');
	dot_chars(o, a);
	ks_buf_str(o, "\\n");
	dot_chars(o, b);
	ks_buf_ch(o, '"');
}

static void edge_label(struct ks_buf *o, const struct ks_svcmap_edge *e, double secs)
{
	if (e->kind == KS_EDGE_SPAWN) {
		ks_buf_printf(o, "spawn %llu execs %.3g/s%s", (unsigned long long)e->execs,
			      secs > 0 ? e->execs / secs : 0.0, e->incomplete ? " incomplete" : "");
		return;
	}
	if (e->kind == KS_EDGE_UDP) {
		ks_buf_printf(o, "udp :%u %llu/%llu dgrams %.3g/s ", e->port,
			      (unsigned long long)e->dgrams_c2s, (unsigned long long)e->dgrams_s2c,
			      secs > 0 ? (e->dgrams_c2s + e->dgrams_s2c) / secs : 0.0);
		ks_map_bytes_text(o, e->bytes_c2s);
		ks_buf_str(o, "/");
		ks_map_bytes_text(o, e->bytes_s2c);
		if (e->incomplete)
			ks_buf_str(o, " incomplete");
		return;
	}
	ks_buf_printf(o, ":%u %llu conns %.3g/s ", e->port, (unsigned long long)e->conns,
		      secs > 0 ? e->conns / secs : 0.0);
	ks_map_bytes_text(o, e->bytes_c2s);
	ks_buf_str(o, "/");
	ks_map_bytes_text(o, e->bytes_s2c);
	if (e->nconn) {
		ks_buf_str(o, " connect p99 ");
		ks_map_dur_text(o, e->conn_p99 ? e->conn_p99 : 1);
	}
	if (e->incomplete)
		ks_buf_str(o, " incomplete");
}

void ks_map_dot(struct ks_buf *o, const struct ks_svcmap *m, const struct ks_map_win *w)
{
	struct ks_buf l;

	ks_buf_str(o, "digraph ksight {\n  rankdir=LR;\n  node [shape=box];\n");
	for (size_t i = 0; i < m->nnodes; i++) {
		const struct ks_svcmap_node *n = &m->nodes[i];

		ks_buf_str(o, "  ");
		dot_id(o, n->name);
		if (n->kind == KS_NODE_REMOTE && n->dns) {
			/* its DNS name on a second line of the label; the ID stays ADDR:PORT */
			ks_buf_str(o, " [shape=ellipse, style=dashed, label=");
			dot_id2(o, n->name, n->dns);
			ks_buf_str(o, "];\n");
			continue;
		}
		ks_buf_str(o, n->kind == KS_NODE_REMOTE ? " [shape=ellipse, style=dashed];\n" :
			   ";\n");
	}
	if (ks_buf_init(&l, -1, 256))
		return;
	for (size_t i = 0; i < m->nedges; i++) {
		const struct ks_svcmap_edge *e = &m->edges[i];

		ks_buf_reset(&l);
		edge_label(&l, e, ks_map_secs(w));
		ks_buf_ch(&l, 0);
		ks_buf_str(o, "  ");
		dot_id(o, e->client);
		ks_buf_str(o, " -> ");
		dot_id(o, e->server);
		ks_buf_str(o, " [label=");
		dot_id(o, l.p);
		/* spawn: dotted, hollow arrow; UDP: an open arrow, blue (and dashed when seen at
		 * one end only); TCP seen at one end only: dashed */
		if (e->kind == KS_EDGE_UDP)
			ks_buf_str(o, e->seen == (KS_SEEN_CLIENT | KS_SEEN_SERVER) ?
				   ", color=blue, arrowhead=vee];\n" :
				   ", color=blue, arrowhead=vee, style=dashed];\n");
		else
			ks_buf_str(o, e->kind == KS_EDGE_SPAWN ?
				   ", style=dotted, arrowhead=empty];\n" :
				   e->seen == (KS_SEEN_CLIENT | KS_SEEN_SERVER) ? "];\n" :
				   ", style=dashed];\n");
	}
	ks_buf_free(&l);
	ks_buf_str(o, "}\n");
}

/* Mermaid text in quotes: its quote and the characters it reads as markup as entities. */
static void mer_text(struct ks_buf *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '"')
			ks_buf_str(o, "#quot;");
		else if (*s == '#')
			ks_buf_str(o, "#35;");
		else if (*s == '<')
			ks_buf_str(o, "#lt;");
		else if (*s == '>')
			ks_buf_str(o, "#gt;");
		else if (*s == '|')
			ks_buf_str(o, "#124;");
		else
			ks_buf_ch(o, (unsigned char)*s < 0x20 ? '?' : *s);
	}
}

static size_t node_index(const struct ks_svcmap *m, const char *name)
{
	return ks_svcmap__node(m, name) - m->nodes;
}

void ks_map_mermaid(struct ks_buf *o, const struct ks_svcmap *m, const struct ks_map_win *w)
{
	struct ks_buf l;

	ks_buf_str(o, "graph LR\n");
	for (size_t i = 0; i < m->nnodes; i++) {
		bool remote = m->nodes[i].kind == KS_NODE_REMOTE;

		ks_buf_printf(o, "  n%zu%s\"", i, remote ? "([" : "[");
		mer_text(o, m->nodes[i].name);
		if (remote && m->nodes[i].dns) {
			/* its DNS name on a second line */
			ks_buf_str(o, "<br/>");
			mer_text(o, m->nodes[i].dns);
		}
		ks_buf_str(o, remote ? "\"])\n" : "\"]\n");
	}
	if (ks_buf_init(&l, -1, 256))
		return;
	for (size_t i = 0; i < m->nedges; i++) {
		const struct ks_svcmap_edge *e = &m->edges[i];

		ks_buf_reset(&l);
		edge_label(&l, e, ks_map_secs(w));
		ks_buf_ch(&l, 0);
		/* spawn: a thick arrow; UDP: an arrow with a circle end (--o); TCP seen at one
		 * end only: dotted */
		ks_buf_printf(o, "  n%zu %s|\"", node_index(m, e->client),
			      e->kind == KS_EDGE_SPAWN ? "==>" : e->kind == KS_EDGE_UDP ? "--o" :
			      e->seen == (KS_SEEN_CLIENT | KS_SEEN_SERVER) ? "-->" : "-.->");
		mer_text(o, l.p);
		ks_buf_printf(o, "\"| n%zu\n", node_index(m, e->server));
	}
	ks_buf_free(&l);
}
