// SPDX-License-Identifier: GPL-2.0
#include "modules/proc_tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NBUCKETS 16384

struct proc_tree {
	struct proc_node *buckets[NBUCKETS];
	size_t count, max;
	uint64_t dropped;
	char proc_root[128];
};

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int proc_parse_stat(const char *buf, struct proc_stat *out)
{
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	unsigned int ppid, threads;
	const char *p;
	size_t n;

	if (!open || !close || close < open || close[1] != ' ' || !close[2])
		return -1;
	n = close - open - 1;
	if (n > sizeof(out->comm) - 1)
		n = sizeof(out->comm) - 1;
	memcpy(out->comm, open + 1, n);
	out->comm[n] = 0;
	p = close + 2;
	out->state = *p;
	/* fields after the comm: 3 state, 4 ppid, ..., 20 num_threads */
	for (int field = 3; field < 20; field++) {
		if (field == 4 && sscanf(p, "%u", &ppid) != 1)
			return -1;
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	if (sscanf(p, "%u", &threads) != 1)
		return -1;
	out->ppid = ppid;
	out->threads = threads;
	return 0;
}

struct proc_tree *proc_tree__new(size_t max, const char *proc_root)
{
	struct proc_tree *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->max = max ? max : 1;
	snprintf(t->proc_root, sizeof(t->proc_root), "%s", proc_root ? proc_root : "/proc");
	return t;
}

void proc_tree__free(struct proc_tree *t)
{
	if (!t)
		return;
	for (int i = 0; i < NBUCKETS; i++) {
		struct proc_node *n = t->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			free(n);
		}
	}
	free(t);
}

static struct proc_node **bucket(const struct proc_tree *t, uint32_t pid)
{
	return (struct proc_node **)&t->buckets[(pid * 2654435761u) >> 18 & (NBUCKETS - 1)];
}

static struct proc_node *find(const struct proc_tree *t, uint32_t pid)
{
	for (struct proc_node *n = *bucket(t, pid); n; n = n->next)
		if (n->pid == pid)
			return n;
	return NULL;
}

/* A fresh node for @pid (replacing a stale one), or NULL when the tree is full. */
static struct proc_node *add(struct proc_tree *t, uint32_t pid)
{
	struct proc_node *n = find(t, pid), *next, **head;

	if (n) {
		next = n->next;
		memset(n, 0, sizeof(*n));
		n->next = next;
		n->pid = pid;
		return n;
	}
	if (t->count >= t->max) {
		t->dropped++;
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		t->dropped++;
		return NULL;
	}
	n->pid = pid;
	head = bucket(t, pid);
	n->next = *head;
	*head = n;
	t->count++;
	return n;
}

static void drop(struct proc_tree *t, uint32_t pid)
{
	for (struct proc_node **pp = bucket(t, pid); *pp; pp = &(*pp)->next)
		if ((*pp)->pid == pid) {
			struct proc_node *n = *pp;

			*pp = n->next;
			free(n);
			t->count--;
			return;
		}
}

/* Read /proc/<pid>/stat. Returns 0, or -1 when gone, a zombie or unreadable. */
static int read_stat(const struct proc_tree *t, uint32_t pid, struct proc_stat *st)
{
	char path[160], buf[1024];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%u/stat", t->proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	if (proc_parse_stat(buf, st) || st->state == 'Z' || st->state == 'X')
		return -1;
	return 0;
}

/* Take what /proc says of @n; @n->seen_ns is the time after the read. */
static void apply_stat(struct proc_node *n, const struct proc_stat *st)
{
	n->ppid = st->ppid;
	n->threads = st->threads ? st->threads : 1;
	memcpy(n->comm, st->comm, sizeof(n->comm));
	n->seen_ns = mono_now();
}

/* The node of @pid, read from /proc when the tree does not have it (NULL if gone). */
static struct proc_node *get_or_load(struct proc_tree *t, uint32_t pid)
{
	struct proc_node *n = find(t, pid);
	struct proc_stat st;

	if (n || !pid || read_stat(t, pid, &st))
		return n;
	n = add(t, pid);
	if (n) {
		apply_stat(n, &st);
		n->started_before = true;
	}
	return n;
}

int proc_tree__sync(struct proc_tree *t)
{
	DIR *d = opendir(t->proc_root);
	struct dirent *de;
	int seen = 0;

	if (!d)
		return -errno;
	for (int i = 0; i < NBUCKETS; i++)
		for (struct proc_node *n = t->buckets[i]; n; n = n->next)
			n->mark = false;
	while ((de = readdir(d))) {
		struct proc_stat st;
		struct proc_node *n;
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (*end || !pid || pid > UINT32_MAX || read_stat(t, pid, &st))
			continue;
		seen++;
		n = find(t, pid);
		if (!n && (n = add(t, pid)))
			n->started_before = true;
		if (!n)
			continue;
		apply_stat(n, &st);
		n->mark = true;
	}
	closedir(d);
	for (int i = 0; i < NBUCKETS; i++) {
		struct proc_node **pp = &t->buckets[i];

		while (*pp) {
			struct proc_node *n = *pp;

			if (n->mark) {
				pp = &n->next;
				continue;
			}
			*pp = n->next;
			free(n);
			t->count--;
		}
	}
	return seen;
}

