// SPDX-License-Identifier: GPL-2.0
/* funccount's PATTERN syntax, bcc's funccount's: t:CATEGORY:NAME, u:BINARY:FUNCTION,
 * k:FUNCTION; CATEGORY:NAME alone is a tracepoint, a bare FUNCTION a kernel function. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/funccount_int.h"

static int fail(char *err, size_t len, const char *s, const char *why)
{
	snprintf(err, len, "pattern '%.80s': %s", s, why);
	return -1;
}

/* A glob part: non-empty, printable, no space; a name glob holds no ':' or '/'. */
static const char *bad_glob(const char *g, size_t n, bool name)
{
	if (!n)
		return "an empty part";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = g[i];

		if (c <= ' ' || c >= 0x7f)
			return "a space or control character in a name";
		if (name && (c == ':' || c == '/'))
			return "a ':' or '/' in a name";
	}
	return NULL;
}

void fc_pat_free(struct fc_pat *p)
{
	free(p->bin);
	free(p->glob);
	p->bin = p->glob = NULL;
}

int fc_pat_parse(const char *s, struct fc_pat *p, char *err, size_t len)
{
	const char *rest = s, *colon, *why;

	memset(p, 0, sizeof(*p));
	p->text = s;
	colon = strchr(s, ':');
	if (colon == s + 1 && strchr("tuk", s[0])) {
		p->kind = s[0] == 't' ? FC_TP : s[0] == 'u' ? FC_USER : FC_KERNEL;
		rest = s + 2;
	} else if (colon == s + 1) {
		return fail(err, len, s, "unknown kind (t:CATEGORY:NAME, u:BINARY:FUNCTION or "
				       "k:FUNCTION)");
	} else {
		p->kind = colon ? FC_TP : FC_KERNEL;
	}
	switch (p->kind) {
	case FC_TP:
		colon = strchr(rest, ':');
		if (!colon)
			return fail(err, len, s, "a tracepoint is CATEGORY:NAME");
		if ((why = bad_glob(rest, colon - rest, true)) ||
		    (why = bad_glob(colon + 1, strlen(colon + 1), true)))
			return fail(err, len, s, why);
		p->glob = strdup(rest);
		break;
	case FC_USER:
		colon = strrchr(rest, ':');
		if (!colon)
			return fail(err, len, s, "a user function is u:BINARY:FUNCTION");
		if ((why = bad_glob(rest, colon - rest, false)) ||
		    (why = bad_glob(colon + 1, strlen(colon + 1), true)))
			return fail(err, len, s, why);
		p->bin = strndup(rest, colon - rest);
		p->glob = strdup(colon + 1);
		break;
	case FC_KERNEL:
		if ((why = bad_glob(rest, strlen(rest), true)))
			return fail(err, len, s, why);
		p->glob = strdup(rest);
		break;
	}
	if (!p->glob || (p->kind == FC_USER && !p->bin)) {
		fc_pat_free(p);
		return fail(err, len, s, "out of memory");
	}
	return 0;
}
