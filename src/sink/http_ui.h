/* SPDX-License-Identifier: GPL-2.0 */
/* The web UI (http_ui.c, docs/ui.md): files embedded in the binary, served at / and /ui/. */
#ifndef KSIGHT_HTTP_UI_H
#define KSIGHT_HTTP_UI_H

#include <stdbool.h>
#include <stddef.h>

struct MHD_Connection;

struct ks_ui_file {
	const char *name;	/* under /ui/; index.html is / too */
	const char *type;	/* Content-Type */
	const char *etag;	/* quoted, from the bytes (scripts/embed-web.py) */
	const unsigned char *data;
	size_t len;
};

/* generated at build time from web/ and the npm packages (build/web/assets.c) */
extern const struct ks_ui_file ks_ui_files[];

/* Whether @url is the UI's (/, /ui/...). */
bool ks_ui_url(const char *url);
/* The file named by @url, or NULL. */
const struct ks_ui_file *ks_ui_find(const char *url);
/* Answer a GET/HEAD of a UI url: the file (304 when If-None-Match has its ETag) or 404.
 * Returns MHD_YES/MHD_NO (an enum MHD_Result). */
int ks_ui_serve(struct MHD_Connection *c, const char *url);

#endif
