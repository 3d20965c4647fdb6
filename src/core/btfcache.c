// SPDX-License-Identifier: GPL-2.0
#include "core/btfcache.h"

#include <bpf/btf.h>
#include <errno.h>
#include <fcntl.h>
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
	struct btf *btf;	/* parsed once for ksight's own lookups */
	unsigned int copies;
} vm;

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
	if (!vm.btf)
		vm.btf = ks_vmlinux_btf_copy();
	return vm.btf;
}

void ks_vmlinux_btf_trim(void)
{
	btf__free(vm.btf);
	vm.btf = NULL;
}

void ks_vmlinux_btf_release(void)
{
	ks_vmlinux_btf_trim();
	if (vm.mapped)
		munmap(vm.raw, vm.size);
	else
		free(vm.raw);
	vm.raw = NULL;
	vm.mapped = false;
}

bool ks_vmlinux_btf_cached(void)
{
	return vm.raw != NULL;
}

unsigned int ks_vmlinux_btf_copies(void)
{
	return vm.copies;
}

/* libbpf's calls (see btfcache.h); the build wraps the symbol for the ksight binary only. */
struct btf *__wrap_btf__load_vmlinux_btf(void);

struct btf *__wrap_btf__load_vmlinux_btf(void)
{
	vm.copies++;
	return ks_vmlinux_btf_copy();
}
