// SPDX-License-Identifier: GPL-2.0
/* ksight run's YAML configuration file (run_config.h). */
#include "cli/run_config.h"
#include "cli/run_config_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/config.h"
#include "sink/otlp.h"
#include "sink/prom.h"
#include "sink/store.h"

#define KS_CONFIG_MAX (1 << 20)

/* The strings the tables point into, kept until exit. */
static char **kept;
static size_t nkept;

static void free_kept(void)
{
	for (size_t i = 0; i < nkept; i++)
		free(kept[i]);
	free(kept);
}

static char *keep(const char *a, const char *b)
{
	static bool registered;
	char **k = realloc(kept, (nkept + 1) * sizeof(*kept));
	char *s;

	if (!k)
		return NULL;
	kept = k;
	if (asprintf(&s, "%s%s", a, b) < 0)
		return NULL;
	kept[nkept++] = s;
	if (!registered)
		registered = !atexit(free_kept);
	return s;
}

struct cfg {
	const char *file;
	yaml_document_t *doc;
	const struct ks_opt_table *t;
	int nt;
	const char *pos[2];	/* interval, count */
	char *err;
	size_t len;
};

static int at(struct cfg *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[KS_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->len, "%s:%zu:%zu: %s", c->file, n->start_mark.line + 1,
		 n->start_mark.column + 1, msg);
	return -1;
}

static const struct ks_opt *find(const struct ks_opt_table *t, int nt, const char *name,
				 void **base)
{
	for (int i = 0; i < nt; i++)
		for (const struct ks_opt *o = t[i].opts; o && o->lng; o++)
			if (!strcmp(o->lng, name)) {
				*base = t[i].base;
				return o;
			}
	return NULL;
}

static const char *text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* A plain ~, null or nothing: the default. */
static bool is_null(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = text(n);
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

static int boolean(const char *s)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on",
					   "On", "ON", NULL };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off",
					  "Off", "OFF", NULL };

	for (int i = 0; yes[i]; i++)
		if (!strcmp(s, yes[i]))
			return 1;
	for (int i = 0; no[i]; i++)
		if (!strcmp(s, no[i]))
			return 0;
	return -1;
}

/* Checks the option table cannot make, here so that they name the line. */
static int check_value(struct cfg *c, const yaml_node_t *n, const char *key, const char *v)
{
	char msg[KS_ERR_LEN];
	uint64_t secs;

	if (!strcmp(key, "listen") && strcmp(v, "none")) {
		struct ks_prom_addr a;

		if (ks_prom_addr_parse(v, &a, msg, sizeof(msg)))
			return at(c, n, "%s", msg);
	} else if (!strcmp(key, "otlp")) {
		struct ks_http_url u;

		if (ks_otlp_url_parse(v, &u, msg, sizeof(msg)))
			return at(c, n, "%s", msg);
	} else if (!strcmp(key, "retention") && ks_store_parse_duration(v, &secs)) {
		return at(c, n, "--retention %.40s: not a duration (90m, 36h, 7d, 2w)", v);
	}
	return 0;
}

/* One value through the command line's own parser, as --KEY=VALUE. */
static int one(struct cfg *c, const yaml_node_t *n, const struct ks_opt *o)
{
	char *arg[1], msg[KS_ERR_LEN];
	const char *pos[1];
	int npos;

	if (n->type != YAML_SCALAR_NODE)
		return at(c, n, "%s: expects one value, not a %s", o->lng,
			  n->type == YAML_MAPPING_NODE ? "mapping" : "list");
	if (check_value(c, n, o->lng, text(n)))
		return -1;
	arg[0] = keep("--", o->lng);
	if (!arg[0] || !(arg[0] = keep(arg[0], "=")) || !(arg[0] = keep(arg[0], text(n))))
		return at(c, n, "out of memory");
	if (ks_opts_parse(c->t, c->nt, 1, arg, pos, 0, &npos, msg, sizeof(msg)))
		return at(c, n, "%s", msg);
	return 0;
}

static int option(struct cfg *c, const yaml_node_t *k, const yaml_node_t *v)
{
	const char *key = text(k);
	const struct ks_opt *o;
	void *base;
	uint64_t u;
	int b;

	if (!strcmp(key, "interval") || !strcmp(key, "count")) {
		bool iv = key[0] == 'i';

		if (is_null(v)) {
			c->pos[!iv] = NULL;
			return 0;
		}
		if (v->type != YAML_SCALAR_NODE ||
		    ks_parse_u64(text(v), 1, iv ? 86400 : 1000000000, &u))
			return at(c, v, iv ? "interval: not a number of seconds in 1..86400"
					   : "count: not a whole number above 0");
		c->pos[!iv] = keep(text(v), "");
		return c->pos[!iv] ? 0 : at(c, v, "out of memory");
	}
	for (int i = 0; ks_run_config_not_in_file[i]; i++)
		if (!strcmp(key, ks_run_config_not_in_file[i]))
			return at(c, k, "%s: not in a configuration file (a command-line option)",
				  key);
	o = find(c->t, c->nt, key, &base);
	if (!o)
		return at(c, k, "unknown key '%.60s': not an option of ksight run (ksight run --help)",
			  key);
	if (is_null(v))
		return 0;
	switch (o->type) {
	case KS_OPT_FLAG:
		if (v->type != YAML_SCALAR_NODE || (b = boolean(text(v))) < 0)
			return at(c, v, "%s: expects true or false", key);
		*(bool *)((char *)base + o->off) = b;
		return 0;
	case KS_OPT_COUNT:
		if (v->type != YAML_SCALAR_NODE || ks_parse_u64(text(v), 0, 9, &u))
			return at(c, v, "%s: expects a number in 0..9", key);
		*(int *)((char *)base + o->off) = (int)u;
		return 0;
	case KS_OPT_STRS:
		if (v->type == YAML_SEQUENCE_NODE) {
			((struct ks_strs *)((char *)base + o->off))->n = 0;
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++)
				if (one(c, yaml_document_get_node(c->doc, *it), o))
					return -1;
			return 0;
		}
		((struct ks_strs *)((char *)base + o->off))->n = 0;
		return one(c, v, o);
	default:
		return one(c, v, o);
	}
}

