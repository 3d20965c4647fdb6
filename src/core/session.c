// SPDX-License-Identifier: GPL-2.0
/* Session lifecycle and the functions modules call (module.h). */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "core/legacy.h"
#include "core/procfs.h"
#include "core/session_int.h"
#include "core.skel.h"

#define CGROUP2_SUPER_MAGIC 0x63677270

static volatile sig_atomic_t stop_requested;

void ks_ctx__request_stop(void)
{
	stop_requested = 1;
}

static void name_types(struct ks_ctx *c, struct ks_inst *in)
{
	for (const struct ks_evtype *t = in->m->types; t && t->name; t++) {
		unsigned int i = t->type & (KS_EV_MAX - 1);
		int k = 0;

		/* core lifecycle types go to every module that prints them (exec, proc) */
		while (k < KS_TYPE_MODS && c->by_type[i][k])
			k++;
		if (k < KS_TYPE_MODS)
			c->by_type[i][k] = in;
		if (!c->type_name[i])
			c->type_name[i] = t->name;
	}
}

struct ks_ctx *ks_ctx__new(enum ks_mode mode, const struct ks_common *common,
			   const struct ks_module *const *mods, void *const *states, int n,
			   const char *label)
{
	struct ks_ctx *c = calloc(1, sizeof(*c));
	int ncpu = libbpf_num_possible_cpus();

	if (!c)
		return NULL;
	c->mode = mode;
	c->common = *common;
	c->label = label;
	c->cgroup_fd = -1;
	c->ncpu = ncpu > 0 ? ncpu : 1;
	c->t_start = ks_clock_mono_now();
	ks_clock_init(&c->clock);
	for (int i = 0; i < n && i < KS_MOD_MAX; i++) {
		c->inst[i].m = mods[i];
		c->inst[i].state = states[i];
		c->ninst++;
		name_types(c, &c->inst[i]);
	}
	/* the first module's name for a type wins; these are for types no module prints */
	if (!c->type_name[KS_EV_PROC_EXEC])
		c->type_name[KS_EV_PROC_EXEC] = "proc_exec";
	if (!c->type_name[KS_EV_PROC_EXIT])
		c->type_name[KS_EV_PROC_EXIT] = "proc_exit";
	if (!c->type_name[KS_EV_PROC_TEXIT])
		c->type_name[KS_EV_PROC_TEXIT] = "proc_thread_exit";
	c->type_name[KS_EV_SYS_INFLIGHT] = "sys_inflight";
	c->probe = ks_probe__new();
	if (!c->probe || ks_loss_init(&c->loss, c->ncpu))
		goto fail;
	for (int i = 0; i < c->ninst; i++)
		for (const struct ks_evtype *t = c->inst[i].m->types; t && t->name; t++)
			c->loss.agg_type[t->type & (KS_EV_MAX - 1)] = t->agg;
	c->ident = ks_ident__new(mode == KS_MODE_AGENT ? 8192 : 4096, NULL);
	if (!c->ident)
		goto fail;
	c->sink = ks_sink__new(STDOUT_FILENO, common->json, common->timestamps, &c->clock);
	if (!c->sink)
		goto fail;
	return c;
fail:
	ks_ctx__free(c);
	errno = ENOMEM;
	return NULL;
}

void ks_ctx__free(struct ks_ctx *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	ks_ctx_unload(c);
	for (int i = 0; i < c->ninst; i++)
		if (c->inst[i].m->fini)
			c->inst[i].m->fini(c->inst[i].state);
	if (c->cgroup_fd >= 0)
		close(c->cgroup_fd);
	ks_sink__free(c->sink);
	ks_ident__free(c->ident);
	ks_loss_free(&c->loss);
	ks_probe__free(c->probe);
	free(c);
}

void ks_ctx_say(const struct ks_ctx *c, const char *msg, const char *suffix)
{
	size_t n = strlen(c->label);

	if (!strncmp(msg, c->label, n) && !strncmp(msg + n, ": ", 2))
		msg += n + 2;
	fprintf(stderr, "ksight %s: %s%s\n", c->label, msg, suffix ? suffix : "");
}

