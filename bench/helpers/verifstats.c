// SPDX-License-Identifier: GPL-2.0
/*
 * verifstats: what the kernel's verifier does for one program of a BPF object, loaded
 * alone (every other program of the object left out, its maps created fresh):
 *   verifstats OBJECT PROGRAM
 * Prints "PROGRAM insns N processed P states S peak K verify_us T" (the verifier's own
 * statistics, log level 4), or the verifier's last lines and exit 1 when it refuses.
 * The processed count does not depend on the machine's load, unlike start-up times.
 */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>

static char log_buf[1 << 22];

/* The number after @key in the log, or -1. */
static long stat_of(const char *key)
{
	const char *p = strstr(log_buf, key);
	long v;

	return p && sscanf(p + strlen(key), " %ld", &v) == 1 ? v : -1;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_program *prog, *want = NULL;
	struct bpf_object *obj;
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: verifstats OBJECT PROGRAM\n");
		return 2;
	}
	libbpf_set_print(quiet);
	obj = bpf_object__open(argv[1]);
	if (!obj) {
		fprintf(stderr, "verifstats: cannot open %s\n", argv[1]);
		return 2;
	}
	bpf_object__for_each_program(prog, obj) {
		bool it = !strcmp(bpf_program__name(prog), argv[2]);

		bpf_program__set_autoload(prog, it);
		if (it)
			want = prog;
	}
	if (!want) {
		fprintf(stderr, "verifstats: %s has no program %s\n", argv[1], argv[2]);
		return 2;
	}
	bpf_program__set_log_level(want, 4);
	bpf_program__set_log_buf(want, log_buf, sizeof(log_buf));
	err = bpf_object__load(obj);
	if (err) {
		size_t n = strlen(log_buf);

		fprintf(stderr, "verifstats: %s refused (%d):\n%s\n", argv[2], err,
			log_buf + (n > 2000 ? n - 2000 : 0));
		return 1;
	}
	printf("%s insns %zu processed %ld states %ld peak %ld verify_us %ld\n", argv[2],
	       bpf_program__insn_cnt(want), stat_of("processed"), stat_of("total_states"),
	       stat_of("peak_states"), stat_of("verification time"));
	bpf_object__close(obj);
	return 0;
}
