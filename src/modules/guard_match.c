// SPDX-License-Identifier: GPL-2.0
/* guard's rules at work: matching an event, the kernel filter they imply, messages. */
#include <arpa/inet.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "modules/guard_net.h"
#include "modules/guard_rules.h"

static const char *const kind_names[GUARD_K_N] = {
	"write", "read", "rename", "unlink", "chmod", "chown", "truncate", "exec", "ptrace",
	"module", "setid", "capset", "bpf", "perf_event_open", "mount", "unshare", "setns",
	"dup", "memwrite", "auth", "session", "io_uring", "link", "symlink", "mkdir", "xattr",
};

const char *guard_kind_name(uint32_t kind)
{
	return kind < GUARD_K_N ? kind_names[kind] : "?";
}

const char *guard_sev_name(int sev)
{
	static const char *const n[] = { "low", "medium", "high", "critical" };

	return sev >= 0 && sev < 4 ? n[sev] : "?";
}

uint64_t guard_fnv(uint64_t basis, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		basis = (basis ^ (uint8_t)s[i]) * GUARD_FNV_PRIME;
	return basis;
}

static bool any_glob(const struct guard_pats *ps, const char *s)
{
	for (int i = 0; i < ps->n; i++)
		if (!fnmatch(ps->v[i], s, 0))
			return true;
	return false;
}

static bool path_glob(const struct guard_pats *ps, const struct guard_view *v)
{
	return (*v->path && any_glob(ps, v->path)) || (*v->path2 && any_glob(ps, v->path2));
}

static bool any_uid(const struct guard_cond *c, uint32_t uid)
{
	for (int i = 0; i < c->nuid; i++)
		if (c->uids[i] == uid)
			return true;
	return false;
}

/* A login's name against globs: an unknown name (not a login, not seen) matches none. */
static bool pam_glob(const struct guard_pats *ps, const char *name)
{
	return name && any_glob(ps, name);
}

/* Whether @a (4 or 16 bytes, @v6) is in network @n. */
static bool in_net(const struct guard_net *n, const uint8_t *a, bool v6)
{
	int full = n->bits / 8, rest = n->bits % 8;

	if (n->v6 != v6 || memcmp(n->addr, a, full))
		return false;
	return !rest || !((n->addr[full] ^ a[full]) & (0xff00 >> rest));
}

/* The remote host @rhost against @c's addresses, networks and host name globs: as an
 * address when it is one (a link-local one's %scope aside; IPv4-mapped IPv6 as IPv4). */
static bool rhost_match(const struct guard_cond *c, const char *rhost)
{
	uint8_t a[16];
	char buf[64];
	bool v6 = false, addr = false;

	if (!rhost)
		return false;
	if (c->rhost_nets.n) {
		snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(rhost, "%"), rhost);
		if (inet_pton(AF_INET, buf, a) == 1) {
			addr = true;
		} else if (inet_pton(AF_INET6, buf, a) == 1) {
			static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

			addr = true;
			v6 = memcmp(a, mapped, sizeof(mapped)) != 0;
			if (!v6)
				memmove(a, a + 12, 4);
		}
		for (int i = 0; addr && i < c->rhost_nets.n; i++)
			if (in_net(&c->rhost_nets.v[i], a, v6))
				return true;
	}
	for (int i = 0; i < c->rhost.n; i++)
		if (!fnmatch(c->rhost.v[i], rhost, FNM_CASEFOLD))
			return true;
	return false;
}

static bool pam_conds(const struct guard_cond *c, const struct guard_view *v, bool all)
{
	const char *user = v->pam ? v->pam->user : NULL;
	const char *svc = v->pam ? v->pam->service : NULL;
	const char *ruser = v->pam ? v->pam->ruser : NULL;
	const char *rhost = v->pam ? v->pam->rhost : NULL;
	bool hosts = c->rhost_nets.n || c->rhost.n;

	if (all)
		return (!c->user.n || pam_glob(&c->user, user)) &&
		       (!c->pam_service.n || pam_glob(&c->pam_service, svc)) &&
		       (!c->ruser.n || pam_glob(&c->ruser, ruser)) &&
		       (!hosts || rhost_match(c, rhost));
	return (c->user.n && pam_glob(&c->user, user)) ||
	       (c->pam_service.n && pam_glob(&c->pam_service, svc)) ||
	       (c->ruser.n && pam_glob(&c->ruser, ruser)) || (hosts && rhost_match(c, rhost));
}

