// SPDX-License-Identifier: GPL-2.0
/*
 * The udp module in the agent: each flow's datagrams and bytes on its edge in the
 * registry, so that Prometheus holds the UDP edges of every host it scrapes (`ksight map
 * --prometheus`, docs/map.md), with the label scheme of the TCP edges (tcp_edges.c): a
 * client end counts as (service, its own address, the server's ADDR:PORT), a server end
 * as (service, its own ADDR:PORT, the client's address), so that the two ends of one flow,
 * seen by two agents, name the same endpoints crosswise. Which end is the server is the
 * end's own rule (its port bound explicitly and its first datagram received: udp_flows.c,
 * docs/map.md "UDP edges"). A client end whose server's address a DNS answer named counts
 * its datagrams under that name too, as the TCP edges' do.
 *
 * The kernel's table has no local address (an unconnected socket has none of its own:
 * each datagram takes the source its routes choose), so an end's own address is the
 * source the routes of its socket's network namespace choose toward the remote end: a
 * UDP socket made there, connected to it (no datagram is sent), asked getsockname().
 * The answer is kept a minute per (namespace, remote address). A namespace gone (nothing
 * of it left to enter) or a refusal: the unspecified address (0.0.0.0, ::), counted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/attach_int.h"
#include "core/clock.h"
#include "core/dnsnames.h"
#include "core/ident.h"
#include "core/legacy.h"
#include "modules/udp_int.h"

#define EDGE_BUDGET 512		/* endpoint pairs kept per family, then the overflow */
#define SRC_KEEP_NS (60 * 1000000000LL)

#define EDGE_DESC(side_, what, help_)                                                 \
	{ .name = "ksight_udp_" #side_ "_" what "_total", .help = help_,                  \
	  .type = KS_METRIC_COUNTER, .labels = { "service", "local", "peer" },          \
	  .budget = EDGE_BUDGET, .idle = 60 }

/* [client, server][datagrams sent, bytes sent, datagrams received, bytes received] */
static const struct ks_metric_desc edge_descs[2][4] = {
	{ EDGE_DESC(client, "sent_datagrams", "UDP datagrams the client end of a flow sent: "
		    "service, its address, the server's ADDR:PORT"),
	  EDGE_DESC(client, "sent_bytes", "UDP payload bytes the client end sent, by edge"),
	  EDGE_DESC(client, "received_datagrams", "UDP datagrams the client end received, "
		    "by edge"),
	  EDGE_DESC(client, "received_bytes", "UDP payload bytes the client end received, "
		    "by edge") },
	{ EDGE_DESC(server, "sent_datagrams", "UDP datagrams the server end of a flow sent: "
		    "service, its ADDR:PORT, the client's address"),
	  EDGE_DESC(server, "sent_bytes", "UDP payload bytes the server end sent, by edge"),
	  EDGE_DESC(server, "received_datagrams", "UDP datagrams the server end received, "
		    "by edge"),
	  EDGE_DESC(server, "received_bytes", "UDP payload bytes the server end received, "
		    "by edge") },
};

/* The names: a client end whose server's address a DNS answer named (valid at the
 * interval's end, the agent's table: core/dnsnames.h) counts its datagrams both ways
 * here too, so that the fleet's map gives the server's node that name as the local map
 * does (PromQL: sum by (peer, dns) (ksight_udp_client_dns_datagrams_total)). A family of
 * its own, as ksight_tcp_client_dns_connections_total: the edges keep their label sets. */
static const struct ks_metric_desc edge_dns_desc = {
	.name = "ksight_udp_client_dns_datagrams_total",
	.help = "UDP datagrams (sent and received) of client ends whose server address a DNS "
		"answer named: service, the server's ADDR:PORT, the name",
	.type = KS_METRIC_COUNTER,
	.labels = { "service", "peer", "dns" },
	.budget = EDGE_BUDGET,
	.idle = 60,
};

static const struct ks_metric_desc src_failed_desc = {
	.name = "ksight_udp_edge_source_unknown_total",
	.help = "UDP flow rows whose end's own address could not be found (its network "
		"namespace gone, or no route to the remote end): counted on their edges with "
		"the unspecified address",
	.type = KS_METRIC_COUNTER,
};

int udp_edges_init(struct ks_ctx *ctx, struct udp_state *st)
{
	if (!(st->m_src_failed = ks_ctx_metric(ctx, &src_failed_desc)) ||
	    !(st->m_edge_dns = ks_ctx_metric(ctx, &edge_dns_desc)))
		return -errno;
	ks_counter_add(ks_metric_get(st->m_src_failed, NULL), 0);	/* shown from the start */
	for (int s = 0; s < 2; s++)
		for (int w = 0; w < 4; w++)
			if (!(st->m_edge[s][w] = ks_ctx_metric(ctx, &edge_descs[s][w])))
				return -errno;
	return 0;
}

/* The source address the routes of the current thread's namespace, or of the one @fd was
 * made in, choose toward @dst: a connected UDP socket's own. 0 or -errno. */
static int route_src(int fd, int af, const uint8_t *dst, uint16_t port, uint8_t *out)
{
	struct sockaddr_storage ss = { 0 }, me;
	socklen_t len = af == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	socklen_t mlen = sizeof(me);
	int err = 0;

	if (af == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		memcpy(&a->sin_addr, dst, 4);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		memcpy(&a->sin6_addr, dst, 16);
	}
	if (connect(fd, (struct sockaddr *)&ss, len) || getsockname(fd, (void *)&me, &mlen))
		err = -errno;
	else if (af == AF_INET)
		memcpy(out, &((struct sockaddr_in *)&me)->sin_addr, 4);
	else
		memcpy(out, &((struct sockaddr_in6 *)&me)->sin6_addr, 16);
	close(fd);
	return err;
}

