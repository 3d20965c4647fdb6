/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guard: logins through libpam. pam_authenticate and pam_open_session report at their
 * return; the names of the login come from the calls that hand them to libpam, each
 * remembered per (process, PAM handle): pam_start/pam_start_confdir (the service, the
 * user if known then; the handle only at the return, through the out-pointer),
 * pam_set_item of PAM_SERVICE, PAM_USER, PAM_RHOST, PAM_RUSER (libpam's pam_get_user sets the user
 * through it too, by its PLT), pam_end forgets. Only login programs call these; none of
 * them reads PAM_AUTHTOK or any other item.
 */
#ifndef KSIGHT_GUARD_PAM_BPF_H
#define KSIGHT_GUARD_PAM_BPF_H

#include "guard.sys.bpf.h"

#define GUARD_PAM_ITEM_SERVICE 1
#define GUARD_PAM_ITEM_USER 2
#define GUARD_PAM_ITEM_RHOST 4
#define GUARD_PAM_ITEM_RUSER 8

struct guard_pam_key {
	__u32 tgid;
	__u32 pad;
	__u64 pamh;
};

/* The names of each live handle. A process that ends without pam_end leaves its
 * handles to the LRU. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct guard_pam_key);
	__type(value, struct guard_pam_names);
} guard_pam_handles SEC(".maps");

/* A call under way per thread: pam_start's arguments (pamh: the out-pointer), or the
 * handle of pam_authenticate / pam_open_session. */
struct guard_pam_call {
	__u64 pamh;
	__u64 service;
	__u64 user;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct guard_pam_call);
} guard_pam_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct guard_pam_names);
} guard_pam_scratch SEC(".maps");

/* User string @src into @dst (@size bytes): the known bits for @bit (0: NULL, unreadable). */
static __always_inline __u32 guard_pam_str(char *dst, __u32 size, __u64 src, __u32 bit)
{
	long n = src ? bpf_probe_read_user_str(dst, size, (const void *)src) : 0;

	if (n <= 0) {
		dst[0] = 0;
		return 0;
	}
	return n >= size ? bit | GUARD_PN_CUT(bit) : bit;
}

/* The names of @pamh in this process; a handle only the parent has seen (a child forked
 * to authenticate, as sshd does) is the parent's, copied when @create. NULL: unknown and
 * not @create, or no room. */
static __always_inline struct guard_pam_names *guard_pam_find(__u64 pamh, bool create)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct guard_pam_key k = { .tgid = bpf_get_current_pid_tgid() >> 32, .pamh = pamh };
	struct guard_pam_key pk = { .tgid = BPF_CORE_READ(task, real_parent, tgid), .pamh = pamh };
	struct guard_pam_names *n = bpf_map_lookup_elem(&guard_pam_handles, &k), *p;
	__u32 zero = 0;

	if (n)
		return n;
	p = bpf_map_lookup_elem(&guard_pam_handles, &pk);
	if (!create)
		return p;
	if (!p) {
		p = bpf_map_lookup_elem(&guard_pam_scratch, &zero);
		if (!p)
			return NULL;
		p->known = 0;
		p->service[0] = p->user[0] = p->rhost[0] = p->ruser[0] = 0;
	}
	bpf_map_update_elem(&guard_pam_handles, &k, p, BPF_ANY);
	return bpf_map_lookup_elem(&guard_pam_handles, &k);
}

static __always_inline void guard_pam_call(__u64 pamh, __u64 service, __u64 user)
{
	__u32 tid = bpf_get_current_pid_tgid();
	struct guard_pam_call c = { .pamh = pamh, .service = service, .user = user };

	bpf_map_update_elem(&guard_pam_calls, &tid, &c, BPF_ANY);
}

/* pam_start(service, user, conv, pamh_out), pam_start_confdir(..., confdir, pamh_out) */
SEC("uprobe")
int BPF_KPROBE(guard__pam_start, __u64 service, __u64 user, __u64 conv, __u64 out)
{
	guard_pam_call(out, service, user);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(guard__pam_start_cd, __u64 service, __u64 user, __u64 conv, __u64 dir,
	       __u64 out)
{
	guard_pam_call(out, service, user);
	return 0;
}

/* The handle is there: its first names (pam_start copies them itself, no set_item). */
SEC("uretprobe")
int BPF_KRETPROBE(guard__pam_start_ret, int rc)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct guard_pam_key k = { .tgid = id >> 32 };
	__u32 tid = id, zero = 0;
	struct guard_pam_names *n;
	struct guard_pam_call *c;

	c = bpf_map_lookup_elem(&guard_pam_calls, &tid);
	if (!c)
		return 0;
	n = bpf_map_lookup_elem(&guard_pam_scratch, &zero);
	if (rc == 0 && n && !bpf_probe_read_user(&k.pamh, sizeof(k.pamh), (void *)c->pamh) &&
	    k.pamh) {
		n->known = guard_pam_str(n->service, sizeof(n->service), c->service,
					 GUARD_PN_SERVICE) |
			   guard_pam_str(n->user, sizeof(n->user), c->user, GUARD_PN_USER);
		n->rhost[0] = n->ruser[0] = 0;
		bpf_map_update_elem(&guard_pam_handles, &k, n, BPF_ANY);
	}
	bpf_map_delete_elem(&guard_pam_calls, &tid);
	return 0;
}