void proc_tree__fork(struct proc_tree *t, uint64_t ts, uint32_t parent, uint32_t child,
		     uint32_t child_ppid, const char *comm)
{
	struct proc_node *p = get_or_load(t, parent), *c = find(t, child);

	if (p)
		p->forks++;
	/* a node read from /proc after the fork already is this child; any other is stale */
	if (c && c->seen_ns && ts < c->seen_ns) {
		c->started_before = false;
		return;
	}
	c = add(t, child);
	if (!c)
		return;
	c->ppid = child_ppid;
	c->threads = 1;
	snprintf(c->comm, sizeof(c->comm), "%s", comm);
}

void proc_tree__thread(struct proc_tree *t, uint64_t ts, uint32_t pid)
{
	struct proc_node *n = get_or_load(t, pid);

	if (!n)
		return;
	n->threads_created++;
	if (ts >= n->seen_ns)
		n->threads++;
}

void proc_tree__thread_exit(struct proc_tree *t, uint64_t ts, uint32_t pid)
{
	struct proc_node *n = get_or_load(t, pid);

	if (!n)
		return;
	n->threads_exited++;
	if (ts >= n->seen_ns && n->threads > 1)
		n->threads--;
}

void proc_tree__exec(struct proc_tree *t, uint64_t ts, uint32_t pid, uint32_t ppid,
		     const char *comm)
{
	struct proc_node *n = find(t, pid);

	if (!n) {
		n = add(t, pid);
		if (!n)
			return;
		n->seen_ns = ts;
	}
	n->execs++;
	if (ts < n->seen_ns)
		return;
	/* exec leaves one thread: the others' exits were records of their own */
	n->ppid = ppid;
	n->threads = 1;
	snprintf(n->comm, sizeof(n->comm), "%s", comm);
}

void proc_tree__exit(struct proc_tree *t, uint64_t ts, uint32_t pid, uint32_t ppid)
{
	struct proc_node *p = find(t, ppid);

	if (p)
		p->children_exited++;
	drop(t, pid);
}

const struct proc_node *proc_tree__get(const struct proc_tree *t, uint32_t pid)
{
	return find(t, pid);
}

size_t proc_tree__count(const struct proc_tree *t)
{
	return t->count;
}

uint64_t proc_tree__dropped(const struct proc_tree *t)
{
	return t->dropped;
}

static int by_parent(const void *a, const void *b)
{
	const struct proc_node *x = *(const struct proc_node *const *)a;
	const struct proc_node *y = *(const struct proc_node *const *)b;

	if (x->ppid != y->ppid)
		return x->ppid < y->ppid ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* First index in @v (sorted by parent) of the children of @pid; *@nkids gets their count. */
static size_t kids(struct proc_node **v, size_t n, uint32_t pid, unsigned int *nkids)
{
	size_t lo = 0, hi = n, first;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (v[mid]->ppid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < n && v[lo]->ppid == pid)
		lo++;
	*nkids = lo - first;
	return first;
}

struct frame {
	size_t next, end;	/* the children of this level still to visit */
};

/* Depth-first from @v[@i]; marks prevent loops through stale parent links. */
static int visit_from(struct proc_node **v, size_t n, size_t i, bool last, struct frame *stack,
		      proc_tree_visit_fn fn, void *arg)
{
	unsigned int depth = 0, nk;
	int visited = 0;

	stack[0].next = kids(v, n, v[i]->pid, &nk);
	stack[0].end = stack[0].next + nk;
	v[i]->mark = true;
	fn(v[i], 0, nk, last, arg);
	visited++;
	for (;;) {
		struct frame *f = &stack[depth];
		struct proc_node *c;

		if (f->next >= f->end) {
			if (!depth)
				break;
			depth--;
			continue;
		}
		c = v[f->next++];
		if (c->mark)
			continue;
		c->mark = true;
		stack[depth + 1].next = kids(v, n, c->pid, &nk);
		stack[depth + 1].end = stack[depth + 1].next + nk;
		fn(c, depth + 1, nk, f->next >= f->end, arg);
		visited++;
		depth++;
	}
	return visited;
}

int proc_tree__walk(struct proc_tree *t, uint32_t root, proc_tree_visit_fn fn, void *arg)
{
	struct proc_node **v = calloc(t->count ? t->count : 1, sizeof(*v));
	struct frame *stack = calloc(t->count + 1, sizeof(*stack));
	size_t n = 0;
	int visited = 0, err = 0;

	if (!v || !stack) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (int b = 0; b < NBUCKETS; b++)
		for (struct proc_node *x = t->buckets[b]; x; x = x->next) {
			struct proc_stat st;

			/* an orphan: the kernel gave it a new parent when the old one left */
			if (x->ppid && !find(t, x->ppid) && !read_stat(t, x->pid, &st))
				x->ppid = st.ppid;
			x->mark = false;
			v[n++] = x;
		}
	qsort(v, n, sizeof(*v), by_parent);
	for (size_t i = 0; i < n; i++) {
		bool is_root = root ? v[i]->pid == root : !find(t, v[i]->ppid) || !v[i]->ppid;

		if (is_root && !v[i]->mark)
			visited += visit_from(v, n, i, true, stack, fn, arg);
	}
	if (root && !visited)
		err = -ESRCH;
cleanup:
	free(v);
	free(stack);
	return err ? err : visited;
}
