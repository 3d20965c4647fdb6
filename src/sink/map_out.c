// SPDX-License-Identifier: GPL-2.0
/* The service map's forms (sink/map.h): table, JSON, diff, one service (map_graph.c: the
 * graphs). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sink/escape.h"
#include "sink/map_int.h"
#include "sink/units.h"

static void jstr(struct ks_buf *o, const char *key, const char *s)
{
	ks_buf_printf(o, "\"%s\":", key);
	ks_json_str(o, s, strlen(s));
}

/* ,"KEY":"S" or ,"KEY":null when @s is NULL. */
static void jnull(struct ks_buf *o, const char *key, const char *s)
{
	ks_buf_printf(o, ",\"%s\":", key);
	if (s)
		ks_json_str(o, s, strlen(s));
	else
		ks_buf_str(o, "null");
}

/* ,"NAT_connections":N,"NAT":"ADDR:PORT" for @nat "dnat" or "snat" ("ADDR" when @port
 * is 0; null when @addr is NULL). */
static void jnat(struct ks_buf *o, const char *nat, uint64_t n, const char *addr, uint16_t port)
{
	char a[KS_SVCMAP_ADDR + 16];

	ks_buf_printf(o, ",\"%s_connections\":%llu", nat, (unsigned long long)n);
	if (addr && port)
		snprintf(a, sizeof(a), strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr, port);
	jnull(o, nat, addr && port ? a : addr);
}

/* A measured value, or null. */
static void jopt(struct ks_buf *o, const char *key, uint64_t v)
{
	if (v)
		ks_buf_printf(o, ",\"%s\":%llu", key, (unsigned long long)v);
	else
		ks_buf_printf(o, ",\"%s\":null", key);
}

static void edge_json(struct ks_buf *o, const struct ks_svcmap_edge *e, double secs)
{
	ks_buf_ch(o, '{');
	jstr(o, "client", e->client);
	ks_buf_ch(o, ',');
	jstr(o, "server", e->server);
	ks_buf_printf(o, ",\"kind\":\"%s\",\"execs\":%llu,\"execs_per_s\":%.6g",
		      ks_svcmap_edge_kind_name(e->kind), (unsigned long long)e->execs,
		      secs > 0 ? e->execs / secs : 0.0);
	ks_buf_printf(o, ",\"port\":%u,\"connections\":%llu,\"conns_per_s\":%.6g,"
		      "\"bytes_client_to_server\":%llu,\"bytes_server_to_client\":%llu,"
		      "\"errors\":%llu,\"resets\":%llu,\"retrans_segs\":%llu,"
		      "\"first_seen_ns\":%lld,\"last_seen_ns\":%lld,\"seen\":\"%s\","
		      "\"resolved\":%s,\"incomplete\":%s",
		      e->port, (unsigned long long)e->conns, secs > 0 ? e->conns / secs : 0.0,
		      (unsigned long long)e->bytes_c2s, (unsigned long long)e->bytes_s2c,
		      (unsigned long long)e->errors, (unsigned long long)e->resets,
		      (unsigned long long)e->retrans, (long long)e->first_ns, (long long)e->last_ns,
		      ks_svcmap_seen_name(e->seen), e->resolved ? "true" : "false",
		      e->incomplete ? "true" : "false");
	ks_buf_printf(o, ",\"flows\":%llu,\"datagrams_client_to_server\":%llu,"
		      "\"datagrams_server_to_client\":%llu,\"datagrams_per_s\":%.6g",
		      (unsigned long long)e->flows, (unsigned long long)e->dgrams_c2s,
		      (unsigned long long)e->dgrams_s2c,
		      secs > 0 ? (e->dgrams_c2s + e->dgrams_s2c) / secs : 0.0);
	if (e->nconn)
		ks_buf_printf(o, ",\"connect_p50_ns\":%llu,\"connect_p99_ns\":%llu",
			      (unsigned long long)e->conn_p50, (unsigned long long)e->conn_p99);
	else
		ks_buf_str(o, ",\"connect_p50_ns\":null,\"connect_p99_ns\":null");
	jopt(o, "rtt_p50_ns", e->rtt_p50);
	jopt(o, "rtt_p99_ns", e->rtt_p99);
	jopt(o, "duration_p50_ns", e->dur_p50);
	jopt(o, "duration_p99_ns", e->dur_p99);
	/* the req module's requests on it: null where req was off or saw none */
	if (e->requests)
		ks_buf_printf(o, ",\"requests\":%llu,\"request_errors\":%llu,"
			      "\"request_p50_ns\":%llu,\"request_p99_ns\":%llu",
			      (unsigned long long)e->requests,
			      (unsigned long long)e->request_errors,
			      (unsigned long long)e->req_p50, (unsigned long long)e->req_p99);
	else
		ks_buf_str(o, ",\"requests\":null,\"request_errors\":null,"
			   "\"request_p50_ns\":null,\"request_p99_ns\":null");
	/* DNAT: how many of its connections were, and the address the first asked for;
	 * SNAT: how many, and the source address the first was given */
	jnat(o, "dnat", e->dnat_conns, e->dnat_addr, e->dnat_port);
	jnat(o, "snat", e->snat_conns, e->snat_addr, 0);
	/* the remote ends' DNS names, as their nodes': a view of edges alone shows them */
	jnull(o, "client_dns", e->client_dns);
	jnull(o, "server_dns", e->server_dns);
	ks_buf_ch(o, '}');
}

