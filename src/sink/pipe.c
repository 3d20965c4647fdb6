// SPDX-License-Identifier: GPL-2.0
#include "sink/pipe.h"

#include <errno.h>
#include <string.h>

#include "sink/writer.h"

int ks_pipe__add(struct ks_pipe *p, struct ks_sink *s)
{
	if (p->n >= KS_PIPE_MAX) {
		ks_sink__free(s);
		return -E2BIG;
	}
	p->s[p->n++] = s;
	p->kinds |= s->kinds;
	p->needs_service |= s->ops->needs_service;
	return 0;
}

int ks_pipe__open(struct ks_pipe *p, const char *const *specs, int n, bool json, bool agent,
		  bool timestamps, struct ks_clock *clock, const char *label)
{
	struct ks_sink_spec spec;
	char err[256];

	for (int i = 0; i < n + 1; i++) {
		/* --json is "-o json"; with neither, the table on stdout */
		const char *text = i < n ? specs[i] : json ? "json" : n ? NULL : "table";
		struct ks_sink *s;
		int ret;

		if (!text)
			break;
		if (ks_sink_spec_parse(text, &spec, err, sizeof(err))) {
			fprintf(stderr, "ksight %s: %s\n", label, err);
			return -EINVAL;
		}
		s = ks_sink__open(&spec, text, agent, timestamps, clock);
		if (!s) {
			ret = -errno;
			fprintf(stderr, "ksight %s: -o %s: %s\n", label, text, strerror(errno));
			return ret;
		}
		ret = ks_pipe__add(p, s);
		if (ret) {
			fprintf(stderr, "ksight %s: more than %d outputs\n", label, KS_PIPE_MAX);
			return ret;
		}
	}
	return 0;
}

void ks_pipe__mark(struct ks_pipe *p, int64_t real_ns)
{
	for (int i = 0; i < p->n; i++)
		ks_sink__mark(p->s[i], real_ns);
}

void ks_pipe__metrics(struct ks_pipe *p, const struct ks_metrics *m, int64_t real_ns)
{
	for (int i = 0; i < p->n; i++)
		if (p->s[i]->ops && p->s[i]->ops->metrics)
			p->s[i]->ops->metrics(p->s[i], m, real_ns);
}

/* Say a stage's first trouble, once. */
static void say(struct ks_sink *s, const char *label, FILE *f)
{
	uint64_t dropped = ks_sink_dropped(s);
	int err = ks_sink_error(s);

	if (s->said || (!dropped && !err) || !f)
		return;
	s->said = true;
	if (err)
		fprintf(f, "ksight %s: %s: %s; its records are dropped and counted\n", label,
			s->name, strerror(err));
	else
		fprintf(f, "ksight %s: %s: the output is slower than the records: %llu dropped "
			"so far, and counted\n", label, s->name, (unsigned long long)dropped);
}

int ks_pipe__flush(struct ks_pipe *p, const char *label, FILE *err)
{
	unsigned int kinds = 0;

	for (int i = 0; i < p->n; i++) {
		struct ks_sink *s = p->s[i];

		if (!s->ops)
			continue;
		if (ks_sink__flush(s) == -EPIPE && !s->w) {
			p->stopped = true;	/* `ksight ... | head`: the reader is done */
			continue;
		}
		say(s, label, err);
		kinds |= s->kinds;
	}
	p->kinds = kinds;	/* a stage's flush may have changed its kinds */
	return p->stopped ? -EPIPE : 0;
}

void ks_pipe__drain(struct ks_pipe *p, int timeout_ms)
{
	for (int i = 0; i < p->n; i++) {
		struct ks_sink *s = p->s[i];

		if (!s->ops)
			continue;
		ks_sink__flush(s);
		if (s->w)
			ks_writer__drain(s->w, timeout_ms);
		if (s->ops->drain)
			s->ops->drain(s, timeout_ms);
	}
}

int ks_pipe__close(struct ks_pipe *p, const char *label, FILE *err)
{
	int ret = 0;

	for (int i = 0; i < p->n; i++) {
		struct ks_sink *s = p->s[i];

		if (!s->ops)
			continue;
		ks_sink__close(s);
		if (!s->dropped || (s->err == EPIPE && !s->w && p->stopped))
			continue;
		ret = -EIO;
		if (err)
			fprintf(err, "ksight %s: %s: %llu of %llu records dropped%s%s\n", label,
				s->name, (unsigned long long)s->dropped,
				(unsigned long long)s->records, s->err ? ": " : "",
				s->err ? strerror(s->err) : "");
	}
	return ret;
}

void ks_pipe__free(struct ks_pipe *p)
{
	for (int i = 0; i < p->n; i++)
		ks_sink__free(p->s[i]);
	p->n = 0;
	p->kinds = 0;
}
