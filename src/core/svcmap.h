/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The service dependency map (pure: tested without a kernel or a store).
 *
 * Fed one closed TCP session at a time as one end saw it (tcplife's record: the service
 * of the task that connected or accepted, both ends, bytes each way, duration, RTT, why
 * it closed), it builds nodes and edges client -> server:
 *
 * - The two ends of one connection on this machine (loopback, a veth pair into a network
 *   namespace) are two records whose ends mirror each other and that began within
 *   KS_SVCMAP_PAIR_NS of each other: they are paired and count once, seen "both".
 * - A server end's (address, port) is a listener of its service. A client end whose peer
 *   is such a listener, but whose server end is missing (not accepted before it closed,
 *   owner unknown), resolves to that service ("client", resolved); so does a server end
 *   whose owner is unknown, and an end opened before ksight (side unknown) takes its side
 *   from the listeners it matches.
 * - A cgroup that names a service (a unit "x.service", a container "docker:ID", ...: see
 *   core/service.h) names it for every session of its tasks: where the agent could not
 *   resolve a new cgroup at once (no file handles: a walk on its worker), it names a task
 *   by its executable until then, so a new service's first sessions come named by its
 *   program; they join their service here.
 * - What stays outside the machine is a remote node: "ADDR:PORT" for a server ("[V6]:PORT"),
 *   "ADDR" for a client (its port is ephemeral), with the DNS name its sessions' records
 *   gave its address (rdns: the agent's table of DNS answers), if any, beside it.
 *
 * An edge is (client node, server node, server port): connections, bytes each way
 * (client to server, server to client: the client's counts where it was seen, else the
 * server's), errors (refused, timed out, aborted, failed), resets (sent or received),
 * retransmitted segments, first and last seen (a session's start and close), connect
 * latency (the client's end: SYN sent to ESTABLISHED), smoothed RTT and duration p50/p99
 * where measured, and whether an interval of lost events
 * overlaps it (incomplete: its counts may be short).
 *
 * Fed also the successful execs (the exec module's record: the service of its task before
 * the exec, its own image's or its parent's, and after), it adds spawn edges parent ->
 * child (kind KS_EDGE_SPAWN, port 0): execs, first and last seen; none where the two are
 * the same service (after the cgroup renaming above, which execs take part in).
 *
 * Fed also the udp module's flow rows, it adds UDP edges client -> server (kind
 * KS_EDGE_UDP, the server's port): flows, datagrams and bytes each way, first and last
 * seen (the ends of the intervals the flow moved in). Which end is the server: see
 * ks_svcmap__add_udp() and docs/map.md ("UDP edges").
 *
 * Fed also the req module's rows (requests a service made to a server endpoint over one
 * interval, or answered to a client whose end was not counted here), it gives the TCP edge
 * they ran on its requests, errors and request latency p50/p99: for a client row the edge
 * whose client is the row's service and whose server is what the row's (raddr, rport)
 * resolves to as a client end's peer does (through a DNAT the ends knew; a listener's
 * service, else the remote node); for a server row the edge from the remote node raddr to
 * the row's service on its lport. A row with no such edge (its connections not closed yet,
 * tcplife off) is counted in req_unjoined, on no edge.
 */
#ifndef KSIGHT_SVCMAP_H
#define KSIGHT_SVCMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KS_SVCMAP_ADDR 48		/* an address as text, NUL included */
#define KS_SVCMAP_NAME 256		/* a node's name, NUL included */
#define KS_SVCMAP_PAIR_NS 2000000000LL	/* the two ends of one connection began within */

enum ks_svcmap_side { KS_SIDE_UNKNOWN, KS_SIDE_CLIENT, KS_SIDE_SERVER };

/* How an edge is known: seen at the client, the server, or both (a mask). */
#define KS_SEEN_CLIENT 0x1
#define KS_SEEN_SERVER 0x2

/* What a session's close said. */
enum ks_svcmap_end { KS_END_OK, KS_END_ERROR, KS_END_RESET };

/* A latency histogram's bucket of a weighted end (ksight map --prometheus): @n sessions,
 * each standing for the bucket's bound @le_ns (the highest value it holds). */
struct ks_svcmap_bucket {
	uint64_t le_ns, n;
};

/* One end of one closed session. */
struct ks_svcmap_conn {
	int64_t start_ns, end_ns;	/* ns since the epoch; start 0: unknown */
	const char *service;	/* the owner's service; NULL: unknown */
	uint64_t cgroup;	/* the owner's cgroup v2 id; 0: unknown */
	enum ks_svcmap_side side;
	const char *laddr, *raddr;	/* text, as tcplife prints them */
	uint16_t lport, rport;
	uint64_t tx, rx;	/* this end's bytes sent and received */
	uint64_t srtt_ns;	/* 0: not measured */
	uint64_t connect_ns;	/* with has_connect: created to ESTABLISHED at this end */
	bool has_connect;
	uint64_t retrans;	/* segments this end retransmitted */
	enum ks_svcmap_end end;
	uint64_t count;		/* sessions this end stands for: 0 or 1, one; more, the
				 * sums of a metric (ksight map --prometheus): tx, rx and
				 * retrans are theirs; paired, the client's count is the
				 * edge's */
	/* the sums' errors and resets (ksight map --prometheus; a record's own close is
	 * @end): of two paired ends, the larger (both ends see one reset) */
	uint64_t errors, resets;
	/* the sums' connect latencies: @nconnect_hist buckets (not cumulative; copied by
	 * ks_svcmap__add), a client end's; NULL: none (a record's own is connect_ns) */
	const struct ks_svcmap_bucket *connect_hist;
	size_t nconnect_hist;
	/* ... and likewise their smoothed RTTs and durations (either end's: the edge takes
	 * the client's RTT where it has one, else the server's, and the duration of the end
	 * it counts by); NULL: none (a record's own are srtt_ns and start_ns) */
	const struct ks_svcmap_bucket *rtt_hist, *dur_hist;
	size_t nrtt_hist, ndur_hist;
	/* DNAT (conntrack, tcplife's orig_daddr): the destination the client asked for, when
	 * DNAT sent the connection to the server's own address (a client end's raddr:rport
	 * are then the real server's, a server end's laddr:lport are anyway); NULL: none */
	const char *dnat_addr;
	uint16_t dnat_port;
	/* SNAT (conntrack, tcplife's real_saddr:real_sport): the source SNAT gave the
	 * client, when SNAT was done in this end's own namespace. A server end's raddr:rport
	 * are then the real client's (orig_saddr:orig_sport: it pairs with the client's end
	 * and names the real client), a client end's laddr:lport are anyway (a server end
	 * that did not know it pairs with it through this). NULL: none */
	const char *snat_addr;
	uint16_t snat_port;
	const char *rdns;	/* the DNS name of raddr the agent knew (an answer its
				 * processes received), NULL: none */
};

/* One successful exec: its task's service before (@from) and after (@to), each with the
 * cgroup v2 id it was named in (0: unknown); or, with @count, that many (the fleet's sums
 * from Prometheus). */
struct ks_svcmap_exec {
	int64_t ts_ns;		/* ns since the epoch */
	const char *from, *to;	/* NULL: unknown (no edge) */
	uint64_t from_cg, to_cg;
	uint64_t count;		/* the execs it stands for; 0: one */
};

/*
 * One UDP flow's change over one interval, as one end saw it (the udp module's udp_flow
 * record): its process's service, its local port, the remote end, datagrams and bytes
 * each way, whether its socket bound its port explicitly and whether its first datagram
 * was received. Rows of one end (service, local port, remote end) over the window are
 * summed; the two ends of a flow on this machine (mirrored ports, seen within
 * KS_SVCMAP_PAIR_NS) are paired and count once.
 */
struct ks_svcmap_udp {
	int64_t ts_ns;		/* the interval's end, ns since the epoch */
	const char *service;	/* NULL: unknown */
	uint64_t cgroup;
	const char *raddr;	/* NULL or "-": the remote end is not known (no edge) */
	uint16_t lport, rport;
	bool bound, rx_first;
	uint64_t tx_dgrams, tx_bytes, rx_dgrams, rx_bytes;
	const char *rdns;	/* the DNS name of raddr the agent knew; NULL: none */
};

/* A UDP flow given with its ends told apart (ks_svcmap__add_udp_pair; private). */
struct ks_svcmap_upair {
	struct ks_svcmap_udp c, s;
	bool has_c, has_s;
};

/*
 * The requests one client service made to one server endpoint over one interval, or one
 * server service answered on one port to one client address whose end was not counted
 * here (@server), as the req module counted them (the agent's req_row record): how many,
 * how many failed, and their latencies as histogram buckets (not cumulative; copied by
 * ks_svcmap__add_req).
 */
struct ks_svcmap_req {
	int64_t ts_ns;		/* the interval's end, ns since the epoch */
	const char *service;	/* the row's process's; NULL: unknown (on no edge) */
	uint64_t cgroup;	/* its cgroup v2 id; 0: unknown */
	bool server;		/* a server row: raddr is the client's, lport the port */
	const char *raddr;	/* the other end's address, as tcplife prints it */
	uint16_t rport;		/* a client row's server port */
	uint16_t lport;		/* a server row's own port */
	uint64_t requests, errors;
	const struct ks_svcmap_bucket *hist;
	size_t nhist;
};

enum ks_svcmap_kind { KS_NODE_SERVICE, KS_NODE_REMOTE };

/* What an interval lost, so which edges it marks incomplete: TCP sessions (and the
 * connection table's entries), exec records (spawn edges), datagrams' counts (UDP edges),
 * request rows (TCP edges: their requests may be short). */
enum ks_svcmap_loss { KS_LOSS_TCP, KS_LOSS_EXEC, KS_LOSS_UDP, KS_LOSS_REQ, KS_LOSS_KINDS };

/* What an edge stands for: TCP connections, execs (a spawn: parent -> child), or UDP
 * flows. */
enum ks_svcmap_edge_kind { KS_EDGE_TCP, KS_EDGE_SPAWN, KS_EDGE_UDP };

struct ks_svcmap_node {
	char *name;
	enum ks_svcmap_kind kind;
	uint64_t conns_out, conns_in;	/* as client, as server */
	uint64_t bytes_out, bytes_in;	/* sent, received (over all its edges) */
	uint64_t spawns_out, spawns_in;	/* execs into another service, from another */
	int64_t first_ns, last_ns;
	/* a remote node: the DNS name of its address, from its latest session or flow row
	 * that carried one (NULL: none); its name stays ADDR:PORT */
	const char *dns;
	int64_t dns_ns;		/* private: that session's or row's end */
};

struct ks_svcmap_edge {
	const char *client, *server;	/* node names (owned by the nodes); spawn: parent, child */
	enum ks_svcmap_edge_kind kind;
	uint16_t port;		/* the server's; spawn: 0 */
	uint64_t conns;
	uint64_t execs;		/* spawn: execs */
	uint64_t flows;		/* udp: flows (client ends: a client port to the server's) */
	uint64_t dgrams_c2s, dgrams_s2c;	/* udp: datagrams each way */
	uint64_t bytes_c2s, bytes_s2c;
	uint64_t errors, resets, retrans;
	int64_t first_ns, last_ns;
	uint8_t seen;		/* KS_SEEN_* */
	bool server_remote;	/* the server is a remote node (its name has the port) */
	bool resolved;		/* a server found through its listener, not its own record */
	bool incomplete;	/* an interval with lost events overlaps it */
	uint64_t dnat_conns;	/* connections an end knew were DNAT'd to this server */
	const char *dnat_addr;	/* ... the address the first of them asked for (NULL: none) */
	uint16_t dnat_port;
	uint64_t snat_conns;	/* connections an end knew had their client SNAT'd */
	const char *snat_addr;	/* ... the source address the first of them was given (its
				 * port is ephemeral); NULL: none */
	uint64_t rtt_p50, rtt_p99;	/* ns; 0: not measured */
	uint64_t conn_p50, conn_p99;	/* connect latency, ns; valid when nconn; from a
					 * weighted end's histogram, a bucket's bound */
	uint64_t dur_p50, dur_p99;	/* ns; 0: not known */
	/* the DNS names of its ends' nodes (a remote node's dns, set by build so that a list
	 * of edges can show them without the nodes); NULL: a service, or no name */
	const char *client_dns, *server_dns;
	/* tcp: the req module's requests on it (0: req off, or none seen), those that failed,
	 * and their latency p50/p99 in ns (a bucket's bound; valid when requests) */
	uint64_t requests, request_errors;
	uint64_t req_p50, req_p99;
	/* private */
	size_t nconn;		/* connect latencies measured */
	uint64_t *rtt, *dur, *conn;
	size_t nrtt, ndur, cap_rtt, cap_dur, cap_conn;
	struct ks_svcmap_bucket *wconn;	/* weighted ends' connect latency buckets */
	size_t nwconn, cap_wconn;
	struct ks_svcmap_bucket *wrtt, *wdur;	/* ... their RTT and duration buckets */
	size_t nwrtt, cap_wrtt, nwdur, cap_wdur;
	struct ks_svcmap_bucket *wreq;	/* its requests' latency buckets */
	size_t nwreq, cap_wreq;
};

struct ks_svcmap {
	struct ks_svcmap_node *nodes;	/* after build: sorted by name */
	struct ks_svcmap_edge *edges;	/* after build: most connections first */
	size_t nnodes, nedges;
	uint64_t conns_in;	/* session ends given */
	uint64_t unplaced;	/* ends whose side nothing told (opened before, no listener) */
	uint64_t execs_in;	/* execs given */
	uint64_t udp_in;	/* udp flow rows given */
	uint64_t udp_unplaced;	/* of them, rows whose remote end was not known */
	uint64_t req_in;	/* req rows given */
	uint64_t req_unjoined;	/* of them, rows that found no TCP edge */
	/* private */
	struct ks_svcmap_conn *in;	/* its strings interned, its buckets in hists: */
	struct ks_svcmap_bucket **hists;
	size_t nhists, cap_hists;
	char **strs;		/* each text once (services and addresses repeat) */
	size_t nin, cap_in, cap_nodes, cap_edges, nstrs, cap_strs;
	struct ks_svcmap_losses {
		int64_t (*span)[2];	/* [start, end] ns of each interval that lost */
		size_t n, cap;
	} loss[KS_LOSS_KINDS];
	struct ks_svcmap_exec *ex;	/* strings interned */
	size_t nex, cap_ex;
	struct ks_svcmap_udp *ud;	/* udp flow rows, strings interned */
	size_t nud, cap_ud;
	struct ks_svcmap_upair *up;	/* udp flows told apart, strings interned */
	size_t nup, cap_up;
	struct ks_svcmap_req *rq;	/* req rows, strings interned, buckets in hists */
	size_t nrq, cap_rq;
	bool built;
};

/* An empty map; ks_svcmap__free() frees it. Returns 0 or -ENOMEM. */
int ks_svcmap__init(struct ks_svcmap *m);
void ks_svcmap__free(struct ks_svcmap *m);

/* One session end (its strings are copied). Returns 0, -ENOMEM, or -EINVAL once built. */
int ks_svcmap__add(struct ks_svcmap *m, const struct ks_svcmap_conn *c);

/* An interval [@start_ns, @end_ns] in which @what was lost: it marks the edges it
 * overlaps of the kind that loss thins. Returns 0 or -ENOMEM. */
int ks_svcmap__add_loss(struct ks_svcmap *m, enum ks_svcmap_loss what, int64_t start_ns,
			int64_t end_ns);

/* One exec (its strings are copied). Returns 0, -ENOMEM, or -EINVAL once built. */
int ks_svcmap__add_exec(struct ks_svcmap *m, const struct ks_svcmap_exec *x);

/* One UDP flow row (its strings are copied). Returns 0, -ENOMEM, or -EINVAL once built. */
int ks_svcmap__add_udp(struct ks_svcmap *m, const struct ks_svcmap_udp *u);

/*
 * One UDP flow whose ends are already told apart (ksight map --prometheus: the sums of a
 * client end on one host and of the server end on another that names it crosswise): @c
 * its client end (raddr:rport: the server's), @s its server end (lport: the server's
 * port; raddr: the client's address); either may be NULL, not both. Not paired with any
 * other row; one flow of its edge (client to server, at @s's lport, else @c's rport), its
 * datagrams and bytes the client's where given, else the server's. Strings are copied.
 * Returns 0, -ENOMEM, or -EINVAL (built, or both NULL).
 */
int ks_svcmap__add_udp_pair(struct ks_svcmap *m, const struct ks_svcmap_udp *c,
			    const struct ks_svcmap_udp *s);

/* One req client row (its strings and buckets are copied). Returns 0, -ENOMEM, or -EINVAL
 * once built. */
int ks_svcmap__add_req(struct ks_svcmap *m, const struct ks_svcmap_req *r);

/* "tcp", "spawn", "udp". */
const char *ks_svcmap_edge_kind_name(enum ks_svcmap_edge_kind k);

/* Pair the ends, resolve the listeners, make the nodes and edges. Once. 0 or -ENOMEM. */
int ks_svcmap__build(struct ks_svcmap *m);

/* The node named @name, or NULL (after build). */
const struct ks_svcmap_node *ks_svcmap__node(const struct ks_svcmap *m, const char *name);

/* "client", "server", "both" for a KS_SEEN_* mask. */
const char *ks_svcmap_seen_name(uint8_t seen);

/* The diff of two maps (ksight map --diff): before over @secs_a, after over @secs_b. */
enum ks_svcmap_change { KS_CHG_APPEARED, KS_CHG_DISAPPEARED, KS_CHG_CHANGED };

#define KS_SVCMAP_FACTOR 3.0	/* a rate or a p99 this many times the other is a change */

struct ks_svcmap_diff {
	enum ks_svcmap_change what;
	const struct ks_svcmap_edge *a, *b;	/* before, after (NULL where absent) */
	double rate_a, rate_b;	/* connections (spawn: execs, udp: datagrams) per second */
	bool rate_changed, rtt_changed, dur_changed, conn_changed;
};

/*
 * The differences between @a and @b (built), appeared and disappeared edges and those
 * whose connection rate (spawn: exec rate), or connect latency, RTT or duration p99, grew
 * or shrank by KS_SVCMAP_FACTOR or more, into *@out (malloc'd, freed by the caller),
 * sorted: appeared, disappeared, changed (TCP edges before spawn edges in each). Returns
 * how many, or -ENOMEM.
 */
long ks_svcmap_diff(const struct ks_svcmap *a, double secs_a, const struct ks_svcmap *b,
		    double secs_b, struct ks_svcmap_diff **out);

/* "appeared", "disappeared", "changed". */
const char *ks_svcmap_change_name(enum ks_svcmap_change c);

#endif
