/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rw: the read/write family and the fd-changing calls at their return, run by the syscall
 * dispatcher or by rw's fexit programs (rw.bpf.c). The task filters were applied before
 * (at sys_enter for the entry time, at sys_exit before this handler), so other tasks never
 * get here.
 */
#ifndef KSIGHT_RW_SYS_BPF_H
#define KSIGHT_RW_SYS_BPF_H

#include "syscalls.bpf.h"
#include "rw.h"
#include "rw_fd.bpf.h"
#include "uabi.bpf.h"

const volatile bool rw_summary = false;	/* --summary: aggregate, stream no calls */
const volatile __s32 rw_targ_fd = -1;	/* --fd, -1 = any */
const volatile bool rw_timed = true;	/* false with --no-latency */
const volatile bool rw_fd_io = false;	/* the sums live in the dispatcher's ks_fd_io */
const volatile bool rw_fd_kinds = false;	/* ... keyed by the fd's kind too (--rw-kinds) */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, RW_SUM_ENTRIES);
	__type(key, struct rw_sum_key);
	__type(value, struct rw_sum_val);
} rw_sums SEC(".maps");

#define RW_REQ_PART (1ULL << 63)	/* rw_iov_sum_g: not every iovec could be read */

/* below RW_REQ_PART (the record saturates far lower anyway: RW_F_REQ_SAT) */
static __always_inline __u64 rw_req_clamp(__u64 sum)
{
	return sum < RW_REQ_PART ? sum : RW_REQ_PART - 1;
}

/*
 * Sum of the lengths of up to RW_IOV_MAX iovecs at @iov (user memory, @cnt of them),
 * RW_REQ_PART set when some were not read. A global function: its loop is verified
 * once, not in each of the six places that sum iovecs (one in rw_mmsg_sum's loop).
 */
__noinline __u64 rw_iov_sum_g(__u64 iov, __u64 cnt)
{
	const struct ks_uiovec *u = (const struct ks_uiovec *)iov;
	__u64 sum = 0;

	for (__u32 i = 0; i < RW_IOV_MAX; i++) {
		struct ks_uiovec v;

		if (i >= cnt)
			break;
		if (bpf_probe_read_user(&v, sizeof(v), &u[i]))
			return rw_req_clamp(sum) | RW_REQ_PART;
		sum += v.len;
	}
	return rw_req_clamp(sum) | (cnt > RW_IOV_MAX ? RW_REQ_PART : 0);
}

static __always_inline __u64 rw_iov_sum(const struct ks_uiovec *iov, __u64 cnt,
					 __u16 *flags)
{
	__u64 sum = rw_iov_sum_g((__u64)iov, cnt);

	if (sum & RW_REQ_PART)
		*flags |= RW_F_REQ_PART;
	return sum & ~RW_REQ_PART;
}

static __always_inline __u64 rw_msg_sum(const struct ks_umsghdr *msg, __u16 *flags)
{
	struct ks_umsghdr m;

	if (bpf_probe_read_user(&m, sizeof(m), msg)) {
		*flags |= RW_F_REQ_PART;
		return 0;
	}
	return rw_iov_sum((const struct ks_uiovec *)m.iov, m.iovlen, flags);
}

/*
 * sendmmsg/recvmmsg returned @n messages: the bytes they carried (each one's msg_len, set
 * by the kernel) and asked for (each one's iovecs), for the first RW_MMSG_MAX of them.
 */
static __always_inline long rw_mmsg_sum(__u64 vec, long n, __u64 *req, __u16 *flags)
{
	long sum = 0;

	for (__u32 i = 0; i < RW_MMSG_MAX; i++) {
		struct ks_ummsghdr m;

		if (i >= n)
			return sum;
		if (bpf_probe_read_user(&m, sizeof(m), (const void *)(vec + i * sizeof(m)))) {
			*flags |= RW_F_REQ_PART | RW_F_RET_PART;
			return sum;
		}
		sum += m.len;
		*req += rw_iov_sum((const struct ks_uiovec *)m.hdr.iov, m.hdr.iovlen, flags);
	}
	if (n > RW_MMSG_MAX)
		*flags |= RW_F_REQ_PART | RW_F_RET_PART;
	return sum;
}

