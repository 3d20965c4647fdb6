// SPDX-License-Identifier: GPL-2.0
/* guard's rules: loading and overriding, errors with line and column, the kernel filter's
 * keys, matching and messages. */
#include "testutil.h"

#include "modules/guard_net.h"
#include "modules/guard_rules.h"

static bool load(struct guard_rules *rs, const char *text, char *err, size_t len)
{
	return guard_rules_load(rs, text, strlen(text), "t.yaml", err, len) == 0;
}

/* The published FNV-1a 64 test vectors (the kernel side computes the same). */
static void test_fnv(void **state)
{
	assert_true(guard_fnv(GUARD_FNV_PATH, "", 0) == 0xcbf29ce484222325ULL);
	assert_true(guard_fnv(GUARD_FNV_PATH, "a", 1) == 0xaf63dc4c8601ec8cULL);
	assert_true(guard_fnv(GUARD_FNV_PATH, "foobar", 6) == 0x85944171f73967e8ULL);
}

static uint32_t key_class(const struct guard_filter *f, uint64_t basis, const char *s)
{
	uint64_t k = guard_fnv(basis, s, strlen(s));

	for (size_t i = 0; i < f->nkeys; i++)
		if (f->keys[i] == k)
			return f->classes[i];
	return 0;
}

static void test_filter_keys(void **state)
{
	struct guard_rules rs = { 0 };
	struct guard_filter *f = calloc(1, sizeof(*f));
	char err[256];

	assert_true(load(&rs, "rules:\n"
			 "  - {name: a, event: write, path: [/etc/passwd, '/tmp/*', "
			 "'/home/*/.ssh/authorized_keys', /etc/d/]}\n"
			 "  - {name: b, event: read, path: /etc/shadow}\n"
			 "  - {name: c, event: exec, flags: memfd}\n"
			 "  - {name: d, event: ptrace}\n", err, sizeof(err)));
	assert_int_equal(guard_rules_filter(&rs, f, err, sizeof(err)), 0);
	assert_int_equal(f->kinds, (1U << GUARD_K_WRITE) | (1U << GUARD_K_READ) |
			 (1U << GUARD_K_EXEC) | (1U << GUARD_K_PTRACE));
	assert_int_equal(f->all, 0);	/* flagged execs come up without a key */
	assert_int_equal(key_class(f, GUARD_FNV_PATH, "/etc/passwd"), GUARD_C_CHANGE);
	assert_int_equal(key_class(f, GUARD_FNV_PATH, "/tmp"), GUARD_C_CHANGE);
	assert_int_equal(key_class(f, GUARD_FNV_LEAF, "authorized_keys"), GUARD_C_CHANGE);
	assert_int_equal(key_class(f, GUARD_FNV_PATH, "/etc/d"), GUARD_C_CHANGE);
	assert_int_equal(key_class(f, GUARD_FNV_PATH, "/etc/shadow"), GUARD_C_READ);
	assert_int_equal(key_class(f, GUARD_FNV_LEAF, "shadow"), GUARD_C_READ);
	assert_int_equal(key_class(f, GUARD_FNV_LEAF, "passwd"), 0);
	assert_int_equal(f->nkeys, 6);
	/* a glob with nothing literal before its first wildcard watches everything */
	assert_true(load(&rs, "- {name: e, event: unlink, path: '/*.log'}\n", err, sizeof(err)));
	assert_int_equal(guard_rules_filter(&rs, f, err, sizeof(err)), 0);
	assert_int_equal(f->all, GUARD_C_CHANGE);
	guard_rules_free(&rs);
	free(f);
}