int ks_ctx__select(struct ks_ctx *c)
{
	return ks_ctx_select(c);
}

int ks_ctx__verify(struct ks_ctx *c)
{
	int err;

	ks_loading_memory(true);
	err = ks_ctx_verify(c);
	c->verified = true;
	ks_ctx_unload(c);
	ks_probe__release_btf(c->probe);
	ks_loading_memory(false);
	return err;
}

static int open_cgroup(struct ks_ctx *c)
{
	struct statfs fs;

	c->cgroup_fd = open(c->common.cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->cgroup_fd < 0 || fstatfs(c->cgroup_fd, &fs) || fs.f_type != CGROUP2_SUPER_MAGIC) {
		fprintf(stderr, "ksight %s: --cgroup %s: not a cgroup v2 directory\n", c->label,
			c->common.cgroup);
		return -EINVAL;
	}
	return 0;
}

static void on_signal(int sig)
{
	stop_requested = 1;
}

/*
 * The reader must run soon after the kernel wakes it. Under a flood that keeps every CPU
 * busy, a reader at the workload's priority sometimes waited long enough for the ring to
 * overflow (bench/RESULTS.md, saturation). Its CPU is bounded by the events it reads, so a
 * higher weight costs the workload little. Only from the default nice: a user's choice
 * (nice, systemd's Nice=) stands.
 */
#define KS_READER_NICE -5

static void reader_priority(void)
{
	errno = 0;
	if (getpriority(PRIO_PROCESS, 0) == 0 && !errno)
		setpriority(PRIO_PROCESS, 0, KS_READER_NICE);
}

int ks_ctx__start(struct ks_ctx *c)
{
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t t0 = ks_clock_mono_now();
	struct ks_rec r;
	int err;

	ks_loading_memory(true);
	/* from here on Ctrl-C detaches cleanly: before the ready line, never after it */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ks_legacy_sweep_at_start(c->label);
	if (c->common.cgroup && (err = open_cgroup(c)))
		return err;
	err = ks_ctx_select(c);
	if (!err)
		err = ks_ctx_load(c);
	ks_loading_memory(false);
	if (err)
		return err;
	if (c->mode == KS_MODE_AGENT)
		ks_ident__seed(c->ident);
	reader_priority();
	for (int i = 0; i < c->ninst; i++)
		if (!c->inst[i].failed && c->inst[i].m->started)
			c->inst[i].m->started(c, c->inst[i].state);

	if (c->common.pid) {
		/* the filter is one tgid in the kernel: say so before a forking server's
		 * children look idle */
		int kids = ks_count_children("/proc", c->common.pid);

		if (kids > 0)
			fprintf(stderr, "ksight %s: note: -p %llu is that process only, not its %d "
				"child process%s (--cgroup or -n takes them in)\n", c->label,
				(unsigned long long)c->common.pid, kids, kids == 1 ? "" : "es");
	}
	double ms = (ks_clock_mono_now() - t0) / 1e6;
	fprintf(stderr, "ksight %s: ready in %.0f ms (%d programs attached); Ctrl-C to stop\n",
		c->label, ms, c->nlinks);
	if (c->common.json) {
		ks_rec_init(&r, "ready", NULL);
		ks_rec_str(&r, "command", NULL, 0, c->label, strlen(c->label));
		ks_rec_add(&r, "ms", NULL, 0, KS_V_DOUBLE)->d = ms;
		ks_rec_int(&r, "programs", NULL, 0, c->nlinks);
		ks_emit(c, &r);
		ks_sink__flush(c->sink);
	}
	return 0;
}

static void interval_work(struct ks_ctx *c, double secs)
{
	if (c->mode == KS_MODE_TOOL)
		ks_sink__mark(c->sink, ks_clock_real(&c->clock, ks_clock_mono_now()));
	for (int i = 0; i < c->ninst; i++) {
		struct ks_inst *in = &c->inst[i];

		if (in->failed)
			continue;
		if (c->mode == KS_MODE_AGENT && in->m->summary)
			in->m->summary(c, in->state, in->o.skel, secs);
		else if (c->mode == KS_MODE_TOOL && in->m->report)
			in->m->report(c, in->state, in->o.skel);
	}
	if (c->mode == KS_MODE_AGENT)
		ks_ctx_print_stats(c, false);
}

