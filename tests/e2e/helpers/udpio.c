// SPDX-License-Identifier: GPL-2.0
/*
 * udpio: exact UDP exchanges and DNS messages, for ksight udp's tests.
 *   udpio server ADDR PORT N SIZE
 *	binds ADDR:PORT, prints "ready PID", then receives N datagrams (recvfrom) and answers
 *	each with SIZE bytes to its sender (sendto); prints "RX_DGRAMS RX_BYTES TX_DGRAMS
 *	TX_BYTES" and exits.
 *   udpio client ADDR PORT N SIZE MODE
 *	binds an ephemeral port, prints "ready PID LPORT", waits for a line on stdin, then
 *	sends N datagrams of SIZE bytes to ADDR:PORT, each answered before the next is sent
 *	(mmsg: in batches of 10), with the calls MODE names: sendto (sendto/recvfrom), msg
 *	(sendmsg/recvmsg), mmsg (sendmmsg/recvmmsg), rw (connect, write/read), v (connect,
 *	writev/readv), peek (sendto, recvfrom with MSG_PEEK, then without); prints
 *	"TX_DGRAMS TX_BYTES RX_DGRAMS RX_BYTES".
 *   udpio dnsd ADDR ANSWER DELAY_MS [N]
 *	binds ADDR:53, prints "ready PID", answers N queries (default 1; any name) after
 *	DELAY_MS each, an A query with the IPv4 address ANSWER, any other type with no
 *	record, prints "ID" for each and exits.
 *   udpio dns ADDR NAME
 *	prints "ready PID LPORT", waits for a line, sends an A query for NAME to ADDR:53
 *	(sendto), receives the answer (recvfrom, with the sender's address), prints "ID
 *	ANSWER" and exits.
 * ADDR is IPv4 or IPv6.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BATCH 10
#define MAXSZ 65507

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* ADDR:PORT into @sa; the family. */
static int addr(const char *s, int port, struct sockaddr_storage *sa, socklen_t *len)
{
	struct sockaddr_in *a4 = (void *)sa;
	struct sockaddr_in6 *a6 = (void *)sa;

	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return AF_INET6;
	}
	fprintf(stderr, "udpio: bad address %s\n", s);
	exit(2);
}

static int bound(const char *s, int port, struct sockaddr_storage *sa, socklen_t *len)
{
	int fd = socket(addr(s, port, sa, len), SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (void *)sa, *len))
		die("bind");
	return fd;
}

static void wait_go(void)
{
	char line[16];

	if (!fgets(line, sizeof(line), stdin))
		exit(1);
}

static int server(const char *a, int port, long n, size_t size)
{
	static char buf[MAXSZ];
	struct sockaddr_storage sa, from;
	socklen_t len;
	long rxd = 0, rxb = 0, txd = 0, txb = 0;
	int fd = bound(a, port, &sa, &len);

	printf("ready %d\n", getpid());
	fflush(stdout);
	memset(buf, 's', size);
	while (rxd < n) {
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), 0, (void *)&from, &fl);

		if (r < 0)
			die("recvfrom");
		rxd++;
		rxb += r;
		if (sendto(fd, buf, size, 0, (void *)&from, fl) != (ssize_t)size)
			die("sendto");
		txd++;
		txb += size;
	}
	printf("%ld %ld %ld %ld\n", rxd, rxb, txd, txb);
	return 0;
}

