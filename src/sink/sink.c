// SPDX-License-Identifier: GPL-2.0
#include "sink/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sink/writer.h"

__thread struct ks_val ks_val_scratch;

/* What a file's writer thread may hold back before records are dropped. */
#define KS_WRITER_MAX (16u << 20)

static const char *const kind_names[KS_K_N] = {
	[KS_K_EVENT] = "event",
	[KS_K_REPORT] = "report",
	[KS_K_SUMMARY] = "summary",
	[KS_K_STATS] = "stats",
	[KS_K_META] = "meta",
};

const char *ks_rec_kind_name(unsigned int k)
{
	return k < KS_K_N ? kind_names[k] : NULL;
}

/* "-o SPEC: unknown WHAT 'x' (a, b, c)", listing what is known. */
static int unknown(char *err, size_t len, const char *spec, bool format, const char *p, size_t n)
{
	char list[128] = "";
	size_t o = 0;

	for (int i = 0; format ? ks_sink_backends[i] != NULL : i < KS_K_N; i++)
		o += snprintf(list + o, o < sizeof(list) ? sizeof(list) - o : 0, "%s%s",
			      i ? ", " : "", format ? ks_sink_backends[i]->name : kind_names[i]);
	snprintf(err, len, "-o %.80s: unknown %s '%.*s' (%s)", spec,
		 format ? "format" : "record kind", (int)n, p, list);
	return -1;
}

