// SPDX-License-Identifier: GPL-2.0
/*
 * openpaths: opens each PATH once, for tests of how paths are shown.
 *   openpaths PATH...
 * Prints "ready PID", waits for a line on stdin, opens each argument once with openat
 * (O_RDONLY, closed at once) and prints "done OK FAILED". Arguments are raw bytes, so a
 * path may hold a newline, an ESC or invalid UTF-8.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char line[16];
	long ok = 0, failed = 0;

	if (argc < 2)
		return 2;
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (int i = 1; i < argc; i++) {
		int fd = openat(AT_FDCWD, argv[i], O_RDONLY);

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