static void test_override_and_disable(void **state)
{
	struct guard_rules rs = { 0 };
	char err[256];

	assert_int_equal(guard_rules_defaults(&rs, err, sizeof(err)), 0);
	assert_int_equal(rs.n, 30);
	assert_true(load(&rs, "rules:\n  - name: ptrace-attach\n    event: ptrace\n"
			 "    severity: low\n  - name: module-load\n    enabled: no\n", err,
			 sizeof(err)));
	assert_int_equal(rs.n, 30);
	for (size_t i = 0; i < rs.n; i++) {
		if (!strcmp(rs.r[i].name, "ptrace-attach")) {
			assert_int_equal(rs.r[i].sev, GUARD_SEV_LOW);
			assert_string_equal(rs.r[i].origin, "t.yaml:2");
		}
		if (!strcmp(rs.r[i].name, "module-load"))
			assert_false(rs.r[i].enabled);
	}
	/* a file with an error changes nothing */
	assert_false(load(&rs, "- {name: new1}\n- {name: bpf-load, enabled: false}\n- {x: 1}\n",
			  err, sizeof(err)));
	assert_string_equal(err, "t.yaml:3:4: unknown field 'x' (name, event, path, comm, exe, "
			    "parent, uid, flags, user, ruser, pam_service, rhost, result, not, "
			    "severity, message, description, enabled)");
	assert_int_equal(rs.n, 30);
	for (size_t i = 0; i < rs.n; i++)
		if (!strcmp(rs.r[i].name, "bpf-load"))
			assert_true(rs.r[i].enabled);
	guard_rules_free(&rs);
}

static void test_errors(void **state)
{
	struct guard_rules rs = { 0 };
	char err[256];

	assert_false(load(&rs, "- name: a\n  uid: [0, -3]\n", err, sizeof(err)));
	assert_string_equal(err, "t.yaml:2:12: bad uid '-3'");
	assert_false(load(&rs, "- name: a\n  flags: shiny\n", err, sizeof(err)));
	assert_string_equal(err, "t.yaml:2:10: unknown flag 'shiny' (memfd, nolink, setuid, "
			    "setgid, sockio, unixio, netparent, uring)");
	assert_false(load(&rs, "- name: a\n  enabled: maybe\n", err, sizeof(err)));
	assert_string_equal(err, "t.yaml:2:12: 'enabled' is true or false, not 'maybe'");
	assert_false(load(&rs, "- name: a\n  message: '{comm'\n", err, sizeof(err)));
	assert_string_equal(err, "t.yaml:2:12: '{' is not closed in the message");
	assert_false(load(&rs, "other: 1\n", err, sizeof(err)));
	assert_string_equal(err, "t.yaml:1:1: unknown field 'other' (a rule file has 'rules')");
	assert_true(load(&rs, "", err, sizeof(err)));	/* empty: no rules */
	assert_int_equal(rs.n, 0);
	guard_rules_free(&rs);
}

static void test_match_and_message(void **state)
{
	struct guard_rules rs = { 0 };
	char err[256], msg[256];
	struct guard_view v = {
		.kind = GUARD_K_RENAME, .uid = 1000, .ret = 0, .path = "/srv/a.tmp",
		.path2 = "/srv/a.dat", .comm = "cp", .exe = "/usr/bin/cp", .parent = "bash",
	};

	assert_true(load(&rs, "- name: r\n  event: [rename, write]\n  path: '/srv/*.dat'\n"
			 "  uid: [1000]\n  parent: 'ba*'\n  result: ok\n  not: {comm: [rsync]}\n"
			 "  message: '{event} {path}{path2} by {comm} ({pid}, uid {uid}) {ret}'\n",
			 err, sizeof(err)));
	assert_true(guard_rule_match(&rs.r[0], &v));	/* the new name matches */
	guard_message(&rs.r[0], &v, 42, msg, sizeof(msg));
	assert_string_equal(msg, "rename /srv/a.tmp -> /srv/a.dat by cp (42, uid 1000) 0");
	v.comm = "rsync";
	assert_false(guard_rule_match(&rs.r[0], &v));	/* vetoed */
	v.comm = "cp";
	v.ret = -13;
	assert_false(guard_rule_match(&rs.r[0], &v));	/* result: ok */
	v.ret = 0;
	v.uid = 0;
	assert_false(guard_rule_match(&rs.r[0], &v));
	v.uid = 1000;
	v.kind = GUARD_K_UNLINK;
	assert_false(guard_rule_match(&rs.r[0], &v));
	v.kind = GUARD_K_WRITE;
	v.path2 = "";
	assert_false(guard_rule_match(&rs.r[0], &v));	/* /srv/a.tmp alone */
	guard_rules_free(&rs);
}

