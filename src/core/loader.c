// SPDX-License-Identifier: GPL-2.0
/*
 * Loading: the maps every object shares first (the core's object with no program), then
 * the core's programs (the lifecycle, the syscall dispatcher) and each module's object,
 * each on its own and all at once, reusing those maps. Only the chosen programs load.
 * A module the kernel refuses costs that module alone: the agent reports it with the
 * verifier's reason and runs the rest; a tool stops. Once every module is in, the
 * dispatcher's routes and tail-call slots are filled for the modules that loaded, and
 * everything is attached (attach.c).
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/btfcache.h"
#include "core/btfmin.h"
#include "core/log.h"
#include "core/objects.h"
#include "core/session_int.h"
#include "core.skel.h"

KS_BPF_OBJECT(core);

static const char *const mod_sys[] = { [KS_FAM_TP_BTF] = "sys_btf", [KS_FAM_RAW_TP] = "sys_raw",
					[KS_FAM_TP] = "sys_tp" };

static const char *inst_name(const struct ks_inst *in)
{
	return in->m ? in->m->name : "core";
}

/* Mark the chosen alternatives' programs for loading. */
static int enable_inst(struct ks_ctx *c, struct ks_inst *in)
{
	const struct ks_slot *slots = in->m ? in->m->slots : ks_core_slots;
	char name[64];
	int err;

	in->dispatched = false;
	for (int s = 0; s < KS_MAX_SLOTS && slots[s].name; s++) {
		const struct ks_alt *a = ks_inst_alt(in, s);

		if (!a)
			continue;
		if (a->family == KS_FAM_SYSCALL) {
			in->dispatched = true;
			continue;
		}
		for (int k = 0; k < KS_ALT_PROGS && a->p[k].prog; k++)
			if ((err = ks_bpfobj_enable(&in->o, a->p[k].prog, c->label)))
				return err;
	}
	in->inlined = in->dispatched && ks_inst_all_inline(in);
	/* `ksight status` verifies the handler all the same: other options need it */
	if (in->dispatched && (!in->inlined || c->mode == KS_MODE_STATUS)) {
		snprintf(name, sizeof(name), "%s__%s", in->m->bpf->name, mod_sys[c->dispatcher]);
		if ((err = ks_bpfobj_enable(&in->o, name, c->label)))
			return err;
	}
	return 0;
}

/* The configuration every object gets: filters, wake-up threshold, dispatcher settings. */
static void build_config(struct ks_ctx *c, struct ks_config *cfg)
{
	const struct ks_common *o = &c->common;
	unsigned int shift = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->self_tgid = getpid();
	cfg->targ_tgid = o->pid;
	cfg->targ_tid = o->tid;
	if (o->uid != KS_UNSET) {
		cfg->filter_uid = 1;
		cfg->targ_uid = o->uid;
	}
	if (o->comm) {
		char comm[16] = {};

		strncpy(comm, o->comm, sizeof(comm) - 1);
		cfg->filter_comm = 1;
		memcpy(cfg->targ_comm, comm, sizeof(comm));
	}
	cfg->filter_cgroup = c->cgroup_fd >= 0;
	/* headers read comm straight from the task where its BTF pointer can be had (5.11+) */
	cfg->task_btf = libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT,
						BPF_FUNC_get_current_task_btf, NULL) == 1;
	/* wake the reader each time a quarter of the buffer fills */
	while ((1ULL << (shift + 1)) <= o->ringbuf_size / 4)
		shift++;
	cfg->wake_shift = shift ? shift : 1;
	cfg->sys_track_enter = c->need_enter;
	/* tp_btf entries in task storage (a pointer away from the task) where it exists */
	cfg->sys_enter_task = c->need_enter && c->dispatcher == KS_FAM_TP_BTF &&
			      libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) == 1;
	cfg->emit_proc = 1;
	for (int i = 0; i < c->ninst; i++)
		if (!c->inst[i].failed && c->inst[i].m->thread_exits)
			cfg->emit_thread_exit = 1;
}

/* What the dispatcher's routes will need, before anything loads: sys_enter records (entry
 * times, or the arguments where classic tracepoints have no registers at exit), and its
 * own tables (ks_sys_counts, ks_fd_io). */
