# ksight build. `make run` and `make test` are the two set-up commands (README.md).
#
# Chain, per BPF object: bpf/<o>.bpf.c -> <o>.bpf.o (DWARF stripped, BTF kept) -> <o>.skel.h
#        -> user objects -> build/ksight (one binary, every object embedded).
# V=1 shows the commands. ASAN=1 builds into build-asan/ with AddressSanitizer + UBSan.

# The modules are listed once, in bpf/modules.h (X(name, id)); each is one BPF object.
MODULES := $(shell sed -n 's/^[[:space:]]*X(\([a-z0-9_]*\), *[0-9]*).*/\1/p' bpf/modules.h)
BPF_OBJS := core sysnames $(MODULES)
SKELS = $(BPF_OBJS:%=$(BUILD)/%.skel.h)
# Test-only modules, listed once in tests/modules/test_modules.h: built, with the same
# objects as ksight, into the test instrument build/tests/ksight-selftest, never into ksight.
TEST_MODULES := $(shell sed -n 's/^[[:space:]]*X(\([a-z0-9_]*\), *[0-9]*).*/\1/p' \
	tests/modules/test_modules.h)
TEST_SKELS = $(TEST_MODULES:%=$(BUILD)/tests/%.skel.h)

ifeq ($(ASAN),1)
BUILD ?= build-asan
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build
SAN :=
endif

CC ?= cc
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
PYTHON := /usr/bin/python3
ARCH := x86

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
	  -D_GNU_SOURCE -I$(BUILD) -Ibpf -Isrc $(SAN)
# SQLite keeps the agent's history (src/sink/store.c); libyaml reads guard's rules
SQLITE_LIBS := $(shell pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)
YAML_LIBS := $(shell pkg-config --libs yaml-0.1 2>/dev/null || echo -lyaml)
# libnetfilter_conntrack asks conntrack about DNAT (src/modules/tcp_nat.c)
NFCT_LIBS := $(shell pkg-config --libs libnetfilter_conntrack 2>/dev/null || \
	echo -lnetfilter_conntrack -lnfnetlink)
# libbpf linked statically, so its reads of the kernel's BTF can be served from one cached
# parse (src/core/btfcache.h): ld --wrap reaches calls inside the library only when linking
# its archive. Only the ksight binary and the selftest wrap (src/core/btfwrap.c); unit
# tests use the plain functions.
LDLIBS := -Wl,-Bstatic -lbpf -Wl,-Bdynamic -ldw -lelf -lz -lmicrohttpd $(SQLITE_LIBS) \
	  $(YAML_LIBS) $(NFCT_LIBS) -lpthread
KSIGHT_LDFLAGS := -Wl,--wrap=btf__load_vmlinux_btf,--wrap=btf__free
LDFLAGS += $(SAN)

