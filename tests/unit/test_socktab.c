// SPDX-License-Identifier: GPL-2.0
/* core/socktab.c: /proc/net parsing, socket tables, endpoint text. */
#include "testutil.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "core/socktab.h"

#define TCP_HDR "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   " \
		"uid  timeout inode\n"
#define UNIX_HDR "Num       RefCount Protocol Flags    Type St Inode Path\n"

static const char tcp4[] = TCP_HDR
	/* listening on 0.0.0.0:2024 */
	"   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0    "
	"    0 1285 1 00000000e48da1f7 100 0 0 10 0\n"
	/* 127.0.0.1:41667 -> 127.0.0.1:56452, TIME_WAIT: no inode, skipped */
	"   1: 0100007F:A2C3 0100007F:DC84 06 00000000:00000000 03:00000DF1 00000000     0    "
	"    0 0 3 000000000fea68d9\n"
	/* 10.1.2.3:80 -> 192.168.0.9:51000 */
	"   2: 0302010A:0050 0900A8C0:C738 01 00000000:00000000 00:00000000 00000000   33    "
	"    0 424242 1 0000000000000000 20 4 30 10 -1\n"
	"   3: garbage\n"
	"   4: 0100007F:zz 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 77\n";

static const char tcp6[] = TCP_HDR
	/* [::1]:8080 -> [::ffff:127.0.0.1]:40000 */
	"   0: 00000000000000000000000001000000:1F90 0000000000000000FFFF00000100007F:9C40 01 "
	"00000000:00000000 00:00000000 00000000  1000        0 9001 1 0000000000000000 20 4 0\n";

static const char unx[] = UNIX_HDR
	"00000000352ae864: 00000003 00000000 00000000 0001 03  1281\n"
	"0000000007c4c43f: 00000002 00000000 00010000 0001 01 20563 /run/systemd/notify\n"
	"ffff8880a1b2c3d4: 00000002 00000000 00000000 0002 01 20564 @/tmp/.X11 abstract\n"
	"0000000000000000: 00000002 00000000 00000000 0005 01 0 /no/inode\n";

static void test_parse_inet(void **state)
{
	struct ks_socktab t = { 0 };
	const struct ks_sock *s;
	char buf[64];

	assert_int_equal(ks_socktab_parse_inet(&t, tcp4, AF_INET, SOCK_STREAM), 2);
	assert_int_equal(ks_socktab_parse_inet(&t, tcp6, AF_INET6, SOCK_STREAM), 1);
	ks_socktab_sort(&t);
	s = ks_socktab_find(&t, 1285);
	assert_non_null(s);
	assert_int_equal(s->local.port, 2024);
	assert_true(ks_endpoint_unset(&s->remote));
	s = ks_socktab_find(&t, 424242);
	assert_non_null(s);
	assert_int_equal(s->family, AF_INET);
	assert_int_equal(s->sotype, SOCK_STREAM);
	ks_fmt_endpoint(buf, sizeof(buf), s->family, &s->local);
	assert_string_equal(buf, "10.1.2.3:80");
	ks_fmt_endpoint(buf, sizeof(buf), s->family, &s->remote);
	assert_string_equal(buf, "192.168.0.9:51000");
	s = ks_socktab_find(&t, 9001);
	assert_non_null(s);
	ks_fmt_endpoint(buf, sizeof(buf), s->family, &s->local);
	assert_string_equal(buf, "[::1]:8080");
	ks_fmt_endpoint(buf, sizeof(buf), s->family, &s->remote);
	assert_string_equal(buf, "[::ffff:127.0.0.1]:40000");
	assert_null(ks_socktab_find(&t, 0));
	assert_null(ks_socktab_find(&t, 77));
	assert_null(ks_socktab_find(&t, 1));
	ks_socktab_free(&t);
	assert_null(ks_socktab_find(&t, 1285));
}

static void test_parse_unix(void **state)
{
	struct ks_socktab t = { 0 };
	const struct ks_sock *s;

	assert_int_equal(ks_socktab_parse_unix(&t, unx), 3);
	ks_socktab_sort(&t);
	s = ks_socktab_find(&t, 1281);
	assert_non_null(s);
	assert_int_equal(s->family, AF_UNIX);
	assert_int_equal(s->sotype, SOCK_STREAM);
	assert_string_equal(s->path, "");
	s = ks_socktab_find(&t, 20563);
	assert_string_equal(s->path, "/run/systemd/notify");
	s = ks_socktab_find(&t, 20564);
	assert_int_equal(s->sotype, SOCK_DGRAM);
	assert_string_equal(s->path, "@/tmp/.X11 abstract");
	ks_socktab_free(&t);
	/* a header alone, nothing at all */
	assert_int_equal(ks_socktab_parse_unix(&t, UNIX_HDR), 0);
	assert_int_equal(ks_socktab_parse_unix(&t, ""), 0);
	assert_int_equal(ks_socktab_parse_inet(&t, "", AF_INET, SOCK_DGRAM), 0);
	ks_socktab_free(&t);
}