/* The fd-pattern exec rules: tests the kernel makes only when asked, no key, no flood of
 * every exec (their shell globs have no literal head); their events and messages. */
static void test_fd_rules(void **state)
{
	struct guard_rules rs = { 0 };
	struct guard_filter *f = calloc(1, sizeof(*f));
	struct guard_view v = { .kind = GUARD_K_EXEC, .flags = GUARD_F_SOCKIO, .path = "/usr/bin/bash",
				.path2 = "", .comm = "bash", .exe = "/usr/bin/bash",
				.parent = "nc", .peer = "10.0.0.1:4444" };
	char err[256], msg[256];

	assert_true(load(&rs, "rules:\n"
			 "  - {name: a, event: exec, flags: sockio, path: ['*/bash']}\n"
			 "  - {name: b, event: exec, flags: [netparent, unixio], path: ['*/sh']}\n"
			 "  - {name: c, event: [dup, memwrite, auth, session],\n"
			 "     message: '{peer} {target} {how}'}\n", err, sizeof(err)));
	assert_int_equal(guard_rules_filter(&rs, f, err, sizeof(err)), 0);
	assert_int_equal(f->all, 0);
	assert_int_equal(f->nkeys, 0);
	assert_int_equal(f->xflags, GUARD_F_SOCKIO | GUARD_F_NETPARENT | GUARD_F_UNIXIO);
	assert_true(guard_rule_match(&rs.r[0], &v));
	v.flags = GUARD_F_UNIXIO;	/* a unix socket is not what rule a asks */
	assert_false(guard_rule_match(&rs.r[0], &v));
	v.kind = GUARD_K_MEMWRITE;
	v.target = 42;
	v.how = "process_vm_writev";
	assert_true(guard_rule_match(&rs.r[2], &v));
	guard_message(&rs.r[2], &v, 7, msg, sizeof(msg));
	assert_string_equal(msg, "10.0.0.1:4444 42 process_vm_writev");
	assert_string_equal(guard_kind_name(GUARD_K_SESSION), "session");
	guard_rules_free(&rs);
	free(f);
}

/* io_uring: its event name, the flag, and coverage by what the kernel's tracepoints show */
static void test_uring(void **state)
{
	struct guard_rules rs = { 0 };
	struct guard_view v = { .kind = GUARD_K_URING, .path = "/usr/bin/x", .path2 = "",
				.comm = "x", .exe = "/usr/bin/x", .parent = "" };
	char err[256], sees[2048], blind[2048];

	assert_string_equal(guard_kind_name(GUARD_K_URING), "io_uring");
	assert_string_equal(guard_kind_name(GUARD_K_LINK), "link");
	assert_string_equal(guard_kind_name(GUARD_K_XATTR), "xattr");
	assert_true(load(&rs, "rules:\n  - name: u\n    event: [io_uring, write]\n"
			 "    flags: uring\n", err, sizeof(err)));
	assert_int_equal(rs.r[0].kinds, (1U << GUARD_K_URING) | (1U << GUARD_K_WRITE));
	assert_false(guard_rule_match(&rs.r[0], &v));	/* the flag is required */
	v.flags = GUARD_F_URING;
	assert_true(guard_rule_match(&rs.r[0], &v));
	guard_coverage(1U << GUARD_K_WRITE, GUARD_URING_FULL, sees, sizeof(sees), blind,
		       sizeof(blind));
	assert_non_null(strstr(sees, "; io_uring WRITE/WRITEV/WRITE_FIXED/WRITEV_FIXED at "
				     "completion (file, result) and OPENAT/OPENAT2"));
	assert_null(strstr(blind, "io_uring OPENAT"));
	assert_non_null(strstr(sees, "; io_uring RENAMEAT/UNLINKAT/LINKAT/SYMLINKAT/MKDIRAT at "
				     "submission (names; result not known)"));
	assert_non_null(strstr(blind, "io_uring RENAMEAT/UNLINKAT/LINKAT/SYMLINKAT/MKDIRAT "
				      "results"));
	assert_non_null(strstr(sees, "link/linkat, symlink/symlinkat (either name), "
				     "mkdir/mkdirat"));
	assert_null(strstr(blind, "hard links"));
	guard_coverage(1U << GUARD_K_WRITE, GUARD_URING_510, sees, sizeof(sees), blind,
		       sizeof(blind));
	assert_non_null(strstr(sees, "io_uring WRITE/WRITEV/WRITE_FIXED at submission"));
	assert_non_null(strstr(blind, "io_uring OPENAT/OPENAT2 (5.10's tracepoints"));
	assert_non_null(strstr(sees, "io_uring RENAMEAT/UNLINKAT at submission"));
	assert_non_null(strstr(blind, "(this io_uring has no LINKAT, SYMLINKAT, MKDIRAT"));
	guard_coverage(1U << GUARD_K_URING, GUARD_URING_NONE, sees, sizeof(sees), blind,
		       sizeof(blind));
	assert_string_equal(sees, "");
	assert_string_equal(blind, "io_uring (its tracepoints are absent)");
	guard_coverage(1U << GUARD_K_EXEC, GUARD_URING_FULL, sees, sizeof(sees), blind,
		       sizeof(blind));
	assert_null(strstr(sees, "io_uring"));	/* execs are not io_uring's */
	guard_rules_free(&rs);
}