/* A UDP socket of family @af in network namespace @netns (0: ours): made there, it keeps
 * routing there once this thread is back in its own. Entered through the row's process
 * @pid while it is still there (one stat), else found by the core (named namespaces, then
 * every process's: a scan). -1 (errno) when it cannot be. */
static int sock_in(uint64_t netns, uint32_t pid, int af)
{
	int saved = -1, ns = -1, fd, r;
	char path[64];
	struct stat sb;

	if (!netns || netns == ks_netns_self())
		return socket(af, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(path, sizeof(path), "/proc/%u/ns/net", pid);
	if (!stat(path, &sb) && sb.st_ino == netns)
		ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns >= 0) {
		saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		r = saved >= 0 && !setns(ns, CLONE_NEWNET) ? 0 : -errno;
		close(ns);
		if (r && saved >= 0)
			close(saved);
	} else {
		r = ks_netns_enter(netns, &saved);
	}
	if (r < 0) {
		errno = -r;
		return -1;
	}
	fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (r == 0)
		ks_netns_leave(saved);
	return fd;
}

/* The end's own address for row @r into @out as text: kept, else asked of the routes. A
 * failure is kept too (a namespace gone would be looked for in every process's again). */
static void own_addr(struct udp_state *st, const struct udp_row *r, char *out, size_t len)
{
	int af = r->k.family == UDP_AF_INET ? AF_INET : AF_INET6;
	struct udp_src *c = &st->src[(r->v.netns * 31 + r->k.raddr[15] * 7 + r->k.raddr[3]) %
				     UDP_SRC_SLOTS];
	int64_t now = ks_clock_mono_now();
	int fd;

	if (c->until <= now || c->netns != r->v.netns || c->family != r->k.family ||
	    memcmp(c->raddr, r->k.raddr, 16)) {
		*c = (struct udp_src){ .netns = r->v.netns, .family = r->k.family,
				       .until = now + SRC_KEEP_NS };
		memcpy(c->raddr, r->k.raddr, 16);
		c->failed = (fd = sock_in(r->v.netns, r->k.pid, af)) < 0 ||
			    route_src(fd, af, r->k.raddr, r->k.rport, c->addr);
		if (c->failed)
			memset(c->addr, 0, sizeof(c->addr));
	}
	if (c->failed)
		ks_counter_add(ks_metric_get(st->m_src_failed, NULL), 1);
	udp_addr_str(r->k.family, c->addr, out, len);
}

/* "ADDR:PORT", "[V6]:PORT"; "ADDR" when @port is 0. */
static void endpoint(char *out, size_t len, uint16_t family, const char *addr, uint16_t port)
{
	if (!port)
		snprintf(out, len, "%s", addr);
	else if (family == UDP_AF_INET6)
		snprintf(out, len, "[%s]:%u", addr, port);
	else
		snprintf(out, len, "%s:%u", addr, port);
}

/* Client end @r of @svc to server @peer (ADDR:PORT): its datagrams under the name a DNS
 * answer gave the server's address, if one did. */
static void count_dns(struct udp_state *st, const struct udp_row *r, const char *svc,
		      const char *peer)
{
	struct ks_dnsnames *t = ks_dnsnames_agent();
	const char *name, *v[3];
	size_t len[3];

	if (!t)
		return;
	name = ks_dnsnames_get(t, r->k.family == UDP_AF_INET ? AF_INET : AF_INET6, r->k.raddr,
			       ks_clock_mono_now());
	if (!name)
		return;
	v[0] = svc;
	v[1] = peer;
	v[2] = name;
	for (int i = 0; i < 3; i++)
		len[i] = strlen(v[i]);
	ks_counter_add(ks_metric_getn(st->m_edge_dns, v, len), r->v.tx_dgrams + r->v.rx_dgrams);
}

void udp_edges_count(struct udp_state *st, const struct udp_row *r, const char *svc)
{
	char me[64], peer[64], l[72], p[72];
	const char *v[3] = { svc, l, p };
	size_t len[3];
	int s = (r->v.flags & UDP_FLOW_F_BOUND) && (r->v.flags & UDP_FLOW_F_RX_FIRST);

	/* a receive that asked for no address: no remote end, no edge (as the map's) */
	if (!st->m_edge[0][0] || !r->k.rport ||
	    (r->k.family != UDP_AF_INET && r->k.family != UDP_AF_INET6))
		return;
	own_addr(st, r, me, sizeof(me));
	udp_addr_str(r->k.family, r->k.raddr, peer, sizeof(peer));
	endpoint(l, sizeof(l), r->k.family, me, s ? r->k.lport : 0);
	endpoint(p, sizeof(p), r->k.family, peer, s ? 0 : r->k.rport);
	for (int i = 0; i < 3; i++)
		len[i] = strlen(v[i]);
	ks_counter_add(ks_metric_getn(st->m_edge[s][0], v, len), r->v.tx_dgrams);
	ks_counter_add(ks_metric_getn(st->m_edge[s][1], v, len), r->v.tx_bytes);
	ks_counter_add(ks_metric_getn(st->m_edge[s][2], v, len), r->v.rx_dgrams);
	ks_counter_add(ks_metric_getn(st->m_edge[s][3], v, len), r->v.rx_bytes);
	if (!s)
		count_dns(st, r, svc, p);
}
