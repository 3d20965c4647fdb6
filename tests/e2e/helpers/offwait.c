// SPDX-License-Identifier: GPL-2.0
/*
 * offwait: a thread blocked in a known function, woken by a known thread from a known
 * function, for ksight offcpu.
 *   offwait N SLEEP_US
 * Prints "ready PID", waits for a line on stdin, then starts two threads on a pipe: the
 * reader ("ks_reader") reads one byte N times in ks_wait_here(); the writer ("ks_writer")
 * N times sleeps SLEEP_US microseconds and writes one byte in ks_wake_here(), so each
 * write wakes the reader, blocked, exactly once (the writer waits, before each write, until
 * the reader is asleep: state S in /proc). Its memory is locked first, so that no page
 * fault blocks the reader elsewhere. Prints "done READER_TID WRITER_TID".
 * Built with frame pointers, -O1 (Makefile); both functions make the system call
 * themselves, so that the user stack's first frame is theirs.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int fds[2];
static long n, sleep_us;
static pid_t tids[2];

static long sys3(long nr, long a, long b, long c)
{
#if defined(__x86_64__)
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
#else
	return syscall(nr, a, b, c);
#endif
}

__attribute__((noinline)) long ks_wait_here(int fd, char *c)
{
	long r = sys3(SYS_read, fd, (long)c, 1);

	__asm__ volatile("" ::: "memory");	/* not a tail call */
	return r;
}

__attribute__((noinline)) long ks_wake_here(int fd, const char *c)
{
	long r = sys3(SYS_write, fd, (long)c, 1);

	__asm__ volatile("" ::: "memory");
	return r;
}

static void *reader(void *arg)
{
	char c;

	__atomic_store_n(&tids[0], gettid(), __ATOMIC_RELEASE);
	pthread_setname_np(pthread_self(), "ks_reader");
	for (long i = 0; i < n; i++)
		if (ks_wait_here(fds[0], &c) != 1)
			exit(1);
	return arg;
}

/* Whether thread @tid sleeps (state S in /proc/self/task/TID/stat): the reader blocks
 * nowhere else than in its read. */
static int asleep(pid_t tid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (!f)
		exit(1);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'S';
}

static void *writer(void *arg)
{
	struct timespec ts = { sleep_us / 1000000, sleep_us % 1000000 * 1000 };
	char c = 'x';

	tids[1] = gettid();
	pthread_setname_np(pthread_self(), "ks_writer");
	for (long i = 0; i < n; i++) {
		nanosleep(&ts, NULL);
		/* a reader slow to come back (a busy machine) is waited for: every write
		 * must find it blocked */
		while (!__atomic_load_n(&tids[0], __ATOMIC_ACQUIRE) || !asleep(tids[0]))
			usleep(1000);
		/* S is set a moment before the switch-out: still S 1 ms later is asleep */
		while (usleep(1000), !asleep(tids[0]))
			;
		if (ks_wake_here(fds[1], &c) != 1)
			exit(1);
	}
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t r, w;
	char line[16];

	if (argc != 3 || (n = atol(argv[1])) <= 0 || (sleep_us = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: offwait N SLEEP_US\n");
		return 2;
	}
	if (pipe(fds))
		return 1;
	/* No page fault may block the reader under ks_wait_here (a kernel guest reads this
	 * binary over 9p, where a first touch of a text page sleeps): everything mapped now,
	 * and the threads' stacks when they are made, resident and locked. */
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		perror("offwait: mlockall (page faults may add intervals)");
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	if (pthread_create(&r, NULL, reader, NULL) || pthread_create(&w, NULL, writer, NULL))
		return 1;
	pthread_join(r, NULL);
	pthread_join(w, NULL);
	printf("done %d %d\n", tids[0], tids[1]);
	return 0;
}