static void route_needs(struct ks_ctx *c)
{
	struct ks_sys_route route[KS_SYS_MAX];

	memset(route, 0, sizeof(route));
	for (int i = 0; i < c->ninst; i++)
		if (!c->inst[i].failed && ks_inst_dispatched(&c->inst[i]))
			ks_inst_routes(c, &c->inst[i], route);
	c->need_enter = c->need_counts = c->need_fd_io = false;
	for (int nr = 0; nr < KS_SYS_MAX; nr++) {
		c->need_enter |= route[nr].enter != 0;
		c->need_counts |= route[nr].count != 0;
		c->need_fd_io |= route[nr].io != 0;
	}
}

static bool refuse_requested(const char *name)
{
	const char *list = getenv("KSIGHT_TEST_REFUSE");
	size_t n = strlen(name);

	for (const char *p = list; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		if (!strncmp(p, name, n) && (p[n] == ',' || !p[n]))
			return true;
	}
	return false;
}

/* The shared maps' sizes, the same in both of the core's instances. */
static int size_maps(struct ks_ctx *c, struct core_bpf *skel, bool task)
{
	int err = bpf_map__set_max_entries(skel->maps.ks_rb, c->common.ringbuf_size);

	err = err ?: bpf_map__set_autocreate(skel->maps.ks_sys_task, task);
	if (!err && (!c->need_enter || task))
		err = bpf_map__set_max_entries(skel->maps.ks_sys_inflight, 1);
	if (!err && !c->need_counts)
		err = bpf_map__set_max_entries(skel->maps.ks_sys_counts, 1);
	if (!err && !c->need_fd_io)
		err = bpf_map__set_max_entries(skel->maps.ks_fd_io, 1);
	return err;
}

/* Open the core's object twice - the maps' instance and the programs' - and configure
 * both. Returns 0 or -errno (message in core.err). */
static int open_core(struct ks_ctx *c, const struct ks_config *cfg)
{
	struct ks_inst *in = &c->core;
	bool task = cfg->sys_enter_task;
	int err;

	err = ks_bpfobj_open(&c->maps, &core_bpf_obj);
	err = err ?: ks_bpfobj_open(&in->o, &core_bpf_obj);
	if (err) {
		snprintf(in->err, sizeof(in->err), "cannot open the core's BPF object: %s",
			 strerror(-err));
		return err;
	}
	c->skel = in->o.skel;
	err = enable_inst(c, in);
	if (!err && c->need_dispatcher && c->dispatcher >= 0) {
		err = ks_bpfobj_enable(&in->o, ks_dispatcher_prog(c->dispatcher, false), c->label);
		if (!err && c->need_enter)
			err = ks_bpfobj_enable(&in->o, ks_dispatcher_prog(c->dispatcher, true), c->label);
	}
	err = err ?: ks_bpfobj_set_config(&in->o, cfg);
	err = err ?: ks_bpfobj_set_config(&c->maps, cfg);
	err = err ?: size_maps(c, c->skel, task);
	err = err ?: size_maps(c, c->maps.skel, task);
	if (err && !in->err[0])
		snprintf(in->err, sizeof(in->err), "cannot configure the core's BPF object: %s",
			 strerror(-err));
	return err;
}

/* Open a module's object, mark its chosen programs, configure it and run its setup. */
static int open_module(struct ks_ctx *c, struct ks_inst *in, const struct ks_config *cfg)
{
	int err = ks_bpfobj_open(&in->o, in->m->bpf);

	if (err) {
		snprintf(in->err, sizeof(in->err), "%s: cannot open its BPF object: %s",
			 in->m->name, strerror(-err));
		return err;
	}
	err = enable_inst(c, in);
	if (!err && refuse_requested(in->m->name))
		err = ks_bpfobj_enable(&in->o, "ks__refused", c->label);
	err = err ?: ks_bpfobj_set_config(&in->o, cfg);
	if (err) {
		snprintf(in->err, sizeof(in->err), "%s: cannot configure its BPF object: %s",
			 in->m->name, strerror(-err));
		return err;
	}
	if (in->m->setup && (err = in->m->setup(c, in->state, in->o.skel)))
		snprintf(in->err, sizeof(in->err), "%s: setup failed: %s", in->m->name,
			 strerror(-err));
	return err;
}

