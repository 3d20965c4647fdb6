// SPDX-License-Identifier: GPL-2.0
/*
 * guarduring: exactly known io_uring requests on one file, for guard's io_uring tests
 * (liburing). Prints "ready PID", waits for a line on stdin, then:
 *   guarduring write PATH N    one IORING_OP_OPENAT (O_WRONLY|O_CREAT) of PATH, then N
 *                              writes of 10 bytes: even-numbered IORING_OP_WRITE, odd
 *                              IORING_OP_WRITEV through the registered (fixed) file
 *   guarduring read PATH N     one IORING_OP_OPENAT (O_RDONLY) of PATH, N IORING_OP_READ
 *   guarduring threads PATH N  N threads with a ring each, 20 NOPs each, all at once
 *   guarduring exec PATH N     `write`, then exec of itself for `write` again (a new
 *                              process image in the same process)
 *   guarduring listen - 1      a TCP socket bound to 127.0.0.1 (syscalls), listening
 *                              through IORING_OP_LISTEN (6.11+; "nolisten" and exit 0 when
 *                              the kernel refuses it), then a child runs /bin/sh -c true;
 *                              prints "child PID"
 *   guarduring listen - 0      the same without the listen (the benign twin)
 *   guarduring revshell PORT 0 fd 0 closed, a TCP socket made (it is fd 0) and connected
 *                              to 127.0.0.1:PORT through IORING_OP_CONNECT (no connect(2),
 *                              no dup2), then exec of /bin/sh -c 'echo done': a shell
 *                              reading from a socket
 *   guarduring files DIR 0     name changes in DIR through io_uring alone, each printed
 *                              "OPNAME RESULT" as it completes (any failure exits 1):
 *                              RENAMEAT DIR/evil -> DIR/sshd_config (absolute names);
 *                              UNLINKAT a.conf relative to the dfd of DIR/sshd_config.d;
 *                              RENAMEAT sshd_config.d/c.conf -> moved.conf relative to the
 *                              cwd (DIR); FTRUNCATE of fd 3 to 5 bytes, again to 3 with
 *                              IOSQE_CQE_SKIP_SUCCESS (no completion; printed
 *                              "ftruncate-skip 0" when fstat says so); then the benign
 *                              twins: RENAMEAT DIR/x -> DIR/y, UNLINKAT DIR/z, FTRUNCATE
 *                              of fd 4. An opcode this kernel's io_uring lacks
 *                              (IORING_REGISTER_PROBE) is printed "unsupported OPNAME"
 *                              first and never submitted.
 *   guarduring links DIR 0     new names in DIR through io_uring alone (cwd DIR; each
 *                              "OPNAME RESULT", any failure exits 1): LINKAT sshd_config ->
 *                              other/copy (cwd-relative); SYMLINKAT target
 *                              /etc/ssh/sshd_config at other/sl; SYMLINKAT target
 *                              DIR/other/evil at DIR/sshd_config.d/evil.conf (absolute);
 *                              MKDIRAT sub relative to the dfd of DIR/sshd_config.d; then the
 *                              benign twins: LINKAT other/a -> other/b, SYMLINKAT DIR/other/a
 *                              at other/c, MKDIRAT other/d. An opcode this kernel lacks is
 *                              printed "unsupported OPNAME" and never submitted.
 *   guarduring xattrs DIR 0    extended attributes of DIR/sshd_config set through io_uring
 *                              (cwd DIR; each "OPNAME RESULT", any failure exits 1):
 *                              SETXATTR trusted.gt1 = "v1" by its absolute name; SETXATTR
 *                              trusted.gt2 = "val2" XATTR_CREATE by the cwd-relative name;
 *                              FSETXATTR trusted.gt3 = "value3" on an fd opened O_RDONLY;
 *                              then the same through the syscalls (setxattr, fsetxattr:
 *                              trusted.gt4 = "v4", trusted.gt5 = "val5" XATTR_CREATE); then
 *                              the benign twins: SETXATTR and FSETXATTR of DIR/other/a. An
 *                              opcode this kernel lacks is printed "unsupported OPNAME" and
 *                              never submitted.
 *   guarduring sqpoll DIR 0    an SQPOLL ring (its kernel thread submits: no
 *                              io_uring_enter per request): RENAMEAT old -> new and
 *                              UNLINKAT gone, relative to the cwd (DIR), then UNLINKAT of
 *                              the directory DIR/sub (AT_REMOVEDIR); "OPNAME RESULT" each
 * Every result is checked; the fd opened through io_uring is printed ("opened FD") and
 * closed with close(2). Prints "done" and exits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(x)                                                  \
	do {                                                      \
		if (!(x)) {                                       \
			perror(#x);                               \
			exit(1);                                  \
		}                                                 \
	} while (0)

/* Submit the one request prepared on @ring, wait for it; returns its result. */
static int run_wait(struct io_uring *ring);

