/* SPDX-License-Identifier: GPL-2.0 */
/*
 * BPF iterators run from user space: an iterator program does its work as its output is
 * read, so reading the iterator to its end runs it once over everything it walks (every
 * task, every open file). The programs here write to maps, not to the output.
 */
#ifndef KSIGHT_CORE_ITER_H
#define KSIGHT_CORE_ITER_H

struct bpf_link;
struct bpf_program;

/* Run the iterator attached as @link once, to its end. Returns 0 or -errno. */
int ks_iter_read(struct bpf_link *link);

/* Attach @prog (an iterator program, loaded), run it once and detach it. Returns 0 or
 * -errno (the kernel has no such iterator...). */
int ks_iter_once(struct bpf_program *prog);

#endif
