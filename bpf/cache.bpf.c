// SPDX-License-Identifier: GPL-2.0
/*
 * cache module: page-cache hits and misses per process (thread, cgroup) and per file,
 * counted in the kernel. Two methods, one chosen per slot at start-up:
 * - classic (bcc's cachestat): fentry, else kprobe, on the function that marks a cached
 *   page accessed (every lookup that found or brought it), the one that adds a page to the
 *   cache (a miss) and the one that accounts a page dirtied;
 * - tracepoints, where the kernel allows no trampoline and has no kprobes: the pages reads
 *   ask for (filemap:mm_filemap_get_pages, 6.10+, and one per filemap_fault) against the
 *   pages added (filemap:mm_filemap_add_to_page_cache), and writeback:writeback_dirty_folio.
 * Rows are shared by a process's threads on every CPU: adds are atomic.
 */
#include "common.bpf.h"
#include "cache.h"

const volatile bool cache_per_thread = false;
const volatile bool cache_per_cgroup = false;
const volatile bool cache_per_file = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CACHE_ROWS);
	__type(key, struct cache_key);
	__type(value, struct cache_val);
} cache_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CACHE_FILES);
	__type(key, struct cache_fkey);
	__type(value, struct cache_fval);
} cache_files SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CACHE_READERS);
	__type(key, __u32);
	__type(value, struct cache_reader);
} cache_readers SEC(".maps");

enum { CACHE_ACCESS, CACHE_ADD, CACHE_DIRTY };

static __always_inline void bump(__u64 *p, __u64 n)
{
	__sync_fetch_and_add(p, n);
}

static __always_inline void count_file(int what, __u32 dev, __u64 ino, __u64 n)
{
	struct cache_fkey k = { .ino = ino, .dev = dev };
	struct cache_fval *v = bpf_map_lookup_elem(&cache_files, &k);

	if (!v) {
		struct cache_fval zero = {};

		bpf_map_update_elem(&cache_files, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&cache_files, &k);
		if (!v) {
			ks_lost(CACHE_EV_FILE);
			return;
		}
	}
	bump(what == CACHE_ACCESS ? &v->accessed : what == CACHE_ADD ? &v->added : &v->dirtied, n);
}

/* Count @n of @what for the current task, and for file (@dev, @ino) when known (ino != 0). */
static __always_inline void count(int what, __u32 dev, __u64 ino, __u64 n)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct cache_key k = {};
	struct cache_val *v;

	if (!n || !ks_want(pid_tgid))
		return;
	if (cache_per_cgroup) {
		k.cgroup = bpf_get_current_cgroup_id();
	} else {
		k.pid = pid_tgid >> 32;
		k.tid = cache_per_thread ? (__u32)pid_tgid : 0;
	}
	v = bpf_map_lookup_elem(&cache_rows, &k);
	if (!v) {
		struct cache_val zero = {};

		bpf_get_current_comm(zero.comm, sizeof(zero.comm));
		zero.cgroup = bpf_get_current_cgroup_id();
		/* another CPU may have made it meanwhile: EEXIST is fine */
		bpf_map_update_elem(&cache_rows, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&cache_rows, &k);
		if (!v) {
			ks_lost(CACHE_EV_ROW);
			return;
		}
	}
	bump(what == CACHE_ACCESS ? &v->accessed : what == CACHE_ADD ? &v->added : &v->dirtied, n);
	if (cache_per_file && ino)
		count_file(what, dev, ino, n);
}

/* struct folio's page count (large folios only) before and after 6.14's rename */
struct folio___nr_old {
	unsigned int _folio_nr_pages;
} __attribute__((preserve_access_index));

struct folio___nr_new {
	unsigned int _nr_pages;
} __attribute__((preserve_access_index));