static int run(struct io_uring *ring)
{
	CHECK(io_uring_submit(ring) == 1);
	return run_wait(ring);
}

/* Wait for the next completion; returns its result. */
static int run_wait(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	int res;

	CHECK(!io_uring_wait_cqe(ring, &cqe));
	res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

static int uring_open(struct io_uring *ring, const char *path, int flags)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	io_uring_prep_openat(sqe, AT_FDCWD, path, flags, 0644);
	return run(ring);
}

static void do_write(const char *path, int n)
{
	struct io_uring ring;
	char buf[10];
	int fd;

	CHECK(!io_uring_queue_init(8, &ring, 0));
	fd = uring_open(&ring, path, O_WRONLY | O_CREAT);
	CHECK(fd >= 0);
	printf("opened %d\n", fd);
	CHECK(!io_uring_register_files(&ring, &fd, 1));
	memset(buf, 'u', sizeof(buf));
	for (int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		struct iovec iov = { buf, sizeof(buf) };

		if (i % 2 == 0) {
			io_uring_prep_write(sqe, fd, buf, sizeof(buf), (__u64)i * sizeof(buf));
		} else {
			io_uring_prep_writev(sqe, 0, &iov, 1, (__u64)i * sizeof(buf));
			sqe->flags |= IOSQE_FIXED_FILE;
		}
		CHECK(run(&ring) == sizeof(buf));
	}
	io_uring_queue_exit(&ring);
	CHECK(!close(fd));
}

static void do_read(const char *path, int n)
{
	struct io_uring ring;
	char buf[10];
	int fd;

	CHECK(!io_uring_queue_init(8, &ring, 0));
	fd = uring_open(&ring, path, O_RDONLY);
	CHECK(fd >= 0);
	printf("opened %d\n", fd);
	for (int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		io_uring_prep_read(sqe, fd, buf, sizeof(buf), (__u64)i * sizeof(buf));
		CHECK(run(&ring) >= 0);
	}
	io_uring_queue_exit(&ring);
	CHECK(!close(fd));
}

static pthread_barrier_t start;

static void *nops(void *arg)
{
	struct io_uring ring;

	(void)arg;
	CHECK(!io_uring_queue_init(8, &ring, 0));
	pthread_barrier_wait(&start);
	for (int i = 0; i < 20; i++) {
		io_uring_prep_nop(io_uring_get_sqe(&ring));
		CHECK(run(&ring) == 0);
	}
	io_uring_queue_exit(&ring);
	return NULL;
}

static void do_threads(int n)
{
	pthread_t t[64];

	CHECK(n > 0 && n <= 64);
	CHECK(!pthread_barrier_init(&start, NULL, n));
	for (int i = 0; i < n; i++)
		CHECK(!pthread_create(&t[i], NULL, nops, NULL));
	for (int i = 0; i < n; i++)
		CHECK(!pthread_join(t[i], NULL));
}

#define OP_FTRUNCATE 55	/* IORING_OP_FTRUNCATE (6.9), newer than Debian 12's liburing */
#define OP_LISTEN 57	/* IORING_OP_LISTEN (6.11), newer than Debian 12's liburing */

