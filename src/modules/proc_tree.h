/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live process tree of `ksight proc --tree`: pid -> process (parent, name, live
 * threads) with what was seen of it while tracing (forks, threads created and exited,
 * children exited, execs). Synced from /proc so the parents of processes started before
 * ksight are known, then kept fresh from the fork, thread, exec and exit records.
 * Pure user-space logic over a /proc root given by the caller (tests use a fake one).
 *
 * Timestamps are CLOCK_MONOTONIC ns, the records' clock. A node remembers when /proc was
 * last read for it (seen_ns): a record older than that is already reflected in what was
 * read, so it is counted but does not change the node's live state again.
 */
#ifndef KSIGHT_PROC_TREE_H
#define KSIGHT_PROC_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct proc_node {
	uint32_t pid, ppid;
	char comm[16];
	uint32_t threads;		/* live threads */
	uint64_t forks;			/* child processes it created while traced */
	uint64_t threads_created;
	uint64_t threads_exited;
	uint64_t children_exited;	/* its child processes that exited while traced */
	uint64_t execs;
	uint64_t seen_ns;		/* when /proc was read for it; 0: never (from records) */
	bool started_before;		/* its fork was not seen: from /proc (or filtered) */
	bool mark;			/* sync / walk scratch */
	struct proc_node *next;		/* hash chain */
};

/* Fields of /proc/<pid>/stat the tree needs. */
struct proc_stat {
	char comm[16];
	char state;
	uint32_t ppid;
	uint32_t threads;
};

/* Parse /proc/<pid>/stat (the comm may hold spaces and ')'). Returns 0 or -1. */
int proc_parse_stat(const char *buf, struct proc_stat *out);

struct proc_tree;

/* A tree of at most @max processes read from @proc_root ("/proc"; copied).
 * Returns NULL with errno set. */
struct proc_tree *proc_tree__new(size_t max, const char *proc_root);
void proc_tree__free(struct proc_tree *t);

/*
 * Make the tree match @proc_root: add the processes it lacks, update parent, name and
 * thread count of the others, drop those gone or zombies. Returns the number of processes
 * read, or -errno if the directory cannot be read.
 */
int proc_tree__sync(struct proc_tree *t);

/* Records, in stream order. @ts is the record's time, @comm the caller's name. */
void proc_tree__fork(struct proc_tree *t, uint64_t ts, uint32_t parent, uint32_t child,
		     uint32_t child_ppid, const char *comm);
void proc_tree__thread(struct proc_tree *t, uint64_t ts, uint32_t pid);
void proc_tree__thread_exit(struct proc_tree *t, uint64_t ts, uint32_t pid);
void proc_tree__exec(struct proc_tree *t, uint64_t ts, uint32_t pid, uint32_t ppid,
		     const char *comm);
void proc_tree__exit(struct proc_tree *t, uint64_t ts, uint32_t pid, uint32_t ppid);

/* The node of @pid, or NULL. Valid until the next call that changes the tree. */
const struct proc_node *proc_tree__get(const struct proc_tree *t, uint32_t pid);
size_t proc_tree__count(const struct proc_tree *t);
/* Processes that could not be added because the tree was full. */
uint64_t proc_tree__dropped(const struct proc_tree *t);

/* Called for each node of a walk: @depth 0 for a root, @children its live child count. */
typedef void (*proc_tree_visit_fn)(const struct proc_node *n, unsigned int depth,
				   unsigned int children, bool last, void *arg);

/*
 * Visit the tree depth first, children in pid order: from @root only (0: from every
 * process whose parent is not in the tree). A parent that left (its children were
 * reparented) is looked up again in /proc first. @last: the node is its parent's last
 * child (for drawing). Returns the number of nodes visited, or -errno (-ESRCH: no @root).
 */
int proc_tree__walk(struct proc_tree *t, uint32_t root, proc_tree_visit_fn fn, void *arg);

#endif
