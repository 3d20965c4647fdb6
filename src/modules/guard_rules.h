/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guard's rules: loaded from YAML (the defaults built in, then --rules files), checked
 * whole before anything starts, matched against the kernel's events in user space. Also
 * the kernel filter they imply: the kinds wanted and the watched-path keys (guard.h).
 * No BPF here: the unit tests use it as it is.
 */
#ifndef KSIGHT_GUARD_RULES_H
#define KSIGHT_GUARD_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guard.h"

struct guard_pam_text;

#define GUARD_PATS_MAX 32
#define GUARD_UIDS_MAX 16

enum guard_sev { GUARD_SEV_LOW, GUARD_SEV_MEDIUM, GUARD_SEV_HIGH, GUARD_SEV_CRITICAL };

/* a rule's `action:` (deny: guard_deny.c; enforced with --enforce) */
enum guard_action { GUARD_A_ALERT, GUARD_A_DENY };

/* ks_rule result */
enum guard_result { GUARD_R_ANY, GUARD_R_OK, GUARD_R_FAILED };

struct guard_pats {
	char *v[GUARD_PATS_MAX];
	int n;			/* 0: no condition */
};

/* An address or network of a rule's `rhost` (an exact address: all its bits) */
struct guard_net {
	uint8_t addr[16];	/* IPv4 in the first 4 bytes */
	uint8_t bits;		/* prefix length */
	uint8_t v6;
};

struct guard_nets {
	struct guard_net v[GUARD_PATS_MAX];
	int n;
};

/* Conditions; all given ones must hold. */
struct guard_cond {
	struct guard_pats path;		/* globs on path (or path2) */
	struct guard_pats comm, exe, parent;	/* globs on comm, exe, the parent's comm */
	uint32_t uids[GUARD_UIDS_MAX];
	int nuid;
	uint32_t flags;		/* GUARD_F_* all required (exec: memfd, nolink, setuid, setgid) */
	struct guard_pats user, pam_service, ruser;	/* auth, session: globs on the
							 * login's names (an unknown name
							 * matches none) */
	/* auth, session: the remote host is one of these addresses or in one of these
	 * networks (compared as addresses: an IPv4-mapped IPv6 one as IPv4), or matches one
	 * of these hostname globs (case-insensitive); any of either kind will do */
	struct guard_nets rhost_nets;
	struct guard_pats rhost;
};

struct guard_rule {
	char *name;
	char *message;		/* template: {comm} {pid} {uid} {path} ... */
	char *origin;		/* "FILE:LINE" where it was defined */
	uint32_t kinds;		/* 1 << enum guard_kind; every kind when none is given */
	int sev;		/* enum guard_sev */
	int result;		/* enum guard_result */
	bool enabled;
	bool has_not;
	int action;		/* enum guard_action */
	struct guard_cond when;
	struct guard_cond not;	/* none of these may hold (each given one vetoes) */
};

struct guard_rules {
	struct guard_rule *r;
	size_t n, cap;
};

/* An event as the rules see it (decoded from struct guard_event plus identity). */
struct guard_view {
	uint32_t kind, uid, flags;
	long ret;
	const char *path, *path2;	/* "" when absent */
	const char *comm, *exe, *parent;	/* "" when unknown */
	const char *peer;	/* exec, dup: the socket's peer "ADDR:PORT" (NULL, "": none) */
	uint32_t target;	/* memwrite: the target pid; exec: the listening ancestor */
	const char *how;	/* memwrite: "open PATH", "pwrite PATH", "process_vm_writev" */
	const struct guard_pam_text *pam;	/* auth, session: the login's names */
};

/*
 * Add the rules of YAML @text (named @file in messages) to @rs: a rule named like an
 * existing one replaces it; one with only a name and `enabled: false` disables it.
 * Returns 0, or -1 with "FILE:LINE:COLUMN: reason" in @err (nothing of @text kept).
 */
int guard_rules_load(struct guard_rules *rs, const char *text, size_t len, const char *file,
		     char *err, size_t errlen);
/* guard_rules_load() of the file at @path. */
int guard_rules_load_file(struct guard_rules *rs, const char *path, char *err, size_t errlen);
/* The built-in rules (guard_defaults.c). Returns 0, or -1 with the reason in @err. */
int guard_rules_defaults(struct guard_rules *rs, char *err, size_t errlen);
void guard_rules_free(struct guard_rules *rs);

/* Whether enabled rule @r matches @v. */
bool guard_rule_match(const struct guard_rule *r, const struct guard_view *v);

/* What the kernel must let through for the enabled rules of @rs. */
/* the exec flags the kernel tests only when a rule asks (guard_xflags) */
#define GUARD_XFLAGS (GUARD_F_SOCKIO | GUARD_F_UNIXIO | GUARD_F_NETPARENT)

struct guard_filter {
	uint32_t kinds;		/* 1 << enum guard_kind */
	uint32_t xflags;	/* GUARD_XFLAGS some exec rule asks for */
	uint32_t all;		/* GUARD_C_* with no path filter */
	uint64_t keys[GUARD_KEYS_MAX];
	uint32_t classes[GUARD_KEYS_MAX];
	size_t nkeys;
};
/* Returns 0, or -1 (too many keys) with the reason in @err. */
int guard_rules_filter(const struct guard_rules *rs, struct guard_filter *f, char *err,
		       size_t errlen);

/* FNV-1a 64 over @s[0..n), from @basis (GUARD_FNV_PATH or GUARD_FNV_LEAF): as the kernel. */
uint64_t guard_fnv(uint64_t basis, const char *s, size_t n);

const char *guard_kind_name(uint32_t kind);
const char *guard_sev_name(int sev);
/* How much of io_uring the kernel side sees (its tracepoints' shapes). */
enum guard_uring_cov {
	GUARD_URING_NONE,	/* no io_uring tracepoints (or not attached) */
	GUARD_URING_FULL,	/* 6.1+: completions with their request */
	GUARD_URING_510,	/* 5.10: submissions only (no result, no open flags) */
};
/* What the events of @kinds are seen through, and what is not seen; @uring: enum
 * guard_uring_cov. */
void guard_coverage(uint32_t kinds, int uring, char *sees, size_t slen, char *blind,
		    size_t blen);

/* Whether template @s names only known fields. Returns 0, or -1 with the reason in @err. */
int guard_message_check(const char *s, char *err, size_t len);

/* Expand @r's message for @v (of process @pid) into @out. Returns its length. */
size_t guard_message(const struct guard_rule *r, const struct guard_view *v, uint32_t pid,
		     char *out, size_t len);

/* --list-rules: @rules as a table, or JSON lines, with what each sees and not on this
 * kernel (its io_uring tracepoints read from its BTF). Nothing loaded, root not needed. */
void guard_list_rules(const struct guard_rules *rules, bool json);

#endif
