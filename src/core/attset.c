// SPDX-License-Identifier: GPL-2.0
/* The run-time attachments of a module instance (attset.h). */
#include "core/attset.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/attach_int.h"
#include "core/attachments.h"
#include "core/legacy.h"
#include "core/session_int.h"

static void att_remove(struct ks_att *a)
{
	switch (a->kind) {
	case KS_ATT_LINK:
		bpf_link__destroy(a->link);
		/* an own tracefs event outlives its perf event: delete it once that is closed */
		if (a->tracefs[0]) {
			int err = ks_tracefs_event_remove("uprobe_events", a->tracefs);

			if (err && err != -ENOENT)
				fprintf(stderr, "ksight: cannot remove its uprobe event %s: %s\n",
					a->tracefs, strerror(-err));
			else
				ks_legacy_removed();
		}
		break;
	case KS_ATT_PERF_ARRAY:
		bpf_map_delete_elem(a->map_fd, &a->key);
		close(a->fd);
		break;
	case KS_ATT_FD:
		close(a->fd);
		break;
	case KS_ATT_TC_LEGACY:
		ks_tc_legacy_detach(&a->tc);
		break;
	}
}

int ks_attset_add(struct ks_attset *s, const struct ks_att *a)
{
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 8;
		struct ks_att *v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			struct ks_att copy = *a;

			att_remove(&copy);
			return -ENOMEM;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *a;
	return 0;
}

void ks_attset_clear(struct ks_attset *s)
{
	while (s->n > 0)
		att_remove(&s->v[--s->n]);
	free(s->v);
	s->v = NULL;
	s->cap = 0;
}

struct ks_inst *ks_ctx_prog_owner(struct ks_ctx *c, const struct bpf_program *prog)
{
	for (int i = 0; i < c->ninst; i++) {
		struct bpf_program *p;

		if (!c->inst[i].o.obj)
			continue;
		bpf_object__for_each_program(p, c->inst[i].o.obj)
			if (p == prog)
				return &c->inst[i];
	}
	return NULL;
}

struct ks_inst *ks_ctx_map_owner(struct ks_ctx *c, const struct bpf_map *map)
{
	for (int i = 0; i < c->ninst; i++) {
		struct bpf_map *m;

		if (!c->inst[i].o.obj)
			continue;
		bpf_object__for_each_map(m, c->inst[i].o.obj)
			if (m == map)
				return &c->inst[i];
	}
	return NULL;
}

int ks_att_fail(struct ks_inst *in, int err, const char *fmt, ...)
{
	int n = snprintf(in->err, sizeof(in->err), "%s: ", in->m ? in->m->name : "core");
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->err + n, sizeof(in->err) - n, fmt, ap);
	va_end(ap);
	return err;
}

int ks_ctx_attachments(const struct ks_ctx *c, const struct ks_module *m)
{
	for (int i = 0; i < c->ninst; i++)
		if (c->inst[i].m == m)
			return c->inst[i].dyn.n;
	return 0;
}
