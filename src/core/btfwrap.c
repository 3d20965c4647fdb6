// SPDX-License-Identifier: GPL-2.0
/*
 * libbpf's two calls that btfcache.c serves, for the binaries the build links with
 * `-Wl,--wrap=btf__load_vmlinux_btf,--wrap=btf__free` (KSIGHT_LDFLAGS): the ksight binary
 * and the selftest. Kept out of libksight.a, whose unit tests link the plain functions.
 */
#include <bpf/btf.h>

#include "core/btfcache.h"

struct btf *__wrap_btf__load_vmlinux_btf(void);
void __wrap_btf__free(struct btf *btf);
void __real_btf__free(struct btf *btf);

struct btf *__wrap_btf__load_vmlinux_btf(void)
{
	return ks_vmlinux_btf_lend();
}

void __wrap_btf__free(struct btf *btf)
{
	if (!ks_vmlinux_btf_give_back(btf))
		__real_btf__free(btf);
}