/* Pages in @folio: 1 unless its first flags word has PG_head (a large folio). */
static __always_inline __u64 folio_pages(void *folio)
{
	unsigned long flags = 0;
	unsigned int n = 0;

	bpf_probe_read_kernel(&flags, sizeof(flags), folio);
	if (!(flags & (1UL << bpf_core_enum_value(enum pageflags, PG_head))))
		return 1;
	if (bpf_core_field_exists(((struct folio___nr_new *)folio)->_nr_pages))
		n = BPF_CORE_READ((struct folio___nr_new *)folio, _nr_pages);
	else if (bpf_core_field_exists(((struct folio___nr_old *)folio)->_folio_nr_pages))
		n = BPF_CORE_READ((struct folio___nr_old *)folio, _folio_nr_pages);
	return n ? n : 1;
}

/* Classic: the file behind page-cache @mapping, a function's argument (never anonymous:
 * the verifier refuses bit tests on a typed pointer). */
static __always_inline void count_mapping(int what, struct address_space *mapping, __u64 n)
{
	struct inode *host;

	if (!mapping)
		return;
	if (!cache_per_file) {
		count(what, 0, 0, n);
		return;
	}
	host = BPF_CORE_READ(mapping, host);
	count(what, BPF_CORE_READ(host, i_sb, s_dev), BPF_CORE_READ(host, i_ino), n);
}

/* Classic: a page's mapping as read from it (a value): anonymous ones have bit 0 set. */
static __always_inline void count_page_mapping(int what, __u64 mapping, __u64 n)
{
	if (mapping & 1)
		return;
	count_mapping(what, (struct address_space *)mapping, n);
}

/* folio_mark_accessed (5.16+), else mark_page_accessed */
SEC("fentry/folio_mark_accessed")
int BPF_PROG(cache__acc_ffolio, struct folio *folio)
{
	count_page_mapping(CACHE_ACCESS, (__u64)BPF_CORE_READ(folio, mapping), folio_pages(folio));
	return 0;
}

SEC("fentry/mark_page_accessed")
int BPF_PROG(cache__acc_fpage, struct page *page)
{
	count_page_mapping(CACHE_ACCESS, (__u64)BPF_CORE_READ(page, mapping), 1);
	return 0;
}

SEC("kprobe/folio_mark_accessed")
int BPF_KPROBE(cache__acc_kfolio, struct folio *folio)
{
	count_page_mapping(CACHE_ACCESS, (__u64)BPF_CORE_READ(folio, mapping), folio_pages(folio));
	return 0;
}

/* filemap_add_folio (5.16+), else add_to_page_cache_lru: both take the mapping first */
SEC("fentry/filemap_add_folio")
int BPF_PROG(cache__add_ffolio, struct address_space *mapping, struct folio *folio)
{
	count_mapping(CACHE_ADD, mapping, folio_pages(folio));
	return 0;
}

SEC("fentry/add_to_page_cache_lru")
int BPF_PROG(cache__add_fpage, struct page *page, struct address_space *mapping)
{
	count_mapping(CACHE_ADD, mapping, 1);
	return 0;
}

SEC("kprobe/filemap_add_folio")
int BPF_KPROBE(cache__add_kfolio, struct address_space *mapping, struct folio *folio)
{
	count_mapping(CACHE_ADD, mapping, folio_pages(folio));
	return 0;
}

/* __folio_mark_dirty (5.16+: it accounts the folio dirtied once per clean-to-dirty), else
 * account_page_dirtied (folio_account_dirtied is inlined on most 6.x builds) */
SEC("fentry/__folio_mark_dirty")
int BPF_PROG(cache__dirty_ffolio, struct folio *folio, struct address_space *mapping)
{
	count_mapping(CACHE_DIRTY, mapping, folio_pages(folio));
	return 0;
}

SEC("fentry/account_page_dirtied")
int BPF_PROG(cache__dirty_fpage, struct page *page, struct address_space *mapping)
{
	count_mapping(CACHE_DIRTY, mapping, 1);
	return 0;
}

SEC("kprobe/__folio_mark_dirty")
int BPF_KPROBE(cache__dirty_kfolio, struct folio *folio, struct address_space *mapping)
{
	count_mapping(CACHE_DIRTY, mapping, folio_pages(folio));
	return 0;
}

