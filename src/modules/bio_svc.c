// SPDX-License-Identifier: GPL-2.0
#include "modules/bio_svc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int bio_svcs_add(struct bio_svcs *t, const char *svc, const struct bio_val *v)
{
	struct bio_svc *s = NULL;

	for (size_t i = 0; i < t->n && !s; i++)
		if (!strcmp(t->s[i].name, svc))
			s = &t->s[i];
	if (!s) {
		if (t->n == BIO_SVC_MAX)
			return -ENOMEM;
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 16;
			struct bio_svc *p = realloc(t->s, cap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			t->s = p;
			t->cap = cap;
		}
		s = &t->s[t->n];
		memset(s, 0, sizeof(*s));
		s->name = strdup(svc);
		if (!s->name)
			return -ENOMEM;
		t->n++;
	}
	s->v.ops += v->ops;
	s->v.bytes += v->bytes;
	s->v.svc_ns += v->svc_ns;
	s->v.queue_ns += v->queue_ns;
	for (int i = 0; i < BIO_SLOTS; i++)
		s->v.slots[i] += v->slots[i];
	return 0;
}

void bio_svcs_reset(struct bio_svcs *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->s[i].name);
	t->n = 0;
}

void bio_svcs_free(struct bio_svcs *t)
{
	if (!t)
		return;
	bio_svcs_reset(t);
	free(t->s);
	t->s = NULL;
	t->cap = 0;
}
