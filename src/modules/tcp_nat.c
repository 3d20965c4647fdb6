// SPDX-License-Identifier: GPL-2.0
/*
 * tcplife's NAT view (tcp_nat.h): one conntrack GET per closed session, in the session's
 * network namespace, through libnetfilter_conntrack (nfct_query); tcpconnect --dnat's and
 * tcpaccept --dnat's the same per connect or accept (the entry is made by the
 * connection's first packet).
 *
 * Why a query at close and not conntrack's event stream: events need a subscription in
 * every network namespace before its connections start (namespaces come and go), copy
 * every flow's NEW and DESTROY to us, DNAT'd or not (filtering them needs a BPF filter
 * on the netlink socket), make the kernel build those messages for every flow, and drop
 * some under load (ENOBUFS). A query costs a sendto and a recv or two (the entry, then
 * the ACK the library asks for) per session tcplife reports anyway, only while tcplife
 * runs, and finds the entry: conntrack keeps a closed connection's entry after the socket
 * is gone (TIME_WAIT 120 s, CLOSE 10 s by default), far longer than the ring buffer takes
 * to bring the close to us. A namespace with no NAT rule tracks nothing (conntrack is
 * enabled per namespace on demand): the answer there is "no entry", which is "not
 * DNAT'd", not a failure.
 *
 * The client's socket has the tuple conntrack calls original (its own address, the one
 * it asked for); the server's the reply one (its own address, the client's). Conntrack
 * finds an entry by either tuple (both directions are in its hash, whichever one a GET
 * names; the library names the original), so one GET of the socket's own local -> remote
 * serves a client, a server and an end whose side is not known (opened before ksight).
 * DNAT'd means IPS_DST_NAT in the status: then the original destination is what the
 * client asked for and the reply's source the real server. SNAT'd (IPS_SRC_NAT: SNAT,
 * masquerade, done in this namespace) likewise: the original source is the client's own
 * end, the reply's destination the one the server sees. Only the namespace doing the NAT
 * knows it: a server whose client was SNAT'd by a router in another namespace (or host)
 * gets no answer there. Conntrack zones other than the default one are not asked.
 */
#include "modules/tcp_nat.h"

#include <errno.h>
#include <fcntl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/attach_int.h"
#include "core/legacy.h"

#define RETRY_NS 1000000000LL	/* a namespace not found is searched again after this */
/* A socket holds its namespace alive: one unused this long is closed (a session's close
 * reaches us within milliseconds; a namespace torn down is then let go) */
#define IDLE_NS 10000000000LL
#define MAX_NS 4096		/* namespaces remembered (then the oldest failure is reused) */

struct tcp_nat_ns {
	uint32_t ino;
	struct nfct_handle *h;	/* its ctnetlink socket, NULL: none (yet) */
	int64_t retry_ns;	/* without one: when to search again */
	int64_t used_ns;	/* the last lookup there */
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One NAT of entry @ct: when status bit @bit is set and both ends are there, the end it
 * changed into @o (attributes @oaddr, @oport of the original tuple) and what it made of it
 * into @t (@taddr, @tport of the reply tuple). */
static bool nat_ends(const struct nf_conntrack *ct, uint32_t bit, bool v4,
		     enum nf_conntrack_attr oaddr, enum nf_conntrack_attr oport,
		     enum nf_conntrack_attr taddr, enum nf_conntrack_attr tport,
		     struct tcp_end *o, struct tcp_end *t)
{
	const void *a = nfct_get_attr(ct, oaddr), *b = nfct_get_attr(ct, taddr);

