// SPDX-License-Identifier: GPL-2.0
#include "core/argv.h"

#include <string.h>

/* The kernel's area ends with the last argument's NUL; the convention here leaves it out,
 * so "a\0" is the two arguments "a" and "". */
static size_t trim(const char *args, size_t len)
{
	return len && !args[len - 1] ? len - 1 : len;
}

size_t ks_argv_limit(const char *args, size_t len, size_t max, bool *cut)
{
	size_t off = 0, n = 0;

	len = trim(args, len);
	if (!len)
		return 0;
	for (;;) {
		size_t l = strnlen(args + off, len - off);

		if (n == max) {
			*cut = true;
			return off ? off - 1 : 0;
		}
		n++;
		off += l;
		if (off >= len)
			return len;
		off++;
	}
}

size_t ks_argv_count(const char *args, size_t len)
{
	size_t off = 0, n = 0;

	len = trim(args, len);
	if (!len)
		return 0;
	for (;;) {
		off += strnlen(args + off, len - off);
		n++;
		if (off >= len)
			return n;
		off++;
	}
}
