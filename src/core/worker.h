/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One worker thread for the slow reads (/proc, cgroupfs) the caches need, so that the ring
 * buffer's reader never waits for them: a process being created or torn down holds locks
 * that /proc/PID/{cmdline,exe,fd} wait on, and a fork storm makes thousands of such reads.
 *
 * The reader submits jobs; the worker runs them one at a time in submission order and
 * touches nothing but the job and data that stays read-only while it runs; the reader
 * picks finished jobs up with ks_worker__drain() and publishes their results into its
 * caches. Only the two queues are shared, under one mutex. A full queue refuses jobs
 * (counted) instead of growing or blocking.
 *
 * KSIGHT_TEST_PROC_DELAY_MS (tests only) makes each /proc load wait that long first, to
 * prove that records keep flowing while the worker lags.
 */
#ifndef KSIGHT_WORKER_H
#define KSIGHT_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KS_TEST_DELAY_ENV "KSIGHT_TEST_PROC_DELAY_MS"
#define KS_TEST_DELAY_MAX 60000

struct ks_worker;

struct ks_job {
	struct ks_job *next;	/* the worker's */
	/* On the worker thread: the slow part. May touch only the job and read-only data. */
	void (*run)(struct ks_job *j, struct ks_worker *w);
	/* On the submitting thread: publish what run() found (@ran), or, when the worker is
	 * freed first (!@ran, run() may not have happened), only let go. Frees the job. */
	void (*finish)(struct ks_job *j, bool ran);
};

struct ks_worker_stats {
	uint64_t submitted;	/* jobs taken */
	uint64_t refused;	/* jobs refused: max_jobs were not finished yet */
	uint64_t done;		/* jobs finished and picked up */
	uint32_t pending;	/* taken and not yet picked up */
};

/*
 * A worker that holds at most @max_jobs jobs (queued, running or waiting to be picked up)
 * and pauses @delay_ms in ks_worker__pause(). @threaded false runs each job inside
 * ks_worker__submit() (tests; finish() still waits for ks_worker__drain()). The thread
 * blocks every signal: they go to the reader. Returns NULL with errno set.
 */
struct ks_worker *ks_worker__new(unsigned int max_jobs, unsigned int delay_ms, bool threaded);

/*
 * Stop the thread (a running job finishes first; pauses end at once), then finish every
 * job not picked up with ran false. Accepts NULL.
 */
void ks_worker__free(struct ks_worker *w);

/* Queue @j. Returns 0, or -EAGAIN when full (the job stays the caller's). */
int ks_worker__submit(struct ks_worker *w, struct ks_job *j);

/* Finish the jobs done so far, in submission order, on this thread. Cheap when there are
 * none (one atomic load). Returns how many were finished. */
unsigned int ks_worker__drain(struct ks_worker *w);

/* Wait until every job submitted so far is done (at most @timeout_ms), then drain.
 * Returns 0, or -ETIMEDOUT. For start-up, never on the reader's path. */
int ks_worker__wait_idle(struct ks_worker *w, unsigned int timeout_ms);

/* In run(): the test delay, once per /proc load. Returns false when the worker is being
 * stopped (the job should return soon; its results are thrown away). */
bool ks_worker__pause(struct ks_worker *w);

/* The counters so far and the jobs pending now, into @out (cannot fail). */
void ks_worker__stats(struct ks_worker *w, struct ks_worker_stats *out);

/*
 * KSIGHT_TEST_PROC_DELAY_MS from the environment: 0 when unset. Returns 0, or -1 with one
 * line in @err (may be NULL) when it is not a number of milliseconds up to
 * KS_TEST_DELAY_MAX (the command exits 2).
 */
int ks_worker_test_delay(unsigned int *ms, char *err, size_t len);

#endif
