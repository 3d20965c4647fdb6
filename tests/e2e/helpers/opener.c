// SPDX-License-Identifier: GPL-2.0
/*
 * opener: a process that opens files on command, for exact-count tests.
 *   opener [-c COMM] [-u UID] [-t THREADS] [-x] DIR N
 * Sets its name (-c) and user (-u), starts its threads (-t), prints "ready PID [TID...]"
 * (the thread ids when -t is given), waits for a line on stdin, then makes N openat calls
 * per thread: even ones on DIR/exists (succeed, closed at once), odd ones on DIR/missing
 * (ENOENT); with -x all on DIR/missing. Prints "done OK FAILED".
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static char exists[4096], missing[4096];
static long n_calls;
static int all_missing;
static pthread_barrier_t started, go;

struct result {
	long ok, failed;
	pid_t tid;
};

static void calls(struct result *r)
{
	for (long i = 0; i < n_calls; i++) {
		const char *path = (all_missing || i % 2) ? missing : exists;
		int fd = openat(AT_FDCWD, path, O_RDONLY);

		if (fd >= 0) {
			close(fd);
			r->ok++;
		} else {
			r->failed++;
		}
	}
}

/* A thread shows its id, then waits with the others for the go. */
static void *thread_main(void *arg)
{
	struct result *r = arg;

	r->tid = gettid();
	pthread_barrier_wait(&started);
	pthread_barrier_wait(&go);
	calls(r);
	return NULL;
}

int main(int argc, char **argv)
{
	int opt, threads = 1;
	long uid = -1;
	char line[16];
	struct result res[64] = {};
	pthread_t tids[64];
	long ok = 0, failed = 0;

	while ((opt = getopt(argc, argv, "c:u:t:x")) != -1) {
		switch (opt) {
		case 'c':
			prctl(PR_SET_NAME, optarg);
			break;
		case 'u':
			uid = atol(optarg);
			break;
		case 't':
			threads = atoi(optarg);
			break;
		case 'x':
			all_missing = 1;
			break;
		default:
			return 2;
		}
	}
	if (argc - optind != 2 || threads < 1 || threads > 64)
		return 2;
	snprintf(exists, sizeof(exists), "%s/exists", argv[optind]);
	snprintf(missing, sizeof(missing), "%s/missing", argv[optind]);
	n_calls = atol(argv[optind + 1]);
	if (uid >= 0 && (setresgid(uid, uid, uid) || setresuid(uid, uid, uid))) {
		perror("setresuid");
		return 1;
	}
	if (threads > 1) {
		pthread_barrier_init(&started, NULL, threads + 1);
		pthread_barrier_init(&go, NULL, threads + 1);
		for (int i = 0; i < threads; i++)
			if (pthread_create(&tids[i], NULL, thread_main, &res[i]))
				return 1;
		pthread_barrier_wait(&started);
	}
	printf("ready %d", getpid());
	for (int i = 0; i < threads && threads > 1; i++)
		printf(" %d", res[i].tid);
	printf("\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	if (threads == 1) {
		calls(&res[0]);
	} else {
		pthread_barrier_wait(&go);
		for (int i = 0; i < threads; i++)
			pthread_join(tids[i], NULL);
	}
	for (int i = 0; i < threads; i++) {
		ok += res[i].ok;
		failed += res[i].failed;
	}
	printf("done %ld %ld\n", ok, failed);
	fflush(stdout);
	return 0;
}
