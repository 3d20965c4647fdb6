/* SPDX-License-Identifier: GPL-2.0 */
/* What the attach family files (attach_*.c), the attachment set and legacy.c share. */
#ifndef KSIGHT_ATTACH_INT_H
#define KSIGHT_ATTACH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/attset.h"

/*
 * Remove legacy filter @f (in the current network namespace) if it is still there as
 * recorded: same parent, handle and priority, running program f->prog_id. With @dry, only
 * look. Returns 1 removed (would be), 0 gone or no longer ksight's, -errno on failure.
 */
int ks_tc_filter_remove(const struct ks_tc_filter *f, bool dry);

/* Take legacy filter @f off (this process's own, at detach), and the qdisc with the last. */
void ks_tc_legacy_detach(const struct ks_tc_filter *f);

/*
 * Remove the clsact qdisc of @ifindex if no filter at all is left on it (ksight made it:
 * the caller knows). With @dry, only look, counting @going filters there as removed
 * already (those the same dry run would remove). Returns 1 removed (would be), 0 absent or
 * still in use, -errno on failure.
 */
int ks_tc_qdisc_release(int ifindex, bool dry, int going);

/* tc_nl.c: the number of filters on @ifindex under @parent (rtnetlink dump), or -errno. */
int ks_tc_count_filters(int ifindex, uint32_t parent);

/*
 * Run with network namespace @netns (an inode) as this thread's, found among the named
 * namespaces (/run/netns) and those of running processes. Returns 0 with the previous one
 * in @saved (give it to ks_netns_leave), 1 when @netns is already ours (nothing to leave),
 * -ENOENT when no such namespace exists any more (nor anything in it), or -errno.
 */
int ks_netns_enter(uint64_t netns, int *saved);
void ks_netns_leave(int saved);

/* Parse a CPU list ("0-3,5\n") into @cpus (up to @max). Returns the count, or -1. */
int ks_cpu_list_parse(const char *s, int *cpus, int max);

#endif
