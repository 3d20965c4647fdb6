// SPDX-License-Identifier: GPL-2.0
/*
 * rwgen: makes exactly known read/write calls, for the rw tests.
 *   rwgen [-e] [-a] [-s MS] DIR NFILE NPIPE NNET
 * Prints "ready PID", waits for a line on stdin, then in one thread:
 *   file: NFILE write()s of 10 bytes to DIR/data;
 *   pipe: NPIPE read()s of 2 bytes from a pipe, fed by write()s of 2000 bytes;
 *   tcp:  NNET send()s of 10 bytes on a loopback TCP connection, each received by one
 *         recv(MSG_WAITALL) on the accepted socket;
 *   udp:  NNET send()s of 10 bytes between two connected loopback UDP sockets, each
 *         received by one recv();
 *   -a:   then every call of the family and every kind of fd (see all_calls() and
 *         copy_calls()), printing "all" and "copies" and the fds they used.
 * -e opens every fd before "ready" (the tool must find them in /proc); else after "go".
 * -s MS sleeps MS milliseconds between the phases (to spread them over intervals).
 * Prints "fds FILE PIPE_R PIPE_W TCP_C TCP_S UDP_A UDP_B" and "ports TCP_C TCP_S UDP_A UDP_B"
 * then "done".
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define CHECK(x)                                                  \
	do {                                                      \
		if (!(x)) {                                       \
			perror(#x);                               \
			exit(1);                                  \
		}                                                 \
	} while (0)

struct fds {
	int file, pipe_r, pipe_w, tcp_c, tcp_s, udp_a, udp_b;
};

static int port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	CHECK(!getsockname(fd, (struct sockaddr *)&a, &len));
	return ntohs(a.sin_port);
}

static int udp_bound(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	CHECK(fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)));
	return fd;
}

static void udp_connect(int fd, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(port) };

	CHECK(!connect(fd, (struct sockaddr *)&a, sizeof(a)));
}

static void open_all(struct fds *f, const char *dir)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	char path[4096];
	int p[2], l;

	snprintf(path, sizeof(path), "%s/data", dir);
	f->file = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	CHECK(f->file >= 0 && !pipe(p));
	f->pipe_r = p[0];
	f->pipe_w = p[1];
	l = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(l >= 0 && !bind(l, (struct sockaddr *)&a, sizeof(a)) && !listen(l, 1));
	CHECK(!getsockname(l, (struct sockaddr *)&a, &len));
	f->tcp_c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(f->tcp_c >= 0 && !connect(f->tcp_c, (struct sockaddr *)&a, sizeof(a)));
	f->tcp_s = accept(l, NULL, NULL);
	CHECK(f->tcp_s >= 0);
	close(l);
	f->udp_a = udp_bound();
	f->udp_b = udp_bound();
	udp_connect(f->udp_a, port_of(f->udp_b));
	udp_connect(f->udp_b, port_of(f->udp_a));
}

static int pause_ms;

static void phase_done(void)
{
	if (pause_ms)
		usleep(pause_ms * 1000);
}

static void run(const struct fds *f, long nfile, long npipe, long nnet)
{
	static char buf[2000];
	char small[16];

	for (long i = 0; i < nfile; i++)
		CHECK(write(f->file, "0123456789", 10) == 10);
	phase_done();
	for (long i = 0; i < npipe; i++) {
		if (i % 1000 == 0)
			CHECK(write(f->pipe_w, buf, sizeof(buf)) == sizeof(buf));
		CHECK(read(f->pipe_r, small, 2) == 2);
	}
	phase_done();
	for (long i = 0; i < nnet; i++) {
		CHECK(send(f->tcp_c, "0123456789", 10, 0) == 10);
		CHECK(recv(f->tcp_s, small, 10, MSG_WAITALL) == 10);
	}
	phase_done();
	for (long i = 0; i < nnet; i++) {
		CHECK(send(f->udp_a, "0123456789", 10, 0) == 10);
		CHECK(recv(f->udp_b, small, sizeof(small), 0) == 10);
	}
}

static struct iovec iov(void *p, size_t n)
{
	return (struct iovec){ .iov_base = p, .iov_len = n };
}

/*
 * Each call once (or as said), with results the test knows: on DIR/all (X), a TCP pair,
 * dup'ed fds, an eventfd, a socketpair, a named unix socket pair, a FIFO, a reused fd
 * number, a bad fd, and paths relative to a directory fd and to a new cwd.
 */