static void node_json(struct ks_buf *o, const struct ks_svcmap_node *n)
{
	ks_buf_ch(o, '{');
	jstr(o, "name", n->name);
	ks_buf_printf(o, ",\"kind\":\"%s\",\"conns_in\":%llu,\"conns_out\":%llu,"
		      "\"bytes_in\":%llu,\"bytes_out\":%llu,\"spawns_in\":%llu,"
		      "\"spawns_out\":%llu,\"first_seen_ns\":%lld,\"last_seen_ns\":%lld,"
		      "\"dns\":",
		      n->kind == KS_NODE_REMOTE ? "remote" : "service",
		      (unsigned long long)n->conns_in, (unsigned long long)n->conns_out,
		      (unsigned long long)n->bytes_in, (unsigned long long)n->bytes_out,
		      (unsigned long long)n->spawns_in, (unsigned long long)n->spawns_out,
		      (long long)n->first_ns, (long long)n->last_ns);
	if (n->dns)
		ks_json_str(o, n->dns, strlen(n->dns));
	else
		ks_buf_str(o, "null");
	ks_buf_ch(o, '}');
}

static void win_json(struct ks_buf *o, const struct ks_map_win *w)
{
	ks_buf_printf(o, "\"from_ns\":%lld,\"to_ns\":%lld,\"secs\":%.3f", (long long)w->from_ns,
		      (long long)w->to_ns, ks_map_secs(w));
}

static void map_json(struct ks_buf *o, const struct ks_svcmap *m, const struct ks_map_win *w)
{
	ks_buf_ch(o, '{');
	win_json(o, w);
	ks_buf_printf(o, ",\"sessions\":%llu,\"execs\":%llu,\"unplaced\":%llu,\"udp_rows\":%llu,"
		      "\"udp_unplaced\":%llu,\"req_rows\":%llu,\"req_unjoined\":%llu,\"nodes\":[",
		      (unsigned long long)m->conns_in, (unsigned long long)m->execs_in,
		      (unsigned long long)m->unplaced, (unsigned long long)m->udp_in,
		      (unsigned long long)m->udp_unplaced, (unsigned long long)m->req_in,
		      (unsigned long long)m->req_unjoined);
	for (size_t i = 0; i < m->nnodes; i++) {
		if (i)
			ks_buf_ch(o, ',');
		node_json(o, &m->nodes[i]);
	}
	ks_buf_str(o, "],\"edges\":[");
	for (size_t i = 0; i < m->nedges; i++) {
		if (i)
			ks_buf_ch(o, ',');
		edge_json(o, &m->edges[i], ks_map_secs(w));
	}
	ks_buf_str(o, "]}\n");
}

void ks_map_dur_text(struct ks_buf *o, uint64_t ns)
{
	if (!ns)
		ks_buf_ch(o, '-');
	else if (ns < 1000000)
		ks_buf_printf(o, "%.0fus", ns / 1e3);
	else if (ns < 1000000000)
		ks_buf_printf(o, "%.1fms", ns / 1e6);
	else
		ks_buf_printf(o, "%.2fs", ns / 1e9);
}

void ks_map_bytes_text(struct ks_buf *o, uint64_t b)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = b;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	if (!i)
		ks_buf_printf(o, "%lluB", (unsigned long long)b);
	else
		ks_buf_printf(o, "%.1f%s", v, u[i]);
}