	if (!(nfct_get_attr_u32(ct, ATTR_STATUS) & bit) || !a || !b ||
	    nfct_attr_is_set(ct, oport) <= 0 || nfct_attr_is_set(ct, tport) <= 0)
		return false;
	memcpy(o->addr, a, v4 ? 4 : 16);
	memcpy(t->addr, b, v4 ? 4 : 16);
	o->port = ntohs(nfct_get_attr_u16(ct, oport));
	t->port = ntohs(nfct_get_attr_u16(ct, tport));
	return true;
}

/* nfct_query's callback: conntrack's entry, DNAT'd (IPS_DST_NAT), SNAT'd (IPS_SRC_NAT) or
 * neither, into the lookup under way. The reply tuple is what the server sends: its
 * source is where DNAT sent the connection, its destination the source SNAT gave the
 * client. CONTINUE: the ACK that follows the entry ends the query (left unread, it would
 * be taken for the next query's answer). */
static int answer(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
	struct tcp_nat_res *out = ((struct tcp_nat *)data)->out;
	bool v4 = nfct_get_attr_u8(ct, ATTR_L3PROTO) == AF_INET;

	out->dnat = nat_ends(ct, IPS_DST_NAT, v4, v4 ? ATTR_ORIG_IPV4_DST : ATTR_ORIG_IPV6_DST,
			     ATTR_ORIG_PORT_DST, v4 ? ATTR_REPL_IPV4_SRC : ATTR_REPL_IPV6_SRC,
			     ATTR_REPL_PORT_SRC, &out->orig, &out->real);
	out->snat = nat_ends(ct, IPS_SRC_NAT, v4, v4 ? ATTR_ORIG_IPV4_SRC : ATTR_ORIG_IPV6_SRC,
			     ATTR_ORIG_PORT_SRC, v4 ? ATTR_REPL_IPV4_DST : ATTR_REPL_IPV6_DST,
			     ATTR_REPL_PORT_DST, &out->orig_src, &out->real_src);
	return NFCT_CB_CONTINUE;
}

/* A ctnetlink socket in the current network namespace, answers going to @n->out. */
static struct nfct_handle *ct_open(struct tcp_nat *n)
{
	struct nfct_handle *h = nfct_open(CONNTRACK, 0);

	if (!h)
		return NULL;
	/* a child would keep the namespace alive: not inherited across exec */
	if (fcntl(nfct_fd(h), F_SETFD, FD_CLOEXEC) ||
	    nfct_callback_register(h, NFCT_T_ALL, answer, n)) {
		nfct_close(h);
		return NULL;
	}
	return h;
}

/* One GET of the tuple @l -> @r, TCP, of @af (AF_INET: the addresses' last 4 bytes when
 * IPv4-mapped, else their first 4). 1: an entry (answer() took it), 0: none, -1: failed. */
static int query(struct nfct_handle *h, int af, bool mapped, const struct tcp_end *l,
		 const struct tcp_end *r)
{
	struct nf_conntrack *ct = nfct_new();
	union {
		uint32_t v4;	/* the library reads it as one */
		uint8_t v6[16];
	} src, dst;
	size_t len = af == AF_INET ? 4 : 16, off = mapped ? 12 : 0;
	int ret;

	if (!ct)
		return -1;
	memcpy(&src, l->addr + off, len);
	memcpy(&dst, r->addr + off, len);
	nfct_set_attr_u8(ct, ATTR_L3PROTO, af);
	nfct_set_attr_u8(ct, ATTR_L4PROTO, IPPROTO_TCP);
	nfct_set_attr(ct, af == AF_INET ? ATTR_IPV4_SRC : ATTR_IPV6_SRC, &src);
	nfct_set_attr(ct, af == AF_INET ? ATTR_IPV4_DST : ATTR_IPV6_DST, &dst);
	nfct_set_attr_u16(ct, ATTR_PORT_SRC, htons(l->port));
	nfct_set_attr_u16(ct, ATTR_PORT_DST, htons(r->port));
	ret = nfct_query(h, NFCT_Q_GET, ct);
	nfct_destroy(ct);
	return !ret ? 1 : errno == ENOENT ? 0 : -1;
}

/* A ctnetlink socket in network namespace @ino: entered through its owner @pid's when
 * that is still the one, else found by the core (named namespaces, then processes). */
static struct nfct_handle *open_in(struct tcp_nat *n, uint32_t ino, int pid,
				   enum tcp_nat_fail *why)
{
	struct nfct_handle *h;
	int saved = -1, ns = -1, r;
	char path[64];
	struct stat st;

	if (ino == ks_netns_self())
		return ct_open(n);
	if (pid > 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		if (!stat(path, &st) && st.st_ino == ino)
			ns = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (ns >= 0) {
		saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		r = saved >= 0 && !setns(ns, CLONE_NEWNET) ? 0 : -1;
		close(ns);
		if (r && saved >= 0)
			close(saved);
	} else {
		r = ks_netns_enter(ino, &saved);
		if (r == -ENOENT) {
			*why = TCP_NAT_NO_NETNS;
			return NULL;
		}
	}
	*why = TCP_NAT_SOCKET;
	if (r)
		return NULL;
	h = ct_open(n);
	ks_netns_leave(saved);
	return h;
}

/* Once a second: close the sockets unused for IDLE_NS, forget the failures due again. */
static void sweep(struct tcp_nat *n, int64_t now)
{
	if (!n->nns)
		return;
	if (now < n->sweep_ns)
		return;
	n->sweep_ns = now + RETRY_NS;
	for (unsigned int i = 0; i < n->nns;) {
		struct tcp_nat_ns *s = &n->ns[i];

		if (s->h ? now - s->used_ns < IDLE_NS : now < s->retry_ns) {
			i++;
			continue;
		}
		if (s->h)
			nfct_close(s->h);
		*s = n->ns[--n->nns];
	}
}

/* @n's entry for @ino (made if new), or NULL when out of memory. */
static struct tcp_nat_ns *ns_get(struct tcp_nat *n, uint32_t ino)
{
	struct tcp_nat_ns *s;

