// SPDX-License-Identifier: GPL-2.0
#include "sink/sink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__thread struct ks_val ks_val_scratch;

struct ks_sink *ks_sink__new(int fd, bool json, bool timestamps, struct ks_clock *clock)
{
	struct ks_sink *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (ks_buf_init(&s->out, fd, 1 << 16) || ks_buf_init(&s->tmp, -1, 256)) {
		ks_buf_free(&s->out);
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->ops = json ? &ks_json_ops : &ks_table_ops;
	s->clock = clock;
	s->timestamps = timestamps;
	return s;
}

void ks_sink__free(struct ks_sink *s)
{
	if (!s)
		return;
	ks_buf_flush(&s->out);
	ks_buf_free(&s->out);
	ks_buf_free(&s->tmp);
	free(s);
}

const char *ks_errno_name(int err, char *tmp, unsigned int len)
{
	const char *name = err > 0 ? strerrorname_np(err) : NULL;

	if (name)
		return name;
	snprintf(tmp, len, "%d", err);
	return tmp;
}
