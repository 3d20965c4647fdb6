/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's tracepoints as tracefs lists them (events/CATEGORY/NAME/, each with an id
 * and a format file): names by glob, ids for perf_event_open(PERF_TYPE_TRACEPOINT), and
 * the fields of a format file. The parser is pure (tested with cmocka).
 */
#ifndef KSIGHT_TRACEPOINTS_H
#define KSIGHT_TRACEPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One field of a tracepoint's record, from its format file. */
struct ks_tp_field {
	char decl[128];		/* "char prev_comm[16]", as the format file declares it */
	char name[64];		/* "prev_comm" */
	uint32_t offset;	/* bytes from the record's start */
	uint32_t size;		/* bytes */
	bool is_signed;
};

/*
 * The fields of format file text @text into @f (up to @max), without the common_* fields
 * every record starts with unless @common. Returns how many the text declares (which may
 * exceed @max: only @max are stored), or -EINVAL when a field line is malformed.
 */
int ks_tp_format_parse(const char *text, struct ks_tp_field *f, int max, bool common);

/* The name a field declaration declares: "char prev_comm[16]" -> "prev_comm",
 * "__data_loc char[] name" -> "name". Returns 0, or -EINVAL if none. */
int ks_tp_decl_name(const char *decl, char *name, size_t len);

/*
 * tracefs, mounted at /sys/kernel/tracing by this call if neither it nor
 * /sys/kernel/debug/tracing has events/. *@mounted says whether this call mounted it
 * (give it to ks_tracefs_done). Returns the path, or NULL with errno set.
 */
const char *ks_tracefs_get(bool *mounted);
/* Unmount tracefs if @mounted (what ks_tracefs_get mounted), leaving it if still in use. */
void ks_tracefs_done(bool mounted);

/* Tracepoints "category:name" matching @glob (fnmatch(3) on the whole "category:name"),
 * sorted, in a new array of new strings (*@out; ks_tp_names_free frees them). Returns the
 * count, or -errno (tracefs unreadable). */
int ks_tp_names(const char *tracefs, const char *glob, char ***out);
void ks_tp_names_free(char **names, int n);

/* The perf id of tracepoint "category:name" @tp. Returns 0 or -errno (-ENOENT: none). */
int ks_tp_id(const char *tracefs, const char *tp, uint64_t *id);

/* The text of @tp's format file, in a new string (the caller frees it); NULL with errno. */
char *ks_tp_format(const char *tracefs, const char *tp);

#endif
