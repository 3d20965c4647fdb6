/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the running kernel accepts, found by asking it: BTF lookups and trial loads of a
 * two-instruction program per hook family and target, never kernel version numbers.
 * Answers are cached for the life of the probe object.
 */
#ifndef KSIGHT_PROBE_H
#define KSIGHT_PROBE_H

#include <stddef.h>

#include "core/module.h"

struct ks_probe;
struct btf;

/* Returns a probe object, or NULL with errno set. */
struct ks_probe *ks_probe__new(void);
void ks_probe__free(struct ks_probe *p);

/* The ks_probe_fn of hooks.h: 0 if @family can hook @target here, else -errno with a
 * reason naming the missing kernel feature in @why. */
int ks_probe(void *p, enum ks_family family, const char *target, char *why, size_t len);

/* The kernel's BTF (core/btfcache.h), read on first use; NULL if it has none. */
struct btf *ks_probe__btf(struct ks_probe *p);

/* Drop the cached BTF (megabytes) once selection and loading no longer need it. */
void ks_probe__release_btf(struct ks_probe *p);

/* Make sure tracefs is mounted (mounting it if needed). Returns its path or NULL. */
const char *ks_tracefs(void);

#endif
