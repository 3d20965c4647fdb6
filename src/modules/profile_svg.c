// SPDX-License-Identifier: GPL-2.0
/*
 * profile's folded stacks: the set (sorted, merged) and the flame graph drawn from it.
 * Sorted folded lines keep every stack prefix in one run of lines, so one pass with a
 * stack of open frames lays out the graph: a frame closes when the next line leaves it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modules/profile_int.h"

#define SVG_W 1200
#define SVG_PAD 10
#define FRAME_H 16
#define TOP_H 36
#define MAX_DEPTH 512

int profile_fset_add(struct profile_fset *s, const char *stack, uint64_t count)
{
	char *dup;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct profile_folded *e = realloc(s->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		s->e = e;
		s->cap = cap;
	}
	if (!(dup = strdup(stack)))
		return -ENOMEM;
	s->e[s->n++] = (struct profile_folded){ dup, count };
	return 0;
}

static int by_stack(const void *a, const void *b)
{
	return strcmp(((const struct profile_folded *)a)->stack,
		      ((const struct profile_folded *)b)->stack);
}

void profile_fset_merge(struct profile_fset *s)
{
	size_t w = 0;

	if (s->n)
		qsort(s->e, s->n, sizeof(*s->e), by_stack);
	for (size_t i = 0; i < s->n; i++) {
		if (w && !strcmp(s->e[w - 1].stack, s->e[i].stack)) {
			s->e[w - 1].count += s->e[i].count;
			free(s->e[i].stack);
			continue;
		}
		s->e[w++] = s->e[i];
	}
	s->n = w;
}

void profile_fset_free(struct profile_fset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->e[i].stack);
	free(s->e);
	memset(s, 0, sizeof(*s));
}

void profile_frame_text(const struct ks_frame *f, bool kernel, bool mark_kernel, char *buf,
			size_t len)
{
	const char *k = kernel && mark_kernel ? "_[k]" : "";

	if (f->name)
		snprintf(buf, len, "%s%s", f->name, k);
	else if (f->module)
		snprintf(buf, len, "[%s]%s", f->module, k);
	else
		snprintf(buf, len, "[unknown]%s", k);
	/* ';' separates frames and a space ends the stack in folded text */
	for (char *c = buf; *c; c++)
		if (*c == ';' || *c == '\n')
			*c = ':';
}

/* @s (@n bytes) as XML character data or attribute text: the five entities escaped, bytes
 * that are not printable ASCII as '?' (a name is not guaranteed UTF-8). */
static void xml_put(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = s[i];

		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default: fputc(c >= 0x20 && c < 0x7f ? c : '?', f);
		}
	}
}

/* --wall kinds of a stack, by its second frame */
enum { KIND_NONE, KIND_ON, KIND_RQ, KIND_OFF };

static int kind_of(const char *frame, size_t len)
{
	static const char *const names[] = { NULL, PROFILE_KIND_ON, PROFILE_KIND_RQ,
					     PROFILE_KIND_OFF };

	for (int k = KIND_ON; k <= KIND_OFF; k++)
		if (len == strlen(names[k]) && !memcmp(frame, names[k], len))
			return k;
	return KIND_NONE;
}

/* A warm colour from the name, kernel frames (suffix "_[k]") in orange, the comm level
 * (depth 0) grey-blue; in a --wall graph, run-queue frames purple, off-CPU ones blue
 * (kernel frames paler), on-CPU ones warm as above. */
static void colour(const char *name, size_t n, int depth, int kind, int *r, int *g, int *b)
{
	unsigned int h = 2166136261u;
	bool kernel = n > 4 && !memcmp(name + n - 4, "_[k]", 4);

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)name[i]) * 16777619u;
	if (depth == 0) {
		*r = 150, *g = 170, *b = 200;
	} else if (kind == KIND_RQ) {
		*r = 150 + h % 40 + (kernel ? 40 : 0), *g = 90 + (h >> 8) % 40 + (kernel ? 50 : 0);
		*b = 200 + (h >> 16) % 55;
	} else if (kind == KIND_OFF) {
		*r = 40 + h % 40 + (kernel ? 60 : 0), *g = 110 + (h >> 8) % 60 + (kernel ? 40 : 0);
		*b = 200 + (h >> 16) % 55;
	} else if (kernel) {
		*r = 230, *g = 140 + h % 50, *b = 40 + (h >> 8) % 30;
	} else {
		*r = 205 + h % 50, *g = 60 + (h >> 8) % 130, *b = 40 + (h >> 16) % 40;
	}
}

