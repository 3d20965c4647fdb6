/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The attachments a module made at run time (core/attachments.h), kept by the core per
 * module instance and taken off together, newest first.
 */
#ifndef KSIGHT_ATTSET_H
#define KSIGHT_ATTSET_H

#include <stdarg.h>
#include <stdint.h>

struct bpf_link;
struct bpf_map;
struct bpf_program;
struct ks_ctx;
struct ks_inst;

enum ks_att_kind {
	KS_ATT_LINK,		/* a libbpf link (perf, uprobe, usdt, xdp, cgroup) */
	KS_ATT_FD,		/* a BPF link fd libbpf cannot wrap (tcx) */
	KS_ATT_PERF_ARRAY,	/* a counting perf event stored in a perf event array */
	KS_ATT_TC_LEGACY,	/* a clsact filter (core/legacy.h) */
};

/* A legacy clsact filter, and whether ksight made the qdisc it is on. */
struct ks_tc_filter {
	uint64_t netns;		/* inode of the network namespace */
	int ifindex;
	uint32_t parent;	/* TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS/EGRESS) */
	uint32_t handle;
	uint32_t prio;
	uint32_t prog_id;	/* the program it runs: nothing else matches */
	int qdisc_created;	/* the clsact qdisc did not exist before ksight */
};

struct ks_att {
	enum ks_att_kind kind;
	struct bpf_link *link;	/* KS_ATT_LINK */
	int fd;			/* KS_ATT_FD, KS_ATT_PERF_ARRAY: closed at removal */
	int map_fd;		/* KS_ATT_PERF_ARRAY: the array (not owned) ... */
	uint32_t key;		/* ... and the slot to empty */
	char tracefs[64];	/* KS_ATT_LINK: own tracefs event to delete after the link, ""
				 * for none ("uprobes/ksight_<pid>_<n>") */
	struct ks_tc_filter tc;	/* KS_ATT_TC_LEGACY */
};

struct ks_attset {
	struct ks_att *v;
	int n, cap;
};

/* Keep @a. Returns 0, or -ENOMEM after removing the attachment itself. */
int ks_attset_add(struct ks_attset *s, const struct ks_att *a);

/* Take off every attachment, newest first, and free the set's memory. Safe to repeat. */
void ks_attset_clear(struct ks_attset *s);

/* The module instance whose object holds @prog (or @map), or NULL. */
struct ks_inst *ks_ctx_prog_owner(struct ks_ctx *c, const struct bpf_program *prog);
struct ks_inst *ks_ctx_map_owner(struct ks_ctx *c, const struct bpf_map *map);

/* Store "<module>: <fmt...>" as @in's error (printed by the core) and return @err. */
int ks_att_fail(struct ks_inst *in, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
