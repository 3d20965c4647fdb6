// SPDX-License-Identifier: GPL-2.0
/* ksight run --print-config: the options as a YAML file run_config.c reads back. */
#include <stdbool.h>
#include <string.h>

#include "cli/run_config.h"
#include "cli/run_config_int.h"
#include "core/config.h"
#include "sink/prom.h"
#include "sink/store.h"

/* Keys that are no option of the run, and what a missing value of an option stands for
 * (printed by --print-config; read back, they are the same choice). */
const char *const ks_run_config_not_in_file[] = { "config", "print-config", NULL };

const char *ks_run_config_default(const char *key)
{
	if (!strcmp(key, "listen"))
		return KS_PROM_LISTEN_DEFAULT;
	if (!strcmp(key, "store"))
		return ks_store_default_path();
	if (!strcmp(key, "retention"))
		return "7d";
	if (!strcmp(key, "store-max-mb"))
		return "256";
	return NULL;
}

/* A YAML double-quoted string. */
static void quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = *s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(out, "\\x%02x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

static void value(FILE *out, const struct ks_opt *o, const void *p)
{
	const char *dflt = ks_run_config_default(o->lng);
	uint64_t u;

	if (o->type != KS_OPT_STRS || !((const struct ks_strs *)p)->n)
		fputc(' ', out);
	switch (o->type) {
	case KS_OPT_FLAG:
		fputs(*(const bool *)p ? "true" : "false", out);
		break;
	case KS_OPT_COUNT:
		fprintf(out, "%d", *(const int *)p);
		break;
	case KS_OPT_UINT:
	case KS_OPT_SIZE:
		u = *(const uint64_t *)p;
		if (u && u != KS_UNSET)
			fprintf(out, "%llu", (unsigned long long)u);
		else if (dflt)
			fputs(dflt, out);
		else
			fputs("~", out);
		break;
	case KS_OPT_STR:
		if (*(const char *const *)p || dflt)
			quoted(out, *(const char *const *)p ? *(const char *const *)p : dflt);
		else
			fputs("~", out);
		break;
	case KS_OPT_CHOICE:
		quoted(out, o->choices[*(const int *)p]);
		break;
	case KS_OPT_STRS: {
		const struct ks_strs *l = p;

		if (!l->n)
			fputs("[]", out);
		for (int i = 0; i < l->n; i++) {
			fputs("\n  - ", out);
			quoted(out, l->v[i]);
		}
		break;
	}
	}
}

void ks_run_config_print(FILE *out, const struct ks_opt_table *t, int nt, uint64_t interval,
			 uint64_t count)
{
	fputs("# ksight run: the effective configuration (ksight run --config FILE reads it "
	      "back).\n# Keys are the long options of ksight run --help; ~ is the default.\n"
	      "# seconds between summaries\n", out);
	fprintf(out, "interval: %llu\n# intervals before stopping (~: until stopped)\n",
		(unsigned long long)(interval ? interval : 10));
	if (count)
		fprintf(out, "count: %llu\n", (unsigned long long)count);
	else
		fputs("count: ~\n", out);
	for (int i = 0; i < nt; i++)
		for (const struct ks_opt *o = t[i].opts; o && o->lng; o++) {
			bool skip = false;

			for (int k = 0; ks_run_config_not_in_file[k]; k++)
				skip |= !strcmp(o->lng, ks_run_config_not_in_file[k]);
			if (skip)
				continue;
			fprintf(out, "# %s\n%s:", o->help, o->lng);
			value(out, o, (const char *)t[i].base + o->off);
			fputc('\n', out);
		}
}