struct open_frame {
	const char *name;
	size_t len;
	uint64_t start;
	int kind;		/* KIND_*: of the stacks it is part of (the first's) */
};

static void frame_out(FILE *f, const struct open_frame *o, int depth, uint64_t end,
		      uint64_t total, int height, bool ns)
{
	double scale = (double)(SVG_W - 2 * SVG_PAD) / total;
	double x = SVG_PAD + o->start * scale, w = (end - o->start) * scale;
	int y = height - SVG_PAD - (depth + 1) * FRAME_H, r, g, b;
	size_t fit = w > 12 ? (size_t)((w - 6) / 7) : 0;

	if (w < 0.1)
		return;
	colour(o->name, o->len, depth, o->kind, &r, &g, &b);
	fputs("<g class=\"f\"><title>", f);
	xml_put(f, o->name, o->len);
	if (ns)
		fprintf(f, " (%.3f ms, %.2f%%)", (end - o->start) / 1e6,
			100.0 * (end - o->start) / total);
	else
		fprintf(f, " (%llu samples, %.2f%%)", (unsigned long long)(end - o->start),
			100.0 * (end - o->start) / total);
	fprintf(f, "</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" "
		"height=\"%d\" fill=\"rgb(%d,%d,%d)\" rx=\"2\"/><text x=\"%.2f\" y=\"%d\">",
		x, y, w, FRAME_H - 1, r, g, b, x + 3, y + FRAME_H - 4);
	if (fit >= o->len)
		xml_put(f, o->name, o->len);
	else if (fit > 2) {
		xml_put(f, o->name, fit - 2);
		fputs("..", f);
	}
	fputs("</text></g>\n", f);
}

/* Click a frame: it fills the width, its ancestors (below it: the root is at the bottom)
 * are cut to it, frames beside it hide. */
static const char SCRIPT[] =
	"<script type=\"text/ecmascript\"><![CDATA[\n"
	"var W = %d, P = %d;\n"
	"function label(g, w) {\n"
	"  var t = g.querySelector('text'), n = g.querySelector('title').textContent;\n"
	"  n = n.substring(0, n.lastIndexOf(' ('));\n"
	"  var fit = Math.floor((w - 6) / 7);\n"
	"  t.textContent = w < 12 || fit < 3 ? '' : n.length <= fit ? n : n.substring(0, fit - 2) + '..';\n"
	"}\n"
	"function zoom(e) {\n"
	"  var g = e.currentTarget, r = g.querySelector('rect');\n"
	"  var zx = +r.getAttribute('ox'), zw = +r.getAttribute('ow'), zy = +r.getAttribute('y');\n"
	"  var s = (W - 2 * P) / zw;\n"
	"  document.querySelectorAll('g.f').forEach(function (h) {\n"
	"    var q = h.querySelector('rect'), x = +q.getAttribute('ox'), w = +q.getAttribute('ow');\n"
	"    var inside = x + w > zx + 1e-6 && x < zx + zw - 1e-6;\n"
	"    var shown = inside && (+q.getAttribute('y') >= zy || (x >= zx - 1e-6 && x + w <= zx + zw + 1e-6));\n"
	"    h.style.display = shown ? '' : 'none';\n"
	"    if (!shown) return;\n"
	"    var nx = P + (Math.max(x, zx) - zx) * s, nw = (Math.min(x + w, zx + zw) - Math.max(x, zx)) * s;\n"
	"    q.setAttribute('x', nx); q.setAttribute('width', nw);\n"
	"    h.querySelector('text').setAttribute('x', nx + 3); label(h, nw);\n"
	"  });\n"
	"}\n"
	"window.addEventListener('load', function () {\n"
	"  document.querySelectorAll('g.f').forEach(function (g) {\n"
	"    var r = g.querySelector('rect');\n"
	"    r.setAttribute('ox', r.getAttribute('x')); r.setAttribute('ow', r.getAttribute('width'));\n"
	"    g.addEventListener('click', zoom);\n"
	"  });\n"
	"});\n"
	"]]></script>\n";

