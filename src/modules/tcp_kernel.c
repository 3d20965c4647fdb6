// SPDX-License-Identifier: GPL-2.0
/* What the running kernel's BTF says of the tcp module's hooks, read before load. */
#include <bpf/btf.h>

#include "modules/tcp_int.h"

/* inet_csk_accept(sk, arg) since 6.10, (sk, flags, err, kern) before: the fexit
 * program's return value follows the arguments. */
uint32_t tcp_accept_ret_index(struct btf *btf)
{
	const struct btf_type *t;
	int id;

	if (!btf)
		return 2;
	id = btf__find_by_name_kind(btf, "inet_csk_accept", BTF_KIND_FUNC);
	if (id < 0)
		return 2;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	return t && btf_is_func_proto(t) && btf_vlen(t) == 4 ? 4 : 2;
}

/* Whether tracepoint @tp's arguments (its btf_trace_ typedef: a pointer to a prototype
 * whose first parameter is the probe's data) number more than @n. */
bool tcp_tp_has_more_args(struct btf *btf, const char *tp, unsigned int n)
{
	const struct btf_type *t;
	int id;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, tp, BTF_KIND_TYPEDEF);
	if (id < 0)
		return false;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_ptr(t))
		return false;
	t = btf__type_by_id(btf, t->type);
	return t && btf_is_func_proto(t) && btf_vlen(t) > n + 1;
}