bool guard_rule_match(const struct guard_rule *r, const struct guard_view *v)
{
	const struct guard_cond *w = &r->when, *n = &r->not;

	if (!r->enabled || (r->kinds && !(r->kinds & (1U << v->kind))))
		return false;
	if ((r->result == GUARD_R_OK && v->ret < 0) || (r->result == GUARD_R_FAILED && v->ret >= 0))
		return false;
	if ((w->path.n && !path_glob(&w->path, v)) || (w->comm.n && !any_glob(&w->comm, v->comm)) ||
	    (w->exe.n && !any_glob(&w->exe, v->exe)) ||
	    (w->parent.n && !any_glob(&w->parent, v->parent)) ||
	    (w->nuid && !any_uid(w, v->uid)) || (v->flags & w->flags) != w->flags ||
	    !pam_conds(w, v, true))
		return false;
	if (!r->has_not)
		return true;
	return !((n->path.n && path_glob(&n->path, v)) || (n->comm.n && any_glob(&n->comm, v->comm)) ||
		 (n->exe.n && any_glob(&n->exe, v->exe)) ||
		 (n->parent.n && any_glob(&n->parent, v->parent)) || (n->nuid && any_uid(n, v->uid)) ||
		 (n->flags && (v->flags & n->flags) == n->flags) || pam_conds(n, v, false));
}

#define CHANGE_KINDS                                                                     \
	((1U << GUARD_K_WRITE) | (1U << GUARD_K_RENAME) | (1U << GUARD_K_UNLINK) |       \
	 (1U << GUARD_K_CHMOD) | (1U << GUARD_K_CHOWN) | (1U << GUARD_K_TRUNCATE) |       \
	 (1U << GUARD_K_LINK) | (1U << GUARD_K_SYMLINK) | (1U << GUARD_K_MKDIR) |         \
	 (1U << GUARD_K_XATTR))

static int add_key(struct guard_filter *f, uint64_t key, uint32_t class, char *err, size_t len)
{
	for (size_t i = 0; i < f->nkeys; i++) {
		if (f->keys[i] == key) {
			f->classes[i] |= class;
			return 0;
		}
	}
	if (f->nkeys >= GUARD_KEYS_MAX) {
		snprintf(err, len, "more than %d watched paths", GUARD_KEYS_MAX);
		return -1;
	}
	f->keys[f->nkeys] = key;
	f->classes[f->nkeys++] = class;
	return 0;
}

/* The keys of glob @g for @class (see guard.h): the whole path when it has no wildcard,
 * its last component when only that is literal, else its literal directory prefix. */
static int glob_keys(struct guard_filter *f, const struct guard_rule *r, const char *g,
		     uint32_t class, char *err, size_t len)
{
	size_t n = strlen(g), wild = strcspn(g, "*?[\\");
	const char *leaf;

	while (n > 1 && g[n - 1] == '/')
		n--;
	leaf = g + n;
	while (leaf > g && leaf[-1] != '/')
		leaf--;
	if ((class & GUARD_C_READ) && (strcspn(leaf, "*?[\\") < (size_t)(g + n - leaf) ||
				       g + n - leaf >= 64)) {
		snprintf(err, len, "rule '%s' (%s): a read rule's paths must end in a literal "
			 "file name shorter than 64 bytes, not '%s'", r->name, r->origin, g);
		return -1;
	}
	if (wild >= n) {
		if (add_key(f, guard_fnv(GUARD_FNV_PATH, g, n), class, err, len))
			return -1;
		/* read-only opens are first told apart by their last component */
		if (class & GUARD_C_READ)
			return add_key(f, guard_fnv(GUARD_FNV_LEAF, leaf, g + n - leaf),
				       GUARD_C_READ, err, len);
		return 0;
	}
	if (strcspn(leaf, "*?[\\") >= (size_t)(g + n - leaf))
		return add_key(f, guard_fnv(GUARD_FNV_LEAF, leaf, g + n - leaf), class, err, len);
	while (wild > 0 && g[wild - 1] != '/')
		wild--;
	if (wild <= 1) {
		f->all |= class;
		return 0;
	}
	return add_key(f, guard_fnv(GUARD_FNV_PATH, g, wild - 1), class, err, len);
}