int ks_ctx__run(struct ks_ctx *c)
{
	const uint64_t tick = 100 * 1000000ULL;	/* the reader's timer: <= 100 ms */
	uint64_t now = ks_clock_mono_now(), interval = c->common.interval * 1000000000ULL;
	uint64_t deadline = c->common.duration ? now + c->common.duration * 1000000000ULL : 0;
	uint64_t next = interval ? now + interval : 0, last = now, reports = 0;
	bool counted_out = false;
	int err = 0;

	while (!stop_requested) {
		uint64_t wait = tick;

		if (next && next - now < wait)
			wait = next > now ? next - now : 0;
		if (deadline && deadline - now < wait)
			wait = deadline > now ? deadline - now : 0;
		err = ring_buffer__poll(c->rb, (int)(wait / 1000000));
		if (err < 0 && err != -EINTR)
			break;
		/* poll only consumes when woken; the timer path drains here */
		ring_buffer__consume(c->rb);
		err = 0;
		if (ks_sink__flush(c->sink) == -EPIPE)
			break;
		now = ks_clock_mono_now();
		if (next && now >= next) {
			interval_work(c, (now - last) / 1e9);
			last = now;
			next += interval;
			if (c->common.count && ++reports >= c->common.count) {
				counted_out = true;
				break;
			}
		}
		if (deadline && now >= deadline)
			break;
	}
	/* stop production first, then drain, so the counters below are final */
	ks_ctx_detach(c);
	ring_buffer__consume(c->rb);
	/* tools report what the kernel aggregated since the last interval (or at all) */
	if (c->mode == KS_MODE_TOOL && !counted_out)
		for (int i = 0; i < c->ninst; i++)
			if (c->inst[i].m->report && !c->inst[i].failed)
				c->inst[i].m->report(c, c->inst[i].state, c->inst[i].o.skel);
	ks_ctx_print_stats(c, true);
	ks_sink__flush(c->sink);
	return err < 0 ? err : 0;
}

/* --- module.h --- */

void ks_emit(struct ks_ctx *c, struct ks_rec *r)
{
	if (r->hdr) {
		if (!r->real_ns)
			r->real_ns = ks_clock_real(&c->clock, r->hdr->ts);
		if (c->common.json && !r->service)
			r->service = ks_ident__service(c->ident, r->hdr->pid, r->hdr->cgroup,
						       r->hdr->comm);
	}
	if (!r->real_ns)
		r->real_ns = ks_clock_real(&c->clock, ks_clock_mono_now());
	ks_sink__emit(c->sink, r);
}

bool ks_ctx_streaming(const struct ks_ctx *c)
{
	return c->mode == KS_MODE_TOOL || c->common.json;
}

const struct ks_common *ks_ctx_common(const struct ks_ctx *c)
{
	return &c->common;
}

int64_t ks_ctx_real(const struct ks_ctx *c, uint64_t mono_ns)
{
	return ks_clock_real(&c->clock, mono_ns);
}

void ks_ctx_aggregated(struct ks_ctx *c, uint16_t type, uint64_t total)
{
	c->loss.aggregated[type & (KS_EV_MAX - 1)] = total;
}

const char *ks_ctx_service(struct ks_ctx *c, uint32_t pid, uint64_t cgroup)
{
	return ks_ident__service(c->ident, pid, cgroup, "?");
}

int ks_ctx_slot_family(const struct ks_ctx *c, const struct ks_module *m, const char *slot)
{
	for (int i = 0; i < c->ninst; i++) {
		const struct ks_inst *in = &c->inst[i];

		if (in->m != m)
			continue;
		for (int s = 0; s < KS_MAX_SLOTS && m->slots[s].name; s++)
			if (!strcmp(m->slots[s].name, slot))
				return in->wanted[s] && in->choice[s].alt >= 0 ? (int)in->choice[s].family
									       : -1;
	}
	return -1;
}

struct btf *ks_ctx_btf(struct ks_ctx *c)
{
	return ks_probe__btf(c->probe);
}