/* --summary: add the call to its (pid, fd) row on this CPU; a new row is named @comm and
 * @cgroup, or NULL and 0: the current task's. */
static __always_inline void rw_sum_add_as(__u32 pid, const char *comm, __u64 cgroup, __s32 fd,
					  long ret, bool write, __u64 enter_ts)
{
	struct rw_sum_key k = { .pid = pid, .fd = fd };
	struct rw_sum_val *v = bpf_map_lookup_elem(&rw_sums, &k);
	__u64 lat;
	__u32 slot;

	if (!v) {
		/* the zero value is 328 bytes: build it in the scratch buffer, not the stack */
		struct ks_level lv;
		struct rw_sum_val *zero = ks_scratch_begin(&lv, RW_EV_SUM);

		if (!zero)
			return;
		__builtin_memset(zero, 0, sizeof(*zero));
		if (comm)
			__builtin_memcpy(zero->comm, comm, sizeof(zero->comm));
		else
			bpf_get_current_comm(zero->comm, sizeof(zero->comm));
		zero->cgroup = cgroup ? cgroup : bpf_get_current_cgroup_id();
		bpf_map_update_elem(&rw_sums, &k, zero, BPF_NOEXIST);
		ks_scratch_end(&lv);
		v = bpf_map_lookup_elem(&rw_sums, &k);
		if (!v) {
			ks_lost(RW_EV_SUM);
			return;
		}
	}
	/* plain increments: the row is this CPU's, and programs on a CPU do not nest */
	if (write)
		v->writes++;
	else
		v->reads++;
	if (ret < 0)
		v->errors++;
	else if (write)
		v->wbytes += ret;
	else
		v->rbytes += ret;
	if (!rw_timed || !enter_ts)
		return;
	lat = bpf_ktime_get_ns() - enter_ts;
	v->lat_sum += lat;
	slot = ks_log2(lat);
	v->slots[ks_mask(slot < RW_SLOTS ? slot : RW_SLOTS - 1, 31)]++;
}

static __always_inline void rw_sum_add(__u64 pid_tgid, __s32 fd, long ret, bool write,
				       __u64 enter_ts)
{
	rw_sum_add_as(pid_tgid >> 32, NULL, 0, fd, ret, write, enter_ts);
}

/* rw_call_g's @meta: the syscall number, the record's flags and the direction */
#define RW_META(id, flags, write) ((__u64)(id) | (__u64)(flags) << 16 | (__u64)!!(write) << 32)

/*
 * One call of the family at its return (of @ret, entered at @enter_ts, 0: not timed) on
 * fds @fds (the fd << 32 | the second fd, -1: none), asking @req bytes, @meta as RW_META
 * builds it. A global function with scalar arguments: the verifier checks it once instead
 * of a copy inlined in each of the dozen cases of rw_sys_exit (5499 instructions, 12777
 * processed, the largest part of `ksight rw`'s start-up; bench/RESULTS.md). Returns 0.
 */
__noinline int rw_call_g(__u64 enter_ts, __s64 ret, __u64 fds, __u64 req, __u64 meta)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__s32 fd = fds >> 32, fd2 = (__s32)fds;
	__u16 flags = meta >> 16;
	bool write = meta >> 32;
	struct rw_event *e;

	if (rw_targ_fd >= 0 && fd != rw_targ_fd && fd2 != rw_targ_fd)
		return 0;
	if (rw_summary) {
		if (rw_fd_io)
			ks_fd_io_add(pid_tgid, fd, ret, (write ? KS_SYS_IO_WRITE : KS_SYS_IO_READ) |
					     (rw_fd_kinds ? KS_SYS_IO_KINDS : 0));
		else
			rw_sum_add(pid_tgid, fd, ret, write, enter_ts);
		return 0;
	}
	e = ks_reserve(RW_EV_CALL, sizeof(*e), pid_tgid);
	if (!e)
		return 0;
	/* another module (syscount -L in the agent) may have timed it: rw was told not to */
	e->lat_ns = rw_timed && enter_ts ? e->hdr.ts - enter_ts : 0;
	e->ret = ret;
	if (req > 0xffffffffULL) {
		req = 0xffffffffULL;
		flags |= RW_F_REQ_SAT;
	}
	e->req = req;
	e->fd = fd;
	e->fd2 = fd2;
	e->sys = meta & 0xffff;
	e->flags = flags;
	ks_submit(e);
	return 0;
}

