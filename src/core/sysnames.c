// SPDX-License-Identifier: GPL-2.0
#include "core/sysnames.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* [nr] = "name", from `$(CC) -dM -E` over <asm/unistd_64.h> (see the Makefile) */
static const char *const hdr_names[KS_SYS_MAX] = {
#include "sysnames_gen.h"
};

void ks_sysnames_init(struct ks_sysnames *t)
{
	memset(t, 0, sizeof(*t));
	for (int nr = 0; nr < KS_SYS_MAX; nr++) {
		if (!hdr_names[nr] || strlen(hdr_names[nr]) >= KS_SYSNAME_LEN)
			continue;
		strcpy(t->name[nr], hdr_names[nr]);
		t->src[nr] = KS_SYSNAME_HEADERS;
	}
}

int ks_sysnames_set_kernel(struct ks_sysnames *t, int nr, const char *kname)
{
	size_t n;

	if (nr < 0 || nr >= KS_SYS_MAX || strncmp(kname, "sys_", 4))
		return -1;
	kname += 4;
	n = strlen(kname);
	if (!n || n >= KS_SYSNAME_LEN)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)kname[i]) && kname[i] != '_')
			return -1;
	if (t->src[nr] != KS_SYSNAME_KERNEL)
		t->from_kernel++;
	memcpy(t->name[nr], kname, n + 1);
	t->src[nr] = KS_SYSNAME_KERNEL;
	return 0;
}

const char *ks_sysnames_name(const struct ks_sysnames *t, unsigned int nr, char *buf,
			     size_t len)
{
	if (nr < KS_SYS_MAX && t->name[nr][0])
		return t->name[nr];
	snprintf(buf, len, "syscall_%u", nr);
	return buf;
}

int ks_sysnames_nr(const struct ks_sysnames *t, const char *name)
{
	const char *p;
	char *end;
	long v;

	if (!name || !*name)
		return -1;
	for (int nr = 0; nr < KS_SYS_MAX; nr++)
		if (!strcmp(t->name[nr], name))
			return nr;
	for (int nr = 0; nr < KS_SYS_MAX; nr++)
		if (hdr_names[nr] && !strcmp(hdr_names[nr], name))
			return nr;
	if (strncmp(name, "syscall_", 8))
		return -1;
	p = name + 8;
	if (!isdigit((unsigned char)*p) || (*p == '0' && p[1]))
		return -1;
	v = strtol(p, &end, 10);
	if (*end || v < 0 || v >= KS_SYS_MAX)
		return -1;
	return v;
}

const char *ks_sysnames_src_name(unsigned int src)
{
	switch (src) {
	case KS_SYSNAME_KERNEL:
		return "kernel";
	case KS_SYSNAME_HEADERS:
		return "headers";
	default:
		return "none";
	}
}