static void win_text(struct ks_buf *o, const struct ks_map_win *w)
{
	ks_fmt_time(o, w->from_ns, false);
	ks_buf_str(o, " .. ");
	ks_fmt_time(o, w->to_ns, false);
}

/* "client -> server:port" in display form (a remote server's name has its port), TCP or
 * UDP;
 * "parent => child" for a spawn. */
static void edge_name(struct ks_buf *o, const struct ks_svcmap_edge *e)
{
	ks_escape(o, e->client, strlen(e->client));
	ks_buf_str(o, e->kind == KS_EDGE_SPAWN ? " => " : " -> ");
	ks_escape(o, e->server, strlen(e->server));
	if (e->kind != KS_EDGE_SPAWN && !e->server_remote)
		ks_buf_printf(o, ":%u", e->port);
}

static void pad_to(struct ks_buf *o, size_t start, size_t w)
{
	while (o->len - start < w)
		ks_buf_ch(o, ' ');
	ks_buf_ch(o, ' ');
}

/* What @o gained since @start, moved right in @w columns, and a space. */
static void right(struct ks_buf *o, size_t start, size_t w)
{
	size_t n = o->len - start;

	if (n < w && !ks_buf_reserve(o, w - n)) {
		memmove(o->p + start + (w - n), o->p + start, n);
		memset(o->p + start, ' ', w - n);
		o->len += w - n;
	}
	ks_buf_ch(o, ' ');
}

static void bytes_cell(struct ks_buf *o, uint64_t b, size_t w)
{
	size_t s = o->len;

	ks_map_bytes_text(o, b);
	right(o, s, w);
}

static void dur_cell(struct ks_buf *o, uint64_t ns, bool known, size_t w)
{
	size_t s = o->len;

	if (known)
		ks_map_dur_text(o, ns ? ns : 1);	/* measured below a microsecond: 1us */
	else
		ks_buf_ch(o, '-');
	right(o, s, w);
}

/* The spawn edges: parent => child, execs. */
static void spawn_table(struct ks_buf *o, const struct ks_svcmap *m, double secs)
{
	bool head = false;
	size_t s;

	for (size_t i = 0; i < m->nedges; i++) {
		const struct ks_svcmap_edge *e = &m->edges[i];

		if (e->kind != KS_EDGE_SPAWN)
			continue;
		if (!head)
			ks_buf_printf(o, "\n%-56s %8s %8s %-19s %s\n", "SPAWN", "EXEC/S", "EXECS",
				      "FIRST", "LAST");
		head = true;
		s = o->len;
		edge_name(o, e);
		pad_to(o, s, 56);
		ks_buf_printf(o, "%8.3g %8llu ", secs > 0 ? e->execs / secs : 0.0,
			      (unsigned long long)e->execs);
		ks_fmt_time(o, e->first_ns, false);
		ks_buf_ch(o, ' ');
		ks_fmt_time(o, e->last_ns, false);
		ks_buf_str(o, e->incomplete ? " INCOMPLETE\n" : "\n");
	}
}

/* The UDP edges: client -> server:port, flows, datagrams and bytes each way. */
static void udp_table(struct ks_buf *o, const struct ks_svcmap *m, double secs)
{
	bool head = false;
	size_t s;

	for (size_t i = 0; i < m->nedges; i++) {
		const struct ks_svcmap_edge *e = &m->edges[i];

		if (e->kind != KS_EDGE_UDP)
			continue;
		if (!head)
			ks_buf_printf(o, "\n%-56s %8s %6s %9s %9s %10s %10s %s\n", "UDP",
				      "DGRAM/S", "FLOWS", "DG C->S", "DG S->C", "C->S", "S->C",
				      "SEEN");
		head = true;
		s = o->len;
		edge_name(o, e);
		pad_to(o, s, 56);
		ks_buf_printf(o, "%8.3g %6llu %9llu %9llu ",
			      secs > 0 ? (e->dgrams_c2s + e->dgrams_s2c) / secs : 0.0,
			      (unsigned long long)e->flows, (unsigned long long)e->dgrams_c2s,
			      (unsigned long long)e->dgrams_s2c);
		bytes_cell(o, e->bytes_c2s, 10);
		bytes_cell(o, e->bytes_s2c, 10);
		ks_buf_printf(o, "%s%s\n", ks_svcmap_seen_name(e->seen),
			      e->incomplete ? " INCOMPLETE" : "");
	}
}

