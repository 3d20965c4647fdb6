/* SPDX-License-Identifier: GPL-2.0 */
/* Syscall numbers for BPF code: the architecture's own uapi header (x86_64). */
#ifndef KSIGHT_SYSNR_H
#define KSIGHT_SYSNR_H
#include <asm/unistd_64.h>
#endif
