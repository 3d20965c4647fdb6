// SPDX-License-Identifier: GPL-2.0
/*
 * forkstorm: thousands of short-lived processes, for the identity tests.
 *   forkstorm [-u UID] [-x K] [-j JOBS] DIR N
 * Drops to UID (-u), prints "ready PID", waits for a line on stdin, then makes N child
 * processes, keeping up to JOBS (default 32) alive at once. Each child opens DIR/f
 * (O_WRONLY | O_APPEND), writes one byte, closes it and exits 0; every K-th child (-x)
 * first execs this program again to do it (so it has its own exec record). Then it
 * prints "children N" and the pids, "exec" and the pids of those that exec'd, and
 * "done MS" with the milliseconds the storm took. Exits 1 if a child failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int child_work(const char *dir)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0 || write(fd, "x", 1) != 1 || close(fd))
		return 1;
	return 0;
}

static long ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

/* Reap one child; returns 0 if it exited 0. */
static int reap(void)
{
	int status;

	while (wait(&status) < 0)
		if (errno != EINTR)
			return 1;
	return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(int argc, char **argv)
{
	long uid = -1, n, every = 0, jobs = 32, alive = 0, failed = 0;
	pid_t *pids, *execd;
	long nexec = 0;
	struct timespec t0;
	char line[16], self[4096];
	ssize_t len;
	int opt;

	if (argc == 3 && !strcmp(argv[1], "--child"))
		return child_work(argv[2]);
	while ((opt = getopt(argc, argv, "u:x:j:")) != -1) {
		switch (opt) {
		case 'u':
			uid = atol(optarg);
			break;
		case 'x':
			every = atol(optarg);
			break;
		case 'j':
			jobs = atol(optarg);
			break;
		default:
			return 2;
		}
	}
	if (argc - optind != 2 || jobs < 1)
		return 2;
	n = atol(argv[optind + 1]);
	/* exec by the real path: the exec record, the comm and the exe all say forkstorm */
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0)
		return 1;
	self[len] = 0;
	pids = calloc(n + 1, sizeof(*pids));
	execd = calloc(n + 1, sizeof(*execd));
	if (!pids || !execd)
		return 1;
	if (uid >= 0 && (setresgid(uid, uid, uid) || setresuid(uid, uid, uid))) {
		perror("setresuid");
		return 1;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		int do_exec = every > 0 && i % every == every - 1;
		pid_t pid;

		if (alive >= jobs) {
			failed += reap();
			alive--;
		}
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (!pid) {
			if (do_exec) {
				execl(self, "forkstorm", "--child", argv[optind], (char *)NULL);
				_exit(3);
			}
			_exit(child_work(argv[optind]));
		}
		pids[i] = pid;
		if (do_exec)
			execd[nexec++] = pid;
		alive++;
	}
	while (alive-- > 0)
		failed += reap();
	printf("children %ld", n);
	for (long i = 0; i < n; i++)
		printf(" %d", pids[i]);
	printf("\nexec");
	for (long i = 0; i < nexec; i++)
		printf(" %d", execd[i]);
	printf("\ndone %ld\n", ms_since(&t0));
	return failed ? 1 : 0;
}
