// SPDX-License-Identifier: GPL-2.0
#include "core/btfcache.h"

#include <bpf/btf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

static struct {
	void *raw;		/* the raw BTF image */
	size_t size;
	bool mapped;		/* mmap of the sysfs file (6.16+), else malloc'd */
	struct btf *btf;	/* parsed once, for ksight and libbpf */
	unsigned int lent;	/* libbpf's holds on btf, not given back yet */
	unsigned int loans;	/* libbpf's requests, for tests */
	pthread_mutex_t lock;	/* objects load on several threads */
} vm = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* One read() per chunk of the whole file: stdio would read it 4 KiB at a time. */
static int read_sysfs(const char *path)
{
	struct stat st;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size <= 0) {
		err = -(errno ?: EINVAL);
		goto out;
	}
	vm.size = st.st_size;
	/* the kernel maps its own BTF read-only where it can: no copy at all */
	vm.raw = mmap(NULL, vm.size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (vm.raw != MAP_FAILED) {
		vm.mapped = true;
		goto out;
	}
	vm.raw = malloc(vm.size);
	if (!vm.raw) {
		err = -ENOMEM;
		goto out;
	}
	while (got < vm.size) {
		ssize_t n = read(fd, (char *)vm.raw + got, vm.size - got);

		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		got += n;
	}
	if (err) {
		free(vm.raw);
		vm.raw = NULL;
	}
out:
	close(fd);
	return err;
}

/* Kernels without /sys/kernel/btf/vmlinux: the places libbpf also looks at. */
static int read_elsewhere(void)
{
	static const char *const fmts[] = { "/boot/vmlinux-%s", "/lib/modules/%s/vmlinux-%s",
					    "/usr/lib/debug/boot/vmlinux-%s" };
	struct utsname u;
	char path[512];

	uname(&u);
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		struct btf *b;
		const void *data;
		__u32 size;

		snprintf(path, sizeof(path), fmts[i], u.release, u.release);
		b = btf__parse(path, NULL);
		if (!b)
			continue;
		data = btf__raw_data(b, &size);
		vm.raw = data ? malloc(size) : NULL;
		if (vm.raw) {
			memcpy(vm.raw, data, size);
			vm.size = size;
		}
		btf__free(b);
		if (vm.raw)
			return 0;
	}
	return -ENOENT;
}

static int load_raw(void)
{
	if (vm.raw)
		return 0;
	if (!read_sysfs("/sys/kernel/btf/vmlinux") || !read_elsewhere())
		return 0;
	return -ENOENT;
}

struct btf *ks_vmlinux_btf_copy(void)
{
	int err = load_raw();

	if (err) {
		errno = -err;
		return NULL;
	}
	return btf__new(vm.raw, vm.size);
}

const struct btf *ks_vmlinux_btf(void)
{
	pthread_mutex_lock(&vm.lock);
	if (!vm.btf)
		vm.btf = ks_vmlinux_btf_copy();
	pthread_mutex_unlock(&vm.lock);
	return vm.btf;
}

/* The parse, taken from the cache to be freed, unless libbpf holds it (the caller holds
 * the lock). It is no longer ours: the wrapped btf__free frees it for real. */
static struct btf *take_parse(void)
{
	struct btf *b = vm.lent ? NULL : vm.btf;

	if (b)
		vm.btf = NULL;
	return b;
}

void ks_vmlinux_btf_trim(void)
{
	struct btf *b;

	pthread_mutex_lock(&vm.lock);
	b = take_parse();
	pthread_mutex_unlock(&vm.lock);
	btf__free(b);
}

void ks_vmlinux_btf_release(void)
{
	struct btf *b;

	pthread_mutex_lock(&vm.lock);
	b = take_parse();
	if (!vm.btf) {		/* a parse libbpf holds keeps the image too */
		if (vm.mapped)
			munmap(vm.raw, vm.size);
		else
			free(vm.raw);
		vm.raw = NULL;
		vm.mapped = false;
	}
	pthread_mutex_unlock(&vm.lock);
	btf__free(b);
}

struct btf *ks_vmlinux_btf_lend(void)
{
	struct btf *b;

	pthread_mutex_lock(&vm.lock);
	vm.loans++;
	if (!vm.btf)
		vm.btf = ks_vmlinux_btf_copy();
	b = vm.btf;
	if (b)
		vm.lent++;
	pthread_mutex_unlock(&vm.lock);
	return b;
}

bool ks_vmlinux_btf_give_back(const struct btf *b)
{
	bool ours;

	if (!b)
		return false;
	pthread_mutex_lock(&vm.lock);
	ours = b == vm.btf && vm.lent;
	if (ours)
		vm.lent--;
	pthread_mutex_unlock(&vm.lock);
	return ours;
}

bool ks_vmlinux_btf_cached(void)
{
	return vm.raw != NULL;
}

unsigned int ks_vmlinux_btf_loans(void)
{
	return vm.loans;
}
