/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Strings that come from the kernel (comm, paths, argv) are bytes an attacker may choose.
 * They have two output forms, one per audience:
 *
 * Display form (the terminal, ks_escape): unambiguous and free of control characters.
 *   - printable ASCII and well-formed UTF-8 (other than C1 controls) pass unchanged;
 *   - a backslash becomes "\\", newline "\n", tab "\t", carriage return "\r";
 *   - every other byte (controls, ESC, DEL, C1, malformed UTF-8) becomes "\xNN".
 *
 * JSON form (ks_json_str): the exact bytes, for programs. A consumer that decodes the JSON
 * string gets back the original text, not the display form:
 *   - well-formed UTF-8 passes unchanged, with JSON's own escapes only: \" \\ \b \f \n \r
 *     \t, and \u00XX for the other controls, DEL and C1 (U+0080..U+009F), \u2028 and
 *     \u2029 (so the text is also safe inside JavaScript);
 *   - each byte 0xNN that is not part of well-formed UTF-8 becomes the lone surrogate
 *     \udcNN (PEP 383, "surrogateescape"). Well-formed UTF-8 never encodes a surrogate,
 *     so the form is lossless: in Python, os.fsencode(json.loads(line)["path"]) gives back
 *     the kernel's bytes exactly. Parsers that cannot hold a lone surrogate show U+FFFD.
 * Both forms stop at the first NUL byte.
 */
#ifndef KSIGHT_ESCAPE_H
#define KSIGHT_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

#include "sink/outbuf.h"

/* Append the display form of @s[0..n) (stops early at a NUL byte). */
void ks_escape(struct ks_buf *out, const char *s, size_t n);

/* Append @s[0..n) as a JSON string literal, quotes included, in the exact form above
 * (stops early at a NUL byte). */
void ks_json_str(struct ks_buf *out, const char *s, size_t n);

/*
 * Decode the UTF-8 sequence at @s (at most @n bytes): its length (1..4) with the code
 * point in *cp, or 0 if malformed (overlong, a surrogate, beyond U+10FFFF, cut short).
 */
size_t ks_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Length of the valid UTF-8 sequence starting at @s (1..4), or 0 if malformed or a C1
 * control (which the display form escapes). */
size_t ks_utf8_len(const unsigned char *s, size_t n);

#endif
