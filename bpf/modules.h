/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module registry, read by both the BPF programs and user space.
 *
 * One line per module: X(name, id). The id is stable: it is the module's bit in the
 * syscall dispatcher's masks and the high bits of its event types (see KS_EV in common.h).
 * Id 0 is the core (process lifecycle, identity). Adding a module adds one line here; user
 * space then expects a `const struct ks_module name_module` (src/core/module.h).
 */
#ifndef KSIGHT_MODULES_H
#define KSIGHT_MODULES_H

#define KS_MODULES(X)  \
	X(exec, 1)     \
	X(open, 2)     \
	X(biolat, 3)   \
	X(syscount, 4) \
	X(rw, 5)       \
	X(files, 6)    \
	X(proc, 7)     \
	X(tcp, 8)      \
	X(udp, 10)     \
	X(drops, 11)     \
	X(net, 12)       \
	X(funccount, 13) \
	X(runq, 9)       \
	X(cswitch, 14) \
	X(mem, 15)     \
	X(bio, 16)     \
	X(pmc, 17)     \
	X(cache, 18)   \
	X(profile, 19) \
	X(offcpu, 20)  \
	X(trace, 21)   \
	X(guard, 22)   \
	X(req, 24)

enum ks_module_id {
	KS_MOD_core = 0,
#define KS_X_ENUM(name, id) KS_MOD_##name = id,
	KS_MODULES(KS_X_ENUM)
#undef KS_X_ENUM
	KS_MOD_MAX = 64,
};

#endif
