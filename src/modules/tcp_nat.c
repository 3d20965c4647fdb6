// SPDX-License-Identifier: GPL-2.0
/*
 * tcplife's DNAT view (tcp_nat.h): one ctnetlink GET per closed session, in the session's
 * network namespace.
 *
 * Why a query at close and not conntrack's event stream: events need a subscription in
 * every network namespace before its connections start (namespaces come and go), copy
 * every flow's NEW and DESTROY to us, DNAT'd or not (filtering them needs a BPF filter
 * on the netlink socket), make the kernel build those messages for every flow, and drop
 * some under load (ENOBUFS). A query costs one sendto/recv per session tcplife reports
 * anyway, only while tcplife runs, and finds the entry: conntrack keeps a closed
 * connection's entry after the socket is gone (TIME_WAIT 120 s, CLOSE 10 s by default),
 * far longer than the ring buffer takes to bring the close to us. A namespace with no NAT
 * rule tracks nothing (conntrack is enabled per namespace on demand): the answer there is
 * "no entry", which is "not DNAT'd", not a failure.
 *
 * The client's socket has the tuple conntrack calls original (its own address, the one
 * it asked for); the server's the reply one (its own address, the client's): a client is
 * looked up by its original tuple, a server by its reply tuple, and a session whose side
 * is not known (opened before ksight) by both. DNAT'd means IPS_DST_NAT in the status:
 * then the original destination is what the client asked for and the reply's source the
 * real server. Conntrack zones other than the default one are not asked.
 */
#include "modules/tcp_nat.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
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
	int fd;			/* its ctnetlink socket, -1: none (yet) */
	int64_t retry_ns;	/* with fd -1: when to search again */
	int64_t used_ns;	/* the last lookup there */
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int nl_socket(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* A ctnetlink socket in network namespace @ino: entered through its owner @pid's when
 * that is still the one, else found by the core (named namespaces, then processes). */
static int open_in(uint32_t ino, int pid, enum tcp_nat_fail *why)
{
	int fd = -1, saved = -1, ns = -1, r;
	char path[64];
	struct stat st;

	if (ino == ks_netns_self())
		return nl_socket();
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
			return -1;
		}
	}
	*why = TCP_NAT_SOCKET;
	if (r)
		return -1;
	fd = nl_socket();
	ks_netns_leave(saved);
	return fd;
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

		if (s->fd >= 0 ? now - s->used_ns < IDLE_NS : now < s->retry_ns) {
			i++;
			continue;
		}
		if (s->fd >= 0)
			close(s->fd);
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

			for (i = 0; i < n->nns && n->ns[i].fd >= 0; i++)
				;
			s = &n->ns[i < n->nns ? i : 0];
			if (s->fd >= 0)
				close(s->fd);
			*s = (struct tcp_nat_ns){ ino, -1, 0 };
			return s;
		}
		s = realloc(n->ns, cap * sizeof(*s));
		if (!s)
			return NULL;
		n->ns = s;
		n->cap = cap;
	}
	s = &n->ns[n->nns++];
	*s = (struct tcp_nat_ns){ ino, -1, 0 };
	return s;
}

/* --- the message ------------------------------------------------------------------ */

struct msg {
	char b[512];
	size_t len;
};

static struct nlattr *put(struct msg *m, uint16_t type, const void *data, size_t n)
{
	struct nlattr *a = (struct nlattr *)(m->b + m->len);

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + n;
	if (n)
		memcpy((char *)a + NLA_HDRLEN, data, n);
	m->len += NLA_ALIGN(a->nla_len);
	return a;
}

static void nest_end(struct msg *m, struct nlattr *a)
{
	a->nla_len = m->b + m->len - (char *)a;
}

/* A tuple: @src to @dst, TCP, of @af (AF_INET: the addresses' last 4 bytes when
 * IPv4-mapped, else their first 4). */