/* A login's names from the record (the service as libpam takes it: the name after the last
 * '/', lower case; unknown: NULL) and the {login} message field. */
static void test_pam_names(void **state)
{
	static union {
		struct guard_event e;
		char b[sizeof(struct guard_event) + sizeof(struct guard_pam_names)];
	} r;
	struct guard_pam_names *n = (void *)r.e.data;
	struct guard_rules rs = { 0 };
	struct guard_view v = { .kind = GUARD_K_AUTH, .path = "", .path2 = "", .comm = "sshd",
				.exe = "", .parent = "" };
	struct guard_pam_text t;
	char err[256], msg[512];

	r.e.kind = GUARD_K_AUTH;
	r.e.len = sizeof(*n);
	n->known = GUARD_PN_SERVICE | GUARD_PN_USER | GUARD_PN_RHOST |
		   GUARD_PN_CUT(GUARD_PN_RHOST);
	strcpy(n->service, "/etc/X/SSHd");
	strcpy(n->user, "al ice");
	strcpy(n->rhost, "10.0.0.9");
	guard_pam_text(&r.e, &t);
	assert_string_equal(t.service, "sshd");
	assert_string_equal(t.user, "al ice");
	assert_string_equal(t.rhost, "10.0.0.9");
	assert_true(t.rhost_cut);
	assert_false(t.user_cut);
	assert_true(load(&rs, "rules:\n  - {name: l, event: auth,\n"
			 "     message: '{login}|{user}|{rhost}|{pam_service}'}\n", err, sizeof(err)));
	v.pam = &t;
	guard_message(&rs.r[0], &v, 1, msg, sizeof(msg));
	assert_string_equal(msg, "user al ice via sshd from 10.0.0.9|al ice|10.0.0.9|sshd");
	n->known = GUARD_PN_SERVICE;	/* su: no user yet, no remote host */
	strcpy(n->service, "su");
	guard_pam_text(&r.e, &t);
	assert_null(t.user);
	assert_null(t.rhost);
	guard_message(&rs.r[0], &v, 1, msg, sizeof(msg));
	assert_string_equal(msg, "user ? via su|?|?|su");
	r.e.len = 8;	/* too short: nothing known */
	guard_pam_text(&r.e, &t);
	assert_null(t.service);
	r.e.len = sizeof(*n);
	r.e.kind = GUARD_K_EXEC;	/* not a login's record */
	guard_pam_text(&r.e, &t);
	assert_null(t.service);
	v.pam = NULL;
	guard_message(&rs.r[0], &v, 1, msg, sizeof(msg));
	assert_string_equal(msg, "user ? via ?|?|?|?");
	guard_rules_free(&rs);

	/* conditions on the names: an unknown name matches no glob, vetoes nothing */
	assert_true(load(&rs, "rules:\n  - {name: r, event: auth, user: [root, 'adm*'],\n"
			 "     pam_service: sshd, not: {user: admin2}}\n"
			 "  - {name: s, event: auth, not: {pam_service: [cron]}}\n", err, sizeof(err)));
	r.e.kind = GUARD_K_AUTH;
	n->known = GUARD_PN_SERVICE | GUARD_PN_USER;
	strcpy(n->service, "sshd");
	strcpy(n->user, "admin");
	guard_pam_text(&r.e, &t);
	v.pam = &t;
	assert_true(guard_rule_match(&rs.r[0], &v));
	assert_true(guard_rule_match(&rs.r[1], &v));
	strcpy(n->user, "admin2");	/* vetoed */
	guard_pam_text(&r.e, &t);
	assert_false(guard_rule_match(&rs.r[0], &v));
	strcpy(n->user, "alice");	/* not in the list */
	guard_pam_text(&r.e, &t);
	assert_false(guard_rule_match(&rs.r[0], &v));
	strcpy(n->user, "root");
	strcpy(n->service, "su");	/* another service */
	guard_pam_text(&r.e, &t);
	assert_false(guard_rule_match(&rs.r[0], &v));
	strcpy(n->service, "cron");
	guard_pam_text(&r.e, &t);
	assert_false(guard_rule_match(&rs.r[1], &v));
	n->known = 0;		/* nothing known: r cannot hold, s is not vetoed */
	guard_pam_text(&r.e, &t);
	assert_false(guard_rule_match(&rs.r[0], &v));
	assert_true(guard_rule_match(&rs.r[1], &v));
	guard_rules_free(&rs);
}

