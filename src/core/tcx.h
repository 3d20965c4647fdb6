/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcx (6.6): TC programs attached by BPF links. libbpf 1.1 has no API for them and
 * Debian 12's kernel headers (6.1) lack the attach types, so they are defined here with
 * the kernel's values (enum bpf_attach_type, include/uapi/linux/bpf.h).
 */
#ifndef KSIGHT_TCX_H
#define KSIGHT_TCX_H

#define KS_BPF_TCX_INGRESS 46
#define KS_BPF_TCX_EGRESS 47

#endif
