/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sinks turn records into output. One small interface, swappable backends: the terminal
 * table (table.c) and JSON lines (json.c). A sink never knows which module made a record.
 */
#ifndef KSIGHT_SINK_H
#define KSIGHT_SINK_H

#include <stdbool.h>

#include "core/clock.h"
#include "sink/outbuf.h"
#include "sink/record.h"

struct ks_sink;

struct ks_sink_ops {
	void (*emit)(struct ks_sink *s, const struct ks_rec *r);
	/* Optional: a new report begins (each interval of a tool) at wall time @real_ns. */
	void (*mark)(struct ks_sink *s, int64_t real_ns);
};

struct ks_sink {
	const struct ks_sink_ops *ops;
	struct ks_buf out;
	struct ks_buf tmp;	/* scratch for one formatted value */
	struct ks_clock *clock;
	bool timestamps;	/* -T: a TIME column in tables */
	const char *last_header;	/* table: type whose column header was printed last */
};

/*
 * Create a sink writing to @fd: JSON lines if @json, else the terminal table.
 * Returns NULL with errno set. The clock is borrowed and must outlive the sink.
 */
struct ks_sink *ks_sink__new(int fd, bool json, bool timestamps, struct ks_clock *clock);
void ks_sink__free(struct ks_sink *s);

static inline void ks_sink__emit(struct ks_sink *s, const struct ks_rec *r)
{
	s->ops->emit(s, r);
}

static inline void ks_sink__mark(struct ks_sink *s, int64_t real_ns)
{
	if (s->ops->mark)
		s->ops->mark(s, real_ns);
}

/* Write buffered output; returns 0 or -errno (EPIPE when the reader went away). */
static inline int ks_sink__flush(struct ks_sink *s)
{
	return ks_buf_flush(&s->out);
}

extern const struct ks_sink_ops ks_table_ops;
extern const struct ks_sink_ops ks_json_ops;

/* Name of a positive errno ("ENOENT"), or its number as text when unknown. */
const char *ks_errno_name(int err, char *tmp, unsigned int len);

#endif
