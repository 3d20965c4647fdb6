// SPDX-License-Identifier: GPL-2.0
/* modules/rw_fdev.c: rw's fd records as core fd changes; rw_fmt.c: call names. */
#include "testutil.h"

#include <sys/socket.h>
#include <sys/syscall.h>

#include "modules/rw_fdev.h"
#include "modules/rw_fmt.h"

/* A record with @name (NULL: none) of @n bytes; *@size its size. */
static struct rw_fd_event *ev(uint8_t op, uint8_t kind, const char *name, size_t n, size_t *size)
{
	struct rw_fd_event *e = calloc(1, sizeof(*e) + n);

	e->hdr.type = RW_EV_FD;
	e->hdr.pid = 42;
	e->hdr.ts = 2000;
	e->enter_ts = 1000;
	e->op = op;
	e->kind = kind;
	e->fd = 7;
	e->fd2 = -1;
	e->dfd = -100;
	if (name)
		memcpy(e->name, name, n);
	e->name_len = n;
	*size = sizeof(*e) + n;
	return e;
}

static void test_fields(void **state)
{
	char l[RW_UNIX_NAME], r[RW_UNIX_NAME];
	struct ks_fdchange c;
	size_t n;
	struct rw_fd_event *e = ev(RW_FD_NEW, RW_KIND_FILE, "/a/b", 5, &n);

	e->flags = RW_FDF_PATH | RW_FDF_NAME_CUT;
	e->dfd = 3;
	e->ino = 99;
	assert_true(rw_fdchange_from_event(&c, e, n, l, r));
	assert_int_equal(c.op, KS_FD_NEW);
	assert_int_equal(c.pid, 42);
	assert_int_equal(c.fd, 7);
	assert_int_equal(c.fd2, -1);
	assert_int_equal(c.dfd, 3);
	assert_true(c.ts == 2000 && c.enter_ts == 1000);
	assert_int_equal(c.flags, KS_FDC_PATH);
	assert_int_equal(c.spec.kind, KS_FD_FILE);
	assert_true(c.spec.ino == 99);
	assert_ptr_equal(c.spec.path, e->name);
	assert_true(c.spec.path_cut);
	/* a short record; a name longer than the record; a name without its NUL */
	assert_false(rw_fdchange_from_event(&c, e, sizeof(*e) - 1, l, r));
	e->name_len = 200;
	assert_true(rw_fdchange_from_event(&c, e, n, l, r));
	assert_null(c.spec.path);
	e->name_len = 4;
	assert_true(rw_fdchange_from_event(&c, e, n, l, r));
	assert_null(c.spec.path);
	free(e);
	/* a close the kernel saw reused */
	e = ev(RW_FD_CLOSE, 0, NULL, 0, &n);
	e->flags = RW_FDF_REUSED;
	assert_true(rw_fdchange_from_event(&c, e, n, l, r));
	assert_int_equal(c.flags, KS_FDC_REUSED);
	free(e);
}

static void test_dup_names_a_component(void **state)
{
	char l[RW_UNIX_NAME], r[RW_UNIX_NAME];
	struct ks_fdchange c;
	size_t n;
	struct rw_fd_event *e = ev(RW_FD_DUP, RW_KIND_FILE, "app.log", 8, &n);

	assert_true(rw_fdchange_from_event(&c, e, n, l, r));
	assert_int_equal(c.flags, KS_FDC_BASENAME);
	free(e);
	/* anonymous inodes are named as such, never as a component */
	e = ev(RW_FD_DUP, RW_KIND_ANON, "[eventfd]", 10, &n);
	assert_true(rw_fdchange_from_event(&c, e, n, l, r));
	assert_int_equal(c.flags, 0);
	assert_string_equal(c.spec.path, "[eventfd]");
	free(e);
}

static void test_sockets(void **state)
{
	char l[RW_UNIX_NAME], r[RW_UNIX_NAME], names[2 * RW_UNIX_HALF] = { 0 };
	struct ks_fdchange c;
	size_t n;
	struct rw_fd_event *e = ev(RW_FD_UPDATE, RW_KIND_SOCKET, NULL, 0, &n);

	e->family = AF_INET6;
	e->sotype = SOCK_DGRAM;
	e->laddr.addr[15] = 1;
	e->laddr.port = 53;
	e->raddr.addr[0] = 0xfe;
	e->raddr.port = 5353;
	assert_true(rw_fdchange_from_event(&c, e, n, l, r));
	assert_int_equal(c.spec.family, AF_INET6);
	assert_int_equal(c.spec.sotype, SOCK_DGRAM);
	assert_int_equal(c.spec.local.addr[15], 1);
	assert_int_equal(c.spec.local.port, 53);
	assert_int_equal(c.spec.remote.addr[0], 0xfe);
	assert_int_equal(c.spec.remote.port, 5353);
	assert_true(c.spec.netns == 0);	/* the table fills in the process's */
	free(e);
	/* AF_UNIX: the local name at 0, the peer's at RW_UNIX_HALF */
	strcpy(names + RW_UNIX_HALF, "/run/s.sock");
	e = ev(RW_FD_NEW, RW_KIND_SOCKET, names, sizeof(names), &n);
	e->family = AF_UNIX;
	assert_true(rw_fdchange_from_event(&c, e, n, l, r));
	assert_string_equal(c.spec.lname, "");
	assert_string_equal(c.spec.rname, "/run/s.sock");
	assert_null(c.spec.path);
	free(e);
}

static void test_names(void **state)
{
	assert_string_equal(rw_call_name(SYS_read), "read");
	assert_string_equal(rw_call_name(SYS_sendfile), "sendfile");
	assert_string_equal(rw_call_name(SYS_pwritev2), "pwritev2");
	assert_string_equal(rw_call_name(SYS_recvmsg), "recvmsg");
	assert_string_equal(rw_call_name(SYS_openat), "?");
	assert_true(rw_call_writes(SYS_sendfile));
	assert_true(rw_call_writes(SYS_sendmsg));
	assert_true(rw_call_writes(SYS_pwritev));
	assert_false(rw_call_writes(SYS_recvfrom));
	assert_false(rw_call_writes(SYS_preadv2));
	assert_false(rw_call_writes(SYS_close));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_dup_names_a_component),
		cmocka_unit_test(test_sockets),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
