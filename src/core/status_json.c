// SPDX-License-Identifier: GPL-2.0
/* The session's choices as JSON members for /api/status (status_json.h), the facts
 * ks_ctx__print_hooks prints for `ksight status`. */
#include <string.h>
#include <sys/utsname.h>

#include "core/session_int.h"
#include "core/status_json.h"
#include "sink/escape.h"
#include "sink/http_api.h"

static void jstr(struct ks_buf *o, const char *s)
{
	ks_json_str(o, s, strlen(s));
}

/* {"slot":..,"hook":..,"family":..,"refused":[{"family":..,"why":..}]}: "hook" as the
 * status command shows it ("tp_btf", "syscalls (raw_tp)", "unavailable"). */
static void slot_json(struct ks_buf *o, const struct ks_slot *slot, const struct ks_choice *ch,
		      int dispatcher)
{
	bool first = true;

	ks_buf_str(o, "{\"slot\":");
	jstr(o, slot->name);
	ks_buf_str(o, ",\"hook\":");
	if (ch->alt < 0) {
		ks_buf_str(o, "\"unavailable\",\"family\":null");
	} else {
		if (slot->alts[ch->alt].family == KS_FAM_SYSCALL)
			ks_buf_printf(o, "\"syscalls (%s)\"", ks_family_name(dispatcher));
		else
			ks_buf_printf(o, "\"%s\"", ks_family_name(ch->family));
		ks_buf_printf(o, ",\"family\":\"%s\"", ks_family_name(ch->family));
	}
	ks_buf_str(o, ",\"refused\":[");
	for (int k = 0; k < ks_slot_nalts(slot); k++) {
		const struct ks_alt_status *st = &ch->st[k];

		if (k == ch->alt || st->err >= 0)
			continue;
		ks_buf_printf(o, "%s{\"family\":\"%s\",\"why\":", first ? "" : ",",
			      ks_family_name(slot->alts[k].family));
		first = false;
		jstr(o, st->why);
		ks_buf_ch(o, '}');
	}
	ks_buf_str(o, "]}");
}

void ks_ctx__publish_status(struct ks_ctx *c)
{
	struct utsname u;
	struct ks_buf o;

	if (ks_buf_init(&o, -1, 8192))
		return;
	uname(&u);
	ks_buf_str(&o, "\"kernel\":");
	jstr(&o, u.release);
	ks_buf_printf(&o, ",\"btf\":%s,\"dispatcher\":",
		      ks_probe__btf(c->probe) ? "true" : "false");
	if (c->dispatcher >= 0)
		ks_buf_printf(&o, "\"%s\"", ks_family_name(c->dispatcher));
	else
		ks_buf_str(&o, "null");
	ks_buf_str(&o, ",\"modules\":[");
	for (int i = 0; i < c->ninst; i++) {
		const struct ks_inst *in = &c->inst[i];
		bool first = true;

		ks_buf_str(&o, i ? ",{\"name\":" : "{\"name\":");
		jstr(&o, in->m->name);
		ks_buf_printf(&o, ",\"state\":\"%s\",\"reason\":", in->failed ? "skipped" : "on");
		if (in->failed)
			jstr(&o, in->err);
		else
			ks_buf_str(&o, "null");
		ks_buf_str(&o, ",\"hooks\":[");
		for (int s = 0; s < KS_MAX_SLOTS && in->m->slots && in->m->slots[s].name; s++) {
			if (!in->wanted[s])
				continue;
			if (!first)
				ks_buf_ch(&o, ',');
			first = false;
			slot_json(&o, &in->m->slots[s], &in->choice[s], c->dispatcher);
		}
		ks_buf_str(&o, "]}");
	}
	ks_buf_ch(&o, ']');
	ks_api_publish_session(o.p, o.len);
	ks_buf_free(&o);
}
