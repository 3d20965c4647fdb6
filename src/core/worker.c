// SPDX-License-Identifier: GPL-2.0
/* The worker thread and its two queues (see worker.h). */
#include "core/worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct jobq {
	struct ks_job *head, *tail;
};

struct ks_worker {
	pthread_mutex_t lock;
	pthread_cond_t work;	/* jobs queued, or stop */
	pthread_cond_t idle;	/* the queue ran empty */
	pthread_cond_t stopping;	/* ends pauses */
	pthread_t thread;
	bool threaded, started, stop, running;
	unsigned int max_jobs, delay_ms;
	unsigned int pending;	/* taken, not yet picked up */
	struct jobq todo, done;
	atomic_uint ndone;	/* jobs on done: the reader's cheap check */
	uint64_t submitted, refused, finished;
};

static void push(struct jobq *q, struct ks_job *j)
{
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
}

static struct ks_job *pop(struct jobq *q)
{
	struct ks_job *j = q->head;

	if (j) {
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
	}
	return j;
}

static void *loop(void *arg)
{
	struct ks_worker *w = arg;
	struct ks_job *j;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		j = pop(&w->todo);
		if (!j) {
			pthread_cond_broadcast(&w->idle);
			pthread_cond_wait(&w->work, &w->lock);
			continue;
		}
		w->running = true;
		pthread_mutex_unlock(&w->lock);
		j->run(j, w);
		pthread_mutex_lock(&w->lock);
		w->running = false;
		push(&w->done, j);
		atomic_fetch_add_explicit(&w->ndone, 1, memory_order_release);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static int cond_init_mono(pthread_cond_t *c)
{
	pthread_condattr_t a;
	int err;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	err = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return err;
}

struct ks_worker *ks_worker__new(unsigned int max_jobs, unsigned int delay_ms, bool threaded)
{
	struct ks_worker *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int err;

	if (!w)
		return NULL;
	w->max_jobs = max_jobs ? max_jobs : 1;
	w->delay_ms = delay_ms;
	w->threaded = threaded;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work, NULL);
	cond_init_mono(&w->idle);
	cond_init_mono(&w->stopping);
	if (!threaded)
		return w;
	/* signals must reach the reader: its poll returns EINTR and it stops */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&w->thread, NULL, loop, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		ks_worker__free(w);
		errno = err;
		return NULL;
	}
	w->started = true;
	pthread_setname_np(w->thread, "ksight-proc");
	return w;
}

static void finish_all(struct jobq *q, bool ran)
{
	struct ks_job *j;

	while ((j = pop(q)))
		j->finish(j, ran);
}

void ks_worker__free(struct ks_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->work);
	pthread_cond_broadcast(&w->stopping);
	pthread_mutex_unlock(&w->lock);
	if (w->started)
		pthread_join(w->thread, NULL);
	finish_all(&w->done, false);
	finish_all(&w->todo, false);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->idle);
	pthread_cond_destroy(&w->stopping);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

int ks_worker__submit(struct ks_worker *w, struct ks_job *j)
{
	pthread_mutex_lock(&w->lock);
	if (w->pending >= w->max_jobs || w->stop) {
		w->refused++;
		pthread_mutex_unlock(&w->lock);
		return -EAGAIN;
	}
	w->pending++;
	w->submitted++;
	if (!w->threaded) {
		pthread_mutex_unlock(&w->lock);
		j->run(j, w);
		pthread_mutex_lock(&w->lock);
		push(&w->done, j);
		atomic_fetch_add_explicit(&w->ndone, 1, memory_order_release);
	} else {
		push(&w->todo, j);
		pthread_cond_signal(&w->work);
	}
	pthread_mutex_unlock(&w->lock);
	return 0;
}

unsigned int ks_worker__drain(struct ks_worker *w)
{
	struct jobq q;
	unsigned int n = 0;

	if (!w || !atomic_load_explicit(&w->ndone, memory_order_acquire))
		return 0;
	pthread_mutex_lock(&w->lock);
	q = w->done;
	w->done.head = w->done.tail = NULL;
	atomic_store_explicit(&w->ndone, 0, memory_order_relaxed);
	pthread_mutex_unlock(&w->lock);
	for (struct ks_job *j = q.head, *next; j; j = next, n++) {
		next = j->next;
		j->finish(j, true);
	}
	pthread_mutex_lock(&w->lock);
	w->pending -= n;
	w->finished += n;
	pthread_mutex_unlock(&w->lock);
	return n;
}

static void deadline(struct timespec *ts, unsigned int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

int ks_worker__wait_idle(struct ks_worker *w, unsigned int timeout_ms)
{
	struct timespec until;
	int err = 0;
	bool busy;

	deadline(&until, timeout_ms);
	pthread_mutex_lock(&w->lock);
	while ((busy = w->todo.head || w->running) && !err)
		err = pthread_cond_timedwait(&w->idle, &w->lock, &until);
	pthread_mutex_unlock(&w->lock);
	ks_worker__drain(w);
	return busy ? -ETIMEDOUT : 0;
}

bool ks_worker__pause(struct ks_worker *w)
{
	struct timespec until;
	bool go;

	pthread_mutex_lock(&w->lock);
	if (w->delay_ms) {
		deadline(&until, w->delay_ms);
		while (!w->stop && !pthread_cond_timedwait(&w->stopping, &w->lock, &until))
			;
	}
	go = !w->stop;
	pthread_mutex_unlock(&w->lock);
	return go;
}

void ks_worker__stats(struct ks_worker *w, struct ks_worker_stats *out)
{
	pthread_mutex_lock(&w->lock);
	out->submitted = w->submitted;
	out->refused = w->refused;
	out->done = w->finished;
	out->pending = w->pending;
	pthread_mutex_unlock(&w->lock);
}

int ks_worker_test_delay(unsigned int *ms, char *err, size_t len)
{
	const char *v = getenv(KS_TEST_DELAY_ENV);
	unsigned long n;
	char *end;

	*ms = 0;
	if (!v)
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (!*v || *end || errno || n > KS_TEST_DELAY_MAX || v[0] == '-' || v[0] == '+') {
		if (err)
			snprintf(err, len, "%s=%.32s: not a number of milliseconds from 0 to %d",
				 KS_TEST_DELAY_ENV, v, KS_TEST_DELAY_MAX);
		return -1;
	}
	*ms = n;
	return 0;
}