static void map_table(struct ks_buf *o, const struct ks_svcmap *m, const struct ks_map_win *w)
{
	double secs = ks_map_secs(w);
	size_t s, ntcp = 0;
	bool dns = false;

	ks_buf_str(o, "window ");
	win_text(o, w);
	ks_buf_printf(o, "  sessions %llu  execs %llu", (unsigned long long)m->conns_in,
		      (unsigned long long)m->execs_in);
	if (m->udp_in)
		ks_buf_printf(o, "  udp rows %llu", (unsigned long long)m->udp_in);
	if (m->req_in)
		ks_buf_printf(o, "  request rows %llu (%llu on no edge)",
			      (unsigned long long)m->req_in, (unsigned long long)m->req_unjoined);
	if (m->unplaced)
		ks_buf_printf(o, " (%llu without a known side)", (unsigned long long)m->unplaced);
	for (size_t i = 0; i < m->nnodes; i++)
		dns |= m->nodes[i].dns != NULL;
	/* DNS: the name a remote node's address had in DNS answers, when one had one */
	ks_buf_printf(o, "\n\n%-40s %-7s %8s %8s %10s %10s%s\n", "NODE", "KIND", "IN", "OUT",
		      "RECV", "SENT", dns ? " DNS" : "");
	for (size_t i = 0; i < m->nnodes; i++) {
		const struct ks_svcmap_node *n = &m->nodes[i];

		s = o->len;
		ks_escape(o, n->name, strlen(n->name));
		pad_to(o, s, 40);
		ks_buf_printf(o, "%-7s %8llu %8llu ", n->kind == KS_NODE_REMOTE ? "remote" :
			      "service", (unsigned long long)n->conns_in,
			      (unsigned long long)n->conns_out);
		bytes_cell(o, n->bytes_in, 10);
		bytes_cell(o, n->bytes_out, 10);
		if (dns && n->dns)
			ks_escape(o, n->dns, strlen(n->dns));
		else if (dns)
			ks_buf_ch(o, '-');
		else
			o->len--;
		ks_buf_ch(o, '\n');
	}
	ks_buf_printf(o, "\n%-56s %8s %8s %10s %10s %8s %8s %8s %8s %8s %4s %4s %s\n", "EDGE",
		      "CONN/S", "CONNS", "C->S", "S->C", "CONN p99", "RTT p99", "DUR p99", "REQS",
		      "REQ p99", "ERR", "RST", "SEEN");
	for (size_t i = 0; i < m->nedges; i++) {
		const struct ks_svcmap_edge *e = &m->edges[i];

		if (e->kind != KS_EDGE_TCP)
			continue;
		ntcp++;
		s = o->len;
		edge_name(o, e);
		pad_to(o, s, 56);
		ks_buf_printf(o, "%8.3g %8llu ", secs > 0 ? e->conns / secs : 0.0,
			      (unsigned long long)e->conns);
		bytes_cell(o, e->bytes_c2s, 10);
		bytes_cell(o, e->bytes_s2c, 10);
		dur_cell(o, e->conn_p99, e->nconn, 8);
		dur_cell(o, e->rtt_p99, e->rtt_p99, 8);
		dur_cell(o, e->dur_p99, e->dur_p99, 8);
		if (e->requests)
			ks_buf_printf(o, "%8llu ", (unsigned long long)e->requests);
		else
			ks_buf_printf(o, "%8s ", "-");
		dur_cell(o, e->req_p99, e->requests, 8);
		ks_buf_printf(o, "%4llu %4llu %s%s%s", (unsigned long long)e->errors,
			      (unsigned long long)e->resets, ks_svcmap_seen_name(e->seen),
			      e->resolved ? " resolved" : "", e->incomplete ? " INCOMPLETE" : "");
		if (e->dnat_addr)
			ks_buf_printf(o, strchr(e->dnat_addr, ':') ? " dnat [%s]:%u" :
				      " dnat %s:%u", e->dnat_addr, e->dnat_port);
		if (e->snat_addr)
			ks_buf_printf(o, " snat %s", e->snat_addr);
		ks_buf_ch(o, '\n');
	}
	if (!ntcp)
		ks_buf_str(o, "(no TCP session closed in this window)\n");
	udp_table(o, m, secs);
	spawn_table(o, m, secs);
}

void ks_map_render(struct ks_buf *o, const struct ks_svcmap *m, const struct ks_map_win *w,
		   enum ks_map_form form)
{
	switch (form) {
	case KS_MAP_JSON:
		map_json(o, m, w);
		break;
	case KS_MAP_DOT:
		ks_map_dot(o, m, w);
		break;
	case KS_MAP_MERMAID:
		ks_map_mermaid(o, m, w);
		break;
	default:
		map_table(o, m, w);
	}
}

