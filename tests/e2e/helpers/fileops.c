// SPDX-License-Identifier: GPL-2.0
/*
 * fileops: known sequences of file changes, for exact tests of `ksight files`.
 *   fileops seq DIR N K       the lifecycle sequence below, N bytes written in K writes
 *   fileops closes DIR        files closed by dup2, close_range, close-on-exec and exit
 *   fileops io DIR N K M J [MS]  N bytes in K writes, (a pause of MS ms,) then M bytes
 *                             in J reads, of DIR/io
 *   fileops fail DIR          unlink, rename, rmdir and chmod of DIR/missing: 4 x ENOENT
 *   fileops fdlink DIR        changes named through the process's fd links (below)
 * Prints "ready PID", waits for a line on stdin, works in DIR (its cwd), prints "done"
 * (closes: then execs /bin/true, which exits with a file still open).
 *
 * seq, in order (names hold spaces, a tab, a newline and bytes that are not UTF-8):
 *   create N1 (O_CREAT|O_EXCL, 0640, umask 022), K writes, close; reopen N1 with O_CREAT
 *   (exists: no create), close; renameat(dirfd N1 -> cwd N2); fchmodat(dirfd N2 0600);
 *   fchmodat2(N2 0640: prints "done fchmodat2", or where the kernel lacks it fchmodat and
 *   "done fchmodat"); chown(absolute N2, 1234, 5678); open N2, ftruncate(7), close; linkat(N2 -> dirfd N3);
 *   symlinkat(target N2, dirfd N4); mkdir D 0750; rmdir D; unlink N2; unlinkat(dirfd N3);
 *   unlink(absolute N4).
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define N1 "new file\n\xff"
#define N2 "re named \xfe"
#define N3 "hard\tlink"
#define N4 "sym link"
#define D "d\nir"

static char dir[4096];

#define CHECK(x)                                                              \
	do {                                                                  \
		if ((x) < 0) {                                                \
			fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, \
				strerror(errno));                             \
			exit(1);                                              \
		}                                                             \
	} while (0)

static void write_n(int fd, long n, long k)
{
	static char buf[1 << 16];
	long each = n / k;

	memset(buf, 'x', sizeof(buf));
	for (long i = 0; i < k; i++) {
		long len = i == k - 1 ? n - each * (k - 1) : each;

		if (len > (long)sizeof(buf) || write(fd, buf, len) != len) {
			fprintf(stderr, "write %ld failed\n", len);
			exit(1);
		}
	}
}

static char *abs_path(const char *name)
{
	static char p[2][8192];
	static int i;

	i ^= 1;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static const char *seq(long n, long k)
{
	const char *chmod2 = "fchmodat2";
	int dfd, fd;

	CHECK(dfd = open(".", O_RDONLY | O_DIRECTORY));
	CHECK(fd = open(N1, O_CREAT | O_EXCL | O_WRONLY, 0640));
	write_n(fd, n, k);
	CHECK(close(fd));
	CHECK(fd = open(N1, O_CREAT | O_WRONLY, 0640));
	CHECK(close(fd));
	CHECK(renameat(dfd, N1, AT_FDCWD, N2));
	CHECK(fchmodat(dfd, N2, 0600, 0));
	if (syscall(452 /* fchmodat2 */, AT_FDCWD, N2, 0640, 0) < 0) {
		if (errno != ENOSYS)
			CHECK(-1);
		chmod2 = "fchmodat";
		CHECK(fchmodat(AT_FDCWD, N2, 0640, 0));
	}
	CHECK(chown(abs_path(N2), 1234, 5678));
	CHECK(fd = open(N2, O_WRONLY));
	CHECK(ftruncate(fd, 7));
	CHECK(close(fd));
	CHECK(linkat(AT_FDCWD, N2, dfd, N3, 0));
	CHECK(symlinkat(N2, dfd, N4));
	CHECK(mkdir(D, 0750));
	CHECK(rmdir(D));
	CHECK(unlink(N2));
	CHECK(unlinkat(dfd, N3, 0));
	CHECK(unlink(abs_path(N4)));
	CHECK(close(dfd));
	return chmod2;
}

static char *fd_link(const char *fmt, int a, int b)
{
	static char p[2][128];
	static int i;

	i ^= 1;
	snprintf(p[i], sizeof(p[i]), fmt, a, b);
	return p[i];
}

/*
 * fdlink: the directory DIR/sub (made by the caller) is open on D, every name goes through
 * an fd link: chmod sub through /proc/self/fd/D, /proc/thread-self/fd/D, /proc/PID/fd/D and
 * /dev/fd/D (0701..0704); create sub/f through /proc/self/fd/D/f (open on F, 0600), then
 * fchmodat(/proc/self/fd/F, 0640), chown(/proc/self/fd/F, 1234, 5678),
 * truncate(/proc/self/fd/F, 3), rename(/proc/self/fd/D/f -> /proc/self/fd/D/g); an O_TMPFILE
 * file in sub (open on T) linked as sub/h by linkat(/proc/self/fd/T, AT_SYMLINK_FOLLOW);
 * then the calls that fail (EPERM, ENOENT, ENOENT) and keep the link as passed:
 * unlink(/proc/self/fd/F) (no follow: the link itself), chmod(/proc/self/fd/0D) (procfs
 * takes no leading zero) and chmod of a closed fd's link; last unlink(/proc/self/fd/D/g)
 * and unlinkat(D, h). Returns the O_TMPFILE file's inode number and "devfd", as text; or
 * "nodevfd" where /dev/fd is not the link to /proc/self/fd (a bare devtmpfs: the kernel
 * matrix's guests), the chmod through it then left out.
 */