/* A login record's view with user @user, requesting user @ruser, remote host @rhost (NULL:
 * unknown), service sshd. */
static void login_view(struct guard_view *v, struct guard_pam_text *t, const char *user,
		       const char *ruser, const char *rhost)
{
	static union {
		struct guard_event e;
		char b[sizeof(struct guard_event) + sizeof(struct guard_pam_names)];
	} r;
	struct guard_pam_names *n = (void *)r.e.data;

	memset(&r, 0, sizeof(r));
	r.e.kind = GUARD_K_AUTH;
	r.e.len = sizeof(*n);
	n->known = GUARD_PN_SERVICE;
	strcpy(n->service, "sshd");
	if (user)
		n->known |= GUARD_PN_USER, strcpy(n->user, user);
	if (ruser)
		n->known |= GUARD_PN_RUSER, strcpy(n->ruser, ruser);
	if (rhost)
		n->known |= GUARD_PN_RHOST, strcpy(n->rhost, rhost);
	guard_pam_text(&r.e, t);
	*v = (struct guard_view){ .kind = GUARD_K_AUTH, .path = "", .path2 = "", .comm = "sshd",
				  .exe = "", .parent = "", .pam = t };
}

/* ruser and rhost conditions: addresses, CIDRs (v4, v6, v4-mapped), host name globs, and
 * their errors with line and column; the requesting user in messages. */
