/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guard's enforcement (ksight guard --enforce): what user space and the BPF LSM programs
 * (guard_lsm.bpf.h) agree on. Deny rules are filed in guard_keys beside the watch classes
 * (guard.h), with bits of their own: one per form a deny rule's path may take and per
 * kind of act it denies. The forms are the ones the kernel matches exactly: a whole path
 * (/etc/passwd), everything below a directory (the rule's glob DIR followed by a slash
 * and a star), a last component anywhere (a star, a slash and NAME).
 */
#ifndef KSIGHT_GUARD_LSM_H
#define KSIGHT_GUARD_LSM_H

/* The acts a deny rule can deny (its `event:` values), in this order */
enum guard_dk {
	GUARD_DK_WRITE,		/* open for writing; creating a file (path_mknod) */
	GUARD_DK_TRUNCATE,
	GUARD_DK_UNLINK,	/* unlink, rmdir */
	GUARD_DK_RENAME,	/* either name */
	GUARD_DK_CHMOD,
	GUARD_DK_CHOWN,
	GUARD_DK_EXEC,
	GUARD_DK_N,
};

/* The path forms of a deny rule */
#define GUARD_DF_EXACT 0	/* the whole path */
#define GUARD_DF_UNDER 1	/* a directory: everything below it */
#define GUARD_DF_LEAF 2		/* a last component */

/* guard_keys value bit: deny act @dk for a path of form @form */
#define GUARD_D(form, dk) (1U << (8 + (form) * 8 + (dk)))

/* guard_event.flags: an act a BPF LSM program denied (ret -EPERM; sys: enum guard_hook).
 * High bit: guard.h's own flags grow from the bottom. */
#define GUARD_F_DENIED 0x80000000U

/* guard_event.sys of a denied act: the LSM hook that denied it */
enum guard_hook {
	GUARD_H_FILE_OPEN,
	GUARD_H_PATH_MKNOD,
	GUARD_H_PATH_TRUNCATE,
	GUARD_H_PATH_UNLINK,
	GUARD_H_PATH_RMDIR,
	GUARD_H_PATH_RENAME,
	GUARD_H_PATH_CHMOD,
	GUARD_H_PATH_CHOWN,
	GUARD_H_BPRM_CREDS,
	GUARD_H_N,
};

#endif