static void test_load_from_proc_tree(void **state)
{
	char *root = tu_mkdtemp("kssock"), dir[256];
	struct ks_socktab t = { 0 };
	const struct ks_sock *s;

	snprintf(dir, sizeof(dir), "%s/42", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/42/net", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	tu_write(dir, "tcp", tcp4, -1);
	tu_write(dir, "tcp6", tcp6, -1);
	tu_write(dir, "udp", TCP_HDR "   5: 0100007F:0035 00000000:0000 07 00000000:00000000 "
		 "00:00000000 00000000     0        0 5353 2 0000000000000000 0\n", -1);
	tu_write(dir, "unix", unx, -1);	/* udp6 is missing: skipped */
	assert_int_equal(ks_socktab_load(&t, root, 42), 7);
	s = ks_socktab_find(&t, 5353);
	assert_non_null(s);
	assert_int_equal(s->sotype, SOCK_DGRAM);
	assert_int_equal(s->local.port, 53);
	assert_non_null(ks_socktab_find(&t, 20563));
	/* loading again replaces */
	assert_int_equal(ks_socktab_load(&t, root, 42), 7);
	assert_int_equal(ks_socktab_load(&t, root, 43), 0);
	assert_null(ks_socktab_find(&t, 5353));
	ks_socktab_free(&t);
	tu_rmtree(root);
}

static void test_read_all_large(void **state)
{
	char *root = tu_mkdtemp("kssock"), path[256], *big = malloc(300000), *got;
	size_t len = 0;

	memset(big, 'x', 300000);
	tu_write(root, "big", big, 300000);
	snprintf(path, sizeof(path), "%s/big", root);
	got = ks_read_all(path, &len);
	assert_non_null(got);
	assert_int_equal(len, 300000);
	assert_int_equal(strlen(got), 300000);
	free(got);
	snprintf(path, sizeof(path), "%s/missing", root);
	assert_null(ks_read_all(path, NULL));
	free(big);
	tu_rmtree(root);
}

static void test_endpoints(void **state)
{
	struct ks_endpoint a = { { 127, 0, 0, 1 }, 80 }, z = { { 0 }, 0 };
	char buf[64], tiny[6];

	assert_int_equal(ks_fmt_endpoint(buf, sizeof(buf), AF_INET, &a), 12);
	assert_string_equal(buf, "127.0.0.1:80");
	ks_fmt_endpoint(buf, sizeof(buf), AF_INET, &z);
	assert_string_equal(buf, "0.0.0.0:0");
	z.port = 443;
	ks_fmt_endpoint(buf, sizeof(buf), AF_INET6, &z);
	assert_string_equal(buf, "[::]:443");
	assert_int_equal(ks_fmt_endpoint(tiny, sizeof(tiny), AF_INET, &a), 5);
	assert_string_equal(tiny, "127.0");
	z.port = 0;
	assert_true(ks_endpoint_unset(&z));
	z.port = 1;
	assert_false(ks_endpoint_unset(&z));
	a.port = 0;
	assert_false(ks_endpoint_unset(&a));
}

static void test_names(void **state)
{
	assert_string_equal(ks_proto_name(AF_INET, SOCK_STREAM), "tcp");
	assert_string_equal(ks_proto_name(AF_INET6, SOCK_DGRAM), "udp6");
	assert_string_equal(ks_proto_name(AF_INET, SOCK_RAW), "raw");
	assert_string_equal(ks_proto_name(AF_INET6, SOCK_SEQPACKET), "inet6");
	assert_string_equal(ks_proto_name(AF_UNIX, SOCK_DGRAM), "unix");
	assert_string_equal(ks_proto_name(AF_NETLINK, SOCK_RAW), "netlink");
	assert_string_equal(ks_proto_name(AF_PACKET, SOCK_RAW), "packet");
	assert_string_equal(ks_proto_name(0, 0), "sock");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_inet),	   cmocka_unit_test(test_parse_unix),
		cmocka_unit_test(test_load_from_proc_tree), cmocka_unit_test(test_read_all_large),
		cmocka_unit_test(test_endpoints),	   cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