/* pam_set_item(pamh, type, item): the four names only, each replacing the last. */
SEC("uprobe")
int BPF_KPROBE(guard__pam_set_item, __u64 pamh, int type, __u64 item)
{
	struct guard_pam_names *n;
	__u32 bit;

	if (type != GUARD_PAM_ITEM_SERVICE && type != GUARD_PAM_ITEM_USER &&
	    type != GUARD_PAM_ITEM_RHOST && type != GUARD_PAM_ITEM_RUSER)
		return 0;
	n = guard_pam_find(pamh, true);
	if (!n)
		return 0;
	if (type == GUARD_PAM_ITEM_SERVICE) {
		bit = GUARD_PN_SERVICE;
		n->known = (n->known & ~(bit | GUARD_PN_CUT(bit))) |
			   guard_pam_str(n->service, sizeof(n->service), item, bit);
	} else if (type == GUARD_PAM_ITEM_USER) {
		bit = GUARD_PN_USER;
		n->known = (n->known & ~(bit | GUARD_PN_CUT(bit))) |
			   guard_pam_str(n->user, sizeof(n->user), item, bit);
	} else if (type == GUARD_PAM_ITEM_RHOST) {
		bit = GUARD_PN_RHOST;
		n->known = (n->known & ~(bit | GUARD_PN_CUT(bit))) |
			   guard_pam_str(n->rhost, sizeof(n->rhost), item, bit);
	} else {
		bit = GUARD_PN_RUSER;
		n->known = (n->known & ~(bit | GUARD_PN_CUT(bit))) |
			   guard_pam_str(n->ruser, sizeof(n->ruser), item, bit);
	}
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(guard__pam_end, __u64 pamh)
{
	struct guard_pam_key k = { .tgid = bpf_get_current_pid_tgid() >> 32, .pamh = pamh };

	bpf_map_delete_elem(&guard_pam_handles, &k);
	return 0;
}

/* pam_authenticate(pamh, flags), pam_open_session(pamh, flags): the handle till the return */
SEC("uprobe")
int BPF_KPROBE(guard__pam_call, __u64 pamh)
{
	guard_pam_call(pamh, 0, 0);
	return 0;
}

/* pam_authenticate or pam_open_session (@kind) returned @rc (PAM_SUCCESS: 0). */
static __always_inline void guard_pam_done(__u32 kind, long rc)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct guard_pam_names *n = NULL;
	struct guard_pam_call *c;
	struct guard_event *e;
	__u32 tid = pid_tgid;
	__u64 pamh = 0;

	c = bpf_map_lookup_elem(&guard_pam_calls, &tid);
	if (c) {
		pamh = c->pamh;
		bpf_map_delete_elem(&guard_pam_calls, &tid);
	}
	if (!guard_wants(kind) || !ks_want(pid_tgid))
		return;
	e = guard_begin(kind, 0, rc ? -(long)(__u32)rc : 0);
	if (!e)
		return;
	e->arg[0] = kind == GUARD_K_AUTH ? GUARD_PAM_AUTH : GUARD_PAM_SESSION;
	e->arg[1] = (__u32)rc;
	if (pamh)
		n = guard_pam_find(pamh, false);
	/* no names: the known bits alone (user space reads a short record as all unknown) */
	e->len = sizeof(*n);
	if (!n || bpf_probe_read_kernel(e->data, sizeof(*n), n)) {
		((struct guard_pam_names *)e->data)->known = 0;
		e->len = sizeof(n->known);
	}
	guard_send(e, pid_tgid);
}

SEC("uretprobe")
int BPF_KRETPROBE(guard__pam_auth_ret, int rc)
{
	guard_pam_done(GUARD_K_AUTH, rc);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(guard__pam_session_ret, int rc)
{
	guard_pam_done(GUARD_K_SESSION, rc);
	return 0;
}

#endif
