// SPDX-License-Identifier: GPL-2.0
/*
 * profspin: CPU time in known places, for ksight profile.
 *   profspin user SECS    spin in ks_spin_here() (user mode) for SECS seconds of CPU
 *   profspin sys SECS     read /dev/zero in a loop (kernel mode) for SECS seconds of CPU
 *   profspin inline SECS  spin in ks_spin_step(), inlined into ks_spin_inl()
 * Prints "ready PID", waits for a line on stdin, works, prints "done CPU_NS" (its own
 * user + system CPU time from getrusage) and exits. Built PIE with frame pointers and
 * symbols (Makefile), so that stacks walk through its functions.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

volatile unsigned long ks_sink;

static double cpu_secs(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

__attribute__((noinline)) void ks_spin_here(double secs)
{
	double end = cpu_secs() + secs;

	while (cpu_secs() < end)
		for (int i = 0; i < 200000; i++)
			ks_sink += i;
}

/* always inlined: only DWARF shows it (the two definitions' lines are the tests') */
static inline __attribute__((always_inline)) void ks_spin_step(int n)
{
	for (int i = 0; i < n; i++)
		ks_sink += i ^ n;
}

__attribute__((noinline)) void ks_spin_inl(double secs)
{
	double end = cpu_secs() + secs;

	while (cpu_secs() < end)
		ks_spin_step(200000);
}

__attribute__((noinline)) void ks_read_zero(double secs)
{
	static char buf[1 << 20];
	double end = cpu_secs() + secs;
	int fd = open("/dev/zero", O_RDONLY);

	if (fd < 0)
		exit(1);
	while (cpu_secs() < end)
		if (read(fd, buf, sizeof(buf)) < 0)
			exit(1);
	close(fd);
}

int main(int argc, char **argv)
{
	double secs = argc == 3 ? atof(argv[2]) : 0;
	struct rusage ru;
	char line[16];

	if (secs <= 0 || (strcmp(argv[1], "user") && strcmp(argv[1], "sys") &&
			  strcmp(argv[1], "inline"))) {
		fprintf(stderr, "usage: profspin user|sys|inline SECS\n");
		return 2;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	if (!strcmp(argv[1], "user"))
		ks_spin_here(secs);
	else if (!strcmp(argv[1], "inline"))
		ks_spin_inl(secs);
	else
		ks_read_zero(secs);
	getrusage(RUSAGE_SELF, &ru);
	printf("done %llu\n", (unsigned long long)((ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
		1000000000ULL + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL));
	fflush(stdout);
	return 0;
}
