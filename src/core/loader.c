// SPDX-License-Identifier: GPL-2.0
/*
 * Loading: open the one linked object, switch off every program that was not chosen, set
 * the filters and the dispatcher's routing, let modules set their rodata, load, attach.
 * In the agent, a module whose programs the kernel refuses is dropped and the load retried
 * without it, so the rest runs.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/log.h"
#include "core/session_int.h"
#include "core/skel.h"
#include "ksight.skel.h"

static const char *const disp_exit[] = { [KS_FAM_TP_BTF] = "core__sys_exit_btf",
					  [KS_FAM_RAW_TP] = "core__sys_exit_raw",
					  [KS_FAM_TP] = "core__sys_exit_tp" };
static const char *const disp_enter[] = { [KS_FAM_TP_BTF] = "core__sys_enter_btf",
					   [KS_FAM_RAW_TP] = "core__sys_enter_raw",
					   [KS_FAM_TP] = "core__sys_enter_tp" };

static int enable(struct ks_ctx *c, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(c->skel->obj, name);

	if (!p) {
		fprintf(stderr, "ksight %s: internal error: no program %s\n", c->label, name);
		return -ENOENT;
	}
	return bpf_program__set_autoload(p, true);
}

static const struct ks_alt *chosen_alt(const struct ks_inst *in, int s)
{
	const struct ks_slot *slots = in->m ? in->m->slots : ks_core_slots;

	if (!in->wanted[s] || in->choice[s].alt < 0)
		return NULL;
	return &slots[s].alts[in->choice[s].alt];
}

static int enable_inst(struct ks_ctx *c, struct ks_inst *in)
{
	const struct ks_slot *slots = in->m ? in->m->slots : ks_core_slots;

	for (int s = 0; s < KS_MAX_SLOTS && slots[s].name; s++) {
		const struct ks_alt *a = chosen_alt(in, s);

		if (!a || a->family == KS_FAM_SYSCALL)
			continue;
		for (int k = 0; k < KS_ALT_PROGS && a->p[k].prog; k++)
			if (enable(c, a->p[k].prog))
				return -ENOENT;
	}
	return 0;
}

/* Route the module's syscalls through the dispatcher, if that is what was chosen. */
static void route_syscalls(struct ks_ctx *c, struct ks_inst *in)
{
	struct ksight_bpf *skel = c->skel;
	bool enter = in->m->want_enter && in->m->want_enter(in->state);

	for (int s = 0; s < KS_MAX_SLOTS && in->m->slots[s].name; s++) {
		const struct ks_alt *a = chosen_alt(in, s);

		if (!a || a->family != KS_FAM_SYSCALL)
			continue;
		skel->rodata->ks_sys_modules |= 1ULL << in->m->id;
		for (const int *p = a->syscalls; p && *p != -1; p++) {
			bool all = *p == KS_SYS_ALL;

			for (int nr = all ? 0 : *p; nr < (all ? KS_SYS_MAX : *p + 1); nr++) {
				if (nr < 0 || nr >= KS_SYS_MAX)
					continue;
				skel->rodata->ks_sys_exit_mask[nr] |= 1ULL << in->m->id;
				/* classic tracepoints have no registers at exit: keep the arguments */
				if (enter || c->dispatcher == KS_FAM_TP) {
					skel->rodata->ks_sys_enter_mask[nr] = 1;
					c->need_enter = true;
				}
			}
		}
	}
}

static int set_filters(struct ks_ctx *c)
{
	struct ksight_bpf *skel = c->skel;
	const struct ks_common *o = &c->common;
	unsigned int shift = 0;

	skel->rodata->ks_self_tgid = getpid();
	skel->rodata->ks_targ_tgid = o->pid;
	skel->rodata->ks_targ_tid = o->tid;
	if (o->uid != KS_UNSET) {
		skel->rodata->ks_filter_uid = true;
		skel->rodata->ks_targ_uid = o->uid;
	}
	if (o->comm) {
		char comm[16] = {};

		strncpy(comm, o->comm, sizeof(comm) - 1);
		skel->rodata->ks_filter_comm = true;
		memcpy((void *)skel->rodata->ks_targ_comm, comm, sizeof(comm));
	}
	skel->rodata->ks_filter_cgroup = c->cgroup_fd >= 0;
	/* headers read comm straight from the task where its BTF pointer can be had (5.11+) */
	skel->rodata->ks_task_btf = libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT,
							    BPF_FUNC_get_current_task_btf,
							    NULL) == 1;
	/* wake the reader each time a quarter of the buffer fills */
	while ((1ULL << (shift + 1)) <= o->ringbuf_size / 4)
		shift++;
	skel->rodata->ks_wake_shift = shift ? shift : 1;
	return bpf_map__set_max_entries(skel->maps.ks_rb, o->ringbuf_size);
}