/* Load @in's object; on a refusal, say which program and why in in->err. */
static int load_inst(struct ks_ctx *c, struct ks_inst *in)
{
	char prog[128], why[200];
	int err;

	if ((err = ks_bpfobj_share_maps(&in->o, &c->maps))) {
		snprintf(in->err, sizeof(in->err), "%s: cannot share the core's maps: %s",
			 inst_name(in), strerror(-err));
		return err;
	}
	ks_log_reset();
	err = ks_bpfobj_load(&in->o);
	if (!err)
		return 0;
	if (ks_log_failed_prog(prog, sizeof(prog))) {
		const char *reason = ks_log_verifier_reason(why, sizeof(why));

		snprintf(in->err, sizeof(in->err), "%s: the kernel refused program %s: %s%s%s%s",
			 inst_name(in), prog, strerror(-err), reason ? " (" : "",
			 reason ? reason : "", reason ? ")" : "");
	} else {
		snprintf(in->err, sizeof(in->err), "%s: loading its BPF object failed: %s%s",
			 inst_name(in), strerror(-err),
			 ks_log_verbose() ? "" : " (-v shows libbpf's log)");
	}
	return err;
}

/* A module that cannot run: gone from the session, said once on stderr. */
static void drop(struct ks_ctx *c, struct ks_inst *in)
{
	in->failed = true;
	ks_bpfobj_close(&in->o);
	if (c->mode == KS_MODE_AGENT)
		ks_ctx_say(c, in->err, " (module skipped)");
}

int ks_ctx_route(struct ks_ctx *c)
{
	struct ks_sys_route route[KS_SYS_MAX];
	int progs = bpf_map__fd(c->skel->maps.ks_sys_progs);

	memset(route, 0, sizeof(route));
	for (int i = 0; i < c->ninst; i++) {
		struct ks_inst *in = &c->inst[i];
		char name[64];
		__u32 key = in->m->id;
		int fd;

		if (in->failed || !in->dispatched || in->inlined) {
			bpf_map_delete_elem(progs, &key);
			if (!in->failed && in->inlined)
				ks_inst_routes(c, in, route);
			continue;
		}
		snprintf(name, sizeof(name), "%s__%s", in->m->bpf->name, mod_sys[c->dispatcher]);
		fd = bpf_program__fd(bpf_object__find_program_by_name(in->o.obj, name));
		if (fd < 0 || bpf_map_update_elem(progs, &key, &fd, BPF_ANY))
			return fd < 0 ? -ENOENT : -errno;
		ks_inst_routes(c, in, route);
	}
	for (__u32 nr = 0; nr < KS_SYS_MAX; nr++)
		if (bpf_map__update_elem(c->skel->maps.ks_sys_route, &nr, sizeof(nr), &route[nr],
					 sizeof(route[nr]), BPF_ANY))
			return -errno;
	return 0;
}

/*
 * Reading the kernel's BTF (5 MB, parsed once per process: btfcache.h) dominates start-up,
 * and most of its cost is first-touching the memory it goes to: ~1,300 page faults, about
 * 20 ms in this VM. While a session starts, big allocations stay on the heap and freed
 * memory stays mapped; the heap is grown at once, in huge pages where the kernel gives
 * them, and populated by one madvise instead of a fault per page (5.14+; older kernels
 * fault as before). Afterwards it is all given back.
 */
#define KS_LOAD_HEAP (16u << 20)	/* the parse (BTF size x ~1.3) and the objects */

static void grow_heap(void)
{
	char *p = malloc(KS_LOAD_HEAP);
	uintptr_t a, e;

	if (!p)
		return;
	a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	e = ((uintptr_t)p + KS_LOAD_HEAP) & ~(uintptr_t)4095;
	madvise((void *)a, e - a, MADV_HUGEPAGE);
	madvise((void *)a, e - a, MADV_POPULATE_WRITE);
	free(p);
}

void ks_loading_memory(bool on)
{
	/* the loading threads share this thread's warm memory instead of arenas of their own */
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_MMAP_THRESHOLD, on ? 256 << 20 : 128 << 10);
	mallopt(M_TRIM_THRESHOLD, on ? 512 << 20 : 128 << 10);
	if (on)
		grow_heap();
	else
		malloc_trim(0);
}

/*
 * The core's programs and the modules' load in parallel, a few threads taking the next
 * object each: verification is the kernel's CPU work, and the big modules (files, rw,
 * proc) take tens of ms each. Item 0 is the core, item i + 1 the session's inst[i].
 */
struct load_pool {
	struct ks_ctx *c;
	int next;			/* next item to take (atomic) */
	int err[KS_MOD_MAX + 1];	/* per item: 0, or -errno with its err set */
};

static void *load_worker(void *arg)
{
	struct load_pool *pool = arg;
	struct ks_ctx *c = pool->c;
	int i;

	while ((i = __atomic_fetch_add(&pool->next, 1, __ATOMIC_RELAXED)) <= c->ninst) {
		struct ks_inst *in = i ? &c->inst[i - 1] : &c->core;

		if (!in->failed)
			pool->err[i] = load_inst(c, in);
	}
	return NULL;
}

