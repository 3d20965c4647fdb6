// SPDX-License-Identifier: GPL-2.0
/*
 * ksight run --bpf OBJ:MANIFEST: a small file of `key = value` lines that renames what a
 * user's object exports (docs/userbpf.md). '#' starts a comment line; blank lines are
 * fine. Keys: map.MAP.name, map.MAP.help, map.MAP.type (counter|gauge),
 * map.MAP.label.FIELD, map.MAP.skip (true), map.MAP.budget (label sets kept, 1024).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/userbpf_int.h"

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

int ub_manifest_read(const char *path, struct ub_manifest *m, char *err, size_t len)
{
	FILE *f = fopen(path, "re");
	char line[512];
	int no = 0;

	m->n = 0;
	if (!f) {
		snprintf(err, len, "manifest %s: %m", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line), *eq, *k, *v;

		no++;
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, len, "manifest %s:%d: not KEY = VALUE", path, no);
			goto bad;
		}
		*eq = 0;
		k = trim(s);
		v = trim(eq + 1);
		if (!*k || !*v || strlen(k) >= sizeof(m->key[0]) || strlen(v) >= sizeof(m->val[0])) {
			snprintf(err, len, "manifest %s:%d: empty or too long key or value", path, no);
			goto bad;
		}
		if (m->n >= UB_MAN_MAX) {
			snprintf(err, len, "manifest %s:%d: more than %d settings", path, no,
				 UB_MAN_MAX);
			goto bad;
		}
		strcpy(m->key[m->n], k);
		strcpy(m->val[m->n], v);
		m->n++;
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	return -1;
}

const char *ub_manifest_get(const struct ub_manifest *m, const char *fmt, ...)
{
	char key[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(key, sizeof(key), fmt, ap);
	va_end(ap);
	for (int i = m->n - 1; i >= 0; i--)	/* the last one given wins */
		if (!strcmp(m->key[i], key))
			return m->val[i];
	return NULL;
}

static bool name_ok(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

int ub_manifest_check(const struct ub_manifest *m, struct bpf_object *obj, char *err,
		      size_t len)
{
	for (int i = 0; i < m->n; i++) {
		const char *k = m->key[i], *v = m->val[i], *dot;
		char map[128];

		if (strncmp(k, "map.", 4) || !(dot = strchr(k + 4, '.')) ||
		    (size_t)(dot - k - 4) >= sizeof(map)) {
			snprintf(err, len, "manifest: %s: keys are map.MAP.SETTING", k);
			return -1;
		}
		snprintf(map, sizeof(map), "%.*s", (int)(dot - k - 4), k + 4);
		if (!bpf_object__find_map_by_name(obj, map)) {
			snprintf(err, len, "manifest: %s: the object has no map %s", k, map);
			return -1;
		}
		dot++;
		if (!strcmp(dot, "help"))
			continue;
		if (!strcmp(dot, "name") || !strncmp(dot, "label.", 6)) {
			if (!name_ok(v) || !strncmp(v, "__", 2)) {
				snprintf(err, len, "manifest: %s = %s: a name is [a-zA-Z_][a-zA-Z0-9_]*",
					 k, v);
				return -1;
			}
			continue;
		}
		if (!strcmp(dot, "type") && (!strcmp(v, "counter") || !strcmp(v, "gauge")))
			continue;
		if (!strcmp(dot, "skip") && (!strcmp(v, "true") || !strcmp(v, "false")))
			continue;
		if (!strcmp(dot, "budget") && strspn(v, "0123456789") == strlen(v) &&
		    atol(v) >= 1 && atol(v) <= 65536)
			continue;
		snprintf(err, len, "manifest: %s = %s: settings are name, help, type (counter|gauge), "
			 "label.FIELD, skip (true|false), budget (1-65536)", k, v);
		return -1;
	}
	return 0;
}
