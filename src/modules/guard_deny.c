// SPDX-License-Identifier: GPL-2.0
/*
 * guard's enforcement (ksight guard --enforce, guard_lsm.h): rules with `action: deny`,
 * checked to hold only what the kernel judges exactly at the BPF LSM hooks (an act and a
 * path of one of three forms), filed in guard_keys with deny bits; the probe that refuses
 * --enforce where BPF LSM programs cannot load or would never run.
 */
#include <stdio.h>
#include <string.h>

#include "core/probe.h"
#include "guard_lsm.h"
#include "modules/guard_deny.h"
#include "modules/guard_parse.h"

/* enum guard_kind -> enum guard_dk (-1: cannot be denied) */
static int kind_dk(int kind)
{
	switch (kind) {
	case GUARD_K_WRITE: return GUARD_DK_WRITE;
	case GUARD_K_TRUNCATE: return GUARD_DK_TRUNCATE;
	case GUARD_K_UNLINK: return GUARD_DK_UNLINK;
	case GUARD_K_RENAME: return GUARD_DK_RENAME;
	case GUARD_K_CHMOD: return GUARD_DK_CHMOD;
	case GUARD_K_CHOWN: return GUARD_DK_CHOWN;
	case GUARD_K_EXEC: return GUARD_DK_EXEC;
	default: return -1;
	}
}

#define DENY_EVENTS "write, truncate, unlink, rename, chmod, chown, exec"

/* The form of deny glob @g (GUARD_DF_*) and its key's bytes (@key, @klen), or -1. */
static int glob_form(const char *g, const char **key, size_t *klen)
{
	size_t n = strlen(g), wild = strcspn(g, "*?[\\");

	if (n >= GUARD_MATCH_LEN || g[0] == '\0')
		return -1;
	if (wild == n && g[0] == '/' && (n == 1 || g[n - 1] != '/')) {
		*key = g, *klen = n;
		return GUARD_DF_EXACT;
	}
	if (wild == n - 1 && n > 3 && g[0] == '/' && g[n - 1] == '*' && g[n - 2] == '/' &&
	    g[n - 3] != '/') {
		*key = g, *klen = n - 2;
		return GUARD_DF_UNDER;
	}
	if (n > 2 && g[0] == '*' && g[1] == '/' && strcspn(g + 2, "*?[\\/") == n - 2) {
		*key = g + 2, *klen = n - 2;
		return GUARD_DF_LEAF;
	}
	return -1;
}

int guard_deny_check(struct guard_parse *p, yaml_node_t *n, const struct guard_rule *r)
{
	const struct guard_cond *c = &r->when;
	const char *other = c->comm.n ? "comm" : c->exe.n ? "exe" : c->parent.n ? "parent" :
			    c->nuid ? "uid" : c->flags ? "flags" : c->user.n ? "user" :
			    c->pam_service.n ? "pam_service" : r->has_not ? "not" :
			    r->result != GUARD_R_ANY ? "result" : NULL;

	if (!r->kinds)
		return guard_perr(p, n, "rule '%s': action: deny needs 'event' (" DENY_EVENTS ")",
				  r->name);
	for (int k = 0; k < GUARD_K_N; k++)
		if ((r->kinds & (1U << k)) && kind_dk(k) < 0)
			return guard_perr(p, n, "rule '%s': action: deny cannot deny '%s' (only "
					  DENY_EVENTS ")", r->name, guard_kind_name(k));
	if (other)
		return guard_perr(p, n, "rule '%s': action: deny is judged in the kernel on "
				  "event and path alone: no '%s'", r->name, other);
	if (!c->path.n)
		return guard_perr(p, n, "rule '%s': action: deny needs 'path'", r->name);
	for (int i = 0; i < c->path.n; i++) {
		const char *key;
		size_t klen;

		if (glob_form(c->path.v[i], &key, &klen) < 0)
			return guard_perr(p, n, "rule '%s': action: deny takes a whole path, DIR/* "
					  "or */NAME (shorter than %d bytes), not '%s'", r->name,
					  GUARD_MATCH_LEN, c->path.v[i]);
	}
	return 0;
}

static int add_bits(struct guard_filter *f, uint64_t key, uint32_t bits, char *err,
		    size_t len)
{
	for (size_t i = 0; i < f->nkeys; i++) {
		if (f->keys[i] == key) {
			f->classes[i] |= bits;
			return 0;
		}
	}
	if (f->nkeys >= GUARD_KEYS_MAX) {
		snprintf(err, len, "more than %d watched paths", GUARD_KEYS_MAX);
		return -1;
	}
	f->keys[f->nkeys] = key;
	f->classes[f->nkeys++] = bits;
	return 0;
}

int guard_deny_keys(const struct guard_rules *rs, struct guard_filter *f, uint32_t *dkinds,
		    char *err, size_t len)
{
	*dkinds = 0;
	for (size_t i = 0; i < rs->n; i++) {
		const struct guard_rule *r = &rs->r[i];
		uint32_t dks = 0;

		if (!r->enabled || r->action != GUARD_A_DENY)
			continue;
		for (int k = 0; k < GUARD_K_N; k++)
			if ((r->kinds & (1U << k)) && kind_dk(k) >= 0)
				dks |= 1U << kind_dk(k);
		*dkinds |= dks;
		for (int j = 0; j < r->when.path.n; j++) {
			const char *key;
			size_t klen;
			int form = glob_form(r->when.path.v[j], &key, &klen);
			uint32_t bits = 0;

			if (form < 0)
				continue;	/* refused when parsed */
			for (int dk = 0; dk < GUARD_DK_N; dk++)
				if (dks & (1U << dk))
					bits |= GUARD_D(form, dk);
			if (add_bits(f, guard_fnv(form == GUARD_DF_LEAF ? GUARD_FNV_LEAF :
						  GUARD_FNV_PATH, key, klen), bits, err, len))
				return -1;
		}
	}
	return 0;
}

bool guard_has_deny(const struct guard_rules *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->r[i].enabled && rs->r[i].action == GUARD_A_DENY)
			return true;
	return false;
}

static const char *const hook_names[GUARD_H_N] = {
	[GUARD_H_FILE_OPEN] = "file_open",	[GUARD_H_PATH_MKNOD] = "path_mknod",
	[GUARD_H_PATH_TRUNCATE] = "path_truncate", [GUARD_H_PATH_UNLINK] = "path_unlink",
	[GUARD_H_PATH_RMDIR] = "path_rmdir",	[GUARD_H_PATH_RENAME] = "path_rename",
	[GUARD_H_PATH_CHMOD] = "path_chmod",	[GUARD_H_PATH_CHOWN] = "path_chown",
	[GUARD_H_BPRM_CREDS] = "bprm_creds_for_exec",
};

const char *guard_hook_name(uint32_t hook)
{
	return hook < GUARD_H_N ? hook_names[hook] : "?";
}

int guard_lsm_probe(char *err, size_t len)
{
	struct ks_probe *p = ks_probe__new();
	char why[256];
	int rc = 0;

	if (!p) {
		snprintf(err, len, "--enforce: cannot probe the kernel for BPF LSM");
		return -1;
	}
	for (int h = 0; h < GUARD_H_N; h++) {
		if (ks_probe(p, KS_FAM_LSM, hook_names[h], why, sizeof(why)) < 0) {
			snprintf(err, len, "--enforce needs BPF LSM, which this kernel does not give "
				 "guard: %s", why);
			rc = -1;
			break;
		}
	}
	ks_probe__free(p);
	return rc;
}