int guard_rules_filter(const struct guard_rules *rs, struct guard_filter *f, char *err,
		       size_t errlen)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < rs->n; i++) {
		const struct guard_rule *r = &rs->r[i];
		uint32_t kinds = r->kinds ? r->kinds : (1U << GUARD_K_N) - 1, class = 0;

		if (!r->enabled)
			continue;
		f->kinds |= kinds;
		if (kinds & CHANGE_KINDS)
			class |= GUARD_C_CHANGE;
		if (kinds & (1U << GUARD_K_READ))
			class |= GUARD_C_READ;
		/* flagged execs (no name, setuid) always come up */
		if ((kinds & (1U << GUARD_K_EXEC)) && !(r->when.flags & GUARD_F_EXEC_UP))
			class |= GUARD_C_EXEC;
		/* the exec tests the kernel makes only for the rules that ask */
		if (kinds & (1U << GUARD_K_EXEC))
			f->xflags |= r->when.flags & GUARD_XFLAGS;
		if (!class)
			continue;
		if (!r->when.path.n) {
			if (class & GUARD_C_READ) {
				snprintf(err, errlen, "rule '%s' (%s): a read rule needs 'path' "
					 "(every read would be sent up)", r->name, r->origin);
				return -1;
			}
			f->all |= class;
			continue;
		}
		for (int j = 0; j < r->when.path.n; j++)
			if (glob_keys(f, r, r->when.path.v[j], class, err, errlen))
				return -1;
	}
	return 0;
}

static const char *const fields[] = { "rule", "severity", "event", "comm", "pid", "uid",
				      "path", "path2", "exe", "parent", "ret", "peer", "target",
				      "how", "user", "rhost", "pam_service", "ruser", "login",
				      NULL };

int guard_message_check(const char *s, char *err, size_t len)
{
	for (const char *p = strchr(s, '{'); p; p = strchr(p + 1, '{')) {
		const char *e = strchr(p, '}');
		int i;

		if (!e) {
			snprintf(err, len, "'{' is not closed in the message");
			return -1;
		}
		for (i = 0; fields[i]; i++)
			if ((size_t)(e - p - 1) == strlen(fields[i]) &&
			    !strncmp(p + 1, fields[i], e - p - 1))
				break;
		if (!fields[i]) {
			snprintf(err, len, "unknown field {%.*s} in the message (rule, severity, "
				 "event, comm, pid, uid, path, path2, exe, parent, ret, peer, target, "
				 "how, user, rhost, pam_service, ruser, login)",
				 (int)(e - p - 1), p + 1);
			return -1;
		}
	}
	return 0;
}

/* A login's name @which (0 user, 1 rhost, 2 service, 3 ruser), "?" when unknown. */
static const char *pam_or(const struct guard_view *v, int which)
{
	const char *s = NULL;

	if (v->pam)
		s = which == 0 ? v->pam->user : which == 1 ? v->pam->rhost :
		    which == 2 ? v->pam->service : v->pam->ruser;
	return s ? s : "?";
}

/* "user NAME requested by RUSER via SERVICE from RHOST" ("?" for an unknown user or
 * service, no "requested by" part without a requesting user, no "from" part without a
 * remote host) */
static const char *login_text(const struct guard_view *v, char *buf, size_t len)
{
	const char *r = v->pam ? v->pam->rhost : NULL, *ru = v->pam ? v->pam->ruser : NULL;

	snprintf(buf, len, "user %s%s%s via %s%s%s", pam_or(v, 0), ru ? " requested by " : "",
		 ru ? ru : "", pam_or(v, 2), r ? " from " : "", r ? r : "");
	return buf;
}