/*
 * Maps of modules that are not running still get created: make them one entry so they
 * cost no kernel memory. A module's maps carry its name as prefix ("biolat_hists").
 */
static int shrink_unused_maps(struct ks_ctx *c)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, c->skel->obj) {
		const char *name = bpf_map__name(map);
		enum bpf_map_type t = bpf_map__type(map);
		bool used = !strncmp(name, "ks_", 3) || name[0] == '.';

		for (int i = 0; !used && i < c->ninst; i++) {
			size_t n = strlen(c->inst[i].m->name);

			used = !c->inst[i].failed && !strncmp(name, c->inst[i].m->name, n) &&
			       name[n] == '_';
		}
		/* local storage: older kernels lack the types, and only the owner's own
		 * programs (not loaded) refer to them: do not create them at all */
		if (!used && (t == BPF_MAP_TYPE_TASK_STORAGE || t == BPF_MAP_TYPE_SK_STORAGE ||
			      t == BPF_MAP_TYPE_INODE_STORAGE)) {
			if (bpf_map__set_autocreate(map, false))
				return -EINVAL;
			continue;
		}
		if (used || (t != BPF_MAP_TYPE_HASH && t != BPF_MAP_TYPE_ARRAY &&
			     t != BPF_MAP_TYPE_PERCPU_HASH && t != BPF_MAP_TYPE_PERCPU_ARRAY &&
			     t != BPF_MAP_TYPE_LRU_HASH))
			continue;
		if (bpf_map__set_max_entries(map, 1))
			return -EINVAL;
	}
	return 0;
}

static void destroy(struct ks_ctx *c)
{
	ks_ctx_detach(c);
	ksight_bpf__destroy(c->skel);
	c->skel = NULL;
}

struct ksight_bpf *ks_skel_open(void)
{
	return ksight_bpf__open();
}

void ks_skel_release_pages(void)
{
	size_t size, page = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = (uintptr_t)ksight_bpf__elf_bytes(&size);
	uintptr_t first = (start + page - 1) & ~(page - 1), end = (start + size) & ~(page - 1);

	if (end > first)
		madvise((void *)first, end - first, MADV_DONTNEED);
}

/* Open, configure and load once. Returns 0, or -errno with the failing module in *culprit. */
static int load_once(struct ks_ctx *c, struct ks_inst **culprit)
{
	struct bpf_program *prog;
	char name[128];
	bool task;
	int err;

	*culprit = NULL;
	c->skel = ks_skel_open();
	if (!c->skel)
		return -errno;
	bpf_object__for_each_program(prog, c->skel->obj)
		bpf_program__set_autoload(prog, false);
	err = enable_inst(c, &c->core);
	c->need_enter = false;
	for (int i = 0; !err && i < c->ninst; i++) {
		struct ks_inst *in = &c->inst[i];

		if (in->failed)
			continue;
		err = enable_inst(c, in);
		route_syscalls(c, in);
	}
	if (!err && c->skel->rodata->ks_sys_modules) {
		err = enable(c, disp_exit[c->dispatcher]);
		if (!err && c->need_enter)
			err = enable(c, disp_enter[c->dispatcher]);
	}
	c->skel->rodata->ks_sys_track_enter = c->need_enter;
	/* tp_btf entries in task storage (a pointer away from the task) where it exists */
	task = c->need_enter && c->dispatcher == KS_FAM_TP_BTF &&
	       libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) == 1;
	c->skel->rodata->ks_sys_enter_task = task;
	if (!err)
		err = bpf_map__set_autocreate(c->skel->maps.ks_sys_task, task);
	if (!err && (!c->need_enter || task))
		err = bpf_map__set_max_entries(c->skel->maps.ks_sys_inflight, 1);
	if (!err)
		err = set_filters(c);
	if (!err)
		err = shrink_unused_maps(c);
	for (int i = 0; !err && i < c->ninst; i++) {
		struct ks_inst *in = &c->inst[i];

		if (in->failed || !in->m->setup)
			continue;
		err = in->m->setup(c, in->state, c->skel);
		if (err) {
			*culprit = in;
			snprintf(in->err, sizeof(in->err), "%s: setup failed: %s", in->m->name,
				 strerror(-err));
		}
	}
	if (err)
		return err;
	err = ksight_bpf__load(c->skel);
	if (!err)
		return 0;
	if (err >= 0)
		err = -EINVAL;
	if (ks_log_failed_prog(name, sizeof(name))) {
		for (int i = 0; i < c->ninst; i++) {
			size_t n = strlen(c->inst[i].m->name);

			if (!strncmp(name, c->inst[i].m->name, n) && name[n] == '_') {
				*culprit = &c->inst[i];
				break;
			}
		}
		snprintf((*culprit ? *culprit : &c->core)->err, sizeof(c->core.err),
			 "%s: the kernel refused program %s: %s%s",
			 *culprit ? (*culprit)->m->name : "core", name, strerror(-err),
			 ks_log_verbose() ? "" : " (-v shows the verifier log)");
	} else {
		snprintf(c->core.err, sizeof(c->core.err), "loading BPF programs failed: %s%s",
			 strerror(-err), ks_log_verbose() ? "" : " (-v shows libbpf's log)");
	}
	return err;
}