static void test_login_conds(void **state)
{
	static const struct { const char *rhost; bool r, n; } cases[] = {
		/* r: rhost in 10.0.0.0/8, 192.0.2.7, 2001:db8::/32 or *.example.org;
		 * n: not vetoed (not in 10.1.0.0/16) */
		{ "10.2.3.4", true, true }, { "10.1.3.4", true, false },
		{ "11.0.0.1", false, true }, { "192.0.2.7", true, true },
		{ "192.0.2.8", false, true }, { "::ffff:10.9.9.9", true, true },
		{ "2001:db8:ffff::1", true, true }, { "2001:db9::1", false, true },
		{ "fe80::1%eth0", false, true }, { "Host.Example.ORG", true, true },
		{ "example.org", false, true }, { "10.1.0.0.example.org", true, true },
		{ NULL, false, true },
	};
	struct guard_rules rs = { 0 };
	struct guard_pam_text t;
	struct guard_view v;
	char err[512], msg[256];

	assert_true(load(&rs, "rules:\n  - name: r\n    event: auth\n"
			 "    rhost: [10.0.0.0/8, 192.0.2.7, '2001:db8::/32', '*.example.org']\n"
			 "    not: {rhost: '::ffff:10.1.0.0/112'}\n"
			 "  - {name: u, event: auth, ruser: 'ad*', message: '{ruser}: {login}'}\n",
			 err, sizeof(err)));
	assert_int_equal(rs.r[0].when.rhost_nets.n, 3);
	assert_int_equal(rs.r[0].when.rhost.n, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		login_view(&v, &t, "root", NULL, cases[i].rhost);
		assert_int_equal(guard_rule_match(&rs.r[0], &v), cases[i].r && cases[i].n);
	}
	login_view(&v, &t, "nobody", "admin", "h");
	assert_true(guard_rule_match(&rs.r[1], &v));
	guard_message(&rs.r[1], &v, 1, msg, sizeof(msg));
	assert_string_equal(msg, "admin: user nobody requested by admin via sshd from h");
	login_view(&v, &t, "nobody", "bob", NULL);
	assert_false(guard_rule_match(&rs.r[1], &v));
	login_view(&v, &t, "nobody", NULL, NULL);	/* unknown: no match */
	assert_false(guard_rule_match(&rs.r[1], &v));
	guard_message(&rs.r[1], &v, 1, msg, sizeof(msg));
	assert_string_equal(msg, "?: user nobody via sshd");
	guard_rules_free(&rs);

	static const struct { const char *text, *err; } bad[] = {
		{ "- {name: a, rhost: 10.0.0.0/33}", "t.yaml:1:20: bad CIDR '10.0.0.0/33' in "
		  "'rhost': the prefix length is 0 to 32" },
		{ "- {name: a, rhost: '2001:db8::/129'}", "t.yaml:1:20: bad CIDR '2001:db8::/129' in "
		  "'rhost': the prefix length is 0 to 128" },
		{ "- name: a\n  rhost: [10.0.0.0/8, 10.0.0/8]", "t.yaml:2:23: bad CIDR '10.0.0/8' in "
		  "'rhost': '10.0.0' is no IPv4 or IPv6 address" },
		{ "- {name: a, rhost: 10.0.0.1/8}", "t.yaml:1:20: bad CIDR '10.0.0.1/8' in 'rhost': "
		  "address bits set after the /8 prefix" },
		{ "- {name: a, rhost: 10.0.0.0/}", "t.yaml:1:20: bad CIDR '10.0.0.0/' in 'rhost': "
		  "the prefix length is 0 to 32" },
		{ "- {name: a, rhost: 10.0.0.300}", "t.yaml:1:20: bad address '10.0.0.300' in "
		  "'rhost'" },
		{ "- {name: a, rhost: 'dead::beef::1'}", "t.yaml:1:20: bad address 'dead::beef::1' "
		  "in 'rhost'" },
		{ "- {name: a, rhost: 'a b'}", "t.yaml:1:20: bad host name pattern 'a b' in 'rhost': "
		  "' ' is in no host name or address" },
		{ "- {name: a, rhost: 'h[ab'}", "t.yaml:1:20: bad glob 'h[ab' in 'rhost': '[' is not "
		  "closed" },
		{ "- {name: a, ruser: ''}", "t.yaml:1:20: empty pattern in 'ruser'" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(load(&rs, bad[i].text, err, sizeof(err)));
		assert_string_equal(err, bad[i].err);
		assert_int_equal(rs.n, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fnv),
		cmocka_unit_test(test_filter_keys),
		cmocka_unit_test(test_override_and_disable),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_match_and_message),
		cmocka_unit_test(test_fd_rules),
		cmocka_unit_test(test_uring),
		cmocka_unit_test(test_pam_names),
		cmocka_unit_test(test_login_conds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