size_t guard_message(const struct guard_rule *r, const struct guard_view *v, uint32_t pid,
		     char *out, size_t len)
{
	size_t o = 0;

	if (!len)
		return 0;
	for (const char *p = r->message; *p && o + 1 < len; p++) {
		char num[24], buf[GUARD_PATH_MAX + 8];
		const char *val = NULL;
		const char *e;

		if (*p != '{' || !(e = strchr(p, '}'))) {
			out[o++] = *p;
			continue;
		}
#define IS(n) ((size_t)(e - p - 1) == strlen(n) && !strncmp(p + 1, n, e - p - 1))
		if (IS("rule"))
			val = r->name;
		else if (IS("severity"))
			val = guard_sev_name(r->sev);
		else if (IS("event"))
			val = guard_kind_name(v->kind);
		else if (IS("comm"))
			val = v->comm;
		else if (IS("path"))
			val = v->path;
		else if (IS("path2"))	/* a rename's, link's new name, after an arrow */
			val = *v->path2 ? (snprintf(buf, sizeof(buf), " -> %s", v->path2), buf) : "";
		else if (IS("exe"))
			val = v->exe;
		else if (IS("parent"))
			val = v->parent;
		else if (IS("pid"))
			snprintf(num, sizeof(num), "%" PRIu32, pid), val = num;
		else if (IS("uid"))
			snprintf(num, sizeof(num), "%" PRIu32, v->uid), val = num;
		else if (IS("ret"))
			snprintf(num, sizeof(num), "%ld", v->ret), val = num;
		else if (IS("peer"))
			val = v->peer && *v->peer ? v->peer : "?";
		else if (IS("how"))
			val = v->how ? v->how : "";
		else if (IS("user"))
			val = pam_or(v, 0);
		else if (IS("rhost"))
			val = pam_or(v, 1);
		else if (IS("pam_service"))
			val = pam_or(v, 2);
		else if (IS("ruser"))
			val = pam_or(v, 3);
		else if (IS("login"))
			val = login_text(v, buf, sizeof(buf));
		else if (IS("target"))
			snprintf(num, sizeof(num), "%" PRIu32, v->target), val = num;
#undef IS
		if (!val) {
			out[o++] = *p;
			continue;
		}
		o += snprintf(out + o, len - o, "%s", val);
		if (o >= len)
			o = len - 1;
		p = e;
	}
	out[o] = 0;
	return o;
}

struct guard_cov {
	uint32_t kinds;
	const char *sees, *blind;
};

static const struct guard_cov covs[] = {
	{ CHANGE_KINDS | (1U << GUARD_K_READ),
	  "syscalls open/openat/openat2/creat, rename/renameat/renameat2, unlink/unlinkat/rmdir, "
	  "chmod/fchmod/fchmodat, chown/fchown/lchown/fchownat, truncate/ftruncate, "
	  "link/linkat, symlink/symlinkat (either name), mkdir/mkdirat, "
	  "setxattr/lsetxattr/fsetxattr, removexattr/lremovexattr/fremovexattr",
	  "writes through files opened before or elsewhere (except by io_uring); mmap writes; "
	  "links made before the start (a second name then written: its open is seen by that "
	  "name only); symlinks with a relative target (../etc/shadow) by the target's name "
	  "(seen by their new name); setxattrat/removexattrat (6.13+); failed read opens" },
	{ 1U << GUARD_K_EXEC, "successful execve/execveat (the executable mapped; for the "
	  "rules that ask, a socket on stdin, and the parent's and grandparent's listen())",
	  "io_uring; failed execs; scripts (sh FILE or #!: the executable is the interpreter); "
	  "a shell whose stdio is a pty a relay holds (python pty.spawn: its dup2 is seen); "
	  "a socket on stdout/stderr only; "
	  "listeners of other network namespaces found at start; a listener further up than "
	  "the grandparent; listen() by init" },
	{ 1U << GUARD_K_DUP, "dup2/dup3 of a socket onto fd 0 (stdin)",
	  "dup, fcntl(F_DUPFD), a socket opened straight onto a free fd 0; a socket put on "
	  "stdout or stderr only; io_uring" },
	{ 1U << GUARD_K_MEMWRITE, "/proc/PID/mem opened for writing (open, openat, openat2) "
	  "and pwrite64/pwritev/pwritev2 on it, process_vm_writev to another process",
	  "write() after lseek on an fd opened before the start; io_uring writes; a thread "
	  "of the same process (same memory: not another process)" },
	{ 1U << GUARD_K_URING, "the first io_uring request of each process image "
	  "(io_uring_submit_req/io_uring_submit_sqe tracepoints)",
	  "io_uring rings set up but never used" },
	{ (1U << GUARD_K_AUTH) | (1U << GUARD_K_SESSION), "uretprobes on libpam.so.0 "
	  "pam_authenticate and pam_open_session, in every process; the user, requesting user, "
	  "remote host and service from uprobes on pam_start(_confdir), pam_set_item, pam_end",
	  "the names of a PAM handle made before the start (null); programs with their own "
	  "libpam copy or "
	  "linked statically; logins without PAM (keys checked by sshd itself still open a "
	  "session); a libpam that is not the one of the usual library directories" },
	{ 1U << GUARD_K_PTRACE, "ptrace PTRACE_ATTACH/PTRACE_SEIZE",
	  "PTRACE_TRACEME; process_vm_writev and /proc/PID/mem (the memwrite rules)" },
	{ 1U << GUARD_K_MODULE, "init_module, finit_module (failed loads too)",
	  "modules the kernel loads itself (request_module)" },
	{ 1U << GUARD_K_SETID, "set*uid/set*gid calls asking for id 0",
	  "the ids before the call (a root process asking again matches too); setfsuid" },
	{ 1U << GUARD_K_CAPSET, "capset by a non-root task that keeps capabilities",
	  "capabilities gained through exec (file capabilities)" },
	{ 1U << GUARD_K_BPF, "bpf(BPF_PROG_LOAD)", "other bpf() commands" },
	{ 1U << GUARD_K_PERF, "perf_event_open", "" },
	{ (1U << GUARD_K_MOUNT) | (1U << GUARD_K_UNSHARE) | (1U << GUARD_K_SETNS),
	  "mount, unshare, setns", "clone() with namespace flags; the new mount API (fsmount, "
	  "move_mount)" },
};

