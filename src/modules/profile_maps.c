// SPDX-License-Identifier: GPL-2.0
/*
 * profile: the maps of each process image read at its first sample, on a worker thread of
 * the module's own (core/worker.h), so that the ring buffer's reader never waits on a
 * process's mmap lock; the reader keeps what the worker read.
 */
#include <errno.h>
#include <stdlib.h>

#include "core/worker.h"
#include "modules/profile_int.h"

#define MAPS_JOBS 1024

struct maps_job {
	struct ks_job j;
	struct profile_state *st;
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

int profile_maps_start(struct profile_state *st)
{
	st->worker = ks_worker__new(MAPS_JOBS, 0, true);
	return st->worker ? 0 : -errno;
}

void profile_maps_want(struct profile_state *st, uint32_t pid, uint32_t exec_id)
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

void profile_maps_sync(struct profile_state *st)
{
	ks_worker__wait_idle(st->worker, 5000);
}

void profile_maps_stop(struct profile_state *st)
{
	ks_worker__free(st->worker);
	st->worker = NULL;
}
