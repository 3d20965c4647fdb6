/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KSIGHT_CORE_SKEL_H
#define KSIGHT_CORE_SKEL_H

struct ksight_bpf;

/*
 * Open the linked BPF object. The skeleton's open embeds the whole object (~4 MB) in every
 * file that calls it, so only loader.c does, and everyone else opens it through here.
 */
struct ksight_bpf *ks_skel_open(void);

/*
 * Once loaded, drop the embedded object's pages from this process's memory: libbpf reads
 * all of it while opening, and it would otherwise stay resident (~4 MB of RSS) for
 * nothing. Pages read again later simply fault back in from the binary.
 */
void ks_skel_release_pages(void);

#endif