static void cat(char *dst, size_t len, const char *s)
{
	size_t o = strlen(dst);

	if (!*s)
		return;
	snprintf(dst + o, len - o, "%s%s", o ? "; " : "", s);
}

/* What the file rules see of io_uring, by enum guard_uring_cov. */
static const char *const uring_sees[] = {
	[GUARD_URING_NONE] = "",
	[GUARD_URING_FULL] = "io_uring WRITE/WRITEV/WRITE_FIXED/WRITEV_FIXED at completion "
			     "(file, result) and OPENAT/OPENAT2 (flags, the fd opened); io_uring "
			     "FTRUNCATE at completion (file, result; with IOSQE_CQE_SKIP_SUCCESS "
			     "at submission); io_uring RENAMEAT/UNLINKAT/LINKAT/SYMLINKAT/MKDIRAT "
			     "at submission (names; result not known); io_uring SETXATTR/FSETXATTR "
			     "at submission (the path or the fd's file, the attribute's name; "
			     "result not known)",
	[GUARD_URING_510] = "io_uring WRITE/WRITEV/WRITE_FIXED at submission (file; the "
			    "result is not known on this kernel); io_uring RENAMEAT/UNLINKAT at "
			    "submission (names; result not known)",
};
static const char *const uring_blind[] = {
	[GUARD_URING_NONE] = "io_uring (its tracepoints are absent)",
	[GUARD_URING_FULL] = "io_uring opens into fixed-file slots, failed io_uring opens, "
			     "io_uring RENAMEAT/UNLINKAT/LINKAT/SYMLINKAT/MKDIRAT results, "
			     "io_uring SETXATTR/FSETXATTR results, io_uring FSETXATTR on a fixed "
			     "file, io_uring writes, "
			     "opens and FTRUNCATE with IOSQE_CQE_SKIP_SUCCESS (no completion traced)",
	[GUARD_URING_510] = "io_uring OPENAT/OPENAT2 (5.10's tracepoints show no open flags), "
			    "io_uring RENAMEAT/UNLINKAT results (this io_uring has no LINKAT, "
			    "SYMLINKAT, MKDIRAT, xattrs)",
};

void guard_coverage(uint32_t kinds, int uring, char *sees, size_t slen, char *blind,
		    size_t blen)
{
	if (!kinds)
		kinds = (1U << GUARD_K_N) - 1;
	if (uring < GUARD_URING_NONE || uring > GUARD_URING_510)
		uring = GUARD_URING_NONE;
	sees[0] = blind[0] = 0;
	for (size_t i = 0; i < sizeof(covs) / sizeof(covs[0]); i++) {
		if (!(covs[i].kinds & kinds))
			continue;
		/* without io_uring's tracepoints, the io_uring rule sees nothing */
		if (covs[i].kinds == 1U << GUARD_K_URING && uring == GUARD_URING_NONE) {
			cat(blind, blen, "io_uring (its tracepoints are absent)");
			continue;
		}
		cat(sees, slen, covs[i].sees);
		cat(blind, blen, covs[i].blind);
		if (covs[i].kinds & (1U << GUARD_K_WRITE)) {
			cat(sees, slen, uring_sees[uring]);
			cat(blind, blen, uring_blind[uring]);
		}
	}
}