/* "65536", "64K", "100M", "1G" (powers of 1024) into @out. Returns 0 or -1. */
static int parse_size(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	size_t i;

	for (i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	if (!i)
		return -1;
	if (i + 1 == n) {
		switch (p[i]) {
		case 'k': case 'K': mul = 1ULL << 10; break;
		case 'm': case 'M': mul = 1ULL << 20; break;
		case 'g': case 'G': mul = 1ULL << 30; break;
		default: return -1;
		}
	} else if (i != n) {
		return -1;
	}
	if (v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

int ks_sink_spec_parse(const char *spec, struct ks_sink_spec *out, char *err, size_t len)
{
	const char *colon = strchr(spec, ':');
	const char *end = colon ? colon : spec + strlen(spec);
	const char *p = spec, *comma;
	size_t n;

	memset(out, 0, sizeof(*out));
	comma = memchr(p, ',', end - p);
	n = (comma ? comma : end) - p;
	for (int i = 0; ks_sink_backends[i]; i++)
		if (strlen(ks_sink_backends[i]->name) == n &&
		    !strncmp(ks_sink_backends[i]->name, p, n))
			out->ops = ks_sink_backends[i];
	if (!out->ops)
		return unknown(err, len, spec, true, p, n);
	while (comma) {
		unsigned int k;

		p = comma + 1;
		comma = memchr(p, ',', end - p);
		n = (comma ? comma : end) - p;
		if (n > 7 && !strncmp(p, "rotate=", 7)) {
			if (parse_size(p + 7, n - 7, &out->rotate) || out->rotate < 4096) {
				snprintf(err, len, "-o %.80s: rotate=%.*s: not a size (100M, 1G, "
					 "65536 bytes; at least 4K)", spec, (int)(n - 7), p + 7);
				return -1;
			}
			continue;
		}
		if (n > 5 && !strncmp(p, "keep=", 5)) {
			uint64_t v;

			if (parse_size(p + 5, n - 5, &v) || strchr("KMGkmg", p[n - 1]) || !v ||
			    v > 1000) {
				snprintf(err, len, "-o %.80s: keep=%.*s: not a number of files "
					 "(1-1000)", spec, (int)(n - 5), p + 5);
				return -1;
			}
			out->keep = v;
			continue;
		}
		for (k = 0; k < KS_K_N; k++)
			if (strlen(kind_names[k]) == n && !strncmp(kind_names[k], p, n))
				break;
		if (k == KS_K_N)
			return unknown(err, len, spec, false, p, n);
		out->kinds |= KS_KIND(k);
	}
	if (colon) {
		out->path = colon + 1;
		if (!out->path[0]) {
			snprintf(err, len, "-o %.80s: no file after the colon", spec);
			return -1;
		}
		if (out->ops->stdout_only) {
			snprintf(err, len, "-o %.80s: the %s format writes to the terminal only",
				 spec, out->ops->name);
			return -1;
		}
	}
	if ((out->rotate || out->keep) && (!colon || out->ops->serves)) {
		snprintf(err, len, "-o %.80s: rotate= and keep= are for a file (FORMAT,rotate="
			 "SIZE:FILE)", spec);
		return -1;
	}
	if (out->keep && !out->rotate) {
		snprintf(err, len, "-o %.80s: keep= without rotate=SIZE", spec);
		return -1;
	}
	if (out->rotate && !out->keep)
		out->keep = 5;
	if (out->ops->serves) {
		if (!colon) {
			snprintf(err, len, "-o %.80s: %s needs an address: %s:HOST:PORT", spec,
				 out->ops->name, out->ops->name);
			return -1;
		}
		if (out->ops->check && out->ops->check(out->path, err, len))
			return -1;
	}
	return 0;
}

static struct ks_sink *sink_new(const struct ks_sink_ops *ops, int fd, unsigned int kinds,
				bool agent, bool timestamps, struct ks_clock *clock,
				const char *name, const char *target)
{
	struct ks_sink *s = calloc(1, sizeof(*s));

	if (!s)
		goto nomem;
	s->name = strdup(name);
	if (!s->name || ks_buf_init(&s->out, fd, 1 << 16) || ks_buf_init(&s->tmp, -1, 256))
		goto nomem;
	s->ops = ops;
	s->kinds = kinds ? kinds : ops->kinds[agent];
	s->clock = clock;
	s->timestamps = timestamps;
	s->target = target;
	if (ops->open) {
		int err = ops->open(s);

		if (err) {
			s->ops = NULL;	/* nothing to close */
			ks_sink__free(s);
			errno = -err;
			return NULL;
		}
	}
	return s;
nomem:
	if (s) {
		s->ops = NULL;
		ks_sink__free(s);
	}
	errno = ENOMEM;
	return NULL;
}

struct ks_sink *ks_sink__new(const struct ks_sink_ops *ops, int fd, unsigned int kinds,
			     bool agent, bool timestamps, struct ks_clock *clock)
{
	return sink_new(ops, fd, kinds, agent, timestamps, clock, ops->name, NULL);
}

struct ks_sink *ks_sink__open(const struct ks_sink_spec *spec, const char *text, bool agent,
			      bool timestamps, struct ks_clock *clock)
{
	struct ks_sink *s;
	int fd, err;

	if (!spec->path)
		return sink_new(spec->ops, STDOUT_FILENO, spec->kinds, agent, timestamps, clock,
				text, NULL);
	if (spec->ops->serves)
		return sink_new(spec->ops, -1, spec->kinds, agent, timestamps, clock, text,
				spec->path);
	/* non-blocking: a FIFO nobody reads fails (ENXIO) instead of hanging the start */
	fd = open(spec->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		  0600);
	if (fd < 0)
		return NULL;
	s = sink_new(spec->ops, -1, spec->kinds, agent, timestamps, clock, text, NULL);
	if (!s) {
		err = errno;
		close(fd);
		errno = err;
		return NULL;
	}
	s->w = ks_writer__new(fd, KS_WRITER_MAX);
	if (!s->w || (spec->rotate && ks_writer__rotate(s->w, spec->path, spec->rotate,
							 spec->keep))) {
		err = s->w ? ENOMEM : errno;
		ks_sink__free(s);
		errno = err;
		return NULL;
	}
	return s;
}

int ks_sink__flush(struct ks_sink *s)
{
	int err;

	if (s->ops && s->ops->flush)
		s->ops->flush(s);
	if (s->w) {
		err = ks_writer__push(s->w, &s->out, s->pending);	/* it counts its losses */
	} else {
		err = ks_buf_flush(&s->out);
		if (err)
			s->dropped += s->pending;
		if (err && err != -EPIPE)
			s->out.err = 0;	/* a full disk may have room later: try again */
	}
	if (err && err != -ENOBUFS && !s->err)
		s->err = -err;
	s->pending = 0;
	return err;
}

uint64_t ks_sink_dropped(struct ks_sink *s)
{
	return s->dropped + (s->w ? ks_writer__lost(s->w) : 0);
}

int ks_sink_error(struct ks_sink *s)
{
	return s->err ? s->err : s->w ? ks_writer__error(s->w) : 0;
}

int ks_sink__close(struct ks_sink *s)
{
	if (!s->ops)
		return 0;
	ks_sink__flush(s);
	if (s->ops->close)
		s->ops->close(s);
	s->ops = NULL;
	if (s->w) {
		int err = ks_writer__error(s->w);

		s->dropped += ks_writer__free(s->w, 2000);
		s->w = NULL;
		if (err && !s->err)
			s->err = err;
	}
	return s->dropped ? -(s->err ? s->err : EIO) : 0;
}

void ks_sink__free(struct ks_sink *s)
{
	if (!s)
		return;
	ks_sink__close(s);
	ks_buf_free(&s->out);
	ks_buf_free(&s->tmp);
	free(s->name);
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
