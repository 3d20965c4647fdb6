/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Syscall number <-> name. The names come from the running kernel where it says (its
 * syscall metadata: "read", "newstat"), else from the build host's <asm/unistd_64.h>
 * (generated at build time, never written by hand), else "syscall_NNN".
 * ks_sysnames() loads the table once per process; the rest is pure and tested on its own.
 */
#ifndef KSIGHT_SYSNAMES_H
#define KSIGHT_SYSNAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

#define KS_SYSNAME_LEN 32

enum ks_sysname_src {
	KS_SYSNAME_NONE,	/* "syscall_NNN" */
	KS_SYSNAME_HEADERS,	/* the build host's uapi header */
	KS_SYSNAME_KERNEL,	/* the running kernel's metadata */
};

struct ks_sysnames {
	char name[KS_SYS_MAX][KS_SYSNAME_LEN];	/* "" when unknown */
	uint8_t src[KS_SYS_MAX];		/* enum ks_sysname_src */
	unsigned int from_kernel;		/* numbers the kernel named */
};

/* The process's table: the kernel's names where it gives them (needs root), the
 * headers' elsewhere. Loaded on first call, never NULL, never freed. */
const struct ks_sysnames *ks_sysnames(void);

/* Fill @t with the headers' names only. */
void ks_sysnames_init(struct ks_sysnames *t);

/*
 * Record the kernel's metadata name @kname ("sys_read") for @nr, replacing the headers'.
 * Returns 0; -1 (nothing changed) if @nr is out of range or @kname is not "sys_<name>"
 * with a name that fits.
 */
int ks_sysnames_set_kernel(struct ks_sysnames *t, int nr, const char *kname);

/* The name of @nr: the table's, else "syscall_NNN" written into @buf. Never NULL. */
const char *ks_sysnames_name(const struct ks_sysnames *t, unsigned int nr, char *buf,
			     size_t len);

/*
 * The number of @name: a name of the table, else a name of the headers (so "stat" finds
 * what the kernel calls "newstat"), else "syscall_NNN" with NNN < KS_SYS_MAX.
 * Returns the number, or -1 if unknown.
 */
int ks_sysnames_nr(const struct ks_sysnames *t, const char *name);

/* "kernel", "headers" or "none". */
const char *ks_sysnames_src_name(unsigned int src);

#endif
