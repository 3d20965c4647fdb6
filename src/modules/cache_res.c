// SPDX-License-Identifier: GPL-2.0
/*
 * cache: how much of a file the page cache holds, asked of the kernel directly: the
 * cachestat syscall (Linux 6.5+, it counts the file's cached pages in its mapping), else
 * mincore(2) over a read-only shared mapping of the whole file (one byte per page).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "modules/cache_int.h"

#ifndef __NR_cachestat
#define __NR_cachestat 451	/* the same number on every architecture */
#endif

/* uapi linux/mman.h of 6.5+, which Debian 12's headers predate */
struct cache_cs_range {
	uint64_t off;
	uint64_t len;		/* 0: to the end of the file */
};

struct cache_cs {
	uint64_t nr_cache;
	uint64_t nr_dirty;
	uint64_t nr_writeback;
	uint64_t nr_evicted;
	uint64_t nr_recently_evicted;
};

uint32_t cache_kdev(dev_t dev)
{
	return (uint32_t)major(dev) << 20 | (minor(dev) & 0xfffff);
}

static long by_mincore(int fd, uint64_t pages)
{
	long psz = sysconf(_SC_PAGESIZE), n = 0;
	unsigned char *vec;
	void *m;

	if (!pages)
		return 0;
	m = mmap(NULL, pages * psz, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	vec = malloc(pages);
	if (!vec) {
		munmap(m, pages * psz);
		return -ENOMEM;
	}
	if (mincore(m, pages * psz, vec)) {
		n = -errno;
	} else {
		for (uint64_t i = 0; i < pages; i++)
			n += vec[i] & 1;
	}
	free(vec);
	munmap(m, pages * psz);
	return n;
}

long cache_resident_by(const char *path, uint64_t *pages, const char **how, bool cachestat)
{
	long psz = sysconf(_SC_PAGESIZE), n;
	struct cache_cs_range range = { 0, 0 };
	struct cache_cs cs;
	struct stat s;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &s)) {
		n = -errno;
		goto cleanup;
	}
	if (!S_ISREG(s.st_mode)) {
		n = -EINVAL;
		goto cleanup;
	}
	*pages = ((uint64_t)s.st_size + psz - 1) / psz;
	if (cachestat && !syscall(__NR_cachestat, fd, &range, &cs, 0)) {
		*how = "cachestat";
		n = cs.nr_cache;
		goto cleanup;
	}
	*how = "mincore";
	n = by_mincore(fd, *pages);
cleanup:
	close(fd);
	return n;
}

bool cache_has_cachestat(void)
{
	/* a bad fd: EBADF where the call exists, ENOSYS where it does not */
	return syscall(__NR_cachestat, -1, NULL, NULL, 0) && errno != ENOSYS;
}

long cache_resident(const char *path, uint64_t *pages, const char **how)
{
	return cache_resident_by(path, pages, how, true);
}

void cache_report_residency(struct ks_ctx *ctx, struct cache_state *st)
{
	for (size_t i = 0; i < st->nfp; i++) {
		const char *how = "", *path = st->fp[i].path;
		uint64_t pages = 0;
		long n = cache_resident(path, &pages, &how);
		struct ks_rec r;

		ks_rec_init(&r, "cache_resident", NULL);
		ks_rec_str(&r, "path", "FILE", -32, path, strlen(path));
		if (n < 0) {
			ks_rec_add(&r, "error", "ERROR", 0, KS_V_ERRNO)->i = -n;
			ks_emit(ctx, &r);
			continue;
		}
		ks_rec_uint(&r, "pages", "PAGES", 10, pages);
		ks_rec_uint(&r, "resident", "RESIDENT", 10, n);
		ks_rec_add(&r, "resident_pct", "RES%", 7, KS_V_DOUBLE)->d =
			pages ? 100.0 * n / pages : 0;
		ks_rec_str(&r, "via", "VIA", 0, how, strlen(how));
		ks_emit(ctx, &r);
	}
}
