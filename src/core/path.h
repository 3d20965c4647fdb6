/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Path arithmetic shared by every module that names files: one set of rules so that a path
 * looks the same whoever built it. Clean means: no repeated slashes, no "." components, no
 * trailing slash except for "/" itself. ".." stays: a symlink may stand before it, so
 * removing it lexically could name another file. Paths are bytes: nothing here escapes
 * them, the sinks do. Pure (tested without a kernel).
 */
#ifndef KSIGHT_PATH_H
#define KSIGHT_PATH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The absolute path a process meant: @arg (what it passed, @alen bytes, may end at a NUL)
 * resolved against @base (@blen bytes, may end at a NUL: a directory, or the file itself
 * for fd-based calls). An absolute @arg ignores @base; an empty or absent @arg (@alen 0,
 * AT_EMPTY_PATH) is @base itself; with no @base a relative @arg stays relative (and an
 * empty one is "."). The result is clean (above). @base_cut: @base lost its head; the
 * result then starts with "...". Writes at most @len bytes, NUL included, to @out (which
 * may be NULL when @len is 0). Returns the length of the full result and sets *@cut (may
 * be NULL) when it did not fit.
 */
size_t ks_path_join(const char *base, size_t blen, bool base_cut, const char *arg, size_t alen,
		    char *out, size_t len, bool *cut);

/*
 * ks_path_join() of two NUL-terminated strings (@base may be NULL) into a new string the
 * caller frees. Returns NULL on allocation failure.
 */
char *ks_path_join_dup(const char *base, const char *arg);

#endif
