// SPDX-License-Identifier: GPL-2.0
/*
 * The web UI on the agent's HTTP endpoint (prom.c): / is index.html, /ui/NAME the other
 * files. They are compiled into the binary (scripts/embed-web.py writes build/web/assets.c
 * from web/ and the pinned npm packages), never read from disk. Each answer has its
 * Content-Type, an ETag from its bytes and Cache-Control: no-cache, so a browser asks
 * again and gets 304 until the binary changes. The pages read /metrics and the /api/
 * endpoints themselves: nothing here touches the registry.
 */
#include <microhttpd.h>
#include <string.h>

#include "sink/http_ui.h"

bool ks_ui_url(const char *url)
{
	return !strcmp(url, "/") || !strncmp(url, "/ui/", 4);
}

const struct ks_ui_file *ks_ui_find(const char *url)
{
	const char *name = "index.html";

	if (strcmp(url, "/")) {
		if (strncmp(url, "/ui/", 4))
			return NULL;
		name = url + 4;
	}
	for (const struct ks_ui_file *f = ks_ui_files; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

static int answer(struct MHD_Connection *c, unsigned int status, const char *type,
		  const void *body, size_t len, const char *etag)
{
	struct MHD_Response *r;
	int ret;

	/* the bytes are static: served in place, never copied */
	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (etag) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	}
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

int ks_ui_serve(struct MHD_Connection *c, const char *url)
{
	static const char nf[] = "no such file in ksight's web UI\n";
	const struct ks_ui_file *f = ks_ui_find(url);
	const char *inm;

	if (!f)
		return answer(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", nf,
			      sizeof(nf) - 1, NULL);
	inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm && strstr(inm, f->etag))
		return answer(c, MHD_HTTP_NOT_MODIFIED, f->type, "", 0, f->etag);
	return answer(c, MHD_HTTP_OK, f->type, f->data, f->len, f->etag);
}
