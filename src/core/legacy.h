/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What ksight leaves in the kernel that no file descriptor of it owns: legacy TC filters
 * (and a clsact qdisc made for them) and tracefs probe events (uprobe_events, and
 * kprobe_events where libbpf falls back to them). Everything else dies with the process.
 *
 * Each such object is tagged as ksight's with the owning pid (a filter's handle, an
 * event's name) and, before it is made, recorded in its owner's journal,
 * /run/ksight/owner-<pid>, which the owner holds locked while it runs. The owner removes
 * its objects at exit and then the journal. A journal nobody holds locked belongs to a
 * ksight that was killed: the next ksight to start (ks_legacy_sweep) or `ksight cleanup`
 * removes exactly the objects it lists that are still there as recorded (same handle,
 * priority and program), and a qdisc only if ksight made it and nothing else is on it.
 * Nothing else is ever touched: not another tool's filters, not a qdisc that existed
 * before, not what a running ksight owns.
 */
#ifndef KSIGHT_LEGACY_H
#define KSIGHT_LEGACY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/attset.h"

#define KS_LEGACY_DIR "/run/ksight"

/* --- the owner's side (returns 0, or -errno: then the object must not be made) --- */

/* The inode of this process's network namespace (0 if unknown). */
uint64_t ks_netns_self(void);

/* Before creating a clsact qdisc on @ifindex: "intent"; after, "created" or "existed". */
int ks_legacy_note_qdisc(uint64_t netns, int ifindex, const char *state);
/* Before adding filter @f. */
int ks_legacy_note_filter(const struct ks_tc_filter *f);
/* Before creating tracefs event @event ("uprobes/ksight_<pid>_<n>") in @file
 * ("uprobe_events", "kprobe_events"). */
int ks_legacy_note_tracefs(const char *file, const char *event);
/* Before an attachment for which libbpf may create tracefs events of its own in @file
 * (named libbpf_<pid>_...): those are recorded by that prefix. */
int ks_legacy_note_libbpf(const char *file);

/* Count one legacy object made, or removed; when none is left, the journal goes. */
void ks_legacy_made(void);
void ks_legacy_removed(void);
/* Once a session has taken everything off: the journal goes if nothing legacy is left. */
void ks_legacy_release(void);

/* Delete tracefs event @event ("group/name") from @file. Returns 0, -ENOENT if it is not
 * there, or -errno. */
int ks_tracefs_event_remove(const char *file, const char *event);

/* --- everyone's side: stale objects of killed owners --- */

struct ks_sweep {
	int owners;		/* journals of dead owners handled */
	int removed;		/* objects removed (or, dry run, that would be) */
	int gone;		/* recorded objects already gone, or no longer ksight's */
	int failed;		/* objects that could not be removed (journal kept) */
	int live;		/* journals of running ksight processes, left alone */
};

/*
 * Remove what killed ksight processes left behind, as their journals list it. With
 * @dry_run, change nothing and say what would be done. Each action (and each running
 * owner) is one line on @out when it is not NULL. Returns 0 or -errno (the journal
 * directory unreadable; none is fine).
 */
int ks_legacy_sweep(bool dry_run, FILE *out, struct ks_sweep *res);

/* The sweep every session starts with: quiet but for one line saying what it removed. */
void ks_legacy_sweep_at_start(const char *label);

/* --- the journal's lines (pure; tested with cmocka) --- */

enum ks_jkind {
	KS_J_OWNER,		/* owner PID START */
	KS_J_QDISC,		/* tc-qdisc NETNS IFINDEX intent|created|existed */
	KS_J_FILTER,		/* tc-filter NETNS IFINDEX PARENT HANDLE PRIO PROG_ID */
	KS_J_TRACEFS,		/* tracefs FILE GROUP/EVENT */
	KS_J_LIBBPF,		/* libbpf FILE PREFIX */
};

enum ks_qstate { KS_Q_INTENT, KS_Q_CREATED, KS_Q_EXISTED };

struct ks_jent {
	enum ks_jkind kind;
	uint64_t pid, start;		/* owner */
	struct ks_tc_filter tc;		/* qdisc (netns, ifindex), filter */
	enum ks_qstate qstate;		/* qdisc */
	char file[32];			/* tracefs, libbpf */
	char name[128];			/* tracefs: group/event; libbpf: event name prefix */
};

/* Parse one journal line (no newline). Returns 0, or -1 for anything malformed (such a
 * line is ignored: it may have been cut by the owner's death). */
int ks_journal_parse(const char *line, struct ks_jent *e);

/* Format @e as a journal line (with its newline) into @buf. Returns the length, or -1. */
int ks_journal_format(const struct ks_jent *e, char *buf, size_t len);

#endif