static void put_tuple(struct msg *m, uint16_t type, int af, const struct tcp_end *src,
		      const struct tcp_end *dst, bool mapped)
{
	struct nlattr *t = put(m, type | NLA_F_NESTED, NULL, 0), *ip, *pr;
	size_t n = af == AF_INET ? 4 : 16, off = mapped ? 12 : 0;
	uint8_t proto = IPPROTO_TCP;
	uint16_t sp = htons(src->port), dp = htons(dst->port);

	ip = put(m, CTA_TUPLE_IP | NLA_F_NESTED, NULL, 0);
	put(m, af == AF_INET ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, src->addr + off, n);
	put(m, af == AF_INET ? CTA_IP_V4_DST : CTA_IP_V6_DST, dst->addr + off, n);
	nest_end(m, ip);
	pr = put(m, CTA_TUPLE_PROTO | NLA_F_NESTED, NULL, 0);
	put(m, CTA_PROTO_NUM, &proto, 1);
	put(m, CTA_PROTO_SRC_PORT, &sp, 2);
	put(m, CTA_PROTO_DST_PORT, &dp, 2);
	nest_end(m, pr);
	nest_end(m, t);
}

/* Each attribute of [@p, @p + @len) into @tb[0..max] (the last one of a type wins). */
static void parse(const char *p, size_t len, const struct nlattr **tb, int max)
{
	memset(tb, 0, (max + 1) * sizeof(*tb));
	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const void *)p;
		size_t l = a->nla_len, t = a->nla_type & NLA_TYPE_MASK;

		if (l < NLA_HDRLEN || l > len)
			return;
		if ((int)t <= max)
			tb[t] = a;
		l = NLA_ALIGN(l);
		if (l >= len)
			return;
		p += l;
		len -= l;
	}
}

#define PAYLOAD(a) ((const char *)(a) + NLA_HDRLEN)
#define PLEN(a) ((a)->nla_len - NLA_HDRLEN)

/* Tuple @t's source (@src) or destination end into @out. False if it has none. */
static bool tuple_end(const struct nlattr *t, bool src, struct tcp_end *out)
{
	const struct nlattr *tt[CTA_TUPLE_MAX + 1], *ip[CTA_IP_MAX + 1], *pr[CTA_PROTO_MAX + 1];
	const struct nlattr *a, *p;

	if (!t)
		return false;
	parse(PAYLOAD(t), PLEN(t), tt, CTA_TUPLE_MAX);
	if (!tt[CTA_TUPLE_IP] || !tt[CTA_TUPLE_PROTO])
		return false;
	parse(PAYLOAD(tt[CTA_TUPLE_IP]), PLEN(tt[CTA_TUPLE_IP]), ip, CTA_IP_MAX);
	parse(PAYLOAD(tt[CTA_TUPLE_PROTO]), PLEN(tt[CTA_TUPLE_PROTO]), pr, CTA_PROTO_MAX);
	a = ip[src ? CTA_IP_V4_SRC : CTA_IP_V4_DST] ?: ip[src ? CTA_IP_V6_SRC : CTA_IP_V6_DST];
	p = pr[src ? CTA_PROTO_SRC_PORT : CTA_PROTO_DST_PORT];
	if (!a || !p || PLEN(a) > 16 || PLEN(p) != 2)
		return false;
	memset(out, 0, sizeof(*out));
	memcpy(out->addr, PAYLOAD(a), PLEN(a));
	out->port = ntohs(*(const uint16_t *)PAYLOAD(p));
	return true;
}