	for (unsigned int i = 0; i < n->nns; i++)
		if (n->ns[i].ino == ino)
			return &n->ns[i];
	if (n->nns == n->cap) {
		unsigned int cap = n->cap ? n->cap * 2 : 16;

		if (cap > MAX_NS) {	/* reuse a failed one's slot, else the first */
			unsigned int i;

			for (i = 0; i < n->nns && n->ns[i].h; i++)
				;
			s = &n->ns[i < n->nns ? i : 0];
			if (s->h)
				nfct_close(s->h);
			*s = (struct tcp_nat_ns){ .ino = ino };
			return s;
		}
		s = realloc(n->ns, cap * sizeof(*s));
		if (!s)
			return NULL;
		n->ns = s;
		n->cap = cap;
	}
	s = &n->ns[n->nns++];
	*s = (struct tcp_nat_ns){ .ino = ino };
	return s;
}

static bool v4mapped(const uint8_t *a)
{
	static const uint8_t pre[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, pre, 12);
}

enum tcp_nat_fail tcp_nat_lookup(struct tcp_nat *n, uint32_t netns, uint16_t family,
				 const struct tcp_end *local, const struct tcp_end *remote,
				 int pid, struct tcp_nat_res *out)
{
	enum tcp_nat_fail why = TCP_NAT_NO_NETNS;
	int64_t now = now_ns();
	struct tcp_nat_ns *s;
	bool mapped = false;
	int af = AF_INET, r;

	memset(out, 0, sizeof(*out));
	sweep(n, now);
	if (!netns || !(s = ns_get(n, netns))) {
		n->failed[why]++;
		return why;
	}
	s->used_ns = now;
	if (!s->h) {
		if (now < s->retry_ns) {
			n->failed[TCP_NAT_NO_NETNS]++;
			return TCP_NAT_NO_NETNS;
		}
		s->h = open_in(n, netns, pid, &why);
		if (!s->h) {
			s->retry_ns = now + RETRY_NS;
			n->failed[why]++;
			return why;
		}
	}
	if (family == TCP_AF_INET6) {
		mapped = v4mapped(local->addr) && v4mapped(remote->addr);
		af = mapped ? AF_INET : AF_INET6;
	}
	n->asked++;
	n->out = out;
	r = query(s->h, af, mapped, local, remote);
	n->out = NULL;
	if (r < 0) {
		n->failed[TCP_NAT_QUERY]++;
		return TCP_NAT_QUERY;
	}
	if (r)
		out->family = af == AF_INET ? TCP_AF_INET : TCP_AF_INET6;
	/* as the socket writes them: ::ffff:a.b.c.d */
	if (mapped && (out->dnat || out->snat)) {
		struct tcp_end *x[] = { &out->orig, &out->real, &out->orig_src, &out->real_src };

		for (int i = 0; i < 4; i++) {
			memmove(x[i]->addr + 12, x[i]->addr, 4);
			memset(x[i]->addr, 0, 10);
			x[i]->addr[10] = x[i]->addr[11] = 0xff;
		}
		out->family = TCP_AF_INET6;
	}
	n->dnat += out->dnat;
	n->snat += out->snat;
	return TCP_NAT_OK;
}

void tcp_nat_sweep(struct tcp_nat *n)
{
	sweep(n, now_ns());
}

const char *tcp_nat_fail_name(enum tcp_nat_fail f)
{
	switch (f) {
	case TCP_NAT_NO_NETNS:
		return "no_netns";
	case TCP_NAT_SOCKET:
		return "socket";
	case TCP_NAT_QUERY:
		return "query";
	default:
		return "ok";
	}
}

void tcp_nat_free(struct tcp_nat *n)
{
	for (unsigned int i = 0; i < n->nns; i++)
		if (n->ns[i].h)
			nfct_close(n->ns[i].h);
	free(n->ns);
	memset(n, 0, sizeof(*n));
}
