// SPDX-License-Identifier: GPL-2.0
#include "modules/rw_fmt.h"

#include <sys/syscall.h>

const char *rw_call_name(uint32_t nr)
{
	switch (nr) {
	case SYS_read:
		return "read";
	case SYS_write:
		return "write";
	case SYS_pread64:
		return "pread64";
	case SYS_pwrite64:
		return "pwrite64";
	case SYS_readv:
		return "readv";
	case SYS_writev:
		return "writev";
	case SYS_preadv:
		return "preadv";
	case SYS_pwritev:
		return "pwritev";
	case SYS_preadv2:
		return "preadv2";
	case SYS_pwritev2:
		return "pwritev2";
	case SYS_sendfile:
		return "sendfile";
	case SYS_recvfrom:
		return "recvfrom";
	case SYS_sendto:
		return "sendto";
	case SYS_recvmsg:
		return "recvmsg";
	case SYS_sendmsg:
		return "sendmsg";
	case SYS_splice:
		return "splice";
	case SYS_tee:
		return "tee";
	case SYS_copy_file_range:
		return "copy_file_range";
	case SYS_sendmmsg:
		return "sendmmsg";
	case SYS_recvmmsg:
		return "recvmmsg";
	default:
		return "?";
	}
}

bool rw_call_writes(uint32_t nr)
{
	switch (nr) {
	case SYS_write:
	case SYS_pwrite64:
	case SYS_writev:
	case SYS_pwritev:
	case SYS_pwritev2:
	case SYS_sendfile:
	case SYS_sendto:
	case SYS_sendmsg:
	case SYS_splice:
	case SYS_tee:
	case SYS_copy_file_range:
	case SYS_sendmmsg:
		return true;
	default:
		return false;
	}
}

bool rw_call_two_fds(uint32_t nr)
{
	return nr == SYS_sendfile || nr == SYS_splice || nr == SYS_tee ||
	       nr == SYS_copy_file_range;
}