/*
 * The fd-to-fd copies and the multi-message calls, each once with results the test knows:
 * copy_file_range of DIR/src (30 bytes) to DIR/copy, splice of 12 of them into a pipe,
 * tee of that pipe into a second pipe, splice of the pipe into the TCP connection, and a
 * sendmmsg of 3 datagrams (3, 4 and 5 bytes) received by one recvmmsg into 3 x 16 bytes.
 */
static void copy_calls(const char *dir, int tc, int ts, int ua, int ub)
{
	char path[4096], b[64] = "abcdefghijklmnopqrstuvwxyz0123456789";
	struct iovec v[3], r[3];
	struct mmsghdr mm[3];
	int src, cp, p1[2], p2[2];
	loff_t in = 0;

	snprintf(path, sizeof(path), "%s/src", dir);
	src = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(src >= 0 && write(src, b, 30) == 30);
	snprintf(path, sizeof(path), "%s/copy", dir);
	cp = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(cp >= 0 && copy_file_range(src, &in, cp, NULL, 30, 0) == 30);
	in = 0;
	CHECK(!pipe(p1) && !pipe(p2));
	CHECK(splice(src, &in, p1[1], NULL, 12, 0) == 12);
	CHECK(tee(p1[0], p2[1], 12, 0) == 12);
	CHECK(splice(p1[0], NULL, tc, NULL, 12, 0) == 12);
	CHECK(recv(ts, b, 12, MSG_WAITALL) == 12);
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < 3; i++) {
		v[i] = iov(b, 3 + i);
		mm[i].msg_hdr.msg_iov = &v[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	CHECK(sendmmsg(ua, mm, 3, 0) == 3);
	for (int i = 0; i < 3; i++) {
		r[i] = iov(b + 16 * i, 16);
		mm[i].msg_hdr.msg_iov = &r[i];
	}
	CHECK(recvmmsg(ub, mm, 3, 0, NULL) == 3);
	CHECK(mm[0].msg_len == 3 && mm[1].msg_len == 4 && mm[2].msg_len == 5);
	printf("copies %d %d %d %d %d %d\n", src, cp, p1[0], p1[1], p2[0], p2[1]);
}

static void all_calls(const char *dir, int tc, int ts)
{
	char path[4096], b[64] = "abcdefghijklmnopqrstuvwxyz0123456789";
	struct iovec v[20];
	struct msghdr m = { .msg_iov = v };
	struct sockaddr_un ua = { .sun_family = AF_UNIX };
	off_t off = 0;
	int x, d2, dfd, efd, sp[2], ul, uc, us, fifo, other, dirfd, rel, cwdrel;
	uint64_t one = 1;

	snprintf(path, sizeof(path), "%s/all", dir);
	x = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(x >= 0 && pwrite(x, b, 8, 0) == 8);
	v[0] = iov(b, 2), v[1] = iov(b, 3), v[2] = iov(b, 4);
	CHECK(writev(x, v, 3) == 9);
	v[0] = iov(b, 5), v[1] = iov(b, 5);
	CHECK(pwritev(x, v, 2, 100) == 10);
	v[0] = iov(b, 4);
	CHECK(pwritev2(x, v, 1, 200, 0) == 4);
	CHECK(pread(x, b, 8, 0) == 8);
	CHECK(lseek(x, 0, SEEK_SET) == 0);
	v[0] = iov(b, 3), v[1] = iov(b, 3);
	CHECK(readv(x, v, 2) == 6);
	v[0] = iov(b, 4), v[1] = iov(b, 4);
	CHECK(preadv(x, v, 2, 100) == 8);
	v[0] = iov(b, 16);
	CHECK(preadv2(x, v, 1, 200, 0) == 4);
	CHECK(sendfile(tc, x, &off, 20) == 20 && recv(ts, b, 20, MSG_WAITALL) == 20);
	v[0] = iov(b, 5), v[1] = iov(b, 5);
	m.msg_iovlen = 2;
	CHECK(sendmsg(tc, &m, 0) == 10);
	v[0] = iov(b, 10);
	m.msg_iovlen = 1;
	CHECK(recvmsg(ts, &m, MSG_WAITALL) == 10);
	for (int i = 0; i < 20; i++)
		v[i] = iov(b, 1);
	CHECK(writev(x, v, 20) == 20);	/* more iovecs than the kernel side sums */
	d2 = dup2(x, 100);
	CHECK(d2 == 100 && write(d2, "z", 1) == 1);
	dfd = fcntl(x, F_DUPFD, 200);
	CHECK(dfd >= 200 && write(dfd, "y", 1) == 1);
	efd = eventfd(0, 0);
	CHECK(efd >= 0 && write(efd, &one, 8) == 8 && read(efd, &one, 8) == 8);
	CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, sp));
	CHECK(write(sp[0], "abc", 3) == 3 && read(sp[1], b, 3) == 3);
	snprintf(ua.sun_path, sizeof(ua.sun_path), "%s/sock", dir);
	ul = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(ul >= 0 && !bind(ul, (struct sockaddr *)&ua, sizeof(ua)) && !listen(ul, 1));
	uc = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(uc >= 0 && !connect(uc, (struct sockaddr *)&ua, sizeof(ua)));
	us = accept(ul, NULL, NULL);
	CHECK(us >= 0 && write(uc, "abcd", 4) == 4 && read(us, b, 4) == 4);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	CHECK(!mkfifo(path, 0600));
	fifo = open(path, O_RDWR);
	CHECK(fifo >= 0 && write(fifo, "abcde", 5) == 5 && read(fifo, b, 5) == 5);
	close(x);
	snprintf(path, sizeof(path), "%s/other", dir);
	other = open(path, O_WRONLY | O_CREAT, 0644);	/* takes x's number */
	CHECK(other == x && write(other, "o", 1) == 1);
	CHECK(read(999, b, 1) == -1);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	rel = openat(dirfd, "rel", O_WRONLY | O_CREAT, 0644);
	CHECK(rel >= 0 && write(rel, "r", 1) == 1);
	CHECK(!chdir(dir));
	cwdrel = open("./cwdrel", O_WRONLY | O_CREAT, 0644);
	CHECK(cwdrel >= 0 && write(cwdrel, "c", 1) == 1);
	printf("all %d %d %d %d %d %d %d %d %d %d %d %d %d\n", x, d2, dfd, efd, sp[0], sp[1], ul,
	       uc, us, fifo, other, rel, cwdrel);
}