# clang -target bpf does not search the host's multiarch include dir (asm/unistd_64.h)
BPF_SYS_INC := $(shell $(CLANG) -v -E - </dev/null 2>&1 | \
	sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -Wno-incompatible-pointer-types-discards-qualifiers -I$(BUILD) -Ibpf $(BPF_SYS_INC)

SRCS := $(wildcard src/core/*.c src/analyze/*.c src/sink/*.c src/modules/*.c src/cli/*.c)
OBJS := $(SRCS:%.c=$(BUILD)/%.o)
# what the cmocka tests link against: everything but main (through an archive, below)
# the web UI's files, embedded (src/sink/http_ui.c, docs/ui.md): ours from web/, the
# libraries from npm, pinned by web/package-lock.json and fetched once into build/web
WEB_NPM := $(BUILD)/web/node_modules
WEB_FILES := index.html=web/index.html ui.css=web/ui.css ui.js=web/ui.js \
	common.js=web/common.js map.js=web/map.js histogram.js=web/histogram.js \
	service.js=web/service.js diff.js=web/diff.js events.js=web/events.js alerts.js=web/alerts.js \
	overhead.js=web/overhead.js timeline.js=web/timeline.js \
	cytoscape.min.js=$(WEB_NPM)/cytoscape/dist/cytoscape.min.js \
	uPlot.iife.min.js=$(WEB_NPM)/uplot/dist/uPlot.iife.min.js \
	uPlot.min.css=$(WEB_NPM)/uplot/dist/uPlot.min.css
OBJS += $(BUILD)/web/assets.o
LIB_OBJS := $(filter-out $(BUILD)/src/cli/main.o $(BUILD)/src/core/btfwrap.o,$(OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
HELPER_SRCS := $(filter-out %.bpf.c tests/e2e/helpers/lib%.c,\
	$(wildcard tests/e2e/helpers/*.c bench/helpers/*.c))
HELPER_BINS := $(HELPER_SRCS:%.c=$(BUILD)/%)
HELPER_LIBS := $(patsubst %.c,$(BUILD)/%.so,$(wildcard tests/e2e/helpers/lib*.c))
HELPER_BPF := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/e2e/helpers/*.bpf.c))
SELFTEST := $(BUILD)/tests/ksight-selftest
SELFTEST_OBJS = $(filter-out $(BUILD)/src/cli/registry.o,$(OBJS)) \
	$(TEST_MODULES:%=$(BUILD)/tests/modules/%.o) $(BUILD)/tests/modules/registry.o

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all run test unit e2e asan bench vmlinux deps clean format test-kernels prometheus

all: $(BUILD)/ksight

# --- set-up: install what is missing (Debian 12), then the two commands ---------------
# Building, then every command the tests on this kernel and their scripts run: losetup
# (mount, not in a minimal Debian), strace, tar and gzip (test_files_links.py), bpftool,
# libbpf-tools (test_tcp.py checks tcplife against Debian's), nftables (test_tcp_retrans.py
# and test_drops.py drop packets in namespaces of their own, test_tcp_nat.py DNATs
# connections there); libmicrohttpd serves /metrics
# and test_prometheus.py reads it with the Prometheus client's own parser; libsqlite3 holds
# the agent's store (test_store.py reads it with Python's sqlite3 too); curl,
# redis-server, redis-tools and postgresql are test_req.py's clients and servers (redis also
# bench/req_cost.sh's); nodejs and npm fetch the web UI's libraries at build time and
# run test_ui.py's Playwright driver, which drives Debian's chromium; liburing-dev builds
# the io_uring helpers of test_rw_uring.py and bench/uring_cost.sh; libnetfilter-conntrack
# (-dev to build, 3 at run time) is how tcplife asks conntrack about DNAT
# (src/modules/tcp_nat.c).
# scripts/test-kernels.sh installs what the kernel matrix adds (qemu, busybox, ...).
# tests/e2e/test_scripts.py checks that these lists cover the commands.
DEPS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config make gcc \
	libdw-dev binutils libcmocka-dev python3 python3-pytest iproute2 util-linux mount e2fsprogs \
	procps strace tar gzip coreutils python3-yaml \
	systemtap-sdt-dev libbpf-tools nftables libmicrohttpd-dev python3-prometheus-client \
	libsqlite3-dev libyaml-dev curl redis-server redis-tools postgresql nodejs npm chromium \
	liburing-dev libpam0g-dev libnetfilter-conntrack-dev libnetfilter-conntrack3

deps:
	$(Q)./scripts/install-deps.sh $(DEPS)

# Debian's Prometheus server and promtool, unpacked under build/ and never installed (the
# package would start a system service): test_prometheus_server.py scrapes the agent with
# them. Once: the rule's target is the unpacked binary.
PROMETHEUS := $(BUILD)/prometheus/usr/bin/prometheus
prometheus: $(PROMETHEUS)

$(PROMETHEUS):
	$(call msg,FETCH,$@)
	$(Q)./scripts/fetch-prometheus.sh $(BUILD)

run: deps
	$(Q)$(MAKE) --no-print-directory all
	./$(BUILD)/ksight run

# Every test: unit and end-to-end here, then the `kernels` tests on Debian's kernels under
# qemu (the fentry, kprobe and LSM paths this kernel refuses). KERNELS= skips the guests.
KERNELS ?= 5.10 6.1 6.12
test: deps
	$(Q)$(MAKE) --no-print-directory all unit-bins helpers prometheus
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

# DWARF is only for debuggers; libbpf needs the BTF, which llvm-strip -g keeps
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h $(wildcard bpf/*.h) | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

# the skeleton's read-only data holds struct ks_config (common.h): it comes first
$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o Makefile
	$(call msg,SKEL,$@)
	$(Q){ echo '#include "common.h"'; $(BPFTOOL) gen skeleton $< name $*_bpf; } > $@

# --- user space --------------------------------------------------------------------------
$(BUILD)/src/%.o: src/%.c $(SKELS) $(wildcard src/*/*.h bpf/*.h)
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
	$(Q)$(CC) $(LDFLAGS) $(KSIGHT_LDFLAGS) $^ $(LDLIBS) -o $@

# --- the web UI: npm packages once (no network once there), then C arrays ----------------
$(WEB_NPM)/.ksight-lock: web/package.json web/package-lock.json scripts/npm-vendor.sh
	$(call msg,NPM,$(WEB_NPM))
	$(Q)./scripts/npm-vendor.sh web $(BUILD)/web

$(BUILD)/web/assets.c: scripts/embed-web.py $(wildcard web/*.html web/*.css web/*.js) \
		$(WEB_NPM)/.ksight-lock
	$(call msg,EMBED,$@)
	$(Q)$(PYTHON) scripts/embed-web.py $@ $(WEB_FILES)

$(BUILD)/web/assets.o: $(BUILD)/web/assets.c src/sink/http_ui.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# test_ui.py's browser driver: playwright-core (no browser download: Debian's chromium)
UI_TEST_NPM := $(BUILD)/tests/ui/node_modules
$(UI_TEST_NPM)/.ksight-lock: tests/ui/package.json tests/ui/package-lock.json scripts/npm-vendor.sh
	$(call msg,NPM,$(UI_TEST_NPM))
	$(Q)./scripts/npm-vendor.sh tests/ui $(BUILD)/tests/ui

# --- tests and helpers -------------------------------------------------------------------
.PHONY: unit-bins helpers
unit-bins: $(UNIT_BINS)
helpers: $(HELPER_BINS) $(HELPER_LIBS) $(HELPER_BPF) $(SELFTEST) $(UI_TEST_NPM)/.ksight-lock

# --- the test instrument: ksight's objects, tests/modules' registry, the test modules ----
$(BUILD)/tests/bpf/%.bpf.o: tests/bpf/%.bpf.c $(BUILD)/vmlinux.h $(wildcard bpf/*.h) \
		$(wildcard tests/bpf/*.h tests/modules/*.h)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Itests/bpf -Itests/modules -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(BUILD)/tests/%.skel.h: $(BUILD)/tests/bpf/%.bpf.o Makefile
	$(call msg,SKEL,$@)
	$(Q){ echo '#include "common.h"'; $(BPFTOOL) gen skeleton $< name $*_bpf; } > $@

$(BUILD)/tests/modules/%.o: tests/modules/%.c $(SKELS) $(TEST_SKELS) \
		$(wildcard src/*/*.h bpf/*.h tests/bpf/*.h tests/modules/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I$(BUILD)/tests -Itests/bpf -Itests/modules -c $< -o $@

$(SELFTEST): $(SELFTEST_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $(KSIGHT_LDFLAGS) $^ $(LDLIBS) -o $@

# BPF objects the tests load with other tools (tc filter add ... bpf obj)
$(BUILD)/tests/e2e/helpers/%.bpf.o: tests/e2e/helpers/%.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# uprobe and USDT targets: a PIE helper with USDT probes, linked to a library of its own
$(BUILD)/tests/e2e/helpers/lib%.so: tests/e2e/helpers/lib%.c
	$(call msg,HELPER,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -fPIC -shared $< -o $@

$(BUILD)/tests/e2e/helpers/utarget: tests/e2e/helpers/utarget.c \
		$(BUILD)/tests/e2e/helpers/libkstarget.so
	$(call msg,HELPER,$@)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -fPIE -pie $< -L$(@D) -lkstarget \
		-Wl,-rpath,'$$ORIGIN' -o $@

# An archive, so a test pulls in only the objects it needs. A decoder test links its
# module's file (which includes the skeleton for its setup) and core/ctx.c, not the loader:
# the BPF object itself stays out of the test binaries.
$(BUILD)/libksight.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BUILD)/tests/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libksight.a
	$(call msg,UNIT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -Itests/bpf -Itests/modules $(LDFLAGS) $< \
		$(BUILD)/libksight.a -lcmocka $(LDLIBS) -o $@

# profile's target: PIE, symbols and frame pointers, so its user stacks walk through main
$(BUILD)/tests/e2e/helpers/profspin: tests/e2e/helpers/profspin.c
	$(call msg,HELPER,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O1 -g -fno-omit-frame-pointer -fPIE -pie -Wall -Wextra -Werror $< -o $@

# offcpu's and profile --wall's targets: frame pointers, -O1, so their threads' user
# stacks walk
$(BUILD)/tests/e2e/helpers/offwait $(BUILD)/tests/e2e/helpers/wallmix: \
		$(BUILD)/tests/e2e/helpers/%: tests/e2e/helpers/%.c
	$(call msg,HELPER,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Werror -D_GNU_SOURCE $< -lpthread -o $@

# guard's login tests: a PAM application (libpam0g-dev)
$(BUILD)/tests/e2e/helpers/pamlogin: tests/e2e/helpers/pamlogin.c
	$(call msg,HELPER,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror $< -lpam -o $@

# rw's io_uring requests, through liburing
$(BUILD)/tests/e2e/helpers/uringio: tests/e2e/helpers/uringio.c
	$(call msg,HELPER,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE $< -luring -o $@

# guard's io_uring requests, through liburing
$(BUILD)/tests/e2e/helpers/guarduring: tests/e2e/helpers/guarduring.c
	$(call msg,HELPER,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE $< -luring -lpthread -o $@

$(BUILD)/tests/e2e/helpers/%: tests/e2e/helpers/%.c
	$(call msg,HELPER,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE $< -lpthread -o $@

$(BUILD)/bench/helpers/uringloop: bench/helpers/uringloop.c
	$(call msg,HELPER,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE $< -luring -o $@

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

# guard's rule matching alone, counted by callgrind (bench/guard_rules_cost.sh): the library
$(BUILD)/bench/helpers/guardrules: bench/helpers/guardrules.c $(BUILD)/libksight.a
	$(call msg,HELPER,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(BUILD)/libksight.a $(LDLIBS) -o $@

# the verifier's statistics of one program (bench/verify_cost.sh): libbpf only
$(BUILD)/bench/helpers/verifstats: bench/helpers/verifstats.c
	$(call msg,HELPER,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE $< $(LDLIBS) -o $@

unit: unit-bins
	$(Q)./scripts/run-tests.sh $(BUILD) unit

e2e: all helpers prometheus
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
