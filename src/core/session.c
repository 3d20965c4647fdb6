// SPDX-License-Identifier: GPL-2.0
/* The session's life with the BPF side: start (select, load, attach), the run loop, the end. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
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

/* ctx.c's free calls this once start has loaded anything. */
static void unload(struct ks_ctx *c)
{
	for (int i = 0; i < c->nextra; i++) {
		if (c->extra[i].stop)
			c->extra[i].stop(c->extra[i].arg);
		c->extra[i].stop = NULL;
	}
	ks_selfstats_free(&c->self);
	ring_buffer__free(c->rb);
	c->rb = NULL;
	ks_ctx_unload(c);
}

void ks_ctx_say(const struct ks_ctx *c, const char *msg, const char *suffix)
{
	size_t n = strlen(c->label);

	if (!strncmp(msg, c->label, n) && !strncmp(msg + n, ": ", 2))
		msg += n + 2;
	fprintf(stderr, "ksight %s: %s%s\n", c->label, msg, suffix ? suffix : "");
}

void ks_ctx__set_extra(struct ks_ctx *c, const struct ks_extra *e)
{
	if (c->nextra < KS_EXTRAS)
		c->extra[c->nextra++] = *e;
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

	/* from here on Ctrl-C detaches cleanly: before the ready line, never after it */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ks_legacy_sweep_at_start(c->label);
	if (c->common.cgroup && (err = open_cgroup(c)))
		return err;
	/* before setup: a module asks (ks_ctx_streaming) what the outputs take */
	err = ks_ctx_open_outputs(c);
	if (err)
		return err;
	c->unload = unload;
	ks_loading_memory(true);
	err = ks_ctx_select(c);
	if (!err)
		err = ks_ctx_load(c);
	ks_loading_memory(false);
	if (err)
		return err;
	ks_ctx_tables_start(c);
	if (c->mode == KS_MODE_AGENT)
		ks_selfstats_init(c, &c->self);
	reader_priority();
	for (int i = 0; i < c->ninst; i++)
		if (!c->inst[i].failed && c->inst[i].m->started)
			c->inst[i].m->started(c, c->inst[i].state);
	for (int i = 0; i < c->nextra; i++) {
		if (!c->extra[i].start)
			continue;
		err = c->extra[i].start(c, c->extra[i].arg);
		if (err < 0)
			return err;
		c->nlinks += err;
	}

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
	ks_rec_init(&r, "ready", NULL);
	r.kind = KS_K_META;
	ks_rec_str(&r, "command", NULL, 0, c->label, strlen(c->label));
	ks_rec_add(&r, "ms", NULL, 0, KS_V_DOUBLE)->d = ms;
	ks_rec_int(&r, "programs", NULL, 0, c->nlinks);
	ks_emit(c, &r);
	ks_pipe__flush(&c->pipe, c->label, stderr);
	return 0;
}

/* Agent: what the kernel aggregated into the registry, for the summaries or the end. */
static void collect(struct ks_ctx *c)
{
	for (int i = 0; i < c->ninst; i++) {
		struct ks_inst *in = &c->inst[i];

		if (!in->failed && in->m->collect)
			in->m->collect(c, in->state, in->o.skel);
	}
	for (int i = 0; i < c->nextra; i++)
		if (c->extra[i].collect)
			c->extra[i].collect(c, c->extra[i].arg);
}

/* Agent: the kernel's aggregates into the registry, then each module's line of the last
 * @secs seconds, from the registry's deltas since the previous one. */
static void summaries(struct ks_ctx *c, double secs)
{
	collect(c);
	for (int i = 0; i < c->ninst; i++)
		if (!c->inst[i].failed && c->inst[i].m->summary)
			c->inst[i].m->summary(c, c->inst[i].state, secs > 1e-3 ? secs : 1e-3);
}

static void interval_work(struct ks_ctx *c, double secs)
{
	int64_t now = ks_clock_real(&c->clock, ks_clock_mono_now());

	if (c->mode == KS_MODE_TOOL) {
		ks_pipe__mark(&c->pipe, now);
		for (int i = 0; i < c->ninst; i++)
			if (!c->inst[i].failed && c->inst[i].m->report)
				c->inst[i].m->report(c, c->inst[i].state, c->inst[i].o.skel);
		return;
	}
	summaries(c, secs);
	ks_ctx_emit_stats(c, false);
	ks_selfstats_collect(c, &c->self);
	ks_pipe__metrics(&c->pipe, c->metrics, now);
	ks_metrics__mark(c->metrics);
	/* glibc gives back only the heap's top by itself; the agent runs for days, and the
	 * pages freed since (reports, /proc loads, late object loads) should not stay
	 * resident. A walk of the free lists each interval. */
	malloc_trim(0);
}

/* Ask the next record to wake the reader (ks_reader_idle in common.bpf.h). */
static void reader_idle(struct ks_ctx *c)
{
	__u32 key = 0, on = 1;

	bpf_map__update_elem(c->skel->maps.ks_reader_idle, &key, sizeof(key), &on, sizeof(on),
			     BPF_ANY);
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
		int got = ring_buffer__poll(c->rb, (int)(wait / 1000000));

		if (got < 0 && got != -EINTR) {
			err = got;
			break;
		}
		ks_worker__drain(c->worker);	/* /proc loads, even while no record comes */
		ks_selfstats_sample(&c->self);	/* what waits, before it is consumed */
		/* poll only consumes when woken; the timer path drains here */
		got = ring_buffer__consume(c->rb) + (got > 0 ? got : 0);
		/* a whole tick without a record: the next one wakes this reader */
		if (!got && wait == tick)
			reader_idle(c);
		err = 0;
		if (ks_pipe__flush(&c->pipe, c->label, stderr) == -EPIPE)
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
	/* the agent summarises what the kernel counted since the last interval, and brings
	 * it into the registry: the final stats then count every aggregated event */
	if (c->mode == KS_MODE_AGENT && !counted_out)
		summaries(c, (ks_clock_mono_now() - last) / 1e9);
	else if (c->mode == KS_MODE_AGENT)
		collect(c);
	/* the files' writers first, so that the final stats count what they dropped */
	ks_pipe__drain(&c->pipe, 2000);
	ks_ctx_emit_stats(c, true);
	if (c->mode == KS_MODE_AGENT)
		ks_selfstats_collect(c, &c->self);
	ks_pipe__metrics(&c->pipe, c->metrics, ks_clock_real(&c->clock, ks_clock_mono_now()));
	if (ks_pipe__close(&c->pipe, c->label, stderr) && !err)
		err = -EIO;
	ks_ctx_print_loss_line(c);
	if (c->fail_at_end && !err)
		err = -EIO;
	return err < 0 ? err : 0;
}

int ks_ctx_add_ring(struct ks_ctx *c, int map_fd, int (*fn)(void *arg, void *data, size_t size),
		    void *arg)
{
	int err;

	if (!c->rb)
		return -EINVAL;
	err = ring_buffer__add(c->rb, map_fd, fn, arg);
	return err < 0 ? err : 0;
}

void ks_ctx_fail_at_end(struct ks_ctx *c)
{
	c->fail_at_end = true;
}
