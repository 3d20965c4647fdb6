// SPDX-License-Identifier: GPL-2.0
/* The maps of announced process images, read on a worker into a symbolizer (symmaps.h). */
#include <errno.h>
#include <stdlib.h>

#include "core/symmaps.h"
#include "core/worker.h"

#define MAPS_JOBS 1024

struct maps_job {
	struct ks_job j;
	struct ks_symmaps *m;
	uint32_t pid, exec_id;
	char *text;
};

static void maps_run(struct ks_job *j, struct ks_worker *w)
{
	struct maps_job *job = (struct maps_job *)j;

	job->text = ks_maps_read("/proc", job->pid);
}

/* On the reader's thread (drained there): the symbolizer is touched by it alone. */
static void maps_finish(struct ks_job *j, bool ran)
{
	struct maps_job *job = (struct maps_job *)j;

	if (!ran || !job->text ||
	    ks_symbolizer__set_maps(job->m->sym, job->pid, job->exec_id, job->text))
		job->m->failed++;
	free(job->text);
	free(job);
}

int ks_symmaps_start(struct ks_symmaps *m)
{
	m->sym = ks_symbolizer__new("/proc", "/usr/lib/debug");
	if (!m->sym)
		return -errno;
	m->worker = ks_worker__new(MAPS_JOBS, 0, true);
	return m->worker ? 0 : -errno;
}

void ks_symmaps_want(struct ks_symmaps *m, uint32_t pid, uint32_t exec_id)
{
	struct maps_job *job = calloc(1, sizeof(*job));

	ks_worker__drain(m->worker);
	if (!job) {
		m->failed++;
		return;
	}
	job->j.run = maps_run;
	job->j.finish = maps_finish;
	job->m = m;
	job->pid = pid;
	job->exec_id = exec_id;
	if (ks_worker__submit(m->worker, &job->j)) {
		m->failed++;
		free(job);
	}
}

void ks_symmaps_sync(struct ks_symmaps *m)
{
	ks_worker__wait_idle(m->worker, 5000);
}

void ks_symmaps_stop(struct ks_symmaps *m)
{
	ks_worker__free(m->worker);
	m->worker = NULL;
	ks_symbolizer__free(m->sym);
	m->sym = NULL;
}
