// SPDX-License-Identifier: GPL-2.0
/*
 * uprobes, uretprobes and USDT probes. The function is found by ksight (core/elfsym.h) and
 * given to libbpf as a file offset, which attaches it through the kernel's uprobe PMU.
 * A kernel without that PMU has only tracefs uprobe_events, whose events outlive the
 * process: ksight then makes the event itself, named ksight_<pid>_<n> and recorded in its
 * journal (legacy.h), and deletes it at exit. USDT goes through libbpf, which would fall
 * back to tracefs on its own (events named libbpf_<pid>_...): those are recorded by that
 * prefix first.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/attachments.h"
#include "core/elfsym.h"
#include "core/legacy.h"
#include "core/probe_int.h"
#include "core/procfs.h"
#include "core/session_int.h"

/* Create tracefs event @event for @path:@off and open it; returns a perf fd or -errno. */
static int tracefs_uprobe(const char *event, const char *path, uint64_t off, bool ret, int pid)
{
	const char *tracefs = ks_tracefs();
	struct perf_event_attr a = { .size = sizeof(a), .type = PERF_TYPE_TRACEPOINT };
	char file[128], cmd[PATH_MAX + 128], buf[32];
	int fd, n, pfd;

	if (!tracefs)
		return -ENOENT;
	snprintf(file, sizeof(file), "%s/uprobe_events", tracefs);
	fd = open(file, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(cmd, sizeof(cmd), "%c:%s %s:0x%llx\n", ret ? 'r' : 'p', event, path,
		     (unsigned long long)off);
	if (write(fd, cmd, n) != n) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	snprintf(file, sizeof(file), "%s/events/%s/id", tracefs, event);
	if (ks_read_file(file, buf, sizeof(buf)) <= 0 || sscanf(buf, "%llu", &a.config) != 1)
		return -ENOENT;
	/* a tracepoint's BPF programs run on every CPU whichever CPU the event is opened on */
	pfd = syscall(__NR_perf_event_open, &a, pid > 0 ? pid : -1, pid > 0 ? -1 : 0, -1,
		      PERF_FLAG_FD_CLOEXEC);
	return pfd < 0 ? -errno : pfd;
}

/* Delete an event this attach made and could not use; one that will not go stays in the
 * journal (counted as made) for a later sweep. */
static void drop_event(const char *event)
{
	int err = ks_tracefs_event_remove("uprobe_events", event);

	if (err && err != -ENOENT)
		ks_legacy_made();
}

static int attach_legacy(struct ks_inst *in, struct bpf_program *prog, const char *path,
			 uint64_t off, bool ret, int pid, uint64_t cookie, const char *what)
{
	static int seq;
	struct ks_att a = { .kind = KS_ATT_LINK };
	int pfd, err;

	if (strpbrk(path, " \t\n"))
		return ks_att_fail(in, -EINVAL, "%s: tracefs cannot name a path with spaces", what);
	snprintf(a.tracefs, sizeof(a.tracefs), "uprobes/ksight_%d_%d", getpid(), seq++);
	if ((err = ks_legacy_note_tracefs("uprobe_events", a.tracefs)))
		return ks_att_fail(in, err, "%s: cannot record it in " KS_LEGACY_DIR ": %s", what,
				   strerror(-err));
	pfd = tracefs_uprobe(a.tracefs, path, off, ret, pid);
	if (pfd < 0) {
		drop_event(a.tracefs);
		return ks_att_fail(in, pfd, "%s: tracefs uprobe_events: %s", what, strerror(-pfd));
	}
	LIBBPF_OPTS(bpf_perf_event_opts, po, .bpf_cookie = cookie);
	a.link = bpf_program__attach_perf_event_opts(prog, pfd, &po);
	if (!a.link) {
		err = -errno;
		close(pfd);
		drop_event(a.tracefs);
		return ks_att_fail(in, err, "%s: cannot attach %s: %s", what,
				   bpf_program__name(prog), strerror(-err));
	}
	ks_legacy_made();
	return ks_attset_add(&in->dyn, &a);
}

int ks_attach_uprobe(struct ks_ctx *c, struct bpf_program *prog, const struct ks_uprobe_spec *s)
{
	struct ks_inst *in = ks_ctx_prog_owner(c, prog);
	char path[PATH_MAX], why[512], what[160];
	struct ks_att a = { .kind = KS_ATT_LINK };
	uint64_t off = s->offset, foff;
	int pid = s->pid > 0 ? s->pid : -1, err;

	if (!in)
		return -EINVAL;
	snprintf(what, sizeof(what), "%s on %s%s%s", s->retprobe ? "uretprobe" : "uprobe",
		 s->binary, s->func ? ":" : "", s->func ? s->func : "");
	if ((err = ks_elf_resolve(s->binary, pid, path, sizeof(path), why, sizeof(why))))
		return ks_att_fail(in, err, "%s: %s", what, why);
	if (s->func) {
		if ((err = ks_elf_func_offset(path, s->func, &foff, why, sizeof(why))))
			return ks_att_fail(in, err, "%s%s%s%s: %s", what, strcmp(path, s->binary) ?
					   " (" : "", strcmp(path, s->binary) ? path : "",
					   strcmp(path, s->binary) ? ")" : "", why);
		off += foff;
	}
	if (s->legacy || ks_uprobe_pmu_type() < 0)
		return attach_legacy(in, prog, path, off, s->retprobe, pid, s->cookie, what);
	LIBBPF_OPTS(bpf_uprobe_opts, o, .retprobe = s->retprobe, .bpf_cookie = s->cookie);
	a.link = bpf_program__attach_uprobe_opts(prog, pid, path, off, &o);
	if (!a.link)
		return ks_att_fail(in, -errno, "%s: %s", what, strerror(errno));
	return ks_attset_add(&in->dyn, &a);
}

int ks_attach_usdt(struct ks_ctx *c, struct bpf_program *prog, const char *binary,
		   const char *provider, const char *name, int pid)
{
	struct ks_inst *in = ks_ctx_prog_owner(c, prog);
	struct ks_att a = { .kind = KS_ATT_LINK };
	char path[PATH_MAX], why[512];
	int err;

	if (!in)
		return -EINVAL;
	pid = pid > 0 ? pid : -1;
	if ((err = ks_elf_resolve(binary, pid, path, sizeof(path), why, sizeof(why))))
		return ks_att_fail(in, err, "usdt %s:%s: %s", provider, name, why);
	if (ks_uprobe_pmu_type() < 0 && (err = ks_legacy_note_libbpf("uprobe_events")))
		return ks_att_fail(in, err, "usdt %s:%s: cannot record it in " KS_LEGACY_DIR ": %s",
				   provider, name, strerror(-err));
	a.link = bpf_program__attach_usdt(prog, pid, path, provider, name, NULL);
	if (!a.link)
		return ks_att_fail(in, -errno, "usdt %s:%s in %s: %s", provider, name, binary,
				   strerror(errno));
	return ks_attset_add(&in->dyn, &a);
}
