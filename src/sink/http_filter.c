// SPDX-License-Identifier: GPL-2.0
/* /api/events' filters (http_filter.h): parsed from the query string, matched per record. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/http_filter.h"
#include "sink/record.h"

struct parse {
	struct ks_evfilter *f;
	char err[200];
};

static const char *keep(struct ks_evfilter *f, const char *s, size_t n)
{
	char *p;

	if (f->used + n + 1 > sizeof(f->text))
		return NULL;
	p = f->text + f->used;
	memcpy(p, s, n);
	p[n] = 0;
	f->used += n + 1;
	return p;
}

static enum MHD_Result one_arg(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct parse *ps = cls;
	struct ks_evfilter *f = ps->f;
	const char *p = value ? value : "";

	if (strcmp(key, "type") && strcmp(key, "comm") && strcmp(key, "pid") &&
	    strcmp(key, "service")) {
		snprintf(ps->err, sizeof(ps->err), "/api/events: unknown filter '%.40s' (type, "
			 "comm, pid, service)", key);
		return MHD_NO;
	}
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		unsigned int *cnt = key[0] == 't' ? &f->ntypes : key[0] == 'c' ? &f->ncomms :
				    key[0] == 'p' ? &f->npids : &f->nsvcs;
		const char *v;

		if (!n) {
			snprintf(ps->err, sizeof(ps->err), "/api/events: %s: an empty value", key);
			return MHD_NO;
		}
		if (*cnt >= KS_EVF_MAX) {
			snprintf(ps->err, sizeof(ps->err), "/api/events: %s: more than %d values",
				 key, KS_EVF_MAX);
			return MHD_NO;
		}
		if (key[0] == 'p') {
			char num[16], *end;
			unsigned long x;

			if (n >= sizeof(num))
				goto bad_pid;
			memcpy(num, p, n);
			num[n] = 0;
			errno = 0;
			x = strtoul(num, &end, 10);
			if (*end || errno || x > 0xffffffffUL || num[0] < '0' || num[0] > '9')
				goto bad_pid;
			f->pids[(*cnt)++] = x;
		} else {
			if (key[0] == 'c' && n > 15) {
				snprintf(ps->err, sizeof(ps->err), "/api/events: comm '%.40s': longer "
					 "than a process name (15 bytes)", p);
				return MHD_NO;
			}
			v = keep(f, p, n);
			if (!v) {
				snprintf(ps->err, sizeof(ps->err), "/api/events: the filter is too "
					 "long");
				return MHD_NO;
			}
			if (key[0] == 't') {
				f->type_len[*cnt] = n;
				f->types[(*cnt)++] = v;
			} else if (key[0] == 'c') {
				f->comm_len[*cnt] = n;
				f->comms[(*cnt)++] = v;
			} else {
				f->svcs[(*cnt)++] = v;
			}
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	return MHD_YES;
bad_pid:
	snprintf(ps->err, sizeof(ps->err), "/api/events: pid '%.*s': not a process id",
		 (int)(strchr(p, ',') ? strchr(p, ',') - p : (long)strnlen(p, 20)), p);
	return MHD_NO;
}

bool ks_evfilter_match(const struct ks_evfilter *f, const struct ks_rec *r)
{
	const struct ks_hdr *h = r->hdr && !(r->hdr->flags & KS_HDR_F_NOTASK) ? r->hdr : NULL;
	bool ok;

	if (f->ntypes) {
		ok = false;
		for (unsigned int i = 0; i < f->ntypes && !ok; i++)
			ok = !strncmp(r->type, f->types[i], f->type_len[i]);
		if (!ok)
			return false;
	}
	if (f->ncomms) {
		if (!h)
			return false;
		size_t n = strnlen(h->comm, sizeof(h->comm));

		ok = false;
		for (unsigned int i = 0; i < f->ncomms && !ok; i++)
			ok = f->comm_len[i] == n && !memcmp(h->comm, f->comms[i], n);
		if (!ok)
			return false;
	}
	if (f->npids) {
		if (!h)
			return false;
		ok = false;
		for (unsigned int i = 0; i < f->npids && !ok; i++)
			ok = f->pids[i] == h->pid;
		if (!ok)
			return false;
	}
	if (f->nsvcs) {
		if (!h || !r->service)
			return false;
		ok = false;
		for (unsigned int i = 0; i < f->nsvcs && !ok; i++)
			ok = !strcmp(r->service, f->svcs[i]);
		if (!ok)
			return false;
	}
	return true;
}

int ks_evfilter_parse(struct MHD_Connection *conn, struct ks_evfilter *f, char *err, size_t len)
{
	struct parse ps = { .f = f };

	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, one_arg, &ps);
	if (!ps.err[0])
		return 0;
	snprintf(err, len, "%s", ps.err);
	return -1;
}