static void load_parallel(struct ks_ctx *c, struct load_pool *pool)
{
	const char *want = getenv("KSIGHT_LOAD_THREADS");	/* benchmarks compare 1 and more */
	long ncpu = want ? atol(want) : sysconf(_SC_NPROCESSORS_ONLN);
	int nthreads = ncpu < 1 ? 1 : ncpu > 4 ? 4 : ncpu, started = 0;
	pthread_t tid[4];

	pool->c = c;
	pool->next = 0;
	if (nthreads > c->ninst + 1)
		nthreads = c->ninst + 1;
	/* one thread is this one; a thread that cannot start leaves its share to the others */
	for (int t = 1; t < nthreads; t++)
		if (!pthread_create(&tid[started], NULL, load_worker, pool))
			started++;
	load_worker(pool);
	for (int t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
}

/* Open everything, create the shared maps, load the core and the modules. Returns 0 or
 * -errno. */
static int load_all(struct ks_ctx *c)
{
	struct load_pool pool = { 0 };
	struct ks_config cfg;
	int err, ok = 0;

	route_needs(c);
	build_config(c, &cfg);
	if ((err = open_core(c, &cfg)))
		goto fatal_core;
	for (int i = 0; i < c->ninst; i++) {
		struct ks_inst *in = &c->inst[i];

		if (in->failed)
			continue;
		if ((err = open_module(c, in, &cfg))) {
			if (c->mode == KS_MODE_TOOL)
				goto fatal;
			drop(c, in);
		}
	}
	/* the shared maps first (no program: quick), then every object's programs at once */
	ks_log_reset();
	if ((err = ks_bpfobj_load(&c->maps))) {
		snprintf(c->core.err, sizeof(c->core.err),
			 "cannot create the shared BPF maps: %s%s", strerror(-err),
			 ks_log_verbose() ? "" : " (-v shows libbpf's log)");
		goto fatal_core;
	}
	load_parallel(c, &pool);	/* every object borrows the one parse (btfcache.h) */
	ks_vmlinux_btf_trim();
	ks_btfmin_free();
	ks_bpfobj_close(&c->maps);	/* each loaded object holds the maps it uses */
	if ((err = pool.err[0]))
		goto fatal_core;
	for (int i = 0; i < c->ninst; i++) {
		struct ks_inst *in = &c->inst[i];

		if (in->failed)
			continue;
		if ((err = pool.err[i + 1])) {
			if (c->mode == KS_MODE_TOOL)
				goto fatal;
			drop(c, in);
			continue;
		}
		ok++;
	}
	if (!ok && c->ninst)
		return -ENOENT;
	return 0;
fatal_core:
	ks_ctx_say(c, c->core.err, NULL);
	return err;
fatal:
	for (int i = 0; i < c->ninst; i++)
		if (c->inst[i].err[0])
			ks_ctx_say(c, c->inst[i].err, NULL);
	return err;
}

int ks_ctx_load(struct ks_ctx *c)
{
	int err;

	err = load_all(c);
	if (!err)
		err = ks_ctx_attach(c);
	if (!err && c->cgroup_fd >= 0) {
		__u32 key = 0, fd = c->cgroup_fd;

		if (bpf_map__update_elem(c->skel->maps.ks_cgroup_filter, &key, sizeof(key), &fd,
					 sizeof(fd), BPF_ANY)) {
			err = -errno;
			fprintf(stderr, "ksight %s: cannot set the cgroup filter: %s\n", c->label,
				strerror(errno));
		}
	}
	if (!err) {
		c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.ks_rb), ks_ctx_on_record, c,
					 NULL);
		if (!c->rb) {
			err = -errno;
			fprintf(stderr, "ksight %s: cannot map the ring buffer: %s\n", c->label,
				strerror(errno));
		}
	}
	ks_probe__release_btf(c->probe);
	ks_bpfobj_release_pages(&c->core.o);
	for (int i = 0; i < c->ninst; i++)
		ks_bpfobj_release_pages(&c->inst[i].o);
	return err;
}

int ks_ctx_verify(struct ks_ctx *c)
{
	return load_all(c);
}

void ks_ctx_unload(struct ks_ctx *c)
{
	ks_ctx_detach(c);
	for (int i = 0; i < c->ninst; i++)
		ks_bpfobj_close(&c->inst[i].o);
	ks_bpfobj_close(&c->core.o);
	ks_bpfobj_close(&c->maps);	/* still open when loading stopped half-way */
	c->skel = NULL;
}
