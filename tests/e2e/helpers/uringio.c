// SPDX-License-Identifier: GPL-2.0
/*
 * uringio: exactly known io_uring requests, for rw's io_uring tests (liburing).
 *   uringio [-e] [-q] DIR N
 * Prints "ready PID", waits for a line on stdin, then, one request at a time:
 *   file: N writes of 100 bytes to DIR/data (at offsets 0, 100, ...), then N reads of 100
 *         bytes back; the odd-numbered ones through the registered (fixed) file;
 *   tcp:  N sends of 50 bytes on a loopback TCP connection, each received by one recv of
 *         50 bytes (MSG_WAITALL) on the accepted socket; odd-numbered sends and recvs
 *         through fixed files;
 *   one nop and one fsync of the file.
 * Every result is checked (exact bytes); each request's user_data is its number
 * (1, 2, ...). -e opens every fd before "ready" (the tool must find them in /proc); else
 * after "go". -q: an SQPOLL ring (the kernel's thread submits).
 * Prints "fds FILE TCP_C TCP_S", "ports TCP_C TCP_S" and "done", then waits for a line on
 * stdin before it exits.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK(x)                                                  \
	do {                                                      \
		if (!(x)) {                                       \
			perror(#x);                               \
			exit(1);                                  \
		}                                                 \
	} while (0)

static struct io_uring ring;
static __u64 tag;	/* user_data: 1, 2, ... in submission order */
static bool sqpoll;	/* -q: the kernel's thread may take the request before submit counts it */

/* Submit what is prepared and wait for its one completion; returns its result. */
static int run(struct io_uring_sqe *sqe, int fd, int fixed_index, bool fixed)
{
	struct io_uring_cqe *cqe;
	int res;

	io_uring_sqe_set_data64(sqe, ++tag);
	if (fixed) {
		sqe->fd = fixed_index;
		sqe->flags |= IOSQE_FIXED_FILE;
	} else {
		sqe->fd = fd;
	}
	res = io_uring_submit(&ring);
	CHECK(sqpoll ? res >= 0 : res == 1);
	CHECK(!io_uring_wait_cqe(&ring, &cqe));
	res = cqe->res;
	io_uring_cqe_seen(&ring, cqe);
	return res;
}

static struct io_uring_sqe *sqe_get(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	CHECK(sqe);
	return sqe;
}

static int port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	CHECK(!getsockname(fd, (struct sockaddr *)&a, &len));
	return ntohs(a.sin_port);
}

static void open_fds(const char *dir, int *file, int *tc, int *ts)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	char path[4096];
	int lfd;

	snprintf(path, sizeof(path), "%s/data", dir);
	CHECK((*file = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644)) >= 0);
	CHECK((lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	CHECK(!bind(lfd, (struct sockaddr *)&a, sizeof(a)) && !listen(lfd, 1));
	CHECK(!getsockname(lfd, (struct sockaddr *)&a, &len));
	CHECK((*tc = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	CHECK(!connect(*tc, (struct sockaddr *)&a, sizeof(a)));
	CHECK((*ts = accept(lfd, NULL, NULL)) >= 0);
	close(lfd);
}

int main(int argc, char **argv)
{
	char line[64], buf[100], back[100];
	int opt, n, file = -1, tc = -1, ts = -1, regd[3];
	bool early = false;
	struct io_uring_params p = {};

	while ((opt = getopt(argc, argv, "eq")) != -1) {
		if (opt == 'e')
			early = true;
		else if (opt == 'q')
			sqpoll = true;
		else
			return 2;
	}
	if (argc - optind != 2)
		return 2;
	n = atoi(argv[optind + 1]);
	if (early)
		open_fds(argv[optind], &file, &tc, &ts);
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	if (!early)
		open_fds(argv[optind], &file, &tc, &ts);
	if (sqpoll) {
		p.flags = IORING_SETUP_SQPOLL;
		p.sq_thread_idle = 1000;
	}
	CHECK(!io_uring_queue_init_params(8, &ring, &p));
	regd[0] = file;
	regd[1] = tc;
	regd[2] = ts;
	CHECK(!io_uring_register_files(&ring, regd, 3));

	for (int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = sqe_get();

		memset(buf, 'a' + i % 26, sizeof(buf));
		io_uring_prep_write(sqe, file, buf, sizeof(buf), (__u64)i * sizeof(buf));
		CHECK(run(sqe, file, 0, i & 1) == sizeof(buf));
	}
	for (int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = sqe_get();

		memset(buf, 'a' + i % 26, sizeof(buf));
		io_uring_prep_read(sqe, file, back, sizeof(back), (__u64)i * sizeof(back));
		CHECK(run(sqe, file, 0, i & 1) == sizeof(back) && !memcmp(buf, back, sizeof(buf)));
	}
	for (int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = sqe_get();

		memset(buf, 'A' + i % 26, 50);
		io_uring_prep_send(sqe, tc, buf, 50, 0);
		CHECK(run(sqe, tc, 1, i & 1) == 50);
		sqe = sqe_get();
		io_uring_prep_recv(sqe, ts, back, 50, MSG_WAITALL);
		CHECK(run(sqe, ts, 2, i & 1) == 50 && !memcmp(buf, back, 50));
	}
	{
		struct io_uring_sqe *sqe = sqe_get();

		io_uring_prep_nop(sqe);
		CHECK(run(sqe, -1, 0, false) == 0);
		sqe = sqe_get();
		io_uring_prep_fsync(sqe, file, 0);
		CHECK(run(sqe, file, 0, false) == 0);
	}
	printf("fds %d %d %d\nports %d %d\ndone\n", file, tc, ts, port_of(tc), port_of(ts));
	fflush(stdout);
	fgets(line, sizeof(line), stdin);
	io_uring_queue_exit(&ring);
	return 0;
}
