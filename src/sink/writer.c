// SPDX-License-Identifier: GPL-2.0
#include "sink/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

struct ks_writer {
	int fd;
	int wake;		/* eventfd: makes a thread blocked on a full pipe give up */
	size_t max;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t more;	/* the reader queued bytes, or it is time to stop */
	pthread_cond_t done;	/* the thread wrote what it had */
	struct ks_buf queued;	/* filled by ks_writer__push */
	struct ks_buf writing;	/* the thread's, while it writes */
	uint64_t queued_recs, writing_recs;	/* records in the two buffers */
	bool busy;		/* the thread holds bytes in @writing */
	bool closing;		/* write what is queued, then stop */
	bool abort;		/* stop now */
	int err;		/* first write error */
	uint64_t written;	/* bytes */
	uint64_t lost;		/* records refused or never written */
	uint64_t slowest_ns;
	/* rotation (ks_writer__rotate): the thread's own once it runs */
	char *path;
	uint64_t rot_size, cur;	/* the size to rotate at; bytes in the file now */
	unsigned int keep;
	uint64_t rotations;
};

/* Write all of @p, waiting on a full pipe or FIFO until it drains or the writer aborts. */
static int write_all(struct ks_writer *w, const char *p, size_t n)
{
	while (n) {
		uint64_t t0 = ks_clock_mono_now(), dt;
		ssize_t k = write(w->fd, p, n);

		dt = ks_clock_mono_now() - t0;
		if (dt > __atomic_load_n(&w->slowest_ns, __ATOMIC_RELAXED))
			__atomic_store_n(&w->slowest_ns, dt, __ATOMIC_RELAXED);
		if (k > 0) {
			p += k;
			n -= k;
			__atomic_add_fetch(&w->written, k, __ATOMIC_RELAXED);
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN) {
			struct pollfd fds[2] = { { w->fd, POLLOUT, 0 }, { w->wake, POLLIN, 0 } };

			if (poll(fds, 2, -1) < 0 && errno != EINTR)
				return -errno;
			if (fds[1].revents)
				return -ECANCELED;
			continue;
		}
		return k < 0 ? -errno : -EIO;
	}
	return 0;
}

/* @path.@i ("@path" for 0) into @buf. */
static void numbered(char *buf, size_t len, const char *path, unsigned int i)
{
	if (i)
		snprintf(buf, len, "%s.%u", path, i);
	else
		snprintf(buf, len, "%s", path);
}

/* path.keep-1 -> path.keep, ..., path -> path.1, then a new path. */
static int rotate(struct ks_writer *w)
{
	size_t len = strlen(w->path) + 16;
	char from[len], to[len];
	int fd;

	for (unsigned int i = w->keep; i > 0; i--) {
		numbered(from, len, w->path, i - 1);
		numbered(to, len, w->path, i);
		if (rename(from, to) && errno != ENOENT)
			return -errno;
	}
	fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		  0600);
	if (fd < 0)
		return -errno;
	close(w->fd);
	w->fd = fd;
	w->cur = 0;
	w->rotations++;
	return 0;
}

/* Write @p, rotating at line ends whenever the file would pass its size. */
static int write_out(struct ks_writer *w, const char *p, size_t n)
{
	int err;

	if (!w->rot_size)
		return write_all(w, p, n);
	while (n) {
		size_t room = w->cur < w->rot_size ? w->rot_size - w->cur : 0, take = n;

		if (n > room) {
			const char *nl = room ? memrchr(p, '\n', room) : NULL;

			if (nl) {
				take = nl - p + 1;
			} else if (!w->cur) {
				/* one line longer than the size: a file of its own */
				nl = memchr(p, '\n', n);
				take = nl ? (size_t)(nl - p + 1) : n;
			} else {
				take = 0;
			}
		}
		if (take) {
			err = write_all(w, p, take);
			if (err)
				return err;
			w->cur += take;
			p += take;
			n -= take;
		}
		if (n && (err = rotate(w)))
			return err;
	}
	return 0;
}

static void *run(void *arg)
{
	struct ks_writer *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct ks_buf t;
		int err;

		while (!w->queued.len && !w->closing && !w->abort)
			pthread_cond_wait(&w->more, &w->mu);
		if (w->abort || (!w->queued.len && w->closing))
			break;
		t = w->writing;
		w->writing = w->queued;
		w->queued = t;
		w->queued.len = 0;
		w->writing_recs = w->queued_recs;
		w->queued_recs = 0;
		w->busy = true;
		pthread_mutex_unlock(&w->mu);
		err = w->err ? 0 : write_out(w, w->writing.p, w->writing.len);
		pthread_mutex_lock(&w->mu);
		if (err && !w->err)
			w->err = -err;
		if (err || w->err)
			w->lost += w->writing_recs;	/* counted once, not re-tried */
		w->writing.len = 0;
		w->writing_recs = 0;
		w->busy = false;
		pthread_cond_broadcast(&w->done);
	}
	w->lost += w->queued_recs;
	w->queued.len = 0;
	w->queued_recs = 0;
	pthread_cond_broadcast(&w->done);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct ks_writer *ks_writer__new(int fd, size_t max)
{
	struct ks_writer *w = calloc(1, sizeof(*w));
	int err = ENOMEM;

	if (!w)
		goto fail;
	w->fd = fd;
	w->max = max;
	w->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->wake < 0) {
		err = errno;
		goto fail;
	}
	/* a FIFO or pipe must not hold the thread beyond an abort: poll it instead */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (ks_buf_init(&w->queued, -1, 1 << 16) || ks_buf_init(&w->writing, -1, 1 << 16))
		goto fail;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->more, NULL);
	pthread_cond_init(&w->done, NULL);
	err = pthread_create(&w->thread, NULL, run, w);
	if (err) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->more);
		pthread_cond_destroy(&w->done);
		goto fail;
	}
	return w;