/* Whether this kernel's io_uring has opcode @op, printed when not. */
static int has_op(struct io_uring *ring, int op, const char *name)
{
	struct io_uring_probe *p = io_uring_get_probe_ring(ring);
	int ok;

	CHECK(p);
	ok = io_uring_opcode_supported(p, op);
	io_uring_free_probe(p);
	if (!ok)
		printf("unsupported %s\n", name);
	return ok;
}

/* Submit the request prepared on @ring; print "NAME RESULT"; it must succeed. */
static void run_named(struct io_uring *ring, const char *name)
{
	int res = run(ring);

	printf("%s %d\n", name, res);
	fflush(stdout);
	CHECK(res == 0);
}

/* FTRUNCATE of @fd to @len with IOSQE_CQE_SKIP_SUCCESS (no completion when it succeeds),
 * linked to a NOP whose completion says it ran; fstat checks it. Prints "ftruncate-skip
 * 0". */
static void skip_truncate(struct io_uring *ring, int fd, int len)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct stat st;

	io_uring_prep_rw(OP_FTRUNCATE, sqe, fd, NULL, 0, len);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS | IOSQE_IO_LINK;
	io_uring_prep_nop(io_uring_get_sqe(ring));
	CHECK(io_uring_submit(ring) == 2);
	CHECK(run_wait(ring) == 0);	/* the NOP's: the FTRUNCATE succeeded */
	CHECK(!fstat(fd, &st) && st.st_size == len);
	printf("ftruncate-skip 0\n");
	fflush(stdout);
}

/* RENAMEAT DIR/FROM -> DIR/TO, absolute names */
static void rename_abs(struct io_uring *ring, const char *dir, const char *from, const char *to)
{
	char a[512], b[512];

	snprintf(a, sizeof(a), "%s/%s", dir, from);
	snprintf(b, sizeof(b), "%s/%s", dir, to);
	io_uring_prep_renameat(io_uring_get_sqe(ring), AT_FDCWD, a, AT_FDCWD, b, 0);
	run_named(ring, "renameat");
}

static void do_sqpoll(const char *dir)
{
	struct io_uring ring;

	CHECK(!io_uring_queue_init(8, &ring, IORING_SETUP_SQPOLL));
	CHECK(!chdir(dir));
	io_uring_prep_renameat(io_uring_get_sqe(&ring), AT_FDCWD, "old", AT_FDCWD, "new", 0);
	run_named(&ring, "renameat");
	io_uring_prep_unlinkat(io_uring_get_sqe(&ring), AT_FDCWD, "gone", 0);
	run_named(&ring, "unlinkat");
	io_uring_prep_unlinkat(io_uring_get_sqe(&ring), AT_FDCWD, "sub", AT_REMOVEDIR);
	run_named(&ring, "unlinkat");
	io_uring_queue_exit(&ring);
}

