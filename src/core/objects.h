/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One BPF object of the session (the core's or a module's), handled through libbpf's
 * generic API: open it from its skeleton with every program off, switch on the chosen
 * ones, give it the shared configuration and the core's maps, load it, free it.
 */
#ifndef KSIGHT_OBJECTS_H
#define KSIGHT_OBJECTS_H

#include "common.h"
#include "core/module.h"

struct ks_bpfobj;

/* Open @def's object with every program's autoload off. Returns 0 or -errno. */
int ks_bpfobj_open(struct ks_bpfobj *o, const struct ks_bpf_obj *def);

/* Switch program @name on. Returns 0, or -ENOENT (an internal error, printed with @label). */
int ks_bpfobj_enable(struct ks_bpfobj *o, const char *name, const char *label);

/* Write @cfg into the object's read-only ks_cfg. Returns 0 or -errno. */
int ks_bpfobj_set_config(struct ks_bpfobj *o, const struct ks_config *cfg);

/*
 * Make every shared map of @o (name "ks_...") the one @core created, and leave uncreated
 * those the core did not create. Returns 0 or -errno.
 */
int ks_bpfobj_share_maps(struct ks_bpfobj *o, const struct ks_bpfobj *core);

/* Load (verify) the object; counts its programs and times the load. Returns 0 or -errno. */
int ks_bpfobj_load(struct ks_bpfobj *o);

/* Destroy links and the object. Safe on a closed or never opened one. */
void ks_bpfobj_close(struct ks_bpfobj *o);

/* Give back the pages of the object's embedded ELF image (read again only on a reload). */
void ks_bpfobj_release_pages(const struct ks_bpfobj *o);
/* The same for a skeleton's image, given its <name>_bpf__elf_bytes function. */
void ks_release_elf(const void *(*elf)(size_t *size));

#endif
