// SPDX-License-Identifier: GPL-2.0
/*
 * openpaths: opens each PATH once, for tests of how paths and each open syscall are shown.
 *   openpaths [-s open|openat|openat2|creat] PATH...
 * Prints "ready PID", waits for a line on stdin, opens each argument once (closed at once)
 * and prints "done OK FAILED". The syscall is openat(O_RDONLY) by default; open(O_RDONLY),
 * openat2(O_RDONLY|O_CLOEXEC) or creat(0640) with -s. Arguments are raw bytes, so a path
 * may hold a newline, an ESC or invalid UTF-8.
 */
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long open_with(const char *sys, const char *path)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC };

	if (!strcmp(sys, "open"))
		return syscall(SYS_open, path, O_RDONLY, 0);	/* a mode of 0, like libc */
	if (!strcmp(sys, "openat2"))
		return syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (!strcmp(sys, "creat"))
		return syscall(SYS_creat, path, 0640);
	return syscall(SYS_openat, AT_FDCWD, path, O_RDONLY, 0);
}

int main(int argc, char **argv)
{
	const char *sys = "openat";
	char line[16];
	long ok = 0, failed = 0;
	int opt;

	while ((opt = getopt(argc, argv, "+s:")) != -1) {
		if (opt != 's')
			return 2;
		sys = optarg;
	}
	if (optind >= argc || (strcmp(sys, "open") && strcmp(sys, "openat") &&
			       strcmp(sys, "openat2") && strcmp(sys, "creat")))
		return 2;
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (int i = optind; i < argc; i++) {
		long fd = open_with(sys, argv[i]);

		if (fd >= 0) {
			close(fd);
			ok++;
		} else {
			failed++;
		}
	}
	printf("done %ld %ld\n", ok, failed);
	fflush(stdout);
	return 0;
}
