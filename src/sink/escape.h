/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Strings that come from the kernel (comm, paths, argv) are bytes an attacker may choose.
 * Before they reach a terminal or a JSON document they are put in display form:
 *   - printable ASCII and well-formed UTF-8 (other than C1 controls) pass unchanged;
 *   - a backslash becomes "\\", newline "\n", tab "\t", carriage return "\r";
 *   - every other byte (controls, ESC, DEL, malformed UTF-8) becomes "\xNN".
 * The display form is unambiguous and contains no control character. JSON output then
 * quotes the display form, so both outputs show the same text.
 */
#ifndef KSIGHT_ESCAPE_H
#define KSIGHT_ESCAPE_H

#include <stddef.h>

#include "sink/outbuf.h"

/* Append the display form of @s[0..n) (stops early at a NUL byte). */
void ks_escape(struct ks_buf *out, const char *s, size_t n);

/* Append @s[0..n) as a JSON string literal (quotes included) of its display form. */
void ks_escape_json(struct ks_buf *out, const char *s, size_t n);

/* Length of the valid UTF-8 sequence starting at @s (1..4), or 0 if malformed. */
size_t ks_utf8_len(const unsigned char *s, size_t n);

#endif
