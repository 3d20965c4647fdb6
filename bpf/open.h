/* SPDX-License-Identifier: GPL-2.0 */
/* open module: open, openat, openat2 and creat, streamed or counted in the kernel. */
#ifndef KSIGHT_OPEN_H
#define KSIGHT_OPEN_H

#include "common.h"

#define OPEN_EV_OPEN KS_EV(KS_MOD_open, 0)
#define OPEN_EV_COUNT KS_EV(KS_MOD_open, 1)	/* loss slot: --count map full */

#define OPEN_PATH_MAX 1024	/* bytes of a streamed path kept, NUL included */
#define OPEN_KEY_PATH 256	/* bytes of a path in a --count key, NUL included */
#define OPEN_COUNT_ENTRIES 16384

/* OPEN_EV_OPEN. Variable size: the path follows. */
struct open_event {
	struct ks_hdr hdr;
	__s64 ret;		/* fd, or negative errno */
	__u64 flags;		/* O_* flags as passed (creat: O_CREAT|O_WRONLY|O_TRUNC) */
	__u32 mode;		/* creation mode */
	__s32 dfd;		/* directory fd of the *at calls; AT_FDCWD for open/creat */
	__u32 sys;		/* syscall number */
	__u32 path_len;		/* bytes in path, NUL included; OPEN_PATH_MAX may mean cut */
	char path[];
};

/* --count: per process, per path. */
struct open_count_key {
	__u32 pid;
	__u32 __pad;
	char path[OPEN_KEY_PATH];
};

struct open_count_val {
	__u64 opens;		/* calls, failed ones included */
	__u64 errors;		/* calls that returned an error */
	__s32 last_err;		/* negative errno of the latest failure */
	__u32 __pad;
	char comm[TASK_COMM_LEN];
};

#endif