static void do_files(const char *dir)
{
	int ren, unl, trunc, dfd;
	struct io_uring ring;
	char a[512];

	CHECK(!io_uring_queue_init(8, &ring, 0));
	ren = has_op(&ring, IORING_OP_RENAMEAT, "renameat");
	unl = has_op(&ring, IORING_OP_UNLINKAT, "unlinkat");
	trunc = has_op(&ring, OP_FTRUNCATE, "ftruncate");
	CHECK(!chdir(dir));
	dfd = open("sshd_config.d", O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	if (ren)
		rename_abs(&ring, dir, "evil", "sshd_config");
	if (unl) {
		io_uring_prep_unlinkat(io_uring_get_sqe(&ring), dfd, "a.conf", 0);
		run_named(&ring, "unlinkat");
	}
	if (ren) {
		io_uring_prep_renameat(io_uring_get_sqe(&ring), AT_FDCWD, "sshd_config.d/c.conf",
				       AT_FDCWD, "moved.conf", 0);
		run_named(&ring, "renameat");
	}
	if (trunc) {
		io_uring_prep_rw(OP_FTRUNCATE, io_uring_get_sqe(&ring), 3, NULL, 0, 5);
		run_named(&ring, "ftruncate");
		skip_truncate(&ring, 3, 3);
	}
	if (ren)
		rename_abs(&ring, dir, "x", "y");
	if (unl) {
		snprintf(a, sizeof(a), "%s/z", dir);
		io_uring_prep_unlinkat(io_uring_get_sqe(&ring), AT_FDCWD, a, 0);
		run_named(&ring, "unlinkat");
	}
	if (trunc) {
		io_uring_prep_rw(OP_FTRUNCATE, io_uring_get_sqe(&ring), 4, NULL, 0, 5);
		run_named(&ring, "ftruncate");
	}
	io_uring_queue_exit(&ring);
	CHECK(!close(dfd));
}

/* LINKAT @from -> @to (AT_FDCWD both) */
static void link_at(struct io_uring *ring, const char *from, const char *to)
{
	io_uring_prep_linkat(io_uring_get_sqe(ring), AT_FDCWD, from, AT_FDCWD, to, 0);
	run_named(ring, "linkat");
}

static void symlink_at(struct io_uring *ring, const char *target, const char *at)
{
	io_uring_prep_symlinkat(io_uring_get_sqe(ring), target, AT_FDCWD, at);
	run_named(ring, "symlinkat");
}

static void mkdir_at(struct io_uring *ring, int dfd, const char *name)
{
	io_uring_prep_mkdirat(io_uring_get_sqe(ring), dfd, name, 0755);
	run_named(ring, "mkdirat");
}

static void do_links(const char *dir)
{
	char a[512], b[512];
	struct io_uring ring;
	int ln, sl, md, dfd;

	CHECK(!io_uring_queue_init(8, &ring, 0));
	ln = has_op(&ring, IORING_OP_LINKAT, "linkat");
	sl = has_op(&ring, IORING_OP_SYMLINKAT, "symlinkat");
	md = has_op(&ring, IORING_OP_MKDIRAT, "mkdirat");
	CHECK(!chdir(dir));
	dfd = open("sshd_config.d", O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	snprintf(a, sizeof(a), "%s/other/evil", dir);
	snprintf(b, sizeof(b), "%s/sshd_config.d/evil.conf", dir);
	if (ln)
		link_at(&ring, "sshd_config", "other/copy");
	if (sl) {
		symlink_at(&ring, "/etc/ssh/sshd_config", "other/sl");
		symlink_at(&ring, a, b);
	}
	if (md)
		mkdir_at(&ring, dfd, "sub");
	snprintf(a, sizeof(a), "%s/other/a", dir);
	if (ln)
		link_at(&ring, "other/a", "other/b");
	if (sl)
		symlink_at(&ring, a, "other/c");
	if (md)
		mkdir_at(&ring, AT_FDCWD, "other/d");
	io_uring_queue_exit(&ring);
	CHECK(!close(dfd));
}

/* SETXATTR (@fd < 0: of @path) or FSETXATTR (of @fd) of @name = @value through io_uring */
static void xattr_at(struct io_uring *ring, int fd, const char *path, const char *name,
		     const char *value, int flags)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (fd < 0)
		io_uring_prep_setxattr(sqe, name, value, path, flags, strlen(value));
	else
		io_uring_prep_fsetxattr(sqe, fd, name, value, flags, strlen(value));
	run_named(ring, fd < 0 ? "setxattr" : "fsetxattr");
}

static void do_xattrs(const char *dir)
{
	struct io_uring ring;
	int set, fset, fd, twin;
	char a[512];

	CHECK(!io_uring_queue_init(8, &ring, 0));
	set = has_op(&ring, IORING_OP_SETXATTR, "setxattr");
	fset = has_op(&ring, IORING_OP_FSETXATTR, "fsetxattr");
	CHECK(!chdir(dir));
	fd = open("sshd_config", O_RDONLY);
	twin = open("other/a", O_RDONLY);
	CHECK(fd >= 0 && twin >= 0);
	snprintf(a, sizeof(a), "%s/sshd_config", dir);
	if (set) {
		xattr_at(&ring, -1, a, "trusted.gt1", "v1", 0);
		xattr_at(&ring, -1, "sshd_config", "trusted.gt2", "val2", XATTR_CREATE);
	}
	if (fset)
		xattr_at(&ring, fd, NULL, "trusted.gt3", "value3", 0);
	printf("syscall-setxattr %d\n", setxattr(a, "trusted.gt4", "v4", 2, 0));
	printf("syscall-fsetxattr %d\n", fsetxattr(fd, "trusted.gt5", "val5", 4, XATTR_CREATE));
	snprintf(a, sizeof(a), "%s/other/a", dir);
	if (set)
		xattr_at(&ring, -1, a, "trusted.gt1", "v1", 0);
	if (fset)
		xattr_at(&ring, twin, NULL, "trusted.gt3", "value3", 0);
	io_uring_queue_exit(&ring);
	CHECK(!close(fd) && !close(twin));
}

static void do_listen(int really)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct io_uring ring;
	int fd, res, st;
	pid_t child;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)));
	CHECK(!io_uring_queue_init(8, &ring, 0));
	if (really) {
		io_uring_prep_rw(OP_LISTEN, io_uring_get_sqe(&ring), fd, NULL, 4, 0);
		res = run(&ring);
		if (res == -EINVAL || res == -EOPNOTSUPP) {
			printf("nolisten\n");
			exit(0);
		}
		CHECK(res == 0);
	} else {
		io_uring_prep_nop(io_uring_get_sqe(&ring));
		CHECK(run(&ring) == 0);
	}
	fflush(stdout);
	child = fork();
	CHECK(child >= 0);
	if (!child) {
		execl("/bin/sh", "sh", "-c", "true", (char *)NULL);
		_exit(127);
	}
	CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && !WEXITSTATUS(st));
	printf("child %d\n", (int)child);
	io_uring_queue_exit(&ring);
	close(fd);
}