static void one_msg(int fd, bool tx, char *buf, size_t size, struct sockaddr_storage *sa,
		    socklen_t len)
{
	struct iovec iov = { buf, tx ? size : MAXSZ };
	struct msghdr m = { .msg_name = sa, .msg_namelen = tx ? len : sizeof(*sa),
			    .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r = tx ? sendmsg(fd, &m, 0) : recvmsg(fd, &m, 0);

	if (r < 0 || (tx && r != (ssize_t)size))
		die(tx ? "sendmsg" : "recvmsg");
}

/* @k messages at once each way. */
static void batch(int fd, char *buf, size_t size, struct sockaddr_storage *sa, socklen_t len,
		  int k)
{
	static char rbuf[BATCH][MAXSZ];
	struct sockaddr_storage from[BATCH];
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	int done = 0;

	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < k; i++) {
		iov[i] = (struct iovec){ buf, size };
		mm[i].msg_hdr = (struct msghdr){ .msg_name = sa, .msg_namelen = len,
						 .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	while (done < k) {
		int r = sendmmsg(fd, mm + done, k - done, 0);

		if (r <= 0)
			die("sendmmsg");
		done += r;
	}
	for (int i = 0; i < k; i++) {
		iov[i] = (struct iovec){ rbuf[i], MAXSZ };
		mm[i].msg_hdr = (struct msghdr){ .msg_name = &from[i],
						 .msg_namelen = sizeof(from[i]),
						 .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	for (done = 0; done < k;) {
		int r = recvmmsg(fd, mm + done, k - done, 0, NULL);

		if (r <= 0)
			die("recvmmsg");
		done += r;
	}
}

static int client(const char *a, int port, long n, size_t size, const char *mode)
{
	static char buf[MAXSZ], rbuf[MAXSZ];
	struct sockaddr_storage sa, local;
	socklen_t len, llen = sizeof(local);
	int fam = addr(a, port, &sa, &len);
	int fd = socket(fam, SOCK_DGRAM, 0);
	bool connected = !strcmp(mode, "rw") || !strcmp(mode, "v");
	struct sockaddr_storage any = { .ss_family = fam };

	if (fd < 0 || bind(fd, (void *)&any, fam == AF_INET ? sizeof(struct sockaddr_in) :
							       sizeof(struct sockaddr_in6)))
		die("bind");
	if (connected && connect(fd, (void *)&sa, len))
		die("connect");
	if (getsockname(fd, (void *)&local, &llen))
		die("getsockname");
	printf("ready %d %d\n", getpid(), ntohs(((struct sockaddr_in *)&local)->sin_port));
	fflush(stdout);
	wait_go();
	memset(buf, 'c', size);
	for (long i = 0; i < n;) {
		struct iovec iv = { buf, size }, rv = { rbuf, sizeof(rbuf) };

		if (!strcmp(mode, "mmsg")) {
			int k = n - i < BATCH ? n - i : BATCH;

			batch(fd, buf, size, &sa, len, k);
			i += k;
			continue;
		}
		if (!strcmp(mode, "sendto") || !strcmp(mode, "peek")) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);

			if (sendto(fd, buf, size, 0, (void *)&sa, len) != (ssize_t)size)
				die("sendto");
			if (mode[0] == 'p' &&
			    recvfrom(fd, rbuf, sizeof(rbuf), MSG_PEEK, (void *)&from, &fl) < 0)
				die("recvfrom MSG_PEEK");
			if (recvfrom(fd, rbuf, sizeof(rbuf), 0, (void *)&from, &fl) < 0)
				die("recvfrom");
		} else if (!strcmp(mode, "msg")) {
			struct sockaddr_storage from;

			one_msg(fd, true, buf, size, &sa, len);
			one_msg(fd, false, rbuf, size, &from, sizeof(from));
		} else if (!strcmp(mode, "rw")) {
			if (write(fd, buf, size) != (ssize_t)size ||
			    read(fd, rbuf, sizeof(rbuf)) < 0)
				die("write/read");
		} else if (!strcmp(mode, "v")) {
			if (writev(fd, &iv, 1) != (ssize_t)size || readv(fd, &rv, 1) < 0)
				die("writev/readv");
		} else {
			fprintf(stderr, "udpio: bad mode %s\n", mode);
			return 2;
		}
		i++;
	}
	printf("%ld %ld %ld %ld\n", n, n * (long)size, n, n * (long)size);
	return 0;
}

/* Answer one query received on @fd after @d: an A query with @ans, any other with no
 * record. Prints its id. */
static void dns_answer(int fd, const struct in_addr *ans, const struct timespec *d)
{
	unsigned char q[512], r[600];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n, qend = 12, rlen;
	bool a;

	n = recvfrom(fd, q, sizeof(q), 0, (void *)&from, &fl);
	if (n < 12)
		die("recvfrom");
	while (qend < n && q[qend])
		qend += q[qend] + 1;
	qend += 5;	/* the root label, type, class */
	if (qend > n)
		exit(1);
	a = q[qend - 4] == 0 && q[qend - 3] == 1;
	nanosleep(d, NULL);
	memcpy(r, q, qend);
	r[2] = 0x81;	/* QR, RD */
	r[3] = 0x80;	/* RA, NOERROR */
	r[6] = 0;
	r[7] = a;	/* one answer, or none */
	r[8] = r[9] = r[10] = r[11] = 0;
	memcpy(r + qend, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04", 12);
	memcpy(r + qend + 12, ans, 4);
	rlen = a ? qend + 16 : qend;
	if (sendto(fd, r, rlen, 0, (void *)&from, fl) != rlen)
		die("sendto");
	printf("%d\n", q[0] << 8 | q[1]);
}

static int dnsd(const char *a, const char *answer, int delay_ms, int queries)
{
	struct timespec d = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
	struct sockaddr_storage sa;
	struct in_addr ans;
	socklen_t len;
	int fd = bound(a, 53, &sa, &len);

	if (inet_pton(AF_INET, answer, &ans) != 1)
		return 2;
	printf("ready %d\n", getpid());
	fflush(stdout);
	for (int i = 0; i < queries; i++)
		dns_answer(fd, &ans, &d);
	return 0;
}

static int dns(const char *a, const char *name)
{
	unsigned char q[512], r[600];
	struct sockaddr_storage sa, local = { 0 };
	socklen_t len, llen = sizeof(local);
	int fd = socket(addr(a, 53, &sa, &len), SOCK_DGRAM, 0);
	size_t o = 12;
	uint16_t id = getpid() & 0xffff;
	char out[INET_ADDRSTRLEN];
	ssize_t n;

	memset(&local, 0, sizeof(local));
	local.ss_family = sa.ss_family;
	if (fd < 0 || bind(fd, (void *)&local, len) || getsockname(fd, (void *)&local, &llen))
		die("bind");
	printf("ready %d %d\n", getpid(), ntohs(((struct sockaddr_in *)&local)->sin_port));
	fflush(stdout);
	wait_go();
	memset(q, 0, 12);
	q[0] = id >> 8;
	q[1] = id & 0xff;
	q[2] = 0x01;	/* RD */
	q[5] = 1;	/* one question */
	for (const char *s = name; *s;) {
		size_t l = strcspn(s, ".");

		q[o++] = l;
		memcpy(q + o, s, l);
		o += l;
		s += l + (s[l] == '.');
	}
	memcpy(q + o, "\x00\x00\x01\x00\x01", 5);
	o += 5;
	if (sendto(fd, q, o, 0, (void *)&sa, len) != (ssize_t)o)
		die("sendto");
	llen = sizeof(local);
	n = recvfrom(fd, r, sizeof(r), 0, (void *)&local, &llen);
	if (n < (ssize_t)o + 16)
		die("recvfrom");
	inet_ntop(AF_INET, r + n - 4, out, sizeof(out));
	printf("%u %s\n", id, out);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "server"))
		return server(argv[2], atoi(argv[3]), atol(argv[4]), atol(argv[5]));
	if (argc == 7 && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]), atol(argv[4]), atol(argv[5]), argv[6]);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "dnsd"))
		return dnsd(argv[2], argv[3], atoi(argv[4]), argc == 6 ? atoi(argv[5]) : 1);
	if (argc == 4 && !strcmp(argv[1], "dns"))
		return dns(argv[2], argv[3]);
	fprintf(stderr, "usage: see the top of udpio.c\n");
	return 2;
}
