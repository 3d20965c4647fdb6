// SPDX-License-Identifier: GPL-2.0
/*
 * Every layout the BPF programs and user space share, checked at build time. clang -target
 * bpf and gcc lay out the same declarations alike only as long as the headers keep to
 * fixed-width fields and explicit padding (bpf/common.h); a field added without its
 * padding, or a size changed on one side only, stops the build here instead of
 * misreading records at run time. The sizes are the kernel side's, 8-byte multiples.
 */
#include <stddef.h>

#include "bio.h"
#include "biolat.h"
#include "cache.h"
#include "cswitch.h"
#include "drops.h"
#include "common.h"
#include "core.h"
#include "exec.h"
#include "files.h"
#include "guard.h"
#include "mem.h"
#include "net.h"
#include "pmc.h"
#include "open.h"
#include "profile.h"
#include "offcpu.h"
#include "proc.h"
#include "rw.h"
#include "syscount.h"
#include "tcp.h"
#include "udp.h"
#include "req.h"
#include "sysnames_meta.h"

#define KS_LAYOUT(type, size) _Static_assert(sizeof(struct type) == (size), #type " layout")

/* the header and the core's records */
KS_LAYOUT(ks_hdr, 64);
_Static_assert(offsetof(struct ks_hdr, seq) == 16 && offsetof(struct ks_hdr, comm) == 48,
	       "ks_hdr field offsets");
KS_LAYOUT(ks_owner, 40);
KS_LAYOUT(ks_cpu_stats, 8 * KS_LEVELS + 16 + 8 * KS_EV_MAX + 8);
KS_LAYOUT(ks_config, 48);
KS_LAYOUT(ks_sys_route, 16);
KS_LAYOUT(ks_sys_call, 88);
KS_LAYOUT(ks_sys_enter, 64);
KS_LAYOUT(ks_fd_io, 64);
KS_LAYOUT(ks_proc_exec, 104);
KS_LAYOUT(ks_proc_exit, 96);
KS_LAYOUT(sysnames_ent, 72);

/* modules */
KS_LAYOUT(exec_fail, 3200);
KS_LAYOUT(open_event, 96);
KS_LAYOUT(open_count_key, 264);
KS_LAYOUT(open_count_val, 40);
KS_LAYOUT(bio_key, 24);
KS_LAYOUT(bio_val, 56 + 8 * BIO_SLOTS);
KS_LAYOUT(bio_req, 112);
KS_LAYOUT(biolat_key, 8);
KS_LAYOUT(biolat_hist, 272);
KS_LAYOUT(cswitch_key, 8);
KS_LAYOUT(cswitch_val, 72);
KS_LAYOUT(drops_key, 24);
KS_LAYOUT(cache_key, 16);
KS_LAYOUT(cache_val, 48);
KS_LAYOUT(cache_fkey, 16);
KS_LAYOUT(cache_fval, 24);
KS_LAYOUT(cache_reader, 32);
KS_LAYOUT(mem_key, 8);
KS_LAYOUT(mem_val, 88);
KS_LAYOUT(mem_block, 24);
KS_LAYOUT(mem_oom, 128);
KS_LAYOUT(pmc_key, 16);
KS_LAYOUT(pmc_val, 8 * 3 * PMC_MAX + 48);
KS_LAYOUT(pmc_start, 8 * 3 * PMC_MAX + 8);
KS_LAYOUT(profile_key, 16);
KS_LAYOUT(profile_val, 32);
KS_LAYOUT(profile_first, 72);
KS_LAYOUT(offcpu_key, 80);
KS_LAYOUT(offcpu_val, 32);
KS_LAYOUT(offcpu_start, 64);
KS_LAYOUT(offcpu_first, 72);
KS_LAYOUT(drops_val, 32);
KS_LAYOUT(syscount_key, 8);
KS_LAYOUT(syscount_val, 40);
KS_LAYOUT(syscount_hist, 320);
KS_LAYOUT(rw_event, 96);
KS_LAYOUT(rw_fd_event, 160);
KS_LAYOUT(rw_uring_event, 104);
KS_LAYOUT(rw_uring_req, 72);
KS_LAYOUT(rw_uring_key, 16);
KS_LAYOUT(rw_inaddr, 20);
KS_LAYOUT(rw_sum_key, 8);
KS_LAYOUT(rw_sum_val, 328);
KS_LAYOUT(files_event, 136);
KS_LAYOUT(guard_event, 176);
KS_LAYOUT(files_close, 104);
KS_LAYOUT(files_top_key, 24);
KS_LAYOUT(files_top_val, 312);
KS_LAYOUT(files_wr_key, 8);
KS_LAYOUT(files_wr_val, 32);
KS_LAYOUT(proc_fork, 104);
KS_LAYOUT(tcp_end, 24);
KS_LAYOUT(tcp_conn, 136);
KS_LAYOUT(tcp_close, 168);
KS_LAYOUT(tcp_proc_key, 8);
KS_LAYOUT(tcp_proc_val, 64);
KS_LAYOUT(tcp_open_ev, 136);
KS_LAYOUT(tcp_lat_hist, 272);
KS_LAYOUT(udp_flow_key, 32);
KS_LAYOUT(udp_flow_val, 64);
KS_LAYOUT(udp_dns_ev, 616);
KS_LAYOUT(req_key, 40);
KS_LAYOUT(req_val, 296);
KS_LAYOUT(net_key, 16);
KS_LAYOUT(net_count, 16);
KS_LAYOUT(net_rkey, 32);
KS_LAYOUT(net_rval, 32);
KS_LAYOUT(net_cap, 328);
KS_LAYOUT(tcp_state_ev, 128);
KS_LAYOUT(tcp_retr_ev, 128);
KS_LAYOUT(tcp_retr_key, 56);
KS_LAYOUT(tcp_retr_val, 88);
KS_LAYOUT(tcp_counts, 168);