/* One GET of (@l, @r) as the @reply tuple. 1: an entry (in @out), 0: none, -1: failed. */
static int query(struct tcp_nat *n, int fd, int af, bool mapped, bool reply,
		 const struct tcp_end *l, const struct tcp_end *r, struct tcp_nat_res *out)
{
	struct msg m = { .len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)) };
	struct nlmsghdr *h = (struct nlmsghdr *)m.b;
	struct nfgenmsg *g = (struct nfgenmsg *)(m.b + NLMSG_HDRLEN);
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	uint32_t seq = ++n->seq;
	union {
		char b[8192];
		struct nlmsghdr h;
	} rb;

	memset(m.b, 0, m.len);
	put_tuple(&m, reply ? CTA_TUPLE_REPLY : CTA_TUPLE_ORIG, af, l, r, mapped);
	h->nlmsg_len = m.len;
	h->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	h->nlmsg_flags = NLM_F_REQUEST;
	h->nlmsg_seq = seq;
	g->nfgen_family = af;
	g->version = NFNETLINK_V0;
	if (sendto(fd, m.b, m.len, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)m.len)
		return -1;
	/* the kernel answers within sendto(): the reply is queued already */
	for (;;) {
		ssize_t got = recv(fd, rb.b, sizeof(rb.b), MSG_DONTWAIT);
		const struct nlattr *tb[CTA_MAX + 1];
		const struct nlmsghdr *x = &rb.h;
		uint32_t status = 0;

		if (got < 0)
			return -1;
		if (got < (ssize_t)NLMSG_HDRLEN || !NLMSG_OK(x, (size_t)got))
			return -1;
		if (x->nlmsg_seq != seq)
			continue;	/* an earlier query's late answer */
		if (x->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(x);

			return e->error == -ENOENT ? 0 : -1;
		}
		if (x->nlmsg_len < NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)))
			return -1;
		parse((const char *)NLMSG_DATA(x) + NLMSG_ALIGN(sizeof(struct nfgenmsg)),
		      x->nlmsg_len - NLMSG_HDRLEN - NLMSG_ALIGN(sizeof(struct nfgenmsg)), tb,
		      CTA_MAX);
		if (tb[CTA_STATUS] && PLEN(tb[CTA_STATUS]) == 4)
			status = ntohl(*(const uint32_t *)PAYLOAD(tb[CTA_STATUS]));
		out->dnat = (status & IPS_DST_NAT) &&
			    tuple_end(tb[CTA_TUPLE_ORIG], false, &out->orig) &&
			    tuple_end(tb[CTA_TUPLE_REPLY], true, &out->real);
		out->family = af == AF_INET ? TCP_AF_INET : TCP_AF_INET6;
		return 1;
	}
}

static bool v4mapped(const uint8_t *a)
{
	static const uint8_t pre[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, pre, 12);
}

enum tcp_nat_fail tcp_nat_lookup(struct tcp_nat *n, const struct tcp_close *e, int pid,
				 struct tcp_nat_res *out)
{
	enum tcp_nat_fail why = TCP_NAT_NO_NETNS;
	int64_t now = now_ns();
	struct tcp_nat_ns *s;
	bool mapped = false;
	int af = AF_INET, r = 0;

	memset(out, 0, sizeof(*out));
	sweep(n, now);
	if (!e->netns || !(s = ns_get(n, e->netns))) {
		n->failed[why]++;
		return why;
	}
	s->used_ns = now;
	if (s->fd < 0) {
		if (now < s->retry_ns) {
			n->failed[TCP_NAT_NO_NETNS]++;
			return TCP_NAT_NO_NETNS;
		}
		s->fd = open_in(e->netns, pid, &why);
		if (s->fd < 0) {
			s->retry_ns = now + RETRY_NS;
			n->failed[why]++;
			return why;
		}
	}
	if (e->family == TCP_AF_INET6) {
		mapped = v4mapped(e->local.addr) && v4mapped(e->remote.addr);
		af = mapped ? AF_INET : AF_INET6;
	}
	n->asked++;
	if (e->side != TCP_SIDE_SERVER)
		r = query(n, s->fd, af, mapped, false, &e->local, &e->remote, out);
	if (r == 0 && e->side != TCP_SIDE_CLIENT)
		r = query(n, s->fd, af, mapped, true, &e->local, &e->remote, out);
	if (r < 0) {
		n->failed[TCP_NAT_QUERY]++;
		return TCP_NAT_QUERY;
	}
	if (mapped && out->dnat) {	/* as the socket writes them: ::ffff:a.b.c.d */
		for (int i = 0; i < 2; i++) {
			struct tcp_end *x = i ? &out->real : &out->orig;

			memmove(x->addr + 12, x->addr, 4);
			memset(x->addr, 0, 10);
			x->addr[10] = x->addr[11] = 0xff;
		}
		out->family = TCP_AF_INET6;
	}
	n->dnat += out->dnat;
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
		if (n->ns[i].fd >= 0)
			close(n->ns[i].fd);
	free(n->ns);
	memset(n, 0, sizeof(*n));
}