static __always_inline void rw_call(const struct ks_sys_call *c, long ret, __u64 pid_tgid,
				    __s32 fd, __s32 fd2, __u64 req, __u16 flags, bool write)
{
	rw_call_g(c->enter_ts, ret, (__u64)(__u32)fd << 32 | (__u32)fd2, req,
		  RW_META(c->id, flags, write));
}

/* sendmmsg/recvmmsg: one record, bytes summed over the messages, fd2 their number. */
static __always_inline void rw_mmsg_call(const struct ks_sys_call *c, long ret, __u64 pid_tgid,
					 bool write)
{
	__u16 flags = 0;
	__u64 req = 0;
	long bytes = ret;

	if (rw_targ_fd >= 0 && (__s32)c->args[0] != rw_targ_fd)
		return;		/* fd2 is no fd here: rw_call must not match it */
	if (ret > 0)
		bytes = rw_mmsg_sum(c->args[1], ret, &req, &flags);
	rw_call(c, bytes, pid_tgid, c->args[0], ret > 0 ? ret : 0, req, flags, write);
}

static __always_inline void rw_sys_exit(void *ctx, const struct ks_sys_call *c, long ret,
					__u64 pid_tgid)
{
	const __u64 *a = c->args;
	__u16 flags = 0;
	__u64 req;

	switch (c->id) {
	case __NR_read:
	case __NR_pread64:
	case __NR_recvfrom:
		rw_call(c, ret, pid_tgid, a[0], -1, a[2], 0, false);
		return;
	case __NR_write:
	case __NR_pwrite64:
	case __NR_sendto:
		rw_call(c, ret, pid_tgid, a[0], -1, a[2], 0, true);
		return;
	case __NR_readv:
	case __NR_preadv:
	case __NR_preadv2:
		req = rw_iov_sum((const struct ks_uiovec *)a[1], a[2], &flags);
		rw_call(c, ret, pid_tgid, a[0], -1, req, flags, false);
		return;
	case __NR_writev:
	case __NR_pwritev:
	case __NR_pwritev2:
		req = rw_iov_sum((const struct ks_uiovec *)a[1], a[2], &flags);
		rw_call(c, ret, pid_tgid, a[0], -1, req, flags, true);
		return;
	case __NR_recvmsg:
		req = rw_msg_sum((const struct ks_umsghdr *)a[1], &flags);
		rw_call(c, ret, pid_tgid, a[0], -1, req, flags, false);
		return;
	case __NR_sendmsg:
		req = rw_msg_sum((const struct ks_umsghdr *)a[1], &flags);
		rw_call(c, ret, pid_tgid, a[0], -1, req, flags, true);
		return;
	case __NR_sendfile:
		rw_call(c, ret, pid_tgid, a[0], a[1], a[3], 0, true);
		return;
	/* the fd-to-fd copies: a write on the out fd, the in fd beside it, as sendfile */
	case __NR_splice:
	case __NR_copy_file_range:
		rw_call(c, ret, pid_tgid, a[2], a[0], a[4], 0, true);
		return;
	case __NR_tee:
		rw_call(c, ret, pid_tgid, a[1], a[0], a[2], 0, true);
		return;
	case __NR_sendmmsg:
	case __NR_recvmmsg:
		rw_mmsg_call(c, ret, pid_tgid, c->id == __NR_sendmmsg);
		return;
	default:
		rw_fd_change(c, ret, pid_tgid);
	}
}

#endif