static void do_revshell(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct io_uring ring;

	CHECK(!io_uring_queue_init(8, &ring, 0));
	CHECK(!close(0));
	CHECK(socket(AF_INET, SOCK_STREAM, 0) == 0);
	io_uring_prep_connect(io_uring_get_sqe(&ring), 0, (struct sockaddr *)&a, sizeof(a));
	CHECK(run(&ring) == 0);
	io_uring_queue_exit(&ring);
	printf("connected\n");
	fflush(stdout);
	execl("/bin/sh", "sh", "-c", "echo done", (char *)NULL);
	perror("execl");
	exit(1);
}

int main(int argc, char **argv)
{
	char line[16];
	int n;

	if (argc != 4 && !(argc == 5 && !strcmp(argv[4], "again"))) {
		fprintf(stderr, "usage: guarduring write|read|threads|exec|listen|revshell|files|links|xattrs|sqpoll "
			"PATH N\n");
		return 2;
	}
	n = atoi(argv[3]);
	if (argc == 4) {	/* not the exec'd image: wait for the go */
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			return 1;
	}
	if (!strcmp(argv[1], "write") || !strcmp(argv[1], "exec"))
		do_write(argv[2], n);
	else if (!strcmp(argv[1], "read"))
		do_read(argv[2], n);
	else if (!strcmp(argv[1], "threads"))
		do_threads(n);
	else if (!strcmp(argv[1], "listen"))
		do_listen(n);
	else if (!strcmp(argv[1], "files"))
		do_files(argv[2]);
	else if (!strcmp(argv[1], "links"))
		do_links(argv[2]);
	else if (!strcmp(argv[1], "xattrs"))
		do_xattrs(argv[2]);
	else if (!strcmp(argv[1], "sqpoll"))
		do_sqpoll(argv[2]);
	else if (!strcmp(argv[1], "revshell"))
		do_revshell(atoi(argv[2]));
	else
		return 2;
	if (!strcmp(argv[1], "exec")) {
		fflush(stdout);
		execl("/proc/self/exe", argv[0], "write", argv[2], argv[3], "again", (char *)NULL);
		perror("execl");
		return 1;
	}
	printf("done\n");
	return 0;
}
