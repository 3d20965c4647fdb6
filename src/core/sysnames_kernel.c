// SPDX-License-Identifier: GPL-2.0
/*
 * The running kernel's syscall names (see bpf/sysnames_meta.h): open the "enable" file of
 * every syscalls/sys_enter_* trace event, load only sysnames__iter and its map from its
 * own object (bpf/sysnames.bpf.c), run it once as a task_file iterator over our own descriptors, and keep
 * each number the kernel's metadata gives. Any failure (no root, no
 * CONFIG_FTRACE_SYSCALLS, no tracefs, no BPF iterators, no BTF) leaves the headers'
 * names; -v says why.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/btfcache.h"
#include "core/btfmin.h"
#include "core/iter.h"
#include "core/log.h"
#include "core/probe.h"
#include "core/objects.h"
#include "core/sysnames.h"
#include "sysnames.skel.h"
#include "sysnames_meta.h"

struct ev_file {
	int fd;
	char kname[SYSNAMES_LEN];	/* what the metadata must be called: "sys_read" */
};

/* Open every syscalls/sys_enter_<name>/enable. Returns how many (*out is malloc'ed). */
static int open_events(struct ev_file **out)
{
	const char *tracefs = ks_tracefs();
	struct ev_file *ev = NULL;
	struct dirent *d;
	char path[512];
	int n = 0, cap = 0;
	DIR *dir;

	*out = NULL;
	if (!tracefs)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/events/syscalls", tracefs);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		const char *name = d->d_name + 10;	/* after "sys_enter_" */
		int fd;

		if (strncmp(d->d_name, "sys_enter_", 10) || strlen(name) + 5 > SYSNAMES_LEN)
			continue;
		snprintf(path, sizeof(path), "%s/events/syscalls/%s/enable", tracefs, d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fd >= SYSNAMES_FDS || (n == cap && !(ev = realloc(*out, (cap += 256) *
								  sizeof(*ev))))) {
			close(fd);
			break;
		}
		*out = ev;
		ev[n].fd = fd;
		snprintf(ev[n].kname, sizeof(ev[n].kname), "sys_%s", name);
		n++;
	}
	closedir(dir);
	return n ? n : -ENOENT;
}

static int read_metadata(struct ks_sysnames *t, const struct ev_file *ev, int n)
{
	/* after a session's start the kernel's BTF is no longer cached: give back what this
	 * load reads again (5 MB) */
	bool cached = ks_vmlinux_btf_cached();
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	char path[32];
	int core_btf = ks_btfmin_use("sysnames", sysnames_bpf__elf_bytes, &opts, path,
				     sizeof(path), NULL);
	struct sysnames_bpf *skel = sysnames_bpf__open_opts(&opts);
	struct bpf_program *p;
	struct bpf_map *m;
	int err;

	if (!skel) {
		err = -errno;
		if (core_btf >= 0)
			close(core_btf);
		return err;
	}
	/* only this program and its map (and .rodata, which libbpf binds to every program):
	 * not the shared maps every object defines (common.bpf.h) */
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, p == skel->progs.sysnames__iter);
	bpf_object__for_each_map(m, skel->obj)
		bpf_map__set_autocreate(m, m == skel->maps.sysnames_out ||
					   m == skel->maps.rodata);
	err = bpf_map__set_max_entries(skel->maps.sysnames_out, SYSNAMES_FDS);
	/* bpf_object__load, not the skeleton's: that would mmap the maps left uncreated */
	if (!err)
		err = bpf_object__load(skel->obj);
	if (core_btf >= 0)
		close(core_btf);
	if (!err)
		err = ks_iter_once(skel->progs.sysnames__iter);
	for (int i = 0; !err && i < n; i++) {
		struct sysnames_ent e;
		__u32 key = ev[i].fd;

		if (bpf_map__lookup_elem(skel->maps.sysnames_out, &key, sizeof(key), &e, sizeof(e),
					 0) || !e.seen)
			continue;
		e.name[SYSNAMES_LEN - 1] = 0;
		/* trust only metadata named like the event it was reached from */
		if (!strcmp(e.name, ev[i].kname))
			ks_sysnames_set_kernel(t, e.nr, e.name);
	}
	sysnames_bpf__destroy(skel);
	ks_release_elf(sysnames_bpf__elf_bytes);
	if (!cached) {
		ks_vmlinux_btf_release();
		ks_btfmin_free();
	}
	if (err) {
		char name[64];

		ks_log_failed_prog(name, sizeof(name));	/* not a failure of the session's load */
	}
	return err < 0 ? err : 0;
}

const struct ks_sysnames *ks_sysnames(void)
{
	static struct ks_sysnames table;
	static bool loaded;
	struct ev_file *ev;
	int n, err;

	if (loaded)
		return &table;
	loaded = true;
	ks_sysnames_init(&table);
	n = open_events(&ev);
	err = n < 0 ? n : read_metadata(&table, ev, n);
	for (int i = 0; i < n; i++)
		close(ev[i].fd);
	free(ev);
	if (!err && !table.from_kernel)
		err = -ENOENT;
	if (err && ks_log_verbose())
		fprintf(stderr, "ksight: syscall names from the build headers, not the kernel: "
			"%s\n", err == -ENOENT ? "no syscall trace events (CONFIG_FTRACE_SYSCALLS)"
						: strerror(-err));
	return &table;
}