static int load(struct cfg *c, const char *text_, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int rc = -1;

	if (!yaml_parser_initialize(&parser)) {
		snprintf(c->err, c->len, "%s: out of memory", c->file);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text_, len);
	if (!yaml_parser_load(&parser, &doc)) {
		const yaml_mark_t *m = parser.problem ? &parser.problem_mark : &parser.context_mark;

		snprintf(c->err, c->len, "%s:%zu:%zu: %s%s%s", c->file, m->line + 1, m->column + 1,
			 parser.problem ? parser.problem : "bad YAML", parser.context ? " " : "",
			 parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -1;
	}
	c->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root || is_null(root)) {
		rc = 0;	/* an empty file: every default */
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		at(c, root, "expects a mapping of option: value (e.g. listen: 127.0.0.1:9464)");
		goto out;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(&doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&doc, p->value);

		if (k->type != YAML_SCALAR_NODE) {
			at(c, k, "a key must be an option's name");
			goto out;
		}
		for (yaml_node_pair_t *q = root->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *k2 = yaml_document_get_node(&doc, q->key);

			if (k2->type == YAML_SCALAR_NODE && !strcmp(text(k2), text(k))) {
				at(c, k, "'%.60s' given twice (first on line %zu)", text(k),
				   k2->start_mark.line + 1);
				goto out;
			}
		}
		if (option(c, k, v))
			goto out;
	}
	rc = 0;
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

static int load_file(struct cfg *c)
{
	FILE *f = fopen(c->file, "re");
	char *buf;
	size_t n;
	int rc;

	if (!f) {
		snprintf(c->err, c->len, "--config %.200s: %s", c->file, strerror(errno));
		return -1;
	}
	buf = malloc(KS_CONFIG_MAX + 1);
	if (!buf) {
		fclose(f);
		snprintf(c->err, c->len, "--config %.200s: out of memory", c->file);
		return -1;
	}
	n = fread(buf, 1, KS_CONFIG_MAX + 1, f);
	if (ferror(f) || n > KS_CONFIG_MAX) {
		snprintf(c->err, c->len, "--config %.200s: %s", c->file,
			 ferror(f) ? strerror(errno) : "larger than 1 MiB");
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	rc = load(c, buf, n);
	free(buf);
	return rc;
}

/* The value of --config in @argv, or NULL (the parse below reports a missing one). */
static const char *config_arg(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--config"))
			return i + 1 < argc ? argv[i + 1] : NULL;
		if (!strncmp(argv[i], "--config=", 9))
			return argv[i] + 9;
	}
	return NULL;
}

int ks_run_config_parse(const struct ks_opt_table *t, int nt, int argc, char **argv,
			const char **pos, int max_pos, int *npos, char *err, size_t len)
{
	struct cfg c = { .file = config_arg(argc, argv), .t = t, .nt = nt, .err = err,
			 .len = len };
	struct saved {
		void *p;
		enum ks_opt_type type;
		struct ks_strs strs;
		int count;
	} saved[64];
	int ns = 0, rc;

	if (c.file && c.file[0] && load_file(&c))
		return -1;
	/* the command line's lists and counts replace the file's, not add to them */
	for (int i = 0; i < nt; i++)
		for (const struct ks_opt *o = t[i].opts; o && o->lng && ns < 64; o++) {
			void *p = (char *)t[i].base + o->off;

			if (o->type == KS_OPT_STRS) {
				saved[ns] = (struct saved){ p, o->type, *(struct ks_strs *)p, 0 };
				((struct ks_strs *)p)->n = 0;
				ns++;
			} else if (o->type == KS_OPT_COUNT) {
				saved[ns] = (struct saved){ p, o->type, { { 0 } }, *(int *)p };
				*(int *)p = 0;
				ns++;
			}
		}
	rc = ks_opts_parse(t, nt, argc, argv, pos, max_pos, npos, err, len);
	for (int i = 0; i < ns; i++) {
		if (saved[i].type == KS_OPT_STRS && !((struct ks_strs *)saved[i].p)->n)
			*(struct ks_strs *)saved[i].p = saved[i].strs;
		else if (saved[i].type == KS_OPT_COUNT && !*(int *)saved[i].p)
			*(int *)saved[i].p = saved[i].count;
	}
	/* the file's positionals, unless the command line has its own; a count alone
	 * counts intervals of the default length */
	if (!rc && !*npos && (c.pos[0] || c.pos[1]) && max_pos >= 2) {
		pos[(*npos)++] = c.pos[0] ? c.pos[0] : "10";
		if (c.pos[1])
			pos[(*npos)++] = c.pos[1];
	}
	return rc;
}