/* Tracepoints: a read batch names the read's remaining pages (cache_read_pages) */
static __always_inline void read_batch(__u32 dev, __u64 ino, __u64 index, __u64 last)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct cache_reader zero = {}, *r;

	if (!ks_want(bpf_get_current_pid_tgid()))
		return;
	r = bpf_map_lookup_elem(&cache_readers, &tid);
	if (!r) {
		bpf_map_update_elem(&cache_readers, &tid, &zero, BPF_ANY);
		r = bpf_map_lookup_elem(&cache_readers, &tid);
		if (!r)
			return;
	}
	count(CACHE_ACCESS, dev, ino, cache_read_pages(r, dev, ino, index, last));
}

/* tp_btf: the raw tracepoint's arguments, without the trace record classic ones build */
SEC("tp_btf/mm_filemap_get_pages")
int BPF_PROG(cache__get_pages_btf, struct address_space *mapping, unsigned long index,
	     unsigned long last)
{
	struct inode *host = mapping->host;

	read_batch(host->i_sb->s_dev, host->i_ino, index, last);
	return 0;
}

SEC("tp_btf/mm_filemap_fault")
int BPF_PROG(cache__fault_btf, struct address_space *mapping)
{
	struct inode *host = mapping->host;

	count(CACHE_ACCESS, host->i_sb->s_dev, host->i_ino, 1);
	return 0;
}

SEC("tp_btf/mm_filemap_add_to_page_cache")
int BPF_PROG(cache__add_btf, struct folio *folio)
{
	count_page_mapping(CACHE_ADD, (__u64)BPF_CORE_READ(folio, mapping), folio_pages(folio));
	return 0;
}

SEC("tp_btf/writeback_dirty_folio")
int BPF_PROG(cache__dirty_btf, struct folio *folio, struct address_space *mapping)
{
	count_mapping(CACHE_DIRTY, mapping, folio_pages(folio));
	return 0;
}

SEC("tp/filemap/mm_filemap_get_pages")
int cache__get_pages_tp(struct trace_event_raw_mm_filemap_op_page_cache_range *ctx)
{
	read_batch(ctx->s_dev, ctx->i_ino, ctx->index, ctx->last_index);
	return 0;
}

SEC("tp/filemap/mm_filemap_fault")
int cache__fault_tp(struct trace_event_raw_mm_filemap_fault *ctx)
{
	count(CACHE_ACCESS, ctx->s_dev, ctx->i_ino, 1);
	return 0;
}

/* 6.x kernels name the folio's order; before, one page each */
SEC("tp/filemap/mm_filemap_add_to_page_cache")
int cache__add_tp(struct trace_event_raw_mm_filemap_op_page_cache *ctx)
{
	__u32 order = 0;

	if (bpf_core_field_exists(ctx->order))
		order = BPF_CORE_READ(ctx, order) & 31;
	count(CACHE_ADD, ctx->s_dev, ctx->i_ino, 1ULL << order);
	return 0;
}

/* The kernel dev_t of a backing device named "MAJ:MIN" (block devices, and the anonymous
 * devices of NFS and FUSE: their file system's s_dev), else 0. */
static __always_inline __u32 bdi_dev(const char *name)
{
	__u32 major = 0, minor = 0, *n = &major;
	int i;

	for (i = 0; i < 24; i++) {
		char c = name[i];

		if (c >= '0' && c <= '9') {
			*n = *n * 10 + (c - '0');
		} else if (c == ':' && n == &major && i) {
			n = &minor;
		} else {
			break;
		}
	}
	if (n != &minor || name[i])
		return 0;
	return major << 20 | (minor & 0xfffff);
}

/* one per folio, named by its inode and its backing device */
SEC("tp/writeback/writeback_dirty_folio")
int cache__dirty_tp(struct trace_event_raw_writeback_folio_template *ctx)
{
	char name[32];
	__u32 dev;

	bpf_probe_read_kernel(name, sizeof(name), ctx->name);
	name[31] = 0;
	dev = bdi_dev(name);
	count(CACHE_DIRTY, dev, dev ? ctx->ino : 0, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