static int attach(struct ks_ctx *c, struct ks_inst **culprit)
{
	struct bpf_program *prog;
	int n = 0;

	bpf_object__for_each_program(prog, c->skel->obj)
		n += bpf_program__autoload(prog);
	c->links = calloc(n ? n : 1, sizeof(*c->links));
	if (!c->links)
		return -ENOMEM;
	bpf_object__for_each_program(prog, c->skel->obj) {
		const char *name = bpf_program__name(prog);
		struct bpf_link *l;

		if (!bpf_program__autoload(prog))
			continue;
		l = bpf_program__attach(prog);
		if (!l) {
			int err = -errno;

			for (int i = 0; i < c->ninst; i++) {
				size_t len = strlen(c->inst[i].m->name);

				if (!strncmp(name, c->inst[i].m->name, len) && name[len] == '_')
					*culprit = &c->inst[i];
			}
			snprintf((*culprit ? *culprit : &c->core)->err, sizeof(c->core.err),
				 "%s: cannot attach %s: %s", *culprit ? (*culprit)->m->name : "core",
				 name, strerror(-err));
			return err;
		}
		c->links[c->nlinks++] = l;
	}
	return 0;
}

void ks_ctx_detach(struct ks_ctx *c)
{
	for (int i = 0; i < c->nlinks; i++)
		bpf_link__destroy(c->links[i]);
	free(c->links);
	c->links = NULL;
	c->nlinks = 0;
}

int ks_ctx_load(struct ks_ctx *c)
{
	for (;;) {
		struct ks_inst *culprit = NULL;
		int err = load_once(c, &culprit);

		if (!err)
			err = attach(c, &culprit);
		if (!err)
			break;
		destroy(c);
		if (c->mode != KS_MODE_AGENT || !culprit) {
			struct ks_inst *in = culprit ? culprit : &c->core;

			fprintf(stderr, "ksight %s: %s\n", c->label, in->err[0] ? in->err :
				strerror(-err));
			return err;
		}
		culprit->failed = true;
		fprintf(stderr, "ksight %s: %s (module skipped)\n", c->label, culprit->err);
	}
	if (c->cgroup_fd >= 0) {
		__u32 key = 0, fd = c->cgroup_fd;

		if (bpf_map__update_elem(c->skel->maps.ks_cgroup_filter, &key, sizeof(key), &fd,
					 sizeof(fd), BPF_ANY)) {
			fprintf(stderr, "ksight %s: cannot set the cgroup filter: %s\n", c->label,
				strerror(errno));
			return -errno;
		}
	}
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.ks_rb), ks_ctx_on_record, c, NULL);
	if (!c->rb) {
		fprintf(stderr, "ksight %s: cannot map the ring buffer: %s\n", c->label,
			strerror(errno));
		return -errno;
	}
	/* the kernel's BTF (megabytes) was parsed for probing and by libbpf: give it back */
	ks_probe__release_btf(c->probe);
	malloc_trim(0);
	ks_skel_release_pages();
	return 0;
}
