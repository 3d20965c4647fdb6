/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The YAML side of ksight run --metrics, shared by its two files: metrics_yaml.c reads the
 * document and each metric's keys, metrics_fields.c the keys that name the probe's fields
 * (labels, value, filter) and the buckets. Every error is one line "FILE:LINE:COL: reason"
 * in the parser's buffer; each function returns 0 (or what it says), or -1 with it said.
 */
#ifndef KSIGHT_METRICS_YAML_H
#define KSIGHT_METRICS_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "modules/metrics_int.h"

struct ym_parser {
	const char *file;
	yaml_document_t *doc;
	char *err;
	size_t len;
};

/* The error at @line, @col (from 0) of the file. Returns -1. */
__attribute__((format(printf, 4, 5))) int ym_err_at(struct ym_parser *p, size_t line,
						    size_t col, const char *fmt, ...);
/* The error at node @n's start. */
#define ym_err(p, n, ...) ym_err_at(p, (n)->start_mark.line, (n)->start_mark.column, __VA_ARGS__)

/* @n's text if it is a scalar, else NULL. */
const char *ym_scalar(const yaml_node_t *n);
/* @n's text into @out, said as @key's when it is not one non-empty scalar. */
int ym_want(struct ym_parser *p, const yaml_node_t *n, const char *key, const char **out);
/* Whether @s is a Prometheus name: letters, digits and _, not starting with a digit. */
bool ym_ident(const char *s);

/* metrics_fields.c: labels (the key parts), value (the histogram's field), buckets (log2
 * or linear) and filter (@s, the text of @n) of metric @m, into its trace_conf. */
int ym_labels(struct ym_parser *p, struct ym_metric *m, yaml_node_t *n);
int ym_value(struct ym_parser *p, struct ym_metric *m, const yaml_node_t *n);
int ym_buckets(struct ym_parser *p, struct ym_metric *m, yaml_node_t *n);
int ym_filter(struct ym_parser *p, struct ym_metric *m, const yaml_node_t *n, const char *s);

#endif