void ks_map_render_diff(struct ks_buf *o, const struct ks_svcmap_diff *d, long n,
			const struct ks_map_win *a, const struct ks_map_win *b, bool json)
{
	if (json) {
		ks_buf_str(o, "{\"before\":{");
		win_json(o, a);
		ks_buf_str(o, "},\"after\":{");
		win_json(o, b);
		ks_buf_str(o, "},\"changes\":[");
		for (long i = 0; i < n; i++) {
			const struct ks_svcmap_edge *e = d[i].b ? d[i].b : d[i].a;

			ks_buf_printf(o, "%s{\"change\":\"%s\",", i ? "," : "",
				      ks_svcmap_change_name(d[i].what));
			jstr(o, "client", e->client);
			ks_buf_ch(o, ',');
			jstr(o, "server", e->server);
			ks_buf_printf(o, ",\"kind\":\"%s\"", ks_svcmap_edge_kind_name(e->kind));
			ks_buf_printf(o, ",\"port\":%u,\"rate_changed\":%s,\"connect_changed\":%s,"
				      "\"rtt_changed\":%s,\"duration_changed\":%s,\"before\":",
				      e->port, d[i].rate_changed ? "true" : "false",
				      d[i].conn_changed ? "true" : "false",
				      d[i].rtt_changed ? "true" : "false",
				      d[i].dur_changed ? "true" : "false");
			if (d[i].a)
				edge_json(o, d[i].a, ks_map_secs(a));
			else
				ks_buf_str(o, "null");
			ks_buf_str(o, ",\"after\":");
			if (d[i].b)
				edge_json(o, d[i].b, ks_map_secs(b));
			else
				ks_buf_str(o, "null");
			ks_buf_ch(o, '}');
		}
		ks_buf_str(o, "]}\n");
		return;
	}
	ks_buf_str(o, "before ");
	win_text(o, a);
	ks_buf_str(o, "\nafter  ");
	win_text(o, b);
	ks_buf_str(o, "\n\n");
	for (long i = 0; i < n; i++) {
		const struct ks_svcmap_edge *e = d[i].b ? d[i].b : d[i].a;
		size_t s;

		ks_buf_printf(o, "%-12s ", ks_svcmap_change_name(d[i].what));
		s = o->len;
		edge_name(o, e);
		pad_to(o, s, 56);
		ks_buf_printf(o, "%.3g/s -> %.3g/s", d[i].rate_a, d[i].rate_b);
		if (d[i].conn_changed) {
			ks_buf_str(o, "  connect p99 ");
			ks_map_dur_text(o, d[i].a->conn_p99 ? d[i].a->conn_p99 : 1);
			ks_buf_str(o, " -> ");
			ks_map_dur_text(o, d[i].b->conn_p99 ? d[i].b->conn_p99 : 1);
		}
		if (d[i].rtt_changed || d[i].dur_changed) {
			ks_buf_str(o, d[i].rtt_changed ? "  rtt p99 " : "  dur p99 ");
			ks_map_dur_text(o, d[i].rtt_changed ? d[i].a->rtt_p99 : d[i].a->dur_p99);
			ks_buf_str(o, " -> ");
			ks_map_dur_text(o, d[i].rtt_changed ? d[i].b->rtt_p99 : d[i].b->dur_p99);
		}
		ks_buf_ch(o, '\n');
	}
	if (!n)
		ks_buf_str(o, "(no change)\n");
}

void ks_map_service_json(struct ks_buf *o, const struct ks_svcmap *m,
			 const struct ks_svcmap_node *n, const struct ks_map_win *w)
{
	bool first = true;

	ks_buf_ch(o, '{');
	win_json(o, w);
	ks_buf_str(o, ",\"node\":");
	node_json(o, n);
	for (int out = 1; out >= 0; out--) {
		ks_buf_str(o, out ? ",\"edges_out\":[" : ",\"edges_in\":[");
		first = true;
		for (size_t i = 0; i < m->nedges; i++) {
			const struct ks_svcmap_edge *e = &m->edges[i];

			if (strcmp(out ? e->client : e->server, n->name))
				continue;
			if (!first)
				ks_buf_ch(o, ',');
			first = false;
			edge_json(o, e, ks_map_secs(w));
		}
		ks_buf_ch(o, ']');
	}
}
