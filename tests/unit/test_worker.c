// SPDX-License-Identifier: GPL-2.0
/* core/worker.c: jobs run off the submitting thread, finish on it, in order; bounded. */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "core/worker.h"

struct tjob {
	struct ks_job j;
	int id;
	pthread_t ran_on;
	bool paused_ok;
	atomic_bool *gate;	/* run() waits until it is set, if not NULL */
	int *log, *nlog;	/* finish() appends id (or -id when !ran) */
	pthread_t *finished_on;
	bool threaded;		/* run() must have been on another thread */
};

static void trun(struct ks_job *j, struct ks_worker *w)
{
	struct tjob *t = (struct tjob *)j;

	t->ran_on = pthread_self();
	while (t->gate && !atomic_load(t->gate))
		usleep(1000);
	t->paused_ok = ks_worker__pause(w);
}

static void tfinish(struct ks_job *j, bool ran)
{
	struct tjob *t = (struct tjob *)j;

	t->log[(*t->nlog)++] = ran ? t->id : -t->id;
	if (ran && t->threaded)
		assert_false(pthread_equal(t->ran_on, pthread_self()));
	if (t->finished_on)
		*t->finished_on = pthread_self();
	free(t);
}

static struct tjob *tjob(int id, int *log, int *nlog)
{
	struct tjob *t = calloc(1, sizeof(*t));

	t->j.run = trun;
	t->j.finish = tfinish;
	t->id = id;
	t->log = log;
	t->nlog = nlog;
	return t;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static void test_inline(void **state)
{
	struct ks_worker *w = ks_worker__new(8, 0, false);
	struct ks_worker_stats st;
	int log[8], n = 0;

	assert_non_null(w);
	assert_int_equal(ks_worker__drain(w), 0);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(ks_worker__submit(w, &tjob(i, log, &n)->j), 0);
	assert_int_equal(n, 0);	/* ran, but published only when drained */
	assert_int_equal(ks_worker__drain(w), 3);
	assert_int_equal(n, 3);
	assert_int_equal(log[0], 1);
	assert_int_equal(log[2], 3);
	ks_worker__stats(w, &st);
	assert_int_equal(st.submitted, 3);
	assert_int_equal(st.done, 3);
	assert_int_equal(st.pending, 0);
	ks_worker__free(w);
	ks_worker__free(NULL);
}

static void test_threaded_order_and_threads(void **state)
{
	struct ks_worker *w = ks_worker__new(1000, 0, true);
	pthread_t fin = 0;
	int log[200], n = 0;
	struct tjob *first = NULL;

	assert_non_null(w);
	for (int i = 1; i <= 200; i++) {
		struct tjob *t = tjob(i, log, &n);

		t->finished_on = &fin;
		t->threaded = true;
		if (!first)
			first = t;
		assert_int_equal(ks_worker__submit(w, &t->j), 0);
	}
	assert_int_equal(ks_worker__wait_idle(w, 10000), 0);
	assert_int_equal(n, 200);
	for (int i = 0; i < 200; i++)
		assert_int_equal(log[i], i + 1);
	assert_true(pthread_equal(fin, pthread_self()));
	ks_worker__free(w);
}

static void test_bounded(void **state)
{
	struct ks_worker *w = ks_worker__new(2, 0, true);
	struct ks_worker_stats st;
	atomic_bool gate = false;
	int log[8], n = 0;
	struct tjob *a = tjob(1, log, &n), *b = tjob(2, log, &n), *c = tjob(3, log, &n);

	a->gate = &gate;	/* holds the worker until the gate opens */
	assert_int_equal(ks_worker__submit(w, &a->j), 0);
	assert_int_equal(ks_worker__submit(w, &b->j), 0);
	assert_int_equal(ks_worker__submit(w, &c->j), -EAGAIN);	/* still the caller's */
	ks_worker__stats(w, &st);
	assert_int_equal(st.refused, 1);
	assert_int_equal(st.pending, 2);
	atomic_store(&gate, true);
	assert_int_equal(ks_worker__wait_idle(w, 10000), 0);
	assert_int_equal(n, 2);
	/* room again once picked up */
	assert_int_equal(ks_worker__submit(w, &c->j), 0);
	assert_int_equal(ks_worker__wait_idle(w, 10000), 0);
	assert_int_equal(n, 3);
	ks_worker__free(w);
}

/* A slow job (the test delay) does not hold up freeing; unfinished jobs are let go. */
static void test_free_ends_pauses(void **state)
{
	struct ks_worker *w = ks_worker__new(8, 30000, true);
	int log[8], n = 0;
	uint64_t t0;

	for (int i = 1; i <= 3; i++)
		assert_int_equal(ks_worker__submit(w, &tjob(i, log, &n)->j), 0);
	assert_int_equal(ks_worker__wait_idle(w, 50), -ETIMEDOUT);
	t0 = now_ms();
	ks_worker__free(w);
	assert_true(now_ms() - t0 < 5000);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++)
		assert_true(log[i] < 0);	/* none published */
}

static void test_delay_env(void **state)
{
	char err[128];
	unsigned int ms = 7;

	unsetenv(KS_TEST_DELAY_ENV);
	assert_int_equal(ks_worker_test_delay(&ms, err, sizeof(err)), 0);
	assert_int_equal(ms, 0);
	setenv(KS_TEST_DELAY_ENV, "250", 1);
	assert_int_equal(ks_worker_test_delay(&ms, err, sizeof(err)), 0);
	assert_int_equal(ms, 250);
	const char *bad[] = { "", "x", "10ms", "-1", "+5", "60001", "99999999999999999999" };
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		setenv(KS_TEST_DELAY_ENV, bad[i], 1);
		assert_int_equal(ks_worker_test_delay(&ms, err, sizeof(err)), -1);
		tu_one_line(err, KS_TEST_DELAY_ENV);
	}
	assert_int_equal(ks_worker_test_delay(&ms, NULL, 0), -1);
	unsetenv(KS_TEST_DELAY_ENV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_threaded_order_and_threads),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_free_ends_pauses),
		cmocka_unit_test(test_delay_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
