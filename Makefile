# ksight build. `make run` and `make test` are the two set-up commands (README.md).
#
# Chain: bpf/*.bpf.c -> .bpf.o -> ksight.bpf.o (bpftool gen object) -> ksight.skel.h
#        -> user objects -> build/ksight (one binary, BPF embedded).
# V=1 shows the commands. ASAN=1 builds into build-asan/ with AddressSanitizer + UBSan.

BPF_OBJS := core syscalls exec open biolat syscount rw files proc sysnames

ifeq ($(ASAN),1)
BUILD ?= build-asan
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build
SAN :=
endif

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
PYTHON := /usr/bin/python3
ARCH := x86

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
	  -D_GNU_SOURCE -I$(BUILD) -Ibpf -Isrc $(SAN)
LDLIBS := -lbpf -lelf -lz
LDFLAGS += $(SAN)

# clang -target bpf does not search the host's multiarch include dir (asm/unistd_64.h)
BPF_SYS_INC := $(shell $(CLANG) -v -E - </dev/null 2>&1 | \
	sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -Wno-incompatible-pointer-types-discards-qualifiers -I$(BUILD) -Ibpf $(BPF_SYS_INC)

SRCS := $(wildcard src/core/*.c src/analyze/*.c src/sink/*.c src/modules/*.c src/cli/*.c)
OBJS := $(SRCS:%.c=$(BUILD)/%.o)
# user code that never includes the skeleton: what the cmocka tests link against
PURE_SRCS := $(shell grep -L 'ksight.skel.h' $(SRCS) | grep -v 'src/cli/main.c')
PURE_OBJS := $(PURE_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
HELPER_SRCS := $(filter-out %.bpf.c,$(wildcard tests/e2e/helpers/*.c bench/helpers/*.c))
HELPER_BINS := $(HELPER_SRCS:%.c=$(BUILD)/%)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all run test unit e2e asan bench vmlinux deps clean format test-kernels

all: $(BUILD)/ksight

# --- set-up: install what is missing (Debian 12), then the two commands ---------------
# Building, then every command the tests on this kernel and their scripts run: losetup
# (mount, not in a minimal Debian), strace, tar and gzip (test_files_links.py), bpftool.
# scripts/test-kernels.sh installs what the kernel matrix adds (qemu, busybox, ...).
# tests/e2e/test_scripts.py checks that these lists cover the commands.
DEPS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config make gcc \
	binutils libcmocka-dev python3 python3-pytest iproute2 util-linux mount e2fsprogs \
	procps strace tar gzip coreutils

deps:
	$(Q)./scripts/install-deps.sh $(DEPS)

run: deps
	$(Q)$(MAKE) --no-print-directory all
	./$(BUILD)/ksight run

# Every test: unit and end-to-end here, then the `kernels` tests on Debian's kernels under
# qemu (the fentry, kprobe and LSM paths this kernel refuses). KERNELS= skips the guests.
KERNELS ?= 5.10 6.1 6.12
test: deps
	$(Q)$(MAKE) --no-print-directory all unit-bins helpers
	$(Q)rc=0; ./scripts/run-tests.sh $(BUILD) || rc=1; \
	if [ -n "$(strip $(KERNELS))" ]; then \
		KSIGHT_KERNELS="$(KERNELS)" ./scripts/test-kernels.sh $(BUILD) || rc=1; \
	fi; exit $$rc

asan:
	$(Q)$(MAKE) --no-print-directory ASAN=1 all unit-bins helpers

# --- BPF ---------------------------------------------------------------------------------
vmlinux: $(BUILD)/vmlinux.h

$(BUILD)/vmlinux.h: | $(BUILD)
	$(call msg,VMLINUX,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h $(wildcard bpf/*.h) | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/ksight.bpf.o: $(BPF_OBJS:%=$(BUILD)/bpf/%.bpf.o)
	$(call msg,LINK-BPF,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(BUILD)/ksight.skel.h: $(BUILD)/ksight.bpf.o Makefile
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name ksight_bpf > $@

# --- user space --------------------------------------------------------------------------
$(BUILD)/src/%.o: src/%.c $(BUILD)/ksight.skel.h $(wildcard src/*/*.h bpf/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# the build host's syscall names, [nr] = "name", for src/core/sysnames.c: the fallback when
# the running kernel does not say (no CONFIG_FTRACE_SYSCALLS, addresses hidden)
$(BUILD)/sysnames_gen.h: | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)echo '#include <asm/unistd_64.h>' | $(CC) -dM -E -x c - | \
		sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9][0-9]*\)$$/[\2] = "\1",/p' > $@
	$(Q)test -s $@

$(BUILD)/src/core/sysnames.o: $(BUILD)/sysnames_gen.h

$(BUILD)/ksight: $(OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# --- tests and helpers -------------------------------------------------------------------
.PHONY: unit-bins helpers
unit-bins: $(UNIT_BINS)
helpers: $(HELPER_BINS)

# An archive, so a test pulls in only the objects it needs: some files that do not include
# the skeleton still call the session (cmd_*.c, exec.c) and would not link on their own.
$(BUILD)/libksight-pure.a: $(PURE_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BUILD)/tests/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libksight-pure.a
	$(call msg,UNIT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) $< $(BUILD)/libksight-pure.a -lcmocka \
		$(LDLIBS) -o $@

$(BUILD)/tests/e2e/helpers/%: tests/e2e/helpers/%.c
	$(call msg,HELPER,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE $< -lpthread -o $@

$(BUILD)/bench/helpers/%: bench/helpers/%.c
	$(call msg,HELPER,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE $< -lpthread -o $@

# the benchmarks' reference tracer: a BPF object and skeleton of its own, never in ksight
$(BUILD)/bench/helpers/floortrace.bpf.o: bench/helpers/floortrace.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/helpers/floortrace.skel.h: $(BUILD)/bench/helpers/floortrace.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name floortrace_bpf > $@

$(BUILD)/bench/helpers/floortrace: bench/helpers/floortrace.c \
		$(BUILD)/bench/helpers/floortrace.skel.h
	$(call msg,HELPER,$@)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I$(BUILD)/bench/helpers $< \
		$(LDLIBS) -o $@

unit: unit-bins
	$(Q)./scripts/run-tests.sh $(BUILD) unit

e2e: all helpers
	$(Q)./scripts/run-tests.sh $(BUILD) e2e

bench: deps
	$(Q)$(MAKE) --no-print-directory all helpers
	$(Q)./bench/run-all.sh $(BUILD)

# the kernel matrix alone, this host's kernel included
test-kernels: deps
	$(Q)$(MAKE) --no-print-directory all helpers
	$(Q)KSIGHT_KERNELS="host $(KERNELS)" ./scripts/test-kernels.sh $(BUILD)

$(BUILD) $(BUILD)/bpf:
	$(Q)mkdir -p $@

format:
	clang-format -i $(SRCS) $(wildcard src/*/*.h bpf/*.c bpf/*.h tests/unit/*.c)

clean:
	rm -rf build build-asan