fail:
	if (w) {
		ks_buf_free(&w->queued);
		ks_buf_free(&w->writing);
		if (w->wake >= 0)
			close(w->wake);
		free(w);
	}
	close(fd);
	errno = err;
	return NULL;
}

int ks_writer__rotate(struct ks_writer *w, const char *path, uint64_t size, unsigned int keep)
{
	struct stat st;
	char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	pthread_mutex_lock(&w->mu);
	free(w->path);
	w->path = p;
	w->keep = keep;
	w->cur = fstat(w->fd, &st) ? 0 : st.st_size;	/* appending to what is there */
	w->rot_size = size;
	pthread_mutex_unlock(&w->mu);
	return 0;
}

int ks_writer__push(struct ks_writer *w, struct ks_buf *b, uint64_t nrec)
{
	int ret = 0;

	if (!b->len)
		return 0;
	pthread_mutex_lock(&w->mu);
	if (w->err)
		ret = -w->err;
	else if (w->queued.len + b->len > w->max)
		ret = -ENOBUFS;
	else if (ks_buf_reserve(&w->queued, b->len))
		ret = -ENOMEM;
	if (!ret) {
		ks_buf_put(&w->queued, b->p, b->len);
		w->queued_recs += nrec;
		pthread_cond_signal(&w->more);
	} else {
		w->lost += nrec;
	}
	pthread_mutex_unlock(&w->mu);
	b->len = 0;
	return ret;
}

static void deadline(struct timespec *ts, int timeout_ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

int ks_writer__drain(struct ks_writer *w, int timeout_ms)
{
	struct timespec ts;
	int ret = 0;

	deadline(&ts, timeout_ms);
	pthread_mutex_lock(&w->mu);
	while ((w->queued.len || w->busy) && !w->err && ret == 0)
		ret = pthread_cond_timedwait(&w->done, &w->mu, &ts) ? -ETIMEDOUT : 0;
	if (w->err)
		ret = -w->err;
	pthread_mutex_unlock(&w->mu);
	return ret;
}

uint64_t ks_writer__free(struct ks_writer *w, int timeout_ms)
{
	struct timespec ts;
	uint64_t lost;
	bool joined;

	if (!w)
		return 0;
	pthread_mutex_lock(&w->mu);
	w->closing = true;
	pthread_cond_signal(&w->more);
	pthread_mutex_unlock(&w->mu);
	deadline(&ts, timeout_ms);
	joined = !pthread_timedjoin_np(w->thread, NULL, &ts);
	if (!joined) {
		/* still blocked on a full pipe: wake it up and give up on the rest */
		uint64_t one = 1;

		pthread_mutex_lock(&w->mu);
		w->abort = true;
		pthread_cond_signal(&w->more);
		pthread_mutex_unlock(&w->mu);
		if (write(w->wake, &one, sizeof(one)) < 0) {
			/* an eventfd write fails only on overflow: it is awake anyway */
		}
		deadline(&ts, 1000);
		joined = !pthread_timedjoin_np(w->thread, NULL, &ts);
	}
	if (!joined) {
		/* stuck inside write(2) on a regular file (a hung NFS mount): leave it; the
		 * process is ending. Nothing of @w may be freed under it. */
		pthread_detach(w->thread);
		return w->lost + w->queued_recs + w->writing_recs;
	}
	lost = w->lost;
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->more);
	pthread_cond_destroy(&w->done);
	ks_buf_free(&w->queued);
	ks_buf_free(&w->writing);
	close(w->wake);
	close(w->fd);
	free(w->path);
	free(w);
	return lost;
}

uint64_t ks_writer__written(const struct ks_writer *w)
{
	return __atomic_load_n(&w->written, __ATOMIC_RELAXED);
}

uint64_t ks_writer__lost(struct ks_writer *w)
{
	uint64_t n;

	pthread_mutex_lock(&w->mu);
	n = w->lost;
	pthread_mutex_unlock(&w->mu);
	return n;
}

int ks_writer__error(struct ks_writer *w)
{
	int e;

	pthread_mutex_lock(&w->mu);
	e = w->err;
	pthread_mutex_unlock(&w->mu);
	return e;
}

uint64_t ks_writer__slowest_ns(const struct ks_writer *w)
{
	return __atomic_load_n(&w->slowest_ns, __ATOMIC_RELAXED);
}