int main(int argc, char **argv)
{
	int opt, early = 0, all = 0;
	struct fds f;
	char line[16];

	while ((opt = getopt(argc, argv, "eas:")) != -1) {
		if (opt == 'e')
			early = 1;
		else if (opt == 'a')
			all = 1;
		else if (opt == 's')
			pause_ms = atoi(optarg);
		else
			return 2;
	}
	if (argc - optind != 4)
		return 2;
	if (early)
		open_all(&f, argv[optind]);
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	if (!early)
		open_all(&f, argv[optind]);
	run(&f, atol(argv[optind + 1]), atol(argv[optind + 2]), atol(argv[optind + 3]));
	if (all) {
		all_calls(argv[optind], f.tcp_c, f.tcp_s);
		copy_calls(argv[optind], f.tcp_c, f.tcp_s, f.udp_a, f.udp_b);
	}
	printf("fds %d %d %d %d %d %d %d\n", f.file, f.pipe_r, f.pipe_w, f.tcp_c, f.tcp_s, f.udp_a,
	       f.udp_b);
	printf("ports %d %d %d %d\n", port_of(f.tcp_c), port_of(f.tcp_s), port_of(f.udp_a),
	       port_of(f.udp_b));
	printf("done\n");
	fflush(stdout);
	return 0;
}
