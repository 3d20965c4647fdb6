// SPDX-License-Identifier: GPL-2.0
/*
 * offcpu: the maps of each process image read when the kernel first took one of its user
 * stacks, on a worker thread (core/worker.h), so that a process that exits before the
 * report keeps its names and the ring buffer's reader never waits on a process's mmap
 * lock. The symbolizer (core/symbolize.h) keeps what the worker read.
 */
#include <errno.h>
#include <stdlib.h>

#include "core/worker.h"
#include "modules/offcpu_int.h"

#define MAPS_JOBS 1024

struct maps_job {
	struct ks_job j;
	struct offcpu_state *st;
	uint32_t pid, exec_id;
	char *text;
};

static void maps_run(struct ks_job *j, struct ks_worker *w)
{
	struct maps_job *m = (struct maps_job *)j;

	m->text = ks_maps_read("/proc", m->pid);
}

static void maps_finish(struct ks_job *j, bool ran)
{
	struct maps_job *m = (struct maps_job *)j;

	if (!ran || !m->text || ks_symbolizer__set_maps(m->st->sym, m->pid, m->exec_id, m->text))
		m->st->maps_failed++;
	free(m->text);
	free(m);
}

int offcpu_maps_start(struct offcpu_state *st)
{
	st->worker = ks_worker__new(MAPS_JOBS, 0, true);
	return st->worker ? 0 : -errno;
}

void offcpu_maps_want(struct offcpu_state *st, uint32_t pid, uint32_t exec_id)
{
	struct maps_job *m = calloc(1, sizeof(*m));

	ks_worker__drain(st->worker);
	if (!m) {
		st->maps_failed++;
		return;
	}
	m->j.run = maps_run;
	m->j.finish = maps_finish;
	m->st = st;
	m->pid = pid;
	m->exec_id = exec_id;
	if (ks_worker__submit(st->worker, &m->j)) {
		st->maps_failed++;
		free(m);
	}
}

void offcpu_maps_sync(struct offcpu_state *st)
{
	ks_worker__wait_idle(st->worker, 5000);
}

void offcpu_maps_stop(struct offcpu_state *st)
{
	ks_worker__free(st->worker);
	st->worker = NULL;
}