static const char *fdlink(void)
{
	static char ino[48];
	char link[32] = "";
	struct stat st;
	bool devfd;
	int d, f, t;

	CHECK(d = open("sub", O_RDONLY | O_DIRECTORY));
	CHECK(chmod(fd_link("/proc/self/fd/%d", d, 0), 0701));
	CHECK(chmod(fd_link("/proc/thread-self/fd/%d", d, 0), 0702));
	CHECK(chmod(fd_link("/proc/%d/fd/%d", getpid(), d), 0703));
	devfd = readlink("/dev/fd", link, sizeof(link) - 1) > 0 && !strcmp(link, "/proc/self/fd");
	if (devfd)
		CHECK(chmod(fd_link("/dev/fd/%d", d, 0), 0704));
	CHECK(f = open(fd_link("/proc/self/fd/%d/f", d, 0), O_CREAT | O_EXCL | O_WRONLY, 0600));
	CHECK(fchmodat(AT_FDCWD, fd_link("/proc/self/fd/%d", f, 0), 0640, 0));
	CHECK(chown(fd_link("/proc/self/fd/%d", f, 0), 1234, 5678));
	CHECK(truncate(fd_link("/proc/self/fd/%d", f, 0), 3));
	CHECK(rename(fd_link("/proc/self/fd/%d/f", d, 0), fd_link("/proc/self/fd/%d/g", d, 0)));
	CHECK(t = open("sub", O_TMPFILE | O_WRONLY, 0600));
	CHECK(fstat(t, &st));
	snprintf(ino, sizeof(ino), "%llu %s", (unsigned long long)st.st_ino,
		 devfd ? "devfd" : "nodevfd");
	CHECK(linkat(AT_FDCWD, fd_link("/proc/self/fd/%d", t, 0), d, "h", AT_SYMLINK_FOLLOW));
	if (unlink(fd_link("/proc/self/fd/%d", f, 0)) == 0 ||
	    chmod(fd_link("/proc/self/fd/0%d", d, 0), 0705) == 0)
		exit(1);
	CHECK(close(t));
	if (chmod(fd_link("/proc/self/fd/%d", t, 0), 0706) == 0)
		exit(1);
	CHECK(unlink(fd_link("/proc/self/fd/%d/g", d, 0)));
	CHECK(unlinkat(d, "h", 0));
	CHECK(close(f));
	CHECK(close(d));
	return ino;
}

/* a: dup2 over it; b: close-on-exec; c: left open at exit; d: close_range. */
static void closes(void)
{
	int a, b, c, d, null;

	CHECK(null = open("/dev/null", O_WRONLY));
	CHECK(a = open("a", O_CREAT | O_WRONLY, 0644));
	write_n(a, 10, 1);
	CHECK(dup2(null, a));
	CHECK(b = open("b", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
	write_n(b, 20, 2);
	CHECK(c = open("c", O_CREAT | O_WRONLY, 0644));
	write_n(c, 30, 3);
	CHECK(d = open("d", O_CREAT | O_WRONLY, 0644));
	write_n(d, 40, 4);
	CHECK(syscall(SYS_close_range, d, d, 0));
	printf("done\n");
	fflush(stdout);
	execl("/bin/true", "true", (char *)NULL);
	exit(1);
}

static void fail(void)
{
	if (unlink("missing") == 0 || rename("missing", "x") == 0 || rmdir("missing") == 0 ||
	    chmod("missing", 0600) == 0)
		exit(1);
}

static void io(long n, long k, long m, long j, long ms)
{
	static char buf[1 << 16];
	long each = m / j;
	int fd;

	CHECK(fd = open("io", O_CREAT | O_RDWR | O_TRUNC, 0644));
	write_n(fd, n, k);
	usleep(ms * 1000);
	CHECK(lseek(fd, 0, SEEK_SET));
	for (long i = 0; i < j; i++) {
		long len = i == j - 1 ? m - each * (j - 1) : each;

		if (len > (long)sizeof(buf) || read(fd, buf, len) != len) {
			fprintf(stderr, "read %ld failed\n", len);
			exit(1);
		}
	}
	CHECK(close(fd));
}

int main(int argc, char **argv)
{
	const char *word = "";
	char line[16];

	if (argc < 3) {
		fprintf(stderr, "usage: fileops seq|closes|io|fail|fdlink DIR ...\n");
		return 2;
	}
	umask(022);
	if (!realpath(argv[2], dir) || chdir(dir)) {
		perror(argv[2]);
		return 1;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	if (!strcmp(argv[1], "seq") && argc == 5)
		word = seq(atol(argv[3]), atol(argv[4]));
	else if (!strcmp(argv[1], "closes") && argc == 3)
		closes();
	else if (!strcmp(argv[1], "io") && (argc == 7 || argc == 8))
		io(atol(argv[3]), atol(argv[4]), atol(argv[5]), atol(argv[6]),
		   argc == 8 ? atol(argv[7]) : 0);
	else if (!strcmp(argv[1], "fail") && argc == 3)
		fail();
	else if (!strcmp(argv[1], "fdlink") && argc == 3)
		word = fdlink();
	else
		return 2;
	printf("done %s\n", word);
	fflush(stdout);
	return 0;
}