int profile_svg_write(FILE *f, const struct profile_fset *s, const char *title)
{
	struct open_frame open[MAX_DEPTH + 1];
	uint64_t total = 0, x = 0;
	int depth = 0, maxd = 1, height, nopen = 0;
	bool ns = false;

	for (size_t i = 0; i < s->n; i++) {
		const char *second = strchr(s->e[i].stack, ';');
		int d = 1;

		total += s->e[i].count;
		for (const char *c = s->e[i].stack; *c; c++)
			d += *c == ';';
		if (second && kind_of(second + 1, strcspn(second + 1, ";")) != KIND_NONE)
			ns = true;
		if (d > maxd)
			maxd = d;
	}
	if (maxd > MAX_DEPTH)
		maxd = MAX_DEPTH;
	/* the root "all" below the comm level */
	height = TOP_H + (maxd + 1) * FRAME_H + 2 * SVG_PAD;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"xmlns=\"http://www.w3.org/2000/svg\">\n"
		"<style>text { font-family: monospace; font-size: 12px; fill: #000; "
		"pointer-events: none; } g.f { cursor: pointer; } g.f:hover rect { stroke: #333; "
		"stroke-width: 0.5; }</style>\n",
		SVG_W, height, SVG_W, height);
	fprintf(f, SCRIPT, SVG_W, SVG_PAD);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fafaf0\"/>\n"
		"<text x=\"%d\" y=\"24\" style=\"font-size: 16px\">", SVG_W, height, SVG_W / 2 - 200);
	xml_put(f, title, strlen(title));
	if (ns)
		fprintf(f, " (%.1f ms of wall time: on-CPU warm, run queue purple, off-CPU blue; "
			"click a frame to zoom, a lower one to zoom out)</text>\n", total / 1e6);
	else
		fprintf(f, " (%llu samples; click a frame to zoom, a lower one to zoom out)</text>\n",
			(unsigned long long)total);
	if (!total)
		goto end;
	open[0] = (struct open_frame){ "all", 3, 0, KIND_NONE };
	nopen = 1;
	for (size_t i = 0; i < s->n; i++) {
		const char *p = s->e[i].stack, *second = strchr(p, ';');
		int d = 1, kind = second ? kind_of(second + 1, strcspn(second + 1, ";")) : KIND_NONE;

		/* keep the open frames this line shares, close the rest */
		while (*p) {
			const char *e = strchr(p, ';');
			size_t len = e ? (size_t)(e - p) : strlen(p);

			if (d >= MAX_DEPTH)
				break;
			if (d < nopen && (open[d].len != len || memcmp(open[d].name, p, len))) {
				while (nopen > d) {
					nopen--;
					frame_out(f, &open[nopen], nopen, x, total, height, ns);
				}
			}
			if (d >= nopen) {
				open[d] = (struct open_frame){ p, len, x, d >= 2 ? kind : KIND_NONE };
				nopen = d + 1;
			}
			d++;
			p += len + (e ? 1 : 0);
			if (!e)
				break;
		}
		while (nopen > d) {
			nopen--;
			frame_out(f, &open[nopen], nopen, x, total, height, ns);
		}
		x += s->e[i].count;
	}
	for (depth = nopen - 1; depth >= 0; depth--)
		frame_out(f, &open[depth], depth, x, total, height, ns);
end:
	fputs("</svg>\n", f);
	return ferror(f) ? -EIO : 0;
}
